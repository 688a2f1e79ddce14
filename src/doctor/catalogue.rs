//! Every check the doctor makes, declared once: the typed id a finding
//! carries, its report section, the statuses it may report and when,
//! whether it stops `tracelab run` (the backend could not start, or could
//! not export), and what it means. A finding's section and allowed statuses
//! come from here (ruff's `Rule` and dotenv-linter's `LintKind` are the
//! models). `tracelab doctor --explain ID` prints an entry, `--ignore ID`
//! and `doctor: {ignore: [ID]}` in `.tracelab.yml` silence one, and the
//! README's table of checks is this list (`tracelab doctor --list-checks`).

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// A report line: what was checked and found right.
    Ok,
    /// True and worth knowing, but nothing to fix: never counted as a problem.
    Info,
    /// Spans arrive, but not where the student will look, or the lab misses
    /// what it asks.
    Warn,
    /// The backend cannot start, or nothing arrives.
    Fail,
    /// Not checked, and why.
    Skip,
}

impl Status {
    pub fn name(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Info => "info",
            Status::Warn => "warn",
            Status::Fail => "fail",
            Status::Skip => "skip",
        }
    }

    /// How `--explain` says it.
    fn described(self) -> &'static str {
        match self {
            Status::Fail => "a problem",
            Status::Warn => "a warning",
            Status::Info => "a note",
            Status::Ok => "a passing line",
            Status::Skip => "a skipped line",
        }
    }
}

/// A section of the report, in the order the report shows them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Group {
    Workspace,
    Environment,
    Honeycomb,
    Exporter,
    Collector,
    Xray,
    Aws,
    Code,
    Python,
    Lab,
    Secrets,
    Container,
    Online,
    Deep,
}

impl Group {
    pub fn title(self) -> &'static str {
        match self {
            Group::Workspace => "Workspace",
            Group::Environment => "Environment variables",
            Group::Honeycomb => "Honeycomb",
            Group::Exporter => "OpenTelemetry exporter",
            Group::Collector => "OpenTelemetry Collector",
            Group::Xray => "X-Ray",
            Group::Aws => "AWS (CloudWatch)",
            Group::Code => "Code",
            Group::Python => "Python",
            Group::Lab => "The lab's span",
            Group::Secrets => "Committed secrets",
            Group::Container => "Running container",
            Group::Online => "Online",
            Group::Deep => "Deep run",
        }
    }
}

/// A status a check may report, and when (None: whenever it reports; the
/// doc says when).
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Reports {
    pub status: Status,
    pub when: Option<&'static str>,
}

/// When a Python error is a problem, a warning or a note: as grave as
/// where it runs (`checks::python::finding` decides it; the checks whose
/// finding it makes declare it so).
const RAISES_AT_IMPORT: &str = "at import: the backend does not start";
const RAISES_IN_A_LAB_REQUEST: &str = "in a request on the lab's route, or in code that sends telemetry: HTTP 500, and the lab's span or that telemetry is lost";
const RAISES_IN_ANOTHER_REQUEST: &str =
    "in any other request: HTTP 500, its span still arrives, marked as an error";

/// Declares `CheckId`, one variant per check, with its entry.
macro_rules! catalogue {
    ($(
        $(#[doc = $doc:literal])+
        $variant:ident = $id:literal {
            group: $group:ident,
            blocks_run: $blocks:literal,
            statuses: [$($status:ident $(: $when:expr)?),+ $(,)?],
        }
    )+) => {
        /// The id of a check: what a finding carries, `--explain` and
        /// `--ignore` take, and `--json` prints as its string.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum CheckId {
            $($(#[doc = $doc])+ $variant,)+
        }

        impl CheckId {
            /// Every check, in the catalogue's order.
            pub const ALL: &'static [CheckId] = &[$(CheckId::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $(CheckId::$variant => $id,)+
                }
            }

            pub fn group(self) -> Group {
                match self {
                    $(CheckId::$variant => Group::$group,)+
                }
            }

            /// `tracelab run` refuses to start the backend on a problem of this id.
            pub fn blocks_run(self) -> bool {
                match self {
                    $(CheckId::$variant => $blocks,)+
                }
            }

            /// The statuses it may report, each with when.
            pub fn statuses(self) -> &'static [Reports] {
                match self {
                    $(CheckId::$variant => &[$(Reports {
                        status: Status::$status,
                        when: catalogue!(@when $($when)?),
                    }),+],)+
                }
            }

            /// What it checks, as its doc comment says it.
            fn doc_lines(self) -> &'static [&'static str] {
                match self {
                    $(CheckId::$variant => &[$($doc),+],)+
                }
            }
        }
    };
    (@when $when:expr) => { Some($when) };
    (@when) => { None };
}

impl CheckId {
    pub fn parse(id: &str) -> Option<CheckId> {
        CheckId::ALL.iter().copied().find(|c| c.as_str() == id)
    }

    pub fn allows(self, status: Status) -> bool {
        self.statuses().iter().any(|r| r.status == status)
    }

