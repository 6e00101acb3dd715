//! The outbox table: durable messages, unique by idempotency key, claimed by the dispatcher.
//!
//! States: `queued` → `claimed` (taken by a dispatcher, not yet on the wire) → `sending` (the
//! platform call is under way) → `sent`, or back to `queued` (retry later), or a final
//! `failed` / `blocked` / `unreachable` / `cancelled`, or `unknown` (the request was written
//! but no answer came: the platform may or may not have it). Only `sending` rows can be
//! duplicated by a crash: that is the "in flight" number DESIGN invariant 1 bounds.
//!
//! Claims have owners: a claim writes the claiming instance and a fresh token on the row, and
//! every later change of state names both ([`Claim`]), so a row that recovery gave to someone
//! else is never written over by its old owner. Recovery only takes rows whose owner stopped
//! beating (`store::instances`); a live process's rows are its own until it finishes them.
//!
//! Fencing: the two writes that lead to the wire — [`claim`] and [`mark_sending`] — are made
//! only while the claimant still holds the sender lease with the fence it claimed under, so a
//! deposed leader (paused, thought dead, replaced) can neither take a message nor start sending
//! one it took before. What is written after the wire (sent, failed, retry) is checked by the
//! claim alone: refusing a true "sent" would only send the message again.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sqlx::Row;

use super::{Conn, Store, StoreError, StoreResult, in_list, rows_for_ids, ts};
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

/// One set-based insert of a thank-you per buyer of a broadcast a note can reach: linked, or
/// (`by_phone`: KakaoTalk is on) with a number KakaoTalk has not refused. Buyers whose every
/// order was cancelled or refunded are not thanked. 100,000 buyers take one statement.
pub async fn enqueue_thank_yous(
    conn: &mut Conn,
    broadcast_id: &str,
    payload: &str,
    lane: i64,
    by_phone: bool,
    now: DateTime<Utc>,
) -> StoreResult<u64> {
    let done = sqlx::query(&format!(
        "INSERT INTO outbox (idem_key, recipient, customer_id, flow, kind, lane, payload, broadcast_id,
                             state, attempts, not_before, created_at)
         SELECT DISTINCT $7 || o.customer_id, 'customer:' || o.customer_id,
                o.customer_id, $5, $6, $2, $3, $1, 'queued', 0, $4, $4
         FROM orders o
         WHERE o.broadcast_id = $1 AND o.status NOT IN ('cancelled', 'refunded')
           AND {}
         ON CONFLICT (idem_key) DO NOTHING",
        super::customers::reachable_for_notes_sql("o.customer_id", by_phone)
    ))
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
///
/// On PostgreSQL the row stays locked until the caller commits, so a decision made on the state
/// holds: the dispatcher cannot render and send it meanwhile ([`lock_batch_for_rendering`]).
pub async fn state_of(conn: &mut Conn, key: &IdemKey) -> StoreResult<Option<OutboxState>> {
    let lock = if conn.backend().is_postgres() {
        " FOR UPDATE"
    } else {
        ""
    };
    let state: Option<String> = sqlx::query_scalar(&format!(
        "SELECT state FROM outbox WHERE idem_key = $1{lock}"
    ))
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

/// Who claims: this instance, and the fence of the sender lease it holds (`None` where no lease
/// is taken, as in `encore demo` on its own database).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claimant {
    pub instance: String,
    pub fence: Option<i64>,
}

/// One claim of one row: what every change of state to it must show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    pub id: i64,
    pub owner: String,
    pub token: String,
    /// The sender lease's fence the claim was made under (`None`: no lease, as in the demo);
    /// [`mark_sending`] checks it is still the owner's.
    pub fence: Option<i64>,
}

/// The claim check every change of state ends with (`$n`, `$n+1`, `$n+2` = id, owner, token).
fn claim_check(first: usize) -> String {
    format!(
        "id = ${first} AND claim_owner = ${} AND claim_token = ${}",
        first + 1,
        first + 2
    )
}

/// A change of state that found its claim gone: the row was recovered by another instance
/// (this one was thought dead) and is theirs now; writing over it would undo their work.
fn claim_lost(rows_affected: u64, claim: &Claim, what: &str) {
    if rows_affected == 0 {
        tracing::warn!(message_id = claim.id, owner = %claim.owner, what, "the claim on this message is gone; left as it is");
    }
}

/// A change of state to a claimed row whose SQL ends in `WHERE {claim_check(n)}`: the caller
/// binds the parameters before the claim's, this binds the claim, runs it and logs a lost claim.
async fn change_claimed<'q>(
    store: &Store,
    claim: &'q Claim,
    what: &str,
    query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
) -> StoreResult<()> {
    let done = query
        .bind(claim.id)
        .bind(&claim.owner)
        .bind(&claim.token)
        .execute(store.pool())
        .await?;
    claim_lost(done.rows_affected(), claim, what);
    Ok(())
}

#[derive(Debug, Clone)]
pub struct ClaimedMessage {
    pub id: i64,
    /// The claim every change of state to this row shows.
    pub claim: Claim,
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
    /// Sends of this message whose answer never came (each may or may not have arrived).
    pub unknown_outcomes: i64,
    pub expires_at: Option<DateTime<Utc>>,
}

