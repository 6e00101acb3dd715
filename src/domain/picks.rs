//! Personalised picks (CONTRACT §6): which product of a coming live "goes with" something a
//! customer bought, and the one pick an alert names.
//!
//! B goes with A when the shop said so (`product.related`, either way round), or when it is
//! learnt from orders: among the customers who bought A, the share who bought B afterwards,
//! against the share of all buyers who ever bought B — the lift. A pair is learnt when
//! - at least [`MIN_BUYERS_OF_BOUGHT`] customers bought A,
//! - at least [`MIN_LATER_BUYERS`] of them bought B after their first A, and
//! - the lift is at least [`MIN_LIFT`] (they bought B at least twice as often as buyers in
//!   general).
//!
//! The thresholds keep a pick from resting on a handful of orders; docs/journeys.md says the
//! same for hosts.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};

/// Buyers of A needed before anything is learnt about A.
pub const MIN_BUYERS_OF_BOUGHT: i64 = 20;
/// Of them, how many must have bought B afterwards.
pub const MIN_LATER_BUYERS: i64 = 10;
/// How much more often than buyers in general.
pub const MIN_LIFT: f64 = 2.0;

/// Buyers of `bought` who bought `pick` after their first order of `bought`.
#[derive(Debug, Clone, PartialEq)]
pub struct LaterBuyers {
    pub bought: String,
    pub pick: String,
    pub customers: i64,
}

/// A product of the lineup that goes with one a customer may have bought.
#[derive(Debug, Clone, PartialEq)]
pub struct GoesWith {
    pub bought: String,
    pub pick: String,
    /// The shop said so; ranked before anything learnt.
    pub shop_said: bool,
    /// How much more often A's buyers bought B than buyers in general (0 when only the shop
    /// said so).
    pub lift: f64,
}

/// `later / buyers_of_bought` against `buyers_of_pick / all_buyers`.
pub fn lift(later: i64, buyers_of_bought: i64, buyers_of_pick: i64, all_buyers: i64) -> f64 {
    if buyers_of_bought <= 0 || buyers_of_pick <= 0 || all_buyers <= 0 {
        return 0.0;
    }
    let share_after_bought = later as f64 / buyers_of_bought as f64;
    let share_of_all = buyers_of_pick as f64 / all_buyers as f64;
    share_after_bought / share_of_all
}

/// The pairs that pass the rule, and the shop's own, for the lineup's products. `buyers_of`
/// counts distinct customers per sku; `all_buyers` distinct customers with any order.
pub fn goes_with(
    shop_pairs: &[(String, String)],
    later: &[LaterBuyers],
    buyers_of: &HashMap<String, i64>,
    all_buyers: i64,
) -> Vec<GoesWith> {
    let mut pairs: Vec<GoesWith> = shop_pairs
        .iter()
        .map(|(bought, pick)| GoesWith {
            bought: bought.clone(),
            pick: pick.clone(),
            shop_said: true,
            lift: 0.0,
        })
        .collect();
    let said: HashSet<(&str, &str)> = shop_pairs
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    for pair in later {
        let bought = buyers_of.get(&pair.bought).copied().unwrap_or(0);
        let pick = buyers_of.get(&pair.pick).copied().unwrap_or(0);
        let lift = lift(pair.customers, bought, pick, all_buyers);
        let learnt = bought >= MIN_BUYERS_OF_BOUGHT
            && pair.customers >= MIN_LATER_BUYERS
            && lift >= MIN_LIFT;
        if !learnt {
            continue;
        }
        if said.contains(&(pair.bought.as_str(), pair.pick.as_str())) {
            if let Some(known) = pairs
                .iter_mut()
                .find(|p| p.bought == pair.bought && p.pick == pair.pick)
            {
                known.lift = lift;
            }
            continue;
        }
        pairs.push(GoesWith {
            bought: pair.bought.clone(),
            pick: pair.pick.clone(),
            shop_said: false,
            lift,
        });
    }
    pairs
}

/// Something a customer bought: its sku, the name it was bought under, and when last.
#[derive(Debug, Clone, PartialEq)]
pub struct Bought {
    pub sku: String,
    pub name: String,
    pub last_at: DateTime<Utc>,
}

/// The one pick an alert names.
#[derive(Debug, Clone, PartialEq)]
pub struct Pick {
    pub bought_sku: String,
    pub bought_name: String,
    pub pick_sku: String,
}

