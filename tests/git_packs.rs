//! History read from pack files (decoded in parallel, in `src/sources/git/pack.rs`)
//! gives exactly what the same history gives as loose objects: with part of
//! it packed and the rest loose, with two packs holding the same commits,
//! and with one pack of everything.

mod common;

use std::path::Path;
use std::process::Command as Process;

use assert_cmd::Command;
use common::{branches, linear, scratch, Repo};

/// `assess --json` over the window, and the debug log line that says how many
/// commits the packs held (0 when it is not there).
fn assess(repo: &Path, since: &str, until: &str) -> (String, usize) {
    let out = Command::cargo_bin("opsmeter")
        .unwrap()
        .env("OPSMETER_LOG", "debug")
        .env("NO_COLOR", "1")
        .args([
            "assess", "--json", "--since", since, "--until", until, "--repo",
        ])
        .arg(repo)
        .assert()
        .success();
    let stdout = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    let decoded = stderr
        .lines()
        .find_map(|l| {
            let (_, rest) = l.split_once("decoded ")?;
            rest.split(' ').next()?.parse().ok()
        })
        .unwrap_or(0);
    (stdout, decoded)
}

/// Packs the objects reachable from `revs` into a new pack, then removes the
/// loose copies of everything packed.
fn pack(repo: &Repo, revs: &str) {
    let list = Process::new("git")
        .current_dir(&repo.dir)
        .args(["rev-list", "--objects"])
        .args(revs.split(' '))
        .output()
        .unwrap();
    assert!(list.status.success());
    let mut child = Process::new("git")
        .current_dir(&repo.dir)
        .args(["pack-objects", "-q", ".git/objects/pack/pack"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(&list.stdout).unwrap();
    assert!(child.wait().unwrap().success());
    repo.git(&["prune-packed"], &[]);
}

fn count(repo: &Repo, revs: &str) -> usize {
    let mut args = vec!["rev-list", "--count"];
    args.extend(revs.split(' '));
    repo.git(&args, &[]).trim().parse().unwrap()
}

fn loose_packed_and_mixed_agree(repo: &Repo, first: &str, since: &str, until: &str) {
    let (loose, decoded) = assess(&repo.dir, since, until);
    assert_eq!(decoded, 0, "a fresh fixture has no pack");

    // The history up to `first` packed, the rest loose.
    pack(repo, first);
    let (mixed, decoded) = assess(&repo.dir, since, until);
    assert_eq!(decoded, count(repo, first));
    assert_eq!(mixed, loose, "part packed, part loose");

    // A second pack with everything: every early commit is in both packs.
    pack(repo, "--all");
    let (two, decoded) = assess(&repo.dir, since, until);
    assert_eq!(decoded, count(repo, "--all"));
    assert_eq!(two, loose, "two packs");

    // One pack, deltas recomputed.
    repo.git(&["repack", "-a", "-d", "-f", "-q"], &[]);
    let (one, decoded) = assess(&repo.dir, since, until);
    assert!(decoded > 0 && decoded <= count(repo, "--all"));
    assert_eq!(one, loose, "one pack");
}

#[test]
fn linear_history_reads_the_same_loose_packed_and_mixed() {
    let (repo, _, _) = linear(&scratch("packs-linear"));
    loose_packed_and_mixed_agree(&repo, "v1.1.0", "2024-01-01", "2024-01-08");
}

#[test]
fn branches_and_merges_read_the_same_loose_packed_and_mixed() {
    let repo = branches(&scratch("packs-branches"));
    loose_packed_and_mixed_agree(&repo, "v1.1.0", "2024-01-01", "2024-03-01");
}
