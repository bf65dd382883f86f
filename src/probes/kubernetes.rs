//! Kubernetes workload probes: liveness and readiness probes, resource
//! requests and limits, `runAsNonRoot`, pinned image tags. Manifests are read
//! as YAML text, one document (`---`) at a time, so the evidence can point at
//! the line; Helm template expressions (`{{ … }}`) are left alone.

use regex::Regex;

use super::containers::image_is_pinned;
use super::files::{Globs, RepoFiles};
use super::{CodeProbe, Evidence, Finding, Outcome};
use crate::message::{Arg, Message};
use crate::msg;

const CHAPTER: &str = "kubernetes";

pub static PROBES: [CodeProbe; 4] = [
    CodeProbe {
        id: "kubernetes.probes",
        title: "Workloads have liveness and readiness probes",
        chapter: CHAPTER,
        remediation: "Give every container a readinessProbe (traffic only when ready) and a livenessProbe (restart when stuck).",
    },
    CodeProbe {
        id: "kubernetes.resources",
        title: "Workloads set resource requests and limits",
        chapter: CHAPTER,
        remediation: "Set `resources.requests` (for scheduling and autoscaling) and `resources.limits` on every container.",
    },
    CodeProbe {
        id: "kubernetes.run-as-non-root",
        title: "Workloads run as non-root",
        chapter: CHAPTER,
        remediation: "Set `securityContext.runAsNonRoot: true` on the pod or its containers.",
    },
    CodeProbe {
        id: "kubernetes.pinned-images",
        title: "Workload images are pinned to a tag or digest",
        chapter: CHAPTER,
        remediation: "Reference images by an exact tag or digest, never `latest` or no tag.",
    },
];

/// One Deployment, StatefulSet or DaemonSet found in a manifest.
#[derive(Debug)]
struct Workload<'a> {
    path: &'a str,
    kind: String,
    name: String,
    /// Line of `kind:` in the file.
    line: usize,
    /// The document's lines with their file line numbers.
    lines: Vec<(usize, &'a str)>,
    /// For a Helm template: the blocks of the chart's `values.yaml` its
    /// `.Values.…` expressions name (path, line, text).
    values: Vec<(String, usize, String)>,
}

fn re(pattern: &'static str, cell: &'static std::sync::OnceLock<Regex>) -> &'static Regex {
    cell.get_or_init(|| Regex::new(pattern).expect("valid regex"))
}

fn workloads<'a>(path: &'a str, text: &'a str) -> Vec<Workload<'a>> {
    static KIND: std::sync::OnceLock<Regex> = std::sync::OnceLock::new();
    static NAME: std::sync::OnceLock<Regex> = std::sync::OnceLock::new();
    let kind_re = re(r"^kind:\s*(Deployment|StatefulSet|DaemonSet)\s*$", &KIND);
    let name_re = re(r"^\s{2,}name:\s*(\{\{.*?\}\}|['\x22]?[^\s'\x22#]+)", &NAME);
    let mut docs: Vec<Vec<(usize, &str)>> = vec![Vec::new()];
    for (i, line) in text.lines().enumerate() {
        if line.starts_with("---") {
            docs.push(Vec::new());
        } else if let Some(d) = docs.last_mut() {
            d.push((i + 1, line));
        }
    }
    docs.into_iter()
        .filter_map(|lines| {
            // A kustomize patch (`$patch: delete`, a strategic-merge fragment
            // without a pod template) is not a workload.
            let key = |k: &str| lines.iter().any(|(_, l)| l.trim_start().starts_with(k));
            if key("$patch:") || !key("template:") || !key("containers:") {
                return None;
            }
            let (line, kind) = lines.iter().find_map(|(n, l)| {
                kind_re
                    .captures(l.trim_end())
                    .map(|c| (*n, c[1].to_string()))
            })?;
            let name = lines
                .iter()
                .find_map(|(_, l)| name_re.captures(l).map(|c| c[1].to_string()))
                .unwrap_or_else(|| "(unnamed)".into());
            Some(Workload {
                path,
                kind,
                name,
                line,
                lines,
                values: Vec::new(),
            })
        })
        .collect()
}

