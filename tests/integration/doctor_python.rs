//! The `python-*` checks, and `code-syntax` for what only CPython's
//! compiler refuses: each defect class that stopped a real student's
//! backend, planted in a generated workspace, found once at its line, and
//! where it can be, confirmed by CPython itself.

use crate::common;

use std::path::Path;
use std::process::Command;

use crate::common::doctor::*;

const ALL: &str = "honeycomb,xray,cloudwatch,rollbar";

fn line_of(path: &Path, needle: &str) -> usize {
    let text = std::fs::read_to_string(path).unwrap();
    text.lines().position(|l| l.contains(needle)).unwrap() + 1
}

fn ids(report: &serde_json::Value, status: &str) -> Vec<String> {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["status"] == status)
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect()
}

/// `return` at the top of a service module: the parser accepts it, CPython's
/// compiler does not, and the import of app.py fails with it.
#[test]
fn return_outside_a_function_is_a_module_that_does_not_compile() {
    let fixture = Fixture::new(ALL).edit(
        "backend-flask/services/home_activities.py",
        "from opentelemetry import trace\n",
        "from opentelemetry import trace\nif not trace:\n    return None\n",
    );
    let (code, report) = fixture.doctor();
    assert_eq!(code, 1);
    let module = fixture.path("backend-flask/services/home_activities.py");
    let line = line_of(&module, "return None");
    expect(
        &report,
        "code-syntax",
        None,
        "fail",
        &format!("home_activities.py:{line}: 'return' statement outside of a function"),
        Some("py_compile"),
    );
    assert_eq!(ids(&report, "fail"), ["code-syntax"], "{report:#}");
    let compiled = Command::new(common::python())
        .args(["-m", "py_compile"])
        .arg(&module)
        .output()
        .unwrap();
    assert!(!compiled.status.success(), "CPython compiled it");
    assert!(String::from_utf8_lossy(&compiled.stderr).contains("'return' outside function"));
}

/// An import commented out while the code still uses the name, at import:
/// NameError, the backend does not start; the fix is to uncomment it.
#[test]
fn a_commented_out_import_used_at_import_is_a_name_error() {
    let fixture = Fixture::new(ALL).edit(
        "backend-flask/app.py",
        "\nimport logging\n",
        "\n# import logging\n",
    );
    let (code, report) = fixture.doctor();
    assert_eq!(code, 1, "{report:#}");
    let app = fixture.path("backend-flask/app.py");
    let used = line_of(&app, "logger = logging.getLogger");
    let commented = line_of(&app, "# import logging");
    let finding = expect(
        &report,
        "python-undefined-name",
        None,
        "fail",
        &format!("app.py:{used}: nothing binds `logging` here"),
        Some(&format!(
            "uncomment {}:{commented} (`import logging`)",
            app.strip_prefix(&fixture.dir).unwrap().display()
        )),
    );
    assert!(
        finding["message"]
            .as_str()
            .unwrap()
            .contains("NameError, so the backend does not start")
    );
    // One root cause: each use of the name in the function is the same error,
    // but Python stops at the first; every line still needs the import.
    assert_eq!(
        ids(&report, "fail")
            .iter()
            .filter(|i| *i != "python-undefined-name")
            .count(),
        0,
        "{report:#}"
    );
}

/// A definition commented out whose name a per-request hook still uses: the
/// backend starts, every request through the hook fails (a warning: its
/// span still arrives).
#[test]
fn a_name_error_in_a_request_hook_is_a_request_failure() {
    let fixture = Fixture::new(ALL).edit(
        "backend-flask/app.py",
        "LOGGER = init_cloudwatch_logger()",
        "# LOGGER = init_cloudwatch_logger()",
    );
    let (code, report) = fixture.doctor();
    let app = fixture.path("backend-flask/app.py");
    let used = line_of(&app, "LOGGER.info(");
    let hook = line_of(&app, "@app.after_request");
    let finding = expect(
        &report,
        "python-undefined-name",
        None,
        "warn",
        &format!(
            "app.py:{used}: nothing binds `LOGGER` here: a request through log_request() (backend-flask/app.py:{hook})"
        ),
        Some("uncomment"),
    );
    assert!(finding["message"].as_str().unwrap().contains("HTTP 500"));
    assert_eq!(ids(&report, "fail"), Vec::<String>::new(), "{report:#}");
    assert_eq!(code, 0);
}

