//! Events in: the shop's events (HTTP and CLI) become stored facts and flow decisions.
//!
//! A batch is all or nothing. Each event is idempotent by id (same id and body: a duplicate,
//! no effect; same id, other body: the batch is refused). An event that refers to an order or
//! customer not yet known waits (`pending`) and is applied when that order or customer arrives.
//! Every new event first passes the privacy screen (`flows::privacy::screen`): one about a
//! forgotten customer is accepted without effect, one naming a merged-away id applies to the
//! customer it was merged into.

use chrono::{DateTime, Utc};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::context::AppContext;
use crate::domain::events::{Event, EventBody, EventShapeError, parse_event};
use crate::flows::community::{self, AnnouncementStage};
use crate::flows::journeys::{self, LiveAlert};
use crate::flows::privacy::{self, Screened};
use crate::flows::{Effects, after_broadcast, customers as customer_flow, order_notes, vip};
use crate::store::events::{self as stored, EventSeen, NewEvent};
use crate::store::{Conn, StoreError, customers, orders};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct BatchOutcome {
    /// New events applied now.
    pub accepted: usize,
    /// Events seen before with the same body: no effect.
    pub duplicates: usize,
    /// New events waiting for the order or customer they refer to.
    pub pending: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("event {index}: {source}")]
    Shape {
        index: usize,
        #[source]
        source: EventShapeError,
    },
    #[error("event {index}: id `{id}` was used before for a different event")]
    Conflict { index: usize, id: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Applies a batch of raw event objects, all or nothing.
pub async fn ingest(ctx: &AppContext, raw: &[Value]) -> Result<BatchOutcome, IngestError> {
    let events = raw
        .iter()
        .enumerate()
        .map(|(index, value)| {
            parse_event(value).map_err(|source| IngestError::Shape { index, source })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let now = ctx.clock.now();
    let mut tx = ctx.store.begin().await?;
    let mut outcome = BatchOutcome::default();
    for (index, (event, value)) in events.iter().zip(raw).enumerate() {
        // serde_json's maps are sorted, so the same event always hashes the same.
        let payload = value.to_string();
        let hash = hex::encode(Sha256::digest(payload.as_bytes()));
        match stored::seen(&mut tx, &event.id, &hash).await? {
            EventSeen::Duplicate => outcome.duplicates += 1,
            EventSeen::Conflict => {
                return Err(IngestError::Conflict {
                    index,
                    id: event.id.clone(),
                });
            }
            EventSeen::New => {
                let Screened::Apply(event) = privacy::screen(&mut tx, event).await? else {
                    // Kept for its id and hash only (a replay stays a duplicate); its body names
                    // a forgotten customer and is not stored.
                    stored::insert(
                        &mut tx,
                        &NewEvent {
                            id: &event.id,
                            type_name: event.type_name(),
                            body_hash: &hash,
                            payload: "{}",
                            occurred_at: event.occurred_at,
                            waiting_for: None,
                        },
                        now,
                    )
                    .await?;
                    tracing::info!(
                        event_type = event.type_name(),
                        "an event about a forgotten customer was accepted without effect"
                    );
                    outcome.accepted += 1;
                    continue;
                };
                let event = event.as_ref();
                let waiting = missing_reference(&mut tx, event).await?;
                stored::insert(
                    &mut tx,
                    &NewEvent {
                        id: &event.id,
                        type_name: event.type_name(),
                        body_hash: &hash,
                        payload: &payload,
                        occurred_at: event.occurred_at,
                        waiting_for: waiting.as_deref(),
                    },
                    now,
                )
                .await?;
                if waiting.is_some() {
                    outcome.pending += 1;
                } else {
                    apply(ctx, &mut tx, event, now).await?;
                    outcome.accepted += 1;
                }
            }
        }
    }
    tx.commit().await?;
    ctx.outbox.wake().await;
    Ok(outcome)
}

/// What the event waits for, if it refers to something not yet known.
async fn missing_reference(conn: &mut Conn, event: &Event) -> Result<Option<String>, StoreError> {
    Ok(match &event.body {
        EventBody::OrderPlaced(e)
            if !customers::customer_exists(conn, &e.order.customer_id).await? =>
        {
            Some(format!("customer:{}", e.order.customer_id))
        }
        EventBody::CartAbandoned(e)
            if !customers::customer_exists(conn, &e.cart.customer_id).await? =>
        {
            Some(format!("customer:{}", e.cart.customer_id))
        }
        EventBody::OrderStatusChanged(e) if !orders::order_exists(conn, &e.order_id).await? => {
            Some(format!("order:{}", e.order_id))
        }
        // Merging into someone not known yet waits for them, like an order for them would.
        EventBody::CustomerMerged(e) if !customers::customer_exists(conn, &e.into).await? => {
            Some(format!("customer:{}", e.into))
        }
        _ => None,
    })
}

/// Applies one event, then whatever was waiting for what it created.
async fn apply(
    ctx: &AppContext,
    conn: &mut Conn,
    event: &Event,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    match apply_one(ctx, conn, event, now).await? {
        Some(key) => release_waiting(ctx, conn, &key, now).await,
        None => Ok(()),
    }
}

/// Applies the events that waited for `key` (`customer:<id>`, `order:<id>`), and in turn those
/// waiting for what they create. Also called by the CSV import.
pub async fn release_waiting(
    ctx: &AppContext,
    conn: &mut Conn,
    key: &str,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let mut keys = vec![key.to_string()];
    while let Some(key) = keys.pop() {
        for waiting in stored::waiting_for(conn, &key).await? {
            let parsed = serde_json::from_str::<Value>(&waiting.payload)
                .ok()
                .and_then(|v| parse_event(&v).ok());
            let Some(parsed) = parsed else {
                tracing::error!(event_id = %waiting.id, "a stored pending event no longer parses; left pending");
                continue;
            };
            // Screened again: its customer may have been merged or forgotten meanwhile.
            let Screened::Apply(parsed) = privacy::screen(conn, &parsed).await? else {
                crate::store::privacy::settle_event(conn, &waiting.id, now).await?;
                tracing::info!("a waiting event about a forgotten customer was dropped");
                continue;
            };
            let parsed = parsed.into_owned();
            // It may still wait for something else (an order whose customer is unknown).
            if let Some(other) = missing_reference(conn, &parsed).await? {
                stored::wait_for(conn, &waiting.id, &other).await?;
                continue;
            }
            stored::mark_applied(conn, &waiting.id, now).await?;
            if let Some(created) = apply_one(ctx, conn, &parsed, now).await? {
                keys.push(created);
            }
        }
    }
    Ok(())
}

/// Returns the key of what this event created, so events waiting for it can follow.
async fn apply_one(
    ctx: &AppContext,
    conn: &mut Conn,
    event: &Event,
    now: DateTime<Utc>,
) -> Result<Option<String>, StoreError> {
    match &event.body {
        EventBody::CustomerUpserted(e) => {
            customer_flow::customer_upserted(&ctx.config, conn, &e.customer, now).await?;
            Ok(Some(format!("customer:{}", e.customer.id)))
        }
        EventBody::BroadcastScheduled(e) => {
            let b = &e.broadcast;
            orders::upsert_broadcast(
                conn,
                &b.id,
                Some(&b.title),
                Some(b.starts_at),
                b.url.as_deref(),
                now,
            )
            .await?;
            let starts = crate::domain::policy::shop_minute(b.starts_at, ctx.config.shop.timezone);
            community::announce_broadcast(
                &ctx.roles.community_rooms(),
                conn,
                AnnouncementStage::Scheduled {
                    broadcast_id: &b.id,
                    title: &b.title,
                    starts_at: &starts,
                    url: b.url.as_deref(),
                },
                b.starts_at,
                now,
            )
            .await?;
            journeys::next_live_alerts(
                &ctx.config,
                conn,
                LiveAlert::Scheduled {
                    broadcast_id: &b.id,
                    title: &b.title,
                    starts_at: b.starts_at,
                    url: b.url.as_deref(),
                    lineup: &b.products,
                },
                now,
            )
            .await?;
            Ok(None)
        }
        EventBody::BroadcastStarted(e) => {
            let b = &e.broadcast;
            orders::upsert_broadcast(conn, &b.id, b.title.as_deref(), None, b.url.as_deref(), now)
                .await?;
            orders::mark_broadcast_started(conn, &b.id, event.occurred_at).await?;
            // The title and link the shop gave when it scheduled the live, unless told anew.
            let known = orders::broadcast(conn, &b.id).await?;
            let title = b
                .title
                .clone()
                .or_else(|| known.as_ref().and_then(|k| k.title.clone()))
                .unwrap_or_else(|| b.id.clone());
            let url = b
                .url
                .clone()
                .or_else(|| known.as_ref().and_then(|k| k.url.clone()));
            community::announce_broadcast(
                &ctx.roles.community_rooms(),
                conn,
                AnnouncementStage::Started {
                    broadcast_id: &b.id,
                    title: &title,
                    url: url.as_deref(),
                },
                event.occurred_at + chrono::Duration::hours(1),
                now,
            )
            .await?;
            journeys::next_live_alerts(
                &ctx.config,
                conn,
                LiveAlert::Started {
                    broadcast_id: &b.id,
                    title: &title,
                    started_at: event.occurred_at,
                    url: url.as_deref(),
                },
                now,
            )
            .await?;
            Ok(None)
        }
        EventBody::BroadcastEnded(e) => {
            let b = &e.broadcast;
            let ended_at = b.ended_at.unwrap_or(event.occurred_at);
            after_broadcast::thank_buyers_after_broadcast(
                &ctx.config,
                conn,
                &b.id,
                b.title.as_deref(),
                ended_at,
                now,
            )
            .await?;
            Ok(None)
        }
        EventBody::OrderPlaced(e) => {
            let placed_at = e.order.placed_at.unwrap_or(event.occurred_at);
            after_broadcast::order_placed(
                &ctx.config,
                conn,
                &e.order,
                placed_at,
                Effects::Notify,
                now,
            )
            .await?;
            vip::recompute_tier(
                &ctx.config,
                conn,
                &e.order.customer_id,
                Effects::Notify,
                now,
            )
            .await?;
            journeys::order_placed(
                &ctx.config,
                conn,
                &e.order.customer_id,
                &e.order.id,
                Effects::Notify,
                now,
            )
            .await?;
            Ok(Some(format!("order:{}", e.order.id)))
        }
        EventBody::OrderStatusChanged(e) => {
            order_notes::status_changed(
                &ctx.config,
                conn,
                e,
                event.occurred_at,
                "event",
                Effects::Notify,
                now,
            )
            .await?;
            if let Some(order) = orders::order(conn, &e.order_id).await? {
                vip::recompute_tier(&ctx.config, conn, &order.customer_id, Effects::Notify, now)
                    .await?;
            }
            Ok(None)
        }
        EventBody::CodePoolAdded(e) => {
            vip::add_codes(conn, &e.campaign, &e.codes, now).await?;
            Ok(None)
        }
        EventBody::CodeRedeemed(e) => {
            vip::code_redeemed(
                conn,
                &event.id,
                &e.code,
                &e.customer_id,
                e.order_id.as_deref(),
                event.occurred_at,
            )
            .await?;
            Ok(None)
        }
        EventBody::CartAbandoned(e) => {
            crate::store::carts::record_cart(conn, &e.cart, now).await?;
            Ok(None)
        }
        EventBody::ProductRelated(e) => {
            crate::store::picks::set_related(conn, &e.sku, &e.related, now).await?;
            Ok(None)
        }
        EventBody::ViewerEngaged(e) => {
            crate::store::report::record_viewer(
                conn,
                &e.broadcast_id,
                &e.customer_id,
                event.occurred_at,
            )
            .await?;
            journeys::viewer_engaged(conn, e, event.occurred_at, now).await?;
            Ok(None)
        }
        EventBody::CustomerMerged(e) => {
            privacy::customer_merged(&ctx.config, conn, &e.from, &e.into, now).await?;
            // Events that waited for the merged-away id apply to `into` now.
            Ok(Some(format!("customer:{}", e.from)))
        }
        EventBody::CustomerDeleted(e) => {
            privacy::forget_customer(&ctx.config, conn, &e.customer_id, now).await?;
            Ok(None)
        }
    }
}

/// `encore broadcast end`, `/ended`: the same effect as a `broadcast.ended` event.
pub async fn end_broadcast(ctx: &AppContext, broadcast_id: &str) -> Result<u64, StoreError> {
    let now = ctx.clock.now();
    let mut tx = ctx.store.begin().await?;
    let thanked = after_broadcast::thank_buyers_after_broadcast(
        &ctx.config,
        &mut tx,
        broadcast_id,
        None,
        now,
        now,
    )
    .await?;
    tx.commit().await?;
    ctx.outbox.wake().await;
    Ok(thanked)
}

/// Gives up on events that waited longer than `policy.pending_event_hours`.
pub async fn expire_pending_events(ctx: &AppContext) -> Result<usize, StoreError> {
    let hours = i64::from(ctx.config.policy.pending_event_hours);
    let cutoff = ctx.clock.now() - chrono::Duration::hours(hours);
    let mut tx = ctx.store.begin().await?;
    let expired = stored::expire_pending(&mut tx, cutoff).await?;
    tx.commit().await?;
    for id in &expired {
        tracing::warn!(event_id = %id, "pending event expired: what it refers to never arrived");
    }
    Ok(expired.len())
}
