//! The dispatcher: claims due messages from the outbox, renders them, paces them and hands them
//! to the platform adapters, then records what happened.
//!
//! 1. At start, messages left `claimed` or `sending` by a stop or crash of another instance go
//!    back to the queue (the `sending` ones may reach their viewer twice; they are counted and
//!    logged). Every claim names this instance and a token ([`rows::Claim`]); every change of
//!    state shows it, so a row recovered by someone else is never written over.
//! 2. It wakes when this process enqueues (the doorbell) and at least every second, so work
//!    enqueued by another process (the CLI) is never stranded.
//! 3. It claims at most `max_in_flight` messages at a time (16, or an eighth of a second of the
//!    fastest platform's limit when that is more), interactive first; each is delivered by its
//!    own task so one slow chat never holds up the others. While deliveries are under way it
//!    claims again once a quarter of that room is free (or the doorbell or the poll says to
//!    look), so one claim brings many. The tasks share their database work in batches
//!    ([`super::batch`]): the recipients of the deliveries starting together are looked up
//!    together, the messages whose chat turn came together are rendered and marked `sending` in
//!    one transaction (what their words are written from read for all of them at once), and
//!    what the platform accepted is marked `sent` in one statement.
//! 4. A 429 pauses the platform for `retry_after` and puts the message back with that delay;
//!    5xx and time-outs back off exponentially, then dead-letter with the reason; a block marks
//!    the viewer unreachable on that platform (on KakaoTalk: the number) and is not retried
//!    there.
//! 9. Routing a message to a customer: their most recently used reachable linked account; with
//!    none, a platform that reaches them by phone (KakaoTalk), for a transactional note it has
//!    a template for (`no_template` otherwise); else the message ends `unreachable`.
//! 5. On shutdown it claims nothing more, lets sends on the wire finish, and puts messages
//!    still waiting for their turn back in the queue.
//! 6. Once the platform accepted a part, recording it is retried until it is stored (backoff,
//!    for as long as the process lives): a database error then never sends the message again.
//! 7. An unknown outcome (the request was written, no answer came) is not an ordinary failure:
//!    an interactive reply is tried once more (a viewer waiting for an answer would rather have
//!    it twice than not at all); anything else is finished as `unknown` and not repeated.
//! 8. Immediately before every request it puts on the wire, it asks the lease guard
//!    ([`LeaseGuard`]): once this process's lease ran out (it was paused, or could not renew)
//!    the message goes back to the queue unsent, and nothing is claimed until the lease is
//!    renewed. The store's fence refuses a deposed claimant too; the guard also covers what was
//!    claimed before the pause.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::{Notify, watch};
use tokio::task::JoinSet;

use super::Payload;
use super::access::{self, AccessError, RoomAccess, VipRooms};
use super::batch::{Batches, together_or_one_by_one};
use super::gate;
use super::pacing::Pacer;
use super::render::{RenderError, Rendered, Renderer};
use crate::chat_roles::ChatMoves;
use crate::clock::Clock;
use crate::cluster::LeaseGuard;
use crate::config::{Config, PolicyConfig};
use crate::domain::Lane;
use crate::domain::policy::{AdFacts, Gate, advertising_gate, journey_window};
use crate::domain::{Lang, MessageKind, OutboxState, Platform};
use crate::platforms::{
    ActionDone, ChatAction, Delivered, Messenger, OutgoingMessage, Reach, SendError,
};
use crate::store::customers::{self, Customer, Identity, Recipient};
use crate::store::outbox::{self as rows, Claim, Claimant, ClaimedMessage, SentRecord};
use crate::store::{Store, StoreError};

/// How many times a message meets a temporary failure before it is dead-lettered.
const MAX_ATTEMPTS: i64 = 8;
const POLL_EVERY: Duration = Duration::from_secs(1);
/// At least this many messages in hand (`max_in_flight`), whatever the platforms' limits.
const MIN_IN_FLIGHT: usize = 16;
/// At most this many (the local emulator allows 5,000 a second).
const MAX_IN_FLIGHT: usize = 250;
/// The most messages rendered in one transaction, or marked sent in one statement.
const MOST_IN_A_BATCH: usize = 64;
/// Batches of each kind in the database at once.
const BATCH_WORKERS: usize = 2;
/// How long a look-up or a rendering batch waits after its first message for the others a
/// claim started with it (they reach it within a millisecond or two of each other).
const GATHER_FOR: Duration = Duration::from_millis(2);
/// How long a batch of messages to mark `sent` waits for more: the viewer has the message
/// already, and at a thousand a second one statement then records about twenty of them
/// instead of one (sends finish one by one, paced).
const GATHER_SENT_FOR: Duration = Duration::from_millis(20);

pub struct Dispatcher {
    store: Store,
    renderer: Arc<Renderer>,
    messengers: HashMap<Platform, Arc<dyn Messenger>>,
    pacers: HashMap<Platform, Arc<Pacer>>,
    clock: Arc<dyn Clock>,
    doorbell: Arc<Notify>,
    default_lang: Lang,
    max_in_flight: usize,
    chat_moves: ChatMoves,
    policy: PolicyConfig,
    timezone: chrono_tz::Tz,
    vip_rooms: VipRooms,
    /// The highest tier: the one the VIP room is for.
    vip_tier: Option<String>,
    /// The events-out sender's doorbell when `shop.webhook_url` is set (`code.sent`).
    events_out: Option<Arc<Notify>>,
    /// What the last claiming pass found, for whoever must know the dispatcher is idle.
    passes: watch::Sender<DispatcherPass>,
    /// Who this dispatcher claims as (the instance, and the sender lease's fence when held).
    claimant: Claimant,
    /// How long to wait before the first claim (see [`Dispatcher::after_a_crash`]).
    first_claim_after: Duration,
    /// Whether this process still holds its lease (always, without one).
    guard: LeaseGuard,
}

/// One claiming pass of the dispatcher, as [`Dispatcher::passes`] reports it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DispatcherPass {
    /// Counts passes since start; a pass numbered higher began after a lower one was reported.
    pub number: u64,
    /// Nothing was due at the dispatcher's clock and nothing is in flight (claimed, waiting for
    /// its turn, on the wire or being recorded).
    pub idle: bool,
}

