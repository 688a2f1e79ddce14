//! tracelab: scaffold a Week 2 distributed-tracing workspace, and diagnose why
//! its spans do not arrive.
//!
//! The library's surface is chosen: what `main` needs (the command line,
//! its dispatch, exit codes, styles) and what the tests drive in-process
//! (the workspace model and its parsers, the doctor's checks and catalogue,
//! the value rules, OTLP and the listener). The commands, the scaffold, the
//! prompts and the processes they start are the binary's own.

pub mod answers;
mod backend;
pub mod cli;
mod cohort;
mod commands;
pub mod dispatch;
mod dist;
pub mod doctor;
pub mod exit;
pub mod fingerprint;
mod interrupt;
mod keyed;
pub mod listen;
pub mod otlp;
mod ports;
mod prompts;
pub mod query;
pub mod receive;
mod redact;
pub mod rules;
mod runner;
mod scaffold;
mod session;
mod shell;
pub mod style;
mod vars;
pub mod workspace;
