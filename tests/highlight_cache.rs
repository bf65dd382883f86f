//! The highlighted code that `opsmeter build` keeps between builds in
//! `data/cache/highlight.json`: used by the next build for the same site,
//! ignored when made by another version or unreadable, never read or written
//! through a symbolic link, not written by a failed build.

mod common;

use common::opsmeter;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

const CACHE: &str = "data/cache/highlight.json";

/// A private copy of the fixture site (a Rust block in English, a YAML block in Chinese).
fn site() -> tempfile::TempDir {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/site");
    let dir = tempfile::tempdir().unwrap();
    for item in walkdir::WalkDir::new(&fixture) {
        let item = item.unwrap();
        let dest = dir.path().join(item.path().strip_prefix(&fixture).unwrap());
        if item.file_type().is_dir() {
            std::fs::create_dir_all(&dest).unwrap();
        } else {
            std::fs::copy(item.path(), &dest).unwrap();
        }
    }
    dir
}

/// Runs `opsmeter build` with debug logs; (success, stderr).
fn build(root: &Path) -> (bool, String) {
    let out = opsmeter()
        .env("OPSMETER_LOG", "debug")
        .arg("--root")
        .arg(root)
        .arg("build")
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn public(root: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let dir = root.join("public");
    walkdir::WalkDir::new(&dir)
        .into_iter()
        .map(Result::unwrap)
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            (
                e.path().strip_prefix(&dir).unwrap().to_path_buf(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect()
}

fn cache(root: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(root.join(CACHE)).unwrap()).unwrap()
}

fn intro(root: &Path) -> String {
    std::fs::read_to_string(root.join("public/guide/intro/index.html")).unwrap()
}

#[test]
fn a_build_stores_its_blocks_and_the_next_build_takes_them_for_the_same_site() {
    let dir = site();
    let root = dir.path();
    let (ok, stderr) = build(root);
    assert!(ok, "{stderr}");
    assert!(!stderr.contains("took"), "nothing to take yet: {stderr}");
    let stored = cache(root);
    let key = stored["key"].as_str().unwrap();
    assert!(
        key.starts_with(&format!(
            "opsmeter {} highlight format ",
            env!("CARGO_PKG_VERSION")
        )),
        "{key}"
    );
    assert!(key.ends_with("; classes hl-"), "{key}");
    let blocks = stored["blocks"].as_array().unwrap();
    let rust = blocks
        .iter()
        .find(|b| b["lang"] == "rust" && b["code"].as_str().unwrap().starts_with("fn main() {"))
        .expect("the fixture's Rust block");
    assert!(intro(root).contains(rust["html"].as_str().unwrap()));
    assert!(blocks.iter().any(|b| b["lang"] == "yaml"));
    let first = public(root);

    let (ok, stderr) = build(root);
    assert!(ok, "{stderr}");
    assert!(
        stderr.contains(&format!(
            "took {} highlighted code blocks from {CACHE}",
            blocks.len()
        )),
        "{stderr}"
    );
    assert!(
        !stderr.contains("stored highlighted"),
        "unchanged: {stderr}"
    );
    assert_eq!(public(root), first, "the same site, cache or not");
}

#[test]
fn a_stored_block_is_used_as_stored_and_dropped_once_no_page_shows_it() {
    let dir = site();
    let root = dir.path();
    assert!(build(root).0);
    let mut stored = cache(root);
    let mut extra = stored["blocks"][0].clone();
    extra["code"] = "no page has this\n".into();
    for b in stored["blocks"].as_array_mut().unwrap() {
        if b["lang"] == "rust" {
            b["html"] = "<pre>FROM THE CACHE</pre>".into();
        }
    }
    stored["blocks"].as_array_mut().unwrap().push(extra);
    std::fs::write(root.join(CACHE), stored.to_string()).unwrap();

    let (ok, stderr) = build(root);
    assert!(ok, "{stderr}");
    assert!(intro(root).contains("<pre>FROM THE CACHE</pre>"));
    let after = cache(root);
    let codes: Vec<&str> = after["blocks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["code"].as_str().unwrap())
        .collect();
    assert!(!codes.contains(&"no page has this\n"), "{codes:?}");
    assert_eq!(codes.len(), stored["blocks"].as_array().unwrap().len() - 1);
}

#[test]
fn a_cache_of_another_version_or_not_a_cache_is_ignored_and_replaced() {
    let dir = site();
    let root = dir.path();
    assert!(build(root).0);
    let fresh = public(root);
    let good = cache(root);

    let mut other = good.clone();
    other["key"] = "opsmeter 0.0.1 highlight format 0; syntect 4.0.0; classes hl-".into();
    for b in other["blocks"].as_array_mut().unwrap() {
        b["html"] = "<pre>STALE</pre>".into();
    }
    for (text, why) in [
        (other.to_string(), "it was made by `opsmeter 0.0.1"),
        ("{\"key\": ".to_string(), "it is not a cache file: "),
    ] {
        std::fs::write(root.join(CACHE), text).unwrap();
        let (ok, stderr) = build(root);
        assert!(ok, "{stderr}");
        assert!(
            stderr.contains(&format!("{CACHE} not used: {why}")),
            "{stderr}"
        );
        assert!(!stderr.contains("warning"), "{stderr}");
        assert_eq!(public(root), fresh);
        assert_eq!(cache(root), good, "rewritten by this version");
    }
}

#[test]
fn a_failed_build_stores_nothing() {
    let dir = site();
    let root = dir.path();
    std::fs::write(
        root.join("content/about.md"),
        "+++\ntitle = \"About\"\n[extra]\nuntranslated = true\n+++\n\n[gone](@/nowhere.md)\n",
    )
    .unwrap();
    let (ok, _) = build(root);
    assert!(!ok);
    assert!(!root.join("data").exists());
}

#[cfg(unix)]
#[test]
fn a_link_at_data_cache_is_neither_read_nor_written_through() {
    let dir = site();
    let root = dir.path();
    let outside = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(root.join("data")).unwrap();
    std::os::unix::fs::symlink(outside.path(), root.join("data/cache")).unwrap();
    std::fs::write(
        outside.path().join("highlight.json"),
        "{\"key\": \"planted\", \"blocks\": []}",
    )
    .unwrap();
    let (ok, stderr) = build(root);
    assert!(ok, "{stderr}");
    assert!(stderr.contains("highlight cache not read: "), "{stderr}");
    assert!(
        stderr.contains("warning: could not store highlighted code in ")
            && stderr.contains("the next build highlights it again"),
        "{stderr}"
    );
    assert!(intro(root).contains("class=\"hl-"));
    let names: Vec<_> = std::fs::read_dir(outside.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["highlight.json"]);
    assert_eq!(
        std::fs::read_to_string(outside.path().join("highlight.json")).unwrap(),
        "{\"key\": \"planted\", \"blocks\": []}"
    );
}
