//! Events out to `shop.webhook_url` (CONTRACT §3), through the real app and the Telegram
//! stand-in, with a small shop endpoint that checks every signature.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::support::app::*;
use crate::support::telegram::TgUser;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use encore::clock::{Clock, ManualClock, SystemClock};
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

/// One request the shop received.
#[derive(Debug, Clone)]
struct Received {
    body: Value,
    raw: Vec<u8>,
    timestamp: i64,
    /// The signature matched, computed here independently of encore.
    signed: bool,
    content_type: String,
    status: u16,
}

impl Received {
    fn id(&self) -> &str {
        self.body["id"].as_str().unwrap_or_default()
    }
    fn kind(&self) -> &str {
        self.body["type"].as_str().unwrap_or_default()
    }
}

#[derive(Default)]
struct ShopState {
    received: Mutex<Vec<Received>>,
    /// Answer 500 to this many requests first.
    fail_first: AtomicUsize,
}

/// The shop's webhook endpoint on 127.0.0.1.
struct Shop {
    url: String,
    state: Arc<ShopState>,
    server: tokio::task::JoinHandle<()>,
}

fn signature_matches(timestamp: &str, signature: &str, body: &[u8]) -> bool {
    let Some(given) = signature
        .strip_prefix("sha256=")
        .and_then(|h| hex::decode(h).ok())
    else {
        return false;
    };
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).expect("hmac key");
    mac.update(format!("{timestamp}.").as_bytes());
    mac.update(body);
    mac.verify_slice(&given).is_ok()
}

async fn hook(State(state): State<Arc<ShopState>>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    let (timestamp, signature) = (header("x-encore-timestamp"), header("x-encore-signature"));
    let fail = state
        .fail_first
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok();
    let status = if fail {
        StatusCode::INTERNAL_SERVER_ERROR
    } else {
        StatusCode::OK
    };
    state.received.lock().expect("lock").push(Received {
        body: serde_json::from_slice(&body).unwrap_or(Value::Null),
        raw: body.to_vec(),
        timestamp: timestamp.parse().unwrap_or_default(),
        signed: signature_matches(&timestamp, &signature, &body),
        content_type: header("content-type"),
        status: status.as_u16(),
    });
    status
}

impl Shop {
    async fn start() -> Shop {
        Shop::start_on(0).await
    }

    async fn start_on(port: u16) -> Shop {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .expect("the shop listens");
        let port = listener.local_addr().expect("addr").port();
        let state = Arc::new(ShopState::default());
        let router = axum::Router::new()
            .route("/hooks/encore", axum::routing::post(hook))
            .with_state(state.clone());
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        Shop {
            url: url_on(port),
            state,
            server,
        }
    }

    fn fail_first(&self, n: usize) {
        self.state.fail_first.store(n, Ordering::SeqCst);
    }

    fn received(&self) -> Vec<Received> {
        self.state.received.lock().expect("lock").clone()
    }

    /// Requests that were answered 2xx, of one type.
    fn delivered(&self, kind: &str) -> Vec<Received> {
        self.received()
            .into_iter()
            .filter(|r| r.status == 200 && r.kind() == kind)
            .collect()
    }

