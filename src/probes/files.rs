//! The files of a repository, listed once and shared by every probe, and
//! glob matching over them. They come from wherever the repository keeps
//! them: its work tree, or the tree of a commit in its object database
//! (a bare repository or mirror, or a configured `ref`), or a host's API
//! listing of the default branch ([`super::listed`], for `github = …` and
//! `gitlab = …` entries without a checkout); [`FileSource`] says which, so
//! reports can.

use std::path::{Path, PathBuf};

use globset::{GlobBuilder, GlobMatcher};
use serde::Serialize;
use walkdir::WalkDir;

use super::listed::{BlobReader, ListedFile, ListedTree};
use super::tree::{self, GitTree};
use crate::message::Message;
use crate::msg;

/// Folders that hold other people's code or build output: never probed.
pub const SKIPPED_DIRS: &[&str] = &[
    ".git",
    "node_modules",
    "vendor",
    "third_party",
    "target",
    ".venv",
    "venv",
    "__pycache__",
    ".terraform",
    "bower_components",
    // Test data describes other, imaginary repositories.
    "fixtures",
    "testdata",
    "test-data",
];

/// Folders of test data: reports and files in them describe imaginary repositories.
pub const TEST_DATA_DIRS: &[&str] = &["fixtures", "testdata", "test-data"];

/// Files larger than this are not read by pattern probes.
const MAX_READ: u64 = 2 * 1024 * 1024;

/// What kind of place the files were read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SourceKind {
    /// The files of a checkout, as they are on disk.
    WorkTree,
    /// The tree of a commit in a bare repository or mirror.
    Bare,
    /// The tree of a configured `ref` in a repository that has a work tree.
    GitTree,
    /// The tree of the default branch as a host's API (GitHub, GitLab) lists it.
    Host,
    /// No files could be read (see the description).
    Unavailable,
}

/// Where a repository's files were read, for reports and `assess`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileSource {
    pub source: SourceKind,
    /// The branch, tag or revision whose tree was read.
    #[serde(rename = "ref")]
    pub reference: Option<String>,
    /// The full id of the commit whose tree was read.
    pub commit: Option<String>,
    /// In words: "work tree", "tree of `main` at `1a2b3c4` in a bare repository",
    /// or why no file could be read (English in the JSON).
    pub description: Message,
}

impl FileSource {
    fn work_tree() -> FileSource {
        FileSource {
            source: SourceKind::WorkTree,
            reference: None,
            commit: None,
            description: Message::new("msg_files_work_tree"),
        }
    }

    fn tree(kind: SourceKind, commit: &tree::Commit) -> FileSource {
        let hex = commit.id.to_string();
        let short = &hex[..7];
        let description = match kind {
            SourceKind::Bare => msg!("msg_files_bare", branch = &commit.label, commit = short),
            _ => msg!("msg_files_git_tree", branch = &commit.label, commit = short),
        };
        FileSource {
            source: kind,
            reference: Some(commit.label.clone()),
            description,
            commit: Some(hex),
        }
    }

    /// The tree of `branch` at `commit` (40 hex) as `host` ("GitHub", "GitLab") lists it.
    pub fn host(host: &str, branch: &str, commit: &str) -> FileSource {
        FileSource {
            source: SourceKind::Host,
            reference: Some(branch.to_string()),
            description: msg!(
                "msg_files_host",
                host = host,
                branch = branch,
                commit = commit.get(..7).unwrap_or(commit)
            ),
            commit: Some(commit.to_string()),
        }
    }

    fn unavailable(reason: &Message) -> FileSource {
        FileSource {
            source: SourceKind::Unavailable,
            reference: None,
            commit: None,
            description: msg!("msg_files_unavailable", reason = reason.clone()),
        }
    }
}

/// Where file contents are read from.
enum Store {
    Folder,
    Git(Box<GitTree>),
    Listed(Box<ListedTree>),
    Nothing,
}

/// A repository's files, relative to its root with `/` separators, sorted.
pub struct RepoFiles {
    /// The work tree, or the git folder of a repository read from its objects.
    pub root: PathBuf,
    pub paths: Vec<String>,
    /// Why files could not be listed (no repository path, a missing branch).
    pub unavailable: Option<Message>,
    /// Where the files were read.
    pub source: FileSource,
    store: Store,
}

