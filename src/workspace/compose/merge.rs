//! One configuration from several compose files, as Compose builds it:
//! YAML anchors and `<<` merge keys within each file, then each file merged
//! onto the ones before it by the rules of the Compose specification
//! (`13-merge.md`, as Compose v2 applies them), `extends` resolved, and
//! repeated entries of a list kept once (the later one wins).
//!
//! Everything here works on the YAML as written: interpolation comes later,
//! so findings can still quote what the student wrote.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use serde_yaml::{Mapping, Value};

/// A file's YAML with its `<<` merge keys applied.
pub fn read_document(path: &Path, text: &str) -> Result<Value> {
    let mut document: Value = serde_yaml::from_str(text).map_err(|e| {
        let place = e
            .location()
            .map(|l| format!(":{}:{}", l.line(), l.column()))
            .unwrap_or_default();
        anyhow!("{}{place}: not valid YAML: {e}", path.display())
    })?;
    document
        .apply_merge()
        .map_err(|e| anyhow!("{}: a `<<` merge key: {e}", path.display()))?;
    if document.is_null() {
        document = Value::Mapping(Mapping::new());
    }
    if !document.is_mapping() {
        bail!(
            "{}: the top level must be a mapping (services:, networks:, ...)",
            path.display()
        );
    }
    Ok(document)
}

/// The documents merged in order, later files overriding earlier ones.
pub fn merge_documents(documents: Vec<Value>) -> Result<Value> {
    let mut merged = Value::Mapping(Mapping::new());
    for document in documents {
        merged = merge(merged, document, &mut Vec::new())?;
    }
    Ok(merged)
}

/// How a key merges when two files both set it (compose-spec 13-merge.md).
enum Rule {
    /// The later value replaces the earlier: `command`, `entrypoint`.
    Replace,
    /// Both as `KEY=value` lists, appended (duplicates removed later).
    Sequence,
    /// Both as lists, appended, an entry already there not added again.
    UniqueSequence,
    /// A list of names becomes a mapping, then mappings merge.
    Mapping,
    /// `build: ./dir` is `build: {context: ./dir}`.
    Build,
    /// The ordinary rules: mappings by key, lists appended, scalars replaced.
    Default,
}

fn rule(path: &[String]) -> Rule {
    let p: Vec<&str> = path.iter().map(String::as_str).collect();
    match p.as_slice() {
        ["services", _, "command" | "entrypoint"] => Rule::Replace,
        ["services", _, "healthcheck", "test"] => Rule::Replace,
        ["services", _, "extra_hosts"] | ["services", _, "build", "extra_hosts"] => {
            Rule::UniqueSequence
        }
        [
            "services",
            _,
            "environment" | "labels" | "annotations" | "env_file" | "label_file" | "dns"
            | "dns_opt" | "dns_search" | "sysctls" | "tmpfs",
        ]
        | [
            "services",
            _,
            "build",
            "args" | "labels" | "additional_contexts",
        ]
        | ["services", _, "deploy", "labels"]
        | ["networks" | "volumes", _, "labels"] => Rule::Sequence,
        ["services", _, "networks" | "depends_on" | "models"] => Rule::Mapping,
        ["services", _, "build"] => Rule::Build,
        _ => Rule::Default,
    }
}

fn merge(base: Value, over: Value, path: &mut Vec<String>) -> Result<Value> {
    match rule(path) {
        Rule::Replace => return Ok(over),
        Rule::Sequence => {
            let mut items = into_sequence(base);
            items.extend(into_sequence(over));
            return Ok(Value::Sequence(items));
        }
        Rule::UniqueSequence => {
            let mut items = into_sequence(base);
            for item in into_sequence(over) {
                if !items.contains(&item) {
                    items.push(item);
                }
            }
            return Ok(Value::Sequence(items));
        }
        Rule::Mapping => {
            return merge_mappings(into_mapping(base), into_mapping(over), path);
        }
        Rule::Build => {
            let build = |v: Value| match v {
                Value::String(context) => {
                    let mut map = Mapping::new();
                    map.insert("context".into(), Value::String(context));
                    map
                }
                Value::Mapping(map) => map,
                _ => Mapping::new(),
            };
            return merge_mappings(build(base), build(over), path);
        }
        Rule::Default => {}
    }
    if over.is_null() {
        return Ok(base);
    }
    match (base, over) {
        (Value::Mapping(base), Value::Mapping(over)) => merge_mappings(base, over, path),
        (Value::Sequence(mut base), Value::Sequence(over)) => {
            base.extend(over);
            Ok(Value::Sequence(base))
        }
        (Value::Mapping(_), _) | (Value::Sequence(_), _) if !path.is_empty() => Err(anyhow!(
            "cannot override {}: one file gives a mapping or list, another a value",
            path.join(".")
        )),
        (_, over) => Ok(over),
    }
}

