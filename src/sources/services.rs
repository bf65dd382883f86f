//! The services inside a repository, compiled for the history pass (one glob
//! set over every service's paths); `proposal.rs` the proposal of
//! `services = "auto"`: services guessed from tag prefixes and conventional
//! top-level folders.

mod proposal;

pub use proposal::{
    propose, tag_prefix, Proposal, Proposed, Recency, SkipReason, Skipped, SERVICE_ROOTS,
};

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

#[cfg(test)]
mod tests {
    use super::*;

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
