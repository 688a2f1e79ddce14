//! What tracelab says of a Dockerfile's exec-form command, held against
//! hadolint (the real Dockerfile parser students' CI uses): a `CMD [...]`
//! that is not JSON is parsed as shell form, where hadolint's DL3025
//! ("use arguments JSON notation") fires. Both must agree on every case.

use std::process::Command;

use crate::common;
use tracelab::workspace::dockerfile::{broken_exec_form, instructions};

/// Exec forms as students write them: right, a comma missing, single
/// quotes, a trailing comma, a bracket missing, words unquoted.
fn cases() -> Vec<String> {
    let words = ["npm", "start", "-r", "tracing.ts"];
    let mut out = Vec::new();
    for n in 1..=words.len() {
        let quoted: Vec<String> = words[..n].iter().map(|w| format!("\"{w}\"")).collect();
        out.push(format!("[{}]", quoted.join(", ")));
        out.push(format!("[{}]", quoted.join(",")));
        out.push(format!("[{}]", quoted.join(" ")));
        out.push(format!("[{},]", quoted.join(", ")));
        out.push(format!("[{}", quoted.join(", ")));
        let single: Vec<String> = words[..n].iter().map(|w| format!("'{w}'")).collect();
        out.push(format!("[{}]", single.join(", ")));
        out.push(format!("[{}]", words[..n].join(", ")));
        for gap in 1..n {
            let mut parts = quoted.clone();
            let joined = format!("{} {}", parts[gap - 1], parts[gap]);
            parts.splice(gap - 1..=gap, [joined]);
            out.push(format!("[{}]", parts.join(", ")));
        }
    }
    out.sort();
    out.dedup();
    out
}

#[test]
fn exec_forms_agree_with_hadolint() {
    let hadolint = common::tool("hadolint");
    let dir = tempfile::tempdir().unwrap();
    let mut differences = Vec::new();
    let all = cases();
    for form in &all {
        let text = format!("FROM python:3.12\nCMD {form}\n");
        let path = dir.path().join("Dockerfile");
        std::fs::write(&path, &text).unwrap();
        let output = Command::new(&hadolint)
            .args(["--no-color", "--format", "json"])
            .arg(&path)
            .output()
            .unwrap();
        let report: serde_json::Value = serde_json::from_slice(&output.stdout)
            .unwrap_or_else(|e| panic!("hadolint said no JSON ({e}) for {form}"));
        let shell_form = report
            .as_array()
            .unwrap()
            .iter()
            .any(|finding| finding["code"] == "DL3025");
        let ours = broken_exec_form(&instructions(&text)[1]).is_some();
        if ours != shell_form {
            differences.push(format!(
                "{form}: hadolint shell form {shell_form}, tracelab broken {ours}"
            ));
        }
    }
    assert!(all.len() > 30, "{} cases", all.len());
    assert!(differences.is_empty(), "{}", differences.join("\n"));
}
