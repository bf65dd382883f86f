//! The proposal of `services = "auto"`: services guessed from tag prefixes
//! and conventional folders (pure: tags, file paths and the period that counts
//! as recent in, services out), and the tag prefixes left out because their
//! module is gone from the tree or no longer released, with why, so that a
//! user can take them back.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::Result;
use chrono::DateTime;
use regex::Regex;

use super::{ServiceDef, ServiceSet};
use crate::config::services::{is_service_name, MAX_SERVICES};

/// Folders whose sub-folders are services by convention.
pub const SERVICE_ROOTS: &[&str] = &["services", "apps", "cmd", "packages"];

/// How far before the repository's newest tag a prefix's last tag may be for
/// the prefix to count as still released: a year, so that a module released
/// once or twice a year is kept.
const RECENT_SECONDS: i64 = 365 * 86_400;

/// A service proposed by `services = "auto"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proposal {
    pub name: String,
    pub paths: Vec<String>,
    pub tag_pattern: Option<String>,
}

/// When a tag prefix counts as still released: it has a tag in the window, or
/// in the [`RECENT_SECONDS`] up to the repository's newest tag (the newest up
/// to the window's end). Relative to the tags, not to the clock, so that the
/// same repository and window always give the same proposal, and a repository
/// that stopped releasing altogether keeps its services (its own numbers say
/// it stopped).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Recency {
    /// The assessment's window (Unix seconds, both ends included), when there
    /// is one (`assess`; `collect` has none).
    pub window: Option<(i64, i64)>,
    /// The repository's newest tag at or before the window's end (of all its
    /// tags without a window).
    pub newest: Option<i64>,
}

impl Recency {
    pub fn new(tag_times: impl IntoIterator<Item = i64>, window: Option<(i64, i64)>) -> Recency {
        let newest = tag_times
            .into_iter()
            .filter(|&t| window.is_none_or(|(_, until)| t <= until))
            .max();
        Recency { window, newest }
    }

    fn is_recent(&self, t: i64) -> bool {
        self.window.is_some_and(|(s, u)| s <= t && t <= u)
            || self
                .newest
                .is_some_and(|n| n - RECENT_SECONDS <= t && t <= n)
    }

    /// The latest time a tag may have to be weighed (later tags are after the window).
    fn end(&self) -> Option<i64> {
        self.window.map(|(_, u)| u)
    }

    /// The rule in words, with its dates.
    fn describe(&self) -> String {
        let year = match self.newest {
            Some(n) => format!(
                "in the 365 days before the repository's newest tag ({})",
                day(n)
            ),
            None => "the repository has no tag to date it by".to_string(),
        };
        match self.window {
            Some((s, u)) => format!("in the window ({} to {}) or {year}", day(s), day(u)),
            None => year,
        }
    }
}

/// A date of Unix seconds, `YYYY-MM-DD` (UTC).
fn day(t: i64) -> String {
    DateTime::from_timestamp(t, 0)
        .map(|d| d.format("%Y-%m-%d").to_string())
        .unwrap_or_else(|| format!("@{t}"))
}

/// Why a tag prefix with a known folder was not proposed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SkipReason {
    /// Its folder is not in the tree read (the module was removed or moved);
    /// with its last tag.
    FolderGone { last_tag: (String, i64) },
    /// Its folder is there, but it has no recent tag: its last tag at or
    /// before the window's end.
    NoRecentTag { last_tag: (String, i64) },
    /// Its folder is there, but every tag of it is after the window's end:
    /// the first of them.
    AfterWindow { first_tag: (String, i64) },
}

/// A tag prefix left out, as the service it would have been.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub service: Proposal,
    pub reason: SkipReason,
}

/// What `services = "auto"` found, and what it could not use.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Proposed {
    pub services: Vec<Proposal>,
    /// Tag prefixes with a folder of their own, left out (sorted by name).
    pub skipped: Vec<Skipped>,
    /// Tag prefixes with no folder of that name: not proposed (their paths are unknown).
    pub prefixes_without_folder: Vec<String>,
    /// The tree the folders were read from, in words ("the tree of main").
    pub tree: String,
    pub recency: Recency,
}

/// The service name a tag is prefixed with: `payments` of `payments-v1.2.0`,
/// `payments/v1.2.0`, `payments@1.2.0` or `payments-1.2`; a folder path for
/// the tags of Go's nested modules (`sdk/metric` of `sdk/metric/v1.2.0`); a
/// scoped npm package (`@acme/payments` of `@acme/payments@1.2.0`, as
/// changesets and lerna tag the packages of a workspace).
pub fn tag_prefix(tag: &str) -> Option<&str> {
    static RE: std::sync::OnceLock<Regex> = std::sync::OnceLock::new();
    let re = RE.get_or_init(|| {
        Regex::new(
            r"^((?:@[a-z0-9][a-z0-9._-]*/)?[A-Za-z0-9][A-Za-z0-9._/-]*?)[-/@]v?\d+(?:\.\d+)*$",
        )
        .expect("valid regex")
    });
    re.captures(tag).and_then(|c| c.get(1)).map(|m| m.as_str())
}

