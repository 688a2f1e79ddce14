//! listen under attack or bad luck: every body is generated here, sent to a
//! real `tracelab listen`, and what the process then holds is read from
//! /proc. Each test is a probe that once broke it: a chain of spans that
//! printed in its depth squared, a few kilobytes of gzip holding millions
//! of spans, large requests past `--keep`, pages waiting by the thousand,
//! no file descriptors left, and a web page that renamed itself 127.0.0.1.

use crate::common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::unix::process::CommandExt;
use std::time::{Duration, Instant};

use crate::common::listener::{Listener, agent, post};
use flate2::Compression;
use flate2::write::GzEncoder;
use opentelemetry_proto::tonic::trace::v1::Span;
use prost::Message;
use tracelab::otlp::{request_for, string_attribute};

const PROTOBUF: &str = "application/x-protobuf";

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::best());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// One trace of `n` spans, each the parent of the next.
fn chain(n: usize) -> Vec<u8> {
    let id = |i: usize| (i as u64 + 1).to_be_bytes().to_vec();
    let spans = (0..n)
        .map(|i| Span {
            trace_id: vec![7; 16],
            span_id: id(i),
            parent_span_id: if i == 0 { vec![] } else { id(i - 1) },
            name: "step".into(),
            kind: if i == 0 { 2 } else { 1 },
            start_time_unix_nano: 1_000_000 + i as u64,
            end_time_unix_nano: 9_000_000_000,
            ..Default::default()
        })
        .collect();
    gzip(&request_for("chain", spans).encode_to_vec())
}

/// A request of `n` empty spans, two bytes each on the wire.
fn empty_spans(n: usize) -> Vec<u8> {
    let scope: Vec<u8> = std::iter::repeat_n([0x12u8, 0x00], n).flatten().collect();
    let mut resource = vec![0x12];
    prost::encoding::encode_varint(scope.len() as u64, &mut resource);
    resource.extend(&scope);
    let mut body = vec![0x0a];
    prost::encoding::encode_varint(resource.len() as u64, &mut body);
    body.extend(&resource);
    gzip(&body)
}

/// `spans` spans of trace `trace`, each with `attribute_bytes` of attribute.
fn heavy(trace: u32, spans: usize, attribute_bytes: usize) -> Vec<u8> {
    let mut trace_id = vec![0; 12];
    trace_id.extend(trace.to_be_bytes());
    let spans = (0..spans)
        .map(|i| Span {
            trace_id: trace_id.clone(),
            span_id: (i as u64 + 1).to_be_bytes().to_vec(),
            name: format!("span-{i}"),
            start_time_unix_nano: 1,
            end_time_unix_nano: 2,
            attributes: vec![string_attribute("app.blob", &"x".repeat(attribute_bytes))],
            ..Default::default()
        })
        .collect();
    request_for("heavy", spans).encode_to_vec()
}

/// Peak resident memory of a process, in MB (VmHWM).
fn peak_mb(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap();
    kb / 1024
}

/// CPU time a process has used (user + system).
fn cpu_time(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .unwrap()
        .1
        .split_whitespace()
        .collect();
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    // /proc counts in USER_HZ, which Linux fixes at 100 for every program.
    Duration::from_millis(ticks * 10)
}

/// How long one small export takes to be answered.
fn export_latency(url: &str, trace: u8) -> Duration {
    let body = common::listener::request("probe", 3, trace).encode_to_vec();
    let started = Instant::now();
    let (status, _, _) = post(url, PROTOBUF, None, &body);
    assert_eq!(status, 200);
    started.elapsed()
}

fn get(url: &str) -> (u16, String) {
    let mut response = agent().get(url).call().unwrap();
    let status = response.status().as_u16();
    (
        status,
        response.body_mut().read_to_string().unwrap_or_default(),
    )
}

