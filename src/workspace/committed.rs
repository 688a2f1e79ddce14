//! The files a repository commits, and the secrets written into them.
//!
//! In a git repository `git ls-files` says what is committed; elsewhere every
//! file below the workspace counts, except `.env` when `.gitignore` keeps it
//! out, and folders that are never committed (virtualenvs, node_modules).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::LazyLock;
use std::time::Duration;

use super::process::run_with_timeout;
use crate::keyed::{Keyed, KeyedSet};
use crate::rules::values::placeholder;

/// Folders no one commits, and that would take long to read.
const SKIPPED_DIRS: &[&str] = &[
    ".git",
    "node_modules",
    ".venv",
    "venv",
    "__pycache__",
    "target",
    "build",
    "dist",
    ".tox",
];
const MAX_FILES: usize = 5_000;
const MAX_FILE_BYTES: u64 = 512 * 1024;

/// A secret written into a committed file.
#[derive(Debug, Clone, PartialEq)]
pub struct CommittedSecret {
    pub path: PathBuf,
    pub line: usize,
    /// What it is: "Honeycomb key", "AWS access key id", ...
    pub kind: &'static str,
    /// The variable it belongs to, where the line says.
    pub variable: &'static str,
    pub value: String,
}

/// The committed files, relative to `dir`; `in_git` says how that was known.
pub struct Committed {
    pub files: Vec<PathBuf>,
    pub in_git: bool,
}

pub fn list(dir: &Path) -> Committed {
    if let Some(files) = git_ls_files(dir) {
        return Committed {
            files,
            in_git: true,
        };
    }
    let ignores_env = super::read::text(&dir.join(".gitignore")).is_ok_and(|text| {
        text.lines()
            .any(|l| matches!(l.trim(), ".env" | "/.env" | "*.env" | ".env*"))
    });
    let mut files = Vec::new();
    walk(dir, dir, &mut files);
    files.retain(|f| !(ignores_env && f.file_name().is_some_and(|n| n == ".env")));
    Committed {
        files,
        in_git: false,
    }
}

fn git_ls_files(dir: &Path) -> Option<Vec<PathBuf>> {
    if !dir.join(".git").exists() {
        return None;
    }
    let output = run_with_timeout(
        Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(["ls-files", "-z"]),
        Duration::from_secs(5),
    )
    .ok()?;
    output.status.success().then(|| {
        output
            .stdout
            .split(|b| *b == 0)
            .filter(|p| !p.is_empty())
            .map(|p| PathBuf::from(String::from_utf8_lossy(p).into_owned()))
            .collect()
    })
}

fn walk(root: &Path, dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.flatten().collect();
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        if out.len() >= MAX_FILES {
            return;
        }
        let path = entry.path();
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        let name = entry.file_name();
        if kind.is_dir() {
            if !SKIPPED_DIRS.iter().any(|s| name == *s) {
                walk(root, &path, out);
            }
        } else if kind.is_file()
            && let Ok(rel) = path.strip_prefix(root)
        {
            out.push(rel.to_path_buf());
        }
    }
}

struct Pattern {
    regex: Keyed,
    kind: &'static str,
    variable: &'static str,
}

/// A name (`HONEYCOMB_API_KEY`, `x-honeycomb-team`) assigned a literal
/// value: what must follow a keyword for a key to be written there. An
/// interpolation (`${X}`), a call (`getenv("X")`) or prose fails it before
/// any pattern is compiled.
fn assigned_a_literal(rest: &str) -> bool {
    let rest = rest.trim_start_matches(|c: char| c.is_ascii_alphanumeric() || c == '_');
    let rest = rest.strip_prefix(['\'', '"']).unwrap_or(rest).trim_start();
    let Some(value) = rest.strip_prefix([':', '=']) else {
        return false;
    };
    let value = value.trim_start();
    let value = value.strip_prefix(['\'', '"']).unwrap_or(value);
    value.starts_with(|c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '/' | '+'))
}

