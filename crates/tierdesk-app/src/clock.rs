//! The one clock. Everything else takes `now` as an argument.

use std::sync::Mutex;

use chrono::{DateTime, DurationRound, TimeDelta, Utc};

/// Where `now` comes from.
pub trait Clock: Send + Sync {
    /// The current time, truncated to milliseconds so stored and replayed values compare equal.
    fn now(&self) -> DateTime<Utc>;
}

/// The wall clock.
#[derive(Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    #[allow(clippy::disallowed_methods)]
    fn now(&self) -> DateTime<Utc> {
        let now = Utc::now();
        now.duration_trunc(TimeDelta::milliseconds(1))
            .unwrap_or(now)
    }
}

/// A clock tests set and advance by hand.
#[derive(Debug)]
pub struct ManualClock(Mutex<DateTime<Utc>>);

impl ManualClock {
    /// Starts at `t`.
    pub fn new(t: DateTime<Utc>) -> ManualClock {
        ManualClock(Mutex::new(t))
    }

    /// Moves the clock forward.
    pub fn advance(&self, by: TimeDelta) {
        if let Ok(mut t) = self.0.lock() {
            *t += by;
        }
    }

    /// Sets the clock.
    pub fn set(&self, to: DateTime<Utc>) {
        if let Ok(mut t) = self.0.lock() {
            *t = to;
        }
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        self.0.lock().map(|t| *t).unwrap_or_default()
    }
}
