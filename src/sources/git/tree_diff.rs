//! The services each commit touches: its tree against its first parent's,
//! descending only into folders some service's globs can match, on all cores.
//!
//! Trees are read through [`pack_objects`](super::pack_objects) (straight from
//! the packs, every step of a delta chain kept) and compared as they are
//! stored: entries are walked in place, in git's order, and a subtree is read
//! only when its id differs on the two sides and a service may hold a file
//! under it. Decoded trees are kept by id, so a commit's old tree is usually
//! the one the commit diffed just before read as its new tree.

use std::rc::Rc;

use gix::objs::Find;
use gix::ObjectId;
use rayon::prelude::*;

use super::pack_objects::{Packs, Reader, Recent};
use crate::sources::services::ServiceSet;

/// Bytes of objects each thread keeps from the delta chains it resolved.
const OBJECT_CACHE: usize = 24 << 20;
/// Bytes of delta bases each thread's gix handle keeps (objects outside the
/// packs this reader understands).
const GIX_CACHE: usize = 8 << 20;
/// Bytes of trees each thread keeps by id.
const TREE_CACHE: usize = 8 << 20;
/// Commits diffed each way at the start of a run to choose its order.
const PROBE: usize = 48;

/// What to compare for one commit.
pub(super) enum Pair {
    /// Not a change (a merge, a bot's, undecodable): nothing to compare.
    Skip,
    /// Its tree against its first parent's (`None`: a root commit, every file).
    Diff {
        old: Option<ObjectId>,
        new: ObjectId,
    },
    /// Its first parent cannot be decoded, so there is nothing to compare with.
    ParentUndecodable,
}

/// The services (bits of `set`) each pair touches, or why its trees cannot be
/// compared. Pairs are split into a few contiguous runs (consecutive pairs are
/// mostly child and parent), each diffed by one thread with its own caches,
/// oldest or newest first as its probe finds cheaper.
pub(super) fn touched(
    repo: &gix::Repository,
    set: &ServiceSet,
    pairs: &[Pair],
) -> Vec<Result<u64, String>> {
    let packs = Packs::open(repo.objects.store_ref().path(), repo.object_hash());
    let sync = repo.clone().into_sync();
    let full = if set.len() == 64 {
        u64::MAX
    } else {
        (1u64 << set.len()) - 1
    };
    let n = pairs.len();
    let runs = (rayon::current_num_threads() * 4).max(1);
    let size = n.div_ceil(runs).max(256);
    let mut results: Vec<(usize, Result<u64, String>)> = (0..n)
        .step_by(size)
        .collect::<Vec<_>>()
        .into_par_iter()
        .flat_map_iter(|start| {
            let mut repo = sync.to_thread_local();
            repo.objects.set_pack_cache(|| {
                Box::new(gix::odb::pack::cache::lru::MemoryCappedHashmap::new(
                    GIX_CACHE,
                ))
            });
            let mut diff = TreeDiff {
                reader: packs.reader(OBJECT_CACHE),
                repo: &repo,
                set,
                scratch: Vec::new(),
                mask: 0,
                full,
                trees: Recent::new(TREE_CACHE),
                empty: Rc::from(Vec::new()),
                prefix: String::new(),
            };
            let end = (start + size).min(n);
            let mut out = Vec::with_capacity(end - start);
            let mut each = |range: &mut dyn Iterator<Item = usize>, diff: &mut TreeDiff<'_>| {
                out.extend(range.map(|i| (i, diff.pair(&pairs[i]))))
            };
            // Which way the packs' delta chains run decides the cheap order:
            // a child's tree is usually stored as a delta of its parent's
            // (`git fast-import`) or the other way round (`git repack`, what
            // a clone receives). Diff a few commits each way, counting the
            // entries inflated, and do the rest the cheaper way.
            let mut oldest_first = true;
            if end - start > 2 * PROBE {
                // Nodes run from newer to older (parents after children).
                let before = diff.reader.steps;
                each(&mut (start..start + PROBE), &mut diff);
                let newest = diff.reader.steps - before;
                let before = diff.reader.steps;
                each(&mut (end - PROBE..end).rev(), &mut diff);
                let oldest = diff.reader.steps - before;
                oldest_first = oldest <= newest;
                let middle = start + PROBE..end - PROBE;
                if oldest_first {
                    each(&mut middle.rev(), &mut diff);
                } else {
                    each(&mut middle.into_iter(), &mut diff);
                }
            } else {
                each(&mut (start..end).rev(), &mut diff);
            }
            tracing::trace!(
                "diffed commits {start}..{end}, oldest first: {oldest_first}, {} entries inflated",
                diff.reader.steps
            );
            out
        })
        .collect();
    results.sort_unstable_by_key(|r| r.0);
    results.into_iter().map(|r| r.1).collect()
}

/// Git's order of tree entries: by name, a folder's name with a `/` after it.
fn git_order(a: &[u8], a_tree: bool, b: &[u8], b_tree: bool) -> std::cmp::Ordering {
    let common = a.len().min(b.len());
    a[..common].cmp(&b[..common]).then_with(|| {
        let next = |n: &[u8], tree: bool| n.get(common).copied().or(tree.then_some(b'/'));
        next(a, a_tree).cmp(&next(b, b_tree))
    })
}

