#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;

fn doc(id: i64, title: &str, keywords: &str, body: &str) -> IndexDoc {
    IndexDoc {
        id,
        kind: "sop".into(),
        title: title.into(),
        keywords: keywords.into(),
        body: body.into(),
        service: None,
        category: None,
        audience: "internal".into(),
        status: "published".into(),
    }
}

fn corpus() -> KbIndex {
    let kb = KbIndex::in_memory().unwrap();
    let mut b = kb.batch(true).unwrap();
    for d in [
        doc(
            1,
            "User cannot log in",
            "login password locked account",
            "Check the account status and reset the password.",
        ),
        doc(
            2,
            "Database connection failure",
            "connection refused pool exhausted",
            "Validate the connection pool and database health.",
        ),
        doc(
            3,
            "App running slow",
            "latency timeout performance",
            "Check container resources and throttling. Mentions login only here.",
        ),
        IndexDoc {
            audience: "public".into(),
            kind: "faq".into(),
            service: Some("auth-service".into()),
            ..doc(
                4,
                "How do I reset my password?",
                "forgot password",
                "Use the portal.",
            )
        },
        IndexDoc {
            status: "draft".into(),
            ..doc(
                5,
                "Printer jams on floor 3",
                "printer paper",
                "Open tray 2.",
            )
        },
        IndexDoc {
            status: "retired".into(),
            ..doc(6, "Old VPN client", "vpn", "Install the old client.")
        },
    ] {
        b.put(&d).unwrap();
    }
    b.commit(42).unwrap();
    kb
}

fn ids(kb: &KbIndex, text: &str) -> Vec<i64> {
    search(kb, text, Filter::default())
}

fn search(kb: &KbIndex, text: &str, mut filter: Filter) -> Vec<i64> {
    if filter.statuses.is_empty() {
        filter.statuses = vec!["published".into()];
    }
    kb.search(&SearchRequest {
        text: text.into(),
        filter,
        limit: 10,
        ..SearchRequest::default()
    })
    .unwrap()
    .hits
    .iter()
    .map(|h| h.id)
    .collect()
}

#[test]
fn title_outranks_body_and_stemming_matches_word_forms() {
    let kb = corpus();
    let hits = ids(&kb, "login");
    assert_eq!(hits.first(), Some(&1), "{hits:?}");
    assert!(hits.contains(&3), "body matches still count: {hits:?}");
    assert_eq!(ids(&kb, "connections refusing").first(), Some(&2));
}

#[test]
fn one_typo_on_long_words_is_forgiven_but_not_on_short_ones() {
    let kb = corpus();
    let mut hits = ids(&kb, "pasword");
    hits.sort();
    assert_eq!(hits, vec![1, 4]);
    assert_eq!(ids(&kb, "databse conection").first(), Some(&2));
    assert_eq!(
        ids(&kb, "throttlingly"),
        vec![3],
        "a suffix the stemmer keeps is cut back to a known word"
    );
    assert!(
        ids(&kb, "slo").is_empty(),
        "a 3-letter word is not fuzzy-matched"
    );
}

#[test]
fn phrases_must_appear_and_prefixes_complete() {
    let kb = corpus();
    assert_eq!(ids(&kb, r#""connection refused""#), vec![2]);
    assert!(ids(&kb, r#""refused connection""#).is_empty());
    assert_eq!(ids(&kb, "throttl*"), vec![3]);
    let typed = kb
        .search(&SearchRequest {
            text: "databa".into(),
            as_you_type: true,
            filter: Filter {
                statuses: vec!["published".into()],
                ..Filter::default()
            },
            limit: 5,
            ..SearchRequest::default()
        })
        .unwrap();
    assert_eq!(typed.hits.first().map(|h| h.id), Some(2));
}

#[test]
fn filters_restrict_audience_status_kind_and_service() {
    let kb = corpus();
    let public = Filter {
        public_only: true,
        ..Filter::default()
    };
    assert_eq!(search(&kb, "password", public), vec![4]);
    assert!(ids(&kb, "printer").is_empty(), "drafts are not published");
    let drafts = Filter {
        statuses: vec!["draft".into(), "review".into()],
        ..Filter::default()
    };
    assert_eq!(search(&kb, "printer", drafts), vec![5]);
    assert!(
        search(
            &kb,
            "vpn",
            Filter {
                statuses: vec!["retired".into(), "published".into()],
                ..Filter::default()
            }
        )
        .is_empty(),
        "retired articles are not indexed"
    );
    let faq = Filter {
        kind: Some("faq".into()),
        ..Filter::default()
    };
    assert_eq!(search(&kb, "password", faq), vec![4]);
    let svc = Filter {
        service: Some("auth-service".into()),
        ..Filter::default()
    };
    assert_eq!(search(&kb, "password", svc), vec![4]);
}

#[test]
fn snippets_highlight_the_matched_words() {
    let kb = corpus();
    let r = kb
        .search(&SearchRequest {
            text: "pool".into(),
            filter: Filter {
                statuses: vec!["published".into()],
                ..Filter::default()
            },
            limit: 1,
            ..SearchRequest::default()
        })
        .unwrap();
    let s = r.snippet("## L2\nValidate the **connection pool** and database health.");
    let words: Vec<String> = s
        .highlights
        .iter()
        .map(|(a, b)| s.text.chars().skip(*a).take(b - a).collect())
        .collect();
    assert_eq!(words, vec!["pool".to_owned()], "{s:?}");
    assert!(!s.text.contains("**"));
}

#[test]
fn edits_replace_the_old_text_and_the_payload_survives_reopening() {
    let dir = tempfile::tempdir().unwrap();
    {
        let kb = KbIndex::open(dir.path()).unwrap();
        assert_eq!(kb.applied().unwrap(), -1);
        let mut b = kb.batch(true).unwrap();
        b.put(&doc(1, "Disk full", "disk space", "Free space."))
            .unwrap();
        b.commit(7).unwrap();
        let mut b = kb.batch(false).unwrap();
        b.put(&doc(1, "Inode exhaustion", "inodes", "Remove small files."))
            .unwrap();
        b.commit(8).unwrap();
        assert!(ids(&kb, "disk").is_empty());
        assert_eq!(ids(&kb, "inode"), vec![1]);
    }
    let kb = KbIndex::open(dir.path()).unwrap();
    assert_eq!(kb.applied().unwrap(), 8);
    assert_eq!(kb.num_docs(), 1);
    assert!(kb.size_on_disk().unwrap() > 0);
}

#[test]
fn a_damaged_index_is_replaced_by_an_empty_one() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("meta.json"), b"{ not json").unwrap();
    let kb = KbIndex::open(dir.path()).unwrap();
    assert_eq!(kb.applied().unwrap(), -1);
    assert_eq!(kb.num_docs(), 0);
}

#[test]
fn empty_and_stop_word_queries_find_nothing_without_failing() {
    let kb = corpus();
    assert!(ids(&kb, "").is_empty());
    assert!(ids(&kb, "the of and").is_empty());
    assert!(ids(&kb, "\"\" * ** \"").is_empty());
}
