//! Which of the backend's functions run, and when: at import (module-level
//! code, and what it calls), or per request (route and hook functions, and
//! what they call). A defect in code that never runs is no defect yet; one
//! that runs at import stops the backend, one in a request fails it.
//!
//! Calls are resolved by name across the project's modules: `f()` to the
//! function `f` of the same module or the one it was imported from,
//! `Class.m()` and `self.m()` to that class's method, `Class()` to its
//! `__init__`, and `obj.m()` on an object of unknown class to every project
//! method `m` (for reach only: such a call is never judged by its arity).

use std::collections::{HashMap, VecDeque};
use std::path::Path;

use super::{Call, Function, PyFile, Value};

/// Hooks Flask runs in every request, whatever its route.
pub const EVERY_REQUEST_HOOKS: &[&str] = &[
    "before_request",
    "after_request",
    "teardown_request",
    "teardown_appcontext",
    "before_app_request",
    "after_app_request",
];

/// Decorators and registrars whose function Flask calls per request:
/// routes, the hooks of every request, and these.
const REQUEST_HOOKS: &[&str] = &[
    "route",
    "get",
    "post",
    "put",
    "patch",
    "delete",
    "errorhandler",
    "app_errorhandler",
    "before_first_request",
    "context_processor",
    "add_url_rule",
];

fn is_request_hook(name: &str) -> bool {
    REQUEST_HOOKS.contains(&name) || EVERY_REQUEST_HOOKS.contains(&name)
}

/// A function of the project: (file index, function index).
pub type FunctionId = (usize, usize);

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum When {
    /// While the backend is imported: a failure stops it.
    Import,
    /// In a request handled by this route or hook function.
    Request(FunctionId),
}

/// A call resolved to exactly one project function, with how its
/// parameters are bound: `bound` leading ones (self, cls) are filled by
/// Python itself.
pub struct Target {
    pub function: FunctionId,
    pub bound: usize,
}

pub struct Reach<'a> {
    files: &'a [PyFile],
    modules: Vec<String>,
    /// Each reached function, and when it first runs.
    when: HashMap<FunctionId, When>,
}

impl<'a> Reach<'a> {
    pub fn of(files: &'a [PyFile], backend_dir: &Path) -> Self {
        let modules = files
            .iter()
            .map(|f| module_name(&f.path, backend_dir))
            .collect();
        let mut reach = Reach {
            files,
            modules,
            when: HashMap::new(),
        };
        reach.walk();
        reach
    }

    /// When code in `function` of file `file` runs (None: never).
    pub fn when(&self, file: usize, function: Option<usize>) -> Option<When> {
        match function {
            None => Some(When::Import),
            Some(index) => self.when.get(&(file, index)).copied(),
        }
    }

