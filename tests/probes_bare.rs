//! Probes over a bare repository (issue 12): every probe fixture repository is
//! committed, cloned bare and checked out again, and the probes must find in
//! the bare clone exactly what they find in the checkout — outcome, evidence
//! paths, lines and notes, and the coverage reports. A bare repository whose
//! HEAD names a missing branch gives a note, never a panic or a guess.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{assess_site_json, config_site, opsmeter, scratch, Repo};
use opsmeter::diagnostics::Diagnostic;
use opsmeter::message::Message;
use opsmeter::probes::patterns::{Catalogue, BUILTIN};
use opsmeter::probes::{coverage, run_all, Evidence, Finding, Outcome, RepoFiles, SourceKind};
use opsmeter::sources::coverage::DEFAULT_GLOBS;
use serde_json::Value;

/// Everything the probes conclude from a repository's files: the findings
/// (as `assess` makes them), the coverage summary and the report problems.
#[derive(Debug, PartialEq)]
struct Probed {
    findings: Vec<Finding>,
    coverage: Option<coverage::Coverage>,
    problems: Vec<String>,
}

fn probed(files: &RepoFiles) -> Probed {
    let catalogue = Catalogue::parse(BUILTIN, "builtin").unwrap();
    let mut findings = run_all(files, &catalogue);
    let globs: Vec<String> = DEFAULT_GLOBS.iter().map(|g| g.to_string()).collect();
    let (reports, problems) = coverage::collect(files, &globs, &[]);
    findings.push(coverage::run(files, &reports));
    Probed {
        findings,
        coverage: coverage::summarise(&reports),
        problems: problems.iter().map(Diagnostic::to_string).collect(),
    }
}

/// Evidence as `assess --json` shows it: path, line and the English note.
fn notes(evidence: &[Evidence]) -> Vec<(Option<String>, Option<usize>, String)> {
    evidence
        .iter()
        .map(|e| (e.path.clone(), e.line, e.note.english()))
        .collect()
}

/// `got == want`, failing on the first finding that differs.
fn assert_same(got: &Probed, want: &Probed, name: &str) {
    for (g, w) in got.findings.iter().zip(&want.findings) {
        assert_eq!(g, w, "{name}: {}", w.probe);
    }
    assert_eq!(got.findings.len(), want.findings.len(), "{name}");
    assert_eq!(got.coverage, want.coverage, "{name}");
    assert_eq!(got.problems, want.problems, "{name}");
}

fn git(dir: &Path, args: &[&str]) -> String {
    Repo {
        dir: dir.to_path_buf(),
    }
    .git(args, &[])
}

/// Copies `from` into a new repository at `dir` and commits every file
/// (ignored ones too) at a fixed date; returns the commit.
fn commit_folder(from: &Path, dir: &Path) -> String {
    let r = Repo::init(dir);
    copy_tree(from, dir);
    r.commit_all("fixture", "2024-05-01T00:00:00Z")
}

