//! SLA administration: policies, calendars and escalation rules through the API (admins
//! change, agents read), and seeding them from `tierdesk.toml`.

use serde::{Deserialize, Serialize};
use tierdesk_domain::Policy;
use tierdesk_domain::calendar::{ALWAYS, Calendar, CalendarSpec};
use tierdesk_domain::rules::{EscalationRule, RuleAction};
use tierdesk_store::{ConfigList, StoreError};

use super::SlaConfig;
use crate::{App, AppError, Principal};

/// `GET/PUT /sla/policies` body: a bare list or `{"items": [...]}`.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum ListBody<T> {
    /// `{"items": [...]}`.
    Wrapped {
        /// The items.
        items: Vec<T>,
    },
    /// `[...]`.
    Bare(Vec<T>),
}

impl<T> ListBody<T> {
    /// The items.
    pub fn into_items(self) -> Vec<T> {
        match self {
            ListBody::Wrapped { items } | ListBody::Bare(items) => items,
        }
    }
}

fn check_unique<'a>(names: impl Iterator<Item = &'a str>) -> Result<(), AppError> {
    let mut seen = std::collections::HashSet::new();
    for n in names {
        if !seen.insert(n) {
            return Err(AppError::invalid("name", format!("'{n}' appears twice")));
        }
    }
    Ok(())
}

/// The policies, in order (agents).
pub fn policies(app: &App, p: &Principal) -> Result<Vec<serde_json::Value>, AppError> {
    p.require_agent()?;
    Ok(app.store.read(|r| r.config_list(ConfigList::Policies))?)
}

/// Replaces the policies (admins); every policy is validated against tiers and calendars.
pub fn put_policies(
    app: &App,
    p: &Principal,
    items: Vec<Policy>,
) -> Result<Vec<serde_json::Value>, AppError> {
    p.require_admin()?;
    check_unique(items.iter().map(|x| x.name.as_str()))?;
    app.store.write(move |r| {
        let cfg = SlaConfig::load(r)?;
        let shorts: Vec<String> = cfg.tiers.iter().map(|t| t.short.clone()).collect();
        let mut rows = Vec::new();
        for (i, policy) in items.iter().enumerate() {
            policy.compile(&shorts).map_err(|e| prefix(i, e.into()))?;
            if policy.calendar != ALWAYS && !cfg.calendars.contains_key(&policy.calendar) {
                return Err(prefix(
                    i,
                    AppError::invalid(
                        "calendar",
                        format!("unknown calendar '{}'", policy.calendar),
                    ),
                ));
            }
            let body =
                serde_json::to_value(policy).map_err(|e| StoreError::Other(e.to_string()))?;
            rows.push((policy.name.clone(), body));
        }
        r.replace_config_list(ConfigList::Policies, &rows)?;
        Ok(r.config_list(ConfigList::Policies)?)
    })
}

fn prefix(i: usize, e: AppError) -> AppError {
    match e {
        AppError::Invalid { field, message } => AppError::Invalid {
            field: format!("items[{i}].{field}"),
            message,
        },
        other => other,
    }
}

/// The calendars (agents).
pub fn calendars(app: &App, p: &Principal) -> Result<Vec<serde_json::Value>, AppError> {
    p.require_agent()?;
    Ok(app.store.read(|r| r.calendars())?)
}

/// Creates or replaces a calendar (admins).
pub fn put_calendar(
    app: &App,
    p: &Principal,
    name: &str,
    mut spec: CalendarSpec,
) -> Result<serde_json::Value, AppError> {
    p.require_admin()?;
    if name == ALWAYS {
        return Err(AppError::invalid("name", "24x7 is built in"));
    }
    spec.name = name.to_owned();
    Calendar::from_spec(&spec)?;
    let body = serde_json::to_value(&spec).map_err(|e| StoreError::Other(e.to_string()))?;
    let n = name.to_owned();
    let b2 = body.clone();
    app.store.write(move |r| r.put_calendar(&n, &b2))?;
    Ok(body)
}

/// Deletes a calendar no policy uses (admins).
pub fn delete_calendar(app: &App, p: &Principal, name: &str) -> Result<(), AppError> {
    p.require_admin()?;
    let n = name.to_owned();
    app.store.write(move |r| {
        let cfg = SlaConfig::load(r)?;
        if let Some(pol) = cfg.policies.iter().find(|x| x.spec.calendar == n) {
            return Err(AppError::Conflict(format!(
                "policy '{}' uses calendar '{n}'",
                pol.spec.name
            )));
        }
        if !r.delete_calendar(&n)? {
            return Err(AppError::NotFound(format!("calendar {n}")));
        }
        Ok(())
    })
}

