//! The local lease guard: how long this process may still act as the leader, measured on its own
//! monotonic clock from the last renewal that the database confirmed.
//!
//! The database's fence refuses a deposed leader's claims, but a process that was paused
//! (SIGSTOP, a frozen VM) for longer than the lease wakes up with messages already claimed and
//! marked `sending` in its hands. Before every request it puts on the wire, the dispatcher asks
//! [`LeaseGuard::may_send`]; the Telegram poller asks before every `getUpdates`. Past the
//! deadline the answer is no, before the next renewal has even been tried, so a resumed old
//! leader sends nothing. `Instant` keeps counting while a process is stopped, which is what
//! makes this work.
//!
//! This module keeps a deadline; it never talks to the database and never stops a task.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::watch;

/// Whether this process may act as the leader now, and until when. Cheap to clone; every clone
/// sees the same deadline.
#[derive(Clone, Debug)]
pub struct LeaseGuard {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    holding: Mutex<Holding>,
    /// Tests only: emulates a stopped process (see [`LeaseGuard::freeze_for_tests`]).
    frozen: watch::Sender<bool>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Holding {
    /// No lease: nothing may be sent.
    Nothing,
    /// A lease confirmed until this instant.
    Until(Instant),
    /// No lease is needed (`encore demo` and tools that run a dispatcher on their own database).
    Always,
}

impl LeaseGuard {
    /// A guard that holds nothing until [`LeaseGuard::renewed`].
    pub fn new() -> LeaseGuard {
        LeaseGuard::with(Holding::Nothing)
    }

    /// A guard that always holds: for a dispatcher that runs without a lease.
    pub fn always() -> LeaseGuard {
        LeaseGuard::with(Holding::Always)
    }

    fn with(holding: Holding) -> LeaseGuard {
        LeaseGuard {
            inner: Arc::new(Inner {
                holding: Mutex::new(holding),
                frozen: watch::Sender::new(false),
            }),
        }
    }

    /// The database confirmed the lease for `lease` from a request sent at `asked_at`. The
    /// deadline counts from when the request was sent, not when the answer came: the database
    /// may have written it at any moment in between, and others count from that write.
    pub fn renewed(&self, asked_at: Instant, lease: Duration) {
        self.set(Holding::Until(asked_at + lease));
    }

    /// The lease is gone (taken over, released): nothing more is sent under it.
    pub fn revoke(&self) {
        self.set(Holding::Nothing);
    }

    fn set(&self, holding: Holding) {
        let mut current = self
            .inner
            .holding
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if *current != Holding::Always {
            *current = holding;
        }
    }

    fn holding(&self) -> Holding {
        *self
            .inner
            .holding
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Whether the lease holds at `now`.
    pub fn holds_at(&self, now: Instant) -> bool {
        match self.holding() {
            Holding::Nothing => false,
            Holding::Until(deadline) => now < deadline,
            Holding::Always => true,
        }
    }

    /// Whether the lease holds now.
    pub fn holds(&self) -> bool {
        self.holds_at(Instant::now())
    }

    /// How long the lease still holds (zero when it does not; a long time when no lease is
    /// needed). The Telegram poller keeps each long poll within it.
    pub fn remaining(&self) -> Duration {
        match self.holding() {
            Holding::Nothing => Duration::ZERO,
            Holding::Until(deadline) => deadline.saturating_duration_since(Instant::now()),
            Holding::Always => Duration::from_secs(24 * 60 * 60),
        }
    }

    /// Asked immediately before a request goes on the wire: true while the lease holds. (Under
    /// [`LeaseGuard::freeze_for_tests`] it first waits for the thaw, as a stopped process would
    /// answer only once it runs again.)
    pub async fn may_send(&self) -> bool {
        self.until_thawed().await;
        self.holds()
    }

    /// Returns at once unless a test froze this process's leading.
    pub async fn until_thawed(&self) {
        let mut frozen = self.inner.frozen.subscribe();
        let _ = frozen.wait_for(|frozen| !*frozen).await;
    }

    /// Tests only: emulates SIGSTOP of the lease renewal and of sending — every check before
    /// the wire waits (then answers by the deadline, which kept running), as does the
    /// renewal. `false` is SIGCONT.
    #[doc(hidden)]
    pub fn freeze_for_tests(&self, frozen: bool) {
        self.inner.frozen.send_replace(frozen);
    }
}

impl Default for LeaseGuard {
    fn default() -> Self {
        LeaseGuard::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_guard_refuses_once_its_deadline_has_passed() {
        let guard = LeaseGuard::new();
        let start = Instant::now();
        assert!(!guard.holds_at(start), "no lease was ever confirmed");
        guard.renewed(start, Duration::from_secs(3));
        assert!(guard.holds_at(start + Duration::from_millis(2_999)));
        assert!(
            !guard.holds_at(start + Duration::from_secs(3)),
            "a process resumed after the lease ran out sends nothing"
        );
        guard.renewed(start + Duration::from_secs(2), Duration::from_secs(3));
        assert!(guard.holds_at(start + Duration::from_secs(4)), "renewed");
        guard.revoke();
        assert!(!guard.holds_at(start + Duration::from_secs(4)), "revoked");
        assert_eq!(guard.remaining(), Duration::ZERO);
    }

    #[test]
    fn the_deadline_counts_from_when_the_renewal_was_asked_for() {
        let guard = LeaseGuard::new();
        let asked = Instant::now() - Duration::from_secs(2);
        guard.renewed(asked, Duration::from_secs(3));
        assert!(guard.remaining() <= Duration::from_secs(1));
    }

    #[test]
    fn a_guard_without_a_lease_always_holds() {
        let guard = LeaseGuard::always();
        guard.revoke();
        assert!(guard.holds());
    }

    #[tokio::test]
    async fn a_frozen_guard_answers_after_the_thaw_by_its_deadline() {
        let guard = LeaseGuard::new();
        guard.renewed(Instant::now(), Duration::from_millis(50));
        guard.freeze_for_tests(true);
        let asking = tokio::spawn({
            let guard = guard.clone();
            async move { guard.may_send().await }
        });
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(!asking.is_finished(), "a stopped process does not answer");
        guard.freeze_for_tests(false);
        assert!(
            !asking.await.expect("joined"),
            "the deadline passed while it was stopped"
        );
    }
}
