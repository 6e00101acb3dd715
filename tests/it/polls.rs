//! Community polls (issue #14, acceptance point 4): `/poll` in the staff chat puts a native,
//! non-anonymous poll in each Telegram room and buttons in each Discord room; votes from both
//! platforms add up (one a member, changeable, a Telegram answer taken back is not counted);
//! `/pollclose` stops the polls and posts the result to the rooms and the staff chat; the
//! period report counts polls; a `/poll` from someone not on staff is refused.

use std::time::Duration;

use crate::support::app::*;
use crate::support::discord::{self, DcUser, FakeDiscord};
use crate::support::telegram::{SentPoll, TgUser};
use serde_json::json;

const OPTIONS: [&str; 3] = ["겨울 코트", "니트", "부츠"];

fn member(i: u64, name: &str) -> DcUser {
    DcUser::new(1_180_000_000_000_000_000 + i, name).with_locale("ko")
}

/// Waits for `n` polls in a Telegram room.
async fn wait_polls(t: &TestApp, chat: i64, n: usize) -> Vec<SentPoll> {
    let arrived =
        t.tg.wait_until(Duration::from_secs(30), |tg| tg.polls_in(chat).len() >= n)
            .await;
    assert!(arrived, "chat {chat} got {n} poll(s): {:?}", t.tg.polls());
    t.tg.polls_in(chat)
}

/// Waits until each of these button presses got its private answer.
async fn wait_answered(dc: &FakeDiscord, presses: &[u64]) {
    let all = dc
        .wait_until(Duration::from_secs(30), |dc| {
            let answered: Vec<u64> = ephemeral_answers(dc).iter().map(|(id, _)| *id).collect();
            presses.iter().all(|id| answered.contains(id))
        })
        .await;
    assert!(all, "each vote is answered privately: {:?}", dc.followups());
}

/// Once everything due happened: no poll was sent anywhere, and none is stored.
async fn assert_no_poll(t: &TestApp) {
    t.settle().await;
    assert_eq!(
        t.tg.polls(),
        Vec::<SentPoll>::new(),
        "no poll went anywhere"
    );
    let (_, report) = t.get_admin("/v1/report?since=2000-01-01").await;
    assert_eq!(
        report["polls"],
        json!({"asked": 0, "closed": 0, "votes": 0}),
        "{report}"
    );
}

