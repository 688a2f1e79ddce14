//! The routes `--deep` asks: every one the backend's code declares with a
//! path that needs no parameter (`@app.route("/api/activities/home")`,
//! `@app.get(...)`, a blueprint's), each asked with GET. A route that
//! takes only POST answers 405, and is left out of the report.

use crate::workspace::context::Context;
use crate::workspace::python::Value;

/// The lab's route: its trace carries the lab's manual span.
pub use crate::rules::lab::ROUTE as LAB_ROUTE;

#[derive(Debug, Clone, PartialEq)]
pub struct Route {
    pub path: String,
    /// `app.py:40`, in the backend folder: where the route is declared.
    pub at: String,
}

/// Each route once, in the order the code declares them.
pub fn gettable(ctx: &Context) -> Vec<Route> {
    let mut routes: Vec<Route> = Vec::new();
    for (file, call) in ctx.live_calls() {
        if !matches!(call.method(), "route" | "get") || call.name.matches('.').count() != 1 {
            continue;
        }
        let Some(Value::Str(path)) = call.args.first() else {
            continue;
        };
        if !path.starts_with('/') || path.contains('<') || routes.iter().any(|r| &r.path == path) {
            continue;
        }
        let relative = file
            .path
            .strip_prefix(&ctx.backend_dir)
            .unwrap_or(&file.path)
            .display()
            .to_string();
        routes.push(Route {
            path: path.clone(),
            at: format!("{relative}:{}", call.line),
        });
    }
    routes
}
