//! The shared context handed to the router, the flows, the API and the scheduler: configuration,
//! store, clock, texts, the outbox's bell and the roles of chats. No globals. It sits below the
//! flows and imports none of them; `app` builds it.

use std::sync::{Arc, OnceLock};

use tokio::sync::Notify;

use crate::chat_roles::{ChatMoves, ChatRoles};
use crate::clock::Clock;
use crate::cluster::RoleCell;
use crate::config::Config;
use crate::domain::faq::Faq;
use crate::domain::moderation::FloodGuard;
use crate::i18n::Texts;
use crate::outbox::Outbox;
use crate::store::Store;
use crate::store::instances::Instance;

/// What every handler, flow and task shares.
#[derive(Clone)]
pub struct AppContext {
    pub config: Arc<Config>,
    pub store: Store,
    pub clock: Arc<dyn Clock>,
    pub texts: Arc<Texts>,
    pub outbox: Outbox,
    /// The Telegram bot's username once known (for `t.me` links); the adapter reports it.
    pub telegram_username: Arc<OnceLock<String>>,
    /// Whether a Discord adapter runs, so link answers can offer `/link` there.
    pub discord_running: bool,
    /// The FAQ answers (`[faq] path`); empty when the file is absent.
    pub faq: Arc<Faq>,
    /// Which chat is staff, community or VIP, and where configured chats live now.
    pub roles: ChatRoles,
    /// Who is flooding a community room (`[moderation]`), per member.
    pub flood: Arc<FloodGuard>,
    /// This process, as its claims and the sender lease name it.
    pub instance: Arc<Instance>,
    /// Rung by `POST /telegram/webhook` after it stored a new update, so the Telegram adapter
    /// handles it at once when it runs in this process (webhook mode).
    pub telegram_updates: Arc<Notify>,
    /// What this process is on its database (`single`, `leader`, `standby`); `cluster` keeps it.
    pub role: RoleCell,
}

impl AppContext {
    /// The broadcast report (CONTRACT §7) as of now: hand-offs measured against the policy's
    /// promise, come-back windows closed by the clock. `None` for an unknown broadcast.
    pub async fn broadcast_report(
        &self,
        broadcast_id: &str,
    ) -> crate::store::StoreResult<Option<crate::report::BroadcastReport>> {
        self.store
            .broadcast_report(
                broadcast_id,
                i64::from(self.config.policy.handoff_first_response_hours),
                self.clock.now(),
            )
            .await
    }

    pub fn new(
        config: Config,
        store: Store,
        clock: Arc<dyn Clock>,
        texts: Arc<Texts>,
    ) -> AppContext {
        let flood = FloodGuard::new(
            config.moderation.flood_messages,
            config.moderation.flood_seconds,
        );
        let role = RoleCell::for_database(&config.database.url);
        let config = Arc::new(config);
        AppContext {
            roles: ChatRoles::new(config.clone(), ChatMoves::default()),
            config,
            store: store.clone(),
            clock,
            texts,
            outbox: Outbox::ringing_the_leader(store.clone(), role.clone()),
            telegram_username: Arc::new(OnceLock::new()),
            discord_running: false,
            faq: Arc::new(Faq::empty()),
            flood: Arc::new(flood),
            instance: Arc::new(Instance::this_process()),
            telegram_updates: Arc::new(Notify::new()),
            role,
        }
    }
}
