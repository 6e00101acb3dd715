//! Feedback: the 1–5 rating under the thank-you (a satisfaction question about what the viewer
//! bought: transactional), an optional comment, a person offered after a low rating, and
//! `/reflected` — telling viewers their feedback was acted on.

use chrono::Duration;

use super::conversation::Conversation;
use super::handoff::{RATE_TICKET, talk_to_a_person_button};
use crate::domain::keys::IdemKey;
use crate::domain::{Flow, Lane};
use crate::events_out;
use crate::outbox::render::{RATE_CHECKIN, RATE_THANK_YOU};
use crate::outbox::{self, Envelope, Payload, Recipient};
use crate::store::{Conn, StoreResult, customers, feedback, outbox as rows, tickets};

/// How long after a rating the next free text is taken as its comment.
pub const COMMENT_WINDOW_MINUTES: i64 = 30;

/// Parses `rate:<message>:<n>` / `rate-ticket:<ticket>:<n>` / `rate-checkin:<message>:<n>`.
pub fn parse_rating(data: &str) -> Option<(&str, i64, i64)> {
    let mut parts = data.split(':');
    let kind = parts.next()?;
    let id: i64 = parts.next()?.parse().ok()?;
    let rating: i64 = parts.next()?.parse().ok()?;
    ((kind == RATE_THANK_YOU || kind == RATE_TICKET || kind == RATE_CHECKIN)
        && (1..=5).contains(&rating)
        && parts.next().is_none())
    .then_some((kind, id, rating))
}

/// A press on a rating button. A second press changes the rating, never adds one.
pub async fn rating_pressed(
    conv: &mut Conversation<'_>,
    conn: &mut Conn,
    customer_id: &str,
    data: &str,
) -> StoreResult<()> {
    let Some((kind, id, rating)) = parse_rating(data) else {
        return Ok(());
    };
    let now = conv.now;
    if kind == RATE_CHECKIN {
        // Only the customer the check-in was for can rate through its buttons.
        let Some(order_id) = rows::checkin_subject(conn, id, customer_id).await? else {
            return Ok(());
        };
        crate::store::journeys::record_checkin_rating(conn, &order_id, customer_id, rating, now)
            .await?;
        let answer = if rating <= 2 {
            Payload::text("journey-checkin-sorry").buttons(talk_to_a_person_button())
        } else {
            Payload::text("journey-checkin-thanks")
        };
        return conv.reply(conn, Some(customer_id), answer).await;
    }
    if kind == RATE_TICKET {
        let Some(ticket) = tickets::ticket(conn, id).await? else {
            return Ok(());
        };
        if ticket.customer_id != customer_id {
            return Ok(());
        }
        let (feedback_id, _) = feedback::rate(
            conn,
            "ticket",
            &id.to_string(),
            None,
            customer_id,
            rating,
            now,
        )
        .await?;
        events_out::feedback_received(conn, &conv.ctx.config, feedback_id, now).await?;
        return conv
            .reply(
                conn,
                Some(customer_id),
                Payload::text("feedback-help-thanks"),
            )
            .await;
    }
    // Only the buyer the thank-you was for can rate through its buttons.
    let Some((broadcast_id, owner)) = rows::thank_you_subject(conn, id).await? else {
        return Ok(());
    };
    if owner != customer_id {
        return Ok(());
    }
    let (feedback_id, changed) = feedback::rate(
        conn,
        "broadcast",
        &broadcast_id,
        Some(&broadcast_id),
        customer_id,
        rating,
        now,
    )
    .await?;
    events_out::feedback_received(conn, &conv.ctx.config, feedback_id, now).await?;
    feedback::await_comment(
        conn,
        customer_id,
        feedback_id,
        now + Duration::minutes(COMMENT_WINDOW_MINUTES),
        now,
    )
    .await?;
    let id = if changed {
        "feedback-changed"
    } else {
        "feedback-thanks"
    };
    let mut payload = Payload::text(id).arg("rating", rating);
    if rating <= 2 {
        // A low rating: a person is offered right away.
        payload = Payload::text(if changed {
            "feedback-changed-low"
        } else {
            "feedback-thanks-low"
        })
        .arg("rating", rating)
        .buttons(talk_to_a_person_button());
    }
    conv.reply(conn, Some(customer_id), payload).await
}

