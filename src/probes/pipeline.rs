//! What a pipeline runs, one step away. Real pipelines hide their commands
//! behind a variable (`${{ env.CARGO }} test` with `CARGO: cargo` in an `env`
//! block), a make target, a `package.json` script, a shell script, a local
//! action, tox or pre-commit hooks. The probes that judge what a pipeline
//! *does* read the lines of the pipeline file and, after each line, the lines
//! it leads to; a finding then names both: the pipeline line, and the file and
//! line it leads to.
//!
//! Only one step is followed (a script calling a script is not read), and
//! only files of the repository, through [`RepoFiles`] (a work tree or the
//! tree of a commit alike). A pipeline is also cut into its jobs (GitHub
//! Actions and CircleCI `jobs:`, GitLab's top-level jobs with their `stage:`),
//! so a probe can tell a job named `deploy` from a trigger named `release`.

use std::collections::{BTreeMap, HashMap};
use std::sync::OnceLock;

use regex::Regex;

use super::files::RepoFiles;

/// The pipeline files of every CI system opsmeter reads (the `@ci` set of
/// `data/probes.toml`, for the probes in code).
pub const CI_FILES: &[&str] = &[
    ".github/workflows/*.yml",
    ".github/workflows/*.yaml",
    ".gitlab-ci.yml",
    "Jenkinsfile",
    "buildspec.yml",
    "buildspec.yaml",
    "buildspec-*.yml",
    ".circleci/config.yml",
    "azure-pipelines.yml",
    "azure-pipelines.yaml",
    ".travis.yml",
    "bitbucket-pipelines.yml",
];

/// A line a pipeline runs, directly or one step away.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Run {
    /// The line of the pipeline file (1-based).
    pub line: usize,
    /// What runs: the line with the pipeline's variables replaced, or the
    /// line of the file it leads to.
    pub text: String,
    /// The file and line this text comes from, when not the pipeline line itself.
    pub via: Option<Via>,
    /// The pipeline line as written, when its variables were replaced (`via`
    /// then names the line that set the first of them).
    pub written: Option<String>,
}

/// Where a pipeline line leads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Via {
    pub path: String,
    pub line: usize,
}

impl std::fmt::Display for Via {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.path, self.line)
    }
}

/// One job of a pipeline: its name, the line of the name, and its lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    /// The job's key (`deploy`, `build-release`); empty for a file without jobs.
    pub name: String,
    /// Line of the job's key (0 for a file without jobs).
    pub line: usize,
    /// The GitLab `stage:` of the job, and its line.
    pub stage: Option<(String, usize)>,
    /// First and last line of the job (inclusive).
    pub first: usize,
    pub last: usize,
}

/// A pipeline file read with what it leads to.
#[derive(Debug, Clone)]
pub struct Pipeline {
    pub path: String,
    /// In the order of the pipeline's lines; the lines a pipeline line leads
    /// to come just before it (they show the practice better than the call).
    pub runs: Vec<Run>,
    pub jobs: Vec<Job>,
}

impl Pipeline {
    /// The job holding pipeline line `line`.
    pub fn job_of(&self, line: usize) -> Option<usize> {
        self.jobs
            .iter()
            .position(|j| j.first <= line && line <= j.last)
    }

    /// Whether a job runs anything but `echo`: a line that is not a bare
    /// YAML key (`runs-on: …`, `needs: …`), or a `run`/`script`/`uses` key
    /// with a value.
    pub fn job_does_something(&self, job: usize) -> bool {
        let j = &self.jobs[job];
        self.runs
            .iter()
            .filter(|r| r.via.is_none() && j.first <= r.line && r.line <= j.last)
            .any(|r| is_command(&r.text))
    }
}

