//! `minhbach serve`: a local preview. The site is built (with a small
//! live-reload script in every page, in this mode only) into a directory,
//! served on 127.0.0.1 only, and rebuilt when the config, content,
//! templates, theme, static files or ledger change; open pages poll a
//! version number and reload when it moves.
//!
//! The server is a few dozen lines over `std::net`: GET and HEAD of files
//! under the output directory, nothing else. Paths are decoded, `..` and
//! absolute components are refused, and the resolved file must lie inside
//! the output directory.

use super::RenderOptions;
use crate::portal::Portal;
use anyhow::{Context, Result};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

/// The most bytes of a request (line and headers) that are read.
const REQUEST_LIMIT: u64 = 16 * 1024;

/// The URL open pages poll for the build version.
pub const VERSION_PATH: &str = "/__minhbach/version";

const RELOAD_SCRIPT: &str = r#"<script>(function(){var v=null;setInterval(function(){fetch("/__minhbach/version",{cache:"no-store"}).then(function(r){return r.text()}).then(function(t){if(v===null){v=t}else if(t!==v){location.reload()}}).catch(function(){})},1000)})();</script>"#;

/// Adds the live-reload script before `</body>` (serve mode only).
pub fn inject_reload_script(html: &str) -> String {
    match html.rfind("</body>") {
        Some(index) => format!("{}{RELOAD_SCRIPT}{}", &html[..index], &html[index..]),
        None => format!("{html}{RELOAD_SCRIPT}"),
    }
}

pub struct ServeOptions {
    pub port: u16,
    /// Where the preview is built.
    pub output: PathBuf,
    /// Build into a non-empty folder that no earlier build made.
    pub force: bool,
}

/// Connections handled at once: a thread each. A preview has one reader; a
/// page opens a few connections at a time (browsers: 6 per host). Slow or
/// idle connections hold a slot for at most `REQUEST_DEADLINE`.
const MAX_CONNECTIONS: u64 = 256;

/// The time a client has to send its whole request line and headers, and
/// then to take the response. A deadline per request, not per read: a
/// client sending a byte every few seconds is cut off all the same.
const REQUEST_DEADLINE: Duration = Duration::from_secs(5);

pub fn serve(portal: &Portal, options: &ServeOptions) -> Result<()> {
    let listener = TcpListener::bind(("127.0.0.1", options.port))
        .with_context(|| format!("cannot listen on 127.0.0.1:{}", options.port))?;
    let port = listener.local_addr()?.port();
    let render = RenderOptions {
        base_url: Some(format!("http://127.0.0.1:{port}/")),
        live_reload: true,
        progress: true,
        force: options.force,
        ..RenderOptions::default()
    };
    let output = options.output.clone();
    // Taken before the first build, so that a change made while it runs, or
    // before the watcher thread starts, is still seen as a change.
    let sources = fingerprint(&portal.root);
    let report = super::build(portal, &output, &render)?;
    eprintln!(
        "built {} pages into `{}` in {:.2}s",
        report.render.pages,
        output.display(),
        report.elapsed.as_secs_f64()
    );
    println!("serving on http://127.0.0.1:{port}/ (Ctrl+C to stop)");
    let version = Arc::new(AtomicU64::new(1));
    {
        let portal = portal.clone();
        let output = output.clone();
        let version = Arc::clone(&version);
        std::thread::spawn(move || watch(&portal, sources, &output, &render, &version));
    }
    let root = output
        .canonicalize()
        .with_context(|| format!("failed to read `{}`", output.display()))?;
    let busy = Arc::new(AtomicU64::new(0));
    for stream in listener.incoming() {
        let Ok(stream) = stream else { continue };
        // A thread per connection, but not without end: past the cap a
        // connection is closed at once (a browser retries).
        if busy.load(Ordering::SeqCst) >= MAX_CONNECTIONS {
            drop(stream);
            continue;
        }
        busy.fetch_add(1, Ordering::SeqCst);
        let root = root.clone();
        let version = Arc::clone(&version);
        let busy = Arc::clone(&busy);
        std::thread::spawn(move || {
            let _ = handle(stream, &root, &version);
            busy.fetch_sub(1, Ordering::SeqCst);
        });
    }
    Ok(())
}

