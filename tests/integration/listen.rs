//! `tracelab listen` as a user runs it: the real generated app exporting to
//! it, JSON and gzip requests, a concurrent burst, malformed input, Ctrl-C.

use crate::common;

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::common::app::{TEST_KEY, wait_until};
use crate::common::listener::{Listener, agent, post, request, request_in_trace};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceResponse;
use prost::Message;

#[test]
fn the_generated_app_exports_to_listen() {
    let listener = Listener::start(&["--json"]);
    let (app, _workspace) = listener.run_generated_app();
    let spans: Vec<serde_json::Value> =
        wait_until("spans in listen's output", Duration::from_secs(20), || {
            let spans: Vec<serde_json::Value> = listener
                .output()
                .iter()
                .map(|l| serde_json::from_str(l).unwrap())
                .collect();
            spans
                .iter()
                .any(|s| s["name"] == "home-activities-mock-data")
                .then_some(spans)
        });
    app.stop();
    let manual = spans
        .iter()
        .find(|s| s["name"] == "home-activities-mock-data")
        .unwrap();
    assert_eq!(manual["service"], "backend-flask");
    assert_eq!(manual["attributes"]["app.result_length"], 3);
    assert!(
        spans
            .iter()
            .any(|s| s["kind"] == "server"
                && s["attributes"]["http.route"] == "/api/activities/home")
    );
    let summary = listener.interrupt();
    assert!(summary.contains("services: backend-flask"), "{summary}");
}

#[test]
fn trees_show_children_under_parents_with_the_team_fingerprint() {
    let listener = Listener::start(&[]);
    let mut req = agent()
        .post(format!("{}/v1/traces", listener.url))
        .header("Content-Type", "application/x-protobuf")
        .header("x-honeycomb-team", TEST_KEY);
    req = req.header("Content-Encoding", "identity");
    let response = req
        .send(&request("tree-svc", 2, 7).encode_to_vec()[..])
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let lines = listener.wait_for_lines(3);
    let team = tracelab::fingerprint::fingerprint(TEST_KEY);
    assert_eq!(
        lines[0],
        format!(
            "trace {} tree-svc  2 spans, 2.0 ms  x-honeycomb-team {team}",
            "07".repeat(16)
        )
    );
    assert!(
        lines[1].starts_with("  span-0 2.0 ms http.route=/api/activities/home"),
        "{lines:?}"
    );
    assert!(lines[2].starts_with("    span-1 "), "{lines:?}");
    assert!(!lines.concat().contains(TEST_KEY));
    listener.interrupt();
}

#[test]
fn json_and_gzip_requests_are_answered_as_a_collector_does() {
    let listener = Listener::start(&["--json"]);
    let json = r#"{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"json-svc"}}]},"scopeSpans":[{"scope":{"name":"s"},"spans":[{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174","name":"json-span","kind":2,"startTimeUnixNano":"1544712660000000000","endTimeUnixNano":"1544712661000000000"}]}]}]}"#;
    let (status, content_type, body) =
        post(&listener.url, "application/json", None, json.as_bytes());
    assert_eq!((status, content_type.as_str()), (200, "application/json"));
    serde_json::from_slice::<serde_json::Value>(&body).unwrap();

    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&request("gzip-svc", 3, 9).encode_to_vec())
        .unwrap();
    let (status, content_type, body) = post(
        &listener.url,
        "application/x-protobuf",
        Some("gzip"),
        &gz.finish().unwrap(),
    );
    assert_eq!(
        (status, content_type.as_str()),
        (200, "application/x-protobuf")
    );
    ExportTraceServiceResponse::decode(&body[..]).unwrap();

    let spans: Vec<serde_json::Value> = listener
        .wait_for_lines(4)
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let json_span = spans.iter().find(|s| s["name"] == "json-span").unwrap();
    assert_eq!(json_span["service"], "json-svc");
    assert_eq!(json_span["trace_id"], "5b8efff798038103d269b633813fc60c");
    assert_eq!(json_span["duration_ms"], 1000.0);
    assert_eq!(
        spans.iter().filter(|s| s["service"] == "gzip-svc").count(),
        3
    );
    listener.interrupt();
}

#[test]
fn a_concurrent_burst_is_counted_exactly() {
    let listener = Listener::start(&["--json"]);
    let (threads, requests, spans) = (16, 25, 10);
    std::thread::scope(|scope| {
        for t in 0..threads {
            let url = listener.url.clone();
            scope.spawn(move || {
                for r in 0..requests {
                    // Each request its own trace: the same spans twice are a retry.
                    let trace_id = ((t * requests + r) as u128 + 1).to_be_bytes().to_vec();
                    let body =
                        request_in_trace(&format!("svc-{t}"), spans, trace_id).encode_to_vec();
                    let (status, _, _) = post(&url, "application/x-protobuf", None, &body);
                    assert_eq!(status, 200);
                }
            });
        }
    });
    let sent = threads * requests * spans;
    wait_until("every span printed", Duration::from_secs(10), || {
        (listener.output().len() == sent).then_some(())
    });
    let summary = listener.interrupt();
    assert!(
        summary.contains(&format!("{sent} spans in {} requests", threads * requests)),
        "{summary}"
    );
}

