//! `opsmeter init [DIR]`: scaffold a new site. Refuses to overwrite anything.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

const CONFIG: &str = r#"# opsmeter site configuration. Every key is optional; see the README for all of them.
title = "DevOps dashboard"
description = "Delivery metrics and DevOps practices of our repositories."
# Where the site will be published; its path prefixes every link.
base_url = "/"
theme = "default"
default_language = "en"
languages = ["en"]

[extra]
"#;

const HOME: &str = r#"+++
title = "DevOps dashboard"
description = "Delivery metrics and DevOps practices of our repositories."
+++

Welcome. This site is built by [opsmeter](https://crates.io/crates/opsmeter) from the
Markdown files in `content/`. Start with [Getting started](@/getting-started.md).
"#;

const FIRST_PAGE: &str = r#"+++
title = "Getting started"
description = "How this site is organised and how to add a page."
weight = 10
+++

## Adding a page

Create a Markdown file under `content/`, with TOML front matter between `+++` lines:

```toml
+++
title = "Release checklist"
weight = 20
+++
```

Link to other pages by their path in `content/`, for example
`[home](@/_index.md)`; `opsmeter check` reports any link that does not resolve.

## Overriding the theme

Copy a template of the default theme into `templates/` under the same name
(for example `templates/page.html`) and edit it; the rest of the theme stays as it is.
"#;

pub fn run(dir: Option<PathBuf>) -> Result<()> {
    let dir = dir.unwrap_or_else(|| PathBuf::from("."));
    let created = scaffold(&dir)?;
    for p in &created {
        crate::output::line(format_args!("created {}", p.display()));
    }
    crate::output::line(format_args!("Next: cd {} && opsmeter build", dir.display()));
    Ok(())
}

/// Writes the scaffold into `dir` and returns what it created. Nothing is
/// written when any of the files already exists.
pub fn scaffold(dir: &Path) -> Result<Vec<PathBuf>> {
    let files: [(&str, &str); 3] = [
        (crate::config::CONFIG_FILE, CONFIG),
        ("content/_index.md", HOME),
        ("content/getting-started.md", FIRST_PAGE),
    ];
    let existing: Vec<String> = files
        .iter()
        .map(|(p, _)| dir.join(p))
        .filter(|p| p.exists())
        .map(|p| p.display().to_string())
        .collect();
    if !existing.is_empty() {
        bail!(
            "refusing to overwrite existing files: {} (nothing was written)",
            existing.join(", ")
        );
    }
    let mut created = Vec::new();
    for (p, text) in files {
        let path = dir.join(p);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("creating {}", parent.display()))?;
        }
        std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
        created.push(path);
    }
    let templates = dir.join("templates");
    if !templates.exists() {
        std::fs::create_dir_all(&templates)
            .with_context(|| format!("creating {}", templates.display()))?;
        created.push(templates);
    }
    Ok(created)
}
