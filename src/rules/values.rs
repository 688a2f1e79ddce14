//! Values that cannot be right whatever the variable: placeholders left in,
//! literal quotes, whitespace around the value; and the Rollbar token shape.

use super::Shape;

const PLACEHOLDER_WORDS: &[&str] = &[
    "yourapikey",
    "yourkey",
    "apikey",
    "changeme",
    "replaceme",
    "placeholder",
    "todo",
    "fixme",
    "secret",
    "token",
    "key",
    "none",
    "null",
    "undefined",
    "example",
    "xxx",
    "yourtoken",
    "insertkeyhere",
    "yourhoneycombapikey",
    "honeycombapikey",
];

/// The words instructions put where a value goes: a value made only of
/// them (`your-access-key`, `YOUR_SECRET_HERE`, `myawstoken`) is a
/// placeholder, whichever variable it is for.
const PLACEHOLDER_VOCABULARY: &[&str] = &[
    "your",
    "my",
    "the",
    "api",
    "access",
    "secret",
    "key",
    "keys",
    "token",
    "id",
    "aws",
    "honeycomb",
    "rollbar",
    "here",
    "insert",
    "put",
    "paste",
    "value",
    "dummy",
    "fake",
    "example",
    "change",
    "me",
    "replace",
    "enter",
    "ingest",
    "password",
];

/// Whether `squashed` (lower case, letters and digits only) is two or more
/// words of the vocabulary run together.
fn only_placeholder_words(squashed: &str) -> bool {
    // reachable[i]: the fewest words that spell squashed[..i] (None: none do).
    let mut reachable: Vec<Option<usize>> = vec![None; squashed.len() + 1];
    reachable[0] = Some(0);
    for end in 1..=squashed.len() {
        reachable[end] = PLACEHOLDER_VOCABULARY
            .iter()
            .filter(|word| squashed[..end].ends_with(*word))
            .filter_map(|word| reachable[end - word.len()].map(|n| n + 1))
            .max();
    }
    reachable[squashed.len()].is_some_and(|words| words >= 2)
}

/// Why `value` is a placeholder rather than a real value, if it is one. The
/// reason never repeats the value (it may be a secret): "is a ...".
pub fn placeholder(name: &str, value: &str) -> Option<String> {
    let trimmed = value.trim();
    if trimmed.contains('<') && trimmed.contains('>') {
        return Some(format!(
            "{trimmed:?} is a <...> placeholder from instructions"
        ));
    }
    if !trimmed.is_empty() && trimmed.chars().all(|c| c == '"' || c == '\'') {
        return Some("is only quotes".into());
    }
    let squashed: String = trimmed
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect();
    let name_squashed: String = name
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect();
    if squashed == name_squashed || trimmed.trim_start_matches('$').trim_matches(['{', '}']) == name
    {
        return Some("is the name of the variable itself, not its value".into());
    }
    if PLACEHOLDER_WORDS.contains(&squashed.as_str()) || only_placeholder_words(&squashed) {
        return Some(
            "is a placeholder word (like your-api-key or changeme), not a real value".into(),
        );
    }
    let first = trimmed.chars().next();
    if trimmed.len() >= 3
        && trimmed.chars().all(|c| Some(c) == first)
        && !first.is_some_and(|c| c.is_ascii_digit())
    {
        return Some("is one character repeated: a placeholder, not a real value".into());
    }
    if squashed.ends_with("example") && squashed.len() > 10 {
        return Some("is the example value from the documentation".into());
    }
    None
}

/// Literal quotes or whitespace that would become part of the value.
/// `"abc"` or `'abc'`: quotes that are part of the value itself.
pub fn wrapped_in_quotes(value: &str) -> bool {
    value.len() >= 2
        && ((value.starts_with('"') && value.ends_with('"'))
            || (value.starts_with('\'') && value.ends_with('\'')))
}

pub fn hygiene(value: &str) -> Option<String> {
    if wrapped_in_quotes(value) {
        return Some("is wrapped in literal quotes, which become part of the value".into());
    }
    if value.contains('\n') || value.contains('\r') {
        return Some("contains a newline (pasted with the line break?)".into());
    }
    if value.trim() != value {
        return Some("has whitespace before or after it".into());
    }
    None
}

pub fn rollbar_token_shape(token: &str) -> Shape {
    if token.len() == 32 && token.bytes().all(|b| b.is_ascii_hexdigit()) {
        Shape::Fits("32-hex access token".into())
    } else {
        Shape::Unusual(format!(
            "Rollbar access tokens are usually 32 hex characters; this one has {}",
            token.chars().count()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_from_the_seeds() {
        let name = "HONEYCOMB_API_KEY";
        for value in [
            "<\"API KEY\">",
            "\"\"",
            "API_KEY",
            "your-api-key",
            "changeme",
            "xxx",
            "HONEYCOMB_API_KEY",
            "${HONEYCOMB_API_KEY}",
            "xxxxxxxx",
            "AKIAIOSFODNN7EXAMPLE",
            "your-access-key",
            "YOUR_SECRET_ACCESS_KEY_HERE",
            "my-honeycomb-key",
            "youraccesskeyid",
        ] {
            assert!(placeholder(name, value).is_some(), "{value}");
        }
        assert!(
            placeholder(
                name,
                "hcaik_01jabcdefabcdefabcdefabcdefabcdefabcdefabcdefabcdefabcd"
            )
            .is_none()
        );
        assert!(placeholder("AWS_DEFAULT_REGION", "us-east-1").is_none());
        // Names a student gives are theirs, however plain.
        for name in ["test-service", "my-app", "backend-flask", "cruddur-api"] {
            assert!(placeholder("OTEL_SERVICE_NAME", name).is_none(), "{name}");
        }
    }

    #[test]
    fn hygiene_problems() {
        assert!(hygiene("\"abc\"").is_some());
        assert!(hygiene("abc\n").is_some());
        assert!(hygiene(" abc").is_some());
        assert!(hygiene("abc").is_none());
    }
}
