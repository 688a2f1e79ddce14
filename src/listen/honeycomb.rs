//! Links from a received trace to the same trace in Honeycomb's UI. The key
//! is asked about once (`/1/auth` names its team and environment); with no
//! key, or offline, there are no links and nothing is said.

use std::path::Path;
use std::time::Duration;

use crate::answers::Region;
use crate::rules::honeycomb::{EU_API_HOST, US_API_HOST, classify};
use crate::rules::otlp_headers;
use crate::rules::otlp_headers::headers_variable as honeycomb_headers_variable;
use crate::workspace::context::backend_environment;
use crate::workspace::url;

/// Where a key's traces are, as `/1/auth` tells.
#[derive(Debug, Clone, PartialEq)]
pub struct Account {
    /// `https://ui.honeycomb.io` or the EU's `https://ui.eu1.honeycomb.io`.
    pub ui: String,
    pub team: String,
    /// None for a classic key: its datasets are not in an environment.
    pub environment: Option<String>,
    /// A classic key's dataset (x-honeycomb-dataset), when the app sets one.
    pub classic_dataset: Option<String>,
}

/// A key and the API origins to ask about it, in order.
pub struct Key {
    pub key: String,
    pub apis: Vec<String>,
    pub classic_dataset: Option<String>,
}

impl Account {
    /// The dataset a service's spans land in: its slug, or a classic key's
    /// own dataset.
    fn dataset(&self, service: &str) -> String {
        self.classic_dataset
            .clone()
            .filter(|_| self.environment.is_none())
            .unwrap_or_else(|| dataset_slug(service))
    }

    /// `team/environments/env` in a UI address (a classic key: the team).
    fn place(&self) -> String {
        match &self.environment {
            Some(environment) => format!("{}/environments/{environment}", self.team),
            None => self.team.clone(),
        }
    }

    /// The trace's page: its dataset is its root service's.
    pub fn trace_link(
        &self,
        trace_id: &str,
        service: &str,
        start_nano: u64,
        end_nano: u64,
    ) -> String {
        let (place, dataset) = (self.place(), self.dataset(service));
        // Honeycomb searches for the trace between these seconds; a margin
        // on each side keeps a trace of under a second inside them.
        let start = start_nano / 1_000_000_000;
        let end = end_nano.div_ceil(1_000_000_000) + 1;
        format!(
            "{}/{place}/datasets/{dataset}/trace?trace_id={}&trace_start_ts={}&trace_end_ts={end}",
            self.ui,
            padded_trace_id(trace_id),
            start.saturating_sub(1)
        )
    }
}

/// The query's page in Honeycomb (a query template link: the
/// specification as the `query` parameter), in the dataset of the service
/// most of `spans` come from; with no account known, with YOUR_TEAM and
/// YOUR_ENVIRONMENT to replace by the part of the student's Honeycomb
/// address after the host.
pub fn query_link(
    account: Option<&Account>,
    spans: &[&crate::otlp::ReceivedSpan],
    spec: &serde_json::Value,
) -> String {
    let service = commonest_service(spans);
    let service = service.as_str();
    let query: String = form_urlencoded::byte_serialize(spec.to_string().as_bytes()).collect();
    let (ui, place, dataset) = match account {
        Some(account) => (
            account.ui.clone(),
            account.place(),
            account.dataset(service),
        ),
        None => (
            "https://ui.honeycomb.io".to_string(),
            "YOUR_TEAM/environments/YOUR_ENVIRONMENT".to_string(),
            dataset_slug(service),
        ),
    };
    format!("{ui}/{place}/datasets/{dataset}?query={query}")
}

/// The service most spans come from: the dataset Honeycomb puts them in.
fn commonest_service(spans: &[&crate::otlp::ReceivedSpan]) -> String {
    let mut counts: std::collections::BTreeMap<&str, usize> = Default::default();
    for span in spans {
        *counts.entry(&span.service).or_default() += 1;
    }
    counts
        .into_iter()
        .max_by_key(|(_, n)| *n)
        .map_or_else(|| "backend-flask".to_string(), |(s, _)| s.to_string())
}

/// A trace id as 32 hex digits: ids missing their leading zeros break links.
fn padded_trace_id(id: &str) -> String {
    format!("{:0>32}", id.to_ascii_lowercase())
}

/// Honeycomb names a dataset by its slug: lower case, other characters as `-`.
fn dataset_slug(service: &str) -> String {
    service
        .trim()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect()
}

/// The key the app would send, read where the doctor reads it: the
/// x-honeycomb-team header, else HONEYCOMB_API_KEY, from the shell, .env,
/// Gitpod and the compose file. `explicit` (`--honeycomb KEY`) wins.
pub fn find_key(dir: &Path, explicit: Option<String>) -> Option<Key> {
    // Only the backend's environment: no gp, docker or git for a key (in
    // Gitpod, `gp env` variables are already in this shell).
    let env = backend_environment(dir, &crate::workspace::layers::shell_env());
    let get = |name: &str| env.get(name).cloned().filter(|v| !v.is_empty());
    let headers = honeycomb_headers_variable(get)
        .map(|(_, v)| otlp_headers::headers(&v))
        .unwrap_or_default();
    let key = explicit
        .or_else(|| otlp_headers::header(&headers, "x-honeycomb-team").map(str::to_string))
        .or_else(|| get("HONEYCOMB_API_KEY"))
        .filter(|k| classify(k).is_some())?;
    let classic_dataset = otlp_headers::header(&headers, "x-honeycomb-dataset").map(str::to_string);
    Some(Key {
        key,
        apis: apis(get),
        classic_dataset,
    })
}

