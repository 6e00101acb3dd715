//! Wiring: builds the shared context from configuration, starts the platforms, the HTTP API,
//! the dispatcher, the scheduler and (with `shop.webhook_url`) the events-out sender, and stops
//! them gracefully.

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::clock::{Clock, SystemClock};
use crate::config::Config;
use crate::domain::Platform;
use crate::domain::faq::{Faq, FaqError};
use crate::domain::moderation::FloodGuard;
use crate::i18n::{I18nError, Texts};
use crate::outbox::Outbox;
use crate::outbox::dispatcher::Dispatcher;
use crate::outbox::render::Renderer;
use crate::platforms::discord::DiscordAdapter;
use crate::platforms::moves::ChatMoves;
use crate::platforms::telegram::{TelegramAdapter, TelegramError};
use crate::platforms::{Incoming, Messenger};
use crate::store::{Store, StoreError};

/// Resolves when the shutdown flag turns true (or its sender is gone).
pub async fn until_shutdown(shutdown: &mut watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|stop| *stop).await;
}

/// What every handler, flow and task shares. No globals.
#[derive(Clone)]
pub struct AppContext {
    pub config: Arc<Config>,
    pub store: Store,
    pub clock: Arc<dyn Clock>,
    pub texts: Arc<Texts>,
    pub outbox: Outbox,
    /// The Telegram bot's username once known (for `t.me` links); the adapter fills it in.
    pub telegram_username: Arc<OnceLock<String>>,
    /// Whether a Discord adapter runs, so link answers can offer `/link` there.
    pub discord_running: bool,
    /// The FAQ answers (`[faq] path`); empty when the file is absent.
    pub faq: Arc<Faq>,
    /// Where configured chats live now (groups upgraded to supergroups).
    pub chat_moves: ChatMoves,
    /// Who is flooding a community room (`[moderation]`), per member.
    pub flood: Arc<FloodGuard>,
}

impl AppContext {
    pub fn new(
        config: Config,
        store: Store,
        clock: Arc<dyn Clock>,
        texts: Arc<Texts>,
    ) -> AppContext {
        let config_flood = (
            config.moderation.flood_messages,
            config.moderation.flood_seconds,
        );
        AppContext {
            config: Arc::new(config),
            store,
            clock,
            texts,
            outbox: Outbox::new(),
            telegram_username: Arc::new(OnceLock::new()),
            discord_running: false,
            faq: Arc::new(Faq::empty()),
            chat_moves: ChatMoves::default(),
            flood: Arc::new(FloodGuard::new(config_flood.0, config_flood.1)),
        }
    }

    /// Every community room, where it lives now.
    pub fn community_rooms(&self) -> Vec<(Platform, String)> {
        let mut rooms = Vec::new();
        if let Some(telegram) = &self.config.telegram {
            for id in &telegram.community_chat_ids {
                rooms.push((
                    Platform::Telegram,
                    self.chat_moves.current(Platform::Telegram, &id.to_string()),
                ));
            }
        }
        if let Some(discord) = &self.config.discord {
            for id in &discord.community_channel_ids {
                rooms.push((Platform::Discord, id.to_string()));
            }
        }
        rooms
    }

    /// The VIP room of each platform (the Telegram VIP group, the Discord VIP channel).
    pub fn vip_rooms(&self) -> Vec<(Platform, String)> {
        let mut rooms = Vec::new();
        if let Some(id) = self.config.telegram.as_ref().and_then(|t| t.vip_chat_id) {
            rooms.push((
                Platform::Telegram,
                self.chat_moves.current(Platform::Telegram, &id.to_string()),
            ));
        }
        if let Some(id) = self.config.discord.as_ref().and_then(|d| d.vip_channel_id) {
            rooms.push((Platform::Discord, id.to_string()));
        }
        rooms
    }

    pub fn is_vip_room(&self, platform: Platform, chat_id: &str) -> bool {
        self.vip_rooms()
            .iter()
            .any(|(p, room)| *p == platform && room == chat_id)
    }

    /// Whether `chat_id` is the configured chat `configured`, or where it moved.
    fn is_configured_chat(&self, platform: Platform, configured: &str, chat_id: &str) -> bool {
        configured == chat_id || self.chat_moves.current(platform, configured) == chat_id
    }

    pub fn is_staff_chat(&self, platform: Platform, chat_id: &str) -> bool {
        match platform {
            Platform::Telegram => self
                .config
                .telegram
                .as_ref()
                .and_then(|t| t.staff_chat_id)
                .is_some_and(|id| self.is_configured_chat(platform, &id.to_string(), chat_id)),
            Platform::Discord => self
                .config
                .discord
                .as_ref()
                .and_then(|d| d.staff_channel_id)
                .is_some_and(|id| self.is_configured_chat(platform, &id.to_string(), chat_id)),
            Platform::Emulator => chat_id == crate::platforms::emulator::STAFF_CHAT,
        }
    }

