//! `tracelab env set | list | check`, with a fake `gp` that records its
//! arguments, from stdin and through a real pseudo-terminal.

use crate::common;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use crate::common::app::wait_until;
use crate::common::doctor::KEY;
use crate::common::new_workspace;
use expectrl::{Eof, Expect, Session};

struct Env {
    _root: tempfile::TempDir,
    dir: PathBuf,
    bin: PathBuf,
}

impl Env {
    /// A workspace for `backends`, and a bin/ for fake commands.
    fn new(backends: &str) -> Self {
        let (root, dir) = new_workspace(&["--set", &format!("backends={backends}")]);
        let bin = root.path().join("bin");
        fs::create_dir(&bin).unwrap();
        Env {
            _root: root,
            dir,
            bin,
        }
    }

    /// A `gp` that appends its arguments to gp-calls.txt and exits `code`.
    fn fake_gp(&self, code: i32) -> PathBuf {
        let calls = self.bin.join("gp-calls.txt");
        let script = format!(
            "#!/bin/sh\nif [ \"$1\" = env ] && [ $# -eq 1 ]; then cat '{dir}/gp-env.txt' 2>/dev/null; exit 0; fi\necho \"$@\" >> '{calls}'\nexit {code}\n",
            dir = self.bin.display(),
            calls = calls.display()
        );
        fs::write(self.bin.join("gp"), script).unwrap();
        fs::set_permissions(self.bin.join("gp"), fs::Permissions::from_mode(0o755)).unwrap();
        calls
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_tracelab"));
        cmd.args(args)
            .arg("--dir")
            .arg(&self.dir)
            .env_clear()
            .env("PATH", format!("{}:/usr/bin:/bin", self.bin.display()))
            .env("NO_COLOR", "1");
        cmd
    }

