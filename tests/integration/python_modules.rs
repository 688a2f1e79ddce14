//! src/rules/python_modules.txt and python_signatures.txt are what their
//! generator prints from the real packages at tracelab's pins: regenerated
//! here from a fresh venv of a generated workspace's requirements.txt (every
//! backend) and compared; and the signatures are held to CPython's calls.

use crate::common;

use std::process::Command;

use tracelab::workspace::python::PyFile;
use tracelab::workspace::python::arity::misfit_params;
use tracelab::workspace::python::library;

#[test]
fn the_module_tables_match_the_real_packages_at_our_pins() {
    let (_dir, workspace) =
        common::new_workspace(&["--set", "backends=honeycomb,xray,cloudwatch,rollbar"]);
    let venv = common::app_venv(&workspace.join("backend-flask/requirements.txt"));
    let checkout = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    for (table, flags) in [
        ("python_modules.txt", &[][..]),
        ("python_signatures.txt", &["--signatures"][..]),
    ] {
        let output = common::run_ok(
            Command::new(venv.join("bin/python"))
                .arg(checkout.join("src/rules/python_modules.py"))
                .args(flags)
                // Not the checkout: a module that reads the working directory
                // (flask's CLI does) must find nothing of ours there.
                .current_dir(std::env::temp_dir()),
        );
        let generated = String::from_utf8(output.stdout).unwrap();
        let committed = common::read(checkout.join("src/rules").join(table));
        if generated != committed {
            let differing: Vec<String> = generated
                .lines()
                .zip(committed.lines())
                .filter(|(a, b)| a != b)
                .take(5)
                .map(|(a, b)| format!("generated: {:.200}\ncommitted: {:.200}", a, b))
                .collect();
            panic!(
                "src/rules/{table} is stale ({} lines generated, {} committed); regenerate it with src/rules/python_modules.py {}:\n{}",
                generated.lines().count(),
                committed.lines().count(),
                flags.join(" "),
                differing.join("\n")
            );
        }
    }
}

/// A generated workspace installs the same packages next month: every
/// package in its venv (what requirements.txt pulls in, transitively) is
/// pinned by the constraints.txt beside it, at the version installed.
#[test]
fn the_workspace_lock_pins_every_installed_package() {
    let (_dir, workspace) =
        common::new_workspace(&["--set", "backends=honeycomb,xray,cloudwatch,rollbar"]);
    let backend = workspace.join("backend-flask");
    let venv = common::app_venv(&backend.join("requirements.txt"));
    // Every distribution the venv's Python sees, whichever installer put
    // it there (the harness's venvs have no pip).
    let frozen = common::run_ok(Command::new(venv.join("bin/python")).args([
        "-c",
        "import importlib.metadata as m\n\
         for d in m.distributions(): print(f\"{d.metadata['Name']}=={d.version}\")",
    ]));
    let normal = |name: &str| name.to_ascii_lowercase().replace(['_', '.'], "-");
    let pins: Vec<String> = common::read(backend.join("constraints.txt"))
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let (name, rest) = l.split_once("==").unwrap();
            format!(
                "{}=={}",
                normal(name),
                rest.split(';').next().unwrap().trim()
            )
        })
        .collect();
    let installed = String::from_utf8(frozen.stdout).unwrap();
    let mut checked = 0;
    for line in installed.lines() {
        let (name, version) = line.split_once("==").unwrap();
        if ["pip", "setuptools", "wheel"].contains(&normal(name).as_str()) {
            continue;
        }
        let pin = format!("{}=={version}", normal(name));
        assert!(
            pins.contains(&pin),
            "{pin} is installed but constraints.txt does not pin it"
        );
        checked += 1;
    }
    assert!(
        checked > 30,
        "only {checked} packages installed:\n{installed}"
    );
}