fn tag_pattern(prefix: &str) -> String {
    format!(r"^{}[-/@]v?\d+(\.\d+)*$", regex::escape(prefix))
}

/// The scope and package name of a scoped npm prefix (`acme` and
/// `payments` of `@acme/payments`).
fn npm_package(prefix: &str) -> Option<(&str, &str)> {
    let (scope, package) = prefix.strip_prefix('@')?.split_once('/')?;
    (!scope.is_empty() && !package.is_empty() && !package.contains('/')).then_some((scope, package))
}

/// Folders holding examples, tests, documentation, tooling or image variants
/// (`docker/dev/Dockerfile`, `docker/prod/Dockerfile`), whose sub-folders'
/// Dockerfiles are not services; and the names of variants themselves.
const NOT_SERVICE_PARENTS: &[&str] = &[
    "docker",
    "dockerfiles",
    "images",
    "deploy",
    "deployment",
    "deployments",
    "dev",
    "prod",
    "production",
    "staging",
    "base",
    "example",
    "examples",
    "test",
    "tests",
    "testdata",
    "e2e",
    "doc",
    "docs",
    "vendor",
    "third_party",
    "hack",
    "scripts",
    "tools",
    "build",
    "ci",
];

/// Services by their container builds: a folder of the top level, or of a
/// top-level folder (`src/adservice`), with a `Dockerfile` or `Containerfile`
/// of its own (at most two folders down: `src/cartservice/src/Dockerfile`),
/// when two or more folders beside it have one too (one folder with a
/// Dockerfile is more often the repository's own image than a service). Dot
/// folders and folders of examples, tests, documentation or tools are left
/// out; a top-level folder whose sub-folders are services is not one itself.
/// `(name, folder)`, sorted by folder.
fn container_folders(paths: &[&str]) -> Vec<(String, String)> {
    // parent ("" for the top level) -> its sub-folders with a container build.
    let mut with_build: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for p in paths {
        let Some((dir, file)) = p.rsplit_once('/') else {
            continue;
        };
        if file != "Dockerfile" && file != "Containerfile" {
            continue;
        }
        let parts: Vec<&str> = dir.split('/').collect();
        if parts.iter().any(|d| d.starts_with('.')) {
            continue;
        }
        // (parent, child) at depth 1 and 2, the file at most two folders below the child.
        for depth in 1..=2usize {
            if parts.len() < depth || parts.len() - depth > 2 {
                continue;
            }
            let parent_len = parts[..depth - 1]
                .iter()
                .map(|d| d.len() + 1)
                .sum::<usize>();
            let child_len = parent_len + parts[depth - 1].len();
            let parent = dir[..parent_len].trim_end_matches('/');
            let child = parts[depth - 1];
            if [parent, child]
                .iter()
                .any(|d| NOT_SERVICE_PARENTS.contains(d) || SERVICE_ROOTS.contains(d))
            {
                continue;
            }
            with_build
                .entry(parent)
                .or_default()
                .insert(&dir[..child_len]);
        }
    }
    let parents: BTreeSet<&str> = with_build
        .iter()
        .filter(|(_, children)| children.len() >= 2)
        .map(|(p, _)| *p)
        .collect();
    let mut out = Vec::new();
    for parent in &parents {
        for child in &with_build[parent] {
            if parents.contains(child) {
                continue; // `src` of `src/a`, `src/b`: the services are below it.
            }
            let name = child.rsplit('/').next().unwrap_or(child);
            if is_service_name(name) {
                out.push((name.to_string(), child.to_string()));
            }
        }
    }
    out.sort_by(|a, b| a.1.cmp(&b.1));
    out
}

