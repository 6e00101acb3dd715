//! Hand-off to a person: a ticket, an honest acknowledgement that names the promise, a card in
//! the staff chat, the viewer's messages relayed to it while the bot stays silent, staff replies
//! relayed back, reminders when the promise is about to be broken, and closing.

use chrono::{DateTime, Duration, Utc};

use super::conversation::Conversation;
use crate::context::AppContext;
use crate::domain::keys::IdemKey;
use crate::domain::tiers::tier_for;
use crate::domain::{Flow, Lane, Platform};
use crate::events_out::{self, ClosedBy};
use crate::outbox::{self, ButtonSpec, Envelope, Payload, Recipient, ReplyTo};
use crate::store::tickets::{self, Ticket};
use crate::store::{Conn, StoreResult, customers, feedback, orders};

/// Callback data of "talk to a person" buttons.
pub const OPEN_TICKET: &str = "handoff:open";
/// Callback data prefix of the help rating after a ticket closes: `rate-ticket:<id>:<1-5>`.
pub const RATE_TICKET: &str = "rate-ticket";

pub fn talk_to_a_person_button() -> Vec<Vec<ButtonSpec>> {
    vec![vec![ButtonSpec::new("button-talk-to-person", OPEN_TICKET)]]
}

fn card_key(ticket: i64) -> IdemKey {
    IdemKey::TicketCard { ticket }
}

/// A message for the staff chat. A ticket's card and relays form a thread: they keep their
/// order, and do not wait behind other tickets or reports. Relays travel in the interactive
/// lane and cards in the bulk one, so a waiting relay goes ahead of other tickets' cards (its own
/// card, which it answers, is promoted ahead of it by the claim).
fn to_staff(
    ctx: &AppContext,
    platform: Platform,
    ticket: Option<i64>,
    key: IdemKey,
    flow: Flow,
    lane: Lane,
    payload: Payload,
) -> Option<Envelope> {
    let (platform, chat_id) = ctx.roles.staff_chat_for(platform)?;
    let to = match ticket {
        Some(id) => Recipient::Thread {
            platform,
            chat_id,
            thread: format!("ticket:{id}"),
        },
        None => Recipient::Chat { platform, chat_id },
    };
    Some(Envelope {
        key,
        to,
        flow,
        lane,
        payload: payload.in_lang(ctx.config.shop.default_locale),
        broadcast_id: None,
        expires_at: None,
    })
}

fn to_viewer(key: IdemKey, customer_id: &str, flow: Flow, payload: Payload) -> Envelope {
    Envelope {
        key,
        to: Recipient::Customer(customer_id.to_string()),
        flow,
        lane: Lane::Interactive,
        payload,
        broadcast_id: None,
        expires_at: None,
    }
}

/// Opens a ticket (or says one is open), acknowledges with the promise, and sends the staff a
/// card with who the viewer is: name, tier, recent orders, last messages.
pub async fn hand_off(
    conv: &mut Conversation<'_>,
    conn: &mut Conn,
    customer_id: &str,
    reason: &str,
) -> StoreResult<()> {
    let ctx = conv.ctx;
    if let Some(open) = tickets::open_ticket_of(conn, customer_id).await? {
        return conv
            .reply(
                conn,
                Some(customer_id),
                Payload::text("handoff-already-open").arg("ticket", open.id),
            )
            .await;
    }
    let now = conv.now;
    let broadcast =
        orders::latest_broadcast_of_customer(conn, customer_id, now - Duration::days(14)).await?;
    let platform = conv.incoming.platform;
    let ticket = tickets::open(
        conn,
        customer_id,
        platform.as_str(),
        reason,
        broadcast.as_deref(),
        now,
    )
    .await?;
    events_out::ticket_opened(
        conn,
        &ctx.config,
        ticket,
        customer_id,
        platform,
        reason,
        now,
    )
    .await?;
    feedback::stop_awaiting_comment(conn, customer_id).await?;
    let hours = i64::from(ctx.config.policy.handoff_first_response_hours);
    conv.reply(
        conn,
        Some(customer_id),
        Payload::text("handoff-ack")
            .arg("hours", hours)
            .arg("ticket", ticket),
    )
    .await?;
    let card = ticket_card(ctx, conn, ticket, customer_id).await?;
    if let Some(envelope) = to_staff(
        ctx,
        platform,
        Some(ticket),
        card_key(ticket),
        Flow::TicketCard,
        Lane::Staff,
        card,
    ) {
        outbox::enqueue(conn, envelope, now).await?;
    } else {
        tracing::warn!(
            ticket,
            "no staff chat is configured: a hand-off has nowhere to go"
        );
    }
    tracing::info!(ticket, reason, "hand-off opened");
    Ok(())
}

