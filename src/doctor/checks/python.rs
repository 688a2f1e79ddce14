//! `python-*`: what CPython raises when the backend's code runs, in the code
//! that does run: a name nothing binds (Ruff's pyflakes rules), a project
//! or library function called with arguments it does not take, a module's
//! attribute or import it does not have, and set-up code in a
//! function nothing calls. Each says when it happens: at import (the
//! backend does not start) or in a request (that request fails, HTTP 500).

use crate::doctor::finding::{CheckId, Edit, Finding, Layer};
use crate::rules::python_modules;
use crate::workspace::context::Context;
use crate::workspace::python::arity::{misfit, misfit_params, signature, signature_of};
use crate::workspace::python::library;
use crate::workspace::python::reach::{EVERY_REQUEST_HOOKS, FunctionId, Reach, When};
use crate::workspace::python::{Call, Function, ImportedName, PyFile, UndefinedName, Value};

/// Calls that set up a backend: a function holding one that nothing calls
/// leaves that backend silent.
const SETUP_CALLS: &[(&str, &str)] = &[
    (
        "rollbar.init",
        "Rollbar is never initialised and no error reaches it",
    ),
    (
        "set_tracer_provider",
        "the tracer provider is never set, so spans go nowhere",
    ),
    (
        "add_span_processor",
        "no span processor is added, so no span is exported",
    ),
    (
        "instrument_app",
        "Flask is never instrumented, so requests make no spans",
    ),
    (
        "XRayMiddleware",
        "the X-Ray middleware is never installed, so no segment is sent",
    ),
    (
        "xray_recorder.configure",
        "the X-Ray recorder is never configured",
    ),
];

pub fn run(ctx: &Context) -> Vec<Finding> {
    let mut out = Vec::new();
    let reach = Reach::of(&ctx.code, &ctx.backend_dir);
    for (index, file) in ctx.code.iter().enumerate() {
        // A module that does not compile never runs a line: code-syntax
        // is its one finding, and names what raises next.
        if file.syntax_error.is_some() {
            continue;
        }
        check_undefined_names(ctx, &reach, index, file, &mut out);
        check_arity(&reach, index, file, &mut out);
        let library = library_calls(file);
        check_library_arity(ctx, &reach, index, file, &library, &mut out);
        check_classes_given_for_instances(&reach, index, file, &library, &mut out);
        check_never_called(&reach, index, file, &mut out);
        check_callable_values(&reach, index, file, &mut out);
        check_imports(ctx, &reach, index, file, &mut out);
        check_module_attributes(ctx, &reach, index, file, &mut out);
    }
    out
}

fn at(file: &PyFile, line: usize) -> String {
    format!("{}:{line}", file.path.display())
}

/// What happens to the backend when code that fails runs `when`.
fn consequence(reach: &Reach, file: &PyFile, when: When, error: &str) -> String {
    match when {
        When::Import => format!(
            "importing {} raises {error}, so the backend does not start",
            file.path.display()
        ),
        When::Request(entry) => {
            let function = reach.function(entry);
            format!(
                "a request through {}() ({}) that gets here fails with {error} (HTTP 500; its span arrives, marked as an error)",
                function.name,
                at(reach.file(entry), function.line)
            )
        }
    }
}

/// Calls that send telemetry: an exception before or among them loses it.
const TELEMETRY_CALLS: &[&str] = &[
    "start_as_current_span",
    "start_span",
    "set_attribute",
    "set_attributes",
    "add_event",
    "record_exception",
    "set_status",
    "begin_segment",
    "begin_subsegment",
    "in_subsegment",
    "capture",
    "put_annotation",
    "put_metadata",
    "report_exc_info",
    "report_message",
];

/// Where a failure happens: the file, and the function it is in (None: at
/// module level).
type Place = (usize, Option<usize>);

/// What a failure there costs, as FACTS' "Severity is a promise" says. At
/// import the backend does not start: a problem. In a request that request
/// fails (HTTP 500) and its server span still arrives, marked as an error:
/// a warning when that loses what the lab asks for (the lab's route, whose
/// manual span is not made) or the telemetry the failing code sends, else
/// a note.
fn finding(reach: &Reach, place: Place, id: CheckId, when: When, message: String) -> Finding {
    let entry = match when {
        When::Import => return Finding::fail(id, Layer::Code, message),
        When::Request(entry) => entry,
    };
    // A hook such as after_request runs in every request, the lab's too.
    let entry = reach.function(entry);
    let on_lab_route = entry
        .routes
        .iter()
        .any(|path| path == crate::rules::lab::ROUTE)
        || entry.decorators.iter().any(|d| {
            let hook = d.rsplit('.').next().unwrap_or(d);
            EVERY_REQUEST_HOOKS.contains(&hook)
        });
    let sends_telemetry = place.1.is_some_and(|function| {
        reach
            .file_calls(place.0)
            .iter()
            .any(|call| call.function == Some(function) && TELEMETRY_CALLS.contains(&call.method()))
    });
    if on_lab_route || sends_telemetry {
        Finding::warn(id, Layer::Code, message)
    } else {
        Finding::info(id, Layer::Code, message)
    }
}

/// `data = HomeActivities.run` in code that runs: a project function with
/// nothing to pass, assigned instead of called, and its name never called
/// after (which would make the assignment on purpose).
fn check_callable_values(reach: &Reach, index: usize, file: &PyFile, out: &mut Vec<Finding>) {
    for a in &file.facts.assignments {
        let Value::Ref(name) = &a.value else {
            continue;
        };
        if a.function.is_none() {
            // At module level `alias = f` is how a name is shared.
            continue;
        }
        let as_call = Call {
            name: name.clone(),
            line: a.line,
            args: Vec::new(),
            arg_lines: Vec::new(),
            keywords: Vec::new(),
            keyword_lines: Vec::new(),
            function: a.function,
            in_span_block: false,
            guarded: false,
            unpacks: false,
        };
        let Some(target) = reach.target(index, &as_call) else {
            continue;
        };
        let function = reach.function(target.function);
        let plain = function
            .decorators
            .iter()
            .all(|d| d == "staticmethod" || d == "classmethod");
        let params = &function.params;
        let required = params
            .positional
            .len()
            .saturating_sub(params.defaults)
            .saturating_sub(target.bound);
        let called_later = file
            .facts
            .calls
            .iter()
            .any(|c| c.function == a.function && c.name == a.target);
        if !plain || required > 0 || !params.required_keywords.is_empty() || called_later {
            continue;
        }
        let Some(when) = reach.when(index, a.function) else {
            continue;
        };
        let found = finding(
            reach,
            (index, a.function),
            CheckId::PythonCallableNotCalled,
            when,
            format!(
                "{}: `{} = {name}` assigns the function, not its result (no parentheses): whatever uses `{}` gets the function itself ({}), and {name} never runs",
                at(file, a.line),
                a.target,
                a.target,
                consequence(reach, file, when, "TypeError")
            ),
        );
        let fix = format!("{}: call it: {name}()", at(file, a.line));
        out.push(match Edit::call(&file.path, a.line, name) {
            Some(edit) => found.edit(edit).fix(fix),
            None => found.fix(fix),
        });
    }
}

