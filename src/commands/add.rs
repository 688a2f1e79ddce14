//! `tracelab add BACKEND...`: the workspace's answers with more backends,
//! merged into the student's files as `tracelab update` does.

use anyhow::{Result, bail};

use super::update::{recorded_answers, update_to, workspace_dir};
use crate::answers::check_backend_combination;
use crate::backend::Backend;
use crate::cli::AddArgs;

pub fn run(args: AddArgs) -> Result<u8> {
    let dir = workspace_dir(&args.merge)?;
    let mut answers = recorded_answers(&dir)?;
    let names: Vec<&str> = args
        .backends
        .iter()
        .flat_map(|b| b.split(','))
        .filter(|n| !n.trim().is_empty())
        .collect();
    for name in names {
        let Some(backend) = Backend::parse(name) else {
            bail!(
                "unknown backend {name:?}: choose from {}",
                Backend::names().join(", ")
            );
        };
        // Spans go to one place: adding one OTLP destination replaces the other.
        if backend.is_otlp_destination() {
            answers.backends.retain(|b| !b.is_otlp_destination());
        }
        if !answers.backends.contains(&backend) {
            answers.backends.push(backend);
        }
    }
    answers.backends.sort();
    check_backend_combination(&answers.backends).map_err(|e| anyhow::anyhow!("{e}"))?;
    update_to(&dir, &answers, &args.merge)
}
