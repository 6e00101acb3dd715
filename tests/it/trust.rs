//! Trust recovery (issue #14 point 3, CONTRACT §4 `/changed`, §6): the win-back speaks to why a
//! customer may have left — read from their history — quotes what the shop changed, and the
//! period report counts it by cause. Signed events, the staff chat, a moved clock, and what the
//! viewers receive on the Telegram stand-in.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use encore::clock::ManualClock;
use serde_json::{Value, json};

use crate::support::app::*;
use crate::support::telegram::{FakeTelegram, TgUser};

fn order_in(id: &str, customer: &str, broadcast: &str, placed_at: DateTime<Utc>) -> Value {
    json!({"id": format!("op-{id}"), "type": "order.placed", "occurred_at": placed_at.to_rfc3339(),
        "order": {"id": id, "customer_id": customer, "broadcast_id": broadcast,
            "items": [{"sku": "knit", "name": "캐시미어 니트", "quantity": 1, "unit_price": 59000}],
            "total": 59000, "currency": "KRW", "placed_at": placed_at.to_rfc3339()}})
}

async fn accepted(t: &TestApp, events: &[Value]) {
    let (status, body) = t.post_events(events).await;
    assert_eq!(status, 202, "{body}");
}

/// The win-backs a viewer received (every trust-recovery text ends by inviting them to a live).
fn winbacks(tg: &FakeTelegram, chat: i64) -> Vec<String> {
    tg.sent_to(chat)
        .into_iter()
        .map(|m| m.text)
        .filter(|text| text.contains("라이브") && text.starts_with("(광고)"))
        .collect()
}

