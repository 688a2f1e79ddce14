//! A small async HTTP/1 server (hyper on tokio) shared by the OTLP receiver
//! and the web view. One task per connection rather than one thread, so a
//! thousand stalled exporters cost a thousand idle tasks, not the service;
//! each connection gets `read_timeout` to send its headers and then its body.

use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Result, anyhow};
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::header::{CONNECTION, CONTENT_TYPE, HeaderValue};
use hyper::http::request::Parts;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::runtime::Runtime;
use tokio::sync::watch;

use super::hosts::AllowedHosts;

/// How long the accept loop rests after a failed accept: out of file
/// descriptors (EMFILE), retrying at once would spin a core and starve the
/// connections already open, whose closing is what frees one.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

pub type Reply = Response<Full<Bytes>>;
pub type Pending = Pin<Box<dyn Future<Output = Reply> + Send>>;
/// Answers one request whose body has been read whole.
pub type Handler = Arc<dyn Fn(Parts, Bytes) -> Pending + Send + Sync>;

/// How long a connection may take to send its headers, then its body,
/// unless `--read-timeout` says otherwise.
pub const DEFAULT_READ_TIMEOUT: Duration = Duration::from_secs(10);

pub struct Limits {
    pub read_timeout: Duration,
    pub max_body_bytes: usize,
    pub hosts: AllowedHosts,
}

/// A runtime for the servers of one command: two workers are plenty for
/// a local receiver and keep it light beside the app it watches.
pub fn runtime() -> Result<Arc<Runtime>> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("tracelab-http")
        .enable_all()
        .build()
        .map(Arc::new)
        .map_err(|e| anyhow!("cannot start the HTTP runtime: {e}"))
}

pub struct Server {
    addr: SocketAddr,
    stop: watch::Sender<bool>,
    done: std::sync::mpsc::Receiver<()>,
    runtime: Arc<Runtime>,
}

impl Server {
    /// Serves on `listener` (from `bind`) until `stop`.
    pub fn start(
        runtime: Arc<Runtime>,
        listener: std::net::TcpListener,
        limits: Limits,
        handler: Handler,
    ) -> Result<Self> {
        let local = listener.local_addr()?;
        listener.set_nonblocking(true)?;
        let listener = {
            let _inside = runtime.enter();
            TcpListener::from_std(listener)?
        };
        let (stop, mut stopped) = watch::channel(false);
        let (done_tx, done) = std::sync::mpsc::channel();
        let limits = Arc::new(limits);
        runtime.spawn(async move {
            let graceful = GracefulShutdown::new();
            loop {
                tokio::select! {
                    accepted = listener.accept() => {
                        let Ok((stream, _)) = accepted else {
                            tokio::time::sleep(ACCEPT_BACKOFF).await;
                            continue;
                        };
                        let _ = stream.set_nodelay(true);
                        let read_timeout = limits.read_timeout;
                        let (handler, limits) = (Arc::clone(&handler), Arc::clone(&limits));
                        let service = service_fn(move |request| {
                            answer(request, Arc::clone(&handler), Arc::clone(&limits))
                        });
                        let connection = http1::Builder::new()
                            .timer(TokioTimer::new())
                            .header_read_timeout(read_timeout)
                            .serve_connection(TokioIo::new(stream), service);
                        let connection = graceful.watch(connection);
                        tokio::spawn(async move {
                            // A client that hangs up mid-request has no one to tell.
                            let _ = connection.await;
                        });
                    }
                    _ = stopped.changed() => break,
                }
            }
            drop(listener);
            // Requests in flight get a moment to finish.
            let _ = tokio::time::timeout(Duration::from_secs(2), graceful.shutdown()).await;
            let _ = done_tx.send(());
        });
        Ok(Server {
            addr: local,
            stop,
            done,
            runtime,
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops accepting and waits (briefly) for requests in flight.
    pub fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.done.recv_timeout(Duration::from_secs(3));
        drop(self.runtime);
    }
}

async fn answer(
    request: Request<Incoming>,
    handler: Handler,
    limits: Arc<Limits>,
) -> Result<Reply, std::convert::Infallible> {
    let (parts, body) = request.into_parts();
    let host = header(&parts, "host");
    if !limits.hosts.allows(host) {
        let refusal = AllowedHosts::refusal(host.unwrap_or_default());
        return Ok(closing(text(StatusCode::FORBIDDEN, &refusal)));
    }
    let too_large = || {
        text(
            StatusCode::PAYLOAD_TOO_LARGE,
            &format!("body larger than {} bytes", limits.max_body_bytes),
        )
    };
    let body =
        match tokio::time::timeout(limits.read_timeout, read_body(body, limits.max_body_bytes))
            .await
        {
            Ok(Ok(Some(body))) => body,
            Ok(Ok(None)) => return Ok(too_large()),
            Ok(Err(e)) => {
                return Ok(closing(text(
                    StatusCode::BAD_REQUEST,
                    &format!("cannot read the body: {e}"),
                )));
            }
            Err(_) => {
                return Ok(closing(text(
                    StatusCode::REQUEST_TIMEOUT,
                    &format!(
                        "the body did not arrive within {} s",
                        limits.read_timeout.as_secs_f64()
                    ),
                )));
            }
        };
    Ok(handler(parts, body).await)
}

/// The body, or None when it is larger than `max` bytes. A body too large
/// is still read to its end (within the read timeout), so that the client,
/// still sending, gets to read the 413 instead of a broken pipe.
async fn read_body(mut body: Incoming, max: usize) -> Result<Option<Bytes>, hyper::Error> {
    let mut collected: Vec<u8> = Vec::new();
    let mut size = 0usize;
    while let Some(frame) = body.frame().await {
        if let Ok(data) = frame?.into_data() {
            size = size.saturating_add(data.len());
            if size <= max {
                collected.extend_from_slice(&data);
            }
        }
    }
    Ok((size <= max).then(|| Bytes::from(collected)))
}

/// The connection is closed after this answer: its body was not read whole.
fn closing(mut reply: Reply) -> Reply {
    reply
        .headers_mut()
        .insert(CONNECTION, HeaderValue::from_static("close"));
    reply
}

pub fn reply(status: StatusCode, content_type: &str, body: impl Into<Bytes>) -> Reply {
    let mut reply = Response::new(Full::new(body.into()));
    *reply.status_mut() = status;
    if let Ok(value) = HeaderValue::from_str(content_type) {
        reply.headers_mut().insert(CONTENT_TYPE, value);
    }
    reply
}

/// A plain-text answer: a message for a person reading an exporter's log.
pub fn text(status: StatusCode, message: &str) -> Reply {
    reply(status, "text/plain; charset=utf-8", format!("{message}\n"))
}

/// The value of header `name`, if it is text.
pub fn header<'a>(parts: &'a Parts, name: &str) -> Option<&'a str> {
    parts.headers.get(name).and_then(|v| v.to_str().ok())
}

