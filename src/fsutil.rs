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
///
/// The staging folder is the tree the build before the last one left behind
/// (a *spare*, `.<name>.spare-XXXXXX/site`, kept by the previous commit instead
/// of being deleted), or a fresh folder when there is none. Files are written
/// with [`StagingDir::write`], which leaves a file alone when it already holds
/// the same bytes; [`StagingDir::remove_stale`] removes what the new site no
/// longer has. So a rebuild creates and deletes only what changed, and the
/// live site is still replaced whole, by renames, only when the build
/// succeeded. A spare is used only when it is a real folder that only its
/// owner can write to (as created here) and holds the [`OUTPUT_MARKER`];
/// anything in it that is not a plain file or folder is removed first.
/// Dropped without commit, a fresh folder is removed; a spare stays a spare.
pub struct StagingDir {
    target: PathBuf,
    /// The folder written (`…/site` of a spare, or a fresh folder).
    staging: PathBuf,
    /// The spare folder holding `staging`, when one was reused.
    spare: Option<PathBuf>,
    committed: bool,
}

/// Inside a spare folder, the tree itself.
const SPARE_TREE: &str = "site";

impl StagingDir {
    pub fn new(target: &Path) -> Result<StagingDir> {
        let parent = parent_of(target);
        std::fs::create_dir_all(&parent)
            .with_context(|| format!("creating {}", parent.display()))?;
        let name = name_of(target);
        if let Some(spare) = find_spare(&parent, &name) {
            return Ok(StagingDir {
                target: target.to_path_buf(),
                staging: spare.join(SPARE_TREE),
                spare: Some(spare),
                committed: false,
            });
        }
        let staging = tempfile::Builder::new()
            .prefix(&format!(".{name}.staging-"))
            .tempdir_in(&parent)
            .with_context(|| format!("creating a staging folder in {}", parent.display()))?
            .keep();
        std::fs::write(staging.join(OUTPUT_MARKER), MARKER_TEXT)
            .with_context(|| format!("writing {}", staging.join(OUTPUT_MARKER).display()))?;
        Ok(StagingDir {
            target: target.to_path_buf(),
            staging,
            spare: None,
            committed: false,
        })
    }

    pub fn path(&self) -> &Path {
        &self.staging
    }

    /// Whether the staging folder is a previous build's tree (then
    /// [`StagingDir::remove_stale`] matters).
    pub fn reused(&self) -> bool {
        self.spare.is_some()
    }

