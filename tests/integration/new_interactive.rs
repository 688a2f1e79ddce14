//! The interactive prompts, driven through a real pseudo-terminal: defaults
//! shown, bad answers asked again, and the answers land in the workspace.

use std::process::Command;
use std::time::Duration;

use expectrl::session::OsSession;
use expectrl::{Eof, Expect, Session};

const DOWN: &str = "\x1b[B";
/// What `new` says of a service name that is not a DNS label.
const SERVICE_NAME_RULE: &str = "a DNS label: 1-63 lowercase letters, digits and hyphens, starting and ending with a letter or digit (e.g. backend-flask)";
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
    // Untick honeycomb: no destination for spans is refused and asked again,
    // with the reason in the prompt.
    p.send(" ").unwrap();
    p.send(ENTER).unwrap();
    p.expect("Backends (expected a list that includes honeycomb or local")
        .unwrap();
    // Tick honeycomb again, then xray (one row down).
    p.send(" ").unwrap();
    p.send(DOWN).unwrap();
    p.send(" ").unwrap();
    p.send(ENTER).unwrap();

    p.expect("Honeycomb region").unwrap();
    p.send(DOWN).unwrap();
    p.send(ENTER).unwrap();

    p.expect("Gitpod config").unwrap();
    p.send(format!("n{ENTER}")).unwrap();
    p.expect("Dev Container config").unwrap();
    p.send(format!("y{ENTER}")).unwrap();

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
    p.send(format!("n{ENTER}")).unwrap();
    p.expect(Eof).unwrap();
    let answers = std::fs::read_to_string(dir.join(".tracelab.yml")).unwrap();
    assert!(answers.contains("service_name: preset-api"), "{answers}");
    assert!(answers.contains("devcontainer: false"), "{answers}");
}

/// A pty session whose output is also fed to a terminal emulator, to
/// assert what the student sees on screen, not only what was written.
struct Term {
    session: OsSession,
    screen: vt100::Parser,
    transcript: Vec<u8>,
}

impl Term {
    fn new(args: &[&str], cols: u16) -> Self {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_tracelab"));
        cmd.args(args).env("NO_COLOR", "1").env("TERM", "xterm");
        let mut session = Session::spawn(cmd).expect("spawn tracelab in a pty");
        // Tall enough that nothing of one run scrolls off the screen.
        session
            .get_process_mut()
            .set_window_size(cols, 300)
            .unwrap();
        session.set_expect_timeout(Some(Duration::from_secs(20)));
        Term {
            session,
            screen: vt100::Parser::new(
                std::num::NonZeroU16::new(300).unwrap(),
                std::num::NonZeroU16::new(cols).unwrap(),
                0,
            ),
            transcript: Vec::new(),
        }
    }

    fn expect(&mut self, text: &str) {
        let found = self
            .session
            .expect(text)
            .unwrap_or_else(|e| panic!("waiting for {text:?}: {e}\nscreen:\n{}", self.contents()));
        for part in [found.before(), found.get(0).unwrap_or_default()] {
            self.screen.process(part);
            self.transcript.extend_from_slice(part);
        }
    }

    fn finish(&mut self) {
        let found = self.session.expect(Eof).unwrap();
        for part in [found.before(), found.get(0).unwrap_or_default()] {
            self.screen.process(part);
            self.transcript.extend_from_slice(part);
        }
    }

    fn send(&mut self, text: &str) {
        self.session.send(text).unwrap();
    }

    fn contents(&self) -> String {
        self.screen.screen().contents()
    }
}

/// `new` with every answer preset but the ones a test asks about.
fn preset_except(dir: &std::path::Path, keep: &[&str]) -> Vec<String> {
    let mut args = vec!["new".to_string(), dir.display().to_string()];
    for (key, value) in [
        ("project_name", "lab"),
        ("service_name", "backend-flask"),
        ("port", "4567"),
        ("python_version", "3.12"),
        ("backends", "honeycomb"),
        ("honeycomb_region", "us"),
        ("gitpod", "yes"),
        ("devcontainer", "yes"),
    ] {
        if !keep.contains(&key) {
            args.extend(["--set".into(), format!("{key}={value}")]);
        }
    }
    args
}

#[test]
fn ctrl_c_at_a_list_question_restores_the_cursor_and_writes_nothing() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("lab");
    let args = preset_except(&dir, &["backends"]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut term = Term::new(&args, 100);
    term.expect("no account needed");
    term.send("\x03");
    term.finish();
    let text = String::from_utf8_lossy(&term.transcript).into_owned();
    let hidden = text.rfind("\x1b[?25l").expect("the list hid the cursor");
    assert!(
        text[hidden..].contains("\x1b[?25h"),
        "the cursor stays hidden after Ctrl-C: {:?}",
        &text[hidden..]
    );
    assert!(text.contains("nothing was written"), "{text}");
    assert!(!dir.exists());
}

