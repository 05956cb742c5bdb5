//! Health, readiness, login and the caller's own record.

use axum::extract::State;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use tierdesk_app::{AppError, auth};
use tierdesk_store::UserRecord;

use super::ok;
use crate::AppState;
use crate::extract::{ApiJson, Caller, blocking};
use crate::problem::{ApiError, Problem};

/// Liveness.
#[utoipa::path(get, path = "/healthz", tag = "operations", security(()), responses((status = 200, description = "alive")))]
pub async fn healthz() -> &'static str {
    "ok"
}

/// Readiness: the database answers.
#[utoipa::path(get, path = "/readyz", tag = "operations", security(()),
    responses((status = 200, description = "ready"), (status = 503, body = Problem)))]
pub async fn readyz(State(s): State<AppState>) -> Result<&'static str, ApiError> {
    let app = s.app.clone();
    blocking(move || Ok(app.store.read(|r| r.list_tiers())?)).await?;
    Ok("ready")
}

/// Login body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginInput {
    /// Login name.
    pub name: Option<String>,
    /// Password.
    pub password: Option<String>,
}

/// A new API token.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TokenOut {
    /// Bearer token; shown once.
    pub token: String,
}

/// Exchanges a name and password for an API token.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", security(()), request_body = LoginInput,
    responses((status = 200, body = TokenOut), (status = 401, body = Problem)))]
pub async fn login(
    State(s): State<AppState>,
    ApiJson(input): ApiJson<LoginInput>,
) -> Result<Response, ApiError> {
    let name = input
        .name
        .ok_or_else(|| AppError::invalid("name", "is required"))?;
    let password = input
        .password
        .ok_or_else(|| AppError::invalid("password", "is required"))?;
    let app = s.app.clone();
    let token = blocking(move || auth::login(&app, &name, &password)).await?;
    Ok(ok(TokenOut { token }))
}

/// The caller's own user record.
#[utoipa::path(get, path = "/api/v1/me", tag = "auth", responses((status = 200, body = UserRecord), (status = 401, body = Problem)))]
pub async fn me(State(s): State<AppState>, Caller(p): Caller) -> Result<Response, ApiError> {
    let app = s.app.clone();
    let u = blocking(move || tierdesk_app::org::get_user(&app, &p, p.id)).await?;
    Ok(ok(u))
}
