//! Who owns which files: a repository's `CODEOWNERS` file, read the way
//! GitHub and GitLab read it, so that a service declared by its paths can be
//! given to the team that owns them (issue #16, `teams_from_codeowners`).
//!
//! # Using it
//!
//! With `teams_from_codeowners = true` on a `[[repos]]` entry, the caller
//! finds the file among the repository's files and asks for each service's
//! owners. Through a `probes::files::RepoFiles` (a work tree, the tree of a
//! commit in a bare repository, or a host's listing alike):
//!
//! ```text
//! let owners = CodeOwners::find(&files.paths, |p| files.read(p))?;   // Ok(None): no file
//! let service = owners.owners_of_paths(&service.paths, &files.paths)?;
//! ```
//!
//! The reader is a closure rather than `RepoFiles` itself because `probes`
//! already imports `sources` and the module graph stays acyclic.
//!
//! # Where the file is
//!
//! The first of [`LOCATIONS`] that exists is the file; the others are ignored,
//! as both hosts do. GitHub's order is `.github/`, the root, `docs/`; GitLab's
//! is the root, `docs/`, `.gitlab/`; the combined order agrees with both (a
//! repository normally has one).
//!
//! # What a line says
//!
//! - Blank lines and lines starting with `#` are ignored; ` #` after the owners
//!   starts a comment.
//! - A rule is a pattern, then owners: `@user`, `@org/team` (GitLab: nested
//!   groups `@group/sub/team`, roles `@@maintainer`), or an email address.
//!   A rule with a pattern and no owners un-owns what it matches (inside a
//!   GitLab section with default owners, it takes the defaults instead).
//! - A line with an owner that is none of these is skipped with a warning, as
//!   GitHub skips a line with invalid syntax.
//! - Patterns are gitignore-like: a leading `/` anchors at the root, and so
//!   does a `/` inside the pattern; a pattern without one matches at any depth;
//!   a trailing `/` matches what is inside a folder; `*` and `?` do not cross
//!   `/`, `**` does; a pattern that names a folder owns everything below it,
//!   except that a last segment of exactly `*` (`docs/*`) matches only the
//!   files directly inside. Backslash escapes the next character: `\#` for a
//!   name starting with `#` (GitLab; GitHub reads such a line as a comment),
//!   `\ ` for a space, `\*`. Paths are case-sensitive.
//! - Not supported, as on GitHub: `!` negation (GitLab 17.10+ exclusions are
//!   not read either) and `[...]` character ranges. Such lines, `***`, and
//!   empty path segments are skipped with a warning naming the line.
//!
//! # Which rule wins
//!
//! The last matching rule wins. GitLab sections (`[Section]`, `^[Optional]`,
//! `[Section][2]`, with default owners after the header; headers with the same
//! name, compared without case, are one section) each pick their own last
//! matching rule, and the owners of every section that matched apply together:
//! GitLab requires an approval from each section, so each is an owner.
//! Rules before the first header form a section of their own.
//!
//! # Bounds
//!
//! A file over 3 MB (GitHub's limit) or containing a NUL byte is rejected as a
//! whole with an error; a line over 8 KiB is skipped with a warning; more than
//! 50,000 rules is an error (later rules override earlier ones, so dropping
//! the tail would give wrong owners rather than fewer).

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

use regex::{Regex, RegexSet, RegexSetBuilder};
use serde::{Serialize, Serializer};

use crate::diagnostics::Diagnostic;
use crate::message::Message;

mod pattern;

use pattern::{pattern_regex, split_tokens};

/// Where a `CODEOWNERS` file may be, in the order it is looked for.
pub const LOCATIONS: [&str; 4] = [
    ".github/CODEOWNERS",
    "CODEOWNERS",
    "docs/CODEOWNERS",
    ".gitlab/CODEOWNERS",
];

