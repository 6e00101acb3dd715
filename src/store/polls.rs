//! Community polls: the polls staff asked (numbered 1, 2, 3 …), where each was posted, and one
//! vote a member (platform and voter), changeable. Votes from every platform add up in one
//! result. The store decides nothing: `flows::polls` says what counts.

use chrono::{DateTime, Utc};
use sqlx::Row;

use super::{Conn, Store, StoreError, StoreResult, parse_ts, ts};
use crate::domain::Platform;
use crate::domain::polls::PollQuestion;

/// A poll as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Poll {
    /// The poll's number, `#3` in the staff chat.
    pub number: i64,
    pub question: String,
    pub options: Vec<String>,
    pub opened_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
}

/// Stores a new poll, open from `now`; returns its number.
pub async fn open(
    conn: &mut Conn,
    poll: &PollQuestion,
    asked_on: Platform,
    now: DateTime<Utc>,
) -> StoreResult<i64> {
    let options = serde_json::to_string(&poll.options)
        .map_err(|err| StoreError::Corrupt(format!("poll options cannot be written: {err}")))?;
    let number = sqlx::query_scalar(
        "INSERT INTO polls (question, options, asked_on, opened_at) VALUES ($1, $2, $3, $4)
         RETURNING id",
    )
    .bind(&poll.question)
    .bind(options)
    .bind(asked_on.as_str())
    .bind(ts(now))
    .fetch_one(conn.db())
    .await?;
    Ok(number)
}

/// The poll with this number, if there is one.
pub async fn poll(conn: &mut Conn, number: i64) -> StoreResult<Option<Poll>> {
    let row =
        sqlx::query("SELECT id, question, options, opened_at, closed_at FROM polls WHERE id = $1")
            .bind(number)
            .fetch_optional(conn.db())
            .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let options: String = row.try_get("options")?;
    let closed_at: Option<String> = row.try_get("closed_at")?;
    Ok(Some(Poll {
        number: row.try_get("id")?,
        question: row.try_get("question")?,
        options: serde_json::from_str(&options)
            .map_err(|err| StoreError::Corrupt(format!("poll {number}'s options: {err}")))?,
        opened_at: parse_ts(&row.try_get::<String, _>("opened_at")?)?,
        closed_at: closed_at.as_deref().map(parse_ts).transpose()?,
    }))
}

/// Closes an open poll; false when it was closed already (or does not exist).
pub async fn close(conn: &mut Conn, number: i64, now: DateTime<Utc>) -> StoreResult<bool> {
    let done = sqlx::query("UPDATE polls SET closed_at = $1 WHERE id = $2 AND closed_at IS NULL")
        .bind(ts(now))
        .bind(number)
        .execute(conn.db())
        .await?;
    Ok(done.rows_affected() > 0)
}

/// Where a poll was posted: the room, the platform's message and, for a native poll, the
/// platform's poll id (Telegram's answers name it). Recorded by the dispatcher once the
/// platform accepted it; a second record of the same post changes nothing.
pub struct Post<'a> {
    pub number: i64,
    pub platform: Platform,
    pub chat_id: &'a str,
    pub message_id: &'a str,
    pub platform_poll_id: Option<&'a str>,
}

pub async fn record_post(store: &Store, post: &Post<'_>, now: DateTime<Utc>) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO poll_posts (poll_id, platform, chat_id, message_id, platform_poll_id, posted_at)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (poll_id, platform, chat_id) DO NOTHING",
    )
    .bind(post.number)
    .bind(post.platform.as_str())
    .bind(post.chat_id)
    .bind(post.message_id)
    .bind(post.platform_poll_id)
    .bind(ts(now))
    .execute(store.pool())
    .await?;
    Ok(())
}

/// The number of the poll a platform's native poll is.
pub async fn poll_of_native(
    conn: &mut Conn,
    platform: Platform,
    platform_poll_id: &str,
) -> StoreResult<Option<i64>> {
    let number = sqlx::query_scalar(
        "SELECT poll_id FROM poll_posts WHERE platform = $1 AND platform_poll_id = $2",
    )
    .bind(platform.as_str())
    .bind(platform_poll_id)
    .fetch_optional(conn.db())
    .await?;
    Ok(number)
}

/// A member's vote, `option` 0-based: their first, or a change of mind.
pub async fn vote(
    conn: &mut Conn,
    number: i64,
    platform: Platform,
    voter_id: &str,
    option: usize,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let option = i64::try_from(option)
        .map_err(|_| StoreError::Corrupt(format!("option {option} is out of range")))?;
    sqlx::query(
        "INSERT INTO poll_votes (poll_id, platform, voter_id, option_index, voted_at)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (poll_id, platform, voter_id)
         DO UPDATE SET option_index = excluded.option_index, voted_at = excluded.voted_at",
    )
    .bind(number)
    .bind(platform.as_str())
    .bind(voter_id)
    .bind(option)
    .bind(ts(now))
    .execute(conn.db())
    .await?;
    Ok(())
}

/// A member took their vote back.
pub async fn retract(
    conn: &mut Conn,
    number: i64,
    platform: Platform,
    voter_id: &str,
) -> StoreResult<()> {
    sqlx::query("DELETE FROM poll_votes WHERE poll_id = $1 AND platform = $2 AND voter_id = $3")
        .bind(number)
        .bind(platform.as_str())
        .bind(voter_id)
        .execute(conn.db())
        .await?;
    Ok(())
}

/// Votes per option (`votes[i]` for option `i`) on every platform together.
pub async fn tally(conn: &mut Conn, number: i64, options: usize) -> StoreResult<Vec<i64>> {
    let rows = sqlx::query(
        "SELECT option_index, COUNT(*) AS votes FROM poll_votes WHERE poll_id = $1
         GROUP BY option_index",
    )
    .bind(number)
    .fetch_all(conn.db())
    .await?;
    let mut votes = vec![0; options];
    for row in rows {
        let index: i64 = row.try_get("option_index")?;
        let count: i64 = row.try_get("votes")?;
        if let Some(slot) = usize::try_from(index).ok().and_then(|i| votes.get_mut(i)) {
            *slot = count;
        }
    }
    Ok(votes)
}

/// Forgetting: the votes of these accounts stay counted under `pseudonym` (results and report
/// counts do not change), without the platform ids.
pub async fn pseudonymise_voter(
    conn: &mut Conn,
    platform: &str,
    voter_id: &str,
    pseudonym: &str,
) -> StoreResult<()> {
    sqlx::query("UPDATE poll_votes SET voter_id = $1 WHERE platform = $2 AND voter_id = $3")
        .bind(pseudonym)
        .bind(platform)
        .bind(voter_id)
        .execute(conn.db())
        .await?;
    Ok(())
}

/// For the period report: polls asked and closed since `since`, and the votes standing in the
/// polls asked since then.
pub async fn counts_since(conn: &mut Conn, since: DateTime<Utc>) -> StoreResult<(i64, i64, i64)> {
    let row = sqlx::query(
        "SELECT
           (SELECT COUNT(*) FROM polls WHERE opened_at >= $1) AS asked,
           (SELECT COUNT(*) FROM polls WHERE closed_at >= $1) AS closed,
           (SELECT COUNT(*) FROM poll_votes v JOIN polls p ON p.id = v.poll_id
             WHERE p.opened_at >= $1) AS votes",
    )
    .bind(ts(since))
    .fetch_one(conn.db())
    .await?;
    Ok((
        row.try_get("asked")?,
        row.try_get("closed")?,
        row.try_get("votes")?,
    ))
}
