//! Consent that the shop sends in `customer.upserted` (issue #11): a withdrawal cancels queued
//! advertising as `/stop` does, and only a real change is confirmed to the viewer.

use std::sync::Arc;

use crate::support::app::*;
use crate::support::telegram::TgUser;
use chrono::{DateTime, TimeZone, Utc};
use encore::clock::ManualClock;
use serde_json::{Value, json};

fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, 0)
        .single()
        .expect("a time")
}

/// The shop's record of customer `id` with its consent as of `consent_at`.
fn shop_record(event_id: &str, id: &str, marketing: bool, consent_at: DateTime<Utc>) -> Value {
    json!({"id": event_id, "type": "customer.upserted", "occurred_at": consent_at.to_rfc3339(),
        "customer": {"id": id, "name": "동의손님", "locale": "ko",
            "consent": {"marketing": marketing, "at": consent_at.to_rfc3339(),
                "source": "checkout", "wording": "광고성 정보 수신에 동의합니다"}}})
}

async fn accepted(t: &TestApp, events: &[Value]) {
    let (status, body) = t.post_events(events).await;
    assert_eq!(status, 202, "{body}");
}

fn count(t: &TestApp, user: &TgUser, needle: &str) -> usize {
    t.tg.sent_to(user.id)
        .iter()
        .filter(|m| m.text.contains(needle))
        .count()
}

/// The confirmations of `consent-changed-marketing-yes` / `-no` in Korean.
const RECORDED_YES: &str = "수신에 동의하신 것으로 기록했어요";
const RECORDED_NO: &str = "수신 동의가 철회된 것으로 기록했어요";
const LIVE_ALERT: &str = "📺 라이브 예고";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_withdrawal_from_the_shop_cancels_queued_advertising_as_stop_does() {
    // Tuesday 22:30 in Seoul: advertising waits for the morning.
    let clock = ManualClock::at(at(2026, 12, 1, 13, 30));
    let t = TestApp::start_with_clock(Arc::new(clock.clone())).await;
    let viewer = TgUser::new(9_301, "동의손님").with_language("ko");
    accepted(
        &t,
        &[shop_record("c-1", "fan", true, at(2026, 11, 30, 3, 0))],
    )
    .await;
    t.link_viewer("fan", &viewer).await;
    t.tg.push_private_text(&viewer, "/alerts on");
    wait_text(&t.tg, viewer.id, "알려 드릴게요").await;
    // A live at noon tomorrow: its alert is queued, held through the quiet hours.
    accepted(
        &t,
        &[json!({"id": "s-1", "type": "broadcast.scheduled", "occurred_at": at(2026, 12, 1, 13, 30).to_rfc3339(),
            "broadcast": {"id": "b-noon", "title": "점심 라이브", "starts_at": at(2026, 12, 2, 3, 0).to_rfc3339()}})],
    )
    .await;
    t.settle().await;
    assert_eq!(count(&t, &viewer, LIVE_ALERT), 0, "held for the morning");

    // The buyer unticks the box in the shop; the shop tells encore.
    accepted(
        &t,
        &[shop_record("c-2", "fan", false, at(2026, 12, 1, 13, 0))],
    )
    .await;
    wait_text(&t.tg, viewer.id, RECORDED_NO).await;
    let state: String = sqlx::query_scalar(
        "SELECT state FROM outbox WHERE customer_id = 'fan' AND kind = 'advertising'",
    )
    .fetch_one(t.ctx().store.pool_for_tests())
    .await
    .expect("the alert is stored");
    assert_eq!(state, "cancelled", "the queued alert was cancelled at once");

    // Even a consent given again before the morning does not bring the cancelled alert back.
    accepted(
        &t,
        &[shop_record("c-3", "fan", true, at(2026, 12, 1, 13, 10))],
    )
    .await;
    wait_text(&t.tg, viewer.id, RECORDED_YES).await;
    clock.set(at(2026, 12, 2, 0, 0)); // 09:00 in Seoul
    t.settle().await;
    assert_eq!(
        count(&t, &viewer, LIVE_ALERT),
        0,
        "the viewer never received the advertisement: {:?}",
        t.tg.sent_to(viewer.id)
            .iter()
            .map(|m| m.text.clone())
            .collect::<Vec<_>>()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_consent_replayed_with_a_newer_time_sends_the_viewer_nothing() {
    // Wednesday noon in Seoul.
    let clock = ManualClock::at(at(2026, 12, 2, 3, 0));
    let t = TestApp::start_with_clock(Arc::new(clock.clone())).await;
    let viewer = TgUser::new(9_302, "동기화손님").with_language("ko");
    accepted(
        &t,
        &[json!({"id": "c-0", "type": "customer.upserted", "occurred_at": at(2026, 12, 1, 3, 0).to_rfc3339(),
            "customer": {"id": "synced", "name": "동기화손님", "locale": "ko"}})],
    )
    .await;
    t.link_viewer("synced", &viewer).await;

    // A real change (no decision → yes) is confirmed once.
    accepted(
        &t,
        &[shop_record("c-1", "synced", true, at(2026, 12, 2, 2, 0))],
    )
    .await;
    wait_text(&t.tg, viewer.id, RECORDED_YES).await;
    t.settle().await;
    let before = t.tg.sent_to(viewer.id).len();

    // The shop syncs every hour: the same answer with a newer time.
    for (i, hour) in [1u32, 2, 3].into_iter().enumerate() {
        clock.set(at(2026, 12, 2, 3 + hour, 0));
        accepted(
            &t,
            &[shop_record(
                &format!("sync-{i}"),
                "synced",
                true,
                at(2026, 12, 2, 2 + hour, 30),
            )],
        )
        .await;
    }
    t.settle().await;
    assert_eq!(
        t.tg.sent_to(viewer.id).len(),
        before,
        "a replayed consent sends nothing: {:?}",
        t.tg.sent_to(viewer.id)
            .iter()
            .skip(before)
            .map(|m| m.text.clone())
            .collect::<Vec<_>>()
    );

    // A withdrawal is a change (confirmed once); the same withdrawal replayed is not.
    clock.set(at(2026, 12, 2, 7, 0));
    accepted(
        &t,
        &[shop_record("w-1", "synced", false, at(2026, 12, 2, 6, 40))],
    )
    .await;
    wait_text(&t.tg, viewer.id, RECORDED_NO).await;
    accepted(
        &t,
        &[shop_record("w-2", "synced", false, at(2026, 12, 2, 6, 50))],
    )
    .await;
    t.settle().await;
    assert_eq!(count(&t, &viewer, RECORDED_NO), 1);
    assert_eq!(count(&t, &viewer, RECORDED_YES), 1);
    assert_eq!(t.tg.sent_to(viewer.id).len(), before + 1);
}
