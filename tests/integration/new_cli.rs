//! `tracelab new` from the outside: every flag, every error, no terminal.

use crate::common;

use std::fs;

use crate::common::{bases, list_files, list_workspace_files, new_workspace, read, tracelab};
use predicates::prelude::*;
use predicates::str::contains;

const DEFAULT_FILES: &[&str] = &[
    ".devcontainer/devcontainer.json",
    ".env.example",
    ".gitignore",
    ".gitpod.yml",
    ".tracelab.yml",
    "README.md",
    "backend-flask/.dockerignore",
    "backend-flask/Dockerfile",
    "backend-flask/Dockerfile.prod",
    "backend-flask/app.py",
    "backend-flask/constraints.txt",
    "backend-flask/requirements.txt",
    "backend-flask/services/__init__.py",
    "backend-flask/services/home_activities.py",
    "docker-compose.yml",
];

#[test]
fn defaults_write_the_whole_workspace_and_say_what_next() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("week2");
    tracelab()
        .env_remove("GITPOD_WORKSPACE_ID")
        .args(["new", "--defaults"])
        .arg(&dir)
        .assert()
        .success()
        .stdout(contains("15 new"))
        // Outside Gitpod: no gp, and the no-Docker way to a first trace.
        .stdout(contains("tracelab env set HONEYCOMB_API_KEY"))
        .stdout(contains("gp env").not())
        .stdout(contains("tracelab run"))
        .stdout(contains("tracelab doctor"))
        .stdout(contains("Still to do (tracelab doctor, offline)"))
        .stdout(contains(
            "HONEYCOMB_API_KEY is not set in this shell or .env",
        ))
        .stdout(contains("\u{1b}[").not());
    assert_eq!(list_workspace_files(&dir), DEFAULT_FILES);
    // Each generated file's merge base, for tracelab update and add.
    let stored = bases(&dir);
    assert_eq!(stored.keys().collect::<Vec<_>>(), DEFAULT_FILES);
    for (path, base) in stored {
        assert_eq!(
            base,
            read(dir.join(&path)),
            "{path}'s base is the file written"
        );
    }
    // One file holds them all: no folder of copies beside it.
    assert_eq!(
        list_files(&dir)
            .into_iter()
            .filter(|f| f.starts_with(".tracelab/"))
            .collect::<Vec<_>>(),
        [".tracelab/base.yml"]
    );
    let answers = read(dir.join(".tracelab.yml"));
    assert!(answers.contains("project_name: week2"), "{answers}");
    assert!(answers.contains("- honeycomb"), "{answers}");
}

#[test]
fn without_a_terminal_it_refuses_at_once_and_names_defaults() {
    let root = tempfile::tempdir().unwrap();
    tracelab()
        .current_dir(root.path())
        .args(["new", "ws"])
        .timeout(std::time::Duration::from_secs(10))
        .assert()
        .code(2)
        .stderr(contains("--defaults"));
    assert_eq!(fs::read_dir(root.path()).unwrap().count(), 0);
}

#[test]
fn bad_answers_name_key_value_and_what_is_allowed() {
    let cases: &[(&str, &[&str])] = &[
        ("port=99999", &["`port`", "\"99999\"", "1024 to 65535"]),
        ("port=abc", &["`port`", "\"abc\""]),
        (
            "service_name=Backend_Flask",
            &["`service_name`", "DNS label"],
        ),
        (
            "backends=honeycomb,zipkin",
            &["`backends`", "\"zipkin\"", "xray"],
        ),
        ("backends=honeycomb,local", &["`backends`", "not both"]),
        ("backends=xray", &["`backends`", "honeycomb or local"]),
        ("honeycomb_region=asia", &["`honeycomb_region`", "us, eu"]),
        ("python_version=2.7", &["`python_version`", "3.12"]),
        ("gitpod=perhaps", &["`gitpod`", "true or false"]),
        ("colour=blue", &["`colour`", "answer keys"]),
        ("port", &["KEY=VALUE"]),
    ];
    for (pair, expected) in cases {
        let root = tempfile::tempdir().unwrap();
        let mut assert = tracelab()
            .current_dir(root.path())
            .args(["new", "--defaults", "ws", "--set", pair])
            .assert()
            .code(2);
        for text in *expected {
            assert = assert.stderr(contains(*text));
        }
        assert_eq!(
            fs::read_dir(root.path()).unwrap().count(),
            0,
            "{pair} wrote files"
        );
    }
}