#[test]
fn malformed_requests_get_clear_errors_and_the_receiver_keeps_working() {
    let listener = Listener::start(&[]);
    let url = &listener.url;
    let (status, _, body) = post(
        url,
        "application/x-protobuf",
        None,
        b"\xff\xff\xff\xff garbage",
    );
    assert_eq!(status, 400, "{}", String::from_utf8_lossy(&body));
    assert_eq!(post(url, "application/json", None, b"{not json").0, 400);
    assert_eq!(
        post(url, "application/x-protobuf", Some("gzip"), b"not gzip").0,
        400
    );
    let (status, _, body) = post(url, "text/plain", None, b"hello");
    assert_eq!(status, 415);
    assert!(String::from_utf8_lossy(&body).contains("application/x-protobuf"));
    assert_eq!(post(url, "application/x-protobuf", Some("br"), b"x").0, 415);
    let big = vec![0u8; 9 * 1024 * 1024];
    assert_eq!(post(url, "application/x-protobuf", None, &big).0, 413);
    let mut response = agent()
        .post(format!("{url}/v1/metrics"))
        .header("Content-Type", "application/x-protobuf")
        .send(&b""[..])
        .unwrap();
    assert_eq!(response.status().as_u16(), 404);
    assert!(
        response
            .body_mut()
            .read_to_string()
            .unwrap()
            .contains("/v1/traces")
    );
    assert_eq!(
        agent()
            .get(format!("{url}/v1/traces"))
            .call()
            .unwrap()
            .status()
            .as_u16(),
        405
    );
    // Still serving after all of that.
    assert_eq!(
        post(
            url,
            "application/x-protobuf",
            None,
            &request("ok", 1, 1).encode_to_vec()
        )
        .0,
        200
    );
    let summary = listener.interrupt();
    assert!(
        summary.contains("1 trace, 1 span in 1 request; services: ok"),
        "{summary}"
    );
}

#[test]
fn a_busy_port_is_a_clear_error() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let output = Command::new(env!("CARGO_BIN_EXE_tracelab"))
        .args(["listen", "--port", &port])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!(
            "cannot listen on 127.0.0.1:{port}: Address already in use"
        )) && stderr.contains("stop it, or pick another --port"),
        "{stderr}"
    );
}

/// The line `listen ARGS` (with `env`) announces its web view with.
fn web_view_announcement(args: &[&str], env: &[(&str, &str)]) -> String {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tracelab"))
        .args(["listen", "--port", "0"])
        .args(args)
        .env("NO_COLOR", "1")
        .env_remove("GITPOD_WORKSPACE_URL")
        .env_remove("CODESPACE_NAME")
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let announced = loop {
        let mut line = String::new();
        if stderr.read_line(&mut line).unwrap() == 0 {
            break String::new();
        }
        if line.starts_with("Web view on ") {
            break line;
        }
    };
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(!announced.is_empty(), "no web view announced");
    announced
}

/// On Gitpod and Codespaces the web view is opened through the forwarded
/// URL of its port, which listen prints.
#[test]
fn the_forwarded_url_is_announced_on_gitpod_and_codespaces() {
    let free_port = ["--web-port", "0"];
    let port_of = |line: &str| {
        let after = line.split("http://127.0.0.1:").nth(1).unwrap();
        after.split('/').next().unwrap().to_string()
    };
    let gitpod = web_view_announcement(
        &free_port,
        &[(
            "GITPOD_WORKSPACE_URL",
            "https://student-cruddur-abc123.ws-us107.gitpod.io",
        )],
    );
    assert!(
        gitpod.contains(&format!(
            "(in the browser: https://{}-student-cruddur-abc123.ws-us107.gitpod.io/)",
            port_of(&gitpod)
        )),
        "{gitpod}"
    );
    let codespaces = web_view_announcement(
        &free_port,
        &[
            ("CODESPACE_NAME", "student-fluffy-space-xyz"),
            ("GITHUB_CODESPACES_PORT_FORWARDING_DOMAIN", "app.github.dev"),
        ],
    );
    assert!(
        codespaces.contains(&format!(
            "(in the browser: https://student-fluffy-space-xyz-{}.app.github.dev/)",
            port_of(&codespaces)
        )),
        "{codespaces}"
    );
    assert!(!web_view_announcement(&free_port, &[]).contains("in the browser"));
}

/// The web view's default port taken (by a second listen, say): the web
/// view moves to a free port and says so. A port asked for is not moved.
#[test]
fn a_taken_default_web_port_moves_the_web_view_and_an_asked_one_is_an_error() {
    let default = tracelab::listen::web::DEFAULT_PORT;
    // Taken by this guard, or already by something else: taken either way.
    let _guard = std::net::TcpListener::bind(("127.0.0.1", default));
    let announced = web_view_announcement(&[], &[]);
    assert!(
        announced.contains(&format!("({default} is taken)")),
        "{announced}"
    );
    assert!(!announced.contains(&format!(":{default}/")), "{announced}");

    let asked = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let asked_port = asked.local_addr().unwrap().port().to_string();
    let output = Command::new(env!("CARGO_BIN_EXE_tracelab"))
        .args(["listen", "--port", "0", "--web-port", &asked_port])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("pick another --web-port (or --no-web)"),
        "{stderr}"
    );
}

