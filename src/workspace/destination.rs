//! Where the backend's spans go: the exporter's endpoint, from explicit
//! arguments to `OTLPSpanExporter(...)` in live code (which win), else the
//! app's environment as opentelemetry-python reads it.

use super::context::Context;
use super::python::Value;
use super::url;

/// The base URL the HTTP exporter appends `/v1/traces` to.
pub const BASE: &str = "OTEL_EXPORTER_OTLP_ENDPOINT";
/// The traces URL, used as it is.
pub const TRACES: &str = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT";

/// Where the backend's exporter sends, and who decides it: explicit
/// arguments to OTLPSpanExporter(...) win over the environment.
pub struct Destination {
    /// The variable (or `OTLPSpanExporter(endpoint=...)`) the URL came from.
    pub source: String,
    pub url: String,
    /// Used as it is (a per-signal variable or an explicit argument).
    pub as_is: bool,
    pub from_code: bool,
    /// OTLPSpanExporter(headers=...): the headers variable is not read.
    pub headers_in_code: bool,
}

pub fn destination(ctx: &Context) -> Option<Destination> {
    let exporter = ctx.live_call("OTLPSpanExporter");
    let headers_in_code = exporter.is_some_and(|(_, c)| c.keyword("headers").is_some());
    if let Some((file, call)) = exporter
        && let Some(Value::Str(url)) = call.keyword("endpoint")
    {
        return Some(Destination {
            source: format!(
                "{}:{}: OTLPSpanExporter(endpoint=...)",
                file.path.display(),
                call.line
            ),
            url: url.clone(),
            as_is: true,
            from_code: true,
            headers_in_code,
        });
    }
    let get = |name: &str| ctx.app_var(name).map(|(_, v)| v).filter(|v| !v.is_empty());
    let (source, url, as_is) = match (get(TRACES), get(BASE)) {
        (Some(url), _) => (TRACES, url, true),
        (None, Some(url)) => (BASE, url, false),
        (None, None) => return None,
    };
    Some(Destination {
        source: source.into(),
        url,
        as_is,
        from_code: false,
        headers_in_code,
    })
}

/// The host a destination URL names, lowercased.
pub fn destination_host(destination: &Destination) -> Option<String> {
    url::parse(destination.url.trim()).map(|u| u.host.to_ascii_lowercase())
}