#[test]
fn a_chain_of_sixty_thousand_spans_is_kept_and_printed_within_bounds() {
    let listener = Listener::start(&[]);
    let body = chain(60_000);
    assert!(body.len() < 1_000_000, "{} bytes", body.len());
    let (status, _, _) = post(&listener.url, PROTOBUF, Some("gzip"), &body);
    assert_eq!(status, 200);
    let out = listener.wait_for_output("more spans", Duration::from_secs(20));
    assert!(out.len() < 100_000, "{} bytes printed", out.len());
    assert!(out.contains("... and 9800 more spans"), "{out}");
    assert!(out.contains("[depth 199] step"), "{out:.2000}");
    // The detail view of the kept part, while exports are answered.
    let web = listener.web.clone().unwrap();
    let started = Instant::now();
    let (status, detail) = get(&format!("{web}/api/traces/{}", "07".repeat(16)));
    assert_eq!(status, 200);
    assert!(started.elapsed() < Duration::from_secs(5));
    let detail: serde_json::Value = serde_json::from_str(&detail).unwrap();
    assert_eq!(detail["omitted"], 8_000);
    let latency = export_latency(&listener.url, 1);
    println!("chain of 60,000: an export beside it answered in {latency:?}");
    assert!(latency < Duration::from_secs(1));
    let peak = peak_mb(listener.child.id());
    println!("chain of 60,000: peak {peak} MB");
    assert!(peak < 300, "peak {peak} MB");
    let summary = listener.interrupt();
    assert!(summary.contains("50000 spans not kept"), "{summary}");
}

