//! The changes behind the numbers: the pull requests of the window with their
//! phases (part of the JSON contract), and for the report page the slowest
//! changes and what each deployment shipped, with why it failed. Titles,
//! logins and commit subjects are strangers' text: carried as plain strings,
//! escaped by the templates.

use std::collections::HashMap;

use serde::Serialize;

use crate::facts::{Change, Collection, RepoFacts, Sha};
use crate::metrics::phases::{self, Phases};
use crate::metrics::{format_time, Cause, Outcome, Window};
use crate::sources::git::{CommitSummary, GitRepo};

/// How many changes of one deployment the report lists; the rest are counted.
pub const CHANGES_SHOWN: usize = 50;
/// How many of the window's slowest changes the report lists.
pub const SLOWEST_SHOWN: usize = 10;
/// The newest deployments of the window whose changes the report itemises
/// (failed ones and those of the slowest changes are itemised too, so that
/// every link to one has its target): a window of years would otherwise make
/// a page of thousands of tables.
pub const DEPLOYMENTS_ITEMISED: usize = 100;

/// One pull (merge) request of the window, in the JSON contract.
#[derive(Debug, Clone, Serialize)]
pub struct PullRequestReport {
    pub number: u64,
    pub title: String,
    pub author: String,
    /// Its page on the host, when the host is known.
    pub url: Option<String>,
    /// The ref of the deployment that shipped it; `null` when not deployed by the window's end.
    pub deployment: Option<String>,
    /// Shipped by the first deployment (the baseline): not counted in the phases.
    pub baseline: bool,
    pub created: String,
    pub merged: String,
    pub phases_hours: Phases,
}

/// Where a repository's pages are on its host: pull requests and commits.
#[derive(Debug, Clone)]
pub struct HostLinks {
    web: String,
    gitlab: bool,
}

impl HostLinks {
    /// From the configured web page, else from how the facts were collected.
    pub fn new(web_url: Option<&str>, collection: Option<&Collection>) -> Option<HostLinks> {
        let gitlab_host = collection.is_some_and(|c| c.host == "gitlab");
        if let Some(w) = web_url {
            return Some(HostLinks {
                web: w.trim_end_matches('/').to_string(),
                gitlab: gitlab_host || w.contains("gitlab"),
            });
        }
        let c = collection?;
        let api = c.api_url.trim_end_matches('/');
        let base = match c.host.as_str() {
            "github" if api == "https://api.github.com" => "https://github.com".to_string(),
            "github" => api.strip_suffix("/api/v3")?.to_string(),
            "gitlab" => api.strip_suffix("/api/v4")?.to_string(),
            _ => return None,
        };
        Some(HostLinks {
            web: format!("{base}/{}", c.project),
            gitlab: gitlab_host,
        })
    }

    pub fn web(&self) -> &str {
        &self.web
    }

    pub fn request(&self, number: u64) -> String {
        if self.gitlab {
            format!("{}/-/merge_requests/{number}", self.web)
        } else {
            format!("{}/pull/{number}", self.web)
        }
    }

    pub fn commit(&self, sha: &str) -> String {
        if self.gitlab {
            format!("{}/-/commit/{sha}", self.web)
        } else {
            format!("{}/commit/{sha}", self.web)
        }
    }
}

/// The `pull_requests` of a repository's report.
pub fn pull_requests(
    facts: &RepoFacts,
    window: &Window,
    links: Option<&HostLinks>,
) -> Vec<PullRequestReport> {
    phases::window_requests(facts, window)
        .into_iter()
        .map(|w| {
            let pr = &facts.pull_requests[w.index];
            PullRequestReport {
                number: pr.number,
                title: pr.title.clone(),
                author: pr.author.clone(),
                url: links.map(|l| l.request(pr.number)),
                deployment: w.deployment.map(|d| facts.deployments[d].reference.clone()),
                baseline: w.baseline,
                created: format_time(&pr.created_at),
                merged: format_time(&pr.merged_at),
                phases_hours: w.phases,
            }
        })
        .collect()
}

/// One phase of a listed change.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PhaseCell {
    pub phase: &'static str,
    pub hours: Option<f64>,
}

