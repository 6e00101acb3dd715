//! A local stand-in for the Telegram Bot API, for tests that must not reach the internet.
//!
//! [`FakeTelegram::start`] serves the Bot API over real HTTP on `127.0.0.1` (a free port), so
//! the real teloxide `Bot` can be pointed at it with `Bot::new(TOKEN).set_api_url(url)`.
//! It behaves like Telegram where it matters to the bot:
//!
//! * the published rate limits are enforced on the sending methods (`sendMessage`,
//!   `sendPhoto`, `sendPoll`, `editMessageText`, `editMessageReplyMarkup`): 30 per second per bot,
//!   1 per second per private chat, 20 per minute per group; a request over any of them is
//!   refused with 429 and `retry_after`, and counted in [`FakeTelegram::violations`]. A bot
//!   may be given a higher limit for the bot (paid broadcasts, up to 1000 a second): then a
//!   request beyond the free 30 in its second must carry `allow_paid_broadcast: true`, or it is
//!   refused the same way ([`FakeTelegramOptions::free_limit`]);
//! * a user who blocked the bot gets 403 `Forbidden: bot was blocked by the user`;
//! * HTML is parsed like Telegram does (an unknown or unbalanced tag is a 400
//!   `can't parse entities`), texts over 4096 characters are refused, an edit that changes
//!   nothing is refused with `message is not modified`;
//! * `getUpdates` long-polls, honours `offset`, `limit`, `timeout` and `allowed_updates`, and
//!   answers 409 to an older poll when a second poller takes over; as on Telegram,
//!   `chat_member` (and reaction) updates are only delivered when `allowed_updates` names
//!   them, every other kind (`chat_join_request` included) also when it is left empty;
//!   calls are counted ([`FakeTelegram::get_updates_calls`]);
//! * `setWebhook`, `deleteWebhook` and `getWebhookInfo` keep a webhook as Telegram does (every
//!   call recorded: [`FakeTelegram::webhook`], [`FakeTelegram::webhook_calls`]); while one is
//!   set, `getUpdates` answers 409 `can't use getUpdates method while webhook is active`.
//!   Updates go to the webhook only when a test says so ([`FakeTelegram::deliver_to_webhook`]:
//!   an HTTP POST of each pending update's JSON to the URL with
//!   `X-Telegram-Bot-Api-Secret-Token`, confirmed by a 2xx answer, as Telegram delivers them;
//!   [`FakeTelegram::post_to_webhook`] posts one update again). Unlike Telegram, an `http://`
//!   URL is accepted for `127.0.0.1` and `localhost`, so a test needs no certificate;
//! * every message sent is kept and can be read back ([`FakeTelegram::sent`]);
//! * `sendPoll` answers a `Message` with a `poll` object (a fresh poll `id`; anonymous unless
//!   `is_anonymous: false`, as on Telegram), kept in [`FakeTelegram::polls`]; `stopPoll` closes
//!   one of the bot's polls (400 `poll has already been closed` the second time) and, like the
//!   community-room methods below, counts against no rate limit. A test answers a poll with
//!   [`FakeTelegram::push_poll_answer`], which Telegram sends only for a non-anonymous, open
//!   poll, and only to a bot whose `allowed_updates` is empty or names `poll_answer`;
//! * the community-room methods (`restrictChatMember`, `deleteMessage`, `pinChatMessage`,
//!   `unpinChatMessage`, `createChatInviteLink`, `approveChatJoinRequest`,
//!   `declineChatJoinRequest`, `getChatAdministrators`, `getChatMember`) are answered and
//!   what they change is recorded ([`FakeTelegram::restrictions`], [`FakeTelegram::deleted_messages`],
//!   [`FakeTelegram::pins`], [`FakeTelegram::invite_links`],
//!   [`FakeTelegram::join_request_decisions`]). They do not send messages, so they count
//!   against none of the rate limits (Telegram's 30/s, 1/s and 20/min are message limits)
//!   and scripted faults do not hit them. In a group they need the bot to be an
//!   administrator (the default; see [`FakeTelegram::set_chat_member_status`] with
//!   [`FakeTelegram::bot_user_id`]), and `restrictChatMember` works in supergroups only;
//! * after [`FakeTelegram::push_group_migrated`], every request naming the old group answers
//!   400 `group chat was upgraded to a supergroup chat` with `parameters.migrate_to_chat_id`
//!   (teloxide: `RequestError::MigrateToChatId`).
//!
//! The windows count exactly, with no allowance for jitter: a request is counted at the instant
//! the stand-in handles it, and no window of length W (`(now − W, now]`) may hold more than the
//! limit, however close to the edge the requests fall.
//!
//! What the windows count: every well-formed sending request that got past the scripted
//! faults and was not refused with 429 — so a 403 to a blocked user or a 400 for bad HTML
//! still uses up a place (so does a send to a migrated group), a scripted fault or a refused
//! request does not.
//!
//! Tests inject updates (`push_*`), script faults ([`FakeTelegram::fail_next`],
//! [`FakeTelegram::fail_for`], [`FakeTelegram::block_user`]) and inspect what happened.
//! The server stops when the [`FakeTelegram`] is dropped or [`FakeTelegram::shutdown`] is
//! awaited.
#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::extract::{Query, Request, State};
use axum::http::{StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};
use tokio::sync::{Notify, oneshot};
use tokio::task::JoinHandle;

/// The bot token the stand-in accepts by default; any other token gets 401 `Unauthorized`.
pub const TOKEN: &str = "123456:TEST-TOKEN";
/// The bot's username by default (as `getMe` reports it).
pub const BOT_USERNAME: &str = "encore_test_bot";
/// Telegram's `GroupAnonymousBot`, the `from` of messages by anonymous group administrators.
pub const GROUP_ANONYMOUS_BOT_ID: i64 = 1_087_968_824;

/// `from` of a migration message when no creator of the group is known.
pub const MIGRATING_OWNER_ID: i64 = 1_000_001;

/// Largest request body accepted (photo uploads included).
const MAX_BODY_BYTES: usize = 20 * 1024 * 1024;
/// Telegram's limit for a message text, in characters after entity parsing.
const MAX_TEXT_CHARS: usize = 4096;
/// Telegram's limit for a caption, in characters after entity parsing.
const MAX_CAPTION_CHARS: usize = 1024;
/// Supergroup ids are `-100` followed by the channel id; anything above is a basic group.
const SUPERGROUP_ID_BELOW: i64 = -1_000_000_000_000;
/// How often [`FakeTelegram::wait_until`] re-checks its condition even without a wake-up.
const WAIT_POLL: Duration = Duration::from_millis(20);

/// `description` of the 400 that answers an edit which changes nothing (teloxide:
/// `ApiError::MessageNotModified`, which matches this exact text).
const NOT_MODIFIED: &str = "Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message";
/// `description` of the 409 that ends a poll superseded by a newer `getUpdates`.
const CONFLICT: &str = "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running";
/// Telegram's answer to `getUpdates` while a webhook is set.
const WEBHOOK_ACTIVE: &str = "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first";
/// The header a webhook delivery carries `secret_token` in.
pub const SECRET_TOKEN_HEADER: &str = "X-Telegram-Bot-Api-Secret-Token";
/// Telegram's longest webhook `secret_token`.
const MAX_SECRET_TOKEN_CHARS: usize = 256;
/// `description` of the 400 for a request naming a group that became a supergroup.
const MIGRATED: &str = "Bad Request: group chat was upgraded to a supergroup chat";
/// `description` of the 400 for approving or declining a join request that does not exist.
const NO_JOIN_REQUEST: &str = "Bad Request: HIDE_REQUESTER_MISSING";
/// Longest invite link name Telegram accepts, in characters.
const MAX_LINK_NAME_CHARS: usize = 32;
/// Permission fields of a `ChatPermissions` object (and of a restricted `ChatMember`).
const PERMISSIONS: [&str; 14] = [
    "can_send_messages",
    "can_send_audios",
    "can_send_documents",
    "can_send_photos",
    "can_send_videos",
    "can_send_video_notes",
    "can_send_voice_notes",
    "can_send_polls",
    "can_send_other_messages",
    "can_add_web_page_previews",
    "can_change_info",
    "can_invite_users",
    "can_pin_messages",
    "can_manage_topics",
];
/// `description` of the 400 for an unknown or already answered callback query.
const INVALID_QUERY: &str =
    "Bad Request: query is too old and response timeout expired or query id is invalid";

/// A Telegram user as tests describe one: the sender of pushed messages and callbacks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TgUser {
    /// Telegram user id (positive; also the id of the private chat with the bot).
    pub id: i64,
    /// First name as Telegram shows it.
    pub first_name: String,
    /// `@username` without the `@`, if the user has one.
    pub username: Option<String>,
    /// IETF language tag of the user's Telegram client, e.g. `"ko"`.
    pub language_code: Option<String>,
    /// A bot account (`is_bot`), e.g. another bot added to a group.
    pub is_bot: bool,
}

impl TgUser {
    /// A user with an id and a first name, no username, no language.
    pub fn new(id: i64, first_name: impl Into<String>) -> Self {
        Self {
            id,
            first_name: first_name.into(),
            username: None,
            language_code: None,
            is_bot: false,
        }
    }

    /// The same user with a username (without `@`).
    pub fn with_username(mut self, username: impl Into<String>) -> Self {
        self.username = Some(username.into());
        self
    }

    /// The same user with a client language, e.g. `"ko"` or `"en"`.
    pub fn with_language(mut self, language_code: impl Into<String>) -> Self {
        self.language_code = Some(language_code.into());
        self
    }

    /// The user as a Bot API `User` object.
    /// The same user as a bot account.
    pub fn bot_account(mut self) -> Self {
        self.is_bot = true;
        self
    }

    fn to_json(&self) -> Value {
        let mut user =
            json!({ "id": self.id, "is_bot": self.is_bot, "first_name": self.first_name });
        if let Some(username) = &self.username {
            user["username"] = json!(username);
        }
        if let Some(language) = &self.language_code {
            user["language_code"] = json!(language);
        }
        user
    }
}

/// A message the bot delivered (or, in [`FakeTelegram::edits`], an edit it made).
#[derive(Clone, Debug, PartialEq)]
pub struct SentMessage {
    /// Id of the message in its chat (for an edit: the edited message).
    pub message_id: i32,
    /// Chat the message went to (0 for an edit of an inline message).
    pub chat_id: i64,
    /// The text (or a photo's caption) exactly as the bot sent it, markup included;
    /// for `editMessageReplyMarkup`, the message's current text.
    pub text: String,
    /// `parse_mode` as sent (`"HTML"`, `"MarkdownV2"`, ...).
    pub parse_mode: Option<String>,
    /// `reply_markup` as sent (an inline keyboard, a reply keyboard, ...).
    pub reply_markup: Option<Value>,
    /// The message replied to, from `reply_parameters.message_id` or `reply_to_message_id`.
    pub reply_to_message_id: Option<i32>,
    /// Forum topic the message was sent to.
    pub message_thread_id: Option<i32>,
    /// The photo of a `sendPhoto`: the `file_id` or URL sent, or `upload:<file name>`.
    pub photo: Option<String>,
    /// Sent with `allow_paid_broadcast: true`.
    pub paid_broadcast: bool,
    /// The bytes of a photo uploaded with `sendPhoto` (multipart), as received.
    pub photo_bytes: Option<Vec<u8>>,
    /// Bot API method that produced it (`sendMessage`, `sendPhoto`, `editMessageText`, ...).
    pub method: String,
    /// When the request arrived.
    pub at: Instant,
}

/// One request the stand-in answered, whatever the outcome.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestLogEntry {
    /// Bot API method as named in the URL (canonical spelling for known methods).
    pub method: String,
    /// `chat_id` of the request, if it had a numeric one.
    pub chat_id: Option<i64>,
    /// HTTP status answered (200, 400, 403, 429, 500, ...).
    pub status: u16,
    /// When the request arrived.
    pub at: Instant,
    /// `parameters.retry_after` of a 429.
    pub retry_after: Option<u32>,
}

/// A failure a test scripts for sending requests ([`FakeTelegram::fail_next`],
/// [`FakeTelegram::fail_for`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// 429 `Too Many Requests: retry after N` with `parameters.retry_after = N`; counted in
    /// [`FakeTelegram::scripted_faults`], not in [`FakeTelegram::violations`].
    TooManyRequests {
        /// Seconds the client is told to wait.
        retry_after: u32,
    },
    /// 500 `{"ok":false,"error_code":500,"description":"Internal Server Error"}`.
    /// Note that teloxide sleeps 10 s on any 5xx before it returns the error.
    ServerError,
}

/// A native poll the bot sent with `sendPoll` ([`FakeTelegram::polls`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SentPoll {
    /// The chat it went to.
    pub chat_id: i64,
    /// The message that carries it.
    pub message_id: i32,
    /// The poll's id, which its `poll_answer` updates name.
    pub poll_id: String,
    /// `question` as sent.
    pub question: String,
    /// The options' texts, in order.
    pub options: Vec<String>,
    /// As Telegram applies it: true unless the bot sent `is_anonymous: false`.
    pub is_anonymous: bool,
    /// `allows_multiple_answers` as sent (false if absent).
    pub allows_multiple_answers: bool,
    /// Stopped with `stopPoll`.
    pub closed: bool,
}

/// What `getChatMember` answers for a (chat, user); administrator unless set otherwise
/// with [`FakeTelegram::set_chat_member_status`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MemberStatus {
    /// `creator` (teloxide: `ChatMemberKind::Owner`).
    Creator,
    /// `administrator` with the usual rights.
    Administrator,
    /// `member`.
    Member,
    /// `left`.
    Left,
    /// `kicked` (teloxide: `ChatMemberKind::Banned`), forever.
    Kicked,
}

