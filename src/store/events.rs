//! Events received from the shop (idempotency by event id, pending events) and platform updates
//! already processed.

use chrono::{DateTime, Utc};
use sqlx::Row;

use super::{Conn, StoreResult, ts};
use crate::domain::Platform;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventSeen {
    New,
    /// Same id, same body: counted, no effect.
    Duplicate,
    /// Same id, another body: the request is refused.
    Conflict,
}

pub async fn seen(conn: &mut Conn, id: &str, body_hash: &str) -> StoreResult<EventSeen> {
    let stored: Option<String> = sqlx::query_scalar("SELECT body_hash FROM events WHERE id = $1")
        .bind(id)
        .fetch_optional(conn.db())
        .await?;
    Ok(match stored {
        None => EventSeen::New,
        Some(hash) if hash == body_hash => EventSeen::Duplicate,
        Some(_) => EventSeen::Conflict,
    })
}

pub struct NewEvent<'a> {
    pub id: &'a str,
    pub type_name: &'a str,
    pub body_hash: &'a str,
    pub payload: &'a str,
    pub occurred_at: DateTime<Utc>,
    /// `Some("order:o-1")` when the event waits for what it refers to.
    pub waiting_for: Option<&'a str>,
}

pub async fn insert(conn: &mut Conn, event: &NewEvent<'_>, now: DateTime<Utc>) -> StoreResult<()> {
    let (state, applied_at) = match event.waiting_for {
        Some(_) => ("pending", None),
        None => ("applied", Some(ts(now))),
    };
    sqlx::query(
        "INSERT INTO events (id, type, body_hash, payload, occurred_at, received_at, state, waiting_for, applied_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(event.id)
    .bind(event.type_name)
    .bind(event.body_hash)
    .bind(event.payload)
    .bind(ts(event.occurred_at))
    .bind(ts(now))
    .bind(state)
    .bind(event.waiting_for)
    .bind(applied_at)
    .execute(conn.db())
    .await?;
    Ok(())
}

/// A pending event, to be applied now that what it waited for exists.
pub struct PendingEvent {
    pub id: String,
    pub payload: String,
}

/// Events waiting for `key`, in the order they happened.
pub async fn waiting_for(conn: &mut Conn, key: &str) -> StoreResult<Vec<PendingEvent>> {
    let rows = sqlx::query(
        "SELECT id, payload FROM events WHERE state = 'pending' AND waiting_for = $1 ORDER BY occurred_at, received_at, id",
    )
    .bind(key)
    .fetch_all(conn.db())
    .await?;
    rows.iter()
        .map(|row| {
            Ok(PendingEvent {
                id: row.try_get("id")?,
                payload: row.try_get("payload")?,
            })
        })
        .collect()
}

pub async fn mark_applied(conn: &mut Conn, id: &str, now: DateTime<Utc>) -> StoreResult<()> {
    sqlx::query(
        "UPDATE events SET state = 'applied', waiting_for = NULL, applied_at = $1 WHERE id = $2",
    )
    .bind(ts(now))
    .bind(id)
    .execute(conn.db())
    .await?;
    Ok(())
}

/// Still waiting, but for something else now (an order that arrived but whose customer did not).
pub async fn wait_for(conn: &mut Conn, id: &str, key: &str) -> StoreResult<()> {
    sqlx::query("UPDATE events SET waiting_for = $1 WHERE id = $2")
        .bind(key)
        .bind(id)
        .execute(conn.db())
        .await?;
    Ok(())
}

/// Gives up on events that waited longer than `policy.pending_event_hours`; returns their ids.
pub async fn expire_pending(
    conn: &mut Conn,
    received_before: DateTime<Utc>,
) -> StoreResult<Vec<String>> {
    let ids = sqlx::query_scalar(
        "UPDATE events SET state = 'expired' WHERE state = 'pending' AND received_at < $1 RETURNING id",
    )
    .bind(ts(received_before))
    .fetch_all(conn.db())
    .await?;
    Ok(ids)
}

pub async fn count_by_state(conn: &mut Conn, state: &str) -> StoreResult<i64> {
    let n = sqlx::query_scalar("SELECT COUNT(*) FROM events WHERE state = $1")
        .bind(state)
        .fetch_one(conn.db())
        .await?;
    Ok(n)
}

/// Records a platform update as processed. Returns false when it was processed before (the
/// platform re-delivered it, e.g. after a crash): the caller then does nothing.
pub async fn record_update(
    conn: &mut Conn,
    platform: Platform,
    update_id: &str,
    now: DateTime<Utc>,
) -> StoreResult<bool> {
    let done = sqlx::query(
        "INSERT INTO processed_updates (platform, update_id, processed_at) VALUES ($1, $2, $3)
         ON CONFLICT (platform, update_id) DO NOTHING",
    )
    .bind(platform.as_str())
    .bind(update_id)
    .bind(ts(now))
    .execute(conn.db())
    .await?;
    Ok(done.rows_affected() > 0)
}
