//! One fixture per failure mode students hit (FACTS.md) and per check: the
//! exact check id, variable and status, and the fix command.

use crate::common;

use crate::common::doctor::*;

#[test]
fn a_correct_workspace_passes_with_exit_0() {
    for backends in [
        "honeycomb",
        "honeycomb,xray,cloudwatch,rollbar",
        "local,xray",
    ] {
        let (code, report) = Fixture::new(backends).doctor();
        assert_eq!(
            failing_ids(&report),
            Vec::<String>::new(),
            "{backends}: {report:#}"
        );
        assert_eq!(code, 0);
        assert_eq!(report["problems"], 0);
    }
}

#[test]
fn json_has_the_documented_shape() {
    let (_, report) = Fixture::new("honeycomb")
        .unset("HONEYCOMB_API_KEY")
        .doctor();
    assert!(report["problems"].as_u64().unwrap() >= 1);
    assert!(report["warnings"].is_u64());
    for check in report["checks"].as_array().unwrap() {
        let keys: Vec<&str> = check
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            keys,
            [
                "apply", "fix", "id", "layer", "message", "status", "variable"
            ]
        );
        assert!(["ok", "warn", "fail", "skip"].contains(&check["status"].as_str().unwrap()));
        if check["status"] == "fail" && check["id"].as_str().unwrap().starts_with("env-") {
            assert!(check["variable"].is_string(), "{check}");
        }
    }
}

// 1. Key exported in one terminal only.
#[test]
fn key_persisted_in_gitpod_but_not_loaded_in_this_shell() {
    let (code, report) = Fixture::new("honeycomb")
        .unset("HONEYCOMB_API_KEY")
        .gitpod(&[("HONEYCOMB_API_KEY", KEY)])
        .doctor();
    assert_eq!(code, 1);
    expect(
        &report,
        "env-missing",
        Some("HONEYCOMB_API_KEY"),
        "fail",
        "not set in this shell",
        Some("eval \"$(gp env -e)\""),
    );
}

#[test]
fn key_set_in_this_shell_only() {
    let (code, report) = Fixture::new("honeycomb").gitpod(&[]).doctor();
    expect(
        &report,
        "env-not-persisted",
        Some("HONEYCOMB_API_KEY"),
        "warn",
        "this shell only",
        Some("gp env HONEYCOMB_API_KEY=\"$HONEYCOMB_API_KEY\""),
    );
    assert_eq!(code, 0, "a warning alone exits 0");
}

#[test]
fn key_missing_everywhere_says_how_to_set_it() {
    let (code, report) = Fixture::new("honeycomb")
        .unset("HONEYCOMB_API_KEY")
        .doctor();
    assert_eq!(code, 1);
    expect(
        &report,
        "env-missing",
        Some("HONEYCOMB_API_KEY"),
        "fail",
        "Compose gives backend-flask an empty value",
        Some("tracelab env set HONEYCOMB_API_KEY"),
    );
    // In Gitpod the fix persists it there, with a prompt that says what it waits for.
    let (_, report) = Fixture::new("honeycomb")
        .unset("HONEYCOMB_API_KEY")
        .set("GITPOD_WORKSPACE_ID", "ws-1")
        .doctor();
    expect(
        &report,
        "env-missing",
        Some("HONEYCOMB_API_KEY"),
        "fail",
        "Compose gives backend-flask an empty value",
        Some(
            "read -rsp 'Paste HONEYCOMB_API_KEY: ' HONEYCOMB_API_KEY
export HONEYCOMB_API_KEY
gp env HONEYCOMB_API_KEY=\"$HONEYCOMB_API_KEY\"",
        ),
    );
}

// 2. The key in the container differs from the shell.
#[test]
fn running_container_has_an_old_key() {
    let fixture = Fixture::new("honeycomb").container(
        &[(
            "OTEL_EXPORTER_OTLP_HEADERS",
            &format!("x-honeycomb-team={OTHER_KEY}"),
        )],
        "",
    );
    let (code, report) = fixture.doctor();
    assert_eq!(code, 1);
    let finding = expect(
        &report,
        "honeycomb-container-key",
        Some("HONEYCOMB_API_KEY"),
        "fail",
        "running container sends",
        Some("docker compose up -d --force-recreate backend-flask"),
    );
    assert_eq!(finding["layer"], "container");
    assert_no_secret(&fixture.run(&[]).stdout);
}

