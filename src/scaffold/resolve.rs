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

/// The text with every block resolved that can be, and whether all were
/// (then it is also checked to parse as what it is). Blocks that cannot be
/// resolved keep their markers.
pub fn resolve(path: &str, marked: &str, sides: [&str; 3]) -> (String, bool) {
    // Markers already in a side would be read as the merge's own.
    let has_markers = |text: &str| {
        text.lines()
            .any(|l| [OURS, BASE, SPLIT, THEIRS].iter().any(|m| l.starts_with(m)))
    };
    if sides.iter().any(|s| has_markers(s)) {
        return (marked.to_string(), false);
    }
    let keys = keys_of(path);
    let mut out: Vec<&str> = Vec::new();
    let mut all = true;
    let mut lines = marked.lines();
    while let Some(line) = lines.next() {
        if !line.starts_with(OURS) {
            out.push(line);
            continue;
        }
        let Some(block) = Block::take(line, &mut lines) else {
            return (marked.to_string(), false);
        };
        let (base, ours, theirs) = (&block.base, &block.ours, &block.theirs);
        let resolved = match keys {
            Keys::None => additions(base, ours, theirs, path)
                .or_else(|| added_beside_a_change(base, ours, theirs))
                .or_else(|| added_beside_a_change(base, theirs, ours)),
            keyed => by_key(keyed, base, ours, theirs),
        };
        match resolved {
            Some(resolved) => out.extend(resolved),
            None => {
                all = false;
                out.extend(block.marked());
            }
        }
    }
    let mut text = out.join("\n");
    if marked.ends_with('\n') {
        text.push('\n');
    }
    let all = all && still_valid(path, &text);
    (text, all)
}

/// One conflict as diff3 marks it.
struct Block<'a> {
    markers: [&'a str; 4],
    ours: Vec<&'a str>,
    base: Vec<&'a str>,
    theirs: Vec<&'a str>,
}

impl<'a> Block<'a> {
    fn take(start: &'a str, lines: &mut std::str::Lines<'a>) -> Option<Self> {
        let (ours, base_marker) = take_until(lines, BASE)?;
        let (base, split) = take_until(lines, SPLIT)?;
        let (theirs, end) = take_until(lines, THEIRS)?;
        Some(Block {
            markers: [start, base_marker, split, end],
            ours,
            base,
            theirs,
        })
    }

    fn marked(&self) -> Vec<&'a str> {
        let [start, base, split, end] = self.markers;
        let mut lines = vec![start];
        lines.extend(&self.ours);
        lines.push(base);
        lines.extend(&self.base);
        lines.push(split);
        lines.extend(&self.theirs);
        lines.push(end);
        lines
    }
}

/// The lines before the next line that starts with `marker`, and that line.
fn take_until<'a>(
    lines: &mut std::str::Lines<'a>,
    marker: &str,
) -> Option<(Vec<&'a str>, &'a str)> {
    let mut taken = Vec::new();
    for line in lines.by_ref() {
        if line.starts_with(marker) {
            return Some((taken, line));
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
/// gap. In YAML, additions are merged as the trees their indentation
/// makes (a key both added with the same children merges them, a list item
/// both added is kept once); elsewhere a line both added is kept once.
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
        if yaml && !mine.is_empty() && !new.is_empty() {
            let tree = merge_nodes(parse(mine), parse(new))?;
            flatten(&tree, &mut merged);
        } else {
            merged.extend(mine.iter().copied());
            merged.extend(new.iter().copied().filter(|l| !mine.contains(l)));
        }
        if let Some(line) = base.get(index) {
            merged.push(*line);
        }
    }
    Some(merged)
}

/// One side (`adder`) only added lines; the other (`changer`) changed or
/// removed some of the shared ones: the changed text, with each addition
/// where its neighbours went (before the base line it preceded, or where
/// that line's replacement ends). A line both have is kept once.
fn added_beside_a_change<'a>(
    base: &[&'a str],
    adder: &[&'a str],
    changer: &[&'a str],
) -> Option<Vec<&'a str>> {
    let added = gaps(base, adder)?;
    // Both only added: `additions` has judged that.
    if gaps(base, changer).is_some() {
        return None;
    }
    let matched = align(base, changer);
    // Where each gap's lines go in `changer`: before the next base line
    // that survived, else at the end.
    let mut inserts: Vec<(usize, &'a str)> = Vec::new();
    for (k, lines) in added.iter().enumerate() {
        let at = matched[k..]
            .iter()
            .find_map(|m| *m)
            .unwrap_or(changer.len());
        inserts.extend(
            lines
                .iter()
                .filter(|l| !changer.contains(l))
                .map(|l| (at, *l)),
        );
    }
    let mut merged = Vec::new();
    let mut next = inserts.iter().peekable();
    for (index, line) in changer.iter().enumerate() {
        while let Some((_, added)) = next.next_if(|(at, _)| *at == index) {
            merged.push(*added);
        }
        merged.push(*line);
    }
    merged.extend(next.map(|(_, added)| *added));
    Some(merged)
}

/// For each base line, its position in `side` along a longest common
/// subsequence (None: changed or removed there).
fn align(base: &[&str], side: &[&str]) -> Vec<Option<usize>> {
    let (n, m) = (base.len(), side.len());
    let mut table = vec![vec![0u32; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            table[i][j] = if base[i] == side[j] {
                table[i + 1][j + 1] + 1
            } else {
                table[i + 1][j].max(table[i][j + 1])
            };
        }
    }
    let mut matched = vec![None; n];
    let (mut i, mut j) = (0, 0);
    while i < n && j < m {
        if base[i] == side[j] {
            matched[i] = Some(j);
            i += 1;
            j += 1;
        } else if table[i + 1][j] >= table[i][j + 1] {
            i += 1;
        } else {
            j += 1;
        }
    }
    matched
}

/// A YAML line and what is indented under it, with the blank and comment
/// lines before it.
#[derive(Debug, Clone, PartialEq)]
struct Node<'a> {
    prefix: Vec<&'a str>,
    head: &'a str,
    children: Vec<Node<'a>>,
    /// Blank or comment lines after the last child.
    trailing: Vec<&'a str>,
}

fn indent(line: &str) -> usize {
    line.len() - line.trim_start().len()
}

fn is_filler(line: &str) -> bool {
    let trimmed = line.trim_start();
    trimmed.is_empty() || trimmed.starts_with('#')
}

/// The lines as a forest by indentation; the last node takes any blank or
/// comment lines at the end.
fn parse<'a>(lines: &[&'a str]) -> Vec<Node<'a>> {
    let mut nodes: Vec<Node<'a>> = Vec::new();
    let mut i = 0;
    let mut prefix = Vec::new();
    while i < lines.len() {
        if is_filler(lines[i]) {
            prefix.push(lines[i]);
            i += 1;
            continue;
        }
        let head = lines[i];
        let depth = indent(head);
        // Its children: what follows, deeper, up to its last deeper line.
        let mut end = i + 1;
        let mut last_deeper = i;
        while end < lines.len() && (is_filler(lines[end]) || indent(lines[end]) > depth) {
            if !is_filler(lines[end]) {
                last_deeper = end;
            }
            end += 1;
        }
        nodes.push(Node {
            prefix: std::mem::take(&mut prefix),
            head,
            children: parse(&lines[i + 1..=last_deeper]),
            trailing: Vec::new(),
        });
        i = last_deeper + 1;
    }
    if let Some(last) = nodes.last_mut() {
        last.trailing = prefix;
    }
    nodes
}

