//! Knowledge articles (SPEC §5): create, edit (every edit a new version), versions and diffs,
//! the status workflow, audience rules, feedback, deflections and the review queue. Search and
//! suggestions are in [`crate::search`].

use serde::Deserialize;
use tierdesk_domain::kb::{DiffLine, check_status_change, line_diff};
use tierdesk_store::{ArticleRecord, ArticleVersion, NewArticle, StoreError};

use crate::{App, AppError, Principal};

/// Article kinds of SPEC §5.
pub const KINDS: [&str; 5] = ["sop", "howto", "faq", "known_error", "postmortem"];

/// Articles the caller may read: requesters only published public ones.
pub fn list(app: &App, p: &Principal) -> Result<Vec<ArticleRecord>, AppError> {
    Ok(app.store.read(|r| r.list_articles(!p.is_agent()))?)
}

/// One article; hidden ones answer like missing ones.
pub fn get(app: &App, p: &Principal, id: i64) -> Result<ArticleRecord, AppError> {
    app.store
        .read(|r| r.article_by_id(id))?
        .filter(|a| visible(p, a))
        .ok_or_else(|| AppError::NotFound(format!("article {id}")))
}

/// One article, opened by an agent while working on `ticket` (a key): the ticket records it,
/// and an escalation lists it among the articles consulted. A ticket the caller cannot see is a
/// 404 like a missing one; requesters' opens are not recorded.
pub fn open_for_ticket(
    app: &App,
    p: &Principal,
    id: i64,
    ticket: Option<&str>,
) -> Result<ArticleRecord, AppError> {
    let article = get(app, p, id)?;
    if let Some(key) = ticket.filter(|_| p.is_agent()) {
        let (principal, key, now) = (p.clone(), key.to_owned(), app.now());
        app.store.write(move |r| {
            let t = crate::tickets::load_visible(r, &principal, &key, false)?;
            r.link_ticket_article(t.id, id, "opened", Some(principal.id), None, now)?;
            Ok::<(), AppError>(())
        })?;
    }
    Ok(article)
}

/// `POST /articles` body.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ArticleInput {
    /// `sop`, `howto`, `faq`, `known_error`, `postmortem`.
    pub kind: Option<String>,
    /// Title.
    pub title: Option<String>,
    /// Markdown body.
    pub body: Option<String>,
    /// Symptoms and keywords.
    pub keywords: Option<String>,
    /// `public` or `internal` (default internal).
    pub audience: Option<String>,
    /// `draft`, `review`, `published` (default) or `retired`.
    pub status: Option<String>,
    /// Service name.
    pub service: Option<String>,
    /// Category name.
    pub category: Option<String>,
    /// Review-by date, `YYYY-MM-DD`.
    pub review_by: Option<String>,
    /// Stable name (`a-z`, `0-9`, `-`), set on create; the file name for import/export.
    pub slug: Option<String>,
}

/// Creates an article (agents only) and brings this node's search index up to date.
pub fn create(app: &App, p: &Principal, input: ArticleInput) -> Result<ArticleRecord, AppError> {
    let created = create_unindexed(app, p, input)?;
    crate::search::after_write(app);
    Ok(created)
}

/// [`create`] without the index update, for bulk work that updates the index once at the end.
pub(crate) fn create_unindexed(
    app: &App,
    p: &Principal,
    input: ArticleInput,
) -> Result<ArticleRecord, AppError> {
    p.require_agent()?;
    let kind = input.kind.unwrap_or_else(|| "sop".into());
    if !KINDS.contains(&kind.as_str()) {
        return Err(AppError::invalid(
            "kind",
            format!("one of: {}", KINDS.join(", ")),
        ));
    }
    let title = tierdesk_domain::ticket::check_title(input.title.as_deref().unwrap_or(""))
        .map_err(|_| AppError::invalid("title", "is required, at most 300 characters"))?;
    let audience = input.audience.unwrap_or_else(|| "internal".into());
    if !["public", "internal"].contains(&audience.as_str()) {
        return Err(AppError::invalid("audience", "one of: public, internal"));
    }
    let status = input.status.unwrap_or_else(|| "published".into());
    if !["draft", "review", "published", "retired"].contains(&status.as_str()) {
        return Err(AppError::invalid(
            "status",
            "one of: draft, review, published, retired",
        ));
    }
    let (service, category) = (input.service, input.category);
    let new_body = input.body.unwrap_or_default();
    let keywords = input.keywords.unwrap_or_default();
    if let Some(d) = &input.review_by {
        chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d")
            .map_err(|_| AppError::invalid("review_by", "a date like 2027-01-31"))?;
    }
    let review_by = input.review_by;
    let slug = input.slug.map(|s| check_slug(&s)).transpose()?;
    let owner = p.id;
    let now = app.now();
    app.store.write(move |r| {
        let service_id = match service {
            Some(s) => Some(
                r.service_by_name(&s)?
                    .ok_or_else(|| AppError::invalid("service", format!("unknown service '{s}'")))?
                    .id,
            ),
            None => None,
        };
        let category_id = match category {
            Some(c) => Some(
                r.category_by_name(&c)?
                    .ok_or_else(|| {
                        AppError::invalid("category", format!("unknown category '{c}'"))
                    })?
                    .id,
            ),
            None => None,
        };
        let id = r.insert_article(
            &NewArticle {
                kind,
                title,
                body: new_body,
                keywords,
                audience,
                status,
                service_id,
                category_id,
                owner_id: Some(owner),
                review_by,
                slug,
            },
            now,
        )?;
        r.article_by_id(id)?
            .ok_or_else(|| AppError::NotFound(format!("article {id}")))
    })
}

