//! Reading a workspace into its contexts: each compose configuration,
//! the layers around it, the backend's code, collectors and X-Ray rules.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context as _, Result};

use super::backends::infer_backends;
use super::{BrokenCompose, ComposeLayer, Context, GitpodFile, Options, Resolver, SourceFile};
use crate::workspace::collector;
use crate::workspace::committed;
use crate::workspace::compose::{self, ComposeFile, Service};
use crate::workspace::frontend;
use crate::workspace::layers::{self, DotEnv, Source, Vars};
use crate::workspace::python::PyFile;
use crate::workspace::xray;

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
        Ok(Self::load_all_then(dir, shell, options, |_, _| ())?.0)
    }

    /// `load_all`, then `then` on the contexts with the other core: the
    /// thread that read the code, idle by then, runs what `then` hands it.
    pub fn load_all_then<T>(
        dir: &Path,
        shell: Vars,
        options: Options,
        then: impl for<'a> FnOnce(&'a [Self], &Spare<'a>) -> T,
    ) -> Result<(Vec<Self>, T)> {
        // Outside the scope, so that work handed to its thread may borrow it.
        let loaded: std::sync::OnceLock<Vec<Self>> = std::sync::OnceLock::new();
        // The backend's code is almost always in backend-flask/: read on the
        // other core while this one reads the rest (the committed-secret
        // scan too). A third thread, for the scan, had two cores shared
        // three ways: the one that reads Compose waited a millisecond.
        let after = std::thread::scope(|scope| {
            let usual_dir = dir.join(USUAL_BACKEND_DIR);
            let (code_read, code) = std::sync::mpsc::sync_channel(1);
            let (jobs, waiting) = std::sync::mpsc::channel::<Job<'_>>();
            // No thread to be had (a process limit): read it when needed.
            let reading = crate::workspace::python::parsing_thread()
                .spawn_scoped(scope, {
                    let usual_dir = usual_dir.clone();
                    // Its reads count in the caller's look (`read::once_each`).
                    let look = crate::workspace::read::this_look();
                    move || {
                        look.run(|| {
                            let _ = code_read.send(read_code(&usual_dir));
                            waiting.into_iter().for_each(|job| job());
                        })
                    }
                })
                .ok();
            // The main thread would wait for the reader: it takes the
            // set-up every parse shares meanwhile, when there is code.
            if reading.is_some() && usual_dir.is_dir() {
                crate::workspace::python::prepare();
            }
            let spare = Spare {
                jobs: reading.is_some().then_some(jobs),
            };
            let usual = UsualCode {
                dir: usual_dir,
                reading: reading.map(|thread| (code, thread)),
            };
            let read = Self::load_all_with(dir, shell, options, usual)?;
            let contexts = loaded.get_or_init(|| read);
            anyhow::Ok(then(contexts, &spare))
        })?;
        let contexts = loaded.into_inner().unwrap_or_default();
        Ok((contexts, after))
    }

    fn load_all_with(
        dir: &Path,
        shell: Vars,
        options: Options,
        mut usual: UsualCode<'_>,
    ) -> Result<Vec<Self>> {
        let dotenv = layers::read_dotenv(dir, &shell)?;
        // Compose reads COMPOSE_FILE and COMPOSE_PROFILES from the shell, then `.env`.
        let compose_env = compose_lookup(&shell, dotenv.as_ref());
        let compose_sets = compose::configurations(dir, &compose_env);
        let profiles = compose::active_profiles(&compose_env);
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
        let gitpod_file = GitpodFile::read(dir);
        let generated = gitpod_file
            .as_ref()
            .map(|g| g.generated.clone())
            .unwrap_or_default();
        let configs: Vec<Result<ComposeLayer, BrokenCompose>> = compose_sets
            .iter()
            .map(|paths| {
                let dotenv = dotenv.as_ref();
                load_compose(paths, &profiles, &shell, dotenv, &generated, resolver_bin)
            })
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
        let secrets = committed::secrets(dir, &committed::list(dir));
        // The backend's code, read and parsed once per folder: most
        // configurations build the same one (a repository with three
        // compose files parsed its Python three times).
        let mut code_of: Vec<(PathBuf, Arc<Vec<PyFile>>)> = Vec::new();
        let mut contexts = Vec::new();
        for (index, (compose, broken_compose)) in configs.into_iter().enumerate() {
            let backend_dir = compose
                .as_ref()
                .and_then(|c| backend_source_dir(c, dir))
                .unwrap_or_else(|| dir.join(USUAL_BACKEND_DIR));
            let frontend_dir = compose
                .as_ref()
                .and_then(|c| frontend_service(&c.file))
                .and_then(|s| s.build_context.as_deref().map(|b| source_dir(dir, b)))
                .unwrap_or_else(|| dir.join("frontend-react-js"));
            let primary = index == 0;
            let mut unreadable = Vec::new();
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
                // An app.py Python cannot read is code-syntax's, from `code`.
                app_py: read_source(&backend_dir.join("app.py"), &mut Vec::new()),
                requirements: read_source(&backend_dir.join("requirements.txt"), &mut unreadable),
                pins: Default::default(),
                unreadable,
                code: match code_of.iter().find(|(d, _)| *d == backend_dir) {
                    Some((_, code)) => Arc::clone(code),
                    None => {
                        let code = usual
                            .take_for(&backend_dir)
                            .unwrap_or_else(|| read_code(&backend_dir));
                        let code = Arc::new(code);
                        code_of.push((backend_dir.clone(), Arc::clone(&code)));
                        code
                    }
                },
                sampling_rules: xray::sampling_rules(dir, &backend_dir),
                secrets: secrets.clone(),
                frontend: frontend::tracing_files(&frontend_dir),
                gitpod_file: gitpod_file.clone(),
                auto_instrumented: false,
                shell_is_stand_in: options.repository_only,
                backend_dir,
                primary,
            };
            ctx.auto_instrumented = runs_under_auto_instrumentation(&ctx);
            ctx.backends = infer_backends(&ctx);
            contexts.push(ctx);
        }
        Ok(contexts)
    }
}

