//! Who is running: the instances that claim messages (a row each, with a heartbeat) and the
//! sender lease that makes one `encore serve` the only sender on a database.
//!
//! Liveness is measured on the wall clock (`Utc::now()` passed in by the caller), never on the
//! injected business clock: a test that moves the business clock an hour on must not make the
//! live process look dead. This module stores and compares; it never decides what a dead
//! instance's messages become (the outbox recovery does) and never ends a process.

use chrono::{DateTime, Utc};
use sqlx::Row;

use super::{Store, StoreResult, parse_ts, ts};

// How long the lease lasts, how often it is renewed and when an instance counts as dead are
// derived from `cluster.lease_seconds` in one place: `crate::cluster::LeaseTimes`.

/// The one lease a database has: the right to send (on PostgreSQL, to lead).
const SENDER: &str = "sender";

/// This process, as the claims it makes and the lease name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instance {
    /// Unique per process start: `host:pid:random`.
    pub id: String,
    pub host: String,
    pub pid: u32,
}

impl Instance {
    /// The running process. The random part keeps two starts with a reused pid apart.
    pub fn this_process() -> Instance {
        let host = host_name();
        let pid = std::process::id();
        let id = format!("{host}:{pid}:{:08x}", rand::random::<u32>());
        Instance { id, host, pid }
    }

    /// `host:pid`, as `/healthz` and `/metrics` name the process to an operator.
    pub fn host_pid(&self) -> String {
        format!("{}:{}", self.host, self.pid)
    }
}

/// The machine's name, as the lease shows it to the operator.
pub fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|name| name.trim().to_string())
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "localhost".to_string())
}

/// Whether a process with this pid provably does not exist on this machine. Only Linux's
/// `/proc` can prove it; elsewhere nothing is proven and the lease must expire instead.
pub fn pid_is_gone(pid: u32) -> bool {
    std::path::Path::new("/proc/self").exists()
        && !std::path::Path::new(&format!("/proc/{pid}")).exists()
}

/// Records this instance as alive now (also the first heartbeat).
pub async fn register(store: &Store, me: &Instance, now: DateTime<Utc>) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO instances (id, host, pid, started_at, last_seen) VALUES ($1, $2, $3, $4, $4)
         ON CONFLICT (id) DO UPDATE SET last_seen = excluded.last_seen",
    )
    .bind(&me.id)
    .bind(&me.host)
    .bind(i64::from(me.pid))
    .bind(ts(now))
    .execute(store.pool())
    .await?;
    Ok(())
}

/// The heartbeat: this instance is still alive at `now`.
pub async fn heartbeat(store: &Store, me: &Instance, now: DateTime<Utc>) -> StoreResult<()> {
    register(store, me, now).await
}

/// A graceful stop: the instance is gone and holds nothing.
pub async fn forget(store: &Store, me: &Instance) -> StoreResult<()> {
    sqlx::query("DELETE FROM instances WHERE id = $1")
        .bind(&me.id)
        .execute(store.pool())
        .await?;
    Ok(())
}

/// A held sender lease.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    pub holder: String,
    pub host: String,
    pub pid: u32,
    pub since: DateTime<Utc>,
    pub expires: DateTime<Utc>,
    /// Grows by one every time the lease changes hands; a claim checks it.
    pub fence: i64,
    /// Taken from a holder that died holding it (`kill -9`, a power cut): its last sends may
    /// still count in the platform's current window.
    pub taken_from_the_dead: bool,
}

