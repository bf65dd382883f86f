//! Stored facts (`src/store.rs`) and what the metrics make of them.

use std::path::Path;
use std::sync::LazyLock;

use chrono::{DateTime, Duration, TimeZone, Utc};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::select;

use crate::support::*;
use opsmeter::facts::{
    Change, Collection, Deployment, DeploymentSource, DeploymentStatus, Incident, PullRequest,
    RepoFacts, Sha,
};
use opsmeter::message::Message;
use opsmeter::store;

fn sha() -> impl Strategy<Value = Sha> {
    any::<[u8; 20]>().prop_map(Sha)
}

fn time() -> impl Strategy<Value = DateTime<Utc>> {
    (TIME_RANGE, 0u32..1_000_000_000).prop_map(|(s, n)| Utc.timestamp_opt(s, n).single().unwrap())
}

/// Facts whose every index points at a deployment that exists.
fn repo_facts() -> impl Strategy<Value = RepoFacts> {
    let deployment = (
        "\\PC{1,20}",
        proptest::option::of(sha()),
        time(),
        select(vec![
            DeploymentSource::Tag,
            DeploymentSource::Branch,
            DeploymentSource::Events,
            DeploymentSource::Deployment,
            DeploymentSource::Release,
        ]),
        prop_oneof![
            Just(DeploymentStatus::Success),
            Just(DeploymentStatus::Failure)
        ],
    )
        .prop_map(|(reference, sha, time, source, status)| Deployment {
            reference,
            sha,
            time,
            source,
            status,
        });
    (vec(deployment, 1..8), "\\PC{1,30}").prop_flat_map(|(mut deployments, name)| {
        deployments.sort_by(|a, b| a.time.cmp(&b.time).then(a.reference.cmp(&b.reference)));
        let n = deployments.len();
        let change = (
            sha(),
            time(),
            0..n,
            any::<bool>(),
            proptest::option::of(0..n),
            any::<bool>(),
        )
            .prop_map(
                |(sha, author_time, deployment, fix, reverts_deployment, revert)| Change {
                    sha,
                    author_time,
                    deployment,
                    fix,
                    reverts_deployment,
                    revert,
                    merged_at: None,
                },
            );
        let incident = (
            "\\PC{1,10}",
            time(),
            proptest::option::of(0i64..1_000_000),
            proptest::option::of(0..n),
        )
            .prop_map(|(id, started_at, after, cause_deployment)| Incident {
                id,
                started_at,
                resolved_at: after.map(|a| started_at + Duration::seconds(a)),
                cause_deployment,
            });
        let pull_request = (
            any::<u64>(),
            "\\PC{0,30}",
            time(),
            0i64..1_000_000,
            proptest::option::of(0..n),
            proptest::option::of(sha()),
        )
            .prop_map(
                |(number, title, created_at, open, deployment, merge_sha)| PullRequest {
                    number,
                    title,
                    author: "ada".into(),
                    branch: "feat/x".into(),
                    created_at,
                    merged_at: created_at + Duration::seconds(open),
                    first_commit_at: None,
                    first_response_at: Some(created_at),
                    additions: Some(open as u64),
                    deletions: None,
                    merge_sha,
                    revert: false,
                    reverts: None,
                    deployment,
                },
            );
        let collection =
            proptest::option::of(proptest::option::of(time()).prop_map(|cursor| Collection {
                host: "github".into(),
                project: "acme/api".into(),
                api_url: "https://api.github.com".into(),
                cursor,
            }));
        (
            Just(name),
            Just(deployments),
            vec(change, 0..12),
            vec(incident, 0..4),
            // Notes: sentences of the catalogue with data, or text an older collect wrote.
            vec(
                ("\\PC{0,40}", any::<bool>()).prop_map(|(s, keyed)| {
                    if keyed {
                        opsmeter::msg!("msg_note_no_tags", pattern = s)
                    } else {
                        Message::text(s)
                    }
                }),
                0..3,
            ),
            vec(pull_request, 0..4),
            collection,
        )
            .prop_map(
                |(name, deployments, changes, incidents, notes, pull_requests, collection)| {
                    RepoFacts {
                        name,
                        deployments,
                        changes,
                        incidents,
                        notes,
                        pull_requests,
                        collection,
                        files: None,
                        deployment_search: None,
                        services: None,
                    }
                },
            )
    })
}

