//! The built-in local chat emulator: a platform that lives in memory, for `encore demo` and
//! tests that need no network. It keeps every message it was asked to send, per chat.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::future::BoxFuture;

use super::{Delivered, Messenger, Part, PlatformLimits, SendError};
use crate::domain::Platform;
use crate::i18n::Markup;

/// The emulator's staff chat and staff member.
pub const STAFF_CHAT: &str = "staff";
pub const STAFF_USER: &str = "host";

#[derive(Clone, Default)]
pub struct Emulator {
    inbox: Arc<Mutex<BTreeMap<String, Vec<Part>>>>,
    next_id: Arc<AtomicU64>,
}

impl Emulator {
    pub fn new() -> Emulator {
        Emulator::default()
    }

    /// Everything a chat received, in order.
    pub fn received(&self, chat_id: &str) -> Vec<Part> {
        match self.inbox.lock() {
            Ok(inbox) => inbox.get(chat_id).cloned().unwrap_or_default(),
            Err(poisoned) => poisoned
                .into_inner()
                .get(chat_id)
                .cloned()
                .unwrap_or_default(),
        }
    }

    pub fn total_received(&self) -> usize {
        match self.inbox.lock() {
            Ok(inbox) => inbox.values().map(Vec::len).sum(),
            Err(poisoned) => poisoned.into_inner().values().map(Vec::len).sum(),
        }
    }
}

impl Messenger for Emulator {
    fn platform(&self) -> Platform {
        Platform::Emulator
    }

    fn markup(&self) -> Markup {
        Markup::Plain
    }

    fn limits(&self) -> PlatformLimits {
        // No network, no published limits: fast enough for a demo in seconds.
        PlatformLimits {
            per_second: 5_000,
            per_chat_interval: Duration::ZERO,
            per_group_interval: Duration::ZERO,
        }
    }

    fn is_group(&self, _chat_id: &str) -> bool {
        false
    }

    fn send_part<'a>(
        &'a self,
        chat_id: &'a str,
        part: &'a Part,
    ) -> BoxFuture<'a, Result<Delivered, SendError>> {
        Box::pin(async move {
            let id = self.next_id.fetch_add(1, Ordering::Relaxed) + 1;
            let mut inbox = match self.inbox.lock() {
                Ok(inbox) => inbox,
                Err(poisoned) => poisoned.into_inner(),
            };
            inbox
                .entry(chat_id.to_string())
                .or_default()
                .push(part.clone());
            Ok(Delivered {
                message_id: id.to_string(),
                slow_down: None,
                poll_id: None,
            })
        })
    }
}
