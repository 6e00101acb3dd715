//! Korean particles (조사) chosen by the last sound of the word in front of them: 코트가,
//! 가방이, Coat가, 3종이, 칼로, 손으로.
//!
//! Owns the reading rule (which sound a word ends in) and the table of particle forms. It
//! never renders a message and never sees markup: the Fluent function `JOSA` in `mod.rs` calls
//! [`particle`] and writes only the particle, never the word.
//!
//! # How a word's last sound is found
//!
//! A reader says the last word they read, so the rule looks at **the last letter or digit in
//! the text**: trailing brackets, quotes, punctuation, spaces and emoji are skipped, and a
//! trailing parenthesised part is read (`울 코트(블랙)` → 블랙 → 이).
//!
//! - **Hangul syllable**: the `josa` crate decides (no Hangul arithmetic here).
//! - **Digits**, read as Sino-Korean (영 일 이 삼 사 오 육 칠 팔 구): the last digit decides,
//!   unless the number ends in zeros, which are read by their place: 10 십, 100 백, 1000 천
//!   (consonant); from ten thousand on the unit of the lowest non-zero group is said last:
//!   만 (10,000, 120,000, 3,000,000), 억, 경 (consonant), 조 (vowel). So 1, 7, 8 end in ㄹ;
//!   0, 3, 6 in another consonant; 2, 4, 5, 9 in a vowel. Commas are ignored (39,000 → 천).
//!   After a decimal point digits are read one by one (1.5 → 오, 2.0 → 영).
//!   Examples: `아이폰 15` → 오 → 가, `10` → 십 → 이, `1+1` → 일 → 이 (ㄹ: 로).
//! - **Latin letters**: the trailing run of ASCII letters.
//!   - All upper case and at most 5 letters: read as letter names. L 엘 and R 알 end in ㄹ,
//!     M 엠 and N 엔 in another consonant, every other letter in a vowel (에이, 비, 씨, 디, 에프,
//!     지, 에이치, 에스, 엑스, 더블유 …): `LG` → 지 → 가, `SKT` → 티 → 가, `BMW` → 더블유 → 가,
//!     `HBM` → 엠 → 이.
//!   - Otherwise an English word, read as its Korean loanword ends:
//!
//!     | word ends in | sound | examples |
//!     |---|---|---|
//!     | `l` | ㄹ | Cool → 쿨 → 이, 으로/로 → 로 |
//!     | `m`, `n`, `ng` | consonant | Pen → 펜 → 이, Ring → 링 → 이 |
//!     | `k`, `p`, `b` after a vowel letter, `ck` | consonant | Book → 북, Top → 탑, Cap → 캡, Black → 블랙 |
//!     | `k`, `p` after another consonant | vowel | Pink → 핑크 → 가, Milk → 밀크, Camp → 캠프 |
//!     | `ic` | consonant | Music → 뮤직 → 이, Classic → 클래식 |
//!     | silent `e` after `l` | ㄹ | Apple → 애플 → 이, Sale → 세일 |
//!     | silent `e` after `m`, `n` | consonant | Phone → 폰 → 이, iPhone → 아이폰, Home → 홈 |
//!     | `bag` | consonant | Bag → 백 → 이, Handbag → 핸드백 (the one loanword read irregularly) |
//!     | anything else: vowels, `t d s z x f v g r y w h c j q` | vowel | Coat → 코트 → 가, Shirt → 셔츠, Set → 세트, Mug → 머그 |
//!
//! - **Anything else** (empty, emoji only, other scripts such as カタカナ or a lone ㅋ): the
//!   written form Korean uses when unsure, first form with the second in brackets or the
//!   optional part bracketed: `이(가)`, `을(를)`, `은(는)`, `과(와)`, `(으)로`, `(이)나`,
//!   `(이)라`, `이에요(예요)`, `아(야)`.

/// The sound a word ends in, as far as particles care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// No final consonant (코트, Coat, 2): 가, 를, 는, 로 …
    Vowel,
    /// Final ㄹ (칼, Cool, 1): a consonant, except that 으로/로 takes 로.
    Rieul,
    /// Any other final consonant (가방, Pen, 3).
    Consonant,
}

