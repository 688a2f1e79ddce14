//! `tracelab completions SHELL` and `tracelab man`: generated from the clap
//! definitions, so they always match the commands and flags.

use std::io::Write;

use anyhow::{Context, Result};
use clap::CommandFactory;

use crate::cli::{Cli, CompletionsArgs};
use crate::exit::EXIT_OK;

/// (`tracelab man | head` ends by SIGPIPE, quietly, as every command but
/// listen and run does: see main.rs.)
pub fn run(args: CompletionsArgs) -> Result<u8> {
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut Cli::command(), "tracelab", &mut script);
    std::io::stdout()
        .write_all(&script)
        .context("writing the script")?;
    Ok(EXIT_OK)
}

pub fn man() -> Result<u8> {
    let mut page = Vec::new();
    clap_mangen::Man::new(Cli::command()).render(&mut page)?;
    std::io::stdout()
        .write_all(&page)
        .context("writing the man page")?;
    Ok(EXIT_OK)
}
