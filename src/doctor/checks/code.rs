//! `code-*`: mistakes in app.py and requirements.txt that break tracing
//! without an error: middleware before the app exists, Rollbar through a hook
//! Flask removed, a span processor that is never added.

use crate::backend::Backend;
use crate::doctor::finding::{Finding, Layer};
use crate::workspace::context::{Context, SourceFile};

const OTEL_PACKAGES: &[&str] = &[
    "opentelemetry-api",
    "opentelemetry-sdk",
    "opentelemetry-exporter-otlp-proto-http",
    "opentelemetry-instrumentation-flask",
    "opentelemetry-instrumentation-requests",
];

pub fn run(ctx: &Context) -> Vec<Finding> {
    let mut out = Vec::new();
    if let Some(app) = &ctx.app_py {
        check_app(ctx, app, &mut out);
    }
    if let Some(requirements) = &ctx.requirements
        && (ctx.uses(Backend::Honeycomb) || ctx.uses(Backend::Local))
    {
        check_requirements(requirements, &mut out);
    }
    if out
        .iter()
        .all(|f| f.status == crate::doctor::finding::Status::Ok)
        && ctx.app_py.is_some()
    {
        out.push(Finding::ok(
            "code-app",
            Layer::Code,
            "app.py: instrumentation comes after the app exists, and every processor is added",
        ));
    }
    out
}

/// Lines (1-based) where `needle` appears in code, comments skipped.
fn lines_with(text: &str, needle: &str) -> Vec<usize> {
    text.lines()
        .enumerate()
        .filter(|(_, line)| {
            let code = line.split('#').next().unwrap_or("");
            code.contains(needle)
        })
        .map(|(i, _)| i + 1)
        .collect()
}

/// The line creating the Flask app (`app = Flask(...)`) and the app's name.
fn app_creation(text: &str) -> Option<(usize, String)> {
    text.lines().enumerate().find_map(|(i, line)| {
        let (left, right) = line.split_once('=')?;
        let name = left.trim();
        let ok = right.trim_start().starts_with("Flask(")
            && !name.is_empty()
            && name.chars().all(|c| c.is_alphanumeric() || c == '_');
        ok.then(|| (i + 1, name.to_string()))
    })
}

fn check_app(ctx: &Context, app: &SourceFile, out: &mut Vec<Finding>) {
    let text = &app.text;
    let file = app.path.display();
    if let Some((created, name)) = app_creation(text) {
        for (needle, id, what) in [
            (
                "XRayMiddleware(",
                "code-xray-middleware-order",
                "XRayMiddleware",
            ),
            (
                ".instrument_app(",
                "code-flask-instrumentation-order",
                "FlaskInstrumentor().instrument_app",
            ),
        ] {
            if let Some(line) = lines_with(text, needle).into_iter().find(|l| *l < created) {
                out.push(
                    Finding::fail(id, Layer::Code, format!("{file}:{line}: {what} runs before `{name} = Flask(...)` (line {created}): it wraps no app, so requests are not traced"))
                        .fix(format!("move line {line} below line {created}")),
                );
            }
        }
    }
    // `@app.before_first_request` or `app.before_first_request(f)`; prose
    // mentioning the hook does not count.
    if let Some(line) = lines_with(text, ".before_first_request").first() {
        let flask = flask_version(ctx);
        let removed = flask.is_none_or(|(major, minor)| (major, minor) >= (2, 3));
        let version = flask
            .map(|(a, b)| format!("Flask {a}.{b}"))
            .unwrap_or_else(|| "the latest Flask (unpinned)".into());
        let finding = if removed {
            Finding::fail
        } else {
            Finding::warn
        };
        out.push(
            finding("code-before-first-request", Layer::Code, format!("{file}:{line}: before_first_request is gone in Flask 2.3+, and requirements install {version}: Rollbar is never initialised"))
                .fix("initialise at app creation:  with app.app_context(): init_rollbar(app)".to_string()),
        );
    }
    for (line, variable) in processors(text) {
        let added = lines_with(text, "add_span_processor(").iter().any(|l| {
            text.lines()
                .nth(l - 1)
                .is_some_and(|code| code.contains(&format!("add_span_processor({variable})")))
        });
        if !added {
            out.push(
                Finding::fail("code-unattached-processor", Layer::Code, format!("{file}:{line}: {variable} is created but never added to the provider, so it does nothing"))
                    .fix(format!("provider.add_span_processor({variable})")),
            );
        }
    }
    if !lines_with(text, "TracerProvider(").is_empty()
        && lines_with(text, "set_tracer_provider(").is_empty()
    {
        out.push(
            Finding::fail(
                "code-provider-not-set",
                Layer::Code,
                format!("{file}: a TracerProvider is created but never set, so spans go nowhere"),
            )
            .fix("trace.set_tracer_provider(provider)"),
        );
    }
}

/// `name = SimpleSpanProcessor(...)` / `BatchSpanProcessor(...)` assignments.
fn processors(text: &str) -> Vec<(usize, String)> {
    text.lines()
        .enumerate()
        .filter_map(|(i, line)| {
            let code = line.split('#').next()?;
            let (left, right) = code.split_once('=')?;
            let right = right.trim_start();
            let is_processor = right.starts_with("SimpleSpanProcessor(")
                || right.starts_with("BatchSpanProcessor(");
            let name = left.trim();
            (is_processor
                && !name.is_empty()
                && name.chars().all(|c| c.is_alphanumeric() || c == '_'))
            .then(|| (i + 1, name.to_string()))
        })
        .collect()
}

/// The Flask version requirements.txt pins (`flask==X.Y...`), if it pins one.
fn flask_version(ctx: &Context) -> Option<(u32, u32)> {
    let text = &ctx.requirements.as_ref()?.text;
    text.lines().find_map(|line| {
        let line = line.trim().to_ascii_lowercase();
        let version = line.strip_prefix("flask==")?;
        let mut parts = version.split('.').map(|p| p.parse::<u32>().ok());
        Some((parts.next()??, parts.next().flatten().unwrap_or(0)))
    })
}

fn check_requirements(requirements: &SourceFile, out: &mut Vec<Finding>) {
    let names: Vec<String> = requirements
        .text
        .lines()
        .map(|l| {
            l.split('#')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
                .replace('_', "-")
        })
        .filter_map(|l| {
            l.split(['=', '<', '>', '~', '!', '[', ';', ' '])
                .next()
                .map(str::to_string)
        })
        .collect();
    let missing: Vec<&str> = OTEL_PACKAGES
        .iter()
        .copied()
        .filter(|p| !names.iter().any(|n| n == p))
        .collect();
    if !missing.is_empty() {
        out.push(
            Finding::fail(
                "code-requirements",
                Layer::Code,
                format!(
                    "{} lacks {}",
                    requirements.path.display(),
                    missing.join(", ")
                ),
            )
            .fix(format!("add to requirements.txt: {}", missing.join(" "))),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_app_creation_and_processors() {
        let text = "import x\nprocessor = BatchSpanProcessor(OTLPSpanExporter())\n# simple = SimpleSpanProcessor()\napp = Flask(__name__)\n";
        assert_eq!(app_creation(text), Some((4, "app".into())));
        assert_eq!(processors(text), vec![(2, "processor".into())]);
    }
}
