//! The files of one commit, read from a repository's object database, for
//! repositories without a work tree (bare repositories and mirrors, as CI and
//! servers keep them) or with a configured `ref`.
//!
//! Listing a commit reads tree objects only; a blob is read when a probe asks
//! for its path, which happens only for paths its globs select. The listing
//! follows the work-tree walk exactly (same skipped folders, symbolic links
//! and submodules left out, same order), so findings are those of a checkout.

use std::collections::HashMap;
use std::path::Path;

use gix::bstr::ByteSlice;
use gix::objs::Find;
use gix::ObjectId;

use super::files::SKIPPED_DIRS;
use crate::message::Message;
use crate::msg;

/// The commit whose tree is read, and how to name it.
pub(crate) struct Commit {
    /// The branch, tag or revision it was found by (`main`, `v1.2.0`, `HEAD`).
    pub label: String,
    pub id: ObjectId,
}

/// The listed files of a commit, with the blob of each.
pub(crate) struct GitTree {
    repo: gix::Repository,
    blobs: HashMap<String, ObjectId>,
    /// Paths seen by the probes: outside [`SKIPPED_DIRS`], sorted as strings
    /// (taken by [`super::RepoFiles`] once listed).
    pub probe_paths: Vec<String>,
    /// Paths searched for coverage reports: outside the folders coverage
    /// skips, sorted as paths (as the work-tree search sorts them).
    pub coverage_paths: Vec<String>,
    /// Blobs read, by id, up to [`READ_CACHE`] bytes in all: a monorepo's
    /// services each run the probes over the same CI definitions.
    read: std::cell::RefCell<ReadCache>,
}

/// Blobs read, by id, and their bytes in all.
type ReadCache = (HashMap<ObjectId, std::sync::Arc<[u8]>>, usize);

/// Bytes of blobs a [`GitTree`] keeps once read.
const READ_CACHE: usize = 64 << 20;

/// The commit to read: `reference` when given (a branch, tag or commit),
/// else what HEAD points to. `Err` says, for a reader, why there is none.
pub(crate) fn resolve(repo: &gix::Repository, reference: Option<&str>) -> Result<Commit, Message> {
    match reference {
        Some(r) => {
            let id = resolve_reference(repo, r).ok_or_else(|| {
                msg!("msg_ref_not_found", reference = r, hint = branch_hint(repo))
            })?;
            Ok(Commit {
                label: r.to_string(),
                id: peel_to_commit(repo, id)
                    .ok_or_else(|| msg!("msg_ref_not_a_commit", reference = r))?,
            })
        }
        None => {
            let head = repo
                .head()
                .map_err(|e| msg!("msg_head_unreadable", error = e.to_string()))?;
            match head.kind {
                gix::head::Kind::Symbolic(r) => {
                    let label = r.name.shorten().to_str_lossy().into_owned();
                    let target = match r
                        .peeled
                        .or_else(|| r.target.try_id().map(|id| id.to_owned()))
                    {
                        Some(id) => id,
                        None => return Err(msg!("msg_head_branch_unfollowed", branch = &label)),
                    };
                    let id = peel_to_commit(repo, target)
                        .ok_or_else(|| msg!("msg_head_branch_not_a_commit", branch = &label))?;
                    Ok(Commit { label, id })
                }
                gix::head::Kind::Unborn(name) => Err(msg!(
                    "msg_head_branch_missing",
                    branch = name.shorten().to_str_lossy().into_owned(),
                    hint = branch_hint(repo)
                )),
                gix::head::Kind::Detached { target, peeled } => {
                    let id = peel_to_commit(repo, peeled.unwrap_or(target))
                        .ok_or_else(|| Message::new("msg_head_not_a_commit"))?;
                    Ok(Commit {
                        label: "HEAD".to_string(),
                        id,
                    })
                }
            }
        }
    }
}

/// "; its branches are `a`, `b`: set `ref` …", or advice when it has none.
fn branch_hint(repo: &gix::Repository) -> Message {
    let mut names: Vec<String> = repo
        .references()
        .ok()
        .and_then(|refs| {
            refs.local_branches().ok().map(|iter| {
                iter.flatten()
                    .map(|r| r.name().shorten().to_str_lossy().into_owned())
                    .collect()
            })
        })
        .unwrap_or_default();
    names.sort();
    if names.is_empty() {
        return Message::new("msg_hint_no_branches");
    }
    let shown: Vec<String> = names.iter().take(5).map(|n| format!("`{n}`")).collect();
    let more = if names.len() > 5 { ", …" } else { "" };
    msg!(
        "msg_hint_branches",
        branches = format!("{}{more}", shown.join(", "))
    )
}

/// A branch, tag or full or abbreviated commit id.
fn resolve_reference(repo: &gix::Repository, spec: &str) -> Option<ObjectId> {
    let spec = spec.trim();
    if let Ok(Some(mut r)) = repo.try_find_reference(spec) {
        return r.peel_to_id().ok().map(|id| id.detach());
    }
    if spec.len() == repo.object_hash().len_in_hex() {
        return ObjectId::from_hex(spec.as_bytes()).ok();
    }
    if spec.len() >= 4 && spec.bytes().all(|b| b.is_ascii_hexdigit()) {
        let prefix = gix::hash::Prefix::from_hex(&spec.to_ascii_lowercase()).ok()?;
        return repo.objects.lookup_prefix(prefix, None).ok()??.ok();
    }
    None
}

