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
/// The temporary file has a random name and is created exclusively, so nothing
/// planted beside `path` is followed or overwritten; whatever fails (a full
/// disk, a folder at `path`), it is removed and `path` keeps its old content.
/// A symbolic link at `path` is replaced, never written through.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let prefix = format!(".{name}.tmp-");
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix);
    // The permissions a plain file gets (0666 less the umask), not a temporary file's 0600.
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666));
    let mut tmp = builder
        .tempfile_in(dir)
        .with_context(|| format!("creating a temporary file in {}", dir.display()))?;
    // On any error below, dropping `tmp` removes the temporary file.
    tmp.write_all(bytes)
        .with_context(|| format!("writing {}", path.display()))?;
    tmp.persist(path)
        .map_err(|e| e.error)
        .with_context(|| format!("replacing {}", path.display()))?;
    Ok(())
}

/// Writes `bytes` to `path` atomically (see [`write_atomic`]) after refusing,
/// with [`refuse_links`], any symbolic link between `root` and `path`.
pub fn write_atomic_in(root: &Path, path: &Path, bytes: &[u8]) -> Result<()> {
    refuse_links(root, path)?;
    write_atomic(path, bytes)
}

/// Refuses to write `path` when a symbolic link stands anywhere between the
/// site `root` and it (a folder such as `data/` or `data/facts/`, or the file
/// itself): opsmeter writes only inside the site and never through a link,
/// which could lead out of it (or onto one of its sources). The root itself
/// may be a link: it is where the user chose to work. Components that do not
/// exist yet are fine: they will be created as plain folders.
pub fn refuse_links(root: &Path, path: &Path) -> Result<()> {
    let rel = path.strip_prefix(root).with_context(|| {
        format!(
            "refusing to write {}: it is not inside the site {}",
            path.display(),
            root.display()
        )
    })?;
    let mut current = root.to_path_buf();
    for part in rel.components() {
        match part {
            std::path::Component::Normal(p) => current.push(p),
            _ => anyhow::bail!(
                "refusing to write {}: its path leaves the site folder",
                path.display()
            ),
        }
        let meta = match std::fs::symlink_metadata(&current) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(e).with_context(|| format!("reading {}", current.display())),
        };
        if meta.file_type().is_symlink() {
            let target = std::fs::read_link(&current)
                .map(|t| t.display().to_string())
                .unwrap_or_else(|_| "?".into());
            anyhow::bail!(
                "refusing to write {}: {} is a symbolic link (to {target}); opsmeter writes \
                 only inside the site and never through a link; replace the link with a folder \
                 (or a file) of its own",
                path.display(),
                current.display()
            );
        }
    }
    Ok(())
}

/// The file every output folder opsmeter builds carries. Only a folder holding it
/// (or an empty one) is ever replaced by a build: see [`check_output`].
pub const OUTPUT_MARKER: &str = ".opsmeter-output";

const MARKER_TEXT: &str =
    "This folder was built by opsmeter; the next `opsmeter build` replaces it whole.\n";

/// Folders of a site that hold its sources: an output there would replace them.
const SOURCE_FOLDERS: &[&str] = &["content", "templates", "data", "static", "themes", "i18n"];

/// Refuses an output folder that a build must not replace: the site root, a
/// folder that holds it, a folder of the site's sources, a symbolic link, a
/// file, or a non-empty folder that opsmeter did not build (no [`OUTPUT_MARKER`]).
/// A build swaps the whole output folder, so anything else there would be lost.
pub fn check_output(root: &Path, output: &Path) -> Result<()> {
    let root_abs = resolve(root);
    let out_abs = resolve(output);
    let shown = output.display();
    if out_abs == root_abs {
        anyhow::bail!(
            "--output {shown} is the site root: a build replaces its output folder whole, \
             so the site's own files would be lost; choose a folder of its own (the default is public/)"
        );
    }
    if root_abs.starts_with(&out_abs) {
        anyhow::bail!(
            "--output {shown} holds the site root ({}): a build replaces its output folder whole; \
             choose a folder of its own (the default is public/)",
            root_abs.display()
        );
    }
    for folder in SOURCE_FOLDERS {
        if out_abs.starts_with(root_abs.join(folder)) {
            anyhow::bail!(
                "--output {shown} is inside the site's {folder}/ folder, which holds its sources; \
                 choose a folder of its own (the default is public/)"
            );
        }
    }
    let meta = match std::fs::symlink_metadata(output) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e).with_context(|| format!("reading {shown}")),
    };
    if meta.file_type().is_symlink() {
        anyhow::bail!(
            "--output {shown} is a symbolic link: opsmeter replaces the output folder whole and \
             does not follow links; give the folder it points to instead"
        );
    }
    if !meta.is_dir() {
        anyhow::bail!("--output {shown} is a file, not a folder; choose a folder for the site");
    }
    if output.join(OUTPUT_MARKER).is_file() {
        return Ok(());
    }
    let mut entries: Vec<String> = std::fs::read_dir(output)
        .with_context(|| format!("reading {shown}"))?
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
        .collect();
    if entries.is_empty() {
        return Ok(());
    }
    entries.sort();
    let sources: Vec<&str> = entries
        .iter()
        .map(String::as_str)
        .filter(|e| *e == ".git" || *e == "opsmeter.toml" || SOURCE_FOLDERS.contains(e))
        .collect();
    let what = if sources.is_empty() {
        match entries.len() {
            1 => format!("1 entry: {}", entries[0]),
            n => format!("{n} entries, e.g. {}", entries[0]),
        }
    } else {
        format!("it holds {}", sources.join(", "))
    };
    anyhow::bail!(
        "--output {shown} is a folder that opsmeter did not build ({what}; no {OUTPUT_MARKER} marker): \
         a build replaces its output folder whole, so its files would be lost; \
         choose an empty or new folder, or remove this one yourself if it is an old build"
    )
}

