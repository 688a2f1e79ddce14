//! `env-*`: each variable the workspace needs is set where Compose reads it,
//! is a real value, has the right shape, and agrees across every layer.

use std::collections::BTreeMap;

use crate::doctor::finding::{CheckId, Edit, Finding, Layer, Status};
use crate::fingerprint::fingerprint;
use crate::rules::names::{edit_distance, is_near_miss};
use crate::rules::values::{hygiene, placeholder};
use crate::rules::{Shape, check_shape};
use crate::vars::NeededVar;
use crate::workspace::context::{ComposeLayer, Context};
use crate::workspace::interpolate::referenced;

pub fn run(ctx: &Context) -> Vec<Finding> {
    let mut out = Vec::new();
    let known_names = names_in_every_layer(ctx);
    let needed = ctx.needed();
    for var in &needed {
        check_variable(ctx, var, &known_names, &mut out);
    }
    let missing: Vec<&str> = needed
        .iter()
        .filter(|v| not_passed_through(ctx, v))
        .map(|v| v.name)
        .collect();
    if let Some(finding) = passthrough_finding(ctx, &missing) {
        out.push(finding);
    }
    misplaced_keys(ctx, &mut out);
    out
}

/// A key in a variable that is no key variable: pasted into the wrong
/// line. Headers carry keys by design (their format is checked apart).
fn misplaced_keys(ctx: &Context, out: &mut Vec<Finding>) {
    let Some((layer, env)) = ctx.app_env() else {
        return;
    };
    // A headers variable misspelt (OTEL_EXPORTER_OTLP_HEADER) holds its key
    // by design too: otlp-variable-name renames it.
    let misspelt_headers: Vec<String> = super::facts::misspelt_variables(ctx)
        .into_iter()
        .filter(|(_, meant)| meant.ends_with("_HEADERS"))
        .map(|(written, _)| written)
        .collect();
    for (name, value) in &env {
        let Some(value) = value else { continue };
        // Key variables (AWS_ACCESS_KEY_ID too) and headers hold keys.
        let upper = name.to_ascii_uppercase();
        if crate::redact::names_a_secret(name)
            || upper.contains("KEY")
            || upper.ends_with("_HEADERS")
            || misspelt_headers.contains(name)
        {
            continue;
        }
        if let Some((kind, shown)) = crate::redact::key_in(value) {
            let home = if kind.contains("Honeycomb") {
                "HONEYCOMB_API_KEY"
            } else {
                "AWS_ACCESS_KEY_ID"
            };
            out.push(
                Finding::warn(
                    CheckId::EnvKeyMisplaced,
                    layer,
                    format!("{name} holds {kind} ({shown}): it is no key variable, so the app sends the key where it does not belong and {name} does not do its job"),
                )
                .var(name)
                .fix(format!("set {name} to what it names, and the key in its own variable: tracelab env set {home}")),
            );
        }
    }
}

/// How to set a variable, fitted to where the student is: in Gitpod, for
/// this shell and every later workspace (`gp env`); elsewhere with
/// `tracelab env set`, which asks for it hidden and saves it in `.env`.
/// A value in this shell wins over `.env`, so it is unset first.
pub fn set_command(ctx: &Context, name: &str) -> String {
    let secret = crate::vars::NEEDED_VARS
        .iter()
        .find(|v| v.name == name)
        .is_none_or(|v| v.secret);
    if !ctx.in_gitpod() {
        let unset = if ctx.shell.contains_key(name) {
            format!("unset {name}   # this shell's value wins over .env\n")
        } else {
            String::new()
        };
        return format!("{unset}tracelab env set {name}   # asks, saves it in .env");
    }
    // One command a line: each fits a terminal, and pasted together they
    // run in order.
    let read = if secret { "read -rsp" } else { "read -rp" };
    format!("{read} 'Paste {name}: ' {name}\nexport {name}\ngp env {name}=\"${name}\"")
}

/// Sets a variable to a value the doctor knows is right (a region's near
/// miss corrected), in every layer that holds it.
pub fn set_value_command(ctx: &Context, name: &str, value: &str) -> String {
    let mut lines = Vec::new();
    if ctx.shell.contains_key(name) || ctx.in_gitpod() {
        lines.push(format!("export {name}={value}"));
    }
    if ctx.in_gitpod() {
        lines.push(format!("gp env {name}={value}"));
    }
    if ctx.dotenv_value(name).is_some() {
        lines.push(format!(
            "echo {value} | tracelab env set {name}   # saves it in .env"
        ));
    }
    if lines.is_empty() {
        lines.push(format!(
            "echo {value} | tracelab env set {name}   # saves it in .env"
        ));
    }
    lines.join("\n")
}

