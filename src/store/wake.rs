//! The database's doorbell (PostgreSQL): a process that enqueued work which another process
//! will send — a standby taking events, the CLI — rings it after committing, and the leader,
//! listening, wakes its dispatcher at once instead of at its next look at the store.
//!
//! `NOTIFY` is delivered to every listening session; a notification sent while the listener
//! was reconnecting is lost, which is why the leader rings itself once after every reconnect
//! and why the dispatcher still looks at the store every second. On SQLite there is one
//! process that sends, and this module does nothing.

use std::time::Duration;

use sqlx::postgres::PgListener;

use super::{Store, StoreResult};
use crate::shutdown::{Shutdown, until_shutdown};

/// The channel every encore process rings and the leader listens on.
const CHANNEL: &str = "encore_wake";

impl Store {
    /// Whether this store is a PostgreSQL database (several `serve` processes may share it).
    pub fn is_postgres(&self) -> bool {
        self.backend.is_postgres()
    }

    /// Rings the database's doorbell (PostgreSQL: `NOTIFY encore_wake`; SQLite: nothing). Call
    /// after committing work another process sends; `Outbox::wake` does. (PostgreSQL: `NOTIFY
    /// encore_wake`, through `pg_notify`.)
    pub async fn ring_wake(&self) -> StoreResult<()> {
        if !self.is_postgres() {
            return Ok(());
        }
        // `pg_notify` rather than `NOTIFY`: a plain query, fit for a prepared statement.
        sqlx::query("SELECT pg_notify($1, '')")
            .bind(CHANNEL)
            .execute(self.pool())
            .await?;
        Ok(())
    }
}

/// Listens to the doorbell until shutdown, calling `ring` for every notification (PostgreSQL;
/// on SQLite it only waits for the shutdown). A lost connection is opened again, with a pause
/// that grows to 30 s while the database stays away; `ring` is called after each reconnect for
/// what may have been missed meanwhile.
pub async fn listen(
    store: &Store,
    ring: impl Fn() + Send + Sync,
    mut shutdown: Shutdown,
) -> StoreResult<()> {
    if !store.is_postgres() {
        until_shutdown(&mut shutdown).await;
        return Ok(());
    }
    let mut pause = Duration::from_millis(500);
    loop {
        let connected = tokio::select! {
            connected = subscribe(store) => connected,
            _ = until_shutdown(&mut shutdown) => return Ok(()),
        };
        match connected {
            Ok(mut listener) => {
                pause = Duration::from_millis(500);
                ring();
                loop {
                    let next = tokio::select! {
                        next = listener.try_recv() => next,
                        _ = until_shutdown(&mut shutdown) => return Ok(()),
                    };
                    match next {
                        Ok(Some(_)) => ring(),
                        // The connection was lost; the next call reconnects. Anything rung
                        // meanwhile is lost: look now.
                        Ok(None) => ring(),
                        Err(err) => {
                            tracing::warn!(error = %err, "the wake listener lost the database; listening again shortly");
                            break;
                        }
                    }
                }
            }
            Err(err) => {
                tracing::warn!(error = %err, "the wake listener could not connect; trying again shortly");
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(pause) => {}
            _ = until_shutdown(&mut shutdown) => return Ok(()),
        }
        pause = (pause * 2).min(Duration::from_secs(30));
    }
}

async fn subscribe(store: &Store) -> StoreResult<PgListener> {
    let mut listener = PgListener::connect(&store.url).await?;
    listener.listen(CHANNEL).await?;
    Ok(listener)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn on_sqlite_the_doorbell_rings_nowhere_and_nobody_listens() {
        let store = Store::open_and_migrate("sqlite::memory:")
            .await
            .expect("in-memory store");
        assert!(!store.is_postgres());
        store.ring_wake().await.expect("nothing to ring");
        let (stop, shutdown) = crate::shutdown::channel();
        let listening = tokio::spawn({
            let store = store.clone();
            async move { listen(&store, || panic!("nothing rings on SQLite"), shutdown).await }
        });
        let _ = stop.send(true);
        listening.await.expect("joined").expect("stops at shutdown");
    }
}
