//! Lifecycle journeys: a thank-you for watching to viewers who did not buy, a check-in some days
//! after delivery, a birthday greeting, a careful win-back after months of silence, next-live
//! alerts for viewers who asked for them, and a warm welcome-back on the first order after a
//! win-back. Consent re-notices ride the same tick.
//!
//! They start only from things that happen after the customer linked. Each step has an
//! idempotency key, so a restart or a second scheduler never repeats one. The send gate does
//! the rest: consent, label, quiet hours, the weekly cap and expiry for advertising, and the
//! send window for every journey message. [`due`] is also what `encore journeys preview` shows.

use chrono::{DateTime, Duration, Utc};
use sha2::{Digest, Sha256};

use super::Effects;
use crate::config::Config;
use crate::context::AppContext;
use crate::domain::keys::{BroadcastStage, IdemKey};
use crate::domain::policy::{birthday_today, journey_window};
use crate::domain::{Flow, Lane, Lang};
use crate::i18n::Texts;
use crate::outbox::{self, ButtonSpec, Envelope, Payload, Recipient};
use crate::store::{
    Conn, StoreResult, carts as stored_carts, customers, journeys as stored, orders, vip,
};

/// Win-back messages are at least this far apart.
const WINBACK_SPACING_DAYS: i64 = 7;
/// "We are live now" alerts expire an hour after the start (CONTRACT §6).
const LIVE_NOW_ALERT_HOURS: i64 = 1;
/// Viewers who watched at least this long (or chatted) are thanked for watching.
const ENGAGED_WATCH_SECONDS: u64 = 600;
/// Callback data of the "tell me about the next live" button in advertising.
pub const ALERTS_ON: &str = "alerts:on";

/// A journey step that is due: what `journeys preview` lists and the scheduler enqueues.
#[derive(Debug, Clone, PartialEq)]
pub struct DueJourney {
    pub customer_id: String,
    pub language: &'static str,
    /// When it goes out: now, or when the send window opens.
    pub due_at: DateTime<Utc>,
    pub key: IdemKey,
    pub flow: Flow,
    pub payload: Payload,
    /// The A/B variant its text was chosen in, if the text has variants.
    pub variant: Option<&'static str>,
    /// When it is dropped unsent (advertising that would be late), if ever.
    pub expires_at: Option<DateTime<Utc>>,
    /// A trust-recovery win-back's cause (`general` for none), for the period report.
    pub cause: Option<&'static str>,
}

impl DueJourney {
    /// The `[journeys]` key.
    pub fn journey(&self) -> &'static str {
        self.flow.journey_key().unwrap_or_default()
    }

    pub fn kind(&self) -> &'static str {
        self.flow.kind().as_str()
    }
}