    pub fn function(&self, id: FunctionId) -> &'a Function {
        &self.files[id.0].facts.functions[id.1]
    }

    pub fn file_path(&self, file: usize) -> &'a std::path::Path {
        &self.files[file].path
    }

    /// Every call the file makes, at module level and in its functions.
    pub fn file_calls(&self, file: usize) -> &'a [Call] {
        &self.files[file].facts.calls
    }

    pub fn file(&self, id: FunctionId) -> &'a PyFile {
        &self.files[id.0]
    }

    /// Whether anything refers to the function: a call, a decorator that
    /// registers it, or its name passed as a value.
    pub fn is_reached(&self, id: FunctionId) -> bool {
        self.when.contains_key(&id)
    }

    fn walk(&mut self) {
        let mut queue = VecDeque::new();
        for (file_index, file) in self.files.iter().enumerate() {
            for (index, function) in file.facts.functions.iter().enumerate() {
                let id = (file_index, index);
                if function.decorators.iter().any(|d| is_request_hook(last(d))) {
                    queue.push_back((id, When::Request(id)));
                }
            }
            for call in file.facts.calls.iter().filter(|c| c.function.is_none()) {
                self.enqueue_call(file_index, call, When::Import, &mut queue);
            }
        }
        while let Some((id, when)) = queue.pop_front() {
            // Import time wins: it is the earlier and the worse.
            match self.when.get(&id) {
                Some(When::Import) => continue,
                Some(When::Request(_)) if when != When::Import => continue,
                _ => {}
            }
            self.when.insert(id, when);
            let file = &self.files[id.0];
            for call in file.facts.calls.iter().filter(|c| c.function == Some(id.1)) {
                self.enqueue_call(id.0, call, when, &mut queue);
            }
        }
    }

    fn enqueue_call(
        &self,
        file: usize,
        call: &Call,
        when: When,
        queue: &mut VecDeque<(FunctionId, When)>,
    ) {
        let registrar = is_request_hook(call.method());
        for id in self.callees(file, call) {
            queue.push_back((id, when));
        }
        // Functions passed by name: a registrar calls them per request;
        // anything else may call them as soon as it is called itself.
        for name in call.passed_names() {
            for id in self.named(file, name, call.function) {
                queue.push_back((id, if registrar { When::Request(id) } else { when }));
            }
        }
    }

    /// Every project function the call may run.
    fn callees(&self, file: usize, call: &Call) -> Vec<FunctionId> {
        if let Some(target) = self.target(file, call) {
            return vec![target.function];
        }
        let parts: Vec<&str> = call.name.split('.').collect();
        match parts.as_slice() {
            [name] => self.named(file, name, call.function),
            // `db.query()` on an object of the project (`from lib.db import
            // db`, `db = Db()`): any method of that name. On anything else
            // (`app.run()` on Flask's app) it is not the project's code.
            [head, .., method] if self.is_project_object(file, head) => self.methods_named(method),
            _ => Vec::new(),
        }
    }

    fn is_project_object(&self, file: usize, name: &str) -> bool {
        if self.imported_from(file, name).is_some() {
            return true;
        }
        self.files[file].facts.assignments.iter().any(|a| {
            a.target == name
                && matches!(&a.value, Value::Call(class, _) if self.class_defined(file, class))
        })
    }

    fn class_defined(&self, file: usize, class: &str) -> bool {
        let (module, class) = self.class_home(file, class);
        self.files[module]
            .facts
            .functions
            .iter()
            .any(|f| f.class.as_deref() == Some(class.as_str()))
    }

    /// The one function a call runs, when its name says which.
    pub fn target(&self, file: usize, call: &Call) -> Option<Target> {
        let parts: Vec<&str> = call.name.split('.').collect();
        let candidates: Vec<(FunctionId, usize)> = match parts.as_slice() {
            [name] => {
                let functions = self.named(file, name, call.function);
                if functions.is_empty() {
                    // A class: its __init__, with self bound.
                    self.methods_of(file, name, "__init__")
                        .into_iter()
                        .map(|id| (id, 1))
                        .collect()
                } else {
                    functions.into_iter().map(|id| (id, 0)).collect()
                }
            }
            ["self", method] => {
                let class = self.files[file]
                    .facts
                    .function(call.function)
                    .and_then(|f| f.class.clone())?;
                self.methods_of(file, &class, method)
                    .into_iter()
                    .map(|id| (id, usize::from(!self.is_static(id))))
                    .collect()
            }
            [head, method] => {
                let in_class = self.methods_of(file, head, method);
                if in_class.is_empty() {
                    // `module.f()` for a project module imported by name.
                    let module = self.imported_module(file, head)?;
                    self.module_functions(module, method)
                        .into_iter()
                        .map(|id| (id, 0))
                        .collect()
                } else {
                    // `Class.m()`: a classmethod has cls bound.
                    in_class
                        .into_iter()
                        .map(|id| (id, usize::from(self.is_classmethod(id))))
                        .collect()
                }
            }
            _ => Vec::new(),
        };
        match candidates.as_slice() {
            [(function, bound)] => Some(Target {
                function: *function,
                bound: *bound,
            }),
            _ => None,
        }
    }

    /// Plain functions called `name` visible from the call: defined in the
    /// same module (at its top, or in the calling function), or imported
    /// from a project module.
    fn named(&self, file: usize, name: &str, caller: Option<usize>) -> Vec<FunctionId> {
        let local: Vec<FunctionId> = self.files[file]
            .facts
            .functions
            .iter()
            .enumerate()
            .filter(|(_, f)| f.name == name && f.class.is_none())
            .filter(|(_, f)| f.parent.is_none() || f.parent == caller)
            .map(|(index, _)| (file, index))
            .collect();
        if !local.is_empty() {
            return local;
        }
        let Some((module, original)) = self.imported_from(file, name) else {
            return Vec::new();
        };
        self.module_functions(module, &original)
    }

    fn module_functions(&self, module: usize, name: &str) -> Vec<FunctionId> {
        self.files[module]
            .facts
            .functions
            .iter()
            .enumerate()
            .filter(|(_, f)| f.name == name && f.class.is_none() && f.parent.is_none())
            .map(|(index, _)| (module, index))
            .collect()
    }

    /// Methods `method` of the class `class`, defined in the module or
    /// imported into it.
    fn methods_of(&self, file: usize, class: &str, method: &str) -> Vec<FunctionId> {
        let (module, class) = self.class_home(file, class);
        self.files[module]
            .facts
            .functions
            .iter()
            .enumerate()
            .filter(|(_, f)| f.name == method && f.class.as_deref() == Some(class.as_str()))
            .map(|(index, _)| (module, index))
            .collect()
    }

    fn methods_named(&self, method: &str) -> Vec<FunctionId> {
        self.files
            .iter()
            .enumerate()
            .flat_map(|(file, f)| {
                f.facts
                    .functions
                    .iter()
                    .enumerate()
                    .filter(|(_, f)| f.name == method && f.class.is_some())
                    .map(move |(index, _)| (file, index))
            })
            .collect()
    }

    /// The module a class named in `file` is defined in, and its name there.
    fn class_home(&self, file: usize, class: &str) -> (usize, String) {
        self.imported_from(file, class)
            .unwrap_or_else(|| (file, class.to_string()))
    }

    /// `from services.home import HomeActivities`: the project module the
    /// name comes from, and its name there.
    fn imported_from(&self, file: usize, name: &str) -> Option<(usize, String)> {
        let facts = &self.files[file].facts;
        if let Some(import) = facts.imported_names.iter().find(|i| i.name == name) {
            let (module, original) = import.target.rsplit_once('.')?;
            let module = self.resolve_module(file, module)?;
            return Some((module, original.to_string()));
        }
        // `from services.create_reply import *`: the module that defines it.
        facts
            .imported_names
            .iter()
            .filter(|i| i.name == "*")
            .filter_map(|i| self.resolve_module(file, i.target.strip_suffix(".*")?))
            .find(|&module| {
                self.files[module].facts.functions.iter().any(|f| {
                    f.parent.is_none()
                        && (f.class.as_deref() == Some(name) || f.class.is_none() && f.name == name)
                })
            })
            .map(|module| (module, name.to_string()))
    }

    /// `import lib.db as db` or `from lib import db`: the project module.
    fn imported_module(&self, file: usize, name: &str) -> Option<usize> {
        let facts = &self.files[file].facts;
        let import = facts.imported_names.iter().find(|i| i.name == name)?;
        self.resolve_module(file, &import.target)
    }

    /// Whether the modules `file` imports with `*` bind `name`: Some(false)
    /// only when every one is a module of the project and none binds it
    /// (then the name is unbound, as CPython will find). None when a star
    /// import is from outside the project, or the name is private.
    pub fn star_binds(&self, file: usize, name: &str) -> Option<bool> {
        self.star_binds_within(file, name, 3)
    }

    fn star_binds_within(&self, file: usize, name: &str, depth: u8) -> Option<bool> {
        if name.starts_with('_') || depth == 0 {
            return None;
        }
        for import in self.files[file]
            .facts
            .imported_names
            .iter()
            .filter(|i| i.name == "*")
        {
            let module = self.resolve_module(file, import.target.strip_suffix(".*")?)?;
            // A module that does not compile is its own finding; what it
            // would bind is unknown.
            if self.files[module].syntax_error.is_some() {
                return None;
            }
            if self.files[module]
                .facts
                .top_level_names
                .iter()
                .any(|n| n == name)
                || self.star_binds_within(module, name, depth - 1)?
            {
                return Some(true);
            }
        }
        Some(false)
    }

    /// Every name `file` can see at its top level: its own, what it
    /// imports, and what its star imports from the project give. The file
    /// and line each is bound at.
    pub fn visible_names(&self, file: usize) -> Vec<(String, usize)> {
        let facts = &self.files[file].facts;
        let mut names: Vec<(String, usize)> = facts
            .top_level_names
            .iter()
            .map(|n| (n.clone(), file))
            .collect();
        for import in facts.imported_names.iter().filter(|i| i.name == "*") {
            if let Some(module) = import
                .target
                .strip_suffix(".*")
                .and_then(|m| self.resolve_module(file, m))
            {
                names.extend(
                    self.files[module]
                        .facts
                        .top_level_names
                        .iter()
                        .map(|n| (n.clone(), module)),
                );
            }
        }
        names
    }

    fn resolve_module(&self, file: usize, module: &str) -> Option<usize> {
        let dots = module.len() - module.trim_start_matches('.').len();
        let absolute = if dots > 0 {
            // Relative to the importing module's package.
            let own = &self.modules[file];
            let mut package: Vec<&str> = own.split('.').collect();
            for _ in 0..dots {
                package.pop();
            }
            let rest = module.trim_start_matches('.');
            let mut parts = package;
            if !rest.is_empty() {
                parts.push(rest);
            }
            parts.join(".")
        } else {
            module.to_string()
        };
        self.modules.iter().position(|m| *m == absolute)
    }

    fn is_static(&self, id: FunctionId) -> bool {
        self.function(id)
            .decorators
            .iter()
            .any(|d| d == "staticmethod")
    }

    fn is_classmethod(&self, id: FunctionId) -> bool {
        self.function(id)
            .decorators
            .iter()
            .any(|d| d == "classmethod")
    }
}

fn last(dotted: &str) -> &str {
    dotted.rsplit('.').next().unwrap_or(dotted)
}

/// `services/home_activities.py` under the backend: `services.home_activities`.
fn module_name(path: &Path, backend_dir: &Path) -> String {
    let relative = path.strip_prefix(backend_dir).unwrap_or(path);
    let mut parts: Vec<String> = relative
        .with_extension("")
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if parts.last().is_some_and(|p| p == "__init__") {
        parts.pop();
    }
    parts.join(".")
}
