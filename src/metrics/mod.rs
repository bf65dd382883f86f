//! DORA metrics over a window: pure functions of facts, a window and a
//! benchmark edition. No I/O, no clock: `until` is always passed in.

pub mod independence;
pub mod phases;
pub mod stats;
pub mod tiers;

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::Serialize;

use crate::facts::{DeploymentStatus, RepoFacts};
use stats::{median, percentile_sorted, rate, round4};
use tiers::{Edition, Frequency, RecoveryMeasure, Tier};

/// A half-open time window `[since, until)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Window {
    #[serde(serialize_with = "crate::metrics::rfc3339")]
    pub since: DateTime<Utc>,
    #[serde(serialize_with = "crate::metrics::rfc3339")]
    pub until: DateTime<Utc>,
}

impl Window {
    pub fn contains(&self, t: DateTime<Utc>) -> bool {
        t >= self.since && t < self.until
    }

    pub fn weeks(&self) -> f64 {
        (self.until - self.since).num_seconds() as f64 / (7.0 * 86400.0)
    }
}

pub use crate::time::{format_time, rfc3339};

/// Settings the metrics need besides the facts.
#[derive(Debug, Clone, Copy)]
pub struct MetricOptions {
    pub incident_link_max: Duration,
}

/// What happened to each deployment, over the whole history.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Outcome {
    pub failed: bool,
    /// When the failure was recovered from, if it was.
    pub recovered_at: Option<DateTime<Utc>>,
    pub rework: bool,
    pub change_count: usize,
    /// Why it failed, in the order found (empty when it did not).
    pub causes: Vec<Cause>,
}

/// One reason a deployment failed.
#[derive(Debug, Clone, PartialEq)]
pub enum Cause {
    /// Its own status is failure.
    Status,
    /// A later deployment shipped a revert of one of its changes: the revert
    /// is `changes[change]`.
    Reverted { change: usize },
    /// An incident (`incidents[incident]`) that names its commit as the cause
    /// (`named`), or started after it and before the next deployment.
    Incident { incident: usize, named: bool },
}

/// Failure, recovery and rework for every deployment, by the definitions:
/// a deployment failed when its own status is failure, when a later deployment
/// ships a revert of one of its commits, or when an incident names its commit
/// as the cause or starts after it and before the next deployment (within
/// `incident_link_max`).
pub fn outcomes(facts: &RepoFacts, opts: &MetricOptions) -> Vec<Outcome> {
    let deps = &facts.deployments;
    let n = deps.len();
    let mut out = vec![Outcome::default(); n];
    let mut ends: Vec<Vec<DateTime<Utc>>> = vec![Vec::new(); n];
    let mut all_revert_or_fix = vec![true; n];
    for (k, c) in facts.changes.iter().enumerate() {
        out[c.deployment].change_count += 1;
        if !(c.revert || c.fix) {
            all_revert_or_fix[c.deployment] = false;
        }
        if let Some(t) = c.reverts_deployment {
            // A revert shipped in the same deployment as its target fails nothing.
            if t < c.deployment {
                out[t].failed = true;
                out[t].causes.push(Cause::Reverted { change: k });
                ends[t].push(deps[c.deployment].time);
            }
        }
    }
    for (i, d) in deps.iter().enumerate() {
        if d.status == DeploymentStatus::Failure {
            out[i].failed = true;
            out[i].causes.push(Cause::Status);
            if let Some(next_ok) = deps[i + 1..]
                .iter()
                .find(|x| x.status == DeploymentStatus::Success && x.time >= d.time)
            {
                ends[i].push(next_ok.time);
            }
        }
    }
    for (k, inc) in facts.incidents.iter().enumerate() {
        let culprit = inc.cause_deployment.or_else(|| {
            // The last deployment at or before the incident's start...
            let i = deps.partition_point(|d| d.time <= inc.started_at);
            let i = i.checked_sub(1)?;
            // ...if the incident started after it and before the next, within the limit.
            let before_next = deps
                .get(i + 1)
                .is_none_or(|next| inc.started_at < next.time);
            let within = inc.started_at - deps[i].time <= opts.incident_link_max;
            (inc.started_at > deps[i].time && before_next && within).then_some(i)
        });
        if let Some(i) = culprit {
            out[i].failed = true;
            out[i].causes.push(Cause::Incident {
                incident: k,
                named: inc.cause_deployment.is_some(),
            });
            if let Some(r) = inc.resolved_at {
                ends[i].push(r);
            }
        }
    }
    for i in 0..n {
        if out[i].failed {
            out[i].recovered_at = ends[i].iter().copied().filter(|e| *e >= deps[i].time).min();
        }
        let only_fixes = out[i].change_count > 0 && all_revert_or_fix[i];
        let after_failure =
            i > 0 && out[i - 1].failed && deps[i].time - deps[i - 1].time <= opts.incident_link_max;
        out[i].rework = only_fixes || after_failure;
    }
    out
}

