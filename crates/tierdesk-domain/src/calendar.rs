//! Business-hours calendars (SPEC §4): 24×7, or weekly hours in an IANA time zone plus holiday
//! dates. An instant is *business time* when its local date is not a holiday and its local time
//! of day falls in one of that weekday's intervals. All arithmetic is exact across DST changes:
//! each local day is split at its UTC-offset transition, and intervals are mapped to instants per
//! piece, so a spring-forward day is an hour shorter and a fall-back day an hour longer.

use std::collections::BTreeSet;

use chrono::{
    DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, Offset, TimeZone, Timelike, Utc,
};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::{DomainError, Timestamp};

/// The name of the built-in round-the-clock calendar.
pub const ALWAYS: &str = "24x7";

/// How far ahead a due time is searched before giving up (a calendar with almost no hours).
const MAX_DAYS: i64 = 3 * 366;

/// A calendar as the API and configuration write it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CalendarSpec {
    /// Unique name, referenced by SLA policies (taken from the URL on `PUT`).
    #[serde(default)]
    pub name: String,
    /// IANA time zone such as `Europe/Berlin`.
    pub time_zone: String,
    /// Weekday (`mon` … `sun`) → intervals such as `"09:00-17:00"`; `24:00` ends a day.
    pub hours: std::collections::BTreeMap<String, Vec<String>>,
    /// Local dates without business hours, `YYYY-MM-DD`.
    #[serde(default)]
    pub holidays: Vec<String>,
}

/// A validated calendar.
#[derive(Debug, Clone, PartialEq)]
pub enum Calendar {
    /// Every instant counts.
    Always,
    /// Weekly hours in a time zone, minus holidays.
    Weekly {
        /// Time zone.
        tz: Tz,
        /// Per weekday (Monday = 0): sorted, disjoint `[open, close)` seconds of the local day.
        days: [Vec<(u32, u32)>; 7],
        /// Local holiday dates.
        holidays: BTreeSet<NaiveDate>,
    },
}

const WEEKDAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

fn parse_clock(field: &'static str, text: &str) -> Result<u32, DomainError> {
    let bad = || DomainError::field(field, format!("'{text}' is not a time like 09:00 or 24:00"));
    let (h, m) = text.trim().split_once(':').ok_or_else(bad)?;
    let (h, m): (u32, u32) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    if m >= 60 || h > 24 || (h == 24 && m != 0) {
        return Err(bad());
    }
    Ok(h * 3600 + m * 60)
}

