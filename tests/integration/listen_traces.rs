//! `tracelab listen` as a trace viewer: spans merged into whole traces,
//! the reason a trace is incomplete, Honeycomb links from a fake `/1/auth`,
//! bounded memory, and exporters that stall.

use crate::common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::common::app::wait_until;
use crate::common::honeycomb::{FakeHoneycomb, INGEST_AUTH};
use crate::common::listener::{Listener, post};
use opentelemetry_proto::tonic::trace::v1::Span;
use prost::Message;
use tracelab::otlp::request_for;

const INTERNAL: i32 = 1;
const SERVER: i32 = 2;

fn span(trace: &[u8], id: u8, parent: Option<u8>, kind: i32, start_ms: u64, end_ms: u64) -> Span {
    Span {
        trace_id: trace.to_vec(),
        span_id: vec![id; 8],
        parent_span_id: parent.map(|p| vec![p; 8]).unwrap_or_default(),
        name: format!("span-{id}"),
        kind,
        start_time_unix_nano: 1_700_000_000_000_000_000 + start_ms * 1_000_000,
        end_time_unix_nano: 1_700_000_000_000_000_000 + end_ms * 1_000_000,
        ..Default::default()
    }
}

fn send(listener: &Listener, service: &str, spans: Vec<Span>) {
    let body = request_for(service, spans).encode_to_vec();
    let (status, _, answer) = post(&listener.url, "application/x-protobuf", None, &body);
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&answer));
}

/// The leaf first, then the middle span, then the root, each in its own
/// request: one tree, printed once, when the root has come.
#[test]
fn a_trace_split_over_three_requests_out_of_order_prints_as_one_tree() {
    let listener = Listener::start(&[]);
    let trace = [3u8; 16];
    send(
        &listener,
        "api",
        vec![span(&trace, 3, Some(2), INTERNAL, 20, 30)],
    );
    send(
        &listener,
        "api",
        vec![span(&trace, 2, Some(1), INTERNAL, 10, 40)],
    );
    std::thread::sleep(Duration::from_millis(400));
    assert!(
        listener.output().is_empty(),
        "printed before the root came: {:?}",
        listener.output()
    );
    send(&listener, "api", vec![span(&trace, 1, None, SERVER, 0, 50)]);
    let lines = listener.wait_for_lines(4);
    assert_eq!(
        lines,
        [
            format!("trace {} api  3 spans, 50.0 ms", "03".repeat(16)),
            "  span-1 50.0 ms".to_string(),
            "    span-2 30.0 ms".to_string(),
            "      span-3 10.0 ms".to_string(),
        ]
    );
    let summary = listener.interrupt();
    assert!(
        summary.contains("1 trace, 3 spans in 3 requests"),
        "{summary}"
    );
}

/// An exporter that gets no answer in time sends the same batch again: the
/// spans are kept once, the tree is not printed twice, and the summary says so.
#[test]
fn a_batch_sent_again_by_a_retrying_exporter_is_kept_once() {
    let listener = Listener::start(&[]);
    let trace = [4u8; 16];
    let batch = || {
        vec![
            span(&trace, 2, Some(1), INTERNAL, 10, 40),
            span(&trace, 1, None, SERVER, 0, 50),
        ]
    };
    send(&listener, "api", batch());
    let tree = listener.wait_for_lines(3);
    send(&listener, "api", batch());
    std::thread::sleep(Duration::from_millis(400));
    assert_eq!(
        listener.output(),
        tree,
        "printed again for a repeated batch"
    );
    assert_eq!(
        tree[0],
        format!("trace {} api  2 spans, 50.0 ms", "04".repeat(16))
    );
    let summary = listener.interrupt();
    assert!(
        summary.contains("1 trace, 4 spans in 2 requests; services: api; 2 spans sent again by a retrying exporter, kept once"),
        "{summary}"
    );
}

/// A parent that never comes: the trace waits the quiet interval, then is
/// printed as it is, with the reason.
#[test]
fn a_parent_that_never_came_is_named_after_the_quiet_interval() {
    let listener = Listener::start(&["--wait-for-parent", "0.6"]);
    let started = Instant::now();
    send(
        &listener,
        "worker",
        vec![span(&[4; 16], 2, Some(1), INTERNAL, 0, 5)],
    );
    let lines = listener.wait_for_lines(1);
    assert!(
        started.elapsed() >= Duration::from_millis(600),
        "printed before the quiet interval"
    );
    let text = lines.join("\n");
    assert!(
        text.contains(&format!(
            "{} never came: a span that is never ended is never exported",
            "01".repeat(8)
        )),
        "{text}"
    );
    listener.interrupt();
}

