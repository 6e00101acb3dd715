//! Community room rules (`[moderation]`): what counts as a link, who is still a new member, and
//! when a member is writing too fast.
//!
//! The caller decides what to do (remove the message, mute the member); this module only answers
//! the questions, so every rule can be tested without a platform.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

/// Top-level domains that make `word.tld` a link. Short on purpose: the common ones, the Korean
/// one, and the ones link shorteners and invite spam use. A longer list catches more file names
/// and typos than spam.
const LINK_TLDS: [&str; 15] = [
    "com", "net", "org", "io", "kr", "co", "me", "gg", "ly", "app", "shop", "xyz", "info", "biz",
    "tv",
];

/// Whether `text` holds a link or contact address: `http://` or `https://` (any case), a `www.`
/// host, or a bare `name.tld` with a known top-level domain — which also covers `t.me/…`,
/// `discord.gg/…` and e-mail addresses. `3.5kg`, `e.g.` and `1.2만원` are not links.
pub fn contains_link(text: &str) -> bool {
    // ASCII lowering keeps one char per char, so positions in `chars` stay meaningful and
    // Hangul next to a link is just another boundary.
    let lowered = text.to_ascii_lowercase();
    if lowered.contains("http://") || lowered.contains("https://") {
        return true;
    }
    let chars: Vec<char> = lowered.chars().collect();
    chars
        .iter()
        .enumerate()
        .any(|(dot, &c)| c == '.' && (is_www_at(&chars, dot) || ends_in_known_tld(&chars, dot)))
}

/// A character that can be part of a host name label.
fn is_host_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-'
}

/// `www.` followed by a host, starting at a word boundary (so `awww.` is not one).
fn is_www_at(chars: &[char], dot: usize) -> bool {
    let Some(start) = dot.checked_sub(3) else {
        return false;
    };
    let www = chars[start..dot].iter().all(|&c| c == 'w');
    let at_boundary = start == 0 || !is_host_char(chars[start - 1]);
    let host_follows = chars.get(dot + 1).is_some_and(|&c| is_host_char(c));
    www && at_boundary && host_follows
}

/// `label.tld` around the dot at `dot`, the label being a host name label and the top-level
/// domain a whole label from [`LINK_TLDS`] (so `shop.kreative` and `example.com2` are not).
fn ends_in_known_tld(chars: &[char], dot: usize) -> bool {
    let label_before = chars[..dot]
        .iter()
        .rev()
        .take_while(|&&c| is_host_char(c))
        .count();
    if label_before == 0 {
        return false;
    }
    let tld: String = chars[dot + 1..]
        .iter()
        .take_while(|&&c| is_host_char(c))
        .collect();
    LINK_TLDS.contains(&tld.as_str())
}

/// Whether a member who joined at `joined_at` is still too new to post links. An unknown join
/// time counts as not new: members who were there before the bot are not punished for it.
pub fn is_new_member(
    joined_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
    new_member_link_minutes: u32,
) -> bool {
    joined_at.is_some_and(|joined| {
        now.signed_duration_since(joined)
            < chrono::Duration::minutes(i64::from(new_member_link_minutes))
    })
}

