//! What tracelab listens with: an HTTP server with its limits, the OTLP
//! receiver, the X-Ray daemon's stand-in, and the forwarder that passes a
//! request on. `listen` shows what they receive; `run` and `doctor --deep`
//! point a backend at them.

pub mod forward;
pub mod hosts;
pub mod http;
pub mod otlp;
pub mod xray;

pub use otlp::{Batch, RawRequest, Receiver, Sink};
