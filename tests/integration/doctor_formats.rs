//! `tracelab doctor --output-format`: GitHub annotations, SARIF 2.1.0 (held
//! to Microsoft's SARIF validator) and JUnit XML, each agreeing with the
//! JSON report finding for finding.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

use crate::common;
use crate::common::doctor::*;

/// A workspace with problems in code (each with a file and a line) and in
/// the shell (with none).
fn slipped() -> Fixture {
    slipped_imports("honeycomb,xray,cloudwatch,rollbar").unset("ROLLBAR_ACCESS_TOKEN")
}

/// The JSON report's problems and warnings, in order: (status, id, message).
fn reported(fixture: &Fixture) -> Vec<(String, String, String)> {
    let (_, report) = fixture.doctor();
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["status"] == "fail" || f["status"] == "warn")
        .map(|f| {
            let text = |key: &str| f[key].as_str().unwrap().to_string();
            (text("status"), text("id"), text("message"))
        })
        .collect()
}

/// `FILE:LINE: ` at the start of a message, as the code checks write it.
fn leading_place(message: &str) -> Option<(String, usize)> {
    let (file, rest) = message.split_once(':')?;
    let (line, _) = rest.split_once(':')?;
    Some((file.to_string(), line.parse().ok()?))
}

#[test]
fn github_annotations_are_one_per_problem_and_warning_at_their_line() {
    let fixture = slipped();
    let expected = reported(&fixture);
    assert!(expected.iter().any(|(s, ..)| s == "fail"), "{expected:?}");
    let output = fixture.run(&["--output-format", "github"]);
    assert_eq!(output.status.code(), Some(1));
    let stdout = String::from_utf8(output.stdout).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), expected.len(), "{stdout}");
    let mut placed = 0;
    for (line, (status, id, message)) in lines.iter().zip(&expected) {
        let level = if status == "fail" { "error" } else { "warning" };
        let (properties, text) = line
            .strip_prefix(&format!("::{level} "))
            .and_then(|rest| rest.split_once("::"))
            .unwrap_or_else(|| panic!("not a workflow command: {line}"));
        assert!(properties.contains(&format!("title={id}")), "{line}");
        // The message is there, with newlines escaped as GitHub reads them.
        assert!(text.starts_with(&message.replace('\n', "%0A")), "{line}");
        assert!(!text.contains('\n'));
        if let Some((file, number)) = leading_place(message) {
            assert!(
                properties.contains(&format!("file={file},line={number},")),
                "{line}"
            );
            assert!(fixture.dir.join(&file).is_file());
            placed += 1;
        }
    }
    assert!(placed >= 2, "the code problems carry their lines: {stdout}");
}

/// Microsoft's SARIF validator (the SARIF SDK's multitool), from npm.
fn sarif_validator() -> std::path::PathBuf {
    let package = common::npm_package("@microsoft/sarif-multitool-linux", "5.7.0");
    let tool = package.join("Sarif.Multitool");
    // npm may skip the package's postinstall script that sets this bit.
    std::fs::set_permissions(&tool, std::fs::Permissions::from_mode(0o755)).unwrap();
    tool
}

/// The validator's errors and warnings about `log` (its notes are style
/// advice, e.g. rule ids "should" be numbered).
fn sarif_complaints(log: &Path) -> Vec<String> {
    let out = log.with_extension("validation.sarif");
    let status = Command::new(sarif_validator())
        .args([
            "validate",
            "--log",
            "ForceOverwrite",
            "--level",
            "Error;Warning",
            "--output",
        ])
        .arg(&out)
        .arg(log)
        .env("DOTNET_SYSTEM_GLOBALIZATION_INVARIANT", "1")
        .status()
        .unwrap();
    assert!(status.success(), "the validator itself failed");
    let validation: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    validation["runs"][0]["results"]
        .as_array()
        .map(|results| results.iter().map(|r| r["message"].to_string()).collect())
        .unwrap_or_default()
}

