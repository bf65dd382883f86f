//! `opsmeter.toml`: the site's settings.
//!
//! A missing file means defaults; an unknown key is an error naming the key and
//! its line, because a misspelt setting that is silently ignored is worse than
//! no setting at all.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};

use crate::diagnostics::Diagnostic;

pub mod services;
pub use services::{ServiceConfig, Services};

/// The name of the configuration file at the site root.
pub const CONFIG_FILE: &str = "opsmeter.toml";

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Site title, shown in the header and the `<title>` of every page.
    pub title: String,
    /// One-sentence description for meta tags.
    pub description: String,
    /// Where the site is published, e.g. `https://acme.github.io/dora/`.
    /// Its path part prefixes every link, so a site can live in a subfolder.
    pub base_url: String,
    /// Theme name: `themes/<theme>/` beside the config, or the embedded `default`.
    pub theme: String,
    /// Language of `name.md` files, served at `/`.
    pub default_language: String,
    /// Every language of the site; others are served under `/<lang>/` from `name.<lang>.md`.
    pub languages: Vec<String>,
    /// Whether the built-in DevOps handbook is part of the site (`/guide/`); a
    /// site's own `content/guide/<chapter>.md` replaces one chapter of it.
    pub handbook: bool,
    /// Free-form values for templates (`config.extra`).
    pub extra: toml::Table,
    /// How delivery is measured, for every repository unless it overrides a key.
    pub dora: DoraSettings,
    /// The repositories to assess. Empty: the site's own checkout.
    pub repos: Vec<RepoConfig>,
    /// How `opsmeter collect` talks to GitHub and GitLab.
    pub collect: CollectSettings,
    /// Groups of repositories with their own overview page (`/teams/<slug>/`).
    pub teams: Vec<TeamConfig>,
}

/// `[[teams]]`: a named group of repositories (by their report names).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TeamConfig {
    pub name: String,
    pub repos: Vec<String>,
}

/// `[collect]`: how hosts are queried by `opsmeter collect`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct CollectSettings {
    /// Longest wait for a rate limit to reset; a longer one stops the repository with an error.
    #[serde(deserialize_with = "max_rate_limit_wait_seconds")]
    pub max_rate_limit_wait_seconds: u64,
    /// Repositories collected at the same time.
    #[serde(deserialize_with = "concurrency")]
    pub concurrency: usize,
    /// Retries of a request after a 5xx, a timeout or a network error.
    #[serde(deserialize_with = "retries")]
    pub retries: u32,
    /// First retry delay in milliseconds; each further retry doubles it.
    #[serde(deserialize_with = "backoff_base_ms")]
    pub backoff_base_ms: u64,
    /// Time limit of one request, in seconds (fractions allowed).
    #[serde(deserialize_with = "timeout_seconds")]
    pub timeout_seconds: f64,
}

impl Default for CollectSettings {
    fn default() -> Self {
        CollectSettings {
            max_rate_limit_wait_seconds: 900,
            concurrency: 4,
            retries: 4,
            backoff_base_ms: 1000,
            timeout_seconds: 30.0,
        }
    }
}

/// The definitions in force for DORA metrics (see the README's "How metrics
/// are measured"). Every key has a default; `[[repos]]` entries may override
/// any of them.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct DoraSettings {
    /// Tags whose short name matches this regex are deployments.
    #[serde(deserialize_with = "regex_pattern")]
    pub tag_pattern: String,
    /// When set, first-parent merges into this branch are the deployments instead of tags.
    pub deploy_branch: Option<String>,
    /// Authors whose name matches this regex are bots, besides names ending in `[bot]`.
    #[serde(deserialize_with = "regex_pattern")]
    pub bot_pattern: String,
    /// Events-file rows whose `environment` matches this regex are production.
    #[serde(deserialize_with = "regex_pattern")]
    pub production_pattern: String,
    /// An incident within this many hours after a deployment (and before the
    /// next) fails it; a deployment this soon after a failed one is rework.
    #[serde(deserialize_with = "incident_link_max_hours")]
    pub incident_link_max_hours: f64,
    /// Window length when `--since` is not given.
    #[serde(deserialize_with = "window_days")]
    pub window_days: u32,
    /// Benchmark edition for tiers: an id in `data/benchmarks.toml`.
    pub benchmarks: String,
}

