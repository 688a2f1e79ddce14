//! The compose file: its services' environment blocks as written, and as
//! resolved after interpolation (by our resolver, or by Compose itself).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use serde_yaml::Value;

use super::dotenv;
use super::interpolate::{InterpolateError, interpolate};
use crate::workspace::process::run_with_timeout;

/// File names Compose looks for, in its order of preference.
pub const FILE_NAMES: &[&str] = &[
    "compose.yaml",
    "compose.yml",
    "docker-compose.yaml",
    "docker-compose.yml",
];

#[derive(Debug, Clone)]
pub struct ComposeFile {
    pub path: PathBuf,
    pub services: Vec<Service>,
}

#[derive(Debug, Clone)]
pub struct Service {
    pub name: String,
    pub image: Option<String>,
    pub build_context: Option<String>,
    /// `environment:` entries in file order; `None` is a bare `- NAME`.
    pub environment: Vec<(String, Option<String>)>,
    pub env_files: Vec<(String, bool)>,
}

/// A container's environment: `None` means the variable is declared but unset.
pub type Environment = BTreeMap<String, Option<String>>;

#[derive(Debug, Clone, Default)]
pub struct Resolved {
    pub services: BTreeMap<String, Environment>,
    /// Variables referenced with no value anywhere: Compose substitutes "".
    pub unset: Vec<String>,
}

pub fn find(dir: &Path) -> Option<PathBuf> {
    FILE_NAMES
        .iter()
        .map(|name| dir.join(name))
        .find(|path| path.is_file())
}

impl ComposeFile {
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        Self::parse(path, &text)
    }

    pub fn parse(path: &Path, text: &str) -> Result<Self> {
        let document: Value = serde_yaml::from_str(text).map_err(|e| {
            let place = e
                .location()
                .map(|l| format!(":{}:{}", l.line(), l.column()))
                .unwrap_or_default();
            anyhow!(
                "{}{place}: not valid YAML: {e}; fix the file (docker compose config shows the same error)",
                path.display()
            )
        })?;
        let services = match document.get("services") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Mapping(map)) => map
                .iter()
                .map(|(name, body)| Service::parse(path, name, body))
                .collect::<Result<_>>()?,
            Some(_) => bail!(
                "{}: `services` must be a mapping of service names",
                path.display()
            ),
        };
        Ok(ComposeFile {
            path: path.to_path_buf(),
            services,
        })
    }

    pub fn dir(&self) -> &Path {
        self.path.parent().unwrap_or(Path::new("."))
    }

    pub fn service(&self, name: &str) -> Option<&Service> {
        self.services.iter().find(|s| s.name == name)
    }

    /// Resolves every service's environment as Compose would, looking
    /// variables up with `lookup` (the shell first, then `.env`).
    pub fn resolve(&self, lookup: &dyn Fn(&str) -> Option<String>) -> Result<Resolved> {
        let mut resolved = Resolved::default();
        let mut note_unset = |names: Vec<String>| {
            for name in names {
                if !resolved.unset.contains(&name) {
                    resolved.unset.push(name);
                }
            }
        };
        let mut services = BTreeMap::new();
        for service in &self.services {
            let mut env = Environment::new();
            for (file, required) in &service.env_files {
                let path = self.dir().join(file);
                let text = match std::fs::read_to_string(&path) {
                    Ok(text) => text,
                    Err(_) if !required => continue,
                    Err(e) => bail!(
                        "{}: service {:?} names env_file {file:?}, which cannot be read ({e})",
                        self.path.display(),
                        service.name
                    ),
                };
                let entries = dotenv::parse(&text, lookup)
                    .map_err(|e| anyhow!("{}:{}: {}", path.display(), e.line, e.message))?;
                for entry in entries {
                    env.insert(entry.key, Some(entry.value));
                }
            }
            for (key, raw) in &service.environment {
                let value = match raw {
                    None => lookup(key),
                    Some(raw) => {
                        let out = interpolate(raw, lookup)
                            .map_err(|e| self.interpolation_error(service, key, e))?;
                        note_unset(out.unset);
                        Some(out.value)
                    }
                };
                env.insert(key.clone(), value);
            }
            services.insert(service.name.clone(), env);
        }
        resolved.services = services;
        Ok(resolved)
    }

    fn interpolation_error(
        &self,
        service: &Service,
        key: &str,
        e: InterpolateError,
    ) -> anyhow::Error {
        anyhow!(
            "{}: services.{}.environment.{key}: {e}",
            self.path.display(),
            service.name
        )
    }
}

