//! From what a user typed to a tantivy query: words (stemmed; a word of 5+ letters that the
//! index does not know is widened to the known words one edit away), `"quoted phrases"` (must
//! appear), `prefix*` words, and the last word of an as-you-type box read as a prefix too.

use std::collections::{BTreeMap, HashSet};

use tantivy::query::{
    BooleanQuery, BoostQuery, ConstScoreQuery, DisjunctionMaxQuery, FuzzyTermQuery, Occur,
    PhraseQuery, Query, TermQuery,
};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::tokenizer::TextAnalyzer;
use tantivy::{Searcher, Term};

use crate::schema::Fields;
use crate::{Filter, SearchError};

/// Words of at least this many letters are typo-tolerant (one edit).
pub const FUZZY_MIN_LETTERS: usize = 5;
/// Known words a misspelt or partial word widens to, per field, most frequent first.
const MAX_EXPANSIONS: usize = 8;
/// A widened word counts this much of an exact one.
const FUZZY_WEIGHT: f32 = 0.6;
/// A prefix completion counts this much of an exact word.
const PREFIX_WEIGHT: f32 = 0.8;
/// Analysed words taken from one text; the rest of a long description adds little.
const MAX_WORDS: usize = 48;
/// In secondary text (a ticket's description), words found in more than this share of the
/// articles are left out: they barely change the ranking and cost the most to score.
const COMMON_SHARE: f64 = 0.05;
/// Share of the best field's score the other fields add for the same word.
const TIE_BREAKER: f32 = 0.3;

/// One piece of what the user typed.
#[derive(Debug, Clone, PartialEq)]
enum Part {
    /// A word; `prefix_too` when it is the unfinished last word of an as-you-type query.
    Word { raw: String, prefix_too: bool },
    /// `word*`.
    Prefix(String),
    /// `"several words"`.
    Phrase(String),
}

fn parse(text: &str, as_you_type: bool) -> Vec<Part> {
    let mut parts = Vec::new();
    for (i, chunk) in text.split('"').enumerate() {
        if i % 2 == 1 {
            if !chunk.trim().is_empty() {
                parts.push(Part::Phrase(chunk.to_owned()));
            }
            continue;
        }
        for w in chunk.split_whitespace() {
            if let Some(stem) = w.strip_suffix('*') {
                let p: String = stem
                    .chars()
                    .filter(|c| c.is_alphanumeric())
                    .flat_map(char::to_lowercase)
                    .collect();
                if !p.is_empty() {
                    parts.push(Part::Prefix(p));
                }
            } else {
                parts.push(Part::Word {
                    raw: w.to_owned(),
                    prefix_too: false,
                });
            }
        }
    }
    if as_you_type
        && !text.ends_with(char::is_whitespace)
        && text.matches('"').count().is_multiple_of(2)
        && let Some(Part::Word { raw, prefix_too }) = parts.last_mut()
        && raw.chars().filter(|c| c.is_alphanumeric()).count() >= 2
    {
        *prefix_too = true;
    }
    parts
}

/// Analysed tokens of `text` with their positions.
fn tokens(analyzer: &TextAnalyzer, text: &str) -> Vec<(usize, String)> {
    let mut a = analyzer.clone();
    let mut stream = a.token_stream(text);
    let mut out = Vec::new();
    while stream.advance() {
        let t = stream.token();
        out.push((t.position, t.text.clone()));
    }
    out
}

/// Builds queries against one searcher, remembering the body terms for snippets.
pub(crate) struct Builder<'a> {
    searcher: &'a Searcher,
    fields: Fields,
    analyzer: &'a TextAnalyzer,
    /// Body terms used, with a weight for snippet fragment choice.
    pub(crate) body_terms: BTreeMap<String, f32>,
    seen: HashSet<String>,
}

impl<'a> Builder<'a> {
    pub(crate) fn new(searcher: &'a Searcher, fields: Fields, analyzer: &'a TextAnalyzer) -> Self {
        Builder {
            searcher,
            fields,
            analyzer,
            body_terms: BTreeMap::new(),
            seen: HashSet::new(),
        }
    }

