//! Ctrl-C, the same for every command that writes: while a question is on
//! screen it ends the process at once (the cursor shown again, exit 130);
//! while files are prepared it is noted, and the write stops before the
//! first file is replaced, removing what it prepared; while files are
//! replaced it waits, so the workspace is never half old and half new.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

/// Set while questions are asked: Ctrl-C then ends the process at once.
static PROMPTING: AtomicBool = AtomicBool::new(false);

/// The flag Ctrl-C sets; the handler is installed on first use, once per
/// process. If it cannot be, Ctrl-C just ends the process as usual.
pub fn flag() -> &'static AtomicBool {
    static FLAG: OnceLock<Arc<AtomicBool>> = OnceLock::new();
    FLAG.get_or_init(|| {
        let flag = Arc::new(AtomicBool::new(false));
        let handler_flag = Arc::clone(&flag);
        let _ = ctrlc::set_handler(move || {
            // At a text question Ctrl-C arrives here as SIGINT; at a list
            // question as a key (prompts::interrupted): the same line and
            // exit code either way.
            if PROMPTING.load(Ordering::SeqCst) {
                let _ = dialoguer::console::Term::stderr().show_cursor();
                eprintln!("\n{}", crate::exit::Cancelled);
                std::process::exit(crate::exit::EXIT_INTERRUPTED.into());
            }
            handler_flag.store(true, Ordering::SeqCst)
        });
        flag
    })
}

/// Runs `ask` with Ctrl-C ending the process at once.
pub fn while_asking<T>(ask: impl FnOnce() -> T) -> T {
    let _ = flag();
    PROMPTING.store(true, Ordering::SeqCst);
    let answer = ask();
    PROMPTING.store(false, Ordering::SeqCst);
    answer
}
