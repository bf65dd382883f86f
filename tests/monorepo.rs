//! Services inside a repository (issue #16): per-service DORA metrics worked
//! out by hand, cross-checked against `git rev-list`, the independence
//! measures, `services = "auto"`, a bare clone, and configuration errors.

mod common;

use std::ffi::OsStr;
use std::path::Path;

use common::{assess_json, monorepo, opsmeter, scratch, Repo, MONOREPO_SERVICES};
use serde_json::{json, Value};

const SINCE: &str = "2024-03-02";
const UNTIL: &str = "2024-03-16";

/// A site whose one `[[repos]]` entry is the repository at `repo` with `services`.
fn site(name: &str, repo: &Path, services: &str) -> std::path::PathBuf {
    let root = scratch(name);
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root).unwrap();
    std::fs::write(
        root.join("opsmeter.toml"),
        format!(
            "[[repos]]\nname = \"mono\"\npath = {:?}\n{services}",
            repo.display().to_string()
        ),
    )
    .unwrap();
    root
}

fn assess(root: &Path) -> Value {
    let report = assess_json(SINCE, UNTIL, &[OsStr::new("--root"), root.as_os_str()]);
    report["repos"][0].clone()
}

fn service<'a>(repo: &'a Value, name: &str) -> &'a Value {
    repo["services"]
        .as_array()
        .expect("services listed")
        .iter()
        .find(|s| s["name"] == name)
        .unwrap_or_else(|| panic!("service {name} in {repo}"))
}

/// (ref, change_count, failed, rework, recovered_at) of a service's deployments.
fn deployments(s: &Value) -> Vec<(String, u64, bool, bool, Value)> {
    s["deployments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["ref"].as_str().unwrap().to_string(),
                d["change_count"].as_u64().unwrap(),
                d["failed"].as_bool().unwrap(),
                d["rework"].as_bool().unwrap(),
                d["recovered_at"].clone(),
            )
        })
        .collect()
}

fn dep(
    r: &str,
    n: u64,
    failed: bool,
    rework: bool,
    recovered: Value,
) -> (String, u64, bool, bool, Value) {
    (r.to_string(), n, failed, rework, recovered)
}

