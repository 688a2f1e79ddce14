//! Interactive answers: one dialoguer prompt per key, each with a default,
//! a one-line help, and validation that asks again instead of failing.

use std::collections::HashSet;

use std::fmt;

use anyhow::{Result, anyhow};
use dialoguer::console::Term;
use dialoguer::theme::{ColorfulTheme, Theme};
use dialoguer::{Input, MultiSelect, Select};

use crate::answers::{
    Answers, PYTHON_VERSIONS, Region, check_backend_combination, parse_port, validate_project_name,
    validate_service_name,
};
use crate::backend::Backend;
use crate::style::{DIM, FAIL, OK, paint, wrap};

/// Asks for every answer not already fixed by `--set` or an answers file.
pub fn ask(mut answers: Answers, preset: &HashSet<String>) -> Result<Answers> {
    let theme = PromptTheme::default();
    let asks = |key: &str| !preset.contains(key);
    if asks("project_name") {
        answers.project_name = ask_project_name(&theme, &answers.project_name)?;
    }
    if asks("service_name") {
        answers.service_name = ask_service_name(&theme, &answers.service_name)?;
    }
    if asks("port") {
        answers.port = ask_port(&theme, answers.port)?;
    }
    if asks("python_version") {
        answers.python_version = ask_python_version(&theme, &answers.python_version)?;
    }
    if asks("backends") {
        answers.backends = ask_backends(&theme, &answers.backends)?;
    }
    if asks("honeycomb_region") && answers.has(Backend::Honeycomb) {
        answers.honeycomb_region = ask_region(&theme, answers.honeycomb_region)?;
    }
    if asks("gitpod") {
        help("Adds .gitpod.yml: tasks that install and start the backend, and its ports.");
        answers.gitpod = confirm(&theme, "Gitpod config", answers.gitpod)?;
    }
    if asks("devcontainer") {
        help("Adds .devcontainer/devcontainer.json for Codespaces, with the secrets to set.");
        answers.devcontainer = confirm(&theme, "Dev Container config", answers.devcontainer)?;
    }
    // The port may collide with a service that a backend chosen later adds:
    // ask again, offering a port that is free, not the rejected one.
    if answers.validate().is_err() {
        let free = free_port_after(&answers);
        answers.port = ask_port_for(&theme, &answers, free)?;
    }
    Ok(answers)
}

/// The first port after the chosen one that no other service takes.
fn free_port_after(answers: &Answers) -> u16 {
    let mut candidate = answers.clone();
    for port in answers.port.saturating_add(1)..=u16::MAX {
        candidate.port = port;
        if candidate.validate().is_ok() {
            return port;
        }
    }
    answers.port
}

/// A prompt that failed: show the cursor again (a list question hides it,
/// and Ctrl-C ends it before it can show it), and say nothing was written.
fn interrupted(error: dialoguer::Error, what: &str) -> anyhow::Error {
    let _ = Term::stderr().show_cursor();
    let dialoguer::Error::IO(io) = &error;
    if io.kind() == std::io::ErrorKind::Interrupted {
        // Ctrl-C: the same words at every question, and exit 130.
        return crate::exit::Cancelled.into();
    }
    anyhow!("cannot read {what} from the terminal: nothing was written ({error})")
}

fn help(text: &str) {
    anstream::eprintln!("{}", paint(DIM, format!("  {text}")));
}

fn ask_project_name(theme: &PromptTheme, default: &str) -> Result<String> {
    help("A name for the workspace, used in its README and Dev Container.");
    Input::with_theme(theme)
        .with_prompt("Project name")
        .default(default.to_string())
        .validate_with(|value: &String| validate_project_name(value))
        .interact_text()
        .map_err(|e| interrupted(e, "the project name"))
}

fn ask_service_name(theme: &PromptTheme, default: &str) -> Result<String> {
    help("The compose service and OTEL_SERVICE_NAME: your dataset name in Honeycomb.");
    Input::with_theme(theme)
        .with_prompt("Backend service name")
        .default(default.to_string())
        .validate_with(|value: &String| validate_service_name(value))
        .interact_text()
        .map_err(|e| interrupted(e, "the service name"))
}

