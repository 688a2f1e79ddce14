//! Every fix the doctor can apply is proven by applying it: for each
//! training fixture and each planted case, each finding whose `apply` is a
//! command or an edit is made on a fresh copy (a command runs in a scratch
//! bash with the student's environment, and the environment it leaves is
//! the next doctor's; an edit changes the line), and the doctor runs
//! again: that finding is gone, and nothing new appears.

use crate::common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::common::doctor::{HEALTHY_SHELL, KEY};

struct Workspace {
    _root: tempfile::TempDir,
    dir: PathBuf,
    env: BTreeMap<String, String>,
}

impl Workspace {
    fn copy_of(dir: &Path, env: &BTreeMap<String, String>) -> Self {
        let root = tempfile::tempdir().unwrap();
        let copy = root.path().join("ws");
        common::realrepos::copy_repo(dir, &copy);
        Workspace {
            _root: root,
            dir: copy,
            env: env.clone(),
        }
    }

    fn doctor(&self) -> Value {
        let output = Command::new(env!("CARGO_BIN_EXE_tracelab"))
            .args(["doctor", "--json", "--builtin-resolver", "--dir", "."])
            .current_dir(&self.dir)
            .env_clear()
            .envs(&self.env)
            .output()
            .unwrap();
        serde_json::from_slice(&output.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&output.stderr)))
    }

    /// Makes the fix; Err says why it could not be made.
    fn apply(&mut self, apply: &Value) -> Result<(), String> {
        match apply["kind"].as_str() {
            Some("command") => self.run(apply["command"].as_str().unwrap()),
            Some("edit") => self.edit(apply),
            // Bottom-up, as doctor --fix makes them: each line number holds.
            Some("edits") => {
                let mut edits: Vec<&Value> = apply["edits"].as_array().unwrap().iter().collect();
                edits.sort_by_key(|e| std::cmp::Reverse(e["line"].as_u64()));
                edits.into_iter().try_for_each(|e| self.edit(e))
            }
            other => Err(format!("unknown kind {other:?}")),
        }
    }

    /// Runs the command in bash as the student would paste it, answering a
    /// prompt for a variable with its healthy value, and keeps the
    /// environment it leaves.
    fn run(&mut self, command: &str) -> Result<(), String> {
        let answer = HEALTHY_SHELL
            .iter()
            .find(|(name, _)| {
                command.contains(&format!("env set {name}"))
                    || command.contains(&format!("' {name}\n"))
            })
            .map(|(_, value)| format!("{value}\n"))
            .unwrap_or_default();
        let dump = self.dir.join("..").join("env.after");
        let script = format!("{command}\nenv -0 > '{}'\n", dump.display());
        let tracelab = Path::new(env!("CARGO_BIN_EXE_tracelab")).parent().unwrap();
        let path = format!(
            "{}:{}",
            tracelab.display(),
            self.env.get("PATH").map_or("/usr/bin:/bin", String::as_str)
        );
        let output = common::output_with_stdin(
            Command::new("bash")
                .arg("-c")
                .arg(&script)
                .current_dir(&self.dir)
                .env_clear()
                .envs(&self.env)
                .env("PATH", &path),
            &answer,
        );
        if !output.status.success() {
            return Err(format!(
                "exit {:?}: {}",
                output.status.code(),
                String::from_utf8_lossy(&output.stderr)
            ));
        }
        let after = std::fs::read(&dump).map_err(|e| e.to_string())?;
        self.env = after
            .split(|b| *b == 0)
            .filter_map(|entry| {
                let entry = String::from_utf8_lossy(entry);
                let (name, value) = entry.split_once('=')?;
                // Bash's own, not the student's.
                (!["PWD", "OLDPWD", "SHLVL", "_"].contains(&name))
                    .then(|| (name.to_string(), value.to_string()))
            })
            .collect();
        Ok(())
    }

    fn edit(&mut self, edit: &Value) -> Result<(), String> {
        let path = self.dir.join(edit["file"].as_str().unwrap());
        let line = edit["line"].as_u64().unwrap() as usize;
        let (old, new) = (edit["old"].as_str().unwrap(), edit["new"].as_str().unwrap());
        let text =
            std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let mut lines: Vec<&str> = text.lines().collect();
        if old.is_empty() {
            lines.insert(line - 1, new);
        } else if lines.get(line - 1) == Some(&old) {
            lines.remove(line - 1);
            if !new.is_empty() {
                lines.insert(line - 1, new);
            }
        } else {
            return Err(format!(
                "line {line} is {:?}, not {old:?}",
                lines.get(line - 1)
            ));
        }
        std::fs::write(&path, lines.join("\n") + "\n").map_err(|e| e.to_string())
    }
}

