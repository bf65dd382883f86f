//! The local git collector (gix, pure Rust; never shells out to `git`).
//!
//! Deployments are tags matching a pattern, or first-parent merges into a
//! deploy branch. Then one pass over the commit graph: deployments are
//! visited in order (time, then name) and each walks only commits no earlier
//! deployment reached, so every commit is read once and is shipped by the
//! earliest deployment that reaches it.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use chrono::{DateTime, Utc};
use gix::bstr::ByteSlice;
use gix::objs::Find;
use gix::ObjectId;
use regex::bytes::Regex as BytesRegex;
use regex::Regex;

use crate::facts::{Change, Deployment, DeploymentSource, DeploymentStatus, Sha};
use crate::message::{Arg, Message};

/// The names of a commit's two signatures, as message keys.
const AUTHOR: &str = "msg_signature_author";
const COMMITTER: &str = "msg_signature_committer";

mod pack;
mod pack_objects;
pub mod services;
mod tree_diff;

/// An opened repository.
pub struct GitRepo {
    repo: gix::Repository,
    pub path: PathBuf,
    /// Every whole commit of the packs, decoded on all cores the first time
    /// history is read ([`GitRepo::pre_read`]); taken by [`GitRepo::ship`].
    packed: std::cell::RefCell<Option<pack::PackCommits<Packed>>>,
    /// Every tag's short name and the reference's own target, read once
    /// ([`GitRepo::tags`]) for the repository's and every service's pattern.
    tags: std::cell::OnceCell<Vec<(String, Option<ObjectId>)>>,
    /// Set by [`GitRepo::keep_trees`]: the pre-read also keeps each commit's
    /// tree id (in `trees`, by value number) and [`GitRepo::ship`] leaves the
    /// pre-read in place, for the services' graph to reuse.
    keep_trees: std::cell::Cell<bool>,
    trees: std::cell::RefCell<Option<Vec<ObjectId>>>,
}

/// Who counts as a bot: names ending in `[bot]`, plus an optional pattern.
pub struct BotMatcher {
    extra: Option<Regex>,
}

impl BotMatcher {
    pub fn new(pattern: &str) -> Result<BotMatcher> {
        let extra = if pattern.is_empty() {
            None
        } else {
            Some(Regex::new(pattern).with_context(|| format!("bot_pattern {pattern:?}"))?)
        };
        Ok(BotMatcher { extra })
    }

    pub fn is_bot(&self, name: &str) -> bool {
        let name = name.trim();
        name.ends_with("[bot]") || self.extra.as_ref().is_some_and(|r| r.is_match(name))
    }

    /// As [`BotMatcher::is_bot`], on the raw bytes of a commit's author name.
    fn is_bot_bytes(&self, name: &[u8]) -> bool {
        let name = name.trim_ascii();
        name.ends_with(b"[bot]")
            || self
                .extra
                .as_ref()
                .is_some_and(|r| r.is_match(&String::from_utf8_lossy(name)))
    }
}

/// What one commit contributes, decoded once.
#[derive(Debug, Clone)]
struct CommitInfo {
    parents: Vec<ObjectId>,
    author_time: i64,
    committer_time: i64,
    /// The author: a number in the pre-pass's [`pack::Names`], or [`BOT`] /
    /// [`NOT_BOT`] when read with a [`BotMatcher`] at hand.
    author: u32,
    fix: bool,
    /// Hex (4–40 digits) after `This reverts commit`.
    reverts: Option<String>,
}

/// A commit whose header cannot be decoded (an author line without an email
/// or a date, say: git itself shows such commits). It is skipped, with a note,
/// as shallow history is; its parents are still walked when they can be read.
#[derive(Debug, Clone)]
struct Undecodable {
    parents: Vec<ObjectId>,
    /// A sentence of ours, or gix's own English words.
    why: Arg,
}

/// A commit as [`decode_commit`] finds it.
enum Decoded {
    Commit(CommitInfo),
    Undecodable(Undecodable),
}

/// What the walks need of one commit, in 56 bytes (the pre-pass holds one per
/// commit of the packs): the first parent inline, anything rarer (more
/// parents, a revert target, why it cannot be decoded) boxed.
#[derive(Clone)]
struct Packed {
    author_time: i64,
    committer_time: i64,
    extra: Option<Box<PackedExtra>>,
    first_parent: ObjectId,
    author: u32,
    flags: u8,
}

const BOT: u32 = u32::MAX;
const NOT_BOT: u32 = u32::MAX - 1;

#[derive(Clone, Default)]
struct PackedExtra {
    more_parents: Vec<ObjectId>,
    reverts: Option<String>,
    undecodable: Option<Arg>,
}

const F_PARENT: u8 = 1;
const F_FIX: u8 = 4;
/// In a pack but not inflated there ([`Packed::absent`]).
const F_ABSENT: u8 = 8;

impl Packed {
    fn new(decoded: Decoded) -> Packed {
        let (parents, times, author, flags, reverts, undecodable) = match decoded {
            Decoded::Commit(c) => (
                c.parents,
                (c.author_time, c.committer_time),
                c.author,
                if c.fix { F_FIX } else { 0 },
                c.reverts,
                None,
            ),
            Decoded::Undecodable(u) => (u.parents, (0, 0), NOT_BOT, 0, None, Some(u.why)),
        };
        let mut parents = parents.into_iter();
        let first = parents.next();
        let more_parents: Vec<ObjectId> = parents.collect();
        let extra =
            (!more_parents.is_empty() || reverts.is_some() || undecodable.is_some()).then(|| {
                Box::new(PackedExtra {
                    more_parents,
                    reverts,
                    undecodable,
                })
            });
        Packed {
            author_time: times.0,
            committer_time: times.1,
            author,
            first_parent: first.unwrap_or_else(|| ObjectId::null(gix::hash::Kind::Sha1)),
            flags: flags | if first.is_some() { F_PARENT } else { 0 },
            extra,
        }
    }