#[test]
fn answers_file_errors_name_the_file_and_the_problem() {
    let root = tempfile::tempdir().unwrap();
    let cases = [
        ("unknown.yml", "colour: blue\n", "unknown field `colour`"),
        ("syntax.yml", "port: [4567\n", "line"),
        ("value.yml", "port: 80\n", "`port`"),
        ("list.yml", "backends: [honeycomb, zipkin]\n", "\"zipkin\""),
    ];
    for (name, text, expected) in cases {
        let file = root.path().join(name);
        fs::write(&file, text).unwrap();
        tracelab()
            .current_dir(root.path())
            .args(["new", "ws", "--answers"])
            .arg(&file)
            .assert()
            .code(2)
            .stderr(contains(name))
            .stderr(contains(expected));
        assert!(!root.path().join("ws").exists());
    }
    tracelab()
        .args(["new", "ws", "--answers", "/nonexistent/answers.yml"])
        .assert()
        .code(2)
        .stderr(contains(
            "cannot read the answers file /nonexistent/answers.yml",
        ));
}

#[test]
fn the_recorded_answers_reproduce_the_same_files() {
    let (_root, first) = new_workspace(&[
        "--set",
        "backends=local,xray,rollbar",
        "--set",
        "port=5000",
        "--set",
        "project_name=Cruddur Week 2",
    ]);
    let second_root = tempfile::tempdir().unwrap();
    let second = second_root.path().join("again");
    tracelab()
        .args(["new", "--answers"])
        .arg(first.join(".tracelab.yml"))
        .arg(&second)
        .assert()
        .success();
    assert_eq!(list_files(&first), list_files(&second));
    for file in list_files(&first) {
        assert_eq!(
            read(first.join(&file)),
            read(second.join(&file)),
            "{file} differs"
        );
    }
}

#[test]
fn set_overrides_the_answers_file() {
    let (_root, first) = new_workspace(&["--set", "port=5000"]);
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("ws");
    tracelab()
        .args(["new", "--answers"])
        .arg(first.join(".tracelab.yml"))
        .args(["--set", "port=6000"])
        .arg(&dir)
        .assert()
        .success();
    assert!(read(dir.join("docker-compose.yml")).contains("\"6000:6000\""));
}

#[test]
fn dry_run_lists_files_and_writes_nothing() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("ws");
    tracelab()
        .args(["new", "--defaults", "--dry-run"])
        .arg(&dir)
        .assert()
        .success()
        .stdout(contains("Would write"))
        .stdout(contains("backend-flask/app.py"))
        .stdout(contains("nothing was written"));
    assert!(!dir.exists());
}

#[test]
fn a_non_empty_directory_needs_force_and_keeps_user_files_and_edits() {
    let (_root, dir) = new_workspace(&[]);
    fs::write(dir.join("notes.txt"), "mine").unwrap();
    fs::write(dir.join("backend-flask/app.py"), "# my edits\n").unwrap();
    let compose_before = fs::metadata(dir.join("docker-compose.yml"))
        .unwrap()
        .modified()
        .unwrap();

    tracelab()
        .args(["new", "--defaults"])
        .arg(&dir)
        .assert()
        .code(2)
        .stderr(contains("not empty"))
        .stderr(contains("--force"));
    assert_eq!(read(dir.join("backend-flask/app.py")), "# my edits\n");

    // --force merges: the student's rewrite of app.py is an edit, and the
    // templates did not change it, so it stays exactly as the student left it.
    tracelab()
        .args(["new", "--defaults", "--force", "--json"])
        .arg(&dir)
        .assert()
        .success()
        .stdout(contains(
            r#""path": "backend-flask/app.py",
      "status": "unchanged""#,
        ))
        .stdout(contains(
            r#""path": "docker-compose.yml",
      "status": "unchanged""#,
        ));
    assert_eq!(read(dir.join("backend-flask/app.py")), "# my edits\n");
    assert_eq!(read(dir.join("notes.txt")), "mine");
    let compose_after = fs::metadata(dir.join("docker-compose.yml"))
        .unwrap()
        .modified()
        .unwrap();
    assert_eq!(
        compose_before, compose_after,
        "an unchanged file was rewritten"
    );
}

