//! Every check the doctor makes, declared once: its id, its report
//! section, its default severity, whether it stops `tracelab run` (the
//! backend could not start, or could not export), and what it means.
//! `tracelab doctor --explain ID` prints an entry; `--ignore ID` and
//! `doctor: {ignore: [ID]}` in `.tracelab.yml` silence one.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Ok,
    /// True and worth knowing, but nothing to fix: never counted as a problem.
    Info,
    Warn,
    Fail,
    Skip,
}

pub struct CheckInfo {
    pub id: &'static str,
    pub group: &'static str,
    pub severity: Status,
    /// `tracelab run` refuses to start the backend on a problem of this id.
    pub blocks_run: bool,
    pub doc: &'static str,
}

const fn check(
    id: &'static str,
    group: &'static str,
    severity: Status,
    blocks_run: bool,
    doc: &'static str,
) -> CheckInfo {
    CheckInfo {
        id,
        group,
        severity,
        blocks_run,
        doc,
    }
}

use Status::{Fail, Info, Ok as Pass, Skip, Warn};

const WORKSPACE: &str = "Workspace";
const ENV: &str = "Environment variables";
const HONEYCOMB: &str = "Honeycomb";
const OTLP: &str = "OpenTelemetry exporter";
const COLLECTOR: &str = "OpenTelemetry Collector";
const XRAY: &str = "X-Ray";
const AWS: &str = "AWS (CloudWatch)";
const CODE: &str = "Code";
const PYTHON: &str = "Python";
const LAB: &str = "The lab's span";
const SECRETS: &str = "Committed secrets";
const CONTAINER: &str = "Running container";
const ONLINE: &str = "Online";
pub const DEEP: &str = "Deep run";

