//! Configuration (contract §2): `encore.toml`, the `ENCORE_<SECTION>_<KEY>` environment variables
//! and the built-in defaults.
//!
//! This module owns every setting's name, type, default and allowed range, the order in which the
//! sources win (defaults, then the file, then the environment), the errors a host sees for an
//! unknown or bad setting, the warnings worth showing, and the masked view that
//! `encore config check` prints. Nothing else reads the file or the `ENCORE_*` variables.
//!
//! The file is walked key by key rather than handed to serde, so that every error can name the
//! full dotted key (`telegram.tokn`, `tiers[1].min_spnd`) or the environment variable it came from.

use std::fmt;
use std::path::Path;
use std::str::FromStr;

use chrono::NaiveTime;
use chrono_tz::Tz;
use secrecy::{ExposeSecret, SecretString};

use crate::domain::lang::Lang;

/// The file `Config::load(None)` reads from the current directory when it exists.
pub const DEFAULT_FILE: &str = "encore.toml";

const ENV_PREFIX: &str = "ENCORE_";
const MASK: &str = "********";
const NOT_SET: &str = "(not set)";
/// The values the README's example uses; a host who copied it has not chosen a secret yet.
const EXAMPLE_SECRETS: [&str; 2] = ["change-me", "change-me-too"];
/// 정보통신망법 asks for a consent re-notice every two years.
const RENOTICE_LEGAL_DAYS: u32 = 730;

/// Sections that can be set from the environment, in the order the summary prints them.
const SECTIONS: [&str; 11] = [
    "database",
    "http",
    "shop",
    "telegram",
    "discord",
    "limits",
    "policy",
    "journeys",
    "moderation",
    "scheduler",
    "faq",
];
/// Sections and top-level keys the file may hold.
const TOP_LEVEL: [&str; 12] = [
    "database",
    "http",
    "shop",
    "telegram",
    "discord",
    "limits",
    "policy",
    "journeys",
    "moderation",
    "scheduler",
    "faq",
    "tiers",
];
const TIER_KEYS: &[&str] = &["name", "min_orders", "min_spend"];

/// Every setting, after defaults, the file and the environment have been applied and checked.
#[derive(Debug, Clone)]
pub struct Config {
    pub database: DatabaseConfig,
    pub http: HttpConfig,
    pub shop: ShopConfig,
    /// `None`: Telegram is off.
    pub telegram: Option<TelegramConfig>,
    /// `None`: Discord is off.
    pub discord: Option<DiscordConfig>,
    pub limits: LimitsConfig,
    pub policy: PolicyConfig,
    pub journeys: JourneysConfig,
    pub moderation: ModerationConfig,
    pub scheduler: SchedulerConfig,
    pub faq: FaqConfig,
    /// Lowest to highest; a customer gets the highest tier whose thresholds are all met.
    pub tiers: Vec<TierConfig>,
}

#[derive(Debug, Clone)]
pub struct DatabaseConfig {
    /// `sqlite:…` or `postgres://…`.
    pub url: String,
}

#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// `host:port` the HTTP API binds to.
    pub listen: String,
    /// HMAC-SHA256 key for `POST /v1/events` and outbound webhooks. Empty when not set.
    pub webhook_secret: SecretString,
    /// Bearer token for the admin endpoints. Empty when not set.
    pub admin_token: SecretString,
}

#[derive(Debug, Clone)]
pub struct ShopConfig {
    pub name: String,
    pub timezone: Tz,
    pub default_locale: Lang,
    /// Three capital letters (ISO 4217), e.g. `KRW`.
    pub currency: String,
    /// Shown in advertising messages; may be empty.
    pub contact: String,
    /// Where encore POSTs its own events; `None` when empty.
    pub webhook_url: Option<String>,
}

#[derive(Debug, Clone)]
pub struct TelegramConfig {
    /// Never empty once loaded: a configured `[telegram]` needs a token.
    pub token: SecretString,
    /// Without a trailing `/`.
    pub api_url: String,
    pub staff_chat_id: Option<i64>,
    pub staff_user_ids: Vec<i64>,
    pub community_chat_ids: Vec<i64>,
    pub vip_chat_id: Option<i64>,
}

#[derive(Debug, Clone)]
pub struct DiscordConfig {
    /// Never empty once loaded: a configured `[discord]` needs a token.
    pub token: SecretString,
    /// Without a trailing `/`.
    pub api_url: String,
    pub guild_id: Option<u64>,
    pub staff_channel_id: Option<u64>,
    pub staff_user_ids: Vec<u64>,
    pub community_channel_ids: Vec<u64>,
    pub vip_channel_id: Option<u64>,
    pub vip_role_id: Option<u64>,
}

/// The platforms' published limits. Each may be lowered, never raised above its default.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LimitsConfig {
    pub telegram_per_second: u32,
    pub telegram_per_chat_per_second: u32,
    pub telegram_per_group_per_minute: u32,
    pub discord_per_second: u32,
    pub discord_dm_opens_per_minute: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyConfig {
    /// Advertising is held through it (shop time) unless the viewer gave night consent.
    pub quiet_hours: TimeRange,
    /// Journey messages of any kind go out only inside it (shop time).
    pub send_window: TimeRange,
    /// Per customer, advertising only, Monday to Sunday in shop time. 0 sends no advertising.
    pub marketing_per_week: u32,
    pub winback_after_days: u32,
    /// 0 sends no win-back.
    pub winback_max_attempts: u32,
    pub checkin_after_days: u32,
    pub handoff_first_response_hours: u32,
    pub ticket_idle_close_days: u32,
    pub consent_renotice_days: u32,
    pub pending_event_hours: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JourneysConfig {
    pub checkin: bool,
    pub birthday: bool,
    pub winback: bool,
    pub next_live_alerts: bool,
    pub welcome_back: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModerationConfig {
    /// More than this many messages…
    pub flood_messages: u32,
    /// …in this many seconds mutes the member.
    pub flood_seconds: u32,
    pub mute_minutes: u32,
    /// Links from members younger than this are removed; 0 allows links at once.
    pub new_member_link_minutes: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchedulerConfig {
    /// How often due journeys, held messages and timers are checked; at least 1.
    pub tick_seconds: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaqConfig {
    /// The FAQ file (§8); a missing file means no FAQ answers.
    pub path: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TierConfig {
    /// One word, unique (ignoring case): staff type it in `/vipcode CODE TIER`.
    pub name: String,
    pub min_orders: u32,
    /// In the currency's minor unit.
    pub min_spend: i64,
}

/// `"HH:MM-HH:MM"` in shop time. It may wrap midnight (`21:00-08:00`); start and end may not be
/// equal, because that would be ambiguous between "never" and "always".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TimeRange {
    pub start: NaiveTime,
    pub end: NaiveTime,
}

/// Where a setting came from, so an error can point at it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// A dotted key in the file, e.g. `limits.telegram_per_second` or `tiers[1].name`.
    File(String),
    /// An environment variable, e.g. `ENCORE_TELEGRAM_STAFF_USER_IDS`.
    Env(String),
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::File(key) => write!(f, "`{key}`"),
            Origin::Env(var) => write!(f, "environment variable {var}"),
        }
    }
}

/// Why the configuration could not be loaded. Each message is one line and names the file, key
/// or environment variable to fix.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file `{path}`: {reason}")]
    Read { path: String, reason: String },
    #[error("{} is not valid TOML: {}{message}", syntax_source(.file.as_deref()), syntax_place(.line_column))]
    Syntax {
        /// `None` when the text did not come from a file.
        file: Option<String>,
        /// 1-based line and column (in characters), when the parser knows them.
        line_column: Option<(usize, usize)>,
        message: String,
    },
    #[error("unknown configuration key `{key}`{}", did_you_mean(.suggestion.as_deref(), true))]
    UnknownKey {
        key: String,
        suggestion: Option<String>,
    },
    #[error("unknown environment variable {var}: {detail}")]
    UnknownEnv { var: String, detail: String },
    #[error("{origin}: {reason}")]
    Invalid { origin: Origin, reason: String },
    #[error("{origin} is {value}, but {platform} allows at most {max}")]
    LimitTooHigh {
        origin: Origin,
        value: i128,
        max: u32,
        platform: &'static str,
    },
    #[error(
        "{section}.token is required when [{section}] is configured (set it in the file or with {var})"
    )]
    MissingToken {
        section: &'static str,
        var: &'static str,
    },
}

fn syntax_source(file: Option<&str>) -> String {
    match file {
        Some(file) => format!("config file `{file}`"),
        None => "the configuration".to_string(),
    }
}

fn syntax_place(line_column: &Option<(usize, usize)>) -> String {
    match line_column {
        Some((line, column)) => format!("line {line}, column {column}: "),
        None => String::new(),
    }
}

fn did_you_mean(suggestion: Option<&str>, quoted: bool) -> String {
    match (suggestion, quoted) {
        (Some(s), true) => format!(" (did you mean `{s}`?)"),
        (Some(s), false) => format!(" (did you mean {s}?)"),
        (None, _) => String::new(),
    }
}

// ---------------------------------------------------------------------------------------------
// Defaults

const fn hm(hour: u32, minute: u32) -> NaiveTime {
    // Evaluated at compile time only (the constants below), so a bad literal fails the build.
    match NaiveTime::from_hms_opt(hour, minute, 0) {
        Some(t) => t,
        None => panic!("not a time of day"),
    }
}

const DEFAULT_QUIET_HOURS: TimeRange = TimeRange {
    start: hm(21, 0),
    end: hm(8, 0),
};
const DEFAULT_SEND_WINDOW: TimeRange = TimeRange {
    start: hm(9, 0),
    end: hm(20, 0),
};

/// (key, default and maximum, platform) for every `[limits]` key.
const LIMITS: [(&str, u32, &str); 5] = [
    ("telegram_per_second", 30, "Telegram"),
    ("telegram_per_chat_per_second", 1, "Telegram"),
    ("telegram_per_group_per_minute", 20, "Telegram"),
    ("discord_per_second", 50, "Discord"),
    ("discord_dm_opens_per_minute", 10, "Discord"),
];