/// A change as the report lists it: a pull request, or a commit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChangeRow {
    /// `#12` for a pull request, the short sha for a commit.
    pub label: String,
    pub title: Option<String>,
    pub author: Option<String>,
    pub url: Option<String>,
    pub deployment: Option<String>,
    /// The index of that deployment: the report's anchor `deployment-<index>`.
    pub deployment_index: Option<usize>,
    /// Authored (first commit, else opened) → deployed, in hours.
    pub lead_time: Option<f64>,
    /// Pull requests: coding, pickup, review, deploy. Commits: integration and
    /// deploy, known only when it came through a merge commit.
    pub phases: Vec<PhaseCell>,
}

/// Why a deployment failed, for the report.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum CauseRow {
    Status,
    Revert {
        /// The reverting change.
        revert: ChangeRow,
        /// What it reverts, as the revert names it (`#12`, a commit), with its title when known.
        reverted: Option<String>,
        reverted_title: Option<String>,
    },
    Incident {
        id: String,
        started: String,
        resolved: Option<String>,
        /// The incident names this deployment's commit as its cause (else: it started after it).
        named: bool,
    },
}

/// One deployment of the window with what it shipped.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeploymentDrill {
    /// `deployment-<index>`: unique on the page whatever the ref.
    pub anchor: String,
    #[serde(rename = "ref")]
    pub reference: String,
    pub time: String,
    pub failed: bool,
    pub baseline: bool,
    pub changes: Vec<ChangeRow>,
    /// How many changes it shipped, listed or not.
    pub count: usize,
    /// Changes shipped but not listed (beyond [`CHANGES_SHOWN`]).
    pub more: usize,
    pub causes: Vec<CauseRow>,
}

/// The report page's drill-down (not part of the JSON contract).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Drill {
    /// The slowest changes shipped in the window, slowest first.
    pub slowest: Vec<ChangeRow>,
    /// The phases the slowest changes' table has columns for: none when no
    /// listed change has a phase known.
    pub slowest_phases: Vec<&'static str>,
    /// The deployments of the window, newest first: the newest
    /// [`DEPLOYMENTS_ITEMISED`], the failed ones and those of the slowest changes.
    pub deployments: Vec<DeploymentDrill>,
    /// The other deployments of the window, not itemised.
    pub not_itemised: usize,
}

fn hours(a: chrono::DateTime<chrono::Utc>, b: chrono::DateTime<chrono::Utc>) -> Option<f64> {
    let h = (b - a).num_seconds() as f64 / 3600.0;
    (h >= 0.0).then(|| crate::metrics::stats::round4(h))
}

/// Rows for the report, with commit subjects read from `git` on demand.
struct Rows<'a> {
    facts: &'a RepoFacts,
    links: Option<&'a HostLinks>,
    git: Option<&'a GitRepo>,
    /// Pull requests by the sha that landed them.
    by_merge: HashMap<Sha, usize>,
    by_number: HashMap<u64, usize>,
    summaries: HashMap<Sha, Option<CommitSummary>>,
}

impl<'a> Rows<'a> {
    fn summary(&mut self, sha: &Sha) -> Option<CommitSummary> {
        let git = self.git?;
        self.summaries
            .entry(*sha)
            .or_insert_with(|| git.summary(sha))
            .clone()
    }

    fn request(&self, index: usize, baseline: bool) -> ChangeRow {
        let pr = &self.facts.pull_requests[index];
        let deps = &self.facts.deployments;
        let deployed = pr.deployment.and_then(|d| deps.get(d));
        let deployed_at = deployed.filter(|_| !baseline).map(|d| d.time);
        let p = phases::pull_request_phases(pr, deployed_at);
        ChangeRow {
            label: format!("#{}", pr.number),
            title: Some(pr.title.clone()),
            author: Some(pr.author.clone()),
            url: self.links.map(|l| l.request(pr.number)),
            deployment: deployed.map(|d| d.reference.clone()),
            deployment_index: pr.deployment.filter(|&d| d < deps.len()),
            lead_time: deployed_at
                .and_then(|t| hours(pr.first_commit_at.unwrap_or(pr.created_at), t)),
            phases: p
                .named()
                .iter()
                .map(|(phase, hours)| PhaseCell {
                    phase,
                    hours: *hours,
                })
                .collect(),
        }
    }

