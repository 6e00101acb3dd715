//! The host's dashboard over HTTP (CONTRACT §3 `/dashboard`, §7): sign-in with the admin token,
//! the session cookie, and what each page shows a host, in Korean.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use serde_json::json;

use crate::support::app::{ADMIN, SECRET, TELEGRAM_ONLY, TestApp, WallClock, customer, order};
use crate::support::telegram::TOKEN;

/// A client that shows redirects instead of following them.
fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

async fn sign_in_with(t: &TestApp, token: &str) -> reqwest::Response {
    client()
        .post(format!("{}/dashboard/login", t.base))
        .form(&[("token", token)])
        .send()
        .await
        .expect("sign-in answered")
}

/// Signs in with the admin token; returns the `Cookie` header value to send.
async fn session(t: &TestApp) -> String {
    let response = sign_in_with(t, ADMIN).await;
    assert_eq!(response.status().as_u16(), 303);
    let set = response
        .headers()
        .get(SET_COOKIE)
        .and_then(|v| v.to_str().ok())
        .expect("a session cookie")
        .to_string();
    set.split(';').next().expect("name=value").to_string()
}

/// GET `path` with the session; the status and the page.
async fn page(t: &TestApp, cookie: &str, path: &str) -> (u16, String) {
    let response = client()
        .get(format!("{}{path}", t.base))
        .header(COOKIE, cookie)
        .send()
        .await
        .expect("page answered");
    let status = response.status().as_u16();
    (status, response.text().await.unwrap_or_default())
}

/// Every page a host can open, with what the tests below seed.
const PAGES: [&str; 7] = [
    "/dashboard",
    "/dashboard/broadcasts/live-1",
    "/dashboard/tickets",
    "/dashboard/held",
    "/dashboard/health",
    "/dashboard/consent?customer=c-1",
    "/dashboard/no-such-page",
];