#[test]
fn container_env_differs_from_the_shell_for_aws() {
    let (_, report) = Fixture::new("honeycomb,xray")
        .container(
            &[
                (
                    "OTEL_EXPORTER_OTLP_HEADERS",
                    &format!("x-honeycomb-team={KEY}"),
                ),
                ("AWS_ACCESS_KEY_ID", "AKIAOLDOLDOLDOLDOLD0"),
            ],
            "",
        )
        .doctor();
    let finding = expect(
        &report,
        "env-mismatch",
        Some("AWS_ACCESS_KEY_ID"),
        "fail",
        "container",
        Some("--force-recreate"),
    );
    let message = finding["message"].as_str().unwrap();
    assert!(
        message.contains("shell AKIA…(20 chars, #") && !message.contains(AWS_ID),
        "{message}"
    );
}

#[test]
fn shell_and_dotenv_disagree() {
    let (_, report) = Fixture::new("honeycomb")
        .write(".env", &format!("HONEYCOMB_API_KEY={OTHER_KEY}\n"))
        .doctor();
    let finding = expect(
        &report,
        "env-mismatch",
        Some("HONEYCOMB_API_KEY"),
        "fail",
        ".env",
        Some("the shell's value wins"),
    );
    assert!(
        finding["message"]
            .as_str()
            .unwrap()
            .contains("shell hcaik_…")
    );
}

/// A broken value the shell's good one shadows loses nothing now: a
/// warning that says so, and no mismatch echoing it.
#[test]
fn a_broken_value_the_shell_shadows_is_a_warning() {
    let (code, report) = Fixture::new("honeycomb")
        .write(".env", &format!("HONEYCOMB_API_KEY=\"{KEY} \"\n"))
        .doctor();
    expect(
        &report,
        "env-quotes-whitespace",
        Some("HONEYCOMB_API_KEY"),
        "warn",
        "not used now: shell's value wins",
        None,
    );
    assert!(
        findings(&report, "env-mismatch", None).is_empty(),
        "{report:#}"
    );
    assert_eq!(code, 0, "{report:#}");
}

#[test]
fn key_written_literally_into_the_compose_file() {
    let (_, report) = Fixture::new("honeycomb")
        .edit(
            "docker-compose.yml",
            "x-honeycomb-team=${HONEYCOMB_API_KEY}",
            &format!("x-honeycomb-team={OTHER_KEY}"),
        )
        .doctor();
    expect(
        &report,
        "honeycomb-header-key",
        Some("HONEYCOMB_API_KEY"),
        "fail",
        "a key written into the headers",
        Some("${HONEYCOMB_API_KEY}"),
    );
    // Where it is written, and that it is committed: one finding says both.
    let finding = findings(&report, "honeycomb-header-key", None)[0].clone();
    let message = finding["message"].as_str().unwrap();
    assert!(
        message.starts_with("docker-compose.yml:") && message.contains("commits"),
        "{message}"
    );
    assert!(!message.contains(OTHER_KEY), "{message}");
}

#[test]
fn a_secret_in_the_committed_compose_file() {
    let (_, report) = Fixture::new("honeycomb,rollbar")
        .edit(
            "docker-compose.yml",
            "ROLLBAR_ACCESS_TOKEN: \"${ROLLBAR_ACCESS_TOKEN}\"",
            &format!("ROLLBAR_ACCESS_TOKEN: \"{ROLLBAR}\""),
        )
        .doctor();
    expect(
        &report,
        "env-secret-in-compose",
        Some("ROLLBAR_ACCESS_TOKEN"),
        "fail",
        "which is committed",
        Some("rotate"),
    );
}

// 3. Placeholders left in.
#[test]
fn placeholders_from_the_instructions() {
    for placeholder in [
        "<\"API KEY\">",
        "\"\"",
        "API_KEY",
        "your-api-key",
        "changeme",
        "HONEYCOMB_API_KEY",
    ] {
        let (code, report) = Fixture::new("honeycomb")
            .set("HONEYCOMB_API_KEY", placeholder)
            .doctor();
        assert_eq!(code, 1, "{placeholder}");
        expect(
            &report,
            "env-placeholder",
            Some("HONEYCOMB_API_KEY"),
            "fail",
            "HONEYCOMB_API_KEY in the shell",
            Some("tracelab env set HONEYCOMB_API_KEY"),
        );
    }
}

#[test]
fn literal_quotes_and_whitespace_around_the_value() {
    for (value, says) in [
        (format!("'{KEY}'"), "literal quotes"),
        (format!("{KEY}\n"), "newline"),
        (format!(" {KEY}"), "whitespace"),
    ] {
        let (_, report) = Fixture::new("honeycomb")
            .set("HONEYCOMB_API_KEY", &value)
            .doctor();
        expect(
            &report,
            "env-quotes-whitespace",
            Some("HONEYCOMB_API_KEY"),
            "fail",
            says,
            None,
        );
    }
}

