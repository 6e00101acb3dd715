//! Self-test of the Telegram stand-in, driven by the real teloxide `Bot`, so that what the
//! stand-in answers is proven to deserialise the way teloxide expects.
use crate::support::telegram::*;

use std::time::{Duration, Instant};

use teloxide::prelude::*;
use teloxide::types::{
    AllowedUpdate, BotCommand, ChatMemberKind, ChatPermissions, FileId, InlineKeyboardButton,
    InlineKeyboardMarkup, InputFile, MaybeInaccessibleMessage, MessageEntityKind, MessageId,
    ParseMode, ReplyParameters, UntilDate, UpdateKind,
};
use teloxide::{ApiError, RequestError};

/// A teloxide bot pointed at the stand-in.
fn bot_for(tg: &FakeTelegram) -> Bot {
    Bot::new(TOKEN).set_api_url(reqwest::Url::parse(&tg.api_url()).expect("api url"))
}

fn keyboard(data: &str) -> InlineKeyboardMarkup {
    InlineKeyboardMarkup::new([[InlineKeyboardButton::callback("Yes", data)]])
}

fn viewer(id: i64) -> TgUser {
    TgUser::new(id, "Minji")
        .with_username("minji")
        .with_language("ko")
}

/// POSTs a raw JSON body to a method, returning the status and the JSON answer.
async fn post_raw(
    tg: &FakeTelegram,
    token: &str,
    method: &str,
    body: &str,
) -> (u16, serde_json::Value) {
    let response = reqwest::Client::new()
        .post(format!("{}/bot{token}/{method}", tg.api_url()))
        .header("content-type", "application/json")
        .body(body.to_owned())
        .send()
        .await
        .expect("request");
    let status = response.status().as_u16();
    (status, response.json().await.expect("JSON answer"))
}

#[tokio::test]
async fn a_message_with_html_and_an_inline_keyboard_is_recorded_and_its_reply_deserialises() {
    let tg = FakeTelegram::start().await;
    let bot = bot_for(&tg);

    let message = bot
        .send_message(ChatId(1001), "<b>Thank you</b> &amp; see you")
        .parse_mode(ParseMode::Html)
        .reply_markup(keyboard("thanks:1"))
        .await
        .expect("sendMessage");

    assert_eq!(message.chat.id, ChatId(1001));
    assert!(message.chat.is_private());
    assert_eq!(message.text(), Some("Thank you & see you"));
    assert_eq!(
        message.from.as_ref().map(|u| u.id.0 as i64),
        Some(tg.bot_user_id())
    );
    assert!(message.reply_markup().is_some());

    let sent = tg.sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].message_id, message.id.0);
    assert_eq!(sent[0].chat_id, 1001);
    assert_eq!(sent[0].text, "<b>Thank you</b> &amp; see you");
    assert_eq!(sent[0].parse_mode.as_deref(), Some("HTML"));
    assert_eq!(sent[0].method, "sendMessage");
    let markup = sent[0]
        .reply_markup
        .as_ref()
        .expect("reply_markup recorded");
    assert_eq!(markup["inline_keyboard"][0][0]["callback_data"], "thanks:1");
    assert_eq!(tg.sent_to(1001).len(), 1);
    assert!(tg.sent_to(1002).is_empty());
}

#[tokio::test]
async fn thirty_one_sends_within_a_second_get_exactly_one_429_that_teloxide_reports_as_retry_after()
{
    let tg = FakeTelegram::start().await;
    tg.allow_violations();
    let bot = bot_for(&tg);

    let started = Instant::now();
    let mut retry_afters = Vec::new();
    for chat in 1..=31 {
        match bot.send_message(ChatId(5000 + chat), "hello").await {
            Ok(_) => {}
            Err(RequestError::RetryAfter(seconds)) => retry_afters.push(seconds.seconds()),
            Err(other) => panic!("unexpected error {other:?}"),
        }
    }
    assert!(
        started.elapsed() < Duration::from_millis(900),
        "sends were too slow to test the limit"
    );

    assert_eq!(retry_afters.len(), 1);
    assert!(retry_afters[0] >= 1);
    assert_eq!(tg.violations(), 1);
    assert_eq!(tg.scripted_faults(), 0);
    assert_eq!(tg.sent().len(), 30);
    let refused: Vec<_> = tg
        .requests()
        .into_iter()
        .filter(|r| r.status == 429)
        .collect();
    assert_eq!(refused.len(), 1);
    assert_eq!(refused[0].method, "sendMessage");
    assert_eq!(refused[0].chat_id, Some(5031));
    assert_eq!(refused[0].retry_after, Some(retry_afters[0]));
}

#[tokio::test]
async fn with_a_paid_limit_a_send_beyond_the_free_thirty_must_carry_allow_paid_broadcast() {
    let tg = FakeTelegram::start_with(FakeTelegramOptions {
        global_limit: Some(RateLimit {
            max: 1000,
            per: Duration::from_secs(1),
        }),
        ..FakeTelegramOptions::default()
    })
    .await;
    tg.allow_violations();
    let bot = bot_for(&tg);

    let started = Instant::now();
    for chat in 1..=30 {
        bot.send_message(ChatId(6000 + chat), "free")
            .await
            .expect("within the free 30");
    }
    // The 31st in the same second: refused without the flag, accepted with it.
    let unpaid = bot.send_message(ChatId(6031), "unpaid").await;
    assert!(
        matches!(unpaid, Err(RequestError::RetryAfter(_))),
        "an unpaid 31st send in a second must be refused, got {unpaid:?}"
    );
    for chat in 31..=60 {
        bot.send_message(ChatId(6000 + chat), "paid")
            .allow_paid_broadcast(true)
            .await
            .expect("a paid broadcast beyond the free limit");
    }
    assert!(
        started.elapsed() < Duration::from_millis(900),
        "sends were too slow to test the limit"
    );
    assert_eq!(tg.violations(), 1);
    let sent = tg.sent();
    assert_eq!(sent.len(), 60);
    assert_eq!(sent.iter().filter(|m| m.paid_broadcast).count(), 30);
    assert!(sent.iter().all(|m| m.paid_broadcast == (m.text == "paid")));
}

#[tokio::test]
async fn a_second_send_to_one_private_chat_200_ms_later_is_refused_and_one_a_second_later_is_not() {
    let tg = FakeTelegram::start().await;
    tg.allow_violations();
    let bot = bot_for(&tg);

    bot.send_message(ChatId(42), "first")
        .await
        .expect("first send");
    // The first request arrived no later than this.
    let first_answered = Instant::now();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let second = bot.send_message(ChatId(42), "second").await;
    assert!(
        matches!(second, Err(RequestError::RetryAfter(s)) if s.seconds() == 1),
        "got {second:?}"
    );

    // Another chat is not affected by this chat's window.
    bot.send_message(ChatId(43), "other chat")
        .await
        .expect("other chat");

    // Sent a full second after the first one's answer: it arrives more than a second after the
    // first, so the exact window accepts it.
    tokio::time::sleep_until((first_answered + Duration::from_secs(1)).into()).await;
    bot.send_message(ChatId(42), "third")
        .await
        .expect("a second later");
    assert_eq!(tg.violations(), 1);
    assert_eq!(
        tg.sent_to(42)
            .iter()
            .map(|m| m.text.as_str())
            .collect::<Vec<_>>(),
        ["first", "third"]
    );
}