/// Proposes services from tags and the file paths of one tree (pure):
///
/// - a tag prefix (`payments-v1.2.0`, `payments/v1.2.0`) that names a folder
///   `services/payments`, `apps/payments`, `cmd/payments`, `packages/payments`
///   or a top-level `payments/` is a service with those files and the tag
///   pattern `^payments[-/@]v?\d+(\.\d+)*$`; a prefix that is a folder path
///   (`sdk/metric` of Go's nested modules) is a service of that folder;
/// - only while it is released: a prefix without a tag that counts as recent
///   by `recency`, or whose folder path is not in the tree, is skipped (and
///   listed with why);
/// - every other folder under `services/`, `apps/` or `cmd/` is a service
///   without tags (it ships with the repository's deployments); folders under
///   `packages/` without tags are taken for libraries and not proposed;
/// - so is a folder with a container build of its own beside others with
///   theirs (`src/adservice/Dockerfile`, `src/frontend/Dockerfile`: see
///   [`container_folders`]).
///
/// Sorted by name; a name found in two places takes the first of
/// [`SERVICE_ROOTS`] (then the top level). `tree` says, in words, which tree
/// `paths` lists.
pub fn propose<'a>(
    tags: impl IntoIterator<Item = (&'a str, i64)>,
    paths: impl IntoIterator<Item = &'a str>,
    tree: &str,
    recency: Recency,
) -> Proposed {
    // prefix -> its tags (name, time)
    let mut tags_of: BTreeMap<&str, Vec<(&str, i64)>> = BTreeMap::new();
    for (tag, time) in tags {
        if let Some(prefix) = tag_prefix(tag) {
            tags_of.entry(prefix).or_default().push((tag, time));
        }
    }
    let paths: Vec<&str> = paths.into_iter().collect();
    // Every folder holding a file (`a/`, `a/b/` of `a/b/c.go`).
    let all_folders: BTreeSet<&str> = paths
        .iter()
        .flat_map(|p| p.match_indices('/').map(move |(i, _)| &p[..=i]))
        .collect();
    // name -> folders holding it, in SERVICE_ROOTS order then top level.
    let mut folders: BTreeMap<String, Vec<(usize, String)>> = BTreeMap::new();
    let mut top: BTreeSet<String> = BTreeSet::new();
    for &p in &paths {
        let mut parts = p.split('/');
        let (Some(first), Some(second)) = (parts.next(), parts.next()) else {
            continue;
        };
        top.insert(first.to_string());
        if let Some(rank) = SERVICE_ROOTS.iter().position(|r| *r == first) {
            // `services/payments/x`: a folder (a file directly under `services/` is not).
            if parts.next().is_some() && is_service_name(second) {
                let entry = folders.entry(second.to_string()).or_default();
                let folder = format!("{first}/{second}");
                if !entry.iter().any(|(_, f)| *f == folder) {
                    entry.push((rank, folder));
                }
            }
        }
    }
    let mut out = Proposed {
        tree: tree.to_string(),
        recency,
        ..Proposed::default()
    };
    // Every prefix with a folder of its own, whether released or not: a
    // module inside another's folder is taken out of the outer one either way.
    let mut candidates: Vec<(Proposal, Option<SkipReason>)> = Vec::new();
    for (prefix, list) in &tags_of {
        let last_tag = |until: Option<i64>| {
            list.iter()
                .filter(|(_, t)| until.is_none_or(|u| *t <= u))
                .max_by(|a, b| a.1.cmp(&b.1).then_with(|| a.0.cmp(b.0)))
                .map(|(n, t)| (n.to_string(), *t))
        };
        let recent = list.iter().any(|(_, t)| recency.is_recent(*t));
        let not_recent = || match last_tag(recency.end()) {
            Some(last_tag) => SkipReason::NoRecentTag { last_tag },
            None => SkipReason::AfterWindow {
                first_tag: list
                    .iter()
                    .min_by(|a, b| a.1.cmp(&b.1).then_with(|| a.0.cmp(b.0)))
                    .map(|(n, t)| (n.to_string(), *t))
                    .unwrap_or_default(),
            },
        };
        // `@acme/payments`: the package `payments`, in a folder of that name.
        let package = npm_package(prefix);
        if prefix.contains('/') && package.is_none() {
            // A folder path (`sdk/metric` of `sdk/metric/v1.2.0`: Go's nested
            // modules): the service is that folder, named with `-` for `/`.
            let name = prefix.replace('/', "-");
            if !is_service_name(&name) {
                out.prefixes_without_folder.push(prefix.to_string());
                continue;
            }
            let service = Proposal {
                name,
                paths: vec![format!("{prefix}/**")],
                tag_pattern: Some(tag_pattern(prefix)),
            };
            let reason = if !all_folders.contains(format!("{prefix}/").as_str()) {
                let last_tag = last_tag(None).unwrap_or_default();
                out.skipped.push(Skipped {
                    service,
                    reason: SkipReason::FolderGone { last_tag },
                });
                continue;
            } else if recent {
                None
            } else {
                Some(not_recent())
            };
            candidates.push((service, reason));
            continue;
        }
        let name: &str = package.map_or(*prefix, |(_, p)| p);
        let folder_of = |n: &str| match folders.get(n) {
            Some(list) => list.iter().min().map(|(_, f)| f.clone()),
            None if top.contains(n) && !SERVICE_ROOTS.contains(&n) => Some(n.to_string()),
            None => None,
        };
        // A scoped package's folder may carry its scope (`@babel/core` in `packages/babel-core`).
        let folder = folder_of(name)
            .or_else(|| package.and_then(|(scope, p)| folder_of(&format!("{scope}-{p}"))));
        match folder {
            Some(f) if is_service_name(name) => candidates.push((
                Proposal {
                    name: name.to_string(),
                    paths: vec![format!("{f}/**")],
                    tag_pattern: Some(tag_pattern(prefix)),
                },
                (!recent).then(not_recent),
            )),
            _ => out.prefixes_without_folder.push(prefix.to_string()),
        }
    }
    for (name, list) in &folders {
        if tags_of.contains_key(name.as_str()) {
            continue;
        }
        let Some((_, f)) = list
            .iter()
            .filter(|(r, _)| SERVICE_ROOTS[*r] != "packages")
            .min()
        else {
            continue;
        };
        candidates.push((
            Proposal {
                name: name.clone(),
                paths: vec![format!("{f}/**")],
                tag_pattern: None,
            },
            None,
        ));
    }
    for (name, folder) in container_folders(&paths) {
        if tags_of.contains_key(name.as_str()) || folders.contains_key(&name) {
            continue;
        }
        candidates.push((
            Proposal {
                name,
                paths: vec![format!("{folder}/**")],
                tag_pattern: None,
            },
            None,
        ));
    }
    // One name per service: a nested module's name may repeat a folder's.
    let mut seen = BTreeSet::new();
    candidates.retain(|(p, _)| seen.insert(p.name.clone()));
    // A service inside another's folder (`sdk/metric` in `sdk`) is taken out
    // of the outer one, as Go leaves a nested module out of its parent.
    let folders_of: Vec<String> = candidates
        .iter()
        .map(|(p, _)| p.paths[0].trim_end_matches("**").to_string())
        .collect();
    for (i, (p, _)) in candidates.iter_mut().enumerate() {
        let outer = &folders_of[i];
        let mut inner: Vec<&String> = folders_of
            .iter()
            .filter(|f| *f != outer && f.starts_with(outer.as_str()))
            .collect();
        inner.sort();
        for f in inner {
            p.paths.push(format!("!{f}**"));
        }
    }
    for (service, reason) in candidates {
        match reason {
            None => out.services.push(service),
            Some(reason) => out.skipped.push(Skipped { service, reason }),
        }
    }
    out.services.sort_by(|a, b| a.name.cmp(&b.name));
    out.skipped
        .sort_by(|a, b| a.service.name.cmp(&b.service.name));
    out
}

