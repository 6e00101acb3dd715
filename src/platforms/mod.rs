//! The edge where encore meets messengers. Each adapter turns platform updates into
//! [`Incoming`] values for the [`Inbox`] it was handed and sends prepared message parts; it never
//! decides what to send. Adapters are leaves: they import neither the router, the wiring nor any
//! flow. Only `telegram.rs` knows teloxide, only `discord.rs` serenity, only `kakao.rs` the
//! KakaoTalk dealer's API.

pub mod discord;
pub mod emulator;
pub mod kakao;
pub mod rights;
pub mod telegram;

use std::collections::BTreeMap;
use std::time::Duration;

use futures::future::BoxFuture;

use crate::domain::Platform;
use crate::i18n::Markup;

/// A message as a flow meant it, in plain text; the adapter escapes and splits it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct OutgoingMessage {
    pub text: String,
    /// Rows of buttons, shown under the last part.
    pub buttons: Vec<Vec<Button>>,
    /// The platform's id of a message in the same chat to answer (a ticket's thread).
    pub reply_to: Option<String>,
    /// A photo to send with the text as its caption (a platform file id or a URL).
    pub photo: Option<String>,
    /// A picture made for this message (the report's charts), uploaded with it and shown
    /// under its text.
    pub attachment: Option<Attachment>,
    /// A poll: sent as a native poll where the platform has them (Telegram); elsewhere the
    /// text and the buttons stand for it.
    pub poll: Option<NativePoll>,
    /// The message as a pre-approved template and its variables, for a platform that carries
    /// nothing else (KakaoTalk 알림톡); the text and buttons are then not sent. Boxed: most
    /// messages have none.
    pub template: Option<Box<TemplateMessage>>,
}

/// A poll as a platform's own poll shows it: the question and the options in order, plain
/// text (no markup), within Telegram's bounds (`domain::polls`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NativePoll {
    pub question: String,
    pub options: Vec<String>,
}

/// A note as a template the platform approved beforehand: encore's name for it (`thank-you`,
/// `order-delayed`; the platform maps it to its own template id) and the value of each of its
/// `#{…}` variables, by the variable's name without `#{}`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TemplateMessage {
    pub name: String,
    pub variables: BTreeMap<String, String>,
}

/// A file uploaded with a message (multipart): a photo on Telegram, an attachment on Discord.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Attachment {
    pub file_name: String,
    pub bytes: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Button {
    pub label: String,
    /// What comes back when pressed (≤ 64 bytes on Telegram).
    pub data: String,
}

/// One platform call's worth of a message: escaped, within the length limit.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Part {
    pub text: String,
    pub buttons: Vec<Vec<Button>>,
    pub reply_to: Option<String>,
    pub photo: Option<String>,
    /// Sent as a part of its own, after the text parts, with no text.
    pub attachment: Option<Attachment>,
    /// On the last text part, with the buttons (see [`OutgoingMessage::poll`]).
    pub poll: Option<NativePoll>,
    /// A template message is always one part of its own.
    pub template: Option<Box<TemplateMessage>>,
}