impl RepoFiles {
    /// The files of the repository at `path`: the tree of `reference` when
    /// given, else the work tree, else (a bare repository or mirror) the tree
    /// HEAD's branch points to. Never fails: when nothing can be read, the
    /// result says why and every file probe is unknown.
    pub fn open(path: Option<&Path>, reference: Option<&str>) -> RepoFiles {
        let Some(path) = path else {
            return RepoFiles::unavailable(Path::new("."), Message::new("msg_files_no_path"));
        };
        let repo = match gix::open(path) {
            Ok(r) => r,
            Err(e) => {
                return RepoFiles::unavailable(
                    path,
                    msg!(
                        "msg_files_not_a_repository",
                        path = path.display().to_string(),
                        error = e.to_string()
                    ),
                )
            }
        };
        let kind = match (reference, repo.workdir()) {
            (None, Some(work_tree)) => return RepoFiles::scan(work_tree),
            (Some(_), Some(_)) => SourceKind::GitTree,
            (_, None) => SourceKind::Bare,
        };
        let commit = match tree::resolve(&repo, reference) {
            Ok(c) => c,
            Err(why) => return RepoFiles::unavailable(path, why),
        };
        let source = FileSource::tree(kind, &commit);
        let started = std::time::Instant::now();
        match GitTree::list(repo, commit.id) {
            Ok(mut t) => {
                tracing::debug!(
                    "{}: listed {} files of {} in {:?}",
                    path.display(),
                    t.probe_paths.len(),
                    source.description,
                    started.elapsed()
                );
                RepoFiles {
                    root: path.to_path_buf(),
                    paths: std::mem::take(&mut t.probe_paths),
                    unavailable: None,
                    source,
                    store: Store::Git(Box::new(t)),
                }
            }
            Err(why) => RepoFiles::unavailable(path, msg!("msg_files_unlisted", why = why)),
        }
    }

    /// The files of a commit as a host lists them, read through `reader`;
    /// `source` says which commit ([`FileSource::host`]).
    pub fn listed(source: FileSource, files: Vec<ListedFile>, reader: BlobReader) -> RepoFiles {
        let mut t = ListedTree::new(files, reader);
        RepoFiles {
            root: PathBuf::from("."),
            paths: std::mem::take(&mut t.probe_paths),
            unavailable: None,
            source,
            store: Store::Listed(Box::new(t)),
        }
    }

    /// Blobs that could not be read while probing a listed commit: when there
    /// are any, its findings are not to be trusted.
    pub fn read_failures(&self) -> Vec<String> {
        match &self.store {
            Store::Listed(t) => t.failures.lock().map(|f| f.clone()).unwrap_or_default(),
            _ => Vec::new(),
        }
    }

    /// The files of the work tree at `root`.
    pub fn scan(root: &Path) -> RepoFiles {
        let mut paths = Vec::new();
        let walker = WalkDir::new(root)
            .sort_by_file_name()
            .into_iter()
            .filter_entry(|e| {
                e.depth() == 0
                    || !(e.file_type().is_dir()
                        && SKIPPED_DIRS.contains(&e.file_name().to_string_lossy().as_ref()))
            });
        for entry in walker.flatten() {
            if !entry.file_type().is_file() {
                continue;
            }
            if let Ok(rel) = entry.path().strip_prefix(root) {
                if let Some(s) = rel.to_str() {
                    paths.push(s.replace('\\', "/"));
                }
            }
        }
        paths.sort();
        RepoFiles {
            root: root.to_path_buf(),
            paths,
            unavailable: None,
            source: FileSource::work_tree(),
            store: Store::Folder,
        }
    }

    /// Files cannot be read, for `reason`: every file probe is unknown.
    pub fn unavailable(root: &Path, reason: Message) -> RepoFiles {
        RepoFiles {
            root: root.to_path_buf(),
            paths: Vec::new(),
            source: FileSource::unavailable(&reason),
            unavailable: Some(reason),
            store: Store::Nothing,
        }
    }

    /// Runs `f` on these files restricted to the paths `keep` accepts (a
    /// service's view of a monorepo), `what` saying so in the source's
    /// description; the whole listing is back afterwards.
    pub fn restricted<T>(
        &mut self,
        keep: impl Fn(&str) -> bool,
        what: crate::message::Message,
        f: impl FnOnce(&RepoFiles) -> T,
    ) -> T {
        let all = std::mem::take(&mut self.paths);
        self.paths = all.iter().filter(|p| keep(p)).cloned().collect();
        let source = self.source.clone();
        self.source.description = crate::msg!(
            "msg_files_restricted",
            files = source.description.clone(),
            to = what
        );
        let out = f(self);
        self.paths = all;
        self.source = source;
        out
    }

