//! Dispatches a parsed command line to its command.

use anyhow::Result;

use crate::cli::{Cli, Command};
use crate::commands;

pub fn run(cli: Cli) -> Result<u8> {
    match cli.command {
        Command::New(args) => commands::new::run(args),
        Command::Doctor(args) => crate::doctor::run(args),
        Command::Listen(args) => crate::listen::run(args),
        Command::Env(args) => crate::envcmd::run(args),
    }
}
