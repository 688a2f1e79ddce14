//! The compose file: its services' environment blocks as written, and as
//! resolved after interpolation (by our resolver, or by Compose itself).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use serde_yaml::Value;

pub mod config;
mod merge;

pub use merge::volume_target;

use super::dotenv;
use super::interpolate::{InterpolateError, interpolate};
use super::yaml_lines::YamlLines;
use crate::workspace::process::run_with_timeout;

/// File names Compose looks for, in its order of preference.
pub const FILE_NAMES: &[&str] = &[
    "compose.yaml",
    "compose.yml",
    "docker-compose.yml",
    "docker-compose.yaml",
];

/// Override files Compose merges onto the file it found, in its order of
/// preference (the first one present is used).
pub const OVERRIDE_NAMES: &[&str] = &[
    "compose.override.yml",
    "compose.override.yaml",
    "docker-compose.override.yml",
    "docker-compose.override.yaml",
];

/// One compose configuration: a file, or a file set Compose merges (the
/// default file and its override, or `COMPOSE_FILE`), read as Compose reads
/// it.
#[derive(Debug, Clone)]
pub struct ComposeFile {
    /// The first file: the configuration's name, and the project folder.
    pub path: PathBuf,
    pub services: Vec<Service>,
    /// Top-level `networks:` names (the key, not `name:`).
    pub networks: Vec<String>,
    pub lines: YamlLines,
    /// The files merged onto the first, with where their keys are.
    pub overlays: Vec<(PathBuf, YamlLines)>,
    /// The files the workspace generates at start (an env_file rendered
    /// from an ERB template), read from their templates when absent.
    pub generated: Vec<crate::workspace::generated::GeneratedFile>,
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
    pub volumes: Vec<Mount>,
    pub ports: Vec<String>,
    /// `healthcheck.test` as one command line.
    pub healthcheck: Option<String>,
    /// Names besides the service's own that reach its container.
    pub container_name: Option<String>,
    pub hostname: Option<String>,
    /// `aliases:` per network, as written.
    pub aliases: Vec<(String, Vec<String>)>,
    /// `links:` as written: `db` or `db:alias`.
    pub links: Vec<String>,
    /// `extra_hosts:` as written, `host:ip` or `host=ip`.
    pub extra_hosts: Vec<String>,
}

/// One `volumes:` entry, short (`./src:/app:ro`) or long form, as written.
#[derive(Debug, Clone, PartialEq)]
pub struct Mount {
    /// `type:` of the long form; the short form's follows from its source.
    pub kind: Option<String>,
    pub source: Option<String>,
    pub target: String,
    pub read_only: bool,
    pub long_form: bool,
}

impl Mount {
    fn parse(value: &Value) -> Option<Mount> {
        if let Value::Mapping(map) = value {
            return Some(Mount {
                kind: map.get("type").and_then(scalar),
                source: map.get("source").and_then(scalar),
                target: clean_target(&map.get("target").and_then(scalar)?),
                read_only: map
                    .get("read_only")
                    .and_then(Value::as_bool)
                    .unwrap_or(false),
                long_form: true,
            });
        }
        let text = scalar(value)?;
        let parts: Vec<&str> = text.split(':').collect();
        let (source, target, mode) = match parts.as_slice() {
            [target] => (None, target.to_string(), ""),
            [source, target] => (Some(source.to_string()), target.to_string(), ""),
            [source, target, mode, ..] => (Some(source.to_string()), target.to_string(), *mode),
            [] => return None,
        };
        Some(Mount {
            kind: None,
            source,
            target: clean_target(&target),
            read_only: mode.split(',').any(|m| m == "ro"),
            long_form: false,
        })
    }

    /// A short source is a host path when it starts with `.`, `/` or `~`
    /// (after interpolation); otherwise it names a volume.
    pub fn is_bind(source: &str) -> bool {
        source.starts_with('.') || source.starts_with('/') || source.starts_with('~')
    }

    /// The host path a bind mount reads, with `lookup` interpolating the
    /// source and relative paths taken from `dir`, the project folder.
    pub fn host_source(
        &self,
        dir: &Path,
        lookup: &dyn Fn(&str) -> Option<String>,
    ) -> Option<PathBuf> {
        let source = interpolate(self.source.as_deref()?, lookup).ok()?.value;
        (self.kind(Some(&source)) == "bind").then(|| absolute_in(dir, &source))
    }

    /// `type:` as Compose settles it: the long form's, else `bind` for a
    /// host path and `volume` for a name or none (`source` interpolated).
    pub fn kind(&self, source: Option<&str>) -> &str {
        match (self.kind.as_deref(), source) {
            (Some(kind), _) => kind,
            (None, Some(source)) if Mount::is_bind(source) => "bind",
            _ => "volume",
        }
    }
}

