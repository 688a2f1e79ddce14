//! One redaction step for everything tracelab prints that came from the
//! student's configuration or the app's spans: a secret is replaced by its
//! fingerprint wherever it sits, whatever variable or attribute holds it.
//!
//! What counts as a secret: the shapes keys have (Honeycomb ingest keys,
//! AWS access key ids), any value of a variable or attribute whose name
//! says it is one (`*_KEY`, `*TOKEN*`, `*SECRET*`, `authorization`, ...),
//! a URL's user-info, a query parameter named like a key, and the value of
//! a header that carries a key (`x-honeycomb-team=...`).

use std::borrow::Cow;

use regex::Captures;

use crate::fingerprint::fingerprint;
use crate::keyed::Keyed;

/// Secrets by their own shape, wherever they appear.
static SHAPES: Keyed = Keyed::new(
    concat!(
        // Honeycomb ingest keys: hcaik_, hcxik_, hcaic_, hcxic_ and 58 more.
        r"(?-u:\b)hc[a-z]i[kc]_[0-9a-z]{58}(?-u:\b)",
        // AWS access key ids, even run into the text after them.
        r"|(?-u:\b)(?:AKIA|ASIA)[0-9A-Z]{16}",
    ),
    &["hc", "akia", "asia"],
)
.followed_by(|rest| {
    // A fingerprint such as `hcaik_…(64 chars` has the prefix and not the
    // key, and is told apart without compiling the pattern.
    crate::rules::honeycomb::goes_on_as_ingest_key(rest)
        || crate::rules::aws::goes_on_as_access_key_id(rest)
});

/// `scheme://user:password@host`: the user-info.
static USER_INFO: Keyed = Keyed::new(
    r"((?-u:\b)[a-zA-Z][a-zA-Z0-9+.-]*://)([^/@\s?#]+)@",
    &["://"],
)
.followed_by(|rest| {
    rest.find(|c: char| matches!(c, '/' | '@' | '?' | '#') || c.is_whitespace())
        .is_some_and(|end| end > 0 && rest[end..].starts_with('@'))
});

/// `NAME=value`, `?name=value`, `NAME: "value"` (YAML, quoted), where the
/// name says the value is a secret. The value runs to a delimiter. A bare
/// `NAME: text` is prose (`HONEYCOMB_API_KEY: configuration key ...`).
static NAMED: Keyed = Keyed::new(
    r#"(?-u:\b)((?i-u:[a-z0-9_.-]*(?:api[_-]?key|access[_-]?key|secret|token|password|passwd|authorization|x-honeycomb-team|credential)[a-z0-9_.-]*))(\s*=\s*"?|:\s*")([^\s"',&#;]+)"#,
    &["key", "secret", "token", "passw", "authorization", "x-honeycomb-team", "credential"],
)
.followed_by(|rest| {
    let rest = rest.trim_start_matches(|c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    rest.trim_start().starts_with('=')
        || rest.strip_prefix(':').is_some_and(|value| value.trim_start().starts_with('"'))
});

/// `Authorization: Bearer value`, `x-honeycomb-team: value`: headers as
/// HTTP writes them.
static HEADER: Keyed = Keyed::new(
    r#"(?-u:\b)((?i-u:(?:authorization|x-honeycomb-team|x-api-key)\s*:\s*(?:bearer\s+|basic\s+)?))([^\s"',]+)"#,
    &["authorization", "x-honeycomb-team", "x-api-key"],
)
.followed_by(|rest| rest.trim_start().starts_with(':'));

/// The kind of key `text` holds by its shape, if any: for a key found in a
/// variable that should not hold one.
pub fn key_in(text: &str) -> Option<(&'static str, String)> {
    let found = SHAPES.captures(text)?.get(0)?.as_str();
    let kind = if found.starts_with("hc") {
        "a Honeycomb key"
    } else {
        "an AWS access key id"
    };
    Some((kind, fingerprint(found)))
}

/// `text` with every secret in it replaced by its fingerprint.
pub fn text(text: &str) -> Cow<'_, str> {
    // Every rule needs a separator or a key's length: most values (a
    // route, a method, a name) are told apart without a pattern.
    if text.len() < 20 && !text.contains(['=', ':']) {
        return Cow::Borrowed(text);
    }
    type Hide = fn(&Captures) -> String;
    let rules: [(&Keyed, Hide); 4] = [
        (&SHAPES, |c| fingerprint(&c[0])),
        (&NAMED, |c| format!("{}{}{}", &c[1], &c[2], hidden(&c[3]))),
        (&HEADER, |c| format!("{}{}", &c[1], hidden(&c[2]))),
        (&USER_INFO, |c| format!("{}{}@", &c[1], hidden(&c[2]))),
    ];
    let mut out = Cow::Borrowed(text);
    for (pattern, hide) in rules {
        if let Cow::Owned(changed) = pattern.replace_all(&out, hide) {
            out = Cow::Owned(changed);
        }
    }
    out
}

