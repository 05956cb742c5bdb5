//! Organisation administration: tiers, teams, users, services, categories (SPEC §1).
//! Reading the organisation needs any login; changing it needs the admin role.

use std::collections::BTreeMap;

use serde::Deserialize;
use tierdesk_domain::duration::parse_duration;
use tierdesk_domain::org::{check_name, default_tiers};
use tierdesk_domain::{Roles, Tier};
use tierdesk_store::{
    CategoryRecord, NewService, Repo, ServiceRecord, StoreError, TeamRecord, UserRecord,
};

use crate::auth::{AddUser, add_user, hash_password};
use crate::tickets::Ref;
use crate::{App, AppError, Principal};

fn conflict(what: String) -> impl FnOnce(AppError) -> AppError {
    move |e| match e {
        AppError::Store(StoreError::Unique(_)) => {
            AppError::Conflict(format!("{what} already exists"))
        }
        other => other,
    }
}

/// Inserts the default L1/L2/L3 tiers into an empty tier table.
pub fn ensure_default_tiers(app: &App) -> Result<(), AppError> {
    app.store.write(|r| {
        if r.list_tiers()?.is_empty() {
            for t in default_tiers() {
                r.upsert_tier(&t)?;
            }
        }
        Ok::<_, AppError>(())
    })
}

/// Every tier.
pub fn list_tiers(app: &App) -> Result<Vec<Tier>, AppError> {
    Ok(app.store.read(|r| r.list_tiers())?)
}

/// `PUT /tiers/{short}` body.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TierInput {
    /// Display name.
    pub name: Option<String>,
    /// Response target such as `15m`.
    pub response_target: Option<String>,
    /// Default team name or id.
    pub default_team: Option<Ref>,
}

fn team_ref(r: &mut Repo<'_>, field: &'static str, team: &Ref) -> Result<i64, AppError> {
    let id = match team {
        Ref::Id(id) => r.team_by_id(*id)?.map(|t| t.id),
        Ref::Name(n) => r.team_id_by_name(n)?,
    };
    id.ok_or_else(|| AppError::invalid(field, "unknown team"))
}

fn user_ref(r: &mut Repo<'_>, field: &'static str, user: &Ref) -> Result<i64, AppError> {
    let u = match user {
        Ref::Id(id) => r.user_by_id(*id)?,
        Ref::Name(n) => r.user_by_name(n)?,
    };
    u.map(|u| u.id)
        .ok_or_else(|| AppError::invalid(field, "unknown user"))
}

fn tier_level(r: &mut Repo<'_>, field: &'static str, short: &str) -> Result<i32, AppError> {
    r.list_tiers()?
        .into_iter()
        .find(|t| t.short.eq_ignore_ascii_case(short))
        .map(|t| t.level)
        .ok_or_else(|| AppError::invalid(field, format!("unknown tier '{short}'")))
}

/// Creates or changes a tier by short name; a new short name adds a tier after the last.
pub fn put_tier(app: &App, p: &Principal, short: &str, input: TierInput) -> Result<Tier, AppError> {
    p.require_admin()?;
    let short = check_name("short", short)?;
    let target = input
        .response_target
        .as_deref()
        .map(|d| parse_duration("response_target", d))
        .transpose()?;
    if target.is_some_and(|t| t <= 0) {
        return Err(AppError::invalid("response_target", "must be positive"));
    }
    let name = input
        .name
        .as_deref()
        .map(|n| check_name("name", n))
        .transpose()?;
    app.store.write(move |r| {
        let tiers = r.list_tiers()?;
        let mut tier = match tiers.iter().find(|t| t.short == short) {
            Some(t) => t.clone(),
            None => Tier {
                level: tiers.last().map_or(1, |t| t.level + 1),
                short: short.clone(),
                name: name
                    .clone()
                    .ok_or_else(|| AppError::invalid("name", "is required for a new tier"))?,
                response_target_secs: target.ok_or_else(|| {
                    AppError::invalid("response_target", "is required for a new tier")
                })?,
                default_team_id: None,
            },
        };
        if let Some(n) = name {
            tier.name = n;
        }
        if let Some(t) = target {
            tier.response_target_secs = t;
        }
        if let Some(team) = &input.default_team {
            let id = team_ref(r, "default_team", team)?;
            if r.team_by_id(id)?.is_some_and(|t| t.tier != tier.level) {
                return Err(AppError::invalid(
                    "default_team",
                    "the team works at another tier",
                ));
            }
            tier.default_team_id = Some(id);
        }
        r.upsert_tier(&tier)?;
        Ok(tier)
    })
}

