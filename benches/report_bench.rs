//! `encore-bench report [--customers 100000] [--runs 5] [--db sqlite|postgres|both]`: issue #13,
//! point 3. How long the broadcast report (with its `comeback` block) takes at 100,000 customers.
//!
//! Seeding (not timed, set-based SQL): N customers who all bought in `bench-b`, which ended 100
//! days ago; 70% linked to Telegram; the thank-you for each enqueued by the real flow (so the
//! report reads N outbox rows, as after a real live); 45% ordered again on one of nine days
//! between 1 and 95 days after the end; a next live ten days after, watched by a third of them.
//! Then `ANALYZE` (the statistics a database in use has) and `Store::broadcast_report` is timed
//! `runs` times on a warm pool. Target: under 1 s.

use std::time::{Duration, Instant};

use chrono::Utc;

use encore::store::{Store, ts};

use crate::{BROADCAST, TempDir, seed_buyers};

/// The days after the end on which re-orders are seeded (bucket k gets `i % 20 == k`).
const REORDER_DAYS: [i64; 9] = [1, 3, 5, 10, 20, 40, 60, 80, 95];

pub async fn report_bench(customers: usize, runs: usize, engines: &[&str], pg_base: &str) {
    println!("broadcast report at {customers} customers, {runs} runs per database");
    println!(
        "| database | report ms min / median / max | buyers | reordered 7d / 30d / 90d | watched next |"
    );
    println!("|---|---|---|---|---|");
    for engine in engines {
        let dir = TempDir::new("report");
        let url = match *engine {
            "postgres" => encore::store::postgres_schema_for_tests(pg_base).await,
            _ => dir.sqlite_url("report.db"),
        };
        let store = Store::open_and_migrate(&url)
            .await
            .expect("open the database");
        let seeding = Instant::now();
        seed_history(&store, customers).await;
        // A database in use has planner statistics (PostgreSQL's autovacuum gathers them); a
        // freshly bulk-loaded one has none until asked.
        let mut conn = store.conn().await.expect("a connection");
        sqlx::query("ANALYZE")
            .execute(conn.raw_for_tests())
            .await
            .expect("ANALYZE");
        drop(conn);
        eprintln!(
            "{engine}: seeded in {:.1} s",
            seeding.elapsed().as_secs_f64()
        );
        let mut times: Vec<Duration> = Vec::with_capacity(runs);
        let mut last = None;
        for _ in 0..runs {
            let started = Instant::now();
            let report = store
                .broadcast_report(BROADCAST, 24, Utc::now())
                .await
                .expect("the report")
                .expect("the broadcast is known");
            times.push(started.elapsed());
            last = Some(report);
        }
        times.sort();
        let report = last.expect("at least one run");
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        let c = &report.comeback;
        println!(
            "| {engine} | {:.0} / {:.0} / {:.0} | {} | {} / {} / {} | {} |",
            ms(times[0]),
            ms(times[times.len() / 2]),
            ms(times[times.len() - 1]),
            report.buyers,
            c.reordered.within_7_days.count,
            c.reordered.within_30_days.count,
            c.reordered.within_90_days.count,
            c.watched_next_live,
        );
        store.close().await;
    }
}

async fn seed_history(store: &Store, customers: usize) {
    seed_buyers(store, customers).await;
    let end = Utc::now() - chrono::Duration::days(100);
    let n = customers as i64;
    let seq = "WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < $1)";
    let mut tx = store.begin().await.expect("begin");
    let db = tx.raw_for_tests();
    sqlx::query("UPDATE orders SET placed_at = $1, created_at = $1 WHERE broadcast_id = $2")
        .bind(ts(end - chrono::Duration::hours(1)))
        .bind(BROADCAST)
        .execute(&mut *db)
        .await
        .expect("orders placed during the live");
    // 30% never linked.
    sqlx::query("DELETE FROM identities WHERE CAST(SUBSTR(customer_id, 2) AS BIGINT) % 10 < 3")
        .execute(&mut *db)
        .await
        .expect("unlink 30%");
    for (k, days) in REORDER_DAYS.iter().enumerate() {
        sqlx::query(&format!(
            "{seq} INSERT INTO orders (id, customer_id, broadcast_id, total, currency, placed_at,
                                       status, status_at, created_at, updated_at)
             SELECT 'r' || i, 'c' || i, NULL, 19000, 'KRW', $2, 'placed', $2, $2, $2
             FROM seq WHERE i % 20 = {k}"
        ))
        .bind(n)
        .bind(ts(end + chrono::Duration::days(*days)))
        .execute(&mut *db)
        .await
        .expect("re-orders");
    }
    let next_start = end + chrono::Duration::days(10);
    sqlx::query(&format!(
        "{seq} INSERT INTO broadcast_viewers (broadcast_id, customer_id, first_seen_at)
         SELECT 'bench-next', 'c' || i, $2 FROM seq WHERE i % 3 = 0"
    ))
    .bind(n)
    .bind(ts(next_start))
    .execute(&mut *db)
    .await
    .expect("viewers of the next live");
    encore::store::orders::upsert_broadcast(
        &mut tx,
        "bench-next",
        Some("Next live"),
        None,
        None,
        Utc::now(),
    )
    .await
    .expect("the next live");
    encore::store::orders::mark_broadcast_started(&mut tx, "bench-next", next_start)
        .await
        .expect("the next live started");
    encore::flows::after_broadcast::thank_buyers_after_broadcast(
        &encore::config::Config::default(),
        &mut tx,
        BROADCAST,
        Some("Bench live"),
        end,
        Utc::now(),
    )
    .await
    .expect("the thank-yous");
    tx.commit().await.expect("commit the history");
}