    fn doc_freq(&self, field: Field, text: &str) -> Result<u64, SearchError> {
        Ok(self
            .searcher
            .doc_freq(&Term::from_field_text(field, text))?)
    }

    /// Known terms of `field` matching `automaton_query` (fuzzy or prefix), most frequent
    /// first, without `except`.
    fn expand(
        &self,
        field: Field,
        query: &FuzzyTermQuery,
        except: &str,
    ) -> Result<Vec<String>, SearchError> {
        let mut found: BTreeMap<String, u64> = BTreeMap::new();
        for segment in self.searcher.segment_readers() {
            let inverted = segment.inverted_index(field)?;
            let mut stream = inverted.terms().search(query.automaton()?).into_stream()?;
            while stream.advance() {
                if let Ok(k) = std::str::from_utf8(stream.key())
                    && k != except
                {
                    *found.entry(k.to_owned()).or_default() += u64::from(stream.value().doc_freq);
                }
            }
        }
        let mut list: Vec<(String, u64)> = found.into_iter().collect();
        list.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        list.truncate(MAX_EXPANSIONS);
        Ok(list.into_iter().map(|(t, _)| t).collect())
    }

    fn note_body_term(&mut self, field: Field, text: &str, weight: f32) {
        if field == self.fields.body {
            let e = self.body_terms.entry(text.to_owned()).or_default();
            *e = e.max(weight);
        }
    }

    /// One field's clause for a set of (term, weight) alternatives.
    fn field_clause(&mut self, field: Field, terms: &[(String, f32)]) -> Option<Box<dyn Query>> {
        let mut should: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for (t, w) in terms {
            self.note_body_term(field, t, *w);
            let q: Box<dyn Query> = Box::new(TermQuery::new(
                Term::from_field_text(field, t),
                IndexRecordOption::WithFreqs,
            ));
            should.push((Occur::Should, Box::new(BoostQuery::new(q, *w))));
        }
        match should.len() {
            0 => None,
            1 => should.pop().map(|(_, q)| q),
            _ => Some(Box::new(BooleanQuery::new(should))),
        }
    }

    /// A word's clause: the best field counts, the others add a little.
    fn word_clause(
        &mut self,
        token: &str,
        letters: usize,
        prefix: Option<&str>,
    ) -> Result<Option<Box<dyn Query>>, SearchError> {
        let mut known = false;
        for (f, _) in self.fields.weighted() {
            if self.doc_freq(f, token)? > 0 {
                known = true;
                break;
            }
        }
        // An unknown word whose stem is a known one plus a suffix the stemmer left on
        // ("slowly" → "slowli", against "slow") counts as that word.
        let mut stems = Vec::new();
        if !known && letters >= FUZZY_MIN_LETTERS {
            let chars: Vec<char> = token.chars().collect();
            for cut in 1..=2 {
                let keep = chars.len().saturating_sub(cut);
                if keep < 4 {
                    break;
                }
                let shorter: String = chars.iter().take(keep).collect();
                for (f, _) in self.fields.weighted() {
                    if self.doc_freq(f, &shorter)? > 0 {
                        stems.push(shorter);
                        break;
                    }
                }
            }
        }
        let mut disjuncts: Vec<Box<dyn Query>> = Vec::new();
        for (field, weight) in self.fields.weighted() {
            let mut terms = vec![(token.to_owned(), 1.0)];
            if !known && letters >= FUZZY_MIN_LETTERS {
                let q = FuzzyTermQuery::new(Term::from_field_text(field, token), 1, true);
                for e in self.expand(field, &q, token)? {
                    terms.push((e, FUZZY_WEIGHT));
                }
                for st in &stems {
                    if !terms.iter().any(|(t, _)| t == st) {
                        terms.push((st.clone(), FUZZY_WEIGHT));
                    }
                }
            }
            if let Some(p) = prefix {
                let q = FuzzyTermQuery::new_prefix(Term::from_field_text(field, p), 0, false);
                for e in self.expand(field, &q, token)? {
                    if !terms.iter().any(|(t, _)| *t == e) {
                        terms.push((e, PREFIX_WEIGHT));
                    }
                }
            }
            if let Some(c) = self.field_clause(field, &terms) {
                disjuncts.push(Box::new(BoostQuery::new(c, weight)));
            }
        }
        Ok(match disjuncts.len() {
            0 => None,
            _ => Some(Box::new(DisjunctionMaxQuery::with_tie_breaker(
                disjuncts,
                TIE_BREAKER,
            ))),
        })
    }

