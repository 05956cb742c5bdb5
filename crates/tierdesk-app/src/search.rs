//! Knowledge search (SPEC §5): this node's index kept in step with the database, ranked search
//! for agents and requesters, as-you-type suggestions and the suggestions a new ticket gets.
//!
//! The index only proposes: every hit is read back from the database and checked against the
//! caller's rights before it is shown, so a node whose index lags a second behind can never show
//! a requester an article that was just made internal or retired.

use std::path::Path;
use std::sync::Mutex;
use std::time::Instant;

use serde::{Deserialize, Serialize};
use tierdesk_search::{Filter, IndexDoc, KbIndex, SearchRequest, SearchResult};
use tierdesk_store::{ArticleChange, ArticleRecord};

use crate::articles::KINDS;
use crate::view::Suggestion;
use crate::{App, AppError, Principal};

/// Articles read from the database per index batch.
const PAGE: i64 = 1000;
/// Suggestions a new ticket gets.
pub const TICKET_SUGGESTIONS: usize = 5;
/// Longest query accepted.
const MAX_QUERY_CHARS: usize = 500;

/// This node's index and the lock that keeps two catch-ups from interleaving.
pub struct KbSearch {
    index: KbIndex,
    catching_up: Mutex<()>,
}

impl std::fmt::Debug for KbSearch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KbSearch")
            .field("index", &self.index)
            .finish()
    }
}

impl KbSearch {
    /// An index in memory, filled from the database on the first catch-up.
    pub fn in_memory() -> Result<KbSearch, AppError> {
        Ok(Self::wrap(KbIndex::in_memory()?))
    }

    /// The index in `dir` (created when missing).
    pub fn open(dir: &Path) -> Result<KbSearch, AppError> {
        Ok(Self::wrap(KbIndex::open(dir)?))
    }

    fn wrap(index: KbIndex) -> KbSearch {
        KbSearch {
            index,
            catching_up: Mutex::new(()),
        }
    }

    /// The index itself.
    pub fn index(&self) -> &KbIndex {
        &self.index
    }
}

fn to_doc(c: &ArticleChange) -> IndexDoc {
    let a = &c.article;
    IndexDoc {
        id: a.id,
        kind: a.kind.clone(),
        title: a.title.clone(),
        keywords: a.keywords.clone(),
        body: a.body.clone(),
        service: c.service.clone(),
        category: c.category.clone(),
        audience: a.audience.clone(),
        status: a.status.clone(),
    }
}

/// Applies every article change this node's index has not seen; returns how many. An index
/// that is empty, of an older schema, or ahead of the database (another database, a restored
/// backup) is rebuilt.
pub fn catch_up(app: &App) -> Result<usize, AppError> {
    let kb = &app.kb;
    let _one = kb
        .catching_up
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let mut applied = kb.index.applied()?;
    let db_seq = app.store.read(|r| r.kb_change_seq())?;
    if applied == db_seq {
        kb.index.refresh()?;
        return Ok(0);
    }
    if applied > db_seq {
        tracing::warn!(
            applied,
            db_seq,
            "search index is ahead of the database; rebuilding"
        );
        applied = -1;
    }
    let mut total = 0;
    loop {
        let after = applied.max(-1);
        let changes = app
            .store
            .read(move |r| r.articles_changed_since(after, PAGE))?;
        let Some(last) = changes.last().map(|c| c.seq) else {
            break;
        };
        let mut batch = kb.index.batch(applied < 0)?;
        for c in &changes {
            batch.put(&to_doc(c))?;
        }
        batch.commit(last)?;
        applied = last;
        total += changes.len();
    }
    Ok(total)
}

/// Brings the index up to date after this process changed an article. The change is already
/// committed; a failure here is logged and left to the background poller.
pub fn after_write(app: &App) {
    if let Err(e) = catch_up(app) {
        tracing::warn!(error = %e, "search index not updated; the indexer will retry");
    }
}

/// What a rebuild did.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ReindexReport {
    /// Articles indexed (retired ones are read but not indexed).
    pub articles: u64,
    /// Wall time in milliseconds.
    pub millis: u64,
    /// Bytes on disk afterwards (none for an in-memory index).
    pub bytes: Option<u64>,
}

