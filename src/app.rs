//! Wiring only: builds the shared context from configuration, starts the HTTP API and the
//! cluster loop, and — while this process leads — the leader's part: the platforms (each handed
//! the router as its inbox), the dispatcher, the scheduler, (with `shop.webhook_url`) the
//! events-out sender and (PostgreSQL) the wake listener. It stops them gracefully. It decides
//! nothing: which role this process has is `cluster`'s business.
//!
//! Before anything connects, `serve` tries the database's sender lease (`store::instances`).
//! SQLite: a second `serve` stops here with an error naming the first. PostgreSQL: a `serve`
//! that cannot take it stands by (HTTP API only) and `cluster` starts the leader's part with
//! [`LeaderPart::start`] when it takes the lease over — the same function as at start.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::chat_roles::{ChatMoves, ChatRoles};
use crate::clock::{Clock, SystemClock};
use crate::cluster::{Cluster, LeaderTasks, LeaseGuard, LeaseTimes, Role, StartLeader};
use crate::config::Config;
use crate::context::AppContext;
use crate::domain::Platform;
use crate::domain::faq::FaqError;
use crate::i18n::{I18nError, Texts};
use crate::outbox::dispatcher::{Dispatcher, DispatcherPass};
use crate::outbox::render::Renderer;
use crate::platforms::discord::DiscordAdapter;
use crate::platforms::kakao::KakaoSender;
use crate::platforms::telegram::{StoredUpdates, TelegramAdapter, TelegramError};
use crate::platforms::{Inbox, Messenger};
use crate::router::Router;
use crate::shutdown::until_shutdown;
use crate::store::instances::{self, Lease};
use crate::store::outbox::Claimant;
use crate::store::{Store, StoreError};

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
    #[error(
        "another `encore serve` is running on this database (host {host}, pid {pid}, since {since}); stop it first — if it died, this one may start {lease_seconds} s after its last heartbeat, or at once on the same host"
    )]
    AlreadyServing {
        host: String,
        pid: u32,
        since: String,
        lease_seconds: u64,
    },
}

impl AppError {
    fn already_serving(holder: &Lease, times: &LeaseTimes) -> AppError {
        AppError::AlreadyServing {
            host: holder.host.clone(),
            pid: holder.pid,
            since: holder.since.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
            lease_seconds: times.lease.as_secs(),
        }
    }
}

/// Where the leader's dispatcher reports its passes (empty while standing by).
type Passes = Arc<Mutex<Option<watch::Receiver<DispatcherPass>>>>;

/// A running `encore serve`.
pub struct RunningApp {
    pub ctx: AppContext,
    pub http_addr: SocketAddr,
    shutdown: watch::Sender<bool>,
    tasks: JoinSet<(&'static str, Result<(), String>)>,
    /// The leader's dispatcher's claiming passes, for [`RunningApp::settle`].
    dispatcher_passes: Passes,
    /// Whether this process may still send under its lease.
    guard: LeaseGuard,
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
        let store = Store::open_with(&config.database.url, config.database.max_connections).await?;
        store.migrate().await?;
        let texts = Arc::new(Texts::load()?);
        let faq = crate::flows::faq::load_file(std::path::Path::new(&config.faq.path))?;
        let moves = store
            .chat_moves()
            .await?
            .into_iter()
            .filter_map(|(p, old, new)| p.parse::<Platform>().ok().map(|p| (p, old, new)));
        let mut ctx = AppContext::new(config, store, clock, texts.clone());
        ctx.faq = Arc::new(faq);
        ctx.roles = ChatRoles::new(ctx.config.clone(), ChatMoves::new(moves));
        // The leader runs the Discord adapter, wherever a link is asked for.
        ctx.discord_running = ctx.config.discord.is_some();
        let guard = LeaseGuard::new();
        let cluster = Cluster {
            // PostgreSQL: the lease has connections of its own, so a pool busy with sending
            // never delays a renewal (and an unanswered one is cut short: cluster.rs).
            store: if ctx.store.is_postgres() {
                Store::open_with(&ctx.config.database.url, 2).await?
            } else {
                ctx.store.clone()
            },
            instance: ctx.instance.clone(),
            times: LeaseTimes::from_config(&ctx.config),
            role: ctx.role.clone(),
            guard: guard.clone(),
            standby_allowed: ctx.store.is_postgres(),
        };
        // The lease before any platform connects (CONTRACT §1, §10).
        let lease = match cluster.try_lead().await? {
            Ok(lease) => {
                tracing::info!(instance = %ctx.instance.id, fence = lease.fence, "holding the sender lease");
                Some(lease)
            }
            Err(holder) if cluster.standby_allowed => {
                tracing::info!(leader_host = %holder.host, leader_pid = holder.pid, "another `encore serve` leads; standing by");
                None
            }
            Err(holder) => {
                ctx.store.close().await;
                return Err(AppError::already_serving(&holder, &cluster.times));
            }
        };
        let fence = lease.as_ref().map(|lease| lease.fence);
        match Self::start_holding(ctx.clone(), cluster.clone(), lease, texts, guard).await {
            Ok(app) => Ok(app),
            Err(err) => {
                // Nothing runs: the next `serve` need not wait for the lease to expire.
                if let Some(fence) = fence {
                    let now = chrono::Utc::now();
                    let _ = instances::release_lease(&ctx.store, &ctx.instance, fence, now).await;
                }
                let _ = instances::forget(&ctx.store, &ctx.instance).await;
                ctx.store.close().await;
                Err(err)
            }
        }
    }