/// One particle with its two shapes.
struct Form {
    /// The argument written in the `.ftl` file, e.g. `"이/가"`.
    spec: &'static str,
    after_consonant: &'static str,
    after_vowel: &'static str,
    /// What Korean writes when the last sound is unknown.
    unsure: &'static str,
}

const FORMS: [Form; 9] = [
    form("은/는", "은", "는", "은(는)"),
    form("이/가", "이", "가", "이(가)"),
    form("을/를", "을", "를", "을(를)"),
    form("과/와", "과", "와", "과(와)"),
    form("으로/로", "으로", "로", "(으)로"),
    form("이나/나", "이나", "나", "(이)나"),
    form("이라/라", "이라", "라", "(이)라"),
    form("이에요/예요", "이에요", "예요", "이에요(예요)"),
    form("아/야", "아", "야", "아(야)"),
];

const fn form(
    spec: &'static str,
    after_consonant: &'static str,
    after_vowel: &'static str,
    unsure: &'static str,
) -> Form {
    Form {
        spec,
        after_consonant,
        after_vowel,
        unsure,
    }
}

/// The forms `JOSA` accepts as its second argument, for error messages and load checks.
pub fn supported_forms() -> impl Iterator<Item = &'static str> {
    FORMS.iter().map(|f| f.spec)
}

/// The particle for `word` in `spec` (one of [`supported_forms`]), e.g.
/// `particle("코트", "이/가") == Some("가")`. `None` only for an unsupported `spec`.
pub fn particle(word: &str, spec: &str) -> Option<&'static str> {
    let form = FORMS.iter().find(|f| f.spec == spec)?;
    Some(match ending(word) {
        Some(Ending::Vowel) => form.after_vowel,
        // 으로/로 is the one form where ㄹ behaves like a vowel (칼로, not 칼으로).
        Some(Ending::Rieul) if form.spec == "으로/로" => form.after_vowel,
        Some(Ending::Rieul | Ending::Consonant) => form.after_consonant,
        None => form.unsure,
    })
}

/// The last sound of `word` by the rule in the module docs; `None` when it cannot be told.
pub fn ending(word: &str) -> Option<Ending> {
    let word = word.trim_end_matches(|c: char| !c.is_alphanumeric());
    let last = word.chars().next_back()?;
    if last.is_ascii_digit() {
        let start = after_last(word, |c| !(c.is_ascii_digit() || c == ',' || c == '.'));
        Some(number_ending(&word[start..]))
    } else if last.is_ascii_alphabetic() {
        let start = after_last(word, |c| !c.is_ascii_alphabetic());
        Some(latin_ending(&word[start..]))
    } else {
        hangul_ending(last)
    }
}

/// Where the run at the end of `word` starts: just after the last character that is not part
/// of it (a whole character: "상품1" runs from the byte after 품, not one byte into it).
fn after_last(word: &str, outside: impl Fn(char) -> bool) -> usize {
    word.char_indices()
        .rev()
        .find(|(_, c)| outside(*c))
        .map_or(0, |(i, c)| i + c.len_utf8())
}

/// Asks the `josa` crate; `None` for anything that is not a Hangul syllable.
fn hangul_ending(syllable: char) -> Option<Ending> {
    let mut buf = [0; 4];
    let s = syllable.encode_utf8(&mut buf);
    // 이/가 separates open syllables; 으로/로 then separates ㄹ from other consonants.
    if josa::select(s, josa::IGa).ok()? == "가" {
        return Some(Ending::Vowel);
    }
    Some(match josa::select(s, josa::Eu).ok()? {
        "" => Ending::Rieul,
        _ => Ending::Consonant,
    })
}

/// `run` is made of ASCII digits, commas and points, and ends in a digit.
fn number_ending(run: &str) -> Ending {
    if let Some((_, fraction)) = run.rsplit_once('.')
        && let Some(last) = fraction.chars().next_back()
    {
        // After the point each digit is said on its own, 0 included (영).
        return digit_ending(last);
    }
    let digits: String = run.chars().filter(char::is_ascii_digit).collect();
    let Some(last_non_zero) = digits.chars().rev().find(|&c| c != '0') else {
        return Ending::Consonant; // 0, 00: 영
    };
    let zeros = digits.len() - digits.trim_end_matches('0').len();
    match (zeros / 4, zeros % 4) {
        (0, 0) => digit_ending(last_non_zero),
        // 십, 백, 천 all end in a consonant.
        (0, _) => Ending::Consonant,
        // The unit of the lowest non-zero group is said last: 만, 억, 조, 경.
        (3, _) => Ending::Vowel,
        _ => Ending::Consonant,
    }
}