/// A container path as Compose keeps it: `/app/` is `/app` (found by the
/// differential test).
fn clean_target(target: &str) -> String {
    match target.trim_end_matches('/') {
        "" if target.starts_with('/') => "/".into(),
        trimmed => trimmed.to_string(),
    }
}

/// `path` taken from `dir` as Compose does: `~` is HOME, `./a/../b` is `b`.
pub fn absolute_in(dir: &Path, path: &str) -> PathBuf {
    let joined = match path.strip_prefix('~') {
        Some(rest) => PathBuf::from(std::env::var("HOME").unwrap_or_default())
            .join(rest.trim_start_matches('/')),
        None => dir.join(path),
    };
    crate::workspace::lexically_normal(&joined)
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

/// A reference Docker accepts: lowercase path components separated by
/// single slashes, none empty, then an optional `:tag` (`@digest`).
/// `docker compose config` passes any string; `up --build` refuses the
/// rest when it tags the image ("invalid reference format").
pub fn valid_image_reference(reference: &str) -> bool {
    let name = reference.split('@').next().unwrap_or("");
    let path = match name.rsplit_once(':') {
        // `host:5000/app` has a port, not a tag.
        Some((path, tag)) if !tag.contains('/') => {
            if tag.is_empty() {
                return false;
            }
            path
        }
        _ => name,
    };
    !path.is_empty()
        && path.split('/').enumerate().all(|(i, part)| {
            !part.is_empty()
                && (i == 0 && part.contains(['.', ':'])
                    || part
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c)))
        })
}

/// Every compose file in `dir`: the default, its overrides, and variants
/// such as `docker-compose.local.yml` or `docker-compose-gitpod.yml`.
pub fn find_all(dir: &Path) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| {
            // Any case: `Docker-compose.yml` is a configuration too, one
            // Compose finds only with -f (file names are case-sensitive).
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or("")
                .to_ascii_lowercase();
            let compose_name = ["docker-compose.", "docker-compose-", "compose.", "compose-"]
                .iter()
                .any(|prefix| name.starts_with(prefix))
                && (name.ends_with(".yml") || name.ends_with(".yaml"));
            compose_name && path.is_file()
        })
        .collect();
    found.sort();
    found
}

/// The configurations a student can run in `dir`, each a list of files
/// merged in order: first the one `docker compose` uses with no `-f`
/// ([`default_configuration`]), then each other compose file on its own, as
/// `-f FILE` runs it.
pub fn configurations(dir: &Path, env: &dyn Fn(&str) -> Option<String>) -> Vec<Vec<PathBuf>> {
    let default = default_configuration(dir, env).unwrap_or_default();
    let is_override = |path: &PathBuf| {
        path.file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| OVERRIDE_NAMES.contains(&n))
    };
    let variants: Vec<Vec<PathBuf>> = find_all(dir)
        .into_iter()
        .filter(|path| !default.contains(path) && !is_override(path))
        .map(|path| vec![path])
        .collect();
    (!default.is_empty())
        .then_some(default)
        .into_iter()
        .chain(variants)
        .collect()
}

/// The profiles `COMPOSE_PROFILES` activates (`env` answers for the shell,
/// then `.env`): comma-separated, blanks dropped.
pub fn active_profiles(env: &dyn Fn(&str) -> Option<String>) -> Vec<String> {
    env("COMPOSE_PROFILES")
        .unwrap_or_default()
        .split(',')
        .map(|p| p.trim().to_string())
        .filter(|p| !p.is_empty())
        .collect()
}

/// The files `docker compose` reads in `dir` with no `-f`: `COMPOSE_FILE`
/// (`env` answers for the shell and `.env`, where Compose reads it), else
/// the first default file name present and the first override present.
pub fn default_configuration(
    dir: &Path,
    env: &dyn Fn(&str) -> Option<String>,
) -> Option<Vec<PathBuf>> {
    if let Some(list) = env("COMPOSE_FILE").filter(|v| !v.is_empty()) {
        let separator = env("COMPOSE_PATH_SEPARATOR").unwrap_or_else(|| ":".into());
        return Some(
            list.split(separator.as_str())
                .filter(|p| !p.is_empty())
                .map(|p| dir.join(p))
                .collect(),
        );
    }
    // Compose takes any name that exists (`os.Stat` succeeds), a FIFO or
    // a folder too: reading it then fails, and that is reported.
    let first = |names: &[&str]| {
        names
            .iter()
            .map(|name| dir.join(name))
            .find(|path| path.exists())
    };
    let main = first(FILE_NAMES)?;
    Some(std::iter::once(main).chain(first(OVERRIDE_NAMES)).collect())
}

