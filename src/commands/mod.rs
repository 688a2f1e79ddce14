//! One module per subcommand.

pub mod add;
pub mod class;
pub mod completions;
pub mod doctor;
pub mod env;
pub mod listen;
pub mod new;
pub mod run;
pub mod show;
pub mod update;
