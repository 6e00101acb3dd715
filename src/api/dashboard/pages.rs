//! What each dashboard page shows, read from the store with the queries the reports, the
//! metrics and `encore deadletters` already use; the HTML is `views.rs`'s. Every handler here
//! runs behind the session check.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use chrono::{DateTime, Utc};

use super::page;
use super::views::{self, Words};
use crate::context::AppContext;
use crate::i18n::I18nError;
use crate::store::StoreError;
use crate::store::tickets::Ticket;

/// Broadcasts listed on the first page.
const BROADCASTS_SHOWN: i64 = 200;
/// Held messages listed (the count says how many there are in all).
const HELD_SHOWN: i64 = 200;
/// The longest customer id the consent search takes (CONTRACT §3: ids are at most 128).
const CUSTOMER_ID_MAX: usize = 128;

/// A page that could not be made: logged, and answered with a plain 500 that names nothing
/// internal.
#[derive(Debug, thiserror::Error)]
pub enum PageError {
    #[error("the dashboard could not read the database: {0}")]
    Store(#[from] StoreError),
    #[error("the dashboard's texts are incomplete: {0}")]
    Texts(#[from] I18nError),
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        tracing::error!(error = %self, "a dashboard page failed");
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            Html("<!DOCTYPE html><title>500</title><p>The dashboard could not show this page; the server log says why.</p>"),
        )
            .into_response()
    }
}

type PageResult = Result<Response, PageError>;

pub async fn broadcasts(State(ctx): State<AppContext>) -> PageResult {
    let list = ctx.store.broadcast_listing(BROADCASTS_SHOWN).await?;
    let words = Words::of(&ctx);
    Ok(page(&ctx.config, views::broadcasts(&words, &list)?).into_response())
}

pub async fn broadcast(State(ctx): State<AppContext>, Path(id): Path<String>) -> PageResult {
    let report = ctx.broadcast_report(&id).await?;
    let words = Words::of(&ctx);
    let Some(report) = report else {
        return not_found_with(&ctx, &words);
    };
    // The same SVG the PNG is drawn from (CONTRACT §7: "the same charts"), inline. A chart that
    // cannot be drawn leaves the page without it, not without the figures.
    let charts = match crate::charts::broadcast_charts_svg(&report, &ctx.texts, words.lang) {
        Ok(svg) => Some(maud::PreEscaped(svg)),
        Err(err) => {
            tracing::error!(error = %err, "the dashboard's charts could not be drawn");
            None
        }
    };
    Ok(page(&ctx.config, views::report(&words, &report, charts)?).into_response())
}

pub async fn not_found(State(ctx): State<AppContext>) -> PageResult {
    not_found_with(&ctx, &Words::of(&ctx))
}

fn not_found_with(ctx: &AppContext, words: &Words) -> PageResult {
    let body = page(&ctx.config, views::not_found(words)?);
    Ok((StatusCode::NOT_FOUND, body).into_response())
}

/// Where an open ticket stands against the first-response promise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TicketStatus {
    /// Nobody answered and the promised time has passed.
    Overdue,
    /// Nobody answered yet; there is still time.
    Waiting,
    /// Staff answered; the ticket is not closed yet.
    Answered,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TicketLine {
    pub ticket: Ticket,
    /// When the first answer is promised: opened + `policy.handoff_first_response_hours`.
    pub promised_at: DateTime<Utc>,
    pub status: TicketStatus,
}

/// Open tickets as the host should read them: the overdue ones first, then those still
/// waiting, then the answered ones; within each, the earliest promise first.
pub fn ticket_lines(
    tickets: Vec<Ticket>,
    promise: chrono::Duration,
    now: DateTime<Utc>,
) -> Vec<TicketLine> {
    let mut lines: Vec<TicketLine> = tickets
        .into_iter()
        .map(|ticket| {
            let promised_at = ticket.opened_at + promise;
            let status = match ticket.first_response_at {
                Some(_) => TicketStatus::Answered,
                None if promised_at <= now => TicketStatus::Overdue,
                None => TicketStatus::Waiting,
            };
            TicketLine {
                ticket,
                promised_at,
                status,
            }
        })
        .collect();
    let rank = |status: TicketStatus| match status {
        TicketStatus::Overdue => 0,
        TicketStatus::Waiting => 1,
        TicketStatus::Answered => 2,
    };
    lines.sort_by_key(|line| (rank(line.status), line.promised_at, line.ticket.id));
    lines
}

