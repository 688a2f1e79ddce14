//! `honeycomb-*`: the key the exporter really sends in `x-honeycomb-team`
//! is there, is the key the shell holds, fits a key format, and is the one
//! the running container has.

use crate::backend::Backend;
use crate::doctor::finding::{CheckId, Finding, Layer};
use crate::fingerprint::fingerprint;
use crate::rules::honeycomb::classify;
use crate::rules::otlp_headers::{header, headers};
use crate::workspace::context::Context;

use super::env::{honeycomb_key_is_broken, set_command};
use crate::rules::otlp_headers::headers_variable;
use crate::workspace::destination::{destination, destination_host};

const KEY: &str = "HONEYCOMB_API_KEY";
const TEAM: &str = "x-honeycomb-team";

/// Only the hop that reaches Honeycomb needs the header: not a backend that
/// exports to a collector (the collector carries it), not one whose code
/// passes its own headers, not one whose endpoint is unset (otlp-endpoint).
fn sends_straight_to_honeycomb(ctx: &Context) -> bool {
    let Some(destination) = destination(ctx) else {
        return false;
    };
    !destination.headers_in_code
        && destination_host(&destination).is_some_and(|h| h.ends_with("honeycomb.io"))
}

/// `docker-compose.yml:9` when the backend's `environment:` writes `team`
/// into `variable` as it is, not through `${...}`.
fn written_in_compose(ctx: &Context, variable: &str, team: &str) -> Option<String> {
    let compose = ctx.compose.as_ref()?;
    let service = compose.file.service(compose.backend.as_deref()?)?;
    let raw = service
        .environment
        .iter()
        .find(|(k, _)| k.trim() == variable)?
        .1
        .as_deref()?;
    (raw.contains(team) && !raw.contains("${")).then(|| {
        compose
            .file
            .place(&service.name, &["environment", variable])
    })
}

pub fn run(ctx: &Context) -> Vec<Finding> {
    if !ctx.uses(Backend::Honeycomb)
        || !sends_straight_to_honeycomb(ctx)
        || honeycomb_key_is_broken(ctx)
    {
        return Vec::new();
    }
    let mut out = Vec::new();
    let Some(layer) = ctx.app_layer() else {
        return out;
    };
    let service = ctx.backend_name().to_string();
    let Some((variable, value)) = headers_variable(|n| ctx.app_var(n).map(|(_, v)| v)) else {
        let finding = Finding::fail(CheckId::HoneycombHeader, layer, "OTEL_EXPORTER_OTLP_HEADERS is not set: Honeycomb answers 401 to spans without x-honeycomb-team")
            .var("OTEL_EXPORTER_OTLP_HEADERS");
        let wanted = format!("{TEAM}=${{{KEY}}}");
        let added = super::compose_edits::add_entries(
            ctx,
            &service,
            &[("OTEL_EXPORTER_OTLP_HEADERS", &wanted)],
        );
        out.push(finding.edit_or(
            added,
            format!(
                "add to services.{service}.environment:  OTEL_EXPORTER_OTLP_HEADERS: \"{wanted}\""
            ),
        ));
        return out;
    };
    let sent = headers(&value);
    let Some(team) = header(&sent, TEAM) else {
        // A malformed entry is the cause: otlp-headers-format names it.
        if crate::rules::otlp_headers::parse(&value, true)
            .iter()
            .any(|entry| entry.problem.is_some())
        {
            return out;
        }
        let finding = Finding::fail(
            CheckId::HoneycombHeader,
            layer,
            format!("{variable} sends no usable {TEAM} header: Honeycomb answers 401"),
        )
        .var(variable);
        out.push(the_team_header(finding, ctx, variable, true));
        return out;
    };
    if team.is_empty() {
        // With the key unset, env-missing already names the cause and the
        // fix; with the key's name misspelt in the reference, env-near-miss.
        let misspelt_reference = super::compose_edits::written(ctx, ctx.backend_name(), variable)
            .is_some_and(|raw| {
                crate::workspace::interpolate::referenced(&raw)
                    .iter()
                    .any(|r| crate::rules::names::is_near_miss(r, KEY))
            });
        if ctx.feeding(KEY).is_some_and(|(_, v)| !v.is_empty()) && !misspelt_reference {
            out.push(
                the_team_header(
                    Finding::fail(CheckId::HoneycombHeader, layer, format!("{TEAM} is empty after interpolation although {KEY} is set: the header refers to another variable"))
                        .var(variable),
                    ctx,
                    variable,
                    false,
                ),
            );
        }
        return out;
    }
    let mut good = true;
    let key = ctx.feeding(KEY).map(|(_, v)| v).filter(|v| !v.is_empty());
    match key {
        Some(key) if key != team => {
            good = false;
            let finding = match written_in_compose(ctx, variable, team) {
                // Committed with the repository, and sent instead of the
                // key the student set: one finding says both, at its line.
                Some(place) => Finding::fail(
                    CheckId::HoneycombHeaderKey,
                    layer,
                    format!("{place}: a key written into the headers ({}), in a file the repository commits: the container sends it instead of {KEY} ({}), and anyone who reads the repository can use it", fingerprint(team), fingerprint(key)),
                )
                .fix(format!("{place}: {variable}: \"x-honeycomb-team=${{{KEY}}}\"   # then rotate the written key in Honeycomb")),
                None => Finding::fail(
                    CheckId::HoneycombHeaderKey,
                    layer,
                    format!("{TEAM} sends {} but {KEY} holds {}: a key written into the headers instead of ${{{KEY}}}?", fingerprint(team), fingerprint(key)),
                )
                .fix(format!("{variable}: \"x-honeycomb-team=${{{KEY}}}\"")),
            };
            out.push(finding.var(KEY));
        }
        _ => {}
    }
    if key != Some(team) {
        // The variable's own checks do not cover a key that came from elsewhere.
        if classify(team).is_none() {
            good = false;
            out.push(
                Finding::fail(
                    CheckId::HoneycombKeyShape,
                    layer,
                    format!(
                        "the key sent in {TEAM} ({}) fits no Honeycomb key format",
                        fingerprint(team)
                    ),
                )
                .var(variable)
                .fix(set_command(ctx, KEY)),
            );
        }
    }
    if let Some(kind) = classify(team)
        && kind.is_classic()
        && header(&sent, "x-honeycomb-dataset").is_none_or(str::is_empty)
    {
        good = false;
        out.push(
            Finding::fail(
                CheckId::HoneycombClassicDataset,
                layer,
                format!("{} is a {}: classic keys need an x-honeycomb-dataset header, or spans are rejected", fingerprint(team), kind.describe()),
            )
            .var(variable)
            .fix(format!("{variable}: \"x-honeycomb-team=${{{KEY}}},x-honeycomb-dataset={service}\"")),
        );
    }
    if let Some(container) = ctx.container.get() {
        let running = headers_variable(|n| container.get(n).cloned())
            .map(|(_, v)| headers(&v))
            .and_then(|h| header(&h, TEAM).map(str::to_string));
        if running.as_deref() != Some(team) {
            good = false;
            out.push(
                Finding::fail(
                    CheckId::HoneycombContainerKey,
                    Layer::Container,
                    format!(
                        "the running container sends {} but the compose file now resolves to {}: it was started before the key was set or changed",
                        running.as_deref().map(fingerprint).unwrap_or_else(|| "no key".into()),
                        fingerprint(team)
                    ),
                )
                .var(KEY)
                .fix(format!("docker compose up -d --force-recreate {service}")),
            );
        }
    }
    if good {
        let kind = classify(team).map(|k| k.describe()).unwrap_or("key");
        out.push(
            Finding::ok(
                CheckId::HoneycombHeader,
                layer,
                format!("{TEAM} sends the {kind} {}", fingerprint(team)),
            )
            .var(KEY),
        );
    }
    out
}