/// Facts of three deployments with every kind of index into them.
fn seed_facts() -> RepoFacts {
    let t = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
    let sha = |c: char| Sha::from_hex(&c.to_string().repeat(40)).unwrap();
    RepoFacts {
        name: "api".into(),
        deployments: vec![
            Deployment {
                reference: "v1.0.0".into(),
                sha: Some(sha('a')),
                time: t("2024-01-01T10:00:00Z"),
                source: DeploymentSource::Tag,
                status: DeploymentStatus::Success,
            },
            Deployment {
                reference: "v1.1.0".into(),
                sha: Some(sha('b')),
                time: t("2024-01-08T10:00:00Z"),
                source: DeploymentSource::Tag,
                status: DeploymentStatus::Failure,
            },
            Deployment {
                reference: "d3".into(),
                sha: None,
                time: t("2024-01-09T10:00:00.5Z"),
                source: DeploymentSource::Events,
                status: DeploymentStatus::Success,
            },
        ],
        changes: vec![
            Change {
                sha: sha('c'),
                author_time: t("2024-01-05T09:00:00Z"),
                deployment: 1,
                fix: false,
                reverts_deployment: None,
                revert: false,
                merged_at: None,
            },
            Change {
                sha: sha('d'),
                author_time: t("2024-01-08T12:00:00Z"),
                deployment: 2,
                fix: true,
                reverts_deployment: Some(1),
                revert: true,
                merged_at: None,
            },
        ],
        incidents: vec![Incident {
            id: "i1".into(),
            started_at: t("2024-01-08T11:00:00Z"),
            resolved_at: Some(t("2024-01-09T11:00:00Z")),
            cause_deployment: Some(1),
        }],
        notes: vec![
            Message::text("shallow history"),
            opsmeter::msg!("msg_note_tag_unresolved", tag = "v0"),
        ],
        pull_requests: vec![PullRequest {
            number: 7,
            title: "fix: retry".into(),
            author: "ada".into(),
            branch: "fix/retry".into(),
            created_at: t("2024-01-07T10:00:00Z"),
            merged_at: t("2024-01-08T10:00:00Z"),
            first_commit_at: Some(t("2024-01-06T10:00:00Z")),
            first_response_at: None,
            additions: Some(3),
            deletions: Some(1),
            merge_sha: Some(sha('d')),
            revert: false,
            reverts: None,
            deployment: Some(2),
        }],
        collection: Some(Collection {
            host: "github".into(),
            project: "acme/api".into(),
            api_url: "https://api.github.com".into(),
            cursor: Some(t("2024-01-09T00:00:00Z")),
        }),
        files: None,
        deployment_search: None,
        services: None,
    }
}

/// `seed_facts` as `save_facts` writes them, to mutate.
static FACTS_SEED: LazyLock<&'static str> = LazyLock::new(|| {
    let dir = tempfile::tempdir().unwrap();
    let path = store::save_facts(dir.path(), &seed_facts(), utc(1_704_844_800)).unwrap();
    Box::leak(std::fs::read_to_string(path).unwrap().into_boxed_str())
});

const FACTS_TOKENS: &[&str] = &[
    "null",
    "[]",
    "{}",
    "\"\"",
    "-1",
    "18446744073709551616",
    "\"schema_version\": 2,",
    "\"deployment\": 99,",
    "\"cause_deployment\": 7,",
    "\"reverts_deployment\": 5,",
    "\"deployments\": [],",
    "\"9999-12-31T23:59:59Z\"",
    "\"+262143-12-31T23:59:59Z\"",
    "\"zz\"",
    "\\u0000",
];

