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
}

const ARTICLE_COLS: &str = "id, kind, title, body, keywords, audience, status, service_id, category_id, owner_id, created_at, updated_at";

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
    })
}

impl Repo<'_> {
    /// Inserts an article.
    pub fn insert_article(
        &mut self,
        a: &NewArticle,
        now: DateTime<Utc>,
    ) -> Result<i64, StoreError> {
        self.insert_id(
            "INSERT INTO articles (kind, title, body, keywords, audience, status, service_id, category_id, owner_id, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) RETURNING id",
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
            ],
        )
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
