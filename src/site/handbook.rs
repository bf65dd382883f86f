//! The DevOps handbook, built into the binary like the default theme, so every
//! site has it at `/guide/` (and `/<lang>/guide/` for each configured language
//! it has chapters in) unless `handbook = false`. The source stays in this
//! repository's `content/guide/`. A site's own `content/guide/<chapter>.md` (or
//! `.<lang>.md`) replaces that one chapter in that language; a site may add
//! chapters of its own beside the built-in ones.

/// The folder the chapters live in, inside `content/`.
pub const FOLDER: &str = "guide";

/// Where messages say a built-in chapter comes from.
pub const ORIGIN: &str = "<built-in handbook>";

macro_rules! chapters {
    ([$($name:literal),* $(,)?]) => {
        &[$(($name, include_str!(concat!("../../content/guide/", $name)))),*]
    };
}

/// The handbook's files by name inside `content/guide/`: `testing.md` (English),
/// `testing.zh.md` (Chinese), `_index.md` (the section).
pub const FILES: &[(&str, &str)] = chapters!([
    "_index.md",
    "_index.zh.md",
    "agile-scrum.md",
    "agile-scrum.zh.md",
    "aws-developer-tools.md",
    "aws-developer-tools.zh.md",
    "containers.md",
    "containers.zh.md",
    "continuous-deployment.md",
    "continuous-deployment.zh.md",
    "continuous-integration.md",
    "continuous-integration.zh.md",
    "delivery-pipeline.md",
    "delivery-pipeline.zh.md",
    "deployment-vs-release.md",
    "deployment-vs-release.zh.md",
    "dora-metrics.md",
    "dora-metrics.zh.md",
    "infrastructure-as-code.md",
    "infrastructure-as-code.zh.md",
    "kubernetes.md",
    "kubernetes.zh.md",
    "microservices.md",
    "microservices.zh.md",
    "monitoring.md",
    "monitoring.zh.md",
    "testing.md",
    "testing.zh.md",
    "version-control.md",
    "version-control.zh.md",
    "what-is-devops.md",
    "what-is-devops.zh.md",
]);

/// The language of a built-in file, from its name: `testing.zh.md` → `zh`,
/// `testing.md` → `en` (the handbook is written in English first), and its
/// language-neutral content key (`guide/testing.md`).
pub fn key_and_language(name: &str) -> (String, &str) {
    let stem = name.trim_end_matches(".md");
    match stem.rsplit_once('.') {
        Some((base, lang)) => (format!("{FOLDER}/{base}.md"), lang),
        None => (format!("{FOLDER}/{stem}.md"), "en"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_file_of_content_guide_is_built_in() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("content/guide");
        let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".md"))
            .collect();
        on_disk.sort();
        let built_in: Vec<String> = FILES.iter().map(|(n, _)| n.to_string()).collect();
        assert_eq!(built_in, on_disk, "add new chapters to handbook::FILES");
        for (name, text) in FILES {
            let on_disk = std::fs::read_to_string(dir.join(name)).unwrap();
            assert_eq!(*text, on_disk, "{name}");
        }
    }

    #[test]
    fn file_names_give_key_and_language() {
        assert_eq!(
            key_and_language("testing.md"),
            ("guide/testing.md".to_string(), "en")
        );
        assert_eq!(
            key_and_language("testing.zh.md"),
            ("guide/testing.md".to_string(), "zh")
        );
        assert_eq!(
            key_and_language("_index.zh.md"),
            ("guide/_index.md".to_string(), "zh")
        );
    }
}
