//! `opsmeter serve` through the real binary: pages are served with the
//! live-reload script, paths outside the site get 404, an edit rebuilds what
//! it affects (a body: that page only; a title: the pages that show it; a
//! template: the pages; a static file: that file), and a broken edit keeps the
//! last good site. It answers only what a browser on this machine should get:
//! other hosts' names (DNS rebinding) and other origins' sockets are refused,
//! and no redirect leaves the site.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

struct Server {
    child: Child,
    addr: String,
    /// What the server has printed on stderr so far.
    stderr: Arc<Mutex<String>>,
}

impl Server {
    fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }
}

impl Drop for Server {
    /// Ctrl-C, as a user would stop it: the server removes its temporary folder.
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status();
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(5) {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(root: &Path) -> Server {
    start_with_tmp(root, &std::env::temp_dir())
}

fn start_with_tmp(root: &Path, tmp: &Path) -> Server {
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("opsmeter"))
        .env("TMPDIR", tmp)
        .arg("--root")
        .arg(root)
        .args(["serve", "--port", "0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = Arc::new(Mutex::new(String::new()));
    let lines = BufReader::new(child.stderr.take().unwrap());
    let sink = stderr.clone();
    std::thread::spawn(move || {
        for line in lines.lines().map_while(Result::ok) {
            let mut all = sink.lock().unwrap();
            all.push_str(&line);
            all.push('\n');
        }
    });
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    // "Serving <root> at http://127.0.0.1:PORT/ (Ctrl-C to stop)"
    let addr = line
        .split("http://")
        .nth(1)
        .and_then(|r| r.split('/').next())
        .unwrap_or_else(|| panic!("no address in {line:?}"))
        .to_string();
    Server {
        child,
        addr,
        stderr,
    }
}

/// A raw GET, so the path reaches the server exactly as written.
fn get(addr: &str, path: &str) -> (u16, String) {
    raw(
        addr,
        &format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"),
    )
}

/// A raw request, written exactly as given: (status, whole response).
fn raw(addr: &str, request: &str) -> (u16, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(request.as_bytes()).unwrap();
    let mut response = String::new();
    s.read_to_string(&mut response).unwrap();
    let status = response
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (status, response)
}

/// The value of a response header, by lower-case name.
fn header<'a>(response: &'a str, name: &str) -> Option<&'a str> {
    let head = response.split("\r\n\r\n").next().unwrap_or("");
    head.lines().skip(1).find_map(|l| {
        let (k, v) = l.split_once(':')?;
        (k.trim().eq_ignore_ascii_case(name)).then(|| v.trim())
    })
}

/// Opens the live-reload websocket with an optional `Origin`: the stream
/// after a 101, or the status the server answered instead.
fn websocket(addr: &str, origin: Option<&str>) -> Result<TcpStream, u16> {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let origin = origin
        .map(|o| format!("Origin: {o}\r\n"))
        .unwrap_or_default();
    write!(
        s,
        "GET /__opsmeter/livereload HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\n\
         Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
         Sec-WebSocket-Version: 13\r\n{origin}\r\n"
    )
    .unwrap();
    // The head of the response, byte by byte, so no frame after it is consumed.
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if s.read(&mut byte).unwrap() == 0 {
            break;
        }
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head);
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    if status == 101 {
        Ok(s)
    } else {
        Err(status)
    }
}

/// The next text message of a websocket (server frames are not masked), or
/// `None` when none comes within `wait`.
fn next_text(s: &mut TcpStream, wait: Duration) -> Option<String> {
    s.set_read_timeout(Some(wait)).unwrap();
    let mut head = [0u8; 2];
    s.read_exact(&mut head).ok()?;
    let len = match head[1] & 0x7f {
        126 => {
            let mut n = [0u8; 2];
            s.read_exact(&mut n).ok()?;
            u16::from_be_bytes(n) as usize
        }
        127 => {
            let mut n = [0u8; 8];
            s.read_exact(&mut n).ok()?;
            u64::from_be_bytes(n) as usize
        }
        n => n as usize,
    };
    let mut payload = vec![0u8; len];
    s.read_exact(&mut payload).ok()?;
    (head[0] & 0x0f == 1).then(|| String::from_utf8_lossy(&payload).into_owned())
}