/// Where and how one claimed message goes.
struct Route {
    messenger: Arc<dyn Messenger>,
    chat_id: String,
    customer: Option<Customer>,
    /// The viewer's account on the chosen platform (a message to a customer).
    user_id: Option<String>,
    lang: Lang,
    /// What the send gate decides on, for advertising to a customer.
    ad_facts: Option<AdFacts>,
}

/// A message to a customer whose delivery starts: whom to look up, in a batch with the others
/// starting now ([`Dispatcher::look_up`]).
struct LookUp {
    customer_id: String,
    /// Advertising (with its expiry): the send gate's facts are read too.
    advertising: Option<Option<DateTime<Utc>>>,
}

/// What a look-up found.
struct Found {
    /// `None`: the customer is unknown or forgotten.
    recipient: Option<Recipient>,
    ad_facts: Option<AdFacts>,
}

/// Why a message cannot go anywhere: how it ends, in words, and the platform it was meant for
/// when there was one (a KakaoTalk note without a template counts there).
struct NoRoute {
    state: OutboxState,
    reason: String,
    platform: Option<Platform>,
}

impl NoRoute {
    fn new(state: OutboxState, reason: impl Into<String>) -> NoRoute {
        NoRoute {
            state,
            reason: reason.into(),
            platform: None,
        }
    }
}

enum Outcome {
    Sent,
    Released,
}

/// A message whose chat turn came: to be rendered and marked `sending`, in a batch.
struct RenderJob {
    message: ClaimedMessage,
    payload: Payload,
    customer: Option<Customer>,
    lang: Lang,
    platform: Platform,
    room: Option<RoomAccess>,
}

/// What the rendering transaction made of one message.
enum Prepared {
    /// Marked `sending`: it goes out now.
    Send(OutgoingMessage),
    /// Advertising whose viewer withdrew consent while it waited.
    NoConsent,
    /// No longer ours to send (cancelled while it waited, or the lease moved on).
    NotOurs,
    /// Nothing left to say.
    Nothing(String),
    /// It could not be rendered.
    Failed(RenderError),
}

/// The batched database work the delivery tasks share (see [`super::batch`]).
#[derive(Clone)]
struct Pipelines {
    look_up: Batches<LookUp, Result<Found, StoreError>>,
    render: Batches<RenderJob, Result<Prepared, StoreError>>,
    sent: Batches<SentRecord, ()>,
}

/// What the VIP room gave a message before it is written.
#[derive(Debug, Default)]
struct Access {
    /// Not to be sent, and why (a VIP post to someone already in the room).
    skip: Option<String>,
    room: Option<RoomAccess>,
}

impl Dispatcher {
    pub fn new(
        store: Store,
        renderer: Arc<Renderer>,
        messengers: Vec<Arc<dyn Messenger>>,
        clock: Arc<dyn Clock>,
        doorbell: Arc<Notify>,
        chat_moves: ChatMoves,
        config: &Config,
    ) -> Dispatcher {
        let pacers = messengers
            .iter()
            .map(|m| (m.platform(), Arc::new(Pacer::new(m.limits()))))
            .collect();
        // Enough in hand to keep the fastest platform's budget busy while the database works:
        // an eighth of a second of sends (at Telegram's free 30 a second, the minimum). It is
        // also the most that may be `sending` at a crash, so the most a crash may repeat.
        let fastest = messengers
            .iter()
            .map(|m| m.limits().per_second)
            .max()
            .unwrap_or(0);
        let max_in_flight =
            (usize::try_from(fastest).unwrap_or(0) / 8).clamp(MIN_IN_FLIGHT, MAX_IN_FLIGHT);
        let messengers = messengers.into_iter().map(|m| (m.platform(), m)).collect();
        Dispatcher {
            store,
            renderer,
            messengers,
            pacers,
            clock,
            doorbell,
            default_lang: config.shop.default_locale,
            max_in_flight,
            chat_moves,
            policy: config.policy.clone(),
            timezone: config.shop.timezone,
            vip_rooms: VipRooms::from_config(config),
            vip_tier: crate::domain::tiers::vip_tier(&config.tiers).map(str::to_string),
            events_out: None,
            passes: watch::Sender::new(DispatcherPass::default()),
            claimant: Claimant {
                instance: crate::store::instances::Instance::this_process().id,
                fence: None,
            },
            first_claim_after: Duration::ZERO,
            guard: LeaseGuard::always(),
        }
    }

    /// The previous sender died mid-send (`kill -9`): its last second of sends still counts in
    /// the platform's window, which this process's pacer never saw. Waiting one full window
    /// (plus a margin for the stand-in's and the network's jitter) before the first claim keeps
    /// a quick restart from provoking 429s.
    pub fn after_a_crash(mut self, crashed: bool) -> Dispatcher {
        self.first_claim_after = if crashed {
            Duration::from_millis(1100)
        } else {
            Duration::ZERO
        };
        self
    }

    /// Claims as `claimant` (`serve`: the registered instance holding the sender lease).
    pub fn with_claimant(mut self, claimant: Claimant) -> Dispatcher {
        self.claimant = claimant;
        self
    }

    /// Sends only while `guard` holds (`serve`: the lease the claimant's fence belongs to).
    pub fn with_lease_guard(mut self, guard: LeaseGuard) -> Dispatcher {
        self.guard = guard;
        self
    }

    /// Reports each claiming pass, so a caller can wait until the dispatcher is idle.
    pub fn passes(&self) -> watch::Receiver<DispatcherPass> {
        self.passes.subscribe()
    }

    /// Reports delivered VIP codes to the shop (`code.sent`), ringing `bell` (None: does not).
    pub fn with_events_out(mut self, bell: Option<Arc<Notify>>) -> Dispatcher {
        self.events_out = bell;
        self
    }

