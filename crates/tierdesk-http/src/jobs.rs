//! Background jobs of a server process: the SLA timer and the webhook deliverer, driven by due
//! times stored in the database, so they survive restarts, and several processes on one
//! PostgreSQL can run them at once (firings are unique; deliveries are leased); and the search
//! indexer, which keeps this node's index in step with article changes made by any process.

use std::time::Duration;

use tierdesk_app::{App, AppError, search, sla, webhooks};
use tokio::sync::watch;

/// Longest sleep between looks at the database: bounds how late a firing can be when another
/// process (or a direct write) made something due earlier than this process knew.
const MAX_SLEEP: Duration = Duration::from_millis(250);

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, AppError> + Send + 'static,
) -> Result<T, AppError> {
    tokio::task::spawn_blocking(f).await.unwrap_or_else(|_| {
        Err(AppError::Store(tierdesk_app::StoreError::Other(
            "job panicked".into(),
        )))
    })
}

fn until(app: &App, next: Option<chrono::DateTime<chrono::Utc>>) -> Duration {
    match next {
        Some(t) => (t - app.now())
            .to_std()
            .unwrap_or(Duration::ZERO)
            .min(MAX_SLEEP),
        None => MAX_SLEEP,
    }
}

/// Fires SLA warnings and breaches as they fall due.
pub async fn sla_timer(app: App, mut stop: watch::Receiver<bool>) {
    loop {
        let a = app.clone();
        let next = blocking(move || {
            let now = a.now();
            let fired = sla::fire_due(&a, now)?;
            if fired > 0 {
                tracing::info!(fired, "SLA firings");
            }
            sla::next_due(&a)
        })
        .await;
        let wait = match next {
            Ok(n) => until(&app, n),
            Err(e) => {
                tracing::warn!(error = %e, "SLA timer");
                MAX_SLEEP
            }
        };
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = stop.changed() => return,
        }
    }
}

/// How often the indexer looks for article changes made by other processes (well inside the
/// 2 s within which another node's edit must be searchable here).
pub const KB_POLL: Duration = Duration::from_millis(500);

/// Applies article changes from any process to this node's search index.
pub async fn kb_indexer(app: App, mut stop: watch::Receiver<bool>) {
    loop {
        let a = app.clone();
        match blocking(move || search::catch_up(&a)).await {
            Ok(0) => {}
            Ok(n) => tracing::debug!(articles = n, "search index caught up"),
            Err(e) => tracing::warn!(error = %e, "search indexer"),
        }
        tokio::select! {
            _ = tokio::time::sleep(KB_POLL) => {}
            _ = stop.changed() => return,
        }
    }
}

/// Opens an incident for every integration whose heartbeat is overdue, and resolves the
/// incidents of alert groups gone stale.
pub async fn heartbeat_watch(app: App, mut stop: watch::Receiver<bool>) {
    loop {
        let a = app.clone();
        let next = blocking(move || {
            let opened = tierdesk_app::intake::heartbeat::check_overdue(&a, a.now())?;
            if opened > 0 {
                tracing::warn!(opened, "heartbeats missed");
            }
            let stale = tierdesk_app::intake::process::sweep_stale(&a, a.now())?;
            if stale > 0 {
                tracing::info!(stale, "stale alert groups resolved");
            }
            tierdesk_app::intake::heartbeat::next_due(&a)
        })
        .await;
        let wait = match next {
            Ok(n) => until(&app, n).max(Duration::from_millis(100)),
            Err(e) => {
                tracing::warn!(error = %e, "heartbeat watch");
                MAX_SLEEP
            }
        };
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = stop.changed() => return,
        }
    }
}

/// Delivers queued webhooks with HMAC signatures, retrying with backoff.
pub async fn webhook_deliverer(app: App, mut stop: watch::Receiver<bool>) {
    let client = match reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
    {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "webhook client");
            return;
        }
    };
    loop {
        if deliver_due(&app, &client).await > 0 {
            continue;
        }
        let a = app.clone();
        let next = blocking(move || Ok(a.store.read(|r| r.webhook_next_due())?))
            .await
            .unwrap_or(None);
        tokio::select! {
            _ = tokio::time::sleep(until(&app, next)) => {}
            _ = stop.changed() => return,
        }
    }
}

/// Delivers every webhook due now, once each; returns how many were attempted.
pub async fn deliver_due(app: &App, client: &reqwest::Client) -> usize {
    let a = app.clone();
    let items = blocking(move || webhooks::claim(&a, a.now()))
        .await
        .unwrap_or_default();
    for item in &items {
        let ts = app.now().timestamp();
        let sent = client
            .post(&item.url)
            .header("content-type", "application/json")
            .header(webhooks::TIMESTAMP_HEADER, ts.to_string())
            .header(
                webhooks::SIGNATURE_HEADER,
                webhooks::sign(&item.secret, ts, &item.payload),
            )
            .header("X-Tierdesk-Event", &item.event)
            .header("X-Tierdesk-Delivery", item.id.to_string())
            .body(item.payload.clone())
            .send()
            .await;
        let (status, error) = match sent {
            Ok(r) if r.status().is_success() => (Some(i64::from(r.status().as_u16())), None),
            Ok(r) => (
                Some(i64::from(r.status().as_u16())),
                Some(format!("HTTP {}", r.status())),
            ),
            Err(e) => (None, Some(e.to_string())),
        };
        let (a, it) = (app.clone(), item.clone());
        if let Err(e) = blocking(move || webhooks::finish(&a, &it, a.now(), status, error)).await {
            tracing::warn!(error = %e, "webhook bookkeeping");
        }
    }
    items.len()
}
