//! One result of one check.

use serde::Serialize;

/// A finding's severity; each check declares those it may report.
pub use super::catalogue::{CheckId, Status};

pub use crate::workspace::layers::Layer;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    pub id: CheckId,
    pub status: Status,
    pub layer: Layer,
    pub variable: Option<String>,
    pub message: String,
    pub fix: Option<String>,
    /// What the fix is, for a script or `doctor --fix` to apply: a command
    /// to run in the student's shell, or one exact edit to a file. None:
    /// the fix is advice for a person.
    pub apply: Option<Apply>,
    /// Which section of the report it belongs to: its check's group, with
    /// the compose file's name for a variant configuration.
    #[serde(skip)]
    pub group: &'static str,
    /// `doctor --deep` saw it happen: the static claim, proved by the run.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub confirmed: bool,
}

impl Finding {
    pub fn new(id: CheckId, status: Status, layer: Layer, message: impl Into<String>) -> Self {
        debug_assert!(
            id.allows(status),
            "{id} reports {status:?}, which doctor/catalogue.rs does not declare for it"
        );
        Finding {
            id,
            status,
            layer,
            variable: None,
            message: crate::redact::text(&message.into()).into_owned(),
            fix: None,
            apply: None,
            group: id.group().title(),
            confirmed: false,
        }
    }

    pub fn ok(id: CheckId, layer: Layer, message: impl Into<String>) -> Self {
        Self::new(id, Status::Ok, layer, message)
    }

    pub fn info(id: CheckId, layer: Layer, message: impl Into<String>) -> Self {
        Self::new(id, Status::Info, layer, message)
    }

    pub fn warn(id: CheckId, layer: Layer, message: impl Into<String>) -> Self {
        Self::new(id, Status::Warn, layer, message)
    }

    pub fn fail(id: CheckId, layer: Layer, message: impl Into<String>) -> Self {
        Self::new(id, Status::Fail, layer, message)
    }

    pub fn skip(id: CheckId, layer: Layer, message: impl Into<String>) -> Self {
        Self::new(id, Status::Skip, layer, message)
    }

    /// Raised to what a run proved (`doctor --deep`): at most the gravest
    /// status its check may report, so the catalogue stays the promise.
    pub fn raise_to(&mut self, status: Status) {
        if let Some(allowed) = self
            .id
            .statuses()
            .iter()
            .map(|r| r.status)
            .filter(|s| *s <= status && *s > self.status && *s != Status::Skip)
            .max()
        {
            self.status = allowed;
        }
    }

    pub fn var(mut self, name: &str) -> Self {
        self.variable = Some(name.to_string());
        self
    }

    /// Advice for a person: what to change, where.
    pub fn fix(mut self, advice: impl Into<String>) -> Self {
        self.fix = Some(crate::redact::text(&advice.into()).into_owned());
        self
    }

    /// The same finding with no fix a program makes: its advice stays for a
    /// person.
    pub fn without_apply(mut self) -> Self {
        self.apply = None;
        self
    }

    /// A command the student pastes into the shell the doctor ran in (one
    /// or more lines, run in order), from the workspace's folder.
    pub fn command(mut self, command: impl Into<String>) -> Self {
        let command = crate::redact::text(&command.into()).into_owned();
        self.apply = Some(Apply::Command {
            command: command.clone(),
        });
        self.fix = Some(command);
        self
    }

    /// Replace line `line` of `file`, which reads `old`, with `new` (several
    /// lines, or none to delete it). Shown as `FILE:LINE: new`.
    pub fn edit(mut self, edit: Edit) -> Self {
        // A line that holds a secret is never put into the report whole:
        // such a fix stays advice, with the secret as its fingerprint.
        let holds_secret = |text: &str| crate::redact::text(text) != text;
        let shown = match edit.new.as_str() {
            "" => format!(
                "{}:{}: delete the line `{}`",
                edit.file,
                edit.line,
                edit.old.trim()
            ),
            new if edit.old.is_empty() => {
                format!("{}:{}: insert `{}`", edit.file, edit.line, new.trim())
            }
            new => format!("{}:{}: {}", edit.file, edit.line, new.trim()),
        };
        self.fix = Some(crate::redact::text(&shown).into_owned());
        if !holds_secret(&edit.old) && !holds_secret(&edit.new) {
            self.apply = Some(Apply::Edit(edit));
        }
        self
    }

