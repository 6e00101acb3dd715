//! Dashboard sign-in: the session cookie (a random id, never the admin token; only its hash is
//! stored), reading it back, and how long a wrong token waits before it is refused. No page and
//! no store query lives here.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::http::HeaderMap;
use axum::http::header::COOKIE;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use cookie::{Cookie, SameSite};
use sha2::{Digest, Sha256};

/// The cookie's name.
pub const COOKIE_NAME: &str = "encore_session";
/// How long a session lasts (CONTRACT §3: 12 hours).
pub const SESSION_HOURS: i64 = 12;
/// Where the cookie is sent: the dashboard, nothing else of the API.
const COOKIE_PATH: &str = "/dashboard";

/// A fresh session id: 32 random bytes, base64url (43 characters).
pub fn new_session_id() -> String {
    URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>())
}

/// What the store keeps of a session id: its SHA-256, hex. The id itself never leaves the
/// cookie, so a copy of the database signs nobody in.
pub fn id_hash(session_id: &str) -> String {
    hex::encode(Sha256::digest(session_id.as_bytes()))
}

/// `Set-Cookie` for a new session. `secure` when the request came over https (a proxy in front
/// says so with `X-Forwarded-Proto: https`): the browser then never sends it over plain http.
pub fn session_cookie(session_id: &str, secure: bool) -> String {
    Cookie::build((COOKIE_NAME, session_id))
        .http_only(true)
        .same_site(SameSite::Strict)
        .path(COOKIE_PATH)
        .max_age(cookie::time::Duration::hours(SESSION_HOURS))
        .secure(secure)
        .build()
        .to_string()
}

/// `Set-Cookie` that removes the session cookie (sign-out).
pub fn cleared_cookie(secure: bool) -> String {
    Cookie::build((COOKIE_NAME, ""))
        .http_only(true)
        .same_site(SameSite::Strict)
        .path(COOKIE_PATH)
        .max_age(cookie::time::Duration::ZERO)
        .secure(secure)
        .build()
        .to_string()
}

/// The session id the browser sent, if any.
pub fn session_id_of(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == COOKIE_NAME && !c.value().is_empty())
        .map(|c| c.value().to_string())
}

/// Whether the request reached the proxy in front of encore over https.
pub fn came_over_https(headers: &HeaderMap) -> bool {
    headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|proto| proto.trim().eq_ignore_ascii_case("https"))
}

/// Every wrong token waits this long before it is refused…
pub const REFUSAL_DELAY: Duration = Duration::from_secs(1);
/// …plus this much for each earlier failure from the same address in the window…
const DELAY_PER_FAILURE: Duration = Duration::from_secs(1);
/// …up to this (well inside the 30 s request limit).
const MOST_DELAY: Duration = Duration::from_secs(10);
/// Failures older than this are forgotten.
const FAILURE_WINDOW: Duration = Duration::from_secs(15 * 60);
/// Addresses remembered at once; past it the oldest are dropped (a bounded map, whatever comes).
const MOST_ADDRESSES: usize = 10_000;

/// How long a refusal waits after `earlier` failures from the same address.
pub fn refusal_delay(earlier: u32) -> Duration {
    (REFUSAL_DELAY + DELAY_PER_FAILURE * earlier).min(MOST_DELAY)
}

/// Recent sign-in failures by address, in this process (each worker of a cluster slows its own).
#[derive(Debug, Default)]
pub struct LoginThrottle {
    failures: Mutex<HashMap<IpAddr, (u32, Instant)>>,
}

impl LoginThrottle {
    /// Records a failure from `addr` and returns how long its refusal waits.
    pub fn failed(&self, addr: IpAddr, now: Instant) -> Duration {
        let Ok(mut failures) = self.failures.lock() else {
            return MOST_DELAY;
        };
        failures.retain(|_, (_, last)| now.duration_since(*last) < FAILURE_WINDOW);
        if failures.len() >= MOST_ADDRESSES
            && let Some(oldest) = failures
                .iter()
                .min_by_key(|(_, (_, at))| *at)
                .map(|(a, _)| *a)
        {
            failures.remove(&oldest);
        }
        let entry = failures.entry(addr).or_insert((0, now));
        let earlier = entry.0;
        *entry = (earlier.saturating_add(1), now);
        refusal_delay(earlier)
    }

