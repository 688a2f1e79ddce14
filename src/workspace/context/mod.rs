//! Everything the checks look at, read once: the workspace (compose file,
//! backend service, backends in use, app code) and every layer's variables.

mod backends;
mod load;

pub use load::{Spare, backend_environment};

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::collector::CollectorService;
use super::committed::CommittedSecret;
use super::compose::{ComposeFile, Environment, Resolved};
use super::frontend::TracingFile;
use super::layers::Layer;
use super::layers::{DotEnv, Source, Vars};
use super::python::{Call, PyFile};
use super::xray::SamplingRule;
use super::yaml_lines::YamlLines;
use crate::backend::Backend;
use crate::vars::{NeededVar, needed_for};

/// Which resolver turned the compose file into environments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolver {
    Builtin,
    Compose(String),
}

pub struct ComposeLayer {
    pub file: ComposeFile,
    /// The service running the Flask app.
    pub backend: Option<String>,
    /// None when interpolation failed; the error says why.
    pub resolved: Option<Resolved>,
    pub error: Option<String>,
    pub resolver: Resolver,
}

pub struct SourceFile {
    pub path: PathBuf,
    pub text: String,
}

/// A compose file Compose would refuse to read at all (not YAML, leftover
/// merge-conflict markers, unreadable): its configuration has no known
/// environment, and everything that does not need it is still checked.
#[derive(Debug, Clone)]
pub struct BrokenCompose {
    pub path: PathBuf,
    /// The first line of a `<<<<<<<` conflict marker, when that is the cause.
    pub conflict_line: Option<usize>,
    pub error: String,
}

pub struct Context {
    pub dir: PathBuf,
    pub shell: Vars,
    pub dotenv: Option<DotEnv>,
    pub gitpod: Source<Vars>,
    pub compose: Option<ComposeLayer>,
    /// Set instead of `compose` when this configuration's file cannot be read.
    pub broken_compose: Option<BrokenCompose>,
    pub container: Source<Vars>,
    pub container_logs: Option<String>,
    pub backends: Vec<Backend>,
    pub app_py: Option<SourceFile>,
    pub requirements: Option<SourceFile>,
    /// `requirements`' pins, read once: several checks ask.
    pub pins: std::sync::OnceLock<Vec<(String, Option<String>)>>,
    /// Files there that cannot be read (`requirements.txt` a FIFO), each
    /// with why: reported, where a missing file would be a quiet None.
    pub unreadable: Vec<String>,
    /// The backend's folder (the backend service's build context).
    pub backend_dir: PathBuf,
    /// app.py first, then every module of the backend it imports; shared
    /// by the configurations that build the same backend folder.
    pub code: std::sync::Arc<Vec<PyFile>>,
    pub collectors: Vec<CollectorService>,
    pub sampling_rules: Vec<SamplingRule>,
    /// Secrets written into committed files, anywhere in the repository.
    pub secrets: Vec<CommittedSecret>,
    pub frontend: Vec<TracingFile>,
    pub gitpod_file: Option<GitpodFile>,
    /// The configuration Compose uses by default (and the one running).
    pub primary: bool,
    /// The backend runs under `opentelemetry-instrument`: the SDK is set up
    /// from the environment before the app's code is imported.
    pub auto_instrumented: bool,
    /// The shell is a stand-in (`Options::repository_only`): its values
    /// say nothing about where the student works.
    pub shell_is_stand_in: bool,
}

/// `.gitpod.yml`'s ports: what the browser can reach from outside.
#[derive(Debug, Clone)]
pub struct GitpodFile {
    pub path: PathBuf,
    /// (port, visibility, its entry's index in `ports:`)
    pub ports: Vec<(u16, Option<String>, usize)>,
    /// Where its keys are, indexed when a finding first asks.
    lines: YamlLines,
    /// The files its tasks generate at start.
    pub generated: Vec<crate::workspace::generated::GeneratedFile>,
}

impl GitpodFile {
    fn read(dir: &Path) -> Option<Self> {
        let path = dir.join(".gitpod.yml");
        let text = super::read::text(&path).ok()?;
        let doc: serde_yaml::Value = serde_yaml::from_str(&text).ok()?;
        let generated = crate::workspace::generated::find(dir, &text, &doc);
        let ports = match doc.get("ports") {
            Some(serde_yaml::Value::Sequence(items)) => items
                .iter()
                .enumerate()
                .filter_map(|(i, item)| {
                    let port = item.get("port")?.as_u64()?;
                    let visibility = item
                        .get("visibility")
                        .and_then(|v| v.as_str())
                        .map(str::to_string);
                    Some((u16::try_from(port).ok()?, visibility, i))
                })
                .collect(),
            _ => Vec::new(),
        };
        Some(GitpodFile {
            path,
            ports,
            lines: YamlLines::index(&text),
            generated,
        })
    }

