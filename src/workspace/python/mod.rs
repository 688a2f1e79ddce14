//! The backend's Python, read by a real parser (Ruff's), so that only live
//! code counts: not comments, not text inside strings, not statements after
//! `return` or under `if False:`.
//!
//! One walk of each file collects what the checks ask about: every live
//! call with its arguments and the function it runs in, the span `with`
//! blocks, X-Ray segments and subsegments left open on some path, and the
//! telemetry calls that can never run.

use std::path::{Path, PathBuf};

use ruff_python_ast::visitor::{self, Visitor};
use ruff_python_ast::{self as ast, Expr, Stmt};
use ruff_text_size::{Ranged, TextSize};

use crate::rules::otel_attributes::Kind;

pub mod arity;
pub mod library;
mod limits;
mod pyflakes;
pub mod reach;

/// Room for the walks of a module nested to CPython's limit, each level a
/// few frames: reserved, and only touched as deep as the module goes.
const WALK_STACK_BYTES: usize = 256 * 1024 * 1024;

/// A thread with room to parse on its own stack: `PyFile::parse` there
/// reserves no stack of its own. (Reserving, touching and unmapping 256 MB
/// per file was a twentieth of the reading thread's time.)
pub fn parsing_thread() -> std::thread::Builder {
    // The frames below the parse (the thread's start, the reader's loop)
    // come on top of the walk's room.
    std::thread::Builder::new().stack_size(WALK_STACK_BYTES + 1024 * 1024)
}

/// Builds what every parse shares on the calling thread: the linter's
/// settings (a regex, whose first compile also asks the system how many
/// cores it has). The doctor calls it on the main thread while the
/// reading thread reads the first file, which would otherwise build them
/// itself: 0.3 ms off a 3.5 ms doctor.
pub fn prepare() {
    pyflakes::prepare();
}

