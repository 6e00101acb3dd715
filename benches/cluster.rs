//! Issue #12, PostgreSQL: several `encore serve` processes, one bot.
//!
//! * `claims [--workers 1,2,4] [--messages 20000] [--db both] [--runs 3]`: the claim rate with a
//!   do-nothing sender. N thank-yous are queued (one per recipient, so no viewer's ordering holds
//!   anything back); W claimers, each a **separate process** (`claims-child`) with its own
//!   `Store` pool and its own `Claimant`, run the dispatcher's loop: claim up to the dispatcher's
//!   `max_in_flight` at a 1000/s limit (125) minus what is still in hand, and for each claimed
//!   batch the dispatcher's own batched store calls on the send path (`begin_rows`,
//!   `lock_batch_for_rendering`, `mark_batch_sending`, commit, then `mark_batch_sent`) with no
//!   platform call between. No lease is held (`fence: None`): in
//!   `serve` only the leader claims, so W > 1 measures the claim SQL under contention (`FOR
//!   UPDATE SKIP LOCKED` on PostgreSQL; on SQLite the W processes share the file's one write
//!   lock). Rate = N over the time from the first claimer's start to the last one's end; every
//!   row must end `sent` with `attempts = 1` and its id reported by exactly one claimer.
//! * `cluster [--workers 3] [--messages 10000] [--rate 1000] [--runs 3]`: a fresh PostgreSQL
//!   schema, N linked buyers (one order each in `bench-b`), the Telegram stand-in in this process
//!   counting `--rate` per second for the bot and 1 per second per chat exactly, and W real
//!   `encore serve` processes on the same database URL (`limits.telegram_per_second` = rate),
//!   each with its own HTTP port and its own host name (a UTS namespace, `unshare --uts`, so
//!   they behave as separate machines: no process can see another's pid). The real
//!   `encore broadcast end` enqueues the thank-yous. Reported: rate from the first to the last
//!   message the stand-in received and its ratio to the bound, 429s (violations and 429
//!   answers), lost and duplicates per chat, which process sent, `/healthz` roles before and
//!   after.
//! * `failover [--workers 3] [--messages 10000] [--rate 1000]`: as `cluster`; at 30 % delivered
//!   the leader is `kill -9`ed: time from the kill to the next message another process sends
//!   (target ≤ `lease_seconds` + 5 s), lost (0), duplicates against the dead leader's rows in
//!   `sending` at the kill. Then at 60 % the new leader gets SIGSTOP, `lease_seconds` + 3 s
//!   pass (a standby takes over), SIGCONT: the resumed process must send nothing more.
//!
//! **Which process sent.** All processes use the same bot token (it is one bot), so the
//! stand-in alone cannot tell them apart. Each process is given its own `telegram.api_url`: a
//! TCP relay in this process in front of the one stand-in, one relay per process. A relay
//! forwards bytes unchanged and notes the time of every `sendMessage` request line that passes
//! from its process (HTTP/1.1 request lines in the byte stream). The stand-in still counts every
//! limit on its own arrival times, so the relays cannot hide a 429 (a request cannot reach the
//! stand-in before its process sent it). The database says the same from the other side: a
//! sent row keeps the claim owner (`host:pid:random`) that marked it sent; both are reported.
//! The database alone could not prove the SIGSTOP case, since a deposed process's write is
//! refused, so a message it sent anyway would leave no row behind.

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use chrono::Utc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;

use super::processes::{ChildEnv, counts, kill_9, min_median_max, signal, terminate};
use super::telegram::{FakeTelegram, FakeTelegramOptions, RateLimit};
use super::{
    BROADCAST, FIRST_CHAT_ID, TempDir, count, figures_from, joined, max_in_window, row,
    seed_buyers, verdict,
};
use encore::store::Store;
use encore::store::outbox::{self, Claimant, ClaimedMessage};

/// The dispatcher's `max_in_flight` at a 1000/s limit (`src/outbox/dispatcher.rs`: an eighth
/// of a second of sends): how many claimed rows one dispatcher holds at once, so how many it
/// claims when it holds none.
const MAX_IN_FLIGHT: usize = 125;
/// `cluster.lease_seconds` when not set (CONTRACT §2).
const DEFAULT_LEASE_SECONDS: u64 = 10;
/// Targets from issue #12.
const TARGET_RATIO: f64 = 0.95;
const TARGET_TAKEOVER_MARGIN: Duration = Duration::from_secs(5);

/// The PostgreSQL to run on: `--pg-url`, else `ENCORE_TEST_POSTGRES_URL`, else the local one.
pub fn pg_base(given: Option<String>) -> String {
    given
        .or_else(|| std::env::var("ENCORE_TEST_POSTGRES_URL").ok())
        .filter(|url| !url.trim().is_empty())
        .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/test".to_string())
}

/// Which database `claims` runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Engine {
    Sqlite,
    Postgres,
    Both,
}

/// A database of one run: a fresh PostgreSQL schema (dropped at the end) or an SQLite file in
/// a scratch directory.
struct RunDb {
    url: String,
    /// PostgreSQL: the base URL and the schema to drop.
    schema: Option<(String, String)>,
    dir: TempDir,
}

impl RunDb {
    async fn new(postgres: Option<&str>, what: &str) -> RunDb {
        let dir = TempDir::new(what);
        match postgres {
            Some(base) => {
                let url = encore::store::postgres_schema_for_tests(base).await;
                let schema = url
                    .rsplit("search_path%3D")
                    .next()
                    .expect("the schema URL names its schema")
                    .to_string();
                RunDb {
                    url,
                    schema: Some((base.to_string(), schema)),
                    dir,
                }
            }
            None => RunDb {
                url: dir.sqlite_url(&format!("{what}.db")),
                schema: None,
                dir,
            },
        }
    }

    async fn drop_schema(&self) {
        use sqlx::Connection;
        let Some((base, schema)) = &self.schema else {
            return;
        };
        if let Ok(mut conn) = sqlx::postgres::PgConnection::connect(base).await {
            let _ = sqlx::query(&format!("DROP SCHEMA {schema} CASCADE"))
                .execute(&mut conn)
                .await;
            let _ = conn.close().await;
        }
    }
}

fn unix_nanos() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos())
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

// ---- claims ----------------------------------------------------------------------------------

