//! One store test suite, run against every configured backend (SQLite always; PostgreSQL when
//! `TIERDESK_TEST_PG_URL` is set, required in CI).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use chrono::{TimeZone, Utc};
use tierdesk_domain::calendar::Calendar;
use tierdesk_domain::org::default_tiers;
use tierdesk_domain::sla::{ClockContext, CompiledPolicy, clocks_at_creation};
use tierdesk_domain::ticket::{Level, NewTicket};
use tierdesk_domain::{Channel, Kind, NewEvent, Roles, Status, Ticket};
use tierdesk_store::testing::TestDb;
use tierdesk_store::{IdempotencyRecord, NewUser, Store, StoreError, TicketFilter, TicketSort};

fn now() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 9, 0, 0).unwrap()
}

fn open(db: &TestDb) -> Store {
    let store = Store::open(&db.url).unwrap();
    store.migrate(now()).unwrap();
    assert!(
        store.migrate(now()).unwrap().is_empty(),
        "migrations apply once"
    );
    store
        .write(|r| {
            for t in default_tiers() {
                r.upsert_tier(&t)?;
            }
            Ok::<_, StoreError>(())
        })
        .unwrap();
    store
}

fn new_ticket(requester: i64, title: &str) -> NewTicket {
    NewTicket {
        kind: Kind::Incident,
        title: title.into(),
        description: String::new(),
        requester_id: requester,
        channel: Channel::Api,
        category_id: None,
        service_id: None,
        impact: Level::new("impact", 2).unwrap(),
        urgency: Level::new("urgency", 2).unwrap(),
        tags: vec!["vpn".into()],
    }
}

fn story(db: TestDb) {
    let b = db.backend;
    let store = open(&db);
    let user = NewUser {
        name: "alice".into(),
        display_name: "Alice".into(),
        email: None,
        roles: Roles::parse("roles", "requester").unwrap(),
        password_hash: None,
    };
    let u2 = user.clone();
    let alice = store.write(move |r| r.insert_user(&u2, now())).unwrap();
    let dup = store.write(move |r| r.insert_user(&user, now()));
    assert!(
        matches!(dup, Err(StoreError::Unique(_))),
        "[{b}] unique user names: {dup:?}"
    );

    let team = store
        .write(|r| r.insert_team("Desk", 1, None, None, now()))
        .unwrap();
    store
        .write(move |r| r.set_team_members(team, &[alice]))
        .unwrap();
    assert_eq!(store.read(|r| r.teams_of_user(alice)).unwrap(), vec![team]);

    // Tokens are found by hash only while live.
    store
        .write(move |r| r.insert_token(alice, "hash-1", "test", now()))
        .unwrap();
    assert_eq!(
        store
            .read(|r| r.user_by_token_hash("hash-1"))
            .unwrap()
            .unwrap()
            .id,
        alice
    );
    store.write(move |r| r.revoke_tokens(alice, now())).unwrap();
    assert!(
        store
            .read(|r| r.user_by_token_hash("hash-1"))
            .unwrap()
            .is_none()
    );

    // Tickets: numbering, round trip, optimistic versions, listing and cursors.
    let mut keys = Vec::new();
    for i in 0..7 {
        let key = store
            .write(move |r| {
                let n = r.next_ticket_number(Kind::Incident)?;
                let mut t = Ticket::open(
                    new_ticket(alice, &format!("VPN drop {i}")),
                    n,
                    1,
                    Some(team),
                    now() + chrono::Duration::minutes(i),
                );
                let policy = CompiledPolicy::default_policy();
                let tiers = |_: i32| ("L1".to_owned(), 900);
                let ctx = ClockContext {
                    policy: &policy,
                    calendar: &Calendar::Always,
                    tier: &tiers,
                };
                t.clocks = clocks_at_creation(&ctx, &t);
                t.id = r.insert_ticket(&t)?;
                r.append_event(t.id, now(), Some(alice), &NewEvent::created(&t))?;
                Ok::<_, StoreError>(t.key)
            })
            .unwrap();
        keys.push(key);
    }
    let first = keys[0].clone();
    let numbers: Vec<i64> = keys.iter().map(|k| k[4..].parse().unwrap()).collect();
    assert!(
        numbers.windows(2).all(|w| w[1] > w[0]),
        "[{b}] increasing numbers {numbers:?}"
    );
    let k = first.clone();
    let t = store
        .read(move |r| r.ticket_by_key(&k, false))
        .unwrap()
        .unwrap();
    assert_eq!(t.tags, vec!["vpn".to_owned()]);
    assert_eq!(t.clocks.len(), 2);
    let mut changed = t.clone();
    changed.transition(Status::InProgress, None, now()).unwrap();
    let c2 = changed.clone();
    store.write(move |r| r.update_ticket(&c2, 1)).unwrap();
    let stale = store.write(move |r| r.update_ticket(&changed, 1));
    assert!(
        matches!(stale, Err(StoreError::Constraint(_))),
        "[{b}] stale version refused"
    );

    let page = |sort: TicketSort, after| {
        store
            .read(move |r| {
                r.list_tickets(&TicketFilter {
                    requester_id: Some(alice),
                    sort,
                    after,
                    limit: 3,
                    ..TicketFilter::default()
                })
            })
            .unwrap()
    };
    let (p1, more) = page(TicketSort::Newest, None);
    assert!(more);
    assert_eq!(p1.len(), 3);
    let (p2, _) = page(TicketSort::Newest, Some((None, p1[2].id)));
    assert!(
        p2[0].id < p1[2].id,
        "[{b}] cursor continues below the last id"
    );
    let (q1, _) = page(TicketSort::SlaDue, None);
    let (q2, _) = page(TicketSort::SlaDue, Some((q1[2].sla_due(), q1[2].id)));
    assert!(
        q1[2].sla_due() <= q2[0].sla_due(),
        "[{b}] queue ordered by due time across pages"
    );
    let found = store
        .read(|r| {
            r.list_tickets(&TicketFilter {
                q: Some("drop 3".into()),
                limit: 10,
                ..TicketFilter::default()
            })
        })
        .unwrap()
        .0;
    assert_eq!(found.len(), 1);
    let found = store
        .read(|r| {
            r.list_tickets(&TicketFilter {
                q: Some("100%_".into()),
                limit: 10,
                ..TicketFilter::default()
            })
        })
        .unwrap()
        .0;
    assert!(found.is_empty(), "[{b}] LIKE wildcards in q are literal");

    // Idempotency keys are unique per user in the database, not by read-then-write.
    let rec = IdempotencyRecord {
        request_hash: "h".into(),
        status: 201,
        body: "{}".into(),
    };
    let r2 = rec.clone();
    store
        .write(move |r| r.idempotency_put(alice, "k", &r2, now()))
        .unwrap();
    let again = store.write(move |r| r.idempotency_put(alice, "k", &rec, now()));
    assert!(matches!(again, Err(StoreError::Unique(_))));

    // A failed write leaves nothing behind.
    let k = first.clone();
    let before = store
        .read(|r| r.conn().query("SELECT COUNT(*) FROM events", &[]))
        .unwrap()[0]
        .i64(0)
        .unwrap();
    let failed: Result<(), StoreError> = store.write(move |r| {
        let t = r.ticket_by_key(&k, true)?.unwrap();
        r.append_event(t.id, now(), None, &NewEvent::created(&t))?;
        Err(StoreError::Other("boom".into()))
    });
    assert!(failed.is_err());
    let after = store
        .read(|r| r.conn().query("SELECT COUNT(*) FROM events", &[]))
        .unwrap()[0]
        .i64(0)
        .unwrap();
    assert_eq!(before, after, "[{b}] rolled back");
    assert!(
        store
            .read(|r| r.tickets_without_creation_event())
            .unwrap()
            .is_empty()
    );

    if b == "sqlite" {
        let pragmas = store
            .read(|r| {
                let mode = r.conn().query("PRAGMA journal_mode", &[])?[0].text(0)?;
                let sync = r.conn().query("PRAGMA synchronous", &[])?[0].i64(0)?;
                Ok::<_, StoreError>((mode, sync))
            })
            .unwrap();
        assert_eq!(pragmas, ("wal".to_owned(), 2), "WAL with synchronous=FULL");
    }
    drop(store);
}

