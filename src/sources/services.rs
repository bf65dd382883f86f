//! The services inside a repository, compiled for the history pass (one glob
//! set over every service's paths), and the proposal of `services = "auto"`:
//! services guessed from tag prefixes and conventional top-level folders.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::{Context, Result};
use globset::{GlobSet, GlobSetBuilder};
use regex::Regex;

use crate::config::services::{service_glob, ServiceConfig, MAX_SERVICES};

/// One service, as the collector uses it.
#[derive(Debug, Clone)]
pub struct ServiceDef {
    pub name: String,
    pub paths: Vec<String>,
    pub tag_pattern: Option<String>,
    pub tags: Option<Regex>,
}

/// Every service of a repository, with one glob set over all their paths.
#[derive(Debug, Clone)]
pub struct ServiceSet {
    pub defs: Vec<ServiceDef>,
    globs: GlobSet,
    /// `owner[g]`: the service of glob number `g`.
    owner: Vec<u16>,
    /// The `!` globs, which take files back out of their service.
    excluded: GlobSet,
    excluded_owner: Vec<u16>,
    /// The literal folder prefix of each glob (`services/payments/` of
    /// `services/payments/**`), or `None` when a glob can match anywhere: a
    /// folder outside every prefix cannot hold a service's file.
    prefixes: Option<Vec<String>>,
}

impl ServiceSet {
    /// Compiles services from the configuration (already validated; errors
    /// here still name the service).
    pub fn compile(list: &[ServiceConfig]) -> Result<ServiceSet> {
        let defs = list
            .iter()
            .map(|s| {
                Ok(ServiceDef {
                    name: s.name().to_string(),
                    paths: s.paths.clone(),
                    tag_pattern: s.tag_pattern.clone(),
                    tags: match &s.tag_pattern {
                        Some(p) => Some(
                            Regex::new(p)
                                .with_context(|| format!("service {}: tag_pattern", s.name()))?,
                        ),
                        None => None,
                    },
                })
            })
            .collect::<Result<Vec<_>>>()?;
        ServiceSet::new(defs)
    }

    pub fn new(defs: Vec<ServiceDef>) -> Result<ServiceSet> {
        anyhow::ensure!(
            defs.len() <= MAX_SERVICES,
            "{} services; at most {MAX_SERVICES} per repository",
            defs.len()
        );
        let mut builder = GlobSetBuilder::new();
        let mut owner = Vec::new();
        let mut excluded = GlobSetBuilder::new();
        let mut excluded_owner = Vec::new();
        let mut prefixes = Some(Vec::new());
        for (k, d) in defs.iter().enumerate() {
            for g in &d.paths {
                if let Some(out) = g.strip_prefix('!') {
                    excluded.add(
                        service_glob(out)
                            .with_context(|| format!("service {}: path glob {g:?}", d.name))?,
                    );
                    excluded_owner.push(k as u16);
                    continue;
                }
                builder.add(
                    service_glob(g)
                        .with_context(|| format!("service {}: path glob {g:?}", d.name))?,
                );
                owner.push(k as u16);
                let literal = literal_folder(g.trim_start_matches('/'));
                match (&mut prefixes, literal) {
                    (Some(list), Some(p)) => list.push(p),
                    _ => prefixes = None,
                }
            }
        }
        Ok(ServiceSet {
            defs,
            globs: builder
                .build()
                .context("compiling the services' path globs")?,
            owner,
            excluded: excluded
                .build()
                .context("compiling the services' path globs")?,
            excluded_owner,
            prefixes,
        })
    }

    /// The services of a `[[repos]]` entry: compiled when listed, and whether
    /// they are to be proposed (`services = "auto"`).
    pub fn for_entry(
        services: Option<&crate::config::Services>,
    ) -> Result<(Option<std::sync::Arc<ServiceSet>>, bool)> {
        Ok(match services {
            None => (None, false),
            Some(crate::config::Services::Auto) => (None, true),
            Some(crate::config::Services::Listed(list)) => {
                (Some(std::sync::Arc::new(ServiceSet::compile(list)?)), false)
            }
        })
    }

    pub fn len(&self) -> usize {
        self.defs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.defs.is_empty()
    }

    /// The services (bits) whose paths match the file `path`: one of their
    /// globs and none of their `!` globs.
    pub fn services_of(&self, path: &str, scratch: &mut Vec<usize>) -> u64 {
        self.globs.matches_into(path, scratch);
        let mut bits = scratch.iter().fold(0u64, |m, &g| m | 1u64 << self.owner[g]);
        if bits != 0 && !self.excluded_owner.is_empty() {
            self.excluded.matches_into(path, scratch);
            for &g in scratch.iter() {
                bits &= !(1u64 << self.excluded_owner[g]);
            }
        }
        bits
    }

    /// Whether the folder `dir` (ending in `/`) may hold a file of some service.
    pub fn may_contain(&self, dir: &str) -> bool {
        match &self.prefixes {
            None => true,
            Some(list) => list
                .iter()
                .any(|p| p.starts_with(dir) || dir.starts_with(p.as_str())),
        }
    }

