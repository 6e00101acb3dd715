//! Pacing below the platforms' limits (DESIGN invariant 3): the limits are a budget, not a wall.
//!
//! This module owns when a send may start; it never talks to a platform or the store, and it
//! never lets a budget of N per window W put more than N arrival times into any window the
//! platform measures, whatever the scheduling and network jitter.
//!
//! The rule, for a budget of N requests per window W (global: `per_second` per 1 s; per chat:
//! one per the chat's interval):
//! 1. The budget has N slots. Each remembers the instant the response to its last request came
//!    back, or that its request is still on the wire.
//! 2. A request starts only on a slot that is not on the wire, and only once W has passed since
//!    that slot's response came back. It holds the slot until its own response is back. Starts
//!    are also spread W / N apart, so the sends flow evenly rather than in bursts; a start that
//!    woke late is made up for, up to 20 ms behind the schedule ([`CATCH_UP`]).
//! 3. Why no window can crowd: the platform saw a request after it started and before its
//!    response came back. So two requests of one slot arrive at least W apart, and a window
//!    `[t, t + W)` holds at most one arrival per slot: at most N. Jitter, late timers and slow
//!    answers cannot break this; they only make a slot's cycle longer (W plus a round trip).
//! 4. Per chat: one slot, W = the chat's interval (1 s for a private chat, 3 s for a group at
//!    20/min), taken by [`Pacer::wait_turn`] before rendering and given back when the returned
//!    [`ChatTurn`] is dropped after the call. Sends to one chat take turns.
//! 5. Global: N = `per_second`, W = 1 s, taken by [`Pacer::on_the_wire`] right before the call
//!    (after the database work, so that work is not part of a slot's cycle) and given back when
//!    the returned [`WireTurn`] is dropped, the moment the answer is in.
//! 6. After a 429 all the same: nothing starts before its `retry_after` has passed, and for a
//!    minute after that the global window is stretched by a quarter (a slower pace), in case the
//!    platform counts something this process does not see.
//! 7. Interactive first: bulk sends step aside in `wait_turn` while an interactive reply waits,
//!    and at the global slots interactive replies do not queue behind bulk ones.
//! 8. A new pacer (a restart after a crash) cannot know what the previous process sent just
//!    before it died, so it counts every slot and every chat as answered at the moment it was
//!    made: the first sends wait one window (1 s; a group's interval), never a full budget on
//!    top of the one the platform already counted.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::sync::{Mutex, Notify, OwnedMutexGuard};
use tokio::time::{Instant, sleep, sleep_until};

use crate::domain::Lane;
use crate::platforms::PlatformLimits;

/// How long the pace stays slower after a 429's `retry_after` has passed (step 6).
const SLOW_AFTER_429: Duration = Duration::from_secs(60);

/// How far behind its schedule the spreading of starts may fall and still catch up (step 2),
/// when that is more than one spacing (so only above 50 a second). Timers fire on 1 ms ticks
/// and a busy machine runs a woken task later still, often by a scheduler slice: at 1,000 a
/// second (starts 1 ms apart) a slack of one spacing lost every late wake-up for good, 7 % of
/// the budget with no I/O at all and 10 % beside a build. The bound does not rest on the
/// spreading (step 3); what this allows is, after a stall, up to 20 ms of starts back to back.
const CATCH_UP: Duration = Duration::from_millis(20);

/// The slots of one budget (steps 1–3), with time passed in: no clock, no sleeping, so the rule
/// is tested by simulation.
#[derive(Debug, Clone)]
pub struct Slots {
    /// Slots not on the wire: when their last response came back (`None`: never used).
    idle: Vec<Option<Instant>>,
    /// Slots whose request is on the wire.
    on_wire: usize,
    /// The scheduled start of the latest request (step 2's spacing).
    last_start: Option<Instant>,
}

/// When the next request of a budget may start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NextStart {
    /// A slot is free now.
    Now,
    /// The earliest a slot frees, if no other request takes it first.
    At(Instant),
    /// Every slot is on the wire: wait for a response.
    AfterAResponse,
}

