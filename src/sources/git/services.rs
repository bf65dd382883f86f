//! The services of a repository from one pass over its history, every service
//! at once.
//!
//! 1. The graph: every commit reachable from any deployment (the repository's
//!    and each service's), decoded once (packs on all cores, as the
//!    repository's pass does), with its tree.
//! 2. The tree diffs, the costly part, on all cores: each counted commit (not
//!    a merge, not by a bot) against its first parent (a root commit: all its
//!    files), descending only into folders some service's globs can match,
//!    gives the set of services it touches (a 64-bit set).
//! 3. Shipping, per service, over the decoded graph in memory: its
//!    deployments in order, each reaching only commits no earlier deployment
//!    of that service reached (the repository's definition), the merge time
//!    carried as the repository's pass does. A service's changes are the
//!    counted commits it shipped that touch it.
//!
//! The result is a [`RepoFacts`] per service, so the repository's metrics
//! apply unchanged.

use std::collections::HashMap;

use anyhow::Result;
use gix::bstr::ByteSlice;
use gix::objs::Find;
use gix::ObjectId;
use rayon::prelude::*;

use super::{
    fix_re, pack, revert_finder, revert_re, signature_seconds, to_sha, to_time, BotMatcher,
    GitRepo, BOT, NOT_BOT,
};
use crate::facts::{Change, Deployment, Incident, RepoFacts, ServiceFacts, ServicesFacts, Touch};
use crate::message::Message;
use crate::sources::events::IncidentRow;
use crate::sources::services::ServiceSet;

/// Bytes of delta bases each thread keeps for the tree diffs: trees are
/// stored as long chains of deltas (25 deep on average from `git
/// fast-import`), and without a cache every tree read inflates its chain.
const DELTA_BASE_CACHE: usize = 32 << 20;

/// Where a service's deployments come from.
pub enum ServiceDeployments {
    /// Its own: tags matching its `tag_pattern`, or events rows naming it;
    /// in order (time, then name), with the commit each deployed (`None`:
    /// unknown, or the deployment failed and shipped nothing).
    Own {
        deployments: Vec<(Deployment, Option<ObjectId>)>,
        source: Message,
        /// Said when there are none.
        none_note: Message,
    },
    /// The repository's deployments that ship one of its changes (and the
    /// repository's first deployment, the baseline).
    Repository,
}

/// One commit as the services' pass needs it.
#[derive(Clone)]
struct Raw {
    tree: ObjectId,
    parents: Vec<ObjectId>,
    author_time: i64,
    committer_time: i64,
    author: u32,
    fix: bool,
    reverts: Option<Box<str>>,
    /// Decoded (a commit that cannot be decoded is skipped, with the
    /// repository's note naming it); absent from the packs' pre-read.
    ok: bool,
    absent: bool,
}

struct Node {
    tree: ObjectId,
    parents: Vec<u32>,
    author_time: i64,
    committer_time: i64,
    fix: bool,
    reverts: Option<Box<str>>,
    /// Not a merge, not by a bot, decoded: a change.
    counted: bool,
    ok: bool,
}

const NONE: u32 = u32::MAX;