fn location(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get(LOCATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

#[tokio::test]
async fn every_dashboard_page_without_a_session_leads_to_the_sign_in_page() {
    let t = TestApp::start().await;
    for path in PAGES {
        for cookie in [None, Some("encore_session=made-up")] {
            let mut request = client().get(format!("{}{path}", t.base));
            if let Some(cookie) = cookie {
                request = request.header(COOKIE, cookie);
            }
            let response = request.send().await.expect("answered");
            assert_eq!(response.status().as_u16(), 303, "{path} with {cookie:?}");
            assert_eq!(location(&response).as_deref(), Some("/dashboard/login"));
        }
    }
    let response = client()
        .post(format!("{}/dashboard/logout", t.base))
        .send()
        .await
        .expect("answered");
    assert_eq!(response.status().as_u16(), 303);
    let login = client()
        .get(format!("{}/dashboard/login", t.base))
        .send()
        .await
        .expect("answered");
    assert_eq!(login.status().as_u16(), 200);
    let text = login.text().await.expect("page");
    assert!(text.contains("대시보드 로그인"), "{text}");
    assert!(text.contains("name=\"token\""), "{text}");
}

#[tokio::test]
async fn a_wrong_token_is_refused_slowly_more_slowly_again_and_gets_no_cookie() {
    let t = TestApp::start().await;
    let started = Instant::now();
    let response = sign_in_with(&t, "not-the-admin-token").await;
    let first = started.elapsed();
    assert_eq!(response.status().as_u16(), 401);
    assert!(response.headers().get(SET_COOKIE).is_none());
    assert!(first >= Duration::from_secs(1), "answered after {first:?}");
    let text = response.text().await.expect("page");
    assert!(text.contains("토큰이 맞지 않아요"), "{text}");

    let started = Instant::now();
    let response = sign_in_with(&t, "").await;
    let second = started.elapsed();
    assert_eq!(response.status().as_u16(), 401);
    assert!(response.headers().get(SET_COOKIE).is_none());
    assert!(
        second >= Duration::from_secs(2),
        "a second failure from the same address waits longer: {second:?}"
    );
}

#[tokio::test]
async fn the_right_token_starts_a_session_in_a_strict_http_only_cookie_until_sign_out() {
    let t = TestApp::start().await;
    let response = sign_in_with(&t, ADMIN).await;
    assert_eq!(response.status().as_u16(), 303);
    assert_eq!(location(&response).as_deref(), Some("/dashboard"));
    let set = response
        .headers()
        .get(SET_COOKIE)
        .and_then(|v| v.to_str().ok())
        .expect("a cookie")
        .to_string();
    for attribute in [
        "HttpOnly",
        "SameSite=Strict",
        "Path=/dashboard",
        "Max-Age=43200",
    ] {
        assert!(set.contains(attribute), "{set} has {attribute}");
    }
    let cookie = set.split(';').next().expect("name=value").to_string();
    let value = cookie.strip_prefix("encore_session=").expect("our cookie");
    assert!(value.len() >= 32, "a long random id: {value}");
    assert!(!set.contains(ADMIN), "the cookie is not the token");

    let response = client()
        .get(format!("{}/dashboard", t.base))
        .header(COOKIE, &cookie)
        .send()
        .await
        .expect("answered");
    assert_eq!(response.status().as_u16(), 200);
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    assert_eq!(header("cache-control"), "no-store");
    assert!(header("content-security-policy").contains("default-src 'none'"));
    let text = response.text().await.expect("page");
    assert!(text.contains("<html lang=\"ko\""), "{text}");
    assert!(!text.contains("<script"), "no JavaScript");
    assert!(text.contains("name=\"viewport\""), "readable on a phone");

    // Over https (a proxy in front says so) the cookie is Secure as well.
    let secure = client()
        .post(format!("{}/dashboard/login", t.base))
        .header("x-forwarded-proto", "https")
        .form(&[("token", ADMIN)])
        .send()
        .await
        .expect("answered");
    let set = secure.headers().get(SET_COOKIE).expect("a cookie");
    assert!(set.to_str().expect("text").contains("Secure"), "{set:?}");

    let out = client()
        .post(format!("{}/dashboard/logout", t.base))
        .header(COOKIE, &cookie)
        .send()
        .await
        .expect("answered");
    assert_eq!(out.status().as_u16(), 303);
    assert!(
        out.headers()
            .get(SET_COOKIE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("Max-Age=0"))
    );
    let (status, _) = page(&t, &cookie, "/dashboard").await;
    assert_eq!(status, 303, "signed out: the old cookie leads to sign-in");
}

/// Three buyers of `live-1` (ended, "겨울 아우터 라이브") and a later scheduled `live-2`.
pub async fn seed_broadcasts(t: &TestApp) {
    let now = Utc::now();
    let mut events = Vec::new();
    for (i, name) in ["민수", "지연", "하늘"].iter().enumerate() {
        events.push(customer(&format!("c-{i}"), name));
        events.push(order(
            &format!("o-{i}"),
            &format!("c-{i}"),
            "live-1",
            "코트",
            39_000,
        ));
    }
    events.push(
        json!({"id": "end-1", "type": "broadcast.ended", "occurred_at": now.to_rfc3339(),
        "broadcast": {"id": "live-1", "title": "겨울 아우터 라이브"}}),
    );
    events.push(
        json!({"id": "sched-2", "type": "broadcast.scheduled", "occurred_at": now.to_rfc3339(),
        "broadcast": {"id": "live-2", "title": "봄 신상 라이브",
                      "starts_at": (now + chrono::Duration::days(3)).to_rfc3339()}}),
    );
    let (status, body) = t.post_events(&events).await;
    assert_eq!(status, 202, "{body}");
}

#[tokio::test]
async fn the_broadcast_list_is_newest_first_with_buyers_and_each_report_is_in_korean() {
    let t = TestApp::start().await;
    seed_broadcasts(&t).await;
    let cookie = session(&t).await;

    let (status, list) = page(&t, &cookie, "/dashboard").await;
    assert_eq!(status, 200);
    let newer = list.find("봄 신상 라이브").expect("live-2 listed");
    let older = list.find("겨울 아우터 라이브").expect("live-1 listed");
    assert!(newer < older, "newest first");
    assert!(list[older..].contains("3명"), "live-1's buyers: {list}");
    assert!(
        list.contains("href=\"/dashboard/broadcasts/live-1\""),
        "{list}"
    );

    let (status, report) = page(&t, &cookie, "/dashboard/broadcasts/live-1").await;
    assert_eq!(status, 200);
    for expected in [
        "「겨울 아우터 라이브」 방송 리포트",
        "구매자 3명 (메신저 연결 0명, 미연결 3명)",
        "감사 인사",
        "상담 연결",
        "다시 왔을까요?",
        "30일 안에 재주문",
        "미연결 구매자: 3명 중 30일 안에 재주문 0명",
        "집계 중",
        "다음 방송 시청",
        // The charts, inline: the same SVG the PNG is drawn from.
        "<svg",
        "감사 인사는 어디까지 닿았나",
    ] {
        assert!(
            report.contains(expected),
            "the report shows {expected}: {report}"
        );
    }

    let (status, missing) = page(&t, &cookie, "/dashboard/broadcasts/no-such-live").await;
    assert_eq!(status, 404);
    assert!(missing.contains("찾는 페이지가 없어요"));
}

#[tokio::test]
async fn open_tickets_show_their_promised_time_with_the_overdue_one_first() {
    let t = TestApp::start().await;
    let now = Utc::now();
    let (waiting_opened, overdue_opened) = (
        now - chrono::Duration::hours(1),
        now - chrono::Duration::hours(30),
    );
    {
        use encore::store::tickets;
        let mut conn = t.ctx().store.conn().await.expect("conn");
        tickets::open(
            &mut conn,
            "c-new",
            "telegram",
            "button",
            None,
            waiting_opened,
        )
        .await
        .expect("ticket");
        tickets::open(
            &mut conn,
            "c-old",
            "telegram",
            "words",
            None,
            overdue_opened,
        )
        .await
        .expect("ticket");
    }
    let cookie = session(&t).await;
    let (status, text) = page(&t, &cookie, "/dashboard/tickets").await;
    assert_eq!(status, 200);
    let shop_time = |at: chrono::DateTime<Utc>| {
        (at + chrono::Duration::hours(24))
            .with_timezone(&chrono_tz::Asia::Seoul)
            .format("%Y-%m-%d %H:%M")
            .to_string()
    };
    let overdue = text
        .find(&shop_time(overdue_opened))
        .expect("overdue promise shown");
    let waiting = text
        .find(&shop_time(waiting_opened))
        .expect("waiting promise shown");
    assert!(overdue < waiting, "the overdue ticket comes first: {text}");
    assert!(text.contains("약속 시간 지남"), "{text}");
    assert!(text.contains("답변 대기"), "{text}");
    assert!(
        text.contains("버튼으로 상담 요청"),
        "how it was asked: {text}"
    );
    assert!(text.find("c-old") < text.find("c-new"));
}

/// A queued message the gate held, straight into the store (the dispatcher leaves it: it is
/// not due).
async fn seed_held(t: &TestApp, key: &str, reason: &str, until: chrono::DateTime<Utc>) {
    use encore::store::outbox::{self, NewMessage};
    let now = Utc::now();
    let mut conn = t.ctx().store.conn().await.expect("conn");
    outbox::enqueue(
        &mut conn,
        &NewMessage {
            idem_key: key.to_string(),
            recipient: "customer:c-held".to_string(),
            customer_id: Some("c-held".to_string()),
            target_platform: None,
            target_chat: None,
            flow: "winback",
            kind: "advertising",
            lane: 2,
            payload: "{}".to_string(),
            broadcast_id: None,
            not_before: until,
            expires_at: None,
        },
        now,
    )
    .await
    .expect("enqueued");
    drop(conn);
    sqlx::query("UPDATE outbox SET hold_reason = $1 WHERE idem_key = $2")
        .bind(reason)
        .bind(key)
        .execute(t.ctx().store.pool_for_tests())
        .await
        .expect("held");
}

#[tokio::test]
async fn held_messages_show_why_and_until_when() {
    let t = TestApp::start().await;
    let until = Utc::now() + chrono::Duration::hours(9);
    seed_held(&t, "held-1", "quiet_hours", until).await;
    seed_held(
        &t,
        "held-2",
        "weekly_cap",
        until + chrono::Duration::days(3),
    )
    .await;
    let cookie = session(&t).await;
    let (status, text) = page(&t, &cookie, "/dashboard/held").await;
    assert_eq!(status, 200);
    assert!(text.contains("야간 수신 제한 시간이라 보류"), "{text}");
    assert!(
        text.contains("주간 광고 한도를 넘어 다음 주로 연기"),
        "{text}"
    );
    assert!(text.contains("모두 2건"), "{text}");
    assert!(
        text.contains("다시 찾아 주세요"),
        "the message is named: {text}"
    );
    let shown = until
        .with_timezone(&chrono_tz::Asia::Seoul)
        .format("%Y-%m-%d %H:%M")
        .to_string();
    assert!(text.contains(&shown), "until when: {shown} in {text}");
}

#[tokio::test]
async fn delivery_health_shows_queue_depth_429s_set_aside_updates_and_no_secret() {
    let t = TestApp::start().await;
    let later = Utc::now() + chrono::Duration::hours(5);
    seed_held(&t, "q-1", "send_window", later).await;
    seed_held(&t, "q-2", "send_window", later).await;
    t.ctx()
        .store
        .bump_counter("rate_limited:telegram", 7)
        .await
        .expect("counter");
    {
        let mut conn = t.ctx().store.conn().await.expect("conn");
        // A platform error that quotes the request URL, bot token included.
        encore::store::dead_letters::set_aside_update(
            &mut conn,
            "telegram",
            "update 42",
            "{}",
            &format!(
                "error sending request for url (https://api.telegram.org/bot{TOKEN}/getUpdates)"
            ),
            Utc::now(),
        )
        .await
        .expect("set aside");
    }
    let cookie = session(&t).await;
    let (status, text) = page(&t, &cookie, "/dashboard/health").await;
    assert_eq!(status, 200);
    assert!(text.contains("보내지 않은 메시지 2건"), "{text}");
    assert!(text.contains("대량 발송"), "{text}");
    assert!(text.contains("속도 제한(429)"), "{text}");
    assert!(text.contains("<dd>7</dd>"), "429s seen on Telegram: {text}");
    assert!(text.contains("update 42"), "{text}");
    assert!(text.contains("getUpdates"), "{text}");
    assert!(!text.contains(TOKEN), "the bot token is masked: {text}");
}

#[tokio::test]
async fn a_customers_consent_history_is_found_by_customer_id() {
    let t = TestApp::start().await;
    let at = Utc::now() - chrono::Duration::days(2);
    let (status, body) = t
        .post_events(&[json!({"id": "cu-consent", "type": "customer.upserted",
            "occurred_at": at.to_rfc3339(),
            "customer": {"id": "c-1", "name": "민수", "locale": "ko",
                "consent": {"marketing": true, "at": at.to_rfc3339(), "source": "shop_checkout",
                            "wording": "이벤트·할인 소식을 받겠습니다"}}})])
        .await;
    assert_eq!(status, 202, "{body}");
    let cookie = session(&t).await;

    let (status, form) = page(&t, &cookie, "/dashboard/consent").await;
    assert_eq!(status, 200);
    assert!(form.contains("name=\"customer\""), "a search form: {form}");

    let (status, text) = page(&t, &cookie, "/dashboard/consent?customer=c-1").await;
    assert_eq!(status, 200);
    assert!(text.contains("광고성 정보 수신"), "{text}");
    assert!(text.contains(">동의<"), "{text}");
    assert!(text.contains("이벤트·할인 소식을 받겠습니다"), "{text}");
    assert!(text.contains("shop_checkout"), "{text}");

    let (_, none) = page(&t, &cookie, "/dashboard/consent?customer=%3Cb%3Ec-9").await;
    assert!(none.contains("&lt;b&gt;c-9"), "the id is escaped: {none}");
    assert!(none.contains("동의 기록이 없어요"), "{none}");
}

#[tokio::test]
async fn no_secret_appears_in_any_page() {
    let t = TestApp::start().await;
    seed_broadcasts(&t).await;
    let cookie = session(&t).await;
    for path in PAGES.iter().copied().chain(["/dashboard/login"]) {
        let (status, text) = page(&t, &cookie, path).await;
        assert!(status == 200 || status == 404, "{path}: {status}");
        for secret in [ADMIN, SECRET, TOKEN] {
            assert!(!text.contains(secret), "{path} shows a secret");
        }
    }
}

#[tokio::test]
async fn a_session_expires_after_twelve_hours() {
    let clock = WallClock::default();
    let t = TestApp::start_with_clock(Arc::new(clock.clone())).await;
    let cookie = session(&t).await;
    clock.advance(chrono::Duration::hours(11));
    assert_eq!(page(&t, &cookie, "/dashboard/health").await.0, 200);
    clock.advance(chrono::Duration::hours(1) + chrono::Duration::minutes(1));
    let (status, _) = page(&t, &cookie, "/dashboard/health").await;
    assert_eq!(status, 303, "an expired session leads to sign-in");
}

#[tokio::test]
async fn with_the_dashboard_switched_off_its_paths_answer_404() {
    let t = TestApp::start_with_env(
        TELEGRAM_ONLY,
        Arc::new(encore::clock::SystemClock),
        vec![("ENCORE_HTTP_DASHBOARD".to_string(), "false".to_string())],
    )
    .await;
    let response = client()
        .get(format!("{}/dashboard", t.base))
        .send()
        .await
        .expect("answered");
    assert_eq!(response.status().as_u16(), 404);
    let response = sign_in_with(&t, ADMIN).await;
    assert_eq!(response.status().as_u16(), 404);
    assert!(response.headers().get(SET_COOKIE).is_none());
}
