//! The doctor on hostile or unlucky input: Python nested past what CPython
//! compiles, statements thousands of terms long, compose files with tens of
//! thousands of variables, and files that are FIFOs or devices. It answers
//! each, within a bound, and never crashes.

use crate::common;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use tracelab::doctor::checks::run_all;
use tracelab::workspace::context::{Context, Options};
use tracelab::workspace::python::PyFile;

const OFFLINE: Options = Options {
    external_layers: false,
    use_compose_binary: false,
    repository_only: false,
};

/// Modules built to nest `n` levels in each way Python nests.
fn nested_modules() -> Vec<(String, String)> {
    type Build = fn(usize) -> String;
    let shapes: [(&str, Build); 10] = [
        ("sum", |n| format!("x = {}\n", vec!["1"; n].join(" + "))),
        ("subscripts", |n| format!("x = a{}\n", "[0]".repeat(n))),
        ("attributes", |n| format!("x = a{}\n", ".b".repeat(n))),
        ("method chain", |n| format!("x = a{}\n", ".m()".repeat(n))),
        ("unary", |n| format!("x = {}1\n", "-".repeat(n))),
        ("not", |n| format!("x = {}1\n", "not ".repeat(n))),
        ("conditional", |n| {
            format!("x = {}1\n", "1 if a else ".repeat(n))
        }),
        ("parentheses", |n| {
            format!("x = {}1{}\n", "(".repeat(n), ")".repeat(n))
        }),
        ("calls", |n| {
            format!("x = {}1{}\n", "f(".repeat(n), ")".repeat(n))
        }),
        ("mixed brackets", |n| {
            let open: String = "([{".chars().cycle().take(n).collect();
            let close: String = open
                .chars()
                .rev()
                .map(|c| match c {
                    '(' => ')',
                    '[' => ']',
                    _ => '}',
                })
                .collect();
            format!("x = {}{}\n", open, close.replace("{}", "{1}"))
        }),
    ];
    let mut modules = Vec::new();
    for (name, build) in shapes {
        for n in [10, 199, 200, 201, 1_400, 1_600, 2_900, 3_100, 20_000] {
            modules.push((format!("{name} x{n}"), build(n)));
        }
    }
    modules
}

/// Whether CPython compiles each module, from one python3 run.
fn cpython_compiles(modules: &[(String, String)]) -> Vec<bool> {
    let sources: Vec<&str> = modules.iter().map(|(_, s)| s.as_str()).collect();
    let script = r#"
import json, sys
out = []
for source in json.load(sys.stdin):
    try:
        compile(source, "m.py", "exec")
        out.append(True)
    except (SyntaxError, RecursionError, MemoryError):
        out.append(False)
print(json.dumps(out))
"#;
    let output = common::output_with_stdin(
        Command::new(common::python()).args(["-c", script]),
        &serde_json::to_string(&sources).unwrap(),
    );
    assert!(output.status.success(), "{output:?}");
    serde_json::from_slice(&output.stdout).unwrap()
}

fn python_minor() -> Option<u32> {
    let output = Command::new(common::python())
        .args(["-c", "import sys; print(sys.version_info[1])"])
        .output()
        .ok()?;
    String::from_utf8_lossy(&output.stdout).trim().parse().ok()
}

/// Nesting is judged as CPython judges it: the 201st bracket is a
/// SyntaxError in every CPython 3, and statements nested past 3,000 levels
/// are a RecursionError in 3.10 and 3.11, the versions the course uses.
/// Sizes sit clear of the depth limit: CPython's own counts the frames
/// already in use, which vary by a few dozen.
#[test]
fn nesting_is_refused_exactly_where_cpython_refuses_it() {
    let modules = nested_modules();
    let cpython = cpython_compiles(&modules);
    let depth_limit_applies = matches!(python_minor(), Some(10 | 11));
    if !depth_limit_applies {
        println!(
            "note: {} is not CPython 3.10 or 3.11: only the bracket limit is compared",
            common::python()
        );
    }
    let mut compared = 0;
    for ((name, source), compiles) in modules.iter().zip(cpython) {
        let started = Instant::now();
        let file = PyFile::parse(Path::new("m.py"), source);
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{name}: {:?}",
            started.elapsed()
        );
        let refused = file.syntax_error.as_ref();
        let about_brackets = refused.is_some_and(|e| e.message.contains("parentheses"));
        if !depth_limit_applies && !about_brackets && compiles {
            continue;
        }
        compared += 1;
        assert_eq!(
            refused.is_none(),
            compiles,
            "{name}: CPython {} it, tracelab says {refused:?}",
            if compiles { "compiles" } else { "refuses" }
        );
        if let Some(error) = refused {
            assert_eq!(error.line, 1, "{name}");
        }
    }
    assert!(compared >= 30, "only {compared} compared");
}