fn re(cell: &'static OnceLock<Regex>, pattern: &str) -> &'static Regex {
    cell.get_or_init(|| Regex::new(pattern).expect("valid regex"))
}

/// A YAML list item marker and the keys whose value is a command.
fn command_body(line: &str) -> &str {
    static KEY: OnceLock<Regex> = OnceLock::new();
    let t = line.trim_start().trim_start_matches("- ").trim_start();
    let key = re(
        &KEY,
        r"^(run|script|sh|bash|pwsh|powershell|command|commands|cmd)\s*:\s*",
    );
    match key.find(t) {
        Some(m) => &t[m.end()..],
        None => t,
    }
}

fn is_command(text: &str) -> bool {
    static YAML_KEY: OnceLock<Regex> = OnceLock::new();
    static COMMAND_KEY: OnceLock<Regex> = OnceLock::new();
    let t = text.trim_start().trim_start_matches("- ").trim_start();
    if t.is_empty() || matches!(t, "|" | ">" | "|-" | ">-") {
        return false;
    }
    if re(
        &COMMAND_KEY,
        r"^(run|script|uses|sh|bash|pwsh|powershell|command|commands)\s*:\s*[^\s|>]",
    )
    .is_match(t)
    {
        return true;
    }
    !re(&YAML_KEY, r"^[\w.$/-]+\s*:(\s|$)").is_match(t)
}

/// Whether a line only prints: an `echo` or `printf` (words, not practices).
fn is_echo(line: &str) -> bool {
    static ECHO: OnceLock<Regex> = OnceLock::new();
    re(&ECHO, r"^['\x22]?(echo|printf|Write-Host)\b").is_match(command_body(line).trim_start())
}

fn is_comment(line: &str) -> bool {
    let t = line.trim_start();
    t.starts_with('#') || t.starts_with("//")
}

fn indent(line: &str) -> usize {
    line.len() - line.trim_start().len()
}

/// Reads the pipeline file `path` and what it leads to. `None` when it cannot be read.
pub fn read(files: &RepoFiles, path: &str) -> Option<Pipeline> {
    let text = files.read(path)?;
    let lines: Vec<&str> = text.lines().collect();
    let env = variables(&lines);
    let mut follow = Follow {
        files,
        texts: HashMap::new(),
    };
    let mut runs = Vec::new();
    for (i, raw) in lines.iter().enumerate() {
        let n = i + 1;
        if raw.trim().is_empty() || is_comment(raw) || is_echo(raw) {
            continue;
        }
        let (expanded, env_line) = substitute(raw, &env);
        runs.extend(
            follow
                .targets(&expanded)
                .into_iter()
                .map(|(via, text)| Run {
                    line: n,
                    text,
                    via: Some(via),
                    written: None,
                }),
        );
        runs.push(Run {
            line: n,
            text: expanded,
            via: env_line.map(|line| Via {
                path: path.to_string(),
                line,
            }),
            written: env_line.map(|_| raw.to_string()),
        });
    }
    Some(Pipeline {
        path: path.to_string(),
        runs,
        jobs: jobs(path, &lines),
    })
}

/// The variables set in `env:` (GitHub Actions, workflow, job or step level)
/// and `variables:` (GitLab, Azure) blocks: name → (value, line). A name
/// set twice keeps its first value.
fn variables(lines: &[&str]) -> BTreeMap<String, (String, usize)> {
    static BLOCK: OnceLock<Regex> = OnceLock::new();
    static PAIR: OnceLock<Regex> = OnceLock::new();
    let block = re(&BLOCK, r"^\s*-?\s*(env|variables)\s*:\s*$");
    let pair = re(&PAIR, r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*:\s*(.*?)\s*$");
    let mut out = BTreeMap::new();
    let mut i = 0;
    while i < lines.len() {
        if !block.is_match(lines[i]) {
            i += 1;
            continue;
        }
        let key_indent = indent(lines[i]);
        let mut child_indent = None;
        i += 1;
        while i < lines.len() {
            let l = lines[i];
            if l.trim().is_empty() || is_comment(l) {
                i += 1;
                continue;
            }
            let ind = indent(l);
            if ind <= key_indent {
                break;
            }
            let child = *child_indent.get_or_insert(ind);
            if ind == child {
                if let Some(c) = pair.captures(l) {
                    let value = c[2]
                        .split(" #")
                        .next()
                        .unwrap_or("")
                        .trim()
                        .trim_matches(['"', '\''])
                        .to_string();
                    if !value.is_empty() && !value.starts_with(['|', '>', '{', '[']) {
                        out.entry(c[1].to_string()).or_insert((value, i + 1));
                    }
                }
            }
            i += 1;
        }
    }
    out
}

/// `line` with the pipeline's variables replaced (`${{ env.X }}`, `$X`,
/// `${X}`, `$(X)`), and the line of the first variable replaced.
fn substitute(line: &str, env: &BTreeMap<String, (String, usize)>) -> (String, Option<usize>) {
    static VAR: OnceLock<Regex> = OnceLock::new();
    if env.is_empty() || !line.contains('$') {
        return (line.to_string(), None);
    }
    let var = re(
        &VAR,
        r"\$\{\{\s*env\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}|\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$\(([A-Za-z_][A-Za-z0-9_]*)\)|\$([A-Za-z_][A-Za-z0-9_]*)",
    );
    let mut first = None;
    let out = var.replace_all(line, |c: &regex::Captures| {
        let name = (1..=4)
            .find_map(|g| c.get(g))
            .map(|m| m.as_str())
            .unwrap_or("");
        match env.get(name) {
            Some((value, at)) => {
                first.get_or_insert(*at);
                value.clone()
            }
            None => c[0].to_string(),
        }
    });
    (out.into_owned(), first)
}

/// The jobs of a pipeline: the children of a top-level `jobs:` (GitHub
/// Actions, CircleCI), the top-level keys of a GitLab pipeline, else the whole
/// file as one unnamed job.
fn jobs(path: &str, lines: &[&str]) -> Vec<Job> {
    static KEY: OnceLock<Regex> = OnceLock::new();
    static STAGE: OnceLock<Regex> = OnceLock::new();
    let key = re(&KEY, r"^(\s*)([\w.-][\w. /-]*?)\s*:\s*(#.*)?$");
    let stage = re(&STAGE, r"^\s*stage\s*:\s*['\x22]?([\w-]+)");
    let whole = vec![Job {
        name: String::new(),
        line: 0,
        stage: None,
        first: 1,
        last: lines.len(),
    }];
    let gitlab = path.ends_with(".gitlab-ci.yml");
    let (parent_indent, start) = if gitlab {
        (None, 0)
    } else {
        match lines.iter().position(|l| l.trim_end() == "jobs:") {
            Some(p) => (Some(0), p + 1),
            None => return whole,
        }
    };
    const GITLAB_KEYWORDS: &[&str] = &[
        "stages",
        "variables",
        "include",
        "default",
        "workflow",
        "image",
        "services",
        "before_script",
        "after_script",
        "cache",
    ];
    let mut out: Vec<Job> = Vec::new();
    let mut child_indent = None;
    for (i, l) in lines.iter().enumerate().skip(start) {
        if l.trim().is_empty() || is_comment(l) {
            continue;
        }
        let ind = indent(l);
        if let Some(p) = parent_indent {
            if ind <= p {
                if let Some(job) = out.last_mut() {
                    job.last = i;
                }
                break;
            }
        }
        let child = *child_indent.get_or_insert(ind);
        if ind == child {
            if let Some(job) = out.last_mut() {
                job.last = i;
            }
            if let Some(c) = key.captures(l) {
                let name = c[2].to_string();
                if !(gitlab && (GITLAB_KEYWORDS.contains(&name.as_str()) || name.starts_with('.')))
                {
                    out.push(Job {
                        name,
                        line: i + 1,
                        stage: None,
                        first: i + 1,
                        last: lines.len(),
                    });
                }
            }
        } else if let Some(job) = out.last_mut() {
            if job.stage.is_none() {
                if let Some(c) = stage.captures(l) {
                    job.stage = Some((c[1].to_string(), i + 1));
                }
            }
        }
    }
    if out.is_empty() {
        whole
    } else {
        out
    }
}

/// Follows a pipeline line to the files it leads to, reading each file once.
struct Follow<'a> {
    files: &'a RepoFiles,
    texts: HashMap<String, Option<String>>,
}

impl Follow<'_> {
    fn text(&mut self, path: &str) -> Option<String> {
        let files = self.files;
        self.texts
            .entry(path.to_string())
            .or_insert_with(|| {
                files
                    .paths
                    .binary_search_by(|p| p.as_str().cmp(path))
                    .ok()
                    .and_then(|_| files.read(path))
            })
            .clone()
    }

    fn exists(&self, path: &str) -> bool {
        self.files
            .paths
            .binary_search_by(|p| p.as_str().cmp(path))
            .is_ok()
    }

    /// The lines `line` leads to: (where, text), in that file's order.
    fn targets(&mut self, line: &str) -> Vec<(Via, String)> {
        let body = command_body(line);
        let mut out = Vec::new();
        out.extend(self.make(body));
        out.extend(self.package_scripts(body));
        out.extend(self.scripts(line));
        out.extend(self.local_action(line));
        out.extend(self.config_runners(line));
        out.extend(self.build_files(body));
        out
    }

    /// `make [-C dir] [-f file] target…`: the recipes of the targets and of
    /// their prerequisites.
    fn make(&mut self, line: &str) -> Vec<(Via, String)> {
        static MAKE: OnceLock<Regex> = OnceLock::new();
        let make = re(
            &MAKE,
            r"(?:^|[\s;&|(])(?:g?make|\$\(MAKE\)|\$\{MAKE\})\s+([^;&|#>]*)",
        );
        let mut out = Vec::new();
        for c in make.captures_iter(line) {
            let mut dir = String::new();
            let mut file = None;
            let mut targets = Vec::new();
            let mut tokens = c[1].split_whitespace();
            while let Some(t) = tokens.next() {
                match t {
                    "-C" | "--directory" => dir = tokens.next().unwrap_or("").to_string(),
                    "-f" | "--file" | "--makefile" => file = tokens.next().map(str::to_string),
                    "-j" | "--jobs" | "-l" => {}
                    _ if t.starts_with("--directory=") => {
                        dir = t["--directory=".len()..].to_string()
                    }
                    _ if t.starts_with("-C") => dir = t[2..].to_string(),
                    _ if t.starts_with("--file=") => file = Some(t["--file=".len()..].to_string()),
                    _ if t.starts_with('-') || t.contains('=') => {}
                    _ if t.chars().all(|ch| ch.is_ascii_digit()) => {}
                    _ => targets.push(t.to_string()),
                }
            }
            let dir = clean(&dir);
            let candidates: Vec<String> = match &file {
                Some(f) => vec![join(&dir, f)],
                None => ["Makefile", "makefile", "GNUmakefile"]
                    .iter()
                    .map(|m| join(&dir, m))
                    .collect(),
            };
            let Some(path) = candidates.into_iter().find(|p| self.exists(p)) else {
                continue;
            };
            let Some(text) = self.text(&path) else {
                continue;
            };
            for (line, recipe) in make_recipes(&text, &targets) {
                out.push((
                    Via {
                        path: path.clone(),
                        line,
                    },
                    recipe,
                ));
            }
        }
        out
    }

    /// `npm test`, `npm run X`, `yarn X`, `pnpm X`, `bun run X`: the script's
    /// line of `package.json` (in `--prefix`/`--cwd`/`-C` dir, else the root).
    fn package_scripts(&mut self, line: &str) -> Vec<(Via, String)> {
        static RUNNER: OnceLock<Regex> = OnceLock::new();
        let runner = re(&RUNNER, r"(?:^|[\s;&|(])(npm|yarn|pnpm|bun)\s+([^;&|#>]*)");
        let mut out = Vec::new();
        for c in runner.captures_iter(line) {
            let tool = &c[1];
            let mut dir = String::new();
            let mut words = Vec::new();
            let mut tokens = c[2].split_whitespace();
            while let Some(t) = tokens.next() {
                match t {
                    "--prefix" | "--cwd" | "-C" | "--dir" => {
                        dir = tokens.next().unwrap_or("").to_string()
                    }
                    _ if t.starts_with("--prefix=") || t.starts_with("--cwd=") => {
                        dir = t.split_once('=').map(|x| x.1).unwrap_or("").to_string()
                    }
                    _ if t.starts_with('-') => {}
                    _ => words.push(t),
                }
            }
            let script = match (tool, words.as_slice()) {
                (_, ["run" | "run-script", name, ..]) => name.to_string(),
                ("npm", ["test" | "t" | "tst", ..]) => "test".to_string(),
                ("npm", ["start", ..]) => "start".to_string(),
                ("yarn" | "pnpm", [name, ..]) => name.to_string(),
                _ => continue,
            };
            let path = join(&clean(&dir), "package.json");
            let Some(text) = self.text(&path) else {
                continue;
            };
            if let Some((line, value)) = package_script(&text, &script) {
                out.push((Via { path, line }, value));
            }
        }
        out
    }

    /// A shell script the line calls (`./scripts/run-tests.sh`, `bash
    /// .github/ci.sh`): its commands. Only a command's first word (after
    /// `bash`, `sh`, `source`, …) is a script: `docker build -f ./Dockerfile`
    /// does not run the Dockerfile.
    fn scripts(&mut self, line: &str) -> Vec<(Via, String)> {
        static SEPARATOR: OnceLock<Regex> = OnceLock::new();
        static PREFIX: OnceLock<Regex> = OnceLock::new();
        let separator = re(&SEPARATOR, r"&&|\|\||;|\|");
        let prefix = re(
            &PREFIX,
            r#"^(\$\{\{\s*github\.workspace\s*\}\}/|\$GITHUB_WORKSPACE/|\$\{GITHUB_WORKSPACE\}/|\$CI_PROJECT_DIR/)"#,
        );
        let mut out = Vec::new();
        for segment in separator.split(command_body(line)) {
            let mut words = segment
                .split_whitespace()
                .map(|w| w.trim_matches(['"', '\'', '(', ')']))
                .skip_while(|w| {
                    matches!(
                        *w,
                        "bash" | "sh" | "zsh" | "source" | "." | "exec" | "time" | "sudo" | "env"
                    ) || w.starts_with('-')
                        || w.contains('=')
                });
            let Some(word) = words.next() else { continue };
            let word = prefix.replace(word, "");
            let is_script = word.ends_with(".sh") || word.ends_with(".bash");
            if !is_script && !word.starts_with("./") {
                continue;
            }
            let path = clean(&word);
            if path.ends_with(".yml") || path.ends_with(".yaml") || !self.exists(&path) {
                continue;
            }
            let Some(text) = self.text(&path) else {
                continue;
            };
            out.extend(commands_of(&path, &text));
        }
        out
    }

    /// Maven and Gradle run the plugins their build file declares (a
    /// checkstyle or JaCoCo plugin bound to the build), rake the tasks of its
    /// Rakefile: the build file's lines.
    fn build_files(&mut self, line: &str) -> Vec<(Via, String)> {
        static BUILD: OnceLock<Regex> = OnceLock::new();
        let build = re(
            &BUILD,
            r"(?:^|[\s;&|(/])(mvnw?|gradlew?|rake)(?:\.cmd)?(\s|$)",
        );
        let Some(c) = build.captures(line) else {
            return Vec::new();
        };
        let names: &[&str] = if c[1].starts_with("mvn") {
            &["pom.xml"]
        } else if c[1].starts_with("rake") {
            &["Rakefile", "rakefile", "Rakefile.rb"]
        } else {
            &["build.gradle", "build.gradle.kts"]
        };
        for name in names {
            if let Some(text) = self.text(name) {
                return commands_of(name, &text);
            }
        }
        Vec::new()
    }

    /// `uses: ./.github/actions/x`: the lines of that action;
    /// `uses: ./.github/workflows/x.yml`: the lines of that reusable workflow.
    fn local_action(&mut self, line: &str) -> Vec<(Via, String)> {
        static USES: OnceLock<Regex> = OnceLock::new();
        let uses = re(&USES, r"^\s*-?\s*uses\s*:\s*['\x22]?\./([^\s'\x22#]+)");
        let Some(c) = uses.captures(line) else {
            return Vec::new();
        };
        let dir = clean(&c[1]);
        if dir.ends_with(".yml") || dir.ends_with(".yaml") {
            return match self.text(&dir) {
                Some(text) => commands_of(&dir, &text),
                None => Vec::new(),
            };
        }
        for name in ["action.yml", "action.yaml"] {
            let path = join(&dir, name);
            if let Some(text) = self.text(&path) {
                return commands_of(&path, &text);
            }
        }
        Vec::new()
    }

    /// Tools whose commands live in their own configuration: pre-commit
    /// (`.pre-commit-config.yaml`), tox (`tox.ini`), nox (`noxfile.py`).
    fn config_runners(&mut self, line: &str) -> Vec<(Via, String)> {
        static RUNNERS: OnceLock<Regex> = OnceLock::new();
        let runners = re(
            &RUNNERS,
            r"\bpre-commit(\s+run\b|/action@)|(^|[\s;&|(])(tox|nox)(\s|$)",
        );
        let Some(c) = runners.captures(command_body(line)) else {
            return Vec::new();
        };
        let path = match c.get(4).map(|m| m.as_str()) {
            Some("tox") => "tox.ini",
            Some("nox") => "noxfile.py",
            _ => ".pre-commit-config.yaml",
        };
        match self.text(path) {
            Some(text) => commands_of(path, &text),
            None => Vec::new(),
        }
    }
}