    /// The line of the `index`th entry of `ports:`.
    pub fn port_line(&self, index: usize) -> Option<usize> {
        self.lines.line(&format!("ports.{index}"))
    }
}

/// What to read: the full doctor reads every layer; the quick check after
/// `tracelab new` skips the slow external ones.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    pub external_layers: bool,
    pub use_compose_binary: bool,
    /// The repository judged alone (CI, pre-commit, `tracelab class`): the
    /// shell given is a stand-in where every secret is set and well formed,
    /// so nothing is compared with the student's own values.
    pub repository_only: bool,
}

impl Context {
    /// True when the student works in Gitpod: fixes then persist with `gp env`.
    pub fn in_gitpod(&self) -> bool {
        self.gitpod.get().is_some() || self.shell.contains_key("GITPOD_WORKSPACE_ID")
    }

    /// Every live call in the backend's code, with the file it is in.
    /// A call on a name nothing binds (`xray_recorder.begin_subsegment()`
    /// with its import commented out) raises NameError and does nothing
    /// else: it is not live.
    pub fn live_calls(&self) -> impl Iterator<Item = (&PyFile, &Call)> {
        self.code.iter().flat_map(|file| {
            let unbound = file.facts.unbound_names();
            file.facts
                .calls
                .iter()
                .filter(move |call| !unbound.called_by(call))
                .map(move |call| (file, call))
        })
    }

    /// The first live call to `method` in the backend's code.
    pub fn live_call(&self, method: &str) -> Option<(&PyFile, &Call)> {
        self.live_calls().find(|(_, c)| c.method() == method)
    }

    /// The region the student works in: AWS_DEFAULT_REGION or AWS_REGION from
    /// the shell, `.env` or Gitpod.
    pub fn student_region(&self) -> Option<(String, &'static str)> {
        if self.shell_is_stand_in {
            return None;
        }
        ["AWS_DEFAULT_REGION", "AWS_REGION"]
            .into_iter()
            .find_map(|name| {
                self.feeding(name)
                    .map(|(_, v)| v.to_string())
                    .or_else(|| self.gitpod_value(name).map(str::to_string))
                    .filter(|v| !v.is_empty())
                    .map(|v| (v, name))
            })
    }

    /// The variables the workspace needs from the student.
    /// Per service, not per backend: a variable is needed when the backend
    /// itself reads it (boto3, Rollbar), or when a compose service
    /// interpolates it (the daemon's credentials, the key in the headers).
    pub fn needed(&self) -> Vec<NeededVar> {
        let all = needed_for(&self.backends);
        let Some(compose) = &self.compose else {
            return all;
        };
        // Every name a service interpolates; a near miss counts as the name
        // meant (`${API_HONEYCOMB_KEY}` needs HONEYCOMB_API_KEY, misspelt).
        let names: Vec<String> = compose
            .file
            .services
            .iter()
            .flat_map(|s| s.environment.iter())
            .flat_map(|(k, v)| match v {
                None => vec![k.clone()],
                Some(raw) => super::interpolate::referenced(raw),
            })
            .collect();
        let referenced = |name: &str| {
            names
                .iter()
                .any(|n| n == name || crate::rules::names::is_near_miss(n, name))
        };
        // The hop that reaches Honeycomb needs the key: a backend that sends
        // the headers variable itself, whatever that variable holds.
        let sends_headers = self
            .backend_service()
            .and_then(|s| compose.file.service(s))
            .is_some_and(|s| {
                s.environment
                    .iter()
                    .any(|(k, _)| k.starts_with("OTEL_EXPORTER_OTLP") && k.ends_with("HEADERS"))
            });
        all.into_iter()
            .filter(|v| {
                crate::vars::backend_reads(v.name, &self.backends)
                    || referenced(v.name)
                    || (v.name == "HONEYCOMB_API_KEY" && sends_headers)
            })
            .collect()
    }

    pub fn uses(&self, backend: Backend) -> bool {
        self.backends.contains(&backend)
    }

    /// The value Compose interpolates for `name`: the shell's, else `.env`'s.
    /// The value Compose interpolates for `name` (shell, then .env), None
    /// when it is unset or empty: what a `${NAME}` lookup asks.
    pub fn interpolated(&self, name: &str) -> Option<String> {
        self.feeding(name)
            .map(|(_, v)| v.to_string())
            .filter(|v| !v.is_empty())
    }