fn flatten<'a>(nodes: &[Node<'a>], out: &mut Vec<&'a str>) {
    for node in nodes {
        out.extend(&node.prefix);
        out.push(node.head);
        flatten(&node.children, out);
        out.extend(&node.trailing);
    }
}

/// What identifies a node among its siblings: its indentation and key
/// (`environment:` by `environment`), or a list item by its whole first
/// line (`- name: "postgres"`, `- "5432:5432"`).
fn node_key(head: &str) -> (usize, String) {
    let trimmed = head.trim();
    let key = if trimmed.starts_with('-') {
        trimmed.to_string()
    } else {
        match trimmed.find(':') {
            Some(end) => trimmed[..end].trim().trim_matches(['"', '\'']).to_string(),
            None => trimmed.to_string(),
        }
    };
    (indent(head), key)
}

fn same_text(a: &Node, b: &Node) -> bool {
    let meaningful = |node: &Node| {
        let mut lines = Vec::new();
        flatten(std::slice::from_ref(node), &mut lines);
        lines
            .into_iter()
            .filter(|l| !is_filler(l))
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    meaningful(a) == meaningful(b)
}

/// Ours, with what only theirs has put where it belongs: a node of theirs
/// goes before the first of ours that is less indented (so a key for the
/// block above is not put under a new sibling of it). The same key on both
/// sides: once if the same, its children merged if the line is the same,
/// else a conflict.
fn merge_nodes<'a>(ours: Vec<Node<'a>>, theirs: Vec<Node<'a>>) -> Option<Vec<Node<'a>>> {
    let mut merged = ours;
    for node in theirs {
        let key = node_key(node.head);
        if let Some(mine) = merged.iter_mut().find(|m| node_key(m.head) == key) {
            if same_text(mine, &node) {
                continue;
            }
            let mergeable = mine.head.trim() == node.head.trim()
                && !mine.children.is_empty()
                && !node.children.is_empty();
            if !mergeable {
                return None;
            }
            let children = std::mem::take(&mut mine.children);
            mine.children = merge_nodes(children, node.children)?;
            continue;
        }
        let depth = indent(node.head);
        let at = merged
            .iter()
            .position(|m| indent(m.head) < depth)
            .unwrap_or(merged.len());
        merged.insert(at, node);
    }
    Some(merged)
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
            Err(marked) => match resolve(path, &marked, [base, ours, theirs]) {
                (text, true) => Ok(text),
                (text, false) => Err(text),
            },
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
    fn a_line_added_beside_a_line_the_other_side_changed_is_kept() {
        let base = "    ports:\n      - \"4567:4567\"\n    volumes: []\n";
        let ours = "    ports:\n      - \"4567:4567\"\n      - \"5678:5678\"\n    volumes: []\n";
        let theirs = "    ports:\n      - \"5000:5000\"\n    volumes: []\n";
        let merged = merge("docker-compose.yml", base, ours, theirs).unwrap();
        assert_eq!(
            merged,
            "    ports:\n      - \"5000:5000\"\n      - \"5678:5678\"\n    volumes: []\n"
        );
    }

    #[test]
    fn a_line_changed_on_both_sides_stays_a_conflict() {
        let merged = merge("app.py", "x = 1\n", "x = 2\n", "x = 3\n");
        assert!(merged.unwrap_err().contains("|||||||"));
    }
}
