//! The modules of the packages a tracelab workspace installs, and the names
//! each offers, at tracelab's pins: python_modules.txt, generated from the
//! real installed packages by python_modules.py (tests/integration/python_modules.rs
//! regenerates it and compares).

use std::collections::HashMap;
use std::sync::OnceLock;

use super::sorted_lines::{SortedLines, sorted_lines};

const TABLE: &str = include_str!("python_modules.txt");

/// What the lines at the table's top start with: the versions
/// (`dist flask 3.1.3`) and comments.
const HEADER: &[&str] = &["dist ", "#"];

/// "module distribution name name ..." lines, sorted by module, below the
/// header.
static MODULES: SortedLines = sorted_lines!(TABLE, header: HEADER);

pub struct Module {
    pub distribution: &'static str,
    /// Its names as the table lists them, space-separated: searched when
    /// asked, so the doctor does not build a set per module at each start
    /// (that was a twentieth of its time).
    names: &'static str,
    /// A module-level `__getattr__` or a star import: any name may exist.
    any_name: bool,
}

impl Module {
    pub fn offers(&self, name: &str) -> bool {
        self.any_name || self.lists(name)
    }

    fn lists(&self, name: &str) -> bool {
        self.names.split(' ').any(|n| n == name)
    }

    /// The name it lists that `name` is a typo of (a few letters away),
    /// when one is nearest: `FlaskInstrumentor` for `FlaskInstrumenter`.
    pub fn near_name(&self, name: &str) -> Option<&'static str> {
        let limit = (name.len() / 4).clamp(1, 3);
        let mut near: Vec<(usize, &'static str)> = self
            .names
            .split(' ')
            .filter(|n| !n.is_empty() && *n != name)
            .map(|n| (crate::rules::names::edit_distance(n, name), n))
            .filter(|(distance, _)| *distance <= limit)
            .collect();
        near.sort_unstable();
        match near.as_slice() {
            [(best, n), rest @ ..] if rest.first().is_none_or(|(d, _)| d > best) => Some(n),
            _ => None,
        }
    }
}

pub struct Table {
    /// Distribution name to the version the table was made from.
    pub versions: HashMap<&'static str, &'static str>,
    modules: &'static SortedLines,
}

pub fn table() -> &'static Table {
    static PARSED: OnceLock<Table> = OnceLock::new();
    PARSED.get_or_init(|| parse(TABLE))
}

/// The `dist` lines of the header.
fn parse(text: &'static str) -> Table {
    let mut versions = HashMap::new();
    let header = text
        .lines()
        .take_while(|line| HEADER.iter().any(|prefix| line.starts_with(prefix)));
    for dist in header.filter_map(|line| line.strip_prefix("dist ")) {
        let mut words = dist.split(' ');
        if let Some(distribution) = words.next() {
            versions.insert(distribution, words.next().unwrap_or(""));
        }
    }
    Table {
        versions,
        modules: &MODULES,
    }
}

/// A module line as the entry it is.
fn entry(line: &'static str) -> (&'static str, Module) {
    let mut words = line.splitn(3, ' ');
    let module = words.next().unwrap_or("");
    let distribution = words.next().unwrap_or("");
    let names = words.next().unwrap_or("");
    let module_entry = Module {
        distribution,
        // The generator sorts the names, and `*` sorts first: a scan of
        // every name was 6% of an offline doctor.
        any_name: names == "*" || names.starts_with("* "),
        names,
    };
    (module, module_entry)
}

impl Table {
    /// `aws-xray-sdk 2.15.0`: a distribution at the version the table was
    /// made from, as a finding names it.
    pub fn at_pin(&self, distribution: &str) -> String {
        match self.versions.get(distribution) {
            Some(version) => format!("{distribution} {version}"),
            None => distribution.to_string(),
        }
    }

    pub fn module(&self, name: &str) -> Option<Module> {
        self.modules.find(name).map(|line| entry(line).1)
    }

    /// Every module, in order.
    fn entries(&self) -> impl Iterator<Item = (&'static str, Module)> {
        self.modules.lines().map(entry)
    }

    /// The modules `name` is or holds (`opentelemetry` holds
    /// `opentelemetry.trace`): one run of lines, since `.` sorts before
    /// every character a module name goes on with.
    fn family(&self, name: &str) -> impl Iterator<Item = (&'static str, Module)> {
        let prefix = format!("{name}.");
        let name = name.to_string();
        self.modules
            .from(&name)
            .map(entry)
            .take_while(move |(m, _)| *m == name || m.starts_with(&prefix))
    }

    /// A module, or a namespace package (`opentelemetry`) some module is in.
    pub fn exists(&self, name: &str) -> bool {
        self.family(name).next().is_some()
    }