    /// Where in the workspace at `dir` the finding points: the first
    /// `FILE:LINE` its message names (the form every check writes a place
    /// in) that is a file there, else the line its edit changes, else one
    /// its fix names. None: it is about the shell, the network or the
    /// workspace as a whole.
    pub fn location(&self, dir: &std::path::Path) -> Option<Location> {
        let in_text =
            |text: &str| Location::all_in(text).find(|place| dir.join(&place.file).is_file());
        let edit = match &self.apply {
            Some(Apply::Edit(edit)) => Some(edit),
            Some(Apply::Edits { edits }) => edits.first(),
            _ => None,
        };
        in_text(&self.message)
            .or_else(|| {
                edit.map(|edit| Location {
                    file: edit.file.trim_start_matches("./").to_string(),
                    line: edit.line.max(1),
                })
            })
            .or_else(|| in_text(self.fix.as_deref()?))
    }

    /// The edit when there is one, else the advice for a person: what a
    /// fix that a program can make only where the file allows it gives.
    pub fn edit_or(self, edit: Option<Edit>, advice: impl Into<String>) -> Self {
        match edit {
            Some(edit) => self.edit(edit),
            None => self.fix(advice),
        }
    }

    /// Several edits that together are one fix (made bottom-up, so each
    /// line number is the one the doctor read), with the advice that
    /// describes them.
    pub fn edits(mut self, edits: Vec<Edit>, advice: impl Into<String>) -> Self {
        self.fix = Some(crate::redact::text(&advice.into()).into_owned());
        let clean = edits
            .iter()
            .all(|e| crate::redact::text(&e.old) == e.old && crate::redact::text(&e.new) == e.new);
        if clean && !edits.is_empty() {
            self.apply = Some(Apply::Edits { edits });
        }
        self
    }
}

/// A line of a file in the workspace, as CI annotations and SARIF name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// Relative to the workspace, with `/` between folders.
    pub file: String,
    pub line: usize,
}

impl Location {
    /// Every `path/to/file.ext:LINE` (or a Dockerfile's) in `text`: a host
    /// and port read the same, so the caller keeps those that are files.
    ///
    /// Read by a scanner, not a regular expression: compiling the pattern
    /// was 3% of a doctor run on the largest real repository, whose
    /// findings repeat. The pattern (`PLACE`, compiled only in the tests)
    /// is the scanner's oracle there.
    pub fn all_in(text: &str) -> impl Iterator<Item = Location> + '_ {
        memchr::memchr_iter(b':', text.as_bytes()).filter_map(move |colon| place_at(text, colon))
    }
}

/// What the scanner reads, as a pattern: a file after the start of the
/// text, a space, `(`, a backtick or a quote; a line up to a word's end.
#[cfg(test)]
const PLACE: &str = r"(?:^|[\s(`'\x22])((?:[A-Za-z0-9_.-]+/)*(?:[A-Za-z0-9_-][A-Za-z0-9_.-]*\.[A-Za-z0-9]+|Dockerfile[A-Za-z0-9_.-]*|\.[A-Za-z0-9_.-]+)):([0-9]+)(?-u:\b)";

/// The place whose `FILE:LINE` has its colon at `colon`, if there is one.
fn place_at(text: &str, colon: usize) -> Option<Location> {
    let bytes = text.as_bytes();
    let digits = digits_at(bytes, colon + 1);
    let end = colon + 1 + digits;
    if digits == 0 || bytes.get(end).is_some_and(is_word_byte) {
        return None;
    }
    let start = bytes[..colon]
        .iter()
        .rposition(|b| !is_path_byte(b))
        .map_or(0, |at| at + 1);
    // The byte before `start` ends a character: `start` is a boundary.
    let opened = text[..start]
        .chars()
        .next_back()
        .is_none_or(|c| c.is_whitespace() || matches!(c, '(' | '`' | '\'' | '"'));
    let file = &text[start..colon];
    if !opened || !is_file_path(file) {
        return None;
    }
    let line: usize = text[colon + 1..end].parse().ok()?;
    let file = file.trim_start_matches("./");
    (line > 0 && !file.starts_with("..")).then(|| Location {
        file: file.to_string(),
        line,
    })
}

