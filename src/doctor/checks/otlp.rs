//! `otlp-*`: the exporter's endpoint, protocol, headers format and service
//! name, as opentelemetry-python reads them from the app's environment.

use crate::backend::Backend;
use crate::doctor::finding::{Finding, Layer};
use crate::rules::honeycomb::{EU_API_HOST, US_API_HOST};
use crate::rules::names::edit_distance;
use crate::rules::otlp_headers;
use crate::workspace::context::Context;
use crate::workspace::url;

use super::honeycomb::headers_variable;

const BASE: &str = "OTEL_EXPORTER_OTLP_ENDPOINT";
const TRACES: &str = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT";
const PROTOCOLS: &[&str] = &["grpc", "http/protobuf", "http/json"];

pub fn run(ctx: &Context) -> Vec<Finding> {
    if !(ctx.uses(Backend::Honeycomb) || ctx.uses(Backend::Local)) {
        return Vec::new();
    }
    let Some((layer, _)) = ctx.app_env() else {
        return Vec::new();
    };
    let get = |name: &str| ctx.app_var(name).map(|(_, v)| v).filter(|v| !v.is_empty());
    let mut out = Vec::new();
    let protocol = check_protocol(&get, layer, &mut out);
    check_endpoint(ctx, &get, layer, protocol.as_deref(), &mut out);
    check_headers_format(&get, layer, &mut out);
    check_service_name(ctx, &get, layer, &mut out);
    out
}

fn check_protocol(
    get: &dyn Fn(&str) -> Option<String>,
    layer: Layer,
    out: &mut Vec<Finding>,
) -> Option<String> {
    for name in [
        "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
        "OTEL_EXPORTER_OTLP_PROTOCOL",
    ] {
        if let Some(value) = get(name) {
            if !PROTOCOLS.contains(&value.as_str()) {
                out.push(
                    Finding::fail("otlp-protocol", layer, format!("{name}={value:?} is not one of grpc, http/protobuf, http/json"))
                        .var(name)
                        .fix(format!("{name}: \"http/protobuf\"   # what opentelemetry-exporter-otlp-proto-http speaks")),
                );
            }
            return Some(value);
        }
    }
    None
}

/// Hosts that need no TLS: this machine, and names on the compose network.
fn is_local_host(ctx: &Context, host: &str) -> bool {
    matches!(
        host,
        "localhost" | "127.0.0.1" | "::1" | "host.docker.internal" | "0.0.0.0"
    ) || host.starts_with("127.")
        || ctx
            .compose
            .as_ref()
            .is_some_and(|c| c.file.service(host).is_some())
        || !host.contains('.')
}

fn check_endpoint(
    ctx: &Context,
    get: &dyn Fn(&str) -> Option<String>,
    layer: Layer,
    protocol: Option<&str>,
    out: &mut Vec<Finding>,
) {
    let (name, url) = match (get(TRACES), get(BASE)) {
        (Some(url), _) => (TRACES, url),
        (None, Some(url)) => (BASE, url),
        (None, None) => {
            out.push(
                Finding::fail("otlp-endpoint", layer, format!("{BASE} is not set: spans go to http://localhost:4318, where nothing listens inside the container"))
                    .var(BASE)
                    .fix(format!("{BASE}: \"https://{US_API_HOST}\"   # or https://{EU_API_HOST} for EU teams")),
            );
            return;
        }
    };
    let fail = |message: String, fix: String| {
        Finding::fail("otlp-endpoint", layer, message)
            .var(name)
            .fix(fix)
    };
    let Some(parsed) = url::parse(url.trim()).filter(|u| !u.host.is_empty()) else {
        out.push(fail(
            format!(
                "{name}={url:?} has no scheme: the exporter fails with \"No connection adapters\""
            ),
            format!(
                "{name}: \"https://{}\"",
                url.trim().trim_start_matches("//")
            ),
        ));
        return;
    };
    let mut problems = 0;
    let grpc = protocol == Some("grpc");
    if !matches!(parsed.scheme, "http" | "https") {
        problems += 1;
        out.push(fail(
            format!("{name}={url:?}: the scheme must be http or https"),
            format!("{name}: \"https://{}\"", parsed.host),
        ));
    } else if parsed.scheme == "http" && !is_local_host(ctx, parsed.host) {
        problems += 1;
        out.push(fail(
            format!(
                "{name}={url:?} uses http for the remote host {}: it only accepts https",
                parsed.host
            ),
            format!("{name}: \"{}\"", url.replacen("http://", "https://", 1)),
        ));
    }
    let path = parsed.path.trim_end_matches('/');
    if name == BASE && path.ends_with("/v1/traces") && !grpc {
        problems += 1;
        out.push(fail(
            format!("{BASE} ends in /v1/traces, and the exporter appends another: spans go to {}/v1/traces and get 404", url.trim_end_matches('/')),
            format!("{BASE}: \"{}\"", url.trim_end_matches('/').trim_end_matches("/v1/traces")),
        ));
    }
    if name == TRACES && !path.ends_with("/v1/traces") && !grpc {
        problems += 1;
        out.push(fail(
            format!("{TRACES} is used as it is and must end in /v1/traces; {url:?} does not"),
            format!("{TRACES}: \"{}/v1/traces\"", url.trim_end_matches('/')),
        ));
    }
    if parsed.port == Some(4317) && !grpc {
        problems += 1;
        out.push(fail(
            format!(
                "{name}={url:?} points at 4317, the gRPC port, but the exporter speaks HTTP (4318)"
            ),
            format!("{name}: \"{}\"", url.replacen(":4317", ":4318", 1)),
        ));
    }
    let host = parsed.host.to_ascii_lowercase();
    let distance_us = edit_distance(&host, US_API_HOST);
    let distance_eu = edit_distance(&host, EU_API_HOST);
    let looks_like_honeycomb = host.contains("honeycomb") || distance_us.min(distance_eu) <= 3;
    if looks_like_honeycomb && host != US_API_HOST && host != EU_API_HOST {
        problems += 1;
        let guess = if distance_eu < distance_us {
            EU_API_HOST
        } else {
            US_API_HOST
        };
        out.push(
            Finding::warn(
                "otlp-endpoint-host",
                layer,
                format!("{host} is not a Honeycomb API host (did you mean {guess}?)"),
            )
            .var(name)
            .fix(format!("{name}: \"https://{guess}\"")),
        );
    } else if ctx.uses(Backend::Honeycomb) && !host.ends_with("honeycomb.io") {
        out.push(Finding::warn(
            "otlp-endpoint-host",
            layer,
            format!("spans go to {host}, not to Honeycomb: fine for a local collector, but Honeycomb will not see them"),
        ).var(name));
    }
    if problems == 0 {
        out.push(Finding::ok("otlp-endpoint", layer, format!("{name}={url}")).var(name));
    }
}

