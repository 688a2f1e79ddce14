//! The answers that shape a workspace: their defaults, their validation, and
//! how `--set KEY=VALUE` and `--answers FILE.yml` override them.

use std::fmt;
use std::path::Path;
use std::sync::Mutex;

/// The backend's compose service and OTEL_SERVICE_NAME unless answered otherwise.
pub const DEFAULT_SERVICE_NAME: &str = "backend-flask";

use serde::{Deserialize, Serialize};

use crate::backend::Backend;
use crate::rules::honeycomb::{EU_API_HOST, US_API_HOST};

/// Python versions the pinned requirements are known to resolve on.
pub const PYTHON_VERSIONS: &[&str] = &["3.10", "3.11", "3.12"];

/// Every answer the generator needs. Field names are the answer keys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Answers {
    pub project_name: String,
    pub service_name: String,
    pub port: u16,
    pub python_version: String,
    pub backends: Vec<Backend>,
    pub honeycomb_region: Region,
    pub gitpod: bool,
    pub devcontainer: bool,
    /// A CI workflow that runs the doctor on every push (not asked: set it
    /// with `--set ci=github`); written to `.tracelab.yml` only when chosen.
    #[serde(skip_serializing_if = "Ci::is_none")]
    pub ci: Ci,
}

/// Where the workspace's CI runs the doctor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Ci {
    None,
    /// `.github/workflows/tracelab.yml`: annotations on every push and pull request.
    Github,
}

impl Ci {
    fn is_none(&self) -> bool {
        *self == Ci::None
    }

    fn parse(key: &str, value: &str) -> Result<Self, InvalidAnswer> {
        match value.trim().to_ascii_lowercase().as_str() {
            "none" | "false" | "no" => Ok(Ci::None),
            "github" => Ok(Ci::Github),
            _ => Err(invalid(key, value, "none or github")),
        }
    }
}

/// Honeycomb's two data regions; a key only works against its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Region {
    Us,
    Eu,
}

impl Region {
    pub const ALL: [Region; 2] = [Region::Us, Region::Eu];

    pub fn name(self) -> &'static str {
        match self {
            Region::Us => "us",
            Region::Eu => "eu",
        }
    }

    pub fn api_host(self) -> &'static str {
        match self {
            Region::Us => US_API_HOST,
            Region::Eu => EU_API_HOST,
        }
    }

    /// Where the region's traces are looked at.
    pub fn ui_origin(self) -> &'static str {
        match self {
            Region::Us => "https://ui.honeycomb.io",
            Region::Eu => "https://ui.eu1.honeycomb.io",
        }
    }

    /// The region an API host belongs to: the EU's, else the US.
    pub fn of_api_host(host: &str) -> Self {
        if host == EU_API_HOST || host.ends_with(".eu1.honeycomb.io") {
            Region::Eu
        } else {
            Region::Us
        }
    }

    fn parse(value: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|r| r.name() == value.trim().to_ascii_lowercase())
            .ok_or_else(|| "one of: us, eu".to_string())
    }
}

/// A rejected answer: which key, which value, and what would be accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidAnswer {
    pub key: String,
    pub value: String,
    pub allowed: String,
}

impl fmt::Display for InvalidAnswer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The key itself is what is wrong: say so, not that the value is.
        if !KEYS.contains(&self.key.as_str()) {
            let meant = KEYS
                .iter()
                .min_by_key(|k| crate::rules::names::edit_distance(k, &self.key))
                .filter(|k| crate::rules::names::edit_distance(k, &self.key) <= 3);
            return match meant {
                Some(meant) => write!(
                    f,
                    "unknown key `{}`, did you mean `{meant}`? ({})",
                    self.key, self.allowed
                ),
                None => write!(f, "unknown key `{}`: expected {}", self.key, self.allowed),
            };
        }
        write!(
            f,
            "invalid value {:?} for `{}`: expected {}",
            self.value, self.key, self.allowed
        )
    }
}

/// `new --help`'s list of the keys for --set and answers files.
pub fn keys_help() -> String {
    let rows = [
        (
            "project_name",
            "the directory's name, else cruddur",
            "1 to 64 printable characters",
        ),
        (
            "service_name",
            "backend-flask",
            "a DNS label (compose service, OTEL_SERVICE_NAME)",
        ),
        (
            "port",
            "4567",
            "1024 to 65535, not one another service uses",
        ),
        ("python_version", "3.12", "3.10, 3.11, 3.12"),
        (
            "backends",
            "honeycomb",
            "honeycomb or local, plus any of xray, cloudwatch, rollbar",
        ),
        ("honeycomb_region", "us", "us, eu"),
        ("gitpod", "true", "true/false (yes/no)"),
        ("devcontainer", "true", "true/false (yes/no)"),
        (
            "ci",
            "none",
            "none, github (a workflow running the doctor; not asked)",
        ),
    ];
    let mut text = String::from("Answer keys (--set KEY=VALUE, or in an --answers file):\n");
    for (key, default, allowed) in rows {
        text.push_str(&format!("  {key:<17} {allowed} [default: {default}]\n"));
    }
    text
}