/// A `restrictChatMember` call the stand-in accepted ([`FakeTelegram::restrictions`]).
#[derive(Clone, Debug, PartialEq)]
pub struct Restriction {
    /// The supergroup.
    pub chat_id: i64,
    /// The member restricted.
    pub user_id: i64,
    /// `permissions` as sent (a `ChatPermissions` object; teloxide omits the `false` fields).
    pub permissions: Value,
    /// `until_date` as sent (unix time; 0 or absent means forever).
    pub until_date: Option<i64>,
    /// When the request arrived.
    pub at: Instant,
}

impl Restriction {
    /// Whether `permissions` lets the member send text messages (false = muted).
    pub fn can_send_messages(&self) -> bool {
        self.permissions
            .get("can_send_messages")
            .and_then(Value::as_bool)
            .unwrap_or(false)
    }
}

/// A `pinChatMessage` or `unpinChatMessage` call the stand-in accepted ([`FakeTelegram::pins`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pin {
    /// The chat.
    pub chat_id: i64,
    /// The message pinned or unpinned; `None` for an unpin without `message_id` (the most
    /// recent pin).
    pub message_id: Option<i32>,
    /// True for `pinChatMessage`, false for `unpinChatMessage`.
    pub pinned: bool,
    /// `disable_notification` as sent (false if absent).
    pub disable_notification: bool,
    /// When the request arrived.
    pub at: Instant,
}

/// An invite link the bot created with `createChatInviteLink` ([`FakeTelegram::invite_links`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InviteLink {
    /// The chat the link leads to.
    pub chat_id: i64,
    /// The link, unique, like `https://t.me/+AbC123dEf456GhI7`.
    pub invite_link: String,
    /// `name` as sent.
    pub name: Option<String>,
    /// `creates_join_request` as sent (false if absent).
    pub creates_join_request: bool,
    /// `member_limit` as sent.
    pub member_limit: Option<u32>,
    /// `expire_date` as sent (unix time).
    pub expire_date: Option<i64>,
    /// When the request arrived.
    pub at: Instant,
}

/// A webhook as a `setWebhook` call set it ([`FakeTelegram::webhook`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Webhook {
    /// `url` as sent.
    pub url: String,
    /// `secret_token` as sent: Telegram sends it back in `X-Telegram-Bot-Api-Secret-Token`.
    pub secret_token: Option<String>,
    /// `allowed_updates` as sent (`None` if absent: the previous setting stays).
    pub allowed_updates: Option<Vec<String>>,
    /// `drop_pending_updates` as sent (false if absent).
    pub drop_pending_updates: bool,
}

/// A sliding-window rate limit: at most `max` requests per `per`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateLimit {
    /// Requests allowed in one window.
    pub max: usize,
    /// Length of the window.
    pub per: Duration,
}

/// How a [`FakeTelegram`] is set up; `Default` is Telegram's published behaviour.
#[derive(Clone, Debug)]
pub struct FakeTelegramOptions {
    /// Token the bot must use; the number before `:` is the bot's user id.
    pub token: String,
    /// The bot's username, as `getMe` reports it.
    pub bot_username: String,
    /// The bot's display name.
    pub bot_first_name: String,
    /// Limit over all sending requests of the bot; `None` disables it.
    pub global_limit: Option<RateLimit>,
    /// Telegram's free limit for the bot, in the global limit's window: a request that finds
    /// this many already in the window must carry `allow_paid_broadcast: true` (Telegram's
    /// paid broadcasts), else it is a violation. Matters only with a `global_limit` above it.
    pub free_limit: Option<usize>,
    /// Limit per private chat (positive chat id); `None` disables it.
    pub private_chat_limit: Option<RateLimit>,
    /// Limit per group, supergroup or channel (negative chat id); `None` disables it.
    pub group_chat_limit: Option<RateLimit>,
    /// `update_id` of the first pushed update.
    pub first_update_id: u32,
}

impl Default for FakeTelegramOptions {
    fn default() -> Self {
        Self {
            token: TOKEN.to_owned(),
            bot_username: BOT_USERNAME.to_owned(),
            bot_first_name: "Encore Test Bot".to_owned(),
            global_limit: Some(RateLimit {
                max: 30,
                per: Duration::from_secs(1),
            }),
            free_limit: Some(30),
            private_chat_limit: Some(RateLimit {
                max: 1,
                per: Duration::from_secs(1),
            }),
            group_chat_limit: Some(RateLimit {
                max: 20,
                per: Duration::from_secs(60),
            }),
            first_update_id: 10_001,
        }
    }
}

/// The running stand-in. Not `Clone`: share it with `Arc` if several tasks need it; the
/// server stops when it is dropped. The server runs on the test's tokio runtime, so a test
/// must wait with `tokio::time::sleep`, never `std::thread::sleep`, or it stalls the server.
pub struct FakeTelegram {
    shared: Arc<Shared>,
    addr: SocketAddr,
    stop: Mutex<Option<oneshot::Sender<()>>>,
    server: Mutex<Option<JoinHandle<()>>>,
}

impl FakeTelegram {
    /// Starts a stand-in with [`FakeTelegramOptions::default`] on `127.0.0.1`, a free port.
    ///
    /// # Panics
    /// If no local port can be bound.
    pub async fn start() -> FakeTelegram {
        Self::start_with(FakeTelegramOptions::default()).await
    }

