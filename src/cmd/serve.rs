//! `opsmeter serve`: build the site in memory, serve it on loopback, watch
//! the sources, rebuild what a change affects (`site::incremental`) and
//! reload open pages over a websocket. A failed rebuild keeps the last good
//! site and shows the error in the browser as an overlay until the file is
//! fixed.
//!
//! It answers only what a browser on this machine should get: bound to
//! loopback, a request naming any other host (a DNS-rebinding page on another
//! site) gets 403, and the live-reload socket refuses pages of another origin.
//! A path never leaves the site folder, and a redirect never leaves the site.

use std::net::{IpAddr, SocketAddr};
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, StatusCode, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use notify::{RecursiveMode, Watcher};
use tokio::sync::broadcast;

use crate::config::site_root;
use crate::site::dashboards::DashboardOptions;
use crate::site::incremental::{Changes, Files, LiveSite, Rebuilt};

/// Options of `opsmeter serve`.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    pub root: Option<PathBuf>,
    pub interface: IpAddr,
    pub port: u16,
    pub open: bool,
    pub drafts: bool,
    pub dashboards: DashboardOptions,
}

/// The path of the live-reload websocket.
const SOCKET: &str = "/__opsmeter/livereload";

/// Injected before `</body>` of every HTML page served.
const RELOAD_SCRIPT: &str = r#"<script>
(function () {
  "use strict";
  function overlay(message) {
    var o = document.getElementById("opsmeter-error-overlay");
    if (!o) {
      o = document.createElement("div");
      o.id = "opsmeter-error-overlay";
      o.setAttribute("role", "alert");
      o.style.cssText = "position:fixed;inset:0;z-index:2147483647;background:rgba(40,0,0,.94);color:#fff;" +
        "font:14px/1.5 ui-monospace,monospace;padding:2rem;white-space:pre-wrap;overflow:auto";
      document.body.appendChild(o);
    }
    o.textContent = "opsmeter: the site failed to build; the last good version is shown underneath.\n\n" + message;
  }
  function connect() {
    var ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/__opsmeter/livereload");
    ws.onmessage = function (e) {
      var m = JSON.parse(e.data);
      if (m.type === "reload") location.reload();
      else if (m.type === "error") overlay(m.message);
    };
    ws.onclose = function () { setTimeout(connect, 500); };
  }
  connect();
})();
</script>
"#;

/// What the server shares between requests and the rebuild loop.
struct ServerState {
    /// The site's files; a rebuild swaps in a new set whole.
    files: RwLock<Arc<Files>>,
    /// The error of the last rebuild, while it is not fixed.
    error: Mutex<Option<String>>,
    events: broadcast::Sender<String>,
    /// Bound to loopback: only requests for this machine's names are answered.
    local_only: bool,
    /// The port listened on, which a request's `Host` must name when it names one.
    port: u16,
}

pub fn run(opts: ServeOptions) -> Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the server runtime")?;
    let result = runtime.block_on(serve(opts));
    // The watcher blocks on file events in its own thread: do not wait for it.
    runtime.shutdown_background();
    result
}

fn message(kind: &str, text: &str) -> String {
    serde_json::json!({"type": kind, "message": text}).to_string()
}

