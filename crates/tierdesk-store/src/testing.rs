//! Fresh databases for tests: a temporary SQLite file, and a uniquely named PostgreSQL database
//! when `TIERDESK_TEST_PG_URL` points at a server (dropped again when the guard drops).
//! With `TIERDESK_REQUIRE_PG=1` a missing server is an error instead of a skip.

use crate::DatabaseUrl;

/// A test database; removed when dropped.
pub struct TestDb {
    /// Its URL.
    pub url: DatabaseUrl,
    /// `sqlite` or `postgres`.
    pub backend: &'static str,
    _dir: Option<tempfile::TempDir>,
    pg_admin: Option<(String, String)>,
}

impl TestDb {
    /// A new SQLite file in a temporary directory.
    pub fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().unwrap_or_else(|e| fail(&format!("tempdir: {e}")));
        let url = DatabaseUrl::Sqlite(dir.path().join("tierdesk.db"));
        TestDb {
            url,
            backend: "sqlite",
            _dir: Some(dir),
            pg_admin: None,
        }
    }

    /// A new PostgreSQL database, or `None` when no server is configured.
    pub fn postgres() -> Option<TestDb> {
        let admin = match std::env::var("TIERDESK_TEST_PG_URL") {
            Ok(u) if !u.is_empty() => u,
            _ => {
                if std::env::var("TIERDESK_REQUIRE_PG").is_ok_and(|v| v == "1") {
                    fail("TIERDESK_REQUIRE_PG=1 but TIERDESK_TEST_PG_URL is not set");
                }
                return None;
            }
        };
        let name = format!("tierdesk_test_{}", random_suffix());
        let mut client = postgres::Client::connect(&admin, postgres::NoTls)
            .unwrap_or_else(|e| fail(&format!("connect {admin}: {e}")));
        client
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .unwrap_or_else(|e| fail(&format!("create database: {e}")));
        let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
        Some(TestDb {
            url: DatabaseUrl::Postgres(format!("{base}/{name}")),
            backend: "postgres",
            _dir: None,
            pg_admin: Some((admin, name)),
        })
    }

    /// SQLite, plus PostgreSQL when configured: the backends every store test runs on.
    pub fn all() -> Vec<TestDb> {
        let mut v = vec![TestDb::sqlite()];
        v.extend(TestDb::postgres());
        v
    }
}

fn fail(msg: &str) -> ! {
    #[allow(clippy::panic)]
    {
        panic!("test database: {msg}")
    }
}

fn random_suffix() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(std::process::id() as u128);
    format!("{:016x}", h.finish())
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some((admin, name)) = self.pg_admin.take() {
            // The synchronous client must not run inside an async runtime: use a plain thread.
            let _ = std::thread::spawn(move || {
                if let Ok(mut c) = postgres::Client::connect(&admin, postgres::NoTls) {
                    let _ =
                        c.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
                }
            })
            .join();
        }
    }
}
