//! `tracelab add` in a repository tracelab did not make (a student's Week 1
//! cruddur): the pieces each backend needs, inserted where they belong,
//! with everything the student wrote kept as it is.
//!
//! - app.py: imports after the last top-level import, the setup just before
//!   `app = Flask(...)` and the instrumentors just after it, at the
//!   positions the Python parser gives (a piece already live is skipped);
//! - the compose file: entries after the last one of the backend service's
//!   `environment:` block, in its style and indentation, and new services
//!   (the X-Ray daemon, Jaeger) at the end of `services:`, from the YAML
//!   line index, so comments and order stay as they were;
//! - requirements.txt: the packages it lacks, at the pins `tracelab new` uses.

use std::path::{Path, PathBuf};

use anyhow::{Result, bail};
use minijinja::context;

use super::render::render_snippet;
use crate::answers::Answers;
use crate::backend::Backend;
use crate::workspace::compose::ComposeFile;
use crate::workspace::context::Context;
use crate::workspace::python::{PyFile, Value};

macro_rules! snippet {
    ($name:literal) => {
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/templates/insert/",
            $name
        ))
    };
}

/// One file's new text.
pub struct Edit {
    pub path: PathBuf,
    pub before: String,
    pub after: String,
}

/// Plans the edits that wire `backends` into the repository of `ctx`.
pub fn plan(ctx: &Context, backends: &[Backend]) -> Result<Vec<Edit>> {
    let compose = ctx.compose.as_ref().map(|c| &c.file);
    let service = ctx.backend_name().to_string();
    let mut edits = Vec::new();
    let Some(app) = ctx.code.first() else {
        bail!(
            "{}: no app.py to wire: tracelab add needs the Flask backend (backend-flask/app.py)",
            ctx.backend_dir.display()
        );
    };
    if let Some(error) = &app.syntax_error {
        bail!(
            "{}:{}: {}: fix it first (python3 -m py_compile shows the same)",
            app.path.display(),
            error.line,
            error.message
        );
    }
    let text = crate::workspace::read::text(&app.path)?;
    let after = edit_app(app, &text, backends, &service)?;
    edits.push(Edit {
        path: app.path.clone(),
        before: text,
        after,
    });
    if let Some(file) = compose {
        let text = crate::workspace::read::text(&file.path)?;
        let after = edit_compose(file, &text, &service, backends)?;
        edits.push(Edit {
            path: file.path.clone(),
            before: text,
            after,
        });
    }
    let requirements = ctx.backend_dir.join("requirements.txt");
    let text = crate::workspace::read::optional_text(&requirements)?.unwrap_or_default();
    edits.push(Edit {
        after: edit_requirements(&text, backends)?,
        path: requirements,
        before: text,
    });
    edits.retain(|e| e.before != e.after);
    Ok(edits)
}

/// The pieces of one backend for app.py: (imports, setup, after the app).
fn pieces(backend: Backend) -> (&'static str, &'static str, &'static str) {
    match backend {
        Backend::Honeycomb | Backend::Local => (
            snippet!("otel.imports.py.j2"),
            snippet!("otel.setup.py.j2"),
            snippet!("otel.after_app.py.j2"),
        ),
        Backend::Xray => (
            snippet!("xray.imports.py.j2"),
            snippet!("xray.setup.py.j2"),
            snippet!("xray.after_app.py.j2"),
        ),
        Backend::Cloudwatch => (
            snippet!("cloudwatch.imports.py.j2"),
            snippet!("cloudwatch.setup.py.j2"),
            snippet!("cloudwatch.after_app.py.j2"),
        ),
        Backend::Rollbar => (
            snippet!("rollbar.imports.py.j2"),
            snippet!("rollbar.setup.py.j2"),
            snippet!("rollbar.after_app.py.j2"),
        ),
    }
}

/// Whether live code already has the backend's setup, and its after-app part.
fn present(app: &PyFile, backend: Backend) -> (bool, bool) {
    let called = |method: &str| app.facts.has_call(method);
    match backend {
        Backend::Honeycomb | Backend::Local => (called("TracerProvider"), called("instrument_app")),
        Backend::Xray => (
            app.facts
                .calls
                .iter()
                .any(|c| c.name == "xray_recorder.configure"),
            called("XRayMiddleware"),
        ),
        Backend::Cloudwatch => {
            let there = called("CloudWatchLogHandler");
            (there, there)
        }
        Backend::Rollbar => {
            let there = app.facts.calls.iter().any(|c| c.name == "rollbar.init");
            (there, there)
        }
    }
}