/// `finding` with `fix` as its advice and, when the line holds the name
/// once, the rename as its edit.
fn renamed(
    finding: Finding,
    file: &PyFile,
    line: usize,
    (from, to): (&str, &str),
    fix: String,
) -> Finding {
    match Edit::rename(&file.path, line, from, to) {
        Some(edit) => finding.edit(edit).fix(fix),
        None => finding.fix(fix),
    }
}

/// `from m import X` where m has no X but a name X is a typo of: the
/// name meant.
fn misspelt_import(import: &ImportedName) -> Option<&'static str> {
    let name = import.imported.as_deref()?;
    let module = python_modules::table().module(&import.module)?;
    if module.offers(name) {
        return None;
    }
    module.near_name(name)
}

/// The name the module can see that is nearest to `name` (a typo or a
/// plural away), and the file it is bound in.
fn nearest_name(reach: &Reach, file: usize, name: &str) -> Option<(String, usize)> {
    let limit = (name.len() / 4).clamp(1, 3);
    reach
        .visible_names(file)
        .into_iter()
        .filter(|(n, _)| n != name)
        .map(|(n, module)| (crate::rules::names::edit_distance(&n, name), n, module))
        .filter(|(distance, _, _)| *distance <= limit)
        .min_by_key(|(distance, n, _)| (*distance, n.clone()))
        .map(|(_, n, module)| (n, module))
}

/// One finding per name and file: each use is the same missing binding,
/// and one import or definition fixes them all. The first use that stops
/// the backend (at import) leads, else the first that runs.
fn check_undefined_names(
    ctx: &Context,
    reach: &Reach,
    index: usize,
    file: &PyFile,
    out: &mut Vec<Finding>,
) {
    let mut names: Vec<&str> = Vec::new();
    for undefined in &file.facts.undefined_names {
        if !names.contains(&undefined.name.as_str()) {
            names.push(&undefined.name);
        }
    }
    for name in names {
        // The name a misspelt import meant: the import fails first, and its
        // finding renames it there.
        if file
            .facts
            .imported_names
            .iter()
            .filter_map(misspelt_import)
            .any(|meant| meant == name)
        {
            continue;
        }
        // Under a star import, unbound only if no star-imported module of
        // the project binds it (and every star import is the project's).
        if file
            .facts
            .undefined_names
            .iter()
            .any(|u| u.name == name && u.unless_star)
            && reach.star_binds(index, name) != Some(false)
        {
            continue;
        }
        // The app used by the middleware or the instrumentation before it
        // is made: code-xray-middleware-order and
        // code-flask-instrumentation-order name that, with its fix.
        let explained = |u: &UndefinedName| {
            file.facts.top_level_names.contains(&u.name)
                && file.facts.calls.iter().any(|c| {
                    c.line == u.line
                        && (c.name == "XRayMiddleware" || c.method() == "instrument_app")
                })
        };
        let uses: Vec<(&UndefinedName, When)> = file
            .facts
            .undefined_names
            .iter()
            .filter(|u| u.name == name && !explained(u))
            .filter_map(|u| Some((u, reach.when(index, u.function)?)))
            .collect();
        let Some(&(first, when)) = uses
            .iter()
            .find(|(_, w)| *w == When::Import)
            .or_else(|| uses.first())
        else {
            continue;
        };
        let mut others: Vec<usize> = uses
            .iter()
            .filter(|(u, _)| u.line != first.line)
            .map(|(u, _)| u.line)
            .collect();
        others.sort_unstable();
        others.dedup();
        let also = match others.as_slice() {
            [] => String::new(),
            [one] => format!(" (also used at line {one})"),
            lines => {
                let lines: Vec<String> = lines.iter().map(usize::to_string).collect();
                format!(" (also used at lines {})", lines.join(", "))
            }
        };
        let (error, why) = if first.unbound_local {
            (
                "UnboundLocalError",
                format!(
                    "`{name}` is assigned later in the same function, so here it is an unbound local{also}"
                ),
            )
        } else {
            ("NameError", format!("nothing binds `{name}` here{also}"))
        };
        let commented = file
            .facts
            .commented_bindings
            .iter()
            .find(|c| c.names.iter().any(|n| n == name));
        let found = finding(
            reach,
            (index, first.function),
            CheckId::PythonUndefinedName,
            when,
            format!(
                "{}: {why}: {}",
                at(file, first.line),
                consequence(reach, file, when, error)
            ),
        );
        // A near name the module can see: `ShowActivity` for the class
        // `ShowActivities` a star import gives.
        let near = (!first.unbound_local && commented.is_none())
            .then(|| nearest_name(reach, index, name))
            .flatten();
        if let Some((meant, module)) = near {
            let fix = format!(
                "{}: did you mean `{meant}` (bound in {})?",
                at(file, first.line),
                reach.file_path(module).display()
            );
            out.push(renamed(found, file, first.line, (name, &meant), fix));
            continue;
        }
        // The import of a backend the code has switched off (X-Ray with its
        // configure and middleware commented out): uncommenting it would
        // switch that backend half on; the student chooses.
        let switched_off = commented
            .and_then(|c| backend_of_import(&c.code))
            .filter(|b| !ctx.uses(*b));
        if let (Some(c), Some(backend)) = (commented, switched_off) {
            out.push(found.fix(format!(
                "{} is off in this backend ({} is commented out): comment out {} as well, or uncomment {} and the rest of its set-up to switch it back on",
                backend.name(),
                at(file, c.line),
                at(file, first.line),
                at(file, c.line)
            )));
            continue;
        }
        let fix = match commented {
            Some(c) => format!("uncomment {} (`{}`)", at(file, c.line), c.code),
            None if first.unbound_local => format!(
                "{}: use another name for the local, or declare `global {name}` at the top of the function",
                at(file, first.line)
            ),
            None => format!(
                "{}: import or define `{name}` before this line runs (a typo? Python names are case-sensitive)",
                at(file, first.line)
            ),
        };
        // Uncommenting is an edit a program can make: the line, as code,
        // at the indentation the comment had.
        let uncomment = commented.and_then(|c| Edit::uncomment(&file.path, c.line));
        out.push(match uncomment {
            Some(edit) => found.edit(edit).fix(fix),
            None => found.fix(fix),
        });
    }
}

