//! Knowledge search for tierdesk: one tantivy index of articles per node, kept in step with the
//! database by the application (which feeds it changes in change-number order), and ranked,
//! typo-tolerant queries over it (BM25, title and symptoms weighted above the body, English
//! stemming, one edit on words of five letters or more, phrases, prefixes, snippets).
//!
//! The index is a cache: the database stays the authority on what an article says and who may
//! read it. The index records the last change number it applied in its commit, so a node that
//! restarts catches up from there, and a node whose index is missing, damaged or from an older
//! schema rebuilds it.

mod query;
mod schema;

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use tantivy::collector::TopDocs;
use tantivy::directory::MmapDirectory;
use tantivy::query::{BooleanQuery, Occur, Query};
use tantivy::snippet::SnippetGenerator;
use tantivy::tokenizer::TextAnalyzer;
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy, TantivyDocument, Term};

pub use query::FUZZY_MIN_LETTERS;
pub use schema::SCHEMA_VERSION;

use schema::Fields;

/// Search failures.
#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    /// The index library failed (I/O, a damaged file, a lock held by another process).
    #[error("search index: {0}")]
    Index(#[from] tantivy::TantivyError),
    /// The index directory could not be opened or created.
    #[error("search index directory {path}: {message}")]
    Directory {
        /// The directory.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// A term dictionary could not be read.
    #[error("search index: {0}")]
    Io(#[from] std::io::Error),
}

/// An article as the index holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct IndexDoc {
    /// Article id.
    pub id: i64,
    /// Kind (`sop`, `faq`, …).
    pub kind: String,
    /// Title.
    pub title: String,
    /// Symptoms and keywords.
    pub keywords: String,
    /// Markdown body.
    pub body: String,
    /// Service name.
    pub service: Option<String>,
    /// Category name.
    pub category: Option<String>,
    /// `public` or `internal`.
    pub audience: String,
    /// `draft`, `review`, `published` or `retired` (retired ones are not indexed).
    pub status: String,
}

/// What a search may return.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Only `public` articles (requesters).
    pub public_only: bool,
    /// Statuses allowed (usually just `published`).
    pub statuses: Vec<String>,
    /// Only this kind.
    pub kind: Option<String>,
    /// Only this service.
    pub service: Option<String>,
    /// Only this category.
    pub category: Option<String>,
}

/// A search.
#[derive(Debug, Clone, Default)]
pub struct SearchRequest {
    /// What the user typed.
    pub text: String,
    /// Further text that counts for less (a ticket's description).
    pub more_text: Option<String>,
    /// Read the last, unfinished word as a prefix too (the portal's as-you-type box).
    pub as_you_type: bool,
    /// Restrictions.
    pub filter: Filter,
    /// Lift articles of this service a little (a new ticket's service).
    pub prefer_service: Option<String>,
    /// Lift articles of this category a little.
    pub prefer_category: Option<String>,
    /// At most this many hits.
    pub limit: usize,
}

/// One hit.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    /// Article id.
    pub id: i64,
    /// Relevance (BM25-based; higher is better; comparable within one search only).
    pub score: f32,
}

/// A highlighted excerpt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Snippet {
    /// The excerpt, plain text.
    pub text: String,
    /// Matched words as `[start, end)` character offsets into `text`.
    pub highlights: Vec<(usize, usize)>,
}

/// Hits, and what is needed to cut snippets from the articles' bodies.
pub struct SearchResult {
    /// Best first.
    pub hits: Vec<Hit>,
    snippets: SnippetGenerator,
}

impl SearchResult {
    /// An excerpt of `body` around the matched words, with the words' offsets.
    pub fn snippet(&self, body: &str) -> Snippet {
        let plain = strip_markdown(body);
        let s = self.snippets.snippet(&plain);
        let text = s.fragment().to_owned();
        let to_chars = |byte: usize| text.get(..byte).map_or(0, |p| p.chars().count());
        let highlights = s
            .highlighted()
            .iter()
            .map(|r| (to_chars(r.start), to_chars(r.end)))
            .collect();
        let text = if text.is_empty() {
            plain.chars().take(SNIPPET_CHARS).collect()
        } else {
            text
        };
        Snippet { text, highlights }
    }
}

/// Length of a snippet in characters, about.
const SNIPPET_CHARS: usize = 180;

