//! `encore-bench import [--rows 100000]` (issue #11): a big order CSV imported by `encore import
//! orders` (a child process, as a host runs it) while `serve` runs (an in-process `RunningApp`
//! against the Telegram stand-in) and a viewer sends `/help` every second. Reports the reply
//! times during the import (p50/p99/max; target p99 under 2 s), the import's wall time, and the
//! import process's peak resident memory (VmHWM, polled from `/proc/<pid>/status`). Needs the
//! `encore` binary built next to `encore-bench` (`cargo build --bins`).

use std::io::Write;
use std::time::{Duration, Instant};

use secrecy::SecretString;

use encore::app::RunningApp;
use encore::config::{Config, TelegramConfig};

use super::telegram::{self, FakeTelegram};
use super::{TempDir, row, verdict};

/// The probes' private chats.
const FIRST_PROBE_CHAT_ID: i64 = 900_000_000;
const TARGET_P99: Duration = Duration::from_secs(2);

pub async fn import_bench(rows: usize) {
    let dir = TempDir::new("import");
    let db_url = dir.sqlite_url("import.db");
    let tg = FakeTelegram::start().await;
    let mut config = Config::default();
    config.database.url = db_url.clone();
    config.http.listen = "127.0.0.1:0".to_string();
    config.telegram = Some(TelegramConfig {
        token: SecretString::from(telegram::TOKEN),
        api_url: tg.api_url(),
        ..TelegramConfig::default()
    });
    let app = RunningApp::start(config)
        .await
        .expect("the encore app did not start");

    let csv_path = dir.path.join("orders.csv");
    write_orders(&csv_path, rows);
    let config_path = dir.path.join("cli.toml");
    std::fs::write(&config_path, format!("[database]\nurl = \"{db_url}\"\n"))
        .expect("write the CLI configuration");
    let encore_bin = super::processes::encore_exe();
    eprintln!("import: {rows} rows while a viewer sends /help every second…");
    let started = Instant::now();
    let mut child = std::process::Command::new(&encore_bin)
        .arg("--config")
        .arg(&config_path)
        .args(["import", "orders"])
        .arg(&csv_path)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start encore import");
    let pid = child.id();

    let mut latencies = Vec::new();
    let mut unanswered = 0usize;
    let mut peak_kb = 0u64;
    let mut probe = 0i64;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for the import") {
            break status;
        }
        peak_kb = peak_kb.max(child_kb(pid, "VmHWM"));
        let chat = FIRST_PROBE_CHAT_ID + probe;
        probe += 1;
        let user = telegram::TgUser::new(chat, "Probe").with_language("ko");
        let pushed = Instant::now();
        tg.push_private_text(&user, "/help");
        let answered = tg
            .wait_until(Duration::from_secs(30), |tg| !tg.sent_to(chat).is_empty())
            .await;
        match (answered, tg.sent_to(chat).first()) {
            (true, Some(reply)) => latencies.push(reply.at.duration_since(pushed)),
            _ => unanswered += 1,
        }
        peak_kb = peak_kb.max(child_kb(pid, "VmHWM"));
        tokio::time::sleep(Duration::from_secs(1).saturating_sub(pushed.elapsed())).await;
    };
    let import_time = started.elapsed();
    let output = child.wait_with_output().expect("import output");
    assert!(
        status.success(),
        "the import failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let imported: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM orders")
        .fetch_one(app.ctx.store.pool_for_tests())
        .await
        .expect("count the orders");

    latencies.sort();
    let at = |q: f64| -> Duration {
        if latencies.is_empty() {
            return Duration::ZERO;
        }
        let i = ((latencies.len() as f64 * q).ceil() as usize).clamp(1, latencies.len()) - 1;
        latencies[i]
    };
    let ms = |d: Duration| format!("{:.0} ms", d.as_secs_f64() * 1000.0);
    println!("import: {rows} order rows imported beside a running serve (issue #11)");
    row(
        "imported",
        format!(
            "{imported} orders ({})",
            String::from_utf8_lossy(&output.stdout).trim()
        ),
    );
    row("import time", format!("{:.1} s", import_time.as_secs_f64()));
    row(
        "import peak RSS",
        format!("{:.1} MB", super::kb_to_mb(peak_kb)),
    );
    row(
        "/help probes",
        format!("{} answered, {unanswered} not within 30 s", latencies.len()),
    );
    row("reply p50", ms(at(0.50)));
    row("reply p99", ms(at(0.99)));
    row("reply max", ms(at(1.0)));
    row(
        "target",
        format!(
            "p99 < 2000 ms: {}",
            verdict(unanswered == 0 && at(0.99) < TARGET_P99 && imported == rows as i64)
        ),
    );
    row("429s (violations)", tg.violations().to_string());
    app.stop().await.expect("the app stops");
}

/// `rows` orders of distinct customers, as a shop's export would have them.
fn write_orders(path: &std::path::Path, rows: usize) {
    let file = std::fs::File::create(path).expect("create the CSV");
    let mut out = std::io::BufWriter::new(file);
    writeln!(
        out,
        "order_id,customer_id,customer_name,broadcast_id,status,total,currency,placed_at,locale,items"
    )
    .expect("write the CSV");
    for i in 0..rows {
        writeln!(
            out,
            "o-{i},c-{i},구매자 {i},b-import,paid,39000,KRW,2026-11-20T20:15:00+09:00,ko,S{}:울 코트:outer:1:39000",
            i % 50
        )
        .expect("write the CSV");
    }
    out.flush().expect("write the CSV");
}

/// A `Vm*:` line of the child's `/proc/<pid>/status`, in kB (0 once it has exited).
fn child_kb(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|line| {
            let rest = line.strip_prefix(field)?.strip_prefix(':')?;
            rest.trim().trim_end_matches("kB").trim().parse().ok()
        })
        .unwrap_or(0)
}
