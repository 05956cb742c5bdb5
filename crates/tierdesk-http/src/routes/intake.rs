//! Monitoring receivers, authenticated by the integration key (never a user token), answering
//! in the way each sender's retry logic needs: Alertmanager and Grafana drop a notification on
//! any 4xx, so overload and database trouble answer **503 with `Retry-After`**; the PagerDuty
//! endpoint answers like PagerDuty (202 / 400 with `errors` / 429). A 2xx is sent only after the
//! raw body and everything derived from it are committed.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use tierdesk_app::intake::formats::{self, FormatError};
use tierdesk_app::intake::{self, GroupView, Receipt, heartbeat, integrations};
use tierdesk_app::{AppError, StoreError};
use tierdesk_domain::alert::Notification;
use tierdesk_store::IntegrationRecord;

use super::ok;
use crate::AppState;
use crate::extract::{Caller, blocking};
use crate::problem::{ApiError, Problem};

/// Largest Alertmanager / Grafana / generic body (a group of thousands of alerts).
pub const MAX_WEBHOOK_BYTES: usize = 10 * 1024 * 1024;
/// Largest PagerDuty event, as PagerDuty's own limit.
pub const MAX_PD_BYTES: usize = 512 * 1024;
/// Seconds a sender is asked to wait when tierdesk is overloaded or its database is down.
const RETRY_AFTER_SECS: u64 = 5;

fn bearer(headers: &HeaderMap) -> Option<String> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_owned())
}

fn unavailable(detail: &str) -> Response {
    let p = Problem {
        kind: "https://tierdesk.dev/problems/unavailable".into(),
        title: "Service unavailable".into(),
        status: 503,
        detail: detail.into(),
        errors: Vec::new(),
        allowed: None,
    };
    let mut resp = (StatusCode::SERVICE_UNAVAILABLE, axum::Json(p)).into_response();
    resp.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECS));
    resp
}

fn bad_body(e: FormatError) -> Response {
    ApiError::Body {
        status: StatusCode::BAD_REQUEST,
        detail: format!("{}: {}", e.field, e.message),
    }
    .into_response()
}

/// Maps an intake failure for webhook senders: never a 4xx for something transient.
fn webhook_error(e: AppError) -> Response {
    match e {
        AppError::Store(StoreError::Unavailable(_)) => {
            unavailable("the database is unavailable; retry shortly")
        }
        AppError::Unauthorized(_) | AppError::Invalid { .. } | AppError::NotFound(_) => {
            ApiError::App(e).into_response()
        }
        AppError::Store(StoreError::Unique(_)) | AppError::Conflict(_) => {
            unavailable("a concurrent delivery for the same group is being applied; retry")
        }
        other => ApiError::App(other).into_response(),
    }
}

async fn integration_for(
    s: &AppState,
    key: Option<String>,
    kinds: &'static [&'static str],
) -> Result<IntegrationRecord, Response> {
    let key = key.ok_or_else(|| {
        ApiError::App(AppError::Unauthorized(
            "give the integration key as the last path segment or as a Bearer token".into(),
        ))
        .into_response()
    })?;
    let app = s.app.clone();
    let i = blocking(move || integrations::by_key(&app, &key))
        .await
        .map_err(|e| match e {
            ApiError::App(a) => webhook_error(a),
            other => other.into_response(),
        })?;
    if !kinds.contains(&i.kind.as_str()) {
        return Err(ApiError::App(AppError::Unauthorized(format!(
            "this key belongs to a {} integration; use its own endpoint",
            i.kind
        )))
        .into_response());
    }
    Ok(i)
}

async fn receive(
    s: AppState,
    key: Option<String>,
    kinds: &'static [&'static str],
    body: Bytes,
    parse: fn(&[u8]) -> Result<Notification, FormatError>,
) -> Response {
    let Ok(_slot) = s.intake_slots.clone().try_acquire_owned() else {
        return unavailable("too many notifications in flight; retry shortly");
    };
    let i = match integration_for(&s, key, kinds).await {
        Ok(i) => i,
        Err(r) => return r,
    };
    let n = match parse(&body) {
        Ok(n) => n,
        Err(e) => return bad_body(e),
    };
    let app = s.app.clone();
    match blocking(move || intake::receive(&app, &i, n, &body)).await {
        Ok(r) => ok(r),
        Err(ApiError::App(e)) => webhook_error(e),
        Err(other) => other.into_response(),
    }
}

