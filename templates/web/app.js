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

/// The waterfall's time axis: ticks on round steps (1, 2 or 5 times a
/// power of ten) from the trace's start; each also a gridline down the
/// tracks (the waterfall's --grid).
function axis(total) {
  const at = ticks(0, total, 5).filter((t) => t <= total);
  const last = at[at.length - 1];
  const marks = at.map((t) =>
    el("span", { class: "wf-tick" + (t === last && t / total > 0.9 ? " last" : ""), style: { left: (t / total) * 100 + "%" } }, ms(t)));
  const lines = at.slice(1).map((t) => {
    const p = (t / total) * 100;
    return `linear-gradient(to right, transparent calc(${p}% - 0.5px), var(--line) calc(${p}% - 0.5px), var(--line) calc(${p}% + 0.5px), transparent calc(${p}% + 0.5px))`;
  });
  $("waterfall").style.setProperty("--grid", lines.join(", ") || "none");
  return el("div", { class: "wf-row wf-axis" }, el("div", { class: "wf-name" }), el("div", { class: "wf-track" }, ...marks));
}

/// The name column as wide as its longest row needs (indent, name, and the
/// service when spans come from several), up to 60%: a name is never cut
/// while there is room.
function nameColumn(trace, withService) {
  const context = document.createElement("canvas").getContext("2d");
  const style = getComputedStyle(document.body);
  const rem = parseFloat(getComputedStyle(document.documentElement).fontSize) || 16;
  const base = parseFloat(style.fontSize) || 14;
  context.font = `${base}px ${style.fontFamily}`;
  let widest = 0;
  for (const span of trace.spans) {
    let width = (0.4 + span.depth * 1.1) * rem + context.measureText(span.name).width + 12;
    if (withService) width += 0.3 * rem + context.measureText(span.service).width * 0.8;
    widest = Math.max(widest, width);
  }
  return `min(60%, max(10rem, ${Math.ceil(widest)}px))`;
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
// In a headless browser (a screenshot, a test), under automation, or with
// ?static, the list is asked every second instead: a pending long-poll
// never lets a one-shot render (--virtual-time-budget) settle.
const ONE_SHOT = navigator.webdriver || /Headless/.test(navigator.userAgent) ||
  new URLSearchParams(location.search).has("static");

async function pollList(after) {
  if (view.poll) view.poll.abort();
  const controller = new AbortController();
  view.poll = controller;
  if (ONE_SHOT && after !== null && after !== undefined) {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    if (controller.signal.aborted) return;
    after = null;
  }
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
    $("trace-hint").hidden = true;
    $("trace-body").hidden = false;
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
  $("trace-hint").hidden = true;
  $("trace-body").hidden = false;
  // One service: named once in the title, not on every row.
  const services = [...new Set(trace.spans.map((s) => s.service))];
  const oneService = services.length === 1;
  $("trace-title").textContent = `trace ${trace.id} · ${ms(trace.duration_ms)} · ${count(trace.spans.length, "span")}` +
    (oneService ? ` · ${services[0]}` : "");
  $("waterfall").style.setProperty("--name-col", nameColumn(trace, !oneService));
  $("waterfall").classList.toggle("one-service", oneService);
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
  // A status only when the code set one ("unset" is every span's default).
  const status = span.status === "unset" ? [] :
    [["status", span.status + (span.status_message ? ": " + span.status_message : "")]];
  pane.replaceChildren(
    el("h3", {}, span.name),
    ...table("Span", [
      ["service", span.service], ["kind", span.kind], ...status,
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
  const query = location.hash.match(/^#query=(.*)$/s);
  showTab(query ? "query" : "traces");
  if (query) {
    openQuery(decodeURIComponent(query[1]));
    return;
  }
  const match = location.hash.match(/trace=([0-9a-fA-F]+)/);
  view.selected = match ? match[1].toLowerCase() : null;
  if (view.selected) loadTrace(view.selected);
}

// ---- The Query tab: Honeycomb's queries over the spans listen holds. ----

const PRESETS = {
  count: { calculations: [{ op: "COUNT" }], breakdowns: ["trace.trace_id"], orders: [{ op: "COUNT", order: "descending" }] },
  p90: { calculations: [{ op: "P90", column: "duration_ms" }], breakdowns: ["name"] },
  heatmap: { calculations: [{ op: "COUNT" }, { op: "HEATMAP", column: "duration_ms" }] },
};
const COLORS = ["#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2", "#ca8a04", "#db2777"];
const SVG = "http://www.w3.org/2000/svg";

function showTab(tab) {
  const query = tab === "query";
  $("query-pane").hidden = !query;
  $("list-pane").hidden = query;
  $("trace-pane").hidden = query;
  $("tab-query").classList.toggle("active", query);
  $("tab-traces").classList.toggle("active", !query);
}

function svg(tag, attrs, ...children) {
  const node = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  }
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/// Axis ticks on round steps (1, 2 or 5 times a power of ten).
function ticks(min, max, wanted) {
  const span = max - min || 1;
  const raw = span / wanted;
  const power = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw);
  const out = [];
  for (let t = Math.ceil(min / step) * step; t <= max + step * 1e-9; t += step) out.push(Number(t.toPrecision(12)));
  return out;
}

function number(value) {
  if (value === null || value === undefined) return "–";
  if (Number.isInteger(value)) return String(value);
  return Math.abs(value) >= 100 ? value.toFixed(1) : value.toFixed(3);
}

function timeOfDay(seconds) {
  return new Date(seconds * 1000).toLocaleTimeString([], { hour12: false });
}

async function openQuery(text) {
  if (!text.trim()) text = JSON.stringify(PRESETS.heatmap);
  const area = $("q-spec");
  if (area.value.trim() !== text.trim()) area.value = pretty(text);
  $("q-error").hidden = true;
  let response;
  try {
    response = await fetch("api/query?spec=" + encodeURIComponent(text), { cache: "no-store" });
  } catch (error) {
    return queryError("listen is not answering (stopped?)");
  }
  const result = await response.json();
  if (!response.ok) return queryError(result.error || "the query could not run");
  renderQuery(JSON.parse(text), result);
}

function pretty(text) {
  try { return JSON.stringify(JSON.parse(text), null, 2); } catch { return text; }
}

function queryError(message) {
  $("q-error").hidden = false;
  $("q-error").textContent = message;
  for (const id of ["q-chart", "q-heatmaps"]) $(id).replaceChildren();
  $("q-table").tHead.replaceChildren();
  $("q-table").tBodies[0].replaceChildren();
  $("q-band").hidden = true;
}

function keyOf(c) {
  return c.column ? `${c.op}(${c.column})` : c.op;
}

function renderQuery(spec, result) {
  const range = result.time_range;
  $("q-status").textContent = `${count(result.matched, "event")} from ${timeOfDay(range.start_time)} to ${timeOfDay(range.end_time)}, ${result.granularity} s buckets` +
    (result.matched ? "" : ": none matches (widen time_range, or drop a filter)");
  const link = $("q-honeycomb");
  link.hidden = false;
  link.href = result.honeycomb_link;
  link.textContent = result.account_known ? "Run it in Honeycomb" : "Run it in Honeycomb (put your team and environment in the link)";
  const calcs = spec.calculations && spec.calculations.length ? spec.calculations : [{ op: "COUNT" }];
  const breakdowns = spec.breakdowns || [];
  renderChart(calcs.find((c) => c.op !== "HEATMAP"), breakdowns, result);
  renderHeatmaps(result);
  renderTable(calcs, breakdowns, result.results);
}

function groupName(row, breakdowns) {
  return breakdowns.map((b) => (row[b] === null || row[b] === undefined ? "(none)" : String(row[b]))).join(", ") || "all";
}

/// The first calculation over time, a line per group (the first eight).
function renderChart(calc, breakdowns, result) {
  const box = $("q-chart");
  if (!calc) return box.replaceChildren();
  const key = keyOf(calc);
  const width = 1000, height = 170, left = 56, bottom = 24, top = 12, right = 12;
  const start = result.time_range.start_time, end = result.time_range.end_time;
  const groups = result.results.slice(0, COLORS.length).map((row) => groupName(row, breakdowns));
  const points = result.series.filter((p) => p[key] !== null && p[key] !== undefined);
  const times = points.map((p) => p.time);
  const t0 = times.length ? Math.min(...times) : start, t1 = times.length ? Math.max(...times) + result.granularity : end;
  const top1 = Math.max(1, ...points.map((p) => p[key]));
  const x = (t) => left + ((t - t0) / (t1 - t0 || 1)) * (width - left - right);
  const y = (v) => height - bottom - (v / top1) * (height - bottom - top);
  const grid = [];
  for (const v of ticks(0, top1, 4)) {
    grid.push(svg("line", { class: "q-grid", x1: left, x2: width - right, y1: y(v), y2: y(v) }));
    grid.push(svg("text", { x: left - 6, y: y(v) + 4, "text-anchor": "end" }, String(v)));
  }
  for (const t of ticks(t0, t1, 6)) {
    grid.push(svg("text", { x: x(t), y: height - 6, "text-anchor": "middle" }, timeOfDay(t)));
  }
  const lines = groups.map((name, index) => {
    const mine = points.filter((p) => groupName(p, breakdowns) === name).sort((a, b) => a.time - b.time);
    const path = mine.map((p) => `${x(p.time + result.granularity / 2)},${y(p[key])}`).join(" ");
    return [
      svg("polyline", { class: "q-line", points: path, stroke: COLORS[index] }),
      ...mine.map((p) => svg("circle", { cx: x(p.time + result.granularity / 2), cy: y(p[key]), r: 3, fill: COLORS[index] },
        svg("title", {}, `${name}: ${key} ${number(p[key])} at ${timeOfDay(p.time)}`))),
    ];
  });
  box.replaceChildren(
    el("p", { class: "q-heading" }, key + " over time"),
    svg("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": key + " over time" }, grid, lines),
  );
}

/// Each heatmap: value bands (highest on top) by time; a click on a cell
/// lists the traces of its band, the slowest first.
function renderHeatmaps(result) {
  const box = $("q-heatmaps");
  $("q-band").hidden = true;
  const parts = [];
  for (const heatmap of result.heatmaps) {
    const used = heatmap.counts.map((c, i) => [i, c]).filter(([, c]) => c.some((n) => n > 0));
    if (!used.length) continue;
    const first = used[0][0], last = used[used.length - 1][0];
    const columns = heatmap.counts.slice(first, last + 1);
    const most = Math.max(1, ...columns.flat());
    const width = 1000, left = 110, cellH = 11, rows = heatmap.buckets.length;
    const cellW = (width - left - 12) / columns.length;
    const height = rows * cellH + 26;
    const cells = [];
    heatmap.buckets.forEach((bucket, b) => {
      const yTop = (rows - 1 - b) * cellH;
      if (b % Math.ceil(rows / 10) === 0) {
        cells.push(svg("text", { x: left - 6, y: yTop + cellH - 3, "text-anchor": "end" }, number(bucket.min)));
      }
      columns.forEach((column, t) => {
        const n = column[b];
        if (!n) return;
        cells.push(svg("rect", {
          class: "q-cell", x: left + t * cellW, y: yTop, width: Math.max(cellW - 1, 1), height: cellH - 1,
          fill: "#2563eb", "fill-opacity": 0.15 + 0.85 * (n / most), "data-band": b,
          onclick: (event) => selectBand(heatmap, b, event.target),
        }, svg("title", {}, `${n} in ${number(bucket.min)}–${number(bucket.max)}`)));
      });
    });
    const t0 = result.time_range.start_time + first * result.granularity;
    const t1 = t0 + columns.length * result.granularity;
    cells.push(svg("text", { x: left, y: height - 6 }, timeOfDay(t0)));
    cells.push(svg("text", { x: width - 12, y: height - 6, "text-anchor": "end" }, timeOfDay(t1)));
    parts.push(
      el("p", { class: "q-heading" }, heatmap.key),
      el("p", { class: "q-hint" }, "Click a cell: the traces in its band, the slowest first."),
      svg("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": heatmap.key }, cells),
    );
  }
  box.replaceChildren(...parts);
}

function selectBand(heatmap, band, cell) {
  for (const other of document.querySelectorAll(".q-cell.selected")) other.classList.remove("selected");
  for (const same of cell.ownerSVGElement.querySelectorAll(`.q-cell[data-band="${band}"]`)) same.classList.add("selected");
  const bucket = heatmap.buckets[band];
  const ids = heatmap.traces[band] || [];
  const pane = $("q-band");
  pane.hidden = false;
  pane.replaceChildren(
    el("p", { class: "q-heading" }, `${count(ids.length, "trace")} with ${heatmap.key.replace(/^HEATMAP\((.*)\)$/, "$1")} from ${number(bucket.min)} to ${number(bucket.max)}`),
    ...ids.map((id) => el("a", { href: "#trace=" + id, class: "band-trace" }, id)),
  );
}

function renderTable(calcs, breakdowns, rows) {
  const keys = calcs.map(keyOf);
  $("q-table").tHead.replaceChildren(el("tr", {}, ...breakdowns.map((b) => el("th", {}, b)), ...keys.map((k) => el("th", { class: "num" }, k))));
  $("q-table").tBodies[0].replaceChildren(...rows.map((row) => el("tr", {},
    ...breakdowns.map((b) => el("td", { title: String(row[b]) }, row[b] === null ? "(none)" : String(row[b]))),
    ...keys.map((k) => {
      const value = row[k];
      if (Array.isArray(value)) {
        const most = Math.max(1, ...value.map((b) => b.count));
        return el("td", { class: "num" }, el("span", { class: "q-spark", title: value.map((b) => `${number(b.min)}–${number(b.max)}: ${b.count}`).join("\n") },
          ...value.map((b) => el("span", { style: { height: (b.count ? 10 + 90 * b.count / most : 0) + "%" } }))));
      }
      return el("td", { class: "num" }, number(value));
    }),
  )));
}

$("query-form").addEventListener("submit", (event) => {
  event.preventDefault();
  let text = $("q-spec").value;
  try { text = JSON.stringify(JSON.parse(text)); } catch (error) { return queryError("not JSON: " + error.message); }
  const hash = "#query=" + encodeURIComponent(text);
  if (location.hash === hash) openQuery(text);
  else location.hash = hash;
});
for (const button of document.querySelectorAll("[data-preset]")) {
  button.addEventListener("click", () => {
    location.hash = "query=" + encodeURIComponent(JSON.stringify(PRESETS[button.dataset.preset]));
  });
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
