//! Endpoint URLs as the exporter sees them: scheme, authority, host, port, path.

pub struct Url<'a> {
    pub scheme: &'a str,
    /// `host:port` as written (user info dropped), for rebuilding the origin.
    pub authority: &'a str,
    /// The host without IPv6 brackets.
    pub host: &'a str,
    pub port: Option<u16>,
    pub path: &'a str,
}

/// Splits `scheme://authority/path`; None when there is no scheme.
pub fn parse(url: &str) -> Option<Url<'_>> {
    let (scheme, rest) = url.split_once("://")?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    let authority = authority.rsplit('@').next().unwrap_or(authority);
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) if !h.ends_with(']') || authority.starts_with('[') => (h, p.parse().ok()),
        _ => (authority, None),
    };
    Some(Url {
        scheme,
        authority,
        host: host.trim_matches(['[', ']']),
        port,
        path,
    })
}

/// `localhost`, `127.x`, `::1`, `0.0.0.0`: this machine (or, inside a
/// container, the container itself).
pub fn is_loopback(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    matches!(host, "localhost" | "::1" | "0.0.0.0") || host.starts_with("127.")
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn urls() {
        let u = parse("https://api.honeycomb.io:443/v1/traces").unwrap();
        assert_eq!(
            (u.scheme, u.authority, u.host, u.port, u.path),
            (
                "https",
                "api.honeycomb.io:443",
                "api.honeycomb.io",
                Some(443),
                "/v1/traces"
            )
        );
        let u = parse("http://jaeger:4318").unwrap();
        assert_eq!((u.host, u.port, u.path), ("jaeger", Some(4318), ""));
        let u = parse("http://[::1]:4318/v1/traces").unwrap();
        assert_eq!(
            (u.authority, u.host, u.port),
            ("[::1]:4318", "::1", Some(4318))
        );
        assert!(parse("api.honeycomb.io").is_none());
    }
}
