//! `container-*`: the running backend container, and what its exporter logged.

use crate::doctor::finding::{CheckId, Finding, Layer};
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
                CheckId::ContainerEnv,
                Layer::Container,
                format!("container not checked: {reason}"),
            ));
            return out;
        }
        Source::Read(env) => out.push(Finding::ok(
            CheckId::ContainerEnv,
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
    if let Some(finding) = spans_dropped(service, logs) {
        out.push(finding);
    }
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
                CheckId::ContainerExportErrors,
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
                CheckId::ContainerExportErrors,
                Layer::Container,
                format!("the {service} logs show failed span exports (network or endpoint)"),
            )
            .fix("tracelab doctor --online"),
        );
    }
    out
}

/// BatchSpanProcessor's queue filled up: the receiver (or the network to
/// it) is slower than the app makes spans, and spans are thrown away. The
/// SDK says so at most once every 20 seconds ("Queue full, dropping
/// spans."; older SDKs "Queue is full, likely spans will be dropped."), so
/// a few lines stand for thousands of lost spans.
fn spans_dropped(service: &str, logs: &str) -> Option<Finding> {
    let count = logs
        .lines()
        .filter(|l| l.contains("Queue full, dropping") || l.contains("Queue is full"))
        .count();
    (count > 0).then(|| {
        Finding::fail(
            CheckId::ContainerSpansDropped,
            Layer::Container,
            format!("the {service} logs say the span queue was full ({count} time(s)): spans were dropped, and the SDK says so at most once every 20 s, so each line stands for many"),
        )
        .fix("sample under load: OTEL_TRACES_SAMPLER=parentbased_traceidratio OTEL_TRACES_SAMPLER_ARG=0.1 in the backend's environment (or raise OTEL_BSP_MAX_QUEUE_SIZE, default 2048, and OTEL_BSP_MAX_EXPORT_BATCH_SIZE, default 512, for short bursts); tracelab doctor --online checks the receiver")
    })
}

/// The HTTP status in the exporter's "Failed to export span batch code: N".
fn export_failure_code(logs: &str) -> Option<String> {
    logs.lines().rev().find_map(|line| {
        let rest = line.split("Failed to export span batch code: ").nth(1)?;
        Some(rest.chars().take_while(char::is_ascii_digit).collect())
    })
}

#[cfg(test)]
mod tests {
    use super::super::testing::{SHELL, context, unchanged};
    use super::*;
    use crate::doctor::finding::Status;

    fn with_container(logs: Option<&str>) -> Vec<Finding> {
        let (_dir, mut ctx) = context("honeycomb", unchanged, SHELL);
        ctx.container = Source::Read(
            SHELL
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        );
        ctx.container_logs = logs.map(str::to_string);
        run(&ctx)
    }

    fn statuses(findings: &[Finding]) -> Vec<(CheckId, Status)> {
        findings.iter().map(|f| (f.id, f.status)).collect()
    }

    #[test]
    fn a_container_not_read_is_said_once_and_judged_no_further() {
        let (_dir, ctx) = context("honeycomb", unchanged, SHELL);
        let found = run(&ctx);
        assert_eq!(statuses(&found), [(CheckId::ContainerEnv, Status::Skip)]);
        assert!(
            found[0].message.contains("container not checked"),
            "{}",
            found[0].message
        );
    }

    #[test]
    fn quiet_logs_pass_and_each_export_failure_says_its_cause() {
        let quiet = with_container(Some(" * Running on http://0.0.0.0:4567\n"));
        assert_eq!(statuses(&quiet), [(CheckId::ContainerEnv, Status::Ok)]);
        for (code, cause) in [
            ("401", "rejected the key"),
            ("404", "does not exist"),
            ("500", "requests fail"),
        ] {
            let logs = format!("ERROR Failed to export span batch code: {code}, reason: x\n");
            let found = with_container(Some(&logs));
            let failed = found
                .iter()
                .find(|f| f.id == CheckId::ContainerExportErrors)
                .unwrap();
            assert_eq!(failed.status, Status::Fail);
            assert!(failed.message.contains(cause), "{code}: {}", failed.message);
        }
        let transient = with_container(Some("Transient error StatusCode.UNAVAILABLE\n"));
        assert!(
            transient
                .iter()
                .any(|f| f.id == CheckId::ContainerExportErrors)
        );
    }

    #[test]
    fn a_full_queue_counts_the_lines_that_say_so() {
        let logs =
            "Queue full, dropping spans.\nok\nQueue is full, likely spans will be dropped.\n";
        let found = with_container(Some(logs));
        let dropped = found
            .iter()
            .find(|f| f.id == CheckId::ContainerSpansDropped)
            .unwrap();
        assert!(
            dropped.message.contains("(2 time(s))"),
            "{}",
            dropped.message
        );
        assert!(!found.iter().any(|f| f.id == CheckId::ContainerExportErrors));
    }
}
