//! `code-*`: what breaks tracing in the backend's Python without an error
//! message, read from live code only (a real parser; comments, strings and
//! unreachable statements do not count): a syntax error, middleware before
//! the app exists, hooks Flask removed, processors never added, spans used
//! after they ended, X-Ray segments misused, Rollbar given a literal.

use crate::backend::Backend;
use crate::doctor::finding::{CheckId, Edit, Finding, Layer};
use crate::rules::otel_attributes::{self, Kind};
use crate::workspace::context::{Context, SourceFile};
use crate::workspace::python::{Assignment, Call, Facts, PyFile, SpanBlock, Value};

/// The modules the backend imports, and the distributions in
/// requirements.txt that install each (itself, a meta-package, or one that
/// depends on it): without one, the import raises ModuleNotFoundError and
/// the backend does not start.
const PROVIDERS: &[(&str, &[&str])] = &[
    (
        "opentelemetry.instrumentation.flask",
        &["opentelemetry-instrumentation-flask"],
    ),
    (
        "opentelemetry.instrumentation.requests",
        &["opentelemetry-instrumentation-requests"],
    ),
    (
        "opentelemetry.exporter.otlp.proto.http",
        &[
            "opentelemetry-exporter-otlp-proto-http",
            "opentelemetry-exporter-otlp",
        ],
    ),
    (
        "opentelemetry.exporter.otlp.proto.grpc",
        &[
            "opentelemetry-exporter-otlp-proto-grpc",
            "opentelemetry-exporter-otlp",
        ],
    ),
    (
        "opentelemetry.sdk",
        &[
            "opentelemetry-sdk",
            "opentelemetry-distro",
            "opentelemetry-exporter-otlp",
            "opentelemetry-exporter-otlp-proto-http",
            "opentelemetry-exporter-otlp-proto-grpc",
        ],
    ),
    // The API: every OpenTelemetry distribution depends on it.
    ("opentelemetry", &["opentelemetry-"]),
];

/// Span methods that record on the span they are called on.
const SPAN_RECORDING: &[&str] = &[
    "set_attribute",
    "set_attributes",
    "add_event",
    "set_status",
    "record_exception",
];

/// Calls whose whole point is telemetry: dead, they are a silent loss.
const TELEMETRY_CALLS: &[&str] = &[
    "set_attribute",
    "set_attributes",
    "add_event",
    "set_status",
    "record_exception",
    "end_subsegment",
    "end_segment",
    "put_metadata",
    "put_annotation",
    "instrument_app",
    "instrument",
    "add_span_processor",
    "set_tracer_provider",
    "report_message",
];

/// Methods that return a value: passed uncalled, they are a bound method.
const VALUE_METHODS: &[&str] = &[
    "isoformat",
    "strftime",
    "timestamp",
    "now",
    "utcnow",
    "today",
    "upper",
    "lower",
    "strip",
    "keys",
    "values",
    "items",
    "copy",
];

pub fn run(ctx: &Context) -> Vec<Finding> {
    let mut out = Vec::new();
    let broken: Vec<&PyFile> = ctx
        .code
        .iter()
        .filter(|f| f.syntax_error.is_some())
        .collect();
    for file in &broken {
        let error = file
            .syntax_error
            .as_ref()
            .expect("filtered on syntax errors");
        // What raises next, once it compiles: said here, where the student
        // is already editing, rather than as findings of code that cannot run.
        let mut next: Vec<String> = Vec::new();
        for undefined in file.facts.undefined_names.iter().filter(|u| !u.unless_star) {
            let named = format!(
                "line {} uses `{}`, which nothing binds",
                undefined.line, undefined.name
            );
            if next.len() < 3
                && !next
                    .iter()
                    .any(|n| n.ends_with(&format!("`{}`, which nothing binds", undefined.name)))
            {
                next.push(named);
            }
        }
        let then = match next.is_empty() {
            true => String::new(),
            false => format!(" (once it compiles, NameError next: {})", next.join("; ")),
        };
        out.push(
            Finding::fail(
                CheckId::CodeSyntax,
                Layer::Code,
                format!("{}:{}: {}: Python cannot import it, so the backend does not start and sends nothing{then}", file.path.display(), error.line, error.message),
            )
            .fix(if error.message.starts_with(crate::workspace::python::UNRESOLVED_CONFLICT) {
                format!("keep the side you want at {}:{} and delete the <<<<<<<, ======= and >>>>>>> lines", file.path.display(), error.line)
            } else {
                format!("fix {}:{} (python3 -m py_compile {} shows the same error)", file.path.display(), error.line, file.path.display())
            }),
        );
    }
    // A file that does not parse has no facts; the others are still read
    // (their defects need fixing too once it parses).
    if let Some(app) = ctx.code.first().filter(|f| f.syntax_error.is_none()) {
        check_app_order(app, &mut out);
        check_flask_hooks(ctx, app, &mut out);
        check_pipeline_setup(ctx, app, &mut out);
    }
    for file in ctx.code.iter() {
        check_api_assigned(file, &mut out);
        check_annotations(file, &mut out);
        check_dead_telemetry(file, &mut out);
        check_spans(file, &mut out);
        check_attribute_types(ctx, file, &mut out);
        check_xray_segments(ctx, file, &mut out);
        check_rollbar(file, &mut out);
    }
    check_env_names(ctx, &mut out);
    if let Some(requirements) = &ctx.requirements {
        check_requirements(ctx, requirements, &mut out);
    }
    if out.is_empty() && !ctx.code.is_empty() {
        out.push(Finding::ok(
            CheckId::CodeApp,
            Layer::Code,
            format!("{} Python files read: instrumentation in order, processors added, spans and segments closed", ctx.code.len()),
        ));
    }
    out
}

