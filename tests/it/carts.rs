//! Cart reminders (issue #14 point 2, CONTRACT §6): `cart.abandoned` sent as signed events, a moved
//! clock, and what viewers receive on the Telegram stand-in.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use encore::clock::{Clock, ManualClock};
use serde_json::{Value, json};

use crate::support::app::*;
use crate::support::telegram::{FakeTelegram, TgUser};

fn cart(event_id: &str, cart_id: &str, customer: &str, left_at: DateTime<Utc>) -> Value {
    json!({"id": event_id, "type": "cart.abandoned", "occurred_at": left_at.to_rfc3339(),
        "cart": {"id": cart_id, "customer_id": customer, "broadcast_id": "b-1",
            "items": [{"sku": "coat", "name": "울 코트", "quantity": 1, "unit_price": 89000},
                      {"sku": "muffler", "name": "니트 머플러", "quantity": 1, "unit_price": 29000}],
            "abandoned_at": left_at.to_rfc3339()}})
}

fn ordered_muffler(id: &str, customer: &str, at: DateTime<Utc>) -> Value {
    json!({"id": format!("op-{id}"), "type": "order.placed", "occurred_at": at.to_rfc3339(),
        "order": {"id": id, "customer_id": customer,
            "items": [{"sku": "muffler", "name": "니트 머플러", "quantity": 1, "unit_price": 29000}],
            "total": 29000, "currency": "KRW", "placed_at": at.to_rfc3339()}})
}

fn reminders(tg: &FakeTelegram, chat: i64) -> Vec<String> {
    tg.sent_to(chat)
        .into_iter()
        .map(|m| m.text)
        .filter(|text| text.contains("장바구니"))
        .collect()
}

