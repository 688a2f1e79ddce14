//! `container-*`: the running backend container, and what its exporter logged.

use crate::doctor::finding::{Finding, Layer};
use crate::workspace::context::Context;
use crate::workspace::layers::Source;

pub fn run(ctx: &Context) -> Vec<Finding> {
    let Some(service) = ctx.backend_service() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    match &ctx.container {
        Source::Unavailable(reason) => {
            out.push(Finding::skip(
                "container-env",
                Layer::Container,
                format!("container not checked: {reason}"),
            ));
            return out;
        }
        Source::Read(env) => out.push(Finding::ok(
            "container-env",
            Layer::Container,
            format!(
                "read the environment of the running {service} container ({} variables)",
                env.len()
            ),
        )),
    }
    let Some(logs) = &ctx.container_logs else {
        return out;
    };
    if let Some(code) = export_failure_code(logs) {
        let (why, fix) = match code.as_str() {
            "401" => (
                "the backend rejected the key (401): an unknown key, a key from another environment, or an EU key sent to the US endpoint",
                "tracelab doctor --online   # asks Honeycomb which team and environment the key belongs to",
            ),
            "404" => (
                "the endpoint URL does not exist (404): /v1/traces doubled, or a wrong host",
                "check OTEL_EXPORTER_OTLP_ENDPOINT (a base URL, without /v1/traces)",
            ),
            _ => ("the exporter's requests fail", "tracelab doctor --online"),
        };
        out.push(
            Finding::fail(
                "container-export-errors",
                Layer::Container,
                format!(
                    "the {service} logs say \"Failed to export span batch code: {code}\": {why}"
                ),
            )
            .fix(fix),
        );
    } else if logs.contains("Failed to export") || logs.contains("Transient error") {
        out.push(
            Finding::fail(
                "container-export-errors",
                Layer::Container,
                format!("the {service} logs show failed span exports (network or endpoint)"),
            )
            .fix("tracelab doctor --online"),
        );
    }
    out
}

/// The HTTP status in the exporter's "Failed to export span batch code: N".
fn export_failure_code(logs: &str) -> Option<String> {
    logs.lines().rev().find_map(|line| {
        let rest = line.split("Failed to export span batch code: ").nth(1)?;
        Some(rest.chars().take_while(char::is_ascii_digit).collect())
    })
}
