//! The checklist. Each group of checks lives in the file its ids start with
//! (`env-*` in env.rs, `otlp-*` in otlp.rs, ...); `ALL` runs them in order.

mod aws;
mod code;
mod collector;
mod container;
mod env;
mod honeycomb;
mod hops;
mod lab;
mod otlp;
mod python;
mod secrets;
mod workspace;
mod xray;

use super::finding::{Finding, Status};
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
        group: "OpenTelemetry Collector",
        run: collector::run,
    },
    Check {
        group: "X-Ray",
        run: xray::run,
    },
    Check {
        group: "AWS (CloudWatch)",
        run: aws::run,
    },
    Check {
        group: "Code",
        run: code::run,
    },
    Check {
        group: "Python",
        run: python::run,
    },
    Check {
        group: "The lab's span",
        run: lab::run,
    },
    Check {
        group: "Committed secrets",
        run: secrets::run,
    },
    Check {
        group: "Running container",
        run: container::run,
    },
];

/// (root, echo): when the first is reported for a variable, the second for
/// the same variable follows from it, and its fix would change nothing.
const ECHOES: &[(&str, &str)] = &[
    // A key written into the headers is both "not the shell's key" and
    // "committed"; the header finding says both.
    ("honeycomb-header-key", "env-secret-in-compose"),
    // A variable set nowhere is empty in every service that interpolates
    // it: one finding, which names those services.
    ("env-missing", "xray-daemon-credentials"),
    ("env-missing", "xray-daemon-region"),
    // Unset because it is written under a near-miss name: renaming it is
    // the one fix.
    ("env-near-miss", "env-missing"),
    // The daemon's region interpolated from a variable that is no region:
    // the variable's finding has the command that sets it.
    ("env-shape", "xray-daemon-region"),
];

/// Runs every check, tagging each finding with its group, and drops echoes.
pub fn run_all(ctx: &Context) -> Vec<Finding> {
    let findings: Vec<Finding> = ALL
        .iter()
        .flat_map(|check| {
            (check.run)(ctx).into_iter().map(move |mut finding| {
                finding.group = check.group;
                finding
            })
        })
        .collect();
    let is_echo = |f: &Finding| {
        ECHOES.iter().any(|(root, echo)| {
            f.id == *echo
                && findings
                    .iter()
                    .any(|r| r.id == *root && r.variable == f.variable && r.status == Status::Fail)
        })
    };
    findings.iter().filter(|f| !is_echo(f)).cloned().collect()
}