/// Where the backend's code is when no compose service says otherwise,
/// and so where it is read ahead.
const USUAL_BACKEND_DIR: &str = "backend-flask";

/// The backend's code where it usually is, read before the compose file
/// says where it is: used when the backend is there.
struct UsualCode<'scope> {
    dir: PathBuf,
    reading: Option<(
        std::sync::mpsc::Receiver<Vec<PyFile>>,
        std::thread::ScopedJoinHandle<'scope, ()>,
    )>,
}

impl UsualCode<'_> {
    /// The code read for `backend_dir`, once, when that is where it was read.
    fn take_for(&mut self, backend_dir: &Path) -> Option<Vec<PyFile>> {
        let (code, thread) = self.reading.take_if(|_| backend_dir == self.dir)?;
        match code.recv() {
            Ok(code) => Some(code),
            // It panicked before sending: the panic goes on here.
            Err(_) => match thread.join() {
                Err(panic) => std::panic::resume_unwind(panic),
                Ok(()) => unreachable!("the reader sends before it ends"),
            },
        }
    }
}

/// Work for the other core.
type Job<'a> = Box<dyn FnOnce() + Send + 'a>;

/// The other core, once the code is read (`Context::load_all_then`).
pub struct Spare<'a> {
    jobs: Option<std::sync::mpsc::Sender<Job<'a>>>,
}

impl<'a> Spare<'a> {
    /// No other core: what is handed to it runs on this thread.
    pub fn none() -> Self {
        Spare { jobs: None }
    }

    /// Starts `work` on the other core (here, when there is none); the
    /// closure returned waits for its result, and goes on with its panic.
    pub fn run<R: Send + 'a>(&self, work: impl FnOnce() -> R + Send + 'a) -> impl FnOnce() -> R {
        let (done, result) = std::sync::mpsc::sync_channel(1);
        let job: Job<'a> = Box::new(move || {
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(work));
            let _ = done.send(outcome);
        });
        let unsent = match &self.jobs {
            Some(jobs) => jobs.send(job).err().map(|unsent| unsent.0),
            None => Some(job),
        };
        if let Some(job) = unsent {
            job();
        }
        move || match result.recv() {
            Ok(Ok(value)) => value,
            Ok(Err(panic)) => std::panic::resume_unwind(panic),
            Err(_) => unreachable!("every job sends its outcome"),
        }
    }
}

/// A variable as Compose interpolates it: the shell's, else `.env`'s.
fn compose_lookup<'a>(
    shell: &'a Vars,
    dotenv: Option<&'a DotEnv>,
) -> impl Fn(&str) -> Option<String> + 'a {
    move |name| {
        shell
            .get(name)
            .cloned()
            .or_else(|| dotenv?.get(name).map(|e| e.value.clone()))
    }
}

/// The backend's environment alone, as Compose would give it (the default
/// configuration, the built-in resolver), else the shell's: what `listen`
/// needs to find a key, with no `gp`, `docker` or `git`, and no code read.
pub fn backend_environment(dir: &Path, shell: &Vars) -> std::collections::BTreeMap<String, String> {
    let from_shell = || shell.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    let dotenv = layers::read_dotenv(dir, shell).ok().flatten();
    let lookup = compose_lookup(shell, dotenv.as_ref());
    let Some(files) = compose::default_configuration(dir, &lookup) else {
        return from_shell();
    };
    let profiles = compose::active_profiles(&lookup);
    let Ok(file) = ComposeFile::load_set(&files, &profiles) else {
        return from_shell();
    };
    let Some(backend) = find_backend_service(&file, dir) else {
        return from_shell();
    };
    file.resolve(&lookup)
        .ok()
        .and_then(|mut r| r.services.remove(&backend))
        .map(|env| env.into_iter().filter_map(|(k, v)| Some((k, v?))).collect())
        .unwrap_or_default()
}

type External = (Source<Vars>, Source<Vars>, Option<String>);

