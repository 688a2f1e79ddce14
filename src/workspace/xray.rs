//! The X-Ray daemon service and the sampling rules.
//!
//! The daemon's arguments are the image's entrypoint (`/xray -t 0.0.0.0:2000
//! -b 0.0.0.0:2000`) followed by the compose `command:`, and the daemon reads
//! them with Go's `flag` package: parsing stops at the first word that is not
//! a flag, and a flag that takes a value takes the next word whatever it is.

use std::path::{Path, PathBuf};

use super::compose::{Command, ComposeFile, Service};

/// The official image's entrypoint, which `command:` is appended to.
const IMAGE_ENTRYPOINT: &[&str] = &["/xray", "-t", "0.0.0.0:2000", "-b", "0.0.0.0:2000"];

/// Flags that take no value (`-o`, `--local-mode`, ...).
const BOOLEAN_FLAGS: &[&str] = &["o", "local-mode", "v", "version", "h", "help"];
/// Flags that take the next word as their value.
const VALUE_FLAGS: &[&str] = &[
    "n",
    "region",
    "b",
    "bind",
    "t",
    "bind-tcp",
    "r",
    "role-arn",
    "a",
    "resource-arn",
    "m",
    "buffer-memory",
    "l",
    "log-level",
    "c",
    "config",
    "f",
    "log-file",
    "p",
    "proxy-address",
    "e",
    "endpoint",
];

#[derive(Debug, Clone, Default, PartialEq)]
pub struct DaemonArgs {
    pub region: Option<String>,
    pub local_mode: bool,
    /// Words after parsing stopped: the daemon ignores them.
    pub ignored: Vec<String>,
    /// A flag Go's parser does not know: the daemon exits at start.
    pub unknown: Option<String>,
}

/// Parses the daemon's arguments (without the program name) as Go does.
pub fn parse_args(args: &[String]) -> DaemonArgs {
    let mut parsed = DaemonArgs::default();
    let mut i = 0;
    while i < args.len() {
        let word = &args[i];
        if word == "--" {
            parsed.ignored = args[i + 1..].to_vec();
            return parsed;
        }
        let Some(flag) = word
            .strip_prefix("--")
            .or_else(|| word.strip_prefix('-'))
            .filter(|f| !f.is_empty())
        else {
            parsed.ignored = args[i..].to_vec();
            return parsed;
        };
        let (name, inline) = match flag.split_once('=') {
            Some((n, v)) => (n, Some(v.to_string())),
            None => (flag, None),
        };
        if BOOLEAN_FLAGS.contains(&name) {
            if matches!(name, "o" | "local-mode") {
                parsed.local_mode = inline.as_deref() != Some("false");
            }
        } else if VALUE_FLAGS.contains(&name) {
            let value = match inline {
                Some(v) => Some(v),
                None => {
                    i += 1;
                    args.get(i).cloned()
                }
            };
            if matches!(name, "n" | "region") {
                parsed.region = value;
            }
        } else {
            parsed.unknown = Some(word.clone());
            return parsed;
        }
        i += 1;
    }
    parsed
}

/// Is this service an X-Ray daemon?
pub fn is_daemon(service: &Service) -> bool {
    service
        .image_name()
        .is_some_and(|name| name.ends_with("aws-xray-daemon"))
}

/// The daemon service of a compose file, if it has one.
pub fn daemon(compose: &ComposeFile) -> Option<&Service> {
    compose.services.iter().find(|s| is_daemon(s))
}

/// What the daemon runs with: the entrypoint (the image's, or the service's
/// own) followed by `command:`, program name dropped.
pub fn daemon_args(service: &Service) -> Vec<String> {
    let mut words: Vec<String> = match &service.entrypoint {
        Some(entrypoint) => entrypoint.args(),
        None => IMAGE_ENTRYPOINT.iter().map(|s| s.to_string()).collect(),
    };
    if let Some(command) = &service.command {
        words.extend(command.args());
    }
    if !words.is_empty() {
        words.remove(0);
    }
    words
}

