//! Dockerfile probes: pinned base images, a non-root user, multi-stage
//! builds, no credentials in ENV/ARG, a HEALTHCHECK, one process.

use regex::Regex;

use super::files::{Globs, RepoFiles};
use super::{CodeProbe, Evidence, Finding, Outcome};
use crate::message::Message;
use crate::msg;

const CHAPTER: &str = "containers";

pub static PROBES: [CodeProbe; 6] = [
    CodeProbe {
        id: "containers.base-image-pinned",
        title: "Base images are pinned to a tag or digest, never `latest`",
        chapter: CHAPTER,
        remediation: "Name an exact version or digest in every FROM (e.g. `FROM python:3.12.4-slim` or `@sha256:…`), so builds are repeatable.",
    },
    CodeProbe {
        id: "containers.non-root-user",
        title: "The image runs as a non-root user",
        chapter: CHAPTER,
        remediation: "End the final stage with `USER` naming an unprivileged user (e.g. `USER 10001`).",
    },
    CodeProbe {
        id: "containers.multi-stage",
        title: "Multi-stage build",
        chapter: CHAPTER,
        remediation: "Build in one stage and copy only the artifact into a small runtime stage, keeping compilers and sources out of the image.",
    },
    CodeProbe {
        id: "containers.no-credentials",
        title: "No credentials in ENV or ARG",
        chapter: CHAPTER,
        remediation: "Pass secrets at run time (orchestrator secrets) or with `RUN --mount=type=secret`; ENV and ARG values stay in the image history.",
    },
    CodeProbe {
        id: "containers.healthcheck",
        title: "The image declares a HEALTHCHECK",
        chapter: CHAPTER,
        remediation: "Add `HEALTHCHECK CMD …` so the runtime can tell a hung container from a healthy one (on Kubernetes, use probes).",
    },
    CodeProbe {
        id: "containers.single-process",
        title: "One process per container",
        chapter: CHAPTER,
        remediation: "Run one service per container; use separate containers (or a pod) instead of supervisord or background processes.",
    },
];

/// One Dockerfile instruction: keyword (upper case), arguments, first line.
#[derive(Debug, Clone, PartialEq)]
pub struct Instruction {
    pub keyword: String,
    pub args: String,
    pub line: usize,
}

/// Splits a Dockerfile into instructions, joining `\` continuations and
/// dropping comments and blank lines.
pub fn parse(text: &str) -> Vec<Instruction> {
    let mut out = Vec::new();
    let mut current: Option<(usize, String)> = None;
    for (i, raw) in text.lines().enumerate() {
        let trimmed = raw.trim();
        if current.is_none() && (trimmed.is_empty() || trimmed.starts_with('#')) {
            continue;
        }
        if current.is_some() && trimmed.starts_with('#') {
            continue;
        }
        let (continues, body) = match trimmed.strip_suffix('\\') {
            Some(b) => (true, b),
            None => (false, trimmed),
        };
        let entry = current.get_or_insert_with(|| (i + 1, String::new()));
        if !entry.1.is_empty() {
            entry.1.push(' ');
        }
        entry.1.push_str(body.trim());
        if !continues {
            let (line, text) = current.take().unwrap_or_default();
            let (kw, args) = text.split_once(char::is_whitespace).unwrap_or((&text, ""));
            out.push(Instruction {
                keyword: kw.to_ascii_uppercase(),
                args: args.trim().to_string(),
                line,
            });
        }
    }
    if let Some((line, text)) = current {
        let (kw, args) = text.split_once(char::is_whitespace).unwrap_or((&text, ""));
        out.push(Instruction {
            keyword: kw.to_ascii_uppercase(),
            args: args.trim().to_string(),
            line,
        });
    }
    out
}

fn secret_name() -> &'static Regex {
    static R: std::sync::OnceLock<Regex> = std::sync::OnceLock::new();
    R.get_or_init(|| {
        Regex::new(
            r"(?i)(password|passwd|secret|token|api_?key|access_?key|private_?key|credentials?)",
        )
        .expect("valid regex")
    })
}

