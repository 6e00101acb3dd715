//! Order notes: each status change a buyer should hear about (and each new delay date) gets its
//! own note; a replayed event sends nothing new.

use chrono::{DateTime, NaiveDate, Utc};

use super::Effects;
use crate::config::Config;
use crate::domain::events::{Delay, OrderStatusChanged};
use crate::domain::keys::IdemKey;
use crate::domain::{Flow, Lane, OrderStatus};
use crate::outbox::{self, Envelope, Payload, Recipient};
use crate::store::orders::{self, StatusApplied};
use crate::store::{Conn, StoreResult};

/// A note about one order. The key names the order, the status and — for a delay — the new
/// date, so a second delay with a new date is a new note and a replay is not.
pub fn note(
    order_id: &str,
    customer_id: &str,
    broadcast_id: Option<&str>,
    status: &str,
    delay_eta: Option<NaiveDate>,
) -> Envelope {
    Envelope {
        key: IdemKey::OrderNote {
            status: status.to_string(),
            delay_eta,
            order_id: order_id.to_string(),
        },
        to: Recipient::Customer(customer_id.to_string()),
        flow: Flow::OrderNote,
        lane: Lane::Bulk,
        payload: Payload::OrderNote {
            order_id: order_id.to_string(),
            status: status.to_string(),
        },
        broadcast_id: broadcast_id.map(str::to_string),
        expires_at: None,
    }
}

/// `order.status_changed`: applies the status if it is newer than the stored one and, when the
/// buyer should hear about it, enqueues the note. Returns whether the status was applied.
pub async fn status_changed(
    config: &Config,
    conn: &mut Conn,
    change: &OrderStatusChanged,
    occurred_at: DateTime<Utc>,
    source: &str,
    effects: Effects,
    now: DateTime<Utc>,
) -> StoreResult<bool> {
    let applied = orders::apply_status(conn, change, occurred_at, source, now).await?;
    let StatusApplied::Applied { .. } = applied else {
        return Ok(false);
    };
    if effects == Effects::Silent || !change.status.deserves_a_note() {
        return Ok(true);
    }
    let Some(order) = orders::order(conn, &change.order_id).await? else {
        return Ok(true);
    };
    if !crate::store::customers::reachable_for_notes(
        conn,
        &order.customer_id,
        config.notes_by_phone(),
    )
    .await?
    {
        // Not linked (and no number KakaoTalk takes): the viewer sees the order's state in the
        // thank-you when they link.
        return Ok(true);
    }
    // Only a delay names its date: a second delay with a new date is a new note.
    let delay_eta = order
        .delay_eta
        .filter(|_| change.status == OrderStatus::Delayed);
    let envelope = note(
        &order.id,
        &order.customer_id,
        order.broadcast_id.as_deref(),
        &change.status.to_string(),
        delay_eta,
    );
    let envelope = Envelope {
        payload: Payload::OrderNote {
            order_id: order.id.clone(),
            status: change.status.to_string(),
        },
        ..envelope
    };
    outbox::enqueue(conn, envelope, now).await?;
    Ok(true)
}

/// Staff `/delay BROADCAST DATE reason…`: every open order of the broadcast becomes delayed
/// with that reason and date, and its buyer gets the delay note. Returns how many orders.
pub async fn delay_broadcast_orders(
    config: &Config,
    conn: &mut Conn,
    broadcast_id: &str,
    new_eta: NaiveDate,
    reason: &str,
    now: DateTime<Utc>,
) -> StoreResult<usize> {
    let open = orders::open_order_ids_of_broadcast(conn, broadcast_id).await?;
    for order_id in &open {
        let change = OrderStatusChanged {
            order_id: order_id.clone(),
            status: OrderStatus::Delayed,
            tracking: None,
            delay: Some(Delay {
                reason: reason.to_string(),
                new_eta,
            }),
            payment_deadline: None,
        };
        status_changed(config, conn, &change, now, "staff", Effects::Notify, now).await?;
    }
    Ok(open.len())
}
