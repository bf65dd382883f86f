//! Commits read straight from the repository's pack files, on every core, with
//! bounded buffers.
//!
//! A pack index (`.idx`, version 2) lists every object's id and offset; sorted
//! by offset, consecutive offsets give each entry's extent in the `.pack`. The
//! entries are split into contiguous runs decoded in parallel: each run reads
//! the pack through its own window (`read_at` into a buffer of at most
//! [`WINDOW`] bytes, never a memory map, so the pack's pages stay in the page
//! cache and out of the process's resident memory), parses each entry's header,
//! and inflates and decodes only whole (undeltified) commits. Ids are then
//! read from the index's sorted id table in one streaming pass.
//!
//! This is a cache in front of the object database, never the only way to a
//! commit: a commit stored as a delta, loose, in an alternate, or in a pack this
//! reader does not understand (or finds damaged) is absent here and read on
//! demand through gix, which reports any error as before.

use std::fs::File;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use gix::ObjectId;
use rayon::prelude::*;

/// Bytes read from the pack at a time by one run.
const WINDOW: usize = 1 << 20;
/// A commit larger than this (inflated) is left to gix.
const MAX_COMMIT: u64 = 16 << 20;

/// Author names, each stored once: a million commits have a few thousand authors.
#[derive(Default)]
pub(super) struct Names {
    index: std::collections::HashMap<Vec<u8>, u32>,
    list: Vec<Vec<u8>>,
}

impl Names {
    /// The number of `name`, adding it when new.
    pub(super) fn intern(&mut self, name: &[u8]) -> u32 {
        if let Some(&i) = self.index.get(name) {
            return i;
        }
        let i = self.list.len() as u32;
        self.list.push(name.to_vec());
        self.index.insert(name.to_vec(), i);
        i
    }

    pub(super) fn list(&self) -> &[Vec<u8>] {
        &self.list
    }
}

/// Undeltified commits of all packs: ids sorted and unique, each with its
/// decoded value. Values stay in pack order, one vector per pack: only ids and
/// a 4-byte slot per commit are sorted, never the values.
pub(super) struct PackCommits<T> {
    ids: Vec<ObjectId>,
    /// `ids[i]`'s value is value number `slots[i]`.
    slots: Vec<u32>,
    runs: Vec<Vec<T>>,
    /// Value number of the first value of each run (pack).
    run_starts: Vec<u32>,
    /// `ids[buckets[b]..buckets[b + 1]]` are the ids whose first `bits` bits
    /// are `b`: about one id per bucket (ids are uniformly spread), so a
    /// lookup reads one bucket and compares one or two ids, instead of a
    /// binary search whose every step is a cache miss in a large table.
    buckets: Vec<u32>,
    bits: u32,
    pub(super) names: Names,
}

impl<T: Send> PackCommits<T> {
    pub(super) fn empty() -> Self {
        PackCommits {
            ids: Vec::new(),
            slots: Vec::new(),
            runs: Vec::new(),
            run_starts: Vec::new(),
            buckets: Vec::new(),
            bits: 0,
            names: Names::default(),
        }
    }

    pub(super) fn len(&self) -> usize {
        self.ids.len()
    }

    /// Where commit `id` is among [`PackCommits::ids`], if a pack holds it whole.
    pub(super) fn position(&self, id: &ObjectId) -> Option<usize> {
        if self.ids.is_empty() {
            return None;
        }
        let bucket = bucket_of(id, self.bits);
        let (lo, hi) = (
            self.buckets[bucket] as usize,
            self.buckets[bucket + 1] as usize,
        );
        self.ids[lo..hi].binary_search(id).ok().map(|i| lo + i)
    }

    /// The value of the commit at `position`.
    pub(super) fn value(&self, position: usize) -> &T {
        let slot = self.slots[position];
        let run = self.run_starts.partition_point(|&s| s <= slot) - 1;
        &self.runs[run][(slot - self.run_starts[run]) as usize]
    }

    /// Value number of the commit at `position` (an index into the second
    /// half of [`PackCommits::split`]).
    pub(super) fn slot(&self, position: usize) -> usize {
        self.slots[position] as usize
    }