impl ComposeFile {
    pub fn load(path: &Path) -> Result<Self> {
        Self::load_set(&[path.to_path_buf()], &[])
    }

    /// The files merged in order, with the `profiles` that are active.
    pub fn load_set(paths: &[PathBuf], profiles: &[String]) -> Result<Self> {
        let texts: Vec<(PathBuf, String)> = paths
            .iter()
            .map(|path| Ok((path.clone(), read_limited(path)?)))
            .collect::<Result<_>>()?;
        Self::parse_set(&texts, profiles)
    }

    pub fn parse(path: &Path, text: &str) -> Result<Self> {
        Self::parse_set(&[(path.to_path_buf(), text.to_string())], &[])
    }

    fn parse_set(texts: &[(PathBuf, String)], profiles: &[String]) -> Result<Self> {
        let (path, first_text) = texts.first().context("no compose file")?;
        let documents = texts
            .iter()
            .map(|(path, text)| merge::read_document(path, text))
            .collect::<Result<Vec<_>>>()?;
        let mut document = merge::merge_documents(documents)
            .with_context(|| format!("{}: merging the compose files", path.display()))?;
        let dir = path.parent().unwrap_or(Path::new("."));
        merge::apply_extends(&mut document, dir)
            .with_context(|| format!("{}: extends", path.display()))?;
        merge::enforce_unicity(&mut document, &mut Vec::new());
        merge::apply_profiles(&mut document, profiles);
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
            lines: YamlLines::index(first_text),
            overlays: texts[1..]
                .iter()
                .map(|(path, text)| (path.clone(), YamlLines::index(text)))
                .collect(),
            generated: Vec::new(),
        })
    }

    /// The file and 1-based line of `services.NAME.FIELD...`, else of the
    /// service: in the last file of the set that has it (the one whose
    /// value Compose keeps).
    pub fn locate(&self, service: &str, field: &[&str]) -> Option<(&Path, usize)> {
        let in_file = |lines: &YamlLines| {
            let mut path = format!("services.{service}");
            let mut best = lines.line(&path);
            for part in field {
                path.push('.');
                path.push_str(part);
                if let Some(line) = lines.line(&path) {
                    best = Some(line);
                }
            }
            best
        };
        let deepest = |lines: &YamlLines| {
            let path = std::iter::once(format!("services.{service}"))
                .chain(field.iter().map(|f| f.to_string()))
                .collect::<Vec<_>>()
                .join(".");
            lines.line(&path).is_some()
        };
        self.overlays
            .iter()
            .rev()
            .find(|(_, lines)| deepest(lines))
            .and_then(|(path, lines)| Some((path.as_path(), in_file(lines)?)))
            .or_else(|| Some((self.path.as_path(), in_file(&self.lines)?)))
    }

    /// The 1-based line of `services.NAME.FIELD...`, else of the service.
    pub fn line(&self, service: &str, field: &[&str]) -> Option<usize> {
        self.locate(service, field).map(|(_, line)| line)
    }

    /// `file:line` for a finding about `services.NAME.FIELD...`.
    pub fn place(&self, service: &str, field: &[&str]) -> String {
        match self.locate(service, field) {
            Some((path, line)) => format!("{}:{line}", path.display()),
            None => self.path.display().to_string(),
        }
    }

    pub fn dir(&self) -> &Path {
        self.path.parent().unwrap_or(Path::new("."))
    }

    pub fn service(&self, name: &str) -> Option<&Service> {
        self.services.iter().find(|s| s.name == name)
    }

    /// The service that the name `host` reaches from the container of
    /// `from`: a service name, `container_name`, `hostname` or network
    /// alias (names are not case-sensitive), or an alias in `from`'s own
    /// `links:` (`db:database`).
    pub fn reached_from(&self, from: Option<&str>, host: &str) -> Option<&Service> {
        let host = host.to_ascii_lowercase();
        let linked = from
            .and_then(|f| self.service(f))
            .into_iter()
            .flat_map(|s| s.links.iter())
            .find_map(|link| {
                let (service, alias) = link.split_once(':').unwrap_or((link, link));
                (alias.eq_ignore_ascii_case(&host)).then_some(service)
            });
        if let Some(service) = linked.and_then(|name| self.service(name)) {
            return Some(service);
        }
        self.services
            .iter()
            .find(|s| s.names().any(|n| n.eq_ignore_ascii_case(&host)))
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
                let text = match read_limited(&path) {
                    Ok(text) => text,
                    Err(e) => {
                        let (text, refused) =
                            self.env_file_missing(service, file, &path, *required, e, lookup)?;
                        // Compose will not start; every other setting is
                        // still read, the file taken as empty.
                        resolved.errors.extend(refused);
                        match text {
                            Some(text) => text,
                            None => continue,
                        }
                    }
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
    /// An env_file that is absent: the text to read in its place (the
    /// template the workspace renders it from at start, else nothing), and
    /// why Compose will not start with it, if it will not. Absent with no
    /// template, its settings are unknown: Compose refuses the project,
    /// and nothing that would follow from them is guessed.
    fn env_file_missing(
        &self,
        service: &Service,
        file: &str,
        path: &Path,
        required: bool,
        error: anyhow::Error,
        lookup: &dyn Fn(&str) -> Option<String>,
    ) -> Result<(Option<String>, Option<String>)> {
        let named = format!(
            "{}: service {:?} names env_file {file:?}",
            self.path.display(),
            service.name
        );
        let generated = crate::workspace::generated::making(&self.generated, path);
        match generated
            .as_ref()
            .and_then(|g| Some((g, g.render(lookup)?)))
        {
            // Read from the template even when the task cannot make it:
            // the rest of the configuration is checked as meant.
            Some((g, text)) => {
                let broken = g.problem.as_ref().map(|problem| {
                    format!(
                        "{named}, which {} (run at {}) should generate, but {problem}",
                        g.script, g.run_at
                    )
                });
                Ok((Some(text), broken))
            }
            None if !required => Ok((None, None)),
            None => bail!("{named}, which cannot be read ({error})"),
        }
    }

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

/// A compose or env file's text, through the model's one careful reader.
pub(crate) fn read_limited(path: &Path) -> Result<String> {
    super::read::text(path)
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
            Some(Value::Sequence(items)) => items.iter().filter_map(Mount::parse).collect(),
            _ => Vec::new(),
        };
        let aliases = match body.get("networks") {
            Some(Value::Mapping(map)) => map
                .iter()
                .filter_map(|(network, settings)| {
                    let names = settings.get("aliases")?.as_sequence()?;
                    Some((scalar(network)?, names.iter().filter_map(scalar).collect()))
                })
                .collect(),
            _ => Vec::new(),
        };
        let list = |key: &str| -> Vec<String> {
            match body.get(key) {
                Some(Value::Sequence(items)) => items.iter().filter_map(scalar).collect(),
                Some(Value::Mapping(map)) => map
                    .iter()
                    .filter_map(|(k, v)| Some(format!("{}={}", scalar(k)?, scalar(v)?)))
                    .collect(),
                _ => Vec::new(),
            }
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
            container_name: body.get("container_name").and_then(scalar),
            hostname: body.get("hostname").and_then(scalar),
            aliases,
            links: list("links"),
            extra_hosts: list("extra_hosts"),
        })
    }

    /// Every name that reaches this container on a network it shares:
    /// the service's name, `container_name`, `hostname`, network aliases.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.name.as_str())
            .chain(self.container_name.as_deref())
            .chain(self.hostname.as_deref())
            .chain(
                self.aliases
                    .iter()
                    .flat_map(|(_, names)| names.iter().map(String::as_str)),
            )
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

