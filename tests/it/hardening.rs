//! Hardening (issue #11): secrets `serve` refuses, no password in an error, bounded event texts,
//! HTTP time and concurrency limits, and `[retention]` with `encore prune`.

use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::support::app::*;
use crate::support::telegram::TgUser;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

pub(crate) fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Runs `encore ARGS` in `dir` with `envs`; a command that does not exit within 30 s is killed
/// and fails the test (a `serve` that should have refused to start).
pub(crate) fn encore(dir: &std::path::Path, args: &[&str], envs: &[(&str, &str)]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_encore"))
        .args(args)
        .current_dir(dir)
        .env_remove("RUST_LOG")
        .envs(envs.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("encore runs");
    let started = Instant::now();
    while child.try_wait().expect("wait").is_none() {
        if started.elapsed() > Duration::from_secs(30) {
            child.kill().expect("kill");
            panic!("encore {args:?} did not exit within 30 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().expect("output")
}

#[test]
fn serve_with_an_example_or_short_secret_exits_1_naming_the_key() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join("encore.toml"),
        "[database]\nurl = \"sqlite://encore.db?mode=rwc\"\n[http]\nlisten = \"127.0.0.1:0\"\nwebhook_secret = \"change-me\"\nadmin_token = \"change-me-too\"\n",
    )
    .expect("write");
    let out = encore(dir.path(), &["serve"], &[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    assert_eq!(stderr.trim().lines().count(), 1, "one line: {stderr}");
    assert!(
        stderr.starts_with("error: http.webhook_secret is still the example value"),
        "{stderr}"
    );

    // A long webhook secret, but an admin token of 8 characters from the environment.
    let out = encore(
        dir.path(),
        &["serve"],
        &[
            ("ENCORE_HTTP_WEBHOOK_SECRET", "a-long-random-webhook-secret"),
            ("ENCORE_HTTP_ADMIN_TOKEN", "tiny-tok"),
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("http.admin_token is shorter than 16 characters"),
        "{stderr}"
    );
    assert!(!stderr.contains("tiny-tok"), "the value is never shown");

    // `config check` reports the same problem and still shows the settings.
    let out = encore(dir.path(), &["config", "check"], &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("warning: http.admin_token is still the example value"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn migrate_with_an_unusable_database_url_never_prints_its_password() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = encore(
        dir.path(),
        &["migrate"],
        &[(
            "ENCORE_DATABASE_URL",
            "postgres://encore:hunter2-db-password@db.internal/encore",
        )],
    );
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(!stderr.contains("hunter2"), "{stderr}");
    assert!(
        stderr.contains("postgres://encore:********@db.internal/encore"),
        "the URL is named, masked: {stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_250_character_customer_name_is_400_naming_customer_name() {
    let t = TestApp::start().await;
    let long = "김".repeat(250);
    let (status, body) = t
        .post_events(&[customer("c-ok", "민수"), customer("c-long", &long)])
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["code"], json!("invalid_event"));
    assert_eq!(body["error"]["event_index"], json!(1));
    assert_eq!(body["error"]["field"], json!("customer.name"));
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("at most 200 characters, not 250")),
        "{body}"
    );
    let (status, _) = t.get_admin("/v1/customers/c-ok").await;
    assert_eq!(
        status, 404,
        "all or nothing: the good event was not applied"
    );
}

/// Sends the head of a `POST /v1/events` that promises `Content-Length: 1000` and a first few
/// bytes of the body, then nothing more.
async fn start_slow_post(addr: std::net::SocketAddr) -> tokio::net::TcpStream {
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    stream
        .write_all(
            b"POST /v1/events HTTP/1.1\r\nHost: encore\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"id\":",
        )
        .await
        .expect("write");
    stream
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_sends_its_body_slowly_is_cut_off() {
    let t = TestApp::start_with_env(
        TELEGRAM_ONLY,
        Arc::new(encore::clock::SystemClock),
        vec![("ENCORE_HTTP_REQUEST_TIMEOUT_SECONDS".into(), "1".into())],
    )
    .await;
    let addr = t.app.as_ref().expect("running").http_addr;
    let mut slow = start_slow_post(addr).await;
    let mut answer = Vec::new();
    // The server answers and closes the connection: reading ends. (The 20 s are a guard.)
    tokio::time::timeout(Duration::from_secs(20), slow.read_to_end(&mut answer))
        .await
        .expect("the server cut the slow client off")
        .expect("read");
    let answer = text(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("\"request_timeout\""), "{answer}");
    let (status, _) = t.get_admin("/healthz").await;
    assert_eq!(status, 200, "the server still serves everyone else");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_over_the_concurrency_limit_is_answered_503_at_once() {
    let t = TestApp::start_with_env(
        TELEGRAM_ONLY,
        Arc::new(encore::clock::SystemClock),
        vec![
            ("ENCORE_HTTP_MAX_CONCURRENT_REQUESTS".into(), "1".into()),
            ("ENCORE_HTTP_REQUEST_TIMEOUT_SECONDS".into(), "5".into()),
        ],
    )
    .await;
    let addr = t.app.as_ref().expect("running").http_addr;
    // One slow request holds the only place until its time limit. It must reach the server
    // while nothing else is in flight (a /healthz still being answered would take the place
    // and the slow one would be turned away), so it is given time to arrive, and started again
    // if it was turned away.
    let mut slow = Vec::new();
    let mut overloaded = Value::Null;
    'attempts: for _ in 0..5 {
        slow.push(start_slow_post(addr).await);
        tokio::time::sleep(Duration::from_millis(300)).await;
        for _ in 0..20 {
            let (status, body) = t.get_admin("/healthz").await;
            if status == 503 {
                overloaded = body;
                break 'attempts;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    assert_eq!(
        overloaded["error"]["code"],
        json!("overloaded"),
        "{overloaded}"
    );
    // Once the slow one is cut off, the place is free again.
    let mut status = 0;
    for _ in 0..400 {
        status = t.get_admin("/healthz").await.0;
        if status == 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(status, 200);
}

/// Every report's numbers, read with the command line as a host would.
fn reports(dir: &std::path::Path, db_url: &str, since: &str) -> Vec<Value> {
    let env = [("ENCORE_DATABASE_URL", db_url)];
    [
        vec!["report", "b-old", "--json"],
        vec!["report", "b-new", "--json"],
        vec!["report", "--since", since, "--json"],
    ]
    .iter()
    .map(|args| {
        let out = encore(dir, args, &env);
        assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
        serde_json::from_slice(&out.stdout).expect("json report")
    })
    .collect()
}

/// The payloads stored for a broadcast's thank-yous and for the events that named `order`.
async fn stored_payloads(t: &TestApp, broadcast: &str, order: &str) -> (String, String) {
    let pool = t.ctx().store.pool_for_tests();
    let message: String = sqlx::query_scalar(
        "SELECT payload FROM outbox WHERE flow = 'thank_you' AND broadcast_id = $1",
    )
    .bind(broadcast)
    .fetch_one(pool)
    .await
    .expect("thank-you stored");
    let event: String = sqlx::query_scalar("SELECT payload FROM events WHERE id = $1")
        .bind(format!("op-{order}"))
        .fetch_one(pool)
        .await
        .expect("event stored");
    (message, event)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prune_scrubs_texts_older_than_the_retention_and_every_report_keeps_its_numbers() {
    // The first broadcast happened 100 days ago; the running app keeps everything (its own
    // daily prune is set far out), so the command line's prune does the work.
    let clock = WallClock::default();
    clock.advance(chrono::Duration::days(-100));
    let t = TestApp::start_with_env(
        TELEGRAM_ONLY,
        Arc::new(clock.clone()),
        vec![
            ("ENCORE_RETENTION_MESSAGE_DAYS".into(), "100000".into()),
            ("ENCORE_RETENTION_EVENT_DAYS".into(), "100000".into()),
        ],
    )
    .await;
    let user = TgUser::new(7_001, "민수").with_language("ko");
    let (status, _) = t
        .post_events(&[
            customer("c-1", "민수"),
            order("o-old", "c-1", "b-old", "울 코트", 189_000),
        ])
        .await;
    assert_eq!(status, 202);
    t.link_viewer("c-1", &user).await;
    t.post_events(&[ended("end-old", "b-old")]).await;
    let thanks = wait_text(&t.tg, user.id, THANKS).await;
    let rate = buttons(&thanks);
    t.tg.push_callback(&user, thanks.message_id, user.id, &rate[3]);
    wait_text(&t.tg, user.id, "4점 고마워요").await;

    // Today: a second broadcast, within the retention.
    clock.advance(chrono::Duration::days(100));
    t.post_events(&[order("o-new", "c-1", "b-new", "머플러", 49_000)])
        .await;
    t.post_events(&[ended("end-new", "b-new")]).await;
    t.tg.wait_until(Duration::from_secs(30), |tg| {
        tg.sent_to(user.id)
            .iter()
            .filter(|m| m.text.contains(THANKS))
            .count()
            == 2
    })
    .await;
    t.settle().await;

    let dir = tempfile::tempdir().expect("temp dir");
    let since = (chrono::Utc::now() - chrono::Duration::days(200))
        .format("%Y-%m-%d")
        .to_string();
    let before = reports(dir.path(), &t.db_url, &since);
    assert_eq!(
        before[0]["thank_you"]["delivered"],
        json!(1),
        "{}",
        before[0]
    );
    assert_eq!(before[0]["feedback"]["count"], json!(1), "{}", before[0]);
    let (old_message, old_event) = stored_payloads(&t, "b-old", "o-old").await;
    assert_ne!(old_message, "{}");
    assert!(old_event.contains("울 코트"), "{old_event}");

    let env = [("ENCORE_DATABASE_URL", t.db_url.as_str())];
    let dry = encore(dir.path(), &["prune", "--dry-run"], &env);
    assert!(dry.status.success(), "{}", text(&dry.stderr));
    assert!(
        text(&dry.stdout).contains("would scrub the texts of"),
        "{}",
        text(&dry.stdout)
    );
    assert_eq!(
        stored_payloads(&t, "b-old", "o-old").await,
        (old_message, old_event),
        "a dry run changes nothing"
    );

    let pruned = encore(dir.path(), &["prune"], &env);
    assert!(pruned.status.success(), "{}", text(&pruned.stderr));
    let printed = text(&pruned.stdout);
    assert!(printed.contains("scrubbed the texts of"), "{printed}");
    assert!(
        !printed.contains("scrubbed the texts of 0 "),
        "old messages were scrubbed: {printed}"
    );
    assert_eq!(
        stored_payloads(&t, "b-old", "o-old").await,
        ("{}".to_string(), "{}".to_string()),
        "texts older than the retention are gone"
    );
    let (new_message, new_event) = stored_payloads(&t, "b-new", "o-new").await;
    assert_ne!(new_message, "{}", "newer messages keep their payload");
    assert!(new_event.contains("머플러"), "newer events keep theirs");

    assert_eq!(
        reports(dir.path(), &t.db_url, &since),
        before,
        "every report's numbers are the same after the prune"
    );
}
