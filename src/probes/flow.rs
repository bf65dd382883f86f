//! Flow probes, from the facts and the commit graph rather than files:
//! trunk-based development (few, short-lived branches besides the default
//! one) and small batches (the size of merged pull requests).

use chrono::{DateTime, Duration, Utc};

use super::{CodeProbe, Evidence, Finding, Outcome};
use crate::facts::RepoFacts;
use crate::message::{Arg, Message};
use crate::metrics::stats::median;
use crate::msg;
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
            vec![Evidence::note(Message::new("msg_no_local_history"))],
        );
    };
    let branches = match git.branch_tips() {
        Ok(b) => b,
        Err(e) => {
            return probe.finding(
                Outcome::Unknown,
                vec![Evidence::note(msg!(
                    "msg_cannot_read_branches",
                    error = e.to_string()
                ))],
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
                Evidence::note(msg!(
                    "msg_branch_last_commit",
                    branch = n,
                    date = t.format("%Y-%m-%d").to_string()
                ))
            })
            .collect::<Vec<_>>()
    };
    let besides = match default.as_deref() {
        Some(name) => Arg::from(name),
        None => Arg::Message(Message::new("msg_the_default_branch")),
    };
    if active.len() <= ACTIVE_BRANCH_LIMIT {
        let mut evidence = vec![Evidence::note(msg!(
            "msg_branches_few",
            count = active.len(),
            default = besides,
            limit = ACTIVE_BRANCH_LIMIT
        ))];
        evidence.extend(note(&active));
        probe.finding(Outcome::Pass, evidence)
    } else {
        let mut evidence = vec![Evidence::note(msg!(
            "msg_branches_many",
            count = active.len(),
            default = besides,
            limit = ACTIVE_BRANCH_LIMIT
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
            vec![Evidence::note(Message::new("msg_no_pull_request_sizes"))],
        );
    };
    let note = Evidence::note(msg!(
        "msg_pull_request_sizes",
        lines = format!("{m:.0}"),
        count = sizes.len(),
        limit = format!("{SMALL_BATCH_LINES:.0}")
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
