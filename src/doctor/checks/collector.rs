//! `collector-*` and `frontend-*`: the OpenTelemetry Collector services, read
//! from their mounted configs, and the browser's hop into them.
//!
//! Version rules (collector releases): since v0.104.0 receivers bind
//! `localhost` unless told otherwise and bare `$VAR` is no longer expanded;
//! v0.111.0 removed the `logging` exporter. An image with no tag or `latest`
//! pulls a version where all of these apply.

use crate::doctor::finding::{CheckId, Edit, Finding, Layer};
use crate::rules::honeycomb::{EU_API_HOST, US_API_HOST};
use crate::workspace::collector::{CollectorConfig, CollectorService, Version};
use crate::workspace::compose::ComposeFile;
use crate::workspace::context::Context;

use super::hops::is_loopback;

pub fn run(ctx: &Context) -> Vec<Finding> {
    let Some(compose) = &ctx.compose else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for collector in &ctx.collectors {
        check_collector(ctx, &compose.file, collector, &mut out);
    }
    check_frontend_env(ctx, &compose.file, &mut out);
    check_frontend_keys(ctx, &mut out);
    check_cors_traceparent(ctx, &mut out);
    out
}

/// The headers a Flask-CORS `allow_headers` lists (None: not a literal).
fn allowed_headers(value: &crate::workspace::python::Value) -> Option<Vec<String>> {
    use crate::workspace::python::Value;
    let words = |text: &str| -> Vec<String> {
        text.split(',')
            .map(|h| h.trim().to_ascii_lowercase())
            .filter(|h| !h.is_empty())
            .collect()
    };
    match value {
        Value::Str(text) => Some(words(text)),
        Value::List(items) => items
            .iter()
            .map(|item| match item {
                Value::Str(text) => Some(text.trim().to_ascii_lowercase()),
                _ => None,
            })
            .collect(),
        _ => None,
    }
}

/// Browser tracing that propagates to the backend, and a CORS set-up
/// that does not allow the header it adds.
fn check_cors_traceparent(ctx: &Context, out: &mut Vec<Finding>) {
    let Some(browser) = ctx
        .frontend
        .iter()
        .find(|f| f.live_text.contains("propagateTraceHeaderCorsUrls"))
    else {
        return;
    };
    let Some((file, call)) = ctx.live_calls().find(|(_, c)| c.method() == "CORS") else {
        return;
    };
    let Some(value) = call.keyword("allow_headers") else {
        // Flask-CORS's default allows every header.
        return;
    };
    let Some(headers) = allowed_headers(value) else {
        return;
    };
    if headers.iter().any(|h| h == "*" || h == "traceparent") {
        return;
    }
    let place = format!("{}:{}", file.path.display(), call.line);
    let finding = Finding::fail(
        CheckId::FrontendCorsTraceparent,
        Layer::Code,
        format!(
            "{place}: the browser's fetch instrumentation sends a traceparent header to the backend (propagateTraceHeaderCorsUrls in {}), and allow_headers does not list it: the browser's preflight is refused, so it blocks every API call",
            browser.path.display()
        ),
    );
    // The literal, extended where it is written (a few lines into the call).
    let edit = match value {
        crate::workspace::python::Value::Str(text) => {
            (call.line..call.line + 12).find_map(|line| {
                let edit = Edit::rename(
                    &file.path,
                    line,
                    &format!("\"{text}\""),
                    &format!("\"{text},traceparent,tracestate\""),
                )?;
                edit.old.contains("allow_headers").then_some(edit)
            })
        }
        _ => None,
    };
    out.push(finding.edit_or(
        edit,
        format!("{place}: add \"traceparent\" and \"tracestate\" to allow_headers"),
    ));
}

fn at(config: &CollectorConfig, line: Option<usize>) -> String {
    match line {
        Some(line) => format!("{}:{line}", config.path.display()),
        None => config.path.display().to_string(),
    }
}

/// How the image tag is written, for messages: "unpinned (latest)".
fn tag_note(collector: &CollectorService) -> String {
    match (&collector.tag, collector.version) {
        (None, _) => "its image has no tag, so it pulls the newest collector".into(),
        (Some(tag), Version::Latest) => format!("its image tag {tag:?} pulls the newest collector"),
        (Some(tag), Version::Pinned(..)) => format!("its image is {tag}"),
    }
}