#[test]
fn millions_of_empty_spans_in_a_few_kilobytes_are_refused_before_they_are_built() {
    let listener = Listener::start(&["--no-web"]);
    let body = empty_spans(4_000_000);
    assert!(body.len() < 20_000, "{} bytes", body.len());
    let started = Instant::now();
    let (status, _, answer) = post(&listener.url, PROTOBUF, Some("gzip"), &body);
    let answer = String::from_utf8_lossy(&answer);
    assert_eq!(status, 413, "{answer}");
    assert!(answer.contains("4000000 spans in one request"), "{answer}");
    assert!(
        answer.contains("OTEL_BSP_MAX_EXPORT_BATCH_SIZE"),
        "{answer}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert!(export_latency(&listener.url, 1) < Duration::from_secs(1));
    let peak = peak_mb(listener.child.id());
    println!("4,000,000 empty spans: peak {peak} MB");
    assert!(peak < 150, "peak {peak} MB");
}

/// Eight requests of 1.2 MB at once, then eighty more: under `--keep 1`
/// (the probe that once left 2.26 GB resident), and under a memory budget
/// far below what they hold, whose evictions are counted.
#[test]
fn large_requests_stay_under_the_memory_budget_and_the_eviction_is_counted() {
    for (args, evicted) in [
        (&["--keep", "1"][..], "dropped to keep the last 1 (--keep)"),
        (
            &["--max-memory", "32M"][..],
            "dropped to stay under --max-memory",
        ),
    ] {
        let listener = Listener::start(&[&["--no-web"], args].concat());
        let url = listener.url.clone();
        let send = |first: u32, count: u32| {
            let threads: Vec<_> = (first..first + count)
                .map(|trace| {
                    let url = url.clone();
                    std::thread::spawn(move || {
                        let body = heavy(trace, 400, 3_000);
                        assert!(body.len() > 1_200_000);
                        post(&url, PROTOBUF, None, &body).0
                    })
                })
                .collect();
            for thread in threads {
                assert_eq!(thread.join().unwrap(), 200);
            }
        };
        send(1, 8);
        for round in 0..10 {
            send(100 + round * 8, 8);
        }
        let latency = export_latency(&listener.url, 1);
        println!(
            "88 requests of 1.2 MB with {args:?}: an export after them answered in {latency:?}"
        );
        assert!(latency < Duration::from_secs(1));
        let peak = peak_mb(listener.child.id());
        println!("88 requests of 1.2 MB with {args:?}: peak {peak} MB");
        assert!(peak < 250, "{args:?}: peak {peak} MB");
        let summary = listener.interrupt();
        assert!(summary.contains(evicted), "{summary}");
    }
}

#[test]
fn exports_are_answered_while_thousands_of_pages_wait_and_large_views_are_built() {
    // Room for the waiting pages' sockets, here and in the listener.
    let (_, hard) =
        nix::sys::resource::getrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE).unwrap();
    let waiters = 2_000.min(hard.saturating_sub(200) as usize);
    nix::sys::resource::setrlimit(
        nix::sys::resource::Resource::RLIMIT_NOFILE,
        hard.min(4_096),
        hard,
    )
    .unwrap();
    let listener = Listener::start(&[]);
    let web = listener.web.clone().unwrap();
    let (status, _, _) = post(&listener.url, PROTOBUF, Some("gzip"), &chain(10_000));
    assert_eq!(status, 200);
    let (_, list) = get(&format!("{web}/api/traces"));
    let version: serde_json::Value = serde_json::from_str(&list).unwrap();
    let version = version["version"].as_u64().unwrap();
    let address = web.trim_start_matches("http://").to_string();
    let mut pages: Vec<TcpStream> = (0..waiters)
        .map(|_| {
            let mut page = TcpStream::connect(&address).unwrap();
            write!(
                page,
                "GET /api/traces?after={version} HTTP/1.1\r\nHost: localhost\r\n\r\n"
            )
            .unwrap();
            page
        })
        .collect();
    // Large views built over and over beside them.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let viewer = {
        let (stop, url) = (
            stop.clone(),
            format!("{web}/api/traces/{}", "07".repeat(16)),
        );
        std::thread::spawn(move || {
            while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                assert_eq!(get(&url).0, 200);
            }
        })
    };
    std::thread::sleep(Duration::from_millis(500));
    let latencies: Vec<Duration> = (0..20)
        .map(|i| {
            let latency = export_latency(&listener.url, i);
            std::thread::sleep(Duration::from_millis(50));
            latency
        })
        .collect();
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    viewer.join().unwrap();
    let worst = latencies.iter().max().unwrap();
    println!("{waiters} waiting pages and a 10,000-span view: worst export {worst:?}");
    assert!(*worst < Duration::from_secs(1), "{latencies:?}");
    // Every page got its answer: the list after the first export.
    let mut answered = 0;
    for page in &mut pages {
        page.set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let mut head = [0u8; 12];
        if page.read_exact(&mut head).is_ok() && head.starts_with(b"HTTP/1.1 200") {
            answered += 1;
        }
    }
    assert_eq!(answered, waiters);
}

#[test]
fn out_of_file_descriptors_the_receiver_rests_instead_of_spinning() {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_tracelab"));
    command.args(["listen", "--port", "0", "--no-web"]);
    // SAFETY: setrlimit is async-signal-safe; nothing else runs in the child.
    unsafe {
        command.pre_exec(|| {
            nix::sys::resource::setrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE, 40, 40)
                .map_err(std::io::Error::from)
        });
    }
    command
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped());
    let mut child = command.spawn().unwrap();
    let mut first = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stderr.take().unwrap()),
        &mut first,
    )
    .unwrap();
    let url = first
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap()
        .trim_end_matches("/v1/traces")
        .to_string();
    let address = url.trim_start_matches("http://").to_string();
    let idle: Vec<TcpStream> = (0..80)
        .map(|_| TcpStream::connect(&address).unwrap())
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    let before = cpu_time(child.id());
    std::thread::sleep(Duration::from_secs(2));
    let used = cpu_time(child.id()) - before;
    println!("out of descriptors for 2 s: {used:?} of CPU");
    assert!(used < Duration::from_millis(500), "{used:?}");
    drop(idle);
    let started = Instant::now();
    let mut answered = false;
    while started.elapsed() < Duration::from_secs(15) && !answered {
        let body = common::listener::request("probe", 1, 1).encode_to_vec();
        answered = agent()
            .post(format!("{url}/v1/traces"))
            .header("Content-Type", PROTOBUF)
            .send(&body[..])
            .is_ok_and(|r| r.status() == 200);
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        answered,
        "no export answered once the descriptors were back"
    );
}