    /// The sorted ids.
    pub(super) fn ids(&self) -> &[ObjectId] {
        &self.ids
    }

    /// Splits every value in two: the first halves stay, the second halves
    /// come out by value number ([`PackCommits::slot`]).
    pub(super) fn split<A: Send, B>(self, f: impl Fn(T) -> (A, B)) -> (PackCommits<A>, Vec<B>) {
        let mut second = Vec::with_capacity(self.slots.len());
        let runs = self
            .runs
            .into_iter()
            .map(|run| {
                run.into_iter()
                    .map(|v| {
                        let (a, b) = f(v);
                        second.push(b);
                        a
                    })
                    .collect()
            })
            .collect();
        let split = PackCommits {
            ids: self.ids,
            slots: self.slots,
            runs,
            run_starts: self.run_starts,
            buckets: self.buckets,
            bits: self.bits,
            names: self.names,
        };
        (split, second)
    }

    /// The sorted ids, giving up the values.
    pub(super) fn into_ids(self) -> Vec<ObjectId> {
        self.ids
    }
}

/// Decodes every whole commit of every pack under `objects/pack`, in parallel.
/// `decode` gets the commit's bytes (`None` if they do not inflate) and a
/// numbering of author names. A pack that cannot be read this way is skipped
/// (its commits are then read through gix); the reason is logged at debug level.
pub(super) fn read_commits<T, F>(objects: &Path, hash: gix::hash::Kind, decode: F) -> PackCommits<T>
where
    T: Send,
    F: Fn(Option<&[u8]>, &mut dyn FnMut(&[u8]) -> u32) -> T + Sync,
{
    let dir = objects.join("pack");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return PackCommits::empty();
    };
    let mut indexes: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "idx"))
        .collect();
    indexes.sort();
    let mut runs: Vec<Vec<T>> = Vec::new();
    let mut names = Names::default();
    // (id, value number), in id order within each pack.
    let mut found: Vec<(ObjectId, u32)> = Vec::new();
    let mut total = 0u32;
    for idx in indexes {
        let pack = idx.with_extension("pack");
        match read_pack(&idx, &pack, hash, &decode, total, &mut names) {
            Ok((mut ids, values)) => {
                found.append(&mut ids);
                total += values.len() as u32;
                runs.push(values);
            }
            Err(e) => tracing::debug!(
                "pack {} not pre-read ({e:#}); its commits are read one by one",
                pack.display()
            ),
        }
    }
    if runs.len() > 1 {
        // Stable, so the first pack's copy of a duplicate is kept.
        found.par_sort_by(|a, b| a.0.cmp(&b.0));
        found.dedup_by(|b, a| a.0 == b.0);
    }
    let mut run_starts = Vec::with_capacity(runs.len());
    let mut start = 0u32;
    for r in &runs {
        run_starts.push(start);
        start += r.len() as u32;
    }
    let (ids, slots): (Vec<ObjectId>, Vec<u32>) = found.into_iter().unzip();
    let (buckets, bits) = bucket_index(&ids);
    PackCommits {
        ids,
        slots,
        runs,
        run_starts,
        buckets,
        bits,
        names,
    }
}

/// The buckets of sorted `ids` ([`PackCommits::buckets`]) and their bits:
/// about one id per bucket, 2^bits ≥ n/2, between 2^8 and 2^22 buckets.
fn bucket_index(ids: &[ObjectId]) -> (Vec<u32>, u32) {
    let bits = (usize::BITS - ids.len().leading_zeros())
        .saturating_sub(1)
        .clamp(8, 22);
    let mut buckets = vec![0u32; (1 << bits) + 1];
    for id in ids {
        buckets[bucket_of(id, bits) + 1] += 1;
    }
    for i in 1..buckets.len() {
        buckets[i] += buckets[i - 1];
    }
    (buckets, bits)
}

