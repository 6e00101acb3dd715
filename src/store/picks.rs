//! What personalised picks read and count (CONTRACT §6): the shop's own "goes with" pairs
//! (`product.related`), what buyers bought after what (to learn pairs, `domain::picks`), what a
//! customer bought, and — for the broadcast report — picks sent and the picked products ordered.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sqlx::Row;

use super::{Conn, StoreResult, in_list, parse_ts, ts};
use crate::domain::picks::{Bought, GoesWith, LaterBuyers, goes_with};

/// `product.related`: the shop's list for `sku` replaces the one it sent before.
pub async fn set_related(
    conn: &mut Conn,
    sku: &str,
    related: &[String],
    now: DateTime<Utc>,
) -> StoreResult<()> {
    sqlx::query("DELETE FROM product_relations WHERE sku = $1")
        .bind(sku)
        .execute(conn.db())
        .await?;
    for other in related.iter().filter(|other| other.as_str() != sku) {
        sqlx::query(
            "INSERT INTO product_relations (sku, related, noted_at) VALUES ($1, $2, $3)
             ON CONFLICT (sku, related) DO NOTHING",
        )
        .bind(sku)
        .bind(other)
        .bind(ts(now))
        .execute(conn.db())
        .await?;
    }
    Ok(())
}

/// Every product that goes with one of the lineup's: the shop's pairs (read both ways) and the
/// pairs learnt from orders.
pub async fn goes_with_lineup(conn: &mut Conn, lineup: &[String]) -> StoreResult<Vec<GoesWith>> {
    if lineup.is_empty() {
        return Ok(Vec::new());
    }
    let list = in_list(1, lineup.len());
    let sql = format!(
        "SELECT sku AS bought, related AS pick FROM product_relations WHERE related IN ({list})
         UNION
         SELECT related AS bought, sku AS pick FROM product_relations WHERE sku IN ({list})
         ORDER BY bought, pick"
    );
    let mut query = sqlx::query(&sql);
    for sku in lineup {
        query = query.bind(sku);
    }
    let shop_pairs = query
        .fetch_all(conn.db())
        .await?
        .iter()
        .map(|row| Ok((row.try_get("bought")?, row.try_get("pick")?)))
        .collect::<StoreResult<Vec<(String, String)>>>()?;

    // Per customer and sku, the first and last order; B later than A when B's last order comes
    // after A's first.
    let sql = format!(
        "WITH bought AS (
             SELECT o.customer_id, it.sku, MIN(o.placed_at) AS first_at, MAX(o.placed_at) AS last_at
               FROM orders o JOIN order_items it ON it.order_id = o.id
              GROUP BY o.customer_id, it.sku)
         SELECT a.sku AS bought, b.sku AS pick, COUNT(*) AS customers
           FROM bought b JOIN bought a
             ON a.customer_id = b.customer_id AND a.sku <> b.sku AND b.last_at > a.first_at
          WHERE b.sku IN ({list})
          GROUP BY a.sku, b.sku
          ORDER BY a.sku, b.sku"
    );
    let mut query = sqlx::query(&sql);
    for sku in lineup {
        query = query.bind(sku);
    }
    let later = query
        .fetch_all(conn.db())
        .await?
        .iter()
        .map(|row| {
            Ok(LaterBuyers {
                bought: row.try_get("bought")?,
                pick: row.try_get("pick")?,
                customers: row.try_get("customers")?,
            })
        })
        .collect::<StoreResult<Vec<_>>>()?;

    let mut skus: Vec<&String> = lineup
        .iter()
        .chain(later.iter().map(|l| &l.bought))
        .collect();
    skus.sort();
    skus.dedup();
    let sql = format!(
        "SELECT it.sku, COUNT(DISTINCT o.customer_id) AS customers
           FROM orders o JOIN order_items it ON it.order_id = o.id
          WHERE it.sku IN ({}) GROUP BY it.sku",
        in_list(1, skus.len())
    );
    let mut query = sqlx::query(&sql);
    for sku in &skus {
        query = query.bind(*sku);
    }
    let buyers_of = query
        .fetch_all(conn.db())
        .await?
        .iter()
        .map(|row| Ok((row.try_get("sku")?, row.try_get("customers")?)))
        .collect::<StoreResult<HashMap<String, i64>>>()?;
    let all_buyers: i64 = sqlx::query_scalar("SELECT COUNT(DISTINCT customer_id) FROM orders")
        .fetch_one(conn.db())
        .await?;
    Ok(goes_with(&shop_pairs, &later, &buyers_of, all_buyers))
}

