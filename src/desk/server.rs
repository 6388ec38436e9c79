//! The desk's HTTP server: its routes and the layers of `security` around
//! them (the state every handler shares is `state`), served on
//! the server layer the desk shares with `serve` (`crate::server`: axum on
//! tokio, bounded connections, a deadline for each request's head).

use super::draft::Draft;
use super::pages;
use super::security::{self, Guard, MAX_BODY};
use super::state::{AppState, Desk, Shared};
use crate::ledger::Secret;
use crate::ledger::note::SigningKey;
use crate::portal::Portal;
use anyhow::{Context, Result};
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware::{from_fn, from_fn_with_state};
use axum::routing::{get, post};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::services::ServeDir;

/// How to start the desk.
pub struct DeskOptions {
    pub portal: Portal,
    pub key: SigningKey,
    pub secret: Option<Secret>,
    pub port: u16,
    /// The address to listen on; loopback unless the officer says otherwise.
    pub listen: Option<IpAddr>,
}

/// What the officer is told once the desk listens.
pub struct Started {
    /// The link with the one-time access token.
    pub url: String,
    /// Whether the desk listens beyond loopback (then a QR code is printed).
    pub on_network: bool,
}

/// Binds, reports the address through `started`, and serves until the
/// process is stopped.
pub fn start(options: DeskOptions, started: &dyn Fn(&Started)) -> Result<()> {
    crate::server::runtime()?.block_on(serve(options, started))
}

/// What the desk allows each client, on the server layer it shares with
/// `serve`: a phone on the office network and a browser or two, keeping
/// their connections; five seconds for a request's head.
const LIMITS: crate::server::Limits = crate::server::Limits {
    max_connections: 256,
    deadline: std::time::Duration::from_secs(5),
    max_head: 64 * 1024,
    keep_alive: true,
};

async fn serve(options: DeskOptions, started: &dyn Fn(&Started)) -> Result<()> {
    // The ledger must verify and the key must be one that may sign, before
    // anything is recorded with it (the same check `append` makes).
    options
        .portal
        .ledger()
        .begin_append(&options.key, &crate::cli::now())
        .map_err(|e| anyhow::anyhow!("the desk cannot sign with this key: {e}"))?;
    let ip = options.listen.unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST));
    let listener = tokio::net::TcpListener::bind(SocketAddr::new(ip, options.port))
        .await
        .with_context(|| format!("failed to listen on {ip}:{}", options.port))?;
    let address = listener.local_addr()?;
    let port = address.port();
    let mut hosts = vec![
        format!("127.0.0.1:{port}"),
        format!("localhost:{port}"),
        format!("[::1]:{port}"),
    ];
    let shown_host = match ip {
        IpAddr::V4(v4) if v4.is_unspecified() => "127.0.0.1".to_string(),
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) if v6.is_unspecified() => "[::1]".to_string(),
        IpAddr::V6(v6) => format!("[{v6}]"),
    };
    hosts.push(format!("{shown_host}:{port}"));
    let guard = Guard::new(hosts);
    let token = guard.new_access_token();
    let ledger = options.portal.ledger();
    let draft = Draft::in_portal(&options.portal.root);
    let shared = Arc::new(Shared {
        desk: Desk {
            ledger,
            key: options.key,
            secret: options.secret,
            draft,
            templates: pages::templates()?,
            preview: Mutex::new(None),
            preview_dir: tempfile::Builder::new()
                .prefix("minhbach-desk-")
                .tempdir()
                .context("failed to make the site preview's folder")?,
            portal: options.portal,
        },
        guard: Arc::new(guard),
    });
    // Ctrl+C or SIGTERM stops the desk cleanly, so the preview folder is
    // removed; caught before the address is shown.
    let stop = crate::server::stop_requested();
    if super::work::recover_signing(&shared.desk)? {
        eprintln!(
            "Bản nháp đã được ký trước khi bàn làm việc dừng: đã xóa. / The draft was signed before the desk stopped: cleared."
        );
    }
    started(&Started {
        url: format!("http://{shown_host}:{port}/?token={token}"),
        on_network: !ip.is_loopback(),
    });
    crate::server::run(listener, router(shared), &LIMITS, stop)
        .await
        .context("the desk's server stopped")
}

/// The routes and, around them, the security layers (outermost first).
pub fn router(state: AppState) -> Router {
    let site = state.desk.preview_dir.path().join("site");
    let preview = Router::new()
        .fallback_service(ServeDir::new(site))
        .layer(from_fn_with_state(state.clone(), pages::fresh_preview));
    Router::new()
        .nest("/site", preview)
        .route("/", get(pages::home))
        .route("/desk.css", get(pages::stylesheet))
        .route("/record/{kind}", get(pages::form).post(pages::record))
        .route(
            "/record/progress",
            get(pages::progress_form).post(pages::record_progress),
        )
        .route(
            "/import",
            get(pages::import_page).post(pages::import_upload),
        )
        .route("/import/preview", post(pages::import_preview))
        .route("/import/accept", post(pages::import_accept))
        .route("/review", get(pages::review))
        .route("/draft/remove", post(pages::remove))
        .route("/sign", post(pages::sign))
        .route("/lookup", get(pages::lookup))
        .route("/access", post(pages::new_access))
        .fallback(pages::not_found)
        // Each `layer` wraps everything above it: the last is outermost.
        .layer(from_fn(security::check_post))
        .layer(from_fn_with_state(
            state.guard.clone(),
            security::require_session,
        ))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(RequestBodyLimitLayer::new(MAX_BODY))
        .layer(from_fn_with_state(
            state.guard.clone(),
            security::check_host,
        ))
        .layer(from_fn(security::response_headers))
        .with_state(state)
}
