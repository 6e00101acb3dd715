//! The real encore app (port 0, a temporary SQLite file) pointed at the Telegram stand-in, and
//! the shop's side of the conversation: signed events over HTTP.

use std::path::PathBuf;
use std::time::Duration;

use encore::app::RunningApp;
use encore::config::Config;
use serde_json::{Value, json};

use super::discord::{self, FakeDiscord};
use super::telegram::{FakeTelegram, TOKEN, TgUser};

pub const SECRET: &str = "test-webhook-secret-0123456789";
pub const ADMIN: &str = "test-admin-token-0123456789";
pub const STAFF_CHAT: i64 = -1001;
pub const STAFF_USER: i64 = 111;
pub const COMMUNITY_CHAT: i64 = -1002;
/// A moderated community room: a supergroup (restricting members needs one).
pub const ROOM: i64 = -1_001_000_000_002;
/// The VIP room (a supergroup: join requests need one).
pub const VIP_CHAT: i64 = -1_001_000_000_003;
/// The Discord VIP channel (visible to the VIP role).
pub const DISCORD_VIP_CHANNEL: u64 = 1_150_000_000_000_000_105;
/// Words every thank-you after a broadcast carries, in Korean.
pub const THANKS: &str = "방송에 함께해 주셔서";

/// The wall clock, plus however far the test has moved it on: the app runs in real time, and a
/// test can still make work that waits for a later time (a welcome gathering joins) due now.
#[derive(Debug, Clone, Default)]
pub struct WallClock {
    ahead: std::sync::Arc<std::sync::Mutex<chrono::Duration>>,
}

impl WallClock {
    pub fn advance(&self, by: chrono::Duration) {
        *self.ahead.lock().expect("clock lock") += by;
    }
}

impl encore::clock::Clock for WallClock {
    fn now(&self) -> chrono::DateTime<chrono::Utc> {
        chrono::Utc::now() + *self.ahead.lock().expect("clock lock")
    }
}

pub struct TestApp {
    pub tg: FakeTelegram,
    pub dc: FakeDiscord,
    pub app: Option<RunningApp>,
    pub base: String,
    pub http: reqwest::Client,
    pub db_url: String,
    pub dir: tempfile::TempDir,
    platforms: Platforms,
    clock: std::sync::Arc<dyn encore::clock::Clock>,
    /// `ENCORE_*` settings on top of the test configuration (kept across restarts).
    env: Vec<(String, String)>,
    /// More TOML after the test configuration (a `[kakao]` section), kept across restarts.
    extra_toml: String,
}

/// Which platforms a test runs encore with.
#[derive(Debug, Clone, Copy)]
pub struct Platforms {
    pub telegram: bool,
    pub discord: bool,
}

pub const TELEGRAM_ONLY: Platforms = Platforms {
    telegram: true,
    discord: false,
};
pub const DISCORD_ONLY: Platforms = Platforms {
    telegram: false,
    discord: true,
};
pub const BOTH: Platforms = Platforms {
    telegram: true,
    discord: true,
};

pub fn config_for(tg_url: Option<&str>, dc_url: Option<&str>, db_url: &str) -> Config {
    config_with_env(tg_url, dc_url, db_url, &[])
}

/// [`config_for`] with `ENCORE_*` settings on top (`ENCORE_SHOP_WEBHOOK_URL`, …).
pub fn config_with_env(
    tg_url: Option<&str>,
    dc_url: Option<&str>,
    db_url: &str,
    env: &[(String, String)],
) -> Config {
    config_with_extra(tg_url, dc_url, db_url, env, "")
}

