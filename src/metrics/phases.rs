//! Lead time in phases, so that a long lead time says where the time goes.
//!
//! A pull (or merge) request's lead time splits into four phases: *coding*
//! (first commit → opened), *pickup* (opened → first review or comment by
//! someone else), *review* (first response, or opening when nobody responded
//! → merged) and *deploy* (merged → the deployment that first shipped it).
//! Plain git knows less: for a change that reached the mainline through a
//! merge commit, *integration* (authored → merged) and *deploy* (merged →
//! deployed). A span that comes out negative (a commit authored after the
//! request was opened, clock skew) is unknown, as negative lead times are.
//! Pure functions: facts and a window in, hours out.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::stats::{percentile_sorted, round4};
use super::Window;
use crate::facts::{Change, PullRequest, RepoFacts};

/// The phases of one pull request, in hours; `None` where a bound is unknown
/// (never reviewed, not deployed yet) or the span is negative.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct Phases {
    /// First commit → opened.
    pub coding: Option<f64>,
    /// Opened → first review or comment by someone other than the author.
    pub pickup: Option<f64>,
    /// First response (or opened, when nobody responded) → merged.
    pub review: Option<f64>,
    /// Merged → deployed.
    pub deploy: Option<f64>,
}

impl Phases {
    /// The phases by name, in order.
    pub fn named(&self) -> [(&'static str, Option<f64>); 4] {
        [
            ("coding", self.coding),
            ("pickup", self.pickup),
            ("review", self.review),
            ("deploy", self.deploy),
        ]
    }

    /// The sum of the known phases (`None` when none is known).
    pub fn total(&self) -> Option<f64> {
        let known: Vec<f64> = self.named().iter().filter_map(|(_, v)| *v).collect();
        (!known.is_empty()).then(|| round4(known.iter().sum()))
    }
}

/// Hours from `a` to `b`, or `None` when `b` is before `a`.
fn span(a: DateTime<Utc>, b: DateTime<Utc>) -> Option<f64> {
    let h = (b - a).num_seconds() as f64 / 3600.0;
    (h >= 0.0).then(|| round4(h))
}

/// The phases of `pr`, given when the deployment that shipped it happened.
pub fn pull_request_phases(pr: &PullRequest, deployed_at: Option<DateTime<Utc>>) -> Phases {
    Phases {
        coding: pr.first_commit_at.and_then(|f| span(f, pr.created_at)),
        pickup: pr.first_response_at.and_then(|r| span(pr.created_at, r)),
        review: span(pr.first_response_at.unwrap_or(pr.created_at), pr.merged_at),
        deploy: deployed_at.and_then(|d| span(pr.merged_at, d)),
    }
}

/// What git tells of one change's lead time: both `None` unless it reached
/// the mainline through a merge commit.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct MergeSpans {
    /// Authored → merged.
    pub integration: Option<f64>,
    /// Merged → deployed.
    pub deploy: Option<f64>,
}

impl MergeSpans {
    pub fn named(&self) -> [(&'static str, Option<f64>); 2] {
        [("integration", self.integration), ("deploy", self.deploy)]
    }
}

pub fn change_spans(c: &Change, deployed_at: DateTime<Utc>) -> MergeSpans {
    MergeSpans {
        integration: c.merged_at.and_then(|m| span(c.author_time, m)),
        deploy: c.merged_at.and_then(|m| span(m, deployed_at)),
    }
}

/// Count, median and 90th percentile of one phase, in hours.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct PhaseStats {
    pub count: usize,
    pub median: Option<f64>,
    pub p90: Option<f64>,
}

impl PhaseStats {
    fn of(values: impl Iterator<Item = Option<f64>>) -> PhaseStats {
        let mut v: Vec<f64> = values.flatten().collect();
        v.sort_by(f64::total_cmp);
        PhaseStats {
            count: v.len(),
            median: (!v.is_empty()).then(|| round4(percentile_sorted(&v, 0.5))),
            p90: (!v.is_empty()).then(|| round4(percentile_sorted(&v, 0.9))),
        }
    }
}

/// `dora.lead_time_phases_hours`: each phase over the pull requests shipped
/// in the window (the baseline's excepted, as its changes are not counted).
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct PhaseBreakdown {
    pub coding: PhaseStats,
    pub pickup: PhaseStats,
    pub review: PhaseStats,
    pub deploy: PhaseStats,
}

