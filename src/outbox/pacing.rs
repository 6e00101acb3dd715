//! Pacing below the platforms' limits (DESIGN invariant 3): the limits are a budget, not a wall.
//!
//! How a send gets its turn, per platform:
//! 1. Per chat: wait until the chat's interval has passed since the last send there *ended*
//!    (1 s for a private chat, 3 s for a group at 20/min, so 20 per minute holds in any 60 s).
//!    Anchoring on the end of the previous call (its answer had arrived, so the platform had
//!    seen it) means neither a wait further down this list nor network jitter can narrow the
//!    gap the platform sees. Sends to one chat take turns.
//! 2. While the platform is paused after a 429, wait out its `retry_after`.
//! 3. Bulk sends step aside while an interactive reply is waiting (interactive goes first).
//! 4. Global: one permit from governor's GCRA limiter at 99% of `per_second` with a burst of 1.
//! 5. If a 429 paused the platform during step 4, go back to 2. Otherwise the turn is granted;
//!    when the returned [`ChatTurn`] is dropped (the call ended), the chat's anchor is set.
//! 6. Right before the platform call, [`Pacer::on_the_wire`] keeps consecutive calls at least
//!    one global period apart: a database write between the permit and the call (or a late
//!    wake-up) can delay a send, and without this the delayed ones would leave bunched up.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use tokio::sync::{Mutex, OwnedMutexGuard};
use tokio::time::{Instant, sleep, sleep_until};

use crate::domain::Lane;
use crate::platforms::PlatformLimits;

/// The share of the published global limit used: a little headroom for jitter on the way.
const GLOBAL_HEADROOM: f64 = 0.99;

pub struct Pacer {
    limits: PlatformLimits,
    global: DefaultDirectRateLimiter,
    chats: std::sync::Mutex<HashMap<String, Arc<Mutex<Option<Instant>>>>>,
    paused_until: std::sync::Mutex<Option<Instant>>,
    interactive_waiting: AtomicUsize,
    period: Duration,
    last_on_wire: Mutex<Option<Instant>>,
}

impl Pacer {
    pub fn new(limits: PlatformLimits) -> Pacer {
        let per_second = f64::from(limits.per_second.max(1)) * GLOBAL_HEADROOM;
        let period = Duration::from_secs_f64(1.0 / per_second);
        let quota = Quota::with_period(period)
            .unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN))
            .allow_burst(NonZeroU32::MIN);
        Pacer {
            limits,
            global: RateLimiter::direct(quota),
            chats: std::sync::Mutex::new(HashMap::new()),
            paused_until: std::sync::Mutex::new(None),
            interactive_waiting: AtomicUsize::new(0),
            period,
            last_on_wire: Mutex::new(None),
        }
    }

    fn chat_slot(&self, chat_id: &str) -> Arc<Mutex<Option<Instant>>> {
        let mut chats = match self.chats.lock() {
            Ok(chats) => chats,
            Err(poisoned) => poisoned.into_inner(),
        };
        // Forget chats idle for a minute so the map does not grow with every viewer ever sent to.
        if chats.len() > 20_000 {
            let horizon = Instant::now() - Duration::from_secs(60);
            chats.retain(|_, slot| match slot.try_lock() {
                Ok(last) => last.is_some_and(|t| t > horizon),
                Err(_) => true,
            });
        }
        chats.entry(chat_id.to_string()).or_default().clone()
    }

    fn paused_until(&self) -> Option<Instant> {
        let paused = match self.paused_until.lock() {
            Ok(p) => *p,
            Err(poisoned) => *poisoned.into_inner(),
        };
        paused.filter(|until| *until > Instant::now())
    }

    /// A 429 said to wait: nothing goes to this platform before `retry_after` has passed.
    pub fn pause(&self, retry_after: Duration) {
        let until = Instant::now() + retry_after;
        let mut paused = match self.paused_until.lock() {
            Ok(p) => p,
            Err(poisoned) => poisoned.into_inner(),
        };
        if paused.is_none_or(|current| current < until) {
            *paused = Some(until);
        }
    }

    /// Step 6: the call may start now; consecutive calls stay one global period apart.
    pub async fn on_the_wire(&self) {
        let mut last = self.last_on_wire.lock().await;
        // Slots are anchored on the schedule, not on when a sleeper happened to wake, so timer
        // lateness does not add up from one send to the next.
        let now = Instant::now();
        let slot = match *last {
            Some(previous) => (previous + self.period).max(now),
            None => now,
        };
        sleep_until(slot).await;
        *last = Some(slot);
    }

    /// Waits until a send to `chat_id` may start (steps 1–5 above). Hold the returned turn for
    /// the duration of the platform call.
    pub async fn wait_turn(&self, chat_id: &str, is_group: bool, lane: Lane) -> ChatTurn {
        let slot = self.chat_slot(chat_id);
        let last_end = slot.lock_owned().await;
        let interval = if is_group {
            self.limits.per_group_interval
        } else {
            self.limits.per_chat_interval
        };
        if let Some(previous) = *last_end {
            sleep_until(previous + interval).await;
        }
        let _interactive = (lane == Lane::Interactive).then(|| InteractiveWaiting::new(self));
        loop {
            if let Some(until) = self.paused_until() {
                sleep_until(until).await;
            }
            if lane == Lane::Bulk {
                while self.interactive_waiting.load(Ordering::Acquire) > 0 {
                    sleep(Duration::from_millis(5)).await;
                }
            }
            self.global.until_ready().await;
            if self.paused_until().is_none() {
                break;
            }
        }
        ChatTurn {
            last_end,
            hold: None,
        }
    }
}