fn check_arity(reach: &Reach, index: usize, file: &PyFile, out: &mut Vec<Finding>) {
    for call in &file.facts.calls {
        if call.unpacks {
            continue;
        }
        let Some(when) = reach.when(index, call.function) else {
            continue;
        };
        let Some(target) = reach.target(index, call) else {
            continue;
        };
        let function = reach.function(target.function);
        // A decorator may change what the function takes.
        if function
            .decorators
            .iter()
            .any(|d| d != "staticmethod" && d != "classmethod")
        {
            continue;
        }
        let Some(why) = misfit(call, function, target.bound) else {
            continue;
        };
        let defined = at(reach.file(target.function), function.line);
        let signature = signature(function, target.bound);
        out.push(
            finding(
                reach,
                (index, call.function),
                CheckId::PythonCallArity,
                when,
                format!(
                    "{}: {why} (defined at {defined}): {}",
                    at(file, call.line),
                    consequence(reach, file, when, "TypeError")
                ),
            )
            .fix(format!(
                "{}: call it as {}({signature}), or change the def at {defined}",
                at(file, call.line),
                function.name
            )),
        );
    }
}

/// What a callee is in the installed packages, when its first name is an
/// import the file never rebinds: `trace.get_tracer` is
/// `opentelemetry.trace.get_tracer`, `FlaskInstrumentor().instrument_app`
/// is `opentelemetry.instrumentation.flask.FlaskInstrumentor().instrument_app`.
/// A name bound once, from a call of such a class (`provider =
/// TracerProvider()`), stands for its instance: `provider.add_span_processor`
/// is `opentelemetry.sdk.trace.TracerProvider().add_span_processor`.
fn library_path(file: &PyFile, callee: &str, function: Option<usize>) -> Option<String> {
    let (head, rest) = match callee.split_once('.') {
        Some((head, rest)) => (head, Some(rest)),
        None => (callee, None),
    };
    let name = head.trim_end_matches("()");
    let called = &head[name.len()..];
    let rest = rest.map(|r| format!(".{r}")).unwrap_or_default();
    if let Some(import) = import_named(file, name, function) {
        return Some(format!("{}{called}{rest}", import.target));
    }
    let bindings: Vec<&crate::workspace::python::Assignment> = file
        .facts
        .assignments
        .iter()
        .filter(|a| a.target == name)
        .collect();
    let imported = file.facts.imported_names.iter().any(|i| i.name == name);
    match bindings.as_slice() {
        // One binding, from a call of a library class, and nothing else
        // named so: the name is that class's instance.
        [binding]
            if !imported
                && !defined_in_scope(file, name, function)
                && called.is_empty()
                && !rest.is_empty()
                && (binding.function.is_none() || binding.function == function) =>
        {
            let Value::Call(class, _) = &binding.value else {
                return None;
            };
            let class = library_path(file, class, binding.function)?;
            library::signature(&class)?;
            Some(format!("{class}(){rest}"))
        }
        _ => None,
    }
}

/// The import that `name` stands for in `function` (None: at module
/// level): one the function sees, where every import of that name binds
/// the same thing and no assignment, def or parameter binds it to another
/// object.
fn import_named<'f>(
    file: &'f PyFile,
    name: &str,
    function: Option<usize>,
) -> Option<&'f crate::workspace::python::ImportedName> {
    let imports = || file.facts.imported_names.iter().filter(|i| i.name == name);
    let import = imports().find(|i| i.function.is_none() || i.function == function)?;
    let rebound = imports().any(|i| i.target != import.target)
        || file.facts.assignments.iter().any(|a| a.target == name)
        || defined_in_scope(file, name, function);
    (!rebound).then_some(import)
}

/// A module-level def of that name, or a parameter of the function the
/// name is read in: another object than any import of it.
fn defined_in_scope(file: &PyFile, name: &str, function: Option<usize>) -> bool {
    let parameter = function.is_some_and(|f| {
        let params = &file.facts.functions[f].params;
        params
            .positional
            .iter()
            .chain(&params.keyword_only)
            .any(|p| p == name)
    });
    parameter
        || file
            .facts
            .functions
            .iter()
            .any(|f| f.name == name && f.class.is_none())
}

/// A call of a library callable: what the signature table says of it.
struct LibraryCall<'a> {
    call: &'a Call,
    path: String,
    callable: library::Signature,
}

/// The file's calls of library callables, looked up once for every check
/// that judges them (with *args or **kwargs, how many is not known).
fn library_calls(file: &PyFile) -> Vec<LibraryCall<'_>> {
    file.facts
        .calls
        .iter()
        .filter(|c| !c.unpacks)
        .filter_map(|call| {
            let path = library_path(file, &call.name, call.function)?;
            let callable = library::signature(&path)?;
            Some(LibraryCall {
                call,
                path,
                callable,
            })
        })
        .collect()
}

