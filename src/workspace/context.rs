//! Everything the checks look at, read once: the workspace (compose file,
//! backend service, backends in use, app code) and every layer's variables.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};

use super::collector::{self, CollectorService};
use super::committed::{self, CommittedSecret};
use super::compose::{self, ComposeFile, Environment, Resolved, Service};
use super::frontend::{self, TracingFile};
use super::layers::Layer;
use super::layers::{self, DotEnv, Source, Vars};
use super::python::{Call, PyFile, Value};
use super::xray::{self, SamplingRule};
use super::yaml_lines::YamlLines;
use crate::answers::AnswersFile;
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
    /// The backend's folder (the backend service's build context).
    pub backend_dir: PathBuf,
    /// app.py first, then every module of the backend it imports.
    pub code: Vec<PyFile>,
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
}

/// `.gitpod.yml`'s ports: what the browser can reach from outside.
#[derive(Debug, Clone)]
pub struct GitpodFile {
    pub path: PathBuf,
    /// (port, visibility, line)
    pub ports: Vec<(u16, Option<String>, Option<usize>)>,
    pub lines: YamlLines,
}

impl GitpodFile {
    fn read(dir: &Path) -> Option<Self> {
        let path = dir.join(".gitpod.yml");
        let text = std::fs::read_to_string(&path).ok()?;
        let doc: serde_yaml::Value = serde_yaml::from_str(&text).ok()?;
        let lines = YamlLines::index(&text);
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
                    Some((
                        u16::try_from(port).ok()?,
                        visibility,
                        lines.line(&format!("ports.{i}")),
                    ))
                })
                .collect(),
            _ => Vec::new(),
        };
        Some(GitpodFile { path, ports, lines })
    }
}

/// What to read: the full doctor reads every layer; the quick check after
/// `tracelab new` skips the slow external ones.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    pub external_layers: bool,
    pub use_compose_binary: bool,
}

impl Context {
    /// The workspace's main configuration (the compose file Compose picks).
    pub fn load(dir: &Path, shell: Vars, options: Options) -> Result<Self> {
        Ok(Self::load_all(dir, shell, options)?.remove(0))
    }

