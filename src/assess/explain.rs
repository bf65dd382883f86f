//! Why a repository has no deployment, coverage or incident to measure, and
//! what to do about it: which sources were tried and what each held. Each
//! explanation carries its raw values (counts, tag names, pattern) and keys
//! (`found`, `hint`) that the report page phrases in the reader's language
//! (theme strings `explain_<found>` and `hint_<hint>`, with the same
//! placeholders); `text` is the English sentence `assess` prints.

use serde::Serialize;

use crate::facts::RepoFacts;
use crate::metrics::{format_time, Window};
use crate::probes::coverage::Coverage;
use crate::probes::{FileSource, SourceKind};
use crate::sources::repo::RepoSpec;

/// One explanation of a missing measurement.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Explanation {
    /// `deployments`, `coverage` or `incidents`.
    pub topic: &'static str,
    /// What was read: `tags`, `branch`, `events`, `host`, `window`, `tree`.
    pub source: &'static str,
    /// What it held, as a key: `tags_none_matching`, `no_tags`,
    /// `host_tags_none_matching`, `host_nothing`, `no_branch_merges`,
    /// `no_event_deployments`, `none_in_window`, `no_coverage_report`,
    /// `no_incident_issues`, `no_event_incidents`, `no_incident_source`.
    pub found: &'static str,
    /// What to do, as a key: `set_tag_pattern`, `record_deployments`,
    /// `record_host_deployments`, `widen_window`, `coverage_reports`,
    /// `record_incidents`.
    pub hint: &'static str,
    /// The count `found` speaks of (tags, events files, deployments).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub count: Option<usize>,
    /// The pattern nothing matched (`tag_pattern`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pattern: Option<String>,
    /// Tags that did not match: the newest (local git) or the last by name (hosts).
    pub tags: Vec<String>,
    /// The `deploy_branch` without merges.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub branch: Option<String>,
    /// The time of the last deployment, before the window.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last: Option<String>,
    /// A `tag_pattern` that would match the tags shown.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suggestion: Option<String>,
    /// The handbook chapter that says how to start (`dora-metrics`, `testing`).
    pub chapter: &'static str,
    /// In English: what was found, then what to do.
    pub text: String,
}

/// The explanations of a repository's report: one per topic whose
/// measurement is missing.
pub fn explain(
    facts: &RepoFacts,
    spec: &RepoSpec,
    window: &Window,
    coverage: Option<&Coverage>,
    files: &FileSource,
) -> Vec<Explanation> {
    let mut out = Vec::new();
    if let Some(e) = deployments(facts, spec, window) {
        out.push(e);
    }
    // Only when files were read: otherwise the files line already says why.
    if coverage.is_none() && files.source != SourceKind::Unavailable {
        out.push(finish(Explanation {
            topic: "coverage",
            source: "tree",
            found: "no_coverage_report",
            hint: "coverage_reports",
            chapter: "testing",
            ..Explanation::default()
        }));
    }
    if facts.incidents.is_empty()
        && (facts.collection.is_some() || spec.path.is_some() || !spec.events.is_empty())
    {
        let host = facts.collection.as_ref().is_some_and(|c| c.host != "local");
        let events = spec.events.len();
        let (source, found, count) = if host {
            ("host", "no_incident_issues", None)
        } else if events > 0 {
            ("events", "no_event_incidents", Some(events))
        } else {
            ("events", "no_incident_source", None)
        };
        out.push(finish(Explanation {
            topic: "incidents",
            source,
            found,
            hint: "record_incidents",
            count,
            chapter: "dora-metrics",
            ..Explanation::default()
        }));
    }
    out
}

/// Why no deployment is in the window, when none is.
fn deployments(facts: &RepoFacts, spec: &RepoSpec, window: &Window) -> Option<Explanation> {
    if facts.deployments.iter().any(|d| window.contains(d.time)) {
        return None;
    }
    let e = Explanation {
        topic: "deployments",
        chapter: "dora-metrics",
        ..Explanation::default()
    };
    if let Some(last) = facts
        .deployments
        .iter()
        .filter(|d| d.time < window.since)
        .max_by_key(|d| d.time)
    {
        return Some(finish(Explanation {
            source: "window",
            found: "none_in_window",
            hint: "widen_window",
            count: Some(facts.deployments.len()),
            last: Some(format_time(&last.time)),
            ..e
        }));
    }
    if !facts.deployments.is_empty() {
        // All after the window: the window ends too early; nothing to explain
        // beyond the dates the report shows.
        return None;
    }
    let host = facts.collection.as_ref().is_some_and(|c| c.host != "local");
    let Some(search) = &facts.deployment_search else {
        if spec.path.is_none() && !spec.events.is_empty() {
            return Some(finish(Explanation {
                source: "events",
                found: "no_event_deployments",
                hint: "record_deployments",
                count: Some(spec.events.len()),
                ..e
            }));
        }
        return None;
    };
    if let Some(branch) = &search.branch {
        return Some(finish(Explanation {
            source: "branch",
            found: "no_branch_merges",
            hint: "record_deployments",
            branch: Some(branch.clone()),
            ..e
        }));
    }
    let count = search.tags.unwrap_or(0);
    let suggestion = suggest_pattern(&search.other_tags);
    let (found, hint) = match (host, count, &suggestion) {
        (false, 0, _) => ("no_tags", "record_deployments"),
        (true, 0, _) => ("host_nothing", "record_host_deployments"),
        (false, _, Some(_)) => ("tags_none_matching", "set_tag_pattern"),
        (false, _, None) => ("tags_none_matching", "record_deployments"),
        (true, _, Some(_)) => ("host_tags_none_matching", "set_tag_pattern"),
        (true, _, None) => ("host_tags_none_matching", "record_host_deployments"),
    };
    Some(finish(Explanation {
        source: if host { "host" } else { "tags" },
        found,
        hint,
        count: Some(count),
        pattern: Some(search.tag_pattern.clone()),
        tags: search.other_tags.clone(),
        suggestion,
        ..e
    }))
}

