//! Rules about values, shared by `doctor` and `env set`: what a Honeycomb key,
//! an AWS key or a Rollbar token looks like, what a placeholder is, which
//! names are near misses, and how OpenTelemetry parses its headers variable.

pub mod aws;
pub mod honeycomb;
pub mod lab;
pub mod names;
pub mod otel_attributes;
pub mod otlp_headers;
pub mod python_modules;
pub mod sorted_lines;
pub mod values;

/// The verdict of a shape rule on one value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Shape {
    /// Fits; the text names the kind (e.g. "ingest key").
    Fits(String),
    /// Unusual but possibly valid: warn.
    Unusual(String),
    /// Cannot be valid: fail.
    Wrong(String),
}

/// The shape rule for a variable, if it has one.
pub fn check_shape(name: &str, value: &str) -> Option<Shape> {
    match name {
        "HONEYCOMB_API_KEY" => Some(honeycomb::key_shape(value)),
        "AWS_ACCESS_KEY_ID" => Some(aws::access_key_shape(value)),
        "AWS_SECRET_ACCESS_KEY" => Some(aws::secret_key_shape(value)),
        "AWS_DEFAULT_REGION" | "AWS_REGION" => Some(aws::region_shape(value)),
        "ROLLBAR_ACCESS_TOKEN" => Some(values::rollbar_token_shape(value)),
        _ => None,
    }
}

/// `(1, 44, 0)` from a requirement pin's `1.44.0` (missing parts are 0,
/// a suffix such as `b1` or `rc1` is dropped).
pub fn parse_version(text: &str) -> Option<(u32, u32, u32)> {
    let mut parts = text.trim().split('.').map(|p| {
        p.chars()
            .take_while(char::is_ascii_digit)
            .collect::<String>()
            .parse::<u32>()
            .ok()
    });
    Some((
        parts.next()??,
        parts.next().flatten().unwrap_or(0),
        parts.next().flatten().unwrap_or(0),
    ))
}