/// One parsed file.
#[derive(Debug, Clone)]
pub struct PyFile {
    pub path: PathBuf,
    pub syntax_error: Option<SyntaxError>,
    pub facts: Facts,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SyntaxError {
    pub line: usize,
    pub message: String,
}

/// A value as the checks need to see it: literal strings and names matter,
/// the rest is only "something".
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Str(String),
    /// A name or dotted attribute, not called: `key`, `now.isoformat`.
    Ref(String),
    /// A call: `os.getenv` for `os.getenv("X")`, with its first string argument.
    Call(String, Option<String>),
    Dict(Vec<(Option<String>, Value)>),
    /// A list or tuple display: `[{"a": 1}, ...]`.
    List(Vec<Value>),
    /// A number or bool literal: "int", "float" or "bool".
    Scalar(&'static str),
    Other,
}

impl Value {
    /// The type a literal shows; a name other than None, or a call, is
    /// Unknown.
    pub fn kind(&self) -> Kind {
        match self {
            Value::Str(_) => Kind::Str,
            Value::Scalar("int") => Kind::Int,
            Value::Scalar("float") => Kind::Float,
            Value::Scalar(_) => Kind::Bool,
            Value::Dict(_) => Kind::Mapping,
            Value::List(items) => Kind::Sequence(items.iter().map(Value::kind).collect()),
            Value::Ref(name) if name == "None" => Kind::None,
            _ => Kind::Unknown,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    /// Dotted callee: `xray_recorder.begin_segment`, `FlaskInstrumentor().instrument_app`.
    pub name: String,
    pub line: usize,
    pub args: Vec<Value>,
    /// The line each positional argument starts on.
    pub arg_lines: Vec<usize>,
    pub keywords: Vec<(String, Value)>,
    /// The line each keyword argument starts on.
    pub keyword_lines: Vec<usize>,
    /// The innermost function it runs in (None: at import).
    pub function: Option<usize>,
    /// Inside a `with ...start_as_current_span(...)` block.
    pub in_span_block: bool,
    /// Under an `if` that asks for the current X-Ray segment first
    /// (`if xray_recorder.current_segment() is None:`).
    pub guarded: bool,
    /// Passes `*args` or `**kwargs`: how many arguments is not known.
    pub unpacks: bool,
}

impl Call {
    /// The last component of the callee: `begin_segment`.
    pub fn method(&self) -> &str {
        self.name.rsplit('.').next().unwrap_or(&self.name)
    }

    /// The names passed as arguments without being called: `f` and `h`
    /// in `g(f, key=h)`.
    pub fn passed_names(&self) -> impl Iterator<Item = &str> {
        self.args
            .iter()
            .chain(self.keywords.iter().map(|(_, v)| v))
            .filter_map(|v| match v {
                Value::Ref(name) => Some(name.as_str()),
                _ => None,
            })
    }

    pub fn keyword(&self, name: &str) -> Option<&Value> {
        self.keywords
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Function {
    pub name: String,
    pub line: usize,
    /// Dotted decorator callees: `app.route`, `app.before_request`.
    pub decorators: Vec<String>,
    /// The paths its decorators route to it: `@app.route("/api/x")`.
    pub routes: Vec<String>,
    /// The class it is a method of (directly in the class body).
    pub class: Option<String>,
    /// The function it is defined in (None: at module or class level).
    pub parent: Option<usize>,
    /// Byte offsets of its body: a name used there is looked up when it runs.
    pub body: std::ops::Range<u32>,
    /// Its last line.
    pub end_line: usize,
    pub params: Params,
}

/// What a call must pass: CPython raises TypeError at the call otherwise.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Params {
    /// Positional-only and ordinary parameters, in order.
    pub positional: Vec<String>,
    /// How many of those have a default (the last ones).
    pub defaults: usize,
    pub var_positional: bool,
    /// Keyword-only parameters without a default.
    pub required_keywords: Vec<String>,
    pub keyword_only: Vec<String>,
    pub var_keyword: bool,
    pub positional_only: usize,
}

impl Params {
    /// The parameters a keyword argument can bind to: every ordinary and
    /// keyword-only one, not the positional-only.
    pub fn by_keyword(&self) -> impl Iterator<Item = &String> {
        self.positional[self.positional_only.min(self.positional.len())..]
            .iter()
            .chain(&self.keyword_only)
    }
}

/// `from flask import Flask as F` (the name `F` bound to `flask.Flask`), or
/// `import a.b` (the name `a`, bound by importing the module `a.b`).
#[derive(Debug, Clone, PartialEq)]
pub struct ImportedName {
    /// The name bound in the module: `F`.
    pub name: String,
    /// What it is: `flask.Flask`.
    pub target: String,
    pub line: usize,
    pub module_level: bool,
    /// The module the statement imports: `flask` (also for `import a.b`: `a.b`).
    pub module: String,
    /// For `from module import name`: the name as the module spells it.
    pub imported: Option<String>,
    /// The innermost function the statement runs in (None: at import).
    pub function: Option<usize>,
}

/// `target = callee(...)` at any depth.
#[derive(Debug, Clone, PartialEq)]
pub struct Assignment {
    pub target: String,
    pub value: Value,
    pub line: usize,
    /// The statement's last line (a call may span several).
    pub end_line: usize,
    /// At import time, not inside a function.
    pub module_level: bool,
    /// The innermost function it runs in (None: at import).
    pub function: Option<usize>,
}

/// A `with tracer.start_as_current_span(...) [as name]:` block.
#[derive(Debug, Clone, PartialEq)]
pub struct SpanBlock {
    pub variable: Option<String>,
    pub line: usize,
    pub end_line: usize,
    pub function: Option<usize>,
}

/// A call that can never run, and the statement that makes it so.
#[derive(Debug, Clone, PartialEq)]
pub struct DeadCall {
    pub call: Call,
    pub because_line: usize,
    pub because: &'static str,
}

/// An X-Ray subsegment begun with `begin_subsegment` and not ended on a path.
#[derive(Debug, Clone, PartialEq)]
pub struct OpenSubsegment {
    pub begin_line: usize,
    /// The `return`/`raise` that leaves it open; None: the function's end.
    pub exit_line: Option<usize>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Facts {
    pub calls: Vec<Call>,
    pub functions: Vec<Function>,
    pub assignments: Vec<Assignment>,
    pub span_blocks: Vec<SpanBlock>,
    pub dead_calls: Vec<DeadCall>,
    pub open_subsegments: Vec<OpenSubsegment>,
    /// Modules imported: `services.home_activities`, `opentelemetry.trace`.
    pub imports: Vec<String>,
    /// Names bound by `from module import name`.
    pub imported_names: Vec<ImportedName>,
    /// The last line of each import statement at the top level of the file.
    pub import_end_lines: Vec<usize>,
    /// Names looked up where nothing binds them (Ruff's F821, F823).
    pub undefined_names: Vec<UndefinedName>,
    /// Comment lines that are an import or an assignment commented out.
    pub commented_bindings: Vec<CommentedBinding>,
    /// Names the module binds at its top level (defs, classes, assignments,
    /// imports): what `from it import *` gives.
    pub top_level_names: Vec<String>,
    /// Statements that only name something, never calling it:
    /// `FlaskInstrumentor().instrument_app` (dotted, line).
    pub bare_names: Vec<(String, usize)>,
}

/// `# import logging` at line 3: the code, and the names it would bind.
#[derive(Debug, Clone, PartialEq)]
pub struct CommentedBinding {
    pub line: usize,
    pub code: String,
    pub names: Vec<String>,
}

/// A name CPython cannot find when the code using it runs.
#[derive(Debug, Clone, PartialEq)]
pub struct UndefinedName {
    pub name: String,
    pub line: usize,
    /// The innermost function whose body uses it (None: at import).
    pub function: Option<usize>,
    /// Assigned later in that function: UnboundLocalError.
    pub unbound_local: bool,
    /// Unbound unless a star import binds it: judged by what the modules
    /// imported with `*` define.
    pub unless_star: bool,
}

/// The names nothing binds, by line: asked once per call, so sorted once
/// per file (a repository with a few hundred calls and undefined names
/// spent 5% of its doctor comparing every call with every name).
pub struct UnboundNames<'a>(Vec<(usize, &'a str)>);

impl UnboundNames<'_> {
    /// The call's callee starts with a name nothing binds on its line.
    pub fn called_by(&self, call: &Call) -> bool {
        let root = call.name.split('.').next().unwrap_or("");
        self.0.binary_search(&(call.line, root)).is_ok()
    }
}

impl Facts {
    /// Names nothing binds, star imports aside (those are judged by what
    /// the star-imported modules define).
    pub fn unbound_names(&self) -> UnboundNames<'_> {
        let mut names: Vec<(usize, &str)> = self
            .undefined_names
            .iter()
            .filter(|u| !u.unless_star)
            .map(|u| (u.line, u.name.as_str()))
            .collect();
        names.sort_unstable();
        UnboundNames(names)
    }

    pub fn calls_to<'a>(&'a self, method: &'a str) -> impl Iterator<Item = &'a Call> + 'a {
        self.calls.iter().filter(move |c| c.method() == method)
    }

    pub fn has_call(&self, method: &str) -> bool {
        self.calls_to(method).next().is_some()
    }

    pub fn function(&self, index: Option<usize>) -> Option<&Function> {
        self.functions.get(index?)
    }
}

impl PyFile {
    /// The module, or None when there is none to read. A file that is there
    /// but cannot be read as Python reads it (not UTF-8 without a coding
    /// declaration, too large, not a regular file) is a module that fails
    /// to import: a syntax error at its line, never a silent skip.
    pub fn read(path: &Path) -> Option<Self> {
        if !path.exists() {
            return None;
        }
        match super::read::text(path) {
            Ok(text) => Some(Self::parse(path, &text)),
            Err(error) => {
                let bytes = super::read::bytes(path).unwrap_or_default();
                let declares_coding = bytes
                    .split(|b| *b == b'\n')
                    .take(2)
                    .any(|line| String::from_utf8_lossy(line).contains("coding"));
                if declares_coding {
                    return None;
                }
                // "PATH:LINE: why" or "PATH why": the line, and the why alone.
                let message = format!("{error:#}");
                let rest = message
                    .strip_prefix(&path.display().to_string())
                    .unwrap_or(&message);
                let (line, why) = match rest.strip_prefix(':').and_then(|r| r.split_once(':')) {
                    Some((line, why)) => (line.trim().parse().unwrap_or(1), why.trim()),
                    None => (1, rest.trim()),
                };
                Some(PyFile {
                    path: path.to_path_buf(),
                    syntax_error: Some(SyntaxError {
                        line,
                        message: format!("cannot be read as Python source ({why})"),
                    }),
                    facts: Facts::default(),
                })
            }
        }
    }