/// GitHub does not load a CODEOWNERS file of 3 MB or more.
const MAX_BYTES: usize = 3 * 1024 * 1024;
/// Longer lines are skipped with a warning.
const MAX_LINE: usize = 8 * 1024;
/// More rules than this is an error (see the module's "Bounds").
const MAX_RULES: usize = 50_000;
/// Sections with more rules than this match one rule at a time instead of
/// through one [`RegexSet`] (whose compiled size grows with the rules).
const MAX_SET_RULES: usize = 2_000;

/// One owner as written in the file.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Owner {
    /// `@octocat`: the name without `@`.
    User(String),
    /// `@octo-org/octocats` (GitLab: `@group/subgroup`): the path without `@`.
    Team(String),
    /// `docs@example.com`.
    Email(String),
    /// GitLab's `@@developer`, `@@maintainer`, `@@owner`: the role without `@@`.
    Role(String),
}

impl Owner {
    /// The owner as a CODEOWNERS token, from `token` (`None` when it is none).
    fn parse(token: &str) -> Option<Owner> {
        let name_ok = |s: &str| {
            !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        };
        if let Some(role) = token.strip_prefix("@@") {
            return name_ok(role).then(|| Owner::Role(role.to_string()));
        }
        if let Some(name) = token.strip_prefix('@') {
            let parts: Vec<&str> = name.split('/').collect();
            if !parts.iter().all(|p| name_ok(p)) {
                return None;
            }
            return Some(if parts.len() == 1 {
                Owner::User(name.to_string())
            } else {
                Owner::Team(name.to_string())
            });
        }
        let (local, domain) = token.split_once('@')?;
        let domain_ok = domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains('@');
        let chars_ok = token
            .chars()
            .all(|c| !c.is_whitespace() && !c.is_control() && !matches!(c, '<' | '>' | '"'));
        (!local.is_empty() && domain_ok && chars_ok).then(|| Owner::Email(token.to_string()))
    }
}

impl fmt::Display for Owner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Owner::User(n) | Owner::Team(n) => write!(f, "@{n}"),
            Owner::Email(e) => f.write_str(e),
            Owner::Role(r) => write!(f, "@@{r}"),
        }
    }
}

impl Serialize for Owner {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// One rule: a pattern and who owns what it matches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// 1-based line in the file.
    pub line: usize,
    /// The pattern as written (escapes kept).
    pub pattern: String,
    /// Empty: the rule un-owns what it matches.
    pub owners: Vec<Owner>,
}

/// A GitLab section, or the rules before the first section header.
#[derive(Debug)]
pub struct Section {
    /// `None` for the rules before any header (and for a GitHub file).
    pub name: Option<String>,
    /// `^[Name]`: approval from this section is optional on GitLab.
    pub optional: bool,
    /// `[Name][2]`: approvals GitLab requires from this section.
    pub approvals: Option<u32>,
    /// Owners after the header, given to the section's rules without owners.
    pub default_owners: Vec<Owner>,
    pub rules: Vec<Rule>,
    matcher: Matcher,
}

/// The compiled patterns of a section's rules, in rule order.
#[derive(Debug)]
enum Matcher {
    Set(RegexSet),
    Each(Vec<Regex>),
}

impl Matcher {
    fn new(patterns: Vec<Regex>) -> Matcher {
        if patterns.len() <= MAX_SET_RULES {
            let set = RegexSetBuilder::new(patterns.iter().map(Regex::as_str))
                .size_limit(64 * 1024 * 1024)
                .build();
            if let Ok(set) = set {
                return Matcher::Set(set);
            }
        }
        Matcher::Each(patterns)
    }

    /// The index of the last pattern matching `path`.
    fn last_match(&self, path: &str) -> Option<usize> {
        match self {
            Matcher::Set(set) => set.matches(path).iter().next_back(),
            Matcher::Each(patterns) => patterns.iter().rposition(|r| r.is_match(path)),
        }
    }
}

/// A CODEOWNERS file that could not be read at all: the file, and why (a
/// sentence of the catalogue, shown on a service's page in its language).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}: {reason}")]
pub struct CodeOwnersError {
    pub file: String,
    pub reason: Message,
}

