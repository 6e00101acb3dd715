//! The configuration as one tree before it is typed: the file's TOML values with the environment's
//! texts laid over them, and the serde deserializer that reads that tree into the section structs.
//!
//! This module owns how a value is read whatever field it lands in: a whole number, true/false, a
//! list (a TOML array, or comma-separated text from the environment), "not set" (empty text), and
//! text (trimmed, except for a secret, which is used byte for byte). It never decides whether a
//! value is allowed beyond its type (`rules.rs` and `checks.rs` do), and it never echoes a value it
//! cannot read: the value may be a secret.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{
    self, DeserializeSeed, Deserializer, IntoDeserializer, MapAccess, SeqAccess, Unexpected,
    Visitor,
};

/// The name a `Deserialize` impl passes to `deserialize_newtype_struct` to get text exactly as
/// given rather than trimmed (secrets: the shop signs with the same bytes).
pub(super) const EXACT_TEXT: &str = "encore::config::ExactText";

/// One value of the layered configuration.
#[derive(Debug, Clone)]
pub(super) enum Node {
    /// A scalar as the file wrote it.
    File(toml::Value),
    /// An environment variable's text; it is read as whatever the field asks for.
    Env(String),
    Table(BTreeMap<String, Node>),
    Array(Vec<Node>),
}

impl From<toml::Value> for Node {
    fn from(value: toml::Value) -> Self {
        match value {
            toml::Value::Table(table) => Node::from(table),
            toml::Value::Array(items) => Node::Array(items.into_iter().map(Node::from).collect()),
            scalar => Node::File(scalar),
        }
    }
}

impl From<toml::Table> for Node {
    fn from(table: toml::Table) -> Self {
        Node::Table(table.into_iter().map(|(k, v)| (k, Node::from(v))).collect())
    }
}

impl Node {
    /// The value's kind in words; the value itself is not echoed, as it may be a secret.
    fn describe(&self) -> &'static str {
        match self {
            Node::File(toml::Value::String(_)) | Node::Env(_) => "text",
            Node::File(toml::Value::Integer(_)) => "a whole number",
            Node::File(toml::Value::Float(_)) => "a decimal number",
            Node::File(toml::Value::Boolean(_)) => "true/false",
            Node::File(toml::Value::Datetime(_)) => "a date",
            Node::File(toml::Value::Array(_)) | Node::Array(_) => "a list",
            Node::File(toml::Value::Table(_)) | Node::Table(_) => "a table",
        }
    }

    fn expected(&self, what: &str) -> ValueError {
        ValueError::Invalid(format!("expected {what}, found {}", self.describe()))
    }

    fn text(self, exact: bool) -> Result<String, ValueError> {
        match self {
            Node::File(toml::Value::String(s)) | Node::Env(s) => {
                Ok(if exact { s } else { s.trim().to_string() })
            }
            other => Err(other.expected("text in quotes")),
        }
    }

    fn whole(self) -> Result<i128, ValueError> {
        match self {
            Node::File(toml::Value::Integer(n)) => Ok(i128::from(n)),
            Node::Env(s) => parse_whole(&s).map_err(ValueError::Invalid),
            other => Err(other.expected("a whole number")),
        }
    }

    fn flag(self) -> Result<bool, ValueError> {
        match self {
            Node::File(toml::Value::Boolean(b)) => Ok(b),
            Node::Env(s) => match s.trim().to_ascii_lowercase().as_str() {
                "true" | "1" => Ok(true),
                "false" | "0" => Ok(false),
                _ => Err(ValueError::Invalid(format!(
                    "`{}` is not true or false (use true, false, 1 or 0)",
                    s.trim()
                ))),
            },
            other => Err(other.expected("true or false")),
        }
    }

    /// Empty text means "not set", from either source.
    fn is_blank(&self) -> bool {
        matches!(self, Node::File(toml::Value::String(s)) | Node::Env(s) if s.trim().is_empty())
    }
}

/// A whole number written as text (the environment, or a Discord id in quotes).
pub(super) fn parse_whole(s: &str) -> Result<i128, String> {
    let s = s.trim();
    s.parse::<i128>()
        .map_err(|_| format!("`{s}` is not a whole number"))
}