impl Default for Config {
    fn default() -> Self {
        Config {
            database: DatabaseConfig::default(),
            http: HttpConfig::default(),
            shop: ShopConfig::default(),
            telegram: None,
            discord: None,
            limits: LimitsConfig::default(),
            policy: PolicyConfig::default(),
            journeys: JourneysConfig::default(),
            moderation: ModerationConfig::default(),
            scheduler: SchedulerConfig::default(),
            faq: FaqConfig::default(),
            tiers: default_tiers(),
        }
    }
}

fn default_tiers() -> Vec<TierConfig> {
    [
        ("silver", 3, 0),
        ("gold", 6, 300_000),
        ("vip", 10, 1_000_000),
    ]
    .into_iter()
    .map(|(name, min_orders, min_spend)| TierConfig {
        name: name.to_string(),
        min_orders,
        min_spend,
    })
    .collect()
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        DatabaseConfig {
            url: "sqlite://encore.db?mode=rwc".to_string(),
        }
    }
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            listen: "127.0.0.1:8080".to_string(),
            webhook_secret: SecretString::default(),
            admin_token: SecretString::default(),
        }
    }
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
        }
    }
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

impl Default for LimitsConfig {
    fn default() -> Self {
        LimitsConfig {
            telegram_per_second: LIMITS[0].1,
            telegram_per_chat_per_second: LIMITS[1].1,
            telegram_per_group_per_minute: LIMITS[2].1,
            discord_per_second: LIMITS[3].1,
            discord_dm_opens_per_minute: LIMITS[4].1,
        }
    }
}

impl Default for PolicyConfig {
    fn default() -> Self {
        PolicyConfig {
            quiet_hours: DEFAULT_QUIET_HOURS,
            send_window: DEFAULT_SEND_WINDOW,
            marketing_per_week: 2,
            winback_after_days: 90,
            winback_max_attempts: 2,
            checkin_after_days: 30,
            handoff_first_response_hours: 24,
            ticket_idle_close_days: 7,
            consent_renotice_days: 700,
            pending_event_hours: 24,
        }
    }
}

impl Default for JourneysConfig {
    fn default() -> Self {
        JourneysConfig {
            checkin: true,
            birthday: true,
            winback: true,
            next_live_alerts: true,
            welcome_back: true,
        }
    }
}

impl Default for ModerationConfig {
    fn default() -> Self {
        ModerationConfig {
            flood_messages: 6,
            flood_seconds: 10,
            mute_minutes: 30,
            new_member_link_minutes: 10,
        }
    }
}

impl Default for SchedulerConfig {
    fn default() -> Self {
        SchedulerConfig { tick_seconds: 30 }
    }
}

impl Default for FaqConfig {
    fn default() -> Self {
        FaqConfig {
            path: "faq.toml".to_string(),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// TimeRange

impl TimeRange {
    /// Whether `t` falls inside: the start is inside, the end is not; a range that wraps midnight
    /// covers the late evening and the early morning.
    pub fn contains(&self, t: NaiveTime) -> bool {
        if self.start < self.end {
            self.start <= t && t < self.end
        } else {
            t >= self.start || t < self.end
        }
    }

    /// Reads `"HH:MM-HH:MM"` (spaces around the parts are allowed). The error says what is wrong
    /// with the text; the caller adds which setting it was.
    pub fn parse(s: &str) -> Result<TimeRange, String> {
        let bad = || format!("`{s}` is not a time range like 21:00-08:00");
        let (start, end) = s.split_once('-').ok_or_else(bad)?;
        let start = parse_hour_minute(start.trim()).ok_or_else(bad)?;
        let end = parse_hour_minute(end.trim()).ok_or_else(bad)?;
        if start == end {
            return Err(format!(
                "`{s}` starts and ends at the same time; give two different times (a range may wrap midnight, like 21:00-08:00)"
            ));
        }
        Ok(TimeRange { start, end })
    }
}

fn parse_hour_minute(s: &str) -> Option<NaiveTime> {
    let (hour, minute) = s.split_once(':')?;
    let digits = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
    if !digits(hour) || !digits(minute) || hour.len() > 2 || minute.len() != 2 {
        return None;
    }
    NaiveTime::from_hms_opt(hour.parse().ok()?, minute.parse().ok()?, 0)
}

impl FromStr for TimeRange {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        TimeRange::parse(s)
    }
}

impl fmt::Display for TimeRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}-{}",
            self.start.format("%H:%M"),
            self.end.format("%H:%M")
        )
    }
}

// ---------------------------------------------------------------------------------------------
// Loading

impl Config {
    /// Defaults, then the file, then `ENCORE_*` environment variables.
    ///
    /// `path`: `Some(p)` → that file must exist (the error names it); `None` → `encore.toml` in
    /// the current directory if present, else defaults only.
    pub fn load(path: Option<&Path>) -> Result<Config, ConfigError> {
        load_with(path, process_env())
    }

    /// The same from a TOML text and an explicit list of environment variables.
    pub fn from_sources(
        toml_text: &str,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Config, ConfigError> {
        build(toml_text, None, env)
    }
}

/// The process environment, reduced to what could be ours. A variable whose name is not UTF-8
/// cannot be one of ours; a value that is not UTF-8 is kept lossily so that it fails visibly.
fn process_env() -> Vec<(String, String)> {
    std::env::vars_os()
        .filter_map(|(name, value)| {
            let name = name.into_string().ok()?;
            name.starts_with(ENV_PREFIX)
                .then(|| (name, value.to_string_lossy().into_owned()))
        })
        .collect()
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
    let root: toml::Table = text.parse().map_err(|e: toml::de::Error| {
        let line_column = e.span().and_then(|span| line_column(text, span.start));
        ConfigError::Syntax {
            file: file.map(str::to_string),
            line_column,
            // Kept to one line: the CLI prints errors as one line.
            message: e.message().trim().replace('\n', "; "),
        }
    })?;
    let mut config = Config::default();
    apply_file(&mut config, &root)?;
    apply_env(&mut config, env)?;
    config.check()?;
    Ok(config)
}

fn line_column(text: &str, offset: usize) -> Option<(usize, usize)> {
    let before = text.get(..offset)?;
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    Some((line, before[line_start..].chars().count() + 1))
}

fn apply_file(config: &mut Config, root: &toml::Table) -> Result<(), ConfigError> {
    for (name, value) in root {
        if name == "tiers" {
            config.tiers = parse_tiers(value)?;
            continue;
        }
        if !SECTIONS.contains(&name.as_str()) {
            return Err(ConfigError::UnknownKey {
                key: name.clone(),
                suggestion: suggest(name, &TOP_LEVEL).map(str::to_string),
            });
        }
        let toml::Value::Table(table) = value else {
            return Err(ConfigError::Invalid {
                origin: Origin::File(name.clone()),
                reason: format!("expected a [{name}] table, found {}", describe(value)),
            });
        };
        // A present section turns its platform on, even when empty: it then needs a token.
        match name.as_str() {
            "telegram" => {
                config.telegram.get_or_insert_with(TelegramConfig::default);
            }
            "discord" => {
                config.discord.get_or_insert_with(DiscordConfig::default);
            }
            _ => {}
        }
        for (key, value) in table {
            set_key(config, name, key, Val::File(value)).map_err(|problem| {
                problem.into_error(Origin::File(format!("{name}.{key}")), || {
                    ConfigError::UnknownKey {
                        key: format!("{name}.{key}"),
                        suggestion: suggest(key, section_keys(name)).map(|k| format!("{name}.{k}")),
                    }
                })
            })?;
        }
    }
    Ok(())
}

fn apply_env(
    config: &mut Config,
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<(), ConfigError> {
    let mut vars: Vec<(String, String)> = env
        .into_iter()
        .filter(|(name, _)| name.starts_with(ENV_PREFIX))
        .collect();
    // Sorted so that, of several bad variables, the same one is reported every time.
    vars.sort();
    for (var, value) in &vars {
        let rest = &var[ENV_PREFIX.len()..];
        if rest == "TIERS" || rest.starts_with("TIERS_") {
            // Silently ignoring it would leave a host wondering why their tiers did not change.
            return Err(ConfigError::Invalid {
                origin: Origin::Env(var.clone()),
                reason: "tiers can only be set in the config file, as [[tiers]] tables".to_string(),
            });
        }
        let Some((section, key)) = SECTIONS.iter().find_map(|section| {
            let upper = section.to_ascii_uppercase();
            if rest == upper {
                return Some((*section, String::new()));
            }
            let key = rest.strip_prefix(&upper)?.strip_prefix('_')?;
            Some((*section, key.to_ascii_lowercase()))
        }) else {
            // Not one of our sections (ENCORE_LOG, ENCORE_TEST_POSTGRES_URL, …): not ours to judge.
            continue;
        };
        match section {
            "telegram" => {
                config.telegram.get_or_insert_with(TelegramConfig::default);
            }
            "discord" => {
                config.discord.get_or_insert_with(DiscordConfig::default);
            }
            _ => {}
        }
        set_key(config, section, &key, Val::Env(value)).map_err(|problem| {
            problem.into_error(Origin::Env(var.clone()), || {
                let upper = section.to_ascii_uppercase();
                let detail = if key.is_empty() {
                    format!("name a key after the section, like ENCORE_{upper}_{}", {
                        section_keys(section)
                            .first()
                            .map_or(String::new(), |k| k.to_ascii_uppercase())
                    })
                } else {
                    let suggestion = suggest(&key, section_keys(section))
                        .map(|k| format!("ENCORE_{upper}_{}", k.to_ascii_uppercase()));
                    format!(
                        "[{section}] has no key `{key}`{}",
                        did_you_mean(suggestion.as_deref(), false)
                    )
                };
                ConfigError::UnknownEnv {
                    var: var.clone(),
                    detail,
                }
            })
        })?;
    }
    Ok(())
}

fn set_key(config: &mut Config, section: &str, key: &str, v: Val<'_>) -> Result<(), Problem> {
    match section {
        "database" => config.database.set(key, v),
        "http" => config.http.set(key, v),
        "shop" => config.shop.set(key, v),
        "telegram" => config
            .telegram
            .get_or_insert_with(TelegramConfig::default)
            .set(key, v),
        "discord" => config
            .discord
            .get_or_insert_with(DiscordConfig::default)
            .set(key, v),
        "limits" => config.limits.set(key, v),
        "policy" => config.policy.set(key, v),
        "journeys" => config.journeys.set(key, v),
        "moderation" => config.moderation.set(key, v),
        "scheduler" => config.scheduler.set(key, v),
        "faq" => config.faq.set(key, v),
        _ => Err(Problem::Unknown),
    }
}

fn section_keys(section: &str) -> &'static [&'static str] {
    match section {
        "database" => DatabaseConfig::KEYS,
        "http" => HttpConfig::KEYS,
        "shop" => ShopConfig::KEYS,
        "telegram" => TelegramConfig::KEYS,
        "discord" => DiscordConfig::KEYS,
        "limits" => LimitsConfig::KEYS,
        "policy" => PolicyConfig::KEYS,
        "journeys" => JourneysConfig::KEYS,
        "moderation" => ModerationConfig::KEYS,
        "scheduler" => SchedulerConfig::KEYS,
        "faq" => FaqConfig::KEYS,
        "tiers" => TIER_KEYS,
        _ => &[],
    }
}

/// The closest known name to a misspelt one, if it is close enough to be a typo.
fn suggest<'a>(wrong: &str, known: &[&'a str]) -> Option<&'a str> {
    let wrong = wrong.to_ascii_lowercase();
    known
        .iter()
        .map(|k| (edit_distance(&wrong, k), *k))
        .filter(|(d, k)| *d <= 2.max(k.len() / 4) && *d < k.len())
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (above + 1)
                .min(row[j] + 1)
                .min(diagonal + usize::from(ca != *cb));
            diagonal = above;
        }
    }
    row[b.len()]
}