    /// A community room (CONTRACT §2 `community_chat_ids` / `community_channel_ids`).
    pub fn is_community_room(&self, platform: Platform, chat_id: &str) -> bool {
        match platform {
            Platform::Telegram => self.config.telegram.as_ref().is_some_and(|t| {
                t.community_chat_ids
                    .iter()
                    .any(|id| self.is_configured_chat(platform, &id.to_string(), chat_id))
            }),
            Platform::Discord => self.config.discord.as_ref().is_some_and(|d| {
                d.community_channel_ids
                    .iter()
                    .any(|id| self.is_configured_chat(platform, &id.to_string(), chat_id))
            }),
            Platform::Emulator => false,
        }
    }

    /// The staff chat that hears about a viewer on `platform`: that platform's, else the other's.
    pub fn staff_chat_for(&self, platform: Platform) -> Option<(Platform, String)> {
        let telegram = self
            .config
            .telegram
            .as_ref()
            .and_then(|t| t.staff_chat_id)
            .map(|id| {
                (
                    Platform::Telegram,
                    self.chat_moves.current(Platform::Telegram, &id.to_string()),
                )
            });
        let discord = self
            .config
            .discord
            .as_ref()
            .and_then(|d| d.staff_channel_id)
            .map(|id| (Platform::Discord, id.to_string()));
        match platform {
            Platform::Telegram => telegram.or(discord),
            Platform::Discord => discord.or(telegram),
            Platform::Emulator => Some((
                Platform::Emulator,
                crate::platforms::emulator::STAFF_CHAT.to_string(),
            )),
        }
    }

