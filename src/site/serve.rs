//! `minhbach serve`: a local preview. The site is built (with a small
//! live-reload script in every page, in this mode only) into a directory,
//! served on 127.0.0.1 only, and rebuilt when the config, content,
//! templates, theme, static files or ledger change, as the file system
//! tells (`notify`); open pages listen to an event stream of the build
//! version (`/__minhbach/version`, server-sent events) and reload when it
//! moves.
//!
//! It runs on the server layer it shares with the desk (`crate::server`:
//! axum on tokio, bounded connections, a deadline per request): GET and
//! HEAD of files under the output directory (tower-http's `ServeFile`),
//! nothing else. Paths are decoded, `..` and absolute components are
//! refused, and the resolved file must lie inside the output directory.

use super::RenderOptions;
use crate::portal::Portal;
use crate::server::{self, Limits, is_loopback_host};
use anyhow::{Context, Result};
use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::{Next, from_fn};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use notify::{RecursiveMode, Watcher};
use std::collections::HashSet;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc;
use std::time::Duration;
use tokio::sync::watch;
use tower::ServiceExt;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::services::ServeFile;
use tower_http::timeout::TimeoutLayer;

/// The most bytes of a request (line and headers) that are read.
const REQUEST_LIMIT: usize = 16 * 1024;

/// The URL of the build version: plain text, or with
/// `Accept: text/event-stream` a stream of it (open pages reload when it
/// moves).
pub const VERSION_PATH: &str = "/__minhbach/version";

const RELOAD_SCRIPT: &str = r#"<script>(function(){var v=null;var s=new EventSource("/__minhbach/version");s.onmessage=function(e){if(v===null){v=e.data}else if(e.data!==v){location.reload()}}})();</script>"#;

/// Adds the live-reload script before `</body>` (serve mode only).
pub fn inject_reload_script(html: &[u8]) -> Vec<u8> {
    const BODY_END: &[u8] = b"</body>";
    let at = (html.windows(BODY_END.len()))
        .rposition(|window| window == BODY_END)
        .unwrap_or(html.len());
    [&html[..at], RELOAD_SCRIPT.as_bytes(), &html[at..]].concat()
}

pub struct ServeOptions {
    pub port: u16,
    /// Where the preview is built.
    pub output: PathBuf,
    /// Build into a non-empty folder that no earlier build made.
    pub force: bool,
}

/// Connections handled at once. A preview has one reader; a page opens a
/// few connections at a time (browsers: 6 per host). Slow or idle
/// connections hold a slot for at most `REQUEST_DEADLINE`.
const MAX_CONNECTIONS: usize = 256;

/// The time a client has to send its whole request line and headers, and
/// then to take each part of the response. A deadline per request, not per
/// read: a client sending a byte every few seconds is cut off all the same.
const REQUEST_DEADLINE: Duration = Duration::from_secs(5);

/// The sources a rebuild reads, relative to the portal.
const WATCHED: [&str; 7] = [
    "config.toml",
    "content",
    "templates",
    "themes",
    "static",
    "i18n",
    "ledger",
];

/// What the handlers share: the built site and its version.
struct Preview {
    root: PathBuf,
    version: watch::Receiver<u64>,
}

pub fn serve(portal: &Portal, options: &ServeOptions) -> Result<()> {
    let runtime = server::runtime()?;
    let listener = runtime.block_on(server::bind(SocketAddr::from((
        Ipv4Addr::LOCALHOST,
        options.port,
    ))))?;
    let port = listener.local_addr()?.port();
    let render = RenderOptions {
        base_url: Some(format!("http://127.0.0.1:{port}/")),
        live_reload: true,
        progress: true,
        force: options.force,
        ..RenderOptions::default()
    };
    let output = options.output.clone();
    // Watching starts before the first build, so that a change made while
    // it runs is still seen as a change.
    let (changed, changes) = mpsc::channel();
    let sources = Sources::watch(&portal.root, changed)?;
    let report = super::build(portal, &output, &render)?;
    eprintln!(
        "built {} pages into `{}` in {:.2}s",
        report.render.pages,
        output.display(),
        report.elapsed.as_secs_f64()
    );
    // Ctrl+C or SIGTERM ends the preview cleanly, so its private folder is
    // removed; caught before the address is shown (during the first build
    // either still stops it at once).
    let stop = {
        let _runtime = runtime.enter();
        server::stop_requested()
    };
    println!("serving on http://127.0.0.1:{port}/ (Ctrl+C to stop)");
    let (version, versions) = watch::channel(1u64);
    {
        let portal = portal.clone();
        let output = output.clone();
        std::thread::spawn(move || rebuild(&portal, sources, &changes, &output, &render, &version));
    }
    let root = output
        .canonicalize()
        .with_context(|| format!("failed to read `{}`", output.display()))?;
    let preview = Arc::new(Preview {
        root,
        version: versions,
    });
    let limits = Limits {
        max_connections: MAX_CONNECTIONS,
        deadline: REQUEST_DEADLINE,
        max_head: REQUEST_LIMIT,
        keep_alive: false,
    };
    runtime.block_on(server::run(listener, router(preview), &limits, stop))
}

/// The routes, and around them (outermost last): no caching, a deadline for
/// the answer, a bounded body, loopback `Host` names only.
fn router(preview: Arc<Preview>) -> Router {
    Router::new()
        .route(VERSION_PATH, get(version))
        .fallback(file)
        .layer(from_fn(no_store))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            REQUEST_DEADLINE,
        ))
        .layer(RequestBodyLimitLayer::new(REQUEST_LIMIT))
        .layer(from_fn(loopback_only))
        .with_state(preview)
}

