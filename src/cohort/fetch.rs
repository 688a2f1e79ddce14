//! Each repository onto this machine with the real `git`: a shallow clone,
//! or a fetch into the clone an earlier run made; at a deadline, the last
//! commit before it. Never a prompt (no terminal, no SSH passphrase), and
//! never longer than the timeout.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::list::Source;

/// What to fetch.
#[derive(Debug, Clone)]
pub struct Fetch {
    /// `--before`: the last commit before this date (as git reads dates).
    pub before: Option<String>,
    pub timeout: Duration,
}

/// The work tree to diagnose and the commit it holds (None: a folder that
/// is not a git repository).
pub struct Fetched {
    pub dir: PathBuf,
    pub commit: Option<String>,
}

/// `source` at `into` (a clone's folder; a local folder stays where it is).
pub fn fetch(source: &Source, into: &Path, how: &Fetch) -> Result<Fetched, String> {
    let dir = match source {
        Source::Folder(path) => {
            if !path.is_dir() {
                return Err(format!("{} is not a folder", path.display()));
            }
            if let Some(before) = &how.before {
                return Err(format!(
                    "a local folder is diagnosed as it is: --before {before} needs a URL"
                ));
            }
            path.clone()
        }
        Source::Url(url) => {
            clone_or_fetch(url, into, how)?;
            into.to_path_buf()
        }
    };
    let commit = git(&dir, &["rev-parse", "HEAD"], how.timeout)
        .ok()
        .map(|out| out.trim().to_string());
    Ok(Fetched { dir, commit })
}

fn clone_or_fetch(url: &str, into: &Path, how: &Fetch) -> Result<(), String> {
    let reuse = into.join(".git").is_dir();
    // The deadline needs the history up to it: a partial clone (commits and
    // trees, blobs on demand) keeps that cheap.
    let depth: &[&str] = match how.before {
        Some(_) => &["--filter=blob:none"],
        None => &["--depth", "1"],
    };
    if reuse {
        let mut args = vec!["fetch", "--quiet", "--no-tags"];
        args.extend_from_slice(depth);
        args.extend(["origin", "HEAD"]);
        git(into, &args, how.timeout)?;
    } else {
        if let Some(parent) = into.parent() {
            std::fs::create_dir_all(parent).map_err(|e| e.to_string())?;
        }
        let _ = std::fs::remove_dir_all(into);
        let mut args = vec!["clone", "--quiet", "--no-checkout", "--no-tags"];
        args.extend_from_slice(depth);
        args.extend(["--", url]);
        let target = into.to_string_lossy().into_owned();
        args.push(&target);
        git(into.parent().unwrap_or(Path::new(".")), &args, how.timeout)?;
    }
    let head = if reuse { "FETCH_HEAD" } else { "HEAD" };
    let commit = match &how.before {
        Some(date) => {
            let before = format!("--before={date}");
            let found = git(into, &["rev-list", "-1", &before, head], how.timeout)?;
            let found = found.trim().to_string();
            if found.is_empty() {
                return Err(format!("no commit before {date}"));
            }
            found
        }
        None => head.to_string(),
    };
    git(
        into,
        &["checkout", "--quiet", "--force", "--detach", &commit],
        how.timeout,
    )?;
    Ok(())
}

/// `git ARGS` in `dir`: its stdout, or its last line of stderr as the error.
fn git(dir: &Path, args: &[&str], timeout: Duration) -> Result<String, String> {
    let mut child = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_SSH_COMMAND", "ssh -o BatchMode=yes")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run git: {e} (install git)"))?;
    let started = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if started.elapsed() > timeout => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "git {} took longer than {} s",
                    args[0],
                    timeout.as_secs()
                ));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => return Err(e.to_string()),
        }
    }
    let output = child.wait_with_output().map_err(|e| e.to_string())?;
    if output.status.success() {
        return Ok(String::from_utf8_lossy(&output.stdout).into_owned());
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    // git's reason is its `fatal:` line; the lines after it are advice.
    let lines: Vec<&str> = stderr
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let said = lines
        .iter()
        .find_map(|line| line.strip_prefix("fatal: "))
        .or(lines.last().copied())
        .unwrap_or("no message");
    Err(format!("git {}: {said}", args[0]))
}
