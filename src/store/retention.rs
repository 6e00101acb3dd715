//! `[retention]` (CONTRACT §2): scrubbing what is no longer needed — the texts and payloads of
//! finished messages, stored event payloads, the messages viewers wrote, processed update ids,
//! handled Telegram webhook updates —
//! while every row the reports count stays, with its flow, kind, state, key and times.
//!
//! This module owns which rows are old enough and what of them is removed. It never deletes an
//! outbox row, an event row or anything a report counts, never touches a message that may still
//! be sent (only finished states are scrubbed), and never holds the write lock for long: every
//! change is made in short batches.

use chrono::{DateTime, Duration, Utc};

use super::{Store, StoreResult, ts};
use crate::config::RetentionConfig;
use crate::domain::OutboxState;

/// Rows changed per transaction, so a running bot's writes never wait long behind a prune.
const BATCH: i64 = 500;

/// Outbox states after which a message is never sent again. A state another part adds later
/// is left alone until it is named here: keeping a payload too long is the safe mistake.
const FINISHED: [OutboxState; 9] = [
    OutboxState::Sent,
    OutboxState::Failed,
    OutboxState::Blocked,
    OutboxState::Unreachable,
    OutboxState::Cancelled,
    OutboxState::Refused,
    OutboxState::Unknown,
    OutboxState::Expired,
    OutboxState::NoTemplate,
];

/// The payload a scrubbed message keeps: it names nothing (the same as forgetting leaves).
const SCRUBBED: &str = "{}";

/// What one prune removed (or, on a dry run, would remove).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pruned {
    /// Finished messages whose payload was scrubbed.
    pub message_payloads: u64,
    /// Messages viewers wrote (kept for the hand-off card) that were deleted.
    pub viewer_texts: u64,
    /// Stored events (applied or expired) whose payload was scrubbed.
    pub event_payloads: u64,
    /// Events for the shop that were given up, whose body was scrubbed.
    pub shop_event_bodies: u64,
    /// Processed platform update ids forgotten.
    pub update_ids: u64,
    /// Set-aside updates and messages (`encore deadletters`) deleted: they hold viewers' words.
    pub dead_letters: u64,
    /// Handled Telegram updates taken by webhook, forgotten.
    pub webhook_updates: u64,
    /// Carts left (`cart.abandoned`) deleted, like stored events: they name what a viewer chose.
    pub carts: u64,
}

impl Pruned {
    /// The lines `encore prune` prints.
    pub fn summary(&self, dry_run: bool) -> String {
        let verb = if dry_run { "would scrub" } else { "scrubbed" };
        let forget = if dry_run { "would forget" } else { "forgot" };
        let lines = [
            format!(
                "{verb} the texts of {} finished message(s)",
                self.message_payloads
            ),
            format!(
                "{verb} {} message(s) viewers wrote to the bot",
                self.viewer_texts
            ),
            format!(
                "{verb} the payloads of {} stored event(s)",
                self.event_payloads
            ),
            format!(
                "{verb} the bodies of {} undelivered event(s) for the shop",
                self.shop_event_bodies
            ),
            format!(
                "{forget} {} processed platform update id(s)",
                self.update_ids
            ),
            format!(
                "{forget} {} set-aside update(s) and message(s)",
                self.dead_letters
            ),
            format!(
                "{forget} {} handled Telegram webhook update(s)",
                self.webhook_updates
            ),
            format!("{forget} {} abandoned cart(s)", self.carts),
            "report counts are kept".to_string(),
        ];
        lines.join("\n")
    }
}

/// The statements of one kind of scrub: how to count what is due and how to change one batch.
struct Scrub {
    count: String,
    batch: String,
}

impl Scrub {
    /// Rows of `table` matching `due` (with `$1` the cutoff) get `change`, keyed by `key`.
    fn update(table: &str, key: &str, change: &str, due: &str) -> Scrub {
        Scrub {
            count: format!("SELECT COUNT(*) FROM {table} WHERE {due}"),
            batch: format!(
                "UPDATE {table} SET {change} WHERE {key} IN (SELECT {key} FROM {table} WHERE {due} LIMIT {BATCH})"
            ),
        }
    }

