//! The handlers: thin. Each takes the shared state and the session, runs
//! its work off the async threads (`blocking`), and renders a template;
//! every failure is a `DeskError`.

use super::draft::DraftItem;
use super::error::DeskError;
use super::forms::{self, Kind};
use super::security::Session;
use super::state::{AppState, Desk};
use super::wizard::{self, What};
use super::work;
use crate::import::RowFixes;
use crate::ledger::entry::Body;
use crate::ledger::{FundTotals, InputContext, Pending, parse_input};
use anyhow::Context as _;
use axum::Extension;
use axum::extract::{Form, Multipart, Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Serialize;
use std::collections::HashMap;
use tera::{Context, Tera};

type Fields = Vec<(String, String)>;

/// The desk's templates, compiled into the binary; autoescape is on for
/// every one of them and nothing is ever marked safe.
pub fn templates() -> anyhow::Result<Tera> {
    let mut tera = Tera::default();
    tera.autoescape_on(vec![".html"]);
    tera.add_raw_templates(vec![
        ("base.html", include_str!("templates/base.html")),
        ("home.html", include_str!("templates/home.html")),
        ("access.html", include_str!("templates/access.html")),
        ("form.html", include_str!("templates/form.html")),
        ("review.html", include_str!("templates/review.html")),
        ("signed.html", include_str!("templates/signed.html")),
        ("lookup.html", include_str!("templates/lookup.html")),
        ("import.html", include_str!("templates/import.html")),
    ])
    .map_err(|e| anyhow::anyhow!("desk templates: {e}"))?;
    Ok(tera)
}

/// Runs `work` on a blocking thread: it reads and verifies the ledger,
/// writes files, or signs.
async fn blocking<T: Send + 'static>(
    state: &AppState,
    work: impl FnOnce(&Desk) -> Result<T, DeskError> + Send + 'static,
) -> Result<T, DeskError> {
    let state = state.clone();
    tokio::task::spawn_blocking(move || work(&state.desk))
        .await
        .map_err(|e| DeskError::Internal(anyhow::anyhow!("the desk's worker failed: {e}")))?
}

fn render(desk: &Desk, template: &str, context: &Context) -> Result<String, DeskError> {
    desk.templates
        .render(template, context)
        .map_err(|e| DeskError::Internal(anyhow::anyhow!("rendering {template}: {e}")))
}

/// What every page shows: the signer, the draft's size, the CSRF token.
fn base_context(desk: &Desk, session: &Session) -> Result<Context, DeskError> {
    let mut context = Context::new();
    context.insert("csrf", &session.csrf);
    context.insert("signer", desk.key.name());
    context.insert("draft_count", &desk.draft.load()?.len());
    Ok(context)
}

#[derive(Serialize)]
struct FundBalance {
    id: String,
    received: String,
    disbursed: String,
    balance: String,
}

fn balances(funds: &[FundTotals]) -> Vec<FundBalance> {
    funds
        .iter()
        .filter(|fund| !fund.voided)
        .map(|fund| {
            let (advance, balance) = fund.balance();
            FundBalance {
                id: fund.id.clone(),
                received: crate::vn::format_vnd(fund.received.get()),
                disbursed: crate::vn::format_vnd(fund.disbursed.get()),
                balance: format!(
                    "{}{}",
                    if advance { "−" } else { "" },
                    crate::vn::format_vnd(balance.get())
                ),
            }
        })
        .collect()
}

/// The draft judged, with the entry `extra` (if any) judged after it.
fn judge_draft(
    desk: &Desk,
    extra: Option<Pending>,
) -> Result<(Vec<DraftItem>, work::Judged), DeskError> {
    let items = desk.draft.load()?;
    let mut pending = work::pending_of(desk, &items)?;
    pending.extend(extra);
    Ok((items, work::judge(desk, pending)?))
}

pub async fn home(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
) -> Result<Html<String>, DeskError> {
    blocking(&state, move |desk| {
        let mut context = base_context(desk, &session)?;
        let (_, judged) = judge_draft(desk, None)?;
        context.insert("funds", &balances(&judged.funds));
        let kinds: Vec<_> = Kind::ALL
            .iter()
            .map(|kind| {
                let (vi, en) = kind.title();
                serde_json::json!({"kind": kind.as_str(), "vi": vi, "en": en})
            })
            .collect();
        context.insert("kinds", &kinds);
        Ok(Html(render(desk, "home.html", &context)?))
    })
    .await
}