async fn ticket_card(
    ctx: &AppContext,
    conn: &mut Conn,
    ticket: i64,
    customer_id: &str,
) -> StoreResult<Payload> {
    let customer = customers::customer(conn, customer_id).await?;
    let name = customer
        .map(|c| c.name)
        .unwrap_or_else(|| customer_id.to_string());
    let orders = crate::store::orders::orders_of(conn, customer_id).await?;
    let bought: Vec<_> = orders
        .iter()
        .filter(|o| o.status.counts_as_purchase())
        .collect();
    let spend = bought
        .iter()
        .filter(|o| o.currency == ctx.config.shop.currency)
        .map(|o| o.total)
        .sum::<i64>();
    let tier = tier_for(&ctx.config.tiers, bought.len() as u32, spend)
        .unwrap_or("-")
        .to_string();
    let recent = orders
        .iter()
        .rev()
        .take(3)
        .map(|o| {
            let first = o
                .items
                .first()
                .map(|i| i.name.as_str())
                .unwrap_or(o.id.as_str());
            // The staff read the shop's language; a missing label falls back to the code.
            let status = ctx
                .texts
                .render(
                    ctx.config.shop.default_locale,
                    &format!("order-status-{}", o.status),
                    &[],
                )
                .unwrap_or_else(|_| o.status.to_string());
            format!("{first} ({}, {status})", o.id)
        })
        .collect::<Vec<_>>()
        .join(", ");
    let last = feedback::last_messages(conn, customer_id, 3).await?;
    let last = last
        .iter()
        .map(|m| format!("> {m}"))
        .collect::<Vec<_>>()
        .join("\n");
    Ok(Payload::text("staff-ticket-card")
        .arg("ticket", ticket)
        .arg("name", name)
        .arg("customer", customer_id)
        .arg("tier", tier)
        .arg(
            "orders",
            if recent.is_empty() {
                "-".to_string()
            } else {
                recent
            },
        )
        .arg(
            "messages",
            if last.is_empty() {
                "-".to_string()
            } else {
                last
            },
        ))
}

/// While a ticket is open, what the viewer writes goes to the staff thread and the bot stays
/// silent. A burst of messages not yet sent is folded into one relay.
pub async fn relay_to_staff(
    conv: &mut Conversation<'_>,
    conn: &mut Conn,
    ticket: &Ticket,
    text: &str,
    photo: Option<String>,
) -> StoreResult<()> {
    let now = conv.now;
    // Relays follow the card: to the staff chat where the ticket began.
    let ticket_platform = ticket.platform.parse().unwrap_or(conv.incoming.platform);
    tickets::touch(conn, ticket.id, now).await?;
    if photo.is_none()
        && crate::store::outbox::append_to_queued_relay(conn, ticket.id, text).await?
    {
        return Ok(());
    }
    let name = customers::customer(conn, &ticket.customer_id)
        .await?
        .map(|c| c.name)
        .unwrap_or_default();
    let payload = Payload::text("staff-ticket-relay")
        .arg("ticket", ticket.id)
        .arg("name", name)
        .arg("text", text)
        .replying_to(ReplyTo::Sent(card_key(ticket.id).to_string()))
        .with_photo(photo);
    let key = IdemKey::TicketRelay {
        ticket: ticket.id,
        platform: conv.incoming.platform,
        update_id: conv.incoming.update_id.clone(),
    };
    if let Some(envelope) = to_staff(
        conv.ctx,
        ticket_platform,
        Some(ticket.id),
        key,
        Flow::TicketRelay,
        Lane::Interactive,
        payload,
    ) {
        outbox::enqueue(conn, envelope, now).await?;
    }
    Ok(())
}

/// A staff member's answer (a reply in the thread or `/reply`) goes to the viewer.
pub async fn staff_reply(
    conv: &mut Conversation<'_>,
    conn: &mut Conn,
    ticket_id: i64,
    text: &str,
    photo: Option<String>,
) -> StoreResult<()> {
    let Some(ticket) = ticket_for_staff(conv, conn, ticket_id).await? else {
        return Ok(());
    };
    tickets::answered(conn, ticket.id, conv.now).await?;
    let key = IdemKey::StaffReply {
        platform: conv.incoming.platform,
        update_id: conv.incoming.update_id.clone(),
    };
    let payload = Payload::text("handoff-staff-reply")
        .arg("text", text)
        .with_photo(photo);
    outbox::enqueue(
        conn,
        to_viewer(key, &ticket.customer_id, Flow::TicketReply, payload),
        conv.now,
    )
    .await?;
    Ok(())
}

