//! A healthy workspace rewritten with standard Compose features is still
//! healthy: the doctor reads the configuration as Compose does (override
//! files, env_file, anchors and merge keys, container_name, `${PWD}`
//! mounts), and a real defect behind the same features is still found.

use crate::common::doctor::{Fixture, expect, failing_ids, healthy};

const ALL: &str = "honeycomb,xray,cloudwatch,rollbar";

/// The generated backend's environment block, as written.
const BACKEND_ENV: &str = r#"    environment:
      FRONTEND_URL: "${FRONTEND_URL:-http://localhost:3000}"
      BACKEND_URL: "${BACKEND_URL:-http://localhost:4567}"
      OTEL_SERVICE_NAME: "backend-flask"
      OTEL_EXPORTER_OTLP_ENDPOINT: "https://api.honeycomb.io"
      OTEL_EXPORTER_OTLP_HEADERS: "x-honeycomb-team=${HONEYCOMB_API_KEY}"
      AWS_XRAY_DAEMON_ADDRESS: "xray-daemon:2000"
      AWS_ACCESS_KEY_ID: "${AWS_ACCESS_KEY_ID}"
      AWS_SECRET_ACCESS_KEY: "${AWS_SECRET_ACCESS_KEY}"
      AWS_DEFAULT_REGION: "${AWS_DEFAULT_REGION}"
      ROLLBAR_ACCESS_TOKEN: "${ROLLBAR_ACCESS_TOKEN}"
"#;

fn compose(fixture: &Fixture) -> String {
    std::fs::read_to_string(fixture.path("docker-compose.yml")).unwrap()
}

#[test]
fn the_generated_workspace_is_healthy_to_begin_with() {
    healthy(&Fixture::new(ALL));
}

/// Compose merges docker-compose.override.yml by itself: the backend's
/// settings may live there.
#[test]
fn settings_in_the_override_file_count() {
    let fixture = Fixture::new(ALL);
    let base = compose(&fixture).replace(BACKEND_ENV, "");
    let fixture = fixture.write("docker-compose.yml", &base).write(
        "docker-compose.override.yml",
        &format!("services:\n  backend-flask:\n{BACKEND_ENV}"),
    );
    healthy(&fixture);
    // And a defect in the override is found there, with its line.
    let fixture = fixture.edit(
        "docker-compose.override.yml",
        "OTEL_SERVICE_NAME: \"backend-flask\"",
        "OTEL_SERVICE_NAME: \"bakend-flask\"",
    );
    let (_, report) = fixture.doctor();
    expect(
        &report,
        "otlp-service-name",
        None,
        "warn",
        "bakend-flask",
        Some("docker-compose.override.yml:6: OTEL_SERVICE_NAME: \"backend-flask\""),
    );
}

/// `env_file:` passes variables as `environment:` does.
#[test]
fn variables_from_an_env_file_count() {
    let fixture = Fixture::new(ALL);
    let env_file: String = BACKEND_ENV
        .lines()
        .skip(1)
        .map(|l| {
            let (k, v) = l.trim().split_once(": ").unwrap();
            format!("{k}={}\n", v.trim_matches('"'))
        })
        .collect();
    let text = compose(&fixture).replace(BACKEND_ENV, "    env_file: backend.env\n");
    let fixture = fixture
        .write("docker-compose.yml", &text)
        .write("backend.env", &env_file);
    healthy(&fixture);
}

/// A missing env_file is one finding: Compose refuses to start, and what
/// would follow from the variables it should hold is not reported again.
#[test]
fn a_missing_env_file_is_one_finding() {
    let fixture = Fixture::new(ALL);
    let text = compose(&fixture).replace(BACKEND_ENV, "    env_file: backend.env\n");
    let fixture = fixture.write("docker-compose.yml", &text);
    let (code, report) = fixture.doctor();
    assert_eq!(code, 1);
    assert_eq!(
        failing_ids(&report),
        ["compose-interpolation"],
        "{report:#}"
    );
    expect(
        &report,
        "compose-interpolation",
        None,
        "fail",
        "backend.env",
        None,
    );
}

/// YAML anchors, aliases and `<<` merge keys, as students share the AWS block.
#[test]
fn anchors_and_merge_keys_count() {
    let fixture = Fixture::new(ALL);
    let text = compose(&fixture)
        .replace(
            "services:\n",
            "x-aws: &aws\n  AWS_ACCESS_KEY_ID: \"${AWS_ACCESS_KEY_ID}\"\n  AWS_SECRET_ACCESS_KEY: \"${AWS_SECRET_ACCESS_KEY}\"\n\nservices:\n",
        )
        .replace(
            "      AWS_ACCESS_KEY_ID: \"${AWS_ACCESS_KEY_ID}\"\n      AWS_SECRET_ACCESS_KEY: \"${AWS_SECRET_ACCESS_KEY}\"\n      AWS_DEFAULT_REGION",
            "      <<: *aws\n      AWS_DEFAULT_REGION",
        )
        .replace(
            "      AWS_ACCESS_KEY_ID: \"${AWS_ACCESS_KEY_ID}\"\n      AWS_SECRET_ACCESS_KEY: \"${AWS_SECRET_ACCESS_KEY}\"\n      AWS_REGION",
            "      <<: *aws\n      AWS_REGION",
        );
    assert_eq!(text.matches("<<: *aws").count(), 2, "{text}");
    healthy(&fixture.write("docker-compose.yml", &text));
}

