//! The model of a repository, read once: compose files and their services,
//! `.env` and the shell, Gitpod variables, the running container, the Python
//! code, collector configs and X-Ray rules. Nothing here knows about
//! findings or printing; doctor, env and (soon) run and add all read it.

pub mod compose;
pub mod context;
pub mod dotenv;
pub mod interpolate;
pub mod layers;
pub mod process;
pub mod url;
pub mod yaml_lines;