impl Slots {
    pub fn new(limit: usize) -> Slots {
        Slots {
            idle: vec![None; limit.max(1)],
            on_wire: 0,
            last_start: None,
        }
    }

    /// Slots whose last responses all came back at `at` (step 8).
    pub fn answered_at(limit: usize, at: Instant) -> Slots {
        Slots {
            idle: vec![Some(at); limit.max(1)],
            on_wire: 0,
            last_start: None,
        }
    }

    /// Step 2: when the earliest idle slot may be used, with `window` as W.
    pub fn next_start(&self, window: Duration, now: Instant) -> NextStart {
        let Some((_, returned)) = self.earliest_idle() else {
            return NextStart::AfterAResponse;
        };
        // Starts are also spread W / N apart. Not needed for the bound, but without it the
        // slots freed by one burst of answers are ready together a window later, and the sends
        // go out in bursts: more of them on the wire at once, more to repeat after a crash.
        let spaced = self.last_start.map(|last| last + self.spacing(window));
        match returned.map(|at| at + window).max(spaced) {
            Some(at) if at > now => NextStart::At(at),
            _ => NextStart::Now,
        }
    }

    fn spacing(&self, window: Duration) -> Duration {
        let slots = u32::try_from(self.idle.len() + self.on_wire).unwrap_or(u32::MAX);
        window / slots.max(1)
    }

    /// Takes the earliest idle slot for a request starting at `now`; false (nothing taken) when
    /// [`Slots::next_start`] does not say `Now`.
    pub fn start(&mut self, window: Duration, now: Instant) -> bool {
        if self.next_start(window, now) != NextStart::Now {
            return false;
        }
        if let Some((index, _)) = self.earliest_idle() {
            self.idle.swap_remove(index);
            self.on_wire += 1;
            // Anchored on the schedule, so a late wake-up does not push every later start back,
            // but at most one spacing (or `CATCH_UP`, when that is more) behind `now`, so an
            // idle spell does not allow more than a few starts back to back.
            let spacing = self.spacing(window);
            let scheduled = self.last_start.map_or(now, |last| last + spacing);
            let slack = spacing.max(CATCH_UP);
            self.last_start = Some(scheduled.max(now.checked_sub(slack).unwrap_or(now)));
            return true;
        }
        false
    }

    /// Step 1: a response came back at `now`; its slot is idle again from that instant.
    pub fn finish(&mut self, now: Instant) {
        if self.on_wire > 0 {
            self.on_wire -= 1;
            self.idle.push(Some(now));
        }
    }

    fn earliest_idle(&self) -> Option<(usize, Option<Instant>)> {
        // `None` (never used) sorts before any instant: such a slot is free at once.
        self.idle
            .iter()
            .copied()
            .enumerate()
            .min_by_key(|(_, returned)| *returned)
    }
}

/// One budget of N per W shared by the sends of a platform (step 5).
struct GlobalBudget {
    window: Duration,
    slots: std::sync::Mutex<Slots>,
    /// Rung when a slot comes back.
    returned: Notify,
    /// Bulk and staff sends take slots in the order they asked.
    queue: Mutex<()>,
}

pub struct Pacer {
    limits: PlatformLimits,
    global: GlobalBudget,
    chats: std::sync::Mutex<HashMap<String, Arc<Mutex<Option<Instant>>>>>,
    paused_until: std::sync::Mutex<Option<Instant>>,
    slow_until: std::sync::Mutex<Option<Instant>>,
    interactive_waiting: AtomicUsize,
    /// When this pacer was made: every chat counts as sent to then (step 8).
    made_at: Instant,
}

fn lock<T>(mutex: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panic elsewhere while holding one of these leaves plain data behind; keep using it.
    match mutex.lock() {
        Ok(guard) => guard,
        Err(poisoned) => poisoned.into_inner(),
    }
}

