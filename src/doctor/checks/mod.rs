//! The checklist. Each group of checks lives in the file its ids start with
//! (`env-*` in env.rs, `otlp-*` in otlp.rs, ...); `ALL` runs them in order.

mod aws;
mod code;
mod container;
mod env;
mod honeycomb;
mod otlp;
mod workspace;

pub use honeycomb::headers_variable as honeycomb_headers_variable;

use super::finding::Finding;
use crate::workspace::context::Context;

/// A group of related checks: a report section, and the function that runs them.
pub struct Check {
    pub group: &'static str,
    pub run: fn(&Context) -> Vec<Finding>,
}

pub const ALL: &[Check] = &[
    Check {
        group: "Workspace",
        run: workspace::run,
    },
    Check {
        group: "Environment variables",
        run: env::run,
    },
    Check {
        group: "Honeycomb",
        run: honeycomb::run,
    },
    Check {
        group: "OpenTelemetry exporter",
        run: otlp::run,
    },
    Check {
        group: "AWS (X-Ray, CloudWatch)",
        run: aws::run,
    },
    Check {
        group: "Code",
        run: code::run,
    },
    Check {
        group: "Running container",
        run: container::run,
    },
];

/// Runs every check, tagging each finding with its group.
pub fn run_all(ctx: &Context) -> Vec<Finding> {
    ALL.iter()
        .flat_map(|check| {
            (check.run)(ctx).into_iter().map(move |mut finding| {
                finding.group = check.group;
                finding
            })
        })
        .collect()
}
