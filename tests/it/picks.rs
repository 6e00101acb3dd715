//! Personalised picks (issue #14 point 1, CONTRACT §3 `product.related` and the lineup, §6): a
//! next-live alert that names what the viewer bought and what in the lineup goes with it.
//! Signed events, a moved clock, `journeys preview --json`, and what viewers receive on the
//! Telegram stand-in.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use encore::clock::ManualClock;
use serde_json::{Value, json};

use crate::support::app::*;
use crate::support::telegram::{FakeTelegram, TgUser};

fn bought(order: &str, customer: &str, sku: &str, name: &str, at: DateTime<Utc>) -> Value {
    json!({"id": format!("op-{order}"), "type": "order.placed", "occurred_at": at.to_rfc3339(),
        "order": {"id": order, "customer_id": customer,
            "items": [{"sku": sku, "name": name, "quantity": 1, "unit_price": 39000}],
            "total": 39000, "currency": "KRW", "placed_at": at.to_rfc3339()}})
}

async fn accepted(t: &TestApp, events: &[Value]) {
    let (status, body) = t.post_events(events).await;
    assert_eq!(status, 202, "{body}");
}

fn alerts(tg: &FakeTelegram, chat: i64) -> Vec<String> {
    tg.sent_to(chat)
        .into_iter()
        .map(|m| m.text)
        .filter(|text| text.starts_with("(광고)") && text.contains("라이브 예고"))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_buyer_of_a_hears_that_b_which_goes_with_it_is_in_the_next_live_and_nobody_else_does() {
    // Monday 23:00 in Seoul: alerts written now wait for the end of quiet hours (08:00).
    let night = utc(2026, 4, 6, 14, 0);
    let clock = ManualClock::at(night);
    let t = TestApp::start_with_clock(Arc::new(clock.clone())).await;
    let months_ago = night - Duration::days(60);
    let later = night - Duration::days(30);

    // 30 customers bought the coat and later the muffler; 40 bought only socks.
    let mut events = Vec::new();
    for i in 0..30 {
        let id = format!("pair-{i}");
        events.push(customer_with_consent(&id, "손님", false, months_ago));
        events.push(bought(
            &format!("oc-{i}"),
            &id,
            "coat",
            "울 코트",
            months_ago,
        ));
        events.push(bought(
            &format!("om-{i}"),
            &id,
            "muffler",
            "니트 머플러",
            later,
        ));
    }
    for i in 0..40 {
        let id = format!("socks-{i}");
        events.push(customer_with_consent(&id, "손님", false, months_ago));
        events.push(bought(
            &format!("os-{i}"),
            &id,
            "socks",
            "울 양말",
            months_ago,
        ));
    }
    // The viewers this test watches.
    events.extend([
        customer_with_consent("buyer-a", "손님", true, months_ago),
        bought("o-buyer-a", "buyer-a", "coat", "울 코트", months_ago),
        customer_with_consent("no-consent", "손님", false, months_ago),
        bought("o-no-consent", "no-consent", "coat", "울 코트", months_ago),
        customer_with_consent("owns-both", "손님", true, months_ago),
        bought("o-owns-1", "owns-both", "coat", "울 코트", months_ago),
        bought("o-owns-2", "owns-both", "muffler", "니트 머플러", later),
        customer_with_consent("declined", "손님", true, months_ago),
        bought("o-declined", "declined", "coat", "울 코트", months_ago),
        customer_with_consent("subscriber", "손님", true, months_ago),
        customer_with_consent("scarf-buyer", "손님", true, months_ago),
        bought("o-scarf", "scarf-buyer", "scarf", "캐시미어 목도리", later),
        // The shop's own pair: the beanie goes with the scarf (one buyer teaches nothing).
        json!({"id": "rel-1", "type": "product.related", "occurred_at": later.to_rfc3339(),
            "sku": "beanie", "related": ["scarf"]}),
    ]);
    accepted(&t, &events).await;
    let buyer_a = TgUser::new(9_801, "코트손님").with_language("ko");
    let no_consent = TgUser::new(9_802, "비동의").with_language("ko");
    let owns_both = TgUser::new(9_803, "둘다").with_language("ko");
    let subscriber = TgUser::new(9_804, "구독자").with_language("ko");
    let scarf_buyer = TgUser::new(9_805, "목도리손님").with_language("ko");
    let declined = TgUser::new(9_806, "거절").with_language("ko");
    t.link_viewers(&[
        ("buyer-a".to_string(), buyer_a.clone()),
        ("no-consent".to_string(), no_consent.clone()),
        ("owns-both".to_string(), owns_both.clone()),
        ("subscriber".to_string(), subscriber.clone()),
        ("scarf-buyer".to_string(), scarf_buyer.clone()),
        ("declined".to_string(), declined.clone()),
    ])
    .await;
    t.tg.push_private_text(&declined, "/alerts off");
    wait_text(&t.tg, declined.id, "그만 보내 드릴게요").await;
    t.tg.push_private_text(&subscriber, "/alerts on");
    wait_text(&t.tg, subscriber.id, "알려 드릴게요").await;

    // Wednesday 20:00: the next live, with its lineup.
    let starts = utc(2026, 4, 8, 11, 0);
    accepted(
        &t,
        &[json!({"id": "sch-next", "type": "broadcast.scheduled", "occurred_at": night.to_rfc3339(),
            "broadcast": {"id": "b-next", "title": "겨울 소품 라이브", "starts_at": starts.to_rfc3339(),
                "products": [{"sku": "muffler", "name": "니트 머플러", "category": "소품"},
                             {"sku": "beanie", "name": "비니"}]}})],
    )
    .await;
    t.settle().await;
    for user in [&buyer_a, &subscriber, &scarf_buyer] {
        assert!(
            alerts(&t.tg, user.id).is_empty(),
            "held through the night: {:?}",
            alerts(&t.tg, user.id)
        );
    }

    // What goes out at 09:00, as `journeys preview --json` lists it.
    let listed = t.journeys_preview_json("2026-04-07T09:00:00+09:00");
    let mut listed: Vec<(String, String, String)> = listed
        .as_array()
        .expect("an array")
        .iter()
        .map(|d| {
            (
                d["journey"].as_str().unwrap_or_default().to_string(),
                d["customer_id"].as_str().unwrap_or_default().to_string(),
                d["kind"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    listed.sort();
    let expected = [
        ("next_live_alerts", "subscriber"),
        ("picks", "buyer-a"),
        ("picks", "scarf-buyer"),
    ]
    .map(|(j, c)| (j.to_string(), c.to_string(), "advertising".to_string()));
    assert_eq!(listed, expected.to_vec());

    clock.set(utc(2026, 4, 6, 23, 5)); // 08:05
    t.settle().await;
    let found =
        t.tg.wait_until(std::time::Duration::from_secs(30), |tg| {
            !alerts(tg, buyer_a.id).is_empty()
                && !alerts(tg, subscriber.id).is_empty()
                && !alerts(tg, scarf_buyer.id).is_empty()
        })
        .await;
    assert!(found, "the alerts went out in the morning");
    let pick = alerts(&t.tg, buyer_a.id).remove(0);
    assert!(
        pick.contains(
            "지난번 울 코트 잘 쓰고 계시죠? 함께 쓰기 좋은 니트 머플러가 이번 라이브에 나와요"
        ),
        "names both: {pick}"
    );
    assert!(pick.starts_with("(광고)"), "advertising: {pick}");
    assert!(pick.contains("무료수신거부"), "{pick}");
    let shop_pair = alerts(&t.tg, scarf_buyer.id).remove(0);
    assert!(
        shop_pair.contains("지난번 캐시미어 목도리 잘 쓰고 계시죠? 함께 쓰기 좋은 비니가"),
        "the shop's own pair: {shop_pair}"
    );
    let plain = alerts(&t.tg, subscriber.id).remove(0);
    assert!(plain.contains("겨울 소품 라이브"), "{plain}");
    assert!(!plain.contains("함께 쓰기"), "the plain alert: {plain}");
    assert_eq!(alerts(&t.tg, buyer_a.id).len(), 1, "one alert, one pick");
    assert!(
        alerts(&t.tg, no_consent.id).is_empty(),
        "no consent, nothing"
    );
    assert!(
        alerts(&t.tg, declined.id).is_empty(),
        "a pick is a next-live alert: /alerts off stops it"
    );
    assert!(
        alerts(&t.tg, owns_both.id).is_empty(),
        "never a pick they already bought, and they asked for no alerts"
    );

    // The live starts; the coat buyer orders the muffler two days later.
    accepted(
        &t,
        &[
            json!({"id": "start-next", "type": "broadcast.started", "occurred_at": starts.to_rfc3339(),
                "broadcast": {"id": "b-next"}}),
            bought(
                "o-buyer-a-2",
                "buyer-a",
                "muffler",
                "니트 머플러",
                starts + Duration::days(2),
            ),
        ],
    )
    .await;
    let (status, report) = t.get_admin("/v1/broadcasts/b-next/report").await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(
        report["picks"],
        json!({"sent": 2, "ordered_within_7d": 1}),
        "{report}"
    );
}

#[tokio::test]
async fn a_related_list_is_checked_before_it_is_stored() {
    let t = TestApp::start().await;
    let long = "x".repeat(201);
    let (status, body) = t
        .post_events(&[json!({"id": "rel-bad", "type": "product.related",
            "occurred_at": "2026-04-01T00:00:00Z", "sku": "coat", "related": ["scarf", long]})])
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["field"], json!("related[1]"), "{body}");
    let (status, body) = t
        .post_events(&[json!({"id": "sch-bad", "type": "broadcast.scheduled",
            "occurred_at": "2026-04-01T00:00:00Z",
            "broadcast": {"id": "b", "title": "t", "starts_at": "2026-04-02T00:00:00Z",
                "products": [{"sku": "", "name": "비니"}]}})])
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(
        body["error"]["field"],
        json!("broadcast.products[0].sku"),
        "{body}"
    );
}