/// One claimer's figures, as its child printed them.
#[derive(Default, Clone)]
struct ClaimerFigures {
    claimed: usize,
    claim_calls: usize,
    empty_claims: usize,
    /// Time inside `outbox::claim`, summed over calls.
    claim_s: f64,
    /// Time of the per-row bookkeeping, summed over rows (they overlap: up to 125 at a time).
    book_s: f64,
    start_ns: u128,
    end_ns: u128,
}

struct ClaimsRun {
    rate: f64,
    per_worker: Vec<usize>,
    claim_ms_per_call: f64,
    book_ms_per_row: f64,
    rows_per_claim: f64,
    exactly_once: bool,
}

pub fn claims_bench(
    runtime: &tokio::runtime::Runtime,
    workers: &[usize],
    messages: usize,
    engine: Engine,
    runs: usize,
    pg: &str,
) {
    assert!(messages >= 1 && runs >= 1, "--messages and --runs ≥ 1");
    let engines: Vec<Option<&str>> = match engine {
        Engine::Postgres => vec![Some(pg)],
        Engine::Sqlite => vec![None],
        Engine::Both => vec![Some(pg), None],
    };
    let mut results: Vec<(&'static str, usize, Vec<ClaimsRun>)> = Vec::new();
    for postgres in engines {
        let engine = if postgres.is_some() {
            "PostgreSQL"
        } else {
            "SQLite"
        };
        for &w in workers {
            let mut per_run = Vec::new();
            for run in 1..=runs {
                let db = runtime.block_on(RunDb::new(postgres, "claims"));
                eprintln!(
                    "claims: {engine} W={w} run {run}/{runs}: seeding {messages} thank-yous…"
                );
                runtime.block_on(seed_thank_yous(&db.url, messages));
                let r = claims_run(runtime, &db, w, messages);
                eprintln!(
                    "claims: {engine} W={w} run {run}: {:.0} msgs/s, exactly once: {}",
                    r.rate,
                    verdict(r.exactly_once)
                );
                per_run.push(r);
                runtime.block_on(db.drop_schema());
            }
            results.push((engine, w, per_run));
        }
    }
    println!(
        "== claims: {messages} queued thank-yous (one per recipient), W claimer processes, do-nothing sender (issue #12) =="
    );
    println!(
        "  {:<11} {:>2} {:>24} {:>22} {:>14} {:>14} {:>10} {:>12}",
        "database",
        "W",
        "msgs/s min/median/max",
        "rows per claimer",
        "claim ms/call",
        "book ms/row",
        "rows/claim",
        "exactly once"
    );
    for (engine, w, runs) in &results {
        let rates: Vec<f64> = runs.iter().map(|r| r.rate).collect();
        let last = runs.last().expect("at least one run");
        let mean =
            |f: &dyn Fn(&ClaimsRun) -> f64| runs.iter().map(f).sum::<f64>() / runs.len() as f64;
        println!(
            "  {:<11} {:>2} {:>24} {:>22} {:>14.2} {:>14.2} {:>10.1} {:>12}",
            engine,
            w,
            min_median_max(&rates, 0),
            last.per_worker
                .iter()
                .map(usize::to_string)
                .collect::<Vec<_>>()
                .join("/"),
            mean(&|r| r.claim_ms_per_call),
            mean(&|r| r.book_ms_per_row),
            mean(&|r| r.rows_per_claim),
            verdict(runs.iter().all(|r| r.exactly_once)),
        );
    }
    println!("  (rows per claimer: the last run; claim and book times: means over the runs)");
    println!("  load average: {}", load_average());
}

/// N linked buyers and their thank-yous, queued as `encore broadcast end` queues them.
async fn seed_thank_yous(url: &str, n: usize) {
    let store = Store::open_and_migrate(url)
        .await
        .expect("open the database");
    seed_buyers(&store, n).await;
    let enqueued = super::thank_buyers(&store, Utc::now()).await;
    assert_eq!(enqueued as usize, n, "one thank-you per buyer");
    super::analyze(&store, &["outbox"]).await;
    store.close().await;
}

fn claims_run(runtime: &tokio::runtime::Runtime, db: &RunDb, w: usize, n: usize) -> ClaimsRun {
    let exe = std::env::current_exe().expect("where is this executable?");
    let mut children: Vec<(Child, std::path::PathBuf)> = (0..w)
        .map(|k| {
            let ids = db.dir.path.join(format!("ids-{k}.txt"));
            let child = Command::new(&exe)
                .args(["claims-child", &db.url, "--worker", &k.to_string(), "--ids"])
                .arg(&ids)
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::inherit())
                .spawn()
                .expect("start a claimer");
            (child, ids)
        })
        .collect();
    let mut readers: Vec<_> = children
        .iter_mut()
        .map(|(child, _)| BufReader::new(child.stdout.take().expect("piped stdout")))
        .collect();
    for reader in &mut readers {
        let mut line = String::new();
        reader.read_line(&mut line).expect("a claimer says ready");
        assert_eq!(line.trim(), "ready", "a claimer did not start: {line}");
    }
    // All at once: each has its pool open and one connection made.
    for (child, _) in &mut children {
        let stdin = child.stdin.as_mut().expect("piped stdin");
        writeln!(stdin, "go").expect("tell a claimer to go");
        stdin.flush().expect("flush");
    }
    let mut figures = Vec::new();
    for ((child, _), mut reader) in children.iter_mut().zip(readers) {
        let mut out = String::new();
        std::io::Read::read_to_string(&mut reader, &mut out).expect("a claimer's figures");
        let status = child.wait().expect("a claimer ends");
        assert!(status.success(), "a claimer failed ({status}):\n{out}");
        figures.push(parse_claimer(&out));
    }
    let mut ids = Vec::new();
    for (_, path) in &children {
        let text = std::fs::read_to_string(path).expect("a claimer's ids");
        ids.extend(text.lines().map(|l| l.parse::<i64>().expect("an id")));
    }
    let distinct: HashSet<i64> = ids.iter().copied().collect();
    let (sent, repeated) = runtime.block_on(async {
        let store = Store::open(&db.url).await.expect("open the database");
        let sent = count(
            &store,
            "SELECT COUNT(*) FROM outbox WHERE state = 'sent'",
            &[],
        )
        .await;
        let repeated = count(
            &store,
            "SELECT COUNT(*) FROM outbox WHERE attempts <> 1",
            &[],
        )
        .await;
        store.close().await;
        (sent, repeated)
    });
    let start = figures.iter().map(|f| f.start_ns).min().unwrap_or(0);
    let end = figures.iter().map(|f| f.end_ns).max().unwrap_or(0);
    let span_s = end.saturating_sub(start) as f64 / 1e9;
    let calls: usize = figures.iter().map(|f| f.claim_calls).sum();
    let claimed: usize = figures.iter().map(|f| f.claimed).sum();
    ClaimsRun {
        rate: if span_s > 0.0 { n as f64 / span_s } else { 0.0 },
        per_worker: figures.iter().map(|f| f.claimed).collect(),
        claim_ms_per_call: figures.iter().map(|f| f.claim_s).sum::<f64>() * 1000.0
            / calls.max(1) as f64,
        book_ms_per_row: figures.iter().map(|f| f.book_s).sum::<f64>() * 1000.0
            / claimed.max(1) as f64,
        rows_per_claim: claimed as f64
            / (calls - figures.iter().map(|f| f.empty_claims).sum::<usize>()).max(1) as f64,
        exactly_once: ids.len() == n
            && distinct.len() == n
            && claimed == n
            && sent as usize == n
            && repeated == 0,
    }
}

