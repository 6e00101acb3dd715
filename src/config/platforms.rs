//! The platform sections: `[telegram]`, `[discord]`, `[kakao]` (each optional: absent means that
//! platform is off) and `[limits]`, the platforms' published rate limits, with their defaults.
//!
//! A key is one field here. That a configured platform has a token (KakaoTalk: its key, secret,
//! channel and sender), that webhook mode has its URL, that `[kakao.templates]` names only notes
//! encore sends, and that a limit is never raised above its default are checked in `checks.rs`.

use secrecy::SecretString;
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::rules::{self, AtLeast, ChatId, HttpUrl, SenderNumber, Snowflake, TelegramUserId};

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct TelegramConfig {
    /// Never empty once loaded: a configured `[telegram]` needs a token.
    #[serde(with = "rules::secret")]
    pub token: SecretString,
    /// Without a trailing `/`.
    #[serde(deserialize_with = "rules::one::<HttpUrl, _>")]
    pub api_url: String,
    #[serde(deserialize_with = "rules::optional::<ChatId, _>")]
    pub staff_chat_id: Option<i64>,
    #[serde(deserialize_with = "rules::list::<TelegramUserId, _>")]
    pub staff_user_ids: Vec<i64>,
    #[serde(deserialize_with = "rules::list::<ChatId, _>")]
    pub community_chat_ids: Vec<i64>,
    #[serde(deserialize_with = "rules::optional::<ChatId, _>")]
    pub vip_chat_id: Option<i64>,
    /// How updates arrive: `getUpdates` long polling, or Telegram posting them to
    /// `POST /telegram/webhook` on any process (CONTRACT §2, §10).
    pub mode: TelegramMode,
    /// The public URL given to `setWebhook`; required in webhook mode (`checks.rs`).
    #[serde(deserialize_with = "rules::optional::<HttpUrl, _>")]
    pub webhook_url: Option<String>,
    /// Checked on `X-Telegram-Bot-Api-Secret-Token`; `serve` refuses a weak one in webhook mode
    /// (`Config::unsafe_secrets`).
    #[serde(with = "rules::secret")]
    pub webhook_secret_token: SecretString,
    /// Telegram's paid broadcasts (Bot API 7.11): every message is sent with
    /// `allow_paid_broadcast`, so `limits.telegram_per_second` may be raised up to
    /// [`PAID_BROADCAST_PER_SECOND`]. Telegram bills Stars for the sends above its free limit.
    pub paid_broadcast: bool,
}

/// Telegram's published limit for a bot sending with `allow_paid_broadcast` (messages a second).
pub const PAID_BROADCAST_PER_SECOND: u32 = 1000;

/// `telegram.mode`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TelegramMode {
    /// `getUpdates` long polling (the default): no public URL needed.
    #[default]
    Polling,
    /// Telegram posts each update to `webhook_url`; any process stores it, the one handling
    /// updates takes it from the store.
    Webhook,
}

impl TelegramConfig {
    /// Whether updates come by webhook rather than by polling.
    pub fn webhook_mode(&self) -> bool {
        self.mode == TelegramMode::Webhook
    }
}