/// A library callable (the packages' public API, at the table's pins)
/// called with arguments it does not take: CPython's TypeError at the call.
/// Unpinned, a newer release may take a keyword the table lacks: a keyword
/// it does not know is judged only when it is near one it does (a typo) or
/// the package is pinned to the table's version.
fn check_library_arity(
    ctx: &Context,
    reach: &Reach,
    index: usize,
    file: &PyFile,
    library: &[LibraryCall],
    out: &mut Vec<Finding>,
) {
    let pins = ctx.requirement_pins();
    for LibraryCall {
        call,
        path,
        callable,
    } in library
    {
        let Some(why) = misfit_params(call, callable.name, &callable.params, callable.bound) else {
            continue;
        };
        let root = path.split('.').next().unwrap_or("");
        if !judged_root(root, pins) {
            continue;
        }
        let unknown = call
            .keywords
            .iter()
            .zip(&call.keyword_lines)
            .find(|((keyword, _), _)| !callable.accepts_keyword(keyword));
        let meant = unknown.and_then(|((keyword, _), _)| callable.near_keyword(keyword));
        if unknown.is_some() && meant.is_none() && !exactly_pinned(root, pins) {
            continue;
        }
        let Some(when) = reach.when(index, call.function) else {
            continue;
        };
        let found = finding(
            reach,
            (index, call.function),
            CheckId::PythonCallArity,
            when,
            format!(
                "{}: {why} ({}): {}",
                at(file, call.line),
                python_modules::table().at_pin(distribution_of(path)),
                consequence(reach, file, when, "TypeError")
            ),
        );
        let class = call.name.rsplit_once('.').map(|(class, _)| class);
        out.push(match (unknown, meant, class) {
            (Some(((keyword, _), line)), Some(meant), _) => found.edit_or(
                Edit::rename(&file.path, *line, keyword, meant),
                format!("{}: did you mean `{meant}=`?", at(file, *line)),
            ),
            // `RequestsInstrumentor.instrument()`: the method of an
            // instance the call never made.
            (_, _, Some(class)) if callable.through_class => {
                let made = path
                    .rsplit_once('.')
                    .and_then(|(class_path, _)| library::signature(class_path))
                    .is_some_and(|c| c.takes_no_argument());
                let method = &call.name[class.len()..];
                let fix = format!(
                    "{}: call it on an instance: {class}(){method}(...)",
                    at(file, call.line)
                );
                let edit = made
                    .then(|| {
                        Edit::rename(
                            &file.path,
                            call.line,
                            &call.name,
                            &format!("{class}(){method}"),
                        )
                    })
                    .flatten();
                found.edit_or(edit, fix)
            }
            _ => found.fix(format!(
                "{}: call it as {}({})",
                at(file, call.line),
                call.name,
                signature_of(&callable.params, callable.bound)
            )),
        });
    }
}

/// The SDKs whose components a class given for an instance breaks: what
/// they set up then exports nothing.
const TELEMETRY_ROOTS: &[&str] = &["opentelemetry", "aws_xray_sdk"];

/// A class of the packages given to a telemetry SDK where its annotation
/// asks for an instance (`BatchSpanProcessor(OTLPSpanExporter)`, no
/// parentheses): the SDK calls its methods with no instance to bind, each
/// call raises TypeError, and what it should do for each span is never
/// done.
fn check_classes_given_for_instances(
    reach: &Reach,
    index: usize,
    file: &PyFile,
    library: &[LibraryCall],
    out: &mut Vec<Finding>,
) {
    for LibraryCall {
        call,
        path,
        callable: callee,
    } in library
    {
        let root = path.split('.').next().unwrap_or("");
        if !TELEMETRY_ROOTS.contains(&root) {
            continue;
        }
        let positional = call
            .args
            .iter()
            .zip(&call.arg_lines)
            .enumerate()
            .filter_map(|(i, arg)| {
                Some((
                    callee.params.positional.get(callee.bound + i)?.as_str(),
                    arg,
                ))
            });
        let keywords = call
            .keywords
            .iter()
            .zip(&call.keyword_lines)
            .map(|((keyword, value), line)| (keyword.as_str(), (value, line)));
        for (param, (value, line)) in positional.chain(keywords) {
            let Value::Ref(given) = value else {
                continue;
            };
            let Some((_, wanted)) = callee.annotations.iter().find(|(p, _)| p == param) else {
                continue;
            };
            let class =
                library_path(file, given, call.function).and_then(|p| library::signature(&p));
            let Some(class) = class.filter(|c| c.is_a.contains(wanted)) else {
                continue;
            };
            let Some(when) = reach.when(index, call.function) else {
                continue;
            };
            let short = wanted.rsplit('.').next().unwrap_or(wanted);
            let found = finding(
                reach,
                (index, call.function),
                CheckId::PythonCallableNotCalled,
                when,
                format!(
                    "{}: `{given}` is the class itself, given to {}() as {param} where a {short} instance is asked: each call the SDK makes on it raises TypeError (no instance to bind self), so what it should do for every span is never done",
                    at(file, *line),
                    callee.name.trim_end_matches(".__init__"),
                ),
            );
            let fix = format!("{}: pass an instance, `{given}()`", at(file, *line));
            let edit = class
                .takes_no_argument()
                .then(|| Edit::call(&file.path, *line, given))
                .flatten();
            out.push(found.edit_or(edit, fix));
        }
    }
}

/// The distribution that holds a dotted path: the one of its longest
/// prefix the table has as a module (in a namespace such as
/// `opentelemetry`, the part's own), else the one distribution of its
/// top-level package, else that package's name.
fn distribution_of(path: &str) -> &str {
    let table = python_modules::table();
    let mut prefix = path;
    loop {
        if let Some(module) = table.module(prefix) {
            return module.distribution;
        }
        match prefix.rsplit_once('.') {
            Some((shorter, _)) => prefix = shorter,
            None => {
                let root = path.split('.').next().unwrap_or(path);
                return table.sole_distribution(root).unwrap_or(root);
            }
        }
    }
}