/// [`config_with_env`] with `extra` TOML after the test configuration (a `[kakao]` section).
pub fn config_with_extra(
    tg_url: Option<&str>,
    dc_url: Option<&str>,
    db_url: &str,
    env: &[(String, String)],
    extra: &str,
) -> Config {
    let mut toml = format!(
        r#"
[database]
url = "{db_url}"
[http]
listen = "127.0.0.1:0"
webhook_secret = "{SECRET}"
admin_token = "{ADMIN}"
[shop]
name = "미나의 옷장"
contact = "02-123-4567"
[scheduler]
tick_seconds = 1
[faq]
path = "{faq}"
"#,
        faq = concat!(env!("CARGO_MANIFEST_DIR"), "/faq.toml")
    );
    if let Some(url) = tg_url {
        toml.push_str(&format!(
            r#"
[telegram]
token = "{TOKEN}"
api_url = "{url}"
staff_chat_id = {STAFF_CHAT}
staff_user_ids = [{STAFF_USER}]
community_chat_ids = [{COMMUNITY_CHAT}, {ROOM}]
vip_chat_id = {VIP_CHAT}
"#
        ));
    }
    if let Some(url) = dc_url {
        toml.push_str(&format!(
            r#"
[discord]
token = "{token}"
api_url = "{url}"
guild_id = {guild}
staff_channel_id = {staff}
staff_user_ids = [{owner}]
community_channel_ids = [{community}]
vip_role_id = {vip_role}
vip_channel_id = {DISCORD_VIP_CHANNEL}
"#,
            token = discord::TOKEN,
            guild = discord::GUILD_ID,
            staff = discord::STAFF_CHANNEL_ID,
            owner = discord::OWNER_ID,
            community = discord::COMMUNITY_CHANNEL_ID,
            vip_role = discord::VIP_ROLE_ID,
        ));
    }
    toml.push_str(extra);
    Config::from_sources(&toml, env.to_vec()).expect("test config is valid")
}

impl TestApp {
    pub async fn start() -> TestApp {
        Self::start_on(
            TELEGRAM_ONLY,
            std::sync::Arc::new(encore::clock::SystemClock),
        )
        .await
    }

    /// With a clock the test moves (promises, idle tickets).
    pub async fn start_with_clock(clock: std::sync::Arc<dyn encore::clock::Clock>) -> TestApp {
        Self::start_on(TELEGRAM_ONLY, clock).await
    }

    pub async fn start_with(platforms: Platforms) -> TestApp {
        Self::start_on(platforms, std::sync::Arc::new(encore::clock::SystemClock)).await
    }

    pub async fn start_on(
        platforms: Platforms,
        clock: std::sync::Arc<dyn encore::clock::Clock>,
    ) -> TestApp {
        Self::start_with_env(platforms, clock, Vec::new()).await
    }

    /// With `ENCORE_*` settings on top of the test configuration.
    pub async fn start_with_env(
        platforms: Platforms,
        clock: std::sync::Arc<dyn encore::clock::Clock>,
        env: Vec<(String, String)>,
    ) -> TestApp {
        Self::start_against(FakeTelegram::start().await, platforms, clock, env).await
    }

    /// Against a Telegram stand-in set up by the test (other limits).
    pub async fn start_against(
        tg: FakeTelegram,
        platforms: Platforms,
        clock: std::sync::Arc<dyn encore::clock::Clock>,
        env: Vec<(String, String)>,
    ) -> TestApp {
        Self::start_with_toml(tg, platforms, clock, env, String::new()).await
    }

    /// With `extra_toml` after the test configuration (a `[kakao]` section for the SOLAPI
    /// stand-in: `FakeSolapi::config_toml`).
    pub async fn start_with_toml(
        tg: FakeTelegram,
        platforms: Platforms,
        clock: std::sync::Arc<dyn encore::clock::Clock>,
        env: Vec<(String, String)>,
        extra_toml: String,
    ) -> TestApp {
        let dc = FakeDiscord::start().await;
        let dir = tempfile::tempdir().expect("temp dir");
        let db_url = encore::store::database_url_for_tests(dir.path()).await;
        let tg_url = platforms.telegram.then(|| tg.api_url());
        let dc_url = platforms.discord.then(|| dc.api_url());
        let config = config_with_extra(
            tg_url.as_deref(),
            dc_url.as_deref(),
            &db_url,
            &env,
            &extra_toml,
        );
        let app = RunningApp::start_with_clock(config, clock.clone())
            .await
            .expect("encore starts");
        if platforms.discord {
            assert!(
                dc.wait_connected(Duration::from_secs(20)).await,
                "encore connected to the Discord gateway"
            );
        }
        let base = format!("http://{}", app.http_addr);
        TestApp {
            tg,
            dc,
            app: Some(app),
            base,
            http: reqwest::Client::new(),
            db_url,
            dir,
            platforms,
            clock,
            env,
            extra_toml,
        }
    }

    /// Stops encore gracefully and starts it again on the same database and stand-ins.
    pub async fn restart(&mut self) {
        if let Some(app) = self.app.take() {
            app.stop().await.expect("encore stops");
        }
        let app = self.start_another().await.expect("encore starts again");
        self.base = format!("http://{}", app.http_addr);
        self.app = Some(app);
    }