    /// The files matching any of `globs`.
    pub fn matching<'a>(&'a self, globs: &'a Globs) -> impl Iterator<Item = &'a str> + 'a {
        self.paths
            .iter()
            .map(String::as_str)
            .filter(move |p| globs.is_match(p))
    }

    /// The text of a file, if it is small enough and readable (invalid UTF-8 is replaced).
    pub fn read(&self, rel: &str) -> Option<String> {
        let bytes = match &self.store {
            Store::Folder => {
                let path = self.root.join(rel);
                let meta = std::fs::metadata(&path).ok()?;
                if meta.len() > MAX_READ {
                    return None;
                }
                std::fs::read(&path).ok()?
            }
            Store::Git(tree) => {
                if tree.size(rel)? > MAX_READ {
                    return None;
                }
                tree.read(rel).ok()?
            }
            Store::Listed(tree) => {
                if tree.size(rel).is_some_and(|s| s > MAX_READ) {
                    return None;
                }
                let bytes = tree.read(rel).ok()?;
                if bytes.len() as u64 > MAX_READ {
                    return None;
                }
                bytes
            }
            Store::Nothing => return None,
        };
        Some(String::from_utf8_lossy(&bytes).into_owned())
    }

    /// Coverage reports matching `globs` among the files of a commit, as the
    /// work-tree search would find them in its checkout; `None` for a work tree
    /// (search the folder) or when no files were read.
    pub(crate) fn tree_reports(&self, globs: &[String]) -> Option<Vec<&str>> {
        let paths = match &self.store {
            Store::Git(tree) => &tree.coverage_paths,
            Store::Listed(tree) => &tree.coverage_paths,
            _ => return None,
        };
        let globs = crate::sources::coverage::ReportGlobs::new(globs);
        Some(
            paths
                .iter()
                .map(String::as_str)
                .filter(|p| globs.is_match(p))
                .collect(),
        )
    }

    /// The whole content of a file of a commit (no size limit: coverage reports).
    pub(crate) fn read_blob(&self, rel: &str) -> Result<Vec<u8>, Message> {
        match &self.store {
            Store::Git(tree) => tree.read(rel),
            Store::Listed(tree) => tree.read(rel),
            _ => Err(msg!("msg_file_not_in_commit", path = rel)),
        }
    }
}

/// A set of globs: one with a `/` matches the path from the root (`**` crosses
/// folders); one without matches the file name anywhere.
pub struct Globs {
    path_globs: Vec<GlobMatcher>,
    name_globs: Vec<GlobMatcher>,
}

impl Globs {
    pub fn new<S: AsRef<str>>(patterns: &[S]) -> Result<Globs, String> {
        let mut g = Globs {
            path_globs: Vec::new(),
            name_globs: Vec::new(),
        };
        for p in patterns {
            let p = p.as_ref();
            let matcher = GlobBuilder::new(p)
                .literal_separator(true)
                .build()
                .map_err(|e| format!("glob {p:?}: {e}"))?
                .compile_matcher();
            if p.contains('/') {
                g.path_globs.push(matcher);
            } else {
                g.name_globs.push(matcher);
            }
        }
        Ok(g)
    }

    pub fn is_match(&self, rel: &str) -> bool {
        let name = rel.rsplit('/').next().unwrap_or(rel);
        self.name_globs.iter().any(|g| g.is_match(name))
            || self.path_globs.iter().any(|g| g.is_match(rel))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_names_anywhere_and_paths_from_the_root() {
        let g = Globs::new(&["Dockerfile", ".github/workflows/*.yml", "**/tests/**"]).unwrap();
        assert!(g.is_match("Dockerfile"));
        assert!(g.is_match("svc/api/Dockerfile"));
        assert!(g.is_match(".github/workflows/ci.yml"));
        assert!(!g.is_match("x/.github/workflows/ci.yml"));
        assert!(!g.is_match(".github/workflows/sub/ci.yml"));
        assert!(g.is_match("tests/a.rs"));
        assert!(g.is_match("crates/x/tests/a.rs"));
    }

    #[test]
    fn scan_skips_vendored_folders() {
        let dir = tempfile::tempdir().unwrap();
        for p in [
            "a/Dockerfile",
            "node_modules/x/Dockerfile",
            "vendor/y.go",
            ".git/config",
            "z.txt",
        ] {
            let path = dir.path().join(p);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, "x").unwrap();
        }
        let files = RepoFiles::scan(dir.path());
        assert_eq!(files.paths, vec!["a/Dockerfile", "z.txt"]);
    }
}