pub async fn stylesheet() -> Response {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        include_str!("templates/desk.css"),
    )
        .into_response()
}

pub async fn not_found() -> DeskError {
    DeskError::NotFound
}

/// What a form page shows besides its fields.
#[derive(Default)]
struct FormState {
    values: Fields,
    error: Option<String>,
    query: String,
    target: Option<u64>,
    /// A fund form: draw one more (empty) account group.
    more_accounts: bool,
}

fn form_page(
    desk: &Desk,
    session: &Session,
    kind: Kind,
    form: FormState,
) -> Result<String, DeskError> {
    let mut context = base_context(desk, session)?;
    let needs_households = matches!(kind, Kind::Disbursement | Kind::Progress);
    let mut snapshot = work::snapshot(desk, false)?;
    // Funds and households recorded in the draft can be chosen too: they
    // are signed in the same checkpoint, before what refers to them.
    for item in desk.draft.load()? {
        match item.body {
            Body::Fund(fund) => snapshot.funds.push(work::FundRow::of(*fund)),
            Body::Household(household) => snapshot.households.push(work::HouseholdRow {
                seq: 0,
                id: household.id,
                head: household.head,
                commune: household.commune,
                province: household.province,
                village: household.village.unwrap_or_default(),
            }),
            _ => {}
        }
    }
    let funds: Vec<(String, String)> = snapshot
        .funds
        .iter()
        .map(|f| (f.id.clone(), f.name.clone()))
        .collect();
    let mut fields = forms::fields(kind, &funds);
    for field in &mut fields {
        if !field.private {
            field.value = forms::value(&form.values, &field.name).to_string();
        }
        if field.input == "date" && field.value.is_empty() {
            field.value = crate::cli::now().get(..10).unwrap_or("").to_string();
        }
    }
    let (title_vi, title_en) = kind.title();
    context.insert("kind", kind.as_str());
    context.insert("title_vi", title_vi);
    context.insert("title_en", title_en);
    context.insert("error", &form.error.unwrap_or_default());
    context.insert("multipart", &(kind == Kind::Progress));
    context.insert("search", &needs_households);
    context.insert("query", &form.query);
    let words = work::query_words(&form.query);
    let households: Vec<_> = snapshot
        .households
        .iter()
        .filter(|h| {
            words.is_empty()
                || work::matches(
                    &words,
                    &[&h.id, &h.head, &h.commune, &h.province, &h.village],
                )
        })
        .take(200)
        .collect();
    context.insert("households", &households);
    let balances = if kind == Kind::Disbursement {
        let (_, judged) = judge_draft(desk, None)?;
        balances(&judged.funds)
    } else {
        Vec::new()
    };
    context.insert("balances", &balances);
    let mut accounts = if kind == Kind::Fund {
        fund_accounts(&form.values, form.more_accounts)
    } else {
        Vec::new()
    };
    // A correction: the entry as it stands, each field editable.
    context.insert("correction_lookup", &(kind == Kind::Correction));
    context.insert(
        "target",
        &form.target.map(|t| t.to_string()).unwrap_or_default(),
    );
    let mut show_form = kind != Kind::Correction;
    let mut current_rows = Vec::new();
    let mut current_kind = "";
    let mut voided = false;
    if kind == Kind::Correction
        && let Some(target) = form.target
    {
        match work::entry_as_it_stands(desk, target)? {
            Some((body, is_void)) => {
                show_form = true;
                current_kind = body.kind();
                // A fund's accounts, each editable, and one more to add.
                if let Body::Fund(fund) = &body {
                    let typed: Fields = form
                        .values
                        .iter()
                        .filter_map(|(key, text)| {
                            key.strip_prefix("amend.")
                                .filter(|name| name.starts_with("accounts["))
                                .map(|name| (name.to_string(), text.clone()))
                        })
                        .collect();
                    let standing: Fields = fund
                        .bank_accounts()
                        .enumerate()
                        .flat_map(|(index, account)| {
                            [
                                ("bank_bin", &account.bank_bin),
                                ("number", &account.number),
                                ("holder", &account.holder),
                            ]
                            .map(|(part, text)| (format!("accounts[{index}].{part}"), text.clone()))
                        })
                        .collect();
                    let values = if typed.is_empty() { standing } else { typed };
                    accounts = fund_accounts(&values, true);
                }
                voided = is_void;
                current_rows = correction_rows(&body);
                for field in &mut fields {
                    if field.name == "target" {
                        field.value = target.to_string();
                    }
                }
            }
            None => {
                context.insert(
                    "error",
                    &format!("Không có bút toán #{target} / No entry {target}"),
                );
            }
        }
    }
    context.insert("accounts", &accounts);
    context.insert(
        "account_prefix",
        if kind == Kind::Correction {
            "amend."
        } else {
            ""
        },
    );
    context.insert("fields", &fields);
    context.insert("show_form", &show_form);
    context.insert("current", &current_rows);
    context.insert("current_kind", current_kind);
    context.insert("voided", &voided);
    render(desk, "form.html", &context)
}

