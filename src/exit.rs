//! Exit codes, the same for every command. A leaf: it imports nothing.

/// Success: nothing wrong was found.
pub const EXIT_OK: u8 = 0;
/// The checks ran and found problems.
pub const EXIT_PROBLEMS: u8 = 1;
/// Bad usage or unreadable input: nothing was checked or written.
pub const EXIT_USAGE: u8 = 2;
/// The user stopped it (Ctrl-C at a question), as a shell reports SIGINT.
pub const EXIT_INTERRUPTED: u8 = 130;

/// A question the user cancelled: nothing was written. `main` says so in
/// one line, the same at every question, and exits 130.
#[derive(Debug)]
pub struct Cancelled;

impl std::fmt::Display for Cancelled {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "cancelled: nothing was written")
    }
}

impl std::error::Error for Cancelled {}
