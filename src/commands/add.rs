//! `tracelab add BACKEND...`: in a workspace tracelab made, its answers
//! with more backends, merged into the student's files as `tracelab update`
//! does; in a repository it did not make, each backend's pieces inserted
//! into the student's own files.

use std::path::Path;

use anyhow::{Result, bail};

use crate::answers::check_backend_combination;
use crate::backend::Backend;
use crate::cli::AddArgs;
use crate::exit::ExitStatus;
use crate::scaffold::insert;
use crate::scaffold::workflow::{merge_into, recorded_answers};
use crate::scaffold::write::ChangeSet;
use crate::style::{DIM, OK, paint};
use crate::workspace::context::{Context, Options};

/// The quick reading of the repository: no external command.
const OFFLINE: Options = Options {
    external_layers: false,
    use_compose_binary: false,
    repository_only: false,
};

pub fn run(args: AddArgs) -> Result<ExitStatus> {
    let dir = crate::workspace::locate(args.merge.dir.as_deref())?;
    if !dir.join(crate::scaffold::manifest::ANSWERS_FILE).is_file() {
        return insert_into(&dir, &args);
    }
    let mut answers = recorded_answers(&dir)?;
    for backend in requested(&args)? {
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
    merge_into(&dir, &answers, &args.merge.request())
}

/// The backends named on the command line (`xray cloudwatch` or `xray,cloudwatch`).
fn requested(args: &AddArgs) -> Result<Vec<Backend>> {
    let mut backends = Vec::new();
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
        if !backends.contains(&backend) {
            backends.push(backend);
        }
    }
    Ok(backends)
}

/// A repository tracelab did not make: insert each backend's pieces into
/// the student's own app.py, compose file and requirements.
fn insert_into(dir: &Path, args: &AddArgs) -> Result<ExitStatus> {
    let backends = requested(args)?;
    if backends.iter().filter(|b| b.is_otlp_destination()).count() > 1 {
        bail!("honeycomb and local both receive the spans: add one of them");
    }
    let ctx = Context::load(dir, crate::workspace::layers::shell_env(), OFFLINE)?;
    let edits = insert::plan(&ctx, &backends)?;
    let names: Vec<&str> = backends.iter().map(|b| b.name()).collect();
    if edits.is_empty() {
        anstream::println!(
            "{} {} is already wired for {}",
            paint(OK, "✓"),
            dir.display(),
            names.join(", ")
        );
        return Ok(ExitStatus::Success);
    }
    let diffs: String = edits.iter().map(|e| insert::diff(dir, e)).collect();
    if args.merge.dry_run {
        print!("{diffs}");
        return Ok(ExitStatus::Success);
    }
    if !args.merge.yes {
        let question = format!("Add {} to these files?", names.join(", "));
        let review = "review the change with --dry-run, then pass --yes to write it";
        if !crate::prompts::approve(|| {}, &diffs, &question, review)? {
            return Ok(ExitStatus::Success);
        }
    }
    let mut change = ChangeSet::new(dir);
    for edit in &edits {
        change.write_path(&edit.path, edit.after.as_bytes())?;
    }
    change.commit()?;
    anstream::println!(
        "{} added {} to {}:",
        paint(OK, "✓"),
        names.join(", "),
        dir.display()
    );
    for edit in &edits {
        let rel = edit.path.strip_prefix(dir).unwrap_or(&edit.path);
        anstream::println!("  ~ {}", rel.display());
    }
    anstream::println!(
        "{}",
        paint(
            DIM,
            "Next: tracelab doctor   # sets nothing for you: it says which variable is still missing"
        )
    );
    Ok(ExitStatus::Success)
}
