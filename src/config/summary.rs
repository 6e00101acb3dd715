//! The masked summary `encore config check` prints: the effective settings as TOML-like text,
//! section after section, derived from the configuration's own serde shape so that a new key is
//! shown without being named here.
//!
//! Secrets serialize masked (`rules::secret`): `"********"` when set, `(not set)` when empty; the
//! password in a database URL is masked too. This module never sees a secret's value.

use std::fmt;

use serde::ser::{self, Impossible, Serialize, Serializer};

use super::Config;
use super::rules::secret::MASK;

const NOT_SET: &str = "(not set)";

impl Config {
    /// The effective settings as TOML-like text, section after section, for
    /// `encore config check`. Secrets show as `"********"` when set and `(not set)` when empty;
    /// a password inside the database URL is masked too.
    pub fn masked_summary(&self) -> String {
        let mut out = String::new();
        let mut line = |text: &str| {
            out.push_str(text);
            out.push('\n');
        };
        let platforms = self.platforms();
        line(&format!(
            "# platforms on: {}",
            if platforms.is_empty() {
                "none (only the HTTP API runs)".to_string()
            } else {
                platforms.join(", ")
            }
        ));
        let sections = match self.serialize(Shower) {
            Ok(Shown::Table(sections)) => sections,
            // Every field of the configuration is shown by `Shower`; nothing else can come back.
            Ok(_) | Err(_) => Vec::new(),
        };
        for (name, value) in sections {
            line("");
            match value {
                Shown::Table(keys) => {
                    line(&format!("[{name}]"));
                    show_keys(&mut line, keys);
                }
                // An optional section that is absent: a platform that is off.
                Shown::NotSet => line(&format!(
                    "# [{name}] is not configured: {} is off",
                    capitalized(&name)
                )),
                Shown::List(items) if items.is_empty() => {
                    line(&format!("# no [[{name}]]: nobody gets a tier"));
                }
                Shown::List(items) => {
                    for (i, item) in items.into_iter().enumerate() {
                        if i > 0 {
                            line("");
                        }
                        line(&format!("[[{name}]]"));
                        if let Shown::Table(keys) = item {
                            show_keys(&mut line, keys);
                        }
                    }
                }
                scalar => line(&format!("{name} = {scalar}")),
            }
        }
        out
    }
}

fn show_keys(line: &mut impl FnMut(&str), keys: Vec<(String, Shown)>) {
    for (key, value) in keys {
        line(&format!("{key} = {value}"));
    }
}

fn capitalized(name: &str) -> String {
    let mut chars = name.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// A value as the summary shows it.
#[derive(Debug, Clone, PartialEq)]
enum Shown {
    /// Numbers and true/false, as written.
    Raw(String),
    /// Text, shown as a TOML basic string.
    Text(String),
    NotSet,
    List(Vec<Shown>),
    Table(Vec<(String, Shown)>),
}

impl fmt::Display for Shown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Shown::Raw(raw) => f.write_str(raw),
            Shown::Text(text) => f.write_str(&quote(text)),
            Shown::NotSet => f.write_str(NOT_SET),
            Shown::List(items) => {
                let items: Vec<String> = items.iter().map(ToString::to_string).collect();
                write!(f, "[{}]", items.join(", "))
            }
            // A table inside a section (`[kakao.templates]`) is shown inline.
            Shown::Table(keys) => {
                let keys: Vec<String> = keys.iter().map(|(k, v)| format!("{k} = {v}")).collect();
                write!(f, "{{ {} }}", keys.join(", "))
            }
        }
    }
}

/// A TOML basic string: always `"…"`, so the summary reads the same whatever the text holds.
fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Serializes `database.url` for the summary with its password masked:
/// `postgres://user:secret@host/db?password=x` → `postgres://user:********@host/db?password=********`.
pub(super) fn mask_database_url<S: Serializer>(url: &str, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&masked_database_url(url))
}

/// A database URL with its password masked, for every error, log line and page that names it.
pub fn masked_database_url(url: &str) -> String {
    let mut masked = url.to_string();
    if let Some(scheme_end) = url.find("://") {
        let authority_start = scheme_end + 3;
        let authority_end = url[authority_start..]
            .find(['/', '?', '#'])
            .map_or(url.len(), |i| authority_start + i);
        let authority = &url[authority_start..authority_end];
        if let Some(at) = authority.rfind('@')
            && let Some(colon) = authority[..at].find(':')
        {
            masked = format!(
                "{}{}:{MASK}{}",
                &url[..authority_start],
                &authority[..colon],
                &url[authority_start + at..]
            );
        }
    }
    let Some((base, query)) = masked.split_once('?') else {
        return masked;
    };
    let query: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((key, _)) if key.to_ascii_lowercase().contains("password") => {
                format!("{key}={MASK}")
            }
            _ => pair.to_string(),
        })
        .collect();
    format!("{base}?{}", query.join("&"))
}