    /// A commit a pack holds but that could not be inflated: read through gix instead.
    fn absent() -> Packed {
        Packed {
            author_time: 0,
            committer_time: 0,
            extra: None,
            first_parent: ObjectId::null(gix::hash::Kind::Sha1),
            author: NOT_BOT,
            flags: F_ABSENT,
        }
    }

    /// Whether a bot wrote it; `bots[n]` says it for author number `n`.
    fn is_bot(&self, bots: &[bool]) -> bool {
        match self.author {
            BOT => true,
            NOT_BOT => false,
            n => bots.get(n as usize).copied().unwrap_or(false),
        }
    }

    fn first_parent(&self) -> Option<ObjectId> {
        (self.flags & F_PARENT != 0).then_some(self.first_parent)
    }

    fn more_parents(&self) -> &[ObjectId] {
        self.extra.as_ref().map_or(&[], |e| &e.more_parents)
    }

    fn parent_count(&self) -> usize {
        usize::from(self.flags & F_PARENT != 0) + self.more_parents().len()
    }

    fn reverts(&self) -> Option<&String> {
        self.extra.as_ref().and_then(|e| e.reverts.as_ref())
    }

    fn undecodable(&self) -> Option<&Arg> {
        self.extra.as_ref().and_then(|e| e.undecodable.as_ref())
    }
}

/// Why a commit cannot be decoded, in one line: the error and its causes.
fn decode_error(e: &dyn std::error::Error) -> String {
    let mut why = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        why.push_str(": ");
        why.push_str(&s.to_string());
        source = s.source();
    }
    why
}

/// The seconds of a signature's date. gix reads a missing or garbled date as
/// 0 (1970), which would silently make a commit fifty years old: here it is an
/// error (the sentence after the signature's name, `msg_signature_…`), and the
/// commit is skipped like any other that cannot be decoded.
fn signature_seconds(sig: &gix::actor::SignatureRef<'_>) -> Result<i64, BadDate> {
    let time = sig.time.trim();
    let Some(secs) = time.split(' ').next().filter(|s| !s.is_empty()) else {
        return Err(BadDate::Missing);
    };
    secs.parse()
        .map_err(|_| BadDate::NotATime(format!("{time:?}")))
}

/// Why a signature has no usable date.
enum BadDate {
    Missing,
    /// The date as written, quoted.
    NotATime(String),
}

/// The signature `who` (`msg_signature_author` or `_committer`) is the
/// reason a commit cannot be decoded.
fn bad_signature(who: &'static str, why: SignatureProblem) -> Arg {
    let signature = Message::new(who);
    Arg::Message(match why {
        SignatureProblem::Date(BadDate::Missing) => {
            crate::msg!("msg_signature_no_date", signature = signature)
        }
        SignatureProblem::Date(BadDate::NotATime(date)) => {
            crate::msg!("msg_signature_bad_date", signature = signature, date = date)
        }
        SignatureProblem::Unparsable(error) => crate::msg!(
            "msg_signature_unparsable",
            signature = signature,
            error = Arg::English(error)
        ),
    })
}

enum SignatureProblem {
    Date(BadDate),
    /// gix's words.
    Unparsable(String),
}

/// The note for commits skipped because they cannot be decoded: each named
/// (the first few in full, then a count), with what was not counted.
fn undecodable_note(skipped: &[(ObjectId, Arg)]) -> Option<Message> {
    const SHOWN: usize = 5;
    let (first, why) = skipped.first()?;
    if skipped.len() == 1 {
        return Some(crate::msg!(
            "msg_note_commit_undecodable",
            commit = first.to_string(),
            error = why.clone()
        ));
    }
    let commits: Vec<Message> = skipped
        .iter()
        .take(SHOWN)
        .map(|(id, why)| {
            crate::msg!(
                "msg_commit_with_error",
                commit = id.to_string(),
                error = why.clone()
            )
        })
        .collect();
    let count = skipped.len();
    Some(if skipped.len() > SHOWN {
        crate::msg!(
            "msg_note_commits_undecodable_more",
            count = count,
            commits = commits,
            more = skipped.len() - SHOWN
        )
    } else {
        crate::msg!(
            "msg_note_commits_undecodable",
            count = count,
            commits = commits
        )
    })
}

/// The result of shipping: counted changes, and a way to find which
/// deployment shipped any commit (for revert targets and incident causes).
pub struct Shipped {
    pub changes: Vec<Change>,
    /// The pre-read commits, sorted, and the deployment that shipped each (or [`NONE`]).
    ids: Vec<ObjectId>,
    by_position: Vec<u32>,
    /// Commits the walk read through gix, with their deployment.
    outside: gix::hashtable::HashMap<ObjectId, u32>,
    outside_sorted: std::cell::OnceCell<Vec<(ObjectId, u32)>>,
    pub commits_visited: usize,
}

/// Not shipped (yet).
const NONE: u32 = u32::MAX;

