//! Facts: what the collectors found, as plain records in UTC. No derived
//! numbers, except those that need the source to compute: which deployment
//! first shipped a commit needs the commit graph, so that mapping is a fact.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::message::{Message, MessageRecord};

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
    /// A host's deployments API (GitHub deployments, GitLab environments).
    Deployment,
    /// A host's releases.
    Release,
    /// A run of a CI workflow on the default branch (GitHub Actions).
    Workflow,
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
    /// When it reached the default branch through a merge: the committer time
    /// of the merge commit that brought it in (git), or the merge time of its
    /// pull request (hosts). `None` for a commit made on, squashed onto or
    /// rebased onto the branch, where git cannot tell.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merged_at: Option<DateTime<Utc>>,
}

/// An incident: from an events file, or a host's issues (labelled, or of type incident).
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
    /// Things a reader should know about how complete these facts are:
    /// sentences of the message catalogue with their data, stored with their
    /// English text (a file written before notes were messages holds the text
    /// alone, which is shown as it is).
    #[serde(with = "crate::message::stored::list")]
    pub notes: Vec<Message>,
    /// Merged pull requests (GitHub) or merge requests (GitLab), bots excluded:
    /// the changes of a host, with the times of their phases.
    #[serde(default)]
    pub pull_requests: Vec<PullRequest>,
    /// Where and up to when a host was read, for the next incremental collection.
    #[serde(default)]
    pub collection: Option<Collection>,
    /// What the probes found in the files of a host repository without a
    /// checkout, read through the host's API by `collect` (so `assess` and
    /// `build` stay offline).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub files: Option<ProbedFiles>,
    /// What the collector tried when it found no deployment, and what each
    /// source held: the report explains it and says what to change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployment_search: Option<DeploymentSearch>,
    /// The services inside the repository (`[[repos.services]]`), when it declares any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub services: Option<ServicesFacts>,
}

/// The services of a repository, read in the same pass over its history as
/// the repository's own facts.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ServicesFacts {
    /// Each service's definition and facts, in configuration order.
    pub services: Vec<ServiceFacts>,
    /// Every counted commit (not a merge, not by a bot) the pass read that
    /// touches at least one service's paths, with the services it touches
    /// (indices into `services`, ascending). The independence measures read these.
    #[serde(default)]
    pub touches: Vec<Touch>,
    /// Why the services could not be measured (a host entry without a clone, a
    /// shallow clone): then no service has facts, and nothing is 0.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::message::stored::option"
    )]
    pub unmeasured: Option<Message>,
}

/// One service of a repository: its definition, and its facts shaped as a
/// repository's (deployments, the changes each shipped, incidents), so the
/// same metrics apply.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ServiceFacts {
    pub name: String,
    /// The globs of its files.
    pub paths: Vec<String>,
    /// The tags that are its deployments, when it has its own.
    #[serde(default)]
    pub tag_pattern: Option<String>,
    /// Where its deployments came from, in words (for "how this was measured").
    #[serde(with = "crate::message::stored")]
    pub deployment_source: Message,
    /// `name` is the service's; indices point into these facts' own deployments.
    pub facts: RepoFacts,
}

/// A commit that touches one or more services.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Touch {
    pub sha: Sha,
    pub author_time: DateTime<Utc>,
    pub services: Vec<u16>,
}

/// The sources a collector tried for deployments, when none gave one.
/// `None` counts: that source was not asked.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DeploymentSearch {
    /// Deployments to production environments the host's deployments API listed.
    #[serde(default)]
    pub host_deployments: Option<usize>,
    /// Published releases (drafts and pre-releases left out) the host listed.
    #[serde(default)]
    pub releases: Option<usize>,
    /// All tags of the repository.
    #[serde(default)]
    pub tags: Option<usize>,
    /// The `tag_pattern` none of them matched.
    #[serde(default)]
    pub tag_pattern: String,
    /// Up to three tags that did not match: the newest (local git) or the
    /// last by name (hosts, which list tags without dates).
    #[serde(default)]
    pub other_tags: Vec<String>,
    /// The `deploy_branch` that had no first-parent merge.
    #[serde(default)]
    pub branch: Option<String>,
}

