//! Every backend combination, checked by the real tools: Compose v2 resolves
//! the compose file, hadolint passes both Dockerfiles, the Gitpod file fits
//! its schema, YAML and JSON parse, Python compiles, requirements resolve.

use crate::common;

use std::path::Path;
use std::process::Command;

use crate::common::app::{TEST_KEY, compose_config};
use crate::common::{backend_combinations, new_workspace, read, run_ok, tool};

fn each_workspace(check: impl Fn(&str, &Path)) {
    for backends in backend_combinations() {
        let (_root, dir) = new_workspace(&["--set", &format!("backends={backends}")]);
        check(&backends, &dir);
    }
}

#[test]
fn compose_v2_resolves_every_combination_with_the_otel_block() {
    each_workspace(|backends, dir| {
        let config = compose_config(dir);
        let env = &config["services"]["backend-flask"]["environment"];
        assert_eq!(env["OTEL_SERVICE_NAME"], "backend-flask", "{backends}");
        if backends.starts_with("honeycomb") {
            assert_eq!(
                env["OTEL_EXPORTER_OTLP_ENDPOINT"],
                "https://api.honeycomb.io"
            );
            assert_eq!(
                env["OTEL_EXPORTER_OTLP_HEADERS"],
                format!("x-honeycomb-team={TEST_KEY}")
            );
        } else {
            assert_eq!(env["OTEL_EXPORTER_OTLP_ENDPOINT"], "http://jaeger:4318");
            assert!(config["services"]["jaeger"].is_object(), "{backends}");
        }
        let has = |name: &str| backends.split(',').any(|b| b == name);
        assert_eq!(config["services"]["xray-daemon"].is_object(), has("xray"));
        if has("xray") {
            assert_eq!(env["AWS_XRAY_DAEMON_ADDRESS"], "xray-daemon:2000");
            let daemon = &config["services"]["xray-daemon"]["environment"];
            assert_eq!(daemon["AWS_REGION"], "ca-central-1");
            // The command Compose hands the daemon, after the image's
            // entrypoint, as Go's flag package parses it: every flag applies.
            let command: Vec<String> =
                serde_json::from_value(config["services"]["xray-daemon"]["command"].clone())
                    .unwrap();
            let mut argv: Vec<String> = ["-t", "0.0.0.0:2000", "-b", "0.0.0.0:2000"]
                .map(String::from)
                .to_vec();
            argv.extend(command);
            let parsed = tracelab::workspace::xray::parse_args(&argv);
            assert!(parsed.local_mode, "{argv:?}");
            assert!(
                parsed.ignored.is_empty() && parsed.unknown.is_none(),
                "{argv:?}"
            );
        }
        if has("xray") || has("cloudwatch") {
            assert_eq!(env["AWS_DEFAULT_REGION"], "ca-central-1", "{backends}");
        }
        assert_eq!(env["ROLLBAR_ACCESS_TOKEN"].is_string(), has("rollbar"));
    });
}

#[test]
fn eu_region_points_at_the_eu_endpoint() {
    let (_root, dir) = new_workspace(&["--set", "honeycomb_region=eu"]);
    let config = compose_config(&dir);
    assert_eq!(
        config["services"]["backend-flask"]["environment"]["OTEL_EXPORTER_OTLP_ENDPOINT"],
        "https://api.eu1.honeycomb.io"
    );
}

#[test]
fn hadolint_finds_nothing_in_either_dockerfile() {
    each_workspace(|_, dir| {
        for dockerfile in ["Dockerfile", "Dockerfile.prod"] {
            common::hadolint(&dir.join("backend-flask").join(dockerfile));
        }
    });
}

#[test]
fn production_image_is_slim_non_root_and_runs_gunicorn() {
    let (_root, dir) = new_workspace(&["--set", "python_version=3.11"]);
    let prod = read(dir.join("backend-flask/Dockerfile.prod"));
    assert!(prod.contains("FROM python:3.11-slim"));
    assert!(prod.contains("USER 10001"));
    assert!(prod.contains("\"gunicorn\""));
    assert!(!prod.contains("--debug") && !prod.contains("FLASK_DEBUG"));
    let dev = read(dir.join("backend-flask/Dockerfile"));
    assert!(dev.contains("FROM python:3.11\n"));
    assert!(dev.contains("--debug") && dev.contains("--reload"));
}

#[test]
fn gitpod_file_validates_against_the_schema() {
    let schema = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/gitpod.schema.json");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/validate_gitpod.py");
    each_workspace(|_, dir| {
        run_ok(
            Command::new(tool("python"))
                .arg(&script)
                .arg(&schema)
                .arg(dir.join(".gitpod.yml")),
        );
    });
}

