//! Ctrl-C, owned here for the whole process: a process gets one handler,
//! so every command goes through this one.
//!
//! - While a question is on screen it ends the process at once (the cursor
//!   shown again, exit 130): a blocked read cannot return.
//! - Otherwise it sets the flag and runs what the command registered with
//!   [`on_interrupt`] (stop a server's wait, stop a backend's process
//!   group). The command then finishes its cleanup and returns
//!   [`crate::exit::Cancelled`], which `main` maps to 130.
//! - While files are prepared the flag is noted, and the write stops before
//!   the first file is replaced, removing what it prepared; while files are
//!   replaced it waits, so the workspace is never half old and half new.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, OnceLock, mpsc};

/// Set while questions are asked: Ctrl-C then ends the process at once.
static PROMPTING: AtomicBool = AtomicBool::new(false);

/// Set by Ctrl-C.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

type Action = Box<dyn Fn() + Send>;

/// What to do on Ctrl-C, besides setting the flag.
static ACTIONS: Mutex<Vec<Action>> = Mutex::new(Vec::new());

/// The flag Ctrl-C sets; the handler is installed on first use, once per
/// process. If it cannot be, Ctrl-C just ends the process as usual.
pub fn flag() -> &'static AtomicBool {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        let _ = ctrlc::set_handler(|| {
            // At a text question Ctrl-C arrives here as SIGINT; at a list
            // question as a key (prompts::interrupted): the same line and
            // exit code either way.
            if PROMPTING.load(Ordering::SeqCst) {
                let _ = dialoguer::console::Term::stderr().show_cursor();
                eprintln!("\n{}", crate::exit::Cancelled);
                std::process::exit(crate::exit::EXIT_INTERRUPTED.into());
            }
            INTERRUPTED.store(true, Ordering::SeqCst);
            if let Ok(actions) = ACTIONS.lock() {
                for action in actions.iter() {
                    action();
                }
            }
        });
    });
    &INTERRUPTED
}

/// Ctrl-C was pressed.
pub fn interrupted() -> bool {
    flag().load(Ordering::SeqCst)
}

/// Runs `action` (in the handler's thread) when Ctrl-C is pressed; the
/// handler is installed if it was not.
pub fn on_interrupt(action: impl Fn() + Send + 'static) {
    let _ = flag();
    if let Ok(mut actions) = ACTIONS.lock() {
        actions.push(Box::new(action));
    }
}

/// A receiver that gets one message on Ctrl-C: what a command that serves
/// until stopped (listen, run, show) waits on.
pub fn stop_signal() -> mpsc::Receiver<()> {
    let (stop, stopped) = mpsc::channel();
    on_interrupt(move || {
        let _ = stop.send(());
    });
    stopped
}

/// Runs `ask` with Ctrl-C ending the process at once.
pub fn while_asking<T>(ask: impl FnOnce() -> T) -> T {
    let _ = flag();
    PROMPTING.store(true, Ordering::SeqCst);
    let answer = ask();
    PROMPTING.store(false, Ordering::SeqCst);
    answer
}
