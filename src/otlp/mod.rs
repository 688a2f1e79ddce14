//! Decoding OTLP/HTTP trace requests (protobuf or JSON, optionally gzipped)
//! with the official protobuf types, into flat span records.

use std::collections::BTreeMap;
use std::io::Read;
use std::sync::Arc;

use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::{AnyValue, InstrumentationScope, KeyValue, any_value};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
use prost::Message;
use serde::Serialize;

/// The largest request body accepted, before and after decompression.
pub const MAX_BODY_BYTES: usize = 8 * 1024 * 1024;

/// Spans one request may hold. The SDK's batch processor sends at most 512
/// unless told otherwise, and a Collector's batches are a few thousand.
pub const MAX_SPANS_PER_REQUEST: usize = 100_000;

mod count;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Protobuf,
    Json,
}

impl Encoding {
    /// The encoding a `Content-Type` names, parameters ignored.
    pub fn from_content_type(content_type: &str) -> Option<Self> {
        let media = content_type.split(';').next()?.trim().to_ascii_lowercase();
        match media.as_str() {
            "application/x-protobuf" | "application/protobuf" => Some(Encoding::Protobuf),
            "application/json" => Some(Encoding::Json),
            _ => None,
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Encoding::Protobuf => "application/x-protobuf",
            Encoding::Json => "application/json",
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
pub enum DecodeError {
    TooLarge,
    TooManySpans(usize),
    BadGzip(String),
    BadBody(String),
}

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DecodeError::TooLarge => write!(f, "body larger than {MAX_BODY_BYTES} bytes"),
            DecodeError::TooManySpans(n) => write!(
                f,
                "{n} spans in one request, more than the {MAX_SPANS_PER_REQUEST} tracelab takes at once: send smaller batches (OTEL_BSP_MAX_EXPORT_BATCH_SIZE)"
            ),
            DecodeError::BadGzip(e) => write!(f, "body is not valid gzip: {e}"),
            DecodeError::BadBody(e) => write!(f, "body is not an ExportTraceServiceRequest: {e}"),
        }
    }
}

/// One span, flattened with its resource's service name.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SpanRecord {
    pub service: String,
    pub scope: String,
    pub name: String,
    pub trace_id: String,
    pub span_id: String,
    pub parent_span_id: String,
    pub kind: &'static str,
    pub start_unix_nano: u64,
    pub duration_ms: f64,
    pub status: &'static str,
    pub status_message: String,
    pub attributes: BTreeMap<String, serde_json::Value>,
}

/// One span as it came, with the resource and scope it came under (shared
/// by every span of the same request), so that it can be shown, and sent
/// on again as OTLP, without losing anything.
#[derive(Debug, Clone)]
pub struct ReceivedSpan {
    pub service: Arc<str>,
    pub resource: Arc<Resource>,
    pub scope: Arc<InstrumentationScope>,
    pub span: Span,
}

impl ReceivedSpan {
    pub fn trace_id(&self) -> String {
        padded_hex(&self.span.trace_id, 16)
    }

    /// The same span again, as a retried export sends it: same id, name
    /// and start.
    pub fn is_same_span(&self, other: &ReceivedSpan) -> bool {
        self.span.span_id == other.span.span_id
            && self.span.start_time_unix_nano == other.span.start_time_unix_nano
            && self.span.name == other.span.name
    }

    pub fn span_id(&self) -> String {
        hex(&self.span.span_id)
    }

    pub fn parent_span_id(&self) -> String {
        hex(&self.span.parent_span_id)
    }

    pub fn is_root(&self) -> bool {
        self.span.parent_span_id.iter().all(|b| *b == 0)
    }

    pub fn duration_ms(&self) -> f64 {
        self.span
            .end_time_unix_nano
            .saturating_sub(self.span.start_time_unix_nano) as f64
            / 1e6
    }

    pub fn kind(&self) -> &'static str {
        kind_name(self.span.kind)
    }

    pub fn status(&self) -> &'static str {
        match self.span.status.as_ref().map(|s| s.code) {
            Some(1) => "ok",
            Some(2) => "error",
            _ => "unset",
        }
    }

    pub fn attributes(&self) -> BTreeMap<String, serde_json::Value> {
        attributes(&self.span.attributes)
    }

    /// The flat form `--json` prints.
    pub fn record(&self) -> SpanRecord {
        SpanRecord {
            service: self.service.to_string(),
            scope: self.scope.name.clone(),
            name: self.span.name.clone(),
            trace_id: self.trace_id(),
            span_id: self.span_id(),
            parent_span_id: self.parent_span_id(),
            kind: self.kind(),
            start_unix_nano: self.span.start_time_unix_nano,
            duration_ms: self.duration_ms(),
            status: self.status(),
            status_message: self
                .span
                .status
                .as_ref()
                .map(|s| s.message.clone())
                .unwrap_or_default(),
            attributes: self.attributes(),
        }
    }
}