/// Polls `ok` every 10 ms until it holds; fails after 10 s.
/// The next live-reload message of `kind` (`reload`, `error`) within 10 s.
fn next_of_type(socket: &mut TcpStream, kind: &str) -> serde_json::Value {
    let start = Instant::now();
    while let Some(left) = Duration::from_secs(10).checked_sub(start.elapsed()) {
        let Some(text) = next_text(socket, left) else {
            break;
        };
        let message: serde_json::Value = serde_json::from_str(&text).unwrap();
        if message["type"] == kind {
            return message;
        }
    }
    panic!("no {kind} message within 10 s");
}

fn wait_for(what: &str, mut ok: impl FnMut() -> bool) {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(10) {
        if ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!("timed out waiting for {what}");
}

/// The body of a page (what follows the response head).
fn body(addr: &str, path: &str) -> String {
    let (status, response) = get(addr, path);
    assert_eq!(status, 200, "{path}");
    response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default()
}

/// Pages and files of the fixture site, in both languages.
const PATHS: [&str; 14] = [
    "/",
    "/about/",
    "/guide/",
    "/guide/intro/",
    "/guide/second/",
    "/guide/nested/",
    "/guide/nested/deep-page/",
    "/zh/",
    "/zh/guide/",
    "/zh/guide/intro/",
    "/sitemap.xml",
    "/search/en.json",
    "/search/zh.json",
    "/robots.txt",
];

/// The bodies of [`PATHS`].
fn bodies(addr: &str) -> Vec<(&'static str, String)> {
    PATHS.iter().map(|p| (*p, body(addr, p))).collect()
}

/// The paths of [`PATHS`] whose bodies differ.
fn changed(
    before: &[(&'static str, String)],
    after: &[(&'static str, String)],
) -> Vec<&'static str> {
    before
        .iter()
        .zip(after)
        .filter(|(a, b)| a.1 != b.1)
        .map(|(a, _)| a.0)
        .collect()
}

/// Edits the file at `path`: `from` becomes `to`.
fn replace_in(path: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(text.contains(from), "{} has no {from:?}", path.display());
    std::fs::write(path, text.replace(from, to)).unwrap();
}

fn fixture_copy() -> tempfile::TempDir {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/site");
    let dir = tempfile::tempdir().unwrap();
    for item in walkdir::WalkDir::new(&src) {
        let item = item.unwrap();
        let dest = dir.path().join(item.path().strip_prefix(&src).unwrap());
        if item.file_type().is_dir() {
            std::fs::create_dir_all(&dest).unwrap();
        } else {
            std::fs::copy(item.path(), &dest).unwrap();
        }
    }
    dir
}

#[test]
fn serves_pages_with_live_reload_and_refuses_paths_outside_the_site() {
    let site = fixture_copy();
    let server = start(site.path());
    let (status, body) = get(&server.addr, "/guide/intro/");
    assert_eq!(status, 200);
    assert!(body.contains("<h1>Introduction</h1>"));
    assert!(body.contains("/__opsmeter/livereload"));
    let (status, _) = get(&server.addr, "/guide");
    assert_eq!(status, 301);
    for bad in [
        "/../../etc/passwd",
        "/%2e%2e/%2e%2e/etc/passwd",
        "/guide/..%2f..%2f..%2fetc/passwd",
        "/a%5c..%5c..%5cetc",
    ] {
        let (status, body) = get(&server.addr, bad);
        assert_eq!(status, 404, "{bad}");
        assert!(!body.contains("root:"), "{bad}");
    }
    let (status, body) = get(&server.addr, "/no/such/page/");
    assert_eq!(status, 404);
    assert!(body.contains("Page not found"));
}

/// A body edit re-renders that page (and its language's search index) and
/// nothing else; the server says so.
#[test]
fn a_body_edit_rebuilds_that_page_only() {
    let site = fixture_copy();
    let server = start(site.path());
    let before = bodies(&server.addr);
    let about = site.path().join("content/about.md");
    replace_in(
        &about,
        "No front matter surprises here.",
        "Edited while serving.",
    );
    wait_for("the edit to be served", || {
        body(&server.addr, "/about/").contains("Edited while serving.")
    });
    // The search index follows the page.
    wait_for("the search index to have the new words", || {
        body(&server.addr, "/search/en.json").contains("\"edited\"")
    });
    assert_eq!(
        changed(&before, &bodies(&server.addr)),
        vec!["/about/", "/search/en.json"]
    );
    wait_for("the rebuild line", || {
        server.stderr().contains("rebuilt 1 page in ")
    });
}

/// A title shows in the sidebar of the other pages of its section and in the
/// section's list: they are rebuilt too.
#[test]
fn a_title_edit_shows_in_a_sibling_s_sidebar() {
    let site = fixture_copy();
    let server = start(site.path());
    assert!(!body(&server.addr, "/guide/second/").contains("Getting started"));
    let intro = site.path().join("content/guide/intro.md");
    replace_in(
        &intro,
        "title = \"Introduction\"",
        "title = \"Getting started\"",
    );
    wait_for("the sibling's sidebar to show the new title", || {
        body(&server.addr, "/guide/second/").contains("Getting started")
    });
    assert!(body(&server.addr, "/guide/").contains("Getting started"));
}

/// A template edit changes every page that uses it.
#[test]
fn a_template_edit_changes_the_pages() {
    let site = fixture_copy();
    let server = start(site.path());
    let page = site.path().join("templates/page.html");
    std::fs::write(
        &page,
        "{% extends \"base.html\" %}{% block content %}<p class=\"mine\">{{ page.title }}</p>{% endblock content %}",
    )
    .unwrap();
    wait_for("the new template to be used", || {
        body(&server.addr, "/about/").contains("<p class=\"mine\">About</p>")
    });
    assert!(body(&server.addr, "/guide/intro/").contains("<p class=\"mine\">Introduction</p>"));
    assert!(body(&server.addr, "/guide/nested/deep-page/").contains("<p class=\"mine\">"));
}

/// A static file added is served; changed, it is served changed.
#[test]
fn a_static_file_added_is_served() {
    let site = fixture_copy();
    let server = start(site.path());
    assert_eq!(get(&server.addr, "/notes.txt").0, 404);
    let notes = site.path().join("static/notes.txt");
    std::fs::write(&notes, "first\n").unwrap();
    wait_for("the new file to be served", || {
        get(&server.addr, "/notes.txt")
            .1
            .ends_with("\r\n\r\nfirst\n")
    });
    std::fs::write(&notes, "second\n").unwrap();
    wait_for("the changed file to be served", || {
        get(&server.addr, "/notes.txt")
            .1
            .ends_with("\r\n\r\nsecond\n")
    });
    wait_for("the copy line", || {
        server.stderr().contains("copied 1 static file in ")
    });
}

/// A source folder created while serving (here `i18n/`) is watched from then
/// on: a later edit inside it is rebuilt too.
#[test]
fn a_source_folder_created_while_serving_is_watched() {
    let site = fixture_copy();
    assert!(!site.path().join("i18n").exists());
    let server = start(site.path());
    let i18n = site.path().join("i18n");
    std::fs::create_dir(&i18n).unwrap();
    std::fs::write(i18n.join("en.toml"), "search = \"Find it\"\n").unwrap();
    wait_for("the new string to be used", || {
        body(&server.addr, "/about/").contains("Find it")
    });
    // Well after the folder was created and rebuilt: only a watch inside it sees this.
    std::fs::write(i18n.join("en.toml"), "search = \"Look it up\"\n").unwrap();
    wait_for("the edited string to be used", || {
        body(&server.addr, "/about/").contains("Look it up")
    });
}

/// Broken front matter is an error on the live-reload socket (file and line)
/// while the last good page keeps being served; fixing it recovers.
#[test]
fn a_broken_edit_keeps_the_last_good_site_until_it_is_fixed() {
    let site = fixture_copy();
    let server = start(site.path());
    let about = site.path().join("content/about.md");
    let original = std::fs::read_to_string(&about).unwrap();
    let good = body(&server.addr, "/about/");
    let mut socket = websocket(&server.addr, None).unwrap();
    // The server subscribes the socket just after its answer.
    std::thread::sleep(Duration::from_millis(50));

    std::fs::write(&about, "+++\ntitle = \"About\nbroken\n+++\nBroken text.\n").unwrap();
    let message = next_of_type(&mut socket, "error");
    let text = message["message"].as_str().unwrap();
    assert!(
        text.starts_with("content/about.md:2: invalid front matter"),
        "{text}"
    );
    assert_eq!(
        body(&server.addr, "/about/"),
        good,
        "the last good page is served"
    );
    // A page opened now is told too.
    let mut late = websocket(&server.addr, None).unwrap();
    let told = next_text(&mut late, Duration::from_secs(10)).unwrap_or_default();
    assert!(told.contains("content/about.md:2"), "{told}");

    std::fs::write(
        &about,
        original.replace("No front matter surprises here.", "Fixed again."),
    )
    .unwrap();
    next_of_type(&mut socket, "reload");
    wait_for("the fix to be served", || {
        body(&server.addr, "/about/").contains("Fixed again.")
    });
    let mut fresh = websocket(&server.addr, None).unwrap();
    assert_eq!(
        next_text(&mut fresh, Duration::from_millis(300)),
        None,
        "no error is pending"
    );
}

/// The folders left in a private temporary folder (serve builds under `TMPDIR`).
fn entries(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

fn wait_exit(server: &mut Server, within: Duration) -> std::process::ExitStatus {
    let start = Instant::now();
    loop {
        if let Some(s) = server.child.try_wait().unwrap() {
            return s;
        }
        assert!(
            start.elapsed() < within,
            "still running {within:?} after the signal"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Ctrl-C and SIGTERM stop the server within 5 s, even while a client holds a
/// half-sent request. The site is built and served from memory: nothing is
/// written to the temporary folder, while serving or after.
#[test]
fn ctrl_c_or_sigterm_stops_the_server_and_writes_nothing() {
    let site = fixture_copy();
    for signal in ["-INT", "-TERM"] {
        let tmp = tempfile::tempdir().unwrap();
        let mut server = start_with_tmp(site.path(), tmp.path());
        assert_eq!(get(&server.addr, "/about/").0, 200);
        assert_eq!(entries(tmp.path()), Vec::<String>::new());
        // A client that sends half a request and then waits.
        let mut half = TcpStream::connect(&server.addr).unwrap();
        write!(half, "GET /guide/ HTTP/1.1\r\nHost: {}\r\n", server.addr).unwrap();
        Command::new("kill")
            .args([signal, &server.child.id().to_string()])
            .status()
            .unwrap();
        let status = wait_exit(&mut server, Duration::from_secs(5));
        assert!(status.success(), "{signal}: {status:?}");
        assert!(entries(tmp.path()).is_empty(), "{signal}: file left behind");
        drop(half);
    }
}

/// A failed first build and a port in use end with an error, and leave no folder.
#[test]
fn a_failed_start_leaves_no_folder() {
    let site = fixture_copy();
    let tmp = tempfile::tempdir().unwrap();
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = busy.local_addr().unwrap().port().to_string();
    let out = Command::new(assert_cmd::cargo::cargo_bin("opsmeter"))
        .env("TMPDIR", tmp.path())
        .arg("--root")
        .arg(site.path())
        .args(["serve", "--port", &port])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("binding 127.0.0.1:"));
    assert!(entries(tmp.path()).is_empty());

    std::fs::write(
        site.path().join("content/about.md"),
        "+++\ntitle = \"About\nbroken\n+++\n",
    )
    .unwrap();
    let out = Command::new(assert_cmd::cargo::cargo_bin("opsmeter"))
        .env("TMPDIR", tmp.path())
        .arg("--root")
        .arg(site.path())
        .args(["serve", "--port", "0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("content/about.md:2: invalid front matter"),
        "{stderr}"
    );
    assert!(entries(tmp.path()).is_empty());
}

/// A template edited to include itself fails the rebuild with its file and
/// line, shown in the browser's overlay; the server keeps serving the last
/// good site, and fixing the template clears it.
#[test]
fn a_template_that_includes_itself_is_an_overlay_and_the_server_survives() {
    let site = fixture_copy();
    let server = start(site.path());
    let (status, good) = get(&server.addr, "/about/");
    assert_eq!(status, 200);
    let page = site.path().join("templates/page.html");
    assert!(!page.exists(), "the fixture uses the theme's page.html");
    std::fs::write(&page, "<main>\n{% include \"page.html\" %}\n</main>\n").unwrap();
    let mut message = None;
    wait_for("the failed rebuild to reach a new page's socket", || {
        let mut ws = websocket(&server.addr, Some(&format!("http://{}", server.addr))).unwrap();
        message = next_text(&mut ws, Duration::from_millis(300));
        message.is_some()
    });
    let message: serde_json::Value = serde_json::from_str(&message.unwrap()).unwrap();
    assert_eq!(message["type"], "error");
    let text = message["message"].as_str().unwrap();
    assert!(
        text.starts_with("templates/page.html:2: templates include or call each other without end (page.html → page.html)"),
        "{text}"
    );
    let (status, body) = get(&server.addr, "/about/");
    assert_eq!(status, 200, "the server survived");
    let body_of = |r: &str| r.split_once("\r\n\r\n").map(|(_, b)| b.to_string());
    assert_eq!(
        body_of(&body),
        body_of(&good),
        "the last good page is served"
    );

    std::fs::remove_file(&page).unwrap();
    wait_for("the fix to clear the error", || {
        let mut ws = websocket(&server.addr, None).unwrap();
        next_text(&mut ws, Duration::from_millis(300)).is_none()
    });
}

/// Bound to loopback, a request naming another host (a page of another site
/// whose name resolves to 127.0.0.1: DNS rebinding) gets 403 and no content;
/// this machine's names are served.
#[test]
fn requests_for_other_hosts_are_refused() {
    let site = fixture_copy();
    let server = start(site.path());
    let port = server.addr.rsplit(':').next().unwrap().to_string();
    for host in [
        format!("evil.example:{port}"),
        "evil.example".to_string(),
        format!("127.0.0.1.evil.example:{port}"),
        format!("localhost.evil.example:{port}"),
        format!("192.168.0.10:{port}"),
        "127.0.0.1:1".to_string(),
    ] {
        let (status, response) = raw(
            &server.addr,
            &format!("GET /about/ HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"),
        );
        assert_eq!(status, 403, "{host}");
        assert!(!response.contains("No front matter"), "{host}");
    }
    let (status, response) = raw(&server.addr, "GET /about/ HTTP/1.0\r\n\r\n");
    assert_eq!(status, 403, "no Host at all");
    assert!(!response.contains("No front matter"));
    for host in [
        format!("127.0.0.1:{port}"),
        format!("localhost:{port}"),
        format!("LocalHost:{port}"),
        format!("[::1]:{port}"),
    ] {
        let (status, response) = raw(
            &server.addr,
            &format!("GET /about/ HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"),
        );
        assert_eq!(status, 200, "{host}");
        assert!(response.contains("No front matter"), "{host}");
    }
}

/// The live-reload socket opens for the preview's own pages (and clients
/// that send no Origin), never for a page of another origin.
#[test]
fn the_live_reload_socket_refuses_other_origins() {
    let site = fixture_copy();
    let server = start(site.path());
    let port = server.addr.rsplit(':').next().unwrap();
    for origin in [
        "http://evil.example".to_string(),
        format!("http://evil.example:{port}"),
        "http://127.0.0.1:1".to_string(),
        "null".to_string(),
    ] {
        assert_eq!(
            websocket(&server.addr, Some(&origin)).err(),
            Some(403),
            "{origin}"
        );
    }
    assert!(websocket(&server.addr, Some(&format!("http://{}", server.addr))).is_ok());
    assert!(websocket(&server.addr, None).is_ok());
}

/// Paths that start with `//` (or more) are paths of this site: the redirect
/// that adds a trailing slash stays on it, never `Location: //evil.example/`.
#[test]
fn redirects_never_leave_the_site() {
    let site = fixture_copy();
    std::fs::create_dir_all(site.path().join("static/evil.example")).unwrap();
    std::fs::write(site.path().join("static/evil.example/a.txt"), "a\n").unwrap();
    let server = start(site.path());
    for (path, location) in [
        ("/evil.example", "/evil.example/"),
        ("//evil.example", "/evil.example/"),
        ("///evil.example", "/evil.example/"),
        ("//guide", "/guide/"),
        ("/%2F/evil.example", "/%2F/evil.example/"),
    ] {
        let (status, response) = get(&server.addr, path);
        assert_eq!(status, 301, "{path}");
        assert_eq!(header(&response, "location"), Some(location), "{path}");
    }
    for path in ["//evil.example/a.txt", "///evil.example/a.txt"] {
        let (status, response) = get(&server.addr, path);
        assert_eq!(status, 200, "{path}");
        assert!(response.ends_with("\r\n\r\na\n"), "{path}: {response}");
    }
    let (status, response) = get(&server.addr, "//no-such-host.example");
    assert_eq!(status, 404);
    assert_eq!(header(&response, "location"), None);
}