/// A `tag_pattern` for tags named like the newest, `tags[0]`: its letters
/// before the first digit, anchored (`release-2024-11` → `^release-`), when
/// the next newest starts the same way (one odd tag is no naming scheme);
/// none for tags that start with a digit or have none.
pub fn suggest_pattern(tags: &[String]) -> Option<String> {
    let first = tags.first()?;
    let prefix: String = first.chars().take_while(|c| !c.is_ascii_digit()).collect();
    if prefix.is_empty() || prefix == *first || !tags.iter().take(2).all(|t| t.starts_with(&prefix))
    {
        return None;
    }
    let escaped: String = prefix
        .chars()
        .flat_map(|c| {
            let meta = "\\.+*?()|[]{}^$#&~".contains(c);
            meta.then_some('\\').into_iter().chain(std::iter::once(c))
        })
        .collect();
    Some(format!("^{escaped}"))
}

/// The English sentence of a `found` (`explain_<key>`) or `hint`
/// (`hint_<key>`) key: the default theme's own string, so `assess` and the
/// English page say the same words.
fn english(key: &str, prefix: &str) -> String {
    static EN: std::sync::OnceLock<std::collections::BTreeMap<String, String>> =
        std::sync::OnceLock::new();
    let strings = EN.get_or_init(|| {
        toml::from_str(include_str!("../../themes/default/i18n/en.toml")).unwrap_or_default()
    });
    strings
        .get(&format!("{prefix}{key}"))
        .cloned()
        .unwrap_or_else(|| key.replace('_', " "))
}

/// Fills the placeholders of a theme sentence with an explanation's values.
pub fn fill(sentence: &str, e: &Explanation) -> String {
    let tags = e
        .tags
        .iter()
        .map(|t| format!("`{t}`"))
        .collect::<Vec<_>>()
        .join(", ");
    sentence
        .replace(
            "{count}",
            &e.count.map(|c| c.to_string()).unwrap_or_default(),
        )
        .replace("{pattern}", e.pattern.as_deref().unwrap_or_default())
        .replace("{tags}", &tags)
        .replace("{branch}", e.branch.as_deref().unwrap_or_default())
        .replace("{last}", e.last.as_deref().unwrap_or_default())
        .replace("{suggestion}", e.suggestion.as_deref().unwrap_or_default())
}

fn finish(mut e: Explanation) -> Explanation {
    e.text = format!(
        "{}: {}",
        fill(&english(e.found, "explain_"), &e),
        fill(&english(e.hint, "hint_"), &e)
    );
    e
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_has_an_english_sentence() {
        for (key, prefix) in [
            ("tags_none_matching", "explain_"),
            ("no_tags", "explain_"),
            ("host_tags_none_matching", "explain_"),
            ("host_nothing", "explain_"),
            ("no_branch_merges", "explain_"),
            ("no_event_deployments", "explain_"),
            ("none_in_window", "explain_"),
            ("no_coverage_report", "explain_"),
            ("no_incident_issues", "explain_"),
            ("no_event_incidents", "explain_"),
            ("no_incident_source", "explain_"),
            ("set_tag_pattern", "hint_"),
            ("record_deployments", "hint_"),
            ("record_host_deployments", "hint_"),
            ("widen_window", "hint_"),
            ("coverage_reports", "hint_"),
            ("record_incidents", "hint_"),
        ] {
            assert_ne!(english(key, prefix), key.replace('_', " "), "{prefix}{key}");
        }
        assert_eq!(
            english("widen_window", "hint_"),
            "widen the window with `--since`"
        );
    }

    #[test]
    fn suggests_the_shared_prefix_of_the_tags_shown() {
        let t = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            suggest_pattern(&t(&["release-2024-11", "release-2024-10"])).as_deref(),
            Some("^release-")
        );
        assert_eq!(
            suggest_pattern(&t(&["v1.2", "v1.1"])).as_deref(),
            Some("^v")
        );
        assert_eq!(suggest_pattern(&t(&["release-2", "rc-1"])), None);
        assert_eq!(
            suggest_pattern(&t(&["r-2", "r-1", "build-7"])).as_deref(),
            Some("^r-")
        );
        assert_eq!(
            suggest_pattern(&t(&["a.b+1"])).as_deref(),
            Some("^a\\.b\\+")
        );
        assert_eq!(suggest_pattern(&t(&["2024.11"])), None);
        assert_eq!(suggest_pattern(&t(&["latest"])), None);
        assert_eq!(suggest_pattern(&[]), None);
    }
}
