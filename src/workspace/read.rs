//! Every file the model reads, read the same careful way: only a regular
//! file (a FIFO or a device would block or never end), at most
//! [`MAX_BYTES`], and as UTF-8, each refusal saying which file and why.
//! Within [`once_each`], a file is read from the disk once.

use std::cell::RefCell;
use std::collections::HashMap;
use std::fs::File;
use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use anyhow::{Result, bail};

/// Far above any compose file, `.env`, config or module a student writes.
pub const MAX_BYTES: u64 = 5 * 1024 * 1024;

/// The text of `path`, or why it cannot be read.
pub fn text(path: &Path) -> Result<String> {
    text_within(path, MAX_BYTES)
}

/// The text of `path` when it holds at most `max` bytes.
pub fn text_within(path: &Path, max: u64) -> Result<String> {
    utf8(path, bytes_within(path, max)?)
}

/// The text of `path`, None when there is no such file; any other reason
/// it cannot be read is an error.
pub fn optional_text(path: &Path) -> Result<Option<String>> {
    if let Some(bytes) = seen(path, MAX_BYTES) {
        return utf8(path, bytes).map(Some);
    }
    match open(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        opened => utf8(path, read_opened(path, opened, MAX_BYTES)?).map(Some),
    }
}

/// The bytes of `path`, or why it cannot be read.
pub fn bytes(path: &Path) -> Result<Vec<u8>> {
    bytes_within(path, MAX_BYTES)
}

/// The bytes of `path` when it holds at most `max`: as this look read
/// them, else from the disk.
fn bytes_within(path: &Path, max: u64) -> Result<Vec<u8>> {
    match seen(path, max) {
        Some(bytes) => Ok(bytes),
        None => read_opened(path, open(path), max),
    }
}

/// Runs `look`, reading each file it reads from the disk once: a second
/// read of it gets the bytes the first one got. For a look at a workspace
/// that writes nothing: the doctor's checks, its secret scan and its
/// reading thread ask for some of the same files (a generated workspace's
/// Dockerfile four times, its app.py three). On this thread, and on the
/// threads it hands [`this_look`] to; a look within a look is the outer one.
pub fn once_each<T>(look: impl FnOnce() -> T) -> T {
    if LOOK.with(|current| current.borrow().is_some()) {
        return look();
    }
    Look(Some(Arc::default())).run(look)
}

/// The files one look has read, by the path they were asked for.
type Seen = Arc<Mutex<HashMap<PathBuf, Vec<u8>>>>;

thread_local! {
    static LOOK: RefCell<Option<Seen>> = const { RefCell::new(None) };
}

/// The look this thread is in, if any, for a thread it starts to join.
pub struct Look(Option<Seen>);

pub fn this_look() -> Look {
    Look(LOOK.with(|look| look.borrow().clone()))
}

impl Look {
    /// Runs `work` on this thread within the look.
    pub fn run<T>(self, work: impl FnOnce() -> T) -> T {
        struct Restore(Option<Seen>);
        impl Drop for Restore {
            fn drop(&mut self) {
                LOOK.with(|look| *look.borrow_mut() = self.0.take());
            }
        }
        let _restore = Restore(LOOK.with(|look| look.replace(self.0)));
        work()
    }
}

fn with_seen<T>(use_it: impl FnOnce(&mut HashMap<PathBuf, Vec<u8>>) -> Option<T>) -> Option<T> {
    let seen = LOOK.with(|look| look.borrow().clone())?;
    // A panic elsewhere while it was held leaves the files as they were.
    let mut files = seen.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    use_it(&mut files)
}

/// The bytes of `path` read earlier in this look, when they are within
/// `max` (a file over it is read again, to be refused as it would be).
fn seen(path: &Path, max: u64) -> Option<Vec<u8>> {
    with_seen(|files| {
        let bytes = files.get(path)?;
        (bytes.len() as u64 <= max).then(|| bytes.clone())
    })
}

fn remember(path: &Path, bytes: &[u8]) {
    with_seen(|files| files.insert(path.to_path_buf(), bytes.to_vec()));
}

fn utf8(path: &Path, bytes: Vec<u8>) -> Result<String> {
    match String::from_utf8(bytes) {
        Ok(text) => Ok(text),
        Err(e) => {
            let at = e.utf8_error().valid_up_to();
            let line = e.as_bytes()[..at].iter().filter(|b| **b == b'\n').count() + 1;
            bail!("{}:{line}: not UTF-8 text (byte {at})", path.display())
        }
    }
}