/// Takes the sender lease for `me`, or says who holds it.
///
/// 1. No lease yet, or an expired one: `me` takes it with the next fence.
/// 2. Held by `me` already: renewed, same fence.
/// 3. Held by a process on this host whose pid is provably gone (`kill -9`): taken at once
///    with the next fence, rather than making the operator wait for the expiry.
/// 4. Otherwise it is someone else's: `Err(holder)`.
///
/// The write is a compare-and-set on the holder and fence that were read: of two standbys that
/// saw the same expired lease at once (PostgreSQL reads without locking), only one takes it;
/// the other reads the winner back as the holder.
pub async fn acquire_lease(
    store: &Store,
    me: &Instance,
    now: DateTime<Utc>,
    ttl: chrono::Duration,
) -> StoreResult<Result<Lease, Lease>> {
    let mut tx = store.begin().await?;
    let current = lease_in(&mut tx, SENDER).await?;
    let fence = match &current {
        Some(lease) if lease.holder == me.id => lease.fence,
        Some(lease)
            if lease.expires > now
                && !(store.backend() == super::Backend::Sqlite
                    && lease.host == me.host
                    && pid_is_gone(lease.pid)) =>
        {
            tx.rollback().await?;
            return Ok(Err(lease.clone()));
        }
        Some(lease) => lease.fence + 1,
        None => 1,
    };
    let since = match &current {
        Some(lease) if lease.holder == me.id => lease.since,
        _ => now,
    };
    let taken_from_the_dead = current
        .as_ref()
        .is_some_and(|lease| lease.holder != me.id && lease.expires > now);
    // What the row must still say for this write to win (no row: a holder no row can have).
    let (seen_holder, seen_fence) = match &current {
        Some(lease) => (lease.holder.as_str(), lease.fence),
        None => ("", -1),
    };
    let done = sqlx::query(
        "INSERT INTO sender_lease (name, holder, host, pid, since, expires, fence)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, host = excluded.host,
             pid = excluded.pid, since = excluded.since, expires = excluded.expires,
             fence = excluded.fence
         WHERE sender_lease.holder = $8 AND sender_lease.fence = $9",
    )
    .bind(SENDER)
    .bind(&me.id)
    .bind(&me.host)
    .bind(i64::from(me.pid))
    .bind(ts(since))
    .bind(ts(now + ttl))
    .bind(fence)
    .bind(seen_holder)
    .bind(seen_fence)
    .execute(tx.db())
    .await?;
    if done.rows_affected() == 0 {
        // Another instance took it between the read and the write.
        let winner = lease_in(&mut tx, SENDER).await?;
        tx.rollback().await?;
        return match winner {
            Some(holder) => Ok(Err(holder)),
            None => Err(super::StoreError::Corrupt(
                "the sender lease vanished while it was being taken".to_string(),
            )),
        };
    }
    tx.commit().await?;
    Ok(Ok(Lease {
        holder: me.id.clone(),
        host: me.host.clone(),
        pid: me.pid,
        since,
        expires: now + ttl,
        fence,
        taken_from_the_dead,
    }))
}

/// Extends the lease while `me` still holds it with `fence`. False: it was taken over (this
/// process was thought dead) and must stop sending.
pub async fn renew_lease(
    store: &Store,
    me: &Instance,
    fence: i64,
    now: DateTime<Utc>,
    ttl: chrono::Duration,
) -> StoreResult<bool> {
    let done = sqlx::query(
        "UPDATE sender_lease SET expires = $1
         WHERE name = $2 AND holder = $3 AND fence = $4 AND expires > $5",
    )
    .bind(ts(now + ttl))
    .bind(SENDER)
    .bind(&me.id)
    .bind(fence)
    // An expired lease is not renewed: a standby may be taking it over at this very moment.
    .bind(ts(now))
    .execute(store.pool())
    .await?;
    Ok(done.rows_affected() > 0)
}

/// A graceful stop: the next `serve` may start at once.
pub async fn release_lease(
    store: &Store,
    me: &Instance,
    fence: i64,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    sqlx::query(
        "UPDATE sender_lease SET expires = $1 WHERE name = $2 AND holder = $3 AND fence = $4",
    )
    .bind(ts(now))
    .bind(SENDER)
    .bind(&me.id)
    .bind(fence)
    .execute(store.pool())
    .await?;
    Ok(())
}

/// The sender lease as stored, if any (for `serve`'s refusal and for tests).
pub async fn sender_lease(store: &Store) -> StoreResult<Option<Lease>> {
    let mut conn = store.conn().await?;
    lease_in(&mut conn, SENDER).await
}

