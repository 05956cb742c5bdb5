//! Monitoring intake: integrations, raw notifications, alert groups and alerts, silences.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::Repo;
use crate::StoreError;
use crate::value::{Row, Value};

/// A monitoring integration (an Alertmanager, a Grafana, a PagerDuty-speaking tool, …).
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct IntegrationRecord {
    /// Id.
    pub id: i64,
    /// Unique name.
    pub name: String,
    /// `alertmanager`, `grafana`, `pagerduty`, `generic` or `heartbeat`.
    pub kind: String,
    /// Team its incidents go to (else routing by service).
    pub team_id: Option<i64>,
    /// Service its incidents are about.
    pub service_id: Option<i64>,
    /// Tier level incidents open at (1 = L1).
    pub tier: i64,
    /// Severity → `[impact, urgency]` overrides, as JSON.
    pub severity_map: serde_json::Value,
    /// `resolve` (a resolved group resolves its incident) or `annotate` (only notes it).
    pub resolve_policy: String,
    /// A group firing again within this many seconds of its incident's resolution reopens it.
    pub reopen_window_secs: i64,
    /// State changes within the flap window that mark a group flapping (0 = never).
    pub flap_changes: i64,
    /// The flap window, seconds.
    pub flap_window_secs: i64,
    /// New groups per minute beyond which further groups join one storm incident (0 = off).
    pub storm_groups_per_minute: i64,
    /// The current storm incident.
    pub storm_ticket_id: Option<i64>,
    /// A firing group not heard of for this many seconds is stale: its incident is resolved
    /// (or annotated) — for senders that never send the resolution (silenced or inhibited
    /// upstream, lost).
    pub stale_after_secs: Option<i64>,
    /// Expected heartbeat interval, seconds.
    pub heartbeat_interval_secs: Option<i64>,
    /// When the next heartbeat is due.
    pub heartbeat_due_at: Option<DateTime<Utc>>,
    /// The open missed-heartbeat incident.
    pub heartbeat_ticket_id: Option<i64>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

const INTEGRATION_COLS: &str = "id, name, kind, team_id, service_id, tier, severity_map, resolve_policy, reopen_window_secs, flap_changes, flap_window_secs, storm_groups_per_minute, storm_ticket_id, heartbeat_interval_secs, heartbeat_due_at, heartbeat_ticket_id, created_at, updated_at, stale_after_secs";

fn integration_from_row(r: &Row) -> Result<IntegrationRecord, StoreError> {
    Ok(IntegrationRecord {
        id: r.i64(0)?,
        name: r.text(1)?,
        kind: r.text(2)?,
        team_id: r.opt_i64(3)?,
        service_id: r.opt_i64(4)?,
        tier: r.i64(5)?,
        severity_map: r.json(6)?,
        resolve_policy: r.text(7)?,
        reopen_window_secs: r.i64(8)?,
        flap_changes: r.i64(9)?,
        flap_window_secs: r.i64(10)?,
        storm_groups_per_minute: r.i64(11)?,
        storm_ticket_id: r.opt_i64(12)?,
        heartbeat_interval_secs: r.opt_i64(13)?,
        heartbeat_due_at: r.opt_time(14)?,
        heartbeat_ticket_id: r.opt_i64(15)?,
        created_at: r.time(16)?,
        updated_at: r.time(17)?,
        stale_after_secs: r.opt_i64(18)?,
    })
}

/// An alert group: every notification of one group key of one integration.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct AlertGroupRecord {
    /// Id.
    pub id: i64,
    /// Integration.
    pub integration_id: i64,
    /// The sender's group key (`groupKey`, `dedup_key`).
    pub group_key: String,
    /// `firing` or `resolved`.
    pub status: String,
    /// The group's current incident.
    pub ticket_id: Option<i64>,
    /// Title.
    pub title: String,
    /// Group labels (JSON object).
    pub labels: serde_json::Value,
    /// Group links (JSON array).
    pub links: serde_json::Value,
    /// Notifications received.
    pub notifications: i64,
    /// Marked flapping.
    pub flapping: bool,
    /// Recent state changes (JSON array of times).
    pub state_changes: serde_json::Value,
    /// Every alert in it silenced when last seen.
    pub silenced: bool,
    /// First seen.
    pub created_at: DateTime<Utc>,
    /// Last seen.
    pub last_seen: DateTime<Utc>,
}

