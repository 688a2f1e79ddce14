//! tracelab: scaffold a Week 2 distributed-tracing workspace, and diagnose why
//! its spans do not arrive.

pub mod answers;
pub mod backend;
pub mod cli;
pub mod commands;
pub mod dist;
pub mod doctor;
pub mod exit;
pub mod fingerprint;
pub mod interrupt;
pub mod listen;
pub mod otlp;
pub mod ports;
pub mod prompts;
pub mod redact;
pub mod rules;
pub mod run;
pub mod runner;
pub mod scaffold;
pub mod shell;
pub mod style;
pub mod vars;
pub mod workspace;
