//! Objects (the services' trees) read straight from the repository's pack
//! files, with deltas resolved through a cache of every step of a chain.
//!
//! gix's delta-base cache keeps the object a chain produced, not the steps in
//! between; reading the trees of consecutive commits then inflates a chain's
//! worth of deltas whenever the order of reading is not the order of the chain.
//! Here every object a chain produces on the way is kept (by pack and offset),
//! so the next tree of the same path is one delta away whichever way history is
//! read. The index lookup is our own (the indexes' id and offset tables read
//! once into memory, ids found through their first two bytes); the pack is
//! gix's memory map of it, as the object database reads it (a chain's steps
//! are scattered over the pack, so reads through a window would be too).
//!
//! Like the commit pre-read ([`super::pack`]), this is a fast path in front
//! of the object database, never the only way to an object: an object that is
//! loose, in an alternate, in a pack this reader does not understand, or that
//! it finds damaged, is `None` here and the caller reads it through gix, which
//! reports any error as before.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use anyhow::{bail, Context, Result};

use super::pack::{be32, read_exact_at};
/// A delta chain longer than this is treated as damaged (git's own limit is
/// far lower: `pack.depth` is at most 4095).
const MAX_CHAIN: usize = 10_000;
/// An object larger than this (inflated) is left to gix.
const MAX_OBJECT: u64 = 64 << 20;

/// The index of one pack, in memory, and the pack's file.
struct PackIndex {
    pack: gix::odb::pack::data::File,
    /// Where the entries end (the pack's trailing checksum starts).
    data_end: u64,
    /// `fanout[b]`: the number of ids whose first byte is at most `b`.
    fanout: [u32; 256],
    /// With more than 65,536 objects, `buckets[b]..buckets[b + 1]` are the
    /// positions of the ids whose first two bytes are `b` (empty: `fanout`).
    buckets: Vec<u32>,
    /// Ids in sorted order, `hash_len` bytes each.
    ids: Vec<u8>,
    /// Offsets by index position (the 64-bit ones resolved).
    offsets: Vec<u64>,
}

impl PackIndex {
    /// Reads a version 2 index (`idx`) and checks it against its pack.
    fn open(idx_path: &Path, hash: gix::hash::Kind) -> Result<PackIndex> {
        let hl = hash.len_in_bytes() as u64;
        let idx =
            File::open(idx_path).with_context(|| format!("opening {}", idx_path.display()))?;
        let idx_len = idx.metadata()?.len();
        let mut head = [0u8; 8 + 256 * 4];
        read_exact_at(&idx, &mut head, 0).context("reading the index header")?;
        if head[..4] != [0xff, b't', b'O', b'c'] || be32(&head[4..8]) != 2 {
            bail!("not a version 2 pack index");
        }
        let mut fanout = [0u32; 256];
        for (b, f) in fanout.iter_mut().enumerate() {
            *f = be32(&head[8 + b * 4..]);
        }
        if fanout.windows(2).any(|w| w[0] > w[1]) {
            bail!("fan-out table not in order");
        }
        let n = u64::from(fanout[255]);
        let ids_at = 8 + 256 * 4;
        let offsets_at = ids_at + n * (hl + 4);
        if offsets_at + n * 4 + 2 * hl > idx_len {
            bail!("index shorter than its {n} entries");
        }
        let mut ids = vec![0u8; (n * hl) as usize];
        read_exact_at(&idx, &mut ids, ids_at).context("reading the index's ids")?;
        let mut raw = vec![0u8; (n * 4) as usize];
        read_exact_at(&idx, &mut raw, offsets_at).context("reading the index's offsets")?;
        let large_at = offsets_at + n * 4;
        let large_count = (idx_len - large_at - 2 * hl) / 8;
        let mut large = vec![0u8; (large_count * 8) as usize];
        read_exact_at(&idx, &mut large, large_at).context("reading the index's 64-bit offsets")?;
        let offsets = raw
            .chunks_exact(4)
            .map(|c| {
                let o = u64::from(be32(c));
                if o & 0x8000_0000 == 0 {
                    return Ok(o);
                }
                let i = (o & 0x7fff_ffff) as usize;
                let b = large
                    .get(i * 8..i * 8 + 8)
                    .context("a 64-bit offset outside its table")?;
                Ok(u64::from_be_bytes(b.try_into().expect("8 bytes")))
            })
            .collect::<Result<Vec<u64>>>()?;
        drop(raw);
        drop(large);

        let pack_path = idx_path.with_extension("pack");
        let pack = gix::odb::pack::data::File::at(&pack_path, hash)
            .map_err(|e| anyhow::anyhow!("opening {}: {e}", pack_path.display()))?;
        if u64::from(pack.num_objects()) != n {
            bail!("pack header does not match its index");
        }
        let data_end = pack.pack_end() as u64;
        if offsets.iter().any(|&o| o < 12 || o >= data_end) {
            bail!("entry offsets outside the pack");
        }
        let mut buckets = Vec::new();
        if n > 1 << 16 {
            buckets = vec![0u32; (1 << 16) + 1];
            for id in ids.chunks_exact(hl as usize) {
                buckets[(usize::from(id[0]) << 8 | usize::from(id[1])) + 1] += 1;
            }
            for i in 1..buckets.len() {
                buckets[i] += buckets[i - 1];
            }
        }
        Ok(PackIndex {
            pack,
            data_end,
            fanout,
            buckets,
            ids,
            offsets,
        })
    }

