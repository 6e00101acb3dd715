//! Does a viewer's message ask to talk to a person? This file owns that decision for plain
//! words (CONTRACT §4: `/human`, or a request for a person in words). The `/human` command
//! itself, opening the ticket and showing the confirm button belong to the chat handler.
//!
//! # The rule
//!
//! A message is a **clear** request when it has
//! - a *who-word that is only ever used to ask for a person* (`상담원`, `담당자`, `실제 사람`,
//!   `human`, `agent`, `customer service` …), or
//! - a *who-word* (`사람`, `직원`, `사장님`, `매니저`, `someone`, `person` …) **and** a *request
//!   verb* (`불러`, `연결`, `바꿔`, `얘기`, `통화`, `talk`, `speak`, `connect` …). In Korean the
//!   verb follows the who-word with nothing but particles, honorifics and fillers in between
//!   (`직원분이랑 통화`, `사람 좀 불러`), so spacing does not matter (`사람불러`); in English
//!   it is within four words either way (`can I speak to someone`, `is there a person I can
//!   talk to`).
//!
//! It is **not** one when the who-word is plural or describes a crowd (`사람들이 많네요`,
//! `사람이 많아요`, `직원들 친절해요`, `humans are funny`): a viewer asking for help asks for
//! one person. Praise without a request verb (`직원분 친절해요`, `사장님 예뻐요`) is not a
//! request either: live-commerce viewers talk about the host and staff all the time. Words are
//! matched whole in English (`humanity`, `agenda` are not `human`, `agent`).
//!
//! Decided and accepted: a staff-only word is a request even in praise (`상담원 친절하시네요`)
//! or as an adjective (`human size`), since in a direct chat with a shop's bot it almost always
//! is one; `please` counts as an English request verb (`a person please`), so does `get`
//! (`get me a human`), which makes `did someone get my order` a request too.
//!
//! It is **maybe** one (the handler offers a confirm button) when
//! - the message is *nothing but* a who-word, or a contact word (`상담`, `문의`, `연결`,
//!   `도움`, `help`, `support`, `contact` …), with fillers, particles and polite endings around
//!   it (`사람?`, `직원분 계세요?`, `문의하고 싶어요`, `help me`, `anyone there?`) — a message
//!   with anything else in it (`배송 문의드려요`) is left to the FAQ, whose "not found" reply
//!   offers the hand-off anyway;
//! - a clear request is negated (`상담원 연결 안 해도 돼요`, `I don't need an agent`) or asks
//!   whether the bot is a person (`진짜 사람이에요?`, `are you human?`).
//!
//! Everything below is data; the functions only walk it. Reading the message (Hangul run
//! together, English words, walking Korean without spaces) is [`crate::domain::text`]'s.

use crate::domain::text::{ascii_words, can_segment, contains, hangul_syllables, starts_with};

/// How a message relates to asking for a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PersonRequest {
    /// Hand the conversation to a person.
    Clear,
    /// Might be a request: ask with a confirm button.
    Maybe,
    /// Not a request.
    No,
}

/// What a who-word means when no request verb goes with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Alone {
    /// Only ever used to ask for a person: a request by itself.
    Request,
    /// A request only if the message is nothing but this word (`사람?`).
    MaybeIfBare,
}

/// Korean who-words. Longer words are tried first where two start at the same place.
const KO_WHO: &[(&str, Alone)] = &[
    ("상담원", Alone::Request),
    ("상담사", Alone::Request),
    ("상담직원", Alone::Request),
    ("상담원분", Alone::Request),
    ("담당자", Alone::Request),
    ("실제사람", Alone::Request),
    ("진짜사람", Alone::Request),
    ("실제직원", Alone::Request),
    ("살아있는사람", Alone::Request),
    ("사람", Alone::MaybeIfBare),
    ("직원", Alone::MaybeIfBare),
    ("매니저", Alone::MaybeIfBare),
    ("매니져", Alone::MaybeIfBare),
    ("사장", Alone::MaybeIfBare),
    ("관리자", Alone::MaybeIfBare),
    ("운영자", Alone::MaybeIfBare),
    ("판매자", Alone::MaybeIfBare),
    ("셀러", Alone::MaybeIfBare),
    ("고객센터", Alone::MaybeIfBare),
    ("상담팀", Alone::MaybeIfBare),
    ("누구", Alone::MaybeIfBare),
    ("누군가", Alone::MaybeIfBare),
    ("아무나", Alone::MaybeIfBare),
];

