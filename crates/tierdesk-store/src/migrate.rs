//! Versioned migrations, embedded in the binary: `migrations/sqlite/` and `migrations/postgres/`
//! hold files of the same names. Applied files are never edited; a change is a new file.

use crate::StoreError;
use crate::value::{Conn, Dialect, Value};

/// One migration: version, name, SQL per backend.
pub struct Migration {
    /// Increasing version number.
    pub version: i64,
    /// File stem.
    pub name: &'static str,
    /// SQLite text.
    pub sqlite: &'static str,
    /// PostgreSQL text.
    pub postgres: &'static str,
}

/// Every migration, in order.
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "0001_core",
        sqlite: include_str!("../migrations/sqlite/0001_core.sql"),
        postgres: include_str!("../migrations/postgres/0001_core.sql"),
    },
    Migration {
        version: 2,
        name: "0002_sla_engine",
        sqlite: include_str!("../migrations/sqlite/0002_sla_engine.sql"),
        postgres: include_str!("../migrations/postgres/0002_sla_engine.sql"),
    },
    Migration {
        version: 3,
        name: "0003_kb_versions",
        sqlite: include_str!("../migrations/sqlite/0003_kb_versions.sql"),
        postgres: include_str!("../migrations/postgres/0003_kb_versions.sql"),
    },
    Migration {
        version: 4,
        name: "0004_kb_search",
        sqlite: include_str!("../migrations/sqlite/0004_kb_search.sql"),
        postgres: include_str!("../migrations/postgres/0004_kb_search.sql"),
    },
    Migration {
        version: 5,
        name: "0005_alert_intake",
        sqlite: include_str!("../migrations/sqlite/0005_alert_intake.sql"),
        postgres: include_str!("../migrations/postgres/0005_alert_intake.sql"),
    },
];

/// Applies every migration not yet applied, each in its own transaction. Returns the versions
/// applied now.
pub fn migrate(
    conn: &mut dyn Conn,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<i64>, StoreError> {
    let ts = match conn.dialect() {
        Dialect::Sqlite => "INTEGER",
        Dialect::Postgres => "TIMESTAMPTZ",
    };
    conn.batch(&format!(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at {ts} NOT NULL)"
    ))?;
    if conn.dialect() == Dialect::Postgres {
        // Several app nodes may start at once: one migrates, the others wait for it.
        conn.batch("SELECT pg_advisory_lock(7283519)")?;
    }
    let result = apply_pending(conn, now);
    if conn.dialect() == Dialect::Postgres {
        conn.batch("SELECT pg_advisory_unlock(7283519)")?;
    }
    result
}

fn apply_pending(
    conn: &mut dyn Conn,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<i64>, StoreError> {
    let done: Vec<i64> = conn
        .query(
            "SELECT version FROM schema_migrations ORDER BY version",
            &[],
        )?
        .iter()
        .map(|r| r.i64(0))
        .collect::<Result<_, _>>()?;
    let mut applied = Vec::new();
    for m in MIGRATIONS.iter().filter(|m| !done.contains(&m.version)) {
        let sql = match conn.dialect() {
            Dialect::Sqlite => m.sqlite,
            Dialect::Postgres => m.postgres,
        };
        let fail = |e: StoreError| StoreError::Migration {
            version: m.version,
            message: e.to_string(),
        };
        conn.batch("BEGIN").map_err(fail)?;
        let step = conn.batch(sql).and_then(|()| {
            conn.execute(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
                &[Value::Int(m.version), Value::from(m.name), Value::Time(now)],
            )
        });
        match step {
            Ok(_) => conn.batch("COMMIT").map_err(fail)?,
            Err(e) => {
                let _ = conn.batch("ROLLBACK");
                return Err(fail(e));
            }
        }
        applied.push(m.version);
    }
    Ok(applied)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_trees_hold_the_same_migrations() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
        let list = |sub: &str| -> Vec<String> {
            let mut v: Vec<String> = std::fs::read_dir(dir.join(sub))
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect();
            v.sort();
            v
        };
        let sqlite = list("sqlite");
        assert_eq!(sqlite, list("postgres"));
        let embedded: Vec<String> = MIGRATIONS
            .iter()
            .map(|m| format!("{}.sql", m.name))
            .collect();
        assert_eq!(
            sqlite, embedded,
            "every migration file must be embedded in MIGRATIONS"
        );
    }
}