impl Default for DoraSettings {
    fn default() -> Self {
        DoraSettings {
            tag_pattern: r"^v?\d+\.\d+\.\d+$".to_string(),
            deploy_branch: None,
            bot_pattern: String::new(),
            production_pattern: "(?i)^(prod|production)$".to_string(),
            incident_link_max_hours: 168.0,
            window_days: 90,
            benchmarks: "dora-2023".to_string(),
        }
    }
}

/// One repository to assess.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RepoConfig {
    /// Name shown in reports; defaults to the folder name.
    pub name: Option<String>,
    /// Web page of the repository (`https://github.com/acme/api`), so evidence links to
    /// its files; derived from `github` / `gitlab` when not given.
    pub web_url: Option<String>,
    /// Path of the git repository (bare or not), relative to opsmeter.toml.
    pub path: Option<PathBuf>,
    /// Branch, tag or commit whose files the probes read (default: the work
    /// tree of a checkout, the branch HEAD names in a bare repository).
    #[serde(rename = "ref")]
    pub reference: Option<String>,
    /// CSV or JSON Lines files of deployment and incident rows, relative to opsmeter.toml.
    #[serde(default)]
    pub events: Vec<PathBuf>,
    #[serde(default, deserialize_with = "optional_regex_pattern")]
    pub tag_pattern: Option<String>,
    pub deploy_branch: Option<String>,
    #[serde(default, deserialize_with = "optional_regex_pattern")]
    pub bot_pattern: Option<String>,
    #[serde(default, deserialize_with = "optional_regex_pattern")]
    pub production_pattern: Option<String>,
    #[serde(default, deserialize_with = "optional_incident_link_max_hours")]
    pub incident_link_max_hours: Option<f64>,
    /// Globs of coverage reports in the repository (default: the conventional names).
    pub coverage_globs: Option<Vec<String>>,
    /// Coverage reports outside the repository (CI artifacts), relative to opsmeter.toml.
    #[serde(default)]
    pub coverage_reports: Vec<PathBuf>,
    /// A GitHub repository, `owner/name`, collected through the API.
    pub github: Option<String>,
    /// Every repository of a GitHub organisation (or user).
    pub github_org: Option<String>,
    /// A GitLab project path, `group/subgroup/project`.
    pub gitlab: Option<String>,
    /// Every project of a GitLab group, subgroups included.
    pub gitlab_group: Option<String>,
    /// API base URL: GitHub Enterprise (`https://ghe.example.com/api/v3`) or a
    /// self-hosted GitLab (`https://gitlab.example.com/api/v4`).
    pub api_url: Option<String>,
    /// The environment variable holding the token (default `GITHUB_TOKEN` / `GITLAB_TOKEN`).
    pub token_env: Option<String>,
    /// With `github_org` / `gitlab_group`: globs of repository names to collect (default: all).
    #[serde(default)]
    pub include: Vec<String>,
    /// With `github_org` / `gitlab_group`: globs of repository names to leave out.
    #[serde(default)]
    pub exclude: Vec<String>,
    /// With `github_org` / `gitlab_group`: also collect archived repositories.
    #[serde(default)]
    pub include_archived: bool,
    /// With `github_org` / `gitlab_group`: also collect forks.
    #[serde(default)]
    pub include_forks: bool,
    /// GitHub issues with this label are incidents (default `incident`).
    pub incident_label: Option<String>,
    /// GitHub: the Actions workflow whose runs on the default branch are the
    /// deployments (a file name or glob, `deploy.yml`, `deploy-*.yml`).
    pub deploy_workflow: Option<String>,
    /// The services inside this repository: `[[repos.services]]` tables, or
    /// `"auto"` to propose them from tag prefixes and top-level folders.
    #[serde(default)]
    pub services: Option<Services>,
    /// Give each service to the owners its `CODEOWNERS` file gives to its
    /// paths (needs `services`); team pages then gather services across repositories.
    #[serde(default)]
    pub teams_from_codeowners: bool,
}

/// Where a `[[repos]]` entry's facts come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HostKind {
    GitHub,
    GitLab,
}

