//! Terminal styles. Output goes through anstream, which drops the colour codes
//! when the stream is not a terminal or NO_COLOR is set.

use std::io::Write;

use anstyle::{AnsiColor, Style};

pub const OK: Style = AnsiColor::Green.on_default();
pub const WARN: Style = AnsiColor::Yellow.on_default();
pub const FAIL: Style = AnsiColor::Red.on_default().bold();
pub const HEADING: Style = Style::new().bold();
pub const DIM: Style = Style::new().dimmed();
pub const CODE: Style = AnsiColor::Cyan.on_default();

/// `text` wrapped in `style`'s codes; anstream strips them where they don't belong.
pub fn paint(style: Style, text: impl std::fmt::Display) -> String {
    format!("{style}{text}{style:#}")
}

/// "1 span", "3 spans": a count with its noun in the right number.
pub fn count(n: impl Into<u64>, noun: &str) -> String {
    match n.into() {
        1 => format!("1 {noun}"),
        n => format!("{n} {noun}s"),
    }
}

/// The width to wrap prose at: `COLUMNS` when set, else the terminal's,
/// else none (output for a pipe or a file stays one line per item).
pub fn text_width() -> Option<usize> {
    if let Some(columns) = std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse::<usize>().ok())
    {
        return Some(columns.clamp(40, 400));
    }
    dialoguer::console::Term::stdout()
        .size_checked()
        .map(|(_, columns)| usize::from(columns).clamp(40, 400))
}

/// Splits `text` into lines of at most `width` characters at spaces (a
/// longer word keeps its own line), joined with `\n` + `indent`.
pub fn wrap(text: &str, width: usize, indent: &str) -> String {
    let mut lines: Vec<String> = vec![String::new()];
    for word in text.split(' ') {
        let line = lines.last_mut().expect("one line at least");
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(word.to_string());
        } else {
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
    }
    lines.join(&format!("\n{indent}"))
}

/// A report written to stdout at once: colour decided once for it, and
/// one write (`anstream::println!` asked the terminal on every line, and
/// wrote each line on its own: two calls to the system per line). On a
/// closed pipe, a command that restores SIGPIPE ends by it (`main.rs`);
/// one that keeps running (`run`) drops the report, where println!
/// panicked.
pub fn write_at_once(report: impl FnOnce(&mut dyn Write) -> std::io::Result<()>) {
    let choice = anstream::AutoStream::choice(&std::io::stdout());
    let mut out = anstream::AutoStream::new(Vec::new(), choice);
    if report(&mut out).is_ok() {
        let _ = std::io::stdout().lock().write_all(&out.into_inner());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_at_spaces_with_an_indent() {
        assert_eq!(
            wrap("one two three four five", 9, "  "),
            "one two\n  three\n  four five"
        );
        assert_eq!(
            wrap("averyveryverylongword x", 5, ""),
            "averyveryverylongword\nx"
        );
    }
}