/// A value under a name: the whole of it hidden when the name says it is a
/// secret, else whatever secrets it holds.
pub fn value<'a>(name: &str, value: &'a str) -> Cow<'a, str> {
    if names_a_secret(name) && !value.is_empty() {
        return Cow::Owned(hidden(value));
    }
    text(value)
}

/// Whether a variable or attribute named so holds a secret.
pub fn names_a_secret(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    [
        "key",
        "token",
        "secret",
        "password",
        "passwd",
        "authorization",
        "credential",
        "x-honeycomb-team",
    ]
    .iter()
    .any(|word| lower.contains(word))
        && !lower.ends_with("_id")
        && !lower.contains("key_id")
}

/// A value's fingerprint, unless it is no secret at all: a `$REFERENCE`,
/// an earlier fingerprint, a path or pattern, another variable's name, or
/// a word too short to be a key.
fn hidden(value: &str) -> String {
    let no_secret = value.len() < 8
        || value.contains('…')
        || value.starts_with(['$', '/', '<', '{'])
        // A call in code (`token = os.getenv("X")` stops at the quote).
        || value.ends_with('(')
        || value
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_');
    if no_secret {
        return value.to_string();
    }
    fingerprint(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "hcaik_01jq7w3e5r7t9y1u3i5o7p9a1s3d5f7g9h1j3k5l7z9x1c3v5b7n9m1q3w";

    #[test]
    fn a_key_is_hidden_in_any_variable_url_query_or_header() {
        for (shown, secret) in [
            (format!("OTEL_SERVICE_NAME={KEY} (the dataset)"), KEY),
            (
                "endpoint https://0123456789abcdef0123456789abcdef@api.honeycomb.io".to_string(),
                "0123456789abcdef0123456789abcdef",
            ),
            (
                "https://api.honeycomb.io/?api_key=s3cr3tvalue99&x=1".to_string(),
                "s3cr3tvalue99",
            ),
            (
                "OTEL_EXPORTER_OTLP_HEADERS: \"x-honeycomb-team=Fk7TqZ2mWc9RbX4nLp0Jd3\""
                    .to_string(),
                "Fk7TqZ2mWc9RbX4nLp0Jd3",
            ),
            (
                "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".to_string(),
                "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            ),
            (
                "id AKIAZ7Q4R5T6Y7U8I9O0 given".to_string(),
                "AKIAZ7Q4R5T6Y7U8I9O0",
            ),
            (
                "Authorization: Bearer-abcdefghijklmnop".to_string(),
                "Bearer-abcdefghijklmnop",
            ),
        ] {
            let redacted = text(&shown);
            assert!(!redacted.contains(secret), "{redacted}");
            assert!(redacted.contains('…'), "{redacted}");
        }
    }

    #[test]
    fn the_keywords_never_reject_a_text_a_pattern_matches() {
        let mut texts = crate::keyed::corpus();
        texts.extend(
            [
                format!("OTEL_SERVICE_NAME={KEY}"),
                "HONEYCOMB_KEY = 'abcdefghijklmnopqrstuv'".into(),
                "x-honeycomb-team : Fk7TqZ2mWc9RbX4nLp0Jd3".into(),
                "aws_secret_access_key: \"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\"".into(),
                "redis://user:pa55word@cache:6379/0".into(),
                "Authorization:Basic dXNlcjpwYXNz".into(),
            ]
            .map(String::from),
        );
        for pattern in [&SHAPES, &NAMED, &HEADER, &USER_INFO] {
            crate::keyed::assert_gate_holds(pattern, texts.iter().map(String::as_str));
        }
    }

    #[test]
    fn what_is_no_secret_is_left_alone() {
        for plain in [
            "OTEL_SERVICE_NAME=backend-flask",
            "OTEL_EXPORTER_OTLP_HEADERS: \"x-honeycomb-team=${HONEYCOMB_API_KEY}\"",
            "HONEYCOMB_API_KEY is hcaik_…(64 chars, #1a2b3c)",
            "tracelab env set HONEYCOMB_API_KEY   # asks, saves it in .env",
            "trace 0af7651916cd43dd8448eb211c80319c http://localhost:4318/v1/traces",
            "AWS_ACCESS_KEY_ID is not set",
            "HONEYCOMB_API_KEY: configuration key …(22 chars, #8bfb4a) in shell",
        ] {
            assert_eq!(text(plain), plain);
        }
        assert!(value("AWS_ACCESS_KEY_ID", "AKIAZ7Q4R5T6Y7U8I9O0").starts_with("AKIA…(20 chars"));
        let fix = "sed -i 's/^HONEYCOMB_APIKEY=/HONEYCOMB_API_KEY=/' .env";
        assert_eq!(text(fix), fix);
        assert!(value("db.password", "hunter2hunter2").contains('…'));
        assert_eq!(
            value("http.route", "/api/activities/home"),
            "/api/activities/home"
        );
    }
}