/// A parsed CODEOWNERS file.
#[derive(Debug)]
pub struct CodeOwners {
    /// The file, relative to the repository's root (`.github/CODEOWNERS`).
    pub file: String,
    pub sections: Vec<Section>,
    /// Lines that were skipped, and why, with their line numbers.
    pub warnings: Vec<Diagnostic>,
}

/// A service's owners: the union of the owners of its files.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServiceOwners {
    /// Files of the service (matching any of its path globs).
    pub files: usize,
    /// Files of the service no rule gives an owner (no rule matches, or the
    /// last matching rule has no owners).
    pub unowned_files: usize,
    /// Each owner and how many of the service's files it owns, most files
    /// first, then by name.
    pub owners: Vec<OwnerFiles>,
}

/// An owner of some of a service's files.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OwnerFiles {
    pub owner: Owner,
    pub files: usize,
}

impl CodeOwners {
    /// The repository's CODEOWNERS file: the first of [`LOCATIONS`] among
    /// `paths` (the repository's files), read through `read`. `Ok(None)`: the
    /// repository has none. An error when the file is listed but cannot be
    /// read or is not a CODEOWNERS file at all (too large, binary): its
    /// owners are unknown, not "nobody".
    pub fn find(
        paths: &[String],
        read: impl Fn(&str) -> Option<String>,
    ) -> Result<Option<CodeOwners>, CodeOwnersError> {
        let Some(file) = LOCATIONS.iter().find(|loc| paths.iter().any(|p| p == *loc)) else {
            return Ok(None);
        };
        let text = read(file).ok_or_else(|| CodeOwnersError {
            file: file.to_string(),
            reason: Message::new("msg_codeowners_unreadable"),
        })?;
        CodeOwners::parse(file, &text).map(Some)
    }

    /// Parse the text of the CODEOWNERS file `file` (named in warnings).
    pub fn parse(file: &str, text: &str) -> Result<CodeOwners, CodeOwnersError> {
        let fail = |reason: Message| CodeOwnersError {
            file: file.to_string(),
            reason,
        };
        if text.len() >= MAX_BYTES {
            return Err(fail(crate::msg!(
                "msg_codeowners_too_large",
                bytes = text.len()
            )));
        }
        if text.contains('\0') {
            return Err(fail(Message::new("msg_codeowners_not_text")));
        }
        // Counted before compiling anything: a hostile file is refused cheaply.
        let rule_lines = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#') && !l.starts_with('['))
            .filter(|l| !l.starts_with("^["))
            .count();
        if rule_lines > MAX_RULES {
            return Err(fail(crate::msg!(
                "msg_codeowners_too_many_rules",
                rules = rule_lines,
                limit = MAX_RULES
            )));
        }
        let mut warnings = Vec::new();
        let warn = |warnings: &mut Vec<Diagnostic>, line: usize, message: String| {
            warnings.push(Diagnostic::new(file, Some(line), message));
        };
        // Sections by lower-cased name (GitLab merges same-named headers);
        // the unnamed section is key "" and comes first.
        let mut order: Vec<String> = vec![String::new()];
        let mut building: BTreeMap<String, (Section, Vec<Regex>)> = BTreeMap::new();
        building.insert(String::new(), (Section::unnamed(), Vec::new()));
        let mut current = String::new();
        let mut current_defaults: Vec<Owner> = Vec::new();

        for (i, raw) in text.lines().enumerate() {
            let n = i + 1;
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            if line.len() > MAX_LINE {
                warn(
                    &mut warnings,
                    n,
                    format!("line of {} bytes skipped (at most {MAX_LINE})", line.len()),
                );
                continue;
            }
            if line.starts_with('[') || line.starts_with("^[") {
                match parse_header(line) {
                    Ok(h) => {
                        let key = h.name.to_lowercase();
                        if !building.contains_key(&key) {
                            order.push(key.clone());
                            building.insert(
                                key.clone(),
                                (
                                    Section {
                                        name: Some(h.name),
                                        optional: h.optional,
                                        approvals: h.approvals,
                                        default_owners: h.owners.clone(),
                                        rules: Vec::new(),
                                        matcher: Matcher::Each(Vec::new()),
                                    },
                                    Vec::new(),
                                ),
                            );
                        }
                        for bad in h.bad_owners {
                            warn(
                                &mut warnings,
                                n,
                                format!("{bad:?} is not an owner (expected @user, @org/team or an email address): left out of the section's default owners"),
                            );
                        }
                        current = key;
                        current_defaults = h.owners;
                    }
                    Err(why) => warn(&mut warnings, n, format!("{why}: line skipped")),
                }
                continue;
            }
            let tokens = split_tokens(line);
            let Some((pattern, rest)) = tokens.split_first() else {
                continue;
            };
            let mut owners = Vec::new();
            let mut bad = None;
            for token in rest.iter().take_while(|t| !t.starts_with('#')) {
                match Owner::parse(token) {
                    Some(o) => {
                        if !owners.contains(&o) {
                            owners.push(o)
                        }
                    }
                    None => {
                        bad = Some(token.clone());
                        break;
                    }
                }
            }
            if let Some(bad) = bad {
                warn(
                    &mut warnings,
                    n,
                    format!("{bad:?} is not an owner (expected @user, @org/team or an email address): line skipped"),
                );
                continue;
            }
            let regex = match pattern_regex(pattern) {
                Ok(r) => r,
                Err(why) => {
                    warn(
                        &mut warnings,
                        n,
                        format!("pattern {pattern:?}: {why}: line skipped"),
                    );
                    continue;
                }
            };
            if owners.is_empty() {
                owners = current_defaults.clone();
            }
            let (section, regexes) = building
                .get_mut(&current)
                .expect("the current section was inserted when its header was read");
            section.rules.push(Rule {
                line: n,
                pattern: pattern.clone(),
                owners,
            });
            regexes.push(regex);
        }
        let sections = order
            .iter()
            .filter_map(|key| building.remove(key))
            .filter(|(s, _)| s.name.is_some() || !s.rules.is_empty())
            .map(|(mut s, regexes)| {
                s.matcher = Matcher::new(regexes);
                s
            })
            .collect();
        Ok(CodeOwners {
            file: file.to_string(),
            sections,
            warnings,
        })
    }

