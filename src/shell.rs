//! Text for people to paste into a POSIX shell.

/// `text` as one shell word: as it is when that is safe, else single-quoted.
pub fn quote(text: &str) -> String {
    let plain = !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./".contains(c));
    if plain {
        text.to_string()
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

/// Splits a command line into words as a shell (and Compose, for a string
/// `command:`) does; a line with an unclosed quote stays one word.
pub fn split_words(line: &str) -> Vec<String> {
    shlex::split(line).unwrap_or_else(|| vec![line.to_string()])
}

#[cfg(test)]
mod tests {
    use super::quote;

    #[test]
    fn quotes_only_when_needed() {
        assert_eq!(quote("./week2/.env"), "./week2/.env");
        assert_eq!(quote("my lab"), "'my lab'");
        assert_eq!(quote("it's"), r"'it'\''s'");
        assert_eq!(quote(""), "''");
    }
}
