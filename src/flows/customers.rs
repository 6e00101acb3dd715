//! The shop's customer records: created and updated by `customer.upserted` and imports.

use chrono::{DateTime, Utc};

use crate::config::Config;
use crate::domain::events::CustomerRecord;
use crate::domain::keys::IdemKey;
use crate::domain::{Flow, Lane};
use crate::outbox::{self, Envelope, Payload, Recipient};
use crate::store::customers::{self, ConsentEntry, ConsentPurpose};
use crate::store::{Conn, StoreResult};

/// `customer.upserted`: stores the customer (and their phone number, when the record names one:
/// a new number clears KakaoTalk's refusal of the old); a consent object is applied only if it is newer
/// than what is stored, so a viewer's later `/stop` is never undone by an older shop record.
/// A marketing withdrawal cancels queued advertising as `/stop` does; only a real change of
/// the decision is confirmed to the viewer.
pub async fn customer_upserted(
    config: &Config,
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
    if let Some(phone) = &record.phone {
        customers::set_phone(conn, &record.id, phone.as_ref()).await?;
    }
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
        // A record dated in the future (a skewed clock) counts as given now, so a viewer's
        // `/stop` after this moment still wins.
        let given_at = consent.at.min(now);
        if latest.as_ref().is_some_and(|l| l.given_at >= given_at) {
            continue;
        }
        // No stored decision means no consent: only a yes, or a no after a yes, changes
        // anything the viewer would notice. A shop that syncs the same answer every hour with
        // a fresh `at` is recorded, and tells the viewer nothing.
        let was_granted = latest.is_some_and(|l| l.granted);
        let entry = ConsentEntry {
            purpose,
            granted,
            given_at,
            source: consent.source.clone(),
            wording: consent.wording.clone(),
            method: "shop_record".to_string(),
        };
        customers::record_consent(conn, &record.id, &entry, now).await?;
        if purpose == ConsentPurpose::Marketing && !granted {
            // A withdrawal from the shop counts as `/stop` does (CONTRACT §6).
            crate::store::outbox::cancel_advertising_on_stop(conn, &record.id).await?;
        }
        if granted != was_granted {
            confirm_change_from_shop(config, conn, &record.id, &entry, now).await?;
        }
    }
    Ok(())
}

/// Every real consent change is confirmed to the viewer with the shop's name and the date — also
/// one the shop recorded (a box ticked at checkout). Nobody is written to before they linked.
async fn confirm_change_from_shop(
    config: &Config,
    conn: &mut Conn,
    customer_id: &str,
    entry: &ConsentEntry,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    if customers::identities_of(conn, customer_id)
        .await?
        .is_empty()
    {
        return Ok(());
    }
    let id = match (entry.purpose, entry.granted) {
        (ConsentPurpose::Marketing, true) => "consent-changed-marketing-yes",
        (ConsentPurpose::Marketing, false) => "consent-changed-marketing-no",
        (ConsentPurpose::Night, true) => "consent-changed-night-yes",
        (ConsentPurpose::Night, false) => "consent-changed-night-no",
    };
    let date = crate::domain::policy::shop_day(entry.given_at, config.shop.timezone);
    let envelope = Envelope {
        key: IdemKey::ConsentChanged {
            purpose: entry.purpose.as_str().to_string(),
            given_at_micros: entry.given_at.timestamp_micros(),
            customer_id: customer_id.to_string(),
        },
        to: Recipient::Customer(customer_id.to_string()),
        flow: Flow::ConsentChanged,
        lane: Lane::Bulk,
        payload: Payload::text(id)
            .arg("shop", config.shop.name.clone())
            .arg("date", date)
            .arg("hours", config.policy.quiet_hours.to_string()),
        broadcast_id: None,
        expires_at: None,
    };
    outbox::enqueue(conn, envelope, now).await?;
    Ok(())
}
