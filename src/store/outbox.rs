//! The outbox table: durable messages, unique by idempotency key, claimed by the dispatcher.
//!
//! States: `queued` → `claimed` (taken by a dispatcher, not yet on the wire) → `sending` (the
//! platform call is under way) → `sent`, or back to `queued` (retry later), or a final
//! `failed` / `blocked` / `unreachable` / `cancelled`. Only `sending` rows can be duplicated by a
//! crash: that is the "in flight" number DESIGN invariant 1 bounds.

use chrono::{DateTime, Utc};
use sqlx::Row;

use super::{Conn, Store, StoreError, StoreResult, ts};
use crate::domain::keys::IdemKey;
use crate::domain::{Flow, Lane, MessageKind, OutboxState};

/// A message to enqueue. The payload says what to render (at send time, from current state).
#[derive(Debug, Clone)]
pub struct NewMessage {
    pub idem_key: String,
    /// `customer:<id>` for a viewer (platform chosen at send time), `chat:<platform>:<chat>`
    /// for a room or staff chat, `viewer:<platform>:<chat>` for a viewer not linked yet.
    pub recipient: String,
    pub customer_id: Option<String>,
    pub target_platform: Option<String>,
    pub target_chat: Option<String>,
    pub flow: &'static str,
    pub kind: &'static str,
    pub lane: i64,
    pub payload: String,
    pub broadcast_id: Option<String>,
    pub not_before: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
}

/// Enqueues unless a message with the same idempotency key exists. Returns true if enqueued.
pub async fn enqueue(conn: &mut Conn, msg: &NewMessage, now: DateTime<Utc>) -> StoreResult<bool> {
    insert(conn, msg, "queued", now).await
}

/// Advertising refused at enqueue (no marketing consent): kept, with the reason, so the report
/// counts it and the key is not used again.
pub async fn record_refused(
    conn: &mut Conn,
    msg: &NewMessage,
    now: DateTime<Utc>,
) -> StoreResult<bool> {
    insert(conn, msg, "refused", now).await
}

async fn insert(
    conn: &mut Conn,
    msg: &NewMessage,
    state: &str,
    now: DateTime<Utc>,
) -> StoreResult<bool> {
    let done = sqlx::query(
        "INSERT INTO outbox (idem_key, recipient, customer_id, target_platform, target_chat, flow, kind, lane,
                             payload, broadcast_id, state, attempts, not_before, created_at, expires_at, last_error)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $13, 0, $11, $12, $14,
                 CASE WHEN $13 = 'refused' THEN 'no marketing consent' END)
         ON CONFLICT (idem_key) DO NOTHING",
    )
    .bind(&msg.idem_key)
    .bind(&msg.recipient)
    .bind(&msg.customer_id)
    .bind(&msg.target_platform)
    .bind(&msg.target_chat)
    .bind(msg.flow)
    .bind(msg.kind)
    .bind(msg.lane)
    .bind(&msg.payload)
    .bind(&msg.broadcast_id)
    .bind(ts(msg.not_before))
    .bind(ts(now))
    .bind(state)
    .bind(msg.expires_at.map(ts))
    .execute(conn.db())
    .await?;
    Ok(done.rows_affected() > 0)
}

/// One set-based insert of a thank-you per linked buyer of a broadcast (buyers whose every
/// order was cancelled or refunded are not thanked). 100,000 buyers take one statement.
pub async fn enqueue_thank_yous(
    conn: &mut Conn,
    broadcast_id: &str,
    payload: &str,
    lane: i64,
    now: DateTime<Utc>,
) -> StoreResult<u64> {
    let done = sqlx::query(
        "INSERT INTO outbox (idem_key, recipient, customer_id, flow, kind, lane, payload, broadcast_id,
                             state, attempts, not_before, created_at)
         SELECT DISTINCT $7 || o.customer_id, 'customer:' || o.customer_id,
                o.customer_id, $5, $6, $2, $3, $1, 'queued', 0, $4, $4
         FROM orders o
         WHERE o.broadcast_id = $1 AND o.status NOT IN ('cancelled', 'refunded')
           AND EXISTS (SELECT 1 FROM identities i WHERE i.customer_id = o.customer_id)
         ON CONFLICT (idem_key) DO NOTHING",
    )
    .bind(broadcast_id)
    .bind(lane)
    .bind(payload)
    .bind(ts(now))
    .bind(Flow::ThankYou.as_str())
    .bind(Flow::ThankYou.kind().as_str())
    .bind(IdemKey::thank_you_prefix(broadcast_id))
    .execute(conn.db())
    .await?;
    Ok(done.rows_affected())
}