impl Default for TelegramConfig {
    /// Everything but the token, which has no default.
    fn default() -> Self {
        TelegramConfig {
            token: SecretString::default(),
            api_url: "https://api.telegram.org".to_string(),
            staff_chat_id: None,
            staff_user_ids: Vec::new(),
            community_chat_ids: Vec::new(),
            vip_chat_id: None,
            mode: TelegramMode::Polling,
            webhook_url: None,
            webhook_secret_token: SecretString::default(),
            paid_broadcast: false,
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct DiscordConfig {
    /// Never empty once loaded: a configured `[discord]` needs a token.
    #[serde(with = "rules::secret")]
    pub token: SecretString,
    /// Without a trailing `/`.
    #[serde(deserialize_with = "rules::one::<HttpUrl, _>")]
    pub api_url: String,
    #[serde(deserialize_with = "rules::optional::<Snowflake, _>")]
    pub guild_id: Option<u64>,
    #[serde(deserialize_with = "rules::optional::<Snowflake, _>")]
    pub staff_channel_id: Option<u64>,
    #[serde(deserialize_with = "rules::list::<Snowflake, _>")]
    pub staff_user_ids: Vec<u64>,
    #[serde(deserialize_with = "rules::list::<Snowflake, _>")]
    pub community_channel_ids: Vec<u64>,
    #[serde(deserialize_with = "rules::optional::<Snowflake, _>")]
    pub vip_channel_id: Option<u64>,
    #[serde(deserialize_with = "rules::optional::<Snowflake, _>")]
    pub vip_role_id: Option<u64>,
}

impl Default for DiscordConfig {
    /// Everything but the token, which has no default.
    fn default() -> Self {
        DiscordConfig {
            token: SecretString::default(),
            api_url: "https://discord.com".to_string(),
            guild_id: None,
            staff_channel_id: None,
            staff_user_ids: Vec::new(),
            community_channel_ids: Vec::new(),
            vip_channel_id: None,
            vip_role_id: None,
        }
    }
}

/// `[kakao]` (CONTRACT §2, §11): KakaoTalk 알림톡 through a dealer's public REST API.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct KakaoConfig {
    pub provider: KakaoProvider,
    /// Without a trailing `/`.
    #[serde(deserialize_with = "rules::one::<HttpUrl, _>")]
    pub api_url: String,
    /// The dealer's API key (it names the account; the secret proves it).
    pub api_key: String,
    #[serde(with = "rules::secret")]
    pub api_secret: SecretString,
    /// The shop's Kakao channel, its 발신 프로필 (`pfId`).
    pub pf_id: String,
    /// The shop's registered sender number, each message's `from`.
    #[serde(deserialize_with = "rules::one::<SenderNumber, _>")]
    pub sender: String,
    /// encore's note (`thank-you`, `order-delayed`, …) → the approved 알림톡 template's id. A
    /// note without one is not sent by KakaoTalk (and is counted as `no_template`).
    pub templates: BTreeMap<String, String>,
}

/// `kakao.provider`: the dealer encore speaks to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum KakaoProvider {
    /// SOLAPI (solapi.com): HMAC-SHA256 signed, `POST /messages/v4/send-many/detail`.
    #[default]
    Solapi,
}

impl Default for KakaoConfig {
    /// Everything but the account's own values, which have no default.
    fn default() -> Self {
        KakaoConfig {
            provider: KakaoProvider::Solapi,
            api_url: "https://api.solapi.com".to_string(),
            api_key: String::new(),
            api_secret: SecretString::default(),
            pf_id: String::new(),
            sender: String::new(),
            templates: BTreeMap::new(),
        }
    }
}

/// The platforms' published limits: the defaults are the published values, and each may be
/// lowered, never raised above its default (`checks.rs`). A key's platform is its first word.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct LimitsConfig {
    #[serde(deserialize_with = "rules::one::<AtLeast<u32, 1>, _>")]
    pub telegram_per_second: u32,
    #[serde(deserialize_with = "rules::one::<AtLeast<u32, 1>, _>")]
    pub telegram_per_chat_per_second: u32,
    #[serde(deserialize_with = "rules::one::<AtLeast<u32, 1>, _>")]
    pub telegram_per_group_per_minute: u32,
    #[serde(deserialize_with = "rules::one::<AtLeast<u32, 1>, _>")]
    pub discord_per_second: u32,
    #[serde(deserialize_with = "rules::one::<AtLeast<u32, 1>, _>")]
    pub discord_dm_opens_per_minute: u32,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        LimitsConfig {
            telegram_per_second: 30,
            telegram_per_chat_per_second: 1,
            telegram_per_group_per_minute: 20,
            discord_per_second: 50,
            discord_dm_opens_per_minute: 10,
        }
    }
}
