//! The environment variables a workspace needs from the student, per backend.
//! The generator writes them into `.env.example`, the Dev Container secrets and
//! the next steps; the doctor checks that each is set in every layer.

use crate::backend::Backend;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NeededVar {
    pub name: &'static str,
    pub description: &'static str,
    /// Secrets are never printed, only fingerprinted.
    pub secret: bool,
    pub backends: &'static [Backend],
}

pub const NEEDED_VARS: &[NeededVar] = &[
    NeededVar {
        name: "HONEYCOMB_API_KEY",
        description: "Honeycomb ingest or configuration key (Honeycomb: Environment settings, API keys)",
        secret: true,
        backends: &[Backend::Honeycomb],
    },
    NeededVar {
        name: "AWS_ACCESS_KEY_ID",
        description: "AWS access key id for X-Ray and CloudWatch (AKIA... or ASIA...)",
        secret: true,
        backends: &[Backend::Xray, Backend::Cloudwatch],
    },
    NeededVar {
        name: "AWS_SECRET_ACCESS_KEY",
        description: "AWS secret access key that belongs to AWS_ACCESS_KEY_ID",
        secret: true,
        backends: &[Backend::Xray, Backend::Cloudwatch],
    },
    NeededVar {
        name: "AWS_DEFAULT_REGION",
        description: "AWS region such as us-east-1 (boto3 reads it; the X-Ray daemon gets it as AWS_REGION)",
        secret: false,
        backends: &[Backend::Xray, Backend::Cloudwatch],
    },
    NeededVar {
        name: "ROLLBAR_ACCESS_TOKEN",
        description: "Rollbar project access token with post_server_item scope",
        secret: true,
        backends: &[Backend::Rollbar],
    },
];

/// The variables the given backends need, each once, in a stable order.
pub fn needed_for(backends: &[Backend]) -> Vec<NeededVar> {
    NEEDED_VARS
        .iter()
        .filter(|var| var.backends.iter().any(|b| backends.contains(b)))
        .copied()
        .collect()
}

/// Whether the backend's own process reads `name` from its environment:
/// boto3 (CloudWatch) reads the AWS keys and AWS_DEFAULT_REGION, Rollbar its
/// token. The X-Ray SDK needs no credentials (the daemon signs uploads), and
/// the Honeycomb key travels inside OTEL_EXPORTER_OTLP_HEADERS.
pub fn backend_reads(name: &str, backends: &[Backend]) -> bool {
    match name {
        "AWS_ACCESS_KEY_ID" | "AWS_SECRET_ACCESS_KEY" | "AWS_DEFAULT_REGION" => {
            backends.contains(&Backend::Cloudwatch)
        }
        "ROLLBAR_ACCESS_TOKEN" => backends.contains(&Backend::Rollbar),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_aws_vars_are_listed_once() {
        let names: Vec<_> = needed_for(&[Backend::Xray, Backend::Cloudwatch])
            .iter()
            .map(|v| v.name)
            .collect();
        assert_eq!(
            names,
            [
                "AWS_ACCESS_KEY_ID",
                "AWS_SECRET_ACCESS_KEY",
                "AWS_DEFAULT_REGION"
            ]
        );
        assert!(needed_for(&[Backend::Local]).is_empty());
    }
}
