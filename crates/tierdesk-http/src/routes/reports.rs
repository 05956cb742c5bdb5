//! Reports (JSON and CSV) and Prometheus metrics.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use tierdesk_app::reports::{self as svc, ReportQuery, Summary};

use super::ok;
use crate::AppState;
use crate::extract::{Caller, blocking};
use crate::problem::{ApiError, Problem};

fn query(q: Result<Query<ReportQuery>, QueryRejection>) -> Result<ReportQuery, ApiError> {
    q.map(|Query(q)| q).map_err(|e| ApiError::Param {
        field: "query".into(),
        message: e.body_text(),
    })
}

fn csv(s: &Summary) -> Response {
    let mut resp = svc::to_csv(s).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    resp
}

/// MTTA, MTTR, SLA compliance, first-contact resolution, escalation rates and backlog by age,
/// grouped by tier, team, priority or service (agents). `Accept: text/csv` for CSV.
#[utoipa::path(get, path = "/api/v1/reports/summary", tag = "reports", params(ReportQuery),
    responses((status = 200, body = Summary), (status = "4XX", body = Problem)))]
pub async fn summary(
    State(s): State<AppState>,
    Caller(p): Caller,
    headers: HeaderMap,
    q: Result<Query<ReportQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let q = query(q)?;
    let app = s.app.clone();
    let report = blocking(move || svc::summary(&app, &p, &q)).await?;
    let wants_csv = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/csv"));
    Ok(if wants_csv { csv(&report) } else { ok(report) })
}

/// The summary report as CSV (agents).
#[utoipa::path(get, path = "/api/v1/reports/summary.csv", tag = "reports", params(ReportQuery),
    responses((status = 200, content_type = "text/csv", body = String), (status = "4XX", body = Problem)))]
pub async fn summary_csv(
    State(s): State<AppState>,
    Caller(p): Caller,
    q: Result<Query<ReportQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let q = query(q)?;
    let app = s.app.clone();
    Ok(csv(&blocking(move || svc::summary(&app, &p, &q)).await?))
}

/// Prometheus metrics (text exposition format).
#[utoipa::path(get, path = "/metrics", tag = "operations", security(()),
    responses((status = 200, content_type = "text/plain", body = String)))]
pub async fn metrics(State(s): State<AppState>) -> Result<Response, ApiError> {
    let app = s.app.clone();
    let text = blocking(move || tierdesk_app::metrics::render(&app)).await?;
    let mut resp = text.into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    Ok(resp)
}
