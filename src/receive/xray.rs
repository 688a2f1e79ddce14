//! A stand-in for the X-Ray daemon: a UDP socket that reads what the X-Ray
//! SDK sends it (a JSON header line, then one segment or subsegment
//! document) and keeps what `doctor --deep` and `run` report on; and, on
//! the same port over TCP, the daemon's sampling API answering "no
//! centralized rules", so the SDK samples by its local rules instead of
//! logging a traceback each time it polls.

use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, Result};
use hyper::StatusCode;
use serde_json::Value;

use crate::receive::hosts::AllowedHosts;
use crate::receive::http::{DEFAULT_READ_TIMEOUT, Handler, Limits, Server, reply, text};

/// One document as the SDK sent it: a segment, or a subsegment sent on its
/// own (streamed when a segment grows large).
#[derive(Debug, Clone)]
pub struct Document {
    pub name: String,
    pub is_subsegment: bool,
    pub fault: bool,
    pub error: bool,
    /// Subsegments, at any depth, still in progress when it was sent.
    pub open: Vec<String>,
    /// Every subsegment's name, at any depth.
    pub subsegments: Vec<String>,
    /// The path of the request it traced (`http.request.url`).
    pub path: Option<String>,
}

pub struct Daemon {
    addr: SocketAddr,
    received: Arc<Mutex<Vec<Document>>>,
    stop: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<()>,
    sampling: Server,
}

/// The daemon's sampling API, as the SDK polls it: no rules, no targets.
fn sampling_api() -> Handler {
    Arc::new(|parts, _body| {
        Box::pin(async move {
            let body = match parts.uri.path() {
                "/GetSamplingRules" => r#"{"SamplingRuleRecords": []}"#,
                "/SamplingTargets" => {
                    r#"{"SamplingTargetDocuments": [], "LastRuleModification": 0, "UnprocessedStatistics": []}"#
                }
                _ => return text(StatusCode::NOT_FOUND, "not an X-Ray daemon route"),
            };
            reply(StatusCode::OK, "application/json", body)
        })
    })
}

/// A UDP socket and a TCP listener on the same free port.
fn bind_both() -> Result<(UdpSocket, std::net::TcpListener)> {
    let mut last = None;
    for _ in 0..20 {
        let socket = UdpSocket::bind("127.0.0.1:0").context("cannot bind a UDP port for X-Ray")?;
        match std::net::TcpListener::bind(socket.local_addr()?) {
            Ok(listener) => return Ok((socket, listener)),
            Err(e) => last = Some(e),
        }
    }
    Err(anyhow::anyhow!(
        "no port free for both UDP and TCP for the X-Ray daemon's stand-in: {}",
        last.map(|e| e.to_string()).unwrap_or_default()
    ))
}

impl Daemon {
    pub fn start(runtime: Arc<tokio::runtime::Runtime>) -> Result<Self> {
        let (socket, listener) = bind_both()?;
        socket.set_read_timeout(Some(Duration::from_millis(100)))?;
        let addr = socket.local_addr()?;
        let limits = Limits {
            read_timeout: DEFAULT_READ_TIMEOUT,
            max_body_bytes: 1 << 20,
            hosts: AllowedHosts::default(),
        };
        let sampling = Server::start(runtime, listener, limits, sampling_api())?;
        let received: Arc<Mutex<Vec<Document>>> = Arc::default();
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (received, stop) = (Arc::clone(&received), Arc::clone(&stop));
            std::thread::spawn(move || {
                // The daemon's own limit: a datagram is at most 64 KB.
                let mut buffer = vec![0u8; 65_536];
                while !stop.load(Ordering::SeqCst) {
                    let Ok(size) = socket.recv(&mut buffer) else {
                        continue;
                    };
                    if let Some(document) = parse(&buffer[..size]) {
                        received
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .push(document);
                    }
                }
            })
        };
        Ok(Daemon {
            addr,
            received,
            stop,
            thread,
            sampling,
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn received(&self) -> Vec<Document> {
        self.received
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub fn stop(self) -> Vec<Document> {
        self.stop.store(true, Ordering::SeqCst);
        let _ = self.thread.join();
        self.sampling.stop();
        self.received
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

/// `{"format": "json", "version": 1}\n{document}`, as the daemon reads it.
pub fn parse(datagram: &[u8]) -> Option<Document> {
    let text = std::str::from_utf8(datagram).ok()?;
    let (header, body) = text.split_once('\n')?;
    let header: Value = serde_json::from_str(header).ok()?;
    if header.get("format")?.as_str()? != "json" {
        return None;
    }
    let document: Value = serde_json::from_str(body).ok()?;
    let mut open = Vec::new();
    let mut subsegments = Vec::new();
    walk_subsegments(&document, &mut open, &mut subsegments);
    Some(Document {
        name: document.get("name")?.as_str()?.to_string(),
        is_subsegment: document.get("type").and_then(Value::as_str) == Some("subsegment"),
        fault: document.get("fault").and_then(Value::as_bool) == Some(true),
        error: document.get("error").and_then(Value::as_bool) == Some(true),
        open,
        subsegments,
        path: document
            .pointer("/http/request/url")
            .and_then(Value::as_str)
            .map(url_path),
    })
}

/// `http://127.0.0.1:4567/api/x?y=1` to `/api/x`.
fn url_path(url: &str) -> String {
    let after_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
    let path = after_scheme.find('/').map_or("/", |at| &after_scheme[at..]);
    path.split(['?', '#']).next().unwrap_or("/").to_string()
}

fn walk_subsegments(document: &Value, open: &mut Vec<String>, all: &mut Vec<String>) {
    let Some(children) = document.get("subsegments").and_then(Value::as_array) else {
        return;
    };
    for child in children {
        let name = child
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or("?")
            .to_string();
        if child.get("in_progress").and_then(Value::as_bool) == Some(true) {
            open.push(name.clone());
        }
        all.push(name);
        walk_subsegments(child, open, all);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_segment_with_an_open_subsegment_is_read_as_the_daemon_reads_it() {
        let datagram = br#"{"format": "json", "version": 1}
{"name": "backend-flask", "id": "1", "trace_id": "1-5f-abc", "start_time": 1, "end_time": 2, "fault": true, "http": {"request": {"url": "http://127.0.0.1:4567/api/activities/home?x=1", "method": "GET"}}, "subsegments": [{"name": "mock-data", "in_progress": true, "subsegments": [{"name": "inner"}]}]}"#;
        let document = parse(datagram).unwrap();
        assert_eq!(document.name, "backend-flask");
        assert!(document.fault && !document.error && !document.is_subsegment);
        assert_eq!(document.open, ["mock-data"]);
        assert_eq!(document.subsegments, ["mock-data", "inner"]);
        assert_eq!(document.path.as_deref(), Some("/api/activities/home"));
        assert!(parse(b"not json\n{}").is_none());
        assert!(parse(b"{\"format\":\"json\"}").is_none());
    }
}