    /// Runs until `shutdown` turns true.
    pub async fn run(
        self: Arc<Self>,
        mut shutdown: watch::Receiver<bool>,
    ) -> Result<(), StoreError> {
        // A platform's per-chat interval is at most a few seconds (3 s for a Telegram group).
        let retry_at = self.clock.now() + chrono::Duration::seconds(3);
        let recovered = rows::recover_after_restart(&self.store, retry_at).await?;
        if recovered.in_flight > 0 {
            tracing::warn!(
                in_flight = recovered.in_flight,
                "messages were on the wire at the last stop; they are sent again and may arrive twice"
            );
        }
        if !self.first_claim_after.is_zero() {
            tokio::select! {
                _ = tokio::time::sleep(self.first_claim_after) => {}
                _ = shutdown.changed() => {}
            }
        }
        let (pipes, workers) = self.clone().pipelines();
        let mut tasks: JoinSet<()> = JoinSet::new();
        let task_done = Arc::new(Notify::new());
        // Whether this pass looks in the store whatever the room: the first, the doorbell's and
        // the poll's do; one woken by a delivery that ended waits for enough room (below).
        let mut look = true;
        loop {
            // A stopped process claims nothing (tests freeze the guard to emulate one).
            tokio::select! {
                _ = self.guard.until_thawed() => {}
                _ = shutdown.changed() => {}
            }
            if *shutdown.borrow() {
                break;
            }
            while tasks.try_join_next().is_some() {}
            let room = self.max_in_flight.saturating_sub(tasks.len());
            // Without the lease nothing is claimed; work may be due, so the pass is not idle.
            let holds = self.guard.holds();
            let mut unsure = !holds;
            // A claim costs a transaction however few rows it takes: while deliveries are under
            // way, one ending is not worth one; a quarter of the room is.
            let worth_a_claim = look || tasks.is_empty() || room >= self.max_in_flight.div_ceil(4);
            if room > 0 && holds && worth_a_claim {
                match rows::claim(&self.store, &self.claimant, self.clock.now(), room as i64).await
                {
                    Ok(claimed) => {
                        for message in claimed {
                            let this = self.clone();
                            let done = task_done.clone();
                            let shutdown = shutdown.clone();
                            let pipes = pipes.clone();
                            tasks.spawn(async move {
                                this.deliver(message, shutdown, &pipes).await;
                                done.notify_one();
                            });
                        }
                    }
                    Err(err) => {
                        unsure = true;
                        tracing::error!(error = %err, "could not claim messages; trying again shortly")
                    }
                }
            }
            // Idle: this pass found nothing due and no delivery task is left.
            self.passes.send_modify(|pass| {
                pass.number += 1;
                pass.idle = !unsure && tasks.is_empty();
            });
            look = tokio::select! {
                _ = self.doorbell.notified() => true,
                _ = task_done.notified() => false,
                _ = tokio::time::sleep(POLL_EVERY) => true,
                _ = shutdown.changed() => true,
            };
        }
        // Sends on the wire finish; messages waiting for their turn are released by their tasks.
        while tasks.join_next().await.is_some() {}
        // No task is left to ask: the batch workers finish what they hold and stop.
        drop(pipes);
        for worker in workers {
            if let Err(err) = worker.await {
                tracing::error!(error = %err, "a batch worker of the dispatcher failed");
            }
        }
        Ok(())
    }

    /// Starts the batch workers the delivery tasks share.
    fn pipelines(self: Arc<Self>) -> (Pipelines, Vec<tokio::task::JoinHandle<()>>) {
        let this = self.clone();
        let (look_up, mut workers) = Batches::start(
            BATCH_WORKERS,
            MOST_IN_A_BATCH,
            GATHER_FOR,
            move |jobs: Vec<LookUp>| {
                let this = this.clone();
                async move {
                    together_or_one_by_one(&jobs, "looking up recipients", |jobs| {
                        this.look_up(jobs)
                    })
                    .await
                }
            },
        );
        let this = self.clone();
        let (render, more) = Batches::start(
            BATCH_WORKERS,
            MOST_IN_A_BATCH,
            GATHER_FOR,
            move |jobs: Vec<RenderJob>| {
                let this = this.clone();
                async move {
                    together_or_one_by_one(&jobs, "rendering", |jobs| this.prepare_together(jobs))
                        .await
                }
            },
        );
        workers.extend(more);
        let this = self;
        let (sent, more) = Batches::start(
            BATCH_WORKERS,
            MOST_IN_A_BATCH,
            GATHER_SENT_FOR,
            move |batch: Vec<SentRecord>| {
                let this = this.clone();
                async move {
                    let n = batch.len();
                    this.record_sent(batch).await;
                    vec![(); n]
                }
            },
        );
        workers.extend(more);
        (
            Pipelines {
                look_up,
                render,
                sent,
            },
            workers,
        )
    }

    async fn deliver(
        &self,
        message: ClaimedMessage,
        mut shutdown: watch::Receiver<bool>,
        pipes: &Pipelines,
    ) {
        let id = message.id;
        match self.try_deliver(&message, &mut shutdown, pipes).await {
            Ok(Outcome::Sent | Outcome::Released) => {}
            Err(err) => {
                // A database error before anything was accepted (what was accepted is recorded
                // until stored, never here): put it back; the next claim tries again.
                tracing::error!(message_id = id, error = %err, "delivery bookkeeping failed");
                let later = self.clock.now() + chrono::Duration::seconds(5);
                if let Err(err) =
                    rows::retry_later(&self.store, &message.claim, later, &err.to_string()).await
                {
                    tracing::error!(message_id = id, error = %err, "could not requeue message");
                }
            }
        }
    }

    /// Asked immediately before a request goes on the wire: true (and the message back in the
    /// queue, unsent) when the lease ran out.
    async fn lease_ran_out(&self, message: &ClaimedMessage) -> Result<bool, StoreError> {
        if self.guard.may_send().await {
            return Ok(false);
        }
        tracing::warn!(
            message_id = message.id,
            "this process's lease ran out before the message went out; put back unsent"
        );
        rows::release(&self.store, &message.claim).await?;
        Ok(true)
    }

