//! The doctor's output: grouped and numbered for people, one object for scripts.

use serde::Serialize;

use super::finding::{Finding, Status};
use crate::style::{CODE, DIM, FAIL, HEADING, OK, WARN, paint, text_width, wrap};

#[derive(Serialize)]
pub struct Summary<'a> {
    pub problems: usize,
    pub warnings: usize,
    /// Problems, warnings and notes of checks the workspace silences.
    pub ignored: usize,
    pub checks: &'a [Finding],
}

impl<'a> Summary<'a> {
    pub fn new(checks: &'a [Finding], ignored: usize) -> Self {
        let count = |status| checks.iter().filter(|f| f.status == status).count();
        Summary {
            problems: count(Status::Fail),
            warnings: count(Status::Warn),
            ignored,
            checks,
        }
    }
}

pub fn print_json(findings: &[Finding], ignored: usize) {
    let text =
        serde_json::to_string_pretty(&Summary::new(findings, ignored)).expect("findings serialize");
    println!("{text}");
}

/// A run that could not start (no workspace, a bad option) under `--json`:
/// a script reads one object with the error, as it would read a report.
pub fn print_json_error(error: &anyhow::Error) {
    let object = serde_json::json!({ "error": format!("{error:#}") });
    println!(
        "{}",
        serde_json::to_string_pretty(&object).expect("a string serializes")
    );
}

fn mark(status: Status) -> String {
    match status {
        Status::Ok => paint(OK, "✓"),
        Status::Info => paint(DIM, "i"),
        Status::Warn => paint(WARN, "!"),
        Status::Fail => paint(FAIL, "✗"),
        Status::Skip => paint(DIM, "-"),
    }
}

/// One finding's lines: the message wrapped to the width (continuation
/// lines under its first word); the fix never wrapped, since a command
/// must paste as one line: a long one gets a line of its own instead.
fn print_finding(finding: &Finding, number: &str, width: Option<usize>) {
    let mark = mark(finding.status);
    let layer = format!("[{}]", finding.layer.name());
    let lead = 2 + 2 + number.len() + layer.len() + 1;
    // The check's id after what it found, as ruff shows F821: what
    // `--explain ID` and `--ignore ID` take, with no --json needed.
    let id = match finding.status {
        Status::Fail | Status::Warn | Status::Info => format!(" [{}]", finding.id),
        Status::Ok | Status::Skip => String::new(),
    };
    let confirmed = if finding.confirmed {
        " (confirmed by the run)"
    } else {
        ""
    };
    let text = format!("{}{confirmed}{id}", finding.message);
    let message = match width {
        Some(width) if width > lead + 20 => wrap(&text, width - lead, &" ".repeat(lead)),
        _ => text,
    };
    let message = match message.strip_suffix(&id) {
        Some(said) if !id.is_empty() => format!("{said}{}", paint(DIM, &id)),
        _ => message,
    };
    anstream::println!("  {mark} {number}{} {message}", paint(DIM, layer));
    let Some(fix) = finding
        .fix
        .as_deref()
        .filter(|_| finding.status != Status::Ok)
    else {
        return;
    };
    let fits = !fix.contains('\n') && width.is_none_or(|w| 6 + 5 + fix.chars().count() <= w);
    if fits {
        anstream::println!("      {} {}", paint(DIM, "fix:"), paint(CODE, fix));
    } else {
        anstream::println!("      {}", paint(DIM, "fix:"));
        for line in fix.lines() {
            anstream::println!("      {}", paint(CODE, line));
        }
    }
}

pub fn print_human(title: &str, findings: &[Finding], ignored: usize) {
    let width = text_width();
    anstream::println!("{}", paint(HEADING, title));
    let mut group = "";
    let mut problem_number = 0;
    for finding in findings {
        if finding.group != group {
            group = finding.group;
            anstream::println!("\n{}", paint(HEADING, group));
        }
        let number = if finding.status == Status::Fail {
            problem_number += 1;
            format!("{problem_number}. ")
        } else {
            String::new()
        };
        print_finding(finding, &number, width);
    }
    let summary = Summary::new(findings, ignored);
    anstream::println!();
    print_totals(summary.problems, summary.warnings, ignored);
}

fn print_totals(problems: usize, warnings: usize, ignored: usize) {
    let mut warnings = match warnings {
        0 => String::new(),
        1 => ", 1 warning".into(),
        n => format!(", {n} warnings"),
    };
    if ignored > 0 {
        warnings.push_str(&format!(" ({ignored} ignored: --ignore or .tracelab.yml)"));
    }
    match problems {
        0 => anstream::println!("{}{warnings}", paint(OK, "No problems found")),
        1 => anstream::println!("{}{warnings}", paint(FAIL, "1 problem found")),
        n => anstream::println!("{}{warnings}", paint(FAIL, format!("{n} problems found"))),
    }
}

/// The few lines `tracelab new` prints: what is still missing and the fix.
pub fn print_short(findings: &[Finding]) {
    let problems: Vec<&Finding> = findings
        .iter()
        .filter(|f| f.status == Status::Fail)
        .collect();
    if problems.is_empty() {
        anstream::println!(
            "{} {}",
            paint(OK, "✓"),
            "tracelab doctor (offline): no problems found"
        );
        return;
    }
    anstream::println!(
        "{}",
        paint(HEADING, "Still to do (tracelab doctor, offline)")
    );
    let width = text_width();
    for finding in problems {
        print_finding(finding, "", width);
    }
}
