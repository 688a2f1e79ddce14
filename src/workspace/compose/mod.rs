//! The compose file: its services' environment blocks as written, and as
//! resolved after interpolation (by our resolver, or by Compose itself).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use serde_yaml::Value;

use super::dotenv;
use super::interpolate::{InterpolateError, interpolate};
use super::yaml_lines::YamlLines;
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
    /// Top-level `networks:` names (the key, not `name:`).
    pub networks: Vec<String>,
    pub lines: YamlLines,
}

/// `command:` or `entrypoint:` as written: one string (split by Compose as a
/// shell would) or a list (each item one argument).
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    Shell(String),
    Exec(Vec<String>),
}

impl Command {
    /// The arguments the container receives, as Compose splits them.
    pub fn args(&self) -> Vec<String> {
        match self {
            Command::Exec(items) => items.clone(),
            Command::Shell(line) => crate::shell::split_words(line),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Service {
    pub name: String,
    pub image: Option<String>,
    pub build_context: Option<String>,
    /// `environment:` entries in file order; `None` is a bare `- NAME`.
    pub environment: Vec<(String, Option<String>)>,
    pub env_files: Vec<(String, bool)>,
    /// `networks:` as written; None when the service names none (`default`).
    pub networks: Option<Vec<String>>,
    pub network_mode: Option<String>,
    pub command: Option<Command>,
    pub entrypoint: Option<Command>,
    /// Volumes in short form, `SOURCE:TARGET[:MODE]` (long forms converted).
    pub volumes: Vec<String>,
    pub ports: Vec<String>,
    /// `healthcheck.test` as one command line.
    pub healthcheck: Option<String>,
}

impl Service {
    /// The image without registry path: `otel/opentelemetry-collector-contrib`.
    pub fn image_name(&self) -> Option<&str> {
        let image = self.image.as_deref()?;
        let without_digest = image.split('@').next().unwrap_or(image);
        let last_slash = without_digest.rfind('/').map_or(0, |i| i + 1);
        Some(match without_digest[last_slash..].find(':') {
            Some(colon) => &without_digest[..last_slash + colon],
            None => without_digest,
        })
    }

    /// The image tag: None when there is none (Compose pulls `latest`).
    pub fn image_tag(&self) -> Option<&str> {
        let image = self.image.as_deref()?;
        let last = image.rsplit('/').next().unwrap_or(image);
        last.split('@').next()?.split_once(':').map(|(_, tag)| tag)
    }
}

/// A container's environment: `None` means the variable is declared but unset.
pub type Environment = BTreeMap<String, Option<String>>;

#[derive(Debug, Clone, Default)]
pub struct Resolved {
    pub services: BTreeMap<String, Environment>,
    /// Each service's networks after interpolation (`default` when none).
    pub networks: BTreeMap<String, Vec<String>>,
    /// Variables referenced with no value anywhere: Compose substitutes "".
    pub unset: Vec<String>,
    /// What makes Compose refuse the project although every environment
    /// resolved (a network that is not declared): reported, not fatal here.
    pub errors: Vec<String>,
}

pub fn find(dir: &Path) -> Option<PathBuf> {
    find_all(dir).into_iter().next()
}

/// Every compose configuration in `dir`: the file Compose picks by default
/// first, then variants such as `docker-compose.local.yml` or
/// `docker-compose-gitpod.yml`, each of which a student runs with `-f` as a
/// configuration of its own (where there is no default file, the first
/// variant stands first).
pub fn find_all(dir: &Path) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = FILE_NAMES
        .iter()
        .map(|name| dir.join(name))
        .filter(|path| path.is_file())
        .take(1)
        .collect();
    let mut variants: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| {
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            // docker-compose.local.yml and docker-compose-gitpod.yml alike.
            let is_variant = ["docker-compose.", "docker-compose-", "compose.", "compose-"]
                .iter()
                .any(|prefix| name.starts_with(prefix))
                && (name.ends_with(".yml") || name.ends_with(".yaml"))
                && !FILE_NAMES.contains(&name);
            is_variant && path.is_file()
        })
        .collect();
    variants.sort();
    found.extend(variants);
    found
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
            anyhow!("{}{place}: not valid YAML: {e}", path.display())
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
        let networks = match document.get("networks") {
            Some(Value::Mapping(map)) => map.keys().filter_map(scalar).collect(),
            _ => Vec::new(),
        };
        Ok(ComposeFile {
            path: path.to_path_buf(),
            services,
            networks,
            lines: YamlLines::index(text),
        })
    }

