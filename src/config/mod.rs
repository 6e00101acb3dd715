//! Configuration (contract §2): `encore.toml`, the `ENCORE_<SECTION>_<KEY>` environment variables
//! and the built-in defaults.
//!
//! This module owns every setting's name, type, default and allowed range, the order in which the
//! sources win (defaults, then the file, then the environment), the errors a host sees for an
//! unknown or bad setting, the warnings worth showing, and the masked view that
//! `encore config check` prints. Nothing else reads the file or the `ENCORE_*` variables.
//!
//! How a load goes: the file is parsed into a TOML table; the environment is laid over it
//! (`env.rs`); the whole is read by serde into the section structs (`sections.rs`,
//! `platforms.rs`, `policy.rs`) through one deserializer that reads the file's values and the
//! environment's texts by the same rules (`layered.rs`), with per-key rules named on the fields
//! (`rules.rs`); then the checks across keys run (`checks.rs`). Errors name the dotted key or the
//! variable (`error.rs`). The summary (`summary.rs`) is derived from the same serde shape.
//!
//! A new key is one field in its section struct (and its default in that struct's `Default`):
//! it is then read from the file and the environment, checked by its type, and shown by
//! `config check` — masked when it is a secret (`#[serde(with = "rules::secret")]`).

mod checks;
mod env;
mod error;
mod layered;
mod platforms;
mod policy;
mod rules;
mod sections;
mod summary;
mod time_range;
mod warnings;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

pub use checks::MIN_SECRET_CHARS;
pub use error::{ConfigError, Origin};
pub use platforms::{
    DiscordConfig, KakaoConfig, KakaoProvider, LimitsConfig, TelegramConfig, TelegramMode,
};
pub use policy::{JourneysConfig, ModerationConfig, PolicyConfig, TierConfig};
pub use sections::{
    ClusterConfig, DatabaseConfig, FaqConfig, HttpConfig, RetentionConfig, SchedulerConfig,
    ShopConfig,
};
pub use summary::masked_database_url;
pub use time_range::TimeRange;

use layered::Node;

/// The file `Config::load(None)` reads from the current directory when it exists.
pub const DEFAULT_FILE: &str = "encore.toml";

/// Every setting, after defaults, the file and the environment have been applied and checked.
/// Serializing it shows secrets masked; it is meant for the summary only.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub database: DatabaseConfig,
    pub cluster: ClusterConfig,
    pub http: HttpConfig,
    pub shop: ShopConfig,
    /// `None`: Telegram is off. A `[telegram]` section, even empty, turns it on.
    pub telegram: Option<TelegramConfig>,
    /// `None`: Discord is off.
    pub discord: Option<DiscordConfig>,
    /// `None`: KakaoTalk 알림톡 is off.
    pub kakao: Option<KakaoConfig>,
    pub limits: LimitsConfig,
    pub policy: PolicyConfig,
    pub journeys: JourneysConfig,
    pub moderation: ModerationConfig,
    pub scheduler: SchedulerConfig,
    pub faq: FaqConfig,
    pub retention: RetentionConfig,
    /// Lowest to highest; a customer gets the highest tier whose thresholds are all met.
    pub tiers: Vec<TierConfig>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            database: DatabaseConfig::default(),
            cluster: ClusterConfig::default(),
            http: HttpConfig::default(),
            shop: ShopConfig::default(),
            telegram: None,
            discord: None,
            kakao: None,
            limits: LimitsConfig::default(),
            policy: PolicyConfig::default(),
            journeys: JourneysConfig::default(),
            moderation: ModerationConfig::default(),
            scheduler: SchedulerConfig::default(),
            faq: FaqConfig::default(),
            retention: RetentionConfig::default(),
            tiers: policy::default_tiers(),
        }
    }
}

impl Config {
    /// Defaults, then the file, then `ENCORE_*` environment variables.
    ///
    /// `path`: `Some(p)` → that file must exist (the error names it); `None` → `encore.toml` in
    /// the current directory if present, else defaults only.
    pub fn load(path: Option<&Path>) -> Result<Config, ConfigError> {
        load_with(path, env::process_env())
    }

    /// The same from a TOML text and an explicit list of environment variables.
    pub fn from_sources(
        toml_text: &str,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Config, ConfigError> {
        build(toml_text, None, env)
    }

    /// The platforms that are on, in a fixed order (`telegram`, `discord`, `kakao`).
    pub fn platforms(&self) -> Vec<&'static str> {
        let mut on = Vec::new();
        if self.telegram.is_some() {
            on.push("telegram");
        }
        if self.discord.is_some() {
            on.push("discord");
        }
        if self.kakao.is_some() {
            on.push("kakao");
        }
        on
    }

    /// Whether transactional notes may reach a customer by phone number: KakaoTalk 알림톡 is on.
    pub fn notes_by_phone(&self) -> bool {
        self.kakao.is_some()
    }
}

fn load_with(
    path: Option<&Path>,
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<Config, ConfigError> {
    let read_error = |p: &Path, e: std::io::Error| ConfigError::Read {
        path: p.display().to_string(),
        reason: io_reason(&e),
    };
    match path {
        Some(p) => {
            let text = std::fs::read_to_string(p).map_err(|e| read_error(p, e))?;
            build(&text, Some(&p.display().to_string()), env)
        }
        None => {
            let p = Path::new(DEFAULT_FILE);
            match std::fs::read_to_string(p) {
                Ok(text) => build(&text, Some(DEFAULT_FILE), env),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => build("", None, env),
                // It is there but unreadable: silently running on defaults would hide that.
                Err(e) => Err(read_error(p, e)),
            }
        }
    }
}

/// "No such file or directory", without the " (os error 2)" a host cannot act on.
fn io_reason(e: &std::io::Error) -> String {
    let text = e.to_string();
    match text.rfind(" (os error ") {
        Some(at) if text.ends_with(')') => text[..at].to_string(),
        _ => text,
    }
}

fn build(
    text: &str,
    file: Option<&str>,
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<Config, ConfigError> {
    let table: toml::Table = text
        .parse()
        .map_err(|e: toml::de::Error| error::syntax(text, file, &e))?;
    let mut root: BTreeMap<String, Node> = match Node::from(table) {
        Node::Table(root) => root,
        _ => BTreeMap::new(),
    };
    let env_keys = env::overlay(&mut root, env, layered::field_names::<Config>())?;
    let config: Config = serde_path_to_error::deserialize(Node::Table(root))
        .map_err(|e| error::locate(&e.path().clone(), e.into_inner(), &env_keys))?;
    checks::check(&config, &env_keys)?;
    Ok(config)
}