/// A YAML scalar as Compose turns it into an environment string.
pub fn scalar(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// The Compose v2 command on PATH, if any: `docker-compose`, or `docker
/// compose`. Looked for once a process: asking `docker compose version`
/// costs a Docker CLI start, and `tracelab class` reads hundreds of
/// repositories.
pub fn find_compose() -> Option<Vec<String>> {
    static FOUND: std::sync::OnceLock<Option<Vec<String>>> = std::sync::OnceLock::new();
    FOUND.get_or_init(look_for_compose).clone()
}

/// The Docker CLI on PATH, looked for once a process: Compose's probe and
/// the running container's reader both ask.
pub fn docker_cli() -> Option<&'static Path> {
    static FOUND: std::sync::OnceLock<Option<PathBuf>> = std::sync::OnceLock::new();
    FOUND.get_or_init(|| which::which("docker").ok()).as_deref()
}

fn look_for_compose() -> Option<Vec<String>> {
    if let Ok(path) = which::which("docker-compose") {
        return Some(vec![path.display().to_string()]);
    }
    let docker = docker_cli()?;
    let probe = run_with_timeout(
        std::process::Command::new(docker).args(["compose", "version"]),
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
    command.args(&compose[1..]);
    for path in std::iter::once(&file.path).chain(file.overlays.iter().map(|(p, _)| p)) {
        command.arg("-f").arg(path);
    }
    command
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
