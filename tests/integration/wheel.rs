//! tracelab as a Python wheel, as students install it (`pip install
//! tracelab`, `pipx`, `uv tool`): built from this checkout with maturin
//! from PyPI, installed into a fresh venv, run from outside the checkout.
//! The build uses the `wheel-test` profile (no LTO): the published wheels'
//! release build takes several minutes more and checks nothing more here.

use crate::common;

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::run_ok;

const BUILD_TOOLS: &[&str] = &["maturin==1.16.0", "ziglang==0.17.1"];

/// Libraries every glibc system has, slim images included.
const SYSTEM_LIBRARIES: &[&str] = &[
    "linux-vdso.so",
    "libc.so",
    "libm.so",
    "libpthread.so",
    "libdl.so",
    "librt.so",
    "libgcc_s.so",
    "ld-linux-x86-64.so",
];

fn build_wheel(out: &Path) -> PathBuf {
    let packages: Vec<String> = BUILD_TOOLS.iter().map(|s| s.to_string()).collect();
    let tools = common::venv_with("wheel-tools", &packages.join(" "), &packages);
    let checkout = Path::new(env!("CARGO_MANIFEST_DIR"));
    let path = format!(
        "{}:{}",
        tools.join("bin").display(),
        std::env::var("PATH").unwrap()
    );
    run_ok(
        Command::new(tools.join("bin/maturin"))
            .args([
                "build",
                "--profile",
                "wheel-test",
                "--zig",
                "--compatibility",
                "manylinux2014",
                "--out",
            ])
            .arg(out)
            .current_dir(checkout)
            // Its own target directory (the test binary's is in use), kept
            // beside it so a second checkout reuses the compiled dependencies.
            .env(
                "CARGO_TARGET_DIR",
                Path::new(env!("CARGO_TARGET_TMPDIR")).join("wheel-target"),
            )
            .env("PATH", path),
    );
    let wheels: Vec<PathBuf> = std::fs::read_dir(out)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "whl"))
        .collect();
    assert_eq!(wheels.len(), 1, "{wheels:?}");
    wheels[0].clone()
}

#[test]
fn the_wheel_installs_in_a_clean_venv_and_runs_anywhere() {
    let work = tempfile::tempdir().unwrap();
    let wheel = build_wheel(&work.path().join("dist"));
    let name = wheel.file_name().unwrap().to_string_lossy().into_owned();
    // manylinux2014: glibc 2.17 and later (Gitpod, Dev Containers, python:3.x-slim).
    assert!(name.contains("manylinux2014_x86_64"), "{name}");

    let venv = work.path().join("venv");
    run_ok(Command::new("python3").args(["-m", "venv"]).arg(&venv));
    run_ok(
        Command::new(venv.join("bin/pip"))
            .args(["install", "--quiet", "--disable-pip-version-check"])
            .arg(&wheel),
    );
    let tracelab = venv.join("bin/tracelab");
    assert!(tracelab.is_file(), "pip put no tracelab on the venv's PATH");
    // Its dependency: `tracelab run` makes venvs with the uv beside it.
    assert!(venv.join("bin/uv").is_file(), "the wheel brought no uv");

    // From a directory outside the checkout: the templates are embedded.
    let elsewhere = work.path().join("student");
    std::fs::create_dir(&elsewhere).unwrap();
    run_ok(
        Command::new(&tracelab)
            .args(["new", "--defaults", "--no-check", "week2"])
            .current_dir(&elsewhere),
    );
    assert!(elsewhere.join("week2/backend-flask/app.py").is_file());
    let doctor = Command::new(&tracelab)
        .args(["doctor", "--json", "--dir", "week2"])
        .current_dir(&elsewhere)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("HONEYCOMB_API_KEY", common::doctor::KEY)
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&doctor.stdout).unwrap();
    assert_eq!(report["problems"], 0, "{report:#}");

    // Nothing a slim image lacks, and no glibc symbol newer than 2.17.
    let ldd = run_ok(Command::new("ldd").arg(&tracelab));
    for line in String::from_utf8_lossy(&ldd.stdout).lines() {
        let library = line.split_whitespace().next().unwrap_or("");
        assert!(
            SYSTEM_LIBRARIES.iter().any(|l| library.contains(l)),
            "links {library}, which a slim image may lack"
        );
    }
    let symbols = run_ok(Command::new("objdump").arg("-T").arg(&tracelab));
    let newest = String::from_utf8_lossy(&symbols.stdout)
        .split_whitespace()
        .filter_map(|w| w.trim_matches(['(', ')']).strip_prefix("GLIBC_"))
        .filter_map(|v| {
            let mut parts = v.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
            Some((parts.next()?, parts.next().unwrap_or(0)))
        })
        .max()
        .unwrap();
    assert!(newest <= (2, 17), "needs glibc {newest:?}");
}
