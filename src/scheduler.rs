//! The scheduler: one tick loop (every `scheduler.tick_seconds`) for work that is due by time
//! rather than caused by an input: recovering the messages of an instance that died, giving up
//! on events that waited too long, and keeping the hand-off promise (reminders, progress notes,
//! closing idle tickets), due journeys and consent re-notices; and once a day `[retention]`.
//! Held and postponed advertising needs no tick: it waits in the outbox with its
//! `not_before`, which the dispatcher compares with the same clock. Time comes from the
//! injected clock.

use std::time::Duration;

use tokio::sync::watch;

use crate::context::AppContext;
use crate::store::StoreError;

pub async fn run(ctx: AppContext, mut shutdown: watch::Receiver<bool>) -> Result<(), StoreError> {
    let every = Duration::from_secs(ctx.config.scheduler.tick_seconds.max(1));
    let mut pruned_at = None;
    loop {
        tick(&ctx).await;
        prune_daily(&ctx, &mut pruned_at).await;
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = crate::shutdown::until_shutdown(&mut shutdown) => return Ok(()),
        }
    }
}

/// One pass over everything due. Errors are logged; the next tick tries again.
pub async fn tick(ctx: &AppContext) {
    // Members who stopped writing need no flood window any more.
    ctx.flood.forget_idle();
    // Only rows of an instance that stopped beating are recovered, never this process's own,
    // however long they wait (a flood wait, a message half-way through its parts). Liveness is
    // wall-clock time: moving the business clock kills no one.
    let dead_before =
        crate::cluster::LeaseTimes::from_config(&ctx.config).dead_before(chrono::Utc::now());
    match crate::store::outbox::recover_orphaned(
        &ctx.store,
        &ctx.instance.id,
        dead_before,
        ctx.clock.now(),
    )
    .await
    {
        Ok((0, 0)) => {}
        Ok((claimed, sending)) => {
            tracing::warn!(
                claimed,
                sending,
                "messages of a dead instance went back to the queue"
            );
            ctx.outbox.wake().await;
        }
        Err(err) => tracing::error!(error = %err, "looking for stranded messages failed"),
    }
    match keep_handoff_promises(ctx).await {
        Ok((0, 0)) => {}
        Ok((reminded, closed)) => tracing::info!(reminded, closed, "hand-off timers fired"),
        Err(err) => tracing::error!(error = %err, "checking hand-off timers failed"),
    }
    match write_due_journeys(ctx).await {
        Ok(0) => {}
        Ok(n) => tracing::info!(written = n, "journey messages and re-notices are due"),
        Err(err) => tracing::error!(error = %err, "writing due journeys failed"),
    }
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

async fn write_due_journeys(ctx: &AppContext) -> Result<usize, StoreError> {
    let written = crate::flows::journeys::enqueue_due(ctx, ctx.clock.now()).await?;
    if written > 0 {
        ctx.outbox.wake().await;
    }
    Ok(written)
}

async fn keep_handoff_promises(ctx: &AppContext) -> Result<(usize, usize), StoreError> {
    let mut tx = ctx.store.begin().await?;
    let done = crate::flows::handoff::keep_promises(ctx, &mut tx, ctx.clock.now()).await?;
    tx.commit().await?;
    if done != (0, 0) {
        ctx.outbox.wake().await;
    }
    Ok(done)
}

/// `[retention]` once a day (at start, then every 24 hours by the clock), as `encore prune`.
async fn prune_daily(ctx: &AppContext, pruned_at: &mut Option<chrono::DateTime<chrono::Utc>>) {
    let now = ctx.clock.now();
    if pruned_at.is_some_and(|at| now - at < chrono::Duration::days(1)) {
        return;
    }
    *pruned_at = Some(now);
    match crate::store::retention::prune(&ctx.store, &ctx.config.retention, now, false).await {
        Ok(pruned) => tracing::info!(?pruned, "retention applied"),
        Err(err) => tracing::error!(error = %err, "applying [retention] failed"),
    }
}
