//! What only the host's dashboard reads and writes: its sign-in sessions (by the hash of their
//! id, never the id itself), the list of broadcasts, the messages the send gate is holding and
//! the queue by lane and state. The report, tickets, dead letters and consent ledger it shows
//! come from their own modules.

use chrono::{DateTime, Utc};
use sqlx::Row;

use super::{Store, StoreResult, parse_ts, ts};

// ---- sessions ----------------------------------------------------------------------------

impl Store {
    /// Stores a new session (by the hash of its id) until `expires_at`; sessions that have
    /// expired go in the same transaction, so the table stays as small as the signed-in hosts.
    pub async fn start_dashboard_session(
        &self,
        id_hash: &str,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> StoreResult<()> {
        let mut tx = self.begin_rows().await?;
        sqlx::query("DELETE FROM dashboard_sessions WHERE expires_at <= $1")
            .bind(ts(now))
            .execute(tx.db())
            .await?;
        sqlx::query(
            "INSERT INTO dashboard_sessions (id_hash, created_at, expires_at) VALUES ($1, $2, $3)",
        )
        .bind(id_hash)
        .bind(ts(now))
        .bind(ts(expires_at))
        .execute(tx.db())
        .await?;
        tx.commit().await
    }

    /// Whether a session with this id hash exists and has not expired at `now`.
    pub async fn dashboard_session_valid(
        &self,
        id_hash: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let found: Option<String> = sqlx::query_scalar(
            "SELECT id_hash FROM dashboard_sessions WHERE id_hash = $1 AND expires_at > $2",
        )
        .bind(id_hash)
        .bind(ts(now))
        .fetch_optional(self.pool())
        .await?;
        Ok(found.is_some())
    }

    /// Sign-out: the session is gone for every worker.
    pub async fn end_dashboard_session(&self, id_hash: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM dashboard_sessions WHERE id_hash = $1")
            .bind(id_hash)
            .execute(self.pool())
            .await?;
        Ok(())
    }
}

// ---- broadcasts ----------------------------------------------------------------------------

/// One line of the dashboard's broadcast list.
#[derive(Debug, Clone, PartialEq)]
pub struct BroadcastListing {
    pub id: String,
    pub title: Option<String>,
    /// When it started (or was to start); for a broadcast only orders name, its first order.
    pub started: Option<DateTime<Utc>>,
    pub ended: Option<DateTime<Utc>>,
    pub buyers: i64,
}

impl Store {
    /// Broadcasts newest first (by when they started, or were to start), at most `limit`:
    /// every broadcast the shop announced, and those only orders name (an import).
    pub async fn broadcast_listing(&self, limit: i64) -> StoreResult<Vec<BroadcastListing>> {
        let rows = sqlx::query(
            "SELECT ids.id AS id, b.title AS title, b.ended_at AS ended_at,
                    COALESCE(b.started_at, b.starts_at,
                             (SELECT MIN(o.placed_at) FROM orders o WHERE o.broadcast_id = ids.id),
                             b.created_at) AS started,
                    (SELECT COUNT(DISTINCT o.customer_id) FROM orders o WHERE o.broadcast_id = ids.id) AS buyers
             FROM (SELECT id FROM broadcasts
                   UNION SELECT broadcast_id AS id FROM orders WHERE broadcast_id IS NOT NULL) ids
             LEFT JOIN broadcasts b ON b.id = ids.id
             ORDER BY started DESC, ids.id DESC
             LIMIT $1",
        )
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                let started: Option<String> = row.try_get("started")?;
                let ended: Option<String> = row.try_get("ended_at")?;
                Ok(BroadcastListing {
                    id: row.try_get("id")?,
                    title: row.try_get("title")?,
                    started: started.as_deref().map(parse_ts).transpose()?,
                    ended: ended.as_deref().map(parse_ts).transpose()?,
                    buyers: row.try_get("buyers")?,
                })
            })
            .collect()
    }
}

// ---- held messages and the queue -------------------------------------------------------------