pub const CHECKS: &[CheckInfo] = &[
    check(
        "workspace-backends",
        WORKSPACE,
        Warn,
        false,
        "Which tracing backends the workspace uses, read from .tracelab.yml, else from the live code (an exporter, the X-Ray recorder, a watchtower handler, rollbar.init), else from compose and requirements. None found means nothing to trace.",
    ),
    check(
        "workspace-unreadable",
        WORKSPACE,
        Fail,
        true,
        "A file the backend needs is there but cannot be read as text: not a regular file (a FIFO or a device), over 5 MB, or not UTF-8. The build or the import that reads it fails too.",
    ),
    check(
        "compose-file",
        WORKSPACE,
        Fail,
        false,
        "The compose configuration and the service that runs the Flask backend: the one that sets OTEL_* variables, else the one built from a folder with app.py, else one named backend*.",
    ),
    check(
        "compose-invalid",
        WORKSPACE,
        Fail,
        true,
        "A compose file Compose refuses to read (not YAML, a file it cannot open): nothing starts. Everything that does not need the file is still checked; nothing that would follow from its settings is guessed.",
    ),
    check(
        "compose-conflict",
        WORKSPACE,
        Fail,
        true,
        "Merge-conflict markers (<<<<<<< ======= >>>>>>>) left in a compose file, by `tracelab add`/`update` or git: Compose cannot read it. Keep one side and delete the marker lines.",
    ),
    check(
        "compose-interpolation",
        WORKSPACE,
        Fail,
        true,
        "Compose cannot resolve the configuration: a ${VAR:?message} with VAR unset, an env_file that does not exist, a network that is not declared. `docker compose up` refuses the whole project.",
    ),
    check(
        "compose-quoted-value",
        WORKSPACE,
        Fail,
        false,
        "A compose value whose quotes are part of the value (`KEY: \"'abc'\"`, or a list entry `- KEY=\"abc\"`): the container gets the quotes, and a key or token with quotes is refused.",
    ),
    check(
        "compose-healthcheck",
        WORKSPACE,
        Warn,
        false,
        "The backend's healthcheck asks for a path no route of the app serves (@app.route, @app.get, add_url_rule): the container stays unhealthy. Telemetry still flows unless something waits on its health.",
    ),
    check(
        "env-set",
        ENV,
        Pass,
        false,
        "A variable the workspace needs, set in the layer Compose reads it from (the shell first, then .env).",
    ),
    check(
        "env-missing",
        ENV,
        Fail,
        true,
        "A variable the workspace needs is set in no layer: Compose gives the container an empty value. `tracelab env set NAME` (or `gp env` in Gitpod) sets it.",
    ),
    check(
        "env-key-misplaced",
        ENV,
        Warn,
        false,
        "A variable that is no key holds one (a Honeycomb key as OTEL_SERVICE_NAME, an AWS key id in an address): the app sends it where it does not belong, in plain sight, and the variable does not do its job.",
    ),
    check(
        "env-near-miss",
        ENV,
        Fail,
        true,
        "A variable set under a name one letter or two away from the one the workspace reads (API_HONEYCOMB_KEY for HONEYCOMB_API_KEY): the right name stays unset. The fix renames it.",
    ),
    check(
        "env-placeholder",
        ENV,
        Fail,
        true,
        "A variable holds a placeholder copied from the instructions (`<API KEY>`, `your-api-key`, `changeme`, an empty string) instead of the real value.",
    ),
    check(
        "env-quotes-whitespace",
        ENV,
        Fail,
        true,
        "A value with quotes or spaces around it, which Compose and the SDKs keep as part of the value.",
    ),
    check(
        "env-shape",
        ENV,
        Fail,
        false,
        "A value that does not have the shape of what it holds: a Honeycomb key, an AWS key id or secret, a region (`can-central-1`), a Rollbar token. Unusual but possible shapes are warnings.",
    ),
    check(
        "env-mismatch",
        ENV,
        Warn,
        false,
        "A variable that differs between the shell, .env and Gitpod: Compose takes the shell's, so the value in the other layer is not the one used.",
    ),
    check(
        "env-not-persisted",
        ENV,
        Warn,
        false,
        "In Gitpod, a variable set in this shell only: a new terminal or workspace will not have it. `gp env NAME=value` keeps it for the next workspaces.",
    ),
    check(
        "env-passthrough",
        ENV,
        Fail,
        false,
        "The backend reads a variable (boto3's AWS keys and region, Rollbar's token) that its compose service does not pass into the container through `environment:` or `env_file:`.",
    ),
    check(
        "env-secret-in-compose",
        ENV,
        Fail,
        false,
        "A secret written into the compose file instead of interpolated (`${NAME}`): it is committed with the repository.",
    ),
    check(
        "honeycomb-header",
        HONEYCOMB,
        Fail,
        true,
        "The x-honeycomb-team header the backend sends: present, and holding a well-formed key. Without it every batch gets 401.",
    ),
    check(
        "honeycomb-header-key",
        HONEYCOMB,
        Fail,
        true,
        "The key in the header is written into the file, or is not the key in your shell: the container sends a different key from the one you set.",
    ),
    check(
        "honeycomb-key-shape",
        HONEYCOMB,
        Fail,
        true,
        "The Honeycomb key has no known shape (ingest `hcaik_`/`hcxik_` keys of 64 characters, configuration keys of 22-23, classic keys of 32 hex).",
    ),
    check(
        "honeycomb-classic-dataset",
        HONEYCOMB,
        Warn,
        false,
        "A classic key routes spans by the x-honeycomb-dataset header, not by service.name: without it they land in a dataset you did not name.",
    ),
    check(
        "honeycomb-container-key",
        HONEYCOMB,
        Fail,
        false,
        "The running container holds another key than the one Compose would give it now: it was started before the key was set. `docker compose up -d` recreates it.",
    ),
    check(
        "otlp-endpoint",
        OTLP,
        Fail,
        true,
        "OTEL_EXPORTER_OTLP_ENDPOINT is a base URL with a scheme; the HTTP exporter appends /v1/traces itself (a base ending in /v1/traces becomes /v1/traces/v1/traces, 404). Unset, spans go to localhost:4318 inside the container.",
    ),
    check(
        "otlp-endpoint-host",
        OTLP,
        Fail,
        true,
        "The endpoint's host as the backend sees it: localhost inside a container is the container itself, a bare name must be a compose service (or its container_name, hostname or alias).",
    ),
    check(
        "otlp-endpoint-network",
        OTLP,
        Fail,
        false,
        "The endpoint names a compose service on no network the backend is on: the name does not resolve.",
    ),
    check(
        "otlp-protocol",
        OTLP,
        Fail,
        true,
        "OTEL_EXPORTER_OTLP_PROTOCOL against the endpoint's port: the HTTP exporter pointed at 4317 (gRPC) fails, and the reverse.",
    ),
    check(
        "otlp-headers-format",
        OTLP,
        Fail,
        true,
        "OTEL_EXPORTER_OTLP_HEADERS as the Python SDK parses it: `name=value` pairs, comma-separated; a quoted value or `name:value` is dropped with \"Header format invalid!\".",
    ),
    check(
        "otlp-variable-name",
        OTLP,
        Fail,
        true,
        "A misspelt OTEL variable (OLTP, API_HONEYCOMB_KEY): the SDK never reads it.",
    ),
    check(
        "otlp-service-name",
        OTLP,
        Fail,
        false,
        "The service name spans carry: OTEL_SERVICE_NAME, service.name in OTEL_RESOURCE_ATTRIBUTES, or a Resource in code. Unset, they land in unknown_service; one letter off, in a dataset of their own.",
    ),
    check(
        "collector-config",
        COLLECTOR,
        Fail,
        false,
        "The collector's config, found through its --config flag and the service's bind mounts, cannot be read.",
    ),
    check(
        "collector-receiver-bind",
        COLLECTOR,
        Fail,
        false,
        "Since v0.104 an OTLP receiver with no endpoint binds localhost: nothing outside the collector's container reaches it. `endpoint: 0.0.0.0:4318` (4317 for gRPC).",
    ),
    check(
        "collector-removed-component",
        COLLECTOR,
        Fail,
        false,
        "The config names a component the image no longer has (the `logging` exporter, removed in v0.111): the collector exits at start.",
    ),
    check(
        "collector-undefined-component",
        COLLECTOR,
        Fail,
        false,
        "A pipeline names a receiver, processor or exporter that is not defined above it: the collector refuses the config.",
    ),
    check(
        "collector-env-syntax",
        COLLECTOR,
        Fail,
        false,
        "Since v0.104 a bare $VAR in the config is not expanded; ${VAR} and ${env:VAR} are.",
    ),
    check(
        "collector-env-passthrough",
        COLLECTOR,
        Fail,
        false,
        "The config reads a variable the collector's compose service does not pass into its container.",
    ),
    check(
        "collector-honeycomb",
        COLLECTOR,
        Fail,
        false,
        "The collector's exporter to Honeycomb: the right host, and an x-honeycomb-team header.",
    ),
    check(
        "collector-gitpod-port",
        COLLECTOR,
        Fail,
        false,
        "The browser sends spans to the collector through a forwarded port: in Gitpod it must be declared in .gitpod.yml, public.",
    ),
    check(
        "collector-image-tag",
        COLLECTOR,
        Warn,
        false,
        "An unpinned collector image (no tag, or latest) pulls today's version, where older configs break.",
    ),
    check(
        "collector-unused",
        COLLECTOR,
        Warn,
        false,
        "A collector service nothing sends to: the backend and the browser export elsewhere.",
    ),
    check(
        "frontend-env",
        COLLECTOR,
        Fail,
        false,
        "The browser's exporter reads process.env.X at build time: Create React App gives it only REACT_APP_* variables (and NODE_ENV, PUBLIC_URL), from the frontend service's environment.",
    ),
    check(
        "xray-sdk-disabled",
        XRAY,
        Fail,
        false,
        "AWS_XRAY_SDK_ENABLED=false (any case) turns the X-Ray SDK off: no segment is sent.",
    ),
    check(
        "xray-daemon",
        XRAY,
        Pass,
        false,
        "Where the SDK's segments go: the daemon service, with credentials and a region.",
    ),
    check(
        "xray-daemon-address",
        XRAY,
        Fail,
        false,
        "AWS_XRAY_DAEMON_ADDRESS is host:port (no URL) naming a container that exists: unset, the SDK sends to 127.0.0.1:2000 inside the backend's own container.",
    ),
    check(
        "xray-daemon-network",
        XRAY,
        Fail,
        false,
        "The daemon is on no network the backend is on: the SDK's UDP segments go nowhere.",
    ),
    check(
        "xray-daemon-flags",
        XRAY,
        Fail,
        false,
        "The daemon's command line as Go's flag parser reads it after the image's entrypoint: `-n` takes the next word as the region; a one-string command is one argument and none of its flags apply.",
    ),
    check(
        "xray-daemon-region",
        XRAY,
        Fail,
        false,
        "The daemon's region (AWS_REGION or -n): missing or malformed, it exits; another than the one you work in, your segments are in that region's console, not yours.",
    ),
    check(
        "xray-daemon-credentials",
        XRAY,
        Fail,
        false,
        "The daemon signs its uploads with AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or a mounted ~/.aws, or AWS_PROFILE.",
    ),
    check(
        "aws-session-token",
        AWS,
        Fail,
        false,
        "A temporary key (ASIA...) needs AWS_SESSION_TOKEN beside it.",
    ),
    check(
        "xray-sampling-rule",
        XRAY,
        Info,
        false,
        "The sampling rule file's ServiceName against the recorder's service name: a rule that matches no service never applies, and the default rule samples instead.",
    ),
    check(
        "aws-region",
        AWS,
        Fail,
        false,
        "boto3 (watchtower, CloudWatch Logs) reads AWS_DEFAULT_REGION only; without it the backend fails at import.",
    ),
    check(
        "code-syntax",
        CODE,
        Fail,
        true,
        "A file of the backend Python cannot compile (or read as UTF-8): importing it raises, so the backend does not start.",
    ),
    check(
        "code-xray-middleware-order",
        CODE,
        Fail,
        true,
        "XRayMiddleware(app, ...) before `app = Flask(...)`: a NameError at import, or a middleware that wraps nothing.",
    ),
    check(
        "code-flask-instrumentation-order",
        CODE,
        Fail,
        false,
        "FlaskInstrumentor().instrument_app(app) before the app exists: requests make no server spans.",
    ),
    check(
        "code-before-first-request",
        CODE,
        Fail,
        true,
        "@app.before_first_request was removed in Flask 2.3: with Flask unpinned or newer, importing app.py raises AttributeError.",
    ),
    check(
        "code-unattached-processor",
        CODE,
        Fail,
        false,
        "A span processor created but never added to the provider does nothing; one added twice exports every span twice.",
    ),
    check(
        "code-provider-not-set",
        CODE,
        Fail,
        true,
        "A TracerProvider that is never set with trace.set_tracer_provider: spans go to the no-op provider.",
    ),
    check(
        "code-instrumentor",
        CODE,
        Fail,
        true,
        "No Flask instrumentation: FlaskInstrumentor().instrument_app(app), or the global instrument() before Flask is imported (checked against the real SDK), or the opentelemetry-instrument wrapper.",
    ),
    check(
        "code-requirements",
        CODE,
        Fail,
        true,
        "The code imports a module nothing in requirements.txt installs: ModuleNotFoundError at import.",
    ),
    check(
        "code-unreachable",
        CODE,
        Fail,
        false,
        "A telemetry call after a return or raise: it never runs.",
    ),
    check(
        "code-span-ended",
        CODE,
        Fail,
        false,
        "An attribute or event on a span after its `with` block ended: the SDK drops it (\"Setting attribute on ended span\").",
    ),
    check(
        "code-attribute-value",
        CODE,
        Fail,
        false,
        "A span attribute the SDK drops: a bound method (`now.isoformat` without the call), a dict, a list of mixed or non-primitive values.",
    ),
    check(
        "code-annotation-value",
        CODE,
        Fail,
        false,
        "An X-Ray annotation that is not a str, number or bool: the SDK drops it.",
    ),
    check(
        "code-api-assigned",
        CODE,
        Fail,
        false,
        "A set-up API assigned to instead of called (`XRayMiddleware = (app, xray_recorder)`), or named on a line of its own without the call (`FlaskInstrumentor().instrument_app`): nothing is installed.",
    ),
    check(
        "code-xray-segment",
        CODE,
        Fail,
        false,
        "begin_segment inside a request XRayMiddleware already traces replaces its segment (HTTP 500); at import, a segment never ended.",
    ),
    check(
        "code-xray-subsegment",
        CODE,
        Fail,
        false,
        "begin_subsegment not ended on every path: the subsegment is never sent, and later ones nest under it.",
    ),
    check(
        "code-rollbar-init",
        CODE,
        Fail,
        false,
        "rollbar.init in a per-request hook: it runs again on every request.",
    ),
    check(
        "code-rollbar-token",
        CODE,
        Fail,
        false,
        "rollbar.init given the literal text '${ROLLBAR_ACCESS_TOKEN}': Python does not interpolate; read os.environ instead.",
    ),
    check(
        "code-app",
        CODE,
        Pass,
        false,
        "The backend's Python read: instrumentation in order, processors added, spans and segments closed.",
    ),
    check(
        "python-undefined-name",
        PYTHON,
        Fail,
        false,
        "A name nothing binds (Ruff's pyflakes F821, F823: a commented-out import or definition, a typo) in code that runs: at import, NameError and the backend does not start (a problem); in a function a route or hook reaches, that request fails with HTTP 500 (a warning: its span still arrives). Code nothing runs is not judged.",
    ),
    check(
        "python-call-arity",
        PYTHON,
        Fail,
        false,
        "A project function called with arguments it does not take (TypeError, as CPython words it): at import a problem, in a request a warning. Calls with *args or **kwargs, and decorated functions, are not judged.",
    ),
    check(
        "python-import",
        PYTHON,
        Fail,
        false,
        "An import of a module or name that the installed package does not have (`aws_xray_sdk.flask.middleware`), judged against a table of the workspace's packages at tracelab's pins (src/rules/python_modules.txt, generated from the real packages): ModuleNotFoundError or ImportError at import. Packages outside the table, or pinned to another version, are not judged; a package left unpinned (pip installs the latest) is judged only where the table knows the module the imported name does live in.",
    ),
    check(
        "python-never-called",
        PYTHON,
        Fail,
        false,
        "A function that holds the backend's set-up (rollbar.init, set_tracer_provider, add_span_processor, instrument_app, XRayMiddleware) and that nothing calls, registers or passes: that backend stays silent.",
    ),
    check(
        "lab-span",
        LAB,
        Warn,
        false,
        "The lab's manual span and its attributes app.now and app.result_length: renamed, the lab's queries find nothing.",
    ),
    check(
        "secret-committed",
        SECRETS,
        Fail,
        false,
        "A key or token written into a file the repository commits (a Dockerfile ENV, a frontend file, a journal): it leaks with the repository.",
    ),
    check(
        "container-env",
        CONTAINER,
        Skip,
        false,
        "The running backend container's environment (docker compose exec), compared with what Compose would give it now.",
    ),
    check(
        "container-export-errors",
        CONTAINER,
        Fail,
        false,
        "The running backend's log shows the exporter failing (\"Failed to export span batch code: 401\", a connection refused).",
    ),
    check(
        "container-spans-dropped",
        CONTAINER,
        Warn,
        false,
        "The running backend's log shows spans dropped (\"Queue full\"): a receiver that cannot keep up, or too many spans for the batch queue.",
    ),
    check(
        "online-honeycomb-auth",
        ONLINE,
        Fail,
        false,
        "With --online: Honeycomb's /1/auth says who the key belongs to (team, environment), or that it is unknown (401).",
    ),
    check(
        "online-test-span",
        ONLINE,
        Fail,
        false,
        "With --online: one real span sent where the backend sends, and what the endpoint answered.",
    ),
    check(
        "deep-prepare",
        DEEP,
        Fail,
        false,
        "With --deep: the backend's venv could not be made or its requirements installed (no Python on PATH, a package that does not install), so it was not started.",
    ),
    check(
        "deep-start",
        DEEP,
        Fail,
        false,
        "With --deep: the backend, started as `tracelab run` starts it, exited or did not answer its port within 30 s; the exception and file:line from its traceback, else its last lines.",
    ),
    check(
        "deep-route",
        DEEP,
        Fail,
        false,
        "With --deep: a GET route without path parameters answered 500 (the exception and the innermost project file:line of its traceback) or did not answer.",
    ),
    check(
        "deep-spans",
        DEEP,
        Fail,
        false,
        "With --deep: the spans that arrived for each route asked, with their service; none at all, no server span for a route, or spans under unknown_service.",
    ),
    check(
        "deep-lab-span",
        DEEP,
        Warn,
        false,
        "With --deep: the lab's manual span under /api/activities/home, with app.now and app.result_length; each one missing is named.",
    ),
    check(
        "deep-xray",
        DEEP,
        Fail,
        false,
        "With --deep: the X-Ray segments that reached the stand-in daemon, their names, faults, and subsegments still open when their segment was sent.",
    ),
    check(
        "deep-sdk-warning",
        DEEP,
        Fail,
        false,
        "With --deep: what the SDKs logged when they dropped data (an attribute of a type OpenTelemetry does not take, tied to its set_attribute line; an export that failed; an X-Ray subsegment with no segment).",
    ),
];

