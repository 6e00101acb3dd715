//! Persistence: the one type every other part uses to reach the database. One file per
//! aggregate. SQL is written plainly and portably (`$1` placeholders, text timestamps in one
//! fixed UTC format) so the PostgreSQL backend is an addition, not a rewrite.
//!
//! Functions that must run inside a caller's transaction take `&mut Conn`; the rest take
//! `&Store`. `Conn` (a pooled connection or a transaction) and `Tx` (`Store::begin`, derefs to
//! `Conn`) are the store's own types: nothing outside `store/` names the driver or reaches the
//! pool, so a PostgreSQL backend fills them without touching a flow. Stored names (flows,
//! kinds, states) are read back as their enums here, at the boundary. The store never decides
//! anything: flows do.

pub mod carts;
pub mod chats;
pub mod customers;
pub mod dashboard;
pub mod dead_letters;
pub mod events;
pub mod feedback;
pub mod instances;
pub mod journeys;
pub mod orders;
pub mod outbox;
pub mod picks;
pub mod polls;
pub mod privacy;
pub mod report;
pub mod retention;
pub mod rooms;
pub mod telegram_updates;
pub mod tickets;
pub mod trust;
pub mod vip;
pub mod wake;
pub mod webhooks;

use std::time::Duration;

use chrono::{DateTime, Datelike, SecondsFormat, Utc};
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::pool::PoolConnection;
use sqlx::{Any, AnyConnection, AnyPool, Executor};

/// Which database engine a store runs on. The SQL is the same on both except in the few places
/// that name their dialect (`Backend::is_postgres`): claims lock rows, write transactions lock
/// the way SQLite's `BEGIN IMMEDIATE` does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// The engine a database URL names, or why the URL is not one encore can use.
    pub fn of_url(url: &str) -> Result<Backend, String> {
        if url.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Backend::Postgres)
        } else {
            Err(
                "expected a sqlite: URL (sqlite://encore.db?mode=rwc) or a postgres:// URL"
                    .to_string(),
            )
        }
    }

    pub fn is_postgres(self) -> bool {
        self == Backend::Postgres
    }
}

/// The store's own handle on the database: a pooled connection or an open transaction. Callers
/// outside `store/` only pass `&mut Conn` on to store functions; they never see the driver.
pub struct Conn {
    held: Held,
    backend: Backend,
}

enum Held {
    Pooled(PoolConnection<Any>),
    Transaction(sqlx::Transaction<'static, Any>),
}

impl Conn {
    /// The driver's connection, for the SQL in `store/` only.
    pub(in crate::store) fn db(&mut self) -> &mut AnyConnection {
        match &mut self.held {
            Held::Pooled(conn) => conn,
            Held::Transaction(tx) => tx,
        }
    }

    pub(in crate::store) fn backend(&self) -> Backend {
        self.backend
    }

    /// Raw SQL for integration tests and benchmarks that seed or inspect tables directly,
    /// inside this connection's transaction. The application never uses it.
    #[doc(hidden)]
    pub fn raw_for_tests(&mut self) -> &mut AnyConnection {
        self.db()
    }
}

/// A store transaction: use it as `&mut Conn`, then `commit()`. Dropped without a commit, it
/// rolls back.
pub struct Tx {
    conn: Conn,
}

impl Tx {
    pub async fn commit(self) -> StoreResult<()> {
        match self.conn.held {
            Held::Transaction(tx) => Ok(tx.commit().await?),
            // Only `Store::begin` builds a `Tx`, always around a transaction.
            Held::Pooled(_) => Ok(()),
        }
    }