/// Every team.
pub fn list_teams(app: &App) -> Result<Vec<TeamRecord>, AppError> {
    Ok(app.store.read(|r| r.list_teams())?)
}

/// One team.
pub fn get_team(app: &App, id: i64) -> Result<TeamRecord, AppError> {
    app.store
        .read(|r| r.team_by_id(id))?
        .ok_or_else(|| AppError::NotFound(format!("team {id}")))
}

/// `POST /teams` and `PATCH /teams/{id}` body.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TeamInput {
    /// Unique name.
    pub name: Option<String>,
    /// Tier short name.
    pub tier: Option<String>,
    /// Lead login name or id.
    pub lead: Option<Ref>,
    /// Intake email.
    pub email: Option<String>,
    /// Member login names or ids (replaces the list).
    pub members: Option<Vec<Ref>>,
}

/// Creates (`id` None) or changes a team (admins only).
pub fn save_team(
    app: &App,
    p: &Principal,
    id: Option<i64>,
    input: TeamInput,
) -> Result<TeamRecord, AppError> {
    p.require_admin()?;
    let name = input
        .name
        .as_deref()
        .map(|n| check_name("name", n))
        .transpose()?;
    let label = format!("team '{}'", name.clone().unwrap_or_default());
    let now = app.now();
    app.store
        .write(move |r| {
            let mut team = match id {
                Some(id) => r
                    .team_by_id(id)?
                    .ok_or_else(|| AppError::NotFound(format!("team {id}")))?,
                None => {
                    let name = name
                        .clone()
                        .ok_or_else(|| AppError::invalid("name", "is required"))?;
                    let tier = input
                        .tier
                        .as_deref()
                        .ok_or_else(|| AppError::invalid("tier", "is required"))?;
                    let level = tier_level(r, "tier", tier)?;
                    let id = r.insert_team(&name, level, None, None, now)?;
                    r.team_by_id(id)?
                        .ok_or_else(|| AppError::NotFound(format!("team {id}")))?
                }
            };
            if let Some(n) = name {
                team.name = n;
            }
            if let Some(t) = &input.tier {
                team.tier = tier_level(r, "tier", t)?;
            }
            if let Some(l) = &input.lead {
                team.lead_id = Some(user_ref(r, "lead", l)?);
            }
            if input.email.is_some() {
                team.email = input.email.clone();
            }
            r.update_team(&team)?;
            if let Some(members) = &input.members {
                let ids = members
                    .iter()
                    .map(|m| user_ref(r, "members", m))
                    .collect::<Result<Vec<_>, _>>()?;
                r.set_team_members(team.id, &ids)?;
            }
            r.team_by_id(team.id)?
                .ok_or_else(|| AppError::NotFound(format!("team {}", team.id)))
        })
        .map_err(conflict(label))
}

/// Users, for agents.
pub fn list_users(app: &App, p: &Principal) -> Result<Vec<UserRecord>, AppError> {
    p.require_agent()?;
    Ok(app.store.read(|r| r.list_users(0, 1000))?)
}

/// One user: agents see anyone, others only themselves.
pub fn get_user(app: &App, p: &Principal, id: i64) -> Result<UserRecord, AppError> {
    if !p.is_agent() && p.id != id {
        return Err(AppError::NotFound(format!("user {id}")));
    }
    app.store
        .read(|r| r.user_by_id(id))?
        .ok_or_else(|| AppError::NotFound(format!("user {id}")))
}