async fn serve(opts: ServeOptions) -> Result<()> {
    let root = site_root(opts.root.as_deref())?;
    let stop_signal = StopSignal::install();
    let started = Instant::now();
    // Built and served from memory: nothing is written to disk.
    let live = LiveSite::build(&root, opts.drafts, &opts.dashboards)
        .context("the first build failed; fix it and start again")?;
    let summary = live.summary();
    eprintln!(
        "Built {} pages, {} sections and {} repository reports in {} ms",
        summary.pages,
        summary.sections,
        summary.reports,
        started.elapsed().as_millis()
    );

    let (events, _) = broadcast::channel(16);
    let addr = SocketAddr::new(opts.interface, opts.port);
    if !opts.interface.is_loopback() {
        eprintln!(
            "warning: serving on {addr}, reachable from other machines; the preview server is for local use"
        );
    }
    let watching = watch(&root);
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("binding {addr}"))?;
    let bound = listener.local_addr()?;
    let state = Arc::new(ServerState {
        files: RwLock::new(live.files()),
        error: Mutex::new(None),
        events,
        local_only: opts.interface.is_loopback(),
        port: bound.port(),
    });
    let url = format!("http://{bound}/");
    crate::output::line(format_args!(
        "Serving {} at {url} (Ctrl-C to stop)",
        root.display()
    ));
    if opts.open {
        open_browser(&url);
    }

    let watcher_state = state.clone();
    let watch = tokio::task::spawn_blocking(move || {
        if let Some(watching) = watching {
            rebuild_on_change(root, live, watcher_state, watching);
        }
    });

    let app = Router::new()
        .route(SOCKET, get(livereload))
        .fallback(get(file))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            only_this_machine,
        ))
        .with_state(state);
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let server = axum::serve(listener, app).with_graceful_shutdown(async move {
        let mut stopped = stopped;
        let _ = stopped.wait_for(|s| *s).await;
    });
    // On Ctrl-C or SIGTERM, open requests get a short grace period; a client
    // holding a half-sent request cannot keep the server alive past it.
    tokio::select! {
        served = server => served.context("serving")?,
        _ = async {
            stop_signal.wait().await;
            eprintln!("Stopping.");
            let _ = stop.send(true);
            tokio::time::sleep(SHUTDOWN_GRACE).await;
        } => {}
    }
    watch.abort();
    Ok(())
}

/// How long open requests may take to finish once the server is told to stop.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

/// Ctrl-C or SIGTERM. The handlers are installed when this is created (before
/// the server announces itself), so a signal sent right after start is caught.
struct StopSignal {
    #[cfg(unix)]
    handlers: Option<(tokio::signal::unix::Signal, tokio::signal::unix::Signal)>,
}

impl StopSignal {
    fn install() -> StopSignal {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            StopSignal {
                handlers: signal(SignalKind::interrupt())
                    .and_then(|i| Ok((i, signal(SignalKind::terminate())?)))
                    .ok(),
            }
        }
        #[cfg(not(unix))]
        StopSignal {}
    }

    async fn wait(self) {
        #[cfg(unix)]
        if let Some((mut interrupt, mut terminate)) = self.handlers {
            tokio::select! {
                _ = interrupt.recv() => {}
                _ = terminate.recv() => {}
            }
            return;
        }
        let _ = tokio::signal::ctrl_c().await;
    }
}

fn open_browser(url: &str) {
    for opener in ["xdg-open", "open"] {
        if std::process::Command::new(opener)
            .arg(url)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .is_ok()
        {
            return;
        }
    }
    eprintln!("could not open a browser; visit {url}");
}

type Events = std::sync::mpsc::Receiver<notify::Result<notify::Event>>;

/// Starts watching the site's sources. Done before the server says it is
/// ready, so no edit made after that can be missed.
fn watch(root: &Path) -> Option<(notify::RecommendedWatcher, Events)> {
    let (tx, rx) = std::sync::mpsc::channel();
    let mut watcher = match notify::recommended_watcher(tx) {
        Ok(w) => w,
        Err(e) => {
            eprintln!("warning: cannot watch files ({e}); changes will not be rebuilt");
            return None;
        }
    };
    for dir in SOURCE_FOLDERS {
        watch_folder(&mut watcher, &root.join(dir));
    }
    // The root itself, not recursively: for opsmeter.toml and folders created later.
    let _ = watcher.watch(root, RecursiveMode::NonRecursive);
    Some((watcher, rx))
}

/// The folders of a site that `serve` watches.
const SOURCE_FOLDERS: [&str; 6] = ["content", "templates", "themes", "static", "i18n", "data"];