    /// A clause matching the known words that start with `prefix`, each at `weight` of an
    /// exact word; none when the index knows no such word.
    fn prefix_clause(
        &mut self,
        prefix: &str,
        weight: f32,
    ) -> Result<Option<Box<dyn Query>>, SearchError> {
        let mut disjuncts: Vec<Box<dyn Query>> = Vec::new();
        for (field, w) in self.fields.weighted() {
            let q = FuzzyTermQuery::new_prefix(Term::from_field_text(field, prefix), 0, false);
            let terms: Vec<(String, f32)> = self
                .expand(field, &q, "")?
                .into_iter()
                .map(|t| (t, weight))
                .collect();
            if let Some(c) = self.field_clause(field, &terms) {
                disjuncts.push(Box::new(BoostQuery::new(c, w)));
            }
        }
        Ok((!disjuncts.is_empty()).then(|| {
            Box::new(DisjunctionMaxQuery::with_tie_breaker(
                disjuncts,
                TIE_BREAKER,
            )) as Box<dyn Query>
        }))
    }

    fn phrase_clause(&mut self, text: &str) -> Result<Option<Box<dyn Query>>, SearchError> {
        let toks = tokens(self.analyzer, text);
        if toks.len() < 2 {
            return match toks.first() {
                Some((_, t)) => {
                    let letters = t.chars().count();
                    self.word_clause(t, letters.min(FUZZY_MIN_LETTERS - 1), None)
                }
                None => Ok(None),
            };
        }
        let mut disjuncts: Vec<Box<dyn Query>> = Vec::new();
        for (field, weight) in self.fields.weighted() {
            let terms: Vec<(usize, Term)> = toks
                .iter()
                .map(|(pos, t)| (*pos, Term::from_field_text(field, t)))
                .collect();
            for (_, t) in &toks {
                self.note_body_term(field, t, 1.0);
            }
            let q: Box<dyn Query> = Box::new(PhraseQuery::new_with_offset(terms));
            disjuncts.push(Box::new(BoostQuery::new(q, weight * 1.5)));
        }
        Ok(Some(Box::new(DisjunctionMaxQuery::with_tie_breaker(
            disjuncts,
            TIE_BREAKER,
        ))))
    }