fn decode(
    data: &[u8],
    hash: gix::hash::Kind,
    author_of: &mut dyn FnMut(&[u8]) -> u32,
) -> Option<Raw> {
    let commit = gix::objs::CommitRef::from_bytes(data, hash).ok();
    let Some(commit) = commit else {
        // Still walk through it: parents come first and usually decode.
        let parents = gix::objs::CommitRefIter::from_bytes(data, hash)
            .parent_ids()
            .collect();
        return Some(Raw {
            tree: ObjectId::null(hash),
            parents,
            author_time: 0,
            committer_time: 0,
            author: NOT_BOT,
            fix: false,
            reverts: None,
            ok: false,
            absent: false,
        });
    };
    let times = commit
        .author()
        .ok()
        .and_then(|a| Some((a, signature_seconds(&a).ok()?)))
        .zip(
            commit
                .committer()
                .ok()
                .and_then(|c| signature_seconds(&c).ok()),
        );
    let message: &[u8] = commit.message.as_ref();
    let reverts = if revert_finder().find(message).is_some() {
        revert_re()
            .captures(message)
            .and_then(|c| c.get(1))
            .map(|m| {
                String::from_utf8_lossy(m.as_bytes())
                    .to_ascii_lowercase()
                    .into()
            })
    } else {
        None
    };
    let parents: Vec<ObjectId> = commit.parents().collect();
    Some(match times {
        Some(((author, at), ct)) => Raw {
            tree: commit.tree(),
            parents,
            author_time: at,
            committer_time: ct,
            author: author_of(author.name.as_ref()),
            fix: matches!(message.first(), Some(b'f' | b'F' | b'h' | b'H'))
                && fix_re().is_match(message.lines().next().unwrap_or_default()),
            reverts,
            ok: true,
            absent: false,
        },
        None => Raw {
            tree: commit.tree(),
            parents,
            author_time: 0,
            committer_time: 0,
            author: NOT_BOT,
            fix: false,
            reverts: None,
            ok: false,
            absent: false,
        },
    })
}

/// The decoded graph reachable from some tips.
struct Graph {
    ids: Vec<ObjectId>,
    nodes: Vec<Node>,
    index: gix::hashtable::HashMap<ObjectId, u32>,
    /// `(id, node)` sorted by id, for abbreviated revert targets and causes.
    sorted: std::sync::OnceLock<Vec<(ObjectId, u32)>>,
}

impl Graph {
    /// The node named by full or abbreviated (≥ 4 digits, unambiguous) hex.
    fn find(&self, hex: &str) -> Option<u32> {
        let hex = hex.trim().to_ascii_lowercase();
        if hex.len() == 40 {
            let id = ObjectId::from_hex(hex.as_bytes()).ok()?;
            return self.index.get(&id).copied();
        }
        if hex.len() < 4 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let sorted = self.sorted.get_or_init(|| {
            let mut v: Vec<(ObjectId, u32)> = self
                .ids
                .iter()
                .enumerate()
                .map(|(i, id)| (*id, i as u32))
                .collect();
            v.sort_unstable_by_key(|a| a.0);
            v
        });
        let found = super::with_prefix(sorted, |(id, _)| id, &hex);
        match found {
            [(_, n)] => Some(*n),
            _ => None,
        }
    }
}

