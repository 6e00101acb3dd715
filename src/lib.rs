//! encore keeps live-commerce viewers close after the broadcast ends.
//!
//! The house (DESIGN.md): inputs become events, flows decide, the outbox remembers, the
//! dispatcher delivers.
//!
//! - [`config`]: the TOML file and `ENCORE_*` environment, checked.
//! - [`domain`]: plain types and rules (events, order states, message kinds, languages); no I/O.
//! - [`api`]: the HTTP API (signed events in, link tokens, reports, customers).
//! - [`ingest`]: events in — idempotent, all or nothing, pending until what they refer to exists.
//! - [`import`]: the order CSV import.
//! - [`router`]: a viewer's or staff member's update → the flow that answers it.
//! - [`flows`]: one file per flow (thank-you after a broadcast, order notes, linking and
//!   consent, privacy — `/mydata`, `/forget`, merges —, staff commands). Flows never call a
//!   platform.
//! - [`outbox`]: durable messages, rendering at send time, pacing and the dispatcher.
//! - [`i18n`]: Fluent texts from `locales/`, Korean particles, per-platform escaping/splitting.
//! - [`platforms`]: the `Messenger` trait; Telegram (teloxide) and the local emulator.
//! - [`store`]: persistence (SQLite; SQL kept portable for PostgreSQL).
//! - [`scheduler`]: the tick loop for work that is due by time.
//! - [`events_out`]: events for the shop's `webhook_url` (consent, tickets, feedback, codes),
//!   recorded with the change they report, signed and posted by their own task with retries.
//! - [`report`]: the broadcast report. [`demo`]: `encore demo`. [`app`]: wiring and shutdown.

pub mod api;
pub mod app;
pub mod chat_roles;
pub mod clock;
pub mod config;
pub mod context;
pub mod demo;
pub mod domain;
pub mod events_out;
pub mod flows;
pub mod i18n;
pub mod import;
pub mod ingest;
pub mod outbox;
pub mod platforms;
pub mod report;
pub mod router;
pub mod scheduler;
pub mod shutdown;
pub mod signing;
pub mod store;
