//! The sections about what encore may send and when: `[policy]`, `[journeys]`, `[moderation]`
//! and the `[[tiers]]` list, with their defaults.
//!
//! A key is one field here. Counts may be 0 (0 switches the thing off); durations may not, as 0
//! would fire at once, so they carry the `AtLeast<_, 1>` rule. Tier order is checked in `checks.rs`.

use serde::{Deserialize, Serialize};

use super::rules::{self, AtLeast, TierName};
use super::time_range::{ShopWeekday, TimeOfDay, TimeRange};

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct PolicyConfig {
    /// Advertising is held through it (shop time) unless the viewer gave night consent.
    pub quiet_hours: TimeRange,
    /// Journey messages of any kind go out only inside it (shop time).
    pub send_window: TimeRange,
    /// Per customer, advertising only, Monday to Sunday in shop time. 0 sends no advertising.
    pub marketing_per_week: u32,
    #[serde(deserialize_with = "rules::one::<AtLeast<u32, 1>, _>")]
    pub winback_after_days: u32,
    /// 0 sends no win-back.
    pub winback_max_attempts: u32,
    #[serde(deserialize_with = "rules::one::<AtLeast<u32, 1>, _>")]
    pub checkin_after_days: u32,
    #[serde(deserialize_with = "rules::one::<AtLeast<u32, 1>, _>")]
    pub handoff_first_response_hours: u32,
    #[serde(deserialize_with = "rules::one::<AtLeast<u32, 1>, _>")]
    pub ticket_idle_close_days: u32,
    #[serde(deserialize_with = "rules::one::<AtLeast<u32, 1>, _>")]
    pub consent_renotice_days: u32,
    #[serde(deserialize_with = "rules::one::<AtLeast<u32, 1>, _>")]
    pub pending_event_hours: u32,
    /// How long after `abandoned_at` a cart's one reminder goes out (CONTRACT §6).
    #[serde(deserialize_with = "rules::one::<AtLeast<u32, 1>, _>")]
    pub cart_reminder_after_hours: u32,
    /// The weekly letter goes out on this day (shop time)…
    pub digest_day: ShopWeekday,
    /// …at this time (shop time).
    pub digest_time: TimeOfDay,
}

impl Default for PolicyConfig {
    fn default() -> Self {
        PolicyConfig {
            quiet_hours: TimeRange::DEFAULT_QUIET_HOURS,
            send_window: TimeRange::DEFAULT_SEND_WINDOW,
            marketing_per_week: 2,
            winback_after_days: 90,
            winback_max_attempts: 2,
            checkin_after_days: 30,
            handoff_first_response_hours: 24,
            ticket_idle_close_days: 7,
            consent_renotice_days: 700,
            pending_event_hours: 24,
            cart_reminder_after_hours: 48,
            digest_day: ShopWeekday(chrono::Weekday::Fri),
            digest_time: TimeOfDay::DEFAULT_DIGEST,
        }
    }
}

/// Each journey can be switched off.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct JourneysConfig {
    pub checkin: bool,
    pub birthday: bool,
    pub winback: bool,
    pub next_live_alerts: bool,
    pub welcome_back: bool,
    /// One reminder for a cart left without ordering its items (advertising).
    pub cart_reminder: bool,
    /// The weekly letter (advertising); off unless the host turns it on.
    pub digest: bool,
    /// Next-live alerts that name something the viewer bought and what in the lineup goes
    /// with it (advertising).
    pub picks: bool,
    /// The win-back speaks to why the customer may have left (a delay, a bad experience, a
    /// ticket), quoting what the shop changed (`/changed`).
    pub trust_recovery: bool,
}

impl Default for JourneysConfig {
    fn default() -> Self {
        JourneysConfig {
            checkin: true,
            birthday: true,
            winback: true,
            next_live_alerts: true,
            welcome_back: true,
            cart_reminder: true,
            digest: false,
            picks: true,
            trust_recovery: true,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct ModerationConfig {
    /// More than this many messages…
    #[serde(deserialize_with = "rules::one::<AtLeast<u32, 1>, _>")]
    pub flood_messages: u32,
    /// …in this many seconds mutes the member.
    #[serde(deserialize_with = "rules::one::<AtLeast<u32, 1>, _>")]
    pub flood_seconds: u32,
    #[serde(deserialize_with = "rules::one::<AtLeast<u32, 1>, _>")]
    pub mute_minutes: u32,
    /// Links from members younger than this are removed; 0 allows links at once.
    pub new_member_link_minutes: u32,
}

impl Default for ModerationConfig {
    fn default() -> Self {
        ModerationConfig {
            flood_messages: 6,
            flood_seconds: 10,
            mute_minutes: 30,
            new_member_link_minutes: 10,
        }
    }
}

/// One `[[tiers]]` table. The file's list replaces the built-in one as a whole; it can only come
/// from the file.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TierConfig {
    /// One word, unique (ignoring case): staff type it in `/vipcode CODE TIER`.
    #[serde(deserialize_with = "rules::one::<TierName, _>")]
    pub name: String,
    #[serde(default)]
    pub min_orders: u32,
    /// In the currency's minor unit.
    #[serde(default, deserialize_with = "rules::one::<AtLeast<i64, 0>, _>")]
    pub min_spend: i64,
}

/// Silver, gold and VIP, lowest to highest.
pub(super) fn default_tiers() -> Vec<TierConfig> {
    [
        ("silver", 3, 0),
        ("gold", 6, 300_000),
        ("vip", 10, 1_000_000),
    ]
    .into_iter()
    .map(|(name, min_orders, min_spend)| TierConfig {
        name: name.to_string(),
        min_orders,
        min_spend,
    })
    .collect()
}