    async fn wait_until(&self, limit: Duration, condition: impl Fn(&[Received]) -> bool) -> bool {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if condition(&self.received()) {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        condition(&self.received())
    }

    /// Waits for the `n`-th delivered event of `kind` and returns it.
    async fn wait_for(&self, kind: &str, n: usize) -> Received {
        let arrived = self
            .wait_until(Duration::from_secs(30), |r| {
                r.iter()
                    .filter(|r| r.status == 200 && r.kind() == kind)
                    .count()
                    >= n
            })
            .await;
        assert!(
            arrived,
            "{n} × {kind} reached the shop: {:?}",
            self.received()
                .iter()
                .map(|r| (r.kind().to_string(), r.status))
                .collect::<Vec<_>>()
        );
        self.delivered(kind)[n - 1].clone()
    }
}

impl Drop for Shop {
    fn drop(&mut self) {
        self.server.abort();
    }
}

fn url_on(port: u16) -> String {
    format!("http://127.0.0.1:{port}/hooks/encore")
}

fn webhook_env(url: &str) -> Vec<(String, String)> {
    vec![("ENCORE_SHOP_WEBHOOK_URL".to_string(), url.to_string())]
}

async fn start(url: &str, clock: Arc<dyn Clock>) -> TestApp {
    TestApp::start_with_env(TELEGRAM_ONLY, clock, webhook_env(url)).await
}

/// Every request is signed as the shop verifies inbound ones, as JSON, with a fresh timestamp.
fn assert_signed(r: &Received, now: i64) {
    assert!(r.signed, "the signature verifies: {}", r.body);
    assert_eq!(r.content_type, "application/json");
    assert!(
        (now - r.timestamp).abs() <= 300,
        "the timestamp {} is the sender's clock ({now})",
        r.timestamp
    );
    assert!(
        r.id().starts_with("evt_") && r.id().len() <= 128,
        "{}",
        r.body
    );
    assert!(
        chrono::DateTime::parse_from_rfc3339(r.body["occurred_at"].as_str().unwrap_or("")).is_ok(),
        "occurred_at is RFC 3339: {}",
        r.body
    );
}

fn rfc3339(value: &Value) -> bool {
    value
        .as_str()
        .is_some_and(|s| chrono::DateTime::parse_from_rfc3339(s).is_ok())
}

/// A customer the shop knows, linked on Telegram (the consent question is waiting).
async fn linked(t: &TestApp, customer_id: &str, user: &TgUser) {
    assert_eq!(t.post_events(&[customer(customer_id, "민수")]).await.0, 202);
    t.link_viewer(customer_id, user).await;
}

async fn metric(t: &TestApp, state: &str) -> i64 {
    let text = t
        .http
        .get(format!("{}/metrics", t.base))
        .send()
        .await
        .expect("metrics answered")
        .text()
        .await
        .expect("text");
    let line = format!("encore_events_out_total{{state=\"{state}\"}} ");
    text.lines()
        .find_map(|l| l.strip_prefix(&line))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("{line} in /metrics:\n{text}"))
}

