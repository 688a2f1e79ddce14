//! A Dockerfile's instructions as Docker reads them: one per line, with
//! `\` continuing a line, comments and blank lines skipped, the keyword in
//! any case. Enough to say what a container runs.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

/// One instruction: `CMD ["npm", "start"]` at line 9.
#[derive(Debug, Clone, PartialEq)]
pub struct Instruction {
    pub keyword: String,
    pub arguments: String,
    pub line: usize,
}

/// The Dockerfile a compose service builds from `context` (its default
/// name), when there is one.
pub fn of_build_context(compose_dir: &Path, context: &str) -> Option<PathBuf> {
    let path = compose_dir
        .join(context.trim_start_matches("./"))
        .join("Dockerfile");
    path.is_file().then_some(path)
}

pub fn instructions(text: &str) -> Vec<Instruction> {
    let mut out = Vec::new();
    let mut pending: Option<(usize, String)> = None;
    for (index, raw) in text.lines().enumerate() {
        let trimmed = raw.trim();
        if pending.is_none() && (trimmed.is_empty() || trimmed.starts_with('#')) {
            continue;
        }
        let (start, mut joined) = pending.take().unwrap_or((index + 1, String::new()));
        match trimmed.strip_suffix('\\') {
            Some(continued) => {
                joined.push_str(continued);
                joined.push(' ');
                pending = Some((start, joined));
            }
            None => {
                joined.push_str(trimmed);
                let (keyword, arguments) = joined
                    .split_once(char::is_whitespace)
                    .unwrap_or((&joined, ""));
                out.push(Instruction {
                    keyword: keyword.to_ascii_uppercase(),
                    arguments: arguments.trim().to_string(),
                    line: start,
                });
            }
        }
    }
    out
}

/// The Python the image runs, from its last `FROM python:X.Y…`: `3.12`,
/// with the line it is on.
pub fn python_version(dockerfile: &Path) -> Option<(String, usize)> {
    let text = crate::workspace::read::text(dockerfile).ok()?;
    instructions(&text)
        .into_iter()
        .rev()
        .filter(|i| i.keyword == "FROM")
        .find_map(|i| {
            let image = i
                .arguments
                .split_whitespace()
                .find(|w| !w.starts_with("--"))?;
            let tag = image
                .strip_prefix("python:")
                .or_else(|| image.strip_prefix("docker.io/library/python:"))?;
            let mut parts = tag.split(|c: char| !c.is_ascii_digit());
            let (major, minor) = (parts.next()?, parts.next()?);
            (!major.is_empty() && !minor.is_empty()).then(|| (format!("{major}.{minor}"), i.line))
        })
}

/// A CMD, ENTRYPOINT or RUN written in exec form (`[...]`) that is not a
/// JSON array of strings: Docker then runs the whole text as a shell
/// command, whose first word is `[npm,`: "not found", and the container
/// exits. Why it is not JSON, as serde says it.
pub fn broken_exec_form(instruction: &Instruction) -> Option<String> {
    if !matches!(instruction.keyword.as_str(), "CMD" | "ENTRYPOINT" | "RUN") {
        return None;
    }
    let text = instruction.arguments.trim();
    if !text.starts_with('[') {
        return None;
    }
    match serde_json::from_str::<Vec<String>>(text) {
        Ok(_) => None,
        Err(error) => Some(error.to_string()),
    }
}

/// The JSON array a broken exec form means, when its words are all quoted
/// and only commas are missing or quotes are single: `["npm", "start",
/// "-r"]` for `["npm", "start" "-r"]`.
pub fn meant_exec_form(arguments: &str) -> Option<String> {
    static WORD: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r#""([^"\\]*)"|'([^'\\]*)'"#).expect("a valid pattern")
    });
    let inner = arguments.trim().strip_prefix('[')?.strip_suffix(']')?;
    let words: Vec<String> = WORD
        .captures_iter(inner)
        .map(|c| {
            c.get(1)
                .or_else(|| c.get(2))
                .map_or("", |m| m.as_str())
                .to_string()
        })
        .collect();
    let rest = WORD.replace_all(inner, "");
    if words.is_empty() || rest.chars().any(|c| !(c == ',' || c.is_whitespace())) {
        return None;
    }
    serde_json::to_string(&words)
        .ok()
        .map(|json| json.replace("\",\"", "\", \""))
}