fn copy_tree(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        let kind = entry.file_type().unwrap();
        if kind.is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            copy_tree(&entry.path(), &target);
        } else if kind.is_symlink() {
            std::os::unix::fs::symlink(std::fs::read_link(entry.path()).unwrap(), &target).unwrap();
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// `git clone --bare` of `repo` beside it, and a fresh checkout of that clone.
fn clones(repo: &Path) -> (PathBuf, PathBuf) {
    let bare = repo.with_extension("git");
    let checkout = repo.with_extension("checkout");
    for (dir, bare_flag) in [(&bare, true), (&checkout, false)] {
        if dir.exists() {
            std::fs::remove_dir_all(dir).unwrap();
        }
        let mut cmd = Command::new("git");
        cmd.env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .args(["clone", "-q"]);
        if bare_flag {
            cmd.arg("--bare").arg(repo);
        } else {
            cmd.arg(&bare);
        }
        assert!(cmd.arg(dir).status().unwrap().success());
    }
    (bare, checkout)
}

/// Probes `folder` as a checkout and as a bare clone of a commit of it:
/// both must conclude the same, and the bare one must say what it read.
fn assert_bare_reads_like_the_checkout(folder: &Path, name: &str) -> Probed {
    let repo = scratch(&format!("bare-{name}"));
    let sha = commit_folder(folder, &repo);
    let (bare, checkout) = clones(&repo);

    let in_checkout = RepoFiles::open(Some(&checkout), None);
    assert_eq!(in_checkout.source.source, SourceKind::WorkTree, "{name}");
    assert_eq!(in_checkout.source.description.english(), "work tree");
    let from_checkout = probed(&in_checkout);

    let in_bare = RepoFiles::open(Some(&bare), None);
    assert_eq!(in_bare.unavailable, None, "{name}");
    assert_eq!(in_bare.source.source, SourceKind::Bare, "{name}");
    assert_eq!(in_bare.source.reference.as_deref(), Some("main"));
    assert_eq!(in_bare.source.commit.as_deref(), Some(sha.as_str()));
    assert_eq!(
        in_bare.source.description.english(),
        format!("tree of `main` at `{}` in a bare repository", &sha[..7])
    );
    assert!(!in_bare.paths.is_empty(), "{name}");
    assert_eq!(in_bare.paths, in_checkout.paths, "{name}: listed files");
    let from_bare = probed(&in_bare);
    assert_same(&from_bare, &from_checkout, name);
    from_bare
}

#[test]
fn every_probe_fixture_reads_the_same_from_its_bare_clone() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/probes");
    let mut names: Vec<String> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names.len(), 25, "the fixtures of tests/probes.rs");
    let mut lines_read = 0;
    for name in &names {
        let folder = root.join(name);
        let from_bare = assert_bare_reads_like_the_checkout(&folder, name);
        // The commit holds the whole fixture: its own folder probes the same.
        assert_same(&from_bare, &probed(&RepoFiles::scan(&folder)), name);
        lines_read += from_bare
            .findings
            .iter()
            .flat_map(|f| &f.evidence)
            .filter(|e| e.line.is_some())
            .count();
    }
    // Blobs were read: evidence points into files' lines.
    assert!(lines_read > 50, "{lines_read} lines");
}

/// The walk's corner cases: skipped and test-data folders, a Cargo `target/`
/// (skipped by coverage) beside a Maven one (searched), a symbolic link, a
/// file over the size limit, a malformed report, names that sort differently
/// as strings and as paths, and invalid UTF-8.
#[test]
fn corner_cases_of_the_walk_read_the_same_from_a_bare_clone() {
    let folder = scratch("bare-corners-src");
    if folder.exists() {
        std::fs::remove_dir_all(&folder).unwrap();
    }
    let cov = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/coverage");
    let lcov = std::fs::read_to_string(cov.join("lcov.info")).unwrap();
    let jacoco = std::fs::read_to_string(cov.join("jacoco.xml")).unwrap();
    let big = format!(
        "on: push\njobs:\n  t:\n    steps:\n{}      - run: cargo test\n",
        "      - run: echo padding\n".repeat(90_000)
    );
    assert!(big.len() > 2 * 1024 * 1024);
    let files: Vec<(&str, Vec<u8>)> = vec![
        ("a-b/lcov.info", lcov.clone().into_bytes()),
        ("a/b/lcov.info", lcov.clone().into_bytes()),
        ("svc/target/site/jacoco/jacoco.xml", jacoco.into_bytes()),
        ("svc/target/CACHEDIR.TAG", Vec::new()),
        ("rust/target/CACHEDIR.TAG", b"Signature: 8a477f597d28d172789f06886806bc55".to_vec()),
        ("rust/target/lcov.info", lcov.clone().into_bytes()),
        ("testdata/lcov.info", lcov.clone().into_bytes()),
        ("dist/coverage.xml", b"<coverage".to_vec()),
        ("broken/coverage.out", b"not a profile\n".to_vec()),
        ("vendor/x/Dockerfile", b"FROM scratch\n".to_vec()),
        ("node_modules/y/Dockerfile", b"FROM scratch\n".to_vec()),
        ("fixtures/Dockerfile", b"FROM scratch\n".to_vec()),
        (".github/workflows/big.yml", big.into_bytes()),
        (
            ".github/workflows/ci.yml",
            b"on: [pull_request]\njobs:\n  t:\n    steps:\n      - uses: actions/checkout@v4\n      - run: cargo clippy -- -D warnings\n".to_vec(),
        ),
        ("app/Dockerfile", b"FROM rust:1.80 AS build\n\xff\xfe RUN cargo build\nFROM debian:12\nUSER app\nHEALTHCHECK CMD true\n".to_vec()),
        ("tests/a.rs", b"#[test] fn t() {}\n".to_vec()),
    ];
    for (path, bytes) in &files {
        let p = folder.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, bytes).unwrap();
    }
    // Correct the Maven folder: it has no CACHEDIR.TAG (Cargo's has one).
    std::fs::remove_file(folder.join("svc/target/CACHEDIR.TAG")).unwrap();
    std::os::unix::fs::symlink("../app/Dockerfile", folder.join("a/Dockerfile")).unwrap();

    let got = assert_bare_reads_like_the_checkout(&folder, "corners");

    // Worked out by hand: the reports found, in path order (`a/b` before `a-b`),
    // Maven's target searched, Cargo's and test data not, `dist/` skipped.
    let reports: Vec<&str> = got
        .coverage
        .as_ref()
        .unwrap()
        .reports
        .iter()
        .map(|r| r.path.as_str())
        .collect();
    assert_eq!(
        reports,
        [
            "a/b/lcov.info",
            "a-b/lcov.info",
            "svc/target/site/jacoco/jacoco.xml"
        ]
    );
    assert_eq!(got.problems.len(), 1, "{:?}", got.problems);
    assert!(
        got.problems[0].starts_with("broken/coverage.out"),
        "{:?}",
        got.problems
    );
    // The big workflow is over the size limit: its test step is not read.
    let tests_run = got
        .findings
        .iter()
        .find(|f| f.probe == "ci.tests-run")
        .unwrap();
    assert_eq!(
        (tests_run.outcome, notes(&tests_run.evidence)),
        (
            Outcome::Fail,
            vec![(
                None,
                None,
                "no match in .github/workflows/big.yml, .github/workflows/ci.yml".to_string()
            )]
        )
    );
    let pinned = got
        .findings
        .iter()
        .find(|f| f.probe == "security.actions-pinned")
        .unwrap();
    assert_eq!(
        notes(&pinned.evidence),
        [(
            Some(".github/workflows/ci.yml".to_string()),
            Some(5),
            "actions/checkout@v4 is not pinned by sha".to_string()
        )]
    );
}

