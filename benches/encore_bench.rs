//! `encore-bench`: the performance figures of issue #2, point 7. A benchmark, not a test: it
//! measures and prints a table; it fails only when the set-up itself breaks.
//!
//! What it measures:
//!
//! * `send [--dms 3000]`: sending throughput against the configured Telegram limit. It starts
//!   the Telegram Bot API stand-in (`tests/it/support/telegram.rs`, real HTTP, Telegram's published
//!   limits enforced with 429) and a real `encore` app (`RunningApp`: dispatcher, pacer, teloxide)
//!   pointed at it, on a temporary SQLite file. It seeds N customers, each linked to their own
//!   private Telegram chat with one order in broadcast `bench-b`, ends the broadcast (the
//!   thank-you flow enqueues N messages) and waits until the stand-in has received all N. It
//!   reports messages per second between the first and the last delivered message (by the
//!   stand-in's arrival times), the ratio to `limits.telegram_per_second`, and the 429s: the
//!   stand-in's `violations()` (requests over a published limit) and every 429 in its request
//!   log. Target: ratio ≥ 0.97, zero 429s.
//! * `enqueue [--buyers 100000]`: the cost of enqueueing the thank-yous after a big broadcast.
//!   It seeds a fresh SQLite file with N linked buyers with one order each (set-based SQL, not
//!   timed), then runs itself again as a child process (`enqueue-child`, so that seeding memory
//!   is not counted) which times `thank_buyers_after_broadcast` in one transaction plus its
//!   commit, checks the outbox holds N rows, and reports its own peak resident memory (VmHWM).
//!   Target: ≤ 2 s, ≤ 150 MB.
//! * `pacer [--sends 600]`: a diagnostic for the send figure. encore's own `Pacer` alone, with no
//!   database, HTTP or stand-in: 16 concurrent waiters (the dispatcher's `max_in_flight`) take
//!   turns for distinct private chats, each holding its global slot for a 2 ms "round trip".
//!   The rate it reaches is the ceiling `send` can reach.
//! * `pacing [--dms 3000 --groups 10 --per-group 20]`: issue #11. N DMs plus messages to
//!   groups, through encore and through teloxide's `Throttle`, each in its own child process
//!   (so each has its own peak RSS) against its own exact-counting Telegram stand-in: ratio to
//!   the bound, 429s, lost, p50/p99 from enqueue to accepted, peak RSS, side by side.
//!   Target: encore 0 429s and at least 0.96 of the bound.
//! * `import [--rows 100000]`: see `benches/import_bench.rs` (issue #11).
//! * `report [--customers 100000]`: the broadcast report with its come-back block, see
//!   `benches/report_bench.rs` (issue #13).
//! * `all`: `send`, `pacer`, `enqueue`, then a summary against the targets.
//! * `crash [--buyers 10000] [--kills 20]`: `kill -9` of a real `encore serve` at random
//!   moments during a send, a restart each time (`benches/crash.rs`).
//!
//! How to run it (release, or the figures mean nothing):
//!
//! ```text
//! cargo run --release --bin encore-bench -- all
//! cargo run --release --bin encore-bench -- send --dms 3000
//! cargo run --release --bin encore-bench -- enqueue --buyers 100000
//! cargo run --release --bin encore-bench -- pacer --sends 600
//! cargo run --release --bin encore-bench -- pacing --dms 3000
//! ```
//!
//! `RUST_LOG` (default `warn,sqlx::query=error`) shows the app's own log on stderr. Linux only for the memory
//! figure (it reads `/proc/self/status`).

#[path = "../tests/it/support/telegram.rs"]
mod telegram;

mod chart_bench;
mod cluster;
mod crash;
mod import_bench;
mod processes;
mod report_bench;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use chrono::Utc;
use clap::{Parser, Subcommand};
use secrecy::SecretString;

use encore::app::RunningApp;
use encore::config::{Config, TelegramConfig};
use encore::domain::events::{OrderItem, OrderRecord};
use encore::domain::{Lane, Platform};
use encore::flows::Effects;
use encore::flows::after_broadcast;
use encore::outbox::pacing::Pacer;
use encore::store::Store;
use encore::store::customers::{self, NewIdentity};
use encore::store::orders;

use telegram::FakeTelegram;

/// The broadcast every seeded order belongs to.
const BROADCAST: &str = "bench-b";
/// Private chat (and user) ids start here: positive, distinct per buyer.
const FIRST_CHAT_ID: i64 = 700_000_000;

/// Targets from issue #2, point 7.
const TARGET_RATIO: f64 = 0.97;
const TARGET_ENQUEUE_SECONDS: f64 = 2.0;
const TARGET_PEAK_MB: f64 = 150.0;

#[derive(Parser)]
#[command(
    name = "encore-bench",
    about = "encore's performance figures: Telegram send rate vs the limit, and enqueue cost after a big broadcast"
)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Send N thank-yous through the Telegram stand-in and measure msgs/s against the limit.
    Send {
        /// How many buyers (one DM each).
        #[arg(long, default_value_t = 3000)]
        dms: usize,
    },
    /// Time and peak memory of enqueueing thank-yous for N buyers (measured in a child process).
    Enqueue {
        /// How many linked buyers with an order in the broadcast.
        #[arg(long, default_value_t = 100_000)]
        buyers: usize,
    },
    /// Diagnostic: encore's pacer alone (no database, no HTTP), concurrent waiters.
    Pacer {
        /// How many turns to take.
        #[arg(long, default_value_t = 600)]
        sends: usize,
        /// The limit a second (default: `limits.telegram_per_second`'s default, 30).
        #[arg(long)]
        rate: Option<u32>,
        /// Waiters taking turns (the dispatcher's `max_in_flight`: 16; 125 at 1000/s).
        #[arg(long, default_value_t = 16)]
        waiters: usize,
        /// How long each turn holds its global slot, as a platform call would.
        #[arg(long, default_value_t = 2)]
        round_trip_ms: u64,
    },
    /// Both benchmarks and the pacer diagnostic, then a summary against the targets.
    All {
        #[arg(long, default_value_t = 3000)]
        dms: usize,
        #[arg(long, default_value_t = 100_000)]
        buyers: usize,
        #[arg(long, default_value_t = 600)]
        sends: usize,
    },
    /// Issue #4: while a bulk thank-you send drains, how long a viewer's `/human` waits for its
    /// acknowledgement (target: under 2 s).
    Latency {
        /// How many thank-yous are draining.
        #[arg(long, default_value_t = 5000)]
        bulk: usize,
        /// How many viewers send `/human`, one a second, during the drain.
        #[arg(long, default_value_t = 10)]
        probes: usize,
    },
    /// Issue #6: one scheduler tick's journey scan over N linked customers (all silent for
    /// 100 days, each with a delivered order): the first tick writes the win-backs and
    /// check-ins, the next finds nothing new to write — the cost every tick pays.
    Journeys {
        #[arg(long, default_value_t = 100_000)]
        customers: usize,
    },
    /// Issue #11: N thank-yous, `kill -9` of the `encore serve` child at K random moments and a
    /// restart each time: lost, duplicates against the messages in flight, time to resume.
    Crash {
        #[arg(long, default_value_t = 10_000)]
        buyers: usize,
        #[arg(long, default_value_t = 20)]
        kills: usize,
    },
    /// Issue #11: an order CSV imported by `encore import orders` while `serve` runs and a
    /// viewer sends `/help` every second: reply p50/p99 (target p99 < 2 s), import time, RSS.
    Import {
        #[arg(long, default_value_t = 100_000)]
        rows: usize,
    },
    /// Issue #13: one broadcast's charts drawn as a PNG, min/median/max over N runs.
    Chart {
        #[arg(long, default_value_t = 20)]
        runs: usize,
        /// Also write the picture here (the README's docs/img/report-chart.png).
        #[arg(long)]
        png: Option<PathBuf>,
    },
    /// Issue #11: N DMs plus messages to groups through encore and through teloxide's
    /// `Throttle`, against an exact-counting stand-in, side by side.
    Pacing {
        #[arg(long, default_value_t = 3000)]
        dms: usize,
        #[arg(long, default_value_t = 10)]
        groups: usize,
        #[arg(long, default_value_t = 20)]
        per_group: usize,
    },
    /// Issue #13: the broadcast report with its come-back block at N customers (target < 1 s).
    Report {
        #[arg(long, default_value_t = 100_000)]
        customers: usize,
        #[arg(long, default_value_t = 5)]
        runs: usize,
        #[arg(long, value_enum, default_value = "both")]
        db: cluster::Engine,
        /// PostgreSQL base URL (default: ENCORE_TEST_POSTGRES_URL, else the local one).
        #[arg(long)]
        pg_url: Option<String>,
    },
    /// Issue #12: the claim rate with a do-nothing sender, W claimer processes, on PostgreSQL
    /// and SQLite; each row must be claimed exactly once.
    Claims {
        /// Claimer counts to measure, comma-separated.
        #[arg(long, value_delimiter = ',', default_value = "1,2,4")]
        workers: Vec<usize>,
        #[arg(long, default_value_t = 20_000)]
        messages: usize,
        #[arg(long, value_enum, default_value = "both")]
        db: cluster::Engine,
        #[arg(long, default_value_t = 3)]
        runs: usize,
        /// PostgreSQL base URL (default: ENCORE_TEST_POSTGRES_URL, else the local one).
        #[arg(long)]
        pg_url: Option<String>,
    },
    /// Issue #12: W `encore serve` processes on one PostgreSQL send N thank-yous against a
    /// stand-in counting `--rate` a second exactly: ratio, 429s, exactly one each, who sent.
    Cluster {
        #[command(flatten)]
        cluster: ClusterFlags,
        #[arg(long, default_value_t = 3)]
        runs: usize,
    },
    /// Issue #12: as `cluster`, then `kill -9` of the leader at 30 % (takeover, lost,
    /// duplicates) and SIGSTOP/SIGCONT of the next leader at 60 % (it must send nothing more).
    Failover {
        #[command(flatten)]
        cluster: ClusterFlags,
    },
    /// Internal: one claimer of `claims`, run as a child process.
    #[command(hide = true)]
    ClaimsChild {
        db_url: String,
        #[arg(long)]
        worker: usize,
        #[arg(long)]
        ids: PathBuf,
    },
    /// Internal: one contender of `pacing` (`encore` or `throttle`), run as a child process.
    #[command(hide = true)]
    PacingChild {
        who: String,
        #[arg(long)]
        dms: usize,
        #[arg(long)]
        groups: usize,
        #[arg(long)]
        per_group: usize,
    },
    /// Internal: the measured half of `enqueue`, run as a child process on a seeded database.
    #[command(hide = true)]
    EnqueueChild {
        /// The seeded database (`sqlite:///…?mode=rwc`).
        db_url: String,
        /// How many thank-yous the outbox must hold afterwards.
        #[arg(long)]
        expect: u64,
    },
}