/// The command a Dockerfile runs (its last `CMD`), as this machine runs
/// it: a script the image holds at a path of its own (`COPY start.sh
/// /usr/local/bin/`) is the backend folder's, and a script the image made
/// executable (`RUN chmod +x`) runs with `sh` when this checkout lost the bit.
pub fn command(dockerfile: &Path) -> Result<Vec<String>> {
    let text = crate::workspace::read::text(dockerfile)?;
    let all = instructions(&text);
    let cmd = all
        .iter()
        .rev()
        .find(|i| i.keyword == "CMD")
        .with_context(|| format!("{} has no CMD", dockerfile.display()))?;
    let mut words = match serde_json::from_str::<Vec<String>>(&cmd.arguments) {
        Ok(words) if !words.is_empty() => words,
        _ => crate::shell::split_words(&cmd.arguments),
    };
    let dir = dockerfile.parent().unwrap_or(Path::new("."));
    if let Some(program) = words.first().filter(|w| w.contains('/')) {
        let here = copied_from(&all, program)
            .map(|source| dir.join(source))
            .unwrap_or_else(|| dir.join(program));
        if let Ok(here) = here.canonicalize()
            && here.is_file()
        {
            let executable = here.metadata().is_ok_and(|m| {
                std::os::unix::fs::PermissionsExt::mode(&m.permissions()) & 0o111 != 0
            });
            words[0] = here.display().to_string();
            if !executable {
                // As the kernel would run it, had it the bit: by its `#!`.
                let interpreter = interpreter_of(&here).unwrap_or_else(|| vec!["sh".into()]);
                words.splice(0..0, interpreter);
            }
        }
    }
    Ok(words)
}

/// The interpreter a script's `#!` line names, with its argument:
/// `#!/bin/bash` is `bash`, `#!/usr/bin/env bash` is `bash`. By name, found
/// on this machine's PATH where the image's path is not here.
fn interpreter_of(script: &Path) -> Option<Vec<String>> {
    let text = crate::workspace::read::text(script).ok()?;
    let line = text.lines().next()?.strip_prefix("#!")?;
    let mut words: Vec<String> = line.split_whitespace().map(String::from).collect();
    if words.first()?.rsplit('/').next() == Some("env") {
        words.remove(0);
    }
    let program = words.first_mut()?;
    if !Path::new(program.as_str()).is_file() {
        *program = program.rsplit('/').next()?.to_string();
    }
    Some(words)
}

/// The script of the build context an exec-form ENTRYPOINT or CMD runs
/// itself (`["./entrypoint.sh"]`, or `["/usr/local/bin/start.sh"]` copied
/// from start.sh), with the instruction, unless a RUN makes it executable
/// in the image (`chmod +x`): Docker then needs the file's own exec bit.
pub fn script_run(all: &[Instruction]) -> Option<(&Instruction, String)> {
    let runs = all
        .iter()
        .rev()
        .find(|i| i.keyword == "ENTRYPOINT")
        .or_else(|| all.iter().rev().find(|i| i.keyword == "CMD"))?;
    let words = serde_json::from_str::<Vec<String>>(&runs.arguments).ok()?;
    let program = words.first()?;
    if !program.contains('/') || !program.ends_with(".sh") {
        return None;
    }
    let name = Path::new(program).file_name()?.to_str()?;
    let made_executable = all
        .iter()
        .any(|i| i.keyword == "RUN" && i.arguments.contains("chmod") && i.arguments.contains(name));
    if made_executable {
        return None;
    }
    let source =
        copied_from(all, program).unwrap_or_else(|| program.trim_start_matches("./").to_string());
    Some((runs, source))
}

/// The file of the build context a Dockerfile copies to `target` in the
/// image (`COPY start.sh /usr/local/bin/` puts start.sh at
/// /usr/local/bin/start.sh), if one does.
fn copied_from(all: &[Instruction], target: &str) -> Option<String> {
    let name = Path::new(target).file_name()?.to_str()?;
    all.iter().filter(|i| i.keyword == "COPY").find_map(|copy| {
        let words = crate::shell::split_words(&copy.arguments);
        let (dest, sources) = words.split_last()?;
        let lands_there = |source: &String| {
            let base = Path::new(source).file_name().and_then(|n| n.to_str());
            dest == target
                || (dest.ends_with('/') && format!("{dest}{}", base.unwrap_or("")) == target)
        };
        sources
            .iter()
            .filter(|s| !s.starts_with("--"))
            .find(|s| {
                lands_there(s) && Path::new(s).file_name().and_then(|n| n.to_str()) == Some(name)
            })
            .cloned()
    })
}

