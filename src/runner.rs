//! Running the backend on this machine, without Docker: its own venv, the
//! command its Dockerfile runs, in a process group of its own so that
//! stopping it stops every process it started (Flask's reloader, gunicorn's
//! workers).

use std::io::{BufRead, BufReader, Read};
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use sha2::{Digest, Sha256};

use crate::style::{DIM, paint};

/// What makes the venv and installs into it.
#[derive(Debug, Clone, PartialEq)]
pub enum Installer {
    /// uv: the venv in a fraction of a second, installs from its cache.
    Uv(PathBuf),
    /// `python3 -m venv` and pip.
    Pip,
}

impl Installer {
    /// uv where it is: beside this tracelab (the wheel depends on uv, and
    /// pipx puts only tracelab on PATH), else on PATH; else pip.
    /// `TRACELAB_INSTALLER=pip` or `uv` chooses.
    pub fn find() -> Result<Installer> {
        let beside = std::env::current_exe()
            .ok()
            .and_then(|exe| Some(exe.parent()?.join("uv")))
            .filter(|uv| uv.is_file());
        let uv = || beside.clone().or_else(|| which::which("uv").ok());
        match std::env::var("TRACELAB_INSTALLER").as_deref() {
            Ok("pip") => Ok(Installer::Pip),
            Ok("uv") => uv().map(Installer::Uv).context(
                "TRACELAB_INSTALLER=uv, but uv is neither beside tracelab nor on PATH: pip install uv",
            ),
            Ok(other) if !other.is_empty() => {
                bail!("TRACELAB_INSTALLER={other:?}: use uv or pip")
            }
            _ => Ok(uv().map_or(Installer::Pip, Installer::Uv)),
        }
    }

    fn name(&self) -> &'static str {
        match self {
            Installer::Uv(_) => "uv",
            Installer::Pip => "pip",
        }
    }
}

/// The venv `backend-flask/.venv`, with the requirements installed. It is
/// created when missing, and the installer runs only when requirements.txt
/// changed since the last install (its cache makes a reinstall quick).
pub fn prepare_venv(backend_dir: &Path) -> Result<PathBuf> {
    let venv = backend_dir.join(".venv");
    let requirements = backend_dir.join("requirements.txt");
    let wanted = crate::workspace::read::bytes(&requirements)?;
    let stamp = venv.join(".tracelab-requirements");
    let digest: String = Sha256::digest(&wanted)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    if crate::workspace::read::text(&stamp).is_ok_and(|s| s == digest) {
        return absolute(&venv);
    }
    let installer = Installer::find()?;
    let started = Instant::now();
    let python =
        which::which("python3").context("python3 is not on PATH: install Python 3.10 or newer")?;
    // A venv uv made has no pip: with pip as the installer, make it anew.
    if installer == Installer::Pip
        && venv.join("bin/python").is_file()
        && !venv.join("bin/pip").is_file()
    {
        std::fs::remove_dir_all(&venv)
            .with_context(|| format!("cannot remove {}", venv.display()))?;
    }
    if !venv.join("bin/python").is_file() {
        progress(&format!(
            "creating {} ({})",
            venv.display(),
            installer.name()
        ));
        match &installer {
            Installer::Uv(uv) => run_visible(
                Command::new(uv)
                    .args(["venv", "--quiet", "--python"])
                    .arg(&python)
                    .arg(&venv),
            )?,
            Installer::Pip => run_visible(Command::new(&python).args(["-m", "venv"]).arg(&venv))?,
        }
    }
    progress(&format!(
        "installing {} ({}, with its cache)",
        requirements.display(),
        installer.name()
    ));
    match &installer {
        Installer::Uv(uv) => run_visible(
            Command::new(uv)
                .args(["pip", "install", "--python"])
                .arg(venv.join("bin/python"))
                .arg("-r")
                .arg(&requirements),
        )?,
        Installer::Pip => run_visible(
            Command::new(venv.join("bin/python"))
                .args(["-m", "pip", "install", "--disable-pip-version-check", "-r"])
                .arg(&requirements),
        )?,
    }
    std::fs::write(&stamp, digest)?;
    progress(&format!(
        "ready in {:.1} s",
        started.elapsed().as_secs_f64()
    ));
    absolute(&venv)
}

/// The app runs in its own folder: every path handed to it is absolute.
fn absolute(path: &Path) -> Result<PathBuf> {
    path.canonicalize()
        .with_context(|| format!("cannot find {}", path.display()))
}

fn progress(text: &str) {
    anstream::eprintln!("{}", paint(DIM, format!("  {text}")));
}

/// Runs a setup command with its output shown on stderr (pip's progress;
/// stdout is for spans), failing with its status.
fn run_visible(command: &mut Command) -> Result<()> {
    let stderr = std::io::stderr().as_fd().try_clone_to_owned()?;
    let status = command
        .stdout(Stdio::from(stderr))
        .stderr(Stdio::inherit())
        .status()
        .with_context(|| format!("cannot run {command:?}"))?;
    if !status.success() {
        bail!("{command:?} failed ({status}): see its output above");
    }
    Ok(())
}

