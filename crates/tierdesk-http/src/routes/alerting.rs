//! Alerting administration: integrations (admins) and silences (agents).

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use tierdesk_app::intake::integrations::{self, IntegrationInput, IntegrationView};
use tierdesk_app::intake::silences::{self, SilenceInput};
use tierdesk_app::intake::{self, GroupView};
use tierdesk_store::SilenceRecord;

use super::{created, ok, parse_id};
use crate::AppState;
use crate::extract::{ApiJson, Caller, blocking};
use crate::problem::{ApiError, Problem};

/// Every integration, without keys (admins).
#[utoipa::path(get, path = "/api/v1/integrations", tag = "alerting",
    responses((status = 200, body = Vec<IntegrationView>), (status = "4XX", body = Problem)))]
pub async fn list(State(s): State<AppState>, Caller(p): Caller) -> Result<Response, ApiError> {
    let app = s.app.clone();
    let items = blocking(move || integrations::list(&app, &p)).await?;
    Ok(ok(serde_json::json!({ "items": items })))
}

/// Creates an integration (admins); the answer holds its key, shown this once.
#[utoipa::path(post, path = "/api/v1/integrations", tag = "alerting", request_body = IntegrationInput,
    responses((status = 201, body = IntegrationView), (status = "4XX", body = Problem)))]
pub async fn create(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiJson(input): ApiJson<IntegrationInput>,
) -> Result<Response, ApiError> {
    let app = s.app.clone();
    Ok(created(
        blocking(move || integrations::create(&app, &p, input)).await?,
    ))
}

/// Changes an integration's settings (admins).
#[utoipa::path(patch, path = "/api/v1/integrations/{name}", tag = "alerting", params(("name" = String, Path)),
    request_body = IntegrationInput, responses((status = 200, body = IntegrationView), (status = "4XX", body = Problem)))]
pub async fn update(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path(name): Path<String>,
    ApiJson(input): ApiJson<IntegrationInput>,
) -> Result<Response, ApiError> {
    let app = s.app.clone();
    Ok(ok(blocking(move || {
        integrations::update(&app, &p, &name, input)
    })
    .await?))
}

/// Replaces an integration's key (admins); the old key stops working at once.
#[utoipa::path(post, path = "/api/v1/integrations/{name}/rotate-key", tag = "alerting", params(("name" = String, Path)),
    responses((status = 200, body = IntegrationView), (status = "4XX", body = Problem)))]
pub async fn rotate_key(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    let app = s.app.clone();
    Ok(ok(blocking(move || {
        integrations::rotate_key(&app, &p, &name)
    })
    .await?))
}

/// Query of the silence list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SilenceQuery {
    /// Include ended silences.
    pub all: Option<bool>,
}

/// Silences not yet ended (agents); `?all=true` for every one.
#[utoipa::path(get, path = "/api/v1/silences", tag = "alerting", params(SilenceQuery),
    responses((status = 200, body = Vec<SilenceRecord>), (status = "4XX", body = Problem)))]
pub async fn list_silences(
    State(s): State<AppState>,
    Caller(p): Caller,
    q: Result<Query<SilenceQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(q) = q.map_err(|e| ApiError::Param {
        field: "query".into(),
        message: e.body_text(),
    })?;
    let app = s.app.clone();
    let items = blocking(move || silences::list(&app, &p, q.all.unwrap_or(false))).await?;
    Ok(ok(serde_json::json!({ "items": items })))
}

/// Creates a silence or maintenance window (agents): matching alerts are recorded and shown
/// but open no incident and notify no one.
#[utoipa::path(post, path = "/api/v1/silences", tag = "alerting", request_body = SilenceInput,
    responses((status = 201, body = SilenceRecord), (status = "4XX", body = Problem)))]
pub async fn create_silence(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiJson(input): ApiJson<SilenceInput>,
) -> Result<Response, ApiError> {
    let app = s.app.clone();
    Ok(created(
        blocking(move || silences::create(&app, &p, input)).await?,
    ))
}

/// Ends a silence now (agents).
#[utoipa::path(delete, path = "/api/v1/silences/{id}", tag = "alerting", params(("id" = i64, Path)),
    responses((status = 204), (status = "4XX", body = Problem)))]
pub async fn expire_silence(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = parse_id("silence", &id)?;
    let app = s.app.clone();
    blocking(move || silences::expire(&app, &p, id)).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// The integration's most recent alert groups and alerts, silenced ones included (agents).
#[utoipa::path(get, path = "/api/v1/integrations/{name}/alerts", tag = "alerting", params(("name" = String, Path)),
    responses((status = 200, body = Vec<GroupView>), (status = "4XX", body = Problem)))]
pub async fn alerts(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    let app = s.app.clone();
    let items = blocking(move || intake::of_integration(&app, &p, &name, 200)).await?;
    Ok(ok(serde_json::json!({ "items": items })))
}