/// `POST /users` and `PATCH /users/{id}` body.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserInput {
    /// Unique login name (create only).
    pub name: Option<String>,
    /// Display name.
    pub display_name: Option<String>,
    /// Email.
    pub email: Option<String>,
    /// Roles.
    pub roles: Option<Vec<String>>,
    /// Password (stored as Argon2id).
    pub password: Option<String>,
    /// Disable (revokes login and tokens).
    pub disabled: Option<bool>,
}

fn parse_roles(roles: &[String]) -> Result<Roles, AppError> {
    Ok(Roles::parse("roles", &roles.join(","))?)
}

/// Creates (`id` None) or changes a user (admins only).
pub fn save_user(
    app: &App,
    p: &Principal,
    id: Option<i64>,
    input: UserInput,
) -> Result<UserRecord, AppError> {
    p.require_admin()?;
    let roles = input.roles.as_deref().map(parse_roles).transpose()?;
    let Some(id) = id else {
        return add_user(
            app,
            AddUser {
                name: input.name.unwrap_or_default(),
                display_name: input.display_name,
                email: input.email,
                roles: roles.unwrap_or_else(|| Roles(vec![tierdesk_domain::Role::Requester])),
                password: input.password,
            },
        );
    };
    if input.name.is_some() {
        return Err(AppError::invalid("name", "login names cannot be changed"));
    }
    let hash = input.password.as_deref().map(hash_password).transpose()?;
    let display = input
        .display_name
        .as_deref()
        .map(|d| check_name("display_name", d))
        .transpose()?;
    let now = app.now();
    app.store.write(move |r| {
        let mut u = r
            .user_by_id(id)?
            .ok_or_else(|| AppError::NotFound(format!("user {id}")))?;
        if let Some(d) = display {
            u.display_name = d;
        }
        if input.email.is_some() {
            u.email = input.email;
        }
        if let Some(roles) = roles {
            u.roles = roles;
        }
        if let Some(d) = input.disabled {
            u.disabled = d;
            if d {
                r.revoke_tokens(u.id, now)?;
            }
        }
        r.update_user(&u, hash.as_deref())?;
        r.user_by_id(id)?
            .ok_or_else(|| AppError::NotFound(format!("user {id}")))
    })
}

/// Every service.
pub fn list_services(app: &App) -> Result<Vec<ServiceRecord>, AppError> {
    Ok(app.store.read(|r| r.list_services())?)
}

/// One service.
pub fn get_service(app: &App, id: i64) -> Result<ServiceRecord, AppError> {
    app.store
        .read(|r| r.service_by_id(id))?
        .ok_or_else(|| AppError::NotFound(format!("service {id}")))
}

/// `POST /services` and `PATCH /services/{id}` body.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceInput {
    /// Unique name.
    pub name: Option<String>,
    /// `low`, `medium`, `high`, `critical`.
    pub criticality: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// Links (dashboards, runbooks, repositories).
    #[schema(value_type = Object)]
    pub links: Option<serde_json::Value>,
    /// Owning team per tier: `{"L1": "Service Desk", "L2": "Identity Ops"}`.
    pub owners: Option<BTreeMap<String, Ref>>,
}