/// Whether a message of `flow` to `recipient` is still waiting to be written (queued or
/// claimed: rendering happens when it goes out).
pub async fn has_waiting(conn: &mut Conn, recipient: &str, flow: &str) -> StoreResult<bool> {
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM outbox WHERE recipient = $1 AND flow = $2 AND state IN ('queued', 'claimed')",
    )
    .bind(recipient)
    .bind(flow)
    .fetch_one(conn.db())
    .await?;
    Ok(n > 0)
}

/// Cancels a customer's messages of `flow` still waiting in the queue.
pub async fn cancel_queued_of_flow(
    conn: &mut Conn,
    customer_id: &str,
    flow: &str,
    reason: &str,
) -> StoreResult<u64> {
    let done = sqlx::query(
        "UPDATE outbox SET state = 'cancelled', last_error = $1
         WHERE customer_id = $2 AND flow = $3 AND state = 'queued'",
    )
    .bind(reason)
    .bind(customer_id)
    .bind(flow)
    .execute(conn.db())
    .await?;
    Ok(done.rows_affected())
}

/// `/stop`: cancels a customer's advertising that is waiting or claimed but not yet sending.
pub async fn cancel_advertising_on_stop(conn: &mut Conn, customer_id: &str) -> StoreResult<u64> {
    let done = sqlx::query(
        "UPDATE outbox SET state = 'cancelled', last_error = 'consent withdrawn (/stop)'
         WHERE customer_id = $1 AND kind = 'advertising' AND state IN ('queued', 'claimed')",
    )
    .bind(customer_id)
    .execute(conn.db())
    .await?;
    Ok(done.rows_affected())
}

/// The state of a message by key, if it exists.
pub async fn state_of(conn: &mut Conn, key: &IdemKey) -> StoreResult<Option<OutboxState>> {
    let state: Option<String> = sqlx::query_scalar("SELECT state FROM outbox WHERE idem_key = $1")
        .bind(key.to_string())
        .fetch_optional(conn.db())
        .await?;
    state.as_deref().map(parse_name).transpose()
}

/// A stored name read back as the enum that wrote it; anything else is damage.
fn parse_name<T: std::str::FromStr>(name: &str) -> StoreResult<T>
where
    T::Err: std::fmt::Display,
{
    name.parse()
        .map_err(|err: T::Err| StoreError::Corrupt(format!("outbox: {err}")))
}

#[derive(Debug, Clone)]
pub struct ClaimedMessage {
    pub id: i64,
    pub idem_key: String,
    pub recipient: String,
    pub customer_id: Option<String>,
    pub target_platform: Option<String>,
    pub target_chat: Option<String>,
    pub flow: Flow,
    pub kind: MessageKind,
    pub lane: Lane,
    pub payload: String,
    pub broadcast_id: Option<String>,
    pub attempts: i64,
    /// Parts of a split message already delivered by an earlier attempt.
    pub parts_sent: i64,
    pub expires_at: Option<DateTime<Utc>>,
}