/// The flags `cluster` and `failover` share.
#[derive(clap::Args)]
struct ClusterFlags {
    #[arg(long, default_value_t = 3)]
    workers: usize,
    #[arg(long, default_value_t = 10_000)]
    messages: usize,
    /// The bot's limit a second: the stand-in counts it exactly and encore is configured
    /// with it (`limits.telegram_per_second`).
    #[arg(long, default_value_t = 1000)]
    rate: u32,
    /// `cluster.lease_seconds` for the processes (default: theirs, 10).
    #[arg(long)]
    lease_seconds: Option<u64>,
    /// Every process under this machine's host name (a `kill -9` takeover is then immediate,
    /// by the dead pid) instead of one host name each (`unshare --uts`, as separate machines).
    #[arg(long)]
    same_host: bool,
    /// PostgreSQL base URL (default: ENCORE_TEST_POSTGRES_URL, else the local one).
    #[arg(long)]
    pg_url: Option<String>,
}

impl ClusterFlags {
    fn args(self) -> cluster::ClusterArgs {
        cluster::ClusterArgs {
            workers: self.workers,
            messages: self.messages,
            rate: self.rate,
            pg: cluster::pg_base(self.pg_url),
            lease_seconds: self.lease_seconds,
            same_host: self.same_host,
        }
    }
}

fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                // sqlx's "slow statement" notes would print the 100k-row INSERT in full.
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,sqlx::query=error")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("cannot build the tokio runtime");
    match cli.command {
        Cmd::Send { dms } => {
            let report = runtime.block_on(send_bench(dms));
            print_send(&report);
        }
        Cmd::Enqueue { buyers } => {
            let report = runtime.block_on(enqueue_bench(buyers));
            print_enqueue(&report);
        }
        Cmd::Pacer {
            sends,
            rate,
            waiters,
            round_trip_ms,
        } => {
            let report = runtime.block_on(pacer_bench(
                sends,
                rate,
                waiters,
                Duration::from_millis(round_trip_ms),
            ));
            print_pacer(&report);
        }
        Cmd::All { dms, buyers, sends } => {
            let send = runtime.block_on(send_bench(dms));
            print_send(&send);
            println!();
            let pacer = runtime.block_on(pacer_bench(sends, None, 16, Duration::from_millis(2)));
            print_pacer(&pacer);
            println!();
            let enqueue = runtime.block_on(enqueue_bench(buyers));
            print_enqueue(&enqueue);
            println!();
            print_summary(&send, &enqueue);
        }
        Cmd::Latency { bulk, probes } => runtime.block_on(latency_bench(bulk, probes)),
        Cmd::Journeys { customers } => runtime.block_on(journeys_bench(customers)),
        Cmd::Report {
            customers,
            runs,
            db,
            pg_url,
        } => {
            let engines: &[&str] = match db {
                cluster::Engine::Sqlite => &["sqlite"],
                cluster::Engine::Postgres => &["postgres"],
                cluster::Engine::Both => &["sqlite", "postgres"],
            };
            runtime.block_on(report_bench::report_bench(
                customers,
                runs,
                engines,
                &cluster::pg_base(pg_url),
            ))
        }
        Cmd::Crash { buyers, kills } => runtime.block_on(crash::crash_bench(buyers, kills)),
        Cmd::Import { rows } => runtime.block_on(import_bench::import_bench(rows)),
        Cmd::Chart { runs, png } => chart_bench::chart_bench(runs, png.as_deref()),
        Cmd::Claims {
            workers,
            messages,
            db,
            runs,
            pg_url,
        } => cluster::claims_bench(
            &runtime,
            &workers,
            messages,
            db,
            runs,
            &cluster::pg_base(pg_url),
        ),
        Cmd::ClaimsChild {
            db_url,
            worker,
            ids,
        } => runtime.block_on(cluster::claims_child(&db_url, worker, &ids)),
        Cmd::Cluster { cluster, runs } => {
            runtime.block_on(cluster::cluster_bench(cluster.args(), runs))
        }
        Cmd::Failover { cluster } => runtime.block_on(cluster::failover_bench(cluster.args())),
        Cmd::EnqueueChild { db_url, expect } => runtime.block_on(enqueue_child(&db_url, expect)),
        Cmd::Pacing {
            dms,
            groups,
            per_group,
        } => pacing_bench(dms, groups, per_group),
        Cmd::PacingChild {
            who,
            dms,
            groups,
            per_group,
        } => runtime.block_on(pacing_child(&who, dms, groups, per_group)),
    }
}

// ---- pacing (issue #11) ----------------------------------------------------------------------

/// Group chat ids of the pacing bench: negative, so both encore and the stand-in treat them
/// as groups (20 a minute each).
const FIRST_GROUP_CHAT_ID: i64 = -1_000_000_100;
/// Target from issue #11.
const TARGET_PACING_RATIO: f64 = 0.96;

