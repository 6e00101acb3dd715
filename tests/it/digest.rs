//! The weekly letter (issue #14 point 5, CONTRACT §6): `journeys.digest` on, a moved clock, and
//! what viewers receive on the Telegram stand-in.

use std::sync::Arc;

use encore::clock::ManualClock;
use serde_json::json;

use crate::support::app::*;
use crate::support::telegram::{FakeTelegram, TgUser};

fn letters(tg: &FakeTelegram, chat: i64) -> Vec<String> {
    tg.sent_to(chat)
        .into_iter()
        .map(|m| m.text)
        .filter(|text| text.contains("이번 주"))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consenting_customers_get_one_letter_on_friday_at_six_in_shop_time_and_never_two_a_week() {
    // Thursday 2026-12-03, 18:00 in Seoul.
    let clock = ManualClock::at(utc(2026, 12, 3, 9, 0));
    let t = TestApp::start_with_env(
        TELEGRAM_ONLY,
        Arc::new(clock.clone()),
        vec![("ENCORE_JOURNEYS_DIGEST".into(), "true".into())],
    )
    .await;
    let reader = TgUser::new(9_601, "독자").with_language("ko");
    let refuser = TgUser::new(9_602, "거절").with_language("ko");
    let (status, body) = t
        .post_events(&[
            customer_with_consent("reader", "시청자", true, utc(2026, 11, 1, 0, 0)),
            customer_with_consent("refuser", "시청자", false, utc(2026, 11, 1, 0, 0)),
            json!({"id": "sch-1", "type": "broadcast.scheduled", "occurred_at": utc(2026, 12, 3, 9, 0).to_rfc3339(),
                "broadcast": {"id": "b-1", "title": "겨울 니트 라이브", "starts_at": utc(2026, 12, 8, 11, 0).to_rfc3339()}}),
        ])
        .await;
    assert_eq!(status, 202, "{body}");
    t.link_viewer("reader", &reader).await;
    t.link_viewer("refuser", &refuser).await;
    t.settle().await;
    assert!(letters(&t.tg, reader.id).is_empty(), "not on Thursday");

    clock.set(utc(2026, 12, 4, 8, 59)); // Friday 17:59 in Seoul
    t.settle().await;
    assert!(letters(&t.tg, reader.id).is_empty(), "not before 18:00");
    // `journeys preview --json` of 18:00 lists the letter for the consenting reader only.
    let listed = t.journeys_preview_json("2026-12-04T18:00:00+09:00");
    let digests: Vec<&str> = listed
        .as_array()
        .expect("an array")
        .iter()
        .filter(|d| d["journey"] == "digest" && d["kind"] == "advertising")
        .filter_map(|d| d["customer_id"].as_str())
        .collect();
    assert_eq!(digests, ["reader"], "{listed}");

    clock.set(utc(2026, 12, 4, 9, 0)); // Friday 18:00
    let found =
        t.tg.wait_until(std::time::Duration::from_secs(30), |tg| {
            !letters(tg, reader.id).is_empty()
        })
        .await;
    assert!(found, "the letter went out on Friday at 18:00");
    let letter = &letters(&t.tg, reader.id)[0];
    assert!(letter.starts_with("(광고)"), "advertising: {letter}");
    assert!(letter.contains("겨울 니트 라이브"), "{letter}");
    assert!(letter.contains("무료수신거부"), "{letter}");

    clock.set(utc(2026, 12, 4, 10, 30)); // 19:30, the same evening
    t.settle().await;
    clock.set(utc(2026, 12, 5, 9, 0)); // Saturday
    t.settle().await;
    assert_eq!(letters(&t.tg, reader.id).len(), 1, "one a week");
    assert!(
        letters(&t.tg, refuser.id).is_empty(),
        "none without consent"
    );

    // The next Friday: the live has passed and nothing else is new, so no letter.
    clock.set(utc(2026, 12, 11, 9, 30));
    t.settle().await;
    assert_eq!(letters(&t.tg, reader.id).len(), 1, "nothing new to read");
}
