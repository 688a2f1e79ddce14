//! The checklist. Each group of checks lives in the file its ids start with
//! (`env-*` in env.rs, `otlp-*` in otlp.rs, ...); `ALL` runs them in order.

mod aws;
mod code;
mod collector;
mod compose_edits;
mod container;
mod env;
mod facts;
mod honeycomb;
mod hops;
mod lab;
mod otlp;
mod python;
mod secrets;
mod workspace;
mod xray;

#[cfg(test)]
mod testing;

use super::finding::{CheckId, Finding, Layer, Status};
use crate::workspace::context::{Context, Spare};

/// Each group of related checks, as the function that runs them. A
/// finding's report section is its check's group in the catalogue.
const ALL: &[fn(&Context) -> Vec<Finding>] = &[
    workspace::run,
    env::run,
    honeycomb::run,
    otlp::run,
    collector::run,
    xray::run,
    aws::run,
    code::run,
    python::run,
    lab::run,
    secrets::run,
    container::run,
];

/// A variant configuration (not the one Compose uses by default) whose
/// services set no tracing variable at all and run no daemon or
/// collector: one warning that says so, in place of each setting it
/// lacks (a local or week-1 experiment; run with it, nothing is sent).
pub fn untraced_variant(ctx: &Context) -> Option<Finding> {
    if ctx.primary {
        return None;
    }
    let compose = ctx.compose.as_ref()?;
    const TRACING: &[&str] = &["OTEL", "OTLP", "HONEYCOMB", "AWS_XRAY", "ROLLBAR", "AWS_"];
    let wires_tracing = compose.file.services.iter().any(|service| {
        !service.env_files.is_empty()
            || service
                .environment
                .iter()
                .any(|(key, _)| TRACING.iter().any(|t| key.trim().starts_with(t)))
            || service.image.as_deref().is_some_and(|image| {
                image.contains("xray") || image.contains("otel") || image.contains("collector")
            })
    });
    if wires_tracing {
        return None;
    }
    let file = compose.file.path.display();
    Some(
        Finding::warn(
            CheckId::ComposeFile,
            Layer::Compose,
            format!("{file}: no service sets a tracing variable (OTEL_*, AWS_*, ROLLBAR_*) or runs a daemon or collector: run with -f {file}, the backend sends nothing, and code that needs a region or key at import fails there"),
        )
        .fix(format!("use the default compose file, or copy the backend's environment: block into {file}")),
    )
}

/// (root, echo): when the first is reported for a variable, the second for
/// the same variable follows from it, and its fix would change nothing.
const ECHOES: &[(CheckId, CheckId)] = &[
    // A key written into the headers is both "not the shell's key" and
    // "committed"; the header finding says both.
    (CheckId::HoneycombHeaderKey, CheckId::EnvSecretInCompose),
    // A variable set nowhere is empty in every service that interpolates
    // it: one finding, which names those services.
    (CheckId::EnvMissing, CheckId::XrayDaemonCredentials),
    (CheckId::EnvMissing, CheckId::XrayDaemonRegion),
    // Unset because it is written under a near-miss name: renaming it is
    // the one fix.
    (CheckId::EnvNearMiss, CheckId::EnvMissing),
    // The daemon's region interpolated from a variable that is no region:
    // the variable's finding has the command that sets it.
    (CheckId::EnvShape, CheckId::XrayDaemonRegion),
    // OTEL_EXPORTER_OTLP_HEADER for ..._HEADERS: "not set" is the rename's.
    (CheckId::OtlpVariableName, CheckId::HoneycombHeader),
];

/// Runs every check, drops echoes, and orders the findings by report
/// section (stable: within a section, in the order the checks made them).
pub fn run_all(ctx: &Context) -> Vec<Finding> {
    run_all_sharing(ctx, &Spare::none())
}

/// `run_all`, with the other core for what runs on its own.
pub fn run_all_sharing<'a>(ctx: &'a Context, spare: &Spare<'a>) -> Vec<Finding> {
    run_groups(ctx, ALL, spare)
}

/// The checks of the backend's code itself: the same in every
/// configuration that builds the same folder.
const CODE: &[fn(&Context) -> Vec<Finding>] = &[code::run, python::run, lab::run];

/// Every check but those of the code: for a variant configuration that
/// builds the code the default one already had checked. None of them is
/// handed to the other core (only the Python checks are).
pub fn run_all_but_code(ctx: &Context) -> Vec<Finding> {
    let groups: Vec<fn(&Context) -> Vec<Finding>> = ALL
        .iter()
        .copied()
        .filter(|run| !CODE.iter().any(|code| std::ptr::fn_addr_eq(*code, *run)))
        .collect();
    run_groups(ctx, &groups, &Spare::none())
}

fn run_groups<'a>(
    ctx: &'a Context,
    groups: &[fn(&Context) -> Vec<Finding>],
    spare: &Spare<'a>,
) -> Vec<Finding> {
    let mut findings: Vec<Finding> = in_parallel(ctx, groups, spare)
        .into_iter()
        .flatten()
        .collect();
    findings.sort_by_key(|f| f.id.group());
    let is_echo = |f: &Finding| {
        ECHOES.iter().any(|(root, echo)| {
            f.id == *echo
                && findings
                    .iter()
                    .any(|r| r.id == *root && r.variable == f.variable && r.status == Status::Fail)
        })
    };
    findings.iter().filter(|f| !is_echo(f)).cloned().collect()
}

/// Each group's findings, in the order of `groups`. The checks of the
/// Python code (the module table, the library's signatures, the reach of
/// each call) are half the checks' work: they run on the other core (the
/// thread that read the code, idle by now), in this thread's look.
fn in_parallel<'a>(
    ctx: &'a Context,
    groups: &[fn(&Context) -> Vec<Finding>],
    spare: &Spare<'a>,
) -> Vec<Vec<Finding>> {
    let heavy = groups
        .iter()
        .position(|run| std::ptr::fn_addr_eq(*run, python::run as fn(&Context) -> Vec<Finding>));
    let Some(heavy) = heavy else {
        return groups.iter().map(|run| run(ctx)).collect();
    };
    let python = spare.run(move || python::run(ctx));
    let mut found: Vec<Vec<Finding>> = groups
        .iter()
        .enumerate()
        .map(|(at, run)| if at == heavy { Vec::new() } else { run(ctx) })
        .collect();
    found[heavy] = python();
    found
}

/// A backend's switch turned off (`switch`) makes what `live` says of its
/// settings echoes: the switch alone is reported. Its fix is a file edit
/// only when, switched on, nothing else would be wrong; otherwise
/// `advice` says to switch it on and look again.
fn switched_off(switch: Option<Finding>, live: Vec<Finding>, advice: &str) -> Vec<Finding> {
    let Some(switch) = switch else {
        return live;
    };
    let clean = live
        .iter()
        .all(|f| matches!(f.status, Status::Ok | Status::Info));
    vec![match clean {
        true => switch,
        false => switch.without_apply().fix(advice),
    }]
}