/// One side of an entry that differs.
#[derive(Clone, Copy)]
struct Side<'t> {
    name: &'t [u8],
    tree: bool,
    id: &'t gix::oid,
}

struct TreeDiff<'a> {
    reader: Reader<'a>,
    /// For what the packs' reader cannot read.
    repo: &'a gix::Repository,
    set: &'a ServiceSet,
    scratch: Vec<usize>,
    mask: u64,
    full: u64,
    /// Trees read, by id (checked to decode).
    trees: Recent<ObjectId, Rc<[u8]>, gix::hashtable::hash::Builder>,
    empty: Rc<[u8]>,
    /// The folder being compared, ending in `/` (empty at the root).
    prefix: String,
}

impl TreeDiff<'_> {
    /// The services one pair touches.
    fn pair(&mut self, pair: &Pair) -> Result<u64, String> {
        match pair {
            Pair::Skip => Ok(0),
            Pair::ParentUndecodable => Err("its parent cannot be decoded".to_string()),
            Pair::Diff { old, new } => {
                self.mask = 0;
                self.prefix.clear();
                self.trees(*old, Some(*new)).map(|()| self.mask)
            }
        }
    }

    /// The stored bytes of tree `id` (`None`: no tree, empty).
    fn tree(&mut self, id: Option<ObjectId>) -> Result<Rc<[u8]>, String> {
        let Some(id) = id else {
            return Ok(self.empty.clone());
        };
        if let Some(t) = self.trees.get(&id) {
            return Ok(t);
        }
        let (kind, data) = match self.reader.find(&id) {
            Some(found) => found,
            None => {
                let mut buf = Vec::new();
                let data = self
                    .repo
                    .objects
                    .try_find(&id, &mut buf)
                    .map_err(|e| format!("reading tree {id}: {e}"))?
                    .ok_or_else(|| format!("tree {id} is missing"))?;
                (data.kind, Rc::from(data.data))
            }
        };
        if kind != gix::object::Kind::Tree {
            return Err(format!("{id} is a {kind}, not a tree"));
        }
        let hash = self.repo.object_hash();
        if let Some(Err(e)) = gix::objs::TreeRefIter::from_bytes(&data, hash).find(Result::is_err) {
            return Err(format!("decoding tree {id}: {e}"));
        }
        self.trees.put(id, data.clone(), data.len());
        Ok(data)
    }

    /// Marks the services of every file that differs between two trees
    /// (`None`: no tree, so every file of the other differs), merging their
    /// entries in git's order.
    fn trees(&mut self, old: Option<ObjectId>, new: Option<ObjectId>) -> Result<(), String> {
        let a = self.tree(old)?;
        let b = self.tree(new)?;
        let hash = self.repo.object_hash();
        // Both decode (checked when read).
        fn side(e: gix::objs::tree::EntryRef<'_>) -> Side<'_> {
            Side {
                name: e.filename,
                tree: e.mode.is_tree(),
                id: e.oid,
            }
        }
        let mut left = gix::objs::TreeRefIter::from_bytes(&a, hash)
            .map_while(Result::ok)
            .map(side);
        let mut right = gix::objs::TreeRefIter::from_bytes(&b, hash)
            .map_while(Result::ok)
            .map(side);
        let (mut x, mut y) = (left.next(), right.next());
        loop {
            let order = match (x, y) {
                (Some(x), Some(y)) => git_order(x.name, x.tree, y.name, y.tree),
                (Some(_), None) => std::cmp::Ordering::Less,
                (None, Some(_)) => std::cmp::Ordering::Greater,
                (None, None) => return Ok(()),
            };
            match order {
                std::cmp::Ordering::Less => {
                    self.entry(x, None)?;
                    x = left.next();
                }
                std::cmp::Ordering::Greater => {
                    self.entry(None, y)?;
                    y = right.next();
                }
                std::cmp::Ordering::Equal => {
                    if x.map(|e| e.id) != y.map(|e| e.id) {
                        self.entry(x, y)?;
                    }
                    x = left.next();
                    y = right.next();
                }
            }
            if self.mask == self.full {
                return Ok(());
            }
        }
    }

    fn entry(&mut self, old: Option<Side<'_>>, new: Option<Side<'_>>) -> Result<(), String> {
        let name = old.or(new).map(|e| e.name).unwrap_or_default();
        let len = self.prefix.len();
        match std::str::from_utf8(name) {
            Ok(n) => self.prefix.push_str(n),
            Err(_) => self.prefix.push_str(&String::from_utf8_lossy(name)),
        }
        let old_tree = old.filter(|e| e.tree).map(|e| e.id.to_owned());
        let new_tree = new.filter(|e| e.tree).map(|e| e.id.to_owned());
        let blob = old.is_some_and(|e| !e.tree) || new.is_some_and(|e| !e.tree);
        if blob {
            self.mask |= self.set.services_of(&self.prefix, &mut self.scratch);
        }
        let mut result = Ok(());
        if old_tree.is_some() || new_tree.is_some() {
            self.prefix.push('/');
            if self.set.may_contain(&self.prefix) {
                result = self.trees(old_tree, new_tree);
            }
        }
        self.prefix.truncate(len);
        result
    }
}