    fn commit(&mut self, c: &Change) -> ChangeRow {
        if let Some(&i) = self.by_merge.get(&c.sha) {
            return self.request(i, c.deployment == 0);
        }
        let hex = c.sha.to_hex();
        let summary = self.summary(&c.sha);
        let deployed = &self.facts.deployments[c.deployment];
        let spans = phases::change_spans(c, deployed.time);
        ChangeRow {
            label: hex[..7].to_string(),
            title: summary.as_ref().map(|s| s.subject.clone()),
            author: summary.map(|s| s.author),
            url: self.links.map(|l| l.commit(&hex)),
            deployment: Some(deployed.reference.clone()),
            deployment_index: Some(c.deployment),
            lead_time: hours(c.author_time, deployed.time),
            phases: spans
                .named()
                .iter()
                .map(|(phase, hours)| PhaseCell {
                    phase,
                    hours: *hours,
                })
                .collect(),
        }
    }

    fn cause(&mut self, cause: &Cause) -> CauseRow {
        match cause {
            Cause::Status => CauseRow::Status,
            Cause::Reverted { change } => {
                let c = &self.facts.changes[*change];
                let revert = self.commit(c);
                let (reverted, reverted_title) = match self.by_merge.get(&c.sha) {
                    Some(&i) => {
                        let target = self.facts.pull_requests[i].reverts.clone();
                        let title = target
                            .as_deref()
                            .and_then(|t| t.strip_prefix('#'))
                            .and_then(|n| n.parse::<u64>().ok())
                            .and_then(|n| self.by_number.get(&n))
                            .map(|&j| self.facts.pull_requests[j].title.clone());
                        (target, title)
                    }
                    None => {
                        let target = self.summary(&c.sha).and_then(|s| s.reverts);
                        let title = target
                            .as_deref()
                            .and_then(|hex| self.git?.resolve(hex))
                            .and_then(|id| self.summary(&crate::sources::git::to_sha(&id)))
                            .map(|s| s.subject);
                        (target, title)
                    }
                };
                CauseRow::Revert {
                    revert,
                    reverted,
                    reverted_title,
                }
            }
            Cause::Incident { incident, named } => {
                let inc = &self.facts.incidents[*incident];
                CauseRow::Incident {
                    id: inc.id.clone(),
                    started: format_time(&inc.started_at),
                    resolved: inc.resolved_at.map(|t| format_time(&t)),
                    named: *named,
                }
            }
        }
    }
}

/// Puts the `k` first items of `list` by `order` at its start, in order
/// (the rest after them, in no order): what a full sort would show when only
/// `k` are shown, without ordering the rest.
fn smallest_sorted<T>(
    list: &mut [T],
    k: usize,
    mut order: impl FnMut(&T, &T) -> std::cmp::Ordering,
) {
    if list.len() > k && k > 0 {
        list.select_nth_unstable_by(k - 1, &mut order);
    }
    let head = k.min(list.len());
    list[..head].sort_by(order);
}