    /// Writes `bytes` at `rel` (a `/`-separated path inside the site), unless the
    /// file there already holds exactly these bytes. A changed file is removed
    /// and created anew (exclusively, so no link is followed).
    pub fn write(&self, rel: &str, bytes: &[u8]) -> Result<()> {
        let dest = self.staging.join(rel);
        if self.spare.is_some() {
            match std::fs::symlink_metadata(&dest) {
                Ok(m) if m.is_file() => {
                    if m.len() == bytes.len() as u64
                        && std::fs::read(&dest).is_ok_and(|old| old == bytes)
                    {
                        return Ok(());
                    }
                    std::fs::remove_file(&dest)
                        .with_context(|| format!("removing {}", dest.display()))?;
                }
                Ok(m) if m.is_dir() => std::fs::remove_dir_all(&dest)
                    .with_context(|| format!("removing {}", dest.display()))?,
                Ok(_) => std::fs::remove_file(&dest)
                    .with_context(|| format!("removing {}", dest.display()))?,
                Err(_) => {}
            }
        }
        if let Some(parent) = dest.parent() {
            if std::fs::create_dir_all(parent).is_err() && self.spare.is_some() {
                // A file of the old tree where the new one has a folder.
                let mut at = self.staging.clone();
                for part in Path::new(rel)
                    .parent()
                    .into_iter()
                    .flat_map(Path::components)
                {
                    at.push(part);
                    if std::fs::symlink_metadata(&at).is_ok_and(|m| !m.is_dir()) {
                        let _ = std::fs::remove_file(&at);
                    }
                }
            }
            std::fs::create_dir_all(parent)
                .with_context(|| format!("creating {}", parent.display()))?;
        }
        use std::io::Write as _;
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&dest)
            .and_then(|mut f| f.write_all(bytes))
            .with_context(|| format!("writing {}", dest.display()))
    }

    /// Removes every file of a reused tree that is not among `keep` (paths as
    /// given to [`StagingDir::write`]), and the folders left empty.
    pub fn remove_stale(&self, keep: &std::collections::HashSet<&str>) -> Result<()> {
        if self.spare.is_none() {
            return Ok(());
        }
        let mut dirs = Vec::new();
        for entry in walkdir::WalkDir::new(&self.staging).min_depth(1) {
            let entry = entry.with_context(|| format!("reading {}", self.staging.display()))?;
            if entry.file_type().is_dir() {
                dirs.push(entry.into_path());
                continue;
            }
            let rel = entry
                .path()
                .strip_prefix(&self.staging)
                .map(|r| r.to_string_lossy().replace('\\', "/"))
                .unwrap_or_default();
            if rel != OUTPUT_MARKER && !keep.contains(rel.as_str()) {
                std::fs::remove_file(entry.path())
                    .with_context(|| format!("removing {}", entry.path().display()))?;
            }
        }
        // Deepest first; a folder that still holds files stays.
        for dir in dirs.iter().rev() {
            let _ = std::fs::remove_dir(dir);
        }
        Ok(())
    }

    /// Replaces `target` with the staging folder: two renames. The previous tree
    /// is kept as the spare the next build writes into (no tree is deleted).
    pub fn commit(mut self) -> Result<()> {
        let parent = parent_of(&self.target);
        let name = name_of(&self.target);
        let had_old = std::fs::symlink_metadata(&self.target).is_ok();
        // The old tree moves into a fresh, exclusively created folder: the next spare.
        let aside = if had_old {
            let aside = tempfile::Builder::new()
                .prefix(&format!(".{name}.spare-"))
                .tempdir_in(&parent)
                .with_context(|| format!("creating a folder in {}", parent.display()))?
                .keep();
            let old = aside.join(SPARE_TREE);
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
                std::fs::rename(aside.join(SPARE_TREE), &self.target).ok();
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
        // The reused spare is empty now.
        if let Some(spare) = &self.spare {
            let _ = std::fs::remove_dir(spare);
        }
        // A tree that was not built by opsmeter (an empty folder) is no spare.
        if let Some(aside) = aside {
            if !aside.join(SPARE_TREE).join(OUTPUT_MARKER).is_file() {
                if let Err(e) = remove_tree(&aside) {
                    tracing::warn!(
                        "the new site is in place, but the previous one could not be removed: {e:#}"
                    );
                }
            }
        }
        Ok(())
    }
}

fn parent_of(target: &Path) -> PathBuf {
    target
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .to_path_buf()
}

fn name_of(target: &Path) -> String {
    target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "public".into())
}