/// The command a Dockerfile runs: its last `CMD` in exec form.
pub fn dockerfile_cmd(dockerfile: &Path) -> Result<Vec<String>> {
    let text = crate::workspace::read::text(dockerfile)?;
    let line = text
        .lines()
        .rev()
        .find_map(|l| l.trim().strip_prefix("CMD "))
        .with_context(|| format!("{} has no CMD", dockerfile.display()))?;
    match serde_json::from_str::<Vec<String>>(line.trim()) {
        Ok(words) if !words.is_empty() => Ok(words),
        _ => Ok(crate::shell::split_words(line)),
    }
}

/// The `ENV` a Dockerfile sets (`ENV A=1 B=2`, continued lines, and the old
/// `ENV A 1`), as the container would have it: what names another variable
/// (`PATH=/opt/venv/bin:$PATH`) is the container's, not this machine's, and
/// is left out.
pub fn dockerfile_env(dockerfile: &Path) -> Vec<(String, String)> {
    let Ok(text) = crate::workspace::read::text(dockerfile) else {
        return Vec::new();
    };
    let joined = text.replace("\\\n", " ");
    let mut env = Vec::new();
    for line in joined.lines() {
        let Some(rest) = line.trim().strip_prefix("ENV ") else {
            continue;
        };
        let words = crate::shell::split_words(rest);
        let pairs: Vec<(String, String)> = if words.iter().all(|w| w.contains('=')) {
            words
                .iter()
                .filter_map(|w| w.split_once('='))
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        } else {
            match words.split_first() {
                Some((key, value)) => vec![(key.clone(), value.join(" "))],
                None => Vec::new(),
            }
        };
        env.extend(
            pairs
                .into_iter()
                .filter(|(k, v)| k != "PATH" && !v.contains('$')),
        );
    }
    env
}

/// The backend, started in its own process group.
pub struct App {
    child: Child,
}

impl App {
    /// Starts `cmd` in `dir` with the venv first on PATH and `env` over this
    /// process's environment; its output lines go to stderr, prefixed.
    pub fn start(
        dir: &Path,
        venv: &Path,
        cmd: &[String],
        env: &[(String, String)],
        label: &str,
    ) -> Result<Self> {
        use std::os::unix::process::CommandExt;
        let path = format!(
            "{}:{}",
            venv.join("bin").display(),
            std::env::var("PATH").unwrap_or_default()
        );
        // The program is looked up in the venv first: Command resolves a
        // bare name with this process's PATH, not the child's.
        let in_venv = venv.join("bin").join(&cmd[0]);
        let program = if in_venv.is_file() {
            in_venv
        } else {
            PathBuf::from(&cmd[0])
        };
        let mut command = Command::new(program);
        command
            .args(&cmd[1..])
            .current_dir(dir)
            .env("PATH", path)
            .env("VIRTUAL_ENV", venv)
            .envs(env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0);
        let mut child = command
            .spawn()
            .with_context(|| format!("cannot start {}", cmd.join(" ")))?;
        for stream in [
            child
                .stdout
                .take()
                .map(|s| Box::new(s) as Box<dyn Read + Send>),
            child
                .stderr
                .take()
                .map(|s| Box::new(s) as Box<dyn Read + Send>),
        ]
        .into_iter()
        .flatten()
        {
            let prefix = paint(DIM, format!("{label} |"));
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    anstream::eprintln!("{prefix} {line}");
                }
            });
        }
        Ok(App { child })
    }

    /// The exit status, if the app has stopped by itself.
    pub fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// SIGTERM to the whole group, then SIGKILL after `grace`: no process
    /// the app started is left behind.
    pub fn stop(mut self, grace: Duration) {
        let group = Pid::from_raw(self.child.id() as i32);
        let _ = killpg(group, Signal::SIGTERM);
        let deadline = Instant::now() + grace;
        while Instant::now() < deadline {
            if self.child.try_wait().ok().flatten().is_some() && killpg(group, None).is_err() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = killpg(group, Signal::SIGKILL);
        let _ = self.child.wait();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dockerfile_env_is_the_images_own() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("Dockerfile");
        std::fs::write(
            &path,
            "FROM python\nENV PATH=\"/opt/venv/bin:$PATH\" \\\n    PYTHONUNBUFFERED=1 \\\n    WEB_CONCURRENCY=2\nENV FLASK_ENV development\n",
        )
        .unwrap();
        assert_eq!(
            dockerfile_env(&path),
            [
                ("PYTHONUNBUFFERED".to_string(), "1".to_string()),
                ("WEB_CONCURRENCY".to_string(), "2".to_string()),
                ("FLASK_ENV".to_string(), "development".to_string()),
            ]
        );
    }
}