/// Gitpod's variables and the running container, read at the same time
/// when both have a command to ask. A layer with none is said at once: a
/// thread started to find nothing waits for a core the checks are using.
fn read_external(compose_bin: Option<&[String]>, backend: Option<(PathBuf, String)>) -> External {
    let gp = which::which("gp").ok();
    let docker = compose::docker_cli();
    let gitpod = || layers::read_gitpod(gp.as_deref());
    let container = || match &backend {
        Some((path, service)) => {
            let env = layers::read_container(docker, compose_bin, path, service);
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
    };
    if gp.is_none() || docker.is_none() {
        let (container, logs) = container();
        return (gitpod(), container, logs);
    }
    std::thread::scope(|scope| {
        let gitpod = scope.spawn(gitpod);
        let (container, logs) = container();
        let gitpod = gitpod
            .join()
            .unwrap_or_else(|_| Source::Unavailable("gp env failed".into()));
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
        crate::workspace::read::text(&ctx.backend_dir.join("Dockerfile")).is_ok_and(|text| {
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
    // Where each dotted path was found, if anywhere: every module imports
    // `opentelemetry...`, and each probe is a system call.
    let mut probed: HashMap<String, Option<PathBuf>> = HashMap::new();
    // What the folder holds: a module whose first part is not there (every
    // `opentelemetry...`) is no project module, and needs no probe.
    let top: Option<std::collections::HashSet<String>> =
        std::fs::read_dir(backend_dir).ok().map(|entries| {
            entries
                .flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        });
    let may_be_here = |first: &str| {
        top.as_ref()
            .is_none_or(|top| top.contains(first) || top.contains(&format!("{first}.py")))
    };
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
            if parts.first().is_none_or(|first| !may_be_here(first)) {
                continue;
            }
            for len in (1..=parts.len()).rev() {
                let rel = parts[..len].join("/");
                let found = probed.entry(rel).or_insert_with_key(|rel| {
                    let candidates = [
                        backend_dir.join(format!("{rel}.py")),
                        backend_dir.join(rel).join("__init__.py"),
                    ];
                    // Not only regular files: a module that is a FIFO or a
                    // device is one Python tries to import, and is reported.
                    candidates.into_iter().find(|c| c.exists())
                });
                if let Some(found) = found {
                    queue.push(found.clone());
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

/// The file, None when it is not there; one that is there and cannot be
/// read adds why to `unreadable`.
fn read_source(path: &Path, unreadable: &mut Vec<String>) -> Option<SourceFile> {
    match crate::workspace::read::optional_text(path) {
        Ok(text) => Some(SourceFile {
            path: path.to_path_buf(),
            text: text?,
        }),
        Err(error) => {
            unreadable.push(format!("{error:#}"));
            None
        }
    }
}

fn load_compose(
    paths: &[PathBuf],
    profiles: &[String],
    shell: &Vars,
    dotenv: Option<&DotEnv>,
    generated: &[crate::workspace::generated::GeneratedFile],
    compose_bin: Option<&[String]>,
) -> Result<ComposeLayer, BrokenCompose> {
    let mut file = ComposeFile::load_set(paths, profiles).map_err(|error| {
        // Leftover merge markers, in whichever file of the set has them.
        let conflict = paths.iter().find_map(|path| {
            let text = crate::workspace::read::text(path).ok()?;
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
    file.generated = generated.to_vec();
    let path = &paths[0];
    let backend = find_backend_service(&file, path.parent().unwrap_or(Path::new(".")));
    let builtin = || file.resolve(&compose_lookup(shell, dotenv));
    // Compose cannot see an env_file the workspace generates at start:
    // such a configuration is resolved from its template, by tracelab.
    let compose_bin = compose_bin.filter(|_| !reads_generated_file(&file));
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

/// Some service reads an env_file that is absent and generated at start.
fn reads_generated_file(file: &ComposeFile) -> bool {
    file.services.iter().any(|service| {
        service.env_files.iter().any(|(name, _)| {
            let path = file.dir().join(name);
            !path.exists() && crate::workspace::generated::making(&file.generated, &path).is_some()
        })
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

#[cfg(test)]
mod tests {
    use super::*;

    /// What `load_all_then` hands its callback: the thread that read the
    /// code, now taking work.
    #[test]
    fn work_handed_to_the_spare_core_runs_there_and_its_panic_comes_back() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join(USUAL_BACKEND_DIR)).unwrap();
        let here = std::thread::current().id();
        let (_, (elsewhere, panicked)) = Context::load_all_then(
            dir.path(),
            Vars::default(),
            Options {
                external_layers: false,
                use_compose_binary: false,
                repository_only: true,
            },
            |_, spare| {
                let elsewhere = spare.run(|| std::thread::current().id())();
                let panicking = spare.run(|| panic!("in the spare's work"));
                let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(panicking));
                (elsewhere, panicked)
            },
        )
        .unwrap();
        assert_ne!(elsewhere, here);
        let panic = panicked.unwrap_err();
        assert_eq!(panic.downcast_ref::<&str>(), Some(&"in the spare's work"));
    }

    #[test]
    fn without_a_spare_core_the_work_runs_on_the_caller() {
        let here = std::thread::current().id();
        assert_eq!(Spare::none().run(|| std::thread::current().id())(), here);
    }
}
