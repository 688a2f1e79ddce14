//! Which names the servers answer to. A web page can point its own domain
//! at 127.0.0.1 (DNS rebinding) and then read this port as if it were its
//! own origin; its requests still carry its domain in `Host`. So a request
//! is served only when `Host` names this machine the way a person, a
//! container or a forwarded port does.

use std::net::IpAddr;

/// The names a request may use, beyond the ones every machine has.
#[derive(Debug, Clone, Default)]
pub struct AllowedHosts {
    /// From `--allow-host`: another name this machine has.
    pub extra: Vec<String>,
}

/// Names a container or a person uses for this machine.
const LOCAL_NAMES: &[&str] = &[
    "localhost",
    "host.docker.internal",
    "gateway.docker.internal",
    "host.containers.internal",
];

impl AllowedHosts {
    /// Whether a request with this `Host` header (None: the request had
    /// none, as HTTP/1.0 may) is served.
    pub fn allows(&self, header: Option<&str>) -> bool {
        let Some(header) = header else {
            return true;
        };
        let host = name_of(header).to_ascii_lowercase();
        // An address is never a rebinding: the attack needs a name.
        host.trim_matches(['[', ']']).parse::<IpAddr>().is_ok()
            || LOCAL_NAMES.contains(&host.as_str())
            || host.ends_with(".localhost")
            || self.extra.iter().any(|e| e.eq_ignore_ascii_case(&host))
            || is_forwarded(&host)
            || machine_name().is_some_and(|m| m.eq_ignore_ascii_case(&host))
    }

    /// Why a request was refused, and what to do if it was meant.
    pub fn refusal(header: &str) -> String {
        format!(
            "Host {header:?} is not a name of this machine: tracelab answers to localhost, an IP address, host.docker.internal, and the Gitpod or Codespaces address of its port (a web page that renamed itself to 127.0.0.1 is refused). If this is a name of yours, start with --allow-host {}",
            name_of(header)
        )
    }
}

/// `name:port` or `[v6]:port` to the name alone.
fn name_of(header: &str) -> &str {
    let header = header.trim();
    if header.starts_with('[') {
        return header.split_once(']').map_or(header, |(v6, _)| &v6[1..]);
    }
    header.rsplit_once(':').map_or(header, |(name, _)| name)
}

/// Whether `host` is a forwarded port of this Gitpod workspace
/// (`4320-<workspace host>`) or Codespace (`<codespace>-4320.<domain>`).
fn is_forwarded(host: &str) -> bool {
    let gitpod = std::env::var("GITPOD_WORKSPACE_URL").ok().and_then(|url| {
        let workspace = url
            .strip_prefix("https://")?
            .trim_end_matches('/')
            .to_ascii_lowercase();
        Some(host.ends_with(&format!("-{workspace}")))
    });
    let codespace = match (
        std::env::var("CODESPACE_NAME"),
        std::env::var("GITHUB_CODESPACES_PORT_FORWARDING_DOMAIN"),
    ) {
        (Ok(name), Ok(domain)) if !name.is_empty() && !domain.is_empty() => {
            host.starts_with(&format!("{}-", name.to_ascii_lowercase()))
                && host.ends_with(&format!(".{}", domain.to_ascii_lowercase()))
        }
        _ => false,
    };
    gitpod == Some(true) || codespace
}

/// This machine's own name, as `hostname` prints it.
fn machine_name() -> Option<String> {
    let name = nix::unistd::gethostname().ok()?;
    Some(name.to_string_lossy().into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_names_and_addresses_pass_and_other_names_do_not() {
        let hosts = AllowedHosts {
            extra: vec!["devbox.lan".into()],
        };
        for ok in [
            "127.0.0.1:4318",
            "localhost:4320",
            "LOCALHOST",
            "[::1]:4320",
            "172.17.0.1:4318",
            "host.docker.internal:4318",
            "app.localhost:4320",
            "devbox.lan:4320",
        ] {
            assert!(hosts.allows(Some(ok)), "{ok}");
        }
        assert!(hosts.allows(None));
        for refused in [
            "evil.example:4320",
            "localhost.evil.example",
            "127.0.0.1.nip.io:4320",
            "host.docker.internal.evil.example",
        ] {
            assert!(!hosts.allows(Some(refused)), "{refused}");
        }
        assert!(AllowedHosts::refusal("evil.example:4320").contains("--allow-host evil.example"));
    }
}