/// A whole number in range for `T`, with the messages a host reads for a count.
pub(super) fn in_range<T: TryFrom<i128>>(n: i128, min: i128) -> Result<T, String> {
    if n < min {
        return Err(format!("must be at least {min}, not {n}"));
    }
    T::try_from(n).map_err(|_| format!("{n} is too large"))
}

/// What is wrong with one value; the caller adds where it came from (`error.rs`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum ValueError {
    Invalid(String),
    UnknownKey {
        key: String,
        known: &'static [&'static str],
    },
    MissingKey(&'static str),
    ExpectedTable {
        found: &'static str,
    },
    ExpectedList {
        found: &'static str,
    },
}

impl fmt::Display for ValueError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ValueError::Invalid(reason) => f.write_str(reason),
            ValueError::UnknownKey { key, .. } => write!(f, "unknown key `{key}`"),
            ValueError::MissingKey(key) => write!(f, "`{key}` is missing"),
            ValueError::ExpectedTable { found } => write!(f, "expected a table, found {found}"),
            ValueError::ExpectedList { found } => write!(f, "expected a list, found {found}"),
        }
    }
}

impl std::error::Error for ValueError {}

impl de::Error for ValueError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        ValueError::Invalid(msg.to_string())
    }

    fn unknown_field(field: &str, expected: &'static [&'static str]) -> Self {
        ValueError::UnknownKey {
            key: field.to_string(),
            known: expected,
        }
    }

    fn missing_field(field: &'static str) -> Self {
        ValueError::MissingKey(field)
    }

    /// In the words the rest of the configuration uses ("expected a whole number, found text").
    fn invalid_type(unexpected: Unexpected<'_>, expected: &dyn de::Expected) -> Self {
        let found = match unexpected {
            Unexpected::Bool(_) => "true/false",
            Unexpected::Unsigned(_) | Unexpected::Signed(_) => "a whole number",
            Unexpected::Float(_) => "a decimal number",
            Unexpected::Seq => "a list",
            Unexpected::Map => "a table",
            _ => "text",
        };
        ValueError::Invalid(format!("expected {expected}, found {found}"))
    }
}

macro_rules! whole_number {
    ($($method:ident => $visit:ident: $t:ty),* $(,)?) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
            let n: $t = in_range(self.whole()?, i128::from(<$t>::MIN)).map_err(ValueError::Invalid)?;
            visitor.$visit(n)
        }
    )*};
}

