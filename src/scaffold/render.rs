//! Turns answers into file contents. Every value that lands in a file goes
//! through a filter that escapes it for that file's language.

use anyhow::{Context, Result};
use minijinja::syntax::SyntaxConfig;
use minijinja::{Environment, UndefinedBehavior, Value, context};

use super::manifest::{ANSWERS_FILE, FILES};
use crate::answers::Answers;
use crate::backend::Backend;
use crate::vars::needed_for;

/// One generated file: its workspace-relative path and full contents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedFile {
    pub path: String,
    pub contents: String,
}

/// Renders every file the answers call for, plus the answers file itself.
pub fn render_workspace(answers: &Answers) -> Result<Vec<RenderedFile>> {
    let env = environment();
    let ctx = template_context(answers);
    let mut files = Vec::new();
    for spec in FILES.iter().filter(|spec| (spec.when)(answers)) {
        let contents = env
            .render_str(spec.template, &ctx)
            .with_context(|| format!("rendering the template for {}", spec.path))?;
        files.push(RenderedFile {
            path: spec.path.to_string(),
            contents,
        });
    }
    files.push(RenderedFile {
        path: ANSWERS_FILE.to_string(),
        contents: answers.to_yaml(),
    });
    Ok(files)
}

/// Renders one snippet (a template of `templates/insert/`) with `ctx`.
pub fn render_snippet(template: &str, ctx: Value) -> Result<String> {
    environment()
        .render_str(template, ctx)
        .context("rendering a snippet")
}

fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_syntax(
        SyntaxConfig::builder()
            .trim_blocks(true)
            .lstrip_blocks(true)
            .keep_trailing_newline(true)
            .build()
            .expect("the default delimiters are valid"),
    );
    // A JSON string is also a valid YAML flow scalar and a valid Python str literal.
    env.add_filter("yaml", json_string);
    env.add_filter("pystr", json_string);
    env
}

fn json_string(value: String) -> String {
    serde_json::to_string(&value).expect("a string always serializes")
}

fn honeycomb_endpoint(answers: &Answers) -> String {
    format!("https://{}", answers.honeycomb_region.api_host())
}

/// A name Compose accepts as a project name: lowercase letters, digits, `-`, `_`.
pub fn project_slug(project_name: &str) -> String {
    let mut slug = String::new();
    for c in project_name.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() || c == '_' {
            slug.push(c);
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    let slug = slug.trim_matches('-');
    if slug.is_empty() {
        "tracelab".into()
    } else {
        slug.into()
    }
}

fn template_context(answers: &Answers) -> Value {
    let slug = project_slug(&answers.project_name);
    let sampling_rule_name: String = slug.chars().take(32).collect();
    let needed: Vec<Value> = needed_for(&answers.backends)
        .into_iter()
        .map(|var| {
            context! { name => var.name, description => var.description, secret => var.secret }
        })
        .collect();
    let mut forward_ports = vec![answers.port];
    if answers.has(Backend::Local) {
        forward_ports.push(16686);
    }
    let backend_list = answers
        .backends
        .iter()
        .map(|b| b.summary())
        .collect::<Vec<_>>()
        .join("; ");
    let honeycomb_ui = answers.honeycomb_region.ui_origin();
    context! {
        project_name => answers.project_name.clone(),
        project_slug => slug,
        sampling_rule_name,
        service_name => answers.service_name.clone(),
        port => answers.port,
        python_version => answers.python_version.clone(),
        honeycomb_endpoint => honeycomb_endpoint(answers),
        honeycomb_ui,
        backend_list,
        honeycomb => answers.has(Backend::Honeycomb),
        xray => answers.has(Backend::Xray),
        cloudwatch => answers.has(Backend::Cloudwatch),
        rollbar => answers.has(Backend::Rollbar),
        local => answers.has(Backend::Local),
        needed_vars => needed,
        forward_ports,
        listen_web_port => crate::ports::LISTEN_WEB,
        tracelab_requirement => crate::dist::requirement(),
        tracelab_install => crate::dist::install_line(),
        tracelab_start_check => crate::dist::start_check_line(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slug_is_a_valid_compose_project_name() {
        assert_eq!(project_slug("Cruddur Week 2!"), "cruddur-week-2");
        assert_eq!(project_slug("--"), "tracelab");
        assert_eq!(project_slug("O'Brien's lab"), "o-brien-s-lab");
    }

    #[test]
    fn every_template_renders_for_every_backend_set() {
        for backends in [
            "honeycomb",
            "local",
            "honeycomb,xray,cloudwatch,rollbar",
            "local,xray",
        ] {
            let mut answers = Answers::defaults(None);
            answers.set("backends", backends).unwrap();
            let files = render_workspace(&answers).unwrap();
            assert!(files.iter().any(|f| f.path == "docker-compose.yml"));
            assert_eq!(
                files.iter().any(|f| f.path == "aws/json/xray.json"),
                answers.has(Backend::Xray)
            );
        }
    }

    #[test]
    fn the_api_key_is_interpolated_never_literal() {
        let files = render_workspace(&Answers::defaults(None)).unwrap();
        let compose = &files
            .iter()
            .find(|f| f.path == "docker-compose.yml")
            .unwrap()
            .contents;
        assert!(compose.contains("x-honeycomb-team=${HONEYCOMB_API_KEY}"));
    }
}
