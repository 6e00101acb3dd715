//! Roles (CONTRACT §3 `/healthz`, §10): on SQLite a `serve` is the single one; on PostgreSQL
//! several share the database, one leads and the others stand by, a standby takes over within
//! `cluster.lease_seconds` after the leader dies, and a leader that was paused past its lease
//! sends nothing when it resumes.
//!
//! The PostgreSQL tests run against `ENCORE_TEST_POSTGRES_URL` (TestApp gives each test its own
//! database there) and are skipped without it. They use a 3-second lease.

use std::sync::Arc;
use std::time::{Duration, Instant};

use encore::app::RunningApp;
use encore::cluster::Role;
use serde_json::{Value, json};

use crate::support::app::{TELEGRAM_ONLY, TestApp, ended, post_events_to, seed_linked_buyers};

/// `host:pid` of this test process, as `/healthz` names an instance.
fn this_instance() -> String {
    format!(
        "{}:{}",
        encore::store::instances::host_name(),
        std::process::id()
    )
}

async fn health(base: &str) -> (u16, Value) {
    let response = reqwest::get(format!("{base}/healthz"))
        .await
        .expect("healthz answers");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

fn base_of(app: &RunningApp) -> String {
    format!("http://{}", app.http_addr)
}

/// How long until `app`'s `/healthz` says `role` (polled every 50 ms), or `None` after `limit`.
async fn time_until_role(app: &RunningApp, role: Role, limit: Duration) -> Option<Duration> {
    let started = Instant::now();
    while started.elapsed() < limit {
        let (_, body) = health(&base_of(app)).await;
        if body["role"] == json!(role.as_str()) {
            return Some(started.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    None
}

/// Waits (up to `limit`) until each of `count` private chats from `first` has a message.
async fn every_chat_got_one(t: &TestApp, first: i64, count: i64, limit: Duration) -> bool {
    t.tg.wait_until(limit, |tg| {
        (first..first + count).all(|chat| !tg.sent_to(chat).is_empty())
    })
    .await
}

/// The chats from `first` that did not get exactly one message, with how many they got.
fn not_exactly_once(t: &TestApp, first: i64, count: i64) -> Vec<(i64, usize)> {
    (first..first + count)
        .map(|chat| (chat, t.tg.sent_to(chat).len()))
        .filter(|(_, n)| *n != 1)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthz_names_the_role_single_on_sqlite_and_the_instance_by_host_and_pid() {
    let t = TestApp::start().await;
    // The suite runs on PostgreSQL when ENCORE_TEST_POSTGRES_URL is set: a lone serve leads.
    let postgres = t.ctx().store.is_postgres();
    let role = if postgres { "leader" } else { "single" };
    let (status, body) = t.get_admin("/healthz").await;
    assert_eq!(status, 200);
    assert_eq!(
        body,
        json!({"status": "ok", "role": role, "instance": this_instance()})
    );
    let metrics = reqwest::get(format!("{}/metrics", t.base))
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    let instance = this_instance();
    assert!(
        metrics.contains(&format!(
            "encore_role{{worker=\"{instance}\",role=\"{role}\"}} 1"
        )) && metrics.contains(&format!(
            "encore_role{{worker=\"{instance}\",role=\"standby\"}} 0"
        )),
        "{metrics}"
    );
    if postgres {
        return;
    }

    // A second serve on the same file stays out, naming the first; the first is unchanged.
    let refused = match t.start_another().await {
        Ok(_) => panic!("a second serve on one SQLite file must not start"),
        Err(err) => err.to_string(),
    };
    assert!(
        refused.contains("another `encore serve` is running on this database")
            && refused.contains(&format!("pid {}", std::process::id()))
            && refused.contains("10 s after its last heartbeat"),
        "{refused}"
    );
    assert_eq!(t.get_admin("/healthz").await.1["role"], json!("single"));
}

/// A leader on this test's PostgreSQL database with a 3-second lease (the test app) and a
/// second `serve` beside it, standing by; `None` (the test is skipped) without
/// `ENCORE_TEST_POSTGRES_URL`.
async fn leader_and_standby() -> Option<(TestApp, RunningApp)> {
    if std::env::var("ENCORE_TEST_POSTGRES_URL").map_or(true, |url| url.is_empty()) {
        eprintln!("skipped: ENCORE_TEST_POSTGRES_URL is not set");
        return None;
    }
    let t = TestApp::start_with_env(
        TELEGRAM_ONLY,
        Arc::new(encore::clock::SystemClock),
        vec![("ENCORE_CLUSTER_LEASE_SECONDS".into(), "3".into())],
    )
    .await;
    assert!(
        t.ctx().store.is_postgres(),
        "with ENCORE_TEST_POSTGRES_URL set, the test app runs on PostgreSQL"
    );
    let standby = t.start_another().await.expect("a second serve stands by");
    assert_eq!(standby.role(), Role::Standby);
    Some((t, standby))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_serves_on_one_postgresql_database_are_one_leader_and_one_standby() {
    let Some((t, standby)) = leader_and_standby().await else {
        return;
    };
    let (status, leader_health) = t.get_admin("/healthz").await;
    assert_eq!(status, 200);
    assert_eq!(
        leader_health,
        json!({"status": "ok", "role": "leader", "instance": this_instance()})
    );
    assert_eq!(
        health(&base_of(&standby)).await,
        (
            200,
            json!({"status": "ok", "role": "standby", "instance": this_instance()})
        )
    );

    // The standby takes the shop's events; the leader sends what they cause.
    seed_linked_buyers(&t.ctx().store, "b-standby", 3, 71_000).await;
    assert_eq!(
        post_events_to(&base_of(&standby), &[ended("e-standby", "b-standby")]).await,
        202
    );
    assert!(
        every_chat_got_one(&t, 71_000, 3, Duration::from_secs(20)).await,
        "the leader sent the thank-yous of an event the standby took"
    );
    assert!(
        t.app
            .as_ref()
            .expect("leader")
            .settle(Duration::from_secs(30))
            .await
    );
    assert_eq!(not_exactly_once(&t, 71_000, 3), []);
    // Only the leader polls Telegram: no second poller was ever refused.
    assert_eq!(t.tg.get_updates_conflicts(), 0);
    standby.stop().await.expect("the standby stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn when_the_leader_dies_the_standby_leads_within_the_lease_and_sends_each_message_once() {
    let Some((mut t, standby)) = leader_and_standby().await else {
        return;
    };

    // The leader dies: its tasks end where they are, its lease is not released.
    drop(t.app.take());
    let took_over = time_until_role(&standby, Role::Leader, Duration::from_secs(15))
        .await
        .expect("the standby leads");
    // The lease is 3 s; the margin is for a busy test machine answering /healthz.
    assert!(
        took_over <= Duration::from_millis(3_500),
        "took over after {took_over:?}"
    );

    // Enqueued after the takeover: the new leader sends it, once.
    seed_linked_buyers(&standby.ctx.store, "b-takeover", 5, 72_000).await;
    assert_eq!(
        post_events_to(&base_of(&standby), &[ended("e-takeover", "b-takeover")]).await,
        202
    );
    assert!(
        every_chat_got_one(&t, 72_000, 5, Duration::from_secs(20)).await,
        "the new leader thanked every buyer"
    );
    assert!(standby.settle(Duration::from_secs(30)).await);
    assert_eq!(not_exactly_once(&t, 72_000, 5), []);
    assert_eq!(health(&base_of(&standby)).await.1["role"], json!("leader"));
    standby.stop().await.expect("the new leader stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_leader_paused_past_its_lease_sends_nothing_when_it_resumes_and_stands_by() {
    let Some((mut t, standby)) = leader_and_standby().await else {
        return;
    };
    const BUYERS: i64 = 40;
    seed_linked_buyers(&t.ctx().store, "b-pause", BUYERS as usize, 73_000).await;

    // The leader starts thanking (30 a second) and is stopped with messages in its hands:
    // claimed, some marked `sending`, waiting at the last check before the wire.
    encore::ingest::end_broadcast(t.ctx(), "b-pause")
        .await
        .expect("broadcast ended");
    assert!(
        t.tg.wait_until(Duration::from_secs(20), |tg| (73_000..73_000 + BUYERS)
            .any(|chat| !tg.sent_to(chat).is_empty()))
            .await,
        "the leader began sending"
    );
    let paused = t.app.as_ref().expect("leader");
    paused.pause_lease_renewal_for_tests();

    // Its lease runs out; the standby takes over and sends everything, the paused leader's
    // messages included.
    time_until_role(&standby, Role::Leader, Duration::from_secs(15))
        .await
        .expect("the standby leads once the paused leader's lease ran out");
    assert!(
        every_chat_got_one(&t, 73_000, BUYERS, Duration::from_secs(30)).await,
        "every buyer was thanked: {:?}",
        not_exactly_once(&t, 73_000, BUYERS)
    );

    // SIGCONT: the old leader finds its lease gone, sends nothing and says it stands by.
    paused.resume_lease_renewal_for_tests();
    time_until_role(paused, Role::Standby, Duration::from_secs(5))
        .await
        .expect("the resumed leader stands by");
    assert!(standby.settle(Duration::from_secs(30)).await);
    let twice =
        t.tg.wait_until(Duration::from_secs(2), |tg| {
            (73_000..73_000 + BUYERS).any(|chat| tg.sent_to(chat).len() > 1)
        })
        .await;
    assert!(
        !twice,
        "a buyer was thanked twice: {:?}",
        not_exactly_once(&t, 73_000, BUYERS)
    );
    assert_eq!(not_exactly_once(&t, 73_000, BUYERS), []);
    // One poller at a time: the paused leader's last long poll ended within its lease.
    assert_eq!(t.tg.get_updates_conflicts(), 0);
    assert_eq!(
        t.get_admin("/healthz").await.1["role"],
        json!("standby"),
        "the old leader says so"
    );

    standby.stop().await.expect("the new leader stops");
    if let Some(old) = t.app.take() {
        old.stop().await.expect("the old leader stops");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_leader_whose_database_stops_answering_says_standby_soon_after_its_lease_ran_out() {
    use sqlx::Connection;
    let Some((mut t, standby)) = leader_and_standby().await else {
        return;
    };
    // Another session takes the lease's and the heartbeats' tables: every heartbeat, renewal and
    // takeover waits without an answer, as when the database is unreachable.
    let mut blocker = sqlx::postgres::PgConnection::connect(&t.db_url)
        .await
        .expect("a blocking session");
    sqlx::query("BEGIN")
        .execute(&mut blocker)
        .await
        .expect("begin");
    sqlx::query("LOCK TABLE sender_lease, instances IN ACCESS EXCLUSIVE MODE")
        .execute(&mut blocker)
        .await
        .expect("lock");
    let leader = t.app.as_ref().expect("leader");
    let stood_by = time_until_role(leader, Role::Standby, Duration::from_secs(15))
        .await
        .expect("the leader stands by while its renewals get no answer");
    // The lease is 3 s, renewed every 600 ms: it ran out at most 3 s after the lock; the
    // heartbeat and the renewal are each given one heartbeat (600 ms) to answer, and the rest
    // is margin for a busy test machine. Without an answer at all it said `leader` forever.
    assert!(
        stood_by <= Duration::from_millis(6_000),
        "said leader for {stood_by:?} without a renewal"
    );
    sqlx::query("ROLLBACK")
        .execute(&mut blocker)
        .await
        .expect("rollback");
    blocker.close().await.expect("close");
    // The database answers again: one of the two leads.
    let started = Instant::now();
    let mut leading = 0;
    while started.elapsed() < Duration::from_secs(15) {
        let roles = [
            health(&base_of(leader)).await.1["role"].clone(),
            health(&base_of(&standby)).await.1["role"].clone(),
        ];
        leading = roles.iter().filter(|r| **r == json!("leader")).count();
        if leading == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(leading, 1, "one of the two leads again");
    standby.stop().await.expect("the standby stops");
    if let Some(old) = t.app.take() {
        old.stop().await.expect("the old leader stops");
    }
}