    /// The owners of the file at `path` (relative to the root, `/`
    /// separators): in each section the last matching rule's owners, all
    /// sections together. `None`: no rule matches; `Some([])`: the matching
    /// rules have no owners (the file is un-owned on purpose).
    pub fn owners_of(&self, path: &str) -> Option<Cow<'_, [Owner]>> {
        let path = path.trim_start_matches('/');
        let mut matched = self.sections.iter().filter_map(|s| {
            s.matcher
                .last_match(path)
                .map(|i| s.rules[i].owners.as_slice())
        });
        let first = matched.next()?;
        let mut union: Option<Vec<Owner>> = None;
        for more in matched {
            let all = union.get_or_insert_with(|| first.to_vec());
            for o in more {
                if !all.contains(o) {
                    all.push(o.clone());
                }
            }
        }
        Some(match union {
            Some(all) => Cow::Owned(all),
            None => Cow::Borrowed(first),
        })
    }

    /// The rules that decide `path`: the last matching rule of each section
    /// that has one, to show which lines of the file gave a file its owners.
    pub fn rules_for(&self, path: &str) -> Vec<&Rule> {
        let path = path.trim_start_matches('/');
        self.sections
            .iter()
            .filter_map(|s| s.matcher.last_match(path).map(|i| &s.rules[i]))
            .collect()
    }

    /// The owners of a service declared by path globs (`services/payments/**`,
    /// the syntax of `[[repos.services]] paths`: `*` stays inside a folder,
    /// `**` crosses folders), among `files` (the repository's files; from
    /// `RepoFiles::paths`, vendored and test-data folders are left out, so
    /// they count for no one).
    ///
    /// The rule chosen: a service is owned by the union of the owners of its
    /// files, each owner counted by the files it owns. Asking only which rule
    /// matches the service's root folder would miss rules by file type
    /// (`*.sql @org/dba`) and carve-outs (`/apps/github` un-owned inside
    /// `/apps/`), and a glob like `**/payments/**` has no single root. An
    /// error when a glob is not a valid glob.
    pub fn owners_of_paths(
        &self,
        globs: &[String],
        files: &[String],
    ) -> Result<ServiceOwners, String> {
        // As `[[repos.services]] paths` are read: from the root, `/` optional, `!` excludes.
        let set = crate::config::services::PathSet::new(globs)?;
        Ok(self.owners_of_files(files.iter().map(String::as_str).filter(|f| set.is_match(f))))
    }

    /// The owners of a set of files (a service's files, however they were
    /// chosen): see [`CodeOwners::owners_of_paths`].
    pub fn owners_of_files<'a>(&self, files: impl IntoIterator<Item = &'a str>) -> ServiceOwners {
        let mut count = 0;
        let mut unowned = 0;
        let mut by_owner: BTreeMap<Owner, usize> = BTreeMap::new();
        for f in files {
            count += 1;
            match self.owners_of(f) {
                Some(owners) if !owners.is_empty() => {
                    for o in owners.iter() {
                        *by_owner.entry(o.clone()).or_default() += 1;
                    }
                }
                _ => unowned += 1,
            }
        }
        let mut owners: Vec<OwnerFiles> = by_owner
            .into_iter()
            .map(|(owner, files)| OwnerFiles { owner, files })
            .collect();
        owners.sort_by(|a, b| {
            b.files
                .cmp(&a.files)
                .then_with(|| a.owner.to_string().cmp(&b.owner.to_string()))
        });
        ServiceOwners {
            files: count,
            unowned_files: unowned,
            owners,
        }
    }
}