/// Decodes a request body into span records.
pub fn decode(
    body: &[u8],
    encoding: Encoding,
    gzipped: bool,
) -> Result<Vec<SpanRecord>, DecodeError> {
    Ok(received_spans(decode_request(body, encoding, gzipped)?)
        .iter()
        .map(ReceivedSpan::record)
        .collect())
}

/// A request's spans, each with its resource and scope.
pub fn received_spans(request: ExportTraceServiceRequest) -> Vec<ReceivedSpan> {
    let mut spans = Vec::new();
    for resource_spans in request.resource_spans {
        let resource = Arc::new(resource_spans.resource.unwrap_or_default());
        let service: Arc<str> = service_name(&resource).into();
        for scope_spans in resource_spans.scope_spans {
            let scope = Arc::new(scope_spans.scope.unwrap_or_default());
            spans.extend(scope_spans.spans.into_iter().map(|span| ReceivedSpan {
                service: Arc::clone(&service),
                resource: Arc::clone(&resource),
                scope: Arc::clone(&scope),
                span,
            }));
        }
    }
    spans
}

/// A resource's `service.name`; the SDK's own default when it has none.
fn service_name(resource: &Resource) -> String {
    resource
        .attributes
        .iter()
        .find(|kv| kv.key == "service.name")
        .and_then(|kv| kv.value.as_ref())
        .map(any_to_string)
        .unwrap_or_else(|| "unknown_service".into())
}

/// Spans put back into one export request, grouped under their resources
/// and scopes as they came.
pub fn request_of<'a>(
    spans: impl IntoIterator<Item = &'a ReceivedSpan>,
) -> ExportTraceServiceRequest {
    let mut request = ExportTraceServiceRequest::default();
    let mut resources: Vec<*const Resource> = Vec::new();
    let mut scopes: Vec<Vec<*const InstrumentationScope>> = Vec::new();
    for received in spans {
        let r = match resources
            .iter()
            .position(|p| *p == Arc::as_ptr(&received.resource))
        {
            Some(r) => r,
            None => {
                resources.push(Arc::as_ptr(&received.resource));
                scopes.push(Vec::new());
                request.resource_spans.push(ResourceSpans {
                    resource: Some((*received.resource).clone()),
                    ..Default::default()
                });
                resources.len() - 1
            }
        };
        let resource_spans = &mut request.resource_spans[r];
        let s = match scopes[r]
            .iter()
            .position(|p| *p == Arc::as_ptr(&received.scope))
        {
            Some(s) => s,
            None => {
                scopes[r].push(Arc::as_ptr(&received.scope));
                resource_spans.scope_spans.push(ScopeSpans {
                    scope: Some((*received.scope).clone()),
                    ..Default::default()
                });
                scopes[r].len() - 1
            }
        };
        resource_spans.scope_spans[s]
            .spans
            .push(received.span.clone());
    }
    request
}

/// The request as one line of OTLP/JSON: the format of the Collector's file
/// exporter and of `otel-tui --from-json-file` (ids in hex).
pub fn json_line(request: &ExportTraceServiceRequest) -> String {
    serde_json::to_string(request).expect("a decoded request serializes")
}

/// Decodes a request body into the request itself.
pub fn decode_request(
    body: &[u8],
    encoding: Encoding,
    gzipped: bool,
) -> Result<ExportTraceServiceRequest, DecodeError> {
    let inflated;
    let raw = if gzipped {
        inflated = gunzip(body)?;
        &inflated[..]
    } else {
        body
    };
    // Counted before any is built: a malformed body is left for the
    // decoder to explain.
    let spans = match encoding {
        Encoding::Protobuf => count::protobuf_spans(raw, MAX_SPANS_PER_REQUEST),
        Encoding::Json => count::json_spans(raw),
    };
    if let Some(n) = spans.filter(|n| *n > MAX_SPANS_PER_REQUEST) {
        return Err(DecodeError::TooManySpans(n));
    }
    match encoding {
        Encoding::Protobuf => {
            ExportTraceServiceRequest::decode(raw).map_err(|e| DecodeError::BadBody(e.to_string()))
        }
        Encoding::Json => {
            serde_json::from_slice(raw).map_err(|e| DecodeError::BadBody(e.to_string()))
        }
    }
}

