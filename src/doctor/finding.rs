//! One result of one check.

use serde::Serialize;

/// A finding's severity, declared with each check in the registry.
pub use super::registry::Status;

pub use crate::workspace::layers::Layer;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    pub id: &'static str,
    pub status: Status,
    pub layer: Layer,
    pub variable: Option<String>,
    pub message: String,
    pub fix: Option<String>,
    /// Which section of the report it belongs to.
    #[serde(skip)]
    pub group: &'static str,
}

impl Finding {
    pub fn new(id: &'static str, status: Status, layer: Layer, message: impl Into<String>) -> Self {
        debug_assert!(
            super::registry::lookup(id).is_some(),
            "check id {id} is not declared in doctor/registry.rs"
        );
        Finding {
            id,
            status,
            layer,
            variable: None,
            message: crate::redact::text(&message.into()).into_owned(),
            fix: None,
            group: "",
        }
    }

    pub fn ok(id: &'static str, layer: Layer, message: impl Into<String>) -> Self {
        Self::new(id, Status::Ok, layer, message)
    }

    pub fn info(id: &'static str, layer: Layer, message: impl Into<String>) -> Self {
        Self::new(id, Status::Info, layer, message)
    }

    pub fn warn(id: &'static str, layer: Layer, message: impl Into<String>) -> Self {
        Self::new(id, Status::Warn, layer, message)
    }

    pub fn fail(id: &'static str, layer: Layer, message: impl Into<String>) -> Self {
        Self::new(id, Status::Fail, layer, message)
    }

    pub fn skip(id: &'static str, layer: Layer, message: impl Into<String>) -> Self {
        Self::new(id, Status::Skip, layer, message)
    }

    pub fn var(mut self, name: &str) -> Self {
        self.variable = Some(name.to_string());
        self
    }

    pub fn fix(mut self, command: impl Into<String>) -> Self {
        self.fix = Some(crate::redact::text(&command.into()).into_owned());
        self
    }
}
