//! A synthetic knowledge base for load tests and the relevance test: plausible IT articles
//! (about 1 KB each) on everything a desk documents besides the demo's scenarios, built from a
//! fixed vocabulary so that they compete for the same words ("connect", "account", "slow",
//! "error", "password") without being about the demo's problems.

use chrono::{DateTime, Utc};
use tierdesk_store::NewArticle;

use crate::{App, AppError};

const SUBJECTS: &[&str] = &[
    "printer",
    "laptop",
    "monitor",
    "keyboard",
    "headset",
    "badge reader",
    "desk phone",
    "Wi-Fi access point",
    "shared drive",
    "calendar",
    "mailbox",
    "meeting room display",
    "project board",
    "Git repository",
    "CI pipeline",
    "build agent",
    "DNS record",
    "load balancer",
    "Kubernetes namespace",
    "object storage bucket",
    "backup job",
    "cron job",
    "license server",
    "expense report",
    "payroll portal",
    "HR system",
    "projector",
    "docking station",
    "mobile device",
    "antivirus agent",
    "browser extension",
    "spreadsheet macro",
    "data warehouse",
    "BI dashboard",
    "API gateway",
    "message queue",
    "cache cluster",
    "log pipeline",
    "metrics agent",
    "firewall rule",
    "web proxy",
    "SFTP server",
    "file share",
    "intranet page",
    "wiki space",
    "ticket form",
    "onboarding checklist",
    "laptop encryption",
    "software catalogue",
    "video conference bridge",
    "scanner",
    "time tracking tool",
    "travel booking tool",
    "purchase order",
    "asset tag",
];

const ACTIONS: &[&str] = &[
    "configure",
    "install",
    "replace",
    "request access to",
    "rename",
    "archive",
    "migrate",
    "clean up",
    "set up",
    "renew",
    "order",
    "share",
    "back up",
    "restore",
    "update",
    "monitor",
    "decommission",
    "tag",
    "audit",
    "rotate the keys of",
    "move",
    "reset the settings of",
];

const PROBLEMS: &[&str] = &[
    "shows an error code",
    "is not detected",
    "prints blank pages",
    "is missing from the list",
    "needs manager approval",
    "fails to sync",
    "beeps every minute",
    "is out of stock",
    "drops off the network",
    "reports wrong totals",
    "has a broken link",
    "duplicates entries",
    "is read-only",
    "rejects the upload",
    "shows the wrong time zone",
    "stops responding",
    "fills up quickly",
    "needs a restart",
    "loses its settings",
    "is slow to open attachments",
    "asks for the account again",
    "cannot reach the license server",
    "shows an expired warning",
];

const TEAMS: &[&str] = &[
    "Facilities",
    "Procurement",
    "Workplace IT",
    "Network team",
    "Finance systems",
    "HR operations",
    "Security office",
    "Developer experience",
    "Data platform",
];

const SENTENCES: &[&str] = &[
    "Open the {s} settings from the start menu and select the advanced tab.",
    "If the {s} still {p}, contact {t} with the asset number.",
    "This procedure applies to managed devices only; personal devices are out of scope.",
    "Users with a standard account can {a} the {s} themselves from the self-service catalogue.",
    "Make sure the device is connected to the corporate network before you {a} the {s}.",
    "The {s} is owned by {t}; changes need their approval in the change calendar.",
    "Record the serial number, the location and the time of the last successful use.",
    "A restart of the {s} clears most transient faults; wait two minutes before testing again.",
    "Do not share your password or one-time codes with anyone, including the service desk.",
    "Escalate to {t} when more than five people report that the {s} {p}.",
    "Attach a screenshot of the message and the exact error text to the request.",
    "Check the status page first; planned maintenance is announced there a week ahead.",
    "The {s} keeps an audit log for ninety days; older entries are archived.",
    "Copy the configuration to the shared drive before you {a} the {s}.",
    "After the change, confirm with the requester that the {s} works as expected.",
    "Some regional offices use a different vendor; check the local page before ordering.",
    "The monthly report lists every {s} that {p}; review it with {t}.",
    "Access is granted per team; ask your manager to approve the request in the portal.",
];

