//! Edits to a compose service's `environment:`, made where the entry
//! stands: a value written again, or an entry added beside its siblings, in
//! the form the file already uses (`NAME: "value"` or `- NAME=value`). A
//! fix that sets a variable to a value the doctor knows is right is then a
//! line `--fix` can make, not advice to retype.

use crate::doctor::finding::{Edit, Finding};
use crate::workspace::context::Context;

/// `finding` fixed by setting the backend's `name` to `value`: an edit
/// where the compose file writes the value itself (not where it comes from
/// the shell, whose `note` the advice then carries), else the line to
/// write, as advice.
pub fn fix_value(
    finding: Finding,
    ctx: &Context,
    name: &str,
    value: &str,
    note: Option<&str>,
) -> Finding {
    fix_value_in(finding, ctx, ctx.backend_name(), name, value, note)
}

/// [`fix_value`] for the variable of another compose service.
pub fn fix_value_in(
    finding: Finding,
    ctx: &Context,
    service: &str,
    name: &str,
    value: &str,
    note: Option<&str>,
) -> Finding {
    let advice = format!("{name}: \"{value}\"");
    if let Some(note) = note {
        return finding.fix(format!("{advice}   # {note}"));
    }
    finding.edit_or(set_value(ctx, service, name, value), advice)
}

/// `services.SERVICE.environment.NAME` as the compose file writes it,
/// before interpolation.
pub fn written(ctx: &Context, service: &str, name: &str) -> Option<String> {
    let compose = &ctx.compose.as_ref()?.file;
    let entries = &compose.service(service)?.environment;
    entries
        .iter()
        .rev()
        .find(|(key, _)| key == name)
        .and_then(|(_, value)| value.clone())
}

/// `services.SERVICE.environment.NAME` written as `value` on its own line;
/// None when the entry is not on a line of its own that names it.
pub fn set_value(ctx: &Context, service: &str, name: &str, value: &str) -> Option<Edit> {
    let compose = &ctx.compose.as_ref()?.file;
    let (path, line) = compose.locate(service, &["environment", name])?;
    let edit = Edit::replace(path, line, "")?;
    let new = rewritten(&edit.old, name, value)?;
    (new != edit.old).then_some(Edit { new, ..edit })
}

/// `entries` added to `services.SERVICE.environment` after its last entry,
/// in the entries' form and indentation; None when the service has no
/// environment entry to stand beside.
pub fn add_entries(ctx: &Context, service: &str, entries: &[(&str, &str)]) -> Option<Edit> {
    let compose = &ctx.compose.as_ref()?.file;
    let (path, last) = compose
        .service(service)?
        .environment
        .iter()
        .filter_map(|(key, _)| compose.locate(service, &["environment", key]))
        .max_by_key(|(_, line)| *line)?;
    let sibling = Edit::replace(path, last, "")?;
    let indent = sibling.indent();
    let listed = sibling.old.trim_start().starts_with('-');
    let lines: Vec<String> = entries
        .iter()
        .map(|(name, value)| match listed {
            true => format!("{indent}- {}", quoted(&format!("{name}={value}"))),
            false => format!("{indent}{name}: {}", quoted(value)),
        })
        .collect();
    (!lines.is_empty()).then(|| Edit {
        file: sibling.file.clone(),
        line: last + 1,
        old: String::new(),
        new: lines.join("\n"),
    })
}

/// `services.SERVICE.environment.FROM` renamed `to`, its value kept:
/// only the name before `:` or `=` changes.
pub fn rename_key(ctx: &Context, service: &str, from: &str, to: &str) -> Option<Edit> {
    let compose = &ctx.compose.as_ref()?.file;
    let (path, line) = compose.locate(service, &["environment", from])?;
    let edit = Edit::replace(path, line, "")?;
    let cut = edit.old.find([':', '='])?;
    let (key, rest) = edit.old.split_at(cut);
    let [_] = key.match_indices(from).collect::<Vec<_>>()[..] else {
        return None;
    };
    let new = format!("{}{rest}", key.replacen(from, to, 1));
    Some(Edit { new, ..edit })
}

