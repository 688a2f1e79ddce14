//! An OTLP/HTTP trace receiver: answers `POST /v1/traces` as a collector does
//! and hands every decoded batch to a sink.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Result;
use hyper::body::Bytes;
use hyper::http::request::Parts;
use hyper::{Method, StatusCode};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use tokio::runtime::Runtime;

use super::hosts::AllowedHosts;
use super::http::{self, Handler, Limits, Reply, Server, header, reply, text};
use crate::fingerprint::fingerprint;
use crate::otlp::{self, DecodeError, Encoding, MAX_BODY_BYTES, ReceivedSpan};

/// What one export request carried.
#[derive(Debug, Clone)]
pub struct Batch {
    pub spans: Vec<ReceivedSpan>,
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
    pub body: Bytes,
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
    server: Server,
}

impl Receiver {
    /// Binds `addr` (port 0 picks a free one) and serves OTLP/HTTP on `runtime`.
    pub fn start(
        runtime: Arc<Runtime>,
        addr: &str,
        read_timeout: Duration,
        hosts: AllowedHosts,
        sink: Sink,
    ) -> Result<Self> {
        let handler: Handler = Arc::new(move |parts, body| {
            let reply = handle(&parts, body, &sink);
            Box::pin(async move { reply })
        });
        let limits = Limits {
            read_timeout,
            max_body_bytes: MAX_BODY_BYTES,
            hosts,
        };
        let server = Server::start(runtime, http::bind(addr, "--port")?, limits, handler)?;
        Ok(Receiver { server })
    }

    pub fn addr(&self) -> SocketAddr {
        self.server.addr()
    }

    /// Stops accepting and waits for requests in flight to finish.
    pub fn stop(self) {
        self.server.stop();
    }
}

fn handle(parts: &Parts, body: Bytes, sink: &Sink) -> Reply {
    match accept(parts, body) {
        Ok((batch, encoding)) => {
            sink(batch);
            reply(
                StatusCode::OK,
                encoding.content_type(),
                otlp::success_response(encoding),
            )
        }
        Err((status, message)) => text(status, &message),
    }
}

fn accept(parts: &Parts, body: Bytes) -> Result<(Batch, Encoding), (StatusCode, String)> {
    let path = parts.uri.path();
    if path != "/v1/traces" {
        return Err((
            StatusCode::NOT_FOUND,
            format!("no such path {path}: send traces to POST /v1/traces"),
        ));
    }
    if parts.method != Method::POST {
        return Err((
            StatusCode::METHOD_NOT_ALLOWED,
            "use POST for /v1/traces".into(),
        ));
    }
    let content_type = header(parts, "Content-Type").unwrap_or_default();
    let encoding = Encoding::from_content_type(content_type).ok_or_else(|| {
        (StatusCode::UNSUPPORTED_MEDIA_TYPE, format!("unsupported Content-Type {content_type:?}: use application/x-protobuf or application/json"))
    })?;
    let gzipped = match header(parts, "Content-Encoding").map(str::to_ascii_lowercase) {
        None => false,
        Some(e) if e == "identity" => false,
        Some(e) if e == "gzip" => true,
        Some(other) => {
            return Err((
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                format!("unsupported Content-Encoding {other:?}: use gzip or none"),
            ));
        }
    };
    let team = header(parts, "x-honeycomb-team").map(fingerprint);
    let request = otlp::decode_request(&body, encoding, gzipped).map_err(|e| match e {
        DecodeError::TooLarge | DecodeError::TooManySpans(_) => {
            (StatusCode::PAYLOAD_TOO_LARGE, e.to_string())
        }
        _ => (StatusCode::BAD_REQUEST, e.to_string()),
    })?;
    const HOP_BY_HOP: &[&str] = &[
        "host",
        "content-length",
        "connection",
        "transfer-encoding",
        "keep-alive",
    ];
    let headers = parts
        .headers
        .iter()
        .filter(|(name, _)| !HOP_BY_HOP.contains(&name.as_str()))
        .filter_map(|(name, value)| Some((name.to_string(), value.to_str().ok()?.to_string())))
        .collect();
    let raw = Arc::new(RawRequest { headers, body });
    let spans = otlp::received_spans(request);
    Ok((Batch { spans, team, raw }, encoding))
}

/// How long a client may take over a request unless told otherwise.
pub use http::DEFAULT_READ_TIMEOUT;
