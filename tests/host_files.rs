//! Probes on a host repository without a checkout: `collect` lists the
//! default branch's tree through the API (GitHub's git trees, a truncated one
//! completed by its subtrees; GitLab's paginated repository tree), reads only
//! the blobs the probes ask for, caches them by id, and stores the findings,
//! which `assess` then shows. The mock answers are made from a real fixture
//! repository (`git ls-tree`, `git cat-file`), in the hosts' shapes, so the
//! findings must be exactly those of its checkout.

mod common;

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::{json, Value};
use wiremock::matchers::{header, method, path, query_param, query_param_is_missing};
use wiremock::{Mock, MockServer, ResponseTemplate};

use common::Repo;

/// A repository with something for most probes, plus what a checkout walk
/// leaves out: a vendored folder, a build cache, a symbolic link.
fn fixture_repo(name: &str) -> Repo {
    let r = Repo::init(&common::scratch(name));
    let files: &[(&str, &str)] = &[
        (
            ".github/workflows/ci.yml",
            "on: [push, pull_request]\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n      - run: cargo clippy -- -D warnings\n      - run: cargo test\n",
        ),
        (".github/dependabot.yml", "version: 2\nupdates: []\n"),
        (
            "Dockerfile",
            "FROM rust:1.80 AS build\nRUN cargo build --release\nFROM debian:12-slim\nCOPY --from=build /app /app\nUSER app\nHEALTHCHECK CMD /app --health\nCMD [\"/app\"]\n",
        ),
        (
            "deploy/k8s/deployment.yaml",
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n      containers:\n        - name: web\n          image: acme/web:1.2.3\n          livenessProbe: {httpGet: {path: /, port: 80}}\n",
        ),
        ("coverage/lcov.info", "SF:src/main.rs\nDA:1,1\nDA:2,1\nDA:3,0\nend_of_record\n"),
        ("src/main.rs", "fn main() {}\n"),
        ("tests/smoke.rs", "#[test]\nfn ok() {}\n"),
        ("SECURITY.md", "Report to security@example.org\n"),
        ("node_modules/pkg/Dockerfile", "FROM node:latest\n"),
        ("target/CACHEDIR.TAG", "Signature: 8a477f597d28d172789f06886806bc55\n"),
        ("target/lcov.info", "SF:x\nDA:1,0\nend_of_record\n"),
    ];
    for (p, text) in files {
        let file = r.dir.join(p);
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(file, text).unwrap();
    }
    std::os::unix::fs::symlink("Dockerfile", r.dir.join("link.Dockerfile")).unwrap();
    r.commit_all("files", "2024-03-01T00:00:00Z");
    r
}

/// One `git ls-tree -l` line: (mode, type, id, size, path).
fn ls_tree(
    r: &Repo,
    tree: &str,
    recursive: bool,
) -> Vec<(String, String, String, Option<u64>, String)> {
    let mut args = vec!["ls-tree", "-l"];
    if recursive {
        args.extend(["-r", "-t"]);
    }
    args.push(tree);
    r.git(&args, &[])
        .lines()
        .map(|l| {
            let (meta, p) = l.split_once('\t').unwrap();
            let f: Vec<&str> = meta.split_whitespace().collect();
            (
                f[0].to_string(),
                f[1].to_string(),
                f[2].to_string(),
                f[3].parse().ok(),
                p.to_string(),
            )
        })
        .collect()
}

/// GitHub's git trees answer for these entries.
fn gh_tree(
    id: &str,
    entries: &[(String, String, String, Option<u64>, String)],
    truncated: bool,
) -> Value {
    let tree: Vec<Value> = entries
        .iter()
        .map(|(mode, kind, sha, size, p)| {
            let mut e = json!({
                "path": p, "mode": mode, "type": kind, "sha": sha,
                "url": format!("https://api.github.com/repos/acme/web/git/{kind}s/{sha}"),
            });
            if let Some(s) = size {
                e["size"] = json!(s);
            }
            e
        })
        .collect();
    json!({
        "sha": id,
        "url": format!("https://api.github.com/repos/acme/web/git/trees/{id}"),
        "tree": tree,
        "truncated": truncated,
    })
}