    /// Starts a stand-in with the given options.
    ///
    /// # Panics
    /// If no local port can be bound.
    pub async fn start_with(options: FakeTelegramOptions) -> FakeTelegram {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
            .await
            .expect("fake Telegram: bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("fake Telegram: local address");
        let shared = Arc::new(Shared {
            state: Mutex::new(ServerState::new(&options)),
            changed: Notify::new(),
            options,
        });
        let router = Router::new()
            .fallback(handle)
            .with_state(Arc::clone(&shared));
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, router)
                .with_graceful_shutdown(async move {
                    let _ = stop_rx.await;
                })
                .await;
        });
        FakeTelegram {
            shared,
            addr,
            stop: Mutex::new(Some(stop_tx)),
            server: Mutex::new(Some(server)),
        }
    }

    /// Base URL for teloxide's `Bot::set_api_url`, e.g. `http://127.0.0.1:41234` (no trailing
    /// slash; teloxide appends `/bot<token>/<method>` as path segments, so a trailing slash
    /// on a bare host makes no difference, but on a URL with a path it would double it).
    pub fn api_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The token the stand-in accepts.
    pub fn token(&self) -> String {
        self.shared.options.token.clone()
    }

    /// The bot's user id (the number before `:` in the token).
    pub fn bot_user_id(&self) -> i64 {
        bot_id_from_token(&self.shared.options.token)
    }

    /// The bot's username, without `@`.
    pub fn bot_username(&self) -> String {
        self.shared.options.bot_username.clone()
    }

    /// Every message delivered, in arrival order (edits are in [`Self::edits`]).
    pub fn sent(&self) -> Vec<SentMessage> {
        self.shared.lock().sent.clone()
    }

    /// The messages delivered to one chat, in arrival order.
    pub fn sent_to(&self, chat_id: i64) -> Vec<SentMessage> {
        self.shared
            .lock()
            .sent
            .iter()
            .filter(|m| m.chat_id == chat_id)
            .cloned()
            .collect()
    }

    /// Every successful `editMessageText` / `editMessageReplyMarkup`, in arrival order.
    pub fn edits(&self) -> Vec<SentMessage> {
        self.shared.lock().edits.clone()
    }

    /// The current state of a message as Telegram would return it (a bot's message after
    /// its edits, or a pushed one), as a Bot API `Message` object.
    pub fn message(&self, chat_id: i64, message_id: i32) -> Option<Value> {
        self.shared
            .lock()
            .messages
            .get(&(chat_id, message_id))
            .map(|m| m.json.clone())
    }

    /// Requests refused with 429 because they broke a published limit.
    pub fn violations(&self) -> usize {
        self.shared.lock().violations
    }

    /// This test breaks a published limit on purpose. Without it, a stand-in that answered a
    /// 429 for a broken limit fails the test when it is dropped: a 429 is a defect (DESIGN
    /// invariant 3), whether or not the test looked.
    pub fn allow_violations(&self) {
        self.shared.lock().violations_allowed = true;
    }

    /// Requests answered with a scripted fault ([`Self::fail_next`], [`Self::fail_for`]).
    pub fn scripted_faults(&self) -> usize {
        self.shared.lock().scripted_faults
    }

    /// `getUpdates` calls ended with 409 because another `getUpdates` arrived meanwhile
    /// (two pollers on one token).
    pub fn get_updates_conflicts(&self) -> usize {
        self.shared.lock().conflicts
    }

    /// `getUpdates` calls received, whatever their answer.
    pub fn get_updates_calls(&self) -> usize {
        self.shared.lock().get_updates_calls
    }

    /// The webhook set now (`None` after `deleteWebhook`, or if none was ever set).
    pub fn webhook(&self) -> Option<Webhook> {
        self.shared.lock().webhook.clone()
    }

    /// Every successful `setWebhook` call, in order.
    pub fn webhook_calls(&self) -> Vec<Webhook> {
        self.shared.lock().webhook_calls.clone()
    }

    /// Successful `deleteWebhook` calls.
    pub fn delete_webhook_calls(&self) -> usize {
        self.shared.lock().delete_webhook_calls
    }

    /// The JSON of every update ever pushed, in order (to post one again).
    pub fn updates(&self) -> Vec<Value> {
        self.shared
            .lock()
            .all_updates
            .iter()
            .map(|u| u.body.clone())
            .collect()
    }

    /// Delivers every pending update to the webhook as Telegram does: in order, each an HTTP
    /// POST of the update's JSON with `X-Telegram-Bot-Api-Secret-Token` (when a secret token
    /// was set). An update answered with a 2xx is confirmed; at the first other answer the
    /// rest stay pending (Telegram tries again later). Returns the statuses, in order.
    ///
    /// # Panics
    /// If no webhook is set, or the webhook does not answer at all.
    pub async fn deliver_to_webhook(&self) -> Vec<u16> {
        let pending: Vec<(u32, Value)> = {
            let mut state = self.shared.lock();
            state.collect_updates(usize::MAX);
            state
                .pending
                .iter()
                .map(|u| (u.id, u.body.clone()))
                .collect()
        };
        let mut statuses = Vec::new();
        for (id, body) in pending {
            let status = self.post_to_webhook(&body).await;
            statuses.push(status);
            if !(200..300).contains(&status) {
                break;
            }
            self.shared.lock().pending.retain(|u| u.id != id);
            self.shared.changed.notify_waiters();
        }
        statuses
    }

    /// Posts `update` to the webhook as Telegram would (a re-delivery, or an update a test
    /// made by hand) and returns the HTTP status; pending updates are left as they are.
    ///
    /// # Panics
    /// If no webhook is set, or the webhook does not answer at all.
    pub async fn post_to_webhook(&self, update: &Value) -> u16 {
        let webhook = self.webhook().expect("a webhook is set (setWebhook)");
        let mut request = reqwest::Client::new()
            .post(&webhook.url)
            .header(header::CONTENT_TYPE, "application/json")
            .body(update.to_string());
        if let Some(token) = &webhook.secret_token {
            request = request.header(SECRET_TOKEN_HEADER, token);
        }
        let response = request.send().await.expect("the webhook answers");
        response.status().as_u16()
    }

    /// Every request answered, in the order they were answered (a long poll is logged when
    /// it returns), with the time each arrived.
    pub fn requests(&self) -> Vec<RequestLogEntry> {
        self.shared.lock().requests.clone()
    }

    /// Callback queries answered: (callback id, text shown to the user).
    pub fn answered_callbacks(&self) -> Vec<(String, Option<String>)> {
        self.shared.lock().answered_callbacks.clone()
    }

    /// Parameters of every successful `setMyCommands` call (`commands`, `scope`,
    /// `language_code`), in order.
    pub fn commands_set(&self) -> Vec<Value> {
        self.shared.lock().commands_set.clone()
    }

    /// Waits until at least `n` messages were delivered; false if `timeout` passed first.
    pub async fn wait_for_sent(&self, n: usize, timeout: Duration) -> bool {
        self.wait_until(timeout, |tg| tg.shared.lock().sent.len() >= n)
            .await
    }

    /// Waits until `condition` holds (checked on every change and every 20 ms); false if
    /// `timeout` passed first.
    pub async fn wait_until(
        &self,
        timeout: Duration,
        mut condition: impl FnMut(&FakeTelegram) -> bool,
    ) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let changed = self.shared.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            if condition(self) {
                return true;
            }
            let now = tokio::time::Instant::now();
            if now >= deadline {
                return false;
            }
            let tick = (now + WAIT_POLL).min(deadline);
            tokio::select! {
                _ = changed => {}
                _ = tokio::time::sleep_until(tick) => {}
            }
        }
    }

    /// From now on, sending to `chat_id` answers 403 `Forbidden: bot was blocked by the user`
    /// (teloxide: `ApiError::BotBlocked`).
    pub fn block_user(&self, chat_id: i64) {
        self.shared.lock().blocked.insert(chat_id);
    }

    /// Undoes [`Self::block_user`].
    pub fn unblock_user(&self, chat_id: i64) {
        self.shared.lock().blocked.remove(&chat_id);
    }

    /// The next `n` sending requests get `fault` instead of being delivered (queued after
    /// faults scripted earlier).
    pub fn fail_next(&self, n: usize, fault: Fault) {
        self.shared
            .lock()
            .fail_next
            .extend(std::iter::repeat_n(fault, n));
    }

    /// Every sending request from now until `duration` has passed gets `fault` (after any
    /// faults queued by [`Self::fail_next`]).
    pub fn fail_for(&self, duration: Duration, fault: Fault) {
        self.shared.lock().fail_until = Some((Instant::now() + duration, fault));
    }

    /// Cancels all scripted faults.
    pub fn clear_faults(&self) {
        let mut state = self.shared.lock();
        state.fail_next.clear();
        state.fail_until = None;
    }

    /// What `getChatMember(chat_id, user_id)` answers from now on. Without one: the bot is an
    /// administrator; a user who joined through a `push_*` join or an approved join request,
    /// or wrote in the group ([`Self::push_group_text`]), is a member; a restricted one is
    /// `restricted` (with `is_member`) until the restriction ends; any other user the
    /// stand-in has seen has `left`, and one it never saw is 400 `Bad Request: user not
    /// found`, as on Telegram. Lifts any restriction. Set the bot's own status
    /// ([`Self::bot_user_id`]) to `Member` to take away its administrator rights in a group
    /// (pinning, deleting, restricting, invite links).
    pub fn set_chat_member_status(&self, chat_id: i64, user_id: i64, status: MemberStatus) {
        let mut state = self.shared.lock();
        state.restricted.remove(&(chat_id, user_id));
        state.member_status.insert((chat_id, user_id), status);
    }

    /// Every accepted `restrictChatMember`, in order.
    pub fn restrictions(&self) -> Vec<Restriction> {
        self.shared.lock().restrictions.clone()
    }

    /// Every message deleted with `deleteMessage`, as (chat id, message id), in order.
    /// A deleted message is gone: [`Self::message`] answers `None`, and deleting, editing,
    /// pinning or replying to it is refused like on Telegram.
    pub fn deleted_messages(&self) -> Vec<(i64, i32)> {
        self.shared.lock().deleted.clone()
    }

    /// Every accepted `pinChatMessage` and `unpinChatMessage`, in order.
    pub fn pins(&self) -> Vec<Pin> {
        self.shared.lock().pins.clone()
    }

    /// The messages pinned in a chat now, oldest pin first.
    pub fn pinned_in(&self, chat_id: i64) -> Vec<i32> {
        self.shared
            .lock()
            .pinned
            .get(&chat_id)
            .cloned()
            .unwrap_or_default()
    }

    /// Every invite link created with `createChatInviteLink`, in order.
    pub fn invite_links(&self) -> Vec<InviteLink> {
        self.shared.lock().invite_links.clone()
    }

    /// Every accepted `approveChatJoinRequest` (true) and `declineChatJoinRequest` (false),
    /// as (chat id, user id, approved), in order. Only an open request (see
    /// [`Self::push_join_request`]) can be decided, once; otherwise 400
    /// `HIDE_REQUESTER_MISSING`. An approval makes the user a member and queues the
    /// `chat_member` update Telegram sends (`from` the bot, `via_join_request`, the
    /// `invite_link`), delivered only when `allowed_updates` names `chat_member`.
    pub fn join_request_decisions(&self) -> Vec<(i64, i64, bool)> {
        self.shared.lock().join_decisions.clone()
    }

    /// A user joins a group: a `chat_member` update (old status `left`, new `member`,
    /// `from` the user, `date` now), delivered only to a poll whose `allowed_updates` names
    /// `chat_member`. The user is a member from now on. Returns the `update_id`.
    ///
    /// On Telegram an ordinary join produces this update *and* a `new_chat_members`
    /// message ([`Self::push_new_chat_members`]); push both to imitate one join exactly.
    pub fn push_chat_member_joined(&self, chat_id: i64, chat_title: &str, user: &TgUser) -> u32 {
        self.push_chat_member_update(
            chat_id,
            chat_title,
            user,
            MemberStatus::Left,
            MemberStatus::Member,
        )
    }

    /// A `chat_member` update for `user` in a group going from `old` to `new` (`from` the
    /// user, `date` now); `getChatMember` answers `new` from now on. Returns the `update_id`.
    pub fn push_chat_member_update(
        &self,
        chat_id: i64,
        chat_title: &str,
        user: &TgUser,
        old: MemberStatus,
        new: MemberStatus,
    ) -> u32 {
        let mut state = self.shared.lock();
        state.chat_titles.insert(chat_id, chat_title.to_owned());
        state.users.insert(user.id, user.clone());
        state.restricted.remove(&(chat_id, user.id));
        state.member_status.insert((chat_id, user.id), new);
        let payload = state.chat_member_updated(chat_id, user, old, new, None);
        let id = state.push_update("chat_member", payload);
        drop(state);
        self.shared.changed.notify_waiters();
        id
    }

    /// Users join a group, reported the other way Telegram does: a message in the group
    /// with `new_chat_members` (`from` the first user, as when people join by themselves).
    /// They are members from now on. Returns the message id.
    pub fn push_new_chat_members(&self, chat_id: i64, chat_title: &str, users: &[TgUser]) -> i32 {
        let mut state = self.shared.lock();
        state.chat_titles.insert(chat_id, chat_title.to_owned());
        for user in users {
            state.users.insert(user.id, user.clone());
            state.restricted.remove(&(chat_id, user.id));
            state
                .member_status
                .insert((chat_id, user.id), MemberStatus::Member);
        }
        let from = users
            .first()
            .map_or_else(|| state.bot_json(), TgUser::to_json);
        let members: Vec<Value> = users.iter().map(TgUser::to_json).collect();
        let message_id =
            state.push_service_message(chat_id, from, "new_chat_members", Value::Array(members));
        drop(state);
        self.shared.changed.notify_waiters();
        message_id
    }

    /// A user asks to join a group through `invite_link`: a `chat_join_request` update
    /// (`from` the user, `user_chat_id`, `date` now, and the `invite_link` object — the one
    /// the bot created if it is one of [`Self::invite_links`], else a link by another
    /// administrator). The request stays open until the bot approves or declines it.
    /// Delivered like Telegram does: also when `allowed_updates` is empty, not when it
    /// names other kinds only. Returns the `update_id`.
    pub fn push_join_request(
        &self,
        chat_id: i64,
        chat_title: &str,
        user: &TgUser,
        invite_link: &str,
    ) -> u32 {
        let mut state = self.shared.lock();
        state.chat_titles.insert(chat_id, chat_title.to_owned());
        state.users.insert(user.id, user.clone());
        state
            .join_requests
            .insert((chat_id, user.id), invite_link.to_owned());
        let link = state.invite_link_json(chat_id, invite_link);
        let payload = json!({
            "chat": state.chat_json(chat_id),
            "from": user.to_json(),
            "user_chat_id": user.id,
            "date": unix_now(),
            "invite_link": link,
        });
        let id = state.push_update("chat_join_request", payload);
        drop(state);
        self.shared.changed.notify_waiters();
        id
    }

    /// A group is upgraded to a supergroup, as Telegram reports it: a message in the old
    /// group with `migrate_to_chat_id`, then one in the new supergroup with
    /// `migrate_from_chat_id` (both `from` the group's creator if one was set with
    /// [`Self::set_chat_member_status`], else a placeholder owner). The supergroup keeps
    /// the title and the member statuses. From now on every request naming `old_chat_id`
    /// answers 400 `Bad Request: group chat was upgraded to a supergroup chat` with
    /// `parameters.migrate_to_chat_id` (teloxide: `RequestError::MigrateToChatId`).
    /// `new_chat_id` should be a supergroup id (−100…, below −10¹²). Returns the id of the
    /// message in the old group.
    pub fn push_group_migrated(&self, old_chat_id: i64, new_chat_id: i64) -> i32 {
        let mut state = self.shared.lock();
        if let Some(title) = state.chat_titles.get(&old_chat_id).cloned() {
            state.chat_titles.insert(new_chat_id, title);
        }
        let statuses: Vec<(i64, MemberStatus)> = state
            .member_status
            .iter()
            .filter(|((chat, _), _)| *chat == old_chat_id)
            .map(|((_, user), status)| (*user, *status))
            .collect();
        for (user, status) in &statuses {
            state.member_status.insert((new_chat_id, *user), *status);
        }
        let from = statuses
            .iter()
            .find(|(_, status)| *status == MemberStatus::Creator)
            .map_or_else(
                || json!({ "id": MIGRATING_OWNER_ID, "is_bot": false, "first_name": "Group Owner" }),
                |(user, _)| state.user_json(*user),
            );
        let message_id = state.push_service_message(
            old_chat_id,
            from.clone(),
            "migrate_to_chat_id",
            json!(new_chat_id),
        );
        state.push_service_message(
            new_chat_id,
            from,
            "migrate_from_chat_id",
            json!(old_chat_id),
        );
        state.migrated.insert(old_chat_id, new_chat_id);
        drop(state);
        self.shared.changed.notify_waiters();
        message_id
    }

    /// A user writes `text` to the bot in private; returns the new message's id.
    /// A text starting with `/` carries a `bot_command` entity, as Telegram sends it.
    pub fn push_private_text(&self, user: &TgUser, text: &str) -> i32 {
        self.push_text(user.id, None, Sender::User(user), text, None)
    }

    /// A user writes `text` in a group (negative `chat_id`; ids below −10¹² are
    /// supergroups), optionally as a reply; returns the new message's id.
    pub fn push_group_text(
        &self,
        chat_id: i64,
        chat_title: &str,
        user: &TgUser,
        text: &str,
        reply_to_message_id: Option<i32>,
    ) -> i32 {
        self.push_text(
            chat_id,
            Some(chat_title),
            Sender::User(user),
            text,
            reply_to_message_id,
        )
    }

    /// An anonymous administrator writes `text` in a group: `sender_chat` is the group and
    /// `from` is `GroupAnonymousBot` (id 1087968824), as Telegram sends it.
    pub fn push_anonymous_admin_text(&self, chat_id: i64, chat_title: &str, text: &str) -> i32 {
        self.push_text(
            chat_id,
            Some(chat_title),
            Sender::AnonymousAdmin,
            text,
            None,
        )
    }

    /// A user presses an inline button with callback `data` under message `message_id` in
    /// `chat_id`; returns the callback query id. The query carries the message as the bot
    /// last left it, or an inaccessible message (date 0) if the stand-in does not know it.
    pub fn push_callback(
        &self,
        user: &TgUser,
        message_id: i32,
        chat_id: i64,
        data: &str,
    ) -> String {
        let mut state = self.shared.lock();
        state.users.insert(user.id, user.clone());
        state.callback_seq += 1;
        let id = format!("{}{:06}", state.bot_id, state.callback_seq);
        let message = state.message_ref(chat_id, message_id).unwrap_or_else(
            || json!({ "message_id": message_id, "date": 0, "chat": state.chat_json(chat_id) }),
        );
        let query = json!({
            "id": id,
            "from": user.to_json(),
            "message": message,
            "chat_instance": format!("{}", chat_id.unsigned_abs()),
            "data": data,
        });
        state.open_callbacks.insert(id.clone());
        state.push_update("callback_query", query);
        drop(state);
        self.shared.changed.notify_waiters();
        id
    }

    /// Every poll the bot sent, in order, as it is now (closed once stopped).
    pub fn polls(&self) -> Vec<SentPoll> {
        self.shared.lock().polls.clone()
    }

    /// The polls the bot sent to `chat_id`, in order.
    pub fn polls_in(&self, chat_id: i64) -> Vec<SentPoll> {
        self.polls()
            .into_iter()
            .filter(|p| p.chat_id == chat_id)
            .collect()
    }

    /// `user` answers the poll `poll_id` with the options `option_ids` (0-based; none takes the
    /// vote back): a `poll_answer` update, which Telegram sends the bot only for its own
    /// non-anonymous polls while they are open. Returns the `update_id`, or `None` when
    /// Telegram would send nothing (an anonymous, closed or unknown poll).
    pub fn push_poll_answer(
        &self,
        user: &TgUser,
        poll_id: &str,
        option_ids: &[u32],
    ) -> Option<u32> {
        let mut state = self.shared.lock();
        let open = state
            .polls
            .iter()
            .any(|p| p.poll_id == poll_id && !p.is_anonymous && !p.closed);
        if !open {
            return None;
        }
        state.users.insert(user.id, user.clone());
        let id = state.push_update(
            "poll_answer",
            json!({ "poll_id": poll_id, "user": user.to_json(), "option_ids": option_ids }),
        );
        drop(state);
        self.shared.changed.notify_waiters();
        Some(id)
    }

    /// Queues an update of any kind: `kind` is the update field (`"my_chat_member"`, ...),
    /// `payload` its object. Returns the `update_id`.
    pub fn push_raw_update(&self, kind: &str, payload: Value) -> u32 {
        let id = self.shared.lock().push_update(kind, payload);
        self.shared.changed.notify_waiters();
        id
    }

    /// Makes every update ever pushed with `update_id >= from` pending again, as if the bot
    /// had crashed before confirming them. A restarted bot (no `offset`) receives them again;
    /// a `getUpdates` with a higher `offset` confirms them at once, as Telegram would.
    /// Callback queries in them stay answered: answering one again gets 400 `query is too
    /// old`, as on Telegram.
    pub fn redeliver_from(&self, from: u32) {
        {
            let mut state = self.shared.lock();
            let pending: HashSet<u32> = state.pending.iter().map(|u| u.id).collect();
            let again: Vec<StoredUpdate> = state
                .all_updates
                .iter()
                .filter(|u| u.id >= from && !pending.contains(&u.id))
                .cloned()
                .collect();
            state.pending.extend(again);
            state.pending.make_contiguous().sort_by_key(|u| u.id);
        }
        self.shared.changed.notify_waiters();
    }

    /// Updates pushed and not yet confirmed by an `offset`.
    pub fn pending_updates(&self) -> usize {
        self.shared.lock().pending.len()
    }

    /// Stops the server and waits (up to 5 s) until it has stopped. Pending long polls are
    /// answered at once with no updates.
    pub async fn shutdown(self) {
        self.signal_stop();
        let server = self.server.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(server) = server {
            let _ = tokio::time::timeout(Duration::from_secs(5), server).await;
        }
    }

    fn signal_stop(&self) {
        self.shared.lock().closed = true;
        self.shared.changed.notify_waiters();
        if let Some(stop) = self.stop.lock().unwrap_or_else(|e| e.into_inner()).take() {
            let _ = stop.send(());
        }
    }

    fn push_text(
        &self,
        chat_id: i64,
        chat_title: Option<&str>,
        sender: Sender<'_>,
        text: &str,
        reply_to_message_id: Option<i32>,
    ) -> i32 {
        let mut state = self.shared.lock();
        if let Some(title) = chat_title {
            state.chat_titles.insert(chat_id, title.to_owned());
        }
        let from = match sender {
            Sender::User(user) => {
                state.users.insert(user.id, user.clone());
                if chat_id < 0 {
                    // Writing in a group makes one a member there (if nothing else was set).
                    state
                        .member_status
                        .entry((chat_id, user.id))
                        .or_insert(MemberStatus::Member);
                }
                user.to_json()
            }
            Sender::AnonymousAdmin => json!({
                "id": GROUP_ANONYMOUS_BOT_ID,
                "is_bot": true,
                "first_name": "Group",
                "username": "GroupAnonymousBot",
            }),
        };
        let message_id = state.next_message_id(chat_id);
        let mut message = json!({
            "message_id": message_id,
            "from": from,
            "chat": state.chat_json(chat_id),
            "date": unix_now(),
            "text": text,
        });
        if matches!(sender, Sender::AnonymousAdmin) {
            message["sender_chat"] = state.chat_json(chat_id);
        }
        let entities = command_entities(text);
        if !entities.is_empty() {
            message["entities"] = Value::Array(entities);
        }
        if let Some(reply) = reply_to_message_id.and_then(|id| state.message_ref(chat_id, id)) {
            message["reply_to_message"] = reply;
        }
        state.messages.insert(
            (chat_id, message_id),
            StoredMessage {
                json: message.clone(),
                from_bot: false,
                raw_text: Some(text.to_owned()),
                parse_mode: None,
                reply_markup: None,
            },
        );
        state.push_update("message", message);
        drop(state);
        self.shared.changed.notify_waiters();
        message_id
    }
}