fn ask_port(theme: &PromptTheme, default: u16) -> Result<u16> {
    help("The port the Flask backend listens on, in the container and on the host.");
    read_port(theme, default, |_| Ok(()))
}

/// The port again, once the backends are known: it must not be one that
/// another chosen service takes.
fn ask_port_for(theme: &PromptTheme, answers: &Answers, default: u16) -> Result<u16> {
    let taken = answers.port;
    help(&format!(
        "Port {taken} is taken by a service of the backends you chose: pick another."
    ));
    read_port(theme, default, |port| {
        let mut candidate = answers.clone();
        candidate.port = port;
        candidate.validate().map_err(|e| e.allowed)
    })
}

/// A port, asked again until it is a port and `also` accepts it.
fn read_port(
    theme: &PromptTheme,
    default: u16,
    also: impl Fn(u16) -> Result<(), String>,
) -> Result<u16> {
    let text: String = Input::with_theme(theme)
        .with_prompt("Backend port")
        .default(default.to_string())
        .validate_with(|value: &String| also(parse_port(value).map_err(|e| e.allowed)?))
        .interact_text()
        .map_err(|e| interrupted(e, "the port"))?;
    Ok(parse_port(&text)?)
}

fn ask_python_version(theme: &PromptTheme, default: &str) -> Result<String> {
    help("The Python of the Docker images; the pinned requirements resolve on each.");
    let index = PYTHON_VERSIONS
        .iter()
        .position(|v| *v == default)
        .unwrap_or(0);
    let chosen = Select::with_theme(theme)
        .with_prompt("Python version")
        .items(PYTHON_VERSIONS)
        .default(index)
        .interact()
        .map_err(|e| interrupted(e, "the Python version"))?;
    Ok(PYTHON_VERSIONS[chosen].to_string())
}

fn ask_backends(theme: &PromptTheme, default: &[Backend]) -> Result<Vec<Backend>> {
    help("Space toggles, Enter accepts. Pick honeycomb or local as where spans go.");
    let labels: Vec<String> = Backend::ALL
        .iter()
        .map(|b| format!("{:<10} {}", b.name(), b.summary()))
        .collect();
    let mut checked: Vec<bool> = Backend::ALL.iter().map(|b| default.contains(b)).collect();
    let mut prompt = "Backends".to_string();
    loop {
        let picked = MultiSelect::with_theme(theme)
            .with_prompt(&prompt)
            .items(&labels)
            .defaults(&checked)
            .report(false)
            .interact()
            .map_err(|e| interrupted(e, "the backends"))?;
        let backends: Vec<Backend> = picked.iter().map(|&i| Backend::ALL[i]).collect();
        match check_backend_combination(&backends) {
            Ok(()) => {
                let names: Vec<&str> = backends.iter().map(|b| b.name()).collect();
                let mut line = String::new();
                let _ = theme.format_multi_select_prompt_selection(&mut line, "Backends", &names);
                let _ = Term::stderr().write_line(&line);
                return Ok(backends);
            }
            // The reason goes into the prompt itself, so that it is redrawn
            // in place and gone once the answer is valid.
            Err(problem) => {
                prompt = format!("Backends (expected {})", problem.allowed);
                checked = Backend::ALL.iter().map(|b| backends.contains(b)).collect();
            }
        }
    }
}

fn ask_region(theme: &PromptTheme, default: Region) -> Result<Region> {
    help("Where your Honeycomb team lives: a key only works against its own region.");
    let labels = ["us (api.honeycomb.io)", "eu (api.eu1.honeycomb.io)"];
    let index = Region::ALL.iter().position(|r| *r == default).unwrap_or(0);
    let chosen = Select::with_theme(theme)
        .with_prompt("Honeycomb region")
        .items(labels)
        .default(index)
        .interact()
        .map_err(|e| interrupted(e, "the Honeycomb region"))?;
    Ok(Region::ALL[chosen])
}

