//! The demo's knowledge base: the seed scenarios' SOPs (each with its symptoms and the L1, L2
//! and L3 actions), the neighbouring SOPs a real desk keeps next to them, a public FAQ and
//! how-to, a known error and the postmortem. The relevance test set is written against these.

use crate::articles::{self, ArticleInput};
use crate::{App, AppError, Principal};

/// One demo article.
#[derive(Debug, Clone, Copy)]
pub struct DemoArticle {
    /// Stable name.
    pub slug: &'static str,
    /// Kind.
    pub kind: &'static str,
    /// Title.
    pub title: &'static str,
    /// Symptoms and keywords as users and alerts say them.
    pub keywords: &'static str,
    /// Service.
    pub service: Option<&'static str>,
    /// Category.
    pub category: &'static str,
    /// `public` or `internal`.
    pub audience: &'static str,
    /// Markdown body.
    pub body: &'static str,
}

/// The demo articles, in the order they are created (ids 1, 2, …): the three seed SOPs first,
/// then the public password FAQ (id 4) and the postmortem (id 5).
pub const ARTICLES: &[DemoArticle] = &[
    DemoArticle {
        slug: "user-cannot-log-in",
        kind: "sop",
        title: "User cannot log in",
        keywords: "login log in logon sign in signin password locked account invalid credentials \
                   access denied ldap oauth sso authentication redirect loop",
        service: Some("auth-service"),
        category: "access",
        audience: "internal",
        body: "# User cannot log in\n\n## Symptoms\n- \"Invalid username or password\" although the \
               password is right\n- Account locked after several attempts\n- Endless redirect \
               between the application and the SSO page\n\n## L1 Service Desk\nCheck the account \
               status (locked, disabled, expired password) and the user's network; reset the \
               password or unlock the account.\n\n## L2 Operations\nVerify the authentication \
               logs and the LDAP/OAuth provider: bind errors, token issuer, clock skew, \
               certificate expiry.\n\n## L3 Engineering\nFix the backend authentication service \
               or its configuration; add a regression test and update this SOP.\n",
    },
    DemoArticle {
        slug: "app-running-slow",
        kind: "sop",
        title: "App running slow",
        keywords: "slow slowness latency timeout timing out performance sluggish laggy lag \
                   loading takes forever hangs web app response time",
        service: Some("web-app"),
        category: "performance",
        audience: "internal",
        body: "# App running slow\n\n## Symptoms\n- Pages take many seconds to load or time \
               out\n- Dashboards and reports hang for every user\n- p95 latency alert from \
               monitoring\n\n## L1 Service Desk\nCollect the report details: which page, since \
               when, how many users, a screenshot or request id.\n\n## L2 Operations\nCheck \
               container resources and HPA status: CPU/memory saturation, replica count, \
               throttling, recent deploys.\n\n## L3 Engineering\nOptimise the code, query or \
               configuration; profile the hot path and ship the fix through change \
               management.\n",
    },
    DemoArticle {
        slug: "database-connection-failure",
        kind: "sop",
        title: "Database connection failure",
        keywords: "database db connection refused cannot connect pool exhausted too many \
                   connections too many clients max_connections postgres postgresql timeout \
                   db error",
        service: Some("database"),
        category: "database",
        audience: "internal",
        body: "# Database connection failure\n\n## Symptoms\n- \"connection refused\" or \
               \"timeout expired\" from the application\n- \"FATAL: sorry, too many clients \
               already\"\n- Connection pool exhausted warnings in the service logs\n\n## L1 \
               Service Desk\nNotify the DBA team and link the affected service; tell the \
               requester an engineer is on it.\n\n## L2 Operations\nValidate the connection \
               pool and database health: active connections, max_connections, replication, \
               disk.\n\n## L3 Engineering\nPatch the driver or the database configuration; \
               record the fix as a known error if a workaround exists.\n",
    },
    DemoArticle {
        slug: "how-do-i-reset-my-password",
        kind: "faq",
        title: "How do I reset my password?",
        keywords: "password reset forgot forgotten expired change new password login",
        service: Some("auth-service"),
        category: "access",
        audience: "public",
        body: "Open the self-service portal, choose *Forgot password* and follow the email link. \
               The new password must have 12 characters or more and differ from the last five. \
               An expired password is changed the same way.\n",
    },
    DemoArticle {
        slug: "postmortem-database-connection-pool-exhaustion",
        kind: "postmortem",
        title: "Postmortem: database connection pool exhaustion",
        keywords: "database pool exhaustion postmortem incident driver upgrade pool size",
        service: Some("database"),
        category: "database",
        audience: "internal",
        body: "## Impact\nweb-app returned errors for 42 minutes.\n\n## Root cause\nA driver \
               upgrade halved the pool size.\n\n## Action items\n- Pin pool size in \
               configuration (Platform Engineering)\n- Alert on pool saturation (DBA)\n- Update \
               the SOP 'Database connection failure' (Service Desk)\n",
    },
    DemoArticle {
        slug: "mfa-code-not-accepted",
        kind: "known_error",
        title: "MFA code not accepted",
        keywords: "mfa 2fa two-factor one-time code otp authenticator token rejected invalid \
                   code phone clock",
        service: Some("auth-service"),
        category: "access",
        audience: "internal",
        body: "## Symptoms\nThe authenticator app's six-digit code is rejected at sign-in.\n\n\
               ## Cause\nThe phone's clock drifted by more than 30 seconds.\n\n## Workaround\n\
               Turn on automatic time on the phone, or re-enrol the authenticator from the \
               security page. L1 may issue a one-day bypass code after verifying the caller.\n",
    },
    DemoArticle {
        slug: "web-app-returns-502-or-503-errors",
        kind: "sop",
        title: "Web app returns 502 or 503 errors",
        keywords: "502 503 504 bad gateway service unavailable gateway timeout 5xx error page \
                   website down outage ingress",
        service: Some("web-app"),
        category: "performance",
        audience: "internal",
        body: "## Symptoms\nUsers see \"502 Bad Gateway\" or \"503 Service Unavailable\"; the \
               5xx rate alert fires.\n\n## L1 Service Desk\nCheck the status page and open or \
               link the major incident.\n\n## L2 Operations\nCheck the ingress and the pods: \
               crash loops, failed readiness probes, a rollout in progress; roll back the last \
               deploy if it matches.\n\n## L3 Engineering\nFix the failing release and add the \
               missing readiness check.\n",
    },
    DemoArticle {
        slug: "disk-full-on-a-host",
        kind: "sop",
        title: "Disk full on a host",
        keywords: "disk full no space left on device filesystem 100% storage volume inode \
                   capacity alert",
        service: None,
        category: "hardware",
        audience: "internal",
        body: "## Symptoms\nWrites fail with \"No space left on device\"; the disk usage alert \
               fires at 90 %.\n\n## L2 Operations\nFind the largest directories, rotate and \
               compress logs, remove old container images, grow the volume if the growth is \
               expected.\n\n## L3 Engineering\nFix the retention or the runaway writer.\n",
    },
    DemoArticle {
        slug: "tls-certificate-expired",
        kind: "sop",
        title: "TLS certificate expired",
        keywords: "tls ssl certificate cert expired expiry handshake failed browser warning \
                   your connection is not private https",
        service: Some("web-app"),
        category: "network",
        audience: "internal",
        body: "## Symptoms\nBrowsers warn \"Your connection is not private\"; clients fail with \
               \"certificate has expired\" or a TLS handshake error.\n\n## L2 Operations\nCheck \
               the certificate's dates and the issuer; renew it through the ACME automation and \
               reload the ingress.\n\n## L3 Engineering\nRepair the renewal job and alert 14 \
               days before expiry.\n",
    },
    DemoArticle {
        slug: "vpn-does-not-connect",
        kind: "howto",
        title: "VPN does not connect",
        keywords: "vpn remote access working from home disconnects drops tunnel client \
                   wont connect",
        service: None,
        category: "network",
        audience: "public",
        body: "1. Check that the internet connection works without the VPN.\n2. Quit and restart \
               the VPN client, then sign in again.\n3. If it keeps dropping, switch from Wi-Fi to \
               a cable or another network.\n4. Still failing? Open a ticket with the client's \
               error message.\n",
    },
];

/// Creates the demo articles (published), then brings the search index up to date once.
pub fn load(app: &App, admin: &Principal) -> Result<(), AppError> {
    for a in ARTICLES {
        articles::create_unindexed(
            app,
            admin,
            ArticleInput {
                kind: Some(a.kind.into()),
                title: Some(a.title.into()),
                body: Some(a.body.into()),
                keywords: Some(a.keywords.split_whitespace().collect::<Vec<_>>().join(" ")),
                audience: Some(a.audience.into()),
                status: Some("published".into()),
                service: a.service.map(str::to_owned),
                category: Some(a.category.into()),
                review_by: None,
                slug: Some(a.slug.into()),
            },
        )?;
    }
    crate::search::after_write(app);
    Ok(())
}
