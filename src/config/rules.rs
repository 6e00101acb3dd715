//! The rules a single setting must follow beyond its type: a URL that is a URL, an id that can be
//! a Telegram chat, a duration that is not 0. A field names its rule where it is declared
//! (`#[serde(deserialize_with = "rules::one::<HttpUrl, _>")]`); a field with no rule is read by its
//! type alone (a `u32` is a count from 0, a `String` is trimmed text).
//!
//! Also the two types that need their own reading and showing: secrets (exact bytes, masked when
//! shown) and the shop's time zone. Rules judge one value; rules across keys are in `checks.rs`.
//! An error never echoes a value that may be secret (a database URL may hold a password).

use std::str::FromStr;

use serde::de::{self, Deserialize, Deserializer, Visitor};

use super::layered::{in_range, parse_whole};
use crate::domain::lang::Lang;

/// A checked value read through serde; `Value` is what the field holds.
pub(super) trait Rule<'de>: Deserialize<'de> {
    type Value;
    fn into_value(self) -> Self::Value;
}

/// One value checked by rule `R`.
pub(super) fn one<'de, R: Rule<'de>, D: Deserializer<'de>>(d: D) -> Result<R::Value, D::Error> {
    R::deserialize(d).map(Rule::into_value)
}

/// Empty text means "not set"; anything else is checked by rule `R`.
pub(super) fn optional<'de, R: Rule<'de>, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<R::Value>, D::Error> {
    Option::<R>::deserialize(d).map(|value| value.map(Rule::into_value))
}

/// Every item checked by rule `R`.
pub(super) fn list<'de, R: Rule<'de>, D: Deserializer<'de>>(
    d: D,
) -> Result<Vec<R::Value>, D::Error> {
    Vec::<R>::deserialize(d).map(|items| items.into_iter().map(Rule::into_value).collect())
}

/// Declares a rule: a wrapper read from `$raw`, checked by `$check` into `$value`.
macro_rules! rule {
    ($(#[$doc:meta])* $name:ident: $raw:ty => $value:ty, $check:expr) => {
        $(#[$doc])*
        pub(super) struct $name($value);

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let check: fn($raw) -> Result<$value, String> = $check;
                check(<$raw>::deserialize(d)?).map($name).map_err(de::Error::custom)
            }
        }

        impl<'de> Rule<'de> for $name {
            type Value = $value;
            fn into_value(self) -> $value {
                self.0
            }
        }
    };
}

/// A whole number of type `T` that is at least `MIN` (a duration that 0 would fire at once).
pub(super) struct AtLeast<T, const MIN: i128>(T);

impl<'de, T: TryFrom<i128>, const MIN: i128> Deserialize<'de> for AtLeast<T, MIN> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        in_range(i128::deserialize(d)?, MIN)
            .map(AtLeast)
            .map_err(de::Error::custom)
    }
}

impl<'de, T: TryFrom<i128>, const MIN: i128> Rule<'de> for AtLeast<T, MIN> {
    type Value = T;
    fn into_value(self) -> T {
        self.0
    }
}

/// A whole number of type `T` from `MIN` to `MAX` (a lease that must outlast a heartbeat and
/// not keep a dead leader's place for long).
pub(super) struct Between<T, const MIN: i128, const MAX: i128>(T);

impl<'de, T: TryFrom<i128>, const MIN: i128, const MAX: i128> Deserialize<'de>
    for Between<T, MIN, MAX>
{
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let n = i128::deserialize(d)?;
        if !(MIN..=MAX).contains(&n) {
            return Err(de::Error::custom(format!(
                "must be from {MIN} to {MAX}, not {n}"
            )));
        }
        T::try_from(n)
            .map(Between)
            .map_err(|_| de::Error::custom(format!("{n} is too large")))
    }
}

impl<'de, T: TryFrom<i128>, const MIN: i128, const MAX: i128> Rule<'de> for Between<T, MIN, MAX> {
    type Value = T;
    fn into_value(self) -> T {
        self.0
    }
}

rule! {
    /// Text that is not blank.
    NonEmpty: String => String, non_empty
}

rule! {
    /// An http(s) base URL, without a trailing `/` so callers can append paths.
    HttpUrl: String => String, |s| {
        let rest = s.strip_prefix("https://").or_else(|| s.strip_prefix("http://"));
        match rest {
            Some(host) if !host.trim_end_matches('/').is_empty() => {
                Ok(s.trim_end_matches('/').to_string())
            }
            _ => Err(format!("`{s}` is not an http:// or https:// URL")),
        }
    }
}

rule! {
    /// `sqlite:…` or `postgres://…`.
    DatabaseUrl: String => String, |s| {
        let s = non_empty(s)?;
        // The value is not echoed: a database URL may carry a password.
        crate::store::Backend::of_url(&s).map(|_| s)
    }
}

rule! {
    /// `host:port`.
    ListenAddress: String => String, |s| match s.rsplit_once(':') {
        Some((host, port)) if !host.is_empty() && port.parse::<u16>().is_ok() => Ok(s),
        _ => Err(format!("`{s}` is not an address like 127.0.0.1:8080")),
    }
}