/// The items of `sorted` whose hex starts with `hex` (lowercase, at least 4 digits).
fn with_prefix<'a, T>(sorted: &'a [T], id: impl Fn(&T) -> &ObjectId, hex: &str) -> &'a [T] {
    let start = sorted.partition_point(|t| id(t).to_hex().to_string().as_str() < hex);
    let len = sorted[start..]
        .iter()
        .take_while(|t| id(t).to_hex().to_string().starts_with(hex))
        .count();
    &sorted[start..start + len]
}

impl Shipped {
    /// The deployment that shipped the commit named by full or abbreviated hex.
    /// An ambiguous abbreviation resolves to nothing.
    pub fn deployment_of(&self, hex: &str) -> Option<usize> {
        let hex = hex.trim().to_ascii_lowercase();
        if hex.len() == 40 {
            let id = ObjectId::from_hex(hex.as_bytes()).ok()?;
            return match self.ids.binary_search(&id) {
                Ok(p) if self.by_position[p] != NONE => Some(self.by_position[p] as usize),
                _ => self.outside.get(&id).map(|&d| d as usize),
            };
        }
        if hex.len() < 4 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let outside = self.outside_sorted.get_or_init(|| {
            let mut v: Vec<(ObjectId, u32)> = self.outside.iter().map(|(k, v)| (*k, *v)).collect();
            v.sort_unstable_by_key(|a| a.0);
            v
        });
        let start = self
            .ids
            .partition_point(|id| id.to_hex().to_string().as_str() < hex.as_str());
        let packed = with_prefix(&self.ids, |id| id, &hex)
            .iter()
            .enumerate()
            .map(|(i, _)| self.by_position[start + i])
            .filter(|&d| d != NONE);
        let mut matches = packed.chain(
            with_prefix(outside, |(id, _)| id, &hex)
                .iter()
                .map(|(_, d)| *d),
        );
        let first = matches.next()?;
        if matches.next().is_some() {
            return None;
        }
        Some(first as usize)
    }
}

static REVERT: std::sync::OnceLock<BytesRegex> = std::sync::OnceLock::new();
static FIX: std::sync::OnceLock<BytesRegex> = std::sync::OnceLock::new();

fn revert_re() -> &'static BytesRegex {
    REVERT.get_or_init(|| {
        BytesRegex::new(r"This reverts commit ([0-9a-fA-F]{4,40})\b").expect("valid regex")
    })
}

fn revert_finder() -> &'static memchr::memmem::Finder<'static> {
    static F: std::sync::OnceLock<memchr::memmem::Finder<'static>> = std::sync::OnceLock::new();
    F.get_or_init(|| memchr::memmem::Finder::new(b"This reverts commit "))
}

fn fix_re() -> &'static BytesRegex {
    FIX.get_or_init(|| BytesRegex::new(r"(?i)^(fix|hotfix)(\([^)]*\))?!?:").expect("valid regex"))
}

fn to_time(secs: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(secs, 0).unwrap_or_default()
}

impl GitRepo {
    /// Opens the repository at `path` (a work tree or a bare repository).
    pub fn open(path: &Path) -> Result<GitRepo> {
        // No object cache: every commit is read exactly once.
        let repo = gix::open(path)
            .with_context(|| format!("{} is not a git repository", path.display()))?;
        Ok(GitRepo {
            repo,
            path: path.to_path_buf(),
            packed: std::cell::RefCell::new(None),
            tags: std::cell::OnceCell::new(),
            keep_trees: std::cell::Cell::new(false),
            trees: std::cell::RefCell::new(None),
        })
    }

    /// The repository containing `dir`, if any: its work tree (or git dir when bare).
    pub fn discover(dir: &Path) -> Option<PathBuf> {
        let repo = gix::discover(dir).ok()?;
        Some(repo.workdir().unwrap_or(repo.git_dir()).to_path_buf())
    }

    /// The work tree of the repository at `path`, if it has one (a bare repository has none).
    pub fn work_tree(&self) -> Option<PathBuf> {
        self.repo.workdir().map(Path::to_path_buf)
    }

    /// Every local and remote-tracking branch with the committer time of its tip.
    pub fn branch_tips(&self) -> Result<Vec<(String, DateTime<Utc>)>> {
        let refs = self.repo.references().context("reading references")?;
        let mut out = Vec::new();
        let mut buf = Vec::new();
        for prefix in ["refs/heads/", "refs/remotes/"] {
            let iter = refs.prefixed(prefix).context("reading branches")?;
            for r in iter {
                let Ok(mut r) = r else { continue };
                let short = r.name().shorten().to_str_lossy().into_owned();
                // `origin/feature/x` is the branch `feature/x` of the remote `origin`.
                let name = if prefix == "refs/remotes/" {
                    match short.split_once('/') {
                        Some((_, branch)) => branch.to_string(),
                        None => continue,
                    }
                } else {
                    short
                };
                let Ok(id) = r.peel_to_id() else { continue };
                let id = id.detach();
                let Some(data) = self.repo.objects.try_find(&id, &mut buf).ok().flatten() else {
                    continue;
                };
                if data.kind != gix::object::Kind::Commit {
                    continue;
                }
                if let Ok(c) = gix::objs::CommitRef::from_bytes(data.data, self.repo.object_hash())
                {
                    if let Some(t) = c.committer().ok().and_then(|s| signature_seconds(&s).ok()) {
                        out.push((name, to_time(t)));
                    }
                }
            }
        }
        Ok(out)
    }

