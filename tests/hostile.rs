//! Careless and hostile input (issue 11): nothing lost, nothing leaked, no
//! panic. Each test runs the real binary and asserts the exit code, the
//! message, and what exists (or is unchanged) on disk afterwards.

mod common;

use common::opsmeter;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Every file (and symbolic link) under `dir`, with its bytes.
fn tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .map(Result::unwrap)
        .filter(|e| !e.file_type().is_dir())
        .map(|e| {
            let rel = e.path().strip_prefix(dir).unwrap();
            let bytes = if e.file_type().is_symlink() {
                std::fs::read_link(e.path())
                    .unwrap()
                    .to_string_lossy()
                    .into_owned()
                    .into_bytes()
            } else {
                std::fs::read(e.path()).unwrap()
            };
            (rel.to_string_lossy().into_owned(), bytes)
        })
        .collect()
}

/// A small site in `parent/site`: config, a page, a template, a data file and a static file.
fn small_site(parent: &Path) -> PathBuf {
    let root = parent.join("site");
    for (rel, text) in [
        ("opsmeter.toml", "title = \"Mine\"\n"),
        ("content/_index.md", "+++\ntitle = \"Home\"\n+++\nHello.\n"),
        ("content/page.md", "+++\ntitle = \"Page\"\n+++\nA page.\n"),
        ("templates/.keep", ""),
        ("data/notes.txt", "keep me\n"),
        ("static/logo.txt", "logo\n"),
    ] {
        let p = root.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    root
}

fn build_into(root: &Path, output: &Path) -> (i32, String) {
    let out = opsmeter()
        .current_dir(root)
        .arg("--root")
        .arg(root)
        .arg("build")
        .arg("--output")
        .arg(output)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!stderr.contains("panicked"), "{stderr}");
    (out.status.code().unwrap_or(-1), stderr)
}

// ------------------------------------------------ 1. --output never deletes what opsmeter did not build

/// `--output` naming the site root, an ancestor of it, a source folder, a git
/// repository or any non-empty folder opsmeter did not build: exit 1, an
/// error that says why, and every file still there, byte for byte.
#[test]
fn output_refuses_folders_opsmeter_did_not_build() {
    let dir = tempfile::tempdir().unwrap();
    let root = small_site(dir.path());
    // A neighbouring git repository and an unrelated folder with files.
    let repo = dir.path().join("repo");
    std::fs::create_dir_all(repo.join(".git/objects")).unwrap();
    std::fs::write(repo.join(".git/HEAD"), "ref: refs/heads/main\n").unwrap();
    std::fs::write(repo.join("main.rs"), "fn main() {}\n").unwrap();
    let docs = dir.path().join("docs");
    std::fs::create_dir_all(&docs).unwrap();
    std::fs::write(docs.join("notes.md"), "mine\n").unwrap();
    let file = dir.path().join("a-file.txt");
    std::fs::write(&file, "a file\n").unwrap();
    let before = tree(dir.path());

    let cases: Vec<(PathBuf, &str)> = vec![
        (PathBuf::from("."), "is the site root"),
        (root.clone(), "is the site root"),
        (root.join("content/.."), "is the site root"),
        (PathBuf::from(".."), "holds the site root"),
        (dir.path().to_path_buf(), "holds the site root"),
        (PathBuf::from("/"), "holds the site root"),
        (
            PathBuf::from("content"),
            "inside the site's content/ folder",
        ),
        (
            root.join("templates"),
            "inside the site's templates/ folder",
        ),
        (PathBuf::from("data"), "inside the site's data/ folder"),
        (
            PathBuf::from("static/out"),
            "inside the site's static/ folder",
        ),
        (
            PathBuf::from("../repo"),
            "opsmeter did not build (it holds .git",
        ),
        (docs.clone(), "opsmeter did not build (1 entry: notes.md"),
        (file.clone(), "is a file, not a folder"),
    ];
    for (output, expected) in cases {
        let (code, stderr) = build_into(&root, &output);
        assert_eq!(code, 1, "--output {}: {stderr}", output.display());
        assert!(
            stderr.contains(expected),
            "--output {}: expected {expected:?} in:\n{stderr}",
            output.display()
        );
        assert_eq!(
            tree(dir.path()),
            before,
            "--output {} changed files",
            output.display()
        );
    }
}

