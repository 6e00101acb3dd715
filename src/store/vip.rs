//! Tiers, VIP room access and VIP codes (pools, sends, redemptions).

use chrono::{DateTime, Utc};
use sqlx::Row;

use super::{Conn, Store, StoreResult, parse_ts, ts};
use crate::domain::keys::IdemKey;

/// Orders and spend that count for tiers: in the shop's currency, not cancelled or refunded.
pub async fn tier_basis(
    conn: &mut Conn,
    customer_id: &str,
    currency: &str,
) -> StoreResult<(u32, i64)> {
    let row = sqlx::query(
        "SELECT COUNT(*) AS n, CAST(COALESCE(SUM(total), 0) AS BIGINT) AS spend FROM orders
         WHERE customer_id = $1 AND currency = $2 AND status NOT IN ('cancelled', 'refunded')",
    )
    .bind(customer_id)
    .bind(currency)
    .fetch_one(conn.db())
    .await?;
    let n: i64 = row.try_get("n")?;
    Ok((u32::try_from(n).unwrap_or(u32::MAX), row.try_get("spend")?))
}

pub async fn stored_tier(conn: &mut Conn, customer_id: &str) -> StoreResult<Option<String>> {
    let tier: Option<Option<String>> =
        sqlx::query_scalar("SELECT tier FROM customers WHERE id = $1")
            .bind(customer_id)
            .fetch_optional(conn.db())
            .await?;
    Ok(tier.flatten())
}

pub async fn set_tier(conn: &mut Conn, customer_id: &str, tier: Option<&str>) -> StoreResult<()> {
    sqlx::query("UPDATE customers SET tier = $1 WHERE id = $2")
        .bind(tier)
        .bind(customer_id)
        .execute(conn.db())
        .await?;
    Ok(())
}

/// Customers whose stored tier is one of `tiers`, whose latest marketing consent is yes, and
/// who have a linked messenger: who may be sent advertising for that tier.
pub async fn consenting_customers_in_tiers(
    conn: &mut Conn,
    tiers: &[String],
) -> StoreResult<Vec<(String, String)>> {
    if tiers.is_empty() {
        return Ok(Vec::new());
    }
    let placeholders = (1..=tiers.len())
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "SELECT c.id, c.tier FROM customers c
         WHERE c.tier IN ({placeholders})
           AND EXISTS (SELECT 1 FROM identities i WHERE i.customer_id = c.id)
           AND (SELECT k.granted FROM consents k WHERE k.customer_id = c.id AND k.purpose = 'marketing'
                ORDER BY k.given_at DESC, k.id DESC LIMIT 1) = 1
         ORDER BY c.id"
    );
    let mut query = sqlx::query(&sql);
    for tier in tiers {
        query = query.bind(tier);
    }
    let rows = query.fetch_all(conn.db()).await?;
    rows.iter()
        .map(|row| Ok((row.try_get("id")?, row.try_get("tier")?)))
        .collect()
}

/// Customers of these tiers (consenting or not) with a linked messenger.
pub async fn customers_in_tiers(conn: &mut Conn, tiers: &[String]) -> StoreResult<Vec<String>> {
    let mut all = Vec::new();
    for tier in tiers {
        let ids: Vec<String> = sqlx::query_scalar(
            "SELECT c.id FROM customers c WHERE c.tier = $1
               AND EXISTS (SELECT 1 FROM identities i WHERE i.customer_id = c.id) ORDER BY c.id",
        )
        .bind(tier)
        .fetch_all(conn.db())
        .await?;
        all.extend(ids);
    }
    Ok(all)
}

#[derive(Debug, Clone, PartialEq)]
pub struct VipAccess {
    pub customer_id: String,
    pub platform: String,
    pub invite_link: Option<String>,
    pub granted_at: Option<DateTime<Utc>>,
}

fn access_from_row(row: &sqlx::any::AnyRow) -> StoreResult<VipAccess> {
    let granted: Option<String> = row.try_get("granted_at")?;
    Ok(VipAccess {
        customer_id: row.try_get("customer_id")?,
        platform: row.try_get("platform")?,
        invite_link: row.try_get("invite_link")?,
        granted_at: granted.as_deref().map(parse_ts).transpose()?,
    })
}

pub async fn vip_access(
    conn: &mut Conn,
    customer_id: &str,
    platform: &str,
) -> StoreResult<Option<VipAccess>> {
    let row = sqlx::query(
        "SELECT customer_id, platform, invite_link, granted_at FROM vip_access
         WHERE customer_id = $1 AND platform = $2",
    )
    .bind(customer_id)
    .bind(platform)
    .fetch_optional(conn.db())
    .await?;
    row.as_ref().map(access_from_row).transpose()
}

