//! Hangul character classes and walking Korean written without spaces: a text is a slice of
//! characters, a word matches where its characters start, and a run of words is found by
//! segmenting. Knows no word lists; the callers bring them.

/// A precomposed Hangul syllable (`가` … `힣`).
pub fn is_syllable(c: char) -> bool {
    ('\u{AC00}'..='\u{D7A3}').contains(&c)
}

/// A lone Hangul letter, modern or compatibility (`ㅋ`, `ㅠ`): laughter and tears in chat.
pub fn is_jamo(c: char) -> bool {
    ('\u{1100}'..='\u{11FF}').contains(&c) || ('\u{3130}'..='\u{318F}').contains(&c)
}

/// A word with at least one Hangul syllable in it.
pub fn is_hangul_word(w: &str) -> bool {
    w.chars().any(is_syllable)
}

/// Whether the characters `s` begin with `word`.
pub fn starts_with(s: &[char], word: &str) -> bool {
    let mut chars = s.iter();
    word.chars().all(|w| chars.next() == Some(&w))
}

/// Whether `word` stands anywhere in the characters `s`.
pub fn contains(s: &[char], word: &str) -> bool {
    (0..s.len()).any(|i| starts_with(&s[i..], word))
}

/// Whether `chars` can be cut, left to right, into pieces; `piece_lengths(rest)` gives the
/// lengths (in characters) of the pieces that may begin `rest`. An empty `chars` can.
///
/// `reach[i]` says that `chars[..i]` is made of pieces; each reachable position reaches on by
/// the length of every piece that starts there. One pass, no backtracking.
pub fn can_segment(chars: &[char], mut piece_lengths: impl FnMut(&[char]) -> Vec<usize>) -> bool {
    let mut reach = vec![false; chars.len() + 1];
    reach[0] = true;
    for i in 0..chars.len() {
        if !reach[i] {
            continue;
        }
        for len in piece_lengths(&chars[i..]) {
            if let Some(end) = reach.get_mut(i + len) {
                *end = true;
            }
        }
    }
    reach[chars.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chars(s: &str) -> Vec<char> {
        s.chars().collect()
    }

    #[test]
    fn syllables_letters_and_words_are_told_apart() {
        assert!(is_syllable('가') && is_syllable('힣'));
        assert!(!is_syllable('ㅋ') && !is_syllable('a'));
        assert!(is_jamo('ㅋ') && is_jamo('ㅠ') && !is_jamo('가'));
        assert!(is_hangul_word("a배송") && !is_hangul_word("ㅋㅋ") && !is_hangul_word("ship"));
    }

    #[test]
    fn words_are_found_in_run_together_text() {
        let s = chars("사람불러주세요");
        assert!(starts_with(&s, "사람"));
        assert!(!starts_with(&s, "불러"));
        assert!(contains(&s, "불러"));
        assert!(!contains(&s, "직원"));
        assert!(starts_with(&s, ""));
    }

    #[test]
    fn a_text_segments_only_when_pieces_cover_all_of_it() {
        let pieces = ["사람", "불러", "주세요"];
        let lengths = |rest: &[char]| -> Vec<usize> {
            pieces
                .iter()
                .filter(|p| starts_with(rest, p))
                .map(|p| p.chars().count())
                .collect()
        };
        assert!(can_segment(&chars("사람불러주세요"), lengths));
        assert!(!can_segment(&chars("사람좀불러"), lengths));
        assert!(can_segment(&[], lengths));
    }
}