/// The `ENV` a Dockerfile sets (`ENV A=1 B=2`, continued lines, and the old
/// `ENV A 1`), as the container would have it: what names another variable
/// (`PATH=/opt/venv/bin:$PATH`) is the container's, not this machine's, and
/// is left out.
pub fn environment(dockerfile: &Path) -> Vec<(String, String)> {
    let Ok(text) = crate::workspace::read::text(dockerfile) else {
        return Vec::new();
    };
    let mut env = Vec::new();
    for set in instructions(&text).iter().filter(|i| i.keyword == "ENV") {
        let words = crate::shell::split_words(&set.arguments);
        let pairs: Vec<(String, String)> = if words.iter().all(|w| w.contains('=')) {
            words
                .iter()
                .filter_map(|w| w.split_once('='))
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        } else {
            match words.split_first() {
                Some((key, value)) => vec![(key.clone(), value.join(" "))],
                None => Vec::new(),
            }
        };
        env.extend(
            pairs
                .into_iter()
                .filter(|(k, v)| k != "PATH" && !v.contains('$')),
        );
    }
    env
}

#[cfg(test)]
mod tests {

    /// A script the checkout holds without its exec bit runs as the kernel
    /// would run it with the bit: by its `#!` line (bash's `==` in `[` is
    /// an error under sh).
    #[test]
    fn a_script_without_its_bit_runs_by_its_shebang() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("Dockerfile"),
            "FROM python:3.11\nCMD [\"./entrypoint.sh\", \"FLASK\"]\n",
        )
        .unwrap();
        let script = dir.path().join("entrypoint.sh");
        for (first, runs) in [
            ("#!/bin/bash", "bash"),
            ("#!/usr/bin/env bash", "bash"),
            ("#!/no/such/dir/bash -e", "bash"),
            ("echo no shebang", "sh"),
        ] {
            std::fs::write(&script, format!("{first}\necho hi\n")).unwrap();
            let words = super::command(&dir.path().join("Dockerfile")).unwrap();
            let program = words[0].rsplit('/').next().unwrap();
            assert_eq!(program, runs, "{first}: {words:?}");
            assert_eq!(words.last().map(String::as_str), Some("FLASK"));
        }
    }
    use super::*;

    #[test]
    fn the_images_python_is_its_last_from() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("Dockerfile");
        for (text, wanted) in [
            ("FROM python:3.12\n", Some(("3.12", 1))),
            (
                "# build\nFROM --platform=linux/amd64 python:3.10-slim-buster AS base\n",
                Some(("3.10", 2)),
            ),
            (
                "FROM node:20 AS web\nFROM python:3.11.7-slim\n",
                Some(("3.11", 2)),
            ),
            ("FROM ubuntu:22.04\n", None),
            ("FROM python:latest\n", None),
        ] {
            std::fs::write(&path, text).unwrap();
            let found = python_version(&path);
            assert_eq!(
                found.as_ref().map(|(v, l)| (v.as_str(), *l)),
                wanted,
                "{text}"
            );
        }
    }

    #[test]
    fn dockerfile_env_is_the_images_own() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("Dockerfile");
        std::fs::write(
            &path,
            "FROM python\nENV PATH=\"/opt/venv/bin:$PATH\" \\\n    PYTHONUNBUFFERED=1 \\\n    WEB_CONCURRENCY=2\nENV FLASK_ENV development\n",
        )
        .unwrap();
        assert_eq!(
            environment(&path),
            [
                ("PYTHONUNBUFFERED".to_string(), "1".to_string()),
                ("WEB_CONCURRENCY".to_string(), "2".to_string()),
                ("FLASK_ENV".to_string(), "development".to_string()),
            ]
        );
    }

    #[test]
    fn continued_lines_are_one_instruction_at_their_first_line() {
        let found = instructions(
            "FROM python:3.12\n# note\n\nRUN pip install \\\n    flask\ncmd [\"flask\", \"run\"]\n",
        );
        assert_eq!(found.len(), 3);
        assert_eq!(found[1].keyword, "RUN");
        assert_eq!(found[1].line, 4);
        assert!(found[1].arguments.contains("flask"));
        assert_eq!(found[2].keyword, "CMD");
        assert_eq!(found[2].line, 6);
    }

    #[test]
    fn an_exec_form_that_is_not_json_is_named() {
        let broken = |line: &str| broken_exec_form(&instructions(line)[0]);
        assert!(broken("CMD [\"npm\", \"start\" \"-r\" \"tracing.ts\"]").is_some());
        assert!(broken("CMD ['npm', 'start']").is_some());
        assert_eq!(broken("CMD [\"npm\", \"start\"]"), None);
        assert_eq!(broken("CMD npm start"), None);
        assert_eq!(broken("ENV A=[1"), None);
        assert_eq!(
            meant_exec_form("[\"npm\", \"start\" \"-r\" 'tracing.ts']").as_deref(),
            Some("[\"npm\", \"start\", \"-r\", \"tracing.ts\"]")
        );
        assert_eq!(meant_exec_form("[npm, start]"), None);
    }
}
