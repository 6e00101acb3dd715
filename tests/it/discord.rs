//! The follow-up on Discord, and on Discord and Telegram at once, against the Discord stand-in
//! (REST + gateway) with the real serenity client (issue #3).

use std::time::Duration;

use crate::support::app::*;
use crate::support::discord::DcUser;
use crate::support::telegram::TgUser;
use serde_json::{Value, json};

fn dc_viewer(i: usize) -> DcUser {
    DcUser::new(1_160_000_000_000_000_000 + i as u64, format!("viewer{i}")).with_locale("ko")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_buyers_linked_with_link_get_one_dm_each_naming_their_items_and_a_replay_sends_nothing()
 {
    let t = TestApp::start_with(DISCORD_ONLY).await;
    assert!(
        t.dc.wait_until(Duration::from_secs(10), |dc| !dc
            .global_commands()
            .is_empty())
            .await
    );
    let commands: Vec<String> =
        t.dc.global_commands()
            .iter()
            .filter_map(|c| c["name"].as_str().map(str::to_string))
            .collect();
    for name in ["link", "start", "stop", "unlink", "lang", "help"] {
        assert!(
            commands.contains(&name.to_string()),
            "global command /{name} is registered: {commands:?}"
        );
    }
    let buyers = 100;
    let mut events: Vec<Value> = (0..buyers)
        .map(|i| customer(&format!("c-{i}"), &format!("구매자{i}")))
        .collect();
    for i in 0..buyers {
        events.push(order(
            &format!("o-{i}"),
            &format!("c-{i}"),
            "b-1",
            &format!("울 코트 {i}호"),
            39_000,
        ));
    }
    assert_eq!(t.post_events(&events).await.0, 202);
    let viewers: Vec<_> = (0..buyers)
        .map(|i| (format!("c-{i}"), dc_viewer(i)))
        .collect();
    link_on_discord(&t, &viewers).await;
    let before = t.dc.sent().len();

    assert_eq!(t.post_events(&[ended("end-1", "b-1")]).await.0, 202);
    let all =
        t.dc.wait_until(Duration::from_secs(60), |dc| {
            (0..buyers).all(|i| {
                dc.sent_to_user(dc_viewer(i).id)
                    .iter()
                    .any(|m| m.content.contains(THANKS))
            })
        })
        .await;
    assert!(all, "every buyer got a thank-you DM");
    for i in 0..buyers {
        let thanks: Vec<_> =
            t.dc.sent_to_user(dc_viewer(i).id)
                .into_iter()
                .filter(|m| m.content.contains(THANKS))
                .collect();
        assert_eq!(thanks.len(), 1);
        assert!(
            thanks[0].content.contains(&format!("울 코트 {i}호")),
            "{}",
            thanks[0].content
        );
        assert_eq!(
            custom_ids(&thanks[0]).len(),
            5,
            "the rating buttons ride along as components"
        );
    }
    assert_eq!(t.dc.sent().len(), before + buyers);
    assert_eq!(t.dc.violations(), 0, "no 429");

    let (status, answer) = t.post_events(&events).await;
    assert_eq!(
        (status, answer["duplicates"].clone()),
        (202, json!(buyers * 2))
    );
    assert_eq!(t.post_events(&[ended("end-2", "b-1")]).await.0, 202);
    t.settle().await;
    assert_eq!(
        t.dc.sent().len(),
        before + buyers,
        "a replay sends nothing more"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consent_buttons_are_components_whose_press_is_acknowledged_and_stored_and_notes_arrive() {
    let t = TestApp::start_with(DISCORD_ONLY).await;
    let user = dc_viewer(1);
    t.post_events(&[
        customer("c-1", "*_~|> 민수"),
        order("o-1", "c-1", "b-1", "Coat", 159_000),
    ])
    .await;
    link_on_discord(&t, &[("c-1".to_string(), user.clone())]).await;
    let welcome = wait_dm(&t.dc, user.id, "연결되었어요").await;
    assert!(
        welcome.content.contains(r"\*\_\~\|\> 민수님"),
        "markdown in a name arrives literally: {}",
        welcome.content
    );
    let ask = wait_dm(&t.dc, user.id, "광고성 정보를 이 메신저로").await;
    assert_eq!(
        custom_ids(&ask),
        vec!["consent:marketing:yes", "consent:marketing:no"],
        "agree first"
    );

    let pressed =
        t.dc.push_component(&user, ask.id, ask.channel_id, "consent:marketing:yes");
    wait_dm(&t.dc, user.id, "동의하셨어요").await;
    let callback =
        t.dc.interaction_callbacks()
            .into_iter()
            .find(|c| c.interaction_id == pressed.id)
            .expect("acknowledged");
    assert!(
        callback.after < Duration::from_secs(3),
        "acknowledged within 3 s: {:?}",
        callback.after
    );
    assert_eq!(callback.status, 204);
    let (_, record) = t.get_admin("/v1/customers/c-1").await;
    assert_eq!(record["consents"][0]["granted"], json!(true), "{record}");
    assert_eq!(record["consents"][0]["source"], json!("discord"));
    assert_eq!(record["identities"][0]["platform"], json!("discord"));

    let now = chrono::Utc::now().to_rfc3339();
    t.post_events(&[
        ended("end", "b-1"),
        json!({"id": "s-1", "type": "order.status_changed", "occurred_at": now, "order_id": "o-1", "status": "delayed",
               "delay": {"reason": "원단 입고 지연", "new_eta": "2026-12-03"}}),
    ])
    .await;
    let delay = wait_dm(&t.dc, user.id, "원단 입고 지연").await;
    assert!(delay.content.contains("12월 3일(목)"), "{}", delay.content);
    t.post_events(&[json!({"id": "s-2", "type": "order.status_changed", "occurred_at": chrono::Utc::now().to_rfc3339(),
        "order_id": "o-1", "status": "shipped", "tracking": {"carrier": "CJ대한통운", "number": "6311-2048-7781"}})])
        .await;
    let shipped = wait_dm(&t.dc, user.id, "6311-2048-7781").await;
    assert!(
        shipped.content.contains("Coat가") && shipped.content.contains("CJ대한통운"),
        "{}",
        shipped.content
    );
    // Caused in order: thank-you, delay, shipped.
    let dms = t.dc.sent_to_user(user.id);
    let at = |needle: &str| {
        dms.iter()
            .position(|m| m.content.contains(needle))
            .expect(needle)
    };
    assert!(at(THANKS) < at("원단 입고 지연") && at("원단 입고 지연") < at("6311-2048-7781"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_viewer_with_closed_dms_is_marked_unreachable_and_the_rest_of_the_send_goes_on() {
    let t = TestApp::start_with(DISCORD_ONLY).await;
    let mut events = Vec::new();
    for i in 0..6 {
        events.push(customer(&format!("c-{i}"), &format!("구매자{i}")));
        events.push(order(
            &format!("o-{i}"),
            &format!("c-{i}"),
            "b-1",
            "니트 3종",
            69_000,
        ));
    }
    t.post_events(&events).await;
    let viewers: Vec<_> = (0..6).map(|i| (format!("c-{i}"), dc_viewer(i))).collect();
    link_on_discord(&t, &viewers).await;
    t.dc.close_dms(dc_viewer(3).id);
    t.post_events(&[ended("end", "b-1")]).await;
    for i in [0, 1, 2, 4, 5] {
        wait_dm(&t.dc, dc_viewer(i).id, THANKS).await;
    }
    let expected = json!({"sent": 6, "delivered": 5, "failed": 0, "blocked": 1});
    let report = t.report_when("b-1", |r| r["thank_you"] == expected).await;
    assert_eq!(report["thank_you"], expected, "{report}");
    let (_, record) = t.get_admin("/v1/customers/c-3").await;
    assert_eq!(record["identities"][0]["reachable"], json!(false));
    // Writing to the bot again clears the mark.
    t.dc.push_dm(&dc_viewer(3), "/help");
    let cleared = async {
        for _ in 0..100 {
            if t.get_admin("/v1/customers/c-3").await.1["identities"][0]["reachable"] == json!(true)
            {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        false
    };
    assert!(
        cleared.await,
        "a message from the viewer clears the unreachable mark"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_both_platforms_a_buyer_linked_on_both_gets_one_thank_you_on_the_one_used_last() {
    let t = TestApp::start_with(BOTH).await;
    let mut events = Vec::new();
    for (id, name) in [("c-both", "양쪽"), ("c-tg", "텔레"), ("c-dc", "디코")] {
        events.push(customer(id, name));
        events.push(order(&format!("o-{id}"), id, "b-1", "패딩 점퍼", 129_000));
    }
    t.post_events(&events).await;
    let tg_both = TgUser::new(7001, "Both").with_language("ko");
    let tg_only = TgUser::new(7002, "Tg").with_language("ko");
    t.link_viewers(&[
        ("c-both".to_string(), tg_both.clone()),
        ("c-tg".to_string(), tg_only.clone()),
    ])
    .await;
    let dc_both = dc_viewer(50);
    let dc_only = dc_viewer(51);
    // Linked on Discord last: Discord is the platform used most recently.
    link_on_discord(
        &t,
        &[
            ("c-both".to_string(), dc_both.clone()),
            ("c-dc".to_string(), dc_only.clone()),
        ],
    )
    .await;

    t.post_events(&[ended("end", "b-1")]).await;
    let tg_thanked =
        t.tg.wait_until(Duration::from_secs(30), |tg| {
            tg.sent_to(tg_only.id)
                .iter()
                .any(|m| m.text.contains(THANKS))
        })
        .await;
    assert!(tg_thanked, "the Telegram-only buyer got theirs on Telegram");
    wait_dm(&t.dc, dc_only.id, THANKS).await;
    wait_dm(&t.dc, dc_both.id, THANKS).await;
    t.settle().await;
    let on_tg =
        t.tg.sent_to(tg_both.id)
            .iter()
            .filter(|m| m.text.contains(THANKS))
            .count();
    let on_dc =
        t.dc.sent_to_user(dc_both.id)
            .iter()
            .filter(|m| m.content.contains(THANKS))
            .count();
    assert_eq!((on_tg, on_dc), (0, 1), "one thank-you, on Discord");
    assert_eq!(t.tg.violations(), 0);
    assert_eq!(t.dc.violations(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_the_gateway_drops_the_bot_reconnects_keeps_taking_commands_and_loses_or_doubles_nothing()
 {
    let t = TestApp::start_with(DISCORD_ONLY).await;
    let user = dc_viewer(9);
    t.post_events(&[customer("c-9", "하준")]).await;
    link_on_discord(&t, &[("c-9".to_string(), user.clone())]).await;
    let connections = t.dc.identifies() + t.dc.resumes();
    t.dc.drop_connection();
    t.dc.push_command(&user, "lang", vec![("language", json!("en"))], true);
    wait_dm(&t.dc, user.id, "in English").await;
    let back =
        t.dc.wait_until(Duration::from_secs(20), |dc| {
            dc.identifies() + dc.resumes() > connections
        })
        .await;
    assert!(back, "the bot resumed or identified again");
    // A probe after the reconnection: once it is answered, whatever the gateway replayed before
    // it has been handed to the bot; then everything that caused is sent.
    t.dc.push_dm(&user, "/help");
    wait_dm(&t.dc, user.id, "How can we help").await;
    assert_eq!(
        t.dc.undelivered_events(),
        0,
        "the gateway delivered everything"
    );
    t.settle().await;
    let english =
        t.dc.sent_to_user(user.id)
            .iter()
            .filter(|m| m.content.contains("in English"))
            .count();
    assert_eq!(english, 1, "the command was handled once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_commands_work_in_the_discord_staff_channel_and_refuse_others() {
    let t = TestApp::start_with(DISCORD_ONLY).await;
    let user = dc_viewer(20);
    t.post_events(&[
        customer("c-20", "수아"),
        order("o-20", "c-20", "b-5", "가죽 장갑", 39_000),
    ])
    .await;
    link_on_discord(&t, &[("c-20".to_string(), user.clone())]).await;
    let stranger = dc_viewer(21);
    t.dc.add_member(&stranger, &[]);
    t.dc.push_guild_message(
        crate::support::discord::STAFF_CHANNEL_ID,
        &stranger,
        "/ended b-5",
    );
    let refused =
        t.dc.wait_until(Duration::from_secs(20), |dc| {
            dc.sent_to(crate::support::discord::STAFF_CHANNEL_ID)
                .iter()
                .any(|m| m.content.contains("직원만"))
        })
        .await;
    assert!(refused, "a polite refusal");
    t.dc.push_guild_message(
        crate::support::discord::STAFF_CHANNEL_ID,
        &crate::support::discord::owner(),
        "/ended b-5",
    );
    wait_dm(&t.dc, user.id, THANKS).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_viewer_who_closed_dms_on_discord_still_gets_the_thank_you_on_telegram() {
    let t = TestApp::start_with(BOTH).await;
    t.post_events(&[
        customer("c-1", "민수"),
        order("o-1", "c-1", "b-1", "울 코트", 189_000),
    ])
    .await;
    let tg_user = TgUser::new(7101, "Minsu").with_language("ko");
    t.link_viewers(&[("c-1".to_string(), tg_user.clone())])
        .await;
    let dc_user = dc_viewer(70);
    link_on_discord(&t, &[("c-1".to_string(), dc_user.clone())]).await;
    // Discord is the most recent platform, but its DMs are now closed.
    t.dc.close_dms(dc_user.id);
    t.post_events(&[ended("end", "b-1")]).await;
    let on_telegram =
        t.tg.wait_until(Duration::from_secs(30), |tg| {
            tg.sent_to(tg_user.id)
                .iter()
                .any(|m| m.text.contains(THANKS))
        })
        .await;
    assert!(on_telegram, "the thank-you went to the reachable platform");
    let report = t
        .report_when("b-1", |r| r["thank_you"]["delivered"] == json!(1))
        .await;
    assert_eq!(report["thank_you"]["delivered"], json!(1), "{report}");
    assert_eq!(report["thank_you"]["blocked"], json!(0));
}
