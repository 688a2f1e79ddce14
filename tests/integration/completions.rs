//! Shell completions and the man page, generated from the clap definitions.

use crate::common;

use std::process::{Command, Stdio};

use crate::common::tracelab;

fn output(args: &[&str]) -> String {
    let out = tracelab().args(args).output().unwrap();
    assert!(out.status.success(), "{args:?}");
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn every_shell_gets_a_script_naming_every_command() {
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let script = output(&["completions", shell]);
        for command in ["new", "add", "update", "doctor", "listen", "env"] {
            assert!(script.contains(command), "{shell} lacks {command}");
        }
    }
}

/// A real bash loads the script and completes `tracelab up` to `update`,
/// and `tracelab doctor --js` to `--json`.
#[test]
fn bash_completes_commands_and_flags() {
    let script = output(&["completions", "bash"]);
    let probe = r#"
source /dev/stdin
COMP_WORDS=(tracelab up); COMP_CWORD=1; _tracelab tracelab up tracelab; echo "1:${COMPREPLY[*]}"
COMP_WORDS=(tracelab doctor --js); COMP_CWORD=2; _tracelab tracelab --js doctor; echo "2:${COMPREPLY[*]}"
COMP_WORDS=(tracelab add x); COMP_CWORD=2; _tracelab tracelab x add; echo "3:${COMPREPLY[*]}"
COMP_WORDS=(tracelab new --set p); COMP_CWORD=3; _tracelab tracelab p --set; echo "4:${COMPREPLY[*]}"
COMP_WORDS=(tracelab doctor --explain xray-daemon-r); COMP_CWORD=3; _tracelab tracelab xray-daemon-r --explain; echo "5:${COMPREPLY[*]}"
COMP_WORDS=(tracelab doctor --ignore env-m); COMP_CWORD=3; _tracelab tracelab env-m --ignore; echo "6:${COMPREPLY[*]}"
"#;
    let out = common::output_with_stdin(Command::new("bash").args(["-c", probe]), &script);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("1:update"), "{text}");
    assert!(text.contains("2:--json"), "{text}");
    // Backend names after add, answer keys after --set.
    assert!(text.contains("3:xray"), "{text}");
    assert!(
        text.contains("4:project_name= port= python_version="),
        "{text}"
    );
    // Check ids, from the catalogue, after --explain and --ignore.
    assert!(text.contains("5:xray-daemon-region\n"), "{text}");
    assert!(text.contains("6:env-missing env-mismatch\n"), "{text}");
}

/// `tracelab man --dir` writes the page the main page names for each
/// command (tracelab-new(1), ...), so `man tracelab-new` works.
#[test]
fn man_dir_writes_a_page_for_every_command_it_names() {
    let dir = tempfile::tempdir().unwrap();
    let status = Command::new(env!("CARGO_BIN_EXE_tracelab"))
        .args(["man", "--dir"])
        .arg(dir.path().join("man1"))
        .status()
        .unwrap();
    assert!(status.success());
    let main = std::fs::read_to_string(dir.path().join("man1/tracelab.1")).unwrap();
    for named in main.split("tracelab\\-").skip(1) {
        let command = named.split('(').next().unwrap();
        let page = dir.path().join(format!("man1/tracelab-{command}.1"));
        assert!(page.is_file(), "tracelab-{command}({named:.3}) has no page");
    }
    let new = std::fs::read_to_string(dir.path().join("man1/tracelab-new.1")).unwrap();
    assert!(new.contains("\\-\\-defaults"), "{new}");
}

#[test]
fn the_man_page_is_roff_with_every_command() {
    let page = output(&["man"]);
    assert!(page.contains(".TH tracelab 1"), "{page}");
    for command in ["new", "add", "update", "doctor", "listen", "completions"] {
        assert!(page.contains(command), "man page lacks {command}");
    }
}

/// `tracelab man | head`: the reader is gone before anything is written;
/// the command ends by SIGPIPE, as `yes | head` does, with no error text.
#[test]
fn a_closed_pipe_ends_quietly() {
    use std::os::unix::process::ExitStatusExt;
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let out = Command::new(env!("CARGO_BIN_EXE_tracelab"))
        .arg("man")
        .stdout(writer)
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.signal(), Some(13));
}

/// The README's recipe, as a student in a venv runs it: the pages written
/// under a home's `.local/share/man/man1`, then `man` with the MANPATH the
/// recipe and the command's own line give (man-db: `.ci/run` installs it).
#[test]
fn the_readme_man_recipe_shows_the_page() {
    let home = tempfile::tempdir().unwrap();
    let dir = home.path().join(".local/share/man/man1");
    let output = Command::new(env!("CARGO_BIN_EXE_tracelab"))
        .args(["man", "--dir"])
        .arg(&dir)
        .output()
        .unwrap();
    assert!(output.status.success());
    let said = String::from_utf8(output.stdout).unwrap();
    let manpath = format!("{}", home.path().join(".local/share/man").display());
    assert!(
        said.contains(&format!("MANPATH=\"{manpath}:$MANPATH\" man tracelab-new")),
        "{said}"
    );
    let shown = Command::new("man")
        .arg("tracelab-new")
        .env("HOME", home.path())
        .env("MANPATH", format!("{manpath}:"))
        .env("MANPAGER", "cat")
        .env("MANWIDTH", "80")
        .output()
        .expect("man is installed (apt-get install man-db; .ci/run does)");
    let page = String::from_utf8_lossy(&shown.stdout);
    assert!(
        shown.status.success(),
        "{}",
        String::from_utf8_lossy(&shown.stderr)
    );
    assert!(
        page.contains("tracelab-new") && page.contains("--defaults"),
        "{page}"
    );
}
