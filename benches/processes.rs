//! The real `encore` binary as child processes of the benchmarks (`crash`, `cluster`,
//! `failover`, `import`): where it is, the environment a `serve` or a CLI command runs with,
//! how it is killed, and what the Telegram stand-in received from it.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use super::telegram::{self, FakeTelegram};
use encore::store::Store;

const SECRET: &str = "bench-child-webhook-secret-5f1c9a7e3b2d";
const ADMIN: &str = "bench-child-admin-token-8e4b2c6a9d1f";

/// The `encore` binary built next to this one (`cargo build --bin encore --bin encore-bench`),
/// or the one `ENCORE_BENCH_ENCORE` names (an experiment's build; the report must say so).
pub fn encore_exe() -> PathBuf {
    let exe = match std::env::var_os("ENCORE_BENCH_ENCORE") {
        Some(path) => PathBuf::from(path),
        None => std::env::current_exe()
            .expect("where is this executable?")
            .with_file_name("encore"),
    };
    assert!(
        exe.exists(),
        "{} is missing: cargo build --bin encore --bin encore-bench",
        exe.display()
    );
    exe
}

/// The report's line for the `encore` the children run: which file, built when (so a stale or
/// an experiment's build cannot pass for the current one).
pub fn encore_binary_note() -> String {
    let exe = encore_exe();
    let built = std::fs::metadata(&exe)
        .and_then(|m| m.modified())
        .map(|t| {
            chrono::DateTime::<chrono::Utc>::from(t)
                .format("%Y-%m-%d %H:%M UTC")
                .to_string()
        })
        .unwrap_or_else(|_| "?".to_string());
    let how = if std::env::var_os("ENCORE_BENCH_ENCORE").is_some() {
        ", ENCORE_BENCH_ENCORE: an experiment's build"
    } else {
        ""
    };
    format!("{} (built {built}{how})", exe.display())
}

/// How every child of one benchmark is configured: `ENCORE_*` variables only, as a host
/// would set them, the Telegram section pointing at the stand-in (or at a relay in front of it).
#[derive(Clone)]
pub struct ChildEnv {
    exe: PathBuf,
    dir: PathBuf,
    vars: Vec<(String, String)>,
}

impl ChildEnv {
    pub fn new(dir: &Path, db_url: &str, telegram_api_url: &str) -> ChildEnv {
        // The children's own log: errors only, unless ENCORE_BENCH_LOG asks for more.
        let log = std::env::var("ENCORE_BENCH_LOG").unwrap_or_else(|_| "error".to_string());
        let vars = [
            ("RUST_LOG", log.as_str()),
            ("ENCORE_DATABASE_URL", db_url),
            ("ENCORE_HTTP_LISTEN", "127.0.0.1:0"),
            ("ENCORE_HTTP_WEBHOOK_SECRET", SECRET),
            ("ENCORE_HTTP_ADMIN_TOKEN", ADMIN),
            ("ENCORE_TELEGRAM_TOKEN", telegram::TOKEN),
            ("ENCORE_TELEGRAM_API_URL", telegram_api_url),
        ];
        ChildEnv {
            exe: encore_exe(),
            dir: dir.to_path_buf(),
            vars: vars
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    /// The same environment with `key` set (or replaced).
    pub fn with(mut self, key: &str, value: &str) -> ChildEnv {
        self.vars.retain(|(k, _)| k != key);
        self.vars.push((key.to_string(), value.to_string()));
        self
    }

    /// `encore <args>` with this environment; stdout dropped, stderr shown.
    pub fn command(&self, args: &[&str]) -> Command {
        self.command_of(&self.exe, args)
    }

    /// `program <args>` with this environment (a wrapper such as `unshare` that execs encore).
    pub fn command_of(&self, program: &Path, args: &[&str]) -> Command {
        let mut command = Command::new(program);
        command
            .args(args)
            .current_dir(&self.dir)
            .envs(self.vars.iter().map(|(k, v)| (k, v)))
            .stdout(Stdio::null())
            .stderr(Stdio::inherit());
        command
    }

    pub fn exe(&self) -> &Path {
        &self.exe
    }

    /// The real `encore broadcast end <id>`, run to its end.
    pub fn end_broadcast(&self, broadcast: &str) {
        let ended = self
            .command(&["broadcast", "end", broadcast])
            .status()
            .expect("encore broadcast end runs");
        assert!(ended.success(), "encore broadcast end failed");
    }
}

pub fn kill_9(child: &mut Child) {
    // `Child::kill` is SIGKILL on Unix; waiting reaps it, so its pid is provably gone.
    child.kill().expect("kill -9");
    child.wait().expect("reaped");
}

/// Sends `signal` (`TERM`, `STOP`, `CONT`) to the process.
pub fn signal(pid: u32, signal: &str) {
    let _ = Command::new("kill")
        .args([&format!("-{signal}"), &pid.to_string()])
        .status();
}

/// A graceful stop: SIGTERM, then reaped.
pub fn terminate(child: &mut Child) {
    signal(child.id(), "TERM");
    let _ = child.wait();
}

/// Rows on the wire (`sending`): the most that may arrive twice. With `owner_pid`, only those
/// claimed by that process (claim owners are `host:pid:random`).
pub async fn count_sending(url: &str, owner_pid: Option<u32>) -> i64 {
    let store = Store::open(url).await.expect("open the database");
    let pattern = owner_pid.map_or("%".to_string(), |pid| format!("%:{pid}:%"));
    let n = super::count(
        &store,
        "SELECT COUNT(*) FROM outbox WHERE state = 'sending' AND COALESCE(claim_owner, '') LIKE $1",
        &[&pattern],
    )
    .await;
    store.close().await;
    n
}

/// Messages the stand-in received, per chat.
pub fn counts(tg: &FakeTelegram) -> HashMap<i64, usize> {
    let mut per_chat = HashMap::new();
    for message in tg.sent() {
        *per_chat.entry(message.chat_id).or_insert(0) += 1;
    }
    per_chat
}

/// `min / median / max` of the values (in any order), `-` when there are none.
pub fn min_median_max(sorted_or_not: &[f64], decimals: usize) -> String {
    let mut values = sorted_or_not.to_vec();
    values.sort_by(f64::total_cmp);
    if values.is_empty() {
        return "-".to_string();
    }
    let median = values[values.len() / 2];
    format!(
        "{:.d$} / {:.d$} / {:.d$}",
        values[0],
        median,
        values[values.len() - 1],
        d = decimals
    )
}
