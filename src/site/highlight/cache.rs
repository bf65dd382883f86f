//! Highlighted code blocks, kept for the process and, for `opsmeter build`,
//! between builds in `data/cache/highlight.json`. Highlighting is the largest
//! part of the CPU time of a site with many code blocks (syntect loads its
//! grammars and compiles each pattern it meets, once per process), and a rebuild
//! highlights mostly the blocks the previous build did.
//!
//! A block is keyed by its fence language as written and its code; the file as
//! a whole by [`store_key`] (opsmeter's and syntect's versions, the regex engine,
//! the class prefix), so a file made by another version is ignored, never mixed in.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};

/// The syntect release in Cargo.lock (checked by a test): its grammars and
/// class names decide the HTML of a block.
const SYNTECT_VERSION: &str = "5.3.0";

/// Bump when opsmeter's own part of a block's HTML changes (the `<pre>` frame,
/// the fence-name aliases, the fallback to plain text).
const FORMAT: u32 = 1;

/// Code and HTML held in memory at most; past it the blocks are dropped (and
/// highlighted again when met).
pub(super) const MAX_BYTES: usize = 64 << 20;

/// What the stored blocks were made by; a file with another key is ignored.
pub(super) fn store_key(class_prefix: &str) -> String {
    format!(
        "opsmeter {} highlight format {FORMAT}; syntect {SYNTECT_VERSION} with oniguruma; classes {class_prefix}",
        env!("CARGO_PKG_VERSION")
    )
}

/// The blocks of a process, by language then code.
pub(super) struct Blocks {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    by_lang: HashMap<String, HashMap<String, Block>>,
    bytes: usize,
}

struct Block {
    html: Arc<str>,
    /// Asked for since the file was read (or since the process started).
    used: bool,
    /// In the file as read.
    stored: bool,
}

/// `data/cache/highlight.json`.
#[derive(Serialize, Deserialize)]
struct StoredFile {
    key: String,
    blocks: Vec<StoredBlock>,
}

#[derive(Serialize, Deserialize)]
struct StoredBlock {
    lang: String,
    code: String,
    html: String,
}

impl Blocks {
    pub(super) fn new() -> Blocks {
        Blocks {
            inner: Mutex::new(Inner::default()),
        }
    }

    /// The HTML of (`lang`, `code`), made by `make` when not held yet.
    pub(super) fn get_or_make(
        &self,
        lang: &str,
        code: &str,
        make: impl FnOnce() -> String,
    ) -> String {
        if let Ok(mut inner) = self.inner.lock() {
            if let Some(block) = inner.by_lang.get_mut(lang).and_then(|m| m.get_mut(code)) {
                block.used = true;
                return block.html.to_string();
            }
        }
        // Made outside the lock: other threads highlight other blocks meanwhile.
        let html = make();
        if let Ok(mut inner) = self.inner.lock() {
            inner.insert(lang, code, Arc::from(html.as_str()), true, false);
        }
        html
    }

    /// Reads the blocks stored at `path` under `key`. Returns how many were
    /// taken; a missing file is `Ok(0)`, a file that cannot be used is an error
    /// saying why (the caller goes on without it).
    pub(super) fn load(&self, path: &Path, key: &str) -> Result<usize, String> {
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
            Err(e) => return Err(format!("cannot read it: {e}")),
        };
        if bytes.len() > MAX_BYTES {
            return Err(format!("it is larger than {} MiB", MAX_BYTES >> 20));
        }
        let file: StoredFile =
            serde_json::from_slice(&bytes).map_err(|e| format!("it is not a cache file: {e}"))?;
        if file.key != key {
            return Err(format!("it was made by `{}`, not `{key}`", file.key));
        }
        let mut inner = self
            .inner
            .lock()
            .map_err(|_| "the cache is poisoned".to_string())?;
        let mut taken = 0;
        for b in file.blocks {
            if inner.insert(&b.lang, &b.code, Arc::from(b.html), false, true) {
                taken += 1;
            }
        }
        Ok(taken)
    }

    /// The bytes to store: every block asked for since [`Blocks::load`],
    /// sorted; `None` when the file read holds exactly those blocks already.
    pub(super) fn to_store(&self, key: &str) -> Option<Vec<u8>> {
        let inner = self.inner.lock().ok()?;
        let mut blocks = Vec::new();
        let mut unchanged = true;
        for (lang, codes) in &inner.by_lang {
            for (code, block) in codes {
                unchanged &= block.used == block.stored;
                if block.used {
                    blocks.push(StoredBlock {
                        lang: lang.clone(),
                        code: code.clone(),
                        html: block.html.to_string(),
                    });
                }
            }
        }
        if unchanged {
            return None;
        }
        blocks.sort_by(|a, b| (&a.lang, &a.code).cmp(&(&b.lang, &b.code)));
        serde_json::to_vec(&StoredFile {
            key: key.to_string(),
            blocks,
        })
        .ok()
    }
}