    /// The offset of object `id` in this pack.
    fn offset_of(&self, id: &[u8]) -> Option<u64> {
        let hl = id.len();
        let (mut lo, mut hi) = if self.buckets.is_empty() {
            let first = usize::from(id[0]);
            let lo = if first == 0 {
                0
            } else {
                self.fanout[first - 1] as usize
            };
            (lo, self.fanout[first] as usize)
        } else {
            let b = usize::from(id[0]) << 8 | usize::from(id[1]);
            (self.buckets[b] as usize, self.buckets[b + 1] as usize)
        };
        // Ids compared by their first 8 bytes as a number, then whole.
        let prefix = |b: &[u8]| u64::from_be_bytes(b[..8].try_into().expect("8 bytes"));
        let key = prefix(id);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            let at = &self.ids[mid * hl..mid * hl + hl];
            match prefix(at).cmp(&key).then_with(|| at.cmp(id)) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return Some(self.offsets[mid]),
            }
        }
        None
    }

    /// The bytes of the pack from `from` to at most `len` further.
    fn bytes(&self, from: u64, len: u64) -> Result<&[u8]> {
        self.pack
            .entry_slice(from..(from.saturating_add(len)).min(self.data_end))
            .context("an entry outside the pack")
    }
}

/// The packs of a repository, their indexes read once, shared by the threads
/// that read objects through [`Reader`]s.
pub(super) struct Packs {
    packs: Vec<PackIndex>,
    hash: gix::hash::Kind,
}

impl Packs {
    /// The packs under `objects/pack` whose version 2 indexes can be read; a
    /// pack that cannot is skipped (its objects are then read through gix),
    /// the reason logged at debug level.
    pub(super) fn open(objects: &Path, hash: gix::hash::Kind) -> Packs {
        let mut indexes: Vec<PathBuf> = std::fs::read_dir(objects.join("pack"))
            .map(|entries| {
                entries
                    .filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| p.extension().is_some_and(|e| e == "idx"))
                    .collect()
            })
            .unwrap_or_default();
        indexes.sort();
        let packs = indexes
            .iter()
            .filter_map(|idx| match PackIndex::open(idx, hash) {
                Ok(p) => Some(p),
                Err(e) => {
                    tracing::debug!(
                        "pack index {} not read ({e:#}); its objects are read through gix",
                        idx.display()
                    );
                    None
                }
            })
            .collect();
        Packs { packs, hash }
    }

    /// A reader for one thread, keeping at most about `cache_bytes` of
    /// objects its chains produced.
    pub(super) fn reader(&self, cache_bytes: usize) -> Reader<'_> {
        Reader {
            packs: self,
            inflate: gix::zlib::Inflate::default(),
            cache: Recent::new(cache_bytes),
            chain: Vec::new(),
            delta: Vec::new(),
            steps: 0,
        }
    }
}

