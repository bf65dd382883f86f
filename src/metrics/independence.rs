//! How independently the services of a repository change and ship: pure
//! functions of the services' facts, their outcomes and a window.
//!
//! - `cross_service_change_share`: of the counted commits (not merges, not by
//!   bots) authored in the window that touch at least one service's paths,
//!   the share that touch more than one.
//! - `single_service_deployment_share`: of the deployments in the window that
//!   ship at least one service's change (a deployment ships service S when it
//!   is one of S's deployments and ships one of S's changes), the share that
//!   ship exactly one service. Deployments of the same commit are one release:
//!   the repository's deployment serving several services, and also the tags
//!   `sdk/v1.4.0` and `trace/v1.4.0` cut on one commit (services released in
//!   lockstep ship together, whatever their tags are called). Without a commit
//!   (events rows without a sha), a deployment is its time and reference.
//! - `coupled_pairs`: for each pair of services, the number of those commits
//!   touching both; pairs that never change together are left out; sorted by
//!   count (descending), then by names.

use std::collections::BTreeMap;

use serde::Serialize;

use super::stats::{rate, round4};
use super::{Outcome, Window};
use crate::facts::ServicesFacts;

/// The independence measures of one repository over one window.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Independence {
    /// `null` when no commit of the window touches a service.
    pub cross_service_change_share: Option<f64>,
    /// `null` when no deployment of the window ships a service's change.
    pub single_service_deployment_share: Option<f64>,
    pub coupled_pairs: Vec<CoupledPair>,
    /// The counts behind the shares.
    pub changes_touching_services: usize,
    pub changes_touching_several: usize,
    pub deployments_shipping_services: usize,
    pub deployments_shipping_one: usize,
}

/// Two services (names in byte order) and how many commits touched both.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CoupledPair {
    pub services: [String; 2],
    pub changes: usize,
}

/// What makes two services' deployments one release.
#[derive(PartialEq, Eq, PartialOrd, Ord)]
enum Release<'a> {
    Commit([u8; 20]),
    Named(i64, &'a str),
}