impl GitRepo {
    fn services_graph(&self, tips: &[ObjectId], bots: &BotMatcher) -> Result<Graph> {
        let hash = self.repo.object_hash();
        let packed =
            pack::read_commits(
                self.repo.objects.store_ref().path(),
                hash,
                |d, number| match d.and_then(|d| decode(d, hash, number)) {
                    Some(r) => r,
                    None => Raw {
                        tree: ObjectId::null(hash),
                        parents: Vec::new(),
                        author_time: 0,
                        committer_time: 0,
                        author: NOT_BOT,
                        fix: false,
                        reverts: None,
                        ok: false,
                        absent: true,
                    },
                },
            );
        let bot_authors: Vec<bool> = packed
            .names
            .list()
            .iter()
            .map(|n| bots.is_bot_bytes(n))
            .collect();
        let is_bot = |a: u32| match a {
            BOT => true,
            NOT_BOT => false,
            n => bot_authors.get(n as usize).copied().unwrap_or(false),
        };
        let mut index: gix::hashtable::HashMap<ObjectId, u32> = Default::default();
        let mut ids = Vec::new();
        let mut raws: Vec<Raw> = Vec::new();
        let mut stack: Vec<ObjectId> = tips.iter().rev().copied().collect();
        let mut buf = Vec::new();
        while let Some(id) = stack.pop() {
            if index.contains_key(&id) {
                continue;
            }
            let raw = match packed.position(&id).map(|p| packed.value(p)) {
                Some(r) if !r.absent => r.clone(),
                _ => {
                    let Some(data) = self.repo.objects.try_find(&id, &mut buf)? else {
                        continue;
                    };
                    if data.kind != gix::object::Kind::Commit {
                        continue;
                    }
                    let mut author_of = |name: &[u8]| {
                        if bots.is_bot_bytes(name) {
                            BOT
                        } else {
                            NOT_BOT
                        }
                    };
                    match decode(data.data, hash, &mut author_of) {
                        Some(r) => r,
                        None => continue,
                    }
                }
            };
            index.insert(id, ids.len() as u32);
            ids.push(id);
            // The first parent is visited first: consecutive nodes tend to be
            // parent and child, which keeps the diffs' object cache warm.
            stack.extend(raw.parents.iter().rev().filter(|p| !index.contains_key(*p)));
            raws.push(raw);
        }
        drop(packed);
        let nodes = raws
            .into_iter()
            .map(|r| Node {
                counted: r.ok && r.parents.len() < 2 && !is_bot(r.author),
                parents: r
                    .parents
                    .iter()
                    .filter_map(|p| index.get(p).copied())
                    .collect(),
                tree: r.tree,
                author_time: r.author_time,
                committer_time: r.committer_time,
                fix: r.fix,
                reverts: r.reverts,
                ok: r.ok,
            })
            .collect();
        Ok(Graph {
            ids,
            nodes,
            index,
            sorted: std::sync::OnceLock::new(),
        })
    }