    /// The default branch: what `origin/HEAD` names, else `main` or `master`
    /// when it exists, else the branch HEAD points to.
    pub fn default_branch(&self) -> Option<String> {
        if let Ok(Some(r)) = self.repo.try_find_reference("refs/remotes/origin/HEAD") {
            if let gix::refs::TargetRef::Symbolic(name) = r.target() {
                let short = name.shorten().to_str_lossy().into_owned();
                if let Some((_, branch)) = short.split_once('/') {
                    return Some(branch.to_string());
                }
            }
        }
        for candidate in ["main", "master"] {
            if let Ok(Some(_)) = self
                .repo
                .try_find_reference(format!("refs/heads/{candidate}").as_str())
            {
                return Some(candidate.to_string());
            }
        }
        let head = self.repo.head_name().ok().flatten()?;
        Some(head.shorten().to_str_lossy().into_owned())
    }

    /// A hint, before history is first read, that the services' graph will
    /// follow the repository's pass: the pre-read then keeps every commit's
    /// tree id too, so the packs are decoded once. Without it (no services)
    /// nothing per commit grows.
    pub fn keep_trees(&self) {
        self.keep_trees.set(true);
    }

    /// Whether history was cut by a shallow clone.
    pub fn is_shallow(&self) -> bool {
        self.repo.is_shallow().unwrap_or(false)
    }

    /// Reads one commit: `None` when the object is missing or not a commit,
    /// [`Decoded::Undecodable`] when its header cannot be decoded (an I/O
    /// error reading the object store is still an error).
    fn read_commit(
        &self,
        id: &ObjectId,
        buf: &mut Vec<u8>,
        bots: &BotMatcher,
    ) -> Result<Option<Packed>> {
        let Some(data) = self
            .repo
            .objects
            .try_find(id, buf)
            .with_context(|| format!("reading object {id}"))?
        else {
            return Ok(None);
        };
        if data.kind != gix::object::Kind::Commit {
            return Ok(None);
        }
        let mut author_of = |name: &[u8]| {
            if bots.is_bot_bytes(name) {
                BOT
            } else {
                NOT_BOT
            }
        };
        Ok(Some(Packed::new(
            decode_commit(data.data, self.repo.object_hash(), &mut author_of).0,
        )))
    }

