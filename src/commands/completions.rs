//! `tracelab completions SHELL` and `tracelab man`: generated from the clap
//! definitions, so they always match the commands and flags.

use std::io::Write;

use anyhow::{Context, Result};
use clap::CommandFactory;

use crate::cli::{Cli, CompletionsArgs};
use crate::exit::EXIT_OK;

pub fn run(args: CompletionsArgs) -> Result<u8> {
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut Cli::command(), "tracelab", &mut script);
    print_all(&script)
}

pub fn man() -> Result<u8> {
    let mut page = Vec::new();
    clap_mangen::Man::new(Cli::command()).render(&mut page)?;
    print_all(&page)
}

/// Writes to stdout; a reader that closed early (`| head`) is not an error.
fn print_all(bytes: &[u8]) -> Result<u8> {
    match std::io::stdout().write_all(bytes) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(e).context("writing to standard output")
        }
        _ => Ok(EXIT_OK),
    }
}