    /// The doc comment as one paragraph.
    pub fn doc(self) -> String {
        self.doc_lines()
            .iter()
            .map(|line| line.trim())
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// The gravest status it may report: what `--explain` calls it.
    pub fn severity(self) -> Status {
        self.statuses()
            .iter()
            .map(|r| r.status)
            .filter(|s| *s != Status::Skip)
            .max()
            .unwrap_or(Status::Skip)
    }
}

impl std::fmt::Display for CheckId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for CheckId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// `--explain ID --json`: the entry as data.
#[derive(Serialize)]
pub struct Entry {
    pub id: CheckId,
    pub group: &'static str,
    pub statuses: &'static [Reports],
    pub blocks_run: bool,
    pub doc: String,
}

impl From<CheckId> for Entry {
    fn from(id: CheckId) -> Entry {
        Entry {
            id,
            group: id.group().title(),
            statuses: id.statuses(),
            blocks_run: id.blocks_run(),
            doc: id.doc(),
        }
    }
}

/// `--explain ID`: the entry as a student reads it.
pub fn explain(id: CheckId) -> String {
    let reports: Vec<String> = id
        .statuses()
        .iter()
        .map(|r| match r.when {
            Some(when) => format!("  {}: {when}", r.status.described()),
            None => format!("  {}", r.status.described()),
        })
        .collect();
    let run = if id.blocks_run() {
        "\n`tracelab run` refuses to start the backend while this is a problem."
    } else {
        ""
    };
    format!(
        "{id} ({}, {} by default)\n\n{}\n\nReports:\n{}{run}\n\nSilence it: tracelab doctor --ignore {id}, or in .tracelab.yml:\n  doctor:\n    ignore: [{id}]",
        id.group().title(),
        id.severity().described(),
        id.doc(),
        reports.join("\n"),
    )
}

/// The README's table of checks, one row per check, in the report's order.
pub fn markdown_table() -> String {
    let mut ids = CheckId::ALL.to_vec();
    ids.sort_by_key(|id| id.group());
    let mut table = String::from(
        "| id | section | reports | stops `run` | what it means |\n| --- | --- | --- | --- | --- |\n",
    );
    for id in ids {
        let statuses: Vec<&str> = id.statuses().iter().map(|r| r.status.name()).collect();
        table.push_str(&format!(
            "| `{id}` | {} | {} | {} | {} |\n",
            id.group().title(),
            statuses.join(", "),
            if id.blocks_run() { "yes" } else { "" },
            id.doc().replace('|', "\\|")
        ));
    }
    table
}

catalogue! {
    /// Which tracing backends the workspace uses, read from .tracelab.yml, else
    /// from the live code (an exporter, the X-Ray recorder, a watchtower
    /// handler, rollbar.init), else from compose and requirements. None found
    /// means nothing to trace.
    WorkspaceBackends = "workspace-backends" {
        group: Workspace,
        blocks_run: false,
        statuses: [
            Ok: "the backends in use",
            Warn: "none found: nothing to trace",
        ],
    }
    /// A file the backend needs is there but cannot be read as text: not a
    /// regular file (a FIFO or a device), over 5 MB, or not UTF-8. The build or
    /// the import that reads it fails too.
    WorkspaceUnreadable = "workspace-unreadable" {
        group: Workspace,
        blocks_run: true,
        statuses: [Fail],
    }
    /// The compose configuration and the service that runs the Flask backend:
    /// the one that sets OTEL_* variables, else the one built from a folder
    /// with app.py, else one named backend*.
    ComposeFile = "compose-file" {
        group: Workspace,
        blocks_run: false,
        statuses: [
            Ok: "the file and the backend service it runs",
            Warn: "no compose file (the shell is checked as the app's environment); one Compose finds only with -f (Docker-compose.yml); or a variant compose file that wires no tracing at all (one finding for all it lacks)",
            Fail: "no service runs the backend",
        ],
    }
    /// A compose file Compose refuses to read (not YAML, a file it cannot
    /// open): nothing starts. Everything that does not need the file is still
    /// checked; nothing that would follow from its settings is guessed.
    ComposeInvalid = "compose-invalid" {
        group: Workspace,
        blocks_run: true,
        statuses: [Fail],
    }
    /// Merge-conflict markers (<<<<<<< ======= >>>>>>>) left in a compose file,
    /// by `tracelab add`/`update` or git: Compose cannot read it. Keep one side
    /// and delete the marker lines.
    ComposeConflict = "compose-conflict" {
        group: Workspace,
        blocks_run: true,
        statuses: [Fail],
    }
    /// Compose cannot resolve the configuration: a ${VAR:?message} with VAR
    /// unset, an env_file that does not exist, a network that is not declared.
    /// `docker compose up` refuses the whole project.
    ComposeInterpolation = "compose-interpolation" {
        group: Workspace,
        blocks_run: true,
        statuses: [Fail],
    }
    /// An `image:` that interpolates to no reference Docker takes
    /// (`${DOCKER_USERNAME}/app:latest` with the variable set nowhere is
    /// `/app:latest`): `docker compose config` passes it, but `up --build`
    /// cannot tag the image (invalid reference format) and the service never
    /// starts.
    ComposeImageReference = "compose-image-reference" {
        group: Workspace,
        blocks_run: false,
        statuses: [Fail],
    }
    /// A Dockerfile a service builds whose exec-form CMD, ENTRYPOINT or RUN
    /// (`["npm", "start" "-r"]`, a comma missing, or single quotes) is not a
    /// JSON array: Docker runs the text as a shell command, `/bin/sh: [npm,:
    /// not found`, and the container exits (RUN fails the build). Or an
    /// exec-form command that runs a script git records as not executable
    /// (100644, no `RUN chmod +x`): "permission denied".
    DockerfileCommand = "dockerfile-command" {
        group: Workspace,
        blocks_run: false,
        statuses: [Fail],
    }
    /// A compose value whose quotes are part of the value (`KEY: "'abc'"`, or a
    /// list entry `- KEY="abc"`): the container gets the quotes, and a key or
    /// token with quotes is refused.
    ComposeQuotedValue = "compose-quoted-value" {
        group: Workspace,
        blocks_run: false,
        statuses: [
            Fail: "a key, token or address with its quotes",
            Warn: "the service name with its quotes: the spans' dataset is called so",
        ],
    }
    /// The backend's healthcheck asks for a path no route of the app serves
    /// (@app.route, @app.get, add_url_rule): the container stays unhealthy.
    /// Telemetry still flows unless something waits on its health.
    ComposeHealthcheck = "compose-healthcheck" {
        group: Workspace,
        blocks_run: false,
        statuses: [Warn],
    }
    /// A variable the workspace needs, set in the layer Compose reads it from
    /// (the shell first, then .env).
    EnvSet = "env-set" {
        group: Environment,
        blocks_run: false,
        statuses: [Ok],
    }
    /// A variable the workspace needs is set in no layer: Compose gives the
    /// container an empty value. `tracelab env set NAME` (or `gp env` in
    /// Gitpod) sets it.
    EnvMissing = "env-missing" {
        group: Environment,
        blocks_run: true,
        statuses: [Fail],
    }
    /// A variable that is no key holds one (a Honeycomb key as
    /// OTEL_SERVICE_NAME, an AWS key id in an address): the app sends it where
    /// it does not belong, in plain sight, and the variable does not do its
    /// job.
    EnvKeyMisplaced = "env-key-misplaced" {
        group: Environment,
        blocks_run: false,
        statuses: [Warn],
    }
    /// A variable set under a name one letter or two away from the one the
    /// workspace reads (API_HONEYCOMB_KEY for HONEYCOMB_API_KEY): the right
    /// name stays unset. The fix renames it.
    EnvNearMiss = "env-near-miss" {
        group: Environment,
        blocks_run: true,
        statuses: [
            Fail: "the right name is set nowhere: it stays unset",
            Warn: "the right name is set too: the near name is a leftover that does nothing",
        ],
    }
    /// A variable holds a placeholder copied from the instructions (`<API
    /// KEY>`, `your-api-key`, `changeme`, an empty string) instead of the real
    /// value.
    EnvPlaceholder = "env-placeholder" {
        group: Environment,
        blocks_run: true,
        statuses: [
            Fail: "the value Compose uses",
            Warn: "a value another layer's shadows: not used now, used where that layer is absent",
        ],
    }
    /// A value with quotes or spaces around it, which Compose and the SDKs keep
    /// as part of the value.
    EnvQuotesWhitespace = "env-quotes-whitespace" {
        group: Environment,
        blocks_run: true,
        statuses: [
            Fail: "the value Compose uses",
            Warn: "a value another layer's shadows: not used now, used where that layer is absent",
        ],
    }
    /// A value that does not have the shape of what it holds: a Honeycomb key,
    /// an AWS key id or secret, a region (`can-central-1`), a Rollbar token.
    /// Unusual but possible shapes are warnings.
    EnvShape = "env-shape" {
        group: Environment,
        blocks_run: false,
        statuses: [
            Fail: "the value Compose uses cannot be what it holds",
            Warn: "an unusual but possible shape, or a wrong one that another layer's value shadows",
        ],
    }
    /// A variable that differs between the shell, .env and Gitpod: Compose
    /// takes the shell's, so the value in the other layer is not the one used.
    EnvMismatch = "env-mismatch" {
        group: Environment,
        blocks_run: false,
        statuses: [Fail],
    }
    /// In Gitpod, a variable set in this shell only: a new terminal or
    /// workspace will not have it. `gp env NAME=value` keeps it for the next
    /// workspaces.
    EnvNotPersisted = "env-not-persisted" {
        group: Environment,
        blocks_run: false,
        statuses: [Warn],
    }
    /// The backend reads a variable (boto3's AWS keys and region, Rollbar's
    /// token) that its compose service does not pass into the container through
    /// `environment:` or `env_file:`.
    EnvPassthrough = "env-passthrough" {
        group: Environment,
        blocks_run: false,
        statuses: [Fail],
    }
    /// A secret written into the compose file instead of interpolated
    /// (`${NAME}`): it is committed with the repository.
    EnvSecretInCompose = "env-secret-in-compose" {
        group: Environment,
        blocks_run: false,
        statuses: [Fail],
    }
    /// The x-honeycomb-team header the backend sends: present, and holding a
    /// well-formed key. Without it every batch gets 401.
    HoneycombHeader = "honeycomb-header" {
        group: Honeycomb,
        blocks_run: true,
        statuses: [
            Ok: "the header sends a key (its fingerprint)",
            Fail: "no usable x-honeycomb-team header: Honeycomb answers 401",
        ],
    }
    /// The key in the header is written into the file, or is not the key in
    /// your shell: the container sends a different key from the one you set.
    HoneycombHeaderKey = "honeycomb-header-key" {
        group: Honeycomb,
        blocks_run: true,
        statuses: [Fail],
    }
    /// The Honeycomb key has no known shape (ingest `hcaik_`/`hcxik_` keys of
    /// 64 characters, configuration keys of 22-23, classic keys of 32 hex).
    HoneycombKeyShape = "honeycomb-key-shape" {
        group: Honeycomb,
        blocks_run: true,
        statuses: [Fail],
    }
    /// A classic key routes spans by the x-honeycomb-dataset header, not by
    /// service.name: without it they land in a dataset you did not name.
    HoneycombClassicDataset = "honeycomb-classic-dataset" {
        group: Honeycomb,
        blocks_run: false,
        statuses: [Fail],
    }
    /// The running container holds another key than the one Compose would give
    /// it now: it was started before the key was set. `docker compose up -d`
    /// recreates it.
    HoneycombContainerKey = "honeycomb-container-key" {
        group: Honeycomb,
        blocks_run: false,
        statuses: [Fail],
    }
    /// OTEL_EXPORTER_OTLP_ENDPOINT is a base URL with a scheme; the HTTP
    /// exporter appends /v1/traces itself (a base ending in /v1/traces becomes
    /// /v1/traces/v1/traces, 404). Unset, spans go to localhost:4318 inside the
    /// container.
    OtlpEndpoint = "otlp-endpoint" {
        group: Exporter,
        blocks_run: true,
        statuses: [
            Ok: "the endpoint the spans go to",
            Fail: "unset, malformed or doubled: spans go nowhere",
        ],
    }
    /// The endpoint's host as the backend sees it: localhost inside a container
    /// is the container itself, a bare name must be a compose service (or its
    /// container_name, hostname or alias).
    OtlpEndpointHost = "otlp-endpoint-host" {
        group: Exporter,
        blocks_run: false,
        statuses: [
            Warn: "spans go to a host that is not Honeycomb's: a local collector, or a typo of an API host",
        ],
    }
    /// The endpoint names a compose service on no network the backend is on:
    /// the name does not resolve.
    OtlpEndpointNetwork = "otlp-endpoint-network" {
        group: Exporter,
        blocks_run: false,
        statuses: [Fail],
    }
    /// OTEL_SDK_DISABLED=true in the backend's environment: the SDK makes
    /// every tracer a no-op, so no span is made or exported, whatever the
    /// endpoint and headers say (they are judged once it is switched on).
    OtlpSdkDisabled = "otlp-sdk-disabled" {
        group: Exporter,
        blocks_run: false,
        statuses: [Fail],
    }
    /// OTEL_EXPORTER_OTLP_PROTOCOL against the endpoint's port: the HTTP
    /// exporter pointed at 4317 (gRPC) fails, and the reverse.
    OtlpProtocol = "otlp-protocol" {
        group: Exporter,
        blocks_run: true,
        statuses: [Fail],
    }
    /// OTEL_EXPORTER_OTLP_HEADERS as the Python SDK parses it: `name=value`
    /// pairs, comma-separated; a quoted value or `name:value` is dropped with
    /// "Header format invalid!".
    OtlpHeadersFormat = "otlp-headers-format" {
        group: Exporter,
        blocks_run: true,
        statuses: [
            Ok: "the header names it parses into",
            Fail: "the SDK drops the headers (\"Header format invalid!\")",
            Warn: "a form only exporters from 1.27 on accept (a space in a value)",
        ],
    }
    /// A misspelt OTEL variable (OLTP, API_HONEYCOMB_KEY): the SDK never reads
    /// it.
    OtlpVariableName = "otlp-variable-name" {
        group: Exporter,
        blocks_run: true,
        statuses: [Fail],
    }
    /// The service name spans carry: OTEL_SERVICE_NAME, service.name in
    /// OTEL_RESOURCE_ATTRIBUTES, or a Resource in code. Unset, they land in
    /// unknown_service; one letter off, in a dataset of their own.
    OtlpServiceName = "otlp-service-name" {
        group: Exporter,
        blocks_run: false,
        statuses: [
            Ok: "the service name the spans carry",
            Warn: "unset, empty, from a variable set nowhere (spans land in unknown_service), or a letter or two from the service",
        ],
    }
    /// The collector's config, found through its --config flag and the
    /// service's bind mounts, cannot be read.
    CollectorConfig = "collector-config" {
        group: Collector,
        blocks_run: false,
        statuses: [Fail],
    }
    /// Since v0.104 an OTLP receiver with no endpoint binds localhost: nothing
    /// outside the collector's container reaches it. `endpoint: 0.0.0.0:4318`
    /// (4317 for gRPC).
    CollectorReceiverBind = "collector-receiver-bind" {
        group: Collector,
        blocks_run: false,
        statuses: [Fail],
    }
    /// The config names a component the image no longer has (the `logging`
    /// exporter, removed in v0.111): the collector exits at start.
    CollectorRemovedComponent = "collector-removed-component" {
        group: Collector,
        blocks_run: false,
        statuses: [Fail],
    }
    /// A pipeline names a receiver, processor or exporter that is not defined
    /// above it: the collector refuses the config.
    CollectorUndefinedComponent = "collector-undefined-component" {
        group: Collector,
        blocks_run: false,
        statuses: [Fail],
    }
    /// Since v0.104 a bare $VAR in the config is not expanded; ${VAR} and
    /// ${env:VAR} are.
    CollectorEnvSyntax = "collector-env-syntax" {
        group: Collector,
        blocks_run: false,
        statuses: [Fail],
    }
    /// The config reads a variable the collector's compose service does not
    /// pass into its container.
    CollectorEnvPassthrough = "collector-env-passthrough" {
        group: Collector,
        blocks_run: false,
        statuses: [Fail],
    }
    /// The collector's exporter to Honeycomb: the right host, and an
    /// x-honeycomb-team header.
    CollectorHoneycomb = "collector-honeycomb" {
        group: Collector,
        blocks_run: false,
        statuses: [Fail],
    }
    /// The browser sends spans to the collector through a forwarded port: in
    /// Gitpod it must be declared in .gitpod.yml, public.
    CollectorGitpodPort = "collector-gitpod-port" {
        group: Collector,
        blocks_run: false,
        statuses: [Fail],
    }
    /// An unpinned collector image (no tag, or latest) pulls today's version,
    /// where older configs break.
    CollectorImageTag = "collector-image-tag" {
        group: Collector,
        blocks_run: false,
        statuses: [Warn],
    }
    /// A collector service nothing sends to: the backend and the browser export
    /// elsewhere.
    CollectorUnused = "collector-unused" {
        group: Collector,
        blocks_run: false,
        statuses: [Warn],
    }
    /// The browser's exporter reads process.env.X at build time: Create React
    /// App gives it only REACT_APP_* variables (and NODE_ENV, PUBLIC_URL), from
    /// the frontend service's environment.
    FrontendEnv = "frontend-env" {
        group: Collector,
        blocks_run: false,
        statuses: [Fail],
    }
    /// The browser's exporter (Honeycomb's web SDK `apiKey:`, or an
    /// `x-honeycomb-team` header) given a literal that is no Honeycomb key
    /// (`'***REMOVED***'`, a placeholder): every browser span is refused with
    /// 401. A real key written there is secret-committed's.
    FrontendHoneycombKey = "frontend-honeycomb-key" {
        group: Collector,
        blocks_run: false,
        statuses: [Fail],
    }
    /// The browser's fetch instrumentation sends a `traceparent` header to
    /// the backend (`propagateTraceHeaderCorsUrls`), and Flask-CORS's
    /// `allow_headers` does not list it: the browser's preflight is refused,
    /// so it blocks every API call (and no backend span is made for them).
    FrontendCorsTraceparent = "frontend-cors-traceparent" {
        group: Collector,
        blocks_run: false,
        statuses: [Fail],
    }
    /// AWS_XRAY_SDK_ENABLED=false (any case) turns the X-Ray SDK off: no
    /// segment is sent.
    XraySdkDisabled = "xray-sdk-disabled" {
        group: Xray,
        blocks_run: false,
        statuses: [Fail],
    }
    /// Where the SDK's segments go: the daemon service, with credentials and a
    /// region.
    XrayDaemon = "xray-daemon" {
        group: Xray,
        blocks_run: false,
        statuses: [Ok],
    }
    /// AWS_XRAY_DAEMON_ADDRESS is host:port (no URL) naming a container that
    /// exists: unset, the SDK sends to 127.0.0.1:2000 inside the backend's own
    /// container.
    XrayDaemonAddress = "xray-daemon-address" {
        group: Xray,
        blocks_run: false,
        statuses: [Fail],
    }
    /// The daemon is on no network the backend is on: the SDK's UDP segments go
    /// nowhere.
    XrayDaemonNetwork = "xray-daemon-network" {
        group: Xray,
        blocks_run: false,
        statuses: [Fail],
    }
    /// The daemon's command line as Go's flag parser reads it after the image's
    /// entrypoint: `-n` takes the next word as the region; a one-string command
    /// is one argument and none of its flags apply.
    XrayDaemonFlags = "xray-daemon-flags" {
        group: Xray,
        blocks_run: false,
        statuses: [
            Fail: "a flag the daemon refuses, or -n taking the next word as the region",
            Warn: "the same while the backend's X-Ray code is off: nothing is lost, the daemon's container exits",
            Info: "a one-string command whose flags do not apply, with nothing lost",
        ],
    }
    /// The daemon's region (AWS_REGION or -n): missing or malformed, it exits;
    /// another than the one you work in, your segments are in that region's
    /// console, not yours.
    XrayDaemonRegion = "xray-daemon-region" {
        group: Xray,
        blocks_run: false,
        statuses: [
            Fail: "missing or malformed: the daemon exits",
            Warn: "another region than the student's: segments are in that region's console; or no region while the backend's X-Ray code is off (the daemon's container exits)",
        ],
    }
    /// The daemon signs its uploads with AWS_ACCESS_KEY_ID and
    /// AWS_SECRET_ACCESS_KEY, or a mounted ~/.aws, or AWS_PROFILE.
    XrayDaemonCredentials = "xray-daemon-credentials" {
        group: Xray,
        blocks_run: false,
        statuses: [Fail],
    }
    /// A temporary key (ASIA...) needs AWS_SESSION_TOKEN beside it.
    AwsSessionToken = "aws-session-token" {
        group: Aws,
        blocks_run: false,
        statuses: [Fail],
    }
    /// The sampling rule file's ServiceName against the recorder's service
    /// name: a rule that matches no service never applies, and the default rule
    /// samples instead.
    XraySamplingRule = "xray-sampling-rule" {
        group: Xray,
        blocks_run: false,
        statuses: [Info],
    }
    /// boto3 (watchtower, CloudWatch Logs) reads AWS_DEFAULT_REGION only;
    /// without it the backend fails at import.
    AwsRegion = "aws-region" {
        group: Aws,
        blocks_run: false,
        statuses: [
            Ok: "boto3 finds its region",
            Info: "CloudWatch logs go to another region than the student's",
            Fail: "AWS_DEFAULT_REGION missing: the backend fails at import",
        ],
    }
    /// A file of the backend Python cannot compile (or read as UTF-8):
    /// importing it raises, so the backend does not start.
    CodeSyntax = "code-syntax" {
        group: Code,
        blocks_run: true,
        statuses: [Fail],
    }
    /// XRayMiddleware(app, ...) before `app = Flask(...)`: a NameError at
    /// import, or a middleware that wraps nothing.
    CodeXrayMiddlewareOrder = "code-xray-middleware-order" {
        group: Code,
        blocks_run: true,
        statuses: [Fail],
    }
    /// FlaskInstrumentor().instrument_app(app) before the app exists: requests
    /// make no server spans.
    CodeFlaskInstrumentationOrder = "code-flask-instrumentation-order" {
        group: Code,
        blocks_run: false,
        statuses: [Fail],
    }
    /// @app.before_first_request was removed in Flask 2.3: with Flask unpinned
    /// or newer, importing app.py raises AttributeError.
    CodeBeforeFirstRequest = "code-before-first-request" {
        group: Code,
        blocks_run: true,
        statuses: [
            Fail: "the installed Flask has no before_first_request: importing app.py raises",
            Warn: "this Flask still has it: it breaks on the next upgrade",
        ],
    }
    /// A span processor created but never added to the provider does nothing;
    /// one added twice exports every span twice.
    CodeUnattachedProcessor = "code-unattached-processor" {
        group: Code,
        blocks_run: false,
        statuses: [Fail],
    }
    /// The code reads an environment variable the container does not have,
    /// a letter or two from one it has (`os.getenv("ROLLBAR_ACCES_TOKEN")`):
    /// it gets None or its default.
    CodeEnvName = "code-env-name" {
        group: Code,
        blocks_run: false,
        statuses: [
            Fail: "the variable meant is one a backend needs (a key, a token, a region): it sends nothing",
            Warn: "another setting: its default applies",
        ],
    }
    /// Spans exported to the console only: the code builds a
    /// ConsoleSpanExporter and no OTLPSpanExporter, so nothing is sent to
    /// Honeycomb (or tracelab listen), whatever the endpoint says.
    CodeNoOtlpExporter = "code-no-otlp-exporter" {
        group: Code,
        blocks_run: false,
        statuses: [Fail],
    }
    /// A TracerProvider that is never set with trace.set_tracer_provider: spans
    /// go to the no-op provider. When the Flask instrumentation is given it
    /// (`tracer_provider=`), its server spans still arrive: only the manual
    /// spans (trace.get_tracer) are lost.
    CodeProviderNotSet = "code-provider-not-set" {
        group: Code,
        blocks_run: true,
        statuses: [
            Fail: "no span arrives",
            Warn: "the instrumentation is given the provider: server spans arrive, the manual spans do not",
        ],
    }
    /// No Flask instrumentation: FlaskInstrumentor().instrument_app(app), or
    /// the global instrument() before Flask is imported (checked against the
    /// real SDK), or the opentelemetry-instrument wrapper.
    CodeInstrumentor = "code-instrumentor" {
        group: Code,
        blocks_run: true,
        statuses: [Fail],
    }
    /// The code imports a module nothing in requirements.txt installs:
    /// ModuleNotFoundError at import.
    CodeRequirements = "code-requirements" {
        group: Code,
        blocks_run: true,
        statuses: [Fail],
    }
    /// A telemetry call after a return or raise: it never runs.
    CodeUnreachable = "code-unreachable" {
        group: Code,
        blocks_run: false,
        statuses: [Fail],
    }
    /// An attribute or event on a span after its `with` block ended: the SDK
    /// drops it ("Setting attribute on ended span").
    CodeSpanEnded = "code-span-ended" {
        group: Code,
        blocks_run: false,
        statuses: [
            Fail: "data recorded on a span after its block ended: dropped",
            Warn: "get_current_span() after the block: the data goes to the enclosing span",
        ],
    }
    /// A span attribute the SDK drops: a bound method (`now.isoformat` without
    /// the call), a dict, a list of mixed or non-primitive values.
    CodeAttributeValue = "code-attribute-value" {
        group: Code,
        blocks_run: false,
        statuses: [Fail],
    }
    /// An X-Ray annotation that is not a str, number or bool: the SDK drops it.
    CodeAnnotationValue = "code-annotation-value" {
        group: Code,
        blocks_run: false,
        statuses: [Fail],
    }
    /// A set-up API assigned to instead of called (`XRayMiddleware = (app,
    /// xray_recorder)`), or named on a line of its own without the call
    /// (`FlaskInstrumentor().instrument_app`): nothing is installed.
    CodeApiAssigned = "code-api-assigned" {
        group: Code,
        blocks_run: false,
        statuses: [Fail],
    }
    /// begin_segment inside a request XRayMiddleware already traces replaces
    /// its segment: ended there too, the request fails (HTTP 500); not ended,
    /// the segment is sent under another name without the request's data.
    /// At import, a segment never ended is never sent.
    CodeXraySegment = "code-xray-segment" {
        group: Code,
        blocks_run: false,
        statuses: [
            Fail: "begin_segment and end_segment in a request (the middleware raises, HTTP 500), or with a subsegment left open (nothing of the request is sent)",
            Warn: "begin_segment in a request without end_segment (sent under its own name), or at import never ended",
        ],
    }
    /// begin_subsegment not ended on every path: the subsegment is never sent,
    /// and later ones nest under it.
    CodeXraySubsegment = "code-xray-subsegment" {
        group: Code,
        blocks_run: false,
        statuses: [Fail],
    }
    /// rollbar.init in a per-request hook: it runs again on every request.
    CodeRollbarInit = "code-rollbar-init" {
        group: Code,
        blocks_run: false,
        statuses: [Fail],
    }
    /// rollbar.init given the literal text '${ROLLBAR_ACCESS_TOKEN}': Python
    /// does not interpolate; read os.environ instead.
    CodeRollbarToken = "code-rollbar-token" {
        group: Code,
        blocks_run: false,
        statuses: [Fail],
    }
    /// The backend's Python read: instrumentation in order, processors added,
    /// spans and segments closed.
    CodeApp = "code-app" {
        group: Code,
        blocks_run: false,
        statuses: [Ok],
    }
    /// A name nothing binds (Ruff's pyflakes F821, F823: a commented-out import
    /// or definition, a typo) in code that runs: at import, NameError and the
    /// backend does not start (a problem); in a function a route or hook
    /// reaches, that request fails with HTTP 500: a warning on the lab's
    /// route or in code that sends telemetry, else a note (its span still
    /// arrives, marked as an error). Code nothing runs is not judged.
    PythonUndefinedName = "python-undefined-name" {
        group: Python,
        blocks_run: false,
        statuses: [
            Fail: RAISES_AT_IMPORT,
            Warn: RAISES_IN_A_LAB_REQUEST,
            Info: RAISES_IN_ANOTHER_REQUEST,
        ],
    }
    /// A function called with arguments it does not take (TypeError, as
    /// CPython words it): a project function, or a callable of the packages
    /// the workspace installs (`TracerProvider(resouce=...)`,
    /// `XRayMiddleware(app)` without its recorder), known from a table made
    /// from the real packages at tracelab's pins. At import a problem, in a
    /// request as for python-undefined-name. Calls with *args or **kwargs,
    /// decorated functions, and a package at another version than the
    /// table's are not judged; unpinned, a keyword the table does not know
    /// is judged only when it is a misspelling of one it does.
    PythonCallArity = "python-call-arity" {
        group: Python,
        blocks_run: false,
        statuses: [
            Fail: RAISES_AT_IMPORT,
            Warn: RAISES_IN_A_LAB_REQUEST,
            Info: RAISES_IN_ANOTHER_REQUEST,
        ],
    }
    /// A callable used as its value where its result was meant, in code that
    /// runs. A project function assigned (`data = HomeActivities.run`, no
    /// parentheses): whatever uses the name gets the function itself (a
    /// route returning it answers 500, TypeError), and the function, with
    /// the spans it makes, never runs; not judged when the name is called
    /// later, or the function needs arguments (then it is passed on
    /// purpose). A class of the packages given to the OpenTelemetry or
    /// X-Ray SDK where the parameter's annotation asks for an instance of it
    /// (`BatchSpanProcessor(OTLPSpanExporter)`): each call the SDK makes on
    /// it raises TypeError, so nothing it should export is exported.
    PythonCallableNotCalled = "python-callable-not-called" {
        group: Python,
        blocks_run: false,
        statuses: [
            Fail: "at import: what uses it fails as the backend starts, or the SDK part it was given to never works (nothing exported)",
            Warn: "in a request on the lab's route, or in code that sends telemetry: the lab's span or that telemetry is never made",
            Info: "in any other request: that request fails or returns the wrong thing",
        ],
    }
    /// An import of a module or name that the installed package does not have
    /// (`aws_xray_sdk.flask.middleware`), judged against a table of the
    /// workspace's packages at tracelab's pins (src/rules/python_modules.txt,
    /// generated from the real packages): ModuleNotFoundError or ImportError at
    /// import. Packages outside the table, or pinned to another version, are
    /// not judged; a package left unpinned (pip installs the latest) is judged
    /// only where the table knows the module the imported name does live in.
    PythonImport = "python-import" {
        group: Python,
        blocks_run: false,
        statuses: [
            Fail: RAISES_AT_IMPORT,
            Warn: RAISES_IN_A_LAB_REQUEST,
            Info: RAISES_IN_ANOTHER_REQUEST,
        ],
    }
    /// A call of a name a module does not have (`trace.getTracer(...)` after
    /// `from opentelemetry import trace`), judged against the same table as
    /// python-import: AttributeError where the call runs. Packages outside
    /// the table are not judged, nor a name rebound in the file; one left
    /// unpinned only where the module has a name it is a typo of.
    PythonModuleAttribute = "python-module-attribute" {
        group: Python,
        blocks_run: false,
        statuses: [
            Fail: RAISES_AT_IMPORT,
            Warn: RAISES_IN_A_LAB_REQUEST,
            Info: RAISES_IN_ANOTHER_REQUEST,
        ],
    }
    /// A function that holds the backend's set-up (rollbar.init,
    /// set_tracer_provider, add_span_processor, instrument_app, XRayMiddleware)
    /// and that nothing calls, registers or passes: that backend stays silent.
    PythonNeverCalled = "python-never-called" {
        group: Python,
        blocks_run: false,
        statuses: [Fail],
    }
    /// The lab's manual span and its attributes app.now and app.result_length:
    /// renamed, the lab's queries find nothing.
    LabSpan = "lab-span" {
        group: Lab,
        blocks_run: false,
        statuses: [
            Warn: "the span or its attributes renamed: the lab's queries find nothing",
            Info: "the code starts no span of its own: only the automatic spans arrive",
        ],
    }
    /// A key or token written into a file the repository commits (a Dockerfile
    /// ENV, a frontend file, a journal): it leaks with the repository.
    SecretCommitted = "secret-committed" {
        group: Secrets,
        blocks_run: false,
        statuses: [Fail],
    }
    /// The running backend container's environment (docker compose exec),
    /// compared with what Compose would give it now.
    ContainerEnv = "container-env" {
        group: Container,
        blocks_run: false,
        statuses: [
            Ok: "the running container's environment was read",
            Skip: "no running container to read",
        ],
    }
    /// The running backend's log shows the exporter failing ("Failed to export
    /// span batch code: 401", a connection refused).
    ContainerExportErrors = "container-export-errors" {
        group: Container,
        blocks_run: false,
        statuses: [Fail],
    }
    /// The running backend's log shows spans dropped ("Queue full"): a receiver
    /// that cannot keep up, or too many spans for the batch queue.
    ContainerSpansDropped = "container-spans-dropped" {
        group: Container,
        blocks_run: false,
        statuses: [Fail],
    }
    /// With --online: Honeycomb's /1/auth says who the key belongs to (team,
    /// environment), or that it is unknown (401).
    OnlineHoneycombAuth = "online-honeycomb-auth" {
        group: Online,
        blocks_run: false,
        statuses: [
            Ok: "the key's team and environment",
            Warn: "an answer that is neither yes nor no",
            Fail: "the key is refused (401), or Honeycomb cannot be reached",
        ],
    }
    /// With --online: one real span sent where the backend sends, and what the
    /// endpoint answered.
    OnlineTestSpan = "online-test-span" {
        group: Online,
        blocks_run: false,
        statuses: [
            Ok: "the endpoint accepted the span",
            Fail: "it was refused, or the endpoint cannot be reached",
            Skip: "no endpoint to send to",
        ],
    }
    /// With --deep: the backend's venv could not be made or its requirements
    /// installed (no Python on PATH, a package that does not install), so it
    /// was not started.
    DeepPrepare = "deep-prepare" {
        group: Deep,
        blocks_run: false,
        statuses: [Fail],
    }
    /// With --deep: the backend, started as `tracelab run` starts it, exited or
    /// did not answer its port within 30 s; the exception and file:line from
    /// its traceback, else its last lines.
    DeepStart = "deep-start" {
        group: Deep,
        blocks_run: false,
        statuses: [
            Ok: "the backend started and answered its port",
            Fail: "it exited, or did not answer within 30 s",
        ],
    }
    /// With --deep: a GET route without path parameters answered 500 (the
    /// exception and the innermost project file:line of its traceback) or did
    /// not answer. As grave as a static finding of a failing request: the
    /// span of a request that fails still arrives, marked as an error.
    DeepRoute = "deep-route" {
        group: Deep,
        blocks_run: false,
        statuses: [
            Warn: "the lab's route answered 500 (its span is lost), or a route did not answer (its span never ends)",
            Info: "another route answered 500: its span arrives, marked as an error",
        ],
    }
    /// With --deep: the spans that arrived for each route asked, with their
    /// service; none at all, no server span for a route, or spans under
    /// unknown_service.
    DeepSpans = "deep-spans" {
        group: Deep,
        blocks_run: false,
        statuses: [
            Ok: "the spans that arrived for a route",
            Warn: "no server span for a route that answered, or spans under unknown_service",
            Fail: "no span at all",
            Skip: "the code exports past tracelab's receiver",
        ],
    }
    /// With --deep: the lab's manual span under /api/activities/home, with
    /// app.now and app.result_length; each one missing is named.
    DeepLabSpan = "deep-lab-span" {
        group: Deep,
        blocks_run: false,
        statuses: [
            Ok: "the lab's span arrived whole",
            Warn: "it did not arrive, or without app.now or app.result_length",
        ],
    }
    /// With --deep: the X-Ray segments that reached the stand-in daemon, their
    /// names, faults, and subsegments still open when their segment was sent.
    DeepXray = "deep-xray" {
        group: Deep,
        blocks_run: false,
        statuses: [
            Ok: "the segments that arrived",
            Warn: "a route's segment replaced by one begun in the request",
            Fail: "no segment, or a subsegment left open",
        ],
    }
    /// With --deep: what the SDKs logged when they dropped data (an attribute
    /// of a type OpenTelemetry does not take, tied to its set_attribute line;
    /// an export that failed; an X-Ray subsegment with no segment).
    DeepSdkWarning = "deep-sdk-warning" {
        group: Deep,
        blocks_run: false,
        statuses: [
            Fail: "the SDK dropped data",
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_parse_back() {
        let mut ids: Vec<&str> = CheckId::ALL.iter().map(|c| c.as_str()).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), CheckId::ALL.len(), "an id is declared twice");
        for id in CheckId::ALL {
            assert_eq!(CheckId::parse(id.as_str()), Some(*id));
            assert!(!id.doc().is_empty() && !id.statuses().is_empty(), "{id}");
        }
        assert_eq!(CheckId::parse("no-such-check"), None);
    }

    /// A check that stops `run` does so on a problem: it must be able to
    /// report one.
    #[test]
    fn a_check_that_blocks_run_can_fail() {
        for id in CheckId::ALL.iter().filter(|c| c.blocks_run()) {
            assert!(id.allows(Status::Fail), "{id} blocks run but never fails");
        }
    }

    #[test]
    fn explain_says_what_when_and_how_to_silence() {
        let text = explain(CheckId::XrayDaemonRegion);
        assert!(text.contains("X-Ray"), "{text}");
        assert!(text.contains("a warning: another region"), "{text}");
        assert!(text.contains("--ignore xray-daemon-region"), "{text}");
    }

    /// The README's table is this catalogue; `TRACELAB_WRITE_README=1 cargo
    /// test the_readme_table` writes it after a change.
    #[test]
    fn the_readme_table_is_the_catalogue() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md");
        let readme = std::fs::read_to_string(&path).unwrap();
        let (begin, end) = ("<!-- checks:begin -->\n", "<!-- checks:end -->");
        let start = readme
            .find(begin)
            .expect("README.md has <!-- checks:begin -->")
            + begin.len();
        let stop = readme.find(end).expect("README.md has <!-- checks:end -->");
        let table = markdown_table();
        if readme[start..stop] != table {
            if std::env::var_os("TRACELAB_WRITE_README").is_some() {
                let written = format!("{}{table}{}", &readme[..start], &readme[stop..]);
                std::fs::write(&path, written).unwrap();
            } else {
                panic!(
                    "README.md's table of checks is stale: TRACELAB_WRITE_README=1 cargo test the_readme_table"
                );
            }
        }
    }

    #[test]
    fn the_json_entry_has_the_documented_keys() {
        let entry = serde_json::to_value(Entry::from(CheckId::EnvShape)).unwrap();
        assert_eq!(entry["id"], "env-shape");
        assert_eq!(entry["group"], "Environment variables");
        assert_eq!(entry["blocks_run"], false);
        assert_eq!(entry["statuses"][1]["status"], "warn");
        assert!(entry["doc"].as_str().unwrap().starts_with("A value that"));
    }
}
