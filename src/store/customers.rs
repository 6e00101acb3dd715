//! Customers, their messenger identities, link tokens and the consent ledger.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use sqlx::Row;

use super::{Conn, Store, StoreResult, in_list, parse_ts, rows_for_ids, ts};
use crate::domain::alimtalk::MobileNumber;
use crate::domain::{Lang, Platform};

#[derive(Debug, Clone, PartialEq)]
pub struct Customer {
    pub id: String,
    pub name: String,
    /// The shop's `locale` for the customer.
    pub locale: Option<String>,
    /// The viewer's own `/lang` choice, which wins over everything else.
    pub lang_override: Option<Lang>,
    pub birthday: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Identity {
    pub platform: Platform,
    pub user_id: String,
    pub customer_id: String,
    pub chat_id: String,
    pub display_name: Option<String>,
    pub platform_lang: Option<String>,
    pub unreachable_at: Option<DateTime<Utc>>,
    pub last_seen_at: DateTime<Utc>,
}

fn identity_from_row(row: &sqlx::any::AnyRow) -> StoreResult<Identity> {
    let platform: String = row.try_get("platform")?;
    let unreachable: Option<String> = row.try_get("unreachable_at")?;
    let last_seen: String = row.try_get("last_seen_at")?;
    Ok(Identity {
        platform: platform.parse().map_err(super::StoreError::Corrupt)?,
        user_id: row.try_get("user_id")?,
        customer_id: row.try_get("customer_id")?,
        chat_id: row.try_get("chat_id")?,
        display_name: row.try_get("display_name")?,
        platform_lang: row.try_get("platform_lang")?,
        unreachable_at: unreachable.as_deref().map(parse_ts).transpose()?,
        last_seen_at: parse_ts(&last_seen)?,
    })
}

const IDENTITY_COLUMNS: &str = "platform, user_id, customer_id, chat_id, display_name, platform_lang, unreachable_at, last_seen_at";

/// Creates or updates a customer; returns true when the customer is new.
pub async fn upsert_customer(
    conn: &mut Conn,
    id: &str,
    name: &str,
    locale: Option<&str>,
    birthday: Option<&str>,
    now: DateTime<Utc>,
) -> StoreResult<bool> {
    let existed = customer_exists(conn, id).await?;
    sqlx::query(
        "INSERT INTO customers (id, name, locale, birthday, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $5)
         ON CONFLICT (id) DO UPDATE SET name = excluded.name,
             locale = COALESCE(excluded.locale, customers.locale),
             birthday = COALESCE(excluded.birthday, customers.birthday),
             updated_at = excluded.updated_at",
    )
    .bind(id)
    .bind(name)
    .bind(locale)
    .bind(birthday)
    .bind(ts(now))
    .execute(conn.db())
    .await?;
    Ok(!existed)
}

pub async fn customer_exists(conn: &mut Conn, id: &str) -> StoreResult<bool> {
    let found: Option<i64> = sqlx::query_scalar("SELECT 1 FROM customers WHERE id = $1")
        .bind(id)
        .fetch_optional(conn.db())
        .await?;
    Ok(found.is_some())
}

const CUSTOMER_COLUMNS: &str = "id, name, locale, lang_override, birthday";

fn customer_from_row(row: &sqlx::any::AnyRow) -> StoreResult<Customer> {
    let lang_override: Option<String> = row.try_get("lang_override")?;
    Ok(Customer {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        locale: row.try_get("locale")?,
        lang_override: lang_override.as_deref().and_then(Lang::from_tag),
        birthday: row.try_get("birthday")?,
    })
}

pub async fn customer(conn: &mut Conn, id: &str) -> StoreResult<Option<Customer>> {
    let row = sqlx::query(&format!(
        "SELECT {CUSTOMER_COLUMNS} FROM customers WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(conn.db())
    .await?;
    row.as_ref().map(customer_from_row).transpose()
}

/// A customer, every messenger account linked to them (the most recently used first) and
/// their phone: whom a message to the customer goes to, and where.
#[derive(Debug, Clone, PartialEq)]
pub struct Recipient {
    pub customer: Customer,
    pub identities: Vec<Identity>,
    pub phone: Option<StoredPhone>,
}

/// The customers of `ids` that are known (a forgotten one is missing), each with their
/// identities and phone: two queries for a whole batch of messages (the dispatcher's claim).
pub async fn recipients(conn: &mut Conn, ids: &[&str]) -> StoreResult<HashMap<String, Recipient>> {
    let mut found = HashMap::with_capacity(ids.len());
    let customers = rows_for_ids(conn, ids, &[], |list, _| {
        format!(
            "SELECT {CUSTOMER_COLUMNS}, phone, phone_unreachable_at FROM customers WHERE id IN ({list})"
        )
    })
    .await?;
    for row in &customers {
        let customer = customer_from_row(row)?;
        found.insert(
            customer.id.clone(),
            Recipient {
                customer,
                identities: Vec::new(),
                phone: phone_from_row(row)?,
            },
        );
    }
    let identities = rows_for_ids(conn, ids, &[], |list, _| {
        format!(
            "SELECT {IDENTITY_COLUMNS} FROM identities WHERE customer_id IN ({list})
             ORDER BY customer_id, last_seen_at DESC"
        )
    })
    .await?;
    for row in &identities {
        let identity = identity_from_row(row)?;
        if let Some(recipient) = found.get_mut(&identity.customer_id) {
            recipient.identities.push(identity);
        }
    }
    Ok(found)
}

pub async fn set_lang_override(conn: &mut Conn, customer_id: &str, lang: Lang) -> StoreResult<()> {
    sqlx::query("UPDATE customers SET lang_override = $1 WHERE id = $2")
        .bind(lang.code())
        .bind(customer_id)
        .execute(conn.db())
        .await?;
    Ok(())
}

/// The language a customer is written to in (DESIGN "Identity"): their `/lang`, else the shop's
/// `locale`, else the platform's language, else the shop's default.
pub fn language_of(customer: &Customer, identity: Option<&Identity>, default: Lang) -> Lang {
    customer
        .lang_override
        .or_else(|| customer.locale.as_deref().and_then(Lang::from_tag))
        .or_else(|| {
            identity
                .and_then(|i| i.platform_lang.as_deref())
                .and_then(Lang::from_tag)
        })
        .unwrap_or(default)
}

// ---- link tokens -------------------------------------------------------------------------

pub async fn create_link_token(
    conn: &mut Conn,
    token: &str,
    customer_id: &str,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO link_tokens (token, customer_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(token)
    .bind(customer_id)
    .bind(ts(now))
    .bind(ts(expires_at))
    .execute(conn.db())
    .await?;
    Ok(())
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenUse {
    /// The token was good; it is now used up.
    Linked {
        customer_id: String,
    },
    Unknown,
    Expired,
    AlreadyUsed,
}

/// Uses a link token once. A second use, an expired or an unknown token links nothing.
pub async fn use_link_token(
    conn: &mut Conn,
    token: &str,
    now: DateTime<Utc>,
) -> StoreResult<TokenUse> {
    let row =
        sqlx::query("SELECT customer_id, expires_at, used_at FROM link_tokens WHERE token = $1")
            .bind(token)
            .fetch_optional(conn.db())
            .await?;
    let Some(row) = row else {
        return Ok(TokenUse::Unknown);
    };
    let used_at: Option<String> = row.try_get("used_at")?;
    if used_at.is_some() {
        return Ok(TokenUse::AlreadyUsed);
    }
    let expires_at: String = row.try_get("expires_at")?;
    if parse_ts(&expires_at)? <= now {
        return Ok(TokenUse::Expired);
    }
    let updated =
        sqlx::query("UPDATE link_tokens SET used_at = $1 WHERE token = $2 AND used_at IS NULL")
            .bind(ts(now))
            .bind(token)
            .execute(conn.db())
            .await?;
    if updated.rows_affected() == 0 {
        return Ok(TokenUse::AlreadyUsed);
    }
    Ok(TokenUse::Linked {
        customer_id: row.try_get("customer_id")?,
    })
}

// ---- identities --------------------------------------------------------------------------

pub struct NewIdentity<'a> {
    pub platform: Platform,
    pub user_id: &'a str,
    pub chat_id: &'a str,
    pub display_name: Option<&'a str>,
    pub platform_lang: Option<&'a str>,
}

/// What linking changed, so the flow can tell the viewer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkChange {
    /// The account was linked to this other customer before and has moved.
    pub moved_from: Option<String>,
}

/// Links a messenger account to a customer. An account belongs to at most one customer (linking
/// it elsewhere moves it); a customer has at most one account per platform (a new one replaces
/// the old).
pub async fn link_identity(
    conn: &mut Conn,
    customer_id: &str,
    new: &NewIdentity<'_>,
    now: DateTime<Utc>,
) -> StoreResult<LinkChange> {
    let previous: Option<String> = sqlx::query_scalar(
        "SELECT customer_id FROM identities WHERE platform = $1 AND user_id = $2",
    )
    .bind(new.platform.as_str())
    .bind(new.user_id)
    .fetch_optional(conn.db())
    .await?;
    sqlx::query("DELETE FROM identities WHERE (platform = $1 AND user_id = $2) OR (platform = $1 AND customer_id = $3)")
        .bind(new.platform.as_str())
        .bind(new.user_id)
        .bind(customer_id)
        .execute(conn.db())
        .await?;
    sqlx::query(
        "INSERT INTO identities (platform, user_id, customer_id, chat_id, display_name, platform_lang, last_seen_at, linked_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $7)",
    )
    .bind(new.platform.as_str())
    .bind(new.user_id)
    .bind(customer_id)
    .bind(new.chat_id)
    .bind(new.display_name)
    .bind(new.platform_lang)
    .bind(ts(now))
    .execute(conn.db())
    .await?;
    Ok(LinkChange {
        moved_from: previous.filter(|p| p != customer_id),
    })
}

pub async fn unlink_identity(
    conn: &mut Conn,
    platform: Platform,
    user_id: &str,
) -> StoreResult<Option<String>> {
    let customer: Option<String> = sqlx::query_scalar(
        "DELETE FROM identities WHERE platform = $1 AND user_id = $2 RETURNING customer_id",
    )
    .bind(platform.as_str())
    .bind(user_id)
    .fetch_optional(conn.db())
    .await?;
    Ok(customer)
}

pub async fn identity(
    conn: &mut Conn,
    platform: Platform,
    user_id: &str,
) -> StoreResult<Option<Identity>> {
    let row = sqlx::query(&format!(
        "SELECT {IDENTITY_COLUMNS} FROM identities WHERE platform = $1 AND user_id = $2"
    ))
    .bind(platform.as_str())
    .bind(user_id)
    .fetch_optional(conn.db())
    .await?;
    row.as_ref().map(identity_from_row).transpose()
}

/// The viewer wrote to the bot: they are reachable again and this platform is now their most
/// recently used one.
pub async fn touch_identity(
    conn: &mut Conn,
    platform: Platform,
    user_id: &str,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    sqlx::query("UPDATE identities SET last_seen_at = $1, unreachable_at = NULL WHERE platform = $2 AND user_id = $3")
        .bind(ts(now))
        .bind(platform.as_str())
        .bind(user_id)
        .execute(conn.db())
        .await?;
    Ok(())
}

/// The platform said the viewer blocked the bot: no more sends there until they write again.
/// On KakaoTalk the chat is the customer's phone number: the dealer refused it, and it is not
/// tried again until the shop sends another number ([`set_phone`]).
pub async fn mark_unreachable(
    conn: &mut Conn,
    platform: Platform,
    chat_id: &str,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    if platform == Platform::Kakao {
        sqlx::query(
            "UPDATE customers SET phone_unreachable_at = $1
             WHERE phone = $2 AND phone_unreachable_at IS NULL",
        )
        .bind(ts(now))
        .bind(chat_id)
        .execute(conn.db())
        .await?;
        return Ok(());
    }
    sqlx::query("UPDATE identities SET unreachable_at = $1 WHERE platform = $2 AND chat_id = $3")
        .bind(ts(now))
        .bind(platform.as_str())
        .bind(chat_id)
        .execute(conn.db())
        .await?;
    Ok(())
}

/// Every linked identity of a customer, the most recently used first.
pub async fn identities_of(conn: &mut Conn, customer_id: &str) -> StoreResult<Vec<Identity>> {
    let rows = sqlx::query(&format!(
        "SELECT {IDENTITY_COLUMNS} FROM identities WHERE customer_id = $1 ORDER BY last_seen_at DESC"
    ))
    .bind(customer_id)
    .fetch_all(conn.db())
    .await?;
    rows.iter().map(identity_from_row).collect()
}

// ---- the phone number (KakaoTalk 알림톡, CONTRACT §11) -------------------------------------

/// A customer's mobile number, and since when KakaoTalk refuses it (if it does).
#[derive(Debug, Clone, PartialEq)]
pub struct StoredPhone {
    pub number: String,
    pub unreachable_at: Option<DateTime<Utc>>,
}

impl StoredPhone {
    pub fn reachable(&self) -> bool {
        self.unreachable_at.is_none()
    }
}

/// Stores the customer's number, or removes it (`None`). A number other than the stored one
/// clears the "unreachable" mark: the shop sent a new number. The same number again keeps it.
pub async fn set_phone(
    conn: &mut Conn,
    customer_id: &str,
    number: Option<&MobileNumber>,
) -> StoreResult<()> {
    sqlx::query(
        "UPDATE customers SET
             phone_unreachable_at = CASE WHEN phone = $1 THEN phone_unreachable_at ELSE NULL END,
             phone = $1
         WHERE id = $2",
    )
    .bind(number.map(MobileNumber::as_str))
    .bind(customer_id)
    .execute(conn.db())
    .await?;
    Ok(())
}

pub async fn phone_of(conn: &mut Conn, customer_id: &str) -> StoreResult<Option<StoredPhone>> {
    let row = sqlx::query("SELECT phone, phone_unreachable_at FROM customers WHERE id = $1")
        .bind(customer_id)
        .fetch_optional(conn.db())
        .await?;
    Ok(row.as_ref().map(phone_from_row).transpose()?.flatten())
}

/// The `phone` and `phone_unreachable_at` columns of a customer row (`None`: no number).
fn phone_from_row(row: &sqlx::any::AnyRow) -> StoreResult<Option<StoredPhone>> {
    let number: Option<String> = row.try_get("phone")?;
    let Some(number) = number else {
        return Ok(None);
    };
    let unreachable: Option<String> = row.try_get("phone_unreachable_at")?;
    Ok(Some(StoredPhone {
        number,
        unreachable_at: unreachable.as_deref().map(parse_ts).transpose()?,
    }))
}

/// Whether a transactional note to the customer can go anywhere: a linked messenger account,
/// or — when KakaoTalk is on (`by_phone`) — a number KakaoTalk has not refused. The flows ask
/// this before they enqueue a note; where it goes is chosen when it is sent.
pub async fn reachable_for_notes(
    conn: &mut Conn,
    customer_id: &str,
    by_phone: bool,
) -> StoreResult<bool> {
    let found: Option<i64> = sqlx::query_scalar(&format!(
        "SELECT 1 WHERE {}",
        reachable_for_notes_sql("$1", by_phone)
    ))
    .bind(customer_id)
    .fetch_optional(conn.db())
    .await?;
    Ok(found.is_some())
}

/// The SQL condition of [`reachable_for_notes`] for the customer id `customer` (a column or a
/// placeholder), for statements that decide for many customers at once.
pub fn reachable_for_notes_sql(customer: &str, by_phone: bool) -> String {
    let linked = format!("EXISTS (SELECT 1 FROM identities i WHERE i.customer_id = {customer})");
    if !by_phone {
        return linked;
    }
    format!(
        "({linked} OR EXISTS (SELECT 1 FROM customers p WHERE p.id = {customer}
              AND p.phone IS NOT NULL AND p.phone_unreachable_at IS NULL))"
    )
}

// ---- consent ledger ----------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConsentPurpose {
    Marketing,
    Night,
}

