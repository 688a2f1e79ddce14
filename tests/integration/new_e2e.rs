//! End to end: the generated app, installed from its own requirements in a
//! real venv, started with its Dockerfiles' own commands and the environment
//! Compose resolves, exports spans over OTLP/HTTP to a receiver here.

use crate::common;

use std::net::UdpSocket;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::common::app::{
    TEST_KEY, compose_environment, dockerfile_cmd, get, start_app, wait_until,
};
use crate::common::{app_venv, free_port, new_workspace, read};
use tracelab::fingerprint::fingerprint;
use tracelab::otlp::SpanRecord;
use tracelab::receive::{Batch, Receiver};

/// The app's environment: (name, value) pairs.
type Environment = Vec<(String, String)>;

struct Traced {
    spans: Vec<SpanRecord>,
    teams: Vec<Option<String>>,
    log: String,
    xray: Vec<String>,
}

/// Starts the app with `dockerfile`'s CMD, requests the home feed (and any
/// `extra_paths`), and returns what the receivers got.
fn trace_one_request(backends: &str, dockerfile: &str, extra_paths: &[&str]) -> Traced {
    let port = free_port();
    let (_root, dir) = new_workspace(&[
        "--set",
        &format!("backends={backends}"),
        "--set",
        &format!("port={port}"),
    ]);
    trace_workspace(&dir, port, dockerfile, extra_paths)
}

/// The same, for a workspace that is already there (made, edited, updated).
fn trace_workspace(dir: &Path, port: u16, dockerfile: &str, extra_paths: &[&str]) -> Traced {
    trace_with(dir, port, dockerfile, extra_paths, &|_| {}, true)
}

/// Runs the app with the environment Compose resolves, changed by
/// `adjust`; waits for the home spans when `expect_spans`, else gives the
/// exporter a few of its 200 ms rounds and returns what arrived.
fn trace_with(
    dir: &Path,
    port: u16,
    dockerfile: &str,
    extra_paths: &[&str],
    adjust: &dyn Fn(&mut Environment),
    expect_spans: bool,
) -> Traced {
    let dir = dir.to_path_buf();
    let venv = app_venv(&dir.join("backend-flask/requirements.txt"));

    let batches: Arc<Mutex<Vec<Batch>>> = Arc::default();
    let sink_batches = Arc::clone(&batches);
    let receiver = Receiver::start(
        tracelab::receive::http::runtime().unwrap(),
        "127.0.0.1:0",
        tracelab::receive::http::DEFAULT_READ_TIMEOUT,
        tracelab::receive::hosts::AllowedHosts::default(),
        Arc::new(move |batch| sink_batches.lock().unwrap().push(batch)),
    )
    .unwrap();
    let xray_socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    xray_socket
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();

    let mut env = compose_environment(&dir);
    env.retain(|(k, _)| k != "OTEL_EXPORTER_OTLP_ENDPOINT" && k != "AWS_XRAY_DAEMON_ADDRESS");
    env.extend([
        (
            "OTEL_EXPORTER_OTLP_ENDPOINT".into(),
            format!("http://{}", receiver.addr()),
        ),
        ("OTEL_BSP_SCHEDULE_DELAY".into(), "200".into()),
        // The test plays the X-Ray daemon; AWS APIs fail fast, offline.
        (
            "AWS_XRAY_DAEMON_ADDRESS".into(),
            xray_socket.local_addr().unwrap().to_string(),
        ),
        ("AWS_ENDPOINT_URL".into(), "http://127.0.0.1:9".into()),
    ]);
    adjust(&mut env);
    let cmd = dockerfile_cmd(&dir.join("backend-flask").join(dockerfile));
    let app = start_app(&dir, &venv, &cmd, &env);
    let base = format!("http://127.0.0.1:{port}");

    let mut app = app;
    let health = wait_until("the app to answer", Duration::from_secs(60), || {
        if let Some(status) = app.child.try_wait().unwrap() {
            panic!("the app exited with {status}:\n{}", read(&app.log));
        }
        get(&format!("{base}/api/health-check"))
    });
    assert_eq!(health.0, 200, "{}", health.1);
    // X-Ray's default sampling keeps the first request of each second (and 5%
    // after it): the health check had this second's, so wait for the next.
    std::thread::sleep(Duration::from_millis(1100));
    let (status, body) = get(&format!("{base}/api/activities/home")).unwrap();
    assert_eq!(status, 200, "{body}");
    let activities: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(activities.as_array().unwrap().len(), 3);
    for path in extra_paths {
        let (status, body) = get(&format!("{base}{path}")).unwrap();
        assert_eq!(status, 200, "{path}: {body}");
    }

    if !expect_spans {
        std::thread::sleep(Duration::from_millis(1500));
    } else {
        wait_until("the home spans", Duration::from_secs(20), || {
            let batches = batches.lock().unwrap();
            let names: Vec<_> = batches
                .iter()
                .flat_map(|b| &b.spans)
                .map(|s| &s.span.name)
                .collect();
            names
                .iter()
                .any(|n| *n == "home-activities-mock-data")
                .then_some(())
        });
    }
    let mut xray = Vec::new();
    let mut buffer = [0u8; 65536];
    while let Ok(n) = xray_socket.recv(&mut buffer) {
        xray.push(String::from_utf8_lossy(&buffer[..n]).into_owned());
    }
    let log = app.stop();
    receiver.stop();
    let batches = batches.lock().unwrap();
    Traced {
        spans: batches
            .iter()
            .flat_map(|b| b.spans.iter().map(|s| s.record()))
            .collect(),
        teams: batches.iter().map(|b| b.team.clone()).collect(),
        log,
        xray,
    }
}

