//! Which workspace a command is about: from any folder inside it, walk up
//! as git does to the folder with `.tracelab.yml` or a compose file (the
//! folder Compose runs in), never above the repository's top level or the
//! home folder. `cd backend-flask && tracelab doctor` checks the workspace,
//! not the backend's folder as if it were one.

use std::path::{Path, PathBuf};

use anyhow::{Result, bail};

use super::compose;
use crate::workspace::ANSWERS_FILE;

/// A folder the doctor can check: it has a compose file or a Flask backend.
pub fn is_workspace(dir: &Path) -> bool {
    is_root(dir) || dir.join("backend-flask/app.py").is_file() || dir.join("app.py").is_file()
}

/// What marks the folder Compose and tracelab run in.
fn is_root(dir: &Path) -> bool {
    dir.join(ANSWERS_FILE).is_file() || !compose::find_all(dir).is_empty()
}

/// The workspace for a command started in `start` (`--dir`, else the
/// current folder): the nearest folder at or above it with `.tracelab.yml`
/// or a compose file, else `start` itself when it holds a Flask backend.
/// A folder with nothing to check is refused, naming what is below it.
pub fn locate(start: Option<&Path>) -> Result<PathBuf> {
    let start = start.unwrap_or(Path::new("."));
    if !start.is_dir() {
        bail!(
            "{} is not a directory: pass --dir with the workspace (the folder with docker-compose.yml)",
            start.display()
        );
    }
    if let Some(root) = root_above(start) {
        return Ok(root);
    }
    if is_workspace(start) {
        return Ok(start.to_path_buf());
    }
    refuse(start)
}

/// The nearest folder at or above `start` that is a workspace root, shown
/// as `start` with `..` added (as the student would type it).
fn root_above(start: &Path) -> Option<PathBuf> {
    let absolute = std::fs::canonicalize(start).ok()?;
    let home = std::env::var_os("HOME").and_then(|h| std::fs::canonicalize(h).ok());
    let mut shown = start.to_path_buf();
    for dir in absolute.ancestors() {
        if is_root(dir) {
            return Some(if dir == absolute {
                start.to_path_buf()
            } else {
                tidy(&shown)
            });
        }
        // The repository's top level and the home folder are as far as it goes.
        if dir.join(".git").exists() || home.as_deref() == Some(dir) {
            return None;
        }
        shown.push("..");
    }
    None
}

/// `./..` as `..`, `sub/..` as it is: only a leading `.` is dropped.
fn tidy(path: &Path) -> PathBuf {
    path.strip_prefix(".")
        .map(Path::to_path_buf)
        .unwrap_or_else(|_| path.to_path_buf())
}

fn refuse(dir: &Path) -> Result<PathBuf> {
    let below = workspaces_below(dir);
    match below.as_slice() {
        [] => bail!(
            "{} has no compose file and no Flask backend (backend-flask/app.py), nor has any folder above it: nothing to check here; run it in your workspace, or make one with: tracelab new --defaults week2",
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

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(files: &[&str]) -> tempfile::TempDir {
        let root = tempfile::tempdir().unwrap();
        for file in files {
            let path = root.path().join(file);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, "").unwrap();
        }
        root
    }

    #[test]
    fn a_subfolder_finds_the_workspace_above_it() {
        let root = tree(&[
            "ws/docker-compose.yml",
            "ws/backend-flask/app.py",
            "ws/backend-flask/services/x.py",
        ]);
        let deep = root.path().join("ws/backend-flask/services");
        let found = locate(Some(&deep)).unwrap();
        assert_eq!(found, deep.join("../.."));
        assert_eq!(
            std::fs::canonicalize(found).unwrap(),
            std::fs::canonicalize(root.path().join("ws")).unwrap()
        );
    }

    #[test]
    fn the_answers_file_marks_the_root_too() {
        let root = tree(&["ws/.tracelab.yml", "ws/backend-flask/app.py"]);
        let found = locate(Some(&root.path().join("ws/backend-flask"))).unwrap();
        assert!(found.ends_with("backend-flask/.."), "{}", found.display());
    }

    #[test]
    fn the_walk_stops_at_the_repository_top() {
        // A compose file above the repository is another project's.
        let root = tree(&["docker-compose.yml", "repo/.git/HEAD", "repo/sub/notes.txt"]);
        let error = locate(Some(&root.path().join("repo/sub"))).unwrap_err();
        assert!(error.to_string().contains("nothing to check"), "{error}");
    }

    #[test]
    fn a_backend_alone_is_its_own_workspace() {
        let root = tree(&["app/app.py"]);
        let dir = root.path().join("app");
        assert_eq!(locate(Some(&dir)).unwrap(), dir);
    }

    #[test]
    fn a_folder_with_workspaces_below_names_them() {
        let root = tree(&["w1/docker-compose.yml"]);
        let error = locate(Some(root.path())).unwrap_err().to_string();
        assert!(error.contains("is not a workspace, but"), "{error}");
    }
}
