//! Consent, the advertising gate and lifecycle journeys (issue #6), against the Telegram
//! stand-in with a moved clock: what viewers receive, and when.

use std::sync::Arc;
use std::time::Duration;

use crate::support::app::*;
use crate::support::telegram::{FakeTelegram, TgUser};
use chrono::{DateTime, TimeZone, Utc};
use encore::clock::ManualClock;
use serde_json::{Value, json};

fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, 0)
        .single()
        .expect("a time")
}

async fn app_at(now: DateTime<Utc>) -> (TestApp, ManualClock) {
    let clock = ManualClock::at(now);
    let t = TestApp::start_with_clock(Arc::new(clock.clone())).await;
    (t, clock)
}

/// A customer record from the shop with consent given at `consent_at`.
fn customer_record(
    event_id: &str,
    id: &str,
    name: &str,
    locale: &str,
    marketing: bool,
    night: bool,
    consent_at: DateTime<Utc>,
) -> Value {
    json!({"id": event_id, "type": "customer.upserted", "occurred_at": consent_at.to_rfc3339(),
        "customer": {"id": id, "name": name, "locale": locale, "birthday": "06-10",
            "consent": {"marketing": marketing, "night": night, "at": consent_at.to_rfc3339(),
                "source": "checkout", "wording": "광고성 정보 수신에 동의합니다 (야간 포함)"}}})
}

fn order_at(id: &str, customer: &str, category: &str, placed_at: DateTime<Utc>) -> Value {
    json!({"id": format!("op-{id}"), "type": "order.placed", "occurred_at": placed_at.to_rfc3339(),
        "order": {"id": id, "customer_id": customer,
            "items": [{"sku": "k-1", "name": "캐시미어 니트", "category": category, "quantity": 1, "unit_price": 59000}],
            "total": 59000, "currency": "KRW", "placed_at": placed_at.to_rfc3339()}})
}

fn scheduled(event_id: &str, broadcast: &str, title: &str, starts_at: DateTime<Utc>) -> Value {
    json!({"id": event_id, "type": "broadcast.scheduled", "occurred_at": Utc::now().to_rfc3339(),
        "broadcast": {"id": broadcast, "title": title, "starts_at": starts_at.to_rfc3339(),
            "url": format!("https://live.example/{broadcast}")}})
}

async fn accepted(t: &TestApp, events: &[Value]) {
    let (status, body) = t.post_events(events).await;
    assert_eq!(status, 202, "{body}");
}

/// Lives number `numbers` ("Live number n", broadcast `b-n`) scheduled to start at `starts`:
/// a next-live alert each to every subscribed viewer (advertising).
async fn lives_scheduled(
    t: &TestApp,
    numbers: std::ops::RangeInclusive<u32>,
    starts: DateTime<Utc>,
) {
    for n in numbers {
        accepted(
            t,
            &[scheduled(
                &format!("s-{n}"),
                &format!("b-{n}"),
                &format!("Live number {n}"),
                starts,
            )],
        )
        .await;
    }
}

/// The viewer links and subscribes to next-live alerts.
async fn subscribed(t: &TestApp, customer: &str, user: &TgUser) {
    t.link_viewer(customer, user).await;
    t.tg.push_private_text(user, "/alerts on");
    wait_any(&t.tg, user.id, &["알려 드릴게요", "We will tell you"]).await;
}

async fn wait_any(tg: &FakeTelegram, chat: i64, needles: &[&str]) -> String {
    let found = tg
        .wait_until(Duration::from_secs(30), |tg| {
            tg.sent_to(chat)
                .iter()
                .any(|m| needles.iter().any(|n| m.text.contains(n)))
        })
        .await;
    assert!(
        found,
        "chat {chat} got one of {needles:?}: {:?}",
        tg.sent_to(chat).iter().map(|m| &m.text).collect::<Vec<_>>()
    );
    tg.sent_to(chat)
        .into_iter()
        .rev()
        .find(|m| needles.iter().any(|n| m.text.contains(n)))
        .map(|m| m.text)
        .expect("found")
}

fn count(tg: &FakeTelegram, chat: i64, needle: &str) -> usize {
    tg.sent_to(chat)
        .iter()
        .filter(|m| m.text.contains(needle))
        .count()
}

