//! Organisation routes: tiers, teams, users, services, categories.

use axum::extract::{Path, State};
use axum::response::Response;
use tierdesk_app::org::{
    self as svc, CategoryInput, ServiceInput, TeamInput, TierInput, UserInput,
};
use tierdesk_store::{CategoryRecord, ServiceRecord, TeamRecord, UserRecord};

use super::{created, ok, parse_id};
use crate::AppState;
use crate::extract::{ApiJson, Caller, blocking};
use crate::problem::{ApiError, Problem};

/// A tier as the API shows it.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct TierOut {
    /// Short name (`L1`).
    pub short: String,
    /// Display name.
    pub name: String,
    /// Order, 1 = first line.
    pub level: i32,
    /// Response target, e.g. `15m`.
    pub response_target: String,
    /// Default team id.
    pub default_team_id: Option<i64>,
}

fn tier_out(t: tierdesk_domain::Tier) -> TierOut {
    TierOut {
        short: t.short,
        name: t.name,
        level: t.level,
        response_target: tierdesk_domain::duration::format_duration(t.response_target_secs),
        default_team_id: t.default_team_id,
    }
}

/// Every tier.
#[utoipa::path(get, path = "/api/v1/tiers", tag = "organisation", responses((status = 200, body = Vec<TierOut>), (status = 401, body = Problem)))]
pub async fn list_tiers(
    State(s): State<AppState>,
    Caller(_p): Caller,
) -> Result<Response, ApiError> {
    let app = s.app.clone();
    let tiers = blocking(move || svc::list_tiers(&app)).await?;
    Ok(ok(
        serde_json::json!({ "items": tiers.into_iter().map(tier_out).collect::<Vec<_>>() }),
    ))
}

/// Creates or changes a tier (admins).
#[utoipa::path(put, path = "/api/v1/tiers/{short}", tag = "organisation", params(("short" = String, Path)),
    request_body = TierInput, responses((status = 200, body = TierOut), (status = "4XX", body = Problem)))]
pub async fn put_tier(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path(short): Path<String>,
    ApiJson(input): ApiJson<TierInput>,
) -> Result<Response, ApiError> {
    let app = s.app.clone();
    Ok(ok(tier_out(
        blocking(move || svc::put_tier(&app, &p, &short, input)).await?,
    )))
}

/// Every team.
#[utoipa::path(get, path = "/api/v1/teams", tag = "organisation", responses((status = 200, body = Vec<TeamRecord>), (status = 401, body = Problem)))]
pub async fn list_teams(
    State(s): State<AppState>,
    Caller(_p): Caller,
) -> Result<Response, ApiError> {
    let app = s.app.clone();
    Ok(ok(
        serde_json::json!({ "items": blocking(move || svc::list_teams(&app)).await? }),
    ))
}

/// Creates a team (admins).
#[utoipa::path(post, path = "/api/v1/teams", tag = "organisation", request_body = TeamInput,
    responses((status = 201, body = TeamRecord), (status = "4XX", body = Problem)))]
pub async fn create_team(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiJson(input): ApiJson<TeamInput>,
) -> Result<Response, ApiError> {
    let app = s.app.clone();
    Ok(created(
        blocking(move || svc::save_team(&app, &p, None, input)).await?,
    ))
}

/// One team.
#[utoipa::path(get, path = "/api/v1/teams/{id}", tag = "organisation", params(("id" = i64, Path)),
    responses((status = 200, body = TeamRecord), (status = 404, body = Problem)))]
pub async fn get_team(
    State(s): State<AppState>,
    Caller(_p): Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = parse_id("team", &id)?;
    let app = s.app.clone();
    Ok(ok(blocking(move || svc::get_team(&app, id)).await?))
}

/// Changes a team (admins).
#[utoipa::path(patch, path = "/api/v1/teams/{id}", tag = "organisation", params(("id" = i64, Path)), request_body = TeamInput,
    responses((status = 200, body = TeamRecord), (status = "4XX", body = Problem)))]
pub async fn update_team(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<TeamInput>,
) -> Result<Response, ApiError> {
    let id = parse_id("team", &id)?;
    let app = s.app.clone();
    Ok(ok(blocking(move || {
        svc::save_team(&app, &p, Some(id), input)
    })
    .await?))
}

/// Users (agents).
#[utoipa::path(get, path = "/api/v1/users", tag = "organisation", responses((status = 200, body = Vec<UserRecord>), (status = "4XX", body = Problem)))]
pub async fn list_users(
    State(s): State<AppState>,
    Caller(p): Caller,
) -> Result<Response, ApiError> {
    let app = s.app.clone();
    Ok(ok(
        serde_json::json!({ "items": blocking(move || svc::list_users(&app, &p)).await? }),
    ))
}

/// Creates a user (admins).
#[utoipa::path(post, path = "/api/v1/users", tag = "organisation", request_body = UserInput,
    responses((status = 201, body = UserRecord), (status = "4XX", body = Problem)))]
