//! The shape of the code (docs/ARCHITECTURE.md), checked so it stays: the
//! top-level modules of `src/` import each other without cycles, and only
//! the command line (`cli`) reaches into `cmd` — the library (and so `site`)
//! never does.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Top-level module → the top-level modules its code names (`crate::x`),
/// comments left out.
fn imports() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for entry in walkdir::WalkDir::new(&src) {
        let entry = entry.unwrap();
        let path = entry.path();
        if path.extension().and_then(|e| e.to_str()) != Some("rs") {
            continue;
        }
        let rel = path.strip_prefix(&src).unwrap();
        let first = rel
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy();
        let module = first.trim_end_matches(".rs").to_string();
        let text = std::fs::read_to_string(path).unwrap();
        let targets = graph.entry(module.clone()).or_default();
        for line in text.lines() {
            let code = line.split("//").next().unwrap_or("");
            let mut rest = code;
            while let Some(i) = rest.find("crate::") {
                rest = &rest[i + "crate::".len()..];
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                if !name.is_empty() && name != module {
                    targets.insert(name);
                }
            }
        }
    }
    graph
}

#[test]
fn only_the_command_line_imports_cmd() {
    let graph = imports();
    let importers: Vec<&String> = graph
        .iter()
        .filter(|(m, targets)| targets.contains("cmd") && m.as_str() != "cli")
        .map(|(m, _)| m)
        .collect();
    assert!(
        importers.is_empty(),
        "these modules import cmd (only cli may): {importers:?}"
    );
}

#[test]
fn top_level_modules_import_each_other_without_cycles() {
    let graph = imports();
    // Depth-first search for a back edge; the cycle is reported as a path.
    fn visit<'a>(
        m: &'a str,
        graph: &'a BTreeMap<String, BTreeSet<String>>,
        state: &mut BTreeMap<&'a str, u8>,
        path: &mut Vec<&'a str>,
    ) -> Option<Vec<String>> {
        state.insert(m, 1);
        path.push(m);
        for t in graph.get(m).into_iter().flatten() {
            match state.get(t.as_str()) {
                Some(1) => {
                    let start = path.iter().position(|p| p == t).unwrap();
                    let mut cycle: Vec<String> =
                        path[start..].iter().map(|s| s.to_string()).collect();
                    cycle.push(t.clone());
                    return Some(cycle);
                }
                Some(_) => {}
                None => {
                    if let Some(c) = visit(t, graph, state, path) {
                        return Some(c);
                    }
                }
            }
        }
        path.pop();
        state.insert(m, 2);
        None
    }
    let mut state = BTreeMap::new();
    for m in graph.keys() {
        if !state.contains_key(m.as_str()) {
            if let Some(cycle) = visit(m, &graph, &mut state, &mut Vec::new()) {
                panic!("import cycle: {}", cycle.join(" → "));
            }
        }
    }
    // The library's stages are all there, so the check checks something.
    for stage in ["assess", "collect", "sources", "metrics", "model", "site"] {
        assert!(graph.contains_key(stage), "no module {stage}");
    }
}
