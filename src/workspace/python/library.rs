//! What each public callable of the packages a workspace installs accepts,
//! at tracelab's pins: src/rules/python_signatures.txt, generated from the
//! real packages by `python_modules.py --signatures` (the integration test
//! regenerates it, and calls every entry the way the doctor says it refuses
//! to hold it to CPython's own TypeError).

use super::Params;
use crate::rules::sorted_lines::{SortedLines, sorted_lines};

const TABLE: &str = include_str!("../../rules/python_signatures.txt");

/// The entries, sorted by path, below the comments at the top.
static ENTRIES: SortedLines = sorted_lines!(TABLE, header: &["#"]);

/// A library callable as code reaches it.
pub struct Signature {
    /// As CPython's TypeError names it: `TracerProvider.__init__`.
    pub name: &'static str,
    /// How many leading parameters Python passes itself (self, cls):
    /// CPython counts them in its words.
    pub bound: usize,
    pub params: Params,
    /// An instance method reached through its class: `self` is not bound.
    pub through_class: bool,
    /// Parameters annotated with a class of the packages, an instance of
    /// which they ask: (`span_exporter`, `opentelemetry.sdk.trace.export.SpanExporter`).
    pub annotations: Vec<(String, &'static str)>,
    /// For a class: the annotated classes it is one of.
    pub is_a: Vec<&'static str>,
}

impl Signature {
    /// Whether a call with no argument fits: `RequestsInstrumentor()`.
    pub fn takes_no_argument(&self) -> bool {
        let params = &self.params;
        params.positional.len().saturating_sub(params.defaults) <= self.bound
            && params.required_keywords.is_empty()
    }

    /// Whether a keyword argument of this name binds to a parameter.
    pub fn accepts_keyword(&self, keyword: &str) -> bool {
        self.params.var_keyword || self.params.by_keyword().any(|p| p == keyword)
    }

    /// The parameter `keyword` is a misspelling of, when one is.
    pub fn near_keyword(&self, keyword: &str) -> Option<&str> {
        let mut near = self
            .params
            .by_keyword()
            .filter(|p| crate::rules::names::is_near_miss(keyword, &p.to_ascii_uppercase()));
        match (near.next(), near.next()) {
            (Some(one), None) => Some(one),
            _ => None,
        }
    }
}

/// The callable at `path` (`opentelemetry.sdk.trace.TracerProvider`,
/// `aws_xray_sdk.core.xray_recorder.configure`, `flask.Flask().run`), or a
/// method reached through its class (`RequestsInstrumentor.instrument`:
/// no instance, so nothing is bound but a classmethod's class).
pub fn signature(path: &str) -> Option<Signature> {
    // Most calls are the project's or the standard library's: told apart
    // by their first part, without a search.
    let root = path.split('.').next().unwrap_or(path);
    if !roots().any(|r| r == root) {
        return None;
    }
    if let Some(found) = entry(path, false) {
        return Some(found);
    }
    let (class, method) = path.rsplit_once('.')?;
    entry(&format!("{class}().{method}"), true)
}

/// The top-level packages the table holds, from its `# roots:` line.
fn roots() -> impl Iterator<Item = &'static str> {
    TABLE
        .lines()
        .take(3)
        .find_map(|line| line.strip_prefix("# roots: "))
        .unwrap_or("")
        .split(' ')
}

/// The table's line for `path`, read; `through_class` for a method the
/// table lists as reached through an instance.
fn entry(path: &str, through_class: bool) -> Option<Signature> {
    let line = ENTRIES.find(path)?;
    let mut fields = line.splitn(4, ' ').skip(1);
    let name = fields.next()?;
    let (bound, through_class) = match fields.next()? {
        // A classmethod binds its class, a staticmethod nothing, however
        // they are reached.
        "c" => (1, false),
        "0" => (0, false),
        _ if through_class => (0, true),
        count => (count.parse().ok()?, false),
    };
    let (params, annotations, is_a) = parse(fields.next().unwrap_or(""));
    Some(Signature {
        name,
        bound,
        params,
        through_class,
        annotations,
        is_a,
    })
}

