//! Checks that can only be judged once every source has been applied and read: a configured
//! platform has a token (KakaoTalk: its key, secret, channel and sender, and templates for notes
//! encore sends), Telegram's webhook mode has its URL, no limit is raised above the
//! platform's published one, and tiers are listed lowest to highest with names that differ.
//! Also the secrets `encore serve` refuses (`Config::unsafe_secrets`): other commands and the
//! demo run without them.
//!
//! Rules about one value on its own are on the field (`rules.rs`); this module never changes a
//! value, it only refuses a configuration, naming the key or variable to fix.

use secrecy::{ExposeSecret, SecretString};

use super::env::EnvKeys;
use super::error::ConfigError;
use super::platforms::PAID_BROADCAST_PER_SECOND;
use super::{Config, KakaoConfig, LimitsConfig, TierConfig};
use crate::domain::alimtalk::TEMPLATE_NAMES;

pub(super) fn check(config: &Config, env: &EnvKeys) -> Result<(), ConfigError> {
    let paid_broadcast = config.telegram.as_ref().is_some_and(|t| t.paid_broadcast);
    check_limits(&config.limits, paid_broadcast, env)?;
    if config.telegram.as_ref().is_some_and(|t| is_blank(&t.token)) {
        return Err(ConfigError::MissingToken {
            section: "telegram",
            var: "ENCORE_TELEGRAM_TOKEN",
        });
    }
    if config.discord.as_ref().is_some_and(|d| is_blank(&d.token)) {
        return Err(ConfigError::MissingToken {
            section: "discord",
            var: "ENCORE_DISCORD_TOKEN",
        });
    }
    if config
        .telegram
        .as_ref()
        .is_some_and(|t| t.webhook_mode() && t.webhook_url.is_none())
    {
        return Err(ConfigError::Invalid {
            origin: env.origin("telegram.webhook_url"),
            reason: "is required when telegram.mode is \"webhook\": the public https:// URL of this service's POST /telegram/webhook, which Telegram posts updates to".to_string(),
        });
    }
    if let Some(kakao) = &config.kakao {
        check_kakao(kakao, env)?;
    }
    check_tiers(&config.tiers)
}

/// A configured `[kakao]` names its account, channel and sender, and its templates name notes
/// encore sends by 알림톡.
fn check_kakao(kakao: &KakaoConfig, env: &EnvKeys) -> Result<(), ConfigError> {
    let required = [
        (
            "api_key",
            kakao.api_key.trim().is_empty(),
            "the API key from the SOLAPI console (API Key 관리)",
        ),
        (
            "api_secret",
            is_blank(&kakao.api_secret),
            "the API secret shown with the key in the SOLAPI console",
        ),
        (
            "pf_id",
            kakao.pf_id.trim().is_empty(),
            "the shop's Kakao channel id (발신 프로필, KA01PF…) as SOLAPI lists it",
        ),
        (
            "sender",
            kakao.sender.is_empty(),
            "the shop's sender number registered at SOLAPI (발신번호), digits only",
        ),
    ];
    for (key, missing, what) in required {
        if missing {
            return Err(ConfigError::Invalid {
                origin: env.origin(&format!("kakao.{key}")),
                reason: format!(
                    "is required when [kakao] is configured: {what} (set it in the file or with ENCORE_KAKAO_{})",
                    key.to_ascii_uppercase()
                ),
            });
        }
    }
    for (name, template_id) in &kakao.templates {
        let origin = super::Origin::File(format!("kakao.templates.{name}"));
        if !TEMPLATE_NAMES.contains(&name.as_str()) {
            return Err(ConfigError::Invalid {
                origin,
                reason: format!(
                    "`{name}` is not a note encore sends by 알림톡; use one of: {}",
                    TEMPLATE_NAMES.join(", ")
                ),
            });
        }
        if template_id.trim().is_empty() {
            return Err(ConfigError::Invalid {
                origin,
                reason: "must be the approved template's id (KA01TP…), not empty".to_string(),
            });
        }
    }
    Ok(())
}

pub(super) fn is_blank(secret: &SecretString) -> bool {
    secret.expose_secret().trim().is_empty()
}

/// The shortest HTTP secret `encore serve` starts with (CONTRACT §2).
pub const MIN_SECRET_CHARS: usize = 16;
/// The values CONTRACT's example uses; a host who copied it has not chosen a secret yet.
const EXAMPLE_SECRETS: [&str; 3] = ["change-me", "change-me-too", "..."];
/// Telegram's own bounds on a webhook's `secret_token` (`setWebhook`).
const MAX_TELEGRAM_SECRET_CHARS: usize = 256;

