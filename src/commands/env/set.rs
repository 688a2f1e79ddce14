//! `tracelab env set NAME`: read the value without echoing it, check it with
//! the doctor's rules, then persist it in Gitpod, write it to `.env`, and say
//! the one line that loads it into the current shell.

use std::io::{IsTerminal, Read};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use dialoguer::Password;
use dialoguer::theme::ColorfulTheme;

use crate::cli::EnvSetArgs;
use crate::exit::ExitStatus;
use crate::fingerprint::fingerprint;
use crate::rules::names::is_near_miss;
use crate::rules::values::{hygiene, placeholder};
use crate::rules::{Shape, check_shape};
use crate::scaffold::dotenv_file;
use crate::style::{CODE, HEADING, OK, WARN, paint};
use crate::vars::NEEDED_VARS;
use crate::workspace::process::run_with_timeout;

/// Why a value cannot be right, or a warning about it, by the doctor's rules.
enum Verdict {
    Good(Option<String>),
    Unusual(String),
    Wrong(String),
}

fn judge(name: &str, value: &str) -> Verdict {
    if value.is_empty() {
        return Verdict::Wrong("the value is empty".into());
    }
    if let Some(reason) = placeholder(name, value) {
        return Verdict::Wrong(format!("the value {reason}"));
    }
    if let Some(reason) = hygiene(value) {
        return Verdict::Wrong(format!("the value {reason}"));
    }
    match check_shape(name, value) {
        Some(Shape::Wrong(reason)) => Verdict::Wrong(reason),
        Some(Shape::Unusual(reason)) => Verdict::Unusual(reason),
        Some(Shape::Fits(kind)) => Verdict::Good(Some(kind)),
        None => Verdict::Good(None),
    }
}

/// Names the workspace uses: what tracelab needs, and every variable a
/// compose file of the workspace interpolates (`${AWS_REGION}`, `${APP_NAME}`).
fn workspace_names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = NEEDED_VARS.iter().map(|v| v.name.to_string()).collect();
    names.push("AWS_REGION".into());
    names.push("AWS_SESSION_TOKEN".into());
    for path in crate::workspace::compose::find_all(dir) {
        let Ok(file) = crate::workspace::compose::ComposeFile::load(&path) else {
            continue;
        };
        let raws = file.services.iter().flat_map(|s| {
            s.environment
                .iter()
                .filter_map(|(_, v)| v.clone())
                .chain(s.networks.clone().unwrap_or_default())
        });
        for raw in raws {
            names.extend(crate::workspace::interpolate::referenced(&raw));
        }
    }
    names
}