#[derive(Serialize)]
struct CurrentRow {
    name: String,
    value: String,
    editable: bool,
}

/// The fields of an entry as it stands, for the correction form: strings,
/// numbers and booleans can be amended; commitments and lists cannot.
fn correction_rows(body: &Body) -> Vec<CurrentRow> {
    let value = serde_json::to_value(body).unwrap_or_default();
    let Some(object) = value.as_object() else {
        return Vec::new();
    };
    // A household's private fields are never shown: a new value may be
    // given, which the ledger commits like the original.
    let private = matches!(body, Body::Household(_))
        .then_some(["citizen_id", "phone"])
        .into_iter()
        .flatten()
        .map(|name| CurrentRow {
            name: name.to_string(),
            value: String::new(),
            editable: true,
        });
    let mut rows: Vec<CurrentRow> = object
        .iter()
        .filter(|(name, _)| name.as_str() != "kind")
        .map(|(name, value)| {
            let fixed = matches!(
                name.as_str(),
                "citizen_id_hmac" | "citizen_id_last4" | "phone_hmac" | "id"
            );
            let (text, simple) = match value {
                serde_json::Value::String(text) => (text.clone(), true),
                serde_json::Value::Number(n) => (n.to_string(), true),
                serde_json::Value::Bool(b) => (b.to_string(), true),
                other => (other.to_string(), false),
            };
            CurrentRow {
                name: name.clone(),
                value: text,
                editable: simple && !fixed,
            }
        })
        .collect();
    rows.extend(private);
    rows
}

/// A fund form's account groups (at least two, so a second account is one
/// field away; one more when asked), each with its VietQR preview when its
/// bank and number are given.
fn fund_accounts(values: &Fields, more: bool) -> Vec<forms::AccountGroup> {
    let mut groups = forms::account_groups(values);
    let wanted = groups.len().max(2) + usize::from(more);
    while groups.len() < wanted.min(forms::MAX_ACCOUNTS) {
        let index = groups.last().map_or(0, |g| g.index + 1);
        groups.push(forms::AccountGroup {
            index,
            ..Default::default()
        });
    }
    for group in &mut groups {
        if group.bank_bin.is_empty() || group.number.is_empty() {
            continue;
        }
        match crate::vietqr::VietQr::new(&group.bank_bin, &group.number).svg() {
            Ok(svg) => group.qr = qr_data_uri_of(Some(svg)),
            Err(error) => {
                group.qr_error =
                    format!("Chưa tạo được mã VietQR: {error} / No VietQR code: {error}")
            }
        }
    }
    groups
}

fn qr_data_uri_of(svg: Option<String>) -> String {
    use base64::Engine;
    match svg {
        Some(svg) => format!(
            "data:image/svg+xml;base64,{}",
            base64::engine::general_purpose::STANDARD.encode(svg)
        ),
        None => String::new(),
    }
}

