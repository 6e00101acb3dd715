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
    pub async fn broadcast_report(
        &self,
        broadcast_id: &str,
    ) -> StoreResult<Option<BroadcastReport>> {
        let mut conn = self.pool().acquire().await?;
        broadcast_report(&mut conn, broadcast_id).await
    }
}

/// The report, read inside the caller's connection (the staff command runs in a transaction).
pub async fn broadcast_report(
    conn: &mut Conn,
    broadcast_id: &str,
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
    Ok(Some(report))
}