#[test]
fn the_schema_check_rejects_a_bad_gitpod_file() {
    let (_root, dir) = new_workspace(&[]);
    let file = dir.join(".gitpod.yml");
    std::fs::write(
        &file,
        read(&file).replace("onOpen: ignore", "onOpen: sometimes"),
    )
    .unwrap();
    let status = Command::new(tool("python"))
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/validate_gitpod.py"))
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/gitpod.schema.json"))
        .arg(&file)
        .output()
        .unwrap();
    assert!(!status.status.success());
}

#[test]
fn yaml_and_json_parse_and_devcontainer_lists_the_secrets() {
    each_workspace(|backends, dir| {
        for yaml in ["docker-compose.yml", ".gitpod.yml", ".tracelab.yml"] {
            serde_yaml::from_str::<serde_yaml::Value>(&read(dir.join(yaml)))
                .unwrap_or_else(|e| panic!("{backends} {yaml}: {e}"));
        }
        let devcontainer: serde_json::Value =
            serde_json::from_str(&read(dir.join(".devcontainer/devcontainer.json")))
                .unwrap_or_else(|e| panic!("{backends} devcontainer.json: {e}"));
        let secrets = devcontainer["secrets"].as_object().unwrap();
        let env_example = read(dir.join(".env.example"));
        for name in secrets.keys() {
            assert!(
                env_example.contains(&format!("\n{name}=\n")),
                "{backends} {name}"
            );
            assert!(secrets[name]["description"].as_str().unwrap().len() > 10);
        }
        assert_eq!(
            secrets.contains_key("HONEYCOMB_API_KEY"),
            backends.contains("honeycomb")
        );
        if backends.contains("xray") {
            let rule: serde_json::Value =
                serde_json::from_str(&read(dir.join("aws/json/xray.json"))).unwrap();
            assert_eq!(rule["SamplingRule"]["ServiceName"], "backend-flask");
            assert_eq!(rule["SamplingRule"]["FixedRate"], 0.1);
        }
    });
}

/// The web view's port, as `tracelab listen --help` gives its default.
fn listen_web_port() -> u64 {
    let output = run_ok(Command::new(env!("CARGO_BIN_EXE_tracelab")).args(["listen", "--help"]));
    let help = String::from_utf8(output.stdout).unwrap();
    let line = help.lines().find(|l| l.contains("--web-port")).unwrap();
    let default = line.rsplit("[default: ").next().unwrap();
    let digits: String = default.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().unwrap()
}

#[test]
fn gitpod_and_devcontainer_name_the_port_listen_serves_its_web_view_on() {
    let port = listen_web_port();
    each_workspace(|backends, dir| {
        let gitpod: serde_yaml::Value =
            serde_yaml::from_str(&read(dir.join(".gitpod.yml"))).unwrap();
        let declared = gitpod["ports"]
            .as_sequence()
            .unwrap()
            .iter()
            .find(|p| p["name"] == "tracelab-listen")
            .unwrap_or_else(|| panic!("{backends}: no tracelab-listen port"));
        assert_eq!(declared["port"].as_u64(), Some(port), "{backends}");
        assert_eq!(declared["visibility"], "private", "{backends}");
        let devcontainer: serde_json::Value =
            serde_json::from_str(&read(dir.join(".devcontainer/devcontainer.json"))).unwrap();
        let label = &devcontainer["portsAttributes"][port.to_string()]["label"];
        assert_eq!(label, "tracelab listen", "{backends}");
    });
}

#[test]
fn optional_configs_are_left_out_when_declined() {
    let (_root, dir) = new_workspace(&["--set", "gitpod=no", "--set", "devcontainer=false"]);
    assert!(!dir.join(".gitpod.yml").exists());
    assert!(!dir.join(".devcontainer").exists());
    assert!(dir.join("docker-compose.yml").exists());
}

#[test]
fn all_python_compiles() {
    each_workspace(|backends, dir| {
        let output = Command::new(common::python())
            .args(["-m", "compileall", "-q", "-f"])
            .arg(dir.join("backend-flask"))
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{backends}: {}",
            String::from_utf8_lossy(&output.stdout)
        );
    });
}

#[test]
fn pinned_requirements_resolve_on_python_3_10_to_3_12() {
    let (_root, dir) = new_workspace(&["--set", "backends=honeycomb,xray,cloudwatch,rollbar"]);
    let requirements = dir.join("backend-flask/requirements.txt");
    for version in ["3.10", "3.11", "3.12"] {
        let target = tempfile::tempdir().unwrap();
        run_ok(
            Command::new(common::pip())
                .args(["install", "--dry-run", "--quiet", "--ignore-installed"])
                .args([
                    "--only-binary=:all:",
                    "--python-version",
                    version,
                    "--target",
                ])
                .arg(target.path())
                .arg("-r")
                .arg(&requirements),
        );
    }
}