fn edit_app(app: &PyFile, text: &str, backends: &[Backend], service: &str) -> Result<String> {
    let creation = app.facts.assignments.iter().find(|a| {
        a.module_level && matches!(&a.value, Value::Call(callee, _) if callee == "Flask" || callee.ends_with(".Flask"))
    });
    let Some(creation) = creation else {
        bail!(
            "{}: no `app = Flask(__name__)` at the top level, so there is no place to put the wiring: add it by hand (tracelab new --defaults /tmp/ref shows it)",
            app.path.display()
        );
    };
    let ctx = context! { app => creation.target.as_str(), service_name => service };
    let existing: Vec<&str> = text.lines().map(str::trim).collect();
    let (mut imports, mut setup, mut after) = (Vec::<String>::new(), String::new(), String::new());
    for &backend in backends {
        let (has_setup, has_after) = present(app, backend);
        let (import_t, setup_t, after_t) = pieces(backend);
        if !(has_setup && has_after) {
            for line in render_snippet(import_t, ctx.clone())?.lines() {
                let line = line.to_string();
                if !existing.contains(&line.trim()) && !imports.contains(&line) {
                    imports.push(line);
                }
            }
        }
        if !has_setup {
            setup.push_str(&render_snippet(setup_t, ctx.clone())?);
        }
        if !has_after {
            after.push_str(&render_snippet(after_t, ctx.clone())?);
        }
    }
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    // From the bottom up, so earlier positions stay valid.
    if !after.is_empty() {
        insert_block(&mut lines, creation.end_line, &after);
    }
    if !setup.is_empty() {
        insert_block(&mut lines, creation.line - 1, &setup);
    }
    if !imports.is_empty() {
        let at = app
            .facts
            .import_end_lines
            .iter()
            .copied()
            .filter(|l| *l < creation.line)
            .max()
            .unwrap_or(0);
        insert_block(&mut lines, at, &(imports.join("\n") + "\n"));
    }
    Ok(rejoin(lines, text))
}

/// The lines joined back, ending as the original did (with or without a
/// final newline), so the diff shows only what was added.
fn rejoin(lines: Vec<String>, original: &str) -> String {
    let mut text = lines.join("\n");
    if original.ends_with('\n') || original.is_empty() {
        text.push('\n');
    }
    text
}

/// Inserts `block` (lines ending in \n) after the first `after` lines.
fn insert_block(lines: &mut Vec<String>, after: usize, block: &str) {
    let at = after.min(lines.len());
    let new: Vec<String> = block.lines().map(str::to_string).collect();
    lines.splice(at..at, new);
}

fn indentation(line: &str) -> usize {
    line.len() - line.trim_start().len()
}

/// The environment entries a backend needs in the backend service.
fn env_entries(backend: Backend, service: &str) -> Vec<(&'static str, String)> {
    let region = Answers::defaults(None).honeycomb_region;
    match backend {
        Backend::Honeycomb => vec![
            ("OTEL_SERVICE_NAME", service.to_string()),
            (
                "OTEL_EXPORTER_OTLP_ENDPOINT",
                format!("https://{}", region.api_host()),
            ),
            (
                "OTEL_EXPORTER_OTLP_HEADERS",
                "x-honeycomb-team=${HONEYCOMB_API_KEY}".into(),
            ),
        ],
        Backend::Local => vec![
            ("OTEL_SERVICE_NAME", service.to_string()),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://jaeger:4318".into()),
        ],
        Backend::Xray => vec![("AWS_XRAY_DAEMON_ADDRESS", "xray-daemon:2000".into())],
        Backend::Cloudwatch => vec![
            ("AWS_DEFAULT_REGION", "${AWS_DEFAULT_REGION}".into()),
            ("AWS_ACCESS_KEY_ID", "${AWS_ACCESS_KEY_ID}".into()),
            ("AWS_SECRET_ACCESS_KEY", "${AWS_SECRET_ACCESS_KEY}".into()),
        ],
        Backend::Rollbar => vec![("ROLLBAR_ACCESS_TOKEN", "${ROLLBAR_ACCESS_TOKEN}".into())],
    }
}

