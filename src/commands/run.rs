//! `tracelab run`: the backend and its traces with one command, no Docker.
//!
//! It checks the workspace first (the offline doctor), prepares
//! `backend-flask/.venv`, and starts the Dockerfile's own command with the
//! environment the compose file gives the backend. A `local` workspace
//! exports to a receiver inside this process; `--listen` puts that receiver
//! in front of any other destination and passes every request on.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use anyhow::Result;

use crate::backend::Backend;
use crate::cli::RunArgs;
use crate::doctor::{
    self,
    finding::{CheckId, Status},
};
use crate::exit::{ExitStatus, Stopped};
use crate::listen::live::{Flush, Live, Output, Printer};
use crate::listen::store::Bounds;
use crate::listen::trace::QUIET_INTERVAL_MS;
use crate::receive::{Batch, Sink};
use crate::runner::{self, AppOutput};
use crate::session::{self, Plan, Session};
use crate::style::{CODE, DIM, FAIL, HEADING, WARN, paint};
use crate::workspace::context::{Context, Options};

/// No external command: the check before a run stays within milliseconds.
const OFFLINE: Options = Options {
    external_layers: false,
    use_compose_binary: false,
    repository_only: false,
};

/// Secrets an account gives, which the backend starts without (the SDKs
/// read them when they send): missing, `run` still starts it.
const ACCOUNT_SECRETS: [&str; 5] = [
    "HONEYCOMB_API_KEY",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_DEFAULT_REGION",
    "ROLLBAR_ACCESS_TOKEN",
];

pub fn run(args: RunArgs) -> Result<ExitStatus> {
    let dir = crate::workspace::locate(args.dir.as_deref())?;
    // Read once: the check and the run look at the same workspace.
    let contexts = Context::load_all(&dir, crate::workspace::layers::shell_env(), OFFLINE)?;
    let ignore = doctor::ignored_ids(&dir, &[])?;
    let (findings, _) = doctor::without_ignored(doctor::check(&contexts), &ignore);
    if !args.no_check && !check_first(&contexts[0].dir, &findings) {
        return Ok(ExitStatus::Problems);
    }
    let ctx = &contexts[0];
    let service = ctx.backend_name().to_string();
    let venv = session::prepare(ctx)?;

    // No Honeycomb key: nothing would arrive there, so the spans stay here,
    // in tracelab's receiver, and are shown.
    let no_key = ctx.uses(Backend::Honeycomb) && missing(&findings, "HONEYCOMB_API_KEY");
    let spans = Arc::new(AtomicU64::new(0));
    let shown = (ctx.uses(Backend::Local) || args.listen || no_key)
        .then(|| Shown::start(Arc::clone(&spans), args.json));
    let plan = Plan {
        dockerfile: if args.prod {
            "Dockerfile.prod"
        } else {
            "Dockerfile"
        },
        receive: shown.as_ref().map(Shown::sink),
        forward: !ctx.uses(Backend::Local) && !no_key,
        // No daemon runs outside Docker: a stand-in receives the segments
        // (and answers the SDK's sampling polls, which otherwise log
        // tracebacks).
        xray: ctx.uses(Backend::Xray),
        port: None,
        output: AppOutput::Prefixed(service.clone()),
    };
    let stop_rx = crate::interrupt::stop_signal();
    let mut session = Session::start(ctx, &venv, plan)?;
    announce(&service, &session.cmd, session.receiver_addr());
    if no_key {
        anstream::eprintln!(
            "  {}",
            paint(
                WARN,
                "no HONEYCOMB_API_KEY: spans stay on this machine and print here; `tracelab env set HONEYCOMB_API_KEY` sends them to Honeycomb too"
            )
        );
    }
    if let Some(daemon) = session.daemon() {
        anstream::eprintln!(
            "  {}",
            paint(
                DIM,
                format!(
                    "X-Ray segments go to a stand-in for the daemon on {} and print here",
                    daemon.addr()
                )
            )
        );
    }
    let mut segments_shown = 0;
    let code = loop {
        // Ctrl-C stops the backend's group at once: its exit then is no
        // failure of its own.
        if stop_rx.recv_timeout(Duration::from_millis(100)).is_ok()
            || crate::interrupt::interrupted()
        {
            break Err(Stopped);
        }
        if let Some(daemon) = session.daemon() {
            let segments = daemon.received();
            for segment in &segments[segments_shown..] {
                anstream::println!("{}", segment_line(segment));
            }
            segments_shown = segments.len();
        }
        if let Some(status) = session.exited() {
            anstream::eprintln!(
                "{} the backend stopped by itself ({status}): see its output above",
                paint(FAIL, "✗")
            );
            break Ok(ExitStatus::Problems);
        }
    };
    let xray = session.daemon().is_some();
    let destination = session.destination.clone();
    let segments = session.stop();
    let received = shown.is_some();
    if let Some(shown) = shown {
        shown.stop();
    }
    if xray {
        let whole = segments.iter().filter(|s| !s.is_subsegment).count();
        anstream::eprintln!(
            "{}",
            paint(
                DIM,
                format!(
                    "{} received by the X-Ray daemon's stand-in",
                    crate::style::count(whole as u64, "X-Ray segment")
                )
            )
        );
    }
    // True words: tracelab counts only what passed through it.
    if received {
        anstream::eprintln!(
            "\n{} {} received",
            paint(HEADING, "Stopped."),
            crate::style::count(spans.load(Ordering::SeqCst), "span")
        );
    } else {
        let place = destination.unwrap_or_else(|| "where the workspace sends them".into());
        anstream::eprintln!(
            "\n{} The spans went to {place}, not through tracelab (run --listen shows them here too).",
            paint(HEADING, "Stopped."),
        );
    }
    Ok(code?)
}