pub async fn form(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Path(kind): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Html<String>, DeskError> {
    let kind = Kind::parse(&kind).ok_or(DeskError::NotFound)?;
    blocking(&state, move |desk| {
        let mut values: Fields = Vec::new();
        if let Some(household) = query.get("household") {
            values.push(("household".into(), household.clone()));
        }
        let target = query.get("target").and_then(|t| t.trim().parse().ok());
        let page = form_page(
            desk,
            &session,
            kind,
            FormState {
                values,
                error: None,
                query: query.get("q").cloned().unwrap_or_default(),
                target,
                more_accounts: false,
            },
        )?;
        Ok(Html(page))
    })
    .await
}

pub async fn progress_form(
    state: State<AppState>,
    session: Extension<Session>,
    query: Query<HashMap<String, String>>,
) -> Result<Html<String>, DeskError> {
    form(state, session, Path("progress".to_string()), query).await
}

/// Records one entry into the draft if the ledger would accept it after the
/// draft; otherwise shows the form again with the ledger's reason.
fn record_entry(
    desk: &Desk,
    session: &Session,
    kind: Kind,
    values: Fields,
    line: Result<serde_json::Value, forms::FormError>,
    base_dir: std::path::PathBuf,
) -> Result<Response, DeskError> {
    let _draft = desk.draft.lock()?;
    let refuse = |error: String, values: Fields| -> Result<Response, DeskError> {
        let target = forms::value(&values, "target").parse().ok();
        let page = form_page(
            desk,
            session,
            kind,
            FormState {
                values,
                error: Some(error),
                query: String::new(),
                target,
                more_accounts: false,
            },
        )?;
        Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(page)).into_response())
    };
    let line = match line {
        Ok(line) => line,
        Err(error) => return refuse(format!("`{}`: {}", error.field, error.message), values),
    };
    let context = InputContext {
        secret: desk.secret.as_ref(),
        base_dir,
        media_dir: desk.ledger.media_dir(),
        check_media: crate::media::check_photo,
    };
    let pending = match parse_input(&line.to_string(), &context) {
        Ok(pending) => pending,
        Err(error) => return refuse(error.to_string(), values),
    };
    let (mut items, judged) = judge_draft(desk, Some(pending.clone()))?;
    if let Some(Err(error)) = judged.results.last() {
        let mut message = error.clone();
        if let Body::Disbursement(disbursement) = &pending.body
            && let Some(fund) = judged.funds.iter().find(|f| f.id == disbursement.fund)
        {
            let (_, balance) = fund.balance();
            message = format!(
                "{message} — quỹ `{}`: đã nhận {}, đã chi {}, số dư {}, khoản chi này {} / fund `{}`: received {}, disbursed {}, balance {}, this disbursement {}",
                fund.id,
                crate::vn::format_vnd(fund.received.get()),
                crate::vn::format_vnd(fund.disbursed.get()),
                crate::vn::format_vnd(balance.get()),
                crate::vn::format_vnd(disbursement.amount.get()),
                fund.id,
                crate::vn::format_vnd(fund.received.get()),
                crate::vn::format_vnd(fund.disbursed.get()),
                crate::vn::format_vnd(balance.get()),
                crate::vn::format_vnd(disbursement.amount.get()),
            );
        }
        return refuse(message, values);
    }
    for media in &pending.media {
        desk.draft.stage(media)?;
    }
    items.push(DraftItem {
        recorded: crate::cli::now(),
        body: pending.body,
    });
    desk.draft.save(&items)?;
    Ok(Redirect::to("/review").into_response())
}

pub async fn record(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Path(kind): Path<String>,
    Form(values): Form<Fields>,
) -> Result<Response, DeskError> {
    let kind = Kind::parse(&kind).ok_or(DeskError::NotFound)?;
    if kind == Kind::Progress {
        return Err(DeskError::BadRequest("progress forms are multipart".into()));
    }
    blocking(&state, move |desk| {
        // A fund form's other buttons draw it again without recording:
        // one more account group, or the VietQR codes of those given.
        let action = forms::value(&values, "action").to_string();
        if kind == Kind::Fund && matches!(action.as_str(), "more" | "preview") {
            let page = form_page(
                desk,
                &session,
                kind,
                FormState {
                    more_accounts: action == "more",
                    values,
                    ..FormState::default()
                },
            )?;
            return Ok(Html(page).into_response());
        }
        let line = if kind == Kind::Correction {
            let target = forms::value(&values, "target").parse().unwrap_or(u64::MAX);
            let current = work::entry_as_it_stands(desk, target)?
                .and_then(|(body, _)| serde_json::to_value(body).ok())
                .and_then(|v| v.as_object().cloned())
                .unwrap_or_default();
            forms::correction_input(&values, &current)
        } else {
            forms::to_input(kind, &values)
        };
        let base_dir = desk.draft.uploads_dir().to_path_buf();
        record_entry(desk, &session, kind, values, line, base_dir)
    })
    .await
}

