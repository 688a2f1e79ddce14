//! What a line merge calls a conflict and a structural merge does not.
//!
//! A three-way line merge marks a conflict wherever both sides changed the
//! same stretch of lines, even when the student added one key at the end of
//! a block and tracelab added others there. Each such block is resolved
//! here when the file's structure says the changes are independent:
//!
//! - in a keyed line file (`requirements.txt` by package, `.env.example` by
//!   variable, `.gitignore` and `.dockerignore` by line), by key: each key
//!   takes the side that changed it; only a key both sides changed
//!   differently is a conflict;
//! - anywhere else (YAML, JSON, Python), when both sides only added lines
//!   around the lines they share: every addition is kept, the student's
//!   first, unless both added the same key (a YAML key at the same
//!   indentation) with different values.
//!
//! The result must still be what it was: valid YAML, JSON or Python, else
//! the markers stay. A block that is a true conflict keeps its markers.

use std::path::Path;

const OURS: &str = "<<<<<<<";
const BASE: &str = "|||||||";
const SPLIT: &str = "=======";
const THEIRS: &str = ">>>>>>>";

/// How the lines of a file are keyed, by its name.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Keys {
    /// `flask==3.1.3`: the package, normalised.
    Requirement,
    /// `NAME=value`: the variable.
    Variable,
    /// `.gitignore`: the line itself.
    Line,
    /// No keys: additions only.
    None,
}

fn keys_of(path: &str) -> Keys {
    let name = Path::new(path)
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("");
    if name.starts_with("requirements") && name.ends_with(".txt") {
        Keys::Requirement
    } else if name.starts_with(".env") {
        Keys::Variable
    } else if name == ".gitignore" || name == ".dockerignore" {
        Keys::Line
    } else {
        Keys::None
    }
}

/// The text with every block resolved that can be, or None when one
/// cannot (then the marked text stands).
pub fn resolve(path: &str, marked: &str, sides: [&str; 3]) -> Option<String> {
    // Markers already in a side would be read as the merge's own.
    let has_markers = |text: &str| {
        text.lines()
            .any(|l| [OURS, BASE, SPLIT, THEIRS].iter().any(|m| l.starts_with(m)))
    };
    if sides.iter().any(|s| has_markers(s)) {
        return None;
    }
    let keys = keys_of(path);
    let mut out: Vec<&str> = Vec::new();
    let mut lines = marked.lines();
    while let Some(line) = lines.next() {
        if !line.starts_with(OURS) {
            out.push(line);
            continue;
        }
        let ours = take_until(&mut lines, BASE)?;
        let base = take_until(&mut lines, SPLIT)?;
        let theirs = take_until(&mut lines, THEIRS)?;
        let block = match keys {
            Keys::None => additions(&base, &ours, &theirs, path)?,
            keyed => by_key(keyed, &base, &ours, &theirs)?,
        };
        out.extend(block);
    }
    let mut text = out.join("\n");
    if marked.ends_with('\n') {
        text.push('\n');
    }
    still_valid(path, &text).then_some(text)
}

fn take_until<'a>(lines: &mut std::str::Lines<'a>, marker: &str) -> Option<Vec<&'a str>> {
    let mut taken = Vec::new();
    for line in lines.by_ref() {
        if line.starts_with(marker) {
            return Some(taken);
        }
        taken.push(line);
    }
    None
}

/// Where `base` runs through `side` in order: the lines `side` added in
/// each gap (before the first base line, between two, after the last).
/// None when `side` removed or changed a base line.
fn gaps<'a>(base: &[&str], side: &[&'a str]) -> Option<Vec<Vec<&'a str>>> {
    let mut gaps = vec![Vec::new(); base.len() + 1];
    let mut next = 0;
    for line in side {
        if next < base.len() && *line == base[next] {
            next += 1;
        } else {
            gaps[next].push(*line);
        }
    }
    (next == base.len()).then_some(gaps)
}