/// `os.getenv("ROLLBAR_ACCES_TOKEN")`: the code reads a variable the
/// container does not have, a letter or two from one it has. It gets None
/// (or its default): what needs that value (a token, a region) is off.
fn check_env_names(ctx: &Context, out: &mut Vec<Finding>) {
    let Some((_, env)) = ctx.app_env() else {
        return;
    };
    let image: Vec<String> =
        crate::workspace::dockerfile::environment(&ctx.backend_dir.join("Dockerfile"))
            .into_iter()
            .map(|(k, _)| k)
            .collect();
    let has = |name: &str| env.contains_key(name) || image.iter().any(|k| k == name);
    for (file, call) in ctx.live_calls() {
        let reads = matches!(
            call.name.as_str(),
            "os.getenv" | "os.environ.get" | "getenv" | "environ.get"
        );
        let Some(Value::Str(read)) = call.args.first().filter(|_| reads) else {
            continue;
        };
        if has(read) {
            continue;
        }
        let Some(meant) = env
            .keys()
            .find(|k| crate::rules::names::is_near_miss(read, k))
        else {
            continue;
        };
        // A secret or setting the lab needs: that backend sends nothing.
        let needed = crate::vars::NEEDED_VARS.iter().any(|v| v.name == meant);
        let finding = if needed { Finding::fail } else { Finding::warn };
        let finding = finding(
            CheckId::CodeEnvName,
            Layer::Code,
            format!(
                "{}: the code reads {read}, which the container does not have (it has {meant}): it gets {}",
                at(file, call.line),
                if call.args.len() > 1 { "the default" } else { "None" }
            ),
        )
        .var(meant);
        out.push(finding.edit_or(
            Edit::rename(&file.path, call.line, read, meant),
            format!("{}: {meant}", at(file, call.line)),
        ));
    }
}

/// Set-up calls whose name a typo can assign over instead of calling.
const SETUP_APIS: &[&str] = &[
    "XRayMiddleware",
    "FlaskInstrumentor",
    "RequestsInstrumentor",
    "TracerProvider",
    "BatchSpanProcessor",
    "OTLPSpanExporter",
];

/// `XRayMiddleware = (app, xray_recorder)`: an assignment where a call was
/// meant. Nothing is installed, and no error says so.
fn check_api_assigned(file: &PyFile, out: &mut Vec<Finding>) {
    for a in &file.facts.assignments {
        let Some(api) = SETUP_APIS.iter().find(|api| a.target == **api) else {
            continue;
        };
        let what = if *api == "XRayMiddleware" {
            "no middleware is installed, so no request opens a segment and X-Ray stays empty"
        } else {
            "nothing is set up, and the name no longer refers to the class"
        };
        let finding = Finding::fail(
            CheckId::CodeApiAssigned,
            Layer::Code,
            format!(
                "{}: `{api} = ...` assigns to the name instead of calling it: {what}",
                at(file, a.line)
            ),
        );
        // `XRayMiddleware = (app, xray_recorder)`: the call it was meant to be.
        let edit = Edit::replace(&file.path, a.line, "").and_then(|edit| {
            let trimmed = edit.old.trim();
            let args = trimmed
                .strip_prefix(*api)?
                .trim_start()
                .strip_prefix('=')?
                .trim()
                .strip_prefix('(')?
                .strip_suffix(')')?;
            let new = format!("{}{api}({args})", edit.indent());
            Some(Edit { new, ..edit })
        });
        out.push(finding.edit_or(
            edit,
            format!("{}: call it: {api}(...) (drop the ` = `)", at(file, a.line)),
        ));
    }
    for (name, line) in &file.facts.bare_names {
        let method = name.rsplit('.').next().unwrap_or(name);
        let Some((_, needs)) = NAMED_NOT_CALLED
            .iter()
            .find(|(api, _)| *api == method || *api == name.as_str())
        else {
            continue;
        };
        let finding = Finding::fail(
            CheckId::CodeApiAssigned,
            Layer::Code,
            format!(
                "{}: `{name}` names the set-up call without calling it: the line does nothing, and {needs} is never set up",
                at(file, *line)
            ),
        );
        let edit = Edit::replace(&file.path, *line, "").and_then(|edit| {
            let args = match method {
                "instrument_app" => app_creation(file)?.1.to_string(),
                "instrument" => String::new(),
                _ => return None,
            };
            let new = edit.old.trim_end().to_string() + &format!("({args})");
            Some(Edit { new, ..edit })
        });
        out.push(finding.edit_or(edit, format!("{}: call it: {name}(...)", at(file, *line))));
    }
}

/// Set-up calls a student may name and forget to call, and what they set up.
const NAMED_NOT_CALLED: &[(&str, &str)] = &[
    ("instrument_app", "Flask's instrumentation"),
    ("instrument", "the instrumentation"),
    ("XRayMiddleware", "the X-Ray middleware"),
    ("add_span_processor", "the span processor"),
    ("set_tracer_provider", "the tracer provider"),
    ("rollbar.init", "Rollbar"),
    ("xray_recorder.configure", "the X-Ray recorder"),
];

/// X-Ray keeps annotations that are str, number or bool, and drops any
/// other value with only a log line: a dict never reaches the console.
fn check_annotations(file: &PyFile, out: &mut Vec<Finding>) {
    for call in file
        .facts
        .calls
        .iter()
        .filter(|c| c.method() == "put_annotation")
    {
        let is_dict = match call.args.get(1) {
            Some(Value::Dict(_)) => true,
            // The value a name was last given before the call, in this file.
            Some(Value::Ref(name)) => file
                .facts
                .assignments
                .iter()
                .filter(|a| &a.target == name && a.line < call.line)
                .max_by_key(|a| a.line)
                .is_some_and(|a| matches!(a.value, Value::Dict(_))),
            _ => false,
        };
        if is_dict {
            out.push(
                Finding::fail(
                    CheckId::CodeAnnotationValue,
                    Layer::Code,
                    format!("{}: put_annotation is given a dict: X-Ray keeps only str, number and bool annotations, and drops this one", at(file, call.line)),
                )
                .fix(format!("{}: put_metadata(...) takes a dict (not searchable); an annotation needs one str, number or bool", at(file, call.line))),
            );
        }
    }
}

fn at(file: &PyFile, line: usize) -> String {
    format!("{}:{line}", file.path.display())
}

/// `app = Flask(...)` at import: its line and the name.
fn app_creation(file: &PyFile) -> Option<(usize, &str)> {
    file.facts.assignments.iter().find_map(|a| match &a.value {
        Value::Call(callee, _) if callee == "Flask" || callee.ends_with(".Flask") => {
            Some((a.line, a.target.as_str()))
        }
        _ => None,
    })
}