    /// Another `encore serve` on this test's database, stand-ins, clock and settings: beside
    /// the running one, a standby on PostgreSQL and refused on SQLite.
    pub async fn start_another(&self) -> Result<RunningApp, encore::app::AppError> {
        let tg_url = self.platforms.telegram.then(|| self.tg.api_url());
        let dc_url = self.platforms.discord.then(|| self.dc.api_url());
        let config = config_with_extra(
            tg_url.as_deref(),
            dc_url.as_deref(),
            &self.db_url,
            &self.env,
            &self.extra_toml,
        );
        RunningApp::start_with_clock(config, self.clock.clone()).await
    }

    /// Lets everything that is due happen: every Telegram update pushed so far handled, one
    /// scheduler tick at the app's clock, then the dispatcher idle (nothing due, nothing in
    /// flight). Call it before checking that something did *not* happen. Work that waits for a
    /// later time (a welcome gathering joins) needs the clock moved first ([`WallClock`]).
    pub async fn settle(&self) {
        if self.platforms.telegram {
            self.updates_handled().await;
        }
        let app = self.app.as_ref().expect("app is running");
        assert!(
            app.settle(Duration::from_secs(60)).await,
            "the dispatcher became idle within 60 s"
        );
    }

    /// Waits until encore has handled every Telegram update pushed so far: it confirms an update
    /// (the next `getUpdates` offset) only after the router stored its effects.
    pub async fn updates_handled(&self) {
        let handled = self
            .tg
            .wait_until(Duration::from_secs(30), |tg| tg.pending_updates() == 0)
            .await;
        assert!(
            handled,
            "encore confirmed every update ({} pending)",
            self.tg.pending_updates()
        );
    }