/// Korean request verbs (stems, matched as prefixes): call, connect, put on, talk, phone …
const KO_VERBS: &[&str] = &[
    "불러",
    "부르",
    "부를",
    "연결",
    "바꿔",
    "바꾸",
    "얘기",
    "이야기",
    "애기",
    "예기",
    "대화",
    "통화",
    "상담",
    "전화",
    "연락",
    "말하",
    "말할",
    "말해",
    "말씀",
    "물어",
    "묻고",
    "만나",
    "만날",
    "찾아",
    "찾고",
    "찾습",
    "호출",
    "필요",
    "원해",
    "원합",
    "대줘",
    "대주",
    "나와",
    "와주",
    "와줘",
    "데려",
    "보내",
    "요청",
    "해주세요",
    "주세요",
];

/// Phrases that are clear requests by themselves (spaces removed).
const KO_PHRASES: &[&str] = &["상담연결", "상담요청", "상담신청", "채팅상담", "전화상담"];

/// What may stand between a Korean who-word and its verb: honorifics, particles, fillers.
/// `들` (plural) is deliberately not here.
const KO_CONNECTORS: &[&str] = &[
    "님", "분", "이랑", "랑", "하고", "과", "와", "이", "가", "을", "를", "은", "는", "한테",
    "에게", "께서", "께", "으로", "로", "좀", "한번", "빨리", "얼른", "지금", "직접", "당장",
    "제발", "진짜", "정말", "꼭", "한명", "한분",
];

/// After a who-word, these describe people rather than ask for one.
const KO_CROWD: &[&str] = &["들", "많", "적", "붐비", "북적", "마다"];

/// After a who-word that is a request by itself, these ask whether the bot is a person.
const KO_COPULA: &[&str] = &[
    "이에요",
    "예요",
    "인가요",
    "이세요",
    "세요",
    "이신가요",
    "이신가",
    "맞나요",
    "맞아요",
    "맞죠",
    "아니에요",
    "아니죠",
    "이야",
    "이냐",
    "냐",
    "인가",
    "입니까",
    "이십니까",
];

/// Korean contact words: a possible request when the message is nothing but one of them.
const KO_CONTACT: &[&str] = &["상담", "문의", "연결", "도움", "도와", "헬프"];