/// Where a `[[repos]]` entry's facts come from, resolved from its keys (which
/// the configuration check allows one of): consumers match on this instead of
/// testing the four optional keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RepoSource<'a> {
    /// A local repository (`path`), events files, or both.
    Local,
    /// `github = "owner/name"`.
    GitHubRepo(&'a str),
    /// `github_org = "owner"`: every repository of the organisation.
    GitHubOrg(&'a str),
    /// `gitlab = "group/project"`.
    GitLabProject(&'a str),
    /// `gitlab_group = "group"`: every project of the group and its subgroups.
    GitLabGroup(&'a str),
}

impl<'a> RepoSource<'a> {
    /// The host, the repository or organisation path, and whether it is an
    /// organisation or group; `None` for a local entry.
    pub fn host(self) -> Option<(HostKind, &'a str, bool)> {
        match self {
            RepoSource::Local => None,
            RepoSource::GitHubRepo(r) => Some((HostKind::GitHub, r, false)),
            RepoSource::GitHubOrg(o) => Some((HostKind::GitHub, o, true)),
            RepoSource::GitLabProject(p) => Some((HostKind::GitLab, p, false)),
            RepoSource::GitLabGroup(g) => Some((HostKind::GitLab, g, true)),
        }
    }
}

impl RepoConfig {
    /// Where this entry's facts come from.
    pub fn source(&self) -> RepoSource<'_> {
        match (
            &self.github,
            &self.github_org,
            &self.gitlab,
            &self.gitlab_group,
        ) {
            (Some(r), ..) => RepoSource::GitHubRepo(r),
            (_, Some(o), ..) => RepoSource::GitHubOrg(o),
            (_, _, Some(p), _) => RepoSource::GitLabProject(p),
            (.., Some(g)) => RepoSource::GitLabGroup(g),
            _ => RepoSource::Local,
        }
    }

    /// The host and the repository or organisation path, for host entries.
    pub fn host(&self) -> Option<(HostKind, &str, bool)> {
        self.source().host()
    }
}

impl RepoConfig {
    /// The settings in force for this repository: its own keys over `[dora]`.
    pub fn settings(&self, dora: &DoraSettings) -> DoraSettings {
        DoraSettings {
            tag_pattern: self
                .tag_pattern
                .clone()
                .unwrap_or_else(|| dora.tag_pattern.clone()),
            deploy_branch: self
                .deploy_branch
                .clone()
                .or_else(|| dora.deploy_branch.clone()),
            bot_pattern: self
                .bot_pattern
                .clone()
                .unwrap_or_else(|| dora.bot_pattern.clone()),
            production_pattern: self
                .production_pattern
                .clone()
                .unwrap_or_else(|| dora.production_pattern.clone()),
            incident_link_max_hours: self
                .incident_link_max_hours
                .unwrap_or(dora.incident_link_max_hours),
            window_days: dora.window_days,
            benchmarks: dora.benchmarks.clone(),
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            title: "opsmeter".to_string(),
            description: String::new(),
            base_url: "/".to_string(),
            theme: "default".to_string(),
            default_language: "en".to_string(),
            languages: Vec::new(),
            handbook: true,
            extra: toml::Table::new(),
            dora: DoraSettings::default(),
            repos: Vec::new(),
            teams: Vec::new(),
            collect: CollectSettings::default(),
        }
    }
}

impl Config {
    /// Reads `opsmeter.toml` from `root`, or returns defaults when it is absent.
    pub fn load(root: &Path) -> Result<Config> {
        let path = root.join(CONFIG_FILE);
        if !path.exists() {
            return Config::parse("", Path::new(CONFIG_FILE));
        }
        let bytes = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
        let text = String::from_utf8(bytes).map_err(|e| {
            let at = e.utf8_error().valid_up_to();
            let line = e.as_bytes()[..at].iter().filter(|&&b| b == b'\n').count() + 1;
            anyhow::Error::new(crate::diagnostics::Diagnostics(vec![Diagnostic::new(
                CONFIG_FILE,
                Some(line),
                "not UTF-8 text: save opsmeter.toml as UTF-8",
            )]))
        })?;
        Config::parse(&text, Path::new(CONFIG_FILE))
    }

    /// Parses configuration text; `file` names it in error messages.
    pub fn parse(text: &str, file: &Path) -> Result<Config> {
        let mut config: Config = crate::toml_file::parse(text).map_err(|e| {
            anyhow::Error::new(crate::diagnostics::Diagnostics(vec![Diagnostic::new(
                file,
                e.line,
                format!("invalid configuration: {}", e.message),
            )]))
        })?;
        config.normalise(file, text)?;
        Ok(config)
    }

    /// Defaults with the language list filled in, as a missing file gives.
    pub fn defaults() -> Config {
        let mut c = Config::default();
        c.languages.push(c.default_language.clone());
        c
    }

    fn normalise(&mut self, file: &Path, text: &str) -> Result<()> {
        // `file:line` of a top-level key, for messages about its value.
        let at = |key: &str| match crate::diagnostics::toml_key_line(text, key) {
            Some(line) => format!("{}:{line}", file.display()),
            None => file.display().to_string(),
        };
        if self.languages.is_empty() {
            self.languages.push(self.default_language.clone());
        }
        if !self.languages.contains(&self.default_language) {
            let key = if text.contains("default_language") {
                "default_language"
            } else {
                "languages"
            };
            bail!(
                "{}: default_language `{}` is not one of languages {:?}",
                at(key),
                self.default_language,
                self.languages
            );
        }
        for lang in &self.languages {
            if !is_language_code(lang) {
                bail!(
                    "{}: language `{}` is not a language code (expected letters and `-`, like `en` or `zh-Hans`)",
                    at("languages"),
                    lang
                );
            }
        }
        let mut teams_keys = 0;
        for (i, repo) in self.repos.iter_mut().enumerate() {
            validate_host_keys(repo, i, file)?;
            if let Some(sv) = &repo.services {
                let org = repo.github_org.is_some() || repo.gitlab_group.is_some();
                services::validate(sv, i, org, file, text)?;
            }
            if repo.teams_from_codeowners {
                teams_keys += 1;
            }
            if repo.teams_from_codeowners && repo.services.is_none() {
                // The entry's key is the `teams_keys`-th one set in the file.
                let line = text
                    .lines()
                    .enumerate()
                    .filter(|(_, l)| {
                        l.trim_start()
                            .strip_prefix("teams_from_codeowners")
                            .and_then(|r| r.trim_start().strip_prefix('='))
                            .is_some_and(|v| v.trim_start().starts_with("true"))
                    })
                    .nth(teams_keys - 1)
                    .map(|(n, _)| format!(":{}", n + 1))
                    .unwrap_or_default();
                bail!(
                    "{}{line}: repos[{i}].teams_from_codeowners gives services to the owners of their paths: \
                     declare the services too (`[[repos.services]]` tables, or `services = \"auto\"`)",
                    file.display()
                );
            }
            if repo.path.is_none() && repo.events.is_empty() && repo.host().is_none() {
                bail!(
                    "{}: repos[{i}] needs a `path` (a git repository), `events` files, or one of `github`, `github_org`, `gitlab`, `gitlab_group`",
                    file.display()
                );
            }
            // A host entry is named after its repository or organisation, not "repository".
            if repo.name.is_none() {
                repo.name = repo.host().map(|(_, p, _)| p.to_string());
            }
        }
        if self.theme.is_empty() || self.theme.contains(['/', '\\']) || self.theme.starts_with('.')
        {
            bail!(
                "{}: theme `{}` must be the name of a folder under themes/",
                file.display(),
                self.theme
            );
        }
        Ok(())
    }

    /// The path prefix of every URL, from `base_url`: `""` for a site at the root,
    /// `"/dora"` for `https://acme.github.io/dora/`.
    pub fn base_path(&self) -> String {
        let url = self.base_url.trim();
        let after_scheme = match url.find("://") {
            Some(i) => {
                let rest = &url[i + 3..];
                match rest.find('/') {
                    Some(j) => &rest[j..],
                    None => "",
                }
            }
            None => url,
        };
        after_scheme.trim_end_matches('/').to_string()
    }

    /// The absolute origin + prefix when `base_url` is absolute, for canonical links.
    pub fn absolute_base(&self) -> Option<String> {
        let url = self.base_url.trim();
        if url.starts_with("http://") || url.starts_with("https://") {
            Some(url.trim_end_matches('/').to_string())
        } else {
            None
        }
    }

    /// Languages other than the default, in configured order.
    pub fn other_languages(&self) -> impl Iterator<Item = &str> {
        self.languages
            .iter()
            .map(String::as_str)
            .filter(move |l| *l != self.default_language)
    }
}

/// The range of every numeric key, checked as the file is read so that an
/// error names the line of the value. The README's table of settings lists
/// the same ranges: keep them in step.
pub mod limits {
    /// `dora.window_days`: one day to a hundred years.
    pub const WINDOW_DAYS: (i64, i64) = (1, 36_500);
    /// `incident_link_max_hours` (`[dora]` and `[[repos]]`): up to a year.
    pub const INCIDENT_LINK_MAX_HOURS: (f64, f64) = (0.0, 8_760.0);
    /// `collect.max_rate_limit_wait_seconds`: up to a day.
    pub const MAX_RATE_LIMIT_WAIT_SECONDS: (i64, i64) = (0, 86_400);
    /// `collect.concurrency`.
    pub const CONCURRENCY: (i64, i64) = (1, 64);
    /// `collect.retries`.
    pub const RETRIES: (i64, i64) = (0, 20);
    /// `collect.backoff_base_ms`: up to a minute.
    pub const BACKOFF_BASE_MS: (i64, i64) = (0, 60_000);
    /// `collect.timeout_seconds`: a millisecond to an hour.
    pub const TIMEOUT_SECONDS: (f64, f64) = (0.001, 3_600.0);
}

/// A whole number in `range`, converted to `T`; the error says the key, the
/// range and what was found (toml adds the line of the value).
fn whole<'de, D, T>(d: D, key: &str, range: (i64, i64), unit: &str) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: TryFrom<i64>,
{
    let expected = || {
        format!(
            "{key} must be a whole number from {} to {} ({unit})",
            range.0, range.1
        )
    };
    let v = match toml::Value::deserialize(d)? {
        toml::Value::Integer(v) => v,
        other => {
            return Err(serde::de::Error::custom(format!(
                "{}, got {}",
                expected(),
                shown(&other)
            )))
        }
    };
    if v < range.0 || v > range.1 {
        return Err(serde::de::Error::custom(format!("{}, got {v}", expected())));
    }
    T::try_from(v).map_err(|_| serde::de::Error::custom(format!("{}, got {v}", expected())))
}

/// A finite number in `range` (inclusive): `nan`, `inf` and anything outside are refused.
fn real<'de, D: serde::Deserializer<'de>>(
    d: D,
    key: &str,
    range: (f64, f64),
    unit: &str,
) -> Result<f64, D::Error> {
    let value = toml::Value::deserialize(d)?;
    let v = match value {
        toml::Value::Float(v) => Some(v),
        toml::Value::Integer(v) => Some(v as f64),
        _ => None,
    };
    match v {
        Some(v) if v.is_finite() && v >= range.0 && v <= range.1 => Ok(v),
        _ => Err(serde::de::Error::custom(format!(
            "{key} must be a number from {} to {} ({unit}), got {}",
            range.0,
            range.1,
            shown(&value)
        ))),
    }
}

/// A value as a message shows it: numbers short (`1e300`, not 301 digits), other types by name.
fn shown(v: &toml::Value) -> String {
    match v {
        toml::Value::Float(f) if f.is_finite() && f.abs() >= 1e15 => format!("{f:e}"),
        toml::Value::Float(f) if f.is_finite() && f.fract() == 0.0 => format!("{f:.1}"),
        toml::Value::Float(f) => format!("{f}"),
        toml::Value::Integer(i) => i.to_string(),
        other => format!("a {}", other.type_str()),
    }
}

fn window_days<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    whole(d, "dora.window_days", limits::WINDOW_DAYS, "days")
}

fn incident_link_max_hours<'de, D: serde::Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    real(
        d,
        "incident_link_max_hours",
        limits::INCIDENT_LINK_MAX_HOURS,
        "hours",
    )
}