impl OutgoingMessage {
    /// Escapes and splits for a platform; the buttons go under the last part.
    /// The first part answers `reply_to` and carries the photo; the last text part carries
    /// the buttons; an attachment follows the text on a part of its own, so it is shown under
    /// the words on every platform (a Telegram caption is shown under its photo, not above).
    /// A template message is one part carrying the template only.
    pub fn into_parts(self, markup: Markup) -> Vec<Part> {
        if let Some(template) = self.template {
            return vec![Part {
                template: Some(template),
                ..Part::default()
            }];
        }
        let mut parts: Vec<Part> = crate::i18n::prepare(&self.text, markup)
            .into_iter()
            .map(|text| Part {
                text,
                ..Part::default()
            })
            .collect();
        // A photo whose text will not fit in a caption goes first, on its own.
        let caption_fits = parts.len() <= 1
            && parts
                .first()
                .is_none_or(|p| p.text.encode_utf16().count() <= markup.max_caption_len());
        if self.photo.is_some() && (parts.is_empty() || !caption_fits) {
            parts.insert(0, Part::default());
        }
        if let Some(first) = parts.first_mut() {
            first.reply_to = self.reply_to;
            first.photo = self.photo;
        }
        if let Some(last) = parts.last_mut() {
            last.buttons = self.buttons;
            last.poll = self.poll;
        }
        if let Some(attachment) = self.attachment {
            parts.push(Part {
                attachment: Some(attachment),
                ..Part::default()
            });
        }
        parts
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivered {
    pub message_id: String,
    /// The platform said this chat's bucket is empty for this long (Discord's
    /// `X-RateLimit-Remaining: 0` with `X-RateLimit-Reset-After`).
    pub slow_down: Option<Duration>,
    /// The platform's id of the native poll this part started (Telegram's `poll.id`, which
    /// the poll's answers name).
    pub poll_id: Option<String>,
}

/// How a send failed, in the terms the dispatcher acts on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    #[error("rate limited: retry after {0:?}")]
    RetryAfter(Duration),
    #[error("the viewer blocked the bot")]
    Blocked,
    /// The chat moved (a Telegram group upgraded to a supergroup): send there instead.
    #[error("the chat moved to {0}")]
    Moved(String),
    /// Not now, later (Discord's 40003): no attempt used up, the platform not paused.
    #[error("try again in {0:?}")]
    Later(Duration),
    #[error("temporary failure: {0}")]
    Transient(String),
    /// The request was written but no answer came (a timeout or a reset while waiting): the
    /// platform may or may not have acted on it. Retrying blindly could send it twice.
    #[error("outcome unknown: {0}")]
    Unknown(String),
    #[error("refused: {0}")]
    Permanent(String),
}

impl SendError {
    /// A request that got no answer: a connection that never opened carried nothing, so it is
    /// safe to try again; anything after (a time-out, a reset while waiting) may have reached
    /// the platform.
    pub fn unanswered(err: &reqwest::Error) -> SendError {
        let what = network_error_without_url(err);
        if err.is_connect() {
            SendError::Transient(format!("network: {what}"))
        } else {
            SendError::Unknown(format!("network: {what}"))
        }
    }
}

/// A network error's words without its URL: a URL can hold a credential (Discord's interaction
/// token is a path segment), and these words go into logs and `last_error`.
fn network_error_without_url(err: &reqwest::Error) -> String {
    let kind = if err.is_timeout() {
        "timed out"
    } else if err.is_connect() {
        "could not connect"
    } else if err.is_body() {
        "the body failed"
    } else if err.is_decode() {
        "the answer could not be read"
    } else {
        "the request failed"
    };
    let mut words = kind.to_string();
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        words.push_str(": ");
        words.push_str(&cause.to_string());
        source = cause.source();
    }
    words
}

/// A platform's published limits, as the dispatcher paces them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PlatformLimits {
    pub per_second: u32,
    pub per_chat_interval: Duration,
    pub per_group_interval: Duration,
}

/// Something done to a chat or a member rather than said (community rooms, the VIP room).
/// Actions travel through the outbox like messages, so they are durable, paced and retried.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum ChatAction {
    /// Stop a member writing until `until` (Telegram `restrictChatMember`; Discord timeout:
    /// `PATCH /guilds/{guild}/members/{user}` with `communication_disabled_until`, where the
    /// chat id is the guild's).
    Mute {
        user_id: String,
        until: chrono::DateTime<chrono::Utc>,
    },
    /// Lift a mute (Telegram: the group's default permissions back; Discord: timeout null).
    Unmute {
        user_id: String,
    },
    /// Remove a member's message.
    Delete {
        message_id: String,
    },
    /// Pin one of our messages, without a notification.
    Pin {
        message_id: String,
    },
    /// A link that lets one person ask to join: Telegram `createChatInviteLink` with
    /// `creates_join_request` and `name`; Discord: a one-use guild invite made on this channel
    /// (`POST /channels/{id}/invites`). Answers [`ActionDone::Link`].
    CreateJoinLink {
        name: String,
    },
    /// Telegram join requests to the VIP room.
    ApproveJoin {
        user_id: String,
    },
    DeclineJoin {
        user_id: String,
    },
    /// Discord: give a member a role; the chat id is the guild's.
    GrantRole {
        user_id: String,
        role_id: String,
    },
    /// Is this user a member of the chat (Telegram `getChatMember`: member, administrator,
    /// creator or restricted-but-member) or the guild (Discord `GET /guilds/{g}/members/{u}`)?
    /// Answers [`ActionDone::Member`].
    IsMember {
        user_id: String,
    },
    /// Close one of our polls: Telegram `stopPoll`; Discord: its vote buttons taken away
    /// (`PATCH /channels/{c}/messages/{m}` with no components). Closing a closed poll is done.
    ClosePoll {
        message_id: String,
    },
}