impl Drop for FakeTelegram {
    fn drop(&mut self) {
        self.signal_stop();
        let (violations, allowed) = {
            let state = self.shared.lock();
            (state.violations, state.violations_allowed)
        };
        if violations > 0 && !allowed && !std::thread::panicking() {
            panic!(
                "the stand-in answered {violations} 429(s) for a broken rate limit; \
                 call allow_violations() if the test provokes them on purpose"
            );
        }
    }
}

/// Who a pushed text comes from.
#[derive(Clone, Copy)]
enum Sender<'a> {
    User(&'a TgUser),
    AnonymousAdmin,
}

/// State shared between the server and the test's handle.
struct Shared {
    state: Mutex<ServerState>,
    /// Woken on every new update, delivered message and shutdown.
    changed: Notify,
    options: FakeTelegramOptions,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, ServerState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// An update as stored: its id, kind (the update's field name) and full JSON.
#[derive(Clone, Debug)]
struct StoredUpdate {
    id: u32,
    kind: String,
    body: Value,
}

/// A message the stand-in knows: sent by the bot or pushed by a test.
#[derive(Clone, Debug)]
struct StoredMessage {
    /// The `Message` object as Telegram would return it now.
    json: Value,
    from_bot: bool,
    /// Text or caption as sent, before entity parsing.
    raw_text: Option<String>,
    parse_mode: Option<String>,
    /// `reply_markup` as sent.
    reply_markup: Option<Value>,
}

/// Everything the server remembers.
struct ServerState {
    bot_id: i64,
    bot_username: String,
    bot_first_name: String,
    next_update_id: u32,
    all_updates: Vec<StoredUpdate>,
    pending: VecDeque<StoredUpdate>,
    /// Last `allowed_updates` a `getUpdates` or `setWebhook` named (Telegram keeps it across
    /// calls).
    allowed_updates: Option<Vec<String>>,
    get_updates_calls: usize,
    webhook: Option<Webhook>,
    webhook_calls: Vec<Webhook>,
    delete_webhook_calls: usize,
    poll_generation: u64,
    conflicts: usize,
    message_ids: HashMap<i64, i32>,
    messages: HashMap<(i64, i32), StoredMessage>,
    users: HashMap<i64, TgUser>,
    chat_titles: HashMap<i64, String>,
    sent: Vec<SentMessage>,
    edits: Vec<SentMessage>,
    requests: Vec<RequestLogEntry>,
    open_callbacks: HashSet<String>,
    callback_seq: u64,
    answered_callbacks: Vec<(String, Option<String>)>,
    commands_set: Vec<Value>,
    member_status: HashMap<(i64, i64), MemberStatus>,
    /// Current restrictions: (chat, user) → (permissions, until_date; 0 = forever).
    restricted: HashMap<(i64, i64), (Value, i64)>,
    restrictions: Vec<Restriction>,
    deleted: Vec<(i64, i32)>,
    pins: Vec<Pin>,
    pinned: HashMap<i64, Vec<i32>>,
    polls: Vec<SentPoll>,
    invite_links: Vec<InviteLink>,
    invite_seq: u64,
    /// Open join requests: (chat, user) → the invite link the user came through.
    join_requests: HashMap<(i64, i64), String>,
    join_decisions: Vec<(i64, i64, bool)>,
    /// Groups upgraded to supergroups: old id → new id.
    migrated: HashMap<i64, i64>,
    blocked: HashSet<i64>,
    fail_next: VecDeque<Fault>,
    fail_until: Option<(Instant, Fault)>,
    violations: usize,
    /// The test provokes 429s on purpose ([`FakeTelegram::allow_violations`]).
    violations_allowed: bool,
    scripted_faults: usize,
    limiter: Limiter,
    photo_seq: u64,
    closed: bool,
}

impl ServerState {
    fn new(options: &FakeTelegramOptions) -> Self {
        Self {
            bot_id: bot_id_from_token(&options.token),
            bot_username: options.bot_username.clone(),
            bot_first_name: options.bot_first_name.clone(),
            next_update_id: options.first_update_id,
            all_updates: Vec::new(),
            pending: VecDeque::new(),
            allowed_updates: None,
            get_updates_calls: 0,
            webhook: None,
            webhook_calls: Vec::new(),
            delete_webhook_calls: 0,
            poll_generation: 0,
            conflicts: 0,
            message_ids: HashMap::new(),
            messages: HashMap::new(),
            users: HashMap::new(),
            chat_titles: HashMap::new(),
            sent: Vec::new(),
            edits: Vec::new(),
            requests: Vec::new(),
            open_callbacks: HashSet::new(),
            callback_seq: 0,
            answered_callbacks: Vec::new(),
            commands_set: Vec::new(),
            member_status: HashMap::new(),
            restricted: HashMap::new(),
            restrictions: Vec::new(),
            deleted: Vec::new(),
            pins: Vec::new(),
            pinned: HashMap::new(),
            polls: Vec::new(),
            invite_links: Vec::new(),
            invite_seq: 0,
            join_requests: HashMap::new(),
            join_decisions: Vec::new(),
            migrated: HashMap::new(),
            blocked: HashSet::new(),
            fail_next: VecDeque::new(),
            fail_until: None,
            violations: 0,
            violations_allowed: false,
            scripted_faults: 0,
            limiter: Limiter {
                global: options.global_limit,
                free: options.free_limit,
                private_chat: options.private_chat_limit,
                group_chat: options.group_chat_limit,
                global_hits: VecDeque::new(),
                chat_hits: HashMap::new(),
            },
            photo_seq: 0,
            closed: false,
        }
    }

    /// Queues an update and keeps it for [`FakeTelegram::redeliver_from`].
    fn push_update(&mut self, kind: &str, payload: Value) -> u32 {
        let id = self.next_update_id;
        self.next_update_id += 1;
        let mut body = json!({ "update_id": id });
        body[kind] = payload;
        let update = StoredUpdate {
            id,
            kind: kind.to_owned(),
            body,
        };
        self.all_updates.push(update.clone());
        self.pending.push_back(update);
        id
    }

    fn next_message_id(&mut self, chat_id: i64) -> i32 {
        let next = self.message_ids.entry(chat_id).or_insert(0);
        *next += 1;
        *next
    }

    fn bot_json(&self) -> Value {
        json!({
            "id": self.bot_id,
            "is_bot": true,
            "first_name": self.bot_first_name,
            "username": self.bot_username,
        })
    }

    /// The `Chat` object for an id: private for positive ids (named after the user if known),
    /// a group or supergroup for negative ones.
    fn chat_json(&self, chat_id: i64) -> Value {
        if chat_id > 0 {
            let mut chat = json!({ "id": chat_id, "type": "private" });
            match self.users.get(&chat_id) {
                Some(user) => {
                    chat["first_name"] = json!(user.first_name);
                    if let Some(username) = &user.username {
                        chat["username"] = json!(username);
                    }
                }
                None => chat["first_name"] = json!(format!("User {chat_id}")),
            }
            chat
        } else {
            let title = self
                .chat_titles
                .get(&chat_id)
                .cloned()
                .unwrap_or_else(|| format!("Group {chat_id}"));
            json!({ "id": chat_id, "type": group_type(chat_id), "title": title })
        }
    }

    /// A known message as it may be embedded in another (`reply_to_message`, a callback's
    /// `message`): Telegram does not nest a second `reply_to_message`.
    fn message_ref(&self, chat_id: i64, message_id: i32) -> Option<Value> {
        let mut message = self.messages.get(&(chat_id, message_id))?.json.clone();
        if let Some(object) = message.as_object_mut() {
            object.remove("reply_to_message");
        }
        Some(message)
    }

    fn user_json(&self, user_id: i64) -> Value {
        if user_id == self.bot_id {
            return self.bot_json();
        }
        match self.users.get(&user_id) {
            Some(user) => user.to_json(),
            None => {
                json!({ "id": user_id, "is_bot": false, "first_name": format!("User {user_id}") })
            }
        }
    }

    /// A `ChatMemberUpdated` object for `user` in a group going from `old` to `new`.
    fn chat_member_updated(
        &self,
        chat_id: i64,
        user: &TgUser,
        old: MemberStatus,
        new: MemberStatus,
        invite_link: Option<Value>,
    ) -> Value {
        let mut old_member = member_json(old);
        old_member["user"] = user.to_json();
        let mut new_member = member_json(new);
        new_member["user"] = user.to_json();
        let mut update = json!({
            "chat": self.chat_json(chat_id),
            "from": user.to_json(),
            "date": unix_now(),
            "old_chat_member": old_member,
            "new_chat_member": new_member,
        });
        if let Some(link) = invite_link {
            update["invite_link"] = link;
            update["via_join_request"] = json!(true);
        }
        update
    }

    /// Stores and queues a service message (`field: value`) in a chat; returns its id.
    fn push_service_message(
        &mut self,
        chat_id: i64,
        from: Value,
        field: &str,
        value: Value,
    ) -> i32 {
        let message_id = self.next_message_id(chat_id);
        let mut message = json!({
            "message_id": message_id,
            "from": from,
            "chat": self.chat_json(chat_id),
            "date": unix_now(),
        });
        message[field] = value;
        self.messages.insert(
            (chat_id, message_id),
            StoredMessage {
                json: message.clone(),
                from_bot: false,
                raw_text: None,
                parse_mode: None,
                reply_markup: None,
            },
        );
        self.push_update("message", message);
        message_id
    }

    /// The `ChatInviteLink` object for a link: the bot's own if it created it for this chat,
    /// else one made by another administrator (primary, no join request).
    fn invite_link_json(&self, chat_id: i64, link: &str) -> Value {
        match self
            .invite_links
            .iter()
            .find(|l| l.chat_id == chat_id && l.invite_link == link)
        {
            Some(own) => self.own_invite_link_json(own),
            None => json!({
                "invite_link": link,
                "creator": {
                    "id": MIGRATING_OWNER_ID,
                    "is_bot": false,
                    "first_name": "Group Owner",
                },
                "creates_join_request": true,
                "is_primary": false,
                "is_revoked": false,
            }),
        }
    }

    fn own_invite_link_json(&self, link: &InviteLink) -> Value {
        let mut json = json!({
            "invite_link": link.invite_link,
            "creator": self.bot_json(),
            "creates_join_request": link.creates_join_request,
            "is_primary": false,
            "is_revoked": false,
        });
        if let Some(name) = &link.name {
            json["name"] = json!(name);
        }
        if let Some(expire) = link.expire_date {
            json["expire_date"] = json!(expire);
        }
        if let Some(limit) = link.member_limit {
            json["member_limit"] = json!(limit);
        }
        if link.creates_join_request {
            let pending = self
                .join_requests
                .iter()
                .filter(|((chat, _), url)| *chat == link.chat_id && **url == link.invite_link)
                .count();
            json["pending_join_request_count"] = json!(pending);
        }
        json
    }

    /// The `ChatMember` object `getChatMember` answers now (without `user`); `None` for a
    /// user Telegram does not know (400 `user not found`).
    fn member_now(&self, chat_id: i64, user_id: i64) -> Option<Value> {
        if let Some((permissions, until)) = self.restricted.get(&(chat_id, user_id))
            && (*until == 0 || *until > unix_now())
        {
            let mut member =
                json!({ "status": "restricted", "is_member": true, "until_date": until });
            for field in PERMISSIONS {
                member[field] = json!(permission(permissions, field));
            }
            return Some(member);
        }
        let status = match self.member_status.get(&(chat_id, user_id)) {
            Some(status) => *status,
            // The bot administers every group unless a test says otherwise.
            None if user_id == self.bot_id => MemberStatus::Administrator,
            // A private chat is the bot and the user.
            None if chat_id > 0 => MemberStatus::Member,
            None if self.users.contains_key(&user_id) => MemberStatus::Left,
            None => return None,
        };
        Some(member_json(status))
    }

