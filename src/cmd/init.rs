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
# Every page, report and the handbook in each language; "zh" is served under /zh/.
# content/<page>.zh.md is the Chinese version of content/<page>.md.
languages = ["en", "zh"]
# The DevOps handbook built into opsmeter, at /guide/. A file
# content/guide/<chapter>.md replaces that chapter; new files add chapters.
handbook = true

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

/// The home page in Chinese, for a site that adds `zh` to its languages.
const HOME_ZH: &str = r#"+++
title = "DevOps 仪表盘"
description = "我们各代码仓库的交付指标与 DevOps 实践。"
+++

欢迎。本站由 [opsmeter](https://crates.io/crates/opsmeter) 根据 `content/` 中的
Markdown 文件构建。请从[入门](@/getting-started.md)开始。
"#;

const FIRST_PAGE_ZH: &str = r#"+++
title = "入门"
description = "本站的组织方式，以及如何添加页面。"
weight = 10
+++

## 添加页面

在 `content/` 下创建 Markdown 文件，在 `+++` 行之间写 TOML 格式的头信息：

```toml
+++
title = "发布检查清单"
weight = 20
+++
```

中文版本放在同名的 `.zh.md` 文件中（如 `release.zh.md`）。用页面在 `content/` 中的路径
链接其他页面，例如 `[首页](@/_index.md)`；`opsmeter check` 会报告所有无法解析的链接。

## 覆盖主题

把默认主题的模板以同样的名字复制到 `templates/`（例如 `templates/page.html`）
再修改；主题的其余部分保持不变。
"#;

pub fn run(dir: Option<PathBuf>) -> Result<()> {
    let dir = dir.unwrap_or_else(|| PathBuf::from("."));
    let created = scaffold(&dir)?;
    for p in &created {
        crate::output::line(format_args!("created {}", p.display()));
    }
    crate::output::line(format_args!(
        "The site includes the DevOps handbook at /guide/ (built into opsmeter; \
         `handbook = false` in opsmeter.toml leaves it out, and content/guide/<chapter>.md \
         replaces one chapter)"
    ));
    crate::output::line(format_args!("Next: cd {} && opsmeter build", dir.display()));
    Ok(())
}

/// Writes the scaffold into `dir` and returns what it created. Nothing is
/// written when any of the files already exists.
pub fn scaffold(dir: &Path) -> Result<Vec<PathBuf>> {
    let files: [(&str, &str); 5] = [
        (crate::config::CONFIG_FILE, CONFIG),
        ("content/_index.md", HOME),
        ("content/_index.zh.md", HOME_ZH),
        ("content/getting-started.md", FIRST_PAGE),
        ("content/getting-started.zh.md", FIRST_PAGE_ZH),
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