fn optional_incident_link_max_hours<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<f64>, D::Error> {
    incident_link_max_hours(d).map(Some)
}

fn max_rate_limit_wait_seconds<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    whole(
        d,
        "collect.max_rate_limit_wait_seconds",
        limits::MAX_RATE_LIMIT_WAIT_SECONDS,
        "seconds",
    )
}

fn concurrency<'de, D: serde::Deserializer<'de>>(d: D) -> Result<usize, D::Error> {
    whole(
        d,
        "collect.concurrency",
        limits::CONCURRENCY,
        "repositories at a time",
    )
}

fn retries<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    whole(d, "collect.retries", limits::RETRIES, "retries")
}

fn backoff_base_ms<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    whole(
        d,
        "collect.backoff_base_ms",
        limits::BACKOFF_BASE_MS,
        "milliseconds",
    )
}

fn timeout_seconds<'de, D: serde::Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    real(
        d,
        "collect.timeout_seconds",
        limits::TIMEOUT_SECONDS,
        "seconds",
    )
}

/// A regular expression that compiles, checked as the file is read so that
/// the error names its line.
fn regex_pattern<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let pattern = String::deserialize(d)?;
    match regex::Regex::new(&pattern) {
        Ok(_) => Ok(pattern),
        Err(e) => {
            // The regex crate draws a caret under the pattern over several lines;
            // the last line says what is wrong, which is what fits one message.
            let text = e.to_string();
            let why = text
                .lines()
                .rev()
                .find(|l| !l.trim().is_empty())
                .unwrap_or_default()
                .trim()
                .trim_start_matches("error: ");
            Err(serde::de::Error::custom(format!(
                "{pattern:?} is not a valid regular expression: {why}"
            )))
        }
    }
}