fn workspace_with(edit: impl FnOnce(&Path)) -> (tempfile::TempDir, std::path::PathBuf) {
    let (temp, dir) = common::new_workspace(&["--set", "backends=honeycomb,xray"]);
    edit(&dir);
    (temp, dir)
}

fn doctor_json(dir: &Path) -> (i32, serde_json::Value, Duration) {
    let started = Instant::now();
    let output = common::tracelab()
        .args(["doctor", "--json"])
        .current_dir(dir)
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    let elapsed = started.elapsed();
    let json = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    });
    (output.status.code().unwrap_or(-1), json, elapsed)
}

fn findings(json: &serde_json::Value, id: &str) -> Vec<String> {
    json["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["id"] == id)
        .map(|f| f["message"].as_str().unwrap().to_string())
        .collect()
}

/// A module too deep for Python to compile, imported by the app: the
/// backend does not start, and the doctor says so at the statement's line.
#[test]
fn a_module_too_deep_to_compile_is_one_finding_at_its_line() {
    for (name, body) in [
        ("sum", format!("x = {}\n", vec!["1"; 20_000].join("+"))),
        ("chain", format!("x = a{}\n", ".m()".repeat(8_000))),
        (
            "calls",
            format!("x = {}1{}\n", "f(".repeat(20_000), ")".repeat(20_000)),
        ),
    ] {
        let (_temp, dir) = workspace_with(|dir| {
            let module = format!("import os\n\n{body}");
            std::fs::write(dir.join("backend-flask/services/deep.py"), module).unwrap();
            let app = dir.join("backend-flask/app.py");
            let text = common::read(&app);
            std::fs::write(&app, format!("import services.deep\n{text}")).unwrap();
        });
        let (code, json, elapsed) = doctor_json(&dir);
        assert_eq!(code, 1, "{name}: {json}");
        assert!(elapsed < Duration::from_secs(20), "{name}: {elapsed:?}");
        let syntax = findings(&json, "code-syntax");
        assert_eq!(syntax.len(), 1, "{name}: {json}");
        assert!(
            syntax[0].contains("services/deep.py:3: ")
                && (syntax[0].contains("RecursionError") || syntax[0].contains("parentheses")),
            "{name}: {}",
            syntax[0]
        );
    }
}

/// Tens of thousands of variables cost time in proportion: four times the
/// variables take nowhere near sixteen times as long.
#[test]
fn a_compose_file_with_many_variables_is_read_in_linear_time() {
    let (_temp, dir) = workspace_with(|_| {});
    let compose = dir.join("docker-compose.yml");
    let original = common::read(&compose);
    let time_with = |n: usize| {
        let extra: String = (0..n).map(|i| format!("      VAR_{i}: v{i}\n")).collect();
        let text = original.replacen(
            "    environment:\n",
            &format!("    environment:\n{extra}"),
            1,
        );
        std::fs::write(&compose, text).unwrap();
        (0..3)
            .map(|_| {
                let started = Instant::now();
                let contexts = Context::load_all(&dir, Default::default(), OFFLINE).unwrap();
                assert!(!run_all(&contexts[0]).is_empty());
                started.elapsed()
            })
            .min()
            .unwrap()
    };
    let small = time_with(5_000);
    let large = time_with(20_000);
    let ratio = large.as_secs_f64() / small.as_secs_f64();
    assert!(
        ratio < 9.0,
        "5,000: {small:?}; 20,000: {large:?} ({ratio:.1}x)"
    );
}

/// A workspace file that is a FIFO or a device is named, never waited on
/// or read forever.
#[test]
fn fifos_and_devices_are_refused_at_once() {
    for file in [
        ".env",
        "backend-flask/app.py",
        ".gitignore",
        ".tracelab.yml",
        "backend-flask/requirements.txt",
        "docker-compose.override.yml",
    ] {
        for device in [false, true] {
            let (_temp, dir) = workspace_with(|dir| {
                let path = dir.join(file);
                let _ = std::fs::remove_file(&path);
                if device {
                    std::os::unix::fs::symlink("/dev/zero", &path).unwrap();
                } else {
                    nix::unistd::mkfifo(&path, nix::sys::stat::Mode::S_IRWXU).unwrap();
                }
            });
            let started = Instant::now();
            let output = common::tracelab()
                .arg("doctor")
                .current_dir(&dir)
                .timeout(Duration::from_secs(20))
                .output()
                .unwrap();
            let what = format!("{file} as {}", if device { "/dev/zero" } else { "a FIFO" });
            assert!(started.elapsed() < Duration::from_secs(10), "{what}");
            let code = output.status.code();
            assert!(matches!(code, Some(1 | 2)), "{what}: {output:?}");
            let text = format!(
                "{}{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
            let names_it = text.contains("not a regular file");
            // .gitignore and .tracelab.yml have fallbacks the doctor uses instead.
            let has_fallback = matches!(file, ".gitignore" | ".tracelab.yml");
            assert!(names_it || has_fallback, "{what}: {text}");
        }
    }
}

/// A key pasted into the wrong variable, into an address's user-info or
/// query, or into the headers without a name: the doctor names the mistake
/// and shows the key only as its fingerprint, in text and in JSON.
#[test]
fn a_key_in_the_wrong_place_is_named_and_never_printed() {
    let key = "hcaik_01jq7w3e5r7t9y1u3i5o7p9a1s3d5f7g9h1j3k5l7z9x1c3v5b7n9m1q3w";
    let classic = "0123456789abcdef0123456789abcdef";
    let aws = "AKIAZ7Q4R5T6Y7U8I9O0";
    let (_temp, dir) = workspace_with(|dir| {
        let compose = dir.join("docker-compose.yml");
        let text = common::read(&compose)
            .replace(
                "OTEL_SERVICE_NAME: \"backend-flask\"",
                &format!("OTEL_SERVICE_NAME: \"{key}\""),
            )
            .replace(
                "OTEL_EXPORTER_OTLP_ENDPOINT: \"https://api.honeycomb.io\"",
                &format!("OTEL_EXPORTER_OTLP_ENDPOINT: \"https://{classic}@api.honeycomb.io/?api_key={key}\""),
            )
            .replace(
                "OTEL_EXPORTER_OTLP_HEADERS: \"x-honeycomb-team=${HONEYCOMB_API_KEY}\"",
                &format!("OTEL_EXPORTER_OTLP_HEADERS: \"{key}\""),
            )
            .replace(
                "AWS_XRAY_DAEMON_ADDRESS: \"",
                &format!("AWS_XRAY_DAEMON_ADDRESS: \"{aws}"),
            );
        std::fs::write(&compose, text).unwrap();
    });
    let (_, json, _) = doctor_json(&dir);
    let text = common::tracelab()
        .arg("doctor")
        .current_dir(&dir)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&text.stdout).to_string();
    for shown in [json.to_string(), text.clone()] {
        for secret in [key, classic, aws] {
            assert!(!shown.contains(secret), "{secret} in {shown}");
        }
    }
    let misplaced = findings(&json, "env-key-misplaced");
    for name in [
        "OTEL_SERVICE_NAME",
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "AWS_XRAY_DAEMON_ADDRESS",
    ] {
        assert!(
            misplaced
                .iter()
                .any(|m| m.starts_with(&format!("{name} holds"))),
            "{name}: {misplaced:?}"
        );
    }
    assert!(
        text.contains("OTEL_EXPORTER_OTLP_HEADERS: \"x-honeycomb-team=${HONEYCOMB_API_KEY}\""),
        "{text}"
    );
}
