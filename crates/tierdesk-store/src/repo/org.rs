//! Tiers, teams, services and categories.

use chrono::{DateTime, Utc};
use serde::Serialize;
use tierdesk_domain::Tier;

use super::Repo;
use crate::StoreError;
use crate::value::{Row, Value};

/// A team (assignment group) at one tier.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct TeamRecord {
    /// Id.
    pub id: i64,
    /// Unique name.
    pub name: String,
    /// Tier level the team works at.
    pub tier: i32,
    /// Team lead user id.
    pub lead_id: Option<i64>,
    /// Intake email address.
    pub email: Option<String>,
    /// Member user ids.
    pub members: Vec<i64>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
}

/// A service (lightweight CMDB item) and its owning team per tier.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ServiceRecord {
    /// Id.
    pub id: i64,
    /// Unique name such as `auth-service`.
    pub name: String,
    /// `low`, `medium`, `high` or `critical`.
    pub criticality: String,
    /// Description.
    pub description: String,
    /// Links: dashboards, runbooks, repositories.
    #[schema(value_type = Object)]
    pub links: serde_json::Value,
    /// (tier level, team id) pairs, ordered by tier.
    pub owners: Vec<(i32, i64)>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
}

/// What a new service is made from.
#[derive(Debug, Clone)]
pub struct NewService {
    /// Unique name.
    pub name: String,
    /// Criticality.
    pub criticality: String,
    /// Description.
    pub description: String,
    /// Links.
    pub links: serde_json::Value,
}

/// A ticket category and its defaults.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct CategoryRecord {
    /// Id.
    pub id: i64,
    /// Unique name such as `access`.
    pub name: String,
    /// Default service.
    pub default_service_id: Option<i64>,
    /// Default team.
    pub default_team_id: Option<i64>,
}

fn tier_from_row(r: &Row) -> Result<Tier, StoreError> {
    Ok(Tier {
        level: i32::try_from(r.i64(0)?).map_err(|e| StoreError::Decode(e.to_string()))?,
        short: r.text(1)?,
        name: r.text(2)?,
        response_target_secs: r.i64(3)?,
        default_team_id: r.opt_i64(4)?,
    })
}

fn small(v: i64) -> Result<i32, StoreError> {
    i32::try_from(v).map_err(|e| StoreError::Decode(e.to_string()))
}

fn team_from_row(r: &Row) -> Result<TeamRecord, StoreError> {
    Ok(TeamRecord {
        id: r.i64(0)?,
        name: r.text(1)?,
        tier: small(r.i64(2)?)?,
        lead_id: r.opt_i64(3)?,
        email: r.opt_text(4)?,
        members: Vec::new(),
        created_at: r.time(5)?,
    })
}

fn category_from_row(r: &Row) -> Result<CategoryRecord, StoreError> {
    Ok(CategoryRecord {
        id: r.i64(0)?,
        name: r.text(1)?,
        default_service_id: r.opt_i64(2)?,
        default_team_id: r.opt_i64(3)?,
    })
}

