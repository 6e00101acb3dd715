//! Wiring only: builds the shared context from configuration, starts the platforms (each handed
//! the router as its inbox), the HTTP API, the dispatcher, the scheduler and (with
//! `shop.webhook_url`) the events-out sender, and stops them gracefully. It decides nothing.
//!
//! Before anything starts, `serve` takes the database's sender lease (`store::instances`): one
//! `encore serve` sends per database. A second one stops here with an error naming the first;
//! the lease task renews it with the heartbeat and ends the process's sending if it was lost.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::chat_roles::{ChatMoves, ChatRoles};
use crate::clock::{Clock, SystemClock};
use crate::config::Config;
use crate::context::AppContext;
use crate::domain::Platform;
use crate::domain::faq::FaqError;
use crate::i18n::{I18nError, Texts};
use crate::outbox::dispatcher::Dispatcher;
use crate::outbox::render::Renderer;
use crate::platforms::discord::DiscordAdapter;
use crate::platforms::telegram::{StoredUpdates, TelegramAdapter, TelegramError};
use crate::platforms::{Inbox, Messenger};
use crate::router::Router;
use crate::shutdown::until_shutdown;
use crate::store::instances::{self, Instance, Lease};
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
        "another `encore serve` is running on this database (host {host}, pid {pid}, since {since}); stop it first — if it died, this one may start {LEASE_SECONDS} s after its last heartbeat, or at once on the same host"
    )]
    AlreadyServing {
        host: String,
        pid: u32,
        since: String,
    },
    #[error(
        "this `encore serve` lost the database's sender lease (fence {fence}) to another one and stops sending"
    )]
    LeaseLost { fence: i64 },
}

use crate::store::instances::LEASE_SECONDS;

impl AppError {
    fn already_serving(holder: &Lease) -> AppError {
        AppError::AlreadyServing {
            host: holder.host.clone(),
            pid: holder.pid,
            since: holder.since.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
        }
    }
}

/// A running `encore serve`.
pub struct RunningApp {
    pub ctx: AppContext,
    pub http_addr: SocketAddr,
    shutdown: watch::Sender<bool>,
    tasks: JoinSet<(&'static str, Result<(), String>)>,
    /// The dispatcher's claiming passes, for [`RunningApp::settle`].
    dispatcher_passes: watch::Receiver<crate::outbox::dispatcher::DispatcherPass>,
    /// The fence of the sender lease this process holds (released on a graceful stop).
    lease_fence: i64,
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
        let faq = crate::flows::faq::load_file(std::path::Path::new(&config.faq.path))?;
        let moves = store
            .chat_moves()
            .await?
            .into_iter()
            .filter_map(|(p, old, new)| p.parse::<Platform>().ok().map(|p| (p, old, new)));
        let mut ctx = AppContext::new(config, store, clock, texts.clone());
        // One sender per database, before any platform connects (CONTRACT §1). Liveness is
        // wall-clock time, whatever clock the rules run on.
        let lease = match instances::acquire_lease(
            &ctx.store,
            &ctx.instance,
            chrono::Utc::now(),
            chrono::Duration::seconds(LEASE_SECONDS),
        )
        .await?
        {
            Ok(lease) => lease,
            Err(holder) => {
                ctx.store.close().await;
                return Err(AppError::already_serving(&holder));
            }
        };
        instances::register(&ctx.store, &ctx.instance, chrono::Utc::now()).await?;
        tracing::info!(instance = %ctx.instance.id, fence = lease.fence, "holding the sender lease");
        ctx.faq = Arc::new(faq);
        ctx.roles = ChatRoles::new(ctx.config.clone(), ChatMoves::new(moves));
        let (shutdown, shutdown_rx) = crate::shutdown::channel();
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
            let (inbox, rx) = (inbox.clone(), shutdown_rx.clone());
            let stored = StoredUpdates {
                store: ctx.store.clone(),
                bell: ctx.telegram_updates.clone(),
                clock: ctx.clock.clone(),
            };
            tasks.spawn(async move {
                (
                    "telegram",
                    adapter
                        .run(inbox, stored, rx)
                        .await
                        .map_err(|e| e.to_string()),
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
                ctx.roles.moves().clone(),
                &ctx.config,
            )
            .with_events_out(crate::events_out::bell(&ctx))
            .with_claimant(Claimant {
                instance: ctx.instance.id.clone(),
                fence: Some(lease.fence),
            })
            .after_a_crash(lease.taken_from_the_dead),
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

        let (store, instance, rx) = (ctx.store.clone(), ctx.instance.clone(), shutdown_rx.clone());
        let fence = lease.fence;
        tasks.spawn(async move {
            (
                "lease",
                keep_lease(store, instance, fence, rx)
                    .await
                    .map_err(|e| e.to_string()),
            )
        });

        tracing::info!(%http_addr, platforms = ?ctx.config.platforms(), "encore is serving");
        Ok(RunningApp {
            ctx,
            http_addr,
            shutdown,
            tasks,
            dispatcher_passes,
            lease_fence: lease.fence,
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
        // The next `serve` may start at once; this instance holds no claims any more.
        let released = instances::release_lease(
            &self.ctx.store,
            &self.ctx.instance,
            self.lease_fence,
            chrono::Utc::now(),
        )
        .await;
        let forgotten = instances::forget(&self.ctx.store, &self.ctx.instance).await;
        if let Err(err) = released.and(forgotten) {
            tracing::warn!(error = %err, "could not release the sender lease; the next serve waits for it to expire");
        }
        self.ctx.store.close().await;
        match first_error {
            Some(err) => Err(err),
            None => Ok(()),
        }
    }
}

/// The heartbeat: renews the sender lease and this instance's `last_seen` every
/// [`instances::HEARTBEAT_EVERY`]. A lease taken over by another `serve` (this process was
/// thought dead) ends the task with an error, which stops `serve`; its claims are fenced anyway.
async fn keep_lease(
    store: Store,
    instance: Arc<Instance>,
    fence: i64,
    mut shutdown: watch::Receiver<bool>,
) -> Result<(), AppError> {
    let ttl = chrono::Duration::seconds(LEASE_SECONDS);
    loop {
        tokio::select! {
            _ = tokio::time::sleep(instances::HEARTBEAT_EVERY) => {}
            _ = until_shutdown(&mut shutdown) => return Ok(()),
        }
        let now = chrono::Utc::now();
        match instances::renew_lease(&store, &instance, fence, now, ttl).await {
            Ok(true) => {}
            Ok(false) => return Err(AppError::LeaseLost { fence }),
            // A busy database: the lease has several heartbeats of slack; the next beat tries.
            Err(err) => tracing::warn!(error = %err, "could not renew the sender lease"),
        }
        if let Err(err) = instances::heartbeat(&store, &instance, now).await {
            tracing::warn!(error = %err, "could not record the heartbeat");
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
