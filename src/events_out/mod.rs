//! Events out (CONTRACT §3): with `shop.webhook_url` set, encore tells the shop what it did —
//! `consent.changed`, `customer.forgotten`, `ticket.opened`, `ticket.closed`,
//! `feedback.received`, `code.sent` — signed like the events the shop sends in
//! ([`crate::signing`]).
//!
//! Two halves that share only the `events_out` table:
//! - `record.rs`: what a flow (or the dispatcher, for `code.sent`) calls inside the transaction
//!   of the change it reports. It writes a row and nothing else.
//! - `sender.rs`: the task that posts due rows to the shop, with backoff, and their metrics.
//!
//! Nothing here talks to a platform, and nothing logs a body or the URL (either may carry
//! personal data or a token).

mod record;
mod sender;

pub use record::{
    ClosedBy, EventOut, consent_changed, customer_forgotten, enabled, feedback_received, mark_sent,
    record, record_if, reports_on_sent, ticket_closed, ticket_opened,
};
pub use sender::{
    EventsOutError, MAX_ATTEMPTS, POLL_EVERY, TIMEOUT, backoff, bell, metrics, sender_task,
};
