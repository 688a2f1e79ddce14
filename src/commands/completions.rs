//! `tracelab completions SHELL` and `tracelab man`: generated from the clap
//! definitions, so they always match the commands and flags.

use std::io::Write;

use anyhow::{Context, Result};
use clap::CommandFactory;

use crate::cli::{Cli, CompletionsArgs, ManArgs};
use crate::exit::ExitStatus;

/// (`tracelab man | head` ends by SIGPIPE, quietly, as every command but
/// listen and run does: see main.rs.)
pub fn run(args: CompletionsArgs) -> Result<ExitStatus> {
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut Cli::command(), "tracelab", &mut script);
    std::io::stdout()
        .write_all(&script)
        .context("writing the script")?;
    Ok(ExitStatus::Success)
}

pub fn man(args: ManArgs) -> Result<ExitStatus> {
    let Some(dir) = args.dir else {
        let mut page = Vec::new();
        clap_mangen::Man::new(Cli::command()).render(&mut page)?;
        std::io::stdout()
            .write_all(&page)
            .context("writing the man page")?;
        return Ok(ExitStatus::Success);
    };
    // The main page names tracelab-new(1) and the others: write them all.
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot make {}", dir.display()))?;
    // Built, so clap's own `help` subcommand (which the main page names) is there.
    let mut command = Cli::command();
    command.build();
    let mut written = Vec::new();
    let pages = std::iter::once(("tracelab".to_string(), command.clone())).chain(
        command.get_subcommands().map(|sub| {
            (
                format!("tracelab-{}", sub.get_name()),
                sub.clone().name(format!("tracelab-{}", sub.get_name())),
            )
        }),
    );
    for (name, page_command) in pages {
        let mut page = Vec::new();
        clap_mangen::Man::new(page_command).render(&mut page)?;
        let path = dir.join(format!("{name}.1"));
        std::fs::write(&path, page).with_context(|| format!("cannot write {}", path.display()))?;
        written.push(name);
    }
    // `man NAME` finds them only where man looks (a venv's bin is not on
    // its map of PATH to pages): say the way that always works.
    let root = dir.parent().unwrap_or(&dir);
    println!(
        "wrote {} man pages to {} ({})\nread one: MANPATH=\"{}:$MANPATH\" man tracelab-new, or man -l {}",
        written.len(),
        dir.display(),
        written.join(", "),
        root.display(),
        dir.join("tracelab-new.1").display()
    );
    Ok(ExitStatus::Success)
}