/// Markdown punctuation that would only clutter an excerpt.
fn strip_markdown(body: &str) -> String {
    body.lines()
        .map(|l| {
            l.trim_start_matches(['#', '>', '-', '*', ' '])
                .replace(['*', '`'], "")
        })
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

#[derive(Debug, Serialize, Deserialize)]
struct Payload {
    schema: u32,
    seq: i64,
}

/// A node's article index.
pub struct KbIndex {
    index: Index,
    reader: IndexReader,
    fields: Fields,
    analyzer: TextAnalyzer,
    dir: Option<PathBuf>,
    writing: Mutex<()>,
}

impl std::fmt::Debug for KbIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KbIndex").field("dir", &self.dir).finish()
    }
}

impl KbIndex {
    /// An index in memory (tests, and nodes told to keep none on disk); starts empty.
    pub fn in_memory() -> Result<KbIndex, SearchError> {
        let (schema, fields) = schema::build();
        let index = Index::create_in_ram(schema);
        Self::wrap(index, fields, None)
    }

    /// Opens the index in `dir`, creating it; an unreadable one or one of another schema is
    /// wiped and starts empty (the caller then rebuilds it from the database).
    pub fn open(dir: &Path) -> Result<KbIndex, SearchError> {
        let dir_err = |e: &dyn std::fmt::Display| SearchError::Directory {
            path: dir.to_owned(),
            message: e.to_string(),
        };
        std::fs::create_dir_all(dir).map_err(|e| dir_err(&e))?;
        let (schema, fields) = schema::build();
        let open = || -> Result<Index, SearchError> {
            let d = MmapDirectory::open(dir).map_err(|e| dir_err(&e))?;
            Ok(Index::open_or_create(d, schema.clone())?)
        };
        let index = match open() {
            Ok(i) => i,
            Err(e) => {
                tracing::warn!(dir = %dir.display(), error = %e, "search index unreadable; starting a new one");
                std::fs::remove_dir_all(dir).map_err(|e| dir_err(&e))?;
                std::fs::create_dir_all(dir).map_err(|e| dir_err(&e))?;
                open()?
            }
        };
        Self::wrap(index, fields, Some(dir.to_owned()))
    }

    fn wrap(index: Index, fields: Fields, dir: Option<PathBuf>) -> Result<KbIndex, SearchError> {
        let analyzer = schema::analyzer();
        index
            .tokenizers()
            .register(schema::ANALYZER, analyzer.clone());
        let policy = if dir.is_some() {
            ReloadPolicy::OnCommitWithDelay
        } else {
            ReloadPolicy::Manual
        };
        let reader = index.reader_builder().reload_policy(policy).try_into()?;
        Ok(KbIndex {
            index,
            reader,
            fields,
            analyzer,
            dir,
            writing: Mutex::new(()),
        })
    }

    /// The last change number applied, or `-1` when the index is empty or of another schema
    /// (then the next batch must be a rebuild).
    pub fn applied(&self) -> Result<i64, SearchError> {
        let metas = self.index.load_metas()?;
        Ok(metas
            .payload
            .and_then(|p| serde_json::from_str::<Payload>(&p).ok())
            .filter(|p| p.schema == SCHEMA_VERSION)
            .map_or(-1, |p| p.seq))
    }

