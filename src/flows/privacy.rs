//! Privacy: what a customer can see and erase of what encore keeps about them (CONTRACT §4,
//! §6). Owns `/mydata` (answered at send time, from the store), `/forget` and its confirmation
//! buttons, forgetting itself (`/forget` and `customer.deleted` share [`forget_customer`]),
//! `customer.merged`, and the screen every shop event passes first: an event about a forgotten
//! customer is accepted without effect, one naming a merged-away id applies to the customer it
//! was merged into.
//!
//! Like every flow it never calls a platform, and it never logs a customer id or a name.

use std::borrow::Cow;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::conversation::Conversation;
use super::{Effects, vip};
use crate::config::Config;
use crate::context::AppContext;
use crate::domain::Lang;
use crate::domain::events::{Event, EventBody};
use crate::outbox::{ButtonSpec, Payload};
use crate::store::privacy::{self as stored, ForgetSummary, StoredRecord};
use crate::store::{Conn, StoreResult, customers};

/// Callback data of the `/forget` buttons (≤ 64 bytes, CONTRACT §9).
pub const FORGET_YES: &str = "forget:yes";
pub const FORGET_NO: &str = "forget:no";

pub fn is_forget_button(data: &str) -> bool {
    data == FORGET_YES || data == FORGET_NO
}

/// `/mydata`: everything stored about the viewer, written when it is sent (so it shows the state
/// as it goes out, DESIGN invariant 4).
pub async fn my_data(
    conv: &mut Conversation<'_>,
    conn: &mut Conn,
    customer_id: Option<&str>,
) -> StoreResult<()> {
    match customer_id {
        Some(id) => conv.reply(conn, Some(id), Payload::MyData).await,
        None => conv.reply(conn, None, Payload::text("not-linked")).await,
    }
}

/// `/forget`: nothing is erased yet; the viewer is asked first, forget first, keep second.
pub async fn ask_to_forget(
    conv: &mut Conversation<'_>,
    conn: &mut Conn,
    customer_id: Option<&str>,
) -> StoreResult<()> {
    let Some(customer_id) = customer_id else {
        return conv.reply(conn, None, Payload::text("not-linked")).await;
    };
    let name = customers::customer(conn, customer_id)
        .await?
        .map(|c| c.name)
        .unwrap_or_default();
    let buttons = vec![vec![
        ButtonSpec::new("forget-button-yes", FORGET_YES),
        ButtonSpec::new("forget-button-no", FORGET_NO),
    ]];
    conv.reply(
        conn,
        Some(customer_id),
        Payload::text("forget-confirm")
            .arg("name", name)
            .arg("shop", conv.shop())
            .buttons(buttons),
    )
    .await
}

/// A press on one of the `/forget` buttons. Only "forget" forgets; the confirmation goes to this
/// chat, since the identity it would otherwise be sent through is gone.
pub async fn forget_button(
    conv: &mut Conversation<'_>,
    conn: &mut Conn,
    customer_id: Option<&str>,
    data: &str,
) -> StoreResult<()> {
    let Some(customer_id) = customer_id else {
        // Pressed again after forgetting, or from an account that was never linked.
        return conv.reply(conn, None, Payload::text("not-linked")).await;
    };
    if data != FORGET_YES {
        return conv
            .reply(conn, Some(customer_id), Payload::text("forget-kept"))
            .await;
    }
    // The language is read before the customer's records that decide it are erased.
    let identity =
        customers::identity(conn, conv.incoming.platform, &conv.incoming.user_id).await?;
    let lang = match customers::customer(conn, customer_id).await? {
        Some(customer) => customers::language_of(
            &customer,
            identity.as_ref(),
            conv.ctx.config.shop.default_locale,
        ),
        None => conv.platform_lang(),
    };
    forget_customer(&conv.ctx.config, conn, customer_id, conv.now).await?;
    let date = conv.today(lang);
    conv.reply(
        conn,
        None,
        Payload::text("forget-done")
            .arg("shop", conv.shop())
            .arg("date", date)
            .in_lang(lang),
    )
    .await
}