impl Section {
    fn unnamed() -> Section {
        Section {
            name: None,
            optional: false,
            approvals: None,
            default_owners: Vec::new(),
            rules: Vec::new(),
            matcher: Matcher::Each(Vec::new()),
        }
    }
}

/// A GitLab section header: `[Name]`, `^[Name]`, `[Name][2]`, then owners.
struct Header {
    name: String,
    optional: bool,
    approvals: Option<u32>,
    owners: Vec<Owner>,
    bad_owners: Vec<String>,
}

fn parse_header(line: &str) -> Result<Header, String> {
    let (optional, rest) = match line.strip_prefix('^') {
        Some(r) => (true, r),
        None => (false, line),
    };
    let rest = rest.strip_prefix('[').unwrap_or(rest);
    let Some((name, mut rest)) = rest.split_once(']') else {
        return Err("a section header without its closing `]` (patterns cannot start with `[`: character ranges are not supported)".to_string());
    };
    let name = name.trim();
    if name.is_empty() {
        return Err("a section header with an empty name".to_string());
    }
    let mut approvals = None;
    if let Some(after) = rest.strip_prefix('[') {
        let Some((count, after)) = after.split_once(']') else {
            return Err(format!(
                "section [{name}]: the approvals count has no closing `]`"
            ));
        };
        let count: u32 = count
            .trim()
            .parse()
            .map_err(|_| format!("section [{name}]: approvals {count:?} is not a whole number"))?;
        approvals = Some(count);
        rest = after;
    }
    if !rest.is_empty() && !rest.starts_with(char::is_whitespace) {
        return Err(format!(
            "section [{name}]: expected owners after the header, found {rest:?}"
        ));
    }
    let mut owners = Vec::new();
    let mut bad_owners = Vec::new();
    for token in rest.split_whitespace().take_while(|t| !t.starts_with('#')) {
        match Owner::parse(token) {
            Some(o) if !owners.contains(&o) => owners.push(o),
            Some(_) => {}
            None => bad_owners.push(token.to_string()),
        }
    }
    Ok(Header {
        name: name.to_string(),
        optional,
        approvals,
        owners,
        bad_owners,
    })
}

#[cfg(test)]
mod tests;