    /// What an address with recent failures owes before its next attempt is even checked: the
    /// part of its refusal delay beyond the first second. Waiting before the check (not only
    /// before the answer) means a guesser who hangs up early learns nothing and saves nothing,
    /// and the right token from that address waits too.
    pub fn owed(&self, addr: IpAddr, now: Instant) -> Duration {
        let Ok(failures) = self.failures.lock() else {
            return MOST_DELAY;
        };
        match failures.get(&addr) {
            Some((earlier, last)) if now.duration_since(*last) < FAILURE_WINDOW => {
                refusal_delay(*earlier).saturating_sub(REFUSAL_DELAY)
            }
            _ => Duration::ZERO,
        }
    }

    /// A right token from `addr`: its count starts again.
    pub fn succeeded(&self, addr: IpAddr) {
        if let Ok(mut failures) = self.failures.lock() {
            failures.remove(&addr);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn the_cookie_is_http_only_strict_for_the_dashboard_and_lasts_twelve_hours() {
        let cookie = session_cookie("abc", false);
        assert!(cookie.starts_with("encore_session=abc;"), "{cookie}");
        for part in [
            "HttpOnly",
            "SameSite=Strict",
            "Path=/dashboard",
            "Max-Age=43200",
        ] {
            assert!(cookie.contains(part), "{cookie} has {part}");
        }
        assert!(!cookie.contains("Secure"), "{cookie}");
        assert!(session_cookie("abc", true).contains("Secure"));
        assert!(cleared_cookie(false).contains("Max-Age=0"));
    }

    #[test]
    fn the_session_id_is_read_among_other_cookies() {
        let mut headers = HeaderMap::new();
        headers.append(
            COOKIE,
            HeaderValue::from_static("theme=dark; encore_session=xyz"),
        );
        assert_eq!(session_id_of(&headers).as_deref(), Some("xyz"));
        assert_eq!(session_id_of(&HeaderMap::new()), None);
    }

    #[test]
    fn session_ids_are_random_and_only_their_hash_is_kept() {
        let (a, b) = (new_session_id(), new_session_id());
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert_eq!(id_hash(&a).len(), 64);
        assert_ne!(id_hash(&a), a);
    }

    #[test]
    fn repeated_failures_from_one_address_wait_longer_up_to_a_limit() {
        let throttle = LoginThrottle::default();
        let (one, other): (IpAddr, IpAddr) =
            ("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
        let now = Instant::now();
        assert_eq!(throttle.failed(one, now), Duration::from_secs(1));
        assert_eq!(throttle.failed(one, now), Duration::from_secs(2));
        assert_eq!(throttle.failed(one, now), Duration::from_secs(3));
        assert_eq!(throttle.failed(other, now), Duration::from_secs(1));
        for _ in 0..20 {
            throttle.failed(one, now);
        }
        assert_eq!(throttle.failed(one, now), MOST_DELAY);
        throttle.succeeded(one);
        assert_eq!(throttle.failed(one, now), Duration::from_secs(1));
        let later = now + FAILURE_WINDOW + Duration::from_secs(1);
        assert_eq!(throttle.failed(other, later), Duration::from_secs(1));
    }

    #[test]
    fn an_address_with_failures_owes_its_wait_before_the_next_attempt_is_checked() {
        let throttle = LoginThrottle::default();
        let addr: IpAddr = "10.0.0.3".parse().unwrap();
        let now = Instant::now();
        assert_eq!(
            throttle.owed(addr, now),
            Duration::ZERO,
            "no failure, no wait"
        );
        throttle.failed(addr, now);
        throttle.failed(addr, now);
        // A third attempt waits 2 s before its token is even looked at; refused, 1 s more.
        assert_eq!(throttle.owed(addr, now), Duration::from_secs(2));
        let later = now + FAILURE_WINDOW + Duration::from_secs(1);
        assert_eq!(throttle.owed(addr, later), Duration::ZERO, "forgotten");
        throttle.succeeded(addr);
        assert_eq!(throttle.owed(addr, now), Duration::ZERO);
    }
}