/// The time-driven journey steps due at `at` (check-in, birthday, win-back), not yet written.
pub async fn due(
    config: &Config,
    texts: &Texts,
    conn: &mut Conn,
    at: DateTime<Utc>,
) -> StoreResult<Vec<DueJourney>> {
    let tz = config.shop.timezone;
    let goes_at = journey_window(&config.policy, at, tz).unwrap_or(at);
    let mut due = Vec::new();
    let journeys = &config.journeys;
    if journeys.checkin {
        let cutoff = at - Duration::days(i64::from(config.policy.checkin_after_days));
        for delivered in stored::delivered_without_checkin(conn, cutoff).await? {
            due.push(DueJourney {
                customer_id: delivered.customer_id.clone(),
                language: "",
                due_at: goes_at,
                key: IdemKey::Checkin {
                    order_id: delivered.order_id.clone(),
                },
                flow: Flow::Checkin,
                payload: Payload::Checkin {
                    order_id: delivered.order_id,
                },
                variant: None,
                expires_at: None,
                cause: None,
            });
        }
    }
    if journeys.birthday {
        let today = at.with_timezone(&tz).date_naive();
        for (customer_id, birthday) in stored::linked_birthdays(conn).await? {
            if !birthday_today(&birthday, today) {
                continue;
            }
            let key = IdemKey::Birthday {
                year: chrono::Datelike::year(&today),
                customer_id: customer_id.clone(),
            };
            if crate::store::outbox::state_of(conn, &key).await?.is_some() {
                continue;
            }
            // A birthday message is advertising: without consent it would only be refused.
            if !crate::outbox::gate::has_marketing_consent(conn, &customer_id).await? {
                continue;
            }
            let (id, variant) = variant_of(texts, "journey-birthday", &customer_id);
            due.push(DueJourney {
                customer_id,
                language: "",
                due_at: goes_at,
                key,
                flow: Flow::Birthday,
                payload: Payload::text(&id),
                variant,
                expires_at: None,
                cause: None,
            });
        }
    }
    if journeys.winback {
        let after = Duration::days(i64::from(config.policy.winback_after_days));
        let max = config.policy.winback_max_attempts as usize;
        for silence in stored::silent_customers(conn, at - after).await? {
            let attempts = silence.winbacks;
            if attempts >= max || silence.winback_waiting {
                continue;
            }
            // The next one comes 7 days after the last one reached them, not after it was
            // written (it may have waited for the send window or the weekly cap).
            if let Some(sent) = silence.last_winback_sent_at
                && at - sent < Duration::days(WINBACK_SPACING_DAYS)
            {
                continue;
            }
            let customer_id = silence.customer_id;
            // Keys end with the customer id, so forgetting and merging can rename them.
            let key = IdemKey::Winback {
                last_activity: silence.last_activity.timestamp(),
                attempt: attempts + 1,
                customer_id: customer_id.clone(),
            };
            let step = if journeys.trust_recovery {
                trust_recovery_step(texts, conn, &customer_id).await?
            } else {
                winback_by_category(texts, conn, &customer_id).await?
            };
            due.push(DueJourney {
                customer_id,
                language: "",
                due_at: goes_at,
                key,
                flow: step.flow,
                payload: step
                    .payload
                    .buttons(vec![vec![ButtonSpec::new("button-alerts-on", ALERTS_ON)]]),
                variant: step.variant,
                expires_at: None,
                cause: step.cause,
            });
        }
    }
    if journeys.cart_reminder {
        due.extend(cart_reminders_due(config, conn, at, goes_at).await?);
    }
    if journeys.digest {
        due.extend(digests_due(config, texts, conn, at, goes_at).await?);
    }
    for item in &mut due {
        item.language = language_of(config, conn, &item.customer_id).await?.code();
    }
    Ok(due)
}

/// A win-back's words, before the common button is added.
struct WinbackStep {
    flow: Flow,
    payload: Payload,
    variant: Option<&'static str>,
    cause: Option<&'static str>,
}

/// The win-back as it was before trust recovery: it speaks of the last order's category.
async fn winback_by_category(
    texts: &Texts,
    conn: &mut Conn,
    customer_id: &str,
) -> StoreResult<WinbackStep> {
    let category = stored::last_category(conn, customer_id).await?;
    let base = if category.is_some() {
        "journey-winback-category"
    } else {
        "journey-winback"
    };
    let (id, variant) = variant_of(texts, base, customer_id);
    Ok(WinbackStep {
        flow: Flow::Winback,
        payload: Payload::text(&id).arg("category", category.unwrap_or_default()),
        variant,
        cause: None,
    })
}

/// Trust recovery (CONTRACT §6): the win-back speaks to the most recent sign in the customer's
/// history — empathy for it, what the shop changed (the newest `/changed` note for the cause),
/// then the invitation. With no sign, the general message, which may quote a `price` note.
async fn trust_recovery_step(
    texts: &Texts,
    conn: &mut Conn,
    customer_id: &str,
) -> StoreResult<WinbackStep> {
    use crate::domain::trust::{cause_of, note_cause, variant_name};
    let signs = crate::store::trust::signs_of(conn, customer_id).await?;
    let cause = cause_of(&signs);
    let note = crate::store::trust::newest_change(conn, note_cause(cause)).await?;
    let name = variant_name(cause);
    let (id, variant) = variant_of(texts, &format!("journey-trust-{name}"), customer_id);
    Ok(WinbackStep {
        flow: Flow::TrustRecovery,
        payload: Payload::text(&id)
            .arg("changed", if note.is_some() { "yes" } else { "no" })
            .arg("note", note.unwrap_or_default()),
        variant,
        cause: Some(name),
    })
}

