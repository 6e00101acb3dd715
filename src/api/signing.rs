//! Request signing (CONTRACT §3): `X-Encore-Signature: sha256=<hex HMAC-SHA256 of
//! "<timestamp>.<raw body>">`, with a timestamp within 300 seconds of our clock.

use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// How far the shop's timestamp may be from ours.
pub const MAX_SKEW_SECONDS: i64 = 300;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignatureProblem {
    Missing,
    Wrong,
    Stale,
}

/// The signature header value for a body, as the shop computes it.
pub fn sign(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    let mut mac = HmacSha256::new_from_slice(secret)
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// Checks the headers' values against the body. The comparison is constant-time (`verify_slice`).
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