/// A queued message the send gate (or a retry) set to wait, and until when.
#[derive(Debug, Clone, PartialEq)]
pub struct HeldMessage {
    pub id: i64,
    pub flow: String,
    pub kind: String,
    pub customer_id: Option<String>,
    pub recipient: String,
    /// `quiet_hours`, `weekly_cap`, `send_window` or `action_retry` (`store::outbox::hold`).
    pub reason: String,
    pub until: DateTime<Utc>,
}

/// How many messages are in one lane and state.
#[derive(Debug, Clone, PartialEq)]
pub struct QueueCount {
    pub lane: i64,
    pub state: String,
    pub count: i64,
}

impl Store {
    /// Queued messages with a hold reason, soonest first, at most `limit`; and how many there
    /// are in all.
    pub async fn held_messages(&self, limit: i64) -> StoreResult<(Vec<HeldMessage>, i64)> {
        let total: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM outbox WHERE state = 'queued' AND hold_reason IS NOT NULL",
        )
        .fetch_one(self.pool())
        .await?;
        let rows = sqlx::query(
            "SELECT id, flow, kind, customer_id, recipient, hold_reason, not_before FROM outbox
             WHERE state = 'queued' AND hold_reason IS NOT NULL
             ORDER BY not_before, id LIMIT $1",
        )
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        let held = rows
            .iter()
            .map(|row| {
                let until: String = row.try_get("not_before")?;
                Ok(HeldMessage {
                    id: row.try_get("id")?,
                    flow: row.try_get("flow")?,
                    kind: row.try_get("kind")?,
                    customer_id: row.try_get("customer_id")?,
                    recipient: row.try_get("recipient")?,
                    reason: row.try_get("hold_reason")?,
                    until: parse_ts(&until)?,
                })
            })
            .collect::<StoreResult<Vec<_>>>()?;
        Ok((held, total))
    }

    /// Unfinished messages (queued, claimed, sending) by lane and state.
    pub async fn queue_by_lane(&self) -> StoreResult<Vec<QueueCount>> {
        let rows = sqlx::query(
            "SELECT lane, state, COUNT(*) AS n FROM outbox
             WHERE state IN ('queued', 'claimed', 'sending')
             GROUP BY lane, state ORDER BY lane, state",
        )
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                Ok(QueueCount {
                    lane: row.try_get("lane")?,
                    state: row.try_get("state")?,
                    count: row.try_get("n")?,
                })
            })
            .collect()
    }

    /// Sends whose outcome stayed unknown (finished `unknown`), and every unknown outcome
    /// recorded on any message, retried or not.
    pub async fn unknown_outcomes(&self) -> StoreResult<(i64, i64)> {
        let row = sqlx::query(
            "SELECT COALESCE(CAST(SUM(CASE WHEN state = 'unknown' THEN 1 ELSE 0 END) AS BIGINT), 0) AS finished,
                    COALESCE(CAST(SUM(unknown_outcomes) AS BIGINT), 0) AS seen
             FROM outbox",
        )
        .fetch_one(self.pool())
        .await?;
        Ok((row.try_get("finished")?, row.try_get("seen")?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_session_is_valid_until_it_expires_or_ends() {
        let store = crate::store::store_for_tests().await;
        let now = Utc::now();
        let later = now + chrono::Duration::hours(12);
        store
            .start_dashboard_session("abc", now, later)
            .await
            .unwrap();
        assert!(store.dashboard_session_valid("abc", now).await.unwrap());
        assert!(!store.dashboard_session_valid("other", now).await.unwrap());
        assert!(!store.dashboard_session_valid("abc", later).await.unwrap());
        store.end_dashboard_session("abc").await.unwrap();
        assert!(!store.dashboard_session_valid("abc", now).await.unwrap());
    }

    #[tokio::test]
    async fn an_expired_session_is_removed_at_the_next_sign_in() {
        let store = crate::store::store_for_tests().await;
        let now = Utc::now();
        store
            .start_dashboard_session("old", now - chrono::Duration::hours(13), now)
            .await
            .unwrap();
        store
            .start_dashboard_session("new", now, now + chrono::Duration::hours(12))
            .await
            .unwrap();
        let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM dashboard_sessions")
            .fetch_one(store.pool())
            .await
            .unwrap();
        assert_eq!(left, 1);
    }
}
