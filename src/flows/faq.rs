//! FAQ answers: in a DM, the best matching answer, else "I did not find that" with a
//! talk-to-a-person button (and after two misses in a row, a person is offered outright); in a
//! community room, the answer as a reply — at most once per question per room every 10 minutes.
//! It also reads the FAQ file from disk at start-up ([`load_file`]); checking and matching it
//! are `domain::faq`'s, which never touches the filesystem.

use std::path::Path;

use chrono::Duration;

use super::conversation::Conversation;
use super::handoff::talk_to_a_person_button;
use crate::domain::Lang;
use crate::domain::faq::{Faq, FaqError};
use crate::outbox::{Payload, ReplyTo};
use crate::store::{Conn, StoreResult, feedback};

/// How sure the matcher must be before the bot speaks up in a community room.
pub const ROOM_MIN_SCORE: f64 = 0.6;

/// A room hears the same answer at most this often.
pub const ROOM_ANSWER_EVERY_MINUTES: i64 = 10;

/// Reads the FAQ file (`[faq] path`). A missing file is an empty FAQ (Ok); a file that is there
/// but wrong is an error naming it.
pub fn load_file(path: &Path) -> Result<Faq, FaqError> {
    match std::fs::read_to_string(path) {
        Ok(text) => Faq::from_toml(&text, &path.display().to_string()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Faq::empty()),
        Err(source) => Err(FaqError::Read {
            path: path.display().to_string(),
            source,
        }),
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;

    const SHIPPED: &str = include_str!("../../faq.toml");

    fn temp_path(name: &str) -> std::path::PathBuf {
        std::env::temp_dir().join(format!("encore-faq-test-{}-{name}", std::process::id()))
    }

    #[test]
    fn a_missing_file_loads_as_an_empty_faq() {
        let faq = load_file(&temp_path("does-not-exist.toml")).unwrap();
        assert!(faq.is_empty());
    }

    #[test]
    fn a_broken_file_is_an_error_that_names_it() {
        let path = temp_path("broken.toml");
        std::fs::write(&path, "[[entry]]\nid = \"a\"\n").unwrap();
        let result = load_file(&path);
        std::fs::remove_file(&path).unwrap();
        let msg = result.unwrap_err().to_string();
        assert!(msg.starts_with(&path.display().to_string()), "{msg}");
        assert!(msg.contains("entry 1 (id \"a\")"), "{msg}");
    }

    #[test]
    fn a_good_file_loads_from_disk() {
        let path = temp_path("good.toml");
        std::fs::write(&path, SHIPPED).unwrap();
        let result = load_file(&path);
        std::fs::remove_file(&path).unwrap();
        assert_eq!(result.unwrap().len(), 10);
    }
}
