//! `env-*`: each variable the workspace needs is set where Compose reads it,
//! is a real value, has the right shape, and agrees across every layer.

use std::collections::BTreeMap;

use crate::doctor::finding::{Finding, Layer};
use crate::fingerprint::fingerprint;
use crate::rules::names::is_near_miss;
use crate::rules::values::{hygiene, placeholder};
use crate::rules::{Shape, check_shape};
use crate::vars::NeededVar;
use crate::workspace::context::Context;
use crate::workspace::interpolate::interpolate;

pub fn run(ctx: &Context) -> Vec<Finding> {
    let mut out = Vec::new();
    let known_names = names_in_every_layer(ctx);
    for var in ctx.needed() {
        check_variable(ctx, &var, &known_names, &mut out);
    }
    out
}

/// How to set a variable for this shell and every later workspace, without
/// the value ever being typed where a placeholder could stay behind.
pub fn set_command(name: &str) -> String {
    let secret = crate::vars::NEEDED_VARS
        .iter()
        .find(|v| v.name == name)
        .is_none_or(|v| v.secret);
    let read = if secret { "read -rs" } else { "read -r" };
    format!(
        "{read} {name} && export {name} && gp env {name}=\"${name}\"   # or: tracelab env set {name}"
    )
}

fn check_variable(
    ctx: &Context,
    var: &NeededVar,
    known: &[(Layer, String)],
    out: &mut Vec<Finding>,
) {
    let name = var.name;
    let near: Vec<&(Layer, String)> = known
        .iter()
        .filter(|(_, n)| is_near_miss(n, name))
        .collect();
    let feeding = ctx.feeding(name).filter(|(_, v)| !v.is_empty());
    if feeding.is_none() {
        out.push(missing(ctx, name, &near));
    }
    for (layer, candidate) in &near {
        let finding = if feeding.is_none() {
            Finding::fail
        } else {
            Finding::warn
        };
        out.push(
            finding(
                "env-near-miss",
                *layer,
                format!(
                    "{candidate:?} in {} looks like a misspelling: did you mean {name}?",
                    layer.name()
                ),
            )
            .var(name)
            .fix(format!("rename {} to {name}", candidate.trim())),
        );
    }
    let values = values_by_layer(ctx, name);
    let mut distinct: BTreeMap<&str, Vec<Layer>> = BTreeMap::new();
    for (layer, value) in &values {
        distinct.entry(value.as_str()).or_default().push(*layer);
    }
    let mut all_good = feeding.is_some();
    for (value, layers) in &distinct {
        all_good &= check_value(name, value, layers, out);
    }
    if distinct.len() > 1 {
        all_good = false;
        out.push(mismatch(ctx, name, var.secret, &values));
    }
    if let Some(finding) = not_persisted(ctx, name) {
        out.push(finding);
    }
    if let Some(finding) = not_passed_through(ctx, var) {
        all_good = false;
        out.push(finding);
    }
    if let Some(finding) = literal_in_compose(ctx, var) {
        all_good = false;
        out.push(finding);
    }
    if all_good && let Some((source, value)) = feeding {
        let layers: Vec<&str> = values.iter().map(|(l, _)| l.name()).collect();
        let kind = match check_shape(name, value) {
            Some(Shape::Fits(kind)) => format!("{kind} "),
            _ => String::new(),
        };
        out.push(
            Finding::ok(
                "env-set",
                source,
                format!(
                    "{name}: {kind}{} in {}",
                    shown(var.secret, value),
                    layers.join(", ")
                ),
            )
            .var(name),
        );
    }
}

fn shown(secret: bool, value: &str) -> String {
    if secret {
        fingerprint(value)
    } else {
        format!("{value:?}")
    }
}

