//! Stemming: Korean particles and verb endings, English plural and tense endings, spelling
//! variants and everyday commerce synonyms brought to one form, and stop words. Everything
//! here is data (the word lists) and the short functions that walk it; which stems matter and
//! how they are scored is the caller's business.

use std::collections::BTreeSet;

use super::hangul::{is_hangul_word, is_jamo};
use super::normalise;
use super::spacing::split_compound;

/// Korean endings and particles, with the number of characters that must stay in front of
/// them. 0: the ending may be the whole token (the token then disappears).
const KO_SUFFIXES: &[(&str, usize)] = &[
    // verb endings: 되다 / 오다 / 하다 / 주다 / 있다 …
    ("되나요", 0),
    ("되나", 0),
    ("돼요", 0),
    ("되요", 0),
    ("됐어요", 0),
    ("됐나요", 0),
    ("됐는데", 0),
    ("될까요", 0),
    ("되는지", 0),
    ("되는데", 0),
    ("되죠", 0),
    ("됩니까", 0),
    ("됩니다", 0),
    ("되면", 0),
    ("돼서", 0),
    ("되었나요", 0),
    ("되냐", 0),
    ("된", 2),
    ("될", 2),
    ("돼", 2),
    ("되", 2),
    ("와요", 0),
    ("오나요", 0),
    ("올까요", 0),
    ("오죠", 0),
    ("왔어요", 0),
    ("왔나요", 0),
    ("오냐", 0),
    ("와", 2),
    ("해요", 0),
    ("하나요", 0),
    ("할까요", 0),
    ("했어요", 0),
    ("했는데요", 0),
    ("했는데", 0),
    ("했나요", 0),
    ("하는데요", 0),
    ("하는데", 0),
    ("하면", 0),
    ("해서", 0),
    ("하고", 0),
    ("하려면", 0),
    ("하려고", 0),
    ("하려는데", 0),
    ("할래요", 0),
    ("어야", 0),
    ("아야", 0),
    ("와서", 0),
    ("어서", 0),
    ("아서", 0),
    ("해도", 0),
    ("어도", 0),
    ("아도", 0),
    ("을래요", 0),
    ("래요", 0),
    ("을게요", 0),
    ("게요", 0),
    ("할게요", 0),
    ("할래", 0),
    ("할게", 0),
    ("합니까", 0),
    ("합니다", 0),
    ("해주세요", 0),
    ("해줘요", 0),
    ("해줘", 0),
    ("해주실", 0),
    ("해주나요", 0),
    ("하죠", 0),
    ("하냐", 0),
    ("하는", 2),
    ("한", 2),
    ("할", 2),
    ("해", 2),
    ("나요", 0),
    ("까요", 0),
    ("인가요", 0),
    ("은가요", 0),
    ("는가요", 0),
    ("한가요", 0),
    ("인지", 0),
    ("는지", 0),
    ("은지", 0),
    ("인데요", 0),
    ("인데", 0),
    ("는데요", 0),
    ("는데", 0),
    ("은데요", 0),
    ("은데", 0),
    ("이에요", 0),
    ("예요", 0),
    ("에요", 0),
    ("이야", 0),
    ("입니까", 0),
    ("입니다", 0),
    ("이죠", 0),
    ("죠", 1),
    ("습니까", 0),
    ("습니다", 0),
    ("어요", 0),
    ("아요", 0),
    ("여요", 0),
    ("네요", 0),
    ("군요", 0),
    ("세요", 0),
    ("으세요", 0),
    ("주세요", 0),
    ("줘요", 0),
    ("주나요", 0),
    ("주시나요", 0),
    ("주실", 0),
    ("줘", 2),
    ("주", 2),
    ("있나요", 0),
    ("있어요", 0),
    ("있을까요", 0),
    ("있는지", 0),
    ("있죠", 0),
    ("있습니까", 0),
    ("있나", 0),
    ("있어", 0),
    ("있는", 0),
    ("있을", 0),
    ("있", 2),
    ("없나요", 0),
    ("없어요", 0),
    ("없어", 0),
    ("싶어요", 0),
    ("싶은데요", 0),
    ("싶은데", 0),
    ("싶습니다", 0),
    ("싶어", 0),
    ("싶다", 0),
    ("가능한가요", 0),
    ("가능해요", 0),
    ("가능할까요", 0),
    ("가능하나요", 0),
    ("가능", 0),
    // particles
    ("이랑은", 1),
    ("으로는", 1),
    ("로는", 1),
    ("에서", 1),
    ("에는", 1),
    ("에도", 1),
    ("으로", 1),
    ("이요", 1),
    ("이랑", 1),
    ("한테", 1),
    ("에게", 1),
    ("까지", 1),
    ("부터", 1),
    ("보다", 1),
    ("이나", 1),
    ("은", 1),
    ("는", 1),
    ("이", 1),
    ("가", 1),
    ("을", 1),
    ("를", 1),
    ("에", 1),
    ("로", 1),
    ("도", 1),
    ("만", 1),
    ("요", 1),
    ("의", 1),
    ("과", 1),
    ("랑", 1),
    ("께", 1),
    ("쯤", 1),
    ("좀", 1),
    ("들", 1),
];

