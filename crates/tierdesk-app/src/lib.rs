//! tierdesk application services: the use cases, with authorisation, on top of the domain and
//! the store. Both the HTTP layer and the CLI call these; neither talks to the store directly
//! for business operations.

pub mod articles;
pub mod auth;
pub mod clock;
pub mod corpus;
pub mod demo;
mod error;
pub mod intake;
pub mod kb_io;
pub mod metrics;
pub mod org;
pub mod principal;
pub mod reports;
pub mod search;
pub mod sla;
pub mod tickets;
pub mod view;
pub mod webhooks;

use std::sync::Arc;

pub use clock::{Clock, ManualClock, SystemClock};
pub use error::AppError;
pub use principal::Principal;
pub use tierdesk_store::{DatabaseUrl, Store, StoreError};

/// The application: the store and the clock every service reads `now` from.
#[derive(Clone)]
pub struct App {
    /// The store.
    pub store: Arc<Store>,
    /// The one source of `now`.
    pub clock: Arc<dyn Clock>,
    /// This process's counters.
    pub metrics: Arc<metrics::Metrics>,
    /// This process's copy of tiers, SLA configuration and webhooks.
    pub config: Arc<sla::ConfigCache>,
    /// This node's knowledge search index.
    pub kb: Arc<search::KbSearch>,
}

impl App {
    /// Wraps an opened store and a search index.
    pub fn new(store: Store, clock: Arc<dyn Clock>, kb: search::KbSearch) -> App {
        App {
            store: Arc::new(store),
            clock,
            metrics: Arc::default(),
            config: Arc::default(),
            kb: Arc::new(kb),
        }
    }

    /// Opens the database at `url` with a search index in memory, filled from the database.
    pub fn open(url: &DatabaseUrl, clock: Arc<dyn Clock>) -> Result<App, AppError> {
        let app = App::open_with_index(url, clock, search::KbSearch::in_memory()?)?;
        search::catch_up(&app)?;
        Ok(app)
    }

    /// Opens the database at `url`, applies migrations, makes sure the default tiers exist, and
    /// uses `kb` as the search index as it is (call [`search::catch_up`] to bring it up to date).
    pub fn open_with_index(
        url: &DatabaseUrl,
        clock: Arc<dyn Clock>,
        kb: search::KbSearch,
    ) -> Result<App, AppError> {
        let store = Store::open(url)?;
        store.migrate(clock.now())?;
        let app = App::new(store, clock, kb);
        org::ensure_default_tiers(&app)?;
        intake::ensure_monitoring_user(&app)?;
        Ok(app)
    }

    /// `now` from the clock.
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.clock.now()
    }
}