async fn period_report(t: &TestApp, since: &str) -> Value {
    let (status, report) = t.get_admin(&format!("/v1/report?since={since}")).await;
    assert_eq!(status, 200, "{report}");
    report
}

#[tokio::test]
async fn advertising_at_night_waits_for_the_morning_unless_night_consent_and_a_late_alert_is_dropped()
 {
    // Tuesday 22:30 in Seoul.
    let (t, clock) = app_at(at(2026, 12, 1, 13, 30)).await;
    let day_only = TgUser::new(9_001, "낮손님").with_language("ko");
    let night_ok = TgUser::new(9_002, "밤손님").with_language("ko");
    let given = at(2026, 11, 30, 3, 0);
    accepted(
        &t,
        &[
            customer_record("c-1", "day", "낮손님", "ko", true, false, given),
            customer_record("c-2", "night", "밤손님", "ko", true, true, given),
        ],
    )
    .await;
    subscribed(&t, "day", &day_only).await;
    subscribed(&t, "night", &night_ok).await;
    let stopper = TgUser::new(9_003, "그만손님").with_language("ko");
    accepted(
        &t,
        &[customer_record(
            "c-3",
            "stopper",
            "그만손님",
            "ko",
            true,
            false,
            given,
        )],
    )
    .await;
    subscribed(&t, "stopper", &stopper).await;

    // One live starts at 07:00 tomorrow (before the quiet hours end), one at noon.
    accepted(
        &t,
        &[
            scheduled("s-early", "b-early", "새벽 특가", at(2026, 12, 1, 22, 0)),
            scheduled("s-noon", "b-noon", "점심 라이브", at(2026, 12, 2, 3, 0)),
        ],
    )
    .await;
    let now = wait_any(&t.tg, night_ok.id, &["점심 라이브"]).await;
    wait_any(&t.tg, night_ok.id, &["새벽 특가"]).await;
    assert!(now.starts_with("(광고)"), "{now}");
    assert!(now.trim_end().ends_with("무료수신거부: /stop"), "{now}");

    // Transactional messages are never held, even behind held advertising.
    t.tg.push_private_text(&day_only, "/help");
    wait_any(&t.tg, day_only.id, &["무엇을 도와드릴까요"]).await;
    t.settle().await;
    assert_eq!(
        count(&t.tg, day_only.id, "📺 라이브 예고"),
        0,
        "nothing at night: {:?}",
        t.tg.sent_to(day_only.id)
            .iter()
            .map(|m| m.text.clone())
            .collect::<Vec<_>>()
    );

    // Held advertising is cancelled at once by /stop.
    t.tg.push_private_text(&stopper, "/stop");
    wait_any(&t.tg, stopper.id, &["철회했어요"]).await;

    clock.set(at(2026, 12, 1, 22, 59)); // 07:59
    t.settle().await;
    assert_eq!(
        count(&t.tg, day_only.id, "📺 라이브 예고"),
        0,
        "not before 08:00"
    );

    clock.set(at(2026, 12, 1, 23, 0)); // 08:00
    let morning = wait_any(&t.tg, day_only.id, &["점심 라이브"]).await;
    assert!(morning.starts_with("(광고)"), "{morning}");
    t.settle().await;
    assert_eq!(
        count(&t.tg, day_only.id, "새벽 특가"),
        0,
        "an alert held past the start is dropped, not sent late"
    );
    assert_eq!(
        count(&t.tg, stopper.id, "📺 라이브 예고"),
        0,
        "/stop cancelled the advertising that waited for the morning"
    );
    let (_, early) = t.get_admin("/v1/broadcasts/b-early/report").await;
    assert_eq!(
        early["advertising"]["held_for_quiet_hours"],
        json!(2),
        "{early}"
    );
    assert_eq!(early["advertising"]["expired"], json!(1), "{early}");
    let (_, noon) = t.get_admin("/v1/broadcasts/b-noon/report").await;
    assert_eq!(
        noon["advertising"]["held_for_quiet_hours"],
        json!(2),
        "{noon}"
    );
    assert_eq!(noon["advertising"]["expired"], json!(0), "{noon}");
}