    /// Whether the bot has administrator rights in a chat (always in a private chat).
    fn bot_is_admin(&self, chat_id: i64) -> bool {
        chat_id > 0
            || matches!(
                self.member_status
                    .get(&(chat_id, self.bot_id))
                    .copied()
                    .unwrap_or(MemberStatus::Administrator),
                MemberStatus::Administrator | MemberStatus::Creator
            )
    }

    /// The fault scripted for the next sending request, if any.
    fn take_fault(&mut self, now: Instant) -> Option<Fault> {
        if let Some(fault) = self.fail_next.pop_front() {
            return Some(fault);
        }
        match self.fail_until {
            Some((until, fault)) if now < until => Some(fault),
            Some(_) => {
                self.fail_until = None;
                None
            }
            None => None,
        }
    }

    /// Answers a known method other than `getUpdates`.
    fn dispatch(&mut self, method: Method, params: &Params, now: Instant) -> Outcome {
        match method {
            Method::GetMe => Ok(ok(json!({
                "id": self.bot_id,
                "is_bot": true,
                "first_name": self.bot_first_name,
                "username": self.bot_username,
                "can_join_groups": true,
                "can_read_all_group_messages": false,
                "supports_inline_queries": false,
                "can_connect_to_business": false,
                "has_main_web_app": false,
            }))),
            Method::GetWebhookInfo => {
                let mut info = json!({
                    "url": self.webhook.as_ref().map_or("", |w| w.url.as_str()),
                    "has_custom_certificate": false,
                    "pending_update_count": self.pending.len(),
                });
                if let Some(kinds) = self.webhook.as_ref().and(self.allowed_updates.as_ref()) {
                    info["allowed_updates"] = json!(kinds);
                }
                Ok(ok(info))
            }
            Method::SetWebhook => self.set_webhook(params),
            Method::DeleteWebhook => {
                if params.bool("drop_pending_updates") == Some(true) {
                    self.pending.clear();
                }
                self.webhook = None;
                self.delete_webhook_calls += 1;
                Ok(ok(json!(true)))
            }
            Method::SetMyCommands => {
                match params.json("commands")? {
                    Some(Value::Array(_)) => {}
                    _ => {
                        return Err(bad_request(
                            "Bad Request: parameter \"commands\" is required",
                        ));
                    }
                }
                let mut call = Map::new();
                for key in ["commands", "scope", "language_code"] {
                    if let Some(value) = params.json(key).ok().flatten() {
                        call.insert(key.to_owned(), value);
                    }
                }
                self.commands_set.push(Value::Object(call));
                Ok(ok(json!(true)))
            }
            Method::AnswerCallbackQuery => {
                let id = params.string("callback_query_id").unwrap_or_default();
                if !self.open_callbacks.remove(&id) {
                    return Err(bad_request(INVALID_QUERY));
                }
                self.answered_callbacks.push((id, params.string("text")));
                Ok(ok(json!(true)))
            }
            Method::GetChat => {
                let chat_id = self.chat_param(params)?;
                let mut chat = self.chat_json(chat_id);
                chat["accepted_gift_types"] = json!({
                    "unlimited_gifts": false,
                    "limited_gifts": false,
                    "unique_gifts": false,
                    "premium_subscription": false,
                });
                chat["max_reaction_count"] = json!(11);
                chat["accent_color_id"] = json!(0);
                Ok(ok(chat))
            }
            Method::GetChatMember => {
                let chat_id = self.chat_param(params)?;
                let user_id = params
                    .i64("user_id")?
                    .ok_or_else(|| bad_request("Bad Request: user not found"))?;
                let mut member = self
                    .member_now(chat_id, user_id)
                    .ok_or_else(|| bad_request("Bad Request: user not found"))?;
                member["user"] = self.user_json(user_id);
                Ok(ok(member))
            }
            Method::GetChatAdministrators => {
                let chat_id = self.chat_param(params)?;
                if chat_id > 0 {
                    return Err(bad_request(
                        "Bad Request: there are no administrators in the private chat",
                    ));
                }
                let mut admins = Vec::new();
                if self.bot_is_admin(chat_id) {
                    let mut bot = member_json(MemberStatus::Administrator);
                    bot["user"] = self.bot_json();
                    admins.push(bot);
                }
                let mut others: Vec<(i64, MemberStatus)> = self
                    .member_status
                    .iter()
                    .filter(|((chat, user), status)| {
                        *chat == chat_id
                            && *user != self.bot_id
                            && matches!(status, MemberStatus::Administrator | MemberStatus::Creator)
                    })
                    .map(|((_, user), status)| (*user, *status))
                    .collect();
                others.sort_by_key(|(user, status)| (*status != MemberStatus::Creator, *user));
                for (user, status) in others {
                    let mut admin = member_json(status);
                    admin["user"] = self.user_json(user);
                    admins.push(admin);
                }
                Ok(ok(Value::Array(admins)))
            }
            Method::RestrictChatMember => self.restrict(params, now),
            Method::DeleteMessage => {
                let chat_id = self.chat_param(params)?;
                let message_id = params.i64("message_id")?.ok_or_else(|| {
                    bad_request("Bad Request: message identifier is not specified")
                })? as i32;
                let Some(stored) = self.messages.get(&(chat_id, message_id)) else {
                    return Err(bad_request("Bad Request: message to delete not found"));
                };
                if !stored.from_bot && !self.bot_is_admin(chat_id) {
                    return Err(bad_request("Bad Request: message can't be deleted"));
                }
                self.messages.remove(&(chat_id, message_id));
                if let Some(pinned) = self.pinned.get_mut(&chat_id) {
                    pinned.retain(|id| *id != message_id);
                }
                self.deleted.push((chat_id, message_id));
                Ok(ok(json!(true)))
            }
            Method::PinChatMessage | Method::UnpinChatMessage => self.pin(method, params, now),
            Method::StopPoll => self.stop_poll(params),
            Method::CreateChatInviteLink => self.create_invite_link(params, now),
            Method::ApproveChatJoinRequest | Method::DeclineChatJoinRequest => {
                let chat_id = self.chat_param(params)?;
                let user_id = params
                    .i64("user_id")?
                    .ok_or_else(|| bad_request("Bad Request: user not found"))?;
                if !self.bot_is_admin(chat_id) {
                    return Err(bad_request("Bad Request: CHAT_ADMIN_REQUIRED"));
                }
                let Some(link) = self.join_requests.remove(&(chat_id, user_id)) else {
                    return Err(bad_request(NO_JOIN_REQUEST));
                };
                let approved = method == Method::ApproveChatJoinRequest;
                self.join_decisions.push((chat_id, user_id, approved));
                if approved {
                    self.restricted.remove(&(chat_id, user_id));
                    self.member_status
                        .insert((chat_id, user_id), MemberStatus::Member);
                    let user = self
                        .users
                        .get(&user_id)
                        .cloned()
                        .unwrap_or_else(|| TgUser::new(user_id, format!("User {user_id}")));
                    let mut update = self.chat_member_updated(
                        chat_id,
                        &user,
                        MemberStatus::Left,
                        MemberStatus::Member,
                        Some(self.invite_link_json(chat_id, &link)),
                    );
                    // The performer of an approval is the administrator who approved.
                    update["from"] = self.bot_json();
                    self.push_update("chat_member", update);
                }
                Ok(ok(json!(true)))
            }
            Method::SendMessage
            | Method::SendPhoto
            | Method::SendPoll
            | Method::EditMessageText
            | Method::EditMessageReplyMarkup => self.sending(method, params, now),
            Method::GetUpdates => Err(api_error(500, "Internal Server Error")),
        }
    }

    /// The sending methods: scripted faults, then rate limits, then blocked users, then the
    /// method itself.
    fn sending(&mut self, method: Method, params: &Params, now: Instant) -> Outcome {
        let chat_id = params.chat_id()?;
        let inline = params
            .string("inline_message_id")
            .filter(|id| !id.is_empty());
        if chat_id.is_none() && (inline.is_none() || !method.is_edit()) {
            return Err(bad_request("Bad Request: chat_id is empty"));
        }
        if let Some(fault) = self.take_fault(now) {
            self.scripted_faults += 1;
            return Err(match fault {
                Fault::TooManyRequests { retry_after } => too_many_requests(retry_after),
                Fault::ServerError => api_error(500, "Internal Server Error"),
            });
        }
        let paid = params.bool("allow_paid_broadcast").unwrap_or(false);
        if let Err(retry_after) = self.limiter.admit(chat_id, paid, now) {
            self.violations += 1;
            return Err(too_many_requests(retry_after));
        }
        if let Some(chat_id) = chat_id
            && self.blocked.contains(&chat_id)
        {
            return Err(api_error(403, "Forbidden: bot was blocked by the user"));
        }
        if let Some(new) = chat_id.and_then(|id| self.migrated.get(&id)) {
            return Err(migrated(*new));
        }
        match (method, chat_id) {
            (Method::SendMessage | Method::SendPhoto, Some(chat_id)) => {
                self.send(method, chat_id, params, now)
            }
            (Method::SendPoll, Some(chat_id)) => self.send_poll(chat_id, params, now),
            (_, Some(chat_id)) => self.edit(method, chat_id, params, now),
            (_, None) => self.edit_inline(method, params, now),
        }
    }

    /// `sendMessage` and `sendPhoto`.
    fn send(&mut self, method: Method, chat_id: i64, params: &Params, now: Instant) -> Outcome {
        let parse_mode = params.string("parse_mode");
        let (raw_text, photo, photo_bytes) = if method == Method::SendPhoto {
            let photo = params
                .string("photo")
                .filter(|p| !p.is_empty())
                .ok_or_else(|| bad_request("Bad Request: there is no photo in the request"))?;
            // An upload is the `photo` field itself, or another part it names (`attach://x`).
            let field = photo
                .strip_prefix("attach://")
                .unwrap_or("photo")
                .to_owned();
            let photo = match photo.strip_prefix("attach://") {
                Some(part) => params.string(part).unwrap_or(photo),
                None => photo,
            };
            let bytes = params.1.get(&field).cloned();
            (
                params.string("caption").unwrap_or_default(),
                Some(photo),
                bytes,
            )
        } else {
            (params.string("text").unwrap_or_default(), None, None)
        };
        let plain = render_text(&raw_text, parse_mode.as_deref())?;
        if photo.is_none() && plain.trim().is_empty() {
            return Err(bad_request("Bad Request: message text is empty"));
        }
        let too_long = match photo {
            Some(_) => plain.chars().count() > MAX_CAPTION_CHARS,
            None => plain.chars().count() > MAX_TEXT_CHARS,
        };
        if too_long {
            return Err(bad_request(if photo.is_some() {
                "Bad Request: message caption is too long"
            } else {
                "Bad Request: message is too long"
            }));
        }
        let reply_markup = params.json("reply_markup")?;
        let reply_parameters = params.json("reply_parameters")?;
        let reply_to = match &reply_parameters {
            Some(reply) => reply.get("message_id").and_then(value_i64),
            None => params.i64("reply_to_message_id")?,
        }
        .map(|id| id as i32);
        let without_reply = reply_parameters
            .as_ref()
            .and_then(|r| r.get("allow_sending_without_reply"))
            .and_then(Value::as_bool)
            .or(params.bool("allow_sending_without_reply"))
            .unwrap_or(false);
        let reply_json = reply_to.and_then(|id| self.message_ref(chat_id, id));
        if reply_to.is_some() && reply_json.is_none() && !without_reply {
            return Err(bad_request("Bad Request: message to be replied not found"));
        }
        let thread = params.i64("message_thread_id")?.map(|id| id as i32);

        let message_id = self.next_message_id(chat_id);
        let mut message = json!({
            "message_id": message_id,
            "from": self.bot_json(),
            "chat": self.chat_json(chat_id),
            "date": unix_now(),
        });
        match &photo {
            Some(photo) => {
                self.photo_seq += 1;
                let file_id = if photo.starts_with("upload:") || photo.contains("://") {
                    format!("fake-photo-{}", self.photo_seq)
                } else {
                    photo.clone()
                };
                message["photo"] = json!([
                    { "file_id": file_id, "file_unique_id": format!("u{}", self.photo_seq),
                      "width": 90, "height": 90, "file_size": 1_024 },
                    { "file_id": file_id, "file_unique_id": format!("v{}", self.photo_seq),
                      "width": 800, "height": 800, "file_size": 65_536 },
                ]);
                if !plain.is_empty() {
                    message["caption"] = json!(plain);
                }
            }
            None => message["text"] = json!(plain),
        }
        if let Some(markup) = reply_markup
            .as_ref()
            .filter(|m| m.get("inline_keyboard").is_some())
        {
            message["reply_markup"] = markup.clone();
        }
        if let Some(reply) = reply_json {
            message["reply_to_message"] = reply;
        }
        if let Some(thread) = thread {
            message["message_thread_id"] = json!(thread);
        }
        self.messages.insert(
            (chat_id, message_id),
            StoredMessage {
                json: message.clone(),
                from_bot: true,
                raw_text: Some(raw_text.clone()),
                parse_mode: parse_mode.clone(),
                reply_markup: reply_markup.clone(),
            },
        );
        self.sent.push(SentMessage {
            message_id,
            chat_id,
            text: raw_text,
            parse_mode,
            reply_markup,
            reply_to_message_id: reply_to,
            message_thread_id: thread,
            photo,
            paid_broadcast: params.bool("allow_paid_broadcast").unwrap_or(false),
            photo_bytes,
            method: method.name().to_owned(),
            at: now,
        });
        Ok(ok(message))
    }

