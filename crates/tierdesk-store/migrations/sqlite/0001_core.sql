-- tierdesk core schema (SQLite). Timestamps are INTEGER microseconds since the Unix epoch (UTC).
CREATE TABLE tiers (
    level INTEGER PRIMARY KEY,
    short TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    response_target_secs INTEGER NOT NULL CHECK (response_target_secs > 0),
    default_team_id INTEGER
);

CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    email TEXT,
    roles TEXT NOT NULL,
    password_hash TEXT,
    disabled INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
);

CREATE TABLE teams (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    tier_level INTEGER NOT NULL REFERENCES tiers(level),
    lead_id INTEGER REFERENCES users(id),
    email TEXT,
    created_at INTEGER NOT NULL
);

CREATE TABLE team_members (
    team_id INTEGER NOT NULL REFERENCES teams(id),
    user_id INTEGER NOT NULL REFERENCES users(id),
    PRIMARY KEY (team_id, user_id)
);
CREATE INDEX team_members_user ON team_members(user_id);

CREATE TABLE api_tokens (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id),
    token_hash TEXT NOT NULL UNIQUE,
    label TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
);

CREATE TABLE services (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    criticality TEXT NOT NULL,
    description TEXT NOT NULL,
    links TEXT NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE TABLE service_owners (
    service_id INTEGER NOT NULL REFERENCES services(id),
    tier_level INTEGER NOT NULL REFERENCES tiers(level),
    team_id INTEGER NOT NULL REFERENCES teams(id),
    PRIMARY KEY (service_id, tier_level)
);

CREATE TABLE categories (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    default_service_id INTEGER REFERENCES services(id),
    default_team_id INTEGER REFERENCES teams(id)
);

CREATE TABLE ticket_counters (
    kind TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
INSERT INTO ticket_counters (kind, value) VALUES ('incident', 0), ('request', 0);

CREATE TABLE tickets (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    description TEXT NOT NULL,
    requester_id INTEGER NOT NULL REFERENCES users(id),
    channel TEXT NOT NULL,
    category_id INTEGER REFERENCES categories(id),
    service_id INTEGER REFERENCES services(id),
    impact INTEGER NOT NULL CHECK (impact BETWEEN 1 AND 3),
    urgency INTEGER NOT NULL CHECK (urgency BETWEEN 1 AND 3),
    priority TEXT NOT NULL,
    priority_reason TEXT,
    status TEXT NOT NULL,
    pending_reason TEXT,
    tier INTEGER NOT NULL REFERENCES tiers(level),
    team_id INTEGER REFERENCES teams(id),
    assignee_id INTEGER REFERENCES users(id),
    major INTEGER NOT NULL,
    tags TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    first_response_at INTEGER,
    resolved_at INTEGER,
    closed_at INTEGER,
    resolution_code TEXT,
    resolution_note TEXT,
    article_id INTEGER,
    clocks TEXT NOT NULL,
    version INTEGER NOT NULL,
    is_open INTEGER NOT NULL,
    sla_due INTEGER NOT NULL
);
CREATE INDEX tickets_queue ON tickets(team_id, sla_due, id) WHERE is_open = TRUE;
CREATE INDEX tickets_requester ON tickets(requester_id, id);
CREATE INDEX tickets_status ON tickets(status, id);
CREATE INDEX tickets_tier ON tickets(tier, is_open, id);
CREATE INDEX tickets_team ON tickets(team_id, id);

CREATE TABLE events (
    id INTEGER PRIMARY KEY,
    ticket_id INTEGER NOT NULL REFERENCES tickets(id),
    at INTEGER NOT NULL,
    actor_id INTEGER REFERENCES users(id),
    kind TEXT NOT NULL,
    public INTEGER NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX events_ticket ON events(ticket_id, id);

CREATE TRIGGER events_append_only_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'timeline events are append-only'); END;
CREATE TRIGGER events_append_only_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'timeline events are append-only'); END;

CREATE TABLE idempotency_keys (
    user_id INTEGER NOT NULL REFERENCES users(id),
    key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status INTEGER NOT NULL,
    body TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, key)
);

CREATE TABLE articles (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    keywords TEXT NOT NULL,
    audience TEXT NOT NULL,
    status TEXT NOT NULL,
    service_id INTEGER REFERENCES services(id),
    category_id INTEGER REFERENCES categories(id),
    owner_id INTEGER REFERENCES users(id),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
