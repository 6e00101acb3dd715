//! The router: one incoming update → the flow that answers it, in one transaction with the
//! record that the update was processed (so a re-delivered update changes nothing).
//!
//! A viewer's message is handled by the first of these that applies (CONTRACT §4): a command;
//! an open ticket (relayed to staff, the bot stays silent); a pending comment after a rating; a
//! request for a person; an FAQ answer; "I did not find that" with a talk-to-a-person button.
//! In the staff chat: staff commands, and replies in a ticket's thread. In community rooms:
//! FAQ answers and votes on polls (Telegram's own poll answers come with no chat).
//!
//! An update that fails every time is set aside after [`UPDATE_ATTEMPTS`] tries (a dead letter,
//! `encore deadletters`) and the adapter goes on to the next one: one update that cannot be
//! stored never stops the bot.

use std::time::Duration;

use futures::future::BoxFuture;

use crate::context::AppContext;
use crate::domain::Platform;
use crate::domain::person_request::{PersonRequest, person_request};
use crate::flows::conversation::Conversation;
use crate::flows::handoff::{self, OPEN_TICKET};
use crate::flows::journeys as journeys_commands;
use crate::flows::{community, faq, feedback, linking, polls, privacy, staff, vip};
use crate::outbox::Payload;
use crate::platforms::{Inbox, InboxError, Incoming, IncomingContent};
use crate::store::dead_letters::{self, DeadLetterId};
use crate::store::{
    Conn, StoreError, StoreResult, customers, events, feedback as stored_feedback, tickets,
};

/// A command as typed: `/ended@encore_bot b-1` → ("ended", "b-1"). The adapter has already
/// dropped commands addressed to other bots and removed our own name.
pub fn parse_command(text: &str) -> Option<(String, String)> {
    let rest = text.trim_start().strip_prefix('/')?;
    let (word, args) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
    let name = word.split('@').next().unwrap_or(word).to_ascii_lowercase();
    if name.is_empty() {
        return None;
    }
    Some((name, args.trim().to_string()))
}

pub async fn handle(ctx: &AppContext, incoming: &Incoming) -> Result<(), StoreError> {
    let now = ctx.clock.now();
    let mut tx = ctx.store.begin().await?;
    if let IncomingContent::ChatMoved { to } = &incoming.content {
        // The group was upgraded: remember where it lives now (CONTRACT §9).
        crate::store::chats::record_move(
            &mut tx,
            incoming.platform.as_str(),
            &incoming.chat_id,
            to,
            now,
        )
        .await?;
        tx.commit().await?;
        ctx.roles
            .moves()
            .record(incoming.platform, &incoming.chat_id, to);
        tracing::info!(platform = %incoming.platform, "a group was upgraded to a supergroup; following it");
        return Ok(());
    }
    if !events::record_update(&mut tx, incoming.platform, &incoming.update_id, now).await? {
        tracing::debug!(platform = %incoming.platform, update_id = %incoming.update_id, "update seen before; ignored");
        return Ok(());
    }
    // Writing to the bot (not to a room) clears "unreachable" and makes this the most recent
    // platform.
    if incoming.chat_is_private {
        customers::touch_identity(&mut tx, incoming.platform, &incoming.user_id, now).await?;
    }
    let mut conv = Conversation::new(ctx, incoming, now);
    let (platform, chat) = (incoming.platform, incoming.chat_id.as_str());
    match &incoming.content {
        IncomingContent::MembersJoined { members } => {
            let room = if ctx.roles.is_community_room(platform, chat) {
                Some(chat.to_string())
            } else {
                community::welcome_room(&ctx.config, platform, chat)
            };
            if let Some(room) = room {
                community::members_joined(&mut tx, platform, &room, members, now).await?;
            }
            if platform == Platform::Discord {
                for member in members {
                    vip::joined_guild(&ctx.config, &mut tx, &member.user_id, now).await?;
                }
            }
        }
        IncomingContent::JoinRequest { invite_link } if ctx.roles.is_vip_room(platform, chat) => {
            vip::join_requested(&mut conv, &mut tx, invite_link.as_deref()).await?;
        }
        IncomingContent::JoinRequest { .. } => {}
        IncomingContent::PollAnswer { poll_id, options } => {
            polls::answered(&mut conv, &mut tx, poll_id, options).await?;
        }
        IncomingContent::Button { data }
            if polls::is_vote(data) && ctx.roles.is_community_room(platform, chat) =>
        {
            polls::button_pressed(&mut conv, &mut tx, data).await?;
        }
        _ if incoming.chat_is_private => viewer(&mut conv, &mut tx).await?,
        _ if ctx.roles.is_staff_chat(platform, chat) => staff_chat(&mut conv, &mut tx).await?,
        _ if ctx.roles.is_community_room(platform, chat) => room(&mut conv, &mut tx).await?,
        _ => {}
    }
    tx.commit().await?;
    ctx.outbox.wake().await;
    Ok(())
}