// ---------------------------------------------------------------------------------------------
// Reading one value, from either source

/// One value as the file or the environment gave it. The file's values are typed; the
/// environment's are text, read by the same rules (lists comma-separated, bools true/false/1/0).
#[derive(Clone, Copy)]
enum Val<'a> {
    File(&'a toml::Value),
    Env(&'a str),
}

/// What is wrong with one value; the caller adds where it came from.
enum Problem {
    Unknown,
    Invalid(String),
    TooHigh {
        value: i128,
        max: u32,
        platform: &'static str,
    },
}

impl Problem {
    fn into_error(self, origin: Origin, unknown: impl FnOnce() -> ConfigError) -> ConfigError {
        match self {
            Problem::Unknown => unknown(),
            Problem::Invalid(reason) => ConfigError::Invalid { origin, reason },
            Problem::TooHigh {
                value,
                max,
                platform,
            } => ConfigError::LimitTooHigh {
                origin,
                value,
                max,
                platform,
            },
        }
    }
}

fn invalid(reason: impl Into<String>) -> Problem {
    Problem::Invalid(reason.into())
}

/// A TOML value's kind in words; the value itself is not echoed, as it may be a secret.
fn describe(v: &toml::Value) -> &'static str {
    match v {
        toml::Value::String(_) => "text",
        toml::Value::Integer(_) => "a whole number",
        toml::Value::Float(_) => "a decimal number",
        toml::Value::Boolean(_) => "true/false",
        toml::Value::Datetime(_) => "a date",
        toml::Value::Array(_) => "a list",
        toml::Value::Table(_) => "a table",
    }
}

fn expected(what: &str, found: &toml::Value) -> Problem {
    invalid(format!("expected {what}, found {}", describe(found)))
}

fn parse_whole(s: &str) -> Result<i128, Problem> {
    let s = s.trim();
    s.parse::<i128>()
        .map_err(|_| invalid(format!("`{s}` is not a whole number")))
}

impl Val<'_> {
    /// Text, trimmed.
    fn text(self) -> Result<String, Problem> {
        match self {
            Val::File(toml::Value::String(s)) => Ok(s.trim().to_string()),
            Val::File(other) => Err(expected("text in quotes", other)),
            Val::Env(s) => Ok(s.trim().to_string()),
        }
    }

    /// Text exactly as given: a secret is used byte for byte (the shop signs with the same one).
    fn secret(self) -> Result<SecretString, Problem> {
        match self {
            Val::File(toml::Value::String(s)) => Ok(SecretString::from(s.as_str())),
            Val::File(other) => Err(expected("text in quotes", other)),
            Val::Env(s) => Ok(SecretString::from(s)),
        }
    }

    fn whole(self) -> Result<i128, Problem> {
        match self {
            Val::File(toml::Value::Integer(n)) => Ok(i128::from(*n)),
            Val::File(other) => Err(expected("a whole number", other)),
            Val::Env(s) => parse_whole(s),
        }
    }

    /// A Discord id: a whole number, or digits in quotes (as Discord itself writes them).
    fn snowflake_whole(self) -> Result<i128, Problem> {
        match self {
            Val::File(toml::Value::String(s)) => parse_whole(s),
            other => other.whole(),
        }
    }

    fn flag(self) -> Result<bool, Problem> {
        match self {
            Val::File(toml::Value::Boolean(b)) => Ok(*b),
            Val::File(other) => Err(expected("true or false", other)),
            Val::Env(s) => match s.trim().to_ascii_lowercase().as_str() {
                "true" | "1" => Ok(true),
                "false" | "0" => Ok(false),
                _ => Err(invalid(format!(
                    "`{}` is not true or false (use true, false, 1 or 0)",
                    s.trim()
                ))),
            },
        }
    }

    /// Empty text means "not set".
    fn optional<T>(self, read: fn(Val<'_>) -> Result<T, Problem>) -> Result<Option<T>, Problem> {
        match self {
            Val::File(toml::Value::String(s)) if s.trim().is_empty() => Ok(None),
            Val::Env(s) if s.trim().is_empty() => Ok(None),
            other => read(other).map(Some),
        }
    }

    /// A TOML array, or comma-separated text (empty items are skipped, so "" is an empty list).
    fn list<T>(self, read: fn(Val<'_>) -> Result<T, Problem>) -> Result<Vec<T>, Problem> {
        let item_error = |position: usize, problem: Problem| match problem {
            Problem::Invalid(reason) => invalid(format!("item {position}: {reason}")),
            other => other,
        };
        match self {
            Val::File(toml::Value::Array(items)) => items
                .iter()
                .enumerate()
                .map(|(i, item)| read(Val::File(item)).map_err(|p| item_error(i + 1, p)))
                .collect(),
            Val::File(other) => Err(expected("a list like [1, 2]", other)),
            Val::Env(s) => s
                .split(',')
                .map(str::trim)
                .filter(|item| !item.is_empty())
                .enumerate()
                .map(|(i, item)| read(Val::Env(item)).map_err(|p| item_error(i + 1, p)))
                .collect(),
        }
    }
}

fn number<T: TryFrom<i128>>(n: i128, min: i128) -> Result<T, Problem> {
    if n < min {
        return Err(invalid(format!("must be at least {min}, not {n}")));
    }
    T::try_from(n).map_err(|_| invalid(format!("{n} is too large")))
}

fn at_least<T: TryFrom<i128>>(min: i128) -> impl Fn(Val<'_>) -> Result<T, Problem> {
    move |v| number(v.whole()?, min)
}

fn count(v: Val<'_>) -> Result<u32, Problem> {
    number(v.whole()?, 0)
}

fn positive(v: Val<'_>) -> Result<u32, Problem> {
    number(v.whole()?, 1)
}

/// A Telegram chat id: groups are negative, private chats positive, never 0.
fn chat_id(v: Val<'_>) -> Result<i64, Problem> {
    let n = v.whole()?;
    if n == 0 {
        return Err(invalid("0 is not a Telegram chat id"));
    }
    i64::try_from(n).map_err(|_| invalid(format!("{n} is not a Telegram chat id")))
}

fn telegram_user_id(v: Val<'_>) -> Result<i64, Problem> {
    let n = v.whole()?;
    if n <= 0 {
        return Err(invalid(format!(
            "{n} is not a Telegram user id (user ids are positive)"
        )));
    }
    i64::try_from(n).map_err(|_| invalid(format!("{n} is not a Telegram user id")))
}

fn snowflake(v: Val<'_>) -> Result<u64, Problem> {
    let n = v.snowflake_whole()?;
    if n <= 0 {
        return Err(invalid(format!("{n} is not a Discord id")));
    }
    u64::try_from(n).map_err(|_| invalid(format!("{n} is not a Discord id")))
}

fn non_empty(v: Val<'_>) -> Result<String, Problem> {
    let s = v.text()?;
    if s.is_empty() {
        return Err(invalid("must not be empty"));
    }
    Ok(s)
}

/// An http(s) base URL, without a trailing `/` so callers can append paths.
fn http_url(v: Val<'_>) -> Result<String, Problem> {
    let s = v.text()?;
    let rest = s
        .strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"));
    match rest {
        Some(host) if !host.trim_end_matches('/').is_empty() => {
            Ok(s.trim_end_matches('/').to_string())
        }
        _ => Err(invalid(format!("`{s}` is not an http:// or https:// URL"))),
    }
}

fn database_url(v: Val<'_>) -> Result<String, Problem> {
    let s = non_empty(v)?;
    if ["sqlite:", "postgres://", "postgresql://"]
        .iter()
        .any(|scheme| s.starts_with(scheme))
    {
        Ok(s)
    } else {
        // The value is not echoed: a database URL may carry a password.
        Err(invalid(
            "expected a sqlite: URL (sqlite://encore.db?mode=rwc) or a postgres:// URL",
        ))
    }
}

fn listen_address(v: Val<'_>) -> Result<String, Problem> {
    let s = v.text()?;
    match s.rsplit_once(':') {
        Some((host, port)) if !host.is_empty() && port.parse::<u16>().is_ok() => Ok(s),
        _ => Err(invalid(format!(
            "`{s}` is not an address like 127.0.0.1:8080"
        ))),
    }
}

fn timezone(v: Val<'_>) -> Result<Tz, Problem> {
    let s = v.text()?;
    Tz::from_str(&s).map_err(|_| {
        invalid(format!(
            "unknown time zone `{s}`; use an IANA name like Asia/Seoul, or Etc/GMT-9 for a fixed offset"
        ))
    })
}

fn language(v: Val<'_>) -> Result<Lang, Problem> {
    Lang::from_str(&v.text()?).map_err(|e| invalid(e.to_string()))
}

fn currency(v: Val<'_>) -> Result<String, Problem> {
    let s = v.text()?;
    if s.len() == 3 && s.bytes().all(|b| b.is_ascii_uppercase()) {
        Ok(s)
    } else {
        Err(invalid(format!(
            "`{s}` is not a currency code of three capital letters, like KRW"
        )))
    }
}

fn time_range(v: Val<'_>) -> Result<TimeRange, Problem> {
    TimeRange::parse(&v.text()?).map_err(invalid)
}

fn limit(v: Val<'_>, max: u32, platform: &'static str) -> Result<u32, Problem> {
    let n = v.whole()?;
    if n > i128::from(max) {
        return Err(Problem::TooHigh {
            value: n,
            max,
            platform,
        });
    }
    number(n, 1)
}

// ---------------------------------------------------------------------------------------------
// One setter per section. KEYS lists every key the setter knows (for suggestions and tests).

impl DatabaseConfig {
    const KEYS: &'static [&'static str] = &["url"];

    fn set(&mut self, key: &str, v: Val<'_>) -> Result<(), Problem> {
        match key {
            "url" => self.url = database_url(v)?,
            _ => return Err(Problem::Unknown),
        }
        Ok(())
    }
}