/// A string attribute, as exporters send them.
pub fn string_attribute(key: &str, value: &str) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(value.into())),
        }),
        ..Default::default()
    }
}

/// An export request carrying `spans` from one service.
pub fn request_for(service: &str, spans: Vec<Span>) -> ExportTraceServiceRequest {
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes: vec![string_attribute("service.name", service)],
                ..Default::default()
            }),
            scope_spans: vec![ScopeSpans {
                spans,
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

/// The success answer an OTLP collector gives, in the request's encoding.
pub fn success_response(encoding: Encoding) -> Vec<u8> {
    let response = ExportTraceServiceResponse::default();
    match encoding {
        Encoding::Protobuf => response.encode_to_vec(),
        Encoding::Json => serde_json::to_vec(&response).unwrap_or_else(|_| b"{}".to_vec()),
    }
}

fn gunzip(body: &[u8]) -> Result<Vec<u8>, DecodeError> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(body)
        .take(MAX_BODY_BYTES as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| DecodeError::BadGzip(e.to_string()))?;
    if out.len() > MAX_BODY_BYTES {
        return Err(DecodeError::TooLarge);
    }
    Ok(out)
}

fn kind_name(kind: i32) -> &'static str {
    match kind {
        1 => "internal",
        2 => "server",
        3 => "client",
        4 => "producer",
        5 => "consumer",
        _ => "unspecified",
    }
}

/// Lower-case hex, two digits a byte: every span's ids go through it, so
/// it is a table lookup, not a formatter.
fn hex(bytes: &[u8]) -> String {
    padded_hex(bytes, 0)
}

/// Hex of an id that must be `len` bytes: one vendor's exporter drops
/// leading zero bytes, and an id without them names another trace.
fn padded_hex(bytes: &[u8], len: usize) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let missing = len.saturating_sub(bytes.len());
    let mut out = String::with_capacity(2 * (missing + bytes.len()));
    out.extend(std::iter::repeat_n('0', 2 * missing));
    for byte in bytes {
        out.push(char::from(DIGITS[usize::from(byte >> 4)]));
        out.push(char::from(DIGITS[usize::from(byte & 0xf)]));
    }
    out
}

/// Attributes as people and scripts see them: every text value through
/// the redaction step, so a key an app put in a span is shown as its
/// fingerprint (the web view, --json, trees).
pub fn attributes(pairs: &[KeyValue]) -> BTreeMap<String, serde_json::Value> {
    pairs
        .iter()
        .filter_map(|kv| {
            let mut value = any_to_json(kv.value.as_ref()?);
            redact_json(&kv.key, &mut value);
            Some((kv.key.clone(), value))
        })
        .collect()
}

