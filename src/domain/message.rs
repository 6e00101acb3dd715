//! What kind of message a flow writes, and how urgently it travels.

use std::fmt;

/// CONTRACT §6: every message is one or the other, decided by the flow that writes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageKind {
    Transactional,
    Advertising,
}

impl MessageKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MessageKind::Transactional => "transactional",
            MessageKind::Advertising => "advertising",
        }
    }
}

impl fmt::Display for MessageKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Interactive replies go ahead of bulk sends (DESIGN invariant 3). Stored as a number so the
/// dispatcher can order by it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Lane {
    Interactive = 0,
    Bulk = 1,
}

impl Lane {
    pub fn as_i64(self) -> i64 {
        self as i64
    }
}
