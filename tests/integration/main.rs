//! Every integration test, in one binary: the crate (with Ruff's linter)
//! is linked once rather than once per file, as just and cargo-generate
//! do. Each file is a module named as the file was (but wheel.rs, `a_wheel`:
//! see there); `cargo test NAME::` runs one (`cargo test doctor_realrepos::`).

mod common;

mod add_week1;
mod ci_action;
mod class;
mod completions;
mod compose_differential;
mod dockerfile_differential;
mod doctor_bounded;
mod doctor_checklist;
mod doctor_code;
mod doctor_compose_features;
mod doctor_deep;
mod doctor_failures;
mod doctor_fix;
mod doctor_formats;
mod doctor_interpolation;
mod doctor_never_panics;
mod doctor_online;
mod doctor_python;
mod doctor_realrepos;
mod doctor_sdk_forms;
mod env_cmd;
mod env_set_compose;
mod fix_harness;
mod listen;
mod listen_bounded;
mod listen_traces;
mod listen_web;
mod merge_corpus;
mod merge_interrupt;
mod new_cli;
mod new_e2e;
mod new_interactive;
mod new_workspace_tools;
mod precommit;
mod python_modules;
mod python_semantics;
mod query;
mod readme;
mod release;
mod run;
mod update;
// Named to sort first: libtest starts tests in name order, two at a time
// on CI, and this one's build (every dependency, through zig) is the
// longest; named `wheel`, it ran four minutes last, beside an idle thread.
#[path = "wheel.rs"]
mod a_wheel;