async fn lease_in(conn: &mut super::Conn, name: &str) -> StoreResult<Option<Lease>> {
    let row = sqlx::query(
        "SELECT holder, host, pid, since, expires, fence FROM sender_lease WHERE name = $1",
    )
    .bind(name)
    .fetch_optional(conn.db())
    .await?;
    row.map(|row| {
        let pid: i64 = row.try_get("pid")?;
        Ok(Lease {
            holder: row.try_get("holder")?,
            host: row.try_get("host")?,
            pid: u32::try_from(pid).unwrap_or(0),
            since: parse_ts(&row.try_get::<String, _>("since")?)?,
            expires: parse_ts(&row.try_get::<String, _>("expires")?)?,
            fence: row.try_get("fence")?,
            taken_from_the_dead: false,
        })
    })
    .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn store() -> Store {
        crate::store::store_for_tests().await
    }

    fn other(pid: u32) -> Instance {
        Instance {
            id: format!("elsewhere:{pid}:1"),
            host: "elsewhere".to_string(),
            pid,
        }
    }

    #[tokio::test]
    async fn a_held_lease_is_refused_to_a_second_instance_naming_the_holder() {
        let store = store().await;
        let now = Utc::now();
        let ttl = chrono::Duration::seconds(10);
        let first = acquire_lease(&store, &other(41), now, ttl)
            .await
            .expect("store")
            .expect("free lease is taken");
        assert_eq!(first.fence, 1);
        let refused = acquire_lease(&store, &Instance::this_process(), now, ttl)
            .await
            .expect("store")
            .expect_err("held lease is refused");
        assert_eq!((refused.host.as_str(), refused.pid), ("elsewhere", 41));
    }

    #[tokio::test]
    async fn an_expired_lease_is_taken_over_with_the_next_fence_and_the_old_holder_is_fenced() {
        let store = store().await;
        let now = Utc::now();
        let ttl = chrono::Duration::seconds(10);
        let old = other(41);
        acquire_lease(&store, &old, now, ttl)
            .await
            .expect("store")
            .expect("taken");
        let later = now + chrono::Duration::seconds(11);
        let me = Instance::this_process();
        let taken = acquire_lease(&store, &me, later, ttl)
            .await
            .expect("store")
            .expect("an expired lease is taken over");
        assert_eq!(taken.fence, 2);
        assert!(
            !renew_lease(&store, &old, 1, later, ttl)
                .await
                .expect("store"),
            "the deposed holder cannot renew"
        );
        assert!(
            renew_lease(&store, &me, 2, later, ttl)
                .await
                .expect("store")
        );
    }

    #[tokio::test]
    async fn a_lease_whose_holder_pid_is_gone_on_this_host_is_taken_at_once_on_sqlite_only() {
        let store = store().await;
        let now = Utc::now();
        let ttl = chrono::Duration::seconds(10);
        let me = Instance::this_process();
        // No process has the largest pid: provably gone.
        let dead = Instance {
            id: format!("{}:0:1", me.host),
            host: me.host.clone(),
            pid: u32::MAX,
        };
        acquire_lease(&store, &dead, now, ttl)
            .await
            .expect("store")
            .expect("taken");
        let taken = acquire_lease(&store, &me, now, ttl).await.expect("store");
        if store.backend().is_postgres() {
            // Workers in separate pid namespaces (containers) may share a host name: a pid
            // that is not in this process's /proc proves nothing there.
            assert!(taken.is_err(), "on PostgreSQL the lease must expire first");
            return;
        }
        let taken = taken.expect("a dead holder's lease is taken before it expires");
        assert_eq!(taken.fence, 2);
        assert!(taken.taken_from_the_dead);
    }

    #[tokio::test]
    async fn a_released_lease_is_free_for_the_next_serve() {
        let store = store().await;
        let now = Utc::now();
        let ttl = chrono::Duration::seconds(10);
        let first = other(41);
        let lease = acquire_lease(&store, &first, now, ttl)
            .await
            .expect("store")
            .expect("taken");
        release_lease(&store, &first, lease.fence, now)
            .await
            .expect("store");
        let next = acquire_lease(&store, &Instance::this_process(), now, ttl)
            .await
            .expect("store");
        assert!(
            next.is_ok_and(|lease| !lease.taken_from_the_dead),
            "a released lease is free, and nobody died holding it"
        );
    }
}