fn check_collector(
    ctx: &Context,
    file: &ComposeFile,
    collector: &CollectorService,
    out: &mut Vec<Finding>,
) {
    let service = &collector.service;
    let config = match &collector.config {
        Ok(config) => config,
        Err(why) => {
            out.push(
                Finding::fail(CheckId::CollectorConfig, Layer::Compose, format!("{}: the collector's config cannot be read: {why}", file.place(service, &["volumes"])))
                    .fix(format!("mount the config and name it: volumes: [\"./otel-collector-config.yaml:/etc/otelcol/config.yaml\"] in services.{service}")),
            );
            return;
        }
    };
    let before = out.len();
    let version = collector.version;
    for protocol in &config.otlp {
        let port = if protocol.protocol == "grpc" {
            4317
        } else {
            4318
        };
        let host = protocol
            .endpoint
            .as_deref()
            .and_then(|e| e.rsplit_once(':').map(|(h, _)| h));
        let local_only = match (&protocol.endpoint, host) {
            (None, _) => version.at_least(104),
            (Some(_), Some(host)) => is_loopback(host) && host != "0.0.0.0",
            (Some(_), None) => false,
        };
        if local_only {
            let why = match &protocol.endpoint {
                None => format!(
                    "has no endpoint, and {}: since v0.104 that binds localhost:{port}",
                    tag_note(collector)
                ),
                Some(endpoint) => format!("binds {endpoint}"),
            };
            out.push(
                Finding::fail(CheckId::CollectorReceiverBind, Layer::Compose, format!("{}: the {} receiver's {} protocol {why}, which other containers and the forwarded port cannot reach: nothing enters the collector", at(config, protocol.line), protocol.receiver, protocol.protocol))
                    .fix(format!("at {}:  endpoint: 0.0.0.0:{port}", at(config, protocol.line))),
            );
        }
    }
    for exporter in &config.exporters {
        if exporter.kind() == "logging" && version.at_least(111) {
            out.push(
                Finding::fail(CheckId::CollectorRemovedComponent, Layer::Compose, format!("{}: the `{}` exporter was removed in v0.111 and {}: the collector exits at start (\"the logging exporter has been deprecated, use the debug exporter instead\")", at(config, exporter.line), exporter.name, tag_note(collector)))
                    .fix(format!("at {}: replace `{}:` with `debug:` and `verbosity: detailed` (and rename it in the pipelines)", at(config, exporter.line), exporter.name)),
            );
        }
    }
    for pipeline in &config.pipelines {
        for (kind, name) in &pipeline.components {
            if !config.defines(kind, name) {
                out.push(
                    Finding::fail(CheckId::CollectorUndefinedComponent, Layer::Compose, format!("{}: pipeline {} names the {kind} `{name}`, which is not defined: the collector refuses the config and exits", at(config, pipeline.line), pipeline.name))
                        .fix(format!("define `{name}` under {kind}s, or remove it from the pipeline at {}", at(config, pipeline.line))),
                );
            }
        }
    }
    check_honeycomb_exporters(config, out);
    check_env_refs(ctx, file, collector, config, out);
    let failed = out.len() > before;
    if !failed && matches!(version, Version::Latest) {
        out.push(
            Finding::warn(CheckId::CollectorImageTag, Layer::Compose, format!("{}: {}: a new release can change its defaults under you (v0.104 bound receivers to localhost, v0.111 removed `logging`)", file.place(service, &["image"]), tag_note(collector)))
                .fix(format!("pin a version at {}:  image: otel/opentelemetry-collector-contrib:0.119.0", file.place(service, &["image"]))),
        );
    }
    check_browser_hop(ctx, file, collector, config, out);
}