/// Opened without blocking (a FIFO is then refused by its metadata, not
/// waited on) and never as a controlling terminal; the metadata is the
/// open file's: one lookup of the path, where asking first took two.
fn open(path: &Path) -> std::io::Result<File> {
    use nix::fcntl::OFlag;
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags((OFlag::O_NONBLOCK | OFlag::O_NOCTTY).bits())
        .open(path)
}

fn read_opened(path: &Path, opened: std::io::Result<File>, max: u64) -> Result<Vec<u8>> {
    let (file, metadata) = match opened.and_then(|f| f.metadata().map(|m| (f, m))) {
        Ok(opened) => opened,
        Err(e) => bail!("cannot read {}: {e}", path.display()),
    };
    if !metadata.is_file() {
        bail!("{} is not a regular file: not read", path.display());
    }
    if metadata.len() > max {
        let limit = match max % (1024 * 1024) {
            0 => format!("{} MB", max / (1024 * 1024)),
            _ => format!("{} KB", max / 1024),
        };
        bail!(
            "{} is {} bytes, over the {limit} a workspace file can be: not read",
            path.display(),
            metadata.len(),
        );
    }
    let mut bytes = Vec::with_capacity(metadata.len() as usize);
    if let Err(e) = file.take(max + 1).read_to_end(&mut bytes) {
        bail!("cannot read {}: {e}", path.display());
    }
    if bytes.len() as u64 > max {
        bail!(
            "{} grew past {max} bytes while read: not read",
            path.display()
        );
    }
    remember(path, &bytes);
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn within_one_look_a_file_is_read_once_and_after_it_afresh() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("docker-compose.yml");
        let other = dir.path().join("other.yml");
        std::fs::write(&file, "first\n").unwrap();
        let (inner, outer, missing) = once_each(|| {
            assert_eq!(text(&file).unwrap(), "first\n");
            std::fs::write(&file, "second\n").unwrap();
            let inner = once_each(|| text(&file).unwrap());
            // The outer look still holds it when the inner one ends.
            let outer = optional_text(&file).unwrap();
            // What could not be read is not remembered.
            let missing = optional_text(&other).unwrap();
            std::fs::write(&other, "now\n").unwrap();
            (inner, outer, (missing, optional_text(&other).unwrap()))
        });
        assert_eq!(inner, "first\n");
        assert_eq!(outer.as_deref(), Some("first\n"));
        assert_eq!(missing, (None, Some("now\n".to_string())));
        assert_eq!(text(&file).unwrap(), "second\n");
        assert_eq!(bytes(&file).unwrap(), b"second\n");
    }

    #[test]
    fn a_thread_shares_the_look_it_is_handed_and_no_other() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("app.py");
        std::fs::write(&file, "before = 1\n").unwrap();
        let (handed, alone) = once_each(|| {
            text(&file).unwrap();
            std::fs::write(&file, "after = 1\n").unwrap();
            let look = this_look();
            let (for_handed, for_alone) = (file.clone(), file.clone());
            let handed = std::thread::spawn(move || look.run(|| text(&for_handed).unwrap()));
            let alone = std::thread::spawn(move || text(&for_alone).unwrap());
            (handed.join().unwrap(), alone.join().unwrap())
        });
        assert_eq!(handed, "before = 1\n");
        assert_eq!(alone, "after = 1\n");
    }

    #[test]
    fn devices_fifos_huge_and_binary_files_are_refused_at_once() {
        assert!(
            text(Path::new("/dev/zero"))
                .unwrap_err()
                .to_string()
                .contains("not a regular file")
        );
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::S_IRWXU).unwrap();
        assert!(
            text(&fifo)
                .unwrap_err()
                .to_string()
                .contains("not a regular file")
        );
        let big = dir.path().join("big");
        std::fs::File::create(&big)
            .unwrap()
            .set_len(MAX_BYTES + 1)
            .unwrap();
        assert!(
            text(&big)
                .unwrap_err()
                .to_string()
                .contains("over the 5 MB")
        );
        let latin = dir.path().join("app.py");
        std::fs::write(&latin, b"a = 1\nb = '\xe9'\n").unwrap();
        assert!(
            text(&latin)
                .unwrap_err()
                .to_string()
                .contains("app.py:2: not UTF-8")
        );
    }
}
