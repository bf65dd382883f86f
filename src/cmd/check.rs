//! `opsmeter check`: build in memory, write nothing, report every broken
//! internal link, missing anchor, missing image and template error.

use std::path::PathBuf;

use anyhow::Result;

use crate::config::site_root;
use crate::diagnostics::Diagnostics;
use crate::site::build::Site;
use crate::site::links;

pub fn run(root: Option<PathBuf>, drafts: bool) -> Result<()> {
    let root = site_root(root.as_deref())?;
    let mut site = Site::load(&root, drafts)?;
    let mut problems = site.render_markdown();
    problems.extend(links::check(&site));
    problems.extend(links::check_translations(&site));
    problems.extend(links::check_practice_chapters(&site));
    problems.extend(links::check_path_links(&site));
    problems.extend(links::check_model_texts(&site));
    if let Err(mut p) = site.render_pages() {
        problems.append(&mut p);
    }
    if !problems.is_empty() {
        problems.sort();
        problems.dedup();
        return Err(Diagnostics(problems).into());
    }
    let summary = site.summary(0);
    let links: usize = site
        .content
        .entries
        .iter()
        .map(|e| e.rendered.links.len())
        .sum();
    let images: usize = site
        .content
        .entries
        .iter()
        .map(|e| e.rendered.images.len())
        .sum();
    crate::output::line(format_args!(
        "Checked {} pages and {} sections: {} internal links and {} images, no problems",
        summary.pages, summary.sections, links, images
    ));
    Ok(())
}
