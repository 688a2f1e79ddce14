//! The web view: one page (HTML, JS and CSS embedded in the binary, nothing
//! fetched from elsewhere) and the JSON it reads. Every path the page uses
//! is relative, so it works behind Gitpod's and Codespaces' forwarded URLs.

use std::cmp::Ordering;
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use hyper::StatusCode;
use hyper::body::Bytes;
use hyper::header::{CACHE_CONTROL, CONTENT_DISPOSITION, HeaderValue};
use hyper::http::request::Parts;
use serde::Serialize;
use serde_json::{Value, json};
use tokio::runtime::Runtime;

use super::live::Live;
use super::print::{unknown_service, unknown_service_fix};
use super::store::Snapshot;
use super::trace::{Gap, Trace};
use crate::otlp::{self, ReceivedSpan};
use crate::query::spec::QuerySpec;
use crate::receive::hosts::AllowedHosts;
use crate::receive::http::{
    self, DEFAULT_READ_TIMEOUT, Handler, Limits, Pending, Reply, Server, reply, text,
};
use crate::style::{DIM, HEADING, paint};
use tokio::sync::OnceCell;

/// The web view's port unless `--web-port` says otherwise: the one after
/// OTLP's 4318 (gRPC) and 4319 is left to collectors' other receivers.
pub const DEFAULT_PORT: u16 = crate::ports::LISTEN_WEB;

/// How long a page asking "anything new?" is kept waiting for news.
const LONG_POLL: Duration = Duration::from_secs(25);

/// Traces in one answer of the list: enough for a screen, cheap to send.
const LIST_LIMIT: usize = 500;

/// Spans in one answer for a trace; the download has them all.
const DETAIL_LIMIT: usize = 2_000;

const INDEX_HTML: &str = include_str!("../../templates/web/index.html");
const APP_JS: &str = include_str!("../../templates/web/app.js");
const APP_CSS: &str = include_str!("../../templates/web/app.css");

/// Serves the web view on `host:port`; with no port, on `DEFAULT_PORT`, or
/// a free one when another program has it (a second `listen`, say).
pub fn start(
    runtime: Arc<Runtime>,
    host: &str,
    port: Option<u16>,
    hosts: AllowedHosts,
    live: Arc<Live>,
) -> anyhow::Result<Server> {
    const PORT_FLAG: &str = "--web-port (or --no-web)";
    let listener = match port {
        Some(port) => http::bind(&format!("{host}:{port}"), PORT_FLAG)?,
        None => http::bind_or_any(host, DEFAULT_PORT, PORT_FLAG)?,
    };
    let lists = Arc::new(Lists::default());
    let handler: Handler =
        Arc::new(move |parts, _body: Bytes| route(parts, Arc::clone(&live), Arc::clone(&lists)));
    let limits = Limits {
        read_timeout: DEFAULT_READ_TIMEOUT,
        max_body_bytes: 64 * 1024,
        hosts,
    };
    Server::start(runtime, listener, limits, handler)
}

/// Says where the web view is: its address, that the default port was
/// taken if it was, `note`, and its address in the browser on Gitpod or
/// Codespaces.
pub fn announce(server: &Server, asked_port: Option<u16>, note: &str) {
    let port = server.addr().port();
    let taken = if asked_port.is_none() && port != DEFAULT_PORT {
        format!(" ({DEFAULT_PORT} is taken)")
    } else {
        String::new()
    };
    let forwarded = forwarded_url(port)
        .map(|u| format!("   (in the browser: {u})"))
        .unwrap_or_default();
    anstream::eprintln!(
        "{} http://{}/{taken}{note}{}",
        paint(HEADING, "Web view on"),
        http::typeable(server.addr()),
        paint(DIM, forwarded)
    );
}

/// The address a port has in the browser on Gitpod or Codespaces.
fn forwarded_url(port: u16) -> Option<String> {
    if let Ok(workspace) = std::env::var("GITPOD_WORKSPACE_URL") {
        let host = workspace.strip_prefix("https://")?;
        return Some(format!("https://{port}-{host}/"));
    }
    let name = std::env::var("CODESPACE_NAME").ok()?;
    let domain = std::env::var("GITHUB_CODESPACES_PORT_FORWARDING_DOMAIN").ok()?;
    Some(format!("https://{name}-{port}.{domain}/"))
}