/// A yes/no question that takes only yes, y, no or n (a single-key confirm
/// would read `maybe` as its `y`).
fn confirm(theme: &PromptTheme, prompt: &str, default: bool) -> Result<bool> {
    let answer: String = Input::with_theme(theme)
        .with_prompt(prompt)
        .default(if default { "yes" } else { "no" }.to_string())
        .validate_with(|value: &String| parse_yes_no(value).map(|_| ()))
        .interact_text()
        .map_err(|e| interrupted(e, prompt))?;
    Ok(parse_yes_no(&answer).expect("validated"))
}

fn parse_yes_no(value: &str) -> Result<bool, String> {
    match value.trim().to_ascii_lowercase().as_str() {
        "y" | "yes" => Ok(true),
        "n" | "no" => Ok(false),
        other => Err(format!("{other:?} is neither yes nor no: type y or n")),
    }
}

/// ColorfulTheme, with two things it lacks: a marker on the active item of
/// a checklist (without colour nothing else shows which item Space
/// toggles), and error lines wrapped to the terminal's width (dialoguer
/// clears by counting lines, so a line the terminal wraps is left behind).
#[derive(Default)]
pub struct PromptTheme {
    inner: ColorfulTheme,
}

impl PromptTheme {
    fn width() -> usize {
        let columns = Term::stderr().size().1 as usize;
        columns.clamp(20, 200)
    }
}

impl Theme for PromptTheme {
    fn format_prompt(&self, f: &mut dyn fmt::Write, prompt: &str) -> fmt::Result {
        self.inner.format_prompt(f, prompt)
    }

    fn format_error(&self, f: &mut dyn fmt::Write, err: &str) -> fmt::Result {
        // "✘ " before the text, two spaces before each continuation line.
        self.inner
            .format_error(f, &wrap(err, Self::width() - 3, "  "))
    }

    fn format_input_prompt(
        &self,
        f: &mut dyn fmt::Write,
        prompt: &str,
        default: Option<&str>,
    ) -> fmt::Result {
        self.inner.format_input_prompt(f, prompt, default)
    }

    fn format_input_prompt_selection(
        &self,
        f: &mut dyn fmt::Write,
        prompt: &str,
        sel: &str,
    ) -> fmt::Result {
        self.inner.format_input_prompt_selection(f, prompt, sel)
    }

    fn format_select_prompt(&self, f: &mut dyn fmt::Write, prompt: &str) -> fmt::Result {
        self.inner.format_select_prompt(f, prompt)
    }

    fn format_select_prompt_selection(
        &self,
        f: &mut dyn fmt::Write,
        prompt: &str,
        sel: &str,
    ) -> fmt::Result {
        self.inner.format_select_prompt_selection(f, prompt, sel)
    }

    fn format_select_prompt_item(
        &self,
        f: &mut dyn fmt::Write,
        text: &str,
        active: bool,
    ) -> fmt::Result {
        self.inner.format_select_prompt_item(f, text, active)
    }

    fn format_multi_select_prompt(&self, f: &mut dyn fmt::Write, prompt: &str) -> fmt::Result {
        self.inner.format_multi_select_prompt(f, prompt)
    }

    fn format_multi_select_prompt_selection(
        &self,
        f: &mut dyn fmt::Write,
        prompt: &str,
        selections: &[&str],
    ) -> fmt::Result {
        self.inner
            .format_multi_select_prompt_selection(f, prompt, selections)
    }

    fn format_multi_select_prompt_item(
        &self,
        f: &mut dyn fmt::Write,
        text: &str,
        checked: bool,
        active: bool,
    ) -> fmt::Result {
        let marker = if active {
            &self.inner.active_item_prefix
        } else {
            &self.inner.inactive_item_prefix
        };
        write!(f, "{marker} ")?;
        self.inner
            .format_multi_select_prompt_item(f, text, checked, active)
    }
}

