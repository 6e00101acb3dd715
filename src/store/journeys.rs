//! What the lifecycle journeys read: deliveries, birthdays, silence, win-backs sent, alert
//! subscriptions, check-in ratings, and journey outcomes per A/B variant.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use sqlx::Row;

use super::{Conn, Store, StoreResult, parse_ts, ts};
use crate::domain::Flow;
use crate::domain::keys::IdemKey;

/// A delivered order of a linked customer, delivered after they linked, with no check-in yet.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivered {
    pub order_id: String,
    pub customer_id: String,
    pub delivered_at: DateTime<Utc>,
}

pub async fn delivered_without_checkin(
    conn: &mut Conn,
    delivered_before: DateTime<Utc>,
) -> StoreResult<Vec<Delivered>> {
    let rows = sqlx::query(
        "SELECT o.id, o.customer_id, o.status_at FROM orders o
         WHERE o.status = 'delivered' AND o.status_at <= $1
           AND o.status_at >= (SELECT MIN(i.linked_at) FROM identities i WHERE i.customer_id = o.customer_id)
           AND NOT EXISTS (SELECT 1 FROM outbox x WHERE x.idem_key = $2 || o.id)
         ORDER BY o.status_at, o.id",
    )
    .bind(ts(delivered_before))
    .bind(IdemKey::checkin_prefix())
    .fetch_all(conn.db())
    .await?;
    rows.iter()
        .map(|row| {
            let at: String = row.try_get("status_at")?;
            Ok(Delivered {
                order_id: row.try_get("id")?,
                customer_id: row.try_get("customer_id")?,
                delivered_at: parse_ts(&at)?,
            })
        })
        .collect()
}

/// Linked customers with a birthday on record: (customer, "MM-DD").
pub async fn linked_birthdays(conn: &mut Conn) -> StoreResult<Vec<(String, String)>> {
    let rows = sqlx::query(
        "SELECT c.id, c.birthday FROM customers c
         WHERE c.birthday IS NOT NULL
           AND EXISTS (SELECT 1 FROM identities i WHERE i.customer_id = c.id)
         ORDER BY c.id",
    )
    .fetch_all(conn.db())
    .await?;
    rows.iter()
        .map(|row| Ok((row.try_get("id")?, row.try_get("birthday")?)))
        .collect()
}

/// A linked customer's last sign of life: their last order, their last message or button to
/// the bot, or linking — whichever is latest — and the win-backs sent since.
#[derive(Debug, Clone, PartialEq)]
pub struct Silence {
    pub customer_id: String,
    pub last_activity: DateTime<Utc>,
    /// Win-back messages written since `last_activity`.
    pub winbacks: usize,
    /// When the last of them reached the customer.
    pub last_winback_sent_at: Option<DateTime<Utc>>,
    /// One of them still waits to go out.
    pub winback_waiting: bool,
}

