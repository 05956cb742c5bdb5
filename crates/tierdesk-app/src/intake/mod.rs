//! Monitoring alert intake (SPEC §6): integrations, the receivers' formats, applying a
//! notification to alert groups and incidents, silences and heartbeats.

pub mod formats;
pub mod heartbeat;
pub mod integrations;
pub mod process;
pub mod silences;

use sha2::{Digest, Sha256};
use tierdesk_domain::alert::Notification;
use tierdesk_store::{AlertGroupRecord, AlertRecord, IntegrationRecord};

pub use process::{MONITORING_USER, Receipt};

use crate::{App, AppError, Principal};

/// Makes sure the user alert-born incidents are filed by exists (a requester without password
/// or token: nobody can sign in as it).
pub fn ensure_monitoring_user(app: &App) -> Result<(), AppError> {
    let now = app.now();
    let made = app.store.write(move |r| {
        if r.user_by_name(MONITORING_USER)?.is_some() {
            return Ok(());
        }
        r.insert_user(
            &tierdesk_store::NewUser {
                name: MONITORING_USER.into(),
                display_name: "Monitoring".into(),
                email: None,
                roles: tierdesk_domain::Roles::parse("roles", "requester")?,
                password_hash: None,
            },
            now,
        )?;
        Ok::<(), AppError>(())
    });
    match made {
        // Another process created it at the same moment.
        Err(AppError::Store(tierdesk_store::StoreError::Unique(_))) => Ok(()),
        other => other,
    }
}

fn body_hash(raw: &[u8]) -> String {
    Sha256::digest(raw)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Keeps the raw body and applies `n` in one transaction; a redelivery of the same body (an
/// Alertmanager HA peer) changes nothing. The answer is sent after the commit.
pub fn receive(
    app: &App,
    integration: &IntegrationRecord,
    n: Notification,
    raw: &[u8],
) -> Result<Receipt, AppError> {
    let now = app.now();
    let hash = body_hash(raw);
    let body = String::from_utf8_lossy(raw).into_owned();
    let silences = silences::active(app, now)?;
    let cache = app.config.clone();
    let i = integration.clone();
    let alerts = i64::try_from(n.alerts.len()).unwrap_or(i64::MAX);
    let receipt = app.store.write(move |repo| {
        if !repo.record_intake(i.id, now, &hash, &body, alerts, "accepted")? {
            return Ok(Receipt {
                outcome: "duplicate".into(),
                group_key: n.group_key.clone(),
                ticket: None,
                action: None,
            });
        }
        let cfg = cache.get(repo)?;
        if i.heartbeat_interval_secs.is_some() && heartbeat::is_watchdog(&n) {
            heartbeat::beat_in(repo, &cfg, &i, now)?;
            return Ok(Receipt {
                outcome: "heartbeat".into(),
                group_key: n.group_key.clone(),
                ticket: None,
                action: None,
            });
        }
        let monitoring = repo
            .user_by_name(MONITORING_USER)?
            .ok_or_else(|| AppError::Conflict("the monitoring user is missing".into()))?
            .id;
        process::apply(repo, &cfg, &i, monitoring, &n, &silences, now)
    })?;
    app.metrics.intake(
        &integration.kind,
        &receipt.outcome,
        u64::try_from(alerts).unwrap_or(0),
    );
    Ok(receipt)
}

/// An alert group with its alerts, as shown on its incident.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct GroupView {
    /// The group.
    #[serde(flatten)]
    pub group: AlertGroupRecord,
    /// Its alerts.
    pub alerts: Vec<AlertRecord>,
}

/// The alert groups behind a ticket (agents): labels, annotations, links, counts.
pub fn of_ticket(app: &App, p: &Principal, key: &str) -> Result<Vec<GroupView>, AppError> {
    p.require_agent()?;
    let (principal, key) = (p.clone(), key.to_owned());
    app.store.read(move |r| {
        let t = crate::tickets::load_visible(r, &principal, &key, false)?;
        let mut out = Vec::new();
        for g in r.alert_groups_of_ticket(t.id)? {
            let alerts = r.alerts_of_group(g.id)?;
            out.push(GroupView { group: g, alerts });
        }
        Ok(out)
    })
}

/// The most recent alert groups of an integration with their alerts (agents), silenced ones
/// included: what arrived, whether it opened an incident, and why not.
pub fn of_integration(
    app: &App,
    p: &Principal,
    name: &str,
    limit: usize,
) -> Result<Vec<GroupView>, AppError> {
    p.require_agent()?;
    let name = name.to_owned();
    app.store.read(move |r| {
        let i = r
            .integration_by_name(&name)?
            .ok_or_else(|| AppError::NotFound(format!("integration '{name}'")))?;
        let mut groups = r.alert_groups_of_integration(i.id)?;
        groups.sort_by(|a, b| b.last_seen.cmp(&a.last_seen).then(b.id.cmp(&a.id)));
        groups.truncate(limit);
        let mut out = Vec::new();
        for g in groups {
            let alerts = r.alerts_of_group(g.id)?;
            out.push(GroupView { group: g, alerts });
        }
        Ok(out)
    })
}
