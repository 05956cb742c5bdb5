use chrono::{DateTime, Duration, TimeZone, Utc};

use super::*;
use crate::calendar::CalendarSpec;

fn t0() -> Timestamp {
    Utc.with_ymd_and_hms(2026, 11, 23, 9, 0, 0).unwrap() // a Monday, 10:00 in Berlin
}

fn tiers(level: i32) -> (String, i64) {
    match level {
        1 => ("L1".into(), 900),
        2 => ("L2".into(), 3600),
        _ => ("L3".into(), 4 * 3600),
    }
}

/// Builds facts step by step.
struct Story {
    facts: Vec<Fact>,
}

impl Story {
    fn new(priority: Priority) -> Story {
        Story {
            facts: vec![Fact {
                at: t0(),
                kind: EventKind::Created,
                by_agent: false,
                public: true,
                status: Status::New,
                tier: 1,
                priority,
                pending_reason: None,
                clock: None,
            }],
        }
    }
    fn last(&self) -> Fact {
        self.facts.last().cloned().unwrap()
    }
    fn push(
        &mut self,
        mins: i64,
        kind: EventKind,
        by_agent: bool,
        public: bool,
        f: impl FnOnce(&mut Fact),
    ) -> &mut Self {
        let mut fact = self.last();
        fact.at = t0() + Duration::minutes(mins);
        fact.kind = kind;
        fact.by_agent = by_agent;
        fact.public = public;
        fact.clock = None;
        f(&mut fact);
        self.facts.push(fact);
        self
    }
    fn clocks(&self, policy: &CompiledPolicy, cal: &Calendar) -> Vec<Clock> {
        compute(
            &ClockContext {
                policy,
                calendar: cal,
                tier: &tiers,
            },
            &self.facts,
        )
    }
    fn default_clocks(&self) -> Vec<Clock> {
        self.clocks(&CompiledPolicy::default_policy(), &Calendar::Always)
    }
}

fn find<'c>(clocks: &'c [Clock], key: &str) -> &'c Clock {
    clocks
        .iter()
        .find(|c| c.key == key)
        .unwrap_or_else(|| panic!("no clock {key} in {clocks:#?}"))
}

fn at(mins: i64) -> DateTime<Utc> {
    t0() + Duration::minutes(mins)
}

#[test]
fn creation_starts_l1_response_and_resolution() {
    let c = Story::new(Priority::P2).default_clocks();
    assert_eq!(find(&c, "response:1").due_at, at(15));
    assert_eq!(find(&c, "response:1").tier, Some(1));
    assert_eq!(find(&c, "resolution").due_at, at(8 * 60));
    assert_eq!(
        find(&c, "response:1").warn_due_at,
        Some(t0() + Duration::seconds(675)),
        "75 % of 15 min"
    );
}

#[test]
fn what_meets_the_response_target() {
    // Internal note and requester reply: not a response.
    let mut s = Story::new(Priority::P3);
    s.push(2, EventKind::Commented, true, false, |_| {});
    s.push(3, EventKind::Commented, false, true, |_| {});
    assert_eq!(
        find(&s.default_clocks(), "response:1").state,
        ClockState::Running
    );
    // A public agent reply is.
    s.push(4, EventKind::Commented, true, true, |_| {});
    let c = s.default_clocks();
    assert_eq!(find(&c, "response:1").state, ClockState::Met);
    assert_eq!(find(&c, "response:1").stopped_at, Some(at(4)));
    // So is an agent's status change, and an assignment by an agent.
    let mut s = Story::new(Priority::P3);
    s.push(20, EventKind::StatusChanged, true, true, |f| {
        f.status = Status::InProgress
    });
    assert_eq!(
        find(&s.default_clocks(), "response:1").state,
        ClockState::Breached,
        "20 min > 15 min"
    );
    let mut s = Story::new(Priority::P3);
    s.push(1, EventKind::Assigned, true, false, |f| {
        f.status = Status::Assigned
    });
    assert_eq!(
        find(&s.default_clocks(), "response:1").state,
        ClockState::Met
    );
}