/// Claims up to `limit` due messages, interactive first, oldest first.
///
/// A message waits while an earlier one to the same recipient is not finished, so a viewer's
/// messages arrive in the order they were caused. So that an interactive reply is not stuck
/// behind its own viewer's bulk message far back in the queue, a viewer's queued bulk messages
/// are promoted to the interactive lane while an interactive one waits for them.
pub async fn claim(
    store: &Store,
    now: DateTime<Utc>,
    limit: i64,
) -> StoreResult<Vec<ClaimedMessage>> {
    let mut tx = store.begin().await?;
    sqlx::query(
        "UPDATE outbox SET lane = 0
         WHERE state = 'queued' AND lane > 0
           AND recipient IN (SELECT recipient FROM outbox WHERE state = 'queued' AND lane = 0)",
    )
    .execute(tx.db())
    .await?;
    let rows = sqlx::query(
        "UPDATE outbox SET state = 'claimed', attempts = attempts + 1, claimed_at = $1, hold_reason = NULL
         WHERE id IN (
             SELECT o.id FROM outbox o
             WHERE o.state = 'queued' AND o.not_before <= $1
               AND NOT EXISTS (
                   SELECT 1 FROM outbox p
                   WHERE p.recipient = o.recipient AND p.id < o.id
                     AND p.state IN ('queued', 'claimed', 'sending')
                     AND NOT (p.state = 'queued' AND p.hold_reason IS NOT NULL AND p.not_before > $1))
             ORDER BY o.lane, o.id
             LIMIT $2)
         RETURNING id, idem_key, recipient, customer_id, target_platform, target_chat, flow, kind, lane,
                   payload, broadcast_id, attempts, parts_sent, expires_at",
    )
    .bind(ts(now))
    .bind(limit)
    .fetch_all(tx.db())
    .await?;
    tx.commit().await?;
    let mut claimed = rows
        .iter()
        .map(|row| {
            Ok(ClaimedMessage {
                id: row.try_get("id")?,
                idem_key: row.try_get("idem_key")?,
                recipient: row.try_get("recipient")?,
                customer_id: row.try_get("customer_id")?,
                target_platform: row.try_get("target_platform")?,
                target_chat: row.try_get("target_chat")?,
                flow: parse_name(row.try_get("flow")?)?,
                kind: parse_name(row.try_get("kind")?)?,
                lane: {
                    let lane: i64 = row.try_get("lane")?;
                    Lane::try_from_i64(lane).ok_or_else(|| {
                        StoreError::Corrupt(format!("outbox: lane {lane} is not a known lane"))
                    })?
                },
                payload: row.try_get("payload")?,
                broadcast_id: row.try_get("broadcast_id")?,
                attempts: row.try_get("attempts")?,
                parts_sent: row.try_get("parts_sent")?,
                expires_at: row
                    .try_get::<Option<String>, _>("expires_at")?
                    .as_deref()
                    .map(super::parse_ts)
                    .transpose()?,
            })
        })
        .collect::<StoreResult<Vec<_>>>()?;
    claimed.sort_by_key(|m| (m.lane, m.id));
    Ok(claimed)
}

/// The send gate holds an advertisement (`quiet_hours`) or postpones it (`weekly_cap`) until
/// `until`: back to the queue with no attempt used; it does not hold up the viewer's other
/// messages meanwhile, and the report counts it.
pub async fn hold(store: &Store, id: i64, until: DateTime<Utc>, reason: &str) -> StoreResult<()> {
    sqlx::query(
        "UPDATE outbox SET state = 'queued', not_before = $1, attempts = attempts - 1, hold_reason = $2,
             held_for_quiet_hours = (held_for_quiet_hours OR $2 = 'quiet_hours'),
             postponed_by_cap = (postponed_by_cap OR $2 = 'weekly_cap')
         WHERE id = $3",
    )
    .bind(ts(until))
    .bind(reason)
    .bind(id)
    .execute(store.pool())
    .await?;
    Ok(())
}

/// Advertising the customer received since `since` (the weekly cap counts it).
pub async fn advertising_sent_since(
    conn: &mut Conn,
    customer_id: &str,
    since: DateTime<Utc>,
) -> StoreResult<i64> {
    let n = sqlx::query_scalar(
        "SELECT COUNT(*) FROM outbox WHERE customer_id = $1 AND kind = 'advertising'
           AND state IN ('sent', 'sending') AND COALESCE(sent_at, claimed_at) >= $2",
    )
    .bind(customer_id)
    .bind(ts(since))
    .fetch_one(conn.db())
    .await?;
    Ok(n)
}

