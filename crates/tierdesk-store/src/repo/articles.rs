//! Knowledge articles (plain records until the knowledge-base issue).

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
        let n = self.exec(
            "UPDATE articles SET kind = $2, title = $3, body = $4, keywords = $5, audience = $6, status = $7, \
             service_id = $8, category_id = $9, review_by = $10, updated_at = $11, version = version + 1 \
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
        let id = self.insert_id(
            "INSERT INTO articles (kind, title, body, keywords, audience, status, service_id, category_id, owner_id, created_at, updated_at, review_by, slug) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10, $11, $12) RETURNING id",
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