/// Lists being built or just built, by query: every page waiting on the
/// same change gets the one list built for it. A list is good for the
/// store's version and the second it was built in (a trace's state moves
/// from "waiting" to "incomplete" with time alone).
#[derive(Default)]
struct Lists {
    built: std::sync::Mutex<HashMap<String, BuiltList>>,
}

/// A list for the store's version and the second it was asked in.
struct BuiltList {
    version: u64,
    second: u64,
    body: Arc<OnceCell<Bytes>>,
}

impl Lists {
    fn cell(&self, query: &str, version: u64) -> Arc<OnceCell<Bytes>> {
        let second = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let mut built = self.built.lock().unwrap_or_else(|e| e.into_inner());
        // Old entries go; a few queries at a time is what pages make.
        built.retain(|_, list| list.version == version && list.second == second);
        if built.len() > 64 {
            built.clear();
        }
        let list = built.entry(query.to_string()).or_insert_with(|| BuiltList {
            version,
            second,
            body: Arc::new(OnceCell::new()),
        });
        Arc::clone(&list.body)
    }
}

/// Runs `build` on a thread for blocking work, so the runtime's workers
/// stay free for exporters while a large view is built.
async fn off_the_runtime<T: Send + 'static>(
    build: impl FnOnce() -> T + Send + 'static,
) -> Option<T> {
    tokio::task::spawn_blocking(build).await.ok()
}

fn route(parts: Parts, live: Arc<Live>, lists: Arc<Lists>) -> Pending {
    Box::pin(async move {
        let path = parts.uri.path().to_string();
        let query: Vec<(String, String)> = parts
            .uri
            .query()
            .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
            .unwrap_or_default();
        let param = |name: &str| {
            query
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
                .filter(|v| !v.is_empty())
        };
        if parts.method != hyper::Method::GET {
            return text(
                StatusCode::METHOD_NOT_ALLOWED,
                "the web view only answers GET",
            );
        }
        match path.as_str() {
            "/" | "/index.html" => page(INDEX_HTML, "text/html; charset=utf-8"),
            "/app.js" => page(APP_JS, "text/javascript; charset=utf-8"),
            "/app.css" => page(APP_CSS, "text/css; charset=utf-8"),
            "/api/traces" => {
                if let Some(after) = param("after").and_then(|a| a.parse::<u64>().ok()) {
                    wait_for_news(&live, after).await;
                }
                let filter = Filter {
                    service: param("service").map(str::to_string),
                    name: param("name").map(str::to_lowercase),
                    attribute: param("attr").map(parse_attribute),
                };
                let sort = Sort::parse(param("sort"), param("order"));
                let snapshot = live.store().snapshot();
                let query = format!(
                    "{:?}|{:?}|{:?}|{:?}|{:?}",
                    filter.service,
                    filter.name,
                    filter.attribute,
                    param("sort"),
                    param("order")
                );
                let cell = lists.cell(&query, snapshot.version);
                let body = cell
                    .get_or_init(|| async move {
                        off_the_runtime(move || {
                            let value = list(&live, &snapshot, &filter, sort);
                            Bytes::from(serde_json::to_vec(&value).unwrap_or_default())
                        })
                        .await
                        .unwrap_or_default()
                    })
                    .await;
                json_bytes(body.clone())
            }
            "/api/query" => {
                let Some(spec) = param("spec").map(str::to_string) else {
                    return error_reply(
                        StatusCode::BAD_REQUEST,
                        "give the query as ?spec=<Query Specification JSON>",
                    );
                };
                off_the_runtime(move || query_route(&live, &spec))
                    .await
                    .unwrap_or_else(|| {
                        text(StatusCode::INTERNAL_SERVER_ERROR, "the query could not run")
                    })
            }
            _ => match path.strip_prefix("/api/traces/") {
                Some(rest) => {
                    let rest = rest.to_string();
                    off_the_runtime(move || trace_route(&live, &rest))
                        .await
                        .unwrap_or_else(|| {
                            text(
                                StatusCode::INTERNAL_SERVER_ERROR,
                                "the view could not be built",
                            )
                        })
                }
                None => text(StatusCode::NOT_FOUND, &format!("no such page {path}")),
            },
        }
    })
}