fn check_never_called(reach: &Reach, index: usize, file: &PyFile, out: &mut Vec<Finding>) {
    for (function_index, function) in file.facts.functions.iter().enumerate() {
        let id: FunctionId = (index, function_index);
        // A decorator registers or wraps it: something we do not see calls it.
        if reach.is_reached(id) || !function.decorators.is_empty() || function.class.is_some() {
            continue;
        }
        // Only its own statements: a nested function has its own verdict.
        let setup = file
            .facts
            .calls
            .iter()
            .filter(|c| c.function == Some(function_index))
            .find_map(|c| {
                SETUP_CALLS
                    .iter()
                    .find(|(name, _)| c.name == *name || c.method() == *name)
                    .map(|(_, lost)| (c, *lost))
            });
        let Some((call, lost)) = setup else {
            continue;
        };
        // The parent never runs either: reported there, if it sets up.
        if function
            .parent
            .is_some_and(|p| !reach.is_reached((index, p)))
        {
            continue;
        }
        let finding = Finding::fail(
            CheckId::PythonNeverCalled,
            Layer::Code,
            format!(
                "{}: {}() holds {} ({}) but nothing calls it: {lost}",
                at(file, function.line),
                function.name,
                call.name,
                at(file, call.line)
            ),
        );
        out.push(finding.edit_or(
            call_site(file, function),
            format!(
                "call {}({}) once, after the app is created in {}",
                function.name,
                signature(function, 0),
                file.path.display()
            ),
        ));
    }
}

/// Parameters an init function takes the Flask app by.
const APP_PARAMETERS: &[&str] = &["app", "flask_app", "application"];

/// Where and how to call a function nothing calls: after its def (or after
/// the app is created, if it takes the app), with arguments that are bound
/// there. None when an argument has nothing to be.
fn call_site(file: &PyFile, function: &Function) -> Option<Edit> {
    let app = file.facts.assignments.iter().find(|a| {
        a.module_level
            && matches!(&a.value, Value::Call(callee, _) if callee == "Flask" || callee.ends_with(".Flask"))
    });
    let mut needs_app = false;
    let mut args = Vec::new();
    let params = &function.params;
    if !params.required_keywords.is_empty() {
        return None;
    }
    for param in &params.positional[..params.positional.len() - params.defaults] {
        match app {
            Some(app) if APP_PARAMETERS.contains(&param.as_str()) || *param == app.target => {
                needs_app = true;
                args.push(app.target.clone());
            }
            _ => return None,
        }
    }
    let after_def = function.end_line + 1;
    let after_app = app.filter(|_| needs_app).map(|a| a.end_line + 1);
    let (line, indent) = match after_app {
        Some(line) if line > after_def => (line, String::new()),
        _ => (after_def, Edit::indent_of(&file.path, function.line)),
    };
    Some(Edit::insert(
        &file.path,
        line,
        format!("{indent}{}({})", function.name, args.join(", ")),
    ))
}

/// Whether the table may judge imports under this top-level package: it
/// knows the package, and the workspace installs it at the table's
/// versions (a different pin may have other modules). For a namespace
/// (opentelemetry), every distribution of it in requirements.txt must be
/// one the table was made from.
fn judged_root(root: &str, pins: &[(String, Option<String>)]) -> bool {
    let table = python_modules::table();
    if !table.exists(root) {
        return false;
    }
    let same_version = |distribution: &str| {
        pins.iter()
            .filter(|(name, _)| name == distribution)
            .all(|(_, pin)| {
                pin.as_deref()
                    .is_none_or(|v| table.versions.get(distribution) == Some(&v))
            })
    };
    match table.sole_distribution(root) {
        Some(distribution) => same_version(distribution),
        None => {
            let family = format!("{}-", root.replace('_', "-"));
            pins.iter()
                .filter(|(name, _)| name.starts_with(&family))
                .all(|(name, _)| table.versions.contains_key(name.as_str()) && same_version(name))
        }
    }
}

/// Whether requirements.txt pins the package to the table's very version:
/// then the table is the truth about its modules. Unpinned, pip installs
/// the latest, which may have modules the table does not.
fn exactly_pinned(root: &str, pins: &[(String, Option<String>)]) -> bool {
    let table = python_modules::table();
    let pinned = |distribution: &str| {
        pins.iter().any(|(name, pin)| {
            name == distribution && pin.as_deref() == table.versions.get(distribution).copied()
        })
    };
    match table.sole_distribution(root) {
        Some(distribution) => pinned(distribution),
        None => {
            let family = format!("{}-", root.replace('_', "-"));
            let mut names = pins
                .iter()
                .filter(|(name, _)| name.starts_with(&family))
                .peekable();
            names.peek().is_some() && names.all(|(name, _)| pinned(name))
        }
    }
}

