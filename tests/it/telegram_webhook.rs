//! Telegram's webhook mode (CONTRACT §2 `telegram.mode`, §3 `POST /telegram/webhook`, §10):
//! encore sets the webhook instead of polling, Telegram posts each update with the secret
//! token, any process stores it once by `update_id`, and the update is answered once.

use std::sync::Arc;
use std::time::Duration;

use encore::clock::SystemClock;
use serde_json::{Value, json};

use crate::hardening::{encore, text};
use crate::support::app::*;
use crate::support::telegram::{SECRET_TOKEN_HEADER, TOKEN, TgUser};

async fn start_in_webhook_mode() -> TestApp {
    let t = TestApp::start_with_env(TELEGRAM_ONLY, Arc::new(SystemClock), webhook_env()).await;
    let set =
        t.tg.wait_until(Duration::from_secs(20), |tg| tg.webhook().is_some())
            .await;
    assert!(set, "encore called setWebhook: {:?}", t.tg.requests());
    t
}

fn viewer() -> TgUser {
    TgUser::new(4242, "민지").with_language("ko")
}

/// Stored updates: (all, not yet handled).
async fn stored(t: &TestApp) -> (i64, i64) {
    sqlx::query_as(
        "SELECT COUNT(*), COALESCE(SUM(CASE WHEN handled_at IS NULL THEN 1 ELSE 0 END), 0)
         FROM telegram_updates",
    )
    .fetch_one(t.ctx().store.pool_for_tests())
    .await
    .expect("query")
}

