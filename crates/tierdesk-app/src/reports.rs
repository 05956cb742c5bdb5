//! Reports (SPEC §10): MTTA, MTTR, SLA compliance, first-contact resolution, escalation rates
//! and backlog by age, grouped by tier, team, priority or service over a time window.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use tierdesk_store::GroupBy;

use crate::{App, AppError, Principal};

/// Query of `GET /reports/summary`.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReportQuery {
    /// Window start, RFC 3339 (default: 30 days before `to`).
    pub from: Option<String>,
    /// Window end, RFC 3339 (default: now).
    pub to: Option<String>,
    /// `tier` (default), `team`, `priority` or `service`.
    pub group_by: Option<String>,
}

/// Open tickets by age.
#[derive(Debug, Clone, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Backlog {
    /// Under a day.
    pub under_1d: i64,
    /// One to three days.
    pub d1_to_3: i64,
    /// Three to seven days.
    pub d3_to_7: i64,
    /// Over a week.
    pub over_7d: i64,
}

/// One group of the summary.
#[derive(Debug, Clone, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct SummaryRow {
    /// Tier short name, team name, priority or service name (`none` when unset).
    pub group: String,
    /// Tickets created in the window.
    pub created: i64,
    /// Of those, resolved.
    pub resolved: i64,
    /// Mean time to acknowledge (first agent response), seconds.
    pub mtta_seconds: Option<f64>,
    /// Mean time to resolve, seconds.
    pub mttr_seconds: Option<f64>,
    /// Resolved tickets with no breached clock ÷ resolved tickets.
    pub sla_compliance: Option<f64>,
    /// Resolved at the first tier, never escalated ÷ resolved tickets.
    pub first_contact_resolution: Option<f64>,
    /// Tickets that reached L2 ÷ tickets created.
    pub escalation_rate_l1_l2: Option<f64>,
    /// Tickets that reached L3 ÷ tickets that reached L2.
    pub escalation_rate_l2_l3: Option<f64>,
    /// Open tickets now, by age.
    pub backlog: Backlog,
}

/// The summary report.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Summary {
    /// Window start.
    pub from: DateTime<Utc>,
    /// Window end.
    pub to: DateTime<Utc>,
    /// Grouping.
    pub group_by: String,
    /// One row per group.
    pub items: Vec<SummaryRow>,
}

fn ratio(a: i64, b: i64) -> Option<f64> {
    (b > 0).then(|| (a as f64 / b as f64 * 10_000.0).round() / 10_000.0)
}

fn time(field: &'static str, v: &Option<String>) -> Result<Option<DateTime<Utc>>, AppError> {
    v.as_deref()
        .map(|s| {
            DateTime::parse_from_rfc3339(s)
                .map(|t| t.with_timezone(&Utc))
                .map_err(|_| AppError::invalid(field, format!("'{s}' is not an RFC 3339 time")))
        })
        .transpose()
}

/// Builds the summary (agents).
pub fn summary(app: &App, p: &Principal, q: &ReportQuery) -> Result<Summary, AppError> {
    p.require_agent()?;
    let to = time("to", &q.to)?.unwrap_or_else(|| app.now());
    let from = time("from", &q.from)?.unwrap_or(to - Duration::days(30));
    if from >= to {
        return Err(AppError::invalid("from", "must be before `to`"));
    }
    let (g, name) = match q.group_by.as_deref().unwrap_or("tier") {
        "tier" => (GroupBy::Tier, "tier"),
        "team" => (GroupBy::Team, "team"),
        "priority" => (GroupBy::Priority, "priority"),
        "service" => (GroupBy::Service, "service"),
        other => {
            return Err(AppError::invalid(
                "group_by",
                format!("unknown '{other}'; one of: tier, team, priority, service"),
            ));
        }
    };
    let now = app.now();
    app.store.read(|r| {
        let rows = r.report_summary(from, to, g)?;
        let backlog = r.report_backlog(now, g)?;
        let tiers: BTreeMap<String, String> = r
            .list_tiers()?
            .into_iter()
            .map(|t| (t.level.to_string(), t.short))
            .collect();
        let mut label = |raw: &str| -> Result<String, AppError> {
            if raw.is_empty() {
                return Ok("none".into());
            }
            Ok(match g {
                GroupBy::Tier => tiers.get(raw).cloned().unwrap_or_else(|| format!("L{raw}")),
                GroupBy::Priority => raw.to_owned(),
                GroupBy::Team => raw
                    .parse()
                    .ok()
                    .and_then(|id| r.team_by_id(id).ok().flatten())
                    .map_or(raw.to_owned(), |t| t.name),
                GroupBy::Service => raw
                    .parse()
                    .ok()
                    .and_then(|id| r.service_by_id(id).ok().flatten())
                    .map_or(raw.to_owned(), |s| s.name),
            })
        };
        let mut out: BTreeMap<String, SummaryRow> = BTreeMap::new();
        for row in rows {
            let key = label(&row.group)?;
            out.insert(
                key.clone(),
                SummaryRow {
                    group: key,
                    created: row.created,
                    resolved: row.resolved,
                    mtta_seconds: row.mtta_secs.map(|s| (s * 1000.0).round() / 1000.0),
                    mttr_seconds: row.mttr_secs.map(|s| (s * 1000.0).round() / 1000.0),
                    sla_compliance: ratio(row.resolved_within_sla, row.resolved),
                    first_contact_resolution: ratio(row.first_contact_resolved, row.resolved),
                    escalation_rate_l1_l2: ratio(row.reached_l2, row.created),
                    escalation_rate_l2_l3: ratio(row.reached_l3, row.reached_l2),
                    backlog: Backlog::default(),
                },
            );
        }
        for b in backlog {
            let key = label(&b.group)?;
            let entry = out.entry(key.clone()).or_insert_with(|| SummaryRow {
                group: key,
                ..SummaryRow::default()
            });
            entry.backlog = Backlog {
                under_1d: b.under_1d,
                d1_to_3: b.d1_to_3,
                d3_to_7: b.d3_to_7,
                over_7d: b.over_7d,
            };
        }
        Ok(Summary {
            from,
            to,
            group_by: name.to_owned(),
            items: out.into_values().collect(),
        })
    })
}

/// The summary as CSV (RFC 4180; group names quoted).
pub fn to_csv(s: &Summary) -> String {
    let mut out = String::from(
        "group,created,resolved,mtta_seconds,mttr_seconds,sla_compliance,first_contact_resolution,escalation_rate_l1_l2,escalation_rate_l2_l3,backlog_under_1d,backlog_1d_to_3d,backlog_3d_to_7d,backlog_over_7d\n",
    );
    let opt = |v: Option<f64>| v.map(|x| x.to_string()).unwrap_or_default();
    for r in &s.items {
        out.push_str(&format!(
            "\"{}\",{},{},{},{},{},{},{},{},{},{},{},{}\n",
            r.group.replace('"', "\"\""),
            r.created,
            r.resolved,
            opt(r.mtta_seconds),
            opt(r.mttr_seconds),
            opt(r.sla_compliance),
            opt(r.first_contact_resolution),
            opt(r.escalation_rate_l1_l2),
            opt(r.escalation_rate_l2_l3),
            r.backlog.under_1d,
            r.backlog.d1_to_3,
            r.backlog.d3_to_7,
            r.backlog.over_7d
        ));
    }
    out
}