/// A tiny deterministic generator (xorshift), so the corpus is the same on every machine.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    fn pick<'a>(&mut self, list: &[&'a str]) -> &'a str {
        let i = usize::try_from(self.next() % list.len() as u64).unwrap_or(0);
        list.get(i).copied().unwrap_or("")
    }
}

/// A synthetic article: (title, keywords, body, category index).
#[derive(Debug, Clone, PartialEq)]
pub struct SyntheticArticle {
    /// Title.
    pub title: String,
    /// Keywords.
    pub keywords: String,
    /// Markdown body, about 1 KB.
    pub body: String,
    /// `howto`, `faq`, `sop` or `known_error`.
    pub kind: &'static str,
}

/// The `i`-th article of the corpus seeded with `seed`.
pub fn article(seed: u64, i: u64) -> SyntheticArticle {
    let mut r = Rng(seed
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .wrapping_add(i.wrapping_mul(0xBF58_476D_1CE4_E5B9))
        | 1);
    for _ in 0..4 {
        r.next();
    }
    let (s, a, p, t) = (
        r.pick(SUBJECTS),
        r.pick(ACTIONS),
        r.pick(PROBLEMS),
        r.pick(TEAMS),
    );
    let (title, kind) = match r.next() % 4 {
        0 => (format!("How to {a} the {s}"), "howto"),
        1 => (format!("The {s} {p}"), "known_error"),
        2 => (format!("Request: {a} the {s} ({t})"), "sop"),
        _ => (format!("FAQ: why the {s} {p}"), "faq"),
    };
    let mut body = format!("# {title}\n\n");
    while body.len() < 1000 {
        let line = r
            .pick(SENTENCES)
            .replace("{s}", s)
            .replace("{a}", a)
            .replace("{p}", p)
            .replace("{t}", t);
        body.push_str(&line);
        body.push(if r.next().is_multiple_of(3) {
            '\n'
        } else {
            ' '
        });
    }
    SyntheticArticle {
        keywords: format!("{s} {t} {}", r.pick(SUBJECTS)).to_lowercase(),
        title,
        body,
        kind,
    }
}

/// Inserts `count` synthetic published articles (ids after the existing ones), in transactions
/// of 1,000, without touching the search index; `progress(done)` after each transaction.
pub fn load(
    app: &App,
    seed: u64,
    count: u64,
    now: DateTime<Utc>,
    progress: &dyn Fn(u64),
) -> Result<(), AppError> {
    let categories: Vec<i64> = app
        .store
        .read(|r| r.list_categories())?
        .into_iter()
        .map(|c| c.id)
        .collect();
    let mut done = 0;
    while done < count {
        let start = done;
        let end = (done + 1000).min(count);
        let cats = categories.clone();
        app.store.write(move |r| {
            for i in start..end {
                let a = article(seed, i);
                let category_id = (!cats.is_empty())
                    .then(|| {
                        cats.get(usize::try_from(i).unwrap_or(0) % cats.len())
                            .copied()
                    })
                    .flatten();
                r.insert_article(
                    &NewArticle {
                        kind: a.kind.into(),
                        title: a.title,
                        body: a.body,
                        keywords: a.keywords,
                        audience: if i.is_multiple_of(3) {
                            "public"
                        } else {
                            "internal"
                        }
                        .into(),
                        status: "published".into(),
                        service_id: None,
                        category_id,
                        owner_id: None,
                        review_by: None,
                        slug: Some(format!("synthetic-{seed}-{i}")),
                    },
                    now,
                )?;
            }
            Ok::<(), AppError>(())
        })?;
        done = end;
        progress(done);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn articles_are_deterministic_about_one_kilobyte_and_varied() {
        let a = article(7, 3);
        assert_eq!(a, article(7, 3));
        assert!((1000..1400).contains(&a.body.len()), "{}", a.body.len());
        let titles: std::collections::HashSet<String> =
            (0..200).map(|i| article(7, i).title).collect();
        assert!(titles.len() > 150, "{}", titles.len());
    }
}