    /// Rows of `table` matching `due` are deleted.
    fn delete(table: &str, key: &str, due: &str) -> Scrub {
        Scrub {
            count: format!("SELECT COUNT(*) FROM {table} WHERE {due}"),
            batch: format!(
                "DELETE FROM {table} WHERE {key} IN (SELECT {key} FROM {table} WHERE {due} LIMIT {BATCH})"
            ),
        }
    }

    /// Counts, or applies in batches until nothing is due; returns how many rows.
    async fn run(&self, store: &Store, cutoff: DateTime<Utc>, dry_run: bool) -> StoreResult<u64> {
        let cutoff = ts(cutoff);
        if dry_run {
            let mut conn = store.conn().await?;
            let n: i64 = sqlx::query_scalar(&self.count)
                .bind(&cutoff)
                .fetch_one(conn.db())
                .await?;
            return Ok(u64::try_from(n).unwrap_or(0));
        }
        let mut total = 0;
        loop {
            let mut tx = store.begin().await?;
            let done = sqlx::query(&self.batch)
                .bind(&cutoff)
                .execute(tx.db())
                .await?
                .rows_affected();
            tx.commit().await?;
            total += done;
            if done == 0 {
                return Ok(total);
            }
        }
    }
}

/// Applies `retention` at `now` (or only counts, on a dry run).
pub async fn prune(
    store: &Store,
    retention: &RetentionConfig,
    now: DateTime<Utc>,
    dry_run: bool,
) -> StoreResult<Pruned> {
    let before = |days: u32| now - Duration::days(i64::from(days));
    let finished = FINISHED
        .iter()
        .map(|state| format!("'{}'", state.as_str()))
        .collect::<Vec<_>>()
        .join(", ");
    let messages = Scrub::update(
        "outbox",
        "id",
        &format!("payload = '{SCRUBBED}'"),
        &format!(
            "state IN ({finished}) AND COALESCE(sent_at, created_at) < $1 AND payload <> '{SCRUBBED}'"
        ),
    );
    let viewer_texts = Scrub::delete("viewer_messages", "id", "at < $1");
    // A pending event still needs its payload to be applied; its body hash stays, so a replay
    // is still known as a duplicate (or a conflict).
    let events = Scrub::update(
        "events",
        "id",
        &format!("payload = '{SCRUBBED}'"),
        &format!(
            "state IN ('applied', 'expired') AND received_at < $1 AND payload <> '{SCRUBBED}'"
        ),
    );
    // Delivered ones are emptied at delivery; pending ones are still to be posted.
    let shop_events = Scrub::update(
        "events_out",
        "seq",
        "body = ''",
        "state = 'failed' AND created_at < $1 AND body <> ''",
    );
    let updates = Scrub::delete("processed_updates", "rowid", "processed_at < $1");
    let dead_letters = Scrub::delete("dead_letters", "id", "created_at < $1");
    let webhook_updates = Scrub::delete("telegram_updates", "update_id", "handled_at < $1");
    // A cart's reminder expires a week after it was left; the cart goes with the events.
    let carts = Scrub::delete("carts", "id", "abandoned_at < $1");
    let message_cutoff = before(retention.message_days);
    let event_cutoff = before(retention.event_days);
    Ok(Pruned {
        message_payloads: messages.run(store, message_cutoff, dry_run).await?,
        viewer_texts: viewer_texts.run(store, message_cutoff, dry_run).await?,
        event_payloads: events.run(store, event_cutoff, dry_run).await?,
        shop_event_bodies: shop_events.run(store, event_cutoff, dry_run).await?,
        update_ids: updates
            .run(store, before(retention.update_days), dry_run)
            .await?,
        dead_letters: dead_letters.run(store, message_cutoff, dry_run).await?,
        // Processed update ids, like `processed_updates`: kept `update_days`.
        webhook_updates: webhook_updates
            .run(store, before(retention.update_days), dry_run)
            .await?,
        carts: carts.run(store, event_cutoff, dry_run).await?,
    })
}