/// (id, variable) of each problem and warning, counted.
fn counted(report: &Value) -> BTreeMap<(String, String), usize> {
    let mut counts = BTreeMap::new();
    for check in report["checks"].as_array().unwrap() {
        if check["status"] == "fail" || check["status"] == "warn" {
            let key = (
                check["id"].as_str().unwrap().to_string(),
                check["variable"].to_string(),
            );
            *counts.entry(key).or_insert(0) += 1;
        }
    }
    counts
}

#[derive(Default)]
struct Tally {
    commands: usize,
    edits: usize,
    advice: usize,
    /// Ids whose findings had advice only, counted.
    advice_ids: BTreeMap<String, usize>,
    failures: Vec<String>,
}

/// Applies each fix of the workspace's report on its own copy.
fn prove_fixes(name: &str, dir: &Path, env: &BTreeMap<String, String>, tally: &mut Tally) {
    let base = Workspace::copy_of(dir, env);
    let before = base.doctor();
    let counts = counted(&before);
    for finding in before["checks"].as_array().unwrap() {
        if finding["status"] != "fail" && finding["status"] != "warn" {
            continue;
        }
        let apply = &finding["apply"];
        if apply.is_null() {
            tally.advice += 1;
            *tally
                .advice_ids
                .entry(finding["id"].as_str().unwrap().to_string())
                .or_insert(0) += 1;
            continue;
        }
        let what = format!(
            "{name}: {} {}: fix {:?}",
            finding["id"], finding["message"], finding["fix"]
        );
        let mut copy = Workspace::copy_of(&base.dir, &base.env);
        if let Err(why) = copy.apply(apply) {
            tally
                .failures
                .push(format!("{what}\n  could not be made: {why}"));
            continue;
        }
        match apply["kind"].as_str() {
            Some("command") => tally.commands += 1,
            _ => tally.edits += 1,
        }
        let after = counted(&copy.doctor());
        let key = (
            finding["id"].as_str().unwrap().to_string(),
            finding["variable"].to_string(),
        );
        if after.get(&key).copied().unwrap_or(0) >= counts[&key] {
            tally
                .failures
                .push(format!("{what}\n  is still reported after the fix"));
        }
        let new: Vec<String> = after
            .iter()
            .filter(|(k, n)| **n > counts.get(*k).copied().unwrap_or(0))
            .map(|((id, variable), _)| format!("{id} {variable}"))
            .collect();
        if !new.is_empty() {
            tally
                .failures
                .push(format!("{what}\n  brought new findings: {new:?}"));
        }
    }
}

fn healthy_env(home: &Path) -> BTreeMap<String, String> {
    let mut env: BTreeMap<String, String> = HEALTHY_SHELL
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    env.insert("PATH".into(), "/usr/bin:/bin".into());
    env.insert("HOME".into(), home.display().to_string());
    env.insert("NO_COLOR".into(), "1".into());
    env
}

/// A generated workspace with every backend, one thing changed.
struct Planted {
    name: &'static str,
    set: &'static [(&'static str, &'static str)],
    unset: &'static [&'static str],
    /// (file, text, replacement)
    edits: &'static [(&'static str, &'static str, &'static str)],
}

