//! Users and API tokens.

use chrono::{DateTime, Utc};
use serde::Serialize;
use tierdesk_domain::Roles;

use super::Repo;
use crate::StoreError;
use crate::value::{Row, Value};

/// A user as stored (never with the password hash).
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct UserRecord {
    /// Id.
    pub id: i64,
    /// Unique login name.
    pub name: String,
    /// Display name.
    pub display_name: String,
    /// Email address.
    pub email: Option<String>,
    /// Roles.
    #[schema(value_type = Vec<String>)]
    pub roles: Roles,
    /// Disabled users cannot authenticate.
    pub disabled: bool,
    /// Team ids the user belongs to.
    pub teams: Vec<i64>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
}

/// What a new user is made from.
#[derive(Debug, Clone)]
pub struct NewUser {
    /// Unique login name.
    pub name: String,
    /// Display name.
    pub display_name: String,
    /// Email.
    pub email: Option<String>,
    /// Roles.
    pub roles: Roles,
    /// Argon2id PHC string.
    pub password_hash: Option<String>,
}

const USER_COLS: &str = "id, name, display_name, email, roles, disabled, created_at";

fn user_from_row(r: &Row) -> Result<UserRecord, StoreError> {
    Ok(UserRecord {
        id: r.i64(0)?,
        name: r.text(1)?,
        display_name: r.text(2)?,
        email: r.opt_text(3)?,
        roles: Roles::parse("roles", &r.text(4)?).map_err(|e| StoreError::Decode(e.to_string()))?,
        disabled: r.bool(5)?,
        teams: Vec::new(),
        created_at: r.time(6)?,
    })
}

impl Repo<'_> {
    /// Inserts a user; a taken name is [`StoreError::Unique`].
    pub fn insert_user(&mut self, u: &NewUser, now: DateTime<Utc>) -> Result<i64, StoreError> {
        self.insert_id(
            "INSERT INTO users (name, display_name, email, roles, password_hash, disabled, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
            &[
                Value::from(&u.name),
                Value::from(&u.display_name),
                Value::from(u.email.clone()),
                Value::from(u.roles.to_list()),
                Value::from(u.password_hash.clone()),
                Value::Bool(false),
                Value::Time(now),
            ],
        )
    }

    fn user_where(&mut self, clause: &str, param: Value) -> Result<Option<UserRecord>, StoreError> {
        let sql = format!("SELECT {USER_COLS} FROM users WHERE {clause}");
        let Some(row) = self.one(&sql, &[param])? else {
            return Ok(None);
        };
        let mut user = user_from_row(&row)?;
        user.teams = self.teams_of_user(user.id)?;
        Ok(Some(user))
    }

    /// A user by id.
    pub fn user_by_id(&mut self, id: i64) -> Result<Option<UserRecord>, StoreError> {
        self.user_where("id = $1", Value::Int(id))
    }

    /// A user by login name.
    pub fn user_by_name(&mut self, name: &str) -> Result<Option<UserRecord>, StoreError> {
        self.user_where("name = $1", Value::from(name))
    }

    /// The stored password hash of a user, for login.
    pub fn password_hash(&mut self, user_id: i64) -> Result<Option<String>, StoreError> {
        Ok(self
            .one(
                "SELECT password_hash FROM users WHERE id = $1",
                &[Value::Int(user_id)],
            )?
            .map(|r| r.opt_text(0))
            .transpose()?
            .flatten())
    }

    /// Users ordered by id, after `after_id`.
    pub fn list_users(&mut self, after_id: i64, limit: i64) -> Result<Vec<UserRecord>, StoreError> {
        let sql = format!("SELECT {USER_COLS} FROM users WHERE id > $1 ORDER BY id LIMIT $2");
        let rows = self.rows(&sql, &[Value::Int(after_id), Value::Int(limit)])?;
        let mut users = rows
            .iter()
            .map(user_from_row)
            .collect::<Result<Vec<_>, _>>()?;
        for u in &mut users {
            u.teams = self.teams_of_user(u.id)?;
        }
        Ok(users)
    }

    /// Changes a user's display name, email, roles, disabled flag or password hash.
    pub fn update_user(
        &mut self,
        u: &UserRecord,
        password_hash: Option<&str>,
    ) -> Result<(), StoreError> {
        self.exec(
            "UPDATE users SET display_name = $2, email = $3, roles = $4, disabled = $5 WHERE id = $1",
            &[
                Value::Int(u.id),
                Value::from(&u.display_name),
                Value::from(u.email.clone()),
                Value::from(u.roles.to_list()),
                Value::Bool(u.disabled),
            ],
        )?;
        if let Some(hash) = password_hash {
            self.exec(
                "UPDATE users SET password_hash = $2 WHERE id = $1",
                &[Value::Int(u.id), Value::from(hash)],
            )?;
        }
        Ok(())
    }

    /// Stores an API token's hash for a user.
    pub fn insert_token(
        &mut self,
        user_id: i64,
        token_hash: &str,
        label: &str,
        now: DateTime<Utc>,
    ) -> Result<i64, StoreError> {
        self.insert_id(
            "INSERT INTO api_tokens (user_id, token_hash, label, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
            &[Value::Int(user_id), Value::from(token_hash), Value::from(label), Value::Time(now)],
        )
    }

    /// The enabled user owning a live token with this hash.
    pub fn user_by_token_hash(
        &mut self,
        token_hash: &str,
    ) -> Result<Option<UserRecord>, StoreError> {
        let sql = "SELECT u.id, u.name, u.display_name, u.email, u.roles, u.disabled, u.created_at \
                   FROM api_tokens t JOIN users u ON u.id = t.user_id \
                   WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND u.disabled = FALSE";
        let Some(row) = self.one(sql, &[Value::from(token_hash)])? else {
            return Ok(None);
        };
        let mut user = user_from_row(&row)?;
        user.teams = self.teams_of_user(user.id)?;
        Ok(Some(user))
    }

    /// Revokes every token of a user.
    pub fn revoke_tokens(&mut self, user_id: i64, now: DateTime<Utc>) -> Result<u64, StoreError> {
        self.exec(
            "UPDATE api_tokens SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL",
            &[Value::Int(user_id), Value::Time(now)],
        )
    }
}
