//! Events out (CONTRACT §3): with `shop.webhook_url` set, encore tells the shop what it did —
//! `consent.changed`, `customer.forgotten`, `ticket.opened`, `ticket.closed`,
//! `feedback.received`, `code.sent` — signed like the events the shop sends in.
//!
//! 1. A flow calls [`record`] (or one of the helpers below) inside the transaction of the
//!    change it reports: a crash loses no event, a rolled-back change sends none. Without a
//!    `webhook_url` it records nothing.
//! 2. The body is fixed when it is recorded, with a random `id` the shop dedupes on: a retry
//!    sends the same bytes (signed again, with a fresh timestamp).
//! 3. The sender ([`sender_task`]) is its own task: a slow or dead shop endpoint never delays
//!    a viewer's messages. It takes due events oldest first, one at a time, posts each with a
//!    10 s time-out and holds no transaction across the call. 2xx is delivered; anything else
//!    backs off 5 s, 10 s, 20 s … up to an hour, and after [`MAX_ATTEMPTS`] is given up with
//!    an error log naming the event's id and type, never its body.
//! 4. It wakes when this process commits something to send ([`crate::outbox::Outbox::wake`]
//!    rings it too) and looks every [`POLL_EVERY`] for events recorded elsewhere or due again.
//!
//! This module never talks to a platform, and never logs a body or the URL (either may carry
//! personal data or a token).

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use tokio::sync::{Notify, watch};

use crate::app::{AppContext, until_shutdown};
use crate::clock::Clock;
use crate::config::Config;
use crate::domain::{Flow, Platform};
use crate::store::customers::ConsentEntry;
use crate::store::outbox::ClaimedMessage;
use crate::store::tickets::Ticket;
use crate::store::webhooks::{self as rows, NewEventOut, TakenEvent};
use crate::store::{Conn, Store, StoreError, StoreResult};

/// How long one POST may take.
pub const TIMEOUT: Duration = Duration::from_secs(10);
/// How often the sender looks for due events when nothing rang.
pub const POLL_EVERY: Duration = Duration::from_secs(2);
/// Attempts before an event is given up (about five and a half hours of trying).
pub const MAX_ATTEMPTS: i64 = 15;
const FIRST_BACKOFF_SECONDS: i64 = 5;
const MAX_BACKOFF_SECONDS: i64 = 3600;
/// A taken event is leased this long: longer than a POST can take.
const LEASE_SECONDS: i64 = 60;