#[tokio::test]
async fn the_window_counts_exactly_with_no_allowance_for_jitter() {
    let tg = FakeTelegram::start().await;
    tg.allow_violations();
    let bot = bot_for(&tg);

    bot.send_message(ChatId(77), "first")
        .await
        .expect("first send");
    let first_answered = Instant::now();
    // Sends around the edge of the window, 20 ms apart, from 60 ms before to 60 ms after one
    // second: whatever the machine's delays, each is refused exactly when it was handled less
    // than a second after the counted one.
    for offset_ms in (940..=1060).step_by(20) {
        tokio::time::sleep_until((first_answered + Duration::from_millis(offset_ms)).into()).await;
        let _ = bot
            .send_message(ChatId(77), format!("at {offset_ms}"))
            .await;
    }
    let log: Vec<_> = tg
        .requests()
        .into_iter()
        .filter(|r| r.chat_id == Some(77))
        .collect();
    let mut counted = log[0].at;
    let mut refused = 0;
    for request in &log[1..] {
        let since = request.at.duration_since(counted);
        if request.status == 429 {
            refused += 1;
            assert!(since < Duration::from_secs(1), "refused after {since:?}");
        } else {
            assert_eq!(request.status, 200);
            assert!(since >= Duration::from_secs(1), "accepted after {since:?}");
            counted = request.at;
        }
    }
    assert_eq!(tg.violations(), refused);
    assert!(
        refused >= 1,
        "at least the send 940 ms after the answer is refused"
    );
}

#[tokio::test]
async fn the_twenty_first_send_to_one_group_within_a_minute_is_refused_with_429() {
    let tg = FakeTelegram::start().await;
    tg.allow_violations();
    let bot = bot_for(&tg);
    let group = ChatId(-1_001_234_567_890);

    for n in 1..=20 {
        bot.send_message(group, format!("card {n}"))
            .await
            .expect("within the group limit");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let refused = bot.send_message(group, "card 21").await;
    match refused {
        Err(RequestError::RetryAfter(s)) => {
            assert!((55..=60).contains(&s.seconds()), "retry_after {s:?}")
        }
        other => panic!("expected RetryAfter, got {other:?}"),
    }
    assert_eq!(tg.violations(), 1);
    assert_eq!(tg.sent_to(group.0).len(), 20);
}

#[tokio::test]
async fn a_user_who_blocked_the_bot_surfaces_as_bot_blocked() {
    let tg = FakeTelegram::start().await;
    let bot = bot_for(&tg);

    tg.block_user(77);
    let error = bot
        .send_message(ChatId(77), "hi")
        .await
        .expect_err("blocked");
    assert!(
        matches!(error, RequestError::Api(ApiError::BotBlocked)),
        "got {error:?}"
    );
    assert!(tg.sent().is_empty());
    assert_eq!(tg.requests()[0].status, 403);

    tg.unblock_user(77);
    tokio::time::sleep(Duration::from_millis(1000)).await;
    bot.send_message(ChatId(77), "hi again")
        .await
        .expect("unblocked");
    assert_eq!(tg.sent().len(), 1);
}

#[tokio::test]
async fn two_scripted_server_errors_fail_two_sends_and_the_third_is_delivered() {
    let tg = FakeTelegram::start().await;
    let bot = bot_for(&tg);
    tg.fail_next(2, Fault::ServerError);

    // teloxide sleeps 10 s on any 5xx before it returns the error.
    let started = Instant::now();
    let first = bot.send_message(ChatId(-10), "one").await;
    assert!(started.elapsed() >= Duration::from_secs(9));
    assert!(
        matches!(&first, Err(RequestError::Api(ApiError::Unknown(text))) if text == "Internal Server Error"),
        "got {first:?}"
    );

    // The second one raw, to see the wire format without teloxide's pause.
    let (status, body) =
        post_raw(&tg, TOKEN, "sendMessage", r#"{"chat_id":-10,"text":"two"}"#).await;
    assert_eq!(status, 500);
    assert_eq!(
        body,
        serde_json::json!({"ok": false, "error_code": 500, "description": "Internal Server Error"})
    );

    bot.send_message(ChatId(-10), "three")
        .await
        .expect("third is delivered");
    assert_eq!(tg.scripted_faults(), 2);
    assert_eq!(tg.violations(), 0);
    assert_eq!(
        tg.sent()
            .iter()
            .map(|m| m.text.as_str())
            .collect::<Vec<_>>(),
        ["three"]
    );
    let statuses: Vec<u16> = tg.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [500, 500, 200]);
}

#[tokio::test]
async fn a_scripted_429_surfaces_as_retry_after_and_is_not_counted_as_a_violation() {
    let tg = FakeTelegram::start().await;
    let bot = bot_for(&tg);
    tg.fail_next(1, Fault::TooManyRequests { retry_after: 7 });

    let error = bot
        .send_message(ChatId(-20), "x")
        .await
        .expect_err("scripted 429");
    assert!(
        matches!(error, RequestError::RetryAfter(s) if s.seconds() == 7),
        "got {error:?}"
    );
    assert_eq!(tg.scripted_faults(), 1);
    assert_eq!(tg.violations(), 0);
    assert_eq!(tg.requests()[0].retry_after, Some(7));
    bot.send_message(ChatId(-20), "y")
        .await
        .expect("next one goes through");
}

#[tokio::test]
async fn fail_for_faults_every_send_until_it_expires() {
    let tg = FakeTelegram::start().await;
    let bot = bot_for(&tg);
    tg.fail_for(
        Duration::from_millis(300),
        Fault::TooManyRequests { retry_after: 1 },
    );

    for chat in 1..=3 {
        let result = bot.send_message(ChatId(-chat), "during").await;
        assert!(
            matches!(result, Err(RequestError::RetryAfter(_))),
            "got {result:?}"
        );
    }
    tokio::time::sleep(Duration::from_millis(350)).await;
    bot.send_message(ChatId(-4), "after")
        .await
        .expect("fault expired");
    assert_eq!(tg.scripted_faults(), 3);
    assert_eq!(tg.sent().len(), 1);
}

#[tokio::test]
async fn get_updates_delivers_texts_and_callbacks_as_the_right_update_kinds_and_an_offset_confirms_them()
 {
    let tg = FakeTelegram::start().await;
    let bot = bot_for(&tg);
    let group = -1_009_876_543_210_i64;
    let user = viewer(555);

    // The bot posts a card in the staff group, then the updates happen.
    let card = bot
        .send_message(ChatId(group), "New question")
        .reply_markup(keyboard("claim:1"))
        .await
        .unwrap();
    let private_id = tg.push_private_text(&user, "/start ref_abc");
    let group_id = tg.push_group_text(
        group,
        "Staff",
        &user,
        "/reply@encore_test_bot on it",
        Some(card.id.0),
    );
    let anonymous_id = tg.push_anonymous_admin_text(group, "Staff", "/report");
    let callback_id = tg.push_callback(&user, card.id.0, group, "claim:1");
    assert_eq!(tg.pending_updates(), 4);

    let updates = bot.get_updates().await.expect("getUpdates");
    assert_eq!(updates.len(), 4);
    let ids: Vec<u32> = updates.iter().map(|u| u.id.0).collect();
    assert!(ids.windows(2).all(|w| w[1] == w[0] + 1));

    let UpdateKind::Message(private) = &updates[0].kind else {
        panic!("{:?}", updates[0].kind)
    };
    assert_eq!(private.id, MessageId(private_id));
    assert!(private.chat.is_private());
    assert_eq!(private.chat.id, ChatId(555));
    assert_eq!(private.text(), Some("/start ref_abc"));
    let from = private.from.as_ref().unwrap();
    assert_eq!(
        (
            from.id.0,
            from.username.as_deref(),
            from.language_code.as_deref()
        ),
        (555, Some("minji"), Some("ko"))
    );
    let entity = &private.entities().unwrap()[0];
    assert_eq!(
        (entity.kind.clone(), entity.offset, entity.length),
        (MessageEntityKind::BotCommand, 0, 6)
    );

    let UpdateKind::Message(in_group) = &updates[1].kind else {
        panic!("{:?}", updates[1].kind)
    };
    assert_eq!(in_group.id, MessageId(group_id));
    assert!(in_group.chat.is_supergroup());
    assert_eq!(in_group.chat.title(), Some("Staff"));
    assert_eq!(in_group.text(), Some("/reply@encore_test_bot on it"));
    assert_eq!(
        in_group.entities().unwrap()[0].length,
        "/reply@encore_test_bot".len()
    );
    assert_eq!(in_group.reply_to_message().map(|m| m.id), Some(card.id));
    assert_eq!(
        in_group.reply_to_message().and_then(|m| m.text()),
        Some("New question")
    );

    let UpdateKind::Message(anonymous) = &updates[2].kind else {
        panic!("{:?}", updates[2].kind)
    };
    assert_eq!(anonymous.id, MessageId(anonymous_id));
    assert_eq!(
        anonymous.sender_chat.as_ref().map(|c| c.id),
        Some(ChatId(group))
    );
    assert!(anonymous.from.as_ref().unwrap().is_anonymous());
    assert_eq!(anonymous.text(), Some("/report"));

    let UpdateKind::CallbackQuery(query) = &updates[3].kind else {
        panic!("{:?}", updates[3].kind)
    };
    assert_eq!(query.id.0, callback_id);
    assert_eq!(query.data.as_deref(), Some("claim:1"));
    assert_eq!(query.from.id.0, 555);
    let Some(MaybeInaccessibleMessage::Regular(message)) = &query.message else {
        panic!("{:?}", query.message)
    };
    assert_eq!(message.id, card.id);
    assert!(message.reply_markup().is_some());

    // Unconfirmed updates come again; an offset past the last confirms them all.
    assert_eq!(bot.get_updates().await.unwrap().len(), 4);
    let next = (updates[3].id.0 + 1) as i32;
    assert!(bot.get_updates().offset(next).await.unwrap().is_empty());
    assert_eq!(tg.pending_updates(), 0);

    bot.answer_callback_query(query.id.clone())
        .text("Claimed")
        .await
        .expect("answerCallbackQuery");
    assert_eq!(
        tg.answered_callbacks(),
        [(callback_id, Some("Claimed".to_owned()))]
    );
    let again = bot.answer_callback_query(query.id.clone()).await;
    assert!(
        matches!(again, Err(RequestError::Api(ApiError::InvalidQueryId))),
        "got {again:?}"
    );
}

#[tokio::test]
async fn a_callback_on_a_message_the_stand_in_does_not_know_carries_an_inaccessible_message() {
    let tg = FakeTelegram::start().await;
    let bot = bot_for(&tg);
    tg.push_callback(&viewer(9), 999, 9, "old");
    let updates = bot.get_updates().await.unwrap();
    let UpdateKind::CallbackQuery(query) = &updates[0].kind else {
        panic!("{:?}", updates[0].kind)
    };
    assert!(matches!(
        query.message,
        Some(MaybeInaccessibleMessage::Inaccessible(_))
    ));
}

#[tokio::test]
async fn allowed_updates_filters_the_kinds_delivered() {
    let tg = FakeTelegram::start().await;
    let bot = bot_for(&tg);
    tg.push_private_text(&viewer(1), "hello");
    tg.push_callback(&viewer(1), 1, 1, "x");
    let updates = bot
        .get_updates()
        .allowed_updates([teloxide::types::AllowedUpdate::CallbackQuery])
        .await
        .unwrap();
    assert_eq!(updates.len(), 1);
    assert!(matches!(updates[0].kind, UpdateKind::CallbackQuery(_)));
}

#[tokio::test]
async fn a_long_poll_returns_as_soon_as_an_update_is_pushed() {
    let tg = std::sync::Arc::new(FakeTelegram::start().await);
    let bot = bot_for(&tg);
    let pusher = {
        let tg = std::sync::Arc::clone(&tg);
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(300)).await;
            tg.push_private_text(&viewer(3), "late");
        })
    };

    let started = Instant::now();
    let updates = bot.get_updates().timeout(2).await.expect("getUpdates");
    let waited = started.elapsed();
    pusher.await.unwrap();

    assert_eq!(updates.len(), 1);
    assert!(
        waited >= Duration::from_millis(250),
        "returned before the push: {waited:?}"
    );
    assert!(
        waited < Duration::from_millis(1500),
        "did not return early: {waited:?}"
    );
}

