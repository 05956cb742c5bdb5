//! Monitoring alerts as tierdesk understands them, whatever sent them (SPEC §6): a notification
//! is a snapshot of one alert group; severity maps to impact and urgency; silences match labels
//! like Alertmanager's matchers; flapping is too many state changes in a window; a missing
//! Alertmanager fingerprint is computed the way Prometheus computes it.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::DomainError;
use crate::ticket::Level;

/// Label or annotation set.
pub type Labels = BTreeMap<String, String>;

/// Firing or resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertState {
    /// Firing.
    Firing,
    /// Resolved.
    Resolved,
}

impl AlertState {
    /// Database / API name.
    pub fn as_str(self) -> &'static str {
        match self {
            AlertState::Firing => "firing",
            AlertState::Resolved => "resolved",
        }
    }

    /// Parses `firing` / `resolved` (Grafana's group `alerting` / `ok` too).
    pub fn parse(field: &'static str, s: &str) -> Result<AlertState, DomainError> {
        match s.to_ascii_lowercase().as_str() {
            "firing" | "alerting" | "trigger" | "triggered" => Ok(AlertState::Firing),
            "resolved" | "ok" | "resolve" => Ok(AlertState::Resolved),
            _ => Err(DomainError::field(field, "must be firing or resolved")),
        }
    }
}

/// A link for the L2 engineer: where the alert came from, its dashboard, its runbook.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Link {
    /// `source`, `dashboard`, `panel`, `silence`, `runbook`, `alertmanager`, `image` or `link`.
    pub rel: String,
    /// URL.
    pub href: String,
    /// Text to show.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

/// One alert instance in a notification.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertInstance {
    /// Identity within the integration (Alertmanager fingerprint, PagerDuty dedup key).
    pub fingerprint: String,
    /// State.
    pub status: AlertState,
    /// Identifying labels.
    pub labels: Labels,
    /// Free text (`summary`, `description`, `runbook_url`, …).
    pub annotations: Labels,
    /// When it started firing.
    pub starts_at: Option<DateTime<Utc>>,
    /// When it resolved.
    pub ends_at: Option<DateTime<Utc>>,
    /// One line.
    pub summary: String,
    /// `critical`, `error`, `warning`, `info` (or whatever the sender says).
    pub severity: Option<String>,
    /// Links.
    pub links: Vec<Link>,
}

/// What a receiver makes of one delivery: a snapshot of one alert group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Notification {
    /// Group identity within the integration (`groupKey`, PagerDuty `dedup_key`).
    pub group_key: String,
    /// Firing when any alert fires.
    pub status: AlertState,
    /// Title for an incident.
    pub title: String,
    /// Longer text.
    pub description: String,
    /// Labels shared by the group.
    pub labels: Labels,
    /// Group-level links (Alertmanager's externalURL, PagerDuty links, …).
    pub links: Vec<Link>,
    /// The alerts.
    pub alerts: Vec<AlertInstance>,
    /// Alerts the sender left out (`truncatedAlerts`).
    pub truncated: u64,
    /// A PagerDuty `acknowledge`.
    pub acknowledge: bool,
}

impl Notification {
    /// The most severe severity among firing alerts (else any).
    pub fn severity(&self) -> Option<&str> {
        let rank = |s: &str| match s.to_ascii_lowercase().as_str() {
            "critical" | "page" | "p1" => 0,
            "error" | "high" | "p2" => 1,
            "warning" | "warn" | "medium" | "p3" => 2,
            "info" | "low" | "p4" | "p5" => 3,
            _ => 4,
        };
        let firing = self
            .alerts
            .iter()
            .filter(|a| a.status == AlertState::Firing)
            .filter_map(|a| a.severity.as_deref())
            .min_by_key(|s| rank(s));
        firing.or_else(|| {
            self.alerts
                .iter()
                .filter_map(|a| a.severity.as_deref())
                .min_by_key(|s| rank(s))
        })
    }
}

