//! Report aggregates (SPEC §10), computed in the database over a time window.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::Repo;
use crate::StoreError;
use crate::value::{Dialect, Value};

/// What a report groups by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupBy {
    /// Current tier level.
    Tier,
    /// Current team id.
    Team,
    /// Priority.
    Priority,
    /// Service id.
    Service,
}

/// One group's figures (ids still raw; the application layer names them).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ReportRow {
    /// Group value (tier level, team id, priority or service id; empty for none).
    pub group: String,
    /// Tickets created in the window.
    pub created: i64,
    /// Of those, resolved.
    pub resolved: i64,
    /// Mean seconds to first response.
    pub mtta_secs: Option<f64>,
    /// Mean seconds to resolution.
    pub mttr_secs: Option<f64>,
    /// Resolved tickets without any breached clock.
    pub resolved_within_sla: i64,
    /// Resolved without ever leaving the first tier.
    pub first_contact_resolved: i64,
    /// Tickets that reached tier 2.
    pub reached_l2: i64,
    /// Tickets that reached tier 3.
    pub reached_l3: i64,
}

/// Open tickets by age.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct BacklogRow {
    /// Group value.
    pub group: String,
    /// Open for under a day.
    pub under_1d: i64,
    /// One to three days.
    pub d1_to_3: i64,
    /// Three to seven days.
    pub d3_to_7: i64,
    /// Over a week.
    pub over_7d: i64,
}

fn group_expr(g: GroupBy) -> &'static str {
    match g {
        GroupBy::Tier => "CAST(tier AS TEXT)",
        GroupBy::Team => "COALESCE(CAST(team_id AS TEXT), '')",
        GroupBy::Priority => "priority",
        GroupBy::Service => "COALESCE(CAST(service_id AS TEXT), '')",
    }
}

impl Repo<'_> {
    fn secs(&self, later: &str, earlier: &str) -> String {
        match self.dialect() {
            Dialect::Sqlite => format!("(({later}) - ({earlier})) / 1000000.0"),
            Dialect::Postgres => format!("EXTRACT(EPOCH FROM (({later}) - ({earlier})))::float8"),
        }
    }

    /// The summary report of tickets created in `[from, to)`.
    pub fn report_summary(
        &mut self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        g: GroupBy,
    ) -> Result<Vec<ReportRow>, StoreError> {
        let group = group_expr(g);
        let tta = self.secs("first_response_at", "created_at");
        let ttr = self.secs("resolved_at", "created_at");
        let sql = format!(
            "SELECT {group} AS g, COUNT(*), \
             SUM(CASE WHEN resolved_at IS NOT NULL THEN 1 ELSE 0 END), \
             AVG(CASE WHEN first_response_at IS NOT NULL THEN {tta} END), \
             AVG(CASE WHEN resolved_at IS NOT NULL THEN {ttr} END), \
             SUM(CASE WHEN resolved_at IS NOT NULL AND sla_breaches = 0 THEN 1 ELSE 0 END), \
             SUM(CASE WHEN resolved_at IS NOT NULL AND max_tier = 1 THEN 1 ELSE 0 END), \
             SUM(CASE WHEN max_tier >= 2 THEN 1 ELSE 0 END), \
             SUM(CASE WHEN max_tier >= 3 THEN 1 ELSE 0 END) \
             FROM tickets WHERE created_at >= $1 AND created_at < $2 GROUP BY {group} ORDER BY 1"
        );
        let float = |v: &crate::Value| match v {
            Value::Float(f) => Some(*f),
            Value::Int(i) => Some(*i as f64),
            _ => None,
        };
        self.rows(&sql, &[Value::Time(from), Value::Time(to)])?
            .iter()
            .map(|r| {
                Ok(ReportRow {
                    group: r.opt_text(0)?.unwrap_or_default(),
                    created: r.i64(1)?,
                    resolved: r.opt_i64(2)?.unwrap_or(0),
                    mtta_secs: float(&r.0[3]),
                    mttr_secs: float(&r.0[4]),
                    resolved_within_sla: r.opt_i64(5)?.unwrap_or(0),
                    first_contact_resolved: r.opt_i64(6)?.unwrap_or(0),
                    reached_l2: r.opt_i64(7)?.unwrap_or(0),
                    reached_l3: r.opt_i64(8)?.unwrap_or(0),
                })
            })
            .collect()
    }

    /// Open tickets by age at `at`.
    pub fn report_backlog(
        &mut self,
        at: DateTime<Utc>,
        g: GroupBy,
    ) -> Result<Vec<BacklogRow>, StoreError> {
        let group = group_expr(g);
        let age = self.secs("$1", "created_at");
        let sql = format!(
            "SELECT {group}, \
             SUM(CASE WHEN {age} < 86400 THEN 1 ELSE 0 END), \
             SUM(CASE WHEN {age} >= 86400 AND {age} < 259200 THEN 1 ELSE 0 END), \
             SUM(CASE WHEN {age} >= 259200 AND {age} < 604800 THEN 1 ELSE 0 END), \
             SUM(CASE WHEN {age} >= 604800 THEN 1 ELSE 0 END) \
             FROM tickets WHERE is_open = TRUE GROUP BY {group} ORDER BY 1"
        );
        self.rows(&sql, &[Value::Time(at)])?
            .iter()
            .map(|r| {
                Ok(BacklogRow {
                    group: r.opt_text(0)?.unwrap_or_default(),
                    under_1d: r.opt_i64(1)?.unwrap_or(0),
                    d1_to_3: r.opt_i64(2)?.unwrap_or(0),
                    d3_to_7: r.opt_i64(3)?.unwrap_or(0),
                    over_7d: r.opt_i64(4)?.unwrap_or(0),
                })
            })
            .collect()
    }

    /// Open tickets by (tier level, priority), for `/metrics`.
    pub fn open_ticket_counts(&mut self) -> Result<Vec<(i64, String, i64)>, StoreError> {
        self.rows(
            "SELECT tier, priority, COUNT(*) FROM tickets WHERE is_open = TRUE GROUP BY tier, priority ORDER BY 1, 2",
            &[],
        )?
        .iter()
        .map(|r| Ok((r.i64(0)?, r.text(1)?, r.i64(2)?)))
        .collect()
    }

    /// SLA firings recorded, by kind (`warning`, `breach`), for `/metrics`.
    pub fn firing_counts(&mut self) -> Result<Vec<(String, i64)>, StoreError> {
        self.rows(
            "SELECT firing, COUNT(*) FROM sla_firings GROUP BY firing ORDER BY 1",
            &[],
        )?
        .iter()
        .map(|r| Ok((r.text(0)?, r.i64(1)?)))
        .collect()
    }
}