/// A new folder, an empty one and a previous opsmeter output are built into;
/// the previous output is replaced whole, and nothing is left beside it but
/// the spare tree of the build before.
#[test]
fn output_builds_into_new_empty_or_its_own_folders() {
    let dir = tempfile::tempdir().unwrap();
    let root = small_site(dir.path());
    let fresh = dir.path().join("out/new");
    let (code, stderr) = build_into(&root, &fresh);
    assert_eq!(code, 0, "{stderr}");
    assert!(fresh.join("index.html").is_file());
    assert!(fresh.join(".opsmeter-output").is_file());

    // Its own output again: replaced, a stray file in it gone.
    std::fs::write(fresh.join("stray.html"), "old").unwrap();
    let (code, stderr) = build_into(&root, &fresh);
    assert_eq!(code, 0, "{stderr}");
    assert!(!fresh.join("stray.html").exists());

    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let (code, stderr) = build_into(&root, &empty);
    assert_eq!(code, 0, "{stderr}");
    assert!(empty.join("page/index.html").is_file());

    // Nothing but the output beside it, and the previous tree kept as the spare
    // the next build writes into (one, named after the output).
    let mut beside: Vec<String> = std::fs::read_dir(dir.path().join("out"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    beside.sort();
    assert_eq!(beside.len(), 2, "{beside:?}");
    assert!(beside[0].starts_with(".new.spare-"), "{beside:?}");
    assert_eq!(beside[1], "new");
}

/// An output that is a symbolic link is refused: replacing it would remove
/// the files of the folder it points to.
#[cfg(unix)]
#[test]
fn output_that_is_a_symlink_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let root = small_site(dir.path());
    let elsewhere = dir.path().join("elsewhere");
    std::fs::create_dir(&elsewhere).unwrap();
    std::fs::write(elsewhere.join("precious.txt"), "keep").unwrap();
    std::os::unix::fs::symlink(&elsewhere, root.join("public")).unwrap();
    let before = tree(dir.path());
    let (code, stderr) = build_into(&root, &root.join("public"));
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("is a symbolic link"), "{stderr}");
    assert_eq!(tree(dir.path()), before);
}

// ------------------------------------------------ 11. one facts file per repository

/// Two repositories whose names make the same facts file: the first is
/// collected, the second fails naming both, and nothing is overwritten.
#[test]
fn collect_refuses_two_names_sharing_a_facts_file() {
    let dir = tempfile::tempdir().unwrap();
    let root = small_site(dir.path());
    let repo = dir.path().join("repo");
    std::fs::create_dir_all(&repo).unwrap();
    let git = |args: &[&str]| {
        let ok = std::process::Command::new("git")
            .current_dir(&repo)
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_AUTHOR_NAME", "Ada")
            .env("GIT_AUTHOR_EMAIL", "ada@example.org")
            .env("GIT_COMMITTER_NAME", "Ada")
            .env("GIT_COMMITTER_EMAIL", "ada@example.org")
            .args(args)
            .status()
            .unwrap();
        assert!(ok.success(), "git {args:?}");
    };
    git(&["init", "-q", "-b", "main"]);
    git(&["commit", "-q", "--allow-empty", "-m", "first"]);
    std::fs::write(
        root.join("opsmeter.toml"),
        "title = \"Mine\"\n\n[[repos]]\nname = \"Team/API\"\npath = \"../repo\"\n\n[[repos]]\nname = \"team-api\"\npath = \"../repo\"\n",
    )
    .unwrap();
    let out = opsmeter()
        .arg("--root")
        .arg(&root)
        .arg("collect")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(
            "error: team-api: its facts file data/facts/team-api.json would be the one of `Team/API`"
        ),
        "{stderr}"
    );
    let stored: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root.join("data/facts/team-api.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(stored["facts"]["name"], "Team/API");
}
