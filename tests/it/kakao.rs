//! KakaoTalk 알림톡 through SOLAPI (issue #15, CONTRACT §11), end to end: the real app, signed
//! events over HTTP, the Telegram stand-in, and the SOLAPI stand-in on 127.0.0.1, which checks
//! every request's signature and fills the templates docs/kakao.md documents.

use std::time::Duration;

use serde_json::{Value, json};

use crate::config_online::check_in_background;
use crate::support::app::*;
use crate::support::solapi::{self, FakeSolapi, SentAlimtalk};
use crate::support::telegram::{FakeTelegram, TgUser};

const MINJI_PHONE: &str = "01011112222";
const SEOJUN_PHONE: &str = "01033334444";
const BROADCAST: &str = "b-kakao";

fn now() -> String {
    chrono::Utc::now().to_rfc3339()
}

/// encore with Telegram and `[kakao]` pointed at a fresh SOLAPI stand-in, with templates for
/// `notes` and the API secret `secret`.
async fn start_with_secret(notes: &[&str], secret: &str) -> (FakeSolapi, TestApp) {
    let solapi = FakeSolapi::start().await;
    let toml = solapi.config_toml(notes, secret);
    let t = TestApp::start_with_toml(
        FakeTelegram::start().await,
        TELEGRAM_ONLY,
        std::sync::Arc::new(encore::clock::SystemClock),
        Vec::new(),
        toml,
    )
    .await;
    (solapi, t)
}

async fn start(notes: &[&str]) -> (FakeSolapi, TestApp) {
    start_with_secret(notes, solapi::API_SECRET).await
}

/// `customer.upserted` with a phone number (and optionally marketing consent from the shop).
fn customer_with_phone(event_id: &str, id: &str, name: &str, phone: Value) -> Value {
    json!({"id": event_id, "type": "customer.upserted", "occurred_at": now(),
        "customer": {"id": id, "name": name, "locale": "ko", "phone": phone}})
}

fn delayed(event_id: &str, order_id: &str, reason: &str, new_eta: &str) -> Value {
    json!({"id": event_id, "type": "order.status_changed", "occurred_at": now(),
        "order_id": order_id, "status": "delayed", "delay": {"reason": reason, "new_eta": new_eta}})
}

fn status(event_id: &str, order_id: &str, status: &str) -> Value {
    json!({"id": event_id, "type": "order.status_changed", "occurred_at": now(),
        "order_id": order_id, "status": status})
}

/// Minji, with her number and no messenger, bought a coat in the broadcast, which ended.
async fn phone_buyer_after_the_broadcast(t: &TestApp) {
    post(
        t,
        &[
            customer_with_phone("cu-1", "c-minji", "민지", json!(MINJI_PHONE)),
            order("o-1", "c-minji", BROADCAST, "울 코트", 189_000),
        ],
    )
    .await;
    post(t, &[ended("end-1", BROADCAST)]).await;
}

async fn post(t: &TestApp, events: &[Value]) {
    let (status, answer) = t.post_events(events).await;
    assert_eq!(status, 202, "{answer}");
}

/// Waits for `count` 알림톡 to `number` and returns them.
async fn alimtalk_to(solapi: &FakeSolapi, number: &str, count: usize) -> Vec<SentAlimtalk> {
    let arrived = solapi
        .wait_until(Duration::from_secs(30), |s| {
            s.sent_to(number).len() >= count
        })
        .await;
    assert!(
        arrived,
        "{count} 알림톡 reached {number}: {:?} (refused requests: {:?})",
        solapi.sent(),
        solapi.refused()
    );
    solapi.sent_to(number)
}

/// The customer record's `customer.phone`.
async fn phone_in_record(t: &TestApp, customer_id: &str) -> Value {
    let (status, record) = t.get_admin(&format!("/v1/customers/{customer_id}")).await;
    assert_eq!(status, 200, "{record}");
    record["customer"]["phone"].clone()
}

