//! A viewer links their Telegram to their shop account, answers the consent questions, and
//! uses the viewer commands — against the Telegram stand-in.

use std::time::Duration;

use crate::support::app::*;
use crate::support::telegram::TgUser;
use serde_json::json;

fn button_labels(markup: &serde_json::Value) -> Vec<(String, String)> {
    markup["inline_keyboard"][0]
        .as_array()
        .map(|row| {
            row.iter()
                .map(|b| {
                    (
                        b["text"].as_str().unwrap_or("").to_string(),
                        b["callback_data"].as_str().unwrap_or("").to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn linking_asks_for_consent_agree_first_records_the_words_and_sends_the_missed_thank_you() {
    let t = TestApp::start().await;
    let (status, _) = t
        .post_events(&[
            customer("c-1", "<b>&_*[민수"),
            order("o-1", "c-1", "b-1", "울 코트", 189_000),
            ended("end", "b-1"),
        ])
        .await;
    assert_eq!(status, 202);
    let user = TgUser::new(4242, "Minsu").with_language("ko");
    t.link_viewer("c-1", &user).await;

    // The thank-you the viewer missed (the broadcast ended before they linked) follows.
    let thanked =
        t.tg.wait_until(Duration::from_secs(15), |tg| {
            tg.sent_to(4242)
                .iter()
                .any(|m| m.text.contains("방송에 함께해"))
        })
        .await;
    assert!(thanked, "the missed thank-you arrived");
    let messages = t.tg.sent_to(4242);
    let welcome = &messages[0];
    assert!(
        welcome.text.contains("&lt;b&gt;&amp;_*[민수님"),
        "the name arrives literally: {}",
        welcome.text
    );
    let ask = messages
        .iter()
        .find(|m| m.reply_markup.is_some())
        .expect("consent question");
    let buttons = button_labels(ask.reply_markup.as_ref().expect("markup"));
    assert_eq!(buttons.len(), 2);
    assert_eq!(
        buttons[0],
        ("동의해요".to_string(), "consent:marketing:yes".to_string()),
        "agree first"
    );
    assert_eq!(buttons[1].1, "consent:marketing:no", "decline second");

    t.tg.push_callback(&user, ask.message_id, 4242, "consent:marketing:yes");
    let night_asked =
        t.tg.wait_until(Duration::from_secs(15), |tg| {
            tg.sent_to(4242).iter().any(|m| {
                m.reply_markup
                    .as_ref()
                    .is_some_and(|r| r.to_string().contains("consent:night:yes"))
            })
        })
        .await;
    assert!(night_asked, "after a yes, the night question follows");
    assert!(
        t.tg.answered_callbacks().len() == 1,
        "the press was acknowledged"
    );
    let confirm =
        t.tg.sent_to(4242)
            .into_iter()
            .find(|m| m.text.contains("동의하셨어요"))
            .expect("confirmation");
    assert!(
        confirm.text.contains("미나의 옷장") && confirm.text.contains("처리일"),
        "{}",
        confirm.text
    );

    let (_, record) = t.get_admin("/v1/customers/c-1").await;
    let consent = &record["consents"][0];
    assert_eq!(consent["purpose"], json!("marketing"));
    assert_eq!(consent["granted"], json!(true));
    assert_eq!(consent["source"], json!("telegram"));
    assert_eq!(consent["method"], json!("button"));
    assert!(
        consent["wording"]
            .as_str()
            .unwrap_or("")
            .contains("광고성 정보"),
        "{consent}"
    );
    assert_eq!(record["identities"][0]["platform"], json!("telegram"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_lang_unlink_and_a_redelivered_update_behave_as_a_viewer_expects() {
    let t = TestApp::start().await;
    let (status, _) = t.post_events(&[customer("c-1", "지은")]).await;
    assert_eq!(status, 202);
    let user = TgUser::new(5151, "Jieun").with_language("ko");
    let first_update = 10_001; // the stand-in's first update id
    t.link_viewer("c-1", &user).await;
    let count = |t: &TestApp| t.tg.sent_to(5151).len();

    // Telegram re-delivers every update since the first (as after a crash): nothing happens again.
    let before = count(&t);
    t.tg.redeliver_from(first_update);
    t.settle().await;
    assert_eq!(count(&t), before, "a re-delivered update changes nothing");

    t.tg.push_private_text(&user, "/stop");
    assert!(
        t.tg.wait_until(Duration::from_secs(10), |tg| tg
            .sent_to(5151)
            .iter()
            .any(|m| m.text.contains("동의를 철회했어요")))
            .await
    );
    let (_, record) = t.get_admin("/v1/customers/c-1").await;
    let consents = record["consents"].as_array().expect("consents");
    assert!(consents.iter().any(|c| c["purpose"] == json!("marketing")
        && c["granted"] == json!(false)
        && c["method"] == json!("command")));

    t.tg.push_private_text(&user, "/lang en");
    assert!(
        t.tg.wait_until(Duration::from_secs(10), |tg| tg
            .sent_to(5151)
            .iter()
            .any(|m| m.text.contains("in English")))
            .await
    );
    t.tg.push_private_text(&user, "/help");
    assert!(
        t.tg.wait_until(Duration::from_secs(10), |tg| tg
            .sent_to(5151)
            .iter()
            .any(|m| m.text.contains("How can we help")))
            .await
    );

    t.tg.push_private_text(&user, "/unlink");
    assert!(
        t.tg.wait_until(Duration::from_secs(10), |tg| tg
            .sent_to(5151)
            .iter()
            .any(|m| m.text.contains("no longer linked")))
            .await
    );
    let (_, record) = t.get_admin("/v1/customers/c-1").await;
    assert_eq!(record["identities"], json!([]));

    // A used or unknown token links nothing and says so.
    t.tg.push_private_text(&user, "/start not-a-real-token");
    assert!(
        t.tg.wait_until(Duration::from_secs(10), |tg| tg
            .sent_to(5151)
            .iter()
            .any(|m| m.text.contains("확인하지 못했어요")))
            .await
    );
    assert_eq!(t.tg.violations(), 0);
}