/// What linked customers bought of `skus`: per customer, each sku with the name it was last
/// bought under and when. A customer who said `/alerts off` is left out: a pick is a next-live
/// alert.
pub async fn bought_by_linked(
    conn: &mut Conn,
    skus: &[String],
) -> StoreResult<HashMap<String, Vec<Bought>>> {
    let mut by_customer: HashMap<String, Vec<Bought>> = HashMap::new();
    if skus.is_empty() {
        return Ok(by_customer);
    }
    let sql = format!(
        "SELECT o.customer_id, it.sku, it.name, o.placed_at
           FROM orders o JOIN order_items it ON it.order_id = o.id
          WHERE it.sku IN ({})
            AND o.customer_id IN (SELECT customer_id FROM identities)
            AND o.customer_id NOT IN
                (SELECT customer_id FROM alert_subscriptions WHERE subscribed = 0)
          ORDER BY o.customer_id, it.sku, o.placed_at, o.id",
        in_list(1, skus.len())
    );
    let mut query = sqlx::query(&sql);
    for sku in skus {
        query = query.bind(sku);
    }
    for row in query.fetch_all(conn.db()).await? {
        let customer: String = row.try_get("customer_id")?;
        let placed_at: String = row.try_get("placed_at")?;
        let bought = Bought {
            sku: row.try_get("sku")?,
            name: row.try_get("name")?,
            last_at: parse_ts(&placed_at)?,
        };
        let list = by_customer.entry(customer).or_default();
        // Rows come oldest first: the newest order's name wins.
        match list.iter_mut().find(|b| b.sku == bought.sku) {
            Some(known) => *known = bought,
            None => list.push(bought),
        }
    }
    Ok(by_customer)
}

/// Picks for a live: how many went out, and how many of their customers ordered the picked
/// product within 7 days of the live's start.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct PickCounts {
    pub sent: i64,
    pub ordered_within_7d: i64,
}

/// Days after the live's start in which an order of the pick counts.
pub const PICK_ORDER_DAYS: i64 = 7;

pub async fn pick_counts(conn: &mut Conn, broadcast_id: &str) -> StoreResult<PickCounts> {
    let start: Option<Option<String>> =
        sqlx::query_scalar("SELECT COALESCE(started_at, starts_at) FROM broadcasts WHERE id = $1")
            .bind(broadcast_id)
            .fetch_optional(conn.db())
            .await?;
    let start = start.flatten().as_deref().map(parse_ts).transpose()?;
    let (from, until) = match start {
        Some(start) => (
            ts(start),
            ts(start + chrono::Duration::days(PICK_ORDER_DAYS)),
        ),
        // An unknown start: nothing can be counted as ordered "within 7 days of that live".
        None => (String::new(), String::new()),
    };
    let row = sqlx::query(
        "SELECT COUNT(*) AS sent,
                COALESCE(SUM(CASE WHEN EXISTS (
                    SELECT 1 FROM orders r JOIN order_items it ON it.order_id = r.id
                     WHERE r.customer_id = m.customer_id AND it.sku = m.pick_sku
                       AND r.placed_at >= $2 AND r.placed_at <= $3) THEN 1 ELSE 0 END), 0) AS ordered
           FROM outbox m
          WHERE m.flow = 'picks' AND m.state = 'sent' AND m.broadcast_id = $1",
    )
    .bind(broadcast_id)
    .bind(from)
    .bind(until)
    .fetch_one(conn.db())
    .await?;
    Ok(PickCounts {
        sent: row.try_get("sent")?,
        ordered_within_7d: row.try_get("ordered")?,
    })
}
