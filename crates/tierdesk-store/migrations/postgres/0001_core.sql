-- tierdesk core schema (PostgreSQL). Same tables and names as the SQLite tree.
CREATE TABLE tiers (
    level BIGINT PRIMARY KEY,
    short TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    response_target_secs BIGINT NOT NULL CHECK (response_target_secs > 0),
    default_team_id BIGINT
);

CREATE TABLE users (
    id BIGSERIAL PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    email TEXT,
    roles TEXT NOT NULL,
    password_hash TEXT,
    disabled BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE teams (
    id BIGSERIAL PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    tier_level BIGINT NOT NULL REFERENCES tiers(level),
    lead_id BIGINT REFERENCES users(id),
    email TEXT,
    created_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE team_members (
    team_id BIGINT NOT NULL REFERENCES teams(id),
    user_id BIGINT NOT NULL REFERENCES users(id),
    PRIMARY KEY (team_id, user_id)
);
CREATE INDEX team_members_user ON team_members(user_id);

CREATE TABLE api_tokens (
    id BIGSERIAL PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users(id),
    token_hash TEXT NOT NULL UNIQUE,
    label TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    revoked_at TIMESTAMPTZ
);

CREATE TABLE services (
    id BIGSERIAL PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    criticality TEXT NOT NULL,
    description TEXT NOT NULL,
    links JSONB NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE service_owners (
    service_id BIGINT NOT NULL REFERENCES services(id),
    tier_level BIGINT NOT NULL REFERENCES tiers(level),
    team_id BIGINT NOT NULL REFERENCES teams(id),
    PRIMARY KEY (service_id, tier_level)
);

CREATE TABLE categories (
    id BIGSERIAL PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    default_service_id BIGINT REFERENCES services(id),
    default_team_id BIGINT REFERENCES teams(id)
);

-- Ticket numbers come from sequences so concurrent creations do not serialise on a counter row.
CREATE SEQUENCE ticket_number_incident;
CREATE SEQUENCE ticket_number_request;

CREATE TABLE tickets (
    id BIGSERIAL PRIMARY KEY,
    key TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    description TEXT NOT NULL,
    requester_id BIGINT NOT NULL REFERENCES users(id),
    channel TEXT NOT NULL,
    category_id BIGINT REFERENCES categories(id),
    service_id BIGINT REFERENCES services(id),
    impact BIGINT NOT NULL CHECK (impact BETWEEN 1 AND 3),
    urgency BIGINT NOT NULL CHECK (urgency BETWEEN 1 AND 3),
    priority TEXT NOT NULL,
    priority_reason TEXT,
    status TEXT NOT NULL,
    pending_reason TEXT,
    tier BIGINT NOT NULL REFERENCES tiers(level),
    team_id BIGINT REFERENCES teams(id),
    assignee_id BIGINT REFERENCES users(id),
    major BOOLEAN NOT NULL,
    tags JSONB NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    first_response_at TIMESTAMPTZ,
    resolved_at TIMESTAMPTZ,
    closed_at TIMESTAMPTZ,
    resolution_code TEXT,
    resolution_note TEXT,
    article_id BIGINT,
    clocks JSONB NOT NULL,
    version BIGINT NOT NULL,
    is_open BOOLEAN NOT NULL,
    sla_due TIMESTAMPTZ NOT NULL
);
CREATE INDEX tickets_queue ON tickets(team_id, sla_due, id) WHERE is_open = TRUE;
CREATE INDEX tickets_requester ON tickets(requester_id, id);
CREATE INDEX tickets_status ON tickets(status, id);
CREATE INDEX tickets_tier ON tickets(tier, is_open, id);
CREATE INDEX tickets_team ON tickets(team_id, id);

CREATE TABLE events (
    id BIGSERIAL PRIMARY KEY,
    ticket_id BIGINT NOT NULL REFERENCES tickets(id),
    at TIMESTAMPTZ NOT NULL,
    actor_id BIGINT REFERENCES users(id),
    kind TEXT NOT NULL,
    public BOOLEAN NOT NULL,
    data JSONB NOT NULL
);
CREATE INDEX events_ticket ON events(ticket_id, id);

CREATE FUNCTION events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'timeline events are append-only';
END;
$$;
CREATE TRIGGER events_append_only_row BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION events_append_only();
CREATE TRIGGER events_append_only_truncate BEFORE TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION events_append_only();

CREATE TABLE idempotency_keys (
    user_id BIGINT NOT NULL REFERENCES users(id),
    key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status BIGINT NOT NULL,
    body TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (user_id, key)
);

CREATE TABLE articles (
    id BIGSERIAL PRIMARY KEY,
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    keywords TEXT NOT NULL,
    audience TEXT NOT NULL,
    status TEXT NOT NULL,
    service_id BIGINT REFERENCES services(id),
    category_id BIGINT REFERENCES categories(id),
    owner_id BIGINT REFERENCES users(id),
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