impl std::error::Error for InvalidAnswer {}

fn invalid(key: &str, value: &str, allowed: impl Into<String>) -> InvalidAnswer {
    InvalidAnswer {
        key: key.to_string(),
        value: value.to_string(),
        allowed: allowed.into(),
    }
}

/// The answer keys, in prompt order.
pub const KEYS: &[&str] = &[
    "project_name",
    "service_name",
    "port",
    "python_version",
    "backends",
    "honeycomb_region",
    "gitpod",
    "devcontainer",
    "ci",
];

impl Answers {
    /// The defaults; the project name follows the target directory when it has one.
    pub fn defaults(target: Option<&Path>) -> Self {
        let project_name = target
            .and_then(|dir| dir.file_name())
            .and_then(|name| name.to_str())
            .filter(|name| validate_project_name(name).is_ok())
            .unwrap_or("cruddur")
            .to_string();
        Answers {
            project_name,
            service_name: DEFAULT_SERVICE_NAME.into(),
            port: 4567,
            python_version: "3.12".into(),
            backends: vec![Backend::Honeycomb],
            honeycomb_region: Region::Us,
            gitpod: true,
            devcontainer: true,
            ci: Ci::None,
        }
    }

    /// Applies one `KEY=VALUE` from the command line (lists comma-separated).
    pub fn set(&mut self, key: &str, value: &str) -> Result<(), InvalidAnswer> {
        match key {
            "project_name" => self.project_name = parse_project_name(value)?,
            "service_name" => self.service_name = parse_service_name(value)?,
            "port" => self.port = parse_port(value)?,
            "python_version" => self.python_version = parse_python_version(value)?,
            "backends" => {
                let names: Vec<&str> = value.split(',').collect();
                self.backends = parse_backends(&names)?;
            }
            "honeycomb_region" => {
                self.honeycomb_region =
                    Region::parse(value).map_err(|allowed| invalid(key, value, allowed))?
            }
            "gitpod" => self.gitpod = parse_bool(key, value)?,
            "devcontainer" => self.devcontainer = parse_bool(key, value)?,
            "ci" => self.ci = Ci::parse(key, value)?,
            _ => return Err(invalid(key, value, unknown_key_help())),
        }
        Ok(())
    }

    /// Cross-field rules that no single answer can check on its own.
    pub fn validate(&self) -> Result<(), InvalidAnswer> {
        validate_project_name(&self.project_name)
            .map_err(|a| invalid("project_name", &self.project_name, a))?;
        validate_service_name(&self.service_name)
            .map_err(|a| invalid("service_name", &self.service_name, a))?;
        parse_port(&self.port.to_string())?;
        parse_python_version(&self.python_version)?;
        check_backend_combination(&self.backends)?;
        if let Some((_, owner, _)) = crate::ports::RESERVED
            .iter()
            .find(|(port, _, when)| *port == self.port && when.is_none_or(|b| self.has(b)))
        {
            return Err(invalid(
                "port",
                &self.port.to_string(),
                format!("a port not already used by {owner}"),
            ));
        }
        Ok(())
    }

    pub fn has(&self, backend: Backend) -> bool {
        self.backends.contains(&backend)
    }

    /// Renders the answers as the `.tracelab.yml` that reproduces the workspace.
    pub fn to_yaml(&self) -> String {
        let body = serde_yaml::to_string(self).expect("answers always serialize");
        format!(
            "# tracelab answers: no secrets belong here.\n\
             # Change one with: tracelab update --set KEY=VALUE; add a backend with: tracelab add xray\n{body}"
        )
    }
}

/// The answers file as written: every key optional, unknown keys rejected.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnswersFile {
    project_name: Option<serde_yaml::Value>,
    service_name: Option<serde_yaml::Value>,
    port: Option<serde_yaml::Value>,
    python_version: Option<serde_yaml::Value>,
    backends: Option<serde_yaml::Value>,
    honeycomb_region: Option<serde_yaml::Value>,
    gitpod: Option<serde_yaml::Value>,
    devcontainer: Option<serde_yaml::Value>,
    ci: Option<serde_yaml::Value>,
    /// Not an answer: the doctor's settings for this workspace.
    doctor: Option<DoctorSettings>,
}

/// `doctor:` in `.tracelab.yml`.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DoctorSettings {
    /// Check ids the doctor does not report here (`tracelab doctor --explain ID`).
    #[serde(default)]
    pub ignore: Vec<String>,
}