fn optional_regex_pattern<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<String>, D::Error> {
    regex_pattern(d).map(Some)
}

/// The host keys of one `[[repos]]` entry: one host at most, well-formed
/// paths and URLs, and org-only keys only on org entries.
fn validate_host_keys(repo: &RepoConfig, i: usize, file: &Path) -> Result<()> {
    let f = file.display();
    let set: Vec<&str> = [
        ("github", repo.github.is_some()),
        ("github_org", repo.github_org.is_some()),
        ("gitlab", repo.gitlab.is_some()),
        ("gitlab_group", repo.gitlab_group.is_some()),
    ]
    .into_iter()
    .filter(|(_, on)| *on)
    .map(|(k, _)| k)
    .collect();
    if set.len() > 1 {
        bail!(
            "{f}: repos[{i}]: `{}` and `{}` cannot both be set: one host source per entry",
            set[0],
            set[1]
        );
    }
    if let Some(r) = &repo.github {
        let parts: Vec<&str> = r.split('/').collect();
        if parts.len() != 2 || parts.iter().any(|p| !is_path_segment(p)) {
            bail!("{f}: repos[{i}].github: expected \"owner/name\", got {r:?}");
        }
    }
    for (key, value) in [
        ("github_org", &repo.github_org),
        ("gitlab_group", &repo.gitlab_group),
    ] {
        if let Some(v) = value {
            let ok = if key == "github_org" {
                is_path_segment(v)
            } else {
                v.split('/').all(is_path_segment)
            };
            if !ok {
                bail!("{f}: repos[{i}].{key}: {v:?} is not an organisation or group path");
            }
        }
    }
    if let Some(p) = &repo.gitlab {
        if p.split('/').count() < 2 || !p.split('/').all(is_path_segment) {
            bail!(
                "{f}: repos[{i}].gitlab: expected a project path like \"group/project\", got {p:?}"
            );
        }
    }
    let is_org = repo.github_org.is_some() || repo.gitlab_group.is_some();
    for (key, used) in [
        ("include", !repo.include.is_empty()),
        ("exclude", !repo.exclude.is_empty()),
        ("include_archived", repo.include_archived),
        ("include_forks", repo.include_forks),
    ] {
        if used && !is_org {
            bail!("{f}: repos[{i}].{key} applies only with `github_org` or `gitlab_group`");
        }
    }
    for (key, globs) in [("include", &repo.include), ("exclude", &repo.exclude)] {
        for g in globs {
            if let Err(e) = globset::Glob::new(g) {
                bail!("{f}: repos[{i}].{key}: {g:?} is not a valid glob: {e}");
            }
        }
    }
    let has_host = !set.is_empty();
    for (key, used) in [
        ("api_url", repo.api_url.is_some()),
        ("token_env", repo.token_env.is_some()),
        ("incident_label", repo.incident_label.is_some()),
    ] {
        if used && !has_host {
            bail!("{f}: repos[{i}].{key} applies only with `github`, `github_org`, `gitlab` or `gitlab_group`");
        }
    }
    if let Some(u) = &repo.api_url {
        if !(u.starts_with("https://") || u.starts_with("http://"))
            || u.contains(char::is_whitespace)
        {
            bail!("{f}: repos[{i}].api_url: expected an http(s) URL, got {u:?}");
        }
    }
    if let Some(t) = &repo.token_env {
        if t.is_empty() || !t.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            bail!("{f}: repos[{i}].token_env: {t:?} is not an environment variable name");
        }
    }
    if repo.incident_label.as_deref() == Some("") {
        bail!("{f}: repos[{i}].incident_label must not be empty");
    }
    if let Some(w) = &repo.deploy_workflow {
        if repo.github.is_none() && repo.github_org.is_none() {
            bail!("{f}: repos[{i}].deploy_workflow applies only with `github` or `github_org`");
        }
        if let Err(e) = globset::Glob::new(w) {
            bail!("{f}: repos[{i}].deploy_workflow: {w:?} is not a valid file name or glob: {e}");
        }
    }
    Ok(())
}