/// One event for the shop. The variant is its `type`; the fields sit next to `id`, `type` and
/// `occurred_at` at the top of the body, as in the events the shop sends in.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type")]
pub enum EventOut {
    /// A consent decision recorded for a customer (a button, `/stop`).
    #[serde(rename = "consent.changed")]
    ConsentChanged {
        customer_id: String,
        /// `marketing` or `night`.
        purpose: String,
        granted: bool,
        at: DateTime<Utc>,
        /// Where: `telegram`, `discord`.
        source: String,
        /// The exact words the viewer was shown (`/stop` for the command).
        wording: String,
        /// How: `button`, `command`.
        method: String,
    },
    /// The customer's personal data was deleted (`/forget`, `customer.deleted`).
    #[serde(rename = "customer.forgotten")]
    CustomerForgotten { customer_id: String },
    #[serde(rename = "ticket.opened")]
    TicketOpened {
        /// The number staff see as `#id`.
        ticket_id: i64,
        customer_id: String,
        opened_at: DateTime<Utc>,
        /// The platform the viewer asked on.
        via: String,
        /// How they asked: `command` (`/human`), `words`, `button`.
        reason: String,
    },
    #[serde(rename = "ticket.closed")]
    TicketClosed {
        ticket_id: i64,
        customer_id: String,
        closed_at: DateTime<Utc>,
        by: ClosedBy,
    },
    /// A rating (a second press changes it: same `feedback_id`, new rating) or the comment
    /// added to it.
    #[serde(rename = "feedback.received")]
    FeedbackReceived {
        feedback_id: i64,
        customer_id: String,
        broadcast_id: Option<String>,
        /// What was rated: `broadcast` (the thank-you) or `ticket` (the help after `/close`).
        subject: String,
        rating: i64,
        comment: Option<String>,
    },
    /// A VIP code message reached the customer.
    #[serde(rename = "code.sent")]
    CodeSent {
        code: String,
        campaign: Option<String>,
        customer_id: String,
        sent_at: DateTime<Utc>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ClosedBy {
    Staff,
    Idle,
}

impl EventOut {
    /// The `type` in the body.
    pub fn kind(&self) -> &'static str {
        match self {
            EventOut::ConsentChanged { .. } => "consent.changed",
            EventOut::CustomerForgotten { .. } => "customer.forgotten",
            EventOut::TicketOpened { .. } => "ticket.opened",
            EventOut::TicketClosed { .. } => "ticket.closed",
            EventOut::FeedbackReceived { .. } => "feedback.received",
            EventOut::CodeSent { .. } => "code.sent",
        }
    }

    /// Whose data the stored row holds, so forgetting can find it. The notice of forgetting
    /// itself names nobody once it is delivered.
    fn about(&self) -> Option<&str> {
        match self {
            EventOut::CustomerForgotten { .. } => None,
            EventOut::ConsentChanged { customer_id, .. }
            | EventOut::TicketOpened { customer_id, .. }
            | EventOut::TicketClosed { customer_id, .. }
            | EventOut::FeedbackReceived { customer_id, .. }
            | EventOut::CodeSent { customer_id, .. } => Some(customer_id),
        }
    }
}

#[derive(Serialize)]
struct Body<'a> {
    id: &'a str,
    occurred_at: DateTime<Utc>,
    #[serde(flatten)]
    event: &'a EventOut,
}

#[derive(Debug, thiserror::Error)]
pub enum EventsOutError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the HTTP client for shop.webhook_url cannot be built: {0}")]
    Client(#[source] reqwest::Error),
}

/// Whether events go out at all: `shop.webhook_url` is set.
pub fn enabled(config: &Config) -> bool {
    config.shop.webhook_url.is_some()
}

/// Records an event inside the caller's transaction; `occurred_at` is `now`. Returns its id,
/// or `None` (and records nothing) when no `webhook_url` is configured. Call
/// `ctx.outbox.wake()` after committing, as for messages: it wakes the sender too.
pub async fn record(
    conn: &mut Conn,
    config: &Config,
    event: EventOut,
    now: DateTime<Utc>,
) -> StoreResult<Option<String>> {
    record_if(conn, enabled(config), event, now).await
}

/// [`record`] for callers that know the switch but hold no `Config` (the dispatcher).
pub async fn record_if(
    conn: &mut Conn,
    enabled: bool,
    event: EventOut,
    now: DateTime<Utc>,
) -> StoreResult<Option<String>> {
    if !enabled {
        return Ok(None);
    }
    let id = new_id();
    let body = serde_json::to_string(&Body {
        id: &id,
        occurred_at: now,
        event: &event,
    })
    .map_err(|err| StoreError::Corrupt(format!("an event out cannot be written: {err}")))?;
    rows::insert(
        conn,
        &NewEventOut {
            id: &id,
            kind: event.kind(),
            customer_id: event.about(),
            body: &body,
        },
        now,
    )
    .await?;
    Ok(Some(id))
}

/// `evt_` and 16 random bytes in hex: unique without asking the database.
fn new_id() -> String {
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    format!("evt_{}", hex::encode(bytes))
}

/// `consent.changed` for a consent decision just recorded.
pub async fn consent_changed(
    conn: &mut Conn,
    config: &Config,
    customer_id: &str,
    entry: &ConsentEntry,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let event = EventOut::ConsentChanged {
        customer_id: customer_id.to_string(),
        purpose: entry.purpose.as_str().to_string(),
        granted: entry.granted,
        at: entry.given_at,
        source: entry.source.clone(),
        wording: entry.wording.clone(),
        method: entry.method.clone(),
    };
    record(conn, config, event, now).await.map(|_| ())
}

