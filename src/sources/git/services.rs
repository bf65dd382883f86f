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

use anyhow::Result;
use gix::objs::Find;
use gix::ObjectId;

use super::tree_diff::{self, Pair};
use super::{
    decode_commit, pack, ship_walk, to_sha, to_time, BotMatcher, GitRepo, Packed, Shipping, BOT,
    F_ABSENT, F_FIX, NOT_BOT,
};
use crate::facts::{Change, Deployment, Incident, RepoFacts, ServiceFacts, ServicesFacts, Touch};
use crate::message::Message;
use crate::sources::events::IncidentRow;
use crate::sources::services::ServiceSet;

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

fn decode(data: &[u8], hash: gix::hash::Kind, author_of: &mut dyn FnMut(&[u8]) -> u32) -> Raw {
    // The repository's decoding, so a commit is a change (or skipped) alike
    // in both passes.
    let (decoded, tree) = decode_commit(data, hash, author_of);
    shared_raw(&Packed::new(decoded), tree)
}

/// A commit as the services' pass needs it, from the repository's decoding.
fn shared_raw(p: &Packed, tree: ObjectId) -> Raw {
    let ok = p.undecodable().is_none();
    let mut parents = Vec::with_capacity(p.parent_count());
    parents.extend(p.first_parent());
    parents.extend_from_slice(p.more_parents());
    Raw {
        tree,
        parents,
        author_time: p.author_time,
        committer_time: p.committer_time,
        author: p.author,
        fix: p.flags & F_FIX != 0,
        reverts: p.reverts().map(|r| r.as_str().into()),
        ok,
        absent: p.flags & F_ABSENT != 0,
    }
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
        // The repository's pre-read, when it kept the trees (GitRepo::keep_trees).
        let shared = match (
            self.packed.borrow_mut().take(),
            self.trees.borrow_mut().take(),
        ) {
            (Some(p), Some(t)) => Some((p, t)),
            _ => None,
        };
        let own = if shared.is_some() {
            pack::PackCommits::empty()
        } else {
            pack::read_commits(
                self.repo.objects.store_ref().path(),
                hash,
                |d, number| match d {
                    Some(d) => decode(d, hash, number),
                    None => shared_raw(&Packed::absent(), ObjectId::null(hash)),
                },
            )
        };
        let names = match &shared {
            Some((p, _)) => &p.names,
            None => &own.names,
        };
        let bot_authors: Vec<bool> = names.list().iter().map(|n| bots.is_bot_bytes(n)).collect();
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
            let found = match &shared {
                Some((p, trees)) => p
                    .position(&id)
                    .map(|i| (p.value(i), i))
                    .filter(|(v, _)| v.flags & F_ABSENT == 0)
                    .map(|(v, i)| shared_raw(v, trees[p.slot(i)])),
                None => own
                    .position(&id)
                    .map(|p| own.value(p))
                    .filter(|r| !r.absent)
                    .cloned(),
            };
            let raw = match found {
                Some(r) => r,
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
                    decode(data.data, hash, &mut author_of)
                }
            };
            index.insert(id, ids.len() as u32);
            ids.push(id);
            // The first parent is visited first: consecutive nodes tend to be
            // parent and child, which keeps the diffs' object cache warm.
            stack.extend(raw.parents.iter().rev().filter(|p| !index.contains_key(*p)));
            raws.push(raw);
        }
        drop(own);
        drop(shared);
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
        let read = t.elapsed();
        let (masks, unreadable) = self.touched(&graph, set);
        tracing::debug!(
            "{}: {} commits read in {read:?}, diffed for {} services in {:?}",
            self.path.display(),
            graph.nodes.len(),
            set.len(),
            t.elapsed() - read
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
                own_walk = walk(&graph, &commits, false)?;
                &own_walk
            } else {
                if repository_walk.is_none() {
                    repository_walk = Some(walk(&graph, &commits, deploy_merges)?);
                }
                repository_walk.as_ref().expect("just set")
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
    /// diffed on all cores ([`tree_diff::touched`]); and a note per commit
    /// whose trees cannot be read (the first few).
    fn touched(&self, graph: &Graph, set: &ServiceSet) -> (Vec<u64>, Vec<Message>) {
        let pairs: Vec<Pair> = graph
            .nodes
            .iter()
            .map(|node| {
                if !node.counted {
                    return Pair::Skip;
                }
                match node.parents.first().map(|&p| &graph.nodes[p as usize]) {
                    Some(parent) if !parent.ok => Pair::ParentUndecodable,
                    parent => Pair::Diff {
                        old: parent.map(|p| p.tree),
                        new: node.tree,
                    },
                }
            })
            .collect();
        let mut notes = Vec::new();
        let masks = tree_diff::touched(&self.repo, set, &pairs)
            .into_iter()
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

/// The services' walk: the decoded graph by node number, recording the
/// visits in order.
struct GraphShipping<'a> {
    graph: &'a Graph,
    walk: Walk,
}

impl Shipping for GraphShipping<'_> {
    type Node = u32;

    fn claim(&mut self, n: u32, d: u32) -> Result<bool> {
        let slot = &mut self.walk.by_node[n as usize];
        if *slot != NONE {
            return Ok(false);
        }
        *slot = d;
        Ok(true)
    }

    fn shipped(&self, n: u32) -> bool {
        self.walk.by_node[n as usize] != NONE
    }

    fn visit(
        &mut self,
        n: u32,
        d: u32,
        merged: Option<i64>,
        parents: &mut Vec<u32>,
    ) -> Result<Option<i64>> {
        let node = &self.graph.nodes[n as usize];
        self.walk.order.push((n, d, merged));
        parents.extend_from_slice(&node.parents);
        Ok(node.ok.then_some(node.committer_time))
    }
}

/// Which deployment shipped each node, and the visits in order: the
/// repository's shipping definition ([`ship_walk`]) over the decoded graph.
fn walk(graph: &Graph, commits: &[Option<u32>], deploy_merges: bool) -> Result<Walk> {
    let mut history = GraphShipping {
        graph,
        walk: Walk {
            by_node: vec![NONE; graph.nodes.len()],
            order: Vec::new(),
        },
    };
    ship_walk(&mut history, commits, deploy_merges)?;
    Ok(history.walk)
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