    /// The rest of the start, once the lease was tried: `lease` is `Some` when this process
    /// leads from the start.
    async fn start_holding(
        ctx: AppContext,
        cluster: Cluster,
        lease: Option<Lease>,
        texts: Arc<Texts>,
        guard: LeaseGuard,
    ) -> Result<RunningApp, AppError> {
        instances::register(&ctx.store, &ctx.instance, chrono::Utc::now()).await?;
        // Whatever the role: a refused token stops `serve` here, and the bot's name is known
        // for link answers even on a standby. A standby asks nothing more of Telegram.
        let telegram = match &ctx.config.telegram {
            Some(tg) => Some(TelegramAdapter::connect(tg, &ctx.config.limits).await?),
            None => None,
        };
        if let Some(username) = telegram.as_ref().and_then(TelegramAdapter::username) {
            let _ = ctx.telegram_username.set(username.to_string());
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

        let part = LeaderPart {
            ctx: ctx.clone(),
            texts,
            guard: guard.clone(),
            passes: Passes::default(),
        };
        let leading = match lease {
            Some(lease) => {
                let tasks = part.start(&lease, telegram).await?;
                Some((lease, tasks))
            }
            None => None,
        };
        cluster.set_role(leading.is_some());

        let (shutdown, shutdown_rx) = crate::shutdown::channel();
        let mut tasks = JoinSet::new();
        let (api_ctx, mut rx) = (ctx.clone(), shutdown_rx.clone());
        tasks.spawn(async move {
            let router = crate::api::router(api_ctx);
            // The peer's address: the dashboard slows repeated wrong sign-ins per address.
            let router = router.into_make_service_with_connect_info::<SocketAddr>();
            let served = axum::serve(listener, router)
                .with_graceful_shutdown(async move {
                    until_shutdown(&mut rx).await;
                })
                .await;
            ("http", served.map_err(|e| e.to_string()))
        });

        let dispatcher_passes = part.passes.clone();
        let start_leader: StartLeader = Box::new(move |lease: Lease| {
            let part = part.clone();
            Box::pin(async move { part.start(&lease, None).await.map_err(|e| e.to_string()) })
        });
        let rx = shutdown_rx.clone();
        tasks.spawn(async move {
            (
                "cluster",
                cluster
                    .run(leading, start_leader, rx)
                    .await
                    .map_err(|e| e.to_string()),
            )
        });

        tracing::info!(%http_addr, role = %ctx.role.get(), platforms = ?ctx.config.platforms(), "encore is serving");
        Ok(RunningApp {
            ctx,
            http_addr,
            shutdown,
            tasks,
            dispatcher_passes,
            guard,
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

    /// Graceful stop: no new work, in-flight sends finish, the lease is released, then every
    /// task ends.
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
        // The cluster loop released the lease; this instance holds no claims any more.
        if let Err(err) = instances::forget(&self.ctx.store, &self.ctx.instance).await {
            tracing::warn!(error = %err, "could not remove this instance's heartbeat row");
        }
        self.ctx.store.close().await;
        match first_error {
            Some(err) => Err(err),
            None => Ok(()),
        }
    }

    /// What this process is on its database now.
    pub fn role(&self) -> Role {
        self.ctx.role.get()
    }

    /// Tests only: emulates SIGSTOP of this process's lease renewal and sending — renewals stop
    /// and every check before the wire waits — until
    /// [`RunningApp::resume_lease_renewal_for_tests`] (SIGCONT). The lease's deadline keeps
    /// running meanwhile, as a stopped process's monotonic clock does.
    #[doc(hidden)]
    pub fn pause_lease_renewal_for_tests(&self) {
        self.guard.freeze_for_tests(true);
    }

    /// Tests only: the SIGCONT of [`RunningApp::pause_lease_renewal_for_tests`].
    #[doc(hidden)]
    pub fn resume_lease_renewal_for_tests(&self) {
        self.guard.freeze_for_tests(false);
    }
}

/// The leader's part: what runs only while this process holds the lease. One function starts
/// it, at start and on every promotion; [`LeaderTasks::stop`] ends it.
#[derive(Clone)]
struct LeaderPart {
    ctx: AppContext,
    texts: Arc<Texts>,
    guard: LeaseGuard,
    passes: Passes,
}

impl LeaderPart {
    /// Connects the platforms and starts the dispatcher (claiming under `lease`'s fence), the
    /// scheduler, the events-out sender and the wake listener. `telegram`: an adapter already
    /// connected (at start), else one is connected here.
    async fn start(
        &self,
        lease: &Lease,
        telegram: Option<TelegramAdapter>,
    ) -> Result<LeaderTasks, AppError> {
        let ctx = &self.ctx;
        // Chats a previous leader followed to their new ids since this process started.
        for (platform, old, new) in ctx.store.chat_moves().await? {
            if let Ok(platform) = platform.parse::<Platform>() {
                ctx.roles.moves().record(platform, &old, &new);
            }
        }
        let (shutdown, shutdown_rx) = crate::shutdown::channel();
        let mut tasks = JoinSet::new();
        let mut messengers: Vec<Arc<dyn Messenger>> = Vec::new();

        let telegram = match (telegram, &ctx.config.telegram) {
            (Some(adapter), _) => Some(adapter),
            (None, Some(tg)) => Some(TelegramAdapter::connect(tg, &ctx.config.limits).await?),
            (None, None) => None,
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
            messengers.push(Arc::new(adapter.sender()));
        }
        // KakaoTalk only sends (notes by phone number); nothing arrives from it.
        if let Some(kakao) = &ctx.config.kakao {
            messengers.push(Arc::new(KakaoSender::new(kakao)));
        }

        let inbox: Arc<dyn Inbox> = Arc::new(Router::new(ctx.clone()));
        if let Some(adapter) = discord {
            let (inbox, texts, rx) = (inbox.clone(), ctx.texts.clone(), shutdown_rx.clone());
            let default_locale = ctx.config.shop.default_locale;
            tasks.spawn(async move {
                let ran = adapter.run(inbox, texts, default_locale, rx).await;
                ("discord", ran.map_err(|e| e.to_string()))
            });
        }
        if let Some(adapter) = telegram {
            let (inbox, guard, rx) = (inbox.clone(), self.guard.clone(), shutdown_rx.clone());
            let stored = StoredUpdates {
                store: ctx.store.clone(),
                bell: ctx.telegram_updates.clone(),
                clock: ctx.clock.clone(),
            };
            tasks.spawn(async move {
                let ran = adapter.run(inbox, stored, guard, rx).await;
                ("telegram", ran.map_err(|e| e.to_string()))
            });
        }

        let dispatcher = Arc::new(
            Dispatcher::new(
                ctx.store.clone(),
                Arc::new(Renderer::new(
                    self.texts.clone(),
                    &ctx.config,
                    ctx.clock.clone(),
                )),
                messengers,
                ctx.clock.clone(),
                ctx.outbox.doorbell(),
                ctx.roles.moves().clone(),
                &ctx.config,
            )
            .with_events_out(crate::events_out::bell(ctx))
            .with_claimant(Claimant {
                instance: ctx.instance.id.clone(),
                fence: Some(lease.fence),
            })
            .with_lease_guard(self.guard.clone())
            // A leader taking over on PostgreSQL never saw what the last one sent in the
            // platform's current window: it waits one window first, as after a crash.
            .after_a_crash(lease.taken_from_the_dead || ctx.store.backend().is_postgres()),
        );
        *self
            .passes
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(dispatcher.passes());
        let rx = shutdown_rx.clone();
        tasks.spawn(async move {
            (
                "dispatcher",
                dispatcher.run(rx).await.map_err(|e| e.to_string()),
            )
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

        if let Some(sender) = crate::events_out::sender_task(ctx, shutdown_rx.clone()) {
            tasks.spawn(sender);
        }

        // Work enqueued by a standby or the CLI, and Telegram updates a standby took in webhook
        // mode, wake this process at once (PostgreSQL).
        let (store, outbox, rx) = (ctx.store.clone(), ctx.outbox.clone(), shutdown_rx);
        let telegram_updates = ctx.telegram_updates.clone();
        let ring = move || {
            outbox.wake_here();
            telegram_updates.notify_one();
        };
        tasks.spawn(async move {
            let listened = crate::store::wake::listen(&store, ring, rx).await;
            ("wake listener", listened.map_err(|e| e.to_string()))
        });

        tracing::info!(fence = lease.fence, role = %ctx.role.get(), "the leader's part is running");
        Ok(LeaderTasks::new(shutdown, tasks))
    }
}

/// For tests: let everything that is due happen, so that a check that something did *not*
/// happen means something without sleeping.
impl RunningApp {
    /// Runs one scheduler tick at the clock's now, then waits until the dispatcher is idle:
    /// nothing due at that clock and nothing in flight. False if it is still busy after `limit`,
    /// or if this process runs no dispatcher (a standby).
    /// Work caused by an inbound platform update counts only once the update was handled.
    pub async fn settle(&self, limit: std::time::Duration) -> bool {
        crate::scheduler::tick(&self.ctx).await;
        let passes = self
            .dispatcher_passes
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        let Some(mut passes) = passes else {
            return false;
        };
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
                    self.ctx.outbox.wake_here();
                }
                if passes.changed().await.is_err() {
                    return false;
                }
            }
        };
        tokio::time::timeout(limit, idle).await.unwrap_or(false)
    }
}