fn check_app_order(app: &PyFile, out: &mut Vec<Finding>) {
    let Some((created, name)) = app_creation(app) else {
        return;
    };
    for (method, id, what) in [
        (
            "XRayMiddleware",
            CheckId::CodeXrayMiddlewareOrder,
            "XRayMiddleware",
        ),
        (
            "instrument_app",
            CheckId::CodeFlaskInstrumentationOrder,
            "FlaskInstrumentor().instrument_app",
        ),
    ] {
        let early = app
            .facts
            .calls_to(method)
            .find(|c| c.function.is_none() && c.line < created);
        if let Some(call) = early {
            // Given the app's name before anything binds it: CPython raises
            // NameError at import, which is worse than an unwrapped app.
            let unbound = call.args.contains(&Value::Ref(name.to_string()))
                && !app
                    .facts
                    .assignments
                    .iter()
                    .any(|a| a.target == name && a.module_level && a.line < call.line);
            let effect = if unbound {
                format!(
                    "`{name}` is not defined yet, so importing app.py raises NameError and the backend does not start"
                )
            } else {
                "it wraps no app, so requests are not traced".to_string()
            };
            let finding = Finding::fail(
                id,
                Layer::Code,
                format!(
                    "{}: {what} runs before `{name} = Flask(...)` (line {created}): {effect}",
                    at(app, call.line)
                ),
            );
            let advice = format!(
                "move line {} below line {created} in {}",
                call.line,
                app.path.display()
            );
            out.push(match moved_below_creation(app, call.line, created) {
                Some(edits) => finding.edits(edits, advice),
                None => finding.fix(advice),
            });
        }
    }
}

/// Line `line` (a whole statement at the module's top level) moved to just
/// after the statement that creates the app at `created`: deleted where it
/// is, inserted there. None for an indented line (moving it out of its
/// block would change what runs) or one that is not a whole call.
fn moved_below_creation(app: &PyFile, line: usize, created: usize) -> Option<Vec<Edit>> {
    let delete = Edit::replace(&app.path, line, "")?;
    let text = delete.old.clone();
    let whole = !text.starts_with([' ', '\t']) && text.trim_end().ends_with(')');
    let creation_end = app
        .facts
        .assignments
        .iter()
        .find(|a| a.line == created)
        .map_or(created, |a| a.end_line);
    whole.then(|| vec![delete, Edit::insert(&app.path, creation_end + 1, text)])
}

fn check_flask_hooks(ctx: &Context, app: &PyFile, out: &mut Vec<Finding>) {
    let decorated = app.facts.functions.iter().find(|f| {
        f.decorators
            .iter()
            .any(|d| d.ends_with(".before_first_request"))
    });
    let hook = decorated.map(|f| f.line).or_else(|| {
        app.facts
            .calls_to("before_first_request")
            .next()
            .map(|c| c.line)
    });
    let Some(line) = hook else {
        return;
    };
    let flask = flask_version(ctx);
    let removed = flask.is_none_or(|(major, minor)| (major, minor) >= (2, 3));
    let version = flask
        .map(|(a, b)| format!("Flask {a}.{b}"))
        .unwrap_or_else(|| "the latest Flask (unpinned)".into());
    let consequence = if removed {
        "`import app` raises AttributeError, so the backend does not start and nothing is traced"
    } else {
        "it works on this Flask, and breaks on the next upgrade"
    };
    let finding = if removed {
        Finding::fail
    } else {
        Finding::warn
    };
    let finding = finding(
        CheckId::CodeBeforeFirstRequest,
        Layer::Code,
        format!(
            "{}: before_first_request was removed in Flask 2.3, and requirements install {version}: {consequence}",
            at(app, line)
        ),
    );
    let advice = format!(
        "at {}: drop the decorator and call the function at app creation:  with app.app_context(): init_rollbar()",
        at(app, line)
    );
    out.push(match decorated.and_then(|f| run_at_creation(app, f)) {
        Some(edits) => finding.edits(edits, advice),
        None => finding.fix(advice),
    });
}

/// `@app.before_first_request` above `def f():` made a call at import:
/// the decorator line deleted, and `with app.app_context(): f()` after the
/// def. Only for a function that takes nothing and one decorator line.
fn run_at_creation(
    app: &PyFile,
    function: &crate::workspace::python::Function,
) -> Option<Vec<Edit>> {
    if function.decorators.len() != 1 || !function.params.positional.is_empty() {
        return None;
    }
    let decorator = Edit::replace(&app.path, function.line, "")?;
    let target = decorator
        .old
        .trim()
        .strip_prefix('@')?
        .strip_suffix(".before_first_request")?;
    let flask_app = target.trim();
    if !flask_app.chars().all(|c| c.is_alphanumeric() || c == '_') {
        return None;
    }
    let indent = decorator.indent();
    let call = Edit::insert(
        &app.path,
        function.end_line + 1,
        format!(
            "{indent}with {flask_app}.app_context():\n{indent}    {}()",
            function.name
        ),
    );
    Some(vec![call, decorator])
}

/// The second of two live `add_span_processor(x)` calls with the same `x`.
fn added_twice<'a>(calls: &[(&'a PyFile, &'a Call)]) -> Option<(&'a PyFile, &'a Call)> {
    let adds: Vec<&(&PyFile, &Call)> = calls
        .iter()
        .filter(|(_, c)| c.method() == "add_span_processor")
        .collect();
    adds.iter().enumerate().find_map(|(i, (file, call))| {
        let first = call.args.first()?;
        matches!(first, Value::Ref(_))
            .then_some(())
            .filter(|_| adds[..i].iter().any(|(_, c)| c.args.first() == Some(first)))
            .map(|_| (*file, *call))
    })
}

/// Honeycomb, or tracelab's receiver, gets what an OTLP exporter sends: a
/// workspace whose code builds a console exporter and no OTLP one sends
/// nothing there.
fn check_exported_over_otlp(ctx: &Context, out: &mut Vec<Finding>) {
    if !(ctx.uses(Backend::Honeycomb) || ctx.uses(Backend::Local)) || ctx.auto_instrumented {
        return;
    }
    // Built, or given as the class itself where an instance is meant: that
    // slip is python-callable-not-called's, one cause named once.
    let is_exporter = |name: &str| name.rsplit('.').next() == Some("OTLPSpanExporter");
    let named = ctx.code.iter().any(|f| {
        f.facts
            .calls
            .iter()
            .any(|c| is_exporter(&c.name) || c.passed_names().any(is_exporter))
            || f.facts
                .assignments
                .iter()
                .any(|a| matches!(&a.value, Value::Call(c, _) if is_exporter(c)))
    });
    let console = ctx
        .live_calls()
        .find(|(_, c)| c.method() == "ConsoleSpanExporter");
    let Some((file, call)) = console else {
        return;
    };
    if named {
        return;
    }
    out.push(
        Finding::fail(
            CheckId::CodeNoOtlpExporter,
            Layer::Code,
            format!(
                "{}: spans are exported to the console only (ConsoleSpanExporter), and no OTLPSpanExporter is built: nothing is sent to {}",
                at(file, call.line),
                if ctx.uses(Backend::Honeycomb) { "Honeycomb" } else { "tracelab listen" }
            ),
        )
        .fix(format!(
            "beside it:  provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))   # from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter (at {})",
            at(file, call.line)
        )),
    );
}

