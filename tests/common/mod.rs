//! Fixture repositories for integration tests, built with the real `git`
//! and fixed dates, shared by all tests of one test binary.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// A git repository under construction.
pub struct Repo {
    pub dir: PathBuf,
}

pub const BOT: &str = "dependabot[bot]";
pub const HUMAN: &str = "Ada Lovelace";

impl Repo {
    pub fn init(dir: &Path) -> Repo {
        if dir.exists() {
            std::fs::remove_dir_all(dir).unwrap();
        }
        std::fs::create_dir_all(dir).unwrap();
        let r = Repo {
            dir: dir.to_path_buf(),
        };
        r.git(&["init", "-q", "-b", "main"], &[]);
        r
    }

    /// Runs git with a fixed identity and no user configuration; returns stdout.
    pub fn git(&self, args: &[&str], env: &[(&str, &str)]) -> String {
        let mut cmd = Command::new("git");
        cmd.current_dir(&self.dir)
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_AUTHOR_NAME", HUMAN)
            .env("GIT_AUTHOR_EMAIL", "ada@example.org")
            .env("GIT_COMMITTER_NAME", HUMAN)
            .env("GIT_COMMITTER_EMAIL", "ada@example.org")
            .args(["-c", "commit.gpgsign=false", "-c", "tag.gpgsign=false"])
            .args(args);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let out = cmd.output().expect("git runs");
        assert!(
            out.status.success(),
            "git {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// Commits a change to a file; returns the full sha.
    pub fn commit(
        &self,
        message: &str,
        author: &str,
        author_date: &str,
        committer_date: &str,
    ) -> String {
        // One new file per commit, so branches merge without conflicts.
        let name: String = format!("{author_date} {}", message.lines().next().unwrap_or(""))
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect();
        let file = format!("{name}.txt");
        std::fs::write(self.dir.join(&file), message).unwrap();
        self.git(&["add", &file], &[]);
        self.git(
            &["commit", "-q", "-m", message],
            &[
                ("GIT_AUTHOR_NAME", author),
                ("GIT_AUTHOR_DATE", author_date),
                ("GIT_COMMITTER_DATE", committer_date),
            ],
        );
        self.head()
    }

    pub fn head(&self) -> String {
        self.git(&["rev-parse", "HEAD"], &[]).trim().to_string()
    }

    pub fn tag(&self, name: &str, rev: &str) {
        self.git(&["tag", name, rev], &[]);
    }

    /// An annotated tag; its tagger date is `date`.
    pub fn tag_annotated(&self, name: &str, rev: &str, date: &str) {
        self.git(
            &["tag", "-a", "-m", name, name, rev],
            &[("GIT_COMMITTER_DATE", date)],
        );
    }
}

/// A new site folder (removed when dropped) whose `opsmeter.toml` is `config`.
pub fn config_site(config: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("opsmeter.toml"), config).unwrap();
    dir
}

/// Runs `git args` in `dir` with `input` on its standard input; its output.
pub fn git_with_input(dir: &Path, args: &[&str], input: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut child = std::process::Command::new("git")
        .current_dir(dir)
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "git {args:?}");
    out.stdout
}

/// Every file under `dir`, with its bytes.
pub fn tree(dir: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .map(Result::unwrap)
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            let rel = e.path().strip_prefix(dir).unwrap();
            (
                rel.to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect()
}

/// A per-binary scratch folder under cargo's target tmp dir.
pub fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("fixtures")
        .join(name);
    std::fs::create_dir_all(dir.parent().unwrap()).unwrap();
    dir
}