/// Folders, each named, then a file with an extension, a Dockerfile, or a
/// dotfile: `path` holds only `[A-Za-z0-9_.-/]`.
fn is_file_path(path: &str) -> bool {
    let (folders, name) = path.rsplit_once('/').unwrap_or(("", path));
    let folders_named = (folders.is_empty() && !path.starts_with('/'))
        || folders.split('/').all(|folder| !folder.is_empty());
    let with_extension = !name.starts_with('.') && has_extension(name.as_bytes());
    let dotfile = name.len() > 1 && name.starts_with('.');
    folders_named && (with_extension || name.starts_with("Dockerfile") || dotfile)
}

/// `text` with every place in it (`path/file.ext:LINE`, `line N`, `lines
/// N`) made `_`: the shape two findings share when they are the same
/// mistake in two places. Read by a scanner, as [`Location::all_in`] is;
/// `SHAPE_PLACE`, the pattern it reads, is its oracle in the tests.
pub fn without_places(text: &str) -> String {
    let mut shaped = String::with_capacity(text.len());
    let (mut copied, mut from) = (0, 0);
    while let Some((start, end)) = [file_line_from(text, from), line_words_from(text, from)]
        .into_iter()
        .flatten()
        .min_by_key(|(start, _)| *start)
    {
        shaped.push_str(&text[copied..start]);
        shaped.push('_');
        (copied, from) = (end, end);
    }
    shaped.push_str(&text[copied..]);
    shaped
}

/// What [`without_places`] reads, as a pattern: a search for it goes on
/// where the last place ended, as the scanner's does.
#[cfg(test)]
const SHAPE_PLACE: &str =
    r"(?:[A-Za-z0-9_.-]+/)*[A-Za-z0-9_.-]+\.[A-Za-z0-9]+:[0-9]+|(?-u:\b)lines? [0-9]+";

/// The first `FILE:LINE` that starts at or after `from`, as a span: a file
/// (its folders each named, its name with an extension), a colon, digits.
fn file_line_from(text: &str, from: usize) -> Option<(usize, usize)> {
    let bytes = text.as_bytes();
    memchr::memchr_iter(b':', &bytes[from..])
        .map(|at| from + at)
        .find_map(|colon| {
            let digits = digits_at(bytes, colon + 1);
            let run = bytes[from..colon]
                .iter()
                .rposition(|b| !is_path_byte(b))
                .map_or(from, |at| from + at + 1);
            // The earliest start: after the last empty folder (`//`), and
            // not on a `/`.
            let mut start = bytes[run..colon]
                .windows(2)
                .rposition(|pair| pair == b"//")
                .map_or(run, |at| run + at + 2);
            if bytes.get(start) == Some(&b'/') {
                start += 1;
            }
            let name = &bytes[start..colon];
            let name = &name[name.iter().rposition(|b| *b == b'/').map_or(0, |at| at + 1)..];
            (digits > 0 && has_extension(name)).then_some((start, colon + 1 + digits))
        })
}

/// The first `line N` or `lines N` that starts a word at or after `from`.
fn line_words_from(text: &str, from: usize) -> Option<(usize, usize)> {
    let bytes = text.as_bytes();
    memchr::memmem::find_iter(&bytes[from..], b"line")
        .map(|at| from + at)
        .find_map(|start| {
            let word_before = start > 0 && is_word_byte(&bytes[start - 1]);
            let mut at = start + "line".len();
            if bytes.get(at) == Some(&b's') {
                at += 1;
            }
            if word_before || bytes.get(at) != Some(&b' ') {
                return None;
            }
            let digits = digits_at(bytes, at + 1);
            (digits > 0).then_some((start, at + 1 + digits))
        })
}

/// How many ASCII digits run from `at`.
fn digits_at(bytes: &[u8], at: usize) -> usize {
    bytes[at..]
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .count()
}

/// A byte that goes on a word (`\b` in ASCII).
fn is_word_byte(b: &u8) -> bool {
    b.is_ascii_alphanumeric() || *b == b'_'
}

