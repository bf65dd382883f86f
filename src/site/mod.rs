//! The site generator: content, templates and themes in; `public/` out.

pub mod build;
pub mod charts;
pub mod content;
pub mod context;
pub mod dashboards;
pub mod filters;
pub mod front_matter;
pub mod handbook;
pub mod highlight;
pub mod i18n;
pub mod incremental;
pub mod links;
pub mod markdown;
pub mod model_texts;
pub mod output;
pub mod outputs;
pub mod reports;
pub mod search;
pub mod services;
pub mod templates;
pub mod theme;
pub mod urls;
