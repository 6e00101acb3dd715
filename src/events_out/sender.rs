//! Sending events out: the task that posts recorded events to `shop.webhook_url`, signed
//! with [`crate::signing`], with retries.
//!
//! 3. The sender ([`sender_task`]) is its own task: a slow or dead shop endpoint never delays
//!    a viewer's messages. It takes due events oldest first, one at a time, posts each with a
//!    10 s time-out and holds no transaction across the call. 2xx is delivered; anything else
//!    backs off 5 s, 10 s, 20 s … up to an hour ([`backoff`]), and after [`MAX_ATTEMPTS`] is
//!    given up with an error log naming the event's id and type, never its body.
//! 4. It wakes when this process commits something to send ([`crate::outbox::Outbox::wake`]
//!    rings it too) and looks every [`POLL_EVERY`] for events recorded elsewhere or due again.
//!
//! (Steps 1 and 2, recording, are in `record.rs`.) The sender never builds a body — it posts
//! the bytes fixed when the event was recorded — never talks to a platform, and never logs a
//! body or the URL (either may carry personal data or a token).

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use tokio::sync::{Notify, watch};

use crate::clock::Clock;
use crate::context::AppContext;
use crate::shutdown::until_shutdown;
use crate::signing;
use crate::store::webhooks::{self as rows, TakenEvent};
use crate::store::{Store, StoreError, StoreResult};

use super::record::enabled;

/// How long one POST may take.
pub const TIMEOUT: Duration = Duration::from_secs(10);
/// How often the sender looks for due events when nothing rang.
pub const POLL_EVERY: Duration = Duration::from_secs(2);
/// Attempts before an event is given up (about five and a half hours of trying).
pub const MAX_ATTEMPTS: i64 = 15;
const FIRST_BACKOFF_SECONDS: i64 = 5;
const MAX_BACKOFF_SECONDS: i64 = 3600;
/// A taken event is leased this long: longer than a POST can take.
const LEASE_SECONDS: i64 = 60;

/// Why the sender stopped: only what it cannot retry (a failed POST is retried, not returned).
#[derive(Debug, thiserror::Error)]
pub enum EventsOutError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the HTTP client for shop.webhook_url cannot be built: {0}")]
    Client(#[source] reqwest::Error),
}

/// The sender's doorbell for the dispatcher, when events go out.
pub fn bell(ctx: &AppContext) -> Option<Arc<Notify>> {
    enabled(&ctx.config).then(|| ctx.outbox.events_out_bell())
}

/// How long to wait after the `attempts`-th failed attempt: 5 s, doubling, at most an hour.
pub fn backoff(attempts: i64) -> chrono::Duration {
    let doublings = attempts.saturating_sub(1).clamp(0, 20) as u32;
    let seconds = FIRST_BACKOFF_SECONDS
        .saturating_mul(2_i64.saturating_pow(doublings))
        .min(MAX_BACKOFF_SECONDS);
    chrono::Duration::seconds(seconds)
}

