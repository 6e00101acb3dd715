//! Signing of the requests between the shop and encore, both ways (CONTRACT §3): the events the
//! shop posts to `POST /v1/events` are checked here, and the events encore posts to
//! `shop.webhook_url` are signed here, with the same `http.webhook_secret` and the same scheme:
//!
//! `X-Encore-Timestamp: <unix seconds>` and
//! `X-Encore-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<raw body>">`, the timestamp
//! within [`MAX_SKEW_SECONDS`] of the receiver's clock.
//!
//! This module owns the header names, the HMAC (also the one the KakaoTalk dealer's requests
//! carry), the tolerance and the constant-time comparisons
//! (also [`same_secret`], for the secrets that arrive as they are: the admin token, Telegram's
//! webhook secret token); it does no I/O, reads no clock (callers pass the time) and never logs a
//! secret or a body.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

type HmacSha256 = Hmac<Sha256>;

/// The header carrying the signing time, in unix seconds.
pub const TIMESTAMP_HEADER: &str = "X-Encore-Timestamp";
/// The header carrying `sha256=<hex HMAC>`.
pub const SIGNATURE_HEADER: &str = "X-Encore-Signature";
/// How far a request's timestamp may be from the receiver's clock.
pub const MAX_SKEW_SECONDS: i64 = 300;

/// Why a request's signature is not accepted. The messages are the ones `POST /v1/events`
/// answers with; a missing and a wrong signature read alike, so a prober learns nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureProblem {
    #[error(
        "{SIGNATURE_HEADER} is missing or does not match the body (HMAC-SHA256 of \"<timestamp>.<body>\")"
    )]
    Missing,
    #[error(
        "{SIGNATURE_HEADER} is missing or does not match the body (HMAC-SHA256 of \"<timestamp>.<body>\")"
    )]
    Wrong,
    #[error("{TIMESTAMP_HEADER} is more than {MAX_SKEW_SECONDS} seconds from the server's clock")]
    Stale,
}

impl SignatureProblem {
    /// The error code in the API's answer (CONTRACT §3).
    pub fn code(&self) -> &'static str {
        match self {
            SignatureProblem::Missing | SignatureProblem::Wrong => "bad_signature",
            SignatureProblem::Stale => "stale_timestamp",
        }
    }
}

/// The [`SIGNATURE_HEADER`] value for a body signed at `timestamp`: what encore sends with an
/// event out, and what the shop computes for an event in.
pub fn sign(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    let timestamp = timestamp.to_string();
    format!(
        "sha256={}",
        hmac_sha256_hex(secret, &[timestamp.as_bytes(), b".", body])
    )
}

/// The lower-case hex HMAC-SHA256 of `parts`, one after the other, keyed with `key`: the MAC of
/// encore's signatures, and of the KakaoTalk dealer's `Authorization` header
/// (`platforms::kakao`, over date and salt).
pub fn hmac_sha256_hex(key: &[u8], parts: &[&[u8]]) -> String {
    let mut mac = HmacSha256::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    for part in parts {
        mac.update(part);
    }
    hex::encode(mac.finalize().into_bytes())
}