/// One delta of a chain being resolved.
struct Step {
    offset: u64,
    data_offset: u64,
    size: u64,
}

/// Reads objects from the packs for one thread: its own inflate state and
/// cache of resolved objects by (pack, offset).
pub(super) struct Reader<'a> {
    packs: &'a Packs,
    inflate: gix::zlib::Inflate,
    cache: Recent<u64, (gix::object::Kind, Rc<[u8]>)>,
    chain: Vec<Step>,
    delta: Vec<u8>,
    /// Entries inflated so far (whole objects and delta steps): what reading
    /// cost, for choosing an order.
    pub(super) steps: u64,
}

impl Reader<'_> {
    /// Object `id` and its kind, or `None` when no pack this reader
    /// understands holds it, or its entry cannot be read (the caller then
    /// reads it through gix).
    pub(super) fn find(&mut self, id: &gix::oid) -> Option<(gix::object::Kind, Rc<[u8]>)> {
        let (k, offset) = self
            .packs
            .packs
            .iter()
            .enumerate()
            .find_map(|(k, p)| p.offset_of(id.as_bytes()).map(|o| (k, o)))?;
        match self.at(k, offset) {
            Ok(found) => Some(found),
            Err(e) => {
                tracing::debug!(
                    "object {id} at {offset} of {} not read here ({e:#}); read through gix",
                    self.packs.packs[k].pack.path().display()
                );
                None
            }
        }
    }

    /// The object at `offset` of pack `k`: down its delta chain to a whole
    /// object or one already resolved, then every delta applied on the way
    /// up, each result kept.
    fn at(&mut self, k: usize, offset: u64) -> Result<(gix::object::Kind, Rc<[u8]>)> {
        let hash = self.packs.hash;
        let pack = &self.packs.packs[k];
        self.chain.clear();
        let mut cursor = offset;
        let (kind, mut object) = loop {
            if let Some(found) = self.cache.get(&key(k, cursor)) {
                break found;
            }
            if self.chain.len() > MAX_CHAIN {
                bail!("a delta chain longer than {MAX_CHAIN}");
            }
            let head = pack.bytes(cursor, 64)?;
            let entry = gix::odb::pack::data::Entry::from_bytes(head, cursor, hash)
                .map_err(|e| anyhow::anyhow!("entry at {cursor}: {e}"))?;
            if entry.decompressed_size > MAX_OBJECT {
                bail!("an entry of {} bytes", entry.decompressed_size);
            }
            use gix::odb::pack::data::entry::Header;
            let step = Step {
                offset: cursor,
                data_offset: entry.data_offset,
                size: entry.decompressed_size,
            };
            cursor = match entry.header {
                Header::OfsDelta { base_distance } => cursor
                    .checked_sub(base_distance)
                    .filter(|&b| b >= 12 && base_distance > 0)
                    .context("a delta base before the pack's start")?,
                Header::RefDelta { base_id } => pack
                    .offset_of(base_id.as_bytes())
                    .context("a delta base outside this pack")?,
                whole => {
                    let kind = whole.as_kind().context("an entry of unknown kind")?;
                    let mut out = vec![0u8; step.size as usize];
                    self.steps += 1;
                    inflate(pack, &mut self.inflate, step.data_offset, &mut out)?;
                    let object: Rc<[u8]> = out.into();
                    self.cache
                        .put(key(k, step.offset), (kind, object.clone()), object.len());
                    break (kind, object);
                }
            };
            self.chain.push(step);
        };
        while let Some(step) = self.chain.pop() {
            self.delta.clear();
            self.delta.resize(step.size as usize, 0);
            self.steps += 1;
            inflate(pack, &mut self.inflate, step.data_offset, &mut self.delta)?;
            let result: Rc<[u8]> = apply_delta(&object, &self.delta)?.into();
            self.cache
                .put(key(k, step.offset), (kind, result.clone()), result.len());
            object = result;
        }
        Ok((kind, object))
    }
}