#[tokio::test]
async fn a_long_poll_without_updates_waits_for_its_timeout() {
    let tg = FakeTelegram::start().await;
    let bot = bot_for(&tg);
    let started = Instant::now();
    let updates = bot.get_updates().timeout(1).await.expect("getUpdates");
    assert!(updates.is_empty());
    assert!(started.elapsed() >= Duration::from_millis(950));
}

#[tokio::test]
async fn a_second_poller_ends_the_first_with_a_conflict() {
    let tg = FakeTelegram::start().await;
    let bot = bot_for(&tg);
    let first = tokio::spawn({
        let bot = bot.clone();
        async move { bot.get_updates().timeout(5).await }
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    let second = bot.get_updates().await;
    assert!(second.is_ok());
    let first = first.await.unwrap();
    assert!(
        matches!(
            first,
            Err(RequestError::Api(ApiError::TerminatedByOtherGetUpdates))
        ),
        "got {first:?}"
    );
    assert_eq!(tg.get_updates_conflicts(), 1);
}

#[tokio::test]
async fn redeliver_from_makes_confirmed_updates_pending_again() {
    let tg = FakeTelegram::start().await;
    let bot = bot_for(&tg);
    for text in ["one", "two", "three"] {
        tg.push_private_text(&viewer(8), text);
    }
    let updates = bot.get_updates().await.unwrap();
    let last = updates[2].id.0;
    bot.get_updates().offset(last as i32 + 1).await.unwrap();
    assert_eq!(tg.pending_updates(), 0);

    tg.redeliver_from(updates[1].id.0);
    assert_eq!(tg.pending_updates(), 2);
    let again = bot.get_updates().await.unwrap();
    let again: Vec<(u32, Option<String>)> = again
        .iter()
        .map(|u| match &u.kind {
            UpdateKind::Message(m) => (u.id.0, m.text().map(str::to_owned)),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        again,
        [
            (updates[1].id.0, Some("two".to_owned())),
            (last, Some("three".to_owned()))
        ]
    );
}

#[tokio::test]
async fn html_telegram_cannot_parse_and_overlong_texts_are_refused_like_telegram_does() {
    let tg = FakeTelegram::start().await;
    let bot = bot_for(&tg);

    let error = bot
        .send_message(ChatId(-1), "I <3 you")
        .parse_mode(ParseMode::Html)
        .await
        .unwrap_err();
    match error {
        RequestError::Api(ApiError::CantParseEntities(text)) => {
            assert!(text.contains("Unsupported start tag \"3\""), "{text}")
        }
        other => panic!("got {other:?}"),
    }
    let error = bot
        .send_message(ChatId(-1), "<b>unclosed")
        .parse_mode(ParseMode::Html)
        .await
        .unwrap_err();
    assert!(
        matches!(error, RequestError::Api(ApiError::CantParseEntities(_))),
        "got {error:?}"
    );

    let error = bot
        .send_message(ChatId(-1), "가".repeat(4097))
        .await
        .unwrap_err();
    assert!(
        matches!(error, RequestError::Api(ApiError::MessageIsTooLong)),
        "got {error:?}"
    );
    bot.send_message(ChatId(-1), "가".repeat(4096))
        .await
        .expect("4096 characters fit");

    let error = bot.send_message(ChatId(-1), "  ").await.unwrap_err();
    assert!(
        matches!(error, RequestError::Api(ApiError::MessageTextIsEmpty)),
        "got {error:?}"
    );

    let error = bot
        .send_message(ChatId(-1), "re")
        .reply_parameters(ReplyParameters::new(MessageId(12345)))
        .await
        .unwrap_err();
    assert!(
        matches!(error, RequestError::Api(ApiError::MessageToReplyNotFound)),
        "got {error:?}"
    );
    assert_eq!(tg.sent().len(), 1);
}

#[tokio::test]
async fn a_reply_records_the_message_replied_to_and_its_thread() {
    let tg = FakeTelegram::start().await;
    let bot = bot_for(&tg);
    let question = tg.push_group_text(-300, "Staff", &viewer(4), "where is my order?", None);
    let reply = bot
        .send_message(ChatId(-300), "on its way")
        .reply_parameters(ReplyParameters::new(MessageId(question)))
        .message_thread_id(teloxide::types::ThreadId(MessageId(7)))
        .await
        .expect("reply");
    assert_eq!(
        reply.reply_to_message().and_then(|m| m.text()),
        Some("where is my order?")
    );
    let sent = &tg.sent()[0];
    assert_eq!(sent.reply_to_message_id, Some(question));
    assert_eq!(sent.message_thread_id, Some(7));
    assert_ne!(reply.id.0, question, "message ids are unique within a chat");
}

#[tokio::test]
async fn edits_are_recorded_and_an_edit_that_changes_nothing_is_not_modified() {
    let tg = FakeTelegram::start().await;
    let bot = bot_for(&tg);
    let chat = ChatId(-400);
    let card = bot
        .send_message(chat, "Open")
        .reply_markup(keyboard("claim"))
        .await
        .unwrap();

    let edited = bot
        .edit_message_text(chat, card.id, "<i>Claimed</i>")
        .parse_mode(ParseMode::Html)
        .await
        .expect("editMessageText");
    assert_eq!(edited.text(), Some("Claimed"));
    assert!(edited.edit_date().is_some());
    assert!(
        edited.reply_markup().is_none(),
        "an edit without reply_markup removes the keyboard"
    );

    let same = bot
        .edit_message_text(chat, card.id, "<i>Claimed</i>")
        .parse_mode(ParseMode::Html)
        .await;
    assert!(
        matches!(same, Err(RequestError::Api(ApiError::MessageNotModified))),
        "got {same:?}"
    );

    bot.edit_message_reply_markup(chat, card.id)
        .reply_markup(keyboard("release"))
        .await
        .expect("markup edit");
    let current = tg.message(chat.0, card.id.0).unwrap();
    assert_eq!(
        current["reply_markup"]["inline_keyboard"][0][0]["callback_data"],
        "release"
    );
    assert_eq!(current["text"], "Claimed");

    let missing = bot.edit_message_text(chat, MessageId(9999), "x").await;
    assert!(
        matches!(
            missing,
            Err(RequestError::Api(ApiError::MessageToEditNotFound))
        ),
        "got {missing:?}"
    );

    let edits = tg.edits();
    assert_eq!(edits.len(), 2);
    assert_eq!(
        (edits[0].method.as_str(), edits[0].text.as_str()),
        ("editMessageText", "<i>Claimed</i>")
    );
    assert_eq!(
        (edits[1].method.as_str(), edits[1].text.as_str()),
        ("editMessageReplyMarkup", "<i>Claimed</i>")
    );
    assert_eq!(tg.sent().len(), 1, "edits are not sends");
}

#[tokio::test]
async fn photos_sent_through_teloxide_multipart_are_recorded() {
    let tg = FakeTelegram::start().await;
    let bot = bot_for(&tg);

    let by_id = bot
        .send_photo(
            ChatId(-500),
            InputFile::file_id(FileId("AgACAgIAAxkBAAIB".to_owned())),
        )
        .caption("<b>VIP</b> code")
        .parse_mode(ParseMode::Html)
        .reply_markup(keyboard("vip"))
        .await
        .expect("sendPhoto by file_id");
    assert!(by_id.photo().is_some());
    assert_eq!(by_id.caption(), Some("VIP code"));

    bot.send_photo(
        ChatId(-500),
        InputFile::memory(vec![0x89, b'P', b'N', b'G']).file_name("coupon.png"),
    )
    .await
    .expect("sendPhoto upload");

    let sent = tg.sent();
    assert_eq!(sent[0].method, "sendPhoto");
    assert_eq!(sent[0].photo.as_deref(), Some("AgACAgIAAxkBAAIB"));
    assert_eq!(sent[0].text, "<b>VIP</b> code");
    assert_eq!(sent[0].parse_mode.as_deref(), Some("HTML"));
    assert_eq!(
        sent[0].reply_markup.as_ref().unwrap()["inline_keyboard"][0][0]["callback_data"],
        "vip"
    );
    assert_eq!(sent[1].photo.as_deref(), Some("upload:coupon.png"));

    // A plain JSON sendPhoto with a file_id works too.
    let (status, body) = post_raw(
        &tg,
        TOKEN,
        "sendPhoto",
        r#"{"chat_id":-501,"photo":"AgACAgIAAxkBAAIC","caption":"hi"}"#,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["result"]["photo"][0]["file_id"], "AgACAgIAAxkBAAIC");
    assert_eq!(
        tg.sent_to(-501)[0].photo.as_deref(),
        Some("AgACAgIAAxkBAAIC")
    );
}

#[tokio::test]
async fn the_other_methods_answer_in_shapes_teloxide_accepts() {
    let tg = FakeTelegram::start().await;
    let bot = bot_for(&tg);

    let me = bot.get_me().await.expect("getMe");
    assert_eq!(me.username(), tg.bot_username());
    assert_eq!(me.id.0 as i64, tg.bot_user_id());

    bot.delete_webhook().await.expect("deleteWebhook");
    let webhook = bot.get_webhook_info().await.expect("getWebhookInfo");
    assert!(webhook.url.is_none());

    bot.set_my_commands([
        BotCommand::new("start", "Start"),
        BotCommand::new("stop", "Stop"),
    ])
    .await
    .expect("setMyCommands");
    assert_eq!(tg.commands_set()[0]["commands"][1]["command"], "stop");

    tg.push_group_text(-1_000_000_000_777, "Staff", &viewer(6), "hi", None);
    let chat = bot
        .get_chat(ChatId(-1_000_000_000_777))
        .await
        .expect("getChat group");
    assert_eq!(chat.title(), Some("Staff"));
    assert!(chat.is_supergroup());
    let private = bot.get_chat(ChatId(6)).await.expect("getChat private");
    assert!(private.is_private());

    // Writing in the group made them a member there.
    let member = bot
        .get_chat_member(ChatId(-1_000_000_000_777), UserId(6))
        .await
        .expect("getChatMember");
    assert!(member.is_member());
    assert_eq!(member.user.first_name, "Minji");
    tg.set_chat_member_status(-1_000_000_000_777, 6, MemberStatus::Administrator);
    let member = bot
        .get_chat_member(ChatId(-1_000_000_000_777), UserId(6))
        .await
        .unwrap();
    assert!(member.is_administrator());
    // The bot administers the group unless told otherwise; a user seen elsewhere has left
    // it; a user never seen is unknown to Telegram.
    let me = UserId(tg.bot_user_id() as u64);
    let bot_member = bot.get_chat_member(ChatId(-1_000_000_000_777), me).await;
    assert!(bot_member.expect("the bot's status").is_administrator());
    tg.push_private_text(&viewer(7), "hi");
    let elsewhere = bot
        .get_chat_member(ChatId(-1_000_000_000_777), UserId(7))
        .await
        .expect("a known user");
    assert!(elsewhere.is_left());
    let unknown = bot
        .get_chat_member(ChatId(-1_000_000_000_777), UserId(8))
        .await
        .unwrap_err();
    assert!(
        matches!(unknown, RequestError::Api(ApiError::UserNotFound)),
        "got {unknown:?}"
    );
    for status in [
        MemberStatus::Creator,
        MemberStatus::Left,
        MemberStatus::Kicked,
    ] {
        tg.set_chat_member_status(-1_000_000_000_777, 6, status);
        bot.get_chat_member(ChatId(-1_000_000_000_777), UserId(6))
            .await
            .expect("member status parses");
    }
}

#[tokio::test]
async fn a_wrong_token_an_unknown_method_and_a_malformed_body_get_json_errors() {
    let tg = FakeTelegram::start().await;

    let wrong = Bot::new("999:WRONG").set_api_url(reqwest::Url::parse(&tg.api_url()).unwrap());
    let error = wrong.get_me().await.unwrap_err();
    assert!(
        matches!(error, RequestError::Api(ApiError::InvalidToken)),
        "got {error:?}"
    );

    let (status, body) = post_raw(&tg, TOKEN, "noSuchMethod", "{}").await;
    assert_eq!(status, 404);
    assert_eq!(
        body,
        serde_json::json!({"ok": false, "error_code": 404, "description": "Not Found: method not found"})
    );

    let (status, body) = post_raw(&tg, TOKEN, "sendMessage", "{not json").await;
    assert_eq!(status, 400);
    assert_eq!(body["ok"], false);
    let (status, _) = post_raw(&tg, TOKEN, "sendMessage", r#"{"text":"no chat"}"#).await;
    assert_eq!(status, 400);
    let (status, _) = post_raw(
        &tg,
        TOKEN,
        "sendMessage",
        r#"{"chat_id":"@somechannel","text":"x"}"#,
    )
    .await;
    assert_eq!(status, 400);
    assert!(tg.sent().is_empty());
    assert_eq!(tg.violations(), 0);
}

#[tokio::test]
async fn the_api_url_works_with_or_without_a_trailing_slash() {
    let tg = FakeTelegram::start().await;
    assert!(!tg.api_url().ends_with('/'));
    let bot =
        Bot::new(TOKEN).set_api_url(reqwest::Url::parse(&format!("{}/", tg.api_url())).unwrap());
    bot.get_me().await.expect("getMe with a trailing slash");
}

#[tokio::test]
async fn wait_for_sent_returns_once_enough_messages_were_delivered() {
    let tg = FakeTelegram::start().await;
    let bot = bot_for(&tg);
    let sender = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(100)).await;
        bot.send_message(ChatId(-7), "later").await
    });
    assert!(tg.wait_for_sent(1, Duration::from_secs(5)).await);
    sender.await.unwrap().unwrap();
    assert!(!tg.wait_for_sent(2, Duration::from_millis(100)).await);
}

#[tokio::test]
async fn shutting_down_ends_a_pending_long_poll_and_stops_the_server() {
    let tg = FakeTelegram::start().await;
    let bot = bot_for(&tg);
    let url = tg.api_url();
    let poll = tokio::spawn({
        let bot = bot.clone();
        async move { bot.get_updates().timeout(10).await }
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    let started = Instant::now();
    tg.shutdown().await;
    assert!(started.elapsed() < Duration::from_secs(2));
    assert!(
        poll.await
            .unwrap()
            .expect("the poll is answered")
            .is_empty()
    );

    let after = reqwest::Client::new()
        .post(format!("{url}/bot{TOKEN}/getMe"))
        .send()
        .await;
    assert!(after.is_err(), "server still answering: {after:?}");
}

#[tokio::test]
async fn dropping_the_stand_in_stops_its_server() {
    let tg = FakeTelegram::start().await;
    let url = tg.api_url();
    drop(tg);
    let mut refused = false;
    for _ in 0..50 {
        if reqwest::Client::new()
            .post(format!("{url}/bot{TOKEN}/getMe"))
            .send()
            .await
            .is_err()
        {
            refused = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(refused, "server still answering after drop");
}

#[tokio::test]
async fn teloxide_s_own_dispatcher_polls_the_stand_in_replies_and_confirms_what_it_handled() {
    use teloxide::dispatching::UpdateFilterExt;

    let tg = FakeTelegram::start().await;
    let bot = bot_for(&tg);
    let handler = Update::filter_message().endpoint(|bot: Bot, message: Message| async move {
        let text = format!("echo {}", message.text().unwrap_or_default());
        bot.send_message(message.chat.id, text).await?;
        respond(())
    });
    let mut dispatcher = Dispatcher::builder(bot, handler).build();
    let shutdown = dispatcher.shutdown_token();
    let running = tokio::spawn(async move { dispatcher.dispatch().await });

    tg.push_private_text(&viewer(11), "/start");
    tg.push_group_text(-12, "Room", &viewer(12), "hello", None);
    assert!(
        tg.wait_for_sent(2, Duration::from_secs(10)).await,
        "requests: {:?}",
        tg.requests()
    );
    let mut replies: Vec<(i64, String)> =
        tg.sent().into_iter().map(|m| (m.chat_id, m.text)).collect();
    replies.sort();
    assert_eq!(
        replies,
        [
            (-12, "echo hello".to_owned()),
            (11, "echo /start".to_owned())
        ]
    );

    // Wait until the dispatcher is polling, then stop it: its last getUpdates confirms.
    assert!(
        tg.wait_until(Duration::from_secs(5), |tg| tg
            .requests()
            .iter()
            .any(|r| r.method == "getUpdates"))
            .await
    );
    let mut stopped = false;
    for _ in 0..100 {
        if let Ok(done) = shutdown.shutdown() {
            done.await;
            stopped = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(stopped, "dispatcher did not stop");
    running.await.unwrap();
    assert_eq!(tg.pending_updates(), 0);
    let methods: Vec<String> = tg.requests().into_iter().map(|r| r.method).collect();
    assert!(methods.contains(&"getMe".to_owned()), "{methods:?}");
    assert!(
        methods.contains(&"getWebhookInfo".to_owned()),
        "{methods:?}"
    );
}

const ROOM: i64 = -1_001_234_567_890;

fn member(id: i64, name: &str) -> TgUser {
    TgUser::new(id, name).with_language("en")
}

#[tokio::test]
async fn chat_member_joins_are_delivered_only_when_asked_for_and_parse_as_chat_member() {
    let tg = FakeTelegram::start().await;
    let bot = bot_for(&tg);
    let fan = member(701, "Ara");

    // Not asked for (empty allowed_updates = Telegram's default): dropped, like Telegram.
    tg.push_chat_member_joined(ROOM, "Encore Fans", &fan);
    let updates = bot.get_updates().await.unwrap();
    assert!(updates.is_empty());
    assert_eq!(tg.pending_updates(), 0);

    let id = tg.push_chat_member_joined(ROOM, "Encore Fans", &fan);
    let updates = bot
        .get_updates()
        .allowed_updates([AllowedUpdate::Message, AllowedUpdate::ChatMember])
        .await
        .unwrap();
    assert_eq!(updates.len(), 1);
    assert_eq!(updates[0].id.0, id);
    let UpdateKind::ChatMember(change) = &updates[0].kind else {
        panic!("{:?}", updates[0].kind)
    };
    assert_eq!(change.chat.id, ChatId(ROOM));
    assert_eq!(change.chat.title(), Some("Encore Fans"));
    assert_eq!(change.from.id, UserId(701));
    assert!(change.old_chat_member.is_left());
    assert!(change.new_chat_member.is_member());
    assert_eq!(change.new_chat_member.user.first_name, "Ara");
    assert!(change.date.timestamp() > 0);

    // Remembered like Telegram remembers allowed_updates: a later join is delivered too.
    tg.push_chat_member_joined(ROOM, "Encore Fans", &member(702, "Bo"));
    let updates = bot.get_updates().offset(id as i32 + 1).await.unwrap();
    assert!(matches!(updates[0].kind, UpdateKind::ChatMember(_)));
    let status = bot
        .get_chat_member(ChatId(ROOM), UserId(702))
        .await
        .unwrap();
    assert!(status.is_member());
}

#[tokio::test]
async fn new_chat_members_messages_carry_every_user_who_joined() {
    let tg = FakeTelegram::start().await;
    let bot = bot_for(&tg);
    let raid: Vec<TgUser> = (0..50).map(|i| member(800 + i, "Raider")).collect();

    let message_id = tg.push_new_chat_members(ROOM, "Encore Fans", &raid);
    let updates = bot.get_updates().await.unwrap();
    assert_eq!(updates.len(), 1);
    let UpdateKind::Message(message) = &updates[0].kind else {
        panic!("{:?}", updates[0].kind)
    };
    assert_eq!(message.id, MessageId(message_id));
    assert_eq!(message.chat.id, ChatId(ROOM));
    let joined = message.new_chat_members().expect("new_chat_members");
    assert_eq!(joined.len(), 50);
    assert_eq!(joined[49].id, UserId(849));
    assert_eq!(message.from.as_ref().map(|u| u.id), Some(UserId(800)));
    let status = bot
        .get_chat_member(ChatId(ROOM), UserId(825))
        .await
        .unwrap();
    assert!(status.is_member());
}

#[tokio::test]
async fn a_migrated_group_reports_both_ids_and_sends_to_the_old_id_surface_as_migrate_to_chat_id() {
    let tg = FakeTelegram::start().await;
    let bot = bot_for(&tg);
    let old = -4_012_345_678_i64;
    let new = -1_004_012_345_678_i64;
    tg.push_group_text(old, "Encore Fans", &member(701, "Ara"), "hi", None);
    bot.send_message(ChatId(old), "Welcome!").await.unwrap();

    let old_message_id = tg.push_group_migrated(old, new);
    let updates = bot.get_updates().await.unwrap();
    assert_eq!(updates.len(), 3);
    let UpdateKind::Message(to) = &updates[1].kind else {
        panic!("{:?}", updates[1].kind)
    };
    assert_eq!(to.id, MessageId(old_message_id));
    assert_eq!(to.chat.id, ChatId(old));
    assert!(to.chat.is_group());
    assert_eq!(to.migrate_to_chat_id(), Some(&ChatId(new)));
    let UpdateKind::Message(from) = &updates[2].kind else {
        panic!("{:?}", updates[2].kind)
    };
    assert_eq!(from.chat.id, ChatId(new));
    assert!(from.chat.is_supergroup());
    assert_eq!(from.chat.title(), Some("Encore Fans"));
    assert_eq!(from.migrate_from_chat_id(), Some(&ChatId(old)));

    match bot.send_message(ChatId(old), "Welcome!").await {
        Err(RequestError::MigrateToChatId(chat)) => assert_eq!(chat, ChatId(new)),
        other => panic!("expected MigrateToChatId, got {other:?}"),
    }
    assert!(matches!(
        bot.pin_chat_message(ChatId(old), MessageId(1)).await,
        Err(RequestError::MigrateToChatId(ChatId(id))) if id == new
    ));
    bot.send_message(ChatId(new), "Welcome!").await.unwrap();
    assert_eq!(tg.sent_to(old).len(), 1);
    assert_eq!(tg.sent_to(new).len(), 1);
    let refused = tg
        .requests()
        .into_iter()
        .filter(|r| r.status == 400)
        .count();
    assert_eq!(refused, 2);
}

#[tokio::test]
async fn restrict_chat_member_is_recorded_and_get_chat_member_reports_the_restriction() {
    let tg = FakeTelegram::start().await;
    let bot = bot_for(&tg);
    tg.push_chat_member_joined(ROOM, "Encore Fans", &member(701, "Ara"));
    let until = chrono::Utc::now() + chrono::TimeDelta::minutes(10);

    bot.restrict_chat_member(ChatId(ROOM), UserId(701), ChatPermissions::empty())
        .until_date(until)
        .await
        .expect("restrictChatMember");
    let restrictions = tg.restrictions();
    assert_eq!(restrictions.len(), 1);
    assert_eq!(restrictions[0].chat_id, ROOM);
    assert_eq!(restrictions[0].user_id, 701);
    assert_eq!(restrictions[0].until_date, Some(until.timestamp()));
    assert!(!restrictions[0].can_send_messages());

    let muted = bot
        .get_chat_member(ChatId(ROOM), UserId(701))
        .await
        .expect("restricted member parses");
    let ChatMemberKind::Restricted(restricted) = &muted.kind else {
        panic!("{:?}", muted.kind)
    };
    assert!(!restricted.can_send_messages);
    assert!(restricted.is_member);
    assert_eq!(
        muted.until_date(),
        Some(UntilDate::Date(
            chrono::DateTime::from_timestamp(until.timestamp(), 0).unwrap()
        ))
    );

    // Lifting every restriction makes them an ordinary member again.
    bot.restrict_chat_member(ChatId(ROOM), UserId(701), ChatPermissions::all())
        .await
        .unwrap();
    assert!(tg.restrictions()[1].can_send_messages());
    let status = bot
        .get_chat_member(ChatId(ROOM), UserId(701))
        .await
        .unwrap();
    assert!(status.is_member());

    // Telegram's refusals: basic groups, administrators, a bot without rights.
    assert!(matches!(
        bot.restrict_chat_member(ChatId(-4_000_001), UserId(701), ChatPermissions::empty())
            .await,
        Err(RequestError::Api(
            ApiError::MethodNotAvailableInPrivateChats
        ))
    ));
    tg.set_chat_member_status(ROOM, 9, MemberStatus::Administrator);
    assert!(
        bot.restrict_chat_member(ChatId(ROOM), UserId(9), ChatPermissions::empty())
            .await
            .is_err()
    );
    tg.set_chat_member_status(ROOM, tg.bot_user_id(), MemberStatus::Member);
    assert!(matches!(
        bot.restrict_chat_member(ChatId(ROOM), UserId(701), ChatPermissions::empty())
            .await,
        Err(RequestError::Api(ApiError::NotEnoughRightsToRestrict))
    ));
    assert_eq!(tg.restrictions().len(), 2);
    assert_eq!(tg.violations(), 0);
}

#[tokio::test]
async fn deleted_messages_are_recorded_and_gone() {
    let tg = FakeTelegram::start().await;
    let bot = bot_for(&tg);
    let spam = tg.push_group_text(
        ROOM,
        "Encore Fans",
        &member(701, "Ara"),
        "https://spam.example",
        None,
    );

    bot.delete_message(ChatId(ROOM), MessageId(spam))
        .await
        .expect("deleteMessage");
    assert_eq!(tg.deleted_messages(), vec![(ROOM, spam)]);
    assert!(tg.message(ROOM, spam).is_none());
    assert!(matches!(
        bot.delete_message(ChatId(ROOM), MessageId(spam)).await,
        Err(RequestError::Api(ApiError::MessageToDeleteNotFound))
    ));

    // Without administrator rights only the bot's own messages can go.
    let other = tg.push_group_text(ROOM, "Encore Fans", &member(701, "Ara"), "hi", None);
    let own = bot.send_message(ChatId(ROOM), "notice").await.unwrap();
    tg.set_chat_member_status(ROOM, tg.bot_user_id(), MemberStatus::Member);
    assert!(matches!(
        bot.delete_message(ChatId(ROOM), MessageId(other)).await,
        Err(RequestError::Api(ApiError::MessageCantBeDeleted))
    ));
    bot.delete_message(ChatId(ROOM), own.id).await.unwrap();
    assert_eq!(tg.deleted_messages(), vec![(ROOM, spam), (ROOM, own.id.0)]);
}

#[tokio::test]
async fn pins_and_unpins_are_recorded_and_need_rights_but_no_message_budget() {
    let tg = FakeTelegram::start().await;
    let bot = bot_for(&tg);
    let mut announcements = Vec::new();
    for i in 0..20 {
        let message = bot
            .send_message(ChatId(ROOM), format!("Announcement {i}"))
            .await
            .unwrap();
        announcements.push(message.id);
    }
    // The group's 20 messages a minute are used up; pinning is not a message.
    bot.pin_chat_message(ChatId(ROOM), announcements[19])
        .disable_notification(true)
        .await
        .expect("pinChatMessage");
    bot.pin_chat_message(ChatId(ROOM), announcements[0])
        .await
        .unwrap();
    assert_eq!(
        tg.pinned_in(ROOM),
        vec![announcements[19].0, announcements[0].0]
    );
    bot.unpin_chat_message(ChatId(ROOM))
        .message_id(announcements[19])
        .await
        .expect("unpinChatMessage");
    bot.unpin_chat_message(ChatId(ROOM)).await.unwrap();
    assert!(tg.pinned_in(ROOM).is_empty());
    let pins = tg.pins();
    assert_eq!(pins.len(), 4);
    assert!(pins[0].pinned && pins[0].disable_notification);
    assert_eq!(pins[0].message_id, Some(announcements[19].0));
    assert!(!pins[2].pinned);
    assert_eq!(pins[3].message_id, None);
    assert_eq!(tg.violations(), 0);

    assert!(
        bot.pin_chat_message(ChatId(ROOM), MessageId(999))
            .await
            .is_err()
    );
    tg.set_chat_member_status(ROOM, tg.bot_user_id(), MemberStatus::Member);
    assert!(matches!(
        bot.pin_chat_message(ChatId(ROOM), announcements[0]).await,
        Err(RequestError::Api(ApiError::NotEnoughRightsToManagePins))
    ));
    assert_eq!(tg.pins().len(), 4);
}

#[tokio::test]
async fn invite_links_are_unique_parse_as_chat_invite_link_and_come_back_in_join_requests() {
    let tg = FakeTelegram::start().await;
    let bot = bot_for(&tg);
    let vip = -1_005_555_555_555_i64;

    let link = bot
        .create_chat_invite_link(ChatId(vip))
        .name("VIP 42")
        .creates_join_request(true)
        .await
        .expect("createChatInviteLink");
    assert!(link.invite_link.starts_with("https://t.me/+"));
    assert!(link.creates_join_request);
    assert_eq!(link.name.as_deref(), Some("VIP 42"));
    assert_eq!(link.creator.id.0 as i64, tg.bot_user_id());
    assert!(!link.is_revoked && !link.is_primary);
    let other = bot
        .create_chat_invite_link(ChatId(vip))
        .member_limit(1)
        .await
        .unwrap();
    assert_ne!(other.invite_link, link.invite_link);
    assert_eq!(other.member_limit, Some(1));
    let links = tg.invite_links();
    assert_eq!(links.len(), 2);
    assert_eq!(links[0].invite_link, link.invite_link);
    assert_eq!(links[0].chat_id, vip);
    assert!(links[0].creates_join_request);
    assert_eq!(links[1].member_limit, Some(1));
    // Telegram refuses a member limit on a link that needs approval.
    assert!(
        bot.create_chat_invite_link(ChatId(vip))
            .creates_join_request(true)
            .member_limit(1)
            .await
            .is_err()
    );

    let fan = member(701, "Ara");
    let id = tg.push_join_request(vip, "Encore VIP", &fan, &link.invite_link);
    let updates = bot.get_updates().await.unwrap();
    assert_eq!(updates.len(), 1);
    assert_eq!(updates[0].id.0, id);
    let UpdateKind::ChatJoinRequest(request) = &updates[0].kind else {
        panic!("{:?}", updates[0].kind)
    };
    assert_eq!(request.chat.id, ChatId(vip));
    assert_eq!(request.from.id, UserId(701));
    assert_eq!(request.user_chat_id, ChatId(701));
    let came_through = request.invite_link.as_ref().expect("invite_link");
    assert_eq!(came_through.invite_link, link.invite_link);
    assert_eq!(came_through.name.as_deref(), Some("VIP 42"));
    assert_eq!(came_through.pending_join_request_count, Some(1));
}

#[tokio::test]
async fn approving_a_join_request_makes_a_member_and_declining_does_not() {
    let tg = FakeTelegram::start().await;
    let bot = bot_for(&tg);
    let vip = -1_005_555_555_555_i64;
    let link = bot
        .create_chat_invite_link(ChatId(vip))
        .creates_join_request(true)
        .await
        .unwrap();
    tg.set_chat_member_status(vip, 701, MemberStatus::Left);
    tg.set_chat_member_status(vip, 702, MemberStatus::Left);
    tg.push_join_request(vip, "Encore VIP", &member(701, "Ara"), &link.invite_link);
    tg.push_join_request(vip, "Encore VIP", &member(702, "Bo"), &link.invite_link);

    bot.approve_chat_join_request(ChatId(vip), UserId(701))
        .await
        .expect("approveChatJoinRequest");
    bot.decline_chat_join_request(ChatId(vip), UserId(702))
        .await
        .expect("declineChatJoinRequest");
    assert_eq!(
        tg.join_request_decisions(),
        vec![(vip, 701, true), (vip, 702, false)]
    );
    assert!(
        bot.get_chat_member(ChatId(vip), UserId(701))
            .await
            .unwrap()
            .is_member()
    );
    assert!(
        bot.get_chat_member(ChatId(vip), UserId(702))
            .await
            .unwrap()
            .is_left()
    );
    // A request can be decided once; there is none for a stranger.
    assert!(
        bot.approve_chat_join_request(ChatId(vip), UserId(702))
            .await
            .is_err()
    );
    assert!(
        bot.approve_chat_join_request(ChatId(vip), UserId(703))
            .await
            .is_err()
    );
    assert_eq!(tg.join_request_decisions().len(), 2);

    // The approval produces the member update Telegram sends (to those who ask for it).
    let updates = bot
        .get_updates()
        .allowed_updates([AllowedUpdate::ChatMember, AllowedUpdate::ChatJoinRequest])
        .await
        .unwrap();
    let kinds: Vec<_> = updates
        .iter()
        .map(|u| match &u.kind {
            UpdateKind::ChatJoinRequest(r) => ("join_request", r.from.id.0),
            UpdateKind::ChatMember(m) => ("chat_member", m.new_chat_member.user.id.0),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        kinds,
        vec![
            ("join_request", 701),
            ("join_request", 702),
            ("chat_member", 701)
        ]
    );
    let UpdateKind::ChatMember(approved) = &updates[2].kind else {
        unreachable!()
    };
    assert!(approved.via_join_request);
    assert!(approved.new_chat_member.is_member());
}

#[tokio::test]
async fn join_requests_are_not_delivered_when_allowed_updates_leaves_them_out() {
    let tg = FakeTelegram::start().await;
    let bot = bot_for(&tg);
    tg.push_join_request(
        ROOM,
        "Encore VIP",
        &member(701, "Ara"),
        "https://t.me/+elsewhere",
    );
    let updates = bot
        .get_updates()
        .allowed_updates([AllowedUpdate::Message])
        .await
        .unwrap();
    assert!(updates.is_empty());
    tg.push_join_request(
        ROOM,
        "Encore VIP",
        &member(702, "Bo"),
        "https://t.me/+elsewhere",
    );
    let updates = bot
        .get_updates()
        .allowed_updates([AllowedUpdate::ChatJoinRequest])
        .await
        .unwrap();
    assert_eq!(updates.len(), 1);
    let UpdateKind::ChatJoinRequest(request) = &updates[0].kind else {
        panic!("{:?}", updates[0].kind)
    };
    let link = request.invite_link.as_ref().unwrap();
    assert_eq!(link.invite_link, "https://t.me/+elsewhere");
    assert_ne!(link.creator.id.0 as i64, tg.bot_user_id());
}

#[tokio::test]
async fn get_chat_administrators_lists_the_bot_and_the_administrators_set() {
    let tg = FakeTelegram::start().await;
    let bot = bot_for(&tg);
    tg.set_chat_member_status(ROOM, 42, MemberStatus::Creator);
    tg.set_chat_member_status(ROOM, 43, MemberStatus::Administrator);
    tg.set_chat_member_status(ROOM, 44, MemberStatus::Member);

    let admins = bot
        .get_chat_administrators(ChatId(ROOM))
        .await
        .expect("getChatAdministrators");
    let ids: Vec<i64> = admins.iter().map(|a| a.user.id.0 as i64).collect();
    assert_eq!(ids, vec![tg.bot_user_id(), 42, 43]);
    assert!(admins[0].can_restrict_members());
    assert!(admins[1].is_owner());

    tg.set_chat_member_status(ROOM, tg.bot_user_id(), MemberStatus::Member);
    let admins = bot.get_chat_administrators(ChatId(ROOM)).await.unwrap();
    assert_eq!(admins.len(), 2);
    assert!(bot.get_chat_administrators(ChatId(5)).await.is_err());
    let logged: Vec<String> = tg
        .requests()
        .into_iter()
        .map(|r| r.method)
        .filter(|m| m == "getChatAdministrators")
        .collect();
    assert_eq!(logged.len(), 3);
}

#[tokio::test]
async fn polls_are_anonymous_unless_asked_and_only_answers_to_open_named_polls_are_delivered() {
    use teloxide::types::InputPollOption;
    let tg = FakeTelegram::start().await;
    let bot = bot_for(&tg);
    let options = || ["코트", "니트"].map(InputPollOption::new);

    let anonymous = bot
        .send_poll(ChatId(-1002), "어느 쪽?", options())
        .await
        .expect("sendPoll");
    assert!(anonymous.poll().expect("a poll").is_anonymous);
    let named = bot
        .send_poll(ChatId(-1002), "어느 쪽?", options())
        .is_anonymous(false)
        .await
        .expect("sendPoll");
    let poll = named.poll().expect("a poll");
    assert!(!poll.is_anonymous);
    assert_eq!(poll.options.len(), 2);
    let polls = tg.polls_in(-1002);
    assert_eq!(polls.len(), 2);
    assert!(
        polls[0].is_anonymous,
        "anonymous unless the bot says otherwise"
    );
    assert_eq!(polls[1].poll_id, poll.id.0);
    assert_eq!(tg.sent_to(-1002).len(), 2, "a poll is a message sent");

    let voter = viewer(7);
    assert_eq!(tg.push_poll_answer(&voter, &polls[0].poll_id, &[0]), None);
    assert!(tg.push_poll_answer(&voter, &poll.id.0, &[1]).is_some());
    let updates = bot
        .get_updates()
        .allowed_updates([AllowedUpdate::PollAnswer])
        .await
        .expect("getUpdates");
    let answer = match &updates[0].kind {
        UpdateKind::PollAnswer(answer) => answer.clone(),
        other => panic!("not a poll answer: {other:?}"),
    };
    assert_eq!(
        (answer.poll_id.0.as_str(), answer.option_ids),
        (poll.id.0.as_str(), vec![1])
    );

    let stopped = bot
        .stop_poll(ChatId(-1002), named.id)
        .await
        .expect("stopPoll");
    assert!(stopped.is_closed);
    assert!(matches!(
        bot.stop_poll(ChatId(-1002), named.id).await,
        Err(RequestError::Api(ApiError::PollHasAlreadyClosed))
    ));
    assert_eq!(
        tg.push_poll_answer(&voter, &poll.id.0, &[0]),
        None,
        "closed"
    );
    assert!(
        bot.send_poll(ChatId(-1002), "하나뿐?", [InputPollOption::new("코트")])
            .await
            .is_err(),
        "a poll needs two options"
    );
}
