//! What several groups of checks ask of the workspace: declared here, apart
//! from any one group, so that no two groups lean on each other.

use crate::rules::names::is_near_miss;
use crate::workspace::context::Context;
use crate::workspace::destination::{BASE, TRACES};

/// The OTEL variables a student meant but misspelt in the backend's
/// environment (`OTEL_EXPORTER_OLTP_ENDPOINT`): (written, meant).
pub fn misspelt_variables(ctx: &Context) -> Vec<(String, &'static str)> {
    const MEANT: &[&str] = &[
        BASE,
        TRACES,
        "OTEL_EXPORTER_OTLP_HEADERS",
        "OTEL_SERVICE_NAME",
        "OTEL_EXPORTER_OTLP_PROTOCOL",
    ];
    let Some((_, env)) = ctx.app_env() else {
        return Vec::new();
    };
    if ctx.compose.is_none() {
        return Vec::new();
    }
    env.keys()
        .filter(|k| !MEANT.contains(&k.as_str()) && k.starts_with("OTEL"))
        .filter_map(|k| {
            let meant = MEANT
                .iter()
                .find(|m| is_near_miss(k, m) || k.replace("OLTP", "OTLP") == **m)?;
            (!env.contains_key(*meant)).then(|| (k.clone(), *meant))
        })
        .collect()
}
