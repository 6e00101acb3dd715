//! Scoring one example question against a query (steps 4 to 6 of the matcher, see the
//! module above): stem weights, stem agreement, shares and character bigrams.

use std::cmp::Ordering;

use super::{ENTRY_SHARE_DISCOUNT, Example, Faq};
use crate::domain::text::is_hangul_word;

impl Faq {
    pub(super) fn weight(&self, stem: &str) -> f64 {
        self.weights
            .get(stem)
            .copied()
            .unwrap_or(self.unknown_weight)
    }

    pub(super) fn score(
        &self,
        query: &[String],
        grams: &[(char, char)],
        ex: &Example,
    ) -> Option<f64> {
        if ex.stems.is_empty() {
            return None;
        }
        let entry_stems = self.entry_stems.get(ex.entry).map_or(&[][..], |v| &v[..]);
        let mut agreeing = 0usize;
        let (mut q_found, mut q_found_entry, mut q_all) = (0.0, 0.0, 0.0);
        for q in query {
            let w = self.weight(q);
            let best = best_agreement(q, &ex.stems);
            if best > 0.0 {
                agreeing += 1;
            }
            q_found += w * best;
            q_found_entry += w * best_agreement(q, entry_stems);
            q_all += w;
        }
        let query_share =
            ratio(q_found, q_all).max(ENTRY_SHARE_DISCOUNT * ratio(q_found_entry, q_all));
        let (mut e_found, mut e_all) = (0.0, 0.0);
        for e in &ex.stems {
            let w = self.weight(e);
            let best = best_agreement(e, query);
            e_found += w * best;
            e_all += w;
        }
        let shared = shared_count(grams, &ex.bigrams);
        if agreeing == 0 && shared < 2 {
            return None;
        }
        let stem = 0.7 * query_share + 0.3 * ratio(e_found, e_all);
        let dice = ratio(2.0 * shared as f64, (grams.len() + ex.bigrams.len()) as f64);
        Some(0.6 * stem + 0.4 * dice)
    }
}

fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 { a / b } else { 0.0 }
}

/// Character bigrams of the stems joined without spaces, sorted (a multiset).
pub(super) fn bigrams(stems: &[String]) -> Vec<(char, char)> {
    let joined: Vec<char> = stems.iter().flat_map(|s| s.chars()).collect();
    let mut grams: Vec<(char, char)> = joined.windows(2).map(|w| (w[0], w[1])).collect();
    grams.sort_unstable();
    grams
}

/// How many bigrams two sorted multisets share.
fn shared_count(a: &[(char, char)], b: &[(char, char)]) -> usize {
    let (mut i, mut j, mut n) = (0, 0, 0);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            Ordering::Less => i += 1,
            Ordering::Greater => j += 1,
            Ordering::Equal => {
                n += 1;
                i += 1;
                j += 1;
            }
        }
    }
    n
}

fn best_agreement(stem: &str, among: &[String]) -> f64 {
    among
        .iter()
        .map(|other| stem_agreement(stem, other))
        .fold(0.0, f64::max)
}

/// 1 for equal stems, 0.7 when one is a long enough prefix of the other, else 0.
fn stem_agreement(a: &str, b: &str) -> f64 {
    if a == b {
        return 1.0;
    }
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    if !long.starts_with(short) {
        return 0.0;
    }
    let n = short.chars().count();
    let enough = if is_hangul_word(short) {
        n >= 2
    } else {
        n >= 4
    };
    if enough { 0.7 } else { 0.0 }
}
