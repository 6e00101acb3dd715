//! One incoming update's conversation: who it is from, in which language to answer, and the
//! replies it causes (keyed by the update, so a re-delivered update could never repeat them).

use chrono::{DateTime, Utc};

use crate::context::AppContext;
use crate::domain::keys::IdemKey;
use crate::domain::{Flow, Lane, Lang};
use crate::outbox::{self, Envelope, Payload, Recipient};
use crate::platforms::Incoming;
use crate::store::{Conn, StoreResult};

/// Replies to one incoming update. Their keys come from the update, so a re-delivered update
/// (already recorded as processed) could never send them twice anyway.
pub struct Conversation<'a> {
    pub ctx: &'a AppContext,
    pub incoming: &'a Incoming,
    pub now: DateTime<Utc>,
    replies: usize,
}

impl<'a> Conversation<'a> {
    pub fn new(ctx: &'a AppContext, incoming: &'a Incoming, now: DateTime<Utc>) -> Self {
        Conversation {
            ctx,
            incoming,
            now,
            replies: 0,
        }
    }

    /// The language for a viewer who is not linked: their platform's, else the shop's.
    pub fn platform_lang(&self) -> Lang {
        self.incoming
            .user_lang
            .as_deref()
            .and_then(Lang::from_tag)
            .unwrap_or(self.ctx.config.shop.default_locale)
    }

    /// Enqueues a reply: to the customer when linked (their language, their most recent
    /// platform), else to this chat.
    pub async fn reply(
        &mut self,
        conn: &mut Conn,
        customer_id: Option<&str>,
        payload: Payload,
    ) -> StoreResult<()> {
        let to = match customer_id {
            Some(id) => Recipient::Customer(id.to_string()),
            None => Recipient::Chat {
                platform: self.incoming.platform,
                chat_id: self.incoming.chat_id.clone(),
            },
        };
        self.enqueue_reply(conn, to, payload).await
    }

    /// A reply only the person who did this sees, where the platform has such a place (a
    /// Discord button press: an ephemeral answer); elsewhere nothing is sent.
    pub async fn reply_privately(&mut self, conn: &mut Conn, payload: Payload) -> StoreResult<()> {
        let Some(chat_id) = self.incoming.private_reply_to.clone() else {
            return Ok(());
        };
        let to = Recipient::Chat {
            platform: self.incoming.platform,
            chat_id,
        };
        self.enqueue_reply(conn, to, payload).await
    }

    async fn enqueue_reply(
        &mut self,
        conn: &mut Conn,
        to: Recipient,
        payload: Payload,
    ) -> StoreResult<()> {
        self.replies += 1;
        let incoming = self.incoming;
        // A chat with no customer behind it is answered in the platform's language.
        let payload = if matches!(to, Recipient::Chat { .. })
            && matches!(&payload, Payload::Text { lang: None, .. })
        {
            payload.in_lang(self.platform_lang())
        } else {
            payload
        };
        let envelope = Envelope {
            key: IdemKey::Reply {
                platform: incoming.platform,
                update_id: incoming.update_id.clone(),
                n: self.replies,
            },
            to,
            flow: Flow::Reply,
            lane: Lane::Interactive,
            payload,
            broadcast_id: None,
            expires_at: None,
        };
        outbox::enqueue(conn, envelope, self.now).await?;
        Ok(())
    }

    pub fn shop(&self) -> String {
        self.ctx.config.shop.name.clone()
    }

    /// The quiet hours as the night-consent question names them (`21:00-08:00`).
    pub fn quiet_hours(&self) -> String {
        self.ctx.config.policy.quiet_hours.to_string()
    }

    /// A reply in the staff chat, in the shop's language whoever wrote.
    pub async fn reply_to_staff(&mut self, conn: &mut Conn, payload: Payload) -> StoreResult<()> {
        let lang = self.ctx.config.shop.default_locale;
        self.reply(conn, None, payload.in_lang(lang)).await
    }

    /// Today in the shop's time zone, as confirmations name it.
    pub fn today(&self, lang: Lang) -> String {
        let date = self
            .now
            .with_timezone(&self.ctx.config.shop.timezone)
            .date_naive();
        crate::outbox::render::format_date(date, lang)
    }
}