#[test]
fn tier_change_starts_the_new_tiers_clock() {
    let mut s = Story::new(Priority::P2);
    s.push(10, EventKind::Escalated, true, false, |f| {
        f.tier = 2;
        f.status = Status::Assigned;
    });
    s.push(40, EventKind::Escalated, true, false, |f| f.tier = 3);
    let c = s.default_clocks();
    assert_eq!(find(&c, "response:1").state, ClockState::Met);
    assert_eq!(find(&c, "response:2").due_at, at(70));
    assert_eq!(find(&c, "response:2").state, ClockState::Met);
    assert_eq!(find(&c, "response:3").due_at, at(40 + 240));
    assert_eq!(find(&c, "response:3").tier, Some(3));
    assert_eq!(
        find(&c, "resolution").due_at,
        at(8 * 60),
        "resolution runs beside the tier clocks"
    );
}

#[test]
fn pause_shifts_due_by_exactly_the_paused_business_time() {
    let cal = Calendar::from_spec(&CalendarSpec {
        name: "office".into(),
        time_zone: "Europe/Berlin".into(),
        hours: ["mon", "tue", "wed", "thu", "fri"]
            .iter()
            .map(|d| (d.to_string(), vec!["09:00-17:00".to_string()]))
            .collect(),
        holidays: vec![],
    })
    .unwrap();
    let policy = CompiledPolicy::default_policy();
    let mut s = Story::new(Priority::P2); // 8 h of business time from Monday 10:00 Berlin
    let before = find(&s.clocks(&policy, &cal), "resolution").due_at;
    assert_eq!(
        before,
        Utc.with_ymd_and_hms(2026, 11, 24, 9, 0, 0).unwrap(),
        "Tuesday 10:00 Berlin"
    );
    // Pending from 11:00 to 15:30 Berlin (4.5 business hours), then back in progress.
    s.push(60, EventKind::StatusChanged, true, true, |f| {
        f.status = Status::Pending
    });
    let paused = s.clocks(&policy, &cal);
    assert_eq!(find(&paused, "resolution").state, ClockState::Paused);
    s.push(330, EventKind::StatusChanged, true, true, |f| {
        f.status = Status::InProgress
    });
    let c = s.clocks(&policy, &cal);
    let r = find(&c, "resolution");
    assert_eq!(r.state, ClockState::Running);
    assert_eq!(r.paused_secs, 4 * 3600 + 1800);
    assert_eq!(r.due_at, cal.add(before, 4 * 3600 + 1800));
    assert_eq!(
        r.due_at,
        Utc.with_ymd_and_hms(2026, 11, 24, 13, 30, 0).unwrap()
    );
    // Without pause-on-pending nothing moves.
    let mut no_pause = policy.clone();
    no_pause.spec.pause_on_pending = false;
    assert_eq!(
        find(&s.clocks(&no_pause, &cal), "resolution").due_at,
        before
    );
}

#[test]
fn priority_change_recomputes_resolution_due() {
    let mut s = Story::new(Priority::P3);
    assert_eq!(
        find(&s.default_clocks(), "resolution").due_at,
        at(3 * 24 * 60)
    );
    s.push(30, EventKind::PriorityChanged, true, true, |f| {
        f.priority = Priority::P1
    });
    let c = s.default_clocks();
    assert_eq!(find(&c, "resolution").due_at, at(4 * 60));
    assert_eq!(find(&c, "resolution").target_secs, 4 * 3600);
}

#[test]
fn resolve_reopen_and_close() {
    let mut s = Story::new(Priority::P2);
    s.push(60, EventKind::Resolved, true, true, |f| {
        f.status = Status::Resolved
    });
    let c = s.default_clocks();
    assert_eq!(find(&c, "resolution").state, ClockState::Met);
    // Reopened two hours later: resolution continues with one hour used; a new response clock.
    s.push(180, EventKind::Commented, false, true, |f| {
        f.status = Status::InProgress
    });
    let c = s.default_clocks();
    assert_eq!(find(&c, "resolution").state, ClockState::Running);
    assert_eq!(find(&c, "resolution").due_at, at(180 + 7 * 60));
    assert_eq!(find(&c, "response:2").due_at, at(195));
    s.push(200, EventKind::StatusChanged, true, true, |f| {
        f.status = Status::Cancelled
    });
    let c = s.default_clocks();
    assert!(c.iter().all(|c| !c.is_running()));
    assert_eq!(find(&c, "resolution").state, ClockState::Cancelled);
}