/// True when `command:` is one string holding several words in a list:
/// Compose passes it as one argument, so none of the flags inside apply.
pub fn command_is_one_word(service: &Service) -> bool {
    matches!(&service.command, Some(Command::Exec(items))
        if items.iter().any(|item| item.split_whitespace().count() > 1))
}

/// A sampling rule file (`aws/json/xray.json` in the lab).
#[derive(Debug, Clone, PartialEq)]
pub struct SamplingRule {
    pub path: PathBuf,
    pub rule_name: Option<String>,
    pub service_name: String,
    pub line: Option<usize>,
}

/// Sampling rules: `aws/json/xray.json`, and `xray.json` in the backend.
pub fn sampling_rules(dir: &Path, backend_dir: &Path) -> Vec<SamplingRule> {
    let candidates = [
        dir.join("aws/json/xray.json"),
        dir.join("xray.json"),
        backend_dir.join("xray.json"),
    ];
    let mut rules: Vec<SamplingRule> = Vec::new();
    for path in candidates {
        if rules.iter().any(|r| r.path == path) {
            continue;
        }
        let Ok(text) = super::read::text(&path) else {
            continue;
        };
        let Ok(json) = serde_json::from_str::<serde_json::Value>(&text) else {
            continue;
        };
        let rule = json.get("SamplingRule").unwrap_or(&json);
        let Some(service_name) = rule.get("ServiceName").and_then(|v| v.as_str()) else {
            continue;
        };
        let line = text
            .lines()
            .position(|l| l.contains("\"ServiceName\""))
            .map(|i| i + 1);
        rules.push(SamplingRule {
            path,
            rule_name: rule
                .get("RuleName")
                .and_then(|v| v.as_str())
                .map(str::to_string),
            service_name: service_name.to_string(),
            line,
        });
    }
    rules
}

/// Does an X-Ray sampling pattern (`*` and `?` wildcards) match `name`?
pub fn pattern_matches(pattern: &str, name: &str) -> bool {
    fn go(p: &[char], n: &[char]) -> bool {
        match (p.first(), n.first()) {
            (None, None) => true,
            (Some('*'), _) => go(&p[1..], n) || (!n.is_empty() && go(p, &n[1..])),
            (Some('?'), Some(_)) => go(&p[1..], &n[1..]),
            (Some(a), Some(b)) if a.eq_ignore_ascii_case(b) => go(&p[1..], &n[1..]),
            _ => false,
        }
    }
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    go(&p, &n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn region_flag_takes_the_next_word_whatever_it_is() {
        let args = parse_args(&words(&[
            "-t",
            "0.0.0.0:2000",
            "-b",
            "0.0.0.0:2000",
            "-o",
            "-n",
            "-b",
            "0.0.0.0:2000",
        ]));
        assert_eq!(args.region.as_deref(), Some("-b"));
        assert!(args.local_mode);
        assert_eq!(args.ignored, ["0.0.0.0:2000"]);
    }

    #[test]
    fn parsing_stops_at_the_first_word_that_is_not_a_flag() {
        let args = parse_args(&words(&[
            "-t",
            "0.0.0.0:2000",
            "-b",
            "0.0.0.0:2000",
            "xray -o -b xray-daemon:2000",
        ]));
        assert!(!args.local_mode);
        assert_eq!(args.ignored, ["xray -o -b xray-daemon:2000"]);
        let args = parse_args(&words(&["--region=ca-central-1", "--local-mode", "-x"]));
        assert_eq!(args.region.as_deref(), Some("ca-central-1"));
        assert_eq!(args.unknown.as_deref(), Some("-x"));
    }

    #[test]
    fn sampling_patterns() {
        assert!(pattern_matches("*", "backend-flask"));
        assert!(pattern_matches("backend-*", "backend-flask"));
        assert!(!pattern_matches("Cruddur", "backend-flask"));
    }
}
