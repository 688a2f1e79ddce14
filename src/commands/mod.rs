//! One module per subcommand.

pub mod new;
pub mod update;