fn check_headers_format(
    get: &dyn Fn(&str) -> Option<String>,
    layer: Layer,
    out: &mut Vec<Finding>,
) {
    let Some((name, value)) = headers_variable(get) else {
        return;
    };
    let mut problems = 0;
    for entry in otlp_headers::parse(&value, true) {
        let Some(problem) = entry.problem else {
            continue;
        };
        problems += 1;
        let shown = match entry.raw.split_once(['=', ':']) {
            Some((key, _)) => format!("{}=…", key.trim()),
            None => "an entry".into(),
        };
        let finding = if entry.header.is_some() && problem.contains("1.27") {
            Finding::warn
        } else {
            Finding::fail
        };
        let clean_key = entry
            .raw
            .split(['=', ':'])
            .next()
            .unwrap_or("")
            .trim()
            .trim_matches(['"', '\''])
            .to_string();
        out.push(
            finding("otlp-headers-format", layer, format!("{name}: {shown} {problem}"))
                .var(name)
                .fix(format!("{name}: \"{clean_key}=${{HONEYCOMB_API_KEY}}\"   # name=value, no quotes, comma between entries")),
        );
    }
    if problems == 0 {
        let names: Vec<String> = otlp_headers::headers(&value)
            .into_iter()
            .map(|(n, _)| n)
            .collect();
        out.push(
            Finding::ok(
                "otlp-headers-format",
                layer,
                format!("{name} parses into: {}", names.join(", ")),
            )
            .var(name),
        );
    }
}

fn check_service_name(
    ctx: &Context,
    get: &dyn Fn(&str) -> Option<String>,
    layer: Layer,
    out: &mut Vec<Finding>,
) {
    const NAME: &str = "OTEL_SERVICE_NAME";
    let from_attributes = get("OTEL_RESOURCE_ATTRIBUTES").and_then(|attrs| {
        attrs.split(',').find_map(|kv| {
            let (k, v) = kv.split_once('=')?;
            (k.trim() == "service.name").then(|| v.trim().to_string())
        })
    });
    let service = ctx.backend_service();
    let fix_value = service.unwrap_or("backend-flask");
    let Some(name) = get(NAME).or(from_attributes) else {
        out.push(
            Finding::fail(
                "otlp-service-name",
                layer,
                format!("{NAME} is not set: spans land in the dataset unknown_service"),
            )
            .var(NAME)
            .fix(format!("{NAME}: \"{fix_value}\"")),
        );
        return;
    };
    if name.starts_with("unknown_service") {
        out.push(
            Finding::fail(
                "otlp-service-name",
                layer,
                format!("{NAME}={name:?}: spans land in unknown_service"),
            )
            .var(NAME)
            .fix(format!("{NAME}: \"{fix_value}\"")),
        );
        return;
    }
    if let Some(service) = service
        && name != service
        && edit_distance(&name, service) <= 2
    {
        out.push(
            Finding::warn("otlp-service-name", layer, format!("{NAME}={name:?} is one letter or two away from the service {service:?}: a typo? Your dataset will be called {name:?}"))
                .var(NAME)
                .fix(format!("{NAME}: \"{service}\"")),
        );
        return;
    }
    out.push(
        Finding::ok(
            "otlp-service-name",
            layer,
            format!("{NAME}={name} (the dataset your spans land in)"),
        )
        .var(NAME),
    );
}
