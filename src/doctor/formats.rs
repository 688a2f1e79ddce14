//! The doctor's report for machines other than a script reading `--json`:
//! GitHub workflow annotations, SARIF 2.1.0 (code scanning, editors) and
//! JUnit XML (CI dashboards). Each holds one entry per problem and warning
//! (JUnit: one test case per check line), placed at the file and line the
//! finding names, with the check's id and its catalogue entry.

use std::path::{Path, PathBuf};

use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use serde_json::{Value, json};

use super::catalogue::{self, CheckId};
use super::finding::{Finding, Location, Status};
use crate::workspace::lexically_normal;

/// Where the findings were made, and the folder their paths are relative
/// to: where the doctor ran when the workspace is below it (CI runs at the
/// repository's root), else the workspace.
pub struct Origin<'a> {
    workspace: &'a Path,
    root: PathBuf,
}

impl Origin<'_> {
    pub fn new(workspace: &Path) -> Origin<'_> {
        let cwd = lexically_normal(&std::env::current_dir().unwrap_or_default());
        let absolute = lexically_normal(&cwd.join(workspace));
        let root = if absolute.starts_with(&cwd) {
            cwd
        } else {
            absolute
        };
        Origin { workspace, root }
    }

    /// The finding's place, its path relative to the root.
    fn place(&self, finding: &Finding) -> Option<Location> {
        let found = finding.location(self.workspace)?;
        let file = lexically_normal(&self.root.join(self.workspace).join(&found.file));
        let relative = file.strip_prefix(&self.root).ok()?;
        Some(Location {
            file: relative.to_string_lossy().replace('\\', "/"),
            ..found
        })
    }
}

/// Problems and warnings: what an annotation or a SARIF result is for.
fn reported(findings: &[Finding]) -> impl Iterator<Item = &Finding> {
    findings
        .iter()
        .filter(|f| matches!(f.status, Status::Fail | Status::Warn))
}

/// The message and its fix, as one text.
fn full_text(finding: &Finding) -> String {
    match &finding.fix {
        Some(fix) => format!("{}\nfix: {fix}", finding.message),
        None => finding.message.clone(),
    }
}

/// GitHub Actions workflow commands: `::error file=F,line=L,title=ID::message`,
/// one per problem (error) and warning, shown on the pull request's diff.
pub fn github(findings: &[Finding], origin: &Origin) -> String {
    // The workflow-command escapes: data loses %, CR and LF; a property
    // also its separators.
    let data = |text: &str| {
        text.replace('%', "%25")
            .replace('\r', "%0D")
            .replace('\n', "%0A")
    };
    let property = |text: &str| data(text).replace(':', "%3A").replace(',', "%2C");
    let mut out = String::new();
    for finding in reported(findings) {
        let level = if finding.status == Status::Fail {
            "error"
        } else {
            "warning"
        };
        let mut properties = Vec::new();
        if let Some(place) = origin.place(finding) {
            properties.push(format!("file={}", property(&place.file)));
            properties.push(format!("line={}", place.line));
        }
        properties.push(format!("title={}", property(finding.id.as_str())));
        out.push_str(&format!(
            "::{level} {}::{}\n",
            properties.join(","),
            data(&full_text(finding))
        ));
    }
    out
}

const SARIF_SCHEMA: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

/// The first sentence of a check's documentation: its short description.
fn first_sentence(doc: &str) -> String {
    match doc.find(". ") {
        Some(end) => doc[..=end].to_string(),
        None => doc.to_string(),
    }
}

fn sarif_rule(id: CheckId) -> Value {
    let level = match id.severity() {
        Status::Fail => "error",
        Status::Warn => "warning",
        _ => "note",
    };
    // SARIF's "friendly name": the id in Pascal case.
    let name: String = id
        .as_str()
        .split('-')
        .map(|word| {
            let mut chars = word.chars();
            chars.next().map_or(String::new(), |first| {
                first.to_ascii_uppercase().to_string() + chars.as_str()
            })
        })
        .collect();
    json!({
        "id": id.as_str(),
        "name": name,
        "shortDescription": { "text": first_sentence(&id.doc()) },
        "fullDescription": { "text": id.doc() },
        "help": { "text": catalogue::explain(id) },
        "defaultConfiguration": { "level": level },
        "properties": { "tags": [id.group().title()] },
    })
}

/// SARIF 2.1.0: one run, the whole catalogue as its rules (a rule's help is
/// its `--explain` text), one result per problem and warning.
pub fn sarif(findings: &[Finding], origin: &Origin) -> Value {
    let ids = CheckId::ALL;
    let results: Vec<Value> = reported(findings)
        .map(|finding| {
            let level = if finding.status == Status::Fail {
                "error"
            } else {
                "warning"
            };
            let rule_index = ids.iter().position(|id| *id == finding.id);
            let mut result = json!({
                "ruleId": finding.id.as_str(),
                "ruleIndex": rule_index,
                "level": level,
                "message": { "text": full_text(finding) },
            });
            if let Some(place) = origin.place(finding) {
                result["locations"] = json!([{
                    "physicalLocation": {
                        "artifactLocation": { "uri": uri_path(&place.file), "uriBaseId": "SRCROOT" },
                        "region": { "startLine": place.line },
                    }
                }]);
            }
            result
        })
        .collect();
    let root = directory_uri(&origin.root);
    json!({
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "tracelab",
                "semanticVersion": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://pypi.org/project/tracelab-cli/",
                "rules": ids.iter().map(|id| sarif_rule(*id)).collect::<Vec<_>>(),
            }},
            "originalUriBaseIds": { "SRCROOT": { "uri": root } },
            "columnKind": "unicodeCodePoints",
            "results": results,
        }]
    })
}

