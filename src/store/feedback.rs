//! Ratings and comments, and the small per-viewer conversation state around them (a comment
//! awaited after a rating, FAQ misses in a row) and the last messages a viewer wrote.

use chrono::{DateTime, Utc};
use sqlx::Row;

use super::{Conn, StoreResult, parse_ts, ts};

#[derive(Debug, Clone, PartialEq)]
pub struct Feedback {
    pub id: i64,
    pub subject: String,
    pub subject_id: String,
    pub broadcast_id: Option<String>,
    pub customer_id: String,
    pub rating: i64,
    pub comment: Option<String>,
}

fn feedback_from_row(row: &sqlx::any::AnyRow) -> StoreResult<Feedback> {
    Ok(Feedback {
        id: row.try_get("id")?,
        subject: row.try_get("subject")?,
        subject_id: row.try_get("subject_id")?,
        broadcast_id: row.try_get("broadcast_id")?,
        customer_id: row.try_get("customer_id")?,
        rating: row.try_get("rating")?,
        comment: row.try_get("comment")?,
    })
}

const FEEDBACK_COLUMNS: &str =
    "id, subject, subject_id, broadcast_id, customer_id, rating, comment";

/// Records a rating; a second press on the same subject changes it, never adds one.
/// Returns the feedback id and whether it changed an earlier rating.
pub async fn rate(
    conn: &mut Conn,
    subject: &str,
    subject_id: &str,
    broadcast_id: Option<&str>,
    customer_id: &str,
    rating: i64,
    now: DateTime<Utc>,
) -> StoreResult<(i64, bool)> {
    let existing: Option<i64> = sqlx::query_scalar(
        "SELECT id FROM feedback WHERE subject = $1 AND subject_id = $2 AND customer_id = $3",
    )
    .bind(subject)
    .bind(subject_id)
    .bind(customer_id)
    .fetch_optional(conn.db())
    .await?;
    if let Some(id) = existing {
        sqlx::query("UPDATE feedback SET rating = $1, updated_at = $2 WHERE id = $3")
            .bind(rating)
            .bind(ts(now))
            .bind(id)
            .execute(conn.db())
            .await?;
        return Ok((id, true));
    }
    let id = sqlx::query_scalar(
        "INSERT INTO feedback (subject, subject_id, broadcast_id, customer_id, rating, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING id",
    )
    .bind(subject)
    .bind(subject_id)
    .bind(broadcast_id)
    .bind(customer_id)
    .bind(rating)
    .bind(ts(now))
    .fetch_one(conn.db())
    .await?;
    Ok((id, false))
}

pub async fn set_comment(
    conn: &mut Conn,
    id: i64,
    comment: &str,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    sqlx::query("UPDATE feedback SET comment = $1, updated_at = $2 WHERE id = $3")
        .bind(comment)
        .bind(ts(now))
        .bind(id)
        .execute(conn.db())
        .await?;
    Ok(())
}

pub async fn feedback(conn: &mut Conn, id: i64) -> StoreResult<Option<Feedback>> {
    let row = sqlx::query(&format!(
        "SELECT {FEEDBACK_COLUMNS} FROM feedback WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(conn.db())
    .await?;
    row.as_ref().map(feedback_from_row).transpose()
}

/// Every rating given about a broadcast (what `/reflected BROADCAST_ID` reaches).
pub async fn on_broadcast(conn: &mut Conn, broadcast_id: &str) -> StoreResult<Vec<Feedback>> {
    let rows = sqlx::query(&format!(
        "SELECT {FEEDBACK_COLUMNS} FROM feedback WHERE subject = 'broadcast' AND subject_id = $1 ORDER BY id"
    ))
    .bind(broadcast_id)
    .fetch_all(conn.db())
    .await?;
    rows.iter().map(feedback_from_row).collect()
}

// ---- conversation state -----------------------------------------------------------------

async fn ensure_state(conn: &mut Conn, customer_id: &str, now: DateTime<Utc>) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO conversation_state (customer_id, updated_at) VALUES ($1, $2)
         ON CONFLICT (customer_id) DO NOTHING",
    )
    .bind(customer_id)
    .bind(ts(now))
    .execute(conn.db())
    .await?;
    Ok(())
}

/// After a rating, the viewer's next free text (until `until`) is taken as its comment.
pub async fn await_comment(
    conn: &mut Conn,
    customer_id: &str,
    feedback_id: i64,
    until: DateTime<Utc>,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    ensure_state(conn, customer_id, now).await?;
    sqlx::query(
        "UPDATE conversation_state SET awaiting_comment_for = $1, awaiting_comment_until = $2, updated_at = $3
         WHERE customer_id = $4",
    )
    .bind(feedback_id)
    .bind(ts(until))
    .bind(ts(now))
    .bind(customer_id)
    .execute(conn.db())
    .await?;
    Ok(())
}

