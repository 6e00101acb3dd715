//! Who leads: the role of this `encore serve` on its database, and the loop that keeps it.
//!
//! On SQLite a `serve` is the `single` one: it took the database's sender lease at start (a
//! second `serve` refused to start) and keeps it. On PostgreSQL (CONTRACT §10) any number of
//! `serve` processes share the database: the one holding the lease is the `leader` — it alone
//! connects the platforms, dispatches, runs the scheduler and the events-out sender — and the
//! others are `standby`s, which serve the HTTP API and try to take the lease at every heartbeat.
//!
//! 1. Every heartbeat ([`LeaseTimes::heartbeat_every`]) the instance records that it is alive;
//!    the leader renews the lease, a standby tries to take it (at the holder's expiry at the
//!    latest, so it leads within `cluster.lease_seconds` after the leader died).
//! 2. A standby that takes the lease starts the leader's part ([`StartLeader`], the same
//!    function `app` uses at start) with the lease's new fence.
//! 3. A leader whose renewal is refused (it was thought dead and the lease moved on) revokes
//!    its [`LeaseGuard`] at once, so nothing more goes on the wire, logs it as an error, stops
//!    its leader's part and stands by again; it may lead later under a new fence. On SQLite the
//!    process stops instead, as there is nobody to stand by for.
//! 4. A leader that could not renew before its lease ran out (the database did not answer)
//!    stands by the same way; the guard already stopped its sending at the deadline. Each
//!    heartbeat and renewal is given one heartbeat to answer (on PostgreSQL over connections
//!    of the lease's own), so an unreachable database cannot keep a leader saying `leader`
//!    long after its lease ran out.
//! 5. On shutdown the leader's part stops (sends on the wire finish) and the lease is released,
//!    so a standby leads at its next heartbeat.
//!
//! This module decides the role; it never names a platform or a flow (`app` says what the
//! leader's part is) and keeps its SQL in `store::instances`.

pub mod guard;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::watch;
use tokio::task::JoinSet;

pub use guard::LeaseGuard;

use crate::config::Config;
use crate::shutdown::{Shutdown, until_shutdown};
use crate::store::Store;
use crate::store::instances::{self, Instance, Lease};

/// What this process is on its database, as `/healthz` and `/metrics` name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// SQLite: the one `serve` of its database.
    Single,
    /// PostgreSQL: holds the lease; polls, dispatches and runs the scheduler.
    Leader,
    /// PostgreSQL: serves the HTTP API and waits to take over.
    Standby,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Single => "single",
            Role::Leader => "leader",
            Role::Standby => "standby",
        }
    }

    /// Every role, in the order `/metrics` lists them.
    pub const ALL: [Role; 3] = [Role::Leader, Role::Standby, Role::Single];
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The role as it is now, shared by everything in the process that asks (`/healthz`, the
/// outbox's bell); the cluster loop sets it.
#[derive(Debug, Clone)]
pub struct RoleCell(Arc<watch::Sender<Role>>);

impl RoleCell {
    pub fn new(role: Role) -> RoleCell {
        RoleCell(Arc::new(watch::Sender::new(role)))
    }

    /// The role a process starts with on the database at `url`, before it tried the lease.
    pub fn for_database(url: &str) -> RoleCell {
        let postgres =
            crate::store::Backend::of_url(url).is_ok_and(crate::store::Backend::is_postgres);
        RoleCell::new(if postgres {
            Role::Standby
        } else {
            Role::Single
        })
    }

    pub fn get(&self) -> Role {
        *self.0.borrow()
    }

    pub(crate) fn set(&self, role: Role) {
        self.0.send_replace(role);
    }

    /// Changes of role, for a caller that waits for one.
    pub fn subscribe(&self) -> watch::Receiver<Role> {
        self.0.subscribe()
    }
}

/// Every duration derived from `cluster.lease_seconds`, in one place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LeaseTimes {
    /// How long the lease lasts without renewal.
    pub lease: Duration,
    /// How often the instance beats and the lease is renewed (or tried for): five times a
    /// lease, so a slow write or two do not lose it; at least every 500 ms.
    pub heartbeat_every: Duration,
    /// An instance that has not beaten for this long is dead, and its claims are recovered:
    /// the lease and a margin, so a leader is deposed before its messages are taken back.
    pub dead_after: Duration,
}