/// A progress form: its fields and photos (camera or files). Each photo is
/// re-encoded from its pixels at screen size, as the site's build does, so
/// no EXIF or GPS metadata is kept; the copy is written under a name of our
/// own in the staging folder (never a name from the upload), then read by
/// the ledger's own input code, which sniffs it and names it by its SHA-256.
pub async fn record_progress(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    mut multipart: Multipart,
) -> Result<Response, DeskError> {
    let mut values: Fields = Vec::new();
    let mut photos: Vec<Vec<u8>> = Vec::new();
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|e| DeskError::BadRequest(e.body_text()))?
    {
        let name = field.name().unwrap_or("").to_string();
        if name == "photos" {
            let bytes = field
                .bytes()
                .await
                .map_err(|e| DeskError::BadRequest(e.body_text()))?;
            if !bytes.is_empty() {
                photos.push(bytes.to_vec());
            }
        } else {
            let text = field
                .text()
                .await
                .map_err(|e| DeskError::BadRequest(e.body_text()))?;
            values.push((name, text));
        }
    }
    blocking(&state, move |desk| {
        let staging = tempfile::tempdir_in(prepare_uploads(desk)?)
            .context("failed to make a staging folder")?;
        let mut line = forms::to_input(Kind::Progress, &values);
        let mut photo_error = None;
        if let Ok(serde_json::Value::Object(object)) = &mut line {
            let caption = forms::value(&values, "caption");
            let mut list = Vec::new();
            for (index, bytes) in photos.iter().enumerate() {
                let clean = match crate::media::derive(bytes) {
                    Ok(derived) => derived.screen.jpeg,
                    Err(crate::media::MediaError::NotAnImage(_)) => bytes.clone(),
                    Err(error) => {
                        photo_error = Some(forms::FormError {
                            field: "photos".into(),
                            message: format!("ảnh {} / photo {}: {error}", index + 1, index + 1),
                        });
                        break;
                    }
                };
                let file = format!("photo-{index}");
                std::fs::write(staging.path().join(&file), &clean)
                    .context("failed to stage a photo")?;
                let mut photo = serde_json::json!({"file": file});
                if !caption.is_empty() {
                    photo["caption"] = caption.into();
                }
                list.push(photo);
            }
            if !list.is_empty() {
                object.insert("photos".into(), list.into());
            }
        }
        if let Some(error) = photo_error {
            line = Err(error);
        }
        let base_dir = staging.path().to_path_buf();
        record_entry(desk, &session, Kind::Progress, values, line, base_dir)
    })
    .await
}

fn prepare_uploads(desk: &Desk) -> Result<std::path::PathBuf, DeskError> {
    let dir = desk.draft.uploads_dir().to_path_buf();
    std::fs::create_dir_all(&dir)
        .with_context(|| format!("failed to create `{}`", dir.display()))?;
    Ok(dir)
}

/// An account's VietQR code on the review page.
#[derive(Serialize)]
struct QrImage {
    number: String,
    holder: String,
    src: String,
}

#[derive(Serialize)]
struct ReviewRow {
    index: usize,
    seq: u64,
    kind: &'static str,
    kind_vi: &'static str,
    kind_en: &'static str,
    summary: String,
    json: String,
    ok: bool,
    error: String,
    /// A fund's VietQR codes (`data:` images), one per account.
    qrs: Vec<QrImage>,
}

fn review_rows(
    items: &[DraftItem],
    judged: Option<&work::Judged>,
    first_seq: u64,
) -> Vec<ReviewRow> {
    items
        .iter()
        .enumerate()
        .map(|(index, item)| {
            let kind = item.body.kind();
            let (kind_vi, kind_en) = Kind::parse(kind).map(Kind::title).unwrap_or((kind, kind));
            let result = judged.and_then(|j| j.results.get(index));
            ReviewRow {
                index,
                seq: first_seq + index as u64,
                kind,
                kind_vi,
                kind_en,
                summary: forms::summary(&item.body),
                json: serde_json::to_string_pretty(&item.body).unwrap_or_default(),
                qrs: match &item.body {
                    Body::Fund(fund) => fund
                        .bank_accounts()
                        .map(|account| QrImage {
                            number: account.number.clone(),
                            holder: account.holder.clone(),
                            src: qr_data_uri_of(
                                crate::vietqr::VietQr::new(&account.bank_bin, &account.number)
                                    .svg()
                                    .ok(),
                            ),
                        })
                        .collect(),
                    _ => Vec::new(),
                },
                ok: !matches!(result, Some(Err(_))),
                error: match result {
                    Some(Err(error)) => error.clone(),
                    _ => String::new(),
                },
            }
        })
        .collect()
}

