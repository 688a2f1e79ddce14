//! How a command ends, the same for every command, and the one place that
//! says which exit code each outcome is (`main` asks `code`). A leaf: it
//! imports nothing.

/// What a command that ran reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// Nothing wrong was found, or the work was done: 0.
    Success,
    /// The checks ran and found problems, or a merge left conflicts: 1.
    Problems,
}

impl ExitStatus {
    pub fn code(self) -> u8 {
        match self {
            ExitStatus::Success => EXIT_OK,
            ExitStatus::Problems => EXIT_PROBLEMS,
        }
    }

    /// Problems when `found`, else success.
    pub fn problems_if(found: bool) -> Self {
        if found {
            ExitStatus::Problems
        } else {
            ExitStatus::Success
        }
    }
}

/// Success: nothing wrong was found.
pub const EXIT_OK: u8 = 0;
/// The checks ran and found problems.
pub const EXIT_PROBLEMS: u8 = 1;
/// Bad usage or unreadable input, or a failure that stopped the command
/// (said on stderr: what went wrong, where, and what to do). Writes are
/// all or nothing, so a failed one leaves the files as they were.
pub const EXIT_USAGE: u8 = 2;
/// The user stopped it (Ctrl-C), as a shell reports SIGINT.
pub const EXIT_INTERRUPTED: u8 = 130;

/// Ctrl-C, at a question or while the command ran: what it had not
/// written stays unwritten. `main` says so in one line and exits 130.
#[derive(Debug)]
pub struct Cancelled;

impl std::fmt::Display for Cancelled {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "cancelled: nothing was written")
    }
}

impl std::error::Error for Cancelled {}

/// Ctrl-C stopped a command that serves or runs until then (listen, run,
/// show, doctor --deep): it cleaned up and said what it had seen.
#[derive(Debug)]
pub struct Stopped;

impl std::fmt::Display for Stopped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "stopped (Ctrl-C)")
    }
}

impl std::error::Error for Stopped {}

/// The exit code for a command's result: its status, 130 for Ctrl-C, 2 for
/// any other error.
pub fn code(result: &Result<ExitStatus, anyhow::Error>) -> u8 {
    match result {
        Ok(status) => status.code(),
        Err(error) if error.is::<Cancelled>() || error.is::<Stopped>() => EXIT_INTERRUPTED,
        Err(_) => EXIT_USAGE,
    }
}
