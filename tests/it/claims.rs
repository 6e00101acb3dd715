//! Claims with owners and the sender lease (issue #11): a live process never sends again what it
//! put on the wire, however long it waits; one `encore serve` sends per database, while the CLI
//! still works beside it.

use std::collections::BTreeMap;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use encore::domain::keys::IdemKey;
use encore::domain::{Flow, Lane, Lang, Platform};
use encore::outbox::{Envelope, Payload, Recipient, TextArg};

use crate::support::app::{ADMIN, SECRET, STAFF_CHAT, TestApp, WallClock, seed_linked_buyers};
use crate::support::telegram::Fault;

/// A private chat for the message that meets the flood wait.
const VIEWER_CHAT: i64 = 5555;

/// A staff-chat text long enough to go out in two parts.
fn two_part_reply(ticket: i64, chat: i64) -> Envelope {
    let long = "기다려 주셔서 감사합니다 ".repeat(400);
    text_to(ticket, chat, &long)
}

fn text_to(ticket: i64, chat: i64, text: &str) -> Envelope {
    let mut args = BTreeMap::new();
    args.insert("text".to_string(), TextArg::from(text));
    Envelope {
        key: IdemKey::TicketReminder { ticket },
        to: Recipient::Chat {
            platform: Platform::Telegram,
            chat_id: chat.to_string(),
        },
        flow: Flow::TicketReminder,
        lane: Lane::Staff,
        payload: Payload::Text {
            id: "handoff-staff-reply".to_string(),
            args,
            buttons: Vec::new(),
            lang: Some(Lang::Ko),
            reply_to: None,
            photo: None,
        },
        broadcast_id: None,
        expires_at: None,
    }
}

async fn enqueue(t: &TestApp, envelope: Envelope) {
    let ctx = t.ctx();
    let mut tx = ctx.store.begin().await.expect("tx");
    assert!(
        encore::outbox::enqueue(&mut tx, envelope, ctx.clock.now())
            .await
            .expect("enqueue")
    );
    tx.commit().await.expect("commit");
    ctx.outbox.wake().await;
}

async fn state_of(t: &TestApp, ticket: i64) -> String {
    let mut conn = t.ctx().store.conn().await.expect("conn");
    encore::store::outbox::state_of(&mut conn, &IdemKey::TicketReminder { ticket })
        .await
        .expect("state")
        .map(|s| s.to_string())
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_in_a_60_second_flood_wait_half_way_through_its_parts_is_never_sent_again() {
    let clock = WallClock::default();
    let t = TestApp::start_with_clock(Arc::new(clock.clone())).await;

    // 1. A two-part message to the staff group: its first part goes out; the second waits
    //    the group's interval (3 s).
    enqueue(&t, two_part_reply(1, STAFF_CHAT)).await;
    assert!(
        t.tg.wait_until(Duration::from_secs(30), |tg| !tg
            .sent_to(STAFF_CHAT)
            .is_empty())
            .await,
        "the first part went out"
    );
    // 2. Meanwhile a message to a viewer meets a 60-second flood wait: the platform pauses,
    //    and the half-sent message waits it out on the wire.
    t.tg.fail_next(1, Fault::TooManyRequests { retry_after: 60 });
    enqueue(&t, text_to(2, VIEWER_CHAT, "곧 답변드릴게요")).await;
    assert!(
        t.tg.wait_until(Duration::from_secs(30), |tg| tg.scripted_faults() == 1)
            .await,
        "the flood wait began"
    );
    assert_eq!(
        state_of(&t, 1).await,
        "sending",
        "half-way through its parts"
    );

    // 3. The old recovery took back anything claimed more than ten minutes ago.
    clock.advance(chrono::Duration::minutes(11));
    encore::scheduler::tick(t.ctx()).await;
    assert_eq!(
        state_of(&t, 1).await,
        "sending",
        "the live process keeps what it put on the wire"
    );

    // 4. The flood wait ends; everything due is sent; each part arrived exactly once.
    let app = t.app.as_ref().expect("app is running");
    assert!(
        app.settle(Duration::from_secs(150)).await,
        "the dispatcher became idle after the flood wait"
    );
    let staff = t.tg.sent_to(STAFF_CHAT);
    assert_eq!(staff.len(), 2, "two parts, each once: {staff:#?}");
    assert_ne!(staff[0].text, staff[1].text, "the two parts differ");
    assert_eq!(t.tg.sent_to(VIEWER_CHAT).len(), 1, "the held message once");
    assert_eq!(state_of(&t, 1).await, "sent");
    assert_eq!(state_of(&t, 2).await, "sent");
}

fn encore_cli(dir: &std::path::Path, db_url: &str, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_encore"))
        .args(args)
        .current_dir(dir)
        .env_remove("RUST_LOG")
        .env("ENCORE_DATABASE_URL", db_url)
        .env("ENCORE_HTTP_LISTEN", "127.0.0.1:0")
        .env("ENCORE_HTTP_WEBHOOK_SECRET", SECRET)
        .env("ENCORE_HTTP_ADMIN_TOKEN", ADMIN)
        .output()
        .expect("encore runs")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_serve_on_the_same_file_exits_1_naming_the_first_and_the_cli_still_works() {
    let t = TestApp::start().await;
    seed_linked_buyers(&t.ctx().store, "b-lease", 3, 81_000).await;
    let dir = tempfile::tempdir().expect("temp dir");

    // On PostgreSQL a second serve stands by instead (tests/it/cluster.rs).
    if !t.ctx().store.is_postgres() {
        let second = encore_cli(dir.path(), &t.db_url, &["serve"]);
        let stderr = String::from_utf8_lossy(&second.stderr);
        assert_eq!(second.status.code(), Some(1), "{stderr}");
        let line = stderr
            .lines()
            .find(|l| l.starts_with("error:"))
            .expect("a one-line error");
        assert!(
            line.contains(&format!("pid {}", std::process::id()))
                && line.contains(&encore::store::instances::host_name())
                && line.contains("since "),
            "the error names the running serve: {line}"
        );
    }

    // `broadcast end` beside the running serve: the running one sends the thank-yous.
    let ended = encore_cli(dir.path(), &t.db_url, &["broadcast", "end", "b-lease"]);
    assert!(
        ended.status.success(),
        "{}",
        String::from_utf8_lossy(&ended.stderr)
    );
    let thanked =
        t.tg.wait_until(Duration::from_secs(30), |tg| {
            (0..3).all(|i| tg.sent_to(81_000 + i).len() == 1)
        })
        .await;
    assert!(thanked, "the running serve sent what the CLI enqueued");

    // `import` beside it too.
    let csv = dir.path().join("orders.csv");
    std::fs::write(
        &csv,
        "order_id,customer_id,customer_name,broadcast_id,status,total,currency,placed_at,locale,items\n\
         o-x,c-x,김민수,b-other,paid,39000,KRW,2026-11-20T20:15:00+09:00,ko,S1:울 코트:outer:1:39000\n",
    )
    .expect("csv");
    let imported = encore_cli(
        dir.path(),
        &t.db_url,
        &["import", "orders", csv.to_str().expect("utf-8 path")],
    );
    assert!(
        imported.status.success(),
        "{}",
        String::from_utf8_lossy(&imported.stderr)
    );
}