/// What forgetting found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Forgetting {
    Done(ForgetSummary),
    /// Forgotten before (a second press, a replayed `customer.deleted` with a new event id).
    AlreadyForgotten,
}

/// Forgets a customer (CONTRACT §6), in the caller's transaction: the one function behind both
/// `/forget` and `customer.deleted`. What is removed and what is kept pseudonymised is listed
/// at [`crate::store::privacy::forget`]. An id never seen here gets a tombstone all the same, so
/// a `customer.upserted` that arrives late cannot create the person.
pub async fn forget_customer(
    config: &Config,
    conn: &mut Conn,
    customer_id: &str,
    now: DateTime<Utc>,
) -> StoreResult<Forgetting> {
    if stored::is_forgotten(conn, customer_id).await? {
        return Ok(Forgetting::AlreadyForgotten);
    }
    let summary = stored::forget(conn, customer_id, now).await?;
    tracing::info!(
        was_known = summary.was_known,
        was_linked = summary.was_linked,
        messages_cancelled = summary.messages_cancelled,
        events_scrubbed = summary.events_scrubbed,
        "a customer was forgotten"
    );
    // The shop hears of it in the same transaction (and undelivered events lose the comments).
    crate::events_out::customer_forgotten(conn, config, customer_id, now).await?;
    Ok(Forgetting::Done(summary))
}

/// `customer.merged {from, into}` (ids already screened: neither is forgotten, `into` is known).
///
/// A `from` never seen here moves nothing, but is remembered as an alias, so events naming it
/// that arrive later apply to `into`. Otherwise everything of `from` moves (see
/// [`crate::store::privacy::merge`]) and `into`'s tier is recomputed without a message: the
/// merge is bookkeeping, not something the customer did.
pub async fn customer_merged(
    config: &Config,
    conn: &mut Conn,
    from: &str,
    into: &str,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    if from == into {
        return Ok(());
    }
    if !customers::customer_exists(conn, from).await? {
        stored::record_alias(conn, from, into, now).await?;
        tracing::info!(
            "a customer not known here was merged; events naming it now apply to the other"
        );
        return Ok(());
    }
    let summary = stored::merge(conn, from, into, now).await?;
    vip::recompute_tier(config, conn, into, Effects::Silent, now).await?;
    tracing::info!(
        identities_moved = summary.identities_moved,
        identities_dropped = summary.identities_dropped,
        orders_moved = summary.orders_moved,
        messages_moved = summary.messages_moved,
        "customers merged"
    );
    Ok(())
}

/// An event after the screen.
#[derive(Debug, Clone, PartialEq)]
pub enum Screened<'a> {
    /// Apply this: the event as it came, or with merged-away ids replaced.
    Apply(Cow<'a, Event>),
    /// It names a forgotten customer: accepted and counted, but without effect, and stored
    /// without its body.
    Forgotten,
}

/// The customer ids an event names, to read or to replace.
fn named_customers(body: &mut EventBody) -> Vec<&mut String> {
    match body {
        EventBody::CustomerUpserted(e) => vec![&mut e.customer.id],
        EventBody::OrderPlaced(e) => vec![&mut e.order.customer_id],
        EventBody::CustomerMerged(e) => vec![&mut e.from, &mut e.into],
        EventBody::CustomerDeleted(e) => vec![&mut e.customer_id],
        EventBody::ViewerEngaged(e) => vec![&mut e.customer_id],
        EventBody::CodeRedeemed(e) => vec![&mut e.customer_id],
        EventBody::CartAbandoned(e) => vec![&mut e.cart.customer_id],
        EventBody::BroadcastScheduled(_)
        | EventBody::BroadcastStarted(_)
        | EventBody::BroadcastEnded(_)
        | EventBody::OrderStatusChanged(_)
        | EventBody::CodePoolAdded(_)
        | EventBody::ProductRelated(_) => Vec::new(),
    }
}

/// Where events naming `customer_id` go: `None` when it was forgotten, else the customer it
/// stands for now (itself, or the one it was merged into).
pub async fn resolve_customer(conn: &mut Conn, customer_id: &str) -> StoreResult<Option<String>> {
    if stored::is_forgotten(conn, customer_id).await? {
        return Ok(None);
    }
    Ok(Some(
        stored::alias_target(conn, customer_id)
            .await?
            .unwrap_or_else(|| customer_id.to_string()),
    ))
}