impl Pacer {
    pub fn new(limits: PlatformLimits) -> Pacer {
        let per_second = usize::try_from(limits.per_second.max(1)).unwrap_or(1);
        let made_at = Instant::now();
        Pacer {
            limits,
            global: GlobalBudget {
                window: Duration::from_secs(1),
                slots: std::sync::Mutex::new(Slots::answered_at(per_second, made_at)),
                returned: Notify::new(),
                queue: Mutex::new(()),
            },
            chats: std::sync::Mutex::new(HashMap::new()),
            paused_until: std::sync::Mutex::new(None),
            slow_until: std::sync::Mutex::new(None),
            interactive_waiting: AtomicUsize::new(0),
            made_at,
        }
    }

    fn chat_slot(&self, chat_id: &str) -> Arc<Mutex<Option<Instant>>> {
        let mut chats = lock(&self.chats);
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
        let paused = *lock(&self.paused_until);
        paused.filter(|until| *until > Instant::now())
    }

    /// The global window in effect: stretched by a quarter for a while after a 429 (step 6).
    fn global_window(&self) -> Duration {
        let slow = lock(&self.slow_until).is_some_and(|until| until > Instant::now());
        if slow {
            self.global.window + self.global.window / 4
        } else {
            self.global.window
        }
    }

    /// A 429 said to wait: nothing goes to this platform before `retry_after` has passed, and
    /// the pace is slower for a while after (step 6).
    pub fn pause(&self, retry_after: Duration) {
        let until = Instant::now() + retry_after;
        let mut paused = lock(&self.paused_until);
        if paused.is_none_or(|current| current < until) {
            *paused = Some(until);
        }
        drop(paused);
        let slow = until + SLOW_AFTER_429;
        let mut slow_until = lock(&self.slow_until);
        if slow_until.is_none_or(|current| current < slow) {
            *slow_until = Some(slow);
        }
    }

    /// Step 5: waits for a global slot; the call may start when this returns. Hold the returned
    /// turn until the platform's answer is in, and drop it then.
    pub async fn on_the_wire(&self, lane: Lane) -> WireTurn<'_> {
        let interactive = lane == Lane::Interactive;
        let _waiting = interactive.then(|| InteractiveWaiting::new(self));
        // Interactive replies do not queue behind bulk ones (step 7).
        let _queue = if interactive {
            None
        } else {
            Some(self.global.queue.lock().await)
        };
        loop {
            if let Some(until) = self.paused_until() {
                sleep_until(until).await;
                continue;
            }
            if !interactive && self.interactive_waiting.load(Ordering::Acquire) > 0 {
                sleep(Duration::from_millis(2)).await;
                continue;
            }
            let window = self.global_window();
            let next = {
                let mut slots = lock(&self.global.slots);
                let now = Instant::now();
                if slots.start(window, now) {
                    return WireTurn { pacer: self };
                }
                slots.next_start(window, now)
            };
            match next {
                NextStart::Now => {}
                // Checked again on waking: another request (an interactive one) may have taken
                // the slot, or a 429 may have come in.
                NextStart::At(at) => sleep_until(at).await,
                NextStart::AfterAResponse => self.global.returned.notified().await,
            }
        }
    }

    /// Waits until a send to `chat_id` may start (step 4, and the 429 pause and bulk stepping
    /// aside of steps 6 and 7). Hold the returned turn for the duration of the platform call.
    pub async fn wait_turn(&self, chat_id: &str, is_group: bool, lane: Lane) -> ChatTurn {
        let slot = self.chat_slot(chat_id);
        let last_end = slot.lock_owned().await;
        let interval = if is_group {
            self.limits.per_group_interval
        } else {
            self.limits.per_chat_interval
        };
        sleep_until(last_end.unwrap_or(self.made_at) + interval).await;
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

/// A global slot held while a call is on the wire; dropped when its answer is in (step 5).
pub struct WireTurn<'a> {
    pacer: &'a Pacer,
}

