//! The sections about the shop and the process itself: `[database]`, `[cluster]`, `[http]`,
//! `[shop]`, `[scheduler]`, `[faq]` and `[retention]`, with their defaults.
//!
//! A key is one field here: serde reads it from the file and the environment, the summary shows
//! it. A field's rule, if it needs one beyond its type, is named on the field (`rules.rs`).

use chrono_tz::Tz;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use super::rules::{self, DatabaseUrl, HttpUrl, Language, ListenAddress, NonEmpty};
use super::summary::mask_database_url;
use crate::domain::lang::Lang;

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct DatabaseConfig {
    /// `sqlite:…` or `postgres://…`.
    #[serde(
        deserialize_with = "rules::one::<DatabaseUrl, _>",
        serialize_with = "mask_database_url"
    )]
    pub url: String,
    /// The most connections the pool opens (PostgreSQL: each `serve` holds up to this many of
    /// the server's `max_connections`); at least 1.
    #[serde(deserialize_with = "rules::one::<rules::AtLeast<u32, 1>, _>")]
    pub max_connections: u32,
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        DatabaseConfig {
            url: "sqlite://encore.db?mode=rwc".to_string(),
            max_connections: 10,
        }
    }
}

impl DatabaseConfig {
    /// Whether several `serve` processes may share this database (CONTRACT §10): a PostgreSQL
    /// URL. On SQLite one `serve` runs alone.
    pub fn is_postgres(&self) -> bool {
        crate::store::Backend::of_url(&self.url).is_ok_and(crate::store::Backend::is_postgres)
    }
}

/// `[cluster]` (CONTRACT §2, §10): the leader lease several `serve` processes on one PostgreSQL
/// share. On SQLite the same lease keeps a second `serve` out.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClusterConfig {
    /// How long the lease lasts without renewal: a standby takes over within this after the
    /// leader dies. 3 to 300 seconds (it is renewed five times within it).
    #[serde(deserialize_with = "rules::one::<rules::Between<u64, 3, 300>, _>")]
    pub lease_seconds: u64,
}

impl Default for ClusterConfig {
    fn default() -> Self {
        ClusterConfig { lease_seconds: 10 }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct HttpConfig {
    /// `host:port` the HTTP API binds to.
    #[serde(deserialize_with = "rules::one::<ListenAddress, _>")]
    pub listen: String,
    /// HMAC-SHA256 key for `POST /v1/events` and outbound webhooks. Empty when not set.
    #[serde(with = "rules::secret")]
    pub webhook_secret: SecretString,
    /// Bearer token for the admin endpoints. Empty when not set.
    #[serde(with = "rules::secret")]
    pub admin_token: SecretString,
    /// A request not answered within this many seconds (a client sending its body slowly
    /// included) is cut off with 408 (CONTRACT §3: 30 s); at least 1.
    #[serde(deserialize_with = "rules::one::<rules::AtLeast<u64, 1>, _>")]
    pub request_timeout_seconds: u64,
    /// Requests served at once; one more is answered 503 at once rather than queued; at least 1.
    #[serde(deserialize_with = "rules::one::<rules::AtLeast<usize, 1>, _>")]
    pub max_concurrent_requests: usize,
    /// The host's dashboard at `/dashboard` (CONTRACT §7); false: those paths answer 404.
    pub dashboard: bool,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            listen: "127.0.0.1:8080".to_string(),
            webhook_secret: SecretString::default(),
            admin_token: SecretString::default(),
            request_timeout_seconds: 30,
            max_concurrent_requests: 256,
            dashboard: true,
        }
    }
}

/// `[retention]` (CONTRACT §2): how long texts and payloads are kept. The counts reports need
/// are kept for good; `encore prune` and a daily pass in `serve` apply it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct RetentionConfig {
    /// Days after which the texts and payloads of finished messages are scrubbed (0: at once).
    pub message_days: u32,
    /// Days after which stored event payloads (of applied or expired events) are scrubbed.
    pub event_days: u32,
    /// Days after which processed platform update ids are forgotten.
    pub update_days: u32,
}

impl Default for RetentionConfig {
    fn default() -> Self {
        RetentionConfig {
            message_days: 90,
            event_days: 90,
            update_days: 7,
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct ShopConfig {
    /// Advertising must name the shop, so it cannot be blank.
    #[serde(deserialize_with = "rules::one::<NonEmpty, _>")]
    pub name: String,
    #[serde(with = "rules::time_zone")]
    pub timezone: Tz,
    #[serde(deserialize_with = "rules::one::<Language, _>")]
    pub default_locale: Lang,
    /// Three capital letters (ISO 4217), e.g. `KRW`.
    #[serde(deserialize_with = "rules::one::<rules::Currency, _>")]
    pub currency: String,
    /// Shown in advertising messages; may be empty.
    pub contact: String,
    /// Where encore POSTs its own events; `None` when empty.
    #[serde(deserialize_with = "rules::optional::<HttpUrl, _>")]
    pub webhook_url: Option<String>,
}

impl Default for ShopConfig {
    fn default() -> Self {
        ShopConfig {
            name: "My Shop".to_string(),
            timezone: Tz::Asia__Seoul,
            default_locale: Lang::Ko,
            currency: "KRW".to_string(),
            contact: String::new(),
            webhook_url: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct SchedulerConfig {
    /// How often due journeys, held messages and timers are checked; at least 1.
    #[serde(deserialize_with = "rules::one::<rules::AtLeast<u64, 1>, _>")]
    pub tick_seconds: u64,
}

impl Default for SchedulerConfig {
    fn default() -> Self {
        SchedulerConfig { tick_seconds: 30 }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct FaqConfig {
    /// The FAQ file (§8); a missing file means no FAQ answers.
    #[serde(deserialize_with = "rules::one::<NonEmpty, _>")]
    pub path: String,
}

impl Default for FaqConfig {
    fn default() -> Self {
        FaqConfig {
            path: "faq.toml".to_string(),
        }
    }
}
