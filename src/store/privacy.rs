//! Privacy in the store: everything kept about one customer (what `/mydata` and
//! `GET /v1/customers/{id}` show), tombstones of forgotten customers, aliases of merged ones,
//! and the statements that forget a customer or merge one into another.
//!
//! These functions run inside the caller's transaction and never decide: `flows::privacy`
//! says when to forget or merge. Customer ids are personal data, so they never reach a log.

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use sqlx::Row;

use super::customers::{self, ConsentEntry, ConsentPurpose, Customer, StoredPhone};
use super::orders::{self, Order};
use super::{Conn, StoreError, StoreResult, parse_ts, ts};
use crate::domain::Platform;
use crate::domain::keys::IdemKey;

/// Hex SHA-256 of a customer id: what a tombstone keeps instead of the id.
pub fn id_hash(customer_id: &str) -> String {
    hex::encode(Sha256::digest(customer_id.as_bytes()))
}

/// What a forgotten customer's kept records are filed under: stable, so forgetting twice (or
/// the same id on two machines) gives the same name, and short enough to read in a report.
pub fn pseudonym_of(customer_id: &str) -> String {
    let hash = id_hash(customer_id);
    format!("forgotten-{}", &hash[..16])
}

/// `text` made safe inside a `LIKE` pattern with `ESCAPE '\'`.
fn like_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '\\' | '%' | '_') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

// ---- tombstones and aliases ----------------------------------------------------------------

/// Whether this customer id was forgotten (it, or an id merged into it).
pub async fn is_forgotten(conn: &mut Conn, customer_id: &str) -> StoreResult<bool> {
    let found: Option<i64> = sqlx::query_scalar("SELECT 1 FROM tombstones WHERE id_hash = $1")
        .bind(id_hash(customer_id))
        .fetch_optional(conn.db())
        .await?;
    Ok(found.is_some())
}

/// Whether `id` is the pseudonym a forgotten customer's kept records are filed under.
pub async fn is_pseudonym(conn: &mut Conn, id: &str) -> StoreResult<bool> {
    let found: Option<i64> =
        sqlx::query_scalar("SELECT 1 FROM tombstones WHERE pseudonym = $1 LIMIT 1")
            .bind(id)
            .fetch_optional(conn.db())
            .await?;
    Ok(found.is_some())
}

/// The customer a merged-away id now stands for.
pub async fn alias_target(conn: &mut Conn, alias: &str) -> StoreResult<Option<String>> {
    let target = sqlx::query_scalar("SELECT customer_id FROM customer_aliases WHERE alias = $1")
        .bind(alias)
        .fetch_optional(conn.db())
        .await?;
    Ok(target)
}

/// Events naming `alias` apply to `into` from now on; so do those naming ids merged into
/// `alias` earlier (one hop is always enough to resolve).
pub async fn record_alias(
    conn: &mut Conn,
    alias: &str,
    into: &str,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    sqlx::query("UPDATE customer_aliases SET customer_id = $1 WHERE customer_id = $2")
        .bind(into)
        .bind(alias)
        .execute(conn.db())
        .await?;
    sqlx::query(
        "INSERT INTO customer_aliases (alias, customer_id, merged_at) VALUES ($1, $2, $3)
         ON CONFLICT (alias) DO UPDATE SET customer_id = excluded.customer_id, merged_at = excluded.merged_at",
    )
    .bind(alias)
    .bind(into)
    .bind(ts(now))
    .execute(conn.db())
    .await?;
    Ok(())
}

// ---- what is stored about a customer ---------------------------------------------------------

/// A messenger account linked to the customer.
#[derive(Debug, Clone, PartialEq)]
pub struct LinkedAccount {
    pub platform: Platform,
    pub user_id: String,
    pub display_name: Option<String>,
    pub reachable: bool,
    pub last_seen_at: DateTime<Utc>,
    pub linked_at: DateTime<Utc>,
}