/// At most one pick for a customer: a pair whose A they bought and whose B they never did. The
/// shop's own pairs first, then the strongest lift, then what they bought most recently.
pub fn choose_pick(bought: &[Bought], pairs: &[GoesWith]) -> Option<Pick> {
    let owned: HashMap<&str, &Bought> = bought.iter().map(|b| (b.sku.as_str(), b)).collect();
    pairs
        .iter()
        .filter(|pair| !owned.contains_key(pair.pick.as_str()))
        .filter_map(|pair| owned.get(pair.bought.as_str()).map(|b| (pair, *b)))
        .max_by(|(x, xb), (y, yb)| {
            x.shop_said
                .cmp(&y.shop_said)
                .then(x.lift.total_cmp(&y.lift))
                .then(xb.last_at.cmp(&yb.last_at))
                // Ties go to the smaller skus, so the same data always picks the same.
                .then(y.pick.cmp(&x.pick))
                .then(y.bought.cmp(&x.bought))
        })
        .map(|(pair, b)| Pick {
            bought_sku: b.sku.clone(),
            bought_name: b.name.clone(),
            pick_sku: pair.pick.clone(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(day: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, day, 0, 0, 0)
            .single()
            .expect("a day")
    }

    fn bought(sku: &str, day: u32) -> Bought {
        Bought {
            sku: sku.into(),
            name: format!("{sku} name"),
            last_at: at(day),
        }
    }

    fn counts(pairs: &[(&str, i64)]) -> HashMap<String, i64> {
        pairs.iter().map(|(s, n)| (s.to_string(), *n)).collect()
    }

    #[test]
    fn a_pair_is_learnt_when_buyers_of_a_bought_b_far_more_often_than_buyers_in_general() {
        // 31 bought the coat, 30 of them the muffler later; 30 of 100 buyers bought the muffler.
        let later = [LaterBuyers {
            bought: "coat".into(),
            pick: "muffler".into(),
            customers: 30,
        }];
        let pairs = goes_with(&[], &later, &counts(&[("coat", 31), ("muffler", 30)]), 100);
        assert_eq!(pairs.len(), 1);
        assert!((pairs[0].lift - (30.0 / 31.0) / 0.3).abs() < 1e-9);
        // When nearly everyone buys the muffler anyway, buying the coat says nothing.
        let common = goes_with(&[], &later, &counts(&[("coat", 31), ("muffler", 30)]), 33);
        assert!(common.is_empty(), "{common:?}");
    }

    #[test]
    fn too_few_buyers_teach_nothing() {
        let later = [LaterBuyers {
            bought: "coat".into(),
            pick: "muffler".into(),
            customers: 9,
        }];
        assert!(goes_with(&[], &later, &counts(&[("coat", 19), ("muffler", 9)]), 1000).is_empty());
    }

    #[test]
    fn the_shops_pair_wins_then_the_stronger_lift_and_never_something_already_bought() {
        let pairs = vec![
            GoesWith {
                bought: "coat".into(),
                pick: "gloves".into(),
                shop_said: false,
                lift: 9.0,
            },
            GoesWith {
                bought: "hat".into(),
                pick: "scarf".into(),
                shop_said: true,
                lift: 0.0,
            },
            GoesWith {
                bought: "coat".into(),
                pick: "muffler".into(),
                shop_said: false,
                lift: 3.0,
            },
        ];
        let customer = [bought("coat", 1), bought("hat", 2)];
        let pick = choose_pick(&customer, &pairs).expect("a pick");
        assert_eq!(
            (pick.bought_sku.as_str(), pick.pick_sku.as_str()),
            ("hat", "scarf")
        );
        let coat_only = [bought("coat", 1)];
        let pick = choose_pick(&coat_only, &pairs).expect("a pick");
        assert_eq!(pick.pick_sku, "gloves");
        assert_eq!(pick.bought_name, "coat name");
        let has_gloves = [bought("coat", 1), bought("gloves", 3)];
        let pick = choose_pick(&has_gloves, &pairs).expect("a pick");
        assert_eq!(pick.pick_sku, "muffler", "never a pick they already own");
        assert_eq!(choose_pick(&[bought("shoes", 1)], &pairs), None);
    }
}
