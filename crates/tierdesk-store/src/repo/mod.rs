//! The domain store API: business-shaped methods over one connection or transaction.
//!
//! A [`Repo`] is handed to the closures of [`crate::Store::write`] and [`crate::Store::read`].

mod alerts;
mod articles;
mod org;
mod reports;
mod sla;
mod tickets;
mod users;
mod webhooks;

pub use alerts::{AlertGroupRecord, AlertRecord, AlertUpsert, IntegrationRecord, SilenceRecord};
pub use articles::{ArticleChange, ArticleRecord, ArticleVersion, NewArticle, TicketArticle};
pub use org::{CategoryRecord, NewService, ServiceRecord, TeamRecord};
pub use reports::{BacklogRow, GroupBy, ReportRow};
pub use sla::ConfigList;
pub use tickets::{EventRecord, IdempotencyRecord, TicketFilter, TicketSort};
pub use users::{NewUser, UserRecord};
pub use webhooks::{AttemptRecord, OutboxItem, WebhookRecord};

use crate::StoreError;
use crate::value::{Conn, Dialect, Row, Value};

/// Business-shaped store methods over one connection (inside a transaction for writes).
pub struct Repo<'a> {
    conn: &'a mut dyn Conn,
}

impl<'a> Repo<'a> {
    /// Wraps a connection.
    pub fn new(conn: &'a mut dyn Conn) -> Repo<'a> {
        Repo { conn }
    }

    /// The backend's dialect.
    pub fn dialect(&self) -> Dialect {
        self.conn.dialect()
    }

    /// Raw access for tests and tools (integrity checks, trigger tests).
    pub fn conn(&mut self) -> &mut dyn Conn {
        self.conn
    }

    fn exec(&mut self, sql: &str, params: &[Value]) -> Result<u64, StoreError> {
        self.conn.execute(sql, params)
    }

    fn rows(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>, StoreError> {
        self.conn.query(sql, params)
    }

    fn one(&mut self, sql: &str, params: &[Value]) -> Result<Option<Row>, StoreError> {
        Ok(self.conn.query(sql, params)?.into_iter().next())
    }

    /// Inserts and returns the new row's `id`.
    fn insert_id(&mut self, sql: &str, params: &[Value]) -> Result<i64, StoreError> {
        let row = self
            .one(sql, params)?
            .ok_or_else(|| StoreError::Other("INSERT … RETURNING id returned no row".into()))?;
        row.i64(0)
    }

    /// ` FOR UPDATE` on PostgreSQL (row lock for read-modify-write); nothing on SQLite, whose
    /// single writer already serialises writes.
    fn for_update(&self) -> &'static str {
        match self.dialect() {
            Dialect::Sqlite => "",
            Dialect::Postgres => " FOR UPDATE",
        }
    }

    /// Case-insensitive LIKE.
    fn ilike(&self) -> &'static str {
        match self.dialect() {
            Dialect::Sqlite => "LIKE",
            Dialect::Postgres => "ILIKE",
        }
    }
}

/// Decodes an enum stored as its API name.
fn parse_enum<T>(
    text: &str,
    parse: impl Fn(&'static str, &str) -> Result<T, tierdesk_domain::DomainError>,
) -> Result<T, StoreError> {
    parse("column", text).map_err(|e| StoreError::Decode(e.to_string()))
}
