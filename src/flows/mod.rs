//! Flows decide. Each file owns one conversation with the shop's customers; flows write
//! messages into the outbox inside the caller's transaction and never call a platform.

pub mod after_broadcast;
pub mod community;
pub mod conversation;
pub mod customers;
pub mod faq;
pub mod feedback;
pub mod handoff;
pub mod journeys;
pub mod linking;
pub mod order_notes;
pub mod polls;
pub mod privacy;
pub mod staff;
pub mod vip;

/// Whether applying data should also tell the customer about it. Imported history is applied
/// silently unless `--notify` is given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effects {
    Notify,
    Silent,
}
