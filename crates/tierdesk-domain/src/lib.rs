//! tierdesk domain: the types and rules of tiered service management.
//!
//! No I/O, no async, no clock: every function that depends on time takes `now`.
//! The storage, application and HTTP layers build on these types.

pub mod alert;
pub mod calendar;
pub mod duration;
pub mod error;
pub mod event;
pub mod kb;
pub mod org;
pub mod routing;
pub mod rules;
pub mod sla;
pub mod status;
pub mod ticket;

pub use error::DomainError;
pub use event::{EventKind, NewEvent};
pub use org::{Role, Roles, Tier};
pub use sla::{Clock, ClockKind, ClockState, CompiledPolicy, Policy};
pub use status::{PendingReason, Status};
pub use ticket::{Channel, Kind, Priority, Ticket, TicketKey};

/// Timestamps everywhere are UTC.
pub type Timestamp = chrono::DateTime<chrono::Utc>;
