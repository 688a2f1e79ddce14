//! `tracelab show FILE...`: saved traces replayed as `listen` prints them.
//! A file is one OTLP/JSON request a line: what `listen --save` writes, and
//! what the Collector's file exporter and otel-tui write and read.

use std::io::Write;
use std::sync::Arc;

use anyhow::{Context, Result, bail};

use crate::cli::ShowArgs;
use crate::exit::EXIT_OK;
use crate::listen::print::write_batch;
use crate::listen::{Batch, RawRequest};
use crate::otlp::{self, Encoding};

pub fn run(args: ShowArgs) -> Result<u8> {
    let mut out = anstream::stdout().lock();
    for file in &args.files {
        let text = std::fs::read_to_string(file)
            .with_context(|| format!("cannot read {}", file.display()))?;
        for (index, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let spans = match otlp::decode(line.as_bytes(), Encoding::Json, false) {
                Ok(spans) => spans,
                Err(e) => bail!(
                    "{}:{}: not an OTLP/JSON request ({e}): each line must be one ExportTraceServiceRequest, as listen --save writes",
                    file.display(),
                    index + 1
                ),
            };
            let batch = Batch {
                spans,
                team: None,
                raw: Arc::new(RawRequest::default()),
            };
            write_batch(&mut out, &batch, args.json)?;
        }
    }
    out.flush()?;
    Ok(EXIT_OK)
}
