//! File-system writes that never leave a half-written result behind.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

/// A data file of the site (`data/model.toml`, …) when it has its own copy,
/// else the built-in text: (text, name for messages).
pub fn data_file(
    root: &Path,
    rel: &str,
    builtin: &'static str,
) -> Result<(std::borrow::Cow<'static, str>, String)> {
    let path = root.join(rel);
    if path.is_file() {
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        Ok((std::borrow::Cow::Owned(text), rel.to_string()))
    } else {
        Ok((
            std::borrow::Cow::Borrowed(builtin),
            format!("built-in {rel}"),
        ))
    }
}

/// Writes `bytes` to `path` through a temporary file in the same folder and a rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    std::fs::write(&tmp, bytes).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| {
        let _ = std::fs::remove_file(&tmp);
        format!("renaming {} to {}", tmp.display(), path.display())
    })
}

/// A staging folder beside `target`, swapped into place by [`StagingDir::commit`].
/// Dropped without commit, it is removed and `target` is untouched.
pub struct StagingDir {
    target: PathBuf,
    staging: PathBuf,
    committed: bool,
}

impl StagingDir {
    pub fn new(target: &Path) -> Result<StagingDir> {
        let parent = target
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating {}", parent.display()))?;
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "public".into());
        let staging = parent.join(format!(".{name}.staging-{}", std::process::id()));
        if staging.exists() {
            std::fs::remove_dir_all(&staging)
                .with_context(|| format!("removing stale {}", staging.display()))?;
        }
        std::fs::create_dir_all(&staging)
            .with_context(|| format!("creating {}", staging.display()))?;
        Ok(StagingDir {
            target: target.to_path_buf(),
            staging,
            committed: false,
        })
    }

    pub fn path(&self) -> &Path {
        &self.staging
    }

    /// Replaces `target` with the staging folder: two renames, the old tree removed last.
    pub fn commit(mut self) -> Result<()> {
        let parent = self
            .staging
            .parent()
            .unwrap_or(Path::new("."))
            .to_path_buf();
        let name = self
            .target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let old = parent.join(format!(".{name}.old-{}", std::process::id()));
        let had_old = self.target.exists();
        if had_old {
            if old.exists() {
                std::fs::remove_dir_all(&old).ok();
            }
            std::fs::rename(&self.target, &old)
                .with_context(|| format!("moving {} aside", self.target.display()))?;
        }
        if let Err(e) = std::fs::rename(&self.staging, &self.target) {
            if had_old {
                std::fs::rename(&old, &self.target).ok();
            }
            return Err(e).with_context(|| {
                format!(
                    "moving {} to {}",
                    self.staging.display(),
                    self.target.display()
                )
            });
        }
        self.committed = true;
        if had_old {
            remove_tree(&old)?;
        }
        Ok(())
    }
}

/// Removes a folder tree, its top-level entries in parallel (a large site has
/// thousands of files, and deleting them one by one dominates a rebuild).
fn remove_tree(dir: &Path) -> Result<()> {
    use rayon::prelude::*;
    let entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.par_iter().try_for_each(|p| -> Result<()> {
        let result = if p.is_dir() && !p.is_symlink() {
            std::fs::remove_dir_all(p)
        } else {
            std::fs::remove_file(p)
        };
        result.with_context(|| format!("removing {}", p.display()))
    })?;
    std::fs::remove_dir(dir).with_context(|| format!("removing {}", dir.display()))
}

impl Drop for StagingDir {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_dir_all(&self.staging);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uncommitted_staging_leaves_target_alone() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("public");
        std::fs::create_dir(&target).unwrap();
        std::fs::write(target.join("a"), "old").unwrap();
        {
            let s = StagingDir::new(&target).unwrap();
            std::fs::write(s.path().join("a"), "new").unwrap();
        }
        assert_eq!(std::fs::read_to_string(target.join("a")).unwrap(), "old");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn commit_replaces_target() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("public");
        std::fs::create_dir(&target).unwrap();
        std::fs::write(target.join("stale"), "old").unwrap();
        let s = StagingDir::new(&target).unwrap();
        std::fs::write(s.path().join("a"), "new").unwrap();
        s.commit().unwrap();
        assert_eq!(std::fs::read_to_string(target.join("a")).unwrap(), "new");
        assert!(!target.join("stale").exists());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