fn missing(ctx: &Context, name: &str, near: &[&(Layer, String)]) -> Finding {
    let empty_in = match (ctx.shell.get(name), ctx.dotenv_value(name)) {
        (Some(v), _) if v.is_empty() => Some("this shell"),
        (None, Some("")) => Some(".env"),
        _ => None,
    };
    let message = match empty_in {
        Some(layer) => format!(
            "{name} is set but empty in {layer}: Compose gives the container an empty value"
        ),
        None => format!(
            "{name} is not set in this shell or .env: Compose gives the container an empty value"
        ),
    };
    let finding = Finding::fail("env-missing", Layer::Shell, message).var(name);
    if ctx.gitpod_value(name).is_some_and(|v| !v.is_empty()) {
        return finding
            .fix("eval \"$(gp env -e)\"   # set in Gitpod but not loaded in this terminal (opened before gp env?)".to_string());
    }
    if let Some((_, candidate)) = near.first() {
        return finding.fix(format!("rename {} to {name}", candidate.trim()));
    }
    finding.fix(set_command(name))
}

/// The variable's value in each layer that has it, in the order values flow.
fn values_by_layer(ctx: &Context, name: &str) -> Vec<(Layer, String)> {
    let mut values = Vec::new();
    if let Some(v) = ctx.shell.get(name) {
        values.push((Layer::Shell, v.clone()));
    }
    if let Some(v) = ctx.dotenv_value(name) {
        values.push((Layer::DotEnv, v.to_string()));
    }
    if let Some(v) = ctx.gitpod_value(name) {
        values.push((Layer::Gitpod, v.to_string()));
    }
    if ctx.compose.is_some()
        && let Some((layer, v)) = ctx.app_var(name)
    {
        values.push((layer, v));
    }
    if let Some(v) = ctx.container.get().and_then(|env| env.get(name)) {
        values.push((Layer::Container, v.clone()));
    }
    values.retain(|(_, v)| !v.is_empty());
    values
}

/// Placeholder, quotes and whitespace, and shape. True when nothing is wrong.
fn check_value(name: &str, value: &str, layers: &[Layer], out: &mut Vec<Finding>) -> bool {
    let layer = layers[0];
    let where_ = layers
        .iter()
        .map(|l| l.name())
        .collect::<Vec<_>>()
        .join(", ");
    if let Some(reason) = placeholder(name, value) {
        out.push(
            Finding::fail(
                "env-placeholder",
                layer,
                format!("{name} in {where_} {reason}"),
            )
            .var(name)
            .fix(set_command(name)),
        );
        return false;
    }
    if let Some(reason) = hygiene(value) {
        out.push(
            Finding::fail(
                "env-quotes-whitespace",
                layer,
                format!("{name} in {where_} {reason}"),
            )
            .var(name)
            .fix(set_command(name)),
        );
        return false;
    }
    match check_shape(name, value) {
        Some(Shape::Wrong(reason)) => {
            out.push(
                Finding::fail("env-shape", layer, format!("{name} in {where_} {reason}"))
                    .var(name)
                    .fix(set_command(name)),
            );
            false
        }
        Some(Shape::Unusual(reason)) => {
            out.push(
                Finding::warn("env-shape", layer, format!("{name} in {where_}: {reason}"))
                    .var(name),
            );
            true
        }
        _ => true,
    }
}

fn mismatch(ctx: &Context, name: &str, secret: bool, values: &[(Layer, String)]) -> Finding {
    let listing = values
        .iter()
        .map(|(layer, v)| format!("{} {}", layer.name(), shown(secret, v)))
        .collect::<Vec<_>>()
        .join(", ");
    let differs = |a: Layer, b: Layer| {
        let get = |l: Layer| values.iter().find(|(x, _)| *x == l).map(|(_, v)| v);
        matches!((get(a), get(b)), (Some(x), Some(y)) if x != y)
    };
    let service = ctx.backend_service().unwrap_or("backend-flask");
    let fix = if differs(Layer::Compose, Layer::Container) {
        format!(
            "docker compose up -d --force-recreate {service}   # the container still has the value it started with"
        )
    } else if differs(Layer::Shell, Layer::DotEnv) {
        format!(
            "the shell's value wins over .env for Compose: fix the wrong one (unset {name}, or edit .env)"
        )
    } else if differs(Layer::Shell, Layer::Gitpod) {
        format!(
            "gp env {name}=\"${name}\"   # persist this shell's value (or eval \"$(gp env -e)\" to load Gitpod's)"
        )
    } else {
        format!("check the compose file: it gives {name} a value that is not the shell's")
    };
    Finding::fail(
        "env-mismatch",
        values[0].0,
        format!("{name} differs between layers: {listing}"),
    )
    .var(name)
    .fix(fix)
}