impl Service {
    fn parse(path: &Path, name: &Value, body: &Value) -> Result<Self> {
        let name = scalar(name)
            .ok_or_else(|| anyhow!("{}: a service name must be a string", path.display()))?;
        let where_ = |field: &str| format!("{}: services.{name}.{field}", path.display());
        let environment = match body.get("environment") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Mapping(map)) => map
                .iter()
                .map(|(k, v)| {
                    let key = scalar(k).ok_or_else(|| {
                        anyhow!("{}: keys must be strings", where_("environment"))
                    })?;
                    Ok((key, scalar(v)))
                })
                .collect::<Result<_>>()?,
            Some(Value::Sequence(items)) => items
                .iter()
                .map(|item| {
                    let text = scalar(item).ok_or_else(|| {
                        anyhow!(
                            "{}: entries must be NAME=value strings",
                            where_("environment")
                        )
                    })?;
                    Ok(match text.split_once('=') {
                        Some((k, v)) => (k.to_string(), Some(v.to_string())),
                        None => (text, None),
                    })
                })
                .collect::<Result<_>>()?,
            Some(_) => bail!("{}: must be a mapping or a list", where_("environment")),
        };
        let env_files = match body.get("env_file") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Sequence(items)) => items.iter().filter_map(env_file_entry).collect(),
            Some(single) => env_file_entry(single).into_iter().collect(),
        };
        let build_context = match body.get("build") {
            Some(Value::Mapping(map)) => map.get("context").and_then(scalar),
            Some(other) => scalar(other),
            None => None,
        };
        Ok(Service {
            name,
            image: body.get("image").and_then(scalar),
            build_context,
            environment,
            env_files,
        })
    }
}

fn env_file_entry(value: &Value) -> Option<(String, bool)> {
    match value {
        Value::Mapping(map) => {
            let path = map.get("path").and_then(scalar)?;
            let required = map.get("required").and_then(Value::as_bool).unwrap_or(true);
            Some((path, required))
        }
        other => scalar(other).map(|path| (path, true)),
    }
}

/// A YAML scalar as Compose turns it into an environment string.
fn scalar(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// The Compose v2 command on PATH, if any: `docker-compose`, or `docker compose`.
pub fn find_compose() -> Option<Vec<String>> {
    if let Ok(path) = which::which("docker-compose") {
        return Some(vec![path.display().to_string()]);
    }
    let docker = which::which("docker").ok()?;
    let probe = run_with_timeout(
        std::process::Command::new(&docker).args(["compose", "version"]),
        Duration::from_secs(3),
    )
    .ok()?;
    probe
        .status
        .success()
        .then(|| vec![docker.display().to_string(), "compose".into()])
}

/// Asks Compose itself to resolve the file (it reads the shell and `.env`).
pub fn resolve_with_compose(compose: &[String], file: &ComposeFile) -> Result<Resolved> {
    let mut command = std::process::Command::new(&compose[0]);
    command
        .args(&compose[1..])
        .arg("-f")
        .arg(&file.path)
        .args(["config", "--format", "json"])
        .current_dir(file.dir());
    let output = run_with_timeout(&mut command, Duration::from_secs(10))
        .with_context(|| format!("running {}", compose.join(" ")))?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    // Compose v2.40 reports "invalid interpolation format" yet exits 0 with
    // no output: an empty output is a failure too.
    if !output.status.success() || output.stdout.is_empty() {
        bail!("{} config failed: {}", compose.join(" "), stderr.trim());
    }
    let document: serde_json::Value = serde_json::from_slice(&output.stdout)
        .with_context(|| format!("reading the output of {} config", compose.join(" ")))?;
    let mut resolved = Resolved::default();
    if let Some(services) = document["services"].as_object() {
        for (name, body) in services {
            let env = body["environment"]
                .as_object()
                .map(|map| {
                    map.iter()
                        .map(|(k, v)| (k.clone(), v.as_str().map(|s| s.replace("$$", "$"))))
                        .collect()
                })
                .unwrap_or_default();
            resolved.services.insert(name.clone(), env);
        }
    }
    // `The "NAME" variable is not set. Defaulting to a blank string.`
    for line in stderr.lines() {
        if let Some(name) = line
            .split("The \\\"")
            .nth(1)
            .or_else(|| line.split("The \"").nth(1))
            && let Some(name) = name.split(['\\', '"']).next()
            && !resolved.unset.iter().any(|n| n == name)
        {
            resolved.unset.push(name.to_string());
        }
    }
    Ok(resolved)
}
