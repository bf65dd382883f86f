//! `opsmeter collect`: the work is [`crate::collect`]'s; this parses the
//! flags, draws the progress bar (only when stderr is a terminal), prints one
//! line per stored repository and the summary, and exits 2 when any failed.

use std::io::IsTerminal;
use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use chrono::Utc;

use crate::assess::parse_date;
use crate::collect::{collect_all, Event, Request};
use crate::config::site_root;
use crate::workspace::Workspace;

/// Options of `opsmeter collect`.
#[derive(Debug, Default, Clone)]
pub struct CollectOptions {
    pub root: Option<PathBuf>,
    pub since: Option<String>,
    pub shard: Option<String>,
}

/// Some repositories failed (each already reported): the CLI exits 2.
#[derive(Debug)]
pub struct PartialFailure {
    pub failed: usize,
    pub total: usize,
}

impl std::fmt::Display for PartialFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} of {} repositories failed to collect; their previous facts are kept",
            self.failed, self.total
        )
    }
}

impl std::error::Error for PartialFailure {}

pub fn run(opts: CollectOptions) -> Result<()> {
    let root = site_root(opts.root.as_deref())?;
    let ws = Workspace::load(&root)?;
    let since = opts.since.as_deref().map(parse_date).transpose()?;
    let shard = opts.shard.as_deref().map(parse_shard).transpose()?;
    let (edition_id, edition) = ws.edition(None)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let request = Request {
        root: &root,
        config: &ws.config,
        since,
        shard,
        edition_id: &edition_id,
        edition,
        now: Utc::now(),
    };
    let bar = indicatif::ProgressBar::hidden();
    let summary = runtime.block_on(collect_all(&request, |event| match event {
        Event::Started { total } => {
            if std::io::stderr().is_terminal() && total > 0 {
                bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
                bar.set_length(total as u64);
                bar.set_style(
                    indicatif::ProgressStyle::with_template("[{bar:24}] {pos}/{len} {msg}")
                        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
                        .progress_chars("#  "),
                );
            }
        }
        Event::Stored { facts } => {
            bar.suspend(|| {
                crate::output::line(format_args!(
                    "{}: {} deployments, {} changes, {} pull requests, {} incidents",
                    facts.name,
                    facts.deployments.len(),
                    facts.changes.len(),
                    facts.pull_requests.len(),
                    facts.incidents.len()
                ))
            });
            bar.set_message(facts.name.clone());
            bar.inc(1);
        }
        Event::Failed { name } => {
            bar.set_message(name.to_string());
            bar.inc(1);
        }
    }))?;
    bar.finish_and_clear();

    crate::output::line(format_args!(
        "Collected {} of {} repositories into {}{}",
        summary.collected,
        summary.total,
        summary.facts_dir.display(),
        if summary.requests.is_empty() {
            String::new()
        } else {
            format!(" ({})", summary.requests.join("; "))
        }
    ));
    if summary.failures.is_empty() {
        return Ok(());
    }
    for f in &summary.failures {
        eprintln!("error: {}: {}", f.name, f.reason);
    }
    Err(PartialFailure {
        failed: summary.failures.len(),
        total: summary.total,
    }
    .into())
}

/// `K/N` with 1 ≤ K ≤ N.
fn parse_shard(s: &str) -> Result<(u64, u64)> {
    let parsed = s
        .split_once('/')
        .and_then(|(k, n)| Some((k.trim().parse::<u64>().ok()?, n.trim().parse::<u64>().ok()?)));
    match parsed {
        Some((k, n)) if n >= 1 && (1..=n).contains(&k) => Ok((k, n)),
        _ => bail!("--shard {s:?}: expected K/N with 1 <= K <= N, like 2/8"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collect::in_shard;

    #[test]
    fn shards_are_a_stable_partition() {
        assert_eq!(parse_shard("2/8").unwrap(), (2, 8));
        for bad in ["0/2", "3/2", "1/0", "x", "1/"] {
            assert!(parse_shard(bad).is_err(), "{bad}");
        }
        let names: Vec<String> = (0..50).map(|i| format!("acme/repo-{i}")).collect();
        let mut seen = 0;
        for k in 1..=3 {
            seen += names.iter().filter(|n| in_shard(n, (k, 3))).count();
        }
        assert_eq!(seen, names.len());
        assert!(names.iter().all(|n| in_shard(n, (1, 1))));
    }
}
