//! `tracelab listen`: run the receiver, print what arrives, and on Ctrl-C
//! stop cleanly with a summary.

use std::collections::HashSet;
use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, mpsc};

use anyhow::{Context, Result};

use crate::cli::ListenArgs;
use crate::exit::EXIT_OK;
use crate::listen::print::write_batch;
use crate::listen::server::{Batch, Receiver};
use crate::style::{DIM, HEADING, paint};

/// Threads that accept requests; enough for many exporters at once.
const WORKERS: usize = 8;

#[derive(Default)]
struct Stats {
    batches: AtomicU64,
    spans: AtomicU64,
    seen: Mutex<(HashSet<String>, HashSet<String>)>,
}

pub fn run(args: ListenArgs) -> Result<u8> {
    let stats = Arc::new(Stats::default());
    let json = args.json;
    let sink_stats = Arc::clone(&stats);
    let save = match &args.save {
        Some(path) => Some(Mutex::new(
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .with_context(|| format!("cannot open {} to save traces in", path.display()))?,
        )),
        None => None,
    };
    // One lock around stdout keeps concurrent batches from interleaving.
    let stdout = Arc::new(Mutex::new(anstream::stdout()));
    let sink = Arc::new(move |batch: Batch| {
        record(&sink_stats, &batch);
        if let (Some(file), Ok(request)) = (&save, batch.raw.request()) {
            let mut file = file.lock().unwrap_or_else(|e| e.into_inner());
            // One write per request: lines never interleave.
            let _ = file.write_all(format!("{}\n", crate::otlp::json_line(&request)).as_bytes());
        }
        let mut out = stdout.lock().unwrap_or_else(|e| e.into_inner());
        // A closed pipe (`| head`) must not stop the receiver.
        let _ = write_batch(&mut *out, &batch, json);
    });
    let address = format!("{}:{}", args.host, args.port);
    let receiver = Receiver::start(&address, WORKERS, sink)?;
    let (stop_tx, stop_rx) = mpsc::channel();
    ctrlc::set_handler(move || {
        let _ = stop_tx.send(());
    })
    .context("cannot install the Ctrl-C handler")?;
    let url = format!("http://{}", receiver.addr());
    anstream::eprintln!(
        "{} {url}/v1/traces (protobuf or JSON, gzip or not; Ctrl-C stops)",
        paint(HEADING, "Listening for OTLP/HTTP traces on")
    );
    anstream::eprintln!(
        "{}",
        paint(
            DIM,
            format!(
                "  point the app here: OTEL_EXPORTER_OTLP_ENDPOINT={url}   (from a container: http://host.docker.internal:{}, with --host 0.0.0.0)",
                receiver.addr().port()
            )
        )
    );
    let _ = stop_rx.recv();
    receiver.stop();
    let (traces, services) = stats
        .seen
        .lock()
        .map(|s| (s.0.len(), s.1.iter().cloned().collect::<Vec<_>>()))
        .unwrap_or_default();
    let mut services = services;
    services.sort();
    anstream::eprintln!(
        "\n{} {} traces, {} spans in {} requests; services: {}",
        paint(HEADING, "Stopped."),
        traces,
        stats.spans.load(Ordering::SeqCst),
        stats.batches.load(Ordering::SeqCst),
        if services.is_empty() {
            "none".to_string()
        } else {
            services.join(", ")
        }
    );
    Ok(EXIT_OK)
}

fn record(stats: &Stats, batch: &Batch) {
    stats.batches.fetch_add(1, Ordering::SeqCst);
    stats
        .spans
        .fetch_add(batch.spans.len() as u64, Ordering::SeqCst);
    if let Ok(mut seen) = stats.seen.lock() {
        for span in &batch.spans {
            seen.0.insert(span.trace_id.clone());
            seen.1.insert(span.service.clone());
        }
    }
}
