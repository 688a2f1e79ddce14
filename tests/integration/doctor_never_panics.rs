//! Random compose files, .env files, Python, collector configs and
//! environment values never make the doctor panic: every input gives
//! findings or a clear error.

use std::collections::BTreeMap;

use proptest::prelude::*;
use tracelab::doctor::checks::run_all;
use tracelab::rules::otlp_headers;
use tracelab::workspace::context::{Context, Options};
use tracelab::workspace::interpolate::interpolate;

const OFFLINE: Options = Options {
    external_layers: false,
    use_compose_binary: false,
    repository_only: false,
};

fn yamlish() -> impl Strategy<Value = String> {
    let piece = prop::sample::select(vec![
        "services:\n",
        "  backend-flask:\n",
        "    environment:\n",
        "      OTEL_SERVICE_NAME: ",
        "      OTEL_EXPORTER_OTLP_HEADERS: ",
        "      OTEL_EXPORTER_OTLP_ENDPOINT: ",
        "      - A=",
        "    env_file: ",
        "    build: ./backend-flask\n",
        "${HONEYCOMB_API_KEY}",
        "${X:-${Y}}",
        "${",
        "x-honeycomb-team=",
        "\"",
        "'",
        "[",
        "]",
        "{",
        "}",
        ":",
        "\n",
        " ",
        "http://",
        "4317",
        "/v1/traces",
        "AWS_XRAY_DAEMON_ADDRESS: ",
        "xray-daemon",
        "\t",
        "- ",
        "null",
        "~",
        "&a",
        "*a",
        "!!binary",
        "  xray-daemon:\n",
        "    image: amazon/aws-xray-daemon\n",
        "    command: ",
        "[\"-n\", \"-b\"]",
        "\"xray -o -b x:2000\"",
        "    networks: [a]\n",
        "    network_mode: host\n",
        "  otel-collector:\n",
        "    image: otel/opentelemetry-collector:0.88.0\n",
        "    command: [--config=/etc/c.yaml]\n",
        "    volumes: [\"./c.yaml:/etc/c.yaml\"]\n",
        "    healthcheck: {test: curl http://localhost:4567/x}\n",
        "networks:\n  a:\n",
        "AWS_XRAY_SDK_ENABLED: False",
    ]);
    prop::collection::vec(piece, 0..40).prop_map(|p| p.concat())
}

/// Python made of the statements real backends have, in any order and
/// nesting, broken or not.
fn pythonish() -> impl Strategy<Value = String> {
    let piece = prop::sample::select(vec![
        "app = Flask(__name__)\n",
        "XRayMiddleware(app, xray_recorder)\n",
        "FlaskInstrumentor().instrument_app(app)\n",
        "provider = TracerProvider()\n",
        "p = BatchSpanProcessor(OTLPSpanExporter(endpoint='http://x:4318/v1/traces', headers={'x-honeycomb-team': k}))\n",
        "provider.add_span_processor(p)\n",
        "trace.set_tracer_provider(provider)\n",
        "def f(x):\n",
        "class A:\n",
        "    def run(self):\n",
        "  ",
        "    ",
        "\t",
        "with tracer.start_as_current_span('s') as span:\n",
        "span.set_attribute('app.now', now.isoformat)\n",
        "span.set_attribute('app.result_length', 1)\n",
        "trace.get_current_span()\n",
        "xray_recorder.begin_segment('s')\n",
        "xray_recorder.begin_subsegment('s')\n",
        "xray_recorder.end_subsegment()\n",
        "if x:\n",
        "if False:\n",
        "else:\n",
        "try:\n",
        "finally:\n",
        "except Exception:\n",
        "return 1\n",
        "raise E\n",
        "pass\n",
        "@app.before_request\n",
        "@app.route('/x')\n",
        "rollbar.init('${TOKEN}')\n",
        "from services.home_activities import *\n",
        "# ",
        "\"\"\"",
        "\"",
        "(",
        ")",
        ":",
        "\n",
    ]);
    prop::collection::vec(piece, 0..50).prop_map(|p| p.concat())
}