impl Workload<'_> {
    fn has(&self, key: &str) -> bool {
        self.lines
            .iter()
            .any(|(_, l)| l.trim_start().starts_with(key))
            || self
                .values
                .iter()
                .any(|(_, _, l)| l.trim_start().starts_with(key))
    }

    fn label(&self) -> String {
        format!("{} {}", self.kind, self.name)
    }

    /// The items of every `containers:` list (not `initContainers:`), as
    /// (name, lines). A list it cannot read (flow style) yields nothing.
    fn containers(&self) -> Vec<(String, Vec<&str>)> {
        let indent = |l: &str| l.len() - l.trim_start().len();
        let mut out = Vec::new();
        let mut i = 0;
        while i < self.lines.len() {
            let (_, line) = self.lines[i];
            i += 1;
            if line.trim() != "containers:" {
                continue;
            }
            let key_indent = indent(line);
            // The first list item fixes the items' indentation.
            let Some(first) = self.lines[i..]
                .iter()
                .map(|(_, l)| *l)
                .find(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
            else {
                break;
            };
            if !first.trim_start().starts_with('-') || indent(first) < key_indent {
                continue;
            }
            let item_indent = indent(first);
            let mut current: Option<(String, Vec<&str>)> = None;
            while i < self.lines.len() {
                let (_, l) = self.lines[i];
                let t = l.trim_start();
                if t.is_empty() || t.starts_with('#') {
                    i += 1;
                    continue;
                }
                let ind = indent(l);
                if ind < item_indent || (ind == item_indent && !t.starts_with('-')) {
                    break;
                }
                if ind == item_indent && t.starts_with('-') {
                    if let Some(c) = current.take() {
                        out.push(c);
                    }
                    current = Some((String::new(), Vec::new()));
                }
                if let Some((name, body)) = current.as_mut() {
                    let key = t.trim_start_matches('-').trim_start();
                    if name.is_empty() {
                        if let Some(n) = key.strip_prefix("name:") {
                            *name = n.trim().trim_matches(['"', '\'']).to_string();
                        }
                    }
                    body.push(l);
                }
                i += 1;
            }
            if let Some(c) = current.take() {
                out.push(c);
            }
        }
        out
    }
}

/// The files kustomizations apply as patches (`patches:` paths,
/// `patchesStrategicMerge:` items), relative to the repository root.
fn kustomize_patches(files: &RepoFiles) -> Vec<String> {
    static ITEM: std::sync::OnceLock<Regex> = std::sync::OnceLock::new();
    let item = re(
        r"^\s*(?:-\s*)?(?:path:\s*)?['\x22]?([\w./-]+\.ya?ml)['\x22]?\s*$",
        &ITEM,
    );
    let globs = Globs::new(&["kustomization.yaml", "kustomization.yml"]).expect("valid globs");
    let mut out = Vec::new();
    for k in files.matching(&globs) {
        let Some(text) = files.read(k) else { continue };
        let dir = k.rsplit_once('/').map(|(d, _)| d).unwrap_or("");
        let mut in_patches = None;
        for l in text.lines() {
            let t = l.trim_start();
            let ind = l.len() - t.len();
            if t.is_empty() || t.starts_with('#') {
                continue;
            }
            if let Some(at) = in_patches {
                if ind <= at && !t.starts_with('-') || ind < at {
                    in_patches = None;
                }
            }
            if t.starts_with("patches:") || t.starts_with("patchesStrategicMerge:") {
                in_patches = Some(ind);
                continue;
            }
            if in_patches.is_some() {
                if let Some(c) = item.captures(l) {
                    out.push(normalise(dir, &c[1]));
                }
            }
        }
    }
    out
}

/// `dir/rel` with `.` and `..` resolved.
fn normalise(dir: &str, rel: &str) -> String {
    let mut parts: Vec<&str> = dir.split('/').filter(|p| !p.is_empty()).collect();
    for p in rel.split('/') {
        match p {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            _ => parts.push(p),
        }
    }
    parts.join("/")
}

