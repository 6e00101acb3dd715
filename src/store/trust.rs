//! What trust recovery reads (CONTRACT §6): the signs in a customer's history (a delayed
//! order, a low rating, a cancellation or refund, a ticket) and the shop's `/changed` notes.

use chrono::{DateTime, Utc};
use sqlx::Row;

use super::{Conn, StoreError, StoreResult, parse_ts, ts};
use crate::domain::trust::{Cause, Sign};

/// `/changed CAUSE text`: kept; the newest per cause is quoted.
pub async fn record_change(
    conn: &mut Conn,
    cause: Cause,
    note: &str,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    sqlx::query("INSERT INTO shop_changes (cause, note, noted_at) VALUES ($1, $2, $3)")
        .bind(cause.as_str())
        .bind(note)
        .bind(ts(now))
        .execute(conn.db())
        .await?;
    Ok(())
}

/// The newest `/changed` note for `cause`, if staff wrote one.
pub async fn newest_change(conn: &mut Conn, cause: Cause) -> StoreResult<Option<String>> {
    Ok(sqlx::query_scalar(
        "SELECT note FROM shop_changes WHERE cause = $1 ORDER BY noted_at DESC, id DESC LIMIT 1",
    )
    .bind(cause.as_str())
    .fetch_optional(conn.db())
    .await?)
}

/// The latest sign of each cause in the customer's history.
pub async fn signs_of(conn: &mut Conn, customer_id: &str) -> StoreResult<Vec<Sign>> {
    let rows = sqlx::query(
        "SELECT cause, MAX(at) AS at FROM (
             SELECT CASE WHEN h.status = 'delayed' THEN 'delivery' ELSE 'quality' END AS cause,
                    h.occurred_at AS at
               FROM order_status_history h JOIN orders o ON o.id = h.order_id
              WHERE o.customer_id = $1 AND h.status IN ('delayed', 'cancelled', 'refunded')
             UNION ALL
             SELECT 'quality', f.created_at
               FROM feedback f WHERE f.customer_id = $1 AND f.rating <= 2
             UNION ALL
             SELECT 'quality', r.rated_at FROM checkin_ratings r
              WHERE r.customer_id = $1 AND r.rating <= 2
             UNION ALL
             SELECT 'service', t.opened_at FROM tickets t WHERE t.customer_id = $1
         ) signs GROUP BY cause",
    )
    .bind(customer_id)
    .fetch_all(conn.db())
    .await?;
    rows.iter()
        .map(|row| {
            let cause: String = row.try_get("cause")?;
            let at: String = row.try_get("at")?;
            Ok(Sign {
                cause: cause.parse().map_err(|()| {
                    StoreError::Corrupt(format!("`{cause}` is not a trust-recovery cause"))
                })?,
                at: parse_ts(&at)?,
            })
        })
        .collect()
}
