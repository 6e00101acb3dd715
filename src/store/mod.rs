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

pub mod chats;
pub mod customers;
pub mod dead_letters;
pub mod events;
pub mod feedback;
pub mod instances;
pub mod journeys;
pub mod orders;
pub mod outbox;
pub mod privacy;
pub mod report;
pub mod retention;
pub mod rooms;
pub mod telegram_updates;
pub mod tickets;
pub mod vip;
pub mod webhooks;

use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use sqlx::pool::PoolConnection;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Sqlite, SqliteConnection, SqlitePool};

/// The store's own handle on the database: a pooled connection or an open transaction. Callers
/// outside `store/` only pass `&mut Conn` on to store functions; they never see the driver, so
/// a second backend (PostgreSQL) can fill it without touching a flow.
pub struct Conn {
    held: Held,
}

enum Held {
    Pooled(PoolConnection<Sqlite>),
    Transaction(sqlx::Transaction<'static, Sqlite>),
}

impl Conn {
    /// The driver's connection, for the SQL in `store/` only.
    pub(in crate::store) fn db(&mut self) -> &mut SqliteConnection {
        match &mut self.held {
            Held::Pooled(conn) => conn,
            Held::Transaction(tx) => tx,
        }
    }

    /// Raw SQL for integration tests and benchmarks that seed or inspect tables directly,
    /// inside this connection's transaction. The application never uses it.
    #[doc(hidden)]
    pub fn sqlite_for_tests(&mut self) -> &mut SqliteConnection {
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
    #[error("cannot open the database: {0}")]
    Open(#[source] sqlx::Error),
    #[error("applying database migrations failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("database error: {0}")]
    Sql(#[from] sqlx::Error),
    #[error("stored data is damaged: {0}")]
    Corrupt(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

#[derive(Clone, Debug)]
pub struct Store {
    pool: SqlitePool,
}

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

impl Store {
    /// Opens the database (creating an SQLite file when the URL says `mode=rwc`) without
    /// migrating it.
    pub async fn open(url: &str) -> StoreResult<Store> {
        if !url.starts_with("sqlite:") {
            return Err(StoreError::BadUrl {
                url: crate::config::masked_database_url(url),
                reason: "only sqlite:// URLs are supported so far (PostgreSQL support comes later)"
                    .to_string(),
            });
        }
        let options = SqliteConnectOptions::from_str(url)
            // sqlx's reason may quote the URL whole; name the URL once, masked, instead.
            .map_err(|err| StoreError::BadUrl {
                url: crate::config::masked_database_url(url),
                reason: without(&err.to_string(), url),
            })?
            // WAL lets the CLI write while `encore serve` reads and sends.
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true);
        let in_memory = url.contains(":memory:");
        let pool = SqlitePoolOptions::new()
            // An in-memory database lives in one connection.
            .max_connections(if in_memory { 1 } else { 8 })
            .min_connections(if in_memory { 1 } else { 0 })
            .idle_timeout(if in_memory {
                None
            } else {
                Some(Duration::from_secs(600))
            })
            .max_lifetime(if in_memory {
                None
            } else {
                Some(Duration::from_secs(3600))
            })
            .connect_with(options)
            .await
            .map_err(StoreError::Open)?;
        Ok(Store { pool })
    }

    /// Opens and applies every migration: what `serve`, `demo` and the CLI do at start.
    pub async fn open_and_migrate(url: &str) -> StoreResult<Store> {
        let store = Store::open(url).await?;
        store.migrate().await?;
        Ok(store)
    }

    pub async fn migrate(&self) -> StoreResult<()> {
        MIGRATOR.run(&self.pool).await?;
        Ok(())
    }

    /// A write transaction. SQLite: `BEGIN IMMEDIATE` takes the write lock up front, so a
    /// transaction that reads before it writes waits its turn (busy_timeout) instead of failing
    /// with "database is locked" when another connection wrote in between.
    pub async fn begin(&self) -> StoreResult<Tx> {
        let tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        Ok(Tx {
            conn: Conn {
                held: Held::Transaction(tx),
            },
        })
    }

    /// A connection from the pool, for work that needs no transaction of its own.
    pub async fn conn(&self) -> StoreResult<Conn> {
        Ok(Conn {
            held: Held::Pooled(self.pool.acquire().await?),
        })
    }

    /// The pool itself, for the SQL in `store/` only.
    pub(in crate::store) fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// Raw SQL for integration tests and benchmarks that seed or inspect tables directly. The
    /// application never uses it: its SQL lives in `store/`.
    #[doc(hidden)]
    pub fn sqlite_pool_for_tests(&self) -> &SqlitePool {
        &self.pool
    }

    /// `GET /healthz`: does the database answer?
    pub async fn ping(&self) -> bool {
        sqlx::query("SELECT 1").execute(&self.pool).await.is_ok()
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