/// Linked customers whose latest marketing consent is yes and who have been silent since
/// before `silent_since`.
pub async fn silent_customers(
    conn: &mut Conn,
    silent_since: DateTime<Utc>,
) -> StoreResult<Vec<Silence>> {
    let rows = sqlx::query(
        "WITH activity AS (
             SELECT c.id AS customer_id,
                    COALESCE((SELECT MAX(seen.at) FROM (
                        SELECT MAX(o.placed_at) AS at FROM orders o WHERE o.customer_id = c.id
                        UNION ALL SELECT MAX(i.last_seen_at) FROM identities i WHERE i.customer_id = c.id
                        UNION ALL SELECT MAX(i.linked_at) FROM identities i WHERE i.customer_id = c.id) AS seen), '') AS last_activity
             FROM customers c
             WHERE EXISTS (SELECT 1 FROM identities i WHERE i.customer_id = c.id)
               AND (SELECT k.granted FROM consents k WHERE k.customer_id = c.id AND k.purpose = 'marketing'
                    ORDER BY k.given_at DESC, k.id DESC LIMIT 1) = 1)
         SELECT a.customer_id, a.last_activity,
                (SELECT COUNT(*) FROM outbox w WHERE w.customer_id = a.customer_id AND w.flow IN ('winback', 'trust_recovery')
                   AND w.created_at >= a.last_activity) AS attempts,
                (SELECT MAX(w.sent_at) FROM outbox w WHERE w.customer_id = a.customer_id AND w.flow IN ('winback', 'trust_recovery')
                   AND w.created_at >= a.last_activity) AS last_sent_at,
                (SELECT COUNT(*) FROM outbox w WHERE w.customer_id = a.customer_id AND w.flow IN ('winback', 'trust_recovery')
                   AND w.created_at >= a.last_activity AND w.state IN ('queued', 'claimed', 'sending')) AS waiting
         FROM activity a WHERE a.last_activity <= $1 ORDER BY a.customer_id",
    )
    .bind(ts(silent_since))
    .fetch_all(conn.db())
    .await?;
    rows.iter()
        .map(|row| {
            let last: String = row.try_get("last_activity")?;
            let last_sent: Option<String> = row.try_get("last_sent_at")?;
            let attempts: i64 = row.try_get("attempts")?;
            let waiting: i64 = row.try_get("waiting")?;
            Ok(Silence {
                customer_id: row.try_get("customer_id")?,
                last_activity: parse_ts(&last)?,
                winbacks: attempts.max(0) as usize,
                last_winback_sent_at: last_sent.as_deref().map(parse_ts).transpose()?,
                winback_waiting: waiting > 0,
            })
        })
        .collect()
}

/// The category of the customer's last order (its first item that has one).
pub async fn last_category(conn: &mut Conn, customer_id: &str) -> StoreResult<Option<String>> {
    let category: Option<Option<String>> = sqlx::query_scalar(
        "SELECT (SELECT it.category FROM order_items it WHERE it.order_id = o.id AND it.category IS NOT NULL
                 AND it.category <> '' ORDER BY it.rowid LIMIT 1)
         FROM orders o WHERE o.customer_id = $1 ORDER BY o.placed_at DESC, o.id DESC LIMIT 1",
    )
    .bind(customer_id)
    .fetch_optional(conn.db())
    .await?;
    Ok(category.flatten())
}

/// The latest win-back that reached the customer and no order came after it except
/// `this_order`: the key of that win-back.
pub async fn winback_answered_by(
    conn: &mut Conn,
    customer_id: &str,
    this_order: &str,
) -> StoreResult<Option<String>> {
    let row = sqlx::query(
        "SELECT idem_key, sent_at FROM outbox
         WHERE customer_id = $1 AND flow IN ('winback', 'trust_recovery') AND state = 'sent'
         ORDER BY sent_at DESC LIMIT 1",
    )
    .bind(customer_id)
    .fetch_optional(conn.db())
    .await?;
    let Some(row) = row else { return Ok(None) };
    let key: String = row.try_get("idem_key")?;
    let sent_at: String = row.try_get("sent_at")?;
    let orders_after: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM orders WHERE customer_id = $1 AND placed_at >= $2 AND id <> $3",
    )
    .bind(customer_id)
    .bind(&sent_at)
    .bind(this_order)
    .fetch_one(conn.db())
    .await?;
    Ok((orders_after == 0).then_some(key))
}

/// Whether the customer watched/chatted in a broadcast they bought nothing in.
pub async fn bought_in(
    conn: &mut Conn,
    customer_id: &str,
    broadcast_id: &str,
) -> StoreResult<bool> {
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM orders WHERE customer_id = $1 AND broadcast_id = $2",
    )
    .bind(customer_id)
    .bind(broadcast_id)
    .fetch_one(conn.db())
    .await?;
    Ok(n > 0)
}