/// Claims up to `limit` due messages, interactive first, oldest first.
///
/// A message waits while an earlier one to the same recipient is not finished, so a viewer's
/// messages arrive in the order they were caused. So that an interactive reply is not stuck
/// behind its own viewer's bulk message far back in the queue, a viewer's queued bulk messages
/// are promoted to the interactive lane while an interactive one waits for them.
///
/// The claim names `claimant` and a fresh token; with a fence, it is made only while the
/// claimant still holds the sender lease with that fence (a deposed sender claims nothing).
pub async fn claim(
    store: &Store,
    claimant: &Claimant,
    now: DateTime<Utc>,
    limit: i64,
) -> StoreResult<Vec<ClaimedMessage>> {
    let token = format!("{:016x}", rand::random::<u64>());
    // PostgreSQL: row locks, not the one write lock, so claims never queue behind other writers;
    // rows another claimer has locked are skipped, not waited for.
    let mut tx = store.begin_rows().await?;
    let skip_locked = if tx.backend().is_postgres() {
        "FOR UPDATE OF o SKIP LOCKED"
    } else {
        ""
    };
    // The promotion waits for no row lock either (PostgreSQL: SKIP LOCKED): a row a flow's
    // transaction holds is promoted at the next claim instead. So a claim never waits for a
    // flow, and the two can never deadlock (40P01) by taking the same rows in another order.
    let promote_skip_locked = if tx.backend().is_postgres() {
        "FOR UPDATE SKIP LOCKED"
    } else {
        ""
    };
    // The EXISTS is asked once per statement (no interactive message waits: nothing scanned),
    // so a claim does not read the whole bulk queue each time.
    sqlx::query(&format!(
        "UPDATE outbox SET lane = 0
         WHERE EXISTS (SELECT 1 FROM outbox i WHERE i.state = 'queued' AND i.lane = 0)
           AND id IN (
             SELECT q.id FROM outbox q
             WHERE q.state = 'queued' AND q.lane > 0
               AND q.recipient IN (SELECT recipient FROM outbox WHERE state = 'queued' AND lane = 0)
             {promote_skip_locked})"
    ))
    .execute(tx.db())
    .await?;
    let sql = format!(
        "UPDATE outbox SET state = 'claimed', attempts = attempts + 1, claimed_at = $1, hold_reason = NULL,
             claim_owner = $3, claim_token = $5
         WHERE ($4 IS NULL OR EXISTS (SELECT 1 FROM sender_lease l
                                      WHERE l.name = 'sender' AND l.holder = $3 AND l.fence = $4))
           AND id IN (
             SELECT o.id FROM outbox o
             WHERE o.state = 'queued' AND o.not_before <= $1
               AND NOT EXISTS (
                   SELECT 1 FROM outbox p
                   WHERE p.recipient = o.recipient AND p.id < o.id
                     AND p.state IN ('queued', 'claimed', 'sending')
                     AND NOT (p.state = 'queued' AND p.hold_reason IS NOT NULL AND p.not_before > $1))
             ORDER BY o.lane, o.id
             LIMIT $2
             {skip_locked})
         RETURNING id, idem_key, recipient, customer_id, target_platform, target_chat, flow, kind, lane,
                   payload, broadcast_id, attempts, parts_sent, unknown_outcomes, expires_at"
    );
    let rows = sqlx::query(&sql)
        .bind(ts(now))
        .bind(limit)
        .bind(&claimant.instance)
        .bind(claimant.fence)
        .bind(&token)
        .fetch_all(tx.db())
        .await?;
    tx.commit().await?;
    let read = |row: &sqlx::any::AnyRow| -> StoreResult<ClaimedMessage> {
        let id: i64 = row.try_get("id")?;
        Ok(ClaimedMessage {
            id,
            claim: Claim {
                id,
                owner: claimant.instance.clone(),
                token: token.clone(),
                fence: claimant.fence,
            },
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
            unknown_outcomes: row.try_get("unknown_outcomes")?,
            expires_at: row
                .try_get::<Option<String>, _>("expires_at")?
                .as_deref()
                .map(super::parse_ts)
                .transpose()?,
        })
    };
    // One row this version cannot read (a flow or lane it does not know) is failed on its own,
    // so the rest of the batch — and the recipients behind that row — still go out.
    let mut claimed = Vec::with_capacity(rows.len());
    for row in &rows {
        match read(row) {
            Ok(message) => claimed.push(message),
            Err(err) => {
                let id: i64 = row.try_get("id")?;
                tracing::error!(message_id = id, error = %err, "an outbox row cannot be read; failing it");
                let claim = Claim {
                    id,
                    owner: claimant.instance.clone(),
                    token: token.clone(),
                    fence: claimant.fence,
                };
                let reason = format!("unreadable row: {err}");
                finish_unsent(store, &claim, OutboxState::Failed, &reason, None).await?;
            }
        }
    }
    claimed.sort_by_key(|m| (m.lane, m.id));
    Ok(claimed)
}

/// The send gate holds an advertisement (`quiet_hours`) or postpones it (`weekly_cap`) until
/// `until`: back to the queue with no attempt used; it does not hold up the viewer's other
/// messages meanwhile, and the report counts it.
pub async fn hold(
    store: &Store,
    claim: &Claim,
    until: DateTime<Utc>,
    reason: &str,
) -> StoreResult<()> {
    change_claimed(
        store,
        claim,
        "hold",
        sqlx::query(&format!(
            "UPDATE outbox SET state = 'queued', not_before = $1, attempts = attempts - 1, hold_reason = $2,
             held_for_quiet_hours = CASE WHEN held_for_quiet_hours = 1 OR $2 = 'quiet_hours' THEN 1 ELSE 0 END,
             postponed_by_cap = CASE WHEN postponed_by_cap = 1 OR $2 = 'weekly_cap' THEN 1 ELSE 0 END
         WHERE {}",
            claim_check(3)
        ))
        .bind(ts(until))
        .bind(reason),
    )
    .await
}

/// Advertising each customer of `customer_ids` received since `since` (the weekly cap counts
/// it); a customer who received none is missing.
pub async fn advertising_sent_since(
    conn: &mut Conn,
    customer_ids: &[&str],
    since: DateTime<Utc>,
) -> StoreResult<HashMap<String, i64>> {
    let since = ts(since);
    let rows = rows_for_ids(conn, customer_ids, &[&since], |list, n| {
        format!(
            "SELECT customer_id, COUNT(*) AS n FROM outbox
             WHERE customer_id IN ({list}) AND kind = 'advertising'
               AND state IN ('sent', 'sending') AND COALESCE(sent_at, claimed_at) >= ${}
             GROUP BY customer_id",
            n + 1
        )
    })
    .await?;
    rows.iter()
        .map(|row| Ok((row.try_get("customer_id")?, row.try_get("n")?)))
        .collect()
}

