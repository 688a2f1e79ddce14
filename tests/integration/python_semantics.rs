//! The doctor's Python against CPython's: the same source, run by CPython
//! and read by tracelab, must give the same verdict. Cases are generated
//! (every shape of parameter list against every shape of call), not listed.

use crate::common;

use std::path::Path;
use std::process::Command;

use tracelab::workspace::python::PyFile;
use tracelab::workspace::python::arity::misfit;

/// What `python` prints, line by line, running `script` from stdin (one
/// process for every case: a process each would take minutes).
fn printed_lines(python: impl AsRef<std::ffi::OsStr>, script: &str) -> Vec<String> {
    let output = common::output_with_stdin(Command::new(python).arg("-"), script);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(String::from)
        .collect()
}

/// Parameter lists: positional-only, ordinary (some with defaults), *args,
/// keyword-only (some with defaults), **kwargs.
fn parameter_lists() -> Vec<String> {
    let mut lists = Vec::new();
    for positional_only in [&[][..], &["p"]] {
        for ordinary in [&[][..], &["a"], &["a", "b=1"], &["a", "b", "c=1"]] {
            for var_positional in [false, true] {
                for keyword_only in [&[][..], &["k"], &["k", "j=2"]] {
                    for var_keyword in [false, true] {
                        let mut parts: Vec<String> = Vec::new();
                        parts.extend(positional_only.iter().map(|s| s.to_string()));
                        if !positional_only.is_empty() {
                            parts.push("/".into());
                        }
                        parts.extend(ordinary.iter().map(|s| s.to_string()));
                        if var_positional {
                            parts.push("*args".into());
                        } else if !keyword_only.is_empty() {
                            parts.push("*".into());
                        }
                        parts.extend(keyword_only.iter().map(|s| s.to_string()));
                        if var_keyword {
                            parts.push("**kw".into());
                        }
                        lists.push(parts.join(", "));
                    }
                }
            }
        }
    }
    lists
}

/// Calls: 0 to 4 positional arguments, then keywords among the names the
/// parameter lists use and one they never do.
fn calls() -> Vec<String> {
    let keyword_sets: &[&[&str]] = &[
        &[],
        &["a"],
        &["b"],
        &["k"],
        &["p"],
        &["z"],
        &["a", "k"],
        &["c", "j"],
    ];
    let mut calls = Vec::new();
    for positional in 0..=4 {
        for keywords in keyword_sets {
            let mut args: Vec<String> = (0..positional).map(|i| i.to_string()).collect();
            args.extend(keywords.iter().map(|k| format!("{k}=0")));
            calls.push(format!("f({})", args.join(", ")));
        }
    }
    calls
}

#[test]
fn call_arity_agrees_with_cpython() {
    let cases: Vec<(String, String)> = parameter_lists()
        .into_iter()
        .flat_map(|params| calls().into_iter().map(move |call| (params.clone(), call)))
        .collect();
    // CPython's verdict on every case, in one process.
    let script: String = cases
        .iter()
        .map(|(params, call)| {
            format!(
                "def f({params}): pass\ntry:\n    {call}\n    print('ok')\nexcept TypeError as e:\n    print(str(e))\n"
            )
        })
        .collect();
    let cpython = printed_lines(common::python(), &script);
    assert_eq!(cpython.len(), cases.len());

    let mut disagreements = Vec::new();
    for ((params, call), expected) in cases.iter().zip(&cpython) {
        let source = format!("def f({params}): pass\n{call}\n");
        let file = PyFile::parse(Path::new("case.py"), &source);
        let facts = &file.facts;
        let ours = misfit(&facts.calls[0], &facts.functions[0], 0).unwrap_or_else(|| "ok".into());
        // Both must say whether it raises; where both raise, in CPython's words.
        if ours != *expected {
            disagreements.push(format!(
                "def f({params}) / {call}\n  cpython: {expected}\n  ours:    {ours}"
            ));
        }
    }
    assert!(
        disagreements.is_empty(),
        "{} of {} cases differ:\n{}",
        disagreements.len(),
        cases.len(),
        disagreements.join("\n")
    );
}

