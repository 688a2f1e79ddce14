//! `tracelab doctor --deep`: proof of delivery. The backend is prepared and
//! started as `tracelab run` starts it (its venv, its Dockerfile's command,
//! the environment Compose would give it), with its spans sent to a
//! receiver in this process and its X-Ray segments to a UDP stand-in for
//! the daemon; nothing leaves the machine unless `--online` asks. Every GET
//! route without path parameters is asked once; what arrives, and what the
//! app's own output says, is reported in the doctor's format.

mod log;
mod report;
mod routes;

pub use report::as_confirmations;

use std::net::TcpStream;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::backend::Backend;
use crate::doctor::finding::{CheckId, Finding, Layer};
use crate::exit::Stopped;
use crate::otlp::ReceivedSpan;
use crate::receive::{Batch, xray};
use crate::runner::AppOutput;
use crate::session::{self, Plan, SCHEDULE_DELAY_MS, Session};
use crate::workspace::context::Context;
use report::{
    did_not_start, method_texts, route_finding, span_findings, started, warning_findings,
    xray_findings,
};

use routes::Route;

/// How long the backend may take to answer its port.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// How long one route may take to answer.
const ROUTE_TIMEOUT: Duration = Duration::from_secs(10);

/// What `--deep` found, in the doctor's findings.
/// Ctrl-C stops the backend's whole group and the probe: what the run saw
/// after it (a request it cut short) is not reported as the app's.
pub fn probe(ctx: &Context, online: bool) -> Result<Vec<Finding>, Stopped> {
    let found = probe_until_stopped(ctx, online);
    if crate::interrupt::interrupted() {
        return Err(Stopped);
    }
    Ok(found)
}

fn probe_until_stopped(ctx: &Context, online: bool) -> Vec<Finding> {
    let venv = match session::prepare(ctx) {
        Ok(venv) => venv,
        Err(error) => {
            return vec![
                Finding::fail(
                    CheckId::DeepPrepare,
                    Layer::Code,
                    format!("the backend's venv cannot be prepared, so it was not started: {error:#}"),
                )
                .fix(format!(
                    "python3 -m venv {0}/.venv && {0}/.venv/bin/pip install -r {0}/requirements.txt   # shows the same error",
                    ctx.backend_dir.display()
                )),
            ];
        }
    };
    match Run::start(ctx, &venv, online) {
        Ok(run) => run.exercise(ctx),
        Err(finding) => vec![*finding],
    }
}

/// The backend, running, and what it sends.
struct Run {
    session: Session,
    output: Arc<Mutex<Vec<String>>>,
    port: u16,
    batches: Arc<Mutex<Vec<Batch>>>,
    service: String,
}

impl Run {
    fn start(ctx: &Context, venv: &std::path::Path, online: bool) -> Result<Self, Box<Finding>> {
        let fail = |error: anyhow::Error| {
            Box::new(Finding::fail(
                CheckId::DeepStart,
                Layer::Code,
                format!("{error:#}"),
            ))
        };
        let batches: Arc<Mutex<Vec<Batch>>> = Arc::default();
        let sink = {
            let batches = Arc::clone(&batches);
            Arc::new(move |batch: Batch| {
                batches
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(batch);
            })
        };
        let port =
            free_port().map_err(|e| fail(anyhow::anyhow!("no free port for the backend: {e}")))?;
        let output: Arc<Mutex<Vec<String>>> = Arc::default();
        let plan = Plan {
            dockerfile: "Dockerfile",
            receive: Some(sink),
            forward: online,
            xray: true,
            port: Some(port),
            output: AppOutput::Captured(Arc::clone(&output)),
        };
        let session = Session::start(ctx, venv, plan).map_err(fail)?;
        Ok(Run {
            session,
            output,
            port,
            batches,
            service: ctx.backend_name().to_string(),
        })
    }

