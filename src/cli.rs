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
    /// Build the site in memory and serve it with live reload (nothing is
    /// written): an edit to content, templates, static files, data or
    /// opsmeter.toml rebuilds what it affects and reloads open pages; a failed
    /// rebuild shows its error in the browser and the last good site stays served.
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

/// Logging to stderr, filtered by `OPSMETER_LOG` (default `warn`): a level
/// (`debug`), targets with levels (`opsmeter=debug,gix=warn`), or both, comma-separated.
/// Parsed with `filter::Targets` rather than `EnvFilter`: the latter pulls in
/// regex-automata's DFA builder, which then runs for every regular expression the
/// process compiles (syntect's grammars included) and cost ~20 % of a handbook build.
fn init_logging() {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    let (filter, problem) = log_filter(std::env::var("OPSMETER_LOG").ok().as_deref());
    tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                .event_format(Plain),
        )
        .with(filter)
        .init();
    if let Some(problem) = problem {
        tracing::warn!("{problem}");
    }
}

/// The filter `OPSMETER_LOG` asks for; when it cannot be read, `warn` and why.
fn log_filter(value: Option<&str>) -> (tracing_subscriber::filter::Targets, Option<String>) {
    let default = tracing_subscriber::filter::Targets::new().with_default(tracing::Level::WARN);
    let directives: Vec<&str> = value
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .collect();
    if directives.is_empty() {
        return (default, None);
    }
    match directives.join(",").parse() {
        Ok(filter) => (filter, None),
        Err(e) => (
            default,
            Some(format!(
                "OPSMETER_LOG={:?} is not a log filter ({e}); expected a level \
                 (error, warn, info, debug, trace, off) or target=level pairs separated by \
                 commas, e.g. `debug` or `opsmeter=debug,gix=warn`; logging warnings only",
                value.unwrap_or("")
            )),
        ),
    }
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

#[cfg(test)]
mod tests {
    use super::log_filter;
    use tracing::Level;

    #[test]
    fn unset_or_empty_log_filter_shows_warnings_only() {
        for value in [None, Some(""), Some(" , ")] {
            let (f, problem) = log_filter(value);
            assert!(problem.is_none(), "{value:?}");
            assert!(f.would_enable("opsmeter::site", &Level::WARN));
            assert!(!f.would_enable("opsmeter::site", &Level::INFO));
        }
    }

    #[test]
    fn a_bare_level_applies_to_every_target() {
        let (f, problem) = log_filter(Some("debug"));
        assert!(problem.is_none());
        assert!(f.would_enable("opsmeter::site::build", &Level::DEBUG));
        assert!(f.would_enable("gix_pack", &Level::DEBUG));
        assert!(!f.would_enable("opsmeter", &Level::TRACE));
        let (f, _) = log_filter(Some("DEBUG"));
        assert!(f.would_enable("opsmeter", &Level::DEBUG));
    }

    #[test]
    fn targets_with_levels_filter_by_module_prefix() {
        let (f, problem) = log_filter(Some("warn, opsmeter::site=debug"));
        assert!(problem.is_none());
        assert!(f.would_enable("opsmeter::site::build", &Level::DEBUG));
        assert!(!f.would_enable("opsmeter::collect", &Level::DEBUG));
        assert!(f.would_enable("opsmeter::collect", &Level::WARN));
        // A target alone, without a default: other targets log nothing.
        let (f, _) = log_filter(Some("opsmeter=info"));
        assert!(f.would_enable("opsmeter::cli", &Level::INFO));
        assert!(!f.would_enable("hyper", &Level::ERROR));
        let (f, _) = log_filter(Some("off"));
        assert!(!f.would_enable("opsmeter", &Level::ERROR));
    }

    #[test]
    fn a_filter_that_does_not_parse_falls_back_to_warnings_and_says_why() {
        let (f, problem) = log_filter(Some("opsmeter=loud"));
        let problem = problem.expect("a problem");
        assert!(problem.starts_with("OPSMETER_LOG=\"opsmeter=loud\" is not a log filter"));
        assert!(problem.contains("opsmeter=debug,gix=warn"), "{problem}");
        assert!(f.would_enable("opsmeter", &Level::WARN));
        assert!(!f.would_enable("opsmeter", &Level::INFO));
    }
}
