//! `opsmeter.toml` (`src/config.rs`).

use std::path::Path;

use proptest::collection::{btree_set, vec};
use proptest::prelude::*;

use crate::support::*;
use opsmeter::config::Config;

const CONFIG_FULL: &str = r#"title = "Acme delivery"
description = "How we ship."
base_url = "https://acme.github.io/dora/"
theme = "default"
default_language = "en"
languages = ["en", "zh"]

[extra]
logo = "/logo.svg"

[dora]
tag_pattern = '^v\d+\.\d+\.\d+$'
bot_pattern = '(?i)renovate|dependabot'
production_pattern = "(?i)^prod"
incident_link_max_hours = 72.5
window_days = 90
benchmarks = "dora-2023"

[collect]
max_rate_limit_wait_seconds = 900
concurrency = 4
retries = 4
backoff_base_ms = 1000
timeout_seconds = 30.0

[[repos]]
name = "api"
path = "../api"
events = ["events/api.csv"]
coverage_reports = ["ci/lcov.info"]
coverage_globs = ["**/lcov.info"]
incident_link_max_hours = 24

[[repos]]
github = "acme/web"
token_env = "ACME_TOKEN"
incident_label = "sev1"

[[repos]]
gitlab_group = "acme/platform"
api_url = "https://gitlab.acme.test/api/v4"
include = ["svc-*"]
exclude = ["*-archive"]
include_archived = true

[[teams]]
name = "Payments"
repos = ["api", "acme/web"]
"#;
const CONFIG_TOKENS: &[&str] = &[
    "[[repos]]\n",
    "[dora]\n",
    "[collect]\n",
    "[[teams]]\n",
    "window_days = ",
    "concurrency = 0\n",
    "github = ",
    "\"a/b\"",
    "'('",
    "\"[\"",
    "inf",
    "nan",
    "-inf",
    "1e300",
    "unknown_key = 1\n",
];

proptest! {
    #![proptest_config(cases(4000))]

    /// Any text: no panic; every error starts with the file; a TOML error
    /// (syntax, type, unknown key) gives a line of the file.
    #[test]
    fn config_never_panics_and_errors_name_the_file(
        input in hostile(&[CONFIG_FULL, "title = \"x\"\n"], CONFIG_TOKENS),
    ) {
        let text = input.text();
        if let Err(e) = Config::parse(&text, Path::new("opsmeter.toml")) {
            let message = format!("{e:#}");
            let line = line_after_file(&message, "opsmeter.toml")?;
            if let Some(line) = line {
                check_line(line, text.as_bytes(), &message)?;
            }
            if let Some(d) = e.downcast_ref::<opsmeter::diagnostics::Diagnostics>() {
                for d in &d.0 {
                    prop_assert!(d.line.is_some(), "a TOML error without a line: {}", d);
                }
            }
        }
    }
}

#[derive(Debug, Clone)]
struct ConfigFields {
    title: String,
    description: String,
    languages: Vec<String>,
    window_days: u32,
    incident_link_max_hours: f64,
    concurrency: usize,
    repos: Vec<(String, String)>,
}

fn config_fields() -> impl Strategy<Value = ConfigFields> {
    (
        any::<String>(),
        "\\PC{0,40}",
        btree_set("[a-z]{2}(-[A-Z][a-z]{3})?", 0..4),
        1u32..3650,
        // The documented range: 0 to 8760 hours (a year).
        (0u32..=70_080).prop_map(|h| f64::from(h) / 8.0),
        1usize..64,
        vec(("\\PC{1,20}", "[a-z0-9_./-]{1,20}"), 0..4),
    )
        .prop_map(
            |(title, description, languages, window_days, hours, concurrency, repos)| {
                ConfigFields {
                    title,
                    description,
                    languages: std::iter::once("en".to_string())
                        .chain(languages.into_iter().filter(|l| l != "en"))
                        .collect(),
                    window_days,
                    incident_link_max_hours: hours,
                    concurrency,
                    repos,
                }
            },
        )
}

proptest! {
    #![proptest_config(cases(500))]

    /// A configuration written from known values reads back as those values.
    #[test]
    fn config_round_trips(c in config_fields()) {
        let languages: Vec<String> = c.languages.iter().map(|l| toml_string(l)).collect();
        let mut text = format!(
            "title = {}\ndescription = {}\ndefault_language = \"en\"\nlanguages = [{}]\n\
             [dora]\nwindow_days = {}\nincident_link_max_hours = {:?}\n[collect]\nconcurrency = {}\n",
            toml_string(&c.title),
            toml_string(&c.description),
            languages.join(", "),
            c.window_days,
            c.incident_link_max_hours,
            c.concurrency,
        );
        for (name, path) in &c.repos {
            text.push_str(&format!("[[repos]]\nname = {}\npath = {}\n", toml_string(name), toml_string(path)));
        }
        let config = Config::parse(&text, Path::new("opsmeter.toml"))
            .map_err(|e| TestCaseError::fail(format!("{e:#}\n{text}")))?;
        prop_assert_eq!(&config.title, &c.title);
        prop_assert_eq!(&config.description, &c.description);
        prop_assert_eq!(&config.languages, &c.languages);
        prop_assert_eq!(config.dora.window_days, c.window_days);
        prop_assert_eq!(config.dora.incident_link_max_hours, c.incident_link_max_hours);
        prop_assert_eq!(config.collect.concurrency, c.concurrency);
        let repos: Vec<(String, String)> = config
            .repos
            .iter()
            .map(|r| (r.name.clone().unwrap_or_default(), r.path.clone().unwrap_or_default().to_string_lossy().into_owned()))
            .collect();
        prop_assert_eq!(repos, c.repos.clone());
    }
}