impl LeaseTimes {
    pub fn from_seconds(lease_seconds: u64) -> LeaseTimes {
        let lease = Duration::from_secs(lease_seconds);
        LeaseTimes {
            lease,
            heartbeat_every: (lease / 5).max(Duration::from_millis(500)),
            dead_after: lease + Duration::from_secs(5),
        }
    }

    pub fn from_config(config: &Config) -> LeaseTimes {
        LeaseTimes::from_seconds(config.cluster.lease_seconds)
    }

    /// The lease as the database stores it (wall clock).
    pub fn lease_chrono(&self) -> chrono::Duration {
        chrono::Duration::from_std(self.lease).unwrap_or(chrono::Duration::seconds(10))
    }

    /// The instances whose last heartbeat is older than this are dead (wall clock).
    pub fn dead_before(&self, now: chrono::DateTime<chrono::Utc>) -> chrono::DateTime<chrono::Utc> {
        now - chrono::Duration::from_std(self.dead_after).unwrap_or(chrono::Duration::seconds(15))
    }
}

impl Default for LeaseTimes {
    fn default() -> Self {
        LeaseTimes::from_config(&Config::default())
    }
}

/// The tasks of the leader's part, as `app` started them: they run until
/// [`LeaderTasks::stop`], and one that ends on its own is a failure of the process.
pub struct LeaderTasks {
    shutdown: watch::Sender<bool>,
    tasks: JoinSet<(&'static str, Result<(), String>)>,
}

impl LeaderTasks {
    /// `shutdown` is what every task in `tasks` selects on.
    pub fn new(
        shutdown: watch::Sender<bool>,
        tasks: JoinSet<(&'static str, Result<(), String>)>,
    ) -> LeaderTasks {
        LeaderTasks { shutdown, tasks }
    }

    /// Stops every task gracefully (sends on the wire finish); the first error, if any.
    pub async fn stop(mut self) -> Option<String> {
        let _ = self.shutdown.send(true);
        let mut first_error = None;
        while let Some(joined) = self.tasks.join_next().await {
            let failed = match joined {
                Ok((_, Ok(()))) => None,
                Ok((name, Err(err))) => Some(format!("{name}: {err}")),
                Err(err) => Some(err.to_string()),
            };
            if let Some(err) = failed {
                tracing::error!(error = %err, "a leader task ended with an error");
                first_error.get_or_insert(err);
            }
        }
        first_error
    }

    /// Resolves when a task ended on its own (never, while none has).
    async fn ended(&mut self) -> String {
        match self.tasks.join_next().await {
            Some(Ok((name, Ok(())))) => format!("{name} stopped unexpectedly"),
            Some(Ok((name, Err(err)))) => format!("{name}: {err}"),
            Some(Err(err)) => err.to_string(),
            None => std::future::pending().await,
        }
    }
}

/// Starts the leader's part under a lease: `app`'s one function for it, at start and on every
/// promotion.
pub type StartLeader = Box<
    dyn FnMut(Lease) -> Pin<Box<dyn Future<Output = Result<LeaderTasks, String>> + Send>> + Send,
>;

#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error(
        "this `encore serve` lost the database's sender lease (fence {fence}) to another one and stops sending"
    )]
    LeaseLost { fence: i64 },
    #[error("could not start leading: {0}")]
    LeaderStart(String),
    #[error("{0}")]
    LeaderTask(String),
}

/// This process's place on its database: what the cluster loop needs.
#[derive(Clone)]
pub struct Cluster {
    pub store: Store,
    pub instance: Arc<Instance>,
    pub times: LeaseTimes,
    pub role: RoleCell,
    pub guard: LeaseGuard,
    /// PostgreSQL: lose the lease and stand by. SQLite: lose it and stop.
    pub standby_allowed: bool,
}