fn merge_mappings(mut base: Mapping, over: Mapping, path: &mut Vec<String>) -> Result<Value> {
    for (key, value) in over {
        let name = key_text(&key);
        match base.remove(&key) {
            None => {
                base.insert(key, value);
            }
            Some(existing) => {
                path.push(name);
                let merged = merge(existing, value, path);
                path.pop();
                base.insert(key, merged?);
            }
        }
    }
    Ok(Value::Mapping(base))
}

fn key_text(key: &Value) -> String {
    super::scalar(key).unwrap_or_default()
}

/// `{A: 1, B: null}` as `["A=1", "B"]` (sorted, as Compose does), a single
/// string as a one-item list.
fn into_sequence(value: Value) -> Vec<Value> {
    match value {
        Value::Mapping(map) => {
            let mut items: Vec<String> = map
                .into_iter()
                .flat_map(|(k, v)| {
                    let key = key_text(&k);
                    match v {
                        Value::Null => vec![key],
                        Value::Sequence(values) => values
                            .iter()
                            .map(|v| format!("{key}={}", go_text(v)))
                            .collect(),
                        other => vec![format!("{key}={}", go_text(&other))],
                    }
                })
                .collect();
            items.sort();
            items.into_iter().map(Value::String).collect()
        }
        Value::Sequence(items) => items,
        Value::String(text) => vec![Value::String(text)],
        _ => Vec::new(),
    }
}

/// A scalar as Compose prints it into `KEY=value`.
fn go_text(value: &Value) -> String {
    super::scalar(value).unwrap_or_default()
}

/// `[a, b]` as `{a: null, b: null}`.
fn into_mapping(value: Value) -> Mapping {
    match value {
        Value::Mapping(map) => map,
        Value::Sequence(items) => items
            .into_iter()
            .filter_map(|item| Some((Value::String(super::scalar(&item)?), Value::Null)))
            .collect(),
        _ => Mapping::new(),
    }
}

/// Resolves `extends:` in every service: the base service (from the same
/// configuration, or from `file:`) merged under the service's own keys.
pub fn apply_extends(document: &mut Value, dir: &Path) -> Result<()> {
    let names: Vec<Value> = match document.get("services") {
        Some(Value::Mapping(services)) => services.keys().cloned().collect(),
        _ => return Ok(()),
    };
    let services = document.get("services").cloned().unwrap_or_default();
    for name in names {
        let service = services.get(&name).cloned().unwrap_or_default();
        let resolved = extend(&service, &services, dir, &mut Vec::new())?;
        if let Some(Value::Mapping(map)) = document.get_mut("services") {
            map.insert(name, resolved);
        }
    }
    Ok(())
}

/// One service with its `extends` chain resolved (a cycle is refused).
fn extend(service: &Value, services: &Value, dir: &Path, seen: &mut Vec<String>) -> Result<Value> {
    let Some(extends) = service.get("extends") else {
        return Ok(service.clone());
    };
    let (base_name, file) = match extends {
        Value::String(name) => (name.clone(), None),
        Value::Mapping(map) => (
            map.get("service")
                .and_then(super::scalar)
                .context("`extends` needs `service:`")?,
            map.get("file").and_then(super::scalar),
        ),
        _ => bail!("`extends` must name a service"),
    };
    let key = format!("{}#{base_name}", file.as_deref().unwrap_or(""));
    if seen.contains(&key) {
        bail!("`extends` loops back to {base_name}");
    }
    seen.push(key);
    let (base, base_dir): (Value, PathBuf) = match &file {
        None => (
            services.get(base_name.as_str()).cloned().with_context(|| {
                format!("`extends` names {base_name}, which is no service here")
            })?,
            dir.to_path_buf(),
        ),
        Some(file) => {
            let path = dir.join(file);
            let text = super::read_limited(&path)?;
            let document = read_document(&path, &text)?;
            let services = document.get("services").cloned().unwrap_or_default();
            let base = services
                .get(base_name.as_str())
                .cloned()
                .with_context(|| format!("{}: no service {base_name}", path.display()))?;
            let base_dir = path.parent().unwrap_or(dir).to_path_buf();
            (extend(&base, &services, &base_dir, seen)?, base_dir)
        }
    };
    let base = if file.is_none() {
        extend(&base, services, &base_dir, seen)?
    } else {
        base
    };
    let mut own = service.clone();
    if let Value::Mapping(map) = &mut own {
        map.remove("extends");
    }
    let mut path = vec!["services".to_string(), base_name];
    merge(base, own, &mut path)
}

/// A list entry's identity: what makes two entries "the same" for Compose,
/// so the later one replaces the earlier.
fn identity(path: &[&str], item: &Value) -> Option<String> {
    let text = super::scalar(item);
    match path {
        ["services", _, "volumes" | "devices"] => match item {
            Value::Mapping(map) => map.get("target").and_then(super::scalar),
            _ => text.map(|t| volume_target(&t)),
        },
        [
            "services",
            _,
            "environment" | "labels" | "annotations" | "links" | "profiles" | "sysctls" | "tmpfs"
            | "dns" | "dns_opt" | "dns_search" | "cap_add" | "cap_drop",
        ]
        | ["services", _, "networks", _, "aliases"]
        | ["services", _, "build", "args" | "labels"] => {
            text.map(|t| t.split_once('=').map_or(t.clone(), |(k, _)| k.to_string()))
        }
        ["services", _, "ports" | "expose" | "env_file"] => match item {
            Value::Mapping(map) => map
                .get("path")
                .or_else(|| map.get("target"))
                .and_then(super::scalar),
            _ => text,
        },
        _ => None,
    }
}