impl Config {
    /// The secrets `encore serve` refuses to start with: the HTTP secrets and, in Telegram's
    /// webhook mode, `telegram.webhook_secret_token` — empty, shorter than
    /// [`MIN_SECRET_CHARS`], or one of CONTRACT's examples; the Telegram token also when
    /// Telegram would refuse it (only `A-Za-z0-9_-`, at most 256). Each error names the key and
    /// the variable, never the value. `config check` shows the same lines as warnings; the demo
    /// and the tests build their configuration without going through `serve`, so they run.
    pub fn unsafe_secrets(&self) -> Vec<ConfigError> {
        let mut secrets = vec![
            (
                "http.webhook_secret",
                "ENCORE_HTTP_WEBHOOK_SECRET",
                &self.http.webhook_secret,
            ),
            (
                "http.admin_token",
                "ENCORE_HTTP_ADMIN_TOKEN",
                &self.http.admin_token,
            ),
        ];
        let webhook = self.telegram.as_ref().filter(|t| t.webhook_mode());
        if let Some(telegram) = webhook {
            secrets.push((
                TELEGRAM_SECRET_KEY,
                "ENCORE_TELEGRAM_WEBHOOK_SECRET_TOKEN",
                &telegram.webhook_secret_token,
            ));
        }
        let mut problems = Vec::new();
        for (key, var, secret) in secrets {
            let value = secret.expose_secret();
            let problem = if value.trim().is_empty() {
                "is not set"
            } else if EXAMPLE_SECRETS.contains(&value) {
                "is still the example value from the documentation"
            } else if value.chars().count() < MIN_SECRET_CHARS {
                "is shorter than 16 characters"
            } else if key == TELEGRAM_SECRET_KEY && !telegram_accepts(value) {
                "has characters or a length Telegram refuses (only A-Z, a-z, 0-9, _ and -, at most 256)"
            } else {
                continue;
            };
            problems.push(ConfigError::UnsafeSecret { key, var, problem });
        }
        problems
    }
}

const TELEGRAM_SECRET_KEY: &str = "telegram.webhook_secret_token";

/// What `setWebhook` takes as a `secret_token`: 1–256 characters of `A-Za-z0-9_-`.
fn telegram_accepts(token: &str) -> bool {
    (1..=MAX_TELEGRAM_SECRET_CHARS).contains(&token.len())
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// Every `[limits]` key's default is the platform's published limit; the platform is the key's
/// first word (`telegram_per_second` → Telegram). Walked through serde so that a new limit is
/// checked without being named here. With `telegram.paid_broadcast` Telegram publishes 1000 a
/// second for the bot (per-chat limits stay), so that is the bound of `telegram_per_second`.
fn check_limits(
    limits: &LimitsConfig,
    paid_broadcast: bool,
    env: &EnvKeys,
) -> Result<(), ConfigError> {
    let (Ok(serde_json::Value::Object(values)), Ok(serde_json::Value::Object(published))) = (
        serde_json::to_value(limits),
        serde_json::to_value(LimitsConfig::default()),
    ) else {
        return Ok(());
    };
    for (key, value) in &values {
        let (Some(value), Some(published)) = (
            value.as_u64(),
            published
                .get(key)
                .and_then(serde_json::Value::as_u64)
                .and_then(|max| u32::try_from(max).ok()),
        ) else {
            continue;
        };
        let paid_key = key == "telegram_per_second";
        let (max, note) = match (paid_key, paid_broadcast) {
            (true, true) => (PAID_BROADCAST_PER_SECOND, " with paid broadcasts"),
            (true, false) => (
                published,
                " (up to 1000 with telegram.paid_broadcast = true: Telegram's paid broadcasts, \
                 billed in Stars for the messages above its free limit)",
            ),
            (false, _) => (published, ""),
        };
        if value > u64::from(max) {
            return Err(ConfigError::LimitTooHigh {
                origin: env.origin(&format!("limits.{key}")),
                value: i128::from(value),
                max,
                platform: platform_of(key),
                note,
            });
        }
    }
    Ok(())
}

fn platform_of(limit_key: &str) -> &'static str {
    match limit_key.split('_').next() {
        Some("telegram") => "Telegram",
        Some("discord") => "Discord",
        _ => "the platform",
    }
}

fn check_tiers(tiers: &[TierConfig]) -> Result<(), ConfigError> {
    let invalid = |key: String, reason: String| ConfigError::Invalid {
        origin: super::Origin::File(key),
        reason,
    };
    for (i, tier) in tiers.iter().enumerate() {
        if let Some(j) = tiers[..i]
            .iter()
            .position(|earlier| earlier.name.eq_ignore_ascii_case(&tier.name))
        {
            return Err(invalid(
                format!("tiers[{i}].name"),
                format!("`{}` is already the name of tiers[{j}]", tier.name),
            ));
        }
        let Some(previous) = i.checked_sub(1).and_then(|j| tiers.get(j)) else {
            continue;
        };
        let lower = |key: &str, this: i64, before: i64| {
            invalid(
                format!("tiers[{i}].{key}"),
                format!(
                    "{this} is lower than {before} for the tier before it (`{}`); list tiers lowest to highest",
                    previous.name
                ),
            )
        };
        if tier.min_orders < previous.min_orders {
            return Err(lower(
                "min_orders",
                i64::from(tier.min_orders),
                i64::from(previous.min_orders),
            ));
        }
        if tier.min_spend < previous.min_spend {
            return Err(lower("min_spend", tier.min_spend, previous.min_spend));
        }
    }
    Ok(())
}