    pub async fn rollback(self) -> StoreResult<()> {
        match self.conn.held {
            Held::Transaction(tx) => Ok(tx.rollback().await?),
            Held::Pooled(_) => Ok(()),
        }
    }
}

impl std::ops::Deref for Tx {
    type Target = Conn;
    fn deref(&self) -> &Conn {
        &self.conn
    }
}

impl std::ops::DerefMut for Tx {
    fn deref_mut(&mut self) -> &mut Conn {
        &mut self.conn
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// `url` is masked (no password): this error is printed as it is.
    #[error("the database URL `{url}` is not usable: {reason}")]
    BadUrl { url: String, reason: String },
    /// `url` is masked (no password).
    #[error("cannot open the database `{url}`: {source}")]
    Open {
        url: String,
        #[source]
        source: sqlx::Error,
    },
    #[error("applying database migrations failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("database error: {0}")]
    Sql(#[from] sqlx::Error),
    #[error("stored data is damaged: {0}")]
    Corrupt(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    /// The URL it was opened with: the wake listener opens its own connection (`wake.rs`).
    url: std::sync::Arc<str>,
}

/// By hand: the URL may carry the database password, which no output shows.
impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("backend", &self.backend)
            .field("url", &crate::config::masked_database_url(&self.url))
            .finish_non_exhaustive()
    }
}

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// The key of the one PostgreSQL advisory lock that write transactions take (`Store::begin`):
/// "encore" in ASCII. Any fixed number works; it only has to be the same in every process.
const WRITE_LOCK: i64 = 0x656e_636f_7265;

/// How many connections a pool keeps at most, unless `[database] max_connections` says otherwise.
pub const DEFAULT_MAX_CONNECTIONS: u32 = 10;

impl Store {
    /// Opens the database (creating an SQLite file when the URL says `mode=rwc`) without
    /// migrating it.
    pub async fn open(url: &str) -> StoreResult<Store> {
        Store::open_with(url, DEFAULT_MAX_CONNECTIONS).await
    }

