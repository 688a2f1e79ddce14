//! `otlp-*`: the exporter's endpoint, protocol, headers format and service
//! name, as opentelemetry-python reads them from the app's environment.

use crate::backend::Backend;
use crate::doctor::finding::{CheckId, Edit, Finding, Layer};
use crate::rules::honeycomb::{EU_API_HOST, US_API_HOST};
use crate::rules::names::edit_distance;
use crate::rules::otlp_headers;
use crate::workspace::context::Context;
use crate::workspace::url;

use super::compose_edits;
use super::env::honeycomb_key_is_broken;
use super::facts::misspelt_variables;
use super::hops::{self, Reach};
use crate::rules::otlp_headers::headers_variable;
use crate::workspace::collector::is_collector;
use crate::workspace::destination::{BASE, TRACES, destination};
use crate::workspace::python::Value;

const PROTOCOLS: &[&str] = &["grpc", "http/protobuf", "http/json"];

pub fn run(ctx: &Context) -> Vec<Finding> {
    if !(ctx.uses(Backend::Honeycomb) || ctx.uses(Backend::Local)) {
        return Vec::new();
    }
    super::switched_off(
        sdk_disabled(ctx),
        judged_live(ctx),
        &format!(
            "{DISABLED}: \"false\" where it is set, then run tracelab doctor again: the exporter is judged once the SDK is on"
        ),
    )
}

/// The switch the OpenTelemetry SDK reads: "true" (any case, spaces
/// trimmed) makes every tracer a no-op.
const DISABLED: &str = "OTEL_SDK_DISABLED";

fn sdk_disabled(ctx: &Context) -> Option<Finding> {
    let (layer, value) = ctx.app_var(DISABLED)?;
    if !value.trim().eq_ignore_ascii_case("true") {
        return None;
    }
    let place = ctx
        .compose
        .as_ref()
        .map(|c| {
            format!(
                "{}: ",
                c.file.place(ctx.backend_name(), &["environment", DISABLED])
            )
        })
        .unwrap_or_default();
    let finding = Finding::fail(
        CheckId::OtlpSdkDisabled,
        layer,
        format!("{place}{DISABLED}={value:?} switches the OpenTelemetry SDK off: every tracer is a no-op, so no span is made or exported"),
    )
    .var(DISABLED);
    Some(compose_edits::fix_value(
        finding, ctx, DISABLED, "false", None,
    ))
}

/// The exporter as the SDK, switched on, would send.
fn judged_live(ctx: &Context) -> Vec<Finding> {
    let Some(layer) = ctx.app_layer() else {
        return Vec::new();
    };
    let get = |name: &str| ctx.app_var(name).map(|(_, v)| v).filter(|v| !v.is_empty());
    let mut out = Vec::new();
    if let Some(finding) = no_otel_settings(ctx) {
        out.push(finding);
        return out;
    }
    let misspelt = misspelt_variables(ctx);
    if !misspelt.is_empty() {
        out.push(misspelt_finding(ctx, &misspelt));
    }
    let protocol = check_protocol(&get, layer, &mut out);
    let endpoint_misspelt = misspelt.iter().any(|(_, m)| *m == BASE || *m == TRACES);
    if !endpoint_misspelt {
        check_endpoint(ctx, layer, protocol.as_deref(), &mut out);
    }
    let code_headers = destination(ctx).is_some_and(|d| d.headers_in_code);
    if !code_headers && !honeycomb_key_is_broken(ctx) {
        check_headers_format(ctx, &get, layer, &mut out);
    }
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
                    Finding::fail(CheckId::OtlpProtocol, layer, format!("{name}={value:?} is not one of grpc, http/protobuf, http/json"))
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
    hops::is_loopback(host)
        || host == "host.docker.internal"
        || ctx
            .compose
            .as_ref()
            .is_some_and(|c| c.file.service(host).is_some())
        || !host.contains('.')
}

