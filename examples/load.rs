//! Load generator for `tracelab listen`: THREADS exporters each send REQUESTS
//! protobuf batches of SPANS spans, and the spans per second are reported.
//!
//! cargo run --release --example load -- URL [THREADS] [REQUESTS] [SPANS]

use std::time::{Duration, Instant};

use opentelemetry_proto::tonic::trace::v1::Span;
use prost::Message;
use tracelab::otlp::{request_for, string_attribute};

fn batch(seed: u64, spans: usize) -> Vec<u8> {
    let spans = (0..spans as u64)
        .map(|i| Span {
            trace_id: [seed.to_be_bytes(), i.to_be_bytes()].concat(),
            span_id: (seed ^ i).to_be_bytes().to_vec(),
            name: "GET /api/activities/home".into(),
            kind: 2,
            start_time_unix_nano: 1,
            end_time_unix_nano: 2_000_000,
            attributes: vec![
                string_attribute("http.route", "/api/activities/home"),
                string_attribute("app.now", "2026-11-21T00:00:00"),
            ],
            ..Default::default()
        })
        .collect();
    request_for("load", spans).encode_to_vec()
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(url) = args.first() else {
        eprintln!("usage: load URL [THREADS] [REQUESTS] [SPANS]");
        std::process::exit(2);
    };
    let number =
        |i: usize, default: usize| args.get(i).and_then(|a| a.parse().ok()).unwrap_or(default);
    let (threads, requests, spans) = (number(1, 8), number(2, 250), number(3, 50));
    let url = format!("{}/v1/traces", url.trim_end_matches('/'));
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into();
    let started = Instant::now();
    std::thread::scope(|scope| {
        for t in 0..threads {
            let (agent, url) = (agent.clone(), url.clone());
            scope.spawn(move || {
                for r in 0..requests {
                    let body = batch((t * requests + r) as u64, spans);
                    agent
                        .post(&url)
                        .header("Content-Type", "application/x-protobuf")
                        .send(&body[..])
                        .expect("the receiver answers 200");
                }
            });
        }
    });
    let seconds = started.elapsed().as_secs_f64();
    let total = threads * requests * spans;
    println!(
        "{total} spans in {} requests from {threads} threads: {seconds:.2} s, {:.0} spans/s, {:.0} requests/s",
        threads * requests,
        total as f64 / seconds,
        (threads * requests) as f64 / seconds
    );
}
