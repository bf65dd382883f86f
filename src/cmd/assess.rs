//! `opsmeter assess`: DORA metrics of one or more repositories over a window,
//! as a table or as the JSON contract of DESIGN.md.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use crate::config::{site_root, Config};
use crate::facts::RepoFacts;
use crate::metrics::tiers::{Benchmarks, Tier};
use crate::metrics::{self, format_time, Dora, MetricOptions, Outcome, Window};
use crate::model::{self, AreaScore, MetricValues, Model, PracticeScore};
use crate::probes::coverage::Coverage;
use crate::probes::{self, FileSource, Finding, RepoFiles};
use crate::sources::git::GitRepo;
use crate::sources::repo::RepoSpec;

/// Options of `opsmeter assess`.
#[derive(Debug, Default, Clone)]
pub struct AssessOptions {
    pub root: Option<PathBuf>,
    pub repos: Vec<PathBuf>,
    pub since: Option<String>,
    pub until: Option<String>,
    pub json: bool,
    pub fail_under: Option<String>,
    pub lenient: bool,
    pub benchmarks: Option<String>,
}

/// One deployment in the report.
#[derive(Debug, Serialize)]
pub struct DeploymentReport {
    #[serde(rename = "ref")]
    pub reference: String,
    pub sha: Option<String>,
    pub time: String,
    pub change_count: usize,
    pub failed: bool,
    pub baseline: bool,
    pub rework: bool,
    pub recovered_at: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct RepoReport {
    pub name: String,
    /// File-name form of the name (`data/facts/<slug>.json`, `/repos/<slug>/`).
    pub slug: String,
    pub deployments: Vec<DeploymentReport>,
    pub dora: Dora,
    pub coverage: Option<Coverage>,
    pub practices: Vec<PracticeScore>,
    pub areas: Vec<AreaScore>,
    pub findings: Vec<Finding>,
    /// Where the probes read the repository's files.
    pub files: FileSource,
    /// The definitions in force for this repository.
    pub measurement: Measurement,
    /// Web page of the repository, when known: evidence links to its files.
    pub web_url: Option<String>,
    pub notes: Vec<String>,
    /// The facts behind the numbers, for charts (not part of the JSON contract).
    #[serde(skip)]
    pub facts: RepoFacts,
    #[serde(skip)]
    pub outcomes: Vec<Outcome>,
}

/// How a repository was measured: shown on its report ("how this was measured").
#[derive(Debug, Clone, Serialize)]
pub struct Measurement {
    pub deployment_source: String,
    pub bot_pattern: String,
    pub production_pattern: String,
    pub incident_link_max_hours: f64,
    pub benchmark: String,
}

#[derive(Debug, Serialize)]
pub struct Report {
    pub window: Window,
    pub repos: Vec<RepoReport>,
}

/// `YYYY-MM-DD` (00:00 UTC) or an RFC 3339 time.
pub fn parse_date(s: &str) -> Result<DateTime<Utc>> {
    crate::sources::events::parse_time(s)
        .with_context(|| format!("{s:?} is not a date (expected YYYY-MM-DD or RFC 3339)"))
}

/// The repositories to assess: `--repo` paths, else `[[repos]]`, else the
/// repository that contains the site root.
pub fn repo_specs(root: &Path, config: &Config, cli_repos: &[PathBuf]) -> Result<Vec<RepoSpec>> {
    if !cli_repos.is_empty() {
        return Ok(cli_repos
            .iter()
            .map(|p| RepoSpec {
                name: repo_folder_name(p),
                path: Some(p.clone()),
                events: Vec::new(),
                settings: config.dora.clone(),
                coverage_globs: default_globs(),
                coverage_reports: Vec::new(),
                web_url: None,
                files_ref: None,
            })
            .collect());
    }
    if !config.repos.is_empty() {
        let mut specs = Vec::new();
        for r in &config.repos {
            let spec_for = |name: String, path: Option<PathBuf>| RepoSpec {
                name,
                path,
                events: r.events.iter().map(|e| (root.join(e), e.clone())).collect(),
                settings: r.settings(&config.dora),
                coverage_globs: r.coverage_globs.clone().unwrap_or_else(default_globs),
                coverage_reports: r
                    .coverage_reports
                    .iter()
                    .map(|c| (root.join(c), c.clone()))
                    .collect(),
                web_url: r
                    .web_url
                    .clone()
                    .or_else(|| match (&r.github, &r.gitlab, &r.api_url) {
                        (Some(gh), _, None) => Some(format!("https://github.com/{gh}")),
                        (None, Some(gl), None) => Some(format!("https://gitlab.com/{gl}")),
                        _ => None,
                    }),
                files_ref: r.reference.clone(),
            };
            // An organisation or group stands for the repositories `collect` stored for it.
            let group = match (&r.github_org, &r.gitlab_group) {
                (Some(org), _) => Some(("github", org.as_str())),
                (None, Some(g)) => Some(("gitlab", g.as_str())),
                _ => None,
            };
            if let Some((host, owner)) = group {
                let members = stored_members(root, host, owner)?;
                if !members.is_empty() {
                    specs.extend(members.into_iter().map(|name| spec_for(name, None)));
                    continue;
                }
            }
            let path = r.path.as_ref().map(|p| root.join(p));
            let name = r
                .name
                .clone()
                .or_else(|| r.github.clone())
                .or_else(|| r.gitlab.clone())
                .or_else(|| r.github_org.clone())
                .or_else(|| r.gitlab_group.clone())
                .or_else(|| path.as_deref().map(repo_folder_name))
                .unwrap_or_else(|| "repository".into());
            specs.push(spec_for(name, path));
        }
        return Ok(specs);
    }
    match GitRepo::discover(root) {
        Some(path) => Ok(vec![RepoSpec {
            name: repo_folder_name(&path),
            path: Some(path),
            events: Vec::new(),
            settings: config.dora.clone(),
            coverage_globs: default_globs(),
            coverage_reports: Vec::new(),
            web_url: None,
            files_ref: None,
        }]),
        None => bail!(
            "no repositories to assess: {} is not inside a git repository; pass --repo PATH or add [[repos]] to opsmeter.toml",
            root.display()
        ),
    }
}

fn default_globs() -> Vec<String> {
    crate::sources::coverage::DEFAULT_GLOBS
        .iter()
        .map(|s| s.to_string())
        .collect()
}

/// The files of a repository to probe: its work tree, the tree of a commit
/// (bare repository, configured `ref`), or why there are none.
pub fn repo_files(spec: &RepoSpec) -> RepoFiles {
    RepoFiles::open(spec.path.as_deref(), spec.files_ref.as_deref())
}

/// Practice findings of a repository: probes over its files, and its coverage.
pub struct Practices {
    pub findings: Vec<Finding>,
    pub coverage: Option<Coverage>,
    /// Where the probes read the files.
    pub files: FileSource,
}

/// Where a repository's deployments came from, in words, for "how this was measured".
fn deployment_source(facts: &RepoFacts, st: &crate::config::DoraSettings) -> String {
    use crate::facts::DeploymentSource as S;
    let has = |s: S| facts.deployments.iter().any(|d| d.source == s);
    if has(S::Events) {
        "deployment rows of events files (production environments)".to_string()
    } else if has(S::Deployment) {
        format!(
            "the host's deployments to environments matching {}",
            st.production_pattern
        )
    } else if has(S::Release) {
        "the host's releases".to_string()
    } else if let Some(branch) = &st.deploy_branch {
        format!("first-parent merges into {branch}")
    } else {
        format!("tags matching {}", st.tag_pattern)
    }
}

/// Names of the repositories whose stored facts were collected from `host`
/// under `owner/` (an organisation or group entry), sorted.
fn stored_members(root: &Path, host: &str, owner: &str) -> Result<Vec<String>> {
    let dir = root.join("data/facts");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Ok(Vec::new());
    };
    let prefix = format!("{}/", owner.to_ascii_lowercase());
    let mut names = Vec::new();
    for e in entries.flatten() {
        let path = e.path();
        let Some(slug) = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_suffix(".json"))
        else {
            continue;
        };
        if let Some((facts, _)) = crate::store::load_facts(root, slug)? {
            let member = facts.collection.as_ref().is_some_and(|c| {
                c.host == host && c.project.to_ascii_lowercase().starts_with(&prefix)
            });
            if member {
                names.push(facts.name);
            }
        }
    }
    names.sort();
    Ok(names)
}

