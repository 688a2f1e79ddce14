//! The merge workflow `new --force`, `add` and `update` share: the answers
//! a workspace was made with, the render of new answers merged three ways
//! into the student's files (`merge.rs`, `resolve.rs`), the plan shown, asked
//! for, and carried out.

use std::path::Path;

use anyhow::Result;
use serde::Serialize;

use super::base;
use super::manifest::ANSWERS_FILE;
use super::merge::{self, ConflictMode, FilePlan, MergeOptionsSet, Outcome};
use super::render_workspace;
use crate::answers::{Answers, AnswersFile};
use crate::exit::ExitStatus;
use crate::style::{CODE, DIM, FAIL, HEADING, OK, WARN, paint};

/// What the student asked of a merge.
#[derive(Debug, Clone, Copy)]
pub struct Request {
    /// Show the plan and the diff, write nothing.
    pub dry_run: bool,
    /// Write without asking.
    pub yes: bool,
    pub json: bool,
    pub conflict: ConflictMode,
    /// Bring back generated files the student deleted.
    pub recreate: bool,
}

/// The answers the workspace was made with.
pub fn recorded_answers(dir: &Path) -> Result<Answers> {
    let path = dir.join(ANSWERS_FILE);
    let text = crate::workspace::read::text(&path)?;
    let mut answers = Answers::defaults(Some(dir));
    AnswersFile::parse(&text)
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?
        .apply(&mut answers)
        .map_err(|e| anyhow::anyhow!("{e} (in {})", path.display()))?;
    Ok(answers)
}

/// The merge base of every generated file: the stored copies, or for a
/// workspace made before they were kept, the current templates rendered
/// with its recorded answers.
pub fn merge_base(dir: &Path) -> Result<std::collections::BTreeMap<String, String>> {
    let stored = base::load(dir)?;
    if !stored.is_empty() || !dir.join(ANSWERS_FILE).is_file() {
        return Ok(stored);
    }
    let answers = recorded_answers(dir)?;
    Ok(render_workspace(&answers)?
        .into_iter()
        .map(|f| (f.path, f.contents))
        .collect())
}

/// Plans the merge of `answers`' render into the workspace at `dir`.
pub fn plan_merge(dir: &Path, answers: &Answers, args: &Request) -> Result<Vec<FilePlan>> {
    let rendered = render_workspace(answers)?;
    let base = merge_base(dir)?;
    let options = MergeOptionsSet {
        conflict: args.conflict,
        recreate: args.recreate,
    };
    let mut plans = merge::plan(dir, &base, &rendered, &options)?;
    // The answers file is tracelab's record, read before this render: the
    // new one already holds every answer, so it is written, never merged.
    for plan in plans.iter_mut().filter(|p| p.path == ANSWERS_FILE) {
        if plan.current.as_deref() != plan.new_base.as_deref() {
            plan.outcome = Outcome::Update;
            plan.write = plan.new_base.clone();
            plan.reject = None;
        }
    }
    Ok(plans)
}

/// Merges the render of `answers` into the workspace, asking first on a terminal.
pub fn merge_into(dir: &Path, answers: &Answers, args: &Request) -> Result<ExitStatus> {
    let plans = plan_merge(dir, answers, args)?;
    let changes = plans.iter().any(|p| {
        !matches!(
            p.outcome,
            Outcome::Unchanged | Outcome::KeptDeleted | Outcome::KeptEdited
        ) || p.reject.is_some()
    });
    let conflicts = plans
        .iter()
        .filter(|p| p.outcome == Outcome::Conflict)
        .count();
    let exit = ExitStatus::problems_if(conflicts > 0);
    if args.dry_run {
        print_plan(dir, &plans, args, true);
        for plan in &plans {
            print!("{}", plan.diff());
        }
        // As the real run would: a conflict is a problem to know before.
        return Ok(exit);
    }
    if changes && !args.yes {
        let diff: String = plans
            .iter()
            .filter(|p| p.outcome.writes() || p.outcome == Outcome::Remove)
            .map(|plan| plan.diff())
            .collect();
        let review = "review the change with --dry-run, then pass --yes to write it";
        let plan = || print_plan(dir, &plans, args, true);
        if !crate::prompts::approve(plan, &diff, "Write these changes?", review)? {
            return Ok(ExitStatus::Success);
        }
    }
    if changes {
        merge::apply(dir, &plans)?;
    }
    print_plan(dir, &plans, args, false);
    Ok(exit)
}

#[derive(Serialize)]
struct JsonFile<'a> {
    path: &'a str,
    /// The same key `tracelab new --json` uses.
    status: Outcome,
}

#[derive(Serialize)]
struct JsonReport<'a> {
    dir: String,
    dry_run: bool,
    files: Vec<JsonFile<'a>>,
    conflicts: usize,
}

/// One line per file, then what to do about conflicts.
pub fn print_plan(dir: &Path, plans: &[FilePlan], args: &Request, planned: bool) {
    if args.json {
        let report = JsonReport {
            dir: dir.display().to_string(),
            dry_run: args.dry_run,
            files: plans
                .iter()
                .map(|p| JsonFile {
                    path: &p.path,
                    status: p.outcome,
                })
                .collect(),
            conflicts: plans
                .iter()
                .filter(|p| p.outcome == Outcome::Conflict)
                .count(),
        };
        println!(
            "{}",
            serde_json::to_string_pretty(&report).expect("report serializes")
        );
        return;
    }
    let verb = if planned { "Would update" } else { "Updated" };
    anstream::println!("{} {}", paint(HEADING, verb), dir.display());
    for plan in plans {
        let (mark, note) = match plan.outcome {
            Outcome::Unchanged => continue,
            Outcome::Create => (paint(OK, "+"), "new"),
            Outcome::Update => (paint(OK, "~"), "updated (you had not edited it)"),
            Outcome::Merge => (paint(OK, "~"), "merged with your edits"),
            Outcome::Conflict if plan.reject.is_some() => (
                paint(FAIL, "!"),
                "conflict: left as it is, the change is in .rej",
            ),
            Outcome::Conflict => (paint(FAIL, "!"), "conflict: resolve the <<<<<<< markers"),
            Outcome::KeptDeleted => (
                paint(DIM, "-"),
                "you deleted it: kept deleted (--recreate brings it back)",
            ),
            Outcome::Remove => (paint(WARN, "-"), "no longer needed: removed"),
            Outcome::KeptEdited => (paint(DIM, "="), "no longer generated, but edited: kept"),
        };
        anstream::println!("  {mark} {}  {}", plan.path, paint(DIM, note));
    }
    if plans.iter().all(|p| p.outcome == Outcome::Unchanged) {
        anstream::println!("  {}", paint(DIM, "nothing to change"));
    }
    let conflicts: Vec<&str> = plans
        .iter()
        .filter(|p| p.outcome == Outcome::Conflict)
        .map(|p| p.path.as_str())
        .collect();
    if !conflicts.is_empty() && planned {
        anstream::println!(
            "\n{} in {}: a key both you and tracelab changed; the run would mark it in the file (or, with --conflict rej, leave a .rej)",
            paint(FAIL, format!("{} conflict(s) ahead", conflicts.len())),
            paint(CODE, conflicts.join(", "))
        );
    }
    if !conflicts.is_empty() && !planned {
        anstream::println!(
            "\n{} in {}: your lines are between <<<<<<< ours and |||||||, what tracelab had before between ||||||| and =======, the new lines between ======= and >>>>>>> theirs; keep what you want and delete the markers",
            paint(FAIL, format!("{} conflict(s)", conflicts.len())),
            paint(CODE, conflicts.join(", "))
        );
    }
}
