//! Writes a rendered workspace so that an interrupted or failed run leaves
//! nothing half-written, and a user's file is only replaced with `--force`.

use std::fs;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{Context, Result, bail};
use serde::Serialize;

use super::render::RenderedFile;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FileStatus {
    Create,
    Update,
    Unchanged,
}

#[derive(Debug, Clone)]
pub struct PlannedFile {
    pub path: String,
    pub status: FileStatus,
    pub contents: String,
}

/// What is at the target before anything is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetState {
    Missing,
    Empty,
    NonEmpty,
}

pub fn target_state(target: &Path) -> Result<TargetState> {
    match fs::symlink_metadata(target) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(TargetState::Missing),
        Err(e) => Err(e).with_context(|| format!("cannot read {}", target.display())),
        Ok(meta) if !meta.is_dir() => bail!(
            "{} exists and is not a directory: choose another target directory",
            target.display()
        ),
        Ok(_) => {
            let mut entries = fs::read_dir(target)
                .with_context(|| format!("cannot list {}", target.display()))?;
            Ok(if entries.next().is_none() {
                TargetState::Empty
            } else {
                TargetState::NonEmpty
            })
        }
    }
}

/// Rejects any path that is absolute or climbs out of the workspace.
pub fn safe_relative(path: &str) -> Result<PathBuf> {
    let rel = Path::new(path);
    let clean = !path.is_empty() && rel.components().all(|c| matches!(c, Component::Normal(_)));
    if !clean {
        bail!("refusing to write {path:?}: paths must stay inside the target directory");
    }
    Ok(rel.to_path_buf())
}

/// `workspace/rel`, once it is certain that reading or writing it stays in
/// the workspace: no symbolic link on the way (a linked `.tracelab/`, a
/// linked file) may lead outside it. Within the workspace a link is fine.
pub fn inside(workspace: &Path, rel: &str) -> Result<PathBuf> {
    let path = workspace.join(safe_relative(rel)?);
    let root = workspace
        .canonicalize()
        .with_context(|| format!("cannot resolve the workspace {}", workspace.display()))?;
    // The deepest part of the path that exists, as the system resolves it.
    let mut existing = path.as_path();
    while std::fs::symlink_metadata(existing).is_err() {
        match existing.parent() {
            Some(parent) => existing = parent,
            None => return Ok(path),
        }
    }
    let resolved = match existing.canonicalize() {
        Ok(resolved) => resolved,
        // A link to nothing: where it points is not known to be inside.
        Err(_) => bail!(
            "refusing to use {}: it is a symbolic link to something that does not exist",
            path.display()
        ),
    };
    if !resolved.starts_with(&root) {
        bail!(
            "refusing to read or write {}: a symbolic link takes it outside the workspace (to {}); replace the link with the file or folder itself",
            path.display(),
            resolved.display()
        );
    }
    Ok(path)
}

/// Compares each rendered file with what is on disk.
pub fn plan(target: &Path, files: Vec<RenderedFile>) -> Result<Vec<PlannedFile>> {
    files
        .into_iter()
        .map(|file| {
            let rel = safe_relative(&file.path)?;
            check_no_escape(target, &rel)?;
            let dest = target.join(&rel);
            let status = match fs::read(&dest) {
                Ok(existing) if existing == file.contents.as_bytes() => FileStatus::Unchanged,
                Ok(_) => FileStatus::Update,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => FileStatus::Create,
                Err(e) => {
                    return Err(e).with_context(|| format!("cannot read {}", dest.display()));
                }
            };
            Ok(PlannedFile {
                path: file.path,
                status,
                contents: file.contents,
            })
        })
        .collect()
}