#[test]
fn both_ports_answer_only_to_this_machines_names() {
    let listener = Listener::start(&["--allow-host", "devbox.lan"]);
    let web = listener.web.clone().unwrap();
    let body = common::listener::request("api", 1, 1).encode_to_vec();
    let send = |host: &str| {
        let mut response = agent()
            .post(format!("{}/v1/traces", listener.url))
            .header("Content-Type", PROTOBUF)
            .header("Host", host)
            .send(&body[..])
            .unwrap();
        let text = response.body_mut().read_to_string().unwrap_or_default();
        (response.status().as_u16(), text)
    };
    let page = |host: &str| {
        let mut response = agent()
            .get(format!("{web}/api/traces"))
            .header("Host", host)
            .call()
            .unwrap();
        let text = response.body_mut().read_to_string().unwrap_or_default();
        (response.status().as_u16(), text)
    };
    for host in ["rebound.example:4320", "localhost.rebound.example"] {
        let (status, text) = send(host);
        assert_eq!(status, 403, "{host}: {text}");
        assert!(text.contains("--allow-host"), "{text}");
        let (status, text) = page(host);
        assert_eq!(status, 403, "{host}: {text}");
        assert!(!text.contains("traces"), "{text}");
    }
    for host in [
        "localhost:4318",
        "127.0.0.1",
        "host.docker.internal:4318",
        "devbox.lan",
    ] {
        assert_eq!(send(host).0, 200, "{host}");
        assert_eq!(page(host).0, 200, "{host}");
    }
}

/// Keys an app put into its spans are shown as fingerprints everywhere a
/// person or a script reads them: the trees, --json, the web view and its
/// download.
#[test]
fn keys_in_span_attributes_are_shown_as_fingerprints() {
    let key = "hcaik_01jq7w3e5r7t9y1u3i5o7p9a1s3d5f7g9h1j3k5l7z9x1c3v5b7n9m1q3w";
    let secrets = [key, "s3cr3t-value-123456", "pw123456789", "abcdefgh12345"];
    let span = Span {
        trace_id: vec![9; 16],
        span_id: vec![1; 8],
        name: "GET /api/keys".into(),
        kind: 2,
        start_time_unix_nano: 1,
        end_time_unix_nano: 2,
        attributes: vec![
            string_attribute("app.api_key", secrets[1]),
            string_attribute(
                "http.url",
                &format!("https://user:{}@host/x?token={}", secrets[2], secrets[3]),
            ),
            string_attribute("app.note", &format!("sent with {key}")),
            string_attribute("http.route", "/api/keys"),
        ],
        ..Default::default()
    };
    let body = request_for("api", vec![span]).encode_to_vec();
    for json in [false, true] {
        let listener = Listener::start(if json { &["--json"][..] } else { &[][..] });
        assert_eq!(post(&listener.url, PROTOBUF, None, &body).0, 200);
        let printed = listener.wait_for_output("api/keys", Duration::from_secs(10));
        let web = listener.web.clone().unwrap();
        let trace = format!("{web}/api/traces/{}", "09".repeat(16));
        let (_, detail) = get(&trace);
        let (_, download) = get(&format!("{trace}/otlp.json"));
        for (what, text) in [
            ("output", &printed),
            ("detail", &detail),
            ("download", &download),
        ] {
            for secret in secrets {
                assert!(!text.contains(secret), "{what} shows {secret}: {text}");
            }
            assert!(text.contains("hcaik_…(64 chars"), "{what}: {text}");
        }
        assert!(detail.contains("/api/keys"), "{detail}");
    }
}