/// How one renewal went.
enum Renewal {
    Held,
    Lost,
    /// The database did not answer; the guard tells whether the lease may still hold.
    Unsure,
}

impl Cluster {
    /// Tries to take the lease now (at start, and a standby at every heartbeat). `Err(holder)`:
    /// someone else holds it.
    pub async fn try_lead(&self) -> crate::store::StoreResult<Result<Lease, Lease>> {
        let asked = Instant::now();
        let taken = instances::acquire_lease(
            &self.store,
            &self.instance,
            chrono::Utc::now(),
            self.times.lease_chrono(),
        )
        .await?;
        if taken.is_ok() {
            self.guard.renewed(asked, self.times.lease);
        }
        Ok(taken)
    }

    async fn renew(&self, fence: i64) -> Renewal {
        let asked = Instant::now();
        let renewed = instances::renew_lease(
            &self.store,
            &self.instance,
            fence,
            chrono::Utc::now(),
            self.times.lease_chrono(),
        );
        match tokio::time::timeout(self.times.heartbeat_every, renewed).await {
            Ok(Ok(true)) => {
                self.guard.renewed(asked, self.times.lease);
                Renewal::Held
            }
            Ok(Ok(false)) => Renewal::Lost,
            Ok(Err(err)) => {
                tracing::warn!(error = %err, fence, "could not renew the sender lease");
                Renewal::Unsure
            }
            Err(_) => {
                tracing::warn!(
                    fence,
                    "the database did not answer the lease renewal in time"
                );
                Renewal::Unsure
            }
        }
    }

    /// Sets the role for a process that leads (`single` on SQLite) or stands by.
    pub fn set_role(&self, leading: bool) {
        self.role.set(if leading {
            self.leading_role()
        } else {
            Role::Standby
        });
    }

    fn leading_role(&self) -> Role {
        if self.standby_allowed {
            Role::Leader
        } else {
            Role::Single
        }
    }

    /// The loop of the module doc. `leading`: the lease taken at start and the leader's part
    /// `app` started under it; `None` for a standby.
    pub async fn run(
        self,
        mut leading: Option<(Lease, LeaderTasks)>,
        mut start_leader: StartLeader,
        mut shutdown: Shutdown,
    ) -> Result<(), ClusterError> {
        self.set_role(leading.is_some());
        let mut wait = self.times.heartbeat_every;
        loop {
            let failed = tokio::select! {
                _ = tokio::time::sleep(wait) => None,
                _ = until_shutdown(&mut shutdown) => break,
                failed = async {
                    match &mut leading {
                        Some((_, tasks)) => tasks.ended().await,
                        None => std::future::pending().await,
                    }
                } => Some(failed),
            };
            if let Some(failed) = failed {
                if let Some((lease, tasks)) = leading.take() {
                    self.give_up(lease.fence, tasks).await;
                }
                return Err(ClusterError::LeaderTask(failed));
            }
            wait = self.times.heartbeat_every;
            // A stopped process renews nothing (tests freeze it to show what a resumed one does).
            tokio::select! {
                _ = self.guard.until_thawed() => {}
                _ = until_shutdown(&mut shutdown) => break,
            }
            match tokio::time::timeout(
                self.times.heartbeat_every,
                instances::heartbeat(&self.store, &self.instance, chrono::Utc::now()),
            )
            .await
            {
                Ok(Ok(())) => {}
                Ok(Err(err)) => tracing::warn!(error = %err, "could not record the heartbeat"),
                Err(_) => tracing::warn!("the database did not answer the heartbeat in time"),
            }
            leading = match leading.take() {
                Some((lease, tasks)) => match self.renew(lease.fence).await {
                    Renewal::Held => Some((lease, tasks)),
                    Renewal::Unsure if self.guard.holds() || !self.standby_allowed => {
                        Some((lease, tasks))
                    }
                    Renewal::Unsure => {
                        tracing::error!(
                            fence = lease.fence,
                            "could not renew the lease before it ran out; sending stopped, standing by"
                        );
                        self.stand_by(tasks).await;
                        None
                    }
                    Renewal::Lost => {
                        self.guard.revoke();
                        tracing::error!(
                            fence = lease.fence,
                            "lost the lease (fence {}): another `encore serve` took over; sending stopped",
                            lease.fence
                        );
                        if !self.standby_allowed {
                            self.give_up(lease.fence, tasks).await;
                            return Err(ClusterError::LeaseLost { fence: lease.fence });
                        }
                        self.stand_by(tasks).await;
                        None
                    }
                },
                None => match self.try_lead().await {
                    Ok(Ok(lease)) => {
                        tracing::info!(fence = lease.fence, instance = %self.instance.id, "took the lease: leading");
                        match start_leader(lease.clone()).await {
                            Ok(tasks) => {
                                self.set_role(true);
                                Some((lease, tasks))
                            }
                            Err(err) => {
                                self.release(lease.fence).await;
                                return Err(ClusterError::LeaderStart(err));
                            }
                        }
                    }
                    Ok(Err(holder)) => {
                        // Try again as soon as the holder's lease runs out, not a beat later.
                        let until_expiry = (holder.expires - chrono::Utc::now())
                            .to_std()
                            .unwrap_or_default()
                            + Duration::from_millis(50);
                        wait = wait.min(until_expiry);
                        None
                    }
                    Err(err) => {
                        tracing::warn!(error = %err, "could not try for the sender lease");
                        None
                    }
                },
            };
        }
        match leading {
            Some((lease, tasks)) => {
                let failed = tasks.stop().await;
                self.release(lease.fence).await;
                match failed {
                    Some(err) => Err(ClusterError::LeaderTask(err)),
                    None => Ok(()),
                }
            }
            None => Ok(()),
        }
    }

