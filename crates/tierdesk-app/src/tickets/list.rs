//! Listing and counting tickets, with keyset cursors.

use base64::Engine;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tierdesk_domain::Channel;
use tierdesk_domain::{Priority, Status, Ticket};
use tierdesk_store::{TicketFilter, TicketSort};

use crate::view::{Names, TicketView};
use crate::{App, AppError, Principal};

use super::{Ref, resolve_team, resolve_user, tier_by_short};

/// Query of `GET /tickets`.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// A status, or `open` for every unresolved status.
    pub status: Option<String>,
    /// Tier short name.
    pub tier: Option<String>,
    /// Team name or id.
    pub team: Option<String>,
    /// Assignee login name, or `me`.
    pub assignee: Option<String>,
    /// `P1`..`P4`.
    pub priority: Option<String>,
    /// Intake channel: `portal`, `api`, `email`, `chat` or `alert`.
    pub channel: Option<String>,
    /// Substring of the title or key.
    pub q: Option<String>,
    /// `created` (newest first, default) or `sla_due` (open tickets, earliest due first).
    pub sort: Option<String>,
    /// Page size, 1–200 (default 50).
    pub limit: Option<i64>,
    /// Cursor from the previous page's `next_cursor`.
    pub cursor: Option<String>,
}

/// One page of tickets.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TicketPage {
    /// Tickets.
    pub items: Vec<TicketView>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

fn encode_cursor(sort: TicketSort, t: &Ticket) -> String {
    let raw = match sort {
        TicketSort::Newest => format!("n:{}", t.id),
        TicketSort::SlaDue => format!(
            "d:{}:{}",
            t.sla_due().map_or(-1, |d| d.timestamp_micros()),
            t.id
        ),
    };
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
}

fn decode_cursor(sort: TicketSort, text: &str) -> Result<(Option<DateTime<Utc>>, i64), AppError> {
    let bad = || {
        AppError::invalid(
            "cursor",
            "not a cursor from this list; start again without it",
        )
    };
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text)
        .map_err(|_| bad())?;
    let raw = String::from_utf8(raw).map_err(|_| bad())?;
    let parts: Vec<&str> = raw.split(':').collect();
    match (sort, parts.as_slice()) {
        (TicketSort::Newest, ["n", id]) => Ok((None, id.parse().map_err(|_| bad())?)),
        (TicketSort::SlaDue, ["d", due, id]) => {
            let due: i64 = due.parse().map_err(|_| bad())?;
            let due = if due < 0 {
                None
            } else {
                Some(DateTime::from_timestamp_micros(due).ok_or_else(bad)?)
            };
            Ok((due, id.parse().map_err(|_| bad())?))
        }
        _ => Err(bad()),
    }
}

/// Lists tickets; requesters only ever see their own.
pub fn list(app: &App, p: &Principal, q: &ListQuery) -> Result<TicketPage, AppError> {
    let limit = q.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(AppError::invalid("limit", "must be between 1 and 200"));
    }
    let sort = match q.sort.as_deref() {
        None | Some("created") => TicketSort::Newest,
        Some("sla_due") => TicketSort::SlaDue,
        Some(other) => {
            return Err(AppError::invalid(
                "sort",
                format!("unknown sort '{other}'; one of: created, sla_due"),
            ));
        }
    };
    let mut f = TicketFilter {
        limit,
        sort,
        ..TicketFilter::default()
    };
    match q.status.as_deref() {
        None => {}
        Some("open") => f.open_only = true,
        Some(s) => f.status = Some(Status::parse("status", s)?),
    }
    f.priority = q
        .priority
        .as_deref()
        .map(|s| Priority::parse("priority", s))
        .transpose()?;
    f.channel = q
        .channel
        .as_deref()
        .map(|s| Channel::parse("channel", s))
        .transpose()?;
    if let Some(qs) = &q.q {
        if qs.chars().count() > 200 {
            return Err(AppError::invalid("q", "must be at most 200 characters"));
        }
        f.q = Some(qs.clone());
    }
    f.after = q
        .cursor
        .as_deref()
        .map(|c| decode_cursor(sort, c))
        .transpose()?;
    if !p.is_agent() {
        f.requester_id = Some(p.id);
    }
    app.store.read(|repo| {
        if let Some(tier) = &q.tier {
            let tiers = repo.list_tiers()?;
            f.tier = Some(tier_by_short(&tiers, "tier", tier)?.level);
        }
        if let Some(team) = &q.team {
            let r = team
                .parse::<i64>()
                .map(Ref::Id)
                .unwrap_or_else(|_| Ref::Name(team.clone()));
            f.team_id = Some(resolve_team(repo, "team", &r)?.id);
        }
        if let Some(a) = &q.assignee {
            f.assignee_id = Some(if a == "me" {
                p.id
            } else {
                resolve_user(repo, "assignee", &Ref::Name(a.clone()))?.id
            });
        }
        let (tickets, more) = repo.list_tickets(&f)?;
        let mut names = Names::new(repo)?;
        let items = tickets
            .iter()
            .map(|t| names.view(repo, t))
            .collect::<Result<Vec<_>, _>>()?;
        let next_cursor = if more {
            tickets.last().map(|t| encode_cursor(sort, t))
        } else {
            None
        };
        Ok(TicketPage { items, next_cursor })
    })
}

/// Ticket counts by status among the tickets the caller may see.
pub fn counts(app: &App, p: &Principal) -> Result<Vec<(String, i64)>, AppError> {
    let scope = if p.is_agent() { None } else { Some(p.id) };
    Ok(app.store.read(|r| r.count_tickets_by_status(scope))?)
}
