// tracelab's web view: a live list of traces and a waterfall per trace.
// Every URL is relative, so the page works behind forwarded ports; all text
// from spans goes in through textContent, never as HTML.
"use strict";

const view = {
  sort: "start",
  order: "desc",
  version: null,
  selected: null,
  selectedSpan: null,
  poll: null,
};

const $ = (id) => document.getElementById(id);

/// "1 span", "3 spans".
function count(n, word) {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

/// The waterfall's time axis: the trace's start, quarters, and its end.
function axis(total) {
  const ticks = [0, 25, 50, 75, 100].map((at) =>
    el("span", { class: "wf-tick" + (at === 100 ? " last" : ""), style: { left: at + "%" } }, ms(total * at / 100)));
  return el("div", { class: "wf-row wf-axis" }, el("div", { class: "wf-name" }), el("div", { class: "wf-track" }, ...ticks));
}

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "style") Object.assign(node.style, value);
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function ms(value) {
  if (value >= 1000) return (value / 1000).toFixed(2) + " s";
  if (value >= 10) return value.toFixed(0) + " ms";
  return value.toFixed(1) + " ms";
}

function clock(unixNano) {
  const date = new Date(unixNano / 1e6);
  return date.toLocaleTimeString([], { hour12: false }) + "." + String(date.getMilliseconds()).padStart(3, "0");
}

function query(after) {
  const params = new URLSearchParams();
  for (const name of ["service", "name", "attr"]) {
    const value = document.forms.filters.elements[name].value.trim();
    if (value) params.set(name, value);
  }
  params.set("sort", view.sort);
  params.set("order", view.order);
  if (after !== null && after !== undefined) params.set("after", after);
  return "api/traces?" + params.toString();
}

const REFRESH_PAUSE_MS = 250;

// Asks for the list, then asks again: the server holds the question until
// something changes, so news shows at once without polling every second.
async function pollList(after) {
  if (view.poll) view.poll.abort();
  const controller = new AbortController();
  view.poll = controller;
  try {
    const response = await fetch(query(after), { signal: controller.signal, cache: "no-store" });
    if (!response.ok) throw new Error(await response.text());
    const list = await response.json();
    if (controller.signal.aborted) return;
    const changed = list.version !== view.version;
    view.version = list.version;
    renderList(list);
    if (changed && view.selected) loadTrace(view.selected, false);
    // Under a stream of spans every answer is news: a short pause between
    // refreshes keeps the list readable and leaves listen to its exporters.
    setTimeout(() => pollList(view.version), changed ? REFRESH_PAUSE_MS : 0);
  } catch (error) {
    if (controller.signal.aborted) return;
    $("status").textContent = "listen is not answering (stopped?); retrying…";
    setTimeout(() => pollList(null), 2000);
  }
}

function renderList(list) {
  const evicted =
    (list.evicted ? `, ${list.evicted} older dropped (--keep)` : "") +
    (list.evicted_for_memory ? `, ${list.evicted_for_memory} older dropped (--max-memory)` : "") +
    (list.truncated ? `, ${count(list.truncated, "span")} past a full trace not kept` : "");
  const honeycomb = list.honeycomb ? ` · Honeycomb team ${list.honeycomb}` : "";
  const repeated = list.repeated ? `, ${list.repeated} sent again by a retrying exporter (kept once)` : "";
  $("status").textContent = `${count(list.kept, "trace")}, ${count(list.spans, "span")}${repeated}${evicted}${honeycomb}`;
  const select = $("f-service");
  const current = select.value;
  const known = new Set([...select.options].map((o) => o.value));
  for (const service of list.services) {
    if (!known.has(service)) select.append(el("option", { value: service }, service));
  }
  select.value = current;
  const rows = list.traces.map((t) =>
    el("tr", {
      "data-trace-id": t.id,
      class: t.id === view.selected ? "selected" : null,
      onclick: () => { location.hash = "trace=" + t.id; },
    },
      el("td", { class: t.unknown_service ? "unknown" : null, title: t.services.join(", ") }, t.service),
      el("td", { title: t.root }, t.root),
      el("td", {}, clock(t.start_unix_nano)),
      el("td", { class: "num" }, ms(t.duration_ms)),
      el("td", { class: "num" }, t.spans),
      el("td", { class: "num" + (t.errors ? " errors" : "") }, t.errors || ""),
      el("td", { class: "state-" + t.state.replace(" ", "-") }, t.state),
    ));
  $("traces").tBodies[0].replaceChildren(...rows);
  $("empty").hidden = list.kept > 0;
  if (list.kept > 0 && list.matched === 0) {
    $("empty").hidden = false;
    $("empty").textContent = "No trace matches these filters.";
  }
}

async function loadTrace(id, resetSpan = true) {
  const response = await fetch("api/traces/" + encodeURIComponent(id), { cache: "no-store" });
  if (!response.ok) {
    $("trace-pane").hidden = false;
    $("trace-title").textContent = "trace " + id;
    $("notes").replaceChildren(el("p", { class: "note" }, await response.text()));
    $("waterfall").replaceChildren();
    return;
  }
  const trace = await response.json();
  if (resetSpan) view.selectedSpan = null;
  renderTrace(trace);
}