fn check_honeycomb_exporters(config: &CollectorConfig, out: &mut Vec<Finding>) {
    for exporter in &config.exporters {
        let Some(endpoint) = &exporter.endpoint else {
            continue;
        };
        if !endpoint.contains("honeycomb") {
            continue;
        }
        let place = at(config, exporter.line);
        let host = endpoint
            .trim_start_matches("https://")
            .trim_start_matches("http://")
            .split(['/', ':'])
            .next()
            .unwrap_or("");
        if host != US_API_HOST && host != EU_API_HOST {
            out.push(
                Finding::fail(CheckId::CollectorHoneycomb, Layer::Compose, format!("{place}: the {} exporter sends to {host}, which is not a Honeycomb API host", exporter.name))
                    .fix(format!("at {place}: endpoint: {}", if exporter.kind() == "otlp" { format!("{US_API_HOST}:443") } else { format!("https://{US_API_HOST}") })),
            );
        } else if exporter.kind() == "otlphttp" && !endpoint.starts_with("https://") {
            out.push(
                Finding::fail(
                    CheckId::CollectorHoneycomb,
                    Layer::Compose,
                    format!(
                        "{place}: the otlphttp exporter needs a URL with https://, not {endpoint:?}"
                    ),
                )
                .fix(format!("at {place}: endpoint: https://{host}")),
            );
        }
        let team = exporter
            .headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("x-honeycomb-team"));
        if team.is_none_or(|(_, v)| v.trim().is_empty()) {
            out.push(
                Finding::fail(CheckId::CollectorHoneycomb, Layer::Compose, format!("{place}: the {} exporter sends to Honeycomb without an x-honeycomb-team header: every batch gets 401", exporter.name))
                    .fix(format!("at {place}:  headers: {{x-honeycomb-team: ${{env:HONEYCOMB_API_KEY}}}}")),
            );
        }
    }
}

/// `$VAR` is no longer expanded; `${VAR}` must be in the service's environment.
fn check_env_refs(
    ctx: &Context,
    file: &ComposeFile,
    collector: &CollectorService,
    config: &CollectorConfig,
    out: &mut Vec<Finding>,
) {
    let service = file.service(&collector.service);
    let mut seen: Vec<&str> = Vec::new();
    let needed = ctx.needed();
    for reference in &config.env_refs {
        let place = format!("{}:{}", config.path.display(), reference.line);
        if reference.bare && collector.version.at_least(104) {
            out.push(
                Finding::fail(CheckId::CollectorEnvSyntax, Layer::Compose, format!("{place}: ${} is not expanded since v0.104 ({}): the collector uses the text \"${}\" itself", reference.name, tag_note(collector), reference.name))
                    .var(&reference.name)
                    .fix(format!("at {place}: ${{env:{}}}", reference.name)),
            );
            continue;
        }
        if seen.contains(&reference.name.as_str()) {
            continue;
        }
        seen.push(&reference.name);
        let passed = service.is_some_and(|s| {
            s.environment.iter().any(|(k, _)| k == &reference.name) || !s.env_files.is_empty()
        });
        if !passed {
            out.push(
                Finding::fail(CheckId::CollectorEnvPassthrough, Layer::Compose, format!("{place}: the config reads ${{{}}}, but the {} service's environment does not pass it: it expands to nothing", reference.name, collector.service))
                    .var(&reference.name)
                    .fix(format!("add to services.{} ({}):  environment: {{{}: \"${{{}}}\"}}", collector.service, file.place(&collector.service, &["environment"]), reference.name, reference.name)),
            );
        } else if let Some(env) = ctx.service_env(&collector.service)
            && env
                .get(&reference.name)
                .is_some_and(|v| v.as_deref().unwrap_or("").is_empty())
            && !needed.iter().any(|v| v.name == reference.name)
        {
            out.push(
                Finding::fail(
                    CheckId::CollectorEnvPassthrough,
                    Layer::Compose,
                    format!(
                        "{place}: the config reads ${{{}}}, which is empty in the {} service",
                        reference.name, collector.service
                    ),
                )
                .var(&reference.name)
                .fix(super::env::set_command(ctx, &reference.name)),
            );
        }
    }
}

