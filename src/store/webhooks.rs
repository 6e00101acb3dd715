//! The `events_out` table: events for the shop's `webhook_url`, written in the caller's
//! transaction and taken one at a time by the sender (`crate::events_out`).
//!
//! A row being posted is leased, not locked: taking it pushes `next_attempt_at` past the HTTP
//! time-out, so no transaction is held across the call, a second sender never posts it at the
//! same time, and a row whose sender died is simply due again when the lease ends.

use chrono::{DateTime, Utc};
use sqlx::Row;

use super::{Conn, Store, StoreResult, ts};

/// One event to record.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEventOut<'a> {
    pub id: &'a str,
    pub kind: &'a str,
    pub customer_id: Option<&'a str>,
    pub body: &'a str,
}

pub async fn insert(
    conn: &mut Conn,
    event: &NewEventOut<'_>,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO events_out (id, type, customer_id, body, state, attempts, next_attempt_at, created_at)
         VALUES ($1, $2, $3, $4, 'pending', 0, $5, $5)",
    )
    .bind(event.id)
    .bind(event.kind)
    .bind(event.customer_id)
    .bind(event.body)
    .bind(ts(now))
    .execute(conn.db())
    .await?;
    Ok(())
}

/// A row taken to be posted.
#[derive(Debug, Clone, PartialEq)]
pub struct TakenEvent {
    pub seq: i64,
    pub id: String,
    pub kind: String,
    pub body: String,
    /// Including this one.
    pub attempts: i64,
}

/// Takes the oldest due event, leasing it until `lease_until` and counting the attempt.
pub async fn take_next(
    store: &Store,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
) -> StoreResult<Option<TakenEvent>> {
    let row = sqlx::query(
        "UPDATE events_out SET next_attempt_at = $1, attempts = attempts + 1
         WHERE seq = (SELECT seq FROM events_out WHERE state = 'pending' AND next_attempt_at <= $2
                      ORDER BY seq LIMIT 1)
           -- Checked again on the row itself: on PostgreSQL a second taker that waited for
           -- this row's lock re-reads only these conditions, and must find it taken.
           AND state = 'pending' AND next_attempt_at <= $2
         RETURNING seq, id, type, body, attempts",
    )
    .bind(ts(lease_until))
    .bind(ts(now))
    .fetch_optional(store.pool())
    .await?;
    row.map(|row| {
        Ok(TakenEvent {
            seq: row.try_get("seq")?,
            id: row.try_get("id")?,
            kind: row.try_get("type")?,
            body: row.try_get("body")?,
            attempts: row.try_get("attempts")?,
        })
    })
    .transpose()
}

/// The shop has it. The body goes: it holds nothing the shop does not already have.
pub async fn mark_delivered(store: &Store, seq: i64, now: DateTime<Utc>) -> StoreResult<()> {
    sqlx::query(
        "UPDATE events_out SET state = 'delivered', delivered_at = $1, body = '', last_error = NULL
         WHERE seq = $2",
    )
    .bind(ts(now))
    .bind(seq)
    .execute(store.pool())
    .await?;
    Ok(())
}

/// Not this time: due again at `next_attempt_at`.
pub async fn retry_at(
    store: &Store,
    seq: i64,
    next_attempt_at: DateTime<Utc>,
    reason: &str,
) -> StoreResult<()> {
    sqlx::query("UPDATE events_out SET next_attempt_at = $1, last_error = $2 WHERE seq = $3")
        .bind(ts(next_attempt_at))
        .bind(reason)
        .bind(seq)
        .execute(store.pool())
        .await?;
    Ok(())
}

/// Put back untried (the sender stopped while the request was on the wire).
pub async fn release(store: &Store, seq: i64, now: DateTime<Utc>) -> StoreResult<()> {
    sqlx::query(
        "UPDATE events_out SET next_attempt_at = $1, attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END WHERE seq = $2",
    )
    .bind(ts(now))
    .bind(seq)
    .execute(store.pool())
    .await?;
    Ok(())
}

/// The last attempt failed too: given up, kept with the reason.
pub async fn give_up(store: &Store, seq: i64, reason: &str) -> StoreResult<()> {
    sqlx::query("UPDATE events_out SET state = 'failed', last_error = $1 WHERE seq = $2")
        .bind(reason)
        .bind(seq)
        .execute(store.pool())
        .await?;
    Ok(())
}

/// How many events are in each state (`/metrics`).
pub async fn count_by_state(store: &Store) -> StoreResult<Vec<(String, i64)>> {
    let rows = sqlx::query("SELECT state, COUNT(*) AS n FROM events_out GROUP BY state")
        .fetch_all(store.pool())
        .await?;
    rows.iter()
        .map(|row| Ok((row.try_get("state")?, row.try_get("n")?)))
        .collect()
}

/// The bodies of a customer's events not delivered yet, by sequence number.
pub async fn undelivered_of(conn: &mut Conn, customer_id: &str) -> StoreResult<Vec<(i64, String)>> {
    let rows = sqlx::query(
        "SELECT seq, body FROM events_out WHERE customer_id = $1 AND state <> 'delivered' ORDER BY seq",
    )
    .bind(customer_id)
    .fetch_all(conn.db())
    .await?;
    rows.iter()
        .map(|row| Ok((row.try_get("seq")?, row.try_get("body")?)))
        .collect()
}

pub async fn replace_body(conn: &mut Conn, seq: i64, body: &str) -> StoreResult<()> {
    sqlx::query("UPDATE events_out SET body = $1 WHERE seq = $2")
        .bind(body)
        .bind(seq)
        .execute(conn.db())
        .await?;
    Ok(())
}

/// The rows stop naming the customer (what is still to be sent keeps its body).
pub async fn unlink_customer(conn: &mut Conn, customer_id: &str) -> StoreResult<()> {
    sqlx::query("UPDATE events_out SET customer_id = NULL WHERE customer_id = $1")
        .bind(customer_id)
        .execute(conn.db())
        .await?;
    Ok(())
}

/// The code a `vip_code` message carried (`code_sends`, by the message's idempotency key):
/// `(code, campaign, customer_id)`.
pub async fn code_of_message(
    conn: &mut Conn,
    message_key: &str,
) -> StoreResult<Option<(String, Option<String>, String)>> {
    let row = sqlx::query(
        "SELECT code, campaign, customer_id FROM code_sends WHERE message_key = $1 LIMIT 1",
    )
    .bind(message_key)
    .fetch_optional(conn.db())
    .await?;
    row.map(|row| {
        Ok((
            row.try_get("code")?,
            row.try_get("campaign")?,
            row.try_get("customer_id")?,
        ))
    })
    .transpose()
}