#[test]
fn each_service_has_hand_worked_metrics() {
    let (repo, _) = monorepo(&scratch("mono-hand"));
    let root = site("mono-hand-site", &repo.dir, MONOREPO_SERVICES);
    let r = assess(&root);
    let names: Vec<&str> = r["services"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["payments", "orders", "web", "worker", "cli"]);

    // payments (tags payments-v…; paths services/payments/**, libs/money/**).
    // payments-v1.1.0 (03-05 00:00, on c3) ships c1 (payments, 03-02) and c3
    // (libs/money, 03-04); c2 touches orders only. Lead times 72 h and 24 h.
    // payments-v1.2.0 (03-11 00:00, on c7) ships c5 (payments+web, 03-07: 96 h)
    // and c7 (the revert of c1, 03-10: 24 h); c4, c6, c6b touch other services.
    // c7 reverts c1, shipped by payments-v1.1.0: that deployment failed and was
    // recovered when payments-v1.2.0 shipped the revert (6 days = 144 h);
    // payments-v1.2.0 came within 168 h of a failed deployment: rework.
    // Window [03-02, 03-16) = 2 weeks: 2 deployments = 1.0/week. Lead times
    // sorted [24, 24, 72, 96]: median 24 + 0.5·48 = 48, p90 (rank 2.7) 72 + 0.7·24 = 88.8.
    let p = service(&r, "payments");
    assert_eq!(p["status"], "measured");
    assert_eq!(
        deployments(p),
        [
            dep(
                "payments-v1.1.0",
                2,
                true,
                false,
                json!("2024-03-11T00:00:00Z")
            ),
            dep("payments-v1.2.0", 2, false, true, Value::Null),
        ]
    );
    let d = &p["dora"];
    assert_eq!(d["deployment_count"], 2);
    assert_eq!(d["deployments_per_week"], 1.0);
    assert_eq!(
        d["lead_time_hours"]["values"],
        json!([24.0, 24.0, 72.0, 96.0])
    );
    assert_eq!(d["lead_time_hours"]["median"], 48.0);
    assert_eq!(d["lead_time_hours"]["p90"], 88.8);
    assert_eq!(d["change_failure_rate"], 0.5);
    assert_eq!(
        d["recovery_time_hours"],
        json!({"count": 1, "median": 144.0})
    );
    assert_eq!(d["rework_rate"], 0.5);

    // orders (tags orders/v…): orders/v1.1.0 (03-08 00:00, on c5) ships c2
    // (03-03: 120 h) and c3 (libs/money, 03-04: 96 h). One deployment (0.5/week),
    // median 108, p90 96 + 0.9·24 = 117.6, nothing failed.
    let o = service(&r, "orders");
    assert_eq!(
        deployments(o),
        [dep("orders/v1.1.0", 2, false, false, Value::Null)]
    );
    let d = &o["dora"];
    assert_eq!(d["deployments_per_week"], 0.5);
    assert_eq!(d["lead_time_hours"]["values"], json!([96.0, 120.0]));
    assert_eq!(d["lead_time_hours"]["median"], 108.0);
    assert_eq!(d["lead_time_hours"]["p90"], 117.6);
    assert_eq!(d["change_failure_rate"], 0.0);
    assert_eq!(d["rework_rate"], 0.0);

    // web (tags web-v…): web-v1.1.0 (03-08 12:00, on c5) ships c4 (03-06: 60 h)
    // and c5 (03-07: 36 h): median 48, p90 36 + 0.9·24 = 57.6.
    let w = service(&r, "web");
    assert_eq!(
        deployments(w),
        [dep("web-v1.1.0", 2, false, false, Value::Null)]
    );
    assert_eq!(w["dora"]["lead_time_hours"]["values"], json!([36.0, 60.0]));
    assert_eq!(w["dora"]["lead_time_hours"]["median"], 48.0);
    assert_eq!(w["dora"]["lead_time_hours"]["p90"], 57.6);

    // worker and cli have no tags: they ship with the repository's deployments
    // that ship one of their changes. v1.1.0 (03-09 12:00, on c6b) ships c6
    // (worker, 03-09 00:00: 12 h) and c6b (cli, 03-09 06:00: 6 h); v1.2.0
    // ships only c7 (payments), so it is neither's deployment.
    let k = service(&r, "worker");
    assert_eq!(
        deployments(k),
        [dep("v1.1.0", 1, false, false, Value::Null)]
    );
    assert_eq!(k["dora"]["lead_time_hours"]["values"], json!([12.0]));
    assert_eq!(k["dora"]["deployment_count"], 1);
    let c = service(&r, "cli");
    assert_eq!(
        deployments(c),
        [dep("v1.1.0", 1, false, false, Value::Null)]
    );
    assert_eq!(c["dora"]["lead_time_hours"]["values"], json!([6.0]));
    assert!(
        k["measurement"]["deployment_source"]
            .as_str()
            .unwrap()
            .starts_with("the repository's deployments"),
        "{}",
        k["measurement"]
    );

    // Independence. Commits authored in the window touching a service: c1
    // {payments}, c2 {orders}, c3 {payments, orders}, c4 {web}, c5 {payments,
    // web}, c6 {worker}, c6b {cli}, c7 {payments}: 2 of 8 touch several = 0.25.
    // Releases of the window shipping a service (deployments of one commit are
    // one release): payments-v1.1.0 (c3) and payments-v1.2.0 (c7) ship one
    // service each; orders/v1.1.0 and web-v1.1.0 are both cut on c5 (orders and
    // web ship together), v1.1.0 on c6b ships worker and cli; v1.2.0 on c7
    // ships no change of worker or cli. 2 of 4 = 0.5.
    assert_eq!(
        r["independence"],
        json!({
            "cross_service_change_share": 0.25,
            "single_service_deployment_share": 0.5,
            "coupled_pairs": [
                {"services": ["orders", "payments"], "changes": 1},
                {"services": ["payments", "web"], "changes": 1}
            ],
            "changes_touching_services": 8,
            "changes_touching_several": 2,
            "deployments_shipping_services": 4,
            "deployments_shipping_one": 2
        })
    );

    // Practices per service: payments' probes see its Dockerfile (a non-root
    // USER); web has no Dockerfile among its files.
    let non_root = |s: &Value| -> (Value, Value) {
        let f = s["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["probe"] == "containers.non-root-user")
            .expect("the probe ran");
        (f["outcome"].clone(), f["evidence"][0]["path"].clone())
    };
    assert_eq!(
        non_root(p),
        (json!("pass"), json!("services/payments/Dockerfile"))
    );
    assert_eq!(non_root(w), (json!("not-applicable"), Value::Null));
    assert!(
        p["files"]["description"].as_str().unwrap().ends_with(
            "restricted to the files of service payments and the repository's CI definitions"
        ),
        "{}",
        p["files"]
    );
}

/// Full shas of `git rev-list --no-merges <tag> ^<previous> -- <paths>`.
fn rev_list(repo: &Repo, tag: &str, previous: &str, paths: &[&str]) -> usize {
    let mut args = vec![
        "rev-list".to_string(),
        "--no-merges".to_string(),
        tag.to_string(),
        format!("^{previous}"),
        "--".to_string(),
    ];
    args.extend(paths.iter().map(|p| format!(":(glob){p}")));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    repo.git(&args, &[]).lines().count()
}

#[test]
fn service_deployments_and_changes_agree_with_git_rev_list() {
    let (repo, _) = monorepo(&scratch("mono-revlist"));
    let root = site("mono-revlist-site", &repo.dir, MONOREPO_SERVICES);
    let r = assess(&root);
    // Each service's tags (or the repository's, for services without), in
    // time order as `git tag --sort=creatordate` gives them.
    let cases: [(&str, &str, &[&str]); 5] = [
        (
            "payments",
            "payments-v*",
            &["services/payments/**", "libs/money/**"],
        ),
        (
            "orders",
            "orders/v*",
            &["services/orders/**", "libs/money/**"],
        ),
        ("web", "web-v*", &["apps/web/**"]),
        ("worker", "v*", &["services/worker/**"]),
        ("cli", "v*", &["cmd/cli/**"]),
    ];
    for (name, pattern, paths) in cases {
        let tags: Vec<String> = repo
            .git(&["tag", "-l", pattern, "--sort=creatordate"], &[])
            .lines()
            .map(str::to_string)
            .collect();
        // What git says each tag ships of the service; a tag shipping nothing
        // of a service without tags of its own is not its deployment.
        let mut expected = Vec::new();
        for pair in tags.windows(2) {
            let n = rev_list(&repo, &pair[1], &pair[0], paths);
            let own_tags = pattern != "v*";
            if own_tags || n > 0 {
                expected.push((pair[1].clone(), n as u64));
            }
        }
        let got: Vec<(String, u64)> = service(&r, name)["deployments"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| {
                (
                    d["ref"].as_str().unwrap().to_string(),
                    d["change_count"].as_u64().unwrap(),
                )
            })
            .collect();
        assert_eq!(got, expected, "service {name}");
        let total: u64 = expected.iter().map(|e| e.1).sum();
        assert_eq!(
            service(&r, name)["dora"]["lead_time_hours"]["count"].as_u64(),
            Some(total),
            "service {name}"
        );
    }
}

#[test]
fn auto_proposes_exactly_the_fixture_services() {
    let (repo, _) = monorepo(&scratch("mono-auto"));
    let root = site("mono-auto-site", &repo.dir, "services = \"auto\"\n");
    let out = opsmeter()
        .args([
            "assess", "--json", "--since", SINCE, "--until", UNTIL, "--root",
        ])
        .arg(&root)
        .assert()
        .success();
    let output = out.get_output();
    let report: Value = serde_json::from_slice(&output.stdout).expect("stdout stays JSON");
    let stderr = String::from_utf8_lossy(&output.stderr);
    let proposal: String = stderr
        .lines()
        .filter(|l| !l.starts_with('#'))
        .collect::<Vec<_>>()
        .join("\n");
    assert_eq!(
        proposal,
        "[[repos.services]]\nname = \"cli\"\npaths = [\"cmd/cli/**\"]\n\
         [[repos.services]]\nname = \"orders\"\npaths = [\"services/orders/**\"]\ntag_pattern = '^orders[-/@]v?\\d+(\\.\\d+)*$'\n\
         [[repos.services]]\nname = \"payments\"\npaths = [\"services/payments/**\"]\ntag_pattern = '^payments[-/@]v?\\d+(\\.\\d+)*$'\n\
         [[repos.services]]\nname = \"web\"\npaths = [\"apps/web/**\"]\ntag_pattern = '^web[-/@]v?\\d+(\\.\\d+)*$'\n\
         [[repos.services]]\nname = \"worker\"\npaths = [\"services/worker/**\"]",
        "{stderr}"
    );
    // The proposal is used for the run: web's numbers are those of the listed
    // configuration (its paths are the same).
    let web = service(&report["repos"][0], "web");
    assert_eq!(
        web["dora"]["lead_time_hours"]["values"],
        json!([36.0, 60.0])
    );
}

/// A repository whose tag prefixes are in every state `services = "auto"`
/// weighs (UTC; author = committer time):
///
/// ```text
/// 2022-01-10  services/{legacy,api,billing,worker}/main.go, tools/gen/go.mod
///                                            legacy-v1.0.0, tools/gen/v0.1.0 (lightweight)
/// 2023-06-01  services/billing/main.go       billing-v2.0.0, tagged 2023-09-01
/// 2024-01-20  tools/gen/gen.go               tools/gen/v0.2.0, tagged 2024-02-01
/// 2024-02-15  tools/gen/ deleted
/// 2024-03-05  services/api/main.go           api-v1.0.0, tagged 2024-03-06
/// 2024-03-08  services/api/main.go           api-v1.1.0, tagged 2024-03-09
/// ```
///
/// With the window 2024-03-02 to 2024-03-16 the newest tag is api-v1.1.0
/// (2024-03-09), so a prefix is released when it has a tag from 2023-03-10 on:
/// api (in the window) and billing (2023-09-01, in the year before) are;
/// legacy (2022-01-10) is not; tools/gen was tagged recently but its folder is
/// gone; worker has no tags and ships with the repository.
fn aging_monorepo(dir: &Path) -> Repo {
    let r = Repo::init(dir);
    let c0 = r.commit_files(
        &[
            ("services/legacy/main.go", "package main\n"),
            ("services/api/main.go", "package main // v1\n"),
            ("services/billing/main.go", "package main // v1\n"),
            ("services/worker/main.go", "package main\n"),
            ("tools/gen/go.mod", "module example.org/tools/gen\n"),
        ],
        "initial import",
        "2022-01-10T00:00:00Z",
    );
    r.tag("legacy-v1.0.0", &c0);
    r.tag("tools/gen/v0.1.0", &c0);
    let c1 = r.commit_files(
        &[("services/billing/main.go", "package main // v2\n")],
        "billing: invoices",
        "2023-06-01T00:00:00Z",
    );
    r.tag_annotated("billing-v2.0.0", &c1, "2023-09-01T00:00:00Z");
    let c2 = r.commit_files(
        &[("tools/gen/gen.go", "package gen\n")],
        "gen: generator",
        "2024-01-20T00:00:00Z",
    );
    r.tag_annotated("tools/gen/v0.2.0", &c2, "2024-02-01T00:00:00Z");
    r.git(&["rm", "-rq", "tools/gen"], &[]);
    let date = "2024-02-15T00:00:00Z";
    r.git(
        &["commit", "-q", "-m", "gen: moved out"],
        &[("GIT_AUTHOR_DATE", date), ("GIT_COMMITTER_DATE", date)],
    );
    let c4 = r.commit_files(
        &[("services/api/main.go", "package main // v2\n")],
        "api: health",
        "2024-03-05T00:00:00Z",
    );
    r.tag_annotated("api-v1.0.0", &c4, "2024-03-06T00:00:00Z");
    let c5 = r.commit_files(
        &[("services/api/main.go", "package main // v3\n")],
        "api: metrics",
        "2024-03-08T00:00:00Z",
    );
    r.tag_annotated("api-v1.1.0", &c5, "2024-03-09T00:00:00Z");
    r
}

#[test]
fn auto_skips_prefixes_not_released_recently_or_whose_folder_is_gone() {
    let repo = aging_monorepo(&scratch("mono-aging"));
    let bare = scratch("mono-aging.git");
    let _ = std::fs::remove_dir_all(&bare);
    repo.git(&["clone", "-q", "--bare", ".", bare.to_str().unwrap()], &[]);
    let root = site("mono-aging-site", &bare, "services = \"auto\"\n");
    let out = opsmeter()
        .args([
            "assess", "--json", "--since", SINCE, "--until", UNTIL, "--root",
        ])
        .arg(&root)
        .assert()
        .success();
    let output = out.get_output();
    let report: Value = serde_json::from_slice(&output.stdout).expect("stdout stays JSON");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        stderr,
        "# services = \"auto\" for mono: 3 proposed, 2 skipped (listed after them). Paste these into \
         its [[repos]] entry (replacing services = \"auto\") to keep them:\n\
         [[repos.services]]\nname = \"api\"\npaths = [\"services/api/**\"]\ntag_pattern = '^api[-/@]v?\\d+(\\.\\d+)*$'\n\
         [[repos.services]]\nname = \"billing\"\npaths = [\"services/billing/**\"]\ntag_pattern = '^billing[-/@]v?\\d+(\\.\\d+)*$'\n\
         [[repos.services]]\nname = \"worker\"\npaths = [\"services/worker/**\"]\n\
         # A tag prefix is proposed while its folder is in the tree of main and it has a tag in the \
         window (2024-03-02 to 2024-03-16) or in the 365 days before the repository's newest tag \
         (2024-03-09). Skipped (uncomment a table to keep it):\n\
         # skipped legacy: last tag legacy-v1.0.0 on 2022-01-10, none recent\n\
         # [[repos.services]]\n# name = \"legacy\"\n# paths = [\"services/legacy/**\"]\n# tag_pattern = '^legacy[-/@]v?\\d+(\\.\\d+)*$'\n\
         # skipped tools-gen: folder tools/gen/ not in the tree of main; last tag tools/gen/v0.2.0 on 2024-02-01\n\
         # [[repos.services]]\n# name = \"tools-gen\"\n# paths = [\"tools/gen/**\"]\n# tag_pattern = '^tools/gen[-/@]v?\\d+(\\.\\d+)*$'\n"
    );
    // The run measures the proposed services only.
    let names: Vec<&str> = report["repos"][0]["services"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["api", "billing", "worker"]);
    let api = service(&report["repos"][0], "api");
    assert_eq!(
        deployments(api),
        [
            dep("api-v1.0.0", 0, false, false, Value::Null),
            dep("api-v1.1.0", 1, false, false, Value::Null)
        ]
    );
}

