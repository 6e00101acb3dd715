//! After the broadcast: one thank-you per buyer per broadcast, naming all their orders in it.
//! Thanking viewers who did not buy is advertising and belongs to the consent flow.

use chrono::{DateTime, Duration, Utc};

use super::Effects;
use crate::config::Config;
use crate::domain::events::OrderRecord;
use crate::domain::keys::IdemKey;
use crate::domain::{Flow, Lane, OutboxState};
use crate::outbox::{self, Envelope, Payload, Recipient, payload_json};
use crate::store::outbox as rows;
use crate::store::{Conn, StoreResult};
use crate::store::{customers, orders};

/// How far back a newly linked viewer's missed thank-yous go (CONTRACT §4).
pub const MISSED_NOTES_DAYS: i64 = 14;

fn thank_you_key(broadcast_id: &str, customer_id: &str) -> IdemKey {
    IdemKey::ThankYou {
        broadcast_id: broadcast_id.to_string(),
        customer_id: customer_id.to_string(),
    }
}

fn thank_you(broadcast_id: &str, customer_id: &str, lane: Lane) -> Envelope {
    Envelope {
        key: thank_you_key(broadcast_id, customer_id),
        to: Recipient::Customer(customer_id.to_string()),
        flow: Flow::ThankYou,
        lane,
        payload: Payload::ThankYou {
            broadcast_id: broadcast_id.to_string(),
        },
        broadcast_id: Some(broadcast_id.to_string()),
        expires_at: None,
    }
}

/// `broadcast.ended`, `encore broadcast end`, `/ended`: records the end and thanks every buyer a
/// note can reach once — linked, or with a phone number when KakaoTalk is on. A second end
/// thanks nobody twice. Returns how many thank-yous were enqueued.
pub async fn thank_buyers_after_broadcast(
    config: &Config,
    conn: &mut Conn,
    broadcast_id: &str,
    title: Option<&str>,
    ended_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> StoreResult<u64> {
    orders::upsert_broadcast(conn, broadcast_id, title, None, None, now).await?;
    orders::mark_broadcast_ended(conn, broadcast_id, ended_at).await?;
    let payload = payload_json(&Payload::ThankYou {
        broadcast_id: broadcast_id.to_string(),
    });
    rows::enqueue_thank_yous(
        conn,
        broadcast_id,
        &payload,
        Lane::Bulk.as_i64(),
        config.notes_by_phone(),
        now,
    )
    .await
}

/// `order.placed` (and imported orders): stores the order; if its broadcast already ended, the
/// buyer is thanked right away — or, if they were thanked already, gets a short order note.
pub async fn order_placed(
    config: &Config,
    conn: &mut Conn,
    order: &OrderRecord,
    placed_at: DateTime<Utc>,
    effects: Effects,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let new = orders::upsert_order(conn, order, placed_at, now).await?;
    let Some(broadcast_id) = order.broadcast_id.as_deref().filter(|b| !b.is_empty()) else {
        return Ok(());
    };
    orders::upsert_broadcast(conn, broadcast_id, None, None, None, now).await?;
    if !new
        || effects == Effects::Silent
        || !customers::reachable_for_notes(conn, &order.customer_id, config.notes_by_phone())
            .await?
    {
        return Ok(());
    }
    let ended = orders::broadcast(conn, broadcast_id)
        .await?
        .and_then(|b| b.ended_at)
        .is_some();
    if !ended {
        return Ok(());
    }
    let key = thank_you_key(broadcast_id, &order.customer_id);
    match rows::state_of(conn, &key).await? {
        // Not thanked yet: the thank-you names this order too.
        None => {
            outbox::enqueue(
                conn,
                thank_you(broadcast_id, &order.customer_id, Lane::Bulk),
                now,
            )
            .await?;
        }
        // Not rendered yet (rendering and `sending` are one transaction in the dispatcher): it
        // will name this order.
        Some(OutboxState::Queued | OutboxState::Claimed) => {}
        // Nothing was sent (nothing to thank for then, no messenger linked then, or no
        // KakaoTalk template then): now there may be, so the same thank-you goes out after all.
        Some(OutboxState::Cancelled | OutboxState::Unreachable | OutboxState::NoTemplate) => {
            rows::requeue_unsent(conn, &key, now).await?;
        }
        // Thanked already: a short note instead of a second thank-you.
        Some(_) => {
            let note = super::order_notes::note(
                &order.id,
                &order.customer_id,
                Some(broadcast_id),
                "placed",
                None,
            );
            outbox::enqueue(conn, note, now).await?;
        }
    }
    Ok(())
}

/// After linking: the thank-yous of the last 14 days the viewer missed, in the interactive lane
/// so they follow the welcome in order.
pub async fn send_missed_thank_yous(
    conn: &mut Conn,
    customer_id: &str,
    now: DateTime<Utc>,
) -> StoreResult<u64> {
    let since = now - Duration::days(MISSED_NOTES_DAYS);
    let mut enqueued = 0;
    for broadcast_id in orders::recent_broadcasts_of_customer(conn, customer_id, since).await? {
        let envelope = thank_you(&broadcast_id, customer_id, Lane::Interactive);
        let key = envelope.key.clone();
        // One that found no way then (no KakaoTalk template for a buyer who gave only a
        // number) goes now, to the account just linked.
        if outbox::enqueue(conn, envelope, now).await?
            || rows::requeue_unsent(conn, &key, now).await?
        {
            enqueued += 1;
        }
    }
    Ok(enqueued)
}