    /// Starts a batch of changes. `rebuild` first drops everything the index holds.
    /// Fails when another process holds the index for writing.
    pub fn batch(&self, rebuild: bool) -> Result<Batch<'_>, SearchError> {
        let guard = self
            .writing
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let threads = if rebuild {
            std::thread::available_parallelism().map_or(1, |n| n.get().min(4))
        } else {
            1
        };
        let writer: IndexWriter<TantivyDocument> = self
            .index
            .writer_with_num_threads(threads, threads * 40_000_000)?;
        if rebuild {
            writer.delete_all_documents()?;
        }
        Ok(Batch {
            kb: self,
            writer,
            _guard: guard,
        })
    }

    /// Number of articles indexed.
    pub fn num_docs(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    /// Bytes the index takes on disk (none for an in-memory one).
    pub fn size_on_disk(&self) -> Option<u64> {
        let dir = self.dir.as_ref()?;
        let entries = std::fs::read_dir(dir).ok()?;
        Some(
            entries
                .filter_map(Result::ok)
                .filter_map(|e| e.metadata().ok())
                .filter(|m| m.is_file())
                .map(|m| m.len())
                .sum(),
        )
    }

    /// Where it lives on disk.
    pub fn dir(&self) -> Option<&Path> {
        self.dir.as_deref()
    }

    /// Makes changes committed by this or another process visible to searches now.
    pub fn refresh(&self) -> Result<(), SearchError> {
        Ok(self.reader.reload()?)
    }

    /// Runs a search.
    pub fn search(&self, req: &SearchRequest) -> Result<SearchResult, SearchError> {
        let searcher = self.reader.searcher();
        let mut b = query::Builder::new(&searcher, self.fields, &self.analyzer);
        let mut text = Vec::new();
        b.text(&req.text, 1.0, req.as_you_type, false, &mut text)?;
        if let Some(more) = &req.more_text {
            b.text(more, 0.4, false, true, &mut text)?;
        }
        let snippets = SnippetGenerator::new(
            b.body_terms.clone(),
            self.analyzer.clone(),
            self.fields.body,
            SNIPPET_CHARS,
        );
        if text.is_empty() || req.limit == 0 {
            return Ok(SearchResult {
                hits: Vec::new(),
                snippets,
            });
        }
        let mut clauses: Vec<(Occur, Box<dyn Query>)> =
            vec![(Occur::Must, Box::new(BooleanQuery::new(text)))];
        b.filters(&req.filter, &mut clauses);
        if let Some(s) = &req.prefer_service {
            clauses.push(b.prefer(self.fields.service, s, 0.5));
        }
        if let Some(c) = &req.prefer_category {
            clauses.push(b.prefer(self.fields.category, c, 0.3));
        }
        let q = BooleanQuery::new(clauses);
        let top = searcher.search(&q, &TopDocs::with_limit(req.limit).order_by_score())?;
        let mut hits = Vec::with_capacity(top.len());
        for (score, addr) in top {
            let ids = searcher
                .segment_reader(addr.segment_ord)
                .fast_fields()
                .u64("id")?;
            if let Some(id) = ids.first(addr.doc_id) {
                hits.push(Hit {
                    id: i64::try_from(id).unwrap_or(i64::MAX),
                    score,
                });
            }
        }
        Ok(SearchResult { hits, snippets })
    }

    fn id_term(&self, id: i64) -> Term {
        Term::from_field_u64(self.fields.id, u64::try_from(id).unwrap_or(0))
    }

    fn text_doc(&self, d: &IndexDoc) -> TantivyDocument {
        let f = self.fields;
        let mut doc = TantivyDocument::default();
        doc.add_u64(f.id, u64::try_from(d.id).unwrap_or(0));
        doc.add_text(f.title, &d.title);
        doc.add_text(f.keywords, &d.keywords);
        doc.add_text(f.body, &d.body);
        let meta = [
            Some(d.kind.as_str()),
            d.service.as_deref(),
            d.category.as_deref(),
        ];
        doc.add_text(
            f.meta,
            meta.iter().flatten().copied().collect::<Vec<_>>().join(" "),
        );
        doc.add_text(f.kind, &d.kind);
        if let Some(s) = &d.service {
            doc.add_text(f.service, s);
        }
        if let Some(c) = &d.category {
            doc.add_text(f.category, c);
        }
        doc.add_text(f.audience, &d.audience);
        doc.add_text(f.status, &d.status);
        doc
    }
}

/// Changes on their way into the index; nothing is visible until [`Batch::commit`].
pub struct Batch<'a> {
    kb: &'a KbIndex,
    writer: IndexWriter<TantivyDocument>,
    _guard: std::sync::MutexGuard<'a, ()>,
}

impl Batch<'_> {
    /// Puts the article's current state in the index (a retired one is taken out).
    pub fn put(&mut self, doc: &IndexDoc) -> Result<(), SearchError> {
        self.writer.delete_term(self.kb.id_term(doc.id));
        if doc.status != "retired" {
            self.writer.add_document(self.kb.text_doc(doc))?;
        }
        Ok(())
    }

    /// Commits (durably) with `seq` as the last change applied, and shows the result to
    /// this process's searches.
    pub fn commit(mut self, seq: i64) -> Result<(), SearchError> {
        let payload = serde_json::to_string(&Payload {
            schema: SCHEMA_VERSION,
            seq,
        })
        .unwrap_or_default();
        let mut prepared = self.writer.prepare_commit()?;
        prepared.set_payload(&payload);
        prepared.commit()?;
        self.writer.wait_merging_threads()?;
        self.kb.reader.reload()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests;