// 4. Misspelled variable names.
#[test]
fn misspelled_name_in_dotenv() {
    let (code, report) = Fixture::new("honeycomb")
        .unset("HONEYCOMB_API_KEY")
        .write(".env", &format!("API_HONEYCOMB_KEY={KEY}\n"))
        .doctor();
    assert_eq!(code, 1);
    expect(
        &report,
        "env-near-miss",
        Some("HONEYCOMB_API_KEY"),
        "fail",
        "\"API_HONEYCOMB_KEY\" in .env",
        // A command that renames it in .env, not a sentence.
        Some("sed -i 's/^\\(export \\)\\?API_HONEYCOMB_KEY=/\\1HONEYCOMB_API_KEY=/'"),
    );
    // Unset because misspelt: one root cause, one finding.
    assert!(
        findings(&report, "env-missing", Some("HONEYCOMB_API_KEY")).is_empty(),
        "{report:#}"
    );
}

#[test]
fn misspelled_name_in_the_shell_and_the_compose_file() {
    let (_, report) = Fixture::new("honeycomb")
        .unset("HONEYCOMB_API_KEY")
        .set("HONEYCOMB_APIKEY", KEY)
        .doctor();
    expect(
        &report,
        "env-near-miss",
        Some("HONEYCOMB_API_KEY"),
        "fail",
        "\"HONEYCOMB_APIKEY\" in shell",
        None,
    );
    let (_, report) = Fixture::new("honeycomb")
        .edit(
            "docker-compose.yml",
            "${HONEYCOMB_API_KEY}",
            "${API_HONEYCOMB_KEY}",
        )
        .doctor();
    // The reference nothing sets is the one root cause (the header it
    // empties is its echo), fixed by renaming it on its line.
    let finding = expect(
        &report,
        "env-near-miss",
        Some("HONEYCOMB_API_KEY"),
        "fail",
        "interpolates ${API_HONEYCOMB_KEY}, which nothing sets",
        None,
    );
    assert_eq!(
        finding["apply"]["new"].as_str().map(str::trim),
        Some("OTEL_EXPORTER_OTLP_HEADERS: \"x-honeycomb-team=${HONEYCOMB_API_KEY}\""),
        "{finding:#}"
    );
    assert_eq!(failing_ids(&report), ["env-near-miss"], "{report:#}");
}

// 5. Service name misspelled or unset.
#[test]
fn service_name_misspelled_or_unset() {
    let (code, report) = Fixture::new("honeycomb")
        .edit(
            "docker-compose.yml",
            "OTEL_SERVICE_NAME: \"backend-flask\"",
            "OTEL_SERVICE_NAME: \"bakend-flask\"",
        )
        .doctor();
    expect(
        &report,
        "otlp-service-name",
        Some("OTEL_SERVICE_NAME"),
        "warn",
        "\"bakend-flask\"",
        Some("backend-flask"),
    );
    assert_eq!(code, 0);
    // Unset, the generated app's Resource falls back to its own name
    // (os.getenv("OTEL_SERVICE_NAME", "backend-flask")): no problem.
    let unset = Fixture::new("honeycomb").edit(
        "docker-compose.yml",
        "      OTEL_SERVICE_NAME: \"backend-flask\"\n",
        "",
    );
    let (code, report) = unset.doctor();
    expect(
        &report,
        "otlp-service-name",
        Some("OTEL_SERVICE_NAME"),
        "ok",
        "the code names the service \"backend-flask\"",
        None,
    );
    assert_eq!(code, 0);
    // Without that Resource, spans land in unknown_service: they arrive,
    // where the student will not look (a warning), and the name is an
    // entry --fix adds.
    let (code, report) = unset
        .edit(
            "backend-flask/app.py",
            "TracerProvider(resource=Resource.create({\"service.name\": SERVICE_NAME}))",
            "TracerProvider()",
        )
        .doctor();
    let finding = expect(
        &report,
        "otlp-service-name",
        Some("OTEL_SERVICE_NAME"),
        "warn",
        "unknown_service",
        Some("OTEL_SERVICE_NAME: \"backend-flask\""),
    );
    assert_eq!(finding["apply"]["kind"], "edit", "{finding:#}");
    assert_eq!(code, 0);
}

// 6. Region typos; AWS_REGION vs AWS_DEFAULT_REGION.
#[test]
fn region_typo_is_caught_with_a_suggestion() {
    let (_, report) = Fixture::new("honeycomb,cloudwatch")
        .set("AWS_DEFAULT_REGION", "can-central-1")
        .doctor();
    expect(
        &report,
        "env-shape",
        Some("AWS_DEFAULT_REGION"),
        "fail",
        "did you mean ca-central-1",
        None,
    );
}