impl AnswersFile {
    /// The check ids `doctor: {ignore: [...]}` silences.
    pub fn doctor_ignore(&self) -> &[String] {
        self.doctor.as_ref().map_or(&[], |d| d.ignore.as_slice())
    }

    pub fn parse(text: &str) -> Result<Self, serde_yaml::Error> {
        if text.trim().is_empty() {
            return Ok(Self::default());
        }
        // The doctor reads the file for its ignore list, then for the
        // backends it records: the same text, parsed once (libyaml took
        // 80,000 instructions for this file's 300 bytes).
        static LAST: Mutex<Option<(String, AnswersFile)>> = Mutex::new(None);
        let mut last = LAST.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some((seen, parsed)) = last.as_ref()
            && seen == text
        {
            return Ok(parsed.clone());
        }
        let parsed: Self = serde_yaml::from_str(text)?;
        *last = Some((text.to_string(), parsed.clone()));
        Ok(parsed)
    }

    /// Applies every key the file sets, with the same rules as `--set`.
    pub fn apply(self, answers: &mut Answers) -> Result<(), InvalidAnswer> {
        let scalars = [
            ("project_name", self.project_name),
            ("service_name", self.service_name),
            ("port", self.port),
            ("python_version", self.python_version),
            ("honeycomb_region", self.honeycomb_region),
            ("gitpod", self.gitpod),
            ("devcontainer", self.devcontainer),
            ("ci", self.ci),
        ];
        for (key, value) in scalars {
            if let Some(value) = value {
                answers.set(key, &scalar_text(key, &value)?)?;
            }
        }
        if let Some(value) = self.backends {
            let names = match &value {
                serde_yaml::Value::Sequence(items) => items
                    .iter()
                    .map(|item| scalar_text("backends", item))
                    .collect::<Result<Vec<_>, _>>()?,
                other => vec![scalar_text("backends", other)?],
            };
            let names: Vec<&str> = names.iter().flat_map(|n| n.split(',')).collect();
            answers.backends = parse_backends(&names)?;
        }
        Ok(())
    }
}

fn scalar_text(key: &str, value: &serde_yaml::Value) -> Result<String, InvalidAnswer> {
    match value {
        serde_yaml::Value::String(s) => Ok(s.clone()),
        serde_yaml::Value::Number(n) => Ok(n.to_string()),
        serde_yaml::Value::Bool(b) => Ok(b.to_string()),
        other => Err(invalid(
            key,
            serde_yaml::to_string(other).unwrap_or_default().trim(),
            "a single value, not a list or mapping",
        )),
    }
}

pub fn unknown_key_help() -> String {
    format!("one of the answer keys: {}", KEYS.join(", "))
}

pub fn validate_project_name(value: &str) -> Result<(), &'static str> {
    let ok = !value.trim().is_empty()
        && value.chars().count() <= 64
        && !value.chars().any(char::is_control)
        && value.trim() == value;
    if ok {
        Ok(())
    } else {
        Err("1 to 64 printable characters, without leading or trailing spaces")
    }
}

fn parse_project_name(value: &str) -> Result<String, InvalidAnswer> {
    validate_project_name(value).map_err(|allowed| invalid("project_name", value, allowed))?;
    Ok(value.to_string())
}

/// A compose service name that is also a DNS label, so other containers can
/// reach it by name: lowercase letters, digits and inner hyphens, at most 63.
pub fn validate_service_name(value: &str) -> Result<(), &'static str> {
    let bytes = value.as_bytes();
    let ok = (1..=63).contains(&bytes.len())
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
        && bytes[0] != b'-'
        && bytes[bytes.len() - 1] != b'-';
    if ok {
        Ok(())
    } else {
        Err("a DNS label: 1-63 lowercase letters, digits and hyphens, \
             starting and ending with a letter or digit (e.g. backend-flask)")
    }
}

fn parse_service_name(value: &str) -> Result<String, InvalidAnswer> {
    validate_service_name(value).map_err(|allowed| invalid("service_name", value, allowed))?;
    Ok(value.to_string())
}

pub fn parse_port(value: &str) -> Result<u16, InvalidAnswer> {
    match value.trim().parse::<u16>() {
        Ok(port) if port >= 1024 => Ok(port),
        _ => Err(invalid(
            "port",
            value,
            "a whole number from 1024 to 65535 (default 4567)",
        )),
    }
}

pub fn parse_python_version(value: &str) -> Result<String, InvalidAnswer> {
    let value = value.trim();
    PYTHON_VERSIONS
        .iter()
        .find(|v| **v == value)
        .map(|v| v.to_string())
        .ok_or_else(|| {
            invalid(
                "python_version",
                value,
                format!("one of: {}", PYTHON_VERSIONS.join(", ")),
            )
        })
}

