//! Compose's variable interpolation, as Compose v2 does it: `$VAR`, `${VAR}`,
//! `${VAR:-default}`, `${VAR-default}`, `${VAR:?error}`, `${VAR?error}`,
//! `${VAR:+alt}`, `${VAR+alt}`, nesting in defaults, and `$$` for a `$`.
//! A `$` followed by anything else stays as it is.

use std::fmt;

/// The result of interpolating one string.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Interpolated {
    pub value: String,
    /// Variables that were referenced but unset: Compose warns and uses "".
    pub unset: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InterpolateError {
    /// `${`, `${}` or `${A B}`: Compose refuses the whole file.
    Invalid(String),
    /// `${VAR:?message}` or `${VAR?message}` with VAR missing.
    Required { variable: String, message: String },
}

impl fmt::Display for InterpolateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InterpolateError::Invalid(text) => {
                write!(f, "invalid interpolation format for {text:?}")
            }
            InterpolateError::Required { variable, message } if message.is_empty() => {
                write!(f, "required variable {variable} is missing a value")
            }
            InterpolateError::Required { variable, message } => {
                write!(
                    f,
                    "required variable {variable} is missing a value: {message}"
                )
            }
        }
    }
}

impl std::error::Error for InterpolateError {}

/// The variables a compose value names (`${A}-x-$B` names A and B), as
/// Compose would look them up; a value that does not parse names none.
pub fn referenced(raw: &str) -> Vec<String> {
    interpolate(raw, &|_| None)
        .map(|i| i.unset)
        .unwrap_or_default()
}

/// Interpolates `text`, looking each name up with `lookup` (None: unset).
///
/// This follows Compose v2's own reading, quirks included, because the
/// differential test against it (tests/integration/doctor_interpolation.rs) finds every
/// place where a tidier grammar disagrees: a `${NAME<op>...}` reaches the
/// last `}` on its line, then is cut at the first brace that balances the
/// braces counted from its start (every `{` opens one, and hides the
/// character after it); what follows the cut is interpolated again and
/// appended, and the operator is the one that comes first in the whole
/// match.
pub fn interpolate(
    text: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<Interpolated, InterpolateError> {
    let mut out = Interpolated::default();
    let mut first_error = None;
    substitute(text, lookup, &mut out, &mut first_error);
    match first_error {
        // An invalid template names the text it was found in, as Compose does.
        Some(InterpolateError::Invalid(_)) => Err(invalid(text)),
        Some(error) => Err(error),
        None => Ok(out),
    }
}

/// Each `$` form in `text` replaced; the first error is kept and the scan
/// goes on, as Compose's replace-all does.
fn substitute(
    text: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
    out: &mut Interpolated,
    first_error: &mut Option<InterpolateError>,
) {
    let mut rest = text;
    while let Some(at) = rest.find('$') {
        out.value.push_str(&rest[..at]);
        let from_dollar = &rest[at..];
        let Some(len) = match_length(from_dollar) else {
            out.value.push('$');
            rest = &from_dollar[1..];
            continue;
        };
        if let Err(error) = replace(&from_dollar[..len], lookup, out) {
            first_error.get_or_insert(error);
        }
        rest = &from_dollar[len..];
    }
    out.value.push_str(rest);
}

/// The length of the `$` form at the start of `text`: `$$`, `$NAME`,
/// `${NAME}`, `${NAME<op>...}` (to the last `}` on the line) or a bare `${`
/// (invalid); None when the `$` is a plain character.
fn match_length(text: &str) -> Option<usize> {
    let after = &text[1..];
    if after.starts_with('$') {
        return Some(2);
    }
    let name = name_length(after);
    if name > 0 {
        return Some(1 + name);
    }
    let body = after.strip_prefix('{')?;
    let name = name_length(body);
    if name == 0 {
        return Some(2);
    }
    let modifier = &body[name..];
    let op = modifier.strip_prefix(':').unwrap_or(modifier);
    if op.starts_with(['-', '+', '?']) {
        let line = &op[1..op.find('\n').unwrap_or(op.len())];
        if let Some(last) = line.rfind('}') {
            return Some(text.len() - op.len() + 1 + last + 1);
        }
    }
    if modifier.starts_with('}') {
        return Some(2 + name + 1);
    }
    Some(2)
}

/// One matched form, replaced.
fn replace(
    matched: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
    out: &mut Interpolated,
) -> Result<(), InterpolateError> {
    if matched == "$$" {
        out.value.push('$');
        return Ok(());
    }
    if !matched.starts_with("${") {
        push_variable(&matched[1..], lookup, out);
        return Ok(());
    }
    let op = first_operator(matched);
    let (cut, rest) = match balancing_brace(matched) {
        Some(i) => (&matched[..=i], &matched[i + 1..]),
        None => (matched, ""),
    };
    // The cut is read again from its start: `${` alone is invalid.
    let substitution = match match_length(cut) {
        Some(len) if len > 2 => &cut[2..len - 1],
        _ => return Err(invalid(matched)),
    };
    let Some(op) = op.filter(|op| substitution.contains(op)) else {
        push_variable(substitution, lookup, out);
        return Ok(());
    };
    let (name, argument) = substitution
        .split_once(op)
        .expect("the operator is in the substitution");
    // Compose v2.40 interpolates the default, alternative or message before
    // it looks at the variable, so an error in it counts even when unused
    // (compose-go since 2026 waits; the values are the same either way).
    let mut argument_value = Interpolated::default();
    nested(argument, lookup, &mut argument_value)?;
    let value = lookup(name);
    let colon = op.starts_with(':');
    let present = value.as_ref().is_some_and(|v| !(colon && v.is_empty()));
    let use_argument = match op.trim_start_matches(':') {
        "-" => !present,
        "+" => present,
        _ if present => false,
        _ => {
            return Err(InterpolateError::Required {
                variable: name.to_string(),
                message: argument_value.value,
            });
        }
    };
    if use_argument {
        out.value.push_str(&argument_value.value);
        for name in argument_value.unset {
            if !out.unset.contains(&name) {
                out.unset.push(name);
            }
        }
    } else {
        out.value.push_str(value.as_deref().unwrap_or_default());
    }
    nested(rest, lookup, out)
}

/// A default, alternative or message, or the text after the cut:
/// interpolated on its own, its first error returned.
fn nested(
    text: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
    out: &mut Interpolated,
) -> Result<(), InterpolateError> {
    let mut first_error = None;
    substitute(text, lookup, out, &mut first_error);
    first_error.map_or(Ok(()), Err)
}

/// The operator that comes first anywhere in the match (`:-` before `-`
/// where both start at once).
fn first_operator(matched: &str) -> Option<&'static str> {
    [":?", "?", ":-", "-", ":+", "+"]
        .into_iter()
        .filter_map(|op| matched.find(op).map(|i| (i, op)))
        .min_by_key(|(i, _)| *i)
        .map(|(_, op)| op)
}