fn watch_folder(watcher: &mut notify::RecommendedWatcher, folder: &Path) {
    if folder.is_dir() {
        if let Err(e) = watcher.watch(folder, RecursiveMode::Recursive) {
            eprintln!("warning: cannot watch {}: {e}", folder.display());
        }
    }
}

/// A rebuild starts once no change has come for this long: an editor saving
/// a file (truncate, write, rename) sends its events within a millisecond or
/// two, and they are rebuilt once. Changes made while a rebuild runs wait in
/// the channel and start the next one.
const QUIET: Duration = Duration::from_millis(10);

/// A burst that does not end (a checkout writing many files) is rebuilt this
/// long after its first change at the latest, and again after the rest.
const SETTLE_AT_MOST: Duration = Duration::from_millis(50);

/// Whether a file event may change what the site reads (reading files, the
/// build itself included, must not trigger a build).
fn is_edit(kind: &notify::EventKind) -> bool {
    use notify::EventKind;
    matches!(
        kind,
        EventKind::Create(_) | EventKind::Remove(_) | EventKind::Modify(_) | EventKind::Any
    ) && !matches!(
        kind,
        EventKind::Modify(notify::event::ModifyKind::Metadata(_))
    )
}

/// Rebuilds what each burst of changes affects, swaps the new files in and
/// tells the pages.
fn rebuild_on_change(
    root: PathBuf,
    mut live: LiveSite,
    state: Arc<ServerState>,
    watching: (notify::RecommendedWatcher, Events),
) {
    // The watcher lives as long as this loop.
    let (mut watcher, rx) = watching;
    loop {
        let Ok(first) = rx.recv() else { return };
        let mut changes = Changes::default();
        let mut created = Vec::new();
        let mut note = |event: notify::Result<notify::Event>| {
            if let Ok(ev) = event {
                if is_edit(&ev.kind) {
                    for p in &ev.paths {
                        changes.note(&root, p);
                        // A source folder created after the start is watched from now on.
                        if matches!(ev.kind, notify::EventKind::Create(_))
                            && p.parent() == Some(root.as_path())
                            && SOURCE_FOLDERS.iter().any(|f| p.ends_with(f))
                        {
                            created.push(p.clone());
                        }
                    }
                }
            }
        };
        note(first);
        let latest = Instant::now() + SETTLE_AT_MOST;
        while let Some(left) = latest.checked_duration_since(Instant::now()) {
            match rx.recv_timeout(left.min(QUIET)) {
                Ok(ev) => note(ev),
                Err(_) => break,
            }
        }
        for folder in created.drain(..) {
            watch_folder(&mut watcher, &folder);
        }
        if changes.is_empty() {
            continue;
        }
        let started = Instant::now();
        match live.apply(&changes) {
            Ok(rebuilt) => {
                let ms = started.elapsed().as_millis();
                if rebuilt != Rebuilt::Nothing {
                    *state.files.write().unwrap_or_else(|e| e.into_inner()) = live.files();
                    eprintln!("{}", rebuilt_line(rebuilt, ms));
                }
                let was_failing = state
                    .error
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .take()
                    .is_some();
                // After the swap: a page reloaded now gets the new files.
                if rebuilt != Rebuilt::Nothing || was_failing {
                    let _ = state.events.send(message("reload", ""));
                }
                // The search indexes of edited pages follow, once the pages are served.
                if live.finish() {
                    *state.files.write().unwrap_or_else(|e| e.into_inner()) = live.files();
                }
            }
            Err(e) => {
                let text = match e.downcast_ref::<crate::diagnostics::Diagnostics>() {
                    Some(d) => d.to_string(),
                    None => format!("{e:#}"),
                };
                eprintln!("error: {text}");
                *state.error.lock().unwrap_or_else(|e| e.into_inner()) = Some(text.clone());
                let _ = state.events.send(message("error", &text));
            }
        }
    }
}

