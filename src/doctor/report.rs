//! The doctor's output: grouped and numbered for people, one object for scripts.

use std::borrow::Cow;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::finding::{Finding, Status};
use crate::style::{CODE, DIM, FAIL, HEADING, OK, WARN, paint, text_width, wrap, write_at_once};

#[derive(Serialize)]
pub struct Summary<'a> {
    /// The workspace, absolute: every path in the findings is relative to it.
    pub root: String,
    pub problems: usize,
    pub warnings: usize,
    /// Problems, warnings and notes of checks the workspace silences.
    pub ignored: usize,
    pub checks: &'a [Finding],
}

impl<'a> Summary<'a> {
    pub fn new(root: &Path, checks: &'a [Finding], ignored: usize) -> Self {
        let count = |status| checks.iter().filter(|f| f.status == status).count();
        Summary {
            root: Here::new(root).root.display().to_string(),
            problems: count(Status::Fail),
            warnings: count(Status::Warn),
            ignored,
            checks,
        }
    }
}

pub fn print_json(root: &Path, findings: &[Finding], ignored: usize) {
    let text = serde_json::to_string_pretty(&Summary::new(root, findings, ignored))
        .expect("findings serialize");
    println!("{text}");
}

/// Paths as the student reads them: the findings name files relative to
/// the workspace; from a folder inside it (`backend-flask/`), the text
/// report names them relative to where the student stands (`app.py:26`).
pub struct Here {
    root: PathBuf,
    cwd: PathBuf,
}

impl Here {
    pub fn new(workspace: &Path) -> Here {
        let cwd = std::env::current_dir().unwrap_or_default();
        let absolute = |path: &Path| {
            let joined = cwd.join(path);
            std::fs::canonicalize(&joined).unwrap_or(joined)
        };
        Here {
            root: absolute(workspace),
            cwd: absolute(Path::new(".")),
        }
    }

    /// A path (relative to where the doctor ran, or absolute) as seen from
    /// here.
    pub fn path(&self, path: &Path) -> String {
        let absolute = self.cwd.join(path);
        let absolute = std::fs::canonicalize(&absolute).unwrap_or(absolute);
        pathdiff::diff_paths(&absolute, &self.cwd)
            .map_or_else(|| path.display().to_string(), |p| p.display().to_string())
    }

    /// `text` with each workspace-relative path that names a file or folder
    /// of the workspace written relative to here.
    pub fn text<'t>(&self, text: &'t str) -> Cow<'t, str> {
        if self.root == self.cwd {
            return Cow::Borrowed(text);
        }
        // Tokens as `[A-Za-z0-9_.][A-Za-z0-9_./-]*` would find them (a
        // regex cost more to compile than all the reports it read).
        let starts = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '.');
        let goes_on = |c: char| starts(c) || matches!(c, '/' | '-');
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(start) = rest.find(starts) {
            let length = rest[start..]
                .find(|c| !goes_on(c))
                .unwrap_or(rest.len() - start);
            out.push_str(&rest[..start]);
            out.push_str(&self.token(&rest[start..start + length]));
            rest = &rest[start + length..];
        }
        out.push_str(rest);
        if out == text {
            Cow::Borrowed(text)
        } else {
            Cow::Owned(out)
        }
    }

    /// A token of a report, as seen from here when it is a path in the
    /// workspace.
    fn token<'t>(&self, token: &'t str) -> Cow<'t, str> {
        let bare = token.trim_end_matches('.');
        let tail = &token[bare.len()..];
        let inside = bare.trim_start_matches("./");
        let is_path = inside.contains('/') || inside.contains('.');
        if !is_path || inside.starts_with("..") || !self.root.join(inside).exists() {
            return Cow::Borrowed(token);
        }
        let shown = pathdiff::diff_paths(self.root.join(inside), &self.cwd)
            .map_or_else(|| inside.to_string(), |p| p.display().to_string());
        Cow::Owned(format!("{shown}{tail}"))
    }
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
fn print_finding(
    out: &mut dyn Write,
    finding: &Finding,
    number: &str,
    width: Option<usize>,
    here: &Here,
) -> std::io::Result<()> {
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
    let text = format!("{}{confirmed}{id}", here.text(&finding.message));
    let message = match width {
        Some(width) if width > lead + 20 => wrap(&text, width - lead, &" ".repeat(lead)),
        _ => text,
    };
    let message = match message.strip_suffix(&id) {
        Some(said) if !id.is_empty() => format!("{said}{}", paint(DIM, &id)),
        _ => message,
    };
    writeln!(out, "  {mark} {number}{} {message}", paint(DIM, layer))?;
    let Some(fix) = finding
        .fix
        .as_deref()
        .filter(|_| finding.status != Status::Ok)
    else {
        return Ok(());
    };
    let fix = &*here.text(fix);
    let fits = !fix.contains('\n') && width.is_none_or(|w| 6 + 5 + fix.chars().count() <= w);
    if fits {
        writeln!(out, "      {} {}", paint(DIM, "fix:"), paint(CODE, fix))
    } else {
        writeln!(out, "      {}", paint(DIM, "fix:"))?;
        for line in fix.lines() {
            writeln!(out, "      {}", paint(CODE, line))?;
        }
        Ok(())
    }
}

