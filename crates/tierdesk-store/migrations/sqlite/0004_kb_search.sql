-- Knowledge search: every change to an article's searchable content takes the next number of
-- one counter row. Each node's search index records the last number it applied and polls for
-- higher ones. The counter row is updated inside the writing transaction, so on PostgreSQL it
-- also serialises article writers: numbers become visible in the order they were taken and a
-- poller never skips a change that commits late.
CREATE TABLE kb_change_seq (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    value BIGINT NOT NULL
);
INSERT INTO kb_change_seq (id, value) VALUES (1, 0);
ALTER TABLE articles ADD COLUMN change_seq BIGINT NOT NULL DEFAULT 0;
-- Articles written before this migration take their id as their change number.
UPDATE articles SET change_seq = id;
UPDATE kb_change_seq SET value = (SELECT COALESCE(MAX(id), 0) FROM articles);
CREATE UNIQUE INDEX articles_change_seq ON articles(change_seq);

-- Which articles were suggested for a ticket, and which an agent opened while working on it.
CREATE TABLE ticket_articles (
    ticket_id BIGINT NOT NULL REFERENCES tickets(id),
    article_id BIGINT NOT NULL REFERENCES articles(id),
    relation TEXT NOT NULL CHECK (relation IN ('suggested', 'opened')),
    user_id BIGINT REFERENCES users(id),
    score DOUBLE PRECISION,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (ticket_id, relation, article_id)
);