/// A cart's reminder is advertising; it expires this long after the cart was left.
const CART_REMINDER_DAYS: i64 = 7;
/// Items a cart reminder names before it says "and N more".
const CART_ITEMS_NAMED: usize = 3;

/// Carts left `cart_reminder_after_hours` ago or more (within their week), whose customer has
/// marketing consent and has ordered none of the cart's items since: one reminder each.
async fn cart_reminders_due(
    config: &Config,
    conn: &mut Conn,
    at: DateTime<Utc>,
    goes_at: DateTime<Utc>,
) -> StoreResult<Vec<DueJourney>> {
    let after = Duration::hours(i64::from(config.policy.cart_reminder_after_hours));
    let week = Duration::days(CART_REMINDER_DAYS);
    let mut due = Vec::new();
    for cart in stored_carts::carts_left_between(conn, at - week, at - after).await? {
        let key = IdemKey::CartReminder {
            cart_id: cart.id.clone(),
            customer_id: cart.customer_id.clone(),
        };
        if crate::store::outbox::state_of(conn, &key).await?.is_some() {
            continue;
        }
        if !crate::outbox::gate::has_marketing_consent(conn, &cart.customer_id).await? {
            continue;
        }
        let ordered =
            stored_carts::skus_ordered_since(conn, &cart.customer_id, cart.abandoned_at).await?;
        if cart.items.iter().any(|item| ordered.contains(&item.sku)) {
            continue;
        }
        let names: Vec<&str> = cart.items.iter().map(|i| i.name.as_str()).collect();
        let first = names
            .iter()
            .take(CART_ITEMS_NAMED)
            .copied()
            .collect::<Vec<_>>()
            .join(", ");
        let others = names.len().saturating_sub(CART_ITEMS_NAMED) as i64;
        due.push(DueJourney {
            customer_id: cart.customer_id,
            language: "",
            due_at: goes_at,
            key,
            flow: Flow::CartReminder,
            payload: Payload::text("journey-cart-reminder")
                .arg("first", first)
                .arg("others", others),
            variant: None,
            expires_at: Some(cart.abandoned_at + week),
            cause: None,
        });
    }
    Ok(due)
}

/// The weekly letter lists the lives scheduled this far ahead.
const DIGEST_AHEAD_DAYS: i64 = 14;

