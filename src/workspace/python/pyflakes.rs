//! What CPython raises for a module's names and structure, found by Ruff's
//! pyflakes rules (`ruff_linter`): the compile-time errors the parser lets
//! through (`return` outside a function), and the names a scope looks up
//! and nothing binds (NameError when that code runs).

use std::path::Path;

use ruff_linter::linter::{ParseSource, lint_only};
use ruff_linter::registry::Rule;
use ruff_linter::settings::{LinterSettings, flags};
use ruff_linter::source_kind::SourceKind;
use ruff_python_ast::{ModModule, PySourceType};
use ruff_python_parser::Parsed;

/// Rules whose finding CPython raises as SyntaxError when it compiles the
/// module, before any line of it runs.
const COMPILE_ERRORS: &[Rule] = &[
    Rule::ReturnOutsideFunction,
    Rule::YieldOutsideFunction,
    Rule::BreakOutsideLoop,
    Rule::ContinueOutsideLoop,
    Rule::DefaultExceptNotLast,
    Rule::MultipleStarredExpressions,
    Rule::ExpressionsInStarAssignment,
    Rule::FutureFeatureNotDefined,
    Rule::LateFutureImport,
    Rule::UndefinedLocalWithNestedImportStarUsage,
    // Pylint's codes for what CPython's symbol table refuses.
    Rule::AwaitOutsideAsync,
    Rule::YieldFromInAsyncFunction,
    Rule::LoadBeforeGlobalDeclaration,
    Rule::NonlocalWithoutBinding,
];

/// A name looked up where nothing binds it.
#[derive(Debug)]
pub struct Unbound {
    pub offset: u32,
    pub name: String,
    /// Bound later in the same function: UnboundLocalError, not NameError.
    pub local: bool,
    /// Not bound here, but a star import might bind it (F405).
    pub star: bool,
}

#[derive(Debug, Default)]
pub struct Lint {
    /// The first error that stops the module compiling: (offset, message).
    pub compile_error: Option<(u32, String)>,
    pub unbound: Vec<Unbound>,
}

/// Ruff's settings for our rules, written out: `LinterSettings::default()`
/// compiles the copyright notice pattern of a rule we never run, 5% of an
/// offline doctor (`perf`). Every other field is what `for_rules` gives
/// (ruff_linter's `LinterSettings::new`); Ruff is pinned, so a field it
/// adds is a compile error here, not a silent difference.
fn settings() -> LinterSettings {
    // Ruff's own default is the working directory (path_dedot's CWD).
    let cwd = std::env::current_dir().unwrap_or_else(|_| ".".into());
    // For the patterns no rule of ours reads: compiled once (a regex,
    // however small, was 1.3% of an offline doctor), shared by a clone.
    let unread_pattern = regex::Regex::new("^$").expect("a valid pattern");
    LinterSettings {
        rules: COMPILE_ERRORS
            .iter()
            .copied()
            .chain([
                Rule::UndefinedName,
                Rule::UndefinedLocal,
                Rule::UndefinedLocalWithImportStarUsage,
            ])
            .collect(),
        unresolved_target_version: ruff_python_ast::PythonVersion::latest().into(),
        src: vec![cwd.clone(), cwd.join("src")],
        project_root: cwd,
        // Read only by unused-variable rules, none of ours; Ruff's default
        // pattern took 2% of an offline doctor to compile (`perf`).
        dummy_variable_rgx: unread_pattern.clone(),
        ignore_init_module_imports: true,
        task_tags: ruff_linter::settings::TASK_TAGS
            .iter()
            .map(ToString::to_string)
            .collect(),
        typing_extensions: true,
        flake8_copyright: ruff_linter::rules::flake8_copyright::settings::Settings {
            // CPY001 is not among our rules.
            notice_rgx: unread_pattern,
            author: None,
            min_file_size: 0,
        },
        exclude: Default::default(),
        extension: Default::default(),
        per_file_ignores: Default::default(),
        fix_safety: Default::default(),
        per_file_target_version: Default::default(),
        preview: Default::default(),
        explicit_preview_rules: false,
        allowed_confusables: Default::default(),
        builtins: Vec::new(),
        external: Vec::new(),
        logger_objects: Vec::new(),
        namespace_packages: Vec::new(),
        tab_size: Default::default(),
        line_length: Default::default(),
        typing_modules: Vec::new(),
        future_annotations: false,
        flake8_annotations: Default::default(),
        flake8_bandit: Default::default(),
        flake8_boolean_trap: Default::default(),
        flake8_bugbear: Default::default(),
        flake8_builtins: Default::default(),
        flake8_comprehensions: Default::default(),
        flake8_errmsg: Default::default(),
        flake8_gettext: Default::default(),
        flake8_implicit_str_concat: Default::default(),
        flake8_import_conventions: Default::default(),
        flake8_pytest_style: Default::default(),
        flake8_quotes: Default::default(),
        flake8_self: Default::default(),
        flake8_tidy_imports: Default::default(),
        flake8_type_checking: Default::default(),
        flake8_unused_arguments: Default::default(),
        isort: Default::default(),
        mccabe: Default::default(),
        pep8_naming: Default::default(),
        pycodestyle: Default::default(),
        pydoclint: Default::default(),
        pydocstyle: Default::default(),
        pyflakes: Default::default(),
        pylint: Default::default(),
        pyupgrade: Default::default(),
        ruff: Default::default(),
    }
}

/// Built once: the backend has a module per service.
static SETTINGS: std::sync::LazyLock<LinterSettings> = std::sync::LazyLock::new(settings);

/// Builds the settings every lint shares, on this thread (see
/// `python::prepare`). Nothing is parsed here: a parse on the main thread
/// has Ruff's parser (through `stacker`) ask glibc where the main thread's
/// stack ends, which glibc finds by reading `/proc/self/maps`, six times
/// the instructions of linting a one-line module to build Ruff's own
/// tables, which the first lint builds instead.
pub fn prepare() {
    std::sync::LazyLock::force(&SETTINGS);
}

pub fn lint(path: &Path, text: &str, parsed: Parsed<ModModule>) -> Lint {
    let result = lint_only(
        path,
        None,
        &SETTINGS,
        // A `# noqa` comment silences a linter, not CPython.
        flags::Noqa::Disabled,
        &SourceKind::Python {
            code: text.to_string(),
            is_stub: false,
        },
        PySourceType::Python,
        ParseSource::Precomputed(parsed),
    );
    let mut lint = Lint::default();
    for diagnostic in &result.diagnostics {
        let offset = diagnostic.range().map_or(0, |r| r.start().to_u32());
        let code = diagnostic.secondary_code_or_id();
        match code {
            "F821" | "F823" | "F405" => {
                if let Some(name) = quoted_name(&diagnostic.concise_message().to_string()) {
                    lint.unbound.push(Unbound {
                        offset,
                        name,
                        local: code == "F823",
                        star: code == "F405",
                    });
                }
            }
            _ if lint.compile_error.is_none() => {
                let message = diagnostic.concise_message().to_string();
                lint.compile_error = Some((offset, message.replace('`', "'")));
            }
            _ => {}
        }
    }
    lint
}

/// The name in "Undefined name `LOGGER`" or "Local variable `x` referenced
/// before assignment".
fn quoted_name(message: &str) -> Option<String> {
    let (_, rest) = message.split_once('`')?;
    let (name, _) = rest.split_once('`')?;
    Some(name.to_string())
}