#[tokio::test]
async fn a_third_advertisement_in_a_week_is_postponed_to_the_next_week_and_english_is_labelled_ad()
{
    // Wednesday noon in Seoul.
    let (t, clock) = app_at(at(2026, 12, 2, 3, 0)).await;
    let viewer = TgUser::new(9_101, "Alex").with_language("en");
    accepted(
        &t,
        &[customer_record(
            "c-1",
            "alex",
            "Alex",
            "en",
            true,
            true,
            at(2026, 12, 1, 3, 0),
        )],
    )
    .await;
    subscribed(&t, "alex", &viewer).await;
    let starts = at(2026, 12, 20, 3, 0);
    lives_scheduled(&t, 1..=3, starts).await;
    wait_any(&t.tg, viewer.id, &["Live number 1"]).await;
    let second = wait_any(&t.tg, viewer.id, &["Live number 2"]).await;
    assert!(second.starts_with("[Ad] "), "{second}");
    assert!(
        second.contains("02-123-4567"),
        "names the contact: {second}"
    );
    let last_line = second
        .trim_end()
        .lines()
        .last()
        .unwrap_or_default()
        .to_string();
    assert!(
        last_line.contains("무료수신거부") && last_line.contains("/stop"),
        "{second}"
    );
    t.settle().await;
    assert_eq!(
        count(&t.tg, viewer.id, "Live number 3"),
        0,
        "the third waits"
    );
    let (_, report) = t.get_admin("/v1/broadcasts/b-3/report").await;
    assert_eq!(
        report["advertising"]["postponed_by_cap"],
        json!(1),
        "{report}"
    );

    clock.set(at(2026, 12, 6, 14, 59)); // Sunday 23:59
    t.settle().await;
    assert_eq!(count(&t.tg, viewer.id, "Live number 3"), 0, "not this week");
    clock.set(at(2026, 12, 6, 15, 0)); // Monday 00:00, night consent given
    wait_any(&t.tg, viewer.id, &["Live number 3"]).await;
}

