//! Authentication: API tokens (random, stored as SHA-256, looked up by hash) and Argon2id
//! passwords.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};
use tierdesk_domain::org::check_name;
use tierdesk_domain::{Role, Roles};
use tierdesk_store::{NewUser, StoreError, UserRecord};

use crate::{App, AppError, Principal};

/// Prefix that makes a leaked token easy to recognise (and to scan for).
pub const TOKEN_PREFIX: &str = "tdk_";

/// A new random token: 256 bits, URL-safe.
pub fn generate_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    format!(
        "{TOKEN_PREFIX}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}

/// The stored form of a token: hex SHA-256. Tokens have 256 random bits, so a fast hash is
/// safe, and lookup by hash costs one indexed query per request.
pub fn hash_token(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Argon2id PHC string of a password.
pub fn hash_password(password: &str) -> Result<String, AppError> {
    if password.chars().count() < 8 {
        return Err(AppError::invalid(
            "password",
            "must be at least 8 characters",
        ));
    }
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AppError::Store(StoreError::Other(format!("password hashing failed: {e}"))))
}

/// Checks a password against a stored PHC string.
pub fn verify_password(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

/// Resolves a bearer token to its user.
pub fn authenticate(app: &App, token: &str) -> Result<Principal, AppError> {
    if !token.starts_with(TOKEN_PREFIX) || token.len() > 200 {
        return Err(AppError::Unauthorized("invalid token".into()));
    }
    let hash = hash_token(token);
    app.store
        .read(|r| r.user_by_token_hash(&hash))?
        .map(Principal::from)
        .ok_or_else(|| AppError::Unauthorized("invalid or revoked token".into()))
}

/// Input of [`add_user`].
#[derive(Debug, Clone)]
pub struct AddUser {
    /// Login name.
    pub name: String,
    /// Display name (defaults to the name).
    pub display_name: Option<String>,
    /// Email.
    pub email: Option<String>,
    /// Roles.
    pub roles: Roles,
    /// Clear-text password, hashed here.
    pub password: Option<String>,
}

/// Creates a user. A taken name is a conflict.
pub fn add_user(app: &App, u: AddUser) -> Result<UserRecord, AppError> {
    let name = check_name("name", &u.name)?;
    if name.contains(char::is_whitespace) {
        return Err(AppError::invalid("name", "must not contain spaces"));
    }
    if u.roles.0.is_empty() {
        return Err(AppError::invalid("roles", "give at least one role"));
    }
    let password_hash = u.password.as_deref().map(hash_password).transpose()?;
    let display_name = match u.display_name {
        Some(d) => check_name("display_name", &d)?,
        None => name.clone(),
    };
    let new = NewUser {
        name: name.clone(),
        display_name,
        email: u.email,
        roles: u.roles,
        password_hash,
    };
    let now = app.now();
    let id = app
        .store
        .write(move |r| r.insert_user(&new, now))
        .map_err(|e| match e {
            StoreError::Unique(_) => {
                AppError::Conflict(format!("a user named '{name}' already exists"))
            }
            other => AppError::Store(other),
        })?;
    app.store
        .read(|r| r.user_by_id(id))?
        .ok_or_else(|| AppError::NotFound(format!("user {id}")))
}

/// Creates an API token for a user, creating the user (with `role`) when missing. Returns the
/// clear token, which is shown once and never stored.
pub fn create_token(
    app: &App,
    user: &str,
    role: Option<Role>,
    label: &str,
) -> Result<String, AppError> {
    let existing = app.store.read(|r| r.user_by_name(user))?;
    let user = match existing {
        Some(u) => {
            if let Some(role) = role
                && !u.roles.has(role)
            {
                let mut u2 = u.clone();
                u2.roles =
                    Roles::parse("role", &format!("{},{}", u.roles.to_list(), role.as_str()))?;
                app.store.write(move |r| r.update_user(&u2, None))?;
            }
            u
        }
        None => add_user(
            app,
            AddUser {
                name: user.to_owned(),
                display_name: None,
                email: None,
                roles: Roles(vec![role.unwrap_or(Role::Requester)]),
                password: None,
            },
        )?,
    };
    let token = generate_token();
    let hash = hash_token(&token);
    let label = label.to_owned();
    let now = app.now();
    app.store
        .write(move |r| r.insert_token(user.id, &hash, &label, now))?;
    Ok(token)
}

/// Exchanges a name and password for a new API token. Unknown user and wrong password give the
/// same answer.
pub fn login(app: &App, name: &str, password: &str) -> Result<String, AppError> {
    let refused = || AppError::Unauthorized("unknown user or wrong password".into());
    let user = app.store.read(|r| r.user_by_name(name))?;
    let phc = match &user {
        Some(u) if !u.disabled => app.store.read(|r| r.password_hash(u.id))?,
        _ => None,
    };
    // Verify against a fixed hash when the user is unknown so both paths cost the same.
    let ok = match &phc {
        Some(phc) => verify_password(password, phc),
        None => {
            let _ = verify_password(password, DUMMY_PHC);
            false
        }
    };
    let Some(user) = user.filter(|_| ok) else {
        return Err(refused());
    };
    let token = generate_token();
    let hash = hash_token(&token);
    let now = app.now();
    app.store
        .write(move |r| r.insert_token(user.id, &hash, "login", now))?;
    Ok(token)
}

/// An Argon2id hash of a random password, verified against when the user does not exist.
const DUMMY_PHC: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$2P8bMKCv8NPBmrmcpbUOyrHIQAHrZ6qpS1M2Mh7Ei7c";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_hashed() {
        let a = generate_token();
        let b = generate_token();
        assert_ne!(a, b);
        assert!(a.len() >= TOKEN_PREFIX.len() + 43, "256 bits of base64");
        assert_eq!(hash_token(&a).len(), 64);
        assert_ne!(hash_token(&a), hash_token(&b));
    }

    #[test]
    fn argon2id_round_trip() {
        let phc = hash_password("correct horse").unwrap();
        assert!(phc.starts_with("$argon2id$"));
        assert!(verify_password("correct horse", &phc));
        assert!(!verify_password("wrong horse", &phc));
        assert!(hash_password("short").is_err());
    }
}
