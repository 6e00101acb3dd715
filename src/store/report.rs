//! The queries behind the broadcast report. Counts only; the report type lives in
//! `crate::report`.

use sqlx::Row;

use super::{Conn, Store, StoreResult};
use crate::report::{BroadcastReport, DeliveryCounts, FeedbackCounts};

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
        let mut conn = self.pool().acquire().await?;
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
            .fetch_optional(&mut *conn)
            .await?;
    let row = sqlx::query(
            "SELECT COUNT(DISTINCT o.customer_id) AS buyers,
                    COUNT(DISTINCT CASE WHEN EXISTS (SELECT 1 FROM identities i WHERE i.customer_id = o.customer_id)
                                        THEN o.customer_id END) AS linked
             FROM orders o WHERE o.broadcast_id = $1",
        )
        .bind(broadcast_id)
        .fetch_one(&mut *conn)
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
            .fetch_all(&mut *conn)
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
                // order_note:<status>[@<eta>]:<order id> (see flows::order_notes).
                let notes = &mut report.order_notes;
                let status = key.split(':').nth(1).and_then(|s| s.split('@').next());
                match status {
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
    Ok(Some(report))
}

async fn fill_feedback(conn: &mut Conn, report: &mut BroadcastReport) -> StoreResult<()> {
    let entries = super::feedback::on_broadcast(conn, &report.broadcast_id).await?;
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