/// Binds `addr` (port 0 picks a free one). `port_flag` is the option that
/// chooses the port, for the advice when the address cannot be had.
pub fn bind(addr: &str, port_flag: &str) -> Result<std::net::TcpListener> {
    std::net::TcpListener::bind(addr).map_err(|e| cannot_listen(addr, &e, port_flag))
}

/// Binds `host:port`, or a free port of `host` when `port` is taken.
pub fn bind_or_any(host: &str, port: u16, port_flag: &str) -> Result<std::net::TcpListener> {
    match std::net::TcpListener::bind(format!("{host}:{port}")) {
        Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => {
            bind(&format!("{host}:0"), port_flag)
        }
        Err(e) => Err(cannot_listen(&format!("{host}:{port}"), &e, port_flag)),
        Ok(listener) => Ok(listener),
    }
}

/// What went wrong binding `addr`, and what to do about it.
fn cannot_listen(addr: &str, error: &std::io::Error, port_flag: &str) -> anyhow::Error {
    use std::io::ErrorKind;
    let advice = match error.kind() {
        ErrorKind::AddrInUse => format!(
            "something already listens there (another tracelab listen, or a collector): stop it, or pick another {port_flag}"
        ),
        ErrorKind::PermissionDenied => {
            format!("ports below 1024 need root: pick another {port_flag}")
        }
        ErrorKind::AddrNotAvailable => {
            "no interface of this machine has that address: use --host 127.0.0.1, or 0.0.0.0 to be reachable from containers".to_string()
        }
        _ => format!("check --host, or pick another {port_flag}"),
    };
    anyhow!("cannot listen on {addr}: {error}; {advice}")
}

/// The address to type for one that listens on every interface (0.0.0.0
/// or ::) is this machine's loopback.
pub fn typeable(addr: SocketAddr) -> SocketAddr {
    match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => (Ipv4Addr::LOCALHOST, addr.port()).into(),
        IpAddr::V6(ip) if ip.is_unspecified() => (Ipv6Addr::LOCALHOST, addr.port()).into(),
        _ => addr,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_on_every_interface_is_typed_as_loopback() {
        let typed = |a: &str| typeable(a.parse().unwrap()).to_string();
        assert_eq!(typed("0.0.0.0:4318"), "127.0.0.1:4318");
        assert_eq!(typed("[::]:4320"), "[::1]:4320");
        assert_eq!(typed("192.168.1.5:4318"), "192.168.1.5:4318");
    }

    #[test]
    fn a_taken_port_says_what_to_do() {
        let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = taken.local_addr().unwrap().to_string();
        let error = bind(&addr, "--port").unwrap_err().to_string();
        assert!(
            error.starts_with(&format!("cannot listen on {addr}: ")),
            "{error}"
        );
        assert!(
            error.ends_with("stop it, or pick another --port"),
            "{error}"
        );
        let moved = bind_or_any("127.0.0.1", taken.local_addr().unwrap().port(), "--port");
        assert_ne!(moved.unwrap().local_addr().unwrap().to_string(), addr);
    }
}
