//! Interactive answers: one dialoguer prompt per key, each with a default,
//! a one-line help, and validation that asks again instead of failing.

use std::collections::HashSet;

use anyhow::{Context, Result};
use dialoguer::theme::ColorfulTheme;
use dialoguer::{Confirm, Input, MultiSelect, Select};

use crate::answers::{
    Answers, PYTHON_VERSIONS, Region, check_backend_combination, parse_port, validate_project_name,
    validate_service_name,
};
use crate::backend::Backend;
use crate::style::{DIM, WARN, paint};

/// Asks for every answer not already fixed by `--set` or an answers file.
pub fn ask(mut answers: Answers, preset: &HashSet<String>) -> Result<Answers> {
    let theme = ColorfulTheme::default();
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
    // The port may collide with a service that a backend chosen later adds.
    while let Err(problem) = answers.validate() {
        anstream::eprintln!("{}", paint(WARN, &problem));
        answers.port = ask_port(&theme, answers.port)?;
    }
    Ok(answers)
}

fn help(text: &str) {
    anstream::eprintln!("{}", paint(DIM, format!("  {text}")));
}

fn ask_project_name(theme: &ColorfulTheme, default: &str) -> Result<String> {
    help("A name for the workspace, used in its README and Dev Container.");
    Input::with_theme(theme)
        .with_prompt("Project name")
        .default(default.to_string())
        .validate_with(|value: &String| validate_project_name(value))
        .interact_text()
        .context("reading the project name")
}

fn ask_service_name(theme: &ColorfulTheme, default: &str) -> Result<String> {
    help("The compose service and OTEL_SERVICE_NAME: your dataset name in Honeycomb.");
    Input::with_theme(theme)
        .with_prompt("Backend service name")
        .default(default.to_string())
        .validate_with(|value: &String| validate_service_name(value))
        .interact_text()
        .context("reading the service name")
}

fn ask_port(theme: &ColorfulTheme, default: u16) -> Result<u16> {
    help("The port the Flask backend listens on, in the container and on the host.");
    let text: String = Input::with_theme(theme)
        .with_prompt("Backend port")
        .default(default.to_string())
        .validate_with(|value: &String| parse_port(value).map(|_| ()).map_err(|e| e.allowed))
        .interact_text()
        .context("reading the port")?;
    Ok(parse_port(&text)?)
}

fn ask_python_version(theme: &ColorfulTheme, default: &str) -> Result<String> {
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
        .context("reading the Python version")?;
    Ok(PYTHON_VERSIONS[chosen].to_string())
}

fn ask_backends(theme: &ColorfulTheme, default: &[Backend]) -> Result<Vec<Backend>> {
    help("Space toggles, Enter accepts. Pick honeycomb or local as where spans go.");
    let labels: Vec<String> = Backend::ALL
        .iter()
        .map(|b| format!("{:<10} {}", b.name(), b.summary()))
        .collect();
    let mut checked: Vec<bool> = Backend::ALL.iter().map(|b| default.contains(b)).collect();
    loop {
        let picked = MultiSelect::with_theme(theme)
            .with_prompt("Backends")
            .items(&labels)
            .defaults(&checked)
            .interact()
            .context("reading the backends")?;
        let backends: Vec<Backend> = picked.iter().map(|&i| Backend::ALL[i]).collect();
        match check_backend_combination(&backends) {
            Ok(()) => return Ok(backends),
            Err(problem) => {
                anstream::eprintln!("{}", paint(WARN, format!("Expected {}", problem.allowed)));
                checked = Backend::ALL.iter().map(|b| backends.contains(b)).collect();
            }
        }
    }
}

fn ask_region(theme: &ColorfulTheme, default: Region) -> Result<Region> {
    help("Where your Honeycomb team lives: a key only works against its own region.");
    let labels = ["us (api.honeycomb.io)", "eu (api.eu1.honeycomb.io)"];
    let index = Region::ALL.iter().position(|r| *r == default).unwrap_or(0);
    let chosen = Select::with_theme(theme)
        .with_prompt("Honeycomb region")
        .items(labels)
        .default(index)
        .interact()
        .context("reading the Honeycomb region")?;
    Ok(Region::ALL[chosen])
}

fn confirm(theme: &ColorfulTheme, prompt: &str, default: bool) -> Result<bool> {
    Confirm::with_theme(theme)
        .with_prompt(prompt)
        .default(default)
        .interact()
        .with_context(|| format!("reading the answer to {prompt:?}"))
}