    pub fn parse(path: &Path, text: &str) -> Self {
        // Every walk of the tree recurses, and so does dropping it: on a
        // stack of known size, with the nesting bounded first.
        stacker::maybe_grow(WALK_STACK_BYTES, WALK_STACK_BYTES, || {
            Self::parse_on_stack(path, text)
        })
    }

    fn parse_on_stack(path: &Path, text: &str) -> Self {
        let lines = LineIndex::new(text);
        let refused = |offset, message| PyFile {
            path: path.to_path_buf(),
            syntax_error: Some(SyntaxError {
                line: lines.line(offset),
                message,
            }),
            facts: Facts::default(),
        };
        let parsed = match ruff_python_parser::parse_module(text) {
            Ok(parsed) => parsed,
            // Markers a merge left are the cause, not the parser's symptom.
            Err(_) if conflict_marker(text).is_some() => {
                let line = conflict_marker(text).unwrap_or(1);
                return PyFile {
                    path: path.to_path_buf(),
                    syntax_error: Some(SyntaxError {
                        line,
                        message: conflict_message(text.lines().nth(line - 1).unwrap_or("")),
                    }),
                    facts: Facts::default(),
                };
            }
            Err(error) => {
                let mut file = refused(error.location.start(), error.error.to_string());
                file.facts.undefined_names =
                    unbound_before(path, text, &lines, error.location.start());
                return file;
            }
        };
        if let Some(refusal) = limits::refusal(&parsed) {
            // Too deep to drop on any stack: the process ends soon, and the
            // tree is bounded by the file's size.
            std::mem::forget(parsed);
            return refused(refusal.offset, refusal.message);
        }
        let mut walker = Walker::new(&lines);
        walker.body(&parsed.syntax().body, None);
        let mut facts = walker.facts;
        facts.commented_bindings = commented_bindings(text);
        top_level_names(&parsed.syntax().body, &mut facts.top_level_names);
        let lint = pyflakes::lint(path, text, parsed);
        for unbound in lint.unbound {
            facts.undefined_names.push(UndefinedName {
                line: lines.line(TextSize::new(unbound.offset)),
                function: innermost_function(&facts.functions, unbound.offset),
                name: unbound.name,
                unbound_local: unbound.local,
                unless_star: unbound.star,
            });
        }
        // CPython compiles the whole module before running a line of it:
        // the module fails to import, whatever else it holds.
        let syntax_error = lint.compile_error.map(|(offset, message)| SyntaxError {
            line: lines.line(TextSize::new(offset)),
            message,
        });
        PyFile {
            path: path.to_path_buf(),
            syntax_error,
            facts,
        }
    }

    /// 1-based lines whose text mentions `needle` but hold no live code for
    /// it: commented out, or inside a string. For "it is commented out at
    /// line N" rather than "it is missing".
    pub fn inert_mentions(text: &str, needle: &str) -> Vec<usize> {
        text.lines()
            .enumerate()
            .filter(|(_, l)| l.trim_start().starts_with('#') && l.contains(needle))
            .map(|(i, _)| i + 1)
            .collect()
    }
}

/// Comment lines that parse as an import or an assignment: what a student
/// commented out, and may have to bring back.
fn commented_bindings(text: &str) -> Vec<CommentedBinding> {
    let mut found = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let Some(code) = line.trim_start().strip_prefix('#') else {
            continue;
        };
        let code = code.trim();
        let looks_like =
            code.starts_with("import ") || code.starts_with("from ") || code.contains(" = ");
        if !looks_like || code.len() > 200 {
            continue;
        }
        let Ok(parsed) = ruff_python_parser::parse_module(code) else {
            continue;
        };
        let names: Vec<String> = parsed
            .syntax()
            .body
            .iter()
            .flat_map(|stmt| match stmt {
                Stmt::Import(import) => import
                    .names
                    .iter()
                    .map(|a| match &a.asname {
                        Some(asname) => asname.as_str().to_string(),
                        None => a.name.as_str().split('.').next().unwrap_or("").to_string(),
                    })
                    .collect(),
                Stmt::ImportFrom(import) => import
                    .names
                    .iter()
                    .map(|a| a.asname.as_ref().unwrap_or(&a.name).as_str().to_string())
                    .collect(),
                Stmt::Assign(assign) => assign
                    .targets
                    .iter()
                    .filter_map(|t| t.as_name_expr().map(|n| n.id.as_str().to_string()))
                    .collect(),
                _ => Vec::new(),
            })
            .collect();
        if !names.is_empty() {
            found.push(CommentedBinding {
                line: index + 1,
                code: code.to_string(),
                names,
            });
        }
    }
    found
}