fn review_page(desk: &Desk, session: &Session, error: Option<String>) -> Result<String, DeskError> {
    let mut context = base_context(desk, session)?;
    let (items, judged) = judge_draft(desk, None)?;
    context.insert(
        "rows",
        &review_rows(&items, Some(&judged), judged.ledger_size),
    );
    context.insert("error", &error.unwrap_or_default());
    render(desk, "review.html", &context)
}

pub async fn review(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
) -> Result<Html<String>, DeskError> {
    blocking(&state, move |desk| {
        Ok(Html(review_page(desk, &session, None)?))
    })
    .await
}

pub async fn remove(
    State(state): State<AppState>,
    Form(values): Form<Fields>,
) -> Result<Redirect, DeskError> {
    blocking(&state, move |desk| {
        let _draft = desk.draft.lock()?;
        let index: usize = forms::value(&values, "index")
            .parse()
            .map_err(|_| DeskError::BadRequest("index".into()))?;
        let mut items = desk.draft.load()?;
        if index < items.len() {
            items.remove(index);
            desk.draft.save(&items)?;
            desk.draft.prune_uploads(&items);
        }
        Ok(Redirect::to("/review"))
    })
    .await
}

/// "Ký và công bố": the whole draft as one checkpoint, then the site.
pub async fn sign(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
) -> Result<Response, DeskError> {
    blocking(&state, move |desk| {
        let _draft = desk.draft.lock()?;
        let items = desk.draft.load()?;
        if items.is_empty() {
            let page = review_page(desk, &session, Some("Bản nháp trống / The draft is empty".into()))?;
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(page)).into_response());
        }
        let pending = work::pending_of(desk, &items)?;
        match work::sign(desk, pending)? {
            Err(refused) => {
                let message = format!(
                    "Không ký: {} bút toán bị từ chối; sửa hoặc bỏ chúng rồi ký lại. / Nothing was signed: {} entries are refused; fix or remove them, then sign again.",
                    refused.len(),
                    refused.len()
                );
                let page = review_page(desk, &session, Some(message))?;
                Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(page)).into_response())
            }
            Ok(signed) => {
                let mut context = base_context(desk, &session)?;
                context.insert("rows", &review_rows(&items, None, signed.first_seq));
                context.insert("build_ok", &signed.build.is_ok());
                match &signed.build {
                    Ok(build) => {
                        context.insert("build", build);
                        context.insert("build_error", "");
                    }
                    Err(error) => context.insert("build_error", error),
                }
                context.insert("signed", &signed);
                Ok(Html(render(desk, "signed.html", &context)?).into_response())
            }
        }
    })
    .await
}