/// What an action gave back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActionDone {
    Done,
    Link(String),
    Member(bool),
}

/// How a platform finds a customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// Through the messenger account the customer linked (Telegram, Discord, the emulator).
    LinkedAccount,
    /// Through the customer's phone number, by a dealer (KakaoTalk 알림톡): one way, in
    /// approved templates only, so only for the transactional notes it carries
    /// ([`Messenger::carries`]) and only to a customer with no reachable linked account.
    PhoneNumber,
}

pub trait Messenger: Send + Sync {
    fn platform(&self) -> Platform;
    fn markup(&self) -> Markup;
    fn limits(&self) -> PlatformLimits;
    fn reach(&self) -> Reach {
        Reach::LinkedAccount
    }
    /// Whether the platform can carry the note named `note` (`thank-you`, `order-delayed`): one
    /// that sends approved templates only says no to a note without a template.
    fn carries(&self, note: &str) -> bool {
        let _ = note;
        true
    }
    /// Group chats have their own, slower budget.
    fn is_group(&self, chat_id: &str) -> bool;
    fn send_part<'a>(
        &'a self,
        chat_id: &'a str,
        part: &'a Part,
    ) -> BoxFuture<'a, Result<Delivered, SendError>>;
    /// Does something to a chat or member. Platforms without the action refuse it.
    fn act<'a>(
        &'a self,
        chat_id: &'a str,
        action: &'a ChatAction,
    ) -> BoxFuture<'a, Result<ActionDone, SendError>> {
        let _ = chat_id;
        Box::pin(async move {
            Err(SendError::Permanent(format!(
                "{} cannot do `{action:?}`",
                self.platform()
            )))
        })
    }
}

/// Where an adapter hands what arrives: the router, given to each adapter when it starts. The
/// adapter knows nothing of what happens next, which keeps it a leaf.
pub trait Inbox: Send + Sync {
    /// Handles one update durably. An error means nothing was stored: the adapter may offer the
    /// same update again (a handled update offered again changes nothing).
    fn handle<'a>(&'a self, incoming: &'a Incoming) -> BoxFuture<'a, Result<(), InboxError>>;
    /// The adapter learned the bot's own username (Telegram: for `t.me` links).
    fn bot_username_known(&self, platform: Platform, username: &str);
}

/// An update the inbox could not store (a busy or broken database), in words for the log.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the update could not be stored: {0}")]
pub struct InboxError(pub String);

