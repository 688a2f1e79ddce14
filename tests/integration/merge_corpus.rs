//! The edits a student makes in Week 2, then every `add` and `update`
//! transition: applied together and one by one, no conflict (no key was
//! changed on both sides), no line lost, and every file still what it was:
//! YAML that real Compose v2 accepts, Python that CPython compiles.

use crate::common;

use std::path::Path;
use std::process::Command;

/// (file, text it is put after, the student's lines). Empty anchor: the
/// end of the file.
const EDITS: &[(&str, &str, &str)] = &[
    (
        "docker-compose.yml",
        "      OTEL_EXPORTER_OTLP_HEADERS: \"x-honeycomb-team=${HONEYCOMB_API_KEY}\"\n",
        "      CONNECTION_URL: \"postgresql://postgres:password@db:5432/cruddur\"\n",
    ),
    (
        "docker-compose.yml",
        "      dockerfile: Dockerfile\n",
        "    restart: unless-stopped\n",
    ),
    (
        "docker-compose.yml",
        "      - \"4567:4567\"\n",
        "      - \"5678:5678\"\n",
    ),
    (
        "docker-compose.yml",
        "",
        "  db:\n    image: postgres:13-alpine\n    environment:\n      POSTGRES_USER: postgres\n      POSTGRES_PASSWORD: password\n    ports:\n      - \"5432:5432\"\n",
    ),
    (
        "backend-flask/app.py",
        "    return jsonify(HomeActivities.run()), 200\n",
        "\n\n@app.route(\"/api/messages\")\ndef messages():\n    return jsonify([]), 200\n",
    ),
    ("backend-flask/app.py", "import os\n", "import sys\n"),
    (
        "backend-flask/app.py",
        "def health_check():\n    return jsonify({\"success\": True, \"service\": SERVICE_NAME}), 200\n",
        "\n\ndef student_helper():\n    return sys.version\n",
    ),
    (
        "backend-flask/services/home_activities.py",
        "            span.set_attribute(\"app.result_length\", len(results))\n",
        "            span.set_attribute(\"app.user\", \"andrew\")\n",
    ),
    ("backend-flask/requirements.txt", "", "psycopg[binary]\n"),
    (
        "backend-flask/requirements.txt",
        "flask-cors==6.0.5\n",
        "flask-sqlalchemy\n",
    ),
    (".env.example", "", "CONNECTION_URL=\n"),
    (
        ".gitpod.yml",
        "      docker compose up\n",
        "  - name: \"postgres\"\n    init: |\n      echo installing the postgres client\n",
    ),
    (
        ".gitpod.yml",
        "    onOpen: notify\n",
        "  - name: \"postgres\"\n    port: 5432\n    visibility: private\n",
    ),
    (
        ".gitpod.yml",
        "",
        "    - \"cweijan.vscode-postgresql-client2\"\n",
    ),
    (".gitignore", "", "node_modules/\n"),
    (
        "backend-flask/Dockerfile",
        "",
        "# my note: rebuild after changing requirements\n",
    ),
    ("README.md", "", "\n## My notes\n\nWeek 2 done.\n"),
    (
        "backend-flask/app.py",
        "from flask_cors import CORS\n",
        "from flask import request\n",
    ),
    (
        "docker-compose.yml",
        "    volumes:\n      - ./backend-flask:/backend-flask\n",
        "    depends_on:\n      - db\n",
    ),
    (
        ".env.example",
        "HONEYCOMB_API_KEY=\n",
        "# my database\nDB_HOST=db\n",
    ),
];

/// Changes of a word inside a line a template also has.
const CHANGES: &[(&str, &str, &str)] = &[
    (
        ".devcontainer/devcontainer.json",
        "\"forwardPorts\": [4567],",
        "\"forwardPorts\": [4567, 5432],",
    ),
    (
        ".devcontainer/devcontainer.json",
        "      \"description\": \"Honeycomb ingest or configuration key (Honeycomb: Environment settings, API keys)\"\n    }\n",
        "      \"description\": \"Honeycomb ingest or configuration key (Honeycomb: Environment settings, API keys)\"\n    },\n    \"DB_PASSWORD\": {\n      \"description\": \"The database's password\"\n    }\n",
    ),
    (
        "backend-flask/services/home_activities.py",
        "Cloud is very fun!",
        "Cloud is fun!",
    ),
    (
        "backend-flask/app.py",
        "methods=\"OPTIONS,GET,HEAD,POST\"",
        "methods=\"OPTIONS,GET,HEAD,POST,PUT,DELETE\"",
    ),
];

const TRANSITIONS: &[&[&str]] = &[
    &["add", "xray"],
    &["add", "cloudwatch"],
    &["add", "rollbar"],
    &["add", "xray", "cloudwatch", "rollbar"],
    &["add", "local"],
    &["update", "--set", "port=5000"],
    // A template upgrade: the workspace made by an older tracelab (below).
    &["update"],
];