#[test]
fn boto3_needs_aws_default_region_and_the_daemon_aws_region() {
    // boto3 runs in the backend only for CloudWatch: the X-Ray SDK needs no region.
    let (_, report) = Fixture::new("honeycomb,xray,cloudwatch")
        .edit(
            "docker-compose.yml",
            "      AWS_DEFAULT_REGION: \"${AWS_DEFAULT_REGION}\"\n",
            "      AWS_REGION: \"${AWS_DEFAULT_REGION}\"\n",
        )
        .doctor();
    expect(
        &report,
        "aws-region",
        Some("AWS_DEFAULT_REGION"),
        "fail",
        "boto3",
        None,
    );
    expect(
        &report,
        "env-passthrough",
        Some("AWS_DEFAULT_REGION"),
        "fail",
        "does not pass",
        None,
    );
    let (_, report) = Fixture::new("honeycomb,xray")
        .edit(
            "docker-compose.yml",
            "      AWS_REGION: \"${AWS_DEFAULT_REGION}\"\n",
            "      AWS_DEFAULT_REGION: \"${AWS_DEFAULT_REGION}\"\n",
        )
        .doctor();
    expect(
        &report,
        "xray-daemon-region",
        Some("AWS_REGION"),
        "fail",
        "reads only AWS_REGION",
        Some("AWS_REGION"),
    );
}

#[test]
fn aws_shapes_session_tokens_and_the_daemon_address() {
    let (code, report) = Fixture::new("honeycomb,xray")
        .set("AWS_ACCESS_KEY_ID", "notakey")
        .doctor();
    expect(
        &report,
        "env-shape",
        Some("AWS_ACCESS_KEY_ID"),
        "warn",
        "does not look like an access key id",
        None,
    );
    assert_eq!(code, 0, "an unusual key id only warns: {report:#}");
    let (_, report) = Fixture::new("honeycomb,xray")
        .set("AWS_ACCESS_KEY_ID", "ASIAZ7Q4R5T6Y7U8I9O0")
        .doctor();
    expect(
        &report,
        "aws-session-token",
        Some("AWS_SESSION_TOKEN"),
        "fail",
        "temporary key",
        None,
    );
    let (_, report) = Fixture::new("honeycomb,xray")
        .edit(
            "docker-compose.yml",
            "AWS_XRAY_DAEMON_ADDRESS: \"xray-daemon:2000\"",
            "AWS_XRAY_DAEMON_ADDRESS: \"http://xray-daemon:2000\"",
        )
        .doctor();
    expect(
        &report,
        "xray-daemon-address",
        Some("AWS_XRAY_DAEMON_ADDRESS"),
        "fail",
        "InvalidDaemonAddressException",
        Some("xray-daemon:2000"),
    );
    let (_, report) = Fixture::new("honeycomb,xray")
        .edit(
            "docker-compose.yml",
            "AWS_XRAY_DAEMON_ADDRESS: \"xray-daemon:2000\"",
            "AWS_XRAY_DAEMON_ADDRESS: \"xray:2000\"",
        )
        .doctor();
    expect(
        &report,
        "xray-daemon-address",
        Some("AWS_XRAY_DAEMON_ADDRESS"),
        "fail",
        "no compose service",
        None,
    );
}

#[test]
fn rollbar_token_shape_warns() {
    let (code, report) = Fixture::new("honeycomb,rollbar")
        .set("ROLLBAR_ACCESS_TOKEN", "post_server_item_token")
        .doctor();
    expect(
        &report,
        "env-shape",
        Some("ROLLBAR_ACCESS_TOKEN"),
        "warn",
        "32 hex",
        None,
    );
    assert_eq!(code, 0);
}

// 7. XRayMiddleware before the app; Rollbar via before_first_request.
#[test]
fn middleware_before_the_app_exists() {
    let (_, report) = Fixture::new("honeycomb,xray")
        .edit(
            "backend-flask/app.py",
            "XRayMiddleware(app, xray_recorder)\n",
            "",
        )
        .edit(
            "backend-flask/app.py",
            "app = Flask(__name__)\n",
            "XRayMiddleware(app, xray_recorder)\napp = Flask(__name__)\n",
        )
        .doctor();
    expect(
        &report,
        "code-xray-middleware-order",
        None,
        "fail",
        "runs before `app = Flask(...)`",
        Some("move line"),
    );
}

