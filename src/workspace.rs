//! What every command loads once from the site root, before anything is
//! computed: the configuration, the probe catalogue (checked now, each glob
//! and pattern compiled when a probe first needs it), the maturity model (its
//! probe ids checked against the catalogue) and the benchmark editions. `build`,
//! `serve` (once per rebuild), `assess` and `collect` each load one and pass it
//! down, so no stage reads these files again.

use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::config::Config;
use crate::metrics::tiers::{Benchmarks, Edition};
use crate::model::Model;
use crate::probes::patterns::Catalogue;

/// A site root's configuration and data files, loaded and validated.
pub struct Workspace {
    pub root: PathBuf,
    pub config: Config,
    pub catalogue: Catalogue,
    pub model: Model,
    pub benchmarks: Benchmarks,
}

impl Workspace {
    /// Loads `opsmeter.toml` and `data/` (the site's copies, else the built-in ones).
    pub fn load(root: &Path) -> Result<Workspace> {
        let config = Config::load(root)?;
        let catalogue = Catalogue::load(root)?;
        let model = Model::load(root, &crate::probes::known_ids(&catalogue))?;
        let benchmarks = Benchmarks::load(root)?;
        Ok(Workspace {
            root: root.to_path_buf(),
            config,
            catalogue,
            model,
            benchmarks,
        })
    }

    /// The benchmark edition `id`, or the configured one: (id, edition).
    pub fn edition(&self, id: Option<&str>) -> Result<(String, &Edition)> {
        let id = id.unwrap_or(&self.config.dora.benchmarks).to_string();
        let edition = self.benchmarks.edition(&id)?;
        Ok((id, edition))
    }
}