/// For a workload in a Helm chart's `templates/`, the blocks of the chart's
/// `values.yaml` that its `.Values.a.b` expressions name: a template's
/// `securityContext: {{- toYaml .Values.securityContext | nindent 8 }}` is
/// set there.
fn helm_values(files: &RepoFiles, w: &Workload<'_>) -> Vec<(String, usize, String)> {
    static REF: std::sync::OnceLock<Regex> = std::sync::OnceLock::new();
    let reference = re(r"\.Values\.([A-Za-z_][\w.]*)", &REF);
    let Some((chart, _)) = w
        .path
        .split_once("/templates/")
        .or_else(|| w.path.strip_prefix("templates/").map(|rest| ("", rest)))
    else {
        return Vec::new();
    };
    let values_path = normalise(chart, "values.yaml");
    if !files
        .paths
        .iter()
        .any(|p| *p == normalise(chart, "Chart.yaml"))
    {
        return Vec::new();
    }
    let Some(text) = files.read(&values_path) else {
        return Vec::new();
    };
    let lines: Vec<&str> = text.lines().collect();
    let mut out: Vec<(String, usize, String)> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (_, l) in &w.lines {
        if !l.contains("{{") {
            continue;
        }
        for c in reference.captures_iter(l) {
            let path = c[1].trim_end_matches('.').to_string();
            if !seen.insert(path.clone()) {
                continue;
            }
            if let Some((from, to)) = values_block(&lines, &path) {
                for (i, line) in lines.iter().enumerate().take(to).skip(from) {
                    if !out.iter().any(|(_, n, _)| *n == i + 1) {
                        out.push((values_path.clone(), i + 1, line.to_string()));
                    }
                }
            }
        }
    }
    out
}

/// The lines (from, to) of the block of key path `a.b.c` in a YAML text.
fn values_block(lines: &[&str], path: &str) -> Option<(usize, usize)> {
    let indent = |l: &str| l.len() - l.trim_start().len();
    let (mut from, mut to, mut parent_indent) = (0, lines.len(), None::<usize>);
    for key in path.split('.') {
        let wanted = format!("{key}:");
        let at = (from..to).find(|&i| {
            let l = lines[i];
            l.trim_start().starts_with(&wanted)
                && parent_indent.is_none_or(|p| indent(l) > p)
                && !l.trim_start().starts_with('#')
        })?;
        let ind = indent(lines[at]);
        let end = (at + 1..to)
            .find(|&i| {
                let t = lines[i].trim_start();
                !t.is_empty() && !t.starts_with('#') && indent(lines[i]) <= ind
            })
            .unwrap_or(to);
        from = at;
        to = end;
        parent_indent = Some(ind);
        // The next key is searched below this one.
        from += 1;
    }
    Some((from - 1, to))
}

fn block_has(lines: &[&str], key: &str) -> bool {
    lines.iter().any(|l| {
        l.trim_start()
            .trim_start_matches('-')
            .trim_start()
            .starts_with(key)
    })
}

/// The probe fields a workload lacks: one as it is named, both as a phrase.
fn missing_probes(missing: &[&str]) -> Arg {
    match missing {
        [one] => Arg::from(*one),
        _ => Arg::Message(Message::new("msg_probes_both")),
    }
}

