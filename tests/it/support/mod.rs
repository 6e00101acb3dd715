//! Test support: the platform stand-ins and a harness that runs the real encore app against
//! them on 127.0.0.1.
#![allow(dead_code)]

pub mod app;
pub mod discord;
pub mod solapi;
pub mod telegram;

use std::time::Duration;

use tokio::sync::Notify;

/// Waits until `condition` holds, checked again on every `changed` and every 20 ms; false if
/// `timeout` passed first. A stand-in's `wait_until`.
pub async fn wait_on(
    changed: &Notify,
    timeout: Duration,
    mut condition: impl FnMut() -> bool,
) -> bool {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let notified = changed.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        if condition() {
            return true;
        }
        let now = tokio::time::Instant::now();
        if now >= deadline {
            return false;
        }
        tokio::select! {
            _ = notified => {}
            _ = tokio::time::sleep_until((now + Duration::from_millis(20)).min(deadline)) => {}
        }
    }
}