/// When the customer first linked a messenger, if they did.
pub async fn linked_since(
    conn: &mut Conn,
    customer_id: &str,
) -> StoreResult<Option<DateTime<Utc>>> {
    let at: Option<String> =
        sqlx::query_scalar("SELECT MIN(linked_at) FROM identities WHERE customer_id = $1")
            .bind(customer_id)
            .fetch_one(conn.db())
            .await?;
    at.as_deref().map(parse_ts).transpose()
}

pub async fn set_alerts(
    conn: &mut Conn,
    customer_id: &str,
    subscribed: bool,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO alert_subscriptions (customer_id, subscribed, changed_at) VALUES ($1, $2, $3)
         ON CONFLICT (customer_id) DO UPDATE SET subscribed = excluded.subscribed, changed_at = excluded.changed_at",
    )
    .bind(customer_id)
    .bind(i64::from(subscribed))
    .bind(ts(now))
    .execute(conn.db())
    .await?;
    Ok(())
}

/// Customers subscribed to next-live alerts (the gate checks their consent).
pub async fn alert_subscribers(conn: &mut Conn) -> StoreResult<Vec<String>> {
    let ids = sqlx::query_scalar(
        "SELECT customer_id FROM alert_subscriptions WHERE subscribed = 1 ORDER BY customer_id",
    )
    .fetch_all(conn.db())
    .await?;
    Ok(ids)
}

pub async fn record_checkin_rating(
    conn: &mut Conn,
    order_id: &str,
    customer_id: &str,
    rating: i64,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO checkin_ratings (order_id, customer_id, rating, rated_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (order_id, customer_id) DO UPDATE SET rating = excluded.rating, rated_at = excluded.rated_at",
    )
    .bind(order_id)
    .bind(customer_id)
    .bind(rating)
    .bind(ts(now))
    .execute(conn.db())
    .await?;
    Ok(())
}

/// Customers whose latest marketing consent is yes: (customer, when it was given).
pub async fn consents_given(conn: &mut Conn) -> StoreResult<Vec<(String, DateTime<Utc>)>> {
    let rows = sqlx::query(
        "SELECT k.customer_id, k.given_at, CAST(k.granted AS BIGINT) AS granted FROM consents k
         WHERE k.purpose = 'marketing' AND k.id = (
             SELECT k2.id FROM consents k2 WHERE k2.customer_id = k.customer_id AND k2.purpose = 'marketing'
             ORDER BY k2.given_at DESC, k2.id DESC LIMIT 1)
           AND EXISTS (SELECT 1 FROM identities i WHERE i.customer_id = k.customer_id)
         ORDER BY k.customer_id",
    )
    .fetch_all(conn.db())
    .await?;
    let mut given = Vec::new();
    for row in &rows {
        let granted = super::read_flag(row, "granted")?;
        if granted {
            let at: String = row.try_get("given_at")?;
            given.push((row.try_get("customer_id")?, parse_ts(&at)?));
        }
    }
    Ok(given)
}

/// Sends and conversions (an order within 7 days of the send) of one journey, with its A/B
/// variants; trust recovery also by cause, with `returned` (an order within 30 days).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct JourneyCounts {
    pub sent: i64,
    pub conversions: i64,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub variants: BTreeMap<String, VariantCounts>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub by_cause: Option<BTreeMap<String, CauseCounts>>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct VariantCounts {
    pub sent: i64,
    pub conversions: i64,
}

/// Trust-recovery win-backs of one cause (`delivery`, `quality`, `service`, `general`).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct CauseCounts {
    pub sent: i64,
    /// An order within 30 days of the send.
    pub returned: i64,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub variants: BTreeMap<String, ReturnCounts>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ReturnCounts {
    pub sent: i64,
    pub returned: i64,
}

/// Days after a send in which an order is a conversion, and a trust-recovery return.
const CONVERSION_DAYS: u32 = 7;
const RETURN_DAYS: u32 = 30;

