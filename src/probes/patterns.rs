//! Probes described as data: file globs and an optional per-line pattern,
//! read from `data/probes.toml`.
//!
//! Every command loads the catalogue (the model names its probes), but only
//! an assessment of a repository's files runs it, and a glob or a regular
//! expression costs far more to compile than to check. So loading checks
//! each one (a glob parsed, a pattern parsed into regex-syntax's HIR, which
//! finds every syntax error `Regex::new` would, with the same message) and
//! compiles it on first use: a content-only site pays for no compilation, and
//! a bad catalogue is still an error naming the file and the probe's line when
//! loaded. The one failure a parse cannot see, a compiled pattern over the
//! regex crate's size limit, is ruled out by compiling at load any pattern
//! whose parsed size could come near it (see [`Pattern::check`]).

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::OnceLock;

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

/// A regular expression of the catalogue: checked when the catalogue is
/// loaded, compiled the first time a probe needs it.
pub struct Pattern {
    source: String,
    /// `data/probes.toml:12: probe `x.y``, for the (unexpected) error of a
    /// compilation that fails after the check passed.
    origin: String,
    compiled: OnceLock<Result<Regex, String>>,
}

/// Above this estimated size (see [`estimated_size`]) a pattern is compiled
/// at load. The regex crate refuses a pattern whose compiled program passes
/// 10 MiB. Measured with regex 1.13, repeating one piece until `Regex::new`
/// refuses it, the estimate at the limit was at least 250,000 for every piece
/// tried (`a`, `a?`, `(a)`, `ab|cd`, `.`, `\d`, `\w`, `\pL`, `(?i)k`,
/// `[^x]`, `\w+\s*:`): a fifth of the smallest leaves a wide margin. The
/// built-in catalogue's largest pattern is near 30,000 (eight Unicode `\w`).
const COMPILE_AT_LOAD_ABOVE: u64 = 50_000;

impl Pattern {
    /// Checks `source` as `Regex::new` would, without compiling it (unless it
    /// is large enough that only compiling can tell whether it fits).
    fn check(source: &str, origin: String) -> Result<Pattern> {
        let bad = |e: &dyn std::fmt::Display| anyhow!("{origin}: bad pattern: {e}");
        let hir = regex_syntax::Parser::new()
            .parse(source)
            .map_err(|e| bad(&e))?;
        let compiled = OnceLock::new();
        if estimated_size(&hir) > COMPILE_AT_LOAD_ABOVE {
            let re = Regex::new(source).map_err(|e| bad(&e))?;
            let _ = compiled.set(Ok(re));
        }
        Ok(Pattern {
            source: source.to_string(),
            origin,
            compiled,
        })
    }

    /// The pattern as written in the catalogue.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// The compiled expression, compiled on the first call.
    pub fn regex(&self) -> Result<&Regex, String> {
        self.compiled
            .get_or_init(|| {
                Regex::new(&self.source).map_err(|e| format!("{}: bad pattern: {e}", self.origin))
            })
            .as_ref()
            .map_err(Clone::clone)
    }

    /// The compiled expression, or `None` when it failed to compile (which
    /// [`PatternProbe::compile`] reported before any matching started).
    fn get(&self) -> Option<&Regex> {
        self.regex().ok()
    }

    pub fn is_match(&self, text: &str) -> bool {
        self.get().is_some_and(|re| re.is_match(text))
    }

    fn find<'t>(&self, text: &'t str) -> Option<regex::Match<'t>> {
        self.get()?.find(text)
    }
}

