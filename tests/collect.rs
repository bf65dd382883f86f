//! `opsmeter collect` through the real binary, against wiremock servers that
//! answer like GitHub's and GitLab's REST APIs: the objects of
//! `tests/fixtures/api/` (recorded or documented shapes) with only the fields
//! a test is about changed, `Link` / `x-next-page` pagination, ETags and
//! rate-limit headers. Expected metrics are worked out by hand beside each test.

mod common;

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use common::assess_site_json;
use serde_json::{json, Value};
use wiremock::matchers::{header, method, path, query_param, query_param_is_missing};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const TOKEN: &str = "ghp_S3cr3tT0k3nThatMustNeverLeak0000";
const GL_TOKEN: &str = "glpat-An0therS3cr3tThatMustNeverLeak";

// ---------------------------------------------------------------- fixtures

fn fixture(name: &str) -> Value {
    let file = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/api")
        .join(format!("{name}.json"));
    serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap()
}

/// `fixture` with some top-level (or `a.b` nested) fields replaced.
fn shaped(name: &str, fields: &[(&str, Value)]) -> Value {
    let mut v = fixture(name);
    for (key, value) in fields {
        let mut target = &mut v;
        let parts: Vec<&str> = key.split('.').collect();
        for p in &parts[..parts.len() - 1] {
            target = &mut target[*p];
        }
        target[parts[parts.len() - 1]] = value.clone();
    }
    v
}

/// A 40-hex sha that reads as its label: `sha("a1")` = `a1000…0`.
fn sha(label: &str) -> String {
    format!("{label:0<40}")
}

fn gh_user(login: &str) -> Value {
    let mut u = fixture("github/pull")["user"].clone();
    u["login"] = json!(login);
    u["type"] = json!(if login.ends_with("[bot]") {
        "Bot"
    } else {
        "User"
    });
    u
}

fn etag_of(body: &Value) -> String {
    let mut h = DefaultHasher::new();
    body.to_string().hash(&mut h);
    format!("W/\"{:016x}\"", h.finish())
}

/// Serves `body` at `p` (with these query parameters, and `page` absent unless
/// given) with an ETag and rate-limit headers, and 304 to a matching If-None-Match.
async fn serve(
    server: &MockServer,
    p: &str,
    query: &[(&str, &str)],
    body: Value,
    headers: &[(&str, String)],
) {
    let etag = etag_of(&body);
    let with_query = |mut m: wiremock::MockBuilder| {
        for (k, v) in query {
            m = m.and(query_param(*k, *v));
        }
        if !query.iter().any(|(k, _)| *k == "page") {
            m = m.and(query_param_is_missing("page"));
        }
        m
    };
    with_query(Mock::given(method("GET")).and(path(p)))
        .and(header("if-none-match", etag.as_str()))
        .respond_with(ResponseTemplate::new(304).insert_header("etag", etag.as_str()))
        .with_priority(2)
        .mount(server)
        .await;
    let mut response = ResponseTemplate::new(200)
        .set_body_json(body)
        .insert_header("etag", etag.as_str())
        .insert_header("x-ratelimit-limit", "5000")
        .insert_header("x-ratelimit-remaining", "4990");
    for (k, v) in headers {
        response = response.insert_header(*k, v.as_str());
    }
    with_query(Mock::given(method("GET")).and(path(p)))
        .respond_with(response)
        .with_priority(3)
        .mount(server)
        .await;
}

fn next_link(server: &MockServer, p: &str, query: &str, page: u32) -> (&'static str, String) {
    (
        "link",
        format!(
            "<{}{p}?{query}&page={page}>; rel=\"next\", <{}{p}?{query}&page={page}>; rel=\"last\"",
            server.uri(),
            server.uri()
        ),
    )
}

// ---------------------------------------------------------------- sites and runs

fn site(name: &str, repos: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("collect")
        .join(name);
    if dir.exists() {
        std::fs::remove_dir_all(&dir).unwrap();
    }
    std::fs::create_dir_all(dir.join("content")).unwrap();
    std::fs::write(
        dir.join("content/_index.md"),
        "+++\ntitle = \"Home\"\n+++\nHello.\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("opsmeter.toml"),
        format!(
            "title = \"Delivery\"\n\n[collect]\nbackoff_base_ms = 1\nmax_rate_limit_wait_seconds = 5\nconcurrency = 2\n\n{repos}"
        ),
    )
    .unwrap();
    dir
}

/// The binary ([`common::opsmeter`]) over the site at `root`.
fn opsmeter(root: &Path) -> Command {
    let mut c = common::opsmeter();
    c.arg("--root").arg(root);
    c
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn collect(root: &Path, extra: &[&str]) -> Run {
    let out = opsmeter(root)
        .env("GITHUB_TOKEN", TOKEN)
        .env("GITLAB_TOKEN", GL_TOKEN)
        .arg("collect")
        .args(extra)
        .output()
        .unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn facts(root: &Path, slug: &str) -> Value {
    let text = std::fs::read_to_string(root.join(format!("data/facts/{slug}.json"))).unwrap();
    serde_json::from_str::<Value>(&text).unwrap()["facts"].clone()
}

async fn requests(server: &MockServer) -> Vec<Request> {
    server.received_requests().await.unwrap_or_default()
}

/// Every file under `dir`, recursively.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(files_under(&p));
        } else {
            out.push(p);
        }
    }
    out
}

fn assert_no_token(root: &Path, runs: &[&Run]) {
    for f in files_under(root) {
        let bytes = std::fs::read(&f).unwrap();
        for t in [TOKEN, GL_TOKEN] {
            assert!(
                !String::from_utf8_lossy(&bytes).contains(t),
                "the token leaked into {}",
                f.display()
            );
        }
    }
    for r in runs {
        for t in [TOKEN, GL_TOKEN] {
            assert!(
                !r.stdout.contains(t) && !r.stderr.contains(t),
                "the token leaked into the output"
            );
        }
    }
}

// ---------------------------------------------------------------- GitHub scenario

/// An empty GitHub repository: no deployments, releases, tags, pull requests or incidents.
async fn empty_repo(server: &MockServer, repo: &str) {
    empty_repo_under(server, "", repo).await;
}

/// The same, under an API path prefix (GitHub Enterprise serves `/api/v3/repos/…`).
async fn empty_repo_under(server: &MockServer, prefix: &str, repo: &str) {
    let base = format!("{prefix}/repos/{repo}");
    serve(
        server,
        &format!("{base}/deployments"),
        &[("per_page", "100")],
        json!([]),
        &[],
    )
    .await;
    serve(
        server,
        &format!("{base}/releases"),
        &[("per_page", "100")],
        json!([]),
        &[],
    )
    .await;
    serve(
        server,
        &format!("{base}/git/matching-refs/tags"),
        &[("per_page", "100")],
        json!([]),
        &[],
    )
    .await;
    serve(
        server,
        &format!("{base}/pulls"),
        &[("state", "closed")],
        json!([]),
        &[],
    )
    .await;
    serve(
        server,
        &format!("{base}/issues"),
        &[("labels", "incident")],
        json!([]),
        &[],
    )
    .await;
}

fn deployment(id: u64, sha_: &str, environment: &str) -> Value {
    shaped(
        "github/deployment",
        &[
            ("id", json!(id)),
            ("sha", json!(sha_)),
            ("ref", json!("main")),
            ("environment", json!(environment)),
            (
                "url",
                json!(format!(
                    "https://api.github.com/repos/acme/api/deployments/{id}"
                )),
            ),
        ],
    )
}

fn status(state: &str, at: &str) -> Value {
    shaped(
        "github/deployment_status",
        &[
            ("state", json!(state)),
            ("created_at", json!(at)),
            ("updated_at", json!(at)),
        ],
    )
}

/// A closed pull request as the list answers it.
fn pull(
    number: u64,
    title: &str,
    author: &str,
    created: &str,
    merged: Option<&str>,
    merge_sha: Option<&str>,
    updated: &str,
) -> Value {
    shaped(
        "github/pull",
        &[
            ("number", json!(number)),
            ("title", json!(title)),
            ("user", gh_user(author)),
            ("state", json!("closed")),
            (
                "body",
                json!(if title.starts_with("Revert") {
                    "Reverts acme/api#3"
                } else {
                    "Please pull these changes in."
                }),
            ),
            ("created_at", json!(created)),
            ("updated_at", json!(updated)),
            ("closed_at", json!(merged.unwrap_or(updated))),
            ("merged_at", json!(merged)),
            ("merge_commit_sha", json!(merge_sha)),
            ("head.ref", json!(format!("topic-{number}"))),
        ],
    )
}