impl PhaseBreakdown {
    /// Median of each phase, by name.
    pub fn medians(&self) -> Vec<(&'static str, Option<f64>)> {
        vec![
            ("coding", self.coding.median),
            ("pickup", self.pickup.median),
            ("review", self.review.median),
            ("deploy", self.deploy.median),
        ]
    }
}

/// `dora.merge_phases_hours`: git's two phases over the changes shipped in the
/// window that reached the mainline through a merge commit.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct MergeBreakdown {
    pub integration: PhaseStats,
    pub deploy: PhaseStats,
}

impl MergeBreakdown {
    pub fn medians(&self) -> Vec<(&'static str, Option<f64>)> {
        vec![
            ("integration", self.integration.median),
            ("deploy", self.deploy.median),
        ]
    }
}

/// A pull request of the window: merged and shipped by a deployment in the
/// window, or merged in the window and not deployed by its end.
#[derive(Debug, Clone, PartialEq)]
pub struct WindowRequest {
    /// Index into the facts' pull requests.
    pub index: usize,
    /// The deployment that shipped it, if it happened before the window's end.
    pub deployment: Option<usize>,
    /// Shipped by the first deployment, whose changes are not counted: when it
    /// really reached production is unknown, so its deploy phase is too.
    pub baseline: bool,
    pub phases: Phases,
}

impl WindowRequest {
    /// Counted in the phase statistics: shipped in the window, after the baseline.
    pub fn counted(&self) -> bool {
        self.deployment.is_some() && !self.baseline
    }
}

/// The pull requests of the window, in the facts' order (by number).
pub fn window_requests(facts: &RepoFacts, window: &Window) -> Vec<WindowRequest> {
    let deps = &facts.deployments;
    facts
        .pull_requests
        .iter()
        .enumerate()
        .filter_map(|(index, pr)| {
            let deployment = pr
                .deployment
                .filter(|&d| deps.get(d).is_some_and(|d| d.time < window.until));
            let listed = match deployment {
                Some(d) => window.contains(deps[d].time),
                None => window.contains(pr.merged_at),
            };
            if !listed {
                return None;
            }
            let baseline = deployment == Some(0);
            let deployed_at = deployment.filter(|_| !baseline).map(|d| deps[d].time);
            Some(WindowRequest {
                index,
                deployment,
                baseline,
                phases: pull_request_phases(pr, deployed_at),
            })
        })
        .collect()
}

/// The statistics of each phase over the counted requests.
pub fn breakdown(requests: &[WindowRequest]) -> PhaseBreakdown {
    let counted = || requests.iter().filter(|r| r.counted()).map(|r| r.phases);
    PhaseBreakdown {
        coding: PhaseStats::of(counted().map(|p| p.coding)),
        pickup: PhaseStats::of(counted().map(|p| p.pickup)),
        review: PhaseStats::of(counted().map(|p| p.review)),
        deploy: PhaseStats::of(counted().map(|p| p.deploy)),
    }
}

/// Git's phases over the changes shipped in the window, or `None` when the
/// facts come with pull requests (their phases say more) or no change of the
/// window came through a merge commit.
pub fn merge_breakdown(facts: &RepoFacts, window: &Window) -> Option<MergeBreakdown> {
    if !facts.pull_requests.is_empty() {
        return None;
    }
    let spans: Vec<MergeSpans> = facts
        .changes
        .iter()
        .filter(|c| c.merged_at.is_some())
        .filter_map(|c| {
            let t = facts.deployments.get(c.deployment)?.time;
            window.contains(t).then(|| change_spans(c, t))
        })
        .collect();
    if spans.is_empty() {
        return None;
    }
    Some(MergeBreakdown {
        integration: PhaseStats::of(spans.iter().map(|s| s.integration)),
        deploy: PhaseStats::of(spans.iter().map(|s| s.deploy)),
    })
}

/// The phase whose median changed most between two windows.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PhaseShift {
    pub phase: &'static str,
    pub before: f64,
    pub now: f64,
    /// `now - before`, rounded to 0.1 h.
    pub change: f64,
}

