//! Random compose files, .env files and environment values never make the
//! doctor panic: every input gives findings or a clear error.

use std::collections::BTreeMap;

use proptest::prelude::*;
use tracelab::doctor::checks::run_all;
use tracelab::rules::otlp_headers;
use tracelab::workspace::context::{Context, Options};
use tracelab::workspace::interpolate::interpolate;

const OFFLINE: Options = Options {
    external_layers: false,
    use_compose_binary: false,
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
        app in prop::sample::select(vec!["", "app = Flask(__name__)\nXRayMiddleware(app)\n", "x = BatchSpanProcessor(\n", "@app.before_first_request\n"]),
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
        let shell: BTreeMap<String, String> = shell;
        if let Ok(ctx) = Context::load(dir.path(), shell, OFFLINE) {
            let findings = run_all(&ctx);
            prop_assert!(!findings.is_empty());
        }
    }
}
