//! Loading as a host meets it: the contract's example, defaults, the environment over the file,
//! and the error for each kind of bad or unknown setting. Shared helpers for the other files'
//! tests are here too.

use std::path::Path;

use chrono_tz::Tz;
use secrecy::ExposeSecret;

use super::*;
use crate::domain::lang::Lang;

/// The example of contract §2, verbatim.
pub(super) const CONTRACT_EXAMPLE: &str = r#"
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

[kakao]                                     # §11; absent = KakaoTalk off
provider = "solapi"
api_url = "https://api.solapi.com"
api_key = "..."
api_secret = "..."
pf_id = "KA01PF..."                         # the shop's Kakao channel (발신 프로필)
sender = "0212345678"                       # the shop's registered number
[kakao.templates]                           # encore message → approved 알림톡 template id
thank-you = "KA01TP0001"
order-shipped = "KA01TP0002"
order-delayed = "KA01TP0003"

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

pub(super) const NO_ENV: [(String, String); 0] = [];

pub(super) fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

pub(super) fn error(toml_text: &str, pairs: &[(&str, &str)]) -> String {
    match Config::from_sources(toml_text, env(pairs)) {
        Ok(_) => panic!("expected an error for {toml_text:?} / {pairs:?}"),
        Err(e) => e.to_string(),
    }
}