/// Statements CPython may refuse to compile, in places where it may.
const STATEMENTS: &[&str] = &[
    "return 1",
    "yield 1",
    "x = yield",
    "break",
    "continue",
    "nonlocal x",
    "global x",
    "await x",
    "from __future__ import braces",
    "from __future__ import annotations",
    "try:\n    pass\nexcept:\n    pass\nexcept ValueError:\n    pass",
    "a, *b, *c = d",
    "*a = b",
    "del x",
    "x = 1\nglobal x",
    "def g(a, a): pass",
    "f(**x, *y)",
    "class C:\n    return 1",
    "lambda: (yield)",
    "[(yield) for i in x]",
    "async with x: pass",
    "async for i in x: pass",
    "x: int = 1\nglobal x",
    "def g():\n    nonlocal y",
    "print(undefined_name)",
];

/// Where a statement is put: `{}` is replaced by it, indented.
const PLACES: &[&str] = &[
    "{}",
    "def f():\n    {}",
    "async def f():\n    {}",
    "class C:\n    {}",
    "for i in range(1):\n    {}",
    "def f():\n    for i in range(1):\n        {}",
    "while False:\n    {}",
    "if True:\n    {}",
    "def f():\n    def g():\n        {}",
];

fn place(template: &str, statement: &str) -> String {
    // Indent every line of the statement as its place's first line is.
    let indent = template
        .lines()
        .find(|l| l.contains("{}"))
        .map(|l| l.len() - l.trim_start().len())
        .unwrap_or(0);
    let body = statement
        .lines()
        .enumerate()
        .map(|(i, l)| {
            if i == 0 {
                l.to_string()
            } else {
                format!("{}{l}", " ".repeat(indent))
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    format!("{}\n", template.replace("{}", &body))
}

/// Whether CPython compiles a module is whether tracelab calls it
/// importable: every statement above, in every place above.
#[test]
fn compile_errors_agree_with_cpython() {
    let cases: Vec<String> = PLACES
        .iter()
        .flat_map(|p| STATEMENTS.iter().map(move |s| place(p, s)))
        .collect();
    let script: String = cases
        .iter()
        .map(|source| {
            format!(
                "try:\n    compile({source:?}, 'case.py', 'exec')\n    print('ok')\nexcept SyntaxError as e:\n    print('SyntaxError', e.lineno)\n"
            )
        })
        .collect();
    let cpython = printed_lines(common::python(), &script);
    assert_eq!(cpython.len(), cases.len());
    let mut disagreements = Vec::new();
    for (source, expected) in cases.iter().zip(&cpython) {
        let file = PyFile::parse(Path::new("case.py"), source);
        // The verdict must agree; the line may be the other statement of
        // the two that conflict (an annotation and its `global`).
        let ours = match &file.syntax_error {
            Some(error) => format!("SyntaxError {}", error.line),
            None => "ok".into(),
        };
        if ours.split(' ').next() != expected.split(' ').next() {
            let message = file.syntax_error.map(|e| e.message).unwrap_or_default();
            disagreements.push(format!(
                "{source}  cpython: {expected}\n  ours:    {ours} {message}"
            ));
        }
    }
    assert!(
        disagreements.is_empty(),
        "{} of {} cases differ:\n{}",
        disagreements.len(),
        cases.len(),
        disagreements.join("\n")
    );
}

/// pyflakes (PyPI) on every Python file of every training fixture: the
/// names it finds undefined are the names tracelab finds, line for line.
#[test]
fn undefined_names_agree_with_pyflakes() {
    let Some(fixtures) =
        common::realrepos::folder("python_semantics::undefined_names_agree_with_pyflakes")
    else {
        return;
    };
    let packages = ["pyflakes==3.2.0".to_string()];
    let venv = common::venv_with("pyflakes", &packages.join(" "), &packages);
    let mut files: Vec<std::path::PathBuf> = Vec::new();
    for entry in walk(&fixtures) {
        if entry.extension().is_some_and(|e| e == "py") {
            files.push(entry);
        }
    }
    assert!(files.len() > 100, "only {} Python files", files.len());
    // One pyflakes run over them all: its lines start with the path.
    let output = Command::new(venv.join("bin/pyflakes"))
        .args(&files)
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&output.stdout).into_owned();
    let mut disagreements = Vec::new();
    let mut compared = 0;
    for path in &files {
        let Some(file) = PyFile::read(path) else {
            continue;
        };
        if file.syntax_error.is_some() {
            continue;
        }
        let mut theirs: Vec<(usize, String)> = report
            .lines()
            .filter_map(|line| {
                let rest = line.strip_prefix(&format!("{}:", path.display()))?;
                let (line_number, message) = rest.split_once(':')?;
                let message = message.split_once(' ')?.1;
                let name = match message.strip_prefix("undefined name '") {
                    Some(rest) => rest,
                    None if message.ends_with("referenced before assignment") => {
                        message.strip_prefix("local variable '")?
                    }
                    None => return None,
                };
                let name = name.split('\'').next()?;
                Some((line_number.parse().ok()?, name.to_string()))
            })
            .collect();
        // Names a star import might bind are judged by tracelab against the
        // project's modules; pyflakes says only "may be undefined".
        let mut ours: Vec<(usize, String)> = file
            .facts
            .undefined_names
            .iter()
            .filter(|u| !u.unless_star)
            .map(|u| (u.line, u.name.clone()))
            .collect();
        theirs.sort();
        theirs.dedup();
        ours.sort();
        ours.dedup();
        compared += 1;
        if theirs != ours {
            disagreements.push(format!(
                "{}\n  pyflakes: {theirs:?}\n  ours:     {ours:?}",
                path.display()
            ));
        }
    }
    assert!(
        disagreements.is_empty(),
        "{} of {compared} files differ:\n{}",
        disagreements.len(),
        disagreements.join("\n")
    );
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return found;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            found.extend(walk(&path));
        } else {
            found.push(path);
        }
    }
    found
}