/// Rebuilds when a source changes (polling modification times: no extra
/// dependency, works on every file system).
/// `last` is the fingerprint of the sources the current output was built
/// from.
fn watch(
    portal: &Portal,
    mut last: Fingerprint,
    output: &Path,
    render: &RenderOptions,
    version: &AtomicU64,
) {
    loop {
        std::thread::sleep(Duration::from_millis(500));
        let now = fingerprint(&portal.root);
        if now == last {
            continue;
        }
        last = now;
        // Config may have changed too: reopen the portal.
        let rebuilt =
            Portal::open(&portal.root).and_then(|fresh| super::build(&fresh, output, render));
        match rebuilt {
            Ok(report) => {
                version.fetch_add(1, Ordering::SeqCst);
                eprintln!(
                    "rebuilt: {} files written, {} unchanged, {} removed ({:.2}s)",
                    report.merge.written,
                    report.merge.unchanged,
                    report.merge.removed,
                    report.elapsed.as_secs_f64()
                );
            }
            Err(error) => eprintln!("error: {error:#}"),
        }
    }
}

/// Count, total size and newest modification time of the watched sources.
type Fingerprint = (u64, u64, Option<SystemTime>);

/// The watched sources' `Fingerprint` now.
fn fingerprint(root: &Path) -> Fingerprint {
    let mut count = 0;
    let mut size = 0;
    let mut newest = None;
    let watched = [
        "config.toml",
        "content",
        "templates",
        "themes",
        "static",
        "i18n",
        "ledger",
    ];
    for name in watched {
        for entry in walkdir::WalkDir::new(root.join(name)).into_iter().flatten() {
            if let Ok(meta) = entry.metadata() {
                count += 1;
                size += meta.len();
                let modified = meta.modified().ok();
                if modified > newest {
                    newest = modified;
                }
            }
        }
    }
    (count, size, newest)
}

fn handle(stream: TcpStream, root: &Path, version: &AtomicU64) -> Result<()> {
    let deadline = Instant::now() + REQUEST_DEADLINE;
    stream.set_write_timeout(Some(REQUEST_DEADLINE))?;
    // A request line and headers longer than this are cut off: the preview
    // never needs more, and an endless line must not grow memory.
    let timed = DeadlineReader {
        stream: stream.try_clone()?,
        deadline,
    };
    let mut reader = BufReader::new(timed.take(REQUEST_LIMIT));
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    // Read the headers, keeping only `Host`.
    let mut host = None;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 || line == "\r\n" || line == "\n" {
            break;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.trim().eq_ignore_ascii_case("host")
        {
            host = Some(value.trim().to_string());
        }
    }
    let mut parts = request_line.split_whitespace();
    let method = parts.next().unwrap_or("");
    let target = parts.next().unwrap_or("/");
    let mut stream = stream;
    if !host.as_deref().is_none_or(is_loopback_host) {
        return respond(
            &mut stream,
            method,
            "403 Forbidden",
            "text/plain",
            b"this preview answers only to localhost and 127.0.0.1\n",
        );
    }
    if method != "GET" && method != "HEAD" {
        return respond(
            &mut stream,
            method,
            "405 Method Not Allowed",
            "text/plain",
            b"method not allowed\n",
        );
    }
    let path = target.split(['?', '#']).next().unwrap_or("/");
    if path == VERSION_PATH {
        let body = version.load(Ordering::SeqCst).to_string();
        return respond(&mut stream, method, "200 OK", "text/plain", body.as_bytes());
    }
    match resolve(root, path) {
        Some(file) => {
            let body = std::fs::read(&file)?;
            respond(&mut stream, method, "200 OK", content_type(&file), &body)
        }
        None => {
            let body =
                std::fs::read(root.join("404.html")).unwrap_or_else(|_| b"not found\n".to_vec());
            respond(
                &mut stream,
                method,
                "404 Not Found",
                "text/html; charset=utf-8",
                &body,
            )
        }
    }
}