/// `ticket.opened` for a ticket just opened.
pub async fn ticket_opened(
    conn: &mut Conn,
    config: &Config,
    ticket_id: i64,
    customer_id: &str,
    via: Platform,
    reason: &str,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let event = EventOut::TicketOpened {
        ticket_id,
        customer_id: customer_id.to_string(),
        opened_at: now,
        via: via.as_str().to_string(),
        reason: reason.to_string(),
    };
    record(conn, config, event, now).await.map(|_| ())
}

/// `ticket.closed` for a ticket just closed.
pub async fn ticket_closed(
    conn: &mut Conn,
    config: &Config,
    ticket: &Ticket,
    by: ClosedBy,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let event = EventOut::TicketClosed {
        ticket_id: ticket.id,
        customer_id: ticket.customer_id.clone(),
        closed_at: now,
        by,
    };
    record(conn, config, event, now).await.map(|_| ())
}

/// `feedback.received` with the feedback as it stands now (its rating, and its comment once
/// there is one).
pub async fn feedback_received(
    conn: &mut Conn,
    config: &Config,
    feedback_id: i64,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    if !enabled(config) {
        return Ok(());
    }
    let Some(entry) = crate::store::feedback::feedback(conn, feedback_id).await? else {
        return Ok(());
    };
    let event = EventOut::FeedbackReceived {
        feedback_id: entry.id,
        customer_id: entry.customer_id,
        broadcast_id: entry.broadcast_id,
        subject: entry.subject,
        rating: entry.rating,
        comment: entry.comment,
    };
    record(conn, config, event, now).await.map(|_| ())
}

/// For forgetting (`/forget`, `customer.deleted`), inside its transaction: comments in events
/// not delivered yet are blanked (the viewer's words do not leave after they asked to be
/// forgotten), the stored rows stop naming the customer, and `customer.forgotten` is recorded
/// (when a `webhook_url` is set). Returns the new event's id. Call `ctx.outbox.wake()` after
/// committing.
pub async fn customer_forgotten(
    conn: &mut Conn,
    config: &Config,
    customer_id: &str,
    now: DateTime<Utc>,
) -> StoreResult<Option<String>> {
    for (seq, body) in rows::undelivered_of(conn, customer_id).await? {
        let Ok(mut value) = serde_json::from_str::<serde_json::Value>(&body) else {
            continue;
        };
        if value.get("comment").is_some_and(|c| !c.is_null()) {
            value["comment"] = serde_json::Value::Null;
            rows::replace_body(conn, seq, &value.to_string()).await?;
        }
    }
    rows::unlink_customer(conn, customer_id).await?;
    let event = EventOut::CustomerForgotten {
        customer_id: customer_id.to_string(),
    };
    record(conn, config, event, now).await
}

/// The dispatcher's "sent": a `vip_code` message to a customer also records `code.sent`, in
/// the same transaction, when events go out (`bell` is the sender's doorbell then).
pub async fn mark_sent(
    store: &Store,
    bell: Option<&Arc<Notify>>,
    message: &ClaimedMessage,
    platform: &str,
    platform_message_id: &str,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let reports_a_code = message.flow == Flow::VipCode && message.customer_id.is_some();
    let Some(bell) = bell.filter(|_| reports_a_code) else {
        return crate::store::outbox::mark_sent(
            store,
            message.id,
            platform,
            platform_message_id,
            now,
        )
        .await;
    };
    let mut tx = store.begin().await?;
    crate::store::outbox::mark_sent_in(&mut tx, message.id, platform, platform_message_id, now)
        .await?;
    if let Some((code, campaign, customer_id)) =
        rows::code_of_message(&mut tx, &message.idem_key).await?
    {
        let event = EventOut::CodeSent {
            code,
            campaign,
            customer_id,
            sent_at: now,
        };
        record_if(&mut tx, true, event, now).await?;
    }
    tx.commit().await?;
    bell.notify_one();
    Ok(())
}

