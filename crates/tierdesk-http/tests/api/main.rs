//! HTTP integration tests: the real router on a temporary database (SQLite, and PostgreSQL when
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! `TIERDESK_TEST_PG_URL` is set), driven over TCP.

mod access;
mod audit;
mod bad_input;
mod harness;
mod idempotency;
mod intake;
mod kb;
mod reports;
mod scenarios;
mod search;
mod sla;
