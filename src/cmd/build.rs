//! `opsmeter build`: render the site into `public/` (or `--output`).

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Result;

use crate::config::site_root;
use crate::site::build::{build, BuildOptions};

pub fn run(
    root: Option<PathBuf>,
    output: Option<PathBuf>,
    drafts: bool,
    dashboards: crate::site::dashboards::DashboardOptions,
) -> Result<()> {
    let root = site_root(root.as_deref())?;
    let output = match output {
        Some(o) if o.is_absolute() => o,
        Some(o) => std::env::current_dir()?.join(o),
        None => root.join("public"),
    };
    let started = Instant::now();
    let summary = build(&BuildOptions {
        root,
        output: output.clone(),
        drafts,
        dashboards,
    })?;
    crate::output::line(format_args!(
        "Built {} pages, {} sections and {} repository reports ({} files) into {} in {} ms",
        summary.pages,
        summary.sections,
        summary.reports,
        summary.files,
        output.display(),
        started.elapsed().as_millis()
    ));
    Ok(())
}