/// The probes' findings on a host repository's files, and where they were read.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ProbedFiles {
    /// `host`, or `unavailable` when no file could be read (see `description`).
    pub source: String,
    /// The branch whose tree was read.
    #[serde(rename = "ref")]
    pub reference: Option<String>,
    /// The commit whose tree was read, 40 hex digits.
    pub commit: Option<String>,
    /// In words: "GitHub tree of `main` at `1a2b3c4`", or why nothing was read.
    pub description: String,
    /// The same as a message of the catalogue, so pages show it in their
    /// language (absent in facts stored before it was kept: then the English).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description_message: Option<MessageRecord>,
    /// The repository's web page as the host gives it (links to files).
    #[serde(default)]
    pub web_url: Option<String>,
    pub findings: Vec<ProbeRecord>,
    /// Coverage reports found in the tree, as totals.
    #[serde(default)]
    pub coverage: Vec<CoverageTotals>,
}

/// One probe's finding, as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProbeRecord {
    pub probe: String,
    pub title: String,
    /// `pass`, `fail`, `not-applicable` or `unknown`.
    pub outcome: String,
    pub evidence: Vec<EvidenceRecord>,
    #[serde(default)]
    pub remediation: String,
    pub chapter: String,
}

/// One piece of a finding's evidence, as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvidenceRecord {
    pub path: Option<String>,
    pub line: Option<usize>,
    #[serde(default)]
    pub note: String,
    /// The note as a message of the catalogue (see `ProbedFiles::description_message`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<MessageRecord>,
}

/// A coverage report's totals, as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CoverageTotals {
    pub path: String,
    /// `lcov`, `cobertura`, `jacoco`, `go-cover` or `tarpaulin`.
    pub format: String,
    pub lines_covered: u64,
    pub lines_valid: u64,
    pub branches_covered: u64,
    pub branches_valid: u64,
}

impl RepoFacts {
    /// Checks what the metrics rely on and a hand-edited or damaged file may
    /// break: every index into `deployments` (a change's deployment, a revert's
    /// target, an incident's cause, a pull request's deployment) is in range,
    /// and deployments are in time order. The error names the entry by its
    /// JSON path, e.g. `changes[3].deployment`.
    pub fn validate(&self) -> Result<(), String> {
        let n = self.deployments.len();
        let range = |path: String, index: usize| -> Result<(), String> {
            if index < n {
                return Ok(());
            }
            Err(match n {
                0 => format!("{path} is {index}, but there are no deployments"),
                1 => format!("{path} is {index}, but there is 1 deployment (the only index is 0)"),
                _ => format!(
                    "{path} is {index}, but there are {n} deployments (indices 0 to {})",
                    n - 1
                ),
            })
        };
        for (i, pair) in self.deployments.windows(2).enumerate() {
            if pair[1].time < pair[0].time {
                return Err(format!(
                    "deployments[{}] ({}, {}) is earlier than deployments[{i}] ({}, {}): \
                     deployments must be in time order",
                    i + 1,
                    pair[1].reference,
                    crate::time::format_time(&pair[1].time),
                    pair[0].reference,
                    crate::time::format_time(&pair[0].time),
                ));
            }
        }
        for (i, c) in self.changes.iter().enumerate() {
            range(format!("changes[{i}].deployment"), c.deployment)?;
            if let Some(t) = c.reverts_deployment {
                range(format!("changes[{i}].reverts_deployment"), t)?;
            }
        }
        for (i, inc) in self.incidents.iter().enumerate() {
            if let Some(d) = inc.cause_deployment {
                range(format!("incidents[{i}].cause_deployment"), d)?;
            }
        }
        for (i, pr) in self.pull_requests.iter().enumerate() {
            if let Some(d) = pr.deployment {
                range(format!("pull_requests[{i}].deployment"), d)?;
            }
        }
        if let Some(sv) = &self.services {
            for (k, s) in sv.services.iter().enumerate() {
                s.facts
                    .validate()
                    .map_err(|e| format!("services.services[{k}].facts.{e}"))?;
            }
            let n = sv.services.len();
            for (i, t) in sv.touches.iter().enumerate() {
                if let Some(bad) = t.services.iter().find(|&&k| usize::from(k) >= n) {
                    return Err(format!(
                        "services.touches[{i}] names service {bad}, but there are {n} services"
                    ));
                }
            }
        }
        Ok(())
    }
}