impl Inner {
    /// Adds a block unless held already; false when it was not added.
    fn insert(&mut self, lang: &str, code: &str, html: Arc<str>, used: bool, stored: bool) -> bool {
        if self.by_lang.get(lang).is_some_and(|m| m.contains_key(code)) {
            return false;
        }
        let size = lang.len() + code.len() + html.len();
        if size > MAX_BYTES {
            return false;
        }
        if self.bytes + size > MAX_BYTES {
            self.by_lang.clear();
            self.bytes = 0;
        }
        self.bytes += size;
        self.by_lang
            .entry(lang.to_string())
            .or_default()
            .insert(code.to_string(), Block { html, used, stored });
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_syntect_version_is_the_one_in_cargo_lock() {
        let lock = include_str!("../../../Cargo.lock");
        let at = lock
            .find("name = \"syntect\"\n")
            .expect("syntect in Cargo.lock");
        let version = lock[at..].lines().nth(1).unwrap();
        assert_eq!(version, format!("version = \"{SYNTECT_VERSION}\""));
    }

    #[test]
    fn a_block_is_made_once_then_served_from_memory() {
        let blocks = Blocks::new();
        let mut made = 0;
        for _ in 0..3 {
            let html = blocks.get_or_make("rust", "fn a() {}\n", || {
                made += 1;
                "<pre>a</pre>".to_string()
            });
            assert_eq!(html, "<pre>a</pre>");
        }
        assert_eq!(made, 1);
        // Same code, another language: another block.
        assert_eq!(
            blocks.get_or_make("go", "fn a() {}\n", || "<pre>b</pre>".into()),
            "<pre>b</pre>"
        );
    }

    #[test]
    fn stored_blocks_are_read_back_and_only_used_ones_are_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("highlight.json");
        let first = Blocks::new();
        first.get_or_make("yaml", "a: 1\n", || "<pre>A</pre>".into());
        first.get_or_make("bash", "ls\n", || "<pre>L</pre>".into());
        std::fs::write(&path, first.to_store("k").expect("new blocks to store")).unwrap();

        let second = Blocks::new();
        assert_eq!(second.load(&path, "k"), Ok(2));
        let html = second.get_or_make("yaml", "a: 1\n", || panic!("must come from the file"));
        assert_eq!(html, "<pre>A</pre>");
        // `bash` was not used by this build: the file is rewritten without it.
        let bytes = second.to_store("k").expect("a block dropped");
        let text = String::from_utf8(bytes).unwrap();
        assert_eq!(
            text,
            r#"{"key":"k","blocks":[{"lang":"yaml","code":"a: 1\n","html":"<pre>A</pre>"}]}"#
        );

        // A build that uses exactly the stored blocks leaves the file alone.
        std::fs::write(&path, text).unwrap();
        let third = Blocks::new();
        assert_eq!(third.load(&path, "k"), Ok(1));
        third.get_or_make("yaml", "a: 1\n", || panic!("must come from the file"));
        assert!(third.to_store("k").is_none());
    }

    #[test]
    fn a_file_of_another_version_or_not_a_cache_is_ignored_with_the_reason() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("highlight.json");
        assert_eq!(
            Blocks::new().load(&path, "k"),
            Ok(0),
            "a missing file is no problem"
        );
        std::fs::write(
            &path,
            r#"{"key":"old","blocks":[{"lang":"x","code":"y","html":"z"}]}"#,
        )
        .unwrap();
        let blocks = Blocks::new();
        assert_eq!(
            blocks.load(&path, "k"),
            Err("it was made by `old`, not `k`".to_string())
        );
        assert_eq!(blocks.get_or_make("x", "y", || "fresh".into()), "fresh");
        std::fs::write(&path, "{not json").unwrap();
        let err = Blocks::new().load(&path, "k").unwrap_err();
        assert!(err.starts_with("it is not a cache file: "), "{err}");
    }
}
