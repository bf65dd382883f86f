//! `opsmeter assess` through the real binary, on fixture repositories whose
//! expected metrics are worked out by hand in each test.

mod common;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use common::{
    assess_repo_json, assess_site_json, branches, config_site, linear, opsmeter, scratch, Repo,
};
use serde_json::{json, Value};

struct Linear {
    dir: PathBuf,
    c2: String,
    c5: String,
}

fn linear_repo() -> &'static Linear {
    static R: OnceLock<Linear> = OnceLock::new();
    R.get_or_init(|| {
        let dir = scratch("linear");
        let (_, c2, c5) = linear(&dir);
        Linear { dir, c2, c5 }
    })
}

fn branches_repo() -> &'static PathBuf {
    static R: OnceLock<PathBuf> = OnceLock::new();
    R.get_or_init(|| {
        let dir = scratch("branches");
        branches(&dir);
        dir
    })
}

/// (ref, change_count, failed, baseline) of each deployment.
fn deployment_rows(report: &Value) -> Vec<(String, u64, bool, bool)> {
    report["repos"][0]["deployments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["ref"].as_str().unwrap().to_string(),
                d["change_count"].as_u64().unwrap(),
                d["failed"].as_bool().unwrap(),
                d["baseline"].as_bool().unwrap(),
            )
        })
        .collect()
}

fn row(r: &str, n: u64, failed: bool, baseline: bool) -> (String, u64, bool, bool) {
    (r.to_string(), n, failed, baseline)
}

#[test]
fn linear_history_with_bot_timezone_fix_and_revert() {
    let fx = linear_repo();
    let report = assess_repo_json(&fx.dir, "2024-01-01", "2024-01-08", &[]);
    assert_eq!(
        report["window"],
        json!({"since": "2024-01-01T00:00:00Z", "until": "2024-01-08T00:00:00Z"})
    );
    // v2.0.0-rc1 (pre-release) and nightly do not match the default pattern.
    // v1.1.0 ships c2 and c3 (the bot commit is not a change) and is failed by
    // the revert of c2 that v1.3.0 ships.
    assert_eq!(
        deployment_rows(&report),
        vec![
            row("v1.0.0", 0, false, true),
            row("v1.1.0", 2, true, false),
            row("v1.2.0", 1, false, false),
            row("v1.3.0", 1, false, false),
        ]
    );
    let deps = &report["repos"][0]["deployments"];
    // Annotated tag: tagger date; lightweight: the commit's committer date.
    assert_eq!(deps[1]["time"], "2024-01-04T00:00:00Z");
    assert_eq!(deps[2]["time"], "2024-01-06T00:00:00Z");
    assert_eq!(deps[3]["sha"], fx.c5.as_str());
    assert_eq!(deps[1]["recovered_at"], "2024-01-07T00:00:00Z");

    let dora = &report["repos"][0]["dora"];
    assert_eq!(dora["deployment_count"], 4);
    assert_eq!(dora["deployments_per_week"], 4.0);
    // Days 01-01, 01-04, 01-06, 01-07 in the one whole week.
    assert_eq!(dora["deploy_days_per_week"], 4.0);
    // Lead times: c2 48 h, c3 32 h (authored 2024-01-03T00:00+08:00 = 01-02 16:00 UTC),
    // c4 24 h, c5 0 h. Median (24+32)/2 = 28; p90 at rank 2.7: 32 + 0.7 × 16 = 43.2.
    assert_eq!(
        dora["lead_time_hours"],
        json!({"count": 4, "median": 28.0, "p90": 43.2, "values": [0.0, 24.0, 32.0, 48.0]})
    );
    assert_eq!(dora["change_failure_rate"], 0.25);
    // v1.1.0 (01-04) recovered by v1.3.0 (01-07): 72 h.
    assert_eq!(
        dora["recovery_time_hours"],
        json!({"count": 1, "median": 72.0})
    );
    // v1.2.0 ships only a fix (and follows a failure); v1.3.0 ships only a revert.
    assert_eq!(dora["rework_rate"], 0.5);
    assert_eq!(
        dora["tiers"],
        json!({"deployment_frequency": "high", "lead_time": "high", "change_failure_rate": "low", "recovery_time": "medium"})
    );
}

