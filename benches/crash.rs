//! `encore-bench crash`: N thank-yous, `kill -9` of the `encore serve` child at K random
//! moments, a restart each time (issue #11). It reports what a host must know: lost (must be
//! 0), duplicates against the messages in flight (`sending`) at each kill, and how long each
//! restart took to send again.
//!
//! The Telegram stand-in runs in this process (it survives the kills and keeps every message);
//! `encore serve` and `encore broadcast end` are the real binary next to this one
//! (`cargo build --bin encore --bin encore-bench` builds both).

use std::time::{Duration, Instant};

use rand::Rng;

use super::processes::{ChildEnv, count_sending, counts, kill_9, min_median_max, terminate};
use super::telegram::FakeTelegram;
use super::{BROADCAST, FIRST_CHAT_ID, TempDir, seed_buyers};
use encore::store::Store;

/// What one kill found.
struct Kill {
    /// Messages the stand-in had received when the process died.
    delivered_before: usize,
    /// Rows on the wire (`sending`) at the kill: the most that may arrive twice.
    in_flight: i64,
    /// From the restart to the next message the stand-in received.
    resume: Duration,
    /// When the restart before this kill was spawned.
    spawned: Instant,
}

pub async fn crash_bench(buyers: usize, kills: usize) {
    assert!(
        buyers >= 1 && kills >= 1,
        "--buyers and --kills must be at least 1"
    );
    let dir = TempDir::new("crash");
    let url = dir.sqlite_url("crash.db");
    eprintln!("crash: seeding {buyers} buyers (not measured)…");
    {
        let store = Store::open_and_migrate(&url)
            .await
            .expect("open the database");
        seed_buyers(&store, buyers).await;
        store.close().await;
    }
    let tg = FakeTelegram::start().await;
    let env = ChildEnv::new(&dir.path, &url, &tg.api_url());
    env.end_broadcast(BROADCAST);

    // The send takes buyers / 30 s; the kills are spread over it at random.
    let expected = Duration::from_secs_f64(buyers as f64 / 30.0);
    let mean_gap = expected.as_secs_f64() / (kills as f64 + 1.0);
    let mut rng = rand::rng();
    let started = Instant::now();
    let mut results = Vec::with_capacity(kills);
    for k in 0..kills {
        let before = tg.sent().len();
        let mut serve = env
            .command(&["serve"])
            .spawn()
            .expect("encore serve starts");
        let spawned = Instant::now();
        let resumed = tg
            .wait_until(Duration::from_secs(120), |tg| tg.sent().len() > before)
            .await;
        assert!(resumed, "serve #{k} sent nothing within 120 s");
        let resume = spawned.elapsed();
        let gap = rng.random_range(0.2..(2.0 * mean_gap).max(0.4));
        tokio::time::sleep(Duration::from_secs_f64(gap)).await;
        kill_9(&mut serve);
        let in_flight = count_sending(&url, None).await;
        let delivered_before = tg.sent().len();
        eprintln!(
            "crash: kill {} after {:.1} s: {delivered_before} delivered, {in_flight} in flight, resumed in {:.2} s",
            k + 1,
            gap,
            resume.as_secs_f64()
        );
        results.push(Kill {
            delivered_before,
            in_flight,
            resume,
            spawned,
        });
    }

    // The last restart finishes the send; then it stops gracefully.
    let last_spawned = Instant::now();
    let mut last = env
        .command(&["serve"])
        .spawn()
        .expect("encore serve starts");
    let chats: Vec<i64> = (1..=buyers as i64).map(|i| FIRST_CHAT_ID + i).collect();
    let everyone = tg
        .wait_until(Duration::from_secs(expected.as_secs() * 3 + 120), |tg| {
            // Cheap first: no point counting per chat before enough have arrived.
            tg.sent().len() >= buyers && {
                let per_chat = counts(tg);
                chats.iter().all(|c| per_chat.contains_key(c))
            }
        })
        .await;
    let store = Store::open(&url).await.expect("open the database");
    let drained = encore::outbox::dispatcher::wait_until_idle(&store, Duration::from_secs(120))
        .await
        .expect("outbox readable");
    store.close().await;
    let total = started.elapsed();
    terminate(&mut last);

    let per_chat = counts(&tg);
    let lost = chats.iter().filter(|c| !per_chat.contains_key(c)).count();
    let duplicates: usize = per_chat.values().map(|n| n.saturating_sub(1)).sum();
    let in_flight: i64 = results.iter().map(|k| k.in_flight).sum();
    let mut resumes: Vec<f64> = results.iter().map(|k| k.resume.as_secs_f64()).collect();
    resumes.sort_by(f64::total_cmp);

    println!("crash: {buyers} thank-yous, kill -9 at {kills} random moments, a restart each time");
    super::row(
        "every buyer reached",
        super::verdict(everyone && drained).to_string(),
    );
    super::row("lost (target 0)", lost.to_string());
    super::row("duplicates", duplicates.to_string());
    super::row("in flight at the kills (bound)", in_flight.to_string());
    super::row(
        "duplicates ≤ in flight",
        super::verdict(duplicates as i64 <= in_flight).to_string(),
    );
    super::row(
        "in flight per kill (min/median/max)",
        min_median_max(
            &results
                .iter()
                .map(|k| k.in_flight as f64)
                .collect::<Vec<_>>(),
            0,
        ),
    );
    super::row(
        "time to resume, s (min/median/max)",
        min_median_max(&resumes, 2),
    );
    super::row(
        "delivered at the kills",
        super::joined(results.iter().map(|k| k.delivered_before)),
    );
    super::row("429s (stand-in violations)", tg.violations().to_string());
    // A 429 right after a restart is the new process meeting its dead predecessor's window;
    // the others are the pacer's own (issue #11's pacing part).
    let restarts: Vec<Instant> = results
        .iter()
        .map(|k| k.spawned)
        .chain([last_spawned])
        .collect();
    let (after_restart, elsewhere): (Vec<_>, Vec<_>) = tg
        .requests()
        .into_iter()
        .filter(|r| r.status == 429)
        .partition(|r| {
            restarts
                .iter()
                .any(|s| r.at >= *s && r.at <= *s + Duration::from_secs(5))
        });
    super::row(
        "429s within 5 s of a restart / elsewhere",
        format!("{} / {}", after_restart.len(), elsewhere.len()),
    );
    super::row("wall time, s", format!("{:.0}", total.as_secs_f64()));
}
