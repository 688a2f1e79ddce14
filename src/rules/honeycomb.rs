//! Honeycomb API keys (formats from honeycomb-opentelemetry and Honeycomb's docs).

use super::Shape;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    Ingest,
    ClassicIngest,
    Configuration,
    ClassicConfiguration,
}

impl KeyKind {
    pub fn describe(self) -> &'static str {
        match self {
            KeyKind::Ingest => "ingest key",
            KeyKind::ClassicIngest => "classic ingest key",
            KeyKind::Configuration => "configuration key",
            KeyKind::ClassicConfiguration => "classic configuration key",
        }
    }

    /// Classic keys send to a dataset named by `x-honeycomb-dataset`.
    pub fn is_classic(self) -> bool {
        matches!(self, KeyKind::ClassicIngest | KeyKind::ClassicConfiguration)
    }
}

pub const US_API_HOST: &str = "api.honeycomb.io";
pub const EU_API_HOST: &str = "api.eu1.honeycomb.io";

fn lower_alnum(s: &str) -> bool {
    s.bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

/// `hc` + one letter + `ik_`/`ic_` + 58 lowercase alphanumerics.
fn ingest_kind(key: &str) -> Option<KeyKind> {
    if key.len() != 64 {
        return None;
    }
    ingest_tail_kind(key.strip_prefix("hc")?)
}

/// What follows an ingest key's `hc`: one letter + `ik_`/`ic_` + 58
/// lowercase alphanumerics (62 bytes).
fn ingest_tail_kind(tail: &str) -> Option<KeyKind> {
    let bytes = tail.as_bytes();
    // Byte slicing below is only safe on ASCII; real keys always are.
    if !tail.is_ascii() || tail.len() != 62 || !bytes[0].is_ascii_lowercase() {
        return None;
    }
    let kind = match &tail[1..4] {
        "ik_" => KeyKind::Ingest,
        "ic_" => KeyKind::ClassicIngest,
        _ => return None,
    };
    lower_alnum(&tail[4..]).then_some(kind)
}

/// Whether `text` goes on as an ingest key does after its `hc`: for a
/// search that found the `hc` and asks whether a key can start there.
pub fn goes_on_as_ingest_key(text: &str) -> bool {
    text.get(..62)
        .is_some_and(|tail| ingest_tail_kind(tail).is_some())
}

pub fn classify(key: &str) -> Option<KeyKind> {
    if let Some(kind) = ingest_kind(key) {
        return Some(kind);
    }
    if key.len() == 32
        && key
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return Some(KeyKind::ClassicConfiguration);
    }
    if (22..=23).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Some(KeyKind::Configuration);
    }
    None
}

pub fn key_shape(key: &str) -> Shape {
    match classify(key) {
        Some(kind) => Shape::Fits(kind.describe().into()),
        None => Shape::Wrong(format!(
            "fits no Honeycomb key format ({} characters; expected a 64-character ingest key \
             hcXik_..., a 22/23-character configuration key, or a 32-hex classic key)",
            key.chars().count()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind() {
        let ingest = format!("hcaik_{}", "a1".repeat(29));
        assert_eq!(classify(&ingest), Some(KeyKind::Ingest));
        assert_eq!(
            classify(&ingest.replace("ik_", "ic_")),
            Some(KeyKind::ClassicIngest)
        );
        assert_eq!(
            classify(&"0123456789abcdef".repeat(2)),
            Some(KeyKind::ClassicConfiguration)
        );
        assert_eq!(
            classify("AbCdEfGhIjKlMnOpQrStUv"),
            Some(KeyKind::Configuration)
        );
        assert_eq!(
            classify("AbCdEfGhIjKlMnOpQrStUvW"),
            Some(KeyKind::Configuration)
        );
        for bad in [
            "",
            "your-api-key",
            &ingest.to_uppercase(),
            &ingest[..63],
            "AbCdEfGhIjKlMnOpQrSt-v",
        ] {
            assert_eq!(classify(bad), None, "{bad}");
        }
        assert!(KeyKind::ClassicIngest.is_classic() && !KeyKind::Ingest.is_classic());
        // 64 bytes with a multi-byte character across the prefix boundary.
        let tricky = format!("hcaik\u{e9}{}", "a".repeat(57));
        assert_eq!(tricky.len(), 64);
        assert_eq!(classify(&tricky), None);
    }
}