/// The screen every new event passes before it is applied (or waits).
pub async fn screen<'a>(conn: &mut Conn, event: &'a Event) -> StoreResult<Screened<'a>> {
    let mut resolved = event.clone();
    let mut changed = false;
    for id in named_customers(&mut resolved.body) {
        match resolve_customer(conn, id).await? {
            None => return Ok(Screened::Forgotten),
            Some(target) if target != *id => {
                *id = target;
                changed = true;
            }
            Some(_) => {}
        }
    }
    Ok(Screened::Apply(if changed {
        Cow::Owned(resolved)
    } else {
        Cow::Borrowed(event)
    }))
}

/// `GET /v1/customers/{id}`: the same content as `/mydata`, as JSON. `None` when the customer
/// is unknown, merged away or forgotten.
pub async fn stored_about(ctx: &AppContext, customer_id: &str) -> StoreResult<Option<Value>> {
    let mut conn = ctx.store.conn().await?;
    let Some(record) = stored::stored_record(&mut conn, customer_id).await? else {
        return Ok(None);
    };
    let identities = customers::identities_of(&mut conn, customer_id).await?;
    let language = customers::language_of(
        &record.customer,
        identities.first(),
        ctx.config.shop.default_locale,
    );
    Ok(Some(record_json(&record, language)))
}

/// The record as the admin API shows it; times in RFC 3339 (UTC).
pub fn record_json(record: &StoredRecord, language: Lang) -> Value {
    let customer = &record.customer;
    json!({
        "customer": {
            "id": customer.id,
            "name": customer.name,
            "locale": customer.locale,
            "language": language.code(),
            "birthday": customer.birthday,
            "tier": record.tier,
            "phone": record.phone.as_ref().map(|p| json!({
                "number": p.number,
                "reachable": p.reachable(),
                "unreachable_since": p.unreachable_at.map(|at| at.to_rfc3339()),
            })),
        },
        "identities": record.identities.iter().map(|i| json!({
            "platform": i.platform.as_str(),
            "user_id": i.user_id,
            "display_name": i.display_name,
            "reachable": i.reachable,
            "linked_at": i.linked_at.to_rfc3339(),
            "last_seen_at": i.last_seen_at.to_rfc3339(),
        })).collect::<Vec<_>>(),
        "consents": record.consents.iter().map(|c| json!({
            "purpose": c.entry.purpose.as_str(),
            "granted": c.entry.granted,
            "at": c.entry.given_at.to_rfc3339(),
            "source": c.entry.source,
            "wording": c.entry.wording,
            "method": c.entry.method,
            "recorded_at": c.recorded_at.to_rfc3339(),
        })).collect::<Vec<_>>(),
        "orders": record.orders.iter().map(|o| json!({
            "id": o.id,
            "broadcast_id": o.broadcast_id,
            "status": o.status.as_str(),
            "total": o.total,
            "currency": o.currency,
            "placed_at": o.placed_at.to_rfc3339(),
            "items": o.items.iter().map(|i| json!({
                "sku": i.sku, "name": i.name, "category": i.category,
                "quantity": i.quantity, "unit_price": i.unit_price,
            })).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "tickets": record.tickets.iter().map(|t| json!({
            "number": t.id,
            "opened_at": t.opened_at.to_rfc3339(),
            "closed_at": t.closed_at.map(|at| at.to_rfc3339()),
        })).collect::<Vec<_>>(),
        "feedback": record.feedback.iter().map(|f| json!({
            "id": f.id,
            "about": f.subject,
            "subject_id": f.subject_id,
            "rating": f.rating,
            "comment": f.comment,
            "created_at": f.created_at.to_rfc3339(),
        })).collect::<Vec<_>>(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forget_buttons_fit_in_callback_data() {
        assert!(FORGET_YES.len() <= 64 && FORGET_NO.len() <= 64);
        assert!(is_forget_button(FORGET_YES) && is_forget_button(FORGET_NO));
        assert!(!is_forget_button("forget:maybe"));
    }
}
