//! Every file the model reads, read the same careful way: only a regular
//! file (a FIFO or a device would block or never end), at most
//! [`MAX_BYTES`], and as UTF-8, each refusal saying which file and why.

use std::fs::File;
use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use anyhow::{Result, bail};

/// Far above any compose file, `.env`, config or module a student writes.
pub const MAX_BYTES: u64 = 5 * 1024 * 1024;

/// The text of `path`, or why it cannot be read.
pub fn text(path: &Path) -> Result<String> {
    text_within(path, MAX_BYTES)
}

/// The text of `path` when it holds at most `max` bytes.
pub fn text_within(path: &Path, max: u64) -> Result<String> {
    text_opened(path, open(path), max)
}

/// The text of `path`, None when there is no such file; any other reason
/// it cannot be read is an error.
pub fn optional_text(path: &Path) -> Result<Option<String>> {
    match open(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        opened => text_opened(path, opened, MAX_BYTES).map(Some),
    }
}

/// The bytes of `path`, or why it cannot be read.
pub fn bytes(path: &Path) -> Result<Vec<u8>> {
    read_opened(path, open(path), MAX_BYTES)
}

fn text_opened(path: &Path, opened: std::io::Result<File>, max: u64) -> Result<String> {
    match String::from_utf8(read_opened(path, opened, max)?) {
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
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

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
