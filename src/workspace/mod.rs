//! The model of a repository, read once: compose files and their services,
//! `.env` and the shell, Gitpod variables, the running container, the Python
//! code, collector configs and X-Ray rules. Nothing here knows about
//! findings or printing; doctor, env and (soon) run and add all read it.

pub mod collector;
pub mod committed;
pub mod compose;
pub mod context;
pub mod dotenv;
pub mod frontend;
pub mod interpolate;
pub mod layers;
pub mod process;
pub mod python;
pub mod url;
pub mod xray;
pub mod yaml_lines;

use std::path::{Path, PathBuf};

use anyhow::{Result, bail};

/// A folder the doctor can check: it has a compose file or a Flask backend.
pub fn is_workspace(dir: &Path) -> bool {
    !compose::find_all(dir).is_empty()
        || dir.join("backend-flask/app.py").is_file()
        || dir.join("app.py").is_file()
}

/// Workspaces one or two levels below `dir`, for "did you mean `cd w1`?".
pub fn workspaces_below(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let children = |d: &Path| -> Vec<PathBuf> {
        let mut list: Vec<PathBuf> = std::fs::read_dir(d)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .filter(|p| {
                p.is_dir()
                    && !p
                        .file_name()
                        .is_some_and(|n| n.to_string_lossy().starts_with('.'))
            })
            .collect();
        list.sort();
        list
    };
    for child in children(dir) {
        if is_workspace(&child) {
            found.push(child);
        } else {
            found.extend(children(&child).into_iter().filter(|g| is_workspace(g)));
        }
    }
    found
}

/// Refuses a folder with nothing to check, naming the workspaces below it.
pub fn require_workspace(dir: &Path) -> Result<()> {
    if !dir.is_dir() {
        bail!(
            "{} is not a directory: pass --dir with the workspace (the folder with docker-compose.yml)",
            dir.display()
        );
    }
    if is_workspace(dir) {
        return Ok(());
    }
    let below = workspaces_below(dir);
    match below.as_slice() {
        [] => bail!(
            "{} has no compose file and no Flask backend (backend-flask/app.py): nothing to check here; run it in your workspace, or make one with: tracelab new --defaults week2",
            dir.display()
        ),
        [one] => bail!(
            "{} is not a workspace, but {} is: cd {}",
            dir.display(),
            one.display(),
            crate::shell::quote(&one.display().to_string())
        ),
        many => bail!(
            "{} is not a workspace; these folders below it are: {} (cd into one)",
            dir.display(),
            many.iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}