/// What a def's parameters and annotations say, and what a class is.
type Parsed = (Params, Vec<(String, &'static str)>, Vec<&'static str>);

/// Parameters as a def writes them without defaults, an annotation after a
/// colon: `a b:pkg.Class= / *args k j= **kw`, then `^pkg.Class,...` for a
/// class.
fn parse(text: &'static str) -> Parsed {
    let mut params = Params::default();
    let mut annotations = Vec::new();
    let mut is_a = Vec::new();
    let mut keyword_only = false;
    for token in text.split(' ').filter(|t| !t.is_empty()) {
        if let Some(classes) = token.strip_prefix('^') {
            is_a.extend(classes.split(','));
        } else if token == "/" {
            params.positional_only = params.positional.len();
        } else if token.starts_with("**") {
            params.var_keyword = true;
        } else if let Some(rest) = token.strip_prefix('*') {
            params.var_positional |= !rest.is_empty();
            keyword_only = true;
        } else {
            let (token, default) = match token.strip_suffix('=') {
                Some(token) => (token, true),
                None => (token, false),
            };
            let name = match token.split_once(':') {
                Some((name, class)) => {
                    annotations.push((name.to_string(), class));
                    name.to_string()
                }
                None => token.to_string(),
            };
            if keyword_only {
                if !default {
                    params.required_keywords.push(name.clone());
                }
                params.keyword_only.push(name);
            } else {
                params.defaults += usize::from(default);
                params.positional.push(name);
            }
        }
    }
    (params, annotations, is_a)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every entry is found by the bisection: the table is sorted
    /// (comments sort first).
    #[test]
    fn every_entry_is_found_by_the_search() {
        // Comments ("#") come first, and sort before any path.
        let paths: Vec<&str> = TABLE
            .lines()
            .skip_while(|l| l.starts_with('#'))
            .map(crate::rules::sorted_lines::first_word)
            .collect();
        assert!(
            !TABLE
                .lines()
                .skip_while(|l| l.starts_with('#'))
                .any(|l| l.starts_with('#'))
        );
        assert!(paths.len() > 100, "{} entries", paths.len());
        assert!(
            paths.windows(2).all(|w| w[0] < w[1]),
            "the table is not sorted"
        );
        for line in TABLE.lines().filter(|l| !l.starts_with('#')) {
            assert_eq!(
                ENTRIES.find(crate::rules::sorted_lines::first_word(line)),
                Some(line)
            );
        }
    }

    #[test]
    fn an_entry_reads_as_the_parameters_it_names() {
        let (params, annotations, is_a) = parse("a b:p.C= / c= *args k j= **kwargs ^p.D,p.E");
        assert_eq!(annotations, [("b".to_string(), "p.C")]);
        assert_eq!(is_a, ["p.D", "p.E"]);
        assert_eq!(params.positional, ["a", "b", "c"]);
        assert_eq!(params.positional_only, 2);
        assert_eq!(params.defaults, 2);
        assert!(params.var_positional && params.var_keyword);
        assert_eq!(params.keyword_only, ["k", "j"]);
        assert_eq!(params.required_keywords, ["k"]);
        let (bare, _, _) = parse("* k=");
        assert!(!bare.var_positional);
        assert_eq!(bare.keyword_only, ["k"]);
    }

    #[test]
    fn the_middleware_needs_its_recorder() {
        let middleware = signature("aws_xray_sdk.ext.flask.middleware.XRayMiddleware").unwrap();
        assert_eq!(middleware.bound, 1);
        assert_eq!(middleware.params.positional, ["self", "app", "recorder"]);
        assert_eq!(middleware.params.defaults, 0);
        let provider = signature("opentelemetry.sdk.trace.TracerProvider").unwrap();
        assert!(provider.accepts_keyword("resource"));
        assert_eq!(provider.near_keyword("resouce"), Some("resource"));
        assert!(signature("opentelemetry.sdk.trace.NoSuchThing").is_none());
        assert!(roots().any(|r| r == "aws_xray_sdk"));
        assert!(signature("os.getenv").is_none());
        // Through its class, an instance method binds nothing.
        let instrument = "opentelemetry.instrumentation.requests.RequestsInstrumentor";
        assert_eq!(
            signature(&format!("{instrument}().instrument"))
                .unwrap()
                .bound,
            1
        );
        let unbound = signature(&format!("{instrument}.instrument")).unwrap();
        assert_eq!(
            (unbound.bound, unbound.params.positional[0].as_str()),
            (0, "self")
        );
        assert!(unbound.through_class);
        // A staticmethod through its class is the same callable.
        let flask = "opentelemetry.instrumentation.flask.FlaskInstrumentor";
        let static_ = signature(&format!("{flask}.instrument_app")).unwrap();
        assert_eq!(static_.bound, 0);
        assert!(!static_.through_class);
    }
}