/// Honeycomb's query over every span held, with its link to Honeycomb.
/// Built off the runtime from a snapshot: the OTLP port never waits on it.
fn query_route(live: &Live, text: &str) -> Reply {
    let spec = match QuerySpec::parse(text) {
        Ok(spec) => spec,
        Err(error) => return error_reply(StatusCode::BAD_REQUEST, &error),
    };
    let snapshot = live.store().snapshot();
    let spans: Vec<&ReceivedSpan> = snapshot.traces.iter().flat_map(|t| t.spans()).collect();
    match crate::query::run(&spec, &spans) {
        Ok(outcome) => {
            let mut value = outcome.to_json(&spec);
            value["honeycomb_link"] = Value::from(crate::listen::honeycomb::query_link(
                live.account.get(),
                &spans,
                &spec.source,
            ));
            value["account_known"] = Value::from(live.account.get().is_some());
            json_reply(&value)
        }
        Err(error) => error_reply(StatusCode::BAD_REQUEST, &error),
    }
}

fn error_reply(status: StatusCode, message: &str) -> Reply {
    let body = serde_json::to_vec(&json!({ "error": message })).unwrap_or_default();
    let mut reply = reply(status, "application/json", Bytes::from(body));
    reply
        .headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    reply
}

fn page(body: &'static str, content_type: &str) -> Reply {
    let mut reply = reply(StatusCode::OK, content_type, body);
    reply
        .headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    reply
}

fn json_reply(value: &Value) -> Reply {
    json_bytes(Bytes::from(serde_json::to_vec(value).unwrap_or_default()))
}

fn json_bytes(body: Bytes) -> Reply {
    let mut reply = reply(StatusCode::OK, "application/json", body);
    reply
        .headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    reply
}

/// Waits until the store has changed since `after`, or a while has passed.
async fn wait_for_news(live: &Live, after: u64) {
    let mut changed = live.subscribe();
    let _ = tokio::time::timeout(LONG_POLL, changed.wait_for(|v| *v > after)).await;
}

fn trace_route(live: &Live, rest: &str) -> Reply {
    let (id, download) = match rest.strip_suffix("/otlp.json") {
        Some(id) => (id, true),
        None => (rest, false),
    };
    let found = live.store().get(&id.to_ascii_lowercase());
    let Some(trace) = found else {
        return text(
            StatusCode::NOT_FOUND,
            &format!(
                "no trace {id} here: it never came, or was dropped to keep the last --keep traces"
            ),
        );
    };
    if download {
        let mut request = otlp::request_of(trace.spans());
        otlp::redact_request(&mut request);
        let body = otlp::json_line(&request);
        let mut reply = reply(StatusCode::OK, "application/json", body);
        if let Ok(value) =
            HeaderValue::from_str(&format!("attachment; filename=\"trace-{}.json\"", trace.id))
        {
            reply.headers_mut().insert(CONTENT_DISPOSITION, value);
        }
        return reply;
    }
    json_reply(&detail(live, &trace))
}

struct Filter {
    service: Option<String>,
    name: Option<String>,
    attribute: Option<(String, Option<String>)>,
}

/// `key=value`, or a bare `key` for "has this attribute".
fn parse_attribute(text: &str) -> (String, Option<String>) {
    match text.split_once('=') {
        Some((k, v)) => (k.trim().to_string(), Some(v.trim().to_string())),
        None => (text.trim().to_string(), None),
    }
}

