//! Ticket routes (SPEC §12).

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tierdesk_app::tickets::{
    self as svc, AssignInput, CommentInput, CreateTicket, ListQuery, PriorityInput, ResolveInput,
    TicketPage, TierMoveInput, TimelineItem, TransitionInput,
};
use tierdesk_app::view::TicketView;
use tierdesk_app::{App, AppError, Principal};

use super::ok;
use crate::AppState;
use crate::extract::{ApiJson, Caller, IdempotencyKey, IfMatch, blocking, etag};
use crate::problem::{ApiError, Problem};

fn with_etag(status: StatusCode, v: TicketView) -> Response {
    let tag = etag(v.version);
    let mut resp = (status, axum::Json(v)).into_response();
    if let Ok(h) = HeaderValue::from_str(&tag) {
        resp.headers_mut().insert(header::ETAG, h);
    }
    resp
}

/// An application-layer ticket change: (app, caller, key, input, If-Match version).
type TicketChange<I> = fn(&App, &Principal, &str, I, Option<i64>) -> Result<TicketView, AppError>;

/// Runs a ticket change off the async workers; answers with the ticket and its ETag.
async fn change<I: Send + 'static>(
    s: AppState,
    p: Principal,
    key: String,
    input: I,
    if_match: Option<i64>,
    op: TicketChange<I>,
) -> Result<Response, ApiError> {
    let app = s.app.clone();
    let view = blocking(move || op(&app, &p, &key, input, if_match)).await?;
    Ok(with_etag(StatusCode::OK, view))
}

/// Creates a ticket at L1. `Idempotency-Key` makes retries safe: the same key and body answer
/// with the first response; the same key with another body is a 422.
#[utoipa::path(post, path = "/api/v1/tickets", tag = "tickets", request_body = CreateTicket,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes the request safe to retry")),
    responses((status = 201, body = TicketView), (status = "4XX", body = Problem)))]
pub async fn create(
    State(s): State<AppState>,
    Caller(p): Caller,
    IdempotencyKey(key): IdempotencyKey,
    ApiJson(input): ApiJson<CreateTicket>,
) -> Result<Response, ApiError> {
    let app = s.app.clone();
    let out = blocking(move || svc::create(&app, &p, input, key)).await?;
    let status = StatusCode::from_u16(out.status).unwrap_or(StatusCode::CREATED);
    let mut resp = (status, out.body).into_response();
    let headers = resp.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if let Ok(h) = HeaderValue::from_str(&format!("/api/v1/tickets/{}", out.key)) {
        headers.insert(header::LOCATION, h);
    }
    if out.replayed {
        headers.insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    Ok(resp)
}

/// Lists tickets with filters and cursor pagination; requesters see only their own.
#[utoipa::path(get, path = "/api/v1/tickets", tag = "tickets", params(ListQuery),
    responses((status = 200, body = TicketPage), (status = "4XX", body = Problem)))]
pub async fn list(
    State(s): State<AppState>,
    Caller(p): Caller,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::Param {
        field: "query".into(),
        message: e.body_text(),
    })?;
    let app = s.app.clone();
    Ok(ok(blocking(move || svc::list(&app, &p, &q)).await?))
}

/// Ticket counts by status among the tickets the caller may see.
#[utoipa::path(get, path = "/api/v1/tickets/counts", tag = "tickets",
    responses((status = 200, description = "{by_status: {status: n}, total: n}"), (status = 401, body = Problem)))]
pub async fn counts(State(s): State<AppState>, Caller(p): Caller) -> Result<Response, ApiError> {
    let app = s.app.clone();
    let rows = blocking(move || svc::counts(&app, &p)).await?;
    let total: i64 = rows.iter().map(|(_, n)| n).sum();
    let by_status: serde_json::Map<String, serde_json::Value> =
        rows.into_iter().map(|(s, n)| (s, n.into())).collect();
    Ok(ok(
        serde_json::json!({ "by_status": by_status, "total": total }),
    ))
}

/// One ticket (ETag = version).
#[utoipa::path(get, path = "/api/v1/tickets/{key}", tag = "tickets", params(("key" = String, Path)),
    responses((status = 200, body = TicketView), (status = 404, body = Problem)))]
pub async fn get(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path(key): Path<String>,
) -> Result<Response, ApiError> {
    let app = s.app.clone();
    Ok(with_etag(
        StatusCode::OK,
        blocking(move || svc::get(&app, &p, &key)).await?,
    ))
}

/// The ticket's timeline; requesters see public events only.
#[utoipa::path(get, path = "/api/v1/tickets/{key}/timeline", tag = "tickets", params(("key" = String, Path)),
    responses((status = 200, body = Vec<TimelineItem>), (status = 404, body = Problem)))]
pub async fn timeline(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path(key): Path<String>,
) -> Result<Response, ApiError> {
    let app = s.app.clone();
    let items = blocking(move || svc::timeline(&app, &p, &key)).await?;
    Ok(ok(serde_json::json!({ "items": items })))
}