/// `finding` fixed by writing the headers as the one team header: an
/// edit where that is all `variable` sends, else the line as advice. With
/// `keep_value` the header keeps the value the file gives it (only its name
/// was wrong); else it takes the key's variable.
fn the_team_header(finding: Finding, ctx: &Context, variable: &str, keep_value: bool) -> Finding {
    let written = super::compose_edits::written(ctx, ctx.backend_name(), variable);
    let kept = written
        .as_deref()
        .filter(|w| keep_value && !w.contains(','))
        .and_then(|w| w.split_once('='))
        .map(|(_, value)| value.trim().to_string())
        .filter(|value| !value.is_empty());
    let wanted = format!("{TEAM}={}", kept.unwrap_or_else(|| format!("${{{KEY}}}")));
    if written.is_none_or(|w| w.contains(',')) {
        return finding.fix(format!(
            "{variable}: \"{wanted}\"   # beside any other headers"
        ));
    }
    super::compose_edits::fix_value(finding, ctx, variable, &wanted, None)
}

#[cfg(test)]
mod tests {
    use super::super::testing::{SHELL, check, replace};
    use crate::doctor::finding::{CheckId, Status};

    #[test]
    fn a_key_written_into_the_headers_says_where_and_that_it_is_committed() {
        let written = "hcaik_01jzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz";
        let headers = format!("x-honeycomb-team={written}");
        let checked = check(
            "honeycomb",
            replace(
                "docker-compose.yml",
                "x-honeycomb-team=${HONEYCOMB_API_KEY}",
                &headers,
            ),
            SHELL,
        );
        let finding = checked.one(CheckId::HoneycombHeaderKey, Status::Fail);
        assert!(
            finding.message.contains("docker-compose.yml:"),
            "{}",
            finding.message
        );
        assert!(finding.message.contains("commits"), "{}", finding.message);
        assert!(
            !finding.message.contains(written),
            "a key is printed only as its fingerprint"
        );
    }
}
