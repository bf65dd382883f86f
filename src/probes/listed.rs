//! The files of a commit as a host's API lists them (GitHub's git trees,
//! GitLab's repository tree), for `github = …` / `gitlab = …` entries that
//! have no checkout: the third place files come from, beside a work tree and
//! the object database ([`super::tree`]).
//!
//! The listing is a flat list of paths and blob ids; a blob's bytes are read
//! through a reader the collector gives (the host's API behind a cache by
//! id), and only when a probe asks for its path. Which paths the probes and
//! the coverage search see follows the work-tree walk exactly (the same
//! skipped folders, the same order), so findings are those of a checkout.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::Mutex;

use super::files::SKIPPED_DIRS;
use crate::message::Message;

/// One file of a listed commit (symbolic links and submodules are not files).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedFile {
    /// From the root, with `/` separators.
    pub path: String,
    /// The blob id, 40 hex digits.
    pub blob: String,
    /// Its size in bytes, when the listing gives it (GitHub does, GitLab does not).
    pub size: Option<u64>,
}

/// Reads a blob's bytes by id; `Err` says why it could not.
pub type BlobReader = Box<dyn Fn(&str) -> Result<Vec<u8>, String> + Send + Sync>;

/// The listed files of a commit and the reader of their blobs.
pub(crate) struct ListedTree {
    blobs: HashMap<String, (String, Option<u64>)>,
    reader: BlobReader,
    /// Paths the probes see, sorted as strings.
    pub probe_paths: Vec<String>,
    /// Paths the coverage search sees, sorted as paths.
    pub coverage_paths: Vec<String>,
    /// Blobs that could not be read: the findings would be wrong, so the
    /// collector reports them instead of storing findings.
    pub failures: Mutex<Vec<String>>,
}

impl ListedTree {
    pub(crate) fn new(files: Vec<ListedFile>, reader: BlobReader) -> ListedTree {
        // Folders holding a `CACHEDIR.TAG`: a `target` among them is a build cache.
        let caches: HashSet<&str> = files
            .iter()
            .filter_map(|f| f.path.strip_suffix("/CACHEDIR.TAG"))
            .collect();
        let mut probe_paths = Vec::new();
        let mut coverage_paths = Vec::new();
        for f in &files {
            let mut folders: Vec<(usize, &str)> = Vec::new();
            let mut start = 0;
            for (i, _) in f.path.match_indices('/') {
                folders.push((i, &f.path[start..i]));
                start = i + 1;
            }
            let probed = !folders.iter().any(|(_, n)| SKIPPED_DIRS.contains(n));
            let searched = !folders.iter().any(|(end, name)| {
                crate::sources::coverage::skips_folder(name, || caches.contains(&f.path[..*end]))
            });
            if probed {
                probe_paths.push(f.path.clone());
            }
            if searched {
                coverage_paths.push(f.path.clone());
            }
        }
        probe_paths.sort();
        coverage_paths.sort_by(|a, b| Path::new(a).cmp(Path::new(b)));
        let blobs = files
            .into_iter()
            .map(|f| (f.path, (f.blob, f.size)))
            .collect();
        ListedTree {
            blobs,
            reader,
            probe_paths,
            coverage_paths,
            failures: Mutex::new(Vec::new()),
        }
    }

    /// The size of the file at `path`, when the listing gave it.
    pub(crate) fn size(&self, path: &str) -> Option<u64> {
        self.blobs.get(path).and_then(|(_, size)| *size)
    }

    /// The bytes of the file at `path`; a failure is also remembered. The
    /// host's error is data in the message.
    pub(crate) fn read(&self, path: &str) -> Result<Vec<u8>, Message> {
        let (blob, _) = self
            .blobs
            .get(path)
            .ok_or_else(|| crate::msg!("msg_file_not_in_commit", path = path))?;
        (self.reader)(blob).map_err(|e| {
            if let Ok(mut f) = self.failures.lock() {
                f.push(format!("{path}: {e}"));
            }
            crate::msg!("msg_host_blob_unreadable", path = path, error = e)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str) -> ListedFile {
        ListedFile {
            path: path.into(),
            blob: "0".repeat(40),
            size: Some(1),
        }
    }

    #[test]
    fn paths_are_those_a_checkout_walk_sees() {
        let tree = ListedTree::new(
            vec![
                file("b.txt"),
                file("node_modules/x/Dockerfile"),
                file("a/Dockerfile"),
                file("target/CACHEDIR.TAG"),
                file("target/lcov.info"),
                file("svc/target/lcov.info"),
                file("a-b/c"),
            ],
            Box::new(|_| Ok(Vec::new())),
        );
        // `target` is skipped by the probes everywhere; by coverage only when
        // it is a cache (holds CACHEDIR.TAG), as Maven's `target/` is not.
        assert_eq!(tree.probe_paths, vec!["a-b/c", "a/Dockerfile", "b.txt"]);
        assert_eq!(
            tree.coverage_paths,
            vec!["a/Dockerfile", "a-b/c", "b.txt", "svc/target/lcov.info"]
        );
    }
}
