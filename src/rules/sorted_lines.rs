//! Lookups in a table of text lines sorted by their first word, without
//! building an index: the doctor's tables of the Python packages are
//! hundreds of kilobytes, and reading all of one at each start was a tenth
//! of the doctor's time. A bisection reads only the few lines it lands on.

use std::cmp::Ordering;

/// The line whose first word is `key`.
pub fn find(table: &'static str, key: &str) -> Option<&'static str> {
    from(table, key)
        .lines()
        .next()
        .filter(|line| first_word(line) == key)
}

/// The table from the first line whose first word is not below `key`.
pub fn from(table: &'static str, key: &str) -> &'static str {
    let bytes = table.as_bytes();
    // Invariant: every line starting before `low` sorts below `key`, and
    // the first line at `high` or after does not. Only first words are
    // read: a line of the module table may run to kilobytes.
    let (mut low, mut high) = (0, bytes.len());
    while low < high {
        let middle = line_start(bytes, low + (high - low) / 2);
        if middle >= high {
            // No line starts in [middle of the range, high): the answer is
            // the first line at `low` that does not sort below.
            break;
        }
        match word_at(table, middle).cmp(key) {
            Ordering::Less => low = middle + 1,
            Ordering::Equal | Ordering::Greater => high = middle,
        }
    }
    let mut start = line_start(bytes, low.min(bytes.len()));
    while start < bytes.len() && word_at(table, start) < key {
        start = line_start(bytes, start + 1);
    }
    &table[start..]
}

pub fn first_word(line: &str) -> &str {
    line.split(' ').next().unwrap_or(line)
}

/// The start of the first line at or after byte `at`.
fn line_start(bytes: &[u8], at: usize) -> usize {
    if at == 0 || bytes[at - 1] == b'\n' {
        return at;
    }
    match memchr::memchr(b'\n', &bytes[at..]) {
        Some(end) => at + end + 1,
        None => bytes.len(),
    }
}

/// The first word of the line that starts at `start`.
fn word_at(table: &str, start: usize) -> &str {
    let rest = &table.as_bytes()[start..];
    let end = memchr::memchr2(b' ', b'\n', rest).unwrap_or(rest.len());
    &table[start..start + end]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every key of a sorted table, and every key between them, as a scan
    /// of all lines would answer.
    #[test]
    fn the_search_answers_as_a_scan_does() {
        const TABLE: &str = "a 1\nb 2\nbb 3\nc 4\ncd 5\nx 6\n";
        let keys = [
            "", "a", "aa", "b", "ba", "bb", "bc", "c", "cd", "ce", "x", "y",
        ];
        for key in keys {
            let scanned: Vec<&str> = TABLE.lines().filter(|l| first_word(l) >= key).collect();
            assert_eq!(
                from(TABLE, key).lines().collect::<Vec<_>>(),
                scanned,
                "{key}"
            );
            let exact = TABLE.lines().find(|l| first_word(l) == key);
            assert_eq!(find(TABLE, key), exact, "{key}");
        }
        assert_eq!(find("", "a"), None);
        assert_eq!(find("only 1", "only"), Some("only 1"));
    }
}