    /// The services' facts, in the order of `set`. `plans[k]` says where
    /// service `k`'s deployments come from; `repository` is the repository's
    /// deployments with their commits (as its own pass shipped them);
    /// `incidents` every incident row (those naming a service are its).
    #[allow(clippy::too_many_arguments)]
    pub fn service_facts(
        &self,
        set: &ServiceSet,
        plans: Vec<ServiceDeployments>,
        repository: &[(Deployment, Option<ObjectId>)],
        repository_source: &Message,
        incidents: &[IncidentRow],
        bots: &BotMatcher,
        deploy_merges: bool,
    ) -> Result<ServicesFacts> {
        let t = std::time::Instant::now();
        let mut tips: Vec<ObjectId> = repository.iter().filter_map(|(_, c)| *c).collect();
        for p in &plans {
            if let ServiceDeployments::Own { deployments, .. } = p {
                tips.extend(deployments.iter().filter_map(|(_, c)| *c));
            }
        }
        let graph = self.services_graph(&tips, bots)?;
        let (masks, unreadable) = self.touched(&graph, set);
        tracing::debug!(
            "{}: {} commits diffed for {} services in {:?}",
            self.path.display(),
            graph.nodes.len(),
            set.len(),
            t.elapsed()
        );

        let mut touches: Vec<Touch> = graph
            .nodes
            .iter()
            .zip(&masks)
            .enumerate()
            .filter(|(_, (n, m))| n.counted && **m != 0)
            .map(|(i, (n, m))| Touch {
                sha: to_sha(&graph.ids[i]),
                author_time: to_time(n.author_time),
                services: (0..64u16).filter(|k| m & (1u64 << k) != 0).collect(),
            })
            .collect();
        touches.sort_by(|a, b| a.author_time.cmp(&b.author_time).then(a.sha.cmp(&b.sha)));

        let mut repository_walk: Option<Walk> = None;
        let mut services = Vec::new();
        for (k, (def, plan)) in set.defs.iter().zip(plans).enumerate() {
            let mut notes = unreadable.clone();
            let (deployments, source, own) = match plan {
                ServiceDeployments::Own {
                    deployments,
                    source,
                    none_note,
                } => {
                    if deployments.is_empty() {
                        notes.push(none_note);
                    }
                    (deployments, source, true)
                }
                ServiceDeployments::Repository => {
                    if repository.is_empty() {
                        notes.push(Message::new("msg_note_service_no_deployments"));
                    }
                    (
                        repository.to_vec(),
                        crate::msg!("msg_source_repository", source = repository_source.clone()),
                        false,
                    )
                }
            };
            let commits: Vec<Option<u32>> = deployments
                .iter()
                .map(|(_, c)| c.and_then(|c| graph.index.get(&c).copied()))
                .collect();
            let own_walk;
            let walk = if own {
                own_walk = walk(&graph, &commits, false);
                &own_walk
            } else {
                repository_walk.get_or_insert_with(|| walk(&graph, &commits, deploy_merges))
            };
            let bit = 1u64 << k;
            let mut changes: Vec<Change> = Vec::new();
            for &(node, d, merged) in &walk.order {
                let n = &graph.nodes[node as usize];
                if d == 0 || !n.counted || masks[node as usize] & bit == 0 {
                    continue;
                }
                changes.push(Change {
                    sha: to_sha(&graph.ids[node as usize]),
                    author_time: to_time(n.author_time),
                    deployment: d as usize,
                    fix: n.fix,
                    reverts_deployment: n
                        .reverts
                        .as_deref()
                        .and_then(|hex| walk.deployment_of(&graph, hex)),
                    revert: n.reverts.is_some(),
                    merged_at: merged.map(to_time),
                });
            }
            let mut facts = RepoFacts {
                name: def.name.clone(),
                deployments: deployments.into_iter().map(|(d, _)| d).collect(),
                changes,
                notes,
                ..RepoFacts::default()
            };
            for row in incidents
                .iter()
                .filter(|r| r.service.as_deref() == Some(def.name.as_str()))
            {
                facts.incidents.push(Incident {
                    id: row.id.clone(),
                    started_at: row.started_at,
                    resolved_at: row.resolved_at,
                    cause_deployment: row
                        .cause_sha
                        .as_deref()
                        .and_then(|hex| walk.deployment_of(&graph, hex)),
                });
            }
            facts.incidents.sort_by(|a, b| {
                a.started_at
                    .cmp(&b.started_at)
                    .then_with(|| a.id.cmp(&b.id))
            });
            if !own {
                keep_shipping_deployments(&mut facts);
            }
            services.push(ServiceFacts {
                name: def.name.clone(),
                paths: def.paths.clone(),
                tag_pattern: def.tag_pattern.clone(),
                deployment_source: source,
                facts,
            });
        }
        Ok(ServicesFacts {
            services,
            touches,
            unmeasured: None,
        })
    }

