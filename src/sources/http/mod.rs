//! The HTTP client shared by the GitHub and GitLab collectors: one place that
//! behaves well against real APIs, so the collectors only say what to read.
//!
//! - **Pagination** to the end: `Link: <…>; rel="next"`, else GitLab's `x-next-page`.
//! - **Rate limits**: a primary limit (`x-ratelimit-remaining: 0`, or GitLab's
//!   `ratelimit-remaining`) sleeps until the reset, saying how long, or stops
//!   with a clear error when that is longer than `collect.max_rate_limit_wait_seconds`;
//!   secondary limits and 429 honour `retry-after`.
//! - **Retries** with exponential backoff on 5xx, timeouts and network errors.
//! - **Conditional requests**: every answer with an `ETag` (or `Last-Modified`)
//!   is cached under `data/cache/`, as the few fields the collector reads, so
//!   the next run asks `If-None-Match` and a 304 (free against GitHub's rate
//!   limit) answers from the cache. Answers that cannot change (a compare of two
//!   full shas, a commit) are not asked again at all.
//!
//! The token lives only in the transport's request headers: it is never part of
//! a URL, a cache file or a message (every message is scrubbed of it anyway).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use bytes::Bytes;
use http::header::{HeaderMap, HeaderName, HeaderValue};
use http::StatusCode;
use http_body_util::BodyExt;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::config::CollectSettings;

mod cache;
mod url;

pub use cache::fnv1a;
use cache::{cache_dir, read_cache, write_cache, CacheEntry};
use url::{absolute, header, next_page, origin, origin_key};
pub use url::{encode, with_query};

/// How patiently requests are made.
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    pub max_rate_limit_wait: Duration,
    pub retries: u32,
    pub backoff_base: Duration,
    pub timeout: Duration,
}

impl Policy {
    pub fn from_settings(s: &CollectSettings) -> Policy {
        Policy {
            max_rate_limit_wait: Duration::from_secs(s.max_rate_limit_wait_seconds),
            retries: s.retries,
            backoff_base: Duration::from_millis(s.backoff_base_ms),
            timeout: Duration::from_secs_f64(s.timeout_seconds.clamp(0.001, 86_400.0)),
        }
    }

    /// The delay before retry `attempt` (0-based): base × 2^attempt, at most a minute.
    fn backoff(&self, attempt: u32) -> Duration {
        let factor = 1u32 << attempt.min(16);
        self.backoff_base
            .saturating_mul(factor)
            .min(Duration::from_secs(60))
    }
}

/// A definite answer that is not a success (404, 401, 422…), for callers
/// that can live without the resource.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct StatusError {
    pub status: u16,
    pub message: String,
}

impl StatusError {
    /// Whether `e` is a status error with one of these codes.
    pub fn is(e: &anyhow::Error, codes: &[u16]) -> bool {
        e.downcast_ref::<StatusError>()
            .is_some_and(|s| codes.contains(&s.status))
    }
}

/// Whether a cached answer may be used without asking the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Freshness {
    /// Ask again, conditionally (`If-None-Match`).
    Revalidate,
    /// The resource cannot change (it is named by full shas): a cached copy is the answer.
    Immutable,
}

/// One page of an answer and the URL of the next page, if any.
#[derive(Debug)]
pub struct Page<T> {
    pub items: T,
    pub next: Option<String>,
}

type HyperClient = hyper_util::client::legacy::Client<
    hyper_rustls::HttpsConnector<hyper_util::client::legacy::connect::HttpConnector>,
    http_body_util::Empty<Bytes>,
>;

/// The wire: octocrab for GitHub (its client carries the token for the
/// configured base URL only), plain hyper on the same stack for GitLab.
enum Transport {
    Octocrab(octocrab::Octocrab),
    Hyper(Box<PlainHttp>),
}

/// A hyper client and the headers every request carries (user agent, token).
struct PlainHttp {
    client: HyperClient,
    headers: HeaderMap,
}

/// How one exchange ended: `304` (for the URL then asked), or a success.
enum Answer {
    NotModified(String),
    Body(Raw, String),
}