/// A member's message in a community room: moderation first, then FAQ answers.
async fn room(conv: &mut Conversation<'_>, conn: &mut Conn) -> StoreResult<()> {
    let text = match &conv.incoming.content {
        IncomingContent::Text(text) => text.clone(),
        IncomingContent::Photo { caption, .. } => caption.clone(),
        _ => return Ok(()),
    };
    if community::moderate(conv, conn, &text).await? {
        return Ok(());
    }
    match parse_command(&text) {
        Some((command, _)) if staff::is_staff_command(&command) => {
            let refusal = Payload::text("staff-only").in_lang(conv.ctx.config.shop.default_locale);
            let refusal = match &conv.incoming.message_id {
                Some(id) => refusal.replying_to(crate::outbox::ReplyTo::Message(id.clone())),
                None => refusal,
            };
            conv.reply(conn, None, refusal).await
        }
        None if matches!(conv.incoming.content, IncomingContent::Text(_)) => {
            faq::answer_in_room(conv, conn, &text).await
        }
        _ => Ok(()),
    }
}

async fn viewer(conv: &mut Conversation<'_>, conn: &mut Conn) -> StoreResult<()> {
    let incoming = conv.incoming;
    let identity = customers::identity(conn, incoming.platform, &incoming.user_id).await?;
    let customer_id = identity.as_ref().map(|i| i.customer_id.clone());
    let lang = match &customer_id {
        Some(id) => match customers::customer(conn, id).await? {
            Some(c) => {
                customers::language_of(&c, identity.as_ref(), conv.ctx.config.shop.default_locale)
            }
            None => conv.platform_lang(),
        },
        None => conv.platform_lang(),
    };
    let customer = customer_id.as_deref();

    let (text, photo) = match &incoming.content {
        IncomingContent::Button { data } => return button(conv, conn, customer, data).await,
        IncomingContent::Text(text) => (text.clone(), None),
        IncomingContent::Photo { file, caption } => (caption.clone(), Some(file.clone())),
        // Handled before anything else, in `handle`.
        IncomingContent::ChatMoved { .. }
        | IncomingContent::MembersJoined { .. }
        | IncomingContent::JoinRequest { .. }
        | IncomingContent::PollAnswer { .. } => return Ok(()),
    };
    // 1. A command.
    if let Some((command, args)) = parse_command(&text) {
        return viewer_command(conv, conn, customer, lang, &command, &args).await;
    }
    let Some(customer) = customer else {
        // Not linked: FAQ answers only; everything else needs the order account.
        if photo.is_none() && faq::answer_in_dm(conv, conn, None, &text, lang).await? {
            return Ok(());
        }
        return Ok(());
    };
    let remembered = if text.is_empty() {
        "[photo]"
    } else {
        text.as_str()
    };
    stored_feedback::remember_message(conn, customer, remembered, conv.now).await?;
    // 2. An open ticket: relayed to staff; the bot itself stays silent.
    if let Some(ticket) = tickets::open_ticket_of(conn, customer).await? {
        return handoff::relay_to_staff(conv, conn, &ticket, &text, photo).await;
    }
    // 3. A comment after a rating.
    if !text.is_empty()
        && let Some(feedback_id) =
            stored_feedback::awaited_comment(conn, customer, conv.now).await?
    {
        return feedback::take_comment(conv, conn, customer, feedback_id, &text).await;
    }
    // 4. A request for a person.
    match person_request(&text) {
        PersonRequest::Clear => return handoff::hand_off(conv, conn, customer, "words").await,
        PersonRequest::Maybe => {
            let confirm =
                Payload::text("handoff-confirm").buttons(handoff::talk_to_a_person_button());
            return conv.reply(conn, Some(customer), confirm).await;
        }
        PersonRequest::No => {}
    }
    // 5. An FAQ answer, else 6. "not found" with a talk-to-a-person button. A photo with no
    // words asks nothing.
    if !text.trim().is_empty() {
        faq::answer_in_dm(conv, conn, Some(customer), &text, lang).await?;
    }
    Ok(())
}