impl HttpConfig {
    const KEYS: &'static [&'static str] = &["listen", "webhook_secret", "admin_token"];

    fn set(&mut self, key: &str, v: Val<'_>) -> Result<(), Problem> {
        match key {
            "listen" => self.listen = listen_address(v)?,
            "webhook_secret" => self.webhook_secret = v.secret()?,
            "admin_token" => self.admin_token = v.secret()?,
            _ => return Err(Problem::Unknown),
        }
        Ok(())
    }
}

impl ShopConfig {
    const KEYS: &'static [&'static str] = &[
        "name",
        "timezone",
        "default_locale",
        "currency",
        "contact",
        "webhook_url",
    ];

    fn set(&mut self, key: &str, v: Val<'_>) -> Result<(), Problem> {
        match key {
            // Advertising must name the shop, so it cannot be blank.
            "name" => self.name = non_empty(v)?,
            "timezone" => self.timezone = timezone(v)?,
            "default_locale" => self.default_locale = language(v)?,
            "currency" => self.currency = currency(v)?,
            "contact" => self.contact = v.text()?,
            "webhook_url" => self.webhook_url = v.optional(http_url)?,
            _ => return Err(Problem::Unknown),
        }
        Ok(())
    }
}

impl TelegramConfig {
    const KEYS: &'static [&'static str] = &[
        "token",
        "api_url",
        "staff_chat_id",
        "staff_user_ids",
        "community_chat_ids",
        "vip_chat_id",
    ];

    fn set(&mut self, key: &str, v: Val<'_>) -> Result<(), Problem> {
        match key {
            "token" => self.token = v.secret()?,
            "api_url" => self.api_url = http_url(v)?,
            "staff_chat_id" => self.staff_chat_id = v.optional(chat_id)?,
            "staff_user_ids" => self.staff_user_ids = v.list(telegram_user_id)?,
            "community_chat_ids" => self.community_chat_ids = v.list(chat_id)?,
            "vip_chat_id" => self.vip_chat_id = v.optional(chat_id)?,
            _ => return Err(Problem::Unknown),
        }
        Ok(())
    }
}

impl DiscordConfig {
    const KEYS: &'static [&'static str] = &[
        "token",
        "api_url",
        "guild_id",
        "staff_channel_id",
        "staff_user_ids",
        "community_channel_ids",
        "vip_channel_id",
        "vip_role_id",
    ];

    fn set(&mut self, key: &str, v: Val<'_>) -> Result<(), Problem> {
        match key {
            "token" => self.token = v.secret()?,
            "api_url" => self.api_url = http_url(v)?,
            "guild_id" => self.guild_id = v.optional(snowflake)?,
            "staff_channel_id" => self.staff_channel_id = v.optional(snowflake)?,
            "staff_user_ids" => self.staff_user_ids = v.list(snowflake)?,
            "community_channel_ids" => self.community_channel_ids = v.list(snowflake)?,
            "vip_channel_id" => self.vip_channel_id = v.optional(snowflake)?,
            "vip_role_id" => self.vip_role_id = v.optional(snowflake)?,
            _ => return Err(Problem::Unknown),
        }
        Ok(())
    }
}

impl LimitsConfig {
    const KEYS: &'static [&'static str] = &[
        LIMITS[0].0,
        LIMITS[1].0,
        LIMITS[2].0,
        LIMITS[3].0,
        LIMITS[4].0,
    ];

    fn set(&mut self, key: &str, v: Val<'_>) -> Result<(), Problem> {
        let Some(&(_, max, platform)) = LIMITS.iter().find(|(k, _, _)| *k == key) else {
            return Err(Problem::Unknown);
        };
        let n = limit(v, max, platform)?;
        match key {
            "telegram_per_second" => self.telegram_per_second = n,
            "telegram_per_chat_per_second" => self.telegram_per_chat_per_second = n,
            "telegram_per_group_per_minute" => self.telegram_per_group_per_minute = n,
            "discord_per_second" => self.discord_per_second = n,
            "discord_dm_opens_per_minute" => self.discord_dm_opens_per_minute = n,
            _ => return Err(Problem::Unknown),
        }
        Ok(())
    }

    fn values(&self) -> [(&'static str, u32); 5] {
        [
            (LIMITS[0].0, self.telegram_per_second),
            (LIMITS[1].0, self.telegram_per_chat_per_second),
            (LIMITS[2].0, self.telegram_per_group_per_minute),
            (LIMITS[3].0, self.discord_per_second),
            (LIMITS[4].0, self.discord_dm_opens_per_minute),
        ]
    }
}

impl PolicyConfig {
    const KEYS: &'static [&'static str] = &[
        "quiet_hours",
        "send_window",
        "marketing_per_week",
        "winback_after_days",
        "winback_max_attempts",
        "checkin_after_days",
        "handoff_first_response_hours",
        "ticket_idle_close_days",
        "consent_renotice_days",
        "pending_event_hours",
    ];

    fn set(&mut self, key: &str, v: Val<'_>) -> Result<(), Problem> {
        // Counts may be 0 (switches the thing off); durations may not, as 0 would fire at once.
        match key {
            "quiet_hours" => self.quiet_hours = time_range(v)?,
            "send_window" => self.send_window = time_range(v)?,
            "marketing_per_week" => self.marketing_per_week = count(v)?,
            "winback_after_days" => self.winback_after_days = positive(v)?,
            "winback_max_attempts" => self.winback_max_attempts = count(v)?,
            "checkin_after_days" => self.checkin_after_days = positive(v)?,
            "handoff_first_response_hours" => self.handoff_first_response_hours = positive(v)?,
            "ticket_idle_close_days" => self.ticket_idle_close_days = positive(v)?,
            "consent_renotice_days" => self.consent_renotice_days = positive(v)?,
            "pending_event_hours" => self.pending_event_hours = positive(v)?,
            _ => return Err(Problem::Unknown),
        }
        Ok(())
    }
}

impl JourneysConfig {
    const KEYS: &'static [&'static str] = &[
        "checkin",
        "birthday",
        "winback",
        "next_live_alerts",
        "welcome_back",
    ];

    fn set(&mut self, key: &str, v: Val<'_>) -> Result<(), Problem> {
        match key {
            "checkin" => self.checkin = v.flag()?,
            "birthday" => self.birthday = v.flag()?,
            "winback" => self.winback = v.flag()?,
            "next_live_alerts" => self.next_live_alerts = v.flag()?,
            "welcome_back" => self.welcome_back = v.flag()?,
            _ => return Err(Problem::Unknown),
        }
        Ok(())
    }
}

impl ModerationConfig {
    const KEYS: &'static [&'static str] = &[
        "flood_messages",
        "flood_seconds",
        "mute_minutes",
        "new_member_link_minutes",
    ];

    fn set(&mut self, key: &str, v: Val<'_>) -> Result<(), Problem> {
        match key {
            "flood_messages" => self.flood_messages = positive(v)?,
            "flood_seconds" => self.flood_seconds = positive(v)?,
            "mute_minutes" => self.mute_minutes = positive(v)?,
            "new_member_link_minutes" => self.new_member_link_minutes = count(v)?,
            _ => return Err(Problem::Unknown),
        }
        Ok(())
    }
}

impl SchedulerConfig {
    const KEYS: &'static [&'static str] = &["tick_seconds"];

    fn set(&mut self, key: &str, v: Val<'_>) -> Result<(), Problem> {
        match key {
            "tick_seconds" => self.tick_seconds = at_least(1)(v)?,
            _ => return Err(Problem::Unknown),
        }
        Ok(())
    }
}

impl FaqConfig {
    const KEYS: &'static [&'static str] = &["path"];

    fn set(&mut self, key: &str, v: Val<'_>) -> Result<(), Problem> {
        match key {
            "path" => self.path = non_empty(v)?,
            _ => return Err(Problem::Unknown),
        }
        Ok(())
    }
}

/// `[[tiers]]` replaces the built-in list as a whole; it can only come from the file.
fn parse_tiers(value: &toml::Value) -> Result<Vec<TierConfig>, ConfigError> {
    let toml::Value::Array(items) = value else {
        return Err(ConfigError::Invalid {
            origin: Origin::File("tiers".to_string()),
            reason: format!("expected [[tiers]] tables, found {}", describe(value)),
        });
    };
    let mut tiers = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let at = format!("tiers[{i}]");
        let toml::Value::Table(table) = item else {
            return Err(ConfigError::Invalid {
                origin: Origin::File(at),
                reason: format!("expected a [[tiers]] table, found {}", describe(item)),
            });
        };
        let mut tier = TierConfig {
            name: String::new(),
            min_orders: 0,
            min_spend: 0,
        };
        for (key, value) in table {
            let v = Val::File(value);
            let result = match key.as_str() {
                "name" => tier_name(v).map(|name| tier.name = name),
                "min_orders" => count(v).map(|n| tier.min_orders = n),
                "min_spend" => at_least::<i64>(0)(v).map(|n| tier.min_spend = n),
                _ => Err(Problem::Unknown),
            };
            result.map_err(|problem| {
                problem.into_error(Origin::File(format!("{at}.{key}")), || {
                    ConfigError::UnknownKey {
                        key: format!("{at}.{key}"),
                        suggestion: suggest(key, TIER_KEYS).map(|k| format!("{at}.{k}")),
                    }
                })
            })?;
        }
        if tier.name.is_empty() {
            return Err(ConfigError::Invalid {
                origin: Origin::File(format!("{at}.name")),
                reason: "is missing; every [[tiers]] table needs a name".to_string(),
            });
        }
        tiers.push(tier);
    }
    Ok(tiers)
}

