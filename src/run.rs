//! Dispatches a parsed command line to its command.

use anyhow::Result;

use crate::cli::{Cli, Command};
use crate::commands;

pub fn run(cli: Cli) -> Result<u8> {
    match cli.command {
        Command::New(args) => commands::new::run(args),
        Command::Add(args) => commands::update::run_add(args),
        Command::Update(args) => commands::update::run_update(args),
        Command::Doctor(args) => crate::doctor::run(args),
        Command::Listen(args) => crate::listen::run(args),
        Command::Env(args) => crate::envcmd::run(args),
    }
}