/// One merged pull request (or merge request) and the deployment that first shipped it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PullRequest {
    /// The number (GitHub) or iid (GitLab).
    pub number: u64,
    pub title: String,
    /// The author's login.
    pub author: String,
    /// The source branch.
    #[serde(default)]
    pub branch: String,
    pub created_at: DateTime<Utc>,
    pub merged_at: DateTime<Utc>,
    /// Author time of its earliest commit, when known.
    pub first_commit_at: Option<DateTime<Utc>>,
    /// The first review or comment by someone other than the author (bots excluded).
    pub first_response_at: Option<DateTime<Utc>>,
    pub additions: Option<u64>,
    pub deletions: Option<u64>,
    /// The commit that landed it on the target branch: the merge commit, the
    /// squashed commit, or the last rebased commit.
    pub merge_sha: Option<Sha>,
    /// It is a revert (`Revert "…"`, or its description says what it reverts).
    #[serde(default)]
    pub revert: bool,
    /// What it reverts, when known: `#<number>` or a commit's hex.
    #[serde(default)]
    pub reverts: Option<String>,
    /// Index into the repository's deployments: the one that first shipped it.
    pub deployment: Option<usize>,
}

/// How a host repository was collected: the source, and the cursor up to
/// which pull requests and issues were read (the next run reads from there).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Collection {
    /// `github` or `gitlab`.
    pub host: String,
    /// `owner/name`, or the GitLab project path.
    pub project: String,
    /// The API base URL.
    pub api_url: String,
    /// Latest `updated_at` seen on pull requests and issues.
    pub cursor: Option<DateTime<Utc>>,
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

    #[test]
    fn facts_without_host_fields_still_read() {
        // A facts file written before pull requests existed.
        let old = r#"{"name":"x","deployments":[],"changes":[],"incidents":[],"notes":[]}"#;
        let f: RepoFacts = serde_json::from_str(old).unwrap();
        assert!(f.pull_requests.is_empty() && f.collection.is_none());
    }

    #[test]
    fn notes_are_stored_with_key_and_args_and_old_english_notes_still_read() {
        let note = crate::msg!("msg_note_no_tags", pattern = "^v{x}");
        let facts = RepoFacts {
            name: "x".into(),
            notes: vec![note.clone(), Message::text("as an older collect wrote it")],
            services: Some(ServicesFacts {
                services: vec![ServiceFacts {
                    name: "api".into(),
                    deployment_source: crate::msg!("msg_source_tags", pattern = "^api/"),
                    ..ServiceFacts::default()
                }],
                unmeasured: Some(Message::new("msg_services_no_path")),
                ..ServicesFacts::default()
            }),
            ..RepoFacts::default()
        };
        let json = serde_json::to_value(&facts).unwrap();
        // The English text beside the key and its data; text outside the catalogue as it is.
        assert_eq!(
            json["notes"],
            serde_json::json!([
                {
                    "text": "no tags match tag_pattern `^v{x}`: no deployments",
                    "message": { "key": "msg_note_no_tags", "args": { "pattern": "^v{x}" } }
                },
                "as an older collect wrote it"
            ])
        );
        let sv = &json["services"];
        assert_eq!(sv["unmeasured"]["message"]["key"], "msg_services_no_path");
        assert_eq!(
            sv["services"][0]["deployment_source"]["text"],
            "tags matching ^api/"
        );
        let back: RepoFacts = serde_json::from_value(json).unwrap();
        assert_eq!(back, facts);
        assert_eq!(back.notes[0].key, "msg_note_no_tags");

        // A file written before notes were messages: English strings, shown as they are.
        let old = r#"{"name":"x","deployments":[],"changes":[],"incidents":[],
            "notes":["tag v1: cannot be resolved; skipped"],
            "services":{"services":[{"name":"api","paths":["api/**"],
              "deployment_source":"tags matching ^api/","facts":{"name":"api",
              "deployments":[],"changes":[],"incidents":[],"notes":[]}}],
              "unmeasured":"services are measured from the repository's history"}}"#;
        let f: RepoFacts = serde_json::from_str(old).unwrap();
        assert_eq!(
            f.notes,
            vec![Message::text("tag v1: cannot be resolved; skipped")]
        );
        assert!(f.notes[0].is_untranslated());
        let sv = f.services.unwrap();
        assert_eq!(
            sv.unmeasured,
            Some(Message::text(
                "services are measured from the repository's history"
            ))
        );
        assert_eq!(
            sv.services[0].deployment_source,
            Message::text("tags matching ^api/")
        );

        // A key a newer version wrote, unknown here (upper case, so the
        // catalogue test does not take it for one of ours): its stored English is shown.
        let newer = r#"{"name":"x","deployments":[],"changes":[],"incidents":[],
            "notes":[{"text":"a sentence from the future","message":{"key":"msg_NEWER","args":{}}}]}"#;
        let f: RepoFacts = serde_json::from_str(newer).unwrap();
        assert_eq!(f.notes, vec![Message::text("a sentence from the future")]);
    }

    #[test]
    fn validation_names_the_first_entry_out_of_range() {
        fn t(s: &str) -> DateTime<Utc> {
            DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
        }
        let deployment = |r: &str, time: &str| Deployment {
            reference: r.into(),
            sha: None,
            time: t(time),
            source: DeploymentSource::Tag,
            status: DeploymentStatus::Success,
        };
        let good = RepoFacts {
            name: "x".into(),
            deployments: vec![
                deployment("v1", "2024-01-01T00:00:00Z"),
                deployment("v2", "2024-01-01T00:00:00Z"),
            ],
            changes: vec![Change {
                sha: Sha([1; 20]),
                author_time: t("2023-12-31T00:00:00Z"),
                deployment: 1,
                fix: false,
                reverts_deployment: Some(0),
                revert: true,
                merged_at: None,
            }],
            incidents: vec![Incident {
                id: "i".into(),
                started_at: t("2024-01-02T00:00:00Z"),
                resolved_at: None,
                cause_deployment: Some(1),
            }],
            ..RepoFacts::default()
        };
        assert_eq!(good.validate(), Ok(()));
        assert_eq!(RepoFacts::default().validate(), Ok(()));
        type Edit = fn(&mut RepoFacts);
        let cases: [(Edit, &str); 4] = [
            (
                |f| f.changes[0].deployment = 2,
                "changes[0].deployment is 2, but there are 2 deployments (indices 0 to 1)",
            ),
            (
                |f| f.changes[0].reverts_deployment = Some(usize::MAX),
                "changes[0].reverts_deployment is 18446744073709551615, but there are 2 deployments (indices 0 to 1)",
            ),
            (
                |f| {
                    f.deployments.clear();
                    f.changes.clear();
                },
                "incidents[0].cause_deployment is 1, but there are no deployments",
            ),
            (
                |f| f.deployments[1].time = t("2023-01-01T00:00:00Z"),
                "deployments[1] (v2, 2023-01-01T00:00:00Z) is earlier than deployments[0] \
                 (v1, 2024-01-01T00:00:00Z): deployments must be in time order",
            ),
        ];
        for (edit, expected) in cases {
            let mut f = good.clone();
            edit(&mut f);
            assert_eq!(f.validate(), Err(expected.to_string()));
        }
    }
}
