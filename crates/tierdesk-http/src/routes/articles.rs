//! Knowledge-base articles: list, create, read, edit (new version), versions, diff, feedback,
//! deflections, the review queue; search, suggestions and reindexing.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use tierdesk_app::articles::{self as svc, ArticleInput, FeedbackInput, ReviewItem};
use tierdesk_app::search::{self as search_svc, ReindexReport, SearchHit, SearchParams};
use tierdesk_app::view::Suggestion;
use tierdesk_store::{ArticleRecord, ArticleVersion};

use super::{created, ok, parse_id};
use crate::AppState;
use crate::extract::{ApiJson, Caller, IfMatch, blocking, etag};
use crate::problem::{ApiError, Problem};

fn with_etag(status: StatusCode, a: ArticleRecord) -> Response {
    let tag = etag(a.version);
    let mut resp = (status, axum::Json(a)).into_response();
    if let Ok(h) = HeaderValue::from_str(&tag) {
        resp.headers_mut().insert(header::ETAG, h);
    }
    resp
}

/// Articles the caller may read (requesters: published public ones only).
#[utoipa::path(get, path = "/api/v1/kb/articles", tag = "knowledge", responses((status = 200, body = Vec<ArticleRecord>), (status = 401, body = Problem)))]
pub async fn list(State(s): State<AppState>, Caller(p): Caller) -> Result<Response, ApiError> {
    let app = s.app.clone();
    Ok(ok(
        serde_json::json!({ "items": blocking(move || svc::list(&app, &p)).await? }),
    ))
}

/// Creates an article (agents); version 1.
#[utoipa::path(post, path = "/api/v1/kb/articles", tag = "knowledge", request_body = ArticleInput,
    responses((status = 201, body = ArticleRecord), (status = "4XX", body = Problem)))]
pub async fn create(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiJson(input): ApiJson<ArticleInput>,
) -> Result<Response, ApiError> {
    let app = s.app.clone();
    Ok(created(
        blocking(move || svc::create(&app, &p, input)).await?,
    ))
}

/// Query of the article route.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OpenQuery {
    /// The ticket an agent is working on (key): the ticket records that the article was opened.
    pub ticket: Option<String>,
}

fn query<T>(q: Result<Query<T>, QueryRejection>) -> Result<T, ApiError> {
    q.map(|Query(v)| v).map_err(|e| ApiError::Param {
        field: "query".into(),
        message: e.body_text(),
    })
}

/// One article (ETag = version); hidden ones answer 404. `?ticket=KEY` records that an agent
/// consulted it for that ticket.
#[utoipa::path(get, path = "/api/v1/kb/articles/{id}", tag = "knowledge", params(("id" = i64, Path), OpenQuery),
    responses((status = 200, body = ArticleRecord), (status = 404, body = Problem)))]
pub async fn get(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path(id): Path<String>,
    q: Result<Query<OpenQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let id = parse_id("article", &id)?;
    let q = query(q)?;
    let app = s.app.clone();
    Ok(with_etag(
        StatusCode::OK,
        blocking(move || svc::open_for_ticket(&app, &p, id, q.ticket.as_deref())).await?,
    ))
}

/// Ranked search: BM25 with title and symptoms weighted, English stemming, one typo forgiven on
/// words of 5+ letters, `"phrases"`, `prefix*`; snippets. Requesters see published public
/// articles only; agents may ask for drafts and articles in review (`status`).
#[utoipa::path(get, path = "/api/v1/kb/search", tag = "knowledge", params(SearchParams),
    responses((status = 200, body = Vec<SearchHit>), (status = "4XX", body = Problem)))]
pub async fn search(
    State(s): State<AppState>,
    Caller(p): Caller,
    q: Result<Query<SearchParams>, QueryRejection>,
) -> Result<Response, ApiError> {
    let q = query(q)?;
    let app = s.app.clone();
    Ok(ok(
        serde_json::json!({ "items": blocking(move || search_svc::search(&app, &p, q)).await? }),
    ))
}

/// Query of the suggest route.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SuggestQuery {
    /// What the requester has typed so far (the last word may be unfinished).
    pub q: Option<String>,
    /// At most this many, 1–10 (default 5).
    pub limit: Option<usize>,
}

/// As-you-type suggestions for the portal: published articles the caller may read.
#[utoipa::path(get, path = "/api/v1/kb/suggest", tag = "knowledge", params(SuggestQuery),
    responses((status = 200, body = Vec<Suggestion>), (status = "4XX", body = Problem)))]
