//! Hand-off tickets: a conversation handed to a person.

use chrono::{DateTime, Utc};
use sqlx::Row;

use super::{Conn, StoreResult, parse_ts, ts};

#[derive(Debug, Clone, PartialEq)]
pub struct Ticket {
    pub id: i64,
    pub customer_id: String,
    pub platform: String,
    pub reason: String,
    pub broadcast_id: Option<String>,
    pub opened_at: DateTime<Utc>,
    pub first_response_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
}

const COLUMNS: &str =
    "id, customer_id, platform, reason, broadcast_id, opened_at, first_response_at, closed_at";

fn from_row(row: &sqlx::any::AnyRow) -> StoreResult<Ticket> {
    let opened: String = row.try_get("opened_at")?;
    let first: Option<String> = row.try_get("first_response_at")?;
    let closed: Option<String> = row.try_get("closed_at")?;
    Ok(Ticket {
        id: row.try_get("id")?,
        customer_id: row.try_get("customer_id")?,
        platform: row.try_get("platform")?,
        reason: row.try_get("reason")?,
        broadcast_id: row.try_get("broadcast_id")?,
        opened_at: parse_ts(&opened)?,
        first_response_at: first.as_deref().map(parse_ts).transpose()?,
        closed_at: closed.as_deref().map(parse_ts).transpose()?,
    })
}

pub async fn open_ticket_of(conn: &mut Conn, customer_id: &str) -> StoreResult<Option<Ticket>> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM tickets WHERE customer_id = $1 AND closed_at IS NULL ORDER BY id DESC LIMIT 1"
    ))
    .bind(customer_id)
    .fetch_optional(conn.db())
    .await?;
    row.as_ref().map(from_row).transpose()
}

pub async fn ticket(conn: &mut Conn, id: i64) -> StoreResult<Option<Ticket>> {
    let row = sqlx::query(&format!("SELECT {COLUMNS} FROM tickets WHERE id = $1"))
        .bind(id)
        .fetch_optional(conn.db())
        .await?;
    row.as_ref().map(from_row).transpose()
}

pub async fn open(
    conn: &mut Conn,
    customer_id: &str,
    platform: &str,
    reason: &str,
    broadcast_id: Option<&str>,
    now: DateTime<Utc>,
) -> StoreResult<i64> {
    let id = sqlx::query_scalar(
        "INSERT INTO tickets (customer_id, platform, reason, broadcast_id, opened_at, last_activity_at)
         VALUES ($1, $2, $3, $4, $5, $5) RETURNING id",
    )
    .bind(customer_id)
    .bind(platform)
    .bind(reason)
    .bind(broadcast_id)
    .bind(ts(now))
    .fetch_one(conn.db())
    .await?;
    Ok(id)
}

pub async fn touch(conn: &mut Conn, id: i64, now: DateTime<Utc>) -> StoreResult<()> {
    sqlx::query("UPDATE tickets SET last_activity_at = $1 WHERE id = $2")
        .bind(ts(now))
        .bind(id)
        .execute(conn.db())
        .await?;
    Ok(())
}

/// A staff member answered: the first answer is what the promise is measured by.
pub async fn answered(conn: &mut Conn, id: i64, now: DateTime<Utc>) -> StoreResult<()> {
    sqlx::query(
        "UPDATE tickets SET first_response_at = COALESCE(first_response_at, $1), last_activity_at = $1 WHERE id = $2",
    )
    .bind(ts(now))
    .bind(id)
    .execute(conn.db())
    .await?;
    Ok(())
}

/// Closes an open ticket; false when it was closed already (or never existed).
pub async fn close(
    conn: &mut Conn,
    id: i64,
    reason: &str,
    now: DateTime<Utc>,
) -> StoreResult<bool> {
    let done = sqlx::query(
        "UPDATE tickets SET closed_at = $1, close_reason = $2 WHERE id = $3 AND closed_at IS NULL",
    )
    .bind(ts(now))
    .bind(reason)
    .bind(id)
    .execute(conn.db())
    .await?;
    Ok(done.rows_affected() > 0)
}

/// Open tickets nobody answered, opened before `cutoff`, not reminded about yet. Marks them
/// reminded in the same statement, so a second scheduler never reminds twice.
pub async fn take_overdue(
    conn: &mut Conn,
    cutoff: DateTime<Utc>,
    now: DateTime<Utc>,
) -> StoreResult<Vec<Ticket>> {
    let rows = sqlx::query(&format!(
        "UPDATE tickets SET reminder_sent_at = $1, progress_note_sent_at = $1
         WHERE closed_at IS NULL AND first_response_at IS NULL AND reminder_sent_at IS NULL AND opened_at < $2
         RETURNING {COLUMNS}"
    ))
    .bind(ts(now))
    .bind(ts(cutoff))
    .fetch_all(conn.db())
    .await?;
    rows.iter().map(from_row).collect()
}

/// Open tickets with no activity since `cutoff`, closed in the same statement.
pub async fn close_idle(
    conn: &mut Conn,
    cutoff: DateTime<Utc>,
    now: DateTime<Utc>,
) -> StoreResult<Vec<Ticket>> {
    let rows = sqlx::query(&format!(
        "UPDATE tickets SET closed_at = $1, close_reason = 'idle'
         WHERE closed_at IS NULL AND last_activity_at < $2
         RETURNING {COLUMNS}"
    ))
    .bind(ts(now))
    .bind(ts(cutoff))
    .fetch_all(conn.db())
    .await?;
    rows.iter().map(from_row).collect()
}

/// Tickets about a broadcast, for the report.
pub async fn of_broadcast(conn: &mut Conn, broadcast_id: &str) -> StoreResult<Vec<Ticket>> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM tickets WHERE broadcast_id = $1"
    ))
    .bind(broadcast_id)
    .fetch_all(conn.db())
    .await?;
    rows.iter().map(from_row).collect()
}

/// Every open ticket, oldest first (the dashboard orders them by their promise).
pub async fn open_tickets(conn: &mut Conn) -> StoreResult<Vec<Ticket>> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM tickets WHERE closed_at IS NULL ORDER BY opened_at, id"
    ))
    .fetch_all(conn.db())
    .await?;
    rows.iter().map(from_row).collect()
}
