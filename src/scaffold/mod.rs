//! `tracelab new`'s engine: the manifest of templates, rendering, and writing.

pub mod base;
pub mod dotenv_file;
pub mod insert;
pub mod json_merge;
pub mod manifest;
pub mod merge;
pub mod render;
pub mod resolve;
pub mod workflow;
pub mod write;

pub use render::render_workspace;
pub use write::{FileStatus, PlannedFile, TargetState};
