//! OpenTelemetry Collector services: which compose service runs one, which
//! file on the host is its config (through `--config` and `volumes`), and
//! what that config defines and wires into pipelines.

use std::path::{Path, PathBuf};

use serde_yaml::Value;

use super::compose::{ComposeFile, Service, scalar};
use super::yaml_lines::YamlLines;

/// The config path each image reads when `--config` is not given.
const DEFAULT_CONFIGS: &[(&str, &str)] = &[
    (
        "opentelemetry-collector-contrib",
        "/etc/otelcol-contrib/config.yaml",
    ),
    ("opentelemetry-collector", "/etc/otelcol/config.yaml"),
];

/// A collector version as (minor, patch) of 0.x; `latest` and no tag pull
/// the newest, where every later change applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Version {
    Pinned(u32, u32),
    Latest,
}

impl Version {
    pub fn at_least(self, minor: u32) -> bool {
        match self {
            Version::Latest => true,
            Version::Pinned(m, _) => m >= minor,
        }
    }
}

#[derive(Debug, Clone)]
pub struct CollectorService {
    pub service: String,
    pub version: Version,
    /// The tag as written, if any.
    pub tag: Option<String>,
    pub config: Result<CollectorConfig, String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct OtlpProtocol {
    pub receiver: String,
    /// `http` or `grpc`.
    pub protocol: String,
    pub endpoint: Option<String>,
    pub has_cors: bool,
    pub line: Option<usize>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Exporter {
    /// `otlp/honeycomb`: the kind is the part before `/`.
    pub name: String,
    pub endpoint: Option<String>,
    pub headers: Vec<(String, String)>,
    pub line: Option<usize>,
}

impl Exporter {
    pub fn kind(&self) -> &str {
        self.name.split('/').next().unwrap_or(&self.name)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Pipeline {
    pub name: String,
    pub components: Vec<(&'static str, String)>,
    pub line: Option<usize>,
}

/// `$VAR`, `${VAR}` or `${env:VAR}` in the config text, outside comments.
#[derive(Debug, Clone, PartialEq)]
pub struct EnvRef {
    pub name: String,
    pub bare: bool,
    pub line: usize,
}

#[derive(Debug, Clone)]
pub struct CollectorConfig {
    pub path: PathBuf,
    pub receivers: Vec<String>,
    pub processors: Vec<String>,
    pub exporters: Vec<Exporter>,
    pub connectors: Vec<String>,
    pub otlp: Vec<OtlpProtocol>,
    pub pipelines: Vec<Pipeline>,
    pub env_refs: Vec<EnvRef>,
    pub lines: YamlLines,
}

impl CollectorConfig {
    pub fn parse(path: &Path, text: &str) -> Result<Self, String> {
        let doc: Value = serde_yaml::from_str(text).map_err(|e| {
            let place = e
                .location()
                .map(|l| format!(":{}", l.line()))
                .unwrap_or_default();
            format!("{}{place}: not valid YAML: {e}", path.display())
        })?;
        let lines = YamlLines::index(text);
        let names = |section: &str| -> Vec<String> {
            match doc.get(section) {
                Some(Value::Mapping(map)) => map.keys().filter_map(scalar).collect(),
                _ => Vec::new(),
            }
        };
        let exporters = names("exporters")
            .into_iter()
            .map(|name| {
                let body = &doc["exporters"][name.as_str()];
                Exporter {
                    endpoint: body.get("endpoint").and_then(scalar),
                    headers: match body.get("headers") {
                        Some(Value::Mapping(map)) => map
                            .iter()
                            .filter_map(|(k, v)| Some((scalar(k)?, scalar(v).unwrap_or_default())))
                            .collect(),
                        _ => Vec::new(),
                    },
                    line: lines.line(&format!("exporters.{name}")),
                    name,
                }
            })
            .collect();
        let mut otlp = Vec::new();
        for receiver in names("receivers") {
            if receiver.split('/').next() != Some("otlp") {
                continue;
            }
            let protocols = &doc["receivers"][receiver.as_str()]["protocols"];
            for protocol in ["http", "grpc"] {
                let Some(body) = protocols.get(protocol) else {
                    continue;
                };
                otlp.push(OtlpProtocol {
                    endpoint: body.get("endpoint").and_then(scalar),
                    has_cors: body.get("cors").is_some(),
                    line: lines.first(&[
                        &format!("receivers.{receiver}.protocols.{protocol}.endpoint"),
                        &format!("receivers.{receiver}.protocols.{protocol}"),
                    ]),
                    receiver: receiver.clone(),
                    protocol: protocol.into(),
                });
            }
        }
        let pipelines = match doc.get("service").and_then(|s| s.get("pipelines")) {
            Some(Value::Mapping(map)) => map
                .iter()
                .filter_map(|(name, body)| {
                    let name = scalar(name)?;
                    let mut components = Vec::new();
                    for section in ["receivers", "processors", "exporters"] {
                        if let Some(Value::Sequence(items)) = body.get(section) {
                            let kind: &'static str = match section {
                                "receivers" => "receiver",
                                "processors" => "processor",
                                _ => "exporter",
                            };
                            components.extend(items.iter().filter_map(scalar).map(|c| (kind, c)));
                        }
                    }
                    Some(Pipeline {
                        line: lines.line(&format!("service.pipelines.{name}")),
                        name,
                        components,
                    })
                })
                .collect(),
            _ => Vec::new(),
        };
        Ok(CollectorConfig {
            path: path.to_path_buf(),
            receivers: names("receivers"),
            processors: names("processors"),
            connectors: names("connectors"),
            exporters,
            otlp,
            pipelines,
            env_refs: env_refs(text),
            lines,
        })
    }

    /// Whether a pipeline may name this component: defined in its section,
    /// or a connector (which stands in both).
    pub fn defines(&self, kind: &str, name: &str) -> bool {
        self.connectors.iter().any(|c| c == name)
            || match kind {
                "receiver" => self.receivers.iter().any(|c| c == name),
                "processor" => self.processors.iter().any(|c| c == name),
                _ => self.exporters.iter().any(|e| e.name == name),
            }
    }
}

/// Every environment reference outside comments, with its syntax.
fn env_refs(text: &str) -> Vec<EnvRef> {
    let mut refs = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let code = match line.find(" #") {
            _ if line.trim_start().starts_with('#') => continue,
            Some(i) => &line[..i],
            None => line,
        };
        let bytes = code.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] != b'$' {
                i += 1;
                continue;
            }
            let rest = &code[i + 1..];
            if let Some(inner) = rest.strip_prefix('{') {
                let end = inner.find('}').unwrap_or(inner.len());
                let body = &inner[..end];
                let name = body.strip_prefix("env:").unwrap_or(body);
                let name = name.split(":-").next().unwrap_or(name);
                if is_var_name(name) {
                    refs.push(EnvRef {
                        name: name.into(),
                        bare: false,
                        line: index + 1,
                    });
                }
                i += end + 2;
            } else if rest.starts_with('$') {
                i += 2; // `$$` is a literal dollar
            } else {
                let len = rest
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .unwrap_or(rest.len());
                if len > 0 && is_var_name(&rest[..len]) {
                    refs.push(EnvRef {
                        name: rest[..len].into(),
                        bare: true,
                        line: index + 1,
                    });
                }
                i += len + 1;
            }
        }
    }
    refs
}

fn is_var_name(name: &str) -> bool {
    name.chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Is this service an OpenTelemetry Collector?
pub fn is_collector(service: &Service) -> bool {
    service
        .image_name()
        .is_some_and(|name| name.contains("opentelemetry-collector") || name.contains("otelcol"))
}

/// Every collector service of the compose file, with its config read.
pub fn find(compose: &ComposeFile) -> Vec<CollectorService> {
    compose
        .services
        .iter()
        .filter(|s| is_collector(s))
        .map(|service| {
            let tag = service.image_tag().map(str::to_string);
            CollectorService {
                service: service.name.clone(),
                version: version(tag.as_deref()),
                config: read_config(compose, service),
                tag,
            }
        })
        .collect()
}

fn version(tag: Option<&str>) -> Version {
    let Some(tag) = tag else {
        return Version::Latest;
    };
    let mut parts = tag.trim_start_matches('v').split(['.', '-']);
    match (parts.next(), parts.next(), parts.next()) {
        (Some("0"), Some(minor), patch) => match minor.parse() {
            Ok(minor) => Version::Pinned(minor, patch.and_then(|p| p.parse().ok()).unwrap_or(0)),
            Err(_) => Version::Latest,
        },
        _ => Version::Latest,
    }
}

/// The config file inside the container: `--config=PATH`, `--config PATH`
/// (with an optional `file:` scheme), else the image's default.
fn container_config_path(service: &Service) -> Option<String> {
    let args = service
        .command
        .as_ref()
        .map(|c| c.args())
        .unwrap_or_default();
    let mut words = args.iter();
    while let Some(word) = words.next() {
        let value = if let Some(v) = word.strip_prefix("--config=") {
            Some(v.to_string())
        } else if word == "--config" {
            words.next().cloned()
        } else {
            None
        };
        if let Some(v) = value {
            return Some(v.trim_start_matches("file:").to_string());
        }
    }
    let name = service.image_name()?;
    DEFAULT_CONFIGS
        .iter()
        .find(|(image, _)| name.ends_with(image))
        .map(|(_, path)| path.to_string())
}

fn read_config(compose: &ComposeFile, service: &Service) -> Result<CollectorConfig, String> {
    let inside = container_config_path(service)
        .ok_or_else(|| format!("the {} service names no --config", service.name))?;
    let host = host_path(compose, service, &inside).ok_or_else(|| {
        format!(
            "the {} service reads {inside}, but no volume mounts a file there",
            service.name
        )
    })?;
    let text =
        crate::workspace::read::text(&host).map_err(|e| format!("{e:#} (mounted at {inside})"))?;
    CollectorConfig::parse(&host, &text)
}

/// The host file behind a container path, through the service's bind
/// mounts. Sources are interpolated as Compose would from the project
/// folder: `${PWD}` is that folder (where `docker compose` runs).
fn host_path(compose: &ComposeFile, service: &Service, inside: &str) -> Option<PathBuf> {
    let dir = compose.dir();
    let lookup = |name: &str| match name {
        "PWD" => Some(dir.display().to_string()),
        other => std::env::var(other).ok(),
    };
    service.volumes.iter().find_map(|mount| {
        let target = mount.target.as_str();
        let rest = if inside == target {
            ""
        } else {
            inside.strip_prefix(target)?.strip_prefix('/')?
        };
        let base = mount.host_source(dir, &lookup)?;
        Some(if rest.is_empty() {
            base
        } else {
            base.join(rest)
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_refs_know_their_syntax_and_skip_comments() {
        let refs = env_refs("a: $KEY\nb: \"${HONEY}\"\n# c: ${NOPE}\nd: ${env:X} $$LIT\n");
        let got: Vec<(&str, bool, usize)> = refs
            .iter()
            .map(|r| (r.name.as_str(), r.bare, r.line))
            .collect();
        assert_eq!(
            got,
            [("KEY", true, 1), ("HONEY", false, 2), ("X", false, 4)]
        );
    }

    #[test]
    fn versions_from_tags() {
        assert_eq!(version(None), Version::Latest);
        assert_eq!(version(Some("latest")), Version::Latest);
        assert_eq!(version(Some("0.88.0")), Version::Pinned(88, 0));
        assert!(!version(Some("0.103.1")).at_least(104));
        assert!(version(Some("0.111.0")).at_least(111));
    }

    #[test]
    fn parses_receivers_exporters_and_pipelines() {
        let text = "receivers:\n  otlp:\n    protocols:\n      http:\n        cors:\n          allowed_origins: ['*']\nexporters:\n  otlp:\n    endpoint: api.honeycomb.io:443\n    headers:\n      x-honeycomb-team: ${HONEYCOMB_API_KEY}\n  logging:\nservice:\n  pipelines:\n    traces:\n      receivers: [otlp]\n      exporters: [otlp, debug]\n";
        let config = CollectorConfig::parse(Path::new("c.yaml"), text).unwrap();
        assert_eq!(config.otlp[0].endpoint, None);
        assert!(config.otlp[0].has_cors);
        assert_eq!(config.otlp[0].line, Some(4));
        assert_eq!(config.exporters[0].headers[0].0, "x-honeycomb-team");
        assert!(!config.defines("exporter", "debug"));
        assert!(config.defines("exporter", "logging"));
        assert_eq!(config.pipelines[0].line, Some(15));
    }
}
