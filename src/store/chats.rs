//! Chats that moved: a Telegram group upgraded to a supergroup gets a new id.

use chrono::{DateTime, Utc};
use sqlx::Row;

use super::{Conn, Store, StoreResult, ts};

pub async fn record_move(
    conn: &mut Conn,
    platform: &str,
    old: &str,
    new: &str,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO chat_moves (platform, old_chat_id, new_chat_id, moved_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (platform, old_chat_id) DO UPDATE SET new_chat_id = excluded.new_chat_id",
    )
    .bind(platform)
    .bind(old)
    .bind(new)
    .bind(ts(now))
    .execute(conn.db())
    .await?;
    Ok(())
}

impl Store {
    /// Every move: (platform, old id, new id).
    pub async fn chat_moves(&self) -> StoreResult<Vec<(String, String, String)>> {
        let rows = sqlx::query("SELECT platform, old_chat_id, new_chat_id FROM chat_moves")
            .fetch_all(self.pool())
            .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.try_get("platform")?,
                    r.try_get("old_chat_id")?,
                    r.try_get("new_chat_id")?,
                ))
            })
            .collect()
    }
}