/// One consent decision as the ledger keeps it.
#[derive(Debug, Clone, PartialEq)]
pub struct ConsentRecord {
    pub entry: ConsentEntry,
    pub recorded_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TicketRecord {
    /// The short number the viewer and the staff know it by (`#3`).
    pub id: i64,
    pub opened_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FeedbackRecord {
    pub id: i64,
    /// `broadcast` or `ticket`.
    pub subject: String,
    pub subject_id: String,
    pub rating: i64,
    pub comment: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// Everything stored about one customer.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredRecord {
    pub customer: Customer,
    /// The mobile number for KakaoTalk 알림톡, and whether KakaoTalk refused it.
    pub phone: Option<StoredPhone>,
    pub tier: Option<String>,
    pub identities: Vec<LinkedAccount>,
    pub consents: Vec<ConsentRecord>,
    pub orders: Vec<Order>,
    pub tickets: Vec<TicketRecord>,
    pub feedback: Vec<FeedbackRecord>,
}

/// The whole record, oldest first within each part; `None` for an unknown customer and for the
/// pseudonym of a forgotten one (what is kept of them is not "about" anyone who can ask).
pub async fn stored_record(
    conn: &mut Conn,
    customer_id: &str,
) -> StoreResult<Option<StoredRecord>> {
    if is_pseudonym(conn, customer_id).await? {
        return Ok(None);
    }
    let Some(customer) = customers::customer(conn, customer_id).await? else {
        return Ok(None);
    };
    let phone = customers::phone_of(conn, customer_id).await?;
    let tier = super::vip::stored_tier(conn, customer_id).await?;
    let identities = sqlx::query(
        "SELECT platform, user_id, display_name, unreachable_at, last_seen_at, linked_at
         FROM identities WHERE customer_id = $1 ORDER BY linked_at, platform",
    )
    .bind(customer_id)
    .fetch_all(conn.db())
    .await?
    .iter()
    .map(|row| {
        let platform: String = row.try_get("platform")?;
        let unreachable: Option<String> = row.try_get("unreachable_at")?;
        Ok(LinkedAccount {
            platform: platform.parse().map_err(StoreError::Corrupt)?,
            user_id: row.try_get("user_id")?,
            display_name: row.try_get("display_name")?,
            reachable: unreachable.is_none(),
            last_seen_at: parse_ts(&row.try_get::<String, _>("last_seen_at")?)?,
            linked_at: parse_ts(&row.try_get::<String, _>("linked_at")?)?,
        })
    })
    .collect::<StoreResult<Vec<_>>>()?;
    let consents = consent_records(conn, customer_id).await?;
    let orders = orders::orders_of(conn, customer_id).await?;
    let tickets = sqlx::query(
        "SELECT id, opened_at, closed_at FROM tickets WHERE customer_id = $1 ORDER BY id",
    )
    .bind(customer_id)
    .fetch_all(conn.db())
    .await?
    .iter()
    .map(|row| {
        let closed: Option<String> = row.try_get("closed_at")?;
        Ok(TicketRecord {
            id: row.try_get("id")?,
            opened_at: parse_ts(&row.try_get::<String, _>("opened_at")?)?,
            closed_at: closed.as_deref().map(parse_ts).transpose()?,
        })
    })
    .collect::<StoreResult<Vec<_>>>()?;
    let feedback = sqlx::query(
        "SELECT id, subject, subject_id, rating, comment, created_at FROM feedback
         WHERE customer_id = $1 ORDER BY created_at, id",
    )
    .bind(customer_id)
    .fetch_all(conn.db())
    .await?
    .iter()
    .map(|row| {
        Ok(FeedbackRecord {
            id: row.try_get("id")?,
            subject: row.try_get("subject")?,
            subject_id: row.try_get("subject_id")?,
            rating: row.try_get("rating")?,
            comment: row.try_get("comment")?,
            created_at: parse_ts(&row.try_get::<String, _>("created_at")?)?,
        })
    })
    .collect::<StoreResult<Vec<_>>>()?;
    Ok(Some(StoredRecord {
        customer,
        phone,
        tier,
        identities,
        consents,
        orders,
        tickets,
        feedback,
    }))
}

/// The consent ledger of a customer, in the order the decisions were given.
async fn consent_records(conn: &mut Conn, customer_id: &str) -> StoreResult<Vec<ConsentRecord>> {
    let rows = sqlx::query(
        "SELECT purpose, CAST(granted AS BIGINT) AS granted, given_at, source, wording, method, recorded_at FROM consents
         WHERE customer_id = $1 ORDER BY given_at, id",
    )
    .bind(customer_id)
    .fetch_all(conn.db())
    .await?;
    rows.iter()
        .map(|row| {
            let purpose: String = row.try_get("purpose")?;
            Ok(ConsentRecord {
                entry: ConsentEntry {
                    purpose: match purpose.as_str() {
                        "night" => ConsentPurpose::Night,
                        "marketing" => ConsentPurpose::Marketing,
                        other => {
                            return Err(StoreError::Corrupt(format!(
                                "unknown consent purpose `{other}`"
                            )));
                        }
                    },
                    granted: super::read_flag(row, "granted")?,
                    given_at: parse_ts(&row.try_get::<String, _>("given_at")?)?,
                    source: row.try_get("source")?,
                    wording: row.try_get("wording")?,
                    method: row.try_get("method")?,
                },
                recorded_at: parse_ts(&row.try_get::<String, _>("recorded_at")?)?,
            })
        })
        .collect()
}

// ---- forgetting ------------------------------------------------------------------------------

/// What forgetting did, without personal data (for logs and the caller's answer).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForgetSummary {
    pub pseudonym: String,
    /// The customer was known here (not only named by a `customer.deleted`).
    pub was_known: bool,
    pub was_linked: bool,
    pub messages_cancelled: u64,
    pub events_scrubbed: u64,
}

/// Why a queued message did not go out.
const FORGOTTEN: &str = "the customer was forgotten";

/// Forgets `customer_id` (CONTRACT §6), in the caller's transaction:
///
/// 1. removed: the name, birthday, language and phone number (the customer row), messenger
///    identities, link tokens, remembered viewer messages, feedback comments, conversation
///    state, VIP-room access, room memberships and mutes of their accounts;
/// 2. queued messages to them, and the staff chat's cards, relays and comment notes about them,
///    are cancelled; every stored payload of those messages becomes `{}`;
/// 3. stored events that name them keep their id and body hash (a replay is still a duplicate)
///    but lose their payload;
/// 4. kept, under the pseudonym: orders, consent history, tickets, ratings, code records and
///    the outbox rows the report counts (their keys renamed too);
/// 5. a tombstone for the id and every id merged into it.
///
/// The caller checks [`is_forgotten`] first; forgetting an unknown id writes only the
/// tombstone (a late `customer.upserted` then cannot create the person).
pub async fn forget(
    conn: &mut Conn,
    customer_id: &str,
    now: DateTime<Utc>,
) -> StoreResult<ForgetSummary> {
    let pseudonym = pseudonym_of(customer_id);
    let was_known = customers::customer_exists(conn, customer_id).await?;
    let accounts: Vec<(String, String)> =
        sqlx::query("SELECT platform, user_id FROM identities WHERE customer_id = $1")
            .bind(customer_id)
            .fetch_all(conn.db())
            .await?
            .iter()
            .map(|row| Ok((row.try_get("platform")?, row.try_get("user_id")?)))
            .collect::<StoreResult<_>>()?;
    let was_linked = !accounts.is_empty();
    let aliases: Vec<String> =
        sqlx::query_scalar("SELECT alias FROM customer_aliases WHERE customer_id = $1")
            .bind(customer_id)
            .fetch_all(conn.db())
            .await?;

    // The staff chat's messages about them, found by what they are about.
    let mut staff_keys: Vec<String> = Vec::new();
    let mut staff_prefixes: Vec<String> = Vec::new();
    let tickets: Vec<i64> = sqlx::query_scalar("SELECT id FROM tickets WHERE customer_id = $1")
        .bind(customer_id)
        .fetch_all(conn.db())
        .await?;
    for ticket in tickets {
        staff_keys.push(IdemKey::TicketCard { ticket }.to_string());
        staff_prefixes.push(IdemKey::ticket_relay_prefix(ticket));
    }
    let feedback: Vec<i64> = sqlx::query_scalar("SELECT id FROM feedback WHERE customer_id = $1")
        .bind(customer_id)
        .fetch_all(conn.db())
        .await?;
    for id in feedback {
        staff_prefixes.push(IdemKey::feedback_comment_prefix(id));
    }
    for (platform, user_id) in &accounts {
        let mutes: Vec<i64> =
            sqlx::query_scalar("SELECT id FROM mutes WHERE platform = $1 AND user_id = $2")
                .bind(platform)
                .bind(user_id)
                .fetch_all(conn.db())
                .await?;
        for mute in mutes {
            staff_keys.extend(IdemKey::keys_of_mute(mute).iter().map(IdemKey::to_string));
        }
        // Notices about a removed link name the member.
        staff_prefixes.push(IdemKey::link_notice_prefix(platform, user_id));
    }

    let mut messages_cancelled = 0;
    for key in &staff_keys {
        messages_cancelled += scrub_messages(conn, "idem_key = $1", key).await?;
    }
    for prefix in &staff_prefixes {
        let pattern = format!("{}%", like_escape(prefix));
        messages_cancelled +=
            scrub_messages(conn, "idem_key LIKE $1 ESCAPE '\\'", &pattern).await?;
    }
    // Finished chat actions that named their accounts (join requests answered, the VIP role).
    for (_, user_id) in &accounts {
        let quoted = serde_json::Value::String(user_id.clone()).to_string();
        sqlx::query(
            "UPDATE outbox SET payload = '{}'
             WHERE payload LIKE $1 ESCAPE '\\' AND state NOT IN ('queued', 'claimed', 'sending')",
        )
        .bind(format!("%\"user_id\":{}%", like_escape(&quoted)))
        .execute(conn.db())
        .await?;
    }

    // Messages to them: queued ones cancelled, every payload emptied, filed under the pseudonym.
    let rows = sqlx::query(
        "SELECT id, idem_key, state FROM outbox WHERE customer_id = $1 OR idem_key = $2",
    )
    .bind(customer_id)
    .bind(
        IdemKey::VipRole {
            customer_id: customer_id.to_string(),
        }
        .to_string(),
    )
    .fetch_all(conn.db())
    .await?;
    for row in &rows {
        let id: i64 = row.try_get("id")?;
        let key: String = row.try_get("idem_key")?;
        let state: String = row.try_get("state")?;
        let new_key = IdemKey::rename_customer(&key, customer_id, &pseudonym);
        if let Some(new_key) = &new_key {
            // Code records join their message by key: they follow it.
            sqlx::query("UPDATE code_sends SET message_key = $1 WHERE message_key = $2")
                .bind(new_key)
                .bind(&key)
                .execute(conn.db())
                .await?;
        }
        if state == "queued" {
            messages_cancelled += 1;
        }
        sqlx::query(
            "UPDATE outbox SET payload = '{}', idem_key = $1,
                 customer_id = CASE WHEN customer_id IS NULL THEN NULL ELSE $2 END,
                 recipient = CASE WHEN customer_id IS NULL THEN recipient ELSE 'customer:' || $2 END,
                 last_error = CASE WHEN state = 'queued' THEN $3 ELSE last_error END,
                 state = CASE WHEN state = 'queued' THEN 'cancelled' ELSE state END
             WHERE id = $4",
        )
        .bind(new_key.as_deref().unwrap_or(&key))
        .bind(&pseudonym)
        .bind(FORGOTTEN)
        .bind(id)
        .execute(conn.db())
        .await?;
    }

    // Stored events that name them (or an id merged into them).
    let mut events_scrubbed = 0;
    for id in std::iter::once(customer_id).chain(aliases.iter().map(String::as_str)) {
        events_scrubbed += scrub_events(conn, id, now).await?;
    }

    // Kept, pseudonymised. A kept order needs a customer row to belong to: an empty one.
    let has_orders: Option<i64> =
        sqlx::query_scalar("SELECT 1 FROM orders WHERE customer_id = $1 LIMIT 1")
            .bind(customer_id)
            .fetch_optional(conn.db())
            .await?;
    if has_orders.is_some() {
        sqlx::query(
            "INSERT INTO customers (id, name, created_at, updated_at) VALUES ($1, '', $2, $2)
             ON CONFLICT (id) DO NOTHING",
        )
        .bind(&pseudonym)
        .bind(ts(now))
        .execute(conn.db())
        .await?;
    }
    for table in [
        "orders",
        "consents",
        "tickets",
        "code_pool",
        "code_sends",
        "code_redemptions",
        "checkin_ratings",
        "broadcast_viewers",
    ] {
        sqlx::query(&format!(
            "UPDATE {table} SET customer_id = $1 WHERE customer_id = $2"
        ))
        .bind(&pseudonym)
        .bind(customer_id)
        .execute(conn.db())
        .await?;
    }
    sqlx::query(
        "UPDATE feedback SET customer_id = $1, comment = NULL,
             comment_removed = CASE WHEN comment_removed = 1 OR (comment IS NOT NULL AND TRIM(comment) <> '') THEN 1 ELSE 0 END
         WHERE customer_id = $2",
    )
    .bind(&pseudonym)
    .bind(customer_id)
    .execute(conn.db())
    .await?;

    // A vote stays counted (results and reports do not change), no longer under their account.
    for (platform, user_id) in &accounts {
        super::polls::pseudonymise_voter(conn, platform, user_id, &pseudonym).await?;
    }

    // Removed.
    for (platform, user_id) in &accounts {
        for table in ["room_members", "mutes"] {
            sqlx::query(&format!(
                "DELETE FROM {table} WHERE platform = $1 AND user_id = $2"
            ))
            .bind(platform)
            .bind(user_id)
            .execute(conn.db())
            .await?;
        }
    }
    for table in [
        "identities",
        "link_tokens",
        "viewer_messages",
        "conversation_state",
        "vip_access",
        "customer_aliases",
        "alert_subscriptions",
        "carts",
    ] {
        sqlx::query(&format!("DELETE FROM {table} WHERE customer_id = $1"))
            .bind(customer_id)
            .execute(conn.db())
            .await?;
    }
    sqlx::query("DELETE FROM customers WHERE id = $1")
        .bind(customer_id)
        .execute(conn.db())
        .await?;

    for (id, linked) in std::iter::once((customer_id, was_linked))
        .chain(aliases.iter().map(|a| (a.as_str(), false)))
    {
        sqlx::query(
            "INSERT INTO tombstones (id_hash, pseudonym, was_linked, forgotten_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (id_hash) DO NOTHING",
        )
        .bind(id_hash(id))
        .bind(&pseudonym)
        .bind(i64::from(linked))
        .bind(ts(now))
        .execute(conn.db())
        .await?;
    }
    Ok(ForgetSummary {
        pseudonym,
        was_known,
        was_linked,
        messages_cancelled,
        events_scrubbed,
    })
}

/// Outbox rows matching `filter` (one `$1` parameter): queued ones cancelled, payloads emptied.
/// Returns how many were cancelled.
async fn scrub_messages(conn: &mut Conn, filter: &str, value: &str) -> StoreResult<u64> {
    let cancelled = sqlx::query(&format!(
        "UPDATE outbox SET state = 'cancelled', last_error = $2 WHERE state IN ('queued', 'claimed') AND {filter}"
    ))
    .bind(value)
    .bind(FORGOTTEN)
    .execute(conn.db())
    .await?
    .rows_affected();
    sqlx::query(&format!(
        "UPDATE outbox SET payload = '{{}}' WHERE {filter}"
    ))
    .bind(value)
    .execute(conn.db())
    .await?;
    Ok(cancelled)
}

/// The customer ids an event's payload names, by the event type's fields.
fn customers_named(payload: &serde_json::Value) -> Vec<&str> {
    let field = |path: &[&str]| {
        path.iter()
            .try_fold(payload, |value, key| value.get(key))
            .and_then(serde_json::Value::as_str)
    };
    let named = match payload.get("type").and_then(serde_json::Value::as_str) {
        Some("customer.upserted") => vec![field(&["customer", "id"])],
        Some("order.placed") => vec![field(&["order", "customer_id"])],
        Some("cart.abandoned") => vec![field(&["cart", "customer_id"])],
        Some("customer.merged") => vec![field(&["from"]), field(&["into"])],
        Some("customer.deleted" | "viewer.engaged" | "code.redeemed") => {
            vec![field(&["customer_id"])]
        }
        _ => Vec::new(),
    };
    named.into_iter().flatten().collect()
}

/// Keeps only a stored event's id and body hash, and settles it if it was waiting: it names a
/// forgotten customer and will never apply.
pub async fn settle_event(conn: &mut Conn, event_id: &str, now: DateTime<Utc>) -> StoreResult<()> {
    sqlx::query(
        "UPDATE events SET payload = '{}', waiting_for = NULL,
             applied_at = COALESCE(applied_at, $1),
             state = CASE WHEN state = 'pending' THEN 'applied' ELSE state END
         WHERE id = $2",
    )
    .bind(ts(now))
    .bind(event_id)
    .execute(conn.db())
    .await?;
    Ok(())
}

/// Empties the payload of every stored event that names `customer_id`; one that was still
/// waiting is settled (it will never apply now). Returns how many.
async fn scrub_events(conn: &mut Conn, customer_id: &str, now: DateTime<Utc>) -> StoreResult<u64> {
    // The id as it appears in JSON, quotes included, narrows the search; the fields decide.
    let quoted = serde_json::Value::String(customer_id.to_string()).to_string();
    let rows = sqlx::query("SELECT id, payload FROM events WHERE payload LIKE $1 ESCAPE '\\'")
        .bind(format!("%{}%", like_escape(&quoted)))
        .fetch_all(conn.db())
        .await?;
    let mut scrubbed = 0;
    for row in &rows {
        let id: String = row.try_get("id")?;
        let payload: String = row.try_get("payload")?;
        let names = serde_json::from_str::<serde_json::Value>(&payload)
            .map(|value| customers_named(&value).contains(&customer_id))
            .unwrap_or(false);
        if !names {
            continue;
        }
        settle_event(conn, &id, now).await?;
        scrubbed += 1;
    }
    Ok(scrubbed)
}

// ---- merging ---------------------------------------------------------------------------------

/// What a merge moved, without personal data.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MergeSummary {
    pub identities_moved: u64,
    pub identities_dropped: u64,
    pub orders_moved: u64,
    pub messages_moved: u64,
}