    /// The broadcast report once `ready` holds (sends are recorded a moment after the platform
    /// has them), or as it is after 10 s.
    pub async fn report_when(&self, broadcast: &str, ready: impl Fn(&Value) -> bool) -> Value {
        let mut report = Value::Null;
        for _ in 0..200 {
            report = self
                .get_admin(&format!("/v1/broadcasts/{broadcast}/report"))
                .await
                .1;
            if ready(&report) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        report
    }

    /// The shop asks for a link token for a customer.
    pub async fn link_token(&self, customer_id: &str) -> String {
        let response = self
            .http
            .post(format!("{}/v1/customers/{customer_id}/link", self.base))
            .bearer_auth(ADMIN)
            .send()
            .await
            .expect("link answered");
        assert_eq!(
            response.status().as_u16(),
            200,
            "link token for {customer_id}"
        );
        let link: Value = response.json().await.expect("json");
        link["token"].as_str().expect("token").to_string()
    }

    /// A fault the database raises for every insert into `table` whose new row matches
    /// `condition` (SQL over `NEW`): the disk-full or damaged-page kind, on either engine.
    pub async fn refuse_inserts(&self, name: &str, table: &str, condition: &str, error: &str) {
        let store = &self.ctx().store;
        let statements = if store.backend().is_postgres() {
            vec![
                format!(
                    "CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
                     BEGIN IF {condition} THEN RAISE EXCEPTION '{error}'; END IF; RETURN NEW; END $$"
                ),
                format!(
                    "CREATE TRIGGER {name} BEFORE INSERT ON {table} FOR EACH ROW EXECUTE FUNCTION {name}()"
                ),
            ]
        } else {
            vec![format!(
                "CREATE TRIGGER {name} BEFORE INSERT ON {table} WHEN {condition}
                 BEGIN SELECT RAISE(ABORT, '{error}'); END"
            )]
        };
        for statement in statements {
            sqlx::query(&statement)
                .execute(store.pool_for_tests())
                .await
                .expect("fault installed");
        }
    }

    /// The fault of [`TestApp::refuse_inserts`] is repaired.
    pub async fn allow_inserts(&self, name: &str, table: &str) {
        let store = &self.ctx().store;
        let statements = if store.backend().is_postgres() {
            vec![
                format!("DROP TRIGGER {name} ON {table}"),
                format!("DROP FUNCTION {name}()"),
            ]
        } else {
            vec![format!("DROP TRIGGER {name}")]
        };
        for statement in statements {
            sqlx::query(&statement)
                .execute(store.pool_for_tests())
                .await
                .expect("fault repaired");
        }
    }

    /// `encore journeys preview --at AT --json`, run as the host would beside this app, parsed.
    pub fn journeys_preview_json(&self, at: &str) -> Value {
        let cli = std::process::Command::new(env!("CARGO_BIN_EXE_encore"))
            .args(["journeys", "preview", "--at", at, "--json"])
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .env("ENCORE_DATABASE_URL", &self.db_url)
            .current_dir(self.dir.path())
            .output()
            .expect("encore runs");
        assert!(
            cli.status.success(),
            "{}",
            String::from_utf8_lossy(&cli.stderr)
        );
        serde_json::from_slice(&cli.stdout).expect("json")
    }

    pub fn db_path(&self) -> PathBuf {
        self.dir.path().join("encore.db")
    }

    pub fn ctx(&self) -> &encore::context::AppContext {
        &self.app.as_ref().expect("app is running").ctx
    }

    /// Posts a body signed as the shop signs it, at the app's time (a test may have moved it).
    pub async fn post_signed(&self, body: &[u8]) -> reqwest::Response {
        let ts = self.clock.now().timestamp();
        self.post_with(
            body,
            ts,
            &encore::api::sign(SECRET.as_bytes(), ts, body),
            "application/json",
        )
        .await
    }

    pub async fn post_with(
        &self,
        body: &[u8],
        ts: i64,
        signature: &str,
        content_type: &str,
    ) -> reqwest::Response {
        self.http
            .post(format!("{}/v1/events", self.base))
            .header("content-type", content_type)
            .header("x-encore-timestamp", ts.to_string())
            .header("x-encore-signature", signature)
            .body(body.to_vec())
            .send()
            .await
            .expect("request is answered")
    }

    /// Posts `{"events": [...]}` and returns the status and JSON answer.
    pub async fn post_events(&self, events: &[Value]) -> (u16, Value) {
        let body = serde_json::to_vec(&json!({ "events": events })).expect("json");
        let response = self.post_signed(&body).await;
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    pub async fn get_admin(&self, path: &str) -> (u16, Value) {
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .bearer_auth(ADMIN)
            .send()
            .await
            .expect("request is answered");
        (
            response.status().as_u16(),
            response.json().await.unwrap_or(Value::Null),
        )
    }

    /// The shop asks for a link token, the viewer taps it (`/start <token>`), and encore asks
    /// for marketing consent. Returns once the consent question arrived.
    pub async fn link_viewer(&self, customer_id: &str, user: &TgUser) {
        self.link_viewers(&[(customer_id.to_string(), user.clone())])
            .await;
    }

    /// The same for many viewers at once, as they would tap their links.
    pub async fn link_viewers(&self, viewers: &[(String, TgUser)]) {
        for (customer_id, user) in viewers {
            let token = self.link_token(customer_id).await;
            self.tg.push_private_text(user, &format!("/start {token}"));
        }
        let chats: Vec<i64> = viewers.iter().map(|(_, u)| u.id).collect();
        let asked = self
            .tg
            .wait_until(Duration::from_secs(60), |tg| {
                chats
                    .iter()
                    .all(|&chat| tg.sent_to(chat).iter().any(|m| m.reply_markup.is_some()))
            })
            .await;
        assert!(asked, "the consent question reached every viewer");
    }
}

/// Posts `{"events": [...]}`, signed as the shop signs, to the encore at `base` (any process,
/// not only a `TestApp`'s); returns the status.
pub async fn post_events_to(base: &str, events: &[Value]) -> u16 {
    let body = serde_json::to_vec(&json!({ "events": events })).expect("json");
    let ts = chrono::Utc::now().timestamp();
    reqwest::Client::new()
        .post(format!("{base}/v1/events"))
        .header("content-type", "application/json")
        .header("x-encore-timestamp", ts.to_string())
        .header(
            "x-encore-signature",
            encore::api::sign(SECRET.as_bytes(), ts, &body),
        )
        .body(body)
        .send()
        .await
        .expect("events answered")
        .status()
        .as_u16()
}

/// A staff member writes `text` in the Telegram staff chat.
pub fn staff_says(t: &TestApp, text: &str) {
    let staff = TgUser::new(STAFF_USER, "매니저");
    t.tg.push_group_text(STAFF_CHAT, "staff", &staff, text, None);
}

/// The callback data of a Telegram message's inline buttons, row by row, in order.
pub fn buttons(message: &super::telegram::SentMessage) -> Vec<String> {
    message
        .reply_markup
        .as_ref()
        .and_then(|m| m["inline_keyboard"].as_array().cloned())
        .unwrap_or_default()
        .iter()
        .flat_map(|row| row.as_array().cloned().unwrap_or_default())
        .filter_map(|b| b["callback_data"].as_str().map(str::to_string))
        .collect()
}

/// Waits (up to 30 s) for a message to `chat` containing `needle`; returns the latest such.
pub async fn wait_text(tg: &FakeTelegram, chat: i64, needle: &str) -> super::telegram::SentMessage {
    let found = tg
        .wait_until(Duration::from_secs(30), |tg| {
            tg.sent_to(chat).iter().any(|m| m.text.contains(needle))
        })
        .await;
    assert!(
        found,
        "chat {chat} got a message containing {needle:?}: {:?}",
        tg.sent_to(chat).iter().map(|m| &m.text).collect::<Vec<_>>()
    );
    tg.sent_to(chat)
        .into_iter()
        .rev()
        .find(|m| m.text.contains(needle))
        .expect("found")
}

/// A moment in UTC, to the minute.
pub fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> chrono::DateTime<chrono::Utc> {
    use chrono::TimeZone;
    chrono::Utc
        .with_ymd_and_hms(y, mo, d, h, mi, 0)
        .single()
        .expect("a time")
}

/// The shop's `customer.upserted` for a Korean customer with their marketing answer as of `at`.
pub fn customer_with_consent(
    id: &str,
    name: &str,
    marketing: bool,
    at: chrono::DateTime<chrono::Utc>,
) -> Value {
    json!({"id": format!("cu-{id}"), "type": "customer.upserted", "occurred_at": at.to_rfc3339(),
        "customer": {"id": id, "name": name, "locale": "ko",
            "consent": {"marketing": marketing, "at": at.to_rfc3339(), "source": "checkout",
                "wording": "광고성 정보 수신에 동의합니다"}}})
}

pub fn customer(id: &str, name: &str) -> Value {
    json!({"id": format!("cu-{id}"), "type": "customer.upserted", "occurred_at": chrono::Utc::now().to_rfc3339(),
        "customer": {"id": id, "name": name, "locale": "ko"}})
}

pub fn order(id: &str, customer_id: &str, broadcast: &str, item: &str, price: i64) -> Value {
    json!({"id": format!("op-{id}"), "type": "order.placed", "occurred_at": chrono::Utc::now().to_rfc3339(),
        "order": {"id": id, "customer_id": customer_id, "broadcast_id": broadcast,
            "items": [{"sku": format!("sku-{item}"), "name": item, "quantity": 1, "unit_price": price}],
            "total": price, "currency": "KRW"}})
}

pub fn ended(event_id: &str, broadcast: &str) -> Value {
    json!({"id": event_id, "type": "broadcast.ended", "occurred_at": chrono::Utc::now().to_rfc3339(),
        "broadcast": {"id": broadcast, "title": "겨울 아우터 라이브"}})
}

/// Seeds linked buyers straight into the store (set-up for tests about sending, not linking).
pub async fn seed_linked_buyers(
    store: &encore::store::Store,
    broadcast: &str,
    count: usize,
    first_user: i64,
) {
    use encore::domain::Platform;
    use encore::domain::events::{OrderItem, OrderRecord};
    use encore::flows::{Effects, after_broadcast};
    use encore::store::customers::{NewIdentity, link_identity, upsert_customer};
    let now = chrono::Utc::now();
    let mut tx = store.begin().await.expect("tx");
    for i in 0..count {
        let customer_id = format!("c-{i}");
        let user = (first_user + i as i64).to_string();
        upsert_customer(
            &mut tx,
            &customer_id,
            &format!("구매자{i}"),
            Some("ko"),
            None,
            now,
        )
        .await
        .expect("customer");
        link_identity(
            &mut tx,
            &customer_id,
            &NewIdentity {
                platform: Platform::Telegram,
                user_id: &user,
                chat_id: &user,
                display_name: None,
                platform_lang: Some("ko"),
            },
            now,
        )
        .await
        .expect("identity");
        let record = OrderRecord {
            id: format!("o-{i}"),
            customer_id: customer_id.clone(),
            broadcast_id: Some(broadcast.to_string()),
            items: vec![OrderItem {
                sku: format!("sku-{i}"),
                name: format!("상품{i}"),
                category: None,
                quantity: 1,
                unit_price: 10_000,
            }],
            total: 10_000,
            currency: "KRW".to_string(),
            placed_at: Some(now),
        };
        after_broadcast::order_placed(
            &encore::config::Config::default(),
            &mut tx,
            &record,
            now,
            Effects::Silent,
            now,
        )
        .await
        .expect("order");
    }
    tx.commit().await.expect("commit");
}

pub fn custom_ids(message: &discord::SentMessage) -> Vec<String> {
    message
        .components
        .as_ref()
        .and_then(|c| c.as_array().cloned())
        .unwrap_or_default()
        .iter()
        .flat_map(|row| row["components"].as_array().cloned().unwrap_or_default())
        .filter_map(|b| b["custom_id"].as_str().map(str::to_string))
        .collect()
}

/// Each viewer uses `/link <token>` in a DM; returns once every consent question arrived.
pub async fn link_on_discord(t: &TestApp, viewers: &[(String, discord::DcUser)]) {
    for (customer_id, user) in viewers {
        let token = t.link_token(customer_id).await;
        t.dc.push_command(user, "link", vec![("token", json!(token))], true);
    }
    let ids: Vec<u64> = viewers.iter().map(|(_, u)| u.id).collect();
    let asked =
        t.dc.wait_until(Duration::from_secs(60), |dc| {
            ids.iter().all(|&id| {
                dc.sent_to_user(id)
                    .iter()
                    .any(|m| custom_ids(m).iter().any(|c| c == "consent:marketing:yes"))
            })
        })
        .await;
    assert!(asked, "every viewer got the consent question");
}

/// Waits (up to 30 s) for a message to a Discord channel containing `needle`; returns the
/// latest such.
pub async fn wait_channel(dc: &FakeDiscord, channel: u64, needle: &str) -> discord::SentMessage {
    let found = dc
        .wait_until(Duration::from_secs(30), |dc| {
            dc.sent_to(channel)
                .iter()
                .any(|m| m.content.contains(needle))
        })
        .await;
    assert!(
        found,
        "channel {channel} got {needle:?}: {:?}",
        dc.sent_to(channel)
            .iter()
            .map(|m| &m.content)
            .collect::<Vec<_>>()
    );
    dc.sent_to(channel)
        .into_iter()
        .rev()
        .find(|m| m.content.contains(needle))
        .expect("found")
}

pub async fn wait_dm(dc: &FakeDiscord, user: u64, needle: &str) -> discord::SentMessage {
    let found = dc
        .wait_until(Duration::from_secs(30), |dc| {
            dc.sent_to_user(user)
                .iter()
                .any(|m| m.content.contains(needle))
        })
        .await;
    assert!(
        found,
        "user {user} got {needle:?}: {:?}",
        dc.sent_to_user(user)
            .iter()
            .map(|m| &m.content)
            .collect::<Vec<_>>()
    );
    dc.sent_to_user(user)
        .into_iter()
        .rev()
        .find(|m| m.content.contains(needle))
        .expect("found")
}

/// The secret token webhook-mode tests set (`telegram.webhook_secret_token`).
pub const TG_SECRET_TOKEN: &str = "test-telegram-secret_0123456789";

/// `ENCORE_*` settings for Telegram's webhook mode. Telegram must be told the URL before the
/// app starts, so the app listens on a port picked here rather than on port 0, and
/// `telegram.webhook_url` names it.
pub fn webhook_env() -> Vec<(String, String)> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free local port")
        .port();
    [
        ("ENCORE_HTTP_LISTEN", format!("127.0.0.1:{port}")),
        ("ENCORE_TELEGRAM_MODE", "webhook".to_string()),
        (
            "ENCORE_TELEGRAM_WEBHOOK_URL",
            format!("http://127.0.0.1:{port}/telegram/webhook"),
        ),
        (
            "ENCORE_TELEGRAM_WEBHOOK_SECRET_TOKEN",
            TG_SECRET_TOKEN.to_string(),
        ),
    ]
    .into_iter()
    .map(|(var, value)| (var.to_string(), value))
    .collect()
}