/// Collector configs: real sections and keys, shuffled and broken.
fn collectorish() -> impl Strategy<Value = String> {
    let piece = prop::sample::select(vec![
        "receivers:\n",
        "  otlp:\n",
        "    protocols:\n",
        "      http:\n",
        "      grpc:\n",
        "        endpoint: 0.0.0.0:4318\n",
        "        endpoint: localhost\n",
        "        cors: {allowed_origins: ['*']}\n",
        "exporters:\n",
        "  logging:\n",
        "  otlp/hc:\n",
        "    endpoint: api.honeycomb.io:443\n",
        "    headers: {x-honeycomb-team: $KEY}\n",
        "    headers: {x-honeycomb-team: ${env:KEY}}\n",
        "service:\n",
        "  pipelines:\n",
        "    traces:\n",
        "      receivers: [otlp]\n",
        "      exporters: [otlp/hc, debug]\n",
        "${",
        "$$",
        "[",
        "{",
        ":",
        "\n",
        " ",
        "- ",
    ]);
    prop::collection::vec(piece, 0..40).prop_map(|p| p.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn string_rules_never_panic(text in "\\PC{0,80}") {
        let _ = interpolate(&text, &|n| (n.len() % 2 == 0).then(|| n.to_string()));
        let _ = otlp_headers::parse(&text, true);
        let _ = otlp_headers::parse(&text, false);
        let _ = tracelab::workspace::dotenv::parse(&text, &|_| None);
        for name in ["HONEYCOMB_API_KEY", "AWS_ACCESS_KEY_ID", "AWS_DEFAULT_REGION", "ROLLBAR_ACCESS_TOKEN"] {
            let _ = tracelab::rules::check_shape(name, &text);
            let _ = tracelab::rules::values::placeholder(name, &text);
        }
        let _ = tracelab::fingerprint::fingerprint(&text);
    }

    #[test]
    fn whole_workspaces_never_panic(
        compose in yamlish(),
        dotenv in "\\PC{0,60}",
        app in pythonish(),
        service in pythonish(),
        collector in collectorish(),
        shell in prop::collection::btree_map(
            prop::sample::select(vec!["HONEYCOMB_API_KEY", "API_HONEYCOMB_KEY", "AWS_DEFAULT_REGION", "AWS_ACCESS_KEY_ID", "OTEL_SERVICE_NAME"]).prop_map(str::to_string),
            "\\PC{0,70}",
            0..4,
        ),
    ) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("docker-compose.yml"), &compose).unwrap();
        std::fs::write(dir.path().join(".env"), &dotenv).unwrap();
        std::fs::create_dir(dir.path().join("backend-flask")).unwrap();
        std::fs::write(dir.path().join("backend-flask/app.py"), app).unwrap();
        std::fs::create_dir(dir.path().join("backend-flask/services")).unwrap();
        std::fs::write(dir.path().join("backend-flask/services/home_activities.py"), service).unwrap();
        std::fs::write(dir.path().join("c.yaml"), collector).unwrap();
        let shell: BTreeMap<String, String> = shell;
        if let Ok(contexts) = Context::load_all(dir.path(), shell, OFFLINE) {
            for ctx in &contexts {
                let findings = run_all(ctx);
                prop_assert!(!findings.is_empty());
            }
        }
    }

    #[test]
    fn python_and_collector_models_never_panic(python in pythonish(), config in collectorish(), text in "\\PC{0,200}") {
        for source in [&python, &text] {
            let file = tracelab::workspace::python::PyFile::parse(std::path::Path::new("x.py"), source);
            if let Some(error) = &file.syntax_error {
                prop_assert!(error.line >= 1 && error.line <= source.lines().count() + 1, "{error:?}");
            }
        }
        for source in [&config, &text] {
            let _ = tracelab::workspace::collector::CollectorConfig::parse(std::path::Path::new("c.yaml"), source);
            let _ = tracelab::workspace::yaml_lines::YamlLines::index(source);
        }
        let words: Vec<String> = text.split_whitespace().map(str::to_string).collect();
        let _ = tracelab::workspace::xray::parse_args(&words);
    }
}