#[test]
fn keep_in_loop_restarts_on_each_public_update() {
    let mut p = CompiledPolicy::default_policy();
    p.keep_in_loop_secs = Some(3600);
    let mut s = Story::new(Priority::P3);
    s.push(5, EventKind::Commented, true, true, |_| {});
    s.push(50, EventKind::Commented, true, false, |_| {}); // internal: no effect
    s.push(65, EventKind::Commented, true, true, |_| {});
    let c = s.clocks(&p, &Calendar::Always);
    assert_eq!(find(&c, "keep_in_loop:1").state, ClockState::Met);
    assert_eq!(find(&c, "keep_in_loop:2").due_at, at(125));
}

#[test]
fn firings_are_read_back_from_the_timeline() {
    let mut s = Story::new(Priority::P2);
    let c = s.default_clocks();
    assert_eq!(
        find(&c, "response:1").next_firing(),
        Some((t0() + Duration::seconds(675), Firing::Warning))
    );
    s.push(12, EventKind::SlaWarning, false, false, |f| {
        f.clock = Some("response:1".into())
    });
    let c = s.default_clocks();
    assert_eq!(find(&c, "response:1").warned_at, Some(at(12)));
    assert_eq!(
        find(&c, "response:1").next_firing(),
        Some((at(15), Firing::Breach))
    );
    s.push(15, EventKind::SlaBreach, false, false, |f| {
        f.clock = Some("response:1".into())
    });
    s.push(16, EventKind::Commented, true, true, |_| {});
    let c = s.default_clocks();
    let r = find(&c, "response:1");
    assert_eq!(
        (r.breached_at, r.state),
        (Some(at(15)), ClockState::Breached)
    );
    assert_eq!(r.next_firing(), None);
    assert_eq!(next_firing(&c), find(&c, "resolution").warn_due_at);
}

#[test]
fn first_matching_policy_wins_and_says_why() {
    let tiers = ["L1".to_string(), "L2".to_string(), "L3".to_string()];
    let p4: Policy = serde_json::from_value(serde_json::json!({
        "name": "low", "match": {"priority": ["P4"]}, "response": {"L1": "1h"}, "calendar": "office"
    }))
    .unwrap();
    let db: Policy = serde_json::from_value(serde_json::json!({"name": "db", "match": {"service": ["database"]}, "resolution": {"P1": "2h"}})).unwrap();
    let all: Policy = serde_json::from_value(serde_json::json!({"name": "all"})).unwrap();
    let compiled: Vec<CompiledPolicy> = [p4, db, all]
        .iter()
        .map(|p| p.compile(&tiers).unwrap())
        .collect();
    let fallback = CompiledPolicy::default_policy();
    let facts = |priority, service| MatchFacts {
        priority,
        kind: Kind::Incident,
        category: None,
        service,
    };
    let (p, why) = select_policy(&compiled, &facts(Priority::P4, Some("database")), &fallback);
    assert_eq!(
        (p.spec.name.as_str(), why.as_str()),
        ("low", "priority P4 in [P4]")
    );
    let (p, why) = select_policy(&compiled, &facts(Priority::P1, Some("database")), &fallback);
    assert_eq!(
        (p.spec.name.as_str(), why.as_str()),
        ("db", "service database in [database]")
    );
    assert_eq!(p.resolution_target(Priority::P1), 7200);
    assert_eq!(
        p.resolution_target(Priority::P2),
        8 * 3600,
        "unset priorities use SPEC §4"
    );
    let (p, _) = select_policy(&compiled, &facts(Priority::P2, None), &fallback);
    assert_eq!(p.spec.name, "all");
    let (p, why) = select_policy(&compiled[..1], &facts(Priority::P2, None), &fallback);
    assert_eq!(
        (p.spec.name.as_str(), why.as_str()),
        ("default", "no policy matched; SPEC §4 defaults")
    );
}

#[test]
fn bad_policies_name_the_field() {
    let tiers = ["L1".to_string()];
    let bad = |v: serde_json::Value| {
        serde_json::from_value::<Policy>(v)
            .unwrap()
            .compile(&tiers)
            .unwrap_err()
            .to_string()
    };
    assert!(
        bad(serde_json::json!({"name": "x", "response": {"L9": "1h"}})).starts_with("response")
    );
    assert!(
        bad(serde_json::json!({"name": "x", "resolution": {"P1": "soon"}}))
            .starts_with("resolution")
    );
    assert!(bad(serde_json::json!({"name": "x", "warn_at": 1.5})).starts_with("warn_at"));
    assert!(
        bad(serde_json::json!({"name": "x", "match": {"priority": ["P9"]}}))
            .starts_with("match.priority")
    );
}