fn check_imports(
    ctx: &Context,
    reach: &Reach,
    index: usize,
    file: &PyFile,
    out: &mut Vec<Finding>,
) {
    let table = python_modules::table();
    let pins = ctx.requirement_pins();
    let mut reported: Vec<usize> = Vec::new();
    for import in &file.facts.imported_names {
        if import.module.starts_with('.') || reported.contains(&import.line) {
            continue;
        }
        let Some(when) = reach.when(index, import.function) else {
            continue;
        };
        let root = import.module.split('.').next().unwrap_or("");
        if !judged_root(root, pins) {
            continue;
        }
        let version = |module: &str| table.at_pin(distribution_of(module));
        // The first prefix of the dotted path that is not a module.
        let parts: Vec<&str> = import.module.split('.').collect();
        let missing = (1..=parts.len())
            .map(|n| parts[..n].join("."))
            .find(|prefix| !table.exists(prefix));
        // A typo of a name the module has: renamed where it stands (an
        // alias, or other names on the line, kept).
        let mut rename: Option<(&str, &str)> = None;
        let mut module_rename: Option<&str> = None;
        let (error, what, fix) = if let Some(missing) = missing {
            // A typo of a module that exists beside it: renamed in place,
            // every name the line imports kept.
            if missing == import.module {
                let names: Vec<&str> = file
                    .facts
                    .imported_names
                    .iter()
                    .filter(|i| i.line == import.line && i.module == import.module)
                    .filter_map(|i| i.imported.as_deref())
                    .collect();
                if let Some(meant) = table.near_module(&missing, &names) {
                    module_rename = Some(meant);
                }
            }
            let last = missing.rsplit('.').next().unwrap_or(&missing);
            let wanted = import.imported.as_deref();
            let instead = wanted
                .and_then(|name| {
                    table
                        .modules_offering(name)
                        .first()
                        .map(|m| format!("from {m} import {name}"))
                })
                .or_else(|| {
                    table
                        .modules_ending(last)
                        .first()
                        .map(|m| format!("import {m}"))
                });
            (
                "ModuleNotFoundError",
                format!("no module named '{missing}' in {}", version(&missing)),
                instead,
            )
        } else if let Some(name) = &import.imported {
            let offered = table.module(&import.module).is_some_and(|m| m.offers(name))
                || table.exists(&format!("{}.{name}", import.module));
            if offered {
                continue;
            }
            rename = misspelt_import(import).map(|meant| (name.as_str(), meant));
            let instead = table
                .modules_offering(name)
                .first()
                .map(|m| format!("from {m} import {name}"))
                .filter(|_| rename.is_none());
            (
                "ImportError",
                format!(
                    "cannot import name '{name}' from '{}' ({})",
                    import.module,
                    version(&import.module)
                ),
                instead,
            )
        } else {
            continue;
        };
        // Not pinned to the table's version, a module or name the table
        // lacks may be new: judged only when the table knows where the
        // imported name does live.
        if fix.is_none()
            && rename.is_none()
            && module_rename.is_none()
            && !exactly_pinned(root, pins)
        {
            continue;
        }
        reported.push(import.line);
        // One name on a line of its own: the line is the statement, and the
        // one that works replaces it.
        let alone = file
            .facts
            .imported_names
            .iter()
            .filter(|i| i.line == import.line)
            .count()
            == 1;
        let edit = fix.as_ref().filter(|_| alone).and_then(|statement| {
            let edit = Edit::replace(&file.path, import.line, "")?;
            let old = edit.old.trim();
            let whole = old.starts_with("from ") || old.starts_with("import ");
            (whole && !old.ends_with('(') && !old.ends_with('\\')).then(|| Edit {
                new: format!("{}{statement}", edit.indent()),
                ..edit
            })
        });
        let found = finding(
            reach,
            (index, import.function),
            CheckId::PythonImport,
            when,
            format!(
                "{}: {what}: {}",
                at(file, import.line),
                consequence(reach, file, when, error)
            ),
        );
        if let Some(meant) = module_rename {
            let fix = format!("{}: did you mean `{meant}`?", at(file, import.line));
            out.push(
                match Edit::rename(&file.path, import.line, &import.module, meant) {
                    Some(edit) => found.edit(edit).fix(fix),
                    None => found.fix(fix),
                },
            );
            continue;
        }
        if let Some((name, meant)) = rename {
            let fix = format!("{}: did you mean `{meant}`?", at(file, import.line));
            out.push(renamed(found, file, import.line, (name, meant), fix));
            continue;
        }
        out.push(match (edit, fix) {
            (Some(edit), _) => found.edit(edit),
            (None, Some(statement)) => found.fix(format!("{}: {statement}", at(file, import.line))),
            (None, None) => found.fix(format!(
                "{}: check the module path in the package's documentation (pip show -f {} lists its files)",
                at(file, import.line),
                version(root).split(' ').next().unwrap_or(root)
            )),
        });
    }
}

/// `trace.getTracer(...)`: a call through an imported module of a name
/// the module does not have, where the call runs: AttributeError.
fn check_module_attributes(
    ctx: &Context,
    reach: &Reach,
    index: usize,
    file: &PyFile,
    out: &mut Vec<Finding>,
) {
    let table = python_modules::table();
    let pins = ctx.requirement_pins();
    let mut reported: Vec<usize> = Vec::new();
    for call in &file.facts.calls {
        let Some((head, path)) = call.name.split_once('.') else {
            continue;
        };
        // The name is the module only where nothing in the file rebinds it.
        let Some(import) = import_named(file, head, call.function) else {
            continue;
        };
        if reported.contains(&call.line) {
            continue;
        }
        // Down the dotted path while it names modules; the next part is
        // what the last module is asked for.
        let mut module = import.target.clone();
        let mut attribute = None;
        // `head.path` up to the end of the part read last.
        let mut written = head.len();
        for part in path.split('.') {
            if !table.exists(&module) {
                break;
            }
            written += 1 + part.len();
            let submodule = format!("{module}.{part}");
            if table.exists(&submodule) {
                module = submodule;
            } else {
                attribute = Some(part);
                break;
            }
        }
        let (Some(attribute), Some(entry)) = (attribute, table.module(&module)) else {
            continue;
        };
        let root = module.split('.').next().unwrap_or("");
        if entry.offers(attribute) || !judged_root(root, pins) {
            continue;
        }
        let meant = entry.near_name(attribute);
        if meant.is_none() && !exactly_pinned(root, pins) {
            continue;
        }
        let Some(when) = reach.when(index, call.function) else {
            continue;
        };
        reported.push(call.line);
        let version = table.at_pin(entry.distribution);
        let found = finding(
            reach,
            (index, call.function),
            CheckId::PythonModuleAttribute,
            when,
            format!(
                "{}: module '{module}' has no attribute '{attribute}' ({version}): {}",
                at(file, call.line),
                consequence(reach, file, when, "AttributeError")
            ),
        );
        let written = &call.name[..written];
        out.push(match meant {
            Some(meant) => {
                let fix = format!("{}: did you mean `{meant}`?", at(file, call.line));
                let right = format!("{}{meant}", &written[..written.len() - attribute.len()]);
                found.edit_or(Edit::rename(&file.path, call.line, written, &right), fix)
            }
            None => found.fix(format!(
                "{}: check the name in the package's documentation (python -c 'import {module}; print(dir({module}))' lists what it has)",
                at(file, call.line)
            )),
        });
    }
}

/// The backend whose SDK an import line brings in.
fn backend_of_import(code: &str) -> Option<crate::backend::Backend> {
    use crate::backend::Backend;
    [
        ("aws_xray_sdk", Backend::Xray),
        ("watchtower", Backend::Cloudwatch),
        ("rollbar", Backend::Rollbar),
    ]
    .into_iter()
    .find(|(module, _)| code.contains(module))
    .map(|(_, backend)| backend)
}

#[cfg(test)]
mod tests {
    use super::super::testing::{SHELL, check, replace};
    use crate::doctor::finding::{CheckId, Status};