/// A chat's turn to be sent to; when dropped, the call has ended and the chat's interval starts.
pub struct ChatTurn {
    last_end: OwnedMutexGuard<Option<Instant>>,
    hold: Option<Duration>,
}

impl ChatTurn {
    /// The platform said the chat's bucket is empty for `wait`: the next send there waits at
    /// least that long.
    pub fn hold_for(&mut self, wait: Duration) {
        self.hold = Some(wait);
    }
}

impl Drop for ChatTurn {
    fn drop(&mut self) {
        // The next turn starts one interval after this anchor; a hold moves the anchor on.
        *self.last_end = Some(Instant::now() + self.hold.unwrap_or_default());
    }
}

/// Counts an interactive send as waiting for as long as it waits.
struct InteractiveWaiting<'a>(&'a Pacer);

impl<'a> InteractiveWaiting<'a> {
    fn new(pacer: &'a Pacer) -> Self {
        pacer.interactive_waiting.fetch_add(1, Ordering::AcqRel);
        InteractiveWaiting(pacer)
    }
}

impl Drop for InteractiveWaiting<'_> {
    fn drop(&mut self) {
        self.0.interactive_waiting.fetch_sub(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(per_second: u32) -> PlatformLimits {
        PlatformLimits {
            per_second,
            per_chat_interval: Duration::from_millis(200),
            per_group_interval: Duration::from_millis(600),
        }
    }

    #[tokio::test]
    async fn two_sends_to_one_chat_are_an_interval_apart() {
        let pacer = Pacer::new(limits(1000));
        let start = Instant::now();
        drop(pacer.wait_turn("1", false, Lane::Bulk).await);
        drop(pacer.wait_turn("1", false, Lane::Bulk).await);
        assert!(start.elapsed() >= Duration::from_millis(200));
        drop(pacer.wait_turn("-5", true, Lane::Bulk).await);
        let group_start = Instant::now();
        drop(pacer.wait_turn("-5", true, Lane::Bulk).await);
        assert!(group_start.elapsed() >= Duration::from_millis(590));
    }

    #[tokio::test]
    async fn the_global_limit_spaces_sends_to_different_chats() {
        let pacer = Pacer::new(limits(50));
        let start = Instant::now();
        for chat in 0..11 {
            drop(pacer.wait_turn(&chat.to_string(), false, Lane::Bulk).await);
        }
        // 11 sends at 50/s with a burst of one: at least 10 periods of 20 ms.
        assert!(
            start.elapsed() >= Duration::from_millis(195),
            "{:?}",
            start.elapsed()
        );
    }

    #[tokio::test]
    async fn a_pause_holds_every_send_until_it_ends() {
        let pacer = Pacer::new(limits(1000));
        pacer.pause(Duration::from_millis(300));
        let start = Instant::now();
        drop(pacer.wait_turn("9", false, Lane::Interactive).await);
        assert!(start.elapsed() >= Duration::from_millis(295));
    }
}