    /// Decodes every whole commit of the repository's packs on all cores, once
    /// (the graph walks then find nearly every commit decoded, and the packs
    /// are read with bounded buffers instead of being mapped whole).
    fn pre_read(&self) -> std::cell::RefMut<'_, pack::PackCommits<Packed>> {
        std::cell::RefMut::map(self.packed.borrow_mut(), |p| {
            p.get_or_insert_with(|| {
                let t = std::time::Instant::now();
                let hash = self.repo.object_hash();
                let objects = self.repo.objects.store_ref().path();
                let packed = if self.keep_trees.get() {
                    let (packed, trees) =
                        pack::read_commits(objects, hash, |data, number| match data {
                            Some(data) => {
                                let (decoded, tree) = decode_commit(data, hash, number);
                                (Packed::new(decoded), tree)
                            }
                            None => (Packed::absent(), ObjectId::null(hash)),
                        })
                        .split(|v| v);
                    *self.trees.borrow_mut() = Some(trees);
                    packed
                } else {
                    pack::read_commits(objects, hash, |data, number| match data {
                        Some(data) => Packed::new(decode_commit(data, hash, number).0),
                        None => Packed::absent(),
                    })
                };
                tracing::debug!(
                    "{}: decoded {} commits of its packs in {:?}",
                    self.path.display(),
                    packed.len(),
                    t.elapsed()
                );
                packed
            })
        })
    }

    /// A commit as the walks see it: from the pre-read packs when there, else
    /// read through gix (`None` when missing or not a commit).
    fn commit(
        &self,
        id: &ObjectId,
        buf: &mut Vec<u8>,
        bots: &BotMatcher,
    ) -> Result<Option<Packed>> {
        let packed = self.pre_read();
        if let Some(p) = found(&packed, id) {
            return Ok(Some(packed.value(p).clone()));
        }
        self.read_commit(id, buf, bots)
    }

    /// Every tag's short name with the reference's own target (so an
    /// annotated tag is seen before peeling; a symbolic tag peeled, `None`
    /// when it cannot be), in the references' order. Read once: the
    /// repository's pattern and every service's are matched against it.
    fn tags(&self) -> Result<&[(String, Option<ObjectId>)]> {
        if let Some(tags) = self.tags.get() {
            return Ok(tags);
        }
        let refs = self.repo.references().context("reading references")?;
        let mut list = Vec::new();
        for r in refs.tags().context("reading tags")? {
            let Ok(mut r) = r else { continue };
            let name = r.name().shorten().to_str_lossy().into_owned();
            let target = match r.target() {
                gix::refs::TargetRef::Object(oid) => Some(oid.to_owned()),
                gix::refs::TargetRef::Symbolic(_) => r.peel_to_id().ok().map(|id| id.detach()),
            };
            list.push((name, target));
        }
        Ok(self.tags.get_or_init(|| list))
    }

    /// Deployments from tags whose short name matches `pattern`. Annotated tags
    /// are timed by their tagger date, lightweight ones by the commit's
    /// committer date. Tags of trees or blobs are skipped with a note.
    pub fn tag_deployments(
        &self,
        pattern: &Regex,
        notes: &mut Vec<Message>,
    ) -> Result<Vec<(Deployment, ObjectId)>> {
        let mut out = Vec::new();
        let mut buf = Vec::new();
        for (name, target) in self.tags()? {
            if !pattern.is_match(name) {
                continue;
            }
            let name = name.clone();
            let Some(mut id) = *target else {
                notes.push(crate::msg!("msg_note_tag_unresolved", tag = &name));
                continue;
            };
            let mut tagger_time: Option<i64> = None;
            let mut kind_note: Option<Message> = None;
            let commit = loop {
                if found(&self.pre_read(), &id).is_some() {
                    break Some(id);
                }
                let Some(data) = self.repo.objects.try_find(&id, &mut buf).ok().flatten() else {
                    kind_note = Some(crate::msg!("msg_note_tag_missing_object", tag = &name));
                    break None;
                };
                match data.kind {
                    gix::object::Kind::Tag => {
                        let tag = gix::objs::TagRef::from_bytes(data.data, self.repo.object_hash())
                            .with_context(|| format!("decoding tag {name}"))?;
                        if tagger_time.is_none() {
                            tagger_time = tag
                                .tagger()
                                .ok()
                                .flatten()
                                .and_then(|s| signature_seconds(&s).ok());
                        }
                        id = tag.target();
                    }
                    gix::object::Kind::Commit => break Some(id),
                    other => {
                        kind_note = Some(crate::msg!(
                            "msg_note_tag_not_a_commit",
                            tag = &name,
                            kind = other.to_string()
                        ));
                        break None;
                    }
                }
            };
            let Some(commit) = commit else {
                notes.extend(kind_note);
                continue;
            };
            let time = match tagger_time {
                Some(t) => t,
                None => {
                    let none = BotMatcher { extra: None };
                    match self.commit(&commit, &mut buf, &none)? {
                        Some(c) => match c.undecodable() {
                            None => c.committer_time,
                            Some(why) => {
                                notes.push(crate::msg!(
                                    "msg_note_tag_commit_undecodable",
                                    tag = &name,
                                    commit = commit.to_string(),
                                    error = why.clone()
                                ));
                                continue;
                            }
                        },
                        None => continue,
                    }
                }
            };
            out.push((
                Deployment {
                    reference: name,
                    sha: Some(to_sha(&commit)),
                    time: to_time(time),
                    source: DeploymentSource::Tag,
                    status: DeploymentStatus::Success,
                },
                commit,
            ));
        }
        Ok(out)
    }

    /// Deployments from first-parent merges into `branch`, timed by the merge's committer date.
    pub fn branch_deployments(
        &self,
        branch: &str,
        notes: &mut Vec<Message>,
    ) -> Result<Vec<(Deployment, ObjectId)>> {
        let full = if branch.starts_with("refs/") {
            branch.to_string()
        } else {
            format!("refs/heads/{branch}")
        };
        let Some(mut r) = self
            .repo
            .try_find_reference(full.as_str())
            .with_context(|| format!("looking up {full}"))?
        else {
            notes.push(crate::msg!("msg_note_branch_missing", branch = branch));
            return Ok(Vec::new());
        };
        let Ok(tip) = r.peel_to_id() else {
            notes.push(crate::msg!("msg_note_branch_unresolved", branch = branch));
            return Ok(Vec::new());
        };
        let short = branch.trim_start_matches("refs/heads/").to_string();
        let mut out = Vec::new();
        let mut buf = Vec::new();
        let mut cur = Some(tip.detach());
        let none = BotMatcher { extra: None };
        while let Some(id) = cur {
            let Some(info) = self.commit(&id, &mut buf, &none)? else {
                break;
            };
            if let Some(why) = info.undecodable() {
                notes.push(crate::msg!(
                    "msg_note_branch_commit_undecodable",
                    branch = &short,
                    commit = id.to_string(),
                    error = why.clone()
                ));
                cur = info.first_parent();
                continue;
            }
            if info.parent_count() >= 2 {
                let hex = id.to_hex().to_string();
                out.push((
                    Deployment {
                        reference: format!("{short}@{}", &hex[..7]),
                        sha: Some(to_sha(&id)),
                        time: to_time(info.committer_time),
                        source: DeploymentSource::Branch,
                        status: DeploymentStatus::Success,
                    },
                    id,
                ));
            }
            cur = info.first_parent();
        }
        Ok(out)
    }

    /// Resolves a full or abbreviated sha, or a ref name (tag, branch), to a commit.
    pub fn resolve(&self, spec: &str) -> Option<ObjectId> {
        let spec = spec.trim();
        let from_ref = self
            .repo
            .try_find_reference(spec)
            .ok()
            .flatten()
            .and_then(|mut r| r.peel_to_id().ok().map(|id| id.detach()));
        let mut id = match from_ref {
            Some(id) => id,
            None if spec.len() == 40 => ObjectId::from_hex(spec.as_bytes()).ok()?,
            None if spec.len() >= 4 && spec.bytes().all(|b| b.is_ascii_hexdigit()) => {
                let prefix = gix::hash::Prefix::from_hex(&spec.to_ascii_lowercase()).ok()?;
                self.repo.objects.lookup_prefix(prefix, None).ok()??.ok()?
            }
            None => return None,
        };
        let mut buf = Vec::new();
        loop {
            let data = self.repo.objects.try_find(&id, &mut buf).ok().flatten()?;
            match data.kind {
                gix::object::Kind::Commit => return Some(id),
                gix::object::Kind::Tag => {
                    id = gix::objs::TagRef::from_bytes(data.data, self.repo.object_hash())
                        .ok()?
                        .target();
                }
                _ => return None,
            }
        }
    }

    /// The one pass over the commit graph. `deployments` must be in order (time,
    /// then name); `commits[i]` is the commit of deployment `i`, or `None` when it
    /// is unknown or the deployment failed (a failed deployment ships nothing).
    /// Commits that cannot be decoded are skipped with one note naming them.
    ///
    /// Each commit also learns when it reached the mainline (the first-parent
    /// line from the deployed commit) through a merge: the walk goes down first
    /// parents before any other, so a merge's other parents carry its committer
    /// time to everything they bring in. With `deploy_merges`, the deployed
    /// commit is itself a merge into a deploy branch, not into the mainline.
    pub fn ship(
        &self,
        commits: &[Option<ObjectId>],
        bots: &BotMatcher,
        deploy_merges: bool,
        notes: &mut Vec<Message>,
    ) -> Result<Shipped> {
        // The pre-read commits (decoded on all cores; nearly all of history),
        // taken: the walk is their last use. Anything else (loose, deltified,
        // missing) is read through gix and marked in `outside`.
        let packed = if commits.iter().any(Option::is_some) {
            self.pre_read();
            self.packed
                .borrow_mut()
                .take()
                .unwrap_or_else(pack::PackCommits::empty)
        } else {
            pack::PackCommits::empty()
        };
        let bot_authors: Vec<bool> = packed
            .names
            .list()
            .iter()
            .map(|n| bots.is_bot_bytes(n))
            .collect();
        let mut state = RepoShipping {
            git: self,
            bots,
            bot_authors,
            by_position: vec![NONE; packed.len()],
            packed,
            outside: Default::default(),
            read: None,
            buf: Vec::new(),
            skipped: Vec::new(),
            changes: Vec::new(),
            reverts: Vec::new(),
            progress: std::io::stderr().is_terminal(),
            visited: 0,
            last: std::cell::Cell::new((ObjectId::null(self.repo.object_hash()), None)),
        };
        ship_walk(&mut state, commits, deploy_merges)?;
        if state.progress && state.visited >= 50_000 {
            eprintln!("\r{}: {} commits read", self.path.display(), state.visited);
        }
        notes.extend(undecodable_note(&state.skipped));
        let ids = if self.trees.borrow().is_some() {
            // Kept for the services' graph ([`GitRepo::keep_trees`]).
            let ids = state.packed.ids().to_vec();
            *self.packed.borrow_mut() = Some(state.packed);
            ids
        } else {
            state.packed.into_ids()
        };
        let mut shipped = Shipped {
            changes: state.changes,
            ids,
            by_position: state.by_position,
            outside: state.outside,
            outside_sorted: std::cell::OnceCell::new(),
            commits_visited: state.visited,
        };
        for (i, target) in state.reverts {
            let d = shipped.deployment_of(&target);
            shipped.changes[i].reverts_deployment = d;
        }
        Ok(shipped)
    }
}

