//! Ctrl-C at any moment of `add`: the workspace is as it was before, or as
//! it is after, never half; and no temporary file is left. SIGINT is sent
//! at spread-out moments across the run, from before it reads anything to
//! after it has written everything.

use crate::common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

/// Every file under `dir`, by relative path.
fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut files = BTreeMap::new();
    for path in common::list_files(dir) {
        let bytes = std::fs::read(dir.join(&path)).unwrap();
        files.insert(path, bytes);
    }
    files
}

fn copy(from: &Path, to: &Path) {
    common::run_ok(Command::new("cp").arg("-a").arg(from).arg(to));
}

#[test]
fn ctrl_c_leaves_the_workspace_before_or_after_never_between() {
    let (root, dir) = common::new_workspace(&["--no-check"]);
    let before = snapshot(&dir);
    let done = root.path().join("done");
    copy(&dir, &done);
    let started = Instant::now();
    common::run_ok(
        Command::new(env!("CARGO_BIN_EXE_tracelab"))
            .args(["add", "xray", "cloudwatch", "rollbar", "--yes", "--dir"])
            .arg(&done),
    );
    let whole = started.elapsed();
    let after = snapshot(&done);
    assert_ne!(before, after);

    let (mut as_before, mut as_after) = (0, 0);
    for trial in 0..40u32 {
        let work = root.path().join(format!("trial-{trial}"));
        copy(&dir, &work);
        let mut child = Command::new(env!("CARGO_BIN_EXE_tracelab"))
            .args(["add", "xray", "cloudwatch", "rollbar", "--yes", "--dir"])
            .arg(&work)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        // From the start to a little past the end of an uninterrupted run.
        std::thread::sleep(whole.mul_f64(f64::from(trial) / 32.0));
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(child.id() as i32),
            nix::sys::signal::Signal::SIGINT,
        );
        let status = child.wait().unwrap();
        let now = snapshot(&work);
        let leftovers: Vec<&String> = now.keys().filter(|p| p.contains(".tracelab-")).collect();
        assert!(
            leftovers.is_empty(),
            "trial {trial}: temporary files left: {leftovers:?}"
        );
        if now == before {
            as_before += 1;
        } else if now == after {
            as_after += 1;
        } else {
            let differ: Vec<&String> = now
                .keys()
                .chain(after.keys())
                .filter(|p| now.get(*p) != after.get(*p) && now.get(*p) != before.get(*p))
                .collect();
            panic!("trial {trial} ({status}): neither before nor after; {differ:?}");
        }
        let _ = std::fs::remove_dir_all(&work);
    }
    // The moments spread over the run: both outcomes happened.
    assert!(
        as_before > 0 && as_after > 0,
        "before {as_before}, after {as_after} (run took {whole:?})"
    );
}

/// `at` made a link to a file outside the workspace that holds a secret.
fn link_to_a_secret(at: &Path, outside: &Path) {
    let secret = outside.join("secret.txt");
    std::fs::write(&secret, "AWS_SECRET_ACCESS_KEY=hunter2\n").unwrap();
    std::os::unix::fs::symlink(secret, at).unwrap();
}

/// A link that leads out of the workspace is never read or written
/// through: a linked `.tracelab/`, a linked base file (or a file of the
/// old folder of bases), a linked compose file. The command refuses (exit
/// 2) and nothing outside changes.
#[test]
fn nothing_is_read_or_written_through_a_link_out_of_the_workspace() {
    type Plant = fn(&Path, &Path);
    let plants: &[(&str, Plant)] = &[
        (".tracelab is a link", |ws, outside| {
            copy(&ws.join(".tracelab"), &outside.join("tracelab-dir"));
            std::fs::remove_dir_all(ws.join(".tracelab")).unwrap();
            std::os::unix::fs::symlink(outside.join("tracelab-dir"), ws.join(".tracelab")).unwrap();
        }),
        ("the base file is a link", |ws, outside| {
            let base = ws.join(".tracelab/base.yml");
            std::fs::remove_file(&base).unwrap();
            link_to_a_secret(&base, outside);
        }),
        // Bases were once a folder of files, still read where it is.
        ("a base in the old folder is a link", |ws, outside| {
            let old = ws.join(".tracelab/base");
            std::fs::create_dir(&old).unwrap();
            link_to_a_secret(&old.join("docker-compose.yml"), outside);
        }),
        ("the compose file is a link", |ws, outside| {
            std::fs::rename(ws.join("docker-compose.yml"), outside.join("compose.yml")).unwrap();
            std::os::unix::fs::symlink(outside.join("compose.yml"), ws.join("docker-compose.yml"))
                .unwrap();
        }),
    ];
    for (name, plant) in plants {
        let (root, dir) = common::new_workspace(&["--no-check"]);
        let outside = root.path().join("outside");
        std::fs::create_dir(&outside).unwrap();
        plant(&dir, &outside);
        let outside_before = snapshot(&outside);
        let compose_before = std::fs::read(dir.join("docker-compose.yml")).unwrap();
        let output = common::tracelab()
            .args(["add", "xray", "--yes", "--dir"])
            .arg(&dir)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{name}: {stderr}");
        assert!(stderr.contains("outside the workspace"), "{name}: {stderr}");
        assert_eq!(
            snapshot(&outside),
            outside_before,
            "{name}: a file outside changed"
        );
        assert_eq!(
            std::fs::read(dir.join("docker-compose.yml")).unwrap(),
            compose_before,
            "{name}"
        );
    }
}