async fn first_winback(t: &TestApp, chat: i64) -> String {
    let found =
        t.tg.wait_until(std::time::Duration::from_secs(30), |tg| {
            !winbacks(tg, chat).is_empty()
        })
        .await;
    assert!(
        found,
        "chat {chat} got a win-back: {:?}",
        t.tg.sent_to(chat)
    );
    winbacks(&t.tg, chat)[0].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_customer_hears_about_what_went_wrong_and_what_changed_and_the_report_counts_each_cause()
 {
    // 120+ days before the win-back, at noon in Seoul (inside the send window).
    let t0 = utc(2026, 3, 2, 3, 0);
    let before = t0 - Duration::days(125);
    let clock = ManualClock::at(before);
    let t = TestApp::start_with_clock(Arc::new(clock.clone())).await;
    let late = TgUser::new(9_701, "늦은배송").with_language("ko");
    let unhappy = TgUser::new(9_702, "실망").with_language("ko");
    let plain = TgUser::new(9_703, "조용").with_language("ko");
    let asked = TgUser::new(9_704, "문의").with_language("ko");
    let people = [
        ("late", &late),
        ("unhappy", &unhappy),
        ("plain", &plain),
        ("asked", &asked),
    ];
    let mut events = Vec::new();
    for (id, _) in &people {
        events.push(customer_with_consent(
            id,
            "단골",
            true,
            before - Duration::days(1),
        ));
        events.push(order_in(&format!("o-{id}"), id, "b-old", before));
    }
    accepted(&t, &events).await;
    for (id, user) in &people {
        t.link_viewer(id, user).await;
    }

    // The history: a delayed order, a rating of 1, a ticket; nothing for the fourth.
    accepted(
        &t,
        &[json!({"id": "st-late", "type": "order.status_changed", "occurred_at": before.to_rfc3339(),
            "order_id": "o-late", "status": "delayed",
            "delay": {"reason": "입고 지연", "new_eta": "2025-11-10"}})],
    )
    .await;
    wait_text(&t.tg, late.id, "입고 지연").await;
    accepted(&t, &[ended("end-b-old", "b-old")]).await;
    let thanks = wait_text(&t.tg, unhappy.id, "방송에 함께해").await;
    let rate = buttons(&thanks);
    t.tg.push_callback(&unhappy, thanks.message_id, unhappy.id, &rate[0]);
    wait_text(&t.tg, unhappy.id, "1점").await;
    t.tg.push_private_text(&asked, "/human");
    wait_text(&t.tg, STAFF_CHAT, "🎫").await;
    t.settle().await;

    // Staff record what changed in delivery (months before anyone is silent long enough).
    staff_says(
        &t,
        "/changed delivery 이제 오후 2시 전 주문은 당일 출고해요",
    );
    wait_text(&t.tg, STAFF_CHAT, "기록했어요(delivery)").await;
    staff_says(&t, "/changed price 첫 줄\n둘째 줄");
    wait_text(&t.tg, STAFF_CHAT, "기록했어요(price)").await;
    staff_says(&t, "/changed shipping 무엇이든");
    wait_text(&t.tg, STAFF_CHAT, "사용법: /changed").await;

    // `journeys preview --json` lists the win-backs by cause before they go.
    let listed = t.journeys_preview_json("2026-03-02T12:00:00+09:00");
    let mut trust: Vec<&str> = listed
        .as_array()
        .expect("an array")
        .iter()
        .filter(|d| d["journey"] == "trust_recovery" && d["kind"] == "advertising")
        .filter_map(|d| d["customer_id"].as_str())
        .collect();
    trust.sort();
    assert_eq!(trust, ["asked", "late", "plain", "unhappy"], "{listed}");

    clock.set(t0);
    t.settle().await;

    let to_late = first_winback(&t, late.id).await;
    let empathy = to_late
        .find("늦")
        .unwrap_or_else(|| panic!("speaks to the delay: {to_late}"));
    let change = to_late
        .find("이제 오후 2시 전 주문은 당일 출고해요")
        .unwrap_or_else(|| panic!("quotes the change: {to_late}"));
    let invitation = to_late
        .rfind("라이브")
        .unwrap_or_else(|| panic!("invites: {to_late}"));
    assert!(
        empathy < change && change < invitation,
        "empathy, then the change, then the invitation: {to_late}"
    );
    assert!(to_late.starts_with("(광고)"), "{to_late}");
    assert!(to_late.contains("무료수신거부"), "{to_late}");

    let to_unhappy = first_winback(&t, unhappy.id).await;
    assert!(
        to_unhappy.contains("기대에 못 미쳐") || to_unhappy.contains("실망하셨죠"),
        "the quality variant: {to_unhappy}"
    );
    assert!(
        !to_unhappy.contains("당일 출고"),
        "a delivery note is not quoted for quality: {to_unhappy}"
    );
    let to_asked = first_winback(&t, asked.id).await;
    assert!(
        to_asked.contains("문의하셨을 때") || to_asked.contains("도와드리지 못했던"),
        "the service variant: {to_asked}"
    );
    let to_plain = first_winback(&t, plain.id).await;
    assert!(
        to_plain.contains("오랜만이에요") || to_plain.contains("한동안 소식이 없으셔서"),
        "the general variant: {to_plain}"
    );
    assert!(
        to_plain.contains("첫 줄\n둘째 줄"),
        "the general one quotes the price note, lines kept: {to_plain}"
    );

    // The late customer orders again six days later, at 22:00 (before a second win-back is
    // due): a return for the delivery cause, and a welcome-back that waits for the send
    // window, as the preview shows.
    let back_at = t0 + Duration::days(6) + Duration::hours(10);
    clock.set(back_at);
    accepted(&t, &[order_in("o-late-2", "late", "b-new", back_at)]).await;
    t.settle().await;
    let listed = t.journeys_preview_json("2026-03-09T10:00:00+09:00");
    let for_late: Vec<(&str, &str)> = listed
        .as_array()
        .expect("an array")
        .iter()
        .filter(|d| d["customer_id"] == "late")
        .filter_map(|d| Some((d["journey"].as_str()?, d["kind"].as_str()?)))
        .collect();
    assert_eq!(for_late, [("welcome_back", "transactional")], "{listed}");

    let (status, report) = t.get_admin("/v1/report?since=2026-03-01").await;
    assert_eq!(status, 200, "{report}");
    let trust = &report["journeys"]["trust_recovery"];
    assert_eq!(trust["sent"], json!(4), "{report}");
    let by_cause = &trust["by_cause"];
    for cause in ["delivery", "quality", "service", "general"] {
        assert_eq!(by_cause[cause]["sent"], json!(1), "{cause}: {report}");
        let variants = by_cause[cause]["variants"]
            .as_object()
            .unwrap_or_else(|| panic!("{cause} has variants: {report}"));
        assert!(variants.keys().all(|v| v == "a" || v == "b"), "{report}");
    }
    assert_eq!(by_cause["delivery"]["returned"], json!(1), "{report}");
    assert_eq!(by_cause["quality"]["returned"], json!(0), "{report}");
    assert!(
        report["journeys"].get("winback").is_none(),
        "win-backs by cause are counted as trust recovery: {report}"
    );

    // Day 7 at 22:00: the second win-backs are written and wait for the send window. The quiet
    // customer orders that night: theirs is not sent in the morning; the others' are.
    let night = t0 + Duration::days(7) + Duration::hours(10);
    clock.set(night);
    t.settle().await;
    accepted(&t, &[order_in("o-plain-2", "plain", "b-new", night)]).await;
    t.settle().await;
    clock.set(t0 + Duration::days(8) - Duration::hours(1)); // 11:00 the next day
    t.settle().await;
    let found =
        t.tg.wait_until(std::time::Duration::from_secs(30), |tg| {
            winbacks(tg, unhappy.id).len() == 2
        })
        .await;
    assert!(found, "the second win-back went out in the morning");
    t.settle().await;
    assert_eq!(
        winbacks(&t.tg, plain.id).len(),
        1,
        "an order ends the win-back, even one waiting to go out"
    );
}
