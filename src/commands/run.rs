//! `tracelab run`: the backend and its traces with one command, no Docker.
//!
//! It checks the workspace first (the offline doctor), prepares
//! `backend-flask/.venv`, and starts the Dockerfile's own command with the
//! environment the compose file gives the backend. A `local` workspace
//! exports to a receiver inside this process; `--listen` puts that receiver
//! in front of any other destination and passes every request on.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, mpsc};
use std::time::Duration;

use anyhow::{Context as _, Result};

use crate::backend::Backend;
use crate::cli::RunArgs;
use crate::doctor::{self, finding::Status};
use crate::exit::{EXIT_OK, EXIT_PROBLEMS};
use crate::listen::hosts::AllowedHosts;
use crate::listen::http::{DEFAULT_READ_TIMEOUT, runtime};
use crate::listen::live::{Flush, Live, Output, Printer};
use crate::listen::store::Bounds;
use crate::listen::trace::QUIET_INTERVAL_MS;
use crate::listen::{Batch, RawRequest, Receiver};
use crate::runner::{self, App};
use crate::style::{CODE, DIM, FAIL, HEADING, WARN, paint};
use crate::workspace::context::{Context, Options};
use crate::workspace::url;

/// No external command: the check before a run stays within milliseconds.
const OFFLINE: Options = Options {
    external_layers: false,
    use_compose_binary: false,
};

/// Spans show half a second after they end, not the SDK's five.
const SCHEDULE_DELAY_MS: &str = "500";

pub fn run(args: RunArgs) -> Result<u8> {
    let dir = crate::workspace::locate(args.dir.as_deref())?;
    // Read once: the check and the run look at the same workspace.
    let contexts = Context::load_all(&dir, doctor::shell_env(), OFFLINE)?;
    let ignore = doctor::ignored_ids(&dir, &[])?;
    if !args.no_check && !check_first(&contexts, &ignore) {
        return Ok(EXIT_PROBLEMS);
    }
    let ctx = &contexts[0];
    let service = ctx.backend_name().to_string();
    let mut env = backend_environment(ctx);
    let venv = runner::prepare_venv(&ctx.backend_dir)?;

    let spans = Arc::new(AtomicU64::new(0));
    let receiver = if ctx.uses(Backend::Local) || args.listen {
        let forward = (!ctx.uses(Backend::Local))
            .then(|| traces_url(&env))
            .flatten();
        let receiver = start_receiver(Arc::clone(&spans), args.json, forward)?;
        env.insert(
            "OTEL_EXPORTER_OTLP_ENDPOINT".into(),
            format!("http://{}", receiver.receiver.addr()),
        );
        env.remove("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT");
        Some(receiver)
    } else {
        None
    };
    env.entry("OTEL_SERVICE_NAME".into())
        .or_insert_with(|| service.clone());
    env.entry("OTEL_BSP_SCHEDULE_DELAY".into())
        .or_insert_with(|| SCHEDULE_DELAY_MS.into());
    env.insert("PYTHONUNBUFFERED".into(), "1".into());

    let dockerfile = ctx.backend_dir.join(if args.prod {
        "Dockerfile.prod"
    } else {
        "Dockerfile"
    });
    let cmd = local_bind(runner::dockerfile_cmd(&dockerfile)?);
    // The image's ENV first (WEB_CONCURRENCY for gunicorn), then compose's.
    for (key, value) in runner::dockerfile_env(&dockerfile) {
        env.entry(key).or_insert(value);
    }
    let env: Vec<(String, String)> = env.into_iter().collect();
    let (stop_tx, stop_rx) = mpsc::channel();
    ctrlc::set_handler(move || {
        let _ = stop_tx.send(());
    })
    .context("cannot install the Ctrl-C handler")?;
    let mut app = App::start(&ctx.backend_dir, &venv, &cmd, &env, &service)?;
    announce(
        &service,
        &cmd,
        receiver.as_ref().map(|r| r.receiver.addr().to_string()),
    );
    let code = loop {
        if stop_rx.recv_timeout(Duration::from_millis(100)).is_ok() {
            break EXIT_OK;
        }
        if let Some(status) = app.exited() {
            anstream::eprintln!(
                "{} the backend stopped by itself ({status}): see its output above",
                paint(FAIL, "✗")
            );
            break EXIT_PROBLEMS;
        }
    };
    app.stop(Duration::from_secs(5));
    if let Some(receiver) = receiver {
        receiver.stop();
    }
    anstream::eprintln!(
        "\n{} {} spans received",
        paint(HEADING, "Stopped."),
        spans.load(Ordering::SeqCst)
    );
    Ok(code)
}

