//! The merge base: a pristine copy of every file tracelab last generated,
//! in `.tracelab/base/` inside the workspace.
//!
//! Why a stored copy: recorded answers alone cannot rebuild it once tracelab
//! itself is upgraded (the templates inside the binary changed), and git
//! history may be missing, squashed or on another machine. The copy is
//! small plain text, is committed with the workspace, and so survives a
//! commit, a clone, a move and an upgrade. A workspace made before bases
//! were kept falls back to the current templates rendered with its recorded
//! answers (what copier does with an old template version).

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use super::write::{safe_relative, write_file_atomic};

pub const BASE_DIR: &str = ".tracelab/base";

fn root(workspace: &Path) -> PathBuf {
    workspace.join(BASE_DIR)
}

/// Every stored base, by workspace-relative path.
pub fn load(workspace: &Path) -> Result<BTreeMap<String, String>> {
    let mut files = BTreeMap::new();
    let root = root(workspace);
    if root.is_dir() {
        collect(&root, &root, &mut files)?;
    }
    Ok(files)
}

fn collect(root: &Path, dir: &Path, out: &mut BTreeMap<String, String>) -> Result<()> {
    for entry in fs::read_dir(dir).with_context(|| format!("cannot list {}", dir.display()))? {
        let path = entry?.path();
        if path.is_dir() {
            collect(root, &path, out)?;
        } else if let Ok(rel) = path.strip_prefix(root) {
            let text = crate::workspace::read::text(&path)
                .with_context(|| format!("cannot read the merge base {}", path.display()))?;
            out.insert(rel.to_string_lossy().replace('\\', "/"), text);
        }
    }
    Ok(())
}

/// Stores `contents` as the base of `path` (None: forgets it).
pub fn store(workspace: &Path, path: &str, contents: Option<&str>) -> Result<()> {
    let dest = root(workspace).join(safe_relative(path)?);
    match contents {
        Some(text) => write_file_atomic(&dest, text.as_bytes(), 0o644),
        None => match fs::remove_file(&dest) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                Err(e).with_context(|| format!("cannot remove {}", dest.display()))
            }
            _ => Ok(()),
        },
    }
}