pub async fn create_user(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiJson(input): ApiJson<UserInput>,
) -> Result<Response, ApiError> {
    let app = s.app.clone();
    Ok(created(
        blocking(move || svc::save_user(&app, &p, None, input)).await?,
    ))
}

/// One user (agents, or the user themself).
#[utoipa::path(get, path = "/api/v1/users/{id}", tag = "organisation", params(("id" = i64, Path)),
    responses((status = 200, body = UserRecord), (status = 404, body = Problem)))]
pub async fn get_user(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = parse_id("user", &id)?;
    let app = s.app.clone();
    Ok(ok(blocking(move || svc::get_user(&app, &p, id)).await?))
}

/// Changes a user (admins); disabling revokes their tokens.
#[utoipa::path(patch, path = "/api/v1/users/{id}", tag = "organisation", params(("id" = i64, Path)), request_body = UserInput,
    responses((status = 200, body = UserRecord), (status = "4XX", body = Problem)))]
pub async fn update_user(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<UserInput>,
) -> Result<Response, ApiError> {
    let id = parse_id("user", &id)?;
    let app = s.app.clone();
    Ok(ok(blocking(move || {
        svc::save_user(&app, &p, Some(id), input)
    })
    .await?))
}

/// Every service.
#[utoipa::path(get, path = "/api/v1/services", tag = "organisation", responses((status = 200, body = Vec<ServiceRecord>), (status = 401, body = Problem)))]
pub async fn list_services(
    State(s): State<AppState>,
    Caller(_p): Caller,
) -> Result<Response, ApiError> {
    let app = s.app.clone();
    Ok(ok(
        serde_json::json!({ "items": blocking(move || svc::list_services(&app)).await? }),
    ))
}

/// Creates a service with its owning team per tier (admins).
#[utoipa::path(post, path = "/api/v1/services", tag = "organisation", request_body = ServiceInput,
    responses((status = 201, body = ServiceRecord), (status = "4XX", body = Problem)))]
pub async fn create_service(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiJson(input): ApiJson<ServiceInput>,
) -> Result<Response, ApiError> {
    let app = s.app.clone();
    Ok(created(
        blocking(move || svc::save_service(&app, &p, None, input)).await?,
    ))
}

/// One service.
#[utoipa::path(get, path = "/api/v1/services/{id}", tag = "organisation", params(("id" = i64, Path)),
    responses((status = 200, body = ServiceRecord), (status = 404, body = Problem)))]
pub async fn get_service(
    State(s): State<AppState>,
    Caller(_p): Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = parse_id("service", &id)?;
    let app = s.app.clone();
    Ok(ok(blocking(move || svc::get_service(&app, id)).await?))
}

/// Changes a service (admins).
#[utoipa::path(patch, path = "/api/v1/services/{id}", tag = "organisation", params(("id" = i64, Path)), request_body = ServiceInput,
    responses((status = 200, body = ServiceRecord), (status = "4XX", body = Problem)))]
pub async fn update_service(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<ServiceInput>,
) -> Result<Response, ApiError> {
    let id = parse_id("service", &id)?;
    let app = s.app.clone();
    Ok(ok(blocking(move || {
        svc::save_service(&app, &p, Some(id), input)
    })
    .await?))
}

/// Every category.
#[utoipa::path(get, path = "/api/v1/categories", tag = "organisation", responses((status = 200, body = Vec<CategoryRecord>), (status = 401, body = Problem)))]
pub async fn list_categories(
    State(s): State<AppState>,
    Caller(_p): Caller,
) -> Result<Response, ApiError> {
    let app = s.app.clone();
    Ok(ok(
        serde_json::json!({ "items": blocking(move || svc::list_categories(&app)).await? }),
    ))
}

/// Creates a category (admins).
#[utoipa::path(post, path = "/api/v1/categories", tag = "organisation", request_body = CategoryInput,
    responses((status = 201, body = CategoryRecord), (status = "4XX", body = Problem)))]
pub async fn create_category(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiJson(input): ApiJson<CategoryInput>,
) -> Result<Response, ApiError> {
    let app = s.app.clone();
    Ok(created(
        blocking(move || svc::save_category(&app, &p, None, input)).await?,
    ))
}

/// Changes a category (admins).
#[utoipa::path(patch, path = "/api/v1/categories/{id}", tag = "organisation", params(("id" = i64, Path)), request_body = CategoryInput,
    responses((status = 200, body = CategoryRecord), (status = "4XX", body = Problem)))]
pub async fn update_category(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<CategoryInput>,
) -> Result<Response, ApiError> {
    let id = parse_id("category", &id)?;
    let app = s.app.clone();
    Ok(ok(blocking(move || {
        svc::save_category(&app, &p, Some(id), input)
    })
    .await?))
}