/// Each pattern's first group is the secret. Values that interpolate a
/// variable (`${X}`, `process.env.X`) never match: they hold no secret.
/// Each is compiled only for a line holding its keywords.
static PATTERNS: [Pattern; 7] = [
    Pattern {
        regex: Keyed::new(
            r#"(?i-u)x-honeycomb-team['"]?\s*[:=]\s*['"]?([A-Za-z0-9_]{16,})"#,
            &["x-honeycomb-team"],
        )
        .followed_by(assigned_a_literal),
        kind: "Honeycomb key",
        variable: "HONEYCOMB_API_KEY",
    },
    Pattern {
        regex: Keyed::new(
            r#"(?i-u)honeycomb_?(?:api_?)?key['"]?\s*[:=]\s*['"]?([A-Za-z0-9_]{20,})"#,
            &[
                "honeycombkey",
                "honeycomb_key",
                "honeycombapikey",
                "honeycomb_apikey",
                "honeycombapi_key",
                "honeycomb_api_key",
            ],
        )
        .followed_by(assigned_a_literal),
        kind: "Honeycomb key",
        variable: "HONEYCOMB_API_KEY",
    },
    Pattern {
        regex: Keyed::new(r"(?-u)\b(hc[a-z]i[kc]_[a-z0-9]{58})\b", &["hc"])
            .followed_by(crate::rules::honeycomb::goes_on_as_ingest_key),
        kind: "Honeycomb ingest key",
        variable: "HONEYCOMB_API_KEY",
    },
    Pattern {
        regex: Keyed::new(r"(?-u)\b((?:AKIA|ASIA)[A-Z0-9]{16})\b", &["akia", "asia"])
            .followed_by(crate::rules::aws::goes_on_as_access_key_id),
        kind: "AWS access key id",
        variable: "AWS_ACCESS_KEY_ID",
    },
    Pattern {
        regex: Keyed::new(
            r#"(?i-u)aws_secret_access_key['"]?\s*[:=]\s*['"]?([A-Za-z0-9/+]{40})\b"#,
            &["aws_secret_access_key"],
        )
        .followed_by(assigned_a_literal),
        kind: "AWS secret access key",
        variable: "AWS_SECRET_ACCESS_KEY",
    },
    Pattern {
        regex: Keyed::new(
            r#"(?i-u)rollbar\w*token['"]?\s*[:=]\s*['"]?([a-f0-9]{32})\b"#,
            &["rollbar"],
        )
        .followed_by(assigned_a_literal),
        kind: "Rollbar token",
        variable: "ROLLBAR_ACCESS_TOKEN",
    },
    Pattern {
        regex: Keyed::new(
            r#"rollbar\.init\(\s*['"]([a-f0-9]{32})['"]"#,
            &["rollbar.init("],
        ),
        kind: "Rollbar token",
        variable: "ROLLBAR_ACCESS_TOKEN",
    },
];

/// Every pattern's keywords, found in one pass over a file.
static KEYWORDS: LazyLock<KeyedSet> =
    LazyLock::new(|| KeyedSet::new(PATTERNS.iter().map(|p| &p.regex)));

/// Secrets in the committed files: one per line, placeholders left out.
pub fn secrets(dir: &Path, committed: &Committed) -> Vec<CommittedSecret> {
    let mut found = Vec::new();
    for rel in committed.files.iter().filter(|rel| !is_merge_base(rel)) {
        let path = dir.join(rel);
        let Ok(text) = super::read::text_within(&path, MAX_FILE_BYTES) else {
            continue; // binary, or too large to be a file someone wrote
        };
        for (index, line, candidates) in lines_with_keywords(&text) {
            if let Some(secret) = secret_in_line(&candidates, line) {
                found.push(CommittedSecret {
                    path: path.clone(),
                    line: index + 1,
                    ..secret
                });
            }
        }
    }
    found
}

/// tracelab's merge base: the files as tracelab generated them, from
/// templates that hold no secret (a key goes into the shell or `.env`,
/// a generated file only interpolates it). Its copies repeat every keyword
/// of the files they copy: more than half a generated workspace's bytes,
/// and half the keyword search's instructions (callgrind), for lines that
/// can only echo a template.
fn is_merge_base(rel: &Path) -> bool {
    rel == Path::new(super::BASE_FILE) || rel.starts_with(super::LEGACY_BASE_DIR)
}

