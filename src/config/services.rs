//! `[[repos.services]]` and `services = "auto"`: the services inside one
//! repository (a monorepo), each with its paths and, optionally, its own tags.
//! Everything a value can get wrong is checked as the file is read, so the
//! error names the line of the value (globs, regexes, an empty `paths`); what
//! needs several entries (a duplicate name) is checked in
//! [`validate`] with the line of the second name.

use std::fmt;
use std::path::Path;

use anyhow::{bail, Result};
use serde::{Deserialize, Serialize};

/// At most this many services per repository: the history pass keeps which
/// services a commit touches in one 64-bit set.
pub const MAX_SERVICES: usize = 64;

/// A repository's services: listed in the configuration, or proposed from its
/// tags and folders at each run (`services = "auto"`).
#[derive(Debug, Clone, PartialEq)]
pub enum Services {
    Auto,
    Listed(Vec<ServiceConfig>),
}

/// `[[repos.services]]`: one service of a repository.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceConfig {
    /// The service's name (letters, digits, `-`, `_`, `.`): its report is
    /// `/repos/<repo>/services/<name>/`. Kept with its place in the file so a
    /// duplicate can be named by its line.
    pub name: toml::Spanned<String>,
    /// Globs of the files that belong to the service (`services/payments/**`,
    /// `libs/money/**`); a commit touching any of them is one of its changes.
    #[serde(deserialize_with = "path_globs")]
    pub paths: Vec<String>,
    /// Tags whose short name matches this regex are the service's deployments.
    /// Without it, the service ships with the repository's deployments that
    /// ship one of its changes.
    #[serde(default, deserialize_with = "super::optional_regex_pattern")]
    pub tag_pattern: Option<String>,
}

impl ServiceConfig {
    pub fn name(&self) -> &str {
        self.name.get_ref()
    }
}

impl Serialize for Services {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Services::Auto => s.serialize_str("auto"),
            Services::Listed(list) => list.serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for Services {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Services, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = Services;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(r#""auto" or [[repos.services]] tables"#)
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Services, E> {
                if v == "auto" {
                    Ok(Services::Auto)
                } else {
                    Err(E::custom(format!(
                        r#"services must be "auto" or [[repos.services]] tables, got {v:?}"#
                    )))
                }
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, seq: A) -> Result<Services, A::Error> {
                // Each table is read by toml itself, so its errors keep their lines.
                Vec::<ServiceConfig>::deserialize(serde::de::value::SeqAccessDeserializer::new(seq))
                    .map(Services::Listed)
            }
        }
        d.deserialize_any(Visit)
    }
}

/// `paths`: at least one glob, each valid (globset syntax, `**` across folders);
/// a glob starting with `!` takes files back out (`"!sdk/metric/**"`), and at
/// least one must not.
fn path_globs<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    let globs = Vec::<String>::deserialize(d)?;
    PathSet::new(&globs).map_err(serde::de::Error::custom)?;
    Ok(globs)
}

/// A service's path glob as matched against repository paths (`/` separators,
/// `*` within one folder, `**` across folders).
pub fn service_glob(glob: &str) -> Result<globset::Glob, globset::Error> {
    globset::GlobBuilder::new(glob.trim_start_matches('/'))
        .literal_separator(true)
        .build()
}

/// A service's `paths` compiled: a file is the service's when it matches one
/// of the globs and none of the `!` globs (as in `.gitignore` and CODEOWNERS,
/// where `!` also takes files back out; here order does not matter). The one
/// reading of `paths` the history pass, the probes' view and CODEOWNERS share.
#[derive(Debug, Clone)]
pub struct PathSet {
    include: globset::GlobSet,
    exclude: globset::GlobSet,
}

impl PathSet {
    pub fn new(globs: &[String]) -> Result<PathSet, String> {
        let mut include = globset::GlobSetBuilder::new();
        let mut exclude = globset::GlobSetBuilder::new();
        let mut included = 0;
        for g in globs {
            let (set, glob) = match g.strip_prefix('!') {
                Some(rest) => (&mut exclude, rest),
                None => {
                    included += 1;
                    (&mut include, g.as_str())
                }
            };
            if glob.trim().is_empty() {
                return Err("paths: a glob must not be empty".to_string());
            }
            set.add(
                service_glob(glob).map_err(|e| format!("paths: {g:?} is not a valid glob: {e}"))?,
            );
        }
        if included == 0 {
            return Err(
                "paths must list at least one glob that is not an exclusion, like \"services/payments/**\""
                    .to_string(),
            );
        }
        Ok(PathSet {
            include: include.build().map_err(|e| format!("paths: {e}"))?,
            exclude: exclude.build().map_err(|e| format!("paths: {e}"))?,
        })
    }

    pub fn is_match(&self, path: &str) -> bool {
        self.include.is_match(path) && !self.exclude.is_match(path)
    }
}