/// One X-Ray document as it arrived: `x-ray segment backend-flask
/// /api/activities/home (subsegments: mock-data)`.
fn segment_line(segment: &crate::receive::xray::Document) -> String {
    let kind = if segment.is_subsegment {
        "x-ray subsegment"
    } else {
        "x-ray segment"
    };
    let path = segment.path.as_deref().unwrap_or("");
    let mut line = format!("{} {} {path}", paint(HEADING, kind), segment.name);
    if !segment.subsegments.is_empty() {
        line.push_str(&format!(
            " (subsegments: {})",
            segment.subsegments.join(", ")
        ));
    }
    if segment.fault || segment.error {
        line.push_str(&format!(" {}", paint(FAIL, "error")));
    }
    line
}

/// Whether the check found `variable` missing.
fn missing(findings: &[doctor::finding::Finding], variable: &str) -> bool {
    findings
        .iter()
        .any(|f| f.id == CheckId::EnvMissing && f.variable.as_deref() == Some(variable))
}

/// The offline doctor first: the backend is not started while a problem
/// means it could not start or export (a property of each check in the
/// registry); other problems are shown and the run goes on.
fn check_first(dir: &std::path::Path, findings: &[doctor::finding::Finding]) -> bool {
    // An account's secret the backend starts without does not stop a run.
    let account_secret = |f: &doctor::finding::Finding| {
        f.id == CheckId::EnvMissing
            && f.variable
                .as_deref()
                .is_some_and(|v| ACCOUNT_SECRETS.contains(&v))
    };
    let blocking = |f: &&doctor::finding::Finding| {
        f.status == Status::Fail && f.id.blocks_run() && !account_secret(f)
    };
    let problems = findings.iter().filter(|f| f.status == Status::Fail).count();
    if problems == 0 {
        return true;
    }
    doctor::report::print_short(dir, findings);
    let blockers: Vec<&str> = findings
        .iter()
        .filter(blocking)
        .map(|f| f.id.as_str())
        .collect();
    if blockers.is_empty() {
        anstream::eprintln!(
            "\n{} none of these stops the backend from starting or exporting here; starting it",
            paint(WARN, "Note:")
        );
        return true;
    }
    anstream::eprintln!(
        "\n{} the backend could not start or export because of {}: fix those first (or pass --no-check)",
        paint(FAIL, "Not started:"),
        blockers.join(", ")
    );
    false
}

/// The traces the receiver gets, printed as they complete.
struct Shown {
    live: Arc<Live>,
    printer: Printer,
    spans: Arc<AtomicU64>,
}

impl Shown {
    fn start(spans: Arc<AtomicU64>, json: bool) -> Shown {
        let output = if json {
            Output::JsonLines
        } else {
            Output::Tree
        };
        let live = Live::new(
            Bounds::default(),
            Duration::from_millis(QUIET_INTERVAL_MS),
            output,
        );
        let printer = Printer::start(Arc::clone(&live));
        Shown {
            live,
            printer,
            spans,
        }
    }

    /// Where the receiver hands each batch: counted and shown.
    fn sink(&self) -> Sink {
        let (live, spans) = (Arc::clone(&self.live), Arc::clone(&self.spans));
        Arc::new(move |batch: Batch| {
            spans.fetch_add(batch.spans.len() as u64, Ordering::SeqCst);
            live.add(batch.spans, batch.team);
        })
    }

    /// After the receiver stopped: what is still held prints.
    fn stop(self) {
        self.printer.stop(Flush::Stopped);
    }
}

fn announce(service: &str, cmd: &[String], receiver: Option<std::net::SocketAddr>) {
    anstream::eprintln!(
        "{} {service}: {}",
        paint(HEADING, "Running"),
        paint(CODE, cmd.join(" "))
    );
    if let Some(port) = runner::app_port(cmd) {
        anstream::eprintln!(
            "  {}",
            paint(
                DIM,
                format!("try: curl http://localhost:{port}/api/activities/home")
            )
        );
    }
    match receiver {
        Some(addr) => anstream::eprintln!(
            "  {}",
            paint(
                DIM,
                format!("spans print below as they arrive (receiver on {addr}); Ctrl-C stops")
            )
        ),
        None => anstream::eprintln!(
            "  {}",
            paint(
                DIM,
                "spans go where the workspace sends them (--listen shows them here too); Ctrl-C stops"
            )
        ),
    }
}
