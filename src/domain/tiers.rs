//! Customer tiers (CONTRACT §2): the highest tier whose thresholds are all met, counting orders
//! and spend; refunded and cancelled orders do not count.

use crate::config::TierConfig;

/// `tiers` are listed lowest to highest.
pub fn tier_for(tiers: &[TierConfig], orders: u32, spend: i64) -> Option<&str> {
    tiers
        .iter()
        .rev()
        .find(|t| orders >= t.min_orders && spend >= t.min_spend)
        .map(|t| t.name.as_str())
}

/// The VIP tier is the highest one listed; `None` without tiers.
pub fn vip_tier(tiers: &[TierConfig]) -> Option<&str> {
    tiers.last().map(|t| t.name.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiers() -> Vec<TierConfig> {
        vec![
            TierConfig {
                name: "silver".into(),
                min_orders: 3,
                min_spend: 0,
            },
            TierConfig {
                name: "gold".into(),
                min_orders: 6,
                min_spend: 300_000,
            },
            TierConfig {
                name: "vip".into(),
                min_orders: 10,
                min_spend: 1_000_000,
            },
        ]
    }

    #[test]
    fn the_highest_tier_whose_thresholds_are_all_met_wins() {
        assert_eq!(tier_for(&tiers(), 2, 5_000_000), None);
        assert_eq!(tier_for(&tiers(), 3, 0), Some("silver"));
        assert_eq!(
            tier_for(&tiers(), 12, 200_000),
            Some("silver"),
            "orders alone are not enough for gold"
        );
        assert_eq!(tier_for(&tiers(), 6, 300_000), Some("gold"));
        assert_eq!(tier_for(&tiers(), 10, 1_000_000), Some("vip"));
    }
}