/// Count and median of a list of durations in hours.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DurationSummary {
    pub count: usize,
    pub median: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LeadTime {
    pub count: usize,
    pub median: Option<f64>,
    pub p90: Option<f64>,
    /// Every lead time in the window, in hours, ascending.
    pub values: Vec<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Tiers {
    pub deployment_frequency: Option<Tier>,
    pub lead_time: Option<Tier>,
    pub change_failure_rate: Option<Tier>,
    pub recovery_time: Option<Tier>,
}

/// The DORA metrics of one repository over one window.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Dora {
    pub deployment_count: usize,
    pub deployments_per_week: f64,
    pub deploy_days_per_week: f64,
    pub deploy_days_per_month: f64,
    pub lead_time_hours: LeadTime,
    /// Each phase of the pull requests shipped in the window.
    pub lead_time_phases_hours: phases::PhaseBreakdown,
    /// Git's phases of the changes that came through a merge commit, when
    /// there are such changes and no pull requests.
    pub merge_phases_hours: Option<phases::MergeBreakdown>,
    pub change_failure_rate: Option<f64>,
    pub recovery_time_hours: DurationSummary,
    pub time_to_restore_hours: DurationSummary,
    pub rework_rate: Option<f64>,
    pub benchmark: String,
    pub tiers: Tiers,
}

fn hours(d: Duration) -> f64 {
    d.num_seconds() as f64 / 3600.0
}

/// The lead time of each counted change deployed in the window, in the
/// facts' order: (its deployment's time, hours). Negative spans (clock skew)
/// are dropped. The one definition the metrics and the report's charts share.
pub fn change_lead_times<'a>(
    facts: &'a RepoFacts,
    window: &'a Window,
) -> impl Iterator<Item = (DateTime<Utc>, f64)> + 'a {
    let deps = &facts.deployments;
    facts
        .changes
        .iter()
        .map(move |c| (deps[c.deployment].time, c.author_time))
        .filter(move |(t, _)| window.contains(*t))
        .map(|(t, authored)| (t, hours(t - authored)))
        .filter(|(_, h)| *h >= 0.0)
}

/// The changes deployed in the window that are the very commit their
/// deployment points to, made less than an hour before it: a release commit
/// (a version bump made to be tagged), or a commit tagged as soon as it was
/// made. True lead times by the definition, but when they are half of the
/// changes or more they set the median, which then says how fast a commit is
/// tagged rather than how fast work ships.
#[derive(Debug, Clone, PartialEq)]
pub struct TaggedCommits {
    pub count: usize,
    /// The window's changes with a lead time (as [`change_lead_times`]).
    pub total: usize,
    /// The median lead time (hours) of the other changes.
    pub others_median: Option<f64>,
}

pub fn tagged_commits(facts: &RepoFacts, window: &Window) -> TaggedCommits {
    let deps = &facts.deployments;
    let (mut count, mut others) = (0, Vec::new());
    for c in &facts.changes {
        let d = &deps[c.deployment];
        if !window.contains(d.time) {
            continue;
        }
        let h = hours(d.time - c.author_time);
        if h < 0.0 {
            continue;
        }
        if d.sha == Some(c.sha) && h < 1.0 {
            count += 1;
        } else {
            others.push(h);
        }
    }
    TaggedCommits {
        count,
        total: count + others.len(),
        others_median: median(&others).map(round4),
    }
}