#[test]
fn window_bounds_are_half_open_dates_at_midnight_utc() {
    let fx = linear_repo();
    // until 2024-01-07 excludes v1.3.0 at 2024-01-07T00:00:00Z; since 2024-01-04 includes v1.1.0 at 00:00.
    let report = assess_repo_json(&fx.dir, "2024-01-04", "2024-01-07", &[]);
    assert_eq!(
        deployment_rows(&report),
        vec![
            row("v1.1.0", 2, true, false),
            row("v1.2.0", 1, false, false)
        ]
    );
    let dora = &report["repos"][0]["dora"];
    assert_eq!(dora["lead_time_hours"]["values"], json!([24.0, 32.0, 48.0]));
    // The failure is in the window, its recovery is counted from its own time.
    assert_eq!(dora["recovery_time_hours"]["median"], 72.0);
    assert_eq!(dora["change_failure_rate"], 0.5);
}

#[test]
fn release_branches_merges_old_commits_and_simultaneous_tags() {
    let dir = branches_repo();
    let report = assess_repo_json(dir, "2024-02-01", "2024-02-15", &[]);
    // v1.0.1 (02-04) ships the backport before v1.1.0 (02-05) ships m2; the merge
    // commit is not a change; v0.9.0 tags an old commit and ships nothing; v1.3.0
    // and v1.3.1 share a time and are ordered by name, so v1.3.0 ships m4.
    assert_eq!(
        deployment_rows(&report),
        vec![
            row("v1.0.0", 0, false, true),
            row("v1.0.1", 1, false, false),
            row("v1.1.0", 1, false, false),
            row("v1.2.0", 1, false, false),
            row("v0.9.0", 0, false, false),
            row("v1.3.0", 1, false, false),
            row("v1.3.1", 0, false, false),
        ]
    );
    let dora = &report["repos"][0]["dora"];
    assert_eq!(dora["deployments_per_week"], 3.5);
    assert_eq!(dora["deploy_days_per_week"], 3.0);
    // r1 24 h, m2 72 h, m3 24 h, m4 24 h (authored 02-10, tagged at its committer date 02-11).
    assert_eq!(
        dora["lead_time_hours"],
        json!({"count": 4, "median": 24.0, "p90": 57.6, "values": [24.0, 24.0, 24.0, 72.0]})
    );
    assert_eq!(dora["change_failure_rate"], 0.0);
    assert_eq!(dora["rework_rate"], 0.0);
    assert_eq!(
        dora["recovery_time_hours"],
        json!({"count": 0, "median": null})
    );
    assert_eq!(dora["tiers"]["lead_time"], "high");
    assert_eq!(dora["tiers"]["recovery_time"], Value::Null);
}

#[test]
fn bare_repository_reads_the_same() {
    let fx = linear_repo();
    let bare = scratch("linear-bare.git");
    if bare.exists() {
        std::fs::remove_dir_all(&bare).unwrap();
    }
    let ok = std::process::Command::new("git")
        .args(["clone", "-q", "--bare"])
        .arg(&fx.dir)
        .arg(&bare)
        .status()
        .unwrap();
    assert!(ok.success());
    let a = assess_repo_json(&fx.dir, "2024-01-01", "2024-01-08", &[]);
    let b = assess_repo_json(&bare, "2024-01-01", "2024-01-08", &[]);
    assert_eq!(a["repos"][0]["deployments"], b["repos"][0]["deployments"]);
    assert_eq!(a["repos"][0]["dora"], b["repos"][0]["dora"]);
    assert_eq!(b["repos"][0]["name"], "linear-bare");
}

#[test]
fn agrees_with_git_rev_list_and_for_each_ref() {
    for dir in [linear_repo().dir.clone(), branches_repo().clone()] {
        let report = assess_repo_json(&dir, "2000-01-01", "2100-01-01", &[]);
        let expected = by_hand_with_git(&dir);
        let got = deployment_rows(&report);
        assert_eq!(got.len(), expected.deployments.len(), "{}", dir.display());
        for (g, e) in got.iter().zip(&expected.deployments) {
            assert_eq!(
                (g.0.as_str(), g.1, g.2),
                (e.0.as_str(), e.1, e.2),
                "{}",
                dir.display()
            );
        }
        let lead = &report["repos"][0]["dora"]["lead_time_hours"];
        assert!((lead["median"].as_f64().unwrap() - expected.median).abs() < 0.01);
        assert!((lead["p90"].as_f64().unwrap() - expected.p90).abs() < 0.01);
    }
}

struct ByHand {
    deployments: Vec<(String, u64, bool)>,
    median: f64,
    p90: f64,
}