/// Near by meaning: `written` holds what `name` should (a Honeycomb key in
/// HONEYCOMB_KEY, an access key id in AWS_KEY_ID) and shares a word with
/// it, while no variable the workspace reads is named so.
fn holds_its_value(ctx: &Context, layer: Layer, written: &str, name: &str) -> bool {
    let value = match layer {
        Layer::Shell => ctx.shell.get(written).map(String::as_str),
        Layer::DotEnv => ctx.dotenv_value(written),
        Layer::Gitpod => ctx.gitpod_value(written),
        _ => None,
    };
    let Some(value) = value.map(str::trim).filter(|v| !v.is_empty()) else {
        return false;
    };
    let words = |n: &str| -> Vec<String> {
        n.split('_')
            .filter(|w| w.len() > 2)
            .map(str::to_ascii_uppercase)
            .collect()
    };
    let theirs = words(written);
    let shares_a_word = words(name).iter().any(|w| w != "AWS" && theirs.contains(w));
    // A variable with a meaning of its own (AWS_REGION beside
    // AWS_DEFAULT_REGION) is not a misspelling of another.
    let its_own = check_shape(written, value).is_some();
    shares_a_word && !its_own && matches!(check_shape(name, value), Some(Shape::Fits(_)))
}

/// Renames a variable where it is written: the shell, `.env`, Gitpod.
fn rename_command(ctx: &Context, layer: Layer, written: &str, name: &str) -> Option<String> {
    let written = written.trim();
    let valid = |n: &str| !n.is_empty() && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !valid(written) {
        return None;
    }
    match layer {
        Layer::Shell => Some(format!("export {name}=\"${written}\"\nunset {written}")),
        Layer::DotEnv => {
            let path = &ctx.dotenv.as_ref()?.path;
            Some(format!(
                "sed -i 's/^\\(export \\)\\?{written}=/\\1{name}=/' {}",
                path.display()
            ))
        }
        Layer::Gitpod => Some(format!(
            "gp env {name}=\"$(gp env | sed -n 's/^{written}=//p')\"\ngp env -u {written}\nexport {name}=\"${written}\"\nunset {written}"
        )),
        _ => None,
    }
}

/// `${WRITTEN}` in the backend's compose environment, unset everywhere
/// Compose interpolates from, where `name` was meant: one problem, with the
/// reference renamed on its line.
fn unset_reference(ctx: &Context, written: &str, name: &str) -> Option<Finding> {
    let compose = ctx.compose.as_ref()?;
    let service = compose.backend.as_deref()?;
    if ctx.feeding(written).is_some() {
        return None;
    }
    let (key, _) = compose
        .file
        .service(service)?
        .environment
        .iter()
        .find(|(_, raw)| {
            referenced(raw.as_deref().unwrap_or(""))
                .iter()
                .any(|r| r == written)
        })?;
    let (path, line) = compose.file.locate(service, &["environment", key])?;
    let finding = Finding::fail(
        CheckId::EnvNearMiss,
        Layer::Compose,
        format!(
            "{}:{line}: {key} interpolates ${{{written}}}, which nothing sets, so the container gets it empty: did you mean {name}?",
            path.display()
        ),
    )
    .var(name);
    let edit = Edit::replace(path, line, "").map(|edit| {
        let new = edit
            .old
            .replace(&format!("${{{written}}}"), &format!("${{{name}}}"))
            .replace(&format!("${{{written}:"), &format!("${{{name}:"))
            .replace(&format!("${written}"), &format!("${name}"));
        Edit { new, ..edit }
    });
    Some(finding.edit_or(
        edit.filter(|e| e.new != e.old),
        format!(
            "rename ${{{written}}} to ${{{name}}} at {}:{line}",
            path.display()
        ),
    ))
}

