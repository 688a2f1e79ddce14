//! `tracelab listen`: receive spans, merge them into traces, print each
//! trace once it is whole, serve the web view, and on Ctrl-C stop cleanly
//! with a summary.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, Result, bail};

use crate::cli::ListenArgs;
use crate::exit::{ExitStatus, Stopped};
use crate::listen::live::{Flush, Live, Output, Printer};
use crate::listen::store::{Bounds, Store};
use crate::listen::{honeycomb, web};
use crate::receive::hosts::AllowedHosts;
use crate::receive::http::{Server, runtime, typeable};
use crate::receive::{Batch, Receiver};
use crate::style::{DIM, HEADING, count, paint};

/// How long `/1/auth` may take before traces go without links.
const AUTH_TIMEOUT: Duration = Duration::from_secs(5);

pub fn run(args: ListenArgs) -> Result<ExitStatus> {
    let read_timeout = seconds(args.read_timeout, "--read-timeout")?;
    let quiet = seconds(args.wait_for_parent, "--wait-for-parent")?;
    if args.keep == 0 {
        bail!("--keep 0 would keep no trace: give at least 1");
    }
    let output = if args.json {
        Output::JsonLines
    } else {
        Output::Tree
    };
    let bounds = Bounds {
        traces: args.keep,
        bytes: args.max_memory,
    };
    let live = Live::new(bounds, quiet, output);
    let save = args.save.as_ref().map(open_save).transpose()?;
    let sink_live = Arc::clone(&live);
    let sink = Arc::new(move |batch: Batch| {
        if let (Some(file), Ok(request)) = (&save, batch.raw.request()) {
            let mut file = file.lock().unwrap_or_else(|e| e.into_inner());
            // One write per request: lines never interleave.
            let _ = file.write_all(format!("{}\n", crate::otlp::json_line(&request)).as_bytes());
        }
        sink_live.add(batch.spans, batch.team);
    });
    let runtime = runtime()?;
    let address = format!("{}:{}", args.host, args.port);
    let hosts = AllowedHosts {
        extra: args.allow_host.clone(),
    };
    let receiver = Receiver::start(
        Arc::clone(&runtime),
        &address,
        read_timeout,
        hosts.clone(),
        sink,
    )?;
    let web = if args.no_web {
        None
    } else {
        Some(web::start(
            Arc::clone(&runtime),
            &args.host,
            args.web_port,
            hosts,
            Arc::clone(&live),
        )?)
    };
    let stop_rx = crate::interrupt::stop_signal();
    announce(&receiver, web.as_ref(), args.web_port);
    link_to_honeycomb(&live, args.honeycomb);
    let printer = Printer::start(Arc::clone(&live));
    let _ = stop_rx.recv();
    live.close();
    if let Some(web) = web {
        web.stop();
    }
    receiver.stop();
    printer.stop(Flush::Stopped);
    summary(&live.store());
    Err(Stopped.into())
}

/// A duration flag, which must be a positive number of seconds.
pub fn seconds(value: f64, flag: &str) -> Result<Duration> {
    Duration::try_from_secs_f64(value)
        .ok()
        .filter(|d| !d.is_zero())
        .with_context(|| format!("{flag} {value}: give a positive number of seconds"))
}

/// The file `--save` appends to: what the app sent, attribute values and
/// all, so only its owner may read it (0600 when it is made).
fn open_save(path: &std::path::PathBuf) -> Result<Mutex<std::fs::File>> {
    use std::os::unix::fs::OpenOptionsExt;
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("cannot open {} to save traces in", path.display()))?;
    Ok(Mutex::new(file))
}

fn announce(receiver: &Receiver, web: Option<&Server>, web_port: Option<u16>) {
    let url = format!("http://{}", typeable(receiver.addr()));
    anstream::eprintln!(
        "{} {url}/v1/traces (protobuf or JSON, gzip or not; Ctrl-C stops)",
        paint(HEADING, "Listening for OTLP/HTTP traces on")
    );
    let port = receiver.addr().port();
    let from_container = if receiver.addr().ip().is_unspecified() {
        format!("http://host.docker.internal:{port}")
    } else {
        format!("http://host.docker.internal:{port}, with --host 0.0.0.0")
    };
    anstream::eprintln!(
        "{}",
        paint(
            DIM,
            format!(
                "  point the app here: OTEL_EXPORTER_OTLP_ENDPOINT={url}   (from a container: {from_container})"
            )
        )
    );
    if let Some(web) = web {
        web::announce(web, web_port, "");
    }
}

/// Asks Honeycomb about the key in the background: traces show meanwhile,
/// and gain links once it answers. No key, or no answer, means no links.
fn link_to_honeycomb(live: &Arc<Live>, explicit: Option<String>) {
    let live = Arc::clone(live);
    std::thread::spawn(move || {
        // The workspace above, as every command finds it; none is fine here.
        let dir = crate::workspace::locate(None).unwrap_or_else(|_| ".".into());
        let Some(key) = honeycomb::find_key(&dir, explicit) else {
            return;
        };
        if let Some(account) = honeycomb::lookup(&key, AUTH_TIMEOUT) {
            let environment = account
                .environment
                .as_deref()
                .map(|e| format!("environment {e}"))
                .unwrap_or_else(|| "a classic key".into());
            anstream::eprintln!(
                "{}",
                paint(
                    DIM,
                    format!(
                        "  Honeycomb links for team {}, {environment} (key {})",
                        account.team,
                        crate::fingerprint::fingerprint(&key.key)
                    )
                )
            );
            let _ = live.account.set(account);
        }
    });
}

fn summary(store: &Store) {
    let services: Vec<String> = store.services.iter().map(|s| s.to_string()).collect();
    let mut line = format!(
        "{}, {} in {}; services: {}",
        count(store.traces_seen, "trace"),
        count(store.spans, "span"),
        count(store.requests, "request"),
        if services.is_empty() {
            "none".to_string()
        } else {
            services.join(", ")
        }
    );
    if store.repeated > 0 {
        line += &format!(
            "; {} sent again by a retrying exporter, kept once",
            count(store.repeated, "span")
        );
    }
    if store.evicted > 0 {
        line += &format!(
            "; {} dropped to keep the last {} (--keep)",
            count(store.evicted, "oldest trace"),
            store.kept()
        );
    }
    if store.evicted_for_memory > 0 {
        line += &format!(
            "; {} dropped to stay under --max-memory ({} MB kept)",
            count(store.evicted_for_memory, "oldest trace"),
            store.bytes() >> 20
        );
    }
    if store.truncated > 0 {
        line += &format!(
            "; {} not kept: their trace already had {} (a loop?)",
            count(store.truncated, "span"),
            crate::listen::store::MAX_SPANS_PER_TRACE
        );
    }
    anstream::eprintln!("\n{} {line}", paint(HEADING, "Stopped."));
}
