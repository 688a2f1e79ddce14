//! The browser's side of tracing: the frontend files that set up
//! OpenTelemetry, and the build-time variables (`process.env.REACT_APP_*`)
//! they read, which only the frontend service's `environment:` provides.

use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use regex::Regex;

use crate::keyed::Keyed;

#[derive(Debug, Clone, PartialEq)]
pub struct EnvUse {
    pub name: String,
    pub line: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TracingFile {
    pub path: PathBuf,
    pub env: Vec<EnvUse>,
    /// A key written as a literal: `apiKey: '...'` (Honeycomb's web SDK)
    /// or an `x-honeycomb-team` header, with its line.
    pub literal_keys: Vec<(usize, String)>,
    /// Live (not commented out) text, to ask what it mentions.
    pub live_text: String,
}

static LITERAL_KEY: Keyed = Keyed::new(
    r#"(?:\bapiKey|['"]x-honeycomb-team['"])\s*:\s*['"`]([^'"`]*)['"`]"#,
    &["apikey", "x-honeycomb-team"],
)
// A value written as a string, not read from a variable.
.followed_by(|rest| {
    let rest = rest.strip_prefix(['\'', '"']).unwrap_or(rest).trim_start();
    rest.strip_prefix(':')
        .is_some_and(|value| value.trim_start().starts_with(['\'', '"', '`']))
});

static ENV_USE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"process\.env\.([A-Z_][A-Z0-9_]*)").expect("regex compiles"));

/// The OpenTelemetry files under `src/` of a frontend folder.
pub fn tracing_files(frontend_dir: &Path) -> Vec<TracingFile> {
    let mut files = Vec::new();
    collect(&frontend_dir.join("src"), 0, &mut files);
    files
}

fn collect(dir: &Path, depth: usize, out: &mut Vec<TracingFile>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            if depth < 4 && path.file_name().is_some_and(|n| n != "node_modules") {
                collect(&path, depth + 1, out);
            }
            continue;
        }
        let is_script = path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| matches!(e, "js" | "jsx" | "ts" | "tsx"));
        if !is_script {
            continue;
        }
        let Ok(text) = super::read::text(&path) else {
            continue;
        };
        if !text.contains("@opentelemetry") && !text.contains("@honeycombio") {
            continue;
        }
        let live: Vec<(usize, &str)> = text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim_start().starts_with("//"))
            .map(|(i, l)| (i + 1, l))
            .collect();
        let env = live
            .iter()
            .flat_map(|(line, text)| {
                ENV_USE.captures_iter(text).map(move |c| EnvUse {
                    name: c[1].to_string(),
                    line: *line,
                })
            })
            .collect();
        let literal_keys = live
            .iter()
            .flat_map(|(line, text)| {
                LITERAL_KEY
                    .captures_iter(text)
                    .map(move |c| (*line, c[1].to_string()))
            })
            .collect();
        out.push(TracingFile {
            path,
            env,
            literal_keys,
            live_text: live.iter().map(|(_, l)| *l).collect::<Vec<_>>().join("\n"),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_pattern_is_only_skipped_where_it_cannot_match() {
        let mut texts = crate::keyed::corpus();
        texts.extend(
            [
                "  apiKey : 'Fk7TqZ2mWc9RbX4nLp0Jd3',",
                r#"headers: { "x-honeycomb-team": `${key}` }"#,
                "'x-honeycomb-team':\"abc\"",
            ]
            .map(String::from),
        );
        crate::keyed::assert_gate_holds(&LITERAL_KEY, texts.iter().map(String::as_str));
        assert!(!LITERAL_KEY.may_match("apiKey: process.env.REACT_APP_HONEYCOMB_API_KEY"));
    }
}
