//! The HTTP cache: answers kept under `data/cache/<host>-<hash>/`, one file
//! per URL, with their validators, so a later run asks conditionally (ETag,
//! Last-Modified) and immutable answers (compares, tags) are never asked again.

use std::path::{Path, PathBuf};

use anyhow::Result;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// What the cache keeps of one answer: the validators, the next page, and
/// the fields the collector read (not the whole body).
#[derive(Serialize, Deserialize)]
pub(super) struct CacheEntry {
    pub url: String,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    pub next: Option<String>,
    pub body: serde_json::Value,
}

pub(super) fn cache_dir(root: &Path, host: &str, api_url: &str) -> PathBuf {
    root.join("data/cache")
        .join(format!("{host}-{:08x}", fnv1a(api_url.as_bytes()) as u32))
}

pub(super) fn read_cache<T: DeserializeOwned>(file: &Path, url: &str) -> Option<(CacheEntry, T)> {
    let text = std::fs::read(file).ok()?;
    let entry: CacheEntry = serde_json::from_slice(&text).ok()?;
    if entry.url != url {
        return None;
    }
    let items = T::deserialize(&entry.body).ok()?;
    Some((entry, items))
}

pub(super) fn write_cache(file: &Path, entry: &CacheEntry) -> Result<()> {
    let bytes = serde_json::to_vec(entry)?;
    crate::fsutil::write_atomic(file, &bytes)
}

/// 64-bit FNV-1a: a stable hash (the same on every machine and version) for
/// cache file names and shards.
pub fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv_is_stable() {
        // Shards and cache names depend on these exact values.
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
    }
}