/// The ephemeral answers a Discord member got to their button presses, as (interaction, text).
fn ephemeral_answers(dc: &FakeDiscord) -> Vec<(u64, String)> {
    dc.followups()
        .into_iter()
        .filter(|f| f.status == 200 && f.flags == Some(64))
        .map(|f| (f.interaction_id, f.content.unwrap_or_default()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_staff_poll_reaches_every_room_and_closing_it_posts_the_votes_of_both_platforms() {
    let t = TestApp::start_with(BOTH).await;
    staff_says(&t, "/poll 다음 라이브 주제는? | 겨울 코트 | 니트 | 부츠");

    // The staff chat hears the poll's number.
    let asked = wait_text(&t.tg, STAFF_CHAT, "투표 #1을").await;
    assert!(asked.text.contains("3곳"), "{}", asked.text);
    // Each Telegram room: Telegram's own poll, not anonymous, one answer, options in order.
    for room in [COMMUNITY_CHAT, ROOM] {
        let polls = wait_polls(&t, room, 1).await;
        let poll = &polls[0];
        assert_eq!(poll.question, "다음 라이브 주제는?");
        assert_eq!(poll.options, OPTIONS);
        assert!(!poll.is_anonymous, "the poll is not anonymous");
        assert!(!poll.allows_multiple_answers);
    }
    // The Discord room: the question with one button per option, in order.
    let posted = wait_channel(&t.dc, discord::COMMUNITY_CHANNEL_ID, "다음 라이브 주제는?").await;
    assert_eq!(custom_ids(&posted), ["poll:1:0", "poll:1:1", "poll:1:2"]);
    let labels: Vec<String> = posted.components.as_ref().expect("buttons")[0]["components"]
        .as_array()
        .expect("a row")
        .iter()
        .map(|b| b["label"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(labels, OPTIONS);
    // Where each poll went is stored before anyone answers it.
    t.settle().await;

    // Telegram: A votes 겨울 코트; B votes 니트, then changes to 부츠; C votes, then takes it
    // back; D votes 니트 in the other room.
    let room_poll = t.tg.polls_in(COMMUNITY_CHAT)[0].poll_id.clone();
    let other_poll = t.tg.polls_in(ROOM)[0].poll_id.clone();
    let (a, b, c, d) = (
        TgUser::new(5_001, "가영"),
        TgUser::new(5_002, "나래"),
        TgUser::new(5_003, "다온"),
        TgUser::new(5_004, "라희"),
    );
    for (user, poll, options) in [
        (&a, &room_poll, vec![0]),
        (&b, &room_poll, vec![1]),
        (&b, &room_poll, vec![2]),
        (&c, &room_poll, vec![0]),
        (&c, &room_poll, vec![]),
        (&d, &other_poll, vec![1]),
    ] {
        assert!(
            t.tg.push_poll_answer(user, poll, &options).is_some(),
            "Telegram sends answers to a non-anonymous open poll"
        );
    }
    // Discord: E votes 니트; F votes 겨울 코트, then changes to 부츠; forged presses count for
    // nothing and get no answer.
    let (e, f) = (member(1, "마루"), member(2, "바다"));
    let channel = discord::COMMUNITY_CHANNEL_ID;
    let e_vote = t.dc.push_component(&e, posted.id, channel, "poll:1:1");
    let f_first = t.dc.push_component(&f, posted.id, channel, "poll:1:0");
    let forged: Vec<u64> = ["poll:1:7", "poll:9:0", "poll:x", "poll:1:-1"]
        .iter()
        .map(|data| t.dc.push_component(&e, posted.id, channel, data).id)
        .collect();
    // serenity handles events side by side: a change of mind waits for the first vote's answer.
    wait_answered(&t.dc, &[e_vote.id, f_first.id]).await;
    let f_change = t.dc.push_component(&f, posted.id, channel, "poll:1:2");
    wait_answered(&t.dc, &[f_change.id]).await;
    t.settle().await;
    let answers = ephemeral_answers(&t.dc);
    let answer_to = |id: u64| {
        answers
            .iter()
            .find(|(i, _)| *i == id)
            .map(|(_, text)| text.clone())
            .unwrap_or_default()
    };
    assert!(
        answer_to(e_vote.id).contains("‘니트’에 투표했어요"),
        "{answers:?}"
    );
    assert!(answer_to(f_change.id).contains("‘부츠’"), "{answers:?}");
    assert!(
        forged.iter().all(|id| answers.iter().all(|(i, _)| i != id)),
        "forged presses get no answer: {answers:?}"
    );
    assert!(
        t.dc.sent_to(channel).len() == 1,
        "votes post nothing in the room"
    );

    staff_says(&t, "/pollclose 1");
    // 겨울 코트: A. 니트: D, E. 부츠: B, F. C took the vote back; the forged presses count not.
    let lines = [
        "1. 겨울 코트: 1표 (20%)",
        "2. 니트: 2표 (40%)",
        "3. 부츠: 2표 (40%)",
        "모두 5표",
    ];
    for chat in [STAFF_CHAT, COMMUNITY_CHAT, ROOM] {
        let result = wait_text(&t.tg, chat, "투표 #1 결과").await;
        for line in lines {
            assert!(
                result.text.contains(line),
                "{chat}: {line} in {}",
                result.text
            );
        }
    }
    let result = wait_channel(&t.dc, channel, "투표 #1 결과").await;
    for line in lines {
        assert!(
            result.content.contains(line),
            "{line} in {}",
            result.content
        );
    }
    // Telegram's polls were stopped, the Discord buttons taken away.
    t.settle().await;
    assert!(
        t.tg.polls().iter().all(|p| p.closed),
        "every Telegram poll is stopped: {:?}",
        t.tg.polls()
    );
    let unbuttoned =
        t.dc.edits()
            .into_iter()
            .any(|m| m.id == posted.id && m.components == Some(json!([])));
    assert!(
        unbuttoned,
        "the Discord poll lost its buttons: {:?}",
        t.dc.edits()
    );
    // Too late: Telegram sends nothing for a stopped poll; a Discord press is told so.
    assert_eq!(t.tg.push_poll_answer(&a, &room_poll, &[1]), None);
    let late = t.dc.push_component(&e, posted.id, channel, "poll:1:0");
    let told =
        t.dc.wait_until(Duration::from_secs(30), |dc| {
            ephemeral_answers(dc)
                .iter()
                .any(|(id, text)| *id == late.id && text.contains("마감됐어요"))
        })
        .await;
    assert!(told, "a late press hears the poll is closed");

    // A second close changes nothing and says so.
    staff_says(&t, "/pollclose #1");
    wait_text(&t.tg, STAFF_CHAT, "투표 #1은 이미 마감됐어요").await;

    // The period report counts the poll and its votes.
    let since = (chrono::Utc::now() - chrono::Duration::hours(1)).format("%Y-%m-%dT%H:%M:%SZ");
    let (status, report) = t.get_admin(&format!("/v1/report?since={since}")).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(
        report["polls"],
        json!({"asked": 1, "closed": 1, "votes": 5}),
        "{report}"
    );
    let cli = std::process::Command::new(env!("CARGO_BIN_EXE_encore"))
        .args(["report", "--since", &since.to_string()])
        .env("ENCORE_DATABASE_URL", &t.db_url)
        .current_dir(t.dir.path())
        .output()
        .expect("encore runs");
    let text = String::from_utf8_lossy(&cli.stdout);
    assert!(
        cli.status.success(),
        "{}",
        String::from_utf8_lossy(&cli.stderr)
    );
    assert!(text.contains("투표: 올림 1 · 마감 1 · 참여 5표"), "{text}");
}

#[tokio::test]
async fn a_poll_from_someone_not_on_staff_is_refused_and_nothing_is_sent() {
    let t = TestApp::start().await;
    let outsider = TgUser::new(8_001, "손님").with_language("ko");
    t.tg.push_group_text(
        STAFF_CHAT,
        "staff",
        &outsider,
        "/poll 다음 라이브 주제는? | 코트 | 니트",
        None,
    );
    wait_text(&t.tg, STAFF_CHAT, "등록된 직원만").await;
    t.tg.push_group_text(
        ROOM,
        "라이브 수다방",
        &outsider,
        "/poll 다음 라이브 주제는? | 코트 | 니트",
        None,
    );
    wait_text(&t.tg, ROOM, "직원만 쓸 수 있어요").await;
    assert_no_poll(&t).await;
}

#[tokio::test]
async fn a_bad_poll_or_close_is_answered_in_the_staff_chat_and_stores_nothing() {
    let t = TestApp::start().await;
    let eleven: String = (1..=11).map(|n| format!(" | 선택{n}")).collect();
    for (command, answer) in [
        (
            "/poll 무엇을 살까요? | 코트",
            "선택지는 2~10개여야 해요. 지금은 1개예요.",
        ),
        (
            &format!("/poll 무엇을 살까요?{eleven}") as &str,
            "지금은 11개예요",
        ),
        (
            "/poll 무엇을 살까요? | 코트 | 코트",
            "2번째 선택지가 앞의 선택지와 같아요",
        ),
        (
            &format!("/poll {} | 코트 | 니트", "가".repeat(301)),
            "질문이 너무 길어요: 301자",
        ),
        ("/pollclose 7", "투표 #7을 찾지 못했어요"),
    ] {
        staff_says(&t, command);
        wait_text(&t.tg, STAFF_CHAT, answer).await;
    }
    assert_no_poll(&t).await;
}

#[tokio::test]
async fn a_forgotten_customers_vote_stays_counted_without_their_account() {
    let t = TestApp::start().await;
    assert_eq!(t.post_events(&[customer("c-1", "민지")]).await.0, 202);
    let viewer = TgUser::new(6_001, "민지").with_language("ko");
    t.link_viewer("c-1", &viewer).await;
    staff_says(&t, "/poll 다음 라이브 주제는? | 코트 | 니트");
    let poll = wait_polls(&t, ROOM, 1).await.remove(0);
    t.settle().await;
    assert!(
        t.tg.push_poll_answer(&viewer, &poll.poll_id, &[1])
            .is_some()
    );
    t.settle().await;

    let deleted = json!({"id": "del-1", "type": "customer.deleted",
        "occurred_at": chrono::Utc::now().to_rfc3339(), "customer_id": "c-1"});
    assert_eq!(t.post_events(&[deleted]).await.0, 202);
    let voters: Vec<String> = sqlx::query_scalar("SELECT voter_id FROM poll_votes")
        .fetch_all(t.ctx().store.pool_for_tests())
        .await
        .expect("voters");
    assert_eq!(voters.len(), 1, "the vote is kept");
    assert!(voters[0].starts_with("forgotten-"), "{voters:?}");

    staff_says(&t, "/pollclose 1");
    let result = wait_text(&t.tg, STAFF_CHAT, "투표 #1 결과").await;
    assert!(
        result.text.contains("2. 니트: 1표 (100%)"),
        "{}",
        result.text
    );
}