    fn set(&self, name: &str, stdin: &str, extra: &[&str]) -> Output {
        // A refused name ends the process before it reads stdin.
        common::output_with_stdin(self.command(&["env", "set", name]).args(extra), stdin)
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn mode(path: &Path) -> u32 {
    fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn set_from_stdin_persists_in_gitpod_and_env_without_echoing() {
    let env = Env::new("honeycomb");
    let calls = env.fake_gp(0);
    let output = env.set("HONEYCOMB_API_KEY", &format!("{KEY}\n"), &[]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    assert!(
        !stdout.contains(KEY) && !text(&output.stderr).contains(KEY),
        "echoed the value"
    );
    assert!(
        stdout.contains("ingest key hcaik_…(64 chars, #"),
        "{stdout}"
    );
    assert_eq!(
        fs::read_to_string(&calls).unwrap(),
        format!("env HONEYCOMB_API_KEY={KEY}\n")
    );
    let dotenv = env.dir.join(".env");
    assert_eq!(
        fs::read_to_string(&dotenv).unwrap(),
        format!("HONEYCOMB_API_KEY={KEY}\n")
    );
    assert_eq!(mode(&dotenv), 0o600);
    assert!(
        fs::read_to_string(env.dir.join(".gitignore"))
            .unwrap()
            .lines()
            .any(|l| l == ".env")
    );
    // The one line it prints loads the value into a shell.
    let line = stdout.lines().last().unwrap().trim().to_string();
    assert!(line.starts_with("set -a && . "), "{line}");
    let loaded = Command::new("sh")
        .arg("-c")
        .arg(format!("{line} && printf %s \"$HONEYCOMB_API_KEY\""))
        .output()
        .unwrap();
    assert_eq!(text(&loaded.stdout), KEY);
}

#[test]
fn updating_env_keeps_comments_and_other_keys() {
    let env = Env::new("honeycomb,rollbar");
    let dotenv = env.dir.join(".env");
    fs::write(&dotenv, "# my notes\nROLLBAR_ACCESS_TOKEN=0123456789abcdef0123456789abcdef\nHONEYCOMB_API_KEY=old\n\nOTHER='keep me'\n").unwrap();
    fs::set_permissions(&dotenv, fs::Permissions::from_mode(0o644)).unwrap();
    let output = env.set("HONEYCOMB_API_KEY", KEY, &[]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(text(&output.stdout).contains("updated in"));
    assert_eq!(
        fs::read_to_string(&dotenv).unwrap(),
        format!(
            "# my notes\nROLLBAR_ACCESS_TOKEN=0123456789abcdef0123456789abcdef\nHONEYCOMB_API_KEY={KEY}\n\nOTHER='keep me'\n"
        )
    );
    assert_eq!(mode(&dotenv), 0o600, "tightened to 0600");
    // The doctor now finds the key where Compose reads it.
    let doctor = env.command(&["doctor", "--json"]).output().unwrap();
    let report: serde_json::Value = serde_json::from_slice(&doctor.stdout).unwrap();
    assert_eq!(report["problems"], 0, "{report:#}");
}

#[test]
fn wrong_shapes_and_placeholders_are_refused_without_a_terminal() {
    let env = Env::new("honeycomb");
    let calls = env.fake_gp(0);
    for value in ["changeme", "abc", "<\"API KEY\">", "", "\n"] {
        let output = env.set("HONEYCOMB_API_KEY", value, &[]);
        assert_eq!(output.status.code(), Some(2), "{value:?}");
        assert!(
            text(&output.stderr).contains("nothing was written"),
            "{}",
            text(&output.stderr)
        );
    }
    assert!(!env.dir.join(".env").exists());
    assert!(!calls.exists(), "gp was called");
    let output = env.set("HONEYCOMB_API_KEY", "abc123-custom", &["--force"]);
    assert!(output.status.success());
    assert!(text(&output.stderr).contains("accepted: --force"));
    assert!(
        fs::read_to_string(env.dir.join(".env"))
            .unwrap()
            .contains("HONEYCOMB_API_KEY=abc123-custom")
    );
}

/// A placeholder is refused for every secret, as for Honeycomb's key (the
/// README promises it asks again): not accepted with a warning.
#[test]
fn an_aws_placeholder_is_refused_as_a_honeycomb_one_is() {
    let env = Env::new("honeycomb,xray");
    for (name, value) in [
        ("AWS_ACCESS_KEY_ID", "your-access-key"),
        ("AWS_SECRET_ACCESS_KEY", "YOUR_SECRET_ACCESS_KEY_HERE"),
    ] {
        let output = env.set(name, value, &[]);
        assert_eq!(output.status.code(), Some(2), "{name}={value}");
        assert!(
            text(&output.stderr).contains("placeholder"),
            "{}",
            text(&output.stderr)
        );
    }
    assert!(!env.dir.join(".env").exists());
}

#[test]
fn unusual_shapes_warn_and_misspelled_names_are_refused() {
    let env = Env::new("honeycomb,xray");
    let output = env.set("AWS_ACCESS_KEY_ID", "my-access-key-id-1234", &[]);
    assert!(output.status.success());
    assert!(text(&output.stderr).contains("does not look like an access key id"));
    let output = env.set("API_HONEYCOMB_KEY", KEY, &[]);
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("misspelling of HONEYCOMB_API_KEY"));
    let output = env.set("NOT A NAME", KEY, &[]);
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn unknown_names_need_force_and_names_the_compose_file_uses_do_not() {
    let env = Env::new("honeycomb,xray");
    let output = env.set("MY_TOKEN", "some-value-1234", &[]);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output.stdout));
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("MY_TOKEN is not a variable this workspace uses"),
        "{stderr}"
    );
    assert!(!env.dir.join(".env").exists(), "nothing written");
    let output = env.set("MY_TOKEN", "some-value-1234", &["--force"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    // A variable the compose file interpolates is the workspace's own.
    let compose = env.dir.join("docker-compose.yml");
    let text_before = fs::read_to_string(&compose).unwrap();
    fs::write(
        &compose,
        text_before.replacen(
            "OTEL_SERVICE_NAME: \"backend-flask\"",
            "OTEL_SERVICE_NAME: \"${SERVICE_NAME}\"",
            1,
        ),
    )
    .unwrap();
    let output = env.set("SERVICE_NAME", "backend-flask", &[]);
    assert!(output.status.success(), "{}", text(&output.stderr));
}

#[test]
fn a_folder_that_is_not_a_workspace_is_refused_with_the_one_below() {
    let env = Env::new("honeycomb");
    let parent = env.dir.parent().unwrap().to_path_buf();
    for args in [&["env", "set", "HONEYCOMB_API_KEY"][..], &["doctor"][..]] {
        let output = Command::new(env!("CARGO_BIN_EXE_tracelab"))
            .args(args)
            .arg("--dir")
            .arg(&parent)
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        let stderr = text(&output.stderr);
        assert!(stderr.contains("is not a workspace"), "{stderr}");
        assert!(
            stderr.contains(&format!("cd {}", env.dir.display())),
            "{stderr}"
        );
        assert!(!parent.join(".env").exists());
    }
    let empty = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_tracelab"))
        .args(["doctor", "--dir"])
        .arg(empty.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("nothing to check here"));
}

/// From a folder inside the workspace (`cd backend-flask`), each command
/// works on the workspace, as git does: the doctor sees the unset key,
/// `env set` writes the `.env` Compose reads, and `env list` reads it.
#[test]
fn every_command_finds_the_workspace_from_a_subfolder() {
    let env = Env::new("honeycomb");
    let inside = env.dir.join("backend-flask/services");
    let run = |args: &[&str], stdin: &str| {
        common::output_with_stdin(
            Command::new(env!("CARGO_BIN_EXE_tracelab"))
                .args(args)
                .current_dir(&inside)
                .env_clear()
                .env("PATH", format!("{}:/usr/bin:/bin", env.bin.display()))
                .env("NO_COLOR", "1"),
            stdin,
        )
    };
    let doctor = run(&["doctor", "--json"], "");
    assert_eq!(doctor.status.code(), Some(1), "{}", text(&doctor.stderr));
    let report: serde_json::Value = serde_json::from_slice(&doctor.stdout).unwrap();
    assert!(
        report["checks"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["id"] == "env-missing" && c["variable"] == "HONEYCOMB_API_KEY"),
        "{report:#}"
    );
    let set = run(&["env", "set", "HONEYCOMB_API_KEY"], &format!("{KEY}\n"));
    assert!(set.status.success(), "{}", text(&set.stderr));
    assert!(
        fs::read_to_string(env.dir.join(".env"))
            .unwrap()
            .contains(KEY)
    );
    assert!(!inside.join(".env").exists() && !env.dir.join("backend-flask/.env").exists());
    let list = run(&["env", "list"], "");
    assert!(list.status.success(), "{}", text(&list.stderr));
    assert!(
        text(&list.stdout).contains("HONEYCOMB_API_KEY"),
        "{}",
        text(&list.stdout)
    );
    // And a folder with nothing above it still says so, in JSON too.
    let empty = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_tracelab"))
        .args(["doctor", "--json"])
        .current_dir(empty.path())
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let error: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert!(
        error["error"]
            .as_str()
            .unwrap()
            .contains("nothing to check here"),
        "{error}"
    );
}

#[test]
fn a_failing_gp_is_reported_and_env_is_still_written() {
    let env = Env::new("honeycomb");
    env.fake_gp(3);
    let output = env.set("HONEYCOMB_API_KEY", KEY, &[]);
    assert_eq!(output.status.code(), Some(1));
    assert!(text(&output.stdout).contains("not saved in Gitpod"));
    assert!(env.dir.join(".env").exists());
}

/// Waits until the prompt has turned the terminal's echo off. The prompt
/// switches with TCSAFLUSH, which drops whatever was typed before: a person
/// cannot type in that instant, a test under load can.
fn wait_for_hidden_input(session: &expectrl::session::OsSession) {
    wait_until("echo off for hidden input", Duration::from_secs(20), || {
        (!session.get_process().get_echo().unwrap()).then_some(())
    });
}

/// A pty session whose terminal echoes, as a real one does. expectrl turns
/// echo off before it runs the command, and then "echo is off" would not
/// tell that the prompt is ready: the child turns it back on first.
fn spawn_on_echoing_terminal(mut cmd: Command) -> expectrl::session::OsSession {
    use nix::sys::termios::{LocalFlags, SetArg, tcgetattr, tcsetattr};
    use std::os::unix::process::CommandExt;
    // SAFETY: runs in the forked child before exec and only calls
    // tcgetattr/tcsetattr, which are async-signal-safe.
    unsafe {
        cmd.pre_exec(|| {
            let stdin = std::io::stdin();
            let mut termios = tcgetattr(&stdin)?;
            termios.local_flags |= LocalFlags::ECHO;
            tcsetattr(&stdin, SetArg::TCSANOW, &termios)?;
            Ok(())
        });
    }
    Session::spawn(cmd).unwrap()
}

#[test]
fn hidden_input_on_a_terminal_asks_again_after_a_bad_value() {
    let env = Env::new("honeycomb");
    let mut cmd = env.command(&["env", "set", "HONEYCOMB_API_KEY"]);
    cmd.env("TERM", "xterm");
    let mut p = spawn_on_echoing_terminal(cmd);
    p.set_expect_timeout(Some(Duration::from_secs(20)));
    p.expect("HONEYCOMB_API_KEY (input hidden)").unwrap();
    wait_for_hidden_input(&p);
    p.send("your-api-key\r").unwrap();
    p.expect("try again").unwrap();
    p.expect("HONEYCOMB_API_KEY (input hidden)").unwrap();
    wait_for_hidden_input(&p);
    p.send(format!("{KEY}\r")).unwrap();
    // Everything shown while typing and after it: stars, then the fingerprint.
    let typed = p.expect("chars, #").unwrap();
    let shown = text(typed.before());
    assert!(shown.contains("********"), "{shown}");
    assert!(shown.contains("ingest key hcaik_…(64 "), "{shown}");
    assert!(!shown.contains(&KEY[8..]), "the value was echoed: {shown}");
    p.expect(Eof).unwrap();
    assert!(
        fs::read_to_string(env.dir.join(".env"))
            .unwrap()
            .contains(KEY)
    );
}

#[test]
fn list_shows_every_layer_as_fingerprints() {
    let env = Env::new("honeycomb,xray");
    env.fake_gp(0);
    fs::write(
        env.bin.join("gp-env.txt"),
        format!("HONEYCOMB_API_KEY={KEY}\n"),
    )
    .unwrap();
    fs::write(env.dir.join(".env"), "AWS_DEFAULT_REGION=ca-central-1\n").unwrap();
    let output = env
        .command(&["env", "list", "--json"])
        .env("HONEYCOMB_API_KEY", KEY)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(!text(&output.stdout).contains(KEY));
    let list: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let vars = list["variables"].as_array().unwrap();
    let names: Vec<&str> = vars.iter().map(|v| v["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "HONEYCOMB_API_KEY",
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_DEFAULT_REGION"
        ]
    );
    let key = &vars[0]["layers"];
    let fp = tracelab::fingerprint::fingerprint(KEY);
    assert_eq!(key["shell"], fp.as_str());
    assert_eq!(key["gitpod"], fp.as_str());
    assert_eq!(key["compose"], fp.as_str());
    assert!(key[".env"].is_null());
    assert_eq!(vars[3]["layers"][".env"], "\"ca-central-1\"");
    let human = env.command(&["env", "list"]).output().unwrap();
    assert!(
        text(&human.stdout).contains("  .env       \"ca-central-1\""),
        "{}",
        text(&human.stdout)
    );
}

#[test]
fn check_is_the_environment_part_of_doctor() {
    let env = Env::new("honeycomb");
    let output = env.command(&["env", "check", "--json"]).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let checks = report["checks"].as_array().unwrap();
    assert!(
        checks
            .iter()
            .all(|c| c["id"].as_str().unwrap().starts_with("env-"))
    );
    assert!(
        checks
            .iter()
            .any(|c| c["id"] == "env-missing" && c["variable"] == "HONEYCOMB_API_KEY")
    );
    let output = env
        .command(&["env", "check"])
        .env("HONEYCOMB_API_KEY", KEY)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stdout));
}

/// `env set` writes through the one writer: a `.env` made a link to a file
/// outside the workspace is refused (the file outside untouched), and an
/// existing `.env` left readable by all is written back 0600.
#[test]
fn env_set_refuses_a_link_out_and_tightens_the_mode() {
    let env = Env::new("honeycomb");
    let outside = env.dir.parent().unwrap().join("elsewhere.env");
    fs::write(&outside, "KEEP=1\n").unwrap();
    std::os::unix::fs::symlink(&outside, env.dir.join(".env")).unwrap();
    let output = env.set("HONEYCOMB_API_KEY", KEY, &[]);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output.stderr));
    assert_eq!(fs::read_to_string(&outside).unwrap(), "KEEP=1\n");

    fs::remove_file(env.dir.join(".env")).unwrap();
    fs::write(env.dir.join(".env"), "A=1\n").unwrap();
    fs::set_permissions(env.dir.join(".env"), fs::Permissions::from_mode(0o644)).unwrap();
    let output = env.set("HONEYCOMB_API_KEY", KEY, &[]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert_eq!(mode(&env.dir.join(".env")), 0o600);
    assert!(
        fs::read_to_string(env.dir.join(".env"))
            .unwrap()
            .starts_with("A=1\n")
    );
}