function renderTrace(trace) {
  $("trace-pane").hidden = false;
  $("trace-title").textContent = `trace ${trace.id} · ${ms(trace.duration_ms)} · ${count(trace.spans.length, "span")}`;
  const link = $("honeycomb-link");
  link.hidden = !trace.link;
  if (trace.link) link.href = trace.link;
  const download = $("download");
  download.href = "api/traces/" + trace.id + "/otlp.json";
  download.setAttribute("download", "trace-" + trace.id + ".json");
  const notes = [];
  if (trace.unknown_service) notes.push(el("p", { class: "note unknown-service" }, trace.unknown_service));
  // The same word as the list's state: "remote parent" is not "incomplete".
  for (const gap of trace.gaps) {
    const word = gap.kind.charAt(0).toUpperCase() + gap.kind.slice(1);
    notes.push(el("p", { class: "note gap gap-" + gap.kind.replace(" ", "-") }, word + ": " + gap.text));
  }
  for (const skew of trace.skews) notes.push(el("p", { class: "note skew" }, skew));
  if (trace.omitted) notes.push(el("p", { class: "note" }, `${count(trace.omitted, "more span")} not drawn: Download has them all.`));
  $("notes").replaceChildren(...notes);
  const total = trace.duration_ms || 1;
  const rows = trace.spans.map((span) => {
    const left = (span.offset_ms / total) * 100;
    const width = (span.duration_ms / total) * 100;
    // The duration sits right of a short bar, inside a long one.
    const inside = left + width > 80;
    const label = inside ? { left: "calc(" + left + "% + 4px)" } : { left: "calc(" + (left + width) + "% + 4px)" };
    return el("div", {
      class: "wf-row" + (span.span_id === view.selectedSpan ? " selected" : ""),
      "data-span-id": span.span_id,
      "data-depth": span.depth,
      onclick: () => { view.selectedSpan = span.span_id; renderTrace(trace); },
    },
      // The name gives way before the service does: a long name is cut, the
      // service always shows whole.
      el("div", { class: "wf-name", style: { paddingLeft: (0.4 + span.depth * 1.1) + "rem" }, title: span.name + " · " + span.service },
        el("span", { class: "wf-label" }, span.name), el("span", { class: "svc" }, span.service)),
      el("div", { class: "wf-track" },
        el("div", {
          class: "wf-bar" + (span.status === "error" ? " error" : ""),
          style: { left: left + "%", width: width + "%" },
        }),
        el("span", { class: "wf-dur" + (inside ? " inside" : ""), style: label }, ms(span.duration_ms))),
    );
  });
  $("waterfall").replaceChildren(axis(total), ...rows);
  const chosen = trace.spans.find((s) => s.span_id === view.selectedSpan);
  renderSpan(chosen);
  for (const row of $("traces").tBodies[0].rows) {
    row.classList.toggle("selected", row.dataset.traceId === trace.id);
  }
}

function table(title, entries) {
  if (!entries.length) return [];
  return [
    el("h3", {}, title),
    el("table", {}, el("tbody", {}, entries.map(([key, value]) =>
      el("tr", {}, el("td", {}, key), el("td", {}, typeof value === "string" ? value : JSON.stringify(value)))))),
  ];
}

function renderSpan(span) {
  const pane = $("span-detail");
  pane.hidden = !span;
  if (!span) return pane.replaceChildren();
  const status = span.status + (span.status_message ? ": " + span.status_message : "");
  pane.replaceChildren(
    el("h3", {}, span.name),
    ...table("Span", [
      ["service", span.service], ["kind", span.kind], ["status", status],
      ["start", "+" + ms(span.offset_ms)], ["duration", ms(span.duration_ms)],
      ["span id", span.span_id], ["parent id", span.parent_span_id || "(root)"], ["scope", span.scope],
    ]),
    ...table("Attributes", Object.entries(span.attributes)),
    ...table("Events", span.events.map((e) => [
      "+" + ms(e.offset_ms) + " " + e.name,
      Object.keys(e.attributes).length ? e.attributes : "",
    ])),
    ...table("Resource", Object.entries(span.resource)),
  );
}

function openFromHash() {
  const match = location.hash.match(/trace=([0-9a-fA-F]+)/);
  view.selected = match ? match[1].toLowerCase() : null;
  if (view.selected) loadTrace(view.selected);
}

for (const th of document.querySelectorAll("th[data-sort]")) {
  th.addEventListener("click", () => {
    const field = th.dataset.sort;
    view.order = view.sort === field && view.order === "desc" ? "asc" : "desc";
    view.sort = field;
    for (const other of document.querySelectorAll("th[data-sort]")) other.classList.remove("sorted", "asc", "desc");
    th.classList.add("sorted", view.order);
    pollList(null);
  });
}
let typing;
document.forms.filters.addEventListener("input", () => {
  clearTimeout(typing);
  typing = setTimeout(() => pollList(null), 200);
});
document.forms.filters.addEventListener("submit", (event) => event.preventDefault());
window.addEventListener("hashchange", openFromHash);
openFromHash();
pollList(null);
