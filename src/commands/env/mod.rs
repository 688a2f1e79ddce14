//! `tracelab env`: set a secret once in every layer that needs it, list where
//! each variable is set, and check them.

mod list;
mod set;

use crate::exit::ExitStatus;
use anyhow::Result;

use crate::cli::{EnvArgs, EnvCommand};
use crate::doctor::{self, catalogue::Group, report};
use crate::workspace::context::Options;

/// The doctor's full view of the layers, with its own compose resolver.
const LAYERS: Options = Options {
    external_layers: true,
    use_compose_binary: false,
    repository_only: false,
};

pub fn run(args: EnvArgs) -> Result<ExitStatus> {
    match args.command {
        EnvCommand::Set(set) => set::run(set),
        EnvCommand::List(list) => list::run(list),
        EnvCommand::Check(check) => {
            let dir = crate::workspace::locate(check.dir.as_deref())?;
            let findings: Vec<_> = doctor::diagnose(&dir, LAYERS, Default::default())?
                .into_iter()
                .filter(|f| f.id.group() == Group::Environment)
                .collect();
            if check.json {
                report::print_json(&dir, &findings, 0);
            } else {
                report::print_human(
                    &dir,
                    &format!("tracelab env check: {}", dir.display()),
                    &findings,
                    0,
                );
            }
            Ok(doctor::exit_status(&findings))
        }
    }
}
