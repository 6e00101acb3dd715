//! Plain types and rules: no I/O, no async. Everything here can be tested without a database.

pub mod events;
pub mod lang;
pub mod message;
pub mod order;
pub mod platform;

pub use lang::Lang;
pub use message::{Lane, MessageKind};
pub use order::OrderStatus;
pub use platform::Platform;
