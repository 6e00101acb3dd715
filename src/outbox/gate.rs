//! The send gate for advertising (CONTRACT §6, DESIGN invariant 5): the facts it needs from the
//! store, read for a whole batch of messages at once. The rules themselves are plain functions
//! in [`crate::domain::policy`]; the label, shop, contact and opt-out line are added by the
//! renderer. No flow checks consent or formats a label itself.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use crate::domain::policy::{AdFacts, week_start};
use crate::store::customers::{self, ConsentPurpose};
use crate::store::{Conn, StoreResult};

/// Whether the customer's latest recorded marketing consent is yes.
pub async fn has_marketing_consent(conn: &mut Conn, customer_id: &str) -> StoreResult<bool> {
    Ok(!marketing_consenting(conn, &[customer_id]).await?.is_empty())
}

/// Those of `customer_ids` whose latest recorded marketing consent is yes.
pub async fn marketing_consenting(
    conn: &mut Conn,
    customer_ids: &[&str],
) -> StoreResult<HashSet<String>> {
    Ok(
        customers::granted_consents(conn, customer_ids, &[ConsentPurpose::Marketing])
            .await?
            .into_iter()
            .map(|(customer, _)| customer)
            .collect(),
    )
}

/// What the gate decides on for advertisements to customers, now: one answer per `(customer,
/// expires_at)` of `ads`, in order.
pub async fn ad_facts(
    conn: &mut Conn,
    ads: &[(&str, Option<DateTime<Utc>>)],
    now: DateTime<Utc>,
    tz: Tz,
) -> StoreResult<Vec<AdFacts>> {
    if ads.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<&str> = ads.iter().map(|(customer, _)| *customer).collect();
    let granted = customers::granted_consents(
        conn,
        &ids,
        &[ConsentPurpose::Marketing, ConsentPurpose::Night],
    )
    .await?;
    let sent =
        crate::store::outbox::advertising_sent_since(conn, &ids, week_start(now, tz)).await?;
    let granted_for = |customer: &str, purpose| granted.contains(&(customer.to_string(), purpose));
    Ok(ads
        .iter()
        .map(|(customer, expires_at)| {
            let marketing_consent = granted_for(customer, ConsentPurpose::Marketing);
            AdFacts {
                marketing_consent,
                night_consent: marketing_consent && granted_for(customer, ConsentPurpose::Night),
                sent_this_week: sent
                    .get(*customer)
                    .map_or(0, |n| u32::try_from(*n).unwrap_or(u32::MAX)),
                expires_at: *expires_at,
            }
        })
        .collect())
}