/// The outbox rows of `flow` to a customer: `(state, platform)`.
async fn outbox_rows(t: &TestApp, customer_id: &str, flow: &str) -> Vec<(String, Option<String>)> {
    sqlx::query_as("SELECT state, platform FROM outbox WHERE customer_id = $1 AND flow = $2")
        .bind(customer_id)
        .bind(flow)
        .fetch_all(t.ctx().store.pool_for_tests())
        .await
        .expect("outbox rows")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_buyer_with_a_number_and_no_messenger_gets_the_thank_you_as_one_alimtalk_and_a_linked_one_gets_it_on_telegram_only()
 {
    let (solapi, t) = start(&["thank-you", "order-delayed"]).await;
    let seojun = TgUser::new(61_001, "서준").with_language("ko");
    post(
        &t,
        &[
            customer_with_phone("cu-1", "c-minji", "민지", json!(MINJI_PHONE)),
            customer_with_phone("cu-2", "c-seojun", "서준", json!(SEOJUN_PHONE)),
            order("o-1", "c-minji", BROADCAST, "울 코트", 189_000),
            order("o-2", "c-seojun", BROADCAST, "캐시미어 니트", 59_000),
        ],
    )
    .await;
    t.link_viewer("c-seojun", &seojun).await;
    post(&t, &[ended("end-1", BROADCAST)]).await;

    let to_minji = alimtalk_to(&solapi, MINJI_PHONE, 1).await;
    let note = &to_minji[0];
    assert_eq!(note.template_id, "KA01TP-thank-you");
    assert_eq!(
        (note.pf_id.as_str(), note.from.as_str()),
        (solapi::PF_ID, solapi::SENDER)
    );
    assert!(note.disable_sms, "KakaoTalk or nothing, no text message");
    assert_eq!(note.variables["#{name}"], "민지님");
    assert_eq!(note.variables["#{broadcast}"], "겨울 아우터 라이브");
    assert_eq!(note.variables["#{items}"], "울 코트");
    assert!(
        note.text
            .starts_with("민지님, 「겨울 아우터 라이브」 방송에서 주문해 주셔서 고맙습니다.")
            && note.text.contains("■ 주문 상품: 울 코트"),
        "{}",
        note.text
    );
    // The linked buyer is thanked on Telegram, and only there.
    let thanks = wait_text(&t.tg, seojun.id, THANKS).await;
    assert!(thanks.text.contains("캐시미어 니트"), "{}", thanks.text);
    t.settle().await;
    assert_eq!(solapi.sent_to(MINJI_PHONE).len(), 1, "one 알림톡, not two");
    assert!(
        solapi.sent_to(SEOJUN_PHONE).is_empty(),
        "{:?}",
        solapi.sent()
    );

    let report = t
        .report_when(BROADCAST, |r| r["thank_you"]["delivered"] == json!(2))
        .await;
    assert_eq!(
        report["by_platform"]["kakao"],
        json!({"sent": 1, "delivered": 1, "failed": 0, "blocked": 0, "no_template": 0}),
        "{report}"
    );
    assert_eq!(report["by_platform"]["telegram"]["delivered"], json!(1));
    assert_eq!(report["by_platform"]["discord"]["sent"], json!(0));
    assert_eq!(report["thank_you"]["sent"], json!(2));
    assert_eq!(
        phone_in_record(&t, "c-minji").await,
        json!({"number": MINJI_PHONE, "reachable": true, "unreachable_since": null})
    );
    // The staff's report says the same in words.
    staff_says(&t, &format!("/report {BROADCAST}"));
    wait_text(
        &t.tg,
        STAFF_CHAT,
        "• 카카오톡 알림톡: 보냄 1 · 전달됨 1 · 실패 0 · 차단 0 · 템플릿 없음 0",
    )
    .await;
    // A second end thanks nobody twice, on either platform.
    post(&t, &[ended("end-2", BROADCAST)]).await;
    t.settle().await;
    assert_eq!(solapi.sent().len(), 1);
    assert!(solapi.refused().is_empty(), "{:?}", solapi.refused());
}

/// Minji linked Telegram, then blocked the bot there: her notes go by 알림톡 from then on; the
/// VIP code meant for her (she consented, she is silver) goes nowhere.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delay_note_goes_by_alimtalk_with_the_reason_and_the_new_date_and_a_vip_code_never_does()
{
    let (solapi, t) = start(&["thank-you", "order-delayed"]).await;
    let minji = TgUser::new(61_001, "민지").with_language("ko");
    let mut customer = customer_with_phone("cu-1", "c-minji", "민지", json!(MINJI_PHONE));
    customer["customer"]["consent"] = json!({"marketing": true, "at": now(),
        "source": "checkout", "wording": "혜택 소식을 받을게요"});
    let mut events = vec![customer];
    // Three orders: the silver tier, so staff's /vipcode for silver names her.
    for i in 1..=3 {
        events.push(order(
            &format!("o-{i}"),
            "c-minji",
            BROADCAST,
            "울 코트",
            189_000,
        ));
    }
    post(&t, &events).await;
    t.link_viewer("c-minji", &minji).await;
    t.tg.block_user(minji.id);

    // Telegram refuses the thank-you (403): it goes by 알림톡 instead, once.
    post(&t, &[ended("end-1", BROADCAST)]).await;
    let thanks = alimtalk_to(&solapi, MINJI_PHONE, 1).await;
    assert_eq!(thanks[0].template_id, "KA01TP-thank-you");
    assert!(
        thanks[0].variables["#{items}"].contains("울 코트"),
        "{:?}",
        thanks[0].variables
    );

    post(
        &t,
        &[delayed(
            "d-1",
            "o-1",
            "원단 입고가 늦어지고 있어요",
            "2026-12-03",
        )],
    )
    .await;
    let notes = alimtalk_to(&solapi, MINJI_PHONE, 2).await;
    let delay = &notes[1];
    assert_eq!(delay.template_id, "KA01TP-order-delayed");
    assert_eq!(delay.variables["#{reason}"], "원단 입고가 늦어지고 있어요");
    assert_eq!(delay.variables["#{date}"], "12월 3일(목)");
    assert!(
        delay.text.contains("■ 사유: 원단 입고가 늦어지고 있어요")
            && delay.text.contains("■ 새 발송 예정일: 12월 3일(목)"),
        "{}",
        delay.text
    );

    // Advertising never goes to KakaoTalk: the code is meant for her and reaches no one.
    staff_says(&t, "/vipcode WINTER silver");
    wait_text(&t.tg, STAFF_CHAT, "고객 1명에게 코드").await;
    t.settle().await;
    assert!(
        solapi
            .sent()
            .iter()
            .all(|m| m.variables.values().all(|v| !v.contains("WINTER"))),
        "{:?}",
        solapi.sent()
    );
    assert_eq!(
        solapi.sent().len(),
        2,
        "the thank-you and the delay note only"
    );
    // The code is not sent: she blocked the bot, and KakaoTalk carries no advertising.
    assert_eq!(
        outbox_rows(&t, "c-minji", "vip_code").await,
        vec![("blocked".to_string(), None)]
    );
    // Her tier's congratulation (advertising too) went nowhere either.
    let tier = outbox_rows(&t, "c-minji", "tier").await;
    assert!(
        tier.len() == 1 && tier[0].0 != "sent" && tier[0].1.is_none(),
        "{tier:?}"
    );
    let report = t
        .report_when(BROADCAST, |r| {
            r["by_platform"]["kakao"]["delivered"] == json!(1)
        })
        .await;
    assert_eq!(
        report["by_platform"]["telegram"]["sent"],
        json!(0),
        "{report}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_api_secret_fails_the_notes_marks_no_number_and_telegram_goes_on() {
    let (solapi, t) = start_with_secret(&["thank-you"], "not-the-secret-0123456789").await;
    let seojun = TgUser::new(61_101, "서준").with_language("ko");
    post(
        &t,
        &[
            customer_with_phone("cu-1", "c-minji", "민지", json!(MINJI_PHONE)),
            customer("c-seojun", "서준"),
            order("o-1", "c-minji", BROADCAST, "울 코트", 189_000),
            order("o-2", "c-seojun", BROADCAST, "캐시미어 니트", 59_000),
        ],
    )
    .await;
    t.link_viewer("c-seojun", &seojun).await;
    post(&t, &[ended("end-1", BROADCAST)]).await;

    wait_text(&t.tg, seojun.id, THANKS).await;
    let report = t
        .report_when(BROADCAST, |r| {
            r["by_platform"]["kakao"]["failed"] == json!(1)
                && r["by_platform"]["telegram"]["delivered"] == json!(1)
        })
        .await;
    assert_eq!(
        report["by_platform"]["kakao"],
        json!({"sent": 1, "delivered": 0, "failed": 1, "blocked": 0, "no_template": 0}),
        "{report}"
    );
    assert_eq!(report["by_platform"]["telegram"]["delivered"], json!(1));
    assert_eq!(solapi.refused(), vec!["SignatureDoesNotMatch".to_string()]);
    assert!(solapi.sent().is_empty());
    // The number is not blamed for the shop's key.
    assert_eq!(
        phone_in_record(&t, "c-minji").await["reachable"],
        json!(true)
    );
    // What the host reads: the note set aside, with what to fix.
    let why: String = sqlx::query_scalar(
        "SELECT last_error FROM outbox WHERE customer_id = 'c-minji' AND state = 'failed'",
    )
    .fetch_one(t.ctx().store.pool_for_tests())
    .await
    .expect("the failed note");
    assert!(
        why.contains("SignatureDoesNotMatch") && why.contains("kakao.api_secret"),
        "{why}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_number_kakaotalk_refuses_is_marked_unreachable_and_not_tried_again_until_the_shop_sends_a_new_one()
 {
    let (solapi, t) = start(&[
        "thank-you",
        "order-shipped",
        "order-delivered",
        "order-delayed",
    ])
    .await;
    solapi.refuse_number(MINJI_PHONE);
    phone_buyer_after_the_broadcast(&t).await;
    let report = t
        .report_when(BROADCAST, |r| {
            r["by_platform"]["kakao"]["blocked"] == json!(1)
        })
        .await;
    assert_eq!(
        report["by_platform"]["kakao"]["blocked"],
        json!(1),
        "{report}"
    );
    let phone = phone_in_record(&t, "c-minji").await;
    assert_eq!(
        (phone["number"].clone(), phone["reachable"].clone()),
        (json!(MINJI_PHONE), json!(false)),
        "{phone}"
    );
    assert!(phone["unreachable_since"].is_string(), "{phone}");
    let requests = solapi.requests().len();

    // Not tried again: neither a new note nor the same number sent anew.
    post(&t, &[status("s-1", "o-1", "shipped")]).await;
    post(
        &t,
        &[customer_with_phone(
            "cu-2",
            "c-minji",
            "민지",
            json!(MINJI_PHONE),
        )],
    )
    .await;
    post(&t, &[delayed("d-1", "o-1", "택배사 사정", "2026-12-05")]).await;
    t.settle().await;
    assert_eq!(solapi.requests().len(), requests, "{:?}", solapi.sent());
    assert_eq!(
        phone_in_record(&t, "c-minji").await["reachable"],
        json!(false)
    );

    // A new number from the shop clears the mark: the next note goes there.
    let new_number = "01099998888";
    post(
        &t,
        &[customer_with_phone(
            "cu-3",
            "c-minji",
            "민지",
            json!(new_number),
        )],
    )
    .await;
    assert_eq!(
        phone_in_record(&t, "c-minji").await,
        json!({"number": new_number, "reachable": true, "unreachable_since": null})
    );
    post(&t, &[status("s-2", "o-1", "delivered")]).await;
    let notes = alimtalk_to(&solapi, new_number, 1).await;
    assert_eq!(notes[0].template_id, "KA01TP-order-delivered");
    assert!(solapi.sent_to(MINJI_PHONE).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forget_removes_the_phone_number_and_so_does_customer_deleted() {
    let (solapi, t) = start(&["thank-you"]).await;
    let minji = TgUser::new(61_201, "민지").with_language("ko");
    post(
        &t,
        &[
            customer_with_phone("cu-1", "c-minji", "민지", json!(MINJI_PHONE)),
            customer_with_phone("cu-2", "c-seojun", "서준", json!(SEOJUN_PHONE)),
            order("o-1", "c-minji", BROADCAST, "울 코트", 189_000),
        ],
    )
    .await;
    t.link_viewer("c-minji", &minji).await;
    // /mydata shows the number before it is forgotten.
    minji_asks(&t, &minji, "/mydata").await;
    let mine = wait_text(&t.tg, minji.id, MINJI_PHONE).await;
    assert!(mine.text.contains("휴대폰 번호"), "{}", mine.text);

    minji_asks(&t, &minji, "/forget").await;
    let ask = wait_text(&t.tg, minji.id, "정말 삭제할까요").await;
    t.tg.push_callback(&minji, ask.message_id, minji.id, "forget:yes");
    wait_text(&t.tg, minji.id, "개인정보를 삭제했어요").await;
    post(
        &t,
        &[
            json!({"id": "del-1", "type": "customer.deleted", "occurred_at": now(),
            "customer_id": "c-seojun"}),
        ],
    )
    .await;
    t.settle().await;

    for (customer_id, number) in [("c-minji", MINJI_PHONE), ("c-seojun", SEOJUN_PHONE)] {
        let (status, _) = t.get_admin(&format!("/v1/customers/{customer_id}")).await;
        assert_eq!(status, 404);
        let pool = t.ctx().store.pool_for_tests();
        let kept: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM customers WHERE phone = $1")
            .bind(number)
            .fetch_one(pool)
            .await
            .expect("count");
        assert_eq!(kept, 0, "{number} is not stored with any customer");
        let in_events: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM events WHERE payload LIKE $1")
                .bind(format!("%{number}%"))
                .fetch_one(pool)
                .await
                .expect("count");
        assert_eq!(in_events, 0, "{number} is not in a stored event either");
    }
    assert!(solapi.sent().is_empty());
}

async fn minji_asks(t: &TestApp, user: &TgUser, text: &str) {
    t.tg.push_private_text(user, text);
    t.updates_handled().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thank_you_without_a_template_is_counted_as_no_template_and_goes_to_telegram_once_linked()
{
    let (solapi, t) = start(&["order-delayed"]).await;
    let minji = TgUser::new(61_301, "민지").with_language("ko");
    phone_buyer_after_the_broadcast(&t).await;
    let report = t
        .report_when(BROADCAST, |r| {
            r["by_platform"]["kakao"]["no_template"] == json!(1)
        })
        .await;
    assert_eq!(
        report["by_platform"]["kakao"],
        json!({"sent": 0, "delivered": 0, "failed": 0, "blocked": 0, "no_template": 1}),
        "{report}"
    );
    assert_eq!(report["thank_you"]["sent"], json!(0), "not sent anywhere");
    assert!(solapi.sent().is_empty());

    // Linking later: the thank-you that found no way goes to Telegram now.
    t.link_viewer("c-minji", &minji).await;
    let thanks = wait_text(&t.tg, minji.id, THANKS).await;
    assert!(thanks.text.contains("울 코트"), "{}", thanks.text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_phone_number_that_is_not_a_korean_mobile_number_is_refused_naming_the_field() {
    let (_solapi, t) = start(&["thank-you"]).await;
    for bad in [
        json!("010-1111-2222"),
        json!("+821011112222"),
        json!(1011112222),
    ] {
        let (status, answer) = t
            .post_events(&[customer_with_phone("cu-bad", "c-x", "엑스", bad.clone())])
            .await;
        assert_eq!(status, 400, "{bad}: {answer}");
        assert_eq!(
            answer["error"]["field"],
            json!("customer.phone"),
            "{answer}"
        );
        assert_eq!(answer["error"]["event_index"], json!(0));
        assert!(
            !answer["error"]["message"]
                .as_str()
                .unwrap_or("")
                .contains("1111"),
            "the number is not repeated: {answer}"
        );
    }
    // `null` removes a stored number.
    post(
        &t,
        &[customer_with_phone(
            "cu-1",
            "c-x",
            "엑스",
            json!(MINJI_PHONE),
        )],
    )
    .await;
    post(
        &t,
        &[customer_with_phone("cu-2", "c-x", "엑스", Value::Null)],
    )
    .await;
    assert_eq!(phone_in_record(&t, "c-x").await, Value::Null);

    // A merge moves the number to a customer who has none.
    post(
        &t,
        &[
            customer_with_phone("cu-3", "c-x", "엑스", json!(SEOJUN_PHONE)),
            customer("c-y", "와이"),
            json!({"id": "m-1", "type": "customer.merged", "occurred_at": now(),
                "from": "c-x", "into": "c-y"}),
        ],
    )
    .await;
    assert_eq!(
        phone_in_record(&t, "c-y").await["number"],
        json!(SEOJUN_PHONE)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notes_due_together_go_in_one_request_and_the_dealers_faults_are_waited_out_or_not_repeated()
 {
    let (solapi, t) = start(&["thank-you", "order-shipped"]).await;
    // A dealer a little way off: the notes due while a request is out go together.
    solapi.set_latency(Duration::from_millis(300));
    let buyers = 12;
    let phone = |i: usize| format!("010{:08}", 20_000_000 + i);
    let mut events = Vec::new();
    for i in 0..buyers {
        let id = format!("c-{i}");
        events.push(customer_with_phone(
            &format!("cu-{i}"),
            &id,
            &format!("구매자{i}"),
            json!(phone(i)),
        ));
        events.push(order(&format!("o-{i}"), &id, BROADCAST, "니트", 59_000));
    }
    post(&t, &events).await;
    // The first request is refused as a server fault, the next answers 429: both are waited out.
    solapi.fail_next(503, "InternalError", None);
    solapi.fail_next(429, "TooManyRequests", Some(1));
    post(&t, &[ended("end-1", BROADCAST)]).await;
    let all = solapi
        .wait_until(Duration::from_secs(60), |s| s.sent().len() >= buyers)
        .await;
    assert!(all, "{} of {buyers}", solapi.sent().len());
    t.settle().await;
    let requests = solapi.requests();
    assert_eq!(
        requests.iter().sum::<usize>(),
        buyers,
        "each note taken once"
    );
    assert!(requests.len() < buyers, "notes were batched: {requests:?}");
    for i in 0..buyers {
        assert_eq!(solapi.sent_to(&phone(i)).len(), 1, "buyer {i}");
    }

    // An answer lost after SOLAPI took the note: ended as unknown, not sent again.
    solapi.set_latency(Duration::ZERO);
    solapi.lose_next_answer();
    post(&t, &[status("s-0", "o-0", "shipped")]).await;
    alimtalk_to(&solapi, &phone(0), 2).await;
    t.settle().await;
    assert_eq!(solapi.sent_to(&phone(0)).len(), 2, "not repeated");
    assert_eq!(
        outbox_rows(&t, "c-0", "order_note").await,
        vec![("unknown".to_string(), Some("kakao".to_string()))]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn config_check_online_proves_the_key_and_secret_without_sending_anything() {
    let solapi = FakeSolapi::start().await;
    let envs = |secret: &str| {
        vec![
            ("ENCORE_KAKAO_API_URL", solapi.api_url()),
            ("ENCORE_KAKAO_API_KEY", solapi::API_KEY.to_string()),
            ("ENCORE_KAKAO_API_SECRET", secret.to_string()),
            ("ENCORE_KAKAO_PF_ID", solapi::PF_ID.to_string()),
            ("ENCORE_KAKAO_SENDER", solapi::SENDER.to_string()),
        ]
    };
    let (ok, text) = check_in_background(&envs(solapi::API_SECRET)).await;
    assert!(ok, "{text}");
    assert!(
        text.contains("ok       kakao: SOLAPI accepts the API key and secret (daily quota 200)"),
        "{text}"
    );
    assert!(text.contains("api_secret = \"********\""), "{text}");
    assert!(!text.contains(solapi::API_SECRET), "{text}");

    let (ok, text) = check_in_background(&envs("a-wrong-secret-0123456789")).await;
    assert!(!ok, "a refused key fails the check");
    assert!(
        text.contains("MISSING  kakao: SOLAPI accepts the API key and secret")
            && text.contains("SignatureDoesNotMatch"),
        "{text}"
    );
    assert!(solapi.sent().is_empty() && solapi.requests().is_empty());
}