/// Fillers, particles and polite endings: what a bare request may be wrapped in.
const KO_GLUE: &[&str] = &[
    // fillers
    "저기요",
    "저기",
    "여기요",
    "여보세요",
    "혹시",
    "저",
    "제가",
    "나",
    "내가",
    "좀",
    "그냥",
    "제발",
    "빨리",
    "얼른",
    "지금",
    "아",
    "음",
    "네",
    "예",
    "안녕하세요",
    "그럼",
    "그러면",
    "한번",
    "잠깐",
    "잠시만",
    "죄송한데",
    "죄송하지만",
    "실례지만",
    "그",
    "거",
    "것",
    "게",
    "수",
    // honorifics and particles
    "님",
    "분",
    "요",
    "이요",
    "이",
    "가",
    "을",
    "를",
    "은",
    "는",
    "이랑",
    "랑",
    "하고",
    "과",
    "와",
    "한테",
    "에게",
    "께",
    "으로",
    "로",
    "도",
    "만",
    // endings: want, would like, possible, please, is there …
    "싶어요",
    "싶은데요",
    "싶습니다",
    "싶어",
    "싶네요",
    "싶은데",
    "싶다",
    "할래요",
    "할게요",
    "할게",
    "할래",
    "할수",
    "있나요",
    "있어요",
    "있을까요",
    "있는데요",
    "있는데",
    "있습니다",
    "있으세요",
    "있나",
    "있어",
    "있니",
    "계세요",
    "계신가요",
    "계시나요",
    "계십니까",
    "계신가",
    "계셔요",
    "없나요",
    "없어요",
    "가능",
    "한가요",
    "해요",
    "할까요",
    "하나요",
    "되나요",
    "돼요",
    "되요",
    "될까요",
    "해주세요",
    "해주실래요",
    "해줘요",
    "해줘",
    "해",
    "부탁",
    "부탁해요",
    "부탁드려요",
    "부탁드립니다",
    "드려요",
    "드립니다",
    "드리고",
    "드릴게요",
    "드릴게",
    "드릴",
    "요청",
    "신청",
    "원해요",
    "원합니다",
    "하려고요",
    "하려는데요",
    "받고",
    "받을래요",
    "받을",
    "필요해요",
    "필요합니다",
    "필요",
    "이에요",
    "예요",
    "인가요",
    "이세요",
    "세요",
    "입니까",
    "주세요",
    "줘",
    "주실래요",
    "줄래요",
    "합니다",
    "하다",
    "하고파요",
    "드리고싶어요",
];

/// Phrases of Korean that negate what came before (spaces removed).
const KO_NEGATION: &[&str] = &[
    "안해",
    "안하",
    "안돼",
    "안되",
    "안불",
    "안할",
    "않",
    "필요없",
    "괜찮",
    "됐어요",
    "됐습니다",
    "하지마",
    "부르지마",
    "지마세요",
    "말아주",
];

/// English who-words that only ever ask for a person, alone or as a phrase.
const EN_STAFF_ONLY: &[&[&str]] = &[
    &["human"],
    &["agent"],
    &["representative"],
    &["operator"],
    &["customer", "service"],
    &["customer", "support"],
    &["customer", "care"],
    &["real", "person"],
    &["real", "people"],
    &["live", "person"],
    &["actual", "person"],
    &["someone", "real"],
    &["live", "chat"],
];

/// English who-words that need a request verb nearby.
const EN_WHO: &[&str] = &[
    "person",
    "someone",
    "somebody",
    "anyone",
    "anybody",
    "staff",
    "manager",
    "seller",
    "owner",
    "host",
    "people",
    "humans",
    "agents",
    "representatives",
    "operators",
    "employee",
];

/// Of `EN_WHO`, the ones that make a bare message a possible request (`anyone there?`).
const EN_WHO_BARE: &[&str] = &[
    "person", "someone", "somebody", "anyone", "anybody", "staff", "manager", "seller", "owner",
];

/// English request verbs (whole words).
const EN_VERBS: &[&str] = &[
    "talk", "speak", "chat", "call", "connect", "transfer", "contact", "reach", "get", "want",
    "need", "see", "meet", "message", "put", "escalate", "forward", "please", "pls", "plz",
];

/// English contact words: a possible request when the message is nothing but these.
const EN_CONTACT: &[&str] = &[
    "help",
    "support",
    "contact",
    "talk",
    "speak",
    "assistance",
    "assist",
];

/// English words a bare request may be wrapped in.
const EN_GLUE: &[&str] = &[
    "i", "me", "my", "need", "want", "would", "like", "to", "some", "please", "pls", "plz", "can",
    "could", "you", "a", "an", "the", "is", "are", "there", "any", "hello", "hi", "hey", "ok",
    "now", "just", "get", "with", "here", "us", "urgent", "asap", "sos",
];

