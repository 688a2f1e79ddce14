//! One hop of the pipeline: from the backend's container to a host name.
//! Inside a container `localhost` is the container itself, a compose
//! service's name resolves only on a network both are on, and anything
//! else is a host outside.

use crate::doctor::finding::{CheckId, Finding, Layer};
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

pub use crate::workspace::url::is_loopback;

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
        let backend = ctx.backend_service();
        let mode = backend
            .and_then(|s| compose.file.service(s))
            .and_then(|s| s.network_mode.as_deref());
        if mode == Some("host") {
            return Reach::ThisMachine;
        }
        // `network_mode: service:X` puts two containers on one localhost.
        if let Some(shared) = backend.and_then(|b| shares_localhost_with(&compose.file, b)) {
            return Reach::Service(shared);
        }
        return Reach::ContainerItself;
    }
    // Any name Compose gives the container: the service's, container_name,
    // hostname, a network alias, or an alias in the backend's links.
    if let Some(service) = compose.file.reached_from(ctx.backend_service(), &host) {
        return Reach::Service(service.name.clone());
    }
    if host.contains('.') || host.contains(':') || host == "host.docker.internal" {
        return Reach::External;
    }
    Reach::UnknownService
}

/// The one other service on `service`'s localhost: the one it names in
/// `network_mode: service:X`, or the one naming it so.
fn shares_localhost_with(
    file: &crate::workspace::compose::ComposeFile,
    service: &str,
) -> Option<String> {
    let joined = |s: &crate::workspace::compose::Service| {
        s.network_mode
            .as_deref()
            .and_then(|m| m.strip_prefix("service:"))
            .map(str::to_string)
    };
    if let Some(other) = file.service(service).and_then(joined) {
        return Some(other);
    }
    let mut joiners = file
        .services
        .iter()
        .filter(|s| joined(s).as_deref() == Some(service));
    match (joiners.next(), joiners.next()) {
        (Some(one), None) => Some(one.name.clone()),
        _ => None,
    }
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
pub fn network_finding(ctx: &Context, target: &str, id: CheckId, what: &str) -> Option<Finding> {
    let compose = ctx.compose.as_ref()?;
    let backend = ctx.backend_service()?;
    let uses_host = |s: &str| {
        compose
            .file
            .service(s)
            .is_some_and(|s| s.network_mode.as_deref() == Some("host"))
    };
    let joins = |a: &str, b: &str| {
        compose
            .file
            .service(a)
            .and_then(|s| s.network_mode.as_deref())
            .is_some_and(|m| m.strip_prefix("service:") == Some(b))
    };
    if backend == target
        || uses_host(backend)
        || uses_host(target)
        || joins(backend, target)
        || joins(target, backend)
    {
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

#[cfg(test)]
mod tests {
    use super::super::testing::{SHELL, context, replace, unchanged};
    use super::*;

    #[test]
    fn a_host_is_what_the_backend_container_reaches_by_it() {
        let (_dir, ctx) = context("honeycomb,xray", unchanged, SHELL);
        assert_eq!(reach(&ctx, "localhost"), Reach::ContainerItself);
        assert_eq!(reach(&ctx, "127.0.0.1"), Reach::ContainerItself);
        assert_eq!(
            reach(&ctx, "XRAY-DAEMON"),
            Reach::Service("xray-daemon".into())
        );
        assert_eq!(reach(&ctx, "xray-deamon"), Reach::UnknownService);
        assert_eq!(reach(&ctx, "api.honeycomb.io"), Reach::External);
        assert_eq!(reach(&ctx, "host.docker.internal"), Reach::External);
        assert_eq!(
            network_finding(&ctx, "xray-daemon", CheckId::XrayDaemonNetwork, "segments"),
            None
        );
    }

    #[test]
    fn the_host_network_makes_localhost_this_machine() {
        let (_dir, ctx) = context(
            "honeycomb",
            replace(
                "docker-compose.yml",
                "  backend-flask:\n",
                "  backend-flask:\n    network_mode: host\n",
            ),
            SHELL,
        );
        assert_eq!(reach(&ctx, "localhost"), Reach::ThisMachine);
    }

    #[test]
    fn services_on_no_common_network_do_not_resolve_each_other() {
        let (_dir, ctx) = context(
            "honeycomb,xray",
            replace(
                "docker-compose.yml",
                "  xray-daemon:\n",
                "  xray-daemon:\n    networks: [elsewhere]\n",
            ),
            SHELL,
        );
        let found = network_finding(&ctx, "xray-daemon", CheckId::XrayDaemonNetwork, "segments")
            .expect("a finding");
        assert!(
            found.message.contains("does not resolve"),
            "{}",
            found.message
        );
        assert!(found.fix.unwrap().contains("networks: [default]"));
    }
}
