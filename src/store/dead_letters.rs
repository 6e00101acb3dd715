//! What failed for good and was set aside (CONTRACT §1 `encore deadletters`, §12).
//!
//! Two kinds, one list:
//! * an update whose handling failed every time: a row in `dead_letters` holding the update as
//!   JSON, so `encore deadletters retry` can hand it to the router again;
//! * a message or chat action a platform refused for good (or that used up its attempts): the
//!   outbox row itself, in state `failed` with its reason. It is the dead letter — no second
//!   record that a crash could leave out of step — and a retry puts it back in the queue.
//!
//! Ids name the kind: `u<N>` for an update, `m<N>` for an outbox message. This module stores and
//! reads; it never decides whether something should be set aside (the router and the
//! dispatcher do).

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use sqlx::Row;

use super::{Conn, Store, StoreResult, parse_ts, ts};

/// Which list a dead letter is on, and its number there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeadLetterId {
    Update(i64),
    Message(i64),
}

impl fmt::Display for DeadLetterId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeadLetterId::Update(id) => write!(f, "u{id}"),
            DeadLetterId::Message(id) => write!(f, "m{id}"),
        }
    }
}

impl FromStr for DeadLetterId {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bad = || {
            format!(
                "`{text}` is not a dead-letter id: `encore deadletters` lists them (like u3 or m812)"
            )
        };
        let (kind, number) = text.split_at_checked(1).ok_or_else(bad)?;
        let number: i64 = number.parse().map_err(|_| bad())?;
        match kind {
            "u" | "U" => Ok(DeadLetterId::Update(number)),
            "m" | "M" => Ok(DeadLetterId::Message(number)),
            _ => Err(bad()),
        }
    }
}

/// One line of `encore deadletters`.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct DeadLetter {
    #[serde(serialize_with = "as_text")]
    pub id: DeadLetterId,
    pub platform: String,
    /// `update` or `message`.
    pub kind: &'static str,
    pub what: String,
    pub why: String,
    pub when: DateTime<Utc>,
}

fn as_text<S: serde::Serializer>(id: &DeadLetterId, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(id)
}

/// Sets an update aside: `update_json` is what the router is handed again on retry.
pub async fn set_aside_update(
    conn: &mut Conn,
    platform: &str,
    what: &str,
    update_json: &str,
    why: &str,
    now: DateTime<Utc>,
) -> StoreResult<DeadLetterId> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO dead_letters (platform, kind, what, update_json, why, created_at)
         VALUES ($1, 'update', $2, $3, $4, $5) RETURNING id",
    )
    .bind(platform)
    .bind(what)
    .bind(update_json)
    .bind(why)
    .bind(ts(now))
    .fetch_one(conn.db())
    .await?;
    Ok(DeadLetterId::Update(id))
}

/// Everything set aside and not retried since, oldest first.
pub async fn waiting(store: &Store) -> StoreResult<Vec<DeadLetter>> {
    let mut letters = Vec::new();
    let updates = sqlx::query(
        "SELECT id, platform, what, why, created_at FROM dead_letters
         WHERE kind = 'update' AND retried_at IS NULL ORDER BY id",
    )
    .fetch_all(store.pool())
    .await?;
    for row in updates {
        letters.push(DeadLetter {
            id: DeadLetterId::Update(row.try_get("id")?),
            platform: row.try_get("platform")?,
            kind: "update",
            what: row.try_get("what")?,
            why: row.try_get("why")?,
            when: parse_ts(row.try_get("created_at")?)?,
        });
    }
    // A failed row was claimed for the attempt that failed: that claim is when it was set aside.
    let messages = sqlx::query(
        "SELECT id, COALESCE(platform, target_platform, '') AS platform, flow, kind, recipient,
                COALESCE(last_error, '') AS why, COALESCE(claimed_at, created_at) AS at
         FROM outbox WHERE state = 'failed' ORDER BY id",
    )
    .fetch_all(store.pool())
    .await?;
    for row in messages {
        let id: i64 = row.try_get("id")?;
        let flow: String = row.try_get("flow")?;
        let kind: String = row.try_get("kind")?;
        let recipient: String = row.try_get("recipient")?;
        letters.push(DeadLetter {
            id: DeadLetterId::Message(id),
            platform: row.try_get("platform")?,
            kind: "message",
            what: format!("{flow} {kind} message to {recipient}"),
            why: row.try_get("why")?,
            when: parse_ts(row.try_get("at")?)?,
        });
    }
    letters.sort_by_key(|l| l.when);
    Ok(letters)
}