/// The definitions applied with git's own plumbing: tags from for-each-ref,
/// change sets from rev-list, bots by name, reverts by message.
fn by_hand_with_git(dir: &Path) -> ByHand {
    let repo = Repo {
        dir: dir.to_path_buf(),
    };
    let pattern = regex::Regex::new(r"^v?\d+\.\d+\.\d+$").unwrap();
    let refs = repo.git(
        &[
            "for-each-ref",
            "refs/tags",
            "--format=%(refname:short) %(objecttype) %(taggerdate:unix) %(committerdate:unix) %(*committerdate:unix)",
        ],
        &[],
    );
    let mut tags: Vec<(i64, String)> = refs
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split(' ').collect();
            if !pattern.is_match(f[0]) {
                return None;
            }
            let time = if f[1] == "tag" { f[2] } else { f[3] };
            Some((time.parse().unwrap(), f[0].to_string()))
        })
        .collect();
    tags.sort_by(|a, b| {
        a.0.cmp(&b.0)
            .then_with(|| a.1.as_bytes().cmp(b.1.as_bytes()))
    });
    let mut shipped: Vec<(String, usize)> = Vec::new(); // (sha, deployment) of every commit
    let mut changes: Vec<(usize, i64, Option<String>)> = Vec::new(); // (deployment, author time, revert target)
    for (k, (_, tag)) in tags.iter().enumerate() {
        let mut args = vec!["rev-list".to_string(), format!("{tag}^{{commit}}")];
        for (_, earlier) in &tags[..k] {
            args.push(format!("^{earlier}^{{commit}}"));
        }
        let a: Vec<&str> = args.iter().map(String::as_str).collect();
        for sha in repo.git(&a, &[]).lines() {
            shipped.push((sha.to_string(), k));
            let info = repo.git(&["show", "-s", "--format=%P%n%an%n%at%n%B", sha], &[]);
            let mut lines = info.lines();
            let parents = lines.next().unwrap().split_whitespace().count();
            let author = lines.next().unwrap();
            let at: i64 = lines.next().unwrap().parse().unwrap();
            let body: String = lines.collect::<Vec<_>>().join("\n");
            let revert = body.split("This reverts commit ").nth(1).map(|r| {
                r.chars()
                    .take_while(|c| c.is_ascii_hexdigit())
                    .collect::<String>()
            });
            if parents < 2 && !author.ends_with("[bot]") && k > 0 {
                changes.push((k, at, revert));
            }
        }
    }
    let mut counts = vec![0u64; tags.len()];
    let mut failed = vec![false; tags.len()];
    let mut lead = Vec::new();
    for (k, at, revert) in &changes {
        counts[*k] += 1;
        lead.push((tags[*k].0 - at) as f64 / 3600.0);
        if let Some(prefix) = revert {
            if let Some((_, t)) = shipped.iter().find(|(s, _)| s.starts_with(prefix.as_str())) {
                if t < k {
                    failed[*t] = true;
                }
            }
        }
    }
    lead.retain(|h| *h >= 0.0);
    lead.sort_by(f64::total_cmp);
    let pct = |p: f64| {
        let rank = p * (lead.len() - 1) as f64;
        let (lo, hi) = (rank.floor() as usize, rank.ceil() as usize);
        lead[lo] + (lead[hi] - lead[lo]) * (rank - lo as f64)
    };
    ByHand {
        deployments: tags
            .iter()
            .enumerate()
            .map(|(k, (_, t))| (t.clone(), counts[k], failed[k]))
            .collect(),
        median: pct(0.5),
        p90: pct(0.9),
    }
}

/// A site whose one repository is described by events files only.
fn events_site(events: &str, extra_config: &str) -> tempfile::TempDir {
    let dir = config_site(&format!(
        "[[repos]]\nname = \"payments\"\nevents = [\"events.csv\"]\n{extra_config}"
    ));
    std::fs::write(dir.path().join("events.csv"), events).unwrap();
    dir
}

const EVENTS: &str = "type,id,environment,status,finished_at,started_at,resolved_at
deployment,d1,production,success,2024-03-01T10:00:00Z,,
deployment,d2,production,failure,2024-03-02T10:00:00Z,,
deployment,d3,prod,success,2024-03-02T12:00:00Z,,
deployment,d4,staging,success,2024-03-04T10:00:00Z,,
deployment,d5,production,success,2024-03-05T10:00:00Z,,
incident,i1,,,,2024-03-05T12:00:00Z,2024-03-05T15:30:00Z
incident,i2,,,,2024-03-01T11:00:00Z,2024-03-01T13:00:00Z
";