/// Per-member flood detection: "more than `flood_messages` messages in `flood_seconds`"
/// (CONTRACT §2), counted exactly over a sliding window per key. Keys are whatever the caller
/// chooses, e.g. `"telegram:-100123:42"`.
///
/// A token bucket (governor's GCRA) was tried first: it lets a steady stream of almost twice
/// the limit through, because the bucket refills while it drains. The window keeps at most
/// `flood_messages + 1` instants per active member.
pub struct FloodGuard {
    limit: usize,
    window: Duration,
    seen: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl FloodGuard {
    pub fn new(flood_messages: u32, flood_seconds: u32) -> Self {
        FloodGuard {
            // The configuration keeps both at least 1; clamp anyway rather than panic.
            limit: flood_messages.max(1) as usize,
            window: Duration::from_secs(u64::from(flood_seconds.max(1))),
            seen: Mutex::new(HashMap::new()),
        }
    }

    /// Counts one message from `key` now; `false` when it makes more than the limit within the
    /// window.
    pub fn allow(&self, key: &str) -> bool {
        self.allow_at(key, Instant::now())
    }

    /// The same at a given instant (tests move time instead of sleeping).
    pub fn allow_at(&self, key: &str, now: Instant) -> bool {
        let mut seen = match self.seen.lock() {
            Ok(seen) => seen,
            Err(poisoned) => poisoned.into_inner(),
        };
        let times = seen.entry(key.to_string()).or_default();
        while times
            .front()
            .is_some_and(|first| now.saturating_duration_since(*first) >= self.window)
        {
            times.pop_front();
        }
        times.push_back(now);
        while times.len() > self.limit + 1 {
            times.pop_front();
        }
        times.len() <= self.limit
    }

    /// Forgets members who wrote nothing within the window, so memory follows the active
    /// members, not everyone who ever wrote.
    pub fn forget_idle(&self) {
        self.forget_idle_at(Instant::now());
    }

    pub fn forget_idle_at(&self, now: Instant) {
        let mut seen = match self.seen.lock() {
            Ok(seen) => seen,
            Err(poisoned) => poisoned.into_inner(),
        };
        seen.retain(|_, times| {
            times
                .back()
                .is_some_and(|last| now.saturating_duration_since(*last) < self.window)
        });
        seen.shrink_to_fit();
    }

    /// How many members are remembered.
    #[cfg(test)]
    fn tracked(&self) -> usize {
        self.seen.lock().map(|s| s.len()).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn links_in_every_usual_shape_are_found() {
        for text in [
            "http://example",
            "see HTTPS://EXAMPLE.ORG now",
            "HtTp://x",
            "www.naver",
            "go to WWW.Example.kr",
            "t.me/joinchat/abc",
            "discord.gg/xyz",
            "example.com/path",
            "shop.kr",
            "Shop.KR",
            "bit.ly/3abc",
            "my.shop.example.co.kr",
            "name@example.com",
            "buy at cheap-bags.xyz!",
            "(best.info)",
        ] {
            assert!(contains_link(text), "{text}");
        }
    }

    #[test]
    fn numbers_abbreviations_and_file_names_are_not_links() {
        for text in [
            "",
            "3.5kg",
            "e.g. this one",
            "i.e.",
            "1.2만원",
            "가격은 12.000원입니다",
            "10.30에 만나요",
            "photo.png",
            "shop.kreative",
            "example.com2",
            "awww.so cute",
            "www.",
            "...com",
            "ratio 16.9",
        ] {
            assert!(!contains_link(text), "{text}");
        }
    }

    #[test]
    fn hangul_right_next_to_a_link_is_a_boundary() {
        assert!(contains_link("구매는example.com에서"));
        assert!(contains_link("링크는https://예시.한국입니다"));
        assert!(contains_link("여기www.naver.com로"));
        assert!(contains_link("문의name@shop.kr으로"));
        assert!(contains_link("단톡t.me/abc방"));
        assert!(!contains_link("안녕하세요. 반갑습니다."));
        assert!(!contains_link("한글.한글"));
    }

    #[test]
    fn new_members_are_those_who_joined_less_than_the_limit_ago() {
        let now = utc("2025-03-11T12:00:00Z");
        assert!(is_new_member(Some(utc("2025-03-11T11:55:00Z")), now, 10));
        assert!(!is_new_member(Some(utc("2025-03-11T11:50:00Z")), now, 10));
        assert!(!is_new_member(Some(utc("2025-03-11T11:00:00Z")), now, 10));
        assert!(!is_new_member(None, now, 10));
        assert!(!is_new_member(Some(now), now, 0));
    }

    #[test]
    fn a_burst_up_to_the_limit_passes_and_the_next_message_does_not() {
        let guard = FloodGuard::new(6, 10);
        let start = Instant::now();
        for _ in 0..6 {
            assert!(guard.allow_at("tg:-100:1", start));
        }
        assert!(
            !guard.allow_at("tg:-100:1", start),
            "the 7th within the window"
        );
    }

    #[test]
    fn ten_messages_in_five_seconds_are_a_flood_and_another_member_is_untouched() {
        let guard = FloodGuard::new(6, 10);
        let start = Instant::now();
        let verdicts: Vec<bool> = (0..10)
            .map(|i| guard.allow_at("a", start + Duration::from_millis(500 * i)))
            .collect();
        assert_eq!(verdicts.iter().filter(|ok| !**ok).count(), 4);
        assert!(guard.allow_at("b", start + Duration::from_secs(5)));
    }

    #[test]
    fn seven_messages_spread_over_nine_seconds_are_more_than_six_in_ten() {
        let guard = FloodGuard::new(6, 10);
        let start = Instant::now();
        let last = (0..7)
            .map(|i| guard.allow_at("a", start + Duration::from_millis(1_500 * i)))
            .last();
        assert_eq!(last, Some(false), "the 7th at 9 s is over the limit");
    }

    #[test]
    fn a_steady_pace_at_the_limit_is_never_a_flood() {
        let guard = FloodGuard::new(6, 10);
        let start = Instant::now();
        // One message every 1.7 s: never more than 6 in any 10 s.
        for i in 0..60 {
            assert!(
                guard.allow_at("a", start + Duration::from_millis(1_700 * i)),
                "message {i}"
            );
        }
    }

    #[test]
    fn idle_members_are_forgotten() {
        let guard = FloodGuard::new(6, 10);
        let start = Instant::now();
        for i in 0..100 {
            guard.allow_at(&format!("member-{i}"), start);
        }
        guard.allow_at("active", start + Duration::from_secs(11));
        guard.forget_idle_at(start + Duration::from_secs(11));
        assert_eq!(guard.tracked(), 1);
    }
}