fn check_name(name: &str, known_names: &[String], force: bool) -> Result<()> {
    let valid = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !valid {
        bail!(
            "{name:?} is not a variable name: use letters, digits and _ (e.g. HONEYCOMB_API_KEY)"
        );
    }
    let known = known_names.iter().any(|n| n == name);
    if let Some(meant) = NEEDED_VARS
        .iter()
        .find(|v| is_near_miss(name, v.name))
        .filter(|_| !known && !force)
    {
        bail!(
            "{name} looks like a misspelling of {}: run `tracelab env set {}` (or pass --force to use {name})",
            meant.name,
            meant.name
        );
    }
    if !known && !force {
        bail!(
            "{name} is not a variable this workspace uses (tracelab needs {}; the compose files use the rest): check the name, or pass --force to set it anyway",
            NEEDED_VARS
                .iter()
                .map(|v| v.name)
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    Ok(())
}

pub fn run(args: EnvSetArgs) -> Result<ExitStatus> {
    let name = args.name.as_str();
    // A .env written into the wrong folder is one Compose never reads.
    let dir = crate::workspace::locate(args.dir.as_deref())?;
    check_name(name, &workspace_names(&dir), args.force)?;
    let (value, kind) = if std::io::stdin().is_terminal() {
        ask(name, args.force)?
    } else {
        read_stdin(name, args.force)?
    };
    let shown = match &kind {
        Some(kind) => format!("{kind} {}", fingerprint(&value)),
        None => fingerprint(&value),
    };
    anstream::println!("{} {name}: {shown}", paint(OK, "✓"));
    let mut problems = 0;
    match save_in_gitpod(name, &value) {
        Some(Ok(())) => anstream::println!(
            "  {} saved in Gitpod (gp env): new workspaces get it",
            paint(OK, "✓")
        ),
        Some(Err(e)) => {
            problems += 1;
            anstream::println!("  {} not saved in Gitpod: {e:#}", paint(WARN, "✗"));
        }
        None => {}
    }
    let env_path = dir.join(".env");
    let replaced = dotenv_file::upsert(&env_path, name, &value)?;
    let verb = if replaced { "updated in" } else { "added to" };
    anstream::println!(
        "  {} {verb} {} (mode 0600): Compose reads it",
        paint(OK, "✓"),
        env_path.display()
    );
    if dotenv_file::ensure_ignored(&dir)? {
        anstream::println!(
            "  {} added .env to {}",
            paint(OK, "✓"),
            dir.join(".gitignore").display()
        );
    }
    anstream::println!(
        "{}",
        paint(
            HEADING,
            "Load it into this shell (and any other open terminal):"
        )
    );
    anstream::println!("  {}", paint(CODE, load_line(&env_path)));
    Ok(ExitStatus::problems_if(problems > 0))
}

/// Sources the `.env` just written: its values are quoted for the shell too.
fn load_line(env_path: &Path) -> String {
    format!(
        "set -a && . {} && set +a",
        crate::shell::quote(&env_path.display().to_string())
    )
}

fn ask(name: &str, force: bool) -> Result<(String, Option<String>)> {
    let theme = ColorfulTheme::default();
    loop {
        let value = Password::with_theme(&theme)
            .with_prompt(format!("{name} (input hidden)"))
            .allow_empty_password(true)
            .interact()
            .context("reading the value")?;
        match judge(name, &value) {
            Verdict::Good(kind) => return Ok((value, kind)),
            Verdict::Unusual(reason) => {
                anstream::eprintln!("{} {reason}", paint(WARN, "!"));
                return Ok((value, None));
            }
            Verdict::Wrong(reason) if force => {
                anstream::eprintln!("{} {reason} (accepted: --force)", paint(WARN, "!"));
                return Ok((value, None));
            }
            Verdict::Wrong(reason) => {
                anstream::eprintln!("{} {reason}: try again (Ctrl-C to stop)", paint(WARN, "✗"))
            }
        }
    }
}

fn read_stdin(name: &str, force: bool) -> Result<(String, Option<String>)> {
    let mut input = String::new();
    std::io::stdin()
        .take(64 * 1024)
        .read_to_string(&mut input)
        .context("reading the value from stdin")?;
    // `echo KEY | tracelab env set` adds one newline: that is not part of the value.
    let value = input
        .strip_suffix('\n')
        .map(|v| v.strip_suffix('\r').unwrap_or(v))
        .unwrap_or(&input)
        .to_string();
    match judge(name, &value) {
        Verdict::Good(kind) => Ok((value, kind)),
        Verdict::Unusual(reason) => {
            anstream::eprintln!("{} {reason}", paint(WARN, "!"));
            Ok((value, None))
        }
        Verdict::Wrong(reason) if force && !value.is_empty() => {
            anstream::eprintln!("{} {reason} (accepted: --force)", paint(WARN, "!"));
            Ok((value, None))
        }
        Verdict::Wrong(reason) => {
            bail!(
                "{name} not set: {reason}; nothing was written (pipe the real value, or pass --force to keep this one)"
            )
        }
    }
}

/// `gp env NAME=value` when gp is on PATH; None outside Gitpod.
fn save_in_gitpod(name: &str, value: &str) -> Option<Result<()>> {
    let gp = which::which("gp").ok()?;
    let result = run_with_timeout(
        Command::new(gp).arg("env").arg(format!("{name}={value}")),
        Duration::from_secs(15),
    );
    Some(match result {
        Ok(output) if output.status.success() => Ok(()),
        Ok(output) => Err(anyhow::anyhow!(
            "gp env failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        )),
        Err(e) => Err(e.context("gp env did not answer")),
    })
}