/// A module released as Go's multi-module repositories do (UTC; author =
/// committer time): each release commit bumps the module's `go.mod` and is
/// tagged a minute later, so its lead time is that minute.
///
/// ```text
/// 03-01 00:00  mod/go.mod              mod/v1.0.0 (lightweight: the baseline)
/// 03-03 00:00  mod/a.go
/// 03-04 00:00  mod/b.go
/// 03-05 10:00  mod/go.mod (release)    mod/v1.1.0, tagged 03-05 10:01:00
/// 03-10 12:00  mod/go.mod (release)    mod/v1.2.0, tagged 03-10 12:00:30
/// ```
///
/// Lead times: a.go 58 h 1 min, b.go 34 h 1 min (shipped by v1.1.0), the
/// release commits 60 s and 30 s.
fn released_module(dir: &Path) -> Repo {
    let r = Repo::init(dir);
    let c0 = r.commit_files(
        &[("mod/go.mod", "module example.org/mod // v1.0.0\n")],
        "initial import",
        "2024-03-01T00:00:00Z",
    );
    r.tag("mod/v1.0.0", &c0);
    r.commit_files(
        &[("mod/a.go", "package mod\n")],
        "a",
        "2024-03-03T00:00:00Z",
    );
    r.commit_files(
        &[("mod/b.go", "package mod\n")],
        "b",
        "2024-03-04T00:00:00Z",
    );
    let c2 = r.commit_files(
        &[("mod/go.mod", "module example.org/mod // v1.1.0\n")],
        "Release v1.1.0",
        "2024-03-05T10:00:00Z",
    );
    r.tag_annotated("mod/v1.1.0", &c2, "2024-03-05T10:01:00Z");
    let c3 = r.commit_files(
        &[("mod/go.mod", "module example.org/mod // v1.2.0\n")],
        "Release v1.2.0",
        "2024-03-10T12:00:00Z",
    );
    r.tag_annotated("mod/v1.2.0", &c3, "2024-03-10T12:00:30Z");
    r
}