    /// The services each node touches (0 for nodes that are not changes),
    /// diffed on all cores; and a note per commit whose trees cannot be read.
    /// Nodes are split into a few contiguous runs (consecutive nodes are
    /// mostly child and parent), each diffed in order by one thread with its
    /// own object cache and decoded trees, so a commit's old tree is usually
    /// the one its child just decoded.
    fn touched(&self, graph: &Graph, set: &ServiceSet) -> (Vec<u64>, Vec<Message>) {
        let sync = self.repo.clone().into_sync();
        let full = if set.len() == 64 {
            u64::MAX
        } else {
            (1u64 << set.len()) - 1
        };
        let n = graph.nodes.len();
        let runs = (rayon::current_num_threads() * 4).max(1);
        let size = n.div_ceil(runs).max(256);
        let mut results: Vec<(usize, Result<u64, String>)> = (0..n)
            .step_by(size)
            .collect::<Vec<_>>()
            .into_par_iter()
            .flat_map_iter(|start| {
                let steps = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
                let mut repo = sync.to_thread_local();
                let counter = steps.clone();
                repo.objects.set_pack_cache(move || {
                    Box::new(CountingCache {
                        inner: gix::odb::pack::cache::lru::MemoryCappedHashmap::new(
                            DELTA_BASE_CACHE,
                        ),
                        steps: counter.clone(),
                    })
                });
                let mut diff = TreeDiff {
                    repo: &repo,
                    set,
                    scratch: Vec::new(),
                    mask: 0,
                    full,
                    trees: HashMap::new(),
                };
                let mut prefix = String::new();
                let mut one = |i: usize| {
                    let node = &graph.nodes[i];
                    if !node.counted {
                        return (i, Ok(0));
                    }
                    let old = node.parents.first().map(|&p| &graph.nodes[p as usize]);
                    if old.is_some_and(|o| !o.ok) {
                        return (i, Err("its parent cannot be decoded".to_string()));
                    }
                    diff.mask = 0;
                    prefix.clear();
                    let r = diff
                        .trees(old.map(|o| o.tree), Some(node.tree), &mut prefix)
                        .map(|()| diff.mask);
                    diff.forget_old();
                    (i, r)
                };
                let end = (start + size).min(n);
                let mut out = Vec::with_capacity(end - start);
                // Which way the packs' delta chains run decides the cheap
                // order: a child's tree is usually stored as a delta of its
                // parent's (`git fast-import`) or the other way round (`git
                // repack`, what a clone receives). Diff a few commits each way,
                // counting the delta steps walked, and do the rest the cheaper way.
                let mut oldest_first = true;
                if end - start > 2 * PROBE {
                    let counted = |steps: &std::sync::atomic::AtomicU64| {
                        steps.swap(0, std::sync::atomic::Ordering::Relaxed)
                    };
                    counted(&steps);
                    out.extend((start..start + PROBE).map(&mut one));
                    let newest = counted(&steps);
                    out.extend((end - PROBE..end).rev().map(&mut one));
                    let oldest = counted(&steps);
                    oldest_first = oldest <= newest;
                    let middle = start + PROBE..end - PROBE;
                    if oldest_first {
                        out.extend(middle.rev().map(&mut one));
                    } else {
                        out.extend(middle.map(&mut one));
                    }
                } else {
                    out.extend((start..end).rev().map(&mut one));
                }
                tracing::trace!("diffed commits {start}..{end}, oldest first: {oldest_first}");
                out
            })
            .collect();
        results.sort_unstable_by_key(|r| r.0);
        let results = results.into_iter().map(|r| r.1);
        let mut notes = Vec::new();
        let masks = results
            .enumerate()
            .map(|(i, r)| match r {
                Ok(m) => m,
                Err(why) => {
                    if notes.len() < 5 {
                        notes.push(crate::msg!(
                            "msg_note_service_tree_unreadable",
                            commit = graph.ids[i].to_string(),
                            error = why
                        ));
                    }
                    0
                }
            })
            .collect();
        (masks, notes)
    }
}

/// Commits diffed each way at the start of a run to choose its order.
const PROBE: usize = 48;

/// The delta-base cache, counting how many delta steps reads had to walk
/// (each lookup is one step of a chain).
struct CountingCache {
    inner: gix::odb::pack::cache::lru::MemoryCappedHashmap,
    steps: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl gix::odb::pack::cache::DecodeEntry for CountingCache {
    fn put(
        &mut self,
        pack_id: u32,
        offset: u64,
        data: &[u8],
        kind: gix::object::Kind,
        compressed_size: usize,
    ) {
        self.inner.put(pack_id, offset, data, kind, compressed_size)
    }

    fn get(
        &mut self,
        pack_id: u32,
        offset: u64,
        out: &mut Vec<u8>,
    ) -> Option<(gix::object::Kind, usize)> {
        self.steps
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.inner.get(pack_id, offset, out)
    }
}

/// One entry of a decoded tree.
struct Entry {
    name: Box<[u8]>,
    tree: bool,
    id: ObjectId,
}

/// Git's order of tree entries: by name, a folder's name with a `/` after it.
fn git_order(a: &Entry, b: &Entry) -> std::cmp::Ordering {
    let common = a.name.len().min(b.name.len());
    a.name[..common].cmp(&b.name[..common]).then_with(|| {
        let next = |e: &Entry| e.name.get(common).copied().or(e.tree.then_some(b'/'));
        next(a).cmp(&next(b))
    })
}

/// Decoded trees kept while diffing one run of commits.
const KEPT_TREES: usize = 4096;

struct TreeDiff<'a> {
    repo: &'a gix::Repository,
    set: &'a ServiceSet,
    scratch: Vec<usize>,
    mask: u64,
    full: u64,
    trees: HashMap<ObjectId, std::rc::Rc<[Entry]>>,
}

