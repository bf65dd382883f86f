//! The on-disk store of collected facts: `data/facts/<slug>.json` (one file
//! per repository, schema-versioned, written atomically) and
//! `data/history/<slug>.jsonl` (one summary line per collection, so builds
//! can draw trends across collections).

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::facts::RepoFacts;
use crate::fsutil::{refuse_links, write_atomic_in};

/// Version of the facts file format; a file of another version is refused.
pub const SCHEMA_VERSION: u32 = 1;

/// A file name for a repository name: lowercase ASCII letters, digits and
/// `-`; never a path separator or `..`, whatever the name holds.
pub fn slug(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    let trimmed = out.trim_matches('-');
    if trimmed.is_empty() {
        "repository".to_string()
    } else {
        trimmed.to_string()
    }
}

pub fn facts_path(root: &Path, slug: &str) -> PathBuf {
    root.join("data/facts").join(format!("{slug}.json"))
}

pub fn history_path(root: &Path, slug: &str) -> PathBuf {
    root.join("data/history").join(format!("{slug}.jsonl"))
}

#[derive(Serialize, Deserialize)]
struct FactsFile {
    schema_version: u32,
    collected_at: DateTime<Utc>,
    facts: RepoFacts,
}

/// Writes the facts of one repository atomically (temporary file, then rename),
/// never through a symbolic link. Facts that would not load back (an index out
/// of range) are refused rather than stored.
pub fn save_facts(root: &Path, facts: &RepoFacts, collected_at: DateTime<Utc>) -> Result<PathBuf> {
    let path = facts_path(root, &slug(&facts.name));
    facts
        .validate()
        .map_err(|e| anyhow::anyhow!("not writing {}: {e}", path.display()))?;
    let file = FactsFile {
        schema_version: SCHEMA_VERSION,
        collected_at,
        facts: facts.clone(),
    };
    let json = serde_json::to_vec_pretty(&file).context("serialising facts")?;
    write_atomic_in(root, &path, &json)?;
    Ok(path)
}

/// Reads stored facts, or `None` when none were collected. A malformed file
/// or another schema version is an error naming the file and line; facts that
/// do not hold together (an index out of range, deployments out of time
/// order: see [`RepoFacts::validate`]) are an error naming the file and entry.
pub fn load_facts(root: &Path, slug: &str) -> Result<Option<(RepoFacts, DateTime<Utc>)>> {
    let path = facts_path(root, slug);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    };
    #[derive(Deserialize)]
    struct Version {
        schema_version: u32,
    }
    let version: Version = serde_json::from_str(&text)
        .map_err(|e| anyhow::anyhow!("{}:{}: not a facts file: {e}", path.display(), e.line()))?;
    if version.schema_version != SCHEMA_VERSION {
        bail!(
            "{}: facts schema version {} (this opsmeter reads version {SCHEMA_VERSION}); run `opsmeter collect` again",
            path.display(),
            version.schema_version
        );
    }
    let file: FactsFile = serde_json::from_str(&text)
        .map_err(|e| anyhow::anyhow!("{}:{}: malformed facts: {e}", path.display(), e.line()))?;
    file.facts.validate().map_err(|e| {
        anyhow::anyhow!(
            "{}: {e}; the file was edited or damaged: run `opsmeter collect` to write it again",
            path.display()
        )
    })?;
    Ok(Some((file.facts, file.collected_at)))
}

/// One line of a repository's history: the headline numbers of one collection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryEntry {
    pub collected_at: DateTime<Utc>,
    pub window_days: u32,
    pub deployment_count: usize,
    pub deploy_days_per_week: f64,
    pub lead_time_median_hours: Option<f64>,
    pub change_failure_rate: Option<f64>,
    pub recovery_median_hours: Option<f64>,
    #[serde(default)]
    pub coverage_line_rate: Option<f64>,
}

/// Appends one line to `data/history/<slug>.jsonl`, never through a symbolic link.
pub fn append_history(root: &Path, slug: &str, entry: &HistoryEntry) -> Result<()> {
    let path = history_path(root, slug);
    refuse_links(root, &path)?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let mut line = serde_json::to_string(entry).context("serialising history")?;
    line.push('\n');
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .with_context(|| format!("opening {}", path.display()))?;
    f.write_all(line.as_bytes())
        .with_context(|| format!("appending to {}", path.display()))
}

/// Reads a repository's history, oldest first; empty when there is none.
/// A malformed line is an error naming the file and line.
pub fn load_history(root: &Path, slug: &str) -> Result<Vec<HistoryEntry>> {
    let path = history_path(root, slug);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    };
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        out.push(serde_json::from_str(line).map_err(|e| {
            anyhow::anyhow!("{}:{}: malformed history line: {e}", path.display(), i + 1)
        })?);
    }
    out.sort_by_key(|e: &HistoryEntry| e.collected_at);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_safe_file_names() {
        assert_eq!(slug("acme/Payments API"), "acme-payments-api");
        assert_eq!(slug("../../etc/passwd"), "etc-passwd");
        assert_eq!(slug("<script>"), "script");
        assert_eq!(slug("***"), "repository");
    }

    #[test]
    fn facts_round_trip_and_bad_files_name_the_line() {
        let dir = tempfile::tempdir().unwrap();
        let facts = RepoFacts {
            name: "Acme/API".into(),
            ..RepoFacts::default()
        };
        let at = DateTime::parse_from_rfc3339("2024-05-01T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let path = save_facts(dir.path(), &facts, at).unwrap();
        assert_eq!(path, dir.path().join("data/facts/acme-api.json"));
        let (back, when) = load_facts(dir.path(), "acme-api").unwrap().unwrap();
        assert_eq!(back, facts);
        assert_eq!(when, at);
        assert!(load_facts(dir.path(), "nope").unwrap().is_none());
        std::fs::write(&path, "{\n  \"schema_version\": 1,\n  oops\n}").unwrap();
        let e = load_facts(dir.path(), "acme-api").unwrap_err().to_string();
        assert!(e.contains("acme-api.json:3: not a facts file"), "{e}");
        std::fs::write(&path, "{\"schema_version\": 99}").unwrap();
        let e = load_facts(dir.path(), "acme-api").unwrap_err().to_string();
        assert!(e.contains("facts schema version 99"), "{e}");
    }

    #[test]
    fn history_appends_and_reads_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let entry = |day: u32, n: usize| HistoryEntry {
            collected_at: DateTime::parse_from_rfc3339(&format!("2024-05-{day:02}T00:00:00Z"))
                .unwrap()
                .with_timezone(&Utc),
            window_days: 90,
            deployment_count: n,
            deploy_days_per_week: 1.0,
            lead_time_median_hours: Some(10.0),
            change_failure_rate: None,
            recovery_median_hours: None,
            coverage_line_rate: None,
        };
        append_history(dir.path(), "x", &entry(2, 5)).unwrap();
        append_history(dir.path(), "x", &entry(1, 4)).unwrap();
        let h = load_history(dir.path(), "x").unwrap();
        assert_eq!(
            h.iter().map(|e| e.deployment_count).collect::<Vec<_>>(),
            vec![4, 5]
        );
        std::fs::write(history_path(dir.path(), "x"), "{}\n").unwrap();
        let e = load_history(dir.path(), "x").unwrap_err().to_string();
        assert!(e.contains("x.jsonl:1: malformed history line"), "{e}");
    }
}
