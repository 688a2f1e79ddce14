//! One planted case per `code-*` check that had none: the generated app
//! with one line changed, the finding at its line, and nothing else.

use std::path::Path;

use crate::common::doctor::*;

const ALL: &str = "honeycomb,xray,cloudwatch,rollbar";

fn line_of(path: &Path, needle: &str) -> usize {
    let text = std::fs::read_to_string(path).unwrap();
    text.lines().position(|l| l.contains(needle)).unwrap() + 1
}

fn problems_and_warnings(report: &serde_json::Value) -> Vec<String> {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["status"] == "fail" || c["status"] == "warn")
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn a_provider_never_set_is_found() {
    let fixture = Fixture::new(ALL).edit(
        "backend-flask/app.py",
        "    trace.set_tracer_provider(provider)\n",
        "    # trace.set_tracer_provider(provider)\n",
    );
    let (code, report) = fixture.doctor();
    assert_eq!(code, 1);
    expect(&report, "code-provider-not-set", None, "fail", "", None);
    assert_eq!(
        problems_and_warnings(&report),
        ["code-provider-not-set"],
        "{report:#}"
    );
}

#[test]
fn flask_instrumented_before_the_app_exists_is_found() {
    let fixture = Fixture::new(ALL)
        .edit(
            "backend-flask/app.py",
            "    FlaskInstrumentor().instrument_app(app)\n",
            "    pass\n",
        )
        .edit(
            "backend-flask/app.py",
            "LOGGER = init_cloudwatch_logger()\n",
            "LOGGER = init_cloudwatch_logger()\nFlaskInstrumentor().instrument_app(app)\n",
        );
    let (code, report) = fixture.doctor();
    assert_eq!(code, 1);
    let app = fixture.path("backend-flask/app.py");
    let line = line_of(&app, "FlaskInstrumentor().instrument_app(app)");
    let found = findings(&report, "code-flask-instrumentation-order", None);
    assert_eq!(found.len(), 1, "{report:#}");
    let text = format!("{} {}", found[0]["message"], found[0]["fix"]);
    assert!(text.contains(&format!("app.py:{line}")), "{text}");
}

#[test]
fn rollbar_initialised_per_request_is_found() {
    let fixture = Fixture::new(ALL)
        .edit(
            "backend-flask/app.py",
            "with app.app_context():\n    init_rollbar(app)\n",
            "@app.before_request\ndef start_rollbar():\n    init_rollbar(app)\n    rollbar.init(os.environ['ROLLBAR_ACCESS_TOKEN'])\n",
        );
    let (code, report) = fixture.doctor();
    assert_eq!(code, 1);
    let app = fixture.path("backend-flask/app.py");
    let line = line_of(&app, "    rollbar.init(os.environ");
    expect(
        &report,
        "code-rollbar-init",
        None,
        "fail",
        &format!("app.py:{line}: rollbar.init runs in a before_request hook"),
        Some("app.app_context()"),
    );
}

#[test]
fn a_span_used_after_its_block_is_one_finding_for_the_block() {
    let fixture = Fixture::new(ALL).edit(
        "backend-flask/services/home_activities.py",
        "            span.set_attribute(\"app.result_length\", len(results))\n            return results",
        "        span.set_attribute(\"app.result_length\", len(results))\n        span.add_event(\"done\")\n        return results",
    );
    let (code, report) = fixture.doctor();
    let module = fixture.path("backend-flask/services/home_activities.py");
    let line = line_of(&module, "span.set_attribute(\"app.result_length\"");
    let found = findings(&report, "code-span-ended", None);
    assert_eq!(found.len(), 1, "{report:#}");
    let message = found[0]["message"].as_str().unwrap();
    assert!(
        message.contains(&format!(
            "home_activities.py:{line}: span.set_attribute(\"app.result_length\", ...) (and at line {})",
            line + 1
        )),
        "{message}"
    );
    assert_eq!(code, 1);
}

/// The summary line when the code is sound, and only then.
#[test]
fn sound_code_is_one_ok_line() {
    let (_, report) = Fixture::new(ALL).doctor();
    expect(&report, "code-app", None, "ok", "Python files read", None);
}

/// A list of dicts as a span attribute: dropped by an SDK pinned before
/// 1.45.0, kept by tracelab's pin (the same line is then fine).
#[test]
fn an_attribute_the_pinned_sdk_drops_is_found_only_under_that_pin() {
    let plant = |fixture: Fixture| {
        fixture.edit(
            "backend-flask/services/home_activities.py",
            "            span.set_attribute(\"app.result_length\", len(results))",
            "            span.set_attribute(\"app.result_length\", len(results))\n            span.set_attribute(\"app.results\", results)\n            shown = [{\"uuid\": 1}, {\"uuid\": 2}]\n            span.set_attribute(\"app.shown\", shown)",
        )
    };
    let (_, report) = plant(Fixture::new(ALL)).doctor();
    assert!(
        findings(&report, "code-attribute-value", None).is_empty(),
        "{report:#}"
    );

    let old = plant(Fixture::new(ALL))
        .edit(
            "backend-flask/requirements.txt",
            "opentelemetry-api==1.45.1",
            "opentelemetry-api==1.44.0",
        )
        .edit(
            "backend-flask/requirements.txt",
            "opentelemetry-sdk==1.45.1",
            "opentelemetry-sdk==1.44.0",
        );
    let (code, report) = old.doctor();
    assert_eq!(code, 1);
    let module = old.path("backend-flask/services/home_activities.py");
    let found = findings(&report, "code-attribute-value", None);
    // `results` comes from a call: its type is not in the source, not judged.
    assert_eq!(found.len(), 1, "{report:#}");
    let line = line_of(&module, "span.set_attribute(\"app.shown\"");
    assert!(
        found[0]["message"].as_str().unwrap().contains(&format!("home_activities.py:{line}: \"app.shown\" is set to a list of dicts: opentelemetry-sdk 1.44.0")),
        "{report:#}"
    );
}

/// The set-up call named on its own line, never called: found at its line,
/// and nothing else (not also "no Flask instrumentation").
#[test]
fn a_set_up_call_named_without_the_call_is_found() {
    let fixture = Fixture::new(ALL).edit(
        "backend-flask/app.py",
        "    FlaskInstrumentor().instrument_app(app)",
        "    FlaskInstrumentor().instrument_app",
    );
    let (code, report) = fixture.doctor();
    assert_eq!(code, 1);
    let app = fixture.path("backend-flask/app.py");
    let line = line_of(&app, "FlaskInstrumentor().instrument_app");
    expect(
        &report,
        "code-api-assigned",
        None,
        "fail",
        &format!(
            "app.py:{line}: `FlaskInstrumentor().instrument_app` names the set-up call without calling it"
        ),
        Some("FlaskInstrumentor().instrument_app(app)"),
    );
    assert_eq!(
        problems_and_warnings(&report),
        ["code-api-assigned"],
        "{report:#}"
    );
}