/// Of the phases with a median in both windows, the one that moved most (the
/// first in phase order on a tie); `None` when no phase has both, or none moved.
pub fn largest_shift(
    now: &[(&'static str, Option<f64>)],
    before: &[(&'static str, Option<f64>)],
) -> Option<PhaseShift> {
    let mut best: Option<PhaseShift> = None;
    for ((phase, a), (_, b)) in now.iter().zip(before) {
        let (Some(a), Some(b)) = (a, b) else { continue };
        let change = ((a - b) * 10.0).round() / 10.0;
        if change != 0.0 && best.as_ref().is_none_or(|s| change.abs() > s.change.abs()) {
            best = Some(PhaseShift {
                phase,
                before: *b,
                now: *a,
                change,
            });
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::{Deployment, DeploymentSource, DeploymentStatus, Sha};

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn pr(number: u64, created: &str, merged: &str) -> PullRequest {
        PullRequest {
            number,
            title: format!("feat: {number}"),
            author: "ada".into(),
            branch: String::new(),
            created_at: t(created),
            merged_at: t(merged),
            first_commit_at: None,
            first_response_at: None,
            additions: None,
            deletions: None,
            merge_sha: None,
            revert: false,
            reverts: None,
            deployment: None,
        }
    }

    #[test]
    fn every_phase_in_hours() {
        let mut p = pr(1, "2024-01-01T10:00:00Z", "2024-01-02T10:00:00Z");
        p.first_commit_at = Some(t("2024-01-01T08:00:00Z"));
        p.first_response_at = Some(t("2024-01-01T16:00:00Z"));
        // coding 08:00→10:00 = 2 h; pickup 10:00→16:00 = 6 h; review 16:00→next 10:00 = 18 h;
        // deploy 2024-01-02 10:00 → 2024-01-03 10:30 = 24.5 h.
        let ph = pull_request_phases(&p, Some(t("2024-01-03T10:30:00Z")));
        assert_eq!(
            ph,
            Phases {
                coding: Some(2.0),
                pickup: Some(6.0),
                review: Some(18.0),
                deploy: Some(24.5)
            }
        );
        assert_eq!(ph.total(), Some(50.5));
    }

    #[test]
    fn no_response_means_no_pickup_and_review_from_opening() {
        let p = pr(1, "2024-01-01T10:00:00Z", "2024-01-01T13:15:00Z");
        let ph = pull_request_phases(&p, None);
        // Nobody answered: pickup unknown, review 10:00 → 13:15 = 3.25 h; not deployed.
        assert_eq!(
            ph,
            Phases {
                coding: None,
                pickup: None,
                review: Some(3.25),
                deploy: None
            }
        );
    }

    #[test]
    fn negative_spans_are_unknown() {
        let mut p = pr(1, "2024-01-01T10:00:00Z", "2024-01-01T12:00:00Z");
        // A commit authored after opening (amended, rebased): coding would be −1 h.
        p.first_commit_at = Some(t("2024-01-01T11:00:00Z"));
        // A response stamped before opening (clock skew): pickup −0.5 h; review
        // still runs from that response, 09:30 → 12:00 = 2.5 h.
        p.first_response_at = Some(t("2024-01-01T09:30:00Z"));
        // Deployed before the merge (clock skew): deploy −2 h.
        let ph = pull_request_phases(&p, Some(t("2024-01-01T10:00:00Z")));
        assert_eq!(
            ph,
            Phases {
                coding: None,
                pickup: None,
                review: Some(2.5),
                deploy: None
            }
        );
    }

    fn deployment(r: &str, time: &str) -> Deployment {
        Deployment {
            reference: r.into(),
            sha: None,
            time: t(time),
            source: DeploymentSource::Release,
            status: DeploymentStatus::Success,
        }
    }

    #[test]
    fn the_window_lists_shipped_and_undeployed_requests_and_counts_after_the_baseline() {
        let mut baseline = pr(1, "2023-12-30T00:00:00Z", "2023-12-31T00:00:00Z");
        baseline.deployment = Some(0);
        let mut shipped = pr(2, "2024-01-02T00:00:00Z", "2024-01-03T00:00:00Z");
        shipped.deployment = Some(1);
        shipped.first_response_at = Some(t("2024-01-02T04:00:00Z"));
        let mut shipped2 = pr(3, "2024-01-02T00:00:00Z", "2024-01-04T00:00:00Z");
        shipped2.deployment = Some(1);
        let waiting = pr(4, "2024-01-05T00:00:00Z", "2024-01-06T00:00:00Z");
        let mut later = pr(5, "2024-01-07T00:00:00Z", "2024-01-08T00:00:00Z");
        // Shipped after the window's end: from the window, not yet deployed.
        later.deployment = Some(2);
        let mut old = pr(6, "2023-11-01T00:00:00Z", "2023-11-02T00:00:00Z");
        old.deployment = Some(0);
        let outside_merge = pr(7, "2023-12-01T00:00:00Z", "2023-12-02T00:00:00Z");
        let facts = RepoFacts {
            deployments: vec![
                deployment("v1", "2024-01-01T00:00:00Z"),
                deployment("v2", "2024-01-05T00:00:00Z"),
                deployment("v3", "2024-02-01T00:00:00Z"),
            ],
            pull_requests: vec![
                baseline,
                shipped,
                shipped2,
                waiting,
                later,
                old,
                outside_merge,
            ],
            ..RepoFacts::default()
        };
        let window = Window {
            since: t("2024-01-01T00:00:00Z"),
            until: t("2024-01-10T00:00:00Z"),
        };
        let reqs = window_requests(&facts, &window);
        let listed: Vec<(u64, Option<usize>, bool)> = reqs
            .iter()
            .map(|r| {
                (
                    facts.pull_requests[r.index].number,
                    r.deployment,
                    r.baseline,
                )
            })
            .collect();
        // #1 and #6 by the baseline (in the window), #2 and #3 by v2, #4 and #5 waiting;
        // #7 merged before the window and never shipped: not listed.
        assert_eq!(
            listed,
            vec![
                (1, Some(0), true),
                (2, Some(1), false),
                (3, Some(1), false),
                (4, None, false),
                (5, None, false),
                (6, Some(0), true),
            ]
        );
        // The baseline's deploy phase is unknown; #2: review 04:00 → next day 00:00 = 20 h,
        // deploy 2024-01-03 → 01-05 = 48 h; #3: review 48 h, deploy 24 h.
        assert_eq!(reqs[0].phases.deploy, None);
        assert_eq!(reqs[0].phases.review, Some(24.0));
        let b = breakdown(&reqs);
        assert_eq!(
            b.review,
            PhaseStats {
                count: 2,
                median: Some(34.0),
                p90: Some(45.2)
            }
        );
        assert_eq!(
            b.deploy,
            PhaseStats {
                count: 2,
                median: Some(36.0),
                p90: Some(45.6)
            }
        );
        assert_eq!(
            b.pickup,
            PhaseStats {
                count: 1,
                median: Some(4.0),
                p90: Some(4.0)
            }
        );
        assert_eq!(b.coding, PhaseStats::default());
    }

    #[test]
    fn git_spans_need_a_merge() {
        let c = |merged: Option<&str>| Change {
            sha: Sha([1; 20]),
            author_time: t("2024-01-01T00:00:00Z"),
            deployment: 1,
            fix: false,
            reverts_deployment: None,
            revert: false,
            merged_at: merged.map(t),
        };
        let deployed = t("2024-01-03T00:00:00Z");
        assert_eq!(
            change_spans(&c(Some("2024-01-01T06:00:00Z")), deployed),
            MergeSpans {
                integration: Some(6.0),
                deploy: Some(42.0)
            }
        );
        assert_eq!(change_spans(&c(None), deployed), MergeSpans::default());
        // Merged before it was authored (skewed clock): integration unknown.
        assert_eq!(
            change_spans(&c(Some("2023-12-31T00:00:00Z")), deployed).integration,
            None
        );
    }

    #[test]
    fn the_largest_shift_names_the_phase() {
        let before = [
            ("coding", Some(10.0)),
            ("pickup", Some(6.0)),
            ("review", None),
        ];
        let now = [
            ("coding", Some(12.0)),
            ("pickup", Some(44.0)),
            ("review", Some(1.0)),
        ];
        assert_eq!(
            largest_shift(&now, &before),
            Some(PhaseShift {
                phase: "pickup",
                before: 6.0,
                now: 44.0,
                change: 38.0
            })
        );
        assert_eq!(largest_shift(&before, &before), None);
    }
}