/// The Alertmanager webhook (version 4), key in the path.
#[utoipa::path(post, path = "/api/v1/intake/alertmanager/{key}", tag = "intake", params(("key" = String, Path)),
    request_body(content = String, description = "Alertmanager webhook payload (version 4)"),
    responses((status = 200, body = Receipt), (status = 400, body = Problem), (status = 401, body = Problem), (status = 503, body = Problem)), security(()))]
pub async fn alertmanager_key(
    State(s): State<AppState>,
    Path(key): Path<String>,
    body: Bytes,
) -> Response {
    receive(
        s,
        Some(key),
        &["alertmanager", "grafana"],
        body,
        formats::alertmanager,
    )
    .await
}

/// The Alertmanager webhook, key as `Authorization: Bearer` (`http_config.authorization`).
#[utoipa::path(post, path = "/api/v1/intake/alertmanager", tag = "intake",
    request_body(content = String, description = "Alertmanager webhook payload (version 4)"),
    responses((status = 200, body = Receipt), (status = 400, body = Problem), (status = 401, body = Problem), (status = 503, body = Problem)), security(()))]
pub async fn alertmanager(State(s): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    receive(
        s,
        bearer(&headers),
        &["alertmanager", "grafana"],
        body,
        formats::alertmanager,
    )
    .await
}

/// Grafana alerting's webhook contact point (POST or PUT), key in the path.
#[utoipa::path(post, path = "/api/v1/intake/grafana/{key}", tag = "intake", params(("key" = String, Path)),
    request_body(content = String, description = "Grafana webhook payload"),
    responses((status = 200, body = Receipt), (status = 400, body = Problem), (status = 401, body = Problem), (status = 503, body = Problem)), security(()))]
pub async fn grafana_key(
    State(s): State<AppState>,
    Path(key): Path<String>,
    body: Bytes,
) -> Response {
    receive(
        s,
        Some(key),
        &["grafana", "alertmanager"],
        body,
        formats::alertmanager,
    )
    .await
}

/// Grafana's webhook contact point, key as a Bearer credential.
#[utoipa::path(post, path = "/api/v1/intake/grafana", tag = "intake",
    request_body(content = String, description = "Grafana webhook payload"),
    responses((status = 200, body = Receipt), (status = 400, body = Problem), (status = 401, body = Problem), (status = 503, body = Problem)), security(()))]
pub async fn grafana(State(s): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    receive(
        s,
        bearer(&headers),
        &["grafana", "alertmanager"],
        body,
        formats::alertmanager,
    )
    .await
}

/// The generic JSON receiver: `{title, status, dedup_key, severity, source, description,
/// labels, links}`, key in the path.
#[utoipa::path(post, path = "/api/v1/intake/generic/{key}", tag = "intake", params(("key" = String, Path)),
    request_body(content = String, description = "{title, status: firing|resolved, dedup_key, severity, source, description, labels: {}, links: [{href, text}]}"),
    responses((status = 200, body = Receipt), (status = 400, body = Problem), (status = 401, body = Problem), (status = 503, body = Problem)), security(()))]
pub async fn generic_key(
    State(s): State<AppState>,
    Path(key): Path<String>,
    body: Bytes,
) -> Response {
    receive(s, Some(key), &["generic"], body, formats::generic).await
}

/// The generic JSON receiver, key as a Bearer token.
#[utoipa::path(post, path = "/api/v1/intake/generic", tag = "intake",
    request_body(content = String, description = "generic alert JSON"),
    responses((status = 200, body = Receipt), (status = 400, body = Problem), (status = 401, body = Problem), (status = 503, body = Problem)), security(()))]
pub async fn generic(State(s): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    receive(s, bearer(&headers), &["generic"], body, formats::generic).await
}

async fn beat(s: AppState, key: Option<String>) -> Response {
    let i = match integration_for(
        &s,
        key,
        &[
            "alertmanager",
            "grafana",
            "pagerduty",
            "generic",
            "heartbeat",
        ],
    )
    .await
    {
        Ok(i) => i,
        Err(r) => return r,
    };
    let app = s.app.clone();
    match blocking(move || heartbeat::beat(&app, &i)).await {
        Ok(next) => ok(json!({"status": "ok", "next_due": next})),
        Err(ApiError::App(e)) => webhook_error(e),
        Err(other) => other.into_response(),
    }
}

