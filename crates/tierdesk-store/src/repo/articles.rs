//! Knowledge articles: records, versions, feedback and usage counts, the change feed that
//! keeps search indexes in step, and which articles a ticket's agents were shown or opened.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::Repo;
use crate::StoreError;
use crate::value::{Row, Value};

/// A knowledge article.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ArticleRecord {
    /// Id.
    pub id: i64,
    /// `sop`, `howto`, `faq`, `known_error` or `postmortem`.
    pub kind: String,
    /// Title.
    pub title: String,
    /// Markdown body.
    pub body: String,
    /// Symptoms and keywords, space-separated.
    pub keywords: String,
    /// `public` or `internal`.
    pub audience: String,
    /// `draft`, `review`, `published` or `retired`.
    pub status: String,
    /// Service id.
    pub service_id: Option<i64>,
    /// Category id.
    pub category_id: Option<i64>,
    /// Owner user id.
    pub owner_id: Option<i64>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
    /// Current version (every edit adds one).
    pub version: i64,
    /// Date by which the owner should review it, `YYYY-MM-DD`.
    pub review_by: Option<String>,
    /// Tickets resolved with it.
    pub uses: i64,
    /// Times a requester said it solved the problem without a ticket.
    pub deflections: i64,
    /// Helpful votes.
    pub helpful: i64,
    /// Not-helpful votes.
    pub not_helpful: i64,
    /// Stable file name for import/export.
    pub slug: Option<String>,
}

/// One stored version of an article.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ArticleVersion {
    /// Version number, from 1.
    pub version: i64,
    /// Kind at that version.
    pub kind: String,
    /// Title.
    pub title: String,
    /// Markdown body.
    pub body: String,
    /// Keywords.
    pub keywords: String,
    /// Audience.
    pub audience: String,
    /// Status.
    pub status: String,
    /// Who made it.
    pub editor_id: Option<i64>,
    /// When.
    pub created_at: DateTime<Utc>,
}

/// What a new article is made from.
#[derive(Debug, Clone)]
pub struct NewArticle {
    /// Kind.
    pub kind: String,
    /// Title.
    pub title: String,
    /// Body.
    pub body: String,
    /// Keywords.
    pub keywords: String,
    /// Audience.
    pub audience: String,
    /// Status.
    pub status: String,
    /// Service id.
    pub service_id: Option<i64>,
    /// Category id.
    pub category_id: Option<i64>,
    /// Owner.
    pub owner_id: Option<i64>,
    /// Review-by date, `YYYY-MM-DD`.
    pub review_by: Option<String>,
    /// Stable file name for import/export.
    pub slug: Option<String>,
}

const ARTICLE_COLS: &str = "id, kind, title, body, keywords, audience, status, service_id, category_id, owner_id, created_at, updated_at, version, review_by, uses, deflections, helpful, not_helpful, slug";

fn article_from_row(r: &Row) -> Result<ArticleRecord, StoreError> {
    Ok(ArticleRecord {
        id: r.i64(0)?,
        kind: r.text(1)?,
        title: r.text(2)?,
        body: r.text(3)?,
        keywords: r.text(4)?,
        audience: r.text(5)?,
        status: r.text(6)?,
        service_id: r.opt_i64(7)?,
        category_id: r.opt_i64(8)?,
        owner_id: r.opt_i64(9)?,
        created_at: r.time(10)?,
        updated_at: r.time(11)?,
        version: r.i64(12)?,
        review_by: r.opt_text(13)?,
        uses: r.i64(14)?,
        deflections: r.i64(15)?,
        helpful: r.i64(16)?,
        not_helpful: r.i64(17)?,
        slug: r.opt_text(18)?,
    })
}