/// What a viewer or staff member did, as the router sees it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Incoming {
    pub platform: Platform,
    /// The platform's id for this update: processed ids are stored, so a re-delivery does nothing.
    pub update_id: String,
    pub chat_id: String,
    pub chat_is_private: bool,
    pub user_id: String,
    pub user_name: Option<String>,
    pub user_lang: Option<String>,
    /// Telegram: an anonymous group admin posting as the group itself.
    pub sent_as_chat: bool,
    /// The sender administers this group (Telegram: creator or administrator, from a cached
    /// `getChatAdministrators`; Discord: the guild owner or a member of a role with the
    /// ADMINISTRATOR or MODERATE_MEMBERS permission, when known). Such members are never
    /// moderated.
    pub from_admin: bool,
    /// The platform's id of this message (to answer it in a room).
    pub message_id: Option<String>,
    /// The platform's id of the message this one answers (a reply in a ticket's thread).
    pub reply_to: Option<String>,
    /// Where an answer only this person sees goes, when the platform has such a place
    /// (Discord: the button's interaction, answered with an ephemeral follow-up): a chat id for
    /// [`Messenger::send_part`] like any other, made and understood by the adapter alone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub private_reply_to: Option<String>,
    pub content: IncomingContent,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum IncomingContent {
    Text(String),
    /// A photo (a platform file id or URL) with its caption, possibly empty.
    Photo {
        file: String,
        caption: String,
    },
    Button {
        data: String,
    },
    /// The group was upgraded and lives on under this id now.
    ChatMoved {
        to: String,
    },
    /// People joined the chat (Telegram: a `chat_member` update from left/kicked to member, or
    /// a `new_chat_members` service message — the same person may arrive both ways; Discord:
    /// `GUILD_MEMBER_ADD`, with the guild's id as `chat_id`). Bots are left out.
    /// `user_id`/`user_name` of the [`Incoming`] are of whoever caused the update.
    MembersJoined {
        members: Vec<Member>,
    },
    /// Telegram: the user (`Incoming::user_id`) asks to join through an invite link.
    JoinRequest {
        invite_link: Option<String>,
    },
    /// Telegram: the user (`Incoming::user_id`) answered one of our native polls (a
    /// `poll_answer`); no options is a vote taken back. `Incoming::chat_id` is the user's, as
    /// Telegram does not say in which chat the poll was.
    PollAnswer {
        poll_id: String,
        options: Vec<u32>,
    },
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Member {
    pub user_id: String,
    pub name: String,
    pub lang: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_network_error_never_repeats_the_url_and_its_token() {
        // A port nothing listens on: the connection is refused.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
        let port = listener.local_addr().expect("an address").port();
        drop(listener);
        let url = format!("http://127.0.0.1:{port}/webhooks/1/SECRET-INTERACTION-TOKEN");
        let err = reqwest::Client::new()
            .post(&url)
            .send()
            .await
            .expect_err("nothing listens");
        assert!(err.to_string().contains("SECRET"), "reqwest names the URL");
        let text = match SendError::unanswered(&err) {
            SendError::Transient(text) | SendError::Unknown(text) => text,
            other => panic!("{other:?}"),
        };
        assert!(!text.contains("SECRET"), "{text}");
        assert!(text.starts_with("network: could not connect"), "{text}");
    }

    #[test]
    fn a_long_text_with_a_photo_sends_the_photo_first_on_its_own() {
        let message = OutgoingMessage {
            text: "가".repeat(2000),
            photo: Some("file-1".into()),
            reply_to: Some("7".into()),
            ..OutgoingMessage::default()
        };
        let parts = message.into_parts(Markup::TelegramHtml);
        assert_eq!(parts.len(), 2);
        assert_eq!(
            (parts[0].photo.as_deref(), parts[0].text.as_str()),
            (Some("file-1"), "")
        );
        assert_eq!(parts[0].reply_to.as_deref(), Some("7"));
        assert_eq!(parts[1].photo, None);
    }

    #[test]
    fn a_short_caption_rides_with_its_photo() {
        let message = OutgoingMessage {
            text: "올이 풀렸어요".into(),
            photo: Some("file-1".into()),
            ..OutgoingMessage::default()
        };
        let parts = message.into_parts(Markup::TelegramHtml);
        assert_eq!(parts.len(), 1);
        assert_eq!(parts[0].text, "올이 풀렸어요");
    }

    #[test]
    fn an_attachment_comes_under_the_text_and_the_buttons_stay_on_the_words() {
        let chart = Attachment {
            file_name: "report.png".into(),
            bytes: vec![1, 2, 3],
        };
        let message = OutgoingMessage {
            text: "📊 리포트".into(),
            buttons: vec![vec![Button {
                label: "5".into(),
                data: "x".into(),
            }]],
            attachment: Some(chart.clone()),
            ..OutgoingMessage::default()
        };
        let parts = message.into_parts(Markup::DiscordMarkdown);
        assert_eq!(parts.len(), 2);
        assert_eq!(
            (parts[0].text.as_str(), parts[0].buttons.len()),
            ("📊 리포트", 1)
        );
        assert_eq!(parts[0].attachment, None);
        assert_eq!(
            (parts[1].text.as_str(), parts[1].attachment.as_ref()),
            ("", Some(&chart))
        );
    }
}