async fn button(
    conv: &mut Conversation<'_>,
    conn: &mut Conn,
    customer: Option<&str>,
    data: &str,
) -> StoreResult<()> {
    if data.starts_with("consent:") {
        return linking::consent_button(conv, conn, data).await;
    }
    if privacy::is_forget_button(data) {
        return privacy::forget_button(conv, conn, customer, data).await;
    }
    let Some(customer) = customer else {
        return conv.reply(conn, None, Payload::text("not-linked")).await;
    };
    if data == OPEN_TICKET {
        return handoff::hand_off(conv, conn, customer, "button").await;
    }
    if data == crate::flows::journeys::ALERTS_ON {
        return journeys_commands::alerts(conv, conn, Some(customer), Some("on")).await;
    }
    if feedback::parse_rating(data).is_some() {
        return feedback::rating_pressed(conv, conn, customer, data).await;
    }
    Ok(())
}

async fn viewer_command(
    conv: &mut Conversation<'_>,
    conn: &mut Conn,
    customer: Option<&str>,
    lang: crate::domain::Lang,
    command: &str,
    args: &str,
) -> StoreResult<()> {
    match command {
        "start" | "link" if !args.is_empty() => {
            let token = args.split_whitespace().next().unwrap_or_default();
            linking::link_with_token(conv, conn, token).await
        }
        "start" | "link" => {
            let id = if customer.is_some() {
                "start-linked"
            } else {
                "start-greeting"
            };
            let shop = conv.ctx.config.shop.name.clone();
            conv.reply(conn, customer, Payload::text(id).arg("shop", shop))
                .await
        }
        "stop" => linking::stop(conv, conn, customer, lang).await,
        "unlink" => linking::unlink(conv, conn, lang).await,
        "lang" => linking::set_language(conv, conn, customer, args.split_whitespace().next()).await,
        "help" => {
            let menu = Payload::text("help-menu").buttons(handoff::talk_to_a_person_button());
            conv.reply(conn, customer, menu).await
        }
        "alerts" => {
            journeys_commands::alerts(conv, conn, customer, args.split_whitespace().next()).await
        }
        "vip" => match customer {
            Some(customer) => conv.reply(conn, Some(customer), Payload::VipStatus).await,
            None => conv.reply(conn, None, Payload::text("not-linked")).await,
        },
        "mydata" => privacy::my_data(conv, conn, customer).await,
        "forget" => privacy::ask_to_forget(conv, conn, customer).await,
        "human" => match customer {
            Some(customer) => handoff::hand_off(conv, conn, customer, "command").await,
            None => conv.reply(conn, None, Payload::text("not-linked")).await,
        },
        // A staff command outside the staff chat does nothing but a polite refusal.
        _ if staff::is_staff_command(command) => {
            conv.reply(conn, customer, Payload::text("staff-only"))
                .await
        }
        _ => {
            conv.reply(conn, customer, Payload::text("unknown-command"))
                .await
        }
    }
}