pub async fn suggest(
    State(s): State<AppState>,
    Caller(p): Caller,
    q: Result<Query<SuggestQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let q = query(q)?;
    let app = s.app.clone();
    let items = blocking(move || search_svc::suggest(&app, &p, q.q.as_deref(), q.limit)).await?;
    Ok(ok(serde_json::json!({ "items": items })))
}

/// Rebuilds this node's search index from the database (admins).
#[utoipa::path(post, path = "/api/v1/kb/reindex", tag = "knowledge",
    responses((status = 200, body = ReindexReport), (status = "4XX", body = Problem)))]
pub async fn reindex(State(s): State<AppState>, Caller(p): Caller) -> Result<Response, ApiError> {
    let app = s.app.clone();
    Ok(ok(blocking(move || {
        p.require_admin()?;
        search_svc::reindex(&app, &|_, _| {})
    })
    .await?))
}

/// Edits an article (agents): a new version; `status` follows draft → review → published → retired.
#[utoipa::path(put, path = "/api/v1/kb/articles/{id}", tag = "knowledge", params(("id" = i64, Path), ("If-Match" = Option<String>, Header)),
    request_body = ArticleInput, responses((status = 200, body = ArticleRecord), (status = "4XX", body = Problem)))]
pub async fn update(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path(id): Path<String>,
    IfMatch(v): IfMatch,
    ApiJson(input): ApiJson<ArticleInput>,
) -> Result<Response, ApiError> {
    let id = parse_id("article", &id)?;
    let app = s.app.clone();
    Ok(with_etag(
        StatusCode::OK,
        blocking(move || svc::update(&app, &p, id, input, v)).await?,
    ))
}

/// Every version of an article (agents).
#[utoipa::path(get, path = "/api/v1/kb/articles/{id}/versions", tag = "knowledge", params(("id" = i64, Path)),
    responses((status = 200, body = Vec<ArticleVersion>), (status = 404, body = Problem)))]
pub async fn versions(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = parse_id("article", &id)?;
    let app = s.app.clone();
    Ok(ok(
        serde_json::json!({ "items": blocking(move || svc::versions(&app, &p, id)).await? }),
    ))
}

/// Query of the diff route.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DiffQuery {
    /// Older version.
    pub from: i64,
    /// Newer version.
    pub to: i64,
}

/// Line diff between two versions (agents).
#[utoipa::path(get, path = "/api/v1/kb/articles/{id}/diff", tag = "knowledge", params(("id" = i64, Path), DiffQuery),
    responses((status = 200, description = "{from, to, title?, lines: [{op, text}]}"), (status = "4XX", body = Problem)))]
pub async fn diff(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path(id): Path<String>,
    q: Result<Query<DiffQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let id = parse_id("article", &id)?;
    let q = query(q)?;
    let app = s.app.clone();
    Ok(ok(
        blocking(move || svc::diff(&app, &p, id, q.from, q.to)).await?
    ))
}

/// Helpful / not-helpful feedback with an optional comment (anyone who may read the article).
#[utoipa::path(post, path = "/api/v1/kb/articles/{id}/feedback", tag = "knowledge", params(("id" = i64, Path)),
    request_body = FeedbackInput, responses((status = 201, body = ArticleRecord), (status = "4XX", body = Problem)))]
pub async fn feedback(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<FeedbackInput>,
) -> Result<Response, ApiError> {
    let id = parse_id("article", &id)?;
    let app = s.app.clone();
    Ok(created(
        blocking(move || svc::feedback(&app, &p, id, input)).await?,
    ))
}

/// "This solved it": counts a deflection (no ticket is created).
#[utoipa::path(post, path = "/api/v1/kb/articles/{id}/solved", tag = "knowledge", params(("id" = i64, Path)),
    responses((status = 200, description = "{deflections}"), (status = "4XX", body = Problem)))]
pub async fn solved(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = parse_id("article", &id)?;
    let app = s.app.clone();
    let n = blocking(move || svc::solved(&app, &p, id)).await?;
    Ok(ok(serde_json::json!({ "deflections": n })))
}

/// Articles past their review-by date or often unhelpful (agents).
#[utoipa::path(get, path = "/api/v1/kb/review-queue", tag = "knowledge",
    responses((status = 200, body = Vec<ReviewItem>), (status = "4XX", body = Problem)))]
pub async fn review_queue(
    State(s): State<AppState>,
    Caller(p): Caller,
) -> Result<Response, ApiError> {
    let app = s.app.clone();
    Ok(ok(
        serde_json::json!({ "items": blocking(move || svc::review_queue(&app, &p)).await? }),
    ))
}