#[test]
fn events_file_deployments_and_incidents() {
    let site = events_site(EVENTS, "");
    let report = assess_site_json(site.path(), "2024-03-01", "2024-03-08", &[]);
    // d4 is staging. d1 is failed by i2 (after it, before d2), d2 by its status,
    // d5 by i1 (after it, no later deployment, within 7 days).
    assert_eq!(
        deployment_rows(&report),
        vec![
            row("d1", 0, true, true),
            row("d2", 0, true, false),
            row("d3", 0, false, false),
            row("d5", 0, true, false),
        ]
    );
    let dora = &report["repos"][0]["dora"];
    assert_eq!(dora["change_failure_rate"], 0.75);
    // d1: i2 resolved 13:00 → 3 h; d2: next success d3 at 12:00 → 2 h; d5: i1 resolved 15:30 → 5.5 h.
    assert_eq!(
        dora["recovery_time_hours"],
        json!({"count": 3, "median": 3.0})
    );
    // i1 3.5 h, i2 2 h.
    assert_eq!(
        dora["time_to_restore_hours"],
        json!({"count": 2, "median": 2.75})
    );
    // d2 and d3 each follow a failed deployment within 7 days.
    assert_eq!(dora["rework_rate"], 0.5);
    assert_eq!(dora["deploy_days_per_week"], 3.0);
    assert_eq!(dora["lead_time_hours"]["count"], 0);
    assert_eq!(dora["tiers"]["recovery_time"], "high");
    assert_eq!(dora["tiers"]["change_failure_rate"], "low");

    // The 2021 edition ranks recovery by time to restore (2.75 h: high) and failure ≤ 30 % otherwise low.
    let report = assess_site_json(
        site.path(),
        "2024-03-01",
        "2024-03-08",
        &["--benchmarks", "dora-2021"],
    );
    assert_eq!(report["repos"][0]["dora"]["benchmark"], "dora-2021");
    assert_eq!(report["repos"][0]["dora"]["tiers"]["recovery_time"], "high");
}

#[test]
fn incident_link_window_is_configurable() {
    // With a 1-hour link window, i2 (1 h after d1) still fails d1 but i1 (2 h after d5) does not.
    let site = events_site(EVENTS, "incident_link_max_hours = 1.0\n");
    let report = assess_site_json(site.path(), "2024-03-01", "2024-03-08", &[]);
    let failed: Vec<bool> = deployment_rows(&report).iter().map(|r| r.2).collect();
    assert_eq!(failed, vec![true, true, false, false]);
}

#[test]
fn malformed_events_rows_fail_unless_lenient() {
    let bad = "type,id,environment,status,finished_at\n\
               deployment,d1,production,success,2024-03-01T10:00:00Z\n\
               deployment,d2,production,success,not-a-date\n\
               deployment,d3,production,exploded,2024-03-03T10:00:00Z\n";
    let site = events_site(bad, "");
    let out = opsmeter()
        .arg("--root")
        .arg(site.path())
        .args([
            "assess",
            "--json",
            "--since",
            "2024-03-01",
            "--until",
            "2024-03-08",
        ])
        .assert()
        .code(1);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(
        stderr.contains("events.csv:3: `finished_at` \"not-a-date\" is not a time"),
        "{stderr}"
    );
    assert!(
        stderr.contains("events.csv:4: `status` \"exploded\""),
        "{stderr}"
    );
    assert!(out.get_output().stdout.is_empty());

    let out = opsmeter()
        .arg("--root")
        .arg(site.path())
        .args([
            "assess",
            "--json",
            "--lenient",
            "--since",
            "2024-03-01",
            "--until",
            "2024-03-08",
        ])
        .assert()
        .success();
    let report: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert_eq!(deployment_rows(&report), vec![row("d1", 0, false, true)]);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(stderr.contains("warning: events.csv:3:"), "{stderr}");
}

