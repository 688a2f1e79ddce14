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

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use crate::style::{DIM, paint};
use crate::workspace::context::Context as WorkspaceContext;
use crate::workspace::dockerfile;

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
/// or the constraints.txt it reads changed since the last install (its
/// cache makes a reinstall quick).
pub fn prepare_venv(backend_dir: &Path) -> Result<PathBuf> {
    let venv = backend_dir.join(".venv");
    let requirements = backend_dir.join("requirements.txt");
    let mut wanted = crate::workspace::read::bytes(&requirements)?;
    if let Ok(constraints) = crate::workspace::read::bytes(&backend_dir.join("constraints.txt")) {
        wanted.extend(constraints);
    }
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
    let python = interpreter(backend_dir)?;
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
            )
            .and_then(|()| {
                // setuptools, as `python -m venv` and the images' Pythons have:
                // older instrumentations import pkg_resources, which
                // setuptools 81 and later no longer have.
                run_visible(
                    Command::new(uv)
                        .args(["pip", "install", "--quiet", "--python"])
                        .arg(venv.join("bin/python"))
                        .arg("setuptools<81"),
                )
            })?,
            Installer::Pip => run_visible(Command::new(&python).args(["-m", "venv"]).arg(&venv))?,
        }
    }
    // The installer's own lines (one per package) go to a log: the
    // terminal gets one line of what happened, and where the rest is.
    let log = venv.join("tracelab-install.log");
    progress(&format!(
        "installing {} ({}, with its cache; log: {})",
        requirements.display(),
        installer.name(),
        log.display()
    ));
    let output = match &installer {
        Installer::Uv(uv) => run_logged(
            Command::new(uv)
                .args(["pip", "install", "--python"])
                .arg(venv.join("bin/python"))
                .arg("-r")
                .arg(&requirements),
            &log,
        )?,
        Installer::Pip => run_logged(
            Command::new(venv.join("bin/python"))
                .args(["-m", "pip", "install", "--disable-pip-version-check", "-r"])
                .arg(&requirements),
            &log,
        )?,
    };
    std::fs::write(&stamp, digest)?;
    let seconds = started.elapsed().as_secs_f64();
    progress(&match installed_count(&output) {
        Some(1) => format!("installed 1 package in {seconds:.1} s"),
        Some(n) => format!("installed {n} packages in {seconds:.1} s"),
        None => format!("ready in {seconds:.1} s (nothing new to install)"),
    });
    absolute(&venv)
}

/// The Python to make the venv with: the image's own version when this
/// machine has it (`python3.12`), else python3, with a line saying which
/// Python would match when they differ.
fn interpreter(backend_dir: &Path) -> Result<PathBuf> {
    let python3 =
        which::which("python3").context("python3 is not on PATH: install Python 3.10 or newer")?;
    let dockerfile = backend_dir.join("Dockerfile");
    let Some((wanted, line)) = crate::workspace::dockerfile::python_version(&dockerfile) else {
        return Ok(python3);
    };
    let version = |python: &Path| -> Option<String> {
        let output = Command::new(python).arg("--version").output().ok()?;
        if !output.status.success() {
            return None;
        }
        let text = String::from_utf8_lossy(&output.stdout).to_string()
            + &String::from_utf8_lossy(&output.stderr);
        let number = text.split_whitespace().nth(1)?;
        let mut parts = number.split('.');
        Some(format!("{}.{}", parts.next()?, parts.next()?))
    };
    // A shim (pyenv's) may name a version it does not have: asked, not assumed.
    if let Ok(exact) = which::which(format!("python{wanted}"))
        && version(&exact).as_deref() == Some(wanted.as_str())
    {
        return Ok(exact);
    }
    if let Some(here) = version(&python3).filter(|here| *here != wanted) {
        progress(&format!(
            "python3 here is {here}; the image runs {wanted} ({}:{line}). The pinned requirements install on both; to match it, install python{wanted} and delete {}",
            dockerfile.display(),
            backend_dir.join(".venv").display()
        ));
    }
    Ok(python3)
}

/// How many packages an install put in: uv's `+ name==version` lines, or
/// pip's `Successfully installed a-1 b-2`.
fn installed_count(output: &str) -> Option<usize> {
    let uv = output
        .lines()
        .filter(|line| line.trim_start().starts_with("+ "))
        .count();
    let pip = output
        .lines()
        .find_map(|line| line.strip_prefix("Successfully installed "))
        .map(|names| names.split_whitespace().count());
    if uv > 0 { Some(uv) } else { pip }
}