    /// Whether `path` belongs to service `k`.
    pub fn contains(&self, k: usize, path: &str, scratch: &mut Vec<usize>) -> bool {
        self.services_of(path, scratch) & (1u64 << k) != 0
    }
}

/// The folders before a glob's first wildcard (`a/b/` of `a/b/**/*.rs`), or
/// `None` when the glob starts with a wildcard. A glob without wildcard names
/// one file or folder: its parent folder (`a/` of `a/Makefile`) plus itself.
fn literal_folder(glob: &str) -> Option<String> {
    let cut = glob.find(['*', '?', '[', '{', '\\']).unwrap_or(glob.len());
    let literal = &glob[..cut];
    let folder = match literal.rfind('/') {
        Some(i) => &literal[..=i],
        None if cut == glob.len() => "",
        None => return None,
    };
    // A plain name (no wildcard) may be a folder the user meant whole; its
    // parent prefix covers it either way.
    if folder.is_empty() {
        return None;
    }
    Some(folder.to_string())
}

/// Folders whose sub-folders are services by convention.
pub const SERVICE_ROOTS: &[&str] = &["services", "apps", "cmd", "packages"];

/// A service proposed by `services = "auto"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proposal {
    pub name: String,
    pub paths: Vec<String>,
    pub tag_pattern: Option<String>,
}

/// What `services = "auto"` found, and what it could not use.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Proposed {
    pub services: Vec<Proposal>,
    /// Tag prefixes with no folder of that name: not proposed (their paths are unknown).
    pub prefixes_without_folder: Vec<String>,
}

/// The service name a tag is prefixed with: `payments` of `payments-v1.2.0`,
/// `payments/v1.2.0`, `payments@1.2.0` or `payments-1.2`; a folder path for
/// the tags of Go's nested modules (`sdk/metric` of `sdk/metric/v1.2.0`).
pub fn tag_prefix(tag: &str) -> Option<&str> {
    static RE: std::sync::OnceLock<Regex> = std::sync::OnceLock::new();
    let re = RE.get_or_init(|| {
        Regex::new(r"^([A-Za-z0-9][A-Za-z0-9._/-]*?)[-/@]v?\d+(?:\.\d+)*$").expect("valid regex")
    });
    re.captures(tag).and_then(|c| c.get(1)).map(|m| m.as_str())
}