/// Both sides only added lines: all of them, the student's first in each
/// gap, a line both added once.
fn additions<'a>(
    base: &[&'a str],
    ours: &[&'a str],
    theirs: &[&'a str],
    path: &str,
) -> Option<Vec<&'a str>> {
    let ours_gaps = gaps(base, ours)?;
    let theirs_gaps = gaps(base, theirs)?;
    let yaml = path.ends_with(".yml") || path.ends_with(".yaml");
    let mut merged = Vec::new();
    for (index, (mine, new)) in ours_gaps.iter().zip(&theirs_gaps).enumerate() {
        if yaml && same_key_differs(mine, new) {
            return None;
        }
        merged.extend(mine.iter().copied());
        merged.extend(new.iter().copied().filter(|l| !mine.contains(l)));
        if let Some(line) = base.get(index) {
            merged.push(*line);
        }
    }
    Some(merged)
}

/// Two YAML additions that set the same key at the same indentation to
/// different values: keeping both would make a duplicate key.
fn same_key_differs(ours: &[&str], theirs: &[&str]) -> bool {
    let key = |line: &str| {
        let trimmed = line.trim_start();
        let indent = line.len() - trimmed.len();
        let body = trimmed.strip_prefix("- ").unwrap_or(trimmed);
        let end = body.find([':', '='])?;
        let name = body[..end].trim().trim_matches(['"', '\'']);
        (!name.is_empty() && !name.contains(' ')).then(|| (indent, name.to_string()))
    };
    ours.iter().any(|o| {
        theirs
            .iter()
            .any(|t| o != t && key(o).is_some() && key(o) == key(t))
    })
}

/// The key of a line in a keyed file, None for a comment or a blank.
fn key(keys: Keys, line: &str) -> Option<String> {
    let trimmed = line.trim();
    if trimmed.is_empty() || trimmed.starts_with('#') {
        return None;
    }
    match keys {
        Keys::Requirement => {
            let end = trimmed
                .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
                .unwrap_or(trimmed.len());
            Some(trimmed[..end].to_ascii_lowercase().replace(['_', '.'], "-"))
        }
        Keys::Variable => {
            let body = trimmed.strip_prefix("export ").unwrap_or(trimmed);
            Some(body.split('=').next()?.trim().to_string())
        }
        Keys::Line | Keys::None => Some(trimmed.to_string()),
    }
}

/// A keyed block: every key the sides hold, each from the side that
/// changed it; comments and blanks as additions. None when one key was
/// changed on both sides differently.
fn by_key<'a>(
    keys: Keys,
    base: &[&'a str],
    ours: &[&'a str],
    theirs: &[&'a str],
) -> Option<Vec<&'a str>> {
    let find = |side: &[&'a str], k: &str| {
        side.iter()
            .copied()
            .find(|l| key(keys, l).as_deref() == Some(k))
    };
    let mut merged: Vec<&'a str> = Vec::new();
    let mut seen: Vec<String> = Vec::new();
    // The student's order, then what only tracelab has.
    for line in ours.iter().chain(theirs).copied() {
        let Some(k) = key(keys, line) else {
            if !merged.contains(&line) {
                merged.push(line);
            }
            continue;
        };
        if seen.contains(&k) {
            continue;
        }
        seen.push(k.clone());
        let (b, o, t) = (find(base, &k), find(ours, &k), find(theirs, &k));
        let chosen = match (b, o, t) {
            (_, o, t) if o == t => o,
            (b, o, t) if o == b => t,
            (b, o, t) if t == b => o,
            // Both changed it, differently (or one removed what the other changed).
            _ => return None,
        };
        merged.extend(chosen);
    }
    Some(merged)
}

/// A merged file still parses as what it is.
fn still_valid(path: &str, text: &str) -> bool {
    if path.ends_with(".yml") || path.ends_with(".yaml") {
        serde_yaml::from_str::<serde_yaml::Value>(text).is_ok()
    } else if path.ends_with(".json") {
        // devcontainer.json allows comments: only judged when plain JSON.
        serde_json::from_str::<serde_json::Value>(text).is_ok() || text.contains("//")
    } else if path.ends_with(".py") {
        ruff_python_parser::parse_module(text).is_ok()
    } else {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use diffy::{ConflictStyle, MergeOptions};

    fn merge(path: &str, base: &str, ours: &str, theirs: &str) -> Result<String, String> {
        match MergeOptions::new()
            .set_conflict_style(ConflictStyle::Diff3)
            .merge(base, ours, theirs)
        {
            Ok(text) => Ok(text),
            Err(marked) => resolve(path, &marked, [base, ours, theirs]).ok_or(marked),
        }
    }

    #[test]
    fn keys_added_at_the_end_of_one_block_on_both_sides_are_all_kept() {
        let base = "services:\n  backend:\n    environment:\n      A: \"1\"\n  db:\n    image: x\n";
        let ours = "services:\n  backend:\n    environment:\n      A: \"1\"\n      MINE: \"2\"\n  db:\n    image: x\n";
        let theirs = "services:\n  backend:\n    environment:\n      A: \"1\"\n      AWS_REGION: \"3\"\n      B: \"4\"\n  db:\n    image: x\n";
        let merged = merge("docker-compose.yml", base, ours, theirs).unwrap();
        assert_eq!(
            merged,
            "services:\n  backend:\n    environment:\n      A: \"1\"\n      MINE: \"2\"\n      AWS_REGION: \"3\"\n      B: \"4\"\n  db:\n    image: x\n"
        );
    }

    #[test]
    fn the_same_yaml_key_added_with_two_values_stays_a_conflict() {
        let base = "env:\n  A: 1\n";
        let merged = merge(
            "c.yml",
            base,
            "env:\n  A: 1\n  R: mine\n",
            "env:\n  A: 1\n  R: theirs\n",
        );
        assert!(merged.unwrap_err().contains("<<<<<<<"));
    }

    #[test]
    fn requirements_merge_by_package() {
        let base = "flask==3.1.3\nrequests==2.34.2\n";
        let ours = "flask==3.1.3\npsycopg[binary]\nrequests==2.34.2\n";
        let theirs = "flask==3.2.0\nrequests==2.34.2\naws-xray-sdk==2.15.0\n";
        let merged = merge("backend-flask/requirements.txt", base, ours, theirs).unwrap();
        assert_eq!(
            merged,
            "flask==3.2.0\npsycopg[binary]\nrequests==2.34.2\naws-xray-sdk==2.15.0\n"
        );
        let both = merge(
            "requirements.txt",
            base,
            "flask==3.0.0\nrequests==2.34.2\n",
            "flask==3.2.0\nrequests==2.34.2\n",
        );
        assert!(both.is_err(), "the same package changed on both sides");
    }

    #[test]
    fn an_env_example_keeps_every_variable() {
        let base = "HONEYCOMB_API_KEY=\n";
        let ours = "HONEYCOMB_API_KEY=\nDB_URL=\n";
        let theirs = "HONEYCOMB_API_KEY=\nAWS_REGION=\nROLLBAR_ACCESS_TOKEN=\n";
        let merged = merge(".env.example", base, ours, theirs).unwrap();
        assert_eq!(
            merged,
            "HONEYCOMB_API_KEY=\nDB_URL=\nAWS_REGION=\nROLLBAR_ACCESS_TOKEN=\n"
        );
    }

    #[test]
    fn python_additions_at_one_place_are_kept_when_the_module_still_parses() {
        let base = "import os\n\napp = 1\n";
        let ours = "import os\nimport json\n\napp = 1\n";
        let theirs = "import os\nimport rollbar\n\napp = 1\n";
        let merged = merge("app.py", base, ours, theirs).unwrap();
        assert_eq!(
            merged,
            "import os\nimport json\nimport rollbar\n\napp = 1\n"
        );
    }

    #[test]
    fn a_line_changed_on_both_sides_stays_a_conflict() {
        let merged = merge("app.py", "x = 1\n", "x = 2\n", "x = 3\n");
        assert!(merged.unwrap_err().contains("|||||||"));
    }
}
