//! `tracelab listen`: a local OTLP/HTTP receiver that merges spans into
//! whole traces and shows them in the terminal and in a web view.

pub mod forward;
pub mod honeycomb;
pub mod hosts;
pub mod http;
pub mod live;
pub mod print;
pub mod server;
pub mod store;
pub mod trace;
pub mod web;

pub use server::{Batch, RawRequest, Receiver, Sink};
