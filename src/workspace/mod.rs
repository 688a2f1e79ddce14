//! The model of a repository, read once: compose files and their services,
//! `.env` and the shell, Gitpod variables, the running container, the Python
//! code, collector configs and X-Ray rules. Nothing here knows about
//! findings or printing; doctor, env, run, add and update all read it.

pub mod collector;
pub mod committed;
pub mod compose;
pub mod context;
pub mod destination;
pub mod dockerfile;
pub mod dotenv;
pub mod frontend;
pub mod generated;
pub mod interpolate;
pub mod layers;
pub mod process;
pub mod python;
pub mod read;
pub mod url;
pub mod xray;
pub mod yaml_lines;

mod root;

pub use root::{is_workspace, locate, workspaces_below};

/// The file a workspace tracelab made records its answers in.
pub const ANSWERS_FILE: &str = ".tracelab.yml";
/// tracelab's merge base: every file as it last generated them
/// (`scaffold::base`).
pub const BASE_FILE: &str = ".tracelab/base.yml";
/// Where merge bases were kept before, one file per generated file.
pub const LEGACY_BASE_DIR: &str = ".tracelab/base";

/// `a/./b/../c` as `a/c`, without asking the file system (a link stays a
/// link): how Compose and the shell read a path they join.
pub fn lexically_normal(path: &std::path::Path) -> std::path::PathBuf {
    let mut out = std::path::PathBuf::new();
    for part in path.components() {
        match part {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}
