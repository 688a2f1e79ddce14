//! Dispatches a parsed command line to its command.

use anyhow::Result;

use crate::cli::{Cli, Command};
use crate::commands;

pub const EXIT_OK: u8 = 0;
/// The checks ran and found problems.
pub const EXIT_PROBLEMS: u8 = 1;
/// Bad usage or unreadable input: nothing was checked or written.
pub const EXIT_USAGE: u8 = 2;

pub fn run(cli: Cli) -> Result<u8> {
    match cli.command {
        Command::New(args) => commands::new::run(args),
        Command::Doctor(args) => crate::doctor::run(args),
        Command::Listen(args) => crate::listen::run(args),
        Command::Env(args) => crate::envcmd::run(args),
    }
}