#[test]
fn events_deployments_ship_commits_of_the_repository() {
    // Events name tags and an abbreviated sha of the linear fixture; incidents name a cause.
    let fx = linear_repo();
    let dir = tempfile::tempdir().unwrap();
    let events = format!(
        "type,id,ref,sha,environment,status,finished_at,started_at,resolved_at,cause_sha\n\
         deployment,deploy-1,v1.0.0,,production,success,2024-01-01T12:00:00Z,,,\n\
         deployment,deploy-2,,{c2},production,success,2024-01-02T12:00:00Z,,,\n\
         deployment,deploy-3,v1.3.0,,production,success,2024-01-08T00:00:00Z,,,\n\
         incident,inc-1,,,,,,2024-01-09T00:00:00Z,2024-01-09T06:00:00Z,{c2}\n",
        c2 = &fx.c2[..8]
    );
    std::fs::write(dir.path().join("deploys.csv"), events).unwrap();
    std::fs::write(
        dir.path().join("opsmeter.toml"),
        format!(
            "[[repos]]\nname = \"lin\"\npath = {:?}\nevents = [\"deploys.csv\"]\n",
            fx.dir
        ),
    )
    .unwrap();
    let report = assess_site_json(dir.path(), "2024-01-01", "2024-01-15", &[]);
    // deploy-2 ships c2 (1 change); deploy-3 ships c3, c4, c5 (the bot commit is not a change).
    // The incident names c2 as its cause: deploy-2 failed (the revert c5 also fails it),
    // recovered at the earlier of deploy-3 (revert shipped, 01-08) and the incident's end (01-09 06:00).
    assert_eq!(
        deployment_rows(&report),
        vec![
            row("deploy-1", 0, false, true),
            row("deploy-2", 1, true, false),
            row("deploy-3", 3, false, false),
        ]
    );
    let deps = &report["repos"][0]["deployments"];
    assert_eq!(deps[1]["sha"], fx.c2.as_str());
    assert_eq!(deps[1]["recovered_at"], "2024-01-08T00:00:00Z");
    // c2 (01-02 00:00 → deploy-2 at 01-02 12:00) 12 h; to deploy-3 at 01-08 00:00:
    // c3 (01-02 16:00 UTC) 128 h, c4 (01-05) 72 h, c5 (01-07) 24 h.
    assert_eq!(
        report["repos"][0]["dora"]["lead_time_hours"]["values"],
        json!([12.0, 24.0, 72.0, 128.0])
    );
}

#[test]
fn awkward_repositories_give_a_note_and_an_empty_result() {
    // An empty repository (unborn HEAD).
    let empty = scratch("empty");
    Repo::init(&empty);
    let report = assess_repo_json(&empty, "2024-01-01", "2024-02-01", &[]);
    assert_eq!(report["repos"][0]["deployments"], json!([]));
    assert_eq!(report["repos"][0]["dora"]["deployment_count"], 0);
    assert_eq!(
        report["repos"][0]["dora"]["change_failure_rate"],
        Value::Null
    );
    assert!(report["repos"][0]["notes"][0]
        .as_str()
        .unwrap()
        .contains("no tags match tag_pattern"));

    // A tag of a tree is skipped with a note; the other tags still count.
    let treeish = scratch("tree-tag");
    let r = Repo::init(&treeish);
    let c = r.commit(
        "one",
        common::HUMAN,
        "2024-01-01T00:00:00Z",
        "2024-01-01T00:00:00Z",
    );
    r.tag("v1.0.0", &c);
    r.tag("v9.9.9", "HEAD^{tree}");
    let report = assess_repo_json(&treeish, "2024-01-01", "2024-02-01", &[]);
    assert_eq!(
        deployment_rows(&report),
        vec![row("v1.0.0", 0, false, true)]
    );
    let notes = report["repos"][0]["notes"].to_string();
    assert!(
        notes.contains("tag v9.9.9 points to a tree, not a commit; skipped"),
        "{notes}"
    );

    // A shallow clone: clear note, nothing counted.
    let shallow = scratch("shallow");
    if shallow.exists() {
        std::fs::remove_dir_all(&shallow).unwrap();
    }
    let src = format!("file://{}", linear_repo().dir.display());
    let ok = std::process::Command::new("git")
        .args(["clone", "-q", "--depth", "1", &src])
        .arg(&shallow)
        .status()
        .unwrap();
    assert!(ok.success());
    let report = assess_repo_json(&shallow, "2024-01-01", "2024-02-01", &[]);
    assert_eq!(report["repos"][0]["deployments"], json!([]));
    assert!(report["repos"][0]["notes"][0]
        .as_str()
        .unwrap()
        .contains("shallow clone"));

    // Not a repository at all: an error, exit 1.
    let nothing = tempfile::tempdir().unwrap();
    let out = opsmeter()
        .args(["assess", "--repo"])
        .arg(nothing.path())
        .assert()
        .code(1);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(stderr.contains("is not a git repository"), "{stderr}");
}