#[test]
fn release_commits_setting_the_median_lead_time_are_said() {
    let repo = released_module(&scratch("mono-release"));
    let root = site(
        "mono-release-site",
        &repo.dir,
        "[[repos.services]]\nname = \"mod\"\npaths = [\"mod/**\"]\ntag_pattern = '^mod/v\\d+\\.\\d+\\.\\d+$'\n",
    );
    let run = |since: &str, until: &str| {
        let report = assess_json(since, until, &[OsStr::new("--root"), root.as_os_str()]);
        service(&report["repos"][0], "mod").clone()
    };
    // Both releases: 2 of the 4 changes are release commits (0.0167 h and
    // 0.0083 h); the median of all four is between them and the others, that
    // of the others (58.0167 h, 34.0167 h) 46.0 h.
    let both = run("2024-03-02", "2024-03-16");
    assert_eq!(
        both["dora"]["lead_time_hours"]["values"],
        json!([0.0083, 0.0167, 34.0167, 58.0167])
    );
    assert_eq!(
        both["notes"],
        json!([
            "2 of 4 changes are the very commit their deployment points to, made less than an hour \
             before it (a release commit, or a commit tagged as soon as it was made): they set the \
             median lead time; the median of the other 2 changes is 46.0 h"
        ])
    );
    // v1.1.0 only: 1 release commit of 3 changes does not set the median.
    let first = run("2024-03-02", "2024-03-07");
    assert_eq!(first["dora"]["lead_time_hours"]["count"], 3);
    assert_eq!(first["notes"], json!([]));
    // v1.2.0 only: its one change is its release commit.
    let second = run("2024-03-09", "2024-03-16");
    assert_eq!(
        second["notes"],
        json!([
            "1 of 1 changes are the very commit their deployment points to, made less than an hour \
             before it (a release commit, or a commit tagged as soon as it was made): the lead time \
             measures from that commit to its deployment, not the work before it"
        ])
    );
}