/// Inflates the zlib stream at `from` of a pack into exactly `out`.
fn inflate(
    pack: &PackIndex,
    inflate: &mut gix::zlib::Inflate,
    from: u64,
    out: &mut [u8],
) -> Result<()> {
    let data = pack.bytes(from, u64::MAX)?;
    inflate.reset();
    match inflate.once(data, out) {
        Ok((gix::zlib::Status::StreamEnd, _, n)) if n == out.len() => Ok(()),
        Ok(_) => bail!("an entry at {from} does not inflate to its size"),
        Err(e) => bail!("an entry at {from} does not inflate: {e}"),
    }
}

/// A delta's size header: a little-endian base-128 number.
fn delta_size(d: &[u8], at: &mut usize) -> Result<usize> {
    let mut size = 0u64;
    let mut shift = 0;
    loop {
        let b = *d.get(*at).context("a delta header cut short")?;
        *at += 1;
        if shift > 56 {
            bail!("a delta size too large");
        }
        size |= u64::from(b & 0x7f) << shift;
        shift += 7;
        if b & 0x80 == 0 {
            return usize::try_from(size).context("a delta size too large");
        }
    }
}

/// Applies a git delta to `base`: copies from the base and inserted bytes.
fn apply_delta(base: &[u8], delta: &[u8]) -> Result<Vec<u8>> {
    let mut at = 0;
    if delta_size(delta, &mut at)? != base.len() {
        bail!("a delta for a base of another size");
    }
    let size = delta_size(delta, &mut at)?;
    if size as u64 > MAX_OBJECT {
        bail!("a delta result of {size} bytes");
    }
    let mut out = Vec::with_capacity(size);
    while let Some(&cmd) = delta.get(at) {
        at += 1;
        if cmd & 0x80 != 0 {
            let mut arg = |bit: u8, shift: u32| -> Result<usize> {
                if cmd & bit == 0 {
                    return Ok(0);
                }
                let b = *delta.get(at).context("a delta copy cut short")?;
                at += 1;
                Ok(usize::from(b) << shift)
            };
            let offset = arg(0x01, 0)? | arg(0x02, 8)? | arg(0x04, 16)? | arg(0x08, 24)?;
            let mut len = arg(0x10, 0)? | arg(0x20, 8)? | arg(0x40, 16)?;
            if len == 0 {
                len = 0x10000;
            }
            let from = base
                .get(offset..offset.checked_add(len).context("a delta copy overflows")?)
                .context("a delta copy outside its base")?;
            out.extend_from_slice(from);
        } else if cmd != 0 {
            let n = usize::from(cmd);
            let from = delta.get(at..at + n).context("a delta insert cut short")?;
            out.extend_from_slice(from);
            at += n;
        } else {
            bail!("a delta with the reserved command 0");
        }
        if out.len() > size {
            bail!("a delta producing more than its size");
        }
    }
    if out.len() != size {
        bail!("a delta producing less than its size");
    }
    Ok(out)
}

/// A map keeping roughly the most recently used entries: two generations,
/// the older dropped whole when the newer has grown past half the budget
/// (an entry read from the older moves to the newer).
pub(super) struct Recent<K, V, S = std::hash::BuildHasherDefault<Offsets>> {
    new: std::collections::HashMap<K, (V, usize), S>,
    old: std::collections::HashMap<K, (V, usize), S>,
    bytes: usize,
    budget: usize,
}

impl<K, V, S> Recent<K, V, S>
where
    K: std::hash::Hash + Eq + Clone,
    V: Clone,
    S: std::hash::BuildHasher + Default,
{
    pub(super) fn new(budget: usize) -> Self {
        Recent {
            new: Default::default(),
            old: Default::default(),
            bytes: 0,
            budget,
        }
    }

    pub(super) fn get(&mut self, key: &K) -> Option<V> {
        if let Some((v, _)) = self.new.get(key) {
            return Some(v.clone());
        }
        let (v, bytes) = self.old.remove(key)?;
        self.put(key.clone(), v.clone(), bytes);
        Some(v)
    }

    /// Keeps `value`, counting `bytes` (plus a little for the entry itself).
    pub(super) fn put(&mut self, key: K, value: V, bytes: usize) {
        self.bytes += bytes + 64;
        self.new.insert(key, (value, bytes));
        if self.bytes > self.budget / 2 {
            self.old = std::mem::take(&mut self.new);
            self.bytes = 0;
        }
    }
}