/// Checks what one table cannot: names are well-formed and unique within the
/// repository, services are not declared on an organisation entry, and there
/// are at most [`MAX_SERVICES`].
pub fn validate(services: &Services, i: usize, org: bool, file: &Path, text: &str) -> Result<()> {
    let f = file.display();
    if org {
        bail!("{f}: repos[{i}].services applies to one repository, not to `github_org` or `gitlab_group`");
    }
    let Services::Listed(list) = services else {
        return Ok(());
    };
    let line = |s: &ServiceConfig| crate::diagnostics::line_of_offset(text, s.name.span().start);
    if list.len() > MAX_SERVICES {
        bail!(
            "{f}:{}: repos[{i}] declares {} services; at most {MAX_SERVICES} are measured per repository",
            line(&list[MAX_SERVICES]),
            list.len()
        );
    }
    for (k, s) in list.iter().enumerate() {
        if !is_service_name(s.name()) {
            bail!(
                "{f}:{}: repos[{i}].services[{k}].name {:?} must be letters, digits, `-`, `_` or `.` (it names the service's pages)",
                line(s),
                s.name()
            );
        }
        if let Some(first) = list[..k].iter().find(|o| o.name() == s.name()) {
            bail!(
                "{f}:{}: repos[{i}]: service {:?} is declared twice (first at line {})",
                line(s),
                s.name(),
                line(first)
            );
        }
    }
    Ok(())
}

/// A service name: a path segment (letters, digits, `-`, `_`, `.`, not `.` or `..`).
pub fn is_service_name(s: &str) -> bool {
    !s.is_empty()
        && s != "."
        && s != ".."
        && s.len() <= 100
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

#[cfg(test)]
mod tests {
    use crate::config::Config;
    use std::path::Path;

    fn err(text: &str) -> String {
        Config::parse(text, Path::new("opsmeter.toml"))
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn services_are_read_with_their_globs_and_patterns() {
        let c = Config::parse(
            "[[repos]]\npath = \".\"\n[[repos.services]]\nname = \"payments\"\npaths = [\"services/payments/**\", \"libs/money/**\"]\ntag_pattern = '^payments-v'\n\
             [[repos.services]]\nname = \"web\"\npaths = [\"apps/web/**\"]\n[[repos]]\npath = \"b\"\nservices = \"auto\"\n",
            Path::new("opsmeter.toml"),
        )
        .unwrap();
        let Some(super::Services::Listed(list)) = &c.repos[0].services else {
            panic!("listed services expected")
        };
        assert_eq!(list.len(), 2);
        assert_eq!(list[0].name(), "payments");
        assert_eq!(list[0].paths, ["services/payments/**", "libs/money/**"]);
        assert_eq!(list[0].tag_pattern.as_deref(), Some("^payments-v"));
        assert_eq!(list[1].tag_pattern, None);
        assert_eq!(c.repos[1].services, Some(super::Services::Auto));
        assert_eq!(c.repos[1].services.as_ref(), Some(&super::Services::Auto));
    }

    #[test]
    fn service_mistakes_name_the_file_and_line() {
        let base = "[[repos]]\npath = \".\"\n[[repos.services]]\nname = \"a\"\n";
        let e = err(&format!("{base}paths = []\n"));
        assert!(
            e.starts_with(
                "opsmeter.toml:5: invalid configuration: paths must list at least one glob"
            ),
            "{e}"
        );
        let e = err(&format!("{base}paths = [\"a/[x\"]\n"));
        assert!(
            e.starts_with(
                "opsmeter.toml:5: invalid configuration: paths: \"a/[x\" is not a valid glob"
            ),
            "{e}"
        );
        let e = err(&format!("{base}paths = [\"a/**\"]\ntag_pattern = \"(\"\n"));
        assert!(
            e.starts_with(
                "opsmeter.toml:6: invalid configuration: \"(\" is not a valid regular expression"
            ),
            "{e}"
        );
        let e = err(&format!(
            "{base}paths = [\"a/**\"]\n[[repos.services]]\nname = \"a\"\npaths = [\"b/**\"]\n"
        ));
        assert_eq!(
            e,
            "opsmeter.toml:7: repos[0]: service \"a\" is declared twice (first at line 4)"
        );
        let e = err(
            "[[repos]]\npath = \".\"\n[[repos.services]]\nname = \"a b\"\npaths = [\"a/**\"]\n",
        );
        assert!(
            e.starts_with("opsmeter.toml:4: repos[0].services[0].name \"a b\" must be"),
            "{e}"
        );
        let e = err("[[repos]]\npath = \".\"\nservices = \"yes\"\n");
        assert!(
            e.starts_with("opsmeter.toml:3: invalid configuration: services must be \"auto\""),
            "{e}"
        );
        let e = err(&format!("{base}paths = [\"a/**\"]\ntypo = 1\n"));
        assert!(
            e.starts_with("opsmeter.toml:6: invalid configuration: unknown field `typo`"),
            "{e}"
        );
        let e = err("[[repos]]\ngithub_org = \"acme\"\nservices = \"auto\"\n");
        assert!(
            e.contains("repos[0].services applies to one repository"),
            "{e}"
        );
    }
}
