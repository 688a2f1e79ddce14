//! `tracelab doctor`: check the workspace, print the findings, exit 1 on a problem.

use std::time::Duration;

use anyhow::{Result, bail};

use crate::cli::{DoctorArgs, OutputFormat};
use crate::doctor::finding::Finding;
use crate::doctor::{
    Reach, catalogue, diagnose, exit_status, fix, formats, ignored_ids, parse_id, report,
    without_ignored,
};
use crate::exit::ExitStatus;
use crate::scaffold::write::ChangeSet;
use crate::style::{DIM, HEADING, OK, WARN, paint};
use crate::workspace::context::Options;

pub fn run(args: DoctorArgs) -> Result<ExitStatus> {
    if let Some(id) = &args.explain {
        return explain(id, args.format() == OutputFormat::Json);
    }
    let dir = match start(&args) {
        Ok(dir) => dir,
        // Said on stderr by main as always; a script reading --json gets
        // an object too, not nothing.
        Err(error) if args.format() == OutputFormat::Json => {
            report::print_json_error(&error);
            return Err(error);
        }
        Err(error) => return Err(error),
    };
    let options = Options {
        external_layers: !args.repository,
        use_compose_binary: !args.builtin_resolver,
        repository_only: args.repository,
    };
    let reach = Reach {
        online: args.online.then(|| Duration::from_secs_f64(args.timeout)),
        deep: args.deep,
    };
    let ignore = ignored_ids(&dir, &args.ignore)?;
    let (findings, ignored) = without_ignored(diagnose(&dir, options, reach)?, &ignore);
    if args.fix {
        return match fix(&args, &dir, &findings)? {
            Fixed::Wrote => {
                // What is left, read again: the offline checks, which are
                // what edits change.
                let reach = Reach {
                    online: None,
                    deep: false,
                };
                let (after, ignored) = without_ignored(diagnose(&dir, options, reach)?, &ignore);
                Ok(print(&args, &dir, &after, ignored))
            }
            Fixed::Nothing => Ok(print(&args, &dir, &findings, ignored)),
            Fixed::NotWritten => Ok(exit_status(&findings)),
        };
    }
    Ok(print(&args, &dir, &findings, ignored))
}

fn print(
    args: &DoctorArgs,
    dir: &std::path::Path,
    findings: &[Finding],
    ignored: usize,
) -> ExitStatus {
    let origin = formats::Origin::new(dir);
    match args.format() {
        OutputFormat::Text => {
            let title = format!("tracelab doctor: {}", dir.display());
            report::print_human(dir, &title, findings, ignored);
        }
        OutputFormat::Json => report::print_json(dir, findings, ignored),
        OutputFormat::Github => print!("{}", formats::github(findings, &origin)),
        OutputFormat::Sarif => {
            let sarif = formats::sarif(findings, &origin);
            println!("{}", serde_json::to_string_pretty(&sarif).expect("JSON"));
        }
        OutputFormat::Junit => print!("{}", formats::junit(findings, &origin)),
    }
    exit_status(findings)
}

enum Fixed {
    Wrote,
    Nothing,
    /// A dry run, or the student said no.
    NotWritten,
}

/// `--fix`: the edits as one diff, asked for (or --yes), written each
/// atomically; the commands for the student's shell, printed.
fn fix(args: &DoctorArgs, dir: &std::path::Path, findings: &[Finding]) -> Result<Fixed> {
    let plan = fix::plan(findings);
    // Progress goes to stderr: for a machine, stdout is the report alone.
    let say = |text: String| {
        if args.format() != OutputFormat::Text {
            anstream::eprintln!("{text}");
        } else {
            anstream::println!("{text}");
        }
    };
    for refused in &plan.refused {
        say(format!("{} not fixed: {refused}", paint(WARN, "!")));
    }
    if !plan.commands.is_empty() {
        say(paint(
            HEADING,
            "Run these in your shell (a program cannot set your shell's variables):",
        )
        .to_string());
        for command in &plan.commands {
            say(format!("  {}", command.replace('\n', "\n  ")));
        }
    }
    if plan.files.is_empty() {
        say(paint(DIM, "No fix here is a file edit: nothing to write.").to_string());
        return Ok(Fixed::Nothing);
    }
    let here = report::Here::new(dir);
    let diff: String = plan.files.iter().map(|f| file_diff(f, &here)).collect();
    if args.dry_run {
        print!("{diff}");
        return Ok(Fixed::NotWritten);
    }
    if !args.yes {
        let edits: usize = plan.files.iter().map(|f| f.ids.len()).sum();
        let review = "review the edits with --fix --dry-run, then pass --fix --yes to write them";
        if !crate::prompts::approve(|| {}, &diff, &format!("Make these {edits} edits?"), review)? {
            return Ok(Fixed::NotWritten);
        }
    }
    let mut change = ChangeSet::new(dir);
    for file in &plan.files {
        change.write_path(&file.path, file.after.as_bytes())?;
    }
    change.commit()?;
    for file in &plan.files {
        say(format!(
            "{} fixed {} ({})",
            paint(OK, "✓"),
            here.path(&file.path),
            file.ids
                .iter()
                .map(|id| id.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    Ok(Fixed::Wrote)
}

fn file_diff(file: &fix::FileFix, here: &report::Here) -> String {
    let name = here.path(&file.path);
    let name = name.trim_start_matches("./");
    diffy::DiffOptions::new()
        .set_original_filename(format!("a/{name}"))
        .set_modified_filename(format!("b/{name}"))
        .create_patch(&file.before, &file.after)
        .to_string()
}

/// `--explain ID`: what the check means, what it reports when, and how to
/// silence it; `all` for every check; `--json` prints the catalogue's entry.
fn explain(id: &str, json: bool) -> Result<ExitStatus> {
    let ids = if id == "all" {
        catalogue::CheckId::ALL.to_vec()
    } else {
        vec![parse_id(id)?]
    };
    if json {
        let entries: Vec<catalogue::Entry> = ids.iter().map(|id| (*id).into()).collect();
        let value = match entries.as_slice() {
            [one] if id != "all" => serde_json::to_value(one)?,
            _ => serde_json::to_value(&entries)?,
        };
        println!("{}", serde_json::to_string_pretty(&value)?);
    } else {
        let texts: Vec<String> = ids.into_iter().map(catalogue::explain).collect();
        println!("{}", texts.join("\n\n---\n\n"));
    }
    Ok(ExitStatus::Success)
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