async fn mount(server: &MockServer, p: &str, body: Value) {
    Mock::given(method("GET"))
        .and(path(p))
        .respond_with(ResponseTemplate::new(200).set_body_json(body))
        .mount(server)
        .await;
}

fn opsmeter(root: &Path) -> Command {
    let mut c = Command::cargo_bin("opsmeter").unwrap();
    c.env_remove("OPSMETER_LOG")
        .env("GITHUB_TOKEN", "ghp_test")
        .env("GITLAB_TOKEN", "glpat-test")
        .arg("--root")
        .arg(root);
    c
}

fn site(name: &str, repos: &str) -> PathBuf {
    let dir = common::scratch(&format!("site-{name}"));
    if dir.exists() {
        std::fs::remove_dir_all(&dir).unwrap();
    }
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("opsmeter.toml"),
        format!("[collect]\nbackoff_base_ms = 1\nretries = 0\n\n{repos}"),
    )
    .unwrap();
    dir
}

fn run(cmd: &mut Command) -> (String, String) {
    let out = cmd.output().unwrap();
    let (o, e) = (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    );
    assert!(out.status.success(), "stdout:\n{o}\nstderr:\n{e}");
    (o, e)
}

/// The findings of file probes (the `flow.*` ones read history, not files).
fn file_findings(report: &Value) -> Vec<Value> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| !f["probe"].as_str().unwrap().starts_with("flow."))
        .cloned()
        .collect()
}

/// The file findings `assess --json` gives for the checkout at `dir`.
fn checkout_findings(dir: &Path) -> Vec<Value> {
    let root = site("checkout", "");
    let (out, _) = run(opsmeter(&root)
        .args(["assess", "--json", "--repo"])
        .arg(dir));
    let v: Value = serde_json::from_str(&out).unwrap();
    let found = file_findings(&v["repos"][0]);
    assert_eq!(found.len(), 36, "every file probe ran on the checkout");
    found
}

/// The host entry's report of `assess --json`.
fn assessed(root: &Path) -> Value {
    let (out, _) = run(opsmeter(root).args(["assess", "--json"]));
    let v: Value = serde_json::from_str(&out).unwrap();
    v["repos"][0].clone()
}

async fn blob_requests(server: &MockServer, marker: &str) -> usize {
    server
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .filter(|r| r.url.path().contains(marker))
        .count()
}

