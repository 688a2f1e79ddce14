//! Dispatches a parsed command line to its command.

use crate::exit::ExitStatus;
use anyhow::Result;

use crate::cli::{Cli, Command};
use crate::commands;

pub fn run(cli: Cli) -> Result<ExitStatus> {
    match cli.command {
        Command::New(args) => commands::new::run(args),
        Command::Add(args) => commands::add::run(args),
        Command::Update(args) => commands::update::run(args),
        Command::Doctor(args) => commands::doctor::run(args),
        Command::Run(args) => commands::run::run(args),
        Command::Listen(args) => commands::listen::run(args),
        Command::Show(args) => commands::show::run(args),
        Command::Class(args) => commands::class::run(args),
        Command::Env(args) => commands::env::run(args),
        Command::Completions(args) => commands::completions::run(args),
        Command::Man(args) => commands::completions::man(args),
    }
}