/// Waits until no event for the shop is pending. A row being posted stays pending until its
/// answer is recorded, so after this nothing is in flight and nothing can be posted again.
async fn events_out_drained(t: &TestApp) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while metric(t, "pending").await > 0 {
        assert!(
            Instant::now() < deadline,
            "every event for the shop was delivered"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn rows_recorded(t: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM events_out")
        .fetch_one(t.ctx().store.pool_for_tests())
        .await
        .expect("count")
}

/// Moves the manual clock on in steps (retries come due) until `done`, or fails after 30 s.
async fn advance_until(clock: &ManualClock, shop: &Shop, done: impl Fn(&[Received]) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !done(&shop.received()) {
        assert!(
            Instant::now() < deadline,
            "the retries arrived: {:?}",
            shop.received()
                .iter()
                .map(|r| (r.id().to_string(), r.status))
                .collect::<Vec<_>>()
        );
        clock.advance(chrono::Duration::seconds(30));
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ticket_opened_closed_and_rated_reaches_the_shop_signed_with_its_fields() {
    let shop = Shop::start().await;
    let t = start(&shop.url, Arc::new(SystemClock)).await;
    let user = TgUser::new(9001, "Minsu").with_language("ko");
    linked(&t, "c-1", &user).await;

    t.tg.push_private_text(&user, "/human");
    wait_text(&t.tg, user.id, "24시간 안에").await;
    let opened = shop.wait_for("ticket.opened", 1).await;
    assert_signed(&opened, chrono::Utc::now().timestamp());
    assert_eq!(opened.body["ticket_id"], json!(1), "{}", opened.body);
    assert_eq!(opened.body["customer_id"], json!("c-1"));
    assert_eq!(opened.body["via"], json!("telegram"));
    assert_eq!(opened.body["reason"], json!("command"));
    assert!(rfc3339(&opened.body["opened_at"]), "{}", opened.body);

    staff_says(&t, "/close 1");
    let closing = wait_text(&t.tg, user.id, "상담이 끝났어요").await;
    let closed = shop.wait_for("ticket.closed", 1).await;
    assert_signed(&closed, chrono::Utc::now().timestamp());
    assert_eq!(closed.body["ticket_id"], json!(1), "{}", closed.body);
    assert_eq!(closed.body["customer_id"], json!("c-1"));
    assert_eq!(closed.body["by"], json!("staff"));
    assert!(rfc3339(&closed.body["closed_at"]), "{}", closed.body);

    let rate = buttons(&closing);
    t.tg.push_callback(&user, closing.message_id, user.id, &rate[4]);
    wait_text(&t.tg, user.id, "상담 평가 고마워요").await;
    let rated = shop.wait_for("feedback.received", 1).await;
    assert_signed(&rated, chrono::Utc::now().timestamp());
    assert!(rated.body["feedback_id"].is_i64(), "{}", rated.body);
    assert_eq!(rated.body["customer_id"], json!("c-1"));
    assert_eq!(rated.body["rating"], json!(5));
    assert_eq!(rated.body["broadcast_id"], Value::Null);
    assert_eq!(rated.body["comment"], Value::Null);
    assert_eq!(rated.body["subject"], json!("ticket"));

    let ids: std::collections::HashSet<String> =
        shop.received().iter().map(|r| r.id().to_string()).collect();
    assert_eq!(ids.len(), 3, "three events, three ids, each sent once");
    let settled = shop
        .wait_until(Duration::from_secs(5), |r| r.len() == 3)
        .await;
    assert!(settled);
    assert_eq!(metric(&t, "delivered").await, 3);
    assert_eq!(metric(&t, "pending").await, 0);
    assert_eq!(metric(&t, "failed").await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rating_under_the_thank_you_and_the_comment_after_it_share_one_feedback_id() {
    let shop = Shop::start().await;
    let t = start(&shop.url, Arc::new(SystemClock)).await;
    let user = TgUser::new(9009, "Minji").with_language("ko");
    let (status, _) = t
        .post_events(&[
            customer("c-9", "민지"),
            order("o-9", "c-9", "b-9", "울 코트", 189_000),
        ])
        .await;
    assert_eq!(status, 202);
    t.link_viewer("c-9", &user).await;
    t.post_events(&[ended("end-b-9", "b-9")]).await;
    let thanks = wait_text(&t.tg, user.id, "방송에 함께해").await;
    let rate = buttons(&thanks);
    t.tg.push_callback(&user, thanks.message_id, user.id, &rate[3]);
    wait_text(&t.tg, user.id, "4점 고마워요").await;
    let rated = shop.wait_for("feedback.received", 1).await;
    assert_signed(&rated, chrono::Utc::now().timestamp());
    assert_eq!(rated.body["customer_id"], json!("c-9"), "{}", rated.body);
    assert_eq!(rated.body["broadcast_id"], json!("b-9"));
    assert_eq!(rated.body["subject"], json!("broadcast"));
    assert_eq!(rated.body["rating"], json!(4));
    assert_eq!(rated.body["comment"], Value::Null);

    t.tg.push_private_text(&user, "포장이 아주 꼼꼼했어요");
    wait_text(&t.tg, user.id, "의견 잘 받았어요").await;
    let commented = shop.wait_for("feedback.received", 2).await;
    assert_eq!(commented.body["feedback_id"], rated.body["feedback_id"]);
    assert_eq!(commented.body["rating"], json!(4));
    assert_eq!(commented.body["comment"], json!("포장이 아주 꼼꼼했어요"));
    assert_ne!(
        commented.id(),
        rated.id(),
        "a new event about the same feedback"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consent_buttons_and_stop_reach_the_shop_as_consent_changed_with_the_exact_wording() {
    let shop = Shop::start().await;
    let t = start(&shop.url, Arc::new(SystemClock)).await;
    let user = TgUser::new(9002, "Jieun").with_language("ko");
    linked(&t, "c-2", &user).await;
    let ask =
        t.tg.sent_to(user.id)
            .into_iter()
            .find(|m| m.reply_markup.is_some())
            .expect("the consent question");
    assert_eq!(buttons(&ask)[0], "consent:marketing:yes");

    t.tg.push_callback(&user, ask.message_id, user.id, "consent:marketing:yes");
    let marketing = shop.wait_for("consent.changed", 1).await;
    assert_signed(&marketing, chrono::Utc::now().timestamp());
    let (_, record) = t.get_admin("/v1/customers/c-2").await;
    let stored = &record["consents"][0];
    assert_eq!(
        marketing.body["customer_id"],
        json!("c-2"),
        "{}",
        marketing.body
    );
    assert_eq!(marketing.body["purpose"], json!("marketing"));
    assert_eq!(marketing.body["granted"], json!(true));
    assert_eq!(marketing.body["source"], json!("telegram"));
    assert_eq!(marketing.body["method"], json!("button"));
    assert_eq!(
        marketing.body["wording"], stored["wording"],
        "the exact words recorded (and shown)"
    );
    assert!(
        marketing.body["wording"]
            .as_str()
            .is_some_and(|w| w.contains("미나의 옷장")),
        "{}",
        marketing.body
    );
    assert!(rfc3339(&marketing.body["at"]));

    let night_ask = wait_text(&t.tg, user.id, "밤 시간").await;
    t.tg.push_callback(&user, night_ask.message_id, user.id, "consent:night:yes");
    let night = shop.wait_for("consent.changed", 2).await;
    assert_eq!(night.body["purpose"], json!("night"), "{}", night.body);
    assert_eq!(night.body["granted"], json!(true));
    let (_, record) = t.get_admin("/v1/customers/c-2").await;
    assert_eq!(night.body["wording"], record["consents"][1]["wording"]);

    t.tg.push_private_text(&user, "/stop");
    shop.wait_for("consent.changed", 4).await;
    let withdrawn = &shop.delivered("consent.changed")[2..];
    let mut purposes: Vec<&str> = withdrawn
        .iter()
        .map(|r| r.body["purpose"].as_str().unwrap_or_default())
        .collect();
    purposes.sort();
    assert_eq!(purposes, ["marketing", "night"]);
    for r in withdrawn {
        assert_eq!(r.body["granted"], json!(false), "{}", r.body);
        assert_eq!(r.body["wording"], json!("/stop"));
        assert_eq!(r.body["method"], json!("command"));
    }
    let ids: std::collections::HashSet<String> = shop
        .delivered("consent.changed")
        .iter()
        .map(|r| r.id().to_string())
        .collect();
    assert_eq!(ids.len(), 4, "each change is its own event");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shop_answering_500_twice_gets_the_same_event_three_times_and_then_nothing_more() {
    let shop = Shop::start().await;
    shop.fail_first(2);
    let clock = ManualClock::at(chrono::Utc::now());
    let t = start(&shop.url, Arc::new(clock.clone())).await;
    let user = TgUser::new(9003, "Seoyeon").with_language("ko");
    linked(&t, "c-3", &user).await;

    t.tg.push_private_text(&user, "/human");
    wait_text(&t.tg, user.id, "24시간 안에").await;
    assert!(
        shop.wait_until(Duration::from_secs(10), |r| !r.is_empty())
            .await,
        "the first attempt came at once"
    );
    advance_until(&clock, &shop, |r| r.iter().any(|r| r.status == 200)).await;

    let received = shop.received();
    assert_eq!(
        received.iter().map(|r| r.status).collect::<Vec<_>>(),
        vec![500, 500, 200]
    );
    assert!(received.iter().all(|r| r.signed), "every attempt is signed");
    assert!(
        received
            .iter()
            .all(|r| r.id() == received[0].id() && r.raw == received[0].raw),
        "the same id and body each time (the shop dedupes on the id)"
    );
    assert_eq!(received[0].kind(), "ticket.opened");

    // Delivered: no more attempts, however long we wait.
    clock.advance(chrono::Duration::hours(2));
    events_out_drained(&t).await;
    assert_eq!(shop.received().len(), 3);
    assert_eq!(metric(&t, "delivered").await, 1);
    assert_eq!(metric(&t, "pending").await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_shop_port_never_delays_replies_and_the_events_arrive_once_it_is_up() {
    // A port nobody listens on (yet).
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let clock = ManualClock::at(chrono::Utc::now());
    let t = start(&url_on(port), Arc::new(clock.clone())).await;
    let user = TgUser::new(9004, "Doyun").with_language("ko");
    linked(&t, "c-4", &user).await;
    let ask =
        t.tg.sent_to(user.id)
            .into_iter()
            .find(|m| m.reply_markup.is_some())
            .expect("the consent question");

    let asked = Instant::now();
    t.tg.push_callback(&user, ask.message_id, user.id, "consent:marketing:yes");
    wait_text(&t.tg, user.id, "수신에 동의하셨어요").await;
    t.tg.push_private_text(&user, "/human");
    wait_text(&t.tg, user.id, "24시간 안에").await;
    wait_text(&t.tg, STAFF_CHAT, "문의 #1").await;
    assert!(
        asked.elapsed() < Duration::from_secs(5),
        "the viewer and staff were answered at once ({:?})",
        asked.elapsed()
    );
    assert_eq!(metric(&t, "pending").await, 2, "both events wait");
    let tried = async {
        for _ in 0..100 {
            let attempts: i64 = sqlx::query_scalar(
                "SELECT CAST(COALESCE(SUM(attempts), 0) AS BIGINT) FROM events_out",
            )
            .fetch_one(t.ctx().store.pool_for_tests())
            .await
            .expect("attempts");
            if attempts >= 1 {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        false
    };
    assert!(tried.await, "the sender tried the closed port");

    let shop = Shop::start_on(port).await;
    advance_until(&clock, &shop, |r| {
        r.iter().filter(|r| r.status == 200).count() >= 2
    })
    .await;
    events_out_drained(&t).await;
    let kinds: Vec<String> = shop
        .received()
        .iter()
        .map(|r| r.kind().to_string())
        .collect();
    assert_eq!(
        kinds,
        vec!["consent.changed", "ticket.opened"],
        "each once, oldest first"
    );
    assert!(shop.received().iter().all(|r| r.signed));
    assert_eq!(metric(&t, "delivered").await, 2);
    assert_eq!(metric(&t, "pending").await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shop_endpoint_that_never_answers_holds_up_no_viewer_and_no_shutdown() {
    // Accepts connections and never answers: every POST waits for the 10 s time-out.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("listens");
    let port = listener.local_addr().expect("addr").port();
    let hang = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    let mut t = start(&url_on(port), Arc::new(SystemClock)).await;
    let user = TgUser::new(9005, "Hana").with_language("ko");
    linked(&t, "c-5", &user).await;

    t.tg.push_private_text(&user, "/human");
    wait_text(&t.tg, user.id, "24시간 안에").await;
    let asked = Instant::now();
    t.tg.push_private_text(&user, "/help");
    t.tg.push_private_text(&user, "/stop");
    wait_text(&t.tg, user.id, "동의를 철회했어요").await;
    assert!(
        asked.elapsed() < Duration::from_secs(5),
        "answered while the shop hangs ({:?})",
        asked.elapsed()
    );
    let stopping = Instant::now();
    if let Some(app) = t.app.take() {
        app.stop().await.expect("encore stops");
    }
    assert!(
        stopping.elapsed() < Duration::from_secs(8),
        "a hanging POST does not hold up the shutdown ({:?})",
        stopping.elapsed()
    );
    hang.abort();
    // Nothing was lost: after a restart the events are still there to send.
    t.restart().await;
    assert_eq!(metric(&t, "pending").await, 3);
    assert_eq!(metric(&t, "delivered").await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_ticket_closed_by_the_scheduler_is_reported_as_closed_by_idle() {
    let shop = Shop::start().await;
    let clock = ManualClock::at(chrono::Utc::now());
    let t = start(&shop.url, Arc::new(clock.clone())).await;
    let user = TgUser::new(9006, "Yuna").with_language("ko");
    linked(&t, "c-6", &user).await;
    t.tg.push_private_text(&user, "/human");
    shop.wait_for("ticket.opened", 1).await;
    clock.advance(chrono::Duration::days(8));
    wait_text(&t.tg, user.id, "상담을 마쳤어요").await;
    let closed = shop.wait_for("ticket.closed", 1).await;
    assert_eq!(closed.body["by"], json!("idle"), "{}", closed.body);
    assert_eq!(closed.body["ticket_id"], json!(1));
    assert_eq!(closed.body["customer_id"], json!("c-6"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_vip_code_that_reached_the_viewer_is_reported_as_code_sent() {
    let shop = Shop::start().await;
    let t = start(&shop.url, Arc::new(SystemClock)).await;
    let user = TgUser::new(9007, "Gaeul").with_language("ko");
    // Consent from the shop's own record (with night consent, so quiet hours do not hold it):
    // the shop knows it already, so it is not echoed back.
    let at = (chrono::Utc::now() - chrono::Duration::days(1)).to_rfc3339();
    let record = json!({"id": "cu-c-7", "type": "customer.upserted",
        "occurred_at": chrono::Utc::now().to_rfc3339(),
        "customer": {"id": "c-7", "name": "가을", "locale": "ko",
            "consent": {"marketing": true, "night": true, "at": at,
                "source": "checkout", "wording": "광고성 정보 수신에 동의합니다"}}});
    assert_eq!(t.post_events(&[record]).await.0, 202);
    t.link_viewer("c-7", &user).await;
    {
        let mut conn = t.ctx().store.conn().await.expect("conn");
        encore::store::vip::set_tier(&mut conn, "c-7", Some("silver"))
            .await
            .expect("tier");
    }
    staff_says(&t, "/vipcode WINTER10 silver");
    wait_text(&t.tg, user.id, "WINTER10").await;
    let sent = shop.wait_for("code.sent", 1).await;
    assert_signed(&sent, chrono::Utc::now().timestamp());
    assert_eq!(sent.body["code"], json!("WINTER10"), "{}", sent.body);
    assert_eq!(sent.body["campaign"], Value::Null);
    assert_eq!(sent.body["customer_id"], json!("c-7"));
    assert!(rfc3339(&sent.body["sent_at"]));
    t.settle().await;
    events_out_drained(&t).await;
    assert!(
        shop.received().iter().all(|r| r.kind() == "code.sent"),
        "the shop's own consent record is not echoed back"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forgetting_blanks_a_comment_not_yet_delivered_and_tells_the_shop() {
    use encore::events_out::{self, EventOut};
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let clock = ManualClock::at(chrono::Utc::now());
    let t = start(&url_on(port), Arc::new(clock.clone())).await;
    let ctx = t.ctx();
    let now = clock.now();
    let mut tx = ctx.store.begin().await.expect("tx");
    let feedback = EventOut::FeedbackReceived {
        feedback_id: 1,
        customer_id: "c-10".to_string(),
        broadcast_id: Some("b-1".to_string()),
        subject: "broadcast".to_string(),
        rating: 2,
        comment: Some("제 번호는 010-1234-5678이에요".to_string()),
    };
    events_out::record(&mut tx, &ctx.config, feedback, now)
        .await
        .expect("recorded");
    tx.commit().await.expect("commit");
    // The shop deletes the customer before its endpoint is back.
    let (status, body) = t
        .post_events(&[json!({"id": "del-10", "type": "customer.deleted",
            "occurred_at": now.to_rfc3339(), "customer_id": "c-10"})])
        .await;
    assert_eq!(status, 202, "{body}");

    let shop = Shop::start_on(port).await;
    advance_until(&clock, &shop, |r| {
        r.iter().filter(|r| r.status == 200).count() >= 2
    })
    .await;
    let rated = shop.wait_for("feedback.received", 1).await;
    assert_eq!(rated.body["comment"], Value::Null, "{}", rated.body);
    assert_eq!(rated.body["rating"], json!(2));
    let notice = shop.wait_for("customer.forgotten", 1).await;
    assert_signed(&notice, clock.now().timestamp());
    assert_eq!(notice.body["customer_id"], json!("c-10"), "{}", notice.body);
    let named: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM events_out WHERE customer_id = 'c-10' OR body LIKE '%010-1234%'",
    )
    .fetch_one(ctx.store.pool_for_tests())
    .await
    .expect("count");
    assert_eq!(named, 0, "no stored row names them any more");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_webhook_url_nothing_is_recorded_or_sent() {
    let t = TestApp::start().await;
    let user = TgUser::new(9008, "Sora").with_language("ko");
    linked(&t, "c-8", &user).await;
    let ask =
        t.tg.sent_to(user.id)
            .into_iter()
            .find(|m| m.reply_markup.is_some())
            .expect("the consent question");
    t.tg.push_callback(&user, ask.message_id, user.id, "consent:marketing:yes");
    wait_text(&t.tg, user.id, "수신에 동의하셨어요").await;
    t.tg.push_private_text(&user, "/human");
    wait_text(&t.tg, user.id, "24시간 안에").await;
    staff_says(&t, "/close 1");
    wait_text(&t.tg, user.id, "상담이 끝났어요").await;
    assert_eq!(rows_recorded(&t).await, 0);
    for state in ["delivered", "pending", "failed"] {
        assert_eq!(metric(&t, state).await, 0);
    }
}