#[tokio::test]
async fn win_back_writes_twice_a_week_apart_and_stops_at_a_reply_an_order_or_stop() {
    let t0 = at(2026, 3, 2, 3, 0); // noon in Seoul, inside the send window
    // The win-back that speaks of the last order's category (trust recovery off; tests/it/
    // trust.rs covers the win-back by cause and the same rules under it).
    let clock = ManualClock::at(t0);
    let t = TestApp::start_with_env(
        TELEGRAM_ONLY,
        Arc::new(clock.clone()),
        vec![("ENCORE_JOURNEYS_TRUST_RECOVERY".into(), "false".into())],
    )
    .await;
    let given = t0 - chrono::Duration::days(1);
    let people = [
        ("quiet", 9_201),
        ("replies", 9_202),
        ("orders", 9_203),
        ("stops", 9_204),
    ];
    let mut events = Vec::new();
    for (id, _) in &people {
        events.push(customer_record(
            &format!("c-{id}"),
            id,
            "단골",
            "ko",
            true,
            true,
            given,
        ));
        events.push(order_at(
            &format!("o-{id}"),
            id,
            "니트",
            t0 - chrono::Duration::days(2),
        ));
    }
    accepted(&t, &events).await;
    let users: Vec<TgUser> = people
        .iter()
        .map(|(_, user)| TgUser::new(*user, "단골").with_language("ko"))
        .collect();
    let viewers: Vec<(String, TgUser)> = people
        .iter()
        .zip(&users)
        .map(|((id, _), u)| (id.to_string(), u.clone()))
        .collect();
    t.link_viewers(&viewers).await;

    clock.set(t0 + chrono::Duration::days(89));
    // Linked yesterday, with an order 120 days old: no win-back for them.
    let newcomer = TgUser::new(9_205, "새단골").with_language("ko");
    accepted(
        &t,
        &[
            customer_record("c-new", "newcomer", "새단골", "ko", true, true, given),
            order_at("o-new", "newcomer", "니트", t0 - chrono::Duration::days(31)),
        ],
    )
    .await;
    t.link_viewer("newcomer", &newcomer).await;

    // `journeys preview --json` lists the four win-backs due on day 90.
    let listed = t.journeys_preview_json("2026-05-31T12:00:00+09:00");
    let winbacks_listed = listed
        .as_array()
        .expect("an array")
        .iter()
        .filter(|d| d["journey"] == "winback" && d["kind"] == "advertising")
        .count();
    assert_eq!(winbacks_listed, 4, "{listed}");
    clock.set(t0 + chrono::Duration::days(90));
    // A tick now rather than at the scheduler's next turn: on a busy machine that can be late.
    t.settle().await;
    for user in &users {
        let first = wait_any(&t.tg, user.id, &["오랜만이에요", "잘 지내셨어요"]).await;
        assert!(first.starts_with("(광고)"), "{first}");
        assert!(
            first.contains("니트"),
            "speaks to what they bought: {first}"
        );
    }
    // After message 1: one replies, one orders, one sends /stop.
    t.tg.push_private_text(&users[1], "앗 반가워요");
    accepted(
        &t,
        &[order_at(
            "o-back",
            "orders",
            "니트",
            t0 + chrono::Duration::days(90) + chrono::Duration::hours(1),
        )],
    )
    .await;
    wait_any(&t.tg, users[2].id, &["다시 찾아 주셔서"]).await;
    t.tg.push_private_text(&users[3], "/stop");
    wait_any(&t.tg, users[3].id, &["철회했어요"]).await;
    t.settle().await;

    let winbacks = |chat: i64| {
        t.tg.sent_to(chat)
            .iter()
            .filter(|m| m.text.contains("오랜만이에요") || m.text.contains("잘 지내셨어요"))
            .count()
    };
    clock.set(t0 + chrono::Duration::days(97));
    t.settle().await;
    let second =
        t.tg.wait_until(Duration::from_secs(20), |_| winbacks(users[0].id) == 2)
            .await;
    assert!(second, "no reply for 7 days: message 2");
    clock.set(t0 + chrono::Duration::days(104));
    t.settle().await;
    clock.set(t0 + chrono::Duration::days(130));
    t.settle().await;
    assert_eq!(winbacks(users[0].id), 2, "no message 3");
    assert_eq!(winbacks(users[1].id), 1, "a reply stops it");
    assert_eq!(winbacks(users[2].id), 1, "an order stops it");
    assert_eq!(winbacks(users[3].id), 1, "/stop stops it");
    assert_eq!(winbacks(newcomer.id), 0, "silence counts from linking");

    // The period report counts win-backs per A/B variant, with the order that followed one.
    let report = period_report(&t, "2026-03-01").await;
    let winback = &report["journeys"]["winback"];
    assert_eq!(winback["sent"], json!(5), "{report}");
    assert_eq!(winback["conversions"], json!(1), "{report}");
    let variants = winback["variants"].as_object().expect("variants");
    let by_variant: i64 = variants.values().filter_map(|v| v["sent"].as_i64()).sum();
    assert_eq!(
        by_variant, 5,
        "each win-back was written in a variant: {report}"
    );
    assert!(variants.keys().all(|v| v == "a" || v == "b"), "{report}");
}