/// A slug from a title: lower-case words joined by `-`.
pub fn slugify(title: &str) -> String {
    let words: Vec<String> = title
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_ascii_lowercase)
        .collect();
    let mut slug = words.join("-");
    slug.truncate(100);
    slug.trim_end_matches('-').to_owned()
}

/// Checks a slug: 1–100 of `a-z`, `0-9`, `-`.
pub fn check_slug(s: &str) -> Result<String, AppError> {
    let ok = !s.is_empty()
        && s.len() <= 100
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if ok {
        Ok(s.to_owned())
    } else {
        Err(AppError::invalid(
            "slug",
            "1–100 characters of a-z, 0-9 and -",
        ))
    }
}

fn visible(p: &Principal, a: &ArticleRecord) -> bool {
    p.is_agent() || (a.audience == "public" && a.status == "published")
}

/// Edits an article (agents): the changed fields make a new version. `if_match` is the version
/// the editor started from; a newer one is a 412. Brings this node's search index up to date.
pub fn update(
    app: &App,
    p: &Principal,
    id: i64,
    input: ArticleInput,
    if_match: Option<i64>,
) -> Result<ArticleRecord, AppError> {
    let saved = update_unindexed(app, p, id, input, if_match)?;
    crate::search::after_write(app);
    Ok(saved)
}

/// [`update`] without the index update.
pub(crate) fn update_unindexed(
    app: &App,
    p: &Principal,
    id: i64,
    input: ArticleInput,
    if_match: Option<i64>,
) -> Result<ArticleRecord, AppError> {
    p.require_agent()?;
    if input.slug.is_some() {
        return Err(AppError::invalid(
            "slug",
            "is set when the article is created and never changes",
        ));
    }
    if let Some(k) = &input.kind
        && !KINDS.contains(&k.as_str())
    {
        return Err(AppError::invalid(
            "kind",
            format!("one of: {}", KINDS.join(", ")),
        ));
    }
    if let Some(a) = &input.audience
        && !["public", "internal"].contains(&a.as_str())
    {
        return Err(AppError::invalid("audience", "one of: public, internal"));
    }
    if let Some(d) = &input.review_by {
        chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d")
            .map_err(|_| AppError::invalid("review_by", "a date like 2027-01-31"))?;
    }
    let title = input
        .title
        .as_deref()
        .map(|t| {
            tierdesk_domain::ticket::check_title(t).map_err(|_| {
                AppError::invalid("title", "must not be blank, at most 300 characters")
            })
        })
        .transpose()?;
    let editor = p.id;
    let now = app.now();
    app.store.write(move |r| {
        let mut a = r
            .article_by_id(id)?
            .ok_or_else(|| AppError::NotFound(format!("article {id}")))?;
        if let Some(v) = if_match
            && v != a.version
        {
            return Err(AppError::PreconditionFailed(format!(
                "article {id} is at version {}, not {v}",
                a.version
            )));
        }
        if let Some(status) = &input.status {
            check_status_change(&a.status, status)?;
            a.status = status.clone();
        }
        if let Some(s) = &input.service {
            a.service_id = Some(
                r.service_by_name(s)?
                    .ok_or_else(|| AppError::invalid("service", format!("unknown service '{s}'")))?
                    .id,
            );
        }
        if let Some(c) = &input.category {
            a.category_id = Some(
                r.category_by_name(c)?
                    .ok_or_else(|| {
                        AppError::invalid("category", format!("unknown category '{c}'"))
                    })?
                    .id,
            );
        }
        a.kind = input.kind.unwrap_or(a.kind);
        a.title = title.unwrap_or(a.title);
        a.body = input.body.unwrap_or(a.body);
        a.keywords = input.keywords.unwrap_or(a.keywords);
        a.audience = input.audience.unwrap_or(a.audience);
        a.review_by = input.review_by.or(a.review_by);
        r.update_article(&a, editor, now).map_err(|e| match e {
            StoreError::Constraint(m) => AppError::PreconditionFailed(m),
            other => AppError::Store(other),
        })
    })
}