/// A history the shipping walk ([`ship_walk`]) goes through: the
/// repository's commits by id ([`GitRepo::ship`]) or the services' decoded
/// graph by node number.
pub(super) trait Shipping {
    type Node: Copy + PartialEq;

    /// Marks `node` shipped by deployment `d`; false when an earlier visit
    /// already did.
    fn claim(&mut self, node: Self::Node, d: u32) -> Result<bool>;

    /// Whether a visit claimed `node`.
    fn shipped(&self, node: Self::Node) -> bool;

    /// Visits a node just claimed, `merged` being when a merge brought it into
    /// the mainline: its parents in order into `parents`, and its committer
    /// time, or `None` when it cannot be decoded (its parents are still
    /// walked, and carry `merged` on).
    fn visit(
        &mut self,
        node: Self::Node,
        d: u32,
        merged: Option<i64>,
        parents: &mut Vec<Self::Node>,
    ) -> Result<Option<i64>>;
}

/// The shipping definition, over any [`Shipping`] history: deployments in
/// order, each reaching only commits no earlier one reached; first parents
/// first, so a merge's other parents carry its committer time (when it merged
/// them into the mainline). With `deploy_merges`, a deployed commit is a merge
/// into a deploy branch, not into the mainline.
pub(super) fn ship_walk<S: Shipping>(
    history: &mut S,
    tips: &[Option<S::Node>],
    deploy_merges: bool,
) -> Result<()> {
    // A node to visit, and when the merge that brought it into the mainline was made.
    let mut stack: Vec<(S::Node, Option<i64>)> = Vec::new();
    let mut parents = Vec::new();
    for (d, tip) in tips.iter().enumerate() {
        let Some(tip) = *tip else { continue };
        stack.push((tip, None));
        while let Some((node, merged)) = stack.pop() {
            if !history.claim(node, d as u32)? {
                continue;
            }
            parents.clear();
            let committed = history.visit(node, d as u32, merged, &mut parents)?;
            // A merge on the mainline brings its other parents in at its own time.
            let merges_in = committed.is_some()
                && merged.is_none()
                && parents.len() >= 2
                && !(deploy_merges && node == tip);
            for (k, p) in parents.iter().enumerate().rev() {
                if !history.shipped(*p) {
                    let at = if merges_in && k > 0 {
                        committed
                    } else {
                        merged
                    };
                    stack.push((*p, at));
                }
            }
        }
    }
    Ok(())
}

