//! Tickets, their timeline events and idempotency records.

use chrono::{DateTime, Utc};
use serde::Serialize;
use tierdesk_domain::ticket::Level;
use tierdesk_domain::{Channel, Kind, NewEvent, PendingReason, Priority, Status, Ticket};

use super::{Repo, parse_enum};
use crate::StoreError;
use crate::value::{Dialect, Row, Value};

const TICKET_COLS: &str = "id, key, kind, title, description, requester_id, channel, category_id, service_id, \
    impact, urgency, priority, priority_reason, status, pending_reason, tier, team_id, assignee_id, major, tags, \
    created_at, updated_at, first_response_at, resolved_at, closed_at, resolution_code, resolution_note, \
    article_id, clocks, sla_policy, sla_policy_reason, version";

/// Queue order for tickets without a running clock: after every real due time.
pub fn far_future() -> DateTime<Utc> {
    DateTime::from_timestamp(253_402_300_799, 0).unwrap_or(DateTime::<Utc>::MAX_UTC)
}

fn ticket_from_row(r: &Row) -> Result<Ticket, StoreError> {
    let level = |i: usize| -> Result<Level, StoreError> {
        Level::new("level", r.i64(i)?).map_err(|e| StoreError::Decode(e.to_string()))
    };
    Ok(Ticket {
        id: r.i64(0)?,
        key: r.text(1)?,
        kind: parse_enum(&r.text(2)?, Kind::parse)?,
        title: r.text(3)?,
        description: r.text(4)?,
        requester_id: r.i64(5)?,
        channel: parse_enum(&r.text(6)?, Channel::parse)?,
        category_id: r.opt_i64(7)?,
        service_id: r.opt_i64(8)?,
        impact: level(9)?,
        urgency: level(10)?,
        priority: parse_enum(&r.text(11)?, Priority::parse)?,
        priority_reason: r.opt_text(12)?,
        status: parse_enum(&r.text(13)?, Status::parse)?,
        pending_reason: r
            .opt_text(14)?
            .map(|t| parse_enum(&t, PendingReason::parse))
            .transpose()?,
        tier: i32::try_from(r.i64(15)?).map_err(|e| StoreError::Decode(e.to_string()))?,
        team_id: r.opt_i64(16)?,
        assignee_id: r.opt_i64(17)?,
        major: r.bool(18)?,
        tags: r.json_as(19)?,
        created_at: r.time(20)?,
        updated_at: r.time(21)?,
        first_response_at: r.opt_time(22)?,
        resolved_at: r.opt_time(23)?,
        closed_at: r.opt_time(24)?,
        resolution_code: r.opt_text(25)?,
        resolution_note: r.opt_text(26)?,
        article_id: r.opt_i64(27)?,
        clocks: r.json_as(28)?,
        sla_policy: r.opt_text(29)?,
        sla_policy_reason: r.opt_text(30)?,
        version: r.i64(31)?,
    })
}

fn pending_str(p: PendingReason) -> &'static str {
    match p {
        PendingReason::Requester => "requester",
        PendingReason::Vendor => "vendor",
        PendingReason::Change => "change",
    }
}

/// Columns 2.. of a ticket row plus the derived `is_open`, `sla_due` and `sla_next_at`, in
/// `TICKET_COLS` order.
fn ticket_params(t: &Ticket) -> Result<Vec<Value>, StoreError> {
    let json = |v: serde_json::Result<serde_json::Value>| {
        v.map(Value::Json)
            .map_err(|e| StoreError::Decode(e.to_string()))
    };
    Ok(vec![
        Value::from(&t.key),
        Value::from(t.kind.as_str()),
        Value::from(&t.title),
        Value::from(&t.description),
        Value::Int(t.requester_id),
        Value::from(t.channel.as_str()),
        Value::from(t.category_id),
        Value::from(t.service_id),
        Value::Int(i64::from(t.impact)),
        Value::Int(i64::from(t.urgency)),
        Value::from(t.priority.as_str()),
        Value::from(t.priority_reason.clone()),
        Value::from(t.status.as_str()),
        Value::from(t.pending_reason.map(pending_str)),
        Value::from(t.tier),
        Value::from(t.team_id),
        Value::from(t.assignee_id),
        Value::Bool(t.major),
        json(serde_json::to_value(&t.tags))?,
        Value::Time(t.created_at),
        Value::Time(t.updated_at),
        Value::from(t.first_response_at),
        Value::from(t.resolved_at),
        Value::from(t.closed_at),
        Value::from(t.resolution_code.clone()),
        Value::from(t.resolution_note.clone()),
        Value::from(t.article_id),
        json(serde_json::to_value(&t.clocks))?,
        Value::from(t.sla_policy.clone()),
        Value::from(t.sla_policy_reason.clone()),
        Value::Int(t.version),
        Value::Bool(t.status.is_open()),
        Value::Time(t.sla_due().unwrap_or_else(far_future)),
        Value::Time(tierdesk_domain::sla::next_firing(&t.clocks).unwrap_or_else(far_future)),
        Value::from(
            t.clocks
                .iter()
                .filter_map(|c| c.tier)
                .chain([t.tier])
                .max()
                .unwrap_or(t.tier),
        ),
        Value::Int(
            t.clocks
                .iter()
                .filter(|c| {
                    c.breached_at.is_some() || c.state == tierdesk_domain::ClockState::Breached
                })
                .count() as i64,
        ),
    ])
}