impl<'de> Deserializer<'de> for Node {
    type Error = ValueError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
        match self {
            Node::File(toml::Value::String(s)) | Node::Env(s) => visitor.visit_string(s),
            Node::File(toml::Value::Integer(n)) => visitor.visit_i64(n),
            Node::File(toml::Value::Float(x)) => visitor.visit_f64(x),
            Node::File(toml::Value::Boolean(b)) => visitor.visit_bool(b),
            Node::File(toml::Value::Datetime(d)) => visitor.visit_string(d.to_string()),
            Node::File(value @ (toml::Value::Array(_) | toml::Value::Table(_))) => {
                Node::from(value).deserialize_any(visitor)
            }
            Node::Table(_) => self.deserialize_map(visitor),
            Node::Array(_) => self.deserialize_seq(visitor),
        }
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
        visitor.visit_bool(self.flag()?)
    }

    whole_number! {
        deserialize_i8 => visit_i8: i8,
        deserialize_i16 => visit_i16: i16,
        deserialize_i32 => visit_i32: i32,
        deserialize_i64 => visit_i64: i64,
        deserialize_i128 => visit_i128: i128,
        deserialize_u8 => visit_u8: u8,
        deserialize_u16 => visit_u16: u16,
        deserialize_u32 => visit_u32: u32,
        deserialize_u64 => visit_u64: u64,
    }

    fn deserialize_u128<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
        let n: u128 = in_range(self.whole()?, 0).map_err(ValueError::Invalid)?;
        visitor.visit_u128(n)
    }

    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
        match self {
            Node::File(toml::Value::Float(x)) => visitor.visit_f64(x),
            Node::File(toml::Value::Integer(n)) => visitor.visit_i64(n),
            Node::Env(s) => match s.trim().parse::<f64>() {
                Ok(x) => visitor.visit_f64(x),
                Err(_) => Err(ValueError::Invalid(format!(
                    "`{}` is not a number",
                    s.trim()
                ))),
            },
            other => Err(other.expected("a number")),
        }
    }

    fn deserialize_f32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
        self.deserialize_f64(visitor)
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
        visitor.visit_string(self.text(false)?)
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_char<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
        if self.is_blank() {
            visitor.visit_none()
        } else {
            visitor.visit_some(self)
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, ValueError> {
        if name == EXACT_TEXT {
            visitor.visit_string(self.text(true)?)
        } else {
            visitor.visit_newtype_struct(self)
        }
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
        let items: Vec<Node> = match self {
            Node::Array(items) => items,
            Node::File(toml::Value::Array(items)) => items.into_iter().map(Node::from).collect(),
            // Comma-separated; empty items are skipped, so "" is an empty list.
            Node::Env(s) => s
                .split(',')
                .map(str::trim)
                .filter(|item| !item.is_empty())
                .map(|item| Node::Env(item.to_string()))
                .collect(),
            other => {
                return Err(ValueError::ExpectedList {
                    found: other.describe(),
                });
            }
        };
        visitor.visit_seq(Items(items.into_iter()))
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, ValueError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
        match self {
            Node::Table(entries) => visitor.visit_map(Entries {
                entries: entries.into_iter(),
                value: None,
            }),
            Node::File(table @ toml::Value::Table(_)) => Node::from(table).deserialize_map(visitor),
            other => Err(ValueError::ExpectedTable {
                found: other.describe(),
            }),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, ValueError> {
        self.deserialize_map(visitor)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, ValueError> {
        visitor.visit_enum(self.text(false)?.into_deserializer())
    }

    serde::forward_to_deserialize_any! {
        bytes byte_buf unit unit_struct tuple_struct ignored_any
    }
}

struct Items(std::vec::IntoIter<Node>);

impl<'de> SeqAccess<'de> for Items {
    type Error = ValueError;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, ValueError> {
        self.0.next().map(|item| seed.deserialize(item)).transpose()
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.0.len())
    }
}

struct Entries {
    entries: std::collections::btree_map::IntoIter<String, Node>,
    value: Option<Node>,
}

impl<'de> MapAccess<'de> for Entries {
    type Error = ValueError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, ValueError> {
        let Some((key, value)) = self.entries.next() else {
            return Ok(None);
        };
        self.value = Some(value);
        seed.deserialize(key.into_deserializer()).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, ValueError> {
        match self.value.take() {
            Some(value) => seed.deserialize(value),
            None => Err(ValueError::Invalid("a value was read twice".to_string())),
        }
    }
}

/// The field names of a struct as serde reads them, in declaration order (the sections of
/// `Config`, so the environment overlay knows them without a second list).
pub(super) fn field_names<'de, T: de::Deserialize<'de>>() -> &'static [&'static str] {
    struct Probe;
    #[derive(Debug)]
    struct Fields(&'static [&'static str]);
    impl fmt::Display for Fields {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "{:?}", self.0)
        }
    }
    impl std::error::Error for Fields {}
    impl de::Error for Fields {
        fn custom<M: fmt::Display>(_: M) -> Self {
            Fields(&[])
        }
    }
    impl<'de> Deserializer<'de> for Probe {
        type Error = Fields;
        fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Fields> {
            Err(Fields(&[]))
        }
        fn deserialize_struct<V: Visitor<'de>>(
            self,
            _: &'static str,
            fields: &'static [&'static str],
            _: V,
        ) -> Result<V::Value, Fields> {
            Err(Fields(fields))
        }
        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
            option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
            ignored_any
        }
    }
    match T::deserialize(Probe) {
        Err(Fields(fields)) => fields,
        Ok(_) => &[],
    }
}