#[tokio::test]
async fn birthday_and_check_in_fire_once_on_the_right_local_day_inside_the_send_window() {
    let (mut t, clock) = app_at(at(2026, 5, 1, 3, 0)).await;
    let viewer = TgUser::new(9_301, "생일자").with_language("ko");
    accepted(
        &t,
        &[customer_record(
            "c-1",
            "bday",
            "생일자",
            "ko",
            true,
            true,
            at(2026, 4, 30, 3, 0),
        )],
    )
    .await;
    t.link_viewer("bday", &viewer).await;
    accepted(&t, &[order_at("o-1", "bday", "니트", at(2026, 5, 2, 3, 0))]).await;
    clock.set(at(2026, 5, 11, 3, 0));
    accepted(
        &t,
        &[json!({"id": "d-1", "type": "order.status_changed", "occurred_at": at(2026, 5, 11, 3, 0).to_rfc3339(),
            "order_id": "o-1", "status": "delivered"})],
    )
    .await;
    wait_any(&t.tg, viewer.id, &["도착했어요"]).await;

    // The evening before: nothing due yet; the preview of tomorrow 12:00 lists both.
    clock.set(at(2026, 6, 9, 14, 0)); // 23:00 on 06-09
    let none = encore::flows::journeys::preview(t.ctx(), clock_now(&clock))
        .await
        .expect("preview");
    assert!(none.is_empty(), "{none:?}");
    let tomorrow = at(2026, 6, 10, 3, 0);
    let due = encore::flows::journeys::preview(t.ctx(), tomorrow)
        .await
        .expect("preview");
    let journeys: Vec<(&str, &str, &str)> = due
        .iter()
        .map(|d| (d.journey, d.kind, d.language))
        .collect();
    assert!(
        journeys.contains(&("birthday", "advertising", "ko")),
        "{journeys:?}"
    );
    assert!(
        journeys.contains(&("checkin", "transactional", "ko")),
        "{journeys:?}"
    );
    let listed = t.journeys_preview_json("2026-06-10T12:00:00+09:00");
    let listed = listed.as_array().expect("an array");
    assert!(
        listed.iter().any(|d| d["journey"] == "birthday"
            && d["customer_id"] == "bday"
            && d["kind"] == "advertising"
            && d["language"] == "ko"
            && d["due_at"].as_str().is_some()),
        "{listed:?}"
    );
    t.settle().await;
    assert_eq!(
        count(&t.tg, viewer.id, "생일 축하"),
        0,
        "the preview sent nothing"
    );

    clock.set(at(2026, 6, 9, 15, 5)); // 00:05 on 06-10: the birthday, but outside the window
    t.settle().await;
    assert_eq!(count(&t.tg, viewer.id, "생일 축하"), 0, "not before 09:00");
    clock.set(at(2026, 6, 10, 0, 0)); // 09:00
    let birthday = wait_any(&t.tg, viewer.id, &["생일 축하"]).await;
    assert!(birthday.starts_with("(광고)"), "{birthday}");
    assert_eq!(
        count(&t.tg, viewer.id, "잘 쓰고 계신가요"),
        0,
        "the check-in is not due yet"
    );
    clock.set(at(2026, 6, 10, 3, 0)); // 12:00, 30 days after delivery
    wait_any(&t.tg, viewer.id, &["잘 쓰고 계신가요"]).await;
    let checkin =
        t.tg.sent_to(viewer.id)
            .into_iter()
            .find(|m| m.text.contains("잘 쓰고 계신가요"))
            .expect("check-in");
    assert!(
        !checkin.text.starts_with("(광고)"),
        "no offer: transactional"
    );
    let five = buttons(&checkin)
        .get(4)
        .cloned()
        .expect("five rating buttons");
    t.tg.push_callback(&viewer, checkin.message_id, viewer.id, &five);
    wait_any(&t.tg, viewer.id, &["알려 주셔서 고마워요"]).await;

    t.restart().await;
    clock.set(at(2026, 6, 10, 5, 0));
    t.settle().await;
    clock.set(at(2026, 6, 11, 3, 0));
    t.settle().await;
    assert_eq!(count(&t.tg, viewer.id, "생일 축하"), 1, "once");
    assert_eq!(count(&t.tg, viewer.id, "잘 쓰고 계신가요"), 1, "once");
}

fn clock_now(clock: &ManualClock) -> DateTime<Utc> {
    use encore::clock::Clock;
    clock.now()
}