impl ConsentPurpose {
    pub fn as_str(self) -> &'static str {
        match self {
            ConsentPurpose::Marketing => "marketing",
            ConsentPurpose::Night => "night",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ConsentEntry {
    pub purpose: ConsentPurpose,
    pub granted: bool,
    pub given_at: DateTime<Utc>,
    /// Where it was given: `telegram`, `shop`, …
    pub source: String,
    /// The exact words the viewer was shown.
    pub wording: String,
    /// How: `button`, `command`, `shop_record`.
    pub method: String,
}

pub async fn record_consent(
    conn: &mut Conn,
    customer_id: &str,
    entry: &ConsentEntry,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO consents (customer_id, purpose, granted, given_at, source, wording, method, recorded_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(customer_id)
    .bind(entry.purpose.as_str())
    .bind(i64::from(entry.granted))
    .bind(ts(entry.given_at))
    .bind(&entry.source)
    .bind(&entry.wording)
    .bind(&entry.method)
    .bind(ts(now))
    .execute(conn.db())
    .await?;
    Ok(())
}

/// The latest consent decision for a purpose (by when it was given, not when it was recorded).
pub async fn latest_consent(
    conn: &mut Conn,
    customer_id: &str,
    purpose: ConsentPurpose,
) -> StoreResult<Option<ConsentEntry>> {
    let row = sqlx::query(
        "SELECT CAST(granted AS BIGINT) AS granted, given_at, source, wording, method FROM consents
         WHERE customer_id = $1 AND purpose = $2 ORDER BY given_at DESC, id DESC LIMIT 1",
    )
    .bind(customer_id)
    .bind(purpose.as_str())
    .fetch_optional(conn.db())
    .await?;
    row.map(|row| {
        let given_at: String = row.try_get("given_at")?;
        Ok(ConsentEntry {
            purpose,
            granted: super::read_flag(&row, "granted")?,
            given_at: parse_ts(&given_at)?,
            source: row.try_get("source")?,
            wording: row.try_get("wording")?,
            method: row.try_get("method")?,
        })
    })
    .transpose()
}

/// The `(customer, purpose)` pairs among `ids` × `purposes` whose latest decision (as
/// [`latest_consent`] orders them) is yes, in one query per chunk of customers: what the send
/// gate asks for a whole batch of messages.
pub async fn granted_consents(
    conn: &mut Conn,
    ids: &[&str],
    purposes: &[ConsentPurpose],
) -> StoreResult<HashSet<(String, ConsentPurpose)>> {
    let mut granted = HashSet::new();
    if purposes.is_empty() {
        return Ok(granted);
    }
    let names: Vec<&str> = purposes.iter().map(|p| p.as_str()).collect();
    let rows = rows_for_ids(conn, ids, &names, |list, n| {
        format!(
            "SELECT customer_id, purpose, CAST(granted AS BIGINT) AS granted FROM consents
             WHERE customer_id IN ({list}) AND purpose IN ({})
             ORDER BY customer_id, purpose, given_at DESC, id DESC",
            in_list(n + 1, names.len())
        )
    })
    .await?;
    let mut decided: HashSet<(String, String)> = HashSet::new();
    for row in &rows {
        let customer: String = row.try_get("customer_id")?;
        let purpose: String = row.try_get("purpose")?;
        // The first row of each pair is its latest decision.
        if !decided.insert((customer.clone(), purpose.clone())) {
            continue;
        }
        if super::read_flag(row, "granted")?
            && let Some(purpose) = purposes.iter().find(|p| p.as_str() == purpose)
        {
            granted.insert((customer, *purpose));
        }
    }
    Ok(granted)
}

impl Store {
    pub async fn customer(&self, id: &str) -> StoreResult<Option<Customer>> {
        let mut conn = self.conn().await?;
        customer(&mut conn, id).await
    }

    pub async fn identities_of(&self, customer_id: &str) -> StoreResult<Vec<Identity>> {
        let mut conn = self.conn().await?;
        identities_of(&mut conn, customer_id).await
    }

    pub async fn consent_history(&self, customer_id: &str) -> StoreResult<Vec<ConsentEntry>> {
        let rows = sqlx::query(
            "SELECT purpose, CAST(granted AS BIGINT) AS granted, given_at, source, wording, method FROM consents
             WHERE customer_id = $1 ORDER BY given_at, id",
        )
        .bind(customer_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                let purpose: String = row.try_get("purpose")?;
                let given_at: String = row.try_get("given_at")?;
                Ok(ConsentEntry {
                    purpose: if purpose == "night" {
                        ConsentPurpose::Night
                    } else {
                        ConsentPurpose::Marketing
                    },
                    granted: super::read_flag(row, "granted")?,
                    given_at: parse_ts(&given_at)?,
                    source: row.try_get("source")?,
                    wording: row.try_get("wording")?,
                    method: row.try_get("method")?,
                })
            })
            .collect()
    }
}
