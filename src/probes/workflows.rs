//! GitHub Actions hygiene: third-party actions pinned by commit sha, so a
//! moved tag cannot change what runs in the pipeline.

use regex::Regex;

use super::files::{Globs, RepoFiles};
use super::{CodeProbe, Evidence, Finding, Outcome};
use crate::message::Message;
use crate::msg;

pub static PROBES: [CodeProbe; 1] = [CodeProbe {
    id: "security.actions-pinned",
    title: "CI actions are pinned by commit sha",
    chapter: "continuous-integration",
    remediation: "Pin every `uses:` to a full commit sha (`actions/checkout@<40 hex> # v4`); let Dependabot or Renovate update the pins.",
}];

pub fn run(files: &RepoFiles) -> Vec<Finding> {
    let probe = &PROBES[0];
    if let Some(why) = &files.unavailable {
        return vec![probe.finding(Outcome::Unknown, vec![Evidence::note(why.clone())])];
    }
    static USES: std::sync::OnceLock<Regex> = std::sync::OnceLock::new();
    let uses = USES.get_or_init(|| {
        Regex::new(r"^\s*-?\s*uses:\s*['\x22]?([^\s'\x22#]+)").expect("valid regex")
    });
    let globs = Globs::new(&[
        ".github/workflows/*.yml",
        ".github/workflows/*.yaml",
        "action.yml",
        "action.yaml",
    ])
    .expect("valid globs");
    let (mut pinned, mut unpinned) = (Vec::new(), Vec::new());
    for path in files.matching(&globs) {
        let Some(text) = files.read(path) else {
            continue;
        };
        for (i, line) in text.lines().enumerate() {
            let Some(c) = uses.captures(line) else {
                continue;
            };
            let target = &c[1];
            if target.starts_with("./") || target.starts_with("docker://") {
                continue;
            }
            let reference = target.rsplit_once('@').map(|(_, r)| r).unwrap_or("");
            let is_sha = reference.len() == 40 && reference.bytes().all(|b| b.is_ascii_hexdigit());
            let e = Evidence::at(path, i + 1, msg!("msg_action", action = target));
            if is_sha {
                pinned.push(e);
            } else {
                unpinned.push(Evidence::at(
                    path,
                    i + 1,
                    msg!("msg_action_unpinned", action = target),
                ));
            }
        }
    }
    if pinned.is_empty() && unpinned.is_empty() {
        return vec![probe.finding(
            Outcome::NotApplicable,
            vec![Evidence::note(Message::new("msg_no_actions"))],
        )];
    }
    if unpinned.is_empty() {
        pinned.truncate(10);
        vec![probe.finding(Outcome::Pass, pinned)]
    } else {
        unpinned.truncate(10);
        vec![probe.finding(Outcome::Fail, unpinned)]
    }
}