#[test]
fn a_failed_write_changes_nothing() {
    let (_root, dir) = new_workspace(&[]);
    fs::write(dir.join("backend-flask/app.py"), "# my edits\n").unwrap();
    // A file where the generator needs a directory makes the write fail.
    fs::remove_dir_all(dir.join("backend-flask/services")).unwrap();
    fs::write(dir.join("backend-flask/services"), "not a directory").unwrap();
    tracelab()
        .args(["new", "--defaults", "--force"])
        .arg(&dir)
        .assert()
        .code(2)
        .stderr(contains("backend-flask/services"));
    assert_eq!(read(dir.join("backend-flask/app.py")), "# my edits\n");
    let leftovers: Vec<_> = common::list_files(&dir)
        .into_iter()
        .filter(|f| f.contains(".tracelab-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn json_output_is_machine_readable() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("ws");
    let output = tracelab()
        .args(["new", "--defaults", "--json", "--set", "backends=local"])
        .arg(&dir)
        .output()
        .unwrap();
    assert!(output.status.success());
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["dry_run"], false);
    let files = report["files"].as_array().unwrap();
    assert!(files.iter().all(|f| f["status"] == "create"));
    assert_eq!(files.len(), list_workspace_files(&dir).len());
    let check = report["check"].as_array().unwrap();
    assert!(
        check
            .iter()
            .any(|c| c["id"] == "compose-file" && c["status"] == "ok"),
        "{check:?}"
    );
    assert!(
        check.iter().all(|c| c["status"] != "fail"),
        "a local workspace needs no secret: {check:?}"
    );
    let steps = report["next_steps"].as_array().unwrap();
    assert!(
        !steps
            .iter()
            .any(|s| s.as_str().unwrap().contains("HONEYCOMB"))
    );
}

#[test]
fn hostile_project_names_are_escaped_in_every_file() {
    let name = r#"O'Brien: "lab" #1 {{x}} ${HOME} \n"#;
    let (_root, dir) = new_workspace(&["--set", &format!("project_name={name}")]);
    let devcontainer: serde_json::Value =
        serde_json::from_str(&read(dir.join(".devcontainer/devcontainer.json"))).unwrap();
    assert_eq!(devcontainer["name"], name);
    let compose: serde_yaml::Value =
        serde_yaml::from_str(&read(dir.join("docker-compose.yml"))).unwrap();
    assert_eq!(compose["name"], "o-brien-lab-1-x-home-n");
    let answers: serde_yaml::Value =
        serde_yaml::from_str(&read(dir.join(".tracelab.yml"))).unwrap();
    assert_eq!(answers["project_name"], name);
}

#[test]
fn no_secret_from_the_environment_lands_in_any_file() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("ws");
    let key = "hcaik_01secretsecretsecretsecretsecretsecretsecretsecretsecret00";
    tracelab()
        .env("HONEYCOMB_API_KEY", key)
        .env("ROLLBAR_ACCESS_TOKEN", "0123456789abcdef0123456789abcdef")
        .args(["new", "--defaults", "--set", "backends=honeycomb,rollbar"])
        .arg(&dir)
        .assert()
        .success()
        .stdout(contains(key).not());
    for file in list_files(&dir) {
        let text = read(dir.join(&file));
        assert!(
            !text.contains(key) && !text.contains("0123456789abcdef0123"),
            "{file}"
        );
    }
    assert!(read(dir.join(".gitignore")).lines().any(|l| l == ".env"));
}

#[test]
fn directory_defaults_to_the_project_name() {
    let root = tempfile::tempdir().unwrap();
    tracelab()
        .current_dir(root.path())
        .args(["new", "--defaults", "--set", "project_name=My Lab"])
        .assert()
        .success();
    assert!(root.path().join("my-lab/docker-compose.yml").exists());
}

