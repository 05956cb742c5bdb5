-- Knowledge base: every edit of an article is a new version.
ALTER TABLE articles ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE articles ADD COLUMN review_by TEXT;

CREATE TABLE article_versions (
    article_id INTEGER NOT NULL REFERENCES articles(id),
    version INTEGER NOT NULL,
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    keywords TEXT NOT NULL,
    audience TEXT NOT NULL,
    status TEXT NOT NULL,
    editor_id INTEGER REFERENCES users(id),
    created_at INTEGER NOT NULL,
    PRIMARY KEY (article_id, version)
);

INSERT INTO article_versions (article_id, version, kind, title, body, keywords, audience, status, editor_id, created_at)
SELECT id, 1, kind, title, body, keywords, audience, status, owner_id, created_at FROM articles;

CREATE TRIGGER article_versions_append_only_update BEFORE UPDATE ON article_versions
BEGIN SELECT RAISE(ABORT, 'article versions are append-only'); END;
CREATE TRIGGER article_versions_append_only_delete BEFORE DELETE ON article_versions
BEGIN SELECT RAISE(ABORT, 'article versions are append-only'); END;

-- Usage and feedback: tickets resolved with the article, requesters' "this solved it"
-- (deflections), and helpful / not-helpful votes with an optional comment.
ALTER TABLE articles ADD COLUMN uses BIGINT NOT NULL DEFAULT 0;
ALTER TABLE articles ADD COLUMN deflections BIGINT NOT NULL DEFAULT 0;
ALTER TABLE articles ADD COLUMN helpful BIGINT NOT NULL DEFAULT 0;
ALTER TABLE articles ADD COLUMN not_helpful BIGINT NOT NULL DEFAULT 0;

CREATE TABLE article_feedback (
    id INTEGER PRIMARY KEY,
    article_id BIGINT NOT NULL REFERENCES articles(id),
    user_id BIGINT NOT NULL REFERENCES users(id),
    helpful INTEGER NOT NULL,
    comment TEXT,
    created_at INTEGER NOT NULL
);
CREATE INDEX article_feedback_article ON article_feedback(article_id, id);

-- A stable name for articles kept as Markdown files (`tierdesk kb import/export`).
ALTER TABLE articles ADD COLUMN slug TEXT;
CREATE UNIQUE INDEX articles_slug ON articles(slug) WHERE slug IS NOT NULL;