    /// The 1-based line of `services.NAME.FIELD...`, else of the service.
    pub fn line(&self, service: &str, field: &[&str]) -> Option<usize> {
        let mut path = format!("services.{service}");
        let mut best = self.lines.line(&path);
        for part in field {
            path.push('.');
            path.push_str(part);
            if let Some(line) = self.lines.line(&path) {
                best = Some(line);
            }
        }
        best
    }

    /// `file:line` for a finding about `services.NAME.FIELD...`.
    pub fn place(&self, service: &str, field: &[&str]) -> String {
        match self.line(service, field) {
            Some(line) => format!("{}:{line}", self.path.display()),
            None => self.path.display().to_string(),
        }
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
            match self.resolve_networks(service, lookup) {
                Ok(networks) => {
                    resolved.networks.insert(service.name.clone(), networks);
                }
                Err(e) => resolved.errors.push(format!("{e:#}")),
            }
        }
        resolved.services = services;
        Ok(resolved)
    }

    /// A service's networks after interpolation; each must be declared at
    /// the top level, as Compose requires.
    fn resolve_networks(
        &self,
        service: &Service,
        lookup: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Vec<String>> {
        let Some(names) = &service.networks else {
            return Ok(vec!["default".into()]);
        };
        let declared: Vec<String> = self
            .networks
            .iter()
            .map(|n| {
                interpolate(n, lookup)
                    .map(|i| i.value)
                    .unwrap_or_else(|_| n.clone())
            })
            .collect();
        names
            .iter()
            .map(|raw| {
                let name = interpolate(raw, lookup)
                    .map_err(|e| self.interpolation_error(service, "networks", e))?
                    .value;
                if name != "default" && !declared.contains(&name) {
                    bail!(
                        "{}: service \"{}\" refers to undefined network {name}: invalid compose project",
                        self.place(&service.name, &["networks"]),
                        service.name
                    );
                }
                Ok(name)
            })
            .collect()
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
        let networks = match body.get("networks") {
            Some(Value::Sequence(items)) => Some(items.iter().filter_map(scalar).collect()),
            Some(Value::Mapping(map)) => Some(map.keys().filter_map(scalar).collect()),
            _ => None,
        };
        let volumes = match body.get("volumes") {
            Some(Value::Sequence(items)) => items.iter().filter_map(volume_entry).collect(),
            _ => Vec::new(),
        };
        let ports = match body.get("ports") {
            Some(Value::Sequence(items)) => items.iter().filter_map(scalar).collect(),
            _ => Vec::new(),
        };
        Ok(Service {
            name,
            image: body.get("image").and_then(scalar),
            build_context,
            environment,
            env_files,
            networks,
            network_mode: body.get("network_mode").and_then(scalar),
            command: body.get("command").and_then(command_entry),
            entrypoint: body.get("entrypoint").and_then(command_entry),
            volumes,
            ports,
            healthcheck: body
                .get("healthcheck")
                .and_then(|h| h.get("test"))
                .and_then(command_entry)
                .map(|c| c.args().join(" ")),
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

fn command_entry(value: &Value) -> Option<Command> {
    match value {
        Value::Sequence(items) => Some(Command::Exec(items.iter().filter_map(scalar).collect())),
        other => scalar(other).map(Command::Shell),
    }
}

/// A volume as `SOURCE:TARGET`, from the short or the long syntax.
fn volume_entry(value: &Value) -> Option<String> {
    match value {
        Value::Mapping(map) => {
            let source = map.get("source").and_then(scalar).unwrap_or_default();
            let target = map.get("target").and_then(scalar)?;
            Some(format!("{source}:{target}"))
        }
        other => scalar(other),
    }
}

/// A YAML scalar as Compose turns it into an environment string.
pub fn scalar(value: &Value) -> Option<String> {
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
            let networks = match &body["networks"] {
                serde_json::Value::Object(map) => map.keys().cloned().collect(),
                _ => vec!["default".to_string()],
            };
            resolved.networks.insert(name.clone(), networks);
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