/// One segment of a host path: letters, digits, `-`, `_`, `.`, never `.` or `..` alone.
fn is_path_segment(s: &str) -> bool {
    !s.is_empty()
        && s != "."
        && s != ".."
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

fn is_language_code(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 16
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        && s.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
}

/// The site root a command works on: `--root` if given, else the current directory.
pub fn site_root(root: Option<&Path>) -> Result<PathBuf> {
    let root = match root {
        Some(r) => r.to_path_buf(),
        None => std::env::current_dir().context("reading the current directory")?,
    };
    if !root.is_dir() {
        bail!("site root {} is not a directory", root.display());
    }
    Ok(root)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_file_gives_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let c = Config::load(dir.path()).unwrap();
        assert_eq!(c.title, "opsmeter");
        assert_eq!(c.languages, vec!["en".to_string()]);
        assert_eq!(c.base_path(), "");
    }

    #[test]
    fn unknown_key_is_an_error_naming_key_and_line() {
        let err = Config::parse("title = \"x\"\ntheem = \"y\"\n", Path::new("opsmeter.toml"))
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("opsmeter.toml:2: invalid configuration: unknown field `theem`"),
            "{err}"
        );
    }

    #[test]
    fn base_path_comes_from_the_url_path() {
        let mut c = Config {
            base_url: "https://acme.github.io/dora/".into(),
            ..Config::default()
        };
        assert_eq!(c.base_path(), "/dora");
        assert_eq!(
            c.absolute_base().as_deref(),
            Some("https://acme.github.io/dora")
        );
        c.base_url = "https://example.com".into();
        assert_eq!(c.base_path(), "");
    }

    #[test]
    fn host_entries_are_named_after_their_repository() {
        let c = Config::parse(
            "[[repos]]\ngithub = \"acme/api\"\n[[repos]]\ngithub_org = \"acme\"\nexclude = [\"legacy-*\"]\n\
             [[repos]]\ngitlab = \"grp/sub/proj\"\napi_url = \"https://gitlab.example.com/api/v4\"\n\
             [collect]\nconcurrency = 2\n",
            Path::new("opsmeter.toml"),
        )
        .unwrap();
        let names: Vec<_> = c.repos.iter().map(|r| r.name.clone().unwrap()).collect();
        assert_eq!(names, ["acme/api", "acme", "grp/sub/proj"]);
        assert_eq!(c.repos[1].host(), Some((HostKind::GitHub, "acme", true)));
        assert_eq!(c.repos[1].source(), RepoSource::GitHubOrg("acme"));
        assert_eq!(c.collect.concurrency, 2);
        assert_eq!(c.collect.max_rate_limit_wait_seconds, 900);
    }

    #[test]
    fn deploy_workflow_is_a_glob_of_a_github_entry() {
        let parse = |text: &str| Config::parse(text, Path::new("opsmeter.toml"));
        let e = parse("[[repos]]\npath = \".\"\ndeploy_workflow = \"deploy.yml\"\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("opsmeter.toml: repos[0].deploy_workflow applies only with `github` or `github_org`"),
            "{e}"
        );
        let e = parse("[[repos]]\ngithub = \"a/b\"\ndeploy_workflow = \"deploy[.yml\"\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains(
                "repos[0].deploy_workflow: \"deploy[.yml\" is not a valid file name or glob"
            ),
            "{e}"
        );
        let c = parse("[[repos]]\ngithub = \"a/b\"\ndeploy_workflow = \"deploy-*.yml\"\n").unwrap();
        assert_eq!(c.repos[0].deploy_workflow.as_deref(), Some("deploy-*.yml"));
    }

    #[test]
    fn host_key_mistakes_name_the_key() {
        let err = |text: &str| {
            Config::parse(text, Path::new("opsmeter.toml"))
                .unwrap_err()
                .to_string()
        };
        let e = err("[[repos]]\ngithub = \"acme\"\n");
        assert!(
            e.contains("repos[0].github: expected \"owner/name\""),
            "{e}"
        );
        let e = err("[[repos]]\ngithub = \"a/b\"\ngitlab = \"c/d\"\n");
        assert!(
            e.contains("`github` and `gitlab` cannot both be set"),
            "{e}"
        );
        let e = err("[[repos]]\ngithub = \"a/b\"\ninclude = [\"x\"]\n");
        assert!(e.contains("repos[0].include applies only with"), "{e}");
        let e = err("[[repos]]\ngithub = \"a/b\"\napi_url = \"ftp://x\"\n");
        assert!(
            e.contains("repos[0].api_url: expected an http(s) URL"),
            "{e}"
        );
        let e = err("[[repos]]\ngithub = \"a/b\"\ntoken_env = \"A-B\"\n");
        assert!(e.contains("repos[0].token_env"), "{e}");
        let e = err("[collect]\nconcurency = 2\n");
        assert!(
            e.contains("opsmeter.toml:2: invalid configuration: unknown field `concurency`"),
            "{e}"
        );
        let e = err("[collect]\nconcurrency = 0\n");
        assert!(
            e.starts_with(
                "opsmeter.toml:2: invalid configuration: collect.concurrency must be a whole number \
                 from 1 to 64 (repositories at a time), got 0"
            ),
            "{e}"
        );
    }

    #[test]
    fn default_language_must_be_listed() {
        let err = Config::parse("languages = [\"zh\"]\n", Path::new("opsmeter.toml"))
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("opsmeter.toml:1: default_language `en` is not one of"),
            "{err}"
        );
        let err = Config::parse(
            "title = \"x\"\nlanguages = [\"en\", \"z h\"]\n",
            Path::new("opsmeter.toml"),
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.starts_with("opsmeter.toml:2: language `z h` is not a language code"),
            "{err}"
        );
    }

    #[test]
    fn a_config_that_is_not_utf8_names_the_line() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join(CONFIG_FILE),
            b"title = \"x\"\n\ndescription = \"\xe9\"\n",
        )
        .unwrap();
        let e = Config::load(dir.path()).unwrap_err().to_string();
        assert_eq!(
            e,
            "opsmeter.toml:3: not UTF-8 text: save opsmeter.toml as UTF-8"
        );
    }

    #[test]
    fn numbers_in_range_are_kept() {
        let c = Config::parse(
            "[dora]\nwindow_days = 36500\nincident_link_max_hours = 0.5\n\
             [collect]\ntimeout_seconds = 1\nretries = 0\n[[repos]]\npath = \".\"\nincident_link_max_hours = 8760\n",
            Path::new("opsmeter.toml"),
        )
        .unwrap();
        assert_eq!(c.dora.window_days, 36_500);
        assert_eq!(c.dora.incident_link_max_hours, 0.5);
        assert_eq!(c.collect.timeout_seconds, 1.0);
        assert_eq!(c.collect.retries, 0);
        assert_eq!(c.repos[0].incident_link_max_hours, Some(8760.0));
        assert_eq!(c.repos[0].tag_pattern, None);
    }
}