/// The sender's doorbell for the dispatcher, when events go out.
pub fn bell(ctx: &AppContext) -> Option<Arc<Notify>> {
    enabled(&ctx.config).then(|| ctx.outbox.events_out_bell())
}

/// How long to wait after the `attempts`-th failed attempt: 5 s, doubling, at most an hour.
pub fn backoff(attempts: i64) -> chrono::Duration {
    let doublings = attempts.saturating_sub(1).clamp(0, 20) as u32;
    let seconds = FIRST_BACKOFF_SECONDS
        .saturating_mul(2_i64.saturating_pow(doublings))
        .min(MAX_BACKOFF_SECONDS);
    chrono::Duration::seconds(seconds)
}

/// The sender, as a task for `RunningApp` to spawn: `None` without a `webhook_url`.
pub fn sender_task(
    ctx: &AppContext,
    shutdown: watch::Receiver<bool>,
) -> Option<impl Future<Output = (&'static str, Result<(), String>)> + Send + 'static> {
    let sender = Sender {
        url: ctx.config.shop.webhook_url.clone()?,
        secret: ctx.config.http.webhook_secret.clone(),
        store: ctx.store.clone(),
        clock: ctx.clock.clone(),
        bell: ctx.outbox.events_out_bell(),
    };
    Some(async move {
        (
            "events_out",
            sender.run(shutdown).await.map_err(|e| e.to_string()),
        )
    })
}

struct Sender {
    url: String,
    secret: SecretString,
    store: Store,
    clock: Arc<dyn Clock>,
    bell: Arc<Notify>,
}

impl Sender {
    async fn run(self, mut shutdown: watch::Receiver<bool>) -> Result<(), EventsOutError> {
        let http = reqwest::Client::builder()
            .timeout(TIMEOUT)
            // A redirected POST would turn into a GET: a 3xx is a failure to retry instead.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("encore/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(EventsOutError::Client)?;
        if self.secret.expose_secret().trim().is_empty() {
            tracing::warn!(
                "shop.webhook_url is set but http.webhook_secret is not: the shop cannot verify the events encore posts"
            );
        }
        tracing::info!("events out are posted to shop.webhook_url");
        loop {
            if *shutdown.borrow() {
                return Ok(());
            }
            if let Err(err) = self.deliver_due(&http, &mut shutdown).await {
                tracing::error!(error = %err, "events out: bookkeeping failed; trying again shortly");
            }
            tokio::select! {
                _ = self.bell.notified() => {}
                _ = tokio::time::sleep(POLL_EVERY) => {}
                _ = until_shutdown(&mut shutdown) => return Ok(()),
            }
        }
    }

    /// Posts due events oldest first until none is due or one fails (the shop is struggling:
    /// the rest wait for the next round rather than hammer it).
    async fn deliver_due(
        &self,
        http: &reqwest::Client,
        shutdown: &mut watch::Receiver<bool>,
    ) -> StoreResult<()> {
        loop {
            if *shutdown.borrow() {
                return Ok(());
            }
            let now = self.clock.now();
            let lease = now + chrono::Duration::seconds(LEASE_SECONDS);
            let Some(event) = rows::take_next(&self.store, now, lease).await? else {
                return Ok(());
            };
            let posted = tokio::select! {
                posted = self.post(http, &event) => posted,
                _ = until_shutdown(shutdown) => {
                    // Cut off mid-request: it goes again next time (the shop dedupes on `id`).
                    return rows::release(&self.store, event.seq, self.clock.now()).await;
                }
            };
            match posted {
                Ok(()) => {
                    rows::mark_delivered(&self.store, event.seq, self.clock.now()).await?;
                    tracing::debug!(event_id = %event.id, event_type = %event.kind, attempts = event.attempts, "event delivered to the shop");
                }
                Err(reason) if event.attempts >= MAX_ATTEMPTS => {
                    rows::give_up(&self.store, event.seq, &reason).await?;
                    tracing::error!(event_id = %event.id, event_type = %event.kind, attempts = event.attempts, %reason, "the shop never took this event; gave up");
                    return Ok(());
                }
                Err(reason) => {
                    let next = self.clock.now() + backoff(event.attempts);
                    rows::retry_at(&self.store, event.seq, next, &reason).await?;
                    tracing::warn!(event_id = %event.id, event_type = %event.kind, attempt = event.attempts, %reason, %next, "the shop did not take an event; retrying later");
                    return Ok(());
                }
            }
        }
    }

    /// One signed POST. `Err` says why it did not count, without the URL.
    async fn post(&self, http: &reqwest::Client, event: &TakenEvent) -> Result<(), String> {
        let timestamp = self.clock.now().timestamp();
        let signature = crate::api::sign(
            self.secret.expose_secret().as_bytes(),
            timestamp,
            event.body.as_bytes(),
        );
        let response = http
            .post(&self.url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header("X-Encore-Timestamp", timestamp.to_string())
            .header("X-Encore-Signature", signature)
            .body(event.body.clone())
            .send()
            .await
            .map_err(describe)?;
        let status = response.status();
        if status.is_success() {
            Ok(())
        } else {
            Err(format!("the shop answered {status}"))
        }
    }
}

/// A network error in words, without the URL (it may carry a token).
fn describe(err: reqwest::Error) -> String {
    let what = if err.is_timeout() {
        "no answer within 10 s"
    } else if err.is_connect() {
        "could not connect"
    } else {
        "the request failed"
    };
    // The innermost cause says what happened ("Connection refused"); the outer ones name the URL.
    let mut deepest = None;
    let mut cause = std::error::Error::source(&err);
    while let Some(inner) = cause {
        deepest = Some(inner);
        cause = inner.source();
    }
    match deepest {
        Some(cause) => format!("{what}: {cause}"),
        None => what.to_string(),
    }
}

/// `encore_events_out_total{state}` for `/metrics`.
pub async fn metrics(store: &Store) -> StoreResult<String> {
    let counts = rows::count_by_state(store).await?;
    let mut out = String::from(
        "# HELP encore_events_out_total Events for shop.webhook_url by state.\n# TYPE encore_events_out_total gauge\n",
    );
    for state in ["delivered", "pending", "failed"] {
        let n = counts
            .iter()
            .find(|(s, _)| s == state)
            .map_or(0, |(_, n)| *n);
        out.push_str(&format!(
            "encore_events_out_total{{state=\"{state}\"}} {n}\n"
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_five_seconds_and_stops_at_an_hour() {
        let waits: Vec<i64> = (1..=12).map(|n| backoff(n).num_seconds()).collect();
        assert_eq!(
            waits,
            vec![5, 10, 20, 40, 80, 160, 320, 640, 1280, 2560, 3600, 3600]
        );
        assert_eq!(backoff(0).num_seconds(), 5);
        assert_eq!(backoff(i64::MAX).num_seconds(), 3600);
    }

    #[test]
    fn a_body_has_id_type_and_occurred_at_beside_the_fields() {
        let at = DateTime::parse_from_rfc3339("2026-11-20T12:00:00Z")
            .map(|d| d.with_timezone(&Utc))
            .unwrap_or_default();
        let event = EventOut::TicketClosed {
            ticket_id: 7,
            customer_id: "c-1".to_string(),
            closed_at: at,
            by: ClosedBy::Idle,
        };
        let body = serde_json::to_value(Body {
            id: "evt_1",
            occurred_at: at,
            event: &event,
        })
        .unwrap_or_default();
        assert_eq!(
            body,
            serde_json::json!({
                "id": "evt_1", "type": "ticket.closed", "occurred_at": "2026-11-20T12:00:00Z",
                "ticket_id": 7, "customer_id": "c-1", "closed_at": "2026-11-20T12:00:00Z",
                "by": "idle"
            })
        );
        assert_eq!(body["type"], event.kind());
    }

    #[test]
    fn ids_are_unique_and_short_enough_for_an_event_id() {
        let (a, b) = (new_id(), new_id());
        assert_ne!(a, b);
        assert!(a.starts_with("evt_") && a.len() <= 128);
    }
}