    /// The distribution a module of this top-level package comes from, when
    /// one distribution holds all of it (not a namespace like opentelemetry).
    pub fn sole_distribution(&self, root: &str) -> Option<&'static str> {
        let mut owners = self.family(root).map(|(_, module)| module.distribution);
        let first = owners.next()?;
        owners.all(|d| d == first).then_some(first)
    }

    /// Public modules that offer `name`, shortest first: where an import
    /// of it should come from.
    pub fn modules_offering(&self, name: &str) -> Vec<&'static str> {
        let mut found: Vec<&'static str> = self
            .entries()
            .filter(|(m, module)| {
                !module.any_name && module.lists(name) && !m.split('.').any(|p| p.starts_with('_'))
            })
            .map(|(m, _)| m)
            .collect();
        found.sort_by_key(|m| (m.len(), *m));
        found
    }

    /// The one module that `missing` (a dotted path the table lacks) is a
    /// typo of: a sibling under the same parent whose last part is one or
    /// two letters off, offering every name in `names`.
    /// `opentelemetry.sdk.trace.exports` is `opentelemetry.sdk.trace.export`.
    pub fn near_module(&self, missing: &str, names: &[&str]) -> Option<&'static str> {
        let (parent, last) = missing.rsplit_once('.')?;
        let prefix = format!("{parent}.");
        let near: Vec<&'static str> = self
            .family(parent)
            .filter(|(m, module)| {
                m.strip_prefix(&prefix).is_some_and(|rest| {
                    let allowed = if last.len() >= 8 { 2 } else { 1 };
                    !rest.contains('.') && crate::rules::names::edit_distance(rest, last) <= allowed
                }) && names.iter().all(|n| module.offers(n))
            })
            .map(|(m, _)| m)
            .collect();
        match near.as_slice() {
            [one] => Some(one),
            _ => None,
        }
    }

    /// Modules whose last component is `last`: `aws_xray_sdk.ext.flask`
    /// for a wrong `aws_xray_sdk.flask`.
    pub fn modules_ending(&self, last: &str) -> Vec<&'static str> {
        let mut found: Vec<&'static str> = self
            .entries()
            .map(|(m, _)| m)
            .filter(|m| m.rsplit('.').next() == Some(last))
            .collect();
        found.sort_by_key(|m| (m.len(), *m));
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry_names(module: &str) -> &'static str {
        table()
            .entries()
            .find(|(m, _)| *m == module)
            .unwrap()
            .1
            .names
    }

    #[test]
    fn a_module_one_letter_off_is_the_sibling_that_offers_the_names() {
        let table = table();
        assert_eq!(
            table.near_module("opentelemetry.sdk.trace.exports", &["BatchSpanProcessor"]),
            Some("opentelemetry.sdk.trace.export")
        );
        // Not when the sibling lacks a name the line imports.
        assert_eq!(
            table.near_module("opentelemetry.sdk.trace.exports", &["NoSuchName"]),
            None
        );
    }

    #[test]
    fn the_table_reads_and_holds_the_workspace_packages() {
        let table = table();
        assert!(table.versions.contains_key("aws-xray-sdk"));
        let middleware = table.module("aws_xray_sdk.ext.flask.middleware").unwrap();
        assert!(middleware.offers("XRayMiddleware"));
        assert!(!table.exists("aws_xray_sdk.flask"));
        assert!(table.exists("opentelemetry"));
        assert_eq!(table.sole_distribution("watchtower"), Some("watchtower"));
        assert_eq!(table.sole_distribution("opentelemetry"), None);
        assert_eq!(
            table.modules_offering("OTLPSpanExporter").first(),
            Some(&"opentelemetry.exporter.otlp.proto.http.trace_exporter")
        );
        // A module answering any name says so first: the names are sorted.
        assert!(table.module("flask").unwrap().offers("NoSuchName"));
        for (_, module) in table.entries() {
            let star = module.names.split(' ').any(|n| n == "*");
            assert_eq!(module.any_name, star, "{}", module.names);
        }
        // Every line below the header an entry, sorted for the bisection,
        // and every module found by it.
        let names: Vec<&str> = table.entries().map(|(m, _)| m).collect();
        let lines: Vec<&str> = TABLE
            .lines()
            .filter(|l| !l.starts_with("dist ") && !l.starts_with('#'))
            .map(|l| l.split(' ').next().unwrap())
            .collect();
        assert_eq!(names, lines);
        assert!(
            names.windows(2).all(|w| w[0] < w[1]),
            "the table is not sorted"
        );
        for name in names {
            assert_eq!(table.module(name).map(|m| m.names), Some(entry_names(name)));
        }
    }
}