impl Repo<'_> {
    /// Every tier, ordered by level.
    pub fn list_tiers(&mut self) -> Result<Vec<Tier>, StoreError> {
        self.rows(
            "SELECT level, short, name, response_target_secs, default_team_id FROM tiers ORDER BY level",
            &[],
        )?
        .iter()
        .map(tier_from_row)
        .collect()
    }

    /// Inserts or replaces a tier by level.
    pub fn upsert_tier(&mut self, t: &Tier) -> Result<(), StoreError> {
        self.exec(
            "INSERT INTO tiers (level, short, name, response_target_secs, default_team_id) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (level) DO UPDATE SET short = excluded.short, name = excluded.name, \
             response_target_secs = excluded.response_target_secs, default_team_id = excluded.default_team_id",
            &[
                Value::from(t.level),
                Value::from(&t.short),
                Value::from(&t.name),
                Value::Int(t.response_target_secs),
                Value::from(t.default_team_id),
            ],
        )?;
        self.bump_config_generation()
    }

    /// Inserts a team.
    pub fn insert_team(
        &mut self,
        name: &str,
        tier: i32,
        lead_id: Option<i64>,
        email: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<i64, StoreError> {
        self.insert_id(
            "INSERT INTO teams (name, tier_level, lead_id, email, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
            &[Value::from(name), Value::from(tier), Value::from(lead_id), Value::from(email), Value::Time(now)],
        )
    }

    /// Updates a team's name, tier, lead and email.
    pub fn update_team(&mut self, t: &TeamRecord) -> Result<(), StoreError> {
        self.exec(
            "UPDATE teams SET name = $2, tier_level = $3, lead_id = $4, email = $5 WHERE id = $1",
            &[
                Value::Int(t.id),
                Value::from(&t.name),
                Value::from(t.tier),
                Value::from(t.lead_id),
                Value::from(t.email.clone()),
            ],
        )?;
        Ok(())
    }

    /// Replaces a team's members.
    pub fn set_team_members(&mut self, team_id: i64, members: &[i64]) -> Result<(), StoreError> {
        self.exec(
            "DELETE FROM team_members WHERE team_id = $1",
            &[Value::Int(team_id)],
        )?;
        for m in members {
            self.exec(
                "INSERT INTO team_members (team_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                &[Value::Int(team_id), Value::Int(*m)],
            )?;
        }
        Ok(())
    }

    /// A team by id, with its members.
    pub fn team_by_id(&mut self, id: i64) -> Result<Option<TeamRecord>, StoreError> {
        let Some(row) = self.one(
            "SELECT id, name, tier_level, lead_id, email, created_at FROM teams WHERE id = $1",
            &[Value::Int(id)],
        )?
        else {
            return Ok(None);
        };
        let mut team = team_from_row(&row)?;
        team.members = self.team_members(id)?;
        Ok(Some(team))
    }

    /// A team's id by name.
    pub fn team_id_by_name(&mut self, name: &str) -> Result<Option<i64>, StoreError> {
        self.one("SELECT id FROM teams WHERE name = $1", &[Value::from(name)])?
            .map(|r| r.i64(0))
            .transpose()
    }

    /// Every team, ordered by tier then name, with members.
    pub fn list_teams(&mut self) -> Result<Vec<TeamRecord>, StoreError> {
        let rows = self.rows(
            "SELECT id, name, tier_level, lead_id, email, created_at FROM teams ORDER BY tier_level, name",
            &[],
        )?;
        let mut teams = rows
            .iter()
            .map(team_from_row)
            .collect::<Result<Vec<_>, _>>()?;
        for t in &mut teams {
            t.members = self.team_members(t.id)?;
        }
        Ok(teams)
    }

    /// Member user ids of a team.
    pub fn team_members(&mut self, team_id: i64) -> Result<Vec<i64>, StoreError> {
        self.rows(
            "SELECT user_id FROM team_members WHERE team_id = $1 ORDER BY user_id",
            &[Value::Int(team_id)],
        )?
        .iter()
        .map(|r| r.i64(0))
        .collect()
    }

    /// Team ids a user belongs to.
    pub fn teams_of_user(&mut self, user_id: i64) -> Result<Vec<i64>, StoreError> {
        self.rows(
            "SELECT team_id FROM team_members WHERE user_id = $1 ORDER BY team_id",
            &[Value::Int(user_id)],
        )?
        .iter()
        .map(|r| r.i64(0))
        .collect()
    }

    /// Inserts a service.
    pub fn insert_service(
        &mut self,
        s: &NewService,
        now: DateTime<Utc>,
    ) -> Result<i64, StoreError> {
        self.insert_id(
            "INSERT INTO services (name, criticality, description, links, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
            &[
                Value::from(&s.name),
                Value::from(&s.criticality),
                Value::from(&s.description),
                Value::Json(s.links.clone()),
                Value::Time(now),
            ],
        )
    }

    /// Updates a service's fields (not its owners).
    pub fn update_service(&mut self, s: &ServiceRecord) -> Result<(), StoreError> {
        self.exec(
            "UPDATE services SET name = $2, criticality = $3, description = $4, links = $5 WHERE id = $1",
            &[
                Value::Int(s.id),
                Value::from(&s.name),
                Value::from(&s.criticality),
                Value::from(&s.description),
                Value::Json(s.links.clone()),
            ],
        )?;
        Ok(())
    }

    /// Replaces a service's owning teams per tier.
    pub fn set_service_owners(
        &mut self,
        service_id: i64,
        owners: &[(i32, i64)],
    ) -> Result<(), StoreError> {
        self.exec(
            "DELETE FROM service_owners WHERE service_id = $1",
            &[Value::Int(service_id)],
        )?;
        for (tier, team) in owners {
            self.exec(
                "INSERT INTO service_owners (service_id, tier_level, team_id) VALUES ($1, $2, $3)",
                &[
                    Value::Int(service_id),
                    Value::from(*tier),
                    Value::Int(*team),
                ],
            )?;
        }
        Ok(())
    }

    fn service_where(
        &mut self,
        clause: &str,
        p: Value,
    ) -> Result<Option<ServiceRecord>, StoreError> {
        let sql = format!(
            "SELECT id, name, criticality, description, links, created_at FROM services WHERE {clause}"
        );
        let Some(r) = self.one(&sql, &[p])? else {
            return Ok(None);
        };
        let id = r.i64(0)?;
        Ok(Some(ServiceRecord {
            id,
            name: r.text(1)?,
            criticality: r.text(2)?,
            description: r.text(3)?,
            links: r.json(4)?,
            owners: self.service_owners(id)?,
            created_at: r.time(5)?,
        }))
    }

    /// A service by id.
    pub fn service_by_id(&mut self, id: i64) -> Result<Option<ServiceRecord>, StoreError> {
        self.service_where("id = $1", Value::Int(id))
    }

    /// A service by name.
    pub fn service_by_name(&mut self, name: &str) -> Result<Option<ServiceRecord>, StoreError> {
        self.service_where("name = $1", Value::from(name))
    }

    /// Every service, by name.
    pub fn list_services(&mut self) -> Result<Vec<ServiceRecord>, StoreError> {
        let ids: Vec<i64> = self
            .rows("SELECT id FROM services ORDER BY name", &[])?
            .iter()
            .map(|r| r.i64(0))
            .collect::<Result<_, _>>()?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(s) = self.service_by_id(id)? {
                out.push(s);
            }
        }
        Ok(out)
    }

    /// (tier level, team id) owners of a service.
    pub fn service_owners(&mut self, service_id: i64) -> Result<Vec<(i32, i64)>, StoreError> {
        self.rows(
            "SELECT tier_level, team_id FROM service_owners WHERE service_id = $1 ORDER BY tier_level",
            &[Value::Int(service_id)],
        )?
        .iter()
        .map(|r| Ok((small(r.i64(0)?)?, r.i64(1)?)))
        .collect()
    }

    /// The team owning a service at a tier.
    pub fn service_owner(&mut self, service_id: i64, tier: i32) -> Result<Option<i64>, StoreError> {
        self.one(
            "SELECT team_id FROM service_owners WHERE service_id = $1 AND tier_level = $2",
            &[Value::Int(service_id), Value::from(tier)],
        )?
        .map(|r| r.i64(0))
        .transpose()
    }

    /// Inserts a category.
    pub fn insert_category(
        &mut self,
        name: &str,
        default_service_id: Option<i64>,
        default_team_id: Option<i64>,
    ) -> Result<i64, StoreError> {
        self.insert_id(
            "INSERT INTO categories (name, default_service_id, default_team_id) VALUES ($1, $2, $3) RETURNING id",
            &[Value::from(name), Value::from(default_service_id), Value::from(default_team_id)],
        )
    }

    /// Updates a category.
    pub fn update_category(&mut self, c: &CategoryRecord) -> Result<(), StoreError> {
        self.exec(
            "UPDATE categories SET name = $2, default_service_id = $3, default_team_id = $4 WHERE id = $1",
            &[Value::Int(c.id), Value::from(&c.name), Value::from(c.default_service_id), Value::from(c.default_team_id)],
        )?;
        Ok(())
    }

    /// A category by id.
    pub fn category_by_id(&mut self, id: i64) -> Result<Option<CategoryRecord>, StoreError> {
        self.one(
            "SELECT id, name, default_service_id, default_team_id FROM categories WHERE id = $1",
            &[Value::Int(id)],
        )?
        .map(|r| category_from_row(&r))
        .transpose()
    }

    /// A category by name.
    pub fn category_by_name(&mut self, name: &str) -> Result<Option<CategoryRecord>, StoreError> {
        self.one(
            "SELECT id, name, default_service_id, default_team_id FROM categories WHERE name = $1",
            &[Value::from(name)],
        )?
        .map(|r| category_from_row(&r))
        .transpose()
    }

    /// Every category, by name.
    pub fn list_categories(&mut self) -> Result<Vec<CategoryRecord>, StoreError> {
        self.rows(
            "SELECT id, name, default_service_id, default_team_id FROM categories ORDER BY name",
            &[],
        )?
        .iter()
        .map(category_from_row)
        .collect()
    }
}
