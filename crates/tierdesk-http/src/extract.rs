//! Extractors: the authenticated caller, JSON bodies that name the bad field, `If-Match`,
//! `Idempotency-Key`, and running blocking service calls.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use serde::de::DeserializeOwned;
use tierdesk_app::{AppError, Principal, auth};

use crate::AppState;
use crate::problem::ApiError;

/// The authenticated caller, from `Authorization: Bearer <token>`.
pub struct Caller(pub Principal);

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let header = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| AppError::Unauthorized("send Authorization: Bearer <token>".into()))?;
        let token = header
            .strip_prefix("Bearer ")
            .or_else(|| header.strip_prefix("bearer "))
            .ok_or_else(|| AppError::Unauthorized("send Authorization: Bearer <token>".into()))?
            .trim()
            .to_owned();
        let app = state.app.clone();
        let p = blocking(move || auth::authenticate(&app, &token)).await?;
        Ok(Caller(p))
    }
}

/// Runs a blocking service call off the async workers.
pub async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, AppError> + Send + 'static,
) -> Result<T, ApiError> {
    match tokio::task::spawn_blocking(f).await {
        Ok(r) => r.map_err(ApiError::from),
        Err(_) => Err(ApiError::App(AppError::Store(
            tierdesk_app::StoreError::Other("worker failed".into()),
        ))),
    }
}

/// A JSON body whose errors name the field: malformed JSON is 400, a wrong field type or an
/// unknown field 422, a body over the limit 413, another media type 415.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|ct| {
                let ct = ct
                    .split(';')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_ascii_lowercase();
                ct == "application/json" || ct.ends_with("+json")
            });
        if json == Some(false) {
            return Err(ApiError::Body {
                status: StatusCode::UNSUPPORTED_MEDIA_TYPE,
                detail: "send Content-Type: application/json".into(),
            });
        }
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|e: BytesRejection| {
                let status = e.status();
                if status == StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::Body {
                        status,
                        detail: format!("the body is larger than {} bytes", crate::MAX_BODY_BYTES),
                    }
                } else {
                    ApiError::Body {
                        status: StatusCode::BAD_REQUEST,
                        detail: format!("could not read the body: {e}"),
                    }
                }
            })?;
        let mut de = serde_json::Deserializer::from_slice(&bytes);
        let value = serde_path_to_error::deserialize::<_, T>(&mut de);
        if value.is_ok()
            && let Err(e) = de.end()
        {
            return Err(ApiError::Body {
                status: StatusCode::BAD_REQUEST,
                detail: format!("malformed JSON: {e}"),
            });
        }
        match value {
            Ok(v) => Ok(ApiJson(v)),
            Err(err) => {
                let path = err.path().to_string();
                let inner = err.into_inner();
                if inner.is_syntax() || inner.is_eof() {
                    return Err(ApiError::Body {
                        status: StatusCode::BAD_REQUEST,
                        detail: format!("malformed JSON: {inner}"),
                    });
                }
                let message = inner.to_string();
                let field = if path == "." || path.is_empty() {
                    unknown_field(&message).unwrap_or_else(|| "body".into())
                } else {
                    path
                };
                Err(ApiError::App(AppError::invalid(field, message)))
            }
        }
    }
}

/// The field named by serde's "unknown field `x`" / "missing field `x`" messages.
fn unknown_field(message: &str) -> Option<String> {
    let start = message.find('`')? + 1;
    let end = start + message[start..].find('`')?;
    Some(message[start..end].to_owned())
}

/// The version from `If-Match: "v3"`, when sent.
pub struct IfMatch(pub Option<i64>);

impl<S: Send + Sync> FromRequestParts<S> for IfMatch {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let Some(v) = parts.headers.get(header::IF_MATCH) else {
            return Ok(IfMatch(None));
        };
        let text = v.to_str().unwrap_or("").trim();
        let version = text
            .trim_start_matches("W/")
            .trim_matches('"')
            .trim_start_matches('v')
            .parse::<i64>()
            .map_err(|_| ApiError::Param {
                field: "If-Match".into(),
                message: "send the ETag of the ticket, e.g. \"v3\"".into(),
            })?;
        Ok(IfMatch(Some(version)))
    }
}

/// The `Idempotency-Key` header, when sent.
pub struct IdempotencyKey(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for IdempotencyKey {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        match parts.headers.get("idempotency-key") {
            None => Ok(IdempotencyKey(None)),
            Some(v) => {
                let key = v.to_str().map_err(|_| ApiError::Param {
                    field: "Idempotency-Key".into(),
                    message: "must be visible ASCII".into(),
                })?;
                Ok(IdempotencyKey(Some(key.trim().to_owned())))
            }
        }
    }
}

/// The ETag of a ticket version.
pub fn etag(version: i64) -> String {
    format!("\"v{version}\"")
}