    /// Opens the database with at most `max_connections` pooled connections (PostgreSQL; an
    /// SQLite file keeps 8, an in-memory one 1).
    pub async fn open_with(url: &str, max_connections: u32) -> StoreResult<Store> {
        let backend = Backend::of_url(url).map_err(|reason| StoreError::BadUrl {
            url: crate::config::masked_database_url(url),
            reason,
        })?;
        sqlx::any::install_default_drivers();
        let options: AnyConnectOptions =
            url.parse().map_err(|err: sqlx::Error| StoreError::BadUrl {
                url: crate::config::masked_database_url(url),
                // sqlx's reason may quote the URL whole; name the URL once, masked, instead.
                reason: without(&err.to_string(), url),
            })?;
        if backend == Backend::Postgres {
            // The pool would report an unreachable server only as "timed out" after 30 s: one
            // direct connection first names the real cause (refused, unknown host, password).
            use sqlx::Connection;
            let opened_within = Duration::from_secs(10);
            match tokio::time::timeout(opened_within, AnyConnection::connect_with(&options)).await {
                Ok(Ok(conn)) => {
                    let _ = conn.close().await;
                }
                Ok(Err(source)) => {
                    return Err(StoreError::Open {
                        url: crate::config::masked_database_url(url),
                        source,
                    });
                }
                Err(_) => {
                    return Err(StoreError::BadUrl {
                        url: crate::config::masked_database_url(url),
                        reason: format!("no answer within {} s", opened_within.as_secs()),
                    });
                }
            }
        }
        let in_memory = url.contains(":memory:");
        let max = match backend {
            // An in-memory database lives in one connection.
            Backend::Sqlite if in_memory => 1,
            Backend::Sqlite => 8,
            Backend::Postgres => max_connections.max(2),
        };
        let pool = AnyPoolOptions::new()
            .max_connections(max)
            .min_connections(if in_memory { 1 } else { 0 })
            .idle_timeout((!in_memory).then_some(Duration::from_secs(600)))
            .max_lifetime((!in_memory).then_some(Duration::from_secs(3600)))
            .acquire_timeout(Duration::from_secs(30))
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    match backend {
                        // WAL lets the CLI write while `encore serve` reads and sends; the
                        // busy timeout makes a writer wait its turn instead of failing.
                        Backend::Sqlite => {
                            conn.execute(sqlx::raw_sql(
                                "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;
                                 PRAGMA busy_timeout = 10000; PRAGMA foreign_keys = ON;",
                            ))
                            .await?;
                        }
                        // A session that stops inside a transaction (a paused or cut-off
                        // worker, a suspended CLI) must not hold the write lock or a row lock
                        // for ever: PostgreSQL ends it after 15 s idle in a transaction, a
                        // dead peer is noticed by keepalives within ~25 s, and a lock wait
                        // fails after 10 s instead of hanging every worker behind it.
                        Backend::Postgres => {
                            conn.execute(sqlx::raw_sql(
                                "SET application_name = 'encore';
                                 SET idle_in_transaction_session_timeout = '15s';
                                 SET lock_timeout = '10s';
                                 SET tcp_keepalives_idle = 10;
                                 SET tcp_keepalives_interval = 5;
                                 SET tcp_keepalives_count = 3;",
                            ))
                            .await?;
                        }
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await
            .map_err(|err| match err {
                sqlx::Error::Configuration(reason) => StoreError::BadUrl {
                    url: crate::config::masked_database_url(url),
                    reason: without(&reason.to_string(), url),
                },
                source => StoreError::Open {
                    url: crate::config::masked_database_url(url),
                    source,
                },
            })?;
        Ok(Store {
            pool,
            backend,
            url: url.into(),
        })
    }

    /// Opens and applies every migration: what `serve`, `demo` and the CLI do at start.
    pub async fn open_and_migrate(url: &str) -> StoreResult<Store> {
        let store = Store::open(url).await?;
        store.migrate().await?;
        Ok(store)
    }

    /// Applies pending migrations. On PostgreSQL sqlx holds an advisory lock meanwhile, so
    /// several processes starting at once apply each migration once.
    pub async fn migrate(&self) -> StoreResult<()> {
        match self.backend {
            Backend::Sqlite => SQLITE_MIGRATIONS.run(&self.pool).await?,
            Backend::Postgres => POSTGRES_MIGRATIONS.run(&self.pool).await?,
        }
        Ok(())
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// A write transaction, one at a time per database. SQLite: `BEGIN IMMEDIATE` takes the
    /// write lock up front, so a transaction that reads before it writes waits its turn
    /// (busy_timeout) instead of failing with "database is locked". PostgreSQL: the same
    /// guarantee across processes, from one transaction-scoped advisory lock, so every rule
    /// that reads and then writes sees what it read until it commits. Claims and the send
    /// bookkeeping do not use it: they lock rows ([`Store::begin_rows`]).
    pub async fn begin(&self) -> StoreResult<Tx> {
        let tx = match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => {
                let mut tx = self.pool.begin().await?;
                sqlx::query("SELECT 1 FROM pg_advisory_xact_lock($1)")
                    .bind(WRITE_LOCK)
                    .execute(&mut *tx)
                    .await?;
                tx
            }
        };
        Ok(Tx {
            conn: Conn {
                held: Held::Transaction(tx),
                backend: self.backend,
            },
        })
    }

    /// A transaction that relies on row locks only (PostgreSQL `READ COMMITTED`; `FOR UPDATE
    /// SKIP LOCKED` where it claims), for the dispatcher's claims and bookkeeping, which must not
    /// queue behind every other writer. On SQLite it is [`Store::begin`].
    pub async fn begin_rows(&self) -> StoreResult<Tx> {
        match self.backend {
            Backend::Sqlite => self.begin().await,
            Backend::Postgres => Ok(Tx {
                conn: Conn {
                    held: Held::Transaction(self.pool.begin().await?),
                    backend: self.backend,
                },
            }),
        }
    }

    /// A connection from the pool, for work that needs no transaction of its own.
    pub async fn conn(&self) -> StoreResult<Conn> {
        Ok(Conn {
            held: Held::Pooled(self.pool.acquire().await?),
            backend: self.backend,
        })
    }

    /// The pool itself, for the SQL in `store/` only.
    pub(in crate::store) fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Raw SQL for integration tests and benchmarks that seed or inspect tables directly. The
    /// application never uses it: its SQL lives in `store/`.
    #[doc(hidden)]
    pub fn pool_for_tests(&self) -> &AnyPool {
        &self.pool
    }

    /// `GET /healthz`: does the database answer?
    /// Within 2 s: a load balancer asking must get its answer before its own timeout.
    pub async fn ping(&self) -> bool {
        let ping = sqlx::query("SELECT 1").execute(&self.pool);
        matches!(
            tokio::time::timeout(Duration::from_secs(2), ping).await,
            Ok(Ok(_))
        )
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// `text` with every occurrence of the secret-bearing `url` replaced by its masked form.
fn without(text: &str, url: &str) -> String {
    text.replace(url, &crate::config::masked_database_url(url))
}

/// The one timestamp format in the database: fixed width, UTC, so text order is time order.
pub fn ts(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Micros, true)
}

pub fn parse_ts(text: &str) -> StoreResult<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .map(|dt| dt.with_timezone(&Utc))
        .map_err(|_| StoreError::Corrupt(format!("`{text}` is not a timestamp")))
}

/// `$first, $first+1, …` for an `IN (…)` list of `n` values.
pub(in crate::store) fn in_list(first: usize, n: usize) -> String {
    (first..first + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The most values one `IN (…)` list binds, so a batch read stays far below either engine's
/// limit on parameters (SQLite 32,766; PostgreSQL 65,535).
const MOST_IN_A_LIST: usize = 500;

/// The rows `sql` selects for all of `ids`, a chunk of them at a time ([`MOST_IN_A_LIST`]):
/// `sql` is given the chunk's `IN` list (`$1, …, $n`) and `n`; `then` is bound after the ids
/// (`$n+1, …`). How a batch of messages reads a kind of fact in one query.
pub(in crate::store) async fn rows_for_ids(
    conn: &mut Conn,
    ids: &[&str],
    then: &[&str],
    sql: impl Fn(&str, usize) -> String,
) -> StoreResult<Vec<sqlx::any::AnyRow>> {
    let mut rows = Vec::new();
    for chunk in ids.chunks(MOST_IN_A_LIST) {
        let sql = sql(&in_list(1, chunk.len()), chunk.len());
        let mut query = sqlx::query(&sql);
        for value in chunk.iter().chain(then) {
            query = query.bind(*value);
        }
        rows.extend(query.fetch_all(conn.db()).await?);
    }
    Ok(rows)
}

/// A yes/no column, stored 0/1. The SQL selects it as `CAST(column AS BIGINT)`: sqlx's `Any`
/// driver cannot read SQLite's declared BOOLEAN columns at all, and PostgreSQL's are BIGINT.
pub(in crate::store) fn read_flag(row: &sqlx::any::AnyRow, column: &str) -> StoreResult<bool> {
    use sqlx::Row;
    Ok(row.try_get::<i64, _>(column)? != 0)
}

/// SQL for the stored timestamp `column` plus `days` days, in the stored format (the one place
/// the two engines' date arithmetic differs; every other comparison is on the text).
pub(in crate::store) fn ts_plus_days(backend: Backend, column: &str, days: u32) -> String {
    match backend {
        Backend::Sqlite => format!("strftime('%Y-%m-%dT%H:%M:%fZ', {column}, '+{days} days')"),
        Backend::Postgres => format!(
            "to_char((CAST({column} AS timestamptz) + interval '{days} days') AT TIME ZONE 'UTC', \
             'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"
        ),
    }
}

/// Adds one to a named counter (429s seen, events expired, …) inside the caller's work.
pub async fn bump_counter(conn: &mut Conn, name: &str, by: i64) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO counters (name, value) VALUES ($1, $2)
         ON CONFLICT (name) DO UPDATE SET value = counters.value + excluded.value",
    )
    .bind(name)
    .bind(by)
    .execute(conn.db())
    .await?;
    Ok(())
}

impl Store {
    pub async fn bump_counter(&self, name: &str, by: i64) -> StoreResult<()> {
        let mut conn = self.conn().await?;
        bump_counter(&mut conn, name, by).await
    }