/// An absolute form of `path` with symbolic links of its existing part resolved
/// and `.`/`..` of the rest applied, so that two spellings of one folder compare equal.
fn resolve(path: &Path) -> PathBuf {
    let abs = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()
            .map(|d| d.join(path))
            .unwrap_or_else(|_| path.to_path_buf())
    };
    // The longest existing prefix, canonicalized; the rest appended lexically.
    let mut existing = abs.clone();
    let mut rest: Vec<std::ffi::OsString> = Vec::new();
    loop {
        if let Ok(c) = existing.canonicalize() {
            let mut out = c;
            for part in rest.iter().rev() {
                if part == ".." {
                    out.pop();
                } else if part != "." {
                    out.push(part);
                }
            }
            return out;
        }
        match (existing.file_name(), existing.parent()) {
            (Some(name), Some(parent)) => {
                rest.push(name.to_os_string());
                existing = parent.to_path_buf();
            }
            _ => {
                // `..` at the end has no file name: pop it lexically.
                if existing.ends_with("..") {
                    rest.push("..".into());
                    existing.pop();
                    continue;
                }
                return abs;
            }
        }
    }
}

/// A staging folder beside `target`, swapped into place by [`StagingDir::commit`].
/// Its name is random and it is created exclusively, so nothing planted beside
/// the output is followed. Dropped without commit, it is removed and `target`
/// is untouched.
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
        let staging = tempfile::Builder::new()
            .prefix(&format!(".{name}.staging-"))
            .tempdir_in(parent)
            .with_context(|| format!("creating a staging folder in {}", parent.display()))?
            .keep();
        std::fs::write(staging.join(OUTPUT_MARKER), MARKER_TEXT)
            .with_context(|| format!("writing {}", staging.join(OUTPUT_MARKER).display()))?;
        Ok(StagingDir {
            target: target.to_path_buf(),
            staging,
            committed: false,
        })
    }

    pub fn path(&self) -> &Path {
        &self.staging
    }

    /// Replaces `target` with the staging folder: two renames, the old tree
    /// removed last. Once the new tree is in place the build has succeeded: an
    /// old tree that cannot be removed is a warning, not an error.
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
        let had_old = std::fs::symlink_metadata(&self.target).is_ok();
        // The old tree moves into a fresh, exclusively created folder.
        let aside = if had_old {
            let aside = tempfile::Builder::new()
                .prefix(&format!(".{name}.old-"))
                .tempdir_in(&parent)
                .with_context(|| format!("creating a folder in {}", parent.display()))?
                .keep();
            let old = aside.join("old");
            if let Err(e) = std::fs::rename(&self.target, &old) {
                let _ = std::fs::remove_dir(&aside);
                return Err(e).with_context(|| format!("moving {} aside", self.target.display()));
            }
            Some(aside)
        } else {
            None
        };
        if let Err(e) = std::fs::rename(&self.staging, &self.target) {
            if let Some(aside) = &aside {
                std::fs::rename(aside.join("old"), &self.target).ok();
                std::fs::remove_dir(aside).ok();
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
        if let Some(aside) = aside {
            if let Err(e) = remove_tree(&aside) {
                tracing::warn!(
                    "the new site is in place, but the previous one could not be removed: {e:#}"
                );
            }
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

    #[test]
    fn a_failed_atomic_write_leaves_the_old_file_and_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("facts.json");
        write_atomic(&path, b"old").unwrap();
        write_atomic(&path, b"new").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"new");
        // A folder where the file should go: the rename fails.
        let blocked = dir.path().join("blocked.json");
        std::fs::create_dir(&blocked).unwrap();
        std::fs::write(blocked.join("inside"), "x").unwrap();
        let e = write_atomic(&blocked, b"data").unwrap_err();
        assert!(format!("{e:#}").starts_with(&format!("replacing {}", blocked.display())));
        let mut names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names, ["blocked.json", "facts.json"]);
    }

    #[cfg(unix)]
    #[test]
    fn links_under_the_root_are_refused_and_the_root_itself_may_be_one() {
        let dir = tempfile::tempdir().unwrap();
        let site = dir.path().join("site");
        std::fs::create_dir_all(site.join("data")).unwrap();
        let outside = dir.path().join("outside");
        std::fs::create_dir(&outside).unwrap();
        std::os::unix::fs::symlink(&outside, site.join("data/facts")).unwrap();
        let target = site.join("data/facts/x.json");
        let e = write_atomic_in(&site, &target, b"{}")
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with(&format!(
                "refusing to write {}: {} is a symbolic link (to {})",
                target.display(),
                site.join("data/facts").display(),
                outside.display()
            )),
            "{e}"
        );
        assert_eq!(std::fs::read_dir(&outside).unwrap().count(), 0);
        // Not yet existing folders are fine, and a root that is a link is the user's choice.
        let linked_root = dir.path().join("linked");
        std::os::unix::fs::symlink(&site, &linked_root).unwrap();
        let fresh = linked_root.join("data/history/x.jsonl");
        refuse_links(&linked_root, &fresh).unwrap();
        let e = refuse_links(&site, Path::new("/elsewhere/x")).unwrap_err();
        assert!(e.to_string().contains("is not inside the site"), "{e}");
    }
}