    /// Whether `token` is in more than [`COMMON_SHARE`] of the articles in some field.
    fn is_common(&self, token: &str) -> Result<bool, SearchError> {
        let limit = (self.searcher.num_docs() as f64 * COMMON_SHARE) as u64;
        for (f, _) in self.fields.weighted() {
            if self.doc_freq(f, token)? > limit {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Clauses for `text` at `weight`: words are `Should`, quoted phrases `Must`. With
    /// `secondary`, words common across the articles are left out.
    pub(crate) fn text(
        &mut self,
        text: &str,
        weight: f32,
        as_you_type: bool,
        secondary: bool,
        out: &mut Vec<(Occur, Box<dyn Query>)>,
    ) -> Result<(), SearchError> {
        let mut words = 0;
        for part in parse(text, as_you_type) {
            if words >= MAX_WORDS {
                break;
            }
            match part {
                Part::Phrase(p) => {
                    if let Some(q) = self.phrase_clause(&p)? {
                        out.push((Occur::Must, q));
                        words += 1;
                    }
                }
                Part::Prefix(p) => {
                    if self.seen.insert(format!("{p}*"))
                        && let Some(q) = self.prefix_clause(&p, PREFIX_WEIGHT)?
                    {
                        out.push((Occur::Should, Box::new(BoostQuery::new(q, weight))));
                        words += 1;
                    }
                }
                Part::Word { raw, prefix_too } => {
                    let letters = raw.chars().filter(|c| c.is_alphanumeric()).count();
                    let prefix: Option<String> = prefix_too.then(|| {
                        raw.chars()
                            .filter(|c| c.is_alphanumeric())
                            .flat_map(char::to_lowercase)
                            .collect()
                    });
                    let toks = tokens(self.analyzer, &raw);
                    let last = toks.len().saturating_sub(1);
                    for (i, (_, t)) in toks.iter().enumerate() {
                        if !self.seen.insert(t.clone()) || (secondary && self.is_common(t)?) {
                            continue;
                        }
                        let p = if i == last { prefix.as_deref() } else { None };
                        let letters = if toks.len() == 1 {
                            letters
                        } else {
                            t.chars().count()
                        };
                        if let Some(q) = self.word_clause(t, letters, p)? {
                            out.push((Occur::Should, Box::new(BoostQuery::new(q, weight))));
                            words += 1;
                        }
                    }
                    // A stop word typed as the unfinished last word ("pass" is not one, but
                    // "th" might become "throttling") still completes.
                    if toks.is_empty()
                        && let Some(p) = prefix
                        && self.seen.insert(format!("{p}*"))
                        && let Some(q) = self.prefix_clause(&p, PREFIX_WEIGHT * 0.5)?
                    {
                        out.push((Occur::Should, q));
                    }
                }
            }
        }
        Ok(())
    }

    /// Filter clauses: they restrict, they do not score.
    pub(crate) fn filters(&self, f: &Filter, out: &mut Vec<(Occur, Box<dyn Query>)>) {
        let exact = |field: Field, v: &str| -> Box<dyn Query> {
            Box::new(TermQuery::new(
                Term::from_field_text(field, v),
                IndexRecordOption::Basic,
            ))
        };
        let mut must = |q: Box<dyn Query>| {
            out.push((Occur::Must, Box::new(ConstScoreQuery::new(q, 0.0))));
        };
        if f.public_only {
            must(exact(self.fields.audience, "public"));
        }
        // Usually every indexed article is published: then the status filter would only cost.
        let all: u64 = self
            .searcher
            .segment_readers()
            .iter()
            .map(|r| u64::from(r.max_doc()))
            .sum();
        let matching: u64 = f
            .statuses
            .iter()
            .map(|s| self.doc_freq(self.fields.status, s).unwrap_or(0))
            .sum();
        if matching < all {
            let statuses: Vec<(Occur, Box<dyn Query>)> = f
                .statuses
                .iter()
                .map(|s| (Occur::Should, exact(self.fields.status, s)))
                .collect();
            must(Box::new(BooleanQuery::new(statuses)));
        }
        if let Some(k) = &f.kind {
            must(exact(self.fields.kind, k));
        }
        if let Some(s) = &f.service {
            must(exact(self.fields.service, s));
        }
        if let Some(c) = &f.category {
            must(exact(self.fields.category, c));
        }
    }

    /// A small lift for articles of the ticket's service or category.
    pub(crate) fn prefer(&self, field: Field, value: &str, boost: f32) -> (Occur, Box<dyn Query>) {
        let q: Box<dyn Query> = Box::new(TermQuery::new(
            Term::from_field_text(field, value),
            IndexRecordOption::Basic,
        ));
        (Occur::Should, Box::new(ConstScoreQuery::new(q, boost)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_words_phrases_and_prefixes() {
        let p = parse(r#"db "connection refused" pool*"#, false);
        assert_eq!(
            p,
            vec![
                Part::Word {
                    raw: "db".into(),
                    prefix_too: false
                },
                Part::Phrase("connection refused".into()),
                Part::Prefix("pool".into()),
            ]
        );
    }

    #[test]
    fn the_unfinished_last_word_is_a_prefix_as_you_type() {
        let p = parse("cannot conn", true);
        assert_eq!(
            p.last(),
            Some(&Part::Word {
                raw: "conn".into(),
                prefix_too: true
            })
        );
        let p = parse("cannot conn ", true);
        assert_eq!(
            p.last(),
            Some(&Part::Word {
                raw: "conn".into(),
                prefix_too: false
            })
        );
    }

    #[test]
    fn an_unclosed_quote_is_not_a_lost_phrase() {
        let p = parse(r#"slow "web app"#, false);
        assert_eq!(p.len(), 2);
        assert_eq!(p[1], Part::Phrase("web app".into()));
    }
}