    pub fn feeding(&self, name: &str) -> Option<(Layer, &str)> {
        if let Some(value) = self.shell.get(name) {
            return Some((Layer::Shell, value));
        }
        self.dotenv_value(name).map(|v| (Layer::DotEnv, v))
    }

    /// Each distribution requirements.txt lists, by normalised name (pip's
    /// `Flask_Cors` is `flask-cors`), with the version it pins with `==`
    /// (None: unpinned, pip installs the latest).
    pub fn requirement_pins(&self) -> &[(String, Option<String>)] {
        self.pins.get_or_init(|| match &self.requirements {
            Some(requirements) => read_pins(&requirements.text),
            None => Vec::new(),
        })
    }

    /// The version requirements.txt pins `distribution` to with `==`.
    pub fn pinned_version(&self, distribution: &str) -> Option<String> {
        self.requirement_pins()
            .iter()
            .find(|(name, _)| name == distribution)
            .and_then(|(_, pin)| pin.clone())
    }

    pub fn dotenv_value(&self, name: &str) -> Option<&str> {
        self.dotenv.as_ref()?.get(name).map(|e| e.value.as_str())
    }

    pub fn gitpod_value(&self, name: &str) -> Option<&str> {
        self.gitpod.get()?.get(name).map(String::as_str)
    }

    /// The app's environment as the compose file gives it, or the shell's
    /// when there is no compose file (the app then runs in this shell).
    /// A copy: `app_layer` and `app_var` answer without one.
    pub fn app_env(&self) -> Option<(Layer, BTreeMap<String, Option<String>>)> {
        match self.app_layer()? {
            Layer::Compose => Some((Layer::Compose, self.backend_env()?.clone())),
            layer => Some((
                layer,
                self.shell
                    .iter()
                    .map(|(k, v)| (k.clone(), Some(v.clone())))
                    .collect(),
            )),
        }
    }

    /// Where the app's environment comes from: the compose file, or the
    /// shell when there is none; none when Compose starts nothing.
    pub fn app_layer(&self) -> Option<Layer> {
        if self.broken_compose.is_some() {
            // Compose starts nothing: there is no environment to judge.
            return None;
        }
        match &self.compose {
            Some(_) => self.backend_env().map(|_| Layer::Compose),
            None => Some(Layer::Shell),
        }
    }

    /// The backend service's environment, as Compose resolves it.
    fn backend_env(&self) -> Option<&Environment> {
        let compose = self.compose.as_ref()?;
        self.service_env(compose.backend.as_ref()?)
    }

    /// One variable of the app's environment, if set.
    pub fn app_var(&self, name: &str) -> Option<(Layer, String)> {
        let layer = self.app_layer()?;
        let value = match layer {
            Layer::Compose => self.backend_env()?.get(name)?.clone()?,
            _ => self.shell.get(name)?.clone(),
        };
        Some((layer, value))
    }

    pub fn service_env(&self, service: &str) -> Option<&Environment> {
        self.compose
            .as_ref()?
            .resolved
            .as_ref()?
            .services
            .get(service)
    }

    /// The backend's `environment:` entry for `key` as written (before
    /// interpolation): `${HONEYCOMB_SERVICE_NAME}`.
    pub fn backend_raw(&self, key: &str) -> Option<&str> {
        let compose = self.compose.as_ref()?;
        let service = compose.file.service(self.backend_service()?)?;
        service
            .environment
            .iter()
            .find(|(k, _)| k == key)?
            .1
            .as_deref()
    }

    pub fn backend_service(&self) -> Option<&str> {
        self.compose.as_ref()?.backend.as_deref()
    }

    /// The backend's name for a message or a fix: its compose service, else
    /// the name tracelab gives it.
    pub fn backend_name(&self) -> &str {
        self.backend_service()
            .unwrap_or(crate::answers::DEFAULT_SERVICE_NAME)
    }
}

/// `name==version` lines of a requirements file (pip's normalised name).
fn read_pins(text: &str) -> Vec<(String, Option<String>)> {
    text.lines()
        .filter_map(|line| {
            let line = line.split('#').next()?.trim();
            if line.is_empty() || line.starts_with('-') {
                return None;
            }
            let name_end = line
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.'))
                .unwrap_or(line.len());
            let name = line[..name_end]
                .to_ascii_lowercase()
                .replace(['_', '.'], "-");
            let pin = line[name_end..]
                .trim()
                .strip_prefix("==")
                .map(|v| v.trim().to_string());
            Some((name, pin))
        })
        .collect()
}