#[test]
fn no_check_skips_the_summary_and_problems_never_change_the_exit_code() {
    let root = tempfile::tempdir().unwrap();
    tracelab()
        .args(["new", "--defaults", "--no-check"])
        .arg(root.path().join("a"))
        .assert()
        .success()
        .stdout(contains("Still to do").not());
    let output = tracelab()
        .args(["new", "--defaults", "--json"])
        .arg(root.path().join("b"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert!(
        report["check"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["id"] == "env-missing")
    );
}

#[test]
fn an_unknown_key_is_named_with_the_one_meant() {
    let root = tempfile::tempdir().unwrap();
    tracelab()
        .args(["new", "--defaults", "--set", "backend=local"])
        .arg(root.path().join("ws"))
        .assert()
        .code(2)
        .stderr(contains("unknown key `backend`, did you mean `backends`?"))
        .stderr(contains("invalid value").not());
    assert!(!root.path().join("ws").exists());
}

#[test]
fn help_lists_every_answer_key_with_its_default() {
    let output = tracelab().args(["new", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&output.stdout);
    for key in tracelab::answers::KEYS {
        assert!(
            help.contains(&format!("  {key} ")),
            "{key} missing from:\n{help}"
        );
    }
    assert!(help.contains("[default: backend-flask]"), "{help}");
}

#[test]
fn next_steps_start_in_the_workspace_and_a_slugged_name_is_announced() {
    let root = tempfile::tempdir().unwrap();
    let output = tracelab()
        .current_dir(root.path())
        .args([
            "new",
            "--defaults",
            "--no-check",
            "--set",
            "project_name=My Lab",
        ])
        .output()
        .unwrap();
    assert!(output.status.success());
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.starts_with("Directory: my-lab (from the project name \"My Lab\")"),
        "{stdout}"
    );
    let steps = &stdout[stdout.find("Next steps").unwrap()..];
    assert!(
        steps.contains("1. Go into the workspace:\n       cd my-lab\n"),
        "{steps}"
    );
    assert!(root.path().join("my-lab/.tracelab.yml").exists());
}

/// In Gitpod the secrets are read hidden, with a prompt, and persisted.
#[test]
fn in_gitpod_next_steps_read_with_a_prompt_and_persist_with_gp() {
    let root = tempfile::tempdir().unwrap();
    let output = tracelab()
        .env("GITPOD_WORKSPACE_ID", "student-ws")
        .args(["new", "--defaults", "--no-check"])
        .arg(root.path().join("w"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains(
            "read -rsp 'Paste HONEYCOMB_API_KEY: ' HONEYCOMB_API_KEY && export HONEYCOMB_API_KEY"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("gp env HONEYCOMB_API_KEY=\"$HONEYCOMB_API_KEY\""),
        "{stdout}"
    );
    assert!(stdout.contains("docker compose up --build"), "{stdout}");
}

/// `tracelab new | head -1`: the reader goes away; no panic, no error text.
#[test]
fn a_closed_pipe_ends_quietly() {
    let root = tempfile::tempdir().unwrap();
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_tracelab"))
        .args(["new", "--defaults", "--no-check"])
        .arg(root.path().join("ws"))
        .stdout(writer)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(
        output.status.signal(),
        Some(13),
        "ended by SIGPIPE, as `yes | head` is"
    );
}

/// The backend's port can be none that tracelab listen, Jaeger, the daemon
/// or the frontend has: a clash would break the forwarded ports (two "4320"
/// keys in devcontainer.json) or `tracelab listen` itself.
#[test]
fn a_port_another_part_of_the_workspace_uses_is_refused() {
    for (port, backends, owner) in [
        ("4320", "honeycomb", "tracelab listen's web view"),
        ("4318", "honeycomb", "tracelab listen's OTLP receiver"),
        ("4317", "honeycomb", "OTLP over gRPC"),
        ("3000", "honeycomb", "the frontend"),
        ("16686", "local", "the Jaeger UI"),
        ("2000", "honeycomb,xray", "the xray-daemon service"),
    ] {
        let root = tempfile::tempdir().unwrap();
        let output = tracelab()
            .args(["new", "--defaults", "--set"])
            .arg(format!("port={port}"))
            .args(["--set", &format!("backends={backends}")])
            .arg(root.path().join("ws"))
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2), "{port}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(owner), "{port}: {stderr}");
        assert!(
            !root.path().join("ws").exists(),
            "{port}: something was written"
        );
    }
    // Free where the backend that owns it is not in use.
    let (_root, dir) = new_workspace(&["--set", "port=2000"]);
    let devcontainer = read(dir.join(".devcontainer/devcontainer.json"));
    assert_eq!(
        devcontainer.matches("\"2000\"").count(),
        1,
        "{devcontainer}"
    );
}
