//! What cannot succeed is set aside and the rest flows (issue #11, CONTRACT §1 and §12): an
//! update whose handling fails every time, and a room action the platform refuses for good.
//! `encore deadletters` is run as the host runs it, beside the running app.

use std::process::{Command, Output};
use std::time::Duration;

use serde_json::{Value, json};

use crate::support::app::*;
use crate::support::telegram::{MemberStatus, TgUser};

/// `encore --config <file naming the test database> ARGS`, off the test's runtime (which also
/// runs the app: blocking it would freeze the app mid-write, holding the lock the CLI needs).
async fn encore(t: &TestApp, args: &[&str]) -> Output {
    let config = t.dir.path().join("cli.toml");
    std::fs::write(&config, format!("[database]\nurl = \"{}\"\n", t.db_url)).expect("cli config");
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_encore"))
            .arg("--config")
            .arg(&config)
            .args(&args)
            .env_remove("RUST_LOG")
            .output()
            .expect("encore runs")
    })
    .await
    .expect("encore ran")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

async fn dead_letters(t: &TestApp) -> Vec<Value> {
    let out = encore(t, &["deadletters", "--json"]).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("deadletters --json is a JSON array")
}

/// A write the database refuses for one viewer's replies only: the disk-full or damaged-page
/// kind of fault, which fails every time, for that update and no other.
async fn refuse_replies_to(t: &TestApp, user: &TgUser) {
    let condition = format!("NEW.recipient = 'chat:telegram:{}'", user.id);
    t.refuse_inserts(
        "refuse_replies",
        "outbox",
        &condition,
        "the disk refused this write",
    )
    .await;
}

async fn repair_disk(t: &TestApp) {
    t.allow_inserts("refuse_replies", "outbox").await;
}

#[tokio::test]
async fn an_update_that_fails_every_time_is_set_aside_and_the_next_one_is_answered() {
    let t = TestApp::start().await;
    let unlucky = TgUser::new(7_001, "민지");
    let next = TgUser::new(7_002, "서연");
    refuse_replies_to(&t, &unlucky).await;

    t.tg.push_private_text(&unlucky, "/help");
    t.tg.push_private_text(&next, "/help");
    wait_text(&t.tg, next.id, "무엇을 도와드릴까요").await;
    t.updates_handled().await;

    let letters = dead_letters(&t).await;
    assert_eq!(letters.len(), 1, "{letters:?}");
    let letter = &letters[0];
    assert_eq!(letter["platform"], json!("telegram"));
    assert_eq!(letter["kind"], json!("update"));
    assert!(
        letter["what"].as_str().unwrap_or("").contains("\"/help\""),
        "{letter}"
    );
    assert!(
        letter["why"]
            .as_str()
            .unwrap_or("")
            .contains("the disk refused this write"),
        "{letter}"
    );
    assert!(letter["when"].is_string(), "{letter}");
    let listed = encore(&t, &["deadletters"]).await;
    assert!(
        text(&listed.stdout).contains("the disk refused this write"),
        "{}",
        text(&listed.stdout)
    );

    // While the fault lasts, a retry fails again and the update stays set aside.
    let id = letter["id"].as_str().expect("id").to_string();
    let again = encore(&t, &["deadletters", "retry", &id]).await;
    assert!(!again.status.success());
    assert!(
        text(&again.stderr).contains("failed again"),
        "{}",
        text(&again.stderr)
    );
    assert_eq!(dead_letters(&t).await.len(), 1);

    repair_disk(&t).await;
    let retried = encore(&t, &["deadletters", "retry", &id]).await;
    assert!(retried.status.success(), "{}", text(&retried.stderr));
    assert!(
        text(&retried.stdout).contains("handled again"),
        "{}",
        text(&retried.stdout)
    );
    wait_text(&t.tg, unlucky.id, "무엇을 도와드릴까요").await;
    assert!(
        dead_letters(&t).await.is_empty(),
        "nothing waits after the retry"
    );
    let twice = encore(&t, &["deadletters", "retry", &id]).await;
    assert!(
        text(&twice.stderr).contains("nothing set aside is called"),
        "{}",
        text(&twice.stderr)
    );
    t.settle().await;
    assert_eq!(
        t.tg.sent_to(unlucky.id).len(),
        1,
        "one answer to the retried update"
    );
}

#[tokio::test]
async fn a_pin_without_the_right_is_set_aside_at_once_and_the_rooms_next_message_goes_out() {
    let t = TestApp::start().await;
    // The bot is a plain member of the room: it may post, not pin.
    t.tg.set_chat_member_status(ROOM, t.tg.bot_user_id(), MemberStatus::Member);
    let starts = (chrono::Utc::now() + chrono::Duration::days(1)).to_rfc3339();
    let scheduled = json!({"id": "s-1", "type": "broadcast.scheduled",
        "occurred_at": chrono::Utc::now().to_rfc3339(),
        "broadcast": {"id": "b-9", "title": "겨울 니트 특가", "starts_at": starts, "url": "https://live.example/b-9"}});
    assert_eq!(t.post_events(&[scheduled]).await.0, 202);
    let announcement = wait_text(&t.tg, ROOM, "겨울 니트 특가").await;

    let started = json!({"id": "go-1", "type": "broadcast.started",
        "occurred_at": chrono::Utc::now().to_rfc3339(), "broadcast": {"id": "b-9"}});
    assert_eq!(t.post_events(&[started]).await.0, 202);
    wait_text(&t.tg, ROOM, "지금 라이브").await;
    t.settle().await;
    assert!(t.tg.pinned_in(ROOM).is_empty());

    let letters = dead_letters(&t).await;
    let pin = letters
        .iter()
        .find(|l| l["kind"] == json!("message"))
        .unwrap_or_else(|| panic!("the refused pin is set aside: {letters:?}"));
    assert_eq!(pin["platform"], json!("telegram"));
    assert!(
        pin["why"]
            .as_str()
            .unwrap_or("")
            .contains("not enough rights"),
        "{pin}"
    );

    // Given the right, the host puts it back and the announcement is pinned.
    t.tg.set_chat_member_status(ROOM, t.tg.bot_user_id(), MemberStatus::Administrator);
    let id = pin["id"].as_str().expect("id").to_string();
    let retried = encore(&t, &["deadletters", "retry", &id]).await;
    assert!(retried.status.success(), "{}", text(&retried.stderr));
    let pinned =
        t.tg.wait_until(Duration::from_secs(10), |tg| {
            tg.pinned_in(ROOM).contains(&announcement.message_id)
        })
        .await;
    assert!(pinned, "the retried pin went through");
    assert!(dead_letters(&t).await.is_empty());
    assert_eq!(t.tg.violations(), 0);
}