/// Creates (`id` None) or changes a service (admins only).
pub fn save_service(
    app: &App,
    p: &Principal,
    id: Option<i64>,
    input: ServiceInput,
) -> Result<ServiceRecord, AppError> {
    p.require_admin()?;
    let name = input
        .name
        .as_deref()
        .map(|n| check_name("name", n))
        .transpose()?;
    if let Some(c) = &input.criticality
        && !["low", "medium", "high", "critical"].contains(&c.as_str())
    {
        return Err(AppError::invalid(
            "criticality",
            "one of: low, medium, high, critical",
        ));
    }
    if input.links.as_ref().is_some_and(|l| !l.is_object()) {
        return Err(AppError::invalid(
            "links",
            "must be an object of name → URL",
        ));
    }
    let label = format!("service '{}'", name.clone().unwrap_or_default());
    let now = app.now();
    app.store
        .write(move |r| {
            let mut s = match id {
                Some(id) => r
                    .service_by_id(id)?
                    .ok_or_else(|| AppError::NotFound(format!("service {id}")))?,
                None => {
                    let new = NewService {
                        name: name
                            .clone()
                            .ok_or_else(|| AppError::invalid("name", "is required"))?,
                        criticality: input.criticality.clone().unwrap_or_else(|| "medium".into()),
                        description: input.description.clone().unwrap_or_default(),
                        links: input.links.clone().unwrap_or_else(|| serde_json::json!({})),
                    };
                    let id = r.insert_service(&new, now)?;
                    r.service_by_id(id)?
                        .ok_or_else(|| AppError::NotFound(format!("service {id}")))?
                }
            };
            if let Some(n) = name {
                s.name = n;
            }
            if let Some(c) = input.criticality {
                s.criticality = c;
            }
            if let Some(d) = input.description {
                s.description = d;
            }
            if let Some(l) = input.links {
                s.links = l;
            }
            r.update_service(&s)?;
            if let Some(owners) = &input.owners {
                let mut pairs = Vec::new();
                for (tier, team) in owners {
                    let level = tier_level(r, "owners", tier)?;
                    let team_id = team_ref(r, "owners", team)?;
                    if r.team_by_id(team_id)?.is_some_and(|t| t.tier != level) {
                        return Err(AppError::invalid(
                            "owners",
                            format!("the team for {tier} works at another tier"),
                        ));
                    }
                    pairs.push((level, team_id));
                }
                r.set_service_owners(s.id, &pairs)?;
            }
            r.service_by_id(s.id)?
                .ok_or_else(|| AppError::NotFound(format!("service {}", s.id)))
        })
        .map_err(conflict(label))
}

/// Every category.
pub fn list_categories(app: &App) -> Result<Vec<CategoryRecord>, AppError> {
    Ok(app.store.read(|r| r.list_categories())?)
}

/// `POST /categories` and `PATCH /categories/{id}` body.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CategoryInput {
    /// Unique name.
    pub name: Option<String>,
    /// Default service name.
    pub default_service: Option<String>,
    /// Default team name or id.
    pub default_team: Option<Ref>,
}

/// Creates (`id` None) or changes a category (admins only).
pub fn save_category(
    app: &App,
    p: &Principal,
    id: Option<i64>,
    input: CategoryInput,
) -> Result<CategoryRecord, AppError> {
    p.require_admin()?;
    let name = input
        .name
        .as_deref()
        .map(|n| check_name("name", n))
        .transpose()?;
    let label = format!("category '{}'", name.clone().unwrap_or_default());
    app.store
        .write(move |r| {
            let service = match &input.default_service {
                Some(s) => Some(
                    r.service_by_name(s)?
                        .ok_or_else(|| {
                            AppError::invalid("default_service", format!("unknown service '{s}'"))
                        })?
                        .id,
                ),
                None => None,
            };
            let team = input
                .default_team
                .as_ref()
                .map(|t| team_ref(r, "default_team", t))
                .transpose()?;
            let mut c = match id {
                Some(id) => r
                    .category_by_id(id)?
                    .ok_or_else(|| AppError::NotFound(format!("category {id}")))?,
                None => {
                    let name = name
                        .clone()
                        .ok_or_else(|| AppError::invalid("name", "is required"))?;
                    let id = r.insert_category(&name, service, team)?;
                    r.category_by_id(id)?
                        .ok_or_else(|| AppError::NotFound(format!("category {id}")))?
                }
            };
            if let Some(n) = name {
                c.name = n;
            }
            if service.is_some() {
                c.default_service_id = service;
            }
            if team.is_some() {
                c.default_team_id = team;
            }
            r.update_category(&c)?;
            Ok(c)
        })
        .map_err(conflict(label))
}
