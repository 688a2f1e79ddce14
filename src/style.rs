//! Terminal styles. Output goes through anstream, which drops the colour codes
//! when the stream is not a terminal or NO_COLOR is set.

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
