//! How many spans a request holds, counted on the wire before it is
//! decoded: a few kilobytes of gzip can hold millions of empty spans, and
//! decoding them would take gigabytes.

use prost::encoding::{WireType, decode_key, decode_varint};
use serde::Deserialize;
use serde::de::{IgnoredAny, SeqAccess, Visitor};

/// The spans in a protobuf `ExportTraceServiceRequest`, stopping once past
/// `limit`; None when the bytes are not a well-formed message.
pub fn protobuf_spans(body: &[u8], limit: usize) -> Option<usize> {
    let mut count = 0;
    // resource_spans = 1, scope_spans = 2, spans = 2.
    each_field(body, 1, &mut |resource_spans| {
        each_field(resource_spans, 2, &mut |scope_spans| {
            if count <= limit {
                each_field(scope_spans, 2, &mut |_| {
                    count += 1;
                    Some(())
                })?;
            }
            Some(())
        })
    })?;
    Some(count)
}

/// Calls `found` with each length-delimited value of field `wanted` in one
/// message, every other field skipped by its wire type.
fn each_field<'a>(
    mut buf: &'a [u8],
    wanted: u32,
    found: &mut dyn FnMut(&'a [u8]) -> Option<()>,
) -> Option<()> {
    while !buf.is_empty() {
        let (tag, wire_type) = decode_key(&mut buf).ok()?;
        let skip = match wire_type {
            WireType::Varint => {
                decode_varint(&mut buf).ok()?;
                0
            }
            WireType::SixtyFourBit => 8,
            WireType::ThirtyTwoBit => 4,
            WireType::LengthDelimited => {
                let len = usize::try_from(decode_varint(&mut buf).ok()?).ok()?;
                if tag == wanted {
                    found(buf.get(..len)?)?;
                }
                len
            }
            WireType::StartGroup | WireType::EndGroup => return None,
        };
        buf = buf.get(skip..)?;
    }
    Some(())
}

/// The spans in an OTLP/JSON request, read without building any of them;
/// None when it is not the shape of one (decoding then says why).
pub fn json_spans(body: &[u8]) -> Option<usize> {
    #[derive(Deserialize)]
    struct Request {
        #[serde(default, rename = "resourceSpans", alias = "resource_spans")]
        resource_spans: Vec<ResourceSpans>,
    }
    #[derive(Deserialize)]
    struct ResourceSpans {
        #[serde(default, rename = "scopeSpans", alias = "scope_spans")]
        scope_spans: Vec<ScopeSpans>,
    }
    #[derive(Deserialize)]
    struct ScopeSpans {
        #[serde(default)]
        spans: Count,
    }
    let request: Request = serde_json::from_slice(body).ok()?;
    Some(
        request
            .resource_spans
            .iter()
            .flat_map(|r| &r.scope_spans)
            .map(|s| s.spans.0)
            .sum(),
    )
}

/// The length of a JSON array, its items skipped unbuilt.
#[derive(Default)]
struct Count(usize);

impl<'de> Deserialize<'de> for Count {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Counter;
        impl<'de> Visitor<'de> for Counter {
            type Value = Count;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an array of spans")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Count, A::Error> {
                let mut n = 0;
                while seq.next_element::<IgnoredAny>()?.is_some() {
                    n += 1;
                }
                Ok(Count(n))
            }
        }
        deserializer.deserialize_seq(Counter)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::otlp::request_for;
    use opentelemetry_proto::tonic::trace::v1::Span;
    use prost::Message;

    fn request(
        spans: usize,
    ) -> opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest {
        let spans = (0..spans)
            .map(|i| Span {
                name: format!("s{i}"),
                trace_id: vec![1; 16],
                span_id: vec![2; 8],
                ..Default::default()
            })
            .collect();
        let mut request = request_for("api", spans);
        // A second resource, to count across them.
        request
            .resource_spans
            .push(request.resource_spans[0].clone());
        request
    }

    #[test]
    fn spans_are_counted_in_both_encodings_as_decoding_would_find_them() {
        for n in [0, 1, 7, 300] {
            let request = request(n);
            let decoded = crate::otlp::received_spans(request.clone()).len();
            assert_eq!(decoded, 2 * n);
            assert_eq!(
                protobuf_spans(&request.encode_to_vec(), usize::MAX),
                Some(decoded)
            );
            let json = crate::otlp::json_line(&request);
            assert_eq!(json_spans(json.as_bytes()), Some(decoded));
        }
    }

    #[test]
    fn a_flood_of_empty_spans_is_counted_without_decoding_it() {
        // ScopeSpans { spans: [{}; N] } as a few bytes each.
        let n = 1_000_000;
        let scope: Vec<u8> = std::iter::repeat_n([0x12u8, 0x00], n).flatten().collect();
        let mut resource = vec![0x12];
        prost::encoding::encode_varint(scope.len() as u64, &mut resource);
        resource.extend(&scope);
        let mut body = vec![0x0a];
        prost::encoding::encode_varint(resource.len() as u64, &mut body);
        body.extend(&resource);
        assert_eq!(protobuf_spans(&body, usize::MAX), Some(n));
        let json = format!(
            "{{\"resourceSpans\":[{{\"scopeSpans\":[{{\"spans\":[{}{{}}]}}]}}]}}",
            "{},".repeat(n - 1)
        );
        assert_eq!(json_spans(json.as_bytes()), Some(n));
        assert_eq!(protobuf_spans(&body[..body.len() - 1], usize::MAX), None);
    }
}
