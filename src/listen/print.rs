//! How traces are shown in a terminal: an indented tree per trace for
//! people, one JSON object per span per line for scripts.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use serde::Serialize;

use super::trace::{Shape, Trace};
use crate::otlp::{ReceivedSpan, SpanRecord};
use crate::style::{CODE, DIM, FAIL, HEADING, OK, WARN, paint};

/// Attributes worth a line: the route and status of a request, and the app's own.
fn interesting(key: &str) -> bool {
    matches!(
        key,
        "http.route"
            | "http.method"
            | "http.request.method"
            | "http.status_code"
            | "http.response.status_code"
            | "url.path"
            | "http.target"
    ) || key.starts_with("app.")
}

/// Everything needed to show one trace once.
pub struct View<'a> {
    pub trace: &'a Trace,
    pub shape: Shape<'a>,
    /// The trace in Honeycomb's UI, when a key is known.
    pub link: Option<String>,
    /// The x-honeycomb-team fingerprint the exporter sent.
    pub team: Option<&'a str>,
    /// How many of its spans were shown before.
    pub shown: usize,
}

/// Spans of one trace printed at most: the rest is counted in one line
/// (the web view and `--json` have them all).
const MAX_ROWS: usize = 200;

/// Indentation stops growing here: a chain thousands deep prints in
/// lines of bounded width, not in its depth squared.
const MAX_INDENT: usize = 24;

/// The trace as a tree; a trace shown before says how many spans are new.
pub fn tree(view: &View) -> String {
    let trace = view.trace;
    let mut out = String::new();
    let services: BTreeSet<&str> = trace.spans().iter().map(|s| &*s.service).collect();
    let again = if view.shown > 0 {
        format!(" (again: {} more)", trace.spans().len() - view.shown)
    } else {
        String::new()
    };
    let team = view
        .team
        .map(|t| format!("  x-honeycomb-team {t}"))
        .unwrap_or_default();
    let _ = writeln!(
        out,
        "{} {}  {}, {:.1} ms{}{}",
        paint(HEADING, format!("trace {}", trace.id)),
        services.into_iter().collect::<Vec<_>>().join(", "),
        crate::style::count(trace.spans().len() as u64, "span"),
        trace.duration_ms(),
        again,
        paint(DIM, team)
    );
    for (depth, span) in view.shape.rows.iter().take(MAX_ROWS) {
        let link = match (&view.link, *depth) {
            (Some(link), 0) => format!("  {}", paint(DIM, link)),
            _ => String::new(),
        };
        let indent = "  ".repeat(depth.min(&MAX_INDENT) + 1);
        let deeper = if *depth > MAX_INDENT {
            paint(DIM, format!("[depth {depth}] "))
        } else {
            String::new()
        };
        let _ = writeln!(out, "{indent}{deeper}{}{link}", span_line(span));
    }
    if view.shape.rows.len() > MAX_ROWS {
        let _ = writeln!(
            out,
            "  {}",
            paint(
                DIM,
                format!(
                    "... and {} more spans: the web view, --json and --save have them all",
                    view.shape.rows.len() - MAX_ROWS
                )
            )
        );
    }
    for gap in &view.shape.gaps {
        let _ = writeln!(out, "  {} {}", paint(WARN, "! incomplete:"), gap.explain());
    }
    for skew in &view.shape.skews {
        let _ = writeln!(out, "  {} {}", paint(WARN, "!"), skew.explain());
    }
    if let Some(service) = unknown_service(trace) {
        let _ = writeln!(
            out,
            "  {} {}",
            paint(WARN, "!"),
            unknown_service_fix(service)
        );
    }
    out
}

fn span_line(span: &ReceivedSpan) -> String {
    // A status only when the code set one: "unset" is every span's default
    // and says nothing.
    let status = match span.status() {
        "error" => format!(" {}", paint(FAIL, "error")),
        "ok" => format!(" {}", paint(OK, "ok")),
        _ => String::new(),
    };
    let attributes: Vec<String> = span
        .attributes()
        .iter()
        .filter(|(k, _)| interesting(k))
        .map(|(k, v)| {
            format!(
                "{k}={}",
                v.as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| v.to_string())
            )
        })
        .collect();
    let attributes = if attributes.is_empty() {
        String::new()
    } else {
        format!(" {}", paint(CODE, attributes.join(" ")))
    };
    format!(
        "{} {:.1} ms{status}{attributes}",
        span.span.name,
        span.duration_ms(),
    )
}

/// The first service named `unknown_service…`: the SDK's name for an app
/// that never set one.
pub fn unknown_service(trace: &Trace) -> Option<&str> {
    trace
        .spans()
        .iter()
        .map(|s| &*s.service)
        .find(|s| s.starts_with("unknown_service"))
}

pub fn unknown_service_fix(service: &str) -> String {
    format!(
        "{service}: the app never named itself, so its spans land in a dataset named {service:?}; set OTEL_SERVICE_NAME (export OTEL_SERVICE_NAME=backend-flask, or in docker-compose.yml under the service's environment:)"
    )
}

#[derive(Serialize)]
struct JsonSpan<'a> {
    #[serde(flatten)]
    span: SpanRecord,
    team: Option<&'a str>,
}

/// The spans not shown before, one JSON object a line.
pub fn json_lines(view: &View) -> String {
    let mut out = String::new();
    for span in view.trace.spans().get(view.shown..).unwrap_or_default() {
        let line = serde_json::to_string(&JsonSpan {
            span: span.record(),
            team: view.team,
        })
        .expect("a span record serializes");
        out.push_str(&line);
        out.push('\n');
    }
    out
}
