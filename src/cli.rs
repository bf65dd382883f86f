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
        /// Dashboards window start: YYYY-MM-DD (00:00 UTC) or RFC 3339. Default: --until minus dora.window_days.
        #[arg(long, value_name = "DATE")]
        since: Option<String>,
        /// Dashboards window end, exclusive. Default: now.
        #[arg(long, value_name = "DATE")]
        until: Option<String>,
        /// Skip malformed events-file rows and coverage reports with a warning instead of failing.
        #[arg(long)]
        lenient: bool,
    },
    /// Build in memory without writing and report every broken internal link,
    /// missing anchor, missing image and template error, with file and line.
    Check {
        /// Include pages marked `draft = true`.
        #[arg(long)]
        drafts: bool,
    },
    /// DORA metrics of repositories over a window: a table, or JSON with --json.
    /// Without --repo, the repositories of opsmeter.toml, else the current checkout.
    Assess {
        /// A git repository to assess (repeatable). Overrides [[repos]] of opsmeter.toml.
        #[arg(long = "repo", value_name = "PATH")]
        repos: Vec<PathBuf>,
        /// Window start: YYYY-MM-DD (00:00 UTC) or RFC 3339. Default: --until minus dora.window_days (90).
        #[arg(long, value_name = "DATE")]
        since: Option<String>,
        /// Window end, exclusive: YYYY-MM-DD (00:00 UTC) or RFC 3339. Default: now.
        #[arg(long, value_name = "DATE")]
        until: Option<String>,
        /// Print the JSON report (the stable contract) instead of a table.
        #[arg(long)]
        json: bool,
        /// Exit 1 when any metric's tier is below TIER (elite, high, medium, low).
        #[arg(long, value_name = "TIER")]
        fail_under: Option<String>,
        /// Skip malformed events-file rows with a warning instead of failing.
        #[arg(long)]
        lenient: bool,
        /// Benchmark edition for tiers (an id in data/benchmarks.toml, e.g. dora-2021).
        #[arg(long, value_name = "ID")]
        benchmarks: Option<String>,
    },
    /// Gather facts of every repository in opsmeter.toml (local git, GitHub,
    /// GitLab) into data/facts/, and a summary line into data/history/.
    /// Exit 2 when any repository failed (the others are still collected).
    Collect {
        /// Read pull requests and issues updated since DATE (YYYY-MM-DD or RFC 3339)
        /// instead of since the last collection.
        #[arg(long, value_name = "DATE")]
        since: Option<String>,
        /// Collect only shard K of N (a stable slice by repository name), e.g. 2/8.
        #[arg(long, value_name = "K/N")]
        shard: Option<String>,
    },
    /// Build the site into a temporary folder and serve it with live reload:
    /// edits to content, templates, static files, data or opsmeter.toml rebuild
    /// and reload open pages; a failed rebuild shows its error in the browser.
    Serve {
        /// Address to listen on. Anything but loopback is reachable from other machines.
        #[arg(long, default_value = "127.0.0.1", value_name = "ADDR")]
        interface: std::net::IpAddr,
        /// Port to listen on (0 picks a free one).
        #[arg(long, short, default_value_t = 1111)]
        port: u16,
        /// Open the site in a browser.
        #[arg(long)]
        open: bool,
        /// Include pages marked `draft = true`.
        #[arg(long)]
        drafts: bool,
        /// Dashboards window start (see `build`).
        #[arg(long, value_name = "DATE")]
        since: Option<String>,
        /// Dashboards window end (see `build`).
        #[arg(long, value_name = "DATE")]
        until: Option<String>,
        /// Skip malformed events-file rows and coverage reports with a warning.
        #[arg(long)]
        lenient: bool,
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
        Command::Build {
            output,
            drafts,
            since,
            until,
            lenient,
        } => dashboard_options(since, until, lenient)
            .and_then(|d| cmd::build::run(cli.root, output, drafts, d)),
        Command::Check { drafts } => cmd::check::run(cli.root, drafts),
        Command::Init { dir } => cmd::init::run(dir),
        Command::Serve {
            interface,
            port,
            open,
            drafts,
            since,
            until,
            lenient,
        } => dashboard_options(since, until, lenient).and_then(|dashboards| {
            cmd::serve::run(cmd::serve::ServeOptions {
                root: cli.root,
                interface,
                port,
                open,
                drafts,
                dashboards,
            })
        }),
        Command::Collect { since, shard } => cmd::collect::run(cmd::collect::CollectOptions {
            root: cli.root,
            since,
            shard,
        }),
        Command::Assess {
            repos,
            since,
            until,
            json,
            fail_under,
            lenient,
            benchmarks,
        } => cmd::assess::run(cmd::assess::AssessOptions {
            root: cli.root,
            repos,
            since,
            until,
            json,
            fail_under,
            lenient,
            benchmarks,
        }),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.is::<cmd::collect::PartialFailure>() => {
            report(&e);
            ExitCode::from(2)
        }
        Err(e) => {
            report(&e);
            ExitCode::FAILURE
        }
    }
}

/// The dashboards' window flags, parsed once, with the clock read here.
fn dashboard_options(
    since: Option<String>,
    until: Option<String>,
    lenient: bool,
) -> anyhow::Result<crate::site::dashboards::DashboardOptions> {
    Ok(crate::site::dashboards::DashboardOptions {
        window: crate::assess::WindowArgs::parse(
            since.as_deref(),
            until.as_deref(),
            chrono::Utc::now(),
        )?,
        lenient,
    })
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("OPSMETER_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .event_format(Plain)
        .init();
}

/// Log lines as a user reads them: `warning: …` and `error: …`, like the
/// command's own messages; `debug`/`info`/`trace` (asked for with
/// `OPSMETER_LOG`) with their level and elapsed time.
struct Plain;

impl<S, N> tracing_subscriber::fmt::FormatEvent<S, N> for Plain
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
    N: for<'a> tracing_subscriber::fmt::FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &tracing_subscriber::fmt::FmtContext<'_, S, N>,
        mut writer: tracing_subscriber::fmt::format::Writer<'_>,
        event: &tracing::Event<'_>,
    ) -> std::fmt::Result {
        let level = *event.metadata().level();
        if level == tracing::Level::WARN {
            write!(writer, "warning: ")?;
        } else if level == tracing::Level::ERROR {
            write!(writer, "error: ")?;
        } else {
            write!(writer, "{}: ", level.as_str().to_ascii_lowercase())?;
        }
        ctx.field_format().format_fields(writer.by_ref(), event)?;
        writeln!(writer)
    }
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