fn redact_json(key: &str, value: &mut serde_json::Value) {
    match value {
        serde_json::Value::String(text) => {
            if let std::borrow::Cow::Owned(hidden) = crate::redact::value(key, text) {
                *text = hidden;
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(|v| redact_json(key, v)),
        serde_json::Value::Object(map) => map.iter_mut().for_each(|(k, v)| redact_json(k, v)),
        _ => {}
    }
}

/// The request with every text attribute value through the redaction
/// step: for a download, which leaves the terminal. What is forwarded or
/// saved is left as it came.
pub fn redact_request(request: &mut ExportTraceServiceRequest) {
    fn redact_pairs(pairs: &mut [KeyValue]) {
        for kv in pairs {
            if let Some(value) = kv.value.as_mut() {
                redact_any(&kv.key, value);
            }
        }
    }
    fn redact_any(key: &str, value: &mut AnyValue) {
        match &mut value.value {
            Some(any_value::Value::StringValue(text)) => {
                if let std::borrow::Cow::Owned(hidden) = crate::redact::value(key, text) {
                    *text = hidden;
                }
            }
            Some(any_value::Value::ArrayValue(array)) => {
                array.values.iter_mut().for_each(|v| redact_any(key, v))
            }
            Some(any_value::Value::KvlistValue(list)) => redact_pairs(&mut list.values),
            _ => {}
        }
    }
    for resource_spans in &mut request.resource_spans {
        if let Some(resource) = resource_spans.resource.as_mut() {
            redact_pairs(&mut resource.attributes);
        }
        for scope_spans in &mut resource_spans.scope_spans {
            for span in &mut scope_spans.spans {
                redact_pairs(&mut span.attributes);
                for event in &mut span.events {
                    redact_pairs(&mut event.attributes);
                }
                for link in &mut span.links {
                    redact_pairs(&mut link.attributes);
                }
            }
        }
    }
}

pub fn any_to_json(value: &AnyValue) -> serde_json::Value {
    use any_value::Value as V;
    match &value.value {
        Some(V::StringValue(s)) => s.clone().into(),
        Some(V::BoolValue(b)) => (*b).into(),
        Some(V::IntValue(i)) => (*i).into(),
        Some(V::DoubleValue(d)) => serde_json::Number::from_f64(*d)
            .map(serde_json::Value::Number)
            .unwrap_or(serde_json::Value::Null),
        Some(V::ArrayValue(a)) => a.values.iter().map(any_to_json).collect(),
        Some(V::KvlistValue(kv)) => {
            serde_json::Value::Object(attributes(&kv.values).into_iter().collect())
        }
        Some(V::BytesValue(b)) => hex(b).into(),
        _ => serde_json::Value::Null,
    }
}

fn any_to_string(value: &AnyValue) -> String {
    match any_to_json(value) {
        serde_json::Value::String(s) => s,
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_trace_id_short_of_leading_zeros_is_padded_to_32_hex_digits() {
        let mut request = sample_request();
        request.resource_spans[0].scope_spans[0].spans[0].trace_id = vec![0xab; 14];
        let spans = received_spans(request);
        assert_eq!(spans[0].trace_id(), format!("0000{}", "ab".repeat(14)));
    }

    #[test]
    fn spans_put_back_into_a_request_keep_their_resource_and_scope() {
        let request = sample_request();
        let spans = received_spans(request.clone());
        assert_eq!(request_of(&spans), request);
    }

    fn sample_request() -> ExportTraceServiceRequest {
        let mut request = request_for(
            "backend-flask",
            vec![Span {
                trace_id: vec![1; 16],
                span_id: vec![2; 8],
                name: "home-activities-mock-data".into(),
                kind: 1,
                start_time_unix_nano: 1_000_000,
                end_time_unix_nano: 3_500_000,
                attributes: vec![string_attribute("app.now", "2026-11-21T00:00:00")],
                ..Default::default()
            }],
        );
        request.resource_spans[0].scope_spans[0].scope = Some(InstrumentationScope {
            name: "home.activities".into(),
            ..Default::default()
        });
        request
    }

    #[test]
    fn a_saved_json_line_decodes_to_the_same_spans() {
        let request = sample_request();
        let line = json_line(&request);
        assert!(!line.contains('\n'));
        assert!(line.contains(&"01".repeat(16)), "ids in hex: {line}");
        let from_line = decode(line.as_bytes(), Encoding::Json, false).unwrap();
        let from_proto = decode(&request.encode_to_vec(), Encoding::Protobuf, false).unwrap();
        assert_eq!(from_line, from_proto);
    }

    #[test]
    fn decodes_protobuf_and_gzip() {
        let body = sample_request().encode_to_vec();
        let spans = decode(&body, Encoding::Protobuf, false).unwrap();
        assert_eq!(spans.len(), 1);
        assert_eq!(spans[0].service, "backend-flask");
        assert_eq!(spans[0].duration_ms, 2.5);
        assert_eq!(spans[0].trace_id, "01".repeat(16));

        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut gz, &body).unwrap();
        let spans = decode(&gz.finish().unwrap(), Encoding::Protobuf, true).unwrap();
        assert_eq!(spans[0].name, "home-activities-mock-data");
    }

    #[test]
    fn rejects_garbage() {
        assert!(matches!(
            decode(b"\xff\xff\xff", Encoding::Protobuf, false),
            Err(DecodeError::BadBody(_))
        ));
        assert!(matches!(
            decode(b"not gzip", Encoding::Protobuf, true),
            Err(DecodeError::BadGzip(_))
        ));
        assert!(decode(b"{", Encoding::Json, false).is_err());
    }

    #[test]
    fn content_types() {
        assert_eq!(
            Encoding::from_content_type("application/json; charset=utf-8"),
            Some(Encoding::Json)
        );
        assert_eq!(Encoding::from_content_type("text/plain"), None);
    }
}
