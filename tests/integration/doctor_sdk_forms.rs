//! Configuration wherever the SDK and Flask accept it: the doctor's verdict
//! on each form, and, where the form's effect is not obvious, the real SDK
//! in the generated app's venv saying what happens.

use crate::common;

use std::process::Command;

use crate::common::doctor::{Fixture, expect, failing_ids, healthy};

/// The generated app's import line for Flask, and its app creation.
const IMPORT: &str = "from flask import Flask, jsonify\n";
const INSTRUMENT_APP: &str = "FlaskInstrumentor().instrument_app(app)";

/// Where `FlaskInstrumentor().instrument()` stands decides whether requests
/// make server spans: the real SDK, asked for each layout.
#[test]
fn the_global_flask_instrumentor_works_only_before_flask_is_bound() {
    let (_root, dir) = common::new_workspace(&[]);
    let venv = common::app_venv(&dir.join("backend-flask/requirements.txt"));
    let script = r#"
import sys
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
exporter = InMemorySpanExporter()
provider = TracerProvider()
provider.add_span_processor(SimpleSpanProcessor(exporter))
trace.set_tracer_provider(provider)
from opentelemetry.instrumentation.flask import FlaskInstrumentor
layout = sys.argv[1]
if layout == "instrument, then import Flask":
    FlaskInstrumentor().instrument()
    from flask import Flask
    app = Flask(__name__)
elif layout == "import Flask, then instrument":
    from flask import Flask
    FlaskInstrumentor().instrument()
    app = Flask(__name__)
elif layout == "instrument, then flask.Flask":
    import flask
    FlaskInstrumentor().instrument()
    app = flask.Flask(__name__)
@app.route("/x")
def x():
    return "ok"
app.test_client().get("/x")
print(len(exporter.get_finished_spans()))
"#;
    for (layout, spans) in [
        ("instrument, then import Flask", "1"),
        ("import Flask, then instrument", "0"),
        ("instrument, then flask.Flask", "1"),
    ] {
        let output =
            common::run_ok(Command::new(venv.join("bin/python")).args(["-c", script, layout]));
        assert_eq!(
            String::from_utf8_lossy(&output.stdout).trim(),
            spans,
            "{layout}"
        );
    }
}

/// The doctor agrees with the SDK on each layout.
#[test]
fn the_doctor_judges_the_global_form_as_the_sdk_does() {
    // Instrumented before Flask is imported: server spans.
    let before = Fixture::new("honeycomb")
        .edit("backend-flask/app.py", INSTRUMENT_APP, "pass")
        .edit(
            "backend-flask/app.py",
            IMPORT,
            "from opentelemetry.instrumentation.flask import FlaskInstrumentor\nFlaskInstrumentor().instrument()\nfrom flask import Flask, jsonify\n",
        );
    healthy(&before);
    // After `from flask import Flask`: the app is made from the old class.
    let after = Fixture::new("honeycomb")
        .edit("backend-flask/app.py", INSTRUMENT_APP, "pass")
        .edit(
            "backend-flask/app.py",
            "SERVICE_NAME = ",
            "FlaskInstrumentor().instrument()\nSERVICE_NAME = ",
        );
    let (code, report) = after.doctor();
    assert_eq!(code, 1);
    expect(
        &report,
        "code-instrumentor",
        None,
        "fail",
        "`Flask` was bound at line 8, before it",
        Some("instrument_app(app)"),
    );
}

/// The `opentelemetry-instrument` wrapper sets the SDK up from the
/// environment: no set-up in code is needed.
#[test]
fn the_auto_instrumentation_wrapper_needs_no_code() {
    let fixture = Fixture::new("honeycomb")
        .edit("backend-flask/app.py", INSTRUMENT_APP, "pass")
        .edit(
            "backend-flask/app.py",
            "    trace.set_tracer_provider(provider)\n",
            "    pass\n",
        );
    let (code, _) = fixture.doctor();
    assert_eq!(code, 1, "without the wrapper, this is broken");
    let fixture = fixture.edit(
        "backend-flask/Dockerfile",
        "CMD [\"python3\", \"-m\", \"flask\"",
        "CMD [\"opentelemetry-instrument\", \"python3\", \"-m\", \"flask\"",
    );
    let (_, report) = fixture.doctor();
    assert!(
        !failing_ids(&report)
            .iter()
            .any(|id| id == "code-instrumentor"),
        "{report:#}"
    );
}

