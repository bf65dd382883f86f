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
