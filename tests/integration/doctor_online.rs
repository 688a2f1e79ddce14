//! `doctor --online` against a local server on 127.0.0.1 that answers like
//! Honeycomb: /1/auth with team and environment or 401, /v1/traces 200 or 401.

use std::net::TcpListener;
use std::time::{Duration, Instant};

use crate::common::doctor::*;
use crate::common::honeycomb::{FakeHoneycomb, INGEST_AUTH};

/// A workspace whose backend exports to the fake server on this machine:
/// with `network_mode: host`, 127.0.0.1 in the container is it.
fn fixture(honeycomb: &FakeHoneycomb, base_path: &str) -> Fixture {
    Fixture::new("honeycomb")
        .edit(
            "docker-compose.yml",
            "  backend-flask:\n",
            "  backend-flask:\n    network_mode: host\n",
        )
        .edit(
            "docker-compose.yml",
            "\"https://api.honeycomb.io\"",
            &format!("\"{}{base_path}\"", honeycomb.url),
        )
        .arg("--online")
}

#[test]
fn a_good_key_names_its_team_and_the_test_span_is_accepted() {
    let honeycomb = FakeHoneycomb::start(INGEST_AUTH);
    let (code, report) = fixture(&honeycomb, "").doctor();
    expect(
        &report,
        "online-honeycomb-auth",
        Some("HONEYCOMB_API_KEY"),
        "ok",
        "team \"Bootcamp\", environment \"week2\"",
        None,
    );
    expect(
        &report,
        "online-test-span",
        None,
        "ok",
        "accepted (200)",
        None,
    );
    assert_eq!(code, 0, "{report:#}");
    let paths = honeycomb.paths();
    assert!(paths.contains(&"/1/auth".to_string()) && paths.contains(&"/v1/traces".to_string()));
}

#[test]
fn an_unknown_key_is_named_as_such_and_the_span_refused() {
    let honeycomb = FakeHoneycomb::start(INGEST_AUTH);
    let (code, report) = fixture(&honeycomb, "")
        .set("HONEYCOMB_API_KEY", OTHER_KEY)
        .doctor();
    assert_eq!(code, 1);
    let finding = expect(
        &report,
        "online-honeycomb-auth",
        Some("HONEYCOMB_API_KEY"),
        "fail",
        "does not know this key (401)",
        Some("read -rs HONEYCOMB_API_KEY"),
    );
    assert!(
        finding["message"]
            .as_str()
            .unwrap()
            .contains("api.eu1.honeycomb.io"),
        "names the other region"
    );
    expect(
        &report,
        "online-test-span",
        Some("HONEYCOMB_API_KEY"),
        "fail",
        "refused the test span (401)",
        None,
    );
}

#[test]
fn every_distinct_key_is_checked_and_only_sent_to_the_configured_host() {
    let honeycomb = FakeHoneycomb::start(INGEST_AUTH);
    let fixture = fixture(&honeycomb, "").gitpod(&[("HONEYCOMB_API_KEY", OTHER_KEY)]);
    let (_, report) = fixture.doctor();
    let auth = findings(&report, "online-honeycomb-auth", None);
    assert_eq!(auth.len(), 2, "{report:#}");
    assert!(
        auth.iter()
            .any(|f| f["status"] == "ok" && f["message"].as_str().unwrap().contains("shell"))
    );
    assert!(
        auth.iter()
            .any(|f| f["status"] == "fail" && f["message"].as_str().unwrap().contains("gitpod"))
    );
    let keys = honeycomb.keys();
    assert!(keys.contains(&KEY.to_string()) && keys.contains(&OTHER_KEY.to_string()));
    assert_no_secret(&fixture.run(&[]).stdout);
}

#[test]
fn a_doubled_path_gets_404_with_the_url_tried() {
    let honeycomb = FakeHoneycomb::start(INGEST_AUTH);
    let (_, report) = fixture(&honeycomb, "/v1/traces").doctor();
    expect(
        &report,
        "online-test-span",
        Some("OTEL_EXPORTER_OTLP_ENDPOINT"),
        "fail",
        "/v1/traces/v1/traces answered 404",
        None,
    );
}

#[test]
fn a_silent_server_times_out_quickly() {
    // Accepts connections (the kernel's backlog) and never answers.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    let fixture = Fixture::new("honeycomb")
        .edit(
            "docker-compose.yml",
            "\"https://api.honeycomb.io\"",
            &format!("\"http://127.0.0.1:{port}\""),
        )
        .arg("--online")
        .arg("--timeout")
        .arg("0.5");
    let started = Instant::now();
    let (code, report) = fixture.doctor();
    let elapsed = started.elapsed();
    assert_eq!(code, 1);
    // No answer to either request: one cause, one finding, in plain words.
    let online: Vec<&serde_json::Value> = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["id"].as_str().unwrap().starts_with("online-"))
        .collect();
    assert_eq!(online.len(), 1, "{report:#}");
    let message = online[0]["message"].as_str().unwrap();
    assert_eq!(
        message,
        "cannot reach 127.0.0.1: no answer within 0.5 s: neither the key nor a test span could be checked"
    );
    assert!(
        online[0]["fix"]
            .as_str()
            .unwrap()
            .contains("tracelab listen")
    );
    // Both requests wait at the same time: well under two timeouts.
    assert!(elapsed < Duration::from_millis(950), "took {elapsed:?}");
    drop(silent);
}

/// A port nothing listens on is said so, not in the HTTP library's words.
#[test]
fn a_closed_port_is_named_as_such() {
    let closed = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let fixture = Fixture::new("honeycomb")
        .edit(
            "docker-compose.yml",
            "\"https://api.honeycomb.io\"",
            &format!("\"http://127.0.0.1:{port}\""),
        )
        .arg("--online");
    let output = fixture.run(&["--json"]);
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        text.contains("cannot reach 127.0.0.1: nothing listens there (connection refused)"),
        "{text}"
    );
    assert!(
        !text.contains("io:") && !text.contains("timeout: global"),
        "{text}"
    );
}
