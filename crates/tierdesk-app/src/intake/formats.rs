//! The senders' wire formats, parsed tolerantly and turned into [`Notification`]s:
//! Alertmanager's webhook (version 4), Grafana's webhook contact point (a superset of it),
//! PagerDuty Events API v2, and tierdesk's generic JSON.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer};
use serde_json::Value;
use tierdesk_domain::alert::{AlertInstance, AlertState, Labels, Link, Notification, fingerprint};

/// Why a body could not be used.
#[derive(Debug, Clone, PartialEq)]
pub struct FormatError {
    /// The offending field (`body` when the JSON itself is broken).
    pub field: String,
    /// What is wrong.
    pub message: String,
}

impl FormatError {
    fn new(field: &str, message: impl Into<String>) -> FormatError {
        FormatError {
            field: field.to_owned(),
            message: message.into(),
        }
    }
}

fn null_as_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// Alertmanager v4 / Grafana v1 webhook body.
#[derive(Debug, Deserialize)]
struct AmWebhook {
    #[serde(rename = "groupKey", default)]
    group_key: String,
    #[serde(
        rename = "truncatedAlerts",
        default,
        deserialize_with = "null_as_default"
    )]
    truncated_alerts: u64,
    #[serde(default)]
    status: String,
    #[serde(rename = "groupLabels", default, deserialize_with = "null_as_default")]
    group_labels: Labels,
    #[serde(rename = "commonLabels", default, deserialize_with = "null_as_default")]
    common_labels: Labels,
    #[serde(
        rename = "commonAnnotations",
        default,
        deserialize_with = "null_as_default"
    )]
    common_annotations: Labels,
    #[serde(rename = "externalURL", default, deserialize_with = "null_as_default")]
    external_url: String,
    #[serde(default, deserialize_with = "null_as_default")]
    alerts: Vec<AmAlert>,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    message: Option<String>,
}

#[derive(Debug, Deserialize)]
struct AmAlert {
    #[serde(default)]
    status: String,
    #[serde(default, deserialize_with = "null_as_default")]
    labels: Labels,
    #[serde(default, deserialize_with = "null_as_default")]
    annotations: Labels,
    #[serde(rename = "startsAt", default)]
    starts_at: Option<String>,
    #[serde(rename = "endsAt", default)]
    ends_at: Option<String>,
    #[serde(rename = "generatorURL", default, deserialize_with = "null_as_default")]
    generator_url: String,
    #[serde(default)]
    fingerprint: Option<String>,
    #[serde(rename = "silenceURL", default)]
    silence_url: Option<String>,
    #[serde(rename = "dashboardURL", default)]
    dashboard_url: Option<String>,
    #[serde(rename = "panelURL", default)]
    panel_url: Option<String>,
    #[serde(rename = "imageURL", default)]
    image_url: Option<String>,
    #[serde(rename = "valueString", default)]
    value_string: Option<String>,
}