/// Who sends to this collector: a service's environment names it or its
/// port, or a frontend tracing file does.
fn is_referenced(ctx: &Context, file: &ComposeFile, collector: &str) -> bool {
    let ports: Vec<String> = file
        .service(collector)
        .map(|s| {
            s.ports
                .iter()
                .filter_map(|p| {
                    p.rsplit(':')
                        .next()
                        .map(|p| p.split('/').next().unwrap_or(p).to_string())
                })
                .collect()
        })
        .unwrap_or_default();
    let mentions = |text: &str| {
        text.contains(collector)
            || ports
                .iter()
                .any(|p| text.contains(&format!(":{p}")) || text.contains(&format!("{p}-")))
    };
    let in_env = file
        .services
        .iter()
        .filter(|s| s.name != collector)
        .flat_map(|s| s.environment.iter())
        .any(|(_, v)| v.as_deref().is_some_and(mentions));
    in_env || ctx.frontend.iter().any(|f| mentions(&f.live_text))
}

/// Browser spans reach a collector through a forwarded port with CORS: on
/// Gitpod that port must be declared public, or the browser's posts are
/// stopped at Gitpod's login.
fn check_browser_hop(
    ctx: &Context,
    file: &ComposeFile,
    collector: &CollectorService,
    config: &CollectorConfig,
    out: &mut Vec<Finding>,
) {
    let frontend_undefined = ctx
        .frontend
        .iter()
        .any(|f| f.env.iter().any(|e| !frontend_defines(file, &e.name)));
    // A frontend that reads an undefined variable is the reason nothing
    // arrives (frontend-env); the collector is still meant for the browser.
    if !is_referenced(ctx, file, &collector.service) && !frontend_undefined {
        out.push(
            Finding::warn(CheckId::CollectorUnused, Layer::Compose, format!("{}: nothing sends to {}: no service's environment and no frontend tracing file names it or its port", file.place(&collector.service, &[]), collector.service))
                .fix("point the exporter at it (the frontend's url, or OTEL_EXPORTER_OTLP_ENDPOINT: \"http://otel-collector:4318\"), or remove the service"),
        );
        return;
    }
    let Some(gitpod) = &ctx.gitpod_file else {
        return;
    };
    for protocol in config.otlp.iter().filter(|p| p.has_cors) {
        let port = protocol
            .endpoint
            .as_deref()
            .and_then(|e| e.rsplit(':').next()?.parse::<u16>().ok())
            .unwrap_or(if protocol.protocol == "grpc" {
                4317
            } else {
                4318
            });
        let declared = gitpod.ports.iter().find(|(p, _, _)| *p == port);
        let problem = match declared {
            None => format!("{} declares no port {port}", gitpod.path.display()),
            Some((_, Some(v), _)) if v == "public" => continue,
            Some((_, _, index)) => format!(
                "{}:{} does not make port {port} public",
                gitpod.path.display(),
                gitpod.port_line(*index).unwrap_or(0)
            ),
        };
        out.push(
            Finding::fail(CheckId::CollectorGitpodPort, Layer::Workspace, format!("{problem}: the browser's spans to the collector's forwarded port stop at Gitpod's login (ports are private by default)"))
                .fix(format!("add to ports in {}:  - port: {port}\n          visibility: public", gitpod.path.display())),
        );
    }
}

/// A key the browser's exporter is given as a literal: a real one is in
/// every visitor's browser and in the repository (secret-committed says
/// so); anything else is no key, and Honeycomb refuses every browser span.
fn check_frontend_keys(ctx: &Context, out: &mut Vec<Finding>) {
    for tracing in &ctx.frontend {
        for (line, key) in &tracing.literal_keys {
            if crate::rules::honeycomb::classify(key).is_some() {
                continue;
            }
            let place = format!("{}:{line}", tracing.path.display());
            out.push(
                Finding::fail(
                    CheckId::FrontendHoneycombKey,
                    Layer::Code,
                    format!("{place}: the browser's exporter is given {key:?} as its Honeycomb key, which is no key: Honeycomb answers 401 to every browser span"),
                )
                .fix(format!("{place}: process.env.REACT_APP_HONEYCOMB_API_KEY, with REACT_APP_HONEYCOMB_API_KEY: \"${{HONEYCOMB_API_KEY}}\" in the frontend service's environment (a key in the browser is public: use an ingest key)")),
            );
        }
    }
}