/// The line printed after a rebuild: "rebuilt 1 page in 4 ms".
fn rebuilt_line(rebuilt: Rebuilt, ms: u128) -> String {
    let count = |n: usize, one: &str, many: &str| {
        if n == 1 {
            format!("1 {one}")
        } else {
            format!("{n} {many}")
        }
    };
    match rebuilt {
        Rebuilt::Nothing => format!("nothing changed ({ms} ms)"),
        Rebuilt::Parts { pages, statics } => {
            let mut parts = Vec::new();
            if pages > 0 {
                parts.push(format!("rebuilt {}", count(pages, "page", "pages")));
            }
            if statics > 0 {
                parts.push(format!(
                    "copied {}",
                    count(statics, "static file", "static files")
                ));
            }
            if parts.is_empty() {
                parts.push("updated the site".into());
            }
            format!("{} in {ms} ms", parts.join(" and "))
        }
        Rebuilt::Site => format!("rebuilt the site in {ms} ms"),
        Rebuilt::Assessed => format!("assessed the repositories and rebuilt the site in {ms} ms"),
    }
}

/// Refuses a request naming a host other than this machine while bound to
/// loopback: a page of another site whose name was made to resolve to
/// 127.0.0.1 (DNS rebinding) must not read the preview.
async fn only_this_machine(
    State(state): State<Arc<ServerState>>,
    request: Request,
    next: Next,
) -> Response {
    if state.local_only {
        let host = request_host(request.headers(), request.uri());
        if !host.is_some_and(|h| is_local_host(&h, state.port)) {
            return (
                StatusCode::FORBIDDEN,
                [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                "opsmeter serve answers requests for localhost only\n",
            )
                .into_response();
        }
    }
    next.run(request).await
}

/// The host a request names: its `Host` header, else the URI's authority.
fn request_host(headers: &HeaderMap, uri: &Uri) -> Option<String> {
    headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_string)
        .or_else(|| uri.authority().map(|a| a.as_str().to_string()))
}

/// Whether `host` (`name` or `name:port`) names this machine: `localhost`, a
/// `*.localhost` name, or a loopback address; with a port, the one listened on.
pub fn is_local_host(host: &str, port: u16) -> bool {
    let host = host.trim().to_ascii_lowercase();
    let (name, given_port) = match host.strip_prefix('[') {
        Some(rest) => match rest.split_once(']') {
            Some((v6, "")) => (v6.to_string(), None),
            Some((v6, p)) => match p.strip_prefix(':') {
                Some(p) => (v6.to_string(), Some(p.to_string())),
                None => return false,
            },
            None => return false,
        },
        None => match host.rsplit_once(':') {
            Some((n, p)) => (n.to_string(), Some(p.to_string())),
            None => (host.clone(), None),
        },
    };
    if let Some(p) = given_port {
        if p.parse::<u16>().ok() != Some(port) {
            return false;
        }
    }
    let name = name.trim_end_matches('.');
    name == "localhost"
        || name.ends_with(".localhost")
        || name.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Whether a page of `origin` may open the live-reload socket of the server
/// reached as `host`: only pages of the server itself (same host and port).
/// Clients that send no `Origin` are not browsers and are let in.
pub fn same_origin(origin: Option<&str>, host: Option<&str>) -> bool {
    let Some(origin) = origin else { return true };
    let Some(host) = host else { return false };
    let Some(authority) = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"))
    else {
        return false;
    };
    authority.eq_ignore_ascii_case(host)
}

async fn livereload(
    ws: WebSocketUpgrade,
    State(state): State<Arc<ServerState>>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let origin = headers
        .get(header::ORIGIN)
        .map(|o| o.to_str().unwrap_or("null"));
    let host = request_host(&headers, &uri);
    if !same_origin(origin, host.as_deref()) {
        return (
            StatusCode::FORBIDDEN,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            "the live-reload socket is for the preview's own pages\n",
        )
            .into_response();
    }
    ws.on_upgrade(move |socket| client(socket, state))
}

async fn client(mut socket: WebSocket, state: Arc<ServerState>) {
    let mut events = state.events.subscribe();
    let pending = state
        .error
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    if let Some(err) = pending {
        if socket
            .send(Message::Text(message("error", &err).into()))
            .await
            .is_err()
        {
            return;
        }
    }
    loop {
        tokio::select! {
            ev = events.recv() => match ev {
                Ok(text) => {
                    if socket.send(Message::Text(text.into())).await.is_err() {
                        return;
                    }
                }
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(_) => return,
            },
            incoming = socket.recv() => match incoming {
                Some(Ok(_)) => continue,
                _ => return,
            },
        }
    }
}

/// Percent-decodes a URL path; `None` when it is not valid UTF-8.
fn percent_decode(path: &str) -> Option<String> {
    let bytes = path.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// The site path (`guide/intro`, `""` for the root) a request path names, or
/// `None` for anything that would leave the site (`..`, encoded or not,
/// backslashes, NUL).
pub fn resolve(request_path: &str) -> Option<String> {
    let decoded = percent_decode(request_path)?;
    if decoded.contains('\0') || decoded.contains('\\') {
        return None;
    }
    let mut parts = Vec::new();
    for part in decoded.split('/') {
        match part {
            "" | "." => {}
            ".." => return None,
            p => {
                if Path::new(p)
                    .components()
                    .any(|c| !matches!(c, Component::Normal(_)))
                {
                    return None;
                }
                parts.push(p);
            }
        }
    }
    Some(parts.join("/"))
}

/// Whether the site has files under the folder `dir` (`guide/`, `""` for the root).
fn is_folder(files: &Files, dir: &str) -> bool {
    files
        .range::<str, _>((std::ops::Bound::Included(dir), std::ops::Bound::Unbounded))
        .next()
        .is_some_and(|(p, _)| p.starts_with(dir))
}

fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "html" | "htm" => "text/html; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "json" => "application/json",
        "svg" => "image/svg+xml",
        "xml" => "application/xml",
        "txt" => "text/plain; charset=utf-8",
        "csv" => "text/csv; charset=utf-8",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        _ => "application/octet-stream",
    }
}