/// A hasher for pack offsets (one `u64` key; a multiplicative hash).
#[derive(Default)]
pub(super) struct Offsets(u64);

impl std::hash::Hasher for Offsets {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

/// The key of the object at `offset` of pack `k`.
fn key(k: usize, offset: u64) -> u64 {
    (k as u64) << 48 | offset
}

#[cfg(test)]
mod tests {
    use super::*;
    use gix::objs::Find;
    use gix::ObjectId;
    use std::process::Command;

    fn git(dir: &Path, args: &[&str]) -> String {
        let out = Command::new("git")
            .current_dir(dir)
            .args(args)
            .env("GIT_AUTHOR_DATE", "2024-01-01T00:00:00Z")
            .env("GIT_COMMITTER_DATE", "2024-01-01T00:00:00Z")
            .env("GIT_AUTHOR_NAME", "Dev")
            .env("GIT_AUTHOR_EMAIL", "dev@example.org")
            .env("GIT_COMMITTER_NAME", "Dev")
            .env("GIT_COMMITTER_EMAIL", "dev@example.org")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("HOME", dir)
            .output()
            .expect("git runs");
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// A repository of `commits` commits, each changing one file of a deep
    /// tree, packed with long delta chains.
    fn fixture(commits: usize) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        git(d, &["init", "-q", "-b", "main"]);
        for i in 0..commits {
            let f = d.join(format!("services/s{}/d{}/f{}.txt", i % 3, i % 4, i % 5));
            std::fs::create_dir_all(f.parent().unwrap()).unwrap();
            // Enough lines that a file's next version is stored as a delta.
            let text: String = (0..40).map(|l| format!("line {l} of {i}\n")).collect();
            std::fs::write(&f, text).unwrap();
            git(d, &["add", "-A"]);
            git(d, &["commit", "-q", "-m", &format!("change {i}")]);
        }
        git(d, &["repack", "-adf", "--depth=50", "-q"]);
        git(d, &["prune-packed"]);
        dir
    }