pub async fn vip_access_by_link(
    conn: &mut Conn,
    platform: &str,
    invite_link: &str,
) -> StoreResult<Option<VipAccess>> {
    let row = sqlx::query(
        "SELECT customer_id, platform, invite_link, granted_at FROM vip_access
         WHERE platform = $1 AND invite_link = $2",
    )
    .bind(platform)
    .bind(invite_link)
    .fetch_optional(conn.db())
    .await?;
    row.as_ref().map(access_from_row).transpose()
}

/// Remembers the invite made for a customer (the first one stays: one personal link each).
pub async fn record_invite(
    conn: &mut Conn,
    customer_id: &str,
    platform: &str,
    invite_link: Option<&str>,
    granted: bool,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO vip_access (customer_id, platform, invite_link, created_at, granted_at)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (customer_id, platform) DO UPDATE SET
             invite_link = COALESCE(vip_access.invite_link, excluded.invite_link),
             granted_at = COALESCE(vip_access.granted_at, excluded.granted_at)",
    )
    .bind(customer_id)
    .bind(platform)
    .bind(invite_link)
    .bind(ts(now))
    .bind(granted.then(|| ts(now)))
    .execute(conn.db())
    .await?;
    Ok(())
}

pub async fn mark_granted(
    conn: &mut Conn,
    customer_id: &str,
    platform: &str,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    sqlx::query(
        "UPDATE vip_access SET granted_at = COALESCE(granted_at, $1) WHERE customer_id = $2 AND platform = $3",
    )
    .bind(ts(now))
    .bind(customer_id)
    .bind(platform)
    .execute(conn.db())
    .await?;
    Ok(())
}

/// Adds codes to a campaign's pool; codes already there are skipped. Returns how many were new.
pub async fn add_to_pool(
    conn: &mut Conn,
    campaign: &str,
    codes: &[String],
    now: DateTime<Utc>,
) -> StoreResult<u64> {
    let mut added = 0;
    for code in codes {
        added += sqlx::query(
            "INSERT INTO code_pool (campaign, code, added_at) VALUES ($1, $2, $3)
             ON CONFLICT (campaign, code) DO NOTHING",
        )
        .bind(campaign)
        .bind(code)
        .bind(ts(now))
        .execute(conn.db())
        .await?
        .rows_affected();
    }
    Ok(added)
}

/// The customer's code from the campaign: the one already given, else the next free one
/// (assigned now). None when the pool has no free code left.
pub async fn assign_pool_code(
    conn: &mut Conn,
    campaign: &str,
    customer_id: &str,
    now: DateTime<Utc>,
) -> StoreResult<Option<String>> {
    let given: Option<String> =
        sqlx::query_scalar("SELECT code FROM code_pool WHERE campaign = $1 AND customer_id = $2")
            .bind(campaign)
            .bind(customer_id)
            .fetch_optional(conn.db())
            .await?;
    if given.is_some() {
        return Ok(given);
    }
    let free: Option<String> = sqlx::query_scalar(
        "SELECT code FROM code_pool WHERE campaign = $1 AND customer_id IS NULL
         ORDER BY added_at, code LIMIT 1",
    )
    .bind(campaign)
    .fetch_optional(conn.db())
    .await?;
    if let Some(code) = &free {
        sqlx::query(
            "UPDATE code_pool SET customer_id = $1, assigned_at = $2 WHERE campaign = $3 AND code = $4",
        )
        .bind(customer_id)
        .bind(ts(now))
        .bind(campaign)
        .bind(code)
        .execute(conn.db())
        .await?;
    }
    Ok(free)
}

/// Codes of the campaign not given to anyone yet.
pub async fn pool_left(conn: &mut Conn, campaign: &str) -> StoreResult<i64> {
    let n = sqlx::query_scalar(
        "SELECT COUNT(*) FROM code_pool WHERE campaign = $1 AND customer_id IS NULL",
    )
    .bind(campaign)
    .fetch_one(conn.db())
    .await?;
    Ok(n)
}

#[derive(Debug, Clone, PartialEq)]
pub struct CodeSend<'a> {
    pub code: &'a str,
    pub campaign: Option<&'a str>,
    pub customer_id: &'a str,
    pub tier: &'a str,
    pub message_key: &'a IdemKey,
    pub expires_at: Option<DateTime<Utc>>,
}

