//! `tracelab doctor --fix`: the findings' edits gathered per file and made
//! on the text as it is now. An edit is refused, never forced, when its
//! line changed since the doctor read it, when two edits want the same
//! line, or when the file still holds a merge's conflict markers.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::finding::{Apply, CheckId, Edit, Finding};

/// One file's text before and after its edits.
pub struct FileFix {
    pub path: PathBuf,
    pub before: String,
    pub after: String,
    /// The checks whose findings it fixes, in order.
    pub ids: Vec<CheckId>,
}

/// What `--fix` would do.
#[derive(Default)]
pub struct Plan {
    pub files: Vec<FileFix>,
    /// An edit not made: the finding's id, where, and why.
    pub refused: Vec<String>,
    /// Commands for the student's own shell: a child process cannot set
    /// their variables, so these are printed, not run.
    pub commands: Vec<String>,
}

pub fn plan(findings: &[Finding]) -> Plan {
    let mut plan = Plan::default();
    let mut by_file: BTreeMap<&str, Vec<(&Edit, CheckId)>> = BTreeMap::new();
    for finding in findings {
        match &finding.apply {
            Some(Apply::Edit(edit)) => by_file
                .entry(edit.file.as_str())
                .or_default()
                .push((edit, finding.id)),
            Some(Apply::Edits { edits }) => {
                for edit in edits {
                    by_file
                        .entry(edit.file.as_str())
                        .or_default()
                        .push((edit, finding.id));
                }
            }
            Some(Apply::Command { command }) if !plan.commands.contains(command) => {
                plan.commands.push(command.clone());
            }
            _ => {}
        }
    }
    for (file, edits) in by_file {
        let path = PathBuf::from(file);
        match crate::workspace::read::text(&path) {
            Ok(before) => plan_file(&mut plan, path, before, edits),
            Err(error) => plan.refused.extend(
                edits
                    .iter()
                    .map(|(e, id)| format!("{id} at {}:{}: {error:#}", e.file, e.line)),
            ),
        }
    }
    plan
}

fn plan_file(plan: &mut Plan, path: PathBuf, before: String, mut edits: Vec<(&Edit, CheckId)>) {
    let refuse = |plan: &mut Plan, edit: &Edit, id: CheckId, why: &str| {
        plan.refused
            .push(format!("{id} at {}:{}: {why}", edit.file, edit.line));
    };
    if before
        .lines()
        .any(|l| l.starts_with("<<<<<<<") || l.starts_with(">>>>>>>"))
    {
        for (edit, id) in &edits {
            refuse(
                plan,
                edit,
                *id,
                "the file holds conflict markers: resolve them first",
            );
        }
        return;
    }
    let mut lines: Vec<String> = before.lines().map(String::from).collect();
    // From the bottom up, so each edit's line number still holds.
    edits.sort_by_key(|(edit, _)| std::cmp::Reverse(edit.line));
    let mut touched: Vec<usize> = Vec::new();
    let mut ids = Vec::new();
    for (edit, id) in edits {
        if touched.contains(&edit.line) {
            refuse(plan, edit, id, "another fix changes the same line");
            continue;
        }
        let index = edit.line.saturating_sub(1);
        let new: Vec<String> = edit.new.lines().map(String::from).collect();
        if edit.old.is_empty() {
            if index > lines.len() {
                refuse(plan, edit, id, "the file is shorter now");
                continue;
            }
            lines.splice(index..index, new);
        } else if lines.get(index) == Some(&edit.old) {
            lines.splice(index..=index, new);
        } else {
            refuse(plan, edit, id, "the line changed since the doctor read it");
            continue;
        }
        touched.push(edit.line);
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    if ids.is_empty() {
        return;
    }
    let mut after = lines.join("\n");
    if before.ends_with('\n') || before.is_empty() {
        after.push('\n');
    }
    ids.reverse();
    plan.files.push(FileFix {
        path,
        before,
        after,
        ids,
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doctor::finding::Layer;

    fn finding(edit: Edit) -> Finding {
        Finding::fail(CheckId::PythonImport, Layer::Code, "m").edit(edit)
    }

    #[test]
    fn edits_apply_bottom_up_and_refuse_what_changed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.py");
        std::fs::write(&path, "a\nb\nc\n").unwrap();
        let file = path.display().to_string();
        let edit = |line, old: &str, new: &str| Edit {
            file: file.clone(),
            line,
            old: old.into(),
            new: new.into(),
        };
        let plan = plan(&[
            finding(edit(1, "a", "A")),
            finding(edit(3, "", "inserted")),
            finding(edit(2, "not b", "B")),
            finding(edit(1, "a", "again")),
        ]);
        assert_eq!(plan.files.len(), 1);
        assert_eq!(plan.files[0].after, "A\nb\ninserted\nc\n");
        assert_eq!(plan.refused.len(), 2, "{:?}", plan.refused);
        assert!(plan.refused.iter().any(|r| r.contains("the line changed")));
        assert!(plan.refused.iter().any(|r| r.contains("the same line")));
    }

    #[test]
    fn a_file_with_conflict_markers_is_not_touched() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.py");
        std::fs::write(&path, "<<<<<<< a\nx\n=======\ny\n>>>>>>> b\n").unwrap();
        let plan = plan(&[finding(Edit {
            file: path.display().to_string(),
            line: 2,
            old: "x".into(),
            new: "z".into(),
        })]);
        assert!(plan.files.is_empty());
        assert!(plan.refused[0].contains("conflict markers"));
    }
}