impl Calendar {
    /// Validates a spec; errors name the field.
    pub fn from_spec(spec: &CalendarSpec) -> Result<Calendar, DomainError> {
        let tz: Tz = spec.time_zone.parse().map_err(|_| {
            DomainError::field(
                "time_zone",
                format!("unknown IANA time zone '{}'", spec.time_zone),
            )
        })?;
        let mut days: [Vec<(u32, u32)>; 7] = Default::default();
        for (day, intervals) in &spec.hours {
            let idx = WEEKDAYS
                .iter()
                .position(|d| d == &day.to_lowercase().as_str())
                .ok_or_else(|| {
                    DomainError::field("hours", format!("unknown weekday '{day}'; use mon … sun"))
                })?;
            for iv in intervals {
                let (o, c) = iv.split_once('-').ok_or_else(|| {
                    DomainError::field(
                        "hours",
                        format!("'{iv}' is not an interval like 09:00-17:00"),
                    )
                })?;
                let (o, c) = (parse_clock("hours", o)?, parse_clock("hours", c)?);
                if o >= c {
                    return Err(DomainError::field(
                        "hours",
                        format!("'{iv}' ends before it starts"),
                    ));
                }
                days[idx].push((o, c));
            }
            days[idx].sort_unstable();
            if days[idx].windows(2).any(|w| w[0].1 > w[1].0) {
                return Err(DomainError::field(
                    "hours",
                    format!("intervals of {day} overlap"),
                ));
            }
        }
        if days.iter().all(Vec::is_empty) {
            return Err(DomainError::field(
                "hours",
                "a calendar needs at least one interval",
            ));
        }
        let holidays = spec
            .holidays
            .iter()
            .map(|h| {
                NaiveDate::parse_from_str(h, "%Y-%m-%d").map_err(|_| {
                    DomainError::field("holidays", format!("'{h}' is not a date like 2026-12-25"))
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(Calendar::Weekly { tz, days, holidays })
    }

    /// True when `t` is business time.
    pub fn is_open(&self, t: Timestamp) -> bool {
        match self {
            Calendar::Always => true,
            Calendar::Weekly { tz, days, holidays } => {
                let local = t.with_timezone(tz);
                if holidays.contains(&local.date_naive()) {
                    return false;
                }
                let secs = local.time().num_seconds_from_midnight();
                days[local.weekday().num_days_from_monday() as usize]
                    .iter()
                    .any(|&(o, c)| o <= secs && secs < c)
            }
        }
    }

    /// The instant at which `secs` of business time have passed since `start`.
    pub fn add(&self, start: Timestamp, secs: i64) -> Timestamp {
        self.add_ms(start, secs.saturating_mul(1000))
    }

    /// The instant at which `ms` milliseconds of business time have passed since `start`.
    pub fn add_ms(&self, start: Timestamp, ms: i64) -> Timestamp {
        if ms <= 0 {
            return start;
        }
        let (tz, _, _) = match self {
            Calendar::Always => return start + Duration::milliseconds(ms),
            Calendar::Weekly { tz, days, holidays } => (tz, days, holidays),
        };
        let mut remaining = ms;
        let first = start.with_timezone(tz).date_naive();
        for offset in 0..MAX_DAYS {
            let Some(day) = first.checked_add_signed(Duration::days(offset)) else {
                break;
            };
            for (a, b) in self.ranges(day) {
                if b <= start {
                    continue;
                }
                let a = a.max(start);
                let avail = (b - a).num_milliseconds();
                if remaining <= avail {
                    return a + Duration::milliseconds(remaining);
                }
                remaining -= avail;
            }
        }
        start + Duration::days(MAX_DAYS)
    }

    /// Business seconds in `[from, to)`.
    pub fn between(&self, from: Timestamp, to: Timestamp) -> i64 {
        self.between_ms(from, to) / 1000
    }

    /// Business milliseconds in `[from, to)`.
    pub fn between_ms(&self, from: Timestamp, to: Timestamp) -> i64 {
        if to <= from {
            return 0;
        }
        let tz = match self {
            Calendar::Always => return (to - from).num_milliseconds(),
            Calendar::Weekly { tz, .. } => tz,
        };
        let first = from.with_timezone(tz).date_naive();
        let last = to.with_timezone(tz).date_naive();
        let mut total = 0;
        let mut day = first;
        while day <= last {
            for (a, b) in self.ranges(day) {
                let (a, b) = (a.max(from), b.min(to));
                if b > a {
                    total += (b - a).num_milliseconds();
                }
            }
            match day.succ_opt() {
                Some(d) => day = d,
                None => break,
            }
        }
        total
    }

    /// The business-time instants of one local date, sorted.
    fn ranges(&self, day: NaiveDate) -> Vec<(Timestamp, Timestamp)> {
        let Calendar::Weekly { tz, days, holidays } = self else {
            return Vec::new();
        };
        if holidays.contains(&day) {
            return Vec::new();
        }
        let intervals = &days[day.weekday().num_days_from_monday() as usize];
        if intervals.is_empty() {
            return Vec::new();
        }
        let midnight = day.and_hms_opt(0, 0, 0).unwrap_or(NaiveDateTime::MIN);
        let mut out = Vec::new();
        for (seg_start, seg_end, offset) in day_segments(tz, day) {
            for &(o, c) in intervals {
                // Instants whose local time of day is in [o, c) while the offset is `offset`.
                let a =
                    Utc.from_utc_datetime(&(midnight + Duration::seconds(i64::from(o) - offset)));
                let b =
                    Utc.from_utc_datetime(&(midnight + Duration::seconds(i64::from(c) - offset)));
                let (a, b) = (a.max(seg_start), b.min(seg_end));
                if b > a {
                    out.push((a, b));
                }
            }
        }
        out.sort();
        out
    }
}

fn offset_at(tz: &Tz, t: Timestamp) -> i64 {
    i64::from(
        tz.offset_from_utc_datetime(&t.naive_utc())
            .fix()
            .local_minus_utc(),
    )
}

/// The first instant of a local date (midnight, or later when midnight falls in a DST gap).
fn day_start(tz: &Tz, day: NaiveDate) -> Timestamp {
    let midnight = day.and_hms_opt(0, 0, 0).unwrap_or(NaiveDateTime::MIN);
    for minutes in 0..=180 {
        if let Some(t) = tz
            .from_local_datetime(&(midnight + Duration::minutes(minutes)))
            .earliest()
        {
            return t.with_timezone(&Utc);
        }
    }
    Utc.from_utc_datetime(&midnight)
}

/// A local day as UTC pieces of constant offset: `(start, end, offset seconds)`.
fn day_segments(tz: &Tz, day: NaiveDate) -> Vec<(Timestamp, Timestamp, i64)> {
    let start = day_start(tz, day);
    let end = day
        .succ_opt()
        .map_or(start + Duration::days(1), |d| day_start(tz, d));
    let (o1, o2) = (
        offset_at(tz, start),
        offset_at(tz, end - Duration::seconds(1)),
    );
    if o1 == o2 {
        return vec![(start, end, o1)];
    }
    // Binary search the transition to the second.
    let (mut lo, mut hi) = (start, end - Duration::seconds(1));
    while (hi - lo).num_seconds() > 1 {
        let mid = lo + Duration::seconds((hi - lo).num_seconds() / 2);
        if offset_at(tz, mid) == o1 {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    vec![(start, hi, o1), (hi, end, o2)]
}

/// Converts a UTC timestamp to a local date in the calendar's zone (24×7: UTC).
pub fn local_date(cal: &Calendar, t: DateTime<Utc>) -> NaiveDate {
    match cal {
        Calendar::Always => t.date_naive(),
        Calendar::Weekly { tz, .. } => t.with_timezone(tz).date_naive(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn spec(tz: &str, hours: &[(&str, &[&str])], holidays: &[&str]) -> Calendar {
        Calendar::from_spec(&CalendarSpec {
            name: "t".into(),
            time_zone: tz.into(),
            hours: hours
                .iter()
                .map(|(d, iv)| (d.to_string(), iv.iter().map(|s| s.to_string()).collect()))
                .collect(),
            holidays: holidays.iter().map(|s| s.to_string()).collect(),
        })
        .unwrap()
    }

    fn office(tz: &str) -> Calendar {
        let wk: &[&str] = &["09:00-17:00"];
        spec(
            tz,
            &[
                ("mon", wk),
                ("tue", wk),
                ("wed", wk),
                ("thu", wk),
                ("fri", wk),
            ],
            &["2026-12-25"],
        )
    }

    fn night(tz: &str) -> Calendar {
        // Sunday 00:00-04:00 covers both zones' DST switches; plus split weekday hours.
        spec(
            tz,
            &[
                ("sun", &["00:00-04:00"]),
                ("mon", &["08:00-12:00", "13:00-17:30"]),
                ("sat", &["00:00-24:00"]),
            ],
            &[],
        )
    }

    fn utc(s: &str) -> Timestamp {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn weekend_and_holiday_are_skipped() {
        let cal = office("Europe/Berlin");
        // Friday 16:00 Berlin (15:00Z) + 2 h → Monday 10:00 Berlin.
        assert_eq!(
            cal.add(utc("2026-11-27T15:00:00Z"), 7200),
            utc("2026-11-30T09:00:00Z")
        );
        // Thursday 24 Dec 16:30 + 1 h: Christmas is a holiday → Monday 28 Dec 09:30.
        assert_eq!(
            cal.add(utc("2026-12-24T15:30:00Z"), 3600),
            utc("2026-12-28T08:30:00Z")
        );
        // Ends exactly at close of business.
        assert_eq!(
            cal.add(utc("2026-11-23T08:00:00Z"), 8 * 3600),
            utc("2026-11-23T16:00:00Z")
        );
        assert_eq!(
            cal.between(utc("2026-11-27T15:00:00Z"), utc("2026-11-30T09:00:00Z")),
            7200
        );
    }

    #[test]
    fn dst_spring_forward_and_fall_back() {
        // Berlin: 29 March 2026 02:00 → 03:00. Sunday 00:00-04:00 local is 3 real hours.
        let b = night("Europe/Berlin");
        assert_eq!(
            b.between(utc("2026-03-28T23:00:00Z"), utc("2026-03-29T02:00:00Z")),
            3 * 3600
        );
        assert_eq!(
            b.add(utc("2026-03-28T23:00:00Z"), 3 * 3600),
            utc("2026-03-29T02:00:00Z")
        );
        // Berlin: 25 October 2026 03:00 → 02:00. The same interval is 5 real hours.
        assert_eq!(
            b.between(utc("2026-10-24T22:00:00Z"), utc("2026-10-25T04:00:00Z")),
            5 * 3600
        );
        // New York: 8 March 2026 (spring) and 1 November 2026 (fall back).
        let ny = night("America/New_York");
        assert_eq!(
            ny.between(utc("2026-03-08T05:00:00Z"), utc("2026-03-08T12:00:00Z")),
            3 * 3600
        );
        assert_eq!(
            ny.between(utc("2026-11-01T04:00:00Z"), utc("2026-11-01T12:00:00Z")),
            5 * 3600
        );
        // Office hours keep their local times across the change: Monday 9:00 EST = 14:00Z.
        let o = office("America/New_York");
        assert_eq!(
            o.add(utc("2026-10-30T21:30:00Z"), 60),
            utc("2026-11-02T14:01:00Z")
        );
    }

    #[test]
    fn bad_specs_name_the_field() {
        let bad = |tz: &str, iv: &str| {
            Calendar::from_spec(&CalendarSpec {
                name: "x".into(),
                time_zone: tz.into(),
                hours: [("mon".to_string(), vec![iv.to_string()])]
                    .into_iter()
                    .collect(),
                holidays: vec![],
            })
            .unwrap_err()
            .to_string()
        };
        assert!(bad("Mars/Olympus", "09:00-17:00").starts_with("time_zone"));
        assert!(bad("UTC", "17:00-09:00").starts_with("hours"));
        assert!(bad("UTC", "25:00-26:00").starts_with("hours"));
    }

    /// Minute-by-minute reference: the instant when `minutes` open minutes have passed.
    fn brute_add(cal: &Calendar, start: Timestamp, minutes: i64) -> Timestamp {
        let mut t = start;
        let mut count = 0;
        loop {
            if cal.is_open(t) {
                count += 1;
                if count == minutes {
                    return t + Duration::minutes(1);
                }
            }
            t += Duration::minutes(1);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]
        #[test]
        fn due_times_match_a_minute_walk(
            zone in 0usize..2,
            which in 0usize..2,
            // Minutes from 2026-02-20 over the spring and autumn DST weeks of both zones.
            start_min in prop_oneof![0i64..57_600i64, 345_600i64..381_600i64],
            minutes in 1i64..2_000,
        ) {
            let tz = ["Europe/Berlin", "America/New_York"][zone];
            let cal = if which == 0 { office(tz) } else { night(tz) };
            let start = utc("2026-02-20T00:00:00Z") + Duration::minutes(start_min);
            let due = cal.add(start, minutes * 60);
            prop_assert_eq!(due, brute_add(&cal, start, minutes));
            prop_assert_eq!(cal.between(start, due), minutes * 60);
        }
    }
}