#[tokio::test]
async fn an_older_shop_consent_does_not_undo_stop_and_consent_is_re_noticed_once_per_period() {
    let t0 = at(2026, 1, 5, 3, 0);
    let (t, clock) = app_at(t0).await;
    let viewer = TgUser::new(9_401, "동의자").with_language("ko");
    accepted(
        &t,
        &[customer_record(
            "c-1",
            "who",
            "동의자",
            "ko",
            true,
            false,
            t0 - chrono::Duration::hours(1),
        )],
    )
    .await;
    t.link_viewer("who", &viewer).await;

    clock.set(t0 + chrono::Duration::hours(2));
    t.tg.push_private_text(&viewer, "/stop");
    wait_any(&t.tg, viewer.id, &["철회했어요"]).await;
    // The shop's record of a consent given before the /stop arrives late: it changes nothing.
    accepted(
        &t,
        &[customer_record(
            "c-2",
            "who",
            "동의자",
            "ko",
            true,
            false,
            t0 + chrono::Duration::hours(1),
        )],
    )
    .await;
    t.settle().await;
    assert_eq!(
        count(&t.tg, viewer.id, "동의하신 것으로 기록했어요"),
        0,
        "the older record was not applied, so nothing was confirmed"
    );
    let (_, record) = t.get_admin("/v1/customers/who").await;
    let marketing = record["consents"]
        .as_array()
        .map(|c| c.iter().filter(|c| c["purpose"] == "marketing").count())
        .unwrap_or_default();
    assert_eq!(
        marketing, 2,
        "the shop's first record and the /stop: {record}"
    );
    let latest = record["consents"]
        .as_array()
        .and_then(|c| {
            c.iter()
                .filter(|c| c["purpose"] == "marketing")
                .max_by_key(|c| c["at"].as_str().unwrap_or_default().to_string())
                .cloned()
        })
        .expect("consent records");
    assert_eq!(latest["granted"], json!(false), "{record}");
    for consent in record["consents"].as_array().expect("consents") {
        assert!(consent["at"].as_str().is_some() && consent["source"].as_str().is_some());
        assert!(
            consent["wording"].as_str().is_some_and(|w| !w.is_empty()),
            "{consent}"
        );
    }

    // A newer shop record re-subscribes, and the viewer is told with the shop's name and date.
    let again = t0 + chrono::Duration::hours(3);
    clock.set(again + chrono::Duration::minutes(1));
    accepted(
        &t,
        &[customer_record(
            "c-3",
            "who",
            "동의자",
            "ko",
            true,
            false,
            again,
        )],
    )
    .await;
    let told = wait_any(&t.tg, viewer.id, &["동의하신 것으로 기록했어요"]).await;
    assert!(
        told.contains("미나의 옷장") && told.contains("2026-01-05"),
        "{told}"
    );

    // Re-noticed after 700 days, once per period.
    clock.set(again + chrono::Duration::days(700) + chrono::Duration::hours(1));
    let renotice = wait_any(&t.tg, viewer.id, &["수신 동의 안내"]).await;
    assert!(renotice.contains("/stop"), "{renotice}");
    clock.set(again + chrono::Duration::days(701));
    t.settle().await;
    assert_eq!(
        count(&t.tg, viewer.id, "수신 동의 안내"),
        1,
        "once per period"
    );
    clock.set(again + chrono::Duration::days(1_400) + chrono::Duration::hours(1));
    let found =
        t.tg.wait_until(Duration::from_secs(20), |tg| {
            tg.sent_to(viewer.id)
                .iter()
                .filter(|m| m.text.contains("수신 동의 안내"))
                .count()
                == 2
        })
        .await;
    assert!(found, "the next period re-notices again");
}