pub fn print_human(root: &Path, title: &str, findings: &[Finding], ignored: usize) {
    write_at_once(|out| write_human(out, root, title, findings, ignored));
}

fn write_human(
    out: &mut dyn Write,
    root: &Path,
    title: &str,
    findings: &[Finding],
    ignored: usize,
) -> std::io::Result<()> {
    let here = Here::new(root);
    let width = text_width();
    writeln!(out, "{}", paint(HEADING, title))?;
    let mut group = "";
    let mut problem_number = 0;
    for finding in findings {
        if finding.group != group {
            group = finding.group;
            writeln!(out, "\n{}", paint(HEADING, group))?;
        }
        let number = if finding.status == Status::Fail {
            problem_number += 1;
            format!("{problem_number}. ")
        } else {
            String::new()
        };
        print_finding(out, finding, &number, width, &here)?;
    }
    let summary = Summary::new(root, findings, ignored);
    writeln!(out)?;
    write_totals(out, summary.problems, summary.warnings, ignored)
}

fn write_totals(
    out: &mut dyn Write,
    problems: usize,
    warnings: usize,
    ignored: usize,
) -> std::io::Result<()> {
    let mut warnings = match warnings {
        0 => String::new(),
        1 => ", 1 warning".into(),
        n => format!(", {n} warnings"),
    };
    if ignored > 0 {
        warnings.push_str(&format!(" ({ignored} ignored: --ignore or .tracelab.yml)"));
    }
    match problems {
        0 => writeln!(out, "{}{warnings}", paint(OK, "No problems found")),
        1 => writeln!(out, "{}{warnings}", paint(FAIL, "1 problem found")),
        n => writeln!(
            out,
            "{}{warnings}",
            paint(FAIL, format!("{n} problems found"))
        ),
    }
}

/// The few lines `tracelab new` prints: what is still missing and the fix.
pub fn print_short(root: &Path, findings: &[Finding]) {
    write_at_once(|out| write_short(out, root, findings));
}

fn write_short(out: &mut dyn Write, root: &Path, findings: &[Finding]) -> std::io::Result<()> {
    let problems: Vec<&Finding> = findings
        .iter()
        .filter(|f| f.status == Status::Fail)
        .collect();
    if problems.is_empty() {
        return writeln!(
            out,
            "{} tracelab doctor (offline): no problems found",
            paint(OK, "✓")
        );
    }
    writeln!(
        out,
        "{}",
        paint(HEADING, "Still to do (tracelab doctor, offline)")
    )?;
    let width = text_width();
    let here = Here::new(root);
    for finding in problems {
        print_finding(out, finding, "", width, &here)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::Here;

    /// A path of the workspace is written as seen from where the doctor
    /// ran; a word that is no path in it, and the sentence's full stop,
    /// are left as they are.
    #[test]
    fn paths_in_a_report_are_written_from_here() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("ws");
        std::fs::create_dir_all(root.join("backend-flask")).unwrap();
        std::fs::write(root.join("backend-flask/app.py"), "").unwrap();
        std::fs::write(root.join("docker-compose.yml"), "").unwrap();
        let here = Here {
            root,
            cwd: dir.path().to_path_buf(),
        };
        assert_eq!(
            here.text("backend-flask/app.py:12: see docker-compose.yml. not/here.py, fine."),
            "ws/backend-flask/app.py:12: see ws/docker-compose.yml. not/here.py, fine."
        );
        assert!(matches!(
            here.text("nothing to change"),
            std::borrow::Cow::Borrowed(_)
        ));
    }
}