    /// `sendPoll`: a question of 1–300 characters and 2–12 distinct options of 1–100, as
    /// Telegram checks them; answers the `Message` with its `poll`.
    fn send_poll(&mut self, chat_id: i64, params: &Params, now: Instant) -> Outcome {
        let question = params.string("question").unwrap_or_default();
        if question.trim().is_empty() {
            return Err(bad_request("Bad Request: poll question must be non-empty"));
        }
        if question.encode_utf16().count() > 300 {
            return Err(bad_request(
                "Bad Request: poll question length must not exceed 300",
            ));
        }
        let options: Vec<String> = match params.json("options")? {
            Some(Value::Array(items)) => items
                .iter()
                .map(|item| match item {
                    Value::String(text) => text.clone(),
                    other => other["text"].as_str().unwrap_or_default().to_owned(),
                })
                .collect(),
            _ => {
                return Err(bad_request(
                    "Bad Request: parameter \"options\" is required",
                ));
            }
        };
        if options.len() < 2 {
            return Err(bad_request("Bad Request: poll must have at least 2 option"));
        }
        if options.len() > 12 {
            return Err(bad_request(
                "Bad Request: poll can't have more than 12 options",
            ));
        }
        if options
            .iter()
            .any(|o| o.trim().is_empty() || o.encode_utf16().count() > 100)
        {
            return Err(bad_request(
                "Bad Request: poll options length must not exceed 100",
            ));
        }
        if options
            .iter()
            .enumerate()
            .any(|(i, o)| options[..i].contains(o))
        {
            return Err(bad_request("Bad Request: POLL_ANSWERS_INVALID"));
        }
        let is_anonymous = params.bool("is_anonymous").unwrap_or(true);
        let allows_multiple_answers = params.bool("allows_multiple_answers").unwrap_or(false);
        let message_id = self.next_message_id(chat_id);
        let poll_id = format!("{}{:08}", self.bot_id, self.polls.len() + 1);
        let poll = json!({
            "id": poll_id,
            "question": question,
            "options": options.iter().map(|o| json!({ "text": o, "voter_count": 0 })).collect::<Vec<_>>(),
            "total_voter_count": 0,
            "is_closed": false,
            "is_anonymous": is_anonymous,
            "type": "regular",
            "allows_multiple_answers": allows_multiple_answers,
        });
        let message = json!({
            "message_id": message_id,
            "from": self.bot_json(),
            "chat": self.chat_json(chat_id),
            "date": unix_now(),
            "poll": poll,
        });
        self.messages.insert(
            (chat_id, message_id),
            StoredMessage {
                json: message.clone(),
                from_bot: true,
                raw_text: Some(question.clone()),
                parse_mode: None,
                reply_markup: None,
            },
        );
        self.polls.push(SentPoll {
            chat_id,
            message_id,
            poll_id,
            question: question.clone(),
            options,
            is_anonymous,
            allows_multiple_answers,
            closed: false,
        });
        self.sent.push(SentMessage {
            message_id,
            chat_id,
            text: question,
            parse_mode: None,
            reply_markup: None,
            reply_to_message_id: None,
            message_thread_id: None,
            photo: None,
            paid_broadcast: params.bool("allow_paid_broadcast").unwrap_or(false),
            photo_bytes: None,
            method: Method::SendPoll.name().to_owned(),
            at: now,
        });
        Ok(ok(message))
    }

    /// `stopPoll`: closes one of the bot's polls and answers the `Poll`.
    fn stop_poll(&mut self, params: &Params) -> Outcome {
        let chat_id = self.chat_param(params)?;
        let message_id = params
            .i64("message_id")?
            .ok_or_else(|| bad_request("Bad Request: message identifier is not specified"))?
            as i32;
        let Some(poll) = self
            .polls
            .iter_mut()
            .find(|p| p.chat_id == chat_id && p.message_id == message_id)
        else {
            return Err(bad_request(
                "Bad Request: message with poll to stop not found",
            ));
        };
        if poll.closed {
            return Err(bad_request("Bad Request: poll has already been closed"));
        }
        poll.closed = true;
        let stored = self
            .messages
            .get_mut(&(chat_id, message_id))
            .ok_or_else(|| bad_request("Bad Request: message with poll to stop not found"))?;
        stored.json["poll"]["is_closed"] = json!(true);
        Ok(ok(stored.json["poll"].clone()))
    }

    /// The `chat_id` of a non-sending chat method: required, and refused for a migrated group.
    fn chat_param(&self, params: &Params) -> Result<i64, Reply> {
        let chat_id = params
            .chat_id()?
            .ok_or_else(|| bad_request("Bad Request: chat not found"))?;
        match self.migrated.get(&chat_id) {
            Some(new) => Err(migrated(*new)),
            None => Ok(chat_id),
        }
    }

    /// `restrictChatMember`: supergroups only, the bot must be an administrator and the
    /// member must not be one (as set with [`FakeTelegram::set_chat_member_status`]).
    fn restrict(&mut self, params: &Params, now: Instant) -> Outcome {
        let chat_id = self.chat_param(params)?;
        let user_id = params
            .i64("user_id")?
            .ok_or_else(|| bad_request("Bad Request: user not found"))?;
        let Some(Value::Object(mut permissions)) = params.json("permissions")? else {
            return Err(bad_request(
                "Bad Request: parameter \"permissions\" is required",
            ));
        };
        let until_date = params.i64("until_date")?;
        if chat_id > SUPERGROUP_ID_BELOW {
            return Err(bad_request(
                "Bad Request: method is available only for supergroups and channel",
            ));
        }
        if !self.bot_is_admin(chat_id) {
            return Err(bad_request(
                "Bad Request: not enough rights to restrict/unrestrict chat member",
            ));
        }
        if user_id == self.bot_id {
            return Err(bad_request("Bad Request: can't restrict self"));
        }
        if matches!(
            self.member_status.get(&(chat_id, user_id)),
            Some(MemberStatus::Administrator | MemberStatus::Creator)
        ) {
            return Err(bad_request(
                "Bad Request: user is an administrator of the chat",
            ));
        }
        // The legacy `can_send_media_messages` stands for the six media permissions.
        if permissions
            .get("can_send_media_messages")
            .and_then(Value::as_bool)
            .unwrap_or(false)
        {
            for field in &PERMISSIONS[1..7] {
                permissions.insert((*field).to_owned(), json!(true));
            }
        }
        let permissions = Value::Object(permissions);
        self.restrictions.push(Restriction {
            chat_id,
            user_id,
            permissions: permissions.clone(),
            until_date,
            at: now,
        });
        // Telegram: until_date less than 30 s or more than 366 days away means forever.
        let until = match until_date {
            Some(until) if until - unix_now() >= 30 && until - unix_now() <= 366 * 86_400 => until,
            _ => 0,
        };
        if PERMISSIONS
            .iter()
            .all(|field| permission(&permissions, field))
        {
            self.restricted.remove(&(chat_id, user_id));
            self.member_status
                .insert((chat_id, user_id), MemberStatus::Member);
        } else {
            self.restricted
                .insert((chat_id, user_id), (permissions, until));
        }
        Ok(ok(json!(true)))
    }

    /// `pinChatMessage` and `unpinChatMessage`.
    fn pin(&mut self, method: Method, params: &Params, now: Instant) -> Outcome {
        let chat_id = self.chat_param(params)?;
        let message_id = params.i64("message_id")?.map(|id| id as i32);
        if !self.bot_is_admin(chat_id) {
            return Err(bad_request(
                "Bad Request: not enough rights to manage pinned messages in the chat",
            ));
        }
        let pinned = method == Method::PinChatMessage;
        let current = self.pinned.entry(chat_id).or_default();
        if pinned {
            let message_id = message_id
                .ok_or_else(|| bad_request("Bad Request: message identifier is not specified"))?;
            if !self.messages.contains_key(&(chat_id, message_id)) {
                return Err(bad_request("Bad Request: message to pin not found"));
            }
            current.retain(|id| *id != message_id);
            current.push(message_id);
        } else {
            match message_id {
                Some(id) => current.retain(|pinned| *pinned != id),
                None => {
                    current.pop();
                }
            }
        }
        self.pins.push(Pin {
            chat_id,
            message_id,
            pinned,
            disable_notification: params.bool("disable_notification").unwrap_or(false),
            at: now,
        });
        Ok(ok(json!(true)))
    }

    /// `createChatInviteLink`: groups only, the bot must be an administrator; answers a
    /// `ChatInviteLink` with a new unique link.
    fn create_invite_link(&mut self, params: &Params, now: Instant) -> Outcome {
        let chat_id = self.chat_param(params)?;
        if chat_id > 0 {
            return Err(bad_request("Bad Request: chat not found"));
        }
        if !self.bot_is_admin(chat_id) {
            return Err(bad_request(
                "Bad Request: not enough rights to manage chat invite link",
            ));
        }
        let name = params.string("name");
        if name
            .as_ref()
            .is_some_and(|n| n.chars().count() > MAX_LINK_NAME_CHARS)
        {
            return Err(bad_request("Bad Request: invite link name is too long"));
        }
        let creates_join_request = params.bool("creates_join_request").unwrap_or(false);
        let member_limit = params.i64("member_limit")?;
        if let Some(limit) = member_limit
            && !(1..=99_999).contains(&limit)
        {
            return Err(bad_request("Bad Request: invalid member limit"));
        }
        if creates_join_request && member_limit.is_some() {
            return Err(bad_request(
                "Bad Request: member limit can't be specified for links requiring administrator approval",
            ));
        }
        self.invite_seq += 1;
        let link = InviteLink {
            chat_id,
            invite_link: format!("https://t.me/+{}", invite_hash(self.invite_seq)),
            name,
            creates_join_request,
            member_limit: member_limit.map(|l| l as u32),
            expire_date: params.i64("expire_date")?,
            at: now,
        };
        let json = self.own_invite_link_json(&link);
        self.invite_links.push(link);
        Ok(ok(json))
    }

    /// `editMessageText` and `editMessageReplyMarkup` of a chat message.
    fn edit(&mut self, method: Method, chat_id: i64, params: &Params, now: Instant) -> Outcome {
        let message_id = params
            .i64("message_id")?
            .ok_or_else(|| bad_request("Bad Request: message identifier is not specified"))?
            as i32;
        let Some(stored) = self.messages.get(&(chat_id, message_id)).cloned() else {
            return Err(bad_request("Bad Request: message to edit not found"));
        };
        if !stored.from_bot {
            return Err(bad_request("Bad Request: message can't be edited"));
        }
        let reply_markup = params.json("reply_markup")?;
        let mut updated = stored.clone();
        if method == Method::EditMessageText {
            if stored.json.get("text").is_none() {
                return Err(bad_request(
                    "Bad Request: there is no text in the message to edit",
                ));
            }
            let raw_text = params.string("text").unwrap_or_default();
            let parse_mode = params.string("parse_mode");
            let plain = render_text(&raw_text, parse_mode.as_deref())?;
            if plain.trim().is_empty() {
                return Err(bad_request("Bad Request: message text is empty"));
            }
            if plain.chars().count() > MAX_TEXT_CHARS {
                return Err(bad_request("Bad Request: message is too long"));
            }
            updated.json["text"] = json!(plain);
            updated.raw_text = Some(raw_text);
            updated.parse_mode = parse_mode;
        }
        updated.reply_markup = reply_markup.clone();
        if updated.raw_text == stored.raw_text
            && updated.parse_mode == stored.parse_mode
            && updated.reply_markup == stored.reply_markup
        {
            return Err(bad_request(NOT_MODIFIED));
        }
        if let Some(object) = updated.json.as_object_mut() {
            match &reply_markup {
                Some(markup) if markup.get("inline_keyboard").is_some() => {
                    object.insert("reply_markup".to_owned(), markup.clone());
                }
                _ => {
                    object.remove("reply_markup");
                }
            }
            object.insert("edit_date".to_owned(), json!(unix_now()));
        }
        self.edits.push(SentMessage {
            message_id,
            chat_id,
            text: updated.raw_text.clone().unwrap_or_default(),
            parse_mode: updated.parse_mode.clone(),
            reply_markup,
            reply_to_message_id: None,
            message_thread_id: None,
            photo: None,
            paid_broadcast: false,
            photo_bytes: None,
            method: method.name().to_owned(),
            at: now,
        });
        let json = updated.json.clone();
        self.messages.insert((chat_id, message_id), updated);
        Ok(ok(json))
    }

    /// An edit of an inline message (`inline_message_id`): recorded, answered `true`.
    fn edit_inline(&mut self, method: Method, params: &Params, now: Instant) -> Outcome {
        let text = params.string("text").unwrap_or_default();
        let parse_mode = params.string("parse_mode");
        if method == Method::EditMessageText {
            render_text(&text, parse_mode.as_deref())?;
        }
        self.edits.push(SentMessage {
            message_id: 0,
            chat_id: 0,
            text,
            parse_mode,
            reply_markup: params.json("reply_markup")?,
            reply_to_message_id: None,
            message_thread_id: None,
            photo: None,
            paid_broadcast: false,
            photo_bytes: None,
            method: method.name().to_owned(),
            at: now,
        });
        Ok(ok(json!(true)))
    }