/// Names set by an ENV or ARG instruction (`A=1 B=2`, `A 1`, `NAME`).
fn assigned_names(inst: &Instruction) -> Vec<String> {
    let args = inst.args.trim();
    if inst.keyword == "ENV" && !args.split_whitespace().next().unwrap_or("").contains('=') {
        // Legacy form: ENV NAME value
        return args
            .split_whitespace()
            .next()
            .map(|s| vec![s.to_string()])
            .unwrap_or_default();
    }
    args.split_whitespace()
        .filter_map(|tok| {
            let name = tok.split('=').next()?;
            (!name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
                .then(|| name.to_string())
        })
        .collect()
}

/// The image reference of a FROM, without `--platform=…` flags and `AS name`.
fn from_image(args: &str) -> (&str, Option<&str>) {
    let mut parts = args.split_whitespace().filter(|p| !p.starts_with("--"));
    let image = parts.next().unwrap_or("");
    let stage = match (parts.next(), parts.next()) {
        (Some(a), Some(name)) if a.eq_ignore_ascii_case("as") => Some(name),
        _ => None,
    };
    (image, stage)
}

/// Whether an image reference names an exact version: a digest, or a tag other than `latest`.
pub fn image_is_pinned(image: &str) -> bool {
    if image.contains("@sha256:") {
        return true;
    }
    let last = image.rsplit('/').next().unwrap_or(image);
    match last.split_once(':') {
        Some((_, tag)) => !tag.is_empty() && tag != "latest",
        None => false,
    }
}

struct Outcomes {
    results: Vec<(Outcome, Vec<Evidence>)>,
}

/// Runs the Dockerfile probes over every Dockerfile of the repository.
pub fn run(files: &RepoFiles) -> Vec<Finding> {
    if let Some(why) = &files.unavailable {
        return PROBES
            .iter()
            .map(|p| p.finding(Outcome::Unknown, vec![Evidence::note(why.clone())]))
            .collect();
    }
    let globs = Globs::new(&[
        "Dockerfile",
        "Dockerfile.*",
        "*.Dockerfile",
        "*.dockerfile",
        "Containerfile",
    ])
    .expect("valid globs");
    let dockerfiles: Vec<(String, Vec<Instruction>)> = files
        .matching(&globs)
        .filter_map(|p| files.read(p).map(|t| (p.to_string(), parse(&t))))
        .collect();
    if dockerfiles.is_empty() {
        return PROBES
            .iter()
            .map(|p| {
                p.finding(
                    Outcome::NotApplicable,
                    vec![Evidence::note(Message::new("msg_no_dockerfile"))],
                )
            })
            .collect();
    }
    let mut per_probe: Vec<Outcomes> = (0..PROBES.len())
        .map(|_| Outcomes {
            results: Vec::new(),
        })
        .collect();
    for (path, insts) in &dockerfiles {
        for (k, result) in check(path, insts).into_iter().enumerate() {
            per_probe[k].results.push(result);
        }
    }
    PROBES
        .iter()
        .zip(per_probe)
        .map(|(probe, o)| {
            let worst = if o.results.iter().any(|r| r.0 == Outcome::Fail) {
                Outcome::Fail
            } else if o.results.iter().any(|r| r.0 == Outcome::Unknown) {
                Outcome::Unknown
            } else {
                Outcome::Pass
            };
            // Evidence: the failing files when it failed, else all.
            let evidence = o
                .results
                .into_iter()
                .filter(|r| worst == Outcome::Pass || r.0 == worst)
                .flat_map(|r| r.1)
                .take(10)
                .collect();
            probe.finding(worst, evidence)
        })
        .collect()
}

/// The six outcomes for one Dockerfile, in `PROBES` order.
fn check(path: &str, insts: &[Instruction]) -> Vec<(Outcome, Vec<Evidence>)> {
    let froms: Vec<&Instruction> = insts.iter().filter(|i| i.keyword == "FROM").collect();
    let stage_names: Vec<String> = froms
        .iter()
        .filter_map(|f| from_image(&f.args).1.map(|s| s.to_ascii_lowercase()))
        .collect();
    let final_start = insts.iter().rposition(|i| i.keyword == "FROM").unwrap_or(0);
    let final_stage = &insts[final_start..];

    // Pinned base images.
    let mut unpinned = Vec::new();
    let mut pinned = Vec::new();
    for f in &froms {
        let (image, _) = from_image(&f.args);
        let lower = image.to_ascii_lowercase();
        if lower == "scratch" || stage_names.contains(&lower) || image.contains('$') {
            continue;
        }
        if image_is_pinned(image) {
            pinned.push(Evidence::at(path, f.line, msg!("msg_from", image = image)));
        } else {
            unpinned.push(Evidence::at(
                path,
                f.line,
                msg!("msg_from_unpinned", image = image),
            ));
        }
    }
    let base = if froms.is_empty() {
        (
            Outcome::Unknown,
            vec![Evidence::file(path, Message::new("msg_no_from"))],
        )
    } else if !unpinned.is_empty() {
        (Outcome::Fail, unpinned)
    } else {
        (Outcome::Pass, pinned)
    };

    // Non-root user: the last USER of the final stage.
    let user = match final_stage.iter().rev().find(|i| i.keyword == "USER") {
        Some(u) => {
            let name = u.args.split(':').next().unwrap_or("").trim();
            if name == "root" || name == "0" {
                (
                    Outcome::Fail,
                    vec![Evidence::at(
                        path,
                        u.line,
                        msg!("msg_user_root", user = &u.args),
                    )],
                )
            } else {
                (
                    Outcome::Pass,
                    vec![Evidence::at(path, u.line, msg!("msg_user", user = &u.args))],
                )
            }
        }
        None => (
            Outcome::Fail,
            vec![Evidence::file(path, Message::new("msg_no_user"))],
        ),
    };

    // Multi-stage.
    let multi = if froms.len() >= 2 {
        (
            Outcome::Pass,
            vec![Evidence::at(
                path,
                froms[1].line,
                msg!("msg_stages", count = froms.len()),
            )],
        )
    } else {
        (
            Outcome::Fail,
            vec![Evidence::file(path, Message::new("msg_single_stage"))],
        )
    };

    // Credentials in ENV / ARG.
    let leaks: Vec<Evidence> = insts
        .iter()
        .filter(|i| i.keyword == "ENV" || i.keyword == "ARG")
        .flat_map(|i| {
            assigned_names(i)
                .into_iter()
                // `*_FILE` names a mounted secret file, which is the remedy, not a leak.
                .filter(|n| secret_name().is_match(n) && !n.to_ascii_uppercase().ends_with("_FILE"))
                .map(move |n| {
                    Evidence::at(
                        path,
                        i.line,
                        msg!("msg_credential", keyword = &i.keyword, name = n),
                    )
                })
        })
        .collect();
    let creds = if leaks.is_empty() {
        (
            Outcome::Pass,
            vec![Evidence::file(path, Message::new("msg_no_credential"))],
        )
    } else {
        (Outcome::Fail, leaks)
    };

    // HEALTHCHECK in the final stage.
    let health = match final_stage
        .iter()
        .rev()
        .find(|i| i.keyword == "HEALTHCHECK")
    {
        Some(h) if !h.args.trim().eq_ignore_ascii_case("none") => (
            Outcome::Pass,
            vec![Evidence::at(path, h.line, Message::new("msg_healthcheck"))],
        ),
        Some(h) => (
            Outcome::Fail,
            vec![Evidence::at(
                path,
                h.line,
                Message::new("msg_healthcheck_none"),
            )],
        ),
        None => (
            Outcome::Fail,
            vec![Evidence::file(path, Message::new("msg_no_healthcheck"))],
        ),
    };

    // One process: what runs is the final stage's ENTRYPOINT followed by its CMD.
    let entrypoint = final_stage.iter().rev().find(|i| i.keyword == "ENTRYPOINT");
    let cmd = final_stage.iter().rev().find(|i| i.keyword == "CMD");
    let starts_many = |args: &str| {
        let lower = args.to_ascii_lowercase();
        [
            "supervisord",
            "runsvdir",
            "s6-svscan",
            "/sbin/init",
            "systemd",
        ]
        .iter()
        .any(|m| lower.contains(m))
            || lower.contains(" & ")
            || lower.trim_end_matches(['"', ']', ' ']).ends_with('&')
    };
    let process = match (entrypoint, cmd) {
        (None, None) => (
            Outcome::Unknown,
            vec![Evidence::file(path, Message::new("msg_no_command"))],
        ),
        (e, c) => match [e, c].into_iter().flatten().find(|i| starts_many(&i.args)) {
            Some(bad) => (
                Outcome::Fail,
                vec![Evidence::at(
                    path,
                    bad.line,
                    msg!("msg_starts_several", keyword = &bad.keyword),
                )],
            ),
            None => {
                let last = [e, c]
                    .into_iter()
                    .flatten()
                    .max_by_key(|i| i.line)
                    .expect("one of them");
                (
                    Outcome::Pass,
                    vec![Evidence::at(
                        path,
                        last.line,
                        msg!("msg_instruction", keyword = &last.keyword),
                    )],
                )
            }
        },
    };
    vec![base, user, multi, creds, health, process]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_joins_continuations_and_skips_comments() {
        let insts = parse("# syntax=docker/dockerfile:1\nFROM rust:1.80 AS build\nRUN apt-get update && \\\n    # comment\n    apt-get install -y git\n\nUSER 10001\n");
        assert_eq!(insts.len(), 3);
        assert_eq!(insts[1].keyword, "RUN");
        assert_eq!(insts[1].args, "apt-get update && apt-get install -y git");
        assert_eq!(insts[1].line, 3);
        assert_eq!(insts[2].line, 7);
    }

    #[test]
    fn pinning_rules() {
        assert!(image_is_pinned("python:3.12-slim"));
        assert!(image_is_pinned("registry:5000/team/app:1.2"));
        assert!(image_is_pinned("alpine@sha256:abc"));
        assert!(!image_is_pinned("python"));
        assert!(!image_is_pinned("python:latest"));
        assert!(!image_is_pinned("registry:5000/team/app"));
    }
}
