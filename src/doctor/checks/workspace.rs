//! `workspace-*` and `compose-*`: what was found, and whether Compose can
//! resolve the file at all.

use crate::doctor::finding::{Finding, Layer};
use crate::workspace::context::{Context, Resolver};

pub fn run(ctx: &Context) -> Vec<Finding> {
    let mut out = Vec::new();
    let backends: Vec<&str> = ctx.backends.iter().map(|b| b.name()).collect();
    if backends.is_empty() {
        out.push(
            Finding::warn("workspace-backends", Layer::Workspace, "found no tracing backend (no OTEL, Honeycomb, X-Ray, CloudWatch or Rollbar settings)")
                .fix("tracelab new --defaults NEW_DIR   # a complete workspace to compare with"),
        );
    } else {
        out.push(Finding::ok(
            "workspace-backends",
            Layer::Workspace,
            format!("backends in use: {}", backends.join(", ")),
        ));
    }
    let Some(compose) = &ctx.compose else {
        out.push(Finding::warn(
            "compose-file",
            Layer::Compose,
            "no compose file here: checking this shell as the app's environment",
        ));
        return out;
    };
    let file = compose.file.path.display();
    let resolver = match &compose.resolver {
        Resolver::Builtin => "tracelab's resolver".to_string(),
        Resolver::Compose(bin) => bin.clone(),
    };
    match &compose.backend {
        Some(service) => out.push(Finding::ok(
            "compose-file",
            Layer::Compose,
            format!("{file}: backend service {service:?}, resolved with {resolver}"),
        )),
        None => out.push(Finding::fail(
            "compose-file",
            Layer::Compose,
            format!("{file}: no service sets OTEL_* variables or builds a directory with app.py"),
        ).fix("add the OTEL_* variables to the backend's `environment:` (tracelab new shows them)")),
    }
    if let Some(error) = &compose.error {
        let variable = error
            .split("required variable ")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .map(str::to_string);
        let mut finding = Finding::fail(
            "compose-interpolation",
            Layer::Compose,
            format!("Compose cannot resolve the file: {error}"),
        );
        if let Some(name) = &variable {
            finding = finding
                .var(name)
                .fix(format!("read -rs {name} && export {name}"));
        }
        out.push(finding);
    }
    if let Some(resolved) = &compose.resolved {
        let needed: Vec<&str> = ctx.needed().iter().map(|v| v.name).collect();
        for name in resolved
            .unset
            .iter()
            .filter(|n| !needed.contains(&n.as_str()))
        {
            out.push(
                Finding::warn(
                    "compose-unset-variable",
                    Layer::Compose,
                    format!("the compose file uses ${{{name}}}, which is set nowhere: Compose substitutes an empty string"),
                )
                .var(name)
                .fix(format!("export {name}=...   # or give a default: ${{{name}:-value}}")),
            );
        }
    }
    out
}
