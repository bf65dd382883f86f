//! Probes described as data: file globs and an optional per-line pattern,
//! read from `data/probes.toml`.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{anyhow, bail, Result};
use regex::Regex;
use serde::Deserialize;

use super::files::{Globs, RepoFiles};
use super::{Evidence, Finding, Outcome};

/// The built-in copy of `data/probes.toml`.
pub const BUILTIN: &str = include_str!("../../data/probes.toml");

/// How many matches a finding lists as evidence.
const MAX_EVIDENCE: usize = 5;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCatalogue {
    #[serde(default)]
    file_sets: BTreeMap<String, Vec<String>>,
    probe: Vec<RawProbe>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProbe {
    /// Spanned, so errors point at this probe's `id` line and not at the
    /// first place the same text occurs.
    id: toml::Spanned<String>,
    title: String,
    chapter: String,
    files: Vec<String>,
    pattern: Option<String>,
    #[serde(default)]
    when_no_files: WhenNoFiles,
    remediation: String,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum WhenNoFiles {
    #[default]
    Fail,
    NotApplicable,
}

/// A compiled pattern probe.
pub struct PatternProbe {
    pub id: String,
    pub title: String,
    pub chapter: String,
    pub remediation: String,
    pub globs: Globs,
    pub pattern: Option<Regex>,
    pub when_no_files: WhenNoFiles,
}

/// Every pattern probe, compiled.
pub struct Catalogue {
    pub probes: Vec<PatternProbe>,
}

impl Catalogue {
    /// `data/probes.toml` under `root` if present, else the built-in copy.
    pub fn load(root: &Path) -> Result<Catalogue> {
        let (text, name) = crate::fsutil::data_file(root, "data/probes.toml", BUILTIN)?;
        Catalogue::parse(&text, &name)
    }

    pub fn parse(text: &str, name: &str) -> Result<Catalogue> {
        let raw: RawCatalogue = crate::toml_file::parse(text).map_err(|e| e.located(name))?;
        let mut probes = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for p in raw.probe {
            let at = crate::diagnostics::line_of_offset(text, p.id.span().start);
            let id = p.id.into_inner();
            if !seen.insert(id.clone()) {
                bail!("{name}:{at}: probe `{id}` is defined twice");
            }
            let mut globs = Vec::new();
            for f in &p.files {
                match f.strip_prefix('@') {
                    Some(set) => globs.extend(
                        raw.file_sets
                            .get(set)
                            .ok_or_else(|| {
                                anyhow!("{name}:{at}: probe `{id}` names unknown file set `@{set}`")
                            })?
                            .iter()
                            .cloned(),
                    ),
                    None => globs.push(f.clone()),
                }
            }
            let globs =
                Globs::new(&globs).map_err(|e| anyhow!("{name}:{at}: probe `{id}`: {e}"))?;
            let pattern = match &p.pattern {
                Some(re) => Some(
                    Regex::new(re)
                        .map_err(|e| anyhow!("{name}:{at}: probe `{id}`: bad pattern: {e}"))?,
                ),
                None => None,
            };
            probes.push(PatternProbe {
                id,
                title: p.title,
                chapter: p.chapter,
                remediation: p.remediation,
                globs,
                pattern,
                when_no_files: p.when_no_files,
            });
        }
        Ok(Catalogue { probes })
    }
}

/// Runs every pattern probe. A file is read once however many probes look at it.
pub fn run(files: &RepoFiles, catalogue: &Catalogue) -> Vec<Finding> {
    let mut cache: BTreeMap<&str, Option<String>> = BTreeMap::new();
    catalogue
        .probes
        .iter()
        .map(|p| {
            let finding = |outcome: Outcome, evidence: Vec<Evidence>| Finding {
                probe: p.id.clone(),
                title: p.title.clone(),
                outcome,
                evidence,
                remediation: if outcome == Outcome::Pass {
                    String::new()
                } else {
                    p.remediation.clone()
                },
                chapter: p.chapter.clone(),
            };
            if let Some(why) = &files.unavailable {
                return finding(Outcome::Unknown, vec![Evidence::note(why.clone())]);
            }
            let candidates: Vec<&str> = files.matching(&p.globs).collect();
            if candidates.is_empty() {
                let outcome = match p.when_no_files {
                    WhenNoFiles::Fail => Outcome::Fail,
                    WhenNoFiles::NotApplicable => Outcome::NotApplicable,
                };
                return finding(outcome, vec![Evidence::note("no matching files")]);
            }
            let Some(re) = &p.pattern else {
                let evidence = candidates
                    .iter()
                    .take(MAX_EVIDENCE)
                    .map(|c| Evidence::file(c, "present"))
                    .collect();
                return finding(Outcome::Pass, evidence);
            };
            let mut evidence = Vec::new();
            'files: for c in &candidates {
                let text = cache.entry(c).or_insert_with(|| files.read(c));
                let Some(text) = text else { continue };
                for (i, line) in text.lines().enumerate() {
                    if let Some(m) = re.find(line) {
                        evidence.push(Evidence::at(
                            c,
                            i + 1,
                            format!("matches `{}`", m.as_str().trim()),
                        ));
                        if evidence.len() >= MAX_EVIDENCE {
                            break 'files;
                        }
                        break;
                    }
                }
            }
            if evidence.is_empty() {
                let looked: Vec<&str> = candidates.iter().take(MAX_EVIDENCE).copied().collect();
                finding(
                    Outcome::Fail,
                    vec![Evidence::note(format!("no match in {}", looked.join(", ")))],
                )
            } else {
                finding(Outcome::Pass, evidence)
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_catalogue_compiles() {
        let c = Catalogue::parse(BUILTIN, "builtin").unwrap();
        assert!(c.probes.iter().any(|p| p.id == "ci.config-present"));
    }

    #[test]
    fn duplicate_and_unknown_sets_are_rejected_with_line() {
        let text = "[[probe]]\nid = \"a.b\"\ntitle = \"t\"\nchapter = \"c\"\nfiles = [\"@nope\"]\nremediation = \"r\"\n";
        let e = Catalogue::parse(text, "probes.toml")
            .err()
            .unwrap()
            .to_string();
        assert_eq!(
            e,
            "probes.toml:2: probe `a.b` names unknown file set `@nope`"
        );
    }

    /// Found by `catalogue_duplicate_names_its_line` (tests/parsers_prop): the
    /// line was where the id's text first occurs (here a title), not the
    /// second definition.
    #[test]
    fn a_duplicate_is_reported_at_its_own_line() {
        let probe = |id: &str, title: &str| {
            format!("[[probe]]\nid = \"{id}\"\ntitle = '{title}'\nchapter = \"c\"\nfiles = [\"x\"]\nremediation = \"r\"\n")
        };
        let text = [
            probe("a.first", "\"a.b\" explained"),
            probe("a.b", "t"),
            probe("a.b", "t"),
        ]
        .concat();
        let e = Catalogue::parse(&text, "probes.toml")
            .err()
            .unwrap()
            .to_string();
        assert_eq!(e, "probes.toml:14: probe `a.b` is defined twice");
    }
}
