//! Every URL and output path opsmeter generates, in one place: the language
//! prefix of content pages, the dashboards (`/repos/<slug>/`,
//! `/repos/<slug>/services/<service>/`, `/teams/<slug>/` in every language), the exports (`/api/…`, `/badges/<slug>.svg`), the search
//! indexes and the files beside the pages. Pages, the sitemap, the search index,
//! the one-owner check ([`super::outputs`]) and `check` all ask here, so a path
//! cannot be spelt two ways.
//!
//! Paths are site paths (`/zh/repos/api/`), without the `base_url` prefix,
//! which [`super::build::Site`] adds for links.

use crate::config::Config;

/// The JSON export of every assessed repository.
pub const REPORT_JSON: &str = "/api/report.json";
/// The CSV export, one row per repository.
pub const REPORT_CSV: &str = "/api/report.csv";
pub const SITEMAP: &str = "/sitemap.xml";
pub const ROBOTS: &str = "/robots.txt";
pub const NOT_FOUND: &str = "/404.html";
pub const HIGHLIGHT_CSS: &str = "/highlight.css";
pub const CHARTS_CSS: &str = "/charts.css";

/// Files opsmeter writes beside the pages whatever the data.
pub const GENERATED_FILES: &[&str] = &[SITEMAP, ROBOTS, NOT_FOUND, HIGHLIGHT_CSS, CHARTS_CSS];

/// Folders whose contents opsmeter generates from data (under every language
/// prefix for the dashboards).
const DASHBOARD_FOLDERS: &[&str] = &["repos", "teams"];
const DATA_FOLDERS: &[&str] = &["api", "badges", "search"];

/// The routes of one site: which language is served at `/`.
#[derive(Debug, Clone)]
pub struct Routes {
    default_language: String,
}

impl Routes {
    pub fn new(config: &Config) -> Routes {
        Routes {
            default_language: config.default_language.clone(),
        }
    }

    /// `""` for the default language, `"/zh"` for another.
    pub fn language_prefix(&self, lang: &str) -> String {
        if lang == self.default_language {
            String::new()
        } else {
            format!("/{lang}")
        }
    }

    /// The home page (and dashboard overview) of a language: `/`, `/zh/`.
    pub fn home(&self, lang: &str) -> String {
        format!("{}/", self.language_prefix(lang))
    }

    /// A content page from its folders and name (`["guide", "testing"]`).
    pub fn content(&self, lang: &str, parts: &[String]) -> String {
        let mut path = self.home(lang);
        for p in parts {
            path.push_str(p);
            path.push('/');
        }
        path
    }

    /// A repository's report: `/repos/<slug>/`, `/zh/repos/<slug>/`.
    pub fn report(&self, lang: &str, slug: &str) -> String {
        format!("{}/repos/{slug}/", self.language_prefix(lang))
    }

    /// A service's report inside its repository's:
    /// `/repos/<repo>/services/<service>/`, `/zh/repos/<repo>/services/<service>/`.
    pub fn service(&self, lang: &str, repo: &str, service: &str) -> String {
        format!("{}services/{service}/", self.report(lang, repo))
    }

    /// A team's overview: `/teams/<slug>/`, `/zh/teams/<slug>/`.
    pub fn team(&self, lang: &str, slug: &str) -> String {
        format!("{}/teams/{slug}/", self.language_prefix(lang))
    }

    /// Whether `path` (a site path, `/`-first) is one opsmeter generates from
    /// data or writes beside the pages, in any of `languages`. `check` takes
    /// these on trust, since it does not assess repositories.
    pub fn is_generated(&self, path: &str, languages: &[String]) -> bool {
        if GENERATED_FILES.contains(&path) {
            return true;
        }
        let rel = path.trim_start_matches('/');
        let under = |folder: &str, p: &str| {
            p.strip_prefix(folder)
                .is_some_and(|rest| rest.starts_with('/'))
        };
        if DATA_FOLDERS.iter().any(|f| under(f, rel)) {
            return true;
        }
        languages.iter().any(|lang| {
            let prefix = self.language_prefix(lang);
            let Some(rest) = rel.strip_prefix(prefix.trim_start_matches('/')) else {
                return false;
            };
            let rest = rest.trim_start_matches('/');
            DASHBOARD_FOLDERS.iter().any(|f| under(f, rest))
        })
    }
}

/// A repository's badge (one for all languages: it is an image for READMEs).
pub fn badge(slug: &str) -> String {
    format!("/badges/{slug}.svg")
}

/// The search index of a language.
pub fn search_index(lang: &str) -> String {
    format!("/search/{lang}.json")
}

/// The file inside the output folder for a site path: `/zh/repos/api/` →
/// `zh/repos/api/index.html`, `/api/report.json` → `api/report.json`.
pub fn output_file(path: &str) -> String {
    let rel = path.trim_start_matches('/');
    if rel.is_empty() || rel.ends_with('/') {
        format!("{rel}index.html")
    } else {
        rel.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn routes() -> Routes {
        Routes {
            default_language: "en".into(),
        }
    }

    #[test]
    fn dashboards_live_under_the_language_prefix() {
        let r = routes();
        assert_eq!(r.home("en"), "/");
        assert_eq!(r.home("zh"), "/zh/");
        assert_eq!(r.report("en", "api"), "/repos/api/");
        assert_eq!(r.report("zh", "api"), "/zh/repos/api/");
        assert_eq!(r.team("zh", "core"), "/zh/teams/core/");
        assert_eq!(
            r.service("en", "mono", "payments"),
            "/repos/mono/services/payments/"
        );
        assert_eq!(
            r.service("zh", "mono", "payments"),
            "/zh/repos/mono/services/payments/"
        );
        assert_eq!(
            r.content("zh", &["guide".into(), "testing".into()]),
            "/zh/guide/testing/"
        );
        assert_eq!(badge("api"), "/badges/api.svg");
        assert_eq!(search_index("zh"), "/search/zh.json");
    }

    #[test]
    fn output_files_of_pages_and_files() {
        assert_eq!(output_file("/"), "index.html");
        assert_eq!(output_file("/zh/repos/api/"), "zh/repos/api/index.html");
        assert_eq!(output_file(REPORT_JSON), "api/report.json");
        assert_eq!(output_file(&badge("a")), "badges/a.svg");
    }

    #[test]
    fn generated_paths_in_every_language() {
        let r = routes();
        let langs = vec!["en".to_string(), "zh".to_string()];
        for p in [
            "/repos/api/",
            "/zh/repos/api/",
            "/zh/teams/core/",
            "/repos/mono/services/payments/",
            "/zh/repos/mono/services/payments/",
            "/api/report.csv",
            "/badges/x.svg",
            "/sitemap.xml",
        ] {
            assert!(r.is_generated(p, &langs), "{p}");
        }
        for p in [
            "/repos",
            "/repository/",
            "/fr/repos/api/",
            "/guide/",
            "/apix/",
        ] {
            assert!(!r.is_generated(p, &langs), "{p}");
        }
    }
}