/// The platform call is about to start: from here a crash may duplicate this message. False
/// when the message is no longer ours to send (cancelled by `/stop` or forgetting while it
/// waited for its turn).
pub async fn mark_sending(conn: &mut Conn, id: i64, platform: &str) -> StoreResult<bool> {
    let done = sqlx::query(
        "UPDATE outbox SET state = 'sending', platform = $1 WHERE id = $2 AND state = 'claimed'",
    )
    .bind(platform)
    .bind(id)
    .execute(conn.db())
    .await?;
    Ok(done.rows_affected() > 0)
}

/// A part of a message to a chat went out with this platform id.
pub async fn record_sent_part(
    store: &Store,
    platform: &str,
    chat_id: &str,
    message_id: &str,
    outbox_id: i64,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO sent_parts (platform, chat_id, message_id, outbox_id) VALUES ($1, $2, $3, $4)
         ON CONFLICT (platform, chat_id, message_id) DO NOTHING",
    )
    .bind(platform)
    .bind(chat_id)
    .bind(message_id)
    .bind(outbox_id)
    .execute(store.pool())
    .await?;
    Ok(())
}

/// How many parts of a split message the platform accepted.
pub async fn record_parts_sent(store: &Store, id: i64, parts: i64) -> StoreResult<()> {
    sqlx::query("UPDATE outbox SET parts_sent = $1 WHERE id = $2")
        .bind(parts)
        .bind(id)
        .execute(store.pool())
        .await?;
    Ok(())
}

/// Back to the queue at once, no attempt counted (the viewer is reachable elsewhere).
pub async fn requeue_now(store: &Store, id: i64, now: DateTime<Utc>) -> StoreResult<()> {
    sqlx::query(
        "UPDATE outbox SET state = 'queued', not_before = $1, attempts = attempts - 1, parts_sent = 0 WHERE id = $2",
    )
    .bind(ts(now))
    .bind(id)
    .execute(store.pool())
    .await?;
    Ok(())
}

/// Rows a task left `claimed` or `sending` longer than any delivery takes (the task failed
/// without putting them back) go back to the queue, so that viewer's later messages are not
/// held up until a restart. Returns how many were `sending` (those may repeat).
pub async fn recover_stranded(
    store: &Store,
    claimed_before: DateTime<Utc>,
    now: DateTime<Utc>,
) -> StoreResult<(u64, u64)> {
    let claimed = sqlx::query(
        "UPDATE outbox SET state = 'queued', attempts = attempts - 1, not_before = $1
         WHERE state = 'claimed' AND claimed_at < $2",
    )
    .bind(ts(now))
    .bind(ts(claimed_before))
    .execute(store.pool())
    .await?
    .rows_affected();
    let sending = sqlx::query(
        "UPDATE outbox SET state = 'queued', not_before = $1 WHERE state = 'sending' AND claimed_at < $2",
    )
    .bind(ts(now))
    .bind(ts(claimed_before))
    .execute(store.pool())
    .await?
    .rows_affected();
    Ok((claimed, sending))
}

pub async fn mark_sent(
    store: &Store,
    id: i64,
    platform: &str,
    message_id: &str,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let mut conn = store.conn().await?;
    mark_sent_in(&mut conn, id, platform, message_id, now).await
}

/// [`mark_sent`] inside the caller's transaction (with what it reports to the shop).
pub async fn mark_sent_in(
    conn: &mut Conn,
    id: i64,
    platform: &str,
    message_id: &str,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    sqlx::query(
        "UPDATE outbox SET state = 'sent', platform = $1, platform_message_id = $2, sent_at = $3, last_error = NULL WHERE id = $4",
    )
    .bind(platform)
    .bind(message_id)
    .bind(ts(now))
    .bind(id)
    .execute(conn.db())
    .await?;
    Ok(())
}

/// Back to the queue, to be tried again no earlier than `not_before`.
pub async fn retry_later(
    store: &Store,
    id: i64,
    not_before: DateTime<Utc>,
    reason: &str,
) -> StoreResult<()> {
    sqlx::query(
        "UPDATE outbox SET state = 'queued', not_before = $1, last_error = $2 WHERE id = $3",
    )
    .bind(ts(not_before))
    .bind(reason)
    .bind(id)
    .execute(store.pool())
    .await?;
    Ok(())
}