    /// One context per compose configuration (`docker-compose.yml`, then
    /// variants such as `docker-compose.local.yml`), each checked on its own;
    /// one with no compose file when there is none. What does not depend on
    /// the configuration is read once.
    pub fn load_all(dir: &Path, shell: Vars, options: Options) -> Result<Vec<Self>> {
        let dotenv = layers::read_dotenv(dir, &shell)?;
        // Compose reads COMPOSE_FILE and COMPOSE_PROFILES from the shell, then `.env`.
        let compose_env = |name: &str| {
            shell
                .get(name)
                .cloned()
                .or_else(|| dotenv.as_ref()?.get(name).map(|e| e.value.clone()))
        };
        let compose_sets = compose::configurations(dir, &compose_env);
        let profiles: Vec<String> = compose_env("COMPOSE_PROFILES")
            .unwrap_or_default()
            .split(',')
            .map(|p| p.trim().to_string())
            .filter(|p| !p.is_empty())
            .collect();
        // Looking for Compose may start `docker compose version`: only when needed.
        let wants_compose =
            !compose_sets.is_empty() && (options.external_layers || options.use_compose_binary);
        let compose_bin = if wants_compose {
            compose::find_compose()
        } else {
            None
        };
        let resolver_bin = compose_bin
            .as_deref()
            .filter(|_| options.use_compose_binary);
        let configs: Vec<Result<ComposeLayer, BrokenCompose>> = compose_sets
            .iter()
            .map(|paths| load_compose(paths, &profiles, &shell, dotenv.as_ref(), resolver_bin))
            .collect();
        let configs: Vec<(Option<ComposeLayer>, Option<BrokenCompose>)> = if configs.is_empty() {
            vec![(None, None)]
        } else {
            configs
                .into_iter()
                .map(|c| match c {
                    Ok(layer) => (Some(layer), None),
                    Err(broken) => (None, Some(broken)),
                })
                .collect()
        };
        let (gitpod, container, container_logs) = if options.external_layers {
            let backend = configs[0]
                .0
                .as_ref()
                .and_then(|c| Some((c.file.path.clone(), c.backend.clone()?)));
            read_external(compose_bin.as_deref(), backend)
        } else {
            let skipped = || Source::Unavailable("not read by the quick check".into());
            (skipped(), skipped(), None)
        };
        let committed = committed::list(dir);
        let secrets = committed::secrets(dir, &committed);
        let gitpod_file = GitpodFile::read(dir);
        let mut contexts = Vec::new();
        for (index, (compose, broken_compose)) in configs.into_iter().enumerate() {
            let backend_dir = compose
                .as_ref()
                .and_then(|c| backend_source_dir(c, dir))
                .unwrap_or_else(|| dir.join("backend-flask"));
            let frontend_dir = compose
                .as_ref()
                .and_then(|c| frontend_service(&c.file))
                .and_then(|s| s.build_context.as_deref().map(|b| source_dir(dir, b)))
                .unwrap_or_else(|| dir.join("frontend-react-js"));
            let primary = index == 0;
            let mut ctx = Context {
                dir: dir.to_path_buf(),
                shell: shell.clone(),
                dotenv: dotenv.as_ref().map(|d| DotEnv {
                    path: d.path.clone(),
                    entries: d.entries.clone(),
                }),
                gitpod: gitpod.clone(),
                collectors: compose
                    .as_ref()
                    .map(|c| collector::find(&c.file))
                    .unwrap_or_default(),
                compose,
                broken_compose,
                container: if primary {
                    container.clone()
                } else {
                    Source::Unavailable("Compose runs the default file".into())
                },
                container_logs: container_logs.clone().filter(|_| primary),
                backends: Vec::new(),
                app_py: read_source(&backend_dir.join("app.py")),
                requirements: read_source(&backend_dir.join("requirements.txt")),
                code: read_code(&backend_dir),
                sampling_rules: xray::sampling_rules(dir, &backend_dir),
                secrets: secrets.clone(),
                frontend: frontend::tracing_files(&frontend_dir),
                gitpod_file: gitpod_file.clone(),
                auto_instrumented: false,
                backend_dir,
                primary,
            };
            ctx.auto_instrumented = runs_under_auto_instrumentation(&ctx);
            ctx.backends = infer_backends(&ctx);
            contexts.push(ctx);
        }
        Ok(contexts)
    }

    /// True when the student works in Gitpod: fixes then persist with `gp env`.
    pub fn in_gitpod(&self) -> bool {
        self.gitpod.get().is_some() || self.shell.contains_key("GITPOD_WORKSPACE_ID")
    }

    /// Every live call in the backend's code, with the file it is in.
    pub fn live_calls(&self) -> impl Iterator<Item = (&PyFile, &Call)> {
        self.code
            .iter()
            .flat_map(|file| file.facts.calls.iter().map(move |call| (file, call)))
    }

    /// The first live call to `method` in the backend's code.
    pub fn live_call(&self, method: &str) -> Option<(&PyFile, &Call)> {
        self.live_calls().find(|(_, c)| c.method() == method)
    }