pub async fn lookup(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Html<String>, DeskError> {
    blocking(&state, move |desk| {
        let mut context = base_context(desk, &session)?;
        let text = query.get("q").cloned().unwrap_or_default();
        let words = work::query_words(&text);
        let (mut donations, mut households) = (Vec::new(), Vec::new());
        if !words.is_empty() {
            let snapshot = work::snapshot(desk, true)?;
            donations = snapshot
                .donations
                .into_iter()
                .filter(|d| {
                    let digits: String = d.amount.chars().filter(char::is_ascii_digit).collect();
                    work::matches(
                        &words,
                        &[&d.donor, &d.amount, &digits, &d.date, &d.reference, &d.fund],
                    )
                })
                .collect();
            households = snapshot
                .households
                .into_iter()
                .filter(|h| {
                    work::matches(
                        &words,
                        &[&h.id, &h.head, &h.commune, &h.province, &h.village],
                    )
                })
                .collect();
        }
        context.insert("donation_count", &donations.len());
        context.insert("household_count", &households.len());
        context.insert(
            "truncated",
            &(donations.len() > 50 || households.len() > 50),
        );
        donations.truncate(50);
        households.truncate(50);
        context.insert("query", &text);
        context.insert("donations", &donations);
        context.insert("households", &households);
        // The public pages' paths, for links into the preview under `/site`.
        context.insert("routes", &crate::site::routes::TemplateRoutes::new("vi"));
        Ok(Html(render(desk, "lookup.html", &context)?))
    })
    .await
}

/// A new one-time link (and its QR code) for a phone on the office network.
pub async fn new_access(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    headers: axum::http::HeaderMap,
) -> Result<Html<String>, DeskError> {
    let token = state.guard.new_access_token();
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    blocking(&state, move |desk| {
        let mut context = base_context(desk, &session)?;
        let url = format!("http://{host}/?token={token}");
        let qr = qrcode::QrCode::new(url.as_bytes()).ok().map(|code| {
            code.render::<qrcode::render::svg::Color>()
                .min_dimensions(240, 240)
                .build()
        });
        context.insert("url", &url);
        context.insert("qr", &qr_data_uri_of(qr));
        context.insert(
            "loopback",
            &(host.starts_with("127.")
                || host.starts_with("localhost")
                || host.starts_with("[::1]")),
        );
        Ok(Html(render(desk, "access.html", &context)?))
    })
    .await
}

// ---- the import wizard ---------------------------------------------------------

#[derive(Serialize)]
struct LayoutChoice {
    name: &'static str,
    label: &'static str,
}

fn layout_choices() -> Vec<LayoutChoice> {
    let mut choices = vec![
        LayoutChoice {
            name: "auto",
            label: "Để bàn làm việc gợi ý theo tiêu đề / Suggest from the header",
        },
        LayoutChoice {
            name: "headers",
            label: "Tìm cột theo tên tiêu đề / Columns by header name",
        },
    ];
    choices.extend(
        wizard::LAYOUTS
            .iter()
            .map(|(name, label, _)| LayoutChoice { name, label }),
    );
    choices
}

/// The officer's corrections of rejected rows: those carried by the page
/// (`fixes`, as JSON) and those just typed (`fix.ROW.COLUMN`).
fn fixes_of(values: &Fields) -> Result<RowFixes, DeskError> {
    let carried = forms::value(values, "fixes");
    let mut fixes: RowFixes = if carried.is_empty() {
        RowFixes::new()
    } else {
        serde_json::from_str(carried).map_err(|_| DeskError::BadRequest("fixes".into()))?
    };
    for (key, text) in values {
        let Some((row, column)) = key
            .strip_prefix("fix.")
            .and_then(|rest| rest.split_once('.'))
        else {
            continue;
        };
        let (Ok(row), Ok(column)) = (row.parse::<usize>(), column.parse::<usize>()) else {
            return Err(DeskError::BadRequest(format!("`{key}`")));
        };
        fixes.entry(row).or_default().insert(column, text.clone());
    }
    Ok(fixes)
}

fn what_of(values: &Fields) -> What {
    match forms::value(values, "what") {
        "households" => What::Households,
        _ => What::Donations,
    }
}

/// The wizard page: the upload form, or a preview of `file`.
fn import_view(
    desk: &Desk,
    session: &Session,
    values: &Fields,
    file: Option<String>,
    error: Option<String>,
) -> Result<Response, DeskError> {
    let mut context = base_context(desk, session)?;
    let mut funds = work::snapshot(desk, false)?.funds;
    for item in desk.draft.load()? {
        if let Body::Fund(fund) = item.body {
            funds.push(work::FundRow::of(*fund));
        }
    }
    let what = what_of(values);
    let fund = forms::value(values, "fund");
    let fixes = fixes_of(values)?;
    let mut error = error;
    let mut preview = None;
    if let (Some(file), None) = (&file, &error) {
        let choice = wizard::Choice {
            what,
            layout: match forms::value(values, "layout") {
                "" => "auto",
                layout => layout,
            },
            fund,
            account: forms::value(values, "account"),
            file,
            fixes: &fixes,
        };
        match wizard::preview(desk, &choice) {
            Ok(found) => preview = Some(found),
            Err(e) => error = Some(format!("{e:#}")),
        }
    }
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let layout_label = preview.as_ref().map_or(String::new(), |p| {
        layout_choices()
            .iter()
            .find(|c| c.name == p.layout)
            .map_or(p.layout.clone(), |c| c.label.to_string())
    });
    let fund_accounts: Vec<_> = funds
        .iter()
        .find(|f| f.id == fund)
        .map(|f| f.accounts.clone())
        .unwrap_or_default();
    context.insert("funds", &funds);
    context.insert("fund_accounts", &fund_accounts);
    context.insert("layouts", &layout_choices());
    context.insert("what", &what);
    context.insert("fund", fund);
    context.insert("account", forms::value(values, "account"));
    context.insert(
        "fixes",
        &if fixes.is_empty() {
            String::new()
        } else {
            serde_json::to_string(&fixes).unwrap_or_default()
        },
    );
    context.insert("layout_label", &layout_label);
    context.insert("header_row", &preview.as_ref().map_or(0, |p| p.header_row));
    context.insert("preview", &preview);
    context.insert("file", &file.unwrap_or_default());
    context.insert("error", &error.unwrap_or_default());
    Ok((status, Html(render(desk, "import.html", &context)?)).into_response())
}

pub async fn import_page(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
) -> Result<Response, DeskError> {
    blocking(&state, move |desk| {
        import_view(desk, &session, &Vec::new(), None, None)
    })
    .await
}

/// The uploaded file is kept under its content address (never its name).
pub async fn import_upload(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    mut multipart: Multipart,
) -> Result<Response, DeskError> {
    let mut values: Fields = Vec::new();
    let mut bytes = Vec::new();
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|e| DeskError::BadRequest(e.body_text()))?
    {
        let name = field.name().unwrap_or("").to_string();
        if name == "statement" {
            bytes = field
                .bytes()
                .await
                .map_err(|e| DeskError::BadRequest(e.body_text()))?
                .to_vec();
        } else {
            let text = field
                .text()
                .await
                .map_err(|e| DeskError::BadRequest(e.body_text()))?;
            values.push((name, text));
        }
    }
    blocking(&state, move |desk| {
        if bytes.is_empty() {
            let error = "Chưa chọn tệp / No file chosen".to_string();
            return import_view(desk, &session, &values, None, Some(error));
        }
        let file = wizard::stage_statement(&desk.portal.root, &bytes)?;
        import_view(desk, &session, &values, Some(file), None)
    })
    .await
}