/// Checks the two headers' values against the body, at `now_unix`. The comparison is
/// constant-time (`verify_slice`), so a forger learns nothing from how long a refusal takes.
pub fn verify(
    secret: &[u8],
    timestamp: Option<&str>,
    signature: Option<&str>,
    body: &[u8],
    now_unix: i64,
) -> Result<(), SignatureProblem> {
    let (Some(timestamp), Some(signature)) = (timestamp, signature) else {
        return Err(SignatureProblem::Missing);
    };
    if secret.is_empty() {
        // No secret configured: nothing can be signed correctly.
        return Err(SignatureProblem::Wrong);
    }
    let given = signature
        .trim()
        .strip_prefix("sha256=")
        .and_then(|h| hex::decode(h).ok())
        .ok_or(SignatureProblem::Wrong)?;
    let mut mac = HmacSha256::new_from_slice(secret).map_err(|_| SignatureProblem::Wrong)?;
    mac.update(timestamp.trim().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac.verify_slice(&given)
        .map_err(|_| SignatureProblem::Wrong)?;
    let ts: i64 = timestamp
        .trim()
        .parse()
        .map_err(|_| SignatureProblem::Stale)?;
    if (now_unix - ts).abs() > MAX_SKEW_SECONDS {
        return Err(SignatureProblem::Stale);
    }
    Ok(())
}

/// Whether a secret a request carried is the configured one, compared in constant time. Both
/// sides are hashed first, so neither the comparison nor a length check tells a caller the
/// secret's length. Nothing matches an empty configured secret.
pub fn same_secret(given: &[u8], expected: &[u8]) -> bool {
    if expected.is_empty() {
        return false;
    }
    let (given, expected) = (Sha256::digest(given), Sha256::digest(expected));
    given
        .iter()
        .zip(expected.iter())
        .fold(0u8, |acc, (a, b)| acc | (a ^ b))
        == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_matches_only_itself_and_an_empty_one_matches_nothing() {
        assert!(same_secret(b"0123456789abcdef", b"0123456789abcdef"));
        assert!(!same_secret(b"0123456789abcdeF", b"0123456789abcdef"));
        assert!(!same_secret(b"0123456789abcdef0", b"0123456789abcdef"));
        assert!(!same_secret(b"", b""));
    }

    #[test]
    fn a_signature_made_by_sign_verifies_and_a_changed_body_does_not() {
        let sig = sign(b"secret", 1_700_000_000, b"{}");
        assert_eq!(
            verify(
                b"secret",
                Some("1700000000"),
                Some(&sig),
                b"{}",
                1_700_000_010
            ),
            Ok(())
        );
        assert_eq!(
            verify(
                b"secret",
                Some("1700000000"),
                Some(&sig),
                b"{ }",
                1_700_000_010
            ),
            Err(SignatureProblem::Wrong)
        );
        assert_eq!(
            verify(
                b"secret",
                Some("1700000000"),
                Some(&sig),
                b"{}",
                1_700_000_601
            ),
            Err(SignatureProblem::Stale)
        );
        assert_eq!(
            verify(b"secret", None, Some(&sig), b"{}", 0),
            Err(SignatureProblem::Missing)
        );
        assert_eq!(
            verify(b"", Some("1"), Some(&sign(b"", 1, b"")), b"", 1),
            Err(SignatureProblem::Wrong)
        );
    }

    #[test]
    fn the_tolerance_is_exactly_max_skew_seconds_either_way() {
        let at = 1_700_000_000;
        let sig = sign(b"secret", at, b"{}");
        let check = |now| verify(b"secret", Some("1700000000"), Some(&sig), b"{}", now);
        assert_eq!(check(at + MAX_SKEW_SECONDS), Ok(()));
        assert_eq!(check(at - MAX_SKEW_SECONDS), Ok(()));
        assert_eq!(
            check(at + MAX_SKEW_SECONDS + 1),
            Err(SignatureProblem::Stale)
        );
        assert_eq!(
            check(at - MAX_SKEW_SECONDS - 1),
            Err(SignatureProblem::Stale)
        );
    }

    #[test]
    fn the_messages_are_the_ones_the_api_has_always_answered_with() {
        assert_eq!(
            SignatureProblem::Stale.to_string(),
            "X-Encore-Timestamp is more than 300 seconds from the server's clock"
        );
        let bad = "X-Encore-Signature is missing or does not match the body (HMAC-SHA256 of \"<timestamp>.<body>\")";
        assert_eq!(SignatureProblem::Missing.to_string(), bad);
        assert_eq!(SignatureProblem::Wrong.to_string(), bad);
    }

    #[test]
    fn a_known_vector_pins_the_scheme_the_shop_implements() {
        // HMAC-SHA256 keyed "secret" of "1700000000.{}", from `openssl dgst -sha256 -hmac`:
        // a change here breaks every shop that already signs or verifies with this scheme.
        assert_eq!(
            sign(b"secret", 1_700_000_000, b"{}"),
            "sha256=b8569b78799ff9e3cbff0fc2d63a33a2b57f3282abd07c37ae5e8e7d79a5f163"
        );
    }
}
