//! Shell completions and the man page, generated from the clap definitions.

mod common;

use std::process::{Command, Stdio};

use common::tracelab;

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
"#;
    let mut child = Command::new("bash")
        .args(["-c", probe])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(script.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("1:update"), "{text}");
    assert!(text.contains("2:--json"), "{text}");
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