/// Rebuilds the index from the database. `progress(done, total)` is called per page.
pub fn reindex(app: &App, progress: &dyn Fn(u64, u64)) -> Result<ReindexReport, AppError> {
    let start = Instant::now();
    let kb = &app.kb;
    let _one = kb
        .catching_up
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let total = app.store.read(|r| r.count_articles())?;
    let mut batch = kb.index.batch(true)?;
    let (mut after, mut done) = (-1, 0u64);
    loop {
        let changes = app
            .store
            .read(move |r| r.articles_changed_since(after, PAGE))?;
        let Some(last) = changes.last().map(|c| c.seq) else {
            break;
        };
        for c in &changes {
            batch.put(&to_doc(c))?;
        }
        after = last;
        done += changes.len() as u64;
        progress(done, total.max(done));
    }
    batch.commit(after.max(0))?;
    Ok(ReindexReport {
        articles: kb.index.num_docs(),
        millis: u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX),
        bytes: kb.index.size_on_disk(),
    })
}

/// `GET /kb/search` parameters.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchParams {
    /// What to look for: words (typos forgiven on words of 5+ letters), `"a phrase"`,
    /// `prefix*`.
    pub q: Option<String>,
    /// Only articles of this service (name).
    pub service: Option<String>,
    /// Only articles of this category (name).
    pub category: Option<String>,
    /// Only this kind: `sop`, `howto`, `faq`, `known_error`, `postmortem`.
    pub kind: Option<String>,
    /// Agents' editor views: `draft`, `review` and/or `published`, comma-separated
    /// (default `published`).
    pub status: Option<String>,
    /// At most this many hits, 1–50 (default 10).
    pub limit: Option<usize>,
}

/// A highlighted excerpt of the body.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct SnippetView {
    /// Plain text.
    pub text: String,
    /// Matched words as `[start, end)` character offsets into `text`.
    pub highlights: Vec<(usize, usize)>,
}

/// One search hit.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct SearchHit {
    /// Article id.
    pub id: i64,
    /// Title.
    pub title: String,
    /// Kind.
    pub kind: String,
    /// `public` or `internal`.
    pub audience: String,
    /// Status.
    pub status: String,
    /// Stable name.
    pub slug: Option<String>,
    /// Relevance, higher is better (within one search).
    pub score: f64,
    /// Excerpt around the matched words.
    pub snippet: SnippetView,
    /// Helpful votes.
    pub helpful: i64,
    /// Tickets resolved with it.
    pub uses: i64,
}

fn check_query(q: Option<&str>) -> Result<String, AppError> {
    let q = q.unwrap_or("").trim();
    if q.is_empty() {
        return Err(AppError::invalid("q", "is required"));
    }
    if q.chars().count() > MAX_QUERY_CHARS {
        return Err(AppError::invalid(
            "q",
            format!("must be at most {MAX_QUERY_CHARS} characters"),
        ));
    }
    Ok(q.to_owned())
}

fn visible(p: &Principal, a: &ArticleRecord, statuses: &[String]) -> bool {
    statuses.contains(&a.status) && (p.is_agent() || a.audience == "public")
}

fn round(score: f32) -> f64 {
    (f64::from(score) * 1000.0).round() / 1000.0
}

/// The hits' articles as the database has them now, still visible to the caller, in rank order.
fn confirm(
    app: &App,
    p: &Principal,
    result: &SearchResult,
    statuses: &[String],
) -> Result<Vec<(ArticleRecord, f32)>, AppError> {
    let ids: Vec<i64> = result.hits.iter().map(|h| h.id).collect();
    let rows = app.store.read(move |r| r.articles_by_ids(&ids))?;
    Ok(result
        .hits
        .iter()
        .filter_map(|h| {
            rows.iter()
                .find(|a| a.id == h.id)
                .filter(|a| visible(p, a, statuses))
                .map(|a| (a.clone(), h.score))
        })
        .collect())
}

