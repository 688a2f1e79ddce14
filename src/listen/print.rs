//! How received spans are shown: an indented tree per trace for people, one
//! JSON object per span per line for scripts.

use std::collections::{BTreeSet, HashSet};
use std::io::Write;

use serde::Serialize;

use super::server::Batch;
use crate::otlp::SpanRecord;
use crate::style::{CODE, DIM, FAIL, HEADING, OK, paint};

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

/// Writes one batch as trees, or with `json` as one JSON object per span.
pub fn write_batch(out: &mut impl Write, batch: &Batch, json: bool) -> std::io::Result<()> {
    if json {
        write_json_lines(out, batch)
    } else {
        write_tree(out, batch)
    }
}

/// Writes one batch as trees: spans whose parent is not in the batch are roots.
pub fn write_tree(out: &mut impl Write, batch: &Batch) -> std::io::Result<()> {
    let mut traces: Vec<&str> = Vec::new();
    for span in &batch.spans {
        if !traces.contains(&span.trace_id.as_str()) {
            traces.push(&span.trace_id);
        }
    }
    for trace in traces {
        let spans: Vec<&SpanRecord> = batch.spans.iter().filter(|s| s.trace_id == trace).collect();
        let ids: HashSet<&str> = spans.iter().map(|s| s.span_id.as_str()).collect();
        let services: BTreeSet<&str> = spans.iter().map(|s| s.service.as_str()).collect();
        let team = batch
            .team
            .as_deref()
            .map(|t| format!("  x-honeycomb-team {t}"))
            .unwrap_or_default();
        let short: String = trace.chars().take(12).collect();
        writeln!(
            out,
            "{} {}{}",
            paint(HEADING, format!("trace {short}…")),
            services.into_iter().collect::<Vec<_>>().join(", "),
            paint(DIM, team)
        )?;
        let mut roots: Vec<&&SpanRecord> = spans
            .iter()
            .filter(|s| !ids.contains(s.parent_span_id.as_str()))
            .collect();
        roots.sort_by_key(|s| s.start_unix_nano);
        for root in roots {
            write_span(out, &spans, root, 1)?;
        }
    }
    out.flush()
}

fn write_span(
    out: &mut impl Write,
    spans: &[&SpanRecord],
    span: &SpanRecord,
    depth: usize,
) -> std::io::Result<()> {
    let status = match span.status {
        "error" => paint(FAIL, "error"),
        "ok" => paint(OK, "ok"),
        other => paint(DIM, other),
    };
    let attributes: Vec<String> = span
        .attributes
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
    writeln!(
        out,
        "{}{} {:.1} ms {} {}",
        "  ".repeat(depth),
        span.name,
        span.duration_ms,
        status,
        paint(CODE, attributes.join(" "))
    )?;
    let mut children: Vec<&&SpanRecord> = spans
        .iter()
        .filter(|s| s.parent_span_id == span.span_id)
        .collect();
    children.sort_by_key(|s| s.start_unix_nano);
    for child in children {
        write_span(out, spans, child, depth + 1)?;
    }
    Ok(())
}

#[derive(Serialize)]
struct JsonSpan<'a> {
    #[serde(flatten)]
    span: &'a SpanRecord,
    team: Option<&'a str>,
}

pub fn write_json_lines(out: &mut impl Write, batch: &Batch) -> std::io::Result<()> {
    for span in &batch.spans {
        let line = serde_json::to_string(&JsonSpan {
            span,
            team: batch.team.as_deref(),
        })?;
        writeln!(out, "{line}")?;
    }
    out.flush()
}
