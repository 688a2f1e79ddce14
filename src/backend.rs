//! The telemetry backends a workspace can send to.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    Honeycomb,
    Xray,
    Cloudwatch,
    Rollbar,
    Local,
}

impl Backend {
    pub const ALL: [Backend; 5] = [
        Backend::Honeycomb,
        Backend::Xray,
        Backend::Cloudwatch,
        Backend::Rollbar,
        Backend::Local,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Backend::Honeycomb => "honeycomb",
            Backend::Xray => "xray",
            Backend::Cloudwatch => "cloudwatch",
            Backend::Rollbar => "rollbar",
            Backend::Local => "local",
        }
    }

    /// One line a student sees beside the choice.
    pub fn summary(self) -> &'static str {
        match self {
            Backend::Honeycomb => "OpenTelemetry spans to Honeycomb (needs HONEYCOMB_API_KEY)",
            Backend::Xray => "AWS X-Ray SDK and an xray-daemon service (needs AWS credentials)",
            Backend::Cloudwatch => "request logs to CloudWatch Logs via watchtower",
            Backend::Rollbar => "error reporting to Rollbar (needs ROLLBAR_ACCESS_TOKEN)",
            Backend::Local => "OpenTelemetry spans to a local Jaeger, no account needed",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        let name = name.trim().to_ascii_lowercase();
        Self::ALL.into_iter().find(|b| b.name() == name)
    }

    pub fn names() -> Vec<&'static str> {
        Self::ALL.iter().map(|b| b.name()).collect()
    }

    /// Honeycomb and local are where OTLP spans go; a workspace has exactly one.
    pub fn is_otlp_destination(self) -> bool {
        matches!(self, Backend::Honeycomb | Backend::Local)
    }
}