/// What one contender's child prints, one `key=value` a line.
#[derive(Default, Clone)]
struct PacingFigures {
    expected: usize,
    accepted: usize,
    lost: usize,
    duplicates: usize,
    violations: usize,
    logged_429s: usize,
    /// First to last accepted message, by the stand-in's clock.
    span_s: f64,
    /// From the enqueue to the last accepted message.
    enqueue_to_last_s: f64,
    p50_ms: f64,
    p99_ms: f64,
    most_in_one_second: usize,
    hwm_kb: u64,
}

impl PacingFigures {
    /// The accepted messages' rate (intervals over the first-to-last span) over the bound: the
    /// stand-in's 30 per second.
    fn ratio(&self, limit: u32) -> f64 {
        if self.accepted < 2 || self.span_s <= 0.0 {
            return 0.0;
        }
        (self.accepted - 1) as f64 / self.span_s / f64::from(limit)
    }

    /// The shortest time the whole send can take at the limit, over the time it took from
    /// the enqueue.
    fn ratio_from_enqueue(&self, limit: u32) -> f64 {
        if self.enqueue_to_last_s <= 0.0 {
            return 0.0;
        }
        (self.expected as f64 / f64::from(limit)) / self.enqueue_to_last_s
    }
}

fn pacing_bench(dms: usize, groups: usize, per_group: usize) {
    let limit = encore::config::LimitsConfig::default().telegram_per_second;
    let mut results = Vec::new();
    for who in ["encore", "throttle"] {
        eprintln!(
            "pacing: {who}: {dms} DMs + {} group messages (about {:.0} s)…",
            groups * per_group,
            (dms + groups * per_group) as f64 / f64::from(limit)
        );
        let exe = std::env::current_exe().expect("where is this executable?");
        let output = Command::new(exe)
            .args([
                "pacing-child",
                who,
                "--dms",
                &dms.to_string(),
                "--groups",
                &groups.to_string(),
                "--per-group",
                &per_group.to_string(),
            ])
            .stderr(std::process::Stdio::inherit())
            .output()
            .expect("could not run the pacing child");
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "the {who} child failed ({}):\n{stdout}",
            output.status
        );
        results.push((who, parse_pacing(&stdout)));
    }
    println!(
        "== pacing: {dms} DMs + {groups} groups × {per_group}, exact-counting stand-in at {limit}/s (issue #11) =="
    );
    println!("  {:<34} {:>22} {:>22}", "", "encore", "teloxide Throttle");
    let line = |label: &str, value: &dyn Fn(&PacingFigures) -> String| {
        println!(
            "  {label:<34} {:>22} {:>22}",
            value(&results[0].1),
            value(&results[1].1)
        );
    };
    line("accepted / expected", &|f| {
        format!("{} / {}", f.accepted, f.expected)
    });
    line("lost / duplicates", &|f| {
        format!("{} / {}", f.lost, f.duplicates)
    });
    line("429s (violations / logged)", &|f| {
        format!("{} / {}", f.violations, f.logged_429s)
    });
    line("first → last accepted", &|f| format!("{:.2} s", f.span_s));
    line("ratio to the bound (rate / 30)", &|f| {
        format!("{:.4}", f.ratio(limit))
    });
    line("enqueue → last accepted", &|f| {
        format!("{:.2} s", f.enqueue_to_last_s)
    });
    line("ratio from the enqueue", &|f| {
        format!("{:.4}", f.ratio_from_enqueue(limit))
    });
    line("enqueue → accepted p50 / p99", &|f| {
        format!("{:.1} s / {:.1} s", f.p50_ms / 1000.0, f.p99_ms / 1000.0)
    });
    line("most accepted in any 1 s", &|f| {
        f.most_in_one_second.to_string()
    });
    line("peak RSS (child, with stand-in)", &|f| {
        format!("{:.1} MB", kb_to_mb(f.hwm_kb))
    });
    let encore = &results[0].1;
    let met = encore.violations == 0
        && encore.logged_429s == 0
        && encore.lost == 0
        && encore.ratio(limit) >= TARGET_PACING_RATIO;
    row(
        "target (encore)",
        format!(
            "0 429s, 0 lost, ratio ≥ {TARGET_PACING_RATIO}: {}",
            verdict(met)
        ),
    );
    println!(
        "  load average: {}",
        std::fs::read_to_string("/proc/loadavg")
            .unwrap_or_default()
            .trim()
    );
}

fn parse_pacing(stdout: &str) -> PacingFigures {
    let f = figures_from!(
        stdout,
        PacingFigures {
            expected,
            accepted,
            lost,
            duplicates,
            violations,
            logged_429s,
            span_s,
            enqueue_to_last_s,
            p50_ms,
            p99_ms,
            most_in_one_second,
            hwm_kb
        }
    );
    assert!(
        f.expected > 0,
        "the pacing child did not report its figures:\n{stdout}"
    );
    f
}

/// The chats of the pacing bench and when each message was enqueued: group messages first
/// (they are enqueued first), then the DMs.
fn pacing_chats(dms: usize, groups: usize, per_group: usize) -> Vec<i64> {
    let mut chats = Vec::with_capacity(dms + groups * per_group);
    for _ in 0..per_group {
        chats.extend((0..groups).map(|g| FIRST_GROUP_CHAT_ID - g as i64));
    }
    chats.extend((0..dms).map(|i| FIRST_CHAT_ID + i as i64));
    chats
}

async fn pacing_child(who: &str, dms: usize, groups: usize, per_group: usize) {
    let tg = FakeTelegram::start().await;
    // Measured, not asserted: the 429s are counted below.
    tg.allow_violations();
    let expected = dms + groups * per_group;
    let limit = encore::config::LimitsConfig::default().telegram_per_second;
    let timeout = Duration::from_secs_f64(3.0 * expected as f64 / f64::from(limit) + 60.0);
    let enqueued_at = match who {
        "encore" => pacing_through_encore(&tg, dms, groups, per_group, timeout).await,
        "throttle" => pacing_through_throttle(&tg, dms, groups, per_group, timeout).await,
        other => panic!("unknown contender {other}: encore or throttle"),
    };
    let hwm_kb = proc_status_kb("VmHWM");
    let sent: Vec<_> = tg
        .sent()
        .into_iter()
        .filter(|m| m.method == "sendMessage")
        .collect();
    let logged_429s = tg.requests().iter().filter(|r| r.status == 429).count();
    let mut arrivals: Vec<Instant> = sent.iter().map(|m| m.at).collect();
    arrivals.sort();
    // Lost: an expected message that never arrived; a duplicate: one more than expected.
    let mut lost = 0;
    let mut duplicates = 0;
    let mut wanted: std::collections::HashMap<i64, usize> = std::collections::HashMap::new();
    for chat in pacing_chats(dms, groups, per_group) {
        *wanted.entry(chat).or_default() += 1;
    }
    let mut got: std::collections::HashMap<i64, usize> = std::collections::HashMap::new();
    for m in &sent {
        *got.entry(m.chat_id).or_default() += 1;
    }
    for (chat, n) in &wanted {
        let arrived = got.get(chat).copied().unwrap_or(0);
        lost += n.saturating_sub(arrived);
        duplicates += arrived.saturating_sub(*n);
    }
    let mut latencies: Vec<Duration> = arrivals
        .iter()
        .map(|at| at.saturating_duration_since(enqueued_at))
        .collect();
    latencies.sort();
    let pick = |q: f64| {
        latencies
            .get(((latencies.len() as f64 - 1.0) * q).round() as usize)
            .copied()
            .unwrap_or_default()
            .as_secs_f64()
            * 1000.0
    };
    let (span, to_last) = match (arrivals.first(), arrivals.last()) {
        (Some(first), Some(last)) => (
            last.duration_since(*first),
            last.saturating_duration_since(enqueued_at),
        ),
        _ => (Duration::ZERO, Duration::ZERO),
    };
    println!("expected={expected}");
    println!("accepted={}", sent.len());
    println!("lost={lost}");
    println!("duplicates={duplicates}");
    println!("violations={}", tg.violations());
    println!("logged_429s={logged_429s}");
    println!("span_s={:.4}", span.as_secs_f64());
    println!("enqueue_to_last_s={:.4}", to_last.as_secs_f64());
    println!("p50_ms={:.1}", pick(0.5));
    println!("p99_ms={:.1}", pick(0.99));
    println!(
        "most_in_one_second={}",
        max_in_window(&arrivals, Duration::from_secs(1))
    );
    println!("hwm_kb={hwm_kb}");
    tg.shutdown().await;
}

