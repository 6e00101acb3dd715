//! Plain types and rules: no I/O, no async. Everything here can be tested without a database.

pub mod alimtalk;
pub mod events;
pub mod faq;
pub mod keys;
pub mod lang;
pub mod message;
pub mod moderation;
pub mod order;
pub mod person_request;
pub mod picks;
pub mod platform;
pub mod policy;
pub mod polls;
pub mod text;
pub mod tiers;
pub mod trust;

pub use lang::Lang;
pub use message::{Flow, Lane, MessageKind, OutboxState};
pub use order::OrderStatus;
pub use platform::Platform;