rule! {
    /// Three capital letters (ISO 4217).
    Currency: String => String, |s| {
        if s.len() == 3 && s.bytes().all(|b| b.is_ascii_uppercase()) {
            Ok(s)
        } else {
            Err(format!("`{s}` is not a currency code of three capital letters, like KRW"))
        }
    }
}

rule! {
    /// A language encore writes in.
    Language: String => Lang, |s| Lang::from_str(&s).map_err(|e| e.to_string())
}

rule! {
    /// One word: staff type tier names in `/vipcode CODE TIER`.
    TierName: String => String, |s| {
        let name = non_empty(s)?;
        if name.chars().any(char::is_whitespace) {
            return Err(format!(
                "`{name}` has a space in it; staff type tier names in /vipcode, so use one word"
            ));
        }
        Ok(name)
    }
}

rule! {
    /// A Telegram chat id: groups are negative, private chats positive, never 0.
    ChatId: i128 => i64, |n| {
        if n == 0 {
            return Err("0 is not a Telegram chat id".to_string());
        }
        i64::try_from(n).map_err(|_| format!("{n} is not a Telegram chat id"))
    }
}

rule! {
    /// A Telegram user id, always positive.
    TelegramUserId: i128 => i64, |n| {
        if n <= 0 {
            return Err(format!("{n} is not a Telegram user id (user ids are positive)"));
        }
        i64::try_from(n).map_err(|_| format!("{n} is not a Telegram user id"))
    }
}

rule! {
    /// A Discord id: a whole number, or digits in quotes (as Discord itself writes them).
    Snowflake: WholeOrDigits => u64, |WholeOrDigits(n)| {
        if n <= 0 {
            return Err(format!("{n} is not a Discord id"));
        }
        u64::try_from(n).map_err(|_| format!("{n} is not a Discord id"))
    }
}

rule! {
    /// The shop's registered sender number for KakaoTalk (발신번호): digits only, as the dealer
    /// takes it for `from`.
    SenderNumber: String => String, |s| {
        if (8..=12).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit()) {
            Ok(s)
        } else {
            Err(format!(
                "`{s}` is not a phone number of digits only (8 to 12 of them, no `-`), like 0212345678"
            ))
        }
    }
}

fn non_empty(s: String) -> Result<String, String> {
    if s.is_empty() {
        return Err("must not be empty".to_string());
    }
    Ok(s)
}

/// A whole number, also when written as digits in quotes.
pub(super) struct WholeOrDigits(i128);

impl<'de> Deserialize<'de> for WholeOrDigits {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Whole;
        impl Visitor<'_> for Whole {
            type Value = i128;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a whole number")
            }
            fn visit_i64<E: de::Error>(self, n: i64) -> Result<i128, E> {
                Ok(i128::from(n))
            }
            fn visit_u64<E: de::Error>(self, n: u64) -> Result<i128, E> {
                Ok(i128::from(n))
            }
            fn visit_i128<E: de::Error>(self, n: i128) -> Result<i128, E> {
                Ok(n)
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<i128, E> {
                parse_whole(s).map_err(E::custom)
            }
        }
        d.deserialize_any(Whole).map(WholeOrDigits)
    }
}

/// Secrets are `SecretString`, read byte for byte and shown masked:
/// `#[serde(with = "rules::secret")]`. Serializing one never shows it (the only serializing of the
/// configuration is the masked summary): set → `"********"`, empty → not set.
pub(super) mod secret {
    use secrecy::{ExposeSecret, SecretString};
    use serde::de::{self, Deserializer, Visitor};
    use serde::ser::Serializer;

    use super::super::layered::EXACT_TEXT;

    pub(in crate::config) const MASK: &str = "********";

    pub(in crate::config) fn serialize<S: Serializer>(
        secret: &SecretString,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        if secret.expose_secret().trim().is_empty() {
            s.serialize_none()
        } else {
            s.serialize_str(MASK)
        }
    }

    pub(in crate::config) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<SecretString, D::Error> {
        struct Exact;
        impl<'de> Visitor<'de> for Exact {
            type Value = SecretString;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("text in quotes")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<SecretString, E> {
                Ok(SecretString::from(s))
            }
            fn visit_string<E: de::Error>(self, s: String) -> Result<SecretString, E> {
                Ok(SecretString::from(s))
            }
            fn visit_newtype_struct<D: Deserializer<'de>>(
                self,
                d: D,
            ) -> Result<SecretString, D::Error> {
                d.deserialize_string(self)
            }
        }
        d.deserialize_newtype_struct(EXACT_TEXT, Exact)
    }
}

/// The shop's IANA time zone (`Asia/Seoul`, or `Etc/GMT-9` for a fixed offset):
/// `#[serde(with = "rules::time_zone")]`.
pub(super) mod time_zone {
    use std::str::FromStr;

    use chrono_tz::Tz;
    use serde::de::{self, Deserialize, Deserializer};
    use serde::ser::Serializer;

    pub(in crate::config) fn serialize<S: Serializer>(tz: &Tz, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(tz.name())
    }

    pub(in crate::config) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Tz, D::Error> {
        let s = String::deserialize(d)?;
        Tz::from_str(&s).map_err(|_| {
            de::Error::custom(format!(
                "unknown time zone `{s}`; use an IANA name like Asia/Seoul, or Etc/GMT-9 for a fixed offset"
            ))
        })
    }
}