/// Computes the metrics of `facts` over `window`, with tiers from `edition`.
pub fn dora(
    facts: &RepoFacts,
    outcomes: &[Outcome],
    window: &Window,
    edition_id: &str,
    edition: &Edition,
) -> Dora {
    let deps = &facts.deployments;
    let in_window: Vec<usize> = (0..deps.len())
        .filter(|&i| window.contains(deps[i].time))
        .collect();
    let n = in_window.len();

    let frequency = frequency(facts, &in_window, window);

    let mut lead: Vec<f64> = change_lead_times(facts, window).map(|(_, h)| h).collect();
    lead.sort_by(f64::total_cmp);
    let lead_time = LeadTime {
        count: lead.len(),
        median: (!lead.is_empty()).then(|| round4(percentile_sorted(&lead, 0.5))),
        p90: (!lead.is_empty()).then(|| round4(percentile_sorted(&lead, 0.9))),
        values: lead.iter().map(|v| round4(*v)).collect(),
    };

    let failed = in_window.iter().filter(|&&i| outcomes[i].failed).count();
    let recovery: Vec<f64> = in_window
        .iter()
        .filter_map(|&i| outcomes[i].recovered_at.map(|r| hours(r - deps[i].time)))
        .collect();
    let restore: Vec<f64> = facts
        .incidents
        .iter()
        .filter(|i| window.contains(i.started_at))
        .filter_map(|i| i.resolved_at.map(|r| hours(r - i.started_at)))
        .collect();
    let rework = in_window.iter().filter(|&&i| outcomes[i].rework).count();

    let recovery_summary = DurationSummary {
        count: recovery.len(),
        median: median(&recovery).map(round4),
    };
    let restore_summary = DurationSummary {
        count: restore.len(),
        median: median(&restore).map(round4),
    };
    let change_failure_rate = rate(failed as u64, n as u64).map(round4);
    let recovery_for_tier = match edition.recovery_measure {
        RecoveryMeasure::RecoveryTime => recovery_summary.median,
        RecoveryMeasure::TimeToRestore => restore_summary.median,
    };
    let tiers = Tiers {
        deployment_frequency: Some(edition.frequency_tier(&frequency)),
        lead_time: lead_time.median.map(|m| edition.lead_time_tier(m)),
        change_failure_rate: change_failure_rate.map(|r| edition.failure_tier(r)),
        recovery_time: recovery_for_tier.map(|m| edition.recovery_tier(m)),
    };
    Dora {
        deployment_count: n,
        deployments_per_week: round4(frequency.deployments_per_week),
        deploy_days_per_week: round4(frequency.deploy_days_per_week),
        deploy_days_per_month: round4(frequency.deploy_days_per_month),
        lead_time_hours: lead_time,
        lead_time_phases_hours: phases::breakdown(&phases::window_requests(facts, window)),
        merge_phases_hours: phases::merge_breakdown(facts, window),
        change_failure_rate,
        recovery_time_hours: recovery_summary,
        time_to_restore_hours: restore_summary,
        rework_rate: rate(rework as u64, n as u64).map(round4),
        benchmark: edition_id.to_string(),
        tiers,
    }
}

fn frequency(facts: &RepoFacts, in_window: &[usize], window: &Window) -> Frequency {
    let times: Vec<DateTime<Utc>> = in_window
        .iter()
        .map(|&i| facts.deployments[i].time)
        .collect();
    Frequency {
        deployments_per_week: if window.weeks() > 0.0 {
            times.len() as f64 / window.weeks()
        } else {
            0.0
        },
        deploy_days_per_week: deploy_days(&times, window, 7),
        deploy_days_per_month: deploy_days(&times, window, 30),
    }
}

/// Median, over the window's whole buckets of `days` days counted from
/// `since`, of the number of distinct UTC calendar days with a deployment.
/// A window shorter than one bucket is a single bucket.
fn deploy_days(times: &[DateTime<Utc>], window: &Window, days: i64) -> f64 {
    let len = window.until - window.since;
    let bucket = Duration::days(days);
    let full = (len.num_seconds() / bucket.num_seconds()).max(1);
    let mut per_bucket: Vec<BTreeSet<NaiveDate>> = vec![BTreeSet::new(); full as usize];
    for t in times {
        let k = ((*t - window.since).num_seconds() / bucket.num_seconds()) as usize;
        if k < per_bucket.len() {
            per_bucket[k].insert(t.date_naive());
        }
    }
    let counts: Vec<f64> = per_bucket.iter().map(|s| s.len() as f64).collect();
    median(&counts).unwrap_or(0.0)
}
