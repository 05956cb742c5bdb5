//! The index schema and the English analyzer every text field uses.

use tantivy::schema::{
    FAST, Field, INDEXED, IndexRecordOption, STRING, Schema, TextFieldIndexing, TextOptions,
};
use tantivy::tokenizer::{
    AsciiFoldingFilter, Language, LowerCaser, RemoveLongFilter, SimpleTokenizer, Stemmer,
    StopWordFilter, TextAnalyzer,
};

/// Bumped whenever the schema or the analyzer changes; an index built with another version is
/// rebuilt from the database.
pub const SCHEMA_VERSION: u32 = 1;

/// Name the analyzer is registered under.
pub const ANALYZER: &str = "kb_en";

/// Words that carry no meaning for finding an article: Lucene's English list plus the filler of
/// ticket prose ("hi, I can't … please help").
const STOP_WORDS: &[&str] = &[
    "a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "if", "in", "into", "is", "it",
    "no", "not", "of", "on", "or", "such", "that", "the", "their", "then", "there", "these",
    "they", "this", "to", "was", "will", "with", "i", "im", "ive", "me", "my", "we", "our", "us",
    "you", "your", "he", "she", "his", "her", "them", "its", "do", "does", "did", "dont", "doesnt",
    "didnt", "can", "cant", "cannot", "could", "couldnt", "would", "should", "have", "has", "had",
    "been", "am", "were", "what", "which", "who", "when", "where", "why", "how", "any", "some",
    "just", "also", "very", "so", "too", "please", "pls", "help", "hi", "hello", "hey", "thanks",
    "thank", "get", "got", "from", "again", "still", "now", "today", "anymore", "here", "t", "s",
    "m", "ve", "re", "ll", "d", "all", "since", "after", "about", "keeps", "keep",
];

/// Lower-cased, accent-folded, stop words removed, Porter-stemmed English.
pub fn analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(40))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .filter(StopWordFilter::remove(
            STOP_WORDS.iter().map(|w| (*w).to_owned()),
        ))
        .filter(Stemmer::new(Language::English))
        .build()
}

/// The index's fields.
#[derive(Debug, Clone, Copy)]
pub struct Fields {
    /// Article id (fast, indexed: for deletes and to read hits).
    pub id: Field,
    /// Title, weighted highest.
    pub title: Field,
    /// Symptoms and keywords.
    pub keywords: Field,
    /// Markdown body.
    pub body: Field,
    /// Kind, service and category names as words.
    pub meta: Field,
    /// Exact kind, for filters.
    pub kind: Field,
    /// Exact service name.
    pub service: Field,
    /// Exact category name.
    pub category: Field,
    /// `public` / `internal`.
    pub audience: Field,
    /// `draft` / `review` / `published`.
    pub status: Field,
}

impl Fields {
    /// The text fields searched, with their weights.
    pub fn weighted(&self) -> [(Field, f32); 4] {
        [
            (self.title, 3.0),
            (self.keywords, 2.0),
            (self.meta, 1.0),
            (self.body, 1.0),
        ]
    }
}

/// Builds the schema.
pub fn build() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let text = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(ANALYZER)
            .set_index_option(IndexRecordOption::WithFreqsAndPositions),
    );
    // Symptom lists and names are bags of words: a long list of symptoms is not less about
    // each of them, so these fields are scored without length normalisation.
    let bag = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(ANALYZER)
            .set_index_option(IndexRecordOption::WithFreqsAndPositions)
            .set_fieldnorms(false),
    );
    let fields = Fields {
        id: b.add_u64_field("id", INDEXED | FAST),
        title: b.add_text_field("title", text.clone()),
        keywords: b.add_text_field("keywords", bag.clone()),
        body: b.add_text_field("body", text),
        meta: b.add_text_field("meta", bag),
        kind: b.add_text_field("kind", STRING),
        service: b.add_text_field("service", STRING),
        category: b.add_text_field("category", STRING),
        audience: b.add_text_field("audience", STRING),
        status: b.add_text_field("status", STRING),
    };
    (b.build(), fields)
}