/// The names a module's top level binds, in blocks too (`if`, `try`,
/// `with`, `for`), not in functions or classes.
fn top_level_names(body: &[Stmt], out: &mut Vec<String>) {
    fn targets(expr: &Expr, out: &mut Vec<String>) {
        match expr {
            Expr::Name(name) => out.push(name.id.as_str().to_string()),
            Expr::Tuple(t) => t.elts.iter().for_each(|e| targets(e, out)),
            Expr::List(l) => l.elts.iter().for_each(|e| targets(e, out)),
            Expr::Starred(s) => targets(&s.value, out),
            _ => {}
        }
    }
    for stmt in body {
        match stmt {
            Stmt::FunctionDef(def) => out.push(def.name.as_str().to_string()),
            Stmt::ClassDef(class) => out.push(class.name.as_str().to_string()),
            Stmt::Assign(assign) => assign.targets.iter().for_each(|t| targets(t, out)),
            Stmt::AnnAssign(assign) => targets(&assign.target, out),
            Stmt::AugAssign(assign) => targets(&assign.target, out),
            Stmt::Import(import) => out.extend(import.names.iter().map(|a| match &a.asname {
                Some(asname) => asname.as_str().to_string(),
                None => a.name.as_str().split('.').next().unwrap_or("").to_string(),
            })),
            Stmt::ImportFrom(import) => out.extend(
                import
                    .names
                    .iter()
                    .map(|a| a.asname.as_ref().unwrap_or(&a.name).as_str().to_string()),
            ),
            Stmt::If(if_stmt) => {
                top_level_names(&if_stmt.body, out);
                for clause in &if_stmt.elif_else_clauses {
                    top_level_names(&clause.body, out);
                }
            }
            Stmt::Try(try_stmt) => {
                top_level_names(&try_stmt.body, out);
                for handler in &try_stmt.handlers {
                    let ast::ExceptHandler::ExceptHandler(handler) = handler;
                    top_level_names(&handler.body, out);
                }
                top_level_names(&try_stmt.orelse, out);
                top_level_names(&try_stmt.finalbody, out);
            }
            Stmt::With(with) => {
                for item in &with.items {
                    if let Some(vars) = &item.optional_vars {
                        targets(vars, out);
                    }
                }
                top_level_names(&with.body, out);
            }
            Stmt::For(for_stmt) => {
                targets(&for_stmt.target, out);
                top_level_names(&for_stmt.body, out);
                top_level_names(&for_stmt.orelse, out);
            }
            Stmt::While(while_stmt) => {
                top_level_names(&while_stmt.body, out);
                top_level_names(&while_stmt.orelse, out);
            }
            _ => {}
        }
    }
}

/// The function whose body holds `offset` most closely.
fn innermost_function(functions: &[Function], offset: u32) -> Option<usize> {
    functions
        .iter()
        .enumerate()
        .filter(|(_, f)| f.body.contains(&offset))
        .max_by_key(|(_, f)| f.body.start)
        .map(|(index, _)| index)
}

/// How the message of a module that still holds a merge's conflict
/// markers begins.
pub const UNRESOLVED_CONFLICT: &str = "unresolved merge conflict";

/// "unresolved merge conflict from tracelab add or update (<<<<<<< ...)":
/// tracelab's merge labels its sides `ours` and `theirs`; git names a
/// branch.
pub fn conflict_message(marker_line: &str) -> String {
    let from = if marker_line.trim_end() == "<<<<<<< ours" {
        " from tracelab add or update"
    } else {
        ""
    };
    format!("{UNRESOLVED_CONFLICT}{from} (<<<<<<< ... >>>>>>>)")
}

/// The line of the first `<<<<<<<` marker, when a `=======` and a
/// `>>>>>>>` follow it: what a merge (tracelab add or update, git) leaves.
fn conflict_marker(text: &str) -> Option<usize> {
    let lines: Vec<&str> = text.lines().collect();
    let start = lines.iter().position(|l| l.starts_with("<<<<<<<"))?;
    let middle = lines[start..]
        .iter()
        .position(|l| l.starts_with("======="))?
        + start;
    lines[middle..]
        .iter()
        .any(|l| l.starts_with(">>>>>>>"))
        .then_some(start + 1)
}

/// Byte offset to 1-based line.
struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    fn new(text: &str) -> Self {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex { starts }
    }

    fn line(&self, offset: TextSize) -> usize {
        let offset = offset.to_usize();
        match self.starts.binary_search(&offset) {
            Ok(i) => i + 1,
            Err(i) => i,
        }
    }
}

/// The dotted name of a callee or reference: `a.b.c`, `F().m`. Past a few
/// components no API is named, so a long chain is cut short (`?.c.d`):
/// a name costs the same however long the chain it ends.
pub fn dotted(expr: &Expr) -> String {
    const MAX_PARTS: usize = 12;
    // Outermost first: `F().m` is [m, (), F].
    let mut parts: Vec<Option<&str>> = Vec::new();
    let mut current = expr;
    loop {
        if parts.len() == MAX_PARTS {
            parts.push(Some("?"));
            break;
        }
        match current {
            Expr::Name(name) => {
                parts.push(Some(name.id.as_str()));
                break;
            }
            Expr::Attribute(attr) => {
                parts.push(Some(attr.attr.as_str()));
                current = &attr.value;
            }
            Expr::Call(call) => {
                parts.push(None);
                current = &call.func;
            }
            _ => {
                parts.push(Some("?"));
                break;
            }
        }
    }
    let mut name = String::new();
    for part in parts.iter().rev() {
        match part {
            None => name.push_str("()"),
            Some(part) => {
                if !name.is_empty() {
                    name.push('.');
                }
                name.push_str(part);
            }
        }
    }
    name
}

fn value_of(expr: &Expr) -> Value {
    match expr {
        Expr::StringLiteral(s) => Value::Str(s.value.to_str().to_string()),
        Expr::Name(_) | Expr::Attribute(_) => Value::Ref(dotted(expr)),
        Expr::Call(call) => Value::Call(
            dotted(&call.func),
            call.arguments.args.first().and_then(|a| match a {
                Expr::StringLiteral(s) => Some(s.value.to_str().to_string()),
                _ => None,
            }),
        ),
        Expr::Dict(dict) => Value::Dict(
            dict.items
                .iter()
                .map(|item| {
                    let key = match &item.key {
                        Some(Expr::StringLiteral(s)) => Some(s.value.to_str().to_string()),
                        // The SDK's and semconv's constant for "service.name".
                        Some(key @ (Expr::Name(_) | Expr::Attribute(_)))
                            if dotted(key) == "SERVICE_NAME"
                                || dotted(key).ends_with(".SERVICE_NAME") =>
                        {
                            Some("service.name".to_string())
                        }
                        _ => None,
                    };
                    (key, value_of(&item.value))
                })
                .collect(),
        ),
        Expr::List(list) => Value::List(list.elts.iter().map(value_of).collect()),
        Expr::Tuple(tuple) => Value::List(tuple.elts.iter().map(value_of).collect()),
        Expr::NumberLiteral(number) => Value::Scalar(match number.value {
            ast::Number::Float(_) | ast::Number::Complex { .. } => "float",
            ast::Number::Int(_) => "int",
        }),
        Expr::BooleanLiteral(_) => Value::Scalar("bool"),
        _ => Value::Other,
    }
}

