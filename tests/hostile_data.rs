//! Careless and hostile input, the data side (issue 11, items 3, 8, 9, 10, 12
//! and the symbolic-link proof): stored facts, numbers in the configuration,
//! a closed or full standard output, malformed commits, events files with a
//! byte-order mark, failed writes and planted links. Each test runs the real
//! binary and asserts the exit code, the message (file, and line where there
//! is one), that nothing panicked, and what exists or is unchanged on disk.

mod common;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use common::{opsmeter, Repo, HUMAN};
use serde_json::{json, Value};

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run(root: &Path, args: &[&str]) -> Run {
    let out = opsmeter()
        .arg("--root")
        .arg(root)
        .args(args)
        .output()
        .unwrap();
    let run = Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    run
}

/// Every entry (file, folder or link) under `dir`, relative, sorted.
fn entries(dir: &Path) -> Vec<String> {
    let mut out: Vec<String> = walkdir::WalkDir::new(dir)
        .min_depth(1)
        .into_iter()
        .map(|e| {
            let e = e.unwrap();
            e.path()
                .strip_prefix(dir)
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    out.sort();
    out
}

fn write(path: &Path, text: impl AsRef<[u8]>) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

// ------------------------------------------------ 3. stored facts are validated on load

/// Two deployments, a change shipped by the second, an incident it caused and
/// a pull request it shipped: every index field set, all in range.
fn good_facts() -> Value {
    json!({
        "schema_version": 1,
        "collected_at": "2024-03-01T00:00:00Z",
        "facts": {
            "name": "acme/api",
            "deployments": [
                {"ref": "v1.0.0", "sha": null, "time": "2024-01-01T00:00:00Z", "source": "tag", "status": "success"},
                {"ref": "v1.1.0", "sha": null, "time": "2024-01-10T00:00:00Z", "source": "tag", "status": "success"}
            ],
            "changes": [
                {"sha": "a".repeat(40), "author_time": "2024-01-05T00:00:00Z", "deployment": 1,
                 "fix": false, "reverts_deployment": null, "revert": false},
                {"sha": "b".repeat(40), "author_time": "2024-01-06T00:00:00Z", "deployment": 1,
                 "fix": false, "reverts_deployment": 0, "revert": true}
            ],
            "incidents": [
                {"id": "i1", "started_at": "2024-01-11T00:00:00Z", "resolved_at": "2024-01-11T06:00:00Z",
                 "cause_deployment": 1}
            ],
            "notes": [],
            "pull_requests": [
                {"number": 7, "title": "feat: x", "author": "ada", "branch": "x",
                 "created_at": "2024-01-04T00:00:00Z", "merged_at": "2024-01-06T00:00:00Z",
                 "first_commit_at": null, "first_response_at": null, "additions": 1, "deletions": 0,
                 "merge_sha": null, "revert": false, "reverts": null, "deployment": 1}
            ],
            "collection": {"host": "github", "project": "acme/api", "api_url": "https://api.github.com", "cursor": null}
        }
    })
}

/// A site whose one repository is a GitHub entry: `assess` and `build` read its stored facts.
fn facts_site(dir: &Path, facts: &Value) -> PathBuf {
    let root = dir.join("site");
    write(
        &root.join("opsmeter.toml"),
        "title = \"Delivery\"\n\n[[repos]]\ngithub = \"acme/api\"\n",
    );
    write(
        &root.join("content/_index.md"),
        "+++\ntitle = \"Home\"\n+++\nHello.\n",
    );
    write(
        &root.join("data/facts/acme-api.json"),
        serde_json::to_vec_pretty(facts).unwrap(),
    );
    root
}

const WINDOW: [&str; 4] = ["--since", "2024-01-01", "--until", "2024-02-01"];

/// The facts every refusal below starts from are read, with the metrics
/// their indices give (so the validation refuses only what is wrong).
fn assert_good_facts_are_assessed() {
    let dir = tempfile::tempdir().unwrap();
    let root = facts_site(dir.path(), &good_facts());
    let mut args = vec!["assess", "--json"];
    args.extend(WINDOW);
    let r = run(&root, &args);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let report: Value = serde_json::from_str(&r.stdout).unwrap();
    let dora = &report["repos"][0]["dora"];
    // Both deployments are in January. v1.0.0 is failed by the revert v1.1.0
    // ships (changes[1] reverts deployment 0), v1.1.0 by i1 (its cause): 2 of 2.
    assert_eq!(dora["deployment_count"], 2);
    assert_eq!(dora["change_failure_rate"], 1.0);
    let failed: Vec<&Value> = report["repos"][0]["deployments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| &d["failed"])
        .collect();
    assert_eq!(failed, [&json!(true), &json!(true)]);
    // Lead times: 2024-01-10 minus 01-05 = 120 h, minus 01-06 = 96 h; median 108 h.
    assert_eq!(dora["lead_time_hours"]["values"], json!([96.0, 120.0]));
    assert_eq!(dora["lead_time_hours"]["median"], 108.0);
}

/// Every index into the deployments, out of range, and the shapes that
/// would break the metrics (no deployments, deployments out of time order):
/// `assess` and `build` exit 1 naming the file and the entry, nothing is
/// written, and the facts file is left as it was.
#[test]
fn facts_with_an_index_out_of_range_are_refused_naming_the_file_and_entry() {
    type Edit = fn(&mut Value);
    let cases: Vec<(&str, Edit, &str)> = vec![
        (
            "change's deployment",
            |f| f["changes"][1]["deployment"] = json!(2),
            "changes[1].deployment is 2, but there are 2 deployments (indices 0 to 1)",
        ),
        (
            "revert's target",
            |f| f["changes"][1]["reverts_deployment"] = json!(5),
            "changes[1].reverts_deployment is 5, but there are 2 deployments (indices 0 to 1)",
        ),
        (
            "incident's cause",
            |f| f["incidents"][0]["cause_deployment"] = json!(9),
            "incidents[0].cause_deployment is 9, but there are 2 deployments (indices 0 to 1)",
        ),
        (
            "pull request's deployment",
            |f| f["pull_requests"][0]["deployment"] = json!(2),
            "pull_requests[0].deployment is 2, but there are 2 deployments (indices 0 to 1)",
        ),
        (
            "no deployments",
            |f| {
                f["deployments"] = json!([]);
                f["incidents"][0]["cause_deployment"] = Value::Null;
                f["pull_requests"][0]["deployment"] = Value::Null;
            },
            "changes[0].deployment is 1, but there are no deployments",
        ),
        (
            "one deployment",
            |f| {
                let first = f["deployments"][0].clone();
                f["deployments"] = json!([first]);
            },
            "changes[0].deployment is 1, but there is 1 deployment (the only index is 0)",
        ),
        (
            "deployments out of time order",
            |f| f["deployments"][1]["time"] = json!("2023-12-01T00:00:00Z"),
            "deployments[1] (v1.1.0, 2023-12-01T00:00:00Z) is earlier than deployments[0] \
             (v1.0.0, 2024-01-01T00:00:00Z): deployments must be in time order",
        ),
    ];
    assert_good_facts_are_assessed();
    for (what, edit, expected) in cases {
        let dir = tempfile::tempdir().unwrap();
        let mut facts = good_facts();
        edit(&mut facts["facts"]);
        let root = facts_site(dir.path(), &facts);
        let file = root.join("data/facts/acme-api.json");
        let before = std::fs::read(&file).unwrap();
        let message = format!(
            "{}: {expected}; the file was edited or damaged",
            file.display()
        );

        let mut args = vec!["assess", "--json"];
        args.extend(WINDOW);
        let r = run(&root, &args);
        assert_eq!(r.code, 1, "{what}: {}", r.stderr);
        assert!(r.stderr.contains(&message), "{what}: {}", r.stderr);
        assert_eq!(r.stdout, "", "{what}");

        let mut args = vec!["build"];
        args.extend(WINDOW);
        let r = run(&root, &args);
        assert_eq!(r.code, 1, "{what}: {}", r.stderr);
        assert!(r.stderr.contains(&message), "{what}: {}", r.stderr);
        assert!(
            !root.join("public").exists(),
            "{what}: a failed build wrote public/"
        );
        assert_eq!(
            std::fs::read(&file).unwrap(),
            before,
            "{what}: facts changed"
        );
    }
}

// ------------------------------------------------ 8. numbers in the configuration

/// The one repository of the config tests: an events file, so no git is needed.
const EVENTS_REPO: &str = "[[repos]]\nname = \"payments\"\nevents = [\"events.csv\"]\n";
const EVENTS: &str = "type,id,environment,status,finished_at\n\
                      deployment,d1,production,success,2024-03-01T10:00:00Z\n\
                      deployment,d2,production,success,2024-03-04T10:00:00Z\n";

fn events_site(dir: &Path, config: &str) -> PathBuf {
    let root = dir.join("site");
    write(&root.join("events.csv"), EVENTS);
    write(&root.join("opsmeter.toml"), config);
    root
}

/// Out-of-range, infinite, not-a-number and negative values of every numeric
/// key, and invalid regular expressions: exit 1 with the file, the line of
/// the value, the key and its range. `EVENTS_REPO` takes lines 1 to 3.
#[test]
fn config_numbers_out_of_range_name_the_file_line_and_range() {
    let cases: &[(&str, usize, &str)] = &[
        (
            "[dora]\nwindow_days = 4294967295\n",
            5,
            "dora.window_days must be a whole number from 1 to 36500 (days), got 4294967295",
        ),
        (
            "[dora]\nwindow_days = 0\n",
            5,
            "dora.window_days must be a whole number from 1 to 36500 (days), got 0",
        ),
        (
            "[dora]\nwindow_days = 30.5\n",
            5,
            "dora.window_days must be a whole number from 1 to 36500 (days), got 30.5",
        ),
        (
            "[dora]\nincident_link_max_hours = inf\n",
            5,
            "incident_link_max_hours must be a number from 0 to 8760 (hours), got inf",
        ),
        (
            "[dora]\nincident_link_max_hours = 1e300\n",
            5,
            "incident_link_max_hours must be a number from 0 to 8760 (hours), got 1e300",
        ),
        (
            "[dora]\nincident_link_max_hours = nan\n",
            5,
            "incident_link_max_hours must be a number from 0 to 8760 (hours), got NaN",
        ),
        (
            "[dora]\nincident_link_max_hours = -1\n",
            5,
            "incident_link_max_hours must be a number from 0 to 8760 (hours), got -1",
        ),
        (
            "incident_link_max_hours = -0.5\n",
            4,
            "incident_link_max_hours must be a number from 0 to 8760 (hours), got -0.5",
        ),
        (
            "\n[collect]\nconcurrency = 0\n",
            6,
            "collect.concurrency must be a whole number from 1 to 64 (repositories at a time), got 0",
        ),
        (
            "[collect]\nretries = 1000\n",
            5,
            "collect.retries must be a whole number from 0 to 20 (retries), got 1000",
        ),
        (
            "[collect]\nbackoff_base_ms = -5\n",
            5,
            "collect.backoff_base_ms must be a whole number from 0 to 60000 (milliseconds), got -5",
        ),
        (
            "[collect]\nmax_rate_limit_wait_seconds = 1e9\n",
            5,
            "collect.max_rate_limit_wait_seconds must be a whole number from 0 to 86400 (seconds), got 1000000000.0",
        ),
        (
            "[collect]\ntimeout_seconds = inf\n",
            5,
            "collect.timeout_seconds must be a number from 0.001 to 3600 (seconds), got inf",
        ),
        (
            "[collect]\ntimeout_seconds = \"30\"\n",
            5,
            "collect.timeout_seconds must be a number from 0.001 to 3600 (seconds), got a string",
        ),
        (
            "[dora]\n\ntag_pattern = \"([\"\n",
            6,
            "\"([\" is not a valid regular expression: unclosed character class",
        ),
        (
            "bot_pattern = \"(?P<\"\n",
            4,
            "\"(?P<\" is not a valid regular expression: unclosed capture group name",
        ),
    ];
    for (snippet, line, expected) in cases {
        let dir = tempfile::tempdir().unwrap();
        let root = events_site(dir.path(), &format!("{EVENTS_REPO}{snippet}"));
        let r = run(
            &root,
            &["assess", "--since", "2024-03-01", "--until", "2024-03-08"],
        );
        assert_eq!(r.code, 1, "{snippet}: {}", r.stderr);
        let want = format!("error: opsmeter.toml:{line}: invalid configuration: {expected}\n");
        assert!(r.stderr.contains(&want), "{snippet}: {}", r.stderr);
        assert_eq!(r.stdout, "", "{snippet}");
    }
    assert_config_numbers_at_the_ends_of_their_ranges_run();
}

/// The largest values of the documented ranges are accepted and run, with no
/// date arithmetic overflowing (the default window is 100 years long).
fn assert_config_numbers_at_the_ends_of_their_ranges_run() {
    let dir = tempfile::tempdir().unwrap();
    let root = events_site(
        dir.path(),
        &format!(
            "{EVENTS_REPO}incident_link_max_hours = 0\n[dora]\nwindow_days = 36500\nincident_link_max_hours = 8760\n\
             [collect]\nconcurrency = 64\nretries = 20\nbackoff_base_ms = 60000\n\
             max_rate_limit_wait_seconds = 86400\ntimeout_seconds = 3600\n"
        ),
    );
    let r = run(&root, &["assess", "--json", "--until", "2024-03-08"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let report: Value = serde_json::from_str(&r.stdout).unwrap();
    // 36500 days before 2024-03-08: 100 years of 365 days, less the 24 leap
    // days between (1928 to 2024; 2000 is one, 1924's is before the start): 1924-04-02.
    assert_eq!(report["window"]["until"], "2024-03-08T00:00:00Z");
    assert_eq!(report["window"]["since"], "1924-04-02T00:00:00Z");
    assert_eq!(report["repos"][0]["dora"]["deployment_count"], 2);
    assert_eq!(
        report["repos"][0]["measurement"]["incident_link_max_hours"],
        0.0
    );
}

/// `collect` with an infinite incident window used to write facts and then
/// panic before the history: now it stops before writing anything.
#[test]
fn collect_with_a_number_out_of_range_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let root = events_site(
        dir.path(),
        &format!("{EVENTS_REPO}[dora]\nincident_link_max_hours = inf\n"),
    );
    let r = run(&root, &["collect"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("opsmeter.toml:5: invalid configuration: incident_link_max_hours"),
        "{}",
        r.stderr
    );
    assert_eq!(entries(&root), ["events.csv", "opsmeter.toml"]);
}

/// Benchmark thresholds are numbers too: `nan` would make every tier "low".
#[test]
fn benchmark_thresholds_that_are_not_numbers_name_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let root = events_site(dir.path(), EVENTS_REPO);
    let builtin =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("data/benchmarks.toml"))
            .unwrap();
    let edited = builtin.replacen("at_most = 0.05", "at_most = nan", 1);
    assert_ne!(edited, builtin);
    let line = edited
        .lines()
        .position(|l| l.contains("at_most = nan"))
        .unwrap()
        + 1;
    write(&root.join("data/benchmarks.toml"), &edited);
    let r = run(
        &root,
        &["assess", "--since", "2024-03-01", "--until", "2024-03-08"],
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr.contains(&format!(
            "data/benchmarks.toml:{line}: a rate threshold must be from 0 to 1; got NaN"
        )),
        "{}",
        r.stderr
    );
}

// ------------------------------------------------ 9. a closed or full standard output

/// A repository with two releases: enough for `collect` to have something to say.
fn small_repo(dir: &Path) -> Repo {
    let r = Repo::init(dir);
    let c1 = r.commit("one", HUMAN, "2024-01-01T00:00:00Z", "2024-01-01T00:00:00Z");
    r.tag("v1.0.0", &c1);
    let c2 = r.commit("two", HUMAN, "2024-01-02T00:00:00Z", "2024-01-02T00:00:00Z");
    r.tag("v1.1.0", &c2);
    r
}

/// A site of three local repositories.
fn three_repo_site(dir: &Path) -> PathBuf {
    let root = dir.join("site");
    let mut config = String::from("title = \"Delivery\"\n");
    for name in ["alpha", "beta", "gamma"] {
        small_repo(&root.join(name));
        config.push_str(&format!(
            "\n[[repos]]\nname = \"{name}\"\npath = \"{name}\"\n"
        ));
    }
    write(&root.join("opsmeter.toml"), config);
    write(
        &root.join("content/_index.md"),
        "+++\ntitle = \"Home\"\n+++\nHello.\n",
    );
    root
}

/// Runs opsmeter with its standard output a pipe whose reading end is closed
/// at once (`| true`: the reader is gone before anything is written).
fn run_into_closed_pipe(root: &Path, args: &[&str]) -> (i32, String) {
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("opsmeter"))
        .env_remove("OPSMETER_LOG")
        .env_remove("GITHUB_TOKEN")
        .env_remove("GITLAB_TOKEN")
        .arg("--root")
        .arg(root)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    let status = child.wait().unwrap();
    assert!(!stderr.contains("panicked"), "{stderr}");
    (status.code().unwrap_or(-1), stderr)
}

/// `collect | head -1`: the reader goes away, every repository is still
/// stored (facts and history), and the command ends quietly with exit 0.
#[test]
fn collect_into_a_closed_pipe_stores_every_repository_and_exits_0() {
    let dir = tempfile::tempdir().unwrap();
    let root = three_repo_site(dir.path());
    let (code, stderr) = run_into_closed_pipe(&root, &["collect"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stderr, "");
    assert_eq!(
        entries(&root.join("data")),
        [
            "facts",
            "facts/alpha.json",
            "facts/beta.json",
            "facts/gamma.json",
            "history",
            "history/alpha.jsonl",
            "history/beta.jsonl",
            "history/gamma.jsonl"
        ]
    );
}

/// `build | true` and `assess --json | head -1`: exit 0, nothing on stderr,
/// and the build's output in place.
#[test]
fn build_and_assess_into_a_closed_pipe_exit_0_quietly() {
    let dir = tempfile::tempdir().unwrap();
    let root = three_repo_site(dir.path());
    let (code, stderr) = run_into_closed_pipe(&root, &["build", "--until", "2024-02-01"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stderr, "");
    assert!(root.join("public/index.html").is_file());
    assert!(root.join("public/.opsmeter-output").is_file());

    let (code, stderr) = run_into_closed_pipe(
        &root,
        &[
            "assess",
            "--json",
            "--since",
            "2024-01-01",
            "--until",
            "2024-02-01",
        ],
    );
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stderr, "");
}

/// `check > /dev/full`: the result cannot be written, which is an error
/// (exit 1, said once), not a panic.
#[test]
fn check_into_a_full_device_is_an_error_not_a_panic() {
    let full = Path::new("/dev/full");
    if !full.exists() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let root = three_repo_site(dir.path());
    let out = std::process::Command::new(assert_cmd::cargo::cargo_bin("opsmeter"))
        .env_remove("OPSMETER_LOG")
        .arg("--root")
        .arg(&root)
        .arg("check")
        .stdout(std::fs::OpenOptions::new().write(true).open(full).unwrap())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert_eq!(
        stderr,
        "error: writing results to standard output: No space left on device (os error 28)\n"
    );
}

// ------------------------------------------------ 10. a malformed commit is skipped with a note

/// Writes a commit object as given (git checks nothing with `--literally`); returns its sha.
fn raw_commit(r: &Repo, text: &str) -> String {
    let mut child = std::process::Command::new("git")
        .current_dir(&r.dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .args([
            "hash-object",
            "-t",
            "commit",
            "--literally",
            "-w",
            "--stdin",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// v1.0.0 (Jan 1) → c2 (authored Jan 2) → no-email (author line without an
/// email) → no-date (author line without a date) → c3 (authored Jan 4,
/// committed Jan 5, tagged v1.1.0), plus v1.2.0 on the no-date commit itself.
/// Returns the repository and the shas of the two malformed commits.
fn malformed_repo(dir: &Path) -> (Repo, String, String) {
    let r = Repo::init(dir);
    let c1 = r.commit("one", HUMAN, "2024-01-01T00:00:00Z", "2024-01-01T00:00:00Z");
    r.tag("v1.0.0", &c1);
    let c2 = r.commit("two", HUMAN, "2024-01-02T00:00:00Z", "2024-01-02T00:00:00Z");
    let tree = r.git(&["rev-parse", "HEAD^{tree}"], &[]).trim().to_string();
    let no_email = raw_commit(
        &r,
        &format!(
            "tree {tree}\nparent {c2}\nauthor Nobody\ncommitter Ada <ada@example.org> 1704153600 +0000\n\nno email\n"
        ),
    );
    let no_date = raw_commit(
        &r,
        &format!(
            "tree {tree}\nparent {no_email}\nauthor Ada <ada@example.org>\ncommitter Ada <ada@example.org>\n\nno date\n"
        ),
    );
    // 2024-01-04T00:00:00Z = 1704326400; 2024-01-05T00:00:00Z = 1704412800.
    let c3 = raw_commit(
        &r,
        &format!(
            "tree {tree}\nparent {no_date}\nauthor Ada <ada@example.org> 1704326400 +0000\ncommitter Ada <ada@example.org> 1704412800 +0000\n\nthree\n"
        ),
    );
    r.git(&["update-ref", "refs/heads/main", &c3], &[]);
    r.tag("v1.1.0", &c3);
    r.tag("v1.2.0", &no_date);
    (r, no_email, no_date)
}

#[test]
fn malformed_commits_are_skipped_with_a_note_naming_them() {
    let dir = tempfile::tempdir().unwrap();
    let (repo, no_email, no_date) = malformed_repo(&dir.path().join("repo"));
    let root = dir.path().join("site");
    write(
        &root.join("opsmeter.toml"),
        "languages = [\"en\", \"zh\"]\n\n[[repos]]\nname = \"api\"\npath = \"../repo\"\n",
    );
    write(
        &root.join("content/_index.md"),
        "+++\ntitle = \"Home\"\n+++\nHello.\n",
    );
    write(
        &root.join("content/_index.zh.md"),
        "+++\ntitle = \"首页\"\n+++\n你好。\n",
    );
    let tag_note = format!(
        "tag v1.2.0: its commit {no_date} cannot be decoded (author: no date), so its time is unknown; skipped"
    );
    let commits_note = format!(
        "2 commits cannot be decoded and are skipped (not counted as changes): \
         {no_date} (author: no date); {no_email} (Invalid actor signature: Closing '>' not found)"
    );

    let r = run(
        &root,
        &[
            "assess",
            "--json",
            "--since",
            "2024-01-01",
            "--until",
            "2024-02-01",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let report: Value = serde_json::from_str(&r.stdout).unwrap();
    let api = &report["repos"][0];
    assert_eq!(api["notes"], json!([tag_note, commits_note]));
    // v1.0.0 and v1.1.0 (v1.2.0 skipped); v1.1.0 (committed Jan 5) ships c2
    // (72 h) and c3 (24 h): the malformed commits are not counted.
    assert_eq!(api["dora"]["deployment_count"], 2);
    assert_eq!(
        api["dora"]["lead_time_hours"]["values"],
        json!([24.0, 72.0])
    );
    assert_eq!(api["deployments"][1]["change_count"], 2);

    let r = run(&root, &["build", "--until", "2024-02-01"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let page = |p: &str| std::fs::read_to_string(root.join("public").join(p)).unwrap();
    let en = page("repos/api/index.html");
    let esc = |s: &str| s.replace('\'', "&#39;").replace('>', "&gt;");
    assert!(
        en.contains(&format!("<p class=\"note\">{}</p>", esc(&commits_note))),
        "{en}"
    );
    // In Chinese: our words in Chinese, gix's own words marked as English on
    // that part only.
    let zh = page("zh/repos/api/index.html");
    assert!(
        zh.contains(&format!(
            "<p class=\"note\">标签 v1.2.0：它的提交 {no_date} 无法解码（作者：没有日期），时间未知，已跳过</p>"
        )),
        "{zh}"
    );
    assert!(
        zh.contains(&format!(
            "<p class=\"note\">2 个提交无法解码，已跳过（不计为变更）：{no_date}（作者：没有日期）；{no_email}（\
             <span lang=\"en\">Invalid actor signature: Closing &#39;&gt;&#39; not found</span>）</p>"
        )),
        "{zh}"
    );

    let r = run(&root, &["collect"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let stored: Value =
        serde_json::from_slice(&std::fs::read(root.join("data/facts/api.json")).unwrap()).unwrap();
    // Stored with their English text, key and data (shown in any language by
    // `build`); gix's words as `{"english": …}`.
    let no_date_why = json!({
        "key": "msg_signature_no_date",
        "args": { "signature": { "key": "msg_signature_author" } }
    });
    assert_eq!(
        stored["facts"]["notes"],
        json!([
            {
                "text": tag_note,
                "message": {
                    "key": "msg_note_tag_commit_undecodable",
                    "args": { "tag": "v1.2.0", "commit": no_date, "error": no_date_why }
                }
            },
            {
                "text": commits_note,
                "message": {
                    "key": "msg_note_commits_undecodable",
                    "args": {
                        "count": "2",
                        "commits": [
                            {
                                "key": "msg_commit_with_error",
                                "args": { "commit": no_date, "error": no_date_why }
                            },
                            {
                                "key": "msg_commit_with_error",
                                "args": {
                                    "commit": no_email,
                                    "error": { "english": "Invalid actor signature: Closing '>' not found" }
                                }
                            }
                        ]
                    }
                }
            }
        ])
    );
    assert_eq!(stored["facts"]["changes"].as_array().unwrap().len(), 2);
    drop(repo);
}

// ------------------------------------------------ 12. byte-order marks and failed writes

/// A JSON Lines events file saved with a byte-order mark reads like one without.
#[test]
fn a_jsonl_events_file_with_a_byte_order_mark_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("site");
    write(
        &root.join("opsmeter.toml"),
        "[[repos]]\nname = \"payments\"\nevents = [\"events.jsonl\"]\n",
    );
    write(
        &root.join("events.jsonl"),
        "\u{feff}{\"type\":\"deployment\",\"id\":\"d1\",\"environment\":\"production\",\"finished_at\":\"2024-03-01T10:00:00Z\"}\n\
         {\"type\":\"deployment\",\"id\":\"d2\",\"environment\":\"production\",\"finished_at\":\"2024-03-04T10:00:00Z\"}\n",
    );
    let r = run(
        &root,
        &[
            "assess",
            "--json",
            "--since",
            "2024-03-01",
            "--until",
            "2024-03-08",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let report: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(report["repos"][0]["dora"]["deployment_count"], 2);
    assert_eq!(report["repos"][0]["deployments"][0]["ref"], "d1");
}

/// A facts write that fails half way (here the file-size limit, as a full
/// disk would) leaves no temporary file, and the facts stored before are
/// unchanged byte for byte.
#[test]
fn a_failed_facts_write_leaves_no_temporary_file() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("site");
    let r = Repo::init(&root.join("repo"));
    for day in 1..=9 {
        let date = format!("2024-01-0{day}T00:00:00Z");
        let c = r.commit(&format!("change {day}"), HUMAN, &date, &date);
        r.tag(&format!("v1.{day}.0"), &c);
    }
    write(
        &root.join("opsmeter.toml"),
        "[[repos]]\nname = \"api\"\npath = \"repo\"\n",
    );
    let first = run(&root, &["collect"]);
    assert_eq!(first.code, 0, "{}", first.stderr);
    let facts = root.join("data/facts/api.json");
    let before = std::fs::read(&facts).unwrap();
    assert!(before.len() > 2048, "{} bytes", before.len());
    // Another commit, so the facts to write differ from the stored ones.
    let c = r.commit(
        "change 10",
        HUMAN,
        "2024-01-10T00:00:00Z",
        "2024-01-10T00:00:00Z",
    );
    r.tag("v1.10.0", &c);

    // Files of at most 1 KiB (1 or 2 blocks, whatever the shell's unit); the
    // signal a write past it raises is ignored, so the write fails with EFBIG.
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg("trap '' XFSZ; ulimit -f 2; exec \"$0\" --root \"$1\" collect")
        .arg(assert_cmd::cargo::cargo_bin("opsmeter"))
        .arg(&root)
        .env_remove("OPSMETER_LOG")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!("error: api: writing {}", facts.display())),
        "{stderr}"
    );
    assert_eq!(entries(&root.join("data/facts")), ["api.json"]);
    assert_eq!(std::fs::read(&facts).unwrap(), before);
}

// ------------------------------------------------ nothing is written through a symbolic link

#[cfg(unix)]
#[test]
fn writes_never_follow_a_symbolic_link_out_of_the_site() {
    use std::os::unix::fs::symlink;
    struct Case {
        what: &'static str,
        /// The link planted under the site, and whether it points to a folder.
        link: &'static str,
        folder: bool,
        /// The link named in the error.
        named: &'static str,
    }
    let cases = [
        Case {
            what: "data/ itself",
            link: "data",
            folder: true,
            named: "data",
        },
        Case {
            what: "the facts folder",
            link: "data/facts",
            folder: true,
            named: "data/facts",
        },
        Case {
            what: "a facts file",
            link: "data/facts/api.json",
            folder: false,
            named: "data/facts/api.json",
        },
        Case {
            what: "the history folder",
            link: "data/history",
            folder: true,
            named: "data/history",
        },
        Case {
            what: "a history file",
            link: "data/history/api.jsonl",
            folder: false,
            named: "data/history/api.jsonl",
        },
    ];
    for case in cases {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("site");
        small_repo(&root.join("repo"));
        write(
            &root.join("opsmeter.toml"),
            "[[repos]]\nname = \"api\"\npath = \"repo\"\n",
        );
        let outside = dir.path().join("outside");
        let target = if case.folder {
            std::fs::create_dir_all(&outside).unwrap();
            outside.clone()
        } else {
            write(&outside.join("victim"), "do not touch\n");
            outside.join("victim")
        };
        let link = root.join(case.link);
        std::fs::create_dir_all(link.parent().unwrap()).unwrap();
        symlink(&target, &link).unwrap();

        let r = run(&root, &["collect"]);
        assert_eq!(r.code, 2, "{}: {}", case.what, r.stderr);
        let named = root.join(case.named);
        assert!(
            r.stderr.contains(&format!(
                "{} is a symbolic link (to {}); opsmeter writes only inside the site and never through a link",
                named.display(),
                target.display()
            )),
            "{}: {}",
            case.what,
            r.stderr
        );
        if case.folder {
            assert_eq!(entries(&outside), Vec::<String>::new(), "{}", case.what);
        } else {
            assert_eq!(entries(&outside), ["victim"], "{}", case.what);
            assert_eq!(
                std::fs::read_to_string(&target).unwrap(),
                "do not touch\n",
                "{}",
                case.what
            );
        }
        assert!(std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
    }
}

/// The HTTP cache of a host repository is under `data/cache/`: a link there is
/// refused before any request, so no answer is ever written out of the site.
#[cfg(unix)]
#[test]
fn the_http_cache_is_never_written_through_a_symbolic_link() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("site");
    // Nothing listens on port 9 of the loopback: no request could succeed anyway.
    write(
        &root.join("opsmeter.toml"),
        "[collect]\nretries = 0\n\n[[repos]]\ngithub = \"acme/api\"\napi_url = \"http://127.0.0.1:9\"\n",
    );
    let outside = dir.path().join("outside");
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::create_dir_all(root.join("data")).unwrap();
    std::os::unix::fs::symlink(&outside, root.join("data/cache")).unwrap();
    let r = run(&root, &["collect"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("error: acme/api: refusing to write "),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains(&format!(
            ": {} is a symbolic link (to {}); opsmeter writes only inside the site",
            root.join("data/cache").display(),
            outside.display()
        )),
        "{}",
        r.stderr
    );
    assert_eq!(entries(&outside), Vec::<String>::new());
}