/// Provider, processors and instrumentors: set up, added, live.
fn check_pipeline_setup(ctx: &Context, app: &PyFile, out: &mut Vec<Finding>) {
    let all_calls: Vec<(&PyFile, &Call)> = ctx.live_calls().collect();
    let called = |method: &str| all_calls.iter().any(|(_, c)| c.method() == method);
    for assignment in ctx
        .code
        .iter()
        .flat_map(|f| f.facts.assignments.iter().map(move |a| (f, a)))
    {
        let (file, a) = assignment;
        let Value::Call(callee, _) = &a.value else {
            continue;
        };
        if !(callee.ends_with("SimpleSpanProcessor") || callee.ends_with("BatchSpanProcessor")) {
            continue;
        }
        let added = all_calls.iter().any(|(_, c)| {
            c.method() == "add_span_processor"
                && c.args.first() == Some(&Value::Ref(a.target.clone()))
        });
        if !added {
            // The usual cause: the line meant to add this processor adds
            // another one a second time (every span is then exported twice).
            if let Some((twice_file, twice)) = added_twice(&all_calls) {
                let Some(Value::Ref(other)) = twice.args.first() else {
                    continue;
                };
                out.push(
                    Finding::fail(
                        CheckId::CodeUnattachedProcessor,
                        Layer::Code,
                        format!(
                            "{}: add_span_processor({other}) adds {other} a second time, so every span is exported twice, and {} ({}) is never added",
                            at(twice_file, twice.line),
                            a.target,
                            at(file, a.line)
                        ),
                    )
                    .fix(format!(
                        "{}: provider.add_span_processor({})",
                        at(twice_file, twice.line),
                        a.target
                    )),
                );
                continue;
            }
            let finding = Finding::fail(
                CheckId::CodeUnattachedProcessor,
                Layer::Code,
                format!(
                    "{}: {} is created but never added to the provider, so it does nothing",
                    at(file, a.line),
                    a.target
                ),
            );
            // Added on the line after it, by the one provider made in the
            // same function (which one is meant is known).
            let providers: Vec<&str> = file
                .facts
                .assignments
                .iter()
                .filter(|p| p.function == a.function && p.line < a.line)
                .filter(|p| matches!(&p.value, Value::Call(c, _) if c.ends_with("TracerProvider")))
                .map(|p| p.target.as_str())
                .collect();
            let advice = format!(
                "after {}:  {}.add_span_processor({})",
                at(file, a.line),
                providers.first().copied().unwrap_or("provider"),
                a.target
            );
            out.push(match providers.as_slice() {
                [provider] => {
                    let indent = Edit::indent_of(&file.path, a.line);
                    finding.edit(Edit::insert(
                        &file.path,
                        a.end_line + 1,
                        format!("{indent}{provider}.add_span_processor({})", a.target),
                    ))
                }
                _ => finding.fix(advice),
            });
        }
    }
    check_exported_over_otlp(ctx, out);
    let provider = all_calls
        .iter()
        .find(|(_, c)| c.method() == "TracerProvider");
    if let Some((file, call)) = provider
        && !called("set_tracer_provider")
    {
        // The instrumentation given the provider itself still sends the
        // server spans with it: only what trace.get_tracer() makes is lost.
        let handed = all_calls.iter().any(|(_, c)| {
            matches!(c.method(), "instrument_app" | "instrument")
                && c.keyword("tracer_provider").is_some()
        });
        let finding = if handed {
            Finding::warn(
                CheckId::CodeProviderNotSet,
                Layer::Code,
                format!(
                    "{}: a TracerProvider is created and given to the Flask instrumentation, but never set: the server spans arrive, and the manual spans (trace.get_tracer(...)) go nowhere",
                    at(file, call.line)
                ),
            )
        } else {
            Finding::fail(
                CheckId::CodeProviderNotSet,
                Layer::Code,
                format!(
                    "{}: a TracerProvider is created but never set, so spans go nowhere",
                    at(file, call.line)
                ),
            )
        };
        // `provider = TracerProvider(...)`: set it on the line after the
        // statement, at its indentation, when `trace` is the module's.
        let assigned = file.facts.assignments.iter().find(|a| {
            a.line == call.line
                && matches!(&a.value, Value::Call(c, _) if c.ends_with("TracerProvider"))
        });
        let fix = format!(
            "after {}:  trace.set_tracer_provider({})",
            at(file, call.line),
            assigned.map_or("provider", |a| a.target.as_str())
        );
        let insert = assigned
            .filter(|_| file.facts.top_level_names.iter().any(|n| n == "trace"))
            .map(|a| {
                let indent = Edit::indent_of(&file.path, a.line);
                Edit::insert(
                    &file.path,
                    a.end_line + 1,
                    format!("{indent}trace.set_tracer_provider({})", a.target),
                )
            });
        out.push(match insert {
            Some(edit) => finding.edit(edit).fix(fix),
            None => finding.fix(fix),
        });
    }
    if provider.is_some() && !ctx.auto_instrumented {
        check_flask_instrumented(ctx, app, &all_calls, out);
    }
}