// ---------------------------------------------------------------------------------------------
// A serde serializer into `Shown`, keeping the fields in declaration order.

#[derive(Debug)]
struct Unshowable(String);

impl fmt::Display for Unshowable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Unshowable {}

impl ser::Error for Unshowable {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Unshowable(msg.to_string())
    }
}

struct Shower;

fn raw(value: impl fmt::Display) -> Result<Shown, Unshowable> {
    Ok(Shown::Raw(value.to_string()))
}

impl Serializer for Shower {
    type Ok = Shown;
    type Error = Unshowable;
    type SerializeSeq = Items;
    type SerializeTuple = Items;
    type SerializeTupleStruct = Items;
    type SerializeTupleVariant = Impossible<Shown, Unshowable>;
    type SerializeMap = Entries;
    type SerializeStruct = Fields;
    type SerializeStructVariant = Impossible<Shown, Unshowable>;

    fn serialize_bool(self, v: bool) -> Result<Shown, Unshowable> {
        raw(v)
    }
    fn serialize_i8(self, v: i8) -> Result<Shown, Unshowable> {
        raw(v)
    }
    fn serialize_i16(self, v: i16) -> Result<Shown, Unshowable> {
        raw(v)
    }
    fn serialize_i32(self, v: i32) -> Result<Shown, Unshowable> {
        raw(v)
    }
    fn serialize_i64(self, v: i64) -> Result<Shown, Unshowable> {
        raw(v)
    }
    fn serialize_i128(self, v: i128) -> Result<Shown, Unshowable> {
        raw(v)
    }
    fn serialize_u8(self, v: u8) -> Result<Shown, Unshowable> {
        raw(v)
    }
    fn serialize_u16(self, v: u16) -> Result<Shown, Unshowable> {
        raw(v)
    }
    fn serialize_u32(self, v: u32) -> Result<Shown, Unshowable> {
        raw(v)
    }
    fn serialize_u64(self, v: u64) -> Result<Shown, Unshowable> {
        raw(v)
    }
    fn serialize_u128(self, v: u128) -> Result<Shown, Unshowable> {
        raw(v)
    }
    fn serialize_f32(self, v: f32) -> Result<Shown, Unshowable> {
        raw(v)
    }
    fn serialize_f64(self, v: f64) -> Result<Shown, Unshowable> {
        raw(v)
    }
    fn serialize_char(self, v: char) -> Result<Shown, Unshowable> {
        Ok(Shown::Text(v.to_string()))
    }
    fn serialize_str(self, v: &str) -> Result<Shown, Unshowable> {
        Ok(Shown::Text(v.to_string()))
    }
    fn serialize_bytes(self, _: &[u8]) -> Result<Shown, Unshowable> {
        Err(Unshowable("bytes cannot be shown".to_string()))
    }
    fn serialize_none(self) -> Result<Shown, Unshowable> {
        Ok(Shown::NotSet)
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<Shown, Unshowable> {
        value.serialize(Shower)
    }
    fn serialize_unit(self) -> Result<Shown, Unshowable> {
        Ok(Shown::NotSet)
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<Shown, Unshowable> {
        Ok(Shown::NotSet)
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<Shown, Unshowable> {
        Ok(Shown::Text(variant.to_string()))
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<Shown, Unshowable> {
        value.serialize(Shower)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        value: &T,
    ) -> Result<Shown, Unshowable> {
        value.serialize(Shower)
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<Items, Unshowable> {
        Ok(Items(Vec::with_capacity(len.unwrap_or(0))))
    }
    fn serialize_tuple(self, len: usize) -> Result<Items, Unshowable> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(self, _: &'static str, len: usize) -> Result<Items, Unshowable> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        self,
        name: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, Unshowable> {
        Err(Unshowable(format!("{name} cannot be shown")))
    }
    fn serialize_map(self, len: Option<usize>) -> Result<Entries, Unshowable> {
        Ok(Entries(Vec::with_capacity(len.unwrap_or(0)), None))
    }
    fn serialize_struct(self, _: &'static str, len: usize) -> Result<Fields, Unshowable> {
        Ok(Fields(Vec::with_capacity(len)))
    }
    fn serialize_struct_variant(
        self,
        name: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, Unshowable> {
        Err(Unshowable(format!("{name} cannot be shown")))
    }
}

struct Items(Vec<Shown>);

impl ser::SerializeSeq for Items {
    type Ok = Shown;
    type Error = Unshowable;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Unshowable> {
        self.0.push(value.serialize(Shower)?);
        Ok(())
    }
    fn end(self) -> Result<Shown, Unshowable> {
        Ok(Shown::List(self.0))
    }
}

impl ser::SerializeTuple for Items {
    type Ok = Shown;
    type Error = Unshowable;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Unshowable> {
        ser::SerializeSeq::serialize_element(self, value)
    }
    fn end(self) -> Result<Shown, Unshowable> {
        ser::SerializeSeq::end(self)
    }
}

impl ser::SerializeTupleStruct for Items {
    type Ok = Shown;
    type Error = Unshowable;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Unshowable> {
        ser::SerializeSeq::serialize_element(self, value)
    }
    fn end(self) -> Result<Shown, Unshowable> {
        ser::SerializeSeq::end(self)
    }
}

struct Fields(Vec<(String, Shown)>);

impl ser::SerializeStruct for Fields {
    type Ok = Shown;
    type Error = Unshowable;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), Unshowable> {
        self.0.push((key.to_string(), value.serialize(Shower)?));
        Ok(())
    }
    fn end(self) -> Result<Shown, Unshowable> {
        Ok(Shown::Table(self.0))
    }
}

/// A map's entries (`[kakao.templates]`), shown like a table's keys; the key waiting for its
/// value is the second field.
struct Entries(Vec<(String, Shown)>, Option<String>);

impl ser::SerializeMap for Entries {
    type Ok = Shown;
    type Error = Unshowable;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Unshowable> {
        let key = match key.serialize(Shower)? {
            Shown::Text(text) | Shown::Raw(text) => text,
            other => other.to_string(),
        };
        self.1 = Some(key);
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Unshowable> {
        let key = self
            .1
            .take()
            .ok_or_else(|| Unshowable("a map value came without its key".to_string()))?;
        self.0.push((key, value.serialize(Shower)?));
        Ok(())
    }
    fn end(self) -> Result<Shown, Unshowable> {
        Ok(Shown::Table(self.0))
    }
}

#[cfg(test)]
mod tests {
    use crate::config::Config;
    use crate::config::tests::{CONTRACT_EXAMPLE, NO_ENV};

    #[test]
    fn the_masked_summary_never_shows_the_token_or_secrets() {
        let text = CONTRACT_EXAMPLE
            .replace("\"change-me\"", "\"hmac-key-do-not-print\"")
            .replace("\"change-me-too\"", "\"admin-token-do-not-print\"")
            .replace("\"123:ABC\"", "\"123:TELEGRAM-TOKEN\"")
            .replace("token = \"...\"", "token = \"DISCORD-TOKEN\"")
            .replace(
                "sqlite://encore.db?mode=rwc\"",
                "postgres://shop:db-password@db/encore?sslmode=require&password=other-password\"",
            );
        let c = Config::from_sources(&text, NO_ENV).unwrap();
        let summary = c.masked_summary();
        for secret in [
            "hmac-key-do-not-print",
            "admin-token-do-not-print",
            "TELEGRAM-TOKEN",
            "DISCORD-TOKEN",
            "db-password",
            "other-password",
        ] {
            assert!(!summary.contains(secret), "{secret} leaked:\n{summary}");
        }
        assert!(
            summary.contains("webhook_secret = \"********\""),
            "{summary}"
        );
        assert!(
            summary.contains("# platforms on: telegram, discord"),
            "{summary}"
        );
        assert!(
            summary.contains(
                "url = \"postgres://shop:********@db/encore?sslmode=require&password=********\""
            ),
            "{summary}"
        );
        assert!(
            summary.contains("quiet_hours = \"21:00-08:00\""),
            "{summary}"
        );
        assert!(summary.contains("[[tiers]]\nname = \"gold\"\nmin_orders = 6\nmin_spend = 300000"));

        let debug = format!("{c:?}");
        for secret in ["hmac-key-do-not-print", "TELEGRAM-TOKEN", "DISCORD-TOKEN"] {
            assert!(!debug.contains(secret), "{secret} leaked in Debug");
        }

        let defaults = Config::default().masked_summary();
        assert!(defaults.contains("admin_token = (not set)"), "{defaults}");
        assert!(defaults.contains("# platforms on: none"), "{defaults}");
        assert!(
            defaults.contains("# [telegram] is not configured"),
            "{defaults}"
        );
    }

    #[test]
    fn the_masked_summary_quotes_text_as_toml_basic_strings() {
        let c = Config::from_sources("[shop]\nname = \"Mina's \\\"Closet\\\" \\\\ 1\"\n", NO_ENV)
            .unwrap();
        assert_eq!(c.shop.name, "Mina's \"Closet\" \\ 1");
        assert!(
            c.masked_summary()
                .contains("name = \"Mina's \\\"Closet\\\" \\\\ 1\"\n"),
            "{}",
            c.masked_summary()
        );
    }
}