/// Ranked search (anyone; requesters see published public articles only).
pub fn search(app: &App, p: &Principal, params: SearchParams) -> Result<Vec<SearchHit>, AppError> {
    let text = check_query(params.q.as_deref())?;
    let limit = params.limit.unwrap_or(10);
    if !(1..=50).contains(&limit) {
        return Err(AppError::invalid("limit", "must be 1–50"));
    }
    if let Some(k) = &params.kind
        && !KINDS.contains(&k.as_str())
    {
        return Err(AppError::invalid(
            "kind",
            format!("one of: {}", KINDS.join(", ")),
        ));
    }
    let statuses: Vec<String> = match &params.status {
        None => vec!["published".into()],
        Some(s) => {
            let list: Vec<String> = s.split(',').map(|x| x.trim().to_owned()).collect();
            if list
                .iter()
                .any(|x| !["draft", "review", "published"].contains(&x.as_str()))
            {
                return Err(AppError::invalid(
                    "status",
                    "draft, review and/or published, comma-separated",
                ));
            }
            if !p.is_agent() && list.iter().any(|x| x != "published") {
                return Err(AppError::Forbidden(
                    "only agents search drafts and articles in review".into(),
                ));
            }
            list
        }
    };
    check_names(app, params.service.as_deref(), params.category.as_deref())?;
    let req = SearchRequest {
        text,
        filter: Filter {
            public_only: !p.is_agent(),
            statuses: statuses.clone(),
            kind: params.kind,
            service: params.service,
            category: params.category,
        },
        limit,
        ..SearchRequest::default()
    };
    let result = app.kb.index.search(&req)?;
    Ok(confirm(app, p, &result, &statuses)?
        .into_iter()
        .map(|(a, score)| SearchHit {
            snippet: {
                let s = result.snippet(&a.body);
                SnippetView {
                    text: s.text,
                    highlights: s.highlights,
                }
            },
            id: a.id,
            title: a.title,
            kind: a.kind,
            audience: a.audience,
            status: a.status,
            slug: a.slug,
            score: round(score),
            helpful: a.helpful,
            uses: a.uses,
        })
        .collect())
}

fn check_names(app: &App, service: Option<&str>, category: Option<&str>) -> Result<(), AppError> {
    let (service, category) = (service.map(str::to_owned), category.map(str::to_owned));
    app.store.read(move |r| {
        if let Some(s) = &service
            && r.service_by_name(s)?.is_none()
        {
            return Err(AppError::invalid(
                "service",
                format!("unknown service '{s}'"),
            ));
        }
        if let Some(c) = &category
            && r.category_by_name(c)?.is_none()
        {
            return Err(AppError::invalid(
                "category",
                format!("unknown category '{c}'"),
            ));
        }
        Ok(())
    })
}

fn suggestions(app: &App, p: &Principal, req: SearchRequest) -> Result<Vec<Suggestion>, AppError> {
    let statuses = req.filter.statuses.clone();
    let result = app.kb.index.search(&req)?;
    Ok(confirm(app, p, &result, &statuses)?
        .into_iter()
        .map(|(a, score)| Suggestion {
            id: a.id,
            title: a.title,
            kind: a.kind,
            score: round(score),
        })
        .collect())
}

fn published_for(p: &Principal) -> Filter {
    Filter {
        public_only: !p.is_agent(),
        statuses: vec!["published".into()],
        ..Filter::default()
    }
}

/// `GET /kb/suggest`: the portal's as-you-type box (the last word may be unfinished).
pub fn suggest(
    app: &App,
    p: &Principal,
    q: Option<&str>,
    limit: Option<usize>,
) -> Result<Vec<Suggestion>, AppError> {
    let text = check_query(q)?;
    let limit = limit.unwrap_or(TICKET_SUGGESTIONS);
    if !(1..=10).contains(&limit) {
        return Err(AppError::invalid("limit", "must be 1–10"));
    }
    suggestions(
        app,
        p,
        SearchRequest {
            text,
            as_you_type: true,
            filter: published_for(p),
            limit,
            ..SearchRequest::default()
        },
    )
}

/// The top articles for a new ticket, from its title and description, lifted a little when they
/// are of the ticket's service or category.
pub fn for_ticket(
    app: &App,
    p: &Principal,
    title: &str,
    description: &str,
    service: Option<&str>,
    category: Option<&str>,
) -> Result<Vec<Suggestion>, AppError> {
    suggestions(
        app,
        p,
        SearchRequest {
            text: title.to_owned(),
            more_text: (!description.trim().is_empty()).then(|| description.to_owned()),
            filter: published_for(p),
            prefer_service: service.map(str::to_owned),
            prefer_category: category.map(str::to_owned),
            limit: TICKET_SUGGESTIONS,
            ..SearchRequest::default()
        },
    )
}