impl TreeDiff<'_> {
    /// Keeps the decoded trees bounded (a run's next commit needs only the
    /// ones just read: its new tree is the old tree of the commit before).
    fn forget_old(&mut self) {
        if self.trees.len() > KEPT_TREES {
            self.trees.clear();
        }
    }

    fn entries(&mut self, id: Option<ObjectId>) -> Result<std::rc::Rc<[Entry]>, String> {
        let Some(id) = id else {
            return Ok(std::rc::Rc::from(Vec::new()));
        };
        if let Some(t) = self.trees.get(&id) {
            return Ok(t.clone());
        }
        let mut buf = Vec::new();
        let data = self
            .repo
            .objects
            .try_find(&id, &mut buf)
            .map_err(|e| format!("reading tree {id}: {e}"))?
            .ok_or_else(|| format!("tree {id} is missing"))?;
        if data.kind != gix::object::Kind::Tree {
            return Err(format!("{id} is a {}, not a tree", data.kind));
        }
        let tree = gix::objs::TreeRef::from_bytes(data.data, self.repo.object_hash())
            .map_err(|e| format!("decoding tree {id}: {e}"))?;
        let entries: std::rc::Rc<[Entry]> = tree
            .entries
            .iter()
            .map(|e| Entry {
                name: e.filename.to_vec().into_boxed_slice(),
                tree: e.mode.is_tree(),
                id: e.oid.to_owned(),
            })
            .collect();
        self.trees.insert(id, entries.clone());
        Ok(entries)
    }

    /// Marks the services of every file that differs between two trees
    /// (`None`: no tree, so every file of the other differs), merging their
    /// entries in git's order.
    fn trees(
        &mut self,
        old: Option<ObjectId>,
        new: Option<ObjectId>,
        prefix: &mut String,
    ) -> Result<(), String> {
        let a = self.entries(old)?;
        let b = self.entries(new)?;
        let (mut i, mut j) = (0, 0);
        while i < a.len() || j < b.len() {
            let order = match (a.get(i), b.get(j)) {
                (Some(x), Some(y)) => git_order(x, y),
                (Some(_), None) => std::cmp::Ordering::Less,
                _ => std::cmp::Ordering::Greater,
            };
            match order {
                std::cmp::Ordering::Less => {
                    self.entry(Some(&a[i]), None, prefix)?;
                    i += 1;
                }
                std::cmp::Ordering::Greater => {
                    self.entry(None, Some(&b[j]), prefix)?;
                    j += 1;
                }
                std::cmp::Ordering::Equal => {
                    if a[i].id != b[j].id {
                        self.entry(Some(&a[i]), Some(&b[j]), prefix)?;
                    }
                    i += 1;
                    j += 1;
                }
            }
            if self.mask == self.full {
                return Ok(());
            }
        }
        Ok(())
    }

    fn entry(
        &mut self,
        old: Option<&Entry>,
        new: Option<&Entry>,
        prefix: &mut String,
    ) -> Result<(), String> {
        let name = old.or(new).map(|e| &*e.name).unwrap_or_default();
        let len = prefix.len();
        match std::str::from_utf8(name) {
            Ok(n) => prefix.push_str(n),
            Err(_) => prefix.push_str(&String::from_utf8_lossy(name)),
        }
        let old_tree = old.filter(|e| e.tree).map(|e| e.id);
        let new_tree = new.filter(|e| e.tree).map(|e| e.id);
        let blob = old.is_some_and(|e| !e.tree) || new.is_some_and(|e| !e.tree);
        if blob {
            self.mask |= self.set.services_of(prefix, &mut self.scratch);
        }
        if old_tree.is_some() || new_tree.is_some() {
            prefix.push('/');
            if self.set.may_contain(prefix) {
                self.trees(old_tree, new_tree, prefix)?;
            }
        }
        prefix.truncate(len);
        Ok(())
    }
}