#[test]
fn deploy_branch_mode_uses_first_parent_merges() {
    let dir = branches_repo();
    let site = config_site(&format!(
        "[[repos]]\nname = \"b\"\npath = {dir:?}\ndeploy_branch = \"main\"\n"
    ));
    let report = assess_site_json(site.path(), "2024-01-01", "2024-03-01", &[]);
    let deps = report["repos"][0]["deployments"].as_array().unwrap();
    // main has one merge (02-06): it is the only, baseline, deployment.
    assert_eq!(deps.len(), 1);
    assert!(deps[0]["ref"].as_str().unwrap().starts_with("main@"));
    assert_eq!(deps[0]["time"], "2024-02-06T00:00:00Z");
}

#[test]
fn table_output_and_fail_under_gate() {
    let fx = linear_repo();
    let out = opsmeter()
        .args([
            "assess",
            "--since",
            "2024-01-01",
            "--until",
            "2024-01-08",
            "--repo",
        ])
        .arg(&fx.dir)
        .assert()
        .success();
    let stdout = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    assert!(
        stdout.starts_with("linear  [2024-01-01T00:00:00Z → 2024-01-08T00:00:00Z, DORA 2023"),
        "{stdout}"
    );
    assert!(
        stdout.contains("median 28.0 h, p90 43.2 h, 4 changes"),
        "{stdout}"
    );
    assert!(stdout.contains("25.0 % (1 of 4)"), "{stdout}");

    // Change failure rate is low: a medium gate fails, a low gate passes.
    let out = opsmeter()
        .args([
            "assess",
            "--since",
            "2024-01-01",
            "--until",
            "2024-01-08",
            "--fail-under",
            "medium",
            "--repo",
        ])
        .arg(&fx.dir)
        .assert()
        .code(1);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(
        stderr.contains("below --fail-under medium: linear: change failure rate is low"),
        "{stderr}"
    );
    opsmeter()
        .args([
            "assess",
            "--since",
            "2024-01-01",
            "--until",
            "2024-01-08",
            "--fail-under",
            "low",
            "--repo",
        ])
        .arg(&fx.dir)
        .assert()
        .success();
}

/// The whole `assess --json` report of the fixture repositories, byte for byte:
/// restructuring the code must not change it (an intended change of output
/// updates the snapshot, reviewed).
#[test]
fn assess_json_output_is_pinned() {
    let linear = linear_repo();
    let branches = branches_repo();
    for (name, dir, since, until) in [
        ("linear", &linear.dir, "2024-01-01", "2024-01-08"),
        ("branches", branches, "2024-01-01", "2024-03-01"),
    ] {
        let out = opsmeter()
            .args([
                "assess", "--json", "--since", since, "--until", until, "--repo",
            ])
            .arg(dir)
            .assert()
            .success();
        let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
        insta::assert_snapshot!(format!("assess_json_{name}"), text);
    }
}

