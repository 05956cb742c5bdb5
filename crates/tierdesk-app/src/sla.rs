//! The SLA engine's application side: configuration (policies, calendars, escalation rules),
//! recomputing a ticket's clocks from its timeline, the timer that fires warnings and breaches
//! exactly once, and `sla repair`.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use tierdesk_domain::calendar::{Calendar, CalendarSpec};
use tierdesk_domain::event::{EventKind, EventView, facts};
use tierdesk_domain::routing::RouteSource;
use tierdesk_domain::rules::{EscalationRule, RuleAction, raised};
use tierdesk_domain::sla::{
    ClockContext, ClockKind, CompiledPolicy, Fact, Firing, MatchFacts, compute, select_policy,
};
use tierdesk_domain::{NewEvent, Policy, Ticket, Tier};
use tierdesk_store::{ConfigList, Repo, StoreError};

use crate::{App, AppError};

/// Everything clocks and rules need, loaded once per transaction.
pub struct SlaConfig {
    /// Configured tiers, by level.
    pub tiers: Vec<Tier>,
    /// Policies in order.
    pub policies: Vec<CompiledPolicy>,
    /// Calendars by name.
    pub calendars: HashMap<String, Calendar>,
    /// Escalation rules in order.
    pub rules: Vec<EscalationRule>,
    /// Webhook subscriptions.
    pub webhooks: Vec<tierdesk_store::WebhookRecord>,
    fallback: CompiledPolicy,
}

/// This process's copy of the configuration, reloaded when the database's generation moves
/// (any process changing tiers, SLA configuration or webhooks bumps it in its transaction).
#[derive(Default)]
pub struct ConfigCache(std::sync::Mutex<Option<(i64, std::sync::Arc<SlaConfig>)>>);

impl ConfigCache {
    /// The current configuration: one small read when nothing changed.
    pub fn get(&self, repo: &mut Repo<'_>) -> Result<std::sync::Arc<SlaConfig>, AppError> {
        let generation = repo.config_generation()?;
        if let Ok(guard) = self.0.lock()
            && let Some((g, cfg)) = guard.as_ref()
            && *g == generation
        {
            return Ok(cfg.clone());
        }
        let cfg = std::sync::Arc::new(SlaConfig::load(repo)?);
        if let Ok(mut guard) = self.0.lock() {
            *guard = Some((generation, cfg.clone()));
        }
        Ok(cfg)
    }
}

fn decode<T: serde::de::DeserializeOwned>(v: serde_json::Value) -> Result<T, StoreError> {
    serde_json::from_value(v).map_err(|e| StoreError::Decode(e.to_string()))
}

impl SlaConfig {
    /// Loads the configuration (validated when it was stored).
    pub fn load(repo: &mut Repo<'_>) -> Result<SlaConfig, AppError> {
        let tiers = repo.list_tiers()?;
        let shorts: Vec<String> = tiers.iter().map(|t| t.short.clone()).collect();
        let mut policies = Vec::new();
        for v in repo.config_list(ConfigList::Policies)? {
            let p: Policy = decode(v)?;
            policies.push(p.compile(&shorts)?);
        }
        let mut calendars = HashMap::new();
        for v in repo.calendars()? {
            let spec: CalendarSpec = decode(v)?;
            calendars.insert(spec.name.clone(), Calendar::from_spec(&spec)?);
        }
        let rules = repo
            .config_list(ConfigList::EscalationRules)?
            .into_iter()
            .map(decode)
            .collect::<Result<Vec<EscalationRule>, _>>()?;
        Ok(SlaConfig {
            tiers,
            policies,
            calendars,
            rules,
            webhooks: repo.webhooks()?,
            fallback: CompiledPolicy::default_policy(),
        })
    }

    fn calendar(&self, name: &str) -> &Calendar {
        self.calendars.get(name).unwrap_or(&Calendar::Always)
    }

    fn tier(&self, level: i32) -> (String, i64) {
        self.tiers
            .iter()
            .find(|t| t.level == level)
            .map(|t| (t.short.clone(), t.response_target_secs))
            .unwrap_or_else(|| (format!("L{level}"), 4 * 3600))
    }

    /// The tier's short name.
    pub fn tier_short(&self, level: i32) -> String {
        self.tier(level).0
    }
}