async fn staff_chat(conv: &mut Conversation<'_>, conn: &mut Conn) -> StoreResult<()> {
    let (text, photo) = match &conv.incoming.content {
        IncomingContent::Text(text) => (text.clone(), None),
        IncomingContent::Photo { file, caption } => (caption.clone(), Some(file.clone())),
        _ => return Ok(()),
    };
    let authorised = conv.ctx.roles.is_staff_member(conv.incoming);
    if let Some((command, args)) = parse_command(&text) {
        if staff::is_staff_command(&command) {
            return staff::run(conv, conn, &command, &args, authorised).await;
        }
        return Ok(());
    }
    // A reply in a ticket's thread, from staff, goes to the viewer. Anyone else's does not.
    let Some(reply_to) = conv.incoming.reply_to.clone() else {
        return Ok(());
    };
    if !authorised {
        return Ok(());
    }
    let key = crate::store::outbox::key_of_sent(
        conn,
        conv.incoming.platform.as_str(),
        &conv.incoming.chat_id,
        &reply_to,
    )
    .await?;
    if let Some(ticket) = key
        .as_deref()
        .and_then(crate::domain::keys::IdemKey::ticket_of)
    {
        handoff::staff_reply(conv, conn, ticket, &text, photo).await?;
    }
    Ok(())
}

/// How many times an update is tried before it is set aside (CONTRACT §12).
pub const UPDATE_ATTEMPTS: u32 = 3;
/// The pause after a failed attempt, times the attempt's number: a busy database clears.
const PAUSE_AFTER_FAILED_ATTEMPT: Duration = Duration::from_millis(250);

/// Handles an update, or sets it aside so the next updates flow:
///
/// 1. Try it up to [`UPDATE_ATTEMPTS`] times, pausing a little longer after each failure.
/// 2. Still failing: store it as a dead letter (the update itself, and the last error) and
///    answer Ok, so the adapter confirms it and goes on. `encore deadletters retry` hands it
///    to [`handle`] again.
/// 3. Only if even the dead letter cannot be stored (the database is gone) is the error
///    returned: nothing was stored, and the adapter offers the update again later.
pub async fn handle_or_set_aside(ctx: &AppContext, incoming: &Incoming) -> Result<(), StoreError> {
    let mut why = String::new();
    for attempt in 1..=UPDATE_ATTEMPTS {
        match handle(ctx, incoming).await {
            Ok(()) => return Ok(()),
            Err(err) => {
                tracing::warn!(platform = %incoming.platform, update_id = %incoming.update_id, attempt, error = %err, "an update could not be handled");
                why = err.to_string();
            }
        }
        if attempt < UPDATE_ATTEMPTS {
            tokio::time::sleep(PAUSE_AFTER_FAILED_ATTEMPT * attempt).await;
        }
    }
    let update_json = serde_json::to_string(incoming)
        .map_err(|err| StoreError::Corrupt(format!("an update cannot be written down: {err}")))?;
    let mut conn = ctx.store.conn().await?;
    let id = dead_letters::set_aside_update(
        &mut conn,
        incoming.platform.as_str(),
        &describe(incoming),
        &update_json,
        &why,
        ctx.clock.now(),
    )
    .await?;
    tracing::error!(platform = %incoming.platform, update_id = %incoming.update_id, dead_letter = %id, "an update failed {UPDATE_ATTEMPTS} times and was set aside (encore deadletters)");
    Ok(())
}