#[test]
fn rollbar_through_before_first_request_on_current_flask() {
    let (_, report) = Fixture::new("honeycomb,rollbar")
        .edit(
            "backend-flask/app.py",
            "with app.app_context():\n    init_rollbar(app)\n",
            "@app.before_first_request\ndef start_rollbar():\n    init_rollbar(app)\n",
        )
        .doctor();
    expect(
        &report,
        "code-before-first-request",
        None,
        "fail",
        "Flask 3.1",
        Some("app.app_context()"),
    );
}

// 8. Nothing arrives: processors never added, or the exporter logged 401/404.
#[test]
fn a_processor_created_and_never_added() {
    let (_, report) = Fixture::new("honeycomb")
        .edit("backend-flask/app.py", "    trace.set_tracer_provider(provider)\n", "    simple_processor = SimpleSpanProcessor(ConsoleSpanExporter())\n    trace.set_tracer_provider(provider)\n")
        .doctor();
    expect(
        &report,
        "code-unattached-processor",
        None,
        "fail",
        "simple_processor is created but never added",
        Some("provider.add_span_processor(simple_processor)"),
    );
}

#[test]
fn exporter_errors_in_the_container_logs() {
    let headers = format!("x-honeycomb-team={KEY}");
    for (code, says) in [("401", "rejected the key"), ("404", "does not exist")] {
        let (_, report) = Fixture::new("honeycomb")
            .container(
                &[("OTEL_EXPORTER_OTLP_HEADERS", &headers)],
                &format!(
                    "backend-flask-1  | Failed to export span batch code: {code}, reason: nope\n"
                ),
            )
            .doctor();
        expect(&report, "container-export-errors", None, "fail", says, None);
    }
}

// The exporter's own rules.
#[test]
fn a_dropping_exporter_is_named_with_what_to_change() {
    for log in [
        "backend-flask-1  | Queue full, dropping spans.\n",
        "backend-flask-1  | Queue is full, likely spans will be dropped.\n",
    ] {
        let fixture = Fixture::new("honeycomb");
        let env = [
            ("HONEYCOMB_API_KEY", KEY),
            (
                "OTEL_EXPORTER_OTLP_HEADERS",
                &format!("x-honeycomb-team={KEY}"),
            ),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "https://api.honeycomb.io"),
            ("OTEL_SERVICE_NAME", "backend-flask"),
        ];
        let (code, report) = fixture
            .container(
                &env,
                &format!("{log}backend-flask-1  | GET /api/activities/home 200\n"),
            )
            .doctor();
        assert_eq!(code, 1, "{log}: {report:#}");
        expect(
            &report,
            "container-spans-dropped",
            None,
            "fail",
            "span queue was full",
            Some("OTEL_TRACES_SAMPLER=parentbased_traceidratio"),
        );
    }
}

#[test]
fn endpoint_mistakes() {
    let cases = [
        (
            "https://api.honeycomb.io/v1/traces",
            "otlp-endpoint",
            "fail",
            "/v1/traces/v1/traces",
        ),
        ("api.honeycomb.io", "otlp-endpoint", "fail", "no scheme"),
        (
            "http://api.honeycomb.io",
            "otlp-endpoint",
            "fail",
            "only accepts https",
        ),
        (
            "http://collector:4317",
            "otlp-endpoint",
            "fail",
            "gRPC port",
        ),
        (
            "https://api.honeycom.io",
            "otlp-endpoint-host",
            "warn",
            "did you mean api.honeycomb.io",
        ),
    ];
    for (endpoint, id, status, says) in cases {
        let (_, report) = Fixture::new("honeycomb")
            .edit(
                "docker-compose.yml",
                "\"https://api.honeycomb.io\"",
                &format!("\"{endpoint}\""),
            )
            .doctor();
        expect(
            &report,
            id,
            Some("OTEL_EXPORTER_OTLP_ENDPOINT"),
            status,
            says,
            None,
        );
    }
}

#[test]
fn per_signal_endpoint_and_protocol() {
    let (_, report) = Fixture::new("honeycomb")
        .edit(
            "docker-compose.yml",
            "OTEL_EXPORTER_OTLP_ENDPOINT:",
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT:",
        )
        .doctor();
    expect(
        &report,
        "otlp-endpoint",
        Some("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"),
        "fail",
        "must end in /v1/traces",
        Some("https://api.honeycomb.io/v1/traces"),
    );
    let (_, report) = Fixture::new("honeycomb")
        .edit(
            "docker-compose.yml",
            "      OTEL_SERVICE_NAME:",
            "      OTEL_EXPORTER_OTLP_PROTOCOL: \"http\"\n      OTEL_SERVICE_NAME:",
        )
        .doctor();
    expect(
        &report,
        "otlp-protocol",
        Some("OTEL_EXPORTER_OTLP_PROTOCOL"),
        "fail",
        "not one of grpc",
        None,
    );
}