/// encore: the DMs are thank-yous (a broadcast ends), the group messages are texts to rooms,
/// all enqueued before the clock starts; the real app sends them. Returns when they were
/// enqueued.
async fn pacing_through_encore(
    tg: &FakeTelegram,
    dms: usize,
    groups: usize,
    per_group: usize,
    timeout: Duration,
) -> Instant {
    use encore::domain::Flow;
    use encore::domain::keys::IdemKey;
    use encore::outbox::{Envelope, Payload, Recipient};

    let dir = TempDir::new("pacing");
    let mut config = Config::default();
    config.database.url = dir.sqlite_url("pacing.db");
    config.http.listen = "127.0.0.1:0".to_string();
    config.telegram = Some(TelegramConfig {
        token: SecretString::from(telegram::TOKEN),
        api_url: tg.api_url(),
        ..TelegramConfig::default()
    });
    let app = RunningApp::start(config)
        .await
        .expect("the encore app did not start");
    let now = Utc::now();
    let mut tx = app.ctx.store.begin().await.expect("begin the seeding");
    for i in 0..dms {
        let chat_id = (FIRST_CHAT_ID + i as i64).to_string();
        seed_linked_buyer(&mut tx, i, &chat_id, true).await;
    }
    tx.commit().await.expect("commit the seeding");
    let mut tx = app
        .ctx
        .store
        .begin()
        .await
        .expect("begin the group messages");
    for k in 0..per_group {
        for g in 0..groups {
            let envelope = Envelope {
                key: IdemKey::Reply {
                    platform: Platform::Telegram,
                    update_id: format!("pacing-{g}-{k}"),
                    n: 0,
                },
                to: Recipient::Chat {
                    platform: Platform::Telegram,
                    chat_id: (FIRST_GROUP_CHAT_ID - g as i64).to_string(),
                },
                flow: Flow::Reply,
                lane: Lane::Bulk,
                payload: Payload::text("help-menu"),
                broadcast_id: None,
                expires_at: None,
            };
            encore::outbox::enqueue(&mut tx, envelope, now)
                .await
                .expect("enqueue a group message");
        }
    }
    tx.commit().await.expect("commit the group messages");
    let enqueued_at = Instant::now();
    let thanked = encore::ingest::end_broadcast(&app.ctx, BROADCAST)
        .await
        .expect("end the broadcast");
    assert_eq!(thanked as usize, dms, "one thank-you per buyer");
    let expected = dms + groups * per_group;
    if !tg.wait_for_sent(expected, timeout).await {
        eprintln!(
            "pacing: encore: only {} of {expected} arrived within {timeout:?}",
            tg.sent().len()
        );
    }
    let _ =
        encore::outbox::dispatcher::wait_until_idle(&app.ctx.store, Duration::from_secs(10)).await;
    if let Err(err) = app.stop().await {
        eprintln!("pacing: the app did not stop cleanly: {err}");
    }
    drop(dir);
    enqueued_at
}

/// teloxide's `Throttle` with its default limits: every message is handed to it at once, as
/// a bot built on it would; a 429 is waited out and the message sent again.
async fn pacing_through_throttle(
    tg: &FakeTelegram,
    dms: usize,
    groups: usize,
    per_group: usize,
    timeout: Duration,
) -> Instant {
    use teloxide::adaptors::throttle::Limits;
    use teloxide::prelude::*;

    let url = reqwest::Url::parse(&tg.api_url()).expect("the stand-in's url");
    let bot = teloxide::Bot::new(telegram::TOKEN)
        .set_api_url(url)
        .throttle(Limits::default());
    let text = "고마워요! 주문하신 울 코트는 준비 중이에요. Thank you for your order.";
    let enqueued_at = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for chat in pacing_chats(dms, groups, per_group) {
        let bot = bot.clone();
        tasks.spawn(async move {
            for _ in 0..20 {
                match bot.send_message(ChatId(chat), text).await {
                    Ok(_) => return,
                    Err(teloxide::RequestError::RetryAfter(wait)) => {
                        tokio::time::sleep(wait.duration()).await
                    }
                    Err(_) => tokio::time::sleep(Duration::from_secs(1)).await,
                }
            }
        });
    }
    let all = async { while tasks.join_next().await.is_some() {} };
    if tokio::time::timeout(timeout, all).await.is_err() {
        eprintln!("pacing: throttle: not done within {timeout:?}");
    }
    enqueued_at
}

// ---- journeys --------------------------------------------------------------------------------

async fn journeys_bench(customers: usize) {
    let dir = TempDir::new("journeys");
    let url = dir.sqlite_url("journeys.db");
    let store = Store::open_and_migrate(&url)
        .await
        .expect("open the journeys database");
    eprintln!("journeys: seeding {customers} linked customers (not measured)…");
    seed_buyers(&store, customers).await;
    let now = Utc::now();
    let long_ago = |days: i64| encore::store::ts(now - chrono::Duration::days(days));
    let mut tx = store.begin().await.expect("begin");
    for (sql, value) in [
        ("UPDATE identities SET linked_at = $1", long_ago(200)),
        ("UPDATE identities SET last_seen_at = $1", long_ago(150)),
        ("UPDATE orders SET placed_at = $1", long_ago(140)),
        ("UPDATE orders SET status = 'delivered', status_at = $1", long_ago(100)),
        (
            "INSERT INTO consents (customer_id, purpose, granted, given_at, source, wording, method, recorded_at)
             SELECT id, 'marketing', TRUE, $1, 'bench', 'bench', 'shop_record', $1 FROM customers",
            long_ago(190),
        ),
    ] {
        sqlx::query(sql)
            .bind(value)
            .execute(tx.raw_for_tests())
            .await
            .expect("age the seeded data");
    }
    tx.commit().await.expect("commit");
    sqlx::query("ANALYZE")
        .execute(store.pool_for_tests())
        .await
        .expect("analyze");
    let mut config = Config::default();
    config.database.url = url.clone();
    let texts = Arc::new(encore::i18n::Texts::load().expect("texts"));
    let ctx = encore::context::AppContext::new(
        config,
        store.clone(),
        Arc::new(encore::clock::SystemClock),
        texts,
    );
    for pass in ["first tick (writes)", "next tick (nothing new)"] {
        let started = Instant::now();
        let written = encore::flows::journeys::enqueue_due(&ctx, now)
            .await
            .expect("journeys tick");
        println!(
            "journeys over {customers} customers, {pass}: {written} message(s) written in {:.2} s",
            started.elapsed().as_secs_f64()
        );
    }
    store.close().await;
    drop(dir);
}

// ---- latency ---------------------------------------------------------------------------------

/// Staff chat of the latency bench: the ticket cards go there.
const STAFF_CHAT_ID: i64 = -1_001;
/// The probes' chats, apart from the buyers'.
const FIRST_PROBE_CHAT_ID: i64 = 800_000_000;