/// The feedback a comment is awaited for, if the window is still open.
pub async fn awaited_comment(
    conn: &mut Conn,
    customer_id: &str,
    now: DateTime<Utc>,
) -> StoreResult<Option<i64>> {
    let row = sqlx::query(
        "SELECT awaiting_comment_for, awaiting_comment_until FROM conversation_state WHERE customer_id = $1",
    )
    .bind(customer_id)
    .fetch_optional(conn.db())
    .await?;
    let Some(row) = row else { return Ok(None) };
    let id: Option<i64> = row.try_get("awaiting_comment_for")?;
    let until: Option<String> = row.try_get("awaiting_comment_until")?;
    match (id, until) {
        (Some(id), Some(until)) if parse_ts(&until)? > now => Ok(Some(id)),
        _ => Ok(None),
    }
}

pub async fn stop_awaiting_comment(conn: &mut Conn, customer_id: &str) -> StoreResult<()> {
    sqlx::query(
        "UPDATE conversation_state SET awaiting_comment_for = NULL, awaiting_comment_until = NULL WHERE customer_id = $1",
    )
    .bind(customer_id)
    .execute(conn.db())
    .await?;
    Ok(())
}

/// Counts an unanswered question; returns how many in a row now.
pub async fn faq_missed(
    conn: &mut Conn,
    customer_id: &str,
    now: DateTime<Utc>,
) -> StoreResult<i64> {
    ensure_state(conn, customer_id, now).await?;
    let misses = sqlx::query_scalar(
        "UPDATE conversation_state SET faq_misses = faq_misses + 1, updated_at = $1 WHERE customer_id = $2
         RETURNING faq_misses",
    )
    .bind(ts(now))
    .bind(customer_id)
    .fetch_one(conn.db())
    .await?;
    Ok(misses)
}

pub async fn faq_answered(conn: &mut Conn, customer_id: &str) -> StoreResult<()> {
    sqlx::query("UPDATE conversation_state SET faq_misses = 0 WHERE customer_id = $1")
        .bind(customer_id)
        .execute(conn.db())
        .await?;
    Ok(())
}

// ---- what the viewer wrote lately (for the ticket card) ----------------------------------

const KEEP_MESSAGES: i64 = 20;

pub async fn remember_message(
    conn: &mut Conn,
    customer_id: &str,
    text: &str,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    sqlx::query("INSERT INTO viewer_messages (customer_id, text, at) VALUES ($1, $2, $3)")
        .bind(customer_id)
        .bind(text)
        .bind(ts(now))
        .execute(conn.db())
        .await?;
    sqlx::query(
        "DELETE FROM viewer_messages WHERE customer_id = $1 AND id NOT IN
           (SELECT id FROM viewer_messages WHERE customer_id = $1 ORDER BY id DESC LIMIT $2)",
    )
    .bind(customer_id)
    .bind(KEEP_MESSAGES)
    .execute(conn.db())
    .await?;
    Ok(())
}

/// The last `n` messages, oldest first.
pub async fn last_messages(conn: &mut Conn, customer_id: &str, n: i64) -> StoreResult<Vec<String>> {
    let mut texts: Vec<String> = sqlx::query_scalar(
        "SELECT text FROM viewer_messages WHERE customer_id = $1 ORDER BY id DESC LIMIT $2",
    )
    .bind(customer_id)
    .bind(n)
    .fetch_all(conn.db())
    .await?;
    texts.reverse();
    Ok(texts)
}

// ---- FAQ answers in rooms ------------------------------------------------------------------

/// Whether the room may get this answer now (at most once per `every` per room and entry);
/// records it when it may.
pub async fn may_answer_in_room(
    conn: &mut Conn,
    platform: &str,
    chat_id: &str,
    entry_id: &str,
    now: DateTime<Utc>,
    every: chrono::Duration,
) -> StoreResult<bool> {
    let last: Option<String> = sqlx::query_scalar(
        "SELECT answered_at FROM room_answers WHERE platform = $1 AND chat_id = $2 AND entry_id = $3",
    )
    .bind(platform)
    .bind(chat_id)
    .bind(entry_id)
    .fetch_optional(conn.db())
    .await?;
    if let Some(last) = last
        && parse_ts(&last)? + every > now
    {
        return Ok(false);
    }
    sqlx::query(
        "INSERT INTO room_answers (platform, chat_id, entry_id, answered_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (platform, chat_id, entry_id) DO UPDATE SET answered_at = excluded.answered_at",
    )
    .bind(platform)
    .bind(chat_id)
    .bind(entry_id)
    .bind(ts(now))
    .execute(conn.db())
    .await?;
    Ok(true)
}
