//! Shutdown: the one signal every long-running task selects on. `app` owns the sender; each loop
//! gets a receiver and stops taking work when it turns true, so nothing is killed mid-write.

use tokio::sync::watch;

/// The receiving end each task holds.
pub type Shutdown = watch::Receiver<bool>;

/// Makes the signal: the sender stops everything, receivers are handed to the tasks.
pub fn channel() -> (watch::Sender<bool>, Shutdown) {
    watch::channel(false)
}

/// Resolves when the shutdown flag turns true (or its sender is gone).
pub async fn until_shutdown(shutdown: &mut Shutdown) {
    let _ = shutdown.wait_for(|stop| *stop).await;
}
