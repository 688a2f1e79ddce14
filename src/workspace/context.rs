//! Everything the checks look at, read once: the workspace (compose file,
//! backend service, backends in use, app code) and every layer's variables.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};

use super::compose::{self, ComposeFile, Environment, Resolved};
use super::layers::Layer;
use super::layers::{self, DotEnv, Source, Vars};
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

pub struct Context {
    pub dir: PathBuf,
    pub shell: Vars,
    pub dotenv: Option<DotEnv>,
    pub gitpod: Source<Vars>,
    pub compose: Option<ComposeLayer>,
    pub container: Source<Vars>,
    pub container_logs: Option<String>,
    pub backends: Vec<Backend>,
    pub app_py: Option<SourceFile>,
    pub requirements: Option<SourceFile>,
}

/// What to read: the full doctor reads every layer; the quick check after
/// `tracelab new` skips the slow external ones.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    pub external_layers: bool,
    pub use_compose_binary: bool,
}

impl Context {
    pub fn load(dir: &Path, shell: Vars, options: Options) -> Result<Self> {
        let dotenv = layers::read_dotenv(dir, &shell)?;
        let compose_file = compose::find(dir);
        // Looking for Compose may start `docker compose version`: only when needed.
        let wants_compose =
            compose_file.is_some() && (options.external_layers || options.use_compose_binary);
        let compose_bin = if wants_compose {
            compose::find_compose()
        } else {
            None
        };
        let resolver_bin = compose_bin
            .as_deref()
            .filter(|_| options.use_compose_binary);
        let compose = match compose_file {
            Some(path) => Some(load_compose(&path, &shell, dotenv.as_ref(), resolver_bin)?),
            None => None,
        };
        let backend_dir = compose
            .as_ref()
            .and_then(|c| backend_source_dir(c, dir))
            .unwrap_or_else(|| dir.join("backend-flask"));
        let app_py = read_source(&backend_dir.join("app.py"));
        let requirements = read_source(&backend_dir.join("requirements.txt"));
        let (gitpod, container, container_logs) = if options.external_layers {
            let backend = compose
                .as_ref()
                .and_then(|c| Some((c.file.path.clone(), c.backend.clone()?)));
            std::thread::scope(|scope| {
                let gitpod = scope.spawn(layers::read_gitpod);
                let container = scope.spawn(|| match &backend {
                    Some((path, service)) => {
                        let env = layers::read_container(compose_bin.as_deref(), path, service);
                        let logs = match (&env, &compose_bin) {
                            (Source::Read(_), Some(bin)) => {
                                layers::read_container_logs(bin, path, service)
                            }
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
        } else {
            let skipped = || Source::Unavailable("not read by the quick check".into());
            (skipped(), skipped(), None)
        };
        let mut ctx = Context {
            dir: dir.to_path_buf(),
            shell,
            dotenv,
            gitpod,
            compose,
            container,
            container_logs,
            backends: Vec::new(),
            app_py,
            requirements,
        };
        ctx.backends = infer_backends(&ctx);
        Ok(ctx)
    }

    /// The variables the workspace needs from the student.
    pub fn needed(&self) -> Vec<NeededVar> {
        needed_for(&self.backends)
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

    pub fn backend_service(&self) -> Option<&str> {
        self.compose.as_ref()?.backend.as_deref()
    }
}

fn read_source(path: &Path) -> Option<SourceFile> {
    let text = std::fs::read_to_string(path).ok()?;
    Some(SourceFile {
        path: path.to_path_buf(),
        text,
    })
}

fn load_compose(
    path: &Path,
    shell: &Vars,
    dotenv: Option<&DotEnv>,
    compose_bin: Option<&[String]>,
) -> Result<ComposeLayer> {
    let file = ComposeFile::load(path)?;
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
        Ok(resolved) => (Some(resolved), None),
        Err(e) => (None, Some(format!("{e:#}"))),
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