/// WHERE clauses and their parameters, numbered as they are added.
#[derive(Default)]
struct Where {
    clauses: Vec<String>,
    params: Vec<Value>,
}

impl Where {
    /// Adds a clause whose single `?` becomes the next `$n`.
    fn add(&mut self, clause: &str, v: Value) {
        self.params.push(v);
        self.clauses
            .push(clause.replace('?', &format!("${}", self.params.len())));
    }
}

/// Sort order of a ticket list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TicketSort {
    /// Newest first (by id, descending).
    #[default]
    Newest,
    /// Open tickets by earliest SLA due time: a team's work queue.
    SlaDue,
}

/// Filters of `GET /tickets`; `None` means "any".
#[derive(Debug, Clone, Default)]
pub struct TicketFilter {
    /// Only this requester's tickets (always set for requesters).
    pub requester_id: Option<i64>,
    /// Exact status.
    pub status: Option<Status>,
    /// Only open (not resolved, closed or cancelled) tickets.
    pub open_only: bool,
    /// Tier level.
    pub tier: Option<i32>,
    /// Team id.
    pub team_id: Option<i64>,
    /// Assignee id.
    pub assignee_id: Option<i64>,
    /// Priority.
    pub priority: Option<Priority>,
    /// Intake channel.
    pub channel: Option<Channel>,
    /// Substring of title or key.
    pub q: Option<String>,
    /// Order.
    pub sort: TicketSort,
    /// Keyset cursor: (sla_due, id) or (_, id) of the last item of the previous page.
    pub after: Option<(Option<DateTime<Utc>>, i64)>,
    /// Page size.
    pub limit: i64,
}

/// A timeline event as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EventRecord {
    /// Id, increasing in commit order per ticket.
    pub id: i64,
    /// Ticket id.
    pub ticket_id: i64,
    /// When.
    pub at: DateTime<Utc>,
    /// Acting user id; `None` for the system.
    pub actor_id: Option<i64>,
    /// Acting user's name.
    pub actor: Option<String>,
    /// Event kind name.
    pub kind: String,
    /// Whether requesters see it.
    pub public: bool,
    /// Kind-specific data.
    pub data: serde_json::Value,
}

/// A stored answer to an `Idempotency-Key` request.
#[derive(Debug, Clone, PartialEq)]
pub struct IdempotencyRecord {
    /// Hash of the request body the key was first used with.
    pub request_hash: String,
    /// HTTP status of the first answer.
    pub status: i64,
    /// Body of the first answer.
    pub body: String,
}