/// The offline doctor: a backend that cannot export is not started.
/// The offline doctor first: the backend is not started while a problem
/// means it could not start or export (a property of each check in the
/// registry); other problems are shown and the run goes on.
fn check_first(contexts: &[Context], ignore: &[String]) -> bool {
    let (findings, _) = doctor::without_ignored(doctor::check(contexts), ignore);
    let blocking = |f: &&doctor::finding::Finding| {
        f.status == Status::Fail && doctor::registry::lookup(f.id).is_some_and(|c| c.blocks_run)
    };
    let problems = findings.iter().filter(|f| f.status == Status::Fail).count();
    if problems == 0 {
        return true;
    }
    doctor::report::print_short(&findings);
    let blockers: Vec<&str> = findings.iter().filter(blocking).map(|f| f.id).collect();
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

/// The backend's environment as the compose file gives it, with the names
/// of compose services (which resolve only inside Docker) turned into this
/// machine.
fn backend_environment(ctx: &Context) -> BTreeMap<String, String> {
    let services: Vec<String> = ctx
        .compose
        .as_ref()
        .map(|c| c.file.services.iter().map(|s| s.name.clone()).collect())
        .unwrap_or_default();
    let on_this_machine = |value: &str| {
        services.iter().fold(value.to_string(), |text, name| {
            text.replace(&format!("//{name}:"), "//127.0.0.1:")
                .replace(&format!("{name}:"), "127.0.0.1:")
        })
    };
    ctx.app_env()
        .map(|(_, env)| {
            env.into_iter()
                .filter_map(|(k, v)| Some((k, on_this_machine(&v?))))
                .collect()
        })
        .unwrap_or_default()
}

/// On this machine, outside a container, the app listens on 127.0.0.1 only:
/// a Dockerfile's 0.0.0.0 would open Flask's debugger to the network. Gitpod
/// and Codespaces forward ports from any address, so there it stays.
fn local_bind(cmd: Vec<String>) -> Vec<String> {
    let forwarded = ["GITPOD_WORKSPACE_ID", "CODESPACES"]
        .iter()
        .any(|v| std::env::var_os(v).is_some());
    if forwarded {
        return cmd;
    }
    cmd.into_iter()
        .map(|word| word.replace("0.0.0.0", "127.0.0.1"))
        .collect()
}

/// Where the exporter would send: the URL traces are posted to.
fn traces_url(env: &BTreeMap<String, String>) -> Option<String> {
    if let Some(url) = env
        .get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
        .filter(|u| !u.is_empty())
    {
        return Some(url.clone());
    }
    let base = env
        .get("OTEL_EXPORTER_OTLP_ENDPOINT")
        .filter(|u| !u.is_empty())?;
    url::parse(base)?;
    Some(format!("{}/v1/traces", base.trim_end_matches('/')))
}

/// A receiver in this process that prints every trace and, with `forward`,
/// passes each request on as it came.
fn start_receiver(spans: Arc<AtomicU64>, json: bool, forward: Option<String>) -> Result<Listening> {
    let forwarder = forward.map(start_forwarder);
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

/// Posts each request to `url` on a thread of its own, so that a slow
/// destination never slows the app's exporter; says once per status what
/// the destination answered when it refuses.
fn start_forwarder(url: String) -> mpsc::Sender<Arc<RawRequest>> {
    let (tx, rx) = mpsc::channel::<Arc<RawRequest>>();
    std::thread::spawn(move || {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(10)))
            .http_status_as_error(false)
            .build()
            .into();
        let mut told: Vec<String> = Vec::new();
        for raw in rx {
            let mut request = agent.post(&url);
            for (name, value) in &raw.headers {
                request = request.header(name.as_str(), value.as_str());
            }
            let outcome = match request.send(&raw.body[..]) {
                Ok(response) if response.status().is_success() => continue,
                Ok(response) => format!("answered {}", response.status().as_u16()),
                Err(e) => format!("cannot be reached ({e})"),
            };
            if !told.contains(&outcome) {
                anstream::eprintln!(
                    "{} {url} {outcome}: spans show here but do not arrive there (tracelab doctor --online)",
                    paint(WARN, "!")
                );
                told.push(outcome);
            }
        }
    });
    tx
}

fn announce(service: &str, cmd: &[String], receiver: Option<String>) {
    anstream::eprintln!(
        "{} {service}: {}",
        paint(HEADING, "Running"),
        paint(CODE, cmd.join(" "))
    );
    if let Some(port) = app_port(cmd) {
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

/// The port in `--port=4567` (Flask) or `--bind 0.0.0.0:4567` (gunicorn).
fn app_port(cmd: &[String]) -> Option<u16> {
    cmd.iter().enumerate().find_map(|(i, word)| {
        if let Some(port) = word.strip_prefix("--port=") {
            return port.parse().ok();
        }
        let bind = if word == "--bind" || word == "-b" {
            cmd.get(i + 1)?
        } else {
            word.strip_prefix("--bind=")?
        };
        bind.rsplit(':').next()?.parse().ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn finds_the_port_of_flask_and_gunicorn() {
        assert_eq!(
            app_port(&words(&["python3", "-m", "flask", "run", "--port=4567"])),
            Some(4567)
        );
        assert_eq!(
            app_port(&words(&["gunicorn", "--bind", "0.0.0.0:5000", "app:app"])),
            Some(5000)
        );
        assert_eq!(app_port(&words(&["python3", "app.py"])), None);
    }

    #[test]
    fn the_traces_url_follows_the_sdk() {
        let env = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        assert_eq!(
            traces_url(&env(&[(
                "OTEL_EXPORTER_OTLP_ENDPOINT",
                "https://api.honeycomb.io/"
            )]))
            .as_deref(),
            Some("https://api.honeycomb.io/v1/traces")
        );
        assert_eq!(
            traces_url(&env(&[(
                "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
                "http://c:4318/v1/traces"
            )]))
            .as_deref(),
            Some("http://c:4318/v1/traces")
        );
        assert_eq!(traces_url(&env(&[])), None);
    }
}
