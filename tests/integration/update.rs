//! `tracelab update`, `tracelab add` and `new --force` on workspaces a
//! student has edited: every edit survives, as a clean merge or as a
//! conflict with all three versions in it.

use crate::common;

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::common::{new_workspace, tracelab};
use expectrl::{Eof, Expect, Session};

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn edit(dir: &Path, rel: &str, from: &str, to: &str) {
    let text = read(&dir.join(rel));
    assert!(text.contains(from), "{rel} has no {from:?}");
    fs::write(dir.join(rel), text.replacen(from, to, 1)).unwrap();
}

/// Every file of the workspace but tracelab's own records, as (path, text).
fn snapshot(dir: &Path) -> Vec<(PathBuf, String)> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in fs::read_dir(&d).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                files.push((path.clone(), read(&path)));
            }
        }
    }
    files.sort();
    files
}

#[test]
fn a_conflicting_edit_gets_diff3_markers_exit_1_and_loses_no_line() {
    let (_root, dir) = new_workspace(&[]);
    // The student and the new answers change the same line: the port.
    edit(
        &dir,
        "docker-compose.yml",
        "\"4567:4567\"",
        "\"8080:4567\"  # my port",
    );
    let output = tracelab()
        .args(["update", "--set", "port=5000", "--yes", "--dir"])
        .arg(&dir)
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("docker-compose.yml  conflict"), "{stdout}");
    let compose = read(&dir.join("docker-compose.yml"));
    for part in [
        "<<<<<<< ours",
        "\"8080:4567\"  # my port",
        "||||||| original",
        "\"4567:4567\"",
        "=======",
        "\"5000:5000\"",
        ">>>>>>> theirs",
    ] {
        assert!(compose.contains(part), "{part:?} in\n{compose}");
    }
    // Files the student did not touch simply follow the new answer.
    assert!(read(&dir.join("backend-flask/Dockerfile")).contains("5000"));
}

#[test]
fn conflict_rej_leaves_the_file_and_writes_the_change_beside_it() {
    let (_root, dir) = new_workspace(&[]);
    edit(&dir, "docker-compose.yml", "\"4567:4567\"", "\"8080:4567\"");
    let before = read(&dir.join("docker-compose.yml"));
    let output = tracelab()
        .args([
            "update",
            "--set",
            "port=5000",
            "--conflict",
            "rej",
            "--yes",
            "--dir",
        ])
        .arg(&dir)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(read(&dir.join("docker-compose.yml")), before);
    let rej = read(&dir.join("docker-compose.yml.rej"));
    assert!(rej.contains("+      - \"5000:5000\""), "{rej}");
}

#[test]
fn dry_run_prints_every_diff_and_writes_nothing() {
    let (_root, dir) = new_workspace(&[]);
    let before = snapshot(&dir);
    let output = tracelab()
        .args(["add", "xray", "--dry-run", "--dir"])
        .arg(&dir)
        .output()
        .unwrap();
    assert!(output.status.success());
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("--- a/backend-flask/app.py"), "{stdout}");
    assert!(
        stdout.contains("+XRayMiddleware(app, xray_recorder)"),
        "{stdout}"
    );
    assert!(stdout.contains("+++ b/aws/json/xray.json"), "{stdout}");
    assert_eq!(snapshot(&dir), before, "dry run wrote something");
}

#[test]
fn without_a_terminal_it_needs_yes_and_writes_nothing() {
    let (_root, dir) = new_workspace(&[]);
    let before = snapshot(&dir);
    let output = tracelab()
        .args(["add", "rollbar", "--dir"])
        .arg(&dir)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("--yes"));
    assert_eq!(snapshot(&dir), before);
}

#[test]
fn on_a_terminal_it_shows_the_diff_and_asks_first() {
    let (_root, dir) = new_workspace(&[]);
    let before = snapshot(&dir);
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_tracelab"));
    cmd.args(["add", "rollbar", "--dir"])
        .arg(&dir)
        .env("NO_COLOR", "1")
        .env("PAGER", "cat");
    let mut session = Session::spawn(cmd).unwrap();
    session.set_expect_timeout(Some(Duration::from_secs(10)));
    // A long diff is summarized before the question, and shown on request
    // (through the pager).
    session.expect("files, +").unwrap();
    session.expect("docker-compose.yml").unwrap();
    session
        .expect("Write these changes? [y/N, d: show the diff]")
        .unwrap();
    session.send_line("d").unwrap();
    session.expect("+ROLLBAR_ACCESS_TOKEN").unwrap();
    session
        .expect("Write these changes? [y/N, d: show the diff]")
        .unwrap();
    session.send_line("n").unwrap();
    session.expect("Nothing was written.").unwrap();
    session.expect(Eof).unwrap();
    assert_eq!(snapshot(&dir), before);
}

#[test]
fn a_deleted_file_stays_deleted_unless_recreate() {
    let (_root, dir) = new_workspace(&[]);
    fs::remove_file(dir.join(".env.example")).unwrap();
    tracelab()
        .args(["add", "rollbar", "--yes", "--dir"])
        .arg(&dir)
        .assert()
        .success();
    assert!(!dir.join(".env.example").exists());
    tracelab()
        .args(["update", "--recreate", "--yes", "--dir"])
        .arg(&dir)
        .assert()
        .success();
    assert!(read(&dir.join(".env.example")).contains("ROLLBAR_ACCESS_TOKEN"));
}