/// Impact and urgency for a severity: `critical` → 1/1 (P1), `error` → 2/1 (P2), `warning` →
/// 2/2 (P3), `info` → 3/3 (P4); unknown or none → 2/2. `overrides` maps a lower-cased severity to
/// `[impact, urgency]` and wins.
pub fn impact_urgency(
    severity: Option<&str>,
    overrides: &BTreeMap<String, [i64; 2]>,
) -> (Level, Level) {
    let s = severity.unwrap_or("").to_ascii_lowercase();
    let pair = overrides.get(&s).copied().unwrap_or(match s.as_str() {
        "critical" | "page" | "p1" => [1, 1],
        "error" | "high" | "p2" => [2, 1],
        "info" | "low" | "p4" | "p5" => [3, 3],
        _ => [2, 2],
    });
    let level = |v: i64| Level::new("severity_map", v).unwrap_or(Level::MEDIUM);
    (level(pair[0]), level(pair[1]))
}

/// Prometheus' label-set fingerprint (FNV-1a 64 over sorted `name 0xff value 0xff`), as 16 hex
/// digits, for Alertmanagers older than 0.19 that send none.
pub fn fingerprint(labels: &Labels) -> String {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let mut h = OFFSET;
    let mut add = |bytes: &[u8]| {
        for b in bytes {
            h ^= u64::from(*b);
            h = h.wrapping_mul(PRIME);
        }
    };
    for (k, v) in labels {
        add(k.as_bytes());
        add(&[0xff]);
        add(v.as_bytes());
        add(&[0xff]);
    }
    format!("{h:016x}")
}

/// How a matcher compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum MatchOp {
    /// `=`
    #[serde(rename = "=")]
    Eq,
    /// `!=`
    #[serde(rename = "!=")]
    Ne,
    /// `=~` (anchored regular expression)
    #[serde(rename = "=~")]
    Re,
    /// `!~`
    #[serde(rename = "!~")]
    NotRe,
}

/// One label matcher, as in Alertmanager: `name=value`, `name!=value`, `name=~regex`,
/// `name!~regex`. A missing label is the empty string.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Matcher {
    /// Label name.
    pub name: String,
    /// Operator.
    pub op: MatchOp,
    /// Value or regular expression.
    pub value: String,
    #[serde(skip)]
    regex: Option<regex::Regex>,
}

impl PartialEq for Matcher {
    fn eq(&self, other: &Self) -> bool {
        (&self.name, self.op, &self.value) == (&other.name, other.op, &other.value)
    }
}

impl Matcher {
    /// Builds a matcher, compiling a regular expression (anchored at both ends).
    pub fn new(name: &str, op: MatchOp, value: &str) -> Result<Matcher, DomainError> {
        let name = name.trim();
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(DomainError::field(
                "matchers",
                format!("'{name}' is not a label name"),
            ));
        }
        let regex = match op {
            MatchOp::Re | MatchOp::NotRe => {
                Some(regex::Regex::new(&format!("^(?:{value})$")).map_err(|e| {
                    DomainError::field("matchers", format!("bad regular expression: {e}"))
                })?)
            }
            _ => None,
        };
        Ok(Matcher {
            name: name.to_owned(),
            op,
            value: value.to_owned(),
            regex,
        })
    }

    /// Parses `name=value`, `name!=value`, `name=~re`, `name!~re` (the value may be quoted).
    pub fn parse(text: &str) -> Result<Matcher, DomainError> {
        let (op, at, len) = [
            ("!~", MatchOp::NotRe),
            ("=~", MatchOp::Re),
            ("!=", MatchOp::Ne),
            ("=", MatchOp::Eq),
        ]
        .iter()
        .filter_map(|(sym, op)| text.find(sym).map(|i| (*op, i, sym.len())))
        .min_by_key(|(_, i, len)| (*i, usize::MAX - len))
        .ok_or_else(|| DomainError::field("matchers", format!("'{text}' needs =, !=, =~ or !~")))?;
        let name = text.get(..at).unwrap_or("");
        let value = text.get(at + len..).unwrap_or("").trim();
        let value = value
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .unwrap_or(value);
        Matcher::new(name, op, value)
    }

    /// Recompiles after deserialising.
    pub fn compiled(self) -> Result<Matcher, DomainError> {
        Matcher::new(&self.name, self.op, &self.value)
    }

    /// Whether `labels` satisfy it.
    pub fn matches(&self, labels: &Labels) -> bool {
        let v = labels.get(&self.name).map_or("", String::as_str);
        match self.op {
            MatchOp::Eq => v == self.value,
            MatchOp::Ne => v != self.value,
            MatchOp::Re => self.regex.as_ref().is_some_and(|r| r.is_match(v)),
            MatchOp::NotRe => self.regex.as_ref().is_none_or(|r| !r.is_match(v)),
        }
    }
}

