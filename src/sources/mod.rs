//! Collectors: each reads one kind of source and produces facts.

pub mod codeowners;
pub mod coverage;
pub mod events;
pub mod git;
pub mod github;
pub mod gitlab;
pub mod host;
pub mod http;
pub mod repo;
pub mod rules;
pub mod services;