pub fn parse_backends(names: &[&str]) -> Result<Vec<Backend>, InvalidAnswer> {
    let mut backends = Vec::new();
    for name in names.iter().map(|n| n.trim()).filter(|n| !n.is_empty()) {
        let backend = Backend::parse(name).ok_or_else(|| {
            invalid(
                "backends",
                name,
                format!("a comma-separated list of: {}", Backend::names().join(", ")),
            )
        })?;
        if !backends.contains(&backend) {
            backends.push(backend);
        }
    }
    backends.sort();
    check_backend_combination(&backends)?;
    Ok(backends)
}

/// Spans go to exactly one OTLP destination: Honeycomb or the local receiver.
pub fn check_backend_combination(backends: &[Backend]) -> Result<(), InvalidAnswer> {
    let shown = || {
        backends
            .iter()
            .map(|b| b.name())
            .collect::<Vec<_>>()
            .join(",")
    };
    let destinations = backends.iter().filter(|b| b.is_otlp_destination()).count();
    match destinations {
        1 => Ok(()),
        0 => Err(invalid(
            "backends",
            &shown(),
            "a list that includes honeycomb or local (where OpenTelemetry spans go)",
        )),
        _ => Err(invalid(
            "backends",
            &shown(),
            "honeycomb or local, not both: spans go to one OTLP endpoint",
        )),
    }
}

fn parse_bool(key: &str, value: &str) -> Result<bool, InvalidAnswer> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" | "yes" | "y" | "1" | "on" => Ok(true),
        "false" | "no" | "n" | "0" | "off" => Ok(false),
        _ => Err(invalid(key, value, "true or false (yes/no)")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_follow_the_directory() {
        let answers = Answers::defaults(Some(Path::new("/tmp/week2")));
        assert_eq!(answers.project_name, "week2");
        assert_eq!(answers.validate(), Ok(()));
        assert_eq!(Answers::defaults(None).project_name, "cruddur");
    }

    #[test]
    fn service_names_must_be_dns_labels() {
        for good in ["backend-flask", "a", "api2"] {
            assert!(validate_service_name(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "-api",
            "api-",
            "Backend",
            "back_end",
            "a b",
            &"a".repeat(64),
        ] {
            assert!(validate_service_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn set_rejects_bad_values_naming_key_and_value() {
        let mut answers = Answers::defaults(None);
        let err = answers.set("port", "99999").unwrap_err();
        assert_eq!((err.key.as_str(), err.value.as_str()), ("port", "99999"));
        let err = answers.set("backends", "honeycomb,zipkin").unwrap_err();
        assert_eq!(err.value, "zipkin");
        assert!(err.allowed.contains("rollbar"));
        assert!(answers.set("colour", "blue").is_err());
        assert!(answers.set("gitpod", "maybe").is_err());
    }

    #[test]
    fn backends_need_exactly_one_otlp_destination() {
        let mut answers = Answers::defaults(None);
        assert!(answers.set("backends", "xray").is_err());
        assert!(answers.set("backends", "honeycomb,local").is_err());
        answers
            .set("backends", "rollbar, local,xray,local")
            .unwrap();
        assert_eq!(
            answers.backends,
            vec![Backend::Xray, Backend::Rollbar, Backend::Local]
        );
    }

    #[test]
    fn port_may_not_collide_with_a_generated_service() {
        let mut answers = Answers::defaults(None);
        answers.set("backends", "honeycomb,xray").unwrap();
        answers.port = 2000;
        assert_eq!(answers.validate().unwrap_err().key, "port");
    }

    #[test]
    fn answers_file_round_trips_through_yaml() {
        let mut answers = Answers::defaults(None);
        answers.set("backends", "local,rollbar").unwrap();
        answers.set("project_name", "O'Brien: \"lab\" #1").unwrap();
        let mut again = Answers::defaults(None);
        AnswersFile::parse(&answers.to_yaml())
            .unwrap()
            .apply(&mut again)
            .unwrap();
        assert_eq!(again, answers);
    }

    #[test]
    fn a_text_parsed_before_gives_its_own_answers_and_another_text_its_own() {
        let port = |text: &str| {
            let mut answers = Answers::defaults(None);
            AnswersFile::parse(text)
                .unwrap()
                .apply(&mut answers)
                .unwrap();
            answers.port
        };
        assert_eq!(port("port: 5000\n"), 5000);
        assert_eq!(port("port: 5000\n"), 5000);
        assert_eq!(port("port: 6000\n"), 6000);
        assert!(AnswersFile::parse("port: 6000\ncolour: blue\n").is_err());
        assert_eq!(port("port: 6000\n"), 6000);
    }

    #[test]
    fn answers_file_rejects_unknown_keys_and_nested_values() {
        assert!(AnswersFile::parse("colour: blue\n").is_err());
        let file = AnswersFile::parse("port: [1, 2]\n").unwrap();
        let err = file.apply(&mut Answers::defaults(None)).unwrap_err();
        assert_eq!(err.key, "port");
    }
}
