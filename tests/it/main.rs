//! encore's integration tests: one test binary, one module per area, so the platform stand-ins
//! in `support/` (about 7,000 lines) compile once rather than once per file.
//!
//! Every module drives the real app or the real platform clients against the stand-ins on
//! 127.0.0.1; none reaches the internet. A check that something did *not* happen first lets the
//! app settle (`TestApp::settle`: the scheduler's tick at the clock's now, then the dispatcher
//! idle), after waiting for any inbound update to be handled — never a fixed sleep.
//!
//! Run one area with a filter: `cargo test --test it community::`.

mod support;

mod after_broadcast;
mod carts;
mod charts;
mod claims;
mod cli;
mod cluster;
mod comeback;
mod community;
mod community_discord;
mod config_online;
mod consent_from_shop;
mod crash_recovery;
mod dashboard;
mod dashboard_browser;
mod dead_letters;
mod digest;
mod discord;
mod discord_standin;
mod events_out;
mod hardening;

mod import;
mod journeys;
mod kakao;
mod linking;
mod picks;
mod platform_actions;
mod polls;
mod privacy;
mod support_desk;
mod telegram_standin;
mod telegram_webhook;
mod trust;
