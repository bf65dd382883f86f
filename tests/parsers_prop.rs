//! Property tests of every parser that reads files a user or a repository
//! supplies (issue 11): front matter, `opsmeter.toml`, events files, coverage
//! reports, stored facts, the maturity model and the probes catalogue.
//!
//! Three kinds of property, each driven through the library's public
//! functions (no binary, so thousands of cases run in seconds):
//!
//! - **No panic** on arbitrary bytes and on near-valid input: real-shaped
//!   seeds mutated a few times (bytes cut, inserted or flipped, lines
//!   dropped, duplicated or swapped, numbers swapped for extreme ones,
//!   format tokens inserted), so the parsers' deep paths are reached and
//!   not only their first check.
//! - **Errors point at the input**: the file is named, and a line, when one
//!   is given, is a line the input has.
//! - **Round trips**: a valid input generated from known values parses back
//!   to those values (coverage totals, event rows, facts, models, probes).
//!
//! Case counts are sized so the whole suite takes a few seconds of CPU (well
//! under 20 s on a busy 2-core machine). A longer run by hand, every property
//! then running that many cases: `PROPTEST_CASES=100000 cargo test --release
//! --test parsers_prop` (the README's "Property tests of the parsers").
//!
//! One module per parser, in `tests/parsers_prop/`.

#[path = "parsers_prop/catalogue.rs"]
mod catalogue;
#[path = "parsers_prop/config.rs"]
mod config;
#[path = "parsers_prop/coverage.rs"]
mod coverage;
#[path = "parsers_prop/events.rs"]
mod events;
#[path = "parsers_prop/facts.rs"]
mod facts;
#[path = "parsers_prop/front_matter.rs"]
mod front_matter;
#[path = "parsers_prop/model.rs"]
mod model;
#[path = "parsers_prop/support.rs"]
mod support;
