//! Telegram updates that arrived by webhook (CONTRACT §3 `POST /telegram/webhook`, §10): whichever
//! process Telegram posted to stores the update once, by its `update_id`; the process handling
//! updates takes the unhandled ones in `update_id` order and marks each handled.
//!
//! This module stores and reads; it never parses an update (the Telegram adapter does) and never
//! decides what one means. A handled update's body is emptied at once: the router has stored
//! what it needs by then, and a viewer's words must not outlive `/forget` here. Handled rows
//! are deleted by `retention` after `message_days`.

use chrono::{DateTime, Utc};
use sqlx::Row;

use super::{Conn, Store, StoreResult, ts};

/// One stored update, not yet handled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredUpdate {
    pub update_id: i64,
    /// The update's JSON as Telegram sent it.
    pub body: String,
}

/// Stores an update unless one with that id is stored already. True if it was new.
pub async fn store_once(
    store: &Store,
    update_id: i64,
    body: &str,
    now: DateTime<Utc>,
) -> StoreResult<bool> {
    let mut conn = store.conn().await?;
    let done = sqlx::query(
        "INSERT INTO telegram_updates (update_id, body, received_at) VALUES ($1, $2, $3)
         ON CONFLICT (update_id) DO NOTHING",
    )
    .bind(update_id)
    .bind(body)
    .bind(ts(now))
    .execute(conn.db())
    .await?;
    Ok(done.rows_affected() > 0)
}

/// The unhandled update with the lowest id, if any.
pub async fn next_unhandled(store: &Store) -> StoreResult<Option<StoredUpdate>> {
    let mut conn = store.conn().await?;
    let row = sqlx::query(
        "SELECT update_id, body FROM telegram_updates WHERE handled_at IS NULL
         ORDER BY update_id LIMIT 1",
    )
    .fetch_optional(conn.db())
    .await?;
    row.map(|row| {
        Ok(StoredUpdate {
            update_id: row.try_get("update_id")?,
            body: row.try_get("body")?,
        })
    })
    .transpose()
}

/// The update was handled (or set aside): it is not taken again, and its body is emptied.
pub async fn mark_handled(conn: &mut Conn, update_id: i64, now: DateTime<Utc>) -> StoreResult<()> {
    sqlx::query("UPDATE telegram_updates SET handled_at = $1, body = '' WHERE update_id = $2")
        .bind(ts(now))
        .bind(update_id)
        .execute(conn.db())
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_update_is_stored_once_and_taken_in_id_order_until_handled() {
        let store = crate::store::store_for_tests().await;
        let now = Utc::now();
        assert!(
            store_once(&store, 12, r#"{"update_id":12}"#, now)
                .await
                .unwrap()
        );
        assert!(
            store_once(&store, 11, r#"{"update_id":11}"#, now)
                .await
                .unwrap()
        );
        assert!(
            !store_once(&store, 12, r#"{"update_id":12,"again":1}"#, now)
                .await
                .unwrap(),
            "a second delivery of an id is not stored again"
        );
        let first = next_unhandled(&store).await.unwrap().unwrap();
        assert_eq!(first.update_id, 11);
        let mut conn = store.conn().await.unwrap();
        mark_handled(&mut conn, 11, now).await.unwrap();
        drop(conn);
        let second = next_unhandled(&store).await.unwrap().unwrap();
        assert_eq!(
            second,
            StoredUpdate {
                update_id: 12,
                body: r#"{"update_id":12}"#.to_string()
            }
        );
        let mut conn = store.conn().await.unwrap();
        mark_handled(&mut conn, 12, now).await.unwrap();
        drop(conn);
        assert_eq!(next_unhandled(&store).await.unwrap(), None);
        assert!(
            !store_once(&store, 12, r#"{"update_id":12}"#, now)
                .await
                .unwrap(),
            "a handled id is still known"
        );
    }
}