    async fn try_deliver(
        &self,
        message: &ClaimedMessage,
        shutdown: &mut watch::Receiver<bool>,
        pipes: &Pipelines,
    ) -> Result<Outcome, StoreError> {
        // Routing may ask the platform (a VIP room's members): that is on the wire too.
        if self.lease_ran_out(message).await? {
            return Ok(Outcome::Released);
        }
        let payload: Payload = match serde_json::from_str(&message.payload) {
            Ok(p) => p,
            Err(err) => {
                rows::finish_unsent(
                    &self.store,
                    &message.claim,
                    OutboxState::Failed,
                    &format!("damaged payload: {err}"),
                    None,
                )
                .await?;
                return Ok(Outcome::Sent);
            }
        };
        // A message to a customer: the customer, their identities and the gate's facts, read
        // with those of the other messages whose delivery starts now.
        let found = match &message.customer_id {
            Some(customer_id) if !is_addressed(message) => {
                let job = LookUp {
                    customer_id: customer_id.clone(),
                    advertising: (message.kind == MessageKind::Advertising)
                        .then_some(message.expires_at),
                };
                let Ok(found) = pipes.look_up.ask(job).await else {
                    // The dispatcher is stopping before it was looked up: nothing went out.
                    rows::release(&self.store, &message.claim).await?;
                    return Ok(Outcome::Released);
                };
                Some(found?)
            }
            _ => None,
        };
        let route = match self.route(message, &payload, found) {
            Ok(route) => route,
            Err(NoRoute {
                state,
                reason,
                platform,
            }) => {
                let platform = platform.map(Platform::as_str);
                rows::finish_unsent(&self.store, &message.claim, state, &reason, platform).await?;
                return Ok(Outcome::Sent);
            }
        };
        if matches!(
            payload,
            Payload::Act { .. } | Payload::Pin { .. } | Payload::ClosePoll { .. }
        ) {
            return self.perform(message, &payload, &route).await;
        }
        if let Some(outcome) = self.advertising_gate(message, &route).await? {
            return Ok(outcome);
        }
        let access = match self.room_access(&payload, &route).await {
            Ok(access) => access,
            Err(AccessError::Store(err)) => return Err(err),
            Err(AccessError::Platform(err)) => {
                let platform = route.messenger.platform();
                // The message itself was not written yet: an unanswered room call is only a
                // temporary failure of this message.
                let err = match err {
                    SendError::Unknown(reason) => SendError::Transient(reason),
                    other => other,
                };
                self.after_failure(message, platform, &route.chat_id, err, None)
                    .await?;
                return Ok(Outcome::Sent);
            }
        };
        if let Some(reason) = &access.skip {
            rows::finish_unsent(
                &self.store,
                &message.claim,
                OutboxState::Cancelled,
                reason,
                None,
            )
            .await?;
            return Ok(Outcome::Sent);
        }
        let platform = route.messenger.platform();
        let lane = message.lane;
        let pacer = self.pacers.get(&platform).cloned();
        let is_group = route.messenger.is_group(&route.chat_id);
        // The first part's turn comes before rendering, so the words are the current state at
        // the moment the message goes out (DESIGN invariant 4), not when it began to wait.
        let mut first_turn = match &pacer {
            Some(pacer) => tokio::select! {
                turn = pacer.wait_turn(&route.chat_id, is_group, lane) => Some(turn),
                _ = crate::shutdown::until_shutdown(shutdown) => {
                    rows::release(&self.store, &message.claim).await?;
                    return Ok(Outcome::Released);
                }
            },
            None => None,
        };
        // The turn may have been long in coming.
        if self.lease_ran_out(message).await? {
            return Ok(Outcome::Released);
        }
        // Rendered and marked `sending` in one transaction with the others whose turn came
        // together ([`Dispatcher::prepare_together`]).
        let job = RenderJob {
            message: message.clone(),
            payload: payload.clone(),
            customer: route.customer.clone(),
            lang: route.lang,
            platform,
            room: access.room.clone(),
        };
        let Ok(prepared) = pipes.render.ask(job).await else {
            // The dispatcher is stopping before it was rendered: nothing went out.
            rows::release(&self.store, &message.claim).await?;
            return Ok(Outcome::Released);
        };
        let outgoing = match prepared? {
            Prepared::Send(outgoing) => outgoing,
            // Cancelled while it waited (`/stop`, forgetting), or deposed: nothing goes out.
            Prepared::NotOurs => return Ok(Outcome::Sent),
            Prepared::NoConsent => {
                rows::finish_unsent(
                    &self.store,
                    &message.claim,
                    OutboxState::Refused,
                    "no marketing consent",
                    None,
                )
                .await?;
                return Ok(Outcome::Sent);
            }
            Prepared::Nothing(reason) => {
                rows::finish_unsent(
                    &self.store,
                    &message.claim,
                    OutboxState::Cancelled,
                    &reason,
                    None,
                )
                .await?;
                return Ok(Outcome::Sent);
            }
            Prepared::Failed(err) => {
                tracing::error!(message_id = message.id, error = %err, "message could not be rendered");
                rows::finish_unsent(
                    &self.store,
                    &message.claim,
                    OutboxState::Failed,
                    &err.to_string(),
                    Some(platform.as_str()),
                )
                .await?;
                return Ok(Outcome::Sent);
            }
        };
        let parts = outgoing.into_parts(route.messenger.markup());
        let mut last_id = None;
        for (index, part) in parts.iter().enumerate() {
            // A retry after a failure part-way does not repeat the parts that went out.
            if (index as i64) < message.parts_sent {
                continue;
            }
            // Later parts wait their own turn; a shutdown does not cut a message in half.
            let mut turn = match (index, &pacer) {
                (0, _) => first_turn.take(),
                (_, Some(pacer)) => Some(pacer.wait_turn(&route.chat_id, is_group, lane).await),
                (_, None) => None,
            };
            // A global slot is held from the call's start until its answer is in (pacing.rs).
            let wire = match &pacer {
                Some(pacer) => Some(pacer.on_the_wire(lane).await),
                None => None,
            };
            // The last moment to hold back: the parts before this one stay counted.
            if self.lease_ran_out(message).await? {
                return Ok(Outcome::Released);
            }
            let sent = route.messenger.send_part(&route.chat_id, part).await;
            drop(wire);
            if let (
                Some(turn),
                Ok(Delivered {
                    slow_down: Some(wait),
                    ..
                }),
            ) = (&mut turn, &sent)
            {
                turn.hold_for(*wait);
            }
            drop(turn);
            match sent {
                Ok(delivered) => {
                    // Staff answer a card or relay by replying to any of its parts.
                    if message.target_chat.is_some() {
                        self.until_stored(message.id, "the part's platform id", || {
                            rows::record_sent_part(
                                &self.store,
                                platform.as_str(),
                                &route.chat_id,
                                &delivered.message_id,
                                message.id,
                            )
                        })
                        .await;
                    }
                    if parts.len() > 1 {
                        self.until_stored(message.id, "the parts sent", || {
                            rows::record_parts_sent(&self.store, &message.claim, index as i64 + 1)
                        })
                        .await;
                    }
                    // Where a poll went, and its native id, which the poll's answers name.
                    if let (Payload::Poll { poll }, Some(_)) = (&payload, &part.poll) {
                        let post = crate::store::polls::Post {
                            number: *poll,
                            platform,
                            chat_id: &route.chat_id,
                            message_id: &delivered.message_id,
                            platform_poll_id: delivered.poll_id.as_deref(),
                        };
                        self.until_stored(message.id, "where the poll was posted", || {
                            crate::store::polls::record_post(&self.store, &post, self.clock.now())
                        })
                        .await;
                    }
                    last_id = Some(delivered.message_id);
                }
                Err(err) => {
                    self.after_failure(message, platform, &route.chat_id, err, pacer.as_deref())
                        .await?;
                    return Ok(Outcome::Sent);
                }
            }
        }
        let message_id = last_id.unwrap_or_default();
        // The viewer has it now: recording that must not fail into a resend, so a busy
        // database is waited out rather than the message put back in the queue. Most messages
        // are recorded in batches; one that reports a code to the shop is recorded with it.
        if !crate::events_out::reports_on_sent(message, self.events_out.as_ref()) {
            let record = SentRecord {
                claim: message.claim.clone(),
                platform: platform.as_str().to_string(),
                platform_message_id: message_id.clone(),
                at: self.clock.now(),
            };
            if pipes.sent.ask(record).await.is_ok() {
                tracing::debug!(message_id = message.id, flow = %message.flow, %platform, "sent");
                return Ok(Outcome::Sent);
            }
        }
        self.until_stored(message.id, "the message as sent", || {
            crate::events_out::mark_sent(
                &self.store,
                self.events_out.as_ref(),
                message,
                platform.as_str(),
                &message_id,
                self.clock.now(),
            )
        })
        .await;
        tracing::debug!(message_id = message.id, flow = %message.flow, %platform, "sent");
        Ok(Outcome::Sent)
    }

