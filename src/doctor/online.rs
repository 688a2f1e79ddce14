//! `online-*` (only with --online): asks Honeycomb who each key belongs to,
//! and sends one real test span to the configured endpoint. Requests run
//! concurrently with a timeout, and a key is only ever sent to the host the
//! workspace itself exports to.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use opentelemetry_proto::tonic::trace::v1::Span;
use prost::Message;

use super::finding::{CheckId, Finding, Layer, Status};
use crate::backend::Backend;
use crate::fingerprint::fingerprint;
use crate::otlp::{request_for, string_attribute};
use crate::rules::honeycomb::{EU_API_HOST, US_API_HOST};
use crate::rules::otlp_headers;
use crate::rules::otlp_headers::headers_variable as honeycomb_headers_variable;
use crate::workspace::context::Context;
use crate::workspace::url;

/// Where spans go, and with which headers, as the app would send them.
struct Target {
    traces_url: String,
    origin: String,
    host: String,
    headers: Vec<(String, String)>,
    service: String,
}

pub fn run(ctx: &Context, timeout: Duration) -> Vec<Finding> {
    let Some(target) = target(ctx) else {
        return vec![Finding::skip(
            CheckId::OnlineTestSpan,
            Layer::Online,
            "no usable exporter endpoint to test (see the problems above)",
        )];
    };
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(timeout))
        .http_status_as_error(false)
        .build()
        .into();
    let honeycomb = target.host.ends_with("honeycomb.io") || ctx.uses(Backend::Honeycomb);
    let keys = if honeycomb {
        distinct_keys(ctx, &target)
    } else {
        Vec::new()
    };
    std::thread::scope(|scope| {
        let auth: Vec<_> = keys
            .iter()
            .map(|(layers, key)| {
                let agent = &agent;
                let target = &target;
                scope.spawn(move || check_key(agent, target, layers, key, timeout))
            })
            .collect();
        let span = scope.spawn(|| send_test_span(&agent, &target, timeout));
        let mut out: Vec<Finding> = auth.into_iter().filter_map(|h| h.join().ok()).collect();
        out.extend(span.join().ok());
        one_network_failure(out)
    })
}

/// Marks a finding whose request never got an answer.
const UNREACHABLE: &str = "cannot reach ";

/// When no request got an answer, that is one cause: one finding, not one
/// per key and one for the test span.
fn one_network_failure(findings: Vec<Finding>) -> Vec<Finding> {
    let failed = |f: &Finding| f.status == Status::Fail && f.message.starts_with(UNREACHABLE);
    if findings.len() < 2 || !findings.iter().all(failed) {
        return findings;
    }
    let mut first = findings.into_iter().next().expect("at least two");
    first
        .message
        .push_str(": neither the key nor a test span could be checked");
    vec![first]
}

/// A request that got no answer, in words a student can act on, with the
/// fix that fits where it was going.
fn unreachable(id: CheckId, error: &ureq::Error, target: &Target, timeout: Duration) -> Finding {
    let host = &target.host;
    let why = match error {
        ureq::Error::Timeout(_) => format!("no answer within {} s", timeout.as_secs_f64()),
        ureq::Error::HostNotFound => format!("the name {host} does not resolve here"),
        ureq::Error::Io(e) if e.to_string().contains("lookup address") => {
            format!("the name {host} does not resolve here")
        }
        ureq::Error::Io(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
            "nothing listens there (connection refused)".to_string()
        }
        ureq::Error::ConnectionFailed => "the connection failed".to_string(),
        ureq::Error::Tls(_) | ureq::Error::Rustls(_) => {
            format!("the TLS handshake failed ({error})")
        }
        other => other.to_string(),
    };
    let fix = if host.ends_with("honeycomb.io") {
        format!(
            "check this machine's network, then run tracelab doctor --online again: curl -sI https://{host}"
        )
    } else if url::is_loopback(host) {
        "start what should receive the spans here (tracelab listen, or the collector's container), then run tracelab doctor --online again".to_string()
    } else {
        format!(
            "is {host} running and reachable from here? docker compose ps shows the services; then run tracelab doctor --online again"
        )
    };
    Finding::fail(id, Layer::Online, format!("{UNREACHABLE}{host}: {why}")).fix(fix)
}

fn target(ctx: &Context) -> Option<Target> {
    let get = |name: &str| ctx.app_var(name).map(|(_, v)| v).filter(|v| !v.is_empty());
    let traces_url = match (
        get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"),
        get("OTEL_EXPORTER_OTLP_ENDPOINT"),
    ) {
        (Some(url), _) => url,
        (None, Some(base)) => format!("{}/v1/traces", base.trim_end_matches('/')),
        (None, None) => return None,
    };
    let parsed = url::parse(&traces_url)?;
    let (scheme, authority, host) = (parsed.scheme, parsed.authority, parsed.host.to_string());
    // A compose service name only resolves inside the compose network, and
    // host.docker.internal is this machine seen from a container: from
    // here, reach either through this machine's own address.
    let on_compose_network = host == "host.docker.internal"
        || ctx
            .compose
            .as_ref()
            .is_some_and(|c| c.file.service(&host).is_some());
    let (traces_url, authority) = if on_compose_network {
        let local = authority.replacen(&host, "127.0.0.1", 1);
        (traces_url.replacen(authority, &local, 1), local)
    } else {
        (traces_url.clone(), authority.to_string())
    };
    let headers = honeycomb_headers_variable(get)
        .map(|(_, v)| otlp_headers::headers(&v))
        .unwrap_or_default();
    Some(Target {
        origin: format!("{scheme}://{authority}"),
        host,
        traces_url,
        headers,
        service: get("OTEL_SERVICE_NAME").unwrap_or_else(|| "unknown_service".into()),
    })
}