#[test]
fn header_entries_the_exporter_drops() {
    let cases = [
        (
            "x-honeycomb-team=\\\"${HONEYCOMB_API_KEY}\\\"",
            "double quotes",
            "fail",
        ),
        ("x-honeycomb-team:${HONEYCOMB_API_KEY}", "':'", "fail"),
        (
            "x-honeycomb-team='${HONEYCOMB_API_KEY}'",
            "single quotes",
            "fail",
        ),
    ];
    for (header, says, status) in cases {
        let (code, report) = Fixture::new("honeycomb")
            .edit(
                "docker-compose.yml",
                "x-honeycomb-team=${HONEYCOMB_API_KEY}",
                header,
            )
            .doctor();
        expect(
            &report,
            "otlp-headers-format",
            Some("OTEL_EXPORTER_OTLP_HEADERS"),
            status,
            says,
            None,
        );
        assert_eq!(code, 1, "{header}");
    }
}

#[test]
fn honeycomb_key_kinds() {
    let classic = "0123456789abcdef0123456789abcdef";
    let (_, report) = Fixture::new("honeycomb")
        .set("HONEYCOMB_API_KEY", classic)
        .doctor();
    expect(
        &report,
        "honeycomb-classic-dataset",
        Some("OTEL_EXPORTER_OTLP_HEADERS"),
        "fail",
        "classic configuration key",
        Some("x-honeycomb-dataset=backend-flask"),
    );
    let (_, report) = Fixture::new("honeycomb")
        .set("HONEYCOMB_API_KEY", classic)
        .edit(
            "docker-compose.yml",
            "x-honeycomb-team=${HONEYCOMB_API_KEY}",
            "x-honeycomb-team=${HONEYCOMB_API_KEY},x-honeycomb-dataset=cruddur",
        )
        .doctor();
    assert!(findings(&report, "honeycomb-classic-dataset", None).is_empty());
    let (_, report) = Fixture::new("honeycomb")
        .set("HONEYCOMB_API_KEY", "abc123-not-a-key-at-all")
        .doctor();
    expect(
        &report,
        "env-shape",
        Some("HONEYCOMB_API_KEY"),
        "fail",
        "fits no Honeycomb key format",
        None,
    );
    let (_, report) = Fixture::new("honeycomb")
        .set("HONEYCOMB_API_KEY", "AbCdEfGhIjKlMnOpQrStUv")
        .doctor();
    expect(
        &report,
        "env-set",
        Some("HONEYCOMB_API_KEY"),
        "ok",
        "configuration key",
        None,
    );
}

#[test]
fn compose_required_variable_and_missing_passthrough() {
    let (code, report) = Fixture::new("honeycomb")
        .unset("HONEYCOMB_API_KEY")
        .edit(
            "docker-compose.yml",
            "${HONEYCOMB_API_KEY}",
            "${HONEYCOMB_API_KEY:?run tracelab env set}",
        )
        .doctor();
    assert_eq!(code, 1);
    expect(
        &report,
        "compose-interpolation",
        Some("HONEYCOMB_API_KEY"),
        "fail",
        "required variable HONEYCOMB_API_KEY is missing a value: run tracelab env set",
        None,
    );
    let (_, report) = Fixture::new("honeycomb,rollbar")
        .edit(
            "docker-compose.yml",
            "      ROLLBAR_ACCESS_TOKEN: \"${ROLLBAR_ACCESS_TOKEN}\"\n",
            "",
        )
        .doctor();
    expect(
        &report,
        "env-passthrough",
        Some("ROLLBAR_ACCESS_TOKEN"),
        "fail",
        "does not pass ROLLBAR_ACCESS_TOKEN",
        Some("ROLLBAR_ACCESS_TOKEN: \"${ROLLBAR_ACCESS_TOKEN}\""),
    );
}