/// A configuration (often a `docker-compose.local.yml`) that gives the
/// backend no OTEL_* setting at all, while the code exports from the
/// environment: one root cause, one finding.
fn no_otel_settings(ctx: &Context) -> Option<Finding> {
    let compose = ctx.compose.as_ref()?;
    let service = compose.file.service(compose.backend.as_ref()?)?;
    let explicit = destination(ctx).is_some_and(|d| d.from_code);
    let any_otel = service
        .environment
        .iter()
        .any(|(k, _)| k.starts_with("OTEL") || k.starts_with("OTLP"))
        || !service.env_files.is_empty();
    if explicit || any_otel {
        return None;
    }
    let place = compose.file.place(&service.name, &["environment"]);
    Some(
        Finding::fail(
            CheckId::OtlpEndpoint,
            Layer::Compose,
            format!("{place}: {} gets no OTEL_* settings in {}: spans go to http://localhost:4318 inside the container, with no service name and no headers", service.name, compose.file.path.display()),
        )
        .var(BASE)
        .fix(format!(
            "add to services.{} ({place}): OTEL_SERVICE_NAME: \"{}\", {BASE}: \"https://{US_API_HOST}\", OTEL_EXPORTER_OTLP_HEADERS: \"x-honeycomb-team=${{HONEYCOMB_API_KEY}}\"",
            service.name, service.name
        )),
    )
}