/// A complete answer.
struct Raw {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

impl Raw {
    /// Reads a whole answer, whichever client's body type it has.
    async fn read<B>(res: http::Response<B>) -> Result<Raw>
    where
        B: BodyExt,
        B::Error: std::fmt::Display,
    {
        let (parts, body) = res.into_parts();
        let body = body
            .collect()
            .await
            .map_err(|e| anyhow!("reading the answer: {e}"))?
            .to_bytes();
        Ok(Raw {
            status: parts.status,
            headers: parts.headers,
            body,
        })
    }
}

impl Transport {
    async fn send(&self, url: &str, extra: HeaderMap) -> Result<Raw> {
        match self {
            Transport::Octocrab(o) => {
                let res = o
                    ._get_with_headers(url, Some(extra))
                    .await
                    .map_err(|e| anyhow!("{e}"))?;
                Raw::read(res).await
            }
            Transport::Hyper(plain) => {
                let mut req = http::Request::get(url);
                // A header of the request's own (`Accept`) replaces the default one.
                for (k, v) in plain
                    .headers
                    .iter()
                    .filter(|(k, _)| !extra.contains_key(*k))
                {
                    req = req.header(k, v);
                }
                for (k, v) in extra.iter() {
                    req = req.header(k, v);
                }
                let req = req
                    .body(http_body_util::Empty::new())
                    .with_context(|| format!("building a request for {url}"))?;
                let res = plain
                    .client
                    .request(req)
                    .await
                    .map_err(|e| anyhow!("{e}"))?;
                Raw::read(res).await
            }
        }
    }
}

/// A client of one host API: transport, cache, policy and request counts.
pub struct Client {
    /// `GitHub` or `GitLab`, for messages.
    pub host: &'static str,
    transport: Transport,
    cache_dir: PathBuf,
    policy: Policy,
    /// `scheme://host:port` of the configured API: the only server that ever
    /// gets a request, and so the token.
    api_origin: String,
    secret: Option<String>,
    sent: AtomicU64,
    not_modified: AtomicU64,
    blobs_fetched: AtomicU64,
    blobs_cached: AtomicU64,
}

impl Client {
    /// A GitHub client on octocrab: `api_url` is `https://api.github.com` or a
    /// GitHub Enterprise `https://host/api/v3`.
    pub fn github(
        api_url: &str,
        token: Option<String>,
        cache_root: &Path,
        policy: Policy,
    ) -> Result<Client> {
        let mut builder = octocrab::Octocrab::builder()
            .base_uri(api_url)
            .map_err(|e| anyhow!("api_url {api_url:?}: {e}"))?
            .add_header(
                http::header::USER_AGENT,
                concat!("opsmeter/", env!("CARGO_PKG_VERSION")).to_string(),
            );
        if let Some(t) = &token {
            check_token(t, "the GitHub token")?;
            builder = builder.personal_token(t.clone());
        }
        let octo = builder
            .build()
            .map_err(|e| anyhow!("setting up the GitHub client: {e}"))?;
        // The cache is written only inside the site, never through a link.
        let cache_dir = cache_dir(cache_root, "github", api_url);
        crate::fsutil::refuse_links(cache_root, &cache_dir)?;
        Ok(Client {
            host: "GitHub",
            transport: Transport::Octocrab(octo),
            cache_dir,
            policy,
            api_origin: origin_key(api_url)?,
            secret: token,
            sent: AtomicU64::new(0),
            not_modified: AtomicU64::new(0),
            blobs_fetched: AtomicU64::new(0),
            blobs_cached: AtomicU64::new(0),
        })
    }