fn assert_home_trace(traced: &Traced) {
    let spans = &traced.spans;
    assert!(
        spans.iter().all(|s| s.service == "backend-flask"),
        "{spans:#?}"
    );
    let server = spans
        .iter()
        .find(|s| {
            s.kind == "server"
                && s.attributes
                    .get("http.route")
                    .is_some_and(|r| r == "/api/activities/home")
        })
        .unwrap_or_else(|| {
            panic!(
                "no Flask server span for the route:\n{spans:#?}\nlog:\n{}",
                traced.log
            )
        });
    assert_eq!(server.scope, "opentelemetry.instrumentation.flask");
    let manual = spans
        .iter()
        .find(|s| s.name == "home-activities-mock-data")
        .unwrap();
    assert_eq!(manual.scope, "home.activities");
    assert_eq!(manual.attributes["app.result_length"], 3);
    assert!(manual.attributes["app.now"].is_string());
    assert_eq!(manual.trace_id, server.trace_id);
    assert_eq!(manual.parent_span_id, server.span_id);
    let expected_team = Some(fingerprint(TEST_KEY));
    assert!(
        traced.teams.iter().all(|t| *t == expected_team),
        "{:?}",
        traced.teams
    );
}

#[test]
fn development_server_exports_the_home_trace() {
    let traced = trace_one_request("honeycomb", "Dockerfile", &[]);
    assert_home_trace(&traced);
}

#[test]
fn production_gunicorn_exports_the_home_trace() {
    let traced = trace_one_request("honeycomb", "Dockerfile.prod", &[]);
    assert_home_trace(&traced);
    assert!(traced.log.contains("gunicorn"), "{}", traced.log);
}

#[test]
fn every_backend_wired_at_once_still_traces_and_reports() {
    let traced = trace_one_request(
        "honeycomb,xray,cloudwatch,rollbar",
        "Dockerfile.prod",
        &["/rollbar/test"],
    );
    assert_home_trace(&traced);
    // X-Ray: the request's segment, with the manual subsegment in it.
    let segment = traced
        .xray
        .iter()
        .find(|d| d.contains("\"name\": \"backend-flask\"") && d.contains("/api/activities/home"))
        .unwrap_or_else(|| panic!("no X-Ray segment:\n{:?}\nlog:\n{}", traced.xray, traced.log));
    assert!(
        segment.starts_with("{\"format\":\"json\",\"version\":1}\n"),
        "{segment}"
    );
    assert!(
        traced.xray.iter().any(|d| d.contains("mock-data")),
        "{:?}",
        traced.xray
    );
    // CloudWatch: the after_request logger saw the request.
    assert!(
        traced.log.contains("GET /api/activities/home? 200 OK"),
        "{}",
        traced.log
    );
    // Offline, Rollbar's background post fails; requests must not.
    for crash in [
        "Exception in worker",
        "Error handling request",
        "Worker failed to boot",
    ] {
        assert!(!traced.log.contains(crash), "{}", traced.log);
    }
}