/// Reads from a connection until a deadline: each read waits at most for
/// what is left of the time.
struct DeadlineReader {
    stream: TcpStream,
    deadline: Instant,
}

impl Read for DeadlineReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let left = self.deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "the request took too long",
            ));
        }
        self.stream.set_read_timeout(Some(left))?;
        self.stream.read(buf)
    }
}

/// Whether a `Host` header names this machine's loopback. A page on another
/// site whose name was made to resolve to 127.0.0.1 (DNS rebinding) sends
/// its own name, and is refused: the preview may show what is not yet
/// published.
fn is_loopback_host(host: &str) -> bool {
    let name = match host.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    };
    matches!(
        name.to_ascii_lowercase().as_str(),
        "localhost" | "127.0.0.1" | "[::1]"
    )
}

/// The file a URL path names inside `root`, or `None` (missing, or outside).
pub fn resolve(root: &Path, url_path: &str) -> Option<PathBuf> {
    let decoded = percent_decode(url_path)?;
    let relative = Path::new(decoded.trim_start_matches('/'));
    if decoded.contains(['\\', '\0'])
        || !relative
            .components()
            .all(|c| matches!(c, Component::Normal(_)))
    {
        return None;
    }
    let mut candidate = root.join(relative);
    if candidate.is_dir() {
        candidate = candidate.join("index.html");
    }
    let real = candidate.canonicalize().ok()?;
    (real.starts_with(root) && real.is_file()).then_some(real)
}

fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        if bytes[index] == b'%' {
            let hex = std::str::from_utf8(bytes.get(index + 1..index + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            index += 3;
        } else {
            out.push(bytes[index]);
            index += 1;
        }
    }
    String::from_utf8(out).ok()
}

fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "js" => "text/javascript; charset=utf-8",
        "xml" => "application/xml; charset=utf-8",
        "json" => "application/json",
        "jsonl" => "application/jsonl; charset=utf-8",
        "csv" => "text/csv; charset=utf-8",
        "txt" => "text/plain; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "webp" => "image/webp",
        "pdf" => "application/pdf",
        _ => "application/octet-stream",
    }
}

fn respond(
    stream: &mut TcpStream,
    method: &str,
    status: &str,
    content_type: &str,
    body: &[u8],
) -> Result<()> {
    write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n",
        body.len()
    )?;
    if method != "HEAD" {
        stream.write_all(body)?;
    }
    stream.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_outside_the_site_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("site");
        std::fs::create_dir_all(root.join("quy")).unwrap();
        std::fs::write(root.join("index.html"), "x").unwrap();
        std::fs::write(root.join("quy/index.html"), "y").unwrap();
        std::fs::write(dir.path().join("secret"), "s").unwrap();
        let root = root.canonicalize().unwrap();
        assert!(resolve(&root, "/").is_some());
        assert!(resolve(&root, "/quy/").is_some());
        assert!(resolve(&root, "/../secret").is_none());
        assert!(resolve(&root, "/%2e%2e/secret").is_none());
        assert!(resolve(&root, "/quy/..%2f..%2fsecret").is_none());
        assert!(resolve(&root, "/nope").is_none());
    }

    #[test]
    fn only_loopback_names_are_answered() {
        for host in [
            "localhost",
            "localhost:1111",
            "127.0.0.1:1111",
            "[::1]:80",
            "LOCALHOST",
        ] {
            assert!(is_loopback_host(host), "{host}");
        }
        for host in [
            "evil.example",
            "evil.example:1111",
            "127.0.0.1.evil.example",
            "localhost.",
            "",
        ] {
            assert!(!is_loopback_host(host), "{host}");
        }
    }

    #[test]
    fn reload_script_goes_before_body_end() {
        let html = inject_reload_script("<html><body>x</body></html>");
        assert!(html.contains("x<script>"), "{html}");
        assert!(html.ends_with("</script></body></html>"));
    }
}
