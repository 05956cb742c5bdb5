//! The URL map: every route, in one table, registered with its OpenAPI description.

mod alerting;
mod articles;
mod intake;
mod org;
mod reports;
mod sla;
mod system;
mod tickets;

use axum::extract::DefaultBodyLimit;
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouterExt};
use utoipa_axum::routes;

use crate::AppState;
use crate::problem::ApiError;

/// Registers every route (the OpenAPI document is built from the same calls).
pub fn table(r: OpenApiRouter<AppState>) -> OpenApiRouter<AppState> {
    r.routes(routes!(system::healthz))
        .routes(routes!(system::readyz))
        .routes(routes!(system::login))
        .routes(routes!(system::me))
        .routes(routes!(tickets::create, tickets::list))
        .routes(routes!(tickets::counts))
        .routes(routes!(tickets::get))
        .routes(routes!(tickets::timeline))
        .routes(routes!(tickets::comment))
        .routes(routes!(tickets::assign))
        .routes(routes!(tickets::transition))
        .routes(routes!(tickets::escalate))
        .routes(routes!(tickets::hand_back))
        .routes(routes!(tickets::resolve))
        .routes(routes!(tickets::priority))
        .routes(routes!(tickets::articles))
        .routes(routes!(org::list_tiers))
        .routes(routes!(org::put_tier))
        .routes(routes!(org::list_teams, org::create_team))
        .routes(routes!(org::get_team, org::update_team))
        .routes(routes!(org::list_users, org::create_user))
        .routes(routes!(org::get_user, org::update_user))
        .routes(routes!(org::list_services, org::create_service))
        .routes(routes!(org::get_service, org::update_service))
        .routes(routes!(org::list_categories, org::create_category))
        .routes(routes!(org::update_category))
        .routes(routes!(articles::list, articles::create))
        .routes(routes!(articles::get, articles::update))
        .routes(routes!(articles::versions))
        .routes(routes!(articles::diff))
        .routes(routes!(articles::feedback))
        .routes(routes!(articles::solved))
        .routes(routes!(articles::review_queue))
        .routes(routes!(articles::search))
        .routes(routes!(articles::suggest))
        .routes(routes!(articles::reindex))
        .routes(routes!(sla::get_policies, sla::put_policies))
        .routes(routes!(sla::get_calendars))
        .routes(routes!(sla::put_calendar, sla::delete_calendar))
        .routes(routes!(sla::get_rules, sla::put_rules))
        .routes(routes!(sla::list_webhooks))
        .routes(routes!(sla::put_webhook))
        .routes(routes!(sla::webhook_attempts))
        .routes(routes!(reports::summary))
        .routes(routes!(reports::summary_csv))
        .routes(routes!(reports::metrics))
        .routes(routes!(alerting::list, alerting::create))
        .routes(routes!(alerting::update))
        .routes(routes!(alerting::rotate_key))
        .routes(routes!(alerting::alerts))
        .routes(routes!(alerting::list_silences, alerting::create_silence))
        .routes(routes!(alerting::expire_silence))
        .routes(routes!(intake::ticket_alerts))
        .routes(
            routes!(intake::alertmanager_key)
                .layer(DefaultBodyLimit::max(intake::MAX_WEBHOOK_BYTES)),
        )
        .routes(
            routes!(intake::alertmanager).layer(DefaultBodyLimit::max(intake::MAX_WEBHOOK_BYTES)),
        )
        .routes(
            routes!(intake::grafana_key).layer(DefaultBodyLimit::max(intake::MAX_WEBHOOK_BYTES)),
        )
        .routes(routes!(intake::grafana).layer(DefaultBodyLimit::max(intake::MAX_WEBHOOK_BYTES)))
        .routes(
            routes!(intake::generic_key).layer(DefaultBodyLimit::max(intake::MAX_WEBHOOK_BYTES)),
        )
        .routes(routes!(intake::generic).layer(DefaultBodyLimit::max(intake::MAX_WEBHOOK_BYTES)))
        .routes(routes!(intake::heartbeat_key))
        .routes(routes!(intake::heartbeat))
        .routes(routes!(intake::pagerduty).layer(DefaultBodyLimit::max(intake::MAX_PD_BYTES)))
}

/// Methods the OpenAPI document lists under their twin: a heartbeat by GET, Grafana's PUT.
pub fn extra_methods(r: axum::Router<AppState>) -> axum::Router<AppState> {
    use axum::routing::{get, put};
    let limit = || DefaultBodyLimit::max(intake::MAX_WEBHOOK_BYTES);
    r.route("/api/v1/intake/heartbeat/{key}", get(intake::heartbeat_key))
        .route("/api/v1/intake/heartbeat", get(intake::heartbeat))
        .route(
            "/api/v1/intake/grafana/{key}",
            put(intake::grafana_key).layer(limit()),
        )
        .route(
            "/api/v1/intake/grafana",
            put(intake::grafana).layer(limit()),
        )
}

/// Unknown paths: a problem+json 404.
pub async fn not_found(uri: Uri) -> Response {
    ApiError::App(tierdesk_app::AppError::NotFound(format!(
        "route {}",
        uri.path()
    )))
    .into_response()
}

/// Parses a numeric id from a path; anything else is simply not found.
fn parse_id(what: &str, text: &str) -> Result<i64, ApiError> {
    text.parse::<i64>()
        .map_err(|_| ApiError::App(tierdesk_app::AppError::NotFound(format!("{what} {text}"))))
}

/// `200 OK` with a JSON body.
fn ok<T: serde::Serialize>(v: T) -> Response {
    (StatusCode::OK, axum::Json(v)).into_response()
}

/// `201 Created` with a JSON body.
fn created<T: serde::Serialize>(v: T) -> Response {
    (StatusCode::CREATED, axum::Json(v)).into_response()
}
