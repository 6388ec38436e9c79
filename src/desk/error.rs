//! Every failure of a desk request becomes one `DeskError`, and every
//! `DeskError` one small bilingual page with the right status: handlers and
//! layers return `Result<_, DeskError>` and never build error responses.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

#[derive(Debug, thiserror::Error)]
pub enum DeskError {
    /// No session cookie and no valid one-time token.
    #[error("no desk session")]
    NoSession,
    /// A `Host` the desk does not answer to (DNS rebinding).
    #[error("unexpected Host `{0}`")]
    BadHost(String),
    /// A state-changing request from another origin, or without one.
    #[error("request from another origin")]
    BadOrigin,
    /// A POST without the form's CSRF token, or with a wrong one.
    #[error("missing or wrong CSRF token")]
    BadCsrf,
    /// A request body over the limit.
    #[error("request body over {0} bytes")]
    TooLarge(usize),
    #[error("not found")]
    NotFound,
    /// The request is malformed (not what the desk's forms send).
    #[error("{0}")]
    BadRequest(String),
    /// Anything else: reading the ledger, writing the draft, building.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl DeskError {
    fn status(&self) -> StatusCode {
        match self {
            DeskError::NoSession => StatusCode::UNAUTHORIZED,
            DeskError::BadHost(_) | DeskError::BadOrigin | DeskError::BadCsrf => {
                StatusCode::FORBIDDEN
            }
            DeskError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            DeskError::NotFound => StatusCode::NOT_FOUND,
            DeskError::BadRequest(_) => StatusCode::BAD_REQUEST,
            DeskError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// What the officer reads: Vietnamese first, English second.
    fn explain(&self) -> (String, String) {
        match self {
            DeskError::NoSession => (
                "Cần mở bàn làm việc bằng đường dẫn có mã truy cập mà lệnh `minhbach desk` đã in ra.".into(),
                "Open the desk with the link and access token that `minhbach desk` printed.".into(),
            ),
            DeskError::BadHost(host) => (
                format!("Bàn làm việc không trả lời tên máy `{host}`."),
                format!("The desk does not answer to the host name `{host}`."),
            ),
            DeskError::BadOrigin => (
                "Yêu cầu đến từ một trang khác: đã từ chối, không có gì thay đổi.".into(),
                "The request came from another site: refused, nothing changed.".into(),
            ),
            DeskError::BadCsrf => (
                "Biểu mẫu đã cũ hoặc không đến từ bàn làm việc (mã CSRF sai): không có gì thay đổi. Hãy tải lại trang.".into(),
                "The form is stale or did not come from the desk (wrong CSRF token): nothing changed. Reload the page.".into(),
            ),
            DeskError::TooLarge(limit) => (
                format!(
                    "Dữ liệu gửi lên quá lớn (tối đa {} MB): không có gì thay đổi.",
                    limit >> 20
                ),
                format!("The upload is too large (at most {} MB): nothing changed.", limit >> 20),
            ),
            DeskError::NotFound => ("Không có trang này.".into(), "No such page.".into()),
            DeskError::BadRequest(message) => (
                format!("Yêu cầu không hợp lệ: {message}"),
                format!("Bad request: {message}"),
            ),
            DeskError::Internal(error) => (
                format!("Lỗi: {error:#}"),
                format!("Error: {error:#}"),
            ),
        }
    }
}

impl IntoResponse for DeskError {
    fn into_response(self) -> Response {
        let status = self.status();
        let (vi, en) = self.explain();
        let body = format!(
            "<!doctype html><html lang=\"vi\"><head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
             <title>{code} — Bàn làm việc</title><link rel=\"stylesheet\" href=\"/desk.css\"></head>\
             <body><main><h1>{code}</h1><p class=\"error\" id=\"error\">{vi}</p><p lang=\"en\">{en}</p>\
             <p><a href=\"/\">Trang chính <span lang=\"en\">Home</span></a></p></main></body></html>",
            code = status.as_u16(),
            vi = escape(&vi),
            en = escape(&en),
        );
        (
            status,
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            body,
        )
            .into_response()
    }
}

/// HTML-escapes text for an element's content or a quoted attribute.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}