/// A repository's name from its folder: the last path component, without `.git`.
pub fn repo_folder_name(p: &Path) -> String {
    let canon = p.canonicalize().unwrap_or_else(|_| p.to_path_buf());
    let n = canon
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "repository".into());
    n.strip_suffix(".git").map(str::to_string).unwrap_or(n)
}

/// Metrics and scores of collected facts, as the report's repository entry.
/// What every repository of one assessment is scored against.
pub struct Scoring<'a> {
    pub model: &'a Model,
    pub window: &'a Window,
    pub edition_id: &'a str,
    pub edition: &'a crate::metrics::tiers::Edition,
}

pub fn repo_report(
    facts: &RepoFacts,
    practices: Practices,
    measurement: Measurement,
    opts: &MetricOptions,
    scoring: &Scoring<'_>,
) -> RepoReport {
    let Scoring {
        model,
        window,
        edition_id,
        edition,
    } = *scoring;
    let outcomes: Vec<Outcome> = metrics::outcomes(facts, opts);
    let dora = metrics::dora(facts, &outcomes, window, edition_id, edition);
    let values = MetricValues {
        coverage_line_rate: practices.coverage.as_ref().and_then(|c| c.line_rate),
        coverage_branch_rate: practices.coverage.as_ref().and_then(|c| c.branch_rate),
        dora: Some(dora.clone()),
    };
    let (scores, areas) = model::evaluate(model, &practices.findings, &values);
    let deployments = facts
        .deployments
        .iter()
        .enumerate()
        .filter(|(_, d)| window.contains(d.time))
        .map(|(i, d)| DeploymentReport {
            reference: d.reference.clone(),
            sha: d.sha.map(|s| s.to_hex()),
            time: format_time(&d.time),
            change_count: outcomes[i].change_count,
            failed: outcomes[i].failed,
            baseline: i == 0,
            rework: outcomes[i].rework,
            recovered_at: outcomes[i].recovered_at.map(|t| format_time(&t)),
        })
        .collect();
    RepoReport {
        name: facts.name.clone(),
        slug: crate::store::slug(&facts.name),
        deployments,
        dora,
        coverage: practices.coverage,
        practices: scores,
        areas,
        findings: practices.findings,
        files: practices.files,
        measurement,
        web_url: None,
        notes: facts.notes.clone(),
        facts: facts.clone(),
        outcomes,
    }
}