pub(super) fn tier(name: &str, min_orders: u32, min_spend: i64) -> TierConfig {
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
    assert_eq!(c.tiers, super::policy::default_tiers());
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
        "`limits.telegram_per_second` is 40, but Telegram allows at most 30 (up to 1000 with \
         telegram.paid_broadcast = true: Telegram's paid broadcasts, billed in Stars for the \
         messages above its free limit)"
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
fn paid_broadcasts_allow_telegram_up_to_a_thousand_a_second() {
    let paid = "[telegram]\ntoken = \"1:A\"\npaid_broadcast = true\n[limits]\n";
    let c = Config::from_sources(&format!("{paid}telegram_per_second = 1000\n"), NO_ENV).unwrap();
    assert_eq!(c.limits.telegram_per_second, 1000);
    assert!(c.telegram.unwrap().paid_broadcast);
    // The default stays the free limit: paying is the host's choice of rate, not encore's.
    let c = Config::from_sources(paid, NO_ENV).unwrap();
    assert_eq!(c.limits.telegram_per_second, 30);
    let message = error(&format!("{paid}telegram_per_second = 1001\n"), &[]);
    assert_eq!(
        message,
        "`limits.telegram_per_second` is 1001, but Telegram allows at most 1000 with paid broadcasts"
    );
    // Per-chat limits do not change with paid broadcasts.
    let message = error(&format!("{paid}telegram_per_chat_per_second = 2\n"), &[]);
    assert_eq!(
        message,
        "`limits.telegram_per_chat_per_second` is 2, but Telegram allows at most 1"
    );
    let c = Config::from_sources(
        "[telegram]\ntoken = \"1:A\"\n",
        env(&[
            ("ENCORE_TELEGRAM_PAID_BROADCAST", "true"),
            ("ENCORE_LIMITS_TELEGRAM_PER_SECOND", "500"),
        ]),
    )
    .unwrap();
    assert_eq!(c.limits.telegram_per_second, 500);
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

    let c = Config::from_sources("[[tiers]]\nname = \"only\"\nmin_orders = 1\n", NO_ENV).unwrap();
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
fn a_configuration_can_be_cloned_with_its_secrets() {
    let c = Config::from_sources(CONTRACT_EXAMPLE, NO_ENV).unwrap();
    let copy = c.clone();
    assert_eq!(
        copy.telegram.unwrap().token.expose_secret(),
        c.telegram.unwrap().token.expose_secret()
    );
}

/// The summary's sections and their `key = value` lines, in order.
fn summary_keys(summary: &str) -> Vec<(String, String, String)> {
    let mut section = String::new();
    let mut keys = Vec::new();
    for line in summary.lines() {
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = name.to_string();
        } else if let Some((key, value)) = line.split_once(" = ") {
            keys.push((section.clone(), key.to_string(), value.to_string()));
        }
    }
    keys
}

/// The text an environment variable would hold for a value the summary shows.
fn as_env_text(shown: &str) -> String {
    let unquote = |s: &str| {
        s.strip_prefix('"')
            .and_then(|s| s.strip_suffix('"'))
            .map_or(s.to_string(), |s| {
                s.replace("\\\"", "\"").replace("\\\\", "\\")
            })
    };
    if shown == "(not set)" {
        String::new()
    } else if shown == "\"********\"" {
        "a-secret-from-the-environment".to_string()
    } else if let Some(items) = shown.strip_prefix('[').and_then(|s| s.strip_suffix(']')) {
        items.split(", ").map(unquote).collect::<Vec<_>>().join(",")
    } else {
        unquote(shown)
    }
}

#[test]
fn the_masked_summary_shows_every_field_of_every_section() {
    let c = Config::from_sources(CONTRACT_EXAMPLE, NO_ENV).unwrap();
    let shown = summary_keys(&c.masked_summary());
    let sections: [(&str, &[&str]); 14] = [
        ("database", layered::field_names::<DatabaseConfig>()),
        ("cluster", layered::field_names::<ClusterConfig>()),
        ("http", layered::field_names::<HttpConfig>()),
        ("shop", layered::field_names::<ShopConfig>()),
        ("telegram", layered::field_names::<TelegramConfig>()),
        ("discord", layered::field_names::<DiscordConfig>()),
        ("kakao", layered::field_names::<KakaoConfig>()),
        ("limits", layered::field_names::<LimitsConfig>()),
        ("policy", layered::field_names::<PolicyConfig>()),
        ("journeys", layered::field_names::<JourneysConfig>()),
        ("moderation", layered::field_names::<ModerationConfig>()),
        ("scheduler", layered::field_names::<SchedulerConfig>()),
        ("faq", layered::field_names::<FaqConfig>()),
        ("retention", layered::field_names::<RetentionConfig>()),
    ];
    let top_level = layered::field_names::<Config>();
    assert_eq!(
        top_level.len(),
        sections.len() + 1,
        "a section is missing here"
    );
    for (section, keys) in sections {
        assert!(top_level.contains(&section), "{section}");
        assert!(!keys.is_empty(), "{section} has no keys");
        for key in keys {
            assert!(
                shown.iter().any(|(s, k, _)| s == section && k == key),
                "{section}.{key} is not in the summary"
            );
        }
    }
}

/// The one-field property: whatever the summary shows can be set from the environment, by the
/// variable its section and key name, and reads back as the same value.
#[test]
fn every_key_in_the_summary_can_be_set_from_the_environment() {
    let c = Config::from_sources(CONTRACT_EXAMPLE, NO_ENV).unwrap();
    let shown = summary_keys(&c.masked_summary());
    // Lists of tables and maps of notes come from the file only.
    let settable: Vec<_> = shown
        .iter()
        .filter(|(s, k, _)| s != "[tiers]" && !(s == "kakao" && k == "templates"))
        .collect();
    assert!(settable.len() >= 50, "{settable:?}");
    for (section, key, value) in settable {
        let var = format!("ENCORE_{}_{}", section, key).to_ascii_uppercase();
        let mut vars = vec![(var.clone(), as_env_text(value))];
        if (section == "telegram" || section == "discord") && key != "token" {
            vars.push((
                format!("ENCORE_{}_TOKEN", section.to_ascii_uppercase()),
                "t".into(),
            ));
        }
        if section == "kakao" {
            for (required, value) in [
                ("api_key", "k"),
                ("api_secret", "s"),
                ("pf_id", "p"),
                ("sender", "0212345678"),
            ] {
                if key != required {
                    vars.push((
                        format!("ENCORE_KAKAO_{}", required.to_ascii_uppercase()),
                        value.into(),
                    ));
                }
            }
        }
        let loaded = Config::from_sources("", vars.clone())
            .unwrap_or_else(|e| panic!("{var} from {vars:?}: {e}"));
        let again = summary_keys(&loaded.masked_summary());
        assert!(
            again.contains(&(section.clone(), key.clone(), value.clone())),
            "{var}={:?} does not show as {section}.{key} = {value}",
            as_env_text(value)
        );
    }
}

#[test]
fn retention_and_the_http_limits_read_as_the_contract_names_them() {
    let c = Config::default();
    assert_eq!(
        (
            c.retention.message_days,
            c.retention.event_days,
            c.retention.update_days
        ),
        (90, 90, 7)
    );
    assert_eq!(c.http.request_timeout_seconds, 30, "CONTRACT §3: 30 s");
    let c = Config::from_sources(
        "[retention]\nmessage_days = 0\nevent_days = 30\nupdate_days = 1\n",
        env(&[("ENCORE_HTTP_REQUEST_TIMEOUT_SECONDS", "5")]),
    )
    .unwrap();
    assert_eq!(c.retention.message_days, 0, "0: scrubbed at once");
    assert_eq!(c.retention.event_days, 30);
    assert_eq!(c.http.request_timeout_seconds, 5);
    let message = error("[http]\nrequest_timeout_seconds = 0\n", &[]);
    assert!(
        message.contains("http.request_timeout_seconds"),
        "{message}"
    );
    let message = error("[retention]\nmessage_dayz = 1\n", &[]);
    assert!(message.contains("retention.message_dayz"), "{message}");
}

#[test]
fn serve_refuses_empty_short_and_example_secrets_naming_the_key_and_never_the_value() {
    let problems = |toml: &str| -> Vec<String> {
        Config::from_sources(toml, NO_ENV)
            .unwrap()
            .unsafe_secrets()
            .iter()
            .map(ToString::to_string)
            .collect()
    };
    let example = problems(CONTRACT_EXAMPLE);
    assert_eq!(example.len(), 2, "{example:?}");
    assert!(example[0].starts_with("http.webhook_secret is still the example value"));
    assert!(example[1].starts_with("http.admin_token is still the example value"));
    assert!(
        example.iter().all(|p| !p.contains("change-me")),
        "{example:?}"
    );
    assert!(example[0].contains("encore serve refuses to start"));

    let short =
        problems("[http]\nwebhook_secret = \"short-secret\"\nadmin_token = \"0123456789abcdef\"\n");
    assert_eq!(short.len(), 1, "{short:?}");
    assert!(short[0].starts_with("http.webhook_secret is shorter than 16 characters"));
    assert!(!short[0].contains("short-secret"));

    let unset = problems("");
    assert!(unset[0].starts_with("http.webhook_secret is not set"));
    assert!(unset[0].contains("ENCORE_HTTP_WEBHOOK_SECRET"));

    assert!(
        problems(
            "[http]\nwebhook_secret = \"0123456789abcdef\"\nadmin_token = \"fedcba9876543210\"\n"
        )
        .is_empty()
    );
}

#[test]
fn the_cluster_lease_and_the_pool_size_read_as_the_contract_names_them() {
    let c = Config::default();
    assert_eq!(c.cluster.lease_seconds, 10, "CONTRACT §2 default");
    assert_eq!(c.database.max_connections, 10, "CONTRACT §2 default");
    let c = Config::from_sources(
        "[database]\nurl = \"postgres://encore@db.internal/encore\"\nmax_connections = 4\n[cluster]\nlease_seconds = 3\n",
        NO_ENV,
    )
    .unwrap();
    assert!(c.database.is_postgres());
    assert_eq!(
        (c.database.max_connections, c.cluster.lease_seconds),
        (4, 3)
    );
    let c = Config::from_sources(
        "",
        env(&[
            ("ENCORE_CLUSTER_LEASE_SECONDS", "300"),
            ("ENCORE_DATABASE_MAX_CONNECTIONS", "1"),
        ]),
    )
    .unwrap();
    assert_eq!(
        (c.database.max_connections, c.cluster.lease_seconds),
        (1, 300)
    );
    assert!(!c.database.is_postgres(), "the default is SQLite");

    assert_eq!(
        error("[cluster]\nlease_seconds = 2\n", &[]),
        "`cluster.lease_seconds`: must be from 3 to 300, not 2"
    );
    let message = error("", &[("ENCORE_CLUSTER_LEASE_SECONDS", "301")]);
    assert!(
        message.contains("ENCORE_CLUSTER_LEASE_SECONDS") && message.contains("from 3 to 300"),
        "{message}"
    );
    assert_eq!(
        error("[database]\nmax_connections = 0\n", &[]),
        "`database.max_connections`: must be at least 1, not 0"
    );
    let message = error("[cluster]\nleader = true\n", &[]);
    assert!(message.contains("cluster.leader"), "{message}");
}

const WEBHOOK: &str = "[telegram]\ntoken = \"1:A\"\nmode = \"webhook\"\nwebhook_url = \"https://bot.example.com/telegram/webhook\"\n";
const GOOD_HTTP: &str =
    "[http]\nwebhook_secret = \"0123456789abcdef\"\nadmin_token = \"fedcba9876543210\"\n";

#[test]
fn telegram_polls_unless_webhook_mode_is_asked_for() {
    let c = Config::from_sources("[telegram]\ntoken = \"1:A\"\n", NO_ENV).unwrap();
    let t = c.telegram.unwrap();
    assert_eq!(t.mode, TelegramMode::Polling);
    assert!(!t.webhook_mode());
    let c = Config::from_sources(WEBHOOK, NO_ENV).unwrap();
    let t = c.telegram.unwrap();
    assert!(t.webhook_mode());
    assert_eq!(
        t.webhook_url.as_deref(),
        Some("https://bot.example.com/telegram/webhook")
    );
}

#[test]
fn an_unknown_telegram_mode_names_the_key_and_the_two_modes() {
    let message = error("[telegram]\ntoken = \"1:A\"\nmode = \"hook\"\n", &[]);
    assert!(message.contains("telegram.mode"), "{message}");
    assert!(
        message.contains("polling") && message.contains("webhook"),
        "{message}"
    );
    let message = error(
        "",
        &[
            ("ENCORE_TELEGRAM_TOKEN", "1:A"),
            ("ENCORE_TELEGRAM_MODE", "push"),
        ],
    );
    assert!(message.contains("ENCORE_TELEGRAM_MODE"), "{message}");
}

#[test]
fn webhook_mode_without_a_webhook_url_names_the_key() {
    let message = error("[telegram]\ntoken = \"1:A\"\nmode = \"webhook\"\n", &[]);
    assert!(
        message.starts_with("`telegram.webhook_url`: is required"),
        "{message}"
    );
    let message = error(
        "[telegram]\ntoken = \"1:A\"\nmode = \"webhook\"\nwebhook_url = \"\"\n",
        &[],
    );
    assert!(message.contains("telegram.webhook_url"), "{message}");
    let message = error(
        "",
        &[
            ("ENCORE_TELEGRAM_TOKEN", "1:A"),
            ("ENCORE_TELEGRAM_MODE", "webhook"),
            ("ENCORE_TELEGRAM_WEBHOOK_URL", ""),
        ],
    );
    assert!(message.contains("ENCORE_TELEGRAM_WEBHOOK_URL"), "{message}");
    // Polling needs no URL.
    assert!(
        Config::from_sources("[telegram]\ntoken = \"1:A\"\nmode = \"polling\"\n", NO_ENV).is_ok()
    );
}

#[test]
fn the_webhook_keys_come_from_the_environment_too() {
    let c = Config::from_sources(
        "[telegram]\ntoken = \"1:A\"\n",
        env(&[
            ("ENCORE_TELEGRAM_MODE", "webhook"),
            (
                "ENCORE_TELEGRAM_WEBHOOK_URL",
                "https://bot.example.com/telegram/webhook",
            ),
            (
                "ENCORE_TELEGRAM_WEBHOOK_SECRET_TOKEN",
                "from-the-env_0123456789",
            ),
        ]),
    )
    .unwrap();
    let t = c.telegram.as_ref().unwrap();
    assert!(t.webhook_mode());
    assert_eq!(
        t.webhook_secret_token.expose_secret(),
        "from-the-env_0123456789"
    );
    let summary = c.masked_summary();
    assert!(summary.contains("mode = \"webhook\""), "{summary}");
    assert!(
        summary.contains("webhook_secret_token = \"********\""),
        "{summary}"
    );
    assert!(!summary.contains("from-the-env"), "{summary}");
}

#[test]
fn serve_refuses_a_weak_webhook_secret_token_in_webhook_mode_only() {
    let problems = |token: &str| -> Vec<String> {
        let toml = format!("{GOOD_HTTP}{WEBHOOK}webhook_secret_token = \"{token}\"\n");
        Config::from_sources(&toml, NO_ENV)
            .unwrap()
            .unsafe_secrets()
            .iter()
            .map(ToString::to_string)
            .collect()
    };
    let cases = [
        ("", "is not set"),
        ("...", "is still the example value"),
        ("change-me", "is still the example value"),
        ("short_token", "is shorter than 16 characters"),
        (
            "has spaces in it, sixteen+",
            "has characters or a length Telegram refuses",
        ),
        (
            "ünïcödé-but-long-enough",
            "has characters or a length Telegram refuses",
        ),
    ];
    for (token, problem) in cases {
        let found = problems(token);
        assert_eq!(found.len(), 1, "{token:?}: {found:?}");
        assert!(
            found[0].starts_with(&format!("telegram.webhook_secret_token {problem}")),
            "{token:?}: {found:?}"
        );
        assert!(
            found[0].contains("ENCORE_TELEGRAM_WEBHOOK_SECRET_TOKEN"),
            "{found:?}"
        );
        assert!(token.is_empty() || !found[0].contains(token), "{found:?}");
    }
    let too_long = "a".repeat(257);
    assert!(problems(&too_long)[0].contains("Telegram refuses"));
    assert!(problems(&"a".repeat(256)).is_empty());
    assert!(problems("Abc-def_0123456789").is_empty());

    // In polling mode the token is not used, so it is not judged.
    let polling = format!("{GOOD_HTTP}[telegram]\ntoken = \"1:A\"\nwebhook_secret_token = \"x\"\n");
    assert!(
        Config::from_sources(&polling, NO_ENV)
            .unwrap()
            .unsafe_secrets()
            .is_empty()
    );
}

#[test]
fn the_dashboard_is_on_by_default_and_can_be_switched_off_in_the_file_or_the_environment() {
    assert!(
        Config::default().http.dashboard,
        "CONTRACT §2: default true"
    );
    let c = Config::from_sources("[http]\ndashboard = false\n", env(&[])).unwrap();
    assert!(!c.http.dashboard);
    let c = Config::from_sources("", env(&[("ENCORE_HTTP_DASHBOARD", "false")])).unwrap();
    assert!(!c.http.dashboard);
    let message = error("[http]\ndashboard = \"sometimes\"\n", &[]);
    assert!(message.contains("http.dashboard"), "{message}");
}

#[test]
fn the_contracts_kakao_section_reads_with_its_templates_and_the_secret_masked() {
    let c = Config::from_sources(CONTRACT_EXAMPLE, NO_ENV).unwrap();
    let kakao = c.kakao.as_ref().expect("[kakao] is on");
    assert_eq!(kakao.provider, KakaoProvider::Solapi);
    assert_eq!(
        (
            kakao.api_url.as_str(),
            kakao.pf_id.as_str(),
            kakao.sender.as_str()
        ),
        ("https://api.solapi.com", "KA01PF...", "0212345678")
    );
    assert_eq!(
        kakao.templates.get("order-delayed").map(String::as_str),
        Some("KA01TP0003")
    );
    assert!(c.notes_by_phone());
    assert!(c.platforms().contains(&"kakao"));
    let text = CONTRACT_EXAMPLE.replace(
        "api_secret = \"...\"",
        "api_secret = \"solapi-secret-do-not-print\"",
    );
    let summary = Config::from_sources(&text, NO_ENV)
        .unwrap()
        .masked_summary();
    assert!(!summary.contains("solapi-secret-do-not-print"), "{summary}");
    assert!(summary.contains("api_secret = \"********\""), "{summary}");
    assert!(
        summary.contains("templates = { order-delayed = \"KA01TP0003\", order-shipped = \"KA01TP0002\", thank-you = \"KA01TP0001\" }"),
        "{summary}"
    );
}

#[test]
fn a_kakao_section_without_its_account_or_with_an_unknown_note_is_refused_naming_the_key() {
    let full = "[kakao]\napi_key = \"k\"\napi_secret = \"s\"\npf_id = \"KA01PF1\"\nsender = \"0212345678\"\n";
    assert!(Config::from_sources(full, NO_ENV).is_ok());
    let without_secret = full.replace("api_secret = \"s\"\n", "");
    assert!(
        error(&without_secret, &[]).starts_with("`kakao.api_secret`: is required when [kakao]"),
        "{}",
        error(&without_secret, &[])
    );
    assert!(
        error(&full.replace("pf_id = \"KA01PF1\"\n", ""), &[]).contains("`kakao.pf_id`"),
        "a missing channel is named"
    );
    let dashed = full.replace("0212345678", "02-1234-5678");
    assert!(
        error(&dashed, &[]).contains("`kakao.sender`"),
        "{}",
        error(&dashed, &[])
    );
    let unknown = format!("{full}[kakao.templates]\nvip-code = \"KA01TP9\"\n");
    let message = error(&unknown, &[]);
    assert!(
        message.starts_with("`kakao.templates.vip-code`: `vip-code` is not a note encore sends by 알림톡; use one of: thank-you, order-placed"),
        "{message}"
    );
    assert!(
        error("[kakao]\nprovider = \"aligo\"\n", &[]).contains("`kakao.provider`"),
        "only SOLAPI is known"
    );
    let warned = Config::from_sources(full, NO_ENV).unwrap().warnings();
    assert!(
        warned.iter().any(|w| w.contains("no [kakao.templates]")),
        "{warned:?}"
    );
    assert!(
        warned
            .iter()
            .any(|w| w.starts_with("no messenger is configured") && w.contains("KakaoTalk")),
        "{warned:?}"
    );
}
