//! Which backends a workspace uses: `.tracelab.yml` says so; otherwise the
//! live code (an exporter, the X-Ray recorder, a watchtower handler,
//! `rollbar.init`), else the compose file, requirements.txt and the shell.

use std::path::Path;

use super::Context;
use crate::answers::AnswersFile;
use crate::backend::Backend;
use crate::workspace::python::{Call, Value};

/// `.tracelab.yml` says which backends are used; otherwise they are read off
/// the compose file, requirements.txt and app.py.
pub(super) fn infer_backends(ctx: &Context) -> Vec<Backend> {
    if let Some(backends) = recorded_backends(&ctx.dir) {
        return backends;
    }
    if ctx.code.iter().any(|f| f.syntax_error.is_none()) {
        return code_backends(ctx);
    }
    env_backends(ctx)
}

/// Backends the live code sets up: an exporter, the X-Ray recorder, a
/// watchtower handler, `rollbar.init`. What requirements.txt lists, or code
/// that is commented out, does not count.
fn code_backends(ctx: &Context) -> Vec<Backend> {
    let calls: Vec<&Call> = ctx.live_calls().map(|(_, c)| c).collect();
    let called = |method: &str| calls.iter().any(|c| c.method() == method);
    let mut backends = Vec::new();
    let exports = called("OTLPSpanExporter") || called("TracerProvider") || ctx.auto_instrumented;
    if exports {
        let env_text: String = ctx
            .app_env()
            .map(|(_, env)| {
                env.iter()
                    .filter(|(k, _)| k.starts_with("OTEL_") || k.contains("HONEYCOMB"))
                    .map(|(k, v)| format!("{k}={} ", v.clone().unwrap_or_default()))
                    .collect()
            })
            .unwrap_or_default();
        // OTLPSpanExporter(endpoint="https://api.honeycomb.io...",
        // headers={"x-honeycomb-team": ...}) names Honeycomb itself.
        let names_honeycomb = |text: &str| text.to_ascii_lowercase().contains("honeycomb");
        let in_code = calls.iter().any(|c| {
            c.method() == "OTLPSpanExporter"
                && (matches!(c.keyword("endpoint"), Some(Value::Str(url)) if names_honeycomb(url))
                    || matches!(c.keyword("headers"), Some(Value::Dict(items))
                        if items.iter().any(|(key, _)| key.as_deref().is_some_and(names_honeycomb))))
        });
        if in_code || env_text.to_ascii_lowercase().contains("honeycomb") {
            backends.push(Backend::Honeycomb);
        } else {
            backends.push(Backend::Local);
        }
    }
    if calls
        .iter()
        .any(|c| c.name.starts_with("xray_recorder.") || c.method() == "XRayMiddleware")
    {
        backends.push(Backend::Xray);
    }
    if called("CloudWatchLogHandler") {
        backends.push(Backend::Cloudwatch);
    }
    if calls.iter().any(|c| c.name == "rollbar.init") {
        backends.push(Backend::Rollbar);
    }
    backends.sort();
    backends
}

/// Without readable code, the backends are read off the compose file,
/// requirements.txt and the shell.
fn env_backends(ctx: &Context) -> Vec<Backend> {
    let code = format!(
        "{}\n{}",
        ctx.requirements
            .as_ref()
            .map(|f| f.text.as_str())
            .unwrap_or(""),
        ctx.app_py.as_ref().map(|f| f.text.as_str()).unwrap_or("")
    )
    .to_ascii_lowercase();
    let compose = ctx.compose.as_ref();
    let raw_env: Vec<(String, String)> = compose
        .and_then(|c| c.file.service(c.backend.as_ref()?))
        .map(|s| {
            s.environment
                .iter()
                .map(|(k, v)| (k.trim().to_string(), v.clone().unwrap_or_default()))
                .collect()
        })
        .unwrap_or_else(|| {
            ctx.shell
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        });
    let env_mentions = |needle: &str| {
        raw_env
            .iter()
            .any(|(k, v)| k.contains(needle) || v.contains(needle))
    };
    let has_service = |needle: &str| {
        compose.is_some_and(|c| {
            c.file.services.iter().any(|s| {
                s.name.contains(needle) || s.image.as_deref().unwrap_or("").contains(needle)
            })
        })
    };
    let endpoint = raw_env
        .iter()
        .find(|(k, _)| k.starts_with("OTEL_EXPORTER_OTLP") && k.ends_with("ENDPOINT"))
        .map(|(_, v)| v.to_ascii_lowercase());
    let mut backends = Vec::new();
    let honeycomb =
        env_mentions("HONEYCOMB") || env_mentions("honeycomb") || code.contains("honeycomb");
    if honeycomb {
        backends.push(Backend::Honeycomb);
    }
    if code.contains("aws-xray-sdk")
        || code.contains("aws_xray_sdk")
        || env_mentions("AWS_XRAY")
        || has_service("xray")
    {
        backends.push(Backend::Xray);
    }
    if code.contains("watchtower") {
        backends.push(Backend::Cloudwatch);
    }
    if code.contains("rollbar") || env_mentions("ROLLBAR") {
        backends.push(Backend::Rollbar);
    }
    if !honeycomb && (endpoint.is_some() || has_service("jaeger") || has_service("otel")) {
        backends.push(Backend::Local);
    }
    backends
}

fn recorded_backends(dir: &Path) -> Option<Vec<Backend>> {
    let text = crate::workspace::read::text(&dir.join(crate::workspace::ANSWERS_FILE)).ok()?;
    let mut answers = crate::answers::Answers::defaults(None);
    AnswersFile::parse(&text).ok()?.apply(&mut answers).ok()?;
    Some(answers.backends)
}
