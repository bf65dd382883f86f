//! One module per subcommand; each exposes a `run` that the CLI dispatches to.

pub mod assess;
pub mod build;
pub mod check;
pub mod collect;
pub mod init;
pub mod serve;