/// Linear history: baseline, a release with a bot commit and a commit authored
/// in UTC+8, a fix release, and a release that reverts a shipped change.
/// Returns the repository and the shas of c2 (reverted) and c5 (the revert).
pub fn linear(dir: &Path) -> (Repo, String, String) {
    let r = Repo::init(dir);
    let c1 = r.commit(
        "initial import",
        HUMAN,
        "2024-01-01T00:00:00Z",
        "2024-01-01T00:00:00Z",
    );
    r.tag("v1.0.0", &c1);
    let c2 = r.commit(
        "add feature",
        HUMAN,
        "2024-01-02T00:00:00Z",
        "2024-01-02T00:00:00Z",
    );
    r.commit(
        "add parser",
        HUMAN,
        "2024-01-03T00:00:00+08:00",
        "2024-01-03T00:00:00Z",
    );
    let b1 = r.commit(
        "bump serde",
        BOT,
        "2024-01-03T06:00:00Z",
        "2024-01-03T06:00:00Z",
    );
    r.tag_annotated("v1.1.0", &b1, "2024-01-04T00:00:00Z");
    let c4 = r.commit(
        "fix: crash on empty input",
        HUMAN,
        "2024-01-05T00:00:00Z",
        "2024-01-06T00:00:00Z",
    );
    r.tag("v1.2.0", &c4);
    r.tag("v2.0.0-rc1", &c4);
    r.tag("nightly", &c4);
    let c5 = r.commit(
        &format!(
            "Revert \"add feature\"\n\nThis reverts commit {}.",
            &c2[..10]
        ),
        HUMAN,
        "2024-01-07T00:00:00Z",
        "2024-01-07T00:00:00Z",
    );
    r.tag("v1.3.0", &c5);
    (r, c2, c5)
}

/// Release branches and maintenance tags, a merge, a late tag on an older
/// commit, and two tags with the same time.
pub fn branches(dir: &Path) -> Repo {
    let r = Repo::init(dir);
    let m1 = r.commit("m1", HUMAN, "2024-02-01T00:00:00Z", "2024-02-01T00:00:00Z");
    r.tag_annotated("v1.0.0", &m1, "2024-02-01T00:00:00Z");
    let m2 = r.commit("m2", HUMAN, "2024-02-02T00:00:00Z", "2024-02-02T00:00:00Z");
    r.tag_annotated("v1.1.0", &m2, "2024-02-05T00:00:00Z");
    r.git(&["checkout", "-q", "-b", "release-1.0", &m1], &[]);
    let r1 = r.commit(
        "r1 backport",
        HUMAN,
        "2024-02-03T00:00:00Z",
        "2024-02-03T00:00:00Z",
    );
    r.tag_annotated("v1.0.1", &r1, "2024-02-04T00:00:00Z");
    r.git(&["checkout", "-q", "main"], &[]);
    r.git(
        &[
            "merge",
            "-q",
            "--no-ff",
            "-m",
            "Merge branch 'release-1.0'",
            "release-1.0",
        ],
        &[
            ("GIT_AUTHOR_DATE", "2024-02-06T00:00:00Z"),
            ("GIT_COMMITTER_DATE", "2024-02-06T00:00:00Z"),
        ],
    );
    let m3 = r.commit("m3", HUMAN, "2024-02-07T00:00:00Z", "2024-02-07T00:00:00Z");
    r.tag_annotated("v1.2.0", &m3, "2024-02-08T00:00:00Z");
    r.tag_annotated("v0.9.0", &m2, "2024-02-09T00:00:00Z");
    let m4 = r.commit("m4", HUMAN, "2024-02-10T00:00:00Z", "2024-02-11T00:00:00Z");
    r.tag("v1.3.1", &m4);
    r.tag("v1.3.0", &m4);
    r
}

// ---------------------------------------------------------------- the binary

/// The real `opsmeter` binary (compiled once by cargo for every test binary),
/// without the environment a test must not inherit: the log filter and tokens.
pub fn opsmeter() -> assert_cmd::Command {
    let mut c = assert_cmd::Command::cargo_bin("opsmeter").unwrap();
    c.env_remove("OPSMETER_LOG")
        .env_remove("GITHUB_TOKEN")
        .env_remove("GITLAB_TOKEN");
    c
}

