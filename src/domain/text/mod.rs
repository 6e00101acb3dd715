//! Text normalisation for the rules that read what viewers write: the FAQ matcher
//! ([`crate::domain::faq`]) and person-request detection ([`crate::domain::person_request`]).
//!
//! This module owns turning a message into comparable pieces: lower-casing and punctuation
//! ([`normalise`], [`ascii_words`], [`hangul_syllables`]), Hangul character classes and walking
//! Korean written without spaces ([`hangul`]), the Korean/English stemmer with its word lists
//! ([`stem`]), and splitting run-together Korean into known words ([`spacing`]).
//!
//! It never decides what a message means (which FAQ entry, whether a person is asked for) and
//! never reads a file: it is pure functions over `&str`. Moderation's link check lower-cases
//! ASCII only, on purpose (positions must stay one character per character), so it keeps its
//! own.

pub mod hangul;
pub mod spacing;
pub mod stem;

pub use hangul::{can_segment, contains, is_hangul_word, is_jamo, is_syllable, starts_with};
pub use spacing::{fully_split, split_compound};
pub use stem::{canonical, content_stems, is_stop, stem_en, stem_ko};

/// The apostrophes people type inside words (`don't`, `don’t`); dropped, never a boundary.
const APOSTROPHES: [char; 2] = ['\'', '\u{2019}'];

fn is_apostrophe(c: char) -> bool {
    APOSTROPHES.contains(&c)
}

/// Lower case, apostrophes dropped, everything but letters and digits turned into spaces.
pub fn normalise(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if is_apostrophe(c) {
            continue;
        }
        if c.is_alphanumeric() {
            out.extend(c.to_lowercase());
        } else {
            out.push(' ');
        }
    }
    out
}

/// The lower-cased ASCII words of a text, apostrophes dropped (`Don't` → `dont`); anything
/// that is not an ASCII letter or digit (Hangul included) is a boundary.
pub fn ascii_words(text: &str) -> Vec<String> {
    text.to_lowercase()
        .split(|c: char| !(c.is_ascii_alphanumeric() || is_apostrophe(c)))
        .map(|w| w.replace(APOSTROPHES, ""))
        .filter(|w| !w.is_empty())
        .collect()
}

/// The Hangul syllables of a text run together: spacing, punctuation, letters of other
/// scripts and lone jamo dropped, so `사람 좀 불러!` and `사람좀불러` read the same.
pub fn hangul_syllables(text: &str) -> Vec<char> {
    text.chars().filter(|c| is_syllable(*c)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalising_lowers_drops_apostrophes_and_spaces_out_punctuation() {
        assert_eq!(normalise("Don’t SHIP, ok?"), "dont ship  ok ");
        assert_eq!(normalise("배송은-언제?"), "배송은 언제 ");
    }

    #[test]
    fn ascii_words_skip_hangul_and_keep_contractions_whole() {
        assert_eq!(
            ascii_words("I DON'T need 상담원, an agent!"),
            vec!["i", "dont", "need", "an", "agent"]
        );
        assert!(ascii_words("사람 불러").is_empty());
    }

    #[test]
    fn hangul_syllables_ignore_spacing_and_everything_else() {
        assert_eq!(
            hangul_syllables("사람 좀 불러! ㅋㅋ ok"),
            "사람좀불러".chars().collect::<Vec<_>>()
        );
    }
}