const PLANTED: &[Planted] = &[
    Planted {
        name: "placeholder key in the shell",
        set: &[("HONEYCOMB_API_KEY", "your-api-key-here")],
        unset: &[],
        edits: &[],
    },
    Planted {
        name: "key with quotes in the shell",
        set: &[(
            "HONEYCOMB_API_KEY",
            "\"hcaik_01jq7w3e5r7t9y1u3i5o7p9a1s3d5f7g9h1j3k5l7z9x1c3v5b7n9m1q3w\"",
        )],
        unset: &[],
        edits: &[],
    },
    Planted {
        name: "region near miss in the shell",
        set: &[("AWS_DEFAULT_REGION", "can-central-1")],
        unset: &[],
        edits: &[],
    },
    Planted {
        name: "misspelt key in the shell",
        set: &[("HONEYCOMB_APIKEY", KEY)],
        unset: &["HONEYCOMB_API_KEY"],
        edits: &[],
    },
    Planted {
        name: "misspelt key in .env",
        set: &[],
        unset: &["HONEYCOMB_API_KEY"],
        edits: &[(
            ".env",
            "",
            "HONEYCOMB_APIKEY=hcaik_01jq7w3e5r7t9y1u3i5o7p9a1s3d5f7g9h1j3k5l7z9x1c3v5b7n9m1q3w\n",
        )],
    },
    Planted {
        name: "token not set",
        set: &[],
        unset: &["ROLLBAR_ACCESS_TOKEN"],
        edits: &[],
    },
    Planted {
        name: "region in the daemon written wrong",
        set: &[],
        unset: &[],
        edits: &[(
            "docker-compose.yml",
            "AWS_REGION: \"${AWS_DEFAULT_REGION}\"",
            "AWS_REGION: \"can-central-1\"",
        )],
    },
    Planted {
        name: "import commented out",
        set: &[],
        unset: &[],
        edits: &[(
            "backend-flask/app.py",
            "\nimport logging\n",
            "\n# import logging\n",
        )],
    },
    Planted {
        name: "set-up nothing calls",
        set: &[],
        unset: &[],
        edits: &[(
            "backend-flask/app.py",
            "with app.app_context():\n    init_rollbar(app)\n",
            "with app.app_context():\n    pass\n",
        )],
    },
    Planted {
        name: "the middleware assigned instead of called",
        set: &[],
        unset: &[],
        edits: &[(
            "backend-flask/app.py",
            "XRayMiddleware(app, xray_recorder)",
            "XRayMiddleware = (app, xray_recorder)",
        )],
    },
    Planted {
        name: "the instrumentation named without its call",
        set: &[],
        unset: &[],
        edits: &[(
            "backend-flask/app.py",
            "    FlaskInstrumentor().instrument_app(app)",
            "    FlaskInstrumentor().instrument_app",
        )],
    },
    Planted {
        name: "a class name mistyped under a star import",
        set: &[],
        unset: &[],
        edits: &[
            (
                "backend-flask/app.py",
                "from services.home_activities import HomeActivities\n",
                "from services.home_activities import *\n",
            ),
            (
                "backend-flask/app.py",
                "HomeActivities.run()",
                "HomeActivity.run()",
            ),
        ],
    },
    Planted {
        name: "a method passed where its result was meant",
        set: &[],
        unset: &[],
        edits: &[(
            "backend-flask/services/home_activities.py",
            "now.isoformat())",
            "now.isoformat)",
        )],
    },
    Planted {
        name: "an endpoint without its scheme",
        set: &[],
        unset: &[],
        edits: &[(
            "docker-compose.yml",
            "\"https://api.honeycomb.io\"",
            "\"api.honeycomb.io\"",
        )],
    },
    Planted {
        name: "an endpoint over http",
        set: &[],
        unset: &[],
        edits: &[(
            "docker-compose.yml",
            "\"https://api.honeycomb.io\"",
            "\"http://api.honeycomb.io\"",
        )],
    },
    Planted {
        name: "the base endpoint with /v1/traces",
        set: &[],
        unset: &[],
        edits: &[(
            "docker-compose.yml",
            "\"https://api.honeycomb.io\"",
            "\"https://api.honeycomb.io/v1/traces\"",
        )],
    },
    Planted {
        name: "a header written with a colon",
        set: &[],
        unset: &[],
        edits: &[(
            "docker-compose.yml",
            "x-honeycomb-team=${HONEYCOMB_API_KEY}",
            "x-honeycomb-team: ${HONEYCOMB_API_KEY}",
        )],
    },
    Planted {
        name: "the header's name misspelt",
        set: &[],
        unset: &[],
        edits: &[(
            "docker-compose.yml",
            "x-honeycomb-team=",
            "x-honeycomb-teams=",
        )],
    },
    Planted {
        name: "the key's variable misspelt where compose reads it",
        set: &[],
        unset: &[],
        edits: &[(
            "docker-compose.yml",
            "${HONEYCOMB_API_KEY}",
            "${HONEYCOMB_APIKEY}",
        )],
    },
    Planted {
        name: "the daemon's address as this machine",
        set: &[],
        unset: &[],
        edits: &[(
            "docker-compose.yml",
            "AWS_XRAY_DAEMON_ADDRESS: \"xray-daemon:2000\"",
            "AWS_XRAY_DAEMON_ADDRESS: \"127.0.0.1:2000\"",
        )],
    },
    Planted {
        name: "the daemon without its region",
        set: &[],
        unset: &[],
        edits: &[(
            "docker-compose.yml",
            "      AWS_REGION: \"${AWS_DEFAULT_REGION}\"\n",
            "",
        )],
    },
    Planted {
        name: "the daemon's region under the name boto3 reads",
        set: &[],
        unset: &[],
        edits: &[(
            "docker-compose.yml",
            "      AWS_REGION: \"${AWS_DEFAULT_REGION}\"\n",
            "      AWS_DEFAULT_REGION: \"${AWS_DEFAULT_REGION}\"\n",
        )],
    },
    Planted {
        name: "the backend without its region",
        set: &[],
        unset: &[],
        edits: &[(
            "docker-compose.yml",
            "      AWS_DEFAULT_REGION: \"${AWS_DEFAULT_REGION}\"\n",
            "",
        )],
    },
    Planted {
        name: "the X-Ray SDK switched off",
        set: &[],
        unset: &[],
        edits: &[(
            "docker-compose.yml",
            "      OTEL_SERVICE_NAME: \"backend-flask\"\n",
            "      OTEL_SERVICE_NAME: \"backend-flask\"\n      AWS_XRAY_SDK_ENABLED: \"false\"\n",
        )],
    },
    Planted {
        name: "a processor never added to the provider",
        set: &[],
        unset: &[],
        edits: &[(
            "backend-flask/app.py",
            "    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))\n",
            "    processor = BatchSpanProcessor(OTLPSpanExporter())\n",
        )],
    },
    Planted {
        name: "the exporter's package not in requirements",
        set: &[],
        unset: &[],
        edits: &[(
            "backend-flask/requirements.txt",
            "opentelemetry-exporter-otlp-proto-http==1.45.1\n",
            "",
        )],
    },
    Planted {
        name: "the instrumentation's package not in requirements",
        set: &[],
        unset: &[],
        edits: &[(
            "backend-flask/requirements.txt",
            "opentelemetry-instrumentation-flask==0.66b1\n",
            "",
        )],
    },
    Planted {
        name: "the OpenTelemetry SDK switched off",
        set: &[],
        unset: &[],
        edits: &[(
            "docker-compose.yml",
            "      OTEL_SERVICE_NAME: \"backend-flask\"\n",
            "      OTEL_SERVICE_NAME: \"backend-flask\"\n      OTEL_SDK_DISABLED: \"true\"\n",
        )],
    },
    Planted {
        name: "a module one letter off, imported across lines",
        set: &[],
        unset: &[],
        edits: &[(
            "backend-flask/app.py",
            "from opentelemetry.sdk.trace.export import (",
            "from opentelemetry.sdk.trace.exports import (",
        )],
    },
    Planted {
        name: "the endpoint left out",
        set: &[],
        unset: &[],
        edits: &[(
            "docker-compose.yml",
            "      OTEL_EXPORTER_OTLP_ENDPOINT: \"https://api.honeycomb.io\"\n",
            "",
        )],
    },
    Planted {
        name: "the headers left out",
        set: &[],
        unset: &[],
        edits: &[(
            "docker-compose.yml",
            "      OTEL_EXPORTER_OTLP_HEADERS: \"x-honeycomb-team=${HONEYCOMB_API_KEY}\"\n",
            "",
        )],
    },
    Planted {
        name: "the middleware before the app exists",
        set: &[],
        unset: &[],
        edits: &[
            (
                "backend-flask/app.py",
                "XRayMiddleware(app, xray_recorder)\n",
                "",
            ),
            (
                "backend-flask/app.py",
                "app = Flask(__name__)\n",
                "XRayMiddleware(app, xray_recorder)\napp = Flask(__name__)\n",
            ),
        ],
    },
    Planted {
        name: "the lab's attribute one letter off",
        set: &[],
        unset: &[],
        edits: &[(
            "backend-flask/services/home_activities.py",
            "\"app.result_length\", len(results)",
            "\"app.results_length\", len(results)",
        )],
    },
    Planted {
        name: "the code reads the token under a misspelt name",
        set: &[],
        unset: &[],
        edits: &[(
            "backend-flask/app.py",
            "token = os.getenv(\"ROLLBAR_ACCESS_TOKEN\")",
            "token = os.getenv(\"ROLLBAR_ACCES_TOKEN\")",
        )],
    },
    Planted {
        name: "the token passed as the text ${...}",
        set: &[],
        unset: &[],
        edits: &[(
            "backend-flask/app.py",
            "token = os.getenv(\"ROLLBAR_ACCESS_TOKEN\")",
            "token = \"${ROLLBAR_ACCESS_TOKEN}\"",
        )],
    },
    Planted {
        name: "import from a module the package lacks",
        set: &[],
        unset: &[],
        edits: &[(
            "backend-flask/app.py",
            "aws_xray_sdk.ext.flask.middleware",
            "aws_xray_sdk.flask.middleware",
        )],
    },
    Planted {
        name: "a module's function called by a name it does not have",
        set: &[],
        unset: &[],
        edits: &[(
            "backend-flask/services/home_activities.py",
            "trace.get_tracer(",
            "trace.getTracer(",
        )],
    },
    Planted {
        name: "a library class given a misspelt keyword",
        set: &[],
        unset: &[],
        edits: &[(
            "backend-flask/app.py",
            "TracerProvider(resource=",
            "TracerProvider(resouce=",
        )],
    },
    Planted {
        name: "a method called on its class, not an instance",
        set: &[],
        unset: &[],
        edits: &[(
            "backend-flask/app.py",
            "RequestsInstrumentor().instrument()",
            "RequestsInstrumentor.instrument()",
        )],
    },
    Planted {
        name: "a class given where an instance is meant",
        set: &[],
        unset: &[],
        edits: &[(
            "backend-flask/app.py",
            "BatchSpanProcessor(OTLPSpanExporter())",
            "BatchSpanProcessor(OTLPSpanExporter)",
        )],
    },
];

