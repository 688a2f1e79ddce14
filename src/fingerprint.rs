//! Secrets are shown only as fingerprints: enough to tell two keys apart and
//! to recognise your own, never enough to use one.

use sha2::{Digest, Sha256};

/// `hcaik_…(64 chars, #1a2b3c)`: a key's public prefix (the kind of key,
/// never a character of its secret part), the length, and the first 6 hex
/// digits of the SHA-256 of the whole value.
pub fn fingerprint(secret: &str) -> String {
    let length = secret.chars().count();
    if length == 0 {
        return "(empty)".into();
    }
    let digest = Sha256::digest(secret.as_bytes());
    let hash: String = digest.iter().take(3).map(|b| format!("{b:02x}")).collect();
    format!("{}…({length} chars, #{hash})", public_prefix(secret))
}

/// The part of a key that only says what kind of key it is: `hcaik_` or
/// `hcxic_` of a Honeycomb ingest key, `AKIA`/`ASIA` of an AWS key id.
fn public_prefix(secret: &str) -> &str {
    let bytes = secret.as_bytes();
    let honeycomb = bytes.len() > 6
        && secret.starts_with("hc")
        && bytes[2].is_ascii_lowercase()
        && (secret[3..].starts_with("ik_") || secret[3..].starts_with("ic_"));
    if honeycomb {
        return &secret[..6];
    }
    if secret.len() > 4 && (secret.starts_with("AKIA") || secret.starts_with("ASIA")) {
        return &secret[..4];
    }
    ""
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_contains_a_character_of_the_secret_part() {
        let key = "hcaik_01jabcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrs";
        let shown = fingerprint(key);
        assert!(shown.starts_with("hcaik_…(64 chars, #"), "{shown}");
        assert!(!shown.contains("01j"), "{shown}");
        // An AWS secret access key, a Rollbar token, a configuration key:
        // no kind prefix, so nothing of the value at all.
        for secret in [
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            "0123456789abcdef0123456789abcdef",
            "Fk7TqZ2mWc9RbX4nLp0Jd3",
        ] {
            let shown = fingerprint(secret);
            assert!(shown.starts_with('…'), "{shown}");
            assert!(!shown.contains(&secret[..3]), "{shown}");
        }
        assert!(fingerprint("AKIAZ7Q4R5T6Y7U8I9O0").starts_with("AKIA…(20 chars"));
        assert_ne!(
            fingerprint("a-different-key-value"),
            fingerprint("a-different-key-valuf")
        );
        assert_eq!(fingerprint(""), "(empty)");
        assert!(fingerprint("short").starts_with("…(5 chars"));
    }
}
