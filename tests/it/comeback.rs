//! "Did they come back?" (issue #13, CONTRACT §7): a scripted history sent as signed events with
//! times in the past — a broadcast 100 days ago, re-orders 5, 20 and 60 days after it, some buyers
//! linked and some not, the next live watched by some — and the report's `comeback` block read
//! over HTTP and in the staff chat.

use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};

use crate::support::app::*;
use crate::support::telegram::TgUser;

fn at(t: DateTime<Utc>) -> String {
    t.to_rfc3339()
}

fn placed(id: &str, customer: &str, broadcast: Option<&str>, when: DateTime<Utc>) -> Value {
    json!({"id": format!("op-{id}"), "type": "order.placed", "occurred_at": at(when),
        "order": {"id": id, "customer_id": customer, "broadcast_id": broadcast,
            "items": [{"sku": "sku-coat", "name": "울 코트", "quantity": 1, "unit_price": 39000}],
            "total": 39000, "currency": "KRW", "placed_at": at(when)}})
}

fn live(kind: &str, broadcast: &str, when: DateTime<Utc>) -> Value {
    let mut event = json!({"id": format!("{kind}-{broadcast}"), "type": kind, "occurred_at": at(when),
        "broadcast": {"id": broadcast, "title": format!("라이브 {broadcast}")}});
    if kind == "broadcast.ended" {
        event["broadcast"]["ended_at"] = json!(at(when));
    }
    event
}