/// A byte a path is written with: `[A-Za-z0-9_.-/]`.
fn is_path_byte(b: &u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-' | b'/')
}

/// A file name with an extension: a dot after its first byte, then one or
/// more ASCII letters or digits to the end.
fn has_extension(name: &[u8]) -> bool {
    name.iter().rposition(|b| *b == b'.').is_some_and(|dot| {
        dot > 0 && name.len() > dot + 1 && name[dot + 1..].iter().all(u8::is_ascii_alphanumeric)
    })
}

/// A fix a program can make.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "lowercase", tag = "kind")]
pub enum Apply {
    /// Shell lines, run in order in the workspace's folder.
    Command {
        command: String,
    },
    Edit(Edit),
    /// One fix in several places of one file.
    Edits {
        edits: Vec<Edit>,
    },
}

/// One line of a file replaced: `old` is the line as the doctor read it
/// (an edit whose line changed since is refused), `new` what replaces it
/// (several lines, or empty to delete it). An empty `old` inserts `new`
/// before line `line`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Edit {
    /// The file as the doctor opened it (relative to where it ran).
    pub file: String,
    pub line: usize,
    pub old: String,
    pub new: String,
}

impl Edit {
    /// The leading whitespace of the line as it reads now: what a
    /// replacement or an insertion beside it keeps.
    pub fn indent(&self) -> &str {
        &self.old[..self.old.len() - self.old.trim_start().len()]
    }

    /// Line `line` of `path` (as it reads now) replaced by `new`; None when
    /// the file has no such line.
    pub fn replace(path: &std::path::Path, line: usize, new: impl Into<String>) -> Option<Edit> {
        let text = crate::workspace::read::text(path).ok()?;
        let old = text.lines().nth(line.checked_sub(1)?)?.to_string();
        Some(Edit {
            file: path.display().to_string(),
            line,
            old,
            new: new.into(),
        })
    }

    /// Line `line` of `path` with `from`, which it holds exactly once,
    /// written as `to`: a name renamed where it stands. None when the line
    /// holds it twice or not at all (which one is meant is not known).
    pub fn rename(path: &std::path::Path, line: usize, from: &str, to: &str) -> Option<Edit> {
        let edit = Edit::replace(path, line, "")?;
        let [_] = edit.old.match_indices(from).collect::<Vec<_>>()[..] else {
            return None;
        };
        let new = edit.old.replacen(from, to, 1);
        Some(Edit { new, ..edit })
    }

    /// The commented-out line `line` of `path` as code again, at the
    /// comment's indentation: `    # f()` becomes `    f()`. None when the
    /// line is no comment.
    pub fn uncomment(path: &std::path::Path, line: usize) -> Option<Edit> {
        let edit = Edit::replace(path, line, "")?;
        let code = edit.old.trim_start().strip_prefix('#')?.trim();
        let new = format!("{}{code}", edit.indent());
        Some(Edit { new, ..edit })
    }

    /// Line `line` of `path` with `callee`, named there once and not
    /// called, made a call: `now.isoformat` becomes `now.isoformat()`.
    pub fn call(path: &std::path::Path, line: usize, callee: &str) -> Option<Edit> {
        let edit = Edit::replace(path, line, "")?;
        let uses: Vec<usize> = edit.old.match_indices(callee).map(|(i, _)| i).collect();
        let [at] = uses.as_slice() else {
            return None;
        };
        let end = at + callee.len();
        let next = edit.old[end..].chars().next();
        if next.is_some_and(|c| c == '(' || c.is_alphanumeric() || c == '_') {
            return None;
        }
        let new = format!("{}(){}", &edit.old[..end], &edit.old[end..]);
        Some(Edit { new, ..edit })
    }

    /// The leading whitespace of line `line` of `path` (empty when the file
    /// has no such line).
    pub fn indent_of(path: &std::path::Path, line: usize) -> String {
        Edit::replace(path, line, "")
            .map(|e| e.indent().to_string())
            .unwrap_or_default()
    }

