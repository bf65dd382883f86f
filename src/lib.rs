//! opsmeter: a static site generator for DevOps maturity.
//!
//! The pipeline is sources → facts → metrics and model → site; the map of the
//! modules, and where a new probe, metric, chart, host or page goes, is
//! `docs/ARCHITECTURE.md`. Subcommands live in [`cmd`], declared in [`cli`].

pub mod assess;
pub mod cli;
pub mod cmd;
pub mod collect;
pub mod config;
pub mod diagnostics;
pub mod facts;
pub mod fsutil;
pub mod message;
pub mod metrics;
pub mod model;
pub mod output;
pub mod probes;
pub mod site;
pub mod sources;
pub mod store;
pub mod time;
pub mod toml_file;
pub mod workspace;
