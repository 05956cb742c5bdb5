-- Knowledge base: every edit of an article is a new version.
ALTER TABLE articles ADD COLUMN version BIGINT NOT NULL DEFAULT 1;
ALTER TABLE articles ADD COLUMN review_by TEXT;

CREATE TABLE article_versions (
    article_id BIGINT NOT NULL REFERENCES articles(id),
    version BIGINT NOT NULL,
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    keywords TEXT NOT NULL,
    audience TEXT NOT NULL,
    status TEXT NOT NULL,
    editor_id BIGINT REFERENCES users(id),
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (article_id, version)
);

INSERT INTO article_versions (article_id, version, kind, title, body, keywords, audience, status, editor_id, created_at)
SELECT id, 1, kind, title, body, keywords, audience, status, owner_id, created_at FROM articles;

CREATE FUNCTION article_versions_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'article versions are append-only';
END;
$$;
CREATE TRIGGER article_versions_append_only_row BEFORE UPDATE OR DELETE ON article_versions
    FOR EACH ROW EXECUTE FUNCTION article_versions_append_only();

-- Usage and feedback: tickets resolved with the article, requesters' "this solved it"
-- (deflections), and helpful / not-helpful votes with an optional comment.
ALTER TABLE articles ADD COLUMN uses BIGINT NOT NULL DEFAULT 0;
ALTER TABLE articles ADD COLUMN deflections BIGINT NOT NULL DEFAULT 0;
ALTER TABLE articles ADD COLUMN helpful BIGINT NOT NULL DEFAULT 0;
ALTER TABLE articles ADD COLUMN not_helpful BIGINT NOT NULL DEFAULT 0;

CREATE TABLE article_feedback (
    id BIGSERIAL PRIMARY KEY,
    article_id BIGINT NOT NULL REFERENCES articles(id),
    user_id BIGINT NOT NULL REFERENCES users(id),
    helpful BOOLEAN NOT NULL,
    comment TEXT,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX article_feedback_article ON article_feedback(article_id, id);

-- A stable name for articles kept as Markdown files (`tierdesk kb import/export`).
ALTER TABLE articles ADD COLUMN slug TEXT;
CREATE UNIQUE INDEX articles_slug ON articles(slug) WHERE slug IS NOT NULL;