/// The repository's walk: commits by id, from the pre-read packs or read
/// through gix, recording the changes each deployment shipped.
struct RepoShipping<'a> {
    git: &'a GitRepo,
    bots: &'a BotMatcher,
    bot_authors: Vec<bool>,
    packed: pack::PackCommits<Packed>,
    /// Which deployment shipped each pre-read commit (by position), or NONE.
    by_position: Vec<u32>,
    /// Commits the walk read through gix, with their deployment.
    outside: gix::hashtable::HashMap<ObjectId, u32>,
    /// The commit just claimed outside the packs, read.
    read: Option<Packed>,
    buf: Vec<u8>,
    skipped: Vec<(ObjectId, Arg)>,
    changes: Vec<Change>,
    /// (change, hex of the commit it reverts).
    reverts: Vec<(usize, String)>,
    progress: bool,
    visited: usize,
    /// The last id looked up among the pre-read commits, and where it was:
    /// the walk asks about a parent (`shipped`), then claims and visits it,
    /// so one search serves all three.
    last: std::cell::Cell<(ObjectId, Option<usize>)>,
}

impl RepoShipping<'_> {
    /// [`found`], remembering the last answer.
    fn find(&self, id: &ObjectId) -> Option<usize> {
        let (last, at) = self.last.get();
        if last == *id {
            return at;
        }
        let at = found(&self.packed, id);
        self.last.set((*id, at));
        at
    }
}

impl Shipping for RepoShipping<'_> {
    type Node = ObjectId;

    fn claim(&mut self, id: ObjectId, d: u32) -> Result<bool> {
        self.read = None;
        if let Some(p) = self.find(&id) {
            if self.by_position[p] != NONE {
                return Ok(false);
            }
            self.by_position[p] = d;
            return Ok(true);
        }
        // One hash lookup: insert if absent, and skip if it was there.
        let before = self.outside.len();
        self.outside.entry(id).or_insert(d);
        if self.outside.len() == before {
            return Ok(false);
        }
        self.read = self.git.read_commit(&id, &mut self.buf, self.bots)?;
        // Missing or not a commit: claimed, and nothing to walk.
        Ok(self.read.is_some())
    }

    fn shipped(&self, id: ObjectId) -> bool {
        match self.find(&id) {
            Some(p) => self.by_position[p] != NONE,
            None => self.outside.contains_key(&id),
        }
    }

    fn visit(
        &mut self,
        id: ObjectId,
        d: u32,
        merged: Option<i64>,
        parents: &mut Vec<ObjectId>,
    ) -> Result<Option<i64>> {
        let at = self.find(&id);
        let info: &Packed = match (&self.read, at) {
            (Some(read), _) => read,
            (None, Some(p)) => self.packed.value(p),
            (None, None) => return Ok(None),
        };
        self.visited += 1;
        parents.extend(info.first_parent());
        parents.extend_from_slice(info.more_parents());
        if let Some(why) = info.undecodable() {
            self.skipped.push((id, why.clone()));
            return Ok(None);
        }
        if self.progress && self.visited.is_multiple_of(50_000) {
            eprint!(
                "\r{}: {} commits read",
                self.git.path.display(),
                self.visited
            );
        }
        // The baseline (first deployment) ships no counted changes.
        if info.parent_count() < 2 && !info.is_bot(&self.bot_authors) && d != 0 {
            if let Some(target) = info.reverts() {
                self.reverts.push((self.changes.len(), target.clone()));
            }
            self.changes.push(Change {
                sha: to_sha(&id),
                author_time: to_time(info.author_time),
                deployment: d as usize,
                fix: info.flags & F_FIX != 0,
                reverts_deployment: None,
                revert: info.reverts().is_some(),
                merged_at: merged.map(to_time),
            });
        }
        Ok(Some(info.committer_time))
    }
}

/// A commit as a report shows it: subject line, author name, and the commit
/// it reverts (hex as written). Read on demand for the few commits a report
/// lists, never in the pass over the whole graph.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitSummary {
    pub subject: String,
    pub author: String,
    pub reverts: Option<String>,
}

impl GitRepo {
    /// The summary of commit `sha`, or `None` when it is missing or cannot be decoded.
    pub fn summary(&self, sha: &Sha) -> Option<CommitSummary> {
        summary_in(&self.repo, sha, &mut Vec::new())
    }

    /// The summaries of `shas`, in order, read on all cores (each thread
    /// through its own handle on the object database).
    pub fn summaries(&self, shas: &[Sha]) -> Vec<Option<CommitSummary>> {
        use rayon::prelude::*;
        if shas.len() < 64 {
            let mut buf = Vec::new();
            return shas
                .iter()
                .map(|s| summary_in(&self.repo, s, &mut buf))
                .collect();
        }
        let sync = self.repo.clone().into_sync();
        let chunk = shas.len().div_ceil(rayon::current_num_threads() * 4).max(1);
        shas.par_chunks(chunk)
            .flat_map_iter(|part| {
                let repo = sync.to_thread_local();
                let mut buf = Vec::new();
                part.iter()
                    .map(|s| summary_in(&repo, s, &mut buf))
                    .collect::<Vec<_>>()
            })
            .collect()
    }
}

