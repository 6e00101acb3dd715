//! `kill -9` of `encore serve` in the middle of a 500-message send, then a restart: every buyer
//! ends up with exactly one thank-you, except at most the few on the wire at the kill (issue #2,
//! acceptance 4). Runs the real binary as the shop would.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::support::app::{ADMIN, SECRET, post_events_to, seed_linked_buyers};
use crate::support::telegram::{FakeTelegram, TOKEN};

const BUYERS: usize = 500;
const FIRST_USER: i64 = 90_000;

fn serve(dir: &std::path::Path, db_url: &str, api_url: &str, port: u16) -> Child {
    Command::new(env!("CARGO_BIN_EXE_encore"))
        .arg("serve")
        .current_dir(dir)
        .env("ENCORE_DATABASE_URL", db_url)
        .env("ENCORE_HTTP_LISTEN", format!("127.0.0.1:{port}"))
        .env("ENCORE_HTTP_WEBHOOK_SECRET", SECRET)
        .env("ENCORE_HTTP_ADMIN_TOKEN", ADMIN)
        .env("ENCORE_TELEGRAM_TOKEN", TOKEN)
        .env("ENCORE_TELEGRAM_API_URL", api_url)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("encore serve starts")
}

async fn wait_healthy(port: u16) {
    let client = reqwest::Client::new();
    for _ in 0..200 {
        if let Ok(r) = client
            .get(format!("http://127.0.0.1:{port}/healthz"))
            .send()
            .await
            && r.status().is_success()
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("encore serve did not become healthy");
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kill_9_mid_send_then_a_restart_thanks_every_buyer_once() {
    let tg = FakeTelegram::start().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let db_url = encore::store::database_url_for_tests(dir.path()).await;
    let store = encore::store::Store::open_and_migrate(&db_url)
        .await
        .expect("store");
    seed_linked_buyers(&store, "b-crash", BUYERS, FIRST_USER).await;
    store.close().await;

    let port = free_port();
    let mut first = serve(dir.path(), &db_url, &tg.api_url(), port);
    wait_healthy(port).await;
    let end = serde_json::json!({"id": "end", "type": "broadcast.ended",
        "occurred_at": chrono::Utc::now().to_rfc3339(), "broadcast": {"id": "b-crash"}});
    assert_eq!(
        post_events_to(&format!("http://127.0.0.1:{port}"), &[end]).await,
        202
    );

    assert!(
        tg.wait_for_sent(200, Duration::from_secs(60)).await,
        "the send got going"
    );
    first.kill().expect("kill -9");
    first.wait().expect("reaped");
    let at_kill = tg.sent().len();
    assert!(at_kill < BUYERS, "killed in the middle ({at_kill} sent)");

    let port = free_port();
    let mut second = serve(dir.path(), &db_url, &tg.api_url(), port);
    wait_healthy(port).await;
    let chats: Vec<i64> = (0..BUYERS as i64).map(|i| FIRST_USER + i).collect();
    let everyone = tg
        .wait_until(Duration::from_secs(90), |tg| {
            chats.iter().all(|&c| !tg.sent_to(c).is_empty())
        })
        .await;
    assert!(everyone, "every buyer got a thank-you after the restart");
    // `serve` runs in its own process: its outbox, read from the same file, says when it is
    // done (nothing queued, claimed or sending), so a late second copy would be counted.
    let store = encore::store::Store::open(&db_url).await.expect("store");
    let drained = encore::outbox::dispatcher::wait_until_idle(&store, Duration::from_secs(60))
        .await
        .expect("outbox readable");
    store.close().await;
    assert!(drained, "the restarted serve emptied its outbox");
    let twice: Vec<i64> = chats
        .iter()
        .copied()
        .filter(|&c| tg.sent_to(c).len() > 1)
        .collect();
    eprintln!(
        "kill -9 after {at_kill} of {BUYERS} sends: {} buyer(s) got a second copy",
        twice.len()
    );
    assert!(
        twice.len() <= 3,
        "only messages on the wire at the kill may repeat: {twice:?}"
    );
    assert!(chats.iter().all(|&c| tg.sent_to(c).len() <= 2));
    assert_eq!(tg.violations(), 0);

    // A graceful stop: SIGTERM, in-flight sends finish, exit 0.
    let status = Command::new("kill")
        .args(["-TERM", &second.id().to_string()])
        .status()
        .expect("kill -TERM");
    assert!(status.success());
    let exit = second.wait().expect("exits");
    assert!(exit.success(), "serve exits 0 on SIGTERM: {exit:?}");
}
