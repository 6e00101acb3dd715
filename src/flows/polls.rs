//! Community polls (CONTRACT §4): staff ask every community room a question with `/poll` (a
//! native, non-anonymous poll on Telegram, a vote button per option on Discord), members vote
//! once each and may change their mind, and `/pollclose` stops the poll and posts the result —
//! the votes of every platform together — to the rooms and the staff chat.
//!
//! What staff get wrong is answered in the staff chat and stores nothing. A vote that names no
//! open poll, or an option the poll does not have, does nothing (forged button data is not an
//! error). This flow never calls a platform: the poll, its closing and its result go through
//! the outbox.

use super::conversation::Conversation;
use crate::domain::keys::IdemKey;
use crate::domain::polls::{self, PollInputError, VoteButton};
use crate::domain::{Flow, Lane, Platform};
use crate::outbox::{self, Envelope, Payload, Recipient};
use crate::store::{Conn, StoreResult, polls as stored};

/// A message to a community room about a poll.
fn to_room(key: IdemKey, platform: Platform, room: &str, payload: Payload) -> Envelope {
    Envelope {
        key,
        to: Recipient::Chat {
            platform,
            chat_id: room.to_string(),
        },
        flow: Flow::Poll,
        lane: Lane::Bulk,
        payload,
        broadcast_id: None,
        expires_at: None,
    }
}

/// What the staff chat is told about a `/poll` it cannot ask.
fn refusal(err: &PollInputError) -> Payload {
    match err {
        PollInputError::Usage => Payload::text("staff-usage-poll"),
        PollInputError::EmptyQuestion => Payload::text("poll-empty-question"),
        PollInputError::EmptyOption(n) => {
            Payload::text("poll-empty-option").arg("number", *n as i64)
        }
        PollInputError::OptionCount(n) => {
            Payload::text("poll-option-count").arg("count", *n as i64)
        }
        PollInputError::QuestionTooLong(length) => {
            Payload::text("poll-question-too-long").arg("length", *length as i64)
        }
        PollInputError::OptionTooLong { number, length } => Payload::text("poll-option-too-long")
            .arg("number", *number as i64)
            .arg("length", *length as i64),
        PollInputError::DuplicateOption(n) => {
            Payload::text("poll-duplicate-option").arg("number", *n as i64)
        }
    }
}

/// Staff `/poll question | option | option …`: the poll in every community room, and its
/// number in the staff chat.
pub async fn ask(conv: &mut Conversation<'_>, conn: &mut Conn, args: &str) -> StoreResult<()> {
    let question = match polls::parse_poll(args) {
        Ok(question) => question,
        Err(err) => return conv.reply_to_staff(conn, refusal(&err)).await,
    };
    let rooms = conv.ctx.roles.community_rooms();
    if rooms.is_empty() {
        return conv
            .reply_to_staff(conn, Payload::text("poll-no-rooms"))
            .await;
    }
    let now = conv.now;
    let number = stored::open(conn, &question, conv.incoming.platform, now).await?;
    for (platform, room) in &rooms {
        let key = IdemKey::PollPost {
            poll: number,
            platform: *platform,
            room: room.clone(),
        };
        outbox::enqueue(
            conn,
            to_room(key, *platform, room, Payload::Poll { poll: number }),
            now,
        )
        .await?;
    }
    tracing::info!(poll = number, rooms = rooms.len(), "a poll was asked");
    conv.reply_to_staff(
        conn,
        Payload::text("poll-asked")
            .arg("poll", number.to_string())
            .arg("rooms", rooms.len() as i64),
    )
    .await
}

/// Staff `/pollclose POLL`: no more votes; each room's poll stopped (its buttons taken away on
/// Discord), then the result in each room and in the staff chat.
pub async fn close(conv: &mut Conversation<'_>, conn: &mut Conn, args: &str) -> StoreResult<()> {
    let Some(number) = polls::parse_poll_number(args) else {
        return conv
            .reply_to_staff(conn, Payload::text("staff-usage-pollclose"))
            .await;
    };
    let now = conv.now;
    if stored::poll(conn, number).await?.is_none() {
        return conv
            .reply_to_staff(
                conn,
                Payload::text("poll-unknown").arg("poll", number.to_string()),
            )
            .await;
    }
    if !stored::close(conn, number, now).await? {
        return conv
            .reply_to_staff(
                conn,
                Payload::text("poll-closed-already").arg("poll", number.to_string()),
            )
            .await;
    }
    for (platform, room) in conv.ctx.roles.community_rooms() {
        let posted = IdemKey::PollPost {
            poll: number,
            platform,
            room: room.clone(),
        };
        // After the poll itself, before the result: messages to one chat keep their order.
        let stop = to_room(
            IdemKey::PollClose {
                poll: number,
                platform,
                room: room.clone(),
            },
            platform,
            &room,
            Payload::ClosePoll {
                key: posted.to_string(),
            },
        );
        outbox::enqueue(conn, stop, now).await?;
        let result = to_room(
            IdemKey::PollResult {
                poll: number,
                platform,
                room: room.clone(),
            },
            platform,
            &room,
            Payload::PollResult { poll: number },
        );
        outbox::enqueue(conn, result, now).await?;
    }
    tracing::info!(poll = number, "a poll was closed");
    conv.reply_to_staff(conn, Payload::PollResult { poll: number })
        .await
}

/// Whether button data is a vote (the router hands it here, whoever pressed it).
pub fn is_vote(data: &str) -> bool {
    VoteButton::is_vote(data)
}

/// A vote button pressed in a community room (Discord): the member's vote, recorded or
/// changed, and told to them alone. Forged data does nothing.
pub async fn button_pressed(
    conv: &mut Conversation<'_>,
    conn: &mut Conn,
    data: &str,
) -> StoreResult<()> {
    let Some(vote) = VoteButton::parse(data) else {
        return Ok(());
    };
    let Some(poll) = stored::poll(conn, vote.poll).await? else {
        return Ok(());
    };
    let Some(option) = poll.options.get(vote.option) else {
        return Ok(());
    };
    if poll.closed_at.is_some() {
        return conv
            .reply_privately(conn, Payload::text("poll-vote-closed"))
            .await;
    }
    let incoming = conv.incoming;
    stored::vote(
        conn,
        poll.number,
        incoming.platform,
        &incoming.user_id,
        vote.option,
        conv.now,
    )
    .await?;
    conv.reply_privately(
        conn,
        Payload::text("poll-voted").arg("option", option.clone()),
    )
    .await
}

/// A member answered one of our native polls (Telegram `poll_answer`): their vote, changed, or
/// taken back when they chose nothing. Answers to a poll that is not ours or no longer open do
/// nothing.
pub async fn answered(
    conv: &mut Conversation<'_>,
    conn: &mut Conn,
    platform_poll_id: &str,
    options: &[u32],
) -> StoreResult<()> {
    let incoming = conv.incoming;
    let Some(number) = stored::poll_of_native(conn, incoming.platform, platform_poll_id).await?
    else {
        return Ok(());
    };
    let Some(poll) = stored::poll(conn, number).await? else {
        return Ok(());
    };
    if poll.closed_at.is_some() {
        return Ok(());
    }
    // One answer a poll: the first option is the vote.
    match options.first().map(|&o| o as usize) {
        None => stored::retract(conn, number, incoming.platform, &incoming.user_id).await,
        Some(option) if option < poll.options.len() => {
            stored::vote(
                conn,
                number,
                incoming.platform,
                &incoming.user_id,
                option,
                conv.now,
            )
            .await
        }
        Some(_) => Ok(()),
    }
}
