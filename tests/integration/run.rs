//! `tracelab run`: the generated backend in its own venv, without Docker,
//! its spans printed as they arrive, and Ctrl-C leaving no process behind.

use crate::common;

use std::io::Read;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::common::app::{get, wait_until};
use crate::common::honeycomb::{FakeHoneycomb, INGEST_AUTH};
use crate::common::{free_port, new_workspace};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

struct Running {
    child: Child,
    stdout: Arc<Mutex<String>>,
    stderr: Arc<Mutex<String>>,
    readers: Vec<std::thread::JoinHandle<()>>,
}

fn collect(
    stream: impl Read + Send + 'static,
) -> (Arc<Mutex<String>>, std::thread::JoinHandle<()>) {
    let text = Arc::new(Mutex::new(String::new()));
    let sink = Arc::clone(&text);
    let reader = std::thread::spawn(move || {
        let mut stream = stream;
        let mut buffer = [0u8; 4096];
        while let Ok(n) = stream.read(&mut buffer) {
            if n == 0 {
                break;
            }
            sink.lock()
                .unwrap()
                .push_str(&String::from_utf8_lossy(&buffer[..n]));
        }
    });
    (text, reader)
}

fn start(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Running {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tracelab"))
        .arg("run")
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("HONEYCOMB_API_KEY")
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (stdout, out_reader) = collect(child.stdout.take().unwrap());
    let (stderr, err_reader) = collect(child.stderr.take().unwrap());
    Running {
        child,
        stdout,
        stderr,
        readers: vec![out_reader, err_reader],
    }
}

impl Running {
    fn wait_for_app(&mut self, port: u16) {
        wait_until("the app to answer", Duration::from_secs(240), || {
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!(
                    "tracelab run exited with {status}:\n{}",
                    self.stderr.lock().unwrap()
                );
            }
            get(&format!("http://127.0.0.1:{port}/api/health-check"))
        });
    }

    /// Asks for the home feed and waits until its manual span is on screen.
    fn trace_home(&mut self, port: u16) {
        self.wait_for_app(port);
        let (status, _) = get(&format!("http://127.0.0.1:{port}/api/activities/home")).unwrap();
        assert_eq!(status, 200);
        let stdout = Arc::clone(&self.stdout);
        wait_until("the home span on screen", Duration::from_secs(20), || {
            stdout
                .lock()
                .unwrap()
                .contains("home-activities-mock-data")
                .then_some(())
        });
    }

    /// Ctrl-C, then the exit status and both outputs.
    fn interrupt(mut self) -> (i32, String, String) {
        kill(Pid::from_raw(self.child.id() as i32), Signal::SIGINT).unwrap();
        self.wait_for_exit()
    }

    /// The exit code and everything tracelab wrote: its output is read by
    /// threads that may still be at it when it exits, so wait for both
    /// streams to close (a few seconds at most, in case something it
    /// started still holds them).
    fn wait_for_exit(&mut self) -> (i32, String, String) {
        let status = self.child.wait().unwrap();
        let deadline = Instant::now() + Duration::from_secs(5);
        while !self.readers.iter().all(|r| r.is_finished()) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        let stdout = self.stdout.lock().unwrap().clone();
        let stderr = self.stderr.lock().unwrap().clone();
        (status.code().unwrap_or(-1), stdout, stderr)
    }
}