/// `if False:`, `if 0:`, `if None:`: Python never runs the body.
fn constant_truth(expr: &Expr) -> Option<bool> {
    match expr {
        Expr::BooleanLiteral(b) => Some(b.value),
        Expr::NoneLiteral(_) => Some(false),
        Expr::NumberLiteral(n) => match &n.value {
            ast::Number::Int(i) => Some(i.as_u64() != Some(0)),
            _ => None,
        },
        _ => None,
    }
}

/// A test that calls `current_segment()` or `current_subsegment()`.
fn asks_current_segment(expr: &Expr) -> bool {
    struct Finder(bool);
    impl<'e> Visitor<'e> for Finder {
        fn visit_expr(&mut self, expr: &'e Expr) {
            if let Expr::Call(call) = expr
                && dotted(&call.func).contains("current_s")
            {
                self.0 = true;
            }
            visitor::walk_expr(self, expr);
        }
    }
    let mut finder = Finder(false);
    finder.visit_expr(expr);
    finder.0
}

fn is_span_context(expr: &Expr) -> bool {
    matches!(expr, Expr::Call(call)
        if matches!(dotted(&call.func).rsplit('.').next(), Some("start_as_current_span" | "start_span")))
}

struct Walker<'a> {
    lines: &'a LineIndex,
    facts: Facts,
    span_depth: usize,
    guard_depth: usize,
    /// Set while the statement walked is a def directly in a class body.
    class: Option<String>,
}

impl<'a> Walker<'a> {
    fn new(lines: &'a LineIndex) -> Self {
        Walker {
            lines,
            facts: Facts::default(),
            span_depth: 0,
            guard_depth: 0,
            class: None,
        }
    }

    fn line(&self, node: &impl Ranged) -> usize {
        self.lines.line(node.start())
    }

    fn end_line(&self, node: &impl Ranged) -> usize {
        self.lines.line(node.end())
    }