    /// Every object of the fixture's pack, by id and as `git cat-file
    /// --batch-all-objects` lists it, with whether it is stored as a delta.
    fn listed(dir: &Path) -> Vec<(ObjectId, bool)> {
        let pack = std::fs::read_dir(dir.join(".git/objects/pack"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.extension().is_some_and(|e| e == "idx"))
            .unwrap();
        git(dir, &["verify-pack", "-v", pack.to_str().unwrap()])
            .lines()
            .filter_map(|l| {
                let f: Vec<&str> = l.split_whitespace().collect();
                let id = ObjectId::from_hex(f.first()?.as_bytes()).ok()?;
                // A delta's line names its depth and base: 7 fields.
                Some((id, f.len() == 7))
            })
            .collect()
    }

    #[test]
    fn every_object_read_from_the_pack_equals_gix_read_of_it() {
        let dir = fixture(60);
        let objects = listed(dir.path());
        let deltas = objects.iter().filter(|(_, d)| *d).count();
        assert!(deltas > 20, "the fixture has deltas ({deltas})");
        let repo = gix::open(dir.path()).unwrap();
        let packs = Packs::open(&dir.path().join(".git/objects"), repo.object_hash());
        assert_eq!(packs.packs.len(), 1);
        // Oldest first, newest first, and with a cache too small to keep
        // anything: each resolves the chains differently.
        for (order, budget) in [(false, 1 << 20), (true, 1 << 20), (false, 0)] {
            let mut reader = packs.reader(budget);
            let mut list = objects.clone();
            if order {
                list.reverse();
            }
            let mut buf = Vec::new();
            for (id, _) in &list {
                let (kind, data) = reader.find(id).expect("in the pack");
                let want = repo.objects.try_find(id, &mut buf).unwrap().unwrap();
                assert_eq!(kind, want.kind, "{id}");
                assert_eq!(&*data, want.data, "{id}");
            }
        }
    }

    #[test]
    fn trees_are_one_delta_away_once_their_chain_was_read() {
        let dir = fixture(40);
        let repo = gix::open(dir.path()).unwrap();
        let packs = Packs::open(&dir.path().join(".git/objects"), repo.object_hash());
        let trees: Vec<ObjectId> = git(dir.path(), &["log", "--format=%T", "main"])
            .lines()
            .map(|l| ObjectId::from_hex(l.as_bytes()).unwrap())
            .collect();
        let mut reader = packs.reader(1 << 20);
        // The oldest root tree first: its chain runs through newer ones
        // (`git repack` keeps the newest whole), all kept on the way.
        for id in trees.iter().rev() {
            let before = reader.steps;
            reader.find(id).unwrap();
            let first = reader.steps - before;
            let before = reader.steps;
            reader.find(id).unwrap();
            assert_eq!(reader.steps, before, "a tree read again is kept");
            assert!(first <= 50, "at most the chain's depth: {first}");
        }
        // Read again from newest to oldest: every tree is kept.
        let before = reader.steps;
        for id in &trees {
            reader.find(id).unwrap();
        }
        assert_eq!(reader.steps, before);
    }

    #[test]
    fn an_object_not_in_a_pack_is_none() {
        let dir = fixture(3);
        let repo = gix::open(dir.path()).unwrap();
        let packs = Packs::open(&dir.path().join(".git/objects"), repo.object_hash());
        let mut reader = packs.reader(1 << 20);
        let missing = ObjectId::from_hex(b"0123456789012345678901234567890123456789").unwrap();
        assert!(reader.find(&missing).is_none());
        // A loose object written after packing: gix's to read.
        std::fs::write(dir.path().join("new.txt"), "new\n").unwrap();
        let loose = git(dir.path(), &["hash-object", "-w", "new.txt"]);
        let loose = ObjectId::from_hex(loose.trim().as_bytes()).unwrap();
        assert!(reader.find(&loose).is_none());
    }

    #[test]
    fn deltas_apply_copies_and_inserts_and_reject_damage() {
        let base = b"hello, world";
        // base size 12, result size 11: copy 7 bytes at 0, insert "there".
        let delta = [12, 12, 0x90, 7, 5, b't', b'h', b'e', b'r', b'e'];
        assert_eq!(apply_delta(base, &delta).unwrap(), b"hello, there");
        // Wrong base size, a copy outside the base, command 0, short result.
        assert!(apply_delta(base, &[11, 12, 0x90, 7]).is_err());
        assert!(apply_delta(base, &[12, 12, 0x91, 10, 7]).is_err());
        assert!(apply_delta(base, &[12, 12, 0]).is_err());
        assert!(apply_delta(base, &[12, 13, 0x90, 7, 5, b't', b'h', b'e', b'r', b'e']).is_err());
    }

    #[test]
    fn recent_keeps_the_newer_generation_and_what_is_read_from_the_older() {
        let mut r: Recent<u64, u32> = Recent::new(2 * (3 * 64) - 2);
        r.put(1, 10, 0);
        r.put(2, 20, 0);
        assert_eq!(r.get(&1), Some(10));
        // The third entry passes half the budget: 1, 2, 3 become the older.
        r.put(3, 30, 0);
        assert_eq!(r.get(&2), Some(20)); // moved to the newer
        r.put(4, 40, 0);
        r.put(5, 50, 0); // the newer (2, 4, 5) passes: 1 and 3 are gone
        assert_eq!(r.get(&1), None);
        assert_eq!(r.get(&3), None);
        assert_eq!(r.get(&2), Some(20));
        assert_eq!(r.get(&5), Some(50));
    }
}