/// Runs an install with its output (stdout and stderr) written to `log`,
/// the seconds counting on a terminal meanwhile; its text, or on failure
/// its last lines here and the whole in the log.
fn run_logged(command: &mut Command, log: &Path) -> Result<String> {
    let file =
        std::fs::File::create(log).with_context(|| format!("cannot write {}", log.display()))?;
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::from(file.try_clone()?))
        .stderr(Stdio::from(file))
        .spawn()
        .with_context(|| format!("cannot run {command:?}"))?;
    let terminal = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if terminal {
            anstream::eprint!(
                "\r{}",
                paint(DIM, format!("  … {} s", started.elapsed().as_secs()))
            );
        }
        std::thread::sleep(std::time::Duration::from_millis(250));
    };
    if terminal {
        anstream::eprint!("\r\x1b[2K");
    }
    let text = crate::workspace::read::text(log).unwrap_or_default();
    if !status.success() {
        let output_status = status;
        let lines: Vec<&str> = text.lines().collect();
        let tail = lines[lines.len().saturating_sub(15)..].join("\n");
        bail!(
            "the install failed ({output_status}):\n{tail}\n(the whole output: {})",
            log.display()
        );
    }
    Ok(text)
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

/// The backend's environment as the compose file gives it, with the names
/// of compose services (which resolve only inside Docker) turned into this
/// machine.
pub fn backend_environment(ctx: &WorkspaceContext) -> BTreeMap<String, String> {
    let services: Vec<String> = ctx
        .compose
        .as_ref()
        .map(|c| c.file.services.iter().map(|s| s.name.clone()).collect())
        .unwrap_or_default();
    let on_this_machine = |value: &str| {
        services.iter().fold(value.to_string(), |text, name| {
            text.replace(&format!("//{name}:"), "//127.0.0.1:")
                .replace(&format!("{name}:"), "127.0.0.1:")
        })
    };
    ctx.app_env()
        .map(|(_, env)| {
            env.into_iter()
                .filter_map(|(k, v)| Some((k, on_this_machine(&v?))))
                .collect()
        })
        .unwrap_or_default()
}

/// The Dockerfile's command as this machine runs it (bound locally), and
/// `env` completed as the container would have it: the image's ENV under
/// Compose's (WEB_CONCURRENCY for gunicorn), the service's name when none
/// is given, output unbuffered so it shows as it is written.
pub fn image_command(
    ctx: &WorkspaceContext,
    dockerfile: &Path,
    env: &mut BTreeMap<String, String>,
) -> Result<Vec<String>> {
    let cmd = local_bind(dockerfile::command(dockerfile)?);
    env.entry("OTEL_SERVICE_NAME".into())
        .or_insert_with(|| ctx.backend_name().to_string());
    env.insert("PYTHONUNBUFFERED".into(), "1".into());
    for (key, value) in dockerfile::environment(dockerfile) {
        env.entry(key).or_insert(value);
    }
    Ok(cmd)
}

/// On this machine, outside a container, the app listens on 127.0.0.1 only:
/// a Dockerfile's 0.0.0.0 would open Flask's debugger to the network. Gitpod
/// and Codespaces forward ports from any address, so there it stays.
pub fn local_bind(cmd: Vec<String>) -> Vec<String> {
    let forwarded = ["GITPOD_WORKSPACE_ID", "CODESPACES"]
        .iter()
        .any(|v| std::env::var_os(v).is_some());
    if forwarded {
        return cmd;
    }
    cmd.into_iter()
        .map(|word| word.replace("0.0.0.0", "127.0.0.1"))
        .collect()
}

/// The port in `--port=4567` or `--port 4567` (Flask) or `--bind
/// 0.0.0.0:4567` (gunicorn).
pub fn app_port(cmd: &[String]) -> Option<u16> {
    cmd.iter().enumerate().find_map(|(i, word)| {
        if let Some(port) = word.strip_prefix("--port=") {
            return port.parse().ok();
        }
        if word == "--port" {
            return cmd.get(i + 1)?.parse().ok();
        }
        let bind = if word == "--bind" || word == "-b" {
            cmd.get(i + 1)?
        } else {
            word.strip_prefix("--bind=")?
        };
        bind.rsplit(':').next()?.parse().ok()
    })
}

