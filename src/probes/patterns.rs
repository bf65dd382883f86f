//! Probes described as data: file globs and an optional per-line pattern,
//! read from `data/probes.toml`.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{anyhow, bail, Result};
use regex::Regex;
use serde::Deserialize;

use super::files::{Globs, RepoFiles};
use super::pipeline::{self, Pipeline};
use super::{Evidence, Finding, Outcome};
use crate::message::Message;
use crate::msg;

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
    requires: Vec<String>,
    parent: Option<String>,
    #[serde(default)]
    follow: bool,
    skip_jobs: Option<String>,
    job_name: Option<String>,
    job_name_not: Option<String>,
    #[serde(default)]
    also: Vec<RawRule>,
    #[serde(default)]
    when_no_files: WhenNoFiles,
    remediation: String,
}

/// A further way for a probe to pass: other files, another pattern.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    files: Vec<String>,
    pattern: Option<String>,
    #[serde(default)]
    requires: Vec<String>,
    parent: Option<String>,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum WhenNoFiles {
    #[default]
    Fail,
    NotApplicable,
}

/// One way a probe passes: files, and what a line of them must show.
pub struct Rule {
    pub globs: Globs,
    /// Without a pattern, the file's presence is the evidence.
    pub pattern: Option<Regex>,
    /// A file counts only when each of these matches one of its lines (the
    /// shape of a Grafana alert rule file, of an OpenTelemetry collector configuration).
    pub requires: Vec<Regex>,
    /// The matching line must sit directly under a key line matching this
    /// (`logs:` under `pipelines:`).
    pub parent: Option<Regex>,
}

/// How a probe reads pipeline files (`follow = true`): what they run, one
/// step away (see [`super::pipeline`]), job by job.
pub struct PipelineRules {
    /// A job whose lines match this is left out (a throw-away test cluster).
    pub skip_jobs: Option<Regex>,
    /// A job (or GitLab stage) with a matching name passes when it runs a command.
    pub job_name: Option<Regex>,
    /// ...unless its name also matches this (`deployment-tests`).
    pub job_name_not: Option<Regex>,
}

/// A compiled pattern probe.
pub struct PatternProbe {
    pub id: String,
    pub title: String,
    pub chapter: String,
    pub remediation: String,
    /// The first rule is the probe's own `files`/`pattern`; then its `also` rules.
    pub rules: Vec<Rule>,
    /// Set when the probe reads pipelines with what they lead to.
    pub follow: Option<PipelineRules>,
    pub when_no_files: WhenNoFiles,
}

impl PatternProbe {
    fn candidate(&self, path: &str) -> bool {
        self.rules.iter().any(|r| r.globs.is_match(path))
    }
}

/// Every pattern probe, compiled.
pub struct Catalogue {
    pub probes: Vec<PatternProbe>,
}

fn regex(name: &str, at: usize, id: &str, re: &str) -> Result<Regex> {
    Regex::new(re).map_err(|e| anyhow!("{name}:{at}: probe `{id}`: bad pattern: {e}"))
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
            let rule = |files: &[String],
                        pattern: &Option<String>,
                        requires: &[String],
                        parent: &Option<String>|
             -> Result<Rule> {
                let mut globs = Vec::new();
                for f in files {
                    match f.strip_prefix('@') {
                        Some(set) => globs.extend(
                            raw.file_sets
                                .get(set)
                                .ok_or_else(|| {
                                    anyhow!(
                                        "{name}:{at}: probe `{id}` names unknown file set `@{set}`"
                                    )
                                })?
                                .iter()
                                .cloned(),
                        ),
                        None => globs.push(f.clone()),
                    }
                }
                Ok(Rule {
                    globs: Globs::new(&globs)
                        .map_err(|e| anyhow!("{name}:{at}: probe `{id}`: {e}"))?,
                    pattern: pattern
                        .as_ref()
                        .map(|re| regex(name, at, &id, re))
                        .transpose()?,
                    requires: requires
                        .iter()
                        .map(|re| regex(name, at, &id, re))
                        .collect::<Result<_>>()?,
                    parent: parent
                        .as_ref()
                        .map(|re| regex(name, at, &id, re))
                        .transpose()?,
                })
            };
            let mut rules = vec![rule(&p.files, &p.pattern, &p.requires, &p.parent)?];
            for a in &p.also {
                rules.push(rule(&a.files, &a.pattern, &a.requires, &a.parent)?);
            }
            let optional = |re: &Option<String>| -> Result<Option<Regex>> {
                re.as_ref().map(|re| regex(name, at, &id, re)).transpose()
            };
            let follow = if p.follow {
                Some(PipelineRules {
                    skip_jobs: optional(&p.skip_jobs)?,
                    job_name: optional(&p.job_name)?,
                    job_name_not: optional(&p.job_name_not)?,
                })
            } else if p.skip_jobs.is_some() || p.job_name.is_some() || p.job_name_not.is_some() {
                bail!("{name}:{at}: probe `{id}`: `skip_jobs`, `job_name` and `job_name_not` need `follow = true`");
            } else {
                None
            };
            probes.push(PatternProbe {
                id,
                title: p.title,
                chapter: p.chapter,
                remediation: p.remediation,
                rules,
                follow,
                when_no_files: p.when_no_files,
            });
        }
        Ok(Catalogue { probes })
    }
}

/// Files read once however many probes look at them: texts, and pipelines
/// with what they lead to.
#[derive(Default)]
struct Reads<'a> {
    texts: BTreeMap<&'a str, Option<String>>,
    pipelines: BTreeMap<&'a str, Option<Pipeline>>,
}