/// Spelling variants and everyday commerce synonyms, applied to stems (so keys are stemmed).
const CANONICAL: &[(&str, &str)] = &[
    ("몇일", "며칠"),
    ("택배", "배송"),
    ("배달", "배송"),
    ("발송", "배송"),
    ("출고", "배송"),
    ("라이브", "방송"),
    ("걸려", "걸리"),
    ("걸릴", "걸리"),
    ("바꿔", "변경"),
    ("바꿀", "변경"),
    ("바꾸", "변경"),
    ("바꿨", "변경"),
    ("바꾸고", "변경"),
    ("deliver", "ship"),
    ("delivery", "ship"),
    ("shipment", "ship"),
    ("stream", "liv"),
    ("broadcast", "liv"),
    ("swap", "exchang"),
    ("payment", "pay"),
    ("restock", "stock"),
];

const KO_STOP: &[&str] = &[
    "저",
    "제",
    "제가",
    "내가",
    "나",
    "내",
    "우리",
    "좀",
    "혹시",
    "그",
    "이",
    "저거",
    "이거",
    "그거",
    "것",
    "거",
    "수",
    "근데",
    "그런데",
    "그럼",
    "그리고",
    "지금",
    "아",
    "네",
    "예",
    "안녕",
    "안녕하",
    "알려",
    "알고",
    "궁금",
    "문의",
    "질문",
    "있",
    "없",
    "되",
    "돼",
    "하",
    "해",
    "와",
    "오",
    "가",
    "주",
    "요",
    "뭐",
    "진짜",
    "정말",
    "너무",
    "한번",
    "빨리",
    "그냥",
];

const EN_STOP: &[&str] = &[
    "a", "an", "the", "my", "your", "our", "me", "i", "you", "we", "it", "its", "is", "are", "was",
    "were", "be", "been", "am", "will", "would", "can", "could", "shall", "should", "do", "does",
    "did", "to", "of", "for", "in", "on", "at", "by", "with", "from", "this", "that", "these",
    "those", "please", "pls", "plz", "hi", "hello", "hey", "thanks", "thank", "so", "just", "and",
    "or", "but", "if", "there", "what", "which", "any", "some", "get", "got", "have", "has", "had",
    "know", "tell", "want", "like", "about", "u", "ur", "im", "id", "ive", "us", "let", "ok",
    "okay", "yes", "no", "much", "need", "still", "until",
];