/// A set-aside update in a few words, for `encore deadletters` (the operator's own list).
fn describe(incoming: &Incoming) -> String {
    let content = match &incoming.content {
        IncomingContent::Text(text) => format!("text {:?}", shorten(text)),
        IncomingContent::Photo { caption, .. } => format!("a photo {:?}", shorten(caption)),
        IncomingContent::Button { data } => format!("button {:?}", shorten(data)),
        IncomingContent::ChatMoved { to } => format!("the group moved to {to}"),
        IncomingContent::MembersJoined { members } => format!("{} joined", members.len()),
        IncomingContent::JoinRequest { .. } => "a join request".to_string(),
        IncomingContent::PollAnswer { options, .. } => {
            format!("an answer to a poll ({} options chosen)", options.len())
        }
    };
    format!(
        "update {} from user {} in chat {}: {content}",
        incoming.update_id, incoming.user_id, incoming.chat_id
    )
}

fn shorten(text: &str) -> String {
    const SHOWN: usize = 60;
    if text.chars().count() <= SHOWN {
        text.to_string()
    } else {
        format!("{}…", text.chars().take(SHOWN).collect::<String>())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RetryError {
    #[error("nothing set aside is called {0}: `encore deadletters` lists what waits")]
    NotWaiting(DeadLetterId),
    #[error("the set-aside update {id} cannot be read back: {reason}")]
    Unreadable { id: DeadLetterId, reason: String },
    #[error("the set-aside update {id} failed again and stays set aside: {why}")]
    FailedAgain { id: DeadLetterId, why: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// `encore deadletters retry ID`: an update is handled again here and now (its effects are
/// stored, so a running `serve` sends the replies); a message goes back in the queue.
pub async fn retry_dead_letter(ctx: &AppContext, id: DeadLetterId) -> Result<(), RetryError> {
    let now = ctx.clock.now();
    let mut conn = ctx.store.conn().await?;
    match id {
        DeadLetterId::Message(number) => {
            if !dead_letters::requeue_message(&mut conn, number, now).await? {
                return Err(RetryError::NotWaiting(id));
            }
            ctx.outbox.wake().await;
            Ok(())
        }
        DeadLetterId::Update(number) => {
            let json = dead_letters::update_json(&mut conn, number)
                .await?
                .ok_or(RetryError::NotWaiting(id))?;
            drop(conn);
            let incoming: Incoming =
                serde_json::from_str(&json).map_err(|err| RetryError::Unreadable {
                    id,
                    reason: err.to_string(),
                })?;
            let mut conn = match handle(ctx, &incoming).await {
                Ok(()) => ctx.store.conn().await?,
                Err(err) => {
                    let why = err.to_string();
                    let mut conn = ctx.store.conn().await?;
                    dead_letters::update_failed_again(&mut conn, number, &why).await?;
                    return Err(RetryError::FailedAgain { id, why });
                }
            };
            dead_letters::mark_update_retried(&mut conn, number, now).await?;
            Ok(())
        }
    }
}

/// The router as the platforms' [`Inbox`]: what an adapter hands over goes to [`handle`].
pub struct Router {
    ctx: AppContext,
}

impl Router {
    pub fn new(ctx: AppContext) -> Router {
        Router { ctx }
    }
}

impl Inbox for Router {
    fn handle<'a>(&'a self, incoming: &'a Incoming) -> BoxFuture<'a, Result<(), InboxError>> {
        Box::pin(async move {
            handle_or_set_aside(&self.ctx, incoming)
                .await
                .map_err(|err| InboxError(err.to_string()))
        })
    }

    fn bot_username_known(&self, platform: Platform, username: &str) {
        if platform == Platform::Telegram {
            let _ = self.ctx.telegram_username.set(username.to_string());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_may_carry_the_bots_name_and_arguments() {
        assert_eq!(
            parse_command("/ended@encore_bot b-1"),
            Some(("ended".into(), "b-1".into()))
        );
        assert_eq!(
            parse_command("/START abc"),
            Some(("start".into(), "abc".into()))
        );
        assert_eq!(
            parse_command("/delay b-1 2026-12-01 비가 와서"),
            Some(("delay".into(), "b-1 2026-12-01 비가 와서".into()))
        );
        assert_eq!(parse_command("hello"), None);
        assert_eq!(parse_command("/"), None);
    }
}
