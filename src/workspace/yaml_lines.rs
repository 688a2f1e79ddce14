//! Where each key of a YAML file is, so a finding can say `file:line`.
//!
//! serde_yaml gives values without positions; yaml-rust2's marked events
//! give positions without values. This walks the events once and records
//! the line of every mapping key and sequence item by its dotted path
//! (`services.xray-daemon.command`, `services.backend.environment.KEY`).
//! An `environment:` list entry `- KEY=value` is also recorded under its
//! KEY, as Compose reads it.

use std::collections::HashMap;
use std::sync::OnceLock;

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::Marker;

/// The index is built on the first question: most runs ask none (a line
/// is wanted for a finding), and indexing `.gitpod.yml` was a tenth of an
/// offline doctor on a healthy workspace.
#[derive(Debug, Default, Clone)]
pub struct YamlLines {
    text: String,
    lines: OnceLock<HashMap<String, usize>>,
}

enum Frame {
    Map { key: Option<String> },
    Seq { index: usize },
}

#[derive(Default)]
struct Recorder {
    stack: Vec<Frame>,
    /// The path of the node being read: one entry per open frame.
    path: Vec<String>,
    lines: HashMap<String, usize>,
}

impl Recorder {
    fn record(&mut self, component: &str, line: usize) {
        let mut path = self.path.join(".");
        if !path.is_empty() {
            path.push('.');
        }
        path.push_str(component);
        self.lines.entry(path).or_insert(line);
    }

    /// A node (scalar or collection) starts at `line`: where in its parent is it?
    /// Returns the path component it is reached by, if it is a value.
    fn node_start(&mut self, line: usize, scalar: Option<&str>) -> Option<String> {
        match self.stack.last_mut() {
            Some(Frame::Map { key }) => match key.take() {
                None => {
                    // A key: remember it and its line.
                    let name = scalar.unwrap_or("?").to_string();
                    self.record(&name, line);
                    if let Some(Frame::Map { key }) = self.stack.last_mut() {
                        *key = Some(name);
                    }
                    None
                }
                Some(name) => Some(name),
            },
            Some(Frame::Seq { index }) => {
                let component = index.to_string();
                *index += 1;
                self.record(&component, line);
                if let Some((name, _)) = scalar.and_then(|s| s.split_once('=')) {
                    let name = name.trim().to_string();
                    self.record(&name, line);
                }
                Some(component)
            }
            None => Some(String::new()),
        }
    }

    fn open(&mut self, frame: Frame, line: usize) {
        let component = self.node_start(line, None).unwrap_or_default();
        self.path.push(component);
        self.stack.push(frame);
    }

    fn close(&mut self) {
        self.stack.pop();
        self.path.pop();
    }
}

impl MarkedEventReceiver for Recorder {
    fn on_event(&mut self, event: Event, mark: Marker) {
        let line = mark.line();
        match event {
            Event::Scalar(value, ..) => {
                self.node_start(line, Some(&value));
            }
            Event::Alias(_) => {
                self.node_start(line, None);
            }
            Event::MappingStart(..) => self.open(Frame::Map { key: None }, line),
            Event::SequenceStart(..) => self.open(Frame::Seq { index: 0 }, line),
            Event::MappingEnd | Event::SequenceEnd => self.close(),
            _ => {}
        }
    }
}

impl YamlLines {
    /// The index of `text`, built when first asked; a file that does not
    /// parse gives an empty index (the YAML error itself is reported by
    /// whoever parses the values).
    pub fn index(text: &str) -> Self {
        YamlLines {
            text: text.to_string(),
            lines: OnceLock::new(),
        }
    }

    fn lines(&self) -> &HashMap<String, usize> {
        self.lines.get_or_init(|| {
            let mut recorder = Recorder::default();
            let _ = Parser::new_from_str(&self.text).load(&mut recorder, false);
            // The root mapping adds an empty first component: drop it.
            recorder
                .lines
                .into_iter()
                .map(|(k, v)| (k.trim_start_matches('.').to_string(), v))
                .collect()
        })
    }

    /// The line of `path` (dotted), if the file has it.
    pub fn line(&self, path: &str) -> Option<usize> {
        self.lines().get(path).copied()
    }

    /// The line of the first path that exists, for "this key, or else its parent".
    pub fn first(&self, paths: &[&str]) -> Option<usize> {
        paths.iter().find_map(|p| self.line(p))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_list_items_and_env_entries_have_their_lines() {
        let text = "services:\n  backend:\n    environment:\n      A: \"1\"\n      B: x\n  daemon:\n    command:\n      - \"-o\"\n      - \"-n\"\n    environment:\n      - AWS_REGION=us-east-1\n";
        let lines = YamlLines::index(text);
        assert_eq!(lines.line("services"), Some(1));
        assert_eq!(lines.line("services.backend"), Some(2));
        assert_eq!(lines.line("services.backend.environment.A"), Some(4));
        assert_eq!(lines.line("services.backend.environment.B"), Some(5));
        assert_eq!(lines.line("services.daemon.command"), Some(7));
        assert_eq!(lines.line("services.daemon.command.1"), Some(9));
        assert_eq!(
            lines.line("services.daemon.environment.AWS_REGION"),
            Some(11)
        );
        assert_eq!(lines.line("services.nope"), None);
    }

    #[test]
    fn broken_yaml_gives_an_empty_index() {
        assert_eq!(YamlLines::index("a: [\n").line("a"), Some(1));
        assert_eq!(YamlLines::index(": : :").line("x"), None);
    }
}
