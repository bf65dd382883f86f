//! Facts: what the collectors found, as plain records in UTC. No derived
//! numbers, except those that need the source to compute: which deployment
//! first shipped a commit needs the commit graph, so that mapping is a fact.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A 20-byte commit id, kept compact (a repository may have millions of
/// changes) and written as 40 hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Sha(pub [u8; 20]);

impl Sha {
    pub fn to_hex(&self) -> String {
        let mut s = String::with_capacity(40);
        for b in self.0 {
            s.push_str(&format!("{b:02x}"));
        }
        s
    }

    pub fn from_hex(hex: &str) -> Option<Sha> {
        if hex.len() != 40 {
            return None;
        }
        let mut out = [0u8; 20];
        for (i, chunk) in hex.as_bytes().chunks(2).enumerate() {
            let s = std::str::from_utf8(chunk).ok()?;
            out[i] = u8::from_str_radix(s, 16).ok()?;
        }
        Some(Sha(out))
    }
}

impl std::fmt::Debug for Sha {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl Serialize for Sha {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}

impl<'de> Deserialize<'de> for Sha {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Sha, D::Error> {
        let s = String::deserialize(d)?;
        Sha::from_hex(&s)
            .ok_or_else(|| serde::de::Error::custom(format!("not a 40-hex sha: {s:?}")))
    }
}

/// Where a deployment was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DeploymentSource {
    Tag,
    Branch,
    Events,
}

/// A deployment's own outcome, as its source reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DeploymentStatus {
    Success,
    Failure,
}

/// One deployment to production.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Deployment {
    /// Tag name, `branch@sha7`, or the events file's id.
    #[serde(rename = "ref")]
    pub reference: String,
    /// The deployed commit, when known.
    pub sha: Option<Sha>,
    pub time: DateTime<Utc>,
    pub source: DeploymentSource,
    pub status: DeploymentStatus,
}

/// One counted change (a non-merge commit not authored by a bot) and the
/// deployment that first shipped it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Change {
    pub sha: Sha,
    pub author_time: DateTime<Utc>,
    /// Index into the repository's deployments.
    pub deployment: usize,
    /// The change is a conventional-commit `fix` or `hotfix`.
    pub fix: bool,
    /// For a revert (`This reverts commit <sha>`): the deployment that shipped
    /// the reverted commit, when it was shipped.
    pub reverts_deployment: Option<usize>,
    /// Whether this change is a revert at all (its target may be unshipped).
    pub revert: bool,
}

/// An incident: from an events file, or (later) a host's issues.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Incident {
    pub id: String,
    pub started_at: DateTime<Utc>,
    pub resolved_at: Option<DateTime<Utc>>,
    /// The deployment that shipped the incident's cause, when a cause sha was given and shipped.
    pub cause_deployment: Option<usize>,
}

/// Everything known about one repository's delivery.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RepoFacts {
    pub name: String,
    /// Ordered by time, then by ref (byte order). The first is the baseline.
    pub deployments: Vec<Deployment>,
    /// Changes shipped by deployments after the baseline.
    pub changes: Vec<Change>,
    pub incidents: Vec<Incident>,
    /// Things a reader should know about how complete these facts are.
    pub notes: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha_round_trips_through_hex() {
        let hex = "0123456789abcdef0123456789abcdef01234567";
        let sha = Sha::from_hex(hex).unwrap();
        assert_eq!(sha.to_hex(), hex);
        assert_eq!(Sha::from_hex("0123"), None);
        assert_eq!(Sha::from_hex(&"g".repeat(40)), None);
    }
}