#[test]
fn a_bare_clone_gives_the_same_service_numbers() {
    let (repo, _) = monorepo(&scratch("mono-bare-src"));
    let bare = scratch("mono-bare.git");
    let _ = std::fs::remove_dir_all(&bare);
    repo.git(&["clone", "-q", "--bare", ".", bare.to_str().unwrap()], &[]);
    let from_work_tree = assess(&site("mono-bare-site1", &repo.dir, MONOREPO_SERVICES));
    let from_bare = assess(&site("mono-bare-site2", &bare, MONOREPO_SERVICES));
    let numbers = |r: &Value| -> Vec<(Value, Value)> {
        r["services"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| (s["deployments"].clone(), s["dora"].clone()))
            .collect()
    };
    assert_eq!(numbers(&from_work_tree), numbers(&from_bare));
    assert_eq!(from_work_tree["independence"], from_bare["independence"]);
    assert_eq!(from_bare["services"][0]["status"], "measured");
}

#[test]
fn a_host_entry_without_a_clone_has_services_not_measured() {
    let root = scratch("mono-host-site");
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root).unwrap();
    std::fs::write(
        root.join("opsmeter.toml"),
        format!("[[repos]]\ngithub = \"acme/mono\"\n{MONOREPO_SERVICES}"),
    )
    .unwrap();
    let r = assess(&root);
    let p = service(&r, "payments");
    assert_eq!(p["status"], "not-measured");
    assert_eq!(p["dora"], Value::Null);
    assert!(
        p["reason"].as_str().unwrap().contains("clone or mirror"),
        "{}",
        p["reason"]
    );
    assert_eq!(r["independence"], Value::Null);
}