/// One bad indent in the compose file is one finding at file:line:column;
/// everything that does not need the file (the code beside it) is still
/// checked, and nothing that would follow from its settings is guessed.
#[test]
fn a_broken_compose_file_is_one_finding_and_the_rest_is_still_checked() {
    let fixture = Fixture::new("honeycomb")
        .write(
            "docker-compose.yml",
            "services:\n  backend-flask:\n    environment: [unclosed\n",
        )
        .edit(
            "backend-flask/app.py",
            "app = Flask(__name__)",
            "app = Flask(__name__)\nif True:\nprint('unindented')",
        );
    let (code, report) = fixture.doctor();
    assert_eq!(code, 1, "{report:#}");
    expect(
        &report,
        "compose-invalid",
        None,
        "fail",
        "docker-compose.yml:4:1: not valid YAML",
        Some("docker compose -f"),
    );
    expect(
        &report,
        "code-syntax",
        None,
        "fail",
        "backend-flask/app.py:",
        None,
    );
    assert_eq!(
        failing_ids(&report),
        ["compose-invalid", "code-syntax"],
        "{report:#}"
    );
    let output = fixture.run(&["--dir", "/nonexistent"]);
    assert_eq!(output.status.code(), Some(2));
}

/// Conflict markers left in the compose file are named as what they are,
/// not as a YAML error.
#[test]
fn leftover_conflict_markers_are_one_finding() {
    let fixture = Fixture::new("honeycomb").edit(
        "docker-compose.yml",
        "      OTEL_SERVICE_NAME:",
        "<<<<<<< yours\n      DEBUG: \"1\"\n=======\n      DEBUG: \"0\"\n>>>>>>> tracelab\n      OTEL_SERVICE_NAME:",
    );
    let (code, report) = fixture.doctor();
    assert_eq!(code, 1, "{report:#}");
    let text = std::fs::read_to_string(fixture.path("docker-compose.yml")).unwrap();
    let line = text.lines().position(|l| l.starts_with("<<<<<<<")).unwrap() + 1;
    expect(
        &report,
        "compose-conflict",
        None,
        "fail",
        &format!("docker-compose.yml:{line}: unresolved merge conflict"),
        Some("delete the <<<<<<<, ======= and >>>>>>> lines"),
    );
    assert_eq!(failing_ids(&report), ["compose-conflict"], "{report:#}");
}

/// Conflict markers left in a module of the backend (by tracelab add or
/// update, or git) are named as what they are, at the marker's line, not
/// as the parser's "Expected a statement"; CPython refuses the module too.
#[test]
fn leftover_conflict_markers_in_python_are_named_as_such() {
    let fixture = Fixture::new("honeycomb").edit(
        "backend-flask/services/home_activities.py",
        "from opentelemetry import trace\n",
        "<<<<<<< yours\nfrom opentelemetry import trace\n=======\nfrom opentelemetry import trace  # tracing\n>>>>>>> tracelab\n",
    );
    let (code, report) = fixture.doctor();
    assert_eq!(code, 1, "{report:#}");
    let module = fixture.path("backend-flask/services/home_activities.py");
    let text = std::fs::read_to_string(&module).unwrap();
    let line = text.lines().position(|l| l.starts_with("<<<<<<<")).unwrap() + 1;
    expect(
        &report,
        "code-syntax",
        None,
        "fail",
        &format!("home_activities.py:{line}: unresolved merge conflict"),
        Some("delete the <<<<<<<, ======= and >>>>>>> lines"),
    );
    let compiled = std::process::Command::new(common::python())
        .args(["-m", "py_compile"])
        .arg(&module)
        .output()
        .unwrap();
    assert!(!compiled.status.success(), "CPython compiled it");
}

/// In an 80-column terminal (Gitpod's, at every start) every line fits:
/// prose wraps, and each fix is a command that fits on its own line.
#[test]
fn in_80_columns_every_line_fits() {
    for fixture in [
        Fixture::new("honeycomb,xray,cloudwatch,rollbar")
            .unset("HONEYCOMB_API_KEY")
            .unset("AWS_DEFAULT_REGION"),
        Fixture::new("honeycomb,xray,cloudwatch,rollbar")
            .unset("ROLLBAR_ACCESS_TOKEN")
            .set("GITPOD_WORKSPACE_ID", "ws-1"),
    ] {
        let output = fixture.set("COLUMNS", "80").run(&[]);
        let text = String::from_utf8_lossy(&output.stdout);
        assert!(text.contains("fix:"), "{text}");
        for line in text.lines() {
            assert!(
                line.chars().count() <= 80,
                "{} chars: {line}",
                line.chars().count()
            );
        }
    }
}

#[test]
fn human_output_is_grouped_numbered_and_never_shows_a_secret() {
    let fixture = Fixture::new("honeycomb,xray")
        .set("AWS_DEFAULT_REGION", "can-central-1")
        .write(".env", &format!("HONEYCOMB_API_KEY={OTHER_KEY}\n"));
    let output = fixture.run(&[]);
    assert_eq!(output.status.code(), Some(1));
    let text = String::from_utf8_lossy(&output.stdout);
    for expected in [
        "Environment variables\n",
        "  ✗ 1. [",
        "  ✗ 2. [",
        "      fix: ",
        "problems found",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in\n{text}");
    }
    assert!(!text.contains('\u{1b}'), "colour without a terminal");
    assert_no_secret(&output.stdout);
}

