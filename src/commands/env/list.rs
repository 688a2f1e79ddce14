//! `tracelab env list`: every variable the workspace needs, and in which
//! layer it is set, as fingerprints.

use std::collections::BTreeMap;

use anyhow::Result;
use serde::Serialize;

use crate::cli::EnvListArgs;
use crate::exit::ExitStatus;
use crate::fingerprint::fingerprint;
use crate::style::{DIM, HEADING, paint};
use crate::workspace::context::Context;
use crate::workspace::layers::Source;

const LAYERS: [&str; 5] = ["shell", ".env", "gitpod", "compose", "container"];

#[derive(Serialize)]
struct Row {
    name: &'static str,
    description: &'static str,
    /// Per layer: the fingerprint (the value, for non-secrets), null when
    /// unset; layers that could not be read are left out.
    layers: BTreeMap<&'static str, Option<String>>,
}

pub fn run(args: EnvListArgs) -> Result<ExitStatus> {
    let EnvListArgs { dir, json } = args;
    let dir = crate::workspace::locate(dir.as_deref())?;
    let ctx = Context::load(&dir, crate::workspace::layers::shell_env(), super::LAYERS)?;
    let rows: Vec<Row> = ctx.needed().iter().map(|var| row(&ctx, var)).collect();
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({ "variables": rows }))?
        );
        return Ok(ExitStatus::Success);
    }
    if rows.is_empty() {
        anstream::println!("This workspace needs no secrets (backends: local).");
        return Ok(ExitStatus::Success);
    }
    for row in &rows {
        anstream::println!(
            "{} {}",
            paint(HEADING, row.name),
            paint(DIM, row.description)
        );
        for layer in LAYERS {
            let shown = match row.layers.get(layer) {
                Some(Some(value)) => value.clone(),
                Some(None) => "not set".into(),
                None => paint(DIM, "not read"),
            };
            anstream::println!("  {layer:<10} {shown}");
        }
    }
    Ok(ExitStatus::Success)
}

fn row(ctx: &Context, var: &crate::vars::NeededVar) -> Row {
    let shown = |value: Option<&str>| {
        value.filter(|v| !v.is_empty()).map(|v| {
            if var.secret {
                fingerprint(v)
            } else {
                format!("{v:?}")
            }
        })
    };
    let mut layers = BTreeMap::new();
    layers.insert("shell", shown(ctx.shell.get(var.name).map(String::as_str)));
    layers.insert(".env", shown(ctx.dotenv_value(var.name)));
    if let Source::Read(gitpod) = &ctx.gitpod {
        layers.insert("gitpod", shown(gitpod.get(var.name).map(String::as_str)));
    }
    if ctx.compose.is_some() {
        let value = if var.name == "HONEYCOMB_API_KEY" {
            // It reaches the container inside the headers variable.
            ctx.app_var("OTEL_EXPORTER_OTLP_HEADERS")
                .and_then(|(_, h)| {
                    crate::rules::otlp_headers::header(
                        &crate::rules::otlp_headers::headers(&h),
                        "x-honeycomb-team",
                    )
                    .map(str::to_string)
                })
        } else {
            ctx.app_var(var.name).map(|(_, v)| v)
        };
        layers.insert("compose", shown(value.as_deref()));
    }
    if let Source::Read(container) = &ctx.container {
        layers.insert(
            "container",
            shown(container.get(var.name).map(String::as_str)),
        );
    }
    Row {
        name: var.name,
        description: var.description,
        layers,
    }
}