#[test]
fn a_repository_without_services_has_no_service_keys() {
    let (repo, _) = monorepo(&scratch("mono-none"));
    let r = assess(&site("mono-none-site", &repo.dir, ""));
    assert!(
        r.get("services").is_none() && r.get("independence").is_none(),
        "{r}"
    );
}

#[test]
fn service_config_errors_name_file_and_line() {
    let root = scratch("mono-bad-site");
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root).unwrap();
    std::fs::write(
        root.join("opsmeter.toml"),
        "[[repos]]\npath = \".\"\n[[repos.services]]\nname = \"api\"\npaths = [\"a/**\"]\n\
         [[repos.services]]\nname = \"api\"\npaths = [\"b/**\"]\n",
    )
    .unwrap();
    let out = opsmeter()
        .args(["assess", "--root"])
        .arg(&root)
        .assert()
        .failure();
    let stderr = String::from_utf8_lossy(&out.get_output().stderr);
    assert!(
        stderr.contains(
            "opsmeter.toml:7: repos[0]: service \"api\" is declared twice (first at line 4)"
        ),
        "{stderr}"
    );
    std::fs::write(
        root.join("opsmeter.toml"),
        "[[repos]]\npath = \".\"\n[[repos.services]]\nname = \"api\"\npaths = [\"a/{x\"]\n",
    )
    .unwrap();
    let out = opsmeter()
        .args(["assess", "--root"])
        .arg(&root)
        .assert()
        .failure();
    let stderr = String::from_utf8_lossy(&out.get_output().stderr);
    assert!(
        stderr.contains(
            "opsmeter.toml:5: invalid configuration: paths: \"a/{x\" is not a valid glob"
        ),
        "{stderr}"
    );
}

