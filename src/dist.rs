//! How students install tracelab: the distribution's name on PyPI and
//! crates.io (the command is `tracelab`), pinned to this build's version,
//! and the shell lines a generated workspace runs with it at every start.

/// `tracelab-cli`: "tracelab" on PyPI is an unrelated project.
pub const NAME: &str = env!("CARGO_PKG_NAME");
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The pip requirement for exactly this build: `tracelab-cli==0.1.0`, so a
/// workspace installs the tracelab that generated it.
pub fn requirement() -> String {
    format!("{NAME}=={VERSION}")
}

/// Installs this build; a failure is one line on stderr with the command to
/// run, and never stops what follows (a workspace must still start).
pub fn install_line() -> String {
    let requirement = requirement();
    format!(
        "pip install --quiet '{requirement}' || echo \"tracelab: could not install {requirement}; run: pip install '{requirement}'\" >&2"
    )
}

/// Runs the doctor at a workspace start without blocking it: problems are
/// said once (the report, then one line on what to run), and a missing
/// tracelab is named with its install command.
pub fn start_check_line() -> String {
    let requirement = requirement();
    format!(
        "if command -v tracelab >/dev/null; then tracelab doctor || echo \"tracelab: the doctor found problems (above); fix them, then run: tracelab doctor\" >&2; else echo \"tracelab is not installed; run: pip install '{requirement}'\" >&2; fi"
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_requirement_is_pinned_to_this_build() {
        assert_eq!(
            super::requirement(),
            format!("tracelab-cli=={}", env!("CARGO_PKG_VERSION"))
        );
    }
}
