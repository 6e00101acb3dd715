//! Spacing: Korean is often written with the spaces left out (`배송언제와요`), and the
//! vocabulary a matcher knows is the way back to words. Splitting a run-together stem into
//! known words, and telling whether a known word is itself only other known words run together.

use std::collections::BTreeSet;

use super::hangul::can_segment;
use super::stem::{canonical, is_stop, stem_ko};

/// Splits a run-together Hangul stem into vocabulary stems, leftmost-longest. The pieces in
/// between are stemmed and kept when they are content. None when no vocabulary stem is inside.
pub fn split_compound(word: &str, vocab: &BTreeSet<String>) -> Option<Vec<String>> {
    let chars: Vec<char> = word.chars().collect();
    let mut pieces: Vec<String> = Vec::new();
    let mut found = false;
    let mut gap = String::new();
    let mut i = 0;
    while i < chars.len() {
        let hit = (2..=chars.len() - i).rev().find_map(|len| {
            let cand: String = chars[i..i + len].iter().collect();
            vocab.contains(&cand).then_some((cand, len))
        });
        match hit {
            Some((cand, len)) => {
                flush_gap(&mut gap, &mut pieces);
                pieces.push(cand);
                found = true;
                i += len;
            }
            None => {
                gap.push(chars[i]);
                i += 1;
            }
        }
    }
    flush_gap(&mut gap, &mut pieces);
    found.then_some(pieces)
}

fn flush_gap(gap: &mut String, pieces: &mut Vec<String>) {
    if !gap.is_empty() {
        let stem = canonical(&stem_ko(gap));
        if !stem.is_empty() && !is_stop(&stem) {
            pieces.push(stem);
        }
        gap.clear();
    }
}

/// Whether a word is nothing but other vocabulary words run together (`무료배송` when `무료`
/// and `배송` are known).
pub fn fully_split(word: &str, vocab: &BTreeSet<String>) -> bool {
    let chars: Vec<char> = word.chars().collect();
    let n = chars.len();
    // Pieces are vocabulary words of two or more characters other than the word itself.
    can_segment(&chars, |rest| {
        (2..=rest.len())
            .filter(|&len| len != n && vocab.contains(&rest[..len].iter().collect::<String>()))
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vocab(words: &[&str]) -> BTreeSet<String> {
        words.iter().map(|w| w.to_string()).collect()
    }

    #[test]
    fn a_run_together_stem_splits_into_known_words_and_keeps_the_rest() {
        let known = vocab(&["배송", "언제"]);
        assert_eq!(
            split_compound("배송언제", &known),
            Some(vec!["배송".to_string(), "언제".to_string()])
        );
        assert_eq!(
            split_compound("환불배송", &known),
            Some(vec!["환불".to_string(), "배송".to_string()])
        );
        assert_eq!(split_compound("환불", &known), None);
    }

    #[test]
    fn a_compound_is_fully_split_only_by_words_other_than_itself() {
        let known = vocab(&["무료", "배송", "무료배송"]);
        assert!(fully_split("무료배송", &known));
        assert!(!fully_split("배송", &known));
        assert!(!fully_split("무료배송비", &known));
    }
}