    /// Chooses the platform and chat, for a message to a customer from what the look-up
    /// `found`. `Err` when the message cannot go anywhere.
    fn route(
        &self,
        message: &ClaimedMessage,
        payload: &Payload,
        found: Option<Found>,
    ) -> Result<Route, NoRoute> {
        if let (Some(platform), Some(chat_id)) = (&message.target_platform, &message.target_chat) {
            let Some(messenger) = platform
                .parse::<Platform>()
                .ok()
                .and_then(|p| self.messengers.get(&p))
            else {
                return Err(NoRoute::new(
                    OutboxState::Failed,
                    format!("platform {platform} is not configured"),
                ));
            };
            let lang = match payload {
                Payload::Text {
                    lang: Some(lang), ..
                } => *lang,
                _ => self.default_lang,
            };
            return Ok(Route {
                messenger: messenger.clone(),
                // A group that was upgraded since the message was enqueued lives on elsewhere.
                chat_id: self.chat_moves.current(messenger.platform(), chat_id),
                customer: None,
                user_id: None,
                lang,
                ad_facts: None,
            });
        }
        if message.customer_id.is_none() {
            return Err(NoRoute::new(
                OutboxState::Failed,
                "message has no recipient",
            ));
        }
        let Some(Found {
            recipient: Some(recipient),
            ad_facts,
        }) = found
        else {
            return Err(NoRoute::new(
                OutboxState::Unreachable,
                "the customer is unknown or forgotten",
            ));
        };
        // The most recently used platform that is reachable and configured (CONTRACT §6).
        let chosen: Option<(&Identity, &Arc<dyn Messenger>)> = recipient
            .identities
            .iter()
            .filter(|i| i.unreachable_at.is_none())
            .find_map(|i| self.messengers.get(&i.platform).map(|m| (i, m)));
        let Some((identity, messenger)) = chosen else {
            if let Some(by_phone) = self.by_phone(message.kind, payload, &recipient) {
                return by_phone;
            }
            let (state, reason) = if recipient
                .identities
                .iter()
                .any(|i| i.unreachable_at.is_some())
            {
                (
                    OutboxState::Blocked,
                    "the viewer blocked the bot on every linked platform",
                )
            } else {
                (
                    OutboxState::Unreachable,
                    "the customer has no linked messenger on a configured platform",
                )
            };
            return Err(NoRoute::new(state, reason));
        };
        let lang = customers::language_of(&recipient.customer, Some(identity), self.default_lang);
        Ok(Route {
            messenger: messenger.clone(),
            chat_id: identity.chat_id.clone(),
            user_id: Some(identity.user_id.clone()),
            customer: Some(recipient.customer),
            lang,
            ad_facts,
        })
    }