/// RFC 3339 with or without a colon in the offset; Go's zero time (`0001-01-01…`) is none.
pub fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if s.is_empty() || s.starts_with("0001-01-01") {
        return None;
    }
    DateTime::parse_from_rfc3339(s)
        .or_else(|_| DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f%z"))
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

fn link(rel: &str, href: &str, text: Option<&str>) -> Option<Link> {
    let href = href.trim();
    (href.starts_with("http://") || href.starts_with("https://")).then(|| Link {
        rel: rel.to_owned(),
        href: href.to_owned(),
        text: text.map(str::to_owned),
    })
}

fn json_error(e: &serde_json::Error) -> FormatError {
    FormatError::new("body", format!("not valid JSON for this receiver: {e}"))
}

/// Parses an Alertmanager or Grafana webhook body.
pub fn alertmanager(body: &[u8]) -> Result<Notification, FormatError> {
    let m: AmWebhook = serde_json::from_slice(body).map_err(|e| json_error(&e))?;
    let status = AlertState::parse("status", &m.status)
        .map_err(|_| FormatError::new("status", "must be firing or resolved"))?;
    if m.group_key.is_empty() {
        return Err(FormatError::new("groupKey", "is required"));
    }
    let mut alerts = Vec::with_capacity(m.alerts.len());
    for (i, a) in m.alerts.into_iter().enumerate() {
        let st = AlertState::parse("status", &a.status).map_err(|_| {
            FormatError::new(&format!("alerts[{i}].status"), "must be firing or resolved")
        })?;
        let fp = a
            .fingerprint
            .filter(|f| !f.is_empty())
            .unwrap_or_else(|| fingerprint(&a.labels));
        let mut links: Vec<Link> = [
            link("source", &a.generator_url, Some("Alert source")),
            a.dashboard_url
                .as_deref()
                .and_then(|u| link("dashboard", u, Some("Dashboard"))),
            a.panel_url
                .as_deref()
                .and_then(|u| link("panel", u, Some("Panel"))),
            a.silence_url
                .as_deref()
                .and_then(|u| link("silence", u, Some("Silence in the sender"))),
            a.image_url
                .as_deref()
                .and_then(|u| link("image", u, Some("Image"))),
        ]
        .into_iter()
        .flatten()
        .collect();
        for (key, rel) in [
            ("runbook_url", "runbook"),
            ("runbook", "runbook"),
            ("dashboard_url", "dashboard"),
            ("dashboard", "dashboard"),
        ] {
            if let Some(l) = a.annotations.get(key).and_then(|u| link(rel, u, None)) {
                links.push(l);
            }
        }
        let summary = a
            .annotations
            .get("summary")
            .or_else(|| a.annotations.get("message"))
            .or_else(|| a.annotations.get("description"))
            .cloned()
            .unwrap_or_else(|| a.labels.get("alertname").cloned().unwrap_or_default());
        let mut annotations = a.annotations;
        if let Some(v) = a.value_string.filter(|v| !v.is_empty()) {
            annotations.entry("value".into()).or_insert(v);
        }
        alerts.push(AlertInstance {
            fingerprint: fp,
            status: st,
            severity: a.labels.get("severity").cloned(),
            starts_at: a.starts_at.as_deref().and_then(parse_time),
            ends_at: a.ends_at.as_deref().and_then(parse_time),
            labels: a.labels,
            annotations,
            summary,
            links,
        });
    }
    let alertname = m
        .common_labels
        .get("alertname")
        .or_else(|| m.group_labels.get("alertname"))
        .cloned();
    let title = m
        .common_annotations
        .get("summary")
        .cloned()
        .or(alertname.clone())
        .or(m.title.clone())
        .or_else(|| alerts.first().map(|a| a.summary.clone()))
        .unwrap_or_else(|| "Alert".into());
    let description = m
        .common_annotations
        .get("description")
        .cloned()
        .or(m.message)
        .unwrap_or_default();
    let mut labels = m.common_labels;
    labels.extend(m.group_labels);
    Ok(Notification {
        group_key: m.group_key,
        status,
        title,
        description,
        labels,
        links: link("alertmanager", &m.external_url, Some("Sender"))
            .into_iter()
            .collect(),
        alerts,
        truncated: m.truncated_alerts,
        acknowledge: false,
    })
}

/// PagerDuty Events API v2 event.
#[derive(Debug, Deserialize)]
struct PdEvent {
    #[serde(default)]
    routing_key: Option<String>,
    #[serde(default)]
    event_action: Option<String>,
    #[serde(default)]
    dedup_key: Option<String>,
    #[serde(default)]
    payload: Option<PdPayload>,
    #[serde(default)]
    client: Option<String>,
    #[serde(default)]
    client_url: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    links: Vec<PdLink>,
    #[serde(default, deserialize_with = "null_as_default")]
    images: Vec<PdImage>,
}

#[derive(Debug, Deserialize)]
struct PdPayload {
    #[serde(default)]
    summary: Option<String>,
    #[serde(default)]
    source: Option<String>,
    #[serde(default)]
    severity: Option<String>,
    #[serde(default)]
    timestamp: Option<String>,
    #[serde(default)]
    component: Option<String>,
    #[serde(default)]
    group: Option<String>,
    #[serde(default)]
    class: Option<String>,
    #[serde(default)]
    custom_details: Option<Value>,
}

#[derive(Debug, Deserialize)]
struct PdLink {
    #[serde(default)]
    href: String,
    #[serde(default)]
    text: Option<String>,
}

#[derive(Debug, Deserialize)]
struct PdImage {
    #[serde(default)]
    src: String,
    #[serde(default)]
    href: Option<String>,
    #[serde(default)]
    alt: Option<String>,
}

/// A PagerDuty event: its routing key, and what it means. The dedup key is generated when a
/// trigger has none.
#[derive(Debug)]
pub struct PdParsed {
    /// `routing_key`: the integration key.
    pub routing_key: String,
    /// The notification (group key = dedup key).
    pub notification: Notification,
}

/// Parses a PagerDuty Events API v2 body; errors name the field as PagerDuty does.
pub fn pagerduty(body: &[u8], new_key: impl FnOnce() -> String) -> Result<PdParsed, FormatError> {
    let e: PdEvent = serde_json::from_slice(body).map_err(|e| json_error(&e))?;
    let routing_key = e
        .routing_key
        .filter(|k| !k.trim().is_empty())
        .ok_or_else(|| FormatError::new("routing_key", "'routing_key' is missing or blank"))?;
    let action = e.event_action.unwrap_or_default().to_ascii_lowercase();
    if !["trigger", "acknowledge", "resolve"].contains(&action.as_str()) {
        return Err(FormatError::new(
            "event_action",
            "'event_action' must be one of trigger, acknowledge, resolve",
        ));
    }
    let dedup_key = match e.dedup_key.filter(|k| !k.is_empty()) {
        Some(k) if k.chars().count() > 255 => {
            return Err(FormatError::new(
                "dedup_key",
                "'dedup_key' is longer than 255 characters",
            ));
        }
        Some(k) => k,
        None if action == "trigger" => new_key(),
        None => {
            return Err(FormatError::new(
                "dedup_key",
                "'dedup_key' is required for acknowledge and resolve",
            ));
        }
    };
    let mut labels = Labels::new();
    let mut annotations = Labels::new();
    let mut summary = String::new();
    let mut severity = None;
    let mut starts_at = None;
    if let Some(p) = e.payload {
        if action == "trigger" {
            summary = p
                .summary
                .clone()
                .filter(|s| !s.trim().is_empty())
                .ok_or_else(|| {
                    FormatError::new("payload.summary", "'payload.summary' is missing or blank")
                })?;
            if summary.chars().count() > 1024 {
                summary = summary.chars().take(1024).collect();
            }
            p.source
                .as_ref()
                .filter(|s| !s.trim().is_empty())
                .ok_or_else(|| {
                    FormatError::new("payload.source", "'payload.source' is missing or blank")
                })?;
            let sev = p.severity.clone().unwrap_or_default().to_ascii_lowercase();
            if !["critical", "error", "warning", "info"].contains(&sev.as_str()) {
                return Err(FormatError::new(
                    "payload.severity",
                    "'payload.severity' must be one of critical, error, warning, info",
                ));
            }
            severity = Some(sev);
        }
        starts_at = p.timestamp.as_deref().and_then(parse_time);
        for (k, v) in [
            ("source", p.source),
            ("component", p.component),
            ("group", p.group),
            ("class", p.class),
        ] {
            if let Some(v) = v {
                labels.insert(k.into(), v);
            }
        }
        if let Some(d) = p.custom_details {
            annotations.insert("custom_details".into(), d.to_string());
        }
        if let Some(s) = p.summary {
            annotations.insert("summary".into(), s);
        }
    } else if action == "trigger" {
        return Err(FormatError::new(
            "payload",
            "'payload' is required for trigger",
        ));
    }
    let mut links: Vec<Link> = e
        .links
        .iter()
        .filter_map(|l| link("link", &l.href, l.text.as_deref()))
        .collect();
    links.extend(e.images.iter().filter_map(|i| {
        link(
            "image",
            i.href.as_deref().unwrap_or(&i.src),
            i.alt.as_deref(),
        )
    }));
    if let Some(u) = e.client_url.as_deref() {
        links.extend(link("source", u, e.client.as_deref()));
    }
    let status = if action == "resolve" {
        AlertState::Resolved
    } else {
        AlertState::Firing
    };
    let title = if summary.is_empty() {
        dedup_key.clone()
    } else {
        summary.clone()
    };
    Ok(PdParsed {
        routing_key,
        notification: Notification {
            group_key: dedup_key.clone(),
            status,
            title,
            description: annotations
                .get("custom_details")
                .cloned()
                .unwrap_or_default(),
            labels: labels.clone(),
            links: Vec::new(),
            alerts: vec![AlertInstance {
                fingerprint: dedup_key,
                status,
                labels,
                annotations,
                starts_at,
                ends_at: None,
                summary,
                severity,
                links,
            }],
            truncated: 0,
            acknowledge: action == "acknowledge",
        },
    })
}

/// tierdesk's generic JSON: `{title, status: firing|resolved, dedup_key, severity, source,
/// description, labels: {}, links: [{href, text}]}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Generic {
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    dedup_key: Option<String>,
    #[serde(default)]
    severity: Option<String>,
    #[serde(default)]
    source: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    labels: Labels,
    #[serde(default, deserialize_with = "null_as_default")]
    links: Vec<PdLink>,
}

