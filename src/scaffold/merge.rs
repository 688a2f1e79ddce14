//! Updating a workspace without losing a student's edit: a three-way merge
//! per file. The base is what tracelab wrote last time (kept in
//! `.tracelab/base.yml`, see `base.rs`), ours is the file on disk, theirs is
//! the new render. What the student changed and what tracelab changed are
//! both kept; where they touch the same lines, the file gets diff3 conflict
//! markers (or stays as it is, with a `.rej` beside it).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use anyhow::Result;
use diffy::{ConflictStyle, MergeOptions};
use serde::Serialize;

use super::base;
use super::render::RenderedFile;
use super::write::{ChangeSet, inside};

/// What happens to one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// New to the workspace.
    Create,
    /// Already what tracelab would write.
    Unchanged,
    /// Not edited by the student: replaced by the new render.
    Update,
    /// Edited by the student and changed by tracelab: both kept.
    Merge,
    /// Both changed the same lines.
    Conflict,
    /// Deleted by the student: stays deleted (unless --recreate).
    KeptDeleted,
    /// No longer generated and never edited: removed.
    Remove,
    /// No longer generated, but edited: kept as it is.
    KeptEdited,
}

impl Outcome {
    pub fn writes(self) -> bool {
        matches!(
            self,
            Outcome::Create | Outcome::Update | Outcome::Merge | Outcome::Conflict
        )
    }
}

/// How a conflict is left for the student.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConflictMode {
    /// diff3 markers in the file (ours, the original, theirs).
    Markers,
    /// The file stays as it is; the change that did not apply goes to FILE.rej.
    Rej,
}

#[derive(Debug, Clone)]
pub struct FilePlan {
    pub path: String,
    pub outcome: Outcome,
    /// What the file on disk is now (None: missing).
    pub current: Option<String>,
    /// What to write at `path` (None: leave or remove it).
    pub write: Option<String>,
    /// What to write at `path.rej`, in --conflict rej mode.
    pub reject: Option<String>,
    /// The new base: what tracelab generated this time (None: forget it).
    pub new_base: Option<String>,
}

impl FilePlan {
    /// The unified diff of the change to `path`, for --dry-run and review.
    pub fn diff(&self) -> String {
        let before = self.current.as_deref().unwrap_or("");
        let after = match self.outcome {
            Outcome::Remove => "",
            _ => self.write.as_deref().unwrap_or(before),
        };
        if before == after {
            return String::new();
        }
        let patch = diffy::DiffOptions::new()
            .set_original_filename(format!("a/{}", self.path))
            .set_modified_filename(format!("b/{}", self.path))
            .create_patch(before, after);
        patch.to_string()
    }
}

pub struct MergeOptionsSet {
    pub conflict: ConflictMode,
    pub recreate: bool,
}

/// Plans every file: the new render against the base and the disk.
/// `base` maps paths to what tracelab last wrote; a path missing from it
/// has no known base (a workspace from before bases were kept, or a folder
/// tracelab did not make), and then an existing, different file is a conflict.
pub fn plan(
    target: &Path,
    base: &BTreeMap<String, String>,
    rendered: &[RenderedFile],
    options: &MergeOptionsSet,
) -> Result<Vec<FilePlan>> {
    let theirs: BTreeMap<&str, &str> = rendered
        .iter()
        .map(|f| (f.path.as_str(), f.contents.as_str()))
        .collect();
    let paths: BTreeSet<&str> = theirs
        .keys()
        .copied()
        .chain(base.keys().map(String::as_str))
        .collect();
    let mut plans = Vec::new();
    for path in paths {
        let current = read_optional(&inside(target, path)?)?;
        plans.push(plan_file(
            path,
            base.get(path).map(String::as_str),
            current,
            theirs.get(path).copied(),
            options,
        ));
    }
    Ok(plans)
}

fn read_optional(path: &Path) -> Result<Option<String>> {
    crate::workspace::read::optional_text(path)
}

fn plan_file(
    path: &str,
    base: Option<&str>,
    current: Option<String>,
    theirs: Option<&str>,
    options: &MergeOptionsSet,
) -> FilePlan {
    let mut plan = FilePlan {
        path: path.to_string(),
        outcome: Outcome::Unchanged,
        current: current.clone(),
        write: None,
        reject: None,
        new_base: theirs.map(str::to_string),
    };
    let Some(theirs) = theirs else {
        // No longer generated: remove it only if the student never touched it.
        plan.outcome = match (&current, base) {
            (None, _) => Outcome::Unchanged,
            (Some(ours), Some(base)) if ours == base => Outcome::Remove,
            (Some(_), _) => Outcome::KeptEdited,
        };
        return plan;
    };
    let Some(ours) = current else {
        plan.outcome = if base.is_some() && !options.recreate {
            Outcome::KeptDeleted
        } else {
            plan.write = Some(theirs.to_string());
            Outcome::Create
        };
        return plan;
    };
    if ours == theirs {
        return plan;
    }
    if base == Some(ours.as_str()) {
        plan.outcome = Outcome::Update;
        plan.write = Some(theirs.to_string());
        return plan;
    }
    let merged = MergeOptions::new()
        .set_conflict_style(ConflictStyle::Diff3)
        .merge(base.unwrap_or(""), &ours, theirs)
        // What the line merge calls a conflict, the file's structure may not.
        .or_else(|marked| match base {
            // JSON's commas make a line merge stumble where its structure
            // merges cleanly.
            Some(base) if path.ends_with(".json") => {
                super::json_merge::merge(base, &ours, theirs).ok_or(marked)
            }
            Some(base) => match super::resolve::resolve(path, &marked, [base, &ours, theirs]) {
                (text, true) => Ok(text),
                // The true conflicts, marked; the rest resolved.
                (text, false) => Err(text),
            },
            None => Err(marked),
        });
    match merged {
        Ok(text) if text == ours => {}
        Ok(text) => {
            plan.outcome = Outcome::Merge;
            plan.write = Some(text);
        }
        Err(marked) => {
            plan.outcome = Outcome::Conflict;
            match options.conflict {
                ConflictMode::Markers => plan.write = Some(marked),
                ConflictMode::Rej => {
                    let patch = diffy::DiffOptions::new()
                        .set_original_filename(format!("a/{path}"))
                        .set_modified_filename(format!("b/{path}"))
                        .create_patch(base.unwrap_or(""), theirs);
                    plan.reject = Some(patch.to_string());
                }
            }
        }
    }
    plan
}