async fn accepted(t: &TestApp, events: &[Value]) {
    let (status, body) = t.post_events(events).await;
    assert_eq!(status, 202, "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cart_left_three_days_ago_gets_one_reminder_naming_its_items_and_a_fresh_one_waits_48_hours()
 {
    // 12:00 in Seoul: inside the send window.
    let now = Utc
        .with_ymd_and_hms(2026, 5, 4, 3, 0, 0)
        .single()
        .expect("a time");
    let clock = ManualClock::at(now);
    let t = TestApp::start_with_clock(Arc::new(clock.clone())).await;
    let hours = chrono::Duration::hours;
    let people = [
        ("left-3-days", 9_401, true),
        ("left-1-hour", 9_402, true),
        ("bought-since", 9_403, true),
        ("no-consent", 9_404, false),
    ];
    for (id, user, consent) in people {
        accepted(
            &t,
            &[customer_with_consent(
                id,
                "구매자",
                consent,
                now - hours(200),
            )],
        )
        .await;
        t.link_viewer(id, &TgUser::new(user, "구매자").with_language("ko"))
            .await;
    }
    accepted(
        &t,
        &[
            cart("ca-1", "cart-1", "left-3-days", now - hours(72)),
            cart("ca-2", "cart-2", "left-1-hour", now - hours(1)),
            cart("ca-3", "cart-3", "bought-since", now - hours(72)),
            ordered_muffler("o-3", "bought-since", now - hours(48)),
            cart("ca-4", "cart-4", "no-consent", now - hours(72)),
        ],
    )
    .await;

    let found =
        t.tg.wait_until(Duration::from_secs(30), |tg| {
            !reminders(tg, 9_401).is_empty()
        })
        .await;
    assert!(found, "the cart left three days ago is reminded");
    let reminder = &reminders(&t.tg, 9_401)[0];
    assert!(
        reminder.contains("울 코트, 니트 머플러가 아직 기다리고 있어요"),
        "{reminder}"
    );
    assert!(reminder.starts_with("(광고)"), "advertising: {reminder}");
    assert!(reminder.contains("무료수신거부"), "{reminder}");

    // The same cart again — the same event, and a new event for the same cart — sends nothing.
    accepted(
        &t,
        &[cart("ca-1", "cart-1", "left-3-days", now - hours(72))],
    )
    .await;
    accepted(
        &t,
        &[cart("ca-1-again", "cart-1", "left-3-days", now - hours(70))],
    )
    .await;
    // 46 hours on: the cart left an hour ago is not due yet (48 hours after it was left).
    let preview = encore::flows::journeys::preview(t.ctx(), now + hours(46))
        .await
        .expect("preview");
    assert!(
        !preview.iter().any(|d| d.journey == "cart_reminder"),
        "{preview:?}"
    );
    clock.set(now + hours(46));
    t.settle().await;
    assert!(reminders(&t.tg, 9_402).is_empty(), "not before 48 hours");
    let preview =
        encore::flows::journeys::preview(t.ctx(), now + hours(47) + chrono::Duration::minutes(1))
            .await
            .expect("preview");
    let listed: Vec<_> = preview
        .iter()
        .map(|d| (d.journey, d.customer_id.as_str(), d.kind))
        .collect();
    assert_eq!(
        listed,
        vec![("cart_reminder", "left-1-hour", "advertising")]
    );
    clock.set(now + hours(47) + chrono::Duration::minutes(1));
    let found =
        t.tg.wait_until(Duration::from_secs(30), |tg| {
            !reminders(tg, 9_402).is_empty()
        })
        .await;
    assert!(found, "48 hours after it was left, the cart is reminded");

    clock.set(clock.now() + hours(30));
    t.settle().await;
    assert_eq!(reminders(&t.tg, 9_401).len(), 1, "never a second reminder");
    assert_eq!(reminders(&t.tg, 9_402).len(), 1, "never a second reminder");
    assert!(
        reminders(&t.tg, 9_403).is_empty(),
        "an item of the cart was ordered since"
    );
    assert!(reminders(&t.tg, 9_404).is_empty(), "no marketing consent");
}

#[tokio::test]
async fn a_cart_without_items_or_with_a_bad_time_is_refused_naming_the_field() {
    let t = TestApp::start().await;
    let mut empty = cart("ca-x", "cart-x", "c-1", Utc::now());
    empty["cart"]["items"] = json!([]);
    let (status, body) = t.post_events(&[empty]).await;
    assert_eq!(status, 400, "{body}");
    assert!(body.to_string().contains("cart.items"), "{body}");
    let mut bad_time = cart("ca-y", "cart-y", "c-1", Utc::now());
    bad_time["cart"]["abandoned_at"] = json!("yesterday");
    let (status, body) = t.post_events(&[bad_time]).await;
    assert_eq!(status, 400, "{body}");
    assert!(body.to_string().contains("abandoned_at"), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn journeys_preview_lists_a_held_next_live_alert_and_a_due_cart_reminder() {
    // 23:00 in Seoul: quiet hours.
    let now = Utc
        .with_ymd_and_hms(2026, 5, 4, 14, 0, 0)
        .single()
        .expect("a time");
    let clock = ManualClock::at(now);
    let t = TestApp::start_with_clock(Arc::new(clock.clone())).await;
    let viewer = TgUser::new(9_501, "구독자").with_language("ko");
    accepted(
        &t,
        &[customer_with_consent(
            "fan",
            "구독자",
            true,
            now - chrono::Duration::days(10),
        )],
    )
    .await;
    t.link_viewer("fan", &viewer).await;
    t.tg.push_private_text(&viewer, "/alerts on");
    let subscribed =
        t.tg.wait_until(Duration::from_secs(30), |tg| {
            tg.sent_to(viewer.id)
                .iter()
                .any(|m| m.text.contains("알려 드릴게요"))
        })
        .await;
    assert!(subscribed, "the viewer subscribed");
    let starts = Utc
        .with_ymd_and_hms(2026, 5, 5, 11, 0, 0)
        .single()
        .expect("a time");
    accepted(
        &t,
        &[
            json!({"id": "sch-1", "type": "broadcast.scheduled", "occurred_at": now.to_rfc3339(),
                "broadcast": {"id": "b-9", "title": "봄 신상 라이브", "starts_at": starts.to_rfc3339()}}),
            cart("ca-9", "cart-9", "fan", now - chrono::Duration::hours(72)),
        ],
    )
    .await;
    t.settle().await;
    assert!(
        !t.tg
            .sent_to(viewer.id)
            .iter()
            .any(|m| m.text.contains("봄 신상 라이브")),
        "the alert is held through quiet hours"
    );
    let listed = t.journeys_preview_json("2026-05-05T12:00:00+09:00");
    let mut journeys: Vec<(String, String, String)> = listed
        .as_array()
        .expect("an array")
        .iter()
        .map(|d| {
            (
                d["journey"].as_str().unwrap_or_default().to_string(),
                d["kind"].as_str().unwrap_or_default().to_string(),
                d["customer_id"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    journeys.sort();
    assert_eq!(
        journeys,
        vec![
            (
                "cart_reminder".to_string(),
                "advertising".to_string(),
                "fan".to_string()
            ),
            (
                "next_live_alerts".to_string(),
                "advertising".to_string(),
                "fan".to_string()
            ),
        ],
        "{listed}"
    );
    let alert = listed
        .as_array()
        .expect("an array")
        .iter()
        .find(|d| d["journey"] == "next_live_alerts")
        .expect("the alert");
    assert_eq!(
        alert["due_at"],
        json!("2026-05-04T23:00:00Z"),
        "08:00 in Seoul"
    );
}