/// The sources' watcher: the portal itself (not recursively: `config.toml`
/// and a source folder made later) and each source folder, recursively.
/// Only the sources: the portal may hold `public/`, `target/` and more.
struct Sources {
    root: PathBuf,
    watcher: notify::RecommendedWatcher,
    watched: HashSet<PathBuf>,
}

impl Sources {
    fn watch(root: &Path, changed: mpsc::Sender<()>) -> Result<Sources> {
        // Events name absolute paths.
        let root = &std::path::absolute(root)
            .with_context(|| format!("failed to read `{}`", root.display()))?;
        let portal = root.clone();
        let watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
            let Ok(event) = event else {
                // An overflowed queue: something changed.
                let _ = changed.send(());
                return;
            };
            if matches!(event.kind, notify::EventKind::Access(_)) {
                return;
            }
            if event.paths.iter().any(|path| is_source(&portal, path)) {
                let _ = changed.send(());
            }
        })
        .context("failed to watch the portal's sources")?;
        let mut sources = Sources {
            root: root.to_path_buf(),
            watcher,
            watched: HashSet::new(),
        };
        sources
            .watcher
            .watch(root, RecursiveMode::NonRecursive)
            .with_context(|| format!("failed to watch `{}`", root.display()))?;
        sources.watch_folders();
        Ok(sources)
    }

    /// Watches every source folder that exists and is not yet watched.
    fn watch_folders(&mut self) {
        for name in WATCHED {
            let path = self.root.join(name);
            if path.is_dir() && !self.watched.contains(&path) {
                match self.watcher.watch(&path, RecursiveMode::Recursive) {
                    Ok(()) => {
                        self.watched.insert(path);
                    }
                    Err(error) => eprintln!("warning: cannot watch `{}`: {error}", path.display()),
                }
            }
        }
    }
}

/// Whether `path` is one of the portal's sources (or inside one).
fn is_source(root: &Path, path: &Path) -> bool {
    let Ok(relative) = path.strip_prefix(root) else {
        return false;
    };
    match relative.components().next() {
        Some(Component::Normal(first)) => WATCHED.iter().any(|name| first == *name),
        _ => false,
    }
}

/// Rebuilds when a source changes: a burst of changes (an editor's save, a
/// `git checkout`) is one rebuild, made once it has been quiet for a moment.
fn rebuild(
    portal: &Portal,
    mut sources: Sources,
    changes: &mpsc::Receiver<()>,
    output: &Path,
    render: &RenderOptions,
    version: &watch::Sender<u64>,
) {
    const QUIET: Duration = Duration::from_millis(200);
    while changes.recv().is_ok() {
        while changes.recv_timeout(QUIET).is_ok() {}
        // A source folder made since the last build is watched from now on.
        sources.watch_folders();
        // Config may have changed too: reopen the portal.
        let rebuilt =
            Portal::open(&portal.root).and_then(|fresh| super::build(&fresh, output, render));
        match rebuilt {
            Ok(report) => {
                version.send_modify(|number| *number += 1);
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

/// Refuses a `Host` that is not this machine's loopback (DNS rebinding: the
/// preview may show what is not yet published). A request without one (an
/// absolute-form target, HTTP/1.0) is confined like any other.
async fn loopback_only(request: Request, next: Next) -> Response {
    let host = request
        .headers()
        .get(header::HOST)
        .map(|value| value.to_str().unwrap_or("\u{0}"));
    if !host.is_none_or(is_loopback_host) {
        return plain(
            StatusCode::FORBIDDEN,
            "this preview answers only to localhost and 127.0.0.1\n",
        );
    }
    next.run(request).await
}

async fn no_store(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn plain(status: StatusCode, text: &'static str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        text,
    )
        .into_response()
}

/// The build version: plain text, or an event stream of it (the current
/// version at once, then each new one).
async fn version(State(preview): State<Arc<Preview>>, request: Request) -> Response {
    let events = request
        .headers()
        .get(header::ACCEPT)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|accept| accept.contains("text/event-stream"));
    let receiver = preview.version.clone();
    if !events {
        let now = receiver.borrow().to_string();
        return ([(header::CONTENT_TYPE, "text/plain")], now).into_response();
    }
    let stream =
        futures_util::stream::unfold((receiver, true), |(mut receiver, first)| async move {
            if !first && receiver.changed().await.is_err() {
                return None;
            }
            let now = receiver.borrow_and_update().to_string();
            Some((
                Ok::<_, std::convert::Infallible>(Event::default().data(now)),
                (receiver, false),
            ))
        });
    Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response()
}

/// A file of the built site (GET and HEAD only), or its 404 page.
async fn file(State(preview): State<Arc<Preview>>, request: Request) -> Response {
    if !matches!(*request.method(), Method::GET | Method::HEAD) {
        return plain(StatusCode::METHOD_NOT_ALLOWED, "method not allowed\n");
    }
    let Some(found) = resolve(&preview.root, request.uri().path()) else {
        let body = std::fs::read(preview.root.join("404.html"))
            .unwrap_or_else(|_| b"not found\n".to_vec());
        return (
            StatusCode::NOT_FOUND,
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            body,
        )
            .into_response();
    };
    let kind = content_type(&found);
    let Ok(mut response) = ServeFile::new(&found).oneshot(request).await;
    if response.status().is_success() {
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(kind));
    }
    response.map(Body::new)
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
    fn reload_script_goes_before_body_end() {
        let html = inject_reload_script(b"<html><body>x</body></html>");
        let html = String::from_utf8(html).unwrap();
        assert!(html.contains("x<script>"), "{html}");
        assert!(html.ends_with("</script></body></html>"));
        let fragment = String::from_utf8(inject_reload_script(b"<p>x</p>")).unwrap();
        assert!(fragment.starts_with("<p>x</p><script>"), "{fragment}");
    }
}