/// The sender, as a task for `RunningApp` to spawn: `None` without a `webhook_url`. It takes
/// from the context only the URL, the secret, the store, the clock and its doorbell.
pub fn sender_task(
    ctx: &AppContext,
    shutdown: watch::Receiver<bool>,
) -> Option<impl Future<Output = (&'static str, Result<(), String>)> + Send + 'static> {
    let sender = Sender {
        url: ctx.config.shop.webhook_url.clone()?,
        secret: ctx.config.http.webhook_secret.clone(),
        store: ctx.store.clone(),
        clock: ctx.clock.clone(),
        bell: ctx.outbox.events_out_bell(),
    };
    Some(async move {
        (
            "events_out",
            sender.run(shutdown).await.map_err(|e| e.to_string()),
        )
    })
}

struct Sender {
    url: String,
    secret: SecretString,
    store: Store,
    clock: Arc<dyn Clock>,
    bell: Arc<Notify>,
}

impl Sender {
    async fn run(self, mut shutdown: watch::Receiver<bool>) -> Result<(), EventsOutError> {
        let http = reqwest::Client::builder()
            .timeout(TIMEOUT)
            // A redirected POST would turn into a GET: a 3xx is a failure to retry instead.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("encore/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(EventsOutError::Client)?;
        if self.secret.expose_secret().trim().is_empty() {
            tracing::warn!(
                "shop.webhook_url is set but http.webhook_secret is not: the shop cannot verify the events encore posts"
            );
        }
        tracing::info!("events out are posted to shop.webhook_url");
        loop {
            if *shutdown.borrow() {
                return Ok(());
            }
            if let Err(err) = self.deliver_due(&http, &mut shutdown).await {
                tracing::error!(error = %err, "events out: bookkeeping failed; trying again shortly");
            }
            tokio::select! {
                _ = self.bell.notified() => {}
                _ = tokio::time::sleep(POLL_EVERY) => {}
                _ = until_shutdown(&mut shutdown) => return Ok(()),
            }
        }
    }

    /// Posts due events oldest first until none is due or one fails (the shop is struggling:
    /// the rest wait for the next round rather than hammer it).
    async fn deliver_due(
        &self,
        http: &reqwest::Client,
        shutdown: &mut watch::Receiver<bool>,
    ) -> StoreResult<()> {
        loop {
            if *shutdown.borrow() {
                return Ok(());
            }
            let now = self.clock.now();
            let lease = now + chrono::Duration::seconds(LEASE_SECONDS);
            let Some(event) = rows::take_next(&self.store, now, lease).await? else {
                return Ok(());
            };
            let posted = tokio::select! {
                posted = self.post(http, &event) => posted,
                _ = until_shutdown(shutdown) => {
                    // Cut off mid-request: it goes again next time (the shop dedupes on `id`).
                    return rows::release(&self.store, event.seq, self.clock.now()).await;
                }
            };
            match posted {
                Ok(()) => {
                    rows::mark_delivered(&self.store, event.seq, self.clock.now()).await?;
                    tracing::debug!(event_id = %event.id, event_type = %event.kind, attempts = event.attempts, "event delivered to the shop");
                }
                Err(reason) if event.attempts >= MAX_ATTEMPTS => {
                    rows::give_up(&self.store, event.seq, &reason).await?;
                    tracing::error!(event_id = %event.id, event_type = %event.kind, attempts = event.attempts, %reason, "the shop never took this event; gave up");
                    return Ok(());
                }
                Err(reason) => {
                    let next = self.clock.now() + backoff(event.attempts);
                    rows::retry_at(&self.store, event.seq, next, &reason).await?;
                    tracing::warn!(event_id = %event.id, event_type = %event.kind, attempt = event.attempts, %reason, %next, "the shop did not take an event; retrying later");
                    return Ok(());
                }
            }
        }
    }

    /// One signed POST. `Err` says why it did not count, without the URL.
    async fn post(&self, http: &reqwest::Client, event: &TakenEvent) -> Result<(), String> {
        let timestamp = self.clock.now().timestamp();
        let signature = signing::sign(
            self.secret.expose_secret().as_bytes(),
            timestamp,
            event.body.as_bytes(),
        );
        let response = http
            .post(&self.url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(signing::TIMESTAMP_HEADER, timestamp.to_string())
            .header(signing::SIGNATURE_HEADER, signature)
            .body(event.body.clone())
            .send()
            .await
            .map_err(describe)?;
        let status = response.status();
        if status.is_success() {
            Ok(())
        } else {
            Err(format!("the shop answered {status}"))
        }
    }
}

/// A network error in words, without the URL (it may carry a token).
fn describe(err: reqwest::Error) -> String {
    let what = if err.is_timeout() {
        "no answer within 10 s"
    } else if err.is_connect() {
        "could not connect"
    } else {
        "the request failed"
    };
    // The innermost cause says what happened ("Connection refused"); the outer ones name the URL.
    let mut deepest = None;
    let mut cause = std::error::Error::source(&err);
    while let Some(inner) = cause {
        deepest = Some(inner);
        cause = inner.source();
    }
    match deepest {
        Some(cause) => format!("{what}: {cause}"),
        None => what.to_string(),
    }
}

/// `encore_events_out_total{state}` for `/metrics`.
pub async fn metrics(store: &Store) -> StoreResult<String> {
    let counts = rows::count_by_state(store).await?;
    let mut out = String::from(
        "# HELP encore_events_out_total Events for shop.webhook_url by state.\n# TYPE encore_events_out_total gauge\n",
    );
    for state in ["delivered", "pending", "failed"] {
        let n = counts
            .iter()
            .find(|(s, _)| s == state)
            .map_or(0, |(_, n)| *n);
        out.push_str(&format!(
            "encore_events_out_total{{state=\"{state}\"}} {n}\n"
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_five_seconds_and_stops_at_an_hour() {
        let waits: Vec<i64> = (1..=12).map(|n| backoff(n).num_seconds()).collect();
        assert_eq!(
            waits,
            vec![5, 10, 20, 40, 80, 160, 320, 640, 1280, 2560, 3600, 3600]
        );
        assert_eq!(backoff(0).num_seconds(), 5);
        assert_eq!(backoff(i64::MAX).num_seconds(), 3600);
    }
}
