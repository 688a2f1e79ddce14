//! Reading each layer a variable can live in: the shell, `.env`, Gitpod's
//! persisted variables and the running container.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{Result, anyhow};
use serde::Serialize;

use super::dotenv::{self, Entry};
use super::process::run_with_timeout;

/// A layer that could not be read says why.
#[derive(Debug, Clone)]
pub enum Source<T> {
    Read(T),
    Unavailable(String),
}

impl<T> Source<T> {
    pub fn get(&self) -> Option<&T> {
        match self {
            Source::Read(value) => Some(value),
            Source::Unavailable(_) => None,
        }
    }
}

pub type Vars = BTreeMap<String, String>;

pub struct DotEnv {
    pub path: PathBuf,
    pub entries: Vec<Entry>,
}

impl DotEnv {
    pub fn get(&self, name: &str) -> Option<&Entry> {
        self.entries.iter().rev().find(|e| e.key == name)
    }
}

/// Reads `DIR/.env`, interpolating from the shell first as Compose does.
pub fn read_dotenv(dir: &Path, shell: &Vars) -> Result<Option<DotEnv>> {
    let path = dir.join(".env");
    if !path.exists() {
        return Ok(None);
    }
    let text = crate::workspace::read::text(&path)?;
    let lookup = |name: &str| shell.get(name).cloned();
    let entries = dotenv::parse(&text, &lookup)
        .map_err(|e| anyhow!("{}:{}: {}", path.display(), e.line, e.message))?;
    Ok(Some(DotEnv { path, entries }))
}

/// Gitpod's persisted variables, from `gp env` (`gp`, where it was found on PATH).
pub fn read_gitpod(gp: Option<&Path>) -> Source<Vars> {
    let Some(gp) = gp else {
        return Source::Unavailable("gp is not on PATH (not in a Gitpod workspace)".into());
    };
    match run_with_timeout(Command::new(gp).arg("env"), Duration::from_secs(5)) {
        Ok(output) if output.status.success() => Source::Read(
            String::from_utf8_lossy(&output.stdout)
                .lines()
                .filter_map(|line| line.split_once('='))
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        ),
        Ok(output) => Source::Unavailable(format!(
            "gp env failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        )),
        Err(e) => Source::Unavailable(format!("gp env did not answer: {e}")),
    }
}

/// `docker compose -f FILE ARGS...` (or `docker-compose`), run in the file's folder.
fn compose_command(compose: &[String], compose_file: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(&compose[0]);
    command
        .current_dir(compose_file.parent().unwrap_or(Path::new(".")))
        .args(&compose[1..])
        .arg("-f")
        .arg(compose_file)
        .args(args);
    command
}

/// The environment of the running container of `service`, through docker
/// (`docker`, where it was found on PATH).
pub fn read_container(
    docker: Option<&Path>,
    compose: Option<&[String]>,
    compose_file: &Path,
    service: &str,
) -> Source<Vars> {
    let Some(docker) = docker else {
        return Source::Unavailable("docker is not on PATH".into());
    };
    let Some(compose) = compose else {
        return Source::Unavailable("Docker Compose is not installed".into());
    };
    let timeout = Duration::from_secs(5);
    let ps = run_with_timeout(
        &mut compose_command(compose, compose_file, &["ps", "-q", service]),
        timeout,
    );
    let id = match ps {
        Ok(out) if out.status.success() => String::from_utf8_lossy(&out.stdout).trim().to_string(),
        Ok(out) => {
            return Source::Unavailable(format!(
                "{} ps failed: {}",
                compose.join(" "),
                first_line(&String::from_utf8_lossy(&out.stderr))
            ));
        }
        Err(e) => return Source::Unavailable(format!("docker did not answer: {e}")),
    };
    let Some(id) = id.lines().next().filter(|id| !id.is_empty()) else {
        return Source::Unavailable(format!("the {service} container is not running"));
    };
    match run_with_timeout(
        Command::new(docker).args(["inspect", "--format", "{{json .Config.Env}}", id]),
        timeout,
    ) {
        Ok(out) if out.status.success() => {
            match serde_json::from_slice::<Vec<String>>(&out.stdout) {
                Ok(list) => Source::Read(
                    list.iter()
                        .filter_map(|kv| kv.split_once('='))
                        .map(|(k, v)| (k.to_string(), v.to_string()))
                        .collect(),
                ),
                Err(e) => Source::Unavailable(format!("cannot read docker inspect's output: {e}")),
            }
        }
        Ok(out) => Source::Unavailable(format!(
            "docker inspect failed: {}",
            first_line(&String::from_utf8_lossy(&out.stderr))
        )),
        Err(e) => Source::Unavailable(format!("docker did not answer: {e}")),
    }
}

/// The last lines the service logged, to find exporter errors.
pub fn read_container_logs(
    compose: &[String],
    compose_file: &Path,
    service: &str,
) -> Option<String> {
    let out = run_with_timeout(
        &mut compose_command(
            compose,
            compose_file,
            &["logs", "--no-color", "--tail", "300", service],
        ),
        Duration::from_secs(5),
    )
    .ok()?;
    out.status.success().then(|| {
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or("").trim()
}

/// Where a value was read: the layers a variable passes on its way into the app.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Layer {
    #[serde(rename = "shell")]
    Shell,
    #[serde(rename = ".env")]
    DotEnv,
    #[serde(rename = "gitpod")]
    Gitpod,
    #[serde(rename = "compose")]
    Compose,
    #[serde(rename = "container")]
    Container,
    #[serde(rename = "code")]
    Code,
    #[serde(rename = "online")]
    Online,
    #[serde(rename = "workspace")]
    Workspace,
}

impl Layer {
    pub fn name(self) -> &'static str {
        match self {
            Layer::Shell => "shell",
            Layer::DotEnv => ".env",
            Layer::Gitpod => "gitpod",
            Layer::Compose => "compose",
            Layer::Container => "container",
            Layer::Code => "code",
            Layer::Online => "online",
            Layer::Workspace => "workspace",
        }
    }
}

/// The shell a repository is judged with alone (`doctor --repository`):
/// what the lab's notes have every student set (`gp env`), each value well
/// formed and plainly not a real one. Checks compare nothing with it
/// (`Context::shell_is_stand_in`), and what they say of it is left out.
pub fn stand_in_shell() -> Vars {
    [
        (
            "HONEYCOMB_API_KEY",
            "hcaik_01standin00000000000000000000000000000000000000000000000000",
        ),
        ("HONEYCOMB_SERVICE_NAME", "backend-flask"),
        ("AWS_ACCESS_KEY_ID", "AKIASTANDIN000000000"),
        (
            "AWS_SECRET_ACCESS_KEY",
            "StandIn0StandIn0StandIn0StandIn0StandIn0",
        ),
        ("AWS_DEFAULT_REGION", "us-east-1"),
        ("ROLLBAR_ACCESS_TOKEN", "5a4d1200000000000000000000000000"),
    ]
    .into_iter()
    .map(|(name, value)| (name.to_string(), value.to_string()))
    .collect()
}

/// This process's environment: the shell layer. Variables that are not
/// UTF-8 cannot be a key or a URL, and are left out.
pub fn shell_env() -> Vars {
    std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
        .collect()
}