    /// `setWebhook`: checks the URL and the secret token as Telegram does (but takes `http://`
    /// on the local machine); an empty URL removes the webhook.
    fn set_webhook(&mut self, params: &Params) -> Outcome {
        let url = params.string("url").unwrap_or_default();
        let secret_token = params.string("secret_token");
        let allowed_updates = match params.json("allowed_updates")? {
            Some(Value::Array(kinds)) => Some(
                kinds
                    .iter()
                    .filter_map(|k| k.as_str().map(str::to_owned))
                    .collect::<Vec<_>>(),
            ),
            Some(_) => return Err(bad_request("Bad Request: can't parse allowed updates")),
            None => None,
        };
        let drop_pending_updates = params.bool("drop_pending_updates") == Some(true);
        if let Some(token) = &secret_token {
            let allowed = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || b == b'-';
            if token.is_empty()
                || token.len() > MAX_SECRET_TOKEN_CHARS
                || !token.bytes().all(allowed)
            {
                return Err(bad_request(
                    "Bad Request: secret token contains unallowed characters",
                ));
            }
        }
        if drop_pending_updates {
            self.pending.clear();
        }
        if url.is_empty() {
            self.webhook = None;
            return Ok(ok(json!(true)));
        }
        let local = [
            "http://127.0.0.1:",
            "http://127.0.0.1/",
            "http://localhost:",
            "http://localhost/",
        ]
        .iter()
        .any(|prefix| url.starts_with(prefix));
        if !url.starts_with("https://") && !local {
            return Err(bad_request(
                "Bad Request: bad webhook: HTTPS url must be provided for webhook",
            ));
        }
        if let Some(kinds) = &allowed_updates {
            self.allowed_updates = (!kinds.is_empty()).then(|| kinds.clone());
        }
        let webhook = Webhook {
            url,
            secret_token,
            allowed_updates,
            drop_pending_updates,
        };
        self.webhook_calls.push(webhook.clone());
        self.webhook = Some(webhook);
        Ok(ok(json!(true)))
    }

    /// Applies a `getUpdates` call's `offset` and `allowed_updates`.
    fn confirm(&mut self, offset: Option<i64>, allowed: Option<Vec<String>>) {
        match offset {
            Some(offset) if offset > 0 => self.pending.retain(|u| i64::from(u.id) >= offset),
            Some(offset) if offset < 0 => {
                let keep = offset.unsigned_abs() as usize;
                let drop = self.pending.len().saturating_sub(keep);
                self.pending.drain(..drop);
            }
            _ => {}
        }
        if let Some(allowed) = allowed {
            self.allowed_updates = if allowed.is_empty() {
                None
            } else {
                Some(allowed)
            };
        }
    }

    /// The first `limit` pending updates the bot asked for (others are dropped, as
    /// Telegram does with updates of kinds not in `allowed_updates`).
    fn collect_updates(&mut self, limit: usize) -> Vec<Value> {
        let allowed = self.allowed_updates.clone();
        self.pending.retain(|u| match &allowed {
            Some(kinds) => kinds.contains(&u.kind),
            None => !matches!(
                u.kind.as_str(),
                "chat_member" | "message_reaction" | "message_reaction_count"
            ),
        });
        self.pending
            .iter()
            .take(limit)
            .map(|u| u.body.clone())
            .collect()
    }
}

/// The published rate limits, as sliding windows over arrival times.
struct Limiter {
    global: Option<RateLimit>,
    /// Beyond this many in the global window a request must be a paid broadcast.
    free: Option<usize>,
    private_chat: Option<RateLimit>,
    group_chat: Option<RateLimit>,
    global_hits: VecDeque<Instant>,
    chat_hits: HashMap<i64, VecDeque<Instant>>,
}

impl Limiter {
    /// Counts a request at `now` if every window has room; otherwise refuses it (without
    /// counting) with the whole seconds until the fullest window frees a place (at least 1).
    /// `paid`: the request carries `allow_paid_broadcast`, so the free limit does not apply.
    fn admit(&mut self, chat_id: Option<i64>, paid: bool, now: Instant) -> Result<(), u32> {
        let chat_limit = match chat_id {
            Some(id) if id > 0 => self.private_chat,
            Some(_) => self.group_chat,
            None => None,
        };
        let mut wait = Duration::ZERO;
        if let Some(limit) = self.global {
            wait = wait.max(Self::wait(&mut self.global_hits, limit, now));
            if let Some(free) = self.free.filter(|_| !paid) {
                let free = RateLimit { max: free, ..limit };
                wait = wait.max(Self::wait(&mut self.global_hits, free, now));
            }
        }
        if let (Some(limit), Some(id)) = (chat_limit, chat_id) {
            let hits = self.chat_hits.entry(id).or_default();
            wait = wait.max(Self::wait(hits, limit, now));
        }
        if !wait.is_zero() {
            let millis = wait.as_millis().div_ceil(1000).max(1);
            return Err(u32::try_from(millis).unwrap_or(u32::MAX));
        }
        if self.global.is_some() {
            self.global_hits.push_back(now);
        }
        if let (Some(_), Some(id)) = (chat_limit, chat_id) {
            self.chat_hits.entry(id).or_default().push_back(now);
        }
        Ok(())
    }

    /// Forgets hits that left the window; how long until a place frees (zero if one is free).
    /// Exact, with no allowance for jitter: the window `(now − W, now]` holds at most `max`.
    fn wait(hits: &mut VecDeque<Instant>, limit: RateLimit, now: Instant) -> Duration {
        let span = limit.per;
        while let Some(&oldest) = hits.front() {
            if now.saturating_duration_since(oldest) >= span {
                hits.pop_front();
            } else {
                break;
            }
        }
        if limit.max == 0 {
            return span.max(Duration::from_millis(1));
        }
        if hits.len() < limit.max {
            return Duration::ZERO;
        }
        let frees = hits[hits.len() - limit.max];
        span.saturating_sub(now.saturating_duration_since(frees))
            .max(Duration::from_millis(1))
    }
}

/// Bot API methods the stand-in knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Method {
    GetMe,
    GetUpdates,
    GetWebhookInfo,
    SetWebhook,
    DeleteWebhook,
    SendMessage,
    SendPhoto,
    EditMessageText,
    EditMessageReplyMarkup,
    AnswerCallbackQuery,
    SetMyCommands,
    GetChat,
    GetChatMember,
    GetChatAdministrators,
    RestrictChatMember,
    DeleteMessage,
    PinChatMessage,
    UnpinChatMessage,
    CreateChatInviteLink,
    ApproveChatJoinRequest,
    DeclineChatJoinRequest,
    SendPoll,
    StopPoll,
}

impl Method {
    const ALL: [Method; 23] = [
        Method::GetMe,
        Method::GetUpdates,
        Method::GetWebhookInfo,
        Method::SetWebhook,
        Method::DeleteWebhook,
        Method::SendMessage,
        Method::SendPhoto,
        Method::EditMessageText,
        Method::EditMessageReplyMarkup,
        Method::AnswerCallbackQuery,
        Method::SetMyCommands,
        Method::GetChat,
        Method::GetChatMember,
        Method::GetChatAdministrators,
        Method::RestrictChatMember,
        Method::DeleteMessage,
        Method::PinChatMessage,
        Method::UnpinChatMessage,
        Method::CreateChatInviteLink,
        Method::ApproveChatJoinRequest,
        Method::DeclineChatJoinRequest,
        Method::SendPoll,
        Method::StopPoll,
    ];

    /// Method names are case-insensitive, as on Telegram.
    fn parse(name: &str) -> Option<Method> {
        Self::ALL
            .into_iter()
            .find(|m| m.name().eq_ignore_ascii_case(name))
    }

    fn name(self) -> &'static str {
        match self {
            Method::GetMe => "getMe",
            Method::GetUpdates => "getUpdates",
            Method::GetWebhookInfo => "getWebhookInfo",
            Method::SetWebhook => "setWebhook",
            Method::DeleteWebhook => "deleteWebhook",
            Method::SendMessage => "sendMessage",
            Method::SendPhoto => "sendPhoto",
            Method::EditMessageText => "editMessageText",
            Method::EditMessageReplyMarkup => "editMessageReplyMarkup",
            Method::AnswerCallbackQuery => "answerCallbackQuery",
            Method::SetMyCommands => "setMyCommands",
            Method::GetChat => "getChat",
            Method::GetChatMember => "getChatMember",
            Method::GetChatAdministrators => "getChatAdministrators",
            Method::RestrictChatMember => "restrictChatMember",
            Method::DeleteMessage => "deleteMessage",
            Method::PinChatMessage => "pinChatMessage",
            Method::UnpinChatMessage => "unpinChatMessage",
            Method::CreateChatInviteLink => "createChatInviteLink",
            Method::ApproveChatJoinRequest => "approveChatJoinRequest",
            Method::DeclineChatJoinRequest => "declineChatJoinRequest",
            Method::SendPoll => "sendPoll",
            Method::StopPoll => "stopPoll",
        }
    }

    fn is_edit(self) -> bool {
        matches!(
            self,
            Method::EditMessageText | Method::EditMessageReplyMarkup
        )
    }
}

/// An HTTP answer in the Bot API's JSON shape.
#[derive(Debug)]
struct Reply {
    status: u16,
    body: Value,
    retry_after: Option<u32>,
}

/// `Ok` is a 200 answer, `Err` an error answer; both are sent to the client.
type Outcome = Result<Reply, Reply>;

impl IntoResponse for Reply {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (
            status,
            [(header::CONTENT_TYPE, "application/json")],
            self.body.to_string(),
        )
            .into_response()
    }
}

fn ok(result: Value) -> Reply {
    Reply {
        status: 200,
        body: json!({ "ok": true, "result": result }),
        retry_after: None,
    }
}

fn api_error(code: u16, description: &str) -> Reply {
    Reply {
        status: code,
        body: json!({ "ok": false, "error_code": code, "description": description }),
        retry_after: None,
    }
}

fn bad_request(description: &str) -> Reply {
    api_error(400, description)
}

/// The 400 for a request naming a group that was upgraded to the supergroup `new_chat_id`.
fn migrated(new_chat_id: i64) -> Reply {
    Reply {
        status: 400,
        body: json!({
            "ok": false,
            "error_code": 400,
            "description": MIGRATED,
            "parameters": { "migrate_to_chat_id": new_chat_id },
        }),
        retry_after: None,
    }
}

fn too_many_requests(retry_after: u32) -> Reply {
    Reply {
        status: 429,
        body: json!({
            "ok": false,
            "error_code": 429,
            "description": format!("Too Many Requests: retry after {retry_after}"),
            "parameters": { "retry_after": retry_after },
        }),
        retry_after: Some(retry_after),
    }
}

/// The single axum handler: every path and HTTP method comes here.
async fn handle(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let arrived = Instant::now();
    let (parts, body) = request.into_parts();
    let Some((token, method_name)) = split_path(parts.uri.path()) else {
        return api_error(404, "Not Found").into_response();
    };
    let method = Method::parse(&method_name);
    let logged_name = method.map_or(method_name.clone(), |m| m.name().to_owned());
    let content_type = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let params = match axum::body::to_bytes(body, MAX_BODY_BYTES).await {
        Ok(bytes) => Params::parse(&parts.uri, &content_type, &bytes),
        Err(_) => Err(bad_request(
            "Bad Request: request body is unreadable or too large",
        )),
    };
    let chat_id = params
        .as_ref()
        .ok()
        .and_then(|p| p.chat_id().ok().flatten());

    let reply = if token != shared.options.token {
        api_error(401, "Unauthorized")
    } else if let Some(method) = method {
        match params {
            Err(reply) => reply,
            Ok(params) if method == Method::GetUpdates => {
                long_poll(&shared, &params, arrived).await
            }
            Ok(params) => {
                let mut state = shared.lock();
                let now = Instant::now();
                let reply = state.dispatch(method, &params, now).unwrap_or_else(|e| e);
                log(&mut state, &logged_name, chat_id, &reply, now);
                drop(state);
                shared.changed.notify_waiters();
                return reply.into_response();
            }
        }
    } else {
        api_error(404, "Not Found: method not found")
    };
    log(&mut shared.lock(), &logged_name, chat_id, &reply, arrived);
    reply.into_response()
}

fn log(state: &mut ServerState, method: &str, chat_id: Option<i64>, reply: &Reply, at: Instant) {
    state.requests.push(RequestLogEntry {
        method: method.to_owned(),
        chat_id,
        status: reply.status,
        at,
        retry_after: reply.retry_after,
    });
}

/// `getUpdates`: confirms by `offset`, then waits up to `timeout` seconds for updates,
/// returning as soon as there are some; a newer `getUpdates` ends this one with 409.
async fn long_poll(shared: &Shared, params: &Params, arrived: Instant) -> Reply {
    shared.lock().get_updates_calls += 1;
    let (offset, limit, timeout, allowed) = match poll_params(params) {
        Ok(parsed) => parsed,
        Err(reply) => return reply,
    };
    let deadline = tokio::time::Instant::from_std(arrived) + Duration::from_secs(timeout);
    let generation = {
        let mut state = shared.lock();
        if state.webhook.is_some() {
            return api_error(409, WEBHOOK_ACTIVE);
        }
        state.confirm(offset, allowed);
        state.poll_generation += 1;
        state.poll_generation
    };
    // Wake an older poll so it can see it was superseded.
    shared.changed.notify_waiters();
    loop {
        let changed = shared.changed.notified();
        tokio::pin!(changed);
        changed.as_mut().enable();
        {
            let mut state = shared.lock();
            if state.poll_generation != generation {
                state.conflicts += 1;
                return api_error(409, CONFLICT);
            }
            let updates = state.collect_updates(limit);
            if !updates.is_empty() || state.closed || tokio::time::Instant::now() >= deadline {
                return ok(Value::Array(updates));
            }
        }
        tokio::select! {
            _ = changed => {}
            _ = tokio::time::sleep_until(deadline) => {}
        }
    }
}

