//! `tracelab doctor`: check the workspace, print the findings, exit 1 on a problem.

use std::time::Duration;

use anyhow::{Result, bail};

use crate::cli::DoctorArgs;
use crate::doctor::{diagnose, exit_code, report};
use crate::workspace::context::Options;

pub fn run(args: DoctorArgs) -> Result<u8> {
    let dir = match start(&args) {
        Ok(dir) => dir,
        // Said on stderr by main as always; a script reading --json gets
        // an object too, not nothing.
        Err(error) if args.json => {
            report::print_json_error(&error);
            return Err(error);
        }
        Err(error) => return Err(error),
    };
    let options = Options {
        external_layers: true,
        use_compose_binary: !args.builtin_resolver,
    };
    let online = args.online.then(|| Duration::from_secs_f64(args.timeout));
    let findings = diagnose(&dir, options, online)?;
    if args.json {
        report::print_json(&findings);
    } else {
        report::print_human(&format!("tracelab doctor: {}", dir.display()), &findings);
    }
    Ok(exit_code(&findings))
}

/// The options checked and the workspace found, or why not.
fn start(args: &DoctorArgs) -> Result<std::path::PathBuf> {
    if !(args.timeout > 0.0 && args.timeout <= 120.0) {
        bail!(
            "--timeout {} is out of range: give seconds from 0.1 to 120",
            args.timeout
        );
    }
    crate::workspace::locate(args.dir.as_deref())
}