    /// Waits for the port, asks every route, waits for the spans, stops
    /// everything, and says what it saw.
    fn exercise(mut self, ctx: &Context) -> Vec<Finding> {
        let mut out = Vec::new();
        if let Err(finding) = self.wait_for_port(ctx) {
            out.push(*finding);
            self.shut_down();
            return out;
        }
        let routes = routes::gettable(ctx);
        let mut asked: Vec<(Route, u16, usize)> = Vec::new();
        for route in routes {
            // X-Ray's default sampling records the first request of each
            // second (and 5% of the rest): one a second, each is seen.
            if ctx.uses(Backend::Xray) && !asked.is_empty() {
                wait_for_the_next_second();
            }
            let before = self.lines().len();
            let status = get(self.port, &route.path);
            if crate::interrupt::interrupted() {
                break;
            }
            if status >= 500 {
                self.wait_for_traceback(before, &ctx.backend_dir);
            }
            asked.push((route, status, before));
        }
        self.wait_for_spans();
        let lines = self.lines();
        let spans = self.spans();
        out.push(started(&self.service, self.port));
        let segments = self.shut_down();
        for (index, (route, status, before)) in asked.iter().enumerate() {
            let until = asked.get(index + 1).map_or(lines.len(), |next| next.2);
            let window = &lines[(*before).min(lines.len())..until.min(lines.len())];
            out.extend(route_finding(ctx, route, *status, window));
        }
        out.extend(span_findings(ctx, &asked, &spans));
        out.extend(xray_findings(ctx, &segments, &asked));
        let texts = method_texts(ctx, &spans);
        let warnings = log::sdk_warnings(&lines);
        out.extend(warning_findings(ctx, &warnings, !texts.is_empty()));
        out.extend(texts);
        out
    }

    fn lines(&self) -> Vec<String> {
        self.output
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn spans(&self) -> Vec<ReceivedSpan> {
        self.batches
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .flat_map(|b| b.spans.iter().cloned())
            .collect()
    }

    fn wait_for_port(&mut self, ctx: &Context) -> Result<(), Box<Finding>> {
        let started = Instant::now();
        while started.elapsed() < START_TIMEOUT {
            if TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return Ok(());
            }
            // A script that names its own port (`flask run --port=4567`)
            // is asked where it says it listens.
            if let Some(port) = log::announced_port(&self.lines())
                && port != self.port
                && TcpStream::connect(("127.0.0.1", port)).is_ok()
            {
                self.port = port;
                return Ok(());
            }
            if let Some(status) = self.session.exited() {
                // Its last words arrive a moment after it exits.
                std::thread::sleep(Duration::from_millis(200));
                return Err(Box::new(did_not_start(ctx, &self.lines(), Some(status))));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Err(Box::new(did_not_start(ctx, &self.lines(), None)))
    }

    /// A failed request's traceback is printed as it is answered, but read
    /// from the pipe a moment later: it belongs to this request's lines.
    /// Whole once one through the project has its exception line (another
    /// thread's may come first).
    fn wait_for_traceback(&self, since: usize, backend_dir: &std::path::Path) {
        let deadline = Instant::now() + Duration::from_secs(2);
        while Instant::now() < deadline {
            let lines = self.lines();
            let raised = log::last_exception(lines.get(since..).unwrap_or_default(), backend_dir);
            if raised.is_some_and(|r| r.at.is_some() && r.printed()) {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Until no span has come for a while after the last request: the
    /// batch processor sends within its delay, and X-Ray at once.
    fn wait_for_spans(&self) {
        let quiet = Duration::from_millis(SCHEDULE_DELAY_MS * 4);
        let deadline = Instant::now() + Duration::from_secs(5);
        let mut seen = (usize::MAX, usize::MAX);
        let mut since = Instant::now();
        while Instant::now() < deadline {
            let segments = self.session.daemon().map_or(0, |d| d.received().len());
            let now = (self.spans().len(), segments);
            if now != seen {
                seen = now;
                since = Instant::now();
            } else if since.elapsed() >= quiet {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Stops the backend and the receivers: what the X-Ray stand-in
    /// received.
    fn shut_down(self) -> Vec<xray::Document> {
        self.session.stop()
    }
}

fn wait_for_the_next_second() {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let rest =
        Duration::from_secs(1).saturating_sub(Duration::from_nanos(u64::from(now.subsec_nanos())));
    std::thread::sleep(rest + Duration::from_millis(5));
}

fn free_port() -> std::io::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// GET `path` on the backend: its status, or 0 when it gave none in time.
fn get(port: u16, path: &str) -> u16 {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(ROUTE_TIMEOUT))
        .http_status_as_error(false)
        .build()
        .into();
    agent
        .get(format!("http://127.0.0.1:{port}{path}"))
        .call()
        .map_or(0, |r| r.status().as_u16())
}
