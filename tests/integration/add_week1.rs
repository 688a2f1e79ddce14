//! `tracelab add` in a repository tracelab did not make: a student's Week 1
//! cruddur, built from a real Week 2 repository (the real-repository
//! fixtures: `common::realrepos`) by
//! taking its Week 2 parts out. Adding them back gives a workspace the
//! doctor passes, real Compose v2 resolves and Python compiles.

use crate::common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::doctor::HEALTHY_SHELL;
use crate::common::tracelab;

/// jhargett1 at its first Honeycomb commit, with the Honeycomb step undone:
/// no OpenTelemetry import, setup or instrumentor, no OTEL_* variable, no
/// OpenTelemetry package. The rest (routes, CORS, comments) stays.
/// None (the test is skipped, and says so) without the fixtures.
fn week1(test: &str) -> Option<(tempfile::TempDir, PathBuf)> {
    let source = common::realrepos::folder(test)?.join("jhargett1__aws-bootcamp-cruddur-2023");
    assert!(source.is_dir(), "{} is missing", source.display());
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("cruddur");
    common::realrepos::copy_repo(&source, &dir);
    let week2 = [
        "opentelemetry",
        "Instrumentor",
        "TracerProvider",
        "SpanProcessor",
        "set_tracer_provider",
        "get_tracer",
        "provider",
        "HoneyComb",
        "Honeycomb",
        "OTEL_",
    ];
    for rel in [
        "backend-flask/app.py",
        "docker-compose.yml",
        "backend-flask/requirements.txt",
    ] {
        let text = fs::read_to_string(dir.join(rel)).unwrap();
        let kept: Vec<&str> = text
            .lines()
            .filter(|l| !week2.iter().any(|w| l.contains(w)))
            .collect();
        fs::write(dir.join(rel), kept.join("\n") + "\n").unwrap();
    }
    python_compiles(&dir.join("backend-flask/app.py"));
    assert!(
        !fs::read_to_string(dir.join("backend-flask/app.py"))
            .unwrap()
            .contains("trace")
    );
    Some((root, dir))
}

fn python_compiles(path: &Path) {
    let out = Command::new("python3")
        .args(["-m", "py_compile"])
        .arg(path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Real Compose v2 resolves the student's file as a Gitpod workspace would
/// (its own warnings, such as the obsolete `version:`, are the student's).
fn student_compose_config(dir: &Path) -> serde_json::Value {
    let out = common::run_ok(
        Command::new(common::tool("docker-compose"))
            .current_dir(dir)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap())
            .env("GITPOD_WORKSPACE_ID", "ws-1")
            .env("GITPOD_WORKSPACE_CLUSTER_HOST", "gitpod.io")
            .envs(HEALTHY_SHELL)
            .args(["config", "--format", "json"]),
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn snapshot(dir: &Path) -> Vec<(String, String)> {
    [
        "backend-flask/app.py",
        "docker-compose.yml",
        "backend-flask/requirements.txt",
    ]
    .iter()
    .map(|rel| (rel.to_string(), fs::read_to_string(dir.join(rel)).unwrap()))
    .collect()
}

/// The doctor's JSON with every secret set.
fn doctor(dir: &Path) -> serde_json::Value {
    let out = tracelab()
        .args(["doctor", "--json", "--builtin-resolver", "--dir"])
        .arg(dir)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .envs(HEALTHY_SHELL)
        .output()
        .unwrap();
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn the_diff_is_shown_and_nothing_is_written_without_yes() {
    let Some((_root, dir)) =
        week1("add_week1::the_diff_is_shown_and_nothing_is_written_without_yes")
    else {
        return;
    };
    let before = snapshot(&dir);
    let out = tracelab()
        .args(["add", "honeycomb", "--dry-run", "--dir"])
        .arg(&dir)
        .output()
        .unwrap();
    assert!(out.status.success());
    let diff = String::from_utf8_lossy(&out.stdout);
    assert!(
        diff.contains("+FlaskInstrumentor().instrument_app(app)"),
        "{diff}"
    );
    assert!(
        diff.contains(
            "+      OTEL_EXPORTER_OTLP_HEADERS: \"x-honeycomb-team=${HONEYCOMB_API_KEY}\""
        ),
        "{diff}"
    );
    assert_eq!(snapshot(&dir), before);
    let out = tracelab()
        .args(["add", "honeycomb", "--dir"])
        .arg(&dir)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--yes"));
    assert_eq!(snapshot(&dir), before);
}

#[test]
fn adding_honeycomb_back_gives_a_workspace_the_doctor_passes() {
    let Some((_root, dir)) =
        week1("add_week1::adding_honeycomb_back_gives_a_workspace_the_doctor_passes")
    else {
        return;
    };
    let app_before = fs::read_to_string(dir.join("backend-flask/app.py")).unwrap();
    tracelab()
        .args(["add", "honeycomb", "--yes", "--dir"])
        .arg(&dir)
        .assert()
        .success();
    let app = fs::read_to_string(dir.join("backend-flask/app.py")).unwrap();
    python_compiles(&dir.join("backend-flask/app.py"));
    // Every line the student had is still there, in order.
    let mut rest = app.lines();
    for line in app_before.lines() {
        assert!(rest.any(|l| l == line), "lost or moved: {line:?}");
    }
    // The provider comes before the app exists, the instrumentor after it.
    let at = |needle: &str| app.find(needle).unwrap_or_else(|| panic!("no {needle}"));
    assert!(at("trace.set_tracer_provider") < at("app = Flask(__name__)"));
    assert!(at("app = Flask(__name__)") < at("FlaskInstrumentor().instrument_app(app)"));
    let report = doctor(&dir);
    assert_eq!(report["problems"], 0, "{report:#}");
    // Adding it again changes nothing.
    let before = snapshot(&dir);
    tracelab()
        .args(["add", "honeycomb", "--yes", "--dir"])
        .arg(&dir)
        .assert()
        .success()
        .stdout(predicates::str::contains("already wired"));
    assert_eq!(snapshot(&dir), before);
}

#[test]
fn adding_every_backend_at_once_passes_the_doctor_and_real_compose() {
    let Some((_root, dir)) =
        week1("add_week1::adding_every_backend_at_once_passes_the_doctor_and_real_compose")
    else {
        return;
    };
    tracelab()
        .args([
            "add",
            "honeycomb",
            "xray",
            "cloudwatch",
            "rollbar",
            "--yes",
            "--dir",
        ])
        .arg(&dir)
        .assert()
        .success();
    python_compiles(&dir.join("backend-flask/app.py"));
    let report = doctor(&dir);
    assert_eq!(report["problems"], 0, "{report:#}");
    let ids: Vec<&str> = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["status"] == "warn")
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert!(
        ids.iter()
            .all(|id| !id.starts_with("code-") && !id.starts_with("compose-")),
        "{report:#}"
    );
    let config = student_compose_config(&dir);
    let daemon = &config["services"]["xray-daemon"];
    assert_eq!(
        daemon["environment"]["AWS_REGION"], "ca-central-1",
        "{config:#}"
    );
    let requirements = fs::read_to_string(dir.join("backend-flask/requirements.txt")).unwrap();
    for package in [
        "opentelemetry-sdk==",
        "aws-xray-sdk==",
        "watchtower==",
        "rollbar==",
    ] {
        assert!(requirements.contains(package), "{requirements}");
    }
}
