//! Kubernetes workload probes: liveness and readiness probes, resource
//! requests and limits, `runAsNonRoot`, pinned image tags. Manifests are read
//! as YAML text, one document (`---`) at a time, so the evidence can point at
//! the line; Helm template expressions (`{{ … }}`) are left alone.

use regex::Regex;

use super::containers::image_is_pinned;
use super::files::{Globs, RepoFiles};
use super::{CodeProbe, Evidence, Finding, Outcome};

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
}

fn re(pattern: &'static str, cell: &'static std::sync::OnceLock<Regex>) -> &'static Regex {
    cell.get_or_init(|| Regex::new(pattern).expect("valid regex"))
}

fn workloads<'a>(path: &'a str, text: &'a str) -> Vec<Workload<'a>> {
    static KIND: std::sync::OnceLock<Regex> = std::sync::OnceLock::new();
    static NAME: std::sync::OnceLock<Regex> = std::sync::OnceLock::new();
    let kind_re = re(r"^kind:\s*(Deployment|StatefulSet|DaemonSet)\s*$", &KIND);
    let name_re = re(r"^\s{2,}name:\s*['\x22]?([^\s'\x22#]+)", &NAME);
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
            })
        })
        .collect()
}

impl Workload<'_> {
    fn has(&self, key: &str) -> bool {
        self.lines
            .iter()
            .any(|(_, l)| l.trim_start().starts_with(key))
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

fn block_has(lines: &[&str], key: &str) -> bool {
    lines.iter().any(|l| {
        l.trim_start()
            .trim_start_matches('-')
            .trim_start()
            .starts_with(key)
    })
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
    let all: Vec<Workload<'_>> = texts.iter().flat_map(|(p, t)| workloads(p, t)).collect();
    if all.is_empty() {
        return PROBES
            .iter()
            .map(|p| {
                p.finding(
                    Outcome::NotApplicable,
                    vec![Evidence::note("no Deployment, StatefulSet or DaemonSet")],
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
                    bad.push(format!("container {name}: no {}", missing.join(" or ")));
                }
            }
            if bad.is_empty() {
                p.push(Evidence::at(
                    w.path,
                    w.line,
                    format!("{}: liveness and readiness probes", w.label()),
                ));
            } else {
                f.push(Evidence::at(
                    w.path,
                    w.line,
                    format!("{}: {}", w.label(), bad.join("; ")),
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
                format!("{}: liveness and readiness probes", w.label()),
            ));
        } else {
            f.push(Evidence::at(
                w.path,
                w.line,
                format!("{}: no {}", w.label(), missing.join(" or ")),
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
            format!(
                "{}: {}",
                w.label(),
                if ok {
                    "requests and limits"
                } else {
                    "missing resource requests or limits"
                }
            ),
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
        match w.lines.iter().find(|(_, l)| run_as.is_match(l)) {
            Some((n, _)) => p.push(Evidence::at(
                w.path,
                *n,
                format!("{}: runAsNonRoot: true", w.label()),
            )),
            None => f.push(Evidence::at(
                w.path,
                w.line,
                format!("{}: no runAsNonRoot: true", w.label()),
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
                    p.push(Evidence::at(w.path, *n, format!("{}: {image}", w.label())));
                } else {
                    f.push(Evidence::at(
                        w.path,
                        *n,
                        format!("{}: {image} is not pinned", w.label()),
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