/// The escalation rules (agents).
pub fn rules(app: &App, p: &Principal) -> Result<Vec<serde_json::Value>, AppError> {
    p.require_agent()?;
    Ok(app
        .store
        .read(|r| r.config_list(ConfigList::EscalationRules))?)
}

/// Replaces the escalation rules (admins).
pub fn put_rules(
    app: &App,
    p: &Principal,
    items: Vec<EscalationRule>,
) -> Result<Vec<serde_json::Value>, AppError> {
    p.require_admin()?;
    check_unique(items.iter().map(|x| x.name.as_str()))?;
    let mut rows = Vec::new();
    for (i, rule) in items.iter().enumerate() {
        rule.check().map_err(|e| prefix(i, e.into()))?;
        rows.push((
            rule.name.clone(),
            serde_json::to_value(rule).map_err(|e| StoreError::Other(e.to_string()))?,
        ));
    }
    app.store.write(move |r| {
        let tiers: Vec<String> = r.list_tiers()?.into_iter().map(|t| t.short).collect();
        for (i, rule) in items.iter().enumerate() {
            if let Some(t) = &rule.tier
                && !tiers.contains(t)
            {
                return Err(prefix(
                    i,
                    AppError::invalid("tier", format!("unknown tier '{t}'")),
                ));
            }
            if let Some(team) = &rule.team
                && r.team_id_by_name(team)?.is_none()
            {
                return Err(prefix(
                    i,
                    AppError::invalid("team", format!("unknown team '{team}'")),
                ));
            }
            for a in &rule.actions {
                if let RuleAction::Notify { webhook } = a
                    && !crate::webhooks::exists(r, webhook)?
                {
                    return Err(prefix(
                        i,
                        AppError::invalid(
                            "actions",
                            format!("unknown webhook subscription '{webhook}'"),
                        ),
                    ));
                }
            }
        }
        r.replace_config_list(ConfigList::EscalationRules, &rows)?;
        Ok(r.config_list(ConfigList::EscalationRules)?)
    })
}

/// SLA configuration from `tierdesk.toml`, applied to a database that has none yet.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlaSeed {
    /// Calendars.
    #[serde(default)]
    pub calendars: Vec<CalendarSpec>,
    /// Policies, in order.
    #[serde(default)]
    pub policies: Vec<Policy>,
    /// Escalation rules, in order.
    #[serde(default)]
    pub escalation_rules: Vec<EscalationRule>,
}

/// Stores the seed when the database has no policies, calendars or rules yet; returns whether
/// it did. Invalid entries are refused with the field named, nothing half-written.
pub fn seed(app: &App, seed: SlaSeed) -> Result<bool, AppError> {
    app.store.write(move |r| {
        let empty = r.config_list(ConfigList::Policies)?.is_empty()
            && r.calendars()?.is_empty()
            && r.config_list(ConfigList::EscalationRules)?.is_empty();
        if !empty {
            return Ok(false);
        }
        let shorts: Vec<String> = r.list_tiers()?.into_iter().map(|t| t.short).collect();
        for (i, c) in seed.calendars.iter().enumerate() {
            Calendar::from_spec(c).map_err(|e| prefix(i, e.into()))?;
            let body = serde_json::to_value(c).map_err(|e| StoreError::Other(e.to_string()))?;
            r.put_calendar(&c.name, &body)?;
        }
        let mut rows = Vec::new();
        for (i, p) in seed.policies.iter().enumerate() {
            p.compile(&shorts).map_err(|e| prefix(i, e.into()))?;
            if p.calendar != ALWAYS && !seed.calendars.iter().any(|c| c.name == p.calendar) {
                return Err(prefix(
                    i,
                    AppError::invalid("calendar", format!("unknown calendar '{}'", p.calendar)),
                ));
            }
            rows.push((
                p.name.clone(),
                serde_json::to_value(p).map_err(|e| StoreError::Other(e.to_string()))?,
            ));
        }
        r.replace_config_list(ConfigList::Policies, &rows)?;
        let mut rules = Vec::new();
        for (i, rule) in seed.escalation_rules.iter().enumerate() {
            rule.check().map_err(|e| prefix(i, e.into()))?;
            rules.push((
                rule.name.clone(),
                serde_json::to_value(rule).map_err(|e| StoreError::Other(e.to_string()))?,
            ));
        }
        r.replace_config_list(ConfigList::EscalationRules, &rules)?;
        Ok(true)
    })
}