/// How an older tracelab wrote some lines (file, line now, line then): the
/// workspace and its bases are made so before a plain `update`, which then
/// brings the current templates in.
const OLDER_TEMPLATES: &[(&str, &str, &str)] = &[
    (
        "backend-flask/requirements.txt",
        "flask==3.1.3",
        "flask==3.0.3",
    ),
    (
        "backend-flask/requirements.txt",
        "opentelemetry-sdk==1.45.1",
        "opentelemetry-sdk==1.44.0",
    ),
    (
        "docker-compose.yml",
        "      BACKEND_URL: \"${BACKEND_URL:-http://localhost:4567}\"\n",
        "",
    ),
    (
        "backend-flask/app.py",
        "# Instrument only once the app exists.",
        "# Instrument the app.",
    ),
];

fn apply_edit(dir: &Path, (file, anchor, lines): (&str, &str, &str)) {
    let path = dir.join(file);
    let text = std::fs::read_to_string(&path).unwrap();
    let text = if anchor.is_empty() {
        text + lines
    } else {
        assert!(text.contains(anchor), "{file} has no {anchor:?}");
        text.replacen(anchor, &format!("{anchor}{lines}"), 1)
    };
    std::fs::write(&path, text).unwrap();
}

fn apply_change(dir: &Path, (file, from, to): (&str, &str, &str)) {
    let path = dir.join(file);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains(from), "{file} has no {from:?}");
    std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
}