/// The state of a ticket right after an event, as a clock fact.
pub fn fact_for(
    t: &Ticket,
    kind: EventKind,
    at: DateTime<Utc>,
    by_agent: bool,
    public: bool,
    clock: Option<String>,
) -> Fact {
    Fact {
        at,
        kind,
        by_agent,
        public,
        status: t.status,
        tier: t.tier,
        priority: t.priority,
        pending_reason: t.pending_reason,
        clock,
    }
}

/// Re-matches the policy and recomputes the clocks from the stored timeline plus `pending`
/// (the event about to be appended).
pub fn refresh(
    repo: &mut Repo<'_>,
    cfg: &SlaConfig,
    t: &mut Ticket,
    pending: Option<Fact>,
) -> Result<(), AppError> {
    let category = t
        .category_id
        .map(|id| repo.category_by_id(id))
        .transpose()?
        .flatten()
        .map(|c| c.name);
    let service = t
        .service_id
        .map(|id| repo.service_by_id(id))
        .transpose()?
        .flatten()
        .map(|s| s.name);
    let (policy, why) = select_policy(
        &cfg.policies,
        &MatchFacts {
            priority: t.priority,
            kind: t.kind,
            category: category.as_deref(),
            service: service.as_deref(),
        },
        &cfg.fallback,
    );
    let mut all = Vec::new();
    if t.id != 0 {
        let events = repo.events_for(t.id, false)?;
        let views: Vec<EventView<'_>> = events
            .iter()
            .filter_map(|e| {
                EventKind::parse(&e.kind).map(|kind| EventView {
                    at: e.at,
                    kind,
                    public: e.public,
                    data: &e.data,
                })
            })
            .collect();
        all = facts(&views).map_err(|e| StoreError::Decode(e.to_string()))?;
    }
    all.extend(pending);
    let tier = |level: i32| cfg.tier(level);
    let ctx = ClockContext {
        policy,
        calendar: cfg.calendar(&policy.spec.calendar),
        tier: &tier,
    };
    t.clocks = compute(&ctx, &all);
    t.sla_policy = Some(policy.spec.name.clone());
    t.sla_policy_reason = Some(why);
    Ok(())
}

/// Appends a system (no actor) change event after recomputing the clocks with it.
#[expect(
    clippy::too_many_arguments,
    reason = "the event parts stay named at every call site"
)]
fn system_change(
    repo: &mut Repo<'_>,
    cfg: &SlaConfig,
    before: &Ticket,
    t: &mut Ticket,
    kind: EventKind,
    public: bool,
    mut extra: serde_json::Value,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let clock = extra
        .get("clock")
        .and_then(|c| c.as_str())
        .map(str::to_owned);
    refresh(
        repo,
        cfg,
        t,
        Some(fact_for(t, kind, now, false, public, clock)),
    )?;
    if let Some(map) = extra.as_object_mut() {
        map.insert("by_agent".into(), false.into());
    }
    repo.update_ticket(t, before.version)?;
    repo.append_event(
        t.id,
        now,
        None,
        &NewEvent::change(kind, public, before, t, extra),
    )?;
    Ok(())
}

/// Fires every warning and breach due at `now` on one ticket, exactly once each, and runs the
/// matching escalation rules. Returns how many firings it recorded.
pub fn fire_ticket(
    repo: &mut Repo<'_>,
    cache: &ConfigCache,
    ticket_id: i64,
    now: DateTime<Utc>,
) -> Result<(usize, usize), AppError> {
    let Some(mut t) = repo.ticket_by_id(ticket_id, true)? else {
        return Ok((0, 0));
    };
    let cfg = cache.get(repo)?;
    let mut fired = 0;
    let mut escalations = 0;
    for _ in 0..16 {
        let next = t
            .clocks
            .iter()
            .filter_map(|c| c.next_firing().map(|(at, f)| (at, f, c.clone())))
            .filter(|(at, _, _)| *at <= now)
            .min_by_key(|(at, _, _)| *at);
        let Some((due, firing, clock)) = next else {
            break;
        };
        let label = if clock.kind == ClockKind::Reminder {
            "reminder"
        } else {
            firing.as_str()
        };
        if !repo.record_firing(t.id, &clock.key, label, now)? {
            // Recorded before (another node, or before a restart) but not in this row: the row
            // is behind its timeline. Recompute from the timeline and look again.
            refresh(repo, &cfg, &mut t, None)?;
            continue;
        }
        fired += 1;
        if clock.kind == ClockKind::Reminder {
            remind(repo, &cfg, &mut t, &clock, now)?;
            continue;
        }
        let kind = match firing {
            Firing::Warning => EventKind::SlaWarning,
            Firing::Breach => EventKind::SlaBreach,
        };
        let before = t.clone();
        t.updated_at = now;
        t.version += 1;
        let extra = serde_json::json!({
            "clock": clock.key,
            "clock_kind": clock.kind.as_str(),
            "tier": clock.tier.map(|l| cfg.tier_short(l)),
            "due_at": clock.due_at,
            "scheduled_at": due,
        });
        system_change(repo, &cfg, &before, &mut t, kind, false, extra, now)?;
        escalations += run_rules(repo, &cfg, &mut t, firing, &clock, now)?;
    }
    Ok((fired, escalations))
}