    /// The customers of a batch of deliveries starting now, their identities and phones and,
    /// for advertising, the send gate's facts: a few queries for the whole batch. One answer
    /// per job, in order.
    async fn look_up(&self, jobs: &[LookUp]) -> Result<Vec<Found>, StoreError> {
        let mut conn = self.store.conn().await?;
        let mut ids: Vec<&str> = jobs.iter().map(|job| job.customer_id.as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        let recipients = customers::recipients(&mut conn, &ids).await?;
        let ads: Vec<(&str, Option<DateTime<Utc>>)> = jobs
            .iter()
            .filter_map(|job| Some((job.customer_id.as_str(), job.advertising?)))
            .collect();
        let mut ad_facts = gate::ad_facts(&mut conn, &ads, self.clock.now(), self.timezone)
            .await?
            .into_iter();
        Ok(jobs
            .iter()
            .map(|job| Found {
                recipient: recipients.get(&job.customer_id).cloned(),
                ad_facts: job.advertising.and_then(|_| ad_facts.next()),
            })
            .collect())
    }

    /// Whether the customer, now that a platform refused them, can still be reached: a linked
    /// account on another configured platform, or their phone ([`Dispatcher::by_phone`]).
    async fn reachable_elsewhere(
        &self,
        conn: &mut crate::store::Conn,
        message: &ClaimedMessage,
        customer_id: &str,
    ) -> Result<bool, StoreError> {
        let recipients = customers::recipients(conn, &[customer_id]).await?;
        let Some(recipient) = recipients.get(customer_id) else {
            return Ok(false);
        };
        let linked = recipient
            .identities
            .iter()
            .any(|i| i.unreachable_at.is_none() && self.messengers.contains_key(&i.platform));
        let by_phone = serde_json::from_str::<Payload>(&message.payload)
            .ok()
            .and_then(|payload| self.by_phone(message.kind, &payload, recipient));
        Ok(linked || matches!(by_phone, Some(Ok(_))))
    }

    /// The way to a customer with no reachable linked account: a platform that reaches them by
    /// phone number (KakaoTalk 알림톡, CONTRACT §11), for a transactional note it has a template
    /// for, to a number it has not refused. `None` when there is no such platform, the message
    /// is not such a note, or the customer gave no number. The templates are in the shop's
    /// language, so the variables are too.
    fn by_phone(
        &self,
        kind: MessageKind,
        payload: &Payload,
        recipient: &Recipient,
    ) -> Option<Result<Route, NoRoute>> {
        let messenger = self
            .messengers
            .values()
            .find(|m| m.reach() == Reach::PhoneNumber)?;
        let note = payload
            .note_name()
            .filter(|_| kind == MessageKind::Transactional)?;
        let phone = recipient.phone.as_ref()?;
        let platform = messenger.platform();
        if !phone.reachable() {
            return Some(Err(NoRoute {
                state: OutboxState::Blocked,
                reason: format!("{platform} refused the customer's number"),
                platform: Some(platform),
            }));
        }
        if !messenger.carries(&note) {
            return Some(Err(NoRoute {
                state: OutboxState::NoTemplate,
                reason: format!("{platform} has no template for `{note}`"),
                platform: Some(platform),
            }));
        }
        Some(Ok(Route {
            messenger: messenger.clone(),
            chat_id: phone.number.clone(),
            customer: Some(recipient.customer.clone()),
            user_id: None,
            lang: self.default_lang,
            ad_facts: None,
        }))
    }

    /// Advertising to a person passes the gate again as it goes out (DESIGN invariant 5):
    /// consent may have been withdrawn, it may be night, the week's cap may be reached, it may
    /// have expired. `Some` when the message does not go now.
    async fn advertising_gate(
        &self,
        message: &ClaimedMessage,
        route: &Route,
    ) -> Result<Option<Outcome>, StoreError> {
        let now = self.clock.now();
        let journey = message.flow.is_journey();
        if journey
            && route.customer.is_some()
            && let Some(opens) = journey_window(&self.policy, now, self.timezone)
        {
            // Journey messages of either kind go out only inside the send window.
            tracing::debug!(message_id = message.id, %opens, "journey message waits for the send window");
            rows::hold(&self.store, &message.claim, opens, "send_window").await?;
            return Ok(Some(Outcome::Sent));
        }
        let Some(facts) = &route.ad_facts else {
            // A post in a room speaks to no one person, and transactional messages pass freely;
            // only an expiry applies (a "live at 8" post is not sent at 9).
            if message.expires_at.is_some_and(|at| at <= now) {
                rows::finish_unsent(
                    &self.store,
                    &message.claim,
                    OutboxState::Expired,
                    "expired before it could be sent",
                    None,
                )
                .await?;
                return Ok(Some(Outcome::Sent));
            }
            return Ok(None);
        };
        let (state, reason) = match advertising_gate(facts, now, self.timezone, &self.policy) {
            Gate::Send => return Ok(None),
            Gate::Refuse if facts.marketing_consent => (
                OutboxState::Refused,
                "advertising is switched off (policy.marketing_per_week = 0)",
            ),
            Gate::Refuse => (OutboxState::Refused, "no marketing consent"),
            Gate::Expire => (OutboxState::Expired, "expired before it could be sent"),
            Gate::Hold { until } => {
                tracing::debug!(message_id = message.id, %until, "advertising held through quiet hours");
                rows::hold(&self.store, &message.claim, until, "quiet_hours").await?;
                return Ok(Some(Outcome::Sent));
            }
            Gate::Postpone { until } => {
                tracing::debug!(message_id = message.id, %until, "advertising postponed: weekly cap reached");
                rows::hold(&self.store, &message.claim, until, "weekly_cap").await?;
                return Ok(Some(Outcome::Sent));
            }
        };
        rows::finish_unsent(&self.store, &message.claim, state, reason, None).await?;
        Ok(Some(Outcome::Sent))
    }

    /// What a VIP message needs from the platform before it can be written.
    async fn room_access(&self, payload: &Payload, route: &Route) -> Result<Access, AccessError> {
        let (Some(customer), Some(user_id)) = (&route.customer, &route.user_id) else {
            return Ok(Access::default());
        };
        let now = self.clock.now();
        let wants_room = match payload {
            Payload::VipWelcome { .. } => true,
            Payload::VipStatus => {
                let mut conn = self.store.conn().await?;
                let tier = crate::store::vip::stored_tier(&mut conn, &customer.id).await?;
                tier.is_some() && tier == self.vip_tier
            }
            Payload::VipPost { .. } => {
                let inside = access::in_vip_room(
                    &self.store,
                    &self.vip_rooms,
                    route.messenger.as_ref(),
                    &customer.id,
                    user_id,
                )
                .await?;
                return Ok(Access {
                    skip: inside.then(|| "already in the VIP room".to_string()),
                    room: None,
                });
            }
            _ => false,
        };
        if !wants_room {
            return Ok(Access::default());
        }
        let room = access::vip_room_access(
            &self.store,
            &self.vip_rooms,
            route.messenger.as_ref(),
            &customer.id,
            user_id,
            now,
        )
        .await?;
        Ok(Access {
            skip: None,
            room: Some(room),
        })
    }

    /// A chat action: paced against the platform's overall budget, recorded like a message.
    async fn perform(
        &self,
        message: &ClaimedMessage,
        payload: &Payload,
        route: &Route,
    ) -> Result<Outcome, StoreError> {
        let platform = route.messenger.platform();
        let action = match payload {
            Payload::Act { action } => action.clone(),
            // Done to an earlier message of ours, found by its key: it went out first.
            Payload::Pin { key } | Payload::ClosePoll { key } => {
                let mut conn = self.store.conn().await?;
                let sent = rows::platform_id_of(&mut conn, key).await?;
                drop(conn);
                match (sent, payload) {
                    (Some(message_id), Payload::Pin { .. }) => ChatAction::Pin { message_id },
                    (Some(message_id), _) => ChatAction::ClosePoll { message_id },
                    (None, _) => {
                        rows::finish_unsent(
                            &self.store,
                            &message.claim,
                            OutboxState::Cancelled,
                            "the message it is about was not sent",
                            None,
                        )
                        .await?;
                        return Ok(Outcome::Sent);
                    }
                }
            }
            _ => return Ok(Outcome::Sent),
        };
        // A global slot is held from the call's start until its answer is in (pacing.rs).
        let wire = match self.pacers.get(&platform) {
            Some(pacer) => Some(pacer.on_the_wire(message.lane).await),
            None => None,
        };
        if self.lease_ran_out(message).await? {
            return Ok(Outcome::Released);
        }
        let mut conn = self.store.conn().await?;
        if !rows::mark_sending(&mut conn, &message.claim, platform.as_str()).await? {
            return Ok(Outcome::Sent);
        }
        drop(conn);
        let acted = route.messenger.act(&route.chat_id, &action).await;
        drop(wire);
        match acted {
            Ok(done) => {
                let answer = match done {
                    ActionDone::Link(link) => link,
                    ActionDone::Member(member) => member.to_string(),
                    ActionDone::Done => String::new(),
                };
                self.until_stored(message.id, "the action as done", || {
                    rows::mark_sent(
                        &self.store,
                        &message.claim,
                        platform.as_str(),
                        &answer,
                        self.clock.now(),
                    )
                })
                .await;
            }
            // A room action tried again later holds nothing behind it: the room's next
            // messages go meanwhile (a refusal for good is set aside in `after_failure`).
            Err(SendError::Transient(reason)) if message.attempts < MAX_ATTEMPTS => {
                tracing::warn!(message_id = message.id, %platform, error = %reason, "chat action failed; retrying without holding the room");
                let backoff = 2_i64.saturating_pow(message.attempts.clamp(1, 6) as u32);
                let later = self.clock.now() + chrono::Duration::seconds(backoff);
                rows::retry_beside(&self.store, &message.claim, later, &reason).await?;
            }
            Err(err) => {
                tracing::warn!(message_id = message.id, %platform, error = %err, "chat action failed");
                let pacer = self.pacers.get(&platform).cloned();
                self.after_failure(message, platform, &route.chat_id, err, pacer.as_deref())
                    .await?;
            }
        }
        Ok(Outcome::Sent)
    }

    async fn after_failure(
        &self,
        message: &ClaimedMessage,
        platform: Platform,
        chat_id: &str,
        err: SendError,
        pacer: Option<&Pacer>,
    ) -> Result<(), StoreError> {
        let now = self.clock.now();
        // Discord bans a bot after 10,000 invalid requests (401/403/429) in 10 minutes: count
        // them so /metrics shows how far away that is.
        if matches!(
            err,
            SendError::RetryAfter(_) | SendError::Blocked | SendError::Permanent(_)
        ) {
            self.store
                .bump_counter(&format!("invalid_requests:{platform}"), 1)
                .await?;
        }
        match err {
            SendError::RetryAfter(wait) => {
                if let Some(pacer) = pacer {
                    pacer.pause(wait);
                }
                self.store
                    .bump_counter(&format!("rate_limited:{platform}"), 1)
                    .await?;
                tracing::warn!(message_id = message.id, %platform, retry_after = ?wait, "rate limited by the platform");
                let later =
                    now + chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::seconds(1));
                rows::retry_after_rate_limit(&self.store, &message.claim, later).await
            }
            SendError::Moved(new_chat) => {
                tracing::info!(message_id = message.id, %platform, "the group was upgraded; following it");
                let mut conn = self.store.conn().await?;
                crate::store::chats::record_move(
                    &mut conn,
                    platform.as_str(),
                    chat_id,
                    &new_chat,
                    now,
                )
                .await?;
                drop(conn);
                self.chat_moves.record(platform, chat_id, &new_chat);
                rows::requeue_now(&self.store, &message.claim, now).await
            }
            SendError::Later(wait) => {
                tracing::warn!(message_id = message.id, %platform, ?wait, "the platform said later");
                let later =
                    now + chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::seconds(10));
                rows::retry_after_rate_limit(&self.store, &message.claim, later).await
            }
            SendError::Blocked => {
                let elsewhere = {
                    let mut conn = self.store.conn().await?;
                    customers::mark_unreachable(&mut conn, platform, chat_id, now).await?;
                    match &message.customer_id {
                        Some(customer) => {
                            self.reachable_elsewhere(&mut conn, message, customer)
                                .await?
                        }
                        None => false,
                    }
                };
                tracing::info!(message_id = message.id, %platform, "viewer blocked the bot; marked unreachable");
                if elsewhere {
                    // Linked and reachable on another platform: it goes there instead.
                    return rows::requeue_now(&self.store, &message.claim, now).await;
                }
                rows::finish_unsent(
                    &self.store,
                    &message.claim,
                    OutboxState::Blocked,
                    "the viewer blocked the bot",
                    Some(platform.as_str()),
                )
                .await
            }
            SendError::Unknown(reason) => {
                // The request may have arrived: never an ordinary retry (see the module doc, 7).
                let again = message.lane == Lane::Interactive && message.unknown_outcomes == 0;
                let retry_at = again.then(|| now + chrono::Duration::seconds(2));
                if again {
                    tracing::warn!(message_id = message.id, %platform, %reason, "no answer to an interactive reply; trying once more (it may arrive twice)");
                } else {
                    tracing::warn!(message_id = message.id, %platform, %reason, "no answer from the platform; recorded as unknown, not sent again");
                }
                if let Err(err) = self
                    .store
                    .bump_counter(&format!("unknown_outcomes:{platform}"), 1)
                    .await
                {
                    tracing::error!(message_id = message.id, error = %err, "could not count an unknown outcome");
                }
                // Recorded until stored: a failure here must not fall back into a plain retry.
                self.until_stored(message.id, "an unknown outcome", || {
                    rows::record_unknown_outcome(
                        &self.store,
                        &message.claim,
                        retry_at,
                        &reason,
                        platform.as_str(),
                    )
                })
                .await;
                Ok(())
            }
            SendError::Transient(reason) if message.attempts < MAX_ATTEMPTS => {
                let backoff = 2_i64.saturating_pow(message.attempts.clamp(1, 6) as u32);
                tracing::warn!(message_id = message.id, %platform, attempt = message.attempts, %reason, "send failed; retrying");
                rows::retry_later(
                    &self.store,
                    &message.claim,
                    now + chrono::Duration::seconds(backoff),
                    &reason,
                )
                .await
            }
            SendError::Transient(reason) | SendError::Permanent(reason) => {
                tracing::error!(message_id = message.id, %platform, %reason, "send failed for good; dead-lettered");
                rows::finish_unsent(
                    &self.store,
                    &message.claim,
                    OutboxState::Failed,
                    &reason,
                    Some(platform.as_str()),
                )
                .await
            }
        }
    }
}