/// Runs one transition on a fresh workspace with these edits; the
/// problems found, each named.
fn check(
    transition: &[&str],
    edits: &[(&str, &str, &str)],
    changes: &[(&str, &str, &str)],
) -> Vec<String> {
    let (_root, dir) = common::new_workspace(&["--no-check"]);
    if transition == ["update"] {
        for (file, now, then) in OLDER_TEMPLATES {
            apply_change(&dir, (file, now, then));
            let base = &common::bases(&dir)[*file];
            assert!(base.contains(now), "{file}'s base has no {now:?}");
            common::set_base(&dir, file, &base.replacen(now, then, 1));
        }
    }
    for edit in edits {
        apply_edit(&dir, *edit);
    }
    for change in changes {
        apply_change(&dir, *change);
    }
    let name = format!(
        "{} with {} edits",
        transition.join(" "),
        edits.len() + changes.len()
    );
    let mut problems = Vec::new();
    let output = common::tracelab()
        .args(transition)
        .args(["--yes", "--dir"])
        .arg(&dir)
        .output()
        .unwrap();
    if !output.status.success() {
        problems.push(format!(
            "{name}: exit {:?}\n{}{}",
            output.status.code(),
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    if transition == ["update"] {
        for (file, now, _) in OLDER_TEMPLATES {
            let text = std::fs::read_to_string(dir.join(file)).unwrap_or_default();
            if !text.contains(now.trim_end()) {
                problems.push(format!(
                    "{name}: the upgrade did not bring {now:?} into {file}"
                ));
            }
        }
    }
    for (file, _, lines) in edits {
        let text = std::fs::read_to_string(dir.join(file)).unwrap_or_default();
        if text.contains("<<<<<<<") {
            problems.push(format!("{name}: conflict markers in {file}:\n{text}"));
        }
        for line in lines.lines().filter(|l| !l.trim().is_empty()) {
            if !text.contains(line) {
                problems.push(format!("{name}: {file} lost {line:?}"));
            }
        }
    }
    for (file, _, to) in changes {
        let text = std::fs::read_to_string(dir.join(file)).unwrap_or_default();
        // JSON is merged by its structure and printed again: judged by value.
        if file.ends_with(".json") {
            continue;
        }
        if !text.contains(to) {
            problems.push(format!("{name}: {file} lost the change to {to:?}"));
        }
    }
    if changes.iter().any(|(file, _, _)| file.ends_with(".json")) {
        let json: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(dir.join(".devcontainer/devcontainer.json")).unwrap(),
        )
        .unwrap_or_default();
        for (file, from, to) in changes.iter().filter(|(f, _, _)| f.ends_with(".json")) {
            let kept = if to.contains("5432") {
                json["forwardPorts"]
                    .as_array()
                    .is_some_and(|p| p.contains(&5432.into()))
            } else {
                json["secrets"]["DB_PASSWORD"]["description"] == "The database's password"
            };
            if !kept {
                problems.push(format!(
                    "{name}: {file} lost the change of {from:?}:\n{json:#}"
                ));
            }
        }
    }
    let json = std::fs::read_to_string(dir.join(".devcontainer/devcontainer.json")).unwrap();
    if let Err(error) = serde_json::from_str::<serde_json::Value>(&json) {
        problems.push(format!(
            "{name}: devcontainer.json is not JSON: {error}\n{json}"
        ));
    }
    for yaml in ["docker-compose.yml", ".gitpod.yml"] {
        let text = std::fs::read_to_string(dir.join(yaml)).unwrap();
        if let Err(error) = serde_yaml::from_str::<serde_yaml::Value>(&text) {
            problems.push(format!("{name}: {yaml} is not YAML: {error}"));
        }
    }
    let compose = Command::new(common::tool("docker-compose"))
        .args(["config", "-q"])
        .current_dir(&dir)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .output()
        .unwrap();
    if !compose.status.success() {
        problems.push(format!(
            "{name}: Compose v2 refuses it: {}",
            String::from_utf8_lossy(&compose.stderr)
        ));
    }
    let compiled = Command::new(common::python())
        .args(["-m", "compileall", "-q", "backend-flask"])
        .current_dir(&dir)
        .output()
        .unwrap();
    if !compiled.status.success() {
        problems.push(format!(
            "{name}: Python does not compile: {}",
            String::from_utf8_lossy(&compiled.stdout)
        ));
    }
    problems
}

#[test]
fn every_ordinary_edit_survives_every_transition_together() {
    let problems: Vec<String> = TRANSITIONS
        .iter()
        .flat_map(|t| check(t, EDITS, CHANGES))
        .collect();
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}

#[test]
fn every_ordinary_edit_survives_every_transition_one_by_one() {
    let mut problems = Vec::new();
    for transition in TRANSITIONS {
        for edit in EDITS {
            problems.extend(check(transition, &[*edit], &[]));
        }
        for change in CHANGES {
            problems.extend(check(transition, &[], &[*change]));
        }
    }
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n\n")
    );
}

/// One key both sides changed: in YAML, a keyed file, Python. `--dry-run`
/// says so and exits 1 as the run would; the run marks it and exits 1; the
/// doctor names it once.
#[test]
fn a_key_changed_on_both_sides_is_a_conflict_said_before_and_after() {
    let cases: &[(&[&str], &str, &str, &str)] = &[
        (
            &["update", "--set", "port=5000"],
            "docker-compose.yml",
            "      - \"4567:4567\"",
            "      - \"4568:4567\"",
        ),
        (
            &["update", "--set", "port=5000"],
            "backend-flask/app.py",
            "os.getenv(\"PORT\", \"4567\")",
            "os.getenv(\"PORT\", \"4568\")",
        ),
        (
            &["add", "local"],
            ".env.example",
            "HONEYCOMB_API_KEY=",
            "HONEYCOMB_API_KEY=changeme",
        ),
    ];
    for (transition, file, from, to) in cases {
        let (_root, dir) = common::new_workspace(&["--no-check"]);
        apply_change(&dir, (file, from, to));
        let before = std::fs::read_to_string(dir.join(file)).unwrap();
        let dry = common::tracelab()
            .args(*transition)
            .args(["--dry-run", "--dir"])
            .arg(&dir)
            .output()
            .unwrap();
        let said = String::from_utf8_lossy(&dry.stdout);
        assert_eq!(dry.status.code(), Some(1), "{transition:?} {file}: {said}");
        assert!(
            said.contains("conflict(s) ahead") && said.contains(file),
            "{said}"
        );
        assert_eq!(
            std::fs::read_to_string(dir.join(file)).unwrap(),
            before,
            "a dry run wrote"
        );

        let run = common::tracelab()
            .args(*transition)
            .args(["--yes", "--dir"])
            .arg(&dir)
            .output()
            .unwrap();
        assert_eq!(run.status.code(), Some(1), "{transition:?} {file}");
        let text = std::fs::read_to_string(dir.join(file)).unwrap();
        assert!(
            text.contains("<<<<<<<") && text.contains(to.trim()),
            "{text}"
        );
        if file.ends_with(".yml") || file.ends_with(".py") {
            let doctor = common::tracelab()
                .args(["doctor", "--json", "--builtin-resolver", "--dir"])
                .arg(&dir)
                .env_clear()
                .env("PATH", "/usr/bin:/bin")
                .output()
                .unwrap();
            let report: serde_json::Value = serde_json::from_slice(&doctor.stdout).unwrap();
            let named: Vec<&serde_json::Value> = report["checks"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|c| {
                    c["message"]
                        .as_str()
                        .unwrap_or("")
                        .contains("unresolved merge conflict")
                })
                .collect();
            assert_eq!(named.len(), 1, "{report:#}");
        }
        // Every other file merged cleanly.
        for other in [
            "docker-compose.yml",
            "backend-flask/app.py",
            ".env.example",
            ".gitpod.yml",
        ] {
            if other != *file {
                let text = std::fs::read_to_string(dir.join(other)).unwrap_or_default();
                assert!(!text.contains("<<<<<<<"), "{other} has markers too");
            }
        }
    }
}