/// A relative path as a URI reference: each segment percent-encoded.
fn uri_path(path: &str) -> String {
    path.split('/')
        .map(|segment| {
            segment
                .bytes()
                .map(|b| match b {
                    b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                        (b as char).to_string()
                    }
                    _ => format!("%{b:02X}"),
                })
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// `file:///abs/dir/`, as SARIF's base ids need (a trailing slash).
fn directory_uri(dir: &Path) -> String {
    let path = dir.to_string_lossy().replace('\\', "/");
    let path = uri_path(path.trim_start_matches('/'));
    format!("file:///{}/", path.trim_end_matches('/'))
}

/// JUnit XML: one test suite per report section, one test case per check
/// line; a problem is a failure, a skipped check is skipped, and a warning
/// passes with its text in `system-out` (JUnit has no warning).
pub fn junit(findings: &[Finding], origin: &Origin) -> String {
    let mut writer = Writer::new_with_indent(Vec::new(), b' ', 2);
    let write = |writer: &mut Writer<Vec<u8>>, event: Event| {
        writer.write_event(event).expect("writing to memory");
    };
    write(
        &mut writer,
        Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)),
    );
    let count = |status| findings.iter().filter(|f| f.status == status).count();
    let mut suites = BytesStart::new("testsuites");
    suites.push_attribute(("name", "tracelab doctor"));
    suites.push_attribute(("tests", findings.len().to_string().as_str()));
    suites.push_attribute(("failures", count(Status::Fail).to_string().as_str()));
    suites.push_attribute(("skipped", count(Status::Skip).to_string().as_str()));
    write(&mut writer, Event::Start(suites));
    let mut groups: Vec<&str> = findings.iter().map(|f| f.group).collect();
    groups.dedup();
    for group in groups {
        let cases: Vec<&Finding> = findings.iter().filter(|f| f.group == group).collect();
        let in_group = |status| cases.iter().filter(|f| f.status == status).count();
        let mut suite = BytesStart::new("testsuite");
        suite.push_attribute(("name", group));
        suite.push_attribute(("tests", cases.len().to_string().as_str()));
        suite.push_attribute(("failures", in_group(Status::Fail).to_string().as_str()));
        suite.push_attribute(("errors", "0"));
        suite.push_attribute(("skipped", in_group(Status::Skip).to_string().as_str()));
        write(&mut writer, Event::Start(suite));
        for finding in cases {
            junit_case(&mut writer, finding, origin);
        }
        write(&mut writer, Event::End(BytesEnd::new("testsuite")));
    }
    write(&mut writer, Event::End(BytesEnd::new("testsuites")));
    let mut text = String::from_utf8(writer.into_inner()).expect("UTF-8 in, UTF-8 out");
    text.push('\n');
    text
}

fn junit_case(writer: &mut Writer<Vec<u8>>, finding: &Finding, origin: &Origin) {
    let mut write = |event: Event| {
        writer.write_event(event).expect("writing to memory");
    };
    // XML 1.0 cannot carry most control characters, even escaped.
    let clean = |text: &str| -> String {
        text.chars()
            .filter(|c| !c.is_control() || matches!(c, '\n' | '\t'))
            .collect()
    };
    let mut case = BytesStart::new("testcase");
    let name = clean(&format!("{}: {}", finding.id, finding.message));
    case.push_attribute(("name", name.as_str()));
    case.push_attribute((
        "classname",
        format!("tracelab.doctor.{}", finding.id).as_str(),
    ));
    case.push_attribute(("time", "0"));
    if let Some(place) = origin.place(finding) {
        case.push_attribute(("file", place.file.as_str()));
        case.push_attribute(("line", place.line.to_string().as_str()));
    }
    let body = clean(&full_text(finding));
    let child = match finding.status {
        Status::Fail => Some("failure"),
        Status::Skip => Some("skipped"),
        Status::Warn => Some("system-out"),
        Status::Ok | Status::Info => None,
    };
    let Some(child) = child else {
        write(Event::Empty(case));
        return;
    };
    write(Event::Start(case));
    match child {
        "system-out" => {
            write(Event::Start(BytesStart::new(child)));
            write(Event::Text(BytesText::new(&format!("warning: {body}"))));
            write(Event::End(BytesEnd::new(child)));
        }
        _ => {
            let mut element = BytesStart::new(child);
            element.push_attribute(("message", clean(&finding.message).as_str()));
            if child == "failure" {
                element.push_attribute(("type", finding.id.as_str()));
            }
            write(Event::Start(element));
            write(Event::Text(BytesText::new(&body)));
            write(Event::End(BytesEnd::new(child)));
        }
    }
    write(Event::End(BytesEnd::new("testcase")));
}