/// A name used only in a function nothing calls never raises: not reported.
#[test]
fn a_name_error_in_code_that_never_runs_is_not_reported() {
    let fixture = Fixture::new(ALL).edit(
        "backend-flask/app.py",
        "\n\n@app.route(\"/api/health-check\")",
        "\n\ndef unused_helper():\n    return undefined_thing\n\n\n@app.route(\"/api/health-check\")",
    );
    let (_, report) = fixture.doctor();
    assert!(
        findings(&report, "python-undefined-name", None).is_empty(),
        "{report:#}"
    );
}

/// `init_rollbar()` where the def takes the app: TypeError at import, in
/// CPython's words, with the call that fits.
#[test]
fn a_project_function_called_with_the_wrong_arguments_at_import() {
    let fixture = Fixture::new(ALL).edit(
        "backend-flask/app.py",
        "    init_rollbar(app)\n",
        "    init_rollbar()\n",
    );
    let (code, report) = fixture.doctor();
    assert_eq!(code, 1);
    let app = fixture.path("backend-flask/app.py");
    let call = line_of(&app, "    init_rollbar()");
    let def = line_of(&app, "def init_rollbar(");
    expect(
        &report,
        "python-call-arity",
        None,
        "fail",
        &format!(
            "app.py:{call}: init_rollbar() missing 1 required positional argument: 'flask_app' (defined at backend-flask/app.py:{def}): importing"
        ),
        Some("call it as init_rollbar(flask_app)"),
    );
    assert_eq!(ids(&report, "fail"), ["python-call-arity"], "{report:#}");
}

/// Rollbar's set-up defined inside `with app.app_context():` and never
/// called (seen in at least eight forks): Rollbar stays silent.
#[test]
fn an_init_function_nothing_calls_is_reported_with_where_to_call_it() {
    let fixture = Fixture::new(ALL).edit(
        "backend-flask/app.py",
        "with app.app_context():\n    init_rollbar(app)\n",
        "with app.app_context():\n    def start_rollbar():\n        rollbar.init(os.environ['ROLLBAR_ACCESS_TOKEN'], 'production')\n",
    );
    let (code, report) = fixture.doctor();
    assert_eq!(code, 1);
    let app = fixture.path("backend-flask/app.py");
    let def = line_of(&app, "def start_rollbar");
    expect(
        &report,
        "python-never-called",
        None,
        "fail",
        &format!("app.py:{def}: start_rollbar() holds rollbar.init"),
        Some(&format!("app.py:{}: insert `start_rollbar()`", def + 2)),
    );
    // The generated init_rollbar is not called any more either.
    let top = line_of(&app, "def init_rollbar(");
    expect(
        &report,
        "python-never-called",
        None,
        "fail",
        &format!("app.py:{top}: init_rollbar() holds rollbar.init"),
        // It takes the app: called once the app exists, with it.
        Some(&format!(
            "app.py:{}: insert `init_rollbar(app)`",
            line_of(&app, "app = Flask(") + 1
        )),
    );
}

/// An import of a module the installed package does not have (a real
/// student's `aws_xray_sdk.flask.middleware`), and of a name a module does
/// not offer: found against the package table, with the import that works;
/// made, the fix leaves nothing.
#[test]
fn imports_the_installed_packages_do_not_have_are_found_with_the_right_one() {
    for (wrong, right, says) in [
        (
            "from aws_xray_sdk.ext.flask.middleware import XRayMiddleware",
            "from aws_xray_sdk.ext.flask.middleware import XRayMiddleware",
            "no module named 'aws_xray_sdk.flask' in aws-xray-sdk",
        ),
        (
            "from opentelemetry.sdk.trace.export import (\n    BatchSpanProcessor,",
            "from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter",
            "cannot import name 'OTLPSpanExporter' from 'opentelemetry.sdk.trace.export'",
        ),
    ] {
        let planted = if wrong.starts_with("from aws") {
            "from aws_xray_sdk.flask.middleware import XRayMiddleware".to_string()
        } else {
            wrong.replace("(\n", "(\n    OTLPSpanExporter,\n")
        };
        let fixture = Fixture::new(ALL).edit("backend-flask/app.py", wrong, &planted);
        let (code, report) = fixture.doctor();
        assert_eq!(code, 1, "{report:#}");
        let finding = expect(&report, "python-import", None, "fail", says, Some(right));
        assert!(
            finding["message"]
                .as_str()
                .unwrap()
                .contains("so the backend does not start")
        );
        // The fix is `FILE:LINE: statement`: make that edit.
        let fix = finding["fix"].as_str().unwrap();
        let (place, statement) = fix.split_once(": ").unwrap();
        let line: usize = place.rsplit(':').next().unwrap().parse().unwrap();
        let app = fixture.path("backend-flask/app.py");
        let text = std::fs::read_to_string(&app).unwrap();
        let mut lines: Vec<String> = text.lines().map(String::from).collect();
        if lines[line - 1].trim_end().ends_with('(') {
            // The planted name was one line of a parenthesised import.
            let index = lines
                .iter()
                .position(|l| l.trim() == "OTLPSpanExporter,")
                .unwrap();
            lines.remove(index);
        } else {
            lines[line - 1] = statement.to_string();
        }
        std::fs::write(&app, lines.join("\n") + "\n").unwrap();
        let (code, report) = fixture.doctor();
        assert!(
            findings(&report, "python-import", None).is_empty(),
            "{report:#}"
        );
        assert_eq!(code, 0, "{report:#}");
    }
}

