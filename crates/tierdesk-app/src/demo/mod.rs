//! The demo organisation of SPEC §13, built through the same services the API uses.

pub mod knowledge;

use std::collections::BTreeMap;

use tierdesk_domain::Roles;

use crate::auth::{AddUser, add_user, create_token};
use crate::org::{self, CategoryInput, ServiceInput, TeamInput, TierInput};
use crate::tickets::{
    self, AssignInput, CreateTicket, Ref, ResolveInput, TierMoveInput, TransitionInput,
};
use crate::{App, AppError, Principal};

/// Demo users: (name, display name, roles, team).
pub const USERS: [(&str, &str, &str, Option<&str>); 9] = [
    ("admin", "Ada Admin", "admin,agent", None),
    (
        "dana",
        "Dana (L1 Service Desk)",
        "agent",
        Some("Service Desk"),
    ),
    ("lena", "Lena (L1 lead)", "agent,lead", Some("Service Desk")),
    (
        "olga",
        "Olga (L2 System Operations)",
        "agent",
        Some("System Operations"),
    ),
    ("dmitri", "Dmitri (L2 DBA)", "agent", Some("DBA")),
    (
        "sam",
        "Sam (L3 Platform Engineering)",
        "agent",
        Some("Platform Engineering"),
    ),
    ("carol", "Carol (CAB approver)", "approver", None),
    ("alice", "Alice Requester", "requester", None),
    ("bob", "Bob Requester", "requester", None),
];

/// What `tierdesk demo` created, with one token per demo user for the tour.
#[derive(Debug, Clone)]
pub struct DemoSummary {
    /// (user name, roles, token).
    pub tokens: Vec<(String, String, String)>,
    /// Keys of the sample tickets.
    pub tickets: Vec<String>,
}

fn name(n: &str) -> Ref {
    Ref::Name(n.to_owned())
}