impl Filter {
    fn matches(&self, trace: &Trace) -> bool {
        let service = self
            .service
            .as_ref()
            .is_none_or(|s| trace.spans().iter().any(|span| *span.service == **s));
        let name = self.name.as_ref().is_none_or(|n| {
            trace
                .spans()
                .iter()
                .any(|span| span.span.name.to_lowercase().contains(n))
        });
        let attribute = self.attribute.as_ref().is_none_or(|(key, value)| {
            trace
                .spans()
                .iter()
                .any(|span| has_attribute(span, key, value.as_deref()))
        });
        service && name && attribute
    }
}

fn has_attribute(span: &ReceivedSpan, key: &str, value: Option<&str>) -> bool {
    span.span
        .attributes
        .iter()
        .chain(span.resource.attributes.iter())
        .filter(|kv| kv.key == key)
        .any(|kv| match value {
            None => true,
            Some(wanted) => {
                let json = kv.value.as_ref().map(otlp::any_to_json);
                match json {
                    Some(Value::String(s)) => s == wanted,
                    Some(other) => {
                        let shown = other.to_string();
                        shown == wanted
                    }
                    None => false,
                }
            }
        })
}

#[derive(Clone, Copy)]
enum Sort {
    Start,
    Duration,
    Spans,
    Errors,
    Service,
    Name,
}

impl Sort {
    fn parse(field: Option<&str>, order: Option<&str>) -> (Sort, bool) {
        let sort = match field {
            Some("duration") => Sort::Duration,
            Some("spans") => Sort::Spans,
            Some("errors") => Sort::Errors,
            Some("service") => Sort::Service,
            Some("name") => Sort::Name,
            _ => Sort::Start,
        };
        (sort, order != Some("asc"))
    }
}

/// What a trace is sorted by, computed once per trace: the comparisons
/// would otherwise walk its spans (and find its top span) every time.
#[derive(PartialEq, PartialOrd)]
enum SortKey {
    Count(u64),
    Millis(f64),
    Text(String),
}

impl Sort {
    fn key(self, trace: &Trace) -> SortKey {
        let top = || trace.top();
        match self {
            Sort::Start => SortKey::Count(trace.start_unix_nano()),
            Sort::Duration => SortKey::Millis(trace.duration_ms()),
            Sort::Spans => SortKey::Count(trace.spans().len() as u64),
            Sort::Errors => SortKey::Count(trace.errors() as u64),
            Sort::Service => {
                SortKey::Text(top().map(|s| s.service.to_string()).unwrap_or_default())
            }
            Sort::Name => SortKey::Text(top().map(|s| s.span.name.clone()).unwrap_or_default()),
        }
    }
}

#[derive(Serialize)]
struct Summary {
    id: String,
    service: String,
    services: Vec<String>,
    root: String,
    start_unix_nano: u64,
    duration_ms: f64,
    spans: usize,
    errors: usize,
    state: &'static str,
    unknown_service: bool,
    link: Option<String>,
}

fn summary(live: &Live, trace: &Trace, now: Instant) -> Summary {
    let top = trace.top();
    let services: BTreeSet<&str> = trace.spans().iter().map(|s| &*s.service).collect();
    Summary {
        id: trace.id.clone(),
        service: top.map(|s| s.service.to_string()).unwrap_or_default(),
        services: services.into_iter().map(str::to_string).collect(),
        root: top.map(|s| s.span.name.clone()).unwrap_or_default(),
        start_unix_nano: trace.start_unix_nano(),
        duration_ms: trace.duration_ms(),
        spans: trace.spans().len(),
        errors: trace.errors(),
        state: state(live, trace, now),
        unknown_service: unknown_service(trace).is_some(),
        link: live.link(trace),
    }
}

/// Whole, waiting for a parent that may still come, missing one, or whole
/// here with its root in a service that does not export here. The list and
/// the trace's pane say the same word.
fn state(live: &Live, trace: &Trace, now: Instant) -> &'static str {
    let shape = trace.shape(live.waiting(trace, now));
    let has = |kind: fn(&Gap) -> bool| shape.gaps.iter().any(kind);
    if has(|g| matches!(g, Gap::ParentNeverCame { .. })) {
        "incomplete"
    } else if has(|g| matches!(g, Gap::RootPending { .. })) {
        "waiting"
    } else if has(|g| matches!(g, Gap::RemoteParent { .. })) {
        "remote parent"
    } else {
        "complete"
    }
}

