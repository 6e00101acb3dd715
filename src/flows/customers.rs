//! The shop's customer records: created and updated by `customer.upserted` and imports.

use chrono::{DateTime, Utc};

use crate::domain::events::CustomerRecord;
use crate::store::customers::{self, ConsentEntry, ConsentPurpose};
use crate::store::{Conn, StoreResult};

/// `customer.upserted`: stores the customer; a consent object is applied only if it is newer
/// than what is stored, so a viewer's later `/stop` is never undone by an older shop record.
pub async fn customer_upserted(
    conn: &mut Conn,
    record: &CustomerRecord,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    customers::upsert_customer(
        conn,
        &record.id,
        &record.name,
        record.locale.as_deref(),
        record.birthday.as_deref(),
        now,
    )
    .await?;
    let Some(consent) = &record.consent else {
        return Ok(());
    };
    let decisions = [
        (ConsentPurpose::Marketing, Some(consent.marketing)),
        // Night consent needs marketing consent; a shop record without `night` leaves it as is.
        (
            ConsentPurpose::Night,
            consent.night.map(|night| night && consent.marketing),
        ),
    ];
    for (purpose, granted) in decisions {
        let Some(granted) = granted else { continue };
        let latest = customers::latest_consent(conn, &record.id, purpose).await?;
        if latest.is_some_and(|l| l.given_at >= consent.at) {
            continue;
        }
        let entry = ConsentEntry {
            purpose,
            granted,
            given_at: consent.at,
            source: consent.source.clone(),
            wording: consent.wording.clone(),
            method: "shop_record".to_string(),
        };
        customers::record_consent(conn, &record.id, &entry, now).await?;
    }
    Ok(())
}
