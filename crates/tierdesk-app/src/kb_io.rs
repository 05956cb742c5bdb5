//! Knowledge-base import and export as Markdown files with front matter:
//!
//! ```text
//! ---
//! title: User cannot log in
//! kind: sop
//! audience: internal
//! status: published
//! keywords: login password ldap
//! service: auth-service
//! category: access
//! review_by: 2027-01-31
//! ---
//! # Markdown body …
//! ```
//!
//! The file name without `.md` is the article's slug: importing the same folder twice updates
//! (as a new version, only when something changed) instead of duplicating.

use std::path::{Path, PathBuf};

use crate::articles::{self, ArticleInput, check_slug};
use crate::{App, AppError, Principal};

const KEYS: [&str; 8] = [
    "title",
    "kind",
    "audience",
    "status",
    "keywords",
    "service",
    "category",
    "review_by",
];

/// A parsed file.
#[derive(Debug, Clone)]
pub struct ArticleFile {
    /// From the file name.
    pub slug: String,
    /// The front matter as article fields.
    pub input: ArticleInput,
}

/// Parses one file's text; errors say what is wrong.
pub fn parse(slug: &str, text: &str) -> Result<ArticleFile, String> {
    let slug =
        check_slug(slug).map_err(|_| format!("file name '{slug}' is not a slug (a-z, 0-9, -)"))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let rest = text
        .strip_prefix("---\n")
        .or_else(|| text.strip_prefix("---\r\n"))
        .ok_or("no front matter: the file must start with a line '---'")?;
    let end = rest
        .find("\n---")
        .ok_or("front matter is not closed by a line '---'")?;
    let (head, body) = (&rest[..end], &rest[end + 4..]);
    let body = body.strip_prefix('\r').unwrap_or(body);
    let body = body.strip_prefix('\n').unwrap_or(body);
    let mut input = ArticleInput {
        kind: None,
        title: None,
        body: Some(body.to_owned()),
        keywords: None,
        audience: None,
        status: None,
        service: None,
        category: None,
        review_by: None,
        slug: Some(slug.clone()),
    };
    for (n, line) in head.lines().enumerate() {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() || line.trim_start().starts_with('#') {
            continue;
        }
        let (key, value) = line
            .split_once(':')
            .ok_or_else(|| format!("front matter line {}: expected 'key: value'", n + 2))?;
        let (key, value) = (key.trim(), value.trim().trim_matches('"').to_owned());
        let slot = match key {
            "title" => &mut input.title,
            "kind" => &mut input.kind,
            "audience" => &mut input.audience,
            "status" => &mut input.status,
            "keywords" => &mut input.keywords,
            "service" => &mut input.service,
            "category" => &mut input.category,
            "review_by" => &mut input.review_by,
            other => {
                return Err(format!(
                    "front matter line {}: unknown key '{other}' (known: {})",
                    n + 2,
                    KEYS.join(", ")
                ));
            }
        };
        *slot = Some(value);
    }
    if input.title.as_deref().is_none_or(|t| t.trim().is_empty()) {
        return Err("front matter has no title".into());
    }
    Ok(ArticleFile { slug, input })
}

/// What an import did.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct ImportReport {
    /// New articles.
    pub created: Vec<String>,
    /// Articles that got a new version.
    pub updated: Vec<String>,
    /// Files identical to the stored article.
    pub unchanged: Vec<String>,
    /// (file name, reason) of files that were not imported.
    pub failed: Vec<(String, String)>,
}

fn md_files(dir: &Path) -> Result<Vec<PathBuf>, AppError> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| AppError::invalid("dir", format!("{}: {e}", dir.display())))?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "md"))
        .collect();
    files.sort();
    Ok(files)
}

/// Imports every `*.md` file of `dir` (agents). Bad files are reported by name; the rest import.
pub fn import(
    app: &App,
    p: &Principal,
    dir: &Path,
    progress: &dyn Fn(usize, usize),
) -> Result<ImportReport, AppError> {
    p.require_agent()?;
    let files = md_files(dir)?;
    let mut report = ImportReport::default();
    for (i, path) in files.iter().enumerate() {
        progress(i + 1, files.len());
        let name = path
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        let slug = path
            .file_stem()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        let parsed = std::fs::read_to_string(path)
            .map_err(|e| e.to_string())
            .and_then(|text| parse(&slug, &text));
        let file = match parsed {
            Ok(f) => f,
            Err(why) => {
                report.failed.push((name, why));
                continue;
            }
        };
        let existing = app.store.read(|r| r.article_by_slug(&file.slug))?;
        let outcome = match existing {
            None => articles::create_unindexed(app, p, file.input).map(|_| &mut report.created),
            Some(a) => {
                let mut input = file.input;
                input.slug = None;
                if same(&a, &input, app)? {
                    Ok(&mut report.unchanged)
                } else {
                    articles::update_unindexed(app, p, a.id, input, Some(a.version))
                        .map(|_| &mut report.updated)
                }
            }
        };
        match outcome {
            Ok(list) => list.push(name),
            Err(e) => report.failed.push((name, e.to_string())),
        }
    }
    crate::search::after_write(app);
    Ok(report)
}