#[test]
fn store_story_on_every_backend() {
    for db in TestDb::all() {
        story(db);
    }
}

#[test]
fn concurrent_sqlite_writes_share_commits_and_stay_isolated() {
    let db = TestDb::sqlite();
    let store = std::sync::Arc::new(open(&db));
    let handles: Vec<_> = (0..16)
        .map(|i| {
            let store = store.clone();
            std::thread::spawn(move || {
                let name = format!("user{}", i % 8); // half of the inserts collide
                store.write(move |r| {
                    r.insert_user(
                        &NewUser {
                            name,
                            display_name: "x".into(),
                            email: None,
                            roles: Roles::parse("roles", "agent").unwrap(),
                            password_hash: None,
                        },
                        now(),
                    )
                })
            })
        })
        .collect();
    let results: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let ok = results.iter().filter(|r| r.is_ok()).count();
    let unique = results
        .iter()
        .filter(|r| matches!(r, Err(StoreError::Unique(_))))
        .count();
    assert_eq!(
        (ok, unique),
        (8, 8),
        "a failing job does not take its batch down"
    );
    assert_eq!(store.read(|r| r.list_users(0, 100)).unwrap().len(), 8);
}

#[test]
fn a_panicking_write_does_not_stop_the_sqlite_writer() {
    let db = TestDb::sqlite();
    let store = open(&db);
    let failed: Result<(), StoreError> = store.write(|r| {
        r.insert_team("half-written", 1, None, None, now())?;
        panic!("bug in a write job")
    });
    assert!(failed.is_err(), "the caller gets an error, not a hang");
    let id = store
        .write(|r| r.insert_team("Desk", 1, None, None, now()))
        .unwrap();
    assert!(id > 0, "later writes still work");
    assert_eq!(
        store.read(|r| r.team_id_by_name("half-written")).unwrap(),
        None,
        "nothing half-written"
    );
}