async fn latency_bench(bulk: usize, probes: usize) {
    let dir = TempDir::new("latency");
    let tg = FakeTelegram::start().await;
    // Measured, not asserted: the 429s are reported below.
    tg.allow_violations();
    let mut config = Config::default();
    config.database.url = dir.sqlite_url("latency.db");
    config.http.listen = "127.0.0.1:0".to_string();
    config.telegram = Some(TelegramConfig {
        token: SecretString::from(telegram::TOKEN),
        api_url: tg.api_url(),
        staff_chat_id: Some(STAFF_CHAT_ID),
        ..TelegramConfig::default()
    });
    eprintln!("latency: {probes} x /human while {bulk} thank-yous drain…");
    let app = RunningApp::start(config)
        .await
        .expect("the encore app did not start");
    let mut tx = app.ctx.store.begin().await.expect("begin the seeding");
    for i in 0..bulk + probes {
        let chat_id = if i < bulk {
            FIRST_CHAT_ID + i as i64
        } else {
            FIRST_PROBE_CHAT_ID + (i - bulk) as i64
        }
        .to_string();
        seed_linked_buyer(&mut tx, i, &chat_id, i < bulk).await;
    }
    tx.commit().await.expect("commit the seeding");
    encore::ingest::end_broadcast(&app.ctx, BROADCAST)
        .await
        .expect("end the broadcast");
    assert!(
        tg.wait_for_sent(100, Duration::from_secs(60)).await,
        "the bulk send started"
    );

    let mut latencies = Vec::new();
    for k in 0..probes {
        let chat = FIRST_PROBE_CHAT_ID + k as i64;
        let user = telegram::TgUser::new(chat, "Probe").with_language("ko");
        let pushed = Instant::now();
        tg.push_private_text(&user, "/human");
        let answered = tg
            .wait_until(Duration::from_secs(30), |tg| !tg.sent_to(chat).is_empty())
            .await;
        let reply = tg.sent_to(chat);
        match (answered, reply.first()) {
            (true, Some(first)) => latencies.push(first.at.duration_since(pushed)),
            _ => eprintln!("latency: probe {k} got no acknowledgement within 30 s"),
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    let drained = tg
        .sent()
        .iter()
        .filter(|m| m.chat_id >= FIRST_CHAT_ID && m.chat_id < FIRST_CHAT_ID + bulk as i64)
        .count();
    latencies.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let median = latencies
        .get(latencies.len() / 2)
        .copied()
        .unwrap_or_default();
    let max = latencies.last().copied().unwrap_or_default();
    println!("latency: /human acknowledged while a bulk send drains (issue #4)");
    row("bulk thank-yous queued", bulk.to_string());
    row(
        "bulk delivered when the probes ended",
        format!("{drained} (still draining: {})", drained < bulk),
    );
    row(
        "probes answered",
        format!("{} of {probes}", latencies.len()),
    );
    row("median", format!("{:.0} ms", ms(median)));
    row("max", format!("{:.0} ms", ms(max)));
    row(
        "target",
        format!(
            "< 2000 ms: {}",
            verdict(latencies.len() == probes && max < Duration::from_secs(2))
        ),
    );
    row("429s (violations)", tg.violations().to_string());
    app.stop().await.expect("the app stops");
}

/// Customer `c<i>`, linked to Telegram chat `chat_id`, with one order in the broadcast when
/// `buys`. Seeded silently: nothing is sent before the broadcast ends.
async fn seed_linked_buyer(tx: &mut encore::store::Conn, i: usize, chat_id: &str, buys: bool) {
    let now = Utc::now();
    let customer_id = format!("c{i}");
    customers::upsert_customer(
        tx,
        &customer_id,
        &format!("Buyer {i}"),
        Some("ko"),
        None,
        now,
    )
    .await
    .expect("seed a customer");
    customers::link_identity(
        tx,
        &customer_id,
        &NewIdentity {
            platform: Platform::Telegram,
            user_id: chat_id,
            chat_id,
            display_name: Some("Buyer"),
            platform_lang: Some("ko"),
        },
        now,
    )
    .await
    .expect("seed an identity");
    if buys {
        after_broadcast::order_placed(
            &Config::default(),
            tx,
            &order_record(i),
            now,
            Effects::Silent,
            now,
        )
        .await
        .expect("seed an order");
    }
}

// ---- send ------------------------------------------------------------------------------------

struct SendReport {
    dms: usize,
    limit: u32,
    seed: Duration,
    enqueued: u64,
    delivered: usize,
    distinct_chats: usize,
    /// From the first to the last delivered message, by the stand-in's arrival times.
    span: Duration,
    /// From `end_broadcast` returning to the first / last delivered message.
    first_after_end: Duration,
    last_after_end: Duration,
    /// The most messages that arrived within any one second.
    max_in_one_second: usize,
    /// The most within any 950 ms: a stricter look than the stand-in's exact 1 s window.
    max_in_standin_window: usize,
    intervals: Intervals,
    violations: usize,
    logged_429s: usize,
    rate_limited_counter: i64,
    /// Outbox rows by final state.
    states: Vec<(String, i64)>,
}

impl SendReport {
    /// Messages per second: intervals between the first and the last message over that span.
    fn rate(&self) -> f64 {
        if self.delivered < 2 || self.span.is_zero() {
            return 0.0;
        }
        (self.delivered - 1) as f64 / self.span.as_secs_f64()
    }

    fn ratio(&self) -> f64 {
        self.rate() / f64::from(self.limit)
    }

    fn met(&self) -> bool {
        self.delivered == self.dms
            && self.ratio() >= TARGET_RATIO
            && self.violations == 0
            && self.logged_429s == 0
    }
}

async fn send_bench(dms: usize) -> SendReport {
    assert!(dms >= 2, "--dms must be at least 2 to measure a rate");
    let dir = TempDir::new("send");
    let tg = FakeTelegram::start().await;
    // Measured, not asserted: the 429s are reported below.
    tg.allow_violations();

    let mut config = Config::default();
    config.database.url = dir.sqlite_url("send.db");
    config.http.listen = "127.0.0.1:0".to_string();
    config.telegram = Some(TelegramConfig {
        token: SecretString::from(telegram::TOKEN),
        api_url: tg.api_url(),
        ..TelegramConfig::default()
    });
    let limit = config.limits.telegram_per_second;
    eprintln!(
        "send: {dms} DMs through the Telegram stand-in at {limit}/s (about {:.0} s)…",
        dms as f64 / f64::from(limit)
    );
    let app = RunningApp::start(config)
        .await
        .expect("the encore app did not start");

    // Seed through the store, in one transaction: customers, their Telegram identities and one
    // order each in the broadcast. Silent: nothing is sent before the broadcast ends.
    let seed_started = Instant::now();
    let mut tx = app.ctx.store.begin().await.expect("begin the seeding");
    for i in 0..dms {
        let chat_id = (FIRST_CHAT_ID + i as i64).to_string();
        seed_linked_buyer(&mut tx, i, &chat_id, true).await;
    }
    tx.commit().await.expect("commit the seeding");
    let seed = seed_started.elapsed();

    let enqueued = encore::ingest::end_broadcast(&app.ctx, BROADCAST)
        .await
        .expect("end the broadcast");
    let end_returned = Instant::now();
    assert_eq!(
        enqueued as usize, dms,
        "ending the broadcast should enqueue one thank-you per buyer"
    );

    // Generous: twice the ideal time plus a minute.
    let timeout = Duration::from_secs_f64(2.0 * dms as f64 / f64::from(limit) + 60.0);
    let all_arrived = tg.wait_for_sent(dms, timeout).await;
    if !all_arrived {
        eprintln!(
            "send: only {} of {dms} messages arrived within {timeout:?}",
            tg.sent().len()
        );
    }
    // Let in-flight bookkeeping (mark_sent) settle before reading the outbox.
    let _ =
        encore::outbox::dispatcher::wait_until_idle(&app.ctx.store, Duration::from_secs(10)).await;

    let sent: Vec<_> = tg
        .sent()
        .into_iter()
        .filter(|m| m.method == "sendMessage")
        .collect();
    let requests = tg.requests();
    let logged_429s = requests.iter().filter(|r| r.status == 429).count();
    let mut arrivals: Vec<Instant> = sent.iter().map(|m| m.at).collect();
    arrivals.sort();
    let (first, last) = match (arrivals.first(), arrivals.last()) {
        (Some(first), Some(last)) => (*first, *last),
        _ => panic!("the stand-in received no message at all"),
    };
    let mut chats: Vec<i64> = sent.iter().map(|m| m.chat_id).collect();
    chats.sort_unstable();
    chats.dedup();

    let states: Vec<(String, i64)> =
        sqlx::query_as("SELECT state, COUNT(*) FROM outbox GROUP BY state ORDER BY state")
            .fetch_all(app.ctx.store.pool_for_tests())
            .await
            .expect("count the outbox by state");
    let rate_limited_counter = app
        .ctx
        .store
        .counter("rate_limited:telegram")
        .await
        .expect("read the rate-limited counter");
    let report = SendReport {
        dms,
        limit,
        seed,
        enqueued,
        delivered: sent.len(),
        distinct_chats: chats.len(),
        span: last.duration_since(first),
        first_after_end: first.saturating_duration_since(end_returned),
        last_after_end: last.saturating_duration_since(end_returned),
        max_in_one_second: max_in_window(&arrivals, Duration::from_secs(1)),
        max_in_standin_window: max_in_window(&arrivals, Duration::from_millis(950)),
        intervals: Intervals::of(&arrivals, limit),
        violations: tg.violations(),
        logged_429s,
        rate_limited_counter,
        states,
    };
    if let Err(err) = app.stop().await {
        eprintln!("send: the app did not stop cleanly: {err}");
    }
    tg.shutdown().await;
    drop(dir);
    report
}

fn order_record(i: usize) -> OrderRecord {
    OrderRecord {
        id: format!("o{i}"),
        customer_id: format!("c{i}"),
        broadcast_id: Some(BROADCAST.to_string()),
        items: vec![OrderItem {
            sku: "COAT-1".to_string(),
            name: "울 코트".to_string(),
            category: None,
            quantity: 1,
            unit_price: 39_000,
        }],
        total: 39_000,
        currency: "KRW".to_string(),
        placed_at: None,
    }
}

/// The most arrivals within any window of length `window` (sorted input).
fn max_in_window(sorted: &[Instant], window: Duration) -> usize {
    let mut best = 0;
    let mut start = 0;
    for (end, at) in sorted.iter().enumerate() {
        while at.duration_since(sorted[start]) >= window {
            start += 1;
        }
        best = best.max(end - start + 1);
    }
    best
}

fn print_send(r: &SendReport) {
    let states = r
        .states
        .iter()
        .map(|(state, n)| format!("{state} {n}"))
        .collect::<Vec<_>>()
        .join(", ");
    println!("== send: {} DMs through the Telegram stand-in ==", r.dms);
    row(
        "seeding (not measured)",
        format!("{:.2} s", r.seed.as_secs_f64()),
    );
    row("thank-yous enqueued", r.enqueued.to_string());
    row(
        "messages delivered",
        format!("{} to {} distinct chats", r.delivered, r.distinct_chats),
    );
    row(
        "first → last delivered",
        format!("{:.2} s", r.span.as_secs_f64()),
    );
    row(
        "end_broadcast → first / last",
        format!(
            "{:.3} s / {:.2} s",
            r.first_after_end.as_secs_f64(),
            r.last_after_end.as_secs_f64()
        ),
    );
    row("achieved rate", format!("{:.2} msgs/s", r.rate()));
    row("configured limit", format!("{} msgs/s", r.limit));
    row(
        "ratio to the limit",
        format!(
            "{:.4}   (target ≥ {TARGET_RATIO})   {}",
            r.ratio(),
            verdict(r.ratio() >= TARGET_RATIO)
        ),
    );
    row(
        "most in any 1 s / 950 ms",
        format!(
            "{} / {}   (the stand-in refuses a 31st within 1 s)",
            r.max_in_one_second, r.max_in_standin_window
        ),
    );
    print_intervals(&r.intervals);
    row(
        "429s: stand-in violations()",
        format!(
            "{}   (target 0)   {}",
            r.violations,
            verdict(r.violations == 0)
        ),
    );
    row(
        "429s: in the request log",
        format!(
            "{}   (target 0)   {}",
            r.logged_429s,
            verdict(r.logged_429s == 0)
        ),
    );
    row("429s: encore's counter", r.rate_limited_counter.to_string());
    row("outbox by state", states);
}

/// The gaps between consecutive arrivals, against the ideal `1 / limit`.
struct Intervals {
    period: Duration,
    mean: Duration,
    median: Duration,
    p99: Duration,
    max: Duration,
    /// Gaps longer than two periods (a pause, a stall).
    long_gaps: usize,
    /// The span minus what it would be at exactly the limit: time lost.
    lost: Duration,
}

impl Intervals {
    fn of(sorted: &[Instant], limit: u32) -> Intervals {
        let period = Duration::from_secs_f64(1.0 / f64::from(limit.max(1)));
        let mut gaps: Vec<Duration> = sorted.windows(2).map(|w| w[1] - w[0]).collect();
        gaps.sort_unstable();
        let total: Duration = gaps.iter().sum();
        let pick = |q: f64| {
            gaps.get(((gaps.len() as f64 - 1.0) * q).round() as usize)
                .copied()
                .unwrap_or_default()
        };
        Intervals {
            period,
            mean: total
                .checked_div(gaps.len().max(1) as u32)
                .unwrap_or_default(),
            median: pick(0.5),
            p99: pick(0.99),
            max: gaps.last().copied().unwrap_or_default(),
            long_gaps: gaps.iter().filter(|g| **g > period * 2).count(),
            lost: total.saturating_sub(period * gaps.len() as u32),
        }
    }
}

fn print_intervals(i: &Intervals) {
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    row(
        "interval mean / median",
        format!(
            "{:.2} ms / {:.2} ms   (ideal {:.2} ms)",
            ms(i.mean),
            ms(i.median),
            ms(i.period)
        ),
    );
    row(
        "interval p99 / max",
        format!("{:.2} ms / {:.1} ms", ms(i.p99), ms(i.max)),
    );
    row(
        "gaps > 2 periods",
        format!(
            "{}   (time lost vs ideal: {:.2} s)",
            i.long_gaps,
            i.lost.as_secs_f64()
        ),
    );
}

// ---- pacer (diagnostic) ----------------------------------------------------------------------

struct PacerReport {
    sends: usize,
    waiters: usize,
    round_trip: Duration,
    limit: u32,
    span: Duration,
    intervals: Intervals,
}

impl PacerReport {
    fn rate(&self) -> f64 {
        if self.sends < 2 || self.span.is_zero() {
            return 0.0;
        }
        (self.sends - 1) as f64 / self.span.as_secs_f64()
    }
}

/// encore's `Pacer` with the default Telegram limits, 16 waiters (the dispatcher's
/// `max_in_flight`) each taking turns for new private chats, nothing else.
async fn pacer_bench(
    sends: usize,
    rate: Option<u32>,
    waiters: usize,
    round_trip: Duration,
) -> PacerReport {
    assert!(sends >= 2, "--sends must be at least 2 to measure a rate");
    let mut limits = encore::config::LimitsConfig::default();
    if let Some(rate) = rate {
        limits.telegram_per_second = rate;
    }
    let limit = limits.telegram_per_second;
    eprintln!(
        "pacer: {sends} turns at {limit}/s, {waiters} waiters (about {:.0} s)…",
        sends as f64 / f64::from(limit)
    );
    let pacer = Arc::new(Pacer::new(encore::platforms::telegram::limits_from(
        &limits,
    )));
    let next = Arc::new(AtomicUsize::new(0));
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..waiters.max(1) {
        let (pacer, next) = (pacer.clone(), next.clone());
        tasks.spawn(async move {
            let mut turns = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= sends {
                    return turns;
                }
                let chat = (FIRST_CHAT_ID + i as i64).to_string();
                let turn = pacer.wait_turn(&chat, false, Lane::Bulk).await;
                let wire = pacer.on_the_wire(Lane::Bulk).await;
                turns.push(Instant::now());
                // The platform call's round trip.
                tokio::time::sleep(round_trip).await;
                drop(wire);
                drop(turn);
            }
        });
    }
    let mut turns = Vec::with_capacity(sends);
    while let Some(joined) = tasks.join_next().await {
        turns.extend(joined.expect("a pacer task panicked"));
    }
    turns.sort();
    let span = match (turns.first(), turns.last()) {
        (Some(first), Some(last)) => last.duration_since(*first),
        _ => Duration::ZERO,
    };
    PacerReport {
        sends: turns.len(),
        waiters,
        round_trip,
        limit,
        span,
        intervals: Intervals::of(&turns, limit),
    }
}

fn print_pacer(r: &PacerReport) {
    println!(
        "== pacer alone (diagnostic): {} turns at {}/s, {} waiters, {} ms per call, no I/O ==",
        r.sends,
        r.limit,
        r.waiters,
        r.round_trip.as_millis()
    );
    row(
        "first → last turn",
        format!("{:.2} s", r.span.as_secs_f64()),
    );
    row(
        "rate / ratio to the limit",
        format!(
            "{:.2} turns/s / {:.4}",
            r.rate(),
            r.rate() / f64::from(r.limit)
        ),
    );
    print_intervals(&r.intervals);
}

// ---- enqueue ---------------------------------------------------------------------------------

struct EnqueueReport {
    buyers: usize,
    seed: Duration,
    child: ChildFigures,
}

/// What the child prints, one `key=value` a line.
#[derive(Default)]
struct ChildFigures {
    enqueued: u64,
    outbox_rows: u64,
    /// The flow call inside the transaction.
    flow_ms: f64,
    /// The commit.
    commit_ms: f64,
    /// begin + flow + commit.
    total_ms: f64,
    /// A second end of the same broadcast: enqueues nothing, how long it takes.
    again_ms: f64,
    again_enqueued: u64,
    rss_before_kb: u64,
    hwm_kb: u64,
}

impl EnqueueReport {
    fn seconds(&self) -> f64 {
        self.child.total_ms / 1000.0
    }

    fn peak_mb(&self) -> f64 {
        kb_to_mb(self.child.hwm_kb)
    }

    fn met(&self) -> bool {
        self.child.outbox_rows == self.buyers as u64
            && self.seconds() <= TARGET_ENQUEUE_SECONDS
            && self.peak_mb() <= TARGET_PEAK_MB
    }
}

async fn enqueue_bench(buyers: usize) -> EnqueueReport {
    assert!(buyers >= 1, "--buyers must be at least 1");
    let dir = TempDir::new("enqueue");
    let url = dir.sqlite_url("enqueue.db");
    eprintln!("enqueue: seeding {buyers} buyers (not measured)…");
    let seed_started = Instant::now();
    {
        let store = Store::open_and_migrate(&url)
            .await
            .expect("open the enqueue database");
        seed_buyers(&store, buyers).await;
        store.close().await;
    }
    let seed = seed_started.elapsed();

    eprintln!("enqueue: measuring in a child process…");
    let exe = std::env::current_exe().expect("where is this executable?");
    let output = Command::new(exe)
        .args(["enqueue-child", &url, "--expect", &buyers.to_string()])
        .stderr(std::process::Stdio::inherit())
        .output()
        .expect("could not run the enqueue child");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "the enqueue child failed ({}):\n{stdout}",
        output.status
    );
    let child = parse_child(&stdout);
    drop(dir);
    EnqueueReport {
        buyers,
        seed,
        child,
    }
}