/// A spare tree beside the output (`.<name>.spare-XXXXXX/site`) fit to be
/// reused: the folder is real, writable by its owner only, and the tree holds
/// the marker. Links and other special files inside are removed.
fn find_spare(parent: &Path, name: &str) -> Option<PathBuf> {
    let prefix = format!(".{name}.spare-");
    let mut candidates: Vec<PathBuf> = std::fs::read_dir(parent)
        .ok()?
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with(&prefix))
        .map(|e| e.path())
        .collect();
    candidates.sort();
    candidates.into_iter().find(|spare| {
        let private = |p: &Path| {
            std::fs::symlink_metadata(p).is_ok_and(|m| {
                #[cfg(unix)]
                let private =
                    std::os::unix::fs::PermissionsExt::mode(&m.permissions()) & 0o022 == 0;
                #[cfg(not(unix))]
                let private = true;
                m.is_dir() && private
            })
        };
        let tree = spare.join(SPARE_TREE);
        if !private(spare)
            || !std::fs::symlink_metadata(&tree).is_ok_and(|m| m.is_dir())
            || !std::fs::symlink_metadata(tree.join(OUTPUT_MARKER)).is_ok_and(|m| m.is_file())
        {
            return false;
        }
        // Only plain files and folders are written through.
        for entry in walkdir::WalkDir::new(&tree)
            .min_depth(1)
            .into_iter()
            .flatten()
        {
            let t = entry.file_type();
            if !t.is_file() && !t.is_dir() && std::fs::remove_file(entry.path()).is_err() {
                return false;
            }
        }
        true
    })
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
        if !self.committed && self.spare.is_none() {
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

    /// Builds `files` into `target` through a [`StagingDir`], as a site build does.
    fn build(target: &Path, files: &[(&str, &str)]) {
        let s = StagingDir::new(target).unwrap();
        for (p, b) in files {
            s.write(p, b.as_bytes()).unwrap();
        }
        let keep: std::collections::HashSet<&str> = files.iter().map(|f| f.0).collect();
        s.remove_stale(&keep).unwrap();
        s.commit().unwrap();
    }

    fn spares(dir: &Path) -> Vec<PathBuf> {
        std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| {
                p.file_name()
                    .unwrap()
                    .to_string_lossy()
                    .starts_with(".public.spare-")
            })
            .collect()
    }

    #[cfg(unix)]
    #[test]
    fn the_tree_before_last_is_reused_and_only_changed_files_are_written() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("public");
        build(
            &target,
            &[("a.html", "one"), ("d/b.html", "two"), ("gone.html", "x")],
        );
        assert!(spares(dir.path()).is_empty(), "no previous tree, no spare");
        build(
            &target,
            &[("a.html", "one"), ("d/b.html", "two"), ("gone.html", "x")],
        );
        // The first tree is now the spare; the third build writes into it. Its
        // files are dated 2001, so a file left alone keeps that date.
        let spare = spares(dir.path());
        assert_eq!(spare.len(), 1);
        let old = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000_000);
        for f in ["a.html", "d/b.html"] {
            let file = std::fs::File::options()
                .write(true)
                .open(spare[0].join("site").join(f))
                .unwrap();
            file.set_modified(old).unwrap();
        }
        let modified = |p: &Path| std::fs::metadata(p).unwrap().modified().unwrap();
        build(
            &target,
            &[("a.html", "one"), ("d/b.html", "TWO"), ("new/c.html", "3")],
        );
        assert_eq!(
            modified(&target.join("a.html")),
            old,
            "same bytes: not rewritten"
        );
        assert_ne!(
            modified(&target.join("d/b.html")),
            old,
            "changed: written anew"
        );
        assert_eq!(
            std::fs::read_to_string(target.join("d/b.html")).unwrap(),
            "TWO"
        );
        assert_eq!(
            std::fs::read_to_string(target.join("new/c.html")).unwrap(),
            "3"
        );
        assert!(!target.join("gone.html").exists(), "stale file removed");
        assert!(target.join(OUTPUT_MARKER).is_file());
        // Still one spare (the second tree), and nothing else beside the output.
        assert_eq!(spares(dir.path()).len(), 1);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);
    }

    #[test]
    fn a_failed_build_into_a_spare_leaves_the_site_alone() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("public");
        build(&target, &[("a.html", "one")]);
        build(&target, &[("a.html", "two")]);
        {
            let s = StagingDir::new(&target).unwrap();
            assert!(s.reused());
            s.write("a.html", b"three").unwrap();
            // Dropped without commit: the build failed.
        }
        assert_eq!(
            std::fs::read_to_string(target.join("a.html")).unwrap(),
            "two"
        );
        build(&target, &[("a.html", "four")]);
        assert_eq!(
            std::fs::read_to_string(target.join("a.html")).unwrap(),
            "four"
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_spare_others_can_write_to_or_without_the_marker_is_not_used() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("public");
        for (mode, marker) in [(0o777, true), (0o700, false)] {
            let planted = dir.path().join(".public.spare-planted");
            let _ = std::fs::remove_dir_all(&planted);
            std::fs::create_dir_all(planted.join("site")).unwrap();
            if marker {
                std::fs::write(planted.join("site").join(OUTPUT_MARKER), "x").unwrap();
            }
            std::fs::set_permissions(&planted, std::fs::Permissions::from_mode(mode)).unwrap();
            let s = StagingDir::new(&target).unwrap();
            assert!(!s.reused(), "mode {mode:o}, marker {marker}");
        }
    }

    #[cfg(unix)]
    #[test]
    fn links_in_a_spare_are_removed_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("public");
        let outside = dir.path().join("outside.txt");
        std::fs::write(&outside, "keep").unwrap();
        build(&target, &[("a.html", "one")]);
        build(&target, &[("a.html", "one")]);
        let spare = spares(dir.path()).pop().unwrap();
        std::fs::remove_file(spare.join("site/a.html")).unwrap();
        std::os::unix::fs::symlink(&outside, spare.join("site/a.html")).unwrap();
        build(&target, &[("a.html", "new")]);
        assert_eq!(std::fs::read_to_string(&outside).unwrap(), "keep");
        assert_eq!(
            std::fs::read_to_string(target.join("a.html")).unwrap(),
            "new"
        );
        assert!(!std::fs::symlink_metadata(target.join("a.html"))
            .unwrap()
            .is_symlink());
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