const GROUP_COLS: &str = "id, integration_id, group_key, status, ticket_id, title, labels, links, notifications, flapping, state_changes, silenced, created_at, last_seen";

fn group_from_row(r: &Row) -> Result<AlertGroupRecord, StoreError> {
    Ok(AlertGroupRecord {
        id: r.i64(0)?,
        integration_id: r.i64(1)?,
        group_key: r.text(2)?,
        status: r.text(3)?,
        ticket_id: r.opt_i64(4)?,
        title: r.text(5)?,
        labels: r.json(6)?,
        links: r.json(7)?,
        notifications: r.i64(8)?,
        flapping: r.bool(9)?,
        state_changes: r.json(10)?,
        silenced: r.bool(11)?,
        created_at: r.time(12)?,
        last_seen: r.time(13)?,
    })
}

/// One alert instance.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct AlertRecord {
    /// Id.
    pub id: i64,
    /// Group.
    pub group_id: i64,
    /// Identity within the integration.
    pub fingerprint: String,
    /// `firing` or `resolved`.
    pub status: String,
    /// Severity as sent.
    pub severity: Option<String>,
    /// One line.
    pub summary: String,
    /// Labels (JSON object).
    pub labels: serde_json::Value,
    /// Annotations (JSON object).
    pub annotations: serde_json::Value,
    /// Links (JSON array of `{rel, href, text}`).
    pub links: serde_json::Value,
    /// Started firing.
    pub starts_at: Option<DateTime<Utc>>,
    /// Resolved.
    pub ends_at: Option<DateTime<Utc>>,
    /// Times received.
    pub occurrences: i64,
    /// Matched a silence when last received.
    pub silenced: bool,
    /// First received.
    pub first_seen: DateTime<Utc>,
    /// Last received.
    pub last_seen: DateTime<Utc>,
}

const ALERT_COLS: &str = "id, group_id, fingerprint, status, severity, summary, labels, annotations, links, starts_at, ends_at, occurrences, silenced, first_seen, last_seen";

fn alert_from_row(r: &Row) -> Result<AlertRecord, StoreError> {
    Ok(AlertRecord {
        id: r.i64(0)?,
        group_id: r.i64(1)?,
        fingerprint: r.text(2)?,
        status: r.text(3)?,
        severity: r.opt_text(4)?,
        summary: r.text(5)?,
        labels: r.json(6)?,
        annotations: r.json(7)?,
        links: r.json(8)?,
        starts_at: r.opt_time(9)?,
        ends_at: r.opt_time(10)?,
        occurrences: r.i64(11)?,
        silenced: r.bool(12)?,
        first_seen: r.time(13)?,
        last_seen: r.time(14)?,
    })
}

/// A silence or maintenance window.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct SilenceRecord {
    /// Id.
    pub id: i64,
    /// Matchers (JSON array of `{name, op, value}`).
    pub matchers: serde_json::Value,
    /// From.
    pub starts_at: DateTime<Utc>,
    /// Until.
    pub ends_at: DateTime<Utc>,
    /// Why.
    pub comment: String,
    /// Who.
    pub created_by: Option<i64>,
    /// When.
    pub created_at: DateTime<Utc>,
}

fn silence_from_row(r: &Row) -> Result<SilenceRecord, StoreError> {
    Ok(SilenceRecord {
        id: r.i64(0)?,
        matchers: r.json(1)?,
        starts_at: r.time(2)?,
        ends_at: r.time(3)?,
        comment: r.text(4)?,
        created_by: r.opt_i64(5)?,
        created_at: r.time(6)?,
    })
}

fn json_text(v: &serde_json::Value) -> Value {
    Value::Text(v.to_string())
}

/// An alert as a receiver delivered it, for [`Repo::upsert_alert`].
#[derive(Debug, Clone)]
pub struct AlertUpsert<'a> {
    /// Identity.
    pub fingerprint: &'a str,
    /// `firing` / `resolved`.
    pub status: &'a str,
    /// Severity.
    pub severity: Option<&'a str>,
    /// One line.
    pub summary: &'a str,
    /// Labels.
    pub labels: serde_json::Value,
    /// Annotations.
    pub annotations: serde_json::Value,
    /// Links.
    pub links: serde_json::Value,
    /// Started.
    pub starts_at: Option<DateTime<Utc>>,
    /// Ended.
    pub ends_at: Option<DateTime<Utc>>,
    /// Matched a silence.
    pub silenced: bool,
}

