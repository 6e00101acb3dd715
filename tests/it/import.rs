//! The order import beside a running bot (issue #11, CONTRACT §1 and §5): all or nothing as the
//! host sees it, applied in short batches so the bot keeps answering, finished after a stop.

use std::process::{Command, Output};

use crate::support::app::*;
use crate::support::telegram::TgUser;

const HEADER: &str = "order_id,customer_id,customer_name,broadcast_id,status,total,currency,placed_at,locale,items\n";
/// More than one staging batch and several apply batches.
const ROWS: usize = 1_050;

fn orders_csv(rows: usize, first: usize, bad_line: Option<usize>) -> String {
    let mut csv = String::from(HEADER);
    for i in first..first + rows {
        // The header is line 1: row i (from `first`) is on line i - first + 2.
        let total = if Some(i - first + 2) == bad_line {
            "lots"
        } else {
            "39000"
        };
        csv.push_str(&format!(
            "o-{i:04},c-{i:04},구매자{i},b-1,paid,{total},KRW,2026-11-20T20:15:00+09:00,ko,S1:울 코트:outer:1:39000\n"
        ));
    }
    csv
}

/// Off the test's runtime, which also runs the app: a blocked runtime would freeze the app
/// in the middle of a write and the import would wait for its lock.
async fn import(t: &TestApp, csv: &str) -> Output {
    let (dir, db_url, csv) = (
        t.dir.path().to_path_buf(),
        t.db_url.clone(),
        csv.to_string(),
    );
    tokio::task::spawn_blocking(move || import_at(&dir, &db_url, &csv))
        .await
        .expect("import ran")
}

/// `encore import orders` as a host runs it beside `serve`: another process, same database.
fn import_at(dir: &std::path::Path, db_url: &str, csv: &str) -> Output {
    let config = dir.join("cli.toml");
    std::fs::write(&config, format!("[database]\nurl = \"{db_url}\"\n")).expect("cli config");
    let file = dir.join("orders.csv");
    std::fs::write(&file, csv).expect("csv written");
    Command::new(env!("CARGO_BIN_EXE_encore"))
        .arg("--config")
        .arg(&config)
        .args(["import", "orders"])
        .arg(&file)
        .env_remove("RUST_LOG")
        .output()
        .expect("encore runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

async fn count(t: &TestApp, table: &str) -> i64 {
    sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}"))
        .fetch_one(t.ctx().store.pool_for_tests())
        .await
        .expect("count")
}

#[tokio::test]
async fn a_bad_last_row_imports_nothing_and_a_good_file_imports_every_row_while_the_bot_answers() {
    let t = TestApp::start().await;
    let out = import(&t, &orders_csv(ROWS, 1, Some(ROWS + 1))).await;
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(&format!("line {}: `total`", ROWS + 1)),
        "{stderr}"
    );
    assert!(stderr.contains("nothing was imported"), "{stderr}");
    assert_eq!(count(&t, "orders").await, 0, "not one order of the file");
    assert_eq!(count(&t, "import_rows").await, 0, "nothing left staged");

    // The good file goes in while a viewer talks to the bot.
    let csv = orders_csv(ROWS, 1, None);
    let importing = {
        let (dir, db_url) = (t.dir.path().to_path_buf(), t.db_url.clone());
        tokio::task::spawn_blocking(move || import_at(&dir, &db_url, &csv))
    };
    let viewer = TgUser::new(7_101, "하늘");
    t.tg.push_private_text(&viewer, "/help");
    wait_text(&t.tg, viewer.id, "무엇을 도와드릴까요").await;
    let out = importing.await.expect("import finished");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains(&format!("imported {ROWS} row(s): {ROWS} new order(s)")),
        "{}",
        text(&out.stdout)
    );
    assert_eq!(count(&t, "orders").await, ROWS as i64);
    assert_eq!(count(&t, "import_rows").await, 0);
}

#[tokio::test]
async fn an_import_stopped_part_way_is_finished_by_the_next_import() {
    let t = TestApp::start().await;
    // The disk gives out at the 700th order: three batches of 200 are in, the fourth is not.
    t.refuse_inserts(
        "disk_full",
        "orders",
        "NEW.id = 'o-0700'",
        "database or disk is full",
    )
    .await;
    let out = import(&t, &orders_csv(ROWS, 1, None)).await;
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(&format!("the import stopped after 600 of {ROWS} rows")),
        "{stderr}"
    );
    assert!(stderr.contains("database or disk is full"), "{stderr}");
    assert!(
        stderr.contains("Run `encore import orders` again"),
        "{stderr}"
    );
    assert_eq!(count(&t, "orders").await, 600);

    t.allow_inserts("disk_full", "orders").await;
    let out = import(&t, &orders_csv(2, 5_001, None)).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("an earlier import stopped after 600 of 1050 rows"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(count(&t, "orders").await, ROWS as i64 + 2);
    assert_eq!(count(&t, "import_rows").await, 0);
}