fn engaged(broadcast: &str, customer: &str, when: DateTime<Utc>) -> Value {
    json!({"id": format!("ve-{broadcast}-{customer}"), "type": "viewer.engaged", "occurred_at": at(when),
        "broadcast_id": broadcast, "customer_id": customer, "watched_seconds": 1200})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broadcast_100_days_ago_counts_who_ordered_again_by_window_link_and_the_next_live() {
    let t = TestApp::start().await;
    let end = Utc::now() - Duration::days(100);
    let day = |n: i64| end + Duration::days(n);
    let mut events: Vec<Value> = (0..10)
        .map(|i| customer(&format!("c-{i}"), &format!("구매자{i}")))
        .collect();
    events.push(customer("c-99", "구경꾼"));
    events.push(live("broadcast.started", "b-old", end - Duration::hours(2)));
    for i in 0..10 {
        events.push(placed(
            &format!("o-{i}"),
            &format!("c-{i}"),
            Some("b-old"),
            end - Duration::hours(1),
        ));
    }
    events.push(live("broadcast.ended", "b-old", end));
    // Re-orders after the end. Only a buyer's first one counts, within 90 days; an order of
    // the same broadcast placed late is not a come-back.
    events.push(placed("r-0a", "c-0", None, day(5)));
    events.push(placed("r-0b", "c-0", None, day(25)));
    events.push(placed("r-1", "c-1", None, day(20)));
    events.push(placed("r-2", "c-2", None, day(60)));
    events.push(placed("r-3", "c-3", Some("b-old"), day(2)));
    events.push(placed("r-6", "c-6", None, day(20)));
    events.push(placed("r-7", "c-7", None, day(95)));
    // The next live, ten days after: two buyers watched it, one bought in it, a non-buyer watched.
    events.push(live("broadcast.started", "b-next", day(10)));
    events.push(engaged("b-next", "c-0", day(10)));
    events.push(engaged("b-next", "c-6", day(10)));
    events.push(engaged("b-next", "c-99", day(10)));
    events.push(engaged("b-old", "c-1", end - Duration::hours(1)));
    events.push(placed("n-4", "c-4", Some("b-next"), day(10)));
    events.push(live(
        "broadcast.ended",
        "b-next",
        day(10) + Duration::hours(2),
    ));
    let (status, answer) = t.post_events(&events).await;
    assert_eq!(status, 202, "{answer}");
    // c-0..c-5 link their Telegram; c-6..c-9 never do.
    let viewers: Vec<_> = (0..6)
        .map(|i| {
            (
                format!("c-{i}"),
                TgUser::new(70_000 + i, format!("시청자{i}")).with_language("ko"),
            )
        })
        .collect();
    t.link_viewers(&viewers).await;

    let (status, report) = t.get_admin("/v1/broadcasts/b-old/report").await;
    assert_eq!(status, 200, "{report}");
    let comeback = &report["comeback"];
    assert_eq!(
        comeback["reordered"],
        json!({"7d": {"count": 1, "complete": true},
               "30d": {"count": 4, "complete": true},
               "90d": {"count": 5, "complete": true}}),
        "{comeback}"
    );
    assert_eq!(comeback["linked"], json!({"buyers": 6, "reordered_30d": 3}));
    assert_eq!(
        comeback["unlinked"],
        json!({"buyers": 4, "reordered_30d": 1})
    );
    assert_eq!(comeback["watched_next_live"], json!(3));
    assert_eq!(report["linked_buyers"], json!(6));
    let linked_curve = comeback["curve"]["linked"].as_array().expect("curve");
    assert_eq!(linked_curve.len(), 91);
    assert_eq!(linked_curve[4], json!(0));
    assert_eq!(linked_curve[5], json!(1), "c-0 on day 5");
    assert_eq!(linked_curve[10], json!(2), "c-4 on day 10");
    assert_eq!(linked_curve[20], json!(3), "c-1 on day 20");
    assert_eq!(linked_curve[90], json!(4), "c-2 on day 60");
    assert_eq!(comeback["curve"]["unlinked"][19], json!(0));
    assert_eq!(comeback["curve"]["unlinked"][90], json!(1));

    // Forgetting a linked and an unlinked buyer who came back changes no count.
    let (status, _) = t
        .post_events(&[
            json!({"id": "del-0", "type": "customer.deleted", "occurred_at": at(Utc::now()), "customer_id": "c-0"}),
            json!({"id": "del-6", "type": "customer.deleted", "occurred_at": at(Utc::now()), "customer_id": "c-6"}),
        ])
        .await;
    assert_eq!(status, 202);
    let (_, after) = t.get_admin("/v1/broadcasts/b-old/report").await;
    assert_eq!(
        &after["comeback"], comeback,
        "forgetting changed the come-back block"
    );

    // The next live ended 90 days ago: every window but the 90-day one is closed.
    let (_, next) = t.get_admin("/v1/broadcasts/b-next/report").await;
    assert_eq!(
        next["comeback"]["reordered"],
        json!({"7d": {"count": 0, "complete": true},
               "30d": {"count": 0, "complete": true},
               "90d": {"count": 0, "complete": false}}),
        "{next}"
    );

    // The staff chat reads the same figures.
    staff_says(&t, "/report b-old");
    let text = wait_text(&t.tg, STAFF_CHAT, "재구매").await.text;
    assert!(
        text.contains("재구매: 7일 안 1명 · 30일 안 4명 · 90일 안 5명"),
        "{text}"
    );
    assert!(
        text.contains("메신저 연결 6명 중 3명 · 미연결 4명 중 1명 · 다음 방송 시청 3명"),
        "{text}"
    );
    // A broadcast nobody knows gets a plain answer, not a report.
    staff_says(&t, "/report no-such-live");
    let unknown = wait_text(&t.tg, STAFF_CHAT, "no-such-live").await.text;
    assert!(unknown.contains("기록이 없어요"), "{unknown}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broadcast_that_ended_ten_days_ago_has_its_longer_windows_open() {
    let t = TestApp::start().await;
    let end = Utc::now() - Duration::days(10);
    let events = vec![
        customer("c-1", "구매자"),
        placed("o-1", "c-1", Some("b-1"), end - Duration::hours(1)),
        live("broadcast.ended", "b-1", end),
        placed("r-1", "c-1", None, end + Duration::days(3)),
    ];
    let (status, answer) = t.post_events(&events).await;
    assert_eq!(status, 202, "{answer}");
    let (_, report) = t.get_admin("/v1/broadcasts/b-1/report").await;
    assert_eq!(
        report["comeback"]["reordered"],
        json!({"7d": {"count": 1, "complete": true},
               "30d": {"count": 1, "complete": false},
               "90d": {"count": 1, "complete": false}}),
        "{report}"
    );
    assert_eq!(
        report["comeback"]["unlinked"],
        json!({"buyers": 1, "reordered_30d": 1})
    );
}