fn misspelt_finding(ctx: &Context, misspelt: &[(String, &'static str)]) -> Finding {
    let service = ctx.backend_name();
    let compose = ctx
        .compose
        .as_ref()
        .expect("misspellings are read from compose");
    let renames: Vec<String> = misspelt
        .iter()
        .map(|(written, meant)| {
            format!(
                "{written} → {meant} ({})",
                compose.file.place(service, &["environment", written])
            )
        })
        .collect();
    // What is lost is what the meant variable does: only that.
    let lost: Vec<String> = misspelt
        .iter()
        .map(|(written, meant)| {
            let effect = if meant.ends_with("HEADERS") {
                "no header is sent, so Honeycomb answers 401 to every span"
            } else if meant.ends_with("ENDPOINT") {
                "spans go to http://localhost:4318 inside the container, where nothing listens"
            } else {
                "its setting is never applied"
            };
            format!("the exporter never reads {written} (it reads {meant}): {effect}")
        })
        .collect();
    // Each name renamed on its own line: edits a program can make.
    let edits: Option<Vec<Edit>> = misspelt
        .iter()
        .map(|(written, meant)| {
            let (path, line) = compose.file.locate(service, &["environment", written])?;
            Edit::rename(path, line, written, meant)
        })
        .collect();
    let finding = Finding::fail(CheckId::OtlpVariableName, Layer::Compose, lost.join("; "))
        .var(misspelt[0].1);
    let advice = format!("rename {}", renames.join("; "));
    match edits {
        Some(edits) => finding.edits(edits, advice),
        None => finding.fix(advice),
    }
}

fn check_endpoint(ctx: &Context, layer: Layer, protocol: Option<&str>, out: &mut Vec<Finding>) {
    let destination = destination(ctx);
    let (name, url) = match &destination {
        Some(d) if d.from_code => (d.source.as_str(), d.url.clone()),
        Some(d) => (if d.as_is { TRACES } else { BASE }, d.url.clone()),
        None => {
            let finding = Finding::fail(CheckId::OtlpEndpoint, layer, format!("{BASE} is not set: spans go to http://localhost:4318, where nothing listens inside the container"))
                .var(BASE);
            let advice = format!(
                "{BASE}: \"https://{US_API_HOST}\"   # or https://{EU_API_HOST} for EU teams"
            );
            // Honeycomb's US host, beside the backend's other variables.
            let us = format!("https://{US_API_HOST}");
            let added = ctx
                .uses(Backend::Honeycomb)
                .then(|| compose_edits::add_entries(ctx, ctx.backend_name(), &[(BASE, &us)]))
                .flatten();
            out.push(match added {
                Some(edit) => finding.edit(edit).fix(advice),
                None => finding.fix(advice),
            });
            return;
        }
    };
    let var_name = if name == TRACES || name == BASE {
        name
    } else {
        BASE
    };
    let origin = shell_origin(ctx, var_name);
    let fail = |message: String, fix: String| {
        let fix = match &origin {
            Some(note) => format!("{fix}   # {note}"),
            None => fix,
        };
        Finding::fail(CheckId::OtlpEndpoint, layer, message)
            .var(var_name)
            .fix(fix)
    };
    // A value the doctor knows is right: written where the file holds it.
    let fail_to = |message: String, value: String| {
        let finding = Finding::fail(CheckId::OtlpEndpoint, layer, message).var(var_name);
        compose_edits::fix_value(finding, ctx, name, &value, origin.as_deref())
    };
    let Some(parsed) = url::parse(url.trim()).filter(|u| !u.host.is_empty()) else {
        out.push(fail_to(
            format!(
                "{name}={url:?} has no scheme: the exporter fails with \"No connection adapters\""
            ),
            format!("https://{}", url.trim().trim_start_matches("//")),
        ));
        return;
    };
    let mut problems = 0;
    let grpc = protocol == Some("grpc");
    match hops::reach(ctx, parsed.host) {
        Reach::ContainerItself => {
            // Name a receiver this workspace has (a collector, Jaeger), not one it lacks.
            let receiver = ctx.compose.as_ref().and_then(|c| {
                c.file.services.iter().find(|s| {
                    is_collector(s)
                        || s.image_name().is_some_and(|i| i.contains("jaeger"))
                        || s.ports.iter().any(|p| p.contains("4318"))
                })
            });
            let fix = match receiver {
                Some(service) => format!(
                    "{name}: \"http://{}:{}\"   # the receiver's compose service, or add network_mode: host to the backend",
                    service.name,
                    if grpc { 4317 } else { 4318 }
                ),
                None => format!(
                    "{name}: the URL of the receiver's compose service, or, for a receiver on this machine (tracelab listen), http://host.docker.internal:4318 with extra_hosts: [\"host.docker.internal:host-gateway\"]"
                ),
            };
            out.push(fail(
                format!("{name}={url:?}: inside the container, {} is the container itself, where nothing receives spans", parsed.host),
                fix,
            ));
            return;
        }
        Reach::UnknownService => {
            problems += 1;
            out.push(fail(
                format!("{name}={url:?} names the host {:?}, but no compose service is called that: the name does not resolve", parsed.host),
                format!("{name}: the URL of a service in the compose file (or add that service)"),
            ));
        }
        Reach::Service(target) => {
            if let Some(finding) = hops::network_finding(
                ctx,
                &target,
                CheckId::OtlpEndpointNetwork,
                "the exporter's spans",
            ) {
                out.push(finding);
                return;
            }
        }
        _ => {}
    }
    if !matches!(parsed.scheme, "http" | "https") {
        problems += 1;
        out.push(fail_to(
            format!("{name}={url:?}: the scheme must be http or https"),
            format!("https://{}", parsed.host),
        ));
    } else if parsed.scheme == "http" && !is_local_host(ctx, parsed.host) {
        problems += 1;
        out.push(fail_to(
            format!(
                "{name}={url:?} uses http for the remote host {}: it only accepts https",
                parsed.host
            ),
            url.replacen("http://", "https://", 1),
        ));
    }
    let path = parsed.path.trim_end_matches('/');
    let as_is = name != BASE;
    if !as_is && path.ends_with("/v1/traces") && !grpc {
        problems += 1;
        out.push(fail_to(
            format!("{BASE} ends in /v1/traces, and the exporter appends another: spans go to {}/v1/traces and get 404", url.trim_end_matches('/')),
            url.trim_end_matches('/').trim_end_matches("/v1/traces").to_string(),
        ));
    }
    if as_is && !path.ends_with("/v1/traces") && !grpc {
        problems += 1;
        out.push(fail_to(
            format!("{name} is used as it is and must end in /v1/traces; {url:?} does not"),
            format!("{}/v1/traces", url.trim_end_matches('/')),
        ));
    }
    if parsed.port == Some(4317) && !grpc {
        problems += 1;
        out.push(fail_to(
            format!(
                "{name}={url:?} points at 4317, the gRPC port, but the exporter speaks HTTP (4318)"
            ),
            url.replacen(":4317", ":4318", 1),
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
        let finding = Finding::warn(
            CheckId::OtlpEndpointHost,
            layer,
            format!("{host} is not a Honeycomb API host (did you mean {guess}?)"),
        )
        .var(name);
        let value = format!("https://{guess}");
        out.push(compose_edits::fix_value(
            finding,
            ctx,
            name,
            &value,
            origin.as_deref(),
        ));
    } else if ctx.uses(Backend::Honeycomb)
        && !host.ends_with("honeycomb.io")
        && !goes_to_collector(ctx, &host)
    {
        out.push(Finding::warn(
            CheckId::OtlpEndpointHost,
            layer,
            format!("spans go to {host}, not to Honeycomb: fine for a local collector, but Honeycomb will not see them"),
        ).var(name));
    }
    if problems == 0 {
        out.push(Finding::ok(CheckId::OtlpEndpoint, layer, format!("{name}={url}")).var(name));
    }
}

/// A compose service running a collector: it carries spans on to Honeycomb.
fn goes_to_collector(ctx: &Context, host: &str) -> bool {
    ctx.compose
        .as_ref()
        .and_then(|c| c.file.service(host))
        .is_some_and(is_collector)
}

fn check_headers_format(
    ctx: &Context,
    get: &dyn Fn(&str) -> Option<String>,
    layer: Layer,
    out: &mut Vec<Finding>,
) {
    let Some((name, value)) = headers_variable(get) else {
        return;
    };
    let mut problems = 0;
    let mut written = compose_edits::written(ctx, ctx.backend_name(), name)
        .and_then(|raw| otlp_headers::repaired(&raw));
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
        // An entry with no name at all is most often the key pasted alone:
        // it is named, and the key goes where keys go.
        let (clean_key, then) = match entry.raw.split_once(['=', ':']) {
            Some((key, _)) => (
                key.trim().trim_matches(['"', '\'']).to_string(),
                "name=value, no quotes, comma between entries",
            ),
            None => (
                "x-honeycomb-team".to_string(),
                "then: tracelab env set HONEYCOMB_API_KEY (the key lives in .env, never here)",
            ),
        };
        let finding = finding(
            CheckId::OtlpHeadersFormat,
            layer,
            format!("{name}: {shown} {problem}"),
        )
        .var(name);
        let wanted = format!("{clean_key}=${{HONEYCOMB_API_KEY}}");
        // The value as the compose file writes it (its variables, not their
        // values), repaired: one edit, on the first malformed entry.
        match written.take() {
            Some(repaired) => out.push(compose_edits::fix_value(
                finding, ctx, name, &repaired, None,
            )),
            None => out.push(finding.fix(format!("{name}: \"{wanted}\"   # {then}"))),
        }
    }
    if problems == 0 {
        let names: Vec<String> = otlp_headers::headers(&value)
            .into_iter()
            .map(|(n, _)| n)
            .collect();
        out.push(
            Finding::ok(
                CheckId::OtlpHeadersFormat,
                layer,
                format!("{name} parses into: {}", names.join(", ")),
            )
            .var(name),
        );
    }
}

/// What `service.name` on a Resource in live code is set to.
enum CodeName {
    /// A literal: it wins over the environment.
    Literal(String, String),
    /// `os.getenv("OTEL_SERVICE_NAME", "default")`: the environment, with
    /// the code's fallback when it is unset.
    EnvFallback(String),
}

/// `Resource.create({"service.name": ...})`, `Resource(attributes={SERVICE_NAME:
/// ...})`, following a module-level name to what it was assigned.
fn service_name_in_code(ctx: &Context) -> Option<CodeName> {
    ctx.live_calls().find_map(|(file, call)| {
        let is_resource = call.name == "Resource"
            || call.name.ends_with(".Resource")
            || call.name.ends_with("Resource.create");
        if !is_resource {
            return None;
        }
        let Some(Value::Dict(items)) = call.keyword("attributes").or(call.args.first()) else {
            return None;
        };
        let mut value = items
            .iter()
            .find(|(k, _)| k.as_deref() == Some("service.name"))
            .map(|(_, v)| v.clone())?;
        let mut line = call.line;
        if let Value::Ref(name) = &value {
            let assigned = file
                .facts
                .assignments
                .iter()
                .rfind(|a| &a.target == name && a.module_level)?;
            value = assigned.value.clone();
            line = assigned.line;
        }
        match value {
            Value::Str(name) => Some(CodeName::Literal(
                name,
                format!("{}:{line}", file.path.display()),
            )),
            Value::Call(callee, Some(variable))
                if variable == "OTEL_SERVICE_NAME"
                    && (callee.ends_with("getenv") || callee.ends_with("environ.get")) =>
            {
                // The fallback is the call's second argument.
                let fallback = file
                    .facts
                    .calls
                    .iter()
                    .find(|c| c.line == line && c.name == callee)
                    .and_then(|c| match c.args.get(1) {
                        Some(Value::Str(d)) => Some(d.clone()),
                        _ => None,
                    })?;
                Some(CodeName::EnvFallback(fallback))
            }
            _ => None,
        }
    })
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
    // service.name on a Resource in code wins over the environment, or
    // falls back to a name of its own when the variable is unset.
    let in_code = service_name_in_code(ctx);
    if let Some(CodeName::Literal(name, place)) = &in_code {
        let message = if get(NAME).is_some() || from_attributes.is_some() {
            format!("service.name={name:?} set in code at {place} (it wins over {NAME})")
        } else {
            format!("service.name={name:?} set in code at {place}")
        };
        out.push(Finding::ok(CheckId::OtlpServiceName, layer, message).var(NAME));
        return;
    }
    // Only when the variable is absent: set but empty, getenv returns "".
    let absent = ctx
        .app_env()
        .is_some_and(|(_, env)| !env.contains_key(NAME));
    if let Some(CodeName::EnvFallback(fallback)) = &in_code
        && absent
        && from_attributes.is_none()
    {
        out.push(
            Finding::ok(
                CheckId::OtlpServiceName,
                layer,
                format!("{NAME} is unset: the code names the service {fallback:?}"),
            )
            .var(NAME),
        );
        return;
    }
    let service = ctx.backend_service();
    let fix_value = ctx.backend_name();
    // Where the edit goes: the variable's line, in whichever file of the
    // configuration sets it, else the backend's environment block.
    let at = match (&ctx.compose, service) {
        (Some(compose), Some(service)) => {
            format!("{}: ", compose.file.place(service, &["environment", NAME]))
        }
        _ => String::new(),
    };
    if get(NAME).is_none()
        && let Some(variable) = unset_source(ctx, NAME)
    {
        out.push(
            Finding::warn(
                CheckId::OtlpServiceName,
                layer,
                format!("{NAME} comes from ${{{variable}}}, which is set nowhere: spans land in unknown_service:python3 (the dataset unknown_service)"),
            )
            .var(NAME)
            .fix(format!("{}   # or write the name: {NAME}: \"{fix_value}\"", super::env::set_command(ctx, &variable))),
        );
        return;
    }
    // Spans in the dataset unknown_service arrive, where the student will
    // not look: a warning, with the name written where it belongs.
    let named = |finding: Finding| {
        let service = ctx.backend_name();
        let edit = compose_edits::set_value(ctx, service, NAME, fix_value)
            .or_else(|| compose_edits::add_entries(ctx, service, &[(NAME, fix_value)]));
        finding.edit_or(edit, format!("{at}{NAME}: \"{fix_value}\""))
    };
    let Some(name) = get(NAME).or(from_attributes) else {
        out.push(named(
            Finding::warn(
                CheckId::OtlpServiceName,
                layer,
                format!("{NAME} is not set: spans land in the dataset unknown_service"),
            )
            .var(NAME),
        ));
        return;
    };
    if name.starts_with("unknown_service") {
        out.push(named(
            Finding::warn(
                CheckId::OtlpServiceName,
                layer,
                format!("{NAME}={name:?}: spans land in unknown_service"),
            )
            .var(NAME),
        ));
        return;
    }
    // `backend_flask` for `backend-flask` is a choice of separator, not a
    // typo: only a letter missing, added or changed is one.
    let words = |s: &str| s.to_ascii_lowercase().replace(['_', '.', ' '], "-");
    // A name in quotes is compose-quoted-value's finding: its quotes are
    // the difference, not a typo.
    if let Some(service) = service
        && !crate::rules::values::wrapped_in_quotes(&name)
        && words(&name) != words(service)
        && edit_distance(&name, service) <= 2
    {
        out.push(
            Finding::warn(CheckId::OtlpServiceName, layer, format!("{NAME}={name:?} is one letter or two away from the service {service:?}: a typo? Your dataset will be called {name:?}"))
                .var(NAME)
                .fix(format!("{at}{NAME}: \"{service}\"")),
        );
        return;
    }
    out.push(
        Finding::ok(
            CheckId::OtlpServiceName,
            layer,
            format!("{NAME}={name} (the dataset your spans land in)"),
        )
        .var(NAME),
    );
}

/// The variable a compose entry interpolates when it came out empty:
/// `OTEL_SERVICE_NAME: "${HONEYCOMB_SERVICE_NAME}"` with that variable unset.
fn unset_source(ctx: &Context, key: &str) -> Option<String> {
    let raw = ctx.backend_raw(key)?;
    let unset =
        crate::workspace::interpolate::interpolate(raw, &|name: &str| ctx.interpolated(name))
            .ok()?
            .unset;
    unset.into_iter().next()
}

/// "this value is your shell's $X (through ${X:-...}): ..." when the compose
/// entry takes it from a variable the shell or .env sets.
fn shell_origin(ctx: &Context, key: &str) -> Option<String> {
    let compose = ctx.compose.as_ref()?;
    let service = ctx.backend_service()?;
    let raw = ctx.backend_raw(key)?;
    crate::workspace::interpolate::referenced(raw).into_iter().find_map(|name| {
        let (layer, _) = ctx.feeding(&name)?;
        let place = compose.file.place(service, &["environment", key]);
        Some(format!(
            "this value is {name} from {} (through {raw:?} at {place}): change it there, or `unset {name}` to use the file's default",
            if layer == Layer::Shell { "your shell".to_string() } else { layer.name().to_string() }
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::super::testing::{SHELL, check, replace};
    use crate::doctor::finding::{CheckId, Status};

    #[test]
    fn an_endpoint_ending_in_v1_traces_is_doubled() {
        let checked = check(
            "honeycomb",
            replace(
                "docker-compose.yml",
                "\"https://api.honeycomb.io\"",
                "\"https://api.honeycomb.io/v1/traces\"",
            ),
            SHELL,
        );
        let finding = checked.one(CheckId::OtlpEndpoint, Status::Fail);
        assert!(
            finding.message.contains("/v1/traces"),
            "{}",
            finding.message
        );
    }

    #[test]
    fn the_sdk_switched_off_is_one_problem_and_switching_it_on_is_its_edit() {
        let off = |value: &'static str| {
            replace(
                "docker-compose.yml",
                "      OTEL_SERVICE_NAME: \"backend-flask\"\n",
                match value {
                    "True" => {
                        "      OTEL_SERVICE_NAME: \"backend-flask\"\n      OTEL_SDK_DISABLED: \" True\"\n"
                    }
                    _ => {
                        "      OTEL_SERVICE_NAME: \"backend-flask\"\n      OTEL_SDK_DISABLED: \"false\"\n"
                    }
                },
            )
        };
        let checked = check("honeycomb", off("True"), SHELL);
        assert_eq!(checked.ids(Status::Fail), [CheckId::OtlpSdkDisabled]);
        let edit = checked.edit(CheckId::OtlpSdkDisabled, Status::Fail);
        assert_eq!(edit.new.trim(), "OTEL_SDK_DISABLED: \"false\"");
        // Only "true" switches it off.
        let on = check("honeycomb", off("false"), SHELL);
        assert!(on.ids(Status::Fail).is_empty());
        // Off, a broken endpoint is not judged; the switch is then advice.
        let both = check(
            "honeycomb",
            |file: &str, text: String| {
                replace(
                    "docker-compose.yml",
                    "\"https://api.honeycomb.io\"",
                    "\"api.honeycomb.io\"",
                )(file, off("True")(file, text))
            },
            SHELL,
        );
        assert_eq!(both.ids(Status::Fail), [CheckId::OtlpSdkDisabled]);
        assert!(
            both.one(CheckId::OtlpSdkDisabled, Status::Fail)
                .apply
                .is_none()
        );
    }

    #[test]
    fn a_service_name_one_letter_off_is_a_warning_and_a_separator_is_not() {
        let typo = check(
            "honeycomb",
            replace(
                "docker-compose.yml",
                "OTEL_SERVICE_NAME: \"backend-flask\"",
                "OTEL_SERVICE_NAME: \"bakend-flask\"",
            ),
            SHELL,
        );
        typo.one(CheckId::OtlpServiceName, Status::Warn);
        let separator = check(
            "honeycomb",
            replace(
                "docker-compose.yml",
                "OTEL_SERVICE_NAME: \"backend-flask\"",
                "OTEL_SERVICE_NAME: \"backend_flask\"",
            ),
            SHELL,
        );
        assert!(
            separator.ids(Status::Warn).is_empty(),
            "{:#?}",
            separator.findings
        );
    }

    /// `OTEL_EXPORTER_OTLP_HEADER` (no S) is one problem, in true words
    /// (only the header is lost), with the rename as an edit.
    #[test]
    fn a_misspelt_headers_variable_is_one_problem_and_one_rename() {
        let checked = check(
            "honeycomb",
            replace(
                "docker-compose.yml",
                "OTEL_EXPORTER_OTLP_HEADERS:",
                "OTEL_EXPORTER_OTLP_HEADER:",
            ),
            SHELL,
        );
        assert_eq!(
            checked.ids(Status::Fail),
            [CheckId::OtlpVariableName],
            "{:#?}",
            checked.findings
        );
        assert_eq!(checked.ids(Status::Warn), [], "{:#?}", checked.findings);
        let finding = checked.one(CheckId::OtlpVariableName, Status::Fail);
        assert!(finding.message.contains("401"), "{}", finding.message);
        assert!(
            !finding.message.contains("localhost"),
            "{}",
            finding.message
        );
        assert!(matches!(
            finding.apply,
            Some(crate::doctor::finding::Apply::Edits { .. })
        ));
    }
}