#[test]
fn every_applicable_fix_fixes_its_finding_and_nothing_else() {
    let home = tempfile::tempdir().unwrap();
    let mut tally = Tally::default();
    let (_generated, workspace) = common::new_workspace(&[
        "--no-check",
        "--set",
        "backends=honeycomb,xray,cloudwatch,rollbar",
    ]);
    for planted in PLANTED {
        let case = Workspace::copy_of(&workspace, &healthy_env(home.path()));
        let mut env = case.env.clone();
        for (name, value) in planted.set {
            env.insert(name.to_string(), value.to_string());
        }
        for name in planted.unset {
            env.remove(*name);
        }
        for (file, from, to) in planted.edits {
            let path = case.dir.join(file);
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            assert!(
                from.is_empty() || text.contains(from),
                "{}: {file} has no {from:?}",
                planted.name
            );
            let text = if from.is_empty() {
                text + to
            } else {
                text.replacen(from, to, 1)
            };
            std::fs::write(&path, text).unwrap();
        }
        let before = tally.commands + tally.edits;
        prove_fixes(planted.name, &case.dir, &env, &mut tally);
        assert!(
            tally.commands + tally.edits > before || !tally.failures.is_empty(),
            "{}: no fix to apply",
            planted.name
        );
    }
    if let Some(fixtures) = common::realrepos::folder(
        "fix_harness::every_applicable_fix_fixes_its_finding_and_nothing_else",
    ) {
        let mut names: Vec<PathBuf> = std::fs::read_dir(&fixtures)
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.join("EXPECTED.md").exists())
            .collect();
        names.sort();
        for repo in names {
            let name = repo.file_name().unwrap().to_string_lossy().into_owned();
            prove_fixes(&name, &repo, &healthy_env(home.path()), &mut tally);
        }
    }
    eprintln!(
        "fix harness: {} commands and {} edits applied and proven; {} findings have advice only",
        tally.commands, tally.edits, tally.advice
    );
    eprintln!("advice only, by check: {:?}", tally.advice_ids);
    assert!(
        tally.failures.is_empty(),
        "{} fixes failed:\n{}",
        tally.failures.len(),
        tally.failures.join("\n")
    );
}