impl Drop for WireTurn<'_> {
    fn drop(&mut self) {
        lock(&self.pacer.global.slots).finish(Instant::now());
        self.pacer.global.returned.notify_one();
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
    use std::collections::BinaryHeap;

    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};

    use super::*;

    fn limits(per_second: u32) -> PlatformLimits {
        PlatformLimits {
            per_second,
            per_chat_interval: Duration::from_millis(200),
            per_group_interval: Duration::from_millis(600),
        }
    }

    /// The most of `sorted` within any half-open window `[t, t + window)`.
    fn most_in_any_window(sorted: &[Instant], window: Duration) -> usize {
        let mut most = 0;
        let mut first = 0;
        for (last, at) in sorted.iter().enumerate() {
            while at.duration_since(sorted[first]) >= window {
                first += 1;
            }
            most = most.max(last - first + 1);
        }
        most
    }

    /// Simulates `requests` sends through one budget of `limit` per `window`, `concurrency` of
    /// them at a time, with random scheduling lateness and random delays on the way there and
    /// back. Returns the instants the server saw them arrive, sorted.
    fn simulate(
        seed: u64,
        limit: usize,
        window: Duration,
        concurrency: usize,
        requests: usize,
    ) -> Vec<Instant> {
        let mut rng = StdRng::seed_from_u64(seed);
        let origin = Instant::now();
        let mut now = origin;
        let mut slots = Slots::new(limit);
        // Responses still to come back, earliest first.
        let mut responses: BinaryHeap<std::cmp::Reverse<Instant>> = BinaryHeap::new();
        let mut arrivals = Vec::with_capacity(requests);
        let mut started = 0;
        while arrivals.len() < requests || !responses.is_empty() {
            let can_start = started < requests && responses.len() < concurrency;
            let next_start = can_start.then(|| match slots.next_start(window, now) {
                NextStart::Now => Some(now),
                NextStart::At(at) => Some(at),
                NextStart::AfterAResponse => None,
            });
            let next_response = responses.peek().map(|r| r.0);
            match (next_start.flatten(), next_response) {
                (Some(start), response) if response.is_none_or(|r| start < r) => {
                    // A late wake-up: the task starts up to 30 ms after it was allowed to.
                    now = start + Duration::from_micros(rng.random_range(0..30_000));
                    assert!(slots.start(window, now), "a slot was free at {now:?}");
                    started += 1;
                    // The way there: 0–80 ms; the way back: 0–80 ms.
                    let arrival = now + Duration::from_micros(rng.random_range(0..80_000));
                    let response = arrival + Duration::from_micros(rng.random_range(0..80_000));
                    arrivals.push(arrival);
                    responses.push(std::cmp::Reverse(response));
                }
                (_, Some(response)) => {
                    responses.pop();
                    now = now.max(response);
                    slots.finish(now);
                }
                (_, None) => break,
            }
        }
        arrivals.sort();
        arrivals
    }

    #[test]
    fn no_window_ever_holds_more_than_the_budget_whatever_the_delays() {
        for seed in 0..20 {
            for (limit, window, concurrency) in [
                (30, Duration::from_secs(1), 16),
                (30, Duration::from_secs(1), 64),
                (1, Duration::from_secs(1), 4),
                (20, Duration::from_secs(60), 30),
                (5, Duration::from_secs(5), 8),
                (1000, Duration::from_secs(1), 125),
            ] {
                let arrivals = simulate(seed, limit, window, concurrency, 400);
                assert_eq!(arrivals.len(), 400);
                let most = most_in_any_window(&arrivals, window);
                assert!(
                    most <= limit,
                    "seed {seed}: {most} arrivals within {window:?} against a budget of {limit}"
                );
            }
        }
    }

    #[test]
    fn with_quick_answers_the_budget_is_nearly_used_up() {
        // 16 at a time, round trips of about 100 ms: about 30 per (1 s + a round trip).
        let arrivals = simulate(7, 30, Duration::from_secs(1), 16, 600);
        let span = arrivals[arrivals.len() - 1].duration_since(arrivals[0]);
        let rate = (arrivals.len() - 1) as f64 / span.as_secs_f64();
        assert!(rate > 25.0, "{rate} per second");
    }

    #[test]
    fn at_a_thousand_a_second_a_late_wake_up_is_made_up_for() {
        // Requests always waiting, calls of 5 ms. A start that had to sleep wakes 0.3 ms late,
        // and every 25th sleep a whole scheduler slice (8 ms) late, as beside a build. With
        // one spacing (1 ms) of slack every slow wake-up was lost for good: about 0.8 of the
        // budget here.
        let window = Duration::from_secs(1);
        let origin = Instant::now();
        let mut slots = Slots::new(1000);
        let mut on_wire: BinaryHeap<std::cmp::Reverse<Instant>> = BinaryHeap::new();
        let (mut now, mut sleeps, mut starts) = (origin, 0u32, Vec::new());
        while now < origin + Duration::from_secs(5) {
            while on_wire.peek().is_some_and(|r| r.0 <= now) {
                let answered = on_wire.pop().map_or(now, |r| r.0);
                slots.finish(answered);
            }
            match slots.next_start(window, now) {
                NextStart::Now => {
                    assert!(slots.start(window, now));
                    starts.push(now);
                    on_wire.push(std::cmp::Reverse(now + Duration::from_millis(5)));
                }
                NextStart::At(at) => {
                    sleeps += 1;
                    let late = if sleeps % 25 == 0 { 8_000 } else { 300 };
                    now = at + Duration::from_micros(late);
                }
                NextStart::AfterAResponse => {
                    now = on_wire.peek().map_or(now, |r| r.0);
                }
            }
        }
        let span = starts[starts.len() - 1].duration_since(starts[0]);
        let rate = (starts.len() - 1) as f64 / span.as_secs_f64();
        assert!(rate > 985.0, "{rate} per second");
        assert!(most_in_any_window(&starts, window) <= 1000);
    }

    #[test]
    fn a_slot_on_the_wire_is_not_taken_again_until_its_answer_is_in() {
        let origin = Instant::now();
        let window = Duration::from_secs(1);
        let mut slots = Slots::new(1);
        assert!(slots.start(window, origin));
        let much_later = origin + Duration::from_secs(10);
        assert_eq!(
            slots.next_start(window, much_later),
            NextStart::AfterAResponse
        );
        slots.finish(much_later);
        assert_eq!(
            slots.next_start(window, much_later),
            NextStart::At(much_later + window)
        );
        assert!(!slots.start(window, much_later + window / 2));
        assert!(slots.start(window, much_later + window));
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
        assert!(group_start.elapsed() >= Duration::from_millis(600));
    }

    #[tokio::test]
    async fn a_new_pacer_waits_a_window_then_each_slot_waits_a_window_after_its_answer() {
        let pacer = Pacer::new(limits(5));
        let start = Instant::now();
        for _ in 0..5 {
            let turn = pacer.on_the_wire(Lane::Bulk).await;
            // The previous process may have used the whole budget just before it died.
            assert!(start.elapsed() >= Duration::from_secs(1));
            sleep(Duration::from_millis(10)).await;
            drop(turn);
        }
        let sixth = pacer.on_the_wire(Lane::Bulk).await;
        // The first answer came back after 1.01 s: the sixth call starts a full second later.
        assert!(start.elapsed() >= Duration::from_millis(2010));
        drop(sixth);
    }

    #[tokio::test]
    async fn a_pause_holds_every_send_until_it_ends_and_the_pace_is_slower_after() {
        let pacer = Pacer::new(limits(1));
        pacer.pause(Duration::from_millis(300));
        let start = Instant::now();
        drop(pacer.wait_turn("9", false, Lane::Interactive).await);
        assert!(start.elapsed() >= Duration::from_millis(300));
        drop(pacer.on_the_wire(Lane::Interactive).await);
        let answered = Instant::now();
        drop(pacer.on_the_wire(Lane::Interactive).await);
        assert!(answered.elapsed() >= Duration::from_millis(1250));
    }
}
