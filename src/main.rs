use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = tracelab::cli::Cli::parse();
    if !cli.command.keeps_running() {
        // `tracelab new | head`: end quietly when the reader goes away, as
        // other Unix tools do, instead of failing on a closed pipe.
        // SAFETY: set once, before any other thread exists.
        unsafe {
            let _ = nix::sys::signal::signal(
                nix::sys::signal::Signal::SIGPIPE,
                nix::sys::signal::SigHandler::SigDfl,
            );
        }
    }
    match tracelab::run::run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(error) if error.is::<tracelab::exit::Cancelled>() => {
            anstream::eprintln!("\n{error}");
            ExitCode::from(tracelab::exit::EXIT_INTERRUPTED)
        }
        Err(error) => {
            anstream::eprintln!(
                "{} {error:#}",
                tracelab::style::paint(tracelab::style::FAIL, "error:")
            );
            ExitCode::from(tracelab::exit::EXIT_USAGE)
        }
    }
}