/// Every version of an article (agents; others get 404 as for any hidden article).
pub fn versions(app: &App, p: &Principal, id: i64) -> Result<Vec<ArticleVersion>, AppError> {
    if !p.is_agent() {
        return Err(AppError::NotFound(format!("article {id}")));
    }
    let v = app.store.read(|r| r.article_versions(id))?;
    if v.is_empty() {
        return Err(AppError::NotFound(format!("article {id}")));
    }
    Ok(v)
}

/// The line diff of the body (and title) between two versions.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ArticleDiff {
    /// Older version.
    pub from: i64,
    /// Newer version.
    pub to: i64,
    /// Title at each side, when it changed.
    pub title: Option<(String, String)>,
    /// Body lines.
    pub lines: Vec<DiffLine>,
}

/// Diff between versions `from` and `to` (agents).
pub fn diff(
    app: &App,
    p: &Principal,
    id: i64,
    from: i64,
    to: i64,
) -> Result<ArticleDiff, AppError> {
    let all = versions(app, p, id)?;
    let pick = |field: &'static str, v: i64| {
        all.iter()
            .find(|x| x.version == v)
            .ok_or_else(|| AppError::invalid(field, format!("article {id} has no version {v}")))
    };
    let (a, b) = (pick("from", from)?, pick("to", to)?);
    Ok(ArticleDiff {
        from,
        to,
        title: (a.title != b.title).then(|| (a.title.clone(), b.title.clone())),
        lines: line_diff(&a.body, &b.body),
    })
}

/// `POST /kb/articles/{id}/feedback` body.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FeedbackInput {
    /// Whether the article helped.
    pub helpful: Option<bool>,
    /// Optional comment (at most 2,000 characters).
    pub comment: Option<String>,
}

/// Records helpful / not-helpful feedback from anyone who may read the article.
pub fn feedback(
    app: &App,
    p: &Principal,
    id: i64,
    input: FeedbackInput,
) -> Result<ArticleRecord, AppError> {
    let helpful = input
        .helpful
        .ok_or_else(|| AppError::invalid("helpful", "is required: true or false"))?;
    if input
        .comment
        .as_ref()
        .is_some_and(|c| c.chars().count() > 2000)
    {
        return Err(AppError::invalid(
            "comment",
            "must be at most 2000 characters",
        ));
    }
    get(app, p, id)?;
    let (user, now) = (p.id, app.now());
    app.store.write(move |r| {
        r.add_article_feedback(id, user, helpful, input.comment.as_deref(), now)?;
        r.article_by_id(id)?
            .ok_or_else(|| AppError::NotFound(format!("article {id}")))
    })
}

/// "This solved it": the requester's problem is gone without a ticket — a deflection.
pub fn solved(app: &App, p: &Principal, id: i64) -> Result<i64, AppError> {
    get(app, p, id)?;
    Ok(app.store.write(move |r| r.count_deflection(id))?)
}

/// An article that needs its owner's attention, and why.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct ReviewItem {
    /// The article.
    pub article: ArticleRecord,
    /// `past review date` and/or `often unhelpful`.
    pub reasons: Vec<String>,
}

/// Votes before the helpful ratio counts.
pub const REVIEW_MIN_VOTES: i64 = 5;
/// Helpful ratio under which an article is listed for review.
pub const REVIEW_MAX_RATIO: f64 = 0.5;

/// Articles past their review-by date or often unhelpful (agents).
pub fn review_queue(app: &App, p: &Principal) -> Result<Vec<ReviewItem>, AppError> {
    p.require_agent()?;
    let today = app.now().format("%Y-%m-%d").to_string();
    let list = app
        .store
        .read(|r| r.articles_for_review(&today, REVIEW_MIN_VOTES, REVIEW_MAX_RATIO))?;
    Ok(list
        .into_iter()
        .map(|a| {
            let mut reasons = Vec::new();
            if a.review_by.as_deref().is_some_and(|d| d < today.as_str()) {
                reasons.push("past review date".to_owned());
            }
            let votes = a.helpful + a.not_helpful;
            if votes >= REVIEW_MIN_VOTES && (a.helpful as f64) < REVIEW_MAX_RATIO * votes as f64 {
                reasons.push("often unhelpful".to_owned());
            }
            ReviewItem {
                article: a,
                reasons,
            }
        })
        .collect())
}
