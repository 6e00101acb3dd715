//! FAQ answers: in a DM, the best matching answer, else "I did not find that" with a
//! talk-to-a-person button (and after two misses in a row, a person is offered outright); in a
//! community room, the answer as a reply — at most once per question per room every 10 minutes.

use chrono::Duration;

use super::conversation::Conversation;
use super::handoff::talk_to_a_person_button;
use crate::domain::Lang;
use crate::outbox::{Payload, ReplyTo};
use crate::store::{Conn, StoreResult, feedback};

/// How sure the matcher must be before the bot speaks up in a community room.
pub const ROOM_MIN_SCORE: f64 = 0.6;

/// A room hears the same answer at most this often.
pub const ROOM_ANSWER_EVERY_MINUTES: i64 = 10;

/// Answers a viewer's question in a DM. Returns whether an answer was found.
pub async fn answer_in_dm(
    conv: &mut Conversation<'_>,
    conn: &mut Conn,
    customer_id: Option<&str>,
    text: &str,
    lang: Lang,
) -> StoreResult<bool> {
    if let Some(found) = conv.ctx.faq.best_match(text, lang) {
        if let Some(id) = customer_id {
            feedback::faq_answered(conn, id).await?;
        }
        conv.reply(
            conn,
            customer_id,
            Payload::text("faq-answer").arg("answer", found.answer),
        )
        .await?;
        return Ok(true);
    }
    let misses = match customer_id {
        Some(id) => feedback::faq_missed(conn, id, conv.now).await?,
        None => 1,
    };
    // Two misses in a row: stop guessing and offer a person.
    let id = if misses >= 2 {
        "faq-not-found-again"
    } else {
        "faq-not-found"
    };
    conv.reply(
        conn,
        customer_id,
        Payload::text(id).buttons(talk_to_a_person_button()),
    )
    .await?;
    Ok(false)
}

/// A question in a community room: answered as a reply when the FAQ knows it, silently
/// skipped otherwise (rooms are for people; the bot does not chime in with "not found").
pub async fn answer_in_room(
    conv: &mut Conversation<'_>,
    conn: &mut Conn,
    text: &str,
) -> StoreResult<()> {
    let lang = conv.platform_lang();
    // Rooms are chatty: only a confident match is worth a reply there.
    let Some(found) = conv
        .ctx
        .faq
        .best_match(text, lang)
        .filter(|m| m.score >= ROOM_MIN_SCORE)
    else {
        return Ok(());
    };
    let incoming = conv.incoming;
    let fresh = feedback::may_answer_in_room(
        conn,
        incoming.platform.as_str(),
        &incoming.chat_id,
        &found.entry_id,
        conv.now,
        Duration::minutes(ROOM_ANSWER_EVERY_MINUTES),
    )
    .await?;
    if !fresh {
        return Ok(());
    }
    let mut payload = Payload::text("faq-answer").arg("answer", found.answer);
    if let Some(message_id) = &incoming.message_id {
        payload = payload.replying_to(ReplyTo::Message(message_id.clone()));
    }
    conv.reply(conn, None, payload).await
}