/// service.name on a Resource in code, with no OTEL_SERVICE_NAME.
#[test]
fn service_name_on_a_resource_in_code_counts() {
    let fixture = Fixture::new("honeycomb")
        .edit(
            "docker-compose.yml",
            "      OTEL_SERVICE_NAME: \"backend-flask\"\n",
            "",
        )
        .edit(
            "backend-flask/app.py",
            "Resource.create({\"service.name\": SERVICE_NAME})",
            "Resource(attributes={ResourceAttributes.SERVICE_NAME: \"backend-flask\"})",
        )
        .edit(
            "backend-flask/app.py",
            "from opentelemetry.sdk.resources import Resource\n",
            "from opentelemetry.sdk.resources import Resource\nfrom opentelemetry.semconv.resource import ResourceAttributes\n",
        );
    healthy(&fixture);
    let (_, report) = fixture.doctor();
    expect(
        &report,
        "otlp-service-name",
        None,
        "ok",
        "service.name=\"backend-flask\" set in code",
        None,
    );
}

/// Meta-packages install what they stand for; a module nothing installs is
/// a ModuleNotFoundError at import, named with the import's line.
#[test]
fn requirements_are_judged_by_what_the_code_imports() {
    let meta = Fixture::new("honeycomb").edit(
        "backend-flask/requirements.txt",
        "opentelemetry-exporter-otlp-proto-http==1.45.1",
        "opentelemetry-exporter-otlp==1.45.1",
    );
    healthy(&meta);
    let missing = Fixture::new("honeycomb").edit(
        "backend-flask/requirements.txt",
        "opentelemetry-instrumentation-flask==0.66b1\n",
        "",
    );
    let (code, report) = missing.doctor();
    assert_eq!(code, 1);
    expect(
        &report,
        "code-requirements",
        None,
        "fail",
        "app.py:14: imports opentelemetry.instrumentation.flask,",
        Some("opentelemetry-instrumentation-flask"),
    );
}

/// Flask 2's `@app.get` is a route a healthcheck may ask for.
#[test]
fn a_healthcheck_on_an_app_get_route_is_served() {
    let fixture = Fixture::new("honeycomb")
        .edit(
            "backend-flask/app.py",
            "@app.route(\"/api/health-check\")",
            "@app.get(\"/api/health\")",
        )
        .edit(
            "docker-compose.yml",
            "    ports:\n",
            "    healthcheck:\n      test: [\"CMD\", \"curl\", \"-f\", \"http://localhost:4567/api/health\"]\n    ports:\n",
        );
    let (_, report) = fixture.doctor();
    assert!(
        !report["checks"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["id"] == "compose-healthcheck" && c["status"] != "ok"),
        "{report:#}"
    );
}

/// Create React App defines NODE_ENV and PUBLIC_URL itself, and gives the
/// browser no variable but those and REACT_APP_*.
#[test]
fn the_browser_gets_what_create_react_app_gives_it() {
    let tracing = "import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';\nconst debug = process.env.NODE_ENV !== 'production';\nconst url = process.env.REACT_APP_OTEL_URL;\nexport const exporter = new OTLPTraceExporter({ url });\n";
    let frontend = "  frontend-react-js:\n    build: ./frontend-react-js\n    environment:\n      REACT_APP_OTEL_URL: \"http://localhost:4318/v1/traces\"\n\n  backend-flask:\n";
    let fixture = Fixture::new("honeycomb")
        .edit("docker-compose.yml", "  backend-flask:\n", frontend)
        .write("frontend-react-js/src/tracing.js", tracing)
        .write("frontend-react-js/Dockerfile", "FROM node:20\n");
    let (_, report) = fixture.doctor();
    assert!(
        !failing_ids(&report).iter().any(|id| id == "frontend-env"),
        "{report:#}"
    );
    let fixture = fixture.edit(
        "frontend-react-js/src/tracing.js",
        "process.env.REACT_APP_OTEL_URL",
        "process.env.OTEL_URL",
    );
    let (_, report) = fixture.doctor();
    expect(
        &report,
        "frontend-env",
        Some("OTEL_URL"),
        "fail",
        "gives the browser only REACT_APP_* variables",
        Some("process.env.REACT_APP_OTEL_URL"),
    );
}