#[test]
fn the_checklist_marks_the_active_row_without_colour() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("lab");
    let args = preset_except(&dir, &["backends"]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut term = Term::new(&args, 120);
    term.expect("local");
    term.send(DOWN);
    term.expect("❯");
    // Let the redraw after DOWN arrive.
    std::thread::sleep(Duration::from_millis(300));
    term.send(ENTER);
    term.finish();
    let rows: Vec<String> = term.contents().lines().map(str::to_string).collect();
    let text = String::from_utf8_lossy(&term.transcript).into_owned();
    // The transcript's last checklist drawing: the marker sits on xray's row.
    let last_draw = &text[text
        .rfind("honeycomb")
        .map(|i| i.saturating_sub(400))
        .unwrap_or(0)..];
    assert!(
        last_draw
            .lines()
            .any(|l| l.contains("❯") && l.contains("xray")),
        "no marker on the active row:\n{last_draw}\n{rows:#?}"
    );
}

#[test]
fn a_wide_error_wraps_and_is_gone_after_a_valid_answer() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("lab");
    let args = preset_except(&dir, &["service_name"]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    // The prompt fits in 60 columns; the error does not.
    let mut term = Term::new(&args, 60);
    term.expect("Backend service name");
    term.send(&format!("Bad_Name{ENTER}"));
    term.expect("DNS label");
    term.expect("backend-flask)");
    // The whole message is on screen, wrapped within the 60 columns.
    let words = |text: &str| text.split_whitespace().collect::<Vec<_>>().join(" ");
    let shown = words(&term.contents());
    assert!(
        shown.contains(&words(SERVICE_NAME_RULE)),
        "cut off:\n{}",
        term.contents()
    );
    std::thread::sleep(Duration::from_millis(300));
    term.send(&"\x7f".repeat(8));
    term.send(&format!("api{ENTER}"));
    term.expect("Next steps");
    let screen = term.contents();
    assert!(
        !screen.contains("DNS label"),
        "the error stayed on screen:\n{screen}"
    );
    assert!(screen.contains("Backend service name"), "{screen}");
    term.finish();
}

#[test]
fn after_a_port_clash_the_default_is_a_free_port() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("lab");
    let mut args = preset_except(&dir, &["backends", "port"]);
    args.extend(["--set".into(), "port=4318".into()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut term = Term::new(&args, 120);
    term.expect("no account needed");
    // Untick honeycomb, tick local (four rows down).
    term.send(" ");
    for _ in 0..4 {
        term.send(DOWN);
    }
    term.send(" ");
    std::thread::sleep(Duration::from_millis(300));
    term.send(ENTER);
    term.expect("Port 4318 is taken");
    term.expect("(4319)");
    term.send(ENTER);
    term.finish();
    let answers = std::fs::read_to_string(dir.join(".tracelab.yml")).unwrap();
    assert!(answers.contains("port: 4319"), "{answers}");
}

#[test]
fn a_yes_no_question_refuses_maybe() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("lab");
    let args = preset_except(&dir, &["gitpod"]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut term = Term::new(&args, 100);
    term.expect("Gitpod config");
    term.send(&format!("maybe{ENTER}"));
    term.expect("neither yes nor no");
    std::thread::sleep(Duration::from_millis(200));
    term.send(&"\x7f".repeat(5));
    term.send(&format!("n{ENTER}"));
    term.finish();
    let answers = std::fs::read_to_string(dir.join(".tracelab.yml")).unwrap();
    assert!(answers.contains("gitpod: false"), "{answers}");
}

/// Ctrl-C at any question: one message, the same at every question, exit
/// 130 (as a shell reports an interrupted command), nothing written. A
/// text question gets it as SIGINT, a list question as a key.
#[test]
fn ctrl_c_at_any_question_cancels_with_one_message_and_exit_130() {
    for (question, keep) in [("Project name", "project_name"), ("Backends", "backends")] {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("lab");
        let args = preset_except(&dir, &[keep]);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let mut term = Term::new(&args, 100);
        term.expect(question);
        term.send("\x03");
        term.finish();
        let text = String::from_utf8_lossy(&term.transcript).into_owned();
        assert!(
            text.contains("cancelled: nothing was written"),
            "{question}: {text:?}"
        );
        let status = term.session.get_process_mut().wait().unwrap();
        assert!(
            format!("{status:?}").ends_with(", 130)"),
            "{question}: {status:?}"
        );
        assert!(!dir.exists(), "{question}: something was written");
    }
}
