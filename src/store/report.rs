//! The queries behind the broadcast report. Counts only; the report type lives in
//! `crate::report`.

use sqlx::Row;

use chrono::{DateTime, Utc};

use super::{Conn, Store, StoreResult, ts};
use crate::domain::keys::IdemKey;
use crate::report::{
    AdvertisingCounts, BroadcastReport, CodeCounts, DeliveryCounts, FeedbackCounts, PeriodReport,
};

fn add_outcome(counts: &mut DeliveryCounts, state: &str, n: i64) {
    match state {
        "sent" => {
            counts.sent += n;
            counts.delivered += n;
        }
        "failed" | "unreachable" => {
            counts.sent += n;
            counts.failed += n;
        }
        "blocked" => {
            counts.sent += n;
            counts.blocked += n;
        }
        // Written, no answer (docs/delivery.md): sent, but neither delivered nor failed.
        "unknown" => counts.sent += n,
        _ => {}
    }
}

impl Store {
    /// None when the broadcast is unknown (no broadcast row and no orders).
    /// `promise_hours` is `policy.handoff_first_response_hours`: what "answered within the
    /// promise" is measured against.
    pub async fn broadcast_report(
        &self,
        broadcast_id: &str,
        promise_hours: i64,
    ) -> StoreResult<Option<BroadcastReport>> {
        let mut conn = self.conn().await?;
        broadcast_report(&mut conn, broadcast_id, promise_hours).await
    }
}

/// The report, read inside the caller's connection (the staff command runs in a transaction).
pub async fn broadcast_report(
    conn: &mut Conn,
    broadcast_id: &str,
    promise_hours: i64,
) -> StoreResult<Option<BroadcastReport>> {
    let title: Option<Option<String>> =
        sqlx::query_scalar("SELECT title FROM broadcasts WHERE id = $1")
            .bind(broadcast_id)
            .fetch_optional(conn.db())
            .await?;
    // A forgotten buyer's identities are gone, but their tombstone remembers they were linked,
    // so forgetting someone does not change the counts (CONTRACT §6).
    let row = sqlx::query(
            "SELECT COUNT(DISTINCT o.customer_id) AS buyers,
                    COUNT(DISTINCT CASE WHEN EXISTS (SELECT 1 FROM identities i WHERE i.customer_id = o.customer_id)
                                          OR EXISTS (SELECT 1 FROM tombstones t WHERE t.pseudonym = o.customer_id AND t.was_linked = 1)
                                        THEN o.customer_id END) AS linked
             FROM orders o WHERE o.broadcast_id = $1",
        )
        .bind(broadcast_id)
        .fetch_one(conn.db())
        .await?;
    let buyers: i64 = row.try_get("buyers")?;
    let linked: i64 = row.try_get("linked")?;
    if title.is_none() && buyers == 0 {
        return Ok(None);
    }
    let mut report = BroadcastReport {
        broadcast_id: broadcast_id.to_string(),
        title: title.flatten(),
        buyers,
        linked_buyers: linked,
        unlinked_buyers: buyers - linked,
        feedback: FeedbackCounts::empty(),
        ..BroadcastReport::default()
    };
    let rows =
        sqlx::query("SELECT flow, kind, state, idem_key FROM outbox WHERE broadcast_id = $1")
            .bind(broadcast_id)
            .fetch_all(conn.db())
            .await?;
    for row in rows {
        let flow: String = row.try_get("flow")?;
        let kind: String = row.try_get("kind")?;
        let state: String = row.try_get("state")?;
        let key: String = row.try_get("idem_key")?;
        add_outcome(report.messages_by_kind.entry(kind).or_default(), &state, 1);
        match flow.as_str() {
            "thank_you" => add_outcome(&mut report.thank_you, &state, 1),
            "order_note" if state == "sent" => {
                let notes = &mut report.order_notes;
                let status = IdemKey::order_note_status_of(&key);
                match status.as_deref() {
                    Some("shipped") => notes.shipped += 1,
                    Some("delayed") => notes.delayed += 1,
                    Some("delivered") => notes.delivered += 1,
                    Some("cancelled") => notes.cancelled += 1,
                    Some("refunded") => notes.refunded += 1,
                    _ => {}
                }
            }
            _ => {}
        }
    }
    fill_feedback(conn, &mut report).await?;
    fill_handoffs(conn, &mut report, promise_hours).await?;
    report.codes = broadcast_codes(conn, broadcast_id).await?;
    report.advertising = advertising_counts(conn, "broadcast_id = $1", broadcast_id).await?;
    Ok(Some(report))
}