/// A test that fails before it stops `tracelab run` must not leave it, or
/// the app it started, running: Ctrl-C stops both.
impl Drop for Running {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = kill(Pid::from_raw(self.child.id() as i32), Signal::SIGINT);
            let deadline = Instant::now() + Duration::from_secs(10);
            while matches!(self.child.try_wait(), Ok(None)) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A workspace that traces with no account (backends=local) on a free port.
fn local_workspace() -> (u16, tempfile::TempDir, std::path::PathBuf) {
    let port = free_port();
    let (root, dir) = new_workspace(&[
        "--no-check",
        "--set",
        "backends=local",
        "--set",
        &format!("port={port}"),
    ]);
    (port, root, dir)
}

#[test]
fn a_local_workspace_runs_and_prints_its_spans_and_ctrl_c_leaves_nothing() {
    let (port, _root, dir) = local_workspace();
    let mut running = start(&dir, &[], &[]);
    running.trace_home(port);
    let (code, stdout, stderr) = running.interrupt();
    // Ctrl-C ends every command with 130, as a shell reports SIGINT.
    assert_eq!(code, 130, "{stderr}");
    assert!(stdout.contains("backend-flask"), "{stdout}");
    assert!(stdout.contains("GET /api/activities/home"), "{stdout}");
    assert!(stdout.contains("app.result_length=3"), "{stdout}");
    assert!(
        !stdout.contains("Collecting") && !stderr.contains("Collecting"),
        "pip's output belongs in its log"
    );
    assert!(stderr.contains("spans received"), "{stderr}");
    // The image runs Python 3.12: a venv of another Python says so, once.
    let here = String::from_utf8(
        std::process::Command::new("python3")
            .arg("-c")
            .arg("import sys; print(f'{sys.version_info[0]}.{sys.version_info[1]}')")
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    let note = format!("python3 here is {}; the image runs 3.12", here.trim());
    let has_exact = std::process::Command::new("python3.12")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    assert_eq!(
        stderr.matches(&note).count(),
        usize::from(here.trim() != "3.12" && !has_exact),
        "{stderr}"
    );
    let left = common::processes_in(&dir);
    assert!(left.is_empty(), "left running: {left:#?}");
}

/// With uv beside it or on PATH, the venv is made and filled by uv.
#[test]
fn the_venv_is_made_with_uv_when_there_is_one() {
    let uv = common::uv().parent().unwrap().to_path_buf();
    let (port, _root, dir) = local_workspace();
    let path = format!("{}:{}", uv.display(), std::env::var("PATH").unwrap());
    let mut running = start(&dir, &[], &[("PATH", &path)]);
    running.trace_home(port);
    let (code, _, stderr) = running.interrupt();
    assert_eq!(code, 130, "{stderr}");
    assert!(stderr.contains("(uv, with its cache; log: "), "{stderr}");
    assert!(
        !dir.join("backend-flask/.venv/bin/pip").exists(),
        "{stderr}"
    );
    // One line says what the install did; uv's line per package is in the
    // log the line names, not on the screen.
    let log =
        std::fs::read_to_string(dir.join("backend-flask/.venv/tracelab-install.log")).unwrap();
    let packages = log
        .lines()
        .filter(|l| l.trim_start().starts_with("+ "))
        .count();
    assert!(packages > 10, "{log}");
    assert!(
        stderr.contains(&format!("installed {packages} packages in ")),
        "{stderr}"
    );
    assert!(!stderr.contains(" + flask=="), "{stderr}");
}

#[test]
fn prod_runs_gunicorn_the_same_way() {
    let (port, _root, dir) = local_workspace();
    let mut running = start(&dir, &["--prod"], &[]);
    running.trace_home(port);
    let (code, _, stderr) = running.interrupt();
    assert_eq!(code, 130);
    assert!(stderr.contains("gunicorn"), "{stderr}");
    // Dockerfile.prod's ENV WEB_CONCURRENCY=2: two workers, as in the image.
    assert_eq!(stderr.matches("Booting worker").count(), 2, "{stderr}");
    // Outside a container, only this machine can reach it.
    assert!(
        stderr.contains(&format!("Listening at: http://127.0.0.1:{port}")),
        "{stderr}"
    );
    let left = common::processes_in(&dir);
    assert!(left.is_empty(), "left running: {left:#?}");
}

#[test]
fn a_workspace_that_cannot_export_is_not_started() {
    let (_root, dir) = new_workspace(&["--no-check"]);
    // An endpoint with no scheme: the exporter cannot send at all.
    let compose = dir.join("docker-compose.yml");
    let text = std::fs::read_to_string(&compose).unwrap();
    std::fs::write(
        &compose,
        text.replace("https://api.honeycomb.io", "api.honeycomb.io:443"),
    )
    .unwrap();
    let (code, stdout, stderr) = start(&dir, &[], &[]).wait_for_exit();
    assert_eq!(code, 1, "{stdout}{stderr}");
    let all = format!("{stdout}{stderr}");
    assert!(all.contains("otlp-endpoint"), "{all}");
    // The missing key is said, but is no reason not to start.
    assert!(all.contains("HONEYCOMB_API_KEY"), "{all}");
    let refusal = all.lines().find(|l| l.contains("Not started")).unwrap();
    assert!(!refusal.contains("env-missing"), "{refusal}");
    assert!(
        !dir.join("backend-flask/.venv").exists(),
        "nothing installed for a run that cannot export"
    );
}

/// No account at all (a Honeycomb, X-Ray, CloudWatch and Rollbar
/// workspace, no key in the shell): the backend starts, its spans stay on
/// this machine and print, and one line says so.
#[test]
fn with_no_account_the_spans_stay_here_and_print() {
    let port = free_port();
    let (_root, dir) = new_workspace(&[
        "--no-check",
        "--set",
        "backends=honeycomb,xray,cloudwatch,rollbar",
        "--set",
        &format!("port={port}"),
    ]);
    let secrets = [
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_DEFAULT_REGION",
        "ROLLBAR_ACCESS_TOKEN",
    ];
    let mut cmd_env: Vec<(&str, &str)> = Vec::new();
    // Emptied, as a fresh Gitpod has them (env_remove is per name).
    for name in secrets {
        cmd_env.push((name, ""));
    }
    let mut running = start(&dir, &[], &cmd_env);
    running.trace_home(port);
    let (code, stdout, stderr) = running.interrupt();
    assert_eq!(code, 130, "{stderr}");
    assert!(stdout.contains("GET /api/activities/home"), "{stdout}");
    assert!(
        stderr.contains("no HONEYCOMB_API_KEY: spans stay on this machine"),
        "{stderr}"
    );
    assert!(stderr.contains("spans received"), "{stderr}");
    assert!(!stderr.contains("Not started"), "{stderr}");
    // X-Ray: the daemon's stand-in receives the segments (the SDK's local
    // rule samples the first request each second) and answers its sampling
    // polls, so no traceback.
    assert!(
        stdout.contains("x-ray segment backend-flask /api/"),
        "{stdout}"
    );
    assert!(!stderr.contains("Traceback"), "{stderr}");
    assert!(
        stderr.contains("received by the X-Ray daemon's stand-in"),
        "{stderr}"
    );
}

/// --listen: spans show here and still go where the workspace sends them,
/// with the exporter's own headers.
#[test]
fn listen_shows_spans_and_passes_every_request_on() {
    let honeycomb = FakeHoneycomb::start(INGEST_AUTH);
    let port = free_port();
    let (_root, dir) = new_workspace(&["--no-check", "--set", &format!("port={port}")]);
    let compose = dir.join("docker-compose.yml");
    let text = std::fs::read_to_string(&compose).unwrap();
    std::fs::write(
        &compose,
        text.replace("https://api.honeycomb.io", &honeycomb.url),
    )
    .unwrap();
    let mut running = start(
        &dir,
        &["--listen", "--no-check"],
        &[("HONEYCOMB_API_KEY", common::doctor::KEY)],
    );
    running.trace_home(port);
    wait_until("the request passed on", Duration::from_secs(10), || {
        (!honeycomb.requests().is_empty()).then_some(())
    });
    let (code, _, _) = running.interrupt();
    assert_eq!(code, 130);
    let received = honeycomb.requests();
    assert!(
        received
            .iter()
            .all(|r| r.path == "/v1/traces" && r.key == common::doctor::KEY && r.body_len > 0),
        "{received:?}"
    );
}
