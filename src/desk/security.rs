//! The desk signs with the officer's key, so it is a target: these are the
//! tower layers every request passes, in this order (outermost first):
//!
//! 1. response headers (no caching, no framing, no referrer, a strict CSP)
//!    and a clear page for a body refused by its `Content-Length`;
//! 2. `check_host`: only the `Host` names the desk listens on (a page on
//!    another site cannot reach it by rebinding a name of its own);
//! 3. the body limit (`RequestBodyLimitLayer`);
//! 4. `require_session`: the session cookie, or the one-time token of the
//!    printed link, which is exchanged for an HttpOnly SameSite=Strict
//!    cookie and a redirect that drops it from the address bar;
//! 5. `check_post`: every other method than GET is a POST from the desk's
//!    own `Origin` carrying the session's CSRF token (a form field, checked
//!    here on the buffered, bounded body, for plain and multipart forms).

use super::error::DeskError;
use crate::ledger::hex;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use hmac::{Hmac, Mac};
use rand_core::{OsRng, RngCore};
use sha2::Sha256;
use std::collections::HashSet;
use std::sync::Arc;
use std::sync::Mutex;

/// The largest request body, in bytes: a form, or a few phone photos.
pub const MAX_BODY: usize = 16 << 20;

/// The session cookie's name.
const COOKIE: &str = "minhbach_desk";

/// The current request's session, for handlers that render forms.
#[derive(Clone, Debug)]
pub struct Session {
    /// The CSRF token every POST form of this session carries as `csrf`.
    pub csrf: String,
}

/// Who may use the desk: the hosts it answers to, the one-time tokens not
/// yet exchanged, the sessions opened with them.
pub struct Guard {
    allowed_hosts: Vec<String>,
    pairing: Mutex<HashSet<String>>,
    sessions: Mutex<HashSet<String>>,
    csrf_key: [u8; 32],
}

impl Guard {
    pub fn new(allowed_hosts: Vec<String>) -> Guard {
        let mut csrf_key = [0u8; 32];
        OsRng.fill_bytes(&mut csrf_key);
        Guard {
            allowed_hosts,
            pairing: Mutex::new(HashSet::new()),
            sessions: Mutex::new(HashSet::new()),
            csrf_key,
        }
    }

    /// A new one-time access token (for the printed link, or a phone).
    pub fn new_access_token(&self) -> String {
        let token = random_token();
        self.pairing.lock().expect("lock").insert(token.clone());
        token
    }

    /// Exchanges a one-time token for a new session id.
    fn open_session(&self, token: &str) -> Option<String> {
        let mut pairing = self.pairing.lock().expect("lock");
        let known = pairing.iter().find(|t| constant_time_eq(t, token))?.clone();
        pairing.remove(&known);
        let session = random_token();
        self.sessions.lock().expect("lock").insert(session.clone());
        Some(session)
    }

    fn has_session(&self, session: &str) -> bool {
        let sessions = self.sessions.lock().expect("lock");
        sessions.iter().any(|s| constant_time_eq(s, session))
    }

    fn csrf_for(&self, session: &str) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.csrf_key).expect("any key length");
        mac.update(b"minhbach desk csrf\0");
        mac.update(session.as_bytes());
        hex(&mac.finalize().into_bytes())
    }

    pub fn allows_host(&self, host: &str) -> bool {
        self.allowed_hosts
            .iter()
            .any(|h| h.eq_ignore_ascii_case(host))
    }
}

/// Refuses a `Host` the desk does not listen on.
pub async fn check_host(
    State(guard): State<Arc<Guard>>,
    request: Request,
    next: Next,
) -> Result<Response, DeskError> {
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !guard.allows_host(host) {
        return Err(DeskError::BadHost(host.chars().take(100).collect()));
    }
    Ok(next.run(request).await)
}

