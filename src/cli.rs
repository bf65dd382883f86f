//! Command-line interface: clap declarations (their doc comments are the
//! `--help` text) and the dispatch to `cmd::*`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::cmd;

/// opsmeter: DevOps maturity as a static site. DORA metrics, practice scores
/// and a bilingual DevOps handbook, from your repositories, in one binary.
#[derive(Debug, Parser)]
#[command(name = "opsmeter", version, about, long_about = None)]
pub struct Cli {
    /// The site root (where opsmeter.toml and content/ live); defaults to the current directory.
    #[arg(long, global = true, value_name = "DIR")]
    pub root: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Render the site into public/ (or --output). The previous output is replaced
    /// only when the whole build succeeds.
    Build {
        /// Output folder (default: public/ under the site root).
        #[arg(long, short, value_name = "DIR")]
        output: Option<PathBuf>,
        /// Include pages marked `draft = true`.
        #[arg(long)]
        drafts: bool,
    },
    /// Build in memory without writing and report every broken internal link,
    /// missing anchor, missing image and template error, with file and line.
    Check {
        /// Include pages marked `draft = true`.
        #[arg(long)]
        drafts: bool,
    },
    /// Create a new site in DIR (default: the current directory): opsmeter.toml,
    /// a first content page and an empty templates/ folder. Never overwrites files.
    Init {
        /// Where to create the site.
        dir: Option<PathBuf>,
    },
}

/// Runs the command line and returns the process exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging();
    let result = match cli.command {
        Command::Build { output, drafts } => cmd::build::run(cli.root, output, drafts),
        Command::Check { drafts } => cmd::check::run(cli.root, drafts),
        Command::Init { dir } => cmd::init::run(dir),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            report(&e);
            ExitCode::FAILURE
        }
    }
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("OPSMETER_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .init();
}

/// Prints an error and its causes to stderr, one per line, without a backtrace.
fn report(e: &anyhow::Error) {
    if let Some(d) = e.downcast_ref::<crate::diagnostics::Diagnostics>() {
        eprintln!("error: {}", d.to_string().replace('\n', "\nerror: "));
        return;
    }
    eprintln!("error: {e}");
    for cause in e.chain().skip(1) {
        eprintln!("  caused by: {cause}");
    }
}
