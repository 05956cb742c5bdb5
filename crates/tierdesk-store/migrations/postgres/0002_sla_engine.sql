-- SLA engine: policies, calendars, escalation rules, exactly-once firings, the timer index.
CREATE TABLE sla_policies (
    position BIGINT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    body JSONB NOT NULL
);

CREATE TABLE calendars (
    name TEXT PRIMARY KEY,
    body JSONB NOT NULL
);

CREATE TABLE escalation_rules (
    position BIGINT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    body JSONB NOT NULL
);

-- One row per (ticket, clock, warning|breach): the unique key makes a firing happen once,
-- whichever app node or restart gets there first.
CREATE TABLE sla_firings (
    ticket_id BIGINT NOT NULL REFERENCES tickets(id),
    clock_key TEXT NOT NULL,
    firing TEXT NOT NULL,
    fired_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (ticket_id, clock_key, firing)
);

-- The next instant the SLA timer must look at a ticket (far future when none).
ALTER TABLE tickets ADD COLUMN sla_next_at TIMESTAMPTZ NOT NULL DEFAULT '9999-12-31 23:59:59+00';
CREATE INDEX tickets_sla_next ON tickets(sla_next_at);

-- Which SLA policy a ticket's clocks follow, and why it matched.
ALTER TABLE tickets ADD COLUMN sla_policy TEXT;
ALTER TABLE tickets ADD COLUMN sla_policy_reason TEXT;

-- Outbound webhooks: subscriptions and a durable outbox (delivered at least once).
CREATE TABLE webhook_subscriptions (
    id BIGSERIAL PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    url TEXT NOT NULL,
    secret TEXT NOT NULL,
    events JSONB NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE webhook_outbox (
    id BIGSERIAL PRIMARY KEY,
    subscription_id BIGINT NOT NULL REFERENCES webhook_subscriptions(id),
    event TEXT NOT NULL,
    payload TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMPTZ NOT NULL,
    delivered_at TIMESTAMPTZ,
    last_error TEXT,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX webhook_outbox_due ON webhook_outbox(next_attempt_at) WHERE delivered_at IS NULL;

CREATE TABLE webhook_attempts (
    id BIGSERIAL PRIMARY KEY,
    outbox_id BIGINT NOT NULL REFERENCES webhook_outbox(id),
    at TIMESTAMPTZ NOT NULL,
    status BIGINT,
    error TEXT
);
CREATE INDEX webhook_attempts_outbox ON webhook_attempts(outbox_id, id);

-- Derived columns for reports: the highest tier reached and the number of breached clocks.
ALTER TABLE tickets ADD COLUMN max_tier BIGINT NOT NULL DEFAULT 1;
ALTER TABLE tickets ADD COLUMN sla_breaches BIGINT NOT NULL DEFAULT 0;
-- Covering indexes: reports read these instead of the wide ticket rows.
CREATE INDEX tickets_report ON tickets(created_at, tier, team_id, priority, service_id,
    first_response_at, resolved_at, max_tier, sla_breaches);
CREATE INDEX tickets_backlog ON tickets(tier, team_id, priority, service_id, created_at) WHERE is_open = TRUE;

-- Bumped by every change to tiers, SLA configuration or webhooks, so each process can cache
-- that configuration and notice another process's change with one small read.
CREATE TABLE config_generation (
    id BIGINT PRIMARY KEY CHECK (id = 1),
    n BIGINT NOT NULL
);
INSERT INTO config_generation (id, n) VALUES (1, 0);