#[test]
fn an_incident_naming_a_service_fails_that_service_only() {
    let (repo, c) = monorepo(&scratch("mono-incident"));
    let root = site(
        "mono-incident-site",
        &repo.dir,
        &format!("events = [\"incidents.csv\"]\n{MONOREPO_SERVICES}"),
    );
    // INC-1 names web and its cause c4 (web: new header), which web-v1.1.0
    // (03-08 12:00) shipped: that deployment failed; resolved 03-09 06:00, so
    // recovered after 18 h; restored 6 h after it started (03-09 00:00).
    std::fs::write(
        root.join("incidents.csv"),
        format!(
            "type,id,started_at,resolved_at,cause_sha,service\n\
             incident,INC-1,2024-03-09T00:00:00Z,2024-03-09T06:00:00Z,{},web\n",
            &c[4][..10]
        ),
    )
    .unwrap();
    let r = assess(&root);
    let w = service(&r, "web");
    assert_eq!(
        deployments(w),
        [dep(
            "web-v1.1.0",
            2,
            true,
            false,
            json!("2024-03-09T06:00:00Z")
        )]
    );
    assert_eq!(w["dora"]["change_failure_rate"], 1.0);
    assert_eq!(
        w["dora"]["recovery_time_hours"],
        json!({"count": 1, "median": 18.0})
    );
    assert_eq!(
        w["dora"]["time_to_restore_hours"],
        json!({"count": 1, "median": 6.0})
    );
    // Other services do not see it: payments' only failure is still the revert.
    let p = service(&r, "payments");
    assert_eq!(
        p["dora"]["time_to_restore_hours"],
        json!({"count": 0, "median": null})
    );
    assert_eq!(p["dora"]["change_failure_rate"], 0.5);
}