impl Repo<'_> {
    /// Takes the next number for a ticket kind (`INC-n`, `REQ-n`).
    pub fn next_ticket_number(&mut self, kind: Kind) -> Result<i64, StoreError> {
        let row = match self.dialect() {
            Dialect::Sqlite => self.one(
                "UPDATE ticket_counters SET value = value + 1 WHERE kind = $1 RETURNING value",
                &[Value::from(kind.as_str())],
            )?,
            Dialect::Postgres => {
                let seq = match kind {
                    Kind::Incident => "SELECT nextval('ticket_number_incident')",
                    Kind::Request => "SELECT nextval('ticket_number_request')",
                };
                self.one(seq, &[])?
            }
        };
        row.ok_or_else(|| StoreError::Other("no ticket counter".into()))?
            .i64(0)
    }

    /// Inserts a new ticket; returns its id.
    pub fn insert_ticket(&mut self, t: &Ticket) -> Result<i64, StoreError> {
        let params = ticket_params(t)?;
        let cols = TICKET_COLS.trim_start_matches("id, ");
        let holders: Vec<String> = (1..=params.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "INSERT INTO tickets ({cols}, is_open, sla_due, sla_next_at, max_tier, sla_breaches) VALUES ({}) RETURNING id",
            holders.join(", ")
        );
        self.insert_id(&sql, &params)
    }

    /// Writes a changed ticket. Fails with [`StoreError::Constraint`] if someone else changed
    /// it since `previous_version` was read.
    pub fn update_ticket(&mut self, t: &Ticket, previous_version: i64) -> Result<(), StoreError> {
        let mut params = ticket_params(t)?;
        let cols: Vec<&str> = TICKET_COLS
            .trim_start_matches("id, ")
            .split(',')
            .map(str::trim)
            .chain([
                "is_open",
                "sla_due",
                "sla_next_at",
                "max_tier",
                "sla_breaches",
            ])
            .collect();
        let sets: Vec<String> = cols
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{c} = ${}", i + 1))
            .collect();
        let n = params.len();
        let sql = format!(
            "UPDATE tickets SET {} WHERE id = ${} AND version = ${}",
            sets.join(", "),
            n + 1,
            n + 2
        );
        params.push(Value::Int(t.id));
        params.push(Value::Int(previous_version));
        match self.exec(&sql, &params)? {
            1 => Ok(()),
            _ => Err(StoreError::Constraint(format!(
                "ticket {} changed concurrently",
                t.key
            ))),
        }
    }

    /// A ticket by key; locks the row on PostgreSQL when `for_update`.
    pub fn ticket_by_key(
        &mut self,
        key: &str,
        for_update: bool,
    ) -> Result<Option<Ticket>, StoreError> {
        let lock = if for_update { self.for_update() } else { "" };
        let sql = format!("SELECT {TICKET_COLS} FROM tickets WHERE key = $1{lock}");
        self.one(&sql, &[Value::from(key)])?
            .map(|r| ticket_from_row(&r))
            .transpose()
    }

    /// A ticket by id; locks the row on PostgreSQL when `for_update`.
    pub fn ticket_by_id(
        &mut self,
        id: i64,
        for_update: bool,
    ) -> Result<Option<Ticket>, StoreError> {
        let lock = if for_update { self.for_update() } else { "" };
        let sql = format!("SELECT {TICKET_COLS} FROM tickets WHERE id = $1{lock}");
        self.one(&sql, &[Value::Int(id)])?
            .map(|r| ticket_from_row(&r))
            .transpose()
    }

    /// One page of tickets matching `f`, plus whether more follow.
    pub fn list_tickets(&mut self, f: &TicketFilter) -> Result<(Vec<Ticket>, bool), StoreError> {
        let mut w = Where::default();
        if let Some(r) = f.requester_id {
            w.add("requester_id = ?", Value::Int(r));
        }
        if let Some(s) = f.status {
            w.add("status = ?", Value::from(s.as_str()));
        }
        if let Some(t) = f.tier {
            w.add("tier = ?", Value::from(t));
        }
        if let Some(t) = f.team_id {
            w.add("team_id = ?", Value::Int(t));
        }
        if let Some(a) = f.assignee_id {
            w.add("assignee_id = ?", Value::Int(a));
        }
        if let Some(p) = f.priority {
            w.add("priority = ?", Value::from(p.as_str()));
        }
        if let Some(c) = f.channel {
            w.add("channel = ?", Value::from(c.as_str()));
        }
        if let Some(q) = &f.q {
            let pattern = format!(
                "%{}%",
                q.replace('\\', "\\\\")
                    .replace('%', "\\%")
                    .replace('_', "\\_")
            );
            let like = self.ilike();
            w.add(
                &format!("title {like} ? ESCAPE '\\'"),
                Value::from(pattern.clone()),
            );
            let title = w.clauses.pop().unwrap_or_default();
            w.add(&format!("key {like} ? ESCAPE '\\'"), Value::from(pattern));
            let key = w.clauses.pop().unwrap_or_default();
            w.clauses.push(format!("({title} OR {key})"));
        }
        if f.open_only || f.sort == TicketSort::SlaDue {
            w.clauses.push("is_open = TRUE".into());
        }
        let order = match f.sort {
            TicketSort::Newest => {
                if let Some((_, id)) = f.after {
                    w.add("id < ?", Value::Int(id));
                }
                "id DESC"
            }
            TicketSort::SlaDue => {
                if let Some((due, id)) = f.after {
                    w.params.push(Value::Time(due.unwrap_or_else(far_future)));
                    let d = w.params.len();
                    w.params.push(Value::Int(id));
                    let i = d + 1;
                    w.clauses.push(format!(
                        "(sla_due > ${d} OR (sla_due = ${d} AND id > ${i}))"
                    ));
                }
                "sla_due, id"
            }
        };
        let Where {
            clauses,
            mut params,
        } = w;
        let where_sql = if clauses.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", clauses.join(" AND "))
        };
        params.push(Value::Int(f.limit + 1));
        let sql = format!(
            "SELECT {TICKET_COLS} FROM tickets{where_sql} ORDER BY {order} LIMIT ${}",
            params.len()
        );
        let rows = self.rows(&sql, &params)?;
        let mut tickets = rows
            .iter()
            .map(ticket_from_row)
            .collect::<Result<Vec<_>, _>>()?;
        let more = tickets.len() as i64 > f.limit;
        tickets.truncate(usize::try_from(f.limit).unwrap_or(0));
        Ok((tickets, more))
    }

    /// Ticket counts by status for the tickets a filter selects (only `requester_id` is used).
    pub fn count_tickets_by_status(
        &mut self,
        requester_id: Option<i64>,
    ) -> Result<Vec<(String, i64)>, StoreError> {
        let (sql, params) = match requester_id {
            Some(r) => (
                "SELECT status, COUNT(*) FROM tickets WHERE requester_id = $1 GROUP BY status ORDER BY status",
                vec![Value::Int(r)],
            ),
            None => (
                "SELECT status, COUNT(*) FROM tickets GROUP BY status ORDER BY status",
                vec![],
            ),
        };
        self.rows(sql, &params)?
            .iter()
            .map(|r| Ok((r.text(0)?, r.i64(1)?)))
            .collect()
    }

    /// Appends a timeline event.
    pub fn append_event(
        &mut self,
        ticket_id: i64,
        at: DateTime<Utc>,
        actor_id: Option<i64>,
        e: &NewEvent,
    ) -> Result<i64, StoreError> {
        self.insert_id(
            "INSERT INTO events (ticket_id, at, actor_id, kind, public, data) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
            &[
                Value::Int(ticket_id),
                Value::Time(at),
                Value::from(actor_id),
                Value::from(e.kind.as_str()),
                Value::Bool(e.public),
                Value::Json(e.data.clone()),
            ],
        )
    }

    /// A ticket's events in order; only public ones when `public_only`.
    pub fn events_for(
        &mut self,
        ticket_id: i64,
        public_only: bool,
    ) -> Result<Vec<EventRecord>, StoreError> {
        let filter = if public_only {
            " AND e.public = TRUE"
        } else {
            ""
        };
        let sql = format!(
            "SELECT e.id, e.ticket_id, e.at, e.actor_id, u.name, e.kind, e.public, e.data \
             FROM events e LEFT JOIN users u ON u.id = e.actor_id WHERE e.ticket_id = $1{filter} ORDER BY e.id"
        );
        self.rows(&sql, &[Value::Int(ticket_id)])?
            .iter()
            .map(|r| {
                Ok(EventRecord {
                    id: r.i64(0)?,
                    ticket_id: r.i64(1)?,
                    at: r.time(2)?,
                    actor_id: r.opt_i64(3)?,
                    actor: r.opt_text(4)?,
                    kind: r.text(5)?,
                    public: r.bool(6)?,
                    data: r.json(7)?,
                })
            })
            .collect()
    }

    /// Ids of tickets that have no `created` event (must always be empty).
    pub fn tickets_without_creation_event(&mut self) -> Result<Vec<i64>, StoreError> {
        self.rows(
            "SELECT t.id FROM tickets t WHERE NOT EXISTS \
             (SELECT 1 FROM events e WHERE e.ticket_id = t.id AND e.kind = 'created') ORDER BY t.id",
            &[],
        )?
        .iter()
        .map(|r| r.i64(0))
        .collect()
    }

    /// The stored answer for a user's idempotency key.
    pub fn idempotency_get(
        &mut self,
        user_id: i64,
        key: &str,
    ) -> Result<Option<IdempotencyRecord>, StoreError> {
        self.one(
            "SELECT request_hash, status, body FROM idempotency_keys WHERE user_id = $1 AND key = $2",
            &[Value::Int(user_id), Value::from(key)],
        )?
        .map(|r| {
            Ok(IdempotencyRecord {
                request_hash: r.text(0)?,
                status: r.i64(1)?,
                body: r.text(2)?,
            })
        })
        .transpose()
    }

    /// Stores the answer for an idempotency key; a second insert of the same key is
    /// [`StoreError::Unique`].
    pub fn idempotency_put(
        &mut self,
        user_id: i64,
        key: &str,
        rec: &IdempotencyRecord,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.exec(
            "INSERT INTO idempotency_keys (user_id, key, request_hash, status, body, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
            &[
                Value::Int(user_id),
                Value::from(key),
                Value::from(&rec.request_hash),
                Value::Int(rec.status),
                Value::from(&rec.body),
                Value::Time(now),
            ],
        )?;
        Ok(())
    }
}
