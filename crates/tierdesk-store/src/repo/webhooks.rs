//! Webhook subscriptions and the durable outbox.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::Repo;
use crate::StoreError;
use crate::value::{Row, Value};

/// A subscription (the secret is never serialised).
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct WebhookRecord {
    /// Id.
    pub id: i64,
    /// Unique name, referenced by escalation rules.
    pub name: String,
    /// Target URL.
    pub url: String,
    /// Event kinds delivered (`*` for all).
    pub events: Vec<String>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// HMAC key.
    #[serde(skip)]
    pub secret: String,
}

/// A claimed outbox item.
#[derive(Debug, Clone)]
pub struct OutboxItem {
    /// Id.
    pub id: i64,
    /// Event kind.
    pub event: String,
    /// JSON body.
    pub payload: String,
    /// Attempts before this one.
    pub attempts: i64,
    /// Target URL.
    pub url: String,
    /// HMAC key.
    pub secret: String,
}

/// One delivery attempt.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AttemptRecord {
    /// Outbox item.
    pub outbox_id: i64,
    /// Event kind.
    pub event: String,
    /// When.
    pub at: DateTime<Utc>,
    /// HTTP status, if any answer came.
    pub status: Option<i64>,
    /// Error text.
    pub error: Option<String>,
}

fn sub_from_row(r: &Row) -> Result<WebhookRecord, StoreError> {
    Ok(WebhookRecord {
        id: r.i64(0)?,
        name: r.text(1)?,
        url: r.text(2)?,
        secret: r.text(3)?,
        events: r.json_as(4)?,
        created_at: r.time(5)?,
    })
}

impl Repo<'_> {
    /// Creates or replaces a subscription by name.
    pub fn put_webhook(
        &mut self,
        name: &str,
        url: &str,
        secret: &str,
        events: &[String],
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let events = serde_json::to_value(events).map_err(|e| StoreError::Decode(e.to_string()))?;
        self.exec(
            "INSERT INTO webhook_subscriptions (name, url, secret, events, created_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (name) DO UPDATE SET url = excluded.url, secret = excluded.secret, events = excluded.events",
            &[Value::from(name), Value::from(url), Value::from(secret), Value::Json(events), Value::Time(now)],
        )?;
        self.bump_config_generation()
    }

    /// Every subscription.
    pub fn webhooks(&mut self) -> Result<Vec<WebhookRecord>, StoreError> {
        self.rows("SELECT id, name, url, secret, events, created_at FROM webhook_subscriptions ORDER BY name", &[])?
            .iter()
            .map(sub_from_row)
            .collect()
    }

    /// Queues a payload for a subscription.
    pub fn enqueue_webhook(
        &mut self,
        subscription_id: i64,
        event: &str,
        payload: &str,
        now: DateTime<Utc>,
    ) -> Result<i64, StoreError> {
        self.insert_id(
            "INSERT INTO webhook_outbox (subscription_id, event, payload, attempts, next_attempt_at, created_at) \
             VALUES ($1, $2, $3, 0, $4, $4) RETURNING id",
            &[Value::Int(subscription_id), Value::from(event), Value::from(payload), Value::Time(now)],
        )
    }

    /// Claims up to `limit` due items for `lease` (another node cannot claim them meanwhile; an
    /// item whose deliverer died is claimed again once the lease ends).
    pub fn claim_webhooks(
        &mut self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: i64,
    ) -> Result<Vec<OutboxItem>, StoreError> {
        let lock = if self.dialect() == crate::Dialect::Postgres {
            " FOR UPDATE SKIP LOCKED"
        } else {
            ""
        };
        let ids: Vec<i64> = self
            .rows(
                &format!(
                    "SELECT id FROM webhook_outbox WHERE delivered_at IS NULL AND next_attempt_at <= $1 ORDER BY next_attempt_at LIMIT $2{lock}"
                ),
                &[Value::Time(now), Value::Int(limit)],
            )?
            .iter()
            .map(|r| r.i64(0))
            .collect::<Result<_, _>>()?;
        let mut out = Vec::new();
        for id in ids {
            self.exec(
                "UPDATE webhook_outbox SET next_attempt_at = $2 WHERE id = $1",
                &[Value::Int(id), Value::Time(lease_until)],
            )?;
            if let Some(r) = self.one(
                "SELECT o.id, o.event, o.payload, o.attempts, s.url, s.secret FROM webhook_outbox o \
                 JOIN webhook_subscriptions s ON s.id = o.subscription_id WHERE o.id = $1",
                &[Value::Int(id)],
            )? {
                out.push(OutboxItem {
                    id: r.i64(0)?,
                    event: r.text(1)?,
                    payload: r.text(2)?,
                    attempts: r.i64(3)?,
                    url: r.text(4)?,
                    secret: r.text(5)?,
                });
            }
        }
        Ok(out)
    }

    /// Records an attempt: delivered, or retry at `retry_at`.
    pub fn finish_webhook_attempt(
        &mut self,
        id: i64,
        now: DateTime<Utc>,
        status: Option<i64>,
        error: Option<&str>,
        retry_at: Option<DateTime<Utc>>,
    ) -> Result<(), StoreError> {
        self.exec(
            "INSERT INTO webhook_attempts (outbox_id, at, status, error) VALUES ($1, $2, $3, $4)",
            &[
                Value::Int(id),
                Value::Time(now),
                Value::from(status),
                Value::from(error),
            ],
        )?;
        match retry_at {
            None => self.exec(
                "UPDATE webhook_outbox SET attempts = attempts + 1, delivered_at = $2, last_error = NULL WHERE id = $1",
                &[Value::Int(id), Value::Time(now)],
            )?,
            Some(at) => self.exec(
                "UPDATE webhook_outbox SET attempts = attempts + 1, next_attempt_at = $2, last_error = $3 WHERE id = $1",
                &[Value::Int(id), Value::Time(at), Value::from(error)],
            )?,
        };
        Ok(())
    }

    /// Attempts for a subscription, newest first.
    pub fn webhook_attempts(
        &mut self,
        subscription_id: i64,
        limit: i64,
    ) -> Result<Vec<AttemptRecord>, StoreError> {
        self.rows(
            "SELECT a.outbox_id, o.event, a.at, a.status, a.error FROM webhook_attempts a \
             JOIN webhook_outbox o ON o.id = a.outbox_id WHERE o.subscription_id = $1 ORDER BY a.id DESC LIMIT $2",
            &[Value::Int(subscription_id), Value::Int(limit)],
        )?
        .iter()
        .map(|r| {
            Ok(AttemptRecord {
                outbox_id: r.i64(0)?,
                event: r.text(1)?,
                at: r.time(2)?,
                status: r.opt_i64(3)?,
                error: r.opt_text(4)?,
            })
        })
        .collect()
    }

    /// The earliest pending delivery time.
    pub fn webhook_next_due(&mut self) -> Result<Option<DateTime<Utc>>, StoreError> {
        Ok(self
            .one(
                "SELECT MIN(next_attempt_at) FROM webhook_outbox WHERE delivered_at IS NULL",
                &[],
            )?
            .map(|r| r.opt_time(0))
            .transpose()?
            .flatten())
    }
}
