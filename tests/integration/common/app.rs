//! Running a generated app: its environment as Compose resolves it, its
//! Dockerfile's CMD, and a process group that is stopped as a whole.

use std::fs::File;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::{read, run_ok, tool};

pub const TEST_KEY: &str = "hcaik_01jtestkeytestkeytestkeytestkeytestkeytestkeytestkey000000";

/// `docker-compose config` of the workspace, with every secret a backend
/// needs set in a clean environment. Fails on any Compose warning.
pub fn compose_config(dir: &Path) -> serde_json::Value {
    let output = run_ok(
        Command::new(tool("docker-compose"))
            .current_dir(dir)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap())
            .env("HONEYCOMB_API_KEY", TEST_KEY)
            .env("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
            .env(
                "AWS_SECRET_ACCESS_KEY",
                "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            )
            .env("AWS_DEFAULT_REGION", "ca-central-1")
            .env("ROLLBAR_ACCESS_TOKEN", "0123456789abcdef0123456789abcdef")
            .args(["config", "--format", "json"]),
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !stderr.contains("level=warning"),
        "compose warned:\n{stderr}"
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

/// The backend's environment exactly as Compose resolves it.
pub fn compose_environment(dir: &Path) -> Vec<(String, String)> {
    compose_config(dir)["services"]["backend-flask"]["environment"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
        .collect()
}

/// The JSON-array CMD of a Dockerfile.
pub fn dockerfile_cmd(path: &Path) -> Vec<String> {
    let text = read(path);
    let line = text.lines().rfind(|l| l.starts_with("CMD ")).unwrap();
    serde_json::from_str(&line[4..]).unwrap()
}

pub struct App {
    pub child: Child,
    pub log: PathBuf,
}

impl App {
    /// Stops the app, and gives its log.
    pub fn stop(mut self) -> String {
        self.terminate();
        read(&self.log)
    }

    fn terminate(&mut self) {
        if !matches!(self.child.try_wait(), Ok(None)) {
            return;
        }
        // The whole process group: flask's reloader and gunicorn's workers too.
        let _ = Command::new("kill")
            .args(["-TERM", "--", &format!("-{}", self.child.id())])
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while matches!(self.child.try_wait(), Ok(None)) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A test that fails before it stops the app must not leave it running.
impl Drop for App {
    fn drop(&mut self) {
        self.terminate();
    }
}

pub fn start_app(dir: &Path, venv: &Path, cmd: &[String], env: &[(String, String)]) -> App {
    let log = dir.join("app.log");
    let output = File::create(&log).unwrap();
    let program = venv.join("bin").join(&cmd[0]);
    let mut command = Command::new(program);
    command
        .args(&cmd[1..])
        .current_dir(dir.join("backend-flask"))
        .env_clear()
        .env(
            "PATH",
            format!("{}:/usr/bin:/bin", venv.join("bin").display()),
        )
        .envs(env.iter().cloned())
        .stdin(Stdio::null())
        .stdout(output.try_clone().unwrap())
        .stderr(output)
        .process_group(0);
    App {
        child: command.spawn().unwrap(),
        log,
    }
}

pub fn get(url: &str) -> Option<(u16, String)> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(5)))
        .http_status_as_error(false)
        .build()
        .into();
    let mut response = agent.get(url).call().ok()?;
    let status = response.status().as_u16();
    Some((status, response.body_mut().read_to_string().ok()?))
}

pub fn wait_until<T>(what: &str, timeout: Duration, mut probe: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = probe() {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}