/// Knowledge articles suggested for the ticket and those agents opened on it (agents).
#[utoipa::path(get, path = "/api/v1/tickets/{key}/articles", tag = "tickets", params(("key" = String, Path)),
    responses((status = 200, body = Vec<tierdesk_store::TicketArticle>), (status = "4XX", body = Problem)))]
pub async fn articles(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path(key): Path<String>,
) -> Result<Response, ApiError> {
    let app = s.app.clone();
    let items = blocking(move || svc::articles(&app, &p, &key)).await?;
    Ok(ok(serde_json::json!({ "items": items })))
}

/// Adds a public or internal comment.
#[utoipa::path(post, path = "/api/v1/tickets/{key}/comments", tag = "tickets", params(("key" = String, Path)),
    request_body = CommentInput, responses((status = 201, body = TicketView), (status = "4XX", body = Problem)))]
pub async fn comment(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path(key): Path<String>,
    ApiJson(input): ApiJson<CommentInput>,
) -> Result<Response, ApiError> {
    let app = s.app.clone();
    Ok(with_etag(
        StatusCode::CREATED,
        blocking(move || svc::comment(&app, &p, &key, input)).await?,
    ))
}

/// Assigns a team and/or agent (agents).
#[utoipa::path(post, path = "/api/v1/tickets/{key}/assign", tag = "tickets",
    params(("key" = String, Path), ("If-Match" = Option<String>, Header)),
    request_body = AssignInput, responses((status = 200, body = TicketView), (status = "4XX", body = Problem)))]
pub async fn assign(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path(key): Path<String>,
    IfMatch(v): IfMatch,
    ApiJson(input): ApiJson<AssignInput>,
) -> Result<Response, ApiError> {
    change(s, p, key, input, v, svc::assign).await
}

/// Changes status by the state machine (agents); an invalid transition names the allowed ones.
#[utoipa::path(post, path = "/api/v1/tickets/{key}/transition", tag = "tickets",
    params(("key" = String, Path), ("If-Match" = Option<String>, Header)),
    request_body = TransitionInput, responses((status = 200, body = TicketView), (status = "4XX", body = Problem)))]
pub async fn transition(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path(key): Path<String>,
    IfMatch(v): IfMatch,
    ApiJson(input): ApiJson<TransitionInput>,
) -> Result<Response, ApiError> {
    change(s, p, key, input, v, svc::transition).await
}

/// Escalates to a higher tier with a required note; routed to the service's team for that tier.
#[utoipa::path(post, path = "/api/v1/tickets/{key}/escalate", tag = "tickets",
    params(("key" = String, Path), ("If-Match" = Option<String>, Header)),
    request_body = TierMoveInput, responses((status = 200, body = TicketView), (status = "4XX", body = Problem)))]
pub async fn escalate(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path(key): Path<String>,
    IfMatch(v): IfMatch,
    ApiJson(input): ApiJson<TierMoveInput>,
) -> Result<Response, ApiError> {
    change(s, p, key, input, v, svc::escalate).await
}

/// Hands a ticket back to a lower tier with a note.
#[utoipa::path(post, path = "/api/v1/tickets/{key}/hand-back", tag = "tickets",
    params(("key" = String, Path), ("If-Match" = Option<String>, Header)),
    request_body = TierMoveInput, responses((status = 200, body = TicketView), (status = "4XX", body = Problem)))]
pub async fn hand_back(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path(key): Path<String>,
    IfMatch(v): IfMatch,
    ApiJson(input): ApiJson<TierMoveInput>,
) -> Result<Response, ApiError> {
    change(s, p, key, input, v, svc::hand_back).await
}

/// Resolves with a code and note (agents).
#[utoipa::path(post, path = "/api/v1/tickets/{key}/resolve", tag = "tickets",
    params(("key" = String, Path), ("If-Match" = Option<String>, Header)),
    request_body = ResolveInput, responses((status = 200, body = TicketView), (status = "4XX", body = Problem)))]
pub async fn resolve(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path(key): Path<String>,
    IfMatch(v): IfMatch,
    ApiJson(input): ApiJson<ResolveInput>,
) -> Result<Response, ApiError> {
    change(s, p, key, input, v, svc::resolve).await
}

/// Overrides the matrix priority with a reason (agents).
#[utoipa::path(post, path = "/api/v1/tickets/{key}/priority", tag = "tickets",
    params(("key" = String, Path), ("If-Match" = Option<String>, Header)),
    request_body = PriorityInput, responses((status = 200, body = TicketView), (status = "4XX", body = Problem)))]
pub async fn priority(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path(key): Path<String>,
    IfMatch(v): IfMatch,
    ApiJson(input): ApiJson<PriorityInput>,
) -> Result<Response, ApiError> {
    change(s, p, key, input, v, svc::set_priority).await
}
