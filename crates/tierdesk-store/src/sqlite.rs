//! The embedded SQLite backend.
//!
//! One writer thread owns the only write connection and commits in groups: it takes every
//! write job waiting in its queue (up to [`MAX_BATCH`]), runs each inside its own SAVEPOINT in
//! one `BEGIN IMMEDIATE` transaction, commits once (WAL, `synchronous=FULL`: the commit is
//! fsynced) and only then answers every job. A job that fails rolls back to its savepoint and
//! leaves the others untouched. Readers use a small pool of `query_only` connections.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::mpsc;

use rusqlite::types::{Value as SqlValue, ValueRef};

use crate::StoreError;
use crate::value::{Conn, Dialect, Row, Value, to_micros};

/// Most write jobs committed in one transaction.
pub const MAX_BATCH: usize = 512;

/// A write job as the writer thread sees it: run inside the batch, then learn the commit result.
pub(crate) trait Job: Send {
    /// Runs the job; `true` keeps its writes, `false` rolls them back.
    fn run(&mut self, conn: &mut dyn Conn) -> bool;
    /// Delivers the result once the batch committed (or failed to).
    fn complete(self: Box<Self>, commit: Result<(), StoreError>);
}

/// The SQLite backend: a writer thread plus a reader pool.
pub(crate) struct SqliteBackend {
    path: PathBuf,
    jobs: mpsc::Sender<Box<dyn Job>>,
    readers: Mutex<Vec<rusqlite::Connection>>,
}

fn open_conn(path: &Path, read_only: bool) -> Result<rusqlite::Connection, StoreError> {
    let conn = rusqlite::Connection::open(path)?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    conn.execute_batch(
        "PRAGMA journal_mode=WAL;
         PRAGMA synchronous=FULL;
         PRAGMA foreign_keys=ON;",
    )?;
    if read_only {
        conn.execute_batch("PRAGMA query_only=1;")?;
    }
    conn.set_prepared_statement_cache_capacity(64);
    Ok(conn)
}

impl SqliteBackend {
    /// Opens (creating if needed) the database file and starts the writer thread.
    pub(crate) fn open(path: &Path) -> Result<SqliteBackend, StoreError> {
        if let Some(dir) = path.parent()
            && !dir.as_os_str().is_empty()
            && !dir.exists()
        {
            return Err(StoreError::BadUrl(format!(
                "directory {} does not exist",
                dir.display()
            )));
        }
        let writer = open_conn(path, false)?;
        let (tx, rx) = mpsc::channel::<Box<dyn Job>>();
        std::thread::Builder::new()
            .name("tierdesk-sqlite-writer".into())
            .spawn(move || writer_loop(writer, rx))
            .map_err(|e| StoreError::Other(format!("cannot start writer thread: {e}")))?;
        Ok(SqliteBackend {
            path: path.to_owned(),
            jobs: tx,
            readers: Mutex::new(Vec::new()),
        })
    }

    /// Queues a write job for the writer thread.
    pub(crate) fn submit(&self, job: Box<dyn Job>) -> Result<(), StoreError> {
        self.jobs
            .send(job)
            .map_err(|_| StoreError::Unavailable("the SQLite writer has stopped".into()))
    }

    /// Runs `f` on a pooled read connection inside a read transaction (one snapshot).
    pub(crate) fn read<R, E: From<StoreError>>(
        &self,
        f: impl FnOnce(&mut dyn Conn) -> Result<R, E>,
    ) -> Result<R, E> {
        let pooled = self.readers.lock().map(|mut p| p.pop()).unwrap_or(None);
        let conn = match pooled {
            Some(c) => c,
            None => open_conn(&self.path, true)?,
        };
        conn.execute_batch("BEGIN").map_err(StoreError::from)?;
        let mut c = SqliteConn(&conn);
        let out = f(&mut c);
        let end = conn.execute_batch("COMMIT");
        if end.is_ok()
            && let Ok(mut pool) = self.readers.lock()
            && pool.len() < 16
        {
            pool.push(conn);
        }
        out
    }
}

fn writer_loop(conn: rusqlite::Connection, rx: mpsc::Receiver<Box<dyn Job>>) {
    while let Ok(first) = rx.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let result = run_batch(&conn, &mut batch);
        if result.is_err() {
            let _ = conn.execute_batch("ROLLBACK");
        }
        for job in batch {
            job.complete(result.clone());
        }
    }
}

fn run_batch(conn: &rusqlite::Connection, batch: &mut [Box<dyn Job>]) -> Result<(), StoreError> {
    conn.execute_batch("BEGIN IMMEDIATE")?;
    for job in batch.iter_mut() {
        conn.execute_batch("SAVEPOINT job")?;
        // A panicking job must not take the writer thread (and every later write) down with it:
        // its savepoint is rolled back and it answers with an error.
        let keep = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            job.run(&mut SqliteConn(conn))
        }))
        .unwrap_or(false);
        if !keep {
            conn.execute_batch("ROLLBACK TO job")?;
        }
        conn.execute_batch("RELEASE job")?;
    }
    conn.execute_batch("COMMIT")?;
    Ok(())
}

/// Rewrites `$1` placeholders to SQLite's explicit `?1`, leaving string literals alone.
fn placeholders(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut in_str = false;
    for ch in sql.chars() {
        if ch == '\'' {
            in_str = !in_str;
        }
        if ch == '$' && !in_str {
            out.push('?');
        } else {
            out.push(ch);
        }
    }
    out
}

fn to_sql(v: &Value) -> SqlValue {
    match v {
        Value::Null => SqlValue::Null,
        Value::Int(i) => SqlValue::Integer(*i),
        Value::Float(f) => SqlValue::Real(*f),
        Value::Text(s) => SqlValue::Text(s.clone()),
        Value::Bool(b) => SqlValue::Integer(i64::from(*b)),
        Value::Time(t) => SqlValue::Integer(to_micros(*t)),
        Value::Json(j) => SqlValue::Text(j.to_string()),
    }
}

fn from_ref(v: ValueRef<'_>) -> Value {
    match v {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(i) => Value::Int(i),
        ValueRef::Real(f) => Value::Float(f),
        ValueRef::Text(t) | ValueRef::Blob(t) => {
            Value::Text(String::from_utf8_lossy(t).into_owned())
        }
    }
}

/// A borrowed SQLite connection speaking the shared SQL.
pub(crate) struct SqliteConn<'a>(pub(crate) &'a rusqlite::Connection);

impl Conn for SqliteConn<'_> {
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64, StoreError> {
        let mut stmt = self.0.prepare_cached(&placeholders(sql))?;
        let n = stmt.execute(rusqlite::params_from_iter(params.iter().map(to_sql)))?;
        Ok(n as u64)
    }

    fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>, StoreError> {
        let mut stmt = self.0.prepare_cached(&placeholders(sql))?;
        let cols = stmt.column_count();
        let mut rows = stmt.query(rusqlite::params_from_iter(params.iter().map(to_sql)))?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            let mut vals = Vec::with_capacity(cols);
            for i in 0..cols {
                vals.push(from_ref(r.get_ref(i)?));
            }
            out.push(Row(vals));
        }
        Ok(out)
    }

    fn batch(&mut self, sql: &str) -> Result<(), StoreError> {
        self.0.execute_batch(sql)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_rewrite_outside_strings() {
        assert_eq!(placeholders("SELECT $1, '$2', $10"), "SELECT ?1, '$2', ?10");
    }
}