/// The daemon reached by its container_name, hostname or a network alias.
#[test]
fn the_daemon_reached_by_any_name_compose_gives_it() {
    for (name, declared) in [
        ("xray", "    container_name: xray\n"),
        ("daemon-host", "    hostname: daemon-host\n"),
        (
            "segments",
            "    networks:\n      default:\n        aliases: [segments]\n",
        ),
    ] {
        let fixture = Fixture::new(ALL);
        let text = compose(&fixture)
            .replace(
                "AWS_XRAY_DAEMON_ADDRESS: \"xray-daemon:2000\"",
                &format!("AWS_XRAY_DAEMON_ADDRESS: \"{name}:2000\""),
            )
            .replace(
                "    image: amazon/aws-xray-daemon:3.x\n",
                &format!("    image: amazon/aws-xray-daemon:3.x\n{declared}"),
            );
        healthy(&fixture.write("docker-compose.yml", &text));
    }
    // A name no container has is still a problem.
    let fixture = Fixture::new(ALL).edit(
        "docker-compose.yml",
        "AWS_XRAY_DAEMON_ADDRESS: \"xray-daemon:2000\"",
        "AWS_XRAY_DAEMON_ADDRESS: \"xray:2000\"",
    );
    let (_, report) = fixture.doctor();
    expect(
        &report,
        "xray-daemon-address",
        None,
        "fail",
        "no compose service is called that",
        None,
    );
}

/// A collector whose config is mounted from `${PWD}/...`.
#[test]
fn a_collector_config_mounted_from_pwd_is_read() {
    let config = "receivers:\n  otlp:\n    protocols:\n      http:\n        endpoint: 0.0.0.0:4318\nexporters:\n  otlphttp:\n    endpoint: https://api.honeycomb.io\n    headers:\n      x-honeycomb-team: ${env:HONEYCOMB_API_KEY}\nservice:\n  pipelines:\n    traces:\n      receivers: [otlp]\n      exporters: [otlphttp]\n";
    let collector = "  otel-collector:\n    image: otel/opentelemetry-collector-contrib:0.111.0\n    command: [--config=/etc/otel-collector-config.yaml]\n    environment:\n      HONEYCOMB_API_KEY: \"${HONEYCOMB_API_KEY}\"\n    volumes:\n      - \"${PWD}/otel-collector-config.yaml:/etc/otel-collector-config.yaml\"\n\n";
    let fixture = Fixture::new("honeycomb");
    let text = compose(&fixture)
        .replace(
            "OTEL_EXPORTER_OTLP_ENDPOINT: \"https://api.honeycomb.io\"",
            "OTEL_EXPORTER_OTLP_ENDPOINT: \"http://otel-collector:4318\"",
        )
        .replace(
            "      OTEL_EXPORTER_OTLP_HEADERS: \"x-honeycomb-team=${HONEYCOMB_API_KEY}\"\n",
            "",
        )
        .replace("services:\n", &format!("services:\n{collector}"));
    let fixture = fixture
        .write("docker-compose.yml", &text)
        .write("otel-collector-config.yaml", config);
    healthy(&fixture);
    // The same mount with a config that names a removed exporter: read, and found.
    let fixture = fixture.edit("otel-collector-config.yaml", "otlphttp", "logging");
    let (_, report) = fixture.doctor();
    assert!(
        failing_ids(&report)
            .iter()
            .any(|id| id.starts_with("collector-")),
        "{report:#}"
    );
}

/// The daemon's credentials from a mounted ~/.aws, or a profile.
#[test]
fn daemon_credentials_from_a_mounted_aws_folder_count() {
    let without_keys = |fixture: Fixture| {
        fixture.edit(
            "docker-compose.yml",
            "      AWS_ACCESS_KEY_ID: \"${AWS_ACCESS_KEY_ID}\"\n      AWS_SECRET_ACCESS_KEY: \"${AWS_SECRET_ACCESS_KEY}\"\n      AWS_REGION",
            "      AWS_REGION",
        )
    };
    let (_, report) = without_keys(Fixture::new(ALL)).doctor();
    expect(
        &report,
        "xray-daemon-credentials",
        None,
        "fail",
        "has no AWS_ACCESS_KEY_ID",
        None,
    );
    let mounted = without_keys(Fixture::new(ALL)).edit(
        "docker-compose.yml",
        "    command: [\"-o\"]\n",
        "    command: [\"-o\"]\n    volumes:\n      - ~/.aws:/root/.aws:ro\n",
    );
    healthy(&mounted);
    let profile = without_keys(Fixture::new(ALL)).edit(
        "docker-compose.yml",
        "      AWS_REGION",
        "      AWS_PROFILE: \"student\"\n      AWS_REGION",
    );
    let (_, report) = profile.doctor();
    assert!(
        !failing_ids(&report)
            .iter()
            .any(|id| id == "xray-daemon-credentials"),
        "{report:#}"
    );
}

/// A variable set nowhere is one finding, naming every service that gets it
/// empty: not one more per service that interpolates it.
#[test]
fn an_unset_variable_is_one_finding_across_services() {
    for name in ["AWS_ACCESS_KEY_ID", "AWS_DEFAULT_REGION"] {
        let (code, report) = Fixture::new(ALL).unset(name).doctor();
        assert_eq!(code, 1, "{name}");
        assert_eq!(failing_ids(&report), ["env-missing"], "{name}: {report:#}");
        expect(
            &report,
            "env-missing",
            Some(name),
            "fail",
            "Compose gives backend-flask and xray-daemon an empty value",
            Some(&format!("tracelab env set {name}")),
        );
    }
}
