//! Broadcasts, orders, their items and status history; the staged rows of an order import.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::Row;

use super::{Conn, Store, StoreError, StoreResult, in_list, parse_ts, rows_for_ids, ts};
use crate::domain::OrderStatus;
use crate::domain::events::{OrderRecord, OrderStatusChanged};

#[derive(Debug, Clone, PartialEq)]
pub struct Broadcast {
    pub id: String,
    pub title: Option<String>,
    pub url: Option<String>,
    pub ended_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    pub sku: String,
    pub name: String,
    pub category: Option<String>,
    pub quantity: i64,
    pub unit_price: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Order {
    pub id: String,
    pub customer_id: String,
    pub broadcast_id: Option<String>,
    pub total: i64,
    pub currency: String,
    pub placed_at: DateTime<Utc>,
    pub status: OrderStatus,
    pub tracking_carrier: Option<String>,
    pub tracking_number: Option<String>,
    pub tracking_url: Option<String>,
    pub delay_reason: Option<String>,
    pub delay_eta: Option<NaiveDate>,
    pub items: Vec<Item>,
}

// ---- broadcasts --------------------------------------------------------------------------

/// Creates the broadcast or fills in what is new about it.
pub async fn upsert_broadcast(
    conn: &mut Conn,
    id: &str,
    title: Option<&str>,
    starts_at: Option<DateTime<Utc>>,
    url: Option<&str>,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO broadcasts (id, title, starts_at, url, created_at) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (id) DO UPDATE SET title = COALESCE(excluded.title, broadcasts.title),
             starts_at = COALESCE(excluded.starts_at, broadcasts.starts_at),
             url = COALESCE(excluded.url, broadcasts.url)",
    )
    .bind(id)
    .bind(title)
    .bind(starts_at.map(ts))
    .bind(url)
    .bind(ts(now))
    .execute(conn.db())
    .await?;
    Ok(())
}

pub async fn mark_broadcast_started(
    conn: &mut Conn,
    id: &str,
    at: DateTime<Utc>,
) -> StoreResult<()> {
    sqlx::query("UPDATE broadcasts SET started_at = COALESCE(started_at, $1) WHERE id = $2")
        .bind(ts(at))
        .bind(id)
        .execute(conn.db())
        .await?;
    Ok(())
}

/// Records the end (the first one counts). Returns true when this call ended it.
pub async fn mark_broadcast_ended(
    conn: &mut Conn,
    id: &str,
    at: DateTime<Utc>,
) -> StoreResult<bool> {
    let done =
        sqlx::query("UPDATE broadcasts SET ended_at = $1 WHERE id = $2 AND ended_at IS NULL")
            .bind(ts(at))
            .bind(id)
            .execute(conn.db())
            .await?;
    Ok(done.rows_affected() > 0)
}

pub async fn broadcast(conn: &mut Conn, id: &str) -> StoreResult<Option<Broadcast>> {
    Ok(broadcasts(conn, &[id]).await?.pop())
}

/// The broadcasts of `ids` that are known, in no particular order.
pub async fn broadcasts(conn: &mut Conn, ids: &[&str]) -> StoreResult<Vec<Broadcast>> {
    let rows = rows_for_ids(conn, ids, &[], |list, _| {
        format!("SELECT id, title, url, ended_at FROM broadcasts WHERE id IN ({list})")
    })
    .await?;
    rows.iter()
        .map(|row| {
            let ended: Option<String> = row.try_get("ended_at")?;
            Ok(Broadcast {
                id: row.try_get("id")?,
                title: row.try_get("title")?,
                url: row.try_get("url")?,
                ended_at: ended.as_deref().map(parse_ts).transpose()?,
            })
        })
        .collect()
}

/// Broadcasts that ended since `since` in which the customer bought something.
pub async fn recent_broadcasts_of_customer(
    conn: &mut Conn,
    customer_id: &str,
    since: DateTime<Utc>,
) -> StoreResult<Vec<String>> {
    let ids = sqlx::query_scalar(
        "SELECT DISTINCT b.id FROM broadcasts b JOIN orders o ON o.broadcast_id = b.id
         WHERE o.customer_id = $1 AND b.ended_at IS NOT NULL AND b.ended_at >= $2
         ORDER BY b.id",
    )
    .bind(customer_id)
    .bind(ts(since))
    .fetch_all(conn.db())
    .await?;
    Ok(ids)
}

// ---- orders ------------------------------------------------------------------------------