/// Whether every matcher matches (an empty list matches nothing, so a silence never mutes all).
pub fn all_match(matchers: &[Matcher], labels: &Labels) -> bool {
    !matchers.is_empty() && matchers.iter().all(|m| m.matches(labels))
}

/// Flapping: at least `changes` state changes within `window` up to `now`. Returns the change
/// times still inside the window (with `now` added when `changed`) and whether it flaps.
pub fn flapping(
    history: &[DateTime<Utc>],
    changed: bool,
    now: DateTime<Utc>,
    changes: usize,
    window: Duration,
) -> (Vec<DateTime<Utc>>, bool) {
    let mut kept: Vec<DateTime<Utc>> = history
        .iter()
        .copied()
        .filter(|t| *t > now - window)
        .collect();
    if changed {
        kept.push(now);
    }
    let flaps = changes > 0 && kept.len() >= changes;
    (kept, flaps)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> Labels {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn fingerprint_matches_prometheus() {
        // prometheus/common model: the empty label set hashes to the FNV offset basis.
        assert_eq!(fingerprint(&Labels::new()), "cbf29ce484222325");
        let a = fingerprint(&labels(&[("alertname", "Up"), ("job", "node")]));
        assert_eq!(a.len(), 16);
        assert_eq!(
            a,
            fingerprint(&labels(&[("job", "node"), ("alertname", "Up")]))
        );
        assert_ne!(
            a,
            fingerprint(&labels(&[("alertname", "Up"), ("job", "nodes")]))
        );
    }

    #[test]
    fn matchers_follow_alertmanager() {
        let l = labels(&[("alertname", "DiskFull"), ("env", "prod")]);
        for (m, want) in [
            ("alertname=DiskFull", true),
            ("alertname!=DiskFull", false),
            ("env=~pro.*", true),
            ("env=~pro", false),
            ("env!~dev|test", true),
            ("team=", true),
            ("team!=", false),
            (r#"alertname="DiskFull""#, true),
        ] {
            assert_eq!(Matcher::parse(m).unwrap().matches(&l), want, "{m}");
        }
        assert!(Matcher::parse("nope").is_err());
        assert!(Matcher::parse("a=~(").is_err());
        assert!(!all_match(&[], &l), "an empty silence mutes nothing");
    }

    #[test]
    fn severity_maps_to_priority_and_can_be_overridden() {
        let none = BTreeMap::new();
        let p = |s: Option<&str>, o: &BTreeMap<String, [i64; 2]>| {
            let (i, u) = impact_urgency(s, o);
            (i.get(), u.get())
        };
        assert_eq!(p(Some("critical"), &none), (1, 1));
        assert_eq!(p(Some("ERROR"), &none), (2, 1));
        assert_eq!(p(Some("warning"), &none), (2, 2));
        assert_eq!(p(Some("info"), &none), (3, 3));
        assert_eq!(p(None, &none), (2, 2));
        let o = BTreeMap::from([("warning".to_owned(), [3, 2])]);
        assert_eq!(p(Some("warning"), &o), (3, 2));
    }

    #[test]
    fn flapping_counts_changes_inside_the_window() {
        let t0: DateTime<Utc> = "2026-01-01T00:00:00Z".parse().unwrap();
        let w = Duration::minutes(10);
        let mut h = Vec::new();
        let mut flaps = false;
        for i in 0..4 {
            (h, flaps) = flapping(&h, true, t0 + Duration::minutes(i), 4, w);
        }
        assert!(flaps);
        let (h2, still) = flapping(&h, false, t0 + Duration::minutes(12), 4, w);
        assert!(!still && h2.len() == 1, "old changes age out: {h2:?}");
    }
}