fn parse_claimer(out: &str) -> ClaimerFigures {
    figures_from!(
        out,
        ClaimerFigures {
            claimed,
            claim_calls,
            empty_claims,
            claim_s,
            book_s,
            start_ns,
            end_ns
        }
    )
}

/// One claimer process: the dispatcher's claim loop with a do-nothing sender.
pub async fn claims_child(db_url: &str, worker: usize, ids_path: &std::path::Path) {
    let store = Store::open(db_url).await.expect("open the database");
    assert!(store.ping().await, "the database does not answer");
    println!("ready");
    std::io::stdout().flush().expect("flush");
    tokio::task::spawn_blocking(|| {
        let mut line = String::new();
        std::io::stdin().read_line(&mut line).expect("wait for go");
    })
    .await
    .expect("wait for go");
    let claimant = Claimant {
        instance: format!("bench-claimer-{worker}-{}", std::process::id()),
        fence: None,
    };
    let start_ns = unix_nanos();
    let mut ids = Vec::new();
    let mut tasks: JoinSet<Duration> = JoinSet::new();
    let (mut claim_calls, mut empty_claims) = (0, 0);
    let mut claim_time = Duration::ZERO;
    let mut book_time = Duration::ZERO;
    loop {
        let room = MAX_IN_FLIGHT - tasks.len();
        if room > 0 {
            let asked = Instant::now();
            let claimed = outbox::claim(&store, &claimant, Utc::now(), room as i64)
                .await
                .expect("claim");
            claim_time += asked.elapsed();
            claim_calls += 1;
            if claimed.is_empty() {
                empty_claims += 1;
                // Nothing left to claim here: what is queued still is being claimed by another.
                if tasks.is_empty() {
                    break;
                }
            }
            if !claimed.is_empty() {
                ids.extend(claimed.iter().map(|m| m.id));
                let store = store.clone();
                tasks.spawn(async move { send_nothing(&store, &claimed).await });
            }
        }
        // As the dispatcher: wait for one to finish, then count every one that has.
        if let Some(done) = tasks.join_next().await {
            book_time += done.expect("a bookkeeping task");
        }
        while let Some(done) = tasks.try_join_next() {
            book_time += done.expect("a bookkeeping task");
        }
    }
    let end_ns = unix_nanos();
    store.close().await;
    let text: String = ids.iter().map(|id| format!("{id}\n")).collect();
    std::fs::write(ids_path, text).expect("write the claimed ids");
    println!("claimed={}", ids.len());
    println!("claim_calls={claim_calls}");
    println!("empty_claims={empty_claims}");
    println!("claim_s={:.6}", claim_time.as_secs_f64());
    println!("book_s={:.6}", book_time.as_secs_f64());
    println!("start_ns={start_ns}");
    println!("end_ns={end_ns}");
}

/// The dispatcher's batched store calls for a claimed batch on the send path, with no
/// platform call: the rendering transaction (row locks, `sending`), then `sent`. Returns the
/// time summed over the batch's rows (each row waits for the whole batch).
async fn send_nothing(store: &Store, batch: &[ClaimedMessage]) -> Duration {
    let started = Instant::now();
    let mut tx = store.begin_rows().await.expect("begin");
    let claims: Vec<&outbox::Claim> = batch.iter().map(|m| &m.claim).collect();
    outbox::lock_batch_for_rendering(&mut tx, &claims)
        .await
        .expect("lock for rendering");
    let sending: Vec<(&outbox::Claim, &str)> = claims.iter().map(|c| (*c, "telegram")).collect();
    let marked = outbox::mark_batch_sending(&mut tx, &sending)
        .await
        .expect("mark sending");
    assert_eq!(
        marked.len(),
        batch.len(),
        "a claimed row was not ours to send"
    );
    tx.commit().await.expect("commit");
    let sent: Vec<outbox::SentRecord> = batch
        .iter()
        .map(|m| outbox::SentRecord {
            claim: m.claim.clone(),
            platform: "telegram".to_string(),
            platform_message_id: "1".to_string(),
            at: Utc::now(),
        })
        .collect();
    outbox::mark_batch_sent(store, &sent)
        .await
        .expect("mark sent");
    started.elapsed() * u32::try_from(batch.len()).unwrap_or(1)
}

// ---- the relays: which process sent --------------------------------------------------------