/// Server spans need the Flask app instrumented: `instrument_app(app)`, or
/// the global `FlaskInstrumentor().instrument()`, which only reaches apps
/// made from a `Flask` looked up after it (checked against the real SDK:
/// `from flask import Flask` above it binds the class it replaces too late).
fn check_flask_instrumented(
    ctx: &Context,
    app: &PyFile,
    all_calls: &[(&PyFile, &Call)],
    out: &mut Vec<Finding>,
) {
    if all_calls
        .iter()
        .any(|(_, c)| c.method() == "instrument_app")
    {
        return;
    }
    // Named but not called: check_api_assigned says so, with the call.
    let named = ctx.code.iter().any(|f| {
        f.facts
            .bare_names
            .iter()
            .any(|(n, _)| n.ends_with("instrument_app"))
    });
    if named {
        return;
    }
    let global = all_calls
        .iter()
        .find(|(_, c)| c.name == "FlaskInstrumentor().instrument" && c.function.is_none());
    if let Some((file, call)) = global {
        // The name the app's class was bound by, and where.
        let flask_bound = app_creation(app).and_then(|(created, _)| {
            let callee = app.facts.assignments.iter().find_map(|a| match &a.value {
                Value::Call(callee, _) if a.line == created => Some(callee.clone()),
                _ => None,
            })?;
            let bound = app
                .facts
                .imported_names
                .iter()
                .find(|n| n.name == callee && n.module_level && n.target == "flask.Flask");
            // `flask.Flask(...)` looks the class up when the app is made.
            Some(bound.map_or(created, |n| n.line))
        });
        match flask_bound {
            Some(line) if std::ptr::eq(*file, app) && line < call.line => {
                out.push(
                    Finding::fail(
                        CheckId::CodeInstrumentor,
                        Layer::Code,
                        format!("{}: FlaskInstrumentor().instrument() replaces flask.Flask, but `Flask` was bound at line {line}, before it: the app is made from the old class, so requests make no server spans", at(app, call.line)),
                    )
                    .fix(format!("below `app = Flask(__name__)` in {}:  FlaskInstrumentor().instrument_app(app)", app.path.display())),
                );
            }
            _ => {}
        }
        return;
    }
    let text = ctx.app_py.as_ref().map(|f| f.text.as_str()).unwrap_or("");
    let commented = PyFile::inert_mentions(text, "instrument_app");
    let (why, fix) = match commented.first() {
        Some(line) => (
            format!(
                "FlaskInstrumentor().instrument_app is commented out ({})",
                at(app, *line)
            ),
            format!("uncomment {}", at(app, *line)),
        ),
        None => (
            "nothing calls FlaskInstrumentor().instrument_app(app)".to_string(),
            "below `app = Flask(__name__)`:  FlaskInstrumentor().instrument_app(app)".to_string(),
        ),
    };
    let finding = Finding::fail(
        CheckId::CodeInstrumentor,
        Layer::Code,
        format!("{why}: requests make no server spans"),
    );
    // The commented call, as code again at the comment's indentation.
    let uncomment = commented
        .first()
        .and_then(|line| Edit::uncomment(&app.path, *line))
        .filter(|edit| edit.new.contains("instrument_app("));
    out.push(match uncomment {
        Some(edit) => finding.edit(edit).fix(fix),
        None => finding.fix(fix),
    });
}

fn check_dead_telemetry(file: &PyFile, out: &mut Vec<Finding>) {
    for dead in &file.facts.dead_calls {
        if !TELEMETRY_CALLS.contains(&dead.call.method()) {
            continue;
        }
        out.push(
            Finding::fail(
                CheckId::CodeUnreachable,
                Layer::Code,
                format!(
                    "{}: {}(...) never runs: it comes after `{}` at line {}",
                    at(file, dead.call.line),
                    dead.call.name,
                    dead.because,
                    dead.because_line
                ),
            )
            .fix(format!(
                "move line {} above line {} in {}",
                dead.call.line,
                dead.because_line,
                file.path.display()
            )),
        );
    }
}

/// Attributes set after the span ended, the current span asked for after
/// the block, and a method passed where its result was meant.
/// Span methods called after the `with` block that ended their span: one
/// finding per block, naming every such line (one mistake: the block ends
/// too early).
/// The names that hold a block's span, by data flow within its function:
/// `as span`, a `span = trace.get_current_span()` inside the block, and
/// any alias of those (`s = span`), each until it is rebound.
fn span_handles(facts: &Facts, block: &SpanBlock) -> Vec<String> {
    let mut handles: Vec<String> = block.variable.iter().cloned().collect();
    let inside = |line: usize| line > block.line && line <= block.end_line;
    let mut assignments: Vec<&Assignment> = facts
        .assignments
        .iter()
        .filter(|a| a.function == block.function && a.line > block.line)
        .collect();
    assignments.sort_by_key(|a| a.line);
    for assignment in assignments {
        let holds_span = match &assignment.value {
            Value::Call(callee, _) => {
                inside(assignment.line) && callee.ends_with("get_current_span")
            }
            Value::Ref(name) => handles.contains(name),
            _ => false,
        };
        if holds_span {
            if !handles.contains(&assignment.target) {
                handles.push(assignment.target.clone());
            }
        } else {
            // Rebound to something else: no longer this span.
            handles.retain(|h| h != &assignment.target);
        }
    }
    handles
}

