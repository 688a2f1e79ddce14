//! The interactive prompts, driven through a real pseudo-terminal: defaults
//! shown, bad answers asked again, and the answers land in the workspace.

mod common;

use std::process::Command;
use std::time::Duration;

use expectrl::session::OsSession;
use expectrl::{Eof, Expect, Session};

const DOWN: &str = "\x1b[B";
const ENTER: &str = "\r";

fn spawn_new(dir: &std::path::Path) -> OsSession {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tracelab"));
    cmd.arg("new")
        .arg(dir)
        .env("NO_COLOR", "1")
        .env("TERM", "xterm");
    let mut session = Session::spawn(cmd).expect("spawn tracelab in a pty");
    session.set_expect_timeout(Some(Duration::from_secs(20)));
    session
}

#[test]
fn prompts_validate_and_record_every_answer() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("lab");
    let mut p = spawn_new(&dir);

    p.expect("A name for the workspace").unwrap();
    p.expect("Project name").unwrap();
    p.send(format!("Week Two{ENTER}")).unwrap();

    p.expect("Backend service name").unwrap();
    p.send(format!("Bad_Name{ENTER}")).unwrap();
    p.expect("DNS label").unwrap();
    // Clear the rejected text, then give a valid name.
    p.send("\x7f".repeat(8)).unwrap();
    p.send(format!("api{ENTER}")).unwrap();

    p.expect("Backend port").unwrap();
    p.send(format!("80{ENTER}")).unwrap();
    p.expect("1024 to 65535").unwrap();
    p.send("\x7f\x7f").unwrap();
    p.send(format!("5000{ENTER}")).unwrap();

    p.expect("Python version").unwrap();
    p.send(ENTER).unwrap(); // the default, 3.12

    p.expect("Backends").unwrap();
    // Untick honeycomb: no destination for spans is refused and asked again.
    p.send(" ").unwrap();
    p.send(ENTER).unwrap();
    p.expect("honeycomb or local").unwrap();
    p.expect("Backends").unwrap();
    // Tick honeycomb again, then xray (one row down).
    p.send(" ").unwrap();
    p.send(DOWN).unwrap();
    p.send(" ").unwrap();
    p.send(ENTER).unwrap();

    p.expect("Honeycomb region").unwrap();
    p.send(DOWN).unwrap();
    p.send(ENTER).unwrap();

    p.expect("Gitpod config").unwrap();
    p.send("n").unwrap();
    p.expect("Dev Container config").unwrap();
    p.send("y").unwrap();

    p.expect("Next steps").unwrap();
    p.expect(Eof).unwrap();

    let answers = std::fs::read_to_string(dir.join(".tracelab.yml")).unwrap();
    let expected = [
        "project_name: Week Two",
        "service_name: api",
        "port: 5000",
        "python_version: '3.12'",
        "- honeycomb\n- xray",
        "honeycomb_region: eu",
        "gitpod: false",
        "devcontainer: true",
    ];
    for line in expected {
        assert!(answers.contains(line), "missing {line:?} in\n{answers}");
    }
    assert!(!dir.join(".gitpod.yml").exists());
    assert!(dir.join("aws/json/xray.json").exists());
}

#[test]
fn answers_given_with_set_are_not_asked() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("lab");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tracelab"));
    cmd.arg("new")
        .arg(&dir)
        .args([
            "--set",
            "project_name=preset",
            "--set",
            "service_name=preset-api",
        ])
        .args(["--set", "port=4567", "--set", "python_version=3.11"])
        .args(["--set", "backends=local", "--set", "gitpod=yes"])
        .env("NO_COLOR", "1");
    let mut p = Session::spawn(cmd).unwrap();
    p.set_expect_timeout(Some(Duration::from_secs(20)));
    // Only the Dev Container question is left (no region: honeycomb is off).
    p.expect("Dev Container config").unwrap();
    p.send("n").unwrap();
    p.expect(Eof).unwrap();
    let answers = std::fs::read_to_string(dir.join(".tracelab.yml")).unwrap();
    assert!(answers.contains("service_name: preset-api"), "{answers}");
    assert!(answers.contains("devcontainer: false"), "{answers}");
}
