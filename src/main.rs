use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = tracelab::cli::Cli::parse();
    match tracelab::run::run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(error) => {
            anstream::eprintln!(
                "{} {error:#}",
                tracelab::style::paint(tracelab::style::FAIL, "error:")
            );
            ExitCode::from(tracelab::exit::EXIT_USAGE)
        }
    }
}