    /// A GitLab client: `api_url` is `https://gitlab.com/api/v4` or a self-hosted one.
    pub fn gitlab(
        api_url: &str,
        token: Option<String>,
        cache_root: &Path,
        policy: Policy,
    ) -> Result<Client> {
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_native_roots()
            .context("loading the system's TLS root certificates")?
            .https_or_http()
            .enable_http1()
            .build();
        let client =
            hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
                .build(https);
        let mut headers = HeaderMap::new();
        headers.insert(
            http::header::USER_AGENT,
            HeaderValue::from_static(concat!("opsmeter/", env!("CARGO_PKG_VERSION"))),
        );
        headers.insert(
            http::header::ACCEPT,
            HeaderValue::from_static("application/json"),
        );
        if let Some(t) = &token {
            check_token(t, "the GitLab token")?;
            let mut v = HeaderValue::from_str(t)
                .map_err(|_| anyhow!("the GitLab token holds characters a header cannot carry"))?;
            v.set_sensitive(true);
            headers.insert(HeaderName::from_static("private-token"), v);
        }
        let cache_dir = cache_dir(cache_root, "gitlab", api_url);
        crate::fsutil::refuse_links(cache_root, &cache_dir)?;
        Ok(Client {
            host: "GitLab",
            transport: Transport::Hyper(Box::new(PlainHttp { client, headers })),
            cache_dir,
            policy,
            api_origin: origin_key(api_url)?,
            secret: token,
            sent: AtomicU64::new(0),
            not_modified: AtomicU64::new(0),
            blobs_fetched: AtomicU64::new(0),
            blobs_cached: AtomicU64::new(0),
        })
    }

    /// Requests sent so far, and how many of them were answered 304.
    pub fn counts(&self) -> (u64, u64) {
        (
            self.sent.load(Ordering::Relaxed),
            self.not_modified.load(Ordering::Relaxed),
        )
    }

    /// Blobs fetched from the server so far, and blobs read from the cache.
    pub fn blob_counts(&self) -> (u64, u64) {
        (
            self.blobs_fetched.load(Ordering::Relaxed),
            self.blobs_cached.load(Ordering::Relaxed),
        )
    }

    /// A file's bytes by its git blob id: from the cache when it is there (a
    /// blob never changes, so it is never fetched twice), else from `url`
    /// with `accept`, checked against the id (a wrong answer is an error, not
    /// a finding), then kept under `blobs/` of the cache.
    pub async fn blob(&self, url: &str, id: &str, accept: &'static str) -> Result<Vec<u8>> {
        if id.len() != 40 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
            bail!("{}: {id:?} is not a blob id (40 hex digits)", self.host);
        }
        let id = id.to_ascii_lowercase();
        let file = self.cache_dir.join("blobs").join(&id);
        if let Ok(bytes) = std::fs::read(&file) {
            if blob_id(&bytes).as_deref() == Some(id.as_str()) {
                self.blobs_cached.fetch_add(1, Ordering::Relaxed);
                return Ok(bytes);
            }
        }
        let bytes = self.get_bytes(url, accept).await?;
        let got = blob_id(&bytes);
        if got.as_deref() != Some(id.as_str()) {
            bail!(
                "{} answered {url} with {} bytes that are not blob {id} (they hash to {})",
                self.host,
                bytes.len(),
                got.as_deref().unwrap_or("nothing")
            );
        }
        self.blobs_fetched.fetch_add(1, Ordering::Relaxed);
        if let Err(e) = crate::fsutil::write_atomic(&file, &bytes) {
            tracing::debug!("not caching blob {id}: {e:#}");
        }
        Ok(bytes.to_vec())
    }

    /// Replaces the token in a message, should a server ever echo it.
    pub fn scrub(&self, message: &str) -> String {
        match &self.secret {
            Some(s) if !s.is_empty() => message.replace(s.as_str(), "***"),
            _ => message.to_string(),
        }
    }

    /// Every page of a listing.
    pub async fn list<T>(&self, url: &str) -> Result<Vec<T>>
    where
        T: DeserializeOwned + Serialize,
    {
        self.get_all(url, |_| true).await
    }

    /// Every page from `url` on, until the last one, or until `more` says
    /// the items of a page are enough (the incremental stop).
    pub async fn get_all<T>(&self, url: &str, mut more: impl FnMut(&[T]) -> bool) -> Result<Vec<T>>
    where
        T: DeserializeOwned + Serialize,
    {
        let mut out = Vec::new();
        let mut next = Some(url.to_string());
        let mut pages = 0;
        while let Some(u) = next {
            pages += 1;
            if pages > 10_000 {
                bail!("{}: more than 10000 pages from {url}; stopping", self.host);
            }
            let page: Page<Vec<T>> = self.get(&u, Freshness::Revalidate).await?;
            let go_on = more(&page.items);
            out.extend(page.items);
            next = if go_on { page.next } else { None };
            if let Some(n) = &next {
                if origin_key(n).ok().as_deref() != Some(self.api_origin.as_str()) {
                    bail!(
                        "{}: the next page of {u} is on another server ({}); not followed: \
                         the token goes only to the configured API ({})",
                        self.host,
                        origin(n),
                        self.api_origin
                    );
                }
            }
        }
        Ok(out)
    }