/// Waits (up to 10 s) until every stored update was handled.
async fn all_handled(t: &TestApp) {
    for _ in 0..200 {
        if stored(t).await.1 == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("stored updates are still unhandled: {:?}", stored(t).await);
}

/// Posts `body` to the app's webhook with the secret token `token` (none: no header).
async fn post_webhook(t: &TestApp, body: &str, token: Option<&str>) -> (u16, Value) {
    let mut request = t
        .http
        .post(format!("{}/telegram/webhook", t.base))
        .header("content-type", "application/json")
        .body(body.to_string());
    if let Some(token) = token {
        request = request.header(SECRET_TOKEN_HEADER, token);
    }
    let response = request.send().await.expect("answered");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_mode_sets_the_webhook_and_never_polls() {
    let t = start_in_webhook_mode().await;
    let webhook = t.tg.webhook().expect("set");
    assert_eq!(webhook.url, format!("{}/telegram/webhook", t.base));
    assert_eq!(webhook.secret_token.as_deref(), Some(TG_SECRET_TOKEN));
    assert_eq!(
        webhook.allowed_updates,
        Some(
            [
                "message",
                "callback_query",
                "chat_member",
                "chat_join_request",
                "poll_answer"
            ]
            .map(String::from)
            .to_vec()
        ),
        "the same update kinds as polling asks for"
    );
    assert!(!webhook.drop_pending_updates, "pending updates are kept");
    assert_eq!(t.tg.webhook_calls().len(), 1);

    // A viewer writes; Telegram posts it; encore answers.
    t.tg.push_private_text(&viewer(), "/start");
    assert_eq!(t.tg.deliver_to_webhook().await, [200]);
    assert!(
        t.tg.wait_for_sent(1, Duration::from_secs(10)).await,
        "the viewer got an answer"
    );
    t.settle().await;
    assert_eq!(t.tg.sent_to(viewer().id).len(), 1, "exactly one answer");
    assert_eq!(t.tg.get_updates_calls(), 0, "no getUpdates in webhook mode");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_update_posted_twice_is_answered_once() {
    let t = start_in_webhook_mode().await;
    t.tg.push_private_text(&viewer(), "/start");
    assert_eq!(t.tg.deliver_to_webhook().await, [200]);
    let update = t.tg.updates().pop().expect("pushed");
    // Telegram did not see the first 200 (a dropped connection) and posts it again.
    assert_eq!(t.tg.post_to_webhook(&update).await, 200);
    let (status, answer) = post_webhook(&t, &update.to_string(), Some(TG_SECRET_TOKEN)).await;
    assert_eq!(status, 200);
    assert_eq!(answer["duplicate"], json!(true), "{answer}");
    assert!(t.tg.wait_for_sent(1, Duration::from_secs(10)).await);
    all_handled(&t).await;
    t.settle().await;
    assert_eq!(t.tg.sent_to(viewer().id).len(), 1, "one answer");
    assert_eq!(stored(&t).await, (1, 0), "stored once, handled");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_or_missing_secret_token_is_401_and_nothing_is_stored() {
    let t = start_in_webhook_mode().await;
    let body = json!({"update_id": 77, "message": {"message_id": 1, "date": 0,
        "chat": {"id": 4242, "type": "private", "first_name": "x"}, "text": "/start"}})
    .to_string();
    for token in [Some("not-the-secret-token-000"), Some(""), None] {
        let (status, answer) = post_webhook(&t, &body, token).await;
        assert_eq!(status, 401, "{token:?}: {answer}");
        assert_eq!(answer["error"]["code"], json!("unauthorized"), "{answer}");
        assert!(
            !answer.to_string().contains(TG_SECRET_TOKEN),
            "the answer never shows the token"
        );
    }
    assert_eq!(stored(&t).await, (0, 0), "nothing stored");
    t.settle().await;
    assert!(t.tg.sent().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_that_is_not_an_update_is_400() {
    let t = start_in_webhook_mode().await;
    for (body, code) in [
        ("this is not json", "invalid_json"),
        (r#"{"message": {}}"#, "invalid_update"),
        (r#"{"update_id": "12"}"#, "invalid_update"),
        ("[1, 2, 3]", "invalid_update"),
    ] {
        let (status, answer) = post_webhook(&t, body, Some(TG_SECRET_TOKEN)).await;
        assert_eq!(status, 400, "{body}: {answer}");
        assert_eq!(answer["error"]["code"], json!(code), "{body}: {answer}");
    }
    assert_eq!(stored(&t).await, (0, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_update_teloxide_cannot_read_is_set_aside_and_the_next_is_answered() {
    let t = start_in_webhook_mode().await;
    let unreadable = json!({"update_id": 5, "message": {"message_id": "not a number"}});
    assert_eq!(t.tg.post_to_webhook(&unreadable).await, 200);
    t.tg.push_private_text(&viewer(), "/start");
    assert_eq!(t.tg.deliver_to_webhook().await, [200]);
    assert!(
        t.tg.wait_for_sent(1, Duration::from_secs(10)).await,
        "the update behind it was answered"
    );
    all_handled(&t).await;
    let letters = encore::store::dead_letters::waiting(&t.ctx().store)
        .await
        .expect("dead letters");
    assert_eq!(letters.len(), 1, "{letters:?}");
    assert_eq!(letters[0].platform, "telegram");
    assert!(letters[0].what.contains("update 5"), "{:?}", letters[0]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_polling_mode_the_webhook_endpoint_is_not_found() {
    let t = TestApp::start().await;
    let (status, answer) = post_webhook(&t, r#"{"update_id": 1}"#, Some(TG_SECRET_TOKEN)).await;
    assert_eq!(status, 404, "{answer}");
    assert_eq!(answer["error"]["code"], json!("not_found"));
}

/// Back to polling after webhook mode: the webhook Telegram still has is deleted, so
/// `getUpdates` works again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn polling_deletes_a_webhook_left_from_webhook_mode() {
    let t = TestApp::start().await;
    let set = t
        .http
        .post(format!("{}/bot{TOKEN}/setWebhook", t.tg.api_url()))
        .json(&json!({"url": "https://bot.example.com/telegram/webhook"}))
        .send()
        .await
        .expect("answered");
    assert_eq!(set.status().as_u16(), 200);
    let deleted =
        t.tg.wait_until(Duration::from_secs(30), |tg| tg.delete_webhook_calls() > 0)
            .await;
    assert!(deleted, "encore deleted the webhook: {:?}", t.tg.requests());
    t.tg.push_private_text(&viewer(), "/start");
    assert!(
        t.tg.wait_for_sent(1, Duration::from_secs(20)).await,
        "polling works again"
    );
}

#[test]
fn serve_refuses_a_short_webhook_secret_token_naming_the_key() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join("encore.toml"),
        "[database]\nurl = \"sqlite://encore.db?mode=rwc\"\n[http]\nlisten = \"127.0.0.1:0\"\nwebhook_secret = \"a-long-random-webhook-secret\"\nadmin_token = \"a-long-random-admin-token\"\n[telegram]\ntoken = \"1:A\"\nmode = \"webhook\"\nwebhook_url = \"https://bot.example.com/telegram/webhook\"\nwebhook_secret_token = \"short_tok\"\n",
    )
    .expect("write");
    let out = encore(dir.path(), &["serve"], &[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    assert!(
        stderr.starts_with("error: telegram.webhook_secret_token is shorter than 16 characters"),
        "{stderr}"
    );
    assert!(
        stderr.contains("ENCORE_TELEGRAM_WEBHOOK_SECRET_TOKEN"),
        "{stderr}"
    );
    assert!(!stderr.contains("short_tok"), "the value is never shown");

    let out = encore(dir.path(), &["config", "check"], &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("warning: telegram.webhook_secret_token is shorter than 16 characters"),
        "{stderr}"
    );
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("webhook_secret_token = \"********\""),
        "{stdout}"
    );
    assert!(!stdout.contains("short_tok"), "{stdout}");

    // Without the URL, webhook mode does not load at all.
    std::fs::write(
        dir.path().join("encore.toml"),
        "[telegram]\ntoken = \"1:A\"\nmode = \"webhook\"\n",
    )
    .expect("write");
    let out = encore(dir.path(), &["config", "check"], &[]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("telegram.webhook_url"),
        "{}",
        text(&out.stderr)
    );
}

/// CONTRACT §10: any worker takes Telegram's POST and stores the update once; the leader handles
/// it. The same update posted to the leader and to a standby is answered once. PostgreSQL only:
/// on SQLite a second `serve` refuses to start.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_update_posted_to_two_workers_is_answered_once() {
    if std::env::var("ENCORE_TEST_POSTGRES_URL").map_or(true, |url| url.trim().is_empty()) {
        return;
    }
    let t = start_in_webhook_mode().await;
    let standby_env: Vec<(String, String)> = webhook_env()
        .into_iter()
        .map(|(key, value)| match key.as_str() {
            "ENCORE_HTTP_LISTEN" => (key, "127.0.0.1:0".to_string()),
            _ => (key, value),
        })
        .collect();
    let tg_url = t.tg.api_url();
    let config = config_with_env(Some(tg_url.as_str()), None, &t.db_url, &standby_env);
    let standby = encore::app::RunningApp::start_with_clock(config, Arc::new(SystemClock))
        .await
        .expect("a second worker starts");
    let post_to_standby = |body: String, token: &'static str| {
        reqwest::Client::new()
            .post(format!("http://{}/telegram/webhook", standby.http_addr))
            .header("content-type", "application/json")
            .header(SECRET_TOKEN_HEADER, token)
            .body(body)
            .send()
    };

    t.tg.push_private_text(&viewer(), "/start");
    // Telegram posts to the leader, and its retry (the first 200 was lost) lands on the standby.
    assert_eq!(t.tg.deliver_to_webhook().await, [200]);
    let update = t.tg.updates().pop().expect("pushed");
    let again = post_to_standby(update.to_string(), TG_SECRET_TOKEN)
        .await
        .expect("the standby answers");
    assert_eq!(again.status().as_u16(), 200);
    let again: Value = again.json().await.expect("json");
    assert_eq!(again["duplicate"], json!(true), "{again}");
    let wrong = post_to_standby(update.to_string(), "not-the-secret-token-000")
        .await
        .expect("the standby answers");
    assert_eq!(
        wrong.status().as_u16(),
        401,
        "a wrong token is refused on a standby too"
    );

    assert!(t.tg.wait_for_sent(1, Duration::from_secs(15)).await);
    all_handled(&t).await;
    t.settle().await;
    assert_eq!(t.tg.sent_to(viewer().id).len(), 1, "one answer");
    assert_eq!(stored(&t).await, (1, 0), "stored once, handled");
    standby.stop().await.expect("the standby stops");
}
