//! A pattern behind its keywords, as secret scanners keep their rules
//! (gitleaks' `keywords`, trufflehog's detectors): the regex is compiled on
//! first need and run only on a text holding one of the words every match
//! must contain.
//!
//! Why: compiling the secret and redaction patterns took a third of an
//! offline `doctor` (`perf`: 0.1 to 0.8 ms each, for a run of 10 ms), and
//! a healthy workspace has no line any of them matches. A search for the
//! keywords costs microseconds: for one pattern's few words, memchr's
//! `memmem` on the text in lower case (building an Aho-Corasick automaton
//! for each pattern took longer than all its searches); for several
//! patterns over one file, one Aho-Corasick pass (`KeyedSet`).
//!
//! The keywords must be a necessary condition of a match: every match
//! contains one of them (ASCII case-insensitively), and, where `follows`
//! is given, what comes after that keyword passes it. The tests hold every
//! keyed pattern to that over a corpus (`assert_gate_holds`).

use std::borrow::Cow;
use std::sync::OnceLock;

use aho_corasick::{AhoCorasick, AhoCorasickKind};
use regex::{Captures, Regex, Replacer};

pub struct Keyed {
    source: &'static str,
    keywords: &'static [&'static str],
    /// What must follow one of the keywords for a match to be possible.
    follows: Option<fn(&str) -> bool>,
    regex: OnceLock<Regex>,
}

impl Keyed {
    pub const fn new(source: &'static str, keywords: &'static [&'static str]) -> Self {
        // Searched for in the text in lower case: checked when the static
        // is compiled.
        let mut k = 0;
        while k < keywords.len() {
            let bytes = keywords[k].as_bytes();
            let mut b = 0;
            while b < bytes.len() {
                assert!(
                    !bytes[b].is_ascii_uppercase(),
                    "a keyword must be in lower case"
                );
                b += 1;
            }
            k += 1;
        }
        Self {
            source,
            keywords,
            follows: None,
            regex: OnceLock::new(),
        }
    }

    /// Only a keyword whose rest of the text passes `follows` can start a
    /// match: for patterns whose keywords are common words (`key`).
    pub const fn followed_by(mut self, follows: fn(&str) -> bool) -> Self {
        self.follows = Some(follows);
        self
    }

    /// False when no match is possible; true says only "run the pattern".
    pub fn may_match(&self, text: &str) -> bool {
        // Lower case keeps every byte offset (only ASCII letters change),
        // so an offset found in it is one in `text`, on a char boundary.
        let lower = text.to_ascii_lowercase();
        self.keywords.iter().any(|keyword| {
            memchr::memmem::find_iter(lower.as_bytes(), keyword.as_bytes()).any(|at| {
                self.follows
                    .is_none_or(|follows| follows(&text[at + keyword.len()..]))
            })
        })
    }

    pub fn regex(&self) -> &Regex {
        self.regex
            .get_or_init(|| Regex::new(self.source).expect("a valid pattern"))
    }

    pub fn captures<'t>(&self, text: &'t str) -> Option<Captures<'t>> {
        if !self.may_match(text) {
            return None;
        }
        self.regex().captures(text)
    }

    pub fn captures_iter<'k, 't>(
        &'k self,
        text: &'t str,
    ) -> impl Iterator<Item = Captures<'t>> + use<'k, 't> {
        self.may_match(text)
            .then(|| self.regex().captures_iter(text))
            .into_iter()
            .flatten()
    }

    pub fn replace_all<'t>(&self, text: &'t str, replace: impl Replacer) -> Cow<'t, str> {
        if !self.may_match(text) {
            return Cow::Borrowed(text);
        }
        self.regex().replace_all(text, replace)
    }
}

/// Several keyed patterns, their keywords searched for in one pass: for a
/// file that each of them would otherwise scan. It says where each
/// member's keywords are; each member's own gate (`followed_by`) is left
/// to the line it is then run on.
pub struct KeyedSet {
    finder: AhoCorasick,
    /// The member each keyword belongs to, by the keyword's index.
    owner: Vec<usize>,
}

