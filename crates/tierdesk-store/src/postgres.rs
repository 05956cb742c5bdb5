//! The PostgreSQL backend: a pool of synchronous clients with per-connection statement caches.
//!
//! Each write runs in its own transaction; PostgreSQL's own group commit merges the WAL
//! flushes of concurrent commits, and `synchronous_commit` stays on, so a commit is durable.

use std::collections::HashMap;
use std::sync::{Condvar, Mutex};

use postgres::types::{IsNull, Json, ToSql, Type, to_sql_checked};
use postgres::{Client, NoTls, Statement};

use crate::StoreError;
use crate::value::{Conn, Dialect, Row, Value};

/// Connections kept open at most.
const MAX_CONNECTIONS: usize = 48;

/// A pooled client and its prepared statements.
pub(crate) struct PgConn {
    client: Client,
    statements: HashMap<String, Statement>,
}

/// The PostgreSQL backend.
pub(crate) struct PgBackend {
    url: String,
    idle: Mutex<(Vec<PgConn>, usize)>,
    freed: Condvar,
}

impl PgBackend {
    /// Connects once to check the URL, keeping that connection.
    pub(crate) fn open(url: &str) -> Result<PgBackend, StoreError> {
        let backend = PgBackend {
            url: url.to_owned(),
            idle: Mutex::new((Vec::new(), 0)),
            freed: Condvar::new(),
        };
        let conn = backend.connect()?;
        if let Ok(mut g) = backend.idle.lock() {
            g.0.push(conn);
            g.1 = 1;
        }
        Ok(backend)
    }

    fn connect(&self) -> Result<PgConn, StoreError> {
        let client = Client::connect(&self.url, NoTls)?;
        Ok(PgConn {
            client,
            statements: HashMap::new(),
        })
    }

    fn take(&self) -> Result<PgConn, StoreError> {
        fn poisoned<T>(_: T) -> StoreError {
            StoreError::Other("connection pool lock poisoned".into())
        }
        let mut g = self.idle.lock().map_err(poisoned)?;
        loop {
            if let Some(c) = g.0.pop() {
                return Ok(c);
            }
            if g.1 < MAX_CONNECTIONS {
                g.1 += 1;
                drop(g);
                return self.connect().inspect_err(|_| {
                    if let Ok(mut g) = self.idle.lock() {
                        g.1 -= 1;
                    }
                });
            }
            let (guard, timeout) = self
                .freed
                .wait_timeout(g, std::time::Duration::from_secs(10))
                .map_err(poisoned)?;
            g = guard;
            if timeout.timed_out() && g.0.is_empty() {
                return Err(StoreError::Unavailable(
                    "no PostgreSQL connection free within 10 s".into(),
                ));
            }
        }
    }

    fn give_back(&self, conn: PgConn) {
        if let Ok(mut g) = self.idle.lock() {
            if conn.client.is_closed() {
                g.1 -= 1;
            } else {
                g.0.push(conn);
            }
        }
        self.freed.notify_one();
    }

    /// Runs `f` in one transaction; commits when it returns `Ok`.
    pub(crate) fn write<R, E: From<StoreError>>(
        &self,
        f: impl FnOnce(&mut dyn Conn) -> Result<R, E>,
    ) -> Result<R, E> {
        let mut conn = self.take()?;
        let out = (|| {
            conn.batch("BEGIN")?;
            match f(&mut conn) {
                Ok(r) => {
                    conn.batch("COMMIT")?;
                    Ok(r)
                }
                Err(e) => {
                    conn.batch("ROLLBACK")?;
                    Err(e)
                }
            }
        })();
        self.give_back(conn);
        out
    }

    /// Runs `f` outside an explicit transaction.
    pub(crate) fn read<R, E: From<StoreError>>(
        &self,
        f: impl FnOnce(&mut dyn Conn) -> Result<R, E>,
    ) -> Result<R, E> {
        let mut conn = self.take()?;
        let out = f(&mut conn);
        self.give_back(conn);
        out
    }
}

impl Drop for PgBackend {
    /// Closing a synchronous client blocks on its own runtime, which must not happen on an
    /// async worker thread; close the pooled clients on a plain thread.
    fn drop(&mut self) {
        let idle = self
            .idle
            .lock()
            .map(|mut g| std::mem::take(&mut g.0))
            .unwrap_or_default();
        let _ = std::thread::spawn(move || drop(idle)).join();
    }
}

