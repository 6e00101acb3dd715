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
/// dispatcher can order by it: the lower, the sooner.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Lane {
    /// A viewer's question answered, a hand-off acknowledged, a relay to or from staff.
    Interactive = 0,
    /// The staff chat's own traffic: ticket cards, reminders, feedback, reports.
    Staff = 1,
    /// Sends to many viewers: thank-yous, order notes.
    Bulk = 2,
}

impl Lane {
    pub fn as_i64(self) -> i64 {
        self as i64
    }

    pub fn from_i64(value: i64) -> Lane {
        match value {
            0 => Lane::Interactive,
            1 => Lane::Staff,
            _ => Lane::Bulk,
        }
    }
}