/// `cmd` listening on `port` instead: the port in `--port=N`, `--port N`,
/// `--bind HOST:N` or `-b HOST:N` replaced, or `--port=N` added to a
/// `flask run` that names none.
pub fn on_port(cmd: Vec<String>, port: u16) -> Vec<String> {
    let Some(old) = app_port(&cmd) else {
        let mut cmd = cmd;
        if cmd.iter().any(|w| w == "flask") && cmd.iter().any(|w| w == "run") {
            cmd.push(format!("--port={port}"));
        }
        return cmd;
    };
    let (old, new) = (old.to_string(), port.to_string());
    cmd.into_iter()
        .map(|word| {
            if word == old {
                new.clone()
            } else if word.starts_with("--port=") || word.contains(&format!(":{old}")) {
                word.replace(&old, &new)
            } else {
                word
            }
        })
        .collect()
}

/// Where the backend's output lines go.
#[derive(Clone)]
pub enum AppOutput {
    /// To stderr, each line after `label |`.
    Prefixed(String),
    /// Into a list, for `doctor --deep` to read its tracebacks.
    Captured(Arc<Mutex<Vec<String>>>),
}

/// Lines kept of a captured backend's output: its start and a few routes'
/// tracebacks, never an unbounded log.
const CAPTURED_LINES: usize = 20_000;

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
        output: AppOutput,
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
            let output = output.clone();
            std::thread::spawn(move || {
                let lines = BufReader::new(stream).lines().map_while(Result::ok);
                match output {
                    AppOutput::Prefixed(label) => {
                        let prefix = paint(DIM, format!("{label} |"));
                        for line in lines {
                            anstream::eprintln!("{prefix} {line}");
                        }
                    }
                    AppOutput::Captured(kept) => {
                        for line in lines {
                            let mut kept = kept.lock().unwrap_or_else(|e| e.into_inner());
                            if kept.len() < CAPTURED_LINES {
                                kept.push(line);
                            }
                        }
                    }
                }
            });
        }
        Ok(App { child })
    }

    /// The exit status, if the app has stopped by itself.
    pub fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// Its process id, which is also its process group's.
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// SIGTERM to the whole group, then SIGKILL after `grace`: no process
    /// the app started is left behind.
    pub fn stop(mut self, grace: Duration) {
        let group = self.child.id() as i32;
        let child = &mut self.child;
        kill_group(group, grace, &mut || {
            child.try_wait().ok().flatten().is_some()
        });
        let _ = self.child.wait();
    }
}

/// SIGTERM to process group `group`, then SIGKILL once `grace` has passed
/// with any of it left. `reaped` reaps the leader when this process is its
/// parent (a zombie leader keeps the group alive).
pub fn kill_group(group: i32, grace: Duration, reaped: &mut dyn FnMut() -> bool) {
    let group = Pid::from_raw(group);
    let _ = killpg(group, Signal::SIGTERM);
    let deadline = Instant::now() + grace;
    while Instant::now() < deadline {
        if reaped() && killpg(group, None).is_err() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = killpg(group, Signal::SIGKILL);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn finds_the_port_of_flask_and_gunicorn() {
        assert_eq!(
            app_port(&words(&["python3", "-m", "flask", "run", "--port=4567"])),
            Some(4567)
        );
        assert_eq!(
            app_port(&words(&["gunicorn", "--bind", "0.0.0.0:5000", "app:app"])),
            Some(5000)
        );
        assert_eq!(app_port(&words(&["python3", "app.py"])), None);
    }

    #[test]
    fn a_command_moves_to_another_port() {
        assert_eq!(
            on_port(
                words(&[
                    "python3",
                    "-m",
                    "flask",
                    "run",
                    "--host=127.0.0.1",
                    "--port=4567"
                ]),
                5001
            ),
            words(&[
                "python3",
                "-m",
                "flask",
                "run",
                "--host=127.0.0.1",
                "--port=5001"
            ])
        );
        assert_eq!(
            on_port(
                words(&["gunicorn", "--bind", "127.0.0.1:4567", "app:app"]),
                5001
            ),
            words(&["gunicorn", "--bind", "127.0.0.1:5001", "app:app"])
        );
        assert_eq!(
            on_port(words(&["flask", "run", "--port", "4567"]), 5001),
            words(&["flask", "run", "--port", "5001"])
        );
        assert_eq!(
            on_port(words(&["flask", "run"]), 5001),
            words(&["flask", "run", "--port=5001"])
        );
    }
}