    /// One page: from the cache when it is immutable and cached, else from
    /// the server (conditionally when cached), with retries and rate-limit waits.
    pub async fn get<T>(&self, url: &str, freshness: Freshness) -> Result<Page<T>>
    where
        T: DeserializeOwned + Serialize,
    {
        self.get_inner(url, freshness)
            .await
            .map_err(|e| self.scrubbed(e))
    }

    /// The error with any token scrubbed from its message, still a
    /// [`StatusError`] when it was one.
    fn scrubbed(&self, e: anyhow::Error) -> anyhow::Error {
        let message = self.scrub(&format!("{e:#}"));
        match e.downcast_ref::<StatusError>() {
            Some(s) => anyhow::Error::new(StatusError {
                status: s.status,
                message,
            }),
            None => anyhow!("{message}"),
        }
    }

    async fn get_inner<T>(&self, url: &str, freshness: Freshness) -> Result<Page<T>>
    where
        T: DeserializeOwned + Serialize,
    {
        let cache_file = self
            .cache_dir
            .join(format!("{:016x}.json", fnv1a(url.as_bytes())));
        // A cached entry is usable only if it is for this URL and still parses
        // (an older opsmeter may have kept other fields).
        let mut cached: Option<(CacheEntry, T)> = read_cache(&cache_file, url);
        if freshness == Freshness::Immutable {
            if let Some((entry, items)) = cached.take() {
                return Ok(Page {
                    items,
                    next: entry.next,
                });
            }
        }
        let mut conditional = HeaderMap::new();
        if let Some((entry, _)) = &cached {
            if let Some(v) = entry
                .etag
                .as_deref()
                .and_then(|e| HeaderValue::from_str(e).ok())
            {
                conditional.insert(http::header::IF_NONE_MATCH, v);
            } else if let Some(v) = entry
                .last_modified
                .as_deref()
                .and_then(|e| HeaderValue::from_str(e).ok())
            {
                conditional.insert(http::header::IF_MODIFIED_SINCE, v);
            }
        }
        let (raw, current) = match self.exchange(url, conditional).await? {
            Answer::NotModified(current) => {
                if let Some((entry, items)) = cached.take() {
                    self.not_modified.fetch_add(1, Ordering::Relaxed);
                    return Ok(Page {
                        items,
                        next: entry.next,
                    });
                }
                bail!(
                    "{} answered 304 Not Modified for {current} without a conditional request",
                    self.host
                );
            }
            Answer::Body(raw, current) => (raw, current),
        };
        let items: T = serde_json::from_slice(&raw.body).map_err(|e| {
            anyhow!(
                "{} sent malformed JSON for {current} (line {}, column {}): {e}",
                self.host,
                e.line(),
                e.column()
            )
        })?;
        let next = next_page(&raw.headers, &current);
        let etag = header(&raw.headers, "etag");
        let last_modified = header(&raw.headers, "last-modified");
        if etag.is_some() || last_modified.is_some() || freshness == Freshness::Immutable {
            let entry = CacheEntry {
                url: url.to_string(),
                etag,
                last_modified,
                next: next.clone(),
                body: serde_json::to_value(&items).context("caching an answer")?,
            };
            // A cache that cannot be written costs requests next time, nothing more.
            if let Err(e) = write_cache(&cache_file, &entry) {
                tracing::debug!("not caching {url}: {e:#}");
            }
        }
        Ok(Page { items, next })
    }

    /// The bytes of an answer as they are (a raw file), with `accept` as the
    /// `Accept` header; not cached here (the caller keeps what is immutable).
    pub async fn get_bytes(&self, url: &str, accept: &'static str) -> Result<Bytes> {
        let mut extra = HeaderMap::new();
        extra.insert(http::header::ACCEPT, HeaderValue::from_static(accept));
        let answer = self
            .exchange(url, extra)
            .await
            .map_err(|e| self.scrubbed(e))?;
        match answer {
            Answer::Body(raw, _) => Ok(raw.body),
            Answer::NotModified(current) => bail!(
                "{} answered 304 Not Modified for {current} without a conditional request",
                self.host
            ),
        }
    }

