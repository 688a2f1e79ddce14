//! An OTLP/HTTP trace receiver: answers `POST /v1/traces` as a collector does
//! and hands every decoded batch to a sink.

use std::io::Read;
use std::net::SocketAddr;
use std::sync::Arc;
use std::thread::JoinHandle;

use anyhow::{Result, anyhow};
use tiny_http::{Header, Method, Request, Response, Server};

use crate::fingerprint::fingerprint;
use crate::otlp::{self, DecodeError, Encoding, MAX_BODY_BYTES, SpanRecord};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;

/// What one export request carried.
#[derive(Debug, Clone)]
pub struct Batch {
    pub spans: Vec<SpanRecord>,
    /// Fingerprint of the `x-honeycomb-team` header the exporter sent, if any.
    pub team: Option<String>,
    /// The request as it came, to pass on unchanged (`tracelab run --listen`).
    pub raw: Arc<RawRequest>,
}

/// An export request's body and end-to-end headers (not Host, not the
/// hop-by-hop ones), as received.
#[derive(Debug, Default)]
pub struct RawRequest {
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl RawRequest {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The request decoded again (for --save: only then is it needed twice).
    pub fn request(&self) -> Result<ExportTraceServiceRequest, DecodeError> {
        let encoding = Encoding::from_content_type(self.header("Content-Type").unwrap_or_default())
            .unwrap_or(Encoding::Protobuf);
        let gzipped = self
            .header("Content-Encoding")
            .is_some_and(|e| e.eq_ignore_ascii_case("gzip"));
        otlp::decode_request(&self.body, encoding, gzipped)
    }
}

pub type Sink = Arc<dyn Fn(Batch) + Send + Sync>;

pub struct Receiver {
    server: Arc<Server>,
    workers: Vec<JoinHandle<()>>,
    addr: SocketAddr,
}

impl Receiver {
    /// Binds `addr` (port 0 picks a free one) and serves on `threads` threads.
    pub fn start(addr: &str, threads: usize, sink: Sink) -> Result<Self> {
        let server = Server::http(addr).map_err(|e| {
            anyhow!("cannot listen on {addr}: {e} (is another receiver already running there? pick another --port)")
        })?;
        let addr = server
            .server_addr()
            .to_ip()
            .ok_or_else(|| anyhow!("{addr} is not an IP address"))?;
        let server = Arc::new(server);
        let workers = (0..threads.max(1))
            .map(|_| {
                let server = Arc::clone(&server);
                let sink = Arc::clone(&sink);
                std::thread::spawn(move || {
                    while let Ok(request) = server.recv() {
                        handle(request, &sink);
                    }
                })
            })
            .collect();
        Ok(Receiver {
            server,
            workers,
            addr,
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops accepting and waits for requests in flight to finish.
    pub fn stop(self) {
        self.server.unblock();
        for _ in 1..self.workers.len() {
            self.server.unblock();
        }
        for worker in self.workers {
            let _ = worker.join();
        }
    }
}

fn header<'a>(request: &'a Request, name: &str) -> Option<&'a str> {
    request
        .headers()
        .iter()
        .find(|h| h.field.as_str().as_str().eq_ignore_ascii_case(name))
        .map(|h| h.value.as_str())
}

fn text(status: u16, message: &str) -> Response<std::io::Cursor<Vec<u8>>> {
    Response::from_string(format!("{message}\n"))
        .with_status_code(status)
        .with_header(Header::from_bytes("Content-Type", "text/plain; charset=utf-8").unwrap())
}

fn handle(mut request: Request, sink: &Sink) {
    let response = match accept(&mut request) {
        Ok((batch, encoding)) => {
            sink(batch);
            Response::from_data(otlp::success_response(encoding))
                .with_header(Header::from_bytes("Content-Type", encoding.content_type()).unwrap())
        }
        Err((status, message)) => text(status, &message),
    };
    // The exporter may have hung up; there is no one left to tell.
    let _ = request.respond(response);
}

fn accept(request: &mut Request) -> Result<(Batch, Encoding), (u16, String)> {
    let path = request.url().split('?').next().unwrap_or_default();
    if path != "/v1/traces" {
        return Err((
            404,
            format!("no such path {path}: send traces to POST /v1/traces"),
        ));
    }
    if *request.method() != Method::Post {
        return Err((405, "use POST for /v1/traces".into()));
    }
    let content_type = header(request, "Content-Type").unwrap_or_default();
    let encoding = Encoding::from_content_type(content_type).ok_or_else(|| {
        (415, format!("unsupported Content-Type {content_type:?}: use application/x-protobuf or application/json"))
    })?;
    let gzipped = match header(request, "Content-Encoding").map(str::to_ascii_lowercase) {
        None => false,
        Some(e) if e == "identity" => false,
        Some(e) if e == "gzip" => true,
        Some(other) => {
            return Err((
                415,
                format!("unsupported Content-Encoding {other:?}: use gzip or none"),
            ));
        }
    };
    if request
        .body_length()
        .is_some_and(|len| len > MAX_BODY_BYTES)
    {
        return Err((413, format!("body larger than {MAX_BODY_BYTES} bytes")));
    }
    let team = header(request, "x-honeycomb-team").map(fingerprint);
    let mut body = Vec::new();
    request
        .as_reader()
        .take(MAX_BODY_BYTES as u64 + 1)
        .read_to_end(&mut body)
        .map_err(|e| (400, format!("cannot read the body: {e}")))?;
    if body.len() > MAX_BODY_BYTES {
        return Err((413, format!("body larger than {MAX_BODY_BYTES} bytes")));
    }
    let spans = otlp::decode(&body, encoding, gzipped).map_err(|e| match e {
        DecodeError::TooLarge => (413, e.to_string()),
        _ => (400, e.to_string()),
    })?;
    const HOP_BY_HOP: &[&str] = &[
        "host",
        "content-length",
        "connection",
        "transfer-encoding",
        "keep-alive",
    ];
    let headers = request
        .headers()
        .iter()
        .map(|h| {
            (
                h.field.as_str().as_str().to_string(),
                h.value.as_str().to_string(),
            )
        })
        .filter(|(name, _)| !HOP_BY_HOP.contains(&name.to_ascii_lowercase().as_str()))
        .collect();
    let raw = Arc::new(RawRequest { headers, body });
    Ok((Batch { spans, team, raw }, encoding))
}
