//! The send gate for advertising (CONTRACT §6, DESIGN invariant 5): the facts it needs from the
//! store. The rules themselves are plain functions in [`crate::domain::policy`]; the label,
//! shop, contact and opt-out line are added by the renderer. No flow checks consent or formats
//! a label itself.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use crate::domain::policy::{AdFacts, week_start};
use crate::store::customers::{self, ConsentPurpose};
use crate::store::{Conn, StoreResult};

/// Whether the customer's latest recorded marketing consent is yes.
pub async fn has_marketing_consent(conn: &mut Conn, customer_id: &str) -> StoreResult<bool> {
    Ok(
        customers::latest_consent(conn, customer_id, ConsentPurpose::Marketing)
            .await?
            .is_some_and(|c| c.granted),
    )
}

/// What the gate decides on for one advertisement to one customer, now.
pub async fn ad_facts(
    conn: &mut Conn,
    customer_id: &str,
    expires_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
    tz: Tz,
) -> StoreResult<AdFacts> {
    let marketing_consent = has_marketing_consent(conn, customer_id).await?;
    let night_consent = marketing_consent
        && customers::latest_consent(conn, customer_id, ConsentPurpose::Night)
            .await?
            .is_some_and(|c| c.granted);
    let sent_this_week =
        crate::store::outbox::advertising_sent_since(conn, customer_id, week_start(now, tz))
            .await?;
    Ok(AdFacts {
        marketing_consent,
        night_consent,
        sent_this_week: u32::try_from(sent_this_week).unwrap_or(u32::MAX),
        expires_at,
    })
}