    /// One request, to the end: retries, rate-limit waits and redirects (on
    /// the configured server only). `first` headers go with the request for
    /// `url` itself (validators, `Accept`), not with a redirect's. A definite
    /// failure is a [`StatusError`].
    async fn exchange(&self, url: &str, first: HeaderMap) -> Result<Answer> {
        let mut current = url.to_string();
        let mut attempt = 0u32;
        let mut waits = 0u32;
        let mut redirects = 0u32;
        loop {
            let extra = if current == url {
                first.clone()
            } else {
                HeaderMap::new()
            };
            // Every request, pagination and redirects alike, goes to the
            // configured API server only: the transport adds the token to all.
            if origin_key(&current).ok().as_deref() != Some(self.api_origin.as_str()) {
                bail!(
                    "{}: refusing to send a request to {} (not the configured API, {}): \
                     the token goes only there",
                    self.host,
                    origin(&current),
                    self.api_origin
                );
            }
            self.sent.fetch_add(1, Ordering::Relaxed);
            let sent =
                tokio::time::timeout(self.policy.timeout, self.transport.send(&current, extra))
                    .await;
            let raw = match sent {
                Ok(Ok(raw)) => raw,
                Ok(Err(e)) => {
                    self.retry_or_fail(&mut attempt, &format!("network error: {e:#}"), &current)
                        .await?;
                    continue;
                }
                Err(_) => {
                    let why = format!("no answer within {} s", self.policy.timeout.as_secs_f64());
                    self.retry_or_fail(&mut attempt, &why, &current).await?;
                    continue;
                }
            };
            let status = raw.status;
            if status == StatusCode::NOT_MODIFIED {
                return Ok(Answer::NotModified(current));
            }
            if status.is_success() {
                return Ok(Answer::Body(raw, current));
            }
            if status.is_redirection() {
                if let Some(loc) = header(&raw.headers, "location") {
                    redirects += 1;
                    if redirects > 5 {
                        bail!("{}: too many redirects from {url}", self.host);
                    }
                    let target = absolute(&loc, &current);
                    // The token goes with every request: never to another server.
                    if origin_key(&target).ok().as_deref() != Some(self.api_origin.as_str()) {
                        bail!(
                            "{} redirected {current} to another server ({}); not followed",
                            self.host,
                            origin(&target)
                        );
                    }
                    current = target;
                    continue;
                }
            }
            if let Some(wait) = self.rate_limit_wait(&raw, waits) {
                waits += 1;
                if wait > self.policy.max_rate_limit_wait {
                    bail!(
                        "{} rate limit reached: it resets in {} s, longer than collect.max_rate_limit_wait_seconds ({} s); \
                         run again later, or set a token for a higher limit",
                        self.host,
                        wait.as_secs(),
                        self.policy.max_rate_limit_wait.as_secs()
                    );
                }
                if waits > 8 {
                    bail!(
                        "{} rate limit: still limited after 8 waits; stopping",
                        self.host
                    );
                }
                let until = chrono::Utc::now()
                    + chrono::Duration::from_std(wait).unwrap_or_else(|_| chrono::Duration::zero());
                tracing::warn!(
                    "{} rate limit reached: waiting {} s (until {} UTC)",
                    self.host,
                    wait.as_secs_f64().ceil() as u64,
                    until.format("%H:%M:%S")
                );
                tokio::time::sleep(wait).await;
                continue;
            }
            if status.is_server_error() {
                let why = format!("{status}");
                self.retry_or_fail(&mut attempt, &why, &current).await?;
                continue;
            }
            return Err(StatusError {
                status: status.as_u16(),
                message: format!(
                    "{} answered {status} for {current}{}",
                    self.host,
                    match error_message(&raw.body) {
                        Some(m) => format!(": {m}"),
                        None => String::new(),
                    }
                ),
            }
            .into());
        }
    }

