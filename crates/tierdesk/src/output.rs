//! Printing results and one-line errors with a hint.

use tierdesk_app::{AppError, StoreError};

/// Writes one line to stdout; a closed pipe (`tierdesk … | head`) ends output quietly.
pub fn line(text: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    if writeln!(out, "{text}").is_err() {
        std::process::exit(0);
    }
}

/// Prints `value` as JSON, or the `human` text.
pub fn print<T: serde::Serialize>(json: bool, value: &T, human: impl FnOnce() -> String) {
    if json {
        line(&serde_json::to_string_pretty(value).unwrap_or_default());
    } else {
        line(&human());
    }
}

fn hint(e: &anyhow::Error) -> Option<&'static str> {
    if let Some(app) = e.downcast_ref::<AppError>() {
        return Some(match app {
            AppError::Unauthorized(_) => "create a token with: tierdesk token create --user NAME",
            AppError::Forbidden(_) => "run as a user with the needed role (--as NAME)",
            AppError::NotFound(_) => "check the key or id with: tierdesk ticket list",
            AppError::Invalid { .. } => "fix the named field and run again",
            AppError::InvalidTransition { .. } => "choose one of the allowed statuses",
            AppError::Conflict(_) => "reload the record and try again",
            AppError::PreconditionFailed(_) => "reload the ticket and try again",
            AppError::IdempotencyMismatch => "use a new Idempotency-Key for a different request",
            AppError::Store(StoreError::BadUrl(_)) => {
                "set TIERDESK_DATABASE_URL=sqlite://./tierdesk.db or postgres://user@host/db"
            }
            AppError::Store(StoreError::Unavailable(_)) => {
                "is the database reachable? check TIERDESK_DATABASE_URL"
            }
            AppError::Store(_) => "see the server log; run 'tierdesk migrate' if the schema is old",
            AppError::Search(_) => {
                "stop the server using the index, or run 'tierdesk kb reindex' to rebuild it"
            }
        });
    }
    if e.downcast_ref::<std::io::Error>().is_some() {
        return Some("is the address in use, or the path writable?");
    }
    None
}

/// `error: <what>; hint: <what to do>` on one line.
pub fn error_line(e: &anyhow::Error) -> String {
    let msg = e.to_string().replace('\n', " ");
    match hint(e) {
        Some(h) => format!("error: {msg} (hint: {h})"),
        None => format!("error: {msg}"),
    }
}