impl Skipped {
    /// Why, in words, with the dates.
    pub fn why(&self, tree: &str) -> String {
        let tag = |(name, t): &(String, i64)| format!("{name} on {}", day(*t));
        match &self.reason {
            SkipReason::FolderGone { last_tag } => {
                format!(
                    "folder {} not in {tree}; last tag {}",
                    self.service.paths[0].trim_end_matches("**"),
                    tag(last_tag)
                )
            }
            SkipReason::NoRecentTag { last_tag } => {
                format!("last tag {}, none recent", tag(last_tag))
            }
            SkipReason::AfterWindow { first_tag } => {
                format!("first tag {}, after the window", tag(first_tag))
            }
        }
    }
}

impl Proposed {
    /// The proposal as `[[repos.services]]` tables a user can paste into the
    /// repository's `[[repos]]` entry (instead of `services = "auto"`), then
    /// the skipped prefixes as commented-out tables with why.
    pub fn to_toml(&self, repo: &str) -> String {
        let s = |v: &str| toml::Value::String(v.to_string()).to_string();
        let table = |p: &Proposal, comment: &str| {
            let mut t = format!(
                "{comment}[[repos.services]]\n{comment}name = {}\n",
                s(&p.name)
            );
            let paths: Vec<String> = p.paths.iter().map(|x| s(x)).collect();
            t.push_str(&format!("{comment}paths = [{}]\n", paths.join(", ")));
            if let Some(pattern) = &p.tag_pattern {
                t.push_str(&format!("{comment}tag_pattern = {}\n", s(pattern)));
            }
            t
        };
        let skipped = match self.skipped.len() {
            0 => String::new(),
            n => format!(", {n} skipped (listed after them)"),
        };
        let mut out = format!(
            "# services = \"auto\" for {repo}: {} proposed{skipped}. Paste these into its [[repos]] entry \
             (replacing services = \"auto\") to keep them:\n",
            self.services.len()
        );
        for p in &self.services {
            out.push_str(&table(p, ""));
        }
        if !self.skipped.is_empty() {
            out.push_str(&format!(
                "# A tag prefix is proposed while its folder is in {} and it has a tag {}. \
                 Skipped (uncomment a table to keep it):\n",
                self.tree,
                self.recency.describe()
            ));
            for k in &self.skipped {
                out.push_str(&format!(
                    "# skipped {}: {}\n",
                    k.service.name,
                    k.why(&self.tree)
                ));
                out.push_str(&table(&k.service, "# "));
            }
        }
        if !self.prefixes_without_folder.is_empty() {
            out.push_str(&format!(
                "# tags prefixed {} name no folder of the tree (under services/, apps/, cmd/, packages/, \
                 the top level, or the prefix's own path): declare those services by hand\n",
                self.prefixes_without_folder.join(", ")
            ));
        }
        out
    }

