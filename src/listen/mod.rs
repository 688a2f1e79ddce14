//! `tracelab listen`: a local OTLP/HTTP receiver that shows spans as they arrive.

pub mod print;
pub mod server;

pub use server::{Batch, RawRequest, Receiver, Sink};