/// Parses the generic JSON.
pub fn generic(body: &[u8]) -> Result<Notification, FormatError> {
    let g: Generic = serde_json::from_slice(body).map_err(|e| json_error(&e))?;
    let title = g
        .title
        .filter(|t| !t.trim().is_empty())
        .ok_or_else(|| FormatError::new("title", "is required"))?;
    let status = AlertState::parse("status", g.status.as_deref().unwrap_or("firing"))
        .map_err(|_| FormatError::new("status", "must be firing or resolved"))?;
    let key = g.dedup_key.filter(|k| !k.is_empty()).unwrap_or_else(|| {
        let mut l = g.labels.clone();
        l.insert("title".into(), title.clone());
        fingerprint(&l)
    });
    let mut labels = g.labels;
    if let Some(s) = g.source {
        labels.insert("source".into(), s);
    }
    let mut annotations = BTreeMap::new();
    if let Some(d) = &g.description {
        annotations.insert("description".into(), d.clone());
    }
    Ok(Notification {
        group_key: key.clone(),
        status,
        title: title.clone(),
        description: g.description.unwrap_or_default(),
        labels: labels.clone(),
        links: Vec::new(),
        alerts: vec![AlertInstance {
            fingerprint: key,
            status,
            severity: g.severity.or_else(|| labels.get("severity").cloned()),
            labels,
            annotations,
            starts_at: None,
            ends_at: None,
            summary: title,
            links: g
                .links
                .iter()
                .filter_map(|l| link("link", &l.href, l.text.as_deref()))
                .collect(),
        }],
        truncated: 0,
        acknowledge: false,
    })
}

#[cfg(test)]
mod tests;