/// Lets through a request of an open session (adding its `Session`), turns
/// a valid one-time `?token=` into a session cookie, refuses the rest.
pub async fn require_session(
    State(guard): State<Arc<Guard>>,
    mut request: Request,
    next: Next,
) -> Result<Response, DeskError> {
    if let Some(session) = cookie(&request, COOKIE)
        && guard.has_session(&session)
    {
        let csrf = guard.csrf_for(&session);
        request.extensions_mut().insert(Session { csrf });
        return Ok(next.run(request).await);
    }
    if request.method() == Method::GET
        && let Some(token) = query_value(&request, "token")
        && let Some(session) = guard.open_session(&token)
    {
        let mut response = Redirect::to(request.uri().path()).into_response();
        let cookie = format!("{COOKIE}={session}; HttpOnly; SameSite=Strict; Path=/");
        response.headers_mut().insert(
            header::SET_COOKIE,
            HeaderValue::from_str(&cookie).expect("ASCII cookie"),
        );
        return Ok(response);
    }
    Err(DeskError::NoSession)
}

/// Every request but GET/HEAD must be a POST from the desk's own origin with
/// the session's CSRF token in its form (plain or multipart).
pub async fn check_post(request: Request, next: Next) -> Result<Response, DeskError> {
    if matches!(*request.method(), Method::GET | Method::HEAD) {
        return Ok(next.run(request).await);
    }
    if request.method() != Method::POST {
        return Err(DeskError::BadRequest("only GET and POST".into()));
    }
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let origin = request
        .headers()
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if host.is_empty() || origin != format!("http://{host}") {
        return Err(DeskError::BadOrigin);
    }
    let expected = request
        .extensions()
        .get::<Session>()
        .map(|s| s.csrf.clone())
        .ok_or(DeskError::NoSession)?;
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let (parts, body) = request.into_parts();
    let bytes = axum::body::to_bytes(body, MAX_BODY)
        .await
        .map_err(|_| DeskError::TooLarge(MAX_BODY))?;
    let given = csrf_field(&content_type, &bytes).await;
    if !given.is_some_and(|given| constant_time_eq(&given, &expected)) {
        return Err(DeskError::BadCsrf);
    }
    Ok(next
        .run(Request::from_parts(parts, Body::from(bytes)))
        .await)
}

/// The `csrf` field of a plain or multipart form body.
async fn csrf_field(content_type: &str, bytes: &axum::body::Bytes) -> Option<String> {
    if content_type.starts_with("application/x-www-form-urlencoded") {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(bytes).ok()?;
        return pairs.into_iter().find(|(k, _)| k == "csrf").map(|(_, v)| v);
    }
    let boundary = multer::parse_boundary(content_type).ok()?;
    let stream = Body::from(bytes.clone()).into_data_stream();
    let mut multipart = multer::Multipart::new(stream, boundary);
    while let Ok(Some(field)) = multipart.next_field().await {
        if field.name() == Some("csrf") {
            return field.text().await.ok();
        }
    }
    None
}

/// Headers on every response: nothing cached (pages show private fields
/// being typed), no framing, no referrer to other sites (`same-origin`:
/// with `no-referrer` Chromium sends `Origin: null` on a form's POST), a
/// content security policy allowing only the desk's own files and inline
/// `data:` images (the VietQR preview).
pub async fn response_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    if response.status() == StatusCode::PAYLOAD_TOO_LARGE
        && response
            .headers()
            .get(header::CONTENT_TYPE)
            .is_none_or(|v| !v.to_str().unwrap_or("").starts_with("text/html"))
    {
        response = DeskError::TooLarge(MAX_BODY).into_response();
    }
    let headers = response.headers_mut();
    for (name, value) in [
        (header::CACHE_CONTROL, "no-store"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "same-origin"),
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; style-src 'self'; img-src 'self' data:; script-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}

fn cookie(request: &Request, name: &str) -> Option<String> {
    request
        .headers()
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

fn query_value(request: &Request, name: &str) -> Option<String> {
    let query = request.uri().query()?;
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query).ok()?;
    pairs.into_iter().find(|(k, _)| k == name).map(|(_, v)| v)
}

fn random_token() -> String {
    let mut bytes = [0u8; 24];
    OsRng.fill_bytes(&mut bytes);
    hex(&bytes)
}

/// Compares secrets without an early exit on the first differing byte.
fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}