/// Follows annotated tags to the commit.
fn peel_to_commit(repo: &gix::Repository, mut id: ObjectId) -> Option<ObjectId> {
    let mut buf = Vec::new();
    loop {
        let data = repo.objects.try_find(&id, &mut buf).ok().flatten()?;
        match data.kind {
            gix::object::Kind::Commit => return Some(id),
            gix::object::Kind::Tag => {
                id = gix::objs::TagRef::from_bytes(data.data, repo.object_hash())
                    .ok()?
                    .target();
            }
            _ => return None,
        }
    }
}

/// One folder still to list.
struct Pending {
    tree: ObjectId,
    /// Its path from the root with a trailing `/` (empty for the root).
    prefix: String,
    /// No folder on the way is one the probes skip.
    probed: bool,
    /// No folder on the way is one the coverage search skips.
    searched: bool,
    /// It is a `target` folder: the coverage search skips it when it holds a `CACHEDIR.TAG`.
    is_target: bool,
}

impl GitTree {
    /// Lists the files of `commit`; `Err` says why they cannot be, with the
    /// object database's own error as data.
    pub(crate) fn list(repo: gix::Repository, commit: ObjectId) -> Result<GitTree, Message> {
        let mut buf = Vec::new();
        let id = || commit.to_string();
        let data = repo
            .objects
            .try_find(&commit, &mut buf)
            .map_err(|e| {
                msg!(
                    "msg_git_commit_unreadable",
                    commit = id(),
                    error = e.to_string()
                )
            })?
            .ok_or_else(|| msg!("msg_git_commit_missing", commit = id()))?;
        let root = gix::objs::CommitRef::from_bytes(data.data, repo.object_hash())
            .map_err(|e| {
                msg!(
                    "msg_git_commit_undecodable",
                    commit = id(),
                    error = e.to_string()
                )
            })?
            .tree();
        let mut blobs = HashMap::new();
        let mut probe_paths = Vec::new();
        let mut coverage_paths = Vec::new();
        let mut stack = vec![Pending {
            tree: root,
            prefix: String::new(),
            probed: true,
            searched: true,
            is_target: false,
        }];
        while let Some(dir) = stack.pop() {
            let data = repo
                .objects
                .try_find(&dir.tree, &mut buf)
                .map_err(|e| {
                    msg!(
                        "msg_git_tree_unreadable",
                        tree = dir.tree.to_string(),
                        error = e.to_string()
                    )
                })?
                .ok_or_else(|| {
                    msg!(
                        "msg_git_tree_missing",
                        tree = dir.tree.to_string(),
                        path = &dir.prefix
                    )
                })?;
            let mut entries = Vec::new();
            for entry in gix::objs::TreeRefIter::from_bytes(data.data, repo.object_hash()) {
                let entry = entry.map_err(|e| {
                    msg!(
                        "msg_git_tree_undecodable",
                        tree = dir.tree.to_string(),
                        error = e.to_string()
                    )
                })?;
                entries.push((entry.mode, entry.filename.to_owned(), entry.oid.to_owned()));
            }
            let searched = dir.searched
                && !(dir.is_target
                    && entries
                        .iter()
                        .any(|(m, n, _)| m.is_blob() && n == "CACHEDIR.TAG"));
            for (mode, name, id) in entries {
                // A checkout lists neither what is not UTF-8 nor symbolic links
                // nor submodules (their folder is empty).
                let Ok(name) = name.to_str() else { continue };
                if mode.is_tree() {
                    let probed = dir.probed && !SKIPPED_DIRS.contains(&name);
                    let searched =
                        searched && !crate::sources::coverage::skips_folder(name, || false);
                    if probed || searched {
                        stack.push(Pending {
                            tree: id,
                            prefix: format!("{}{name}/", dir.prefix),
                            probed,
                            searched,
                            is_target: name == "target",
                        });
                    }
                } else if mode.is_blob() {
                    let path = format!("{}{name}", dir.prefix).replace('\\', "/");
                    if dir.probed {
                        probe_paths.push(path.clone());
                    }
                    if searched {
                        coverage_paths.push(path.clone());
                    }
                    blobs.insert(path, id);
                }
            }
        }
        probe_paths.sort();
        coverage_paths.sort_by(|a, b| Path::new(a).cmp(Path::new(b)));
        Ok(GitTree {
            repo,
            blobs,
            probe_paths,
            coverage_paths,
            read: Default::default(),
        })
    }

    /// The size of the file at `path`, without reading it.
    pub(crate) fn size(&self, path: &str) -> Option<u64> {
        let id = self.blobs.get(path)?;
        self.repo.find_header(*id).ok().map(|h| h.size())
    }

    /// The bytes of the file at `path`.
    pub(crate) fn read(&self, path: &str) -> Result<Vec<u8>, Message> {
        let id = self
            .blobs
            .get(path)
            .ok_or_else(|| msg!("msg_file_not_in_commit", path = path))?;
        if let Some(bytes) = self.read.borrow().0.get(id) {
            return Ok(bytes.to_vec());
        }
        let mut buf = Vec::new();
        match self.repo.objects.try_find(id, &mut buf) {
            Ok(Some(data)) if data.kind == gix::object::Kind::Blob => {
                let mut cache = self.read.borrow_mut();
                if cache.1 + data.data.len() <= READ_CACHE {
                    cache.1 += data.data.len();
                    cache.0.insert(*id, std::sync::Arc::from(data.data));
                }
                Ok(data.data.to_vec())
            }
            Ok(Some(data)) => Err(msg!(
                "msg_git_not_a_blob",
                object = id.to_string(),
                kind = data.kind.to_string()
            )),
            Ok(None) => Err(msg!("msg_git_blob_missing", blob = id.to_string())),
            Err(e) => Err(msg!(
                "msg_git_blob_unreadable",
                blob = id.to_string(),
                error = e.to_string()
            )),
        }
    }
}