/// `getUpdates` parameters: offset, limit (1–100, default 100), timeout in seconds,
/// allowed update kinds.
type PollParams = (Option<i64>, usize, u64, Option<Vec<String>>);

fn poll_params(params: &Params) -> Result<PollParams, Reply> {
    let offset = params.i64("offset")?;
    let limit = params.i64("limit")?.unwrap_or(100).clamp(1, 100) as usize;
    let timeout = params.i64("timeout")?.unwrap_or(0).max(0) as u64;
    let allowed = match params.json("allowed_updates")? {
        Some(Value::Array(kinds)) => Some(
            kinds
                .iter()
                .filter_map(|k| k.as_str().map(str::to_owned))
                .collect(),
        ),
        Some(_) => return Err(bad_request("Bad Request: can't parse allowed updates")),
        None => None,
    };
    Ok((offset, limit, timeout, allowed))
}

/// `/bot<token>/<method>` → (token, method), percent-decoded.
fn split_path(path: &str) -> Option<(String, String)> {
    let mut segments = path.trim_start_matches('/').split('/');
    let token = segments.next()?.strip_prefix("bot")?;
    let method = segments.next()?;
    if segments.next().is_some() || method.is_empty() {
        return None;
    }
    Some((percent_decode(token), percent_decode(method)))
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(hex) = text.get(i + 1..i + 3)
            && let Ok(byte) = u8::from_str_radix(hex, 16)
        {
            out.push(byte);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A request's parameters, from the query string and a JSON, urlencoded or multipart body,
/// and the bytes of the files uploaded in a multipart body, by field name.
/// Getters are lenient like Telegram: numbers may come as strings, objects as JSON text.
struct Params(Map<String, Value>, BTreeMap<String, Vec<u8>>);

impl Params {
    fn parse(uri: &Uri, content_type: &str, body: &[u8]) -> Result<Params, Reply> {
        let mut map = Map::new();
        let mut files = BTreeMap::new();
        if uri.query().is_some() {
            let query = Query::<Vec<(String, String)>>::try_from_uri(uri)
                .map_err(|_| bad_request("Bad Request: can't parse query string"))?;
            for (key, value) in query.0 {
                map.insert(key, Value::String(value));
            }
        }
        let mime = content_type
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Params(map, files));
        }
        match mime.as_str() {
            "multipart/form-data" => {
                let boundary = multipart_boundary(content_type)
                    .ok_or_else(|| bad_request("Bad Request: multipart boundary is missing"))?;
                let (fields, uploads) =
                    parse_multipart(body, &boundary).map_err(|e| bad_request(&e))?;
                map.extend(fields);
                files = uploads;
            }
            "application/x-www-form-urlencoded" => {
                let text = String::from_utf8_lossy(body);
                let uri: Uri = format!("/?{}", text.trim())
                    .parse()
                    .map_err(|_| bad_request("Bad Request: can't parse form body"))?;
                let form = Query::<Vec<(String, String)>>::try_from_uri(&uri)
                    .map_err(|_| bad_request("Bad Request: can't parse form body"))?;
                for (key, value) in form.0 {
                    map.insert(key, Value::String(value));
                }
            }
            _ => match serde_json::from_slice::<Value>(body) {
                Ok(Value::Object(object)) => map.extend(object),
                Ok(_) => {
                    return Err(bad_request(
                        "Bad Request: request body must be a JSON object",
                    ));
                }
                Err(e) => {
                    return Err(bad_request(&format!(
                        "Bad Request: can't parse JSON body: {e}"
                    )));
                }
            },
        }
        Ok(Params(map, files))
    }

    /// A text parameter (numbers and booleans are given as their text).
    fn string(&self, key: &str) -> Option<String> {
        match self.0.get(key)? {
            Value::String(s) => Some(s.clone()),
            Value::Null => None,
            other => Some(other.to_string()),
        }
    }

    fn i64(&self, key: &str) -> Result<Option<i64>, Reply> {
        match self.0.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(value) => value_i64(value)
                .map(Some)
                .ok_or_else(|| bad_request(&format!("Bad Request: invalid {key}"))),
        }
    }

    fn bool(&self, key: &str) -> Option<bool> {
        match self.0.get(key)? {
            Value::Bool(b) => Some(*b),
            Value::String(s) => s.parse().ok(),
            _ => None,
        }
    }

    /// A structured parameter, given as JSON or as JSON text (as in multipart and forms).
    fn json(&self, key: &str) -> Result<Option<Value>, Reply> {
        match self.0.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(text)) => serde_json::from_str(text)
                .map(Some)
                .map_err(|_| bad_request(&format!("Bad Request: can't parse {key} JSON object"))),
            Some(other) => Ok(Some(other.clone())),
        }
    }

    /// `chat_id`: a number; an `@username` is a chat the stand-in does not have.
    fn chat_id(&self) -> Result<Option<i64>, Reply> {
        match self.0.get("chat_id") {
            None | Some(Value::Null) => Ok(None),
            Some(value) => value_i64(value)
                .map(Some)
                .ok_or_else(|| bad_request("Bad Request: chat not found")),
        }
    }
}

fn value_i64(value: &Value) -> Option<i64> {
    match value {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn multipart_boundary(content_type: &str) -> Option<String> {
    content_type.split(';').skip(1).find_map(|param| {
        let (key, value) = param.split_once('=')?;
        key.trim()
            .eq_ignore_ascii_case("boundary")
            .then(|| value.trim().trim_matches('"').to_owned())
    })
}

/// Parses `multipart/form-data`: text parts become strings, file parts `upload:<file name>`
/// with their bytes kept beside, by field name.
type Multipart = (Map<String, Value>, BTreeMap<String, Vec<u8>>);
fn parse_multipart(body: &[u8], boundary: &str) -> Result<Multipart, String> {
    const BROKEN: &str = "Bad Request: can't parse multipart body";
    let delimiter = format!("--{boundary}").into_bytes();
    let next_delimiter = [b"\r\n".as_slice(), &delimiter].concat();
    let mut map = Map::new();
    let mut files = BTreeMap::new();
    let mut pos = find(body, &delimiter, 0).ok_or(BROKEN)? + delimiter.len();
    loop {
        let rest = body.get(pos..).ok_or(BROKEN)?;
        if rest.starts_with(b"--") {
            return Ok((map, files));
        }
        if !rest.starts_with(b"\r\n") {
            return Err(BROKEN.to_owned());
        }
        let headers_start = pos + 2;
        let headers_end = find(body, b"\r\n\r\n", headers_start).ok_or(BROKEN)?;
        let headers = String::from_utf8_lossy(&body[headers_start..headers_end]);
        let content_start = headers_end + 4;
        let content_end = find(body, &next_delimiter, content_start).ok_or(BROKEN)?;
        let mut name = None;
        let mut file_name = None;
        for line in headers.split("\r\n") {
            let Some((header_name, value)) = line.split_once(':') else {
                continue;
            };
            if !header_name
                .trim()
                .eq_ignore_ascii_case("content-disposition")
            {
                continue;
            }
            for param in value.split(';').skip(1) {
                if let Some((key, value)) = param.split_once('=') {
                    let value = value.trim().trim_matches('"').to_owned();
                    match key.trim().to_ascii_lowercase().as_str() {
                        "name" => name = Some(value),
                        "filename" => file_name = Some(value),
                        _ => {}
                    }
                }
            }
        }
        let name = name.ok_or(BROKEN)?;
        let value = match file_name {
            Some(file_name) => {
                files.insert(name.clone(), body[content_start..content_end].to_vec());
                format!("upload:{file_name}")
            }
            None => String::from_utf8_lossy(&body[content_start..content_end]).into_owned(),
        };
        map.insert(name, Value::String(value));
        pos = content_end + next_delimiter.len();
    }
}

fn find(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    if needle.is_empty() || from > haystack.len() {
        return None;
    }
    haystack[from..]
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| p + from)
}

/// The text Telegram would show: HTML is parsed (and refused like Telegram refuses it),
/// other parse modes are kept as they are.
fn render_text(text: &str, parse_mode: Option<&str>) -> Result<String, Reply> {
    match parse_mode {
        Some(mode) if mode.eq_ignore_ascii_case("html") => parse_html(text)
            .map_err(|e| bad_request(&format!("Bad Request: can't parse entities: {e}"))),
        _ => Ok(text.to_owned()),
    }
}

/// Parses Telegram's HTML subset the way Telegram does: supported tags only, balanced,
/// `&lt;` `&gt;` `&amp;` `&quot;` and numeric entities decoded, a bare `&` kept as it is.
/// Returns the plain text, or the error Telegram gives after `can't parse entities: `.
fn parse_html(text: &str) -> Result<String, String> {
    const TAGS: [&str; 16] = [
        "a",
        "b",
        "blockquote",
        "code",
        "del",
        "em",
        "i",
        "ins",
        "pre",
        "s",
        "span",
        "strike",
        "strong",
        "tg-emoji",
        "tg-spoiler",
        "u",
    ];
    let bytes = text.as_bytes();
    let mut plain = String::with_capacity(text.len());
    let mut open: Vec<String> = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'&' => match decode_entity(&text[i..]) {
                Some((decoded, length)) => {
                    plain.push(decoded);
                    i += length;
                }
                None => {
                    plain.push('&');
                    i += 1;
                }
            },
            b'<' => {
                let start = i;
                let closing = bytes.get(i + 1) == Some(&b'/');
                let name_start = if closing { i + 2 } else { i + 1 };
                let mut name_end = name_start;
                while name_end < bytes.len()
                    && (bytes[name_end].is_ascii_alphanumeric() || bytes[name_end] == b'-')
                {
                    name_end += 1;
                }
                let name = text[name_start..name_end].to_ascii_lowercase();
                if !closing && !TAGS.contains(&name.as_str()) {
                    return Err(format!(
                        "Unsupported start tag \"{name}\" at byte offset {start}"
                    ));
                }
                let Some(end) = text[name_end..].find('>').map(|p| p + name_end) else {
                    return Err(format!("Unclosed start tag at byte offset {start}"));
                };
                if closing {
                    match open.pop() {
                        None => return Err(format!("Unexpected end tag at byte offset {start}")),
                        Some(expected) if expected != name => {
                            return Err(format!(
                                "Unmatched end tag at byte offset {start}, expected \"</{expected}>\", found \"</{name}>\""
                            ));
                        }
                        Some(_) => {}
                    }
                } else {
                    open.push(name);
                }
                i = end + 1;
            }
            _ => {
                let Some(ch) = text[i..].chars().next() else {
                    break;
                };
                plain.push(ch);
                i += ch.len_utf8();
            }
        }
    }
    match open.pop() {
        Some(tag) => Err(format!(
            "Can't find end tag corresponding to start tag \"{tag}\""
        )),
        None => Ok(plain),
    }
}

/// Decodes the HTML entity at the start of `text` (which starts with `&`): (char, length).
fn decode_entity(text: &str) -> Option<(char, usize)> {
    let end = text.get(..12).unwrap_or(text).find(';')?;
    let name = &text[1..end];
    let decoded = match name {
        "lt" => '<',
        "gt" => '>',
        "amp" => '&',
        "quot" => '"',
        _ => {
            let number = name.strip_prefix('#')?;
            let code = match number.strip_prefix(['x', 'X']) {
                Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                None => number.parse().ok()?,
            };
            char::from_u32(code)?
        }
    };
    Some((decoded, end + 1))
}

/// The `bot_command` entity Telegram attaches to a text starting with `/command`.
fn command_entities(text: &str) -> Vec<Value> {
    let Some(command) = text
        .split_whitespace()
        .next()
        .filter(|w| w.starts_with('/') && w.len() > 1)
    else {
        return Vec::new();
    };
    if !text.starts_with('/') {
        return Vec::new();
    }
    let length = command.encode_utf16().count();
    vec![json!({ "type": "bot_command", "offset": 0, "length": length })]
}

fn member_json(status: MemberStatus) -> Value {
    match status {
        MemberStatus::Creator => json!({ "status": "creator", "is_anonymous": false }),
        MemberStatus::Administrator => json!({
            "status": "administrator",
            "can_be_edited": false,
            "is_anonymous": false,
            "can_manage_chat": true,
            "can_change_info": true,
            "can_delete_messages": true,
            "can_manage_video_chats": true,
            "can_invite_users": true,
            "can_restrict_members": true,
            "can_pin_messages": true,
            "can_promote_members": false,
        }),
        MemberStatus::Member => json!({ "status": "member" }),
        MemberStatus::Left => json!({ "status": "left" }),
        MemberStatus::Kicked => json!({ "status": "kicked", "until_date": 0 }),
    }
}

/// A permission field of a `ChatPermissions` object (absent = false, as teloxide omits them).
fn permission(permissions: &Value, field: &str) -> bool {
    permissions
        .get(field)
        .and_then(Value::as_bool)
        .unwrap_or(false)
}

/// The 16-character part of the `seq`-th invite link after `https://t.me/+`: distinct for
/// distinct `seq`, and not guessable from its neighbours at a glance.
fn invite_hash(seq: u64) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";
    // An odd multiplier is a bijection on u64, so distinct seqs give distinct values.
    let mut value = seq.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0x5DEE_CE66_D1CE_4E5B;
    let mut hash = String::with_capacity(16);
    for _ in 0..16 {
        hash.push(char::from(ALPHABET[(value & 63) as usize]));
        value = value.rotate_right(6);
    }
    hash
}

fn group_type(chat_id: i64) -> &'static str {
    if chat_id <= SUPERGROUP_ID_BELOW {
        "supergroup"
    } else {
        "group"
    }
}

fn bot_id_from_token(token: &str) -> i64 {
    token
        .split(':')
        .next()
        .and_then(|id| id.parse().ok())
        .unwrap_or(123_456)
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(1, |d| d.as_secs() as i64)
}