/// `opsmeter assess --json` over `[since, until)`, then `args` (`--root DIR`,
/// `--repo PATH`, `--lenient`, …); it must succeed. The parsed report.
pub fn assess_json(since: &str, until: &str, args: &[&std::ffi::OsStr]) -> serde_json::Value {
    let out = opsmeter()
        .args(["assess", "--json", "--since", since, "--until", until])
        .args(args)
        .assert()
        .success();
    serde_json::from_slice(&out.get_output().stdout).unwrap()
}

/// [`assess_json`] over the site at `root` (`--root ROOT`), then `extra`
/// (`--lenient`, `--benchmarks dora-2021`, …); it must succeed.
pub fn assess_site_json(
    root: &Path,
    since: &str,
    until: &str,
    extra: &[&str],
) -> serde_json::Value {
    assess_json(since, until, &with_extra("--root", root, extra))
}

/// [`assess_json`] over the one repository at `repo` (`--repo PATH`), then
/// `extra`; it must succeed.
pub fn assess_repo_json(
    repo: &Path,
    since: &str,
    until: &str,
    extra: &[&str],
) -> serde_json::Value {
    assess_json(since, until, &with_extra("--repo", repo, extra))
}

fn with_extra<'a>(flag: &'a str, path: &'a Path, extra: &'a [&'a str]) -> Vec<&'a std::ffi::OsStr> {
    let mut args = vec![std::ffi::OsStr::new(flag), path.as_os_str()];
    args.extend(extra.iter().map(std::ffi::OsStr::new));
    args
}

impl Repo {
    /// Writes `files` (path, content) and commits them with author and committer
    /// date `date`; returns the full sha.
    pub fn commit_files(&self, files: &[(&str, &str)], message: &str, date: &str) -> String {
        for (path, content) in files {
            let p = self.dir.join(path);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(&p, content).unwrap();
            self.git(&["add", path], &[]);
        }
        self.commit_staged(message, date)
    }

    /// Commits everything in the work tree, ignored files too, with author and
    /// committer date `date`; returns the full sha.
    pub fn commit_all(&self, message: &str, date: &str) -> String {
        self.git(&["add", "-A", "-f"], &[]);
        self.commit_staged(message, date)
    }

    fn commit_staged(&self, message: &str, date: &str) -> String {
        self.git(
            &["commit", "-q", "-m", message],
            &[("GIT_AUTHOR_DATE", date), ("GIT_COMMITTER_DATE", date)],
        );
        self.head()
    }
}

/// The monorepo fixture of issue #16 (all times UTC, author = committer time):
///
/// ```text
/// c0  03-01 00:00  root: every service's files, libs/money, README    tags payments-v1.0.0, orders/v1.0.0, web-v1.0.0, v1.0.0
/// c1  03-02 00:00  services/payments/main.go
/// c2  03-03 00:00  services/orders/main.go
/// c3  03-04 00:00  libs/money/money.go (shared: payments and orders)
///                                                   payments-v1.1.0 on c3, tagged 03-05 00:00
/// c4  03-06 00:00  apps/web/index.ts
/// c5  03-07 00:00  services/payments/api.go + apps/web/client.ts (cross-service)
///                                                   orders/v1.1.0 on c5, tagged 03-08 00:00
///                                                   web-v1.1.0 on c5, tagged 03-08 12:00
/// c6  03-09 00:00  services/worker/job.go
/// c6b 03-09 06:00  cmd/cli/main.go                  v1.1.0 on c6b, tagged 03-09 12:00
/// c7  03-10 00:00  reverts c1 (services/payments/main.go)
///                                                   payments-v1.2.0 on c7, tagged 03-11 00:00
///                                                   v1.2.0 on c7, tagged 03-11 06:00
/// ```
///
/// Services: payments (`services/payments/**`, `libs/money/**`, tags
/// `payments-v…`), orders (`services/orders/**`, `libs/money/**`, tags
/// `orders/v…`), web (`apps/web/**`, tags `web-v…`), worker
/// (`services/worker/**`) and cli (`cmd/cli/**`) without tags of their own.
/// Returns the repository and the shas c0..c7 (c6b at index 7, c7 at 8).
pub fn monorepo(dir: &Path) -> (Repo, Vec<String>) {
    let r = Repo::init(dir);
    let mut c = Vec::new();
    c.push(r.commit_files(
        &[
            ("services/payments/main.go", "package main // v1\n"),
            (
                "services/payments/Dockerfile",
                "FROM golang:1.22\nUSER app\n",
            ),
            ("services/orders/main.go", "package main // v1\n"),
            ("services/worker/job.go", "package main // v1\n"),
            ("apps/web/index.ts", "export {}; // v1\n"),
            ("cmd/cli/main.go", "package main // v1\n"),
            ("libs/money/money.go", "package money // v1\n"),
            ("README.md", "# mono\n"),
        ],
        "initial import",
        "2024-03-01T00:00:00Z",
    ));
    for t in ["payments-v1.0.0", "orders/v1.0.0", "web-v1.0.0", "v1.0.0"] {
        r.tag(t, &c[0]);
    }
    c.push(r.commit_files(
        &[("services/payments/main.go", "package main // v2\n")],
        "payments: retry card declines",
        "2024-03-02T00:00:00Z",
    ));
    c.push(r.commit_files(
        &[("services/orders/main.go", "package main // v2\n")],
        "orders: paginate",
        "2024-03-03T00:00:00Z",
    ));
    c.push(r.commit_files(
        &[("libs/money/money.go", "package money // v2\n")],
        "money: round half to even",
        "2024-03-04T00:00:00Z",
    ));
    r.tag_annotated("payments-v1.1.0", &c[3], "2024-03-05T00:00:00Z");
    c.push(r.commit_files(
        &[("apps/web/index.ts", "export {}; // v2\n")],
        "web: new header",
        "2024-03-06T00:00:00Z",
    ));
    c.push(r.commit_files(
        &[
            ("services/payments/api.go", "package main // api\n"),
            ("apps/web/client.ts", "export const api = 1;\n"),
        ],
        "payments API and its web client",
        "2024-03-07T00:00:00Z",
    ));
    r.tag_annotated("orders/v1.1.0", &c[5], "2024-03-08T00:00:00Z");
    r.tag_annotated("web-v1.1.0", &c[5], "2024-03-08T12:00:00Z");
    c.push(r.commit_files(
        &[("services/worker/job.go", "package main // v2\n")],
        "worker: nightly job",
        "2024-03-09T00:00:00Z",
    ));
    c.push(r.commit_files(
        &[("cmd/cli/main.go", "package main // v2\n")],
        "cli: --verbose",
        "2024-03-09T06:00:00Z",
    ));
    r.tag_annotated("v1.1.0", &c[7], "2024-03-09T12:00:00Z");
    let revert = format!(
        "Revert \"payments: retry card declines\"\n\nThis reverts commit {}.",
        c[1]
    );
    c.push(r.commit_files(
        &[("services/payments/main.go", "package main // v1\n")],
        &revert,
        "2024-03-10T00:00:00Z",
    ));
    r.tag_annotated("payments-v1.2.0", &c[8], "2024-03-11T00:00:00Z");
    r.tag_annotated("v1.2.0", &c[8], "2024-03-11T06:00:00Z");
    (r, c)
}

/// The services of [`monorepo`] as configuration.
pub const MONOREPO_SERVICES: &str = r#"
[[repos.services]]
name = "payments"
paths = ["services/payments/**", "libs/money/**"]
tag_pattern = '^payments-v\d+\.\d+\.\d+$'

[[repos.services]]
name = "orders"
paths = ["services/orders/**", "libs/money/**"]
tag_pattern = '^orders/v\d+\.\d+\.\d+$'

[[repos.services]]
name = "web"
paths = ["apps/web/**"]
tag_pattern = '^web-v\d+\.\d+\.\d+$'

[[repos.services]]
name = "worker"
paths = ["services/worker/**"]

[[repos.services]]
name = "cli"
paths = ["cmd/cli/**"]
"#;