/// Back to the queue after the platform asked us to slow down: pacing, not a failure of the
/// message, so it does not use up one of its attempts.
pub async fn retry_after_rate_limit(
    store: &Store,
    id: i64,
    not_before: DateTime<Utc>,
) -> StoreResult<()> {
    sqlx::query(
        "UPDATE outbox SET state = 'queued', not_before = $1, attempts = attempts - 1,
             last_error = 'rate limited (429)' WHERE id = $2",
    )
    .bind(ts(not_before))
    .bind(id)
    .execute(store.pool())
    .await?;
    Ok(())
}

/// Back to the queue with no attempt counted: the message never reached the platform.
pub async fn release(store: &Store, id: i64) -> StoreResult<()> {
    sqlx::query("UPDATE outbox SET state = 'queued', attempts = attempts - 1 WHERE id = $1 AND state = 'claimed'")
        .bind(id)
        .execute(store.pool())
        .await?;
    Ok(())
}

/// A final state other than sent: `failed` (dead letter, with the reason), `blocked`,
/// `unreachable` (no usable identity) or `cancelled`.
pub async fn finish_unsent(
    store: &Store,
    id: i64,
    state: OutboxState,
    reason: &str,
    platform: Option<&str>,
) -> StoreResult<()> {
    sqlx::query("UPDATE outbox SET state = $1, last_error = $2, platform = COALESCE($3, platform) WHERE id = $4")
        .bind(state.as_str())
        .bind(reason)
        .bind(platform)
        .bind(id)
        .execute(store.pool())
        .await?;
    Ok(())
}

