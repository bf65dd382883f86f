//! Flow probes: trunk-based development from the branches of a generated
//! repository, small batches from pull-request facts.

mod common;

use chrono::{DateTime, Utc};
use common::{scratch, Repo, HUMAN};
use opsmeter::facts::{PullRequest, RepoFacts};
use opsmeter::probes::{flow, Outcome};
use opsmeter::sources::git::GitRepo;

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn outcome(findings: &[opsmeter::probes::Finding], id: &str) -> (Outcome, Vec<String>) {
    let f = findings.iter().find(|f| f.probe == id).unwrap();
    (
        f.outcome,
        f.evidence.iter().map(|e| e.note.english()).collect(),
    )
}

#[test]
fn trunk_based_counts_branches_active_in_the_last_30_days() {
    let dir = scratch("flow-branches");
    let r = Repo::init(&dir);
    r.commit(
        "base",
        HUMAN,
        "2024-01-01T00:00:00Z",
        "2024-01-01T00:00:00Z",
    );
    // Two recent branches and one stale one.
    for (name, date) in [
        ("feature/a", "2024-03-20T00:00:00Z"),
        ("feature/b", "2024-03-25T00:00:00Z"),
        ("old", "2024-01-10T00:00:00Z"),
    ] {
        r.git(&["checkout", "-q", "-b", name, "main"], &[]);
        r.commit(name, HUMAN, date, date);
    }
    r.git(&["checkout", "-q", "main"], &[]);
    let git = GitRepo::open(&dir).unwrap();
    let until = t("2024-04-01T00:00:00Z");
    let findings = flow::run(&RepoFacts::default(), Some(&git), until);
    let (o, notes) = outcome(&findings, "flow.trunk-based");
    assert_eq!(o, Outcome::Pass);
    assert_eq!(
        notes,
        vec![
            "2 branch(es) besides main active in the last 30 days (at most 3)",
            "branch feature/a: last commit 2024-03-20",
            "branch feature/b: last commit 2024-03-25",
        ]
    );
    // Two more recent branches: four is more than three.
    for (name, date) in [
        ("feature/c", "2024-03-26T00:00:00Z"),
        ("feature/d", "2024-03-27T00:00:00Z"),
    ] {
        r.git(&["checkout", "-q", "-b", name, "main"], &[]);
        r.commit(name, HUMAN, date, date);
    }
    let git = GitRepo::open(&dir).unwrap();
    let (o, notes) = outcome(
        &flow::run(&RepoFacts::default(), Some(&git), until),
        "flow.trunk-based",
    );
    assert_eq!(o, Outcome::Fail);
    assert_eq!(
        notes[0],
        "4 branches besides main active in the last 30 days (more than 3)"
    );
    // Without local history it is unknown, never a guess.
    let (o, _) = outcome(
        &flow::run(&RepoFacts::default(), None, until),
        "flow.trunk-based",
    );
    assert_eq!(o, Outcome::Unknown);
}

fn pr(number: u64, additions: u64, deletions: u64) -> PullRequest {
    PullRequest {
        number,
        title: format!("change {number}"),
        author: "ada".into(),
        branch: String::new(),
        created_at: t("2024-03-01T00:00:00Z"),
        merged_at: t("2024-03-02T00:00:00Z"),
        first_commit_at: None,
        first_response_at: None,
        additions: Some(additions),
        deletions: Some(deletions),
        merge_sha: None,
        revert: false,
        reverts: None,
        deployment: None,
    }
}

#[test]
fn small_batches_use_the_median_pull_request_size() {
    let until = t("2024-04-01T00:00:00Z");
    let facts = |prs: Vec<PullRequest>| RepoFacts {
        pull_requests: prs,
        ..RepoFacts::default()
    };
    // Sizes 15, 60 and 450: median 60.
    let (o, notes) = outcome(
        &flow::run(
            &facts(vec![pr(1, 10, 5), pr(2, 40, 20), pr(3, 400, 50)]),
            None,
            until,
        ),
        "flow.small-batches",
    );
    assert_eq!(o, Outcome::Pass);
    assert_eq!(
        notes,
        vec!["median 60 changed lines over 3 merged pull requests (small: at most 200)"]
    );
    // Sizes 300 and 500: median 400.
    let (o, _) = outcome(
        &flow::run(&facts(vec![pr(1, 250, 50), pr(2, 400, 100)]), None, until),
        "flow.small-batches",
    );
    assert_eq!(o, Outcome::Fail);
    let (o, _) = outcome(
        &flow::run(&facts(vec![]), None, until),
        "flow.small-batches",
    );
    assert_eq!(o, Outcome::Unknown);
}