    /// Sleeps before the next attempt, or fails when the retries are spent.
    async fn retry_or_fail(&self, attempt: &mut u32, why: &str, url: &str) -> Result<()> {
        if *attempt >= self.policy.retries {
            bail!(
                "{} request failed after {} attempts: {why} ({url})",
                self.host,
                *attempt + 1
            );
        }
        let delay = self.policy.backoff(*attempt);
        tracing::info!(
            "{}: {why} for {url}; retrying in {} ms",
            self.host,
            delay.as_millis()
        );
        *attempt += 1;
        tokio::time::sleep(delay).await;
        Ok(())
    }

    /// How long to wait when an answer is a rate limit, primary or secondary.
    fn rate_limit_wait(&self, raw: &Raw, waits: u32) -> Option<Duration> {
        let limited =
            raw.status == StatusCode::TOO_MANY_REQUESTS || raw.status == StatusCode::FORBIDDEN;
        if !limited {
            return None;
        }
        if let Some(secs) =
            header(&raw.headers, "retry-after").and_then(|v| v.trim().parse::<u64>().ok())
        {
            return Some(Duration::from_secs(secs).max(self.policy.backoff_base));
        }
        let remaining = header(&raw.headers, "x-ratelimit-remaining")
            .or_else(|| header(&raw.headers, "ratelimit-remaining"));
        if remaining.as_deref().map(str::trim) == Some("0") {
            let reset = header(&raw.headers, "x-ratelimit-reset")
                .or_else(|| header(&raw.headers, "ratelimit-reset"))
                .and_then(|v| v.trim().parse::<i64>().ok());
            let wait = match reset {
                Some(r) => {
                    let now = chrono::Utc::now();
                    let ms = (r * 1000 - now.timestamp_millis()).max(0) as u64;
                    Duration::from_millis(ms)
                }
                None => Duration::from_secs(60),
            };
            return Some(wait.max(self.policy.backoff_base));
        }
        if raw.status == StatusCode::TOO_MANY_REQUESTS
            || error_message(&raw.body)
                .is_some_and(|m| m.to_ascii_lowercase().contains("rate limit"))
        {
            // A secondary limit without retry-after: GitHub asks for at least a minute.
            let base = Duration::from_secs(60).min(self.policy.backoff_base.saturating_mul(60));
            return Some(base.saturating_mul(1 << waits.min(6)));
        }
        None
    }
}

/// The git id of a blob holding `bytes`, in hex.
fn blob_id(bytes: &[u8]) -> Option<String> {
    gix::objs::compute_hash(gix::hash::Kind::Sha1, gix::object::Kind::Blob, bytes)
        .ok()
        .map(|id| id.to_string())
}

/// A token must be printable ASCII to travel in a header; checked before any
/// client is built (a control character would otherwise panic deep inside the
/// HTTP stack). The message never shows the token.
fn check_token(token: &str, what: &str) -> Result<()> {
    if token.is_empty() {
        bail!("{what} is set but empty; unset it or give a token");
    }
    if let Some(pos) = token.chars().position(|c| !c.is_ascii_graphic()) {
        bail!(
            "{what} holds a character that cannot be sent in a header (position {}): \
             check for a trailing newline or a pasted space",
            pos + 1
        );
    }
    Ok(())
}

/// The `message` (GitHub, GitLab) or `error` (GitLab) of an error body.
fn error_message(body: &[u8]) -> Option<String> {
    #[derive(Deserialize)]
    struct Body {
        message: Option<serde_json::Value>,
        error: Option<serde_json::Value>,
    }
    let b: Body = serde_json::from_slice(body).ok()?;
    let v = b.message.or(b.error)?;
    let text = match v {
        serde_json::Value::String(s) => s,
        other => other.to_string(),
    };
    Some(text.chars().take(300).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blob_ids_are_git_ids() {
        // `printf 'hello\n' | git hash-object --stdin`
        assert_eq!(
            blob_id(b"hello\n").as_deref(),
            Some("ce013625030ba8dba906f756967f9e9ca394464a")
        );
    }

    #[test]
    fn backoff_doubles_and_is_capped() {
        let p = Policy {
            max_rate_limit_wait: Duration::from_secs(1),
            retries: 3,
            backoff_base: Duration::from_millis(100),
            timeout: Duration::from_secs(1),
        };
        assert_eq!(p.backoff(0), Duration::from_millis(100));
        assert_eq!(p.backoff(3), Duration::from_millis(800));
        assert_eq!(p.backoff(30), Duration::from_secs(60));
    }
}