    /// At import the backend does not start; in a request on the lab's
    /// route the lab's span is lost: a warning.
    #[test]
    fn a_name_error_is_as_grave_as_where_it_runs() {
        let at_import = check(
            "honeycomb",
            replace(
                "backend-flask/app.py",
                "app = Flask(__name__)",
                "app = Flask(__name__)\nundefined_at_import()",
            ),
            SHELL,
        );
        at_import.one(CheckId::PythonUndefinedName, Status::Fail);
        let on_the_lab_route = check(
            "honeycomb",
            replace(
                "backend-flask/services/home_activities.py",
                "            return results",
                "            return resuls",
            ),
            SHELL,
        );
        on_the_lab_route.one(CheckId::PythonUndefinedName, Status::Warn);
    }

    /// A function assigned where its result was meant, on the lab's route:
    /// the lab's span is never made, a warning with the call as its edit.
    #[test]
    fn a_function_assigned_instead_of_called_is_named_with_the_call() {
        let checked = check(
            "honeycomb",
            replace(
                "backend-flask/app.py",
                "    return jsonify(HomeActivities.run()), 200",
                "    data = HomeActivities.run\n    return jsonify(data), 200",
            ),
            SHELL,
        );
        let edit = checked.edit(CheckId::PythonCallableNotCalled, Status::Warn);
        assert_eq!(edit.new.trim(), "data = HomeActivities.run()");
        // Called later, the same assignment is on purpose.
        let on_purpose = check(
            "honeycomb",
            replace(
                "backend-flask/app.py",
                "    return jsonify(HomeActivities.run()), 200",
                "    data = HomeActivities.run\n    return jsonify(data()), 200",
            ),
            SHELL,
        );
        assert!(
            !on_purpose
                .findings
                .iter()
                .any(|f| f.id == CheckId::PythonCallableNotCalled)
        );
    }

    /// A library callable called with arguments it does not take, at import:
    /// CPython's TypeError, and the backend does not start. A keyword one
    /// letter off is renamed to the parameter; a missing argument is told
    /// with the call's shape; a method is known through the name its
    /// instance is bound to.
    #[test]
    fn a_library_call_with_arguments_it_does_not_take_is_a_type_error() {
        let misspelt = check(
            "honeycomb",
            replace(
                "backend-flask/app.py",
                "TracerProvider(resource=",
                "TracerProvider(resouce=",
            ),
            SHELL,
        );
        let found = misspelt.one(CheckId::PythonCallArity, Status::Fail);
        assert!(
            found.message.contains(
                "TracerProvider.__init__() got an unexpected keyword argument 'resouce' (opentelemetry-sdk 1.45.1)"
            ),
            "{}",
            found.message
        );
        let edit = misspelt.edit(CheckId::PythonCallArity, Status::Fail);
        assert!(
            edit.new.contains("TracerProvider(resource="),
            "{}",
            edit.new
        );

        let missing = check(
            "honeycomb,xray",
            replace(
                "backend-flask/app.py",
                "XRayMiddleware(app, xray_recorder)",
                "XRayMiddleware(app)",
            ),
            SHELL,
        );
        let found = missing.one(CheckId::PythonCallArity, Status::Fail);
        assert!(
            found.message.contains(
                "XRayMiddleware.__init__() missing 1 required positional argument: 'recorder'"
            ),
            "{}",
            found.message
        );
        let fix = found.fix.as_deref().unwrap_or_default();
        assert!(
            fix.contains("call it as XRayMiddleware(app, recorder)"),
            "{fix}"
        );

        let method = check(
            "honeycomb",
            replace(
                "backend-flask/app.py",
                "provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))",
                "provider.add_span_processor()",
            ),
            SHELL,
        );
        let found = method.one(CheckId::PythonCallArity, Status::Fail);
        assert!(
            found.message.contains(
                "TracerProvider.add_span_processor() missing 1 required positional argument: 'span_processor'"
            ),
            "{}",
            found.message
        );

        // A method called on the class, not an instance: nothing binds self.
        let on_the_class = check(
            "honeycomb",
            replace(
                "backend-flask/app.py",
                "RequestsInstrumentor().instrument()",
                "RequestsInstrumentor.instrument()",
            ),
            SHELL,
        );
        let found = on_the_class.one(CheckId::PythonCallArity, Status::Fail);
        assert!(
            found.message.contains(
                "BaseInstrumentor.instrument() missing 1 required positional argument: 'self'"
            ),
            "{}",
            found.message
        );
        let edit = on_the_class.edit(CheckId::PythonCallArity, Status::Fail);
        assert_eq!(edit.new.trim(), "RequestsInstrumentor().instrument()");
    }

    /// A name stands for a library object only where the call runs sees
    /// that binding: a parameter of the same name is another object.
    #[test]
    fn a_library_path_is_what_the_name_is_bound_to_where_the_call_runs() {
        let source = "from opentelemetry.sdk.trace import TracerProvider as TP\n\
                      provider = TP()\n\
                      provider.add_span_processor(1)\n\
                      def f(provider):\n    provider.add_span_processor(1)\n\
                      def g():\n    TP().shutdown()\n";
        let file = crate::workspace::python::PyFile::parse(std::path::Path::new("app.py"), source);
        let paths: Vec<Option<String>> = file
            .facts
            .calls
            .iter()
            .map(|c| super::library_path(&file, &c.name, c.function))
            .collect();
        let class = "opentelemetry.sdk.trace.TracerProvider";
        assert_eq!(
            paths,
            [
                Some(class.to_string()),
                Some(format!("{class}().add_span_processor")),
                None,
                Some(format!("{class}().shutdown")),
                Some(class.to_string()),
            ]
        );
    }