/// Plain git's phases: a feature branch merged with a merge commit gives its
/// commits an integration (authored → merged) and a deploy (merged →
/// deployed) phase; a squashed commit and rebased commits land on the
/// mainline without a merge, so git cannot tell theirs. With a deploy branch
/// other than the default one, the merge into it is the deployment, not the
/// integration.
#[test]
fn git_phases_come_from_merge_commits_only() {
    let dir = scratch("merge-phases");
    let r = Repo::init(&dir);
    let c0 = r.commit(
        "init",
        common::HUMAN,
        "2024-01-01T00:00:00Z",
        "2024-01-01T00:00:00Z",
    );
    r.tag("v1.0.0", &c0);
    r.git(&["checkout", "-q", "-b", "feature"], &[]);
    r.commit(
        "f1",
        common::HUMAN,
        "2024-01-02T00:00:00Z",
        "2024-01-02T00:00:00Z",
    );
    r.commit(
        "f2",
        common::HUMAN,
        "2024-01-02T06:00:00Z",
        "2024-01-02T06:00:00Z",
    );
    r.git(&["checkout", "-q", "main"], &[]);
    r.git(
        &[
            "merge",
            "-q",
            "--no-ff",
            "-m",
            "Merge branch 'feature'",
            "feature",
        ],
        &[
            ("GIT_AUTHOR_DATE", "2024-01-03T00:00:00Z"),
            ("GIT_COMMITTER_DATE", "2024-01-03T00:00:00Z"),
        ],
    );
    // A squash merge is one ordinary commit on main; a rebase merge, commits re-made on main.
    r.commit(
        "squashed",
        common::HUMAN,
        "2024-01-03T12:00:00Z",
        "2024-01-04T00:00:00Z",
    );
    let head = r.commit(
        "rebased",
        common::HUMAN,
        "2024-01-04T06:00:00Z",
        "2024-01-05T00:00:00Z",
    );
    r.tag_annotated("v2.0.0", &head, "2024-01-06T00:00:00Z");

    let report = assess_repo_json(&dir, "2024-01-01", "2024-02-01", &[]);
    let dora = &report["repos"][0]["dora"];
    // Lead times to v2 (01-06 00:00): f1 96 h, f2 90 h, squashed 60 h, rebased 42 h.
    assert_eq!(
        dora["lead_time_hours"]["values"],
        json!([42.0, 60.0, 90.0, 96.0])
    );
    // Only f1 and f2 came through the merge (01-03 00:00): integration 24 h and
    // 18 h (median 21, p90 18 + 0.9 × 6 = 23.4); deploy 72 h each.
    assert_eq!(
        dora["merge_phases_hours"],
        json!({
            "integration": {"count": 2, "median": 21.0, "p90": 23.4},
            "deploy": {"count": 2, "median": 72.0, "p90": 72.0}
        })
    );
    // No host: no pull requests, and their phases are empty rather than zero.
    assert_eq!(report["repos"][0]["pull_requests"], json!([]));
    assert_eq!(
        dora["lead_time_phases_hours"]["review"],
        json!({"count": 0, "median": null, "p90": null})
    );

    // Before the merge reached v2, nothing came through a merge: no git phases at all.
    let early = assess_repo_json(&dir, "2023-12-01", "2024-01-02", &[]);
    assert_eq!(early["repos"][0]["dora"]["merge_phases_hours"], Value::Null);

    // Deploy branch `production` (not the default branch): each merge of main
    // into it is a deployment, and a change still counts from main's merge.
    let dir = scratch("merge-phases-deploy-branch");
    let r = Repo::init(&dir);
    let c0 = r.commit(
        "init",
        common::HUMAN,
        "2024-01-01T00:00:00Z",
        "2024-01-01T00:00:00Z",
    );
    r.commit(
        "pre",
        common::HUMAN,
        "2024-01-01T06:00:00Z",
        "2024-01-01T06:00:00Z",
    );
    r.git(&["checkout", "-q", "-b", "feature"], &[]);
    r.commit(
        "f1",
        common::HUMAN,
        "2024-01-02T00:00:00Z",
        "2024-01-02T00:00:00Z",
    );
    let merge = |branch: &str, from: &str, date: &str| {
        r.git(&["checkout", "-q", branch], &[]);
        r.git(
            &[
                "merge",
                "-q",
                "--no-ff",
                "-m",
                &format!("Merge {from}"),
                from,
            ],
            &[("GIT_AUTHOR_DATE", date), ("GIT_COMMITTER_DATE", date)],
        );
    };
    r.git(&["branch", "production", &c0], &[]);
    merge("production", "main", "2024-01-01T12:00:00Z");
    merge("main", "feature", "2024-01-03T00:00:00Z");
    merge("production", "main", "2024-01-07T00:00:00Z");
    r.git(&["checkout", "-q", "main"], &[]);
    let site = config_site(&format!(
        "[[repos]]\nname = \"p\"\npath = {dir:?}\ndeploy_branch = \"production\"\n"
    ));
    let report = assess_site_json(site.path(), "2024-01-01", "2024-02-01", &[]);
    assert_eq!(
        report["repos"][0]["deployments"].as_array().unwrap().len(),
        2
    );
    // f1: authored 01-02, merged into main 01-03 (24 h), deployed 01-07 (96 h);
    // not "merged" at the deployment itself.
    assert_eq!(
        report["repos"][0]["dora"]["merge_phases_hours"],
        json!({
            "integration": {"count": 1, "median": 24.0, "p90": 24.0},
            "deploy": {"count": 1, "median": 96.0, "p90": 96.0}
        })
    );
}