    /// `new` inserted before line `line` of `path`.
    pub fn insert(path: &std::path::Path, line: usize, new: impl Into<String>) -> Edit {
        Edit {
            file: path.display().to_string(),
            line,
            old: String::new(),
            new: new.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The places the pattern reads, as `all_in` read them before the
    /// scanner: the scanner's oracle.
    fn by_pattern(text: &str) -> Vec<Location> {
        static ORACLE: std::sync::LazyLock<regex::Regex> =
            std::sync::LazyLock::new(|| regex::Regex::new(PLACE).expect("a valid pattern"));
        ORACLE
            .captures_iter(text)
            .filter_map(|found| {
                let line: usize = found[2].parse().ok()?;
                let file = found[1].trim_start_matches("./");
                (line > 0 && !file.starts_with("..")).then(|| Location {
                    file: file.to_string(),
                    line,
                })
            })
            .collect()
    }

    fn agrees(text: &str) {
        assert_eq!(
            Location::all_in(text).collect::<Vec<_>>(),
            by_pattern(text),
            "{text:?}"
        );
    }

    /// Places blanked as the pattern blanks them (`replace_all`).
    fn shapes_agree(text: &str) {
        static ORACLE: std::sync::LazyLock<regex::Regex> =
            std::sync::LazyLock::new(|| regex::Regex::new(SHAPE_PLACE).expect("a valid pattern"));
        assert_eq!(
            without_places(text),
            ORACLE.replace_all(text, "_"),
            "{text:?}"
        );
    }

    /// Every line of the templates, the README and `../shared` (where it
    /// is beside this clone), then `edges`.
    fn corpus_and(edges: &[&str]) -> Vec<String> {
        let mut texts = crate::keyed::corpus();
        texts.extend(edges.iter().map(|edge| edge.to_string()));
        texts
    }

    #[test]
    fn a_message_is_shaped_as_the_pattern_shapes_it() {
        let edges = [
            "backend-flask/app.py:12: import fails at line 3, lines 4 and 5",
            "x:a.py:3 /abs/b.py:4 a//b.py:5 a///b.py:6 dir/:7 .a:8 a.:9 a.b-c:1",
            "lines 12.py:3 outline 4 line 5a lines6 line  7 Line 8 _line 9 éline 1",
            "a.py:1:2 a.py:12abc v1.2.3:4 .py:5 x/.py:6 12.py:7",
        ];
        corpus_and(&edges)
            .iter()
            .for_each(|text| shapes_agree(text));
    }

    /// The corpus, and the shapes the checks write.
    #[test]
    fn the_scanner_reads_every_place_the_pattern_reads() {
        let edges = [
            "backend-flask/app.py:12: import fails",
            "./backend-flask/app.py:3 and (docker-compose.yml:7)",
            "`Dockerfile:2` 'Dockerfile.prod:9' \".env:1\" .gitpod.yml:0",
            "localhost:4318 api.honeycomb.io:443 x.py:12a x.py:3_ x.py:4é",
            "/abs/app.py:3 a//b.py:4 ../up.py:5 dir/:6 .a:7 a.:8 .:9 a.b-c:1",
            "a.py:1:2 a.py:1.py:2 (a.py:1)b.py:2 \u{a0}c.py:3 é.py:4 ü d.py:5",
            ":1 ::2 a.py: b.py:99999999999999999999999",
        ];
        corpus_and(&edges).iter().for_each(|text| agrees(text));
    }

    /// Texts made of the pieces a place is made of (what may come before
    /// one, files and near-files, lines and near-lines), in any order.
    fn texts() -> impl Strategy<Value = String> {
        const PIECES: &[&str] = &[
            " ",
            "(",
            "`",
            "'",
            "\"",
            "é",
            "\u{a0}",
            "\n",
            "x",
            "-",
            ".",
            "/",
            "app.py",
            "backend-flask/app.py",
            "./a/.env",
            "Dockerfile.prod",
            "../x.py",
            "/abs.py",
            "a//b.py",
            "dir/",
            "a.",
            ".a",
            "a.b-c",
            "v1.2_",
            "Dockerfile",
            ":1",
            ":0",
            ":12a",
            ":3_",
            ":",
            ":45é",
            "::7",
        ];
        prop::collection::vec(prop::sample::select(PIECES), 0..12).prop_map(|p| p.concat())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        #[test]
        fn the_scanner_and_the_pattern_agree_on_any_text(text in texts()) {
            agrees(&text);
            shapes_agree(&text);
        }
    }
}
