//! Which span attribute values the OpenTelemetry Python SDK keeps. Before
//! 1.45.0 it kept only str, bool, int and float, and sequences of one of
//! them (None allowed), dropping anything else with a warning; from 1.45.0
//! it also keeps mappings and mixed or nested sequences. Compared with the
//! real SDK at both sides of that line in tests/integration/python_semantics.rs.

/// A literal value, as far as its source shows its type.
#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    Str,
    Int,
    Float,
    Bool,
    None,
    Mapping,
    Sequence(Vec<Kind>),
    /// Anything the source does not show the type of.
    Unknown,
}

/// The first SDK version that keeps mappings and mixed sequences.
pub const KEEPS_ANY_VALUE: (u32, u32, u32) = (1, 45, 0);

/// Why the SDK at `version` drops the value; None when it keeps it (or
/// the source does not show enough to say).
pub fn dropped(kind: &Kind, version: (u32, u32, u32)) -> Option<&'static str> {
    if version >= KEEPS_ANY_VALUE {
        return None;
    }
    match kind {
        Kind::Mapping => Some("a dict"),
        Kind::Sequence(items) => {
            if items.iter().any(|i| matches!(i, Kind::Unknown)) {
                return None;
            }
            if items.iter().any(|i| matches!(i, Kind::Mapping)) {
                return Some("a list of dicts");
            }
            if items.iter().any(|i| matches!(i, Kind::Sequence(_))) {
                return Some("a nested list");
            }
            let mut types = items.iter().filter(|i| **i != Kind::None);
            let first = types.next()?;
            types.any(|t| t != first).then_some("a list of mixed types")
        }
        _ => None,
    }
}