#[test]
fn sarif_is_valid_and_holds_every_problem_and_warning() {
    let fixture = slipped();
    let expected = reported(&fixture);
    let output = fixture.run(&["--output-format", "sarif"]);
    assert_eq!(output.status.code(), Some(1));
    let log = fixture.dir.with_file_name("doctor.sarif");
    std::fs::write(&log, &output.stdout).unwrap();
    assert_eq!(sarif_complaints(&log), Vec::<String>::new());

    let sarif: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let run = &sarif["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), expected.len());
    let root = run["originalUriBaseIds"]["SRCROOT"]["uri"]
        .as_str()
        .unwrap();
    let root = root.strip_prefix("file://").unwrap();
    for (result, (status, id, message)) in results.iter().zip(&expected) {
        assert_eq!(result["ruleId"], id.as_str());
        let rule = &rules[result["ruleIndex"].as_u64().unwrap() as usize];
        assert_eq!(rule["id"], id.as_str());
        // The rule's help is the check's --explain text.
        let help = rule["help"]["text"].as_str().unwrap();
        assert!(help.starts_with(&format!("{id} (")), "{help}");
        let level = if status == "fail" { "error" } else { "warning" };
        assert_eq!(result["level"], level);
        assert!(
            result["message"]["text"]
                .as_str()
                .unwrap()
                .starts_with(message.as_str())
        );
        if let Some((file, line)) = leading_place(message) {
            let place = &result["locations"][0]["physicalLocation"];
            let uri = place["artifactLocation"]["uri"].as_str().unwrap();
            assert_eq!(uri, file);
            assert!(Path::new(root).join(uri).is_file(), "{root}{uri}");
            assert_eq!(place["region"]["startLine"], line);
        }
    }
}

#[test]
fn sarif_of_a_healthy_workspace_is_valid_and_empty() {
    let fixture = Fixture::new("honeycomb");
    let output = fixture.run(&["--output-format", "sarif"]);
    assert_eq!(output.status.code(), Some(0));
    let log = fixture.dir.with_file_name("doctor.sarif");
    std::fs::write(&log, &output.stdout).unwrap();
    assert_eq!(sarif_complaints(&log), Vec::<String>::new());
    let sarif: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(sarif["runs"][0]["results"], serde_json::json!([]));
}

#[test]
fn junit_has_a_case_per_check_line_and_a_failure_per_problem() {
    let fixture = slipped();
    let (_, report) = fixture.doctor();
    let checks = report["checks"].as_array().unwrap();
    let output = fixture.run(&["--output-format", "junit"]);
    assert_eq!(output.status.code(), Some(1));
    let xml = String::from_utf8(output.stdout).unwrap();
    let mut reader = quick_xml::Reader::from_str(&xml);
    let (mut cases, mut failures, mut warnings) = (0, 0, 0);
    loop {
        match reader.read_event().expect("well-formed XML") {
            quick_xml::events::Event::Start(e) | quick_xml::events::Event::Empty(e) => {
                match e.name().as_ref() {
                    "testcase" => cases += 1,
                    "failure" => failures += 1,
                    "system-out" => warnings += 1,
                    _ => {}
                }
            }
            quick_xml::events::Event::Eof => break,
            _ => {}
        }
    }
    let count = |status: &str| checks.iter().filter(|f| f["status"] == status).count();
    assert_eq!(cases, checks.len());
    assert_eq!(failures, report["problems"].as_u64().unwrap() as usize);
    assert_eq!(warnings, count("warn"));
    assert!(xml.contains(&format!(
        "<testsuites name=\"tracelab doctor\" tests=\"{}\" failures=\"{failures}\"",
        checks.len()
    )));
}

#[test]
fn json_is_short_for_output_format_json_and_the_two_conflict() {
    let fixture = slipped();
    let long = fixture.run(&["--output-format", "json"]);
    let short = fixture.run(&["--json"]);
    assert_eq!(long.stdout, short.stdout);
    assert_eq!(long.status.code(), Some(1));
    let both = fixture.run(&["--json", "--output-format", "sarif"]);
    assert_eq!(both.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&both.stderr);
    assert!(stderr.contains("cannot be used with"), "{stderr}");
}

#[test]
fn the_repository_alone_needs_no_secret_and_still_finds_the_code_problems() {
    let names = [
        "HONEYCOMB_API_KEY",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_DEFAULT_REGION",
        "ROLLBAR_ACCESS_TOKEN",
    ];
    let bare = names.iter().fold(
        Fixture::new("honeycomb,xray,cloudwatch,rollbar"),
        |f, name| f.unset(name),
    );
    // This machine's shell lacks every secret: the doctor says so...
    assert_eq!(bare.run(&[]).status.code(), Some(1));
    // ...and the repository alone is fine, with nothing said of the shell.
    let output = bare.run(&["--repository", "--json"]);
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(output.status.code(), Some(0), "{report:#}");
    let text = report.to_string();
    assert!(!text.contains("\"layer\":\"shell\""), "{report:#}");
    assert!(!text.to_lowercase().contains("standin"), "{report:#}");

    let slipped = names.iter().fold(slipped(), |f, name| f.unset(name));
    let (_, alone) = {
        let output = slipped.run(&["--repository", "--json"]);
        (
            0,
            serde_json::from_slice::<serde_json::Value>(&output.stdout).unwrap(),
        )
    };
    let ids: Vec<&str> = alone["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["status"] == "fail")
        .map(|f| f["id"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&"python-undefined-name"), "{ids:?}");
    assert!(ids.contains(&"python-import"), "{ids:?}");
    assert!(!ids.contains(&"env-missing"), "{ids:?}");
}