/// A gap as the pane shows it: its kind (the same word as the list's
/// state) and why.
fn gap_json(gap: &Gap) -> serde_json::Value {
    let kind = match gap {
        Gap::ParentNeverCame { .. } => "incomplete",
        Gap::RootPending { .. } => "waiting",
        Gap::RemoteParent { .. } => "remote parent",
    };
    json!({ "kind": kind, "text": gap.explain() })
}

fn list(
    live: &Live,
    snapshot: &Snapshot,
    filter: &Filter,
    (sort, descending): (Sort, bool),
) -> Value {
    let now = Instant::now();
    let mut matched: Vec<(SortKey, &Trace)> = snapshot
        .traces
        .iter()
        .map(|t| &**t)
        .filter(|t| filter.matches(t))
        .map(|t| (sort.key(t), t))
        .collect();
    matched.sort_by(|(key_a, a), (key_b, b)| {
        let order = key_a
            .partial_cmp(key_b)
            .unwrap_or(Ordering::Equal)
            .then(a.order.cmp(&b.order));
        if descending { order.reverse() } else { order }
    });
    let matched: Vec<&Trace> = matched.into_iter().map(|(_, t)| t).collect();
    let traces: Vec<Summary> = matched
        .iter()
        .take(LIST_LIMIT)
        .map(|t| summary(live, t, now))
        .collect();
    json!({
        "version": snapshot.version,
        "kept": snapshot.traces.len(),
        "matched": matched.len(),
        "evicted": snapshot.evicted,
        "evicted_for_memory": snapshot.evicted_for_memory,
        "truncated": snapshot.truncated,
        "spans": snapshot.spans,
        "repeated": snapshot.repeated,
        "services": snapshot.services,
        "honeycomb": live.account.get().map(|a| a.team.clone()),
        "traces": traces,
    })
}

fn detail(live: &Live, trace: &Trace) -> Value {
    let now = Instant::now();
    let shape = trace.shape(live.waiting(trace, now));
    let start = trace.start_unix_nano();
    let offset = |nanos: u64| nanos.saturating_sub(start) as f64 / 1e6;
    let spans: Vec<Value> = shape
        .rows
        .iter()
        .take(DETAIL_LIMIT)
        .map(|(depth, s)| {
            let events: Vec<Value> = s
                .span
                .events
                .iter()
                .map(|e| {
                    json!({
                        "name": e.name,
                        "offset_ms": offset(e.time_unix_nano),
                        "attributes": otlp::attributes(&e.attributes),
                    })
                })
                .collect();
            let status = s.span.status.as_ref();
            json!({
                "span_id": s.span_id(),
                "parent_span_id": s.parent_span_id(),
                "depth": depth,
                "name": s.span.name,
                "service": &*s.service,
                "kind": s.kind(),
                "offset_ms": offset(s.span.start_time_unix_nano),
                "duration_ms": s.duration_ms(),
                "status": s.status(),
                "status_message": status.map(|st| st.message.as_str()).unwrap_or_default(),
                "attributes": s.attributes(),
                "events": events,
                "resource": otlp::attributes(&s.resource.attributes),
                "scope": format!("{} {}", s.scope.name, s.scope.version).trim(),
            })
        })
        .collect();
    json!({
        "id": trace.id,
        "start_unix_nano": start,
        "duration_ms": trace.duration_ms(),
        "state": state(live, trace, now),
        "link": live.link(trace),
        "gaps": shape.gaps.iter().map(gap_json).collect::<Vec<_>>(),
        "skews": shape.skews.iter().map(|s| s.explain()).collect::<Vec<_>>(),
        "unknown_service": unknown_service(trace).map(unknown_service_fix),
        "spans": spans,
        "omitted": shape.rows.len().saturating_sub(DETAIL_LIMIT),
    })
}