pub fn run(files: &RepoFiles) -> Vec<Finding> {
    if let Some(why) = &files.unavailable {
        return PROBES
            .iter()
            .map(|p| p.finding(Outcome::Unknown, vec![Evidence::note(why.clone())]))
            .collect();
    }
    let globs = Globs::new(&["*.yml", "*.yaml"]).expect("valid globs");
    let texts: Vec<(String, String)> = files
        .matching(&globs)
        .filter_map(|p| files.read(p).map(|t| (p.to_string(), t)))
        .collect();
    let patches = kustomize_patches(files);
    let mut all: Vec<Workload<'_>> = texts
        .iter()
        .filter(|(p, _)| !patches.contains(p))
        .flat_map(|(p, t)| workloads(p, t))
        .collect();
    for w in &mut all {
        w.values = helm_values(files, w);
    }
    if all.is_empty() {
        return PROBES
            .iter()
            .map(|p| {
                p.finding(
                    Outcome::NotApplicable,
                    vec![Evidence::note(Message::new("msg_no_workloads"))],
                )
            })
            .collect();
    }
    static RUN_AS: std::sync::OnceLock<Regex> = std::sync::OnceLock::new();
    static IMAGE: std::sync::OnceLock<Regex> = std::sync::OnceLock::new();
    let run_as = re(r"^\s*runAsNonRoot:\s*true\s*$", &RUN_AS);
    let image_re = re(r"^\s*-?\s*image:\s*['\x22]?([^\s'\x22#]+)", &IMAGE);

    let judge = |fails: Vec<Evidence>, passes: Vec<Evidence>| {
        if fails.is_empty() {
            (Outcome::Pass, passes)
        } else {
            (Outcome::Fail, fails)
        }
    };
    let mut results = Vec::new();
    // Probes.
    let (mut f, mut p) = (Vec::new(), Vec::new());
    for w in &all {
        let containers = w.containers();
        if containers.len() > 1 {
            // Several containers: each must have both probes.
            let mut bad = Vec::new();
            for (name, body) in &containers {
                let missing: Vec<&str> = ["livenessProbe", "readinessProbe"]
                    .into_iter()
                    .filter(|k| !block_has(body, &format!("{k}:")))
                    .collect();
                if !missing.is_empty() {
                    bad.push(msg!(
                        "msg_container_no_probes",
                        container = name,
                        probes = missing_probes(&missing)
                    ));
                }
            }
            if bad.is_empty() {
                p.push(Evidence::at(
                    w.path,
                    w.line,
                    msg!("msg_workload_probes", workload = w.label()),
                ));
            } else {
                f.push(Evidence::at(
                    w.path,
                    w.line,
                    msg!(
                        "msg_workload_problems",
                        workload = w.label(),
                        problems = bad
                    ),
                ));
            }
            continue;
        }
        let missing: Vec<&str> = ["livenessProbe", "readinessProbe"]
            .into_iter()
            .filter(|k| !w.has(&format!("{k}:")))
            .collect();
        if missing.is_empty() {
            p.push(Evidence::at(
                w.path,
                w.line,
                msg!("msg_workload_probes", workload = w.label()),
            ));
        } else {
            f.push(Evidence::at(
                w.path,
                w.line,
                msg!(
                    "msg_workload_no_probes",
                    workload = w.label(),
                    probes = missing_probes(&missing)
                ),
            ));
        }
    }
    results.push(judge(f, p));
    // Resources.
    let (mut f, mut p) = (Vec::new(), Vec::new());
    for w in &all {
        let containers = w.containers();
        let ok = if containers.len() > 1 {
            containers.iter().all(|(_, body)| {
                block_has(body, "resources:")
                    && block_has(body, "limits:")
                    && block_has(body, "requests:")
            })
        } else {
            w.has("resources:") && w.has("limits:") && w.has("requests:")
        };
        let e = Evidence::at(
            w.path,
            w.line,
            if ok {
                msg!("msg_workload_resources", workload = w.label())
            } else {
                msg!("msg_workload_no_resources", workload = w.label())
            },
        );
        if ok {
            p.push(e)
        } else {
            f.push(e)
        }
    }
    results.push(judge(f, p));
    // runAsNonRoot.
    let (mut f, mut p) = (Vec::new(), Vec::new());
    for w in &all {
        let in_values = || {
            w.values
                .iter()
                .find(|(_, _, l)| run_as.is_match(l))
                .map(|(path, n, _)| (path.as_str(), *n))
        };
        let found = w
            .lines
            .iter()
            .find(|(_, l)| run_as.is_match(l))
            .map(|(n, _)| (w.path, *n))
            .or_else(in_values);
        match found {
            Some((path, n)) => p.push(Evidence::at(
                path,
                n,
                msg!("msg_workload_non_root", workload = w.label()),
            )),
            None => f.push(Evidence::at(
                w.path,
                w.line,
                msg!("msg_workload_no_non_root", workload = w.label()),
            )),
        }
    }
    results.push(judge(f, p));
    // Pinned images.
    let (mut f, mut p) = (Vec::new(), Vec::new());
    for w in &all {
        for (n, l) in &w.lines {
            if let Some(c) = image_re.captures(l) {
                let image = &c[1];
                if image.contains("{{") {
                    continue;
                }
                if image_is_pinned(image) {
                    p.push(Evidence::at(
                        w.path,
                        *n,
                        msg!("msg_workload_image", workload = w.label(), image = image),
                    ));
                } else {
                    f.push(Evidence::at(
                        w.path,
                        *n,
                        msg!(
                            "msg_workload_image_unpinned",
                            workload = w.label(),
                            image = image
                        ),
                    ));
                }
            }
        }
    }
    results.push(judge(f, p));

    PROBES
        .iter()
        .zip(results)
        .map(|(probe, (o, mut e))| {
            e.truncate(10);
            probe.finding(o, e)
        })
        .collect()
}