/// The free text after a rating, within the window: stored as its comment; the staff chat sees
/// it with the feedback's number for `/reflected`.
pub async fn take_comment(
    conv: &mut Conversation<'_>,
    conn: &mut Conn,
    customer_id: &str,
    feedback_id: i64,
    text: &str,
) -> StoreResult<()> {
    feedback::set_comment(conn, feedback_id, text, conv.now).await?;
    events_out::feedback_received(conn, &conv.ctx.config, feedback_id, conv.now).await?;
    feedback::stop_awaiting_comment(conn, customer_id).await?;
    conv.reply(
        conn,
        Some(customer_id),
        Payload::text("feedback-comment-thanks"),
    )
    .await?;
    let Some(entry) = feedback::feedback(conn, feedback_id).await? else {
        return Ok(());
    };
    let name = customers::customer(conn, customer_id)
        .await?
        .map(|c| c.name)
        .unwrap_or_default();
    if let Some((platform, chat_id)) = conv.ctx.roles.staff_chat_for(conv.incoming.platform) {
        let payload = Payload::text("staff-feedback-comment")
            .arg("feedback", feedback_id)
            .arg("broadcast", entry.subject_id.clone())
            .arg("rating", entry.rating)
            .arg("name", name)
            .arg("text", text)
            .in_lang(conv.ctx.config.shop.default_locale);
        let envelope = Envelope {
            key: IdemKey::FeedbackComment {
                feedback_id,
                platform: conv.incoming.platform,
                update_id: conv.incoming.update_id.clone(),
            },
            to: Recipient::Chat { platform, chat_id },
            flow: Flow::FeedbackComment,
            lane: Lane::Staff,
            payload,
            broadcast_id: entry.broadcast_id.clone(),
            expires_at: None,
        };
        outbox::enqueue(conn, envelope, conv.now).await?;
    }
    Ok(())
}

/// Staff `/reflected FEEDBACK_ID note…`: FEEDBACK_ID is a feedback number from the staff chat
/// (`#12`) or a broadcast id (everyone who rated it). Each viewer hears it once.
pub async fn reflected(
    conv: &mut Conversation<'_>,
    conn: &mut Conn,
    target: &str,
    note: &str,
) -> StoreResult<()> {
    let entries = match target.trim_start_matches('#').parse::<i64>() {
        Ok(id) => feedback::feedback(conn, id).await?.into_iter().collect(),
        Err(_) => feedback::on_broadcast(conn, target).await?,
    };
    if entries.is_empty() {
        return conv
            .reply_to_staff(
                conn,
                Payload::text("staff-reflected-unknown").arg("feedback", target),
            )
            .await;
    }
    let mut told = 0i64;
    for entry in &entries {
        let said = entry
            .comment
            .clone()
            .unwrap_or_else(|| format!("★{}", entry.rating));
        let envelope = Envelope {
            key: IdemKey::FeedbackReflected {
                feedback_id: entry.id,
            },
            to: Recipient::Customer(entry.customer_id.clone()),
            flow: Flow::FeedbackReflected,
            lane: Lane::Bulk,
            payload: Payload::text("feedback-reflected")
                .arg("said", said)
                .arg("note", note),
            broadcast_id: entry.broadcast_id.clone(),
            expires_at: None,
        };
        if outbox::enqueue(conn, envelope, conv.now).await? {
            told += 1;
        }
    }
    conv.reply_to_staff(conn, Payload::text("staff-reflected").arg("count", told))
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rating_buttons_read_back() {
        assert_eq!(parse_rating("rate:42:5"), Some(("rate", 42, 5)));
        assert_eq!(parse_rating("rate-ticket:7:1"), Some(("rate-ticket", 7, 1)));
        assert_eq!(parse_rating("rate:42:6"), None);
        assert_eq!(parse_rating("rate:x:3"), None);
        assert_eq!(parse_rating("consent:marketing:yes"), None);
    }
}