/// Sends a reminder to the requester the ticket waits on; after the policy's count of
/// unanswered reminders, resolves the ticket.
fn remind(
    repo: &mut Repo<'_>,
    cfg: &SlaConfig,
    t: &mut Ticket,
    clock: &tierdesk_domain::Clock,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let round = clock.round.unwrap_or(1);
    let limit = reminder_limit(repo, cfg, t)?;
    let before = t.clone();
    t.updated_at = now;
    t.version += 1;
    let extra = serde_json::json!({
        "clock": clock.key,
        "round": round,
        "of": limit,
        "body": format!("Reminder {round} of {limit}: we are waiting for your answer to continue."),
    });
    system_change(repo, cfg, &before, t, EventKind::Reminder, true, extra, now)?;
    if round >= limit {
        let before = t.clone();
        let note =
            format!("Resolved after {round} reminders without an answer from the requester.");
        t.resolve("no_response", &note, None, now)?;
        let extra = serde_json::json!({"code": "no_response", "note": note, "article_id": null});
        system_change(repo, cfg, &before, t, EventKind::Resolved, true, extra, now)?;
    }
    Ok(())
}

fn reminder_limit(repo: &mut Repo<'_>, cfg: &SlaConfig, t: &Ticket) -> Result<u32, AppError> {
    let mut probe = t.clone();
    refresh(repo, cfg, &mut probe, None)?;
    let name = probe.sla_policy.unwrap_or_default();
    Ok(cfg
        .policies
        .iter()
        .find(|p| p.spec.name == name)
        .and_then(|p| p.reminders)
        .map_or(u32::MAX, |(_, k)| k))
}

fn run_rules(
    repo: &mut Repo<'_>,
    cfg: &SlaConfig,
    t: &mut Ticket,
    firing: Firing,
    clock: &tierdesk_domain::Clock,
    now: DateTime<Utc>,
) -> Result<usize, AppError> {
    let team_name = t
        .team_id
        .map(|id| repo.team_by_id(id))
        .transpose()?
        .flatten()
        .map(|x| x.name);
    let tier_short = cfg.tier_short(t.tier);
    let rules: Vec<EscalationRule> = cfg
        .rules
        .iter()
        .filter(|r| {
            r.applies(
                firing,
                clock.kind,
                &tier_short,
                t.priority,
                team_name.as_deref(),
            )
        })
        .cloned()
        .collect();
    let mut escalations = 0;
    for rule in rules {
        for action in &rule.actions {
            if t.status.is_final() {
                return Ok(escalations);
            }
            let before = t.clone();
            let note = format!(
                "SLA {} of {} (rule '{}')",
                firing.as_str(),
                clock.key,
                rule.name
            );
            match action {
                RuleAction::Escalate {} => {
                    let Some(target) = cfg.tiers.iter().find(|x| x.level > t.tier).cloned() else {
                        continue;
                    };
                    let routed =
                        crate::tickets::route_for(repo, t.service_id, t.category_id, &target)?;
                    t.move_to_tier(target.level, routed.map(|(id, _)| id), now)?;
                    let extra = serde_json::json!({
                        "note": note, "rule": rule.name, "from_tier": tier_short, "to_tier": target.short,
                        "from_team_id": before.team_id, "to_team_id": t.team_id,
                        "route": routed.map(|(_, s)| s).unwrap_or(RouteSource::TierDefault), "articles": [],
                    });
                    system_change(
                        repo,
                        cfg,
                        &before,
                        t,
                        EventKind::Escalated,
                        false,
                        extra,
                        now,
                    )?;
                    escalations += 1;
                }
                RuleAction::RaisePriority {} => {
                    let to = raised(t.priority);
                    if to == t.priority {
                        continue;
                    }
                    t.set_priority(to, &note, now)?;
                    let extra = serde_json::json!({"from": before.priority.as_str(), "to": to.as_str(), "reason": note, "rule": rule.name});
                    system_change(
                        repo,
                        cfg,
                        &before,
                        t,
                        EventKind::PriorityChanged,
                        true,
                        extra,
                        now,
                    )?;
                }
                RuleAction::AssignLead {} => {
                    let lead = t
                        .team_id
                        .map(|id| repo.team_by_id(id))
                        .transpose()?
                        .flatten()
                        .and_then(|x| x.lead_id);
                    let Some(lead) = lead else { continue };
                    t.assign(None, Some(lead), now)?;
                    let extra =
                        serde_json::json!({"assignee_id": lead, "rule": rule.name, "note": note});
                    system_change(
                        repo,
                        cfg,
                        &before,
                        t,
                        EventKind::Assigned,
                        false,
                        extra,
                        now,
                    )?;
                }
                RuleAction::Notify { webhook } => {
                    crate::webhooks::enqueue_named(
                        repo,
                        webhook,
                        &sla_payload(t, firing, clock, &rule.name),
                        now,
                    )?;
                }
            }
        }
    }
    Ok(escalations)
}