fn not_persisted(ctx: &Context, name: &str) -> Option<Finding> {
    let gitpod = ctx.gitpod.get()?;
    let in_shell = ctx.shell.get(name).is_some_and(|v| !v.is_empty());
    if !in_shell || gitpod.contains_key(name) {
        return None;
    }
    Some(
        Finding::warn(
            "env-not-persisted",
            Layer::Gitpod,
            format!("{name} is set in this shell only: new terminals and the next workspace will not have it"),
        )
        .var(name)
        .fix(format!("gp env {name}=\"${name}\"")),
    )
}

/// Direct variables (AWS_*, ROLLBAR_*) must be declared in the backend's
/// environment, or the container never sees them.
fn not_passed_through(ctx: &Context, var: &NeededVar) -> Option<Finding> {
    if var.name == "HONEYCOMB_API_KEY" {
        return None; // it travels inside OTEL_EXPORTER_OTLP_HEADERS
    }
    let compose = ctx.compose.as_ref()?;
    let service = compose.file.service(compose.backend.as_ref()?)?;
    if service.environment.iter().any(|(k, _)| k == var.name) {
        return None;
    }
    Some(
        Finding::fail(
            "env-passthrough",
            Layer::Compose,
            format!(
                "the {} service does not pass {} into the container",
                service.name, var.name
            ),
        )
        .var(var.name)
        .fix(format!(
            "add to services.{}.environment:  {}: \"${{{}}}\"",
            service.name, var.name, var.name
        )),
    )
}

/// A secret written into the compose file is committed with it.
fn literal_in_compose(ctx: &Context, var: &NeededVar) -> Option<Finding> {
    if !var.secret {
        return None;
    }
    let compose = ctx.compose.as_ref()?;
    let service = compose.file.service(compose.backend.as_ref()?)?;
    let raw = service
        .environment
        .iter()
        .find(|(k, _)| k == var.name)?
        .1
        .as_ref()?;
    if raw.contains('$') || raw.is_empty() {
        return None;
    }
    Some(
        Finding::fail(
            "env-secret-in-compose",
            Layer::Compose,
            format!(
                "{} is written into {} ({}), which is committed",
                var.name,
                compose.file.path.display(),
                fingerprint(raw)
            ),
        )
        .var(var.name)
        .fix(format!(
            "write `{}: \"${{{}}}\"` in the compose file, rotate the key, and set it with: {}",
            var.name,
            var.name,
            set_command(var.name)
        )),
    )
}

/// Every variable name a student may have typed, and where.
fn names_in_every_layer(ctx: &Context) -> Vec<(Layer, String)> {
    let mut names: Vec<(Layer, String)> = Vec::new();
    let mut add = |layer: Layer, name: &str| {
        if !names.iter().any(|(l, n)| *l == layer && n == name) {
            names.push((layer, name.to_string()));
        }
    };
    for name in ctx.shell.keys() {
        add(Layer::Shell, name);
    }
    if let Some(dotenv) = &ctx.dotenv {
        for entry in &dotenv.entries {
            add(Layer::DotEnv, &entry.key);
        }
    }
    if let Some(gitpod) = ctx.gitpod.get() {
        for name in gitpod.keys() {
            add(Layer::Gitpod, name);
        }
    }
    if let Some(compose) = &ctx.compose
        && let Some(service) = compose
            .file
            .service(compose.backend.as_deref().unwrap_or(""))
    {
        for (key, raw) in &service.environment {
            add(Layer::Compose, key);
            let referenced = interpolate(raw.as_deref().unwrap_or(""), &|_| None)
                .map(|i| i.unset)
                .unwrap_or_default();
            for name in referenced {
                add(Layer::Compose, &name);
            }
        }
    }
    names
}
