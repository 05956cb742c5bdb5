//! SLA engine storage: policies, calendars and escalation rules as ordered named JSON lists;
//! exactly-once firings; the timer's due-ticket queries.

use chrono::{DateTime, Utc};

use super::Repo;
use crate::StoreError;
use crate::value::Value;

/// The ordered, named JSON lists the SLA engine is configured with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigList {
    /// `sla_policies`: first match wins.
    Policies,
    /// `escalation_rules`: all matching rules act, in order.
    EscalationRules,
}

impl ConfigList {
    fn table(self) -> &'static str {
        match self {
            ConfigList::Policies => "sla_policies",
            ConfigList::EscalationRules => "escalation_rules",
        }
    }
}

impl Repo<'_> {
    /// The configuration generation (see `config_generation` in the migrations).
    pub fn config_generation(&mut self) -> Result<i64, StoreError> {
        self.one("SELECT n FROM config_generation WHERE id = 1", &[])?
            .map_or(Ok(0), |r| r.i64(0))
    }

    /// Marks cached configuration stale in every process.
    pub fn bump_config_generation(&mut self) -> Result<(), StoreError> {
        self.exec("UPDATE config_generation SET n = n + 1 WHERE id = 1", &[])?;
        Ok(())
    }

    /// The items of a list, in order.
    pub fn config_list(&mut self, list: ConfigList) -> Result<Vec<serde_json::Value>, StoreError> {
        let sql = format!("SELECT body FROM {} ORDER BY position", list.table());
        self.rows(&sql, &[])?.iter().map(|r| r.json(0)).collect()
    }

    /// Replaces a list with `items` (name, body) in order.
    pub fn replace_config_list(
        &mut self,
        list: ConfigList,
        items: &[(String, serde_json::Value)],
    ) -> Result<(), StoreError> {
        self.exec(&format!("DELETE FROM {}", list.table()), &[])?;
        let sql = format!(
            "INSERT INTO {} (position, name, body) VALUES ($1, $2, $3)",
            list.table()
        );
        for (i, (name, body)) in items.iter().enumerate() {
            self.exec(
                &sql,
                &[
                    Value::Int(i as i64),
                    Value::from(name),
                    Value::Json(body.clone()),
                ],
            )?;
        }
        self.bump_config_generation()
    }

    /// Every calendar's JSON, by name.
    pub fn calendars(&mut self) -> Result<Vec<serde_json::Value>, StoreError> {
        self.rows("SELECT body FROM calendars ORDER BY name", &[])?
            .iter()
            .map(|r| r.json(0))
            .collect()
    }

    /// Creates or replaces a calendar.
    pub fn put_calendar(&mut self, name: &str, body: &serde_json::Value) -> Result<(), StoreError> {
        self.exec(
            "INSERT INTO calendars (name, body) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET body = excluded.body",
            &[Value::from(name), Value::Json(body.clone())],
        )?;
        self.bump_config_generation()
    }

    /// Deletes a calendar; returns whether it existed.
    pub fn delete_calendar(&mut self, name: &str) -> Result<bool, StoreError> {
        let gone = self.exec(
            "DELETE FROM calendars WHERE name = $1",
            &[Value::from(name)],
        )? == 1;
        self.bump_config_generation()?;
        Ok(gone)
    }

    /// Records that a clock fired. `false` when that firing was already recorded — by this
    /// process before a restart, or by another node: the unique key decides, not a read.
    pub fn record_firing(
        &mut self,
        ticket_id: i64,
        clock_key: &str,
        firing: &str,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let n = self.exec(
            "INSERT INTO sla_firings (ticket_id, clock_key, firing, fired_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (ticket_id, clock_key, firing) DO NOTHING",
            &[Value::Int(ticket_id), Value::from(clock_key), Value::from(firing), Value::Time(at)],
        )?;
        Ok(n == 1)
    }

    /// Ids of tickets whose next SLA firing is due at `now`, earliest first.
    pub fn sla_due_tickets(
        &mut self,
        now: DateTime<Utc>,
        limit: i64,
    ) -> Result<Vec<i64>, StoreError> {
        self.rows(
            "SELECT id FROM tickets WHERE sla_next_at <= $1 ORDER BY sla_next_at LIMIT $2",
            &[Value::Time(now), Value::Int(limit)],
        )?
        .iter()
        .map(|r| r.i64(0))
        .collect()
    }

    /// The earliest next SLA firing over all tickets (one index probe).
    pub fn sla_next_due(&mut self) -> Result<Option<DateTime<Utc>>, StoreError> {
        let row = self.one("SELECT MIN(sla_next_at) FROM tickets", &[])?;
        let next = row.map(|r| r.opt_time(0)).transpose()?.flatten();
        Ok(next.filter(|t| *t < super::tickets::far_future()))
    }

    /// Ticket ids after `after_id` (updated at or after `since`), for `sla repair`.
    pub fn ticket_ids_since(
        &mut self,
        since: Option<DateTime<Utc>>,
        after_id: i64,
        limit: i64,
    ) -> Result<Vec<i64>, StoreError> {
        let since = since.unwrap_or(DateTime::<Utc>::UNIX_EPOCH);
        self.rows(
            "SELECT id FROM tickets WHERE id > $1 AND updated_at >= $2 ORDER BY id LIMIT $3",
            &[Value::Int(after_id), Value::Time(since), Value::Int(limit)],
        )?
        .iter()
        .map(|r| r.i64(0))
        .collect()
    }
}
