//! opsmeter: a static site generator for DevOps maturity.
//!
//! The pipeline is load → compute → render (see `DESIGN.md`): [`config`] reads
//! `opsmeter.toml`, [`site`] loads content and themes and writes `public/`.
//! Subcommands live in [`cmd`], declared in [`cli`].

pub mod assess;
pub mod cli;
pub mod cmd;
pub mod collect;
pub mod config;
pub mod diagnostics;
pub mod facts;
pub mod fsutil;
pub mod metrics;
pub mod model;
pub mod output;
pub mod probes;
pub mod site;
pub mod sources;
pub mod store;
pub mod time;
pub mod toml_file;