/// Assesses every repository: facts, metrics over `window`, probes, coverage
/// and model scores. Used by `assess` and by `build`.
pub fn assess_repos(
    root: &Path,
    specs: &[RepoSpec],
    window: Window,
    edition_id: &str,
    edition: &crate::metrics::tiers::Edition,
    lenient: bool,
) -> Result<Report> {
    let catalogue = probes::patterns::Catalogue::load(root)?;
    let model = Model::load(root, &probes::known_ids(&catalogue))?;

    let mut reports = Vec::new();
    for spec in specs {
        let (facts, warnings) = crate::cmd::collect::facts_for(root, spec, lenient)
            .with_context(|| format!("collecting {}", spec.name))?;
        for w in warnings {
            eprintln!("warning: {w} (skipped: --lenient)");
        }
        let mopts = MetricOptions {
            incident_link_max: Duration::seconds(
                (spec.settings.incident_link_max_hours * 3600.0) as i64,
            ),
        };
        let files = repo_files(spec);
        let (coverage_reports, problems) =
            probes::coverage::collect(&files, &spec.coverage_globs, &spec.coverage_reports);
        if !problems.is_empty() {
            if !lenient {
                return Err(anyhow::Error::new(crate::diagnostics::Diagnostics(
                    problems,
                )))
                .with_context(|| format!("reading coverage of {}", spec.name));
            }
            for p in problems {
                eprintln!("warning: {p} (skipped: --lenient)");
            }
        }
        let mut findings = probes::run_all(&files, &catalogue);
        findings.push(probes::coverage::run(&files, &coverage_reports));
        let git = spec
            .path
            .as_deref()
            .and_then(|p| GitRepo::open(p).ok())
            .filter(|g| !g.is_shallow());
        findings.extend(probes::flow::run(&facts, git.as_ref(), window.until));
        let practices = Practices {
            findings,
            coverage: probes::coverage::summarise(&coverage_reports),
            files: files.source.clone(),
        };
        let st = &spec.settings;
        let measurement = Measurement {
            deployment_source: deployment_source(&facts, st),
            bot_pattern: if st.bot_pattern.is_empty() {
                "names ending in [bot]".to_string()
            } else {
                format!("names ending in [bot], or matching {}", st.bot_pattern)
            },
            production_pattern: st.production_pattern.clone(),
            incident_link_max_hours: st.incident_link_max_hours,
            benchmark: edition.title.clone(),
        };
        let mut report = repo_report(
            &facts,
            practices,
            measurement,
            &mopts,
            &Scoring {
                model: &model,
                window: &window,
                edition_id,
                edition,
            },
        );
        report.web_url = spec.web_url.clone();
        reports.push(report);
    }
    Ok(Report {
        window,
        repos: reports,
    })
}

