#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;

const AM_FIRING: &str = include_str!("../../../tests/fixtures/intake/alertmanager-firing.json");
const AM_RESOLVED: &str = include_str!("../../../tests/fixtures/intake/alertmanager-resolved.json");
const AM_018: &str = include_str!("../../../tests/fixtures/intake/alertmanager-0.18.json");
const GRAFANA: &str = include_str!("../../../tests/fixtures/intake/grafana-firing.json");
const PD_TRIGGER: &str = include_str!("../../../tests/fixtures/intake/pagerduty-trigger.json");
const PD_RESOLVE: &str = include_str!("../../../tests/fixtures/intake/pagerduty-resolve.json");

#[test]
fn alertmanager_v4_with_null_route_labels_and_escaped_urls() {
    let n = alertmanager(AM_FIRING.as_bytes()).unwrap();
    assert_eq!(
        n.group_key,
        r#"{}/{severity="critical"}:{alertname="ProbeFailure"}"#
    );
    assert_eq!(n.status, AlertState::Firing);
    assert_eq!(
        n.title,
        "BlackBox Probe Failure: https://server.example.org"
    );
    assert_eq!(n.severity(), Some("critical"));
    let a = &n.alerts[0];
    assert_eq!(a.fingerprint, "1a30ba71cca2921f");
    assert_eq!(a.ends_at, None, "Go's zero time is no end");
    assert_eq!(
        a.starts_at.unwrap().to_rfc3339(),
        "2023-02-06T13:08:45.828+00:00"
    );
    let rels: Vec<(&str, &str)> = a
        .links
        .iter()
        .map(|l| (l.rel.as_str(), l.href.as_str()))
        .collect();
    assert!(
        rels.contains(&(
            "source",
            "http://prometheus.example.org:9090/graph?g0.expr=probe_success+%3D%3D+0&g0.tab=1"
        )),
        "{rels:?}"
    );
    assert!(rels.contains(&("runbook", "https://wiki.example.org/sop/probe-failure")));
    assert_eq!(n.links[0].href, "http://alertmanager.example.org:9093");
    let r = alertmanager(AM_RESOLVED.as_bytes()).unwrap();
    assert_eq!(
        (r.status, r.alerts[0].status),
        (AlertState::Resolved, AlertState::Resolved)
    );
    assert!(r.alerts[0].ends_at.is_some());
}

#[test]
fn truncated_alerts_are_counted() {
    let body = AM_FIRING.replace("\"truncatedAlerts\": 0", "\"truncatedAlerts\": 5");
    assert_eq!(alertmanager(body.as_bytes()).unwrap().truncated, 5);
}

#[test]
fn alertmanager_before_0_19_gets_the_prometheus_fingerprint() {
    let n = alertmanager(AM_018.as_bytes()).unwrap();
    assert_eq!(n.alerts[0].fingerprint, fingerprint(&n.alerts[0].labels));
    assert_eq!(n.alerts[0].fingerprint.len(), 16);
}

#[test]
fn grafana_keeps_its_fingerprint_and_dashboard_links() {
    let n = alertmanager(GRAFANA.as_bytes()).unwrap();
    let a = &n.alerts[0];
    assert_eq!(a.fingerprint, "c6eadffa33fcdf37");
    assert_eq!(a.summary, "This alert was triggered for zone us-1");
    let rels: Vec<&str> = a.links.iter().map(|l| l.rel.as_str()).collect();
    for want in ["source", "dashboard", "panel", "silence", "runbook"] {
        assert!(rels.contains(&want), "{want} in {rels:?}");
    }
    assert_eq!(a.annotations["value"], "[ var='B' labels={} value=44.23 ]");
    assert_eq!(n.title, "High memory usage");
    assert!(a.starts_at.is_some(), "offset +02:00 with microseconds");
}

#[test]
fn pagerduty_trigger_and_resolve() {
    let p = pagerduty(PD_TRIGGER.as_bytes(), || "unused".into()).unwrap();
    assert_eq!(p.routing_key, "e93facc04764012d7bfb002500d5d1a6");
    let n = p.notification;
    assert_eq!(n.group_key, "srv01/mysql");
    assert_eq!(
        n.title,
        "DISK at 99% on machine prod-datapipe03.example.com"
    );
    assert_eq!(n.severity(), Some("critical"));
    let a = &n.alerts[0];
    assert_eq!(
        a.starts_at.unwrap().to_rfc3339(),
        "2015-07-17T08:42:58.315+00:00",
        "+0000 offsets"
    );
    assert_eq!(a.labels["component"], "mysql");
    assert!(a.annotations["custom_details"].contains("1500ms"));
    assert_eq!(a.links.len(), 3, "{:?}", a.links);
    let r = pagerduty(PD_RESOLVE.as_bytes(), || "unused".into()).unwrap();
    assert_eq!(r.notification.status, AlertState::Resolved);
    assert_eq!(r.notification.group_key, "srv01/mysql");
    let generated = pagerduty(
        br#"{"routing_key":"k","event_action":"trigger","payload":{"summary":"s","source":"h","severity":"info"}}"#,
        || "generated-key".into(),
    )
    .unwrap();
    assert_eq!(generated.notification.group_key, "generated-key");
}

#[test]
fn pagerduty_errors_name_the_field() {
    let err = |body: &str| pagerduty(body.as_bytes(), || "k".into()).unwrap_err().field;
    assert_eq!(err(r#"{"event_action":"trigger"}"#), "routing_key");
    assert_eq!(
        err(r#"{"routing_key":"k","event_action":"explode"}"#),
        "event_action"
    );
    assert_eq!(
        err(
            r#"{"routing_key":"k","event_action":"trigger","payload":{"summary":"s","source":"h","severity":"fatal"}}"#
        ),
        "payload.severity"
    );
    assert_eq!(
        err(r#"{"routing_key":"k","event_action":"resolve"}"#),
        "dedup_key"
    );
    assert_eq!(
        err(r#"{"routing_key":"k","event_action":"trigger"}"#),
        "payload"
    );
    assert_eq!(err("{not json"), "body");
}

#[test]
fn generic_json() {
    let n = generic(br#"{"title":"Queue backlog","severity":"warning","dedup_key":"q1","labels":{"queue":"mail"},"links":[{"href":"https://grafana/x","text":"graph"}]}"#).unwrap();
    assert_eq!((n.group_key.as_str(), n.status), ("q1", AlertState::Firing));
    assert_eq!(n.alerts[0].links[0].href, "https://grafana/x");
    assert_eq!(
        generic(br#"{"status":"firing"}"#).unwrap_err().field,
        "title"
    );
    assert_eq!(
        generic(br#"{"title":"x","bogus":1}"#).unwrap_err().field,
        "body"
    );
}