/// Span attribute values, literal, as students write them.
const ATTRIBUTE_VALUES: &[&str] = &[
    "'a'",
    "1",
    "1.5",
    "True",
    "{'a': 1}",
    "[{'a': 1}, {'b': 2}]",
    "[1, 'a']",
    "[1, 2]",
    "[1, 2.0]",
    "['a', None]",
    "[[1], [2]]",
    "(1, 2)",
    "[]",
    "[True, 1]",
    "[None]",
    "({'a': 1},)",
    "['a', 'b']",
    "[1.5, 2.5]",
    "[True, False]",
    "[{'a': 1}, 1]",
];

/// The real SDK on each side of 1.45.0 keeps or drops each value as
/// tracelab says it does.
#[test]
fn attribute_values_agree_with_the_opentelemetry_sdk() {
    use tracelab::rules::otel_attributes::dropped;
    use tracelab::rules::parse_version;
    for sdk in ["1.44.0", "1.45.1"] {
        let packages = [format!("opentelemetry-sdk=={sdk}")];
        let venv = common::venv_with("otel-sdk", &packages.join(" "), &packages);
        let script: String = [
            "import logging\nlogging.disable(logging.CRITICAL)\n",
            "from opentelemetry.sdk.trace import TracerProvider\n",
            "t = TracerProvider().get_tracer('x')\n",
        ]
        .concat()
            + &ATTRIBUTE_VALUES
                .iter()
                .map(|v| format!("with t.start_as_current_span('s') as span:\n    span.set_attribute('k', {v})\n    print('kept' if 'k' in span.attributes else 'dropped')\n"))
                .collect::<String>();
        let verdicts = printed_lines(venv.join("bin/python"), &script);
        assert_eq!(verdicts.len(), ATTRIBUTE_VALUES.len());
        let version = parse_version(sdk).unwrap();
        for (value, sdk_says) in ATTRIBUTE_VALUES.iter().zip(&verdicts) {
            let file = PyFile::parse(
                Path::new("case.py"),
                &format!("span.set_attribute('k', {value})\n"),
            );
            let kind = file.facts.calls[0].args[1].kind();
            let ours = if dropped(&kind, version).is_some() {
                "dropped"
            } else {
                "kept"
            };
            assert_eq!(
                ours, sdk_says,
                "opentelemetry-sdk {sdk}, value {value} ({kind:?})"
            );
        }
    }
}
