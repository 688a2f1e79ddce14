//! `.pre-commit-hooks.yaml`: the real pre-commit (PyPI) validates the hook
//! manifest and runs the doctor's hook on a generated workspace: a healthy
//! one passes, a slip stops the commit with its check id.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::common;

fn pre_commit() -> PathBuf {
    let venv = common::venv_with(
        "pre-commit",
        "pre-commit==4.3.0",
        &["pre-commit==4.3.0".to_string()],
    );
    venv.join("bin/pre-commit")
}

fn checkout() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// `command` in `dir` with tracelab on PATH and no secret in the shell.
fn run(dir: &Path, command: &mut Command) -> Output {
    let tracelab = Path::new(env!("CARGO_BIN_EXE_tracelab")).parent().unwrap();
    let cache = dir.with_file_name("pre-commit-home");
    command
        .current_dir(dir)
        .env_clear()
        .env("PATH", format!("{}:/usr/bin:/bin", tracelab.display()))
        .env("HOME", dir.parent().unwrap())
        .env("PRE_COMMIT_HOME", cache)
        .env("NO_COLOR", "1")
        .env("GIT_AUTHOR_NAME", "Student")
        .env("GIT_AUTHOR_EMAIL", "student@example.com")
        .env("GIT_COMMITTER_NAME", "Student")
        .env("GIT_COMMITTER_EMAIL", "student@example.com")
        .output()
        .unwrap()
}

fn git(dir: &Path, args: &[&str]) {
    let output = run(dir, Command::new("git").args(args));
    assert!(output.status.success(), "git {args:?}: {output:?}");
}

/// The hook from this checkout (its working tree, as `try-repo` reads it)
/// on every file of the workspace.
fn hook(dir: &Path) -> Output {
    run(
        dir,
        Command::new(pre_commit())
            .arg("try-repo")
            .arg(checkout())
            .args(["tracelab-doctor-system", "--all-files", "--color", "never"]),
    )
}

#[test]
fn the_hook_manifest_is_valid() {
    let output = run(
        checkout(),
        Command::new(pre_commit())
            .arg("validate-manifest")
            .arg(checkout().join(".pre-commit-hooks.yaml")),
    );
    assert!(output.status.success(), "{output:?}");
}

#[test]
fn the_hook_passes_a_healthy_workspace_and_stops_a_slip() {
    let (_root, dir) = common::new_workspace(&["--no-check"]);
    git(&dir, &["init", "--quiet"]);
    git(&dir, &["add", "-A"]);
    git(&dir, &["commit", "--quiet", "-m", "new workspace"]);

    let passed = hook(&dir);
    let stdout = String::from_utf8_lossy(&passed.stdout);
    assert!(passed.status.success(), "{stdout}");
    assert!(
        stdout.contains("tracelab doctor") && stdout.contains("Passed"),
        "{stdout}"
    );

    let app = dir.join("backend-flask/app.py");
    let text = std::fs::read_to_string(&app).unwrap();
    let slipped = text.replacen("\nimport os\n", "\n# import os\n", 1);
    assert!(
        slipped != text,
        "the template imports os on a line of its own"
    );
    std::fs::write(&app, slipped).unwrap();
    git(&dir, &["add", "-A"]);

    let stopped = hook(&dir);
    let stdout = String::from_utf8_lossy(&stopped.stdout);
    assert_eq!(stopped.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("Failed"), "{stdout}");
    assert!(stdout.contains("[python-undefined-name]"), "{stdout}");
    // Judged alone: nothing about this machine's (empty) shell.
    assert!(!stdout.contains("env-missing"), "{stdout}");
}