/// N customers `c1…cN`, each with a Telegram identity (chat `FIRST_CHAT_ID + i`) and one placed
/// order with one item in `bench-b`. Set-based: one statement per table.
async fn seed_buyers(store: &Store, buyers: usize) {
    let now = encore::store::ts(Utc::now());
    let n = buyers as i64;
    let seq = "WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < $1)";
    let statements = [
        format!(
            "{seq} INSERT INTO customers (id, name, locale, created_at, updated_at)
             SELECT 'c' || i, 'Buyer ' || i, NULL, $2, $2 FROM seq"
        ),
        format!(
            "{seq} INSERT INTO identities (platform, user_id, customer_id, chat_id, display_name,
                                           platform_lang, last_seen_at, linked_at)
             SELECT 'telegram', CAST({FIRST_CHAT_ID} + i AS TEXT), 'c' || i,
                          CAST({FIRST_CHAT_ID} + i AS TEXT), 'Buyer', 'ko', $2, $2 FROM seq"
        ),
        format!(
            "{seq} INSERT INTO orders (id, customer_id, broadcast_id, total, currency, placed_at,
                                       status, status_at, created_at, updated_at)
             SELECT 'o' || i, 'c' || i, '{BROADCAST}', 39000, 'KRW', $2, 'placed', $2, $2, $2
             FROM seq"
        ),
        format!(
            "{seq} INSERT INTO order_items (order_id, position, sku, name, category, quantity,
                                            unit_price)
             SELECT 'o' || i, 0, 'COAT-1', '울 코트', NULL, 1, 39000 FROM seq"
        ),
    ];
    let mut tx = store.begin().await.expect("begin the seeding");
    for statement in &statements {
        sqlx::query(statement)
            .bind(n)
            .bind(&now)
            .execute(tx.raw_for_tests())
            .await
            .expect("seed the buyers");
    }
    orders::upsert_broadcast(
        &mut tx,
        BROADCAST,
        Some("Bench live"),
        None,
        None,
        Utc::now(),
    )
    .await
    .expect("seed the broadcast");
    // The seeded rows read back through the store like rows the app wrote itself.
    let bought = orders::orders_in_broadcasts(&mut tx, &[("c1", BROADCAST)])
        .await
        .expect("read a seeded order back");
    assert_eq!(bought.len(), 1, "a seeded buyer should have one order");
    assert_eq!(
        bought[0].items.len(),
        1,
        "a seeded order should have one item"
    );
    let identities = customers::identities_of(&mut tx, "c1")
        .await
        .expect("read a seeded identity back");
    assert_eq!(identities.len(), 1, "a seeded buyer should be linked");
    tx.commit().await.expect("commit the seeding");
    // As a live database would be: statistics known to the planner.
    analyze(
        store,
        &[
            "customers",
            "identities",
            "orders",
            "order_items",
            "broadcasts",
        ],
    )
    .await;
}