    /// The region the student works in: AWS_DEFAULT_REGION or AWS_REGION from
    /// the shell, `.env` or Gitpod.
    pub fn student_region(&self) -> Option<(String, &'static str)> {
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
    pub fn feeding(&self, name: &str) -> Option<(Layer, &str)> {
        if let Some(value) = self.shell.get(name) {
            return Some((Layer::Shell, value));
        }
        self.dotenv_value(name).map(|v| (Layer::DotEnv, v))
    }

    pub fn dotenv_value(&self, name: &str) -> Option<&str> {
        self.dotenv.as_ref()?.get(name).map(|e| e.value.as_str())
    }

    pub fn gitpod_value(&self, name: &str) -> Option<&str> {
        self.gitpod.get()?.get(name).map(String::as_str)
    }

    /// The app's environment as the compose file gives it, or the shell's
    /// when there is no compose file (the app then runs in this shell).
    pub fn app_env(&self) -> Option<(Layer, BTreeMap<String, Option<String>>)> {
        if self.broken_compose.is_some() {
            // Compose starts nothing: there is no environment to judge.
            return None;
        }
        match &self.compose {
            Some(compose) => {
                let env = compose
                    .resolved
                    .as_ref()?
                    .services
                    .get(compose.backend.as_ref()?)?;
                Some((Layer::Compose, env.clone()))
            }
            None => Some((
                Layer::Shell,
                self.shell
                    .iter()
                    .map(|(k, v)| (k.clone(), Some(v.clone())))
                    .collect(),
            )),
        }
    }

    /// One variable of the app's environment, if set.
    pub fn app_var(&self, name: &str) -> Option<(Layer, String)> {
        let (layer, env) = self.app_env()?;
        env.get(name).cloned().flatten().map(|v| (layer, v))
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
}

type External = (Source<Vars>, Source<Vars>, Option<String>);

/// Gitpod's variables and the running container, read at the same time.
fn read_external(compose_bin: Option<&[String]>, backend: Option<(PathBuf, String)>) -> External {
    std::thread::scope(|scope| {
        let gitpod = scope.spawn(layers::read_gitpod);
        let container = scope.spawn(|| match &backend {
            Some((path, service)) => {
                let env = layers::read_container(compose_bin, path, service);
                let logs = match (&env, compose_bin) {
                    (Source::Read(_), Some(bin)) => layers::read_container_logs(bin, path, service),
                    _ => None,
                };
                (env, logs)
            }
            None => (
                Source::Unavailable("no compose service runs the backend".into()),
                None,
            ),
        });
        let gitpod = gitpod
            .join()
            .unwrap_or_else(|_| Source::Unavailable("gp env failed".into()));
        let (container, logs) = container
            .join()
            .unwrap_or_else(|_| (Source::Unavailable("docker failed".into()), None));
        (gitpod, container, logs)
    })
}

/// `opentelemetry-instrument` in the backend's compose `command:` or
/// `entrypoint:`, or in its Dockerfile's CMD or ENTRYPOINT.
fn runs_under_auto_instrumentation(ctx: &Context) -> bool {
    const WRAPPER: &str = "opentelemetry-instrument";
    let in_compose = ctx
        .backend_service()
        .and_then(|name| ctx.compose.as_ref()?.file.service(name))
        .is_some_and(|service| {
            [&service.command, &service.entrypoint]
                .into_iter()
                .flatten()
                .any(|c| c.args().iter().any(|a| a.ends_with(WRAPPER)))
        });
    let in_dockerfile = || {
        super::read::text(&ctx.backend_dir.join("Dockerfile")).is_ok_and(|text| {
            text.lines().any(|line| {
                let line = line.trim_start().to_ascii_uppercase();
                (line.starts_with("CMD") || line.starts_with("ENTRYPOINT"))
                    && line.contains(&WRAPPER.to_ascii_uppercase())
            })
        })
    };
    in_compose || in_dockerfile()
}

/// app.py and the backend modules it imports, transitively (at most 200).
fn read_code(backend_dir: &Path) -> Vec<PyFile> {
    let mut files: Vec<PyFile> = Vec::new();
    let mut queue = vec![backend_dir.join("app.py")];
    while let Some(path) = queue.pop() {
        if files.len() >= 200 || files.iter().any(|f| f.path == path) {
            continue;
        }
        let Some(file) = PyFile::read(&path) else {
            continue;
        };
        for module in &file.facts.imports {
            let module = module.trim_start_matches('.');
            // `a.b.c` may be the module a/b/c.py, or the name c in a/b.py.
            let parts: Vec<&str> = module.split('.').filter(|p| !p.is_empty()).collect();
            for len in (1..=parts.len()).rev() {
                let rel = parts[..len].join("/");
                let candidates = [
                    backend_dir.join(format!("{rel}.py")),
                    backend_dir.join(&rel).join("__init__.py"),
                ];
                if let Some(found) = candidates.into_iter().find(|c| c.is_file()) {
                    queue.push(found);
                    break;
                }
            }
        }
        files.push(file);
    }
    files
}

fn frontend_service(file: &ComposeFile) -> Option<&Service> {
    file.services
        .iter()
        .find(|s| s.name.starts_with("frontend") && s.build_context.is_some())
}

fn read_source(path: &Path) -> Option<SourceFile> {
    let text = std::fs::read_to_string(path).ok()?;
    Some(SourceFile {
        path: path.to_path_buf(),
        text,
    })
}

fn load_compose(
    paths: &[PathBuf],
    profiles: &[String],
    shell: &Vars,
    dotenv: Option<&DotEnv>,
    compose_bin: Option<&[String]>,
) -> Result<ComposeLayer, BrokenCompose> {
    let file = ComposeFile::load_set(paths, profiles).map_err(|error| {
        // Leftover merge markers, in whichever file of the set has them.
        let conflict = paths.iter().find_map(|path| {
            let text = std::fs::read_to_string(path).ok()?;
            let line = text.lines().position(|l| l.starts_with("<<<<<<<"))? + 1;
            Some((path.clone(), line))
        });
        BrokenCompose {
            path: conflict
                .as_ref()
                .map(|(p, _)| p.clone())
                .unwrap_or_else(|| paths[0].clone()),
            conflict_line: conflict.map(|(_, line)| line),
            error: format!("{error:#}"),
        }
    })?;
    let path = &paths[0];
    let backend = find_backend_service(&file, path.parent().unwrap_or(Path::new(".")));
    let builtin = || {
        let lookup = |name: &str| {
            shell
                .get(name)
                .cloned()
                .or_else(|| dotenv.and_then(|d| d.get(name)).map(|e| e.value.clone()))
        };
        file.resolve(&lookup)
    };
    let (result, resolver) = match compose_bin {
        Some(bin) => (
            compose::resolve_with_compose(bin, &file).context("asking Compose to resolve the file"),
            Resolver::Compose(bin.join(" ")),
        ),
        None => (builtin(), Resolver::Builtin),
    };
    let (resolved, error) = match result {
        Ok(resolved) => {
            let error = (!resolved.errors.is_empty()).then(|| resolved.errors.join("; "));
            (Some(resolved), error)
        }
        // Compose refuses the whole project for one undefined network; the
        // environments are still worth checking, so resolve them ourselves.
        Err(e) => (builtin().ok(), Some(format!("{e:#}"))),
    };
    Ok(ComposeLayer {
        file,
        backend,
        resolved,
        error,
        resolver,
    })
}

/// The backend is the service that sets OTEL_* variables, else the one built
/// from a directory with an app.py, else one whose name starts with "backend".
fn find_backend_service(file: &ComposeFile, dir: &Path) -> Option<String> {
    let sets_otel = file.services.iter().find(|s| {
        s.environment
            .iter()
            .any(|(k, _)| k.trim().starts_with("OTEL_"))
    });
    let builds_flask = || {
        file.services.iter().find(|s| {
            s.build_context
                .as_ref()
                .is_some_and(|ctx| source_dir(dir, ctx).join("app.py").is_file())
        })
    };
    let named = || file.services.iter().find(|s| s.name.starts_with("backend"));
    sets_otel
        .or_else(builds_flask)
        .or_else(named)
        .map(|s| s.name.clone())
}

fn backend_source_dir(compose: &ComposeLayer, dir: &Path) -> Option<PathBuf> {
    let service = compose.file.service(compose.backend.as_ref()?)?;
    Some(source_dir(dir, service.build_context.as_ref()?))
}

/// A service's build context as a directory (`./backend-flask` read as `backend-flask`).
fn source_dir(dir: &Path, build_context: &str) -> PathBuf {
    dir.join(build_context.trim_start_matches("./"))
}

/// `.tracelab.yml` says which backends are used; otherwise they are read off
/// the compose file, requirements.txt and app.py.
fn infer_backends(ctx: &Context) -> Vec<Backend> {
    if let Some(backends) = recorded_backends(&ctx.dir) {
        return backends;
    }
    if ctx.code.iter().any(|f| f.syntax_error.is_none()) {
        return code_backends(ctx);
    }
    env_backends(ctx)
}

/// Backends the live code sets up: an exporter, the X-Ray recorder, a
/// watchtower handler, `rollbar.init`. What requirements.txt lists, or code
/// that is commented out, does not count.
fn code_backends(ctx: &Context) -> Vec<Backend> {
    let calls: Vec<&Call> = ctx.live_calls().map(|(_, c)| c).collect();
    let called = |method: &str| calls.iter().any(|c| c.method() == method);
    let mut backends = Vec::new();
    let exports = called("OTLPSpanExporter") || called("TracerProvider") || ctx.auto_instrumented;
    if exports {
        let env_text: String = ctx
            .app_env()
            .map(|(_, env)| {
                env.iter()
                    .filter(|(k, _)| k.starts_with("OTEL_") || k.contains("HONEYCOMB"))
                    .map(|(k, v)| format!("{k}={} ", v.clone().unwrap_or_default()))
                    .collect()
            })
            .unwrap_or_default();
        // OTLPSpanExporter(endpoint="https://api.honeycomb.io...",
        // headers={"x-honeycomb-team": ...}) names Honeycomb itself.
        let names_honeycomb = |text: &str| text.to_ascii_lowercase().contains("honeycomb");
        let in_code = calls.iter().any(|c| {
            c.method() == "OTLPSpanExporter"
                && (matches!(c.keyword("endpoint"), Some(Value::Str(url)) if names_honeycomb(url))
                    || matches!(c.keyword("headers"), Some(Value::Dict(items))
                        if items.iter().any(|(key, _)| key.as_deref().is_some_and(names_honeycomb))))
        });
        if in_code || env_text.to_ascii_lowercase().contains("honeycomb") {
            backends.push(Backend::Honeycomb);
        } else {
            backends.push(Backend::Local);
        }
    }
    if calls
        .iter()
        .any(|c| c.name.starts_with("xray_recorder.") || c.method() == "XRayMiddleware")
    {
        backends.push(Backend::Xray);
    }
    if called("CloudWatchLogHandler") {
        backends.push(Backend::Cloudwatch);
    }
    if calls.iter().any(|c| c.name == "rollbar.init") {
        backends.push(Backend::Rollbar);
    }
    backends.sort();
    backends
}

/// Without readable code, the backends are read off the compose file,
/// requirements.txt and the shell.
fn env_backends(ctx: &Context) -> Vec<Backend> {
    let code = format!(
        "{}\n{}",
        ctx.requirements
            .as_ref()
            .map(|f| f.text.as_str())
            .unwrap_or(""),
        ctx.app_py.as_ref().map(|f| f.text.as_str()).unwrap_or("")
    )
    .to_ascii_lowercase();
    let compose = ctx.compose.as_ref();
    let raw_env: Vec<(String, String)> = compose
        .and_then(|c| c.file.service(c.backend.as_ref()?))
        .map(|s| {
            s.environment
                .iter()
                .map(|(k, v)| (k.trim().to_string(), v.clone().unwrap_or_default()))
                .collect()
        })
        .unwrap_or_else(|| {
            ctx.shell
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        });
    let env_mentions = |needle: &str| {
        raw_env
            .iter()
            .any(|(k, v)| k.contains(needle) || v.contains(needle))
    };
    let has_service = |needle: &str| {
        compose.is_some_and(|c| {
            c.file.services.iter().any(|s| {
                s.name.contains(needle) || s.image.as_deref().unwrap_or("").contains(needle)
            })
        })
    };
    let endpoint = raw_env
        .iter()
        .find(|(k, _)| k.starts_with("OTEL_EXPORTER_OTLP") && k.ends_with("ENDPOINT"))
        .map(|(_, v)| v.to_ascii_lowercase());
    let mut backends = Vec::new();
    let honeycomb =
        env_mentions("HONEYCOMB") || env_mentions("honeycomb") || code.contains("honeycomb");
    if honeycomb {
        backends.push(Backend::Honeycomb);
    }
    if code.contains("aws-xray-sdk")
        || code.contains("aws_xray_sdk")
        || env_mentions("AWS_XRAY")
        || has_service("xray")
    {
        backends.push(Backend::Xray);
    }
    if code.contains("watchtower") {
        backends.push(Backend::Cloudwatch);
    }
    if code.contains("rollbar") || env_mentions("ROLLBAR") {
        backends.push(Backend::Rollbar);
    }
    if !honeycomb && (endpoint.is_some() || has_service("jaeger") || has_service("otel")) {
        backends.push(Backend::Local);
    }
    backends
}

fn recorded_backends(dir: &Path) -> Option<Vec<Backend>> {
    let text = std::fs::read_to_string(dir.join(crate::scaffold::manifest::ANSWERS_FILE)).ok()?;
    let mut answers = crate::answers::Answers::defaults(None);
    AnswersFile::parse(&text).ok()?.apply(&mut answers).ok()?;
    Some(answers.backends)
}