/// The size of the program `hir` compiles to, in about the units of NFA
/// states: a byte of a literal is one; a Unicode class the bytes of the UTF-8
/// sequences of its ranges (the automaton the compiler builds for it, before
/// sharing suffixes); a repetition its body as many times as it is written
/// out (`x{2,5}` five, `x{2,}` three: the minimum and the loop), plus two.
fn estimated_size(hir: &regex_syntax::hir::Hir) -> u64 {
    use regex_syntax::hir::{Class, HirKind};
    use regex_syntax::utf8::Utf8Sequences;
    match hir.kind() {
        HirKind::Empty | HirKind::Look(_) => 1,
        HirKind::Literal(lit) => lit.0.len() as u64,
        HirKind::Class(Class::Unicode(c)) => c.ranges().iter().fold(1, |n, r| {
            Utf8Sequences::new(r.start(), r.end()).fold(n, |n, s| n.saturating_add(s.len() as u64))
        }),
        HirKind::Class(Class::Bytes(c)) => c.ranges().len() as u64 + 1,
        HirKind::Repetition(r) => {
            let times = u64::from(r.max.unwrap_or(r.min.saturating_add(1)).max(r.min)).max(1);
            estimated_size(&r.sub)
                .saturating_mul(times)
                .saturating_add(2)
        }
        HirKind::Capture(c) => estimated_size(&c.sub).saturating_add(2),
        HirKind::Concat(subs) | HirKind::Alternation(subs) => {
            subs.iter().fold(subs.len() as u64, |n, h| {
                n.saturating_add(estimated_size(h))
            })
        }
    }
}

/// A rule's globs: each parsed when the catalogue is loaded, the set compiled
/// the first time a probe looks at a repository's paths.
pub struct RuleGlobs {
    patterns: Vec<String>,
    compiled: OnceLock<Option<Globs>>,
}

impl RuleGlobs {
    fn check(patterns: Vec<String>) -> Result<RuleGlobs, String> {
        for p in &patterns {
            globset::GlobBuilder::new(p)
                .literal_separator(true)
                .build()
                .map_err(|e| format!("glob {p:?}: {e}"))?;
        }
        Ok(RuleGlobs {
            patterns,
            compiled: OnceLock::new(),
        })
    }

    pub fn is_match(&self, path: &str) -> bool {
        // Each glob was parsed at load, so compiling them cannot fail.
        self.compiled
            .get_or_init(|| Globs::new(&self.patterns).ok())
            .as_ref()
            .is_some_and(|g| g.is_match(path))
    }
}

/// One way a probe passes: files, and what a line of them must show.
pub struct Rule {
    pub globs: RuleGlobs,
    /// Without a pattern, the file's presence is the evidence.
    pub pattern: Option<Pattern>,
    /// A file counts only when each of these matches one of its lines (the
    /// shape of a Grafana alert rule file, of an OpenTelemetry collector configuration).
    pub requires: Vec<Pattern>,
    /// The matching line must sit directly under a key line matching this
    /// (`logs:` under `pipelines:`).
    pub parent: Option<Pattern>,
}

/// How a probe reads pipeline files (`follow = true`): what they run, one
/// step away (see [`super::pipeline`]), job by job.
pub struct PipelineRules {
    /// A job whose lines match this is left out (a throw-away test cluster).
    pub skip_jobs: Option<Pattern>,
    /// A job (or GitLab stage) with a matching name passes when it runs a command.
    pub job_name: Option<Pattern>,
    /// ...unless its name also matches this (`deployment-tests`).
    pub job_name_not: Option<Pattern>,
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

    /// Compiles every pattern of the probe (once per process), or says which failed.
    fn compile(&self) -> Result<(), String> {
        let rules = self
            .rules
            .iter()
            .flat_map(|r| r.pattern.iter().chain(&r.requires).chain(r.parent.as_ref()));
        let follow = self
            .follow
            .iter()
            .flat_map(|f| [&f.skip_jobs, &f.job_name, &f.job_name_not])
            .flatten();
        for p in rules.chain(follow) {
            p.regex()?;
        }
        Ok(())
    }
}

/// Every pattern probe, compiled.
pub struct Catalogue {
    pub probes: Vec<PatternProbe>,
}