/// Shows a change and asks whether to write it; the answer the student
/// gave. Without a terminal nothing can be asked: an error that says how to
/// review (`review`) and how to write without asking. "No" says so.
pub fn approve(header: impl FnOnce(), diff: &str, question: &str, review: &str) -> Result<bool> {
    use std::io::IsTerminal;
    if !(std::io::stdin().is_terminal() && std::io::stdout().is_terminal()) {
        return Err(anyhow!("no terminal to ask on: {review}"));
    }
    header();
    if diff.lines().count() <= SHORT_DIFF {
        print!("{diff}");
        let go = dialoguer::Confirm::new()
            .with_prompt(question)
            .default(false)
            .interact()
            .map_err(|e| interrupted(e, "the answer"))?;
        if !go {
            anstream::println!("{}", paint(DIM, "Nothing was written."));
        }
        return Ok(go);
    }
    // A long diff scrolls the question's context away: its summary, and
    // the diff itself on request, through the pager.
    anstream::println!("{}", diff_summary(diff));
    loop {
        let answer: String = dialoguer::Input::new()
            .with_prompt(format!("{question} [y/N, d: show the diff]"))
            .allow_empty(true)
            .interact_text()
            .map_err(|e| interrupted(e, "the answer"))?;
        match answer.trim().to_ascii_lowercase().as_str() {
            "y" | "yes" => return Ok(true),
            "" | "n" | "no" => {
                anstream::println!("{}", paint(DIM, "Nothing was written."));
                return Ok(false);
            }
            "d" | "diff" => page(diff),
            _ => anstream::println!(
                "{}",
                paint(DIM, "Answer y (write), n (do not) or d (show the diff).")
            ),
        }
    }
}

/// Diffs longer than this many lines are summarized before the question.
const SHORT_DIFF: usize = 40;

/// "3 files, +120 -4 lines: a, b, c" of a unified diff.
fn diff_summary(diff: &str) -> String {
    let files: Vec<&str> = diff
        .lines()
        .filter_map(|l| l.strip_prefix("+++ "))
        .map(|name| name.trim_start_matches("b/"))
        .collect();
    let added = diff
        .lines()
        .filter(|l| l.starts_with('+') && !l.starts_with("+++"))
        .count();
    let removed = diff
        .lines()
        .filter(|l| l.starts_with('-') && !l.starts_with("---"))
        .count();
    let count = match files.len() {
        1 => "1 file".to_string(),
        n => format!("{n} files"),
    };
    format!(
        "{count}, {} {} lines: {}",
        paint(OK, format!("+{added}")),
        paint(FAIL, format!("-{removed}")),
        files.join(", ")
    )
}

/// The diff through $PAGER (else less), or printed when there is none.
fn page(diff: &str) {
    use std::io::Write;
    let pager = std::env::var("PAGER")
        .ok()
        .and_then(|p| shlex::split(&p))
        .filter(|words| !words.is_empty())
        .or_else(|| {
            which::which("less")
                .ok()
                .map(|_| vec!["less".into(), "-R".into()])
        });
    let spawned = pager.and_then(|words| {
        std::process::Command::new(&words[0])
            .args(&words[1..])
            .stdin(std::process::Stdio::piped())
            .spawn()
            .ok()
    });
    match spawned {
        Some(mut child) => {
            if let Some(mut stdin) = child.stdin.take() {
                let _ = stdin.write_all(diff.as_bytes());
            }
            let _ = child.wait();
        }
        None => print!("{diff}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_diff_is_summarized_by_files_and_lines() {
        let diff = "--- a/app.py\n+++ b/app.py\n@@ -1,2 +1,3 @@\n a\n-b\n+c\n+d\n--- a/.env.example\n+++ b/.env.example\n@@ -1 +1,2 @@\n x\n+Y=1\n";
        let summary = diff_summary(diff);
        assert!(summary.contains("2 files"), "{summary}");
        assert!(
            summary.contains("+3") && summary.contains("-1"),
            "{summary}"
        );
        assert!(summary.ends_with("app.py, .env.example"), "{summary}");
    }

    #[test]
    fn yes_and_no_only() {
        assert_eq!(parse_yes_no("Y"), Ok(true));
        assert_eq!(parse_yes_no(" no "), Ok(false));
        assert!(parse_yes_no("maybe").is_err());
        assert!(parse_yes_no("").is_err());
    }

    #[test]
    fn a_clashing_port_is_replaced_by_a_free_one() {
        let mut answers = Answers::defaults(None);
        answers.backends = vec![Backend::Local];
        answers.port = 4318;
        assert_eq!(free_port_after(&answers), 4319);
        answers.port = 16686;
        assert_eq!(free_port_after(&answers), 16687);
    }
}
