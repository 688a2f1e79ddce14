//! `tracelab listen`: a local OTLP/HTTP receiver that shows spans as they arrive.

mod command;
pub mod print;
pub mod server;

pub use command::run;
pub use server::{Batch, Receiver, Sink};