#[test]
fn a_bare_repository_whose_head_names_a_missing_branch_is_a_note() {
    let repo = scratch("bare-missing-head");
    let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/probes/ci-pass");
    commit_folder(&folder, &repo);
    let (bare, _) = clones(&repo);
    git(&bare, &["symbolic-ref", "HEAD", "refs/heads/master"]);

    let files = RepoFiles::open(Some(&bare), None);
    let why = "HEAD names the branch `master`, which does not exist in this repository; \
               its branches are `main`: set `ref` on its [[repos]] entry to the one to read";
    assert_eq!(
        files.unavailable.as_ref().map(Message::english).as_deref(),
        Some(why)
    );
    assert_eq!(files.source.source, SourceKind::Unavailable);
    assert_eq!(
        files.source.description.english(),
        format!("no files read: {why}")
    );
    for f in probed(&files).findings {
        assert_eq!(f.outcome, Outcome::Unknown, "{}", f.probe);
        assert_eq!(
            notes(&f.evidence),
            [(None, None, why.to_string())],
            "{}",
            f.probe
        );
    }

    // Through `assess`: the table says it, and the report carries it.
    let out = opsmeter()
        .args([
            "assess",
            "--since",
            "2024-01-01",
            "--until",
            "2024-06-01",
            "--repo",
        ])
        .arg(&bare)
        .assert()
        .success();
    let table = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    assert!(
        table.contains(&format!("  files: no files read: {why}\n")),
        "{table}"
    );
}