/// Every ancestor inside the target must be a real directory (or absent):
/// a symlink there could send a write outside the workspace.
fn check_no_escape(target: &Path, rel: &Path) -> Result<()> {
    let mut current = target.to_path_buf();
    let parents: Vec<_> = rel
        .parent()
        .map(|p| p.components().collect())
        .unwrap_or_default();
    for component in parents {
        current.push(component);
        match fs::symlink_metadata(&current) {
            Ok(meta) if meta.file_type().is_symlink() => bail!(
                "refusing to write through the symlink {}: it could lead outside the workspace",
                current.display()
            ),
            Ok(meta) if !meta.is_dir() => bail!(
                "{} is a file where a directory is needed: move it away or choose another directory",
                current.display()
            ),
            _ => {}
        }
    }
    let dest = target.join(rel);
    if let Ok(meta) = fs::symlink_metadata(&dest)
        && (meta.is_dir() || meta.file_type().is_symlink())
    {
        bail!(
            "{} is a directory or symlink where a file is needed: move it away first",
            dest.display()
        );
    }
    Ok(())
}

/// Writes the planned files. A missing or empty target is built in a hidden
/// staging directory beside it and renamed into place in one step; in an
/// existing workspace every changed file is first written to a temporary file
/// beside it, and only when all are written are they renamed over the old ones.
pub fn write(target: &Path, plan: &[PlannedFile], interrupted: &AtomicBool) -> Result<()> {
    match target_state(target)? {
        TargetState::Missing | TargetState::Empty => write_staged(target, plan, interrupted),
        TargetState::NonEmpty => write_in_place(target, plan, interrupted),
    }
}

fn write_staged(target: &Path, plan: &[PlannedFile], interrupted: &AtomicBool) -> Result<()> {
    let parent = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    fs::create_dir_all(&parent)
        .with_context(|| format!("cannot create the directory {}", parent.display()))?;
    let staging = tempfile::Builder::new()
        .prefix(".tracelab-new-")
        .tempdir_in(&parent)
        .with_context(|| format!("cannot create a staging directory in {}", parent.display()))?;
    // Each folder is made once: on this kind of disk a file costs about as
    // much as the whole rest of `new`, and a failed mkdir nearly as much.
    let mut made: std::collections::HashSet<PathBuf> = std::collections::HashSet::new();
    for file in plan {
        abort_if_interrupted(interrupted)?;
        let dest = staging.path().join(safe_relative(&file.path)?);
        if let Some(dir) = dest.parent()
            && made.insert(dir.to_path_buf())
        {
            create_parent_dirs(&dest)?;
        }
        fs::write(&dest, &file.contents)
            .with_context(|| format!("cannot write {}", dest.display()))?;
    }
    abort_if_interrupted(interrupted)?;
    fs::set_permissions(staging.path(), fs::Permissions::from_mode(0o755))?;
    // rename(2) replaces an empty directory atomically; the staging directory
    // is dropped (and removed) on every earlier error.
    let staged = staging.keep();
    fs::rename(&staged, target).map_err(|e| {
        let _ = fs::remove_dir_all(&staged);
        anyhow::Error::new(e).context(format!(
            "cannot move the workspace into {}",
            target.display()
        ))
    })
}

fn write_in_place(target: &Path, plan: &[PlannedFile], interrupted: &AtomicBool) -> Result<()> {
    abort_if_interrupted(interrupted)?;
    let mut change = ChangeSet::new(target);
    for file in plan.iter().filter(|f| f.status != FileStatus::Unchanged) {
        change.write(&file.path, file.contents.as_bytes())?;
    }
    change.commit()
}

/// The one way files of a workspace are changed (`new --force`, `add`,
/// `update`, `doctor --fix`): every path checked to stay inside the
/// workspace (no link out), each file written beside its target with the
/// mode the file has (new files 0644), Ctrl-C honoured until the first
/// rename and held off after it, then every file renamed into place: the
/// workspace is before or after, never between.
pub struct ChangeSet {
    root: PathBuf,
    /// Each file, its contents, and the mode it must have (None: the one
    /// it has, 0644 for a new file).
    writes: Vec<(PathBuf, Vec<u8>, Option<u32>)>,
    removals: Vec<PathBuf>,
}

impl ChangeSet {
    pub fn new(root: &Path) -> Self {
        ChangeSet {
            root: root.to_path_buf(),
            writes: Vec::new(),
            removals: Vec::new(),
        }
    }