fn regex(name: &str, at: usize, id: &str, re: &str) -> Result<Pattern> {
    Pattern::check(re, format!("{name}:{at}: probe `{id}`"))
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
                    globs: RuleGlobs::check(globs)
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
            let optional = |re: &Option<String>| -> Result<Option<Pattern>> {
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
    if let Err(why) = p.compile() {
        return finding(Outcome::Unknown, vec![Evidence::note(Message::text(why))]);
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
fn in_text(text: &str, rule: &Rule, re: &Pattern) -> Option<(usize, String)> {
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
fn in_pipeline(pl: &Pipeline, re: &Pattern, how: &PipelineRules) -> Option<(usize, Evidence)> {
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

    /// Loading checks every glob and pattern but compiles none of them: the
    /// built-in catalogue's patterns are all far below the size that is
    /// compiled at load.
    #[test]
    fn loading_compiles_nothing_until_a_probe_runs() {
        let c = Catalogue::parse(BUILTIN, "builtin").unwrap();
        let mut patterns = 0;
        for p in &c.probes {
            for r in &p.rules {
                assert!(r.globs.compiled.get().is_none(), "{}", p.id);
                for pat in r.pattern.iter().chain(&r.requires).chain(&r.parent) {
                    assert!(pat.compiled.get().is_none(), "{}: {}", p.id, pat.source);
                    patterns += 1;
                }
            }
        }
        assert!(patterns > 20, "{patterns}");
        let probe = c
            .probes
            .iter()
            .find(|p| p.id == "ci.config-present")
            .unwrap();
        assert!(probe.candidate(".github/workflows/ci.yml"));
        assert!(probe.rules[0].globs.compiled.get().is_some());
    }

    /// A syntax error found by the check reads exactly as `Regex::new`'s.
    #[test]
    fn a_bad_pattern_is_reported_at_load_as_regex_reports_it() {
        for bad in ["(a", "[z-a]", r"\p{Nope}", "a{2,1}", "(?<n>a)(?<n>b)"] {
            let text = format!("[[probe]]\nid = \"a.b\"\ntitle = \"t\"\nchapter = \"c\"\nfiles = [\"x\"]\npattern = '{bad}'\nremediation = \"r\"\n");
            let e = Catalogue::parse(&text, "probes.toml")
                .err()
                .unwrap()
                .to_string();
            let expected = Regex::new(bad).err().unwrap();
            assert_eq!(
                e,
                format!("probes.toml:2: probe `a.b`: bad pattern: {expected}")
            );
        }
    }

    /// A pattern whose compiled program would pass the regex crate's size
    /// limit parses fine; its estimated size sends it to the compiler at
    /// load, which refuses it there.
    #[test]
    fn a_pattern_too_big_to_compile_is_an_error_at_load() {
        let text = "[[probe]]\nid = \"a.b\"\ntitle = \"t\"\nchapter = \"c\"\nfiles = [\"x\"]\n\nrequires = ['(a{1000}){1000}']\nremediation = \"r\"\n";
        let e = Catalogue::parse(text, "probes.toml")
            .err()
            .unwrap()
            .to_string();
        let expected = Regex::new("(a{1000}){1000}").err().unwrap();
        assert_eq!(
            e,
            format!("probes.toml:2: probe `a.b`: bad pattern: {expected}")
        );
        assert!(e.contains("size limit"), "{e}");
    }

    #[test]
    fn the_size_estimate_counts_literals_classes_and_repetitions() {
        let size = |re: &str| estimated_size(&regex_syntax::Parser::new().parse(re).unwrap());
        assert_eq!(size("abc"), 3);
        // A capture adds 2 to its body; an alternation 1 per branch.
        assert_eq!(size("(ab)"), 4);
        assert_eq!(size("ab|cde"), 2 + 2 + 3);
        // A repetition: its body written out, plus 2.
        assert_eq!(size("a{5}"), 5 + 2);
        assert_eq!(size("a{2,5}"), 5 + 2);
        assert_eq!(size("a{2,}"), 3 + 2);
        assert_eq!(size("a*"), 1 + 2);
        // `[a-c]`: one range of one-byte sequences, plus one; `é` is two bytes.
        assert_eq!(size("[a-c]"), 2);
        assert_eq!(size("[a-cé]"), 1 + 1 + 2);
        // `(?i)k`: k, K and the Kelvin sign (three bytes).
        assert_eq!(size("(?i)k"), 1 + 1 + 1 + 3);
        assert!(size("(a{1000}){1000}") > COMPILE_AT_LOAD_ABOVE);
        // Unicode `\w`: hundreds of ranges, yet under a fourteenth of the threshold.
        let w = size(r"\w");
        assert!((3_000..COMPILE_AT_LOAD_ABOVE / 14).contains(&w), "{w}");
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