/// The bucket of `id`: its first `bits` bits (1 ≤ bits ≤ 32).
fn bucket_of(id: &gix::oid, bits: u32) -> usize {
    let b = id.as_bytes();
    (u32::from_be_bytes([b[0], b[1], b[2], b[3]]) >> (32 - bits)) as usize
}

/// Reads exactly `buf.len()` bytes at `offset`.
pub(super) fn read_exact_at(file: &File, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        std::os::unix::fs::FileExt::read_exact_at(file, buf, offset)
    }
    #[cfg(windows)]
    {
        let mut done = 0;
        while done < buf.len() {
            let n = std::os::windows::fs::FileExt::seek_read(
                file,
                &mut buf[done..],
                offset + done as u64,
            )?;
            if n == 0 {
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
            done += n;
        }
        Ok(())
    }
}

pub(super) fn be32(b: &[u8]) -> u32 {
    u32::from_be_bytes([b[0], b[1], b[2], b[3]])
}

/// The whole commits of one pack: (id, value number counted from `first`) in
/// id order, and the values in pack order (`decode(None, …)` for a commit
/// that does not inflate: it is left to gix, which reports it). Author names
/// are numbered in `names_out`.
#[allow(clippy::type_complexity)]
fn read_pack<T, F>(
    idx_path: &Path,
    pack_path: &Path,
    hash: gix::hash::Kind,
    decode: &F,
    first: u32,
    names_out: &mut Names,
) -> Result<(Vec<(ObjectId, u32)>, Vec<T>)>
where
    T: Send,
    F: Fn(Option<&[u8]>, &mut dyn FnMut(&[u8]) -> u32) -> T + Sync,
{
    let hl = hash.len_in_bytes();
    let idx = File::open(idx_path).with_context(|| format!("opening {}", idx_path.display()))?;
    let idx_len = idx.metadata()?.len();
    let mut head = [0u8; 8 + 256 * 4];
    read_exact_at(&idx, &mut head, 0).context("reading the index header")?;
    if head[..4] != [0xff, b't', b'O', b'c'] || be32(&head[4..8]) != 2 {
        bail!("not a version 2 pack index");
    }
    let n = be32(&head[8 + 255 * 4..]) as u64;
    let ids_at = 8 + 256 * 4;
    let offsets_at = ids_at + n * (hl as u64 + 4);
    if offsets_at + n * 4 + 2 * hl as u64 > idx_len {
        bail!("index shorter than its {n} entries");
    }
    // Offsets by index position (the 31-bit table, then the 64-bit one).
    let mut offsets: Vec<u64> = Vec::with_capacity(n as usize);
    let mut chunk = vec![0u8; WINDOW];
    let mut pos = 0u64;
    while pos < n {
        let count = (n - pos).min((WINDOW / 4) as u64) as usize;
        read_exact_at(&idx, &mut chunk[..count * 4], offsets_at + pos * 4)?;
        offsets.extend(
            chunk[..count * 4]
                .chunks_exact(4)
                .map(|c| u64::from(be32(c))),
        );
        pos += count as u64;
    }
    let large_at = offsets_at + n * 4;
    for o in offsets.iter_mut() {
        if *o & 0x8000_0000 != 0 {
            let i = *o & 0x7fff_ffff;
            let mut b = [0u8; 8];
            read_exact_at(&idx, &mut b, large_at + i * 8).context("reading a 64-bit offset")?;
            *o = u64::from_be_bytes(b);
        }
    }

    let pack = File::open(pack_path).with_context(|| format!("opening {}", pack_path.display()))?;
    let pack_len = pack.metadata()?.len();
    let mut ph = [0u8; 12];
    read_exact_at(&pack, &mut ph, 0).context("reading the pack header")?;
    let version = be32(&ph[4..8]);
    if &ph[..4] != b"PACK" || !(version == 2 || version == 3) || u64::from(be32(&ph[8..])) != n {
        bail!("pack header does not match its index");
    }
    let data_end = pack_len
        .checked_sub(hl as u64)
        .context("pack shorter than its checksum")?;

    // Index positions in pack order. Sorting plain integers (offset and position
    // in one u64 when they fit, as they do below 16 M objects and 1 TiB) is
    // several times faster than sorting positions by a looked-up key.
    let order: Vec<u32> = if n < 1 << 24 && offsets.iter().all(|&o| o < 1 << 40) {
        let mut keys: Vec<u64> = offsets
            .iter()
            .enumerate()
            .map(|(p, &o)| o << 24 | p as u64)
            .collect();
        keys.par_sort_unstable();
        keys.into_iter().map(|k| (k & 0xff_ffff) as u32).collect()
    } else {
        let mut order: Vec<u32> = (0..n as u32).collect();
        order.par_sort_unstable_by_key(|&p| offsets[p as usize]);
        order
    };
    // Extents: each entry ends where the next begins.
    let extent = |i: usize| -> Result<(u64, u64)> {
        let start = offsets[order[i] as usize];
        let end = match order.get(i + 1) {
            Some(&next) => offsets[next as usize],
            None => data_end,
        };
        if start < 12 || start >= end || end > data_end {
            bail!("entry offset {start} out of order or outside the pack");
        }
        Ok((start, end))
    };
    let runs = (rayon::current_num_threads() * 16).max(1);
    let per = (order.len() / runs).max(1024);
    let ranges: Vec<(usize, usize)> = (0..order.len())
        .step_by(per)
        .map(|s| (s, (s + per).min(order.len())))
        .collect();
    // Pass 1, headers only: which entries are whole commits (their rank in `order`).
    let ranks: Vec<Vec<u32>> = ranges
        .par_iter()
        .map(|&(s, e)| -> Result<Vec<u32>> {
            let mut ranks = Vec::new();
            let mut window = Window::new(&pack, extent(e - 1)?.1);
            for i in s..e {
                let (start, end) = extent(i)?;
                let head = window.bytes(start, (start + 32).min(end))?;
                let entry = gix::odb::pack::data::Entry::from_bytes(head, start, hash)
                    .map_err(|e| anyhow::anyhow!("entry at {start}: {e}"))?;
                if matches!(entry.header, gix::odb::pack::data::entry::Header::Commit)
                    && entry.decompressed_size <= MAX_COMMIT
                {
                    ranks.push(i as u32);
                }
            }
            Ok(ranks)
        })
        .collect::<Result<_>>()?;
    let ranks: Vec<u32> = ranks.concat();
    // Pass 2: inflate and decode them, in pack order, into one vector allocated
    // once at its final size (so it is returned to the system when dropped).
    let names = std::sync::Mutex::new(std::mem::take(names_out));
    let mut values: Vec<T> = Vec::new();
    ranks
        .par_iter()
        .map_init(
            || Decoder {
                window: Window::new(&pack, data_end),
                inflate: gix::zlib::Inflate::default(),
                commit: Vec::new(),
                names: std::collections::HashMap::new(),
            },
            |st, &rank| {
                let Decoder {
                    window,
                    inflate,
                    commit,
                    names: local,
                } = st;
                let inflated = (|| -> Option<()> {
                    let (start, end) = extent(rank as usize).ok()?;
                    let head = window.bytes(start, (start + 32).min(end)).ok()?;
                    let entry = gix::odb::pack::data::Entry::from_bytes(head, start, hash).ok()?;
                    let data = window.bytes(entry.data_offset, end).ok()?;
                    commit.clear();
                    commit.resize(entry.decompressed_size as usize, 0);
                    inflate.reset();
                    match inflate.once(data, commit) {
                        Ok((gix::zlib::Status::StreamEnd, _, n)) if n == commit.len() => Some(()),
                        _ => None,
                    }
                })();
                let mut number = |name: &[u8]| {
                    if let Some(&n) = local.get(name) {
                        return n;
                    }
                    let n = names.lock().map(|mut g| g.intern(name)).unwrap_or(0);
                    local.insert(name.to_vec(), n);
                    n
                };
                decode(inflated.map(|()| commit.as_slice()), &mut number)
            },
        )
        .collect_into_vec(&mut values);
    *names_out = names.into_inner().unwrap_or_default();
    // (index position, value number), sorted by position: id order.
    let mut found: Vec<(u32, u32)> = ranks
        .iter()
        .enumerate()
        .map(|(v, &rank)| (order[rank as usize], first + v as u32))
        .collect();
    drop(ranks);
    drop(order);
    drop(offsets);
    found.par_sort_unstable();

    // Ids, by streaming the sorted id table once.
    let mut out = Vec::with_capacity(found.len());
    let per_chunk = (WINDOW / hl) as u64;
    let mut chunk_start = u64::MAX;
    let mut chunk_len = 0u64;
    for (pos, value) in found {
        let pos = u64::from(pos);
        if pos < chunk_start || pos >= chunk_start + chunk_len {
            chunk_start = pos;
            chunk_len = per_chunk.min(n - pos);
            read_exact_at(
                &idx,
                &mut chunk[..chunk_len as usize * hl],
                ids_at + pos * hl as u64,
            )?;
        }
        let at = (pos - chunk_start) as usize * hl;
        out.push((ObjectId::from_bytes_or_panic(&chunk[at..at + hl]), value));
    }
    Ok((out, values))
}

