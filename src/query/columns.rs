//! A span as Honeycomb stores it: one event whose columns are Honeycomb's
//! own fields for an OTLP span (`duration_ms`, `name`, `trace.trace_id`,
//! `span.kind`, `status_code`, `error`, ...) and every span and resource
//! attribute by its key, a span attribute winning over a resource one.

use serde_json::Value;

use crate::otlp::{ReceivedSpan, any_to_json};

/// Honeycomb's fields for a span, in the order `--explain` lists them.
pub const FIELDS: [&str; 14] = [
    "duration_ms",
    "name",
    "service.name",
    "trace.trace_id",
    "trace.span_id",
    "trace.parent_id",
    "span.kind",
    "status_code",
    "status_message",
    "error",
    "span.num_events",
    "span.num_links",
    "library.name",
    "meta.signal_type",
];

/// The value of `column` on `span`: None when the event has no such column
/// (a root span has no `trace.parent_id`, a span without an error no
/// `error`).
pub fn column(span: &ReceivedSpan, column: &str) -> Option<Value> {
    let s = &span.span;
    let value = match column {
        "duration_ms" => Value::from(span.duration_ms()),
        "name" => Value::from(s.name.as_str()),
        "service.name" => attribute(span, column).unwrap_or_else(|| Value::from(&*span.service)),
        "trace.trace_id" => Value::from(span.trace_id()),
        "trace.span_id" => Value::from(span.span_id()),
        "trace.parent_id" if span.is_root() => return None,
        "trace.parent_id" => Value::from(span.parent_span_id()),
        "span.kind" => Value::from(span.kind()),
        "status_code" => Value::from(s.status.as_ref().map_or(0, |st| st.code)),
        "status_message" => {
            let message = s.status.as_ref().map(|st| st.message.as_str())?;
            if message.is_empty() {
                return None;
            }
            Value::from(message)
        }
        "error" if s.status.as_ref().is_some_and(|st| st.code == 2) => Value::Bool(true),
        "span.num_events" => Value::from(s.events.len()),
        "span.num_links" => Value::from(s.links.len()),
        "library.name" if !span.scope.name.is_empty() => Value::from(span.scope.name.as_str()),
        "library.version" if !span.scope.version.is_empty() => {
            Value::from(span.scope.version.as_str())
        }
        "meta.signal_type" => Value::from("trace"),
        _ => return attribute(span, column),
    };
    Some(value)
}

/// A span attribute, else a resource attribute (`service.name` among them),
/// as Honeycomb flattens them: a list or map as its JSON text.
fn attribute(span: &ReceivedSpan, key: &str) -> Option<Value> {
    let found = span
        .span
        .attributes
        .iter()
        .chain(span.resource.attributes.iter())
        .find(|kv| kv.key == key)?;
    let value = any_to_json(found.value.as_ref()?);
    match value {
        Value::Null => None,
        Value::Array(_) | Value::Object(_) => Some(Value::from(value.to_string())),
        scalar => Some(scalar),
    }
}

/// When the event happened, as Honeycomb times a span: its start, in
/// nanoseconds since the epoch.
pub fn timestamp(span: &ReceivedSpan) -> u64 {
    span.span.start_time_unix_nano
}