#[tokio::test]
async fn viewers_who_watched_but_did_not_buy_are_thanked_and_can_ask_for_live_alerts() {
    let noon = at(2026, 12, 2, 3, 0);
    let (t, clock) = app_at(noon).await;
    let given = noon - chrono::Duration::days(1);
    let people = [("watcher", 9_501), ("buyer", 9_502), ("lurker", 9_503)];
    let mut events: Vec<Value> = people
        .iter()
        .map(|(id, _)| customer_record(&format!("c-{id}"), id, "시청자", "ko", true, true, given))
        .collect();
    events.push(
        json!({"id": "op-buy", "type": "order.placed", "occurred_at": noon.to_rfc3339(),
        "order": {"id": "o-buy", "customer_id": "buyer", "broadcast_id": "b-7",
            "items": [{"sku": "s", "name": "코트", "quantity": 1, "unit_price": 10000}],
            "total": 10000, "currency": "KRW"}}),
    );
    accepted(&t, &events).await;
    let users: Vec<TgUser> = people
        .iter()
        .map(|(_, u)| TgUser::new(*u, "시청자").with_language("ko"))
        .collect();
    let viewers: Vec<(String, TgUser)> = people
        .iter()
        .zip(&users)
        .map(|((id, _), u)| (id.to_string(), u.clone()))
        .collect();
    t.link_viewers(&viewers).await;
    // Engagement from before anyone linked starts nothing.
    let engaged = |id: &str, customer: &str, watched: u64, chats: u64, when: DateTime<Utc>| {
        json!({"id": id, "type": "viewer.engaged", "occurred_at": when.to_rfc3339(),
            "broadcast_id": "b-7", "customer_id": customer,
            "watched_seconds": watched, "chat_messages": chats})
    };
    accepted(
        &t,
        &[engaged(
            "e-old",
            "watcher",
            3_600,
            5,
            noon - chrono::Duration::days(2),
        )],
    )
    .await;
    t.settle().await;
    assert_eq!(
        count(&t.tg, users[0].id, "함께 봐 주셔서"),
        0,
        "from before linking: nothing"
    );

    clock.set(noon + chrono::Duration::hours(1));
    let later = noon + chrono::Duration::minutes(50);
    accepted(
        &t,
        &[
            engaged("e-1", "watcher", 900, 0, later),
            engaged("e-2", "buyer", 3_000, 12, later),
            engaged("e-3", "lurker", 120, 0, later),
        ],
    )
    .await;
    let thanks = wait_any(&t.tg, users[0].id, &["함께 봐 주셔서"]).await;
    assert!(thanks.starts_with("(광고)"), "advertising: {thanks}");
    t.settle().await;
    assert_eq!(
        count(&t.tg, users[1].id, "함께 봐 주셔서"),
        0,
        "buyers get the thank-you for buying"
    );
    assert_eq!(
        count(&t.tg, users[2].id, "함께 봐 주셔서"),
        0,
        "two minutes is not watching"
    );

    let message =
        t.tg.sent_to(users[0].id)
            .into_iter()
            .find(|m| m.text.contains("함께 봐 주셔서"))
            .expect("thanks");
    let button = buttons(&message)
        .first()
        .cloned()
        .expect("an alerts button");
    t.tg.push_callback(&users[0], message.message_id, users[0].id, &button);
    wait_any(&t.tg, users[0].id, &["다음 라이브가 잡히면 알려 드릴게요"]).await;
    accepted(
        &t,
        &[scheduled(
            "s-8",
            "b-8",
            "주말 라이브",
            noon + chrono::Duration::days(3),
        )],
    )
    .await;
    wait_any(&t.tg, users[0].id, &["주말 라이브"]).await;
}

/// Issue #12: the gate's facts (consent, night consent, the week's count) are read for every
/// advertisement starting together, in one go. One viewer's count must not decide another's.
#[tokio::test]
async fn an_alert_to_two_viewers_at_once_is_postponed_for_the_one_at_the_weekly_cap_only() {
    // Wednesday noon in Seoul.
    let (t, _clock) = app_at(at(2026, 12, 2, 3, 0)).await;
    let capped = TgUser::new(9_201, "Alex").with_language("en");
    let fresh = TgUser::new(9_202, "Bora").with_language("en");
    let consented = at(2026, 12, 1, 3, 0);
    accepted(
        &t,
        &[
            customer_record("c-a", "alex", "Alex", "en", true, true, consented),
            customer_record("c-b", "bora", "Bora", "en", true, true, consented),
        ],
    )
    .await;
    subscribed(&t, "alex", &capped).await;
    let starts = at(2026, 12, 20, 3, 0);
    lives_scheduled(&t, 1..=2, starts).await;
    wait_any(&t.tg, capped.id, &["Live number 2"]).await;
    subscribed(&t, "bora", &fresh).await;
    lives_scheduled(&t, 3..=3, starts).await;
    let third = wait_any(&t.tg, fresh.id, &["Live number 3"]).await;
    assert!(third.starts_with("[Ad] "), "{third}");
    t.settle().await;
    assert_eq!(
        count(&t.tg, capped.id, "Live number 3"),
        0,
        "the viewer with two this week waits for next week"
    );
    let (_, report) = t.get_admin("/v1/broadcasts/b-3/report").await;
    assert_eq!(
        report["advertising"]["postponed_by_cap"],
        json!(1),
        "{report}"
    );
}
