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
    let result = tracelab::dispatch::run(cli);
    // The one place an outcome becomes an exit code.
    let code = tracelab::exit::code(&result);
    match result {
        Ok(_) => {}
        // A command Ctrl-C stopped has said what it saw; one it cancelled
        // says that nothing was written.
        Err(error) if error.is::<tracelab::exit::Stopped>() => {}
        Err(error) if code == tracelab::exit::EXIT_INTERRUPTED => {
            anstream::eprintln!("\n{error}");
        }
        Err(error) => {
            anstream::eprintln!(
                "{} {error:#}",
                tracelab::style::paint(tracelab::style::FAIL, "error:")
            );
        }
    }
    ExitCode::from(code)
}

/// C's `pow`, from the `libm` crate (musl's, in Rust), so the binary links
/// no `libm.so.6`: tokio's scheduler statistics and minijinja's `**` were
/// its only users, and loading the library (its mappings, relocations and
/// resolvers) was 72 to 76 µs of every run here, a twelfth of
/// `tracelab --version`. The linker finds this definition before `-lm`.
#[unsafe(no_mangle)]
pub extern "C" fn pow(x: f64, y: f64) -> f64 {
    libm::pow(x, y)
}
