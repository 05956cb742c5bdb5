//! SLA clocks (SPEC §4), basic form: response per tier, resolution per priority, 24×7.
//!
//! A [`Clock`] record keeps everything a later calendar/pause/breach engine needs (started,
//! due, target, paused total, stopped, warned, breached) so those can be added without
//! changing the stored shape.

use serde::{Deserialize, Serialize};

use crate::Timestamp;
use crate::ticket::Priority;

/// Which target a clock measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClockKind {
    /// Time for a tier to respond after the ticket entered it.
    Response,
    /// Time from creation to resolution.
    Resolution,
}

/// Where a clock stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClockState {
    /// Counting down.
    Running,
    /// Not counting (pending); resumes later.
    Paused,
    /// Stopped before its due time.
    Met,
    /// Stopped after its due time, or passed due while running.
    Breached,
    /// Stopped because the ticket was closed or cancelled before the target applied.
    Cancelled,
}

/// One SLA clock of a ticket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Clock {
    /// Response or resolution.
    pub kind: ClockKind,
    /// Tier level for response clocks.
    pub tier: Option<i32>,
    /// Current state.
    pub state: ClockState,
    /// When it started.
    pub started_at: Timestamp,
    /// Target length in seconds of counted time.
    pub target_secs: i64,
    /// When it is (or was) due.
    pub due_at: Timestamp,
    /// Seconds spent paused so far.
    pub paused_secs: i64,
    /// When it stopped (met, breached or cancelled).
    pub stopped_at: Option<Timestamp>,
    /// When the warning fired (set by the SLA engine).
    pub warned_at: Option<Timestamp>,
    /// When the breach fired (set by the SLA engine).
    pub breached_at: Option<Timestamp>,
}

impl Clock {
    /// Starts a 24×7 clock at `now`.
    pub fn start(kind: ClockKind, tier: Option<i32>, target_secs: i64, now: Timestamp) -> Clock {
        Clock {
            kind,
            tier,
            state: ClockState::Running,
            started_at: now,
            target_secs,
            due_at: now + chrono::Duration::seconds(target_secs),
            paused_secs: 0,
            stopped_at: None,
            warned_at: None,
            breached_at: None,
        }
    }

    /// True while the clock counts down.
    pub fn is_running(&self) -> bool {
        self.state == ClockState::Running
    }

    /// Stops the clock: met when on time, breached when late.
    pub fn stop(&mut self, now: Timestamp) {
        self.state = if now <= self.due_at {
            ClockState::Met
        } else {
            ClockState::Breached
        };
        self.stopped_at = Some(now);
    }

    /// Stops the clock without a verdict (ticket closed or cancelled while it ran).
    pub fn cancel(&mut self, now: Timestamp) {
        self.state = ClockState::Cancelled;
        self.stopped_at = Some(now);
    }

    /// Starts a stopped resolution clock again (reopen); its due time is unchanged.
    pub fn resume_after_stop(&mut self) {
        if matches!(self.state, ClockState::Met | ClockState::Breached) {
            self.state = ClockState::Running;
            self.stopped_at = None;
        }
    }

    /// Changes the target (priority change) and recomputes the due time.
    pub fn retarget(&mut self, target_secs: i64) {
        self.target_secs = target_secs;
        self.due_at = self.started_at + chrono::Duration::seconds(target_secs + self.paused_secs);
    }
}

/// Targets that start clocks. Defaults from SPEC §4.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlaTargets {
    /// Response target per tier level (index 0 = level 1); levels past the end use the last.
    pub response_secs_by_tier: Vec<i64>,
    /// Resolution target per priority, P1..P4.
    pub resolution_secs_by_priority: [i64; 4],
}

impl Default for SlaTargets {
    fn default() -> Self {
        SlaTargets {
            response_secs_by_tier: vec![15 * 60, 3600, 4 * 3600],
            // P3 and P4 are 3 and 5 business days in SPEC §4; until calendars exist they run 24×7.
            resolution_secs_by_priority: [4 * 3600, 8 * 3600, 3 * 86_400, 5 * 86_400],
        }
    }
}

impl SlaTargets {
    /// Response target for a tier level.
    pub fn response_secs(&self, tier: i32) -> i64 {
        let idx = usize::try_from(tier.max(1) - 1).unwrap_or(0);
        self.response_secs_by_tier
            .get(idx)
            .or(self.response_secs_by_tier.last())
            .copied()
            .unwrap_or(15 * 60)
    }

    /// Resolution target for a priority.
    pub fn resolution_secs(&self, priority: Priority) -> i64 {
        self.resolution_secs_by_priority[priority.index()]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn stop_before_due_is_met_after_is_breached() {
        let t0 = chrono::Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let mut c = Clock::start(ClockKind::Response, Some(1), 900, t0);
        assert_eq!(c.due_at, t0 + chrono::Duration::minutes(15));
        let mut late = c.clone();
        c.stop(t0 + chrono::Duration::minutes(15));
        assert_eq!(c.state, ClockState::Met);
        late.stop(t0 + chrono::Duration::seconds(901));
        assert_eq!(late.state, ClockState::Breached);
    }

    #[test]
    fn default_targets() {
        let t = SlaTargets::default();
        assert_eq!(t.response_secs(1), 900);
        assert_eq!(t.response_secs(2), 3600);
        assert_eq!(t.response_secs(3), 14_400);
        assert_eq!(t.response_secs(9), 14_400);
        assert_eq!(t.resolution_secs(Priority::P1), 14_400);
    }
}