    /// A block: statements after one that always leaves it are dead.
    fn body(&mut self, body: &[Stmt], function: Option<usize>) {
        let mut leaves: Option<(usize, &'static str)> = None;
        for stmt in body {
            if let Some((line, because)) = leaves {
                self.dead(stmt, function, line, because);
                continue;
            }
            self.stmt(stmt, function);
            leaves = match stmt {
                Stmt::Return(_) => Some((self.line(stmt), "return")),
                Stmt::Raise(_) => Some((self.line(stmt), "raise")),
                Stmt::Continue(_) => Some((self.line(stmt), "continue")),
                Stmt::Break(_) => Some((self.line(stmt), "break")),
                _ => None,
            };
        }
    }

    fn dead(&mut self, stmt: &Stmt, function: Option<usize>, line: usize, because: &'static str) {
        let mut shadow = Walker::new(self.lines);
        shadow.stmt(stmt, function);
        for call in shadow.facts.calls {
            self.facts.dead_calls.push(DeadCall {
                call,
                because_line: line,
                because,
            });
        }
    }

    fn exprs(&mut self, stmt: &Stmt, function: Option<usize>) {
        let mut collector = CallCollector {
            walker: self,
            function,
        };
        visitor::walk_stmt(&mut collector, stmt);
    }

    fn expr(&mut self, expr: &Expr, function: Option<usize>) {
        let mut collector = CallCollector {
            walker: self,
            function,
        };
        collector.visit_expr(expr);
    }

    fn stmt(&mut self, stmt: &Stmt, function: Option<usize>) {
        match stmt {
            Stmt::FunctionDef(def) => {
                for decorator in &def.decorator_list {
                    self.expr(&decorator.expression, function);
                }
                let index = self.facts.functions.len();
                let body = match (def.body.first(), def.body.last()) {
                    (Some(first), Some(last)) => first.start().to_u32()..last.end().to_u32(),
                    _ => 0..0,
                };
                self.facts.functions.push(Function {
                    name: def.name.as_str().to_string(),
                    line: self.line(stmt),
                    decorators: def
                        .decorator_list
                        .iter()
                        .map(|d| match &d.expression {
                            Expr::Call(call) => dotted(&call.func),
                            other => dotted(other),
                        })
                        .collect(),
                    routes: def
                        .decorator_list
                        .iter()
                        .filter_map(|d| match &d.expression {
                            Expr::Call(call) => match call.arguments.args.first() {
                                Some(Expr::StringLiteral(path)) => {
                                    Some(path.value.to_str().to_string())
                                }
                                _ => None,
                            },
                            _ => None,
                        })
                        .filter(|path| path.starts_with('/'))
                        .collect(),
                    class: self.class.take(),
                    parent: function,
                    body,
                    end_line: self.end_line(stmt),
                    params: params_of(&def.parameters),
                });
                let outer_depth = std::mem::take(&mut self.span_depth);
                self.body(&def.body, Some(index));
                self.span_depth = outer_depth;
                let open = open_subsegments(&def.body, self.lines);
                self.facts.open_subsegments.extend(open);
            }
            Stmt::ClassDef(class) => {
                for decorator in &class.decorator_list {
                    self.expr(&decorator.expression, function);
                }
                // Each def directly in the body is a method of this class.
                for stmt in &class.body {
                    self.class = matches!(stmt, Stmt::FunctionDef(_))
                        .then(|| class.name.as_str().to_string());
                    self.stmt(stmt, function);
                }
                self.class = None;
            }
            Stmt::If(if_stmt) => self.if_stmt(stmt, if_stmt, function),
            Stmt::While(while_stmt) => {
                if constant_truth(&while_stmt.test) == Some(false) {
                    let line = self.line(stmt);
                    for s in &while_stmt.body {
                        self.dead(s, function, line, "while False");
                    }
                } else {
                    self.expr(&while_stmt.test, function);
                    self.body(&while_stmt.body, function);
                }
                self.body(&while_stmt.orelse, function);
            }
            Stmt::For(for_stmt) => {
                self.expr(&for_stmt.iter, function);
                self.body(&for_stmt.body, function);
                self.body(&for_stmt.orelse, function);
            }
            Stmt::With(with) => {
                let mut spans = 0;
                for item in &with.items {
                    self.expr(&item.context_expr, function);
                    if is_span_context(&item.context_expr) {
                        spans += 1;
                        let variable = item.optional_vars.as_deref().map(dotted);
                        self.facts.span_blocks.push(SpanBlock {
                            variable,
                            line: self.line(stmt),
                            end_line: self.end_line(stmt),
                            function,
                        });
                    }
                }
                self.span_depth += spans;
                self.body(&with.body, function);
                self.span_depth -= spans;
            }
            Stmt::Try(try_stmt) => {
                self.body(&try_stmt.body, function);
                for handler in &try_stmt.handlers {
                    let ast::ExceptHandler::ExceptHandler(handler) = handler;
                    self.body(&handler.body, function);
                }
                self.body(&try_stmt.orelse, function);
                self.body(&try_stmt.finalbody, function);
            }
            Stmt::Match(match_stmt) => {
                self.expr(&match_stmt.subject, function);
                for case in &match_stmt.cases {
                    self.body(&case.body, function);
                }
            }
            Stmt::Import(import) => {
                if function.is_none() {
                    self.facts.import_end_lines.push(self.end_line(stmt));
                }
                for alias in &import.names {
                    self.facts.imports.push(alias.name.as_str().to_string());
                    let module = alias.name.as_str();
                    let bound = match &alias.asname {
                        Some(asname) => asname.as_str(),
                        None => module.split('.').next().unwrap_or(module),
                    };
                    self.facts.imported_names.push(ImportedName {
                        name: bound.to_string(),
                        target: module.to_string(),
                        line: self.line(stmt),
                        module_level: function.is_none(),
                        module: module.to_string(),
                        imported: None,
                        function,
                    });
                }
            }
            Stmt::ImportFrom(import) => {
                if function.is_none() {
                    self.facts.import_end_lines.push(self.end_line(stmt));
                }
                let module = import.module.as_ref().map(|m| m.as_str()).unwrap_or("");
                let dots = ".".repeat(import.level as usize);
                self.facts.imports.push(format!("{dots}{module}"));
                // `from services import home_activities` imports a module too.
                for alias in &import.names {
                    self.facts
                        .imports
                        .push(format!("{dots}{module}.{}", alias.name.as_str()));
                    let bound = alias.asname.as_ref().unwrap_or(&alias.name);
                    self.facts.imported_names.push(ImportedName {
                        name: bound.as_str().to_string(),
                        target: format!("{dots}{module}.{}", alias.name.as_str()),
                        line: self.line(stmt),
                        module_level: function.is_none(),
                        module: format!("{dots}{module}"),
                        imported: Some(alias.name.as_str().to_string()),
                        function,
                    });
                }
            }
            Stmt::Assign(assign) => {
                for target in &assign.targets {
                    self.facts.assignments.push(Assignment {
                        target: dotted(target),
                        value: value_of(&assign.value),
                        line: self.line(stmt),
                        end_line: self.end_line(stmt),
                        module_level: function.is_none(),
                        function,
                    });
                }
                self.exprs(stmt, function);
            }
            Stmt::AnnAssign(assign) => {
                if let Some(value) = &assign.value {
                    self.facts.assignments.push(Assignment {
                        target: dotted(&assign.target),
                        value: value_of(value),
                        line: self.line(stmt),
                        end_line: self.end_line(stmt),
                        module_level: function.is_none(),
                        function,
                    });
                }
                self.exprs(stmt, function);
            }
            Stmt::Expr(expr) if matches!(&*expr.value, Expr::Name(_) | Expr::Attribute(_)) => {
                self.facts
                    .bare_names
                    .push((dotted(&expr.value), self.line(stmt)));
                self.exprs(stmt, function);
            }
            _ => self.exprs(stmt, function),
        }
    }

    fn if_stmt(&mut self, stmt: &Stmt, if_stmt: &ast::StmtIf, function: Option<usize>) {
        let line = self.line(stmt);
        let mut taken = false;
        let clauses = std::iter::once((Some(&*if_stmt.test), &if_stmt.body[..])).chain(
            if_stmt
                .elif_else_clauses
                .iter()
                .map(|c| (c.test.as_ref(), &c.body[..])),
        );
        for (test, body) in clauses {
            let truth = match test {
                Some(test) => constant_truth(test),
                None => Some(true),
            };
            if taken || truth == Some(false) {
                let because = if taken { "if True" } else { "if False" };
                for s in body {
                    self.dead(s, function, line, because);
                }
                continue;
            }
            let guard = test.is_some_and(asks_current_segment);
            if let Some(test) = test {
                self.expr(test, function);
            }
            self.guard_depth += usize::from(guard);
            self.body(body, function);
            self.guard_depth -= usize::from(guard);
            taken = truth == Some(true);
        }
    }
}

fn params_of(parameters: &ast::Parameters) -> Params {
    let positional: Vec<&ast::ParameterWithDefault> = parameters
        .posonlyargs
        .iter()
        .chain(&parameters.args)
        .collect();
    Params {
        positional: positional
            .iter()
            .map(|p| p.parameter.name.as_str().to_string())
            .collect(),
        defaults: positional.iter().filter(|p| p.default.is_some()).count(),
        var_positional: parameters.vararg.is_some(),
        required_keywords: parameters
            .kwonlyargs
            .iter()
            .filter(|p| p.default.is_none())
            .map(|p| p.parameter.name.as_str().to_string())
            .collect(),
        keyword_only: parameters
            .kwonlyargs
            .iter()
            .map(|p| p.parameter.name.as_str().to_string())
            .collect(),
        var_keyword: parameters.kwarg.is_some(),
        positional_only: parameters.posonlyargs.len(),
    }
}

/// Collects every call inside the expressions of one simple statement.
struct CallCollector<'w, 'a> {
    walker: &'w mut Walker<'a>,
    function: Option<usize>,
}

impl<'e> Visitor<'e> for CallCollector<'_, '_> {
    fn visit_expr(&mut self, expr: &'e Expr) {
        if let Expr::Call(call) = expr {
            let record = Call {
                name: dotted(&call.func),
                line: self.walker.line(expr),
                args: call.arguments.args.iter().map(value_of).collect(),
                arg_lines: call
                    .arguments
                    .args
                    .iter()
                    .map(|a| self.walker.line(a))
                    .collect(),
                keywords: call
                    .arguments
                    .keywords
                    .iter()
                    .filter_map(|k| {
                        Some((k.arg.as_ref()?.as_str().to_string(), value_of(&k.value)))
                    })
                    .collect(),
                keyword_lines: call
                    .arguments
                    .keywords
                    .iter()
                    .filter(|k| k.arg.is_some())
                    .map(|k| self.walker.line(k))
                    .collect(),
                function: self.function,
                in_span_block: self.walker.span_depth > 0,
                guarded: self.walker.guard_depth > 0,
                unpacks: call.arguments.args.iter().any(Expr::is_starred_expr)
                    || call.arguments.keywords.iter().any(|k| k.arg.is_none()),
            };
            self.walker.facts.calls.push(record);
        }
        visitor::walk_expr(self, expr);
    }