/// Each distinct key, with every layer that holds it.
fn distinct_keys(ctx: &Context, target: &Target) -> Vec<(Vec<&'static str>, String)> {
    let mut keys: Vec<(Vec<&'static str>, String)> = Vec::new();
    let mut add = |layer: &'static str, key: Option<String>| {
        let Some(key) = key.filter(|k| !k.is_empty()) else {
            return;
        };
        match keys.iter_mut().find(|(_, k)| *k == key) {
            Some((layers, _)) => layers.push(layer),
            None => keys.push((vec![layer], key)),
        }
    };
    add(
        "sent in x-honeycomb-team",
        otlp_headers::header(&target.headers, "x-honeycomb-team").map(str::to_string),
    );
    add("shell", ctx.shell.get("HONEYCOMB_API_KEY").cloned());
    add(
        ".env",
        ctx.dotenv_value("HONEYCOMB_API_KEY").map(str::to_string),
    );
    add(
        "gitpod",
        ctx.gitpod_value("HONEYCOMB_API_KEY").map(str::to_string),
    );
    keys
}

fn check_key(
    agent: &ureq::Agent,
    target: &Target,
    layers: &[&str],
    key: &str,
    timeout: Duration,
) -> Finding {
    let url = format!("{}/1/auth", target.origin);
    let shown = format!("{} ({})", fingerprint(key), layers.join(", "));
    let finding = |f: fn(CheckId, Layer, String) -> Finding, message: String| {
        f(CheckId::OnlineHoneycombAuth, Layer::Online, message).var("HONEYCOMB_API_KEY")
    };
    let response = agent.get(&url).header("X-Honeycomb-Team", key).call();
    let mut response = match response {
        Ok(response) => response,
        Err(e) => {
            return unreachable(CheckId::OnlineHoneycombAuth, &e, target, timeout)
                .var("HONEYCOMB_API_KEY");
        }
    };
    match response.status().as_u16() {
        200 => {
            let text = response.body_mut().read_to_string().unwrap_or_default();
            let body: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
            let name = |field: &str| {
                let part = &body[field];
                part["name"]
                    .as_str()
                    .or(part["slug"].as_str())
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
            };
            let region = if target.host == EU_API_HOST {
                " (EU)"
            } else if target.host == US_API_HOST {
                " (US)"
            } else {
                ""
            };
            let team = name("team").unwrap_or_else(|| "?".into());
            let environment = name("environment").unwrap_or_else(|| "none: a classic key".into());
            finding(
                Finding::ok,
                format!(
                    "{shown}: team {team:?}, environment {environment:?} at {}{region}",
                    target.host
                ),
            )
        }
        401 => {
            let other = if target.host == EU_API_HOST {
                US_API_HOST
            } else {
                EU_API_HOST
            };
            finding(
                Finding::fail,
                format!("{shown}: {} does not know this key (401): a wrong or deleted key, or a key of a team in the other region ({other})", target.host),
            )
            .fix(format!("create a key in Honeycomb (Environment settings > API keys) and set it: read -rs HONEYCOMB_API_KEY && export HONEYCOMB_API_KEY; for a team in the other region use OTEL_EXPORTER_OTLP_ENDPOINT=https://{other}"))
        }
        status => finding(Finding::warn, format!("{shown}: {url} answered {status}")),
    }
}

fn test_request(service: &str) -> Vec<u8> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos() as u64;
    let mut trace_id = now.to_be_bytes().to_vec();
    trace_id.extend(now.rotate_left(17).to_be_bytes());
    let span = Span {
        trace_id,
        span_id: now.rotate_left(31).to_be_bytes().to_vec(),
        name: "tracelab-doctor-test".into(),
        kind: 1,
        start_time_unix_nano: now,
        end_time_unix_nano: now + 1_000_000,
        attributes: vec![string_attribute("app.source", "tracelab doctor --online")],
        ..Default::default()
    };
    request_for(service, vec![span]).encode_to_vec()
}

fn send_test_span(agent: &ureq::Agent, target: &Target, timeout: Duration) -> Finding {
    let url = &target.traces_url;
    let mut request = agent
        .post(url)
        .header("Content-Type", "application/x-protobuf");
    for (name, value) in &target.headers {
        request = request.header(name.as_str(), value.as_str());
    }
    let finding = |f: fn(CheckId, Layer, String) -> Finding, message: String| {
        f(CheckId::OnlineTestSpan, Layer::Online, message)
    };
    let mut response = match request.send(&test_request(&target.service)[..]) {
        Ok(response) => response,
        Err(e) => return unreachable(CheckId::OnlineTestSpan, &e, target, timeout),
    };
    let status = response.status().as_u16();
    let body: String = response
        .body_mut()
        .read_to_string()
        .unwrap_or_default()
        .chars()
        .take(160)
        .collect();
    match status {
        200..=299 => finding(Finding::ok, format!("a test span to {url} was accepted ({status}): look for tracelab-doctor-test in {}", target.service)),
        401 | 403 => finding(Finding::fail, format!("{url} refused the test span ({status}): the x-honeycomb-team key is not accepted there"))
            .var("HONEYCOMB_API_KEY")
            .fix("tracelab doctor --online shows which team each key belongs to; set the right one with: read -rs HONEYCOMB_API_KEY && export HONEYCOMB_API_KEY"),
        404 => finding(Finding::fail, format!("{url} answered 404: the path is wrong (is /v1/traces doubled?)"))
            .var("OTEL_EXPORTER_OTLP_ENDPOINT")
            .fix("OTEL_EXPORTER_OTLP_ENDPOINT is a base URL: https://api.honeycomb.io, without /v1/traces"),
        _ => finding(Finding::fail, format!("{url} answered {status}: {}", body.trim())),
    }
}