pub async fn record_code_send(
    conn: &mut Conn,
    send: &CodeSend<'_>,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO code_sends (code, campaign, customer_id, tier, message_key, expires_at, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (code, customer_id) DO NOTHING",
    )
    .bind(send.code)
    .bind(send.campaign)
    .bind(send.customer_id)
    .bind(send.tier)
    .bind(send.message_key.to_string())
    .bind(send.expires_at.map(ts))
    .bind(ts(now))
    .execute(conn.db())
    .await?;
    Ok(())
}

/// A code the viewer was sent, for `/vip`.
#[derive(Debug, Clone, PartialEq)]
pub struct SentCode {
    pub code: String,
    pub expires_at: Option<DateTime<Utc>>,
}

/// Codes whose message reached the customer, newest first.
pub async fn codes_sent_to(conn: &mut Conn, customer_id: &str) -> StoreResult<Vec<SentCode>> {
    let rows = sqlx::query(
        "SELECT s.code, s.expires_at FROM code_sends s JOIN outbox o ON o.idem_key = s.message_key
         WHERE s.customer_id = $1 AND o.state = 'sent' ORDER BY s.created_at DESC, s.code",
    )
    .bind(customer_id)
    .fetch_all(conn.db())
    .await?;
    rows.iter()
        .map(|row| {
            let expires: Option<String> = row.try_get("expires_at")?;
            Ok(SentCode {
                code: row.try_get("code")?,
                expires_at: expires.as_deref().map(parse_ts).transpose()?,
            })
        })
        .collect()
}

/// Records a redemption; a customer the code was not sent to is a violation. Returns whether
/// it was one; a replayed event id records nothing again.
pub async fn record_redemption(
    conn: &mut Conn,
    event_id: &str,
    code: &str,
    customer_id: &str,
    order_id: Option<&str>,
    at: DateTime<Utc>,
) -> StoreResult<bool> {
    let sent: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM code_sends WHERE code = $1 AND customer_id = $2")
            .bind(code)
            .bind(customer_id)
            .fetch_one(conn.db())
            .await?;
    let violation = sent == 0;
    sqlx::query(
        "INSERT INTO code_redemptions (event_id, code, customer_id, order_id, redeemed_at, violation)
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (event_id) DO NOTHING",
    )
    .bind(event_id)
    .bind(code)
    .bind(customer_id)
    .bind(order_id)
    .bind(ts(at))
    .bind(i64::from(violation))
    .execute(conn.db())
    .await?;
    Ok(violation)
}

/// Codes by campaign (`shared` for shared codes): sent (delivered), redeemed, violations and
/// pool left, for redemptions and sends since `since`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CampaignCodes {
    pub campaign: String,
    pub sent: i64,
    pub redeemed: i64,
    pub violations: i64,
    pub pool_left: i64,
}

impl Store {
    pub async fn codes_by_campaign(&self, since: DateTime<Utc>) -> StoreResult<Vec<CampaignCodes>> {
        let rows = sqlx::query(
            "WITH names AS (
                 SELECT COALESCE(campaign, 'shared') AS campaign FROM code_sends
                 UNION SELECT campaign FROM code_pool)
             SELECT n.campaign,
               (SELECT COUNT(*) FROM code_sends s JOIN outbox o ON o.idem_key = s.message_key
                 WHERE COALESCE(s.campaign, 'shared') = n.campaign AND o.state = 'sent' AND o.sent_at >= $1) AS sent,
               (SELECT COUNT(*) FROM code_redemptions r
                 WHERE r.redeemed_at >= $1 AND r.code IN (
                     SELECT code FROM code_sends WHERE COALESCE(campaign, 'shared') = n.campaign
                     UNION SELECT code FROM code_pool WHERE campaign = n.campaign)) AS redeemed,
               (SELECT COUNT(*) FROM code_redemptions r
                 WHERE r.redeemed_at >= $1 AND r.violation = 1 AND r.code IN (
                     SELECT code FROM code_sends WHERE COALESCE(campaign, 'shared') = n.campaign
                     UNION SELECT code FROM code_pool WHERE campaign = n.campaign)) AS violations,
               (SELECT COUNT(*) FROM code_pool p WHERE p.campaign = n.campaign AND p.customer_id IS NULL) AS pool_left
             FROM names n ORDER BY n.campaign",
        )
        .bind(ts(since))
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                Ok(CampaignCodes {
                    campaign: row.try_get("campaign")?,
                    sent: row.try_get("sent")?,
                    redeemed: row.try_get("redeemed")?,
                    violations: row.try_get("violations")?,
                    pool_left: row.try_get("pool_left")?,
                })
            })
            .collect()
    }
}