/// Moves everything of `from` to `into` (both known, not the same) and removes `from`:
///
/// 1. identities: where both have an account on the same platform, the one seen most recently
///    stays (it is the account the person uses now; `into`'s on a tie) and the other is
///    unlinked; the rest move;
/// 2. orders, consent history, tickets, ratings (where both rated the same thing, `into`'s
///    stays), code records, remembered messages, link tokens and VIP-room access move;
/// 3. outbox rows move with their keys renamed, so a replayed `broadcast.ended` does not thank
///    the merged customer twice; a queued message `into` already has its own copy of is
///    cancelled (that copy is rendered from the merged orders when it goes out);
/// 4. `into` keeps its name and fills a missing locale, birthday, language or phone number (with
///    KakaoTalk's refusal of it, if any) from `from`;
/// 5. `from` becomes an alias of `into` (see [`record_alias`]).
pub async fn merge(
    conn: &mut Conn,
    from: &str,
    into: &str,
    now: DateTime<Utc>,
) -> StoreResult<MergeSummary> {
    let mut summary = MergeSummary::default();
    let theirs = customers::identities_of(conn, into).await?;
    for mine in customers::identities_of(conn, from).await? {
        let clash = theirs.iter().find(|t| t.platform == mine.platform);
        let (stays, goes) = match clash {
            None => (Some(&mine), None),
            Some(other) if mine.last_seen_at > other.last_seen_at => (Some(&mine), Some(other)),
            Some(_) => (None, Some(&mine)),
        };
        if let Some(goes) = goes {
            sqlx::query("DELETE FROM identities WHERE platform = $1 AND user_id = $2")
                .bind(goes.platform.as_str())
                .bind(&goes.user_id)
                .execute(conn.db())
                .await?;
            summary.identities_dropped += 1;
        }
        if let Some(stays) = stays {
            sqlx::query(
                "UPDATE identities SET customer_id = $1 WHERE platform = $2 AND user_id = $3",
            )
            .bind(into)
            .bind(stays.platform.as_str())
            .bind(&stays.user_id)
            .execute(conn.db())
            .await?;
            summary.identities_moved += 1;
        }
    }

    // Unique per customer: where both have one, `into`'s stays.
    sqlx::query(
        "DELETE FROM feedback WHERE customer_id = $1 AND EXISTS (
             SELECT 1 FROM feedback f WHERE f.customer_id = $2
               AND f.subject = feedback.subject AND f.subject_id = feedback.subject_id)",
    )
    .bind(from)
    .bind(into)
    .execute(conn.db())
    .await?;
    sqlx::query(
        "DELETE FROM code_sends WHERE customer_id = $1 AND EXISTS (
             SELECT 1 FROM code_sends s WHERE s.customer_id = $2 AND s.code = code_sends.code)",
    )
    .bind(from)
    .bind(into)
    .execute(conn.db())
    .await?;
    sqlx::query(
        "DELETE FROM vip_access WHERE customer_id = $1 AND EXISTS (
             SELECT 1 FROM vip_access v WHERE v.customer_id = $2 AND v.platform = vip_access.platform)",
    )
    .bind(from)
    .bind(into)
    .execute(conn.db())
    .await?;
    sqlx::query("DELETE FROM conversation_state WHERE customer_id = $1")
        .bind(from)
        .execute(conn.db())
        .await?;

    let rows = sqlx::query(
        "SELECT id, idem_key, state FROM outbox WHERE customer_id = $1 OR idem_key = $2",
    )
    .bind(from)
    .bind(
        IdemKey::VipRole {
            customer_id: from.to_string(),
        }
        .to_string(),
    )
    .fetch_all(conn.db())
    .await?;
    for row in &rows {
        let id: i64 = row.try_get("id")?;
        let key: String = row.try_get("idem_key")?;
        let state: String = row.try_get("state")?;
        let Some(new_key) = IdemKey::rename_customer(&key, from, into) else {
            continue;
        };
        let taken: Option<i64> = sqlx::query_scalar("SELECT 1 FROM outbox WHERE idem_key = $1")
            .bind(&new_key)
            .fetch_optional(conn.db())
            .await?;
        if taken.is_some() {
            if state == "queued" {
                sqlx::query(
                    "UPDATE outbox SET state = 'cancelled', last_error = 'merged into a customer who has the same message' WHERE id = $1",
                )
                .bind(id)
                .execute(conn.db())
                .await?;
            }
            continue;
        }
        sqlx::query("UPDATE outbox SET idem_key = $1 WHERE id = $2")
            .bind(&new_key)
            .bind(id)
            .execute(conn.db())
            .await?;
        sqlx::query("UPDATE code_sends SET message_key = $1 WHERE message_key = $2")
            .bind(&new_key)
            .bind(&key)
            .execute(conn.db())
            .await?;
    }
    summary.messages_moved = sqlx::query(
        "UPDATE outbox SET customer_id = $1, recipient = 'customer:' || $1 WHERE customer_id = $2",
    )
    .bind(into)
    .bind(from)
    .execute(conn.db())
    .await?
    .rows_affected();

    summary.orders_moved = sqlx::query("UPDATE orders SET customer_id = $1 WHERE customer_id = $2")
        .bind(into)
        .bind(from)
        .execute(conn.db())
        .await?
        .rows_affected();
    for table in [
        "consents",
        "tickets",
        "feedback",
        "code_pool",
        "code_sends",
        "code_redemptions",
        "viewer_messages",
        "link_tokens",
        "vip_access",
        "checkin_ratings",
        "carts",
    ] {
        sqlx::query(&format!(
            "UPDATE {table} SET customer_id = $1 WHERE customer_id = $2"
        ))
        .bind(into)
        .bind(from)
        .execute(conn.db())
        .await?;
    }
    // Broadcasts both watched are kept once, under `into`.
    sqlx::query(
        "UPDATE broadcast_viewers SET customer_id = $1 WHERE customer_id = $2
           AND NOT EXISTS (SELECT 1 FROM broadcast_viewers v
                            WHERE v.customer_id = $1 AND v.broadcast_id = broadcast_viewers.broadcast_id)",
    )
    .bind(into)
    .bind(from)
    .execute(conn.db())
    .await?;
    sqlx::query("DELETE FROM broadcast_viewers WHERE customer_id = $1")
        .bind(from)
        .execute(conn.db())
        .await?;
    // Next-live alerts: `into`'s own choice wins; otherwise `from`'s moves.
    sqlx::query(
        "UPDATE alert_subscriptions SET customer_id = $1 WHERE customer_id = $2
           AND NOT EXISTS (SELECT 1 FROM alert_subscriptions a WHERE a.customer_id = $1)",
    )
    .bind(into)
    .bind(from)
    .execute(conn.db())
    .await?;
    sqlx::query("DELETE FROM alert_subscriptions WHERE customer_id = $1")
        .bind(from)
        .execute(conn.db())
        .await?;
    sqlx::query(
        "UPDATE customers SET
             locale = COALESCE(locale, (SELECT c.locale FROM customers c WHERE c.id = $2)),
             birthday = COALESCE(birthday, (SELECT c.birthday FROM customers c WHERE c.id = $2)),
             lang_override = COALESCE(lang_override, (SELECT c.lang_override FROM customers c WHERE c.id = $2)),
             phone_unreachable_at = CASE WHEN phone IS NULL
                 THEN (SELECT c.phone_unreachable_at FROM customers c WHERE c.id = $2)
                 ELSE phone_unreachable_at END,
             phone = COALESCE(phone, (SELECT c.phone FROM customers c WHERE c.id = $2)),
             updated_at = $3
         WHERE id = $1",
    )
    .bind(into)
    .bind(from)
    .bind(ts(now))
    .execute(conn.db())
    .await?;
    sqlx::query("DELETE FROM customers WHERE id = $1")
        .bind(from)
        .execute(conn.db())
        .await?;
    record_alias(conn, from, into, now).await?;
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pseudonym_is_stable_and_does_not_contain_the_id() {
        let p = pseudonym_of("c-1");
        assert_eq!(p, pseudonym_of("c-1"));
        assert_eq!(p.len(), "forgotten-".len() + 16);
        assert!(!p.contains("c-1"));
        assert_ne!(p, pseudonym_of("c-2"));
    }

    #[test]
    fn like_patterns_match_wildcards_literally() {
        assert_eq!(like_escape(r"a_b%c\d"), r"a\_b\%c\\d");
    }

    #[test]
    fn events_name_their_customers_by_type() {
        let upsert = serde_json::json!({"type": "customer.upserted", "customer": {"id": "c-1", "name": "x"}});
        assert_eq!(customers_named(&upsert), vec!["c-1"]);
        let merged = serde_json::json!({"type": "customer.merged", "from": "a", "into": "b"});
        assert_eq!(customers_named(&merged), vec!["a", "b"]);
        let order = serde_json::json!({"type": "order.status_changed", "order_id": "c-1"});
        assert!(customers_named(&order).is_empty());
    }
}