/// Stopped while a root may still come: the reason is the exporter's delay.
#[test]
fn a_root_not_yet_arrived_is_explained_when_listen_stops() {
    let mut listener = Listener::start(&[]);
    send(
        &listener,
        "worker",
        vec![span(&[5; 16], 2, Some(1), INTERNAL, 0, 5)],
    );
    std::thread::sleep(Duration::from_millis(300));
    assert!(listener.output().is_empty());
    listener.stop();
    let text = listener.output().join("\n");
    assert!(
        text.contains("worker \"span-2\": its parent has not arrived yet; a BatchSpanProcessor exports every 5 s"),
        "{text}"
    );
}

/// A server span whose parent is elsewhere (the frontend) is shown at once.
#[test]
fn a_remote_parent_is_shown_at_once_and_named() {
    let listener = Listener::start(&[]);
    send(
        &listener,
        "backend-flask",
        vec![span(&[6; 16], 2, Some(9), SERVER, 0, 5)],
    );
    let text = listener.wait_for_output("remote", Duration::from_secs(2));
    assert!(
        text.contains("its parent is remote, in a service that does not export here"),
        "{text}"
    );
    listener.interrupt();
}

/// The frontend's clock runs ahead: the backend's span starts before it.
#[test]
fn clock_skew_between_services_is_named() {
    let listener = Listener::start(&[]);
    let trace = [7u8; 16];
    send(
        &listener,
        "frontend",
        vec![span(&trace, 1, None, 3, 10, 60)],
    );
    send(
        &listener,
        "backend",
        vec![span(&trace, 2, Some(1), SERVER, 4, 30)],
    );
    let text = listener.wait_for_output("clock skew", Duration::from_secs(2));
    assert!(
        text.contains(
            "clock skew: backend \"span-2\" starts 6.0 ms before its parent, frontend \"span-1\""
        ),
        "{text}"
    );
    listener.interrupt();
}

#[test]
fn past_keep_the_oldest_traces_are_dropped_and_the_summary_says_so() {
    let listener = Listener::start(&["--keep", "2"]);
    for t in 1..=5u8 {
        send(
            &listener,
            "api",
            vec![span(&[t; 16], 1, None, SERVER, 0, 1)],
        );
    }
    let summary = listener.interrupt();
    assert!(
        summary.contains("5 traces, 5 spans in 5 requests; services: api; 3 oldest traces dropped to keep the last 2 (--keep)"),
        "{summary}"
    );
}

fn listen_with_honeycomb(api: &str) -> Listener {
    Listener::start_with_env(
        &["--honeycomb", common::doctor::KEY],
        &[("HONEYCOMB_API_ENDPOINT", api)],
    )
}

#[test]
fn each_root_gets_its_honeycomb_link_and_auth_is_asked_once() {
    let honeycomb = FakeHoneycomb::start(
        r#"{"id":"x","type":"ingest","api_key_access":{"events":true},"environment":{"name":"Test","slug":"test-env"},"team":{"name":"Bootcamp","slug":"bootcamp-team"}}"#,
    );
    let listener = listen_with_honeycomb(&honeycomb.url);
    listener.wait_for_stderr("bootcamp-team", Duration::from_secs(5));
    // Leading zero bytes: the link must keep all 32 hex digits.
    let mut trace = [0u8; 16];
    trace[4..].copy_from_slice(&[0xab; 12]);
    send(
        &listener,
        "backend-flask",
        vec![span(&trace, 1, None, SERVER, 0, 1500)],
    );
    send(
        &listener,
        "backend-flask",
        vec![span(&[9; 16], 1, None, SERVER, 0, 5)],
    );
    let text = wait_until("two linked trees", Duration::from_secs(5), || {
        let out = listener.output().join("\n");
        (out.matches("https://").count() == 2).then_some(out)
    });
    let expected = format!(
        "https://ui.honeycomb.io/bootcamp-team/environments/test-env/datasets/backend-flask/trace?trace_id=00000000{}&trace_start_ts=1699999999&trace_end_ts=1700000003",
        "ab".repeat(12)
    );
    let root = text
        .lines()
        .find(|l| l.contains("span-1 1500.0 ms"))
        .unwrap();
    assert!(root.ends_with(&expected), "{root}\nwanted {expected}");
    assert_eq!(honeycomb.paths(), ["/1/auth"], "asked once");
    listener.interrupt();
}

#[test]
fn a_classic_key_links_without_an_environment() {
    let honeycomb = FakeHoneycomb::start(
        r#"{"id":"x","type":"configuration","environment":{"name":"","slug":""},"team":{"name":"Old","slug":"old-team"}}"#,
    );
    let listener = listen_with_honeycomb(&honeycomb.url);
    listener.wait_for_stderr("a classic key", Duration::from_secs(5));
    send(
        &listener,
        "backend-flask",
        vec![span(&[9; 16], 1, None, SERVER, 0, 5)],
    );
    let text = listener.wait_for_output("https://", Duration::from_secs(5));
    assert!(
        text.contains("https://ui.honeycomb.io/old-team/datasets/backend-flask/trace?trace_id="),
        "{text}"
    );
    listener.interrupt();
}