/// The open ticket a staff command names; an unknown or closed one is answered in the staff
/// chat and gives `None`.
async fn ticket_for_staff(
    conv: &mut Conversation<'_>,
    conn: &mut Conn,
    ticket_id: i64,
) -> StoreResult<Option<Ticket>> {
    let problem = match tickets::ticket(conn, ticket_id).await? {
        Some(ticket) if ticket.closed_at.is_none() => return Ok(Some(ticket)),
        Some(_) => "staff-ticket-closed-already",
        None => "staff-ticket-unknown",
    };
    conv.reply_to_staff(conn, Payload::text(problem).arg("ticket", ticket_id))
        .await?;
    Ok(None)
}

/// `/close TICKET`: closes it and asks the viewer to rate the help.
pub async fn close(
    conv: &mut Conversation<'_>,
    conn: &mut Conn,
    ticket_id: i64,
) -> StoreResult<()> {
    let Some(ticket) = ticket_for_staff(conv, conn, ticket_id).await? else {
        return Ok(());
    };
    if tickets::close(conn, ticket.id, "staff", conv.now).await? {
        events_out::ticket_closed(conn, &conv.ctx.config, &ticket, ClosedBy::Staff, conv.now)
            .await?;
    }
    let buttons = outbox::rating_buttons(&format!("{RATE_TICKET}:{}", ticket.id));
    let payload = Payload::text("handoff-closed")
        .arg("ticket", ticket.id)
        .buttons(buttons);
    outbox::enqueue(
        conn,
        to_viewer(
            IdemKey::TicketClosed { ticket: ticket.id },
            &ticket.customer_id,
            Flow::TicketClosed,
            payload,
        ),
        conv.now,
    )
    .await?;
    conv.reply_to_staff(
        conn,
        Payload::text("staff-ticket-closed").arg("ticket", ticket.id),
    )
    .await
}

/// The scheduler's part: tickets nobody answered within the promise get one staff reminder and
/// one honest progress note to the viewer; tickets idle for `ticket_idle_close_days` close
/// with a notice. Returns (reminded, closed).
pub async fn keep_promises(
    ctx: &AppContext,
    conn: &mut Conn,
    now: DateTime<Utc>,
) -> StoreResult<(usize, usize)> {
    let hours = i64::from(ctx.config.policy.handoff_first_response_hours);
    let overdue = tickets::take_overdue(conn, now - Duration::hours(hours), now).await?;
    for ticket in &overdue {
        let platform = ticket.platform.parse().unwrap_or(Platform::Telegram);
        let reminder = Payload::text("staff-ticket-reminder")
            .arg("ticket", ticket.id)
            .arg("hours", hours);
        if let Some(envelope) = to_staff(
            ctx,
            platform,
            None,
            IdemKey::TicketReminder { ticket: ticket.id },
            Flow::TicketReminder,
            Lane::Staff,
            reminder,
        ) {
            outbox::enqueue(conn, envelope, now).await?;
        }
        let note = Payload::text("handoff-progress").arg("ticket", ticket.id);
        outbox::enqueue(
            conn,
            to_viewer(
                IdemKey::TicketProgress { ticket: ticket.id },
                &ticket.customer_id,
                Flow::TicketProgress,
                note,
            ),
            now,
        )
        .await?;
    }
    let days = i64::from(ctx.config.policy.ticket_idle_close_days);
    let idle = tickets::close_idle(conn, now - Duration::days(days), now).await?;
    for ticket in &idle {
        events_out::ticket_closed(conn, &ctx.config, ticket, ClosedBy::Idle, now).await?;
        let notice = Payload::text("handoff-idle-closed")
            .arg("ticket", ticket.id)
            .arg("days", days);
        outbox::enqueue(
            conn,
            to_viewer(
                IdemKey::TicketIdle { ticket: ticket.id },
                &ticket.customer_id,
                Flow::TicketClosed,
                notice,
            ),
            now,
        )
        .await?;
    }
    Ok((overdue.len(), idle.len()))
}
