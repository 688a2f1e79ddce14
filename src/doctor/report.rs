//! The doctor's output: grouped and numbered for people, one object for scripts.

use serde::Serialize;

use super::finding::{Finding, Status};
use crate::style::{CODE, DIM, FAIL, HEADING, OK, WARN, paint};

#[derive(Serialize)]
pub struct Summary<'a> {
    pub problems: usize,
    pub warnings: usize,
    pub checks: &'a [Finding],
}

impl<'a> Summary<'a> {
    pub fn new(checks: &'a [Finding]) -> Self {
        let count = |status| checks.iter().filter(|f| f.status == status).count();
        Summary {
            problems: count(Status::Fail),
            warnings: count(Status::Warn),
            checks,
        }
    }
}

pub fn print_json(findings: &[Finding]) {
    let text = serde_json::to_string_pretty(&Summary::new(findings)).expect("findings serialize");
    println!("{text}");
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

pub fn print_human(title: &str, findings: &[Finding]) {
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
        anstream::println!(
            "  {} {number}{} {}",
            mark(finding.status),
            paint(DIM, format!("[{}]", finding.layer.name())),
            finding.message
        );
        if let Some(fix) = &finding.fix
            && finding.status != Status::Ok
        {
            anstream::println!("      {} {}", paint(DIM, "fix:"), paint(CODE, fix));
        }
    }
    let summary = Summary::new(findings);
    anstream::println!();
    print_totals(summary.problems, summary.warnings);
}

fn print_totals(problems: usize, warnings: usize) {
    let warnings = match warnings {
        0 => String::new(),
        1 => ", 1 warning".into(),
        n => format!(", {n} warnings"),
    };
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
    for finding in problems {
        anstream::println!("  {} {}", mark(finding.status), finding.message);
        if let Some(fix) = &finding.fix {
            anstream::println!("      {} {}", paint(DIM, "fix:"), paint(CODE, fix));
        }
    }
}
