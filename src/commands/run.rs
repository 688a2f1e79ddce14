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
use crate::listen::hosts::AllowedHosts;
use crate::listen::http::{DEFAULT_READ_TIMEOUT, runtime};
use crate::listen::live::{Flush, Live, Output, Printer};
use crate::listen::store::Bounds;
use crate::listen::trace::QUIET_INTERVAL_MS;
use crate::listen::{Batch, Receiver, forward};
use crate::runner::{self, App, AppOutput};
use crate::style::{CODE, DIM, FAIL, HEADING, WARN, paint};
use crate::workspace::context::{Context, Options};

/// No external command: the check before a run stays within milliseconds.
const OFFLINE: Options = Options {
    external_layers: false,
    use_compose_binary: false,
    repository_only: false,
};

/// Spans show half a second after they end, not the SDK's five.
const SCHEDULE_DELAY_MS: &str = "500";

pub fn run(args: RunArgs) -> Result<ExitStatus> {
    let dir = crate::workspace::locate(args.dir.as_deref())?;
    // Read once: the check and the run look at the same workspace.
    let contexts = Context::load_all(&dir, crate::workspace::layers::shell_env(), OFFLINE)?;
    let ignore = doctor::ignored_ids(&dir, &[])?;
    if !args.no_check && !check_first(&contexts, &ignore) {
        return Ok(ExitStatus::Problems);
    }
    let ctx = &contexts[0];
    let service = ctx.backend_name().to_string();
    let mut env = runner::backend_environment(ctx);
    let venv = runner::prepare_venv(&ctx.backend_dir)?;

    let spans = Arc::new(AtomicU64::new(0));
    let receiver = if ctx.uses(Backend::Local) || args.listen {
        let forward = (!ctx.uses(Backend::Local))
            .then(|| forward::traces_url(&env))
            .flatten();
        let receiver = start_receiver(Arc::clone(&spans), args.json, forward)?;
        runner::export_to(&mut env, receiver.receiver.addr());
        Some(receiver)
    } else {
        None
    };
    env.entry("OTEL_BSP_SCHEDULE_DELAY".into())
        .or_insert_with(|| SCHEDULE_DELAY_MS.into());
    let dockerfile = ctx.backend_dir.join(if args.prod {
        "Dockerfile.prod"
    } else {
        "Dockerfile"
    });
    let cmd = runner::image_command(ctx, &dockerfile, &mut env)?;
    let env: Vec<(String, String)> = env.into_iter().collect();
    let stop_rx = crate::interrupt::stop_signal();
    let mut app = App::start(
        &ctx.backend_dir,
        &venv,
        &cmd,
        &env,
        AppOutput::Prefixed(service.clone()),
    )?;
    announce(
        &service,
        &cmd,
        receiver.as_ref().map(|r| r.receiver.addr().to_string()),
    );
    let code = loop {
        if stop_rx.recv_timeout(Duration::from_millis(100)).is_ok() {
            break Err(Stopped);
        }
        if let Some(status) = app.exited() {
            anstream::eprintln!(
                "{} the backend stopped by itself ({status}): see its output above",
                paint(FAIL, "✗")
            );
            break Ok(ExitStatus::Problems);
        }
    };
    app.stop(Duration::from_secs(5));
    if let Some(receiver) = receiver {
        receiver.stop();
    }
    anstream::eprintln!(
        "\n{} {} received",
        paint(HEADING, "Stopped."),
        crate::style::count(spans.load(Ordering::SeqCst), "span")
    );
    Ok(code?)
}

/// The offline doctor: a backend that cannot export is not started.
/// The offline doctor first: the backend is not started while a problem
/// means it could not start or export (a property of each check in the
/// registry); other problems are shown and the run goes on.
fn check_first(contexts: &[Context], ignore: &[CheckId]) -> bool {
    let (findings, _) = doctor::without_ignored(doctor::check(contexts), ignore);
    let blocking = |f: &&doctor::finding::Finding| f.status == Status::Fail && f.id.blocks_run();
    let problems = findings.iter().filter(|f| f.status == Status::Fail).count();
    if problems == 0 {
        return true;
    }
    doctor::report::print_short(&contexts[0].dir, &findings);
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

/// A receiver in this process that prints every trace and, with `forward`,
/// passes each request on as it came.
fn start_receiver(spans: Arc<AtomicU64>, json: bool, forward: Option<String>) -> Result<Listening> {
    let forwarder = forward.map(forward::start);
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
    let sink_live = Arc::clone(&live);
    let sink = Arc::new(move |batch: Batch| {
        spans.fetch_add(batch.spans.len() as u64, Ordering::SeqCst);
        if let Some(tx) = &forwarder {
            let _ = tx.send(Arc::clone(&batch.raw));
        }
        sink_live.add(batch.spans, batch.team);
    });
    let receiver = Receiver::start(
        runtime()?,
        "127.0.0.1:0",
        DEFAULT_READ_TIMEOUT,
        AllowedHosts::default(),
        sink,
    )?;
    let printer = Printer::start(live);
    Ok(Listening { receiver, printer })
}

/// The receiver and the printer of its traces.
struct Listening {
    receiver: Receiver,
    printer: Printer,
}

impl Listening {
    fn stop(self) {
        self.receiver.stop();
        self.printer.stop(Flush::Stopped);
    }
}

fn announce(service: &str, cmd: &[String], receiver: Option<String>) {
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