    // Nested bodies are walked by the Walker, which knows what is live.
    fn visit_body(&mut self, _body: &'e [Stmt]) {}
}

/// Subsegments begun with `begin_subsegment` in a function body and not
/// ended on every path: an early `return` or `raise` with one open and no
/// `finally` that ends it, or the function's end.
fn open_subsegments(body: &[Stmt], lines: &LineIndex) -> Vec<OpenSubsegment> {
    let mut out = Vec::new();
    let mut open = Vec::new();
    let ended = walk_subsegments(body, lines, &mut open, false, &mut out);
    if !ended {
        for begin_line in open {
            out.push(OpenSubsegment {
                begin_line,
                exit_line: None,
            });
        }
    }
    out
}

fn calls_method(stmt: &Stmt, method: &str) -> bool {
    struct Finder<'m> {
        method: &'m str,
        found: bool,
    }
    impl<'e> Visitor<'e> for Finder<'_> {
        fn visit_expr(&mut self, expr: &'e Expr) {
            if let Expr::Call(call) = expr
                && dotted(&call.func).rsplit('.').next() == Some(self.method)
            {
                self.found = true;
            }
            visitor::walk_expr(self, expr);
        }
        fn visit_body(&mut self, _body: &'e [Stmt]) {}
    }
    let mut finder = Finder {
        method,
        found: false,
    };
    visitor::walk_stmt(&mut finder, stmt);
    finder.found
}

/// Walks one block; returns true when every path through it has left the
/// function (so what is open at its end is not "open at the end").
fn walk_subsegments(
    body: &[Stmt],
    lines: &LineIndex,
    open: &mut Vec<usize>,
    finally_ends: bool,
    out: &mut Vec<OpenSubsegment>,
) -> bool {
    for stmt in body {
        match stmt {
            Stmt::Return(_) | Stmt::Raise(_) => {
                if !finally_ends && let Some(begin_line) = open.last() {
                    out.push(OpenSubsegment {
                        begin_line: *begin_line,
                        exit_line: Some(lines.line(stmt.start())),
                    });
                }
                return true;
            }
            Stmt::If(if_stmt) => {
                let mut branches: Vec<&[Stmt]> = vec![&if_stmt.body];
                branches.extend(if_stmt.elif_else_clauses.iter().map(|c| &c.body[..]));
                let has_else = if_stmt.elif_else_clauses.iter().any(|c| c.test.is_none());
                let mut after: Option<Vec<usize>> = (!has_else).then(|| open.clone());
                let mut all_leave = has_else;
                for branch in branches {
                    let mut state = open.clone();
                    if walk_subsegments(branch, lines, &mut state, finally_ends, out) {
                        continue;
                    }
                    all_leave = false;
                    if after.as_ref().is_none_or(|a| state.len() > a.len()) {
                        after = Some(state);
                    }
                }
                if all_leave {
                    return true;
                }
                *open = after.unwrap_or_default();
            }
            Stmt::Try(try_stmt) => {
                let final_ends = try_stmt
                    .finalbody
                    .iter()
                    .any(|s| calls_method(s, "end_subsegment"));
                let left =
                    walk_subsegments(&try_stmt.body, lines, open, finally_ends || final_ends, out);
                for handler in &try_stmt.handlers {
                    let ast::ExceptHandler::ExceptHandler(handler) = handler;
                    let mut state = open.clone();
                    walk_subsegments(
                        &handler.body,
                        lines,
                        &mut state,
                        finally_ends || final_ends,
                        out,
                    );
                }
                walk_subsegments(&try_stmt.finalbody, lines, open, finally_ends, out);
                if left && try_stmt.handlers.is_empty() {
                    return true;
                }
            }
            Stmt::With(with) => {
                if walk_subsegments(&with.body, lines, open, finally_ends, out) {
                    return true;
                }
            }
            Stmt::For(s) => {
                walk_subsegments(&s.body, lines, open, finally_ends, out);
            }
            Stmt::While(s) => {
                walk_subsegments(&s.body, lines, open, finally_ends, out);
            }
            Stmt::FunctionDef(_) | Stmt::ClassDef(_) => {}
            _ => {
                if calls_method(stmt, "begin_subsegment") {
                    open.push(lines.line(stmt.start()));
                }
                if calls_method(stmt, "end_subsegment") {
                    open.pop();
                }
            }
        }
    }
    false
}

/// The names nothing binds in the part of a module before its first
/// syntax error (Ruff lints no module with one): what raises next, once
/// the error is fixed. That part is read as a module of its own, when it
/// is one; past the error nothing is guessed.
fn unbound_before(
    path: &Path,
    text: &str,
    lines: &LineIndex,
    error: TextSize,
) -> Vec<UndefinedName> {
    let error_line = lines.line(error);
    let before: String = text
        .lines()
        .take(error_line.saturating_sub(1))
        .map(|line| format!("{line}\n"))
        .collect();
    let Ok(parsed) = ruff_python_parser::parse_module(&before) else {
        return Vec::new();
    };
    if limits::refusal(&parsed).is_some() {
        std::mem::forget(parsed);
        return Vec::new();
    }
    let before_lines = LineIndex::new(&before);
    pyflakes::lint(path, &before, parsed)
        .unbound
        .into_iter()
        .filter(|u| !u.star && !u.local)
        .map(|u| UndefinedName {
            line: before_lines.line(TextSize::new(u.offset)),
            function: None,
            name: u.name,
            unbound_local: false,
            unless_star: false,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(text: &str) -> Facts {
        let file = PyFile::parse(Path::new("t.py"), text);
        assert_eq!(file.syntax_error, None);
        file.facts
    }

    #[test]
    fn comments_strings_and_dead_code_are_not_live() {
        let f = facts(
            "# FlaskInstrumentor().instrument_app(app)\ns = 'XRayMiddleware(app)'\nif False:\n    a()\nelse:\n    b()\ndef f():\n    return 1\n    c()\n",
        );
        let names: Vec<&str> = f.calls.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["b"]);
        let dead: Vec<(&str, usize)> = f
            .dead_calls
            .iter()
            .map(|d| (d.call.name.as_str(), d.because_line))
            .collect();
        assert_eq!(dead, [("a", 3), ("c", 8)]);
    }

    /// The reading thread parses in place, on its own stack: it must have
    /// the walk's room there, or a module nested to the limits would
    /// overflow it (and `maybe_grow` would reserve a stack per file again).
    #[test]
    fn the_parsing_thread_parses_the_deepest_modules_on_its_own_stack() {
        let deepest = [
            format!("x = {}1\n", "-".repeat(20_000)),
            format!("x = {}1\n", "not ".repeat(20_000)),
            format!("x = {}1\n", "1 if a else ".repeat(20_000)),
            format!("x = a{}\n", ".m()".repeat(20_000)),
            format!("x = {}\n", vec!["1"; 20_000].join(" + ")),
        ];
        parsing_thread()
            .spawn(move || {
                let room = stacker::remaining_stack().expect("a known stack");
                assert!(room >= WALK_STACK_BYTES, "{room} bytes left");
                for source in &deepest {
                    let file = PyFile::parse(Path::new("m.py"), source);
                    let refused = file.syntax_error.expect("too deep for CPython");
                    assert_eq!(refused.line, 1, "{}", &source[..20]);
                }
            })
            .expect("a thread")
            .join()
            .expect("no overflow");
    }

    #[test]
    fn undefined_names_know_the_function_they_run_in() {
        let f = facts(
            "import os\nLOGGER.info('x')\nclass A:\n  def run(m):\n    if m:\n      return {'h': sender}\n    return m\ndef g():\n    print(z)\n    z = 1\n",
        );
        let found: Vec<(&str, usize, Option<&str>, bool)> = f
            .undefined_names
            .iter()
            .map(|u| {
                let function = f.function(u.function).map(|f| f.name.as_str());
                (u.name.as_str(), u.line, function, u.unbound_local)
            })
            .collect();
        assert_eq!(
            found,
            [
                ("LOGGER", 2, None, false),
                ("sender", 6, Some("run"), false),
                ("z", 9, Some("g"), false)
            ]
        );
        assert_eq!(f.functions[0].class.as_deref(), Some("A"));
    }

    #[test]
    fn syntax_errors_have_their_line() {
        let file = PyFile::parse(
            Path::new("t.py"),
            "class A:\n  def run():\n      x = 1\n    return x\n",
        );
        let error = file.syntax_error.unwrap();
        assert_eq!(error.line, 4, "{error:?}");
    }

    #[test]
    fn calls_know_their_function_decorators_and_arguments() {
        let f = facts("@app.before_request\ndef init():\n    rollbar.init('${TOKEN}', env='x')\n");
        let call = f.calls_to("init").next().unwrap();
        assert_eq!(call.args, [Value::Str("${TOKEN}".into())]);
        assert_eq!(call.keyword("env"), Some(&Value::Str("x".into())));
        let function = f.function(call.function).unwrap();
        assert_eq!(function.decorators, ["app.before_request"]);
    }

    #[test]
    fn subsegments_open_on_an_early_return_or_at_the_end() {
        let f = facts(
            "def a(x):\n    xray_recorder.begin_subsegment('s')\n    if x:\n        return 1\n    xray_recorder.end_subsegment()\n\ndef b():\n    xray_recorder.begin_subsegment('s')\n    work()\n\ndef c(x):\n    try:\n        xray_recorder.begin_subsegment('s')\n        if x:\n            return 1\n        xray_recorder.end_subsegment()\n    finally:\n        xray_recorder.end_subsegment()\n",
        );
        let open: Vec<(usize, Option<usize>)> = f
            .open_subsegments
            .iter()
            .map(|o| (o.begin_line, o.exit_line))
            .collect();
        assert_eq!(open, [(2, Some(4)), (8, None)]);
    }

    #[test]
    fn span_blocks_and_calls_inside_them() {
        let f = facts(
            "def run():\n    with tracer.start_as_current_span('x') as span:\n        span.set_attribute('a', 1)\n    span.set_attribute('b', 2)\n",
        );
        assert_eq!(f.span_blocks.len(), 1);
        assert_eq!(f.span_blocks[0].end_line, 3);
        let inside: Vec<bool> = f
            .calls_to("set_attribute")
            .map(|c| c.in_span_block)
            .collect();
        assert_eq!(inside, [true, false]);
    }
}