    /// The proposal as service definitions for this run.
    pub fn to_set(&self) -> Result<ServiceSet> {
        ServiceSet::new(
            self.services
                .iter()
                .take(MAX_SERVICES)
                .map(|p| {
                    Ok(ServiceDef {
                        name: p.name.clone(),
                        paths: p.paths.clone(),
                        tag_pattern: p.tag_pattern.clone(),
                        tags: p.tag_pattern.as_deref().map(Regex::new).transpose()?,
                    })
                })
                .collect::<Result<Vec<_>>>()?,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: i64 = 1_717_200_000; // 2024-06-01T00:00:00Z

    /// The proposal with every tag dated `T0`, the repository's newest: all recent.
    fn propose_recent(tags: &[&str], paths: &[&str]) -> Proposed {
        propose(
            tags.iter().map(|t| (*t, T0)),
            paths.iter().copied(),
            "the work tree",
            Recency {
                window: None,
                newest: Some(T0),
            },
        )
    }

    #[test]
    fn scoped_npm_tags_propose_their_package_folders() {
        let got = propose_recent(
            &[
                "@acme/payments@1.2.0",
                "@acme/payments@1.3.0",
                "@acme/web@2.0.0",
                "@acme/gone@1.0.0",
            ],
            &[
                "packages/payments/package.json",
                "packages/web/src/index.ts",
                "packages/utils/index.ts",
            ],
        );
        let want = |name: &str, scoped: &str| Proposal {
            name: name.to_string(),
            paths: vec![format!("packages/{name}/**")],
            tag_pattern: Some(format!(r"^@acme/{scoped}[-/@]v?\d+(\.\d+)*$")),
        };
        assert_eq!(
            got.services,
            vec![want("payments", "payments"), want("web", "web")]
        );
        assert_eq!(got.prefixes_without_folder, vec!["@acme/gone".to_string()]);
        // The pattern takes the package's own tags and no other package's.
        let re = Regex::new(got.services[0].tag_pattern.as_deref().unwrap()).unwrap();
        assert!(re.is_match("@acme/payments@1.2.0"));
        assert!(!re.is_match("@acme/payments-api@1.2.0"));
        assert!(!re.is_match("@other/payments@1.2.0"));
        assert_eq!(tag_prefix("@acme/payments@1.2.0"), Some("@acme/payments"));
        // A folder named with its scope, as Babel names them.
        let babel = propose_recent(
            &["@babel/core@7.24.0"],
            &["packages/babel-core/src/index.ts"],
        );
        assert_eq!(
            babel.services,
            vec![Proposal {
                name: "core".to_string(),
                paths: vec!["packages/babel-core/**".to_string()],
                tag_pattern: Some(r"^@babel/core[-/@]v?\d+(\.\d+)*$".to_string()),
            }]
        );
        assert_eq!(tag_prefix("@acme/payments@1.2.0-next.1"), None);
    }

    #[test]
    fn folders_with_container_builds_beside_others_are_services() {
        // As GoogleCloudPlatform/microservices-demo lays them out (cartservice's
        // Dockerfile one folder down), plus two top-level services.
        let got = propose_recent(
            &[],
            &[
                "src/adservice/Dockerfile",
                "src/adservice/build.gradle",
                "src/cartservice/src/Dockerfile",
                "src/frontend/Dockerfile",
                "src/frontend/main.go",
                "src/protos/demo.proto",
                "api/Dockerfile",
                "worker/Dockerfile",
                // Not services: a dot folder, examples, tests, a file at the top.
                ".devcontainer/Dockerfile",
                "examples/one/Dockerfile",
                "examples/two/Dockerfile",
                "tests/e2e/Dockerfile",
                "Dockerfile",
                // Too deep below its folder to be its build.
                "deep/a/b/c/Dockerfile",
                // Variants of one image, not services.
                "docker/dev/Dockerfile",
                "docker/prod/Dockerfile",
                "prod/Dockerfile",
            ],
        );
        // (name, first path) of each service proposed.
        fn named(p: &Proposed) -> Vec<(&str, &str)> {
            p.services
                .iter()
                .map(|p| (p.name.as_str(), p.paths[0].as_str()))
                .collect()
        }
        assert_eq!(
            named(&got),
            vec![
                ("adservice", "src/adservice/**"),
                ("api", "api/**"),
                ("cartservice", "src/cartservice/**"),
                ("frontend", "src/frontend/**"),
                ("worker", "worker/**"),
            ]
        );
        assert!(got.services.iter().all(|p| p.tag_pattern.is_none()));
        // One folder with a Dockerfile is the repository's image, not a service.
        let one = propose_recent(&[], &["app/Dockerfile", "app/main.go", "lib/x.go"]);
        assert_eq!(one.services, Vec::new());
        // A conventional folder's service is not proposed twice.
        let both = propose_recent(
            &[],
            &[
                "services/payments/main.go",
                "src/payments/Dockerfile",
                "src/web/Dockerfile",
            ],
        );
        assert_eq!(
            named(&both),
            vec![("payments", "services/payments/**"), ("web", "src/web/**")]
        );
    }

    #[test]
    fn tag_prefixes_are_read_from_the_usual_forms() {
        assert_eq!(tag_prefix("payments-v1.2.0"), Some("payments"));
        assert_eq!(tag_prefix("payments/v1.2.0"), Some("payments"));
        assert_eq!(tag_prefix("my-svc-v1.0"), Some("my-svc"));
        assert_eq!(tag_prefix("web@2.0.1"), Some("web"));
        assert_eq!(tag_prefix("api-3"), Some("api"));
        assert_eq!(tag_prefix("v1.2.0"), None);
        assert_eq!(tag_prefix("1.2.0"), None);
        assert_eq!(tag_prefix("payments-latest"), None);
    }

    #[test]
    fn nested_module_tags_propose_folders_taken_out_of_their_parent() {
        // The layout of Go's multi-module repositories (opentelemetry-go):
        // `sdk/v1.2.0` is the module in `sdk/`, `sdk/metric/v0.4.0` the one in
        // `sdk/metric/`, which the `sdk` module does not contain.
        let tags = [
            "v1.2.0",
            "sdk/v1.2.0",
            "sdk/metric/v0.4.0",
            "exporters/otlp/otlptrace/v1.2.0",
            "tools/v0.1.0",
        ];
        let paths = [
            "go.mod",
            "sdk/go.mod",
            "sdk/resource/resource.go",
            "sdk/metric/go.mod",
            "sdk/metric/meter.go",
            "exporters/otlp/otlptrace/go.mod",
        ];
        let p = propose_recent(&tags, &paths);
        let got: Vec<(&str, Vec<&str>, Option<&str>)> = p
            .services
            .iter()
            .map(|s| {
                (
                    s.name.as_str(),
                    s.paths.iter().map(String::as_str).collect(),
                    s.tag_pattern.as_deref(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                (
                    "exporters-otlp-otlptrace",
                    vec!["exporters/otlp/otlptrace/**"],
                    Some(r"^exporters/otlp/otlptrace[-/@]v?\d+(\.\d+)*$")
                ),
                (
                    "sdk",
                    vec!["sdk/**", "!sdk/metric/**"],
                    Some(r"^sdk[-/@]v?\d+(\.\d+)*$")
                ),
                (
                    "sdk-metric",
                    vec!["sdk/metric/**"],
                    Some(r"^sdk/metric[-/@]v?\d+(\.\d+)*$")
                ),
            ]
        );
        // `tools/` holds no file: not proposed, and said so.
        assert_eq!(p.prefixes_without_folder, ["tools"]);
        // The outer service's tag pattern does not take the nested module's tags.
        let sdk = Regex::new(got[1].2.unwrap()).unwrap();
        assert!(sdk.is_match("sdk/v1.2.0"));
        assert!(!sdk.is_match("sdk/metric/v0.4.0"));
    }

    #[test]
    fn proposal_joins_tag_prefixes_to_folders() {
        let tags = [
            "payments-v1.0.0",
            "payments-v1.1.0",
            "orders/v2.0.0",
            "v1.0.0",
            "ghost-v1.0.0",
            "lib-v1.0.0",
        ];
        let paths = [
            "services/payments/main.go",
            "services/orders/Dockerfile",
            "apps/web/index.ts",
            "cmd/cli/main.go",
            "packages/money/lib.ts",
            "packages/lib/x.ts",
            "services/README.md",
            "README.md",
            "docs/x.md",
        ];
        let p = propose_recent(&tags, &paths);
        let got: Vec<(&str, &str, bool)> = p
            .services
            .iter()
            .map(|s| {
                (
                    s.name.as_str(),
                    s.paths[0].as_str(),
                    s.tag_pattern.is_some(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                ("cli", "cmd/cli/**", false),
                ("lib", "packages/lib/**", true),
                ("orders", "services/orders/**", true),
                ("payments", "services/payments/**", true),
                ("web", "apps/web/**", false),
            ]
        );
        assert_eq!(p.prefixes_without_folder, ["ghost"]);
        let re = Regex::new(p.services[3].tag_pattern.as_deref().unwrap()).unwrap();
        assert!(re.is_match("payments-v1.1.0") && re.is_match("payments/v2.0"));
        assert!(!re.is_match("payments-web-v1.0") && !re.is_match("orders-v1.0.0"));
    }

    #[test]
    fn proposal_prints_as_pastable_toml() {
        let p = propose_recent(&["api-v1.0.0"], &["services/api/main.go"]);
        let text = p.to_toml("mono");
        let body: String = text.lines().skip(1).collect::<Vec<_>>().join("\n");
        assert_eq!(
            body,
            "[[repos.services]]\nname = \"api\"\npaths = [\"services/api/**\"]\ntag_pattern = '^api[-/@]v?\\d+(\\.\\d+)*$'"
        );
        let config = format!("[[repos]]\npath = \".\"\n{text}");
        let c = crate::config::Config::parse(&config, std::path::Path::new("opsmeter.toml"))
            .expect("the proposal parses as configuration");
        let Some(crate::config::Services::Listed(list)) = &c.repos[0].services else {
            panic!("listed services expected")
        };
        assert_eq!(list[0].name(), "api");
    }

    /// Unix seconds of a UTC date.
    fn at(date: &str) -> i64 {
        crate::time::parse_time(date).unwrap().timestamp()
    }

    #[test]
    fn tag_prefixes_not_released_recently_or_without_their_folder_are_skipped() {
        let tags = [
            ("api-v1.0.0", at("2024-06-01")),
            ("api-v0.9.0", at("2021-01-01")),
            // Its last tag 2 days inside the year before the newest tag (2024-06-01).
            ("edge-v1.0.0", at("2023-06-03")),
            ("old-v1.1.0", at("2022-01-10")),
            ("old-v1.0.0", at("2021-05-01")),
            ("late-v1.0.0", at("2024-09-01")),
            ("sdk/v1.0.0", at("2024-06-01")),
            ("sdk/legacy/v0.1.0", at("2023-01-01")),
            ("lib/gone/v1.0.0", at("2024-05-20")),
            ("lib/gone/v0.9.0", at("2024-05-01")),
            ("ghost-v1.0.0", at("2024-06-01")),
            ("v1.0.0", at("2024-06-01")),
        ];
        let paths = [
            "services/api/main.go",
            "services/edge/main.go",
            "services/old/main.go",
            "services/late/main.go",
            "sdk/go.mod",
            "sdk/legacy/go.mod",
            "go.mod",
        ];
        let window = Some((at("2024-05-15"), at("2024-07-01")));
        let recency = Recency::new(tags.iter().map(|(_, t)| *t), window);
        // The tag after the window's end is not the newest.
        assert_eq!(recency.newest, Some(at("2024-06-01")));
        let p = propose(tags, paths, "the tree of main", recency);
        let names = |v: Vec<&Proposal>| -> Vec<String> {
            v.into_iter()
                .map(|s| format!("{} {:?}", s.name, s.paths))
                .collect()
        };
        assert_eq!(
            names(p.services.iter().collect()),
            [
                r#"api ["services/api/**"]"#,
                r#"edge ["services/edge/**"]"#,
                r#"sdk ["sdk/**", "!sdk/legacy/**"]"#,
            ]
        );
        let skipped: Vec<(&str, &SkipReason)> = p
            .skipped
            .iter()
            .map(|k| (k.service.name.as_str(), &k.reason))
            .collect();
        assert_eq!(
            skipped,
            [
                (
                    "late",
                    &SkipReason::AfterWindow {
                        first_tag: ("late-v1.0.0".into(), at("2024-09-01"))
                    }
                ),
                (
                    "lib-gone",
                    &SkipReason::FolderGone {
                        last_tag: ("lib/gone/v1.0.0".into(), at("2024-05-20"))
                    }
                ),
                (
                    "old",
                    &SkipReason::NoRecentTag {
                        last_tag: ("old-v1.1.0".into(), at("2022-01-10"))
                    }
                ),
                (
                    "sdk-legacy",
                    &SkipReason::NoRecentTag {
                        last_tag: ("sdk/legacy/v0.1.0".into(), at("2023-01-01"))
                    }
                ),
            ]
        );
        // A plain prefix naming no folder: where it lived is unknown.
        assert_eq!(p.prefixes_without_folder, ["ghost"]);
        let text = p.to_toml("mono");
        let skipped_text: Vec<&str> = text
            .lines()
            .skip_while(|l| !l.starts_with("# A tag prefix"))
            .collect();
        assert_eq!(
            skipped_text,
            [
                "# A tag prefix is proposed while its folder is in the tree of main and it has a tag \
                 in the window (2024-05-15 to 2024-07-01) or in the 365 days before the repository's \
                 newest tag (2024-06-01). Skipped (uncomment a table to keep it):",
                "# skipped late: first tag late-v1.0.0 on 2024-09-01, after the window",
                "# [[repos.services]]",
                "# name = \"late\"",
                "# paths = [\"services/late/**\"]",
                r"# tag_pattern = '^late[-/@]v?\d+(\.\d+)*$'",
                "# skipped lib-gone: folder lib/gone/ not in the tree of main; last tag lib/gone/v1.0.0 on 2024-05-20",
                "# [[repos.services]]",
                "# name = \"lib-gone\"",
                "# paths = [\"lib/gone/**\"]",
                r"# tag_pattern = '^lib/gone[-/@]v?\d+(\.\d+)*$'",
                "# skipped old: last tag old-v1.1.0 on 2022-01-10, none recent",
                "# [[repos.services]]",
                "# name = \"old\"",
                "# paths = [\"services/old/**\"]",
                r"# tag_pattern = '^old[-/@]v?\d+(\.\d+)*$'",
                "# skipped sdk-legacy: last tag sdk/legacy/v0.1.0 on 2023-01-01, none recent",
                "# [[repos.services]]",
                "# name = \"sdk-legacy\"",
                "# paths = [\"sdk/legacy/**\"]",
                r"# tag_pattern = '^sdk/legacy[-/@]v?\d+(\.\d+)*$'",
                "# tags prefixed ghost name no folder of the tree (under services/, apps/, cmd/, \
                 packages/, the top level, or the prefix's own path): declare those services by hand",
            ]
        );
        assert!(text.starts_with(
            "# services = \"auto\" for mono: 3 proposed, 4 skipped (listed after them)."
        ));
        // Uncommented, the whole text is configuration with every service.
        let uncommented: String = text
            .lines()
            .map(|l| {
                l.strip_prefix("# ")
                    .filter(|l| {
                        ["[[", "name =", "paths =", "tag_pattern ="]
                            .iter()
                            .any(|k| l.starts_with(k))
                    })
                    .unwrap_or(l)
            })
            .collect::<Vec<_>>()
            .join("\n");
        let config = format!("[[repos]]\npath = \".\"\n{uncommented}\n");
        let c = crate::config::Config::parse(&config, std::path::Path::new("opsmeter.toml"))
            .expect("the uncommented proposal parses as configuration");
        let Some(crate::config::Services::Listed(list)) = &c.repos[0].services else {
            panic!("listed services expected")
        };
        let all: Vec<&str> = list.iter().map(|s| s.name()).collect();
        assert_eq!(
            all,
            [
                "api",
                "edge",
                "sdk",
                "late",
                "lib-gone",
                "old",
                "sdk-legacy"
            ]
        );
    }

    #[test]
    fn without_a_window_a_prefix_is_recent_within_a_year_of_the_newest_tag() {
        let tags = [
            ("a-v1.0.0", at("2020-01-01")),
            ("b-v1.0.0", at("2019-01-01")),
        ];
        let recency = Recency::new(tags.iter().map(|(_, t)| *t), None);
        let p = propose(tags, ["a/x.go", "b/x.go"], "the work tree", recency);
        let names: Vec<&str> = p.services.iter().map(|s| s.name.as_str()).collect();
        // 2019-01-01 is 365 days before 2020-01-01 (2019 is no leap year): still recent.
        assert_eq!(names, ["a", "b"]);
        let tags = [
            ("a-v1.0.0", at("2020-01-01")),
            ("b-v1.0.0", at("2018-12-31")),
        ];
        let p = propose(tags, ["a/x.go", "b/x.go"], "the work tree", recency);
        let names: Vec<&str> = p.services.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["a"]);
        assert_eq!(
            p.skipped[0].why("the work tree"),
            "last tag b-v1.0.0 on 2018-12-31, none recent"
        );
    }
}