impl PgConn {
    fn statement(&mut self, sql: &str) -> Result<Statement, StoreError> {
        if let Some(s) = self.statements.get(sql) {
            return Ok(s.clone());
        }
        let s = self.client.prepare(sql)?;
        if self.statements.len() > 256 {
            self.statements.clear();
        }
        self.statements.insert(sql.to_owned(), s.clone());
        Ok(s)
    }
}

impl ToSql for Value {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut postgres::types::private::BytesMut,
    ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match self {
            Value::Null => Ok(IsNull::Yes),
            Value::Int(i) => match *ty {
                Type::INT2 => i16::try_from(*i)?.to_sql(ty, out),
                Type::INT4 => i32::try_from(*i)?.to_sql(ty, out),
                Type::BOOL => (*i != 0).to_sql(ty, out),
                Type::FLOAT8 => (*i as f64).to_sql(ty, out),
                _ => i.to_sql(ty, out),
            },
            Value::Float(f) => f.to_sql(ty, out),
            Value::Text(s) => match *ty {
                Type::JSONB | Type::JSON => {
                    Json(serde_json::from_str::<serde_json::Value>(s)?).to_sql(ty, out)
                }
                _ => s.to_sql(ty, out),
            },
            Value::Bool(b) => b.to_sql(ty, out),
            Value::Time(t) => t.to_sql(ty, out),
            Value::Json(j) => match *ty {
                Type::TEXT | Type::VARCHAR => j.to_string().to_sql(ty, out),
                _ => Json(j).to_sql(ty, out),
            },
        }
    }

    fn accepts(_ty: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

fn from_pg(row: &postgres::Row, i: usize) -> Result<Value, StoreError> {
    let ty = row.columns()[i].type_().clone();
    let v = match ty {
        Type::INT2 => row
            .try_get::<_, Option<i16>>(i)?
            .map(|v| Value::Int(i64::from(v))),
        Type::INT4 => row
            .try_get::<_, Option<i32>>(i)?
            .map(|v| Value::Int(i64::from(v))),
        Type::INT8 => row.try_get::<_, Option<i64>>(i)?.map(Value::Int),
        Type::FLOAT4 => row
            .try_get::<_, Option<f32>>(i)?
            .map(|v| Value::Float(f64::from(v))),
        Type::FLOAT8 => row.try_get::<_, Option<f64>>(i)?.map(Value::Float),
        Type::BOOL => row.try_get::<_, Option<bool>>(i)?.map(Value::Bool),
        Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME => {
            row.try_get::<_, Option<String>>(i)?.map(Value::Text)
        }
        Type::TIMESTAMPTZ => row
            .try_get::<_, Option<chrono::DateTime<chrono::Utc>>>(i)?
            .map(Value::Time),
        Type::JSON | Type::JSONB => row
            .try_get::<_, Option<serde_json::Value>>(i)?
            .map(Value::Json),
        other => {
            return Err(StoreError::Decode(format!(
                "unsupported column type {other}"
            )));
        }
    };
    Ok(v.unwrap_or(Value::Null))
}

impl Conn for PgConn {
    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }

    fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64, StoreError> {
        let stmt = self.statement(sql)?;
        let refs: Vec<&(dyn ToSql + Sync)> =
            params.iter().map(|p| p as &(dyn ToSql + Sync)).collect();
        Ok(self.client.execute(&stmt, &refs)?)
    }

    fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>, StoreError> {
        let stmt = self.statement(sql)?;
        let refs: Vec<&(dyn ToSql + Sync)> =
            params.iter().map(|p| p as &(dyn ToSql + Sync)).collect();
        let rows = self.client.query(&stmt, &refs)?;
        rows.iter()
            .map(|r| {
                (0..r.len())
                    .map(|i| from_pg(r, i))
                    .collect::<Result<Vec<_>, _>>()
                    .map(Row)
            })
            .collect()
    }

    fn batch(&mut self, sql: &str) -> Result<(), StoreError> {
        self.client.batch_execute(sql)?;
        Ok(())
    }
}