/// The summary of commit `sha` in `repo` (see [`GitRepo::summary`]).
fn summary_in(repo: &gix::Repository, sha: &Sha, buf: &mut Vec<u8>) -> Option<CommitSummary> {
    {
        let id = ObjectId::try_from(&sha.0[..]).ok()?;
        let data = repo.objects.try_find(&id, buf).ok().flatten()?;
        if data.kind != gix::object::Kind::Commit {
            return None;
        }
        let commit = gix::objs::CommitRef::from_bytes(data.data, repo.object_hash()).ok()?;
        let message: &[u8] = commit.message.as_ref();
        let subject = message.lines().next().unwrap_or_default();
        Some(CommitSummary {
            subject: String::from_utf8_lossy(subject).trim().to_string(),
            author: commit
                .author()
                .map(|a| String::from_utf8_lossy(a.name.as_ref()).trim().to_string())
                .unwrap_or_default(),
            reverts: revert_re()
                .captures(message)
                .and_then(|c| c.get(1))
                .map(|m| String::from_utf8_lossy(m.as_bytes()).to_ascii_lowercase()),
        })
    }
}

/// Where commit `id` is among the pre-read commits, if it was decoded there.
fn found(packed: &pack::PackCommits<Packed>, id: &ObjectId) -> Option<usize> {
    packed
        .position(id)
        .filter(|&p| packed.value(p).flags & F_ABSENT == 0)
}

/// Decodes a commit object's bytes into what the walk needs, or why it cannot
/// be decoded; with its tree id (null when the commit does not decode at all).
fn decode_commit(
    data: &[u8],
    hash: gix::hash::Kind,
    author_of: &mut dyn FnMut(&[u8]) -> u32,
) -> (Decoded, ObjectId) {
    let undecodable = |why: Arg| {
        // Parents come before the author line, so they can usually still be read.
        let parents = gix::objs::CommitRefIter::from_bytes(data, hash)
            .parent_ids()
            .collect();
        (
            Decoded::Undecodable(Undecodable { parents, why }),
            ObjectId::null(hash),
        )
    };
    let commit = match gix::objs::CommitRef::from_bytes(data, hash) {
        Ok(c) => c,
        Err(e) => return undecodable(Arg::English(decode_error(&e))),
    };
    let tree = commit.tree();
    let author = match commit.author() {
        Ok(a) => a,
        Err(e) => {
            let why = SignatureProblem::Unparsable(decode_error(&e));
            return (undecodable(bad_signature(AUTHOR, why)).0, tree);
        }
    };
    let committer = match commit.committer() {
        Ok(c) => c,
        Err(e) => {
            let why = SignatureProblem::Unparsable(decode_error(&e));
            return (undecodable(bad_signature(COMMITTER, why)).0, tree);
        }
    };
    let author_time = match signature_seconds(&author) {
        Ok(t) => t,
        Err(why) => {
            let why = bad_signature(AUTHOR, SignatureProblem::Date(why));
            return (undecodable(why).0, tree);
        }
    };
    let committer_time = match signature_seconds(&committer) {
        Ok(t) => t,
        Err(why) => {
            let why = bad_signature(COMMITTER, SignatureProblem::Date(why));
            return (undecodable(why).0, tree);
        }
    };
    let message: &[u8] = commit.message.as_ref();
    let reverts = if revert_finder().find(message).is_some() {
        revert_re()
            .captures(message)
            .and_then(|c| c.get(1))
            .map(|m| String::from_utf8_lossy(m.as_bytes()).to_ascii_lowercase())
    } else {
        None
    };
    let decoded = Decoded::Commit(CommitInfo {
        parents: commit.parents().collect(),
        author_time,
        committer_time,
        author: author_of(author.name.as_ref()),
        fix: matches!(message.first(), Some(b'f' | b'F' | b'h' | b'H'))
            && fix_re().is_match(message.lines().next().unwrap_or_default()),
        reverts,
    });
    (decoded, tree)
}

/// The compact fact form of a gix object id.
pub fn to_sha(id: &ObjectId) -> Sha {
    let mut out = [0u8; 20];
    let bytes = id.as_bytes();
    out.copy_from_slice(&bytes[..20]);
    Sha(out)
}

/// Orders deployments by time, then by ref in byte order, as the definitions require.
pub fn sort_deployments<T>(list: &mut [(Deployment, T)]) {
    list.sort_by(|a, b| {
        a.0.time
            .cmp(&b.0.time)
            .then_with(|| a.0.reference.as_bytes().cmp(b.0.reference.as_bytes()))
    });
}

impl GitRepo {
    /// Every tag's short name with its time (the tagger date of an annotated
    /// tag, else its commit's committer date; 0 when neither can be read),
    /// newest first, ties by name. For explaining why no tag is a deployment;
    /// separate from the collector's pass.
    pub fn tag_names(&self) -> Result<Vec<(String, i64)>> {
        let mut out = Vec::new();
        for (name, target) in self.tags()? {
            let name = name.clone();
            let time = (*target)
                .and_then(|id| {
                    let object = self.repo.find_object(id).ok()?;
                    match object.kind {
                        gix::object::Kind::Tag => {
                            let tag = object.into_tag();
                            let tagged = tag.tagger().ok().flatten().map(|s| s.seconds());
                            tagged.or_else(|| {
                                tag.target_id()
                                    .ok()?
                                    .object()
                                    .ok()?
                                    .try_into_commit()
                                    .ok()?
                                    .time()
                                    .ok()
                                    .map(|t| t.seconds)
                            })
                        }
                        gix::object::Kind::Commit => {
                            object.into_commit().time().ok().map(|t| t.seconds)
                        }
                        _ => None,
                    }
                })
                .unwrap_or(0);
            out.push((name, time));
        }
        out.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        Ok(out)
    }
}
