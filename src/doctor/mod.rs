//! `tracelab doctor`: reads every layer a variable passes through on its way
//! into the app, runs the checklist, and reports each problem with its fix.

pub mod checks;
pub mod compose;
pub mod context;
pub mod dotenv;
pub mod finding;
pub mod interpolate;
pub mod layers;
pub mod process;
pub mod report;

use std::path::Path;

use anyhow::{Result, bail};

use crate::cli::DoctorArgs;
use crate::run::{EXIT_OK, EXIT_PROBLEMS};
use context::{Context, Options};
use finding::{Finding, Status};

pub fn run(args: DoctorArgs) -> Result<u8> {
    let dir = args.dir.clone().unwrap_or_else(|| ".".into());
    if !dir.is_dir() {
        bail!(
            "{} is not a directory: pass --dir with the workspace (the folder with docker-compose.yml)",
            dir.display()
        );
    }
    let options = Options {
        external_layers: true,
        use_compose_binary: !args.builtin_resolver,
    };
    let findings = diagnose(&dir, options)?;
    if args.json {
        report::print_json(&findings);
    } else {
        report::print_human(&format!("tracelab doctor: {}", dir.display()), &findings);
    }
    Ok(exit_code(&findings))
}

/// Runs every check on the workspace at `dir`, with this process's environment as the shell.
pub fn diagnose(dir: &Path, options: Options) -> Result<Vec<Finding>> {
    let shell = std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
        .collect();
    let ctx = Context::load(dir, shell, options)?;
    Ok(checks::run_all(&ctx))
}

pub fn exit_code(findings: &[Finding]) -> u8 {
    if findings.iter().any(|f| f.status == Status::Fail) {
        EXIT_PROBLEMS
    } else {
        EXIT_OK
    }
}
