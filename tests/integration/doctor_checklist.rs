//! The checklist as a user drives it: `--explain ID`, `--ignore ID`, and
//! `doctor: {ignore: [...]}` in `.tracelab.yml`.

use crate::common;

use crate::common::doctor::Fixture;

#[test]
fn explain_describes_a_check_and_how_to_silence_it() {
    let output = common::tracelab()
        .args(["doctor", "--explain", "xray-daemon-region"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains("X-Ray"), "{text}");
    assert!(text.contains("console"), "{text}");
    assert!(text.contains("--ignore xray-daemon-region"), "{text}");
    let output = common::tracelab()
        .args(["doctor", "--explain", "xray-region"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("xray-daemon-region"));
}

/// `--explain ID --json` prints the catalogue's entry as data, and
/// `--explain all --json` every entry.
#[test]
fn explain_json_is_the_catalogue_entry() {
    let output = common::tracelab()
        .args(["doctor", "--explain", "xray-daemon-region", "--json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    let entry: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let mut keys: Vec<&str> = entry
        .as_object()
        .unwrap()
        .keys()
        .map(|k| k.as_str())
        .collect();
    keys.sort();
    assert_eq!(keys, ["blocks_run", "doc", "group", "id", "statuses"]);
    assert_eq!(entry["id"], "xray-daemon-region");
    assert_eq!(entry["group"], "X-Ray");
    let statuses: Vec<&str> = entry["statuses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["fail", "warn"]);
    assert!(
        entry["statuses"][1]["when"]
            .as_str()
            .unwrap()
            .contains("region")
    );
    let output = common::tracelab()
        .args(["doctor", "--explain", "all", "--json"])
        .output()
        .unwrap();
    let all: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert!(all.as_array().unwrap().len() > 80, "{all}");
}

#[test]
fn an_ignored_check_is_not_reported_but_counted() {
    let fixture = Fixture::new("honeycomb").unset("HONEYCOMB_API_KEY");
    let (code, report) = fixture.doctor();
    assert_eq!(code, 1);
    assert_eq!(report["ignored"], 0);
    let output = fixture.run(&["--json", "--ignore", "env-missing"]);
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert!(
        !report["checks"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["id"] == "env-missing"),
        "{report:#}"
    );
    assert_eq!(report["ignored"], 1, "{report:#}");
    let human = fixture.run(&["--ignore", "env-missing"]);
    assert!(
        String::from_utf8_lossy(&human.stdout).contains("(1 ignored"),
        "{}",
        String::from_utf8_lossy(&human.stdout)
    );
    // A misspelt id is refused, with the one meant.
    let output = fixture.run(&["--ignore", "env-mising"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("did you mean env-missing"));
}

#[test]
fn the_answers_file_can_silence_a_check_for_the_workspace() {
    let fixture = Fixture::new("honeycomb").unset("HONEYCOMB_API_KEY");
    let answers = std::fs::read_to_string(fixture.path(".tracelab.yml")).unwrap();
    let fixture = fixture.write(
        ".tracelab.yml",
        &format!("{answers}doctor:\n  ignore: [env-missing]\n"),
    );
    let output = fixture.run(&["--json"]);
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["ignored"], 1, "{report:#}");
    // `tracelab new --answers` still reads the file.
    let root = tempfile::tempdir().unwrap();
    common::tracelab()
        .args(["new", "--answers"])
        .arg(fixture.path(".tracelab.yml"))
        .arg(root.path().join("again"))
        .assert()
        .success();
}

/// The text report names each problem's, warning's and note's check, as
/// ruff shows F821: what --explain and --ignore take, with no --json.
#[test]
fn the_text_report_names_each_finding_s_check() {
    let fixture = Fixture::new("honeycomb").unset("HONEYCOMB_API_KEY");
    let output = fixture.run(&[]);
    let text = String::from_utf8_lossy(&output.stdout);
    let line = text
        .lines()
        .find(|l| l.contains("HONEYCOMB_API_KEY is not set"))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(line.trim_end().ends_with("[env-missing]"), "{line}");
    // Passing lines carry none: only what --explain would be asked about.
    assert!(
        text.lines()
            .filter(|l| l.trim_start().starts_with('✓'))
            .all(|l| !l.trim_end().ends_with(']')),
        "{text}"
    );
}
