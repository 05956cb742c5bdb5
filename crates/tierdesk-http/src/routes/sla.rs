//! SLA configuration routes: policies, calendars, escalation rules; and webhook subscriptions.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use tierdesk_app::sla::{self as svc, ListBody};
use tierdesk_app::webhooks::{self, WebhookInput};
use tierdesk_domain::Policy;
use tierdesk_domain::calendar::CalendarSpec;
use tierdesk_domain::rules::EscalationRule;
use tierdesk_store::{AttemptRecord, WebhookRecord};

use super::ok;
use crate::AppState;
use crate::extract::{ApiJson, Caller, blocking};
use crate::problem::{ApiError, Problem};

/// A list of JSON configuration items, `{"items": [...]}` (a bare array is accepted on PUT).
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct JsonList {
    /// Items in order.
    #[schema(value_type = Vec<Object>)]
    pub items: Vec<serde_json::Value>,
}

fn items(v: Vec<serde_json::Value>) -> Response {
    ok(JsonList { items: v })
}

/// SLA policies in order; the first that matches a ticket applies (agents).
#[utoipa::path(get, path = "/api/v1/sla/policies", tag = "sla", responses((status = 200, body = JsonList), (status = "4XX", body = Problem)))]
pub async fn get_policies(
    State(s): State<AppState>,
    Caller(p): Caller,
) -> Result<Response, ApiError> {
    let app = s.app.clone();
    Ok(items(blocking(move || svc::policies(&app, &p)).await?))
}

/// Replaces the SLA policies (admins). Run `tierdesk sla repair` to apply them to open tickets.
#[utoipa::path(put, path = "/api/v1/sla/policies", tag = "sla", request_body = JsonList,
    responses((status = 200, body = JsonList), (status = "4XX", body = Problem)))]
pub async fn put_policies(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiJson(body): ApiJson<ListBody<Policy>>,
) -> Result<Response, ApiError> {
    let app = s.app.clone();
    Ok(items(
        blocking(move || svc::put_policies(&app, &p, body.into_items())).await?,
    ))
}

/// Business-hours calendars (agents). `24x7` is built in.
#[utoipa::path(get, path = "/api/v1/calendars", tag = "sla", responses((status = 200, body = JsonList), (status = "4XX", body = Problem)))]
pub async fn get_calendars(
    State(s): State<AppState>,
    Caller(p): Caller,
) -> Result<Response, ApiError> {
    let app = s.app.clone();
    Ok(items(blocking(move || svc::calendars(&app, &p)).await?))
}

/// Creates or replaces a calendar: `{"time_zone", "hours": {"mon": ["09:00-17:00"]}, "holidays"}` (admins).
#[utoipa::path(put, path = "/api/v1/calendars/{name}", tag = "sla", params(("name" = String, Path)), request_body = Object,
    responses((status = 200, description = "the stored calendar"), (status = "4XX", body = Problem)))]
pub async fn put_calendar(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path(name): Path<String>,
    ApiJson(spec): ApiJson<CalendarSpec>,
) -> Result<Response, ApiError> {
    let app = s.app.clone();
    Ok(ok(blocking(move || {
        svc::put_calendar(&app, &p, &name, spec)
    })
    .await?))
}

/// Deletes a calendar no policy uses (admins).
#[utoipa::path(delete, path = "/api/v1/calendars/{name}", tag = "sla", params(("name" = String, Path)),
    responses((status = 204), (status = "4XX", body = Problem)))]
pub async fn delete_calendar(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    let app = s.app.clone();
    blocking(move || svc::delete_calendar(&app, &p, &name)).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Escalation rules: on SLA warning or breach → escalate, raise priority, assign lead, notify (agents).
#[utoipa::path(get, path = "/api/v1/escalation-rules", tag = "sla", responses((status = 200, body = JsonList), (status = "4XX", body = Problem)))]
pub async fn get_rules(State(s): State<AppState>, Caller(p): Caller) -> Result<Response, ApiError> {
    let app = s.app.clone();
    Ok(items(blocking(move || svc::rules(&app, &p)).await?))
}

/// Replaces the escalation rules (admins).
#[utoipa::path(put, path = "/api/v1/escalation-rules", tag = "sla", request_body = JsonList,
    responses((status = 200, body = JsonList), (status = "4XX", body = Problem)))]
pub async fn put_rules(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiJson(body): ApiJson<ListBody<EscalationRule>>,
) -> Result<Response, ApiError> {
    let app = s.app.clone();
    Ok(items(
        blocking(move || svc::put_rules(&app, &p, body.into_items())).await?,
    ))
}

/// Webhook subscriptions (admins; secrets are never returned).
#[utoipa::path(get, path = "/api/v1/webhooks", tag = "notifications", responses((status = 200, body = Vec<WebhookRecord>), (status = "4XX", body = Problem)))]
pub async fn list_webhooks(
    State(s): State<AppState>,
    Caller(p): Caller,
) -> Result<Response, ApiError> {
    let app = s.app.clone();
    Ok(ok(
        serde_json::json!({ "items": blocking(move || webhooks::list(&app, &p)).await? }),
    ))
}

/// Creates or replaces a subscription; deliveries are signed with HMAC-SHA256 (admins).
#[utoipa::path(put, path = "/api/v1/webhooks/{name}", tag = "notifications", params(("name" = String, Path)), request_body = WebhookInput,
    responses((status = 200, body = WebhookRecord), (status = "4XX", body = Problem)))]
pub async fn put_webhook(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path(name): Path<String>,
    ApiJson(input): ApiJson<WebhookInput>,
) -> Result<Response, ApiError> {
    let app = s.app.clone();
    Ok(ok(
        blocking(move || webhooks::put(&app, &p, &name, input)).await?
    ))
}

/// Delivery attempts of a subscription, newest first (admins).
#[utoipa::path(get, path = "/api/v1/webhooks/{name}/attempts", tag = "notifications", params(("name" = String, Path)),
    responses((status = 200, body = Vec<AttemptRecord>), (status = "4XX", body = Problem)))]
pub async fn webhook_attempts(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    let app = s.app.clone();
    Ok(ok(
        serde_json::json!({ "items": blocking(move || webhooks::attempts(&app, &p, &name)).await? }),
    ))
}
