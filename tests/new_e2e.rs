//! End to end: the generated app, installed from its own requirements in a
//! real venv, started with its Dockerfiles' own commands and the environment
//! Compose resolves, exports spans over OTLP/HTTP to a receiver here.

mod common;

use std::net::UdpSocket;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::app::{TEST_KEY, compose_environment, dockerfile_cmd, get, start_app, wait_until};
use common::{app_venv, free_port, new_workspace, read};
use tracelab::fingerprint::fingerprint;
use tracelab::listen::{Batch, Receiver};
use tracelab::otlp::SpanRecord;

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
    let venv = app_venv(&dir.join("backend-flask/requirements.txt"));

    let batches: Arc<Mutex<Vec<Batch>>> = Arc::default();
    let sink_batches = Arc::clone(&batches);
    let receiver = Receiver::start(
        "127.0.0.1:0",
        2,
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

    wait_until("the home spans", Duration::from_secs(20), || {
        let batches = batches.lock().unwrap();
        let names: Vec<_> = batches
            .iter()
            .flat_map(|b| &b.spans)
            .map(|s| &s.name)
            .collect();
        names
            .iter()
            .any(|n| *n == "home-activities-mock-data")
            .then_some(())
    });
    let mut xray = Vec::new();
    let mut buffer = [0u8; 65536];
    while let Ok(n) = xray_socket.recv(&mut buffer) {
        xray.push(String::from_utf8_lossy(&buffer[..n]).into_owned());
    }
    let log = app.stop();
    receiver.stop();
    let batches = batches.lock().unwrap();
    Traced {
        spans: batches.iter().flat_map(|b| b.spans.clone()).collect(),
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
