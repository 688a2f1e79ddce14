//! `tracelab doctor --deep` on real generated workspaces: the backend runs
//! in a real venv, exports real OTLP to the receiver inside tracelab and
//! real X-Ray segments to its UDP stand-in; defects planted in its code are
//! named with their file and line, and nothing is left running.

use crate::common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

/// Keys of the right shapes: the static doctor is satisfied, and nothing
/// they open is real.
const KEYS: &[(&str, &str)] = &[
    (
        "HONEYCOMB_API_KEY",
        "hcaik_01jq7w3e5r7t9y1u3i5o7p9a1s3d5f7g9h1j3k5l7z9x1c3v5b7n9m1q3w",
    ),
    ("AWS_ACCESS_KEY_ID", "AKIAZ7Q4R5T6Y7U8I9O0"),
    (
        "AWS_SECRET_ACCESS_KEY",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    ),
    ("AWS_DEFAULT_REGION", "ca-central-1"),
    ("ROLLBAR_ACCESS_TOKEN", "0123456789abcdef0123456789abcdef"),
];

/// A generated workspace whose backend venv is the shared one for its
/// requirements (made once per set by pip), marked as `run` marks a venv
/// it filled.
fn workspace(backends: &str) -> (tempfile::TempDir, PathBuf) {
    let (root, dir) =
        common::new_workspace(&["--no-check", "--set", &format!("backends={backends}")]);
    let backend = dir.join("backend-flask");
    let venv = common::app_venv(&backend.join("requirements.txt"));
    mark_filled(&venv, &backend);
    std::os::unix::fs::symlink(&venv, backend.join(".venv")).unwrap();
    (root, dir)
}

/// Marks `venv` as filled for `backend`'s requirements, as `run` marks a
/// venv it filled: the digest of requirements.txt and the constraints.txt
/// it reads. (`deep` holds every run to it: a venv the run fills again is
/// a failure here.)
fn mark_filled(venv: &Path, backend: &Path) {
    let mut wanted = std::fs::read(backend.join("requirements.txt")).unwrap_or_default();
    wanted.extend(std::fs::read(backend.join("constraints.txt")).unwrap_or_default());
    let digest: String = Sha256::digest(&wanted)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    std::fs::write(venv.join(".tracelab-requirements"), digest).unwrap();
}

fn deep(dir: &Path) -> (i32, serde_json::Value, Duration) {
    let started = Instant::now();
    let output = common::tracelab()
        .args(["doctor", "--deep", "--json"])
        .envs(KEYS.iter().copied())
        .current_dir(dir)
        .timeout(Duration::from_secs(120))
        .output()
        .unwrap();
    let json = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    });
    // The harness filled the venv: a run that fills it again is slower by
    // an install, and its mark has drifted from the one `run` writes.
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !stderr.contains("  installing "),
        "the run filled the venv again: {stderr}"
    );
    (output.status.code().unwrap_or(-1), json, started.elapsed())
}