/// Proposes services from tag names and the repository's file paths (pure):
///
/// - a tag prefix (`payments-v1.2.0`, `payments/v1.2.0`) that names a folder
///   `services/payments`, `apps/payments`, `cmd/payments`, `packages/payments`
///   or a top-level `payments/` is a service with those files and the tag
///   pattern `^payments[-/@]v?\d+(\.\d+)*$`;
/// - every other folder under `services/`, `apps/` or `cmd/` is a service
///   without tags (it ships with the repository's deployments); folders under
///   `packages/` without tags are taken for libraries and not proposed.
///
/// Sorted by name; a name found in two places takes the first of
/// [`SERVICE_ROOTS`] (then the top level).
pub fn propose<'a>(
    tags: impl IntoIterator<Item = &'a str>,
    paths: impl IntoIterator<Item = &'a str>,
) -> Proposed {
    let prefixes: BTreeSet<&str> = tags.into_iter().filter_map(tag_prefix).collect();
    let paths: Vec<&str> = paths.into_iter().collect();
    // Every folder holding a file (`a/`, `a/b/` of `a/b/c.go`).
    let all_folders: BTreeSet<&str> = paths
        .iter()
        .flat_map(|p| p.match_indices('/').map(move |(i, _)| &p[..=i]))
        .collect();
    let has_folder = |folder: &str| all_folders.contains(folder);
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
            if parts.next().is_some() && crate::config::services::is_service_name(second) {
                let entry = folders.entry(second.to_string()).or_default();
                let folder = format!("{first}/{second}");
                if !entry.iter().any(|(_, f)| *f == folder) {
                    entry.push((rank, folder));
                }
            }
        }
    }
    let mut out = Proposed::default();
    for prefix in &prefixes {
        if prefix.contains('/') {
            // A folder path (`sdk/metric` of `sdk/metric/v1.2.0`: Go's nested
            // modules): the service is that folder, named with `-` for `/`.
            let name = prefix.replace('/', "-");
            let folder = format!("{prefix}/");
            if has_folder(&folder) && crate::config::services::is_service_name(&name) {
                out.services.push(Proposal {
                    name,
                    paths: vec![format!("{prefix}/**")],
                    tag_pattern: Some(format!(r"^{}[-/@]v?\d+(\.\d+)*$", regex::escape(prefix))),
                });
            } else {
                out.prefixes_without_folder.push(prefix.to_string());
            }
            continue;
        }
        let folder = match folders.get(*prefix) {
            Some(list) => list.iter().min().map(|(_, f)| f.clone()),
            None if top.contains(*prefix) && !SERVICE_ROOTS.contains(prefix) => {
                Some(prefix.to_string())
            }
            None => None,
        };
        match folder {
            Some(f) if crate::config::services::is_service_name(prefix) => {
                out.services.push(Proposal {
                    name: prefix.to_string(),
                    paths: vec![format!("{f}/**")],
                    tag_pattern: Some(format!(r"^{}[-/@]v?\d+(\.\d+)*$", regex::escape(prefix))),
                })
            }
            _ => out.prefixes_without_folder.push(prefix.to_string()),
        }
    }
    for (name, list) in &folders {
        if prefixes.contains(name.as_str()) {
            continue;
        }
        let Some((rank, f)) = list
            .iter()
            .filter(|(r, _)| SERVICE_ROOTS[*r] != "packages")
            .min()
        else {
            continue;
        };
        let _ = rank;
        out.services.push(Proposal {
            name: name.clone(),
            paths: vec![format!("{f}/**")],
            tag_pattern: None,
        });
    }
    // One name per service: a nested module's name may repeat a folder's.
    let mut seen = BTreeSet::new();
    out.services.retain(|p| seen.insert(p.name.clone()));
    // A service inside another's folder (`sdk/metric` in `sdk`) is taken out
    // of the outer one, as Go leaves a nested module out of its parent.
    let folders_of: Vec<String> = out
        .services
        .iter()
        .map(|p| p.paths[0].trim_end_matches("**").to_string())
        .collect();
    for (i, p) in out.services.iter_mut().enumerate() {
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
    out.services.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

impl Proposed {
    /// The proposal as `[[repos.services]]` tables a user can paste into the
    /// repository's `[[repos]]` entry (instead of `services = "auto"`).
    pub fn to_toml(&self, repo: &str) -> String {
        let s = |v: &str| toml::Value::String(v.to_string()).to_string();
        let mut out = format!(
            "# services = \"auto\" for {repo}: {} proposed. Paste these into its [[repos]] entry \
             (replacing services = \"auto\") to keep them:\n",
            self.services.len()
        );
        for p in &self.services {
            out.push_str("[[repos.services]]\n");
            out.push_str(&format!("name = {}\n", s(&p.name)));
            let paths: Vec<String> = p.paths.iter().map(|x| s(x)).collect();
            out.push_str(&format!("paths = [{}]\n", paths.join(", ")));
            if let Some(t) = &p.tag_pattern {
                out.push_str(&format!("tag_pattern = {}\n", s(t)));
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
        let p = propose(tags, paths);
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
    fn excluded_paths_take_files_out_of_their_service_only() {
        let def = |name: &str, paths: &[&str]| ServiceDef {
            name: name.into(),
            paths: paths.iter().map(|p| p.to_string()).collect(),
            tag_pattern: None,
            tags: None,
        };
        let set = ServiceSet::new(vec![
            def("sdk", &["sdk/**", "!sdk/metric/**"]),
            def("sdk-metric", &["sdk/metric/**"]),
            def("all-go", &["**/*.go"]),
        ])
        .unwrap();
        let mut scratch = Vec::new();
        // bit 0 = sdk, 1 = sdk-metric, 2 = all-go
        assert_eq!(set.services_of("sdk/trace/span.go", &mut scratch), 0b101);
        assert_eq!(set.services_of("sdk/metric/meter.go", &mut scratch), 0b110);
        assert_eq!(set.services_of("sdk/metric/go.mod", &mut scratch), 0b010);
        assert_eq!(set.services_of("README.md", &mut scratch), 0);
        // The same reading for the probes' view and CODEOWNERS.
        let paths = crate::config::services::PathSet::new(&[
            "sdk/**".to_string(),
            "!sdk/metric/**".to_string(),
        ])
        .unwrap();
        assert!(paths.is_match("sdk/trace/span.go"));
        assert!(!paths.is_match("sdk/metric/meter.go"));
        assert!(crate::config::services::PathSet::new(&["!sdk/**".to_string()]).is_err());
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
        let p = propose(tags, paths);
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
        let p = propose(["api-v1.0.0"], ["services/api/main.go"]);
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

    #[test]
    fn globs_prune_folders_outside_every_prefix() {
        let set = ServiceSet::new(vec![ServiceDef {
            name: "a".into(),
            paths: vec!["services/a/**".into(), "libs/money/*.rs".into()],
            tag_pattern: None,
            tags: None,
        }])
        .unwrap();
        assert!(set.may_contain("services/"));
        assert!(set.may_contain("services/a/deep/"));
        assert!(set.may_contain("libs/"));
        assert!(!set.may_contain("docs/"));
        assert!(!set.may_contain("services/b/"));
        let mut scratch = Vec::new();
        assert_eq!(set.services_of("services/a/x/y.go", &mut scratch), 1);
        assert_eq!(set.services_of("libs/money/a.rs", &mut scratch), 1);
        assert_eq!(set.services_of("libs/money/sub/a.rs", &mut scratch), 0);
        assert_eq!(set.services_of("services/ab/x", &mut scratch), 0);
        let anywhere = ServiceSet::new(vec![ServiceDef {
            name: "d".into(),
            paths: vec!["**/Dockerfile".into()],
            tag_pattern: None,
            tags: None,
        }])
        .unwrap();
        assert!(anywhere.may_contain("docs/"));
    }
}