#[test]
fn assess_reports_where_it_read_the_files_and_honours_ref() {
    let repo = scratch("bare-assess");
    let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/probes/ci-pass");
    let first = commit_folder(&folder, &repo);
    let r = Repo {
        dir: repo.to_path_buf(),
    };
    r.tag("v1.0.0", &first);
    // A second commit removes the workflows: HEAD fails CI, the tag passes.
    r.git(&["rm", "-q", "-r", ".github"], &[]);
    let second = r.commit_all("drop ci", "2024-05-02T00:00:00Z");
    let (bare, _) = clones(&repo);

    let report = |extra_config: &str| -> Value {
        let site = config_site(&format!(
            "title = \"t\"\n[[repos]]\nname = \"shop\"\npath = {:?}\n{extra_config}",
            bare.display().to_string()
        ));
        assess_site_json(site.path(), "2024-01-01", "2024-06-01", &[])
    };
    let ci = |v: &Value| -> String {
        v["repos"][0]["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["probe"] == "ci.config-present")
            .unwrap()["outcome"]
            .as_str()
            .unwrap()
            .to_string()
    };

    let head = report("");
    assert_eq!(
        head["repos"][0]["files"],
        serde_json::json!({
            "source": "bare",
            "ref": "main",
            "commit": second,
            "description": format!("tree of `main` at `{}` in a bare repository", &second[..7]),
        })
    );
    assert_eq!(ci(&head), "fail");

    let tagged = report("ref = \"v1.0.0\"\n");
    assert_eq!(
        tagged["repos"][0]["files"],
        serde_json::json!({
            "source": "bare",
            "ref": "v1.0.0",
            "commit": first,
            "description": format!("tree of `v1.0.0` at `{}` in a bare repository", &first[..7]),
        })
    );
    assert_eq!(ci(&tagged), "pass");

    // In a checkout, `ref` reads that commit's tree rather than the work tree.
    let in_checkout = RepoFiles::open(Some(&repo), Some("v1.0.0"));
    assert_eq!(in_checkout.source.source, SourceKind::GitTree);
    assert_eq!(
        in_checkout.source.description.english(),
        format!(
            "tree of `v1.0.0` at `{}` (the `ref` setting; the work tree is not read)",
            &first[..7]
        )
    );
    assert!(in_checkout
        .paths
        .contains(&".github/workflows/ci.yml".to_string()));
    assert!(!RepoFiles::scan(&repo)
        .paths
        .contains(&".github/workflows/ci.yml".to_string()));

    let typo = report("ref = \"v9\"\n");
    assert_eq!(typo["repos"][0]["files"]["source"], "unavailable");
    assert_eq!(
        typo["repos"][0]["files"]["description"],
        "no files read: `ref = \"v9\"` names no branch, tag or commit of this repository; \
         its branches are `main`: set `ref` on its [[repos]] entry to the one to read"
    );
    assert_eq!(ci(&typo), "unknown");
}

#[test]
fn the_report_page_says_where_the_files_were_read_in_both_languages() {
    let repo = scratch("bare-site");
    let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/probes/ci-pass");
    let sha = commit_folder(&folder, &repo);
    // A tag name is data from the repository: it must come out escaped.
    Repo {
        dir: repo.to_path_buf(),
    }
    .tag("rel<i>", &sha);
    let (bare, _) = clones(&repo);
    let entry = |name: &str, reference: &str| {
        format!(
            "[[repos]]\nname = \"{name}\"\npath = {:?}\nweb_url = \"https://github.com/acme/{name}\"\n{reference}",
            bare.display().to_string()
        )
    };
    // Report pages are written in the site's default language.
    let build = |language: &str| {
        let site = config_site(&format!(
            "title = \"t\"\ndefault_language = \"{language}\"\n{}\n{}",
            entry("shop", ""),
            entry("tagged", "ref = \"rel<i>\"\n")
        ));
        opsmeter()
            .arg("--root")
            .arg(site.path())
            .args(["build", "--since", "2024-01-01", "--until", "2024-06-01"])
            .assert()
            .success();
        let page =
            |rel: &str| std::fs::read_to_string(site.path().join("public").join(rel)).unwrap();
        (
            page("repos/shop/index.html"),
            page("repos/tagged/index.html"),
        )
    };
    let short = &sha[..7];
    let (en, tagged) = build("en");
    assert!(
        en.contains(&format!(
            "<dt>Files</dt><dd>tree of main at {short} in a bare repository</dd>"
        )),
        "{en}"
    );
    // Evidence links point to the file at the commit that was read.
    assert!(
        en.contains(&format!(
            "href=\"https://github.com/acme/shop/blob/{sha}/.github/workflows/ci.yml#L"
        )),
        "{en}"
    );
    let (zh, _) = build("zh");
    assert!(
        zh.contains(&format!(
            "<dt>文件</dt><dd>裸仓库中 main 在 {short} 的文件树</dd>"
        )),
        "{zh}"
    );
    assert!(
        tagged.contains(&format!(
            "<dd>tree of rel&lt;i&gt; at {short} in a bare repository</dd>"
        )),
        "{tagged}"
    );
    assert!(!tagged.contains("rel<i>"));
}