fn sla_payload(
    t: &Ticket,
    firing: Firing,
    clock: &tierdesk_domain::Clock,
    rule: &str,
) -> serde_json::Value {
    serde_json::json!({
        "event": format!("sla_{}", firing.as_str()),
        "ticket": t.key,
        "title": t.title,
        "priority": t.priority.as_str(),
        "clock": clock.key,
        "due_at": clock.due_at,
        "rule": rule,
    })
}

/// Fires everything due at `now` across all tickets; returns the number of firings. A ticket
/// that fails is logged and skipped (it is tried again on the next tick) so it cannot hold up
/// the others; one call handles at most 16 batches of 256 tickets.
pub fn fire_due(app: &App, now: DateTime<Utc>) -> Result<usize, AppError> {
    let mut total = 0;
    for _ in 0..16 {
        let ids = app.store.read(|r| r.sla_due_tickets(now, 256))?;
        let n = ids.len();
        let mut failed = 0;
        for id in ids {
            let cache = app.config.clone();
            match app.store.write(move |r| fire_ticket(r, &cache, id, now)) {
                Ok((fired, escalated)) => {
                    total += fired;
                    app.metrics.escalated(escalated as u64);
                }
                Err(e) => {
                    failed += 1;
                    tracing::warn!(ticket_id = id, error = %e, "SLA firing failed; will retry");
                }
            }
        }
        if n < 256 || failed == n {
            break;
        }
    }
    Ok(total)
}

/// The next instant anything is due, for the timer to sleep until.
pub fn next_due(app: &App) -> Result<Option<DateTime<Utc>>, AppError> {
    Ok(app.store.read(|r| r.sla_next_due())?)
}

/// Recomputes clocks (after a policy or calendar change) for tickets updated since `since`;
/// a ticket whose clocks change gets an `sla_recomputed` event. Returns (checked, changed).
pub fn repair(
    app: &App,
    since: Option<DateTime<Utc>>,
    progress: &dyn Fn(usize, usize),
) -> Result<(usize, usize), AppError> {
    let (mut checked, mut changed, mut after) = (0, 0, 0);
    loop {
        let ids = app.store.read(|r| r.ticket_ids_since(since, after, 500))?;
        let Some(last) = ids.last().copied() else {
            break;
        };
        after = last;
        let batch = ids.len();
        let now = app.now();
        let n = app.store.write(move |r| {
            let cfg = SlaConfig::load(r)?;
            let mut n = 0;
            for id in ids {
                let Some(mut t) = r.ticket_by_id(id, true)? else {
                    continue;
                };
                let before = t.clone();
                refresh(r, &cfg, &mut t, None)?;
                if t.clocks != before.clocks
                    || t.sla_policy != before.sla_policy
                    || t.sla_policy_reason != before.sla_policy_reason
                {
                    t.version += 1;
                    t.updated_at = now;
                    r.update_ticket(&t, before.version)?;
                    let extra = serde_json::json!({"by_agent": false, "policy": t.sla_policy});
                    r.append_event(
                        t.id,
                        now,
                        None,
                        &NewEvent::change(EventKind::SlaRecomputed, false, &before, &t, extra),
                    )?;
                    n += 1;
                }
            }
            Ok::<_, AppError>(n)
        })?;
        checked += batch;
        changed += n;
        progress(checked, changed);
    }
    Ok((checked, changed))
}

mod admin;

pub use admin::*;