fn check_variable(
    ctx: &Context,
    var: &NeededVar,
    known: &[(Layer, String)],
    out: &mut Vec<Finding>,
) {
    let name = var.name;
    let feeding = ctx.feeding(name).filter(|(_, v)| !v.is_empty());
    let near: Vec<&(Layer, String)> = known
        .iter()
        .filter(|(layer, n)| {
            is_near_miss(n, name) || (feeding.is_none() && holds_its_value(ctx, *layer, n, name))
        })
        .collect();
    if feeding.is_none() {
        out.push(missing(ctx, name, &near));
    }
    for (layer, candidate) in &near {
        // A compose reference nothing sets interpolates to "": what it
        // feeds is lost, whatever the shell holds under the right name.
        if *layer == Layer::Compose
            && let Some(finding) = unset_reference(ctx, candidate, name)
        {
            out.push(finding);
            continue;
        }
        let finding = if feeding.is_none() {
            Finding::fail
        } else {
            Finding::warn
        };
        let finding = finding(
            CheckId::EnvNearMiss,
            *layer,
            format!(
                "{candidate:?} in {} looks like a misspelling: did you mean {name}?",
                layer.name()
            ),
        )
        .var(name);
        let finding = match rename_command(ctx, *layer, candidate, name) {
            Some(command) => finding.command(command),
            None => finding.fix(format!("rename {} to {name}", candidate.trim())),
        };
        out.push(finding);
    }
    let values = values_by_layer(ctx, name);
    let mut distinct: BTreeMap<&str, Vec<Layer>> = BTreeMap::new();
    for (layer, value) in &values {
        distinct.entry(value.as_str()).or_default().push(*layer);
    }
    let mut all_good = feeding.is_some();
    let mut shadowed_wrong = false;
    for (value, layers) in &distinct {
        // A value another layer's shadows is not the one Compose uses: its
        // problem loses nothing now, and shows where that layer is absent.
        let shadowed =
            feeding.is_some_and(|(layer, used)| used != *value && !layers.contains(&layer));
        let mut found = Vec::new();
        let good = check_value(ctx, name, value, layers, &mut found);
        all_good &= good;
        if shadowed {
            shadowed_wrong |= !good;
            let (used_in, _) = feeding.expect("shadowed needs a value used");
            for finding in found.iter_mut().filter(|f| f.status == Status::Fail) {
                finding.status = Status::Warn;
                finding.message.push_str(&format!(
                    " (not used now: {}'s value wins; a terminal or Compose run without it uses this one)",
                    used_in.name()
                ));
            }
        }
        out.extend(found);
    }
    if distinct.len() > 1 {
        all_good = false;
        // A shadowed value with a problem of its own is that problem's echo.
        if !shadowed_wrong {
            out.push(mismatch(ctx, name, var.secret, &values));
        }
    }
    if let Some(finding) = not_persisted(ctx, name) {
        out.push(finding);
    }
    all_good &= !not_passed_through(ctx, var);
    if all_good && let Some((source, value)) = feeding {
        let layers: Vec<&str> = values.iter().map(|(l, _)| l.name()).collect();
        let kind = match check_shape(name, value) {
            Some(Shape::Fits(kind)) => format!("{kind} "),
            _ => String::new(),
        };
        out.push(
            Finding::ok(
                CheckId::EnvSet,
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

/// The compose services that interpolate `name` (or pass it by name).
fn receivers(ctx: &Context, name: &str) -> Vec<String> {
    let Some(compose) = &ctx.compose else {
        return Vec::new();
    };
    compose
        .file
        .services
        .iter()
        .filter(|s| {
            s.environment.iter().any(|(k, v)| match v {
                None => k == name,
                Some(raw) => crate::workspace::interpolate::referenced(raw)
                    .iter()
                    .any(|n| n == name),
            })
        })
        .map(|s| s.name.clone())
        .collect()
}

fn missing(ctx: &Context, name: &str, near: &[&(Layer, String)]) -> Finding {
    let empty_in = match (ctx.shell.get(name), ctx.dotenv_value(name)) {
        (Some(v), _) if v.is_empty() => Some("this shell"),
        (None, Some("")) => Some(".env"),
        _ => None,
    };
    let receivers = receivers(ctx, name);
    let gets = match receivers.as_slice() {
        [] => "Compose gives the container an empty value".to_string(),
        [one] => format!("Compose gives {one} an empty value"),
        [rest @ .., last] => format!(
            "Compose gives {} and {last} an empty value",
            rest.join(", ")
        ),
    };
    let message = match empty_in {
        Some(layer) => format!("{name} is set but empty in {layer}: {gets}"),
        None => format!("{name} is not set in this shell or .env: {gets}"),
    };
    let finding = Finding::fail(CheckId::EnvMissing, Layer::Shell, message).var(name);
    if ctx.gitpod_value(name).is_some_and(|v| !v.is_empty()) {
        return finding
            .command("eval \"$(gp env -e)\"   # set in Gitpod but not loaded in this terminal (opened before gp env?)");
    }
    if let Some((layer, candidate)) = near.first() {
        return match rename_command(ctx, *layer, candidate, name) {
            Some(command) => finding.command(command),
            None => finding.fix(format!("rename {} to {name}", candidate.trim())),
        };
    }
    finding.command(set_command(ctx, name))
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
        && interpolates(ctx, name)
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

/// Whether the backend's compose entry for `name` is `${name...}`: only
/// then is its value the shell's, and a difference a mismatch. A value
/// written into the file is the file's own (and, for a secret, reported as
/// committed).
fn interpolates(ctx: &Context, name: &str) -> bool {
    let Some(compose) = &ctx.compose else {
        return false;
    };
    let Some(service) = ctx.backend_service().and_then(|s| compose.file.service(s)) else {
        return false;
    };
    service.environment.iter().any(|(k, v)| {
        k == name
            && match v {
                None => true,
                Some(raw) => {
                    raw.contains(&format!("${{{name}")) || raw.contains(&format!("${name}"))
                }
            }
    })
}

/// Placeholder, quotes and whitespace, and shape. True when nothing is wrong.
fn check_value(
    ctx: &Context,
    name: &str,
    value: &str,
    layers: &[Layer],
    out: &mut Vec<Finding>,
) -> bool {
    let layer = layers[0];
    // "in the shell", "in the shell and compose": the value's home, read as a sentence.
    let names: Vec<String> = layers
        .iter()
        .map(|l| match l {
            Layer::Shell => "the shell".to_string(),
            Layer::Gitpod => "Gitpod".to_string(),
            other => other.name().to_string(),
        })
        .collect();
    let where_ = match names.as_slice() {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    };
    if let Some(reason) = placeholder(name, value) {
        out.push(
            Finding::fail(
                CheckId::EnvPlaceholder,
                layer,
                format!("{name} in {where_} {reason}"),
            )
            .var(name)
            .command(set_command(ctx, name)),
        );
        return false;
    }
    if let Some(reason) = hygiene(value) {
        out.push(
            Finding::fail(
                CheckId::EnvQuotesWhitespace,
                layer,
                format!("{name} in {where_} {reason}"),
            )
            .var(name)
            .command(set_command(ctx, name)),
        );
        return false;
    }
    match check_shape(name, value) {
        Some(Shape::Wrong(reason)) => {
            let finding = Finding::fail(
                CheckId::EnvShape,
                layer,
                format!("{name} in {where_} {reason}"),
            )
            .var(name);
            let guess = (name == "AWS_DEFAULT_REGION" || name == "AWS_REGION")
                .then(|| crate::rules::aws::closest_region(value))
                .flatten();
            out.push(match guess {
                Some(region) => finding.command(set_value_command(ctx, name, region)),
                None => finding.command(set_command(ctx, name)),
            });
            false
        }
        Some(Shape::Unusual(reason)) => {
            out.push(
                Finding::warn(
                    CheckId::EnvShape,
                    layer,
                    format!("{name} in {where_}: {reason}"),
                )
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
    let service = ctx.backend_name();
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
    // Two values that each look right: which one the student means is
    // not known, and the one Compose uses may be the stale one.
    Finding::fail(
        CheckId::EnvMismatch,
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
            CheckId::EnvNotPersisted,
            Layer::Gitpod,
            format!("{name} is set in this shell only: new terminals and the next workspace will not have it"),
        )
        .var(name)
        .command(format!("gp env {name}=\"${name}\"")),
    )
}

/// Direct variables (AWS_*, ROLLBAR_*) must be declared in the backend's
/// environment, or the container never sees them.
fn not_passed_through(ctx: &Context, var: &NeededVar) -> bool {
    if !crate::vars::backend_reads(var.name, &ctx.backends) {
        return false;
    }
    let Some(compose) = &ctx.compose else {
        return false;
    };
    let Some(backend) = compose.backend.as_deref() else {
        return false;
    };
    // What Compose gives the container: `environment:` and `env_file:`
    // alike. A file Compose cannot resolve is its own finding, and what it
    // would pass is unknown.
    match compose
        .resolved
        .as_ref()
        .and_then(|r| r.services.get(backend))
    {
        Some(env) => !env.contains_key(var.name),
        None => false,
    }
}

/// One finding for every variable the backend's environment leaves out:
/// one edit fixes them all.
fn passthrough_finding(ctx: &Context, missing: &[&str]) -> Option<Finding> {
    let first = missing.first()?;
    let compose = ctx.compose.as_ref()?;
    let service = compose.backend.as_ref()?;
    let lines: Vec<String> = missing
        .iter()
        .map(|name| format!("{name}: \"${{{name}}}\""))
        .collect();
    // The name the container gets instead, a letter or two off: the typo
    // is the root cause, and renaming it where it is written the fix.
    let env = compose.resolved.as_ref()?.services.get(service.as_str())?;
    let typos: Vec<(&str, &String, Option<Line>)> = missing
        .iter()
        .filter_map(|name| {
            let near = env.keys().find(|k| {
                !missing.contains(&k.as_str()) && edit_distance(k, name) <= 2 && *k != name
            })?;
            Some((*name, near, written_at(compose, service, near)))
        })
        .collect();
    let instead: Vec<String> = typos
        .iter()
        .map(|(name, near, at)| match at {
            Some((path, line)) => format!("{near} ({}:{line}) instead of {name}", path.display()),
            None => format!("{near} instead of {name}"),
        })
        .collect();
    let message = match instead.is_empty() {
        true => format!(
            "the {service} service does not pass {} into the container",
            missing.join(", ")
        ),
        false => format!(
            "the {service} service does not pass {} into the container: it passes {} (a typo?)",
            missing.join(", "),
            instead.join(", ")
        ),
    };
    let finding = Finding::fail(CheckId::EnvPassthrough, Layer::Compose, message).var(first);
    // One typo, for the one variable left out: rename it on its line.
    if let ([(name, near, Some((path, line)))], 1) = (typos.as_slice(), missing.len())
        && let Some(edit) = Edit::replace(path, *line, "")
    {
        let new = edit.old.replace(near.as_str(), name);
        return Some(finding.edit(Edit { new, ..edit }));
    }
    // None of them a typo: each added beside the service's other entries.
    let interpolated: Vec<String> = missing.iter().map(|name| format!("${{{name}}}")).collect();
    let entries: Vec<(&str, &str)> = missing
        .iter()
        .zip(&interpolated)
        .map(|(name, value)| (*name, value.as_str()))
        .collect();
    if typos.is_empty()
        && let Some(edit) = super::compose_edits::add_entries(ctx, service, &entries)
    {
        return Some(finding.edit(edit));
    }
    Some(finding.fix(format!(
        "add to services.{service}.environment ({}):  {}",
        compose.file.place(service, &["environment"]),
        lines.join("  ")
    )))
}

/// A line of a file: where something is written.
type Line = (std::path::PathBuf, usize);

/// Where a service's variable is written: its `environment:` entry, else
/// the line of the env_file (or of the template a generated one comes
/// from) that sets it.
fn written_at(compose: &ComposeLayer, service: &str, name: &str) -> Option<Line> {
    let file = &compose.file;
    let declared = file.service(service)?;
    if declared.environment.iter().any(|(k, _)| k == name) {
        return file
            .locate(service, &["environment", name])
            .map(|(path, line)| (path.to_path_buf(), line));
    }
    let sets = |path: &std::path::Path| {
        let text = crate::workspace::read::text(path).ok()?;
        let line = text.lines().position(|l| {
            l.trim_start()
                .strip_prefix(name)
                .is_some_and(|rest| rest.trim_start().starts_with('='))
        })?;
        Some((path.to_path_buf(), line + 1))
    };
    declared.env_files.iter().find_map(|(env_file, _)| {
        let path = file.dir().join(env_file);
        sets(&path).or_else(|| {
            let generated = crate::workspace::generated::making(&file.generated, &path)?;
            sets(generated.template.as_ref()?)
        })
    })
}

/// Every variable name a student may have typed, and where.
fn names_in_every_layer(ctx: &Context) -> Vec<(Layer, String)> {
    // In the order found, each once: a set beside the list keeps a compose
    // file with tens of thousands of variables linear.
    let mut names: Vec<(Layer, String)> = Vec::new();
    let mut seen: std::collections::HashSet<(Layer, String)> = std::collections::HashSet::new();
    let mut add = |layer: Layer, name: &str| {
        if seen.insert((layer, name.to_string())) {
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
            for name in referenced(raw.as_deref().unwrap_or("")) {
                add(Layer::Compose, &name);
            }
        }
    }
    names
}

/// The key itself is a placeholder or carries quotes or spaces: env-*
/// names that root cause, and what the headers then carry is its echo.
pub fn honeycomb_key_is_broken(ctx: &Context) -> bool {
    ctx.feeding("HONEYCOMB_API_KEY").is_some_and(|(_, value)| {
        placeholder("HONEYCOMB_API_KEY", value).is_some() || hygiene(value).is_some()
    })
}

#[cfg(test)]
mod tests {
    use super::super::testing::{SHELL, check, unchanged};
    use crate::doctor::finding::{CheckId, Status};

    fn shell_without(name: &str) -> Vec<(&'static str, &'static str)> {
        SHELL.iter().copied().filter(|(k, _)| *k != name).collect()
    }

    #[test]
    fn a_key_set_nowhere_is_one_problem_with_the_command_that_sets_it() {
        let checked = check("honeycomb", unchanged, &shell_without("HONEYCOMB_API_KEY"));
        let finding = checked.one(CheckId::EnvMissing, Status::Fail);
        assert_eq!(finding.variable.as_deref(), Some("HONEYCOMB_API_KEY"));
        assert!(
            finding
                .fix
                .as_deref()
                .unwrap()
                .contains("tracelab env set HONEYCOMB_API_KEY")
        );
        // Its echoes (the empty header) are not reported again.
        assert_eq!(checked.ids(Status::Fail), [CheckId::EnvMissing]);
    }

    #[test]
    fn a_key_under_a_near_name_is_renamed_not_reported_missing() {
        let mut shell = shell_without("HONEYCOMB_API_KEY");
        shell.push(("HONEYCOMB_API_KY", SHELL[0].1));
        let checked = check("honeycomb", unchanged, &shell);
        let finding = checked.one(CheckId::EnvNearMiss, Status::Fail);
        assert!(finding.fix.as_deref().unwrap().contains("HONEYCOMB_API_KY"));
        assert!(!checked.ids(Status::Fail).contains(&CheckId::EnvMissing));
    }

    /// Near by meaning: a name a few letters away is not the only slip; a
    /// word left out (HONEYCOMB_KEY) holding a real key is the same one.
    #[test]
    fn a_key_under_a_name_that_means_it_is_renamed() {
        let mut shell = shell_without("HONEYCOMB_API_KEY");
        shell.push(("HONEYCOMB_KEY", SHELL[0].1));
        let checked = check("honeycomb", unchanged, &shell);
        let finding = checked.one(CheckId::EnvNearMiss, Status::Fail);
        assert!(
            finding
                .fix
                .as_deref()
                .unwrap()
                .contains("export HONEYCOMB_API_KEY=\"$HONEYCOMB_KEY\"")
        );
        assert_eq!(checked.ids(Status::Fail), [CheckId::EnvNearMiss]);
        // A name that shares a word but holds no key is not it.
        let mut shell = shell_without("HONEYCOMB_API_KEY");
        shell.push(("HONEYCOMB_KEY", "backend-flask"));
        let checked = check("honeycomb", unchanged, &shell);
        checked.one(CheckId::EnvMissing, Status::Fail);
        assert!(!checked.ids(Status::Fail).contains(&CheckId::EnvNearMiss));
    }

    #[test]
    fn a_placeholder_is_a_problem_and_never_printed_as_a_key() {
        let mut shell = shell_without("HONEYCOMB_API_KEY");
        shell.push(("HONEYCOMB_API_KEY", "<your-api-key>"));
        let checked = check("honeycomb", unchanged, &shell);
        checked.one(CheckId::EnvPlaceholder, Status::Fail);
    }
}