pub fn run(opts: AssessOptions) -> Result<()> {
    let root = site_root(opts.root.as_deref())?;
    let config = Config::load(&root)?;
    let benchmarks = Benchmarks::load(&root)?;
    let edition_id = opts
        .benchmarks
        .clone()
        .unwrap_or_else(|| config.dora.benchmarks.clone());
    let edition = benchmarks.edition(&edition_id)?;
    let fail_under =
        match &opts.fail_under {
            Some(t) => Some(Tier::parse(t).with_context(|| {
                format!("--fail-under {t:?}: expected elite, high, medium or low")
            })?),
            None => None,
        };
    let until = match &opts.until {
        Some(u) => parse_date(u)?,
        None => Utc::now(),
    };
    let since = match &opts.since {
        Some(s) => parse_date(s)?,
        None => until - Duration::days(i64::from(config.dora.window_days)),
    };
    if since >= until {
        bail!(
            "--since ({}) must be before --until ({})",
            format_time(&since),
            format_time(&until)
        );
    }
    let window = Window { since, until };
    let specs = repo_specs(&root, &config, &opts.repos)?;
    let report = assess_repos(&root, &specs, window, &edition_id, edition, opts.lenient)?;

    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    if opts.json {
        serde_json::to_writer_pretty(&mut out, &report)?;
        writeln!(out)?;
    } else {
        write_table(&mut out, &report, &edition.title)?;
    }
    out.flush()?;

    if let Some(min) = fail_under {
        let mut below = Vec::new();
        for r in &report.repos {
            let t = &r.dora.tiers;
            for (metric, tier) in [
                ("deployment frequency", t.deployment_frequency),
                ("lead time", t.lead_time),
                ("change failure rate", t.change_failure_rate),
                ("recovery time", t.recovery_time),
            ] {
                if let Some(tier) = tier {
                    if tier < min {
                        below.push(format!("{}: {metric} is {}", r.name, tier.as_str()));
                    }
                }
            }
        }
        if !below.is_empty() {
            bail!("below --fail-under {}: {}", min.as_str(), below.join("; "));
        }
    }
    Ok(())
}