/// The platform call is about to start: from here a crash may duplicate this message. False
/// when the message is no longer ours to send (cancelled by `/stop` or forgetting while it
/// waited for its turn), or when the lease moved on from the fence it was claimed under (this
/// process was deposed while it held the claim).
pub async fn mark_sending(conn: &mut Conn, claim: &Claim, platform: &str) -> StoreResult<bool> {
    const STILL_HOLDING: &str = " AND EXISTS (SELECT 1 FROM sender_lease l
                                       WHERE l.name = 'sender' AND l.holder = $3 AND l.fence = $5)";
    let sql = format!(
        "UPDATE outbox SET state = 'sending', platform = $1 WHERE {} AND state = 'claimed'{}",
        claim_check(2),
        if claim.fence.is_some() {
            STILL_HOLDING
        } else {
            ""
        }
    );
    let done = sqlx::query(&sql)
        .bind(platform)
        .bind(claim.id)
        .bind(&claim.owner)
        .bind(&claim.token);
    let done = match claim.fence {
        Some(fence) => done.bind(fence),
        None => done,
    }
    .execute(conn.db())
    .await?;
    Ok(done.rows_affected() > 0)
}

/// `(VALUES ($k, …, $k+width-1), …)` for `rows` rows: a batch's own values joined to the rows
/// it changes. Both engines name the columns `column1`, `column2`, …
fn values_list(rows: usize, width: usize, casts: &[Option<&str>]) -> String {
    let mut sql = String::from("(VALUES ");
    for row in 0..rows {
        if row > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        for col in 0..width {
            if col > 0 {
                sql.push_str(", ");
            }
            let n = row * width + col + 1;
            match casts.get(col).copied().flatten() {
                Some(ty) => sql.push_str(&format!("CAST(${n} AS {ty})")),
                None => sql.push_str(&format!("${n}")),
            }
        }
        sql.push(')');
    }
    sql.push(')');
    sql
}

/// The first statement of the transaction that renders claimed messages and marks them
/// `sending` ([`mark_batch_sending`]). PostgreSQL: the rows are locked (in id order, so two
/// batches never wait on each other in a circle), so a flow deciding by a message's state
/// ([`state_of`]) either sees it `sending` or is seen by the rendering (an order committed before
/// is in the words). SQLite's write transaction serializes both already.
pub async fn lock_batch_for_rendering(conn: &mut Conn, claims: &[&Claim]) -> StoreResult<()> {
    if !conn.backend().is_postgres() || claims.is_empty() {
        return Ok(());
    }
    let sql = format!(
        "SELECT id FROM outbox WHERE id IN ({}) ORDER BY id FOR UPDATE",
        in_list(1, claims.len())
    );
    let mut query = sqlx::query(&sql);
    for claim in claims {
        query = query.bind(claim.id);
    }
    query.fetch_all(conn.db()).await?;
    Ok(())
}

/// [`mark_sending`] for a batch, in the rendering transaction: each row only while it is still
/// `claimed` under its claim and, with a fence, while its owner still holds the lease with that
/// fence. Returns the ids marked; a claim missing from them is no longer ours to send.
pub async fn mark_batch_sending(
    conn: &mut Conn,
    batch: &[(&Claim, &str)],
) -> StoreResult<Vec<i64>> {
    if batch.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "UPDATE outbox SET state = 'sending', platform = v.column4
         FROM {} AS v
         WHERE outbox.id = v.column1 AND outbox.claim_owner = v.column2
           AND outbox.claim_token = v.column3 AND outbox.state = 'claimed'
           AND (v.column5 IS NULL OR EXISTS (SELECT 1 FROM sender_lease l
                WHERE l.name = 'sender' AND l.holder = v.column2 AND l.fence = v.column5))
         RETURNING id",
        values_list(batch.len(), 5, &[None, None, None, None, Some("BIGINT")])
    );
    let mut query = sqlx::query(&sql);
    for (claim, platform) in batch {
        query = query
            .bind(claim.id)
            .bind(&claim.owner)
            .bind(&claim.token)
            .bind(*platform)
            .bind(claim.fence);
    }
    let rows = query.fetch_all(conn.db()).await?;
    rows.iter()
        .map(|row| row.try_get::<i64, _>("id").map_err(StoreError::from))
        .collect()
}

/// One message the platform accepted, for [`mark_batch_sent`].
#[derive(Debug, Clone)]
pub struct SentRecord {
    pub claim: Claim,
    pub platform: String,
    pub platform_message_id: String,
    pub at: DateTime<Utc>,
}

