//! Secrets are shown only as fingerprints: enough to tell two keys apart and
//! to recognise your own, never enough to use one.

use sha2::{Digest, Sha256};

/// `hcai…(64 chars, #1a2b3c)`: the first 4 characters, the length, and the
/// first 6 hex digits of the SHA-256 of the whole value.
pub fn fingerprint(secret: &str) -> String {
    let length = secret.chars().count();
    if length == 0 {
        return "(empty)".into();
    }
    // Short values would be given away by their first 4 characters.
    let shown: String = if length >= 12 {
        secret.chars().take(4).collect()
    } else {
        String::new()
    };
    let digest = Sha256::digest(secret.as_bytes());
    let hash: String = digest.iter().take(3).map(|b| format!("{b:02x}")).collect();
    format!("{shown}…({length} chars, #{hash})")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_contains_the_secret() {
        let key = "hcaik_01jabcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrs";
        let shown = fingerprint(key);
        assert!(shown.starts_with("hcai…(64 chars, #"), "{shown}");
        assert!(!shown.contains(&key[4..10]));
        assert_ne!(
            fingerprint("a-different-key-value"),
            fingerprint("a-different-key-valuf")
        );
        assert_eq!(fingerprint(""), "(empty)");
        assert!(fingerprint("short").starts_with("…(5 chars"));
    }
}