/// Carries out a plan, all or nothing: every file, `.rej` and new base is
/// first written beside its target; Ctrl-C until then removes them and
/// leaves the workspace as it was. Then all are renamed into place, with
/// Ctrl-C held off until the last, and what is no longer generated is
/// removed.
pub fn apply(target: &Path, plans: &[FilePlan]) -> Result<()> {
    let mut change = ChangeSet::new(target);
    for plan in plans {
        if let Some(text) = &plan.write {
            change.write(&plan.path, text.as_bytes())?;
        }
        if let Some(reject) = &plan.reject {
            change.write(&format!("{}.rej", plan.path), reject.as_bytes())?;
        }
        if plan.outcome == Outcome::Remove {
            change.remove(&plan.path)?;
        }
    }
    // Every stored base has its plan (`plan` covers the old bases and the
    // render): the new bases are the plans' own.
    let bases = plans
        .iter()
        .filter_map(|plan| Some((plan.path.clone(), plan.new_base.clone()?)))
        .collect();
    base::store(&mut change, target, &bases)?;
    change.commit()?;
    base::remove_emptied_legacy_dir(target);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options() -> MergeOptionsSet {
        MergeOptionsSet {
            conflict: ConflictMode::Markers,
            recreate: false,
        }
    }

    fn one(base: Option<&str>, ours: Option<&str>, theirs: Option<&str>) -> FilePlan {
        plan_file("f", base, ours.map(str::to_string), theirs, &options())
    }

    #[test]
    fn edits_on_both_sides_in_different_places_merge_cleanly() {
        let base = "a\nb\nc\nd\ne\n";
        let ours = "a\nB (student)\nc\nd\ne\n";
        let theirs = "a\nb\nc\nd\ne (tracelab)\n";
        let plan = one(Some(base), Some(ours), Some(theirs));
        assert_eq!(plan.outcome, Outcome::Merge);
        assert_eq!(plan.write.unwrap(), "a\nB (student)\nc\nd\ne (tracelab)\n");
    }

    #[test]
    fn the_same_lines_changed_on_both_sides_conflict_with_diff3_markers() {
        let plan = one(
            Some("a\nb\nc\n"),
            Some("a\nours\nc\n"),
            Some("a\ntheirs\nc\n"),
        );
        assert_eq!(plan.outcome, Outcome::Conflict);
        let text = plan.write.unwrap();
        for part in [
            "<<<<<<<", "ours", "|||||||", "b", "=======", "theirs", ">>>>>>>",
        ] {
            assert!(text.contains(part), "{part} in {text}");
        }
    }

    #[test]
    fn unedited_files_update_and_deleted_ones_stay_deleted() {
        assert_eq!(
            one(Some("a\n"), Some("a\n"), Some("b\n")).outcome,
            Outcome::Update
        );
        assert_eq!(
            one(Some("a\n"), None, Some("b\n")).outcome,
            Outcome::KeptDeleted
        );
        assert_eq!(one(None, None, Some("b\n")).outcome, Outcome::Create);
        assert_eq!(one(Some("a\n"), Some("a\n"), None).outcome, Outcome::Remove);
        assert_eq!(
            one(Some("a\n"), Some("x\n"), None).outcome,
            Outcome::KeptEdited
        );
        assert_eq!(
            one(Some("a\n"), Some("x\n"), Some("a\n")).outcome,
            Outcome::Unchanged
        );
    }

    #[test]
    fn without_a_base_a_different_file_is_a_conflict_not_an_overwrite() {
        let plan = one(None, Some("mine\n"), Some("generated\n"));
        assert_eq!(plan.outcome, Outcome::Conflict);
        assert!(plan.write.unwrap().contains("mine"));
    }

    #[test]
    fn rej_mode_leaves_the_file_and_writes_the_change_beside_it() {
        let plan = plan_file(
            "f",
            Some("a\nb\n"),
            Some("a\nours\n".into()),
            Some("a\ntheirs\n"),
            &MergeOptionsSet {
                conflict: ConflictMode::Rej,
                recreate: false,
            },
        );
        assert_eq!(plan.outcome, Outcome::Conflict);
        assert!(plan.write.is_none());
        assert!(plan.reject.unwrap().contains("+theirs"));
    }
}