/// The lines of `text` (as `str::lines` cuts them, by index) that hold a
/// keyword, each with the patterns whose keyword it holds, in order: the
/// only lines and patterns that can find a secret. Running every pattern
/// whose keyword the file held on each of its lines was most of the
/// scan.
fn lines_with_keywords(text: &str) -> Vec<(usize, &str, Vec<&'static Pattern>)> {
    let mut hits: Vec<(usize, usize)> = KEYWORDS
        .occurrences(text)
        .map(|(pattern, at)| (line_start(text, at), pattern))
        .collect();
    hits.sort_unstable();
    hits.dedup();
    let mut lines: Vec<(usize, &str, Vec<&'static Pattern>)> = Vec::new();
    let (mut counted_to, mut index) = (0, 0);
    for (start, pattern) in hits {
        match lines.last_mut() {
            Some((_, _, patterns)) if counted_to == start => patterns.push(&PATTERNS[pattern]),
            _ => {
                index += memchr::memchr_iter(b'\n', &text.as_bytes()[counted_to..start]).count();
                counted_to = start;
                let line = text[start..].lines().next().unwrap_or("");
                lines.push((index, line, vec![&PATTERNS[pattern]]));
            }
        }
    }
    lines
}

fn line_start(text: &str, at: usize) -> usize {
    memchr::memrchr(b'\n', &text.as_bytes()[..at]).map_or(0, |newline| newline + 1)
}

/// The first of `patterns` (in their order) that finds a secret.
fn secret_in_line(patterns: &[&Pattern], line: &str) -> Option<CommittedSecret> {
    patterns.iter().find_map(|pattern| {
        let value = pattern.regex.captures(line)?.get(1)?.as_str();
        if placeholder(pattern.variable, value).is_some()
            || value.chars().all(|c| c == value.as_bytes()[0] as char)
        {
            return None;
        }
        Some(CommittedSecret {
            path: PathBuf::new(),
            line: 0,
            kind: pattern.kind,
            variable: pattern.variable,
            value: value.to_string(),
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What every pattern finds on every line, each behind its own gate:
    /// what the scan of only the lines with keywords must find.
    fn on_every_line(text: &str) -> Vec<(usize, &'static str, String)> {
        let all: Vec<&Pattern> = PATTERNS.iter().collect();
        text.lines()
            .enumerate()
            .filter_map(|(index, line)| {
                secret_in_line(&all, line).map(|s| (index, s.kind, s.value))
            })
            .collect()
    }

    fn on_lines_with_keywords(text: &str) -> Vec<(usize, &'static str, String)> {
        lines_with_keywords(text)
            .into_iter()
            .filter_map(|(index, line, candidates)| {
                secret_in_line(&candidates, line).map(|s| (index, s.kind, s.value))
            })
            .collect()
    }

    const FRAGMENTS: &[&str] = &[
        "x-honeycomb-team",
        "HONEYCOMB_API_KEY",
        "honeycombKey",
        "hcaik_01jq7w3e5r7t9y1u3i5o7p9a1s3d5f7g9h1j3k5l7z9x1c3v5b7n9m1q3w",
        "AKIAZ7Q4R5T6Y7U8I9O0",
        "aws_secret_access_key",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "ROLLBAR_ACCESS_TOKEN",
        "rollbar.init(",
        "0123456789abcdef0123456789abcdef",
        "Fk7TqZ2mWc9RbX4nLp0Jd3",
        "${HONEYCOMB_API_KEY}",
        ": ",
        "=",
        "\"",
        "'",
        " ",
        "\n",
        "\r\n",
        "x",
    ];

    proptest::proptest! {
        /// Any text made of keywords, values and line breaks: the same
        /// secrets on the same lines.
        #[test]
        fn only_lines_with_keywords_need_the_patterns(
            picks in proptest::collection::vec(0..FRAGMENTS.len(), 0..24)
        ) {
            let text: String = picks.iter().map(|&i| FRAGMENTS[i]).collect();
            proptest::prop_assert_eq!(on_lines_with_keywords(&text), on_every_line(&text));
        }
    }

    #[test]
    fn the_corpus_gives_the_same_secrets_on_its_lines_with_keywords() {
        for text in crate::keyed::corpus() {
            assert_eq!(
                on_lines_with_keywords(&text),
                on_every_line(&text),
                "{text}"
            );
        }
        let written = "a: 1\r\nHONEYCOMB_API_KEY: Fk7TqZ2mWc9RbX4nLp0Jd3\r\n\nAKIAZ7Q4R5T6Y7U8I9O0 AKIAZ7Q4R5T6Y7U8I9O1";
        let found = on_lines_with_keywords(written);
        assert_eq!(found, on_every_line(written));
        assert_eq!(found.iter().map(|f| f.0).collect::<Vec<_>>(), [1, 3]);
    }

    #[test]
    fn the_keywords_never_reject_a_line_a_pattern_matches() {
        let mut texts = crate::keyed::corpus();
        let written = [
            r#"HONEYCOMB_API_KEY: "Fk7TqZ2mWc9RbX4nLp0Jd3""#,
            r#"  "honeycombKey" : 'Fk7TqZ2mWc9RbX4nLp0Jd3',"#,
            r#"'x-honeycomb-team':'Qz8FakeKey2ForTests7Xy',"#,
            "export HONEYCOMB_APIKEY=hcaik_01jq7w3e5r7t9y1u3i5o7p9a1s3d5f7g9h1j3k5l7z9x1c3v5b7n9m1q3w",
            "ENV AWS_ACCESS_KEY_ID=AKIAZ7Q4R5T6Y7U8I9O0",
            r#"aws_secret_access_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY""#,
            "ROLLBAR_ACCESS_TOKEN='0123456789abcdef0123456789abcdef'",
            r#"rollbar.init( "0123456789abcdef0123456789abcdef")"#,
        ];
        let all: Vec<&Pattern> = PATTERNS.iter().collect();
        for line in written {
            assert!(secret_in_line(&all, line).is_some(), "{line}");
        }
        texts.extend(written.map(String::from));
        for pattern in &PATTERNS {
            crate::keyed::assert_gate_holds(&pattern.regex, texts.iter().map(String::as_str));
        }
    }

    #[test]
    fn the_merge_base_is_not_scanned_and_every_other_file_is() {
        let dir = tempfile::tempdir().unwrap();
        let line = "HONEYCOMB_API_KEY: Fk7TqZ2mWc9RbX4nLp0Jd3\n";
        for rel in [
            "docker-compose.yml",
            ".tracelab/base.yml",
            ".tracelab/base/docker-compose.yml",
            ".tracelab/notes.yml",
        ] {
            let path = dir.path().join(rel);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, line).unwrap();
        }
        let mut found: Vec<PathBuf> = secrets(dir.path(), &list(dir.path()))
            .into_iter()
            .map(|s| s.path.strip_prefix(dir.path()).unwrap().to_path_buf())
            .collect();
        found.sort();
        assert_eq!(
            found,
            [".tracelab/notes.yml", "docker-compose.yml"].map(PathBuf::from)
        );
    }

    #[test]
    fn finds_literal_keys_but_not_interpolations() {
        let all: Vec<&Pattern> = PATTERNS.iter().collect();
        let found = |line: &str| secret_in_line(&all, line).map(|s| (s.kind, s.value));
        assert_eq!(
            found(
                r#"      OTEL_EXPORTER_OTLP_HEADERS: "x-honeycomb-team=hcaik_01fakekey0fake0000fake0000""#
            ),
            Some(("Honeycomb key", "hcaik_01fakekey0fake0000fake0000".into()))
        );
        assert_eq!(
            found(r#"      HONEYCOMB_API_KEY: "Fk7TqZ2mWc9RbX4nLp0Jd3""#).map(|f| f.0),
            Some("Honeycomb key")
        );
        assert_eq!(
            found(r#"      'x-honeycomb-team': 'Qz8FakeKey2ForTests7Xy',"#).map(|f| f.0),
            Some("Honeycomb key")
        );
        assert_eq!(
            found("ENV AWS_ACCESS_KEY_ID=AKIAZ7Q4R5T6Y7U8I9O0").map(|f| f.0),
            Some("AWS access key id")
        );
        assert_eq!(
            found(r#"OTEL_EXPORTER_OTLP_HEADERS: "x-honeycomb-team=${HONEYCOMB_API_KEY}""#),
            None
        );
        assert_eq!(
            found("'x-honeycomb-team': process.env.REACT_APP_HONEYCOMB_API_KEY"),
            None
        );
        assert_eq!(found("HONEYCOMB_API_KEY=your-api-key-goes-here"), None);
        assert_eq!(found("HONEYCOMB_API_KEY="), None);
    }
}
