//! The `.env` format as Compose reads it: `KEY=value` or `KEY: value`, an
//! optional `export`, comments, single quotes (literal), double quotes
//! (escapes, may span lines) and unquoted values (trimmed, ` #` comments cut).
//! Unquoted and double-quoted values are interpolated, the shell first.

use super::interpolate::{InterpolateError, interpolate};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub key: String,
    /// The value after quotes, escapes and interpolation.
    pub value: String,
    /// The value as written between `=` and the end of the line.
    pub raw: String,
    pub line: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub line: usize,
    pub message: String,
}

/// Parses a `.env` file; `shell` is looked up first when interpolating.
pub fn parse(text: &str, shell: &dyn Fn(&str) -> Option<String>) -> Result<Vec<Entry>, ParseError> {
    let mut entries: Vec<Entry> = Vec::new();
    let lines: Vec<&str> = text.lines().collect();
    let mut index = 0;
    while index < lines.len() {
        let line_no = index + 1;
        let line = lines[index].trim_start();
        index += 1;
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").unwrap_or(line).trim_start();
        let Some(split) = line.find(['=', ':']) else {
            // A bare NAME takes its value from the shell, as Compose does.
            let key = line.trim().to_string();
            if let Some(value) = shell(&key) {
                entries.push(Entry {
                    key,
                    raw: String::new(),
                    value,
                    line: line_no,
                });
            }
            continue;
        };
        let key = line[..split].trim().to_string();
        let rest = line[split + 1..].trim_start();
        let (raw, value, interpolated) = match rest.chars().next() {
            Some(quote @ ('"' | '\'')) => {
                let mut body = rest[1..].to_string();
                while !closes(&body, quote) && index < lines.len() {
                    body.push('\n');
                    body.push_str(lines[index]);
                    index += 1;
                }
                let end = closing_quote(&body, quote).ok_or_else(|| ParseError {
                    line: line_no,
                    message: format!("the {quote} quote opened here is never closed"),
                })?;
                let inner = &body[..end];
                if quote == '"' {
                    (format!("\"{inner}\""), unescape(inner), true)
                } else {
                    (format!("'{inner}'"), inner.to_string(), false)
                }
            }
            _ => {
                let value = match rest.find(" #") {
                    Some(comment) => &rest[..comment],
                    None => rest,
                };
                let value = value.trim().to_string();
                (value.clone(), value, true)
            }
        };
        let value = if interpolated {
            let known = entries.clone();
            let lookup = |name: &str| {
                shell(name).or_else(|| {
                    known
                        .iter()
                        .rev()
                        .find(|e| e.key == name)
                        .map(|e| e.value.clone())
                })
            };
            interpolate(&value, &lookup)
                .map_err(|e: InterpolateError| ParseError {
                    line: line_no,
                    message: e.to_string(),
                })?
                .value
        } else {
            value
        };
        entries.push(Entry {
            key,
            value,
            raw,
            line: line_no,
        });
    }
    Ok(entries)
}

fn closes(body: &str, quote: char) -> bool {
    closing_quote(body, quote).is_some()
}

fn closing_quote(body: &str, quote: char) -> Option<usize> {
    let mut escaped = false;
    for (i, c) in body.char_indices() {
        if quote == '"' && c == '\\' && !escaped {
            escaped = true;
            continue;
        }
        if c == quote && !escaped {
            return Some(i);
        }
        escaped = false;
    }
    None
}

fn unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        // Compose v2's escapes in a double-quoted value; any other keeps
        // its backslash (`\x` is `\x`, not `x`: found against Compose).
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('t') => out.push('\t'),
            Some('a') => out.push('\u{7}'),
            Some('b') => out.push('\u{8}'),
            Some('f') => out.push('\u{c}'),
            Some('v') => out.push('\u{b}'),
            Some(c @ ('\\' | '$' | '"')) => out.push(c),
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_shell(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn compose_forms() {
        let text = "# c\nA=fromdotenv\nB=\"quoted # x\"\nC=plain # comment\nD='single $A'\n\
                    E=\"dq $A\"\nexport G=exported\nH=  spaced  \nQ:colon\nP=a=b\nM=\"l1\\nl2\"\n";
        let entries = parse(text, &no_shell).unwrap();
        let get = |k: &str| entries.iter().find(|e| e.key == k).unwrap().value.clone();
        assert_eq!(get("B"), "quoted # x");
        assert_eq!(get("C"), "plain");
        assert_eq!(get("D"), "single $A");
        assert_eq!(get("E"), "dq fromdotenv");
        assert_eq!(get("G"), "exported");
        assert_eq!(get("H"), "spaced");
        assert_eq!(get("Q"), "colon");
        assert_eq!(get("P"), "a=b");
        assert_eq!(get("M"), "l1\nl2");
        assert_eq!(entries.iter().find(|e| e.key == "C").unwrap().line, 4);
    }

    #[test]
    fn the_shell_wins_inside_dotenv() {
        let shell = |n: &str| (n == "A").then(|| "shellA".to_string());
        let entries = parse("A=dotA\nE=$A\n", &shell).unwrap();
        assert_eq!(entries[1].value, "shellA");
    }

    #[test]
    fn multi_line_and_errors() {
        let entries = parse("K=\"a\nb\"\nL=1\n", &no_shell).unwrap();
        assert_eq!(entries[0].value, "a\nb");
        assert_eq!(entries[1].key, "L");
        assert_eq!(parse("K=\"open\n", &no_shell).unwrap_err().line, 1);
        assert!(parse("JUSTANAME\n", &no_shell).unwrap().is_empty());
    }
}
