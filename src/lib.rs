//! encore keeps live-commerce viewers close after the broadcast ends.
//!
//! The house (DESIGN.md, docs/ARCHITECTURE.md): inputs become events, flows decide, the outbox
//! remembers, the dispatcher delivers. Data travels one way; each module below names what it
//! owns.
//!
//! Wiring and shared state:
//! - [`app`]: wiring only — builds the context, starts the tasks, stops them.
//! - [`cluster`]: the role of a `serve` on its database (single, leader, standby), the lease
//!   loop that keeps it, and the local lease guard checked before anything goes on the wire.
//! - [`context`]: `AppContext`, what the router, flows, API and scheduler share.
//! - [`chat_roles`]: which chat is staff, community or VIP, who is staff, where chats moved.
//! - [`shutdown`]: the signal every loop selects on. [`clock`]: injected time.
//! - [`config`]: the TOML file and `ENCORE_*` environment as serde types, checked and summarised.
//!
//! Inputs:
//! - [`api`]: the HTTP API (signed events in, link tokens, reports, customers, metrics,
//!   Telegram's webhook) and the host's dashboard (`api::dashboard`).
//! - [`signing`]: HMAC signatures, checked on events in and made on events out.
//! - [`ingest`]: events in — idempotent, all or nothing, pending until what they refer to exists.
//! - [`import`]: the order and code CSV imports.
//! - [`router`]: a viewer's or staff member's update → the flow that answers it; the platforms'
//!   `Inbox`.
//! - [`scheduler`]: the tick loop for work that is due by time.
//!
//! Decisions:
//! - [`domain`]: plain types and rules (events, orders, message kinds, flows, idempotency keys,
//!   policy, tiers, moderation, polls, FAQ matching, text normalisation); no I/O.
//! - [`flows`]: one file per flow (thank-you, order notes, linking and consent, feedback,
//!   hand-off, FAQ, community rooms, polls, VIP, journeys, privacy, staff commands). Flows never
//!   call a platform.
//!
//! Delivery:
//! - [`outbox`]: durable messages, the send-time gate, rendering, pacing and the dispatcher.
//! - [`events_out`]: events for the shop's `webhook_url`, recorded with the change they report
//!   and posted by their own task with retries.
//! - [`i18n`]: Fluent texts from `locales/`, Korean particles, per-platform escaping/splitting.
//! - [`platforms`]: the `Messenger` and `Inbox` ports; Telegram (teloxide), Discord
//!   (serenity), KakaoTalk 알림톡 (SOLAPI's REST API, send only), the local emulator — leaves
//!   that decide nothing.
//!
//! Under everything: [`store`], persistence behind one seam (SQLite). Reports: [`report`],
//! drawn by [`charts`] (SVG, and PNG with the bundled Korean font); `encore demo`: [`demo`].

pub mod api;
pub mod app;
pub mod charts;
pub mod chat_roles;
pub mod clock;
pub mod cluster;
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