/// `outcomes[k]` are the outcomes of service `k`'s deployments
/// ([`super::outcomes`] of its facts).
pub fn independence(
    sv: &ServicesFacts,
    outcomes: &[Vec<Outcome>],
    window: &Window,
) -> Independence {
    let names: Vec<&str> = sv.services.iter().map(|s| s.name.as_str()).collect();
    let mut touching = 0;
    let mut several = 0;
    let mut pairs: BTreeMap<(usize, usize), usize> = BTreeMap::new();
    for t in sv.touches.iter().filter(|t| window.contains(t.author_time)) {
        if t.services.is_empty() {
            continue;
        }
        touching += 1;
        if t.services.len() > 1 {
            several += 1;
        }
        for (i, &a) in t.services.iter().enumerate() {
            for &b in &t.services[i + 1..] {
                let (a, b) = (usize::from(a), usize::from(b));
                let key = if names[a] <= names[b] { (a, b) } else { (b, a) };
                *pairs.entry(key).or_default() += 1;
            }
        }
    }
    // The release (its commit, else its time and reference) -> the services it ships.
    let mut shipping: BTreeMap<Release<'_>, Vec<usize>> = BTreeMap::new();
    for (k, s) in sv.services.iter().enumerate() {
        for (i, d) in s.facts.deployments.iter().enumerate() {
            let ships = outcomes
                .get(k)
                .and_then(|o| o.get(i))
                .is_some_and(|o| o.change_count > 0);
            if ships && window.contains(d.time) {
                let release = match &d.sha {
                    Some(sha) => Release::Commit(sha.0),
                    None => Release::Named(d.time.timestamp(), d.reference.as_str()),
                };
                let list = shipping.entry(release).or_default();
                if !list.contains(&k) {
                    list.push(k);
                }
            }
        }
    }
    let deployments = shipping.len();
    let single = shipping.values().filter(|l| l.len() == 1).count();
    let mut coupled: Vec<CoupledPair> = pairs
        .into_iter()
        .map(|((a, b), n)| CoupledPair {
            services: [names[a].to_string(), names[b].to_string()],
            changes: n,
        })
        .collect();
    coupled.sort_by(|x, y| {
        y.changes
            .cmp(&x.changes)
            .then_with(|| x.services.cmp(&y.services))
    });
    Independence {
        cross_service_change_share: rate(several as u64, touching as u64).map(round4),
        single_service_deployment_share: rate(single as u64, deployments as u64).map(round4),
        coupled_pairs: coupled,
        changes_touching_services: touching,
        changes_touching_several: several,
        deployments_shipping_services: deployments,
        deployments_shipping_one: single,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::{
        Deployment, DeploymentSource, DeploymentStatus, RepoFacts, ServiceFacts, Sha, Touch,
    };
    use chrono::{DateTime, Utc};

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn service(name: &str, deps: &[(&str, &str)]) -> ServiceFacts {
        service_at(
            name,
            &deps.iter().map(|&(r, t)| (r, t, None)).collect::<Vec<_>>(),
        )
    }

    fn service_at(name: &str, deps: &[(&str, &str, Option<u8>)]) -> ServiceFacts {
        ServiceFacts {
            name: name.into(),
            facts: RepoFacts {
                deployments: deps
                    .iter()
                    .map(|(r, time, commit)| Deployment {
                        reference: r.to_string(),
                        sha: commit.map(|c| Sha([c; 20])),
                        time: t(time),
                        source: DeploymentSource::Tag,
                        status: DeploymentStatus::Success,
                    })
                    .collect(),
                ..RepoFacts::default()
            },
            ..ServiceFacts::default()
        }
    }

    fn shipped(counts: &[usize]) -> Vec<Outcome> {
        counts
            .iter()
            .map(|&c| Outcome {
                change_count: c,
                ..Outcome::default()
            })
            .collect()
    }

    #[test]
    fn shares_and_pairs_follow_the_definitions() {
        let window = Window {
            since: t("2024-01-01T00:00:00Z"),
            until: t("2024-02-01T00:00:00Z"),
        };
        // Services: 0 = web, 1 = api, 2 = auth.
        let touch = |s: &[u16], when: &str| Touch {
            sha: Sha([0; 20]),
            author_time: t(when),
            services: s.to_vec(),
        };
        let sv = ServicesFacts {
            services: vec![
                service(
                    "web",
                    &[
                        ("v1", "2024-01-02T00:00:00Z"),
                        ("v2", "2024-01-10T00:00:00Z"),
                    ],
                ),
                service(
                    "api",
                    &[
                        ("v1", "2024-01-02T00:00:00Z"),
                        ("api-2", "2024-01-11T00:00:00Z"),
                    ],
                ),
                service("auth", &[("auth-1", "2023-12-01T00:00:00Z")]),
            ],
            touches: vec![
                touch(&[0], "2024-01-03T00:00:00Z"),
                touch(&[0, 1], "2024-01-04T00:00:00Z"),
                touch(&[0, 1, 2], "2024-01-05T00:00:00Z"),
                touch(&[1], "2024-01-06T00:00:00Z"),
                // Outside the window: not counted.
                touch(&[0, 2], "2023-12-20T00:00:00Z"),
            ],
            unmeasured: None,
        };
        let outcomes = vec![shipped(&[2, 1]), shipped(&[1, 3]), shipped(&[1])];
        let ind = independence(&sv, &outcomes, &window);
        // 4 commits in the window touch a service; 2 touch several: 0.5.
        assert_eq!(ind.changes_touching_services, 4);
        assert_eq!(ind.changes_touching_several, 2);
        assert_eq!(ind.cross_service_change_share, Some(0.5));
        // Deployments in the window shipping a service: v1 (web and api: one
        // deployment, two services), v2 (web), api-2 (api); auth-1 is before
        // the window. Single-service: v2, api-2: 2 of 3.
        assert_eq!(ind.deployments_shipping_services, 3);
        assert_eq!(ind.deployments_shipping_one, 2);
        assert_eq!(ind.single_service_deployment_share, Some(0.6667));
        // api+web: 2 commits; api+auth, auth+web: 1 each (names in byte order).
        let pairs: Vec<(&str, &str, usize)> = ind
            .coupled_pairs
            .iter()
            .map(|p| (p.services[0].as_str(), p.services[1].as_str(), p.changes))
            .collect();
        assert_eq!(
            pairs,
            [("api", "web", 2), ("api", "auth", 1), ("auth", "web", 1)]
        );
    }

    #[test]
    fn tags_of_several_services_on_one_commit_are_one_release() {
        let window = Window {
            since: t("2024-01-01T00:00:00Z"),
            until: t("2024-02-01T00:00:00Z"),
        };
        // sdk/v1 and trace/v1 are cut on commit 1 a minute apart (lockstep);
        // sdk/v2 alone on commit 2; trace/v2 on commit 3.
        let sv = ServicesFacts {
            services: vec![
                service_at(
                    "sdk",
                    &[
                        ("sdk/v1", "2024-01-02T00:00:00Z", Some(1)),
                        ("sdk/v2", "2024-01-09T00:00:00Z", Some(2)),
                    ],
                ),
                service_at(
                    "trace",
                    &[
                        ("trace/v1", "2024-01-02T00:01:00Z", Some(1)),
                        ("trace/v2", "2024-01-20T00:00:00Z", Some(3)),
                    ],
                ),
            ],
            ..ServicesFacts::default()
        };
        let outcomes = vec![shipped(&[1, 1]), shipped(&[2, 1])];
        let ind = independence(&sv, &outcomes, &window);
        // Releases: commit 1 (sdk and trace), commit 2 (sdk), commit 3 (trace):
        // 2 of 3 ship one service.
        assert_eq!(ind.deployments_shipping_services, 3);
        assert_eq!(ind.deployments_shipping_one, 2);
        assert_eq!(ind.single_service_deployment_share, Some(0.6667));
    }

    #[test]
    fn nothing_touched_is_unknown_not_zero() {
        let window = Window {
            since: t("2024-01-01T00:00:00Z"),
            until: t("2024-02-01T00:00:00Z"),
        };
        let sv = ServicesFacts {
            services: vec![service("web", &[])],
            ..ServicesFacts::default()
        };
        let ind = independence(&sv, &[Vec::new()], &window);
        assert_eq!(ind.cross_service_change_share, None);
        assert_eq!(ind.single_service_deployment_share, None);
        assert!(ind.coupled_pairs.is_empty());
    }
}