#[tokio::test]
async fn github_tree_truncated_and_completed_by_subtrees_gives_the_checkouts_findings() {
    let repo = fixture_repo("host-files-github");
    let commit = repo.head();
    let root_tree = repo
        .git(&["rev-parse", "HEAD^{tree}"], &[])
        .trim()
        .to_string();
    let server = MockServer::start().await;
    let base = "/repos/acme/web";
    for p in [
        "deployments",
        "releases",
        "git/matching-refs/tags",
        "pulls",
        "issues",
    ] {
        mount(&server, &format!("{base}/{p}"), json!([])).await;
    }
    let mut repository: Value = serde_json::from_str(
        &std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/api/github/repository.json"),
        )
        .unwrap(),
    )
    .unwrap();
    repository["default_branch"] = json!("main");
    repository["html_url"] = json!("https://github.com/acme/web");
    mount(&server, base, repository).await;
    mount(
        &server,
        &format!("{base}/git/ref/heads/main"),
        json!({
            "ref": "refs/heads/main", "node_id": "REF_kwDOA",
            "url": "https://api.github.com/repos/acme/web/git/refs/heads/main",
            "object": {"sha": commit, "type": "commit",
                       "url": format!("https://api.github.com/repos/acme/web/git/commits/{commit}")}
        }),
    )
    .await;
    // The recursive listing of the commit is truncated after three entries…
    let all = ls_tree(&repo, &commit, true);
    Mock::given(method("GET"))
        .and(path(format!("{base}/git/trees/{commit}")))
        .and(query_param("recursive", "1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(gh_tree(
            &root_tree,
            &all[..3],
            true,
        )))
        .mount(&server)
        .await;
    // …so the root is listed on its own, and each subfolder recursively.
    Mock::given(method("GET"))
        .and(path(format!("{base}/git/trees/{commit}")))
        .and(query_param_is_missing("recursive"))
        .respond_with(ResponseTemplate::new(200).set_body_json(gh_tree(
            &root_tree,
            &ls_tree(&repo, &commit, false),
            false,
        )))
        .mount(&server)
        .await;
    for (_, kind, id, _, p) in ls_tree(&repo, &commit, false) {
        if kind != "tree" || p == "node_modules" {
            continue; // node_modules is pruned: never asked for
        }
        Mock::given(method("GET"))
            .and(path(format!("{base}/git/trees/{id}")))
            .and(query_param("recursive", "1"))
            .respond_with(ResponseTemplate::new(200).set_body_json(gh_tree(
                &id,
                &ls_tree(&repo, &id, true),
                false,
            )))
            .mount(&server)
            .await;
    }
    for (_, kind, id, _, _) in &all {
        if kind == "blob" {
            let bytes = repo.git(&["cat-file", "blob", id], &[]);
            Mock::given(method("GET"))
                .and(path(format!("{base}/git/blobs/{id}")))
                .and(header("accept", "application/vnd.github.raw+json"))
                .respond_with(ResponseTemplate::new(200).set_body_bytes(bytes.into_bytes()))
                .mount(&server)
                .await;
        }
    }

    let root = site(
        "github",
        &format!(
            "[[repos]]\ngithub = \"acme/web\"\napi_url = \"{}\"\n",
            server.uri()
        ),
    );
    let (out, _) = run(opsmeter(&root).arg("collect"));
    let fetched = blob_requests(&server, "/git/blobs/").await;
    assert!(fetched > 0, "no blob was read");
    assert!(
        out.contains(&format!("files: {fetched} blobs fetched, ")),
        "{out}"
    );
    let report = assessed(&root);
    assert_eq!(file_findings(&report), checkout_findings(&repo.dir));
    assert_eq!(report["files"]["source"], "host");
    assert_eq!(report["files"]["commit"], json!(commit));
    assert_eq!(
        report["files"]["description"],
        json!(format!("GitHub tree of `main` at `{}`", &commit[..7]))
    );
    assert_eq!(report["web_url"], "https://github.com/acme/web");
    // Coverage from the tree's lcov.info (2 of 3 lines), not the build cache's.
    assert_eq!(report["coverage"]["lines_covered"], 2);
    assert_eq!(report["coverage"]["lines_valid"], 3);

    // A second collection reads every blob from the cache.
    let (out, _) = run(opsmeter(&root).arg("collect"));
    assert_eq!(blob_requests(&server, "/git/blobs/").await, fetched);
    assert!(out.contains("files: 0 blobs fetched, "), "{out}");
    assert_eq!(
        file_findings(&assessed(&root)),
        checkout_findings(&repo.dir)
    );
}

