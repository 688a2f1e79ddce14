//! `tracelab listen`: the views of what the receiver gets. Spans merged
//! into whole traces, shown in the terminal and in a web view, with links
//! to Honeycomb.

pub mod honeycomb;
pub mod live;
pub mod print;
pub mod store;
pub mod trace;
pub mod web;