fn html_with_reload(bytes: Vec<u8>) -> Vec<u8> {
    let text = String::from_utf8_lossy(&bytes);
    match text.rfind("</body>") {
        Some(i) => format!("{}{RELOAD_SCRIPT}{}", &text[..i], &text[i..]).into_bytes(),
        None => format!("{text}{RELOAD_SCRIPT}").into_bytes(),
    }
}

async fn file(State(state): State<Arc<ServerState>>, uri: Uri) -> Response {
    let files = state
        .files
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    let not_found = || {
        let page = files
            .get(crate::site::urls::output_file(crate::site::urls::NOT_FOUND).as_str())
            .map(|b| b.to_vec())
            .unwrap_or_else(|| b"Not found".to_vec());
        (
            StatusCode::NOT_FOUND,
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            html_with_reload(page),
        )
            .into_response()
    };
    let Some(path) = resolve(uri.path()) else {
        return not_found();
    };
    let dir = if path.is_empty() {
        String::new()
    } else {
        format!("{path}/")
    };
    let (path, bytes) = match files.get(&path) {
        Some(bytes) if !path.is_empty() => (path, bytes.clone()),
        _ if is_folder(&files, &dir) => {
            if !uri.path().ends_with('/') {
                // One leading slash only: `//evil.com` + `/` would send the browser
                // to another site (a scheme-relative URL).
                let location = format!("/{}/", uri.path().trim_start_matches('/'));
                return (
                    StatusCode::MOVED_PERMANENTLY,
                    [(header::LOCATION, location)],
                )
                    .into_response();
            }
            let index = format!("{dir}index.html");
            match files.get(&index) {
                Some(bytes) => (index, bytes.clone()),
                None => return not_found(),
            }
        }
        _ => return not_found(),
    };
    let kind = content_type(Path::new(&path));
    let body = if kind.starts_with("text/html") {
        axum::body::Body::from(html_with_reload(bytes.to_vec()))
    } else {
        axum::body::Body::from(bytes)
    };
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, kind),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_paths_never_leave_the_site() {
        assert_eq!(resolve("/guide/a/").as_deref(), Some("guide/a"));
        assert_eq!(resolve("/").as_deref(), Some(""));
        assert_eq!(resolve("//guide/./a").as_deref(), Some("guide/a"));
        assert_eq!(resolve("/%E9%83%A8%E7%BD%B2/").as_deref(), Some("部署"));
        for bad in [
            "/../etc/passwd",
            "/a/../../etc",
            "/%2e%2e/etc/passwd",
            "/%2E%2E%2Fetc",
            "/a%5c..%5cb",
            "/a%00b",
            "/%zz",
        ] {
            assert_eq!(resolve(bad), None, "{bad}");
        }
    }

    #[test]
    fn folders_are_found_by_their_files() {
        let files: Files = ["guide/a/index.html", "guide/b.txt", "guides.txt"]
            .into_iter()
            .map(|p| (p.to_string(), bytes::Bytes::new()))
            .collect();
        assert!(is_folder(&files, ""));
        assert!(is_folder(&files, "guide/"));
        assert!(is_folder(&files, "guide/a/"));
        assert!(!is_folder(&files, "guide/b/"));
        assert!(!is_folder(&files, "gui/"));
        assert!(!is_folder(&files, "guides.txt/"));
    }

    #[test]
    fn rebuild_lines_say_what_was_rebuilt() {
        let parts = |pages, statics| Rebuilt::Parts { pages, statics };
        assert_eq!(rebuilt_line(parts(1, 0), 7), "rebuilt 1 page in 7 ms");
        assert_eq!(rebuilt_line(parts(68, 0), 31), "rebuilt 68 pages in 31 ms");
        assert_eq!(
            rebuilt_line(parts(1, 2), 3),
            "rebuilt 1 page and copied 2 static files in 3 ms"
        );
        assert_eq!(rebuilt_line(parts(0, 1), 1), "copied 1 static file in 1 ms");
        assert_eq!(
            rebuilt_line(Rebuilt::Site, 120),
            "rebuilt the site in 120 ms"
        );
    }

    #[test]
    fn only_this_machine_s_names_are_local_hosts() {
        for ok in [
            "127.0.0.1:1111",
            "localhost:1111",
            "LOCALHOST:1111",
            "localhost",
            "docs.localhost:1111",
            "[::1]:1111",
            "127.0.0.2:1111",
            "localhost.:1111",
        ] {
            assert!(is_local_host(ok, 1111), "{ok}");
        }
        for bad in [
            "evil.com:1111",
            "evil.com",
            "127.0.0.1.evil.com:1111",
            "localhost.evil.com:1111",
            "localhost:2222",
            "127.0.0.1:1111:1111",
            "[::1]x:1111",
            "[::1",
            "192.168.1.5:1111",
            "",
            "localhost:",
        ] {
            assert!(!is_local_host(bad, 1111), "{bad}");
        }
    }

    #[test]
    fn the_socket_is_for_the_server_s_own_pages() {
        let host = Some("127.0.0.1:1111");
        assert!(same_origin(None, host));
        assert!(same_origin(Some("http://127.0.0.1:1111"), host));
        assert!(!same_origin(Some("http://evil.com"), host));
        assert!(!same_origin(Some("http://127.0.0.1:2222"), host));
        assert!(!same_origin(Some("http://127.0.0.1:1111.evil.com"), host));
        assert!(!same_origin(Some("null"), host));
        assert!(!same_origin(Some("http://127.0.0.1:1111"), None));
    }

    #[test]
    fn reload_script_goes_before_the_body_end() {
        let out = String::from_utf8(html_with_reload(
            b"<html><body><p>x</p></body></html>".to_vec(),
        ))
        .unwrap();
        assert!(out.contains("<p>x</p><script>"));
        assert!(out.ends_with("</script>\n</body></html>"));
    }
}