/// The lines a workspace start runs, from the generated files:
/// (Gitpod's init, Gitpod's command, devcontainer's postCreate, postStart).
fn start_scripts(dir: &Path) -> [String; 4] {
    let gitpod: serde_yaml::Value = serde_yaml::from_str(&read(dir.join(".gitpod.yml"))).unwrap();
    let task = &gitpod["tasks"][0];
    let devcontainer: serde_json::Value =
        serde_json::from_str(&read(dir.join(".devcontainer/devcontainer.json"))).unwrap();
    [
        task["init"].as_str().unwrap().to_string(),
        task["command"].as_str().unwrap().to_string(),
        devcontainer["postCreateCommand"]
            .as_str()
            .unwrap()
            .to_string(),
        devcontainer["postStartCommand"]
            .as_str()
            .unwrap()
            .to_string(),
    ]
}

/// Runs `script` in bash with stand-ins on PATH: `pip install` of tracelab
/// and `tracelab` exit with the given codes (None: no tracelab at all);
/// `pip`, `docker` and `gp` record their calls. Returns (exit code, stderr,
/// the calls).
fn run_start(script: &str, pip: i32, tracelab: Option<i32>) -> (i32, String, String) {
    let bin = tempfile::tempdir().unwrap();
    let log = bin.path().join("calls");
    let stub = |name: &str, code: i32| {
        let path = bin.path().join(name);
        // pip fails only for tracelab: the app's requirements still install.
        let exit = match name {
            "pip" => format!("case \"$*\" in *tracelab*) exit {code};; esac"),
            _ => format!("exit {code}"),
        };
        let log = log.display();
        let text = format!("#!/bin/sh\necho \"{name} $*\" >> '{log}'\n{exit}\n");
        std::fs::write(&path, text).unwrap();
        let executable = std::os::unix::fs::PermissionsExt::from_mode(0o755);
        std::fs::set_permissions(&path, executable).unwrap();
    };
    stub("pip", pip);
    stub("docker", 0);
    stub("gp", 0);
    if let Some(code) = tracelab {
        stub("tracelab", code);
    }
    let output = Command::new("/bin/bash")
        .arg("-c")
        .arg(script)
        .env("PATH", format!("{}:/usr/bin:/bin", bin.path().display()))
        .output()
        .unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stderr).into_owned(),
        std::fs::read_to_string(&log).unwrap_or_default(),
    )
}

/// Every start installs this very tracelab (not PyPI's unrelated
/// "tracelab") and checks the workspace; a failed install or doctor never
/// stops the start, and never passes silently: one line says what failed
/// and what to run.
#[test]
fn a_workspace_start_installs_this_tracelab_and_never_hides_a_failure() {
    let (_root, dir) = new_workspace(&[]);
    let [init, command, post_create, post_start] = start_scripts(&dir);
    let requirement = format!("tracelab-cli=={}", env!("CARGO_PKG_VERSION"));
    for script in [&init, &post_create] {
        assert!(
            script.contains(&format!("pip install --quiet '{requirement}'")),
            "{script}"
        );
        assert!(!script.contains("pip install tracelab"), "{script}");
        // pip fails: one line with the command, and the start goes on.
        let (code, stderr, calls) = run_start(script, 1, None);
        assert_eq!(
            stderr.lines().filter(|l| l.contains("tracelab")).count(),
            1,
            "{stderr}"
        );
        assert!(
            stderr.contains(&format!("run: pip install '{requirement}'")),
            "{stderr}"
        );
        assert!(
            calls.contains("pip install -r backend-flask/requirements.txt"),
            "{calls}"
        );
        assert_eq!(code, 0, "{stderr}{calls}");
    }
    for script in [&command, &post_start] {
        // Healthy: the doctor runs, nothing is said, the app starts.
        let (code, stderr, calls) = run_start(script, 0, Some(0));
        assert_eq!(code, 0, "{stderr}");
        assert!(stderr.is_empty(), "{stderr}");
        assert!(calls.contains("tracelab doctor"), "{calls}");
        // The doctor finds problems: one line says so, and the start goes on.
        let (code, stderr, calls) = run_start(script, 0, Some(1));
        assert_eq!(code, 0, "{stderr}");
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(stderr.contains("run: tracelab doctor"), "{stderr}");
        if script == &command {
            assert!(calls.ends_with("docker compose up\n"), "{calls}");
        }
        // No tracelab, and pip cannot get it: one line with the install command.
        let (code, stderr, _) = run_start(script, 1, None);
        assert_eq!(code, 0, "{stderr}");
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(
            stderr.contains(&format!("run: pip install '{requirement}'")),
            "{stderr}"
        );
    }
}