/// What one thread of pass 2 keeps between commits.
struct Decoder<'a> {
    window: Window<'a>,
    inflate: gix::zlib::Inflate,
    commit: Vec<u8>,
    /// Author names already numbered (in the shared [`Names`]).
    names: std::collections::HashMap<Vec<u8>, u32>,
}

/// A bounded view of a range of the pack, refilled by reads.
struct Window<'a> {
    file: &'a File,
    start: u64,
    buf: Vec<u8>,
    /// Reads do not go past this offset (the end of the run).
    limit: u64,
}

impl<'a> Window<'a> {
    fn new(file: &'a File, limit: u64) -> Self {
        Window {
            file,
            start: 0,
            buf: Vec::new(),
            limit,
        }
    }

    /// The bytes `from..to` of the pack.
    fn bytes(&mut self, from: u64, to: u64) -> Result<&[u8]> {
        let end = self.start + self.buf.len() as u64;
        if from < self.start || to > end {
            let want = (to - from).max(WINDOW as u64);
            let read_to = (from + want).min(self.limit).max(to);
            self.buf.resize((read_to - from) as usize, 0);
            read_exact_at(self.file, &mut self.buf, from)
                .with_context(|| format!("reading the pack at {from}"))?;
            self.start = from;
        }
        let a = (from - self.start) as usize;
        let b = (to - self.start) as usize;
        Ok(&self.buf[a..b])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every id is found at its place and ids not there are not, for sizes
    /// around the bucket sizes' steps (sha1 of numbers: uniformly spread).
    #[test]
    fn positions_are_found_through_the_buckets() {
        for n in [0usize, 1, 255, 256, 257, 5_000, 70_000] {
            let mut ids: Vec<ObjectId> = (0..n)
                .map(|i| {
                    gix::objs::compute_hash(
                        gix::hash::Kind::Sha1,
                        gix::object::Kind::Blob,
                        &i.to_le_bytes(),
                    )
                    .unwrap()
                })
                .collect();
            ids.sort();
            let (buckets, bits) = bucket_index(&ids);
            assert_eq!(buckets.len(), (1 << bits) + 1);
            assert_eq!(*buckets.last().unwrap() as usize, n);
            let commits = PackCommits::<u32> {
                slots: (0..n as u32).collect(),
                runs: vec![(0..n as u32).collect()],
                run_starts: vec![0],
                ids: ids.clone(),
                buckets,
                bits,
                names: Names::default(),
            };
            for (i, id) in ids.iter().enumerate() {
                assert_eq!(commits.position(id), Some(i), "n = {n}");
            }
            for i in n..n + 100 {
                let absent = gix::objs::compute_hash(
                    gix::hash::Kind::Sha1,
                    gix::object::Kind::Blob,
                    &i.to_le_bytes(),
                )
                .unwrap();
                assert_eq!(commits.position(&absent), None, "n = {n}");
            }
        }
    }
}