/// `ANALYZE` of these tables only: on PostgreSQL a bare `ANALYZE` would visit every schema of
/// the database (other runs' and tests' too).
async fn analyze(store: &Store, tables: &[&str]) {
    for table in tables {
        sqlx::query(&format!("ANALYZE {table}"))
            .execute(store.pool_for_tests())
            .await
            .unwrap_or_else(|err| panic!("analyze {table}: {err}"));
    }
}

/// The thank-yous of `bench-b`, enqueued as `encore broadcast end` enqueues them; how many.
async fn thank_buyers(store: &Store, now: chrono::DateTime<Utc>) -> u64 {
    let mut tx = store.begin().await.expect("begin the enqueue");
    let enqueued = thank_buyers_in(&mut tx, now).await;
    tx.commit().await.expect("commit the enqueue");
    enqueued
}

/// [`after_broadcast::thank_buyers_after_broadcast`] for `bench-b`, inside `tx`.
async fn thank_buyers_in(tx: &mut encore::store::Conn, now: chrono::DateTime<Utc>) -> u64 {
    after_broadcast::thank_buyers_after_broadcast(&Config::default(), tx, BROADCAST, None, now, now)
        .await
        .expect("thank_buyers_after_broadcast failed")
}

/// The measured half: open the store, enqueue in one transaction, commit, report.
async fn enqueue_child(db_url: &str, expect: u64) {
    let store = Store::open_and_migrate(db_url)
        .await
        .expect("the child could not open the seeded database");
    let rss_before_kb = proc_status_kb("VmRSS");

    let now = Utc::now();
    let started = Instant::now();
    let mut tx = store.begin().await.expect("begin the enqueue");
    let flow_started = Instant::now();
    let enqueued = thank_buyers_in(&mut tx, now).await;
    let flow = flow_started.elapsed();
    let commit_started = Instant::now();
    tx.commit().await.expect("commit the enqueue");
    let commit = commit_started.elapsed();
    let total = started.elapsed();
    let hwm_kb = proc_status_kb("VmHWM");

    let outbox_rows = count(
        &store,
        "SELECT COUNT(*) FROM outbox WHERE flow = 'thank_you' AND broadcast_id = $1",
        &[BROADCAST],
    )
    .await;
    assert_eq!(
        outbox_rows as u64, expect,
        "the outbox should hold one thank-you per buyer"
    );

    // A second `broadcast.ended` thanks nobody twice; how long does finding that out take?
    let again_started = Instant::now();
    let again_enqueued = thank_buyers(&store, now).await;
    let again = again_started.elapsed();
    store.close().await;

    println!("enqueued={enqueued}");
    println!("outbox_rows={outbox_rows}");
    println!("flow_ms={:.3}", flow.as_secs_f64() * 1000.0);
    println!("commit_ms={:.3}", commit.as_secs_f64() * 1000.0);
    println!("total_ms={:.3}", total.as_secs_f64() * 1000.0);
    println!("again_ms={:.3}", again.as_secs_f64() * 1000.0);
    println!("again_enqueued={again_enqueued}");
    println!("rss_before_kb={rss_before_kb}");
    println!("hwm_kb={hwm_kb}");
}

