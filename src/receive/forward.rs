//! Passing requests on as they came: `tracelab run --listen` and
//! `doctor --deep --online` show spans here and still deliver them.

use std::collections::BTreeMap;
use std::sync::{Arc, mpsc};
use std::time::Duration;

use super::RawRequest;
use crate::style::{WARN, paint};
use crate::workspace::url;

/// Where the exporter would send: the URL traces are posted to.
pub fn traces_url(env: &BTreeMap<String, String>) -> Option<String> {
    if let Some(url) = env
        .get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
        .filter(|u| !u.is_empty())
    {
        return Some(url.clone());
    }
    let base = env
        .get("OTEL_EXPORTER_OTLP_ENDPOINT")
        .filter(|u| !u.is_empty())?;
    url::parse(base)?;
    Some(format!("{}/v1/traces", base.trim_end_matches('/')))
}

/// Posts each request to `url` on a thread of its own, so that a slow
/// destination never slows the app's exporter; says once per status what
/// the destination answered when it refuses.
pub fn start(url: String) -> mpsc::Sender<Arc<RawRequest>> {
    let (tx, rx) = mpsc::channel::<Arc<RawRequest>>();
    std::thread::spawn(move || {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(10)))
            .http_status_as_error(false)
            .build()
            .into();
        let mut told: Vec<String> = Vec::new();
        for raw in rx {
            let mut request = agent.post(&url);
            for (name, value) in &raw.headers {
                request = request.header(name.as_str(), value.as_str());
            }
            let outcome = match request.send(&raw.body[..]) {
                Ok(response) if response.status().is_success() => continue,
                Ok(response) => format!("answered {}", response.status().as_u16()),
                Err(e) => format!("cannot be reached ({e})"),
            };
            if !told.contains(&outcome) {
                anstream::eprintln!(
                    "{} {url} {outcome}: spans show here but do not arrive there (tracelab doctor --online)",
                    paint(WARN, "!")
                );
                told.push(outcome);
            }
        }
    });
    tx
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_traces_url_follows_the_sdk() {
        let env = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        assert_eq!(
            traces_url(&env(&[(
                "OTEL_EXPORTER_OTLP_ENDPOINT",
                "https://api.honeycomb.io/"
            )]))
            .as_deref(),
            Some("https://api.honeycomb.io/v1/traces")
        );
        assert_eq!(
            traces_url(&env(&[(
                "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
                "http://c:4318/v1/traces"
            )]))
            .as_deref(),
            Some("http://c:4318/v1/traces")
        );
        assert_eq!(traces_url(&env(&[])), None);
    }
}
