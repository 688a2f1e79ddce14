//! The merge base: a pristine copy of every file tracelab last generated,
//! kept in one file, `.tracelab/base.yml`, inside the workspace.
//!
//! Why a stored copy: recorded answers alone cannot rebuild it once tracelab
//! itself is upgraded (the templates inside the binary changed), and git
//! history may be missing, squashed or on another machine. The copy is
//! small plain text, is committed with the workspace, and so survives a
//! commit, a clone, a move and an upgrade. A workspace made before bases
//! were kept falls back to the current templates rendered with its recorded
//! answers (what copier does with an old template version).
//!
//! Why one file: the copies were a folder mirroring the workspace, and
//! creating those fifteen files and their folders was a quarter of `new`'s
//! time, each `update` fsynced one per file, and the doctor read them all.
//! A YAML map of path to literal block keeps each file readable and its
//! lines diffable (git's hunk header even names the file: the key is the
//! last unindented line above a change). Workspaces made with the folder
//! are read as they are and moved to the file at their next merge.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use anyhow::{Context, Result};

use super::write::{ChangeSet, inside};

pub use crate::workspace::BASE_FILE;
use crate::workspace::LEGACY_BASE_DIR;

const HEADER: &str = "\
# tracelab's merge base: every file as tracelab last generated it, by path.
# `tracelab update` and `tracelab add` merge against it: commit it, never edit it.
";

/// Every stored base, by workspace-relative path.
pub fn load(workspace: &Path) -> Result<BTreeMap<String, String>> {
    let mut files = legacy(workspace)?;
    // Never through a link that leaves the workspace.
    let path = inside(workspace, BASE_FILE)?;
    if let Some(text) = crate::workspace::read::optional_text(&path)? {
        let stored: BTreeMap<String, String> = serde_yaml::from_str(&text).with_context(|| {
            format!(
                "cannot read the merge base {}: restore it from git (git checkout -- {BASE_FILE})",
                path.display()
            )
        })?;
        files.extend(stored);
    }
    Ok(files)
}

/// The text of the base file holding `bases`.
pub fn render(bases: &BTreeMap<String, String>) -> Result<String> {
    Ok(format!("{HEADER}{}", serde_yaml::to_string(bases)?))
}

/// Adds to `change` the base file holding `bases`, and the removal of the
/// old folder of bases, whose contents `bases` holds.
pub fn store(
    change: &mut ChangeSet,
    workspace: &Path,
    bases: &BTreeMap<String, String>,
) -> Result<()> {
    change.write(BASE_FILE, render(bases)?)?;
    for rel in legacy(workspace)?.keys() {
        change.remove(&format!("{LEGACY_BASE_DIR}/{rel}"))?;
    }
    Ok(())
}

/// Removes the old folder of bases once `store`'s change emptied it; a
/// folder still holding anything stays.
pub fn remove_emptied_legacy_dir(workspace: &Path) {
    fn remove_empty(dir: &Path) {
        if let Ok(entries) = fs::read_dir(dir) {
            for entry in entries.flatten() {
                if entry.file_type().is_ok_and(|t| t.is_dir()) {
                    remove_empty(&entry.path());
                }
            }
        }
        // Fails, as it should, on a folder that is not empty.
        let _ = fs::remove_dir(dir);
    }
    let dir = workspace.join(LEGACY_BASE_DIR);
    if fs::symlink_metadata(&dir).is_ok_and(|m| m.is_dir()) {
        remove_empty(&dir);
    }
}

/// The bases of a workspace made before they were kept in one file.
fn legacy(workspace: &Path) -> Result<BTreeMap<String, String>> {
    let mut files = BTreeMap::new();
    let root = inside(workspace, LEGACY_BASE_DIR)?;
    if root.is_dir() {
        collect(workspace, &root, &root, &mut files)?;
    }
    Ok(files)
}

fn collect(
    workspace: &Path,
    root: &Path,
    dir: &Path,
    out: &mut BTreeMap<String, String>,
) -> Result<()> {
    for entry in fs::read_dir(dir).with_context(|| format!("cannot list {}", dir.display()))? {
        let path = entry?.path();
        if let Ok(rel) = path.strip_prefix(workspace) {
            inside(workspace, &rel.to_string_lossy())?;
        }
        if path.is_dir() {
            collect(workspace, root, &path, out)?;
        } else if let Ok(rel) = path.strip_prefix(root) {
            let text = crate::workspace::read::text(&path)
                .with_context(|| format!("cannot read the merge base {}", path.display()))?;
            out.insert(rel.to_string_lossy().replace('\\', "/"), text);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Whatever a generated file holds (blank lines, leading spaces,
        /// tabs, CRLF, no final newline), the base file gives it back.
        #[test]
        fn every_text_survives_the_base_file(
            bases in proptest::collection::btree_map("[a-z./_-]{1,20}", "(?s).{0,200}", 0..6)
        ) {
            let text = render(&bases).unwrap();
            let back: BTreeMap<String, String> = serde_yaml::from_str(&text).unwrap();
            prop_assert_eq!(back, bases);
        }
    }

    #[test]
    fn a_file_s_lines_stay_lines_of_the_base_file() {
        let bases = BTreeMap::from([(
            "backend-flask/app.py".to_string(),
            "from flask import Flask\n\napp = Flask(__name__)\n".to_string(),
        )]);
        let text = render(&bases).unwrap();
        assert!(text.starts_with("# tracelab's merge base"), "{text}");
        assert!(
            text.contains(
                "backend-flask/app.py: |\n  from flask import Flask\n\n  app = Flask(__name__)\n"
            ),
            "{text}"
        );
    }

    #[test]
    fn a_workspace_with_the_old_folder_is_read_and_moved_to_the_file() {
        let ws = tempfile::tempdir().unwrap();
        let dir = ws.path().join(".tracelab/base/backend-flask");
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join("app.py"), "old app\n").unwrap();
        fs::write(ws.path().join(".tracelab/base/README.md"), "readme\n").unwrap();
        let bases = load(ws.path()).unwrap();
        assert_eq!(bases.len(), 2);
        assert_eq!(bases["backend-flask/app.py"], "old app\n");

        let mut change = ChangeSet::new(ws.path());
        store(&mut change, ws.path(), &bases).unwrap();
        change.commit().unwrap();
        remove_emptied_legacy_dir(ws.path());
        assert!(!ws.path().join(".tracelab/base").exists());
        assert_eq!(load(ws.path()).unwrap(), bases);
    }

    #[test]
    fn a_damaged_base_file_says_how_to_restore_it() {
        let ws = tempfile::tempdir().unwrap();
        fs::create_dir(ws.path().join(".tracelab")).unwrap();
        fs::write(ws.path().join(BASE_FILE), "a: [unclosed\n").unwrap();
        let err = format!("{:#}", load(ws.path()).unwrap_err());
        assert!(err.contains("git checkout -- .tracelab/base.yml"), "{err}");
    }
}