/// English words that negate a request.
const EN_NEGATION: &[&str] = &[
    "not", "dont", "doesnt", "didnt", "never", "without", "cant", "cannot", "wont", "nobody",
];

/// Word pairs that ask whether the bot is a person, or say the viewer is one.
const EN_ARE_YOU: &[[&str; 2]] = &[
    ["are", "you"],
    ["is", "this"],
    ["r", "u"],
    ["am", "i"],
    ["i", "am"],
];

/// Single words that do the same (`I'm a human too`).
const EN_I_AM: &[&str] = &["im", "youre", "ur"];

/// Does this message ask for a human? Korean (particles, spacing, polite/plain endings) and English.
pub fn person_request(text: &str) -> PersonRequest {
    // Korean is read with the spaces taken out (`사람 좀 불러` = `사람좀불러`), English by words.
    let hangul = hangul_syllables(text);
    let latin = ascii_words(text);
    let latin: Vec<&str> = latin.iter().map(String::as_str).collect();

    let korean_is_glue = only_glue(&hangul, KO_GLUE);
    let latin_is_glue = latin.iter().all(|w| EN_GLUE.contains(w));

    let found = korean(&hangul, latin_is_glue).max_by_strength(english(&latin, korean_is_glue));
    if found == PersonRequest::Clear && negated(&hangul, &latin) {
        return PersonRequest::Maybe;
    }
    found
}

impl PersonRequest {
    fn strength(self) -> u8 {
        match self {
            PersonRequest::No => 0,
            PersonRequest::Maybe => 1,
            PersonRequest::Clear => 2,
        }
    }

    fn max_by_strength(self, other: PersonRequest) -> PersonRequest {
        if other.strength() > self.strength() {
            other
        } else {
            self
        }
    }
}

/// Whether `s` is made entirely of glue pieces (an empty `s` is).
fn only_glue(s: &[char], glue: &[&str]) -> bool {
    can_segment(s, |rest| {
        glue.iter()
            .filter(|piece| starts_with(rest, piece))
            .map(|piece| piece.chars().count())
            .collect()
    })
}

/// What follows a Korean who-word once honorifics, particles and fillers are skipped.
#[derive(Debug, PartialEq)]
enum Next {
    Verb,
    Crowd,
    Copula,
    Other,
}

fn after_who(mut rest: &[char]) -> Next {
    loop {
        if KO_VERBS.iter().any(|v| starts_with(rest, v)) {
            return Next::Verb;
        }
        if KO_CROWD.iter().any(|w| starts_with(rest, w)) {
            return Next::Crowd;
        }
        if KO_COPULA.iter().any(|w| starts_with(rest, w)) && only_glue_or_copula(rest) {
            return Next::Copula;
        }
        let skip = KO_CONNECTORS
            .iter()
            .filter(|c| starts_with(rest, c))
            .map(|c| c.chars().count())
            .max();
        match skip {
            Some(n) => rest = &rest[n..],
            None => return Next::Other,
        }
    }
}

fn only_glue_or_copula(rest: &[char]) -> bool {
    KO_COPULA
        .iter()
        .any(|c| starts_with(rest, c) && only_glue(&rest[c.chars().count()..], KO_GLUE))
}

