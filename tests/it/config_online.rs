//! `encore config check --online` asks each platform whether the bot has what it needs
//! (CONTRACT §9), against the stand-ins.

use std::process::Command;

use crate::support::discord::{self, FakeDiscord};
use crate::support::telegram::{self, FakeTelegram, MemberStatus};

/// Runs the check off the async runtime (it is a blocking child process).
pub(crate) async fn check_in_background(envs: &[(&'static str, String)]) -> (bool, String) {
    let envs = envs.to_vec();
    tokio::task::spawn_blocking(move || check(&envs))
        .await
        .expect("joined")
}

fn check(envs: &[(&str, String)]) -> (bool, String) {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = Command::new(env!("CARGO_BIN_EXE_encore"))
        .args(["config", "check", "--online"])
        .current_dir(dir.path())
        .envs(envs.iter().map(|(k, v)| (k.to_string(), v.clone())))
        .output()
        .expect("encore runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discord_without_the_message_content_intent_is_reported_with_what_to_do() {
    let dc = FakeDiscord::start().await;
    let envs = [
        ("ENCORE_DISCORD_TOKEN", discord::TOKEN.to_string()),
        ("ENCORE_DISCORD_API_URL", dc.api_url()),
    ];
    let (ok, text) = check_in_background(&envs).await;
    assert!(ok, "{text}");
    assert!(
        text.contains("ok       discord: the MESSAGE_CONTENT intent"),
        "{text}"
    );

    dc.set_application_flags(discord::FLAG_GATEWAY_GUILD_MEMBERS);
    let (ok, text) = check_in_background(&envs).await;
    assert!(!ok, "a missing intent fails the check");
    assert!(
        text.contains("MISSING  discord: the MESSAGE_CONTENT intent"),
        "{text}"
    );
    assert!(text.contains("Privileged Gateway Intents"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn telegram_rights_in_the_staff_chat_are_checked() {
    let tg = FakeTelegram::start().await;
    let envs = [
        ("ENCORE_TELEGRAM_TOKEN", telegram::TOKEN.to_string()),
        ("ENCORE_TELEGRAM_API_URL", tg.api_url()),
        ("ENCORE_TELEGRAM_STAFF_CHAT_ID", "-1001".to_string()),
    ];
    let (ok, text) = check_in_background(&envs).await;
    assert!(ok, "{text}");
    assert!(
        text.contains("ok       telegram: admin in the staff chat"),
        "{text}"
    );

    tg.set_chat_member_status(-1001, tg.bot_user_id(), MemberStatus::Member);
    let (ok, text) = check_in_background(&envs).await;
    assert!(!ok);
    assert!(
        text.contains("MISSING  telegram: admin in the staff chat"),
        "{text}"
    );
}