/// [`mark_sent`] for a batch in one statement; each row only under its claim. Repeating it is
/// harmless (the same values again), so a caller may retry it until it is stored.
pub async fn mark_batch_sent(store: &Store, batch: &[SentRecord]) -> StoreResult<()> {
    if batch.is_empty() {
        return Ok(());
    }
    let sql = format!(
        "UPDATE outbox SET state = 'sent', platform = v.column4, platform_message_id = v.column5,
             sent_at = v.column6, last_error = NULL
         FROM {} AS v
         WHERE outbox.id = v.column1 AND outbox.claim_owner = v.column2
           AND outbox.claim_token = v.column3
         RETURNING id",
        values_list(batch.len(), 6, &[])
    );
    let mut query = sqlx::query(&sql);
    for sent in batch {
        query = query
            .bind(sent.claim.id)
            .bind(&sent.claim.owner)
            .bind(&sent.claim.token)
            .bind(&sent.platform)
            .bind(&sent.platform_message_id)
            .bind(ts(sent.at));
    }
    let rows = query.fetch_all(store.pool()).await?;
    if rows.len() < batch.len() {
        let marked: std::collections::HashSet<i64> = rows
            .iter()
            .filter_map(|row| row.try_get::<i64, _>("id").ok())
            .collect();
        for sent in batch.iter().filter(|s| !marked.contains(&s.claim.id)) {
            claim_lost(0, &sent.claim, "mark sent");
        }
    }
    Ok(())
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
pub async fn record_parts_sent(store: &Store, claim: &Claim, parts: i64) -> StoreResult<()> {
    change_claimed(
        store,
        claim,
        "record parts sent",
        sqlx::query(&format!(
            "UPDATE outbox SET parts_sent = $1 WHERE {}",
            claim_check(2)
        ))
        .bind(parts),
    )
    .await
}

/// Back to the queue at once, no attempt counted (the viewer is reachable elsewhere).
pub async fn requeue_now(store: &Store, claim: &Claim, now: DateTime<Utc>) -> StoreResult<()> {
    change_claimed(
        store,
        claim,
        "requeue",
        sqlx::query(&format!(
            "UPDATE outbox SET state = 'queued', not_before = $1, attempts = attempts - 1, parts_sent = 0
         WHERE {}",
            claim_check(2)
        ))
        .bind(ts(now)),
    )
    .await
}

/// Rows claimed by an instance that stopped beating (its `instances.last_seen` is older than
/// `dead_before`, wall clock, or it has no row at all) go back to the queue, so that viewer's
/// later messages are not held up until a restart. Rows of `me` are never touched, however old
/// their claim: a live process finishes what it put on the wire (a message waiting out a long
/// flood wait, or half-way through its parts, is not sent twice). Returns how many were
/// `claimed` and how many `sending` (those may repeat).
pub async fn recover_orphaned(
    store: &Store,
    me: &str,
    dead_before: DateTime<Utc>,
    now: DateTime<Utc>,
) -> StoreResult<(u64, u64)> {
    const ORPHANED: &str = "claim_owner IS DISTINCT FROM $2
        AND NOT EXISTS (SELECT 1 FROM instances i
                        WHERE i.id = outbox.claim_owner AND i.last_seen >= $3)";
    let mut tx = store.begin().await?;
    let claimed = sqlx::query(&format!(
        "UPDATE outbox SET state = 'queued', attempts = attempts - 1, not_before = $1,
             claim_owner = NULL, claim_token = NULL
         WHERE state = 'claimed' AND {ORPHANED}"
    ))
    .bind(ts(now))
    .bind(me)
    .bind(ts(dead_before))
    .execute(tx.db())
    .await?
    .rows_affected();
    let sending = sqlx::query(&format!(
        "UPDATE outbox SET state = 'queued', not_before = $1, claim_owner = NULL, claim_token = NULL
         WHERE state = 'sending' AND {ORPHANED}"
    ))
    .bind(ts(now))
    .bind(me)
    .bind(ts(dead_before))
    .execute(tx.db())
    .await?
    .rows_affected();
    // The dead own nothing now.
    sqlx::query("DELETE FROM instances WHERE last_seen < $1 AND id IS DISTINCT FROM $2")
        .bind(ts(dead_before))
        .bind(me)
        .execute(tx.db())
        .await?;
    tx.commit().await?;
    Ok((claimed, sending))
}

pub async fn mark_sent(
    store: &Store,
    claim: &Claim,
    platform: &str,
    message_id: &str,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let mut conn = store.conn().await?;
    mark_sent_in(&mut conn, claim, platform, message_id, now).await
}

/// [`mark_sent`] inside the caller's transaction (with what it reports to the shop).
pub async fn mark_sent_in(
    conn: &mut Conn,
    claim: &Claim,
    platform: &str,
    message_id: &str,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let done = sqlx::query(&format!(
        "UPDATE outbox SET state = 'sent', platform = $1, platform_message_id = $2, sent_at = $3,
             last_error = NULL WHERE {}",
        claim_check(4)
    ))
    .bind(platform)
    .bind(message_id)
    .bind(ts(now))
    .bind(claim.id)
    .bind(&claim.owner)
    .bind(&claim.token)
    .execute(conn.db())
    .await?;
    claim_lost(done.rows_affected(), claim, "mark sent");
    Ok(())
}

/// Back to the queue, to be tried again no earlier than `not_before`.
pub async fn retry_later(
    store: &Store,
    claim: &Claim,
    not_before: DateTime<Utc>,
    reason: &str,
) -> StoreResult<()> {
    change_claimed(
        store,
        claim,
        "retry later",
        sqlx::query(&format!(
            "UPDATE outbox SET state = 'queued', not_before = $1, last_error = $2 WHERE {}",
            claim_check(3)
        ))
        .bind(ts(not_before))
        .bind(reason),
    )
    .await
}

/// A room action that failed for now goes back to the queue for `not_before` without holding
/// the later messages to its room (the claim lets a message pass a held one): a pin that
/// cannot be done yet must not keep the room silent through its retries.
pub async fn retry_beside(
    store: &Store,
    claim: &Claim,
    not_before: DateTime<Utc>,
    reason: &str,
) -> StoreResult<()> {
    change_claimed(
        store,
        claim,
        "retry beside",
        sqlx::query(&format!(
            "UPDATE outbox SET state = 'queued', not_before = $1, last_error = $2,
                           hold_reason = 'action_retry'
         WHERE {}",
            claim_check(3)
        ))
        .bind(ts(not_before))
        .bind(reason),
    )
    .await
}

/// A send whose answer never came (timeout or reset after the request was written): counted
/// on the row, then either tried again no earlier than `retry_at` (the viewer may get it
/// twice) or, with `None`, finished as `unknown` (the viewer may not have it).
pub async fn record_unknown_outcome(
    store: &Store,
    claim: &Claim,
    retry_at: Option<DateTime<Utc>>,
    reason: &str,
    platform: &str,
) -> StoreResult<()> {
    change_claimed(
        store,
        claim,
        "record an unknown outcome",
        sqlx::query(&format!(
            "UPDATE outbox SET unknown_outcomes = unknown_outcomes + 1, last_error = $1, platform = $2,
             state = CASE WHEN $3 IS NULL THEN 'unknown' ELSE 'queued' END,
             not_before = COALESCE($3, not_before)
         WHERE {}",
            claim_check(4)
        ))
        .bind(reason)
        .bind(platform)
        .bind(retry_at.map(ts)),
    )
    .await
}

/// Back to the queue after the platform asked us to slow down: pacing, not a failure of the
/// message, so it does not use up one of its attempts.
pub async fn retry_after_rate_limit(
    store: &Store,
    claim: &Claim,
    not_before: DateTime<Utc>,
) -> StoreResult<()> {
    change_claimed(
        store,
        claim,
        "retry after a 429",
        sqlx::query(&format!(
            "UPDATE outbox SET state = 'queued', not_before = $1, attempts = attempts - 1,
             last_error = 'rate limited (429)' WHERE {}",
            claim_check(2)
        ))
        .bind(ts(not_before)),
    )
    .await
}

/// Back to the queue with no attempt counted: the message never reached the platform (it was
/// waiting for its turn at a shutdown, or the lease ran out before it went on the wire — then
/// it may be `sending` already; parts that went out before stay counted).
pub async fn release(store: &Store, claim: &Claim) -> StoreResult<()> {
    sqlx::query(&format!(
        "UPDATE outbox SET state = 'queued', attempts = attempts - 1
         WHERE {} AND state IN ('claimed', 'sending')",
        claim_check(1)
    ))
    .bind(claim.id)
    .bind(&claim.owner)
    .bind(&claim.token)
    .execute(store.pool())
    .await?;
    Ok(())
}

/// A final state other than sent: `failed` (dead letter, with the reason), `blocked`,
/// `unreachable` (no usable identity) or `cancelled`.
pub async fn finish_unsent(
    store: &Store,
    claim: &Claim,
    state: OutboxState,
    reason: &str,
    platform: Option<&str>,
) -> StoreResult<()> {
    change_claimed(
        store,
        claim,
        "finish unsent",
        sqlx::query(&format!(
            "UPDATE outbox SET state = $1, last_error = $2, platform = COALESCE($3, platform) WHERE {}",
            claim_check(4)
        ))
        .bind(state.as_str())
        .bind(reason)
        .bind(platform),
    )
    .await
}

/// After a stop, a crash or a takeover: every claimed message goes back to the queue — this
/// process's own from an earlier term as leader too. Called by a dispatcher as it starts, before
/// its first claim, once its process holds the sender lease, so every other owner is gone or
/// fenced. Returns how many were on the wire (`sending`) — those may reach their
/// viewer a second time, so they wait until `retry_at`: a copy sent right after a quick restart
/// would break the per-chat limit.
pub async fn recover_after_restart(
    store: &Store,
    retry_at: DateTime<Utc>,
) -> StoreResult<RecoveredMessages> {
    let mut tx = store.begin().await?;
    let claimed = sqlx::query(
        "UPDATE outbox SET state = 'queued', attempts = attempts - 1, claim_owner = NULL, claim_token = NULL
         WHERE state = 'claimed'",
    )
    .execute(tx.db())
    .await?
    .rows_affected();
    let in_flight = sqlx::query(
        "UPDATE outbox SET state = 'queued', not_before = $1, claim_owner = NULL, claim_token = NULL
         WHERE state = 'sending'",
    )
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
    // The dispatcher may have claimed the relay since it was read (PostgreSQL claims beside
    // this transaction): then the text goes in a relay of its own, not nowhere.
    let done = sqlx::query("UPDATE outbox SET payload = $1 WHERE id = $2 AND state = 'queued'")
        .bind(value.to_string())
        .bind(id)
        .execute(conn.db())
        .await?;
    Ok(done.rows_affected() > 0)
}

/// Puts a message that ended with nothing sent (`cancelled`: nothing to say then;
/// `unreachable`: no linked messenger then; `no_template`: only KakaoTalk then, without a
/// template for it) back in the queue, as things changed. Returns whether it did.
pub async fn requeue_unsent(
    conn: &mut Conn,
    key: &IdemKey,
    now: DateTime<Utc>,
) -> StoreResult<bool> {
    let done = sqlx::query(
        "UPDATE outbox SET state = 'queued', not_before = $1, attempts = 0, parts_sent = 0, last_error = NULL
         WHERE idem_key = $2 AND state IN ('cancelled', 'unreachable', 'no_template', 'blocked')",
    )
    .bind(ts(now))
    .bind(key.to_string())
    .execute(conn.db())
    .await?;
    Ok(done.rows_affected() > 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::instances::{self, Instance};

    async fn store() -> Store {
        crate::store::store_for_tests().await
    }

    fn instance(name: &str) -> Instance {
        Instance {
            id: format!("{name}:1:1"),
            host: name.to_string(),
            pid: 1,
        }
    }

    #[tokio::test]
    async fn a_row_with_an_unknown_flow_is_failed_alone_and_the_rest_of_the_batch_is_claimed() {
        let store = store().await;
        let now = Utc::now();
        enqueue_one(&store, "good", now).await;
        enqueue_one(&store, "strange", now).await;
        sqlx::query("UPDATE outbox SET flow = 'from_a_newer_version' WHERE idem_key = 'strange'")
            .execute(store.pool())
            .await
            .expect("update");
        let me = instance("a");
        let claimed = claim(&store, &claimant(&me), now, 10).await.expect("claim");
        assert_eq!(
            claimed
                .iter()
                .map(|m| m.idem_key.as_str())
                .collect::<Vec<_>>(),
            ["good"]
        );
        let (state, error): (String, Option<String>) =
            sqlx::query_as("SELECT state, last_error FROM outbox WHERE idem_key = 'strange'")
                .fetch_one(store.pool())
                .await
                .expect("row");
        assert_eq!(state, "failed");
        assert!(error.unwrap_or_default().contains("from_a_newer_version"));
    }

    fn claimant(who: &Instance) -> Claimant {
        Claimant {
            instance: who.id.clone(),
            fence: None,
        }
    }

    async fn enqueue_one(store: &Store, key: &str, now: DateTime<Utc>) {
        let message = NewMessage {
            idem_key: key.to_string(),
            recipient: format!("chat:telegram:{key}"),
            customer_id: None,
            target_platform: Some("telegram".to_string()),
            target_chat: Some(key.to_string()),
            flow: Flow::ThankYou.as_str(),
            kind: Flow::ThankYou.kind().as_str(),
            lane: Lane::Bulk.as_i64(),
            payload: "{}".to_string(),
            broadcast_id: None,
            not_before: now,
            expires_at: None,
        };
        let mut conn = store.conn().await.expect("conn");
        assert!(enqueue(&mut conn, &message, now).await.expect("enqueue"));
    }

    async fn enqueue_to(store: &Store, key: &str, recipient: &str, now: DateTime<Utc>) {
        let message = new_message(key, recipient, now);
        let mut conn = store.conn().await.expect("conn");
        assert!(enqueue(&mut conn, &message, now).await.expect("enqueue"));
    }

    fn new_message(key: &str, recipient: &str, now: DateTime<Utc>) -> NewMessage {
        NewMessage {
            idem_key: key.to_string(),
            recipient: recipient.to_string(),
            customer_id: None,
            target_platform: Some("telegram".to_string()),
            target_chat: Some(recipient.to_string()),
            flow: Flow::ThankYou.as_str(),
            kind: Flow::ThankYou.kind().as_str(),
            lane: Lane::Bulk.as_i64(),
            payload: "{}".to_string(),
            broadcast_id: None,
            not_before: now,
            expires_at: None,
        }
    }

    /// Several claimers on one database at once (on PostgreSQL, with `ENCORE_TEST_POSTGRES_URL`,
    /// really at once: row locks and SKIP LOCKED): every message is claimed once, and a
    /// viewer's messages are sent in the order they were caused, whoever claims them.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn claimers_at_once_take_each_message_once_and_a_viewers_messages_in_order() {
        const VIEWERS: usize = 40;
        const EACH: usize = 5;
        let store = store().await;
        let now = Utc::now();
        for m in 0..EACH {
            for v in 0..VIEWERS {
                enqueue_to(
                    &store,
                    &format!("v{v:02}-m{m}"),
                    &format!("chat:telegram:v{v:02}"),
                    now,
                )
                .await;
            }
        }
        let sent = std::sync::Arc::new(std::sync::Mutex::new(Vec::<(String, String)>::new()));
        let mut claimers = Vec::new();
        for name in ["a", "b", "c", "d"] {
            let (store, sent) = (store.clone(), sent.clone());
            claimers.push(tokio::spawn(async move {
                let me = claimant(&instance(name));
                let mut idle = 0;
                while idle < 50 {
                    let batch = claim(&store, &me, now, 8).await.expect("claim");
                    if batch.is_empty() {
                        idle += 1;
                        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
                        continue;
                    }
                    idle = 0;
                    for message in batch {
                        // Recorded before it is marked sent: the viewer's next message cannot be
                        // claimed before that, so this is the order the viewer would see.
                        sent.lock()
                            .expect("lock")
                            .push((message.recipient.clone(), message.idem_key.clone()));
                        mark_sent(&store, &message.claim, "telegram", "1", now)
                            .await
                            .expect("mark sent");
                    }
                }
            }));
        }
        for claimer in claimers {
            claimer.await.expect("claimer");
        }
        let sent = sent.lock().expect("lock").clone();
        assert_eq!(sent.len(), VIEWERS * EACH, "every message once: {sent:?}");
        let mut keys: Vec<&str> = sent.iter().map(|(_, key)| key.as_str()).collect();
        keys.sort_unstable();
        keys.dedup();
        assert_eq!(keys.len(), VIEWERS * EACH, "no message twice");
        for v in 0..VIEWERS {
            let recipient = format!("chat:telegram:v{v:02}");
            let order: Vec<&str> = sent
                .iter()
                .filter(|(to, _)| *to == recipient)
                .map(|(_, key)| key.as_str())
                .collect();
            let expected: Vec<String> = (0..EACH).map(|m| format!("v{v:02}-m{m}")).collect();
            assert_eq!(order, expected, "{recipient} got its messages in order");
        }
    }

    async fn state(store: &Store, id: i64) -> String {
        sqlx::query_scalar("SELECT state FROM outbox WHERE id = $1")
            .bind(id)
            .fetch_one(store.pool())
            .await
            .expect("state")
    }

    #[tokio::test]
    async fn a_claim_names_its_owner_and_only_that_claim_changes_the_row() {
        let store = store().await;
        let now = Utc::now();
        enqueue_one(&store, "k1", now).await;
        let me = instance("a");
        let claimed = claim(&store, &claimant(&me), now, 10).await.expect("claim");
        assert_eq!(claimed.len(), 1);
        let mine = claimed[0].claim.clone();
        assert_eq!(mine.owner, me.id);
        let stale = Claim {
            token: "not-the-token".to_string(),
            ..mine.clone()
        };
        finish_unsent(&store, &stale, OutboxState::Failed, "x", None)
            .await
            .expect("store");
        assert_eq!(
            state(&store, mine.id).await,
            "claimed",
            "a stale claim changes nothing"
        );
        let mut conn = store.conn().await.expect("conn");
        assert!(
            !mark_sending(&mut conn, &stale, "telegram")
                .await
                .expect("store")
        );
        assert!(
            mark_sending(&mut conn, &mine, "telegram")
                .await
                .expect("store")
        );
        drop(conn);
        mark_sent(&store, &mine, "telegram", "42", now)
            .await
            .expect("store");
        assert_eq!(state(&store, mine.id).await, "sent");
    }

    #[tokio::test]
    async fn recovery_takes_only_the_rows_of_a_dead_instance_never_a_live_or_its_own() {
        let store = store().await;
        let now = Utc::now();
        let long_ago = now - chrono::Duration::hours(1);
        for key in ["live", "dead-claimed", "dead-sending", "mine"] {
            enqueue_one(&store, key, long_ago).await;
        }
        let (live, dead, me) = (instance("live"), instance("dead"), instance("me"));
        // Claimed an hour ago, each by its owner; only `dead` stopped beating.
        let take = |who: &Instance| claim_one(&store, claimant(who), long_ago);
        let live_claim = take(&live).await;
        let dead_claimed = take(&dead).await;
        let dead_sending = take(&dead).await;
        let my_claim = take(&me).await;
        let mut conn = store.conn().await.expect("conn");
        for on_the_wire in [&live_claim, &dead_sending, &my_claim] {
            assert!(
                mark_sending(&mut conn, on_the_wire, "telegram")
                    .await
                    .expect("store")
            );
        }
        drop(conn);
        instances::register(&store, &live, now).await.expect("beat");
        instances::register(&store, &dead, now - chrono::Duration::minutes(1))
            .await
            .expect("beat");
        // `me` beat long ago too: its own rows are still never touched.
        instances::register(&store, &me, long_ago)
            .await
            .expect("beat");

        let dead_before = crate::cluster::LeaseTimes::default().dead_before(now);
        let recovered = recover_orphaned(&store, &me.id, dead_before, now)
            .await
            .expect("recover");
        assert_eq!(
            recovered,
            (1, 1),
            "the dead instance's claimed and sending rows"
        );
        assert_eq!(state(&store, live_claim.id).await, "sending");
        assert_eq!(state(&store, my_claim.id).await, "sending");
        assert_eq!(state(&store, dead_claimed.id).await, "queued");
        assert_eq!(state(&store, dead_sending.id).await, "queued");
        // The dead owner's late write is refused: the row is someone else's to send now.
        mark_sent(&store, &dead_sending, "telegram", "1", now)
            .await
            .expect("store");
        assert_eq!(state(&store, dead_sending.id).await, "queued");
    }

    async fn claim_one(store: &Store, who: Claimant, now: DateTime<Utc>) -> Claim {
        let claimed = claim(store, &who, now, 1).await.expect("claim");
        assert_eq!(claimed.len(), 1, "one message was due");
        claimed[0].claim.clone()
    }

    /// `name` takes the free sender lease at `now`: a claimant with its fence.
    async fn holding_the_lease(store: &Store, name: &str, now: DateTime<Utc>) -> Claimant {
        let who = instance(name);
        let ttl = crate::cluster::LeaseTimes::default().lease_chrono();
        let lease = instances::acquire_lease(store, &who, now, ttl)
            .await
            .expect("store")
            .expect("free");
        Claimant {
            instance: who.id,
            fence: Some(lease.fence),
        }
    }

    /// Another instance takes the lease taken at `now` once it expired; returns that moment.
    async fn take_over_after_expiry(store: &Store, now: DateTime<Utc>) -> DateTime<Utc> {
        let ttl = crate::cluster::LeaseTimes::default().lease_chrono();
        let later = now + ttl + chrono::Duration::seconds(1);
        instances::acquire_lease(store, &instance("new"), later, ttl)
            .await
            .expect("store")
            .expect("expired lease taken over");
        later
    }

    #[tokio::test]
    async fn a_batch_is_marked_sending_and_sent_only_where_its_claims_still_hold() {
        let store = store().await;
        let now = Utc::now();
        for key in ["k1", "k2", "k3"] {
            enqueue_one(&store, key, now).await;
        }
        enqueue_one(&store, "k4", now).await;
        let fenced = holding_the_lease(&store, "a", now).await;
        let claimed = claim(&store, &fenced, now, 3).await.expect("claim");
        assert_eq!(claimed.len(), 3);
        let unfenced = claim(&store, &claimant(&instance("b")), now, 1)
            .await
            .expect("claim");
        // Cancelled while it waited for its turn (`/stop`): not ours to send any more.
        sqlx::query("UPDATE outbox SET state = 'cancelled' WHERE id = $1")
            .bind(claimed[1].id)
            .execute(store.pool())
            .await
            .expect("cancel");
        let mut batch: Vec<(&Claim, &str)> =
            claimed.iter().map(|m| (&m.claim, "telegram")).collect();
        batch.push((&unfenced[0].claim, "telegram"));
        let mut tx = store.begin_rows().await.expect("begin");
        let claims: Vec<&Claim> = batch.iter().map(|(c, _)| *c).collect();
        lock_batch_for_rendering(&mut tx, &claims)
            .await
            .expect("lock");
        let mut marked = mark_batch_sending(&mut tx, &batch).await.expect("sending");
        tx.commit().await.expect("commit");
        marked.sort_unstable();
        assert_eq!(marked, [claimed[0].id, claimed[2].id, unfenced[0].id]);
        assert_eq!(state(&store, claimed[1].id).await, "cancelled");

        let record = |claim: &Claim| SentRecord {
            claim: claim.clone(),
            platform: "telegram".to_string(),
            platform_message_id: format!("m{}", claim.id),
            at: now,
        };
        let stale = Claim {
            token: "someone else's".to_string(),
            ..claimed[2].claim.clone()
        };
        let sent = [
            record(&claimed[0].claim),
            record(&stale),
            record(&unfenced[0].claim),
        ];
        // Twice, as after an answer lost on the way back: the same outcome.
        for _ in 0..2 {
            mark_batch_sent(&store, &sent).await.expect("sent");
        }
        assert_eq!(state(&store, claimed[0].id).await, "sent");
        assert_eq!(state(&store, unfenced[0].id).await, "sent");
        assert_eq!(
            state(&store, claimed[2].id).await,
            "sending",
            "a stale claim changes nothing"
        );
        let id: Option<String> =
            sqlx::query_scalar("SELECT platform_message_id FROM outbox WHERE id = $1")
                .bind(claimed[0].id)
                .fetch_one(store.pool())
                .await
                .expect("row");
        assert_eq!(id, Some(format!("m{}", claimed[0].id)));
    }

    #[tokio::test]
    async fn a_deposed_holder_marks_no_row_of_a_batch_sending() {
        let store = store().await;
        let now = Utc::now();
        enqueue_one(&store, "k1", now).await;
        enqueue_one(&store, "k2", now).await;
        let fenced = holding_the_lease(&store, "old", now).await;
        let claimed = claim(&store, &fenced, now, 10).await.expect("claim");
        assert_eq!(claimed.len(), 2);
        take_over_after_expiry(&store, now).await;
        let batch: Vec<(&Claim, &str)> = claimed.iter().map(|m| (&m.claim, "telegram")).collect();
        let mut tx = store.begin_rows().await.expect("begin");
        let marked = mark_batch_sending(&mut tx, &batch).await.expect("sending");
        tx.commit().await.expect("commit");
        assert!(marked.is_empty(), "the fence refuses the whole batch");
        assert_eq!(state(&store, claimed[0].id).await, "claimed");
    }

    #[tokio::test]
    async fn a_claim_waits_for_no_row_a_flow_holds_so_the_two_cannot_deadlock() {
        let store = store().await;
        if !store.is_postgres() {
            // SQLite's one write lock serializes a claim and a flow whole; no row locks.
            return;
        }
        let now = Utc::now();
        enqueue_to(&store, "bulk", "chat:telegram:v1", now).await;
        let interactive = NewMessage {
            lane: Lane::Interactive.as_i64(),
            ..new_message("reply", "chat:telegram:v1", now)
        };
        let mut conn = store.conn().await.expect("conn");
        assert!(
            enqueue(&mut conn, &interactive, now)
                .await
                .expect("enqueue")
        );
        drop(conn);
        // A flow's transaction holds the viewer's queued bulk message (as cancelling it would).
        let mut flow = store.begin_rows().await.expect("begin");
        sqlx::query("SELECT id FROM outbox WHERE idem_key = 'bulk' FOR UPDATE")
            .fetch_one(flow.db())
            .await
            .expect("lock");
        // The claim neither waits for it nor takes the reply past it.
        let claimed = tokio::time::timeout(
            std::time::Duration::from_secs(5),
            claim(&store, &claimant(&instance("a")), now, 10),
        )
        .await
        .expect("a claim does not wait for a flow's row lock")
        .expect("claim");
        assert!(
            claimed.is_empty(),
            "the reply waits behind the bulk message: {claimed:?}"
        );
        flow.commit().await.expect("commit");
        // Released: the bulk message is promoted and goes first, then the reply.
        let claimed = claim(&store, &claimant(&instance("a")), now, 10)
            .await
            .expect("claim");
        assert_eq!(
            claimed
                .iter()
                .map(|m| m.idem_key.as_str())
                .collect::<Vec<_>>(),
            ["bulk"]
        );
        assert_eq!(
            claimed[0].lane,
            Lane::Interactive,
            "promoted to the reply's lane"
        );
    }

    #[tokio::test]
    async fn a_sender_whose_lease_moved_on_claims_nothing() {
        let store = store().await;
        let now = Utc::now();
        enqueue_one(&store, "k1", now).await;
        let fenced = holding_the_lease(&store, "old", now).await;
        let later = take_over_after_expiry(&store, now).await;
        let claimed = claim(&store, &fenced, later, 10).await.expect("claim");
        assert!(claimed.is_empty(), "a deposed sender claims nothing");
    }

    #[tokio::test]
    async fn a_deposed_holder_cannot_put_a_message_it_claimed_before_on_the_wire() {
        let store = store().await;
        let now = Utc::now();
        enqueue_one(&store, "k1", now).await;
        enqueue_one(&store, "k2", now).await;
        let fenced = holding_the_lease(&store, "old", now).await;
        let claimed = claim(&store, &fenced, now, 10).await.expect("claim");
        assert_eq!(claimed.len(), 2, "claimed while it held the lease");
        let mut conn = store.conn().await.expect("conn");
        assert!(
            mark_sending(&mut conn, &claimed[0].claim, "telegram")
                .await
                .expect("store"),
            "still the holder"
        );
        drop(conn);
        // Paused past its lease; another instance took over before recovering anything.
        take_over_after_expiry(&store, now).await;
        let mut conn = store.conn().await.expect("conn");
        assert!(
            !mark_sending(&mut conn, &claimed[1].claim, "telegram")
                .await
                .expect("store"),
            "the old fence starts no send"
        );
        drop(conn);
        assert_eq!(state(&store, claimed[1].id).await, "claimed");
        // What it finds it cannot send, it puts back for the new holder.
        release(&store, &claimed[1].claim).await.expect("store");
        release(&store, &claimed[0].claim).await.expect("store");
        assert_eq!(state(&store, claimed[1].id).await, "queued");
        assert_eq!(
            state(&store, claimed[0].id).await,
            "queued",
            "a send stopped before the wire goes back too"
        );
    }

    #[tokio::test]
    async fn an_unknown_outcome_is_kept_as_unknown_or_queued_once_more() {
        let store = store().await;
        let now = Utc::now();
        enqueue_one(&store, "k1", now).await;
        enqueue_one(&store, "k2", now).await;
        let me = instance("me");
        let claimed = claim(&store, &claimant(&me), now, 10).await.expect("claim");
        record_unknown_outcome(&store, &claimed[0].claim, None, "timeout", "telegram")
            .await
            .expect("store");
        record_unknown_outcome(&store, &claimed[1].claim, Some(now), "timeout", "telegram")
            .await
            .expect("store");
        assert_eq!(state(&store, claimed[0].id).await, "unknown");
        assert_eq!(state(&store, claimed[1].id).await, "queued");
        let again = claim(&store, &claimant(&me), now, 10).await.expect("claim");
        assert_eq!(
            again[0].unknown_outcomes, 1,
            "the next try knows of the first"
        );
    }
}