fn tier_name(v: Val<'_>) -> Result<String, Problem> {
    let name = non_empty(v)?;
    if name.chars().any(char::is_whitespace) {
        return Err(invalid(format!(
            "`{name}` has a space in it; staff type tier names in /vipcode, so use one word"
        )));
    }
    Ok(name)
}

fn check_tiers(tiers: &[TierConfig]) -> Result<(), ConfigError> {
    for (i, tier) in tiers.iter().enumerate() {
        if let Some(j) = tiers[..i]
            .iter()
            .position(|earlier| earlier.name.eq_ignore_ascii_case(&tier.name))
        {
            return Err(ConfigError::Invalid {
                origin: Origin::File(format!("tiers[{i}].name")),
                reason: format!("`{}` is already the name of tiers[{j}]", tier.name),
            });
        }
        let Some(previous) = i.checked_sub(1).and_then(|j| tiers.get(j)) else {
            continue;
        };
        let lower = |key: &str, this: i64, before: i64| ConfigError::Invalid {
            origin: Origin::File(format!("tiers[{i}].{key}")),
            reason: format!(
                "{this} is lower than {before} for the tier before it (`{}`); list tiers lowest to highest",
                previous.name
            ),
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

// ---------------------------------------------------------------------------------------------
// Checks across keys, warnings and the summary

fn is_blank(secret: &SecretString) -> bool {
    secret.expose_secret().trim().is_empty()
}

impl Config {
    /// What can only be judged once every source has been applied.
    fn check(&self) -> Result<(), ConfigError> {
        if self.telegram.as_ref().is_some_and(|t| is_blank(&t.token)) {
            return Err(ConfigError::MissingToken {
                section: "telegram",
                var: "ENCORE_TELEGRAM_TOKEN",
            });
        }
        if self.discord.as_ref().is_some_and(|d| is_blank(&d.token)) {
            return Err(ConfigError::MissingToken {
                section: "discord",
                var: "ENCORE_DISCORD_TOKEN",
            });
        }
        check_tiers(&self.tiers)
    }

    /// The platforms that are on, in a fixed order (`telegram`, `discord`).
    pub fn platforms(&self) -> Vec<&'static str> {
        let mut on = Vec::new();
        if self.telegram.is_some() {
            on.push("telegram");
        }
        if self.discord.is_some() {
            on.push("discord");
        }
        on
    }

    /// Things a host should see but that do not stop encore: secrets not chosen yet, no
    /// platform, nowhere for staff work to go, settings the law or advertising rules need.
    pub fn warnings(&self) -> Vec<String> {
        let mut warnings = Vec::new();
        let http_secrets = [
            (
                "http.webhook_secret",
                "ENCORE_HTTP_WEBHOOK_SECRET",
                &self.http.webhook_secret,
                "every POST /v1/events is refused (401) until it is set",
                "anyone who knows the example can send events",
            ),
            (
                "http.admin_token",
                "ENCORE_HTTP_ADMIN_TOKEN",
                &self.http.admin_token,
                "the admin endpoints refuse every request (401) until it is set",
                "anyone who knows the example can use the admin endpoints",
            ),
        ];
        for (key, var, secret, when_unset, when_example) in http_secrets {
            let value = secret.expose_secret();
            if value.trim().is_empty() {
                warnings.push(format!(
                    "{key} is not set: {when_unset}; set a long random value in the file or with {var}"
                ));
            } else if EXAMPLE_SECRETS.contains(&value) {
                warnings.push(format!(
                    "{key} is still the example value `{value}`: {when_example}; set a long random value"
                ));
            } else if value.chars().count() < 16 {
                warnings.push(format!(
                    "{key} is shorter than 16 characters; a long random value is safer"
                ));
            }
        }
        let webhook_secret = self.http.webhook_secret.expose_secret();
        if !webhook_secret.trim().is_empty()
            && webhook_secret == self.http.admin_token.expose_secret()
        {
            warnings.push(
                "http.webhook_secret and http.admin_token are the same; use two different values"
                    .to_string(),
            );
        }

        let mut secrets = vec![
            ("http.webhook_secret", &self.http.webhook_secret),
            ("http.admin_token", &self.http.admin_token),
        ];
        if let Some(t) = &self.telegram {
            secrets.push(("telegram.token", &t.token));
        }
        if let Some(d) = &self.discord {
            secrets.push(("discord.token", &d.token));
        }
        for (key, secret) in secrets {
            let value = secret.expose_secret();
            if value.trim() != value {
                warnings.push(format!(
                    "{key} starts or ends with a space or line break; it is used exactly as given"
                ));
            }
        }

        if self.telegram.is_none() && self.discord.is_none() {
            warnings.push(
                "no platform is configured (no [telegram] or [discord] section): encore serve will only run the HTTP API"
                    .to_string(),
            );
        }
        if let Some(t) = &self.telegram {
            if t.staff_chat_id.is_none() {
                warnings.push(
                    "telegram.staff_chat_id is not set: hand-offs, reports and staff commands have no chat on Telegram"
                        .to_string(),
                );
            }
            if t.staff_user_ids.is_empty() {
                warnings.push(
                    "telegram.staff_user_ids is empty: only anonymous admins of the staff chat can use staff commands"
                        .to_string(),
                );
            }
        }
        if let Some(d) = &self.discord {
            if d.guild_id.is_none() {
                warnings.push(
                    "discord.guild_id is not set: encore cannot find the shop's server on Discord"
                        .to_string(),
                );
            }
            if d.staff_channel_id.is_none() {
                warnings.push(
                    "discord.staff_channel_id is not set: hand-offs, reports and staff commands have no channel on Discord"
                        .to_string(),
                );
            }
            if d.staff_user_ids.is_empty() {
                warnings.push(
                    "discord.staff_user_ids is empty: nobody can use staff commands on Discord"
                        .to_string(),
                );
            }
        }
        if self.shop.contact.trim().is_empty() {
            warnings.push(
                "shop.contact is empty: advertising messages must show the shop's contact"
                    .to_string(),
            );
        }
        if self.policy.consent_renotice_days > RENOTICE_LEGAL_DAYS {
            warnings.push(format!(
                "policy.consent_renotice_days is {}: the law asks for a re-notice at least every 2 years ({RENOTICE_LEGAL_DAYS} days)",
                self.policy.consent_renotice_days
            ));
        }
        warnings
    }

    /// The effective settings as TOML-like text, section after section, for
    /// `encore config check`. Secrets show as `"********"` when set and `(not set)` when empty;
    /// a password inside the database URL is masked too.
    pub fn masked_summary(&self) -> String {
        let mut out = Summary::default();
        let platforms = self.platforms();
        out.line(&format!(
            "# platforms on: {}",
            if platforms.is_empty() {
                "none (only the HTTP API runs)".to_string()
            } else {
                platforms.join(", ")
            }
        ));

        out.section("database");
        out.text("url", &mask_database_url(&self.database.url));

        out.section("http");
        out.text("listen", &self.http.listen);
        out.secret("webhook_secret", &self.http.webhook_secret);
        out.secret("admin_token", &self.http.admin_token);

        out.section("shop");
        out.text("name", &self.shop.name);
        out.text("timezone", self.shop.timezone.name());
        out.text("default_locale", self.shop.default_locale.code());
        out.text("currency", &self.shop.currency);
        out.text("contact", &self.shop.contact);
        out.optional("webhook_url", self.shop.webhook_url.as_deref().map(quote));

        match &self.telegram {
            Some(t) => {
                out.section("telegram");
                out.secret("token", &t.token);
                out.text("api_url", &t.api_url);
                out.optional("staff_chat_id", t.staff_chat_id.map(|n| n.to_string()));
                out.list("staff_user_ids", &t.staff_user_ids);
                out.list("community_chat_ids", &t.community_chat_ids);
                out.optional("vip_chat_id", t.vip_chat_id.map(|n| n.to_string()));
            }
            None => out.off("telegram", "Telegram"),
        }
        match &self.discord {
            Some(d) => {
                out.section("discord");
                out.secret("token", &d.token);
                out.text("api_url", &d.api_url);
                out.optional("guild_id", d.guild_id.map(|n| n.to_string()));
                out.optional(
                    "staff_channel_id",
                    d.staff_channel_id.map(|n| n.to_string()),
                );
                out.list("staff_user_ids", &d.staff_user_ids);
                out.list("community_channel_ids", &d.community_channel_ids);
                out.optional("vip_channel_id", d.vip_channel_id.map(|n| n.to_string()));
                out.optional("vip_role_id", d.vip_role_id.map(|n| n.to_string()));
            }
            None => out.off("discord", "Discord"),
        }

        out.section("limits");
        for (key, value) in self.limits.values() {
            out.raw(key, value);
        }

        let p = &self.policy;
        out.section("policy");
        out.text("quiet_hours", &p.quiet_hours.to_string());
        out.text("send_window", &p.send_window.to_string());
        out.raw("marketing_per_week", p.marketing_per_week);
        out.raw("winback_after_days", p.winback_after_days);
        out.raw("winback_max_attempts", p.winback_max_attempts);
        out.raw("checkin_after_days", p.checkin_after_days);
        out.raw(
            "handoff_first_response_hours",
            p.handoff_first_response_hours,
        );
        out.raw("ticket_idle_close_days", p.ticket_idle_close_days);
        out.raw("consent_renotice_days", p.consent_renotice_days);
        out.raw("pending_event_hours", p.pending_event_hours);

        let j = &self.journeys;
        out.section("journeys");
        out.raw("checkin", j.checkin);
        out.raw("birthday", j.birthday);
        out.raw("winback", j.winback);
        out.raw("next_live_alerts", j.next_live_alerts);
        out.raw("welcome_back", j.welcome_back);

        let m = &self.moderation;
        out.section("moderation");
        out.raw("flood_messages", m.flood_messages);
        out.raw("flood_seconds", m.flood_seconds);
        out.raw("mute_minutes", m.mute_minutes);
        out.raw("new_member_link_minutes", m.new_member_link_minutes);

        out.section("scheduler");
        out.raw("tick_seconds", self.scheduler.tick_seconds);

        out.section("faq");
        out.text("path", &self.faq.path);

        if self.tiers.is_empty() {
            out.line("");
            out.line("# no [[tiers]]: nobody gets a tier");
        }
        for tier in &self.tiers {
            out.line("");
            out.line("[[tiers]]");
            out.text("name", &tier.name);
            out.raw("min_orders", tier.min_orders);
            out.raw("min_spend", tier.min_spend);
        }
        out.0
    }
}

/// Builds the summary text line by line.
#[derive(Default)]
struct Summary(String);

impl Summary {
    fn line(&mut self, line: &str) {
        self.0.push_str(line);
        self.0.push('\n');
    }

    fn section(&mut self, name: &str) {
        self.line("");
        self.line(&format!("[{name}]"));
    }

    fn off(&mut self, section: &str, platform: &str) {
        self.line("");
        self.line(&format!(
            "# [{section}] is not configured: {platform} is off"
        ));
    }

    fn raw(&mut self, key: &str, value: impl fmt::Display) {
        self.line(&format!("{key} = {value}"));
    }

    fn text(&mut self, key: &str, value: &str) {
        self.raw(key, quote(value));
    }

    fn optional(&mut self, key: &str, value: Option<String>) {
        self.raw(key, value.as_deref().unwrap_or(NOT_SET));
    }

    fn secret(&mut self, key: &str, value: &SecretString) {
        if is_blank(value) {
            self.raw(key, NOT_SET);
        } else {
            self.raw(key, quote(MASK));
        }
    }

    fn list(&mut self, key: &str, values: &[impl fmt::Display]) {
        let items: Vec<String> = values.iter().map(ToString::to_string).collect();
        self.raw(key, format!("[{}]", items.join(", ")));
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

/// `postgres://user:secret@host/db?password=x` → `postgres://user:********@host/db?password=********`.
fn mask_database_url(url: &str) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The example of contract §2, verbatim.
    const CONTRACT_EXAMPLE: &str = r#"
[database]
url = "sqlite://encore.db?mode=rwc"        # or postgres://user@host/db

[http]
listen = "127.0.0.1:8080"
webhook_secret = "change-me"               # HMAC-SHA256 key for POST /v1/events (and outbound webhooks)
admin_token = "change-me-too"              # bearer token for the admin endpoints

[shop]
name = "Mina's Closet"
timezone = "Asia/Seoul"                    # IANA zone; Etc/GMT±N fixed offsets are accepted
default_locale = "ko"                      # ko | en
currency = "KRW"                           # the one currency that tiers and reports count
contact = "02-123-4567"                    # shown in advertising messages
webhook_url = ""                           # optional: encore POSTs its own events here (§3)

[telegram]                                  # section optional; absent = Telegram off
token = "123:ABC"
api_url = "https://api.telegram.org"       # tests point this at a local server
staff_chat_id = -1001                      # where hand-offs, reports and staff commands live
staff_user_ids = [111, 222]                # only these may use staff commands
community_chat_ids = [-1002]
vip_chat_id = -1003

[discord]                                   # section optional; absent = Discord off
token = "..."
api_url = "https://discord.com"            # tests point this at a local server
guild_id = 10
staff_channel_id = 1
staff_user_ids = [3]
community_channel_ids = [2]
vip_channel_id = 5
vip_role_id = 4

[limits]                                    # the platforms' published limits; lower them, never raise
telegram_per_second = 30
telegram_per_chat_per_second = 1
telegram_per_group_per_minute = 20
discord_per_second = 50
discord_dm_opens_per_minute = 10            # opening DM channels fast trips Discord's anti-spam (40003)

[policy]
quiet_hours = "21:00-08:00"                # advertising is held through it (shop timezone)
send_window = "09:00-20:00"                # journey messages of any kind go out only inside it
marketing_per_week = 2                     # per customer, advertising only, calendar week (Mon–Sun, shop timezone)
winback_after_days = 90
winback_max_attempts = 2
checkin_after_days = 30
handoff_first_response_hours = 24
ticket_idle_close_days = 7
consent_renotice_days = 700                # re-notice well before the 2-year mark
pending_event_hours = 24                   # how long an event waits for the order/customer it refers to

[journeys]                                  # each journey can be switched off
checkin = true
birthday = true
winback = true
next_live_alerts = true
welcome_back = true

[moderation]
flood_messages = 6                          # more than this many messages…
flood_seconds = 10                          # …in this many seconds mutes the member
mute_minutes = 30
new_member_link_minutes = 10                # links from members younger than this are removed

[scheduler]
tick_seconds = 30                          # how often due journeys, held messages and timers are checked

[faq]
path = "faq.toml"                          # §8; absent file = no FAQ answers

[[tiers]]                                   # listed lowest to highest; a customer gets the highest whose
name = "silver"                             # thresholds are all met (orders AND spend); refunded and
min_orders = 3                              # cancelled orders do not count
[[tiers]]
name = "gold"
min_orders = 6
min_spend = 300000
[[tiers]]
name = "vip"
min_orders = 10
min_spend = 1000000
"#;

    const NO_ENV: [(String, String); 0] = [];

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn error(toml_text: &str, pairs: &[(&str, &str)]) -> String {
        match Config::from_sources(toml_text, env(pairs)) {
            Ok(_) => panic!("expected an error for {toml_text:?} / {pairs:?}"),
            Err(e) => e.to_string(),
        }
    }

    fn time(s: &str) -> NaiveTime {
        NaiveTime::parse_from_str(s, "%H:%M").unwrap()
    }

    fn tier(name: &str, min_orders: u32, min_spend: i64) -> TierConfig {
        TierConfig {
            name: name.to_string(),
            min_orders,
            min_spend,
        }
    }

    #[test]
    fn the_contracts_full_example_parses_to_the_listed_values() {
        let c = Config::from_sources(CONTRACT_EXAMPLE, NO_ENV).unwrap();
        assert_eq!(c.database.url, "sqlite://encore.db?mode=rwc");
        assert_eq!(c.http.listen, "127.0.0.1:8080");
        assert_eq!(c.http.webhook_secret.expose_secret(), "change-me");
        assert_eq!(c.http.admin_token.expose_secret(), "change-me-too");
        assert_eq!(c.shop.name, "Mina's Closet");
        assert_eq!(c.shop.timezone, Tz::Asia__Seoul);
        assert_eq!(c.shop.default_locale, Lang::Ko);
        assert_eq!(c.shop.currency, "KRW");
        assert_eq!(c.shop.contact, "02-123-4567");
        assert_eq!(c.shop.webhook_url, None);

        let t = c.telegram.as_ref().unwrap();
        assert_eq!(t.token.expose_secret(), "123:ABC");
        assert_eq!(t.api_url, "https://api.telegram.org");
        assert_eq!(t.staff_chat_id, Some(-1001));
        assert_eq!(t.staff_user_ids, vec![111, 222]);
        assert_eq!(t.community_chat_ids, vec![-1002]);
        assert_eq!(t.vip_chat_id, Some(-1003));

        let d = c.discord.as_ref().unwrap();
        assert_eq!(d.token.expose_secret(), "...");
        assert_eq!(d.api_url, "https://discord.com");
        assert_eq!(d.guild_id, Some(10));
        assert_eq!(d.staff_channel_id, Some(1));
        assert_eq!(d.staff_user_ids, vec![3]);
        assert_eq!(d.community_channel_ids, vec![2]);
        assert_eq!(d.vip_channel_id, Some(5));
        assert_eq!(d.vip_role_id, Some(4));

        assert_eq!(c.limits, LimitsConfig::default());
        assert_eq!(c.limits.telegram_per_second, 30);
        assert_eq!(c.limits.telegram_per_chat_per_second, 1);
        assert_eq!(c.limits.telegram_per_group_per_minute, 20);
        assert_eq!(c.limits.discord_per_second, 50);
        assert_eq!(c.limits.discord_dm_opens_per_minute, 10);

        let p = &c.policy;
        assert_eq!(p.quiet_hours.to_string(), "21:00-08:00");
        assert_eq!(p.send_window.to_string(), "09:00-20:00");
        assert_eq!(
            (
                p.marketing_per_week,
                p.winback_after_days,
                p.winback_max_attempts
            ),
            (2, 90, 2)
        );
        assert_eq!(
            (
                p.checkin_after_days,
                p.handoff_first_response_hours,
                p.ticket_idle_close_days
            ),
            (30, 24, 7)
        );
        assert_eq!((p.consent_renotice_days, p.pending_event_hours), (700, 24));
        assert_eq!(c.journeys, JourneysConfig::default());
        assert!(c.journeys.checkin && c.journeys.birthday && c.journeys.winback);
        assert!(c.journeys.next_live_alerts && c.journeys.welcome_back);
        assert_eq!(
            c.moderation,
            ModerationConfig {
                flood_messages: 6,
                flood_seconds: 10,
                mute_minutes: 30,
                new_member_link_minutes: 10
            }
        );
        assert_eq!(c.scheduler.tick_seconds, 30);
        assert_eq!(c.faq.path, "faq.toml");
        assert_eq!(
            c.tiers,
            vec![
                tier("silver", 3, 0),
                tier("gold", 6, 300_000),
                tier("vip", 10, 1_000_000)
            ]
        );
    }

    #[test]
    fn no_file_and_no_environment_gives_the_built_in_defaults() {
        let c = Config::from_sources("", NO_ENV).unwrap();
        assert_eq!(c.database.url, "sqlite://encore.db?mode=rwc");
        assert_eq!(c.http.listen, "127.0.0.1:8080");
        assert!(c.http.webhook_secret.expose_secret().is_empty());
        assert_eq!(c.shop.name, "My Shop");
        assert_eq!(c.shop.timezone, Tz::Asia__Seoul);
        assert!(c.telegram.is_none() && c.discord.is_none());
        assert_eq!(c.policy, PolicyConfig::default());
        assert_eq!(c.tiers, default_tiers());
        assert_eq!(c.tiers, Config::default().tiers);
        assert_eq!(c.platforms(), Vec::<&str>::new());
    }

    #[test]
    fn the_environment_wins_over_the_file() {
        let c = Config::from_sources(
            CONTRACT_EXAMPLE,
            env(&[
                ("ENCORE_TELEGRAM_TOKEN", "999:XYZ"),
                ("ENCORE_TELEGRAM_API_URL", "http://127.0.0.1:9000/"),
                ("ENCORE_TELEGRAM_STAFF_CHAT_ID", "-42"),
                ("ENCORE_DATABASE_URL", "postgres://u@h/db"),
                ("ENCORE_HTTP_LISTEN", "0.0.0.0:9090"),
                ("ENCORE_HTTP_WEBHOOK_SECRET", "s3cret-from-env"),
                ("ENCORE_HTTP_ADMIN_TOKEN", "admin-from-env"),
                ("ENCORE_DISCORD_TOKEN", "discord-from-env"),
                ("ENCORE_DISCORD_API_URL", "http://127.0.0.1:9001"),
                ("ENCORE_SHOP_TIMEZONE", "Europe/Berlin"),
                ("ENCORE_LIMITS_TELEGRAM_PER_SECOND", "25"),
                ("ENCORE_JOURNEYS_WINBACK", "0"),
                ("ENCORE_POLICY_QUIET_HOURS", "22:00-07:00"),
                ("ENCORE_SHOP_WEBHOOK_URL", "https://shop.example/hooks"),
            ]),
        )
        .unwrap();
        let t = c.telegram.as_ref().unwrap();
        assert_eq!(t.token.expose_secret(), "999:XYZ");
        assert_eq!(t.api_url, "http://127.0.0.1:9000");
        assert_eq!(t.staff_chat_id, Some(-42));
        assert_eq!(
            t.staff_user_ids,
            vec![111, 222],
            "untouched keys keep the file's value"
        );
        assert_eq!(c.database.url, "postgres://u@h/db");
        assert_eq!(c.http.listen, "0.0.0.0:9090");
        assert_eq!(c.http.webhook_secret.expose_secret(), "s3cret-from-env");
        assert_eq!(c.http.admin_token.expose_secret(), "admin-from-env");
        let d = c.discord.as_ref().unwrap();
        assert_eq!(d.token.expose_secret(), "discord-from-env");
        assert_eq!(d.api_url, "http://127.0.0.1:9001");
        assert_eq!(c.shop.timezone, Tz::Europe__Berlin);
        assert_eq!(c.limits.telegram_per_second, 25);
        assert!(!c.journeys.winback);
        assert_eq!(c.policy.quiet_hours.to_string(), "22:00-07:00");
        assert_eq!(
            c.shop.webhook_url.as_deref(),
            Some("https://shop.example/hooks")
        );
    }

    #[test]
    fn a_list_comes_from_a_comma_separated_environment_variable() {
        let c = Config::from_sources(
            "",
            env(&[
                ("ENCORE_TELEGRAM_TOKEN", "1:A"),
                ("ENCORE_TELEGRAM_STAFF_USER_IDS", " 111, 222 ,333"),
                ("ENCORE_TELEGRAM_COMMUNITY_CHAT_IDS", ""),
                ("ENCORE_DISCORD_TOKEN", "d"),
                ("ENCORE_DISCORD_STAFF_USER_IDS", "18446744073709551615"),
            ]),
        )
        .unwrap();
        let t = c.telegram.unwrap();
        assert_eq!(t.staff_user_ids, vec![111, 222, 333]);
        assert!(t.community_chat_ids.is_empty());
        assert_eq!(c.discord.unwrap().staff_user_ids, vec![u64::MAX]);
    }

    #[test]
    fn a_bad_item_in_an_environment_list_names_the_variable() {
        let message = error(
            "",
            &[
                ("ENCORE_TELEGRAM_TOKEN", "1:A"),
                ("ENCORE_TELEGRAM_STAFF_USER_IDS", "111,abc"),
            ],
        );
        assert_eq!(
            message,
            "environment variable ENCORE_TELEGRAM_STAFF_USER_IDS: item 2: `abc` is not a whole number"
        );
    }

    #[test]
    fn an_unknown_key_in_the_file_is_named_with_its_section() {
        let message = error("[telegram]\ntokn = \"1:A\"\n", &[]);
        assert!(
            message.starts_with("unknown configuration key `telegram.tokn`"),
            "{message}"
        );
        assert!(
            message.contains("did you mean `telegram.token`"),
            "{message}"
        );

        let message = error("[limits]\ntelegram_per_second = 30\nfoo = 1\n", &[]);
        assert_eq!(message, "unknown configuration key `limits.foo`");

        let message = error("[sohp]\nname = \"x\"\n", &[]);
        assert!(
            message.starts_with("unknown configuration key `sohp`"),
            "{message}"
        );

        let message = error("[[tiers]]\nname = \"a\"\nmin_spnd = 5\n", &[]);
        assert!(
            message.starts_with("unknown configuration key `tiers[0].min_spnd`"),
            "{message}"
        );

        let message = error("[shop.extra]\nx = 1\n", &[]);
        assert!(
            message.starts_with("unknown configuration key `shop.extra`"),
            "{message}"
        );
    }

    #[test]
    fn an_unknown_telegram_environment_variable_is_named() {
        let message = error("", &[("ENCORE_TELEGRAM_X", "1")]);
        assert!(
            message.starts_with("unknown environment variable ENCORE_TELEGRAM_X:"),
            "{message}"
        );
        let message = error("", &[("ENCORE_TELEGRAM_TOKNE", "1")]);
        assert!(
            message.contains("did you mean ENCORE_TELEGRAM_TOKEN"),
            "{message}"
        );
    }

    #[test]
    fn environment_variables_outside_the_known_sections_are_ignored() {
        let c = Config::from_sources(
            "",
            env(&[
                ("ENCORE_TEST_POSTGRES_URL", "postgres://x"),
                ("ENCORE_LOG", "debug"),
                ("ENCORE_SHOPPING_LIST", "eggs"),
                ("RUST_LOG", "info"),
            ]),
        )
        .unwrap();
        assert!(c.telegram.is_none());
        assert_eq!(c.database.url, "sqlite://encore.db?mode=rwc");
    }

    #[test]
    fn tiers_from_the_environment_are_refused_with_a_pointer_to_the_file() {
        let message = error("", &[("ENCORE_TIERS_VIP", "1")]);
        assert!(
            message.starts_with("environment variable ENCORE_TIERS_VIP:"),
            "{message}"
        );
    }

    #[test]
    fn any_platform_variable_turns_the_platform_on_and_then_needs_a_token() {
        let message = error("", &[("ENCORE_TELEGRAM_STAFF_CHAT_ID", "-1")]);
        assert!(
            message.starts_with("telegram.token is required when [telegram] is configured"),
            "{message}"
        );
        let message = error("", &[("ENCORE_DISCORD_API_URL", "http://127.0.0.1:1")]);
        assert!(
            message.starts_with("discord.token is required when [discord] is configured"),
            "{message}"
        );
        let message = error("[telegram]\n", &[]);
        assert!(
            message.starts_with("telegram.token is required"),
            "{message}"
        );

        let c = Config::from_sources("", env(&[("ENCORE_DISCORD_TOKEN", "d")])).unwrap();
        assert_eq!(c.platforms(), vec!["discord"]);
        assert_eq!(c.discord.unwrap().api_url, "https://discord.com");
    }

    #[test]
    fn raising_a_limit_above_the_platforms_is_refused() {
        let message = error("[limits]\ntelegram_per_second = 40\n", &[]);
        assert_eq!(
            message,
            "`limits.telegram_per_second` is 40, but Telegram allows at most 30"
        );
        let message = error("", &[("ENCORE_LIMITS_DISCORD_DM_OPENS_PER_MINUTE", "11")]);
        assert_eq!(
            message,
            "environment variable ENCORE_LIMITS_DISCORD_DM_OPENS_PER_MINUTE is 11, but Discord allows at most 10"
        );
        let message = error("[limits]\ndiscord_per_second = 0\n", &[]);
        assert_eq!(
            message,
            "`limits.discord_per_second`: must be at least 1, not 0"
        );
        let c = Config::from_sources("[limits]\ntelegram_per_second = 10\n", NO_ENV).unwrap();
        assert_eq!(c.limits.telegram_per_second, 10);
    }

    #[test]
    fn a_bad_timezone_is_named() {
        let message = error("[shop]\ntimezone = \"Asia/Seol\"\n", &[]);
        assert!(
            message.starts_with("`shop.timezone`: unknown time zone `Asia/Seol`"),
            "{message}"
        );
        let message = error("", &[("ENCORE_SHOP_TIMEZONE", "Mars/Olympus")]);
        assert!(
            message.starts_with(
                "environment variable ENCORE_SHOP_TIMEZONE: unknown time zone `Mars/Olympus`"
            ),
            "{message}"
        );
    }

    #[test]
    fn a_fixed_offset_timezone_like_etc_gmt_minus_9_is_accepted() {
        let c = Config::from_sources("[shop]\ntimezone = \"Etc/GMT-9\"\n", NO_ENV).unwrap();
        assert_eq!(c.shop.timezone, Tz::Etc__GMTMinus9);
        let c = Config::from_sources("", env(&[("ENCORE_SHOP_TIMEZONE", "Etc/GMT+5")])).unwrap();
        assert_eq!(c.shop.timezone, Tz::Etc__GMTPlus5);
    }

    #[test]
    fn quiet_hours_wrap_midnight() {
        let quiet = TimeRange::parse("21:00-08:00").unwrap();
        assert!(quiet.contains(time("22:30")));
        assert!(quiet.contains(time("21:00")), "the start is inside");
        assert!(quiet.contains(time("00:00")));
        assert!(quiet.contains(time("07:59")));
        assert!(!quiet.contains(time("08:00")), "the end is outside");
        assert!(!quiet.contains(time("12:00")));
        assert!(!quiet.contains(time("20:59")));

        let window = TimeRange::parse("09:00-20:00").unwrap();
        assert!(window.contains(time("09:00")));
        assert!(!window.contains(time("20:00")));
        assert!(!window.contains(time("08:59")));
    }

    #[test]
    fn a_time_range_reads_and_prints_hh_mm_and_refuses_nonsense() {
        assert_eq!(
            TimeRange::parse(" 9:05 - 17:30 ").unwrap().to_string(),
            "09:05-17:30"
        );
        assert_eq!(
            "21:00-08:00".parse::<TimeRange>().unwrap(),
            DEFAULT_QUIET_HOURS
        );
        for bad in [
            "",
            "21:00",
            "21-08",
            "25:00-08:00",
            "21:60-08:00",
            "21:00-8",
            "a:bc-08:00",
        ] {
            assert!(TimeRange::parse(bad).is_err(), "{bad:?} should be refused");
        }
        let message = error("[policy]\nsend_window = \"10:00-10:00\"\n", &[]);
        assert!(
            message.starts_with(
                "`policy.send_window`: `10:00-10:00` starts and ends at the same time"
            ),
            "{message}"
        );
    }

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

    #[test]
    fn the_masked_summary_lists_every_key() {
        let c = Config::from_sources(CONTRACT_EXAMPLE, NO_ENV).unwrap();
        let summary = c.masked_summary();
        for section in SECTIONS {
            assert!(
                summary.contains(&format!("[{section}]\n")),
                "[{section}] missing"
            );
            for key in section_keys(section) {
                assert!(
                    summary.contains(&format!("\n{key} = ")),
                    "{section}.{key} missing"
                );
            }
        }
    }

    #[test]
    fn every_listed_key_can_be_set_from_the_environment() {
        for section in SECTIONS {
            for key in section_keys(section) {
                let mut config = Config::default();
                let result = set_key(&mut config, section, key, Val::Env("1"));
                assert!(
                    !matches!(result, Err(Problem::Unknown)),
                    "{section}.{key} is listed but not settable"
                );
            }
        }
    }

    #[test]
    fn bools_from_the_environment_accept_true_false_1_and_0() {
        let c = Config::from_sources(
            "",
            env(&[
                ("ENCORE_JOURNEYS_CHECKIN", "false"),
                ("ENCORE_JOURNEYS_BIRTHDAY", "0"),
                ("ENCORE_JOURNEYS_WINBACK", "TRUE"),
                ("ENCORE_JOURNEYS_WELCOME_BACK", "1"),
            ]),
        )
        .unwrap();
        assert!(!c.journeys.checkin && !c.journeys.birthday);
        assert!(c.journeys.winback && c.journeys.welcome_back);
        let message = error("", &[("ENCORE_JOURNEYS_BIRTHDAY", "yes")]);
        assert!(
            message.starts_with(
                "environment variable ENCORE_JOURNEYS_BIRTHDAY: `yes` is not true or false"
            ),
            "{message}"
        );
    }

    #[test]
    fn a_value_of_the_wrong_type_names_the_key() {
        let message = error("[scheduler]\ntick_seconds = \"30\"\n", &[]);
        assert_eq!(
            message,
            "`scheduler.tick_seconds`: expected a whole number, found text"
        );
        let message = error("[scheduler]\ntick_seconds = 0\n", &[]);
        assert_eq!(
            message,
            "`scheduler.tick_seconds`: must be at least 1, not 0"
        );
        let message = error("[shop]\ncurrency = \"krw\"\n", &[]);
        assert!(message.starts_with("`shop.currency`: `krw`"), "{message}");
        let message = error("[shop]\ndefault_locale = \"jp\"\n", &[]);
        assert_eq!(
            message,
            "`shop.default_locale`: unknown language `jp`: use ko or en"
        );
        let message = error("shop = 1\n", &[]);
        assert!(
            message.starts_with("`shop`: expected a [shop] table"),
            "{message}"
        );
        let message = error(
            "[telegram]\ntoken = \"t\"\nstaff_user_ids = [1, \"x\"]\n",
            &[],
        );
        assert_eq!(
            message,
            "`telegram.staff_user_ids`: item 2: expected a whole number, found text"
        );
        let message = error("[database]\nurl = \"mysql://root:pw@h/db\"\n", &[]);
        assert!(message.starts_with("`database.url`:"), "{message}");
        assert!(
            !message.contains("pw"),
            "the URL may hold a password: {message}"
        );
    }

    #[test]
    fn discord_ids_may_be_written_in_quotes() {
        let c = Config::from_sources(
            "[discord]\ntoken = \"d\"\nguild_id = \"1234567890123456789\"\nstaff_user_ids = [\"5\", 6]\nvip_role_id = \"\"\n",
            NO_ENV,
        )
        .unwrap();
        let d = c.discord.unwrap();
        assert_eq!(d.guild_id, Some(1_234_567_890_123_456_789));
        assert_eq!(d.staff_user_ids, vec![5, 6]);
        assert_eq!(d.vip_role_id, None);
    }

    #[test]
    fn tiers_out_of_order_or_with_duplicate_names_are_refused() {
        let message = error(
            "[[tiers]]\nname = \"gold\"\nmin_orders = 6\n[[tiers]]\nname = \"silver\"\nmin_orders = 3\n",
            &[],
        );
        assert!(
            message.starts_with("`tiers[1].min_orders`: 3 is lower than 6"),
            "{message}"
        );
        let message = error(
            "[[tiers]]\nname = \"a\"\nmin_spend = 10\n[[tiers]]\nname = \"b\"\nmin_spend = 5\n",
            &[],
        );
        assert!(message.starts_with("`tiers[1].min_spend`"), "{message}");
        let message = error(
            "[[tiers]]\nname = \"vip\"\n[[tiers]]\nname = \"VIP\"\n",
            &[],
        );
        assert!(
            message.starts_with("`tiers[1].name`: `VIP` is already"),
            "{message}"
        );
        let message = error("[[tiers]]\nmin_orders = 1\n", &[]);
        assert!(
            message.starts_with("`tiers[0].name`: is missing"),
            "{message}"
        );
        let message = error("[[tiers]]\nname = \"  \"\n", &[]);
        assert!(
            message.starts_with("`tiers[0].name`: must not be empty"),
            "{message}"
        );

        let c =
            Config::from_sources("[[tiers]]\nname = \"only\"\nmin_orders = 1\n", NO_ENV).unwrap();
        assert_eq!(
            c.tiers,
            vec![tier("only", 1, 0)],
            "the file's list replaces the default one"
        );
        let c = Config::from_sources("tiers = []\n", NO_ENV).unwrap();
        assert!(c.tiers.is_empty());
    }

    #[test]
    fn invalid_toml_is_reported_with_its_line_and_column() {
        let message = error("[shop]\nname = \"x\"\ncurrency = KRW\n", &[]);
        assert!(
            message.starts_with("the configuration is not valid TOML: line 3, column 12: "),
            "{message}"
        );
        assert!(!message.contains('\n'), "one line: {message}");
    }

    fn temp_file(name: &str, text: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("encore-config-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn loading_a_named_file_that_does_not_exist_names_it() {
        let message = Config::load(Some(Path::new("/nonexistent/encore-x.toml")))
            .unwrap_err()
            .to_string();
        assert_eq!(
            message,
            "cannot read config file `/nonexistent/encore-x.toml`: No such file or directory"
        );
    }

    #[test]
    fn loading_a_file_reads_it_and_names_it_in_syntax_errors() {
        let good = temp_file("good.toml", "[shop]\nname = \"From File\"\n");
        let c = load_with(Some(&good), env(&[("ENCORE_SHOP_CONTACT", "010")])).unwrap();
        assert_eq!(c.shop.name, "From File");
        assert_eq!(c.shop.contact, "010");

        let bad = temp_file("bad.toml", "[shop\n");
        let message = load_with(Some(&bad), NO_ENV).unwrap_err().to_string();
        assert!(
            message.starts_with(&format!(
                "config file `{}` is not valid TOML: line 1",
                bad.display()
            )),
            "{message}"
        );
    }

    #[test]
    fn warnings_point_at_example_secrets_and_missing_staff_settings() {
        let warnings = Config::default().warnings();
        assert!(
            warnings
                .iter()
                .any(|w| w.starts_with("http.webhook_secret is not set"))
        );
        assert!(
            warnings
                .iter()
                .any(|w| w.starts_with("http.admin_token is not set"))
        );
        assert!(
            warnings
                .iter()
                .any(|w| w.starts_with("no platform is configured"))
        );

        let c = Config::from_sources(CONTRACT_EXAMPLE, NO_ENV).unwrap();
        let warnings = c.warnings();
        assert!(
            warnings
                .iter()
                .any(|w| w.starts_with("http.webhook_secret is still the example value"))
        );
        assert!(
            warnings
                .iter()
                .any(|w| w.starts_with("http.admin_token is still the example value"))
        );
        assert!(!warnings.iter().any(|w| w.starts_with("no platform")));
        assert!(
            !warnings.iter().any(|w| w.contains("staff")),
            "{warnings:?}"
        );

        let c = Config::from_sources("", env(&[("ENCORE_TELEGRAM_TOKEN", "1:A")])).unwrap();
        let warnings = c.warnings();
        assert!(
            warnings
                .iter()
                .any(|w| w.starts_with("telegram.staff_chat_id is not set"))
        );
        assert!(
            warnings
                .iter()
                .any(|w| w.starts_with("telegram.staff_user_ids is empty"))
        );

        let c = Config::from_sources(
            "[http]\nwebhook_secret = \"0123456789abcdef0123\"\nadmin_token = \"fedcba9876543210fedc\"\n[shop]\ncontact = \"010\"\n[telegram]\ntoken = \"1:A\"\nstaff_chat_id = -1\nstaff_user_ids = [1]\n",
            NO_ENV,
        )
        .unwrap();
        assert_eq!(c.warnings(), Vec::<String>::new());
    }

    #[test]
    fn a_configuration_can_be_cloned_with_its_secrets() {
        let c = Config::from_sources(CONTRACT_EXAMPLE, NO_ENV).unwrap();
        let copy = c.clone();
        assert_eq!(
            copy.telegram.unwrap().token.expose_secret(),
            c.telegram.unwrap().token.expose_secret()
        );
    }
}
