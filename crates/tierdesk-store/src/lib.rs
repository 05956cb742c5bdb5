//! tierdesk storage: one store API, two backends (embedded SQLite, PostgreSQL).
//!
//! Every query is written once, with `$1` placeholders, against [`Conn`]; the backends differ
//! only in how they run it ([`sqlite`] and [`postgres`] modules) and in the few dialect
//! branches of [`Repo`]. Writes go through [`Store::write`], which commits durably before it
//! returns; reads through [`Store::read`].

mod error;
mod migrate;
mod postgres;
mod repo;
mod sqlite;
pub mod testing;
mod value;

use std::path::PathBuf;
use std::sync::mpsc;

pub use error::StoreError;
pub use migrate::{MIGRATIONS, Migration};
pub use repo::{
    AlertGroupRecord, AlertRecord, AlertUpsert, ArticleChange, ArticleRecord, ArticleVersion,
    AttemptRecord, BacklogRow, CategoryRecord, ConfigList, EventRecord, GroupBy, IdempotencyRecord,
    IntegrationRecord, NewArticle, NewService, NewUser, OutboxItem, Repo, ReportRow, ServiceRecord,
    SilenceRecord, TeamRecord, TicketArticle, TicketFilter, TicketSort, UserRecord, WebhookRecord,
};
pub use value::{Conn, Dialect, Row, Value};

use crate::postgres::PgBackend;
use crate::sqlite::{Job, SqliteBackend};

/// Where the data lives, parsed from `TIERDESK_DATABASE_URL`.
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// `sqlite://path` or a plain path.
    Sqlite(PathBuf),
    /// `postgres://…` / `postgresql://…`.
    Postgres(String),
}

impl std::fmt::Debug for DatabaseUrl {
    /// Never prints a PostgreSQL password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DatabaseUrl::Sqlite(p) => write!(f, "sqlite://{}", p.display()),
            DatabaseUrl::Postgres(url) => write!(f, "{}", redact_url(url)),
        }
    }
}

/// Replaces the password of a `scheme://user:password@host` URL with `***`.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    match rest.split_once('@') {
        Some((cred, host)) => match cred.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

impl DatabaseUrl {
    /// Parses `sqlite://path`, `sqlite:path`, `postgres://…`, `postgresql://…` or a bare path.
    pub fn parse(text: &str) -> Result<DatabaseUrl, StoreError> {
        let text = text.trim();
        if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            return Ok(DatabaseUrl::Postgres(text.to_owned()));
        }
        let path = text
            .strip_prefix("sqlite://")
            .or_else(|| text.strip_prefix("sqlite:"))
            .unwrap_or(text);
        if path.is_empty() || text.contains("://") && !text.starts_with("sqlite://") {
            return Err(StoreError::BadUrl(format!(
                "'{}' is neither sqlite://PATH nor postgres://…",
                redact_url(text)
            )));
        }
        Ok(DatabaseUrl::Sqlite(PathBuf::from(path)))
    }
}

enum Backend {
    Sqlite(SqliteBackend, PathBuf),
    Postgres(PgBackend),
}

/// The store: open it once and share it (it is `Sync`).
pub struct Store {
    backend: Backend,
}

struct WriteJob<F, R, E> {
    f: Option<F>,
    out: Option<Result<R, E>>,
    reply: mpsc::SyncSender<Result<R, E>>,
}

impl<F, R, E> Job for WriteJob<F, R, E>
where
    F: FnOnce(&mut Repo<'_>) -> Result<R, E> + Send,
    R: Send,
    E: From<StoreError> + Send,
{
    fn run(&mut self, conn: &mut dyn Conn) -> bool {
        let Some(f) = self.f.take() else { return false };
        let out = f(&mut Repo::new(conn));
        let keep = out.is_ok();
        self.out = Some(out);
        keep
    }

    fn complete(self: Box<Self>, commit: Result<(), StoreError>) {
        let out = match (commit, self.out) {
            (Err(e), _) => Err(E::from(e)),
            (Ok(()), Some(out)) => out,
            (Ok(()), None) => Err(E::from(StoreError::Other("write job did not run".into()))),
        };
        let _ = self.reply.send(out);
    }
}

impl Store {
    /// Opens the database named by `url` (SQLite file created when missing).
    pub fn open(url: &DatabaseUrl) -> Result<Store, StoreError> {
        let backend = match url {
            DatabaseUrl::Sqlite(path) => Backend::Sqlite(SqliteBackend::open(path)?, path.clone()),
            DatabaseUrl::Postgres(url) => Backend::Postgres(PgBackend::open(url)?),
        };
        Ok(Store { backend })
    }

    /// `sqlite` or `postgres`.
    pub fn backend_name(&self) -> &'static str {
        match self.backend {
            Backend::Sqlite(..) => "sqlite",
            Backend::Postgres(_) => "postgres",
        }
    }

    /// Applies pending migrations; returns the versions applied now.
    pub fn migrate(&self, now: chrono::DateTime<chrono::Utc>) -> Result<Vec<i64>, StoreError> {
        match &self.backend {
            Backend::Sqlite(_, path) => {
                let conn = rusqlite::Connection::open(path)?;
                conn.busy_timeout(std::time::Duration::from_secs(10))?;
                conn.execute_batch(
                    "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;",
                )?;
                migrate::migrate(&mut sqlite::SqliteConn(&conn), now)
            }
            Backend::Postgres(pg) => pg.read(|conn| migrate::migrate(conn, now)),
        }
    }

    /// Runs `f` in a transaction and commits durably (fsync) before returning its result.
    /// When `f` fails nothing it wrote is kept. On SQLite concurrent calls share one commit.
    pub fn write<R, E, F>(&self, f: F) -> Result<R, E>
    where
        F: FnOnce(&mut Repo<'_>) -> Result<R, E> + Send + 'static,
        R: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        match &self.backend {
            Backend::Sqlite(sqlite, _) => {
                let (tx, rx) = mpsc::sync_channel(1);
                sqlite.submit(Box::new(WriteJob {
                    f: Some(f),
                    out: None,
                    reply: tx,
                }))?;
                rx.recv().map_err(|_| {
                    E::from(StoreError::Unavailable("the SQLite writer stopped".into()))
                })?
            }
            Backend::Postgres(pg) => pg.write(|conn| f(&mut Repo::new(conn))),
        }
    }

    /// Runs `f` on a read connection (one snapshot on SQLite).
    pub fn read<R, E: From<StoreError>>(
        &self,
        f: impl FnOnce(&mut Repo<'_>) -> Result<R, E>,
    ) -> Result<R, E> {
        match &self.backend {
            Backend::Sqlite(sqlite, _) => sqlite.read(|conn| f(&mut Repo::new(conn))),
            Backend::Postgres(pg) => pg.read(|conn| f(&mut Repo::new(conn))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_parse_and_redact() {
        assert_eq!(
            DatabaseUrl::parse("sqlite://./x.db").unwrap(),
            DatabaseUrl::Sqlite("./x.db".into())
        );
        assert_eq!(
            DatabaseUrl::parse("x.db").unwrap(),
            DatabaseUrl::Sqlite("x.db".into())
        );
        assert!(matches!(
            DatabaseUrl::parse("postgres://u:p@h/d").unwrap(),
            DatabaseUrl::Postgres(_)
        ));
        assert!(DatabaseUrl::parse("mysql://h/d").is_err());
        assert_eq!(
            format!(
                "{:?}",
                DatabaseUrl::parse("postgres://u:secret@h/d").unwrap()
            ),
            "postgres://u:***@h/d"
        );
    }
}