/// The student's week: a Honeycomb workspace, edited the way students edit
/// it (a new route, another published port, an extra variable, a deleted
/// file), then `tracelab add xray cloudwatch rollbar`. Every edit is still
/// there, the new wiring is in, and the app traces end to end.
#[test]
fn adding_backends_to_an_edited_workspace_keeps_every_edit_and_traces() {
    let port = free_port();
    let (_root, dir) = new_workspace(&[
        "--set",
        "backends=honeycomb",
        "--set",
        &format!("port={port}"),
    ]);
    let edit = |rel: &str, from: &str, to: &str| {
        let path = dir.join(rel);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains(from), "{rel} has no {from:?}");
        std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
    };
    let app = dir.join("backend-flask/app.py");
    let mut code = std::fs::read_to_string(&app).unwrap();
    code.push_str("\n\n@app.route(\"/api/student/hello\")\ndef student_hello():\n    return {\"hello\": \"from the student\"}\n");
    std::fs::write(&app, code).unwrap();
    edit(
        "docker-compose.yml",
        &format!("\"{port}:{port}\""),
        &format!("\"{port}:{port}\"\n      - \"9229:9229\""),
    );
    edit(
        "docker-compose.yml",
        "      OTEL_SERVICE_NAME:",
        "      STUDENT_FLAG: \"on\"\n      OTEL_SERVICE_NAME:",
    );
    std::fs::remove_file(dir.join("backend-flask/.dockerignore")).unwrap();

    common::tracelab()
        .args(["add", "xray", "cloudwatch", "rollbar", "--yes", "--dir"])
        .arg(&dir)
        .assert()
        .success();

    let code = std::fs::read_to_string(&app).unwrap();
    assert!(code.contains("def student_hello"), "{code}");
    assert!(
        code.contains("XRayMiddleware(app, xray_recorder)"),
        "{code}"
    );
    assert!(code.contains("watchtower"), "{code}");
    assert!(code.contains("rollbar.init"), "{code}");
    let compose = std::fs::read_to_string(dir.join("docker-compose.yml")).unwrap();
    for kept in [
        "9229:9229",
        "STUDENT_FLAG",
        "xray-daemon:",
        "AWS_XRAY_DAEMON_ADDRESS",
    ] {
        assert!(compose.contains(kept), "{kept} in\n{compose}");
    }
    assert!(
        !dir.join("backend-flask/.dockerignore").exists(),
        "a deleted file stays deleted"
    );
    assert!(!code.contains("<<<<<<<") && !compose.contains("<<<<<<<"));
    // Real Compose v2 and hadolint accept the result.
    let config = common::app::compose_config(&dir);
    assert!(config["services"]["xray-daemon"].is_object());
    for dockerfile in ["Dockerfile", "Dockerfile.prod"] {
        common::hadolint(&dir.join("backend-flask").join(dockerfile));
    }
    let traced = trace_workspace(
        &dir,
        port,
        "Dockerfile.prod",
        &["/rollbar/test", "/api/student/hello"],
    );
    assert_home_trace(&traced);
    assert!(
        traced
            .xray
            .iter()
            .any(|d| d.contains("/api/activities/home")),
        "no X-Ray segment: {:?}\n{}",
        traced.xray,
        traced.log
    );
}

/// The service name is on the provider's resource: spans carry it even
/// when OTEL_SERVICE_NAME is not in the environment (`python3 app.py`).
#[test]
fn spans_carry_the_service_name_without_otel_service_name() {
    let port = free_port();
    let (_root, dir) = new_workspace(&["--set", &format!("port={port}")]);
    let traced = trace_with(
        &dir,
        port,
        "Dockerfile",
        &[],
        &|env| env.retain(|(k, _)| k != "OTEL_SERVICE_NAME"),
        true,
    );
    assert_home_trace(&traced);
}

/// OTEL_SDK_DISABLED=true builds no provider and installs no instrumentor
/// (the SDK alone would still build both and hand out a no-op tracer);
/// only the SDK's own value switches it off: "1" does not.
#[test]
fn the_sdk_switched_off_builds_nothing_and_only_true_switches_it_off() {
    let (_root, dir) = new_workspace(&[]);
    let venv = app_venv(&dir.join("backend-flask/requirements.txt"));
    let probe = "import app\n\
from opentelemetry import trace\n\
from opentelemetry.instrumentation.flask import FlaskInstrumentor\n\
print(type(trace.get_tracer_provider()).__name__, app.app._is_instrumented_by_opentelemetry if hasattr(app.app, '_is_instrumented_by_opentelemetry') else False)\n";
    for (value, expected) in [
        ("true", "ProxyTracerProvider False"),
        ("1", "TracerProvider True"),
    ] {
        let output = std::process::Command::new(venv.join("bin/python"))
            .args(["-c", probe])
            .current_dir(dir.join("backend-flask"))
            .env("OTEL_SDK_DISABLED", value)
            .env("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:9")
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert_eq!(
            stdout.trim(),
            expected,
            "OTEL_SDK_DISABLED={value}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

/// OTEL_SDK_DISABLED=true: the app serves, and sends nothing.
#[test]
fn the_sdk_switched_off_sends_nothing_and_the_app_still_serves() {
    let port = free_port();
    let (_root, dir) = new_workspace(&["--set", &format!("port={port}")]);
    let traced = trace_with(
        &dir,
        port,
        "Dockerfile.prod",
        &[],
        &|env| env.push(("OTEL_SDK_DISABLED".into(), "true".into())),
        false,
    );
    assert!(traced.spans.is_empty(), "{:#?}", traced.spans);
    assert!(
        traced.log.contains("GET /api/activities/home"),
        "{}",
        traced.log
    );
}
