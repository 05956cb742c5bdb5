//! Knowledge articles (plain records for now).

use axum::extract::{Path, State};
use axum::response::Response;
use tierdesk_app::articles::{self as svc, ArticleInput};
use tierdesk_store::ArticleRecord;

use super::{created, ok, parse_id};
use crate::AppState;
use crate::extract::{ApiJson, Caller, blocking};
use crate::problem::{ApiError, Problem};

/// Articles the caller may read (requesters: published public ones).
#[utoipa::path(get, path = "/api/v1/articles", tag = "knowledge", responses((status = 200, body = Vec<ArticleRecord>), (status = 401, body = Problem)))]
pub async fn list(State(s): State<AppState>, Caller(p): Caller) -> Result<Response, ApiError> {
    let app = s.app.clone();
    Ok(ok(
        serde_json::json!({ "items": blocking(move || svc::list(&app, &p)).await? }),
    ))
}

/// Creates an article (agents).
#[utoipa::path(post, path = "/api/v1/articles", tag = "knowledge", request_body = ArticleInput,
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

/// One article.
#[utoipa::path(get, path = "/api/v1/articles/{id}", tag = "knowledge", params(("id" = i64, Path)),
    responses((status = 200, body = ArticleRecord), (status = 404, body = Problem)))]
pub async fn get(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = parse_id("article", &id)?;
    let app = s.app.clone();
    Ok(ok(blocking(move || svc::get(&app, &p, id)).await?))
}
