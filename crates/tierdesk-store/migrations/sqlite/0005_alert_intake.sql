-- Monitoring alert intake (SPEC §6): integrations with their secret keys, every received
-- notification kept raw, alert groups (one row per integration and group key, pointing at the
-- group's current incident), alert instances, silences.

CREATE TABLE integrations (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL CHECK (kind IN ('alertmanager', 'grafana', 'pagerduty', 'generic', 'heartbeat')),
    key_hash TEXT NOT NULL UNIQUE,
    team_id BIGINT REFERENCES teams(id),
    service_id BIGINT REFERENCES services(id),
    tier INTEGER NOT NULL DEFAULT 1,
    severity_map TEXT NOT NULL DEFAULT '{}',
    resolve_policy TEXT NOT NULL DEFAULT 'resolve' CHECK (resolve_policy IN ('resolve', 'annotate')),
    reopen_window_secs BIGINT NOT NULL DEFAULT 1800,
    flap_changes INTEGER NOT NULL DEFAULT 6,
    flap_window_secs BIGINT NOT NULL DEFAULT 1800,
    storm_groups_per_minute INTEGER NOT NULL DEFAULT 50,
    storm_ticket_id BIGINT REFERENCES tickets(id),
    stale_after_secs BIGINT,
    heartbeat_interval_secs BIGINT,
    heartbeat_due_at INTEGER,
    heartbeat_ticket_id BIGINT REFERENCES tickets(id),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX integrations_heartbeat_due ON integrations(heartbeat_due_at) WHERE heartbeat_due_at IS NOT NULL;

-- Every accepted notification, raw, before anything is derived from it. `bucket` (received time
-- in minutes) with the body hash makes a redelivery (Alertmanager HA peers) a no-op.
CREATE TABLE intake_events (
    id INTEGER PRIMARY KEY,
    integration_id BIGINT NOT NULL REFERENCES integrations(id),
    received_at INTEGER NOT NULL,
    body_hash TEXT NOT NULL,
    bucket BIGINT NOT NULL,
    body TEXT NOT NULL,
    alerts INTEGER NOT NULL DEFAULT 0,
    outcome TEXT NOT NULL
);
CREATE UNIQUE INDEX intake_events_dedup ON intake_events(integration_id, body_hash, bucket);

CREATE TABLE alert_groups (
    id INTEGER PRIMARY KEY,
    integration_id BIGINT NOT NULL REFERENCES integrations(id),
    group_key TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('firing', 'resolved')),
    ticket_id BIGINT REFERENCES tickets(id),
    title TEXT NOT NULL,
    labels TEXT NOT NULL DEFAULT '{}',
    links TEXT NOT NULL DEFAULT '[]',
    notifications BIGINT NOT NULL DEFAULT 0,
    flapping INTEGER NOT NULL DEFAULT 0,
    state_changes TEXT NOT NULL DEFAULT '[]',
    silenced INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    last_seen INTEGER NOT NULL,
    UNIQUE (integration_id, group_key)
);
CREATE INDEX alert_groups_ticket ON alert_groups(ticket_id);
CREATE INDEX alert_groups_recent ON alert_groups(integration_id, created_at);

CREATE TABLE alerts (
    id INTEGER PRIMARY KEY,
    group_id BIGINT NOT NULL REFERENCES alert_groups(id),
    fingerprint TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('firing', 'resolved')),
    severity TEXT,
    summary TEXT NOT NULL DEFAULT '',
    labels TEXT NOT NULL DEFAULT '{}',
    annotations TEXT NOT NULL DEFAULT '{}',
    links TEXT NOT NULL DEFAULT '[]',
    starts_at INTEGER,
    ends_at INTEGER,
    occurrences BIGINT NOT NULL DEFAULT 1,
    silenced INTEGER NOT NULL DEFAULT 0,
    first_seen INTEGER NOT NULL,
    last_seen INTEGER NOT NULL,
    UNIQUE (group_id, fingerprint)
);

-- One open incident per alert group, enforced by the database.
ALTER TABLE tickets ADD COLUMN alert_group_id BIGINT REFERENCES alert_groups(id);
CREATE UNIQUE INDEX tickets_one_open_per_alert_group ON tickets(alert_group_id)
    WHERE alert_group_id IS NOT NULL AND status NOT IN ('resolved', 'closed', 'cancelled');

CREATE TABLE silences (
    id INTEGER PRIMARY KEY,
    matchers TEXT NOT NULL,
    starts_at INTEGER NOT NULL,
    ends_at INTEGER NOT NULL,
    comment TEXT NOT NULL DEFAULT '',
    created_by BIGINT REFERENCES users(id),
    created_at INTEGER NOT NULL
);
CREATE INDEX silences_ends ON silences(ends_at);
