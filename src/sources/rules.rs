//! The delivery rules of one repository, compiled once from its settings:
//! which tags are deployments, which environments are production, who is a
//! bot, and how long after a deployment an incident still fails it. Every
//! collector and the metrics read this one value instead of compiling the
//! patterns again.

use anyhow::{Context, Result};
use regex::Regex;

use super::git::BotMatcher;
use crate::config::DoraSettings;
use crate::metrics::MetricOptions;

/// A repository's `[dora]` settings, compiled.
pub struct Rules {
    /// Tags whose short name matches are deployments.
    pub tags: Regex,
    /// Environments whose name matches (or is empty, for events files) are production.
    pub production: Regex,
    pub bots: BotMatcher,
    /// The incident link window, as the metrics take it.
    pub metrics: MetricOptions,
}

impl Rules {
    pub fn compile(s: &DoraSettings) -> Result<Rules> {
        Ok(Rules {
            tags: Regex::new(&s.tag_pattern)
                .with_context(|| format!("tag_pattern {:?}", s.tag_pattern))?,
            production: Regex::new(&s.production_pattern)
                .with_context(|| format!("production_pattern {:?}", s.production_pattern))?,
            bots: BotMatcher::new(&s.bot_pattern)?,
            metrics: MetricOptions {
                incident_link_max: chrono::Duration::seconds(
                    (s.incident_link_max_hours * 3600.0) as i64,
                ),
            },
        })
    }
}

impl std::fmt::Debug for Rules {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rules")
            .field("tags", &self.tags.as_str())
            .field("production", &self.production.as_str())
            .field("metrics", &self.metrics)
            .finish_non_exhaustive()
    }
}
