//! Benchmark editions: the thresholds that turn metric values into tiers,
//! read from `data/benchmarks.toml` (data, editable without recompiling).

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{anyhow, bail, Result};
use serde::{Deserialize, Serialize};

/// The built-in copy of `data/benchmarks.toml`.
pub const BUILTIN: &str = include_str!("../../data/benchmarks.toml");

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Tier {
    Low,
    Medium,
    High,
    Elite,
}

impl Tier {
    pub fn as_str(&self) -> &'static str {
        match self {
            Tier::Low => "low",
            Tier::Medium => "medium",
            Tier::High => "high",
            Tier::Elite => "elite",
        }
    }

    pub fn parse(s: &str) -> Option<Tier> {
        match s.to_ascii_lowercase().as_str() {
            "low" => Some(Tier::Low),
            "medium" => Some(Tier::Medium),
            "high" => Some(Tier::High),
            "elite" => Some(Tier::Elite),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Benchmarks {
    pub default: String,
    pub editions: BTreeMap<String, Edition>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Edition {
    /// The title in English (the JSON of `assess`, English pages).
    pub title: String,
    /// The title in other languages, by language code (`titles = { zh = "…" }`);
    /// a page in a language without one shows the English title, marked so.
    #[serde(default)]
    pub titles: BTreeMap<String, String>,
    pub recovery_measure: RecoveryMeasure,
    pub deployment_frequency: Vec<FrequencyRule>,
    pub lead_time: Vec<DurationRule>,
    pub change_failure_rate: Vec<RateRule>,
    pub recovery_time: Vec<DurationRule>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecoveryMeasure {
    RecoveryTime,
    TimeToRestore,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FrequencyMeasure {
    DeployDaysPerWeek,
    DeployDaysPerMonth,
    DeploymentsPerWeek,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FrequencyRule {
    pub tier: Tier,
    pub measure: FrequencyMeasure,
    #[serde(deserialize_with = "non_negative")]
    pub at_least: f64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DurationRule {
    pub tier: Tier,
    #[serde(deserialize_with = "non_negative")]
    pub below_hours: f64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateRule {
    pub tier: Tier,
    #[serde(deserialize_with = "rate")]
    pub at_most: f64,
}

/// A threshold: a finite number, 0 or more (`nan` would make every comparison
/// false and every value "low", silently). Checked as the file is read, so the
/// error names its line.
fn non_negative<'de, D: serde::Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    let v = f64::deserialize(d)?;
    if v.is_finite() && v >= 0.0 {
        Ok(v)
    } else {
        Err(serde::de::Error::custom(format!(
            "a threshold must be a finite number, 0 or more; got {v}"
        )))
    }
}

/// A rate threshold: from 0 to 1.
fn rate<'de, D: serde::Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    let v = f64::deserialize(d)?;
    if (0.0..=1.0).contains(&v) {
        Ok(v)
    } else {
        Err(serde::de::Error::custom(format!(
            "a rate threshold must be from 0 to 1; got {v}"
        )))
    }
}

impl Benchmarks {
    /// `data/benchmarks.toml` under `root` if present, else the built-in copy.
    pub fn load(root: &Path) -> Result<Benchmarks> {
        let (text, name) = crate::fsutil::data_file(root, "data/benchmarks.toml", BUILTIN)?;
        Benchmarks::parse(&text, &name)
    }

    pub fn parse(text: &str, name: &str) -> Result<Benchmarks> {
        let b: Benchmarks = crate::toml_file::parse(text).map_err(|e| e.located(name))?;
        if !b.editions.contains_key(&b.default) {
            bail!("{name}: default edition `{}` is not defined", b.default);
        }
        Ok(b)
    }

    pub fn edition(&self, id: &str) -> Result<&Edition> {
        self.editions.get(id).ok_or_else(|| {
            anyhow!(
                "benchmark edition `{id}` not found; known: {}",
                self.editions.keys().cloned().collect::<Vec<_>>().join(", ")
            )
        })
    }
}

/// Frequency measures of a window, for [`Edition::frequency_tier`].
#[derive(Debug, Clone, Copy)]
pub struct Frequency {
    pub deploy_days_per_week: f64,
    pub deploy_days_per_month: f64,
    pub deployments_per_week: f64,
}

impl Edition {
    pub fn frequency_tier(&self, f: &Frequency) -> Tier {
        for r in &self.deployment_frequency {
            let v = match r.measure {
                FrequencyMeasure::DeployDaysPerWeek => f.deploy_days_per_week,
                FrequencyMeasure::DeployDaysPerMonth => f.deploy_days_per_month,
                FrequencyMeasure::DeploymentsPerWeek => f.deployments_per_week,
            };
            if v >= r.at_least {
                return r.tier;
            }
        }
        Tier::Low
    }

    pub fn lead_time_tier(&self, median_hours: f64) -> Tier {
        duration_tier(&self.lead_time, median_hours)
    }

    pub fn recovery_tier(&self, median_hours: f64) -> Tier {
        duration_tier(&self.recovery_time, median_hours)
    }

    pub fn failure_tier(&self, rate: f64) -> Tier {
        self.change_failure_rate
            .iter()
            .find(|r| rate <= r.at_most + 1e-12)
            .map(|r| r.tier)
            .unwrap_or(Tier::Low)
    }
}

fn duration_tier(rules: &[DurationRule], hours: f64) -> Tier {
    rules
        .iter()
        .find(|r| hours < r.below_hours)
        .map(|r| r.tier)
        .unwrap_or(Tier::Low)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_editions_apply_devlake_2023_thresholds() {
        let b = Benchmarks::parse(BUILTIN, "builtin").unwrap();
        assert_eq!(b.default, "dora-2023");
        let e = b.edition("dora-2023").unwrap();
        assert_eq!(e.lead_time_tier(23.99), Tier::Elite);
        assert_eq!(e.lead_time_tier(24.0), Tier::High);
        assert_eq!(e.lead_time_tier(719.0), Tier::Medium);
        assert_eq!(e.lead_time_tier(720.0), Tier::Low);
        assert_eq!(e.failure_tier(0.05), Tier::Elite);
        assert_eq!(e.failure_tier(0.1), Tier::High);
        assert_eq!(e.failure_tier(0.15), Tier::Medium);
        assert_eq!(e.failure_tier(0.16), Tier::Low);
        assert_eq!(e.recovery_tier(0.5), Tier::Elite);
        assert_eq!(e.recovery_tier(200.0), Tier::Low);
        let f = |w, m| Frequency {
            deploy_days_per_week: w,
            deploy_days_per_month: m,
            deployments_per_week: 0.0,
        };
        assert_eq!(e.frequency_tier(&f(5.0, 20.0)), Tier::Elite);
        assert_eq!(e.frequency_tier(&f(1.0, 4.0)), Tier::High);
        assert_eq!(e.frequency_tier(&f(0.0, 1.0)), Tier::Medium);
        assert_eq!(e.frequency_tier(&f(0.0, 0.0)), Tier::Low);
        assert!(b.edition("dora-2021").is_ok());
        assert!(b.edition("nope").is_err());
    }

    #[test]
    fn editions_have_titles_per_language_and_may_have_none() {
        let b = Benchmarks::parse(BUILTIN, "builtin").unwrap();
        for e in b.editions.values() {
            assert!(e.titles.contains_key("zh"), "{}", e.title);
        }
        assert_eq!(
            b.edition("dora-2023").unwrap().titles["zh"],
            "DORA 2023（按 Apache DevLake 的实现）"
        );
        // A site's own file written before `titles` existed still reads.
        let own = BUILTIN.replace("titles = {", "# titles = {");
        let b = Benchmarks::parse(&own, "data/benchmarks.toml").unwrap();
        assert!(b.editions.values().all(|e| e.titles.is_empty()));
        // `titles` is a table of strings: anything else names the line.
        let bad = BUILTIN.replacen(
            "titles = { zh = \"DORA 2023",
            "titles = { zh = 1, x = \"",
            1,
        );
        let err = Benchmarks::parse(&bad, "data/benchmarks.toml").unwrap_err();
        let line = BUILTIN
            .lines()
            .position(|l| l.starts_with("titles"))
            .unwrap()
            + 1;
        assert!(
            format!("{err:#}").contains(&format!("data/benchmarks.toml:{line}")),
            "{err:#}"
        );
    }
}