/// A TCP relay in front of the stand-in for one process; it notes when each `sendMessage`
/// request from that process passed.
struct Relay {
    url: String,
    sends: Arc<Mutex<Vec<Instant>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Relay {
    async fn start(target: SocketAddr) -> Relay {
        let listener = TcpListener::bind(("127.0.0.1", 0))
            .await
            .expect("bind a relay");
        let url = format!(
            "http://{}",
            listener.local_addr().expect("the relay's address")
        );
        let sends = Arc::new(Mutex::new(Vec::new()));
        let noted = sends.clone();
        let task = tokio::spawn(async move {
            while let Ok((inbound, _)) = listener.accept().await {
                let _ = inbound.set_nodelay(true);
                tokio::spawn(relay_connection(inbound, target, noted.clone()));
            }
        });
        Relay { url, sends, task }
    }

    /// When each `sendMessage` from this process passed, in order.
    fn sends(&self) -> Vec<Instant> {
        let mut at = self.sends.lock().expect("relay log").clone();
        at.sort();
        at
    }

    fn sends_after(&self, at: Instant) -> Vec<Instant> {
        self.sends().into_iter().filter(|t| *t > at).collect()
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The request line of a send, as teloxide writes it (method names are case-insensitive).
const SEND_LINE: &[u8] = b"/sendmessage http/1.";

async fn relay_connection(inbound: TcpStream, target: SocketAddr, sends: Arc<Mutex<Vec<Instant>>>) {
    let Ok(outbound) = TcpStream::connect(target).await else {
        return;
    };
    let _ = outbound.set_nodelay(true);
    let (mut from_client, mut to_client) = inbound.into_split();
    let (mut from_server, mut to_server) = outbound.into_split();
    let upstream = async move {
        let mut buf = vec![0u8; 64 * 1024];
        // The end of the previous read, so a request line split across reads is still seen.
        let mut tail: Vec<u8> = Vec::new();
        loop {
            let n = match from_client.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            let at = Instant::now();
            let mut window = std::mem::take(&mut tail);
            window.extend(buf[..n].iter().map(u8::to_ascii_lowercase));
            let found = window
                .windows(SEND_LINE.len())
                .filter(|w| *w == SEND_LINE)
                .count();
            if found > 0 {
                sends
                    .lock()
                    .expect("relay log")
                    .extend(std::iter::repeat_n(at, found));
            }
            tail = window[window.len().saturating_sub(SEND_LINE.len() - 1)..].to_vec();
            if to_server.write_all(&buf[..n]).await.is_err() {
                break;
            }
        }
        let _ = to_server.shutdown().await;
    };
    let downstream = async move {
        let _ = tokio::io::copy(&mut from_server, &mut to_client).await;
        let _ = to_client.shutdown().await;
    };
    tokio::join!(upstream, downstream);
}

// ---- the cluster -----------------------------------------------------------------------------

/// `/healthz` of one process: its role and instance, or why not.
#[derive(Clone, Debug, PartialEq)]
struct Health {
    role: String,
    instance: String,
}

/// One running `encore serve` of the cluster.
struct Worker {
    name: String,
    child: Child,
    port: u16,
    relay: Relay,
    /// Stopped (SIGSTOP) or killed: not asked for its health.
    down: bool,
    /// Killed: nothing to resume or stop at the end.
    killed: bool,
}

impl Worker {
    fn pid(&self) -> u32 {
        self.child.id()
    }
}

/// Everything one run of `cluster` or `failover` sets up.
struct Cluster {
    db: RunDb,
    store: Store,
    tg: FakeTelegram,
    workers: Vec<Worker>,
    env: ChildEnv,
    http: reqwest::Client,
    n: usize,
    rate: u32,
    lease_seconds: u64,
}

pub struct ClusterArgs {
    pub workers: usize,
    pub messages: usize,
    pub rate: u32,
    pub pg: String,
    /// `cluster.lease_seconds` given to the processes; `None` leaves the default.
    pub lease_seconds: Option<u64>,
    /// All processes under this machine's host name (the `kill -9` takeover is then immediate,
    /// by the dead pid), instead of one host name each.
    pub same_host: bool,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind(("127.0.0.1", 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free local port")
}

impl Cluster {
    async fn start(args: &ClusterArgs) -> Cluster {
        assert!(args.workers >= 1 && args.messages >= 1 && args.rate >= 1);
        let db = RunDb::new(Some(args.pg.as_str()), "cluster").await;
        eprintln!("cluster: seeding {} buyers (not measured)…", args.messages);
        let store = Store::open_and_migrate(&db.url)
            .await
            .expect("open the database");
        seed_buyers(&store, args.messages).await;
        let tg = FakeTelegram::start_with(FakeTelegramOptions {
            global_limit: Some(RateLimit {
                max: args.rate as usize,
                per: Duration::from_secs(1),
            }),
            ..FakeTelegramOptions::default()
        })
        .await;
        // Measured, not asserted: the 429s are counted in the report.
        tg.allow_violations();
        let target: SocketAddr = tg
            .api_url()
            .trim_start_matches("http://")
            .parse()
            .expect("the stand-in's address");
        let mut env = ChildEnv::new(&db.dir.path, &db.url, &tg.api_url())
            .with("ENCORE_LIMITS_TELEGRAM_PER_SECOND", &args.rate.to_string());
        // Above Telegram's free 30 a second the bot pays (`allow_paid_broadcast`), and the
        // stand-in refuses an unflagged send beyond the 30th in a second.
        if args.rate > 30 {
            env = env.with("ENCORE_TELEGRAM_PAID_BROADCAST", "true");
        }
        if let Some(lease) = args.lease_seconds {
            env = env.with("ENCORE_CLUSTER_LEASE_SECONDS", &lease.to_string());
        }
        let separate_hosts = !args.same_host && unshare_works();
        let mut workers = Vec::new();
        for k in 1..=args.workers {
            let relay = Relay::start(target).await;
            let port = free_port();
            let name = format!("bench-w{k}");
            let worker_env = env
                .clone()
                .with("ENCORE_HTTP_LISTEN", &format!("127.0.0.1:{port}"))
                .with("ENCORE_TELEGRAM_API_URL", &relay.url);
            let mut command = if separate_hosts {
                // unshare and sh exec encore: the child's pid is encore's.
                let exe = worker_env.exe().display().to_string();
                worker_env.command_of(
                    std::path::Path::new("unshare"),
                    &[
                        "--uts",
                        "sh",
                        "-c",
                        "hostname \"$0\" && exec \"$1\" serve",
                        &name,
                        &exe,
                    ],
                )
            } else {
                worker_env.command(&["serve"])
            };
            let child = command.spawn().expect("encore serve starts");
            workers.push(Worker {
                name,
                child,
                port,
                relay,
                down: false,
                killed: false,
            });
        }
        eprintln!(
            "cluster: {} `encore serve` processes ({}), rate {}/s",
            args.workers,
            if separate_hosts {
                "one host name each"
            } else {
                "one host name"
            },
            args.rate
        );
        let mut cluster = Cluster {
            db,
            store,
            tg,
            workers,
            env,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(2))
                .build()
                .expect("an HTTP client"),
            n: args.messages,
            rate: args.rate,
            lease_seconds: args.lease_seconds.unwrap_or(DEFAULT_LEASE_SECONDS),
        };
        cluster.wait_until_up().await;
        cluster
    }

    /// Every process answers `/healthz` and one of them leads.
    async fn wait_until_up(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            for w in &mut self.workers {
                if let Ok(Some(status)) = w.child.try_wait() {
                    panic!(
                        "{} exited at start ({status}); its error is above. If it names \
                         limits.telegram_per_second, this encore refuses a Telegram limit above \
                         30 a second (paid broadcasts need telegram.paid_broadcast): run with \
                         --rate 30",
                        w.name
                    );
                }
            }
            let health = self.health().await;
            let all_up = health.iter().all(|(_, h)| h.is_some());
            let leading = health
                .iter()
                .filter(|(_, h)| {
                    h.as_ref()
                        .is_some_and(|h| h.role == "leader" || h.role == "single")
                })
                .count();
            // Before roles existed (`/healthz` without one), a lone process is taken as leading.
            let roleless = health
                .iter()
                .all(|(_, h)| h.as_ref().is_some_and(|h| h.role == "-"));
            if all_up && (leading == 1 || (roleless && self.workers.len() == 1)) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "the cluster did not come up within 120 s: {health:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn health_of(&self, w: &Worker) -> Option<Health> {
        if w.down {
            return None;
        }
        let url = format!("http://127.0.0.1:{}/healthz", w.port);
        let body: serde_json::Value = self.http.get(url).send().await.ok()?.json().await.ok()?;
        let field = |k: &str| body[k].as_str().unwrap_or("-").to_string();
        Some(Health {
            role: field("role"),
            instance: field("instance"),
        })
    }

    async fn health(&self) -> Vec<(String, Option<Health>)> {
        let mut all = Vec::new();
        for w in &self.workers {
            all.push((w.name.clone(), self.health_of(w).await));
        }
        all
    }

    fn roles(health: &[(String, Option<Health>)]) -> String {
        health
            .iter()
            .map(|(name, h)| match h {
                Some(h) => format!("{name}={}", h.role),
                None => format!("{name}=down"),
            })
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// The worker whose `/healthz` says it leads.
    async fn leader(&self) -> Option<usize> {
        for (i, w) in self.workers.iter().enumerate() {
            if let Some(h) = self.health_of(w).await
                && (h.role == "leader" || h.role == "single" || h.role == "-")
            {
                return Some(i);
            }
        }
        None
    }

    fn delivered(&self) -> usize {
        self.tg.sent().len()
    }

    async fn wait_delivered(&self, at_least: usize, limit: Duration) -> bool {
        self.tg.wait_for_sent(at_least, limit).await
    }

    fn chats(&self) -> Vec<i64> {
        (1..=self.n as i64).map(|i| FIRST_CHAT_ID + i).collect()
    }

    /// Everyone has a message and the outbox is empty, or the time is up. (The stand-in's
    /// message list is copied only when enough have arrived: at 1,000 a second a copy per
    /// message would take the CPU the stand-in needs.)
    async fn wait_finished(&self, limit: Duration) -> bool {
        let chats = self.chats();
        let deadline = Instant::now() + limit;
        let mut need = chats.len();
        let everyone = loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if !self.tg.wait_for_sent(need, left).await {
                break false;
            }
            let per_chat = counts(&self.tg);
            let missing = chats.iter().filter(|c| !per_chat.contains_key(c)).count();
            if missing == 0 {
                break true;
            }
            need = per_chat.values().sum::<usize>() + missing;
        };
        let drained =
            encore::outbox::dispatcher::wait_until_idle(&self.store, Duration::from_secs(60))
                .await
                .unwrap_or(false);
        everyone && drained
    }

    fn expected_send(&self) -> Duration {
        Duration::from_secs_f64(self.n as f64 / f64::from(self.rate))
    }

    /// Rows sent per claim owner's pid (the owner that marked each one sent).
    async fn sent_by_pid(&self) -> HashMap<u32, i64> {
        let rows: Vec<(Option<String>, i64)> = sqlx::query_as(
            "SELECT claim_owner, COUNT(*) FROM outbox WHERE state = 'sent' GROUP BY claim_owner",
        )
        .fetch_all(self.store.pool_for_tests())
        .await
        .expect("count sent rows per owner");
        let mut by_pid = HashMap::new();
        for (owner, n) in rows {
            let pid = owner
                .as_deref()
                .and_then(|o| o.split(':').nth(1))
                .and_then(|p| p.parse().ok())
                .unwrap_or(0);
            *by_pid.entry(pid).or_insert(0) += n;
        }
        by_pid
    }

    /// Chats of rows a process (by pid) has in `state`, and how many.
    async fn rows_of(&self, pid: u32, state: &str) -> Vec<i64> {
        let customers: Vec<Option<String>> = sqlx::query_scalar(
            "SELECT customer_id FROM outbox WHERE state = $1 AND COALESCE(claim_owner, '') LIKE $2",
        )
        .bind(state)
        .bind(format!("%:{pid}:%"))
        .fetch_all(self.store.pool_for_tests())
        .await
        .expect("rows of an owner");
        customers
            .iter()
            .filter_map(|c| c.as_deref()?.strip_prefix('c')?.parse::<i64>().ok())
            .map(|i| FIRST_CHAT_ID + i)
            .collect()
    }

    /// Where a message's time goes, per row, in ms (p50, p90): from its claim (`claimed_at`)
    /// to its arrival at the stand-in, and from that arrival to its `sent` mark (`sent_at`).
    /// The database's times are the sender's wall clock; the stand-in's arrivals are put on
    /// the same clock through `clock` (an instant and the wall time read together). With at
    /// most `MAX_IN_FLIGHT` rows in hand, a dispatcher cannot send faster than
    /// `MAX_IN_FLIGHT` / (claim → sent) (Little's law).
    async fn time_split_ms(&self, clock: (Instant, chrono::DateTime<Utc>)) -> TimeSplit {
        let rows: Vec<(Option<String>, Option<String>, Option<String>)> = sqlx::query_as(
            "SELECT customer_id, claimed_at, sent_at FROM outbox WHERE state = 'sent'",
        )
        .fetch_all(self.store.pool_for_tests())
        .await
        .expect("read claim and send times");
        let mut arrived: HashMap<i64, Instant> = HashMap::new();
        for m in self.tg.sent() {
            arrived.entry(m.chat_id).or_insert(m.at);
        }
        let wall = |at: Instant| -> chrono::DateTime<Utc> {
            let since = chrono::Duration::from_std(at.saturating_duration_since(clock.0))
                .unwrap_or_default();
            clock.1 + since
        };
        let ms = |d: chrono::Duration| d.num_microseconds().unwrap_or(0) as f64 / 1000.0;
        let (mut to_wire, mut to_mark) = (Vec::new(), Vec::new());
        for (customer, claimed, sent) in &rows {
            let (Some(customer), Some(claimed), Some(sent)) = (customer, claimed, sent) else {
                continue;
            };
            let (Some(i), Ok(claimed), Ok(sent)) = (
                customer
                    .strip_prefix('c')
                    .and_then(|i| i.parse::<i64>().ok()),
                encore::store::parse_ts(claimed),
                encore::store::parse_ts(sent),
            ) else {
                continue;
            };
            if let Some(at) = arrived.get(&(FIRST_CHAT_ID + i)) {
                to_wire.push(ms(wall(*at) - claimed));
                to_mark.push(ms(sent - wall(*at)));
            }
        }
        TimeSplit {
            claim_to_arrival: p50_p90(&mut to_wire),
            arrival_to_sent: p50_p90(&mut to_mark),
        }
    }

    fn sends_per_worker(&self) -> String {
        self.workers
            .iter()
            .map(|w| format!("{}={}", w.name, w.relay.sends().len()))
            .collect::<Vec<_>>()
            .join(" ")
    }

    async fn sent_rows_per_worker(&self) -> String {
        let by_pid = self.sent_by_pid().await;
        let mut known = 0;
        let mut parts: Vec<String> = self
            .workers
            .iter()
            .map(|w| {
                let n = by_pid.get(&w.pid()).copied().unwrap_or(0);
                known += n;
                format!("{}={n}", w.name)
            })
            .collect();
        let total: i64 = by_pid.values().sum();
        if total > known {
            parts.push(format!("other={}", total - known));
        }
        parts.join(" ")
    }

    /// Stops everything still running, drops the schema.
    async fn finish(mut self) {
        for w in &mut self.workers {
            if w.killed {
                continue;
            }
            if w.down {
                signal(w.pid(), "CONT");
            }
            if matches!(w.child.try_wait(), Ok(None)) {
                terminate(&mut w.child);
            }
        }
        self.store.close().await;
        self.db.drop_schema().await;
        self.tg.shutdown().await;
    }
}

fn unshare_works() -> bool {
    Command::new("unshare")
        .args(["--uts", "true"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// What one `cluster` run found.
struct ClusterRun {
    rate: f64,
    ratio: f64,
    violations: usize,
    logged_429s: usize,
    lost: usize,
    duplicates: usize,
    most_in_1s: usize,
    enqueue_to_last_s: f64,
    split: TimeSplit,
    roles_before: String,
    roles_after: String,
    sends_per_worker: String,
    rows_per_worker: String,
    /// Arrivals in each whole second from the first (the last second is partial).
    per_second: String,
    finished: bool,
}

impl ClusterRun {
    fn met(&self) -> bool {
        self.finished
            && self.violations == 0
            && self.logged_429s == 0
            && self.lost == 0
            && self.duplicates == 0
            && self.ratio >= TARGET_RATIO
    }
}

/// Where a message's time goes (ms, p50 and p90): [`Cluster::time_split_ms`].
struct TimeSplit {
    claim_to_arrival: (f64, f64),
    arrival_to_sent: (f64, f64),
}

fn p50_p90(values: &mut [f64]) -> (f64, f64) {
    values.sort_by(f64::total_cmp);
    let pick = |q: f64| {
        values
            .get(((values.len() as f64 - 1.0) * q).round() as usize)
            .copied()
            .unwrap_or(0.0)
    };
    (pick(0.5), pick(0.9))
}

/// Lost and duplicated chats: `(lost, duplicates, chats with more than one)`.
fn lost_and_duplicates(tg: &FakeTelegram, chats: &[i64]) -> (usize, usize, Vec<i64>) {
    let per_chat = counts(tg);
    let lost = chats.iter().filter(|c| !per_chat.contains_key(c)).count();
    let duplicates = per_chat.values().map(|n| n.saturating_sub(1)).sum();
    let twice = per_chat
        .iter()
        .filter(|(_, n)| **n > 1)
        .map(|(c, _)| *c)
        .collect();
    (lost, duplicates, twice)
}

/// How many of the sorted arrivals fell in each whole second from the first: where a run lost
/// its pace (the start, a stall, the end).
fn per_second(sorted: &[Instant]) -> String {
    let Some(first) = sorted.first() else {
        return String::new();
    };
    let mut counts: Vec<usize> = Vec::new();
    for at in sorted {
        let second = at.duration_since(*first).as_secs() as usize;
        if counts.len() <= second {
            counts.resize(second + 1, 0);
        }
        counts[second] += 1;
    }
    joined(counts.iter())
}

/// The stand-in's arrivals of accepted messages, sorted.
fn arrivals(tg: &FakeTelegram) -> Vec<Instant> {
    let mut at: Vec<Instant> = tg.sent().iter().map(|m| m.at).collect();
    at.sort();
    at
}

pub async fn cluster_bench(args: ClusterArgs, runs: usize) {
    let mut results = Vec::new();
    for run in 1..=runs.max(1) {
        eprintln!("cluster: run {run}/{runs}");
        let cluster = Cluster::start(&args).await;
        let roles_before = Cluster::roles(&cluster.health().await);
        let clock = (Instant::now(), Utc::now());
        let enqueued = Instant::now();
        cluster.env.end_broadcast(BROADCAST);
        let finished = cluster
            .wait_finished(cluster.expected_send() * 3 + Duration::from_secs(120))
            .await;
        let roles_after = Cluster::roles(&cluster.health().await);
        let at = arrivals(&cluster.tg);
        let span = match (at.first(), at.last()) {
            (Some(first), Some(last)) => last.duration_since(*first).as_secs_f64(),
            _ => 0.0,
        };
        let rate = if span > 0.0 {
            (at.len() - 1) as f64 / span
        } else {
            0.0
        };
        let (lost, duplicates, _) = lost_and_duplicates(&cluster.tg, &cluster.chats());
        let r = ClusterRun {
            rate,
            ratio: rate / f64::from(args.rate),
            violations: cluster.tg.violations(),
            logged_429s: cluster
                .tg
                .requests()
                .iter()
                .filter(|r| r.status == 429)
                .count(),
            lost,
            duplicates,
            most_in_1s: max_in_window(&at, Duration::from_secs(1)),
            enqueue_to_last_s: at
                .last()
                .map_or(0.0, |l| l.saturating_duration_since(enqueued).as_secs_f64()),
            split: cluster.time_split_ms(clock).await,
            roles_before,
            roles_after,
            sends_per_worker: cluster.sends_per_worker(),
            rows_per_worker: cluster.sent_rows_per_worker().await,
            per_second: per_second(&at),
            finished,
        };
        eprintln!(
            "cluster: run {run}: {:.1} msgs/s (ratio {:.4}), 429s {}/{}, lost {}, duplicates {}, sent by {}",
            r.rate, r.ratio, r.violations, r.logged_429s, r.lost, r.duplicates, r.sends_per_worker
        );
        results.push(r);
        cluster.finish().await;
    }
    println!(
        "== cluster: {} `encore serve` on one PostgreSQL, {} thank-yous, stand-in at {}/s exactly (issue #12) ==",
        args.workers, args.messages, args.rate
    );
    let figures = |f: &dyn Fn(&ClusterRun) -> f64, d: usize| {
        min_median_max(&results.iter().map(f).collect::<Vec<_>>(), d)
    };
    row("runs", results.len().to_string());
    row("msgs/s (min/median/max)", figures(&|r| r.rate, 1));
    row("ratio to the bound", figures(&|r| r.ratio, 4));
    row(
        "429s violations / answered",
        joined(
            results
                .iter()
                .map(|r| format!("{}/{}", r.violations, r.logged_429s)),
        ),
    );
    row(
        "lost / duplicates",
        joined(
            results
                .iter()
                .map(|r| format!("{}/{}", r.lost, r.duplicates)),
        ),
    );
    row(
        "most in any 1 s",
        joined(results.iter().map(|r| r.most_in_1s)),
    );
    row("enqueue → last, s", figures(&|r| r.enqueue_to_last_s, 1));
    row(
        "claim → stand-in p50 / p90, ms",
        format!(
            "{} / {}",
            figures(&|r| r.split.claim_to_arrival.0, 1),
            figures(&|r| r.split.claim_to_arrival.1, 1)
        ),
    );
    row(
        "stand-in → sent p50 / p90, ms",
        format!(
            "{} / {}",
            figures(&|r| r.split.arrival_to_sent.0, 1),
            figures(&|r| r.split.arrival_to_sent.1, 1)
        ),
    );
    for (i, r) in results.iter().enumerate() {
        row(
            &format!("run {} roles before", i + 1),
            r.roles_before.clone(),
        );
        row(&format!("run {} roles after", i + 1), r.roles_after.clone());
        row(
            &format!("run {} sent by (relay)", i + 1),
            r.sends_per_worker.clone(),
        );
        row(
            &format!("run {} sent rows (db)", i + 1),
            r.rows_per_worker.clone(),
        );
        row(&format!("run {} per second", i + 1), r.per_second.clone());
    }
    row(
        "target",
        format!(
            "0 429s, ratio ≥ {TARGET_RATIO}, each exactly one: {}",
            verdict(results.iter().all(ClusterRun::met))
        ),
    );
    row("encore binary", super::processes::encore_binary_note());
    println!("  load average: {}", load_average());
}

// ---- failover --------------------------------------------------------------------------------

pub async fn failover_bench(args: ClusterArgs) {
    assert!(
        args.workers >= 2,
        "failover needs a standby: --workers 2 or more"
    );
    let mut cluster = Cluster::start(&args).await;
    let lease = Duration::from_secs(cluster.lease_seconds);
    let roles_start = Cluster::roles(&cluster.health().await);
    cluster.env.end_broadcast(BROADCAST);
    let limit = cluster.expected_send() * 3 + Duration::from_secs(120);
    let n = cluster.n;

    // 1. kill -9 of the leader at 30 %.
    assert!(
        cluster.wait_delivered(n * 3 / 10, limit).await,
        "30 % was never delivered"
    );
    let first = cluster.leader().await.expect("a leader");
    let killed_pid = cluster.workers[first].pid();
    kill_9(&mut cluster.workers[first].child);
    let killed_at = Instant::now();
    cluster.workers[first].down = true;
    cluster.workers[first].killed = true;
    let delivered_at_kill = cluster.delivered();
    let sending_at_kill = cluster.rows_of(killed_pid, "sending").await;
    let claimed_at_kill = cluster.rows_of(killed_pid, "claimed").await.len();
    eprintln!(
        "failover: killed {} (pid {killed_pid}) at {delivered_at_kill} delivered; {} sending, {claimed_at_kill} claimed",
        cluster.workers[first].name,
        sending_at_kill.len()
    );
    let takeover = next_send_from_others(&cluster, &[first], killed_at, limit).await;
    let second = cluster.leader().await;
    let roles_after_kill = Cluster::roles(&cluster.health().await);
    eprintln!(
        "failover: next message {:?} after the kill; roles {roles_after_kill}",
        takeover
    );

    // 2. SIGSTOP of the new leader at 60 %, a standby takes over, SIGCONT.
    let mut pause = None;
    if let Some(second) = second
        && cluster.workers.len() >= 3
    {
        assert!(
            cluster.wait_delivered(n * 6 / 10, limit).await,
            "60 % was never delivered"
        );
        let paused_pid = cluster.workers[second].pid();
        signal(paused_pid, "STOP");
        let stopped_at = Instant::now();
        cluster.workers[second].down = true;
        let sending_at_stop = cluster.rows_of(paused_pid, "sending").await;
        let delivered_at_stop = cluster.delivered();
        tokio::time::sleep(lease + Duration::from_secs(3)).await;
        let standby_took_over =
            next_send_from_others(&cluster, &[first, second], stopped_at, Duration::ZERO).await;
        let roles_while_stopped = Cluster::roles(&cluster.health().await);
        signal(paused_pid, "CONT");
        let resumed_at = Instant::now();
        cluster.workers[second].down = false;
        // CONTRACT §10: it says so (standby) within lease_seconds.
        let mut says_standby = None;
        while resumed_at.elapsed() < lease + Duration::from_secs(5) {
            if let Some(h) = cluster.health_of(&cluster.workers[second]).await
                && h.role == "standby"
            {
                says_standby = Some(resumed_at.elapsed());
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        pause = Some(Pause {
            worker: second,
            stopped_at,
            resumed_at,
            delivered_at_stop,
            sending_at_stop,
            standby_took_over,
            roles_while_stopped,
            says_standby,
        });
    }

    let finished = cluster.wait_finished(limit).await;
    let roles_end = Cluster::roles(&cluster.health().await);
    let (lost, duplicates, twice) = lost_and_duplicates(&cluster.tg, &cluster.chats());
    let in_flight: HashSet<i64> = sending_at_kill.iter().copied().collect();
    let paused_in_flight: HashSet<i64> = pause
        .as_ref()
        .map(|p| p.sending_at_stop.iter().copied().collect())
        .unwrap_or_default();
    let twice_from_kill = twice.iter().filter(|c| in_flight.contains(c)).count();
    let twice_from_pause = twice
        .iter()
        .filter(|c| !in_flight.contains(c) && paused_in_flight.contains(c))
        .count();
    let twice_elsewhere = twice.len() - twice_from_kill - twice_from_pause;

    println!(
        "== failover: {} `encore serve` on one PostgreSQL, {} thank-yous at {}/s, lease_seconds {} (issue #12) ==",
        args.workers,
        n,
        args.rate,
        lease.as_secs()
    );
    row("roles at start", roles_start);
    row(
        "kill -9 of",
        format!(
            "{} at {delivered_at_kill} delivered",
            cluster.workers[first].name
        ),
    );
    row(
        "takeover (kill → next message)",
        match takeover {
            Some(t) => format!(
                "{:.2} s (target ≤ {} s: {})",
                t.as_secs_f64(),
                (lease + TARGET_TAKEOVER_MARGIN).as_secs(),
                verdict(t <= lease + TARGET_TAKEOVER_MARGIN)
            ),
            None => "none within the time limit: MISSED".to_string(),
        },
    );
    row("roles after the kill", roles_after_kill);
    row(
        "dead leader's rows at the kill",
        format!(
            "{} sending, {claimed_at_kill} claimed",
            sending_at_kill.len()
        ),
    );
    if let Some(p) = &pause {
        let name = &cluster.workers[p.worker].name;
        let relay = &cluster.workers[p.worker].relay;
        let during = relay
            .sends()
            .into_iter()
            .filter(|t| *t > p.stopped_at && *t <= p.resumed_at)
            .count();
        let after = relay.sends_after(p.resumed_at).len();
        row(
            "SIGSTOP of",
            format!(
                "{name} at {} delivered; {} rows sending",
                p.delivered_at_stop,
                p.sending_at_stop.len()
            ),
        );
        row(
            "takeover (stop → next message)",
            match p.standby_took_over {
                Some(t) => format!("{:.2} s", t.as_secs_f64()),
                None => format!(
                    "not within lease_seconds + 3 s ({} s)",
                    (lease + Duration::from_secs(3)).as_secs()
                ),
            },
        );
        row("roles while stopped", p.roles_while_stopped.clone());
        row(
            "resumed says standby after",
            p.says_standby
                .map_or("never (within lease + 5 s)".to_string(), |t| {
                    format!("{:.2} s", t.as_secs_f64())
                }),
        );
        row(
            "sent by it while stopped",
            format!("{during} (requests already written)"),
        );
        row(
            "sent by it after SIGCONT",
            format!("{after} (target 0: {})", verdict(after == 0)),
        );
    } else {
        row("SIGSTOP scenario", "skipped: needs --workers 3".to_string());
    }
    row("every buyer reached", verdict(finished).to_string());
    row("lost (target 0)", lost.to_string());
    row("duplicates", duplicates.to_string());
    row(
        "… in flight at the kill",
        format!(
            "{twice_from_kill} (bound {}: {})",
            sending_at_kill.len(),
            verdict(twice_from_kill <= sending_at_kill.len() && twice_elsewhere == 0)
        ),
    );
    row(
        "… at the stop / elsewhere",
        format!("{twice_from_pause} / {twice_elsewhere}"),
    );
    row(
        "429s violations / answered",
        format!(
            "{} / {}",
            cluster.tg.violations(),
            cluster
                .tg
                .requests()
                .iter()
                .filter(|r| r.status == 429)
                .count()
        ),
    );
    row("sent by (relay)", cluster.sends_per_worker());
    row("sent rows (db)", cluster.sent_rows_per_worker().await);
    row("roles at the end", roles_end);
    row("encore binary", super::processes::encore_binary_note());
    println!("  load average: {}", load_average());
    cluster.finish().await;
}

struct Pause {
    worker: usize,
    stopped_at: Instant,
    resumed_at: Instant,
    delivered_at_stop: usize,
    sending_at_stop: Vec<i64>,
    standby_took_over: Option<Duration>,
    roles_while_stopped: String,
    says_standby: Option<Duration>,
}

/// From `since` to the first send of a process not in `except` (waiting up to `limit`).
async fn next_send_from_others(
    cluster: &Cluster,
    except: &[usize],
    since: Instant,
    limit: Duration,
) -> Option<Duration> {
    let deadline = Instant::now() + limit;
    loop {
        let first = cluster
            .workers
            .iter()
            .enumerate()
            .filter(|(i, _)| !except.contains(i))
            .filter_map(|(_, w)| w.relay.sends_after(since).first().copied())
            .min();
        if let Some(at) = first {
            return Some(at.duration_since(since));
        }
        if Instant::now() >= deadline {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