    pub async fn counter(&self, name: &str) -> StoreResult<i64> {
        let value: Option<i64> = sqlx::query_scalar("SELECT value FROM counters WHERE name = $1")
            .bind(name)
            .fetch_optional(&self.pool)
            .await?;
        Ok(value.unwrap_or(0))
    }
}

/// Tests and benchmarks: the database one test runs on. With `ENCORE_TEST_POSTGRES_URL` set, a
/// new schema of that PostgreSQL database of its own (the URL names it in `search_path`, so
/// every connection of every process the test starts sees only it); otherwise an SQLite file in
/// `dir`. Panics when PostgreSQL was asked for and does not answer: the suite must not silently
/// run on the other engine.
#[doc(hidden)]
pub async fn database_url_for_tests(dir: &std::path::Path) -> String {
    match std::env::var("ENCORE_TEST_POSTGRES_URL") {
        Ok(base) if !base.trim().is_empty() => postgres_schema_for_tests(base.trim()).await,
        _ => format!("sqlite://{}?mode=rwc", dir.join("encore.db").display()),
    }
}

/// A fresh, empty schema in the PostgreSQL database at `base`, as a URL that uses it.
#[doc(hidden)]
pub async fn postgres_schema_for_tests(base: &str) -> String {
    use sqlx::Connection;
    let schema = format!(
        "t{}_{:08x}",
        Utc::now().format("%m%d%H%M%S"),
        rand::random::<u32>()
    );
    let mut conn = sqlx::postgres::PgConnection::connect(base)
        .await
        .unwrap_or_else(|err| panic!("ENCORE_TEST_POSTGRES_URL does not answer: {err}"));
    conn.execute(format!("CREATE SCHEMA {schema}").as_str())
        .await
        .unwrap_or_else(|err| panic!("cannot create a test schema: {err}"));
    drop_old_test_schemas(&mut conn).await;
    let _ = conn.close().await;
    let joiner = if base.contains('?') { '&' } else { '?' };
    format!("{base}{joiner}options=-c%20search_path%3D{schema}")
}

/// Test schemas of earlier runs (made more than two hours ago) are dropped, once per process,
/// so running the suite again and again does not fill the database.
async fn drop_old_test_schemas(conn: &mut sqlx::postgres::PgConnection) {
    static DONE: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    if DONE.swap(true, std::sync::atomic::Ordering::SeqCst) {
        return;
    }
    let names: Vec<String> = sqlx::query_scalar(
        "SELECT nspname::text FROM pg_namespace WHERE nspname ~ '^t[0-9]{10}_[0-9a-f]{8}$'",
    )
    .fetch_all(&mut *conn)
    .await
    .unwrap_or_default();
    let now = Utc::now();
    for name in names {
        // `tMMDDHHMMSS_…`, in this year (or the last one, just after new year).
        let made = [now.year(), now.year() - 1].into_iter().find_map(|year| {
            let at = chrono::NaiveDateTime::parse_from_str(
                &format!("{year}{}", &name[1..11]),
                "%Y%m%d%H%M%S",
            )
            .ok()?
            .and_utc();
            (at <= now).then_some(at)
        });
        if made.is_some_and(|at| now - at > chrono::Duration::hours(2)) {
            let _ = conn
                .execute(format!("DROP SCHEMA IF EXISTS {name} CASCADE").as_str())
                .await;
        }
    }
}

/// Unit tests: an empty, migrated store on the engine the suite runs on (an in-memory SQLite
/// database unless `ENCORE_TEST_POSTGRES_URL` is set).
#[cfg(test)]
pub(crate) async fn store_for_tests() -> Store {
    let url = match std::env::var("ENCORE_TEST_POSTGRES_URL") {
        Ok(base) if !base.trim().is_empty() => postgres_schema_for_tests(base.trim()).await,
        _ => "sqlite::memory:".to_string(),
    };
    Store::open_and_migrate(&url).await.expect("test store")
}
