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

/// The variables a compose value names (`${A}-x-$B` names A and B), as
/// Compose would look them up; a value that does not parse names none.
pub fn referenced(raw: &str) -> Vec<String> {
    interpolate(raw, &|_| None)
        .map(|i| i.unset)
        .unwrap_or_default()
}

/// Interpolates `text`, looking each name up with `lookup` (None: unset).
pub fn interpolate(
    text: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<Interpolated, InterpolateError> {
    let mut out = Interpolated::default();
    expand(text, lookup, &mut out)?;
    Ok(out)
}

fn expand(
    text: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
    out: &mut Interpolated,
) -> Result<(), InterpolateError> {
    let mut rest = text;
    while let Some(at) = rest.find('$') {
        out.value.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            out.value.push('$');
            rest = tail;
        } else if let Some(body_and_tail) = after.strip_prefix('{') {
            let end = closing_brace(body_and_tail).ok_or_else(|| invalid(text))?;
            braced(&body_and_tail[..end], text, lookup, out)?;
            rest = &body_and_tail[end + 1..];
        } else {
            let name_len = name_length(after);
            if name_len == 0 {
                out.value.push('$');
                rest = after;
            } else {
                let name = &after[..name_len];
                push_variable(name, lookup, out);
                rest = &after[name_len..];
            }
        }
    }
    out.value.push_str(rest);
    Ok(())
}

fn invalid(text: &str) -> InterpolateError {
    InterpolateError::Invalid(text.to_string())
}

/// Index of the `}` that closes a `${`, counting nested `${ }`.
fn closing_brace(body: &str) -> Option<usize> {
    let bytes = body.as_bytes();
    let mut depth = 1;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'$' if bytes.get(i + 1) == Some(&b'$') => i += 1,
            b'$' if bytes.get(i + 1) == Some(&b'{') => {
                depth += 1;
                i += 1;
            }
            b'}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
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

fn braced(
    body: &str,
    whole: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
    out: &mut Interpolated,
) -> Result<(), InterpolateError> {
    let name_len = name_length(body);
    if name_len == 0 {
        return Err(invalid(whole));
    }
    let name = &body[..name_len];
    let modifier = &body[name_len..];
    if modifier.is_empty() {
        push_variable(name, lookup, out);
        return Ok(());
    }
    let (colon, op, arg) = match modifier.strip_prefix(':') {
        Some(m) => (true, m.chars().next(), m.get(1..).unwrap_or_default()),
        None => (
            false,
            modifier.chars().next(),
            modifier.get(1..).unwrap_or_default(),
        ),
    };
    let value = lookup(name);
    // With a colon, an empty value counts as missing.
    let present = match &value {
        Some(v) => !(colon && v.is_empty()),
        None => false,
    };
    match op {
        Some('-') => {
            if present {
                out.value.push_str(value.as_deref().unwrap_or_default());
            } else {
                expand(arg, lookup, out)?;
            }
        }
        Some('+') => {
            if present {
                expand(arg, lookup, out)?;
            }
        }
        Some('?') => {
            if present {
                out.value.push_str(value.as_deref().unwrap_or_default());
            } else {
                let mut message = Interpolated::default();
                expand(arg, lookup, &mut message)?;
                return Err(InterpolateError::Required {
                    variable: name.to_string(),
                    message: message.value,
                });
            }
        }
        _ => return Err(invalid(whole)),
    }
    Ok(())
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