    /// Staff are the listed users; on Telegram also an anonymous admin posting as the staff chat.
    pub fn is_staff_member(&self, incoming: &Incoming) -> bool {
        match incoming.platform {
            Platform::Telegram => {
                let Some(telegram) = &self.config.telegram else {
                    return false;
                };
                let listed = incoming
                    .user_id
                    .parse::<i64>()
                    .is_ok_and(|id| telegram.staff_user_ids.contains(&id));
                listed
                    || (incoming.sent_as_chat
                        && self.is_staff_chat(Platform::Telegram, &incoming.chat_id))
            }
            Platform::Discord => {
                let Some(discord) = &self.config.discord else {
                    return false;
                };
                incoming
                    .user_id
                    .parse::<u64>()
                    .is_ok_and(|id| discord.staff_user_ids.contains(&id))
            }
            Platform::Emulator => incoming.user_id == crate::platforms::emulator::STAFF_USER,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the texts in locales/ are broken: {0}")]
    Texts(#[from] I18nError),
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: String,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Telegram(#[from] TelegramError),
    #[error(transparent)]
    Faq(#[from] FaqError),
    #[error("a task failed: {0}")]
    Task(String),
}

/// A running `encore serve`.
pub struct RunningApp {
    pub ctx: AppContext,
    pub http_addr: SocketAddr,
    shutdown: watch::Sender<bool>,
    tasks: JoinSet<(&'static str, Result<(), String>)>,
    /// The dispatcher's claiming passes, for [`RunningApp::settle`].
    dispatcher_passes: watch::Receiver<crate::outbox::dispatcher::DispatcherPass>,
}

impl RunningApp {
    /// Starts everything the configuration names. The HTTP API binds `http.listen` (port 0 picks
    /// a free port: see `http_addr`).
    pub async fn start(config: Config) -> Result<RunningApp, AppError> {
        Self::start_with_clock(config, Arc::new(SystemClock)).await
    }

    pub async fn start_with_clock(
        config: Config,
        clock: Arc<dyn Clock>,
    ) -> Result<RunningApp, AppError> {
        let store = Store::open_and_migrate(&config.database.url).await?;
        let texts = Arc::new(Texts::load()?);
        let faq = Faq::load(std::path::Path::new(&config.faq.path))?;
        let moves = store
            .chat_moves()
            .await?
            .into_iter()
            .filter_map(|(p, old, new)| p.parse::<Platform>().ok().map(|p| (p, old, new)));
        let mut ctx = AppContext::new(config, store, clock, texts.clone());
        ctx.faq = Arc::new(faq);
        ctx.chat_moves = ChatMoves::new(moves);
        let (shutdown, shutdown_rx) = watch::channel(false);
        let mut tasks = JoinSet::new();
        let mut messengers: Vec<Arc<dyn Messenger>> = Vec::new();

        let telegram = match &ctx.config.telegram {
            Some(tg) => Some(TelegramAdapter::connect(tg, &ctx.config.limits).await?),
            None => None,
        };
        if let Some(adapter) = &telegram {
            if let Some(username) = adapter.username() {
                let _ = ctx.telegram_username.set(username.to_string());
            }
            messengers.push(Arc::new(adapter.sender()));
        }

        let discord = ctx
            .config
            .discord
            .as_ref()
            .map(|d| DiscordAdapter::new(d, &ctx.config.limits));
        if let Some(adapter) = &discord {
            ctx.discord_running = true;
            messengers.push(Arc::new(adapter.sender()));
        }
        let listener = TcpListener::bind(&ctx.config.http.listen)
            .await
            .map_err(|source| AppError::Listen {
                addr: ctx.config.http.listen.clone(),
                source,
            })?;
        let http_addr = listener.local_addr().map_err(|source| AppError::Listen {
            addr: ctx.config.http.listen.clone(),
            source,
        })?;

        if let Some(adapter) = discord {
            let (ctx, rx) = (ctx.clone(), shutdown_rx.clone());
            tasks.spawn(async move {
                (
                    "discord",
                    adapter.run(ctx, rx).await.map_err(|e| e.to_string()),
                )
            });
        }
        if let Some(adapter) = telegram {
            let (ctx, rx) = (ctx.clone(), shutdown_rx.clone());
            tasks.spawn(async move {
                (
                    "telegram",
                    adapter.poll(ctx, rx).await.map_err(|e| e.to_string()),
                )
            });
        }

        let dispatcher = Arc::new(
            Dispatcher::new(
                ctx.store.clone(),
                Arc::new(Renderer::new(texts, &ctx.config.shop)),
                messengers,
                ctx.clock.clone(),
                ctx.outbox.doorbell(),
                ctx.chat_moves.clone(),
                &ctx.config,
            )
            .with_events_out(crate::events_out::bell(&ctx)),
        );
        let dispatcher_passes = dispatcher.passes();
        let rx = shutdown_rx.clone();
        tasks.spawn(async move {
            (
                "dispatcher",
                dispatcher.run(rx).await.map_err(|e| e.to_string()),
            )
        });

        let (api_ctx, mut rx) = (ctx.clone(), shutdown_rx.clone());
        tasks.spawn(async move {
            let router = crate::api::router(api_ctx);
            let served = axum::serve(listener, router)
                .with_graceful_shutdown(async move {
                    until_shutdown(&mut rx).await;
                })
                .await;
            ("http", served.map_err(|e| e.to_string()))
        });

        let (sched_ctx, rx) = (ctx.clone(), shutdown_rx.clone());
        tasks.spawn(async move {
            (
                "scheduler",
                crate::scheduler::run(sched_ctx, rx)
                    .await
                    .map_err(|e| e.to_string()),
            )
        });

        if let Some(sender) = crate::events_out::sender_task(&ctx, shutdown_rx.clone()) {
            tasks.spawn(sender);
        }

        tracing::info!(%http_addr, platforms = ?ctx.config.platforms(), "encore is serving");
        Ok(RunningApp {
            ctx,
            http_addr,
            shutdown,
            tasks,
            dispatcher_passes,
        })
    }

    /// Waits until a task stops on its own (which is an error) — `serve` selects this against
    /// the shutdown signal.
    pub async fn stopped(&mut self) -> Result<(), AppError> {
        match self.tasks.join_next().await {
            Some(Ok((name, Ok(())))) => Err(AppError::Task(format!("{name} stopped unexpectedly"))),
            Some(Ok((name, Err(err)))) => Err(AppError::Task(format!("{name}: {err}"))),
            Some(Err(err)) => Err(AppError::Task(err.to_string())),
            None => Ok(()),
        }
    }

    /// Graceful stop: no new work, in-flight sends finish, then every task ends.
    pub async fn stop(mut self) -> Result<(), AppError> {
        let _ = self.shutdown.send(true);
        let mut first_error = None;
        while let Some(joined) = self.tasks.join_next().await {
            match joined {
                Ok((_, Ok(()))) => {}
                Ok((name, Err(err))) => {
                    tracing::error!(task = name, error = %err, "task ended with an error");
                    first_error.get_or_insert(AppError::Task(format!("{name}: {err}")));
                }
                Err(err) => {
                    first_error.get_or_insert(AppError::Task(err.to_string()));
                }
            }
        }
        self.ctx.store.close().await;
        match first_error {
            Some(err) => Err(err),
            None => Ok(()),
        }
    }
}

/// For tests: let everything that is due happen, so that a check that something did *not*
/// happen means something without sleeping.
impl RunningApp {
    /// Runs one scheduler tick at the clock's now, then waits until the dispatcher is idle:
    /// nothing due at that clock and nothing in flight. False if it is still busy after `limit`.
    /// Work caused by an inbound platform update counts only once the update was handled.
    pub async fn settle(&self, limit: std::time::Duration) -> bool {
        crate::scheduler::tick(&self.ctx).await;
        let mut passes = self.dispatcher_passes.clone();
        // The pass under way may have claimed before the tick committed; the one after it began
        // later, so its report covers everything the tick enqueued.
        let first_after_tick = passes.borrow_and_update().number + 2;
        let idle = async {
            loop {
                let pass = *passes.borrow_and_update();
                if pass.number >= first_after_tick && pass.idle {
                    return true;
                }
                // Ring rather than wait for the dispatcher's once-a-second look; later passes
                // follow each finished delivery by themselves.
                if pass.number < first_after_tick {
                    self.ctx.outbox.wake();
                }
                if passes.changed().await.is_err() {
                    return false;
                }
            }
        };
        tokio::time::timeout(limit, idle).await.unwrap_or(false)
    }
}