pub async fn order_exists(conn: &mut Conn, id: &str) -> StoreResult<bool> {
    let found: Option<i64> = sqlx::query_scalar("SELECT 1 FROM orders WHERE id = $1")
        .bind(id)
        .fetch_optional(conn.db())
        .await?;
    Ok(found.is_some())
}

/// Creates the order (status `placed`) or updates what the shop may correct: customer,
/// broadcast, items and total. Returns true when the order is new.
pub async fn upsert_order(
    conn: &mut Conn,
    order: &OrderRecord,
    placed_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> StoreResult<bool> {
    let existed = order_exists(conn, &order.id).await?;
    sqlx::query(
        "INSERT INTO orders (id, customer_id, broadcast_id, total, currency, placed_at, status, status_at, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, 'placed', $6, $7, $7)
         ON CONFLICT (id) DO UPDATE SET customer_id = excluded.customer_id,
             broadcast_id = excluded.broadcast_id, total = excluded.total,
             currency = excluded.currency, placed_at = excluded.placed_at,
             updated_at = excluded.updated_at",
    )
    .bind(&order.id)
    .bind(&order.customer_id)
    .bind(order.broadcast_id.as_deref().filter(|b| !b.is_empty()))
    .bind(order.total)
    .bind(&order.currency)
    .bind(ts(placed_at))
    .bind(ts(now))
    .execute(conn.db())
    .await?;
    sqlx::query("DELETE FROM order_items WHERE order_id = $1")
        .bind(&order.id)
        .execute(conn.db())
        .await?;
    for (position, item) in order.items.iter().enumerate() {
        sqlx::query(
            "INSERT INTO order_items (order_id, position, sku, name, category, quantity, unit_price)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&order.id)
        .bind(position as i64)
        .bind(&item.sku)
        .bind(&item.name)
        .bind(item.category.as_deref().filter(|c| !c.is_empty()))
        .bind(item.quantity)
        .bind(item.unit_price)
        .execute(conn.db())
        .await?;
    }
    Ok(!existed)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusApplied {
    /// The order now has this status; it had `previous` before.
    Applied { previous: OrderStatus },
    /// An older or equal status report: a late `paid` never overwrites `shipped`.
    Stale,
}

/// Applies a status change only when it happened after the status it would replace (or the
/// order has no shop status yet). Every report is kept in the history.
/// `source` says who set it: `event` (the shop's `order.status_changed`), `staff` (`/delay`) or
/// `import` (a CSV file).
pub async fn apply_status(
    conn: &mut Conn,
    change: &OrderStatusChanged,
    occurred_at: DateTime<Utc>,
    source: &str,
    now: DateTime<Utc>,
) -> StoreResult<StatusApplied> {
    let row = sqlx::query("SELECT status, status_at FROM orders WHERE id = $1")
        .bind(&change.order_id)
        .fetch_optional(conn.db())
        .await?
        .ok_or_else(|| StoreError::Corrupt(format!("order {} vanished", change.order_id)))?;
    let current: String = row.try_get("status")?;
    let current: OrderStatus = current.parse().map_err(StoreError::Corrupt)?;
    let status_at: String = row.try_get("status_at")?;
    // Compared at the precision stored (microseconds): the same moment is not "newer".
    let newer = current == OrderStatus::Placed || ts(occurred_at) > status_at;
    sqlx::query(
        "INSERT INTO order_status_history (order_id, status, occurred_at, applied, recorded_at, source)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
        .bind(&change.order_id)
        .bind(change.status.as_str())
        .bind(ts(occurred_at))
        .bind(i64::from(newer))
        .bind(ts(now))
        .bind(source)
        .execute(conn.db())
        .await?;
    if !newer {
        return Ok(StatusApplied::Stale);
    }
    sqlx::query(
        "UPDATE orders SET status = $1, status_at = $2, updated_at = $3,
             tracking_carrier = COALESCE($4, tracking_carrier),
             tracking_number = COALESCE($5, tracking_number),
             tracking_url = COALESCE($6, tracking_url),
             delay_reason = COALESCE($7, delay_reason),
             delay_eta = COALESCE($8, delay_eta),
             payment_deadline = COALESCE($9, payment_deadline)
         WHERE id = $10",
    )
    .bind(change.status.as_str())
    .bind(ts(occurred_at))
    .bind(ts(now))
    .bind(change.tracking.as_ref().map(|t| t.carrier.as_str()))
    .bind(change.tracking.as_ref().map(|t| t.number.as_str()))
    .bind(change.tracking.as_ref().and_then(|t| t.url.as_deref()))
    .bind(change.delay.as_ref().map(|d| d.reason.as_str()))
    .bind(change.delay.as_ref().map(|d| d.new_eta.to_string()))
    .bind(change.payment_deadline.map(ts))
    .bind(&change.order_id)
    .execute(conn.db())
    .await?;
    Ok(StatusApplied::Applied { previous: current })
}

const ORDER_COLUMNS: &str = "id, customer_id, broadcast_id, total, currency, placed_at, status, tracking_carrier, tracking_number, tracking_url, delay_reason, delay_eta";

fn order_from_row(row: &sqlx::any::AnyRow) -> StoreResult<Order> {
    let status: String = row.try_get("status")?;
    let placed_at: String = row.try_get("placed_at")?;
    let eta: Option<String> = row.try_get("delay_eta")?;
    Ok(Order {
        id: row.try_get("id")?,
        customer_id: row.try_get("customer_id")?,
        broadcast_id: row.try_get("broadcast_id")?,
        total: row.try_get("total")?,
        currency: row.try_get("currency")?,
        placed_at: parse_ts(&placed_at)?,
        status: status.parse().map_err(StoreError::Corrupt)?,
        tracking_carrier: row.try_get("tracking_carrier")?,
        tracking_number: row.try_get("tracking_number")?,
        tracking_url: row.try_get("tracking_url")?,
        delay_reason: row.try_get("delay_reason")?,
        delay_eta: eta
            .as_deref()
            .map(|e| NaiveDate::parse_from_str(e, "%Y-%m-%d"))
            .transpose()
            .map_err(|e| StoreError::Corrupt(format!("delay_eta: {e}")))?,
        items: Vec::new(),
    })
}

/// The orders with their items, read for all of them at once (one query per chunk of orders).
async fn with_items(conn: &mut Conn, mut orders: Vec<Order>) -> StoreResult<Vec<Order>> {
    let ids: Vec<&str> = orders.iter().map(|o| o.id.as_str()).collect();
    let rows = rows_for_ids(conn, &ids, &[], |list, _| {
        format!(
            "SELECT order_id, sku, name, category, quantity, unit_price FROM order_items
             WHERE order_id IN ({list}) ORDER BY order_id, position"
        )
    })
    .await?;
    let mut items: HashMap<String, Vec<Item>> = HashMap::new();
    for row in &rows {
        items
            .entry(row.try_get("order_id")?)
            .or_default()
            .push(Item {
                sku: row.try_get("sku")?,
                name: row.try_get("name")?,
                category: row.try_get("category")?,
                quantity: row.try_get("quantity")?,
                unit_price: row.try_get("unit_price")?,
            });
    }
    for order in &mut orders {
        order.items = items.remove(&order.id).unwrap_or_default();
    }
    Ok(orders)
}

pub async fn order(conn: &mut Conn, id: &str) -> StoreResult<Option<Order>> {
    Ok(orders_with_ids(conn, &[id]).await?.pop())
}

/// The orders of `ids` that are known, with their items, in no particular order.
pub async fn orders_with_ids(conn: &mut Conn, ids: &[&str]) -> StoreResult<Vec<Order>> {
    let rows = rows_for_ids(conn, ids, &[], |list, _| {
        format!("SELECT {ORDER_COLUMNS} FROM orders WHERE id IN ({list})")
    })
    .await?;
    let orders = rows
        .iter()
        .map(order_from_row)
        .collect::<StoreResult<Vec<_>>>()?;
    with_items(conn, orders).await
}

/// Buyers' orders in broadcasts, for `(customer, broadcast)` pairs, with their items, oldest
/// first: what thank-yous name, read for a whole batch of them at once.
pub async fn orders_in_broadcasts(
    conn: &mut Conn,
    pairs: &[(&str, &str)],
) -> StoreResult<Vec<Order>> {
    let wanted: HashSet<(&str, &str)> = pairs.iter().copied().collect();
    let mut customers: Vec<&str> = pairs.iter().map(|(c, _)| *c).collect();
    let mut broadcasts: Vec<&str> = pairs.iter().map(|(_, b)| *b).collect();
    for ids in [&mut customers, &mut broadcasts] {
        ids.sort_unstable();
        ids.dedup();
    }
    // Every pair's orders are among these; a customer's orders in another pair's broadcast are
    // read too and left out below.
    let rows = rows_for_ids(conn, &customers, &broadcasts, |list, n| {
        format!(
            "SELECT {ORDER_COLUMNS} FROM orders
             WHERE customer_id IN ({list}) AND broadcast_id IN ({})",
            in_list(n + 1, broadcasts.len())
        )
    })
    .await?;
    let mut orders = Vec::new();
    for row in &rows {
        let order = order_from_row(row)?;
        let pair = (
            order.customer_id.as_str(),
            order.broadcast_id.as_deref().unwrap_or_default(),
        );
        if wanted.contains(&pair) {
            orders.push(order);
        }
    }
    orders.sort_by(|a, b| (a.placed_at, &a.id).cmp(&(b.placed_at, &b.id)));
    with_items(conn, orders).await
}

/// The ids of a broadcast's orders that are still on their way (what `/delay` applies to).
pub async fn open_order_ids_of_broadcast(
    conn: &mut Conn,
    broadcast_id: &str,
) -> StoreResult<Vec<String>> {
    let rows =
        sqlx::query("SELECT id, status FROM orders WHERE broadcast_id = $1 ORDER BY placed_at, id")
            .bind(broadcast_id)
            .fetch_all(conn.db())
            .await?;
    let mut open = Vec::new();
    for row in rows {
        let status: String = row.try_get("status")?;
        if status
            .parse::<OrderStatus>()
            .map_err(StoreError::Corrupt)?
            .is_open()
        {
            open.push(row.try_get("id")?);
        }
    }
    Ok(open)
}

impl Store {
    pub async fn order(&self, id: &str) -> StoreResult<Option<Order>> {
        let mut conn = self.conn().await?;
        order(&mut conn, id).await
    }

    pub async fn orders_of_customer(&self, customer_id: &str) -> StoreResult<Vec<Order>> {
        let mut conn = self.conn().await?;
        orders_of(&mut conn, customer_id).await
    }
}

/// Every order of a customer, oldest first, with items.
pub async fn orders_of(conn: &mut Conn, customer_id: &str) -> StoreResult<Vec<Order>> {
    let rows = sqlx::query(&format!(
        "SELECT {ORDER_COLUMNS} FROM orders WHERE customer_id = $1 ORDER BY placed_at, id"
    ))
    .bind(customer_id)
    .fetch_all(conn.db())
    .await?;
    let orders = rows
        .iter()
        .map(order_from_row)
        .collect::<StoreResult<Vec<_>>>()?;
    with_items(conn, orders).await
}

/// The broadcast of the customer's latest order placed since `since` (a hand-off is counted in
/// that broadcast's report).
pub async fn latest_broadcast_of_customer(
    conn: &mut Conn,
    customer_id: &str,
    since: DateTime<Utc>,
) -> StoreResult<Option<String>> {
    let id = sqlx::query_scalar(
        "SELECT broadcast_id FROM orders
         WHERE customer_id = $1 AND broadcast_id IS NOT NULL AND placed_at >= $2
         ORDER BY placed_at DESC, id DESC LIMIT 1",
    )
    .bind(customer_id)
    .bind(ts(since))
    .fetch_optional(conn.db())
    .await?;
    Ok(id)
}

/// Whether the shop's events or staff set this order's status at some point: then an import
/// (a file exported earlier, perhaps) does not overwrite it.
pub async fn status_set_live(conn: &mut Conn, order_id: &str) -> StoreResult<bool> {
    let found: Option<i64> = sqlx::query_scalar(
        "SELECT 1 FROM order_status_history WHERE order_id = $1 AND applied = 1 AND source <> 'import' LIMIT 1",
    )
    .bind(order_id)
    .fetch_optional(conn.db())
    .await?;
    Ok(found.is_some())
}

/// An order import that stopped before it was done (a crash, a lost database): the next
/// `encore import orders` applies the rest of its staged rows first.
#[derive(Debug, Clone, PartialEq)]
pub struct UnfinishedImport {
    pub id: i64,
    pub file: String,
    pub notify: bool,
    pub rows: i64,
    pub applied_rows: i64,
    pub started_at: DateTime<Utc>,
}

/// A new import, `staging` until every row of its file is read and checked.
pub async fn begin_import(
    conn: &mut Conn,
    file: &str,
    notify: bool,
    now: DateTime<Utc>,
) -> StoreResult<i64> {
    let id = sqlx::query_scalar(
        "INSERT INTO imports (file, notify, state, started_at) VALUES ($1, $2, 'staging', $3)
         RETURNING id",
    )
    .bind(file)
    .bind(i64::from(notify))
    .bind(ts(now))
    .fetch_one(conn.db())
    .await?;
    Ok(id)
}

/// Keeps checked rows (their fields as read) until they are applied.
pub async fn stage_rows(conn: &mut Conn, import: i64, rows: &[(u64, String)]) -> StoreResult<()> {
    for (line, row) in rows {
        sqlx::query("INSERT INTO import_rows (import_id, line, row) VALUES ($1, $2, $3)")
            .bind(import)
            .bind(*line as i64)
            .bind(row)
            .execute(conn.db())
            .await?;
    }
    Ok(())
}

/// A file with a bad row, or an abandoned staging: the import and its staged rows go.
pub async fn drop_import(conn: &mut Conn, import: i64) -> StoreResult<()> {
    sqlx::query("DELETE FROM import_rows WHERE import_id = $1")
        .bind(import)
        .execute(conn.db())
        .await?;
    sqlx::query("DELETE FROM imports WHERE id = $1")
        .bind(import)
        .execute(conn.db())
        .await?;
    Ok(())
}

/// Every row is staged and good: from now on the import is applied, and finished if stopped.
pub async fn start_applying(conn: &mut Conn, import: i64, rows: u64) -> StoreResult<()> {
    sqlx::query("UPDATE imports SET state = 'applying', rows = $1 WHERE id = $2")
        .bind(rows as i64)
        .bind(import)
        .execute(conn.db())
        .await?;
    Ok(())
}

/// The next staged rows to apply, in file order.
pub async fn next_staged_rows(
    conn: &mut Conn,
    import: i64,
    limit: i64,
) -> StoreResult<Vec<(u64, String)>> {
    let rows = sqlx::query(
        "SELECT line, row FROM import_rows WHERE import_id = $1 ORDER BY line LIMIT $2",
    )
    .bind(import)
    .bind(limit)
    .fetch_all(conn.db())
    .await?;
    rows.iter()
        .map(|row| {
            let line: i64 = row.try_get("line")?;
            Ok((line as u64, row.try_get("row")?))
        })
        .collect()
}

/// In the transaction that applied them: the rows up to `through_line` are done.
pub async fn rows_applied(
    conn: &mut Conn,
    import: i64,
    through_line: u64,
    applied: u64,
    new_orders: u64,
    updated_orders: u64,
) -> StoreResult<()> {
    sqlx::query("DELETE FROM import_rows WHERE import_id = $1 AND line <= $2")
        .bind(import)
        .bind(through_line as i64)
        .execute(conn.db())
        .await?;
    sqlx::query(
        "UPDATE imports SET applied_rows = applied_rows + $1, new_orders = new_orders + $2,
                            updated_orders = updated_orders + $3
         WHERE id = $4",
    )
    .bind(applied as i64)
    .bind(new_orders as i64)
    .bind(updated_orders as i64)
    .bind(import)
    .execute(conn.db())
    .await?;
    Ok(())
}

/// Every staged row is applied.
pub async fn finish_import(conn: &mut Conn, import: i64, now: DateTime<Utc>) -> StoreResult<()> {
    sqlx::query("UPDATE imports SET state = 'done', finished_at = $1 WHERE id = $2")
        .bind(ts(now))
        .bind(import)
        .execute(conn.db())
        .await?;
    Ok(())
}

/// Imports whose applying stopped part-way, oldest first.
pub async fn unfinished_imports(conn: &mut Conn) -> StoreResult<Vec<UnfinishedImport>> {
    let rows = sqlx::query(
        "SELECT id, file, notify, rows, applied_rows, started_at FROM imports
         WHERE state = 'applying' ORDER BY id",
    )
    .fetch_all(conn.db())
    .await?;
    rows.iter()
        .map(|row| {
            Ok(UnfinishedImport {
                id: row.try_get("id")?,
                file: row.try_get("file")?,
                notify: super::read_flag(row, "notify")?,
                rows: row.try_get("rows")?,
                applied_rows: row.try_get("applied_rows")?,
                started_at: parse_ts(row.try_get("started_at")?)?,
            })
        })
        .collect()
}

/// Imports left in `staging` since before `before` (a crash while reading a file; nothing of
/// them was applied): their staged rows are dropped.
pub async fn drop_abandoned_staging(conn: &mut Conn, before: DateTime<Utc>) -> StoreResult<u64> {
    sqlx::query(
        "DELETE FROM import_rows WHERE import_id IN
             (SELECT id FROM imports WHERE state = 'staging' AND started_at < $1)",
    )
    .bind(ts(before))
    .execute(conn.db())
    .await?;
    let done = sqlx::query("DELETE FROM imports WHERE state = 'staging' AND started_at < $1")
        .bind(ts(before))
        .execute(conn.db())
        .await?;
    Ok(done.rows_affected())
}