fn committed(at: &str, sha_: &str) -> Value {
    shaped(
        "github/timeline_committed",
        &[
            ("sha", json!(sha_)),
            ("author.date", json!(at)),
            ("committer.date", json!(at)),
        ],
    )
}

fn commented(login: &str, at: &str) -> Value {
    shaped(
        "github/timeline_commented",
        &[
            ("user", gh_user(login)),
            ("actor", gh_user(login)),
            ("created_at", json!(at)),
            ("updated_at", json!(at)),
        ],
    )
}

fn reviewed(login: &str, at: &str) -> Value {
    shaped(
        "github/timeline_reviewed",
        &[
            ("user", gh_user(login)),
            ("submitted_at", json!(at)),
            ("state", json!("approved")),
        ],
    )
}

fn compare_commit(sha_: &str, message: &str) -> Value {
    shaped(
        "github/compare_commit",
        &[("sha", json!(sha_)), ("commit.message", json!(message))],
    )
}

/// The `acme/api` repository of the end-to-end tests:
///
/// deployments (production unless said; listed newest first over two pages):
///   101 sha a1  success 2024-03-01 00:00   ← baseline
///   102 sha a2  success 2024-03-02 12:00
///   103 sha a3  failure 2024-03-04 00:00   (ships nothing)
///   104 sha a4  success 2024-03-05 00:00
///   105 staging (left out), 106 still in progress (left out)
/// compare a1...a2: merge commit m2 of #2, squash s3 of #3
/// compare a2...a4: s4 "fix: null pointer (#4)" (its pull request has no merge sha),
///                   b5 of the bot's #5, r7 the revert of #3 (#7)
/// pull requests (two pages): #1 merged before the baseline, #2 merge commit,
///   #3 squash, #4 squash named only by its subject, #5 dependabot, #6 closed
///   unmerged, #7 revert of #3
/// issues labelled incident: #50 (2024-03-02 18:00 → 2024-03-03 06:00), and
///   #7 again, a pull request the issues listing includes, which is not an incident.
async fn acme_api(server: &MockServer) {
    let base = "/repos/acme/api";
    // Its files: the default branch `main` at c9, whose tree holds one README
    // (read by no probe, so no blob is fetched).
    serve(
        server,
        base,
        &[],
        shaped(
            "github/repository",
            &[
                ("default_branch", json!("main")),
                ("html_url", json!("https://github.com/acme/api")),
            ],
        ),
        &[],
    )
    .await;
    serve(
        server,
        &format!("{base}/git/ref/heads/main"),
        &[],
        json!({"ref": "refs/heads/main", "object": {"sha": sha("c9"), "type": "commit"}}),
        &[],
    )
    .await;
    serve(
        server,
        &format!("{base}/git/trees/{}", sha("c9")),
        &[("recursive", "1")],
        json!({"sha": sha("e9"), "truncated": false, "tree": [{
            "path": "README.md", "mode": "100644", "type": "blob", "size": 6,
            "sha": "ce013625030ba8dba906f756967f9e9ca394464a"}]}),
        &[],
    )
    .await;
    let deployments_path = format!("{base}/deployments");
    serve(
        server,
        &deployments_path,
        &[("per_page", "100")],
        json!([
            deployment(106, &sha("a6"), "production"),
            deployment(105, &sha("a5"), "staging"),
            deployment(104, &sha("a4"), "production")
        ]),
        &[next_link(server, &deployments_path, "per_page=100", 2)],
    )
    .await;
    serve(
        server,
        &deployments_path,
        &[("per_page", "100"), ("page", "2")],
        json!([
            deployment(103, &sha("a3"), "production"),
            deployment(102, &sha("a2"), "production"),
            deployment(101, &sha("a1"), "Production")
        ]),
        &[],
    )
    .await;
    for (id, statuses) in [
        (
            101,
            json!([
                status("success", "2024-03-01T00:00:00Z"),
                status("in_progress", "2024-02-29T23:50:00Z")
            ]),
        ),
        (
            102,
            json!([
                status("inactive", "2024-03-05T00:00:00Z"),
                status("success", "2024-03-02T12:00:00Z")
            ]),
        ),
        (
            103,
            json!([
                status("failure", "2024-03-04T00:00:00Z"),
                status("queued", "2024-03-03T23:00:00Z")
            ]),
        ),
        (104, json!([status("success", "2024-03-05T00:00:00Z")])),
        (106, json!([status("in_progress", "2024-03-06T00:00:00Z")])),
    ] {
        serve(
            server,
            &format!("{base}/deployments/{id}/statuses"),
            &[("per_page", "100")],
            statuses,
            &[],
        )
        .await;
    }
    let compare = |commits: Vec<Value>| {
        let mut c = fixture("github/compare");
        c["total_commits"] = json!(commits.len());
        c["ahead_by"] = json!(commits.len());
        c["commits"] = json!(commits);
        c
    };
    serve(
        server,
        &format!("{base}/compare/{}...{}", sha("a1"), sha("a2")),
        &[("per_page", "100")],
        compare(vec![
            compare_commit(&sha("c2"), "Add login form"),
            compare_commit(
                &sha("d2"),
                "Merge pull request #2 from acme/topic-2\n\nAdd login",
            ),
            compare_commit(&sha("d3"), "Add search (#3)"),
        ]),
        &[],
    )
    .await;
    serve(
        server,
        &format!("{base}/compare/{}...{}", sha("a2"), sha("a4")),
        &[("per_page", "100")],
        compare(vec![
            compare_commit(&sha("e4"), "fix: null pointer (#4)"),
            compare_commit(&sha("b5"), "Bump serde from 1.0.1 to 1.0.2 (#5)"),
            compare_commit(
                &sha("f7"),
                "Revert \"Add search (#3)\" (#7)\n\nThis reverts commit d3.",
            ),
        ]),
        &[],
    )
    .await;

    let pulls_path = format!("{base}/pulls");
    let q = "state=closed&sort=updated&direction=desc&per_page=100";
    serve(
        server,
        &pulls_path,
        &[("state", "closed"), ("sort", "updated")],
        json!([
            pull(
                7,
                "Revert \"Add search\"",
                "octocat",
                "2024-03-04T21:00:00Z",
                Some("2024-03-04T22:00:00Z"),
                Some(&sha("f7")),
                "2024-03-06T00:00:00Z"
            ),
            pull(
                6,
                "Abandoned idea",
                "octocat",
                "2024-03-03T00:00:00Z",
                None,
                None,
                "2024-03-05T12:00:00Z"
            ),
            pull(
                5,
                "Bump serde from 1.0.1 to 1.0.2",
                "dependabot[bot]",
                "2024-03-03T00:00:00Z",
                Some("2024-03-03T01:00:00Z"),
                Some(&sha("b5")),
                "2024-03-05T06:00:00Z"
            ),
            pull(
                4,
                "fix: null pointer",
                "octocat",
                "2024-03-04T13:00:00Z",
                Some("2024-03-04T18:00:00Z"),
                None,
                "2024-03-05T01:00:00Z"
            ),
        ]),
        &[next_link(server, &pulls_path, q, 2)],
    )
    .await;
    serve(
        server,
        &pulls_path,
        &[("state", "closed"), ("sort", "updated"), ("page", "2")],
        json!([
            pull(
                3,
                "Add search",
                "octocat",
                "2024-03-02T01:00:00Z",
                Some("2024-03-02T05:00:00Z"),
                Some(&sha("d3")),
                "2024-03-02T05:00:00Z"
            ),
            pull(
                2,
                "Add login",
                "octocat",
                "2024-03-01T10:00:00Z",
                Some("2024-03-02T09:00:00Z"),
                Some(&sha("d2")),
                "2024-03-02T09:00:00Z"
            ),
            pull(
                1,
                "Initial import",
                "octocat",
                "2024-02-28T00:00:00Z",
                Some("2024-02-29T12:00:00Z"),
                Some(&sha("d1")),
                "2024-02-29T12:00:00Z"
            ),
        ]),
        &[],
    )
    .await;
    // (number, first commit, timeline extras, additions, deletions)
    let timelines: Vec<(u64, &str, Vec<Value>, u64, u64)> = vec![
        (1, "2024-02-28T00:00:00Z", vec![], 500, 0),
        (
            2,
            "2024-03-01T08:00:00Z",
            vec![
                commented("ci-helper[bot]", "2024-03-01T10:30:00Z"),
                commented("octocat", "2024-03-01T11:00:00Z"),
                reviewed("bob", "2024-03-01T14:00:00Z"),
                commented("carol", "2024-03-01T15:00:00Z"),
            ],
            120,
            30,
        ),
        (
            3,
            "2024-03-02T00:00:00Z",
            vec![commented("carol", "2024-03-02T03:00:00Z")],
            40,
            2,
        ),
        (4, "2024-03-04T12:00:00Z", vec![], 3, 1),
        (7, "2024-03-04T20:00:00Z", vec![], 2, 40),
    ];
    for (n, first_commit, extras, additions, deletions) in timelines {
        let mut events = vec![committed(first_commit, &sha(&format!("c{n}")))];
        // A later commit of the same pull request: the first one counts.
        events.push(committed("2024-03-04T23:00:00Z", &sha(&format!("cc{n}"))));
        events.extend(extras);
        serve(
            server,
            &format!("{base}/issues/{n}/timeline"),
            &[("per_page", "100")],
            json!(events),
            &[],
        )
        .await;
        let merge = match n {
            1 => Some(sha("d1")),
            2 => Some(sha("d2")),
            3 => Some(sha("d3")),
            7 => Some(sha("f7")),
            _ => None,
        };
        let detail = shaped(
            "github/pull",
            &[
                ("number", json!(n)),
                ("merged", json!(true)),
                ("additions", json!(additions)),
                ("deletions", json!(deletions)),
                ("changed_files", json!(2)),
                ("commits", json!(2)),
                ("merge_commit_sha", json!(merge)),
            ],
        );
        serve(server, &format!("{base}/pulls/{n}"), &[], detail, &[]).await;
    }
    let mut as_pull = shaped(
        "github/issue",
        &[
            ("number", json!(7)),
            ("updated_at", json!("2024-03-06T00:00:00Z")),
        ],
    );
    as_pull["pull_request"] = json!({
        "url": "https://api.github.com/repos/acme/api/pulls/7",
        "html_url": "https://github.com/acme/api/pull/7",
        "diff_url": "https://github.com/acme/api/pull/7.diff",
        "patch_url": "https://github.com/acme/api/pull/7.patch",
        "merged_at": "2024-03-04T22:00:00Z"
    });
    serve(
        server,
        &format!("{base}/issues"),
        &[("labels", "incident"), ("state", "all")],
        json!([
            as_pull,
            shaped(
                "github/issue",
                &[
                    ("number", json!(50)),
                    ("title", json!("Checkout errors")),
                    ("state", json!("closed")),
                    ("created_at", json!("2024-03-02T18:00:00Z")),
                    ("closed_at", json!("2024-03-03T06:00:00Z")),
                    ("updated_at", json!("2024-03-03T06:00:00Z")),
                ],
            ),
        ]),
        &[],
    )
    .await;
}