/// Which deployment shipped each node, and the visits in order with their
/// merge times: the repository's shipping definition over the decoded graph.
struct Walk {
    by_node: Vec<u32>,
    /// (node, deployment, when a merge brought it into the mainline).
    order: Vec<(u32, u32, Option<i64>)>,
}

impl Walk {
    fn deployment_of(&self, graph: &Graph, hex: &str) -> Option<usize> {
        let n = graph.find(hex)?;
        let d = self.by_node[n as usize];
        (d != NONE).then_some(d as usize)
    }
}

/// Deployments in order, each reaching only commits no earlier one reached;
/// first parents first, so a merge's other parents carry its committer time
/// (as `GitRepo::ship`). With `deploy_merges`, a deployed commit is a merge
/// into a deploy branch, not into the mainline.
fn walk(graph: &Graph, commits: &[Option<u32>], deploy_merges: bool) -> Walk {
    let mut by_node = vec![NONE; graph.nodes.len()];
    let mut order = Vec::new();
    let mut stack: Vec<(u32, Option<i64>)> = Vec::new();
    for (d, tip) in commits.iter().enumerate() {
        let Some(tip) = *tip else { continue };
        stack.push((tip, None));
        while let Some((n, merged)) = stack.pop() {
            if by_node[n as usize] != NONE {
                continue;
            }
            by_node[n as usize] = d as u32;
            let node = &graph.nodes[n as usize];
            order.push((n, d as u32, merged));
            let merges_in = node.ok
                && merged.is_none()
                && node.parents.len() >= 2
                && !(deploy_merges && n == tip);
            for (k, p) in node.parents.iter().enumerate().rev() {
                if by_node[*p as usize] == NONE {
                    let at = if merges_in && k > 0 {
                        Some(node.committer_time)
                    } else {
                        merged
                    };
                    stack.push((*p, at));
                }
            }
        }
    }
    Walk { by_node, order }
}

/// A service without deployments of its own ships with the repository's
/// deployments that ship one of its changes: the others are dropped (the first,
/// the baseline, stays) and every index is renumbered.
fn keep_shipping_deployments(facts: &mut RepoFacts) {
    let n = facts.deployments.len();
    let mut keep = vec![false; n];
    if n > 0 {
        keep[0] = true;
    }
    for c in &facts.changes {
        keep[c.deployment] = true;
    }
    let mut renumber = vec![usize::MAX; n];
    let mut next = 0;
    for i in 0..n {
        if keep[i] {
            renumber[i] = next;
            next += 1;
        }
    }
    let map = |i: usize| (renumber[i] != usize::MAX).then_some(renumber[i]);
    let deployments = std::mem::take(&mut facts.deployments);
    facts.deployments = deployments
        .into_iter()
        .zip(&keep)
        .filter(|(_, k)| **k)
        .map(|(d, _)| d)
        .collect();
    for c in &mut facts.changes {
        c.deployment = renumber[c.deployment];
        c.reverts_deployment = c.reverts_deployment.and_then(map);
    }
    for i in &mut facts.incidents {
        i.cause_deployment = i.cause_deployment.and_then(map);
    }
}
