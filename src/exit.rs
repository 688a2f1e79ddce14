//! Exit codes, the same for every command. A leaf: it imports nothing.

/// Success: nothing wrong was found.
pub const EXIT_OK: u8 = 0;
/// The checks ran and found problems.
pub const EXIT_PROBLEMS: u8 = 1;
/// Bad usage or unreadable input: nothing was checked or written.
pub const EXIT_USAGE: u8 = 2;