pub async fn tickets(State(ctx): State<AppContext>) -> PageResult {
    let open = {
        let mut conn = ctx.store.conn().await?;
        crate::store::tickets::open_tickets(&mut conn).await?
    };
    let promise =
        chrono::Duration::hours(i64::from(ctx.config.policy.handoff_first_response_hours));
    let lines = ticket_lines(open, promise, ctx.clock.now());
    let words = Words::of(&ctx);
    Ok(page(&ctx.config, views::tickets(&words, &lines)?).into_response())
}

pub async fn held(State(ctx): State<AppContext>) -> PageResult {
    let (held, total) = ctx.store.held_messages(HELD_SHOWN).await?;
    let words = Words::of(&ctx);
    Ok(page(&ctx.config, views::held(&words, &held, total)?).into_response())
}

/// The delivery-health page's figures.
#[derive(Debug, Clone, PartialEq)]
pub struct Health {
    pub queue: Vec<crate::store::dashboard::QueueCount>,
    /// 429 answers seen, by platform (the counters `/metrics` reports).
    pub rate_limited: Vec<(&'static str, i64)>,
    pub dead_letters: Vec<crate::store::dead_letters::DeadLetter>,
    pub unknown_finished: i64,
    pub unknown_seen: i64,
}

pub async fn health(State(ctx): State<AppContext>) -> PageResult {
    let queue = ctx.store.queue_by_lane().await?;
    let mut rate_limited = Vec::new();
    for platform in ["telegram", "discord"] {
        let n = ctx
            .store
            .counter(&format!("rate_limited:{platform}"))
            .await?;
        rate_limited.push((platform, n));
    }
    let dead_letters = crate::store::dead_letters::waiting(&ctx.store).await?;
    let (unknown_finished, unknown_seen) = ctx.store.unknown_outcomes().await?;
    let health = Health {
        queue,
        rate_limited,
        dead_letters,
        unknown_finished,
        unknown_seen,
    };
    let words = Words::of(&ctx);
    Ok(page(&ctx.config, views::health(&words, &health)?).into_response())
}

#[derive(Debug, serde::Deserialize)]
pub struct ConsentQuery {
    customer: Option<String>,
}

pub async fn consent(
    State(ctx): State<AppContext>,
    Query(query): Query<ConsentQuery>,
) -> PageResult {
    let customer = query
        .customer
        .map(|c| c.trim().to_string())
        .filter(|c| !c.is_empty() && c.chars().count() <= CUSTOMER_ID_MAX);
    let entries = match &customer {
        Some(id) => ctx.store.consent_history(id).await?,
        None => Vec::new(),
    };
    let words = Words::of(&ctx);
    Ok(page(
        &ctx.config,
        views::consent(&words, customer.as_deref(), &entries)?,
    )
    .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ticket(id: i64, opened_hours_ago: i64, answered: bool, now: DateTime<Utc>) -> Ticket {
        let opened_at = now - chrono::Duration::hours(opened_hours_ago);
        Ticket {
            id,
            customer_id: format!("c-{id}"),
            platform: "telegram".into(),
            reason: "person".into(),
            broadcast_id: None,
            opened_at,
            first_response_at: answered.then_some(opened_at),
            closed_at: None,
        }
    }

    #[test]
    fn overdue_tickets_come_first_then_waiting_then_answered() {
        let now = Utc::now();
        let promise = chrono::Duration::hours(24);
        let lines = ticket_lines(
            vec![
                ticket(1, 30, true, now),
                ticket(2, 2, false, now),
                ticket(3, 25, false, now),
                ticket(4, 48, false, now),
            ],
            promise,
            now,
        );
        let order: Vec<(i64, TicketStatus)> =
            lines.iter().map(|l| (l.ticket.id, l.status)).collect();
        assert_eq!(
            order,
            [
                (4, TicketStatus::Overdue),
                (3, TicketStatus::Overdue),
                (2, TicketStatus::Waiting),
                (1, TicketStatus::Answered),
            ]
        );
        assert_eq!(lines[0].promised_at, now - chrono::Duration::hours(24));
    }
}