fn frontend_defines(file: &ComposeFile, name: &str) -> bool {
    file.services
        .iter()
        .filter(|s| s.name.starts_with("frontend"))
        .any(|s| s.environment.iter().any(|(k, _)| k == name) || !s.env_files.is_empty())
}

/// What Create React App's build defines in `process.env` itself.
const BUILD_DEFINED: &[&str] = &["NODE_ENV", "PUBLIC_URL", "FAST_REFRESH"];

/// A frontend tracing file reads `process.env.REACT_APP_X`, which only the
/// frontend service's environment can give it.
fn check_frontend_env(ctx: &Context, file: &ComposeFile, out: &mut Vec<Finding>) {
    let Some(frontend) = file
        .services
        .iter()
        .find(|s| s.name.starts_with("frontend"))
    else {
        return;
    };
    for tracing in &ctx.frontend {
        let mut reported: Vec<&str> = Vec::new();
        for used in &tracing.env {
            // The build defines these itself, whatever compose says.
            if BUILD_DEFINED.contains(&used.name.as_str())
                || frontend_defines(file, &used.name)
                || reported.contains(&used.name.as_str())
            {
                continue;
            }
            reported.push(&used.name);
            let place = format!("{}:{}", tracing.path.display(), used.line);
            let finding = if used.name.starts_with("REACT_APP_") {
                Finding::fail(CheckId::FrontendEnv, Layer::Compose, format!("{place}: the browser's exporter reads process.env.{}, which the {} service does not define: it becomes \"undefined\" and no browser span leaves", used.name, frontend.name))
                    .fix(format!("add to services.{}.environment ({}):  {}: \"https://4318-${{GITPOD_WORKSPACE_ID}}.${{GITPOD_WORKSPACE_CLUSTER_HOST}}\"", frontend.name, file.place(&frontend.name, &["environment"]), used.name))
            } else {
                Finding::fail(CheckId::FrontendEnv, Layer::Code, format!("{place}: the browser's exporter reads process.env.{}, but Create React App gives the browser only REACT_APP_* variables (and NODE_ENV, PUBLIC_URL): it is \"undefined\" there, whatever compose sets", used.name))
                    .fix(format!("{place}: process.env.REACT_APP_{}, and the same name in services.{}.environment", used.name, frontend.name))
            };
            out.push(finding.var(&used.name));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{SHELL, check_after, unchanged};
    use crate::doctor::finding::{CheckId, Status};

    /// Browser tracing as the lab's frontend writes it, propagating to the
    /// backend.
    fn browser_tracing(dir: &std::path::Path) {
        let src = dir.join("frontend-react-js/src");
        std::fs::create_dir_all(&src).unwrap();
        std::fs::write(
            src.join("tracing.js"),
            "import { FetchInstrumentation } from '@opentelemetry/instrumentation-fetch';\nregisterInstrumentations({ instrumentations: [new FetchInstrumentation({ propagateTraceHeaderCorsUrls: [/.*/] })] });\n",
        )
        .unwrap();
    }

    /// The CORS set-up of a course fork: its headers, without traceparent.
    fn without_traceparent(path: &str, text: String) -> String {
        if path == "backend-flask/app.py" {
            text.replace(",traceparent,tracestate\"", "\"")
        } else {
            text
        }
    }

    #[test]
    fn browser_tracing_needs_cors_to_allow_traceparent() {
        let blocked = check_after("honeycomb", without_traceparent, browser_tracing, SHELL);
        let edit = blocked.edit(CheckId::FrontendCorsTraceparent, Status::Fail);
        assert!(
            edit.new
                .contains("\"content-type,if-modified-since,traceparent,tracestate\""),
            "{edit:#?}"
        );
        // Without browser tracing, the same CORS is fine.
        let quiet = check_after("honeycomb", without_traceparent, |_| {}, SHELL);
        assert!(
            !quiet
                .ids(Status::Fail)
                .contains(&CheckId::FrontendCorsTraceparent)
        );
        // The generated app allows it: fine too.
        let generated = check_after("honeycomb", unchanged, browser_tracing, SHELL);
        assert!(
            !generated
                .ids(Status::Fail)
                .contains(&CheckId::FrontendCorsTraceparent)
        );
    }
}