/// `line` (one environment entry naming `name`) with its value replaced,
/// its key, indentation and trailing comment kept.
pub fn rewritten(line: &str, name: &str, value: &str) -> Option<String> {
    let indent = &line[..line.len() - line.trim_start().len()];
    let body = line.trim_start();
    if let Some(item) = body.strip_prefix('-') {
        // `- NAME=value`, `- "NAME=value"`: the whole item is the scalar.
        let item = item.trim_start();
        let (scalar, comment) = split_scalar(item)?;
        let (key, _) = scalar.split_once('=')?;
        if key.trim().trim_start_matches(['"', '\'']) != name {
            return None;
        }
        let dash = &body[..body.len() - item.len()];
        return Some(format!(
            "{indent}{dash}{}{comment}",
            quoted(&format!("{name}={value}"))
        ));
    }
    let (key, rest) = body.split_once(':')?;
    if key.trim().trim_matches(['"', '\'']) != name {
        return None;
    }
    let spaces = &rest[..rest.len() - rest.trim_start().len()];
    let (_, comment) = split_scalar(rest.trim_start())?;
    let spaces = if spaces.is_empty() { " " } else { spaces };
    Some(format!("{indent}{key}:{spaces}{}{comment}", quoted(value)))
}

/// A YAML scalar at the start of `text`, and what follows it (spaces and a
/// comment) as written: `("\"a b\"", "  # note")`.
fn split_scalar(text: &str) -> Option<(&str, &str)> {
    let end = match text.chars().next() {
        Some('"') => {
            let mut escaped = false;
            let close = text[1..].char_indices().find(|&(_, c)| {
                let closes = c == '"' && !escaped;
                escaped = c == '\\' && !escaped;
                closes
            })?;
            close.0 + 2
        }
        // '' is a quote inside single quotes.
        Some('\'') => {
            let bytes = text.as_bytes();
            let mut at = 1;
            loop {
                match bytes.get(at)? {
                    b'\'' if bytes.get(at + 1) == Some(&b'\'') => at += 2,
                    b'\'' => break at + 1,
                    _ => at += 1,
                }
            }
        }
        _ => {
            let cut = text.find(" #").unwrap_or(text.len());
            text[..cut].trim_end().len()
        }
    };
    Some((&text[..end], &text[end..]))
}

/// A YAML double-quoted scalar holding `value` exactly.
fn quoted(value: &str) -> String {
    format!("\"{}\"", value.replace('\\', "\\\\").replace('"', "\\\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_is_written_again_in_the_form_it_had() {
        assert_eq!(
            rewritten(
                "      OTEL_EXPORTER_OTLP_ENDPOINT: api.honeycomb.io  # mine",
                "OTEL_EXPORTER_OTLP_ENDPOINT",
                "https://api.honeycomb.io"
            )
            .unwrap(),
            "      OTEL_EXPORTER_OTLP_ENDPOINT: \"https://api.honeycomb.io\"  # mine"
        );
        assert_eq!(
            rewritten(
                "      - \"OTEL_EXPORTER_OTLP_HEADERS=x-honeycomb-team: ${K}\"",
                "OTEL_EXPORTER_OTLP_HEADERS",
                "x-honeycomb-team=${K}"
            )
            .unwrap(),
            "      - \"OTEL_EXPORTER_OTLP_HEADERS=x-honeycomb-team=${K}\""
        );
        assert_eq!(
            rewritten("    A: 'it''s'", "A", "say \"hi\"").unwrap(),
            "    A: \"say \\\"hi\\\"\""
        );
        // Another entry's line is never rewritten.
        assert_eq!(rewritten("      B: x", "A", "y"), None);
        assert_eq!(rewritten("      - B=x", "A", "y"), None);
    }

    #[test]
    fn what_is_written_is_read_back_by_yaml_as_the_value() {
        for value in [
            "https://a.b",
            "x-honeycomb-team=${KEY}",
            "a \"b\" \\ c",
            "#x",
        ] {
            let line = rewritten("  A: old # note", "A", value).unwrap();
            let parsed: serde_yaml::Value = serde_yaml::from_str(&line).unwrap();
            assert_eq!(parsed["A"].as_str(), Some(value), "{line}");
        }
    }
}