fn parse_child(stdout: &str) -> ChildFigures {
    let figures = figures_from!(
        stdout,
        ChildFigures {
            enqueued,
            outbox_rows,
            flow_ms,
            commit_ms,
            total_ms,
            again_ms,
            again_enqueued,
            rss_before_kb,
            hwm_kb
        }
    );
    assert!(
        figures.hwm_kb > 0 && figures.total_ms > 0.0,
        "the enqueue child did not report its figures:\n{stdout}"
    );
    figures
}

fn print_enqueue(r: &EnqueueReport) {
    let c = &r.child;
    println!(
        "== enqueue: thank-yous for {} buyers (child process) ==",
        r.buyers
    );
    row(
        "seeding (not measured)",
        format!("{:.2} s", r.seed.as_secs_f64()),
    );
    row(
        "enqueued / outbox rows",
        format!("{} / {}", c.enqueued, c.outbox_rows),
    );
    row(
        "flow (in the transaction)",
        format!("{:.3} s", c.flow_ms / 1000.0),
    );
    row("commit", format!("{:.3} s", c.commit_ms / 1000.0));
    row(
        "total: begin → commit",
        format!(
            "{:.3} s   (target ≤ {TARGET_ENQUEUE_SECONDS} s)   {}",
            r.seconds(),
            verdict(r.seconds() <= TARGET_ENQUEUE_SECONDS)
        ),
    );
    row(
        "child RSS before",
        format!("{:.1} MB", kb_to_mb(c.rss_before_kb)),
    );
    row(
        "child peak RSS (VmHWM)",
        format!(
            "{:.1} MB   (target ≤ {TARGET_PEAK_MB} MB)   {}",
            r.peak_mb(),
            verdict(r.peak_mb() <= TARGET_PEAK_MB)
        ),
    );
    row(
        "second end (idempotent)",
        format!(
            "{:.3} s, {} enqueued",
            c.again_ms / 1000.0,
            c.again_enqueued
        ),
    );
}

fn print_summary(send: &SendReport, enqueue: &EnqueueReport) {
    println!("== summary (issue #2, point 7) ==");
    row(
        "send rate / limit",
        format!(
            "{:.4} (≥ {TARGET_RATIO}), 429s {} + {} logged   {}",
            send.ratio(),
            send.violations,
            send.logged_429s,
            verdict(send.met())
        ),
    );
    row(
        &format!("enqueue {}: time, peak", enqueue.buyers),
        format!(
            "{:.3} s (≤ {TARGET_ENQUEUE_SECONDS}), {:.1} MB (≤ {TARGET_PEAK_MB})   {}",
            enqueue.seconds(),
            enqueue.peak_mb(),
            verdict(enqueue.met())
        ),
    );
}

// ---- helpers ---------------------------------------------------------------------------------

/// A struct of figures from a child's `key=value` lines, each field under its own name.
macro_rules! figures_from {
    ($stdout:expr, $ty:ident { $($field:ident),* $(,)? }) => {{
        let out = $crate::KeyValues::parse($stdout);
        $ty { $($field: out.get(stringify!($field)),)* }
    }};
}
use figures_from;

/// What a child process printed, one `key=value` a line.
struct KeyValues(std::collections::HashMap<String, String>);

impl KeyValues {
    fn parse(stdout: &str) -> KeyValues {
        KeyValues(
            stdout
                .lines()
                .filter_map(|line| line.split_once('='))
                .map(|(k, v)| (k.to_string(), v.trim().to_string()))
                .collect(),
        )
    }

    /// The value of `key`; a missing one is the default, a malformed one a failed run.
    fn get<T: std::str::FromStr + Default>(&self, key: &str) -> T {
        match self.0.get(key) {
            None => T::default(),
            Some(value) => value
                .parse()
                .unwrap_or_else(|_| panic!("a child printed a bad {key}: {value}")),
        }
    }
}

/// `SELECT COUNT(*) …` with its text parameters.
async fn count(store: &Store, sql: &str, args: &[&str]) -> i64 {
    let mut query = sqlx::query_scalar(sql);
    for arg in args {
        query = query.bind(*arg);
    }
    query
        .fetch_one(store.pool_for_tests())
        .await
        .unwrap_or_else(|err| panic!("{sql}: {err}"))
}

/// The items, space-separated (one per run, kill, …).
fn joined<T: std::fmt::Display>(items: impl IntoIterator<Item = T>) -> String {
    items
        .into_iter()
        .map(|item| item.to_string())
        .collect::<Vec<_>>()
        .join(" ")
}

fn row(label: &str, value: String) {
    println!("  {label:<30} {value}");
}

fn verdict(ok: bool) -> &'static str {
    if ok { "met" } else { "MISSED" }
}

/// `/proc` reports kB meaning KiB; MB here is 10^6 bytes, the unit of the target.
fn kb_to_mb(kb: u64) -> f64 {
    kb as f64 * 1024.0 / 1_000_000.0
}

/// A `Vm*:` line of `/proc/self/status`, in kB (0 when unavailable).
fn proc_status_kb(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| {
            let rest = line.strip_prefix(field)?.strip_prefix(':')?;
            rest.trim().trim_end_matches("kB").trim().parse().ok()
        })
        .unwrap_or(0)
}

/// A scratch directory under the system temp dir, removed when dropped.
struct TempDir {
    path: PathBuf,
}

impl TempDir {
    fn new(what: &str) -> TempDir {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let path = std::env::temp_dir().join(format!(
            "encore-bench-{what}-{}-{nanos}",
            std::process::id()
        ));
        std::fs::create_dir_all(&path)
            .unwrap_or_else(|err| panic!("cannot create {}: {err}", path.display()));
        TempDir { path }
    }

    fn sqlite_url(&self, file: &str) -> String {
        sqlite_url(&self.path.join(file))
    }
}

fn sqlite_url(path: &Path) -> String {
    format!("sqlite://{}?mode=rwc", path.display())
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}