/// A package pinned to another version than tracelab's table may have other
/// modules: its imports are not judged.
#[test]
fn a_package_at_another_version_is_not_judged() {
    let fixture = Fixture::new(ALL)
        .edit(
            "backend-flask/app.py",
            "from aws_xray_sdk.ext.flask.middleware import XRayMiddleware",
            "from aws_xray_sdk.flask.middleware import XRayMiddleware",
        )
        .edit(
            "backend-flask/requirements.txt",
            "aws-xray-sdk==2.15.0",
            "aws-xray-sdk==2.4.0",
        );
    let (_, report) = fixture.doctor();
    assert!(
        findings(&report, "python-import", None).is_empty(),
        "{report:#}"
    );
}

/// A name the table does not have: at tracelab's exact pin the table is the
/// truth (ImportError); unpinned, pip installs the latest, which may have
/// it, so it is not judged unless the table knows where the name lives.
#[test]
fn an_unknown_name_is_judged_only_at_the_tables_own_pin() {
    let plant = |fixture: Fixture| {
        fixture.edit(
            "backend-flask/app.py",
            "from aws_xray_sdk.core import xray_recorder\n",
            "from aws_xray_sdk.core import xray_recorder\nfrom aws_xray_sdk.core import no_such_thing\n",
        )
    };
    let (_, report) = plant(Fixture::new(ALL)).doctor();
    expect(
        &report,
        "python-import",
        None,
        "fail",
        "cannot import name 'no_such_thing' from 'aws_xray_sdk.core' (aws-xray-sdk 2.15.0)",
        None,
    );
    let unpinned = plant(Fixture::new(ALL)).edit(
        "backend-flask/requirements.txt",
        "aws-xray-sdk==2.15.0",
        "aws-xray-sdk",
    );
    let (_, report) = unpinned.doctor();
    assert!(
        findings(&report, "python-import", None).is_empty(),
        "{report:#}"
    );
}

/// Under `from services.x import *` pyflakes cannot tell a name is unbound;
/// tracelab reads what the star-imported project modules bind. A typo of a
/// class they define is a NameError in its route, with the name meant; a
/// star import from outside the project leaves the name unjudged.
#[test]
fn a_name_no_star_imported_project_module_binds_is_found_with_the_name_meant() {
    let plant = |fixture: Fixture, extra: &str| {
        fixture
            .edit(
                "backend-flask/app.py",
                "from services.home_activities import HomeActivities\n",
                &format!("from services.home_activities import *\n{extra}"),
            )
            .edit(
                "backend-flask/app.py",
                "HomeActivities.run()",
                "HomeActivity.run()",
            )
    };
    let fixture = plant(Fixture::new(ALL), "");
    let (_, report) = fixture.doctor();
    let app = fixture.path("backend-flask/app.py");
    let line = line_of(&app, "HomeActivity.run()");
    expect(
        &report,
        "python-undefined-name",
        None,
        "warn",
        &format!("app.py:{line}: nothing binds `HomeActivity` here: a request through data_home()"),
        Some("HomeActivities"),
    );
    let (_, report) = plant(Fixture::new(ALL), "from json import *\n").doctor();
    assert!(
        findings(&report, "python-undefined-name", None).is_empty(),
        "{report:#}"
    );
}