/// A heartbeat (GET or POST), key in the path.
#[utoipa::path(post, path = "/api/v1/intake/heartbeat/{key}", tag = "intake", params(("key" = String, Path)),
    responses((status = 200, description = "{status, next_due}"), (status = 401, body = Problem), (status = 422, body = Problem)), security(()))]
pub async fn heartbeat_key(State(s): State<AppState>, Path(key): Path<String>) -> Response {
    beat(s, Some(key)).await
}

/// A heartbeat (GET or POST), key as a Bearer token.
#[utoipa::path(post, path = "/api/v1/intake/heartbeat", tag = "intake",
    responses((status = 200, description = "{status, next_due}"), (status = 401, body = Problem), (status = 422, body = Problem)), security(()))]
pub async fn heartbeat(State(s): State<AppState>, headers: HeaderMap) -> Response {
    beat(s, bearer(&headers)).await
}

fn pd(status: StatusCode, body: serde_json::Value) -> Response {
    (status, axum::Json(body)).into_response()
}

fn pd_invalid(message: &str) -> Response {
    pd(
        StatusCode::BAD_REQUEST,
        json!({"status": "invalid event", "message": "Event object is invalid", "errors": [message]}),
    )
}

/// PagerDuty Events API v2, wire-compatible: `routing_key` is the integration key.
#[utoipa::path(post, path = "/v2/enqueue", tag = "intake",
    request_body(content = String, description = "PagerDuty Events API v2 event"),
    responses((status = 202, description = "{status: success, message: Event processed, dedup_key}"),
        (status = 400, description = "{status, message, errors: [...]}"), (status = 429, description = "throttled")), security(()))]
pub async fn pagerduty(State(s): State<AppState>, body: Bytes) -> Response {
    let Ok(_slot) = s.intake_slots.clone().try_acquire_owned() else {
        return pd(
            StatusCode::TOO_MANY_REQUESTS,
            json!({"status": "throttle event", "message": "Requests for this service are arriving too quickly. Please retry later."}),
        );
    };
    let parsed = match formats::pagerduty(&body, integrations::new_key) {
        Ok(p) => p,
        Err(e) if e.field == "body" => {
            return pd(
                StatusCode::BAD_REQUEST,
                json!({"status": "Unrecognized object", "message": "Event object format is unrecognized", "errors": ["JSON parse error"]}),
            );
        }
        Err(e) => return pd_invalid(&e.message),
    };
    let app = s.app.clone();
    let key = parsed.routing_key.clone();
    let i = match blocking(move || integrations::by_key(&app, &key)).await {
        Ok(i) if i.kind == "pagerduty" => i,
        Ok(_) | Err(ApiError::App(AppError::Unauthorized(_))) => {
            return pd_invalid("'routing_key' is not a valid integration key");
        }
        Err(_) => {
            return pd(
                StatusCode::INTERNAL_SERVER_ERROR,
                json!({"status": "error", "message": "internal error; retry"}),
            );
        }
    };
    let dedup_key = parsed.notification.group_key.clone();
    let app = s.app.clone();
    let n = parsed.notification;
    match blocking(move || intake::receive(&app, &i, n, &body)).await {
        Ok(_) => pd(
            StatusCode::ACCEPTED,
            json!({"status": "success", "message": "Event processed", "dedup_key": dedup_key}),
        ),
        Err(ApiError::App(AppError::Store(StoreError::Unavailable(_)))) => pd(
            StatusCode::TOO_MANY_REQUESTS,
            json!({"status": "throttle event", "message": "The service is briefly unavailable. Please retry later."}),
        ),
        Err(_) => pd(
            StatusCode::INTERNAL_SERVER_ERROR,
            json!({"status": "error", "message": "internal error; retry"}),
        ),
    }
}

/// The alert groups behind an incident, with labels, annotations and links (agents).
#[utoipa::path(get, path = "/api/v1/tickets/{key}/alerts", tag = "tickets", params(("key" = String, Path)),
    responses((status = 200, body = Vec<GroupView>), (status = "4XX", body = Problem)))]
pub async fn ticket_alerts(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path(key): Path<String>,
) -> Result<Response, ApiError> {
    let app = s.app.clone();
    let items = blocking(move || intake::of_ticket(&app, &p, &key)).await?;
    Ok(ok(json!({ "items": items })))
}