/// Reads the staged file again: another layout or account, or a rejected
/// row fixed.
pub async fn import_preview(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Form(values): Form<Fields>,
) -> Result<Response, DeskError> {
    blocking(&state, move |desk| {
        let file = forms::value(&values, "file").to_string();
        import_view(desk, &session, &values, Some(file), None)
    })
    .await
}

pub async fn import_accept(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Form(values): Form<Fields>,
) -> Result<Response, DeskError> {
    blocking(&state, move |desk| {
        let _draft = desk.draft.lock()?;
        let fixes = fixes_of(&values)?;
        let choice = wizard::Choice {
            what: what_of(&values),
            layout: forms::value(&values, "layout"),
            fund: forms::value(&values, "fund"),
            account: forms::value(&values, "account"),
            file: forms::value(&values, "file"),
            fixes: &fixes,
        };
        let skip = forms::value(&values, "skip_rejected") == "1";
        match wizard::accept(desk, &choice, skip) {
            Ok(_) => Ok(Redirect::to("/review").into_response()),
            Err(error) => {
                let file = choice.file.to_string();
                import_view(
                    desk,
                    &session,
                    &values,
                    Some(file),
                    Some(format!("{error:#}")),
                )
            }
        }
    })
    .await
}

// ---- the site as the public will see it ----------------------------------------

/// Before a `/site/` file is served: (re)builds the preview of the public
/// site (base `/site/`) if the ledger has been signed since it was built.
pub async fn fresh_preview(
    State(state): State<AppState>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Result<Response, DeskError> {
    blocking(&state, |desk| {
        let size = desk.ledger.checkpoint_sizes()?.last().copied();
        let mut built = desk.preview.lock().expect("preview lock");
        if size.is_some() && *built == size {
            return Ok(());
        }
        let options = crate::site::RenderOptions {
            base_url: Some("/site/".into()),
            ..Default::default()
        };
        crate::site::build(
            &desk.portal,
            &desk.preview_dir.path().join("site"),
            &options,
        )?;
        *built = size;
        Ok(())
    })
    .await?;
    Ok(next.run(request).await)
}