impl Repo<'_> {
    fn insert_article_version(
        &mut self,
        a: &ArticleRecord,
        editor: Option<i64>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.exec(
            "INSERT INTO article_versions (article_id, version, kind, title, body, keywords, audience, status, editor_id, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            &[
                Value::Int(a.id),
                Value::Int(a.version),
                Value::from(&a.kind),
                Value::from(&a.title),
                Value::from(&a.body),
                Value::from(&a.keywords),
                Value::from(&a.audience),
                Value::from(&a.status),
                Value::from(editor),
                Value::Time(now),
            ],
        )?;
        Ok(())
    }

    /// Saves an edited article as its next version. Fails with [`StoreError::Constraint`] when
    /// someone else saved a version since `a.version` was read.
    pub fn update_article(
        &mut self,
        a: &ArticleRecord,
        editor: i64,
        now: DateTime<Utc>,
    ) -> Result<ArticleRecord, StoreError> {
        let seq = self.next_change_seq()?;
        let n = self.exec(
            "UPDATE articles SET kind = $2, title = $3, body = $4, keywords = $5, audience = $6, status = $7, \
             service_id = $8, category_id = $9, review_by = $10, updated_at = $11, version = version + 1, change_seq = $13 \
             WHERE id = $1 AND version = $12",
            &[
                Value::Int(a.id),
                Value::from(&a.kind),
                Value::from(&a.title),
                Value::from(&a.body),
                Value::from(&a.keywords),
                Value::from(&a.audience),
                Value::from(&a.status),
                Value::from(a.service_id),
                Value::from(a.category_id),
                Value::from(a.review_by.clone()),
                Value::Time(now),
                Value::Int(a.version),
                Value::Int(seq),
            ],
        )?;
        if n != 1 {
            return Err(StoreError::Constraint(format!(
                "article {} changed concurrently",
                a.id
            )));
        }
        let saved = self
            .article_by_id(a.id)?
            .ok_or_else(|| StoreError::Other(format!("article {} vanished", a.id)))?;
        self.insert_article_version(&saved, Some(editor), now)?;
        Ok(saved)
    }

    /// An article by its slug.
    pub fn article_by_slug(&mut self, slug: &str) -> Result<Option<ArticleRecord>, StoreError> {
        let sql = format!("SELECT {ARTICLE_COLS} FROM articles WHERE slug = $1");
        self.one(&sql, &[Value::from(slug)])?
            .map(|r| article_from_row(&r))
            .transpose()
    }

    /// Records a helpful / not-helpful vote.
    pub fn add_article_feedback(
        &mut self,
        id: i64,
        user: i64,
        helpful: bool,
        comment: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.exec(
            "INSERT INTO article_feedback (article_id, user_id, helpful, comment, created_at) VALUES ($1, $2, $3, $4, $5)",
            &[Value::Int(id), Value::Int(user), Value::Bool(helpful), Value::from(comment), Value::Time(now)],
        )?;
        let column = if helpful { "helpful" } else { "not_helpful" };
        self.exec(
            &format!("UPDATE articles SET {column} = {column} + 1 WHERE id = $1"),
            &[Value::Int(id)],
        )?;
        Ok(())
    }

    /// Counts a ticket resolved with the article.
    pub fn count_article_use(&mut self, id: i64) -> Result<(), StoreError> {
        self.exec(
            "UPDATE articles SET uses = uses + 1 WHERE id = $1",
            &[Value::Int(id)],
        )?;
        Ok(())
    }

    /// Counts a deflection ("this solved it", no ticket); returns the new count.
    pub fn count_deflection(&mut self, id: i64) -> Result<i64, StoreError> {
        self.one(
            "UPDATE articles SET deflections = deflections + 1 WHERE id = $1 RETURNING deflections",
            &[Value::Int(id)],
        )?
        .map_or(Ok(0), |r| r.i64(0))
    }

    /// Articles to review: past their review-by date (`today` is `YYYY-MM-DD`), or with a helpful
    /// ratio under `max_ratio` after at least `min_votes` votes. Retired ones are left out.
    pub fn articles_for_review(
        &mut self,
        today: &str,
        min_votes: i64,
        max_ratio: f64,
    ) -> Result<Vec<ArticleRecord>, StoreError> {
        let sql = format!(
            "SELECT {ARTICLE_COLS} FROM articles WHERE status <> 'retired' AND \
             ((review_by IS NOT NULL AND review_by < $1) OR \
              (helpful + not_helpful >= $2 AND CAST(helpful AS DOUBLE PRECISION) / (helpful + not_helpful) < CAST($3 AS DOUBLE PRECISION))) ORDER BY id"
        );
        self.rows(
            &sql,
            &[
                Value::from(today),
                Value::Int(min_votes),
                Value::Float(max_ratio),
            ],
        )?
        .iter()
        .map(article_from_row)
        .collect()
    }

    /// Every version of an article, oldest first.
    pub fn article_versions(&mut self, id: i64) -> Result<Vec<ArticleVersion>, StoreError> {
        self.rows(
            "SELECT version, kind, title, body, keywords, audience, status, editor_id, created_at \
             FROM article_versions WHERE article_id = $1 ORDER BY version",
            &[Value::Int(id)],
        )?
        .iter()
        .map(|r| {
            Ok(ArticleVersion {
                version: r.i64(0)?,
                kind: r.text(1)?,
                title: r.text(2)?,
                body: r.text(3)?,
                keywords: r.text(4)?,
                audience: r.text(5)?,
                status: r.text(6)?,
                editor_id: r.opt_i64(7)?,
                created_at: r.time(8)?,
            })
        })
        .collect()
    }

    /// Inserts an article.
    pub fn insert_article(
        &mut self,
        a: &NewArticle,
        now: DateTime<Utc>,
    ) -> Result<i64, StoreError> {
        let seq = self.next_change_seq()?;
        let id = self.insert_id(
            "INSERT INTO articles (kind, title, body, keywords, audience, status, service_id, category_id, owner_id, created_at, updated_at, review_by, slug, change_seq) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10, $11, $12, $13) RETURNING id",
            &[
                Value::from(&a.kind),
                Value::from(&a.title),
                Value::from(&a.body),
                Value::from(&a.keywords),
                Value::from(&a.audience),
                Value::from(&a.status),
                Value::from(a.service_id),
                Value::from(a.category_id),
                Value::from(a.owner_id),
                Value::Time(now),
                Value::from(a.review_by.clone()),
                Value::from(a.slug.clone()),
                Value::Int(seq),
            ],
        )?;
        let saved = self
            .article_by_id(id)?
            .ok_or_else(|| StoreError::Other(format!("article {id} vanished")))?;
        self.insert_article_version(&saved, a.owner_id, now)?;
        Ok(id)
    }

    /// An article by id.
    pub fn article_by_id(&mut self, id: i64) -> Result<Option<ArticleRecord>, StoreError> {
        let sql = format!("SELECT {ARTICLE_COLS} FROM articles WHERE id = $1");
        self.one(&sql, &[Value::Int(id)])?
            .map(|r| article_from_row(&r))
            .transpose()
    }

    /// Articles by id; only published public ones when `public_only`.
    pub fn list_articles(&mut self, public_only: bool) -> Result<Vec<ArticleRecord>, StoreError> {
        let filter = if public_only {
            " WHERE audience = 'public' AND status = 'published'"
        } else {
            ""
        };
        let sql = format!("SELECT {ARTICLE_COLS} FROM articles{filter} ORDER BY id");
        self.rows(&sql, &[])?.iter().map(article_from_row).collect()
    }
}

