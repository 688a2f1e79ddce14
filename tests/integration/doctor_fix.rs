//! `tracelab doctor --fix`: the edits the fix harness proves, shown as a
//! diff, written only when asked (--yes without a terminal), each file
//! atomically and with its mode kept; then the doctor runs again.

use crate::common;

use std::os::unix::fs::PermissionsExt;

use crate::common::doctor::*;

const ALL: &str = "honeycomb,xray,cloudwatch,rollbar";

/// Two defects that are edits: an import commented out, a module path the
/// package does not have.
fn broken() -> Fixture {
    slipped_imports(ALL)
}

#[test]
fn dry_run_shows_the_diff_and_writes_nothing() {
    let fixture = broken();
    let app = fixture.path("backend-flask/app.py");
    let before = std::fs::read_to_string(&app).unwrap();
    let output = fixture.run(&["--fix", "--dry-run"]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("--- a/"), "{stdout}");
    assert!(
        stdout.contains("-# import logging\n+import logging"),
        "{stdout}"
    );
    assert!(
        stdout.contains("+from aws_xray_sdk.ext.flask.middleware import XRayMiddleware"),
        "{stdout}"
    );
    assert_eq!(std::fs::read_to_string(&app).unwrap(), before);
    assert_eq!(output.status.code(), Some(1));
}

#[test]
fn without_a_terminal_it_asks_for_yes_and_writes_nothing() {
    let fixture = broken();
    let app = fixture.path("backend-flask/app.py");
    let before = std::fs::read_to_string(&app).unwrap();
    let output = fixture.run(&["--fix"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("--fix --yes"));
    assert_eq!(std::fs::read_to_string(&app).unwrap(), before);
}

#[test]
fn yes_writes_the_edits_keeps_the_mode_and_checks_again() {
    let fixture = broken();
    let app = fixture.path("backend-flask/app.py");
    std::fs::set_permissions(&app, std::fs::Permissions::from_mode(0o640)).unwrap();
    let output = fixture.run(&["--fix", "--yes", "--json"]);
    // stdout is the report after the fix, and nothing else.
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(failing_ids(&report), Vec::<String>::new(), "{report:#}");
    assert_eq!(output.status.code(), Some(0));
    let text = std::fs::read_to_string(&app).unwrap();
    assert!(text.contains("\nimport logging\n"));
    assert!(text.contains("from aws_xray_sdk.ext.flask.middleware import XRayMiddleware"));
    let mode = std::fs::metadata(&app).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o640);
    // CPython agrees the module compiles.
    let compiled = std::process::Command::new(common::python())
        .args(["-m", "py_compile"])
        .arg(&app)
        .status()
        .unwrap();
    assert!(compiled.success());
}

#[test]
fn a_module_with_conflict_markers_is_left_alone() {
    let fixture = broken().edit(
        "backend-flask/app.py",
        "import os\n",
        "<<<<<<< yours\nimport os\n=======\nimport os  # theirs\n>>>>>>> tracelab\n",
    );
    let app = fixture.path("backend-flask/app.py");
    let before = std::fs::read_to_string(&app).unwrap();
    let output = fixture.run(&["--fix", "--yes"]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(std::fs::read_to_string(&app).unwrap(), before);
    assert!(!stdout.contains("fixed"), "{stdout}");
    assert!(stdout.contains("unresolved merge conflict"), "{stdout}");
    assert_eq!(output.status.code(), Some(1), "{stdout}");
}

#[test]
fn commands_for_the_shell_are_printed_not_run() {
    let fixture = Fixture::new(ALL).set("HONEYCOMB_API_KEY", "your-api-key-here");
    let output = fixture.run(&["--fix", "--yes"]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("Run these in your shell"), "{stdout}");
    assert!(stdout.contains("unset HONEYCOMB_API_KEY"), "{stdout}");
    assert!(
        !fixture.path(".env").exists()
            || !common::read(fixture.path(".env")).contains("HONEYCOMB_API_KEY")
    );
    assert_eq!(output.status.code(), Some(1));
}

/// From a folder inside the workspace, the text report and the --fix diff
/// name files relative to where the student stands; --json keeps them
/// relative to the workspace and says which.
#[test]
fn paths_are_shown_from_where_the_student_stands() {
    let fixture = broken();
    let inside = fixture.path("backend-flask");
    let run = |args: &[&str]| {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_tracelab"));
        cmd.arg("doctor")
            .args(args)
            .current_dir(&inside)
            .env("NO_COLOR", "1")
            .env("COLUMNS", "400")
            .env("HONEYCOMB_API_KEY", KEY);
        cmd.output().unwrap()
    };
    let text = String::from_utf8(run(&["--builtin-resolver"]).stdout).unwrap();
    assert!(text.contains("] app.py:"), "{text}");
    assert!(!text.contains("backend-flask/app.py"), "{text}");
    let diff =
        String::from_utf8(run(&["--builtin-resolver", "--fix", "--dry-run"]).stdout).unwrap();
    assert!(diff.contains("--- a/app.py\n+++ b/app.py"), "{diff}");
    let json: serde_json::Value =
        serde_json::from_slice(&run(&["--builtin-resolver", "--json"]).stdout).unwrap();
    let root = std::fs::canonicalize(&fixture.dir).unwrap();
    assert_eq!(json["root"], root.display().to_string());
    let messages: Vec<&str> = json["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["message"].as_str())
        .filter(|m| m.contains("app.py:"))
        .collect();
    assert!(
        !messages.is_empty() && messages.iter().all(|m| m.contains("backend-flask/app.py:")),
        "{messages:?}"
    );
}