/// The messages of check `id` with `status`.
fn found(json: &serde_json::Value, id: &str, status: &str) -> Vec<String> {
    json["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["id"] == id && c["status"] == status)
        .map(|c| format!("{} | fix: {}", c["message"].as_str().unwrap(), c["fix"]))
        .collect()
}

/// What the run found wrong that no static check had named.
fn seen_wrong(json: &serde_json::Value, id: &str) -> Vec<String> {
    found(json, id, "fail")
}

/// The static findings of `id` the run proved (one finding each, marked).
fn confirmed(json: &serde_json::Value, id: &str) -> Vec<String> {
    json["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["id"] == id && c["confirmed"] == true)
        .map(|c| c["message"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn every_backend_combination_delivers_its_spans_and_segments() {
    for backends in common::backend_combinations() {
        let (_root, dir) = workspace(&backends);
        let (code, json, elapsed) = deep(&dir);
        println!("{backends}: --deep in {elapsed:.1?}");
        assert_eq!(code, 0, "{backends}: {json:#}");
        assert_eq!(
            found(&json, "deep-start", "ok").len(),
            1,
            "{backends}: {json:#}"
        );
        let spans = found(&json, "deep-spans", "ok");
        assert!(
            spans
                .iter()
                .any(|m| m.starts_with("GET /api/activities/home: 2 spans from backend-flask")),
            "{backends}: {spans:?}"
        );
        assert_eq!(
            found(&json, "deep-lab-span", "ok").len(),
            1,
            "{backends}: {json:#}"
        );
        let xray = found(&json, "deep-xray", "ok");
        if backends.contains("xray") {
            assert!(
                xray.iter().any(|m| m.contains("subsegments mock-data")),
                "{backends}: {xray:?}"
            );
        } else {
            assert!(xray.is_empty(), "{backends}: {xray:?}");
        }
        let left = common::processes_in(&dir);
        assert!(left.is_empty(), "{backends}: left running: {left:#?}");
    }
}

/// Edits `file` (in the backend folder) by replacing `from` with `to`.
fn plant(dir: &Path, file: &str, from: &str, to: &str) {
    let path = dir.join("backend-flask").join(file);
    let text = common::read(&path);
    assert!(text.contains(from), "{file} has no {from:?}");
    std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
}

/// The line of `needle` in a backend file, 1-based.
fn line_of(dir: &Path, file: &str, needle: &str) -> usize {
    common::read(dir.join("backend-flask").join(file))
        .lines()
        .position(|l| l.contains(needle))
        .unwrap()
        + 1
}

#[test]
fn planted_defects_are_named_at_their_line() {
    const HOME: &str = "services/home_activities.py";
    // A NameError in a route: that request answers 500.
    let (_root, dir) = workspace("honeycomb,xray");
    plant(
        &dir,
        HOME,
        "results = _mock_activities(now)",
        "results = _mock_activities(now)\n                LOGGER.info(\"home\")",
    );
    let (code, json, _) = deep(&dir);
    // Warnings only: no problem, exit 0, as the static doctor says it.
    assert_eq!(code, 0);
    let line = line_of(&dir, HOME, "LOGGER.info");
    // The static check named it first, as a request on the lab's route
    // that would fail (a warning: the server span arrives, the lab's span
    // is lost, as FACTS' severity promise says); the run saw that request
    // answer 500: one finding, confirmed and as grave, not a second one.
    let named = found(&json, "python-undefined-name", "warn");
    assert!(
        named.len() == 1 && named[0].contains(&format!("{HOME}:{line}")),
        "{json:#}"
    );
    assert_eq!(
        confirmed(&json, "python-undefined-name").len(),
        1,
        "{json:#}"
    );
    assert!(seen_wrong(&json, "deep-route").is_empty(), "{json:#}");

    // A module that does not exist in the installed package: no start.
    let (_root, dir) = workspace("honeycomb,xray");
    plant(
        &dir,
        "app.py",
        "from aws_xray_sdk.core import xray_recorder",
        "from aws_xray_sdk.core import xray_recorder\nfrom aws_xray_sdk.flask.middleware import XRayMiddleware as Wrong",
    );
    let (code, json, _) = deep(&dir);
    assert_eq!(code, 1);
    let line = line_of(&dir, "app.py", "aws_xray_sdk.flask.middleware");
    // The backend did not start, at the import the static check named.
    let import = found(&json, "python-import", "fail");
    assert!(
        import.len() == 1 && import[0].contains(&format!("app.py:{line}")),
        "{json:#}"
    );
    assert_eq!(confirmed(&json, "python-import").len(), 1, "{json:#}");
    assert!(seen_wrong(&json, "deep-start").is_empty(), "{json:#}");
    assert!(common::processes_in(&dir).is_empty());

    // A subsegment begun and never ended: its segment is never sent.
    let (_root, dir) = workspace("honeycomb,xray");
    plant(
        &dir,
        HOME,
        "with xray_recorder.in_subsegment(\"mock-data\") as subsegment:\n                results = _mock_activities(now)\n                subsegment.put_metadata(\"result_length\", len(results), \"app\")",
        "subsegment = xray_recorder.begin_subsegment(\"mock-data\")\n            results = _mock_activities(now)",
    );
    let (code, json, _) = deep(&dir);
    assert_eq!(code, 1);
    let line = line_of(&dir, HOME, "begin_subsegment");
    // The static check names the subsegment left open; the run saw the
    // segment never arrive: that one finding, confirmed.
    let open = confirmed(&json, "code-xray-subsegment");
    assert!(
        open.len() == 1 && open[0].contains(&format!("{HOME}:{line}")),
        "{json:#}"
    );
    assert!(seen_wrong(&json, "deep-xray").is_empty(), "{json:#}");

    // A method passed without its call: the SDK sends its text.
    let (_root, dir) = workspace("honeycomb");
    plant(
        &dir,
        HOME,
        "span.set_attribute(\"app.now\", now.isoformat())",
        "span.set_attribute(\"app.now\", now.isoformat)",
    );
    let (code, json, _) = deep(&dir);
    assert_eq!(code, 1);
    let line = line_of(&dir, HOME, "now.isoformat)");
    // The static check names the method passed uncalled; the run saw the
    // SDK send its text: that one finding, confirmed.
    let proved: Vec<&serde_json::Value> = json["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["confirmed"] == true)
        .collect();
    assert!(
        proved.len() == 1
            && proved[0]["message"]
                .as_str()
                .unwrap()
                .contains(&format!("{HOME}:{line}")),
        "{json:#}"
    );
    assert!(seen_wrong(&json, "deep-sdk-warning").is_empty(), "{json:#}");

    // A provider never set: requests are answered, and no span comes.
    let (_root, dir) = workspace("honeycomb");
    plant(
        &dir,
        "app.py",
        "    trace.set_tracer_provider(provider)",
        "    pass  # trace.set_tracer_provider(provider)",
    );
    let (code, json, _) = deep(&dir);
    assert_eq!(code, 1);
    // The run saw no span at all: the static finding it proves, marked.
    assert_eq!(
        confirmed(&json, "code-provider-not-set").len(),
        1,
        "{json:#}"
    );
    assert!(seen_wrong(&json, "deep-spans").is_empty(), "{json:#}");
    assert!(common::processes_in(&dir).is_empty());
}

/// No venv can be made (no Python): one finding, and the static report is
/// still there.
#[test]
fn without_python_the_static_report_stands_and_one_finding_says_why() {
    let (_root, dir) = common::new_workspace(&["--no-check"]);
    let output = common::tracelab()
        .args(["doctor", "--deep", "--json"])
        .envs(KEYS.iter().copied())
        .env("PATH", "/nonexistent")
        .env("TRACELAB_INSTALLER", "pip")
        .current_dir(&dir)
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(output.status.code(), Some(1), "{json:#}");
    let prepare = found(&json, "deep-prepare", "fail");
    assert_eq!(prepare.len(), 1, "{json:#}");
    assert!(
        found(&json, "workspace-backends", "ok").len() == 1,
        "{json:#}"
    );
    assert!(found(&json, "deep-start", "ok").is_empty());
}

/// Ctrl-C while the backend runs stops its whole process group (Flask's
/// reloader and the app it started), and tracelab exits 130.
#[test]
fn ctrl_c_stops_the_backend_and_everything_it_started() {
    let (_root, dir) = workspace("honeycomb");
    // A route that takes its time, so that Ctrl-C comes while it runs.
    plant(
        &dir,
        "app.py",
        "def health_check():\n",
        "def health_check():\n    import time\n    time.sleep(30)\n",
    );
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_tracelab"))
        .args(["doctor", "--deep"])
        .envs(KEYS.iter().copied())
        .current_dir(&dir)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    // The reloader and the app it runs, beside tracelab itself.
    while common::processes_in(&dir).len() < 3 {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the backend never started"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_millis(500));
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGINT,
    )
    .unwrap();
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(130), "{output:?}");
    std::thread::sleep(Duration::from_millis(300));
    let left = common::processes_in(&dir);
    assert!(left.is_empty(), "left running: {left:#?}");
}

/// A first-week slip, planted alone in a generated workspace with every
/// backend: (name, file in backend-flask, text, replacement).
const SLIPS: &[(&str, &str, &str, &str)] = &[
    (
        "provider never set",
        "app.py",
        "    trace.set_tracer_provider(provider)\n",
        "",
    ),
    (
        "processor never added",
        "app.py",
        "    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))\n",
        "    processor = BatchSpanProcessor(OTLPSpanExporter())\n",
    ),
    (
        "instrumentation commented out",
        "app.py",
        "    FlaskInstrumentor().instrument_app(app)",
        "    # FlaskInstrumentor().instrument_app(app)\n    pass",
    ),
    (
        "attribute set after the span ended",
        "services/home_activities.py",
        "            span.set_attribute(\"app.result_length\", len(results))\n            return results",
        "        span.set_attribute(\"app.result_length\", len(results))\n        return results",
    ),
    (
        "the tracer never made",
        "services/home_activities.py",
        "tracer = trace.get_tracer(\"home.activities\")\n",
        "",
    ),
    (
        "before_first_request on Flask 3",
        "app.py",
        "with app.app_context():\n    init_rollbar(app)\n",
        "@app.before_first_request\ndef start_rollbar():\n    init_rollbar(app)\n",
    ),
    (
        "a route's callable used as its value",
        "app.py",
        "return jsonify(HomeActivities.run()), 200",
        "data = HomeActivities.run\n    return jsonify(data), 200",
    ),
    (
        "a name misspelt on import",
        "app.py",
        "from opentelemetry.instrumentation.flask import FlaskInstrumentor",
        "from opentelemetry.instrumentation.flask import FlaskInstrumenter",
    ),
    (
        "a method passed uncalled",
        "services/home_activities.py",
        "span.set_attribute(\"app.now\", now.isoformat())",
        "span.set_attribute(\"app.now\", now.isoformat)",
    ),
    (
        "the lab's attribute misspelt",
        "services/home_activities.py",
        "\"app.result_length\"",
        "\"app.results_length\"",
    ),
    (
        "a subsegment never ended",
        "services/home_activities.py",
        "with xray_recorder.in_subsegment(\"mock-data\") as subsegment:\n                results = _mock_activities(now)\n                subsegment.put_metadata(\"result_length\", len(results), \"app\")",
        "subsegment = xray_recorder.begin_subsegment(\"mock-data\")\n            results = _mock_activities(now)",
    ),
    (
        "a segment begun inside a request",
        "services/home_activities.py",
        "with xray_recorder.in_subsegment(\"mock-data\") as subsegment:",
        "xray_recorder.begin_segment(\"home\")\n            with xray_recorder.in_subsegment(\"mock-data\") as subsegment:",
    ),
    (
        "the X-Ray SDK switched off while a subsegment's result is used",
        "../docker-compose.yml",
        "      OTEL_SERVICE_NAME: \"backend-flask\"\n",
        "      OTEL_SERVICE_NAME: \"backend-flask\"\n      AWS_XRAY_SDK_ENABLED: \"false\"\n",
    ),
    (
        "a segment begun and ended inside a request",
        "services/home_activities.py",
        "with xray_recorder.in_subsegment(\"mock-data\") as subsegment:",
        "xray_recorder.begin_segment(\"home\")\n            xray_recorder.end_segment()\n            with xray_recorder.in_subsegment(\"mock-data\") as subsegment:",
    ),
    (
        "a library class given a misspelt keyword",
        "app.py",
        "TracerProvider(resource=",
        "TracerProvider(resouce=",
    ),
    (
        "the X-Ray middleware without its recorder",
        "app.py",
        "XRayMiddleware(app, xray_recorder)",
        "XRayMiddleware(app)",
    ),
    (
        "a method called on its class",
        "app.py",
        "RequestsInstrumentor().instrument()",
        "RequestsInstrumentor.instrument()",
    ),
    (
        "a class given where an instance is meant",
        "app.py",
        "BatchSpanProcessor(OTLPSpanExporter())",
        "BatchSpanProcessor(OTLPSpanExporter)",
    ),
    ("nothing planted: a healthy workspace", "app.py", "", ""),
];

/// What the run cannot judge: static claims (id, part of the message)
/// about what no run of the app shows, and things the run saw that are
/// this machine's, not the code's (parts of their message).
#[derive(Default)]
struct Unseen {
    claims: &'static [(&'static str, &'static str)],
    seen: &'static [&'static str],
}

/// Where the run and the static doctor disagree in one report: a problem
/// the run saw that no static check named, or, when the backend ran, a
/// static claim about the code that the run did not see.
fn disagreements_in(
    name: &str,
    json: &serde_json::Value,
    ran: bool,
    unseen: &Unseen,
) -> Vec<String> {
    let mut found = Vec::new();
    for check in json["checks"].as_array().unwrap() {
        let id = check["id"].as_str().unwrap();
        let status = check["status"].as_str().unwrap();
        let message = check["message"].as_str().unwrap();
        let problem = status == "fail" || status == "warn";
        let code = ["code-", "python-", "lab-"]
            .iter()
            .any(|p| id.starts_with(p));
        let not_judged = unseen
            .claims
            .iter()
            .any(|(i, part)| id == *i && message.contains(part));
        if problem && id.starts_with("deep-") {
            if !unseen.seen.iter().any(|n| message.contains(n)) {
                found.push(format!(
                    "{name}: the run saw what no static check named: {id} {message}"
                ));
            }
        } else if ran && problem && code && !not_judged && check["confirmed"] != true {
            found.push(format!(
                "{name}: the run did not see the static claim: {id} {message}"
            ));
        }
    }
    found
}

/// The truth oracle: the static doctor against the run, both ways, on
/// each slip. Every problem the static doctor names in the code is one the
/// run saw (marked confirmed), or one the run cannot see; every loss the
/// run saw is one a static check named (no deep-* finding is left on its
/// own).
#[test]
fn the_static_doctor_and_the_run_agree_on_every_slip() {
    let mut disagreements = Vec::new();
    for (name, file, from, to) in SLIPS {
        let (_root, dir) = workspace("honeycomb,xray,cloudwatch,rollbar");
        if !from.is_empty() {
            plant(&dir, file, from, to);
        }
        let (_, json, elapsed) = deep(&dir);
        println!("{name}: --deep in {elapsed:.1?}");
        disagreements.extend(disagreements_in(name, &json, true, &Unseen::default()));
        assert!(
            common::processes_in(&dir).is_empty(),
            "{name}: left running"
        );
    }
    assert!(disagreements.is_empty(), "{}", disagreements.join("\n"));
}

/// `backend/.venv` as the shared venv (every entry a link to it) marked as
/// filled for this backend's requirements.txt: the run uses the shared
/// packages, and a module they lack stops it (counted). The shared venv's
/// own mark is left alone: other tests read it at the same time.
fn venv_view(shared: &Path, backend: &Path) {
    let view = backend.join(".venv");
    std::fs::create_dir(&view).unwrap();
    const MARK: &str = ".tracelab-requirements";
    for entry in std::fs::read_dir(shared).unwrap().flatten() {
        if entry.file_name() != MARK {
            std::os::unix::fs::symlink(entry.path(), view.join(entry.file_name())).unwrap();
        }
    }
    mark_filled(&view, backend);
}

/// Why a fixture's backend could not start here, when it is this machine
/// and not the student's code: no network to AWS (or to a local DynamoDB),
/// a package the shared venv (the generated workspace's, every backend)
/// does not hold, or a file only the image holds (`COPY ... /etc/...`).
fn started_elsewhere_only(json: &serde_json::Value) -> Option<String> {
    const NOT_THE_CODE: &[&str] = &[
        "EndpointConnectionError",
        "Could not connect to the endpoint",
        "NoCredentialsError",
        "ModuleNotFoundError",
        "' doesn't exist",
    ];
    found(json, "deep-start", "fail")
        .into_iter()
        .find(|message| NOT_THE_CODE.iter().any(|n| message.contains(n)))
}

/// The truth oracle on the training fixtures: each one's backend run by
/// `--deep` in the shared venv (the packages at tracelab's pins), and held
/// to the static doctor both ways, as on the planted slips. A fixture
/// whose backend cannot start on this machine (no network to AWS, a
/// package the venv lacks) is counted and left out, and so is a claim a
/// run of the app cannot see.
#[test]
fn the_static_doctor_and_the_run_agree_on_the_training_fixtures() {
    let Some(fixtures) = common::realrepos::folder(
        "doctor_deep::the_static_doctor_and_the_run_agree_on_the_training_fixtures",
    ) else {
        return;
    };
    let (_root, generated) = workspace("honeycomb,xray,cloudwatch,rollbar");
    let venv = std::fs::canonicalize(generated.join("backend-flask/.venv")).unwrap();
    let mut names: Vec<PathBuf> = std::fs::read_dir(&fixtures)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.join("EXPECTED.md").exists() && p.join("backend-flask/app.py").exists())
        .collect();
    names.sort();
    let (mut started, mut stopped_by_code, mut elsewhere) = (0, 0, Vec::new());
    let unseen = Unseen {
        // The X-Ray service, not the SDK, drops an annotation of another
        // type, and a segment never ended is never sent (nothing arrives
        // to look at).
        claims: &[
            ("code-annotation-value", ""),
            ("code-xray-segment", "at import is never ended"),
        ],
        // This machine reaches no network: an exporter the code points at
        // Honeycomb itself cannot send from here.
        seen: &["NameResolutionError", "Failed to export spans batch"],
    };
    let mut disagreements = Vec::new();
    for repo in &names {
        let name = repo.file_name().unwrap().to_string_lossy().into_owned();
        let copy = tempfile::tempdir().unwrap();
        let dir = copy.path().join(&name);
        common::realrepos::copy_repo(repo, &dir);
        let backend = dir.join("backend-flask");
        venv_view(&venv, &backend);
        let (_, json, elapsed) = deep(&dir);
        println!("{name}: --deep in {elapsed:.1?}");
        let ran = !found(&json, "deep-start", "ok").is_empty();
        if !ran {
            if let Some(why) = started_elsewhere_only(&json) {
                elsewhere.push(format!("{name}: {why:.160}"));
                continue;
            }
            stopped_by_code += 1;
        } else {
            started += 1;
        }
        disagreements.extend(disagreements_in(&name, &json, ran, &unseen));
        assert!(
            common::processes_in(&dir).is_empty(),
            "{name}: left running"
        );
    }
    println!(
        "{} fixtures: {started} started and were held to the static doctor, {stopped_by_code} stopped by a problem it named, {} could not start here:\n{}",
        names.len(),
        elsewhere.len(),
        elsewhere.join("\n")
    );
    assert!(started > 0, "no fixture's backend started");
    assert!(disagreements.is_empty(), "{}", disagreements.join("\n"));
}