#[tokio::test]
async fn gitlab_paginated_tree_and_raw_files_give_the_checkouts_findings() {
    let repo = fixture_repo("host-files-gitlab");
    let commit = repo.head();
    let server = MockServer::start().await;
    let base = "/api/v4/projects/grp%2Fweb";
    for p in [
        "deployments",
        "releases",
        "repository/tags",
        "merge_requests",
        "issues",
    ] {
        mount(&server, &format!("{base}/{p}"), json!([])).await;
    }
    mount(
        &server,
        base,
        json!({"id": 3, "path": "web", "path_with_namespace": "grp/web",
               "default_branch": "main", "web_url": "https://gitlab.com/grp/web"}),
    )
    .await;
    mount(
        &server,
        &format!("{base}/repository/branches/main"),
        json!({"name": "main", "merged": false, "protected": true, "default": true,
               "web_url": "https://gitlab.com/grp/web/-/tree/main",
               "commit": {"id": commit, "short_id": &commit[..8], "title": "files",
                          "committed_date": "2024-03-01T00:00:00.000+00:00"}}),
    )
    .await;
    // GitLab lists trees and blobs alike, without sizes, 100 to a page: two pages here.
    let entries: Vec<Value> = ls_tree(&repo, &commit, true)
        .iter()
        .map(|(mode, kind, id, _, p)| {
            json!({"id": id, "name": p.rsplit('/').next().unwrap(), "type": kind, "path": p, "mode": mode})
        })
        .collect();
    let (first, second) = entries.split_at(entries.len() / 2);
    let tree = format!("{base}/repository/tree");
    Mock::given(method("GET"))
        .and(path(&tree))
        .and(query_param("ref", commit.as_str()))
        .and(query_param("recursive", "true"))
        .and(query_param_is_missing("page"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!(first))
                .insert_header("x-next-page", "2")
                .insert_header("x-page", "1"),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(&tree))
        .and(query_param("page", "2"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!(second))
                .insert_header("x-page", "2"),
        )
        .mount(&server)
        .await;
    for (_, kind, id, _, _) in ls_tree(&repo, &commit, true) {
        if kind == "blob" {
            let bytes = repo.git(&["cat-file", "blob", &id], &[]);
            mount_raw(
                &server,
                &format!("{base}/repository/blobs/{id}/raw"),
                bytes.into_bytes(),
            )
            .await;
        }
    }
    let root = site(
        "gitlab",
        &format!(
            "[[repos]]\ngitlab = \"grp/web\"\napi_url = \"{}/api/v4\"\n",
            server.uri()
        ),
    );
    let (out, _) = run(opsmeter(&root).arg("collect"));
    let fetched = blob_requests(&server, "/raw").await;
    assert!(fetched > 0);
    assert!(
        out.contains(&format!("files: {fetched} blobs fetched, ")),
        "{out}"
    );
    let report = assessed(&root);
    assert_eq!(file_findings(&report), checkout_findings(&repo.dir));
    assert_eq!(
        report["files"]["description"],
        json!(format!("GitLab tree of `main` at `{}`", &commit[..7]))
    );
    run(opsmeter(&root).arg("collect"));
    assert_eq!(blob_requests(&server, "/raw").await, fetched);
}

async fn mount_raw(server: &MockServer, p: &str, bytes: Vec<u8>) {
    Mock::given(method("GET"))
        .and(path(p))
        .respond_with(ResponseTemplate::new(200).set_body_bytes(bytes))
        .mount(server)
        .await;
}

#[tokio::test]
async fn a_blob_whose_bytes_do_not_match_its_id_fails_the_repository() {
    let repo = fixture_repo("host-files-bad-blob");
    let commit = repo.head();
    let server = MockServer::start().await;
    let base = "/api/v4/projects/grp%2Fweb";
    for p in [
        "deployments",
        "releases",
        "repository/tags",
        "merge_requests",
        "issues",
    ] {
        mount(&server, &format!("{base}/{p}"), json!([])).await;
    }
    mount(
        &server,
        base,
        json!({"default_branch": "main", "web_url": "https://gitlab.com/grp/web"}),
    )
    .await;
    mount(
        &server,
        &format!("{base}/repository/branches/main"),
        json!({"name": "main", "commit": {"id": commit}}),
    )
    .await;
    let entries: Vec<Value> = ls_tree(&repo, &commit, true)
        .iter()
        .map(|(mode, kind, id, _, p)| json!({"id": id, "name": p, "type": kind, "path": p, "mode": mode}))
        .collect();
    mount(&server, &format!("{base}/repository/tree"), json!(entries)).await;
    Mock::given(method("GET"))
        .and(wiremock::matchers::path_regex(r"/raw$"))
        .respond_with(ResponseTemplate::new(200).set_body_string("FROM evil:latest\n"))
        .mount(&server)
        .await;
    let root = site(
        "gitlab-bad-blob",
        &format!(
            "[[repos]]\ngitlab = \"grp/web\"\napi_url = \"{}/api/v4\"\n",
            server.uri()
        ),
    );
    let out = opsmeter(&root).arg("collect").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("that are not blob"), "{stderr}");
    assert!(!root.join("data/facts/grp-web.json").exists());
}
