//! Flow probes, from the facts and the commit graph rather than files:
//! trunk-based development (few, short-lived branches besides the default
//! one) and small batches (the size of merged pull requests).

use chrono::{DateTime, Duration, Utc};

use super::{CodeProbe, Evidence, Finding, Outcome};
use crate::facts::RepoFacts;
use crate::metrics::stats::median;
use crate::sources::git::GitRepo;

pub static PROBES: [CodeProbe; 2] = [
    CodeProbe {
        id: "flow.trunk-based",
        title: "Trunk-based development: few short-lived branches",
        chapter: "version-control",
        remediation: "Merge branches into the trunk within a day or two, and delete them; keep at most a few open at a time.",
    },
    CodeProbe {
        id: "flow.small-batches",
        title: "Small batches: merged pull requests stay small",
        chapter: "version-control",
        remediation: "Split work into pull requests of at most a few hundred changed lines; review and merge them quickly.",
    },
];

/// How many branches besides the default one may have seen commits in the last 30 days.
const ACTIVE_BRANCH_LIMIT: usize = 3;
/// Median changed lines per pull request for small batches.
const SMALL_BATCH_LINES: f64 = 200.0;

/// Runs the flow probes. `git` is the repository, when it has local history;
/// `until` is the end of the assessment window.
pub fn run(facts: &RepoFacts, git: Option<&GitRepo>, until: DateTime<Utc>) -> Vec<Finding> {
    vec![trunk_based(git, until), small_batches(facts)]
}

fn trunk_based(git: Option<&GitRepo>, until: DateTime<Utc>) -> Finding {
    let probe = &PROBES[0];
    let Some(git) = git else {
        return probe.finding(
            Outcome::Unknown,
            vec![Evidence::note("no local git history to read branches from")],
        );
    };
    let branches = match git.branch_tips() {
        Ok(b) => b,
        Err(e) => {
            return probe.finding(
                Outcome::Unknown,
                vec![Evidence::note(format!("cannot read branches: {e}"))],
            )
        }
    };
    let default = git.default_branch();
    let since = until - Duration::days(30);
    let mut active: Vec<(String, DateTime<Utc>)> = branches
        .into_iter()
        .filter(|(name, time)| {
            Some(name.as_str()) != default.as_deref()
                && name != "HEAD"
                && *time >= since
                && *time < until
        })
        .collect();
    // A branch may be both local and remote: keep its latest commit.
    active.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
    active.dedup_by(|later, first| later.0 == first.0);
    let note = |list: &[(String, DateTime<Utc>)]| {
        list.iter()
            .take(10)
            .map(|(n, t)| {
                Evidence::note(format!("branch {n}: last commit {}", t.format("%Y-%m-%d")))
            })
            .collect::<Vec<_>>()
    };
    if active.len() <= ACTIVE_BRANCH_LIMIT {
        let mut evidence = vec![Evidence::note(format!(
            "{} branch(es) besides {} active in the last 30 days (at most {ACTIVE_BRANCH_LIMIT})",
            active.len(),
            default.as_deref().unwrap_or("the default branch")
        ))];
        evidence.extend(note(&active));
        probe.finding(Outcome::Pass, evidence)
    } else {
        let mut evidence = vec![Evidence::note(format!(
            "{} branches besides {} active in the last 30 days (more than {ACTIVE_BRANCH_LIMIT})",
            active.len(),
            default.as_deref().unwrap_or("the default branch")
        ))];
        evidence.extend(note(&active));
        probe.finding(Outcome::Fail, evidence)
    }
}

fn small_batches(facts: &RepoFacts) -> Finding {
    let probe = &PROBES[1];
    let sizes: Vec<f64> = facts
        .pull_requests
        .iter()
        .filter_map(|pr| match (pr.additions, pr.deletions) {
            (Some(a), Some(d)) => Some((a + d) as f64),
            _ => None,
        })
        .collect();
    let Some(m) = median(&sizes) else {
        return probe.finding(
            Outcome::Unknown,
            vec![Evidence::note(
                "no merged pull requests with line counts (they come from GitHub; plain git history has no review units)",
            )],
        );
    };
    let note = Evidence::note(format!(
        "median {m:.0} changed lines over {} merged pull requests (small: at most {SMALL_BATCH_LINES:.0})",
        sizes.len()
    ));
    probe.finding(
        if m <= SMALL_BATCH_LINES {
            Outcome::Pass
        } else {
            Outcome::Fail
        },
        vec![note],
    )
}