fn korean(s: &[char], latin_is_glue: bool) -> PersonRequest {
    if s.is_empty() {
        return PersonRequest::No;
    }
    if KO_PHRASES.iter().any(|p| contains(s, p)) {
        return PersonRequest::Clear;
    }
    let mut result = PersonRequest::No;
    let mut i = 0;
    while i < s.len() {
        let hit = KO_WHO
            .iter()
            .filter(|(w, _)| starts_with(&s[i..], w))
            .max_by_key(|(w, _)| w.chars().count());
        let Some((word, alone)) = hit else {
            i += 1;
            continue;
        };
        let len = word.chars().count();
        let (before, rest) = (&s[..i], &s[i + len..]);
        let found = match (after_who(rest), alone) {
            (Next::Verb, _) => PersonRequest::Clear,
            (Next::Crowd, _) => PersonRequest::No,
            (Next::Copula, _) => PersonRequest::Maybe,
            // 봇 말고 사람 / 챗봇 말고 직원: "not the bot, a person"
            (Next::Other, _) if before.ends_with(&['말', '고']) => PersonRequest::Clear,
            (Next::Other, Alone::Request) => PersonRequest::Clear,
            (Next::Other, Alone::MaybeIfBare) => {
                let bare = only_glue(before, KO_GLUE) && only_glue(rest, KO_GLUE);
                let verb_before = (0..before.len())
                    .any(|j| KO_VERBS.iter().any(|v| starts_with(&before[j..], v)));
                if bare && latin_is_glue {
                    PersonRequest::Maybe
                } else if verb_before && only_glue(rest, KO_GLUE) {
                    // 불러 주세요 사람 좀: the verb came first
                    PersonRequest::Clear
                } else {
                    PersonRequest::No
                }
            }
        };
        result = result.max_by_strength(found);
        i += len;
    }
    if result == PersonRequest::No && latin_is_glue {
        let contact_bare = (0..s.len()).any(|i| {
            KO_CONTACT.iter().any(|w| {
                starts_with(&s[i..], w)
                    && only_glue(&s[..i], KO_GLUE)
                    && only_glue(&s[i + w.chars().count()..], KO_GLUE)
            })
        });
        if contact_bare {
            result = PersonRequest::Maybe;
        }
    }
    result
}

fn english(words: &[&str], korean_is_glue: bool) -> PersonRequest {
    if words.is_empty() {
        return PersonRequest::No;
    }
    let asks_about_bot = words
        .windows(2)
        .any(|pair| EN_ARE_YOU.iter().any(|p| pair == p.as_slice()))
        || words.iter().any(|w| EN_I_AM.contains(w));
    let has_verb = words.iter().any(|w| EN_VERBS.contains(w));
    for phrase in EN_STAFF_ONLY {
        if words.windows(phrase.len()).any(|w| w == *phrase) {
            return if asks_about_bot && !has_verb {
                PersonRequest::Maybe
            } else {
                PersonRequest::Clear
            };
        }
    }
    for (i, w) in words.iter().enumerate() {
        if !EN_WHO.contains(w) {
            continue;
        }
        let from = i.saturating_sub(4);
        let to = (i + 5).min(words.len());
        if words[from..to].iter().any(|v| EN_VERBS.contains(v)) {
            return PersonRequest::Clear;
        }
    }
    if korean_is_glue {
        let rest: Vec<&&str> = words.iter().filter(|w| !EN_GLUE.contains(w)).collect();
        let bare_who = rest.len() == 1 && EN_WHO_BARE.contains(rest[0]);
        let bare_contact = !rest.is_empty() && rest.iter().all(|w| EN_CONTACT.contains(w));
        if bare_who || bare_contact {
            return PersonRequest::Maybe;
        }
    }
    PersonRequest::No
}

fn negated(hangul: &[char], latin: &[&str]) -> bool {
    KO_NEGATION.iter().any(|n| contains(hangul, n))
        || latin.iter().any(|w| EN_NEGATION.contains(w))
        || latin.windows(2).any(|p| p == ["no", "need"])
}

#[cfg(test)]
mod tests {
    use super::PersonRequest::{Clear, Maybe, No};
    use super::*;

    fn check(expected: PersonRequest, messages: &[&str]) {
        let wrong: Vec<String> = messages
            .iter()
            .map(|m| (m, person_request(m)))
            .filter(|(_, got)| *got != expected)
            .map(|(m, got)| format!("{m:?} → {got:?}"))
            .collect();
        assert!(wrong.is_empty(), "expected {expected:?}: {wrong:#?}");
    }

