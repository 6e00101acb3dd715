//! Carts left without ordering (`cart.abandoned`), read by the cart-reminder journey (CONTRACT
//! §6). Deleted with stored events after `retention.event_days` (`store::retention`).

use chrono::{DateTime, Utc};
use sqlx::Row;

use super::{Conn, StoreError, StoreResult, parse_ts, ts};
use crate::domain::events::{CartRecord, OrderItem};

/// A stored cart, as the reminder reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredCart {
    pub id: String,
    pub customer_id: String,
    pub items: Vec<OrderItem>,
    pub abandoned_at: DateTime<Utc>,
}

/// Stores a cart once. The same cart sent again (a replay, or a new event id for the same cart)
/// changes nothing: it never earns a second reminder.
pub async fn record_cart(
    conn: &mut Conn,
    cart: &CartRecord,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let items = serde_json::to_string(&cart.items)
        .map_err(|e| StoreError::Corrupt(format!("a cart's items could not be written: {e}")))?;
    sqlx::query(
        "INSERT INTO carts (id, customer_id, broadcast_id, items, abandoned_at, received_at)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (id) DO NOTHING",
    )
    .bind(&cart.id)
    .bind(&cart.customer_id)
    .bind(cart.broadcast_id.as_deref())
    .bind(items)
    .bind(ts(cart.abandoned_at))
    .bind(ts(now))
    .execute(conn.db())
    .await?;
    Ok(())
}

/// Carts of linked customers left in `(left_after, left_before]`, oldest first.
pub async fn carts_left_between(
    conn: &mut Conn,
    left_after: DateTime<Utc>,
    left_before: DateTime<Utc>,
) -> StoreResult<Vec<StoredCart>> {
    let rows = sqlx::query(
        "SELECT c.id, c.customer_id, c.items, c.abandoned_at FROM carts c
          WHERE c.abandoned_at > $1 AND c.abandoned_at <= $2
            AND EXISTS (SELECT 1 FROM identities i WHERE i.customer_id = c.customer_id)
          ORDER BY c.abandoned_at, c.id",
    )
    .bind(ts(left_after))
    .bind(ts(left_before))
    .fetch_all(conn.db())
    .await?;
    rows.iter()
        .map(|row| {
            let items: String = row.try_get("items")?;
            let at: String = row.try_get("abandoned_at")?;
            Ok(StoredCart {
                id: row.try_get("id")?,
                customer_id: row.try_get("customer_id")?,
                items: serde_json::from_str(&items).map_err(|e| {
                    StoreError::Corrupt(format!("a stored cart's items do not parse: {e}"))
                })?,
                abandoned_at: parse_ts(&at)?,
            })
        })
        .collect()
}

/// The skus a customer ordered at or after `since`.
pub async fn skus_ordered_since(
    conn: &mut Conn,
    customer_id: &str,
    since: DateTime<Utc>,
) -> StoreResult<Vec<String>> {
    Ok(sqlx::query_scalar(
        "SELECT DISTINCT i.sku FROM orders o JOIN order_items i ON i.order_id = o.id
          WHERE o.customer_id = $1 AND o.placed_at >= $2",
    )
    .bind(customer_id)
    .bind(ts(since))
    .fetch_all(conn.db())
    .await?)
}