fn edit_compose(
    file: &ComposeFile,
    text: &str,
    service: &str,
    backends: &[Backend],
) -> Result<String> {
    let Some(svc) = file.service(service) else {
        bail!("{}: no service {service:?} to wire", file.path.display());
    };
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let service_line = file.line(service, &[]).ok_or_else(|| {
        anyhow::anyhow!("{}: cannot find services.{service}", file.path.display())
    })?;
    let service_indent = indentation(&lines[service_line - 1]);
    let unit = lines[service_line..]
        .iter()
        .find(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        .map(|l| indentation(l).saturating_sub(service_indent))
        .filter(|u| *u > 0)
        .unwrap_or(2);
    // New services go at the end of `services:` (bottom edit first).
    let mut services: Vec<&str> = Vec::new();
    let has = |image: &str| {
        file.services
            .iter()
            .any(|s| s.image_name().is_some_and(|n| n.ends_with(image)))
    };
    if backends.contains(&Backend::Xray) && !has("aws-xray-daemon") {
        services.push(snippet!("xray-daemon.yml.j2"));
    }
    if backends.contains(&Backend::Local) && !has("all-in-one") {
        services.push(snippet!("jaeger.yml.j2"));
    }
    if !services.is_empty() {
        // On the backend's own networks, or the backend cannot reach them.
        let networks = svc
            .networks
            .as_ref()
            .map(|n| format!("  networks: [{}]\n", n.join(", ")));
        let mut block = String::new();
        for part in services {
            block.push('\n');
            block.push_str(&reindent(part, service_indent, unit));
            if let Some(networks) = &networks {
                block.push_str(&reindent(networks, service_indent, unit));
            }
        }
        let end = services_end(&lines, file);
        insert_block(&mut lines, end, &block);
    }
    // Then the environment entries of the backend service.
    let present: Vec<&str> = svc.environment.iter().map(|(k, _)| k.as_str()).collect();
    let mut entries: Vec<(&str, String)> = Vec::new();
    for &backend in backends {
        for (key, value) in env_entries(backend, service) {
            if !present.contains(&key) && !entries.iter().any(|(k, _)| *k == key) {
                entries.push((key, value));
            }
        }
    }
    if !entries.is_empty() {
        match file.lines.line(&format!("services.{service}.environment")) {
            Some(env_line) => {
                let last = present
                    .iter()
                    .filter_map(|k| {
                        file.lines
                            .line(&format!("services.{service}.environment.{k}"))
                    })
                    .max()
                    .unwrap_or(env_line);
                let header = lines[env_line - 1].trim_end();
                if !header.ends_with(':') {
                    bail!(
                        "{}:{env_line}: the environment is written inline; add these by hand: {}",
                        file.path.display(),
                        entries
                            .iter()
                            .map(|(k, v)| format!("{k}: \"{v}\""))
                            .collect::<Vec<_>>()
                            .join(", ")
                    );
                }
                let list_style = lines
                    .get(env_line)
                    .is_some_and(|l| l.trim_start().starts_with("- "));
                let indent = if last == env_line {
                    indentation(&lines[env_line - 1]) + unit
                } else {
                    indentation(&lines[last - 1])
                };
                let pad = " ".repeat(indent);
                let block: String = entries
                    .iter()
                    .map(|(k, v)| {
                        if list_style {
                            format!("{pad}- {k}={v}\n")
                        } else {
                            format!("{pad}{k}: \"{v}\"\n")
                        }
                    })
                    .collect();
                insert_block(&mut lines, last, &block);
            }
            None => {
                let pad = " ".repeat(service_indent + unit);
                let mut block = format!("{pad}environment:\n");
                for (k, v) in &entries {
                    block.push_str(&format!("{pad}{}{k}: \"{v}\"\n", " ".repeat(unit)));
                }
                insert_block(&mut lines, service_line, &block);
            }
        }
    }
    Ok(rejoin(lines, text))
}

/// A block written with 2-space steps, moved under `base` with `unit` steps.
fn reindent(block: &str, base: usize, unit: usize) -> String {
    block
        .lines()
        .map(|line| {
            if line.trim().is_empty() {
                return "\n".to_string();
            }
            let depth = indentation(line) / 2;
            format!("{}{}\n", " ".repeat(base + depth * unit), line.trim_start())
        })
        .collect()
}

/// The line after which a new service goes: the last line of `services:`.
fn services_end(lines: &[String], file: &ComposeFile) -> usize {
    let start = file.lines.line("services").unwrap_or(1);
    let mut end = lines.len();
    for (i, line) in lines.iter().enumerate().skip(start) {
        if !line.trim().is_empty() && !line.starts_with(' ') && !line.starts_with('#') {
            end = i;
            break;
        }
    }
    // Blank lines and top-level comments before the next key belong to it.
    while end > start && (lines[end - 1].trim().is_empty() || lines[end - 1].starts_with('#')) {
        end -= 1;
    }
    end
}

/// The package a requirement line names, normalized.
fn package(line: &str) -> Option<String> {
    let name = line
        .split('#')
        .next()?
        .trim()
        .split(['=', '<', '>', '~', '!', '[', ';', ' '])
        .next()?
        .to_ascii_lowercase()
        .replace('_', "-");
    (!name.is_empty()).then_some(name)
}

/// Which backend a pinned package belongs to (None: the base Flask set).
fn package_backend(name: &str) -> Option<Backend> {
    match name {
        n if n.starts_with("opentelemetry-") => Some(Backend::Honeycomb),
        "aws-xray-sdk" => Some(Backend::Xray),
        "watchtower" => Some(Backend::Cloudwatch),
        "rollbar" | "blinker" => Some(Backend::Rollbar),
        _ => None,
    }
}

/// requirements.txt with the packages `backends` need and it lacks, pinned
/// as `tracelab new` pins them.
fn edit_requirements(text: &str, backends: &[Backend]) -> Result<String> {
    let mut answers = Answers::defaults(None);
    answers.backends = backends.to_vec();
    if !answers.backends.iter().any(|b| b.is_otlp_destination()) {
        answers.backends.push(Backend::Honeycomb);
    }
    let rendered = crate::scaffold::render_workspace(&answers)?
        .into_iter()
        .find(|f| f.path == "backend-flask/requirements.txt")
        .map(|f| f.contents)
        .unwrap_or_default();
    let have: Vec<String> = text.lines().filter_map(package).collect();
    let wanted = |b: Backend| {
        backends.contains(&b)
            || (b == Backend::Honeycomb && backends.iter().any(|x| x.is_otlp_destination()))
    };
    let missing: Vec<&str> = rendered
        .lines()
        .filter(|l| {
            package(l)
                .is_some_and(|p| !have.contains(&p) && package_backend(&p).is_some_and(wanted))
        })
        .collect();
    if missing.is_empty() {
        return Ok(text.to_string());
    }
    let mut out = text.to_string();
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
    out.push_str(&missing.join("\n"));
    out.push('\n');
    Ok(out)
}

/// The unified diff of one edit, with paths relative to `dir`.
pub fn diff(dir: &Path, edit: &Edit) -> String {
    let rel = edit
        .path
        .strip_prefix(dir)
        .unwrap_or(&edit.path)
        .display()
        .to_string();
    diffy::DiffOptions::new()
        .set_original_filename(format!("a/{rel}"))
        .set_modified_filename(format!("b/{rel}"))
        .create_patch(&edit.before, &edit.after)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn compose(text: &str) -> ComposeFile {
        ComposeFile::parse(Path::new("docker-compose.yml"), text).unwrap()
    }

    #[test]
    fn entries_follow_the_block_style_indentation_and_comments() {
        let text = "services:\n    backend:\n        build: ./backend\n        environment:\n            - A=1   # kept\n            # a comment\n            - B=2\n        networks: [n]\n# about networks\nnetworks:\n    n: {}\n";
        let out = edit_compose(
            &compose(text),
            text,
            "backend",
            &[Backend::Rollbar, Backend::Xray],
        )
        .unwrap();
        assert!(out.contains("            - B=2\n            - ROLLBAR_ACCESS_TOKEN=${ROLLBAR_ACCESS_TOKEN}\n            - AWS_XRAY_DAEMON_ADDRESS=xray-daemon:2000\n"), "{out}");
        assert!(
            out.contains("- A=1   # kept\n            # a comment\n"),
            "{out}"
        );
        // The daemon: at the end of services, 4-space steps, on the backend's network,
        // before the comment that belongs to `networks:`.
        assert!(
            out.contains("\n    xray-daemon:\n        image: amazon/aws-xray-daemon:3.x\n"),
            "{out}"
        );
        assert!(
            out.contains("        networks: [n]\n# about networks\nnetworks:"),
            "{out}"
        );
        let parsed = compose(&out);
        assert_eq!(
            parsed.service("xray-daemon").unwrap().networks,
            Some(vec!["n".to_string()])
        );
    }

    #[test]
    fn a_service_without_environment_gets_one() {
        let text = "services:\n  backend-flask:\n    build: ./backend-flask\n";
        let out =
            edit_compose(&compose(text), text, "backend-flask", &[Backend::Honeycomb]).unwrap();
        let parsed = compose(&out);
        let env = &parsed.service("backend-flask").unwrap().environment;
        assert_eq!(
            env[0],
            ("OTEL_SERVICE_NAME".into(), Some("backend-flask".into()))
        );
        assert_eq!(env.len(), 3);
    }

    #[test]
    fn requirements_gain_only_what_they_lack() {
        let out = edit_requirements(
            "flask\nopentelemetry-api\n",
            &[Backend::Honeycomb, Backend::Rollbar],
        )
        .unwrap();
        assert!(out.starts_with("flask\nopentelemetry-api\n"));
        assert_eq!(out.matches("opentelemetry-api").count(), 1);
        assert!(
            out.contains("opentelemetry-sdk==1.45.1")
                && out.contains("rollbar==")
                && out.contains("blinker==")
        );
        assert!(!out.contains("aws-xray-sdk") && !out.contains("gunicorn"));
    }
}