impl Dispatcher {
    /// Rendering and "sending" are one transaction, serialized with the flows on these rows: an
    /// order committed before it is in the words; one committed after it sees `sending` and gets
    /// a note of its own (flows::after_broadcast::order_placed). On PostgreSQL it takes the
    /// messages' row locks (in id order), not the database's write lock, so sending does not
    /// queue behind every other writer. One answer per job, in order.
    async fn prepare_together(&self, jobs: &[RenderJob]) -> Result<Vec<Prepared>, StoreError> {
        let mut tx = self.store.begin_rows().await?;
        let claims: Vec<&Claim> = jobs.iter().map(|job| &job.message.claim).collect();
        rows::lock_batch_for_rendering(&mut tx, &claims).await?;
        // Consent is checked once more right before the words are written: a `/stop` that came
        // while an advertisement waited for its turn wins.
        let advertised: Vec<&str> = jobs
            .iter()
            .filter(|job| job.message.kind == MessageKind::Advertising)
            .filter_map(|job| job.customer.as_ref().map(|c| c.id.as_str()))
            .collect();
        let consenting = if advertised.is_empty() {
            Default::default()
        } else {
            gate::marketing_consenting(&mut tx, &advertised).await?
        };
        let refused = |job: &RenderJob| {
            job.message.kind == MessageKind::Advertising
                && job
                    .customer
                    .as_ref()
                    .is_some_and(|c| !consenting.contains(&c.id))
        };
        let renderings: Vec<super::render::Rendering> = jobs
            .iter()
            .filter(|job| !refused(job))
            .map(|job| super::render::Rendering {
                message_id: job.message.id,
                payload: &job.payload,
                customer: job.customer.as_ref(),
                lang: job.lang,
                advertising: job.message.kind == MessageKind::Advertising,
                platform: job.platform,
                chat_id: job.message.target_chat.as_deref(),
                room_access: job.room.as_ref(),
            })
            .collect();
        let mut rendered = self
            .renderer
            .render_all(&mut tx, &renderings)
            .await?
            .into_iter();
        let mut prepared = Vec::with_capacity(jobs.len());
        for job in jobs {
            if refused(job) {
                prepared.push(Prepared::NoConsent);
                continue;
            }
            let Some(answer) = rendered.next() else {
                return Err(StoreError::Corrupt("a rendering answered nothing".into()));
            };
            prepared.push(match answer {
                Ok(Rendered::Send(outgoing)) => Prepared::Send(outgoing),
                Ok(Rendered::Nothing(reason)) => Prepared::Nothing(reason),
                // The database failed under this message: on PostgreSQL the transaction is
                // void now, so the batch is tried again message by message.
                Err(RenderError::Store(err)) if jobs.len() > 1 => return Err(err),
                Err(err) => Prepared::Failed(err),
            });
        }
        let to_send: Vec<(&Claim, &str)> = jobs
            .iter()
            .zip(&prepared)
            .filter(|(_, p)| matches!(p, Prepared::Send(_)))
            .map(|(job, _)| (&job.message.claim, job.platform.as_str()))
            .collect();
        let marked = rows::mark_batch_sending(&mut tx, &to_send).await?;
        tx.commit().await?;
        for (job, p) in jobs.iter().zip(prepared.iter_mut()) {
            if matches!(p, Prepared::Send(_)) && !marked.contains(&job.message.id) {
                *p = Prepared::NotOurs;
            }
        }
        Ok(prepared)
    }