#[test]
fn infers_the_backends_of_a_bootcamp_repository_without_tracelab_files() {
    let fixture = Fixture::new("honeycomb,xray");
    std::fs::remove_file(fixture.path(".tracelab.yml")).unwrap();
    let fixture = fixture.edit("docker-compose.yml", "  backend-flask:", "  frontend-react-js:\n    image: node:18\n    ports:\n      - \"3000:3000\"\n  backend-flask:");
    let (code, report) = fixture.doctor();
    expect(
        &report,
        "workspace-backends",
        None,
        "ok",
        "honeycomb, xray",
        None,
    );
    assert_eq!(code, 0, "{report:#}");
}

#[test]
fn with_compose_installed_it_resolves_through_compose_and_finds_the_same() {
    let (code, report) = Fixture::new("honeycomb,xray").real_compose().doctor();
    expect(&report, "compose-file", None, "ok", "resolved with", None);
    assert!(
        findings(&report, "compose-file", None)[0]["message"]
            .as_str()
            .unwrap()
            .contains("docker-compose"),
        "{report:#}"
    );
    assert_eq!(
        (code, failing_ids(&report)),
        (0, Vec::<String>::new()),
        "{report:#}"
    );

    let broken = |fixture: Fixture| {
        fixture
            .unset("HONEYCOMB_API_KEY")
            .write(".env", "API_HONEYCOMB_KEY=x\n")
            .edit(
                "docker-compose.yml",
                "x-honeycomb-team=${HONEYCOMB_API_KEY}",
                &format!("x-honeycomb-team={OTHER_KEY}"),
            )
            .doctor()
    };
    let (_, with_compose) = broken(Fixture::new("honeycomb").real_compose());
    let (_, builtin) = broken(Fixture::new("honeycomb"));
    let mut a = failing_ids(&with_compose);
    let mut b = failing_ids(&builtin);
    a.sort();
    b.sort();
    assert_eq!(a, b);
    assert_eq!(a, ["env-near-miss", "env-secret-in-compose"]);
}

#[test]
fn a_compose_required_variable_through_real_compose() {
    let (code, report) = Fixture::new("honeycomb")
        .real_compose()
        .unset("HONEYCOMB_API_KEY")
        .edit(
            "docker-compose.yml",
            "${HONEYCOMB_API_KEY}",
            "${HONEYCOMB_API_KEY:?set it}",
        )
        .doctor();
    assert_eq!(code, 1);
    expect(
        &report,
        "compose-interpolation",
        Some("HONEYCOMB_API_KEY"),
        "fail",
        "required variable HONEYCOMB_API_KEY is missing a value",
        None,
    );
}

/// A file Python cannot decode is a module that does not import: a finding
/// at its line, never a silent end to every code check.
#[test]
fn a_non_utf8_module_is_a_finding_at_its_line() {
    let fixture = Fixture::new("honeycomb");
    let mut bytes = std::fs::read(fixture.path("backend-flask/app.py")).unwrap();
    let line = bytes.iter().filter(|b| **b == b'\n').count() + 1;
    bytes.extend_from_slice(b"NAME = '\xe9t\xe9'\n");
    std::fs::write(fixture.path("backend-flask/app.py"), bytes).unwrap();
    let (code, report) = fixture.doctor();
    assert_eq!(code, 1);
    expect(
        &report,
        "code-syntax",
        None,
        "fail",
        &format!("backend-flask/app.py:{line}: cannot be read as Python source (not UTF-8 text"),
        None,
    );
}

/// A `.env` that is a FIFO or /dev/zero is refused at once, by name: never
/// a hang, never a read that grows without end.
#[test]
fn a_dotenv_that_is_not_a_file_is_refused_at_once() {
    let fifo = Fixture::new("honeycomb");
    nix::unistd::mkfifo(&fifo.path(".env"), nix::sys::stat::Mode::S_IRWXU).unwrap();
    let zero = Fixture::new("honeycomb");
    std::os::unix::fs::symlink("/dev/zero", zero.path(".env")).unwrap();
    for fixture in [fifo, zero] {
        let started = std::time::Instant::now();
        let output = fixture.run(&[]);
        assert_eq!(output.status.code(), Some(2));
        assert!(
            String::from_utf8_lossy(&output.stderr).contains(".env is not a regular file"),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(started.elapsed() < std::time::Duration::from_secs(2));
    }
}