/// Loads the demo organisation into a database with no teams yet.
pub fn load(app: &App) -> Result<DemoSummary, AppError> {
    if !org::list_teams(app)?.is_empty() {
        return Err(AppError::Conflict(
            "the database already has an organisation; run the demo on an empty database".into(),
        ));
    }
    let mut tokens = Vec::new();
    let mut principals = BTreeMap::new();
    for (user, display, roles, _) in USERS {
        let rec = add_user(
            app,
            AddUser {
                name: user.into(),
                display_name: Some(display.into()),
                email: Some(format!("{user}@example.com")),
                roles: Roles::parse("roles", roles)?,
                password: Some(format!("{user}-demo-password")),
            },
        )?;
        tokens.push((
            user.to_owned(),
            roles.to_owned(),
            create_token(app, user, None, "demo")?,
        ));
        principals.insert(user, Principal::from(rec));
    }
    let admin = principals
        .get("admin")
        .cloned()
        .ok_or_else(|| AppError::NotFound("user admin".into()))?;
    let p = |n: &str| principals.get(n).cloned().unwrap_or_else(|| admin.clone());

    for (team, tier, lead) in [
        ("Service Desk", "L1", "lena"),
        ("System Operations", "L2", "olga"),
        ("DBA", "L2", "dmitri"),
        ("Platform Engineering", "L3", "sam"),
    ] {
        let members: Vec<Ref> = USERS
            .iter()
            .filter(|u| u.3 == Some(team))
            .map(|u| name(u.0))
            .collect();
        org::save_team(
            app,
            &admin,
            None,
            TeamInput {
                name: Some(team.into()),
                tier: Some(tier.into()),
                lead: Some(name(lead)),
                email: Some(format!(
                    "{}@example.com",
                    team.to_lowercase().replace(' ', "-")
                )),
                members: Some(members),
            },
        )?;
    }
    for (tier, team) in [
        ("L1", "Service Desk"),
        ("L2", "System Operations"),
        ("L3", "Platform Engineering"),
    ] {
        org::put_tier(
            app,
            &admin,
            tier,
            TierInput {
                name: None,
                response_target: None,
                default_team: Some(name(team)),
            },
        )?;
    }
    for (service, criticality, description, l2) in [
        (
            "auth-service",
            "critical",
            "LDAP/OAuth login for every internal application",
            "System Operations",
        ),
        (
            "web-app",
            "high",
            "Customer web application: containers with autoscaling (HPA)",
            "System Operations",
        ),
        (
            "database",
            "critical",
            "Primary PostgreSQL cluster behind a connection pool",
            "DBA",
        ),
    ] {
        let owners = BTreeMap::from([
            ("L1".to_owned(), name("Service Desk")),
            ("L2".to_owned(), name(l2)),
            ("L3".to_owned(), name("Platform Engineering")),
        ]);
        org::save_service(
            app,
            &admin,
            None,
            ServiceInput {
                name: Some(service.into()),
                criticality: Some(criticality.into()),
                description: Some(description.into()),
                links: Some(serde_json::json!({
                    "dashboard": format!("https://grafana.example.com/d/{service}"),
                    "runbook": format!("https://runbooks.example.com/{service}"),
                })),
                owners: Some(owners),
            },
        )?;
    }
    for (category, service) in [
        ("access", Some("auth-service")),
        ("performance", Some("web-app")),
        ("database", Some("database")),
        ("network", None),
        ("hardware", None),
        ("software", None),
    ] {
        org::save_category(
            app,
            &admin,
            None,
            CategoryInput {
                name: Some(category.into()),
                default_service: service.map(str::to_owned),
                default_team: None,
            },
        )?;
    }
    knowledge::load(app, &admin)?;
    let mut keys = Vec::new();
    let create = |requester: &str, title: &str, category: &str, impact: i64, urgency: i64| {
        tickets::create(
            app,
            &p(requester),
            CreateTicket {
                title: Some(title.into()),
                description: Some(format!("Demo ticket: {title}")),
                category: Some(category.into()),
                impact: Some(impact),
                urgency: Some(urgency),
                ..CreateTicket::default()
            },
            None,
        )
        .map(|c| c.key)
    };
    let escalate = |by: &str, key: &str, note: &str| {
        tickets::move_tier(
            app,
            &p(by),
            key,
            TierMoveInput {
                note: Some(note.into()),
                to_tier: None,
                team: None,
                articles: None,
            },
            true,
            None,
        )
    };
    // L1: a new login problem.
    keys.push(create(
        "alice",
        "Cannot log in to the expense portal",
        "access",
        3,
        2,
    )?);
    // L1: resolved at first contact.
    let k = create("bob", "Password expired", "access", 3, 3)?;
    tickets::resolve(
        app,
        &p("dana"),
        &k,
        ResolveInput {
            code: Some("fixed".into()),
            note: Some("Password reset; user confirmed login.".into()),
            article_id: None,
        },
        None,
    )?;
    keys.push(k);
    // L2: slow application, escalated by the service desk.
    let k = create(
        "alice",
        "Web app very slow since this morning",
        "performance",
        2,
        2,
    )?;
    tickets::assign(
        app,
        &p("dana"),
        &k,
        AssignInput {
            team: None,
            assignee: Some(name("dana")),
        },
        None,
    )?;
    escalate(
        "dana",
        &k,
        "Collected details: dashboard pages take 20 s for all users since 08:00. SOP L1 steps done.",
    )?;
    tickets::transition(
        app,
        &p("olga"),
        &k,
        TransitionInput {
            status: Some("in_progress".into()),
            reason: None,
            note: Some("Checking HPA and container limits.".into()),
        },
        None,
    )?;
    keys.push(k);
    // L3: database connection failures, escalated twice.
    let k = create(
        "bob",
        "Database connection refused from billing",
        "database",
        1,
        1,
    )?;
    escalate(
        "dana",
        &k,
        "DBA team notified; errors reproduce for every user.",
    )?;
    escalate(
        "dmitri",
        &k,
        "Pool at max_connections after driver upgrade; needs a driver/config fix.",
    )?;
    keys.push(k);
    Ok(DemoSummary {
        tokens,
        tickets: keys,
    })
}