impl Store {
    /// The period report's journeys, by `[journeys]` key (and `engaged_thanks`).
    pub async fn journey_outcomes(
        &self,
        since: DateTime<Utc>,
    ) -> StoreResult<BTreeMap<String, JourneyCounts>> {
        let converted_by = super::ts_plus_days(self.backend(), "o.sent_at", CONVERSION_DAYS);
        let returned_by = super::ts_plus_days(self.backend(), "o.sent_at", RETURN_DAYS);
        let flows: Vec<String> = Flow::ALL
            .into_iter()
            .filter(|f| f.journey_key().is_some() || *f == Flow::EngagedThanks)
            .map(|f| format!("'{}'", f.as_str()))
            .collect();
        let order_between = |until: &str| {
            format!(
                "CASE WHEN EXISTS (SELECT 1 FROM orders r WHERE r.customer_id = o.customer_id
                   AND r.placed_at > o.sent_at AND r.placed_at <= {until}) THEN 1 ELSE 0 END"
            )
        };
        let sql = format!(
            "SELECT o.flow, o.variant, o.cause, COUNT(*) AS sent,
                    CAST(SUM({}) AS BIGINT) AS conversions,
                    CAST(SUM({}) AS BIGINT) AS returned
             FROM outbox o
             WHERE o.state = 'sent' AND o.sent_at >= $1 AND o.flow IN ({})
             GROUP BY o.flow, o.variant, o.cause",
            order_between(&converted_by),
            order_between(&returned_by),
            flows.join(", ")
        );
        let rows = sqlx::query(&sql)
            .bind(ts(since))
            .fetch_all(self.pool())
            .await?;
        let mut journeys: BTreeMap<String, JourneyCounts> = BTreeMap::new();
        for row in &rows {
            let flow: String = row.try_get("flow")?;
            let variant: Option<String> = row.try_get("variant")?;
            let cause: Option<String> = row.try_get("cause")?;
            let sent: i64 = row.try_get("sent")?;
            let conversions: i64 = row.try_get("conversions")?;
            let returned: i64 = row.try_get("returned")?;
            let flow = Flow::from_name(&flow);
            let name = flow
                .and_then(Flow::journey_key)
                .or(flow.map(Flow::as_str))
                .unwrap_or("unknown");
            let journey = journeys.entry(name.to_string()).or_default();
            journey.sent += sent;
            journey.conversions += conversions;
            if let Some(variant) = &variant {
                let counts = journey.variants.entry(variant.clone()).or_default();
                counts.sent += sent;
                counts.conversions += conversions;
            }
            if flow == Some(Flow::TrustRecovery) {
                let by_cause = journey.by_cause.get_or_insert_with(BTreeMap::new);
                let counts = by_cause
                    .entry(cause.unwrap_or_else(|| "general".to_string()))
                    .or_default();
                counts.sent += sent;
                counts.returned += returned;
                if let Some(variant) = variant {
                    let by_variant = counts.variants.entry(variant).or_default();
                    by_variant.sent += sent;
                    by_variant.returned += returned;
                }
            }
        }
        Ok(journeys)
    }
}

