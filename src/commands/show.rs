//! `tracelab show FILE...`: saved traces replayed as `listen` shows them,
//! in the terminal or in the web view. A file is one OTLP/JSON request a
//! line: what `listen --save` writes, and what the Collector's file exporter
//! and otel-tui write and read.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, bail};

use crate::cli::ShowArgs;
use crate::exit::{ExitStatus, Stopped};
use crate::listen::live::{Flush, Live, Output};
use crate::listen::store::Bounds;
use crate::listen::web;
use crate::otlp::{self, Encoding, ReceivedSpan};
use crate::query::spec::QuerySpec;
use crate::receive::hosts::AllowedHosts;
use crate::receive::http::runtime;
use crate::style::{DIM, paint};

pub fn run(args: ShowArgs) -> Result<ExitStatus> {
    if let Some(text) = &args.query {
        return query(&args, text);
    }
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
    read_requests(&args.files, |spans| {
        live.add(spans, None);
        // As listen would have printed it when this request came.
        live.print(Flush::Due);
    })?;
    live.print(Flush::EndOfInput);
    if args.web {
        // Served until Ctrl-C, which ends it as it ends every command.
        serve(&args, &live)?;
        return Err(Stopped.into());
    }
    Ok(ExitStatus::Success)
}

/// Every request of every file, in order, each as its spans.
fn read_requests(files: &[PathBuf], mut each: impl FnMut(Vec<ReceivedSpan>)) -> Result<()> {
    for file in files {
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
            each(otlp::received_spans(request));
        }
    }
    Ok(())
}

/// `--query SPEC`: Honeycomb's query over the files' spans, as a table
/// and heatmaps, or as data with --json; with the link that runs it in
/// Honeycomb.
fn query(args: &ShowArgs, text: &str) -> Result<ExitStatus> {
    let text = match text.strip_prefix('@') {
        Some(path) => std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the query file {path}"))?,
        None => text.to_string(),
    };
    let spec = QuerySpec::parse(&text).map_err(|e| anyhow::anyhow!("--query: {e}"))?;
    let mut spans = Vec::new();
    read_requests(&args.files, |more| spans.extend(more))?;
    let held: Vec<&ReceivedSpan> = spans.iter().collect();
    let outcome = crate::query::run(&spec, &held).map_err(|e| anyhow::anyhow!("--query: {e}"))?;
    let link = crate::listen::honeycomb::query_link(None, &held, &spec.source);
    if args.json {
        let mut value = outcome.to_json(&spec);
        value["honeycomb_link"] = serde_json::Value::from(link);
        println!("{}", serde_json::to_string_pretty(&value)?);
    } else {
        anstream::print!("{}", crate::query::text::render(&spec, &outcome));
        anstream::println!(
            "\n{} {link}\n{}",
            paint(DIM, "The same query in Honeycomb:"),
            paint(
                DIM,
                "(replace YOUR_TEAM and YOUR_ENVIRONMENT with the words after ui.honeycomb.io/ in your Honeycomb address)"
            )
        );
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