/// The base survives an upgrade of tracelab: simulate the previous
/// templates (without a comment the current ones have), a student edit on
/// top, then update with the current templates.
#[test]
fn an_upgrade_across_a_template_change_merges_cleanly() {
    let (_root, dir) = new_workspace(&[]);
    let app = dir.join("backend-flask/app.py");
    let current = read(&app);
    let first_comment = current
        .lines()
        .find(|l| l.starts_with("# "))
        .expect("the template has a comment line")
        .to_string();
    let older = current.replacen(&format!("{first_comment}\n"), "", 1);
    common::set_base(&dir, "backend-flask/app.py", &older);
    let edited = format!("{older}\n\n@app.route(\"/api/mine\")\ndef mine():\n    return {{}}\n");
    let merged = update_with_app(&dir, &edited);
    assert!(
        merged.contains(&first_comment),
        "the template's change is in"
    );
    assert!(
        merged.contains("def mine():"),
        "the student's route is kept"
    );
    assert!(!merged.contains("<<<<<<<"));
    assert_eq!(common::bases(&dir)["backend-flask/app.py"], current);
}

/// The student's `edited` app.py, then `tracelab update --yes`: the app
/// as merged.
fn update_with_app(dir: &Path, edited: &str) -> String {
    let app = dir.join("backend-flask/app.py");
    fs::write(&app, edited).unwrap();
    tracelab()
        .args(["update", "--yes", "--dir"])
        .arg(dir)
        .assert()
        .success();
    read(&app)
}

/// A workspace made when bases were a folder of files (`.tracelab/base/`)
/// merges against them, and its next update moves them into the one file.
#[test]
fn bases_in_the_old_folder_are_merged_against_and_moved_into_one_file() {
    let (_root, dir) = new_workspace(&["--no-check"]);
    let mut stored = common::bases(&dir);
    let app = dir.join("backend-flask/app.py");
    let current = read(&app);
    let older = current.replacen("\n", "\n# an older template's line\n", 1);
    stored.insert("backend-flask/app.py".into(), older.clone());
    for (path, text) in &stored {
        let file = dir.join(".tracelab/base").join(path);
        fs::create_dir_all(file.parent().unwrap()).unwrap();
        fs::write(file, text).unwrap();
    }
    fs::remove_file(dir.join(".tracelab/base.yml")).unwrap();
    let merged = update_with_app(&dir, &format!("{older}\n# the student's line\n"));
    assert!(!merged.contains("an older template's line"), "{merged}");
    assert!(merged.contains("# the student's line"), "{merged}");
    assert!(
        !dir.join(".tracelab/base").exists(),
        "the old folder is gone"
    );
    stored.insert("backend-flask/app.py".into(), current);
    assert_eq!(common::bases(&dir), stored);
}

#[test]
fn new_force_merges_an_edited_file_and_keeps_a_backup() {
    let (_root, dir) = new_workspace(&[]);
    let app = dir.join("backend-flask/app.py");
    let edited = format!("{}\n# my note\n", read(&app));
    fs::write(&app, &edited).unwrap();
    tracelab()
        .args([
            "new",
            "--defaults",
            "--set",
            "backends=honeycomb,rollbar",
            "--force",
        ])
        .arg(&dir)
        .assert()
        .success();
    let merged = read(&app);
    assert!(merged.contains("# my note"), "the edit was overwritten");
    assert!(merged.contains("rollbar.init"));
    let backups: Vec<PathBuf> = fs::read_dir(dir.join(".tracelab/backup"))
        .unwrap()
        .flatten()
        .map(|e| e.path().join("backend-flask/app.py"))
        .collect();
    assert_eq!(backups.len(), 1);
    assert_eq!(read(&backups[0]), edited);
}

#[test]
fn switching_honeycomb_to_local_and_the_doctor_finds_no_code_or_compose_problem() {
    let (_root, dir) = new_workspace(&[]);
    tracelab()
        .args(["add", "local", "xray", "--yes", "--dir"])
        .arg(&dir)
        .assert()
        .success();
    let answers = read(&dir.join(".tracelab.yml"));
    assert!(
        answers.contains("local") && !answers.contains("honeycomb\n"),
        "{answers}"
    );
    let compose = read(&dir.join("docker-compose.yml"));
    assert!(compose.contains("jaeger:"), "{compose}");
    let output = tracelab()
        .args(["doctor", "--json", "--builtin-resolver", "--dir"])
        .arg(&dir)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("AWS_ACCESS_KEY_ID", common::doctor::AWS_ID)
        .env("AWS_SECRET_ACCESS_KEY", common::doctor::AWS_SECRET)
        .env("AWS_DEFAULT_REGION", "ca-central-1")
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["problems"], 0, "{report:#}");
}

/// Every writer goes one way (scaffold::write::ChangeSet): a file keeps
/// its mode through add and update (a student's executable script, a
/// private file), where add once reset each to 0644.
#[test]
fn add_and_update_keep_each_file_s_mode() {
    use std::os::unix::fs::PermissionsExt;
    let (_root, dir) = new_workspace(&[]);
    let mode = |rel: &str| fs::metadata(dir.join(rel)).unwrap().permissions().mode() & 0o7777;
    for (rel, wanted) in [
        ("backend-flask/app.py", 0o755),
        ("docker-compose.yml", 0o600),
    ] {
        fs::set_permissions(dir.join(rel), fs::Permissions::from_mode(wanted)).unwrap();
    }
    tracelab()
        .args(["add", "xray", "--yes", "--dir"])
        .arg(&dir)
        .assert()
        .success();
    assert!(read(&dir.join("backend-flask/app.py")).contains("XRayMiddleware"));
    assert_eq!(mode("backend-flask/app.py"), 0o755);
    assert_eq!(mode("docker-compose.yml"), 0o600);
    tracelab()
        .args(["update", "--set", "port=5000", "--yes", "--dir"])
        .arg(&dir)
        .assert()
        .success();
    assert!(read(&dir.join("docker-compose.yml")).contains("5000"));
    assert_eq!(mode("docker-compose.yml"), 0o600);
}