    /// `rel` (relative to the workspace, `/`-separated) to hold `contents`.
    pub fn write(&mut self, rel: &str, contents: impl Into<Vec<u8>>) -> Result<()> {
        let dest = inside(&self.root, rel)?;
        self.writes.push((dest, contents.into(), None));
        Ok(())
    }

    /// `rel` to hold `contents` with exactly `mode` (a secret's 0600),
    /// whatever mode it had.
    pub fn write_with_mode(
        &mut self,
        rel: &str,
        contents: impl Into<Vec<u8>>,
        mode: u32,
    ) -> Result<()> {
        let dest = inside(&self.root, rel)?;
        self.writes.push((dest, contents.into(), Some(mode)));
        Ok(())
    }

    /// `path` (under the workspace, as the caller named it: relative to
    /// the folder it runs in, or absolute) to hold `contents`.
    pub fn write_path(&mut self, path: &Path, contents: impl Into<Vec<u8>>) -> Result<()> {
        let outside = || {
            format!(
                "refusing to write {}: it is outside the workspace",
                path.display()
            )
        };
        // The folder as the system names it, so that `./a` and `/abs/a`
        // meet; the file itself may be a link, which `inside` judges.
        let folder = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let folder = folder.canonicalize().with_context(outside)?;
        let root = self.root.canonicalize().with_context(outside)?;
        let rel = folder.strip_prefix(&root).with_context(outside)?;
        let name = path.file_name().with_context(outside)?;
        self.write(&rel.join(name).to_string_lossy(), contents)
    }

    /// `rel` to be removed, if it is there.
    pub fn remove(&mut self, rel: &str) -> Result<()> {
        self.removals.push(inside(&self.root, rel)?);
        Ok(())
    }

    /// Carries the change out, all or nothing, Ctrl-C its stop.
    pub fn commit(self) -> Result<()> {
        self.commit_unless(crate::interrupt::flag())
    }

    /// The same, stopped by `interrupted` (a test's own flag).
    fn commit_unless(self, interrupted: &AtomicBool) -> Result<()> {
        let mut pending = Vec::new();
        for (dest, contents, mode) in &self.writes {
            // Prepared files are removed as `pending` is dropped.
            abort_if_interrupted(interrupted)?;
            let mode = mode.unwrap_or_else(|| {
                fs::metadata(dest)
                    .map(|m| m.permissions().mode() & 0o7777)
                    .unwrap_or(0o644)
            });
            pending.push((prepare_atomic(dest, contents, mode)?, dest));
        }
        abort_if_interrupted(interrupted)?;
        for (temp, dest) in pending {
            temp.persist(dest)
                .with_context(|| format!("cannot replace {}", dest.display()))?;
        }
        for dest in &self.removals {
            match fs::remove_file(dest) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    return Err(e).with_context(|| format!("cannot remove {}", dest.display()));
                }
                _ => {}
            }
        }
        Ok(())
    }
}

/// Writes `contents` to a temporary file beside `dest`, to be persisted
/// over it once every file of a change is ready.
pub fn prepare_atomic(dest: &Path, contents: &[u8], mode: u32) -> Result<tempfile::NamedTempFile> {
    create_parent_dirs(dest)?;
    let dir = dest.parent().unwrap_or(Path::new("."));
    let mut temp = tempfile::Builder::new()
        .prefix(".tracelab-")
        .permissions(fs::Permissions::from_mode(mode))
        .tempfile_in(dir)
        .with_context(|| format!("cannot create a temporary file in {}", dir.display()))?;
    temp.write_all(contents)
        .and_then(|_| temp.as_file().sync_all())
        .with_context(|| format!("cannot write {}", dest.display()))?;
    Ok(temp)
}

fn create_parent_dirs(dest: &Path) -> Result<()> {
    if let Some(dir) = dest.parent() {
        fs::create_dir_all(dir)
            .with_context(|| format!("cannot create the directory {}", dir.display()))?;
    }
    Ok(())
}

