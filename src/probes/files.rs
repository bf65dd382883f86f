//! The files of a repository's work tree, listed once and shared by every
//! probe, and glob matching over them.

use std::path::{Path, PathBuf};

use globset::{GlobBuilder, GlobMatcher};
use walkdir::WalkDir;

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

/// A repository's files, relative to its root with `/` separators, sorted.
pub struct RepoFiles {
    pub root: PathBuf,
    pub paths: Vec<String>,
    /// Why files could not be listed (a bare repository has no work tree).
    pub unavailable: Option<String>,
}

impl RepoFiles {
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
        }
    }

    /// Files cannot be read, for `reason`: every file probe is unknown.
    pub fn unavailable(root: &Path, reason: impl Into<String>) -> RepoFiles {
        RepoFiles {
            root: root.to_path_buf(),
            paths: Vec::new(),
            unavailable: Some(reason.into()),
        }
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
        let path = self.root.join(rel);
        let meta = std::fs::metadata(&path).ok()?;
        if meta.len() > MAX_READ {
            return None;
        }
        let bytes = std::fs::read(&path).ok()?;
        Some(String::from_utf8_lossy(&bytes).into_owned())
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
