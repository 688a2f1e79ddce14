//! `tracelab class LIST --out DIR`: the doctor over a cohort, for
//! instructors: every repository fetched and diagnosed alone, one report.

use std::io::IsTerminal;
use std::time::Duration;

use anyhow::{Result, bail};

use crate::cli::ClassArgs;
use crate::cohort::report::{self, Summary};
use crate::cohort::{Plan, diagnose_all, fetch::Fetch, list};
use crate::exit::{ExitStatus, Stopped};
use crate::style::{DIM, FAIL, HEADING, OK, WARN, paint};

pub fn run(args: ClassArgs) -> Result<ExitStatus> {
    if args.timeout == 0 {
        bail!("--timeout 0: give the seconds one clone may take, e.g. --timeout 300");
    }
    if let Some(date) = &args.before
        && (date.trim().is_empty() || date.starts_with('-'))
    {
        bail!(
            "--before {date:?} is not a date: give one as git reads it, e.g. --before 2023-03-05"
        );
    }
    let sources = list::read(&args.list)?;
    if args.out.exists() && !args.out.is_dir() {
        bail!(
            "--out {} is a file: give a folder for the report",
            args.out.display()
        );
    }
    let plan = Plan {
        clones: args.out.join("repos"),
        fetch: Fetch {
            before: args.before.clone(),
            timeout: Duration::from_secs(args.timeout),
        },
        jobs: usize::from(args.jobs),
        use_compose_binary: !args.builtin_resolver,
    };
    let terminal = std::io::stderr().is_terminal();
    let progress = |done: usize, total: usize| {
        if terminal {
            anstream::eprint!("\r{} {done}/{total} repositories", paint(DIM, "diagnosing"));
        }
    };
    let entries = diagnose_all(&sources, &plan, &progress);
    if terminal {
        anstream::eprint!("\r\x1b[2K");
    }
    if crate::interrupt::interrupted() {
        return Err(Stopped.into());
    }
    let summary = Summary::of(&entries);
    report::write(&args.out, &entries, &summary)?;
    if args.json {
        let file = report::ClassFile {
            summary: &summary,
            repositories: &entries,
        };
        println!("{}", serde_json::to_string_pretty(&file)?);
    } else {
        print_summary(&summary, &entries, &args.out);
    }
    Ok(ExitStatus::problems_if(
        summary.with_problems > 0 || summary.failed > 0,
    ))
}

fn print_summary(summary: &Summary, entries: &[crate::cohort::Entry], out: &std::path::Path) {
    anstream::println!(
        "{} {} repositories: {} with no problem, {} with problems, {} not diagnosed",
        paint(HEADING, "tracelab class:"),
        summary.repositories,
        paint(OK, summary.clean),
        paint(FAIL, summary.with_problems),
        summary.failed
    );
    let top: Vec<_> = summary.common.iter().take(10).collect();
    if !top.is_empty() {
        anstream::println!("\n{}", paint(HEADING, "Commonest findings"));
    }
    for common in top {
        let (mark, kind) = match common.status {
            crate::doctor::finding::Status::Fail => (paint(FAIL, "✗"), "problem"),
            _ => (paint(WARN, "!"), "warning"),
        };
        anstream::println!(
            "  {mark} {:<4} {} {}",
            common.students.len(),
            common.id,
            paint(
                DIM,
                format!("({kind}: tracelab doctor --explain {})", common.id)
            )
        );
    }
    let failed: Vec<_> = entries.iter().filter(|e| e.error.is_some()).collect();
    if !failed.is_empty() {
        anstream::println!("\n{}", paint(HEADING, "Not diagnosed"));
        for entry in failed {
            anstream::println!(
                "  {} {}: {}",
                paint(DIM, "-"),
                entry.source,
                entry.error.as_deref().unwrap_or("")
            );
        }
    }
    anstream::println!(
        "\nReport: {} (also class.json, class.csv)",
        out.join("index.html").display()
    );
}
