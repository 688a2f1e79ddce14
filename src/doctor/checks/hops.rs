//! One hop of the pipeline: from the backend's container to a host name.
//! Inside a container `localhost` is the container itself, a compose
//! service's name resolves only on a network both are on, and anything
//! else is a host outside.

use crate::doctor::finding::{Finding, Layer};
use crate::workspace::context::Context;

#[derive(Debug, Clone, PartialEq)]
pub enum Reach {
    /// A compose service of this name.
    Service(String),
    /// `localhost`/`127.x` from a container: the container itself.
    ContainerItself,
    /// `localhost` with `network_mode: host`, or no container at all.
    ThisMachine,
    /// A bare name that no compose service has.
    UnknownService,
    /// A DNS name or address outside.
    External,
}

pub fn is_loopback(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    matches!(host, "localhost" | "::1" | "0.0.0.0") || host.starts_with("127.")
}

/// What `host` is, seen from the backend.
pub fn reach(ctx: &Context, host: &str) -> Reach {
    let host = host.to_ascii_lowercase();
    let Some(compose) = &ctx.compose else {
        return if is_loopback(&host) {
            Reach::ThisMachine
        } else {
            Reach::External
        };
    };
    if is_loopback(&host) {
        let host_network = ctx
            .backend_service()
            .and_then(|s| compose.file.service(s))
            .and_then(|s| s.network_mode.as_deref())
            == Some("host");
        return if host_network {
            Reach::ThisMachine
        } else {
            Reach::ContainerItself
        };
    }
    if compose.file.service(&host).is_some() {
        return Reach::Service(host);
    }
    if host.contains('.') || host.contains(':') || host == "host.docker.internal" {
        return Reach::External;
    }
    Reach::UnknownService
}

/// A service's networks: resolved when Compose resolved the file, else as
/// written (so a file that does not resolve is still checked).
fn networks(ctx: &Context, service: &str) -> Vec<String> {
    let Some(compose) = &ctx.compose else {
        return Vec::new();
    };
    if let Some(resolved) = compose
        .resolved
        .as_ref()
        .and_then(|r| r.networks.get(service))
    {
        return resolved.clone();
    }
    compose
        .file
        .service(service)
        .and_then(|s| s.networks.clone())
        .unwrap_or_else(|| vec!["default".into()])
}

/// A failure when the backend and `target` share no network: from the
/// backend, the name `target` does not resolve.
pub fn network_finding(
    ctx: &Context,
    target: &str,
    id: &'static str,
    what: &str,
) -> Option<Finding> {
    let compose = ctx.compose.as_ref()?;
    let backend = ctx.backend_service()?;
    let uses_host = |s: &str| {
        compose
            .file
            .service(s)
            .is_some_and(|s| s.network_mode.as_deref() == Some("host"))
    };
    if backend == target || uses_host(backend) || uses_host(target) {
        return None;
    }
    let from = networks(ctx, backend);
    let to = networks(ctx, target);
    if from.iter().any(|n| to.contains(n)) {
        return None;
    }
    let place = compose.file.place(target, &["networks"]);
    let fix_networks = compose
        .file
        .service(backend)
        .and_then(|s| s.networks.clone())
        .unwrap_or_else(|| vec!["default".into()]);
    Some(
        Finding::fail(
            id,
            Layer::Compose,
            format!(
                "{place}: {backend} is on {} and {target} on {}: from {backend} the name {target} does not resolve, so {what} go nowhere",
                from.join(", "),
                to.join(", ")
            ),
        )
        .fix(format!(
            "give services.{target} the backend's network ({place}):  networks: [{}]",
            fix_networks.join(", ")
        )),
    )
}
