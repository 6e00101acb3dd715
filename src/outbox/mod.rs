//! The outbox remembers what flows decided to say; the dispatcher delivers it.
//!
//! Flows enqueue an [`Envelope`] inside their own transaction (so an accepted event and the
//! messages it causes are stored together), then [`Outbox::wake`] the dispatcher. What a
//! message says is rendered when it is sent, from the payload's references to current state.

pub mod access;
pub(crate) mod batch;
pub mod dispatcher;
pub mod gate;
pub mod mydata;
pub mod pacing;
pub mod render;

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tokio::sync::Notify;

use crate::cluster::{Role, RoleCell};
use crate::domain::alimtalk;
use crate::domain::keys::IdemKey;
use crate::domain::{Flow, Lane, Lang, MessageKind, Platform};
use crate::platforms::ChatAction;
use crate::store::outbox::NewMessage;
use crate::store::{Conn, Store, StoreResult};

/// What to render at send time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Payload {
    /// One thank-you per buyer per broadcast, naming all their orders in it.
    ThankYou { broadcast_id: String },
    /// A note about one order: a status (`shipped`, `delayed`, …) or `placed` for an order that
    /// arrived after its buyer was thanked.
    OrderNote { order_id: String, status: String },
    /// A fixed text from the locales with its arguments.
    Text {
        id: String,
        #[serde(default)]
        args: BTreeMap<String, TextArg>,
        #[serde(default)]
        buttons: Vec<Vec<ButtonSpec>>,
        /// For chats with no customer behind them (a viewer not linked yet, the staff chat).
        #[serde(default)]
        lang: Option<Lang>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reply_to: Option<ReplyTo>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        photo: Option<String>,
    },
    /// Something done to a chat or member (a mute, a deleted link, a join request answered).
    Act { action: ChatAction },
    /// Pin an earlier message to this chat, by its idempotency key (sent first: messages to
    /// one chat keep their order).
    Pin { key: String },
    /// A community room's welcome: names everyone who joined and was not welcomed yet, each
    /// language in its own paragraph (a raid of joins is one message, not fifty).
    Welcome,
    /// A customer reached the VIP tier: congratulations and the way into the VIP room (a
    /// personal join-request link on Telegram; the VIP role, or the guild invite first, on
    /// Discord), made when it is sent, on the platform it is sent on.
    VipWelcome { tier: String },
    /// `/vip`: the viewer's tier, the codes they were sent, and for VIPs the way into the room.
    VipStatus,
    /// `/vippost` for a VIP member who is not in the VIP room.
    VipPost { text: String },
    /// "Is it working for you?" about a delivered order, with 1–5 buttons.
    Checkin { order_id: String },
    /// `/mydata`: everything stored about the viewer, read from the store as it goes out.
    MyData,
    /// `/report`: the broadcast's report as text, with its charts drawn as a picture under
    /// it — both read from the store as it goes out, so words and picture agree. The picture
    /// is made at send time, never stored in the outbox.
    Report { broadcast_id: String },
    /// A community poll in a room, written when it goes out (nothing once it is closed):
    /// Telegram's own poll, elsewhere its question with a vote button per option.
    Poll { poll: i64 },
    /// A closed poll's result: each option with its votes, from every platform together.
    PollResult { poll: i64 },
    /// Close the poll posted in this chat by an earlier message, by that message's idempotency
    /// key (sent first: messages to one chat keep their order).
    ClosePoll { key: String },
}

/// Which message a reply answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReplyTo {
    /// A platform message id, as the platform gave it (a viewer's message in a room).
    Message(String),
    /// An earlier outbox message, by idempotency key (a ticket's card): its platform id is
    /// looked up when this one is sent — it was sent first, as messages to one chat keep order.
    Sent(String),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum TextArg {
    Num(i64),
    Str(String),
}