fn tier(t: Option<Tier>) -> &'static str {
    t.map(|t| t.as_str()).unwrap_or("—")
}

fn pct(v: Option<f64>) -> String {
    v.map(|r| format!("{:.1} %", r * 100.0))
        .unwrap_or_else(|| "—".into())
}

fn opt_hours(v: Option<f64>) -> String {
    v.map(|h| format!("{h:.1} h")).unwrap_or_else(|| "—".into())
}

fn write_table(out: &mut impl Write, report: &Report, edition: &str) -> Result<()> {
    for (k, r) in report.repos.iter().enumerate() {
        if k > 0 {
            writeln!(out)?;
        }
        let d = &r.dora;
        writeln!(
            out,
            "{}  [{} → {}, {}]",
            r.name,
            format_time(&report.window.since),
            format_time(&report.window.until),
            edition
        )?;
        let failed = r.deployments.iter().filter(|x| x.failed).count();
        let rows: Vec<(String, String, &str)> = vec![
            (
                "deployment frequency".into(),
                format!(
                    "{} deployments, {:.2}/week, {:.1} deploy-days/week",
                    d.deployment_count, d.deployments_per_week, d.deploy_days_per_week
                ),
                tier(d.tiers.deployment_frequency),
            ),
            (
                "lead time for changes".into(),
                format!(
                    "median {}, p90 {}, {} changes",
                    opt_hours(d.lead_time_hours.median),
                    opt_hours(d.lead_time_hours.p90),
                    d.lead_time_hours.count
                ),
                tier(d.tiers.lead_time),
            ),
            (
                "change failure rate".into(),
                match d.change_failure_rate {
                    Some(r) => format!("{:.1} % ({failed} of {})", r * 100.0, d.deployment_count),
                    None => "— (no deployments)".into(),
                },
                tier(d.tiers.change_failure_rate),
            ),
            (
                "recovery time".into(),
                format!(
                    "median {} ({} recovered); time to restore median {} ({} incidents)",
                    opt_hours(d.recovery_time_hours.median),
                    d.recovery_time_hours.count,
                    opt_hours(d.time_to_restore_hours.median),
                    d.time_to_restore_hours.count
                ),
                tier(d.tiers.recovery_time),
            ),
            (
                "rework rate".into(),
                d.rework_rate
                    .map(|r| format!("{:.1} %", r * 100.0))
                    .unwrap_or_else(|| "—".into()),
                "",
            ),
        ];
        writeln!(out, "  {:<24} {:<72} tier", "metric", "value")?;
        for (m, v, t) in rows {
            writeln!(out, "  {m:<24} {v:<72} {t}")?;
        }
        if let Some(c) = &r.coverage {
            writeln!(
                out,
                "  coverage: lines {} ({} of {}), branches {}",
                pct(c.line_rate),
                c.lines_covered,
                c.lines_valid,
                pct(c.branch_rate)
            )?;
        }
        writeln!(
            out,
            "  {:<28} {:<32} {:<7} next step",
            "area", "practice", "level"
        )?;
        for p in &r.practices {
            let level = match p.level {
                Some(l) => format!("{l}/{}", p.max_level),
                None => "n/a".to_string(),
            };
            writeln!(
                out,
                "  {:<28} {:<32} {:<7} {}",
                p.area,
                p.name,
                level,
                p.next_step.as_deref().unwrap_or(if p.applicable {
                    "top level reached"
                } else {
                    ""
                })
            )?;
        }
        let areas: Vec<String> = r
            .areas
            .iter()
            .map(|a| match a.score {
                Some(s) => format!("{} {s:.1}", a.name),
                None => format!("{} n/a", a.name),
            })
            .collect();
        writeln!(out, "  areas: {}", areas.join(" · "))?;
        writeln!(out, "  files: {}", r.files.description)?;
        for n in &r.notes {
            writeln!(out, "  note: {n}")?;
        }
    }
    Ok(())
}