/// After a stop or crash: messages that were claimed go back to the queue. Returns how many were
/// on the wire (`sending`) — those may reach their viewer a second time, so they wait until
/// `retry_at`: a copy sent right after a quick restart would break the per-chat limit.
pub async fn recover_after_restart(
    store: &Store,
    retry_at: DateTime<Utc>,
) -> StoreResult<RecoveredMessages> {
    let mut tx = store.begin().await?;
    let claimed = sqlx::query(
        "UPDATE outbox SET state = 'queued', attempts = attempts - 1 WHERE state = 'claimed'",
    )
    .execute(tx.db())
    .await?
    .rows_affected();
    let in_flight =
        sqlx::query("UPDATE outbox SET state = 'queued', not_before = $1 WHERE state = 'sending'")
            .bind(ts(retry_at))
            .execute(tx.db())
            .await?
            .rows_affected();
    tx.commit().await?;
    Ok(RecoveredMessages { claimed, in_flight })
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RecoveredMessages {
    pub claimed: u64,
    pub in_flight: u64,
}

/// Messages not yet finished (for `/metrics` and tests).
pub async fn queue_depth(store: &Store) -> StoreResult<i64> {
    let n = sqlx::query_scalar(
        "SELECT COUNT(*) FROM outbox WHERE state IN ('queued', 'claimed', 'sending')",
    )
    .fetch_one(store.pool())
    .await?;
    Ok(n)
}

/// Counts by platform, kind and state, for `/metrics`.
pub async fn totals(store: &Store) -> StoreResult<Vec<(String, String, String, i64)>> {
    let rows = sqlx::query(
        "SELECT COALESCE(platform, 'none') AS platform, kind, state, COUNT(*) AS n FROM outbox GROUP BY 1, 2, 3 ORDER BY 1, 2, 3",
    )
    .fetch_all(store.pool())
    .await?;
    rows.iter()
        .map(|row| {
            Ok((
                row.try_get("platform")?,
                row.try_get("kind")?,
                row.try_get("state")?,
                row.try_get("n")?,
            ))
        })
        .collect()
}

/// The platform's id of a message that was sent, by its idempotency key.
pub async fn platform_id_of(conn: &mut Conn, idem_key: &str) -> StoreResult<Option<String>> {
    let id: Option<Option<String>> =
        sqlx::query_scalar("SELECT platform_message_id FROM outbox WHERE idem_key = $1")
            .bind(idem_key)
            .fetch_optional(conn.db())
            .await?;
    Ok(id.flatten())
}

/// The key of the message we sent with this platform id in this chat (which card or relay a
/// staff member answered).
pub async fn key_of_sent(
    conn: &mut Conn,
    platform: &str,
    chat_id: &str,
    platform_message_id: &str,
) -> StoreResult<Option<String>> {
    let key = sqlx::query_scalar(
        "SELECT o.idem_key FROM sent_parts s JOIN outbox o ON o.id = s.outbox_id
         WHERE s.platform = $1 AND s.chat_id = $2 AND s.message_id = $3",
    )
    .bind(platform)
    .bind(chat_id)
    .bind(platform_message_id)
    .fetch_optional(conn.db())
    .await?;
    Ok(key)
}

/// The order a check-in to this customer was about, by its outbox id.
pub async fn checkin_subject(
    conn: &mut Conn,
    id: i64,
    customer_id: &str,
) -> StoreResult<Option<String>> {
    let key: Option<String> = sqlx::query_scalar(
        "SELECT idem_key FROM outbox WHERE id = $1 AND flow = 'checkin' AND customer_id = $2",
    )
    .bind(id)
    .bind(customer_id)
    .fetch_optional(conn.db())
    .await?;
    Ok(key.as_deref().and_then(IdemKey::checkin_order_of))
}

/// What a thank-you was about: (broadcast, customer), by its outbox id.
pub async fn thank_you_subject(conn: &mut Conn, id: i64) -> StoreResult<Option<(String, String)>> {
    let row = sqlx::query(
        "SELECT broadcast_id, customer_id FROM outbox WHERE id = $1 AND flow = 'thank_you'",
    )
    .bind(id)
    .fetch_optional(conn.db())
    .await?;
    row.map(|row| Ok((row.try_get("broadcast_id")?, row.try_get("customer_id")?)))
        .transpose()
}

/// Adds text to a relay of `ticket` that is still waiting in the queue, so a burst of viewer
/// messages reaches the staff chat as one message. Returns false when there is none to add to.
pub async fn append_to_queued_relay(conn: &mut Conn, ticket: i64, text: &str) -> StoreResult<bool> {
    let row = sqlx::query(
        "SELECT id, payload FROM outbox WHERE idem_key LIKE $1 AND state = 'queued'
         ORDER BY id DESC LIMIT 1",
    )
    .bind(format!("{}%", IdemKey::ticket_relay_prefix(ticket)))
    .fetch_optional(conn.db())
    .await?;
    let Some(row) = row else { return Ok(false) };
    let id: i64 = row.try_get("id")?;
    let payload: String = row.try_get("payload")?;
    let Ok(mut value) = serde_json::from_str::<serde_json::Value>(&payload) else {
        return Ok(false);
    };
    let Some(existing) = value["args"]["text"].as_str().map(str::to_string) else {
        return Ok(false);
    };
    if value.get("photo").is_some_and(|p| !p.is_null()) {
        // A photo carries one caption; the next message gets its own relay.
        return Ok(false);
    }
    value["args"]["text"] = serde_json::Value::String(format!("{existing}\n{text}"));
    sqlx::query("UPDATE outbox SET payload = $1 WHERE id = $2 AND state = 'queued'")
        .bind(value.to_string())
        .bind(id)
        .execute(conn.db())
        .await?;
    Ok(true)
}

/// Puts a message that ended with nothing sent (`cancelled`: nothing to say then;
/// `unreachable`: no linked messenger then) back in the queue, as things changed. Returns
/// whether it did.
pub async fn requeue_unsent(
    conn: &mut Conn,
    key: &IdemKey,
    now: DateTime<Utc>,
) -> StoreResult<bool> {
    let done = sqlx::query(
        "UPDATE outbox SET state = 'queued', not_before = $1, attempts = 0, parts_sent = 0, last_error = NULL
         WHERE idem_key = $2 AND state IN ('cancelled', 'unreachable')",
    )
    .bind(ts(now))
    .bind(key.to_string())
    .execute(conn.db())
    .await?;
    Ok(done.rows_affected() > 0)
}
