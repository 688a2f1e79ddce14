//! OTEL_EXPORTER_OTLP_HEADERS, parsed exactly as opentelemetry-python's
//! `parse_env_headers` does, so that every entry it would drop can be named.

/// What the exporter makes of one comma-separated entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub raw: String,
    /// The header sent, or None when the entry is dropped.
    pub header: Option<(String, String)>,
    /// Why the entry is wrong or fragile, if it is.
    pub problem: Option<String>,
}

fn is_key_char(c: char) -> bool {
    matches!(c, '\x21' | '\x23'..='\x27' | '\x2a' | '\x2b' | '\x2d' | '\x2e' | '0'..='9' | 'A'..='Z' | '\x5e'..='\x7a' | '\x7c' | '\x7e')
}

fn is_value_char(c: char) -> bool {
    matches!(c, '\x21' | '\x23'..='\x2b' | '\x2d'..='\x3a' | '\x3c'..='\x5b' | '\x5d'..='\x7e')
}

const OWS: &[char] = &[' ', '\t'];

/// Parses the variable. `liberal` is the exporters' mode since 1.27: a value
/// may then contain spaces, and is not percent-decoded.
pub fn parse(text: &str, liberal: bool) -> Vec<Entry> {
    text.split(',')
        .map(|part| part.trim_matches(OWS))
        .filter(|part| !part.is_empty())
        .map(|raw| parse_entry(raw, liberal))
        .collect()
}

/// `text` with each malformed entry written as `name=value` (':' for '=',
/// quotes and spaces around the name and the value removed), when that
/// makes every entry one the exporter sends; None when it does not, or
/// nothing was wrong.
pub fn repaired(text: &str) -> Option<String> {
    let entries = parse(text, true);
    if entries.iter().all(|e| e.problem.is_none()) {
        return None;
    }
    let unquoted = |s: &str| s.trim().trim_matches(['"', '\'']).trim().to_string();
    let written: Vec<String> = entries
        .iter()
        .map(|entry| match &entry.problem {
            None => entry.raw.trim().to_string(),
            Some(_) => match entry.raw.split_once(['=', ':']) {
                Some((name, value)) => format!("{}={}", unquoted(name), unquoted(value)),
                None => entry.raw.trim().to_string(),
            },
        })
        .collect();
    let text = written.join(",");
    parse(&text, true)
        .iter()
        .all(|e| e.problem.is_none())
        .then_some(text)
}

fn parse_entry(raw: &str, liberal: bool) -> Entry {
    let stripped = raw.trim();
    let dropped = |problem: String| Entry {
        raw: raw.to_string(),
        header: None,
        problem: Some(problem),
    };
    let Some((left, right)) = stripped.split_once('=') else {
        return dropped(if stripped.contains(':') {
            "uses ':' where '=' belongs (write name=value); the exporter drops it".into()
        } else {
            "has no '=' (write name=value); the exporter drops it".into()
        });
    };
    let key = left.trim_matches(OWS);
    let value = right.trim_matches(OWS);
    if key.is_empty() || !key.chars().all(is_key_char) {
        return dropped(format!(
            "the name {key:?} has characters a header name cannot have; the exporter drops it"
        ));
    }
    if value.contains('"') {
        return dropped(
            "the value is in double quotes; the exporter drops the whole entry (remove the quotes)"
                .into(),
        );
    }
    let strict = value.chars().all(is_value_char);
    let liberal_ok = value.chars().all(|c| c == ' ' || is_value_char(c));
    if !(strict || liberal && liberal_ok) {
        return dropped(
            "the value has a character that must be percent-encoded (space, ';', ',' or '\\'); \
             the exporter drops it"
                .into(),
        );
    }
    let (name, value) = if strict {
        (
            percent_decode(key).trim().to_lowercase(),
            percent_decode(value).trim().to_string(),
        )
    } else {
        (key.trim().to_lowercase(), value.trim().to_string())
    };
    let problem = if value.starts_with('\'') || value.ends_with('\'') {
        Some(
            "the value is in single quotes, which are sent as part of it (remove the quotes)"
                .into(),
        )
    } else if !strict {
        Some("the value has a space: only exporters from 1.27 on accept it (percent-encode it as %20)".into())
    } else {
        None
    };
    Entry {
        raw: raw.to_string(),
        header: Some((name, value)),
        problem,
    }
}

/// The headers the exporter sends, last entry winning as in a Python dict.
pub fn headers(text: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for (name, value) in parse(text, true).into_iter().filter_map(|e| e.header) {
        out.retain(|(n, _)| *n != name);
        out.push((name, value));
    }
    out
}

pub fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

/// `urllib.parse.unquote`: `%XX` to bytes, invalid escapes left alone, UTF-8 lossy.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(hex) = text.get(i + 1..i + 3)
            && let Ok(byte) = u8::from_str_radix(hex, 16)
        {
            out.push(byte);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The headers variable the exporter reads: the per-signal one wins.
pub fn headers_variable(get: impl Fn(&str) -> Option<String>) -> Option<(&'static str, String)> {
    [
        "OTEL_EXPORTER_OTLP_TRACES_HEADERS",
        "OTEL_EXPORTER_OTLP_HEADERS",
    ]
    .into_iter()
    .find_map(|name| get(name).map(|value| (name, value)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sent(text: &str) -> Vec<(String, String)> {
        headers(text)
    }

    #[test]
    fn matches_opentelemetry_python() {
        let pair = |n: &str, v: &str| vec![(n.to_string(), v.to_string())];
        assert_eq!(
            sent("x-honeycomb-team=abc"),
            pair("x-honeycomb-team", "abc")
        );
        assert_eq!(sent("x-honeycomb-team=\"abc\""), vec![]);
        assert_eq!(
            sent("x-honeycomb-team='abc'"),
            pair("x-honeycomb-team", "'abc'")
        );
        assert_eq!(sent("x-honeycomb-team:abc"), vec![]);
        assert_eq!(
            sent(" X-Honeycomb-Team = abc "),
            pair("x-honeycomb-team", "abc")
        );
        assert_eq!(
            sent("x-honeycomb-team=a b"),
            pair("x-honeycomb-team", "a b")
        );
        assert_eq!(sent("b=%20x"), pair("b", "x"));
        assert!(parse("x-honeycomb-team=a b", false)[0].header.is_none());
    }

    #[test]
    fn problems_are_named() {
        let entries = parse("x-honeycomb-team:abc,x-honeycomb-dataset=\"d\",a='q'", true);
        assert!(entries[0].problem.as_ref().unwrap().contains("':'"));
        assert!(
            entries[1]
                .problem
                .as_ref()
                .unwrap()
                .contains("double quotes")
        );
        assert!(
            entries[2]
                .problem
                .as_ref()
                .unwrap()
                .contains("single quotes")
        );
    }

    #[test]
    fn a_malformed_entry_is_repaired_and_a_good_one_kept() {
        assert_eq!(
            repaired("x-honeycomb-team:${HONEYCOMB_API_KEY}").as_deref(),
            Some("x-honeycomb-team=${HONEYCOMB_API_KEY}")
        );
        assert_eq!(
            repaired("x-honeycomb-team = \"${K}\", x-honeycomb-dataset=d").as_deref(),
            Some("x-honeycomb-team=${K},x-honeycomb-dataset=d")
        );
        assert_eq!(repaired("x-honeycomb-team=${K}"), None);
        // A key pasted alone has no name to give it back.
        assert_eq!(repaired("hcaik_0123"), None);
    }
}
