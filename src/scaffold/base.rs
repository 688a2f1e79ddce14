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
use std::path::Path;

use anyhow::{Context, Result};

use super::write::inside;

pub const BASE_DIR: &str = ".tracelab/base";

/// Every stored base, by workspace-relative path.
pub fn load(workspace: &Path) -> Result<BTreeMap<String, String>> {
    let mut files = BTreeMap::new();
    // Never through a link that leaves the workspace.
    let root = inside(workspace, BASE_DIR)?;
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
