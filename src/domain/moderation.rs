//! Community room rules (`[moderation]`): what counts as a link, who is still a new member, and
//! when a member is writing too fast.
//!
//! The caller decides what to do (remove the message, mute the member); this module only answers
//! the questions, so every rule can be tested without a platform.

use std::num::NonZeroU32;
use std::time::Duration;

use chrono::{DateTime, Utc};
use governor::clock::{Clock, DefaultClock};
use governor::middleware::NoOpMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};

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

type KeyedLimiter<C> =
    RateLimiter<String, DefaultKeyedStateStore<String>, C, NoOpMiddleware<<C as Clock>::Instant>>;

/// Per-member flood detection: "more than `flood_messages` messages in `flood_seconds`". Keys
/// are whatever the caller chooses, e.g. `"telegram:-100123:42"`.
///
/// It is a GCRA bucket: `flood_messages` may arrive at once, then one more each
/// `flood_seconds / flood_messages`. A burst is caught exactly; a steady stream is caught once
/// it is faster than `flood_messages` per `flood_seconds` on average.
pub struct FloodGuard<C: Clock = DefaultClock> {
    limiter: KeyedLimiter<C>,
}

impl FloodGuard {
    pub fn new(flood_messages: u32, flood_seconds: u32) -> Self {
        FloodGuard::with_clock(flood_messages, flood_seconds, DefaultClock::default())
    }
}

impl<C: Clock> FloodGuard<C> {
    /// Like [`FloodGuard::new`] on a clock of the caller's choosing (tests use a fake one).
    pub fn with_clock(flood_messages: u32, flood_seconds: u32, clock: C) -> Self {
        // The configuration keeps both at least 1; clamp anyway rather than panic.
        let burst = NonZeroU32::new(flood_messages).unwrap_or(NonZeroU32::MIN);
        let window = Duration::from_secs(u64::from(flood_seconds.max(1)));
        let quota = Quota::with_period(window / burst.get())
            .unwrap_or_else(|| Quota::per_second(burst))
            .allow_burst(burst);
        FloodGuard {
            limiter: RateLimiter::new(quota, DefaultKeyedStateStore::default(), clock),
        }
    }

    /// Counts one message from `key`; `false` when it is over the limit.
    pub fn allow(&self, key: &str) -> bool {
        self.limiter.check_key(&key.to_string()).is_ok()
    }

    /// Forgets members whose bucket is full again (they are indistinguishable from someone never
    /// seen), so memory follows the active members, not everyone who ever wrote.
    pub fn forget_idle(&self) {
        self.limiter.retain_recent();
        self.limiter.shrink_to_fit();
    }

    /// How many members are remembered.
    #[cfg(test)]
    fn tracked(&self) -> usize {
        self.limiter.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use governor::clock::FakeRelativeClock;

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
        let guard = FloodGuard::with_clock(6, 10, FakeRelativeClock::default());
        for n in 1..=6 {
            assert!(guard.allow("telegram:-100:42"), "message {n}");
        }
        assert!(!guard.allow("telegram:-100:42"));
    }

    #[test]
    fn one_member_flooding_does_not_touch_another() {
        let clock = FakeRelativeClock::default();
        let guard = FloodGuard::with_clock(6, 10, clock.clone());
        let passed: Vec<bool> = (0..10)
            .map(|_| {
                clock.advance(Duration::from_millis(10));
                guard.allow("telegram:-100:42")
            })
            .collect();
        assert!(passed.contains(&false), "{passed:?}");
        assert!(guard.allow("telegram:-100:43"));
        assert!(guard.allow("discord:7:42"));
    }

    #[test]
    fn the_bucket_refills_one_message_per_share_of_the_window() {
        let clock = FakeRelativeClock::default();
        let guard = FloodGuard::with_clock(6, 10, clock.clone());
        for _ in 0..6 {
            assert!(guard.allow("m"));
        }
        assert!(!guard.allow("m"));
        clock.advance(Duration::from_millis(1_700));
        assert!(guard.allow("m"));
        assert!(!guard.allow("m"));
        clock.advance(Duration::from_secs(10));
        for _ in 0..6 {
            assert!(guard.allow("m"));
        }
    }

    #[test]
    fn idle_members_are_forgotten() {
        let clock = FakeRelativeClock::default();
        let guard = FloodGuard::with_clock(6, 10, clock.clone());
        for member in 0..100 {
            assert!(guard.allow(&format!("telegram:-100:{member}")));
        }
        assert_eq!(guard.tracked(), 100);
        clock.advance(Duration::from_secs(11));
        assert!(guard.allow("telegram:-100:active"));
        guard.forget_idle();
        assert_eq!(guard.tracked(), 1);
    }

    #[test]
    fn the_real_clock_constructor_works() {
        let guard = FloodGuard::new(1, 60);
        assert!(guard.allow("a"));
        assert!(!guard.allow("a"));
        assert!(guard.allow("b"));
    }
}