/// Offline, or a key Honeycomb does not know: no link, and nothing said.
#[test]
fn no_answer_means_no_link_and_no_error() {
    let closed = {
        let socket = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", socket.local_addr().unwrap())
    };
    let unknown = FakeHoneycomb::start(INGEST_AUTH);
    for api in [closed, unknown.url.clone()] {
        let listener = Listener::start_with_env(
            &["--honeycomb", common::doctor::OTHER_KEY],
            &[("HONEYCOMB_API_ENDPOINT", &api)],
        );
        send(
            &listener,
            "backend-flask",
            vec![span(&[9; 16], 1, None, SERVER, 0, 5)],
        );
        let text = listener.wait_for_lines(1).join("\n");
        std::thread::sleep(Duration::from_millis(300));
        assert!(!text.contains("https://"), "{text}");
        let stderr = listener.stderr().join("\n");
        assert!(
            !stderr.contains("Honeycomb") && !stderr.contains("error"),
            "{stderr}"
        );
        listener.interrupt();
    }
}

/// 1,000 exporters send their headers and stop. A normal export is still
/// answered at once; the stalled ones are answered 408 and closed after
/// the read timeout.
#[test]
fn stalled_clients_do_not_stall_the_receiver() {
    let listener = Listener::start(&["--read-timeout", "2"]);
    let address = listener.url.trim_start_matches("http://").to_string();
    let stalled: Vec<TcpStream> = (0..1000)
        .map(|_| {
            let mut stream = TcpStream::connect(&address).unwrap();
            stream
                .write_all(b"POST /v1/traces HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/x-protobuf\r\nContent-Length: 100\r\n\r\n")
                .unwrap();
            stream
        })
        .collect();
    let opened = Instant::now();
    std::thread::sleep(Duration::from_millis(200));
    let body = request_for("api", vec![span(&[1; 16], 1, None, SERVER, 0, 1)]).encode_to_vec();
    // The first request opens a connection; time the one after it too.
    for _ in 0..2 {
        let started = Instant::now();
        let (status, _, _) = post(&listener.url, "application/x-protobuf", None, &body);
        let took = started.elapsed();
        assert_eq!(status, 200);
        assert!(
            took < Duration::from_millis(100),
            "a normal export took {took:?} beside 1,000 stalled ones"
        );
    }
    for mut stream in stalled {
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    }
    let waited = opened.elapsed();
    assert!(
        waited >= Duration::from_secs(2) - Duration::from_millis(50),
        "closed after {waited:?}, before the timeout"
    );
    assert!(
        waited < Duration::from_secs(6),
        "closed only after {waited:?}"
    );
    listener.interrupt();
}

/// 100,000 spans, in traces of 5, through the default --keep of 10,000
/// traces: half are dropped, and resident memory stays under 200 MB.
#[test]
fn memory_stays_bounded_at_100000_spans() {
    let listener = Listener::start(&["--no-web"]);
    let agent = common::listener::agent();
    let url = format!("{}/v1/traces", listener.url);
    std::thread::scope(|scope| {
        for thread in 0..4u32 {
            let (agent, url) = (agent.clone(), url.clone());
            scope.spawn(move || {
                for r in 0..250u32 {
                    let n = thread * 250 + r;
                    let spans = (0..100u32)
                        .map(|i| {
                            let mut trace = [0u8; 16];
                            trace[..4].copy_from_slice(&n.to_be_bytes());
                            trace[4..8].copy_from_slice(&(i / 5).to_be_bytes());
                            let mut s = span(
                                &trace,
                                (i % 5) as u8 + 1,
                                (i % 5 > 0).then_some(1),
                                SERVER,
                                0,
                                1,
                            );
                            s.attributes = vec![
                                tracelab::otlp::string_attribute(
                                    "http.route",
                                    "/api/activities/home",
                                ),
                                tracelab::otlp::string_attribute(
                                    "app.now",
                                    "2026-11-22T00:00:00.000000",
                                ),
                            ];
                            s
                        })
                        .collect();
                    agent
                        .post(&url)
                        .header("Content-Type", "application/x-protobuf")
                        .send(&request_for("load", spans).encode_to_vec()[..])
                        .unwrap();
                }
            });
        }
    });
    let status = std::fs::read_to_string(format!("/proc/{}/status", listener.child.id())).unwrap();
    let peak_kb: u64 = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse().ok())
        .unwrap();
    assert!(
        peak_kb < 200 * 1024,
        "peak resident memory {} MB",
        peak_kb / 1024
    );
    let summary = listener.interrupt();
    assert!(
        summary.contains("20000 traces, 100000 spans in 1000 requests; services: load; 10000 oldest traces dropped to keep the last 10000 (--keep)"),
        "{summary}"
    );
}
