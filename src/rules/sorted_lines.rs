//! Lookups in a table of text lines sorted by their first word: the
//! doctor's tables of the Python packages, hundreds of kilobytes built into
//! the binary. Where each line starts is found when tracelab is compiled
//! (`sorted_lines!`), so a lookup bisects over those starts and reads only
//! the first words it lands on.
//!
//! Why at compile time: reading a whole table at each start was a tenth of
//! the doctor's time; a bisection by byte offset needed no index, but each
//! of its steps scanned to the next line start, and a line of the module
//! table runs to 10 kB (a step lands in a long line more often than in a
//! short one: 700 bytes scanned per step on average).

use std::cmp::Ordering;

/// The entries of a table: every line after the header lines at its top.
pub struct SortedLines {
    text: &'static str,
    /// Where each entry starts, in order.
    starts: &'static [u32],
}

/// The table `$text` (a `const`), whose first lines starting with one of
/// `$header` are not entries, indexed as the binary is compiled.
macro_rules! sorted_lines {
    ($text:expr, header: $header:expr) => {{
        const COUNT: usize = $crate::rules::sorted_lines::scan::<0>($text, $header).0;
        const STARTS: [u32; COUNT] = $crate::rules::sorted_lines::scan::<COUNT>($text, $header).1;
        $crate::rules::sorted_lines::SortedLines::new($text, &STARTS)
    }};
}
pub(crate) use sorted_lines;

impl SortedLines {
    pub const fn new(text: &'static str, starts: &'static [u32]) -> Self {
        Self { text, starts }
    }

    /// The entry whose first word is `key`.
    pub fn find(&self, key: &str) -> Option<&'static str> {
        self.from(key).next().filter(|line| first_word(line) == key)
    }

    /// The entries from the first whose first word is not below `key`.
    pub fn from<'s>(&'s self, key: &str) -> impl Iterator<Item = &'static str> + use<'s> {
        let first = self
            .starts
            .partition_point(|&start| word_cmp(self.text, start as usize, key).is_lt());
        (first..self.starts.len()).map(|index| self.line(index))
    }

    /// Every entry, in order.
    pub fn lines(&self) -> impl Iterator<Item = &'static str> + use<'_> {
        (0..self.starts.len()).map(|index| self.line(index))
    }

    fn line(&self, index: usize) -> &'static str {
        let start = self.starts[index] as usize;
        let end = match self.starts.get(index + 1) {
            Some(&next) => next as usize - 1,
            None => self.text.len() - usize::from(self.text.ends_with('\n')),
        };
        &self.text[start..end]
    }
}

pub fn first_word(line: &str) -> &str {
    line.split(' ').next().unwrap_or(line)
}

/// How the first word of the line at `start` compares with `key`, read
/// no further than `key` is long: a lookup makes a dozen of these, and
/// finding the word's end first (a memchr) was most of their time.
fn word_cmp(text: &str, start: usize, key: &str) -> Ordering {
    let rest = &text.as_bytes()[start..];
    let word_byte = |i: usize| rest.get(i).copied().filter(|b| *b != b' ' && *b != b'\n');
    for (i, &k) in key.as_bytes().iter().enumerate() {
        match word_byte(i) {
            // The word ends first: a prefix of the key sorts below it.
            None => return Ordering::Less,
            Some(byte) if byte != k => return byte.cmp(&k),
            Some(_) => {}
        }
    }
    if word_byte(key.len()).is_some() {
        Ordering::Greater
    } else {
        Ordering::Equal
    }
}

/// How many entries `text` has, and where the first `N` start: every
/// line but the empty last one and the lines at the top that start with
/// one of `header`. One pass, run by the compiler (`sorted_lines!`).
pub const fn scan<const N: usize>(text: &str, header: &[&str]) -> (usize, [u32; N]) {
    let bytes = text.as_bytes();
    assert!(bytes.len() <= u32::MAX as usize, "a table over 4 GB");
    let mut starts = [0u32; N];
    let mut count = 0;
    let mut in_header = true;
    let mut start = 0;
    while start < bytes.len() {
        in_header = in_header && starts_with_one_of(bytes, start, header);
        if !in_header {
            if count < N {
                starts[count] = start as u32;
            }
            count += 1;
        }
        while start < bytes.len() && bytes[start] != b'\n' {
            start += 1;
        }
        start += 1;
    }
    (count, starts)
}

const fn starts_with_one_of(bytes: &[u8], at: usize, prefixes: &[&str]) -> bool {
    let mut p = 0;
    while p < prefixes.len() {
        let prefix = prefixes[p].as_bytes();
        let mut i = 0;
        while i < prefix.len() && at + i < bytes.len() && bytes[at + i] == prefix[i] {
            i += 1;
        }
        if i == prefix.len() {
            return true;
        }
        p += 1;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    const TABLE: &str = "# a comment\nhead x\na 1\nb 2\nbb 3\nc 4\ncd 5\nx 6\n";
    static SORTED: SortedLines = sorted_lines!(TABLE, header: &["#", "head "]);

    /// Every key of a sorted table, and every key between them, as a scan
    /// of all lines would answer.
    #[test]
    fn the_search_answers_as_a_scan_does() {
        let entries: Vec<&str> = TABLE.lines().skip(2).collect();
        assert_eq!(SORTED.lines().collect::<Vec<_>>(), entries);
        let keys = [
            "", "a", "aa", "b", "ba", "bb", "bc", "c", "cd", "ce", "x", "y",
        ];
        for key in keys {
            let scanned: Vec<&str> = entries
                .iter()
                .copied()
                .filter(|l| first_word(l) >= key)
                .collect();
            assert_eq!(SORTED.from(key).collect::<Vec<_>>(), scanned, "{key}");
            let exact = entries.iter().copied().find(|l| first_word(l) == key);
            assert_eq!(SORTED.find(key), exact, "{key}");
        }
    }

    #[test]
    fn a_table_without_a_last_newline_or_entries_reads_whole() {
        static UNENDED: SortedLines = sorted_lines!("only 1\nother 2", header: &[]);
        assert_eq!(UNENDED.lines().collect::<Vec<_>>(), ["only 1", "other 2"]);
        assert_eq!(UNENDED.find("other"), Some("other 2"));
        static EMPTY: SortedLines = sorted_lines!("# nothing\n", header: &["#"]);
        assert_eq!(EMPTY.find("a"), None);
        assert_eq!(EMPTY.lines().count(), 0);
    }

    proptest::proptest! {
        /// The comparison reads as far as the key and answers as the
        /// first word itself does.
        #[test]
        fn a_word_compares_as_the_whole_word_does(line in "[a-c .\n]{0,8}", key in "[a-c .]{0,5}") {
            let word = line.split(['\n', ' ']).next().unwrap();
            proptest::prop_assert_eq!(word_cmp(&line, 0, &key), word.cmp(key.as_str()));
        }
    }

    /// A header line below the first entry is an entry: only the top is
    /// a header.
    #[test]
    fn only_the_lines_at_the_top_are_the_header() {
        static LATE: SortedLines = sorted_lines!("# top\na 1\n# b\n", header: &["#"]);
        assert_eq!(LATE.lines().collect::<Vec<_>>(), ["a 1", "# b"]);
    }
}