impl Repo<'_> {
    /// Inserts an integration; returns its id.
    pub fn insert_integration(
        &mut self,
        i: &IntegrationRecord,
        key_hash: &str,
    ) -> Result<i64, StoreError> {
        self.insert_id(
            "INSERT INTO integrations (name, kind, key_hash, team_id, service_id, tier, severity_map, resolve_policy, reopen_window_secs, flap_changes, flap_window_secs, storm_groups_per_minute, heartbeat_interval_secs, heartbeat_due_at, created_at, updated_at, stale_after_secs) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $15, $16) RETURNING id",
            &[
                Value::from(&i.name),
                Value::from(&i.kind),
                Value::from(key_hash),
                Value::from(i.team_id),
                Value::from(i.service_id),
                Value::Int(i.tier),
                json_text(&i.severity_map),
                Value::from(&i.resolve_policy),
                Value::Int(i.reopen_window_secs),
                Value::Int(i.flap_changes),
                Value::Int(i.flap_window_secs),
                Value::Int(i.storm_groups_per_minute),
                Value::from(i.heartbeat_interval_secs),
                i.heartbeat_due_at.map_or(Value::Null, Value::Time),
                Value::Time(i.created_at),
                Value::from(i.stale_after_secs),
            ],
        )
    }

    /// Saves an integration's settings (not its key).
    pub fn update_integration(&mut self, i: &IntegrationRecord) -> Result<(), StoreError> {
        self.exec(
            "UPDATE integrations SET name = $2, team_id = $3, service_id = $4, tier = $5, severity_map = $6, resolve_policy = $7, \
             reopen_window_secs = $8, flap_changes = $9, flap_window_secs = $10, storm_groups_per_minute = $11, storm_ticket_id = $12, \
             heartbeat_interval_secs = $13, heartbeat_due_at = $14, heartbeat_ticket_id = $15, updated_at = $16, stale_after_secs = $17 WHERE id = $1",
            &[
                Value::Int(i.id),
                Value::from(&i.name),
                Value::from(i.team_id),
                Value::from(i.service_id),
                Value::Int(i.tier),
                json_text(&i.severity_map),
                Value::from(&i.resolve_policy),
                Value::Int(i.reopen_window_secs),
                Value::Int(i.flap_changes),
                Value::Int(i.flap_window_secs),
                Value::Int(i.storm_groups_per_minute),
                Value::from(i.storm_ticket_id),
                Value::from(i.heartbeat_interval_secs),
                i.heartbeat_due_at.map_or(Value::Null, Value::Time),
                Value::from(i.heartbeat_ticket_id),
                Value::Time(i.updated_at),
                Value::from(i.stale_after_secs),
            ],
        )?;
        Ok(())
    }

    /// Replaces an integration's key.
    pub fn set_integration_key(&mut self, id: i64, key_hash: &str) -> Result<(), StoreError> {
        self.exec(
            "UPDATE integrations SET key_hash = $2 WHERE id = $1",
            &[Value::Int(id), Value::from(key_hash)],
        )?;
        Ok(())
    }

    /// The integration whose key hashes to `key_hash`.
    pub fn integration_by_key_hash(
        &mut self,
        key_hash: &str,
    ) -> Result<Option<IntegrationRecord>, StoreError> {
        let sql = format!("SELECT {INTEGRATION_COLS} FROM integrations WHERE key_hash = $1");
        self.one(&sql, &[Value::from(key_hash)])?
            .map(|r| integration_from_row(&r))
            .transpose()
    }

    /// An integration by id, locked on PostgreSQL for the rest of the transaction.
    pub fn integration_for_update(
        &mut self,
        id: i64,
    ) -> Result<Option<IntegrationRecord>, StoreError> {
        let sql = format!(
            "SELECT {INTEGRATION_COLS} FROM integrations WHERE id = $1{}",
            self.for_update()
        );
        self.one(&sql, &[Value::Int(id)])?
            .map(|r| integration_from_row(&r))
            .transpose()
    }

    /// An integration by name.
    pub fn integration_by_name(
        &mut self,
        name: &str,
    ) -> Result<Option<IntegrationRecord>, StoreError> {
        let sql = format!("SELECT {INTEGRATION_COLS} FROM integrations WHERE name = $1");
        self.one(&sql, &[Value::from(name)])?
            .map(|r| integration_from_row(&r))
            .transpose()
    }

    /// Every integration.
    pub fn list_integrations(&mut self) -> Result<Vec<IntegrationRecord>, StoreError> {
        let sql = format!("SELECT {INTEGRATION_COLS} FROM integrations ORDER BY id");
        self.rows(&sql, &[])?
            .iter()
            .map(integration_from_row)
            .collect()
    }

    /// Integrations whose heartbeat was due by `now` and that have no open missed-heartbeat
    /// incident.
    pub fn overdue_heartbeats(
        &mut self,
        now: DateTime<Utc>,
    ) -> Result<Vec<IntegrationRecord>, StoreError> {
        let sql = format!(
            "SELECT {INTEGRATION_COLS} FROM integrations WHERE heartbeat_due_at IS NOT NULL AND heartbeat_due_at <= $1 AND heartbeat_ticket_id IS NULL ORDER BY heartbeat_due_at"
        );
        self.rows(&sql, &[Value::Time(now)])?
            .iter()
            .map(integration_from_row)
            .collect()
    }

    /// The earliest pending heartbeat deadline.
    pub fn next_heartbeat_due(&mut self) -> Result<Option<DateTime<Utc>>, StoreError> {
        self.one(
            "SELECT MIN(heartbeat_due_at) FROM integrations WHERE heartbeat_ticket_id IS NULL",
            &[],
        )?
        .map_or(Ok(None), |r| r.opt_time(0))
    }

    /// Keeps a raw notification. `false` when the same body already arrived in this minute
    /// or the one before (a redelivery by an HA peer): nothing is stored.
    #[allow(clippy::too_many_arguments)]
    pub fn record_intake(
        &mut self,
        integration_id: i64,
        now: DateTime<Utc>,
        body_hash: &str,
        body: &str,
        alerts: i64,
        outcome: &str,
    ) -> Result<bool, StoreError> {
        let bucket = now.timestamp().div_euclid(60);
        let seen = self
            .one(
                "SELECT 1 FROM intake_events WHERE integration_id = $1 AND body_hash = $2 AND bucket IN ($3, $4)",
                &[
                    Value::Int(integration_id),
                    Value::from(body_hash),
                    Value::Int(bucket),
                    Value::Int(bucket - 1),
                ],
            )?
            .is_some();
        if seen {
            return Ok(false);
        }
        let n = self.exec(
            "INSERT INTO intake_events (integration_id, received_at, body_hash, bucket, body, alerts, outcome) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
            &[
                Value::Int(integration_id),
                Value::Time(now),
                Value::from(body_hash),
                Value::Int(bucket),
                Value::from(body),
                Value::Int(alerts),
                Value::from(outcome),
            ],
        )?;
        Ok(n == 1)
    }

    /// Counts raw notifications of an integration.
    pub fn count_intake_events(&mut self, integration_id: i64) -> Result<i64, StoreError> {
        self.one(
            "SELECT COUNT(*) FROM intake_events WHERE integration_id = $1",
            &[Value::Int(integration_id)],
        )?
        .map_or(Ok(0), |r| r.i64(0))
    }

    /// The group row for `group_key`, created when new (`true` with it), locked on PostgreSQL.
    pub fn alert_group_for_update(
        &mut self,
        integration_id: i64,
        group_key: &str,
        title: &str,
        now: DateTime<Utc>,
    ) -> Result<(AlertGroupRecord, bool), StoreError> {
        let created = self.exec(
            "INSERT INTO alert_groups (integration_id, group_key, status, title, created_at, last_seen) \
             VALUES ($1, $2, 'firing', $3, $4, $4) ON CONFLICT (integration_id, group_key) DO NOTHING",
            &[
                Value::Int(integration_id),
                Value::from(group_key),
                Value::from(title),
                Value::Time(now),
            ],
        )? == 1;
        let sql = format!(
            "SELECT {GROUP_COLS} FROM alert_groups WHERE integration_id = $1 AND group_key = $2{}",
            self.for_update()
        );
        let g = self
            .one(&sql, &[Value::Int(integration_id), Value::from(group_key)])?
            .ok_or_else(|| StoreError::Other(format!("alert group {group_key} vanished")))?;
        Ok((group_from_row(&g)?, created))
    }

    /// Saves a group.
    pub fn update_alert_group(&mut self, g: &AlertGroupRecord) -> Result<(), StoreError> {
        self.exec(
            "UPDATE alert_groups SET status = $2, ticket_id = $3, title = $4, labels = $5, links = $6, notifications = $7, \
             flapping = $8, state_changes = $9, silenced = $10, last_seen = $11 WHERE id = $1",
            &[
                Value::Int(g.id),
                Value::from(&g.status),
                Value::from(g.ticket_id),
                Value::from(&g.title),
                json_text(&g.labels),
                json_text(&g.links),
                Value::Int(g.notifications),
                Value::Bool(g.flapping),
                json_text(&g.state_changes),
                Value::Bool(g.silenced),
                Value::Time(g.last_seen),
            ],
        )?;
        Ok(())
    }

    /// Groups of an integration first seen after `since`.
    pub fn count_new_groups(
        &mut self,
        integration_id: i64,
        since: DateTime<Utc>,
    ) -> Result<i64, StoreError> {
        self.one(
            "SELECT COUNT(*) FROM alert_groups WHERE integration_id = $1 AND created_at > $2",
            &[Value::Int(integration_id), Value::Time(since)],
        )?
        .map_or(Ok(0), |r| r.i64(0))
    }

    /// Firing groups of an integration last heard of before `cutoff`.
    pub fn stale_groups(
        &mut self,
        integration_id: i64,
        cutoff: DateTime<Utc>,
    ) -> Result<Vec<AlertGroupRecord>, StoreError> {
        let sql = format!(
            "SELECT {GROUP_COLS} FROM alert_groups WHERE integration_id = $1 AND status = 'firing' AND last_seen < $2 ORDER BY id"
        );
        self.rows(&sql, &[Value::Int(integration_id), Value::Time(cutoff)])?
            .iter()
            .map(group_from_row)
            .collect()
    }

    /// Marks every firing alert of a group resolved at `now`.
    pub fn resolve_group_alerts(
        &mut self,
        group_id: i64,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.exec(
            "UPDATE alerts SET status = 'resolved', ends_at = $2 WHERE group_id = $1 AND status = 'firing'",
            &[Value::Int(group_id), Value::Time(now)],
        )?;
        Ok(())
    }

    /// Inserts or updates an alert of a group; returns its status before (none when new). An
    /// update without text, labels or links (a PagerDuty resolve) keeps the stored ones.
    pub fn upsert_alert(
        &mut self,
        group_id: i64,
        a: &AlertUpsert<'_>,
        now: DateTime<Utc>,
    ) -> Result<Option<String>, StoreError> {
        let before = self
            .one(
                "SELECT status FROM alerts WHERE group_id = $1 AND fingerprint = $2",
                &[Value::Int(group_id), Value::from(a.fingerprint)],
            )?
            .map(|r| r.text(0))
            .transpose()?;
        let params = [
            Value::Int(group_id),
            Value::from(a.fingerprint),
            Value::from(a.status),
            Value::from(a.severity),
            Value::from(a.summary),
            json_text(&a.labels),
            json_text(&a.annotations),
            json_text(&a.links),
            a.starts_at.map_or(Value::Null, Value::Time),
            a.ends_at.map_or(Value::Null, Value::Time),
            Value::Bool(a.silenced),
            Value::Time(now),
        ];
        if before.is_none() {
            self.exec(
                "INSERT INTO alerts (group_id, fingerprint, status, severity, summary, labels, annotations, links, starts_at, ends_at, silenced, first_seen, last_seen) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12)",
                &params,
            )?;
        } else {
            self.exec(
                "UPDATE alerts SET status = $3, severity = COALESCE($4, severity), \
                 summary = CASE WHEN $5 = '' THEN summary ELSE $5 END, \
                 labels = CASE WHEN $6 = '{}' THEN labels ELSE $6 END, \
                 annotations = CASE WHEN $7 = '{}' THEN annotations ELSE $7 END, \
                 links = CASE WHEN $8 = '[]' THEN links ELSE $8 END, \
                 starts_at = COALESCE($9, starts_at), ends_at = $10, silenced = $11, last_seen = $12, occurrences = occurrences + 1 \
                 WHERE group_id = $1 AND fingerprint = $2",
                &params,
            )?;
        }
        Ok(before)
    }

    /// The alerts of a group, firing first.
    pub fn alerts_of_group(&mut self, group_id: i64) -> Result<Vec<AlertRecord>, StoreError> {
        let sql =
            format!("SELECT {ALERT_COLS} FROM alerts WHERE group_id = $1 ORDER BY status, id");
        self.rows(&sql, &[Value::Int(group_id)])?
            .iter()
            .map(alert_from_row)
            .collect()
    }

    /// Whether a group still has firing alerts.
    pub fn group_has_firing(&mut self, group_id: i64) -> Result<bool, StoreError> {
        Ok(self
            .one(
                "SELECT 1 FROM alerts WHERE group_id = $1 AND status = 'firing' LIMIT 1",
                &[Value::Int(group_id)],
            )?
            .is_some())
    }

    /// The groups attached to a ticket.
    pub fn alert_groups_of_ticket(
        &mut self,
        ticket_id: i64,
    ) -> Result<Vec<AlertGroupRecord>, StoreError> {
        let sql = format!("SELECT {GROUP_COLS} FROM alert_groups WHERE ticket_id = $1 ORDER BY id");
        self.rows(&sql, &[Value::Int(ticket_id)])?
            .iter()
            .map(group_from_row)
            .collect()
    }

    /// The groups of an integration.
    pub fn alert_groups_of_integration(
        &mut self,
        integration_id: i64,
    ) -> Result<Vec<AlertGroupRecord>, StoreError> {
        let sql =
            format!("SELECT {GROUP_COLS} FROM alert_groups WHERE integration_id = $1 ORDER BY id");
        self.rows(&sql, &[Value::Int(integration_id)])?
            .iter()
            .map(group_from_row)
            .collect()
    }

    /// Sum of alert occurrences and number of alerts over an integration's groups.
    pub fn alert_totals(&mut self, integration_id: i64) -> Result<(i64, i64), StoreError> {
        let r = self.one(
            "SELECT CAST(COALESCE(SUM(a.occurrences), 0) AS BIGINT), COUNT(*) FROM alerts a JOIN alert_groups g ON g.id = a.group_id WHERE g.integration_id = $1",
            &[Value::Int(integration_id)],
        )?;
        match r {
            Some(r) => Ok((r.i64(0)?, r.i64(1)?)),
            None => Ok((0, 0)),
        }
    }

    /// Inserts a silence.
    pub fn insert_silence(&mut self, s: &SilenceRecord) -> Result<i64, StoreError> {
        self.insert_id(
            "INSERT INTO silences (matchers, starts_at, ends_at, comment, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
            &[
                json_text(&s.matchers),
                Value::Time(s.starts_at),
                Value::Time(s.ends_at),
                Value::from(&s.comment),
                Value::from(s.created_by),
                Value::Time(s.created_at),
            ],
        )
    }

    /// Silences not yet ended at `now` (active and pending), or all of them.
    pub fn list_silences(
        &mut self,
        now: Option<DateTime<Utc>>,
    ) -> Result<Vec<SilenceRecord>, StoreError> {
        let cols = "id, matchers, starts_at, ends_at, comment, created_by, created_at";
        match now {
            Some(t) => self.rows(
                &format!("SELECT {cols} FROM silences WHERE ends_at > $1 ORDER BY id"),
                &[Value::Time(t)],
            )?,
            None => self.rows(&format!("SELECT {cols} FROM silences ORDER BY id"), &[])?,
        }
        .iter()
        .map(silence_from_row)
        .collect()
    }

    /// Ends a silence at `now`; false when there is none.
    pub fn expire_silence(&mut self, id: i64, now: DateTime<Utc>) -> Result<bool, StoreError> {
        Ok(self.exec(
            "UPDATE silences SET ends_at = $2 WHERE id = $1 AND ends_at > $2",
            &[Value::Int(id), Value::Time(now)],
        )? == 1)
    }

    /// Links a ticket to the alert group it was opened for.
    pub fn set_ticket_alert_group(
        &mut self,
        ticket_id: i64,
        group_id: i64,
    ) -> Result<(), StoreError> {
        self.exec(
            "UPDATE tickets SET alert_group_id = $2 WHERE id = $1",
            &[Value::Int(ticket_id), Value::Int(group_id)],
        )?;
        Ok(())
    }
}