    /// Steps down: nothing more goes on the wire, the leader's part stops, the role says so.
    async fn stand_by(&self, tasks: LeaderTasks) {
        self.guard.revoke();
        self.role.set(Role::Standby);
        if let Some(err) = tasks.stop().await {
            tracing::error!(error = %err, "the leader's part ended with an error as it stood down");
        }
    }

    /// The process stops leading for good (it is stopping).
    async fn give_up(&self, fence: i64, tasks: LeaderTasks) {
        self.guard.revoke();
        let _ = tasks.stop().await;
        self.release(fence).await;
    }

    /// A graceful end: the next `serve` (or a standby) may lead at once.
    async fn release(&self, fence: i64) {
        self.guard.revoke();
        if let Err(err) =
            instances::release_lease(&self.store, &self.instance, fence, chrono::Utc::now()).await
        {
            tracing::warn!(error = %err, "could not release the sender lease; the next leader waits for it to expire");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_lease_time_comes_from_lease_seconds() {
        let times = LeaseTimes::from_seconds(10);
        assert_eq!(times.lease, Duration::from_secs(10));
        assert_eq!(times.heartbeat_every, Duration::from_secs(2));
        assert_eq!(times.dead_after, Duration::from_secs(15));
        assert_eq!(
            LeaseTimes::from_seconds(3).heartbeat_every,
            Duration::from_millis(600)
        );
        assert_eq!(
            LeaseTimes::from_seconds(1).heartbeat_every,
            Duration::from_millis(500),
            "at least 500 ms between beats"
        );
        assert_eq!(LeaseTimes::default(), times, "the default is 10 s");
    }

    #[test]
    fn the_role_a_process_starts_with_follows_the_database() {
        assert_eq!(
            RoleCell::for_database("sqlite://encore.db?mode=rwc").get(),
            Role::Single
        );
        assert_eq!(
            RoleCell::for_database("postgres://encore@db/encore").get(),
            Role::Standby
        );
        assert_eq!(
            RoleCell::for_database("postgresql://encore@db/encore").get(),
            Role::Standby
        );
    }
}