fn check_ended_spans(file: &PyFile, out: &mut Vec<Finding>) {
    let facts = &file.facts;
    for block in &facts.span_blocks {
        let handles = span_handles(facts, block);
        let late: Vec<&Call> = facts
            .calls
            .iter()
            .filter(|call| {
                let receiver = call.name.rsplit_once('.').map(|(r, _)| r).unwrap_or("");
                SPAN_RECORDING.contains(&call.method())
                    && !call.in_span_block
                    && block.function == call.function
                    && block.end_line < call.line
                    && handles.iter().any(|h| h == receiver)
            })
            .collect();
        let Some(first) = late.first() else {
            continue;
        };
        let also = match &late[1..] {
            [] => String::new(),
            rest => format!(
                " (and at line {})",
                rest.iter()
                    .map(|c| c.line.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        let finding = Finding::fail(
            CheckId::CodeSpanEnded,
            Layer::Code,
            format!(
                "{}: {}({}...){also} runs after the `with` block of line {} ended the span: the SDK drops it (\"Setting attribute on ended span\")",
                at(file, first.line),
                first.name,
                match first.args.first() {
                    Some(Value::Str(key)) => format!("{key:?}, "),
                    _ => String::new(),
                },
                block.line
            ),
        );
        out.push(match indent_into_block(file, block, &late) {
            Some(edits) => finding.edits(
                edits,
                format!(
                    "indent {} into the `with` block that starts at line {}",
                    at(file, first.line),
                    block.line
                ),
            ),
            None => finding.fix(format!(
                "indent {} into the `with` block that starts at line {}",
                at(file, first.line),
                block.line
            )),
        });
    }
}

/// The late calls indented into the block they follow, when they follow
/// it directly (nothing but blank lines and each other between), each on
/// one line: then the block's body simply goes on to them.
fn indent_into_block(file: &PyFile, block: &SpanBlock, late: &[&Call]) -> Option<Vec<Edit>> {
    let text = crate::workspace::read::text(&file.path).ok()?;
    let lines: Vec<&str> = text.lines().collect();
    let body = lines.get(block.line)?;
    let body_indent = &body[..body.len() - body.trim_start().len()];
    let last = late.last()?.line;
    let moved: Vec<usize> = late.iter().map(|c| c.line).collect();
    for line in block.end_line + 1..=last {
        let text = lines.get(line - 1)?;
        if !(text.trim().is_empty() || moved.contains(&line)) {
            return None;
        }
    }
    moved
        .iter()
        .map(|&line| {
            let edit = Edit::replace(&file.path, line, "")?;
            let statement = edit.old.trim_start().to_string();
            // One line each: a statement continued below stays advice.
            let balanced = statement.matches('(').count() == statement.matches(')').count();
            balanced.then(|| Edit {
                new: format!("{body_indent}{statement}"),
                ..edit
            })
        })
        .collect()
}

/// The OpenTelemetry SDK version requirements.txt pins (`==X.Y.Z`);
/// None when unpinned: pip installs the latest.
fn sdk_version(ctx: &Context) -> Option<(u32, u32, u32)> {
    crate::rules::parse_version(&ctx.pinned_version("opentelemetry-sdk")?)
}

/// What the source shows of a value's type; a name is followed to the
/// last assignment before `line` in the same function.
fn kind_of(file: &PyFile, value: &Value, function: Option<usize>, line: usize) -> Kind {
    match value {
        Value::List(items) => Kind::Sequence(
            items
                .iter()
                .map(|i| kind_of(file, i, function, line))
                .collect(),
        ),
        Value::Ref(name) if name != "None" && !name.contains('.') => file
            .facts
            .assignments
            .iter()
            .rfind(|a| a.target == *name && a.function == function && a.end_line < line)
            .map_or(Kind::Unknown, |a| match &a.value {
                // One step only: a name assigned from a name is not followed.
                Value::Ref(_) => Kind::Unknown,
                other => kind_of(file, other, function, a.line),
            }),
        other => other.kind(),
    }
}

/// `"app.now"` for `set_attribute("app.now", ...)`, as a message names it.
fn attribute_key(call: &Call) -> String {
    match call.args.first() {
        Some(Value::Str(k)) => format!("{k:?}"),
        _ => "the attribute".into(),
    }
}

/// Span attributes the pinned SDK drops (a dict, a list of dicts, mixed
/// types): only with a pin before 1.45.0, as later ones keep them.
fn check_attribute_types(ctx: &Context, file: &PyFile, out: &mut Vec<Finding>) {
    let Some(version) = sdk_version(ctx) else {
        return;
    };
    for call in file
        .facts
        .calls
        .iter()
        .filter(|c| c.method() == "set_attribute")
    {
        let Some(value) = call.args.get(1) else {
            continue;
        };
        let kind = kind_of(file, value, call.function, call.line);
        let Some(what) = otel_attributes::dropped(&kind, version) else {
            continue;
        };
        let key = attribute_key(call);
        let (a, b, c) = version;
        out.push(
            Finding::fail(CheckId::CodeAttributeValue, Layer::Code, format!("{}: {key} is set to {what}: opentelemetry-sdk {a}.{b}.{c} (pinned in requirements.txt) keeps only str, bool, int, float and lists of one of them, and drops it (\"Invalid type ... for attribute value\")", at(file, call.line)))
                .fix(format!("{}: json.dumps(...) the value, or set one attribute per field; or pin opentelemetry-sdk 1.45.0 or later (with the matching API and instrumentation), which keeps it", at(file, call.line))),
        );
    }
}

fn check_spans(file: &PyFile, out: &mut Vec<Finding>) {
    check_ended_spans(file, out);
    let facts = &file.facts;
    for call in &facts.calls {
        if call.method() == "get_current_span" && !call.in_span_block {
            let after = facts
                .span_blocks
                .iter()
                .find(|b| b.function == call.function && b.end_line < call.line);
            if let Some(block) = after {
                out.push(
                    Finding::warn(CheckId::CodeSpanEnded, Layer::Code, format!("{}: get_current_span() after the `with` block of line {} returns the enclosing (Flask) span, not yours", at(file, call.line), block.line))
                        .fix(format!("call it inside the `with` block at line {}, or use `as span`", block.line)),
                );
            }
        }
        if call.method() == "set_attribute"
            && let Some(Value::Ref(value)) = call.args.get(1)
            && let Some(method) = value.rsplit('.').next()
            && value.contains('.')
            && VALUE_METHODS.contains(&method)
        {
            let key = attribute_key(call);
            let finding = Finding::fail(
                CheckId::CodeAttributeValue,
                Layer::Code,
                format!(
                    "{}: {key} is set to the method {value}, not its result: the SDK drops it or stores \"<built-in method ...>\"",
                    at(file, call.line)
                ),
            );
            out.push(finding.edit_or(
                Edit::call(&file.path, call.line, value),
                format!("{}: {value}()", at(file, call.line)),
            ));
        }
    }
}

/// The line of a subsegment begun in `function` and not ended on every path.
fn open_subsegment_in(
    facts: &crate::workspace::python::Facts,
    function: Option<usize>,
) -> Option<usize> {
    facts
        .open_subsegments
        .iter()
        .map(|open| open.begin_line)
        .find(|line| {
            facts.calls.iter().any(|c| {
                c.line == *line && c.method() == "begin_subsegment" && c.function == function
            })
        })
}

fn check_xray_segments(ctx: &Context, file: &PyFile, out: &mut Vec<Finding>) {
    let facts = &file.facts;
    let middleware = ctx.live_call("XRayMiddleware").is_some();
    let ended_at_import = facts.calls_to("end_segment").any(|c| c.function.is_none());
    for call in facts.calls_to("begin_segment").filter(|c| !c.guarded) {
        match call.function {
            Some(_) if middleware => {
                let fix = format!("{}: use xray_recorder.begin_subsegment(...) (and end_subsegment()), or `with xray_recorder.in_subsegment(...)`", at(file, call.line));
                // Checked with aws-xray-sdk 2.15: ended in the request, the
                // middleware then finds no segment and raises; not ended, it
                // ends and sends the student's in place of its own.
                let finding = match facts
                    .calls_to("end_segment")
                    .find(|c| c.function == call.function)
                {
                    Some(end) => Finding::fail(CheckId::CodeXraySegment, Layer::Code, format!("{}: begin_segment() inside a request replaces the segment XRayMiddleware opened, and end_segment() at line {} then clears the context: the request fails (AttributeError ... put_http_meta, HTTP 500)", at(file, call.line), end.line)),
                    None => match open_subsegment_in(facts, call.function) {
                        // The segment sent in the request's place waits for
                        // its open subsegment: nothing of the request is sent.
                        Some(open) => Finding::fail(CheckId::CodeXraySegment, Layer::Code, format!("{}: begin_segment() inside a request replaces the segment XRayMiddleware opened, and the subsegment begun at line {open} is never ended: the middleware closes the wrong segment, which is never sent, and the request's own is lost", at(file, call.line))),
                        None => Finding::warn(CheckId::CodeXraySegment, Layer::Code, format!("{}: begin_segment() inside a request replaces the segment XRayMiddleware opened: the request's segment is sent under the name begin_segment() gives, without its HTTP data, not as the service the lab looks for", at(file, call.line))),
                    },
                };
                out.push(finding.fix(fix));
            }
            None if !ended_at_import => out.push(
                Finding::warn(CheckId::CodeXraySegment, Layer::Code, format!("{}: begin_segment() at import is never ended, so that segment is never sent (request segments are not affected)", at(file, call.line)))
                    .fix(format!("delete {}: XRayMiddleware opens a segment per request", at(file, call.line))),
            ),
            _ => {}
        }
    }
    // A begin_subsegment() on an unbound recorder raises NameError first:
    // that is python-undefined-name's finding, and nothing is left open.
    let unbound = facts.unbound_names();
    let begun_live = |line: usize| {
        facts
            .calls_to("begin_subsegment")
            .any(|c| c.line == line && !unbound.called_by(c))
    };
    for open in facts
        .open_subsegments
        .iter()
        .filter(|o| begun_live(o.begin_line))
    {
        let how = match open.exit_line {
            Some(line) => format!("the return/raise at line {line} leaves it open"),
            None => "nothing ends it".into(),
        };
        out.push(
            Finding::fail(CheckId::CodeXraySubsegment, Layer::Code, format!("{}: begin_subsegment() is not ended on every path ({how}): it is never sent, and later subsegments nest under it", at(file, open.begin_line)))
                .fix(format!("{}: use `with xray_recorder.in_subsegment(...):`, or end it in a `finally:`", at(file, open.begin_line))),
        );
    }
}

fn check_rollbar(file: &PyFile, out: &mut Vec<Finding>) {
    for call in file.facts.calls.iter().filter(|c| c.name == "rollbar.init") {
        // The token as written, or as the name it is passed by was last
        // assigned before the call in the same function.
        let (token, line) = match call.args.first() {
            Some(Value::Str(token)) => (
                Some(token.clone()),
                call.arg_lines.first().copied().unwrap_or(call.line),
            ),
            Some(Value::Ref(name)) => file
                .facts
                .assignments
                .iter()
                .filter(|a| a.target == *name && a.function == call.function && a.line < call.line)
                .max_by_key(|a| a.line)
                .map_or((None, call.line), |a| match &a.value {
                    Value::Str(token) => (Some(token.clone()), a.line),
                    _ => (None, call.line),
                }),
            _ => (None, call.line),
        };
        if let Some(token) = token
            && token.contains('$')
        {
            let finding = Finding::fail(CheckId::CodeRollbarToken, Layer::Code, format!("{}: rollbar.init gets the literal text {token:?}: Python does not interpolate ${{...}}, so Rollbar rejects every item", at(file, line)))
                .var("ROLLBAR_ACCESS_TOKEN");
            // The string, in either quotes, replaced by a read of the
            // variable it names, where `os` is imported.
            let variable = crate::workspace::interpolate::referenced(&token)
                .into_iter()
                .next()
                .unwrap_or_else(|| "ROLLBAR_ACCESS_TOKEN".to_string());
            let read = format!("os.getenv(\"{variable}\")");
            let edit = file
                .facts
                .top_level_names
                .iter()
                .any(|n| n == "os")
                .then(|| {
                    ['\'', '"'].iter().find_map(|q| {
                        Edit::rename(&file.path, line, &format!("{q}{token}{q}"), &read)
                    })
                })
                .flatten();
            out.push(finding.edit_or(
                edit,
                format!("{}: {read} instead of the string", at(file, line)),
            ));
        }
        let per_request = file
            .facts
            .function(call.function)
            .is_some_and(|f| f.decorators.iter().any(|d| d.ends_with(".before_request")));
        if per_request {
            out.push(
                Finding::fail(CheckId::CodeRollbarInit, Layer::Code, format!("{}: rollbar.init runs in a before_request hook, so it runs again on every request", at(file, call.line)))
                    .fix("initialise once at app creation:  with app.app_context(): rollbar.init(...)"),
            );
        }
    }
}

/// The Flask version requirements.txt pins (`flask==X.Y...`), if it pins one.
fn flask_version(ctx: &Context) -> Option<(u32, u32)> {
    let (major, minor, _) = crate::rules::parse_version(&ctx.pinned_version("flask")?)?;
    Some((major, minor))
}

fn check_requirements(ctx: &Context, requirements: &SourceFile, out: &mut Vec<Finding>) {
    let names: Vec<String> = requirements
        .text
        .lines()
        .map(|l| {
            l.split('#')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
                .replace('_', "-")
        })
        .filter_map(|l| {
            l.split(['=', '<', '>', '~', '!', '[', ';', ' '])
                .next()
                .map(str::to_string)
        })
        .collect();
    // Each OpenTelemetry module the code imports at import time, once.
    let mut reported: Vec<&str> = Vec::new();
    for file in ctx.code.iter() {
        for import in file.facts.imported_names.iter().filter(|i| i.module_level) {
            let Some((module, providers)) = PROVIDERS.iter().find(|(module, _)| {
                import.target == *module || import.target.starts_with(&format!("{module}."))
            }) else {
                continue;
            };
            let installed = names.iter().any(|n| {
                providers
                    .iter()
                    .any(|p| n == p || (p.ends_with('-') && n.starts_with(p)))
            });
            if installed || reported.contains(module) {
                continue;
            }
            reported.push(module);
            let package = providers[0].trim_end_matches('-');
            let package = if package == "opentelemetry" {
                "opentelemetry-api"
            } else {
                package
            };
            out.push(
                Finding::fail(
                    CheckId::CodeRequirements,
                    Layer::Code,
                    format!(
                        "{}: imports {module}, which nothing in {} installs: the import fails, so the backend does not start",
                        at(file, import.line),
                        requirements.path.display(),
                    ),
                )
                .edit(requirement_line(ctx, requirements, package)),
            );
        }
    }
}

/// `package` added to requirements.txt after its last OpenTelemetry line
/// (else at the end), pinned as its family is: the SDK's version for the
/// API, SDK and exporters, the instrumentations' for an instrumentation
/// (the two families move in pairs), unpinned when the file pins neither.
fn requirement_line(ctx: &Context, requirements: &SourceFile, package: &str) -> Edit {
    // The core packages share one version; the contrib ones (0.xxbN) another.
    let contrib = |name: &str| {
        name.starts_with("opentelemetry-instrumentation")
            || name.starts_with("opentelemetry-util")
            || name.starts_with("opentelemetry-semantic-conventions")
    };
    let pin = package.starts_with("opentelemetry").then(|| {
        ctx.requirement_pins()
            .iter()
            .filter(|(name, _)| name.starts_with("opentelemetry"))
            .filter(|(name, _)| contrib(name) == contrib(package))
            .find_map(|(_, pin)| pin.clone())
    });
    let pin = pin.flatten();
    let line = match pin {
        Some(version) => format!("{package}=={version}"),
        None => package.to_string(),
    };
    let lines: Vec<&str> = requirements.text.lines().collect();
    let after = lines
        .iter()
        .rposition(|l| {
            l.trim_start()
                .to_ascii_lowercase()
                .starts_with("opentelemetry")
        })
        .map_or(lines.len(), |i| i + 1);
    Edit::insert(&requirements.path, after + 1, line)
}

#[cfg(test)]
mod tests {
    use super::super::testing::{SHELL, check, in_file, replace};
    use crate::doctor::finding::{Apply, CheckId, Status};

    /// The console exporter alone sends nothing to Honeycomb; beside an OTLP
    /// one it is the lab's own debugging aid.
    #[test]
    fn spans_exported_to_the_console_only_are_one_problem() {
        let console_only = check(
            "honeycomb",
            replace(
                "backend-flask/app.py",
                "BatchSpanProcessor(OTLPSpanExporter())",
                "SimpleSpanProcessor(ConsoleSpanExporter())",
            ),
            SHELL,
        );
        let finding = console_only.one(CheckId::CodeNoOtlpExporter, Status::Fail);
        assert!(
            finding.message.contains("nothing is sent to Honeycomb"),
            "{}",
            finding.message
        );
        let both = check("honeycomb", |_: &str, text: String| text, SHELL);
        assert!(both.ids(Status::Fail).is_empty());
    }

    /// A provider never set loses every span, unless the instrumentation is
    /// handed it: then only the manual spans, a warning that says so.
    #[test]
    fn a_provider_never_set_loses_what_nothing_else_carries() {
        let unset = |text: String| {
            text.replace(
                "    trace.set_tracer_provider(provider)\n",
                "    pass  # trace.set_tracer_provider(provider)\n",
            )
        };
        let lost = check("honeycomb", in_file("backend-flask/app.py", unset), SHELL);
        lost.one(CheckId::CodeProviderNotSet, Status::Fail);
        let handed = check(
            "honeycomb",
            // The provider made at module level, so the call below sees it.
            in_file("backend-flask/app.py", |text| {
                unset(text)
                    .replace(
                        "    provider = TracerProvider(",
                        "    global provider\n    provider = TracerProvider(",
                    )
                    .replace(
                        "FlaskInstrumentor().instrument_app(app)",
                        "FlaskInstrumentor().instrument_app(app, tracer_provider=provider)",
                    )
            }),
            SHELL,
        );
        let warned = handed.one(CheckId::CodeProviderNotSet, Status::Warn);
        assert!(
            warned.message.contains("the server spans arrive"),
            "{}",
            warned.message
        );
        // The fix is an edit: set it on the line after it is made.
        let edit = lost.edit(CheckId::CodeProviderNotSet, Status::Fail);
        assert_eq!(
            (edit.old.as_str(), edit.new.as_str()),
            ("", "    trace.set_tracer_provider(provider)")
        );
    }

    /// A commented-out instrumentation call is uncommented by the fix, at
    /// the comment's indentation.
    #[test]
    fn a_commented_out_instrumentor_is_uncommented_by_the_fix() {
        let checked = check(
            "honeycomb",
            replace(
                "backend-flask/app.py",
                "    FlaskInstrumentor().instrument_app(app)",
                "    # FlaskInstrumentor().instrument_app(app)",
            ),
            SHELL,
        );
        let edit = checked.edit(CheckId::CodeInstrumentor, Status::Fail);
        assert_eq!(edit.new, "    FlaskInstrumentor().instrument_app(app)");
    }

    /// A span handle got from get_current_span() inside the block ends
    /// with the block, as `as span` does: data flow, not the form.
    #[test]
    fn an_attribute_after_the_block_is_lost_whatever_binds_the_span() {
        let path = "backend-flask/services/home_activities.py";
        let checked = check(
            "honeycomb",
            in_file(path, |text| {
                text.replace(
                    "with tracer.start_as_current_span(\"home-activities-mock-data\") as span:",
                    "with tracer.start_as_current_span(\"home-activities-mock-data\"):\n            span = trace.get_current_span()",
                )
                .replace(
                    "            span.set_attribute(\"app.result_length\", len(results))\n            return results",
                    "        span.set_attribute(\"app.result_length\", len(results))\n        return results",
                )
            }),
            SHELL,
        );
        let finding = checked.one(CheckId::CodeSpanEnded, Status::Fail);
        assert!(
            finding.message.contains("home_activities.py:"),
            "{}",
            finding.message
        );
        assert!(
            matches!(finding.apply, Some(Apply::Edits { .. })),
            "{:?}",
            finding.apply
        );
    }

    #[test]
    fn a_commented_out_instrumentor_is_named() {
        let checked = check(
            "honeycomb",
            replace(
                "backend-flask/app.py",
                "    FlaskInstrumentor().instrument_app(app)",
                "    # FlaskInstrumentor().instrument_app(app)",
            ),
            SHELL,
        );
        checked.one(CheckId::CodeInstrumentor, Status::Fail);
    }
}
