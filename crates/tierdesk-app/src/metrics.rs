//! Process metrics for `/metrics` (Prometheus text format). Counters here are per process, as
//! Prometheus expects; gauges and SLA totals are read from the database at scrape time.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::{App, AppError};

/// Histogram bucket bounds for HTTP latency, seconds.
const BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];

#[derive(Debug, Default, Clone)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

/// Counters and histograms of this process.
#[derive(Debug, Default)]
pub struct Metrics {
    incidents_created: AtomicU64,
    requests_created: AtomicU64,
    escalations: AtomicU64,
    http: Mutex<BTreeMap<(String, String, u16), Histogram>>,
    intake: Mutex<BTreeMap<(String, String), (u64, u64)>>,
}

impl Metrics {
    /// Counts a created ticket.
    pub fn ticket_created(&self, incident: bool) {
        let c = if incident {
            &self.incidents_created
        } else {
            &self.requests_created
        };
        c.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts escalations (manual or by rule).
    pub fn escalated(&self, n: u64) {
        self.escalations.fetch_add(n, Ordering::Relaxed);
    }

    /// Counts a received notification and its alerts by integration kind and outcome.
    pub fn intake(&self, kind: &str, outcome: &str, alerts: u64) {
        if let Ok(mut map) = self.intake.lock() {
            let e = map
                .entry((kind.to_owned(), outcome.to_owned()))
                .or_default();
            e.0 += 1;
            e.1 += alerts;
        }
    }

    /// Records one HTTP request.
    pub fn http_request(&self, method: &str, route: &str, status: u16, seconds: f64) {
        if let Ok(mut map) = self.http.lock() {
            let h = map
                .entry((method.to_owned(), route.to_owned(), status))
                .or_default();
            for (i, bound) in BUCKETS.iter().enumerate() {
                if seconds <= *bound {
                    h.counts[i] += 1;
                }
            }
            h.count += 1;
            h.sum += seconds;
        }
    }
}

fn esc(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// Renders every metric in the Prometheus text exposition format.
pub fn render(app: &App) -> Result<String, AppError> {
    let (open, firings, tiers) = app.store.read(|r| {
        Ok::<_, AppError>((r.open_ticket_counts()?, r.firing_counts()?, r.list_tiers()?))
    })?;
    let tier_name = |level: i64| {
        tiers
            .iter()
            .find(|t| i64::from(t.level) == level)
            .map_or(format!("L{level}"), |t| t.short.clone())
    };
    let m = &app.metrics;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# HELP tierdesk_tickets_open Open (unresolved) tickets by tier and priority."
    );
    let _ = writeln!(out, "# TYPE tierdesk_tickets_open gauge");
    for (tier, priority, n) in open {
        let _ = writeln!(
            out,
            "tierdesk_tickets_open{{tier=\"{}\",priority=\"{}\"}} {n}",
            esc(&tier_name(tier)),
            esc(&priority)
        );
    }
    let _ = writeln!(
        out,
        "# HELP tierdesk_sla_firings_total SLA warnings and breaches recorded, all processes."
    );
    let _ = writeln!(out, "# TYPE tierdesk_sla_firings_total counter");
    for kind in ["warning", "breach"] {
        let n = firings
            .iter()
            .find(|(k, _)| k == kind)
            .map_or(0, |(_, n)| *n);
        let _ = writeln!(out, "tierdesk_sla_firings_total{{firing=\"{kind}\"}} {n}");
    }
    let _ = writeln!(
        out,
        "# HELP tierdesk_tickets_created_total Tickets created by this process."
    );
    let _ = writeln!(out, "# TYPE tierdesk_tickets_created_total counter");
    let _ = writeln!(
        out,
        "tierdesk_tickets_created_total{{kind=\"incident\"}} {}",
        m.incidents_created.load(Ordering::Relaxed)
    );
    let _ = writeln!(
        out,
        "tierdesk_tickets_created_total{{kind=\"request\"}} {}",
        m.requests_created.load(Ordering::Relaxed)
    );
    let _ = writeln!(
        out,
        "# HELP tierdesk_intake_notifications_total Monitoring notifications received by this process, by integration kind and outcome."
    );
    let _ = writeln!(out, "# TYPE tierdesk_intake_notifications_total counter");
    let _ = writeln!(
        out,
        "# HELP tierdesk_intake_alerts_total Alerts in those notifications."
    );
    let _ = writeln!(out, "# TYPE tierdesk_intake_alerts_total counter");
    if let Ok(map) = m.intake.lock() {
        for ((kind, outcome), (n, alerts)) in map.iter() {
            let labels = format!("kind=\"{}\",outcome=\"{}\"", esc(kind), esc(outcome));
            let _ = writeln!(out, "tierdesk_intake_notifications_total{{{labels}}} {n}");
            let _ = writeln!(out, "tierdesk_intake_alerts_total{{{labels}}} {alerts}");
        }
    }
    let _ = writeln!(
        out,
        "# HELP tierdesk_escalations_total Escalations performed by this process (manual and by rule)."
    );
    let _ = writeln!(out, "# TYPE tierdesk_escalations_total counter");
    let _ = writeln!(
        out,
        "tierdesk_escalations_total {}",
        m.escalations.load(Ordering::Relaxed)
    );
    let _ = writeln!(
        out,
        "# HELP tierdesk_http_request_duration_seconds HTTP request latency."
    );
    let _ = writeln!(
        out,
        "# TYPE tierdesk_http_request_duration_seconds histogram"
    );
    if let Ok(map) = m.http.lock() {
        for ((method, route, status), h) in map.iter() {
            let labels = format!(
                "method=\"{}\",route=\"{}\",status=\"{status}\"",
                esc(method),
                esc(route)
            );
            for (i, bound) in BUCKETS.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "tierdesk_http_request_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {}",
                    h.counts[i]
                );
            }
            let _ = writeln!(
                out,
                "tierdesk_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}",
                h.count
            );
            let _ = writeln!(
                out,
                "tierdesk_http_request_duration_seconds_sum{{{labels}}} {}",
                h.sum
            );
            let _ = writeln!(
                out,
                "tierdesk_http_request_duration_seconds_count{{{labels}}} {}",
                h.count
            );
        }
    }
    Ok(out)
}
