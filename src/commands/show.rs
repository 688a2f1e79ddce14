//! `tracelab show FILE...`: saved traces replayed as `listen` shows them,
//! in the terminal or in the web view. A file is one OTLP/JSON request a
//! line: what `listen --save` writes, and what the Collector's file exporter
//! and otel-tui write and read.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, bail};

use crate::cli::ShowArgs;
use crate::exit::{ExitStatus, Stopped};
use crate::listen::hosts::AllowedHosts;
use crate::listen::http::runtime;
use crate::listen::live::{Flush, Live, Output};
use crate::listen::store::Bounds;
use crate::listen::web;
use crate::otlp::{self, Encoding};

pub fn run(args: ShowArgs) -> Result<ExitStatus> {
    let output = match (args.web, args.json) {
        (true, _) => Output::Nothing,
        (false, true) => Output::JsonLines,
        (false, false) => Output::Tree,
    };
    // Every trace in the files is kept: they were chosen to be looked at.
    let everything = Bounds {
        traces: usize::MAX,
        bytes: usize::MAX,
    };
    let live = Live::new(everything, Duration::MAX, output);
    for file in &args.files {
        let text = std::fs::read_to_string(file)
            .with_context(|| format!("cannot read {}", file.display()))?;
        for (index, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let request = match otlp::decode_request(line.as_bytes(), Encoding::Json, false) {
                Ok(request) => request,
                Err(e) => bail!(
                    "{}:{}: not an OTLP/JSON request ({e}): each line must be one ExportTraceServiceRequest, as listen --save writes",
                    file.display(),
                    index + 1
                ),
            };
            live.add(otlp::received_spans(request), None);
            // As listen would have printed it when this request came.
            live.print(Flush::Due);
        }
    }
    live.print(Flush::EndOfInput);
    if args.web {
        // Served until Ctrl-C, which ends it as it ends every command.
        serve(&args, &live)?;
        return Err(Stopped.into());
    }
    Ok(ExitStatus::Success)
}

fn serve(args: &ShowArgs, live: &Arc<Live>) -> Result<()> {
    let runtime = runtime()?;
    let hosts = AllowedHosts {
        extra: args.allow_host.clone(),
    };
    let server = web::start(runtime, &args.host, args.web_port, hosts, Arc::clone(live))?;
    let stop_rx = crate::interrupt::stop_signal();
    let note = format!(" ({} traces; Ctrl-C stops)", live.store().kept());
    web::announce(&server, args.web_port, &note);
    let _ = stop_rx.recv();
    live.close();
    server.stop();
    Ok(())
}