    /// Marks a batch of accepted messages `sent`; when the one statement fails, each message is
    /// recorded on its own, retried until stored.
    async fn record_sent(&self, batch: Vec<SentRecord>) {
        let first = batch.first().map_or(0, |sent| sent.claim.id);
        match rows::mark_batch_sent(&self.store, &batch).await {
            Ok(()) => return,
            Err(err) => {
                tracing::warn!(message_id = first, batch = batch.len(), error = %err, "recording a batch as sent failed; recording its messages one by one");
            }
        }
        for sent in &batch {
            self.until_stored(sent.claim.id, "the message as sent", || {
                rows::mark_batch_sent(&self.store, std::slice::from_ref(sent))
            })
            .await;
        }
    }

    /// Bookkeeping for what a platform already accepted: retried with backoff until it is
    /// stored, for as long as the process lives. Giving up would leave the row to be claimed
    /// and sent again; a database that stays down is better waited out.
    async fn until_stored<F, Fut>(&self, message_id: i64, what: &'static str, mut write: F)
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<(), StoreError>>,
    {
        let mut wait = Duration::from_millis(100);
        let mut attempt: u32 = 0;
        loop {
            match write().await {
                Ok(()) => return,
                Err(err) => {
                    attempt += 1;
                    tracing::warn!(message_id, what, attempt, error = %err, "recording what the platform accepted failed; trying again");
                    tokio::time::sleep(wait).await;
                    wait = (wait * 2).min(Duration::from_secs(10));
                }
            }
        }
    }
}

/// A message to a chat named when it was enqueued (a staff card, a room post), not routed by
/// its customer's identities.
fn is_addressed(message: &ClaimedMessage) -> bool {
    message.target_platform.is_some() && message.target_chat.is_some()
}

/// For the demo and tests: waits until nothing is left to send (or `limit` passes).
pub async fn wait_until_idle(store: &Store, limit: Duration) -> Result<bool, StoreError> {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        if rows::queue_depth(store).await? == 0 {
            return Ok(true);
        }
        if tokio::time::Instant::now() >= deadline {
            return Ok(false);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[allow(dead_code)]
fn _assert_send() {
    fn is_send<T: Send + Sync>() {}
    is_send::<Dispatcher>();
    let _ = Utc::now;
}