/// Calls every callable of src/rules/python_signatures.txt the ways the
/// doctor says it refuses (a keyword it does not know, no argument at all,
/// one positional argument too many) in a venv of the real packages, and
/// holds each verdict to CPython's own: the same TypeError, word for word.
/// Only calls the doctor refuses are made, so no callable's body runs
/// unless the table is wrong.
#[test]
fn the_signature_table_refuses_what_cpython_refuses() {
    let (_dir, workspace) =
        common::new_workspace(&["--set", "backends=honeycomb,xray,cloudwatch,rollbar"]);
    let venv = common::app_venv(&workspace.join("backend-flask/requirements.txt"));
    let checkout = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let table = common::read(checkout.join("src/rules/python_signatures.txt"));

    let mut cases: Vec<(String, String, String)> = Vec::new();
    // Each entry, and each method also as reached through its class.
    let paths = table
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| l.split(' ').next().unwrap().to_string())
        .flat_map(|path| {
            let through_class = path.contains("().").then(|| path.replace("().", "."));
            std::iter::once(path).chain(through_class)
        });
    for path in paths {
        let path = path.as_str();
        let callable = library::signature(path).unwrap();
        let params = &callable.params;
        let most = (params.positional.len() + 1).saturating_sub(callable.bound);
        let tries = [
            "tracelab_unknown_keyword=1".to_string(),
            String::new(),
            vec!["1"; most].join(", "),
        ];
        for arguments in tries {
            let source = format!("f({arguments})\n");
            let file = PyFile::parse(std::path::Path::new("case.py"), &source);
            if let Some(why) =
                misfit_params(&file.facts.calls[0], callable.name, params, callable.bound)
            {
                cases.push((path.to_string(), arguments, why));
            }
        }
    }
    assert!(cases.len() > 1000, "only {} cases", cases.len());
    eprintln!(
        "{} calls the doctor refuses, each held to CPython",
        cases.len()
    );
    let input: String = cases
        .iter()
        .map(|(path, arguments, _)| format!("{path}\t{arguments}\n"))
        .collect();
    let output = common::output_with_stdin(
        Command::new(venv.join("bin/python"))
            .args(["-c", CALLER])
            .current_dir(std::env::temp_dir()),
        &input,
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    let verdicts: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        verdicts.len(),
        cases.len(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let disagreements: Vec<String> = cases
        .iter()
        .zip(&verdicts)
        .filter(|((_, _, ours), cpython)| ours != *cpython)
        .map(|((path, arguments, ours), cpython)| {
            format!("{path}({arguments})\n  cpython: {cpython}\n  ours:    {ours}")
        })
        .collect();
    assert!(
        disagreements.is_empty(),
        "{} of {} calls differ:\n{}",
        disagreements.len(),
        cases.len(),
        disagreements.join("\n")
    );
}

/// Reads `path<TAB>arguments` lines; calls each and prints the TypeError's
/// words, or `ok`, or `raised NAME` for any other exception.
const CALLER: &str = r#"
import importlib, inspect, io, sys, warnings
warnings.simplefilter("ignore")

def resolve(path):
    """As `from a.b import c` finds it: the longest module that leaves an
    attribute to get (`a.b.patch` is the function `patch` of `a.b`, and
    `a.b.patch.f` the `f` of the module `a.b.patch`)."""
    head, _, method = path.partition("().")
    parts = head.split(".")
    stdout, sys.stdout = sys.stdout, io.StringIO()
    try:
        for i in range(len(parts) - 1, 0, -1):
            try:
                found = importlib.import_module(".".join(parts[:i]))
                break
            except ImportError:
                continue
    finally:
        sys.stdout = stdout
    for part in parts[i:]:
        found = getattr(found, part)
    if not method:
        return found
    raw = inspect.getattr_static(found, method)
    if isinstance(raw, staticmethod):
        return raw.__func__
    if isinstance(raw, classmethod):
        return getattr(found, method)
    return lambda *a, **k: raw(None, *a, **k)

for line in sys.stdin.read().splitlines():
    path, arguments = line.split("\t")
    try:
        exec(f"target({arguments})", {"target": resolve(path)})
        print("ok")
    except TypeError as error:
        print(str(error).replace("\n", " "))
    except BaseException as error:
        print(f"raised {type(error).__name__}")
    sys.stdout.flush()
"#;