/// The stored update of a dead letter not yet retried, as JSON.
pub async fn update_json(conn: &mut Conn, id: i64) -> StoreResult<Option<String>> {
    let json = sqlx::query_scalar(
        "SELECT update_json FROM dead_letters WHERE id = $1 AND kind = 'update' AND retried_at IS NULL",
    )
    .bind(id)
    .fetch_optional(conn.db())
    .await?;
    Ok(json.flatten())
}

/// The update was handled again: it leaves the list.
pub async fn mark_update_retried(conn: &mut Conn, id: i64, now: DateTime<Utc>) -> StoreResult<()> {
    sqlx::query("UPDATE dead_letters SET retried_at = $1 WHERE id = $2")
        .bind(ts(now))
        .bind(id)
        .execute(conn.db())
        .await?;
    Ok(())
}

/// A retry that failed again: the list says why now.
pub async fn update_failed_again(conn: &mut Conn, id: i64, why: &str) -> StoreResult<()> {
    sqlx::query("UPDATE dead_letters SET why = $1 WHERE id = $2")
        .bind(why)
        .bind(id)
        .execute(conn.db())
        .await?;
    Ok(())
}

/// Puts a failed message back in the queue with fresh attempts. Parts of a split message that
/// already went out stay counted, so they are not sent twice. Returns whether it was failed.
pub async fn requeue_message(conn: &mut Conn, id: i64, now: DateTime<Utc>) -> StoreResult<bool> {
    let done = sqlx::query(
        "UPDATE outbox SET state = 'queued', attempts = 0, not_before = $1, last_error = NULL,
                           hold_reason = NULL
         WHERE id = $2 AND state = 'failed'",
    )
    .bind(ts(now))
    .bind(id)
    .execute(conn.db())
    .await?;
    Ok(done.rows_affected() > 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::outbox::{self, NewMessage};

    fn to_room(key: &str, now: DateTime<Utc>) -> NewMessage {
        NewMessage {
            idem_key: key.to_string(),
            recipient: "chat:telegram:-100".to_string(),
            customer_id: None,
            target_platform: Some("telegram".to_string()),
            target_chat: Some("-100".to_string()),
            flow: "announcement",
            kind: "transactional",
            lane: 1,
            payload: "{}".to_string(),
            broadcast_id: None,
            not_before: now,
            expires_at: None,
        }
    }

    #[tokio::test]
    async fn an_action_tried_again_later_does_not_hold_the_rooms_next_message() {
        let store = crate::store::store_for_tests().await;
        let now = Utc::now();
        let mut conn = store.conn().await.unwrap();
        outbox::enqueue(&mut conn, &to_room("pin", now), now)
            .await
            .unwrap();
        outbox::enqueue(&mut conn, &to_room("next", now), now)
            .await
            .unwrap();
        drop(conn);
        let me = outbox::Claimant {
            instance: "test".to_string(),
            fence: None,
        };
        let first = outbox::claim(&store, &me, now, 10).await.unwrap();
        assert_eq!(first.len(), 1, "messages to one room go in order");
        let later = now + chrono::Duration::seconds(30);
        outbox::retry_beside(&store, &first[0].claim, later, "Internal Server Error")
            .await
            .unwrap();
        let next = outbox::claim(&store, &me, now, 10).await.unwrap();
        assert_eq!(
            next.iter().map(|m| m.idem_key.as_str()).collect::<Vec<_>>(),
            ["next"]
        );
        let retried = outbox::claim(&store, &me, later, 10).await.unwrap();
        assert_eq!(retried[0].idem_key, "pin");
    }

    #[test]
    fn ids_name_their_list() {
        assert_eq!("u3".parse(), Ok(DeadLetterId::Update(3)));
        assert_eq!("m812".parse(), Ok(DeadLetterId::Message(812)));
        assert_eq!(DeadLetterId::Message(812).to_string(), "m812");
        let err = "x1".parse::<DeadLetterId>().unwrap_err();
        assert!(err.contains("encore deadletters"), "{err}");
        assert!("u".parse::<DeadLetterId>().is_err());
        assert!("".parse::<DeadLetterId>().is_err());
    }
}