/// The target of a short volume entry: `./src:/app:ro` is `/app`, `/data` is `/data`.
pub fn volume_target(entry: &str) -> String {
    let parts: Vec<&str> = entry.split(':').collect();
    match parts.as_slice() {
        [only] => only.to_string(),
        [_, target, ..] => target.to_string(),
        [] => String::new(),
    }
}

/// Each list whose entries have an identity keeps one entry per identity:
/// the first one's place, the last one's value.
pub fn enforce_unicity(value: &mut Value, path: &mut Vec<String>) {
    match value {
        Value::Mapping(map) => {
            for (key, child) in map.iter_mut() {
                path.push(key_text(key));
                enforce_unicity(child, path);
                path.pop();
            }
        }
        Value::Sequence(items) => {
            let p: Vec<&str> = path.iter().map(String::as_str).collect();
            let mut kept: Vec<(Option<String>, Value)> = Vec::new();
            for item in items.drain(..) {
                let id = identity(&p, &item);
                match kept.iter_mut().find(|(k, _)| id.is_some() && *k == id) {
                    Some(slot) => slot.1 = item,
                    None => kept.push((id, item)),
                }
            }
            items.extend(kept.into_iter().map(|(_, v)| v));
        }
        _ => {}
    }
}

/// Services whose `profiles:` are all inactive are not part of the
/// configuration (`docker compose config` leaves them out).
pub fn apply_profiles(document: &mut Value, active: &[String]) {
    if let Some(Value::Mapping(services)) = document.get_mut("services") {
        services.retain(|_, service| match service.get("profiles") {
            Some(Value::Sequence(profiles)) if !profiles.is_empty() => profiles
                .iter()
                .filter_map(super::scalar)
                .any(|p| active.contains(&p) || active.iter().any(|a| a == "*")),
            _ => true,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(text: &str) -> Value {
        read_document(Path::new("c.yml"), text).unwrap()
    }

    /// A service's merged `environment:` entries, in order.
    fn environment<'a>(v: &'a Value, service: &str) -> Vec<&'a str> {
        v["services"][service]["environment"]
            .as_sequence()
            .unwrap()
            .iter()
            .map(|e| e.as_str().unwrap())
            .collect()
    }

    fn merged(files: &[&str]) -> Value {
        let mut value = merge_documents(files.iter().map(|t| doc(t)).collect()).unwrap();
        enforce_unicity(&mut value, &mut Vec::new());
        value
    }

    #[test]
    fn environment_merges_by_key_whatever_its_form() {
        let v = merged(&[
            "services:\n  a:\n    environment:\n      A: '1'\n      B: '2'\n",
            "services:\n  a:\n    environment:\n      - B=3\n      - C\n",
        ]);
        assert_eq!(environment(&v, "a"), ["A=1", "B=3", "C"]);
    }

    #[test]
    fn command_is_replaced_and_ports_are_appended() {
        let v = merged(&[
            "services:\n  a:\n    command: [x, y]\n    ports: ['1:1']\n",
            "services:\n  a:\n    command: z\n    ports: ['2:2']\n",
        ]);
        assert_eq!(v["services"]["a"]["command"], Value::String("z".into()));
        assert_eq!(v["services"]["a"]["ports"].as_sequence().unwrap().len(), 2);
    }

    #[test]
    fn merge_keys_and_extends() {
        let v = doc(
            "x-env: &env\n  A: '1'\nservices:\n  base:\n    image: i\n    environment:\n      <<: *env\n      B: '2'\n  a:\n    extends: base\n    environment:\n      B: '3'\n",
        );
        let mut v = v;
        apply_extends(&mut v, Path::new(".")).unwrap();
        enforce_unicity(&mut v, &mut Vec::new());
        assert_eq!(v["services"]["a"]["image"], Value::String("i".into()));
        assert_eq!(environment(&v, "a"), ["A=1", "B=3"]);
    }

    #[test]
    fn an_extends_loop_is_refused() {
        let mut v = doc("services:\n  a:\n    extends: b\n  b:\n    extends: a\n");
        assert!(apply_extends(&mut v, Path::new(".")).is_err());
    }

    #[test]
    fn inactive_profiles_leave_services_out() {
        let mut v =
            doc("services:\n  a:\n    image: i\n  b:\n    image: i\n    profiles: [debug]\n");
        apply_profiles(&mut v, &[]);
        assert!(v["services"].get("b").is_none());
        let mut v = doc("services:\n  b:\n    image: i\n    profiles: [debug]\n");
        apply_profiles(&mut v, &["debug".into()]);
        assert!(v["services"].get("b").is_some());
    }
}
