//! The built-in resolver's answer to `docker compose config --format json`
//! for what tracelab models of each service: its environment, the networks
//! and aliases it is on, its mounts, command and entrypoint, and the names
//! and hosts that reach it. The differential test holds this against real
//! Compose v2 on every configuration it can find, so any difference in the
//! model is a failing test, not a false finding in a student's hands.

use std::path::Path;

use anyhow::Result;
use serde_json::{Map, Value, json};

use super::{Command, ComposeFile, Mount, Service, absolute_in};
use crate::workspace::interpolate::interpolate;

type Lookup<'a> = &'a dyn Fn(&str) -> Option<String>;

/// Each service of the configuration, as Compose would print the fields
/// tracelab models (keys missing where Compose prints none).
pub fn project(file: &ComposeFile, lookup: Lookup) -> Result<Value> {
    let resolved = file.resolve(lookup)?;
    let dir = file.dir();
    let mut services = Map::new();
    for service in &file.services {
        let mut out = Map::new();
        let environment = resolved
            .services
            .get(&service.name)
            .cloned()
            .unwrap_or_default();
        if !environment.is_empty() {
            out.insert("environment".into(), json!(environment));
        }
        let text = |raw: &str| -> Result<String> { Ok(interpolate(raw, lookup)?.value) };
        for (key, value) in [
            ("container_name", &service.container_name),
            ("hostname", &service.hostname),
            ("network_mode", &service.network_mode),
        ] {
            if let Some(raw) = value {
                out.insert(key.into(), json!(text(raw)?));
            }
        }
        if service.network_mode.is_none() {
            out.insert("networks".into(), networks(service, &text)?);
        }
        out.insert("command".into(), command(service.command.as_ref(), lookup)?);
        out.insert(
            "entrypoint".into(),
            command(service.entrypoint.as_ref(), lookup)?,
        );
        if !service.volumes.is_empty() {
            let mounts = service
                .volumes
                .iter()
                .map(|m| mount(m, dir, lookup))
                .collect::<Result<Vec<_>>>()?;
            out.insert("volumes".into(), Value::Array(mounts));
        }
        if !service.extra_hosts.is_empty() {
            let mut hosts = service
                .extra_hosts
                .iter()
                .map(|h| Ok(extra_host(&text(h)?)))
                .collect::<Result<Vec<_>>>()?;
            hosts.sort();
            out.insert("extra_hosts".into(), json!(hosts));
        }
        if !service.links.is_empty() {
            let links = service
                .links
                .iter()
                .map(|l| text(l))
                .collect::<Result<Vec<_>>>()?;
            out.insert("links".into(), json!(links));
        }
        services.insert(service.name.clone(), Value::Object(out));
    }
    Ok(Value::Object(services))
}

/// `{net: null}` or `{net: {aliases: [...]}}`; `{default: null}` for none.
fn networks(service: &Service, text: &dyn Fn(&str) -> Result<String>) -> Result<Value> {
    let names = service
        .networks
        .clone()
        .unwrap_or_else(|| vec!["default".into()]);
    let mut out = Map::new();
    for raw in names {
        let aliases = service
            .aliases
            .iter()
            .find(|(network, _)| *network == raw)
            .map(|(_, names)| names.iter().map(|a| text(a)).collect::<Result<Vec<_>>>())
            .transpose()?;
        let value = match aliases {
            Some(aliases) => json!({ "aliases": aliases }),
            None => Value::Null,
        };
        out.insert(text(&raw)?, value);
    }
    Ok(Value::Object(out))
}

/// A command as the list of arguments Compose passes.
fn command(command: Option<&Command>, lookup: Lookup) -> Result<Value> {
    let Some(command) = command else {
        return Ok(Value::Null);
    };
    let args = match command {
        Command::Exec(items) => items
            .iter()
            .map(|i| Ok(interpolate(i, lookup)?.value))
            .collect::<Result<Vec<_>>>()?,
        Command::Shell(line) => crate::shell::split_words(&interpolate(line, lookup)?.value),
    };
    Ok(json!(args))
}

/// A mount as Compose prints it: type, source (a bind's is absolute),
/// target, and `read_only` when set.
fn mount(mount: &Mount, dir: &Path, lookup: Lookup) -> Result<Value> {
    let source = mount
        .source
        .as_deref()
        .map(|s| interpolate(s, lookup).map(|i| i.value))
        .transpose()?
        .filter(|s| !s.is_empty());
    let kind = mount.kind(source.as_deref()).to_string();
    let mut out = Map::new();
    out.insert("type".into(), json!(kind));
    if let Some(source) = source {
        let shown = if kind == "bind" {
            absolute_in(dir, &source).display().to_string()
        } else {
            source
        };
        out.insert("source".into(), json!(shown));
    }
    out.insert(
        "target".into(),
        json!(interpolate(&mount.target, lookup)?.value),
    );
    if mount.read_only {
        out.insert("read_only".into(), json!(true));
    }
    Ok(Value::Object(out))
}

/// `host:ip` and `host=ip` alike as `host=ip` (an IPv6 address keeps its colons).
fn extra_host(entry: &str) -> String {
    if entry.contains('=') {
        return entry.to_string();
    }
    match entry.split_once(':') {
        Some((host, ip)) => format!("{host}={ip}"),
        None => entry.to_string(),
    }
}
