//! Community rooms: members (when they joined, which welcome named them) and moderation mutes.

use chrono::{DateTime, Utc};
use sqlx::Row;

use super::{Conn, StoreResult, parse_ts, ts};

/// Records a member who joined; returns true when they are new to this room (a person seen
/// both as a `chat_member` update and a `new_chat_members` message is recorded once).
pub async fn member_joined(
    conn: &mut Conn,
    platform: &str,
    chat_id: &str,
    user_id: &str,
    name: &str,
    lang: Option<&str>,
    now: DateTime<Utc>,
) -> StoreResult<bool> {
    let done = sqlx::query(
        "INSERT INTO room_members (platform, chat_id, user_id, name, lang, joined_at)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (platform, chat_id, user_id) DO NOTHING",
    )
    .bind(platform)
    .bind(chat_id)
    .bind(user_id)
    .bind(name)
    .bind(lang)
    .bind(ts(now))
    .execute(conn.db())
    .await?;
    Ok(done.rows_affected() > 0)
}

/// When the member last joined one of our rooms, if we saw it (on Discord people join the
/// guild, not a channel).
pub async fn joined_at(
    conn: &mut Conn,
    platform: &str,
    user_id: &str,
) -> StoreResult<Option<DateTime<Utc>>> {
    let at: Option<String> = sqlx::query_scalar(
        "SELECT MAX(joined_at) FROM room_members WHERE platform = $1 AND user_id = $2",
    )
    .bind(platform)
    .bind(user_id)
    .fetch_one(conn.db())
    .await?;
    at.as_deref().map(parse_ts).transpose()
}

/// A member a welcome names.
#[derive(Debug, Clone, PartialEq)]
pub struct Newcomer {
    pub name: String,
    pub lang: Option<String>,
}

/// Everyone in the room not yet named by a welcome is named by this one (`welcome_id` is its
/// outbox id); a second call for the same welcome (a retry after a crash) returns the same
/// people. In order of joining.
pub async fn claim_newcomers(
    conn: &mut Conn,
    platform: &str,
    chat_id: &str,
    welcome_id: i64,
) -> StoreResult<Vec<Newcomer>> {
    sqlx::query(
        "UPDATE room_members SET welcome_id = $1
         WHERE platform = $2 AND chat_id = $3 AND welcome_id IS NULL",
    )
    .bind(welcome_id)
    .bind(platform)
    .bind(chat_id)
    .execute(conn.db())
    .await?;
    let rows = sqlx::query(
        "SELECT name, lang FROM room_members WHERE welcome_id = $1 AND platform = $2 AND chat_id = $3
         ORDER BY joined_at, user_id",
    )
    .bind(welcome_id)
    .bind(platform)
    .bind(chat_id)
    .fetch_all(conn.db())
    .await?;
    rows.iter()
        .map(|row| {
            Ok(Newcomer {
                name: row.try_get("name")?,
                lang: row.try_get("lang")?,
            })
        })
        .collect()
}

/// Whether the member is muted in this chat now.
pub async fn is_muted(
    conn: &mut Conn,
    platform: &str,
    chat_id: &str,
    user_id: &str,
    now: DateTime<Utc>,
) -> StoreResult<bool> {
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM mutes WHERE platform = $1 AND chat_id = $2 AND user_id = $3
           AND lifted_at IS NULL AND until > $4",
    )
    .bind(platform)
    .bind(chat_id)
    .bind(user_id)
    .bind(ts(now))
    .fetch_one(conn.db())
    .await?;
    Ok(n > 0)
}

/// Records a mute; returns its id.
pub async fn record_mute(
    conn: &mut Conn,
    platform: &str,
    chat_id: &str,
    user_id: &str,
    until: DateTime<Utc>,
    now: DateTime<Utc>,
) -> StoreResult<i64> {
    let id = sqlx::query_scalar(
        "INSERT INTO mutes (platform, chat_id, user_id, muted_at, until) VALUES ($1, $2, $3, $4, $5)
         RETURNING id",
    )
    .bind(platform)
    .bind(chat_id)
    .bind(user_id)
    .bind(ts(now))
    .bind(ts(until))
    .fetch_one(conn.db())
    .await?;
    Ok(id)
}

/// Lifts the member's mutes that are still in force on `platform`; returns (mute id, chat id)
/// of each.
pub async fn lift_mutes(
    conn: &mut Conn,
    platform: &str,
    user_id: &str,
    now: DateTime<Utc>,
) -> StoreResult<Vec<(i64, String)>> {
    let rows = sqlx::query(
        "UPDATE mutes SET lifted_at = $1
         WHERE platform = $2 AND user_id = $3 AND lifted_at IS NULL AND until > $1
         RETURNING id, chat_id",
    )
    .bind(ts(now))
    .bind(platform)
    .bind(user_id)
    .fetch_all(conn.db())
    .await?;
    rows.iter()
        .map(|row| Ok((row.try_get("id")?, row.try_get("chat_id")?)))
        .collect()
}
