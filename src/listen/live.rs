//! The traces a receiver has merged, and a printer that shows each in the
//! terminal once it is whole (or has been quiet long enough). Requests only
//! add to the store; printing happens on a thread of its own, so a slow
//! terminal never slows an exporter.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use tokio::sync::watch;

use super::honeycomb::Account;
use super::print::{View, json_lines, tree};
use super::store::{Bounds, Due, Store};
use super::trace::Trace;
use crate::otlp::ReceivedSpan;

/// How traces are printed.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Output {
    Tree,
    JsonLines,
    Nothing,
}

pub struct Live {
    store: Mutex<Store>,
    /// The store's version, for pages waiting for news.
    changed: watch::Sender<u64>,
    wake: Condvar,
    woken: Mutex<bool>,
    quiet: Duration,
    /// The input has ended (a replayed file): no missing parent will come.
    ended: AtomicBool,
    output: Output,
    /// Set once `/1/auth` has answered; links are added from then on.
    pub account: OnceLock<Account>,
}

impl Live {
    pub fn new(bounds: Bounds, quiet: Duration, output: Output) -> Arc<Self> {
        Arc::new(Live {
            store: Mutex::new(Store::new(bounds)),
            changed: watch::channel(0).0,
            wake: Condvar::new(),
            woken: Mutex::new(false),
            quiet,
            ended: AtomicBool::new(false),
            output,
            account: OnceLock::new(),
        })
    }

    pub fn store(&self) -> MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.changed.subscribe()
    }

    /// Adds one request's spans and wakes the printer.
    pub fn add(&self, spans: Vec<ReceivedSpan>, team: Option<String>) {
        let version = {
            let mut store = self.store();
            store.add(spans, team, Instant::now());
            store.version
        };
        self.changed.send_replace(version);
        *self.woken.lock().unwrap_or_else(|e| e.into_inner()) = true;
        self.wake.notify_one();
    }

    /// The link to a trace in Honeycomb, once the key's account is known.
    pub fn link(&self, trace: &Trace) -> Option<String> {
        let account = self.account.get()?;
        let top = trace.top()?;
        Some(account.trace_link(
            &trace.id,
            &top.service,
            trace.start_unix_nano(),
            trace.end_unix_nano(),
        ))
    }

    /// Whether a trace's missing parent may still come.
    pub fn waiting(&self, trace: &Trace, now: Instant) -> bool {
        !self.ended.load(Ordering::SeqCst) && now.duration_since(trace.last_seen) < self.quiet
    }

    /// Renders the traces `flush` asks for and marks them shown. The lock
    /// is held only to pick them; they are drawn without it.
    pub fn render(&self, flush: Flush) -> String {
        if flush == Flush::EndOfInput {
            self.ended.store(true, Ordering::SeqCst);
        }
        let now = Instant::now();
        let due = self.store().take_due(now, self.quiet, flush != Flush::Due);
        let mut out = String::new();
        for Due { trace, shown } in &due {
            let view = View {
                trace,
                shape: trace.shape(self.waiting(trace, now)),
                link: self.link(trace),
                team: trace.team.as_deref(),
                shown: *shown,
            };
            match self.output {
                Output::Tree => out.push_str(&tree(&view)),
                Output::JsonLines => out.push_str(&json_lines(&view)),
                Output::Nothing => {}
            }
        }
        out
    }

    /// Prints what `flush` asks for to stdout.
    pub fn print(&self, flush: Flush) {
        let text = self.render(flush);
        if !text.is_empty() {
            let mut out = anstream::stdout().lock();
            // A closed pipe (`| head`) must not stop the receiver.
            let _ = out.write_all(text.as_bytes());
            let _ = out.flush();
        }
    }

    /// Wakes the printer and any page waiting for news: the end is near.
    pub fn close(&self) {
        self.changed.send_replace(u64::MAX);
        *self.woken.lock().unwrap_or_else(|e| e.into_inner()) = true;
        self.wake.notify_one();
    }
}

/// Which traces to print.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Flush {
    /// Those whole, or quiet for long enough.
    Due,
    /// All of them: the receiver stopped, and a missing parent might still
    /// have come.
    Stopped,
    /// All of them: the input ended, and a missing parent never came.
    EndOfInput,
}

/// A thread that prints traces as they become due.
pub struct Printer {
    live: Arc<Live>,
    stop: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<()>,
}

impl Printer {
    pub fn start(live: Arc<Live>) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (live, stop) = (Arc::clone(&live), Arc::clone(&stop));
            std::thread::spawn(move || {
                while !stop.load(Ordering::SeqCst) {
                    live.print(Flush::Due);
                    let woken = live.woken.lock().unwrap_or_else(|e| e.into_inner());
                    // A tick brings traces whose quiet interval ran out.
                    let (mut woken, _) = live
                        .wake
                        .wait_timeout_while(woken, Duration::from_millis(250), |w| !*w)
                        .unwrap_or_else(|e| e.into_inner());
                    *woken = false;
                }
            })
        };
        Printer { live, stop, thread }
    }

    /// Stops the thread, then prints every trace not shown yet.
    pub fn stop(self, flush: Flush) {
        self.stop.store(true, Ordering::SeqCst);
        self.live.close();
        let _ = self.thread.join();
        self.live.print(flush);
    }
}
