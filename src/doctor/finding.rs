//! One result of one check.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Ok,
    Warn,
    Fail,
    Skip,
}

/// Where a value was read: the layers a variable passes on its way into the app.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Layer {
    #[serde(rename = "shell")]
    Shell,
    #[serde(rename = ".env")]
    DotEnv,
    #[serde(rename = "gitpod")]
    Gitpod,
    #[serde(rename = "compose")]
    Compose,
    #[serde(rename = "container")]
    Container,
    #[serde(rename = "code")]
    Code,
    #[serde(rename = "online")]
    Online,
    #[serde(rename = "workspace")]
    Workspace,
}

impl Layer {
    pub fn name(self) -> &'static str {
        match self {
            Layer::Shell => "shell",
            Layer::DotEnv => ".env",
            Layer::Gitpod => "gitpod",
            Layer::Compose => "compose",
            Layer::Container => "container",
            Layer::Code => "code",
            Layer::Online => "online",
            Layer::Workspace => "workspace",
        }
    }
}

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
        Finding {
            id,
            status,
            layer,
            variable: None,
            message: message.into(),
            fix: None,
            group: "",
        }
    }

    pub fn ok(id: &'static str, layer: Layer, message: impl Into<String>) -> Self {
        Self::new(id, Status::Ok, layer, message)
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
        self.fix = Some(command.into());
        self
    }
}