    #[test]
    fn the_examples_of_the_issue_are_clear_requests() {
        check(
            Clear,
            &[
                "상담원이랑 얘기할래요",
                "사람 불러주세요",
                "상담원 연결해주세요",
                "상담원연결",
                "사람불러",
                "직원 불러",
                "직원분이랑 통화하고 싶어요",
                "사람이랑 얘기",
                "I want to talk to a human",
                "agent please",
                "can I speak to someone",
                "/human",
            ],
        );
    }

    #[test]
    fn the_words_of_the_contract_are_clear_requests() {
        check(
            Clear,
            &[
                "상담원 연결",
                "사람이랑 얘기",
                "직원 불러",
                "human",
                "agent",
                "실제 사람",
                "진짜 사람",
                "real person",
                "a representative please",
                "talk to an agent",
                "speak to someone",
                "customer service",
                "operator",
            ],
        );
    }

    #[test]
    fn more_clear_requests_are_clear() {
        check(
            Clear,
            &[
                "상담원 연결 부탁드립니다",
                "직원분 좀 불러 주세요",
                "사장님이랑 통화하고 싶어요",
                "매니저님 연결해 주세요",
                "실제 사람이랑 얘기하고 싶어요",
                "고객센터 연결해주세요",
                "봇 말고 사람",
                "담당자분 연락 주세요",
                "사람한테 물어보고 싶어요",
                "상담 연결해 주세요",
                "사람이랑 대화하고 싶어요!!",
                "불러 주세요 사람 좀",
                "can I talk to a real person?",
                "customer service please",
                "connect me with an agent",
                "I need to speak with a representative",
                "get me a human",
                "is there a person I can talk to",
                "I want someone to call me",
                "let me chat with a live person",
                "사람 진짜 불러줘",
                "아무나 불러주세요",
                "a person please",
            ],
        );
    }

    #[test]
    fn people_mentioned_without_a_request_are_not_requests() {
        check(
            No,
            &[
                "사람들이 많네요",
                "사람이 많아요",
                "방송에 사람 많았죠",
                "직원들 친절해요",
                "humanity",
                "agenda",
                "humans are funny",
            ],
        );
    }

    #[test]
    fn more_messages_that_are_not_requests_are_not() {
        check(
            No,
            &[
                "오늘 사람 진짜 많네요",
                "직원분들 너무 친절하세요",
                "사장님 너무 예뻐요",
                "매니저님 최고",
                "배송 언제와요",
                "상담원들 친절하네요",
                "진짜 사람 많다",
                "사람마다 다르죠",
                "배송 문의드려요 언제 와요?",
                "사이즈 바꿔주세요",
                "what a nice person",
                "someone bought the last one",
                "the host is so funny",
                "people are crazy today",
                "when will my order ship",
                "the agenda for today",
                "강아지 옷도 파시나요?",
                "고양이 모자는요?",
                "사람이 찾는 상품이에요",
                "사람 너무 많아서 못 샀어요",
                "방송에 사람 많았는데 연결이 끊겼어요",
                "",
                "ㅋㅋㅋ",
            ],
        );
    }

    #[test]
    fn the_maybe_examples_of_the_brief_get_a_confirm_button() {
        check(
            Maybe,
            &[
                "사람?",
                "상담",
                "문의하고 싶어요",
                "연결",
                "help me",
                "support",
            ],
        );
    }

    #[test]
    fn more_possible_requests_get_a_confirm_button() {
        check(
            Maybe,
            &[
                "상담 가능한가요?",
                "문의드릴게 있어요",
                "도와주세요",
                "고객센터?",
                "직원분 계세요?",
                "사람요",
                "누구 계세요?",
                "상담원 연결 안 돼요?",
                "진짜 사람이에요?",
                "help",
                "I need help",
                "support please",
                "anyone there?",
                "are you human?",
                "is this a real person?",
                "I don't need an agent",
                "I'm a human too",
                "상담하고 싶어요",
            ],
        );
    }
}
