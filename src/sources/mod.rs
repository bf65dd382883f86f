//! Collectors: each reads one kind of source and produces facts.

pub mod events;
pub mod git;
pub mod repo;