impl KeyedSet {
    pub fn new(members: impl IntoIterator<Item = &'static Keyed>) -> Self {
        let (keywords, owner): (Vec<&str>, Vec<usize>) = members
            .into_iter()
            .enumerate()
            .flat_map(|(index, keyed)| keyed.keywords.iter().map(move |k| (*k, index)))
            .unzip();
        // A DFA: a few dozen short keywords build at once, and one set is
        // searched over every file of a repository (the noncontiguous NFA
        // searched it several times slower).
        let finder = AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .kind(Some(AhoCorasickKind::DFA))
            .build(keywords)
            .expect("keywords build");
        Self { finder, owner }
    }

    /// Every keyword found in `text`: the member it belongs to (its index)
    /// and where it starts. A member with none cannot match the text.
    pub fn occurrences<'s, 't>(
        &'s self,
        text: &'t str,
    ) -> impl Iterator<Item = (usize, usize)> + use<'s, 't> {
        self.finder
            .find_overlapping_iter(text)
            .map(|found| (self.owner[found.pattern().as_usize()], found.start()))
    }
}

/// Every text `pattern` matches passes its gate.
#[cfg(test)]
pub fn assert_gate_holds<'a>(pattern: &Keyed, texts: impl IntoIterator<Item = &'a str>) {
    for text in texts {
        assert!(
            !pattern.regex().is_match(text) || pattern.may_match(text),
            "the keywords {:?} of `{}` reject a text it matches: {text:?}",
            pattern.keywords,
            pattern.source
        );
    }
}

/// Texts to hold the gates to: the templates, the README, and the real
/// repositories and student notes in `../shared` where they are beside
/// this clone (the gates are then held to every line of 46 repositories).
#[cfg(test)]
pub fn corpus() -> Vec<String> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut texts = Vec::new();
    for dir in [
        "templates",
        "README.md",
        "../shared/realrepos",
        "../shared/seeds",
    ] {
        collect(&root.join(dir), &mut texts);
    }
    texts
}

#[cfg(test)]
fn collect(path: &std::path::Path, texts: &mut Vec<String>) {
    if path.is_dir() {
        for entry in std::fs::read_dir(path).into_iter().flatten().flatten() {
            if entry.file_name() != "node_modules" && entry.file_name() != ".git" {
                collect(&entry.path(), texts);
            }
        }
    } else if let Ok(text) = std::fs::read_to_string(path) {
        texts.extend(text.lines().map(String::from));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    static ASSIGNED: Keyed =
        Keyed::new(r"(?i)token\w*\s*=\s*(\w+)", &["token"]).followed_by(|rest| {
            rest.trim_start_matches(|c: char| c == '_' || c.is_alphanumeric())
                .trim_start()
                .starts_with('=')
        });

    #[test]
    fn a_text_without_the_keyword_is_never_matched() {
        assert!(ASSIGNED.captures("no word here").is_none());
        assert!(!ASSIGNED.may_match("TOKEN is not set"));
        assert_eq!(&ASSIGNED.captures("ROLLBAR_TOKEN = abc").unwrap()[1], "abc");
        assert_eq!(ASSIGNED.replace_all("token_x= y", "_"), "_");
    }

    #[test]
    fn a_gate_that_rejects_a_match_is_caught() {
        static WRONG: Keyed = Keyed::new(r"secret=(\w+)", &["password"]);
        let caught = std::panic::catch_unwind(|| assert_gate_holds(&WRONG, ["secret=1"]));
        assert!(caught.is_err());
        assert_gate_holds(&ASSIGNED, ["token = 1", "Token_2=x", "no"]);
    }

    #[test]
    fn a_set_finds_every_keyword_of_its_members() {
        static SECRET: Keyed = Keyed::new(r"secret=(\w+)", &["secret", "pass"]);
        let set = KeyedSet::new([&ASSIGNED, &SECRET]);
        for text in [
            "token = 1",
            "secret=2 token",
            "TOKEN is",
            "none",
            "Secret token_x=3 PassPASS",
        ] {
            let mut found: Vec<(usize, usize)> = set.occurrences(text).collect();
            found.sort_unstable();
            let lower = text.to_ascii_lowercase();
            let mut expected: Vec<(usize, usize)> = [&ASSIGNED, &SECRET]
                .iter()
                .enumerate()
                .flat_map(|(member, keyed)| {
                    keyed.keywords.iter().flat_map({
                        let lower = &lower;
                        move |k| lower.match_indices(k).map(move |(at, _)| (member, at))
                    })
                })
                .collect();
            expected.sort_unstable();
            assert_eq!(found, expected, "{text}");
        }
    }
}
