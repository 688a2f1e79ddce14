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

pub fn lint(path: &Path, text: &str, parsed: Parsed<ModModule>) -> Lint {
    // Built once: Ruff's settings compile their patterns, and the backend
    // has a module per service.
    static SETTINGS: std::sync::LazyLock<LinterSettings> = std::sync::LazyLock::new(|| {
        LinterSettings::for_rules(COMPILE_ERRORS.iter().copied().chain([
            Rule::UndefinedName,
            Rule::UndefinedLocal,
            Rule::UndefinedLocalWithImportStarUsage,
        ]))
    });
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
