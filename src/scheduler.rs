//! The scheduler: one tick loop (every `scheduler.tick_seconds`) for work that is due by time
//! rather than caused by an input. In this version: giving up on events that waited too long.
//! Journeys, held messages and SLA timers join it with their issues.

use std::time::Duration;

use tokio::sync::watch;

use crate::app::AppContext;
use crate::store::StoreError;

pub async fn run(ctx: AppContext, mut shutdown: watch::Receiver<bool>) -> Result<(), StoreError> {
    let every = Duration::from_secs(ctx.config.scheduler.tick_seconds.max(1));
    loop {
        tick(&ctx).await;
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = crate::app::until_shutdown(&mut shutdown) => return Ok(()),
        }
    }
}

/// One pass over everything due. Errors are logged; the next tick tries again.
pub async fn tick(ctx: &AppContext) {
    match crate::ingest::expire_pending_events(ctx).await {
        Ok(0) => {}
        Ok(n) => {
            if let Err(err) = ctx.store.bump_counter("events_expired", n as i64).await {
                tracing::error!(error = %err, "could not count expired events");
            }
        }
        Err(err) => tracing::error!(error = %err, "expiring pending events failed"),
    }
}