/// The service and category names of an article.
fn place_names(
    app: &App,
    a: &tierdesk_store::ArticleRecord,
) -> Result<(Option<String>, Option<String>), AppError> {
    app.store.read(|r| {
        let service = a
            .service_id
            .map(|id| r.service_by_id(id))
            .transpose()?
            .flatten()
            .map(|s| s.name);
        let category = a
            .category_id
            .map(|id| r.category_by_id(id))
            .transpose()?
            .flatten()
            .map(|c| c.name);
        Ok((service, category))
    })
}

fn same(a: &tierdesk_store::ArticleRecord, f: &ArticleInput, app: &App) -> Result<bool, AppError> {
    let (service, category) = place_names(app, a)?;
    let eq = |field: &Option<String>, stored: &str| field.as_deref().is_none_or(|v| v == stored);
    Ok(eq(&f.title, &a.title)
        && eq(&f.kind, &a.kind)
        && eq(&f.audience, &a.audience)
        && eq(&f.status, &a.status)
        && eq(&f.keywords, &a.keywords)
        && eq(&f.body, &a.body)
        && f.service
            .as_deref()
            .is_none_or(|s| Some(s) == service.as_deref())
        && f.category
            .as_deref()
            .is_none_or(|c| Some(c) == category.as_deref())
        && f.review_by
            .as_deref()
            .is_none_or(|d| Some(d) == a.review_by.as_deref()))
}

/// Writes every article (agents see all) to `dir` as `<slug>.md`; returns the number written.
pub fn export(
    app: &App,
    p: &Principal,
    dir: &Path,
    progress: &dyn Fn(usize, usize),
) -> Result<usize, AppError> {
    p.require_agent()?;
    std::fs::create_dir_all(dir)
        .map_err(|e| AppError::invalid("dir", format!("{}: {e}", dir.display())))?;
    let list = articles::list(app, p)?;
    for (i, a) in list.iter().enumerate() {
        progress(i + 1, list.len());
        let (service, category) = place_names(app, a)?;
        let slug = a
            .slug
            .clone()
            .unwrap_or_else(|| format!("article-{}", a.id));
        let mut text = format!(
            "---\ntitle: {}\nkind: {}\naudience: {}\nstatus: {}\nkeywords: {}\n",
            a.title, a.kind, a.audience, a.status, a.keywords
        );
        for (k, v) in [
            ("service", service),
            ("category", category),
            ("review_by", a.review_by.clone()),
        ] {
            if let Some(v) = v {
                text.push_str(&format!("{k}: {v}\n"));
            }
        }
        text.push_str("---\n");
        text.push_str(&a.body);
        std::fs::write(dir.join(format!("{slug}.md")), text)
            .map_err(|e| AppError::invalid("dir", e.to_string()))?;
    }
    Ok(list.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_front_matter_and_names_problems() {
        let f = parse(
            "vpn-reset",
            "---\ntitle: Reset VPN\nkind: howto\n---\n# Steps\n1. do it\n",
        )
        .unwrap();
        assert_eq!(f.input.title.as_deref(), Some("Reset VPN"));
        assert_eq!(f.input.body.as_deref(), Some("# Steps\n1. do it\n"));
        assert!(
            parse("x", "no front matter")
                .unwrap_err()
                .contains("front matter")
        );
        assert!(
            parse("x", "---\ntitle: a\n")
                .unwrap_err()
                .contains("not closed")
        );
        assert!(
            parse("x", "---\ntitel: a\n---\n")
                .unwrap_err()
                .contains("unknown key 'titel'")
        );
        assert!(
            parse("Bad Name", "---\ntitle: a\n---\n")
                .unwrap_err()
                .contains("not a slug")
        );
        assert_eq!(
            crate::articles::slugify("User cannot log in!"),
            "user-cannot-log-in"
        );
    }
}