/// An article as the search index sees it, with the number of its last change.
#[derive(Debug, Clone, PartialEq)]
pub struct ArticleChange {
    /// Change number (from the one `kb_change_seq` counter).
    pub seq: i64,
    /// The article as it is now.
    pub article: ArticleRecord,
    /// Its service's name.
    pub service: Option<String>,
    /// Its category's name.
    pub category: Option<String>,
}

/// One article shown to or opened for a ticket.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct TicketArticle {
    /// Article id.
    pub article_id: i64,
    /// Title now.
    pub title: String,
    /// `suggested` or `opened`.
    pub relation: String,
    /// Who opened it (none for suggestions).
    pub user_id: Option<i64>,
    /// Relevance when suggested.
    pub score: Option<f64>,
    /// When.
    pub at: DateTime<Utc>,
}

impl Repo<'_> {
    /// The next change number. The counter row is updated in the writing transaction, which
    /// serialises article writers, so change numbers become visible in the order taken.
    fn next_change_seq(&mut self) -> Result<i64, StoreError> {
        self.one(
            "UPDATE kb_change_seq SET value = value + 1 WHERE id = 1 RETURNING value",
            &[],
        )?
        .ok_or_else(|| StoreError::Other("kb_change_seq has no row".into()))?
        .i64(0)
    }

    /// Number of articles, retired ones included.
    pub fn count_articles(&mut self) -> Result<u64, StoreError> {
        let n = self
            .one("SELECT COUNT(*) FROM articles", &[])?
            .map_or(Ok(0), |r| r.i64(0))?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// The number of the last article change.
    pub fn kb_change_seq(&mut self) -> Result<i64, StoreError> {
        self.one("SELECT value FROM kb_change_seq WHERE id = 1", &[])?
            .map_or(Ok(0), |r| r.i64(0))
    }

    /// Up to `limit` articles changed after change number `after`, oldest change first.
    pub fn articles_changed_since(
        &mut self,
        after: i64,
        limit: i64,
    ) -> Result<Vec<ArticleChange>, StoreError> {
        let cols = ARTICLE_COLS
            .split(", ")
            .map(|c| format!("a.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "SELECT {cols}, a.change_seq, s.name, c.name FROM articles a \
             LEFT JOIN services s ON s.id = a.service_id LEFT JOIN categories c ON c.id = a.category_id \
             WHERE a.change_seq > $1 ORDER BY a.change_seq LIMIT $2"
        );
        let n = ARTICLE_COLS.split(", ").count();
        self.rows(&sql, &[Value::Int(after), Value::Int(limit)])?
            .iter()
            .map(|r| {
                Ok(ArticleChange {
                    article: article_from_row(r)?,
                    seq: r.i64(n)?,
                    service: r.opt_text(n + 1)?,
                    category: r.opt_text(n + 2)?,
                })
            })
            .collect()
    }

    /// Articles by id, in no particular order; missing ids are left out.
    pub fn articles_by_ids(&mut self, ids: &[i64]) -> Result<Vec<ArticleRecord>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let marks: Vec<String> = (1..=ids.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "SELECT {ARTICLE_COLS} FROM articles WHERE id IN ({})",
            marks.join(", ")
        );
        let params: Vec<Value> = ids.iter().map(|i| Value::Int(*i)).collect();
        self.rows(&sql, &params)?
            .iter()
            .map(article_from_row)
            .collect()
    }

    /// Records that an article was suggested for (`user` none) or opened on a ticket; a repeat
    /// changes nothing.
    pub fn link_ticket_article(
        &mut self,
        ticket_id: i64,
        article_id: i64,
        relation: &str,
        user: Option<i64>,
        score: Option<f64>,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let n = self.exec(
            "INSERT INTO ticket_articles (ticket_id, article_id, relation, user_id, score, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
            &[
                Value::Int(ticket_id),
                Value::Int(article_id),
                Value::from(relation),
                Value::from(user),
                score.map_or(Value::Null, Value::Float),
                Value::Time(now),
            ],
        )?;
        Ok(n == 1)
    }

    /// The articles suggested for and opened on a ticket, in the order it happened.
    pub fn ticket_articles(&mut self, ticket_id: i64) -> Result<Vec<TicketArticle>, StoreError> {
        self.rows(
            "SELECT ta.article_id, a.title, ta.relation, ta.user_id, ta.score, ta.created_at \
             FROM ticket_articles ta JOIN articles a ON a.id = ta.article_id \
             WHERE ta.ticket_id = $1 ORDER BY ta.created_at, ta.relation DESC, ta.score DESC, ta.article_id",
            &[Value::Int(ticket_id)],
        )?
        .iter()
        .map(|r| {
            Ok(TicketArticle {
                article_id: r.i64(0)?,
                title: r.text(1)?,
                relation: r.text(2)?,
                user_id: r.opt_i64(3)?,
                score: r.opt_f64(4)?,
                at: r.time(5)?,
            })
        })
        .collect()
    }
}
