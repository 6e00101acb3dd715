//! Feedback, hand-off to a person and FAQ answers, against the Telegram stand-in (issue #4).

use std::sync::Arc;
use std::time::Duration;

use crate::support::app::*;
use crate::support::telegram::{SentMessage, TgUser};
use encore::clock::ManualClock;
use serde_json::json;

/// A linked buyer of `b-1` who was thanked; returns the thank-you.
async fn thanked_buyer(t: &TestApp, customer_id: &str, user: &TgUser) -> SentMessage {
    let (status, _) = t
        .post_events(&[
            customer(customer_id, "민수"),
            order(
                &format!("o-{customer_id}"),
                customer_id,
                "b-1",
                "울 코트",
                189_000,
            ),
        ])
        .await;
    assert_eq!(status, 202);
    t.link_viewer(customer_id, user).await;
    t.post_events(&[ended(&format!("end-{customer_id}"), "b-1")])
        .await;
    wait_text(&t.tg, user.id, "방송에 함께해").await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rating_buttons_store_one_rating_that_a_second_press_changes_and_the_comment_after_it() {
    let t = TestApp::start().await;
    let user = TgUser::new(6001, "Minsu").with_language("ko");
    let thanks = thanked_buyer(&t, "c-1", &user).await;
    let rate = buttons(&thanks);
    assert_eq!(
        rate.len(),
        5,
        "five rating buttons under the thank-you: {rate:?}"
    );
    assert!(rate.iter().all(|d| d.len() <= 64 && d.starts_with("rate:")));

    t.tg.push_callback(&user, thanks.message_id, user.id, &rate[3]);
    wait_text(&t.tg, user.id, "4점 고마워요").await;
    t.tg.push_callback(&user, thanks.message_id, user.id, &rate[1]);
    let low = wait_text(&t.tg, user.id, "2점으로 바꿨어요").await;
    assert_eq!(
        buttons(&low),
        vec!["handoff:open".to_string()],
        "a low rating offers a person"
    );
    t.tg.push_private_text(&user, "배송 포장이 조금 아쉬웠어요");
    wait_text(&t.tg, user.id, "의견 잘 받았어요").await;

    let (_, report) = t.get_admin("/v1/broadcasts/b-1/report").await;
    assert_eq!(report["feedback"]["count"], json!(1), "{report}");
    assert_eq!(report["feedback"]["distribution"]["2"], json!(1));
    assert_eq!(report["feedback"]["distribution"]["4"], json!(0));
    assert_eq!(report["feedback"]["mean"], json!(2.0));
    assert_eq!(report["feedback"]["comments"], json!(1));
    // The staff see the comment with its number, for /reflected.
    wait_text(&t.tg, STAFF_CHAT, "배송 포장이 조금 아쉬웠어요").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_for_a_person_opens_a_ticket_relays_both_ways_and_closes_with_a_rating() {
    let t = TestApp::start().await;
    let user = TgUser::new(6002, "Jieun").with_language("ko");
    t.post_events(&[
        customer("c-2", "지은"),
        order("o-2", "c-2", "b-1", "캐시미어 머플러", 49_000),
    ])
    .await;
    t.link_viewer("c-2", &user).await;

    t.tg.push_private_text(&user, "상담원 연결해주세요");
    let ack = wait_text(&t.tg, user.id, "24시간 안에").await;
    assert!(ack.text.contains("#1"), "{}", ack.text);
    let card = wait_text(&t.tg, STAFF_CHAT, "문의 #1").await;
    assert!(
        card.text.contains("지은") && card.text.contains("캐시미어 머플러"),
        "{}",
        card.text
    );
    let viewer_before = t.tg.sent_to(user.id).len();

    t.tg.push_private_text(&user, "머플러에 올이 풀려 있어요");
    t.tg.push_private_text(&user, "교환 가능할까요?");
    let relayed =
        t.tg.wait_until(Duration::from_secs(20), |tg| {
            let staff: String = tg
                .sent_to(STAFF_CHAT)
                .iter()
                .map(|m| m.text.clone())
                .collect();
            staff.contains("올이 풀려") && staff.contains("교환 가능할까요")
        })
        .await;
    assert!(relayed, "both messages reached the staff thread");
    let relay =
        t.tg.sent_to(STAFF_CHAT)
            .into_iter()
            .find(|m| m.text.contains("올이 풀려"))
            .expect("relay");
    assert_eq!(
        relay.reply_to_message_id,
        Some(card.message_id),
        "relays are replies to the card"
    );
    t.settle().await;
    assert_eq!(
        t.tg.sent_to(user.id).len(),
        viewer_before,
        "the bot stays silent while a person has it"
    );

    // A non-staff member replying in the thread reaches nobody; staff do.
    let stranger = TgUser::new(999, "누군가");
    t.tg.push_group_text(
        STAFF_CHAT,
        "staff",
        &stranger,
        "제가 답할게요",
        Some(card.message_id),
    );
    let staff = TgUser::new(STAFF_USER, "호스트");
    t.tg.push_group_text(
        STAFF_CHAT,
        "staff",
        &staff,
        "불편을 드려 죄송합니다. 새 상품으로 교환해 드릴게요.",
        Some(card.message_id),
    );
    let reply = wait_text(&t.tg, user.id, "새 상품으로 교환해 드릴게요").await;
    assert!(reply.text.starts_with("💬"), "{}", reply.text);
    assert!(
        !t.tg
            .sent_to(user.id)
            .iter()
            .any(|m| m.text.contains("제가 답할게요")),
        "a non-staff reply does not reach the viewer"
    );

    t.tg.push_group_text(STAFF_CHAT, "staff", &stranger, "/close 1", None);
    wait_text(&t.tg, STAFF_CHAT, "직원만").await;
    t.tg.push_group_text(
        STAFF_CHAT,
        "staff",
        &staff,
        "/close@encore_test_bot 1",
        None,
    );
    let closed = wait_text(&t.tg, user.id, "상담이 끝났어요").await;
    assert_eq!(
        buttons(&closed).len(),
        5,
        "the viewer is asked to rate the help"
    );
    assert!(buttons(&closed)[0].starts_with("rate-ticket:1:"));
    t.tg.push_callback(&user, closed.message_id, user.id, &buttons(&closed)[4]);
    wait_text(&t.tg, user.id, "상담 평가 고마워요").await;

    let (_, report) = t.get_admin("/v1/broadcasts/b-1/report").await;
    assert_eq!(
        report["handoffs"],
        json!({"opened": 1, "answered_within_promise": 1, "open": 0}),
        "{report}"
    );
    assert_eq!(t.tg.violations(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unanswered_ticket_gets_one_staff_reminder_and_one_progress_note_per_promise() {
    let clock = ManualClock::at(chrono::Utc::now());
    let t = TestApp::start_with_clock(Arc::new(clock.clone())).await;
    let user = TgUser::new(6003, "Seoyeon").with_language("ko");
    t.post_events(&[customer("c-3", "서연")]).await;
    t.link_viewer("c-3", &user).await;
    t.tg.push_private_text(&user, "/human");
    wait_text(&t.tg, STAFF_CHAT, "문의 #1").await;

    clock.advance(chrono::Duration::hours(23));
    t.settle().await;
    assert!(
        !t.tg
            .sent_to(user.id)
            .iter()
            .any(|m| m.text.contains("늦어지고")),
        "no note before the promise is broken"
    );

    clock.advance(chrono::Duration::hours(2));
    wait_text(&t.tg, STAFF_CHAT, "답이 없어요").await;
    wait_text(&t.tg, user.id, "답변이 늦어지고 있어요").await;
    clock.advance(chrono::Duration::hours(30));
    t.settle().await;
    let reminders =
        t.tg.sent_to(STAFF_CHAT)
            .iter()
            .filter(|m| m.text.contains("답이 없어요"))
            .count();
    let notes =
        t.tg.sent_to(user.id)
            .iter()
            .filter(|m| m.text.contains("답변이 늦어지고"))
            .count();
    assert_eq!((reminders, notes), (1, 1), "one of each, never more");

    // Idle for ticket_idle_close_days: closed with a notice.
    clock.advance(chrono::Duration::days(8));
    wait_text(&t.tg, user.id, "상담을 마쳤어요").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faq_answers_other_phrasings_and_a_second_miss_offers_a_person() {
    let t = TestApp::start().await;
    let user = TgUser::new(6004, "Doyun").with_language("ko");
    t.post_events(&[customer("c-4", "도윤")]).await;
    t.link_viewer("c-4", &user).await;
    let shipping = encore::flows::faq::load_file(std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/faq.toml"
    )))
    .expect("the shipped FAQ loads")
    .best_match("배송은 언제 되나요?", encore::domain::Lang::Ko)
    .expect("the shipping entry")
    .answer;
    for (i, question) in [
        "배송은 언제",
        "배송 언제와요",
        "언제 배송돼요",
        "when will it ship",
    ]
    .iter()
    .enumerate()
    {
        let before =
            t.tg.sent_to(user.id)
                .iter()
                .filter(|m| m.text == shipping)
                .count();
        t.tg.push_private_text(&user, question);
        let answered =
            t.tg.wait_until(Duration::from_secs(10), |tg| {
                tg.sent_to(user.id)
                    .iter()
                    .filter(|m| m.text == shipping)
                    .count()
                    > before
            })
            .await;
        assert!(
            answered,
            "question {i} `{question}` got the shipping answer"
        );
    }
    t.tg.push_private_text(&user, "강아지 옷도 파시나요?");
    let first = wait_text(&t.tg, user.id, "답을 찾지 못했어요").await;
    assert_eq!(buttons(&first), vec!["handoff:open".to_string()]);
    t.tg.push_private_text(&user, "고양이 모자는요?");
    let second = wait_text(&t.tg, user.id, "두 번이나").await;
    assert_eq!(
        buttons(&second),
        vec!["handoff:open".to_string()],
        "a person is offered"
    );
    t.tg.push_callback(&user, second.message_id, user.id, "handoff:open");
    wait_text(&t.tg, STAFF_CHAT, "문의 #1").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reflected_reaches_exactly_the_viewers_who_gave_that_feedback_once_each() {
    let t = TestApp::start().await;
    let raters = [
        TgUser::new(6101, "A").with_language("ko"),
        TgUser::new(6102, "B").with_language("ko"),
    ];
    let quiet = TgUser::new(6103, "C").with_language("ko");
    let mut events = Vec::new();
    for (i, _) in raters.iter().chain([&quiet]).enumerate() {
        events.push(customer(&format!("r-{i}"), &format!("구매자{i}")));
        events.push(order(
            &format!("ro-{i}"),
            &format!("r-{i}"),
            "b-9",
            "니트 3종",
            69_000,
        ));
    }
    assert_eq!(t.post_events(&events).await.0, 202);
    let viewers: Vec<_> = raters
        .iter()
        .chain([&quiet])
        .enumerate()
        .map(|(i, u)| (format!("r-{i}"), u.clone()))
        .collect();
    t.link_viewers(&viewers).await;
    t.post_events(&[ended("end-9", "b-9")]).await;
    for user in raters.iter().chain([&quiet]) {
        wait_text(&t.tg, user.id, "방송에 함께해").await;
    }
    for user in &raters {
        let thanks = wait_text(&t.tg, user.id, "방송에 함께해").await;
        t.tg.push_callback(user, thanks.message_id, user.id, &buttons(&thanks)[2]);
        wait_text(&t.tg, user.id, "3점 고마워요").await;
    }
    let staff = TgUser::new(STAFF_USER, "호스트");
    t.tg.push_group_text(
        STAFF_CHAT,
        "staff",
        &staff,
        "/reflected b-9 다음 방송부터 사이즈표를 먼저 보여 드려요",
        None,
    );
    wait_text(&t.tg, STAFF_CHAT, "2명에게").await;
    t.tg.push_group_text(
        STAFF_CHAT,
        "staff",
        &staff,
        "/reflected b-9 다음 방송부터 사이즈표를 먼저 보여 드려요",
        None,
    );
    for user in &raters {
        wait_text(&t.tg, user.id, "사이즈표를 먼저").await;
    }
    t.settle().await;
    for user in &raters {
        let told =
            t.tg.sent_to(user.id)
                .iter()
                .filter(|m| m.text.contains("사이즈표를 먼저"))
                .count();
        assert_eq!(told, 1, "once each");
    }
    assert!(
        !t.tg
            .sent_to(quiet.id)
            .iter()
            .any(|m| m.text.contains("사이즈표를 먼저")),
        "not the viewer who gave no feedback"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_question_in_a_community_room_is_answered_as_a_reply_at_most_once_in_ten_minutes() {
    let t = TestApp::start().await;
    let member = TgUser::new(6201, "Hajun").with_language("ko");
    let asked = t.tg.push_group_text(
        COMMUNITY_CHAT,
        "미나의 옷장 단골방",
        &member,
        "배송은 언제 되나요?",
        None,
    );
    let answer = wait_text(&t.tg, COMMUNITY_CHAT, "출고").await;
    assert_eq!(
        answer.reply_to_message_id,
        Some(asked),
        "the answer replies to the question"
    );
    t.tg.push_group_text(
        COMMUNITY_CHAT,
        "미나의 옷장 단골방",
        &member,
        "배송 언제와요?",
        None,
    );
    t.tg.push_group_text(
        COMMUNITY_CHAT,
        "미나의 옷장 단골방",
        &member,
        "오늘 방송 너무 재밌었어요",
        None,
    );
    t.settle().await;
    assert_eq!(
        t.tg.sent_to(COMMUNITY_CHAT).len(),
        1,
        "no second answer within 10 minutes, no answer to chatter"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_staff_reply_to_any_part_of_a_split_ticket_card_reaches_the_viewer() {
    let t = TestApp::start().await;
    let user = TgUser::new(6301, "Yejun").with_language("ko");
    t.post_events(&[customer("c-30", "예준")]).await;
    t.link_viewer("c-30", &user).await;
    // Two long messages first: the card quotes them, so it no longer fits in one message.
    for word in ["강아지", "고양이"] {
        let before = t.tg.sent_to(user.id).len();
        t.tg.push_private_text(&user, &format!("{word} {}", "정말 ".repeat(700)));
        let answered =
            t.tg.wait_until(Duration::from_secs(20), |tg| {
                tg.sent_to(user.id).len() > before
            })
            .await;
        assert!(answered, "the bot answered the long message");
    }
    t.tg.push_private_text(&user, "/human");
    let card_parts =
        t.tg.wait_until(Duration::from_secs(20), |tg| {
            tg.sent_to(STAFF_CHAT)
                .iter()
                .any(|m| m.text.contains("/close 1"))
        })
        .await;
    assert!(card_parts, "the whole card arrived");
    let parts = t.tg.sent_to(STAFF_CHAT);
    assert!(
        parts.len() >= 2,
        "the card was split: {} part(s)",
        parts.len()
    );
    let first = &parts[0];
    assert!(first.text.contains("문의 #1"));
    let staff = TgUser::new(STAFF_USER, "호스트");
    t.tg.push_group_text(
        STAFF_CHAT,
        "staff",
        &staff,
        "교환 도와드릴게요",
        Some(first.message_id),
    );
    wait_text(&t.tg, user.id, "교환 도와드릴게요").await;
}