fn github_entry(server: &MockServer, repo: &str) -> String {
    format!(
        "[[repos]]\ngithub = \"{repo}\"\napi_url = \"{}\"\n\n",
        server.uri()
    )
}

#[tokio::test]
async fn github_end_to_end_collect_then_assess_then_build() {
    let server = MockServer::start().await;
    acme_api(&server).await;
    let root = site("e2e", &github_entry(&server, "acme/api"));

    let first = collect(&root, &[]);
    assert_eq!(first.code, 0, "{}", first.stderr);
    assert!(
        first
            .stdout
            .contains("acme/api: 4 deployments, 4 changes, 5 pull requests, 1 incidents"),
        "{}",
        first.stdout
    );
    let received = requests(&server).await;
    // deployments 2 pages + statuses of 101–104 and 106 (not the staging 105) + 2 compares
    // + pulls 2 pages + (detail + timeline) × #1 #2 #3 #4 #7 + issues 1
    // + the files: repository, head of main, tree = 2 + 5 + 2 + 2 + 10 + 1 + 3.
    assert_eq!(
        received.len(),
        25,
        "{:#?}",
        received
            .iter()
            .map(|r| r.url.to_string())
            .collect::<Vec<_>>()
    );
    assert!(received.iter().all(
        |r| r.headers.get("authorization").and_then(|v| v.to_str().ok())
            == Some(&format!("Bearer {TOKEN}"))
    ));
    assert!(!received
        .iter()
        .any(|r| r.url.path().contains("/deployments/105/")));

    let f = facts(&root, "acme-api");
    let deps: Vec<(String, String)> = f["deployments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["ref"].as_str().unwrap().to_string(),
                d["status"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        deps,
        [
            ("Production#101", "success"),
            ("production#102", "success"),
            ("production#103", "failure"),
            ("production#104", "success")
        ]
        .map(|(a, b)| (a.to_string(), b.to_string()))
    );
    // Which deployment shipped each pull request: #1 the baseline (merged before it),
    // #2 by its merge commit, #3 by its squash commit, #4 by "(#4)" in its squash
    // commit's subject (no merge sha), #7 by its revert commit. The bot's #5 is left out.
    let shipped: Vec<(u64, Value)> = f["pull_requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["number"].as_u64().unwrap(), p["deployment"].clone()))
        .collect();
    assert_eq!(
        shipped,
        vec![
            (1, json!(0)),
            (2, json!(1)),
            (3, json!(1)),
            (4, json!(3)),
            (7, json!(3))
        ]
    );
    let pr2 = &f["pull_requests"][1];
    // The first response is bob's review at 14:00: the bot's and the author's own comments do not count.
    assert_eq!(pr2["first_commit_at"], "2024-03-01T08:00:00Z");
    assert_eq!(pr2["first_response_at"], "2024-03-01T14:00:00Z");
    assert_eq!(
        (pr2["additions"].as_u64(), pr2["deletions"].as_u64()),
        (Some(120), Some(30))
    );
    assert_eq!(pr2["author"], "octocat");
    assert_eq!(pr2["merge_sha"], sha("d2"));
    assert_eq!(
        f["pull_requests"][3]["merge_sha"],
        sha("e4"),
        "the squash commit found by its subject"
    );
    assert_eq!(f["pull_requests"][4]["reverts"], "#3");
    assert_eq!(
        f["incidents"],
        json!([{ "id": "#50", "started_at": "2024-03-02T18:00:00Z", "resolved_at": "2024-03-03T06:00:00Z", "cause_deployment": null }])
    );
    let history = std::fs::read_to_string(root.join("data/history/acme-api.jsonl")).unwrap();
    assert_eq!(history.lines().count(), 1);

    // Window [2024-03-01, 2024-03-08), one week. In it: 101 (baseline), 102, 103 (failed), 104.
    // - deployments 4 → 4.0/week; deploy days 03-01, 03-02, 03-04, 03-05 → 4.0 per week
    //   (and 4.0 per month: a window under 30 days is one bucket) → high (elite needs 5).
    // - lead times (deployment − first commit): #2 03-02 12:00 − 03-01 08:00 = 28 h,
    //   #3 12:00 − 00:00 = 12 h (both by 102); #4 03-05 00:00 − 03-04 12:00 = 12 h,
    //   #7 − 03-04 20:00 = 4 h (both by 104). #1 is the baseline's. Sorted [4, 12, 12, 28]:
    //   median 12.0, p90 = 12 + 0.7 × (28 − 12) = 23.2 → elite (< 24 h).
    // - 102 failed: 104 ships #7, a revert of #3 which 102 shipped, and incident #50
    //   starts after 102 and before 103. 103 failed by its own status. 2 of 4 → 0.5 → low.
    // - recovery: 102 at the earlier of 104 (03-05 00:00) and #50's resolution
    //   (03-03 06:00) = 18 h; 103 at 104, the next success = 24 h. Median 21.0 → high.
    // - time to restore: #50, 18:00 → 06:00 = 12 h.
    // - rework: 103 comes 36 h after failed 102; 104 ships only a fix and a revert
    //   (and comes 24 h after failed 103). 2 of 4 → 0.5.
    let report = assess_site_json(&root, "2024-03-01", "2024-03-08", &[]);
    let r = &report["repos"][0];
    assert_eq!(r["name"], "acme/api");
    let d = &r["dora"];
    assert_eq!(d["deployment_count"], 4);
    assert_eq!(d["deployments_per_week"], 4.0);
    assert_eq!(d["deploy_days_per_week"], 4.0);
    assert_eq!(d["deploy_days_per_month"], 4.0);
    assert_eq!(
        d["lead_time_hours"]["values"],
        json!([4.0, 12.0, 12.0, 28.0])
    );
    assert_eq!(d["lead_time_hours"]["median"], 12.0);
    assert_eq!(d["lead_time_hours"]["p90"], 23.2);
    assert_eq!(d["change_failure_rate"], 0.5);
    assert_eq!(
        d["recovery_time_hours"],
        json!({ "count": 2, "median": 21.0 })
    );
    assert_eq!(
        d["time_to_restore_hours"],
        json!({ "count": 1, "median": 12.0 })
    );
    assert_eq!(d["rework_rate"], 0.5);
    assert_eq!(
        d["tiers"],
        json!({ "deployment_frequency": "high", "lead_time": "elite", "change_failure_rate": "low", "recovery_time": "high" })
    );
    let rows: Vec<(String, u64, bool, bool, bool)> = r["deployments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            (
                x["ref"].as_str().unwrap().to_string(),
                x["change_count"].as_u64().unwrap(),
                x["failed"].as_bool().unwrap(),
                x["baseline"].as_bool().unwrap(),
                x["rework"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        vec![
            ("Production#101".to_string(), 0, false, true, false),
            ("production#102".to_string(), 2, true, false, false),
            ("production#103".to_string(), 0, true, false, true),
            ("production#104".to_string(), 2, false, false, true),
        ]
    );
    assert_eq!(r["deployments"][1]["recovered_at"], "2024-03-03T06:00:00Z");

    // The site renders from the stored facts, without the network.
    let before = requests(&server).await.len();
    let out = opsmeter(&root)
        .env("GITHUB_TOKEN", TOKEN)
        .args(["build", "--since", "2024-03-01", "--until", "2024-03-08"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        requests(&server).await.len(),
        before,
        "the build asked the API"
    );
    let site_text: String = files_under(&root.join("public"))
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "html" || e == "json"))
        .map(|p| std::fs::read_to_string(p).unwrap_or_default())
        .collect();
    assert!(
        site_text.contains("acme/api"),
        "the site does not show the repository"
    );

    let build_run = Run {
        code: 0,
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    assert_no_token(&root, &[&first, &build_run]);
}

#[tokio::test]
async fn a_second_run_is_answered_with_304s_and_changes_no_facts() {
    let server = MockServer::start().await;
    acme_api(&server).await;
    let root = site("not-modified", &github_entry(&server, "acme/api"));
    let first = collect(&root, &[]);
    assert_eq!(first.code, 0, "{}", first.stderr);
    let before = facts(&root, "acme-api");
    let sent_first = requests(&server).await.len();
    assert!(root.join("data/cache").is_dir());

    let second = collect(&root, &[]);
    assert_eq!(second.code, 0, "{}", second.stderr);
    let all = requests(&server).await;
    let again = &all[sent_first..];
    // Deployments: both pages (304; the second page's URL comes from the cache), and
    // the statuses of 106 only, still in progress (101–104 are finished and stored).
    // Compares of two shas never change: answered by the cache, not asked.
    // Pull requests and issues: the first page, 304, which reaches the stored cursor.
    // Files: the repository and its branch's head, 304; the tree of a commit never
    // changes (from the cache, not asked).
    let urls: Vec<String> = again
        .iter()
        .map(|r| format!("{}?{}", r.url.path(), r.url.query().unwrap_or("")))
        .collect();
    assert_eq!(again.len(), 7, "{urls:#?}");
    assert!(
        again
            .iter()
            .all(|r| r.headers.contains_key("if-none-match")),
        "{urls:#?}"
    );
    assert!(
        second
            .stdout
            .contains("7 requests, 7 answered 304 Not Modified"),
        "{}",
        second.stdout
    );
    assert_eq!(facts(&root, "acme-api"), before);
    let history = std::fs::read_to_string(root.join("data/history/acme-api.jsonl")).unwrap();
    assert_eq!(history.lines().count(), 2, "each collection appends a line");
    assert_no_token(&root, &[&first, &second]);
}

#[tokio::test]
async fn rate_limits_are_waited_out_or_stop_with_a_clear_error() {
    let server = MockServer::start().await;
    empty_repo(&server, "acme/tiny").await;
    empty_repo(&server, "acme/later").await;
    // Primary limit on acme/tiny: exhausted, resetting now; then the answer.
    let now = chrono::Utc::now().timestamp();
    Mock::given(method("GET"))
        .and(path("/repos/acme/tiny/pulls"))
        .respond_with(
            ResponseTemplate::new(403)
                .insert_header("x-ratelimit-limit", "5000")
                .insert_header("x-ratelimit-remaining", "0")
                .insert_header("x-ratelimit-reset", now.to_string().as_str())
                .set_body_json(json!({
                    "message": "API rate limit exceeded for user ID 1.",
                    "documentation_url": "https://docs.github.com/rest/overview/resources-in-the-rest-api#rate-limiting"
                })),
        )
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    // Secondary limit on acme/tiny: 429 with retry-after.
    Mock::given(method("GET"))
        .and(path("/repos/acme/tiny/issues"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("retry-after", "0")
                .set_body_json(json!({ "message": "You have exceeded a secondary rate limit." })),
        )
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    // acme/later: exhausted for an hour, more than max_rate_limit_wait_seconds (5).
    Mock::given(method("GET"))
        .and(path("/repos/acme/later/deployments"))
        .respond_with(
            ResponseTemplate::new(403)
                .insert_header("x-ratelimit-remaining", "0")
                .insert_header("x-ratelimit-reset", (now + 3600).to_string().as_str())
                .set_body_json(json!({ "message": "API rate limit exceeded" })),
        )
        .with_priority(1)
        .mount(&server)
        .await;
    let root = site(
        "rate-limit",
        &format!(
            "{}{}",
            github_entry(&server, "acme/tiny"),
            github_entry(&server, "acme/later")
        ),
    );
    let started = std::time::Instant::now();
    let run = collect(&root, &[]);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(4),
        "waited too long"
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("GitHub rate limit reached: waiting"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("error: acme/later: GitHub rate limit reached: it resets in 3")
            && run
                .stderr
                .contains("longer than collect.max_rate_limit_wait_seconds (5 s)"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("1 of 2 repositories failed"),
        "{}",
        run.stderr
    );
    assert!(root.join("data/facts/acme-tiny.json").exists());
    assert!(!root.join("data/facts/acme-later.json").exists());
    let tiny_pulls = requests(&server)
        .await
        .iter()
        .filter(|r| r.url.path() == "/repos/acme/tiny/pulls")
        .count();
    assert_eq!(
        tiny_pulls, 2,
        "the limited request is made again after the wait"
    );
    assert_no_token(&root, &[&run]);
}

#[tokio::test]
async fn a_502_is_retried_and_a_404_fails_only_its_repository() {
    let server = MockServer::start().await;
    empty_repo(&server, "acme/tiny").await;
    Mock::given(method("GET"))
        .and(path("/repos/acme/tiny/deployments"))
        .respond_with(ResponseTemplate::new(502).set_body_string("<html>502 Bad Gateway</html>"))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    let root = site(
        "retry-404",
        &format!(
            "{}{}",
            github_entry(&server, "acme/tiny"),
            github_entry(&server, "acme/gone")
        ),
    );
    // acme/gone had facts from an earlier collection: they stay as they were.
    std::fs::create_dir_all(root.join("data/facts")).unwrap();
    let old = "{\n  \"schema_version\": 1,\n  \"collected_at\": \"2024-01-01T00:00:00Z\",\n  \"facts\": {\"name\": \"acme/gone\", \"deployments\": [], \"changes\": [], \"incidents\": [], \"notes\": [\"old\"]}\n}";
    std::fs::write(root.join("data/facts/acme-gone.json"), old).unwrap();

    let run = collect(&root, &[]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    let deployments_asked = requests(&server)
        .await
        .iter()
        .filter(|r| r.url.path() == "/repos/acme/tiny/deployments")
        .count();
    assert_eq!(deployments_asked, 2, "one 502, then the answer");
    assert!(
        root.join("data/facts/acme-tiny.json").exists(),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains(&format!(
            "error: acme/gone: GitHub answered 404 Not Found for {}/repos/acme/gone/deployments?per_page=100",
            server.uri()
        )),
        "{}",
        run.stderr
    );
    assert_eq!(
        std::fs::read_to_string(root.join("data/facts/acme-gone.json")).unwrap(),
        old
    );
    assert!(!root.join("data/history/acme-gone.jsonl").exists());
    assert_no_token(&root, &[&run]);
}

#[tokio::test]
async fn a_range_that_cannot_be_compared_is_a_note_not_a_failure() {
    let server = MockServer::start().await;
    serve(
        &server,
        "/repos/acme/gc/deployments",
        &[("per_page", "100")],
        json!([
            deployment(2, &sha("b2"), "production"),
            deployment(1, &sha("b1"), "production")
        ]),
        &[],
    )
    .await;
    for (id, at) in [(1, "2024-03-01T00:00:00Z"), (2, "2024-03-02T00:00:00Z")] {
        serve(
            &server,
            &format!("/repos/acme/gc/deployments/{id}/statuses"),
            &[("per_page", "100")],
            json!([status("success", at)]),
            &[],
        )
        .await;
    }
    // Mounted after the deployments above, so these take the rest (the first mounted wins).
    empty_repo(&server, "acme/gc").await;
    // No compare is mounted: GitHub answers 404 for a commit it no longer has.
    let root = site("uncomparable", &github_entry(&server, "acme/gc"));
    let run = collect(&root, &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let f = facts(&root, "acme-gc");
    assert_eq!(f["deployments"].as_array().unwrap().len(), 2);
    let note = &f["notes"][0];
    assert!(
        note["text"]
            .as_str()
            .unwrap()
            .starts_with("production#2 cannot be compared with the deployment before it"),
        "{note}"
    );
    assert!(
        note["text"]
            .as_str()
            .unwrap()
            .ends_with("; the pull requests it shipped are not counted"),
        "{note}"
    );
    let message = &note["message"];
    assert_eq!(message["key"], "msg_note_not_compared");
    assert_eq!(message["args"]["deployment"], "production#2");
    assert_eq!(message["args"]["requests"]["key"], "msg_pull_requests");
}

#[tokio::test]
async fn malformed_json_is_a_clear_error_and_keeps_the_facts() {
    let server = MockServer::start().await;
    acme_api(&server).await;
    let root = site("malformed", &github_entry(&server, "acme/api"));
    let first = collect(&root, &[]);
    assert_eq!(first.code, 0, "{}", first.stderr);
    let facts_file = root.join("data/facts/acme-api.json");
    let before = std::fs::read(&facts_file).unwrap();

    server.reset().await;
    acme_api(&server).await;
    Mock::given(method("GET"))
        .and(path("/repos/acme/api/pulls"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_raw("[{\"number\": 8, \"title\": ", "application/json"),
        )
        .with_priority(1)
        .mount(&server)
        .await;
    let second = collect(&root, &[]);
    assert_eq!(second.code, 2, "{}", second.stderr);
    assert!(
        second.stderr.contains("error: acme/api: GitHub sent malformed JSON for")
            && second.stderr.contains("/repos/acme/api/pulls?state=closed&sort=updated&direction=desc&per_page=100 (line 1, column"),
        "{}",
        second.stderr
    );
    assert_eq!(
        std::fs::read(&facts_file).unwrap(),
        before,
        "the previous facts are untouched"
    );
    let history = std::fs::read_to_string(root.join("data/history/acme-api.jsonl")).unwrap();
    assert_eq!(history.lines().count(), 1);
}

#[tokio::test]
async fn an_organisation_skips_archived_repositories_forks_and_exclusions() {
    let server = MockServer::start().await;
    let repo = |name: &str, archived: bool, fork: bool| {
        shaped(
            "github/repository",
            &[
                ("name", json!(name)),
                ("full_name", json!(format!("acme/{name}"))),
                ("archived", json!(archived)),
                ("fork", json!(fork)),
            ],
        )
    };
    let orgs_path = "/orgs/acme/repos";
    serve(
        &server,
        orgs_path,
        &[("per_page", "100"), ("type", "all")],
        json!([
            repo("api", false, false),
            repo("old-thing", true, false),
            repo("forked", false, true)
        ]),
        &[next_link(&server, orgs_path, "type=all&per_page=100", 2)],
    )
    .await;
    serve(
        &server,
        orgs_path,
        &[("per_page", "100"), ("page", "2")],
        json!([
            repo("legacy-billing", false, false),
            repo("web", false, false)
        ]),
        &[],
    )
    .await;
    empty_repo(&server, "acme/api").await;
    // acme/web has no deployments but releases: a published one (its tag is
    // annotated) and a pre-release, which is not a deployment.
    let base = "/repos/acme/web";
    serve(
        &server,
        &format!("{base}/deployments"),
        &[("per_page", "100")],
        json!([]),
        &[],
    )
    .await;
    serve(
        &server,
        &format!("{base}/releases"),
        &[("per_page", "100")],
        json!([
            shaped(
                "github/release",
                &[
                    ("tag_name", json!("v2.0.0-rc1")),
                    ("prerelease", json!(true))
                ]
            ),
            shaped(
                "github/release",
                &[
                    ("tag_name", json!("v1.0.0")),
                    ("published_at", json!("2024-03-01T10:00:00Z"))
                ]
            ),
        ]),
        &[],
    )
    .await;
    serve(
        &server,
        &format!("{base}/git/matching-refs/tags"),
        &[("per_page", "100")],
        json!([{
            "ref": "refs/tags/v1.0.0",
            "node_id": "MDM6UmVmcmVmcy90YWdzL3YxLjAuMA==",
            "url": "https://api.github.com/repos/acme/web/git/refs/tags/v1.0.0",
            "object": { "type": "tag", "sha": sha("7a"), "url": "https://api.github.com/repos/acme/web/git/tags/7a" }
        }]),
        &[],
    )
    .await;
    serve(
        &server,
        &format!("{base}/git/tags/{}", sha("7a")),
        &[],
        json!({
            "node_id": "MDM6VGFnOTQwYmQzMzYyNDhlZmFlMGY5ZWU1YmM3YjJkNWM5ODU4ODdiMTZhYw==",
            "tag": "v1.0.0", "sha": sha("7a"),
            "url": "https://api.github.com/repos/acme/web/git/tags/7a",
            "message": "v1.0.0\n",
            "tagger": { "name": "Monalisa Octocat", "email": "octocat@github.com", "date": "2024-03-01T09:00:00Z" },
            "object": { "type": "commit", "sha": sha("7c"), "url": "https://api.github.com/repos/acme/web/git/commits/7c" },
            "verification": { "verified": false, "reason": "unsigned", "signature": null, "payload": null }
        }),
        &[],
    )
    .await;
    serve(
        &server,
        &format!("{base}/pulls"),
        &[("state", "closed")],
        json!([]),
        &[],
    )
    .await;
    serve(
        &server,
        &format!("{base}/issues"),
        &[("labels", "incident")],
        json!([]),
        &[],
    )
    .await;

    let root = site(
        "org",
        &format!(
            "[[repos]]\ngithub_org = \"acme\"\nexclude = [\"legacy-*\"]\napi_url = \"{}\"\n",
            server.uri()
        ),
    );
    let run = collect(&root, &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let mut written: Vec<String> = files_under(&root.join("data/facts"))
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    written.sort();
    assert_eq!(written, ["acme-api.json", "acme-web.json"]);
    assert!(!requests(&server).await.iter().any(|r| {
        let p = r.url.path();
        p.contains("old-thing") || p.contains("forked") || p.contains("legacy")
    }));
    let web = facts(&root, "acme-web");
    assert_eq!(web["name"], "acme/web");
    assert_eq!(
        web["deployments"],
        json!([{ "ref": "v1.0.0", "sha": sha("7c"), "time": "2024-03-01T10:00:00Z", "source": "release", "status": "success" }])
    );
    assert_eq!(facts(&root, "acme-api")["deployments"], json!([]));
}

#[tokio::test]
async fn shards_split_the_repositories_between_runs() {
    let server = MockServer::start().await;
    let names = ["acme/a", "acme/b", "acme/c", "acme/d", "acme/e"];
    let mut entries = String::new();
    for n in names {
        empty_repo(&server, n).await;
        entries.push_str(&github_entry(&server, n));
    }
    let root = site("shards", &entries);
    let mut seen = Vec::new();
    for k in 1..=2 {
        let dir = root.join("data/facts");
        let before: Vec<PathBuf> = files_under(&dir);
        let run = collect(&root, &["--shard", &format!("{k}/2")]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        let after: Vec<PathBuf> = files_under(&dir);
        let new: Vec<PathBuf> = after.into_iter().filter(|p| !before.contains(p)).collect();
        seen.extend(new);
    }
    seen.sort();
    seen.dedup();
    assert_eq!(
        seen.len(),
        names.len(),
        "every repository in exactly one shard: {seen:?}"
    );
    let bad = collect(&root, &["--shard", "3/2"]);
    assert_eq!(bad.code, 1);
    assert!(
        bad.stderr.contains("--shard \"3/2\": expected K/N"),
        "{}",
        bad.stderr
    );
}

#[tokio::test]
async fn without_a_token_public_repositories_are_read_with_a_warning() {
    let server = MockServer::start().await;
    empty_repo(&server, "acme/tiny").await;
    let root = site("anonymous", &github_entry(&server, "acme/tiny"));
    let out = opsmeter(&root).arg("collect").output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("GITHUB_TOKEN is not set"), "{stderr}");
    assert!(requests(&server)
        .await
        .iter()
        .all(|r| !r.headers.contains_key("authorization")));
}

#[tokio::test]
async fn github_enterprise_under_a_path_and_a_slow_answer_retried() {
    let server = MockServer::start().await;
    empty_repo_under(&server, "/api/v3", "corp/app").await;
    // The first answer comes after the 0.2 s timeout: the request is made again.
    Mock::given(method("GET"))
        .and(path("/api/v3/repos/corp/app/deployments"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!([]))
                .set_delay(std::time::Duration::from_secs(2)),
        )
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    let root = site(
        "enterprise",
        &format!("[[repos]]\ngithub = \"corp/app\"\napi_url = \"{}/api/v3/\"\ntoken_env = \"CORP_TOKEN\"\n", server.uri()),
    );
    let text = std::fs::read_to_string(root.join("opsmeter.toml")).unwrap();
    std::fs::write(
        root.join("opsmeter.toml"),
        text.replace("[collect]\n", "[collect]\ntimeout_seconds = 0.2\n"),
    )
    .unwrap();
    let out = opsmeter(&root)
        .env("CORP_TOKEN", TOKEN)
        .arg("collect")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let received = requests(&server).await;
    assert!(received
        .iter()
        .all(|r| r.url.path().starts_with("/api/v3/repos/corp/app")));
    assert!(received.iter().all(
        |r| r.headers.get("authorization").and_then(|v| v.to_str().ok())
            == Some(&format!("Bearer {TOKEN}"))
    ));
    assert_eq!(
        received
            .iter()
            .filter(|r| r.url.path().ends_with("/deployments"))
            .count(),
        2
    );
    assert_eq!(
        facts(&root, "corp-app")["collection"]["api_url"],
        format!("{}/api/v3", server.uri())
    );
}

// ---------------------------------------------------------------- GitLab

fn gl(name: &str, fields: &[(&str, Value)]) -> Value {
    shaped(&format!("gitlab/{name}"), fields)
}

fn gl_user(username: &str) -> Value {
    gl(
        "user",
        &[("username", json!(username)), ("name", json!(username))],
    )
}

/// Project `grp/svc`:
///   deployments (two pages by x-next-page): 1 production success 2024-03-01 00:00 (b1),
///   2 staging (left out), 3 production success 2024-03-03 00:00 (b3),
///   4 production failed 2024-03-04 00:00 (b4)
///   compare b1 → b3: c1 "Add cart", b3 the merge commit of !1, c2 the squashed !2
///   !1 "Add cart": first commit 03-01 02:00; notes: a system note, the author's, then
///      a reviewer's at 09:00; merged by merge commit b3
///   !2 "fix: typo" (fast-forward with squash: no merge commit), first commit 03-01 12:00
///   incident #6: 2024-03-03 06:00 → 09:00
async fn grp_svc(server: &MockServer) {
    let base = "/api/v4/projects/grp%2Fsvc";
    let dep = |iid: u64, env: &str, status: &str, at: &str, s: &str| {
        gl(
            "deployment",
            &[
                ("id", json!(40 + iid)),
                ("iid", json!(iid)),
                ("sha", json!(sha(s))),
                ("status", json!(status)),
                ("created_at", json!(at)),
                ("updated_at", json!(at)),
                ("finished_at", json!(at)),
                ("environment.name", json!(env)),
            ],
        )
    };
    let deployments = format!("{base}/deployments");
    serve(
        server,
        &deployments,
        &[("order_by", "id")],
        json!([
            dep(1, "production", "success", "2024-03-01T00:00:00Z", "b1"),
            dep(2, "staging", "success", "2024-03-02T00:00:00Z", "b2")
        ]),
        &[
            ("x-next-page", "2".into()),
            ("x-page", "1".into()),
            ("x-per-page", "100".into()),
        ],
    )
    .await;
    serve(
        server,
        &deployments,
        &[("order_by", "id"), ("page", "2")],
        json!([
            dep(3, "production", "success", "2024-03-03T00:00:00Z", "b3"),
            dep(4, "production", "failed", "2024-03-04T00:00:00Z", "b4")
        ]),
        &[
            ("x-next-page", "".into()),
            ("x-page", "2".into()),
            ("x-per-page", "100".into()),
        ],
    )
    .await;
    let commit = |s: &str, title: &str, message: &str| {
        gl(
            "commit",
            &[
                ("id", json!(sha(s))),
                ("short_id", json!(&sha(s)[..8])),
                ("title", json!(title)),
                ("message", json!(message)),
            ],
        )
    };
    serve(
        server,
        &format!("{base}/repository/compare"),
        &[("from", &sha("b1")), ("to", &sha("b3"))],
        gl(
            "compare",
            &[(
                "commits",
                json!([
                    commit("c1", "Add cart", "Add cart\n"),
                    commit("c2", "fix: typo", "fix: typo\n"),
                    commit("b3", "Merge branch 'cart' into 'main'", "Merge branch 'cart' into 'main'\n\nAdd cart\n\nSee merge request grp/svc!1"),
                ]),
            )],
        ),
        &[],
    )
    .await;
    let mr = |iid: u64,
              title: &str,
              created: &str,
              merged: &str,
              merge: Option<&str>,
              squash: Option<&str>| {
        gl(
            "merge_request",
            &[
                ("iid", json!(iid)),
                ("title", json!(title)),
                ("author", gl_user("alice")),
                ("created_at", json!(created)),
                ("updated_at", json!(merged)),
                ("merged_at", json!(merged)),
                ("merge_commit_sha", json!(merge.map(sha))),
                ("squash_commit_sha", json!(squash.map(sha))),
                ("sha", json!(sha(&format!("99{iid}")))),
                ("source_branch", json!(format!("branch-{iid}"))),
            ],
        )
    };
    serve(
        server,
        &format!("{base}/merge_requests"),
        &[("state", "merged")],
        json!([
            mr(
                2,
                "fix: typo",
                "2024-03-02T00:00:00Z",
                "2024-03-02T06:00:00Z",
                None,
                Some("c2")
            ),
            mr(
                1,
                "Add cart",
                "2024-03-01T06:00:00Z",
                "2024-03-02T00:00:00Z",
                Some("b3"),
                None
            ),
        ]),
        &[("x-next-page", "".into())],
    )
    .await;
    for (iid, first) in [(1, "2024-03-01T02:00:00Z"), (2, "2024-03-01T12:00:00Z")] {
        serve(
            server,
            &format!("{base}/merge_requests/{iid}/commits"),
            &[("per_page", "100")],
            json!([
                gl(
                    "commit",
                    &[
                        ("id", json!(sha("aa"))),
                        ("authored_date", json!("2024-03-01T20:00:00Z"))
                    ]
                ),
                gl(
                    "commit",
                    &[("id", json!(sha("ab"))), ("authored_date", json!(first))]
                )
            ]),
            &[],
        )
        .await;
    }
    let note = |who: &str, at: &str, system: bool| {
        gl(
            "note",
            &[
                ("author", gl_user(who)),
                ("created_at", json!(at)),
                ("system", json!(system)),
            ],
        )
    };
    serve(
        server,
        &format!("{base}/merge_requests/1/notes"),
        &[("per_page", "100")],
        json!([
            note("bob", "2024-03-01T07:00:00Z", true),
            note("alice", "2024-03-01T08:00:00Z", false),
            note("bob", "2024-03-01T09:00:00Z", false)
        ]),
        &[],
    )
    .await;
    serve(
        server,
        &format!("{base}/merge_requests/2/notes"),
        &[("per_page", "100")],
        json!([]),
        &[],
    )
    .await;
    serve(
        server,
        &format!("{base}/issues"),
        &[("issue_type", "incident")],
        json!([gl(
            "issue",
            &[
                ("iid", json!(6)),
                ("created_at", json!("2024-03-03T06:00:00Z")),
                ("closed_at", json!("2024-03-03T09:00:00Z")),
                ("updated_at", json!("2024-03-03T09:00:00Z")),
            ]
        )]),
        &[],
    )
    .await;
}

#[tokio::test]
async fn gitlab_project_collect_then_assess() {
    let server = MockServer::start().await;
    grp_svc(&server).await;
    // One 429 with retry-after on the merge requests: waited out.
    Mock::given(method("GET"))
        .and(path("/api/v4/projects/grp%2Fsvc/merge_requests"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("retry-after", "0")
                .insert_header("ratelimit-remaining", "0"),
        )
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    let root = site(
        "gitlab",
        &format!(
            "[[repos]]\ngitlab = \"grp/svc\"\napi_url = \"{}/api/v4\"\n",
            server.uri()
        ),
    );
    let run = collect(&root, &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains("GitLab rate limit reached: waiting"),
        "{}",
        run.stderr
    );
    let received = requests(&server).await;
    assert!(received
        .iter()
        .all(|r| r.headers.get("private-token").and_then(|v| v.to_str().ok()) == Some(GL_TOKEN)));

    let f = facts(&root, "grp-svc");
    let refs: Vec<&str> = f["deployments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["ref"].as_str().unwrap())
        .collect();
    assert_eq!(refs, ["production#1", "production#3", "production#4"]);
    let pr1 = &f["pull_requests"][0];
    // The system note and the author's own note do not count as a response.
    assert_eq!(pr1["first_response_at"], "2024-03-01T09:00:00Z");
    assert_eq!(pr1["first_commit_at"], "2024-03-01T02:00:00Z");
    assert_eq!(pr1["deployment"], 1);
    assert_eq!(
        f["pull_requests"][1]["merge_sha"],
        sha("c2"),
        "the squash commit"
    );
    assert_eq!(f["pull_requests"][1]["deployment"], 1);

    // Window [2024-03-01, 2024-03-08): deployments 1 (baseline), 3, 4 (failed).
    // - 3 per week; deploy days 03-01, 03-03, 03-04 → 3.0 → high.
    // - lead: !1 03-03 00:00 − 03-01 02:00 = 46 h; !2 − 03-01 12:00 = 36 h → median 41.0 (high).
    // - 3 failed: incident #6 starts 6 h after it, before 4; 4 failed by status: 2/3 = 0.6667.
    // - recovery: 3 at #6's resolution, 9 h; 4 has no later success. Median 9.0 → high.
    // - time to restore: 06:00 → 09:00 = 3 h. Rework: 4 comes 24 h after failed 3: 1/3.
    let report = assess_site_json(&root, "2024-03-01", "2024-03-08", &[]);
    let d = &report["repos"][0]["dora"];
    assert_eq!(report["repos"][0]["name"], "grp/svc");
    assert_eq!(d["deployment_count"], 3);
    assert_eq!(d["deploy_days_per_week"], 3.0);
    assert_eq!(d["lead_time_hours"]["values"], json!([36.0, 46.0]));
    assert_eq!(d["lead_time_hours"]["median"], 41.0);
    assert_eq!(d["change_failure_rate"], 0.6667);
    assert_eq!(
        d["recovery_time_hours"],
        json!({ "count": 1, "median": 9.0 })
    );
    assert_eq!(
        d["time_to_restore_hours"],
        json!({ "count": 1, "median": 3.0 })
    );
    assert_eq!(d["rework_rate"], 0.3333);
    assert_eq!(
        d["tiers"],
        json!({ "deployment_frequency": "high", "lead_time": "high", "change_failure_rate": "low", "recovery_time": "high" })
    );
    assert_no_token(&root, &[&run]);
}

// ---------------------------------------------------------------- local repositories

#[test]
fn local_repositories_are_collected_and_assess_reads_the_stored_facts() {
    let root = site(
        "local",
        "[[repos]]\nname = \"events-only\"\nevents = [\"deploys.csv\"]\n",
    );
    std::fs::write(
        root.join("deploys.csv"),
        "type,id,environment,status,finished_at\ndeployment,d1,production,success,2024-03-01\ndeployment,d2,production,success,2024-03-03\n",
    )
    .unwrap();
    let run = collect(&root, &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let f = facts(&root, "events-only");
    assert_eq!(f["deployments"].as_array().unwrap().len(), 2);
    assert_eq!(f["collection"]["host"], "local");
    // The stored facts are what assess reads: change the events file, and assess
    // still sees the two collected deployments until the next collection.
    std::fs::write(
        root.join("deploys.csv"),
        "type,id,environment,status,finished_at\n",
    )
    .unwrap();
    let report = assess_site_json(&root, "2024-03-01", "2024-03-08", &[]);
    assert_eq!(report["repos"][0]["dora"]["deployment_count"], 2);
}

// ---------------------------------------------------------------- the token stays home

/// A next-page link to another server is not followed: that server gets no
/// request (so never the token), the repository fails by name, and its
/// previous facts (none here) are not replaced by a partial collection.
#[tokio::test]
async fn a_gitlab_next_page_on_another_host_is_refused_and_gets_no_token() {
    let server = MockServer::start().await;
    let evil = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([])))
        .mount(&evil)
        .await;
    grp_svc(&server).await;
    Mock::given(method("GET"))
        .and(path("/api/v4/projects/grp%2Fsvc/deployments"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!([]))
                .insert_header(
                    "link",
                    format!(
                        "<{}/api/v4/projects/grp%2Fsvc/deployments?page=2>; rel=\"next\"",
                        evil.uri()
                    )
                    .as_str(),
                ),
        )
        .with_priority(1)
        .mount(&server)
        .await;
    let root = site(
        "gitlab-evil-link",
        &format!(
            "[[repos]]\ngitlab = \"grp/svc\"\napi_url = \"{}/api/v4\"\n",
            server.uri()
        ),
    );
    let run = collect(&root, &[]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("error: grp/svc: GitLab: the next page of"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains(&format!("is on another server ({})", evil.uri())),
        "{}",
        run.stderr
    );
    assert!(
        requests(&evil).await.is_empty(),
        "the other server was contacted"
    );
    assert!(!root.join("data/facts/grp-svc.json").exists());
    assert_no_token(&root, &[&run]);
}

/// The same for GitHub's `Link` header, and for a redirect to another server.
#[tokio::test]
async fn a_github_next_page_or_redirect_to_another_host_gets_no_token() {
    let server = MockServer::start().await;
    let evil = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([])))
        .mount(&evil)
        .await;
    empty_repo(&server, "acme/linkjump").await;
    Mock::given(method("GET"))
        .and(path("/repos/acme/linkjump/deployments"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!([]))
                .insert_header(
                    "link",
                    format!(
                        "<{}/repos/acme/linkjump/deployments?per_page=100&page=2>; rel=\"next\"",
                        evil.uri()
                    )
                    .as_str(),
                ),
        )
        .with_priority(1)
        .mount(&server)
        .await;
    empty_repo(&server, "acme/hop").await;
    Mock::given(method("GET"))
        .and(path("/repos/acme/hop/deployments"))
        .respond_with(ResponseTemplate::new(302).insert_header(
            "location",
            format!("{}/repos/acme/hop/deployments", evil.uri()).as_str(),
        ))
        .with_priority(1)
        .mount(&server)
        .await;
    let root = site(
        "github-evil-link",
        &format!(
            "{}\n{}",
            github_entry(&server, "acme/linkjump"),
            github_entry(&server, "acme/hop")
        ),
    );
    let run = collect(&root, &[]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("error: acme/linkjump: GitHub: the next page of"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("error: acme/hop: GitHub redirected"),
        "{}",
        run.stderr
    );
    assert!(
        requests(&evil).await.is_empty(),
        "the other server was contacted"
    );
    assert_no_token(&root, &[&run]);
}

/// A token with a control character is refused before any request, without
/// a panic and without printing the token.
#[tokio::test]
async fn a_token_with_a_control_character_is_refused_without_showing_it() {
    let server = MockServer::start().await;
    empty_repo(&server, "acme/tiny").await;
    let root = site("bad-token", &github_entry(&server, "acme/tiny"));
    let bad = "ghp_Secret\u{7}Value";
    let out = opsmeter(&root)
        .env("GITHUB_TOKEN", bad)
        .arg("collect")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(
            "the GitHub token holds a character that cannot be sent in a header (position 11)"
        ),
        "{stderr}"
    );
    assert!(!stderr.contains("Secret"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(requests(&server).await.is_empty());
}

/// A GitHub repository with no deployment, no release and tags that do not
/// match `tag_pattern`: `collect` records what each source held, and the
/// report explains it and suggests a pattern from the tags' names.
#[tokio::test]
async fn a_host_repository_without_deployments_is_explained() {
    let server = MockServer::start().await;
    let tag = |name: &str, label: &str| {
        json!({
            "ref": format!("refs/tags/{name}"),
            "node_id": "MDM6UmVm",
            "url": format!("https://api.github.com/repos/acme/nightly/git/refs/tags/{name}"),
            "object": { "type": "commit", "sha": sha(label), "url": "https://api.github.com/repos/acme/nightly/git/commits/x" }
        })
    };
    // Mounted before the empty listing, so it answers first.
    serve(
        &server,
        "/repos/acme/nightly/git/matching-refs/tags",
        &[("per_page", "100")],
        json!([
            tag("build-1", "b1"),
            tag("nightly-2", "n2"),
            tag("nightly-3", "n3")
        ]),
        &[],
    )
    .await;
    empty_repo(&server, "acme/nightly").await;
    let root = site("explained", &github_entry(&server, "acme/nightly"));
    let run = collect(&root, &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        facts(&root, "acme-nightly")["deployment_search"],
        json!({
            "host_deployments": 0,
            "releases": 0,
            "tags": 3,
            "tag_pattern": "^v?\\d+\\.\\d+\\.\\d+$",
            "other_tags": ["nightly-3", "nightly-2", "build-1"],
            "branch": null
        })
    );
    let report = assess_site_json(&root, "2024-01-01", "2024-07-01", &[]);
    let deployments = &report["repos"][0]["explanations"][0];
    assert_eq!(
        *deployments,
        json!({
            "topic": "deployments",
            "source": "host",
            "found": "host_tags_none_matching",
            "hint": "set_tag_pattern",
            "count": 3,
            "pattern": "^v?\\d+\\.\\d+\\.\\d+$",
            "tags": ["nightly-3", "nightly-2", "build-1"],
            "suggestion": "^nightly-",
            "chapter": "dora-metrics",
            "text": "no production deployments and no releases; 3 tags, none matching `^v?\\d+\\.\\d+\\.\\d+$`; \
        the last by name are `nightly-3`, `nightly-2`, `build-1`: set `tag_pattern = '^nightly-'`"
        })
    );
}

/// A workflow as `actions/workflows` lists it (the recorded shape).
fn workflow(id: u64, name: &str, file: &str) -> Value {
    shaped(
        "github/workflow",
        &[
            ("id", json!(id)),
            ("name", json!(name)),
            ("path", json!(format!(".github/workflows/{file}"))),
        ],
    )
}

/// A workflow run (the recorded shape) on `main`.
fn run(number: u64, status: &str, conclusion: Option<&str>, sha_: &str, at: &str) -> Value {
    shaped(
        "github/workflow_run",
        &[
            ("run_number", json!(number)),
            ("head_branch", json!("main")),
            ("head_sha", json!(sha(sha_))),
            ("status", json!(status)),
            ("conclusion", json!(conclusion)),
            ("created_at", json!(at)),
            ("updated_at", json!(at)),
        ],
    )
}

/// The repository, its workflows and the runs of workflow `id` on `main`;
/// compares answer no commits.
async fn actions_repo(server: &MockServer, repo: &str, workflows: Value, id: u64, runs: Value) {
    let base = format!("/repos/{repo}");
    serve(
        server,
        &base,
        &[],
        shaped(
            "github/repository",
            &[
                ("default_branch", json!("main")),
                ("full_name", json!(repo)),
            ],
        ),
        &[],
    )
    .await;
    serve(
        server,
        &format!("{base}/actions/workflows"),
        &[("per_page", "100")],
        json!({ "total_count": workflows.as_array().unwrap().len(), "workflows": workflows }),
        &[],
    )
    .await;
    serve(
        server,
        &format!("{base}/actions/workflows/{id}/runs"),
        &[("branch", "main"), ("per_page", "100")],
        json!({ "total_count": runs.as_array().unwrap().len(), "workflow_runs": runs }),
        &[],
    )
    .await;
    Mock::given(method("GET"))
        .and(wiremock::matchers::path_regex(format!("^{base}/compare/")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "commits": [] })))
        .mount(server)
        .await;
    empty_repo(server, repo).await;
}

/// `deploy_workflow = "deploy.yml"`: finished runs of that workflow on the
/// default branch are the deployments, failed runs failed deployments.
///
/// Runs: #4 cancelled (2024-02-28, left out), #5 success 03-01 12:00, #6
/// failure 03-05 12:00, #7 success 03-10 12:00, #8 in progress (left out).
/// Window [03-01, 04-01), 31 days: 3 deployments, 3 ÷ (31/7) = 21/31 =
/// 0.677… a week; 1 failed of 3 = 1/3; #6 recovered by #7: 5 days = 120 h.
#[tokio::test]
async fn workflow_runs_are_deployments_and_failed_runs_failed_deployments() {
    let server = MockServer::start().await;
    actions_repo(
        &server,
        "acme/app",
        json!([
            workflow(11, "CI", "ci.yml"),
            workflow(12, "Deploy to production", "deploy.yml")
        ]),
        12,
        json!([
            run(8, "in_progress", None, "c4", "2024-03-11T00:00:00Z"),
            run(
                7,
                "completed",
                Some("success"),
                "c3",
                "2024-03-10T12:00:00Z"
            ),
            run(
                6,
                "completed",
                Some("failure"),
                "c2",
                "2024-03-05T12:00:00Z"
            ),
            run(
                5,
                "completed",
                Some("success"),
                "c1",
                "2024-03-01T12:00:00Z"
            ),
            run(
                4,
                "completed",
                Some("cancelled"),
                "c0",
                "2024-02-28T12:00:00Z"
            ),
        ]),
    )
    .await;
    let entry = format!(
        "{}deploy_workflow = \"deploy.yml\"\n",
        github_entry(&server, "acme/app")
    );
    let root = site("workflow-runs", &entry);
    let run_ = collect(&root, &[]);
    assert_eq!(run_.code, 0, "{}", run_.stderr);
    let f = facts(&root, "acme-app");
    let deployments: Vec<(String, String, String)> = f["deployments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["ref"].as_str().unwrap().to_string(),
                d["source"].as_str().unwrap().to_string(),
                d["status"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let row = |r: &str, s: &str| (r.to_string(), "workflow".to_string(), s.to_string());
    assert_eq!(
        deployments,
        vec![
            row("deploy.yml#5", "success"),
            row("deploy.yml#6", "failure"),
            row("deploy.yml#7", "success")
        ]
    );
    // The configured workflow replaces the other sources: no deployments API, no CI runs.
    let paths: Vec<String> = requests(&server)
        .await
        .iter()
        .map(|r| r.url.path().to_string())
        .collect();
    assert!(
        !paths
            .iter()
            .any(|p| p.ends_with("/deployments") || p.contains("/workflows/11/")),
        "{paths:?}"
    );

    let report = assess_site_json(&root, "2024-03-01", "2024-04-01", &[]);
    let r = &report["repos"][0];
    assert_eq!(r["dora"]["deployment_count"], 3);
    // The report rounds to four decimals.
    assert_eq!(r["dora"]["deployments_per_week"], json!(0.6774));
    assert_eq!(r["dora"]["change_failure_rate"], json!(0.3333));
    assert_eq!(r["dora"]["recovery_time_hours"]["median"], json!(120.0));
    assert_eq!(
        r["measurement"]["deployment_source"],
        "finished runs of the GitHub Actions workflow `deploy.yml` on the default branch (successful: deployed; failed: failed deployments)"
    );
    assert_eq!(r["explanations"][0]["topic"], "incidents");
}

/// Without deployments, releases or matching tags, and without
/// `deploy_workflow`: the runs of a workflow named for publishing are used,
/// and a note says which.
#[tokio::test]
async fn a_workflow_named_for_publishing_is_the_fallback_and_is_named() {
    let server = MockServer::start().await;
    actions_repo(
        &server,
        "acme/lib",
        json!([
            workflow(21, "CI", "ci.yml"),
            workflow(22, "Publish crate", "crates.yml")
        ]),
        22,
        json!([run(
            3,
            "completed",
            Some("success"),
            "d1",
            "2024-05-02T08:00:00Z"
        )]),
    )
    .await;
    let root = site("workflow-fallback", &github_entry(&server, "acme/lib"));
    let run_ = collect(&root, &[]);
    assert_eq!(run_.code, 0, "{}", run_.stderr);
    let f = facts(&root, "acme-lib");
    assert_eq!(f["deployments"][0]["ref"], "crates.yml#3");
    assert_eq!(f["deployments"][0]["time"], "2024-05-02T08:00:00Z");
    assert_eq!(f["deployments"].as_array().unwrap().len(), 1);
    assert!(f["notes"].as_array().unwrap().contains(&json!({
        "text": "no production deployments, releases or tags matching tag_pattern `^v?\\d+\\.\\d+\\.\\d+$`: the runs of `crates.yml` \
         (a workflow named for deploying, releasing or publishing) are the deployments; name the right one with deploy_workflow",
        "message": {
            "key": "msg_note_host_workflow_runs",
            "args": { "pattern": "^v?\\d+\\.\\d+\\.\\d+$", "workflows": "`crates.yml`" }
        }
    })), "{}", f["notes"]);
    assert!(f.get("deployment_search").is_none());
    let report = assess_site_json(&root, "2024-05-01", "2024-06-01", &[]);
    assert_eq!(report["repos"][0]["dora"]["deployment_count"], 1);
    assert_eq!(
        report["repos"][0]["measurement"]["deployment_source"],
        "finished runs of the GitHub Actions workflow `crates.yml` on the default branch (successful: deployed; failed: failed deployments)"
    );
}