/// Codes around one broadcast: code messages delivered to its buyers, and redemptions on its
/// orders (violations: by a customer the code was not sent to).
async fn broadcast_codes(conn: &mut Conn, broadcast_id: &str) -> StoreResult<CodeCounts> {
    let row = sqlx::query(
        "SELECT
           (SELECT COUNT(*) FROM code_sends s JOIN outbox o ON o.idem_key = s.message_key
             WHERE o.state = 'sent'
               AND s.customer_id IN (SELECT customer_id FROM orders WHERE broadcast_id = $1)) AS sent,
           (SELECT COUNT(*) FROM code_redemptions r JOIN orders o ON o.id = r.order_id
             WHERE o.broadcast_id = $1) AS redeemed,
           (SELECT COUNT(*) FROM code_redemptions r JOIN orders o ON o.id = r.order_id
             WHERE o.broadcast_id = $1 AND r.violation = 1) AS violations",
    )
    .bind(broadcast_id)
    .fetch_one(conn.db())
    .await?;
    Ok(CodeCounts {
        sent: row.try_get("sent")?,
        redeemed: row.try_get("redeemed")?,
        violations: row.try_get("violations")?,
    })
}

/// What the send gate did with advertising matching `filter` (a condition on outbox rows
/// with `$1` as its one parameter).
async fn advertising_counts(
    conn: &mut Conn,
    filter: &str,
    value: &str,
) -> StoreResult<AdvertisingCounts> {
    let sql = format!(
        "SELECT
           COALESCE(SUM(CASE WHEN held_for_quiet_hours = 1 THEN 1 ELSE 0 END), 0) AS held,
           COALESCE(SUM(CASE WHEN postponed_by_cap = 1 THEN 1 ELSE 0 END), 0) AS postponed,
           COALESCE(SUM(CASE WHEN state = 'refused' THEN 1 ELSE 0 END), 0) AS refused,
           COALESCE(SUM(CASE WHEN state = 'expired' THEN 1 ELSE 0 END), 0) AS expired
         FROM outbox WHERE kind = 'advertising' AND {filter}"
    );
    let row = sqlx::query(&sql).bind(value).fetch_one(conn.db()).await?;
    Ok(AdvertisingCounts {
        held_for_quiet_hours: row.try_get("held")?,
        postponed_by_cap: row.try_get("postponed")?,
        refused_without_consent: row.try_get("refused")?,
        expired: row.try_get("expired")?,
    })
}

impl Store {
    /// The period report (CONTRACT §7): what belongs to no broadcast, since `since`.
    pub async fn period_report(&self, since: DateTime<Utc>) -> StoreResult<PeriodReport> {
        let campaigns = self.codes_by_campaign(since).await?;
        let journeys = self.journey_outcomes(since).await?;
        let mut conn = self.conn().await?;
        let row = sqlx::query(
            "SELECT
               (SELECT COUNT(*) FROM code_sends s JOIN outbox o ON o.idem_key = s.message_key
                 WHERE o.state = 'sent' AND o.sent_at >= $1) AS sent,
               (SELECT COUNT(*) FROM code_redemptions WHERE redeemed_at >= $1) AS redeemed,
               (SELECT COUNT(*) FROM code_redemptions WHERE redeemed_at >= $1 AND violation = 1) AS violations",
        )
        .bind(ts(since))
        .fetch_one(conn.db())
        .await?;
        let codes = CodeCounts {
            sent: row.try_get("sent")?,
            redeemed: row.try_get("redeemed")?,
            violations: row.try_get("violations")?,
        };
        let advertising = advertising_counts(
            &mut conn,
            "broadcast_id IS NULL AND created_at >= $1",
            &ts(since),
        )
        .await?;
        Ok(PeriodReport {
            since: ts(since),
            codes,
            campaigns,
            journeys,
            advertising,
        })
    }
}

async fn fill_feedback(conn: &mut Conn, report: &mut BroadcastReport) -> StoreResult<()> {
    let entries = super::feedback::on_broadcast(conn, &report.broadcast_id).await?;
    // Comments removed by forgetting were comments all the same (CONTRACT §6: counts stay).
    let removed: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM feedback WHERE subject = 'broadcast' AND subject_id = $1 AND comment_removed = 1",
    )
    .bind(&report.broadcast_id)
    .fetch_one(conn.db())
    .await?;
    let fb = &mut report.feedback;
    for entry in &entries {
        *fb.distribution.entry(entry.rating.to_string()).or_default() += 1;
        if entry
            .comment
            .as_deref()
            .is_some_and(|c| !c.trim().is_empty())
        {
            fb.comments += 1;
        }
    }
    fb.comments += removed;
    fb.count = entries.len() as i64;
    if fb.count > 0 {
        let sum: i64 = entries.iter().map(|e| e.rating).sum();
        // One decimal, as people read a mean rating.
        fb.mean = Some((sum as f64 / fb.count as f64 * 10.0).round() / 10.0);
    }
    Ok(())
}

async fn fill_handoffs(
    conn: &mut Conn,
    report: &mut BroadcastReport,
    promise_hours: i64,
) -> StoreResult<()> {
    let tickets = super::tickets::of_broadcast(conn, &report.broadcast_id).await?;
    let promise = chrono::Duration::hours(promise_hours);
    let h = &mut report.handoffs;
    h.opened = tickets.len() as i64;
    h.open = tickets.iter().filter(|t| t.closed_at.is_none()).count() as i64;
    h.answered_within_promise = tickets
        .iter()
        .filter(|t| {
            t.first_response_at
                .is_some_and(|at| at - t.opened_at <= promise)
        })
        .count() as i64;
    Ok(())
}
