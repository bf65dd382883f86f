//! The site generator: content, templates and themes in; `public/` out.

pub mod build;
pub mod content;
pub mod filters;
pub mod front_matter;
pub mod highlight;
pub mod i18n;
pub mod links;
pub mod markdown;
pub mod search;
pub mod templates;
pub mod theme;