fn abort_if_interrupted(interrupted: &AtomicBool) -> Result<()> {
    if interrupted.load(Ordering::SeqCst) {
        return Err(crate::exit::Cancelled.into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str, contents: &str) -> RenderedFile {
        RenderedFile {
            path: path.into(),
            contents: contents.into(),
        }
    }

    #[test]
    fn paths_that_escape_are_rejected() {
        for bad in ["../x", "/etc/passwd", "a/../../b", "", "./a"] {
            assert!(safe_relative(bad).is_err(), "{bad}");
        }
        assert!(safe_relative("backend-flask/app.py").is_ok());
    }

    #[test]
    fn staged_write_creates_the_whole_tree_at_once() {
        let root = tempfile::tempdir().unwrap();
        let target = root.path().join("ws");
        let plan = plan(&target, vec![file("a/b.txt", "b"), file("c.txt", "c")]).unwrap();
        assert!(plan.iter().all(|f| f.status == FileStatus::Create));
        write(&target, &plan, &AtomicBool::new(false)).unwrap();
        assert_eq!(fs::read_to_string(target.join("a/b.txt")).unwrap(), "b");
        let leftovers: Vec<_> = fs::read_dir(root.path()).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "staging directory left behind");
        let mode = fs::metadata(&target).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o755);
    }

    #[test]
    fn an_interrupted_run_leaves_nothing() {
        let root = tempfile::tempdir().unwrap();
        let target = root.path().join("ws");
        let plan = plan(&target, vec![file("a.txt", "a")]).unwrap();
        assert!(write(&target, &plan, &AtomicBool::new(true)).is_err());
        assert_eq!(fs::read_dir(root.path()).unwrap().count(), 0);
    }

    #[test]
    fn symlinked_directories_are_refused() {
        let root = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(outside.path(), root.path().join("a")).unwrap();
        assert!(plan(root.path(), vec![file("a/b.txt", "b")]).is_err());
    }

    #[test]
    fn a_change_set_keeps_each_file_s_mode_and_refuses_a_link_out() {
        use std::os::unix::fs::PermissionsExt;
        let outside = tempfile::tempdir().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("start.sh");
        fs::write(&script, "#!/bin/sh\n").unwrap();
        fs::set_permissions(&script, fs::Permissions::from_mode(0o755)).unwrap();
        std::os::unix::fs::symlink(outside.path(), dir.path().join("linked")).unwrap();

        let mut change = ChangeSet::new(dir.path());
        change
            .write("start.sh", "#!/bin/sh\nexec flask run\n")
            .unwrap();
        change.write("new/file.txt", "new").unwrap();
        assert!(
            change.write("linked/x.txt", "out").is_err(),
            "a link out is refused"
        );
        change.commit_unless(&AtomicBool::new(false)).unwrap();
        let mode = fs::metadata(&script).unwrap().permissions().mode() & 0o7777;
        assert_eq!(mode, 0o755);
        assert!(
            fs::read_to_string(&script)
                .unwrap()
                .contains("exec flask run")
        );
        let new = fs::metadata(dir.path().join("new/file.txt")).unwrap();
        assert_eq!(new.permissions().mode() & 0o7777, 0o644);
        assert_eq!(fs::read_dir(outside.path()).unwrap().count(), 0);
    }

    #[test]
    fn an_interrupted_change_set_leaves_every_file_as_it_was() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("a.txt"), "old").unwrap();
        let mut change = ChangeSet::new(dir.path());
        change.write("a.txt", "new").unwrap();
        change.write("b.txt", "new").unwrap();
        assert!(change.commit_unless(&AtomicBool::new(true)).is_err());
        assert_eq!(fs::read_to_string(dir.path().join("a.txt")).unwrap(), "old");
        let left: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .flatten()
            .map(|e| e.file_name())
            .collect();
        assert_eq!(left, ["a.txt"], "no temporary file is left");
    }

    #[test]
    fn a_secret_gets_its_mode_whatever_it_had() {
        let root = tempfile::tempdir().unwrap();
        let path = root.path().join(".env");
        fs::write(&path, "A=0\n").unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        let mut change = ChangeSet::new(root.path());
        change.write_with_mode(".env", "A=1\n", 0o600).unwrap();
        change.commit().unwrap();
        let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert_eq!(fs::read_to_string(&path).unwrap(), "A=1\n");
    }
}