/// The content stems of a text, in order, without repeats: normalised, tokens of lone jamo
/// (`ㅋㅋㅋ`) dropped, stemmed, brought to one form, stop words removed, and a run-together
/// Hangul stem of three or more characters that `vocab` does not know split into the words of
/// `vocab` it is made of (see [`split_compound`]).
pub fn content_stems(text: &str, vocab: &BTreeSet<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let push = |s: String, out: &mut Vec<String>| {
        if !s.is_empty() && !is_stop(&s) && !out.contains(&s) {
            out.push(s);
        }
    };
    for token in normalise(text).split_whitespace() {
        if token.chars().all(is_jamo) {
            continue;
        }
        if is_hangul_word(token) {
            let stem = canonical(&stem_ko(token));
            if stem.is_empty() {
                continue;
            }
            if vocab.contains(&stem) || stem.chars().count() < 3 {
                push(stem, &mut out);
                continue;
            }
            match split_compound(&stem, vocab) {
                Some(pieces) => {
                    for p in pieces {
                        push(p, &mut out);
                    }
                }
                None => push(stem, &mut out),
            }
        } else {
            if EN_STOP.contains(&token) {
                continue;
            }
            push(canonical(&stem_en(token)), &mut out);
        }
    }
    out
}

/// A Korean or English stop word: it says nothing about what is being asked.
pub fn is_stop(stem: &str) -> bool {
    KO_STOP.contains(&stem) || EN_STOP.contains(&stem)
}

/// The one form of a stem (`택배` → `배송`, `delivery` → `ship`), else the stem itself.
pub fn canonical(stem: &str) -> String {
    CANONICAL
        .iter()
        .find(|(from, _)| *from == stem)
        .map(|(_, to)| (*to).to_string())
        .unwrap_or_else(|| stem.to_string())
}

/// Cuts trailing Korean particles and verb endings, longest first, up to four times.
pub fn stem_ko(token: &str) -> String {
    let mut word = token.to_string();
    for _ in 0..4 {
        let len = word.chars().count();
        let cut = KO_SUFFIXES
            .iter()
            .filter(|(suffix, keep)| word.ends_with(suffix) && len >= suffix.chars().count() + keep)
            .max_by_key(|(suffix, _)| suffix.chars().count());
        match cut {
            Some((suffix, _)) => word.truncate(word.len() - suffix.len()),
            None => break,
        }
        if word.is_empty() {
            break;
        }
    }
    word
}

/// A light English stemmer: plurals, -ing, -ed, a final e.
pub fn stem_en(token: &str) -> String {
    let mut w = token.to_string();
    let n = w.chars().count();
    if n > 4 && w.ends_with("ies") {
        w.truncate(w.len() - 3);
        w.push('y');
    } else if n > 4
        && (w.ends_with("sses") || w.ends_with("xes") || w.ends_with("ches") || w.ends_with("shes"))
    {
        w.truncate(w.len() - 2);
    } else if n > 3
        && w.ends_with('s')
        && !(w.ends_with("ss") || w.ends_with("us") || w.ends_with("is"))
    {
        w.truncate(w.len() - 1);
    }
    for suffix in ["ing", "ed"] {
        if w.ends_with(suffix) && w.chars().count() >= suffix.len() + 3 {
            w.truncate(w.len() - suffix.len());
            // shipp → ship, stopp → stop
            let chars: Vec<char> = w.chars().collect();
            if let [.., a, b] = chars.as_slice()
                && a == b
                && !"aeiouls".contains(*b)
            {
                w.pop();
            }
            break;
        }
    }
    if w.chars().count() > 3 && w.ends_with('e') {
        w.pop();
    }
    w
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn korean_stems_lose_particles_and_endings() {
        for (word, stem) in [
            ("배송은", "배송"),
            ("언제와요", "언제"),
            ("배송돼요", "배송"),
            ("취소하고싶어요", "취소"),
            ("교환가능한가요", "교환"),
            ("무료인가요", "무료"),
            ("얼마예요", "얼마"),
            ("언제쯤", "언제"),
            ("도착했어요", "도착"),
            ("되나요", ""),
        ] {
            assert_eq!(stem_ko(word), stem, "{word}");
        }
    }

    #[test]
    fn english_stems_lose_plural_and_tense() {
        for (word, stem) in [
            ("shipping", "ship"),
            ("shipped", "ship"),
            ("ships", "ship"),
            ("arrive", "arriv"),
            ("arriving", "arriv"),
            ("sizes", "siz"),
            ("address", "address"),
            ("addresses", "address"),
        ] {
            assert_eq!(stem_en(word), stem, "{word}");
        }
    }
}