#[test]
fn doctor_online_proves_the_exporter_path_through_listen() {
    let listener = Listener::start(&["--json"]);
    // The container reaches the listener on the host as host.docker.internal
    // (the local compose file maps it); 127.0.0.1 would be the container.
    let from_container = listener.url.replace("127.0.0.1", "host.docker.internal");
    let fixture = common::doctor::Fixture::new("local")
        .set("OTEL_EXPORTER_OTLP_ENDPOINT", &from_container)
        .arg("--online");
    let (code, report) = fixture.doctor();
    common::doctor::expect(
        &report,
        "online-test-span",
        None,
        "ok",
        "accepted (200)",
        None,
    );
    assert_eq!(code, 0, "{report:#}");
    let span = wait_until("the test span", Duration::from_secs(5), || {
        listener
            .output()
            .into_iter()
            .find(|l| l.contains("tracelab-doctor-test"))
    });
    let span: serde_json::Value = serde_json::from_str(&span).unwrap();
    assert_eq!(span["service"], "backend-flask");
    listener.interrupt();
}

/// `listen --save FILE`, then `tracelab show FILE`: the same trees as live,
/// whatever encoding each request came in.
#[test]
fn save_then_show_gives_the_same_trees_as_live() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("traces.jsonl");
    let listener = Listener::start(&["--save", file.to_str().unwrap()]);
    let protobuf = request("saved-svc", 3, 9).encode_to_vec();
    assert_eq!(
        post(&listener.url, "application/x-protobuf", None, &protobuf).0,
        200
    );
    let json = serde_json::to_vec(&request("json-svc", 2, 4)).unwrap();
    assert_eq!(post(&listener.url, "application/json", None, &json).0, 200);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&request("gzip-svc", 1, 5).encode_to_vec())
        .unwrap();
    let gzipped = gz.finish().unwrap();
    assert_eq!(
        post(
            &listener.url,
            "application/x-protobuf",
            Some("gzip"),
            &gzipped
        )
        .0,
        200
    );
    // A tree is a line for the trace and one per span: 4 + 3 + 2 lines.
    let live = listener.wait_for_lines(9);
    listener.interrupt();
    assert_eq!(std::fs::read_to_string(&file).unwrap().lines().count(), 3);
    // What the app sent is its owner's alone.
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let shown = show(&[], &file);
    assert!(
        shown.status.success(),
        "{}",
        String::from_utf8_lossy(&shown.stderr)
    );
    let shown: Vec<String> = String::from_utf8_lossy(&shown.stdout)
        .lines()
        .map(str::to_string)
        .collect();
    assert_eq!(shown, live);
}

/// A line as the Collector's file exporter writes it (64-bit numbers as
/// strings, a span from a browser) replays like one of ours.
#[test]
fn collector_file_exporter_lines_replay() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("collector.json");
    std::fs::write(
        &file,
        r#"{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"frontend-react-js"}}]},"scopeSpans":[{"scope":{"name":"@opentelemetry/instrumentation-fetch"},"spans":[{"traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"b7ad6b7169203331","parentSpanId":"","name":"HTTP GET","kind":3,"startTimeUnixNano":"1700000000000000000","endTimeUnixNano":"1700000000120000000","attributes":[{"key":"http.status_code","value":{"intValue":"200"}}],"status":{}}]}]}]}
"#,
    )
    .unwrap();
    let shown = show(&["--json"], &file);
    assert!(
        shown.status.success(),
        "{}",
        String::from_utf8_lossy(&shown.stderr)
    );
    let span: serde_json::Value = serde_json::from_slice(&shown.stdout).unwrap();
    assert_eq!(span["service"], "frontend-react-js");
    assert_eq!(span["name"], "HTTP GET");
    assert_eq!(span["trace_id"], "0af7651916cd43dd8448eb211c80319c");
    assert_eq!(span["duration_ms"], 120.0);
    assert_eq!(span["attributes"]["http.status_code"], 200);
}

#[test]
fn a_line_that_is_not_otlp_json_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("mixed.jsonl");
    let good = tracelab::otlp::json_line(&request("ok", 1, 1));
    std::fs::write(&file, format!("{good}\nnot json at all\n")).unwrap();
    let shown = show(&[], &file);
    assert_eq!(shown.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&shown.stderr);
    assert!(
        stderr.contains(&format!("{}:2:", file.display())),
        "{stderr}"
    );
}

/// `tracelab show ARGS FILE`, without colour.
fn show(args: &[&str], file: &std::path::Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_tracelab"))
        .arg("show")
        .args(args)
        .arg(file)
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}