/// The `}` that balances the braces counted from the start, where every
/// `{` opens one and the character after it is not looked at.
fn balancing_brace(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut open = 0i32;
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'}' {
            open -= 1;
            if open == 0 {
                return Some(i);
            }
        }
        if bytes[i] == b'{' {
            open += 1;
            i += 1;
        }
        i += 1;
    }
    None
}

fn invalid(text: &str) -> InterpolateError {
    InterpolateError::Invalid(text.to_string())
}

fn name_length(text: &str) -> usize {
    let mut chars = text.char_indices();
    match chars.next() {
        Some((_, c)) if c.is_ascii_alphabetic() || c == '_' => {}
        _ => return 0,
    }
    chars
        .find(|(_, c)| !(c.is_ascii_alphanumeric() || *c == '_'))
        .map(|(i, _)| i)
        .unwrap_or(text.len())
}

fn push_variable(name: &str, lookup: &dyn Fn(&str) -> Option<String>, out: &mut Interpolated) {
    match lookup(name) {
        Some(value) => out.value.push_str(&value),
        None => {
            if !out.unset.iter().any(|n| n == name) {
                out.unset.push(name.to_string());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "A" => Some("a".into()),
            "EMPTY" => Some(String::new()),
            _ => None,
        }
    }

    fn run(text: &str) -> String {
        interpolate(text, &env).unwrap().value
    }

    #[test]
    fn every_form() {
        assert_eq!(run("$$A"), "$A");
        assert_eq!(run("${A}-$A-x"), "a-a-x");
        assert_eq!(run("${UNSET:-d}|${EMPTY:-d}|${EMPTY-d}"), "d|d|");
        assert_eq!(
            run("${A:+alt}|${EMPTY:+alt}|${EMPTY+alt}|${UNSET+alt}"),
            "alt||alt|"
        );
        assert_eq!(run("${UNSET:-${A}x}"), "ax");
        assert_eq!(run("a$ $1 $"), "a$ $1 $");
        assert_eq!(run("${A:-a}b}"), "ab}");
    }

    #[test]
    fn unset_variables_are_reported() {
        let out = interpolate("${B}$C${A}", &env).unwrap();
        assert_eq!(out.value, "a");
        assert_eq!(out.unset, ["B", "C"]);
    }

    #[test]
    fn errors() {
        assert!(matches!(
            interpolate("${", &env),
            Err(InterpolateError::Invalid(_))
        ));
        assert!(matches!(
            interpolate("${}", &env),
            Err(InterpolateError::Invalid(_))
        ));
        assert!(matches!(
            interpolate("${A B}", &env),
            Err(InterpolateError::Invalid(_))
        ));
        let err = interpolate("${EMPTY:?set it}", &env).unwrap_err();
        assert_eq!(
            err.to_string(),
            "required variable EMPTY is missing a value: set it"
        );
        assert_eq!(run("${EMPTY?x}"), "");
    }
}