fn digit_ending(digit: char) -> Ending {
    match digit {
        '1' | '7' | '8' => Ending::Rieul,     // 일 칠 팔
        '0' | '3' | '6' => Ending::Consonant, // 영 삼 육
        _ => Ending::Vowel,                   // 이 사 오 구
    }
}

/// `letters` is a non-empty run of ASCII letters.
fn latin_ending(letters: &str) -> Ending {
    let bytes = letters.as_bytes();
    if bytes.len() <= 5 && bytes.iter().all(u8::is_ascii_uppercase) {
        // An abbreviation is read letter by letter: 엘, 알 / 엠, 엔 / the rest open.
        return match bytes[bytes.len() - 1] {
            b'L' | b'R' => Ending::Rieul,
            b'M' | b'N' => Ending::Consonant,
            _ => Ending::Vowel,
        };
    }
    let word = letters.to_ascii_lowercase();
    if word.ends_with("bag") {
        return Ending::Consonant;
    }
    let bytes = word.as_bytes();
    let last = bytes[bytes.len() - 1];
    let before = bytes.len().checked_sub(2).map(|i| bytes[i]);
    let is_vowel = |b: u8| matches!(b, b'a' | b'e' | b'i' | b'o' | b'u');
    match (before, last) {
        (_, b'l') => Ending::Rieul,
        (_, b'm' | b'n') | (Some(b'n'), b'g') | (Some(b'i'), b'c') | (Some(b'c'), b'k') => {
            Ending::Consonant
        }
        (Some(b), b'k' | b'p' | b'b') if is_vowel(b) => Ending::Consonant,
        (Some(b'l'), b'e') => Ending::Rieul,
        (Some(b'm' | b'n'), b'e') => Ending::Consonant,
        _ => Ending::Vowel,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ga(word: &str) -> &'static str {
        particle(word, "이/가").unwrap()
    }

    #[test]
    fn hangul_words_follow_their_final_consonant() {
        assert_eq!(ga("코트"), "가");
        assert_eq!(ga("가방"), "이");
        assert_eq!(ga("3종"), "이");
        assert_eq!(particle("코트", "을/를"), Some("를"));
        assert_eq!(particle("가방", "을/를"), Some("을"));
        assert_eq!(particle("민수", "은/는"), Some("는"));
        assert_eq!(particle("가방", "과/와"), Some("과"));
        assert_eq!(particle("코트", "과/와"), Some("와"));
        assert_eq!(particle("가방", "이나/나"), Some("이나"));
        assert_eq!(particle("코트", "이라/라"), Some("라"));
        assert_eq!(particle("가방", "이에요/예요"), Some("이에요"));
        assert_eq!(particle("코트", "이에요/예요"), Some("예요"));
        assert_eq!(particle("민수", "아/야"), Some("야"));
        assert_eq!(particle("지민", "아/야"), Some("아"));
    }

    #[test]
    fn a_final_rieul_takes_ro_but_other_consonants_take_euro() {
        assert_eq!(particle("칼", "으로/로"), Some("로"));
        assert_eq!(particle("손", "으로/로"), Some("으로"));
        assert_eq!(particle("코트", "으로/로"), Some("로"));
        assert_eq!(particle("칼", "이/가"), Some("이"));
        assert_eq!(particle("Cool", "으로/로"), Some("로"));
        assert_eq!(particle("1", "으로/로"), Some("로"));
        assert_eq!(particle("3", "으로/로"), Some("으로"));
    }

    #[test]
    fn the_last_letter_or_digit_decides_past_brackets_and_punctuation() {
        assert_eq!(ga("울 코트(블랙)"), "이");
        assert_eq!(ga("\"코트\""), "가");
        assert_eq!(ga("가방!! 👜"), "이");
        assert_eq!(ga("[특가] 코트 "), "가");
    }

    #[test]
    fn digits_are_read_as_sino_korean_numbers() {
        for (number, expected) in [
            ("0", "이"),             // 영
            ("1", "이"),             // 일
            ("2", "가"),             // 이
            ("3", "이"),             // 삼
            ("4", "가"),             // 사
            ("5", "가"),             // 오
            ("6", "이"),             // 육
            ("7", "이"),             // 칠
            ("8", "이"),             // 팔
            ("9", "가"),             // 구
            ("아이폰 15", "가"),     // 십오
            ("10", "이"),            // 십
            ("100", "이"),           // 백
            ("1000", "이"),          // 천
            ("39,000", "이"),        // 삼만 구천
            ("10000", "이"),         // 만
            ("120000", "이"),        // 십이만
            ("100000000", "이"),     // 억
            ("1000000000000", "가"), // 조
            ("1.5", "가"),           // 일 점 오
            ("2.0", "이"),           // 이 점 영
            ("Galaxy S24", "가"),    // 이십사
            ("상품1", "이"),         // 일, right after a Hangul syllable
        ] {
            assert_eq!(ga(number), expected, "{number}");
        }
    }

    #[test]
    fn short_upper_case_latin_is_read_letter_by_letter() {
        assert_eq!(ga("LG"), "가"); // 엘지
        assert_eq!(ga("SKT"), "가"); // 에스케이티
        assert_eq!(ga("BMW"), "가"); // 비엠더블유
        assert_eq!(ga("HBM"), "이"); // 에이치비엠
        assert_eq!(particle("URL", "으로/로"), Some("로")); // 유알엘
        assert_eq!(particle("USB", "으로/로"), Some("로")); // 유에스비
        assert_eq!(ga("ON"), "이"); // 오엔
        assert_eq!(ga("코트XL"), "이"); // 엑스엘, right after a Hangul syllable
    }

    #[test]
    fn latin_words_are_read_as_their_korean_loanwords() {
        for (word, expected) in [
            ("Coat", "가"),    // 코트
            ("Bag", "이"),     // 백
            ("Handbag", "이"), // 핸드백
            ("Pen", "이"),     // 펜
            ("Shirt", "가"),   // 셔츠
            ("Cool", "이"),    // 쿨
            ("Book", "이"),    // 북
            ("Top", "이"),     // 탑
            ("Set", "가"),     // 세트
            ("Cap", "이"),     // 캡
            ("Mug", "가"),     // 머그
            ("Ring", "이"),    // 링
            ("Black", "이"),   // 블랙
            ("Pink", "가"),    // 핑크
            ("Milk", "가"),    // 밀크
            ("Camp", "가"),    // 캠프
            ("Club", "이"),    // 클럽
            ("Music", "이"),   // 뮤직
            ("Apple", "이"),   // 애플
            ("iPhone", "이"),  // 아이폰
            ("Home", "이"),    // 홈
            ("Cake", "가"),    // 케이크
            ("Dress", "가"),   // 드레스
            ("Sofa", "가"),    // 소파
            ("GALAXY", "가"),  // 갤럭시: six letters, read as a word
        ] {
            assert_eq!(ga(word), expected, "{word}");
        }
        assert_eq!(particle("Cool", "으로/로"), Some("로"));
        assert_eq!(particle("Apple", "으로/로"), Some("로"));
        assert_eq!(particle("Pen", "으로/로"), Some("으로"));
    }

    #[test]
    fn an_unreadable_word_gets_the_written_either_form() {
        for word in ["", "   ", "👜", "!!", "コート", "ㅋㅋ"] {
            assert_eq!(particle(word, "이/가"), Some("이(가)"), "{word:?}");
            assert_eq!(particle(word, "을/를"), Some("을(를)"));
            assert_eq!(particle(word, "은/는"), Some("은(는)"));
            assert_eq!(particle(word, "과/와"), Some("과(와)"));
            assert_eq!(particle(word, "으로/로"), Some("(으)로"));
            assert_eq!(particle(word, "이나/나"), Some("(이)나"));
            assert_eq!(particle(word, "이라/라"), Some("(이)라"));
            assert_eq!(particle(word, "이에요/예요"), Some("이에요(예요)"));
            assert_eq!(particle(word, "아/야"), Some("아(야)"));
        }
    }

    #[test]
    fn an_unsupported_form_is_refused() {
        assert_eq!(particle("코트", "가/이"), None);
        assert_eq!(particle("코트", "으로"), None);
        assert_eq!(supported_forms().count(), 9);
    }
}