/// The entry for `id`.
pub fn lookup(id: &str) -> Option<&'static CheckInfo> {
    CHECKS.iter().find(|c| c.id == id)
}

/// `--explain ID`: the entry as a student reads it.
pub fn explain(id: &str) -> Option<String> {
    let check = lookup(id)?;
    let severity = match check.severity {
        Fail => "a problem",
        Warn => "a warning",
        Info => "information",
        Pass | Skip => "a report line",
    };
    let run = if check.blocks_run {
        "\n`tracelab run` refuses to start the backend while this is a problem."
    } else {
        ""
    };
    Some(format!(
        "{} ({}, {severity} by default)\n\n{}{run}\n\nSilence it: tracelab doctor --ignore {}, or in .tracelab.yml:\n  doctor:\n    ignore: [{}]",
        check.id, check.group, check.doc, check.id, check.id
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every id a check can report is declared here, and every entry here
    /// is reported by some check: the source is the judge.
    #[test]
    fn the_registry_and_the_checks_name_the_same_ids() {
        let source_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/doctor");
        let mut text = String::new();
        let mut stack = vec![source_dir];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(dir).unwrap().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    stack.push(path);
                } else if path.file_name().is_some_and(|n| n != "registry.rs") {
                    text.push_str(&std::fs::read_to_string(path).unwrap());
                }
            }
        }
        let constructed = regex::Regex::new(
            r#"(?s)(?:Finding::(?:fail|warn|info|ok|skip)|finding|f)\(\s*"([a-z0-9-]+)""#,
        )
        .unwrap();
        for found in constructed.captures_iter(&text) {
            assert!(lookup(&found[1]).is_some(), "{} is not declared", &found[1]);
        }
        for check in CHECKS {
            assert!(
                text.contains(&format!("\"{}\"", check.id)),
                "{} is declared but no check reports it",
                check.id
            );
        }
        let mut ids: Vec<&str> = CHECKS.iter().map(|c| c.id).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), CHECKS.len(), "an id is declared twice");
    }

    #[test]
    fn explain_says_what_and_how_to_silence() {
        let text = explain("xray-daemon-region").unwrap();
        assert!(text.contains("X-Ray"));
        assert!(text.contains("--ignore xray-daemon-region"));
        assert!(explain("no-such-check").is_none());
    }
}
