//! `tracelab env set` writes `.env` so that Compose v2 (and a POSIX shell
//! sourcing it) reads back exactly the value given, for every character
//! class; a value no quoting can carry to both is refused with the reason.
//! Two `env set` at once keep both variables.

use crate::common;

use std::path::Path;
use std::process::Command;

fn workspace() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("compose.yaml"),
        "services:\n  s:\n    image: x\n    environment:\n      PROBE: ${PROBE}\n      OTHER: ${OTHER}\n",
    )
    .unwrap();
    dir
}

/// `tracelab env set NAME --force` with `value` piped in, started.
fn spawn_env_set(dir: &Path, name: &str, value: &str) -> std::process::Child {
    common::spawn_with_stdin(
        Command::new(env!("CARGO_BIN_EXE_tracelab"))
            .args(["env", "set", name, "--force", "--dir"])
            .arg(dir)
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .env("NO_COLOR", "1"),
        &format!("{value}\n"),
    )
}

fn env_set(dir: &Path, name: &str, value: &str) -> std::process::Output {
    spawn_env_set(dir, name, value).wait_with_output().unwrap()
}

/// What Compose gives the service for `name`, `$$` read as `$`.
fn compose_reads(dir: &Path, name: &str) -> String {
    let output = common::run_ok(
        Command::new(common::tool("docker-compose"))
            .args(["config", "--format", "json"])
            .current_dir(dir)
            .env_clear()
            .env("PATH", "/usr/bin:/bin"),
    );
    let config: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    config["services"]["s"]["environment"][name]
        .as_str()
        .unwrap_or_else(|| panic!("no {name} in {config}"))
        .replace("$$", "$")
}

fn shell_reads(dir: &Path, name: &str) -> String {
    let output = common::run_ok(
        Command::new("/bin/sh")
            .arg("-c")
            .arg(format!("set -a; . ./.env; printf %s \"${name}\""))
            .current_dir(dir)
            .env_clear(),
    );
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn every_character_class_reads_back_the_same_in_compose_and_a_shell() {
    for value in [
        "plain-value_123",
        "with space",
        "hash # inside",
        "a#b",
        "dollar $HOME and ${X}",
        "double \" quote",
        "single ' quote",
        "back\\slash",
        "trailing backslash\\",
        "both ' and \\",
        "backquote `x`",
        "unicode é ☃",
        "equals=sign",
        " leading and trailing ",
        "tab\tchar",
    ] {
        let dir = workspace();
        let output = env_set(dir.path(), "PROBE", value);
        assert!(
            output.status.success(),
            "{value:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert_eq!(
            compose_reads(dir.path(), "PROBE"),
            value,
            "compose, {value:?}"
        );
        assert_eq!(shell_reads(dir.path(), "PROBE"), value, "sh, {value:?}");
    }
}

#[test]
fn a_value_no_quoting_can_carry_is_refused_with_the_reason() {
    let dir = workspace();
    std::fs::write(dir.path().join(".env"), "OTHER=kept\n").unwrap();
    let output = env_set(dir.path(), "PROBE", "it's `cmd`");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("backquote"), "{stderr}");
    assert_eq!(
        std::fs::read_to_string(dir.path().join(".env")).unwrap(),
        "OTHER=kept\n"
    );
}

#[test]
fn an_export_line_keeps_its_export() {
    let dir = workspace();
    std::fs::write(dir.path().join(".env"), "export PROBE=old\nOTHER=1\n").unwrap();
    let output = env_set(dir.path(), "PROBE", "new value");
    assert!(output.status.success());
    assert_eq!(
        std::fs::read_to_string(dir.path().join(".env")).unwrap(),
        "export PROBE='new value'\nOTHER=1\n"
    );
}

#[test]
fn two_env_sets_at_once_keep_both_variables() {
    for round in 0..20 {
        let dir = workspace();
        let (a, b) = (
            spawn_env_set(dir.path(), "PROBE", &format!("PROBE-{round}")),
            spawn_env_set(dir.path(), "OTHER", &format!("OTHER-{round}")),
        );
        let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
        assert!(a.status.success() && b.status.success());
        let text = std::fs::read_to_string(dir.path().join(".env")).unwrap();
        assert!(
            text.contains(&format!("PROBE=PROBE-{round}"))
                && text.contains(&format!("OTHER=OTHER-{round}")),
            "round {round}: {text}"
        );
    }
}
