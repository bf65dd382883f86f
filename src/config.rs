//! `opsmeter.toml`: the site's settings.
//!
//! A missing file means defaults; an unknown key is an error naming the key and
//! its line, because a misspelt setting that is silently ignored is worse than
//! no setting at all.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};

use crate::diagnostics::{line_of_offset, Diagnostic};

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
    /// Free-form values for templates (`config.extra`).
    pub extra: toml::Table,
    /// How delivery is measured, for every repository unless it overrides a key.
    pub dora: DoraSettings,
    /// The repositories to assess. Empty: the site's own checkout.
    pub repos: Vec<RepoConfig>,
}

/// The definitions in force for DORA metrics (see the README's "How metrics
/// are measured"). Every key has a default; `[[repos]]` entries may override
/// any of them.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct DoraSettings {
    /// Tags whose short name matches this regex are deployments.
    pub tag_pattern: String,
    /// When set, first-parent merges into this branch are the deployments instead of tags.
    pub deploy_branch: Option<String>,
    /// Authors whose name matches this regex are bots, besides names ending in `[bot]`.
    pub bot_pattern: String,
    /// Events-file rows whose `environment` matches this regex are production.
    pub production_pattern: String,
    /// An incident within this many hours after a deployment (and before the
    /// next) fails it; a deployment this soon after a failed one is rework.
    pub incident_link_max_hours: f64,
    /// Window length when `--since` is not given.
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
    /// Path of the git repository (bare or not), relative to opsmeter.toml.
    pub path: Option<PathBuf>,
    /// CSV or JSON Lines files of deployment and incident rows, relative to opsmeter.toml.
    #[serde(default)]
    pub events: Vec<PathBuf>,
    pub tag_pattern: Option<String>,
    pub deploy_branch: Option<String>,
    pub bot_pattern: Option<String>,
    pub production_pattern: Option<String>,
    pub incident_link_max_hours: Option<f64>,
    /// Globs of coverage reports in the repository (default: the conventional names).
    pub coverage_globs: Option<Vec<String>>,
    /// Coverage reports outside the repository (CI artifacts), relative to opsmeter.toml.
    #[serde(default)]
    pub coverage_reports: Vec<PathBuf>,
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
            extra: toml::Table::new(),
            dora: DoraSettings::default(),
            repos: Vec::new(),
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
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        Config::parse(&text, Path::new(CONFIG_FILE))
    }

    /// Parses configuration text; `file` names it in error messages.
    pub fn parse(text: &str, file: &Path) -> Result<Config> {
        let mut config: Config = toml::from_str(text).map_err(|e| {
            let line = e.span().map(|s| line_of_offset(text, s.start));
            anyhow::Error::new(crate::diagnostics::Diagnostics(vec![Diagnostic::new(
                file,
                line,
                format!("invalid configuration: {}", e.message().trim()),
            )]))
        })?;
        config.normalise(file)?;
        Ok(config)
    }

    /// Defaults with the language list filled in, as a missing file gives.
    pub fn defaults() -> Config {
        let mut c = Config::default();
        c.languages.push(c.default_language.clone());
        c
    }

    fn normalise(&mut self, file: &Path) -> Result<()> {
        if self.languages.is_empty() {
            self.languages.push(self.default_language.clone());
        }
        if !self.languages.contains(&self.default_language) {
            bail!(
                "{}: default_language `{}` is not one of languages {:?}",
                file.display(),
                self.default_language,
                self.languages
            );
        }
        for lang in &self.languages {
            if !is_language_code(lang) {
                bail!(
                    "{}: language `{}` is not a language code (expected letters and `-`, like `en` or `zh-Hans`)",
                    file.display(),
                    lang
                );
            }
        }
        for (what, pattern) in [
            ("dora.tag_pattern", &self.dora.tag_pattern),
            ("dora.bot_pattern", &self.dora.bot_pattern),
            ("dora.production_pattern", &self.dora.production_pattern),
        ] {
            if let Err(e) = regex::Regex::new(pattern) {
                bail!(
                    "{}: {what} is not a valid regular expression: {e}",
                    file.display()
                );
            }
        }
        for (i, repo) in self.repos.iter().enumerate() {
            if repo.path.is_none() && repo.events.is_empty() {
                bail!(
                    "{}: repos[{i}] needs a `path` (a git repository) or `events` files",
                    file.display()
                );
            }
            for pattern in [
                &repo.tag_pattern,
                &repo.bot_pattern,
                &repo.production_pattern,
            ]
            .into_iter()
            .flatten()
            {
                if let Err(e) = regex::Regex::new(pattern) {
                    bail!(
                        "{}: repos[{i}]: {pattern:?} is not a valid regular expression: {e}",
                        file.display()
                    );
                }
            }
        }
        if self.dora.incident_link_max_hours < 0.0 || self.dora.window_days == 0 {
            bail!(
                "{}: dora.incident_link_max_hours must be >= 0 and dora.window_days > 0",
                file.display()
            );
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
    fn default_language_must_be_listed() {
        let err = Config::parse("languages = [\"zh\"]\n", Path::new("opsmeter.toml"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("default_language `en` is not one of"), "{err}");
    }
}