/// What a journey message was written about, kept on its outbox row for the reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tag<'a> {
    /// The A/B variant of its text.
    Variant(&'a str),
    /// A trust-recovery win-back's cause (`general` for none).
    Cause(&'a str),
    /// The product a pick named.
    Pick(&'a str),
}

/// Stores one [`Tag`] on the message written under `key`.
pub async fn tag_message(conn: &mut Conn, key: &IdemKey, tag: Tag<'_>) -> StoreResult<()> {
    let (column, value) = match tag {
        Tag::Variant(v) => ("variant", v),
        Tag::Cause(v) => ("cause", v),
        Tag::Pick(v) => ("pick_sku", v),
    };
    sqlx::query(&format!(
        "UPDATE outbox SET {column} = $1 WHERE idem_key = $2"
    ))
    .bind(value)
    .bind(key.to_string())
    .execute(conn.db())
    .await?;
    Ok(())
}

/// A journey message already written and waiting in the queue (held for quiet hours or the
/// send window, postponed by the weekly cap): what `journeys preview` adds to the steps due.
#[derive(Debug, Clone, PartialEq)]
pub struct QueuedJourney {
    pub customer_id: String,
    pub flow: String,
    pub kind: String,
    pub goes_at: DateTime<Utc>,
}

/// Queued messages of `flows` for a customer that would have gone out by `at` and have not
/// expired by then, in the order they go.
pub async fn queued_journeys(
    conn: &mut Conn,
    flows: &[&str],
    at: DateTime<Utc>,
) -> StoreResult<Vec<QueuedJourney>> {
    let placeholders = (0..flows.len())
        .map(|i| format!("${}", i + 2))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "SELECT customer_id, flow, kind, not_before FROM outbox
          WHERE state = 'queued' AND customer_id IS NOT NULL AND not_before <= $1
            AND (expires_at IS NULL OR expires_at > $1) AND flow IN ({placeholders})
          ORDER BY not_before, id"
    );
    let mut query = sqlx::query(&sql).bind(ts(at));
    for flow in flows {
        query = query.bind(*flow);
    }
    let rows = query.fetch_all(conn.db()).await?;
    rows.iter()
        .map(|row| {
            let at: String = row.try_get("not_before")?;
            Ok(QueuedJourney {
                customer_id: row.try_get("customer_id")?,
                flow: row.try_get("flow")?,
                kind: row.try_get("kind")?,
                goes_at: parse_ts(&at)?,
            })
        })
        .collect()
}

/// Linked customers whose latest marketing consent is yes and who have no message under the
/// key `prefix || customer_id` yet: the weekly letter's recipients, in one query.
pub async fn consenting_without(conn: &mut Conn, prefix: &str) -> StoreResult<Vec<String>> {
    Ok(sqlx::query_scalar(
        "SELECT DISTINCT i.customer_id FROM identities i
          WHERE NOT EXISTS (SELECT 1 FROM outbox x WHERE x.idem_key = $1 || i.customer_id)
            AND (SELECT CAST(c.granted AS BIGINT) FROM consents c
                  WHERE c.customer_id = i.customer_id AND c.purpose = 'marketing'
                  ORDER BY c.given_at DESC, c.id DESC LIMIT 1) = 1
          ORDER BY i.customer_id",
    )
    .bind(prefix)
    .fetch_all(conn.db())
    .await?)
}

/// A live the shop scheduled that has not started: its title and start.
#[derive(Debug, Clone, PartialEq)]
pub struct ComingLive {
    pub title: String,
    pub starts_at: DateTime<Utc>,
}

/// Lives scheduled to start in `(from, to]` that have not started yet, soonest first.
pub async fn lives_scheduled_between(
    conn: &mut Conn,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> StoreResult<Vec<ComingLive>> {
    let rows = sqlx::query(
        "SELECT COALESCE(title, id) AS title, starts_at FROM broadcasts
          WHERE starts_at > $1 AND starts_at <= $2 AND started_at IS NULL
          ORDER BY starts_at, id",
    )
    .bind(ts(from))
    .bind(ts(to))
    .fetch_all(conn.db())
    .await?;
    rows.iter()
        .map(|row| {
            let at: String = row.try_get("starts_at")?;
            Ok(ComingLive {
                title: row.try_get("title")?,
                starts_at: parse_ts(&at)?,
            })
        })
        .collect()
}

/// Whether staff posted in the VIP room (`/vippost`) since `since`.
pub async fn vip_post_since(conn: &mut Conn, since: DateTime<Utc>) -> StoreResult<bool> {
    let found: Option<i64> = sqlx::query_scalar(
        "SELECT 1 FROM outbox WHERE flow = 'vip_post' AND created_at >= $1 LIMIT 1",
    )
    .bind(ts(since))
    .fetch_optional(conn.db())
    .await?;
    Ok(found.is_some())
}