impl From<&str> for TextArg {
    fn from(s: &str) -> Self {
        TextArg::Str(s.to_string())
    }
}
impl From<String> for TextArg {
    fn from(s: String) -> Self {
        TextArg::Str(s)
    }
}
impl From<i64> for TextArg {
    fn from(n: i64) -> Self {
        TextArg::Num(n)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ButtonSpec {
    /// The locale message id of the label.
    pub label: String,
    pub data: String,
}

/// The 1–5 rating buttons, one row, lowest first; `prefix` says what is rated.
pub fn rating_buttons(prefix: &str) -> Vec<Vec<ButtonSpec>> {
    vec![
        (1..=5)
            .map(|n| ButtonSpec::new(&format!("rating-{n}"), format!("{prefix}:{n}")))
            .collect(),
    ]
}

impl ButtonSpec {
    pub fn new(label: &str, data: impl Into<String>) -> ButtonSpec {
        ButtonSpec {
            label: label.to_string(),
            data: data.into(),
        }
    }
}

impl Payload {
    /// The note's name where a platform knows notes by name (`[kakao.templates]`): `thank-you`,
    /// `order-<status>`. `None` for every other message: those never go by KakaoTalk.
    pub fn note_name(&self) -> Option<String> {
        match self {
            Payload::ThankYou { .. } => Some(alimtalk::THANK_YOU.to_string()),
            Payload::OrderNote { status, .. } => Some(alimtalk::order_note_name(status)),
            _ => None,
        }
    }

    pub fn text(id: &str) -> Payload {
        Payload::Text {
            id: id.to_string(),
            args: BTreeMap::new(),
            buttons: Vec::new(),
            lang: None,
            reply_to: None,
            photo: None,
        }
    }

    pub fn replying_to(mut self, to: ReplyTo) -> Payload {
        if let Payload::Text { reply_to, .. } = &mut self {
            *reply_to = Some(to);
        }
        self
    }

    pub fn with_photo(mut self, file: Option<String>) -> Payload {
        if let Payload::Text { photo, .. } = &mut self {
            *photo = file;
        }
        self
    }

    pub fn arg(mut self, name: &str, value: impl Into<TextArg>) -> Payload {
        if let Payload::Text { args, .. } = &mut self {
            args.insert(name.to_string(), value.into());
        }
        self
    }

    pub fn buttons(mut self, rows: Vec<Vec<ButtonSpec>>) -> Payload {
        if let Payload::Text { buttons, .. } = &mut self {
            *buttons = rows;
        }
        self
    }

    pub fn in_lang(mut self, chosen: Lang) -> Payload {
        if let Payload::Text { lang, .. } = &mut self {
            *lang = Some(chosen);
        }
        self
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Recipient {
    /// A viewer linked to a shop customer: the platform is chosen when the message is sent.
    Customer(String),
    /// A fixed chat: a viewer not linked yet, a room, the staff chat.
    Chat { platform: Platform, chat_id: String },
    /// A thread inside a chat (a ticket in the staff chat): messages keep their order within
    /// the thread, but one thread does not wait for another.
    Thread {
        platform: Platform,
        chat_id: String,
        thread: String,
    },
}

/// A message a flow decided to send.
#[derive(Debug, Clone)]
pub struct Envelope {
    /// The idempotency key: flow, the thing it is about, the customer — never the platform.
    pub key: IdemKey,
    pub to: Recipient,
    /// Who writes it; its kind (transactional or advertising) follows from it.
    pub flow: Flow,
    pub lane: Lane,
    pub payload: Payload,
    pub broadcast_id: Option<String>,
    /// Advertising that must not arrive late (a code that expires, a "live at 8" alert).
    pub expires_at: Option<DateTime<Utc>>,
}

impl Envelope {
    fn into_row(self, now: DateTime<Utc>) -> NewMessage {
        let (recipient, customer_id, target_platform, target_chat) = match self.to {
            Recipient::Customer(id) => (format!("customer:{id}"), Some(id), None, None),
            Recipient::Chat { platform, chat_id } => (
                format!("chat:{platform}:{chat_id}"),
                None,
                Some(platform.to_string()),
                Some(chat_id),
            ),
            Recipient::Thread {
                platform,
                chat_id,
                thread,
            } => (
                format!("chat:{platform}:{chat_id}#{thread}"),
                None,
                Some(platform.to_string()),
                Some(chat_id),
            ),
        };
        NewMessage {
            idem_key: self.key.to_string(),
            recipient,
            customer_id,
            target_platform,
            target_chat,
            flow: self.flow.as_str(),
            kind: self.flow.kind().as_str(),
            lane: self.lane.as_i64(),
            payload: payload_json(&self.payload),
            broadcast_id: self.broadcast_id,
            not_before: now,
            expires_at: self.expires_at,
        }
    }
}

pub fn payload_json(payload: &Payload) -> String {
    // A payload is plain data; serialising it cannot fail.
    serde_json::to_string(payload).unwrap_or_else(|_| "{}".to_string())
}

/// Enqueues unless the key was used before. Returns true when enqueued.
///
/// The send gate's first check (DESIGN invariant 5): advertising to a customer whose latest
/// marketing consent is not yes is recorded as `refused` and never queued. The dispatcher
/// checks again when it sends (consent may be withdrawn meanwhile).
pub async fn enqueue(conn: &mut Conn, envelope: Envelope, now: DateTime<Utc>) -> StoreResult<bool> {
    let refused = match (envelope.flow.kind(), &envelope.to) {
        (MessageKind::Advertising, Recipient::Customer(customer)) => {
            !gate::has_marketing_consent(conn, customer).await?
        }
        _ => false,
    };
    let row = envelope.into_row(now);
    if refused {
        crate::store::outbox::record_refused(conn, &row, now).await?;
        return Ok(false);
    }
    crate::store::outbox::enqueue(conn, &row, now).await
}

/// Enqueues to go no earlier than `not_before` (a welcome waits a moment to gather a burst of
/// joins). Transactional only: advertising has its own timing rules in the gate.
pub async fn enqueue_at(
    conn: &mut Conn,
    envelope: Envelope,
    now: DateTime<Utc>,
    not_before: DateTime<Utc>,
) -> StoreResult<bool> {
    let mut row = envelope.into_row(now);
    row.not_before = not_before;
    crate::store::outbox::enqueue(conn, &row, now).await
}

/// The dispatcher's doorbell, shared by everything in the process that enqueues. It rings the
/// events-out sender too: events for the shop are committed with the messages they go with.
///
/// On PostgreSQL the dispatcher may run in another process (the leader): while this one does
/// not lead — a standby taking events, the CLI — a wake also rings the database's bell
/// (`Store::ring_wake`), which the leader listens to. The dispatcher's look at the store every
/// second remains the fallback.
#[derive(Debug, Clone, Default)]
pub struct Outbox {
    wake: Arc<Notify>,
    events_out: Arc<Notify>,
    /// The store to ring the leader through, and this process's role (absent: this process
    /// dispatches whatever it enqueues, as the demo does).
    elsewhere: Option<(Store, RoleCell)>,
}

impl Outbox {
    pub fn new() -> Outbox {
        Outbox::default()
    }

    /// An outbox that also wakes the leader through `store` while `role` is not the leader.
    pub fn ringing_the_leader(store: Store, role: RoleCell) -> Outbox {
        Outbox {
            elsewhere: Some((store, role)),
            ..Outbox::default()
        }
    }

    /// Call after committing enqueued messages: the dispatcher looks at once, wherever it runs.
    pub async fn wake(&self) {
        self.wake_here();
        if let Some((store, role)) = &self.elsewhere
            && role.get() != Role::Leader
            && let Err(err) = store.ring_wake().await
        {
            // Not fatal: the leader looks at the store every second anyway.
            tracing::warn!(error = %err, "could not ring the leader; it finds the work within a second");
        }
    }

    /// Wakes this process's dispatcher and events-out sender only (what the leader does when
    /// the database's bell rings).
    pub fn wake_here(&self) {
        self.wake.notify_one();
        self.events_out.notify_one();
    }

    /// The events-out sender's doorbell (`crate::events_out`).
    pub fn events_out_bell(&self) -> Arc<Notify> {
        self.events_out.clone()
    }

    pub fn doorbell(&self) -> Arc<Notify> {
        self.wake.clone()
    }
}
