//! `tracelab doctor`: check the workspace, print the findings, exit 1 on a problem.

use std::time::Duration;

use anyhow::{Result, bail};

use crate::cli::DoctorArgs;
use crate::doctor::{Reach, diagnose, exit_code, ignored_ids, registry, report, without_ignored};
use crate::exit::EXIT_OK;
use crate::workspace::context::Options;

pub fn run(args: DoctorArgs) -> Result<u8> {
    if let Some(id) = &args.explain {
        return explain(id);
    }
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
    let reach = Reach {
        online: args.online.then(|| Duration::from_secs_f64(args.timeout)),
        deep: args.deep,
    };
    let ignore = ignored_ids(&dir, &args.ignore)?;
    let (findings, ignored) = without_ignored(diagnose(&dir, options, reach)?, &ignore);
    if args.json {
        report::print_json(&findings, ignored);
    } else {
        let title = format!("tracelab doctor: {}", dir.display());
        report::print_human(&title, &findings, ignored);
    }
    Ok(exit_code(&findings))
}

/// `--explain ID`: what the check means, and how to silence it.
fn explain(id: &str) -> Result<u8> {
    match registry::explain(id) {
        Some(text) => {
            println!("{text}");
            Ok(EXIT_OK)
        }
        None => {
            let ids: Vec<&str> = registry::CHECKS.iter().map(|c| c.id).collect();
            bail!(
                "no check is called {id:?}; the checks are: {}",
                ids.join(", ")
            )
        }
    }
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