/// HONEYCOMB_API_ENDPOINT (Honeycomb's own distributions read it) if set,
/// else the Honeycomb host the app exports to, else the US, then the EU.
fn apis(get: impl Fn(&str) -> Option<String>) -> Vec<String> {
    if let Some(endpoint) = std::env::var("HONEYCOMB_API_ENDPOINT")
        .ok()
        .filter(|e| !e.is_empty())
    {
        return vec![endpoint.trim_end_matches('/').to_string()];
    }
    let exported_to = get("OTEL_EXPORTER_OTLP_ENDPOINT")
        .and_then(|e| url::parse(&e).map(|u| u.host.to_string()))
        .filter(|h| h == EU_API_HOST || h == US_API_HOST);
    match exported_to.as_deref() {
        Some(EU_API_HOST) => vec![format!("https://{EU_API_HOST}")],
        Some(_) => vec![format!("https://{US_API_HOST}")],
        None => vec![
            format!("https://{US_API_HOST}"),
            format!("https://{EU_API_HOST}"),
        ],
    }
}

/// Asks each API in turn who the key belongs to; None when none knows it
/// or none can be reached (offline is not an error here).
pub fn lookup(key: &Key, timeout: Duration) -> Option<Account> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(timeout))
        .http_status_as_error(false)
        .build()
        .into();
    key.apis.iter().find_map(|api| {
        let mut response = agent
            .get(&format!("{api}/1/auth"))
            .header("X-Honeycomb-Team", &key.key)
            .call()
            .ok()?;
        if response.status().as_u16() != 200 {
            return None;
        }
        let body: serde_json::Value =
            serde_json::from_str(&response.body_mut().read_to_string().ok()?).ok()?;
        let slug = |part: &str| {
            body[part]["slug"]
                .as_str()
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        let host = url::parse(api)
            .map(|u| u.host.to_string())
            .unwrap_or_default();
        Some(Account {
            ui: Region::of_api_host(&host).ui_origin().into(),
            team: slug("team")?,
            environment: slug("environment"),
            classic_dataset: key.classic_dataset.clone(),
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account(environment: Option<&str>) -> Account {
        Account {
            ui: Region::Us.ui_origin().into(),
            team: "bootcamp".into(),
            environment: environment.map(str::to_string),
            classic_dataset: None,
        }
    }

    #[test]
    fn an_environment_link_names_team_environment_dataset_and_the_time_range() {
        let link = account(Some("dev")).trace_link(
            "0af7651916cd43dd8448eb211c80319c",
            "backend-flask",
            1_700_000_000_500_000_000,
            1_700_000_000_900_000_000,
        );
        assert_eq!(
            link,
            "https://ui.honeycomb.io/bootcamp/environments/dev/datasets/backend-flask/trace?trace_id=0af7651916cd43dd8448eb211c80319c&trace_start_ts=1699999999&trace_end_ts=1700000002"
        );
    }

    #[test]
    fn a_trace_id_without_its_leading_zeros_gets_them_back() {
        let link = account(Some("dev")).trace_link("abc123", "api", 0, 0);
        assert!(
            link.contains("trace_id=00000000000000000000000000abc123&"),
            "{link}"
        );
    }

    #[test]
    fn a_classic_key_has_no_environment_and_uses_its_dataset() {
        let mut classic = account(None);
        classic.classic_dataset = Some("cruddur".into());
        let link = classic.trace_link(&"1".repeat(32), "backend-flask", 0, 0);
        assert!(
            link.starts_with("https://ui.honeycomb.io/bootcamp/datasets/cruddur/trace?"),
            "{link}"
        );
    }

    #[test]
    fn an_eu_key_links_to_the_eu_ui() {
        let eu = Account {
            ui: Region::of_api_host(EU_API_HOST).ui_origin().into(),
            ..account(Some("dev"))
        };
        assert!(
            eu.trace_link(&"1".repeat(32), "My Service", 0, 0)
                .starts_with("https://ui.eu1.honeycomb.io/bootcamp/environments/dev/datasets/my-service/trace?")
        );
    }

    #[test]
    fn the_api_follows_the_host_the_app_exports_to() {
        let eu = |name: &str| {
            (name == "OTEL_EXPORTER_OTLP_ENDPOINT").then(|| format!("https://{EU_API_HOST}"))
        };
        if std::env::var_os("HONEYCOMB_API_ENDPOINT").is_none() {
            assert_eq!(apis(eu), [format!("https://{EU_API_HOST}")]);
            assert_eq!(apis(|_| None).len(), 2);
        }
    }
}
