//! Recording events out: what a flow (or the dispatcher) calls inside the transaction of the
//! change it reports.
//!
//! 1. A flow calls [`record`] (or one of the helpers below) inside the transaction of the
//!    change it reports: a crash loses no event, a rolled-back change sends none. Without a
//!    `webhook_url` it records nothing.
//! 2. The body is fixed when it is recorded, with a random `id` the shop dedupes on: a retry
//!    sends the same bytes (signed again, with a fresh timestamp, by the sender).
//!
//! This module only writes rows in the caller's transaction: it never posts, never spawns a
//! task and never knows the sender or the HTTP client; a flow that records an event can
//! therefore not be slowed by the shop's endpoint.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use rand::RngCore;
use serde::Serialize;
use tokio::sync::Notify;

use crate::config::Config;
use crate::domain::{Flow, Platform};
use crate::store::customers::ConsentEntry;
use crate::store::outbox::ClaimedMessage;
use crate::store::tickets::Ticket;
use crate::store::webhooks::{self as rows, NewEventOut};
use crate::store::{Conn, Store, StoreError, StoreResult};

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
/// Whether marking `message` sent also reports it to the shop (`code.sent`), with `bell` the
/// events-out sender's doorbell when `shop.webhook_url` is set.
pub fn reports_on_sent(message: &ClaimedMessage, bell: Option<&Arc<Notify>>) -> bool {
    bell.is_some() && message.flow == Flow::VipCode && message.customer_id.is_some()
}

pub async fn mark_sent(
    store: &Store,
    bell: Option<&Arc<Notify>>,
    message: &ClaimedMessage,
    platform: &str,
    platform_message_id: &str,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let Some(bell) = bell.filter(|_| reports_on_sent(message, bell)) else {
        return crate::store::outbox::mark_sent(
            store,
            &message.claim,
            platform,
            platform_message_id,
            now,
        )
        .await;
    };
    let mut tx = store.begin().await?;
    crate::store::outbox::mark_sent_in(&mut tx, &message.claim, platform, platform_message_id, now)
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

#[cfg(test)]
mod tests {
    use super::*;

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