/// Runs every pattern probe. A file is read once however many probes look at it.
pub fn run(files: &RepoFiles, catalogue: &Catalogue) -> Vec<Finding> {
    let mut reads = Reads::default();
    catalogue
        .probes
        .iter()
        .map(|p| run_one(files, p, &mut reads))
        .collect()
}

fn run_one<'a>(files: &'a RepoFiles, p: &PatternProbe, reads: &mut Reads<'a>) -> Finding {
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
    let candidates: Vec<&str> = files
        .paths
        .iter()
        .map(String::as_str)
        .filter(|c| p.candidate(c))
        .collect();
    if candidates.is_empty() {
        let outcome = match p.when_no_files {
            WhenNoFiles::Fail => Outcome::Fail,
            WhenNoFiles::NotApplicable => Outcome::NotApplicable,
        };
        return finding(
            outcome,
            vec![Evidence::note(Message::new("msg_no_matching_files"))],
        );
    }
    let mut evidence = Vec::new();
    for c in &candidates {
        // The earliest line any rule finds in this file.
        let mut best: Option<(usize, Evidence)> = None;
        let mut consider = |line: usize, e: Evidence| {
            if best.as_ref().is_none_or(|(b, _)| line < *b) {
                best = Some((line, e));
            }
        };
        for rule in p.rules.iter().filter(|r| r.globs.is_match(c)) {
            let Some(re) = &rule.pattern else {
                consider(0, Evidence::file(c, Message::new("msg_present")));
                continue;
            };
            if let Some(how) = &p.follow {
                let pipeline = reads
                    .pipelines
                    .entry(c)
                    .or_insert_with(|| pipeline::read(files, c));
                if let Some(found) = pipeline.as_ref().and_then(|pl| in_pipeline(pl, re, how)) {
                    consider(found.0, found.1);
                }
                continue;
            }
            let text = reads.texts.entry(c).or_insert_with(|| files.read(c));
            let Some(text) = text else { continue };
            if let Some((n, m)) = in_text(text, rule, re) {
                consider(n, Evidence::at(c, n, msg!("msg_matches", text = m)));
            }
        }
        if let Some((_, e)) = best {
            evidence.push(e);
            if evidence.len() >= MAX_EVIDENCE {
                break;
            }
        }
    }
    if evidence.is_empty() {
        let looked: Vec<&str> = candidates.iter().take(MAX_EVIDENCE).copied().collect();
        finding(
            Outcome::Fail,
            vec![Evidence::note(msg!(
                "msg_no_match_in",
                paths = looked.join(", ")
            ))],
        )
    } else {
        finding(Outcome::Pass, evidence)
    }
}

/// The first line of `text` matching the rule: (line, matched text).
fn in_text(text: &str, rule: &Rule, re: &Regex) -> Option<(usize, String)> {
    if !rule
        .requires
        .iter()
        .all(|r| text.lines().any(|l| r.is_match(l)))
    {
        return None;
    }
    let lines: Vec<&str> = text.lines().collect();
    lines.iter().enumerate().find_map(|(i, line)| {
        let m = re.find(line)?;
        if let Some(parent) = &rule.parent {
            let ind = line.len() - line.trim_start().len();
            let above = lines[..i].iter().rev().find(|l| {
                let t = l.trim_start();
                !t.is_empty() && !t.starts_with('#') && l.len() - t.len() < ind
            })?;
            if !parent.is_match(above) {
                return None;
            }
        }
        Some((i + 1, m.as_str().trim().to_string()))
    })
}

/// The first line a pipeline runs that matches, else the first job named for
/// the practice that runs something; jobs matching `skip_jobs` left out.
fn in_pipeline(pl: &Pipeline, re: &Regex, how: &PipelineRules) -> Option<(usize, Evidence)> {
    let skipped: Vec<bool> = (0..pl.jobs.len())
        .map(|j| match &how.skip_jobs {
            Some(skip) => {
                let job = &pl.jobs[j];
                pl.runs
                    .iter()
                    .any(|r| job.first <= r.line && r.line <= job.last && skip.is_match(&r.text))
            }
            None => false,
        })
        .collect();
    let in_skipped = |line: usize| pl.job_of(line).is_some_and(|j| skipped[j]);
    let by_command = pl.runs.iter().find_map(|r| {
        if in_skipped(r.line) {
            return None;
        }
        let m = re.find(&r.text)?;
        // A match the written line already shows owes nothing to its variables.
        let direct = r.written.as_ref().is_some_and(|w| re.is_match(w));
        let note = match &r.via {
            Some(via) if !direct => msg!(
                "msg_matches_via",
                text = m.as_str().trim(),
                via = via.to_string()
            ),
            _ => msg!("msg_matches", text = m.as_str().trim()),
        };
        Some((r.line, Evidence::at(&pl.path, r.line, note)))
    });
    let by_name = how.job_name.as_ref().and_then(|named| {
        pl.jobs.iter().enumerate().find_map(|(j, job)| {
            if skipped[j] || !pl.job_does_something(j) {
                return None;
            }
            let excluded = |name: &str| how.job_name_not.as_ref().is_some_and(|n| n.is_match(name));
            if !job.name.is_empty() && named.is_match(&job.name) && !excluded(&job.name) {
                return Some((
                    job.line,
                    Evidence::at(&pl.path, job.line, msg!("msg_matches_job", job = &job.name)),
                ));
            }
            match &job.stage {
                Some((stage, line)) if named.is_match(stage) && !excluded(&job.name) => Some((
                    *line,
                    Evidence::at(&pl.path, *line, msg!("msg_matches_stage", stage = stage)),
                )),
                _ => None,
            }
        })
    });
    // A command shows the practice better than a job's name.
    by_command.or(by_name)
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