/// The seed facts with one index (a change's deployment, what it reverts,
/// an incident's cause, a pull request's deployment) set to `value`, or with
/// no deployments at all: well-formed JSON whose indices may point nowhere.
fn facts_with_index(slot: usize, value: usize) -> Input {
    let mut facts = seed_facts();
    match slot % 7 {
        0 => facts.changes[0].deployment = value,
        1 => facts.changes[1].deployment = value,
        2 => facts.changes[0].reverts_deployment = Some(value),
        3 => facts.changes[1].reverts_deployment = Some(value),
        4 => facts.incidents[0].cause_deployment = Some(value),
        5 => facts.pull_requests[0].deployment = Some(value),
        _ => facts.deployments.clear(),
    }
    let file = serde_json::json!({"schema_version": store::SCHEMA_VERSION, "collected_at": "2024-01-10T00:00:00Z", "facts": facts});
    Input(serde_json::to_vec_pretty(&file).unwrap())
}

fn facts_input() -> BoxedStrategy<Input> {
    let seed: &'static str = &FACTS_SEED;
    let seeds: &'static [&'static str] = Box::leak(Box::new([seed]));
    prop_oneof![
        3 => hostile(seeds, FACTS_TOKENS),
        1 => (0usize..7, select(&[0usize, 1, 2, 3, 4, 99, usize::MAX][..])).prop_map(|(slot, value)| facts_with_index(slot, value)),
    ]
    .boxed()
}

/// Writes `bytes` as the facts of `api` under `root`.
fn write_facts(root: &Path, bytes: &[u8]) {
    let path = store::facts_path(root, "api");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    rewrite(&path, bytes);
}

/// Any facts file: no panic; an error names the file, and the line of a
/// JSON error is a line of it.
#[test]
fn stored_facts_never_panic() {
    let dir = tempfile::tempdir().unwrap();
    let file = store::facts_path(dir.path(), "api").display().to_string();
    proptest!(cases(1500), |(input in facts_input())| {
        write_facts(dir.path(), &input.0);
        if let Err(e) = store::load_facts(dir.path(), "api") {
            let message = format!("{e:#}");
            if let Some(line) = line_after_file(&message, &file)? {
                check_line(line, &input.0, &message)?;
            }
        }
    });
}

/// Facts saved and loaded again are the same facts.
#[test]
fn stored_facts_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    proptest!(cases(300), |(facts in repo_facts(), collected in time())| {
        let path = store::save_facts(dir.path(), &facts, collected).unwrap();
        prop_assert_eq!(path, store::facts_path(dir.path(), &store::slug(&facts.name)));
        let loaded = store::load_facts(dir.path(), &store::slug(&facts.name)).unwrap();
        prop_assert_eq!(loaded, Some((facts, collected)));
    });
}

static EDITION: LazyLock<opsmeter::metrics::tiers::Benchmarks> = LazyLock::new(|| {
    opsmeter::metrics::tiers::Benchmarks::parse(opsmeter::metrics::tiers::BUILTIN, "builtin")
        .unwrap()
});

/// The metrics of `facts` over a window around them.
fn metrics_of(facts: &RepoFacts) {
    let opts = opsmeter::metrics::MetricOptions {
        incident_link_max: Duration::hours(168),
    };
    let outcomes = opsmeter::metrics::outcomes(facts, &opts);
    let window = opsmeter::metrics::Window {
        since: utc(TIME_RANGE.start),
        until: utc(TIME_RANGE.end),
    };
    let edition = EDITION.edition("dora-2023").unwrap();
    let _ = opsmeter::metrics::dora(facts, &outcomes, &window, "dora-2023", edition);
}

/// Facts that load are facts the metrics can use: whatever `load_facts`
/// accepts, computing DORA metrics from it does not panic.
#[test]
fn loaded_facts_never_panic_the_metrics() {
    let dir = tempfile::tempdir().unwrap();
    proptest!(cases(500), |(input in facts_input())| {
        write_facts(dir.path(), &input.0);
        if let Ok(Some((facts, _))) = store::load_facts(dir.path(), "api") {
            metrics_of(&facts);
        }
    });
}

proptest! {
    #![proptest_config(cases(500))]

    /// Generated facts whose indices are all in range give metrics.
    #[test]
    fn consistent_facts_give_metrics(facts in repo_facts()) {
        metrics_of(&facts);
    }
}