/// The lines of a file that may run something: not blank, not a comment, not an echo.
fn commands_of(path: &str, text: &str) -> Vec<(Via, String)> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty() && !is_comment(l) && !is_echo(l))
        .map(|(i, l)| {
            (
                Via {
                    path: path.to_string(),
                    line: i + 1,
                },
                l.trim().to_string(),
            )
        })
        .collect()
}

/// `dir/name` with `./` and `..` resolved; empty dir is the root.
fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        clean(name)
    } else {
        clean(&format!("{dir}/{name}"))
    }
}

/// A repository path from a path written in a pipeline: no `./`, `..` resolved.
fn clean(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for p in path.trim_matches(['"', '\'']).split('/') {
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

/// A Makefile target's prerequisites and recipe lines (line, text).
type MakeRule = (Vec<String>, Vec<(usize, String)>);

/// The recipe lines (line, text with the Makefile's variables replaced) of
/// `targets` and of their prerequisites; no target means the first one.
fn make_recipes(text: &str, targets: &[String]) -> Vec<(usize, String)> {
    static RULE: OnceLock<Regex> = OnceLock::new();
    static ASSIGN: OnceLock<Regex> = OnceLock::new();
    let rule = re(&RULE, r"^([^\s:#=][^:=#]*?)\s*::?(?:\s+([^=].*)|\s*)$");
    let assign = re(
        &ASSIGN,
        r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*(?:\?|:|::|\+)?=\s*(.*?)\s*$",
    );
    let lines: Vec<&str> = text.lines().collect();
    let mut vars: BTreeMap<String, String> = BTreeMap::new();
    let mut rules: BTreeMap<String, MakeRule> = BTreeMap::new();
    let mut first_target = None;
    let mut current: Vec<String> = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        if l.starts_with('\t') {
            let recipe = l.trim();
            if recipe.is_empty() || recipe.starts_with('#') {
                continue;
            }
            for t in &current {
                if let Some(r) = rules.get_mut(t) {
                    r.1.push((i + 1, recipe.to_string()));
                }
            }
            continue;
        }
        if l.trim().is_empty() || l.trim_start().starts_with('#') {
            continue;
        }
        if let Some(c) = assign.captures(l) {
            vars.entry(c[1].to_string())
                .or_insert_with(|| c[2].to_string());
            current.clear();
            continue;
        }
        if let Some(c) = rule.captures(l) {
            let names: Vec<String> = c[1].split_whitespace().map(str::to_string).collect();
            let prereqs: Vec<String> = c
                .get(2)
                .map(|m| {
                    m.as_str()
                        .split(';')
                        .next()
                        .unwrap_or("")
                        .split_whitespace()
                        .filter(|p| *p != "|")
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default();
            current = names
                .iter()
                .filter(|n| !n.starts_with('.'))
                .cloned()
                .collect();
            for n in &current {
                first_target.get_or_insert_with(|| n.clone());
                rules
                    .entry(n.clone())
                    .or_default()
                    .0
                    .extend(prereqs.iter().cloned());
            }
            continue;
        }
        current.clear();
    }
    let wanted: Vec<String> = if targets.is_empty() {
        first_target.into_iter().collect()
    } else {
        targets.to_vec()
    };
    let mut order: Vec<String> = Vec::new();
    for t in &wanted {
        if let Some((prereqs, _)) = rules.get(t) {
            order.push(t.clone());
            order.extend(prereqs.iter().cloned());
        }
    }
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    for t in order {
        if !seen.insert(t.clone()) {
            continue;
        }
        if let Some((_, recipe)) = rules.get(&t) {
            for (n, r) in recipe {
                if is_echo(r.trim_start_matches(['@', '-', '+'])) {
                    continue;
                }
                out.push((*n, make_vars(r, &vars)));
            }
        }
    }
    out
}

/// A recipe line with `$(NAME)` / `${NAME}` replaced by the Makefile's values.
fn make_vars(recipe: &str, vars: &BTreeMap<String, String>) -> String {
    static VAR: OnceLock<Regex> = OnceLock::new();
    let var = re(&VAR, r"\$[({]([A-Za-z_][A-Za-z0-9_]*)[)}]");
    var.replace_all(
        recipe.trim_start_matches(['@', '-', '+']),
        |c: &regex::Captures| vars.get(&c[1]).cloned().unwrap_or_else(|| c[0].to_string()),
    )
    .into_owned()
}

/// The line and value of script `name` in a `package.json`.
fn package_script(text: &str, name: &str) -> Option<(usize, String)> {
    let json: serde_json::Value = serde_json::from_str(text).ok()?;
    let value = json.get("scripts")?.get(name)?.as_str()?.to_string();
    let key = format!("\"{name}\"");
    let start = text.lines().position(|l| l.contains("\"scripts\""))?;
    let line = text
        .lines()
        .enumerate()
        .skip(start)
        .find(|(_, l)| {
            l.trim_start()
                .strip_prefix(&key)
                .is_some_and(|rest| rest.trim_start().starts_with(':'))
        })
        .map(|(i, _)| i + 1)?;
    Some((line, value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn make_recipes_follow_prerequisites_and_variables() {
        let mk = "GO ?= go\n.PHONY: test\n\ntest: vet\n\t$(GO) test ./...\nvet:\n\t@go vet ./...\n\t@echo done\ncheck-license:\n\t./license.sh\n";
        assert_eq!(
            make_recipes(mk, &["test".into()]),
            vec![(5, "go test ./...".into()), (7, "go vet ./...".into())]
        );
        assert_eq!(make_recipes(mk, &[]), make_recipes(mk, &["test".into()]));
        assert_eq!(make_recipes(mk, &["check".into()]), vec![]);
    }

    #[test]
    fn variables_and_substitution() {
        let lines = [
            "env:",
            "  CARGO: cargo",
            "  RUST_BACKTRACE: 1",
            "jobs:",
            "  t:",
            "    steps:",
            "    - run: ${{ env.CARGO }} test --verbose",
        ];
        let env = variables(&lines);
        assert_eq!(env["CARGO"], ("cargo".to_string(), 2));
        assert_eq!(
            substitute(lines[6], &env),
            ("    - run: cargo test --verbose".to_string(), Some(2))
        );
        assert_eq!(substitute("$HOME/x", &env), ("$HOME/x".to_string(), None));
    }

    #[test]
    fn package_script_line() {
        let pkg = "{\n  \"name\": \"x\",\n  \"scripts\": {\n    \"lint\": \"eslint .\",\n    \"test\": \"jest --coverage\"\n  }\n}\n";
        assert_eq!(
            package_script(pkg, "test"),
            Some((5, "jest --coverage".into()))
        );
        assert_eq!(package_script(pkg, "build"), None);
    }

    #[test]
    fn jobs_of_github_and_gitlab() {
        let gh = [
            "on:",
            "  release:",
            "    types: [published]",
            "jobs:",
            "  build:",
            "    runs-on: x",
            "  deploy:",
            "    steps:",
            "      - run: echo hi",
        ];
        let j = jobs(".github/workflows/x.yml", &gh);
        assert_eq!(
            j.iter()
                .map(|j| (j.name.as_str(), j.first, j.last))
                .collect::<Vec<_>>(),
            vec![("build", 5, 6), ("deploy", 7, 9)]
        );
        let gl = [
            "stages: [test, deploy]",
            "variables:",
            "  X: y",
            ".tpl:",
            "  image: a",
            "ship:",
            "  stage: deploy",
            "  script:",
            "    - ./deploy.sh",
        ];
        let j = jobs(".gitlab-ci.yml", &gl);
        assert_eq!(j.len(), 1);
        assert_eq!(j[0].name, "ship");
        assert_eq!(j[0].stage, Some(("deploy".to_string(), 7)));
        assert_eq!((j[0].first, j[0].last), (6, 9));
    }

    #[test]
    fn echoes_and_keys_are_not_commands() {
        assert!(is_echo("      - run: echo \"deploying\""));
        assert!(is_echo("  - echo kubectl apply"));
        assert!(!is_command("    runs-on: ubuntu-latest"));
        assert!(is_command("      - run: ./deploy.sh"));
        assert!(is_command("      - uses: actions/deploy-pages@v4"));
        assert!(is_command("        kubectl apply -f k8s/"));
        assert!(!is_command("        run: |"));
    }
}