/// The slowest changes of the window and what each of its deployments shipped.
pub fn drill(
    facts: &RepoFacts,
    outcomes: &[Outcome],
    window: &Window,
    links: Option<&HostLinks>,
    git: Option<&GitRepo>,
) -> Drill {
    let mut rows = Rows {
        facts,
        links,
        git,
        by_merge: facts
            .pull_requests
            .iter()
            .enumerate()
            .filter_map(|(i, p)| p.merge_sha.map(|s| (s, i)))
            .collect(),
        by_number: facts
            .pull_requests
            .iter()
            .enumerate()
            .map(|(i, p)| (p.number, i))
            .collect(),
        summaries: HashMap::new(),
    };
    let deps = &facts.deployments;
    let in_window: Vec<usize> = (0..deps.len())
        .filter(|&i| window.contains(deps[i].time))
        .collect();

    let mut slowest: Vec<ChangeRow> = if facts.pull_requests.is_empty() {
        // (lead time, change), each lead time computed once.
        let mut window_changes: Vec<(chrono::TimeDelta, &Change)> = facts
            .changes
            .iter()
            .filter(|c| window.contains(deps[c.deployment].time))
            .filter(|c| c.author_time <= deps[c.deployment].time)
            .map(|c| (deps[c.deployment].time - c.author_time, c))
            .collect();
        smallest_sorted(&mut window_changes, SLOWEST_SHOWN, |a, b| {
            b.0.cmp(&a.0).then(a.1.sha.cmp(&b.1.sha))
        });
        window_changes
            .into_iter()
            .take(SLOWEST_SHOWN)
            .map(|(_, c)| rows.commit(c))
            .collect()
    } else {
        phases::window_requests(facts, window)
            .into_iter()
            .filter(|w| w.counted())
            .map(|w| rows.request(w.index, false))
            .filter(|r| r.lead_time.is_some())
            .collect()
    };
    slowest.sort_by(|a, b| {
        b.lead_time
            .unwrap_or(0.0)
            .total_cmp(&a.lead_time.unwrap_or(0.0))
            .then_with(|| a.label.cmp(&b.label))
    });
    slowest.truncate(SLOWEST_SHOWN);

    // Which deployments are itemised: the newest, the failed, the slowest changes'.
    let mut itemised: std::collections::HashSet<usize> = in_window
        .iter()
        .rev()
        .take(DEPLOYMENTS_ITEMISED)
        .copied()
        .collect();
    itemised.extend(
        in_window
            .iter()
            .filter(|&&i| outcomes.get(i).is_some_and(|o| o.failed)),
    );
    itemised.extend(slowest.iter().filter_map(|c| c.deployment_index));
    itemised.retain(|&i| window.contains(deps[i].time));

    // What each deployment shipped: its pull requests when the host gave them, else its commits.
    let mut shipped: HashMap<usize, Vec<ChangeRow>> = HashMap::new();
    let mut counts: HashMap<usize, usize> = HashMap::new();
    if facts.pull_requests.is_empty() {
        let mut by_dep: HashMap<usize, Vec<&Change>> = HashMap::new();
        for c in &facts.changes {
            if itemised.contains(&c.deployment) {
                by_dep.entry(c.deployment).or_default().push(c);
            }
        }
        let mut by_dep: Vec<(usize, Vec<&Change>)> = by_dep.into_iter().collect();
        for (_, list) in &mut by_dep {
            // Oldest authored first: the longest lead times of the deployment
            // lead. Only the shown ones are ordered (the rest are counted).
            smallest_sorted(list, CHANGES_SHOWN, |a, b| {
                a.author_time.cmp(&b.author_time).then(a.sha.cmp(&b.sha))
            });
        }
        // The subjects of every commit shown, read at once on all cores.
        if let Some(git) = git {
            let mut wanted: Vec<Sha> = by_dep
                .iter()
                .flat_map(|(_, list)| list.iter().take(CHANGES_SHOWN))
                .filter(|c| !rows.by_merge.contains_key(&c.sha))
                .map(|c| c.sha)
                .collect();
            wanted.sort_unstable();
            wanted.dedup();
            let read = git.summaries(&wanted);
            rows.summaries.extend(wanted.into_iter().zip(read));
        }
        for (d, list) in by_dep {
            counts.insert(d, list.len());
            let shown: Vec<ChangeRow> = list
                .iter()
                .take(CHANGES_SHOWN)
                .map(|c| rows.commit(c))
                .collect();
            shipped.insert(d, shown);
        }
    } else {
        for w in phases::window_requests(facts, window) {
            let Some(d) = w.deployment.filter(|d| itemised.contains(d)) else {
                continue;
            };
            *counts.entry(d).or_default() += 1;
            let list = shipped.entry(d).or_default();
            if list.len() < CHANGES_SHOWN {
                list.push(rows.request(w.index, w.baseline));
            }
        }
    }

    let deployments: Vec<DeploymentDrill> = in_window
        .iter()
        .rev()
        .filter(|i| itemised.contains(i))
        .map(|&i| {
            let changes = shipped.remove(&i).unwrap_or_default();
            let total = counts.get(&i).copied().unwrap_or(0);
            DeploymentDrill {
                anchor: format!("deployment-{i}"),
                reference: deps[i].reference.clone(),
                time: format_time(&deps[i].time),
                failed: outcomes.get(i).is_some_and(|o| o.failed),
                baseline: i == 0,
                more: total.saturating_sub(changes.len()),
                count: total,
                changes,
                causes: outcomes
                    .get(i)
                    .map(|o| o.causes.iter().map(|c| rows.cause(c)).collect())
                    .unwrap_or_default(),
            }
        })
        .collect();
    let slowest_phases = if slowest
        .iter()
        .any(|c| c.phases.iter().any(|p| p.hours.is_some()))
    {
        slowest
            .first()
            .map(|c| c.phases.iter().map(|p| p.phase).collect())
            .unwrap_or_default()
    } else {
        Vec::new()
    };
    Drill {
        slowest,
        slowest_phases,
        not_itemised: in_window.len() - deployments.len(),
        deployments,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::{Deployment, DeploymentSource, DeploymentStatus, RepoFacts, Sha};
    use crate::metrics::Outcome;

    /// 150 daily deployments, each shipping a change made an hour before; one
    /// old deployment failed; ten old ones also ship a change made over a year
    /// before (the slowest). Itemised: the newest 100, the failed one and the
    /// ten of the slowest changes, newest first; 39 are not.
    #[test]
    fn the_drill_itemises_the_newest_the_failed_and_the_slowest_deployments() {
        let t0 = chrono::DateTime::parse_from_rfc3339("2024-01-01T00:00:00Z")
            .unwrap()
            .with_timezone(&chrono::Utc);
        let day = chrono::TimeDelta::days(1);
        let mut facts = RepoFacts::default();
        let mut sha = 0u8;
        let mut change = |deployment: usize, author_time| {
            sha = sha.wrapping_add(1);
            let mut id = [0u8; 20];
            id[0] = sha;
            id[1] = deployment as u8;
            Change {
                sha: Sha(id),
                author_time,
                deployment,
                fix: false,
                reverts_deployment: None,
                revert: false,
                merged_at: None,
            }
        };
        for i in 0..150 {
            let time = t0 + day * i as i32;
            facts.deployments.push(Deployment {
                reference: format!("v{i}"),
                sha: None,
                time,
                source: DeploymentSource::Tag,
                status: DeploymentStatus::Success,
            });
            facts
                .changes
                .push(change(i, time - chrono::TimeDelta::hours(1)));
            if (20..30).contains(&i) {
                facts.changes.push(change(i, time - day * 500));
            }
        }
        let outcomes: Vec<Outcome> = (0..150)
            .map(|i| Outcome {
                failed: i == 10,
                recovered_at: None,
                rework: false,
                change_count: 1,
                causes: Vec::new(),
            })
            .collect();
        let window = crate::metrics::Window {
            since: t0,
            until: t0 + day * 200,
        };
        let drill = drill(&facts, &outcomes, &window, None, None);
        let refs: Vec<&str> = drill
            .deployments
            .iter()
            .map(|d| d.reference.as_str())
            .collect();
        let mut want: Vec<String> = (50..150).rev().map(|i| format!("v{i}")).collect();
        want.extend((20..30).rev().map(|i| format!("v{i}")));
        want.push("v10".to_string());
        assert_eq!(refs, want);
        assert_eq!(drill.not_itemised, 39);
        // Each itemised deployment lists what it shipped.
        let v25 = drill
            .deployments
            .iter()
            .find(|d| d.reference == "v25")
            .unwrap();
        assert_eq!((v25.count, v25.changes.len()), (2, 2));
        assert!(drill
            .slowest
            .iter()
            .all(|c| (20..30).contains(&c.deployment_index.unwrap())));
    }

    #[test]
    fn smallest_sorted_gives_the_prefix_a_full_sort_gives() {
        // A fixed pseudo-random list with repeats, against a full sort.
        let list: Vec<u32> = (0..200u32).map(|i| (i * 7919 + 13) % 97).collect();
        let mut sorted = list.clone();
        sorted.sort();
        for k in [0, 1, 10, 50, 199, 200, 500] {
            let mut got = list.clone();
            smallest_sorted(&mut got, k, |a, b| a.cmp(b));
            let head = k.min(list.len());
            assert_eq!(got[..head], sorted[..head], "k = {k}");
            let mut all = got.clone();
            all.sort();
            assert_eq!(all, sorted, "k = {k}: the same items");
        }
    }
}