    /// A class given to the SDK where its annotation asks an instance:
    /// nothing is exported, a problem at import, made an instance by the
    /// edit. A class where a class is meant is not judged.
    #[test]
    fn a_class_given_for_an_instance_is_made_one() {
        let checked = check(
            "honeycomb",
            replace(
                "backend-flask/app.py",
                "BatchSpanProcessor(OTLPSpanExporter())",
                "BatchSpanProcessor(OTLPSpanExporter)",
            ),
            SHELL,
        );
        let found = checked.one(CheckId::PythonCallableNotCalled, Status::Fail);
        assert!(
            found.message.contains("`OTLPSpanExporter` is the class itself, given to BatchSpanProcessor() as span_exporter"),
            "{}",
            found.message
        );
        // One cause, one problem: not also "no OTLP exporter is built".
        assert_eq!(
            checked.ids(Status::Fail),
            [CheckId::PythonCallableNotCalled]
        );
        let edit = checked.edit(CheckId::PythonCallableNotCalled, Status::Fail);
        assert!(
            edit.new.contains("BatchSpanProcessor(OTLPSpanExporter())"),
            "{}",
            edit.new
        );
        let healthy = check("honeycomb", super::super::testing::unchanged, SHELL);
        assert!(
            !healthy
                .findings
                .iter()
                .any(|f| f.id == CheckId::PythonCallableNotCalled)
        );
    }

    /// Unpinned, a newer release may take a keyword the table lacks: one
    /// near no parameter is not judged; pinned to the table's version it is.
    #[test]
    fn an_unknown_keyword_is_judged_only_at_the_table_pin() {
        let call = |requirement: &'static str| {
            check(
                "honeycomb",
                move |path: &str, text: String| match path {
                    "backend-flask/app.py" => text.replace(
                        "TracerProvider(resource=",
                        "TracerProvider(exporter_of_the_future=None, resource=",
                    ),
                    "backend-flask/requirements.txt" => {
                        text.replace("opentelemetry-sdk==1.45.1", requirement)
                    }
                    _ => text,
                },
                SHELL,
            )
        };
        let unpinned = call("opentelemetry-sdk");
        assert!(
            unpinned.ids(Status::Fail).is_empty(),
            "{:#?}",
            unpinned.findings
        );
        let pinned = call("opentelemetry-sdk==1.45.1");
        pinned.one(CheckId::PythonCallArity, Status::Fail);
    }

    /// `trace.getTracer(...)` at import: AttributeError, the backend does
    /// not start; renamed to the name the module has. A name the file
    /// rebinds is its own, and not judged.
    #[test]
    fn a_module_attribute_it_does_not_have_is_renamed_to_the_one_it_has() {
        let checked = check(
            "honeycomb",
            replace(
                "backend-flask/services/home_activities.py",
                "trace.get_tracer(",
                "trace.getTracer(",
            ),
            SHELL,
        );
        let finding = checked.one(CheckId::PythonModuleAttribute, Status::Fail);
        assert!(
            finding
                .message
                .contains("module 'opentelemetry.trace' has no attribute 'getTracer'"),
            "{}",
            finding.message
        );
        let edit = checked.edit(CheckId::PythonModuleAttribute, Status::Fail);
        assert!(
            edit.new.contains("trace.get_tracer(\"home.activities\")"),
            "{}",
            edit.new
        );
        assert_eq!(checked.ids(Status::Fail), [CheckId::PythonModuleAttribute]);
        let rebound = check(
            "honeycomb",
            replace(
                "backend-flask/services/home_activities.py",
                "tracer = trace.get_tracer(",
                "trace = object()\ntracer = trace.getTracer(",
            ),
            SHELL,
        );
        assert!(
            rebound.ids(Status::Fail).is_empty(),
            "{:?}",
            rebound.findings
        );
        // A parameter of the same name is whatever the caller passes.
        let parameter = check(
            "honeycomb",
            replace(
                "backend-flask/services/home_activities.py",
                "tracer = trace.get_tracer(\"home.activities\")",
                "class Tracing:\n    def getTracer(self, name):\n        return trace.get_tracer(name)\n\n\n\
                 def named(trace):\n    return trace.getTracer(\"home.activities\")\n\n\n\
                 tracer = named(Tracing())",
            ),
            SHELL,
        );
        assert!(
            parameter.ids(Status::Fail).is_empty() && parameter.ids(Status::Warn).is_empty(),
            "{:?}",
            parameter.findings
        );
    }

    /// A module missing inside a namespace package is said to be missing
    /// from the distribution that holds its nearest parent, at its pin, not
    /// from the namespace (which no distribution is named after).
    #[test]
    fn a_missing_module_names_the_distribution_of_its_parent() {
        let checked = check(
            "honeycomb",
            replace(
                "backend-flask/app.py",
                "opentelemetry.exporter.otlp.proto.http.trace_exporter import",
                "opentelemetry.exporter.otlp.proto.http.trace_exportr import",
            ),
            SHELL,
        );
        let finding = checked.one(CheckId::PythonImport, Status::Fail);
        assert!(
            finding
                .message
                .contains("in opentelemetry-exporter-otlp-proto-http 1."),
            "{}",
            finding.message
        );
    }

    /// A typo in an import: one problem, at the import, renamed there to
    /// the name the module has; the correct uses below are not echoes to
    /// "fix" into the typo.
    #[test]
    fn a_misspelt_import_is_renamed_at_the_import_and_nowhere_else() {
        let checked = check(
            "honeycomb",
            replace(
                "backend-flask/app.py",
                "from opentelemetry.instrumentation.flask import FlaskInstrumentor\n",
                "from opentelemetry.instrumentation.flask import FlaskInstrumenter\n",
            ),
            SHELL,
        );
        assert_eq!(checked.ids(Status::Fail), [CheckId::PythonImport]);
        let edit = checked.edit(CheckId::PythonImport, Status::Fail);
        assert_eq!(
            edit.new,
            "from opentelemetry.instrumentation.flask import FlaskInstrumentor"
        );
        assert!(edit.old.contains("FlaskInstrumenter"));
    }

    #[test]
    fn code_in_a_module_that_does_not_compile_is_named_once() {
        let checked = check(
            "honeycomb",
            replace(
                "backend-flask/services/home_activities.py",
                "            return results",
                "            return resuls\n  )",
            ),
            SHELL,
        );
        let finding = checked.one(CheckId::CodeSyntax, Status::Fail);
        assert!(finding.message.contains("`resuls`"), "{}", finding.message);
        assert!(
            !checked
                .findings
                .iter()
                .any(|f| f.id == CheckId::PythonUndefinedName)
        );
    }
}