/// The weekly letter (CONTRACT §6): on `digest_day` from `digest_time` (shop time), once per ISO
/// week, to linked customers with marketing consent. It lists the lives scheduled in the next
/// two weeks and says when staff posted in the VIP room during the past week; with neither,
/// there is nothing new to read and nobody gets one.
async fn digests_due(
    config: &Config,
    texts: &Texts,
    conn: &mut Conn,
    at: DateTime<Utc>,
    goes_at: DateTime<Utc>,
) -> StoreResult<Vec<DueJourney>> {
    use chrono::Datelike;
    let tz = config.shop.timezone;
    let local = at.with_timezone(&tz);
    if local.weekday() != config.policy.digest_day.0 || local.time() < config.policy.digest_time.0 {
        return Ok(Vec::new());
    }
    let lives =
        stored::lives_scheduled_between(conn, at, at + Duration::days(DIGEST_AHEAD_DAYS)).await?;
    let vip_news = stored::vip_post_since(conn, at - Duration::days(7)).await?;
    if lives.is_empty() && !vip_news {
        return Ok(Vec::new());
    }
    let week = local.iso_week();
    let week = format!("{}-W{:02}", week.year(), week.week());
    // The lines name each live in the reader's language; a line that cannot be rendered (a
    // broken locale) leaves the letter without it rather than without the letter.
    let lines_in = |lang: Lang| {
        lives
            .iter()
            .filter_map(|live| {
                texts
                    .render(
                        lang,
                        "journey-digest-live",
                        &[
                            ("title", live.title.as_str().into()),
                            (
                                "starts",
                                crate::domain::policy::shop_minute(live.starts_at, tz).into(),
                            ),
                        ],
                    )
                    .map_err(
                        |err| tracing::error!(error = %err, "a digest line could not be rendered"),
                    )
                    .ok()
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    let mut due = Vec::new();
    for customer_id in stored::consenting_without(conn, &IdemKey::digest_prefix(&week)).await? {
        let lang = language_of(config, conn, &customer_id).await?;
        due.push(DueJourney {
            key: IdemKey::Digest {
                week: week.clone(),
                customer_id: customer_id.clone(),
            },
            customer_id,
            language: lang.code(),
            due_at: goes_at,
            flow: Flow::Digest,
            payload: Payload::text("journey-digest")
                .arg("shop", config.shop.name.clone())
                .arg("lives", lines_in(lang))
                .arg("count", lives.len() as i64)
                .arg("vip", if vip_news { "yes" } else { "no" }),
            variant: None,
            // This week's letter, read this day: dropped at midnight, never sent late.
            expires_at: next_midnight(at, tz),
            cause: None,
        });
    }
    Ok(due)
}

async fn language_of(config: &Config, conn: &mut Conn, customer_id: &str) -> StoreResult<Lang> {
    let default = config.shop.default_locale;
    let Some(customer) = customers::customer(conn, customer_id).await? else {
        return Ok(default);
    };
    let identities = customers::identities_of(conn, customer_id).await?;
    Ok(customers::language_of(
        &customer,
        identities.first(),
        default,
    ))
}

/// The next midnight in shop time after `now`.
fn next_midnight(now: DateTime<Utc>, tz: chrono_tz::Tz) -> Option<DateTime<Utc>> {
    let tomorrow = now.with_timezone(&tz).date_naive().succ_opt()?;
    tomorrow
        .and_hms_opt(0, 0, 0)?
        .and_local_timezone(tz)
        .earliest()
        .map(|at| at.with_timezone(&Utc))
}

/// One line of `encore journeys preview --json` (CONTRACT §1).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct PreviewEntry {
    pub customer_id: String,
    /// The `[journeys]` key.
    pub journey: &'static str,
    pub kind: &'static str,
    pub language: &'static str,
    /// When it goes out.
    pub due_at: DateTime<Utc>,
}

/// `encore journeys preview`: what would be due at `at`, sending nothing — the steps the clock
/// would write then, and the journey messages already written and waiting in the queue (a
/// next-live alert held for quiet hours, a welcome-back waiting for the send window, anything
/// postponed by the weekly cap) that would have gone out by then.
pub async fn preview(ctx: &AppContext, at: DateTime<Utc>) -> StoreResult<Vec<PreviewEntry>> {
    let mut conn = ctx.store.conn().await?;
    let mut listed: Vec<PreviewEntry> = due(&ctx.config, &ctx.texts, &mut conn, at)
        .await?
        .into_iter()
        .map(|step| PreviewEntry {
            journey: step.journey(),
            kind: step.kind(),
            customer_id: step.customer_id,
            language: step.language,
            due_at: step.due_at,
        })
        .collect();
    let names: Vec<&str> = Flow::ALL
        .into_iter()
        .filter(|f| f.journey_key().is_some())
        .map(Flow::as_str)
        .collect();
    for queued in stored::queued_journeys(&mut conn, &names, at).await? {
        let journey = Flow::from_name(&queued.flow).and_then(Flow::journey_key);
        let kind = queued.kind.parse::<crate::domain::MessageKind>().ok();
        let (Some(journey), Some(kind)) = (journey, kind) else {
            continue;
        };
        listed.push(PreviewEntry {
            language: language_of(&ctx.config, &mut conn, &queued.customer_id)
                .await?
                .code(),
            customer_id: queued.customer_id,
            journey,
            kind: kind.as_str(),
            due_at: queued.goes_at,
        });
    }
    Ok(listed)
}

/// A journey text may come in variants `<id>-a` and `<id>-b`: each customer always gets the
/// same one (by their id). Returns the text id to use and the variant, if any.
pub fn variant_of(texts: &Texts, base: &str, customer_id: &str) -> (String, Option<&'static str>) {
    let (a, b) = (format!("{base}-a"), format!("{base}-b"));
    let has_variants = Lang::ALL
        .iter()
        .all(|lang| texts.has(*lang, &a) && texts.has(*lang, &b));
    if !has_variants {
        return (base.to_string(), None);
    }
    let digest = Sha256::digest(customer_id.as_bytes());
    if digest[0] % 2 == 0 {
        (a, Some("a"))
    } else {
        (b, Some("b"))
    }
}

/// The scheduler's part: writes the due steps (each once) and the consent re-notices.
///
/// What is due is read outside any write transaction (at 100,000 customers the scan takes
/// seconds, and SQLite has one writer); only the writes take the write lock. A step read twice
/// by two ticks is written once: the keys are unique.
pub async fn enqueue_due(ctx: &AppContext, now: DateTime<Utc>) -> StoreResult<usize> {
    let (steps, consents) = {
        let mut conn = ctx.store.conn().await?;
        let steps = due(&ctx.config, &ctx.texts, &mut conn, now).await?;
        (steps, stored::consents_given(&mut conn).await?)
    };
    let renotices = renotices_due(&ctx.config, consents, now);
    if steps.is_empty() && renotices.is_empty() {
        return Ok(0);
    }
    // Short write transactions, so a viewer's reply is never stuck behind a big first tick.
    let mut written = 0;
    let mut steps = steps.into_iter().peekable();
    let mut renotices = renotices.into_iter().peekable();
    while steps.peek().is_some() || renotices.peek().is_some() {
        let steps: Vec<DueJourney> = steps.by_ref().take(WRITE_BATCH).collect();
        let renotices: Vec<Envelope> = renotices.by_ref().take(WRITE_BATCH).collect();
        let mut tx = ctx.store.begin().await?;
        written += write_steps(ctx, &mut tx, steps, renotices, now).await?;
        tx.commit().await?;
    }
    Ok(written)
}

/// Journey steps written per transaction.
const WRITE_BATCH: usize = 500;

async fn write_steps(
    ctx: &AppContext,
    conn: &mut Conn,
    steps: Vec<DueJourney>,
    renotices: Vec<Envelope>,
    now: DateTime<Utc>,
) -> StoreResult<usize> {
    let mut written = 0;
    for step in steps {
        let mut payload = step.payload;
        let mut expires_at = step.expires_at;
        let mut coupon = None;
        if step.flow == Flow::Birthday {
            // Celebrated on the day or not at all: it expires at the next midnight, shop time.
            expires_at = next_midnight(now, ctx.config.shop.timezone);
            // A coupon from the `birthday` campaign's pool, when the shop supplied one.
            if let Some(code) =
                vip::assign_pool_code(conn, "birthday", &step.customer_id, now).await?
            {
                payload = Payload::text("journey-birthday-coupon").arg("code", code.clone());
                coupon = Some(code);
            }
        }
        let customer_id = step.customer_id.clone();
        let envelope = Envelope {
            key: step.key.clone(),
            to: Recipient::Customer(step.customer_id),
            flow: step.flow,
            lane: Lane::Bulk,
            payload,
            broadcast_id: None,
            expires_at,
        };
        if outbox::enqueue(conn, envelope, now).await? {
            written += 1;
            if let Some(variant) = step.variant {
                stored::tag_message(conn, &step.key, stored::Tag::Variant(variant)).await?;
            }
            if let Some(cause) = step.cause {
                stored::tag_message(conn, &step.key, stored::Tag::Cause(cause)).await?;
            }
            if let Some(code) = &coupon {
                // So its redemption counts as the customer's own, not a violation.
                vip::record_code_send(
                    conn,
                    &vip::CodeSend {
                        code,
                        campaign: Some("birthday"),
                        customer_id: &customer_id,
                        tier: "",
                        message_key: &step.key,
                        expires_at,
                    },
                    now,
                )
                .await?;
            }
        }
    }
    for envelope in renotices {
        if outbox::enqueue(conn, envelope, now).await? {
            written += 1;
        }
    }
    Ok(written)
}

/// Consent is re-noticed every `consent_renotice_days` after it was given: when, and how to
/// withdraw. Once per period (the key names the period).
fn renotices_due(
    config: &Config,
    consents: Vec<(String, DateTime<Utc>)>,
    now: DateTime<Utc>,
) -> Vec<Envelope> {
    let period = Duration::days(i64::from(config.policy.consent_renotice_days.max(1)));
    let mut due = Vec::new();
    for (customer_id, given_at) in consents {
        let periods = (now - given_at).num_seconds() / period.num_seconds().max(1);
        if periods < 1 {
            continue;
        }
        let date = crate::domain::policy::shop_day(given_at, config.shop.timezone);
        due.push(Envelope {
            key: IdemKey::ConsentRenotice {
                given_at: given_at.timestamp(),
                periods,
                customer_id: customer_id.clone(),
            },
            to: Recipient::Customer(customer_id),
            flow: Flow::ConsentRenotice,
            lane: Lane::Bulk,
            payload: Payload::text("consent-renotice")
                .arg("shop", config.shop.name.clone())
                .arg("date", date),
            broadcast_id: None,
            expires_at: None,
        });
    }
    due
}

/// `viewer.engaged`: a viewer who watched at least 10 minutes or chatted, and bought nothing in
/// that broadcast, is thanked for watching — if they linked before it happened.
pub async fn viewer_engaged(
    conn: &mut Conn,
    event: &crate::domain::events::ViewerEngaged,
    occurred_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let engaged = event.watched_seconds.unwrap_or(0) >= ENGAGED_WATCH_SECONDS
        || event.chat_messages.unwrap_or(0) > 0;
    let linked = stored::linked_since(conn, &event.customer_id).await?;
    if !engaged || linked.is_none_or(|at| at > occurred_at) {
        return Ok(());
    }
    if stored::bought_in(conn, &event.customer_id, &event.broadcast_id).await? {
        return Ok(());
    }
    let title = orders::broadcast(conn, &event.broadcast_id)
        .await?
        .and_then(|b| b.title)
        .unwrap_or_else(|| event.broadcast_id.clone());
    let envelope = Envelope {
        key: IdemKey::EngagedThanks {
            broadcast_id: event.broadcast_id.clone(),
            customer_id: event.customer_id.clone(),
        },
        to: Recipient::Customer(event.customer_id.clone()),
        flow: Flow::EngagedThanks,
        lane: Lane::Bulk,
        payload: Payload::text("journey-engaged-thanks")
            .arg("broadcast", title)
            .buttons(vec![vec![ButtonSpec::new("button-alerts-on", ALERTS_ON)]]),
        broadcast_id: Some(event.broadcast_id.clone()),
        expires_at: None,
    };
    outbox::enqueue(conn, envelope, now).await?;
    Ok(())
}

/// An order: the first one after a win-back is welcomed back (without an offer: it thanks for
/// an order, so it is transactional).
pub async fn order_placed(
    config: &Config,
    conn: &mut Conn,
    customer_id: &str,
    order_id: &str,
    effects: Effects,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    if effects == Effects::Silent {
        return Ok(());
    }
    // An order ends a win-back: one still waiting for the send window is not sent after it.
    for flow in [Flow::Winback, Flow::TrustRecovery] {
        crate::store::outbox::cancel_queued_of_flow(
            conn,
            customer_id,
            flow.as_str(),
            "the customer ordered",
        )
        .await?;
    }
    if !config.journeys.welcome_back {
        return Ok(());
    }
    let Some(winback) = stored::winback_answered_by(conn, customer_id, order_id).await? else {
        return Ok(());
    };
    let envelope = Envelope {
        key: IdemKey::WelcomeBack {
            winback_key: winback,
        },
        to: Recipient::Customer(customer_id.to_string()),
        flow: Flow::WelcomeBack,
        lane: Lane::Bulk,
        payload: Payload::text("journey-welcome-back"),
        broadcast_id: None,
        expires_at: None,
    };
    outbox::enqueue(conn, envelope, now).await?;
    Ok(())
}

/// Next-live alerts to the viewers who asked for them: "live on <date>" expires when the live
/// starts; "we are live now" an hour after the start.
pub async fn next_live_alerts(
    config: &Config,
    conn: &mut Conn,
    alert: LiveAlert<'_>,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let journeys = &config.journeys;
    if !journeys.next_live_alerts && !journeys.picks {
        return Ok(());
    }
    let (broadcast_id, stage, payload, expires_at) = match alert {
        LiveAlert::Scheduled {
            broadcast_id,
            title,
            starts_at,
            url,
            ..
        } => (
            broadcast_id,
            BroadcastStage::Scheduled,
            Payload::text("alert-live-scheduled")
                .arg("title", title.to_string())
                .arg(
                    "starts",
                    crate::domain::policy::shop_minute(starts_at, config.shop.timezone),
                )
                .arg("url", url.unwrap_or_default().to_string()),
            starts_at,
        ),
        LiveAlert::Started {
            broadcast_id,
            title,
            started_at,
            url,
        } => (
            broadcast_id,
            BroadcastStage::Started,
            Payload::text("alert-live-now")
                .arg("title", title.to_string())
                .arg("url", url.unwrap_or_default().to_string()),
            started_at + Duration::hours(LIVE_NOW_ALERT_HOURS),
        ),
    };
    if expires_at <= now {
        return Ok(());
    }
    // Picks and plain alerts are switched separately: with `next_live_alerts` off, only the
    // alerts that name a pick go out.
    let subscribers = if journeys.next_live_alerts {
        stored::alert_subscribers(conn).await?
    } else {
        Vec::new()
    };
    let picks = match (&alert, journeys.picks) {
        (LiveAlert::Scheduled { lineup, .. }, true) if !lineup.is_empty() => {
            picks_for_lineup(conn, lineup).await?
        }
        _ => Vec::new(),
    };
    let picked: std::collections::HashSet<&str> =
        picks.iter().map(|p| p.customer_id.as_str()).collect();
    let mut alerts: Vec<(String, Flow, Payload, Option<String>)> = subscribers
        .into_iter()
        .filter(|customer| !picked.contains(customer.as_str()))
        .map(|customer| (customer, Flow::NextLiveAlert, payload.clone(), None))
        .collect();
    for pick in picks {
        // The scheduled alert's words, with the pick's line.
        let mut payload = payload
            .clone()
            .arg("bought", pick.bought_name)
            .arg("pick", pick.pick_name);
        if let Payload::Text { id, .. } = &mut payload {
            *id = "alert-live-scheduled-pick".to_string();
        }
        alerts.push((pick.customer_id, Flow::Pick, payload, Some(pick.pick_sku)));
    }
    for (customer_id, flow, payload, pick_sku) in alerts {
        // One alert per customer and live, plain or with a pick: the same key.
        let key = IdemKey::NextLiveAlert {
            stage,
            broadcast_id: broadcast_id.to_string(),
            customer_id: customer_id.clone(),
        };
        let envelope = Envelope {
            key: key.clone(),
            to: Recipient::Customer(customer_id),
            flow,
            lane: Lane::Bulk,
            payload,
            broadcast_id: Some(broadcast_id.to_string()),
            expires_at: Some(expires_at),
        };
        if outbox::enqueue(conn, envelope, now).await?
            && let Some(sku) = pick_sku
        {
            stored::tag_message(conn, &key, stored::Tag::Pick(&sku)).await?;
        }
    }
    Ok(())
}

/// A pick to name in one customer's alert.
struct CustomerPick {
    customer_id: String,
    bought_name: String,
    pick_sku: String,
    pick_name: String,
}

/// Personalised picks for a live's lineup (CONTRACT §6): every linked customer with marketing
/// consent — a subscriber or a past buyer — who bought something a product of the lineup goes
/// with, and has not bought that product, gets one pick.
async fn picks_for_lineup(
    conn: &mut Conn,
    lineup: &[crate::domain::events::LineupProduct],
) -> StoreResult<Vec<CustomerPick>> {
    let skus: Vec<String> = lineup.iter().map(|p| p.sku.clone()).collect();
    let pairs = crate::store::picks::goes_with_lineup(conn, &skus).await?;
    if pairs.is_empty() {
        return Ok(Vec::new());
    }
    let mut relevant: Vec<String> = pairs
        .iter()
        .flat_map(|p| [p.bought.clone(), p.pick.clone()])
        .collect();
    relevant.sort();
    relevant.dedup();
    let bought = crate::store::picks::bought_by_linked(conn, &relevant).await?;
    let ids: Vec<&str> = bought.keys().map(String::as_str).collect();
    // One read of consent for every candidate, not one per customer.
    let consenting = crate::outbox::gate::marketing_consenting(conn, &ids).await?;
    let mut customers: Vec<(&String, &Vec<crate::domain::picks::Bought>)> = bought
        .iter()
        .filter(|(customer_id, _)| consenting.contains(customer_id.as_str()))
        .collect();
    customers.sort_by(|a, b| a.0.cmp(b.0));
    let mut picks = Vec::new();
    for (customer_id, items) in customers {
        let Some(pick) = crate::domain::picks::choose_pick(items, &pairs) else {
            continue;
        };
        let Some(product) = lineup.iter().find(|p| p.sku == pick.pick_sku) else {
            continue;
        };
        picks.push(CustomerPick {
            customer_id: customer_id.clone(),
            bought_name: pick.bought_name,
            pick_sku: pick.pick_sku,
            pick_name: product.name.clone(),
        });
    }
    Ok(picks)
}

pub enum LiveAlert<'a> {
    Scheduled {
        broadcast_id: &'a str,
        title: &'a str,
        starts_at: DateTime<Utc>,
        url: Option<&'a str>,
        /// The lineup, for personalised picks (empty: plain alerts only).
        lineup: &'a [crate::domain::events::LineupProduct],
    },
    Started {
        broadcast_id: &'a str,
        title: &'a str,
        started_at: DateTime<Utc>,
        url: Option<&'a str>,
    },
}

/// `/alerts on|off` (or the button in an advertising message): next-live alerts are
/// advertising, so subscribing needs marketing consent.
pub async fn alerts(
    conv: &mut super::conversation::Conversation<'_>,
    conn: &mut Conn,
    customer: Option<&str>,
    state: Option<&str>,
) -> StoreResult<()> {
    let Some(customer) = customer else {
        return conv.reply(conn, None, Payload::text("not-linked")).await;
    };
    let on = match state.map(str::to_ascii_lowercase).as_deref() {
        Some("on") => true,
        Some("off") => false,
        _ => {
            return conv
                .reply(conn, Some(customer), Payload::text("alerts-usage"))
                .await;
        }
    };
    if on && !crate::outbox::gate::has_marketing_consent(conn, customer).await? {
        return conv
            .reply(conn, Some(customer), Payload::text("alerts-need-consent"))
            .await;
    }
    stored::set_alerts(conn, customer, on, conv.now).await?;
    let answer = if on { "alerts-on" } else { "alerts-off" };
    conv.reply(conn, Some(customer), Payload::text(answer))
        .await
}
