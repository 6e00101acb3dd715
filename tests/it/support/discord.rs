//! A local stand-in for Discord (REST API v10 and the WebSocket gateway), for tests that must
//! not reach the internet.
//!
//! [`FakeDiscord::start`] serves, on `127.0.0.1` (a free port), both the REST API under
//! `/api/v10` and the gateway at `/gateway` (plain `ws://`, JSON text frames, no compression).
//! The real serenity client is pointed at it with
//! `HttpBuilder::new(TOKEN).proxy(dc.api_url()).ratelimiter_disabled(true)` (serenity ignores
//! the proxy while its own rate limiter is on) and `ClientBuilder::new_with_http(http, intents)`;
//! serenity asks `GET /api/v10/gateway` for the gateway URL, which answers
//! [`FakeDiscord::gateway_url`].
//!
//! It behaves like Discord where it matters to the bot:
//!
//! * the published rate limits: 50 requests per second per bot over every route except the
//!   interaction routes (`/interactions/…`, `/webhooks/…`), and 5 messages per 5 s per channel
//!   on `POST /channels/{id}/messages`; a request over either is refused with 429, a JSON body
//!   `{"message", "retry_after" (float seconds), "global"}` and the headers `retry-after`,
//!   `x-ratelimit-scope` (and `x-ratelimit-global` for the global limit), and counted in
//!   [`FakeDiscord::violations`]. Every answer of `POST /channels/{id}/messages` carries
//!   `x-ratelimit-limit`, `-remaining`, `-reset`, `-reset-after` and `-bucket`;
//! * opening DMs with users the bot has no DM channel with yet is limited by an anti-spam
//!   budget (10 per 60 s by default): beyond it `POST /users/@me/channels` answers 403
//!   `{"code": 40003, "message": "You are opening direct messages too fast."}`; re-opening a DM
//!   channel that already exists is free;
//! * a user who closed their DMs ([`FakeDiscord::close_dms`]) makes a send to their DM channel
//!   fail with 403 `{"code": 50007, "message": "Cannot send messages to this user"}`;
//! * a send to a channel the stand-in does not know (not a guild channel, not an opened DM —
//!   e.g. a user id used as a channel id) is 404 `{"code": 10003, "message": "Unknown Channel"}`;
//!   messages over 2000 characters, empty messages, bad components (more than 5 rows or 5
//!   buttons a row, missing or duplicate `custom_id`s, labels over 80 characters) and replies
//!   to unknown messages are refused with Discord's 400 errors (50035 `Invalid Form Body`,
//!   50006 `Cannot send an empty message`);
//! * interactions must be answered once, within 3 s of reaching the bot: a second answer is 400
//!   code 40060, a late one 404 code 10062 `Unknown interaction`; follow-ups and
//!   `@original` edits need an answered interaction and a token younger than 15 minutes;
//! * role grants obey the role hierarchy (a role at or above the bot's highest role, or a
//!   managed role, is 403 code 50013) and need the user to be a member (404 code 10007);
//! * the moderation routes are answered and recorded: `DELETE /channels/{c}/messages/{m}`
//!   ([`FakeDiscord::deleted_messages`]; someone else's message needs `MANAGE_MESSAGES`),
//!   `PUT /channels/{c}/pins/{m}` ([`FakeDiscord::pins`]; needs `MANAGE_MESSAGES`),
//!   `PATCH /guilds/{g}/members/{u}` with `communication_disabled_until`
//!   ([`FakeDiscord::timeouts`]; needs `MODERATE_MEMBERS`, at most 28 days ahead, never on the
//!   owner, an administrator or a member whose top role is not below the bot's) and
//!   `POST /channels/{c}/invites` ([`FakeDiscord::invites`]; needs `CREATE_INSTANT_INVITE`,
//!   answers a new unique `code`). They are under the global limit and the scripted faults
//!   like every other route. [`FakeDiscord::push_member_join`] sends `GUILD_MEMBER_ADD`;
//! * the gateway says HELLO, takes IDENTIFY (checks the token — close 4004 —, the shard —
//!   4010 — and that privileged intents are enabled in the application's flags — close 4014
//!   `Disallowed intent(s)`), answers READY then GUILD_CREATE, acknowledges heartbeats,
//!   takes RESUME (replays what the bot missed, then RESUMED) and only sends events the
//!   identified intents ask for (no guild `MESSAGE_CREATE` without `GUILD_MESSAGES`, empty
//!   `content` without `MESSAGE_CONTENT` unless the bot is mentioned, DMs and DM interactions
//!   on shard 0 only, guild events on the guild's shard);
//! * requests with a wrong token get 401 `{"message": "401: Unauthorized", "code": 0}` (the
//!   interaction routes are authorised by the interaction token in their path, and
//!   `GET /gateway` by nothing, as on Discord); unknown routes get 404
//!   `{"message": "404: Not Found", "code": 0}`; every 401, 403 and 429 is counted in
//!   [`FakeDiscord::invalid_requests`] (Discord bans an IP for a while after 10,000 of them in
//!   10 minutes).
//!
//! The windows count exactly, with no allowance for jitter: a request is counted at the instant
//! the stand-in handles it, and no window of length W (`(now − W, now]`) may hold more than the
//! limit, however close to the edge the requests fall.
//!
//! What the windows count: every request that passed authentication and the scripted faults
//! and was not refused with 429 — a 403 to a closed DM or a 400 still uses up a place.
//!
//! Events pushed while no gateway session exists are held and delivered to the next session
//! that identifies (Discord would drop them; holding them spares tests a race with the
//! connection); events pushed while a session is disconnected but resumable are replayed on
//! RESUME, and lost if the bot identifies afresh instead, as on Discord.
//!
//! Tests inject events (`push_*`), script faults ([`FakeDiscord::fail_next`],
//! [`FakeDiscord::fail_for`], [`FakeDiscord::close_dms`], [`FakeDiscord::drop_connection`]) and
//! inspect what happened ([`FakeDiscord::sent`], [`FakeDiscord::interaction_callbacks`], ...).
//! The server stops when the [`FakeDiscord`] is dropped or [`FakeDiscord::shutdown`] is awaited.
#![allow(dead_code)]

use std::collections::{HashMap, HashSet, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::extract::ws::{CloseFrame, Message as WsMessage, WebSocket, WebSocketUpgrade};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Map, Value, json};
use tokio::sync::{Notify, oneshot};
use tokio::task::JoinHandle;

/// The bot token the stand-in accepts by default (`Authorization: Bot <TOKEN>`).
pub const TOKEN: &str = "MTE1MDAwMDAwMDAwMDAwMDAwMQ.GfAkEs.encore-discord-stand-in-token";
/// The bot's user id, which is also its application id (as for every Discord bot).
pub const BOT_USER_ID: u64 = 1_150_000_000_000_000_001;
/// The application id (equal to [`BOT_USER_ID`]).
pub const APPLICATION_ID: u64 = BOT_USER_ID;
/// The bot's username.
pub const BOT_USERNAME: &str = "encore-test-bot";
/// The default guild (the shop's server).
pub const GUILD_ID: u64 = 1_150_000_000_000_000_100;
/// The staff channel of the default guild (hidden from `@everyone`, visible to Staff and the bot).
pub const STAFF_CHANNEL_ID: u64 = 1_150_000_000_000_000_101;
/// The community channel of the default guild (visible to everyone).
pub const COMMUNITY_CHANNEL_ID: u64 = 1_150_000_000_000_000_102;
/// The bot's managed role in the default guild (position 3, can manage roles).
pub const BOT_ROLE_ID: u64 = 1_150_000_000_000_000_110;
/// The Staff role of the default guild (position 2).
pub const STAFF_ROLE_ID: u64 = 1_150_000_000_000_000_111;
/// The VIP role of the default guild (position 1, below the bot's role, so it can grant it).
pub const VIP_ROLE_ID: u64 = 1_150_000_000_000_000_112;
/// The guild owner, a member with the Staff role.
pub const OWNER_ID: u64 = 1_150_000_000_000_000_050;

/// Application flag: presence intent enabled (verified bots).
pub const FLAG_GATEWAY_PRESENCE: u64 = 1 << 12;
/// Application flag: presence intent enabled (unverified bots, under 100 guilds).
pub const FLAG_GATEWAY_PRESENCE_LIMITED: u64 = 1 << 13;
/// Application flag: server members intent enabled (verified bots).
pub const FLAG_GATEWAY_GUILD_MEMBERS: u64 = 1 << 14;
/// Application flag: server members intent enabled (unverified bots).
pub const FLAG_GATEWAY_GUILD_MEMBERS_LIMITED: u64 = 1 << 15;
/// Application flag: message content intent enabled (verified bots).
pub const FLAG_GATEWAY_MESSAGE_CONTENT: u64 = 1 << 18;
/// Application flag: message content intent enabled (unverified bots).
pub const FLAG_GATEWAY_MESSAGE_CONTENT_LIMITED: u64 = 1 << 19;

/// Gateway intent bits the stand-in looks at (same values as serenity's `GatewayIntents`).
pub const INTENT_GUILDS: u64 = 1 << 0;
pub const INTENT_GUILD_MEMBERS: u64 = 1 << 1;
pub const INTENT_GUILD_PRESENCES: u64 = 1 << 8;
pub const INTENT_GUILD_MESSAGES: u64 = 1 << 9;
pub const INTENT_DIRECT_MESSAGES: u64 = 1 << 12;
pub const INTENT_MESSAGE_CONTENT: u64 = 1 << 15;

/// Permission bits used by the default guild.
pub const PERM_CREATE_INSTANT_INVITE: u64 = 1 << 0;
pub const PERM_ADMINISTRATOR: u64 = 1 << 3;
pub const PERM_ADD_REACTIONS: u64 = 1 << 6;
pub const PERM_VIEW_CHANNEL: u64 = 1 << 10;
pub const PERM_SEND_MESSAGES: u64 = 1 << 11;
pub const PERM_MANAGE_MESSAGES: u64 = 1 << 13;
pub const PERM_EMBED_LINKS: u64 = 1 << 14;
pub const PERM_ATTACH_FILES: u64 = 1 << 15;
pub const PERM_READ_MESSAGE_HISTORY: u64 = 1 << 16;
pub const PERM_MANAGE_ROLES: u64 = 1 << 28;
pub const PERM_USE_APPLICATION_COMMANDS: u64 = 1 << 31;
pub const PERM_MODERATE_MEMBERS: u64 = 1 << 40;

/// Largest request body accepted.
const MAX_BODY_BYTES: usize = 25 * 1024 * 1024;
/// The longest timeout Discord accepts, from now.
const MAX_TIMEOUT: Duration = Duration::from_secs(28 * 86_400);
/// Discord's limit for a message's `content`, in characters.
const MAX_CONTENT_CHARS: usize = 2000;
/// How often [`FakeDiscord::wait_until`] re-checks its condition even without a wake-up.
const WAIT_POLL: Duration = Duration::from_millis(20);
/// Milliseconds between the Unix epoch and Discord's (2015-01-01), for snowflakes.
const DISCORD_EPOCH_MS: u64 = 1_420_070_400_000;
/// Intent bits that exist (0 to 25); anything above is closed with 4013.
const KNOWN_INTENTS: u64 = (1 << 26) - 1;
/// `x-ratelimit-bucket` of `POST /channels/{id}/messages`.
const MESSAGES_BUCKET: &str = "80c17d2f203122d936070c88c8d10f33";
/// Interaction `attachment_size_limit` (10 MiB, as for a guild without boosts).
const ATTACHMENT_SIZE_LIMIT: u64 = 10 * 1024 * 1024;

/// A Discord user as tests describe one: the author of pushed messages and interactions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DcUser {
    /// User id (a snowflake; any non-zero number works).
    pub id: u64,
    /// Unique username (lower case, no discriminator).
    pub username: String,
    /// Display name, if the user set one.
    pub global_name: Option<String>,
    /// Client language, e.g. `"ko"` or `"en-US"`; sent as an interaction's `locale`
    /// (`"en-US"` when unset).
    pub locale: Option<String>,
}

impl DcUser {
    /// A user with an id and a username, no display name, no locale.
    pub fn new(id: u64, username: impl Into<String>) -> Self {
        Self {
            id,
            username: username.into(),
            global_name: None,
            locale: None,
        }
    }

    /// The same user with a display name.
    pub fn with_global_name(mut self, name: impl Into<String>) -> Self {
        self.global_name = Some(name.into());
        self
    }

    /// The same user with a client locale (`"ko"`, `"en-US"`, ...).
    pub fn with_locale(mut self, locale: impl Into<String>) -> Self {
        self.locale = Some(locale.into());
        self
    }

    /// The user as a Discord `User` object.
    fn to_json(&self) -> Value {
        json!({
            "id": self.id.to_string(),
            "username": self.username,
            "discriminator": "0",
            "global_name": self.global_name,
            "avatar": null,
            "bot": false,
            "system": false,
            "public_flags": 0,
            "flags": 0,
            "banner": null,
            "accent_color": null,
            "avatar_decoration_data": null,
        })
    }
}

/// A channel of the fake guild.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FakeChannel {
    /// Channel id.
    pub id: u64,
    /// Name without `#`.
    pub name: String,
    /// Discord channel type: 0 text, 2 voice, 4 category, 5 announcement, 15 forum.
    pub kind: u8,
    /// Category the channel is in.
    pub parent_id: Option<u64>,
    /// Channel topic.
    pub topic: Option<String>,
    /// Role ids that must be among the member's roles to see the channel (empty: everyone
    /// sees it). Rendered as permission overwrites denying `VIEW_CHANNEL` to `@everyone` and
    /// allowing it to these roles.
    pub visible_to_roles: Vec<u64>,
}

impl FakeChannel {
    /// A text channel everybody can see.
    pub fn text(id: u64, name: impl Into<String>) -> Self {
        Self {
            id,
            name: name.into(),
            kind: 0,
            parent_id: None,
            topic: None,
            visible_to_roles: Vec::new(),
        }
    }

    /// The same channel, visible only to these roles.
    pub fn private_to(mut self, roles: &[u64]) -> Self {
        self.visible_to_roles = roles.to_vec();
        self
    }
}

/// A role of the fake guild.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FakeRole {
    /// Role id (`@everyone` has the guild's id).
    pub id: u64,
    /// Role name.
    pub name: String,
    /// Position in the hierarchy (`@everyone` is 0; higher is more powerful).
    pub position: u16,
    /// Permission bits.
    pub permissions: u64,
    /// Managed by an integration (a bot's own role): cannot be granted.
    pub managed: bool,
    /// Colour as 0xRRGGBB (0 = none).
    pub color: u32,
}

/// The guild the bot is in, as sent in GUILD_CREATE.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FakeGuild {
    /// Guild id (also the id of its `@everyone` role).
    pub id: u64,
    /// Guild name.
    pub name: String,
    /// The owner's user id.
    pub owner_id: u64,
    /// Guild locale, e.g. `"ko"`.
    pub preferred_locale: String,
    /// Channels.
    pub channels: Vec<FakeChannel>,
    /// Roles, `@everyone` included.
    pub roles: Vec<FakeRole>,
    /// Members other than the bot, with their role ids (`@everyone` implied).
    pub members: Vec<(DcUser, Vec<u64>)>,
    /// The bot's roles.
    pub bot_roles: Vec<u64>,
}

impl Default for FakeGuild {
    /// "Encore Test Shop": a staff channel visible to Staff and the bot, a community channel,
    /// roles `@everyone` (0), VIP (1), Staff (2) and the bot's managed role (3, may manage
    /// roles and messages, time members out and create invites); the owner is a member with
    /// the Staff role.
    fn default() -> Self {
        let everyone = PERM_VIEW_CHANNEL
            | PERM_SEND_MESSAGES
            | PERM_READ_MESSAGE_HISTORY
            | PERM_ADD_REACTIONS
            | PERM_EMBED_LINKS
            | PERM_ATTACH_FILES
            | PERM_USE_APPLICATION_COMMANDS;
        Self {
            id: GUILD_ID,
            name: "Encore Test Shop".to_owned(),
            owner_id: OWNER_ID,
            preferred_locale: "ko".to_owned(),
            channels: vec![
                FakeChannel::text(STAFF_CHANNEL_ID, "staff")
                    .private_to(&[STAFF_ROLE_ID, BOT_ROLE_ID]),
                FakeChannel::text(COMMUNITY_CHANNEL_ID, "community"),
            ],
            roles: vec![
                FakeRole {
                    id: GUILD_ID,
                    name: "@everyone".to_owned(),
                    position: 0,
                    permissions: everyone,
                    managed: false,
                    color: 0,
                },
                FakeRole {
                    id: VIP_ROLE_ID,
                    name: "VIP".to_owned(),
                    position: 1,
                    permissions: everyone,
                    managed: false,
                    color: 0xF1C40F,
                },
                FakeRole {
                    id: STAFF_ROLE_ID,
                    name: "Staff".to_owned(),
                    position: 2,
                    permissions: everyone | PERM_MANAGE_MESSAGES,
                    managed: false,
                    color: 0x3498DB,
                },
                FakeRole {
                    id: BOT_ROLE_ID,
                    name: "Encore".to_owned(),
                    position: 3,
                    permissions: everyone
                        | PERM_MANAGE_ROLES
                        | PERM_MANAGE_MESSAGES
                        | PERM_MODERATE_MEMBERS
                        | PERM_CREATE_INSTANT_INVITE,
                    managed: true,
                    color: 0,
                },
            ],
            members: vec![(owner(), vec![STAFF_ROLE_ID])],
            bot_roles: vec![BOT_ROLE_ID],
        }
    }
}

/// The default guild's owner (a member with the Staff role).
pub fn owner() -> DcUser {
    DcUser::new(OWNER_ID, "shop-owner").with_global_name("Shop Owner")
}

/// A sliding-window rate limit: at most `max` requests per `per`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateLimit {
    /// Requests allowed in one window.
    pub max: usize,
    /// Length of the window.
    pub per: Duration,
}

/// How a [`FakeDiscord`] is set up; `Default` is Discord's published behaviour.
#[derive(Clone, Debug)]
pub struct FakeDiscordOptions {
    /// Token the bot must use (without the `Bot ` prefix).
    pub token: String,
    /// The bot's user id.
    pub bot_user_id: u64,
    /// The bot's username.
    pub bot_username: String,
    /// The application id (Discord: the bot's user id).
    pub application_id: u64,
    /// The application's name.
    pub application_name: String,
    /// Application flags; by default the message content and server members intents are
    /// enabled ([`FLAG_GATEWAY_MESSAGE_CONTENT`] | [`FLAG_GATEWAY_GUILD_MEMBERS`]), the presence
    /// intent is not.
    pub application_flags: u64,
    /// The guild the bot is in; `None`: a bot in no guild.
    pub guild: Option<FakeGuild>,
    /// `heartbeat_interval` of HELLO (Discord: 41.25 s).
    pub heartbeat_interval: Duration,
    /// Limit over all requests of the bot except the interaction routes; `None` disables it.
    pub global_limit: Option<RateLimit>,
    /// Limit per channel on `POST /channels/{id}/messages`; `None` disables it.
    pub channel_message_limit: Option<RateLimit>,
    /// Anti-spam budget for opening DMs with new users; `None` disables it.
    pub dm_open_limit: Option<RateLimit>,
    /// How long after an interaction reached the bot its answer is accepted (Discord: 3 s).
    pub interaction_deadline: Duration,
    /// How long an interaction token stays valid for follow-ups (Discord: 15 minutes).
    pub interaction_token_lifetime: Duration,
    /// How long a disconnected session can be resumed.
    pub resume_window: Duration,
    /// Hold events pushed while no session exists until one identifies (see the module docs).
    pub hold_events_while_offline: bool,
}

impl Default for FakeDiscordOptions {
    fn default() -> Self {
        Self {
            token: TOKEN.to_owned(),
            bot_user_id: BOT_USER_ID,
            bot_username: BOT_USERNAME.to_owned(),
            application_id: APPLICATION_ID,
            application_name: "Encore Test".to_owned(),
            application_flags: FLAG_GATEWAY_MESSAGE_CONTENT | FLAG_GATEWAY_GUILD_MEMBERS,
            guild: Some(FakeGuild::default()),
            heartbeat_interval: Duration::from_millis(41_250),
            global_limit: Some(RateLimit {
                max: 50,
                per: Duration::from_secs(1),
            }),
            channel_message_limit: Some(RateLimit {
                max: 5,
                per: Duration::from_secs(5),
            }),
            dm_open_limit: Some(RateLimit {
                max: 10,
                per: Duration::from_secs(60),
            }),
            interaction_deadline: Duration::from_secs(3),
            interaction_token_lifetime: Duration::from_secs(15 * 60),
            resume_window: Duration::from_secs(120),
            hold_events_while_offline: true,
        }
    }
}

/// A message the bot posted with `POST /channels/{id}/messages` (or, in
/// [`FakeDiscord::edits`], an edit it made).
#[derive(Clone, Debug, PartialEq)]
pub struct SentMessage {
    /// Message id Discord assigned.
    pub id: u64,
    /// Channel it went to.
    pub channel_id: u64,
    /// The DM recipient when `channel_id` is a DM channel.
    pub to_user: Option<u64>,
    /// The guild when `channel_id` is a guild channel.
    pub guild_id: Option<u64>,
    /// `content` as sent ("" when absent).
    pub content: String,
    /// `components` as sent (action rows).
    pub components: Option<Value>,
    /// `embeds` as sent.
    pub embeds: Option<Value>,
    /// `message_reference` as sent.
    pub message_reference: Option<Value>,
    /// The message replied to (`message_reference.message_id`).
    pub reply_to: Option<u64>,
    /// `flags` as sent.
    pub flags: Option<u64>,
    /// File names of a multipart upload.
    pub files: Vec<String>,
    /// The bytes of each uploaded file, in the order of `files`.
    pub file_bytes: Vec<Vec<u8>>,
    /// The whole JSON body (or `payload_json`) as sent.
    pub body: Value,
    /// When the request arrived.
    pub at: Instant,
}

/// One request the stand-in answered, whatever the outcome.
#[derive(Clone, Debug, PartialEq)]
pub struct RequestLogEntry {
    /// HTTP method (`GET`, `POST`, ...).
    pub method: String,
    /// Path as requested, e.g. `/api/v10/channels/123/messages` (no query).
    pub path: String,
    /// HTTP status answered.
    pub status: u16,
    /// Discord's JSON error `code` of an error answer.
    pub code: Option<i64>,
    /// `retry_after` of a 429.
    pub retry_after: Option<Duration>,
    /// The answer was a scripted fault.
    pub scripted: bool,
    /// When the request arrived.
    pub at: Instant,
}

/// A failure a test scripts for write requests (POST, PUT, PATCH, DELETE) with
/// [`FakeDiscord::fail_next`] and [`FakeDiscord::fail_for`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// 429 with `retry_after` and the `retry-after` header; `global` makes it a global limit
    /// (`x-ratelimit-global: true`). Counted in [`FakeDiscord::scripted_faults`], not in
    /// [`FakeDiscord::violations`] nor [`FakeDiscord::invalid_requests`].
    TooManyRequests {
        /// Milliseconds the client is told to wait.
        retry_after_ms: u64,
        /// Whether the limit is the global one.
        global: bool,
    },
    /// 500 `{"message": "500: Internal Server Error", "code": 0}`.
    ServerError,
}

/// An attempt to open a DM channel (`POST /users/@me/channels`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DmOpen {
    /// `recipient_id` asked for.
    pub user_id: u64,
    /// The DM channel answered (None when refused).
    pub channel_id: Option<u64>,
    /// The bot had no DM channel with this user before (this open used the budget).
    pub new: bool,
    /// HTTP status answered (200, 403 for 40003, 429, ...).
    pub status: u16,
    /// When the request arrived.
    pub at: Instant,
}

/// A role given or taken (`PUT`/`DELETE /guilds/{g}/members/{u}/roles/{r}`), successful ones only.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoleChange {
    /// Guild id.
    pub guild_id: u64,
    /// Member's user id.
    pub user_id: u64,
    /// Role id.
    pub role_id: u64,
    /// `X-Audit-Log-Reason`, percent-decoded.
    pub reason: Option<String>,
    /// When the request arrived.
    pub at: Instant,
}

/// A timeout set or lifted with `PATCH /guilds/{g}/members/{u}` ([`FakeDiscord::timeouts`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Timeout {
    /// Guild id.
    pub guild_id: u64,
    /// Member's user id.
    pub user_id: u64,
    /// `communication_disabled_until` as sent (ISO 8601); `None` lifts the timeout.
    pub until: Option<String>,
    /// When the request arrived.
    pub at: Instant,
}

/// An invite made with `POST /channels/{c}/invites` ([`FakeDiscord::invites`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Invite {
    /// Channel the invite leads to.
    pub channel_id: u64,
    /// The invite code (`https://discord.gg/{code}`), unique.
    pub code: String,
    /// `max_age` in seconds (Discord's default 86400 when absent; 0 = never expires).
    pub max_age: u64,
    /// `max_uses` (0 = unlimited, the default).
    pub max_uses: u64,
    /// `unique` as sent.
    pub unique: bool,
    /// When the request arrived.
    pub at: Instant,
}

/// A message pinned with `PUT /channels/{c}/pins/{m}` ([`FakeDiscord::pins`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PinnedMessage {
    /// Channel.
    pub channel_id: u64,
    /// Message pinned.
    pub message_id: u64,
    /// When the request arrived.
    pub at: Instant,
}

/// What [`FakeDiscord::push_command`] and [`FakeDiscord::push_component`] return.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PushedInteraction {
    /// Interaction id (the `{id}` of the callback route).
    pub id: u64,
    /// Interaction token (the `{token}` of the callback and webhook routes).
    pub token: String,
    /// Channel the interaction happened in.
    pub channel_id: u64,
    /// Guild, for an interaction in a guild channel.
    pub guild_id: Option<u64>,
    /// When it was pushed.
    pub pushed_at: Instant,
}

/// An answer to an interaction (`POST /interactions/{id}/{token}/callback`), accepted or not.
#[derive(Clone, Debug, PartialEq)]
pub struct InteractionCallback {
    /// Interaction id from the route.
    pub interaction_id: u64,
    /// Token from the route.
    pub token: String,
    /// Callback type: 4 message, 5 deferred message, 6 deferred update (`Acknowledge`),
    /// 7 update message, 9 modal, ...
    pub kind: u64,
    /// `data` as sent.
    pub data: Option<Value>,
    /// HTTP status answered (204 accepted; 400 already answered; 404 unknown or too late).
    pub status: u16,
    /// Time since the interaction was pushed.
    pub after: Duration,
    /// When the request arrived.
    pub at: Instant,
}

/// A follow-up (`POST /webhooks/{app}/{token}`) or an edit of the original response
/// (`PATCH /webhooks/{app}/{token}/messages/@original`), accepted or not.
#[derive(Clone, Debug, PartialEq)]
pub struct Followup {
    /// The interaction the token belongs to (0 if the token is unknown).
    pub interaction_id: u64,
    /// `true` for a `PATCH …/messages/@original`.
    pub edit_original: bool,
    /// Message created or edited.
    pub message_id: Option<u64>,
    /// `content` as sent.
    pub content: Option<String>,
    /// `components` as sent.
    pub components: Option<Value>,
    /// `flags` as sent (64 = ephemeral).
    pub flags: Option<u64>,
    /// The whole JSON body.
    pub body: Value,
    /// HTTP status answered.
    pub status: u16,
    /// When the request arrived.
    pub at: Instant,
}

/// An IDENTIFY the gateway received (whether accepted or not).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identify {
    /// Gateway connection number (1, 2, ...).
    pub connection: u64,
    /// `token` as sent (serenity sends `Bot <token>`).
    pub token: String,
    /// `intents` bits.
    pub intents: u64,
    /// `shard` as [id, total], if sent.
    pub shard: Option<(u32, u32)>,
    /// Close code the gateway answered with, or None if READY followed.
    pub refused_with: Option<u16>,
    /// When it arrived.
    pub at: Instant,
}

/// A frame the gateway sent to the bot.
#[derive(Clone, Debug, PartialEq)]
pub struct GatewayFrame {
    /// Gateway connection number (1, 2, ...).
    pub connection: u64,
    /// The whole payload (`op`, `d`, `s`, `t`).
    pub payload: Value,
    /// When it was written.
    pub at: Instant,
}

impl GatewayFrame {
    /// `op` of the frame (0 dispatch, 7 reconnect, 9 invalid session, 10 hello, 11 ack).
    pub fn op(&self) -> u64 {
        self.payload["op"].as_u64().unwrap_or(u64::MAX)
    }

    /// `t` of a dispatch (`"READY"`, `"MESSAGE_CREATE"`, ...).
    pub fn event_name(&self) -> Option<&str> {
        self.payload["t"].as_str()
    }
}

/// The running stand-in. Not `Clone`: share it with `Arc` if several tasks need it; the
/// server stops when it is dropped. The server runs on the test's tokio runtime, so a test
/// must wait with `tokio::time::sleep`, never `std::thread::sleep`, or it stalls the server.
pub struct FakeDiscord {
    shared: Arc<Shared>,
    addr: SocketAddr,
    stop: Mutex<Option<oneshot::Sender<()>>>,
    server: Mutex<Option<JoinHandle<()>>>,
}

impl FakeDiscord {
    /// Starts a stand-in with [`FakeDiscordOptions::default`] on `127.0.0.1`, a free port.
    ///
    /// # Panics
    /// If no local port can be bound.
    pub async fn start() -> FakeDiscord {
        Self::start_with(FakeDiscordOptions::default()).await
    }

    /// Starts a stand-in with the given options.
    ///
    /// # Panics
    /// If no local port can be bound.
    pub async fn start_with(options: FakeDiscordOptions) -> FakeDiscord {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
            .await
            .expect("fake Discord: bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("fake Discord: local address");
        let shared = Arc::new(Shared {
            state: Mutex::new(ServerState::new(&options, addr)),
            changed: Notify::new(),
            options,
        });
        let router = Router::new()
            .route("/gateway", get(gateway))
            .fallback(rest)
            .with_state(Arc::clone(&shared));
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, router)
                .with_graceful_shutdown(async move {
                    let _ = stop_rx.await;
                })
                .await;
        });
        FakeDiscord {
            shared,
            addr,
            stop: Mutex::new(Some(stop_tx)),
            server: Mutex::new(Some(server)),
        }
    }

    /// Base URL for serenity's `HttpBuilder::proxy`, e.g. `http://127.0.0.1:41234` (serenity
    /// replaces `https://discord.com` with it, keeping `/api/v10/...`).
    pub fn api_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The gateway URL `GET /gateway` answers, e.g. `ws://127.0.0.1:41234/gateway`.
    pub fn gateway_url(&self) -> String {
        format!("ws://{}/gateway", self.addr)
    }

    /// The token the stand-in accepts (without `Bot `).
    pub fn token(&self) -> String {
        self.shared.options.token.clone()
    }

    /// The bot's user id.
    pub fn bot_user_id(&self) -> u64 {
        self.shared.options.bot_user_id
    }

    /// The application id.
    pub fn application_id(&self) -> u64 {
        self.shared.options.application_id
    }

    /// The guild's id, if the bot is in one.
    pub fn guild_id(&self) -> Option<u64> {
        self.shared.options.guild.as_ref().map(|g| g.id)
    }

    /// Every message posted with `POST /channels/{id}/messages`, in arrival order
    /// (interaction answers are in [`Self::interaction_callbacks`] and [`Self::followups`]).
    pub fn sent(&self) -> Vec<SentMessage> {
        self.shared.lock().sent.clone()
    }

    /// The messages posted to one channel, in arrival order.
    pub fn sent_to(&self, channel_id: u64) -> Vec<SentMessage> {
        let state = self.shared.lock();
        state
            .sent
            .iter()
            .filter(|m| m.channel_id == channel_id)
            .cloned()
            .collect()
    }

    /// The messages posted to a user's DM channel, in arrival order.
    pub fn sent_to_user(&self, user_id: u64) -> Vec<SentMessage> {
        let state = self.shared.lock();
        state
            .sent
            .iter()
            .filter(|m| m.to_user == Some(user_id))
            .cloned()
            .collect()
    }

    /// Every successful `PATCH /channels/{c}/messages/{m}`, in arrival order.
    pub fn edits(&self) -> Vec<SentMessage> {
        self.shared.lock().edits.clone()
    }

    /// A message as Discord would return it now (sent by the bot, pushed, or an interaction
    /// response), as a `Message` object.
    pub fn message(&self, message_id: u64) -> Option<Value> {
        self.shared
            .lock()
            .messages
            .get(&message_id)
            .map(|m| m.json.clone())
    }

    /// The DM channel of a user, if one was opened (by the bot or by a pushed DM).
    pub fn dm_channel_of(&self, user_id: u64) -> Option<u64> {
        self.shared.lock().dm_channels.get(&user_id).copied()
    }

    /// Every `POST /users/@me/channels`, in arrival order.
    pub fn dm_opens(&self) -> Vec<DmOpen> {
        self.shared.lock().dm_opens.clone()
    }

    /// Roles given, in order.
    pub fn role_grants(&self) -> Vec<RoleChange> {
        self.shared.lock().role_grants.clone()
    }

    /// Roles taken away, in order.
    pub fn role_removals(&self) -> Vec<RoleChange> {
        self.shared.lock().role_removals.clone()
    }

    /// Messages deleted with `DELETE /channels/{c}/messages/{m}`, as (channel, message), in
    /// order. A deleted message is gone (reading, editing, pinning or deleting it again is
    /// 404 code 10008).
    pub fn deleted_messages(&self) -> Vec<(u64, u64)> {
        self.shared.lock().deleted.clone()
    }

    /// Messages pinned with `PUT /channels/{c}/pins/{m}`, in order.
    pub fn pins(&self) -> Vec<PinnedMessage> {
        self.shared.lock().pins.clone()
    }

    /// Every accepted timeout change (`PATCH /guilds/{g}/members/{u}` with
    /// `communication_disabled_until`), in order.
    pub fn timeouts(&self) -> Vec<Timeout> {
        self.shared.lock().timeouts.clone()
    }

    /// Every invite created with `POST /channels/{c}/invites`, in order.
    pub fn invites(&self) -> Vec<Invite> {
        self.shared.lock().invites.clone()
    }

    /// The roles a guild member has now (None if not a member).
    pub fn member_roles(&self, user_id: u64) -> Option<Vec<u64>> {
        self.shared.lock().members.get(&user_id).cloned()
    }

    /// The global commands as last set (`PUT /applications/{app}/commands`), as Discord returns
    /// them (with `id`, `application_id`, `version`).
    pub fn global_commands(&self) -> Vec<Value> {
        self.shared.lock().commands.clone()
    }

    /// The body of every successful bulk overwrite of the global commands, in order.
    pub fn command_overwrites(&self) -> Vec<Value> {
        self.shared.lock().command_overwrites.clone()
    }

    /// Every interaction answer, accepted or not, in arrival order.
    pub fn interaction_callbacks(&self) -> Vec<InteractionCallback> {
        self.shared.lock().callbacks.clone()
    }

    /// Every follow-up and `@original` edit, accepted or not, in arrival order.
    pub fn followups(&self) -> Vec<Followup> {
        self.shared.lock().followups.clone()
    }

    /// Every request answered, in arrival order.
    pub fn requests(&self) -> Vec<RequestLogEntry> {
        self.shared.lock().requests.clone()
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

    /// Answers with 401, 403 or 429 (scripted faults excepted): Discord bans a bot's IP for a
    /// while after 10,000 of them in 10 minutes.
    pub fn invalid_requests(&self) -> usize {
        let state = self.shared.lock();
        state
            .requests
            .iter()
            .filter(|r| !r.scripted && matches!(r.status, 401 | 403 | 429))
            .count()
    }

    /// Requests answered with a scripted fault.
    pub fn scripted_faults(&self) -> usize {
        self.shared.lock().scripted_faults
    }

    /// IDENTIFYs received (refused ones included).
    pub fn identifies(&self) -> usize {
        self.shared.lock().identify_log.len()
    }

    /// Every IDENTIFY received, in order.
    pub fn identify_log(&self) -> Vec<Identify> {
        self.shared.lock().identify_log.clone()
    }

    /// RESUMEs that resumed a session.
    pub fn resumes(&self) -> usize {
        self.shared.lock().resumes
    }

    /// RESUMEs refused with an invalid session (op 9).
    pub fn failed_resumes(&self) -> usize {
        self.shared.lock().failed_resumes
    }

    /// Heartbeats (op 1) received.
    pub fn heartbeats(&self) -> usize {
        self.shared.lock().heartbeats
    }

    /// WebSocket connections accepted so far.
    pub fn connections(&self) -> usize {
        usize::try_from(self.shared.lock().next_connection).unwrap_or(usize::MAX)
    }

    /// Whether a gateway connection is open with an identified or resumed session.
    pub fn connected(&self) -> bool {
        self.shared
            .lock()
            .connections
            .values()
            .any(|c| c.session.is_some())
    }

    /// Every frame the gateway sent, in order (HELLO, dispatches, ACKs, ...).
    pub fn frames(&self) -> Vec<GatewayFrame> {
        self.shared.lock().frames.clone()
    }

    /// Events pushed but not yet written to any connection (held or waiting for a resume).
    pub fn undelivered_events(&self) -> usize {
        let state = self.shared.lock();
        state.held.len()
            + state
                .sessions
                .iter()
                .filter(|s| s.alive)
                .map(|s| s.log.iter().filter(|d| d.seq > s.sent_up_to).count())
                .sum::<usize>()
    }

    /// Waits until at least `n` messages were posted; false if `timeout` passed first.
    pub async fn wait_for_sent(&self, n: usize, timeout: Duration) -> bool {
        self.wait_until(timeout, |dc| dc.shared.lock().sent.len() >= n)
            .await
    }

    /// Waits until a gateway session is connected; false if `timeout` passed first.
    pub async fn wait_connected(&self, timeout: Duration) -> bool {
        self.wait_until(timeout, FakeDiscord::connected).await
    }

    /// Waits until `condition` holds (checked on every change and every 20 ms); false if
    /// `timeout` passed first.
    pub async fn wait_until(
        &self,
        timeout: Duration,
        mut condition: impl FnMut(&FakeDiscord) -> bool,
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

    /// Sets the application flags `GET /oauth2/applications/@me` and READY report, and that
    /// IDENTIFY checks privileged intents against (e.g. 0 to test a bot whose message content
    /// intent is not enabled in the developer portal).
    pub fn set_application_flags(&self, flags: u64) {
        self.shared.lock().application_flags = flags;
    }

    /// From now on, messages to this user's DM channel answer 403 code 50007
    /// `Cannot send messages to this user` (the user closed DMs or blocked the bot).
    pub fn close_dms(&self, user_id: u64) {
        self.shared.lock().closed_dms.insert(user_id);
    }

    /// Undoes [`Self::close_dms`].
    pub fn open_dms(&self, user_id: u64) {
        self.shared.lock().closed_dms.remove(&user_id);
    }

    /// Makes a user a member of the guild with these roles (replacing earlier roles).
    pub fn add_member(&self, user: &DcUser, roles: &[u64]) {
        let mut state = self.shared.lock();
        state.users.insert(user.id, user.clone());
        state.members.insert(user.id, roles.to_vec());
    }

    /// Removes a user from the guild (`GET /guilds/{g}/members/{u}` then answers 10007).
    pub fn remove_member(&self, user_id: u64) {
        let mut state = self.shared.lock();
        state.members.remove(&user_id);
        state.timed_out.remove(&user_id);
        state.member_joined_at.remove(&user_id);
    }

    /// Makes a user known (so DM channels and events carry their name).
    pub fn add_user(&self, user: &DcUser) {
        self.shared.lock().users.insert(user.id, user.clone());
    }

    /// The next `n` write requests (POST, PUT, PATCH, DELETE) get `fault` instead of being
    /// handled (queued after faults scripted earlier).
    pub fn fail_next(&self, n: usize, fault: Fault) {
        self.shared
            .lock()
            .fail_next
            .extend(std::iter::repeat_n(fault, n));
    }

    /// Every write request from now until `duration` has passed gets `fault` (after any faults
    /// queued by [`Self::fail_next`]).
    pub fn fail_for(&self, duration: Duration, fault: Fault) {
        self.shared.lock().fail_until = Some((Instant::now() + duration, fault));
    }

    /// Cancels all scripted faults.
    pub fn clear_faults(&self) {
        let mut state = self.shared.lock();
        state.fail_next.clear();
        state.fail_until = None;
    }

    /// Whether heartbeats are acknowledged (default true); without ACKs serenity considers the
    /// connection a zombie and reconnects.
    pub fn set_heartbeat_acks(&self, ack: bool) {
        self.shared.lock().ack_heartbeats = ack;
    }

    /// Closes every gateway connection abruptly (TCP close, no close frame), as a network
    /// failure would; the sessions stay resumable. Returns the number of connections closed.
    pub fn drop_connection(&self) -> usize {
        self.end_connections(ConnectionEnd::Drop)
    }

    /// Closes every gateway connection with a close frame (`code`, `reason`). 4000-4003,
    /// 4005, 4008 keep the session resumable; 4004, 4007, 4009-4014 end it.
    pub fn close_connection(&self, code: u16, reason: &str) -> usize {
        self.end_connections(ConnectionEnd::Close(code, reason.to_owned()))
    }

    /// Sends op 7 RECONNECT on every connection (the bot should reconnect and resume).
    pub fn request_reconnect(&self) -> usize {
        self.send_op(json!({ "op": 7, "d": null, "s": null, "t": null }), false)
    }

    /// Sends op 9 INVALID SESSION on every connection; if not `resumable`, the sessions end
    /// (the bot must identify again).
    pub fn invalidate_session(&self, resumable: bool) -> usize {
        self.send_op(
            json!({ "op": 9, "d": resumable, "s": null, "t": null }),
            !resumable,
        )
    }

    /// A user writes `text` to the bot in DM; returns the message id. The DM channel is created
    /// if needed (without using the bot's DM budget). Needs the `DIRECT_MESSAGES` intent.
    pub fn push_dm(&self, user: &DcUser, text: &str) -> u64 {
        let mut state = self.shared.lock();
        state.users.insert(user.id, user.clone());
        let channel_id = state.dm_channel(user.id);
        let id = state.next_id();
        let mut message = state.message_json(id, channel_id, user.to_json(), text);
        message["mentions"] = state.mentions_json(text);
        state.store_message(id, channel_id, message.clone(), false);
        state.deliver(PendingEvent {
            name: "MESSAGE_CREATE",
            payload: message,
            intent: INTENT_DIRECT_MESSAGES,
            gated_content: false,
            mentions_bot: false,
            guild_id: None,
            interaction_id: None,
        });
        drop(state);
        self.shared.changed.notify_waiters();
        id
    }

    /// A user writes `text` in a guild channel; returns the message id. The user becomes a
    /// member (without roles) if not one yet. Needs the `GUILD_MESSAGES` intent; the content
    /// is empty without `MESSAGE_CONTENT` unless the text mentions the bot (`<@BOT_ID>`).
    ///
    /// # Panics
    /// If `channel_id` is not a channel of the guild.
    pub fn push_guild_message(&self, channel_id: u64, user: &DcUser, text: &str) -> u64 {
        let mut state = self.shared.lock();
        let guild_id = state
            .guild_channel(channel_id)
            .map(|_| state.guild_id())
            .unwrap_or_else(|| panic!("fake Discord: {channel_id} is not a guild channel"));
        state.users.insert(user.id, user.clone());
        state.members.entry(user.id).or_default();
        let id = state.next_id();
        let mut message = state.message_json(id, channel_id, user.to_json(), text);
        message["guild_id"] = json!(guild_id.to_string());
        message["member"] = state.partial_member_json(user.id);
        message["mentions"] = state.mentions_json(text);
        let mentions_bot = text.contains(&format!("<@{}>", state.bot_id))
            || text.contains(&format!("<@!{}>", state.bot_id));
        state.store_message(id, channel_id, message.clone(), false);
        state.deliver(PendingEvent {
            name: "MESSAGE_CREATE",
            payload: message,
            intent: INTENT_GUILD_MESSAGES,
            gated_content: true,
            mentions_bot,
            guild_id: Some(guild_id),
            interaction_id: None,
        });
        drop(state);
        self.shared.changed.notify_waiters();
        id
    }

    /// A user runs the slash command `/name` with `options` (name, value: a string is type 3,
    /// an integer 4, a boolean 5, a float 10 — or the type of the registered option), in the
    /// bot's DM (`in_dm`) or in the community channel (the first text channel that everyone
    /// sees). Returns the interaction's id and token.
    ///
    /// # Panics
    /// If `in_dm` is false and the bot is in no guild.
    pub fn push_command(
        &self,
        user: &DcUser,
        name: &str,
        options: Vec<(&str, Value)>,
        in_dm: bool,
    ) -> PushedInteraction {
        let channel_id = if in_dm {
            None
        } else {
            Some(
                self.shared
                    .lock()
                    .default_channel()
                    .expect("fake Discord: the bot is in no guild"),
            )
        };
        self.command(user, name, options, channel_id)
    }

    /// Like [`Self::push_command`], in a given guild channel (e.g. the staff channel).
    ///
    /// # Panics
    /// If `channel_id` is not a channel of the guild.
    pub fn push_command_in(
        &self,
        channel_id: u64,
        user: &DcUser,
        name: &str,
        options: Vec<(&str, Value)>,
    ) -> PushedInteraction {
        self.command(user, name, options, Some(channel_id))
    }

    /// A user presses the button `custom_id` under message `message_id` in `channel_id` (a DM
    /// channel or a guild channel). The interaction carries the message as the bot last left
    /// it (or a bare one if the stand-in does not know it). Returns the interaction's id and
    /// token.
    pub fn push_component(
        &self,
        user: &DcUser,
        message_id: u64,
        channel_id: u64,
        custom_id: &str,
    ) -> PushedInteraction {
        let mut state = self.shared.lock();
        state.users.insert(user.id, user.clone());
        let message = match state.messages.get(&message_id) {
            Some(stored) => stored.json.clone(),
            None => {
                let bot = state.bot_user_json();
                state.message_json(message_id, channel_id, bot, "")
            }
        };
        let data = json!({ "custom_id": custom_id, "component_type": 2 });
        let pushed = state.interaction(user, channel_id, 3, data, Some((message_id, message)));
        drop(state);
        self.shared.changed.notify_waiters();
        pushed
    }

    /// A user joins the guild: they become a member without roles (joined now) and
    /// `GUILD_MEMBER_ADD` is dispatched (needs the `GUILD_MEMBERS` intent). Returns the
    /// member's `joined_at` as sent.
    ///
    /// # Panics
    /// If the bot is in no guild.
    pub fn push_member_join(&self, user: &DcUser) -> String {
        let mut state = self.shared.lock();
        let guild_id = state
            .guild
            .as_ref()
            .map(|g| g.id)
            .expect("fake Discord: the bot is in no guild");
        state.users.insert(user.id, user.clone());
        state.members.insert(user.id, Vec::new());
        state.timed_out.remove(&user.id);
        let joined_at = iso_timestamp(SystemTime::now());
        state.member_joined_at.insert(user.id, joined_at.clone());
        let mut member = state.member_json(user.id);
        member["guild_id"] = json!(guild_id.to_string());
        state.deliver(PendingEvent {
            name: "GUILD_MEMBER_ADD",
            payload: member,
            intent: INTENT_GUILD_MEMBERS,
            gated_content: false,
            mentions_bot: false,
            guild_id: Some(guild_id),
            interaction_id: None,
        });
        drop(state);
        self.shared.changed.notify_waiters();
        joined_at
    }

    /// Dispatches any event: `name` is the `t` (`"GUILD_MEMBER_ADD"`, ...), `payload` its `d`,
    /// `intent` the intent bit it needs (0 for none). Goes to shard 0.
    pub fn push_raw_event(&self, name: &'static str, payload: Value, intent: u64) {
        self.shared.lock().deliver(PendingEvent {
            name,
            payload,
            intent,
            gated_content: false,
            mentions_bot: false,
            guild_id: None,
            interaction_id: None,
        });
        self.shared.changed.notify_waiters();
    }

    /// Stops the server and waits (up to 5 s) until it has stopped; gateway connections are
    /// dropped.
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

    fn command(
        &self,
        user: &DcUser,
        name: &str,
        options: Vec<(&str, Value)>,
        channel_id: Option<u64>,
    ) -> PushedInteraction {
        let mut state = self.shared.lock();
        state.users.insert(user.id, user.clone());
        let channel_id = match channel_id {
            Some(id) => {
                assert!(
                    state.guild_channel(id).is_some(),
                    "fake Discord: {id} is not a guild channel"
                );
                id
            }
            None => state.dm_channel(user.id),
        };
        let registered = state
            .commands
            .iter()
            .find(|c| c["name"] == name && c["type"].as_u64().unwrap_or(1) == 1)
            .cloned();
        let command_id = match &registered {
            Some(command) => command["id"].as_str().unwrap_or("1").to_owned(),
            None => state.next_id().to_string(),
        };
        let options: Vec<Value> = options
            .into_iter()
            .map(|(option, value)| {
                let declared = registered.as_ref().and_then(|c| {
                    c["options"]
                        .as_array()?
                        .iter()
                        .find(|o| o["name"] == option)?["type"]
                        .as_u64()
                });
                let kind = declared.unwrap_or(match &value {
                    Value::Bool(_) => 5,
                    Value::Number(n) if n.is_f64() => 10,
                    Value::Number(_) => 4,
                    _ => 3,
                });
                json!({ "name": option, "type": kind, "value": value })
            })
            .collect();
        let data = json!({
            "id": command_id,
            "name": name,
            "type": 1,
            "options": options,
        });
        let pushed = state.interaction(user, channel_id, 2, data, None);
        drop(state);
        self.shared.changed.notify_waiters();
        pushed
    }

    fn end_connections(&self, end: ConnectionEnd) -> usize {
        let mut state = self.shared.lock();
        let mut count = 0;
        for connection in state.connections.values_mut() {
            connection.end = Some(end.clone());
            count += 1;
        }
        drop(state);
        self.shared.changed.notify_waiters();
        count
    }

    fn send_op(&self, frame: Value, end_sessions: bool) -> usize {
        let mut state = self.shared.lock();
        let mut count = 0;
        let mut ended = Vec::new();
        for connection in state.connections.values_mut() {
            connection.outbox.push_back(frame.clone());
            if end_sessions && let Some(session) = connection.session.take() {
                ended.push(session);
            }
            count += 1;
        }
        for session in &mut state.sessions {
            if ended.contains(&session.id) {
                session.alive = false;
                session.connection = None;
            }
        }
        drop(state);
        self.shared.changed.notify_waiters();
        count
    }
}

impl Drop for FakeDiscord {
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

/// State shared between the server and the test's handle.
struct Shared {
    state: Mutex<ServerState>,
    /// Woken on every change (request answered, event pushed, connection change, shutdown).
    changed: Notify,
    options: FakeDiscordOptions,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, ServerState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A message the stand-in knows: sent by the bot, pushed by a test, or an interaction response.
#[derive(Clone, Debug)]
struct StoredMessage {
    channel_id: u64,
    /// The `Message` object as Discord would return it now.
    json: Value,
    from_bot: bool,
}

/// An interaction the stand-in pushed.
#[derive(Clone, Debug)]
struct InteractionState {
    token: String,
    channel_id: u64,
    /// 2 application command, 3 message component.
    kind: u8,
    pushed_at: Instant,
    /// When it was first written to a gateway connection.
    delivered_at: Option<Instant>,
    answered: bool,
    /// The original response message (type 4, 5) or the component's message (6, 7).
    original: Option<u64>,
    /// The message a component interaction is attached to.
    component_message: Option<u64>,
    /// Who caused it.
    user_id: u64,
    /// Guild of the channel (None in DMs).
    guild_id: Option<u64>,
}

/// An event waiting to be appended to the sessions' logs.
#[derive(Clone, Debug)]
struct PendingEvent {
    name: &'static str,
    payload: Value,
    /// Intent bit needed (0: none).
    intent: u64,
    /// `content` needs the message content intent (guild messages).
    gated_content: bool,
    mentions_bot: bool,
    /// Guild of the event (decides the shard); None goes to shard 0.
    guild_id: Option<u64>,
    interaction_id: Option<u64>,
}

/// A dispatch (op 0) in a session's log.
#[derive(Clone, Debug)]
struct Dispatch {
    seq: u64,
    name: &'static str,
    payload: Value,
    interaction_id: Option<u64>,
}

/// A gateway session (from IDENTIFY until it ends).
#[derive(Clone, Debug)]
struct Session {
    id: String,
    intents: u64,
    shard: Option<(u32, u32)>,
    seq: u64,
    log: Vec<Dispatch>,
    /// Highest seq written to a connection.
    sent_up_to: u64,
    /// Connection attached now.
    connection: Option<u64>,
    disconnected_at: Option<Instant>,
    alive: bool,
}

impl Session {
    fn append(&mut self, name: &'static str, payload: Value, interaction_id: Option<u64>) {
        self.seq += 1;
        self.log.push(Dispatch {
            seq: self.seq,
            name,
            payload,
            interaction_id,
        });
    }

    /// Whether an event of this guild goes to this session's shard (DMs: shard 0).
    fn on_shard(&self, guild_id: Option<u64>) -> bool {
        match (self.shard, guild_id) {
            (None, _) => true,
            (Some((id, _)), None) => id == 0,
            (Some((id, total)), Some(guild)) => (guild >> 22) % u64::from(total) == u64::from(id),
        }
    }
}

/// How the server ends a connection.
#[derive(Clone, Debug, PartialEq, Eq)]
enum ConnectionEnd {
    /// TCP close without a close frame.
    Drop,
    /// Close frame with code and reason.
    Close(u16, String),
}

/// An open gateway connection.
#[derive(Debug, Default)]
struct Connection {
    session: Option<String>,
    /// Frames to send before dispatches (ACKs, op 7, op 9).
    outbox: VecDeque<Value>,
    end: Option<ConnectionEnd>,
}

/// How a connection ended, for the session's fate.
enum ConnectionExit {
    /// The client closed it with this code (1000/1001 end the session).
    ClientClose(Option<u16>),
    /// The socket broke.
    Broken,
    /// The server ended it.
    Server(ConnectionEnd),
}

/// Everything the server remembers.
struct ServerState {
    addr: SocketAddr,
    token: String,
    bot_id: u64,
    bot_username: String,
    application_id: u64,
    application_name: String,
    application_flags: u64,
    guild: Option<FakeGuild>,
    heartbeat_interval: Duration,
    interaction_deadline: Duration,
    token_lifetime: Duration,
    resume_window: Duration,
    hold: bool,
    last_id: u64,
    users: HashMap<u64, DcUser>,
    members: HashMap<u64, Vec<u64>>,
    joined_at: String,
    dm_channels: HashMap<u64, u64>,
    dm_recipients: HashMap<u64, u64>,
    closed_dms: HashSet<u64>,
    messages: HashMap<u64, StoredMessage>,
    sent: Vec<SentMessage>,
    edits: Vec<SentMessage>,
    dm_opens: Vec<DmOpen>,
    role_grants: Vec<RoleChange>,
    role_removals: Vec<RoleChange>,
    /// Members' own `joined_at` (those who joined through [`FakeDiscord::push_member_join`]).
    member_joined_at: HashMap<u64, String>,
    /// Current timeouts: user → `communication_disabled_until`.
    timed_out: HashMap<u64, String>,
    timeouts: Vec<Timeout>,
    deleted: Vec<(u64, u64)>,
    pins: Vec<PinnedMessage>,
    pinned: HashMap<u64, Vec<u64>>,
    invites: Vec<Invite>,
    commands: Vec<Value>,
    command_ids: HashMap<(u64, String), u64>,
    command_overwrites: Vec<Value>,
    interactions: HashMap<u64, InteractionState>,
    callbacks: Vec<InteractionCallback>,
    followups: Vec<Followup>,
    requests: Vec<RequestLogEntry>,
    fail_next: VecDeque<Fault>,
    fail_until: Option<(Instant, Fault)>,
    violations: usize,
    /// The test provokes 429s on purpose ([`FakeDiscord::allow_violations`]).
    violations_allowed: bool,
    scripted_faults: usize,
    limiter: Limiter,
    // Gateway.
    next_connection: u64,
    connections: HashMap<u64, Connection>,
    sessions: Vec<Session>,
    held: Vec<PendingEvent>,
    identify_log: Vec<Identify>,
    resumes: usize,
    failed_resumes: usize,
    heartbeats: usize,
    ack_heartbeats: bool,
    frames: Vec<GatewayFrame>,
    closed: bool,
}

impl ServerState {
    fn new(options: &FakeDiscordOptions, addr: SocketAddr) -> Self {
        let members = options
            .guild
            .as_ref()
            .map(|g| {
                let mut members: HashMap<u64, Vec<u64>> = g
                    .members
                    .iter()
                    .map(|(user, roles)| (user.id, roles.clone()))
                    .collect();
                members.insert(options.bot_user_id, g.bot_roles.clone());
                members
            })
            .unwrap_or_default();
        let users = options
            .guild
            .iter()
            .flat_map(|g| g.members.iter())
            .map(|(user, _)| (user.id, user.clone()))
            .collect();
        Self {
            addr,
            token: options.token.clone(),
            bot_id: options.bot_user_id,
            bot_username: options.bot_username.clone(),
            application_id: options.application_id,
            application_name: options.application_name.clone(),
            application_flags: options.application_flags,
            guild: options.guild.clone(),
            heartbeat_interval: options.heartbeat_interval,
            interaction_deadline: options.interaction_deadline,
            token_lifetime: options.interaction_token_lifetime,
            resume_window: options.resume_window,
            hold: options.hold_events_while_offline,
            last_id: 0,
            users,
            members,
            joined_at: iso_timestamp(SystemTime::now() - Duration::from_secs(86_400)),
            dm_channels: HashMap::new(),
            dm_recipients: HashMap::new(),
            closed_dms: HashSet::new(),
            messages: HashMap::new(),
            sent: Vec::new(),
            edits: Vec::new(),
            dm_opens: Vec::new(),
            role_grants: Vec::new(),
            role_removals: Vec::new(),
            member_joined_at: HashMap::new(),
            timed_out: HashMap::new(),
            timeouts: Vec::new(),
            deleted: Vec::new(),
            pins: Vec::new(),
            pinned: HashMap::new(),
            invites: Vec::new(),
            commands: Vec::new(),
            command_ids: HashMap::new(),
            command_overwrites: Vec::new(),
            interactions: HashMap::new(),
            callbacks: Vec::new(),
            followups: Vec::new(),
            requests: Vec::new(),
            fail_next: VecDeque::new(),
            fail_until: None,
            violations: 0,
            violations_allowed: false,
            scripted_faults: 0,
            limiter: Limiter {
                global: options.global_limit,
                channel: options.channel_message_limit,
                dm_open: options.dm_open_limit,
                global_hits: VecDeque::new(),
                channel_hits: HashMap::new(),
                dm_open_hits: VecDeque::new(),
            },
            next_connection: 0,
            connections: HashMap::new(),
            sessions: Vec::new(),
            held: Vec::new(),
            identify_log: Vec::new(),
            resumes: 0,
            failed_resumes: 0,
            heartbeats: 0,
            ack_heartbeats: true,
            frames: Vec::new(),
            closed: false,
        }
    }

    /// A fresh snowflake: the current time in Discord's epoch, strictly increasing.
    fn next_id(&mut self) -> u64 {
        let now_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        let from_time = now_ms.saturating_sub(DISCORD_EPOCH_MS) << 22;
        self.last_id = from_time.max(self.last_id + 1);
        self.last_id
    }

    fn guild_id(&self) -> u64 {
        self.guild.as_ref().map_or(0, |g| g.id)
    }

    fn guild_channel(&self, channel_id: u64) -> Option<&FakeChannel> {
        self.guild
            .as_ref()?
            .channels
            .iter()
            .find(|c| c.id == channel_id)
    }

    /// The first text channel everyone sees (the community channel by default).
    fn default_channel(&self) -> Option<u64> {
        let guild = self.guild.as_ref()?;
        guild
            .channels
            .iter()
            .find(|c| c.kind == 0 && c.visible_to_roles.is_empty())
            .or_else(|| guild.channels.iter().find(|c| c.kind == 0))
            .map(|c| c.id)
    }

    /// The user's DM channel, created if needed.
    fn dm_channel(&mut self, user_id: u64) -> u64 {
        if let Some(&id) = self.dm_channels.get(&user_id) {
            return id;
        }
        let id = self.next_id();
        self.dm_channels.insert(user_id, id);
        self.dm_recipients.insert(id, user_id);
        id
    }

    fn user(&self, user_id: u64) -> DcUser {
        self.users
            .get(&user_id)
            .cloned()
            .unwrap_or_else(|| DcUser::new(user_id, format!("user{user_id}")))
    }

    fn user_json(&self, user_id: u64) -> Value {
        if user_id == self.bot_id {
            return self.bot_user_json();
        }
        self.user(user_id).to_json()
    }

    fn bot_user_json(&self) -> Value {
        json!({
            "id": self.bot_id.to_string(),
            "username": self.bot_username,
            "discriminator": "0",
            "global_name": null,
            "avatar": null,
            "bot": true,
            "system": false,
            "public_flags": 0,
            "flags": 0,
            "banner": null,
            "accent_color": null,
            "avatar_decoration_data": null,
        })
    }

    /// `GET /users/@me` and READY's `user`.
    fn current_user_json(&self) -> Value {
        let mut user = self.bot_user_json();
        user["verified"] = json!(true);
        user["mfa_enabled"] = json!(false);
        user["email"] = Value::Null;
        user["locale"] = json!("en-US");
        user["premium_type"] = json!(0);
        user
    }

    fn role(&self, role_id: u64) -> Option<&FakeRole> {
        self.guild.as_ref()?.roles.iter().find(|r| r.id == role_id)
    }

    /// Permission bits of a member (roles and `@everyone`; administrator means all).
    fn member_permissions(&self, user_id: u64) -> u64 {
        let Some(guild) = &self.guild else { return 0 };
        if user_id == guild.owner_id {
            return u64::MAX >> 13;
        }
        let roles = self.members.get(&user_id).cloned().unwrap_or_default();
        let permissions = guild
            .roles
            .iter()
            .filter(|r| r.id == guild.id || roles.contains(&r.id))
            .fold(0, |acc, r| acc | r.permissions);
        if permissions & PERM_ADMINISTRATOR != 0 {
            u64::MAX >> 13
        } else {
            permissions
        }
    }

    /// A member's permissions in a channel (view denied unless a role of theirs is allowed).
    fn channel_permissions(&self, user_id: u64, channel_id: u64) -> u64 {
        let permissions = self.member_permissions(user_id);
        let Some(channel) = self.guild_channel(channel_id) else {
            return permissions;
        };
        let roles = self.members.get(&user_id).cloned().unwrap_or_default();
        let owner = self.guild.as_ref().is_some_and(|g| g.owner_id == user_id);
        if channel.visible_to_roles.is_empty()
            || owner
            || permissions & PERM_ADMINISTRATOR != 0
            || channel.visible_to_roles.iter().any(|r| roles.contains(r))
        {
            permissions
        } else {
            permissions & !PERM_VIEW_CHANNEL
        }
    }

    fn role_json(&self, role: &FakeRole) -> Value {
        let mut value = json!({
            "id": role.id.to_string(),
            "name": role.name,
            "color": role.color,
            "colors": {
                "primary_color": role.color,
                "secondary_color": null,
                "tertiary_color": null,
            },
            "hoist": false,
            "icon": null,
            "unicode_emoji": null,
            "position": role.position,
            "permissions": role.permissions.to_string(),
            "managed": role.managed,
            "mentionable": false,
            "flags": 0,
        });
        if role.managed {
            value["tags"] = json!({ "bot_id": self.bot_id.to_string() });
        }
        value
    }

    fn channel_json(&self, channel: &FakeChannel) -> Value {
        let guild_id = self.guild_id();
        let overwrites: Vec<Value> = if channel.visible_to_roles.is_empty() {
            Vec::new()
        } else {
            std::iter::once(json!({
                "id": guild_id.to_string(), "type": 0,
                "allow": "0", "deny": PERM_VIEW_CHANNEL.to_string(),
            }))
            .chain(channel.visible_to_roles.iter().map(|role| {
                json!({
                    "id": role.to_string(), "type": 0,
                    "allow": PERM_VIEW_CHANNEL.to_string(), "deny": "0",
                })
            }))
            .collect()
        };
        json!({
            "id": channel.id.to_string(),
            "type": channel.kind,
            "guild_id": guild_id.to_string(),
            "name": channel.name,
            "position": 0,
            "permission_overwrites": overwrites,
            "topic": channel.topic,
            "nsfw": false,
            "last_message_id": null,
            "rate_limit_per_user": 0,
            "parent_id": channel.parent_id.map(|p| p.to_string()),
            "flags": 0,
        })
    }

    fn dm_channel_json(&self, channel_id: u64, user_id: u64) -> Value {
        json!({
            "id": channel_id.to_string(),
            "type": 1,
            "last_message_id": null,
            "flags": 0,
            "recipients": [self.user_json(user_id)],
        })
    }

    /// A full guild `Member` (GET member, GUILD_CREATE, interactions).
    fn member_json(&self, user_id: u64) -> Value {
        let roles: Vec<String> = self
            .members
            .get(&user_id)
            .map(|r| r.iter().map(u64::to_string).collect())
            .unwrap_or_default();
        json!({
            "user": self.user_json(user_id),
            "nick": null,
            "avatar": null,
            "banner": null,
            "roles": roles,
            "joined_at": self.member_joined_at.get(&user_id).unwrap_or(&self.joined_at),
            "premium_since": null,
            "deaf": false,
            "mute": false,
            "flags": 0,
            "pending": false,
            "communication_disabled_until": self.timed_out.get(&user_id),
        })
    }

    /// The `member` of a guild MESSAGE_CREATE (no `user`).
    fn partial_member_json(&self, user_id: u64) -> Value {
        let mut member = self.member_json(user_id);
        if let Some(object) = member.as_object_mut() {
            object.remove("user");
        }
        member
    }

    fn guild_create_json(&self, intents: u64) -> Option<Value> {
        let guild = self.guild.as_ref()?;
        let mut member_ids: Vec<u64> = if intents & INTENT_GUILD_PRESENCES != 0 {
            self.members.keys().copied().collect()
        } else {
            vec![self.bot_id]
        };
        member_ids.sort_unstable();
        let members: Vec<Value> = member_ids.iter().map(|&u| self.member_json(u)).collect();
        let mut guild_json = json!({
            "id": guild.id.to_string(),
            "name": guild.name,
            "icon": null,
            "icon_hash": null,
            "splash": null,
            "discovery_splash": null,
            "owner_id": guild.owner_id.to_string(),
            "afk_channel_id": null,
            "afk_timeout": 300,
            "widget_enabled": false,
            "widget_channel_id": null,
            "verification_level": 1,
            "default_message_notifications": 1,
            "explicit_content_filter": 2,
            "roles": guild.roles.iter().map(|r| self.role_json(r)).collect::<Vec<_>>(),
            "emojis": [],
            "features": [],
            "mfa_level": 0,
            "application_id": null,
            "system_channel_id": null,
            "system_channel_flags": 0,
            "rules_channel_id": null,
            "max_presences": null,
            "max_members": 500_000,
            "vanity_url_code": null,
            "description": null,
            "banner": null,
            "premium_tier": 0,
            "premium_subscription_count": 0,
            "preferred_locale": guild.preferred_locale,
            "public_updates_channel_id": null,
            "max_video_channel_users": 25,
            "max_stage_video_channel_users": 50,
            "nsfw_level": 0,
        });
        let extra = json!({
            "stickers": [],
            "premium_progress_bar_enabled": false,
            "safety_alerts_channel_id": null,
            "incidents_data": null,
            "joined_at": self.joined_at,
            "large": false,
            "unavailable": false,
            "member_count": self.members.len(),
            "voice_states": [],
            "members": members,
            "channels": guild.channels.iter().map(|c| self.channel_json(c)).collect::<Vec<_>>(),
            "threads": [],
            "presences": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
            "lazy": true,
            "region": "deprecated",
            "home_header": null,
            "hub_type": null,
            "nsfw": false,
            "latest_onboarding_question_id": null,
            "inventory_settings": null,
            "embedded_activities": [],
            "activity_instances": [],
            "version": 0,
        });
        if let (Some(object), Value::Object(extra)) = (guild_json.as_object_mut(), extra) {
            object.extend(extra);
        }
        Some(guild_json)
    }

    fn application_json(&self) -> Value {
        json!({
            "id": self.application_id.to_string(),
            "name": self.application_name,
            "icon": null,
            "description": "",
            "summary": "",
            "type": null,
            "bot": self.bot_user_json(),
            "bot_public": true,
            "bot_require_code_grant": false,
            "verify_key": "7d1f4b5c6e9a0b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f6071829304",
            "flags": self.application_flags,
            "owner": self.user_json(self.guild.as_ref().map_or(OWNER_ID, |g| g.owner_id)),
            "team": null,
            "hook": true,
            "redirect_uris": [],
            "interactions_endpoint_url": null,
            "role_connections_verification_url": null,
            "tags": [],
            "approximate_guild_count": usize::from(self.guild.is_some()),
            "approximate_user_install_count": 0,
            "is_monetized": false,
            "storefront_available": false,
        })
    }

    /// A `Message` object with every field serenity requires.
    fn message_json(&self, id: u64, channel_id: u64, author: Value, content: &str) -> Value {
        let mut message = json!({
            "id": id.to_string(),
            "channel_id": channel_id.to_string(),
            "author": author,
            "content": content,
            "timestamp": iso_timestamp(SystemTime::now()),
            "edited_timestamp": null,
            "tts": false,
            "mention_everyone": false,
            "mentions": [],
            "mention_roles": [],
            "attachments": [],
            "embeds": [],
            "pinned": false,
            "type": 0,
            "flags": 0,
            "components": [],
        });
        if self.guild_channel(channel_id).is_some() {
            message["guild_id"] = json!(self.guild_id().to_string());
        }
        message
    }

    /// `mentions` for a text: the users written as `<@id>` or `<@!id>`.
    fn mentions_json(&self, text: &str) -> Value {
        let mut seen = Vec::new();
        for part in text.split("<@").skip(1) {
            let Some(end) = part.find('>') else { continue };
            let digits = part[..end].trim_start_matches('!');
            if let Ok(id) = digits.parse::<u64>()
                && !seen.contains(&id)
            {
                seen.push(id);
            }
        }
        Value::Array(seen.into_iter().map(|id| self.user_json(id)).collect())
    }

    fn store_message(&mut self, id: u64, channel_id: u64, json: Value, from_bot: bool) {
        self.messages.insert(
            id,
            StoredMessage {
                channel_id,
                json,
                from_bot,
            },
        );
    }

    /// Builds and dispatches an INTERACTION_CREATE; `kind` 2 command, 3 component.
    fn interaction(
        &mut self,
        user: &DcUser,
        channel_id: u64,
        kind: u8,
        data: Value,
        message: Option<(u64, Value)>,
    ) -> PushedInteraction {
        let id = self.next_id();
        let token = format!("aW50ZXJhY3Rpb246{id}:fake-interaction-token");
        let guild_channel = self.guild_channel(channel_id).cloned();
        let guild_id = guild_channel.as_ref().map(|_| self.guild_id());
        let mut payload = json!({
            "id": id.to_string(),
            "application_id": self.application_id.to_string(),
            "type": kind,
            "data": data,
            "channel_id": channel_id.to_string(),
            "token": token,
            "version": 1,
            "locale": user.locale.clone().unwrap_or_else(|| "en-US".to_owned()),
            "entitlements": [],
            "attachment_size_limit": ATTACHMENT_SIZE_LIMIT,
            "entitlement_sku_ids": [],
        });
        match (&guild_channel, guild_id) {
            (Some(channel), Some(guild_id)) => {
                self.members.entry(user.id).or_default();
                let mut member = self.member_json(user.id);
                member["permissions"] =
                    json!(self.channel_permissions(user.id, channel_id).to_string());
                payload["guild_id"] = json!(guild_id.to_string());
                payload["guild_locale"] = json!(
                    self.guild
                        .as_ref()
                        .map_or("en-US".to_owned(), |g| g.preferred_locale.clone())
                );
                payload["member"] = member;
                let mut channel_json = self.channel_json(channel);
                channel_json["permissions"] =
                    json!(self.channel_permissions(user.id, channel_id).to_string());
                payload["channel"] = channel_json;
                payload["app_permissions"] = json!(
                    self.channel_permissions(self.bot_id, channel_id)
                        .to_string()
                );
                payload["authorizing_integration_owners"] = json!({ "0": guild_id.to_string() });
                payload["context"] = json!(0);
            }
            _ => {
                let recipient = self
                    .dm_recipients
                    .get(&channel_id)
                    .copied()
                    .unwrap_or(user.id);
                payload["user"] = user.to_json();
                payload["channel"] = self.dm_channel_json(channel_id, recipient);
                payload["app_permissions"] = json!(
                    (PERM_VIEW_CHANNEL
                        | PERM_SEND_MESSAGES
                        | PERM_EMBED_LINKS
                        | PERM_ATTACH_FILES
                        | PERM_READ_MESSAGE_HISTORY)
                        .to_string()
                );
                payload["authorizing_integration_owners"] = json!({ "0": "0" });
                payload["context"] = json!(1);
            }
        }
        let component_message = message.as_ref().map(|(id, _)| *id);
        if let Some((_, message)) = message {
            payload["message"] = message;
        }
        let pushed_at = Instant::now();
        self.interactions.insert(
            id,
            InteractionState {
                token: token.clone(),
                channel_id,
                kind,
                pushed_at,
                delivered_at: None,
                answered: false,
                original: None,
                component_message,
                user_id: user.id,
                guild_id,
            },
        );
        self.deliver(PendingEvent {
            name: "INTERACTION_CREATE",
            payload,
            intent: 0,
            gated_content: false,
            mentions_bot: false,
            guild_id,
            interaction_id: Some(id),
        });
        PushedInteraction {
            id,
            token,
            channel_id,
            guild_id,
            pushed_at,
        }
    }

    /// Appends an event to every live session that asked for it, or holds it.
    fn deliver(&mut self, event: PendingEvent) {
        let now = Instant::now();
        self.expire_sessions(now);
        if !self.sessions.iter().any(|s| s.alive) {
            if self.hold {
                self.held.push(event);
            }
            return;
        }
        for session in self.sessions.iter_mut().filter(|s| s.alive) {
            append_to(session, &event);
        }
    }

    /// Ends sessions disconnected for longer than the resume window.
    fn expire_sessions(&mut self, now: Instant) {
        let window = self.resume_window;
        for session in &mut self.sessions {
            if session.alive
                && session.connection.is_none()
                && session
                    .disconnected_at
                    .is_some_and(|at| now.saturating_duration_since(at) > window)
            {
                session.alive = false;
            }
        }
    }

    /// The fault scripted for the next write request, if any.
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
}

/// Appends an event to a session if its intents and shard ask for it, tailored to them.
fn append_to(session: &mut Session, event: &PendingEvent) {
    if event.intent != 0 && session.intents & event.intent == 0 {
        return;
    }
    if !session.on_shard(event.guild_id) {
        return;
    }
    let mut payload = event.payload.clone();
    if event.gated_content && !event.mentions_bot && session.intents & INTENT_MESSAGE_CONTENT == 0 {
        payload["content"] = json!("");
        payload["embeds"] = json!([]);
        payload["attachments"] = json!([]);
        payload["components"] = json!([]);
    }
    session.append(event.name, payload, event.interaction_id);
}

// ---------------------------------------------------------------------------------------------
// REST
// ---------------------------------------------------------------------------------------------

/// An HTTP answer in Discord's shape.
#[derive(Clone, Debug)]
struct Reply {
    status: u16,
    /// None for 204.
    body: Option<Value>,
    headers: Vec<(&'static str, String)>,
    retry_after: Option<Duration>,
    scripted: bool,
}

impl Reply {
    fn ok(body: Value) -> Reply {
        Reply {
            status: 200,
            body: Some(body),
            headers: Vec::new(),
            retry_after: None,
            scripted: false,
        }
    }

    fn no_content() -> Reply {
        Reply {
            status: 204,
            body: None,
            headers: Vec::new(),
            retry_after: None,
            scripted: false,
        }
    }

    fn code(&self) -> Option<i64> {
        if self.status < 400 {
            return None;
        }
        self.body.as_ref()?.get("code")?.as_i64()
    }

    fn with_headers(mut self, headers: Vec<(&'static str, String)>) -> Reply {
        self.headers.extend(headers);
        self
    }
}

impl IntoResponse for Reply {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut headers = HeaderMap::new();
        for (name, value) in &self.headers {
            if let Ok(value) = HeaderValue::from_str(value) {
                headers.insert(HeaderName::from_static(name), value);
            }
        }
        match self.body {
            Some(body) => {
                headers.insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                );
                (status, headers, body.to_string()).into_response()
            }
            None => (status, headers).into_response(),
        }
    }
}

/// `{"message", "code"}` with a status.
fn error(status: u16, code: i64, message: &str) -> Reply {
    Reply {
        status,
        body: Some(json!({ "message": message, "code": code })),
        headers: Vec::new(),
        retry_after: None,
        scripted: false,
    }
}

fn not_found() -> Reply {
    error(404, 0, "404: Not Found")
}

/// 400 `Invalid Form Body` (50035) with Discord's nested `errors` for one field path.
fn form_error(path: &[&str], error_code: &str, message: &str) -> Reply {
    let mut errors = json!({ "_errors": [{ "code": error_code, "message": message }] });
    for key in path.iter().rev() {
        let mut object = Map::new();
        object.insert((*key).to_owned(), errors);
        errors = Value::Object(object);
    }
    Reply {
        status: 400,
        body: Some(json!({ "message": "Invalid Form Body", "code": 50035, "errors": errors })),
        headers: Vec::new(),
        retry_after: None,
        scripted: false,
    }
}

/// 429 with Discord's body and headers.
fn too_many_requests(retry_after: Duration, global: bool) -> Reply {
    let seconds = (retry_after.as_secs_f64() * 1000.0).ceil() / 1000.0;
    let mut headers = vec![
        (
            "retry-after",
            retry_after.as_secs_f64().ceil().max(1.0).to_string(),
        ),
        (
            "x-ratelimit-scope",
            if global { "global" } else { "user" }.to_owned(),
        ),
    ];
    if global {
        headers.push(("x-ratelimit-global", "true".to_owned()));
    }
    Reply {
        status: 429,
        body: Some(json!({
            "message": "You are being rate limited.",
            "retry_after": seconds,
            "global": global,
        })),
        headers,
        retry_after: Some(retry_after),
        scripted: false,
    }
}

/// A request's parsed parts, as the router needs them.
struct RestRequest {
    method: Method,
    segments: Vec<String>,
    authorization: Option<String>,
    audit_reason: Option<String>,
    /// JSON body (or a multipart's `payload_json`); Null when empty.
    body: Result<Value, Reply>,
    /// Files of a multipart upload: name and bytes.
    files: Vec<Upload>,
}

/// One file of a multipart upload: its file name and bytes.
type Upload = (String, Vec<u8>);

/// The REST handler: every path other than `/gateway` comes here.
async fn rest(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let arrived = Instant::now();
    let (parts, body) = request.into_parts();
    let path = parts.uri.path().to_owned();
    let header_text = |name: &str| {
        parts
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let content_type = header_text("content-type").unwrap_or_default();
    let (body, files) = match axum::body::to_bytes(body, MAX_BODY_BYTES).await {
        Ok(bytes) => parse_body(&content_type, &bytes),
        Err(_) => (
            Err(error(413, 40005, "Request entity too large")),
            Vec::new(),
        ),
    };
    let request = RestRequest {
        method: parts.method.clone(),
        segments: path
            .strip_prefix("/api/v10/")
            .map(|rest| rest.split('/').map(str::to_owned).collect())
            .unwrap_or_default(),
        authorization: header_text("authorization"),
        audit_reason: header_text("x-audit-log-reason").map(|r| percent_decode(&r)),
        body,
        files,
    };
    let mut state = shared.lock();
    let reply = state.route(&request, arrived);
    if reply.status == 429 && !reply.scripted {
        state.violations += 1;
    }
    let code = reply.code();
    state.requests.push(RequestLogEntry {
        method: parts.method.to_string(),
        path,
        status: reply.status,
        code,
        retry_after: reply.retry_after,
        scripted: reply.scripted,
        at: arrived,
    });
    drop(state);
    shared.changed.notify_waiters();
    reply.into_response()
}

/// JSON, or multipart with `payload_json` and files; empty is Null.
fn parse_body(content_type: &str, bytes: &[u8]) -> (Result<Value, Reply>, Vec<Upload>) {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return (Ok(Value::Null), Vec::new());
    }
    let mime = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if mime == "multipart/form-data" {
        let Some(boundary) = multipart_boundary(content_type) else {
            return (
                Err(error(400, 50109, "The request body contains invalid JSON.")),
                Vec::new(),
            );
        };
        return match parse_multipart(bytes, &boundary) {
            Ok(parts) => {
                let mut payload = Value::Null;
                let mut files = Vec::new();
                for (name, file_name, content) in parts {
                    match file_name {
                        Some(file_name) => files.push((file_name, content)),
                        None if name == "payload_json" => {
                            payload = match serde_json::from_slice(&content) {
                                Ok(value) => value,
                                Err(_) => {
                                    return (
                                        Err(error(
                                            400,
                                            50109,
                                            "The request body contains invalid JSON.",
                                        )),
                                        Vec::new(),
                                    );
                                }
                            };
                        }
                        None => {}
                    }
                }
                (Ok(payload), files)
            }
            Err(()) => (
                Err(error(400, 50109, "The request body contains invalid JSON.")),
                Vec::new(),
            ),
        };
    }
    match serde_json::from_slice(bytes) {
        Ok(value) => (Ok(value), Vec::new()),
        Err(_) => (
            Err(error(400, 50109, "The request body contains invalid JSON.")),
            Vec::new(),
        ),
    }
}

/// Which limits a route is under.
#[derive(Clone, Copy, PartialEq, Eq)]
enum RouteKind {
    /// `GET /gateway`: no authentication.
    Open,
    /// Interaction callback and webhooks: token in the path, not under the global limit.
    Interaction,
    /// Everything else: bot token, global limit.
    Bot,
}

impl ServerState {
    /// Authentication, scripted faults, the global limit, then the route.
    fn route(&mut self, request: &RestRequest, now: Instant) -> Reply {
        let segments: Vec<&str> = request.segments.iter().map(String::as_str).collect();
        let method = &request.method;
        let kind = match segments.as_slice() {
            ["gateway"] => RouteKind::Open,
            ["interactions", ..] | ["webhooks", ..] => RouteKind::Interaction,
            _ => RouteKind::Bot,
        };
        if kind == RouteKind::Bot {
            let expected = format!("Bot {}", self.token);
            if request.authorization.as_deref() != Some(expected.as_str()) {
                return error(401, 0, "401: Unauthorized");
            }
        }
        if *method != Method::GET
            && *method != Method::HEAD
            && let Some(fault) = self.take_fault(now)
        {
            self.scripted_faults += 1;
            let mut reply = match fault {
                Fault::TooManyRequests {
                    retry_after_ms,
                    global,
                } => too_many_requests(Duration::from_millis(retry_after_ms), global),
                Fault::ServerError => error(500, 0, "500: Internal Server Error"),
            };
            reply.scripted = true;
            return reply;
        }
        if kind == RouteKind::Bot
            && let Err(wait) = self.limiter.admit_global(now)
        {
            return too_many_requests(wait, true);
        }
        let body = match &request.body {
            Ok(body) => body,
            Err(reply) => return reply.clone(),
        };
        let id = |i: usize| segments.get(i).and_then(|s| s.parse::<u64>().ok());
        let json = |result: Result<Value, Reply>| result.map_or_else(|e| e, Reply::ok);
        match (method.as_str(), segments.as_slice()) {
            ("GET", ["gateway"]) => Reply::ok(json!({ "url": self.gateway_url() })),
            ("GET", ["gateway", "bot"]) => Reply::ok(json!({
                "url": self.gateway_url(),
                "shards": 1,
                "session_start_limit": {
                    "total": 1000, "remaining": 999, "reset_after": 14_400_000,
                    "max_concurrency": 1,
                },
            })),
            ("GET", ["users", "@me"]) => Reply::ok(self.current_user_json()),
            ("GET", ["oauth2", "applications", "@me"] | ["applications", "@me"]) => {
                Reply::ok(self.application_json())
            }
            ("POST", ["users", "@me", "channels"]) => json(self.open_dm(body, now)),
            ("GET", ["channels", _]) => json(self.get_channel(id(1))),
            ("POST", ["channels", _, "messages"]) => {
                self.create_message(id(1), body, &request.files, now)
            }
            ("GET", ["channels", _, "messages", _]) => json(
                self.messages
                    .get(&id(3).unwrap_or(0))
                    .filter(|m| Some(m.channel_id) == id(1))
                    .map(|m| m.json.clone())
                    .ok_or_else(|| error(404, 10008, "Unknown Message")),
            ),
            ("PATCH", ["channels", _, "messages", _]) => {
                json(self.edit_message(id(1), id(3), body, now))
            }
            ("DELETE", ["channels", _, "messages", _]) => self
                .delete_message(id(1), id(3))
                .map_or_else(|e| e, |()| Reply::no_content()),
            ("PUT", ["channels", _, "pins", _]) => self
                .pin_message(id(1), id(3), now)
                .map_or_else(|e| e, |()| Reply::no_content()),
            ("POST", ["channels", _, "invites"]) => json(self.create_invite(id(1), body, now)),
            ("PATCH", ["guilds", _, "members", _]) => {
                json(self.modify_member(id(1), id(3), body, now))
            }
            ("POST", ["interactions", _, token, "callback"]) => self
                .interaction_callback(id(1), token, body, now)
                .map_or_else(|e| e, |()| Reply::no_content()),
            ("POST", ["webhooks", _, token]) => json(self.followup(id(1), token, body, false, now)),
            ("PATCH", ["webhooks", _, token, "messages", "@original"]) => {
                json(self.followup(id(1), token, body, true, now))
            }
            ("GET", ["applications", _, "commands"]) => {
                if id(1) == Some(self.application_id) {
                    Reply::ok(Value::Array(self.commands.clone()))
                } else {
                    error(403, 50001, "Missing Access")
                }
            }
            ("PUT", ["applications", _, "commands"]) => json(self.overwrite_commands(id(1), body)),
            ("GET", ["guilds", _, "members", _]) => json(self.get_member(id(1), id(3))),
            ("PUT", ["guilds", _, "members", _, "roles", _]) => self
                .change_role(id(1), id(3), id(5), true, request, now)
                .map_or_else(|e| e, |()| Reply::no_content()),
            ("DELETE", ["guilds", _, "members", _, "roles", _]) => self
                .change_role(id(1), id(3), id(5), false, request, now)
                .map_or_else(|e| e, |()| Reply::no_content()),
            (_, segments) if known_path(segments) => error(405, 0, "405: Method Not Allowed"),
            _ => not_found(),
        }
    }

    fn gateway_url(&self) -> String {
        format!("ws://{}/gateway", self.addr)
    }

    /// `POST /users/@me/channels`.
    fn open_dm(&mut self, body: &Value, now: Instant) -> Result<Value, Reply> {
        let user_id = body["recipient_id"]
            .as_u64()
            .or_else(|| body["recipient_id"].as_str()?.parse().ok())
            .ok_or_else(|| {
                form_error(
                    &["recipient_id"],
                    "BASE_TYPE_REQUIRED",
                    "This field is required",
                )
            })?;
        let new = !self.dm_channels.contains_key(&user_id);
        if new && let Err(_wait) = self.limiter.admit_dm_open(now) {
            self.dm_opens.push(DmOpen {
                user_id,
                channel_id: None,
                new,
                status: 403,
                at: now,
            });
            return Err(error(
                403,
                40003,
                "You are opening direct messages too fast.",
            ));
        }
        let channel_id = self.dm_channel(user_id);
        self.dm_opens.push(DmOpen {
            user_id,
            channel_id: Some(channel_id),
            new,
            status: 200,
            at: now,
        });
        Ok(self.dm_channel_json(channel_id, user_id))
    }

    /// `GET /channels/{id}`.
    fn get_channel(&self, channel_id: Option<u64>) -> Result<Value, Reply> {
        let channel_id = channel_id.ok_or_else(|| error(404, 10003, "Unknown Channel"))?;
        if let Some(channel) = self.guild_channel(channel_id) {
            return Ok(self.channel_json(channel));
        }
        match self.dm_recipients.get(&channel_id) {
            Some(&user) => Ok(self.dm_channel_json(channel_id, user)),
            None => Err(error(404, 10003, "Unknown Channel")),
        }
    }

    /// `POST /channels/{id}/messages`: channel limit, channel, closed DMs, body, then record.
    fn create_message(
        &mut self,
        channel_id: Option<u64>,
        body: &Value,
        files: &[Upload],
        now: Instant,
    ) -> Reply {
        let Some(channel_id) = channel_id else {
            return error(404, 10003, "Unknown Channel");
        };
        let headers = match self.limiter.admit_channel(channel_id, now) {
            Ok(headers) => headers,
            Err((wait, headers)) => return too_many_requests(wait, false).with_headers(headers),
        };
        let result = self.post_message(channel_id, body, files, now);
        result.unwrap_or_else(|e| e).with_headers(headers)
    }

    fn post_message(
        &mut self,
        channel_id: u64,
        body: &Value,
        files: &[Upload],
        now: Instant,
    ) -> Result<Reply, Reply> {
        let guild_channel = self.guild_channel(channel_id).is_some();
        let to_user = self.dm_recipients.get(&channel_id).copied();
        if !guild_channel && to_user.is_none() {
            return Err(error(404, 10003, "Unknown Channel"));
        }
        if let Some(user) = to_user
            && self.closed_dms.contains(&user)
        {
            return Err(error(403, 50007, "Cannot send messages to this user"));
        }
        validate_message(body, !files.is_empty(), true)?;
        let reference = body
            .get("message_reference")
            .filter(|r| !r.is_null())
            .cloned();
        let reply_to = reference
            .as_ref()
            .and_then(|r| r.get("message_id"))
            .and_then(value_u64);
        if let Some(reply_to) = reply_to {
            let fail_if_missing = reference
                .as_ref()
                .and_then(|r| r.get("fail_if_not_exists"))
                .and_then(Value::as_bool)
                .unwrap_or(true);
            let exists = self
                .messages
                .get(&reply_to)
                .is_some_and(|m| m.channel_id == channel_id);
            if !exists && fail_if_missing {
                return Err(form_error(
                    &["message_reference"],
                    "MESSAGE_REFERENCE_UNKNOWN_MESSAGE",
                    "Unknown message",
                ));
            }
        }
        let id = self.next_id();
        let bot = self.bot_user_json();
        let content = body["content"].as_str().unwrap_or("").to_owned();
        let mut message = self.message_json(id, channel_id, bot, &content);
        apply_message_body(&mut message, body);
        message["mentions"] = self.mentions_json(&content);
        if !files.is_empty() {
            let attachments: Vec<Value> = files
                .iter()
                .enumerate()
                .map(|(i, (name, bytes))| {
                    let attachment_id = id + 1 + i as u64;
                    json!({
                        "id": attachment_id.to_string(),
                        "filename": name,
                        "size": bytes.len(),
                        "url": format!("https://cdn.discordapp.com/attachments/{channel_id}/{attachment_id}/{name}"),
                        "proxy_url": format!("https://media.discordapp.net/attachments/{channel_id}/{attachment_id}/{name}"),
                        "content_type": "application/octet-stream",
                    })
                })
                .collect();
            message["attachments"] = Value::Array(attachments);
            self.last_id += files.len() as u64;
        }
        if let Some(reply_to) = reply_to {
            message["type"] = json!(19);
            let mut reference = json!({
                "type": 0,
                "message_id": reply_to.to_string(),
                "channel_id": channel_id.to_string(),
            });
            if guild_channel {
                reference["guild_id"] = json!(self.guild_id().to_string());
            }
            message["message_reference"] = reference;
            message["referenced_message"] = self
                .messages
                .get(&reply_to)
                .map(|m| strip_reference(m.json.clone()))
                .unwrap_or(Value::Null);
        }
        self.store_message(id, channel_id, message.clone(), true);
        self.sent.push(SentMessage {
            id,
            channel_id,
            to_user,
            guild_id: guild_channel.then(|| self.guild_id()),
            content,
            components: body.get("components").filter(|c| !c.is_null()).cloned(),
            embeds: body.get("embeds").filter(|c| !c.is_null()).cloned(),
            message_reference: reference,
            reply_to,
            flags: body["flags"].as_u64(),
            files: files.iter().map(|(name, _)| name.clone()).collect(),
            file_bytes: files.iter().map(|(_, bytes)| bytes.clone()).collect(),
            body: body.clone(),
            at: now,
        });
        Ok(Reply::ok(message))
    }

    /// `PATCH /channels/{c}/messages/{m}`: the bot's own messages only.
    fn edit_message(
        &mut self,
        channel_id: Option<u64>,
        message_id: Option<u64>,
        body: &Value,
        now: Instant,
    ) -> Result<Value, Reply> {
        let (Some(channel_id), Some(message_id)) = (channel_id, message_id) else {
            return Err(error(404, 10008, "Unknown Message"));
        };
        let stored = self
            .messages
            .get(&message_id)
            .filter(|m| m.channel_id == channel_id)
            .cloned()
            .ok_or_else(|| error(404, 10008, "Unknown Message"))?;
        if !stored.from_bot {
            return Err(error(
                403,
                50005,
                "Cannot edit a message authored by another user",
            ));
        }
        validate_message(body, false, false)?;
        let mut message = stored.json;
        if let Some(content) = body.get("content").and_then(Value::as_str) {
            message["content"] = json!(content);
        }
        apply_message_body(&mut message, body);
        message["edited_timestamp"] = json!(iso_timestamp(SystemTime::now()));
        self.store_message(message_id, channel_id, message.clone(), true);
        self.edits.push(SentMessage {
            id: message_id,
            channel_id,
            to_user: self.dm_recipients.get(&channel_id).copied(),
            guild_id: self.guild_channel(channel_id).map(|_| self.guild_id()),
            content: message["content"].as_str().unwrap_or("").to_owned(),
            components: body.get("components").filter(|c| !c.is_null()).cloned(),
            embeds: body.get("embeds").filter(|c| !c.is_null()).cloned(),
            message_reference: None,
            reply_to: None,
            flags: body["flags"].as_u64(),
            files: Vec::new(),
            file_bytes: Vec::new(),
            body: body.clone(),
            at: now,
        });
        Ok(message)
    }

    /// `POST /interactions/{id}/{token}/callback`.
    fn interaction_callback(
        &mut self,
        interaction_id: Option<u64>,
        token: &str,
        body: &Value,
        now: Instant,
    ) -> Result<(), Reply> {
        let interaction_id_or_0 = interaction_id.unwrap_or(0);
        let kind = body["type"].as_u64().unwrap_or(0);
        let data = body.get("data").filter(|d| !d.is_null()).cloned();
        let known = interaction_id
            .and_then(|id| self.interactions.get(&id))
            .filter(|i| i.token == token)
            .cloned();
        let after = known.as_ref().map_or(Duration::ZERO, |i| {
            now.saturating_duration_since(i.pushed_at)
        });
        let result = self.answer_interaction(interaction_id_or_0, known, kind, data.as_ref(), now);
        let status = match &result {
            Ok(_) => 204,
            Err(reply) => reply.status,
        };
        self.callbacks.push(InteractionCallback {
            interaction_id: interaction_id_or_0,
            token: token.to_owned(),
            kind,
            data,
            status,
            after,
            at: now,
        });
        result
    }

    fn answer_interaction(
        &mut self,
        interaction_id: u64,
        known: Option<InteractionState>,
        kind: u64,
        data: Option<&Value>,
        now: Instant,
    ) -> Result<(), Reply> {
        let Some(interaction) = known else {
            return Err(error(404, 10062, "Unknown interaction"));
        };
        let base = interaction.delivered_at.unwrap_or(interaction.pushed_at);
        if now.saturating_duration_since(base) > self.interaction_deadline {
            return Err(error(404, 10062, "Unknown interaction"));
        }
        if interaction.answered {
            return Err(error(
                400,
                40060,
                "Interaction has already been acknowledged.",
            ));
        }
        let allowed: &[u64] = if interaction.kind == 3 {
            &[4, 5, 6, 7, 9]
        } else {
            &[4, 5, 9]
        };
        if !allowed.contains(&kind) {
            return Err(form_error(
                &["type"],
                "INTERACTION_CALLBACK_TYPE_INVALID",
                "Invalid interaction callback type for this interaction",
            ));
        }
        let empty = Value::Null;
        let data = data.unwrap_or(&empty);
        let original = match kind {
            4 => {
                validate_message(data, false, true)?;
                Some(self.interaction_message(interaction_id, &interaction, data, false))
            }
            5 => Some(self.interaction_message(interaction_id, &interaction, data, true)),
            6 => interaction.component_message,
            7 => {
                validate_message(data, false, false)?;
                if let Some(message_id) = interaction.component_message
                    && let Some(stored) = self.messages.get(&message_id).cloned()
                {
                    let mut message = stored.json;
                    if let Some(content) = data.get("content").and_then(Value::as_str) {
                        message["content"] = json!(content);
                    }
                    apply_message_body(&mut message, data);
                    message["edited_timestamp"] = json!(iso_timestamp(SystemTime::now()));
                    self.store_message(message_id, stored.channel_id, message, stored.from_bot);
                }
                interaction.component_message
            }
            _ => None,
        };
        if let Some(state) = self.interactions.get_mut(&interaction_id) {
            state.answered = true;
            state.original = original;
        }
        Ok(())
    }

    /// Stores the message an interaction response creates; returns its id.
    fn interaction_message(
        &mut self,
        interaction_id: u64,
        interaction: &InteractionState,
        data: &Value,
        loading: bool,
    ) -> u64 {
        let id = self.next_id();
        let bot = self.bot_user_json();
        let content = data["content"].as_str().unwrap_or("");
        let mut message = self.message_json(id, interaction.channel_id, bot, content);
        apply_message_body(&mut message, data);
        message["type"] = json!(if interaction.kind == 2 { 20 } else { 0 });
        message["application_id"] = json!(self.application_id.to_string());
        message["webhook_id"] = json!(self.application_id.to_string());
        let owner = interaction
            .guild_id
            .map_or("0".to_owned(), |g| g.to_string());
        let mut metadata = json!({
            "id": interaction_id.to_string(),
            "type": interaction.kind,
            "user": self.user_json(interaction.user_id),
            "authorizing_integration_owners": { "0": owner },
        });
        if let Some(original) = interaction.original {
            metadata["original_response_message_id"] = json!(original.to_string());
        }
        if let Some(interacted) = interaction.component_message {
            metadata["interacted_message_id"] = json!(interacted.to_string());
        }
        message["interaction_metadata"] = metadata;
        if loading {
            let flags = data["flags"].as_u64().unwrap_or(0) | 128;
            message["flags"] = json!(flags);
        }
        self.store_message(id, interaction.channel_id, message, true);
        id
    }

    /// `POST /webhooks/{app}/{token}` and `PATCH …/messages/@original`.
    fn followup(
        &mut self,
        application_id: Option<u64>,
        token: &str,
        body: &Value,
        edit_original: bool,
        now: Instant,
    ) -> Result<Value, Reply> {
        let found = self
            .interactions
            .iter()
            .find(|(_, i)| i.token == token)
            .map(|(id, i)| (*id, i.clone()));
        let interaction_id = found.as_ref().map_or(0, |(id, _)| *id);
        let result = self.followup_message(application_id, found, body, edit_original, now);
        self.followups.push(Followup {
            interaction_id,
            edit_original,
            message_id: result
                .as_ref()
                .ok()
                .and_then(|m| m["id"].as_str()?.parse().ok()),
            content: body["content"].as_str().map(str::to_owned),
            components: body.get("components").filter(|c| !c.is_null()).cloned(),
            flags: body["flags"].as_u64(),
            body: body.clone(),
            status: match &result {
                Ok(_) => 200,
                Err(reply) => reply.status,
            },
            at: now,
        });
        result
    }

    fn followup_message(
        &mut self,
        application_id: Option<u64>,
        found: Option<(u64, InteractionState)>,
        body: &Value,
        edit_original: bool,
        now: Instant,
    ) -> Result<Value, Reply> {
        let unknown_webhook = || error(404, 10015, "Unknown Webhook");
        let Some((interaction_id, interaction)) = found else {
            return Err(unknown_webhook());
        };
        if application_id != Some(self.application_id)
            || now.saturating_duration_since(interaction.pushed_at) > self.token_lifetime
            || !interaction.answered
        {
            return Err(unknown_webhook());
        }
        validate_message(body, false, !edit_original)?;
        if edit_original {
            let message_id = interaction
                .original
                .ok_or_else(|| error(404, 10008, "Unknown Message"))?;
            let stored = self
                .messages
                .get(&message_id)
                .cloned()
                .ok_or_else(|| error(404, 10008, "Unknown Message"))?;
            let mut message = stored.json;
            if let Some(content) = body.get("content").and_then(Value::as_str) {
                message["content"] = json!(content);
            }
            apply_message_body(&mut message, body);
            let flags = message["flags"].as_u64().unwrap_or(0) & !128;
            message["flags"] = json!(flags);
            message["edited_timestamp"] = json!(iso_timestamp(SystemTime::now()));
            self.store_message(message_id, stored.channel_id, message.clone(), true);
            Ok(message)
        } else {
            let id = self.interaction_message(interaction_id, &interaction, body, false);
            Ok(self.messages[&id].json.clone())
        }
    }

    /// `PUT /applications/{app}/commands`: validates, assigns stable ids, replaces the list.
    fn overwrite_commands(
        &mut self,
        application_id: Option<u64>,
        body: &Value,
    ) -> Result<Value, Reply> {
        if application_id != Some(self.application_id) {
            return Err(error(403, 50001, "Missing Access"));
        }
        let commands = body
            .as_array()
            .ok_or_else(|| form_error(&[], "BASE_TYPE_ARRAY", "Must be an array."))?;
        let mut names = HashSet::new();
        let mut chat_input = 0;
        for (i, command) in commands.iter().enumerate() {
            let index = i.to_string();
            let kind = command["type"].as_u64().unwrap_or(1);
            let name = command["name"].as_str().unwrap_or("");
            if !valid_command_name(name, kind == 1) {
                return Err(form_error(
                    &[&index, "name"],
                    "APPLICATION_COMMAND_INVALID_NAME",
                    "Command name is invalid",
                ));
            }
            if !names.insert((kind, name.to_owned())) {
                return Err(form_error(
                    &[&index, "name"],
                    "APPLICATION_COMMANDS_DUPLICATE_NAME",
                    "Application command names must be unique",
                ));
            }
            let description = command["description"].as_str().unwrap_or("");
            if kind == 1 {
                chat_input += 1;
                let length = description.chars().count();
                if !(1..=100).contains(&length) {
                    return Err(form_error(
                        &[&index, "description"],
                        "BASE_TYPE_BAD_LENGTH",
                        "Must be between 1 and 100 in length.",
                    ));
                }
            } else if !description.is_empty() {
                return Err(form_error(
                    &[&index, "description"],
                    "APPLICATION_COMMAND_CONTEXT_MENU_DESCRIPTION",
                    "Context menu commands cannot have description",
                ));
            }
            if let Some(options) = command["options"].as_array() {
                if options.len() > 25 {
                    return Err(form_error(
                        &[&index, "options"],
                        "BASE_TYPE_MAX_LENGTH",
                        "Must be 25 or fewer in length.",
                    ));
                }
                for (j, option) in options.iter().enumerate() {
                    let option_index = j.to_string();
                    let option_name = option["name"].as_str().unwrap_or("");
                    let option_description =
                        option["description"].as_str().unwrap_or("").chars().count();
                    if !valid_command_name(option_name, true) {
                        return Err(form_error(
                            &[&index, "options", &option_index, "name"],
                            "APPLICATION_COMMAND_INVALID_NAME",
                            "Command name is invalid",
                        ));
                    }
                    if !(1..=100).contains(&option_description) {
                        return Err(form_error(
                            &[&index, "options", &option_index, "description"],
                            "BASE_TYPE_BAD_LENGTH",
                            "Must be between 1 and 100 in length.",
                        ));
                    }
                }
            }
        }
        if chat_input > 100 {
            return Err(form_error(
                &[],
                "APPLICATION_COMMANDS_TOO_MANY",
                "Maximum number of application commands reached (100)",
            ));
        }
        let mut stored = Vec::new();
        for command in commands {
            let kind = command["type"].as_u64().unwrap_or(1);
            let name = command["name"].as_str().unwrap_or("").to_owned();
            let id = match self.command_ids.get(&(kind, name.clone())) {
                Some(&id) => id,
                None => {
                    let id = self.next_id();
                    self.command_ids.insert((kind, name.clone()), id);
                    id
                }
            };
            let version = self.next_id();
            let mut value = json!({
                "id": id.to_string(),
                "application_id": self.application_id.to_string(),
                "version": version.to_string(),
                "type": kind,
                "name": name,
                "description": command["description"].as_str().unwrap_or(""),
                "default_member_permissions": command.get("default_member_permissions").cloned().unwrap_or(Value::Null),
                "dm_permission": command.get("dm_permission").and_then(Value::as_bool).unwrap_or(true),
                "contexts": command.get("contexts").cloned().unwrap_or(Value::Null),
                "integration_types": command.get("integration_types").filter(|v| !v.is_null()).cloned().unwrap_or(json!([0])),
                "nsfw": command["nsfw"].as_bool().unwrap_or(false),
            });
            for key in ["options", "name_localizations", "description_localizations"] {
                if let Some(v) = command.get(key).filter(|v| !v.is_null()) {
                    value[key] = v.clone();
                }
            }
            stored.push(value);
        }
        self.commands = stored.clone();
        self.command_overwrites.push(body.clone());
        Ok(Value::Array(stored))
    }

    /// `GET /guilds/{g}/members/{u}`.
    fn get_member(&self, guild_id: Option<u64>, user_id: Option<u64>) -> Result<Value, Reply> {
        if guild_id.is_none() || guild_id != self.guild.as_ref().map(|g| g.id) {
            return Err(error(404, 10004, "Unknown Guild"));
        }
        match user_id {
            Some(user) if self.members.contains_key(&user) => Ok(self.member_json(user)),
            _ => Err(error(404, 10007, "Unknown Member")),
        }
    }

    /// `PUT`/`DELETE /guilds/{g}/members/{u}/roles/{r}`, with Discord's hierarchy checks.
    fn change_role(
        &mut self,
        guild_id: Option<u64>,
        user_id: Option<u64>,
        role_id: Option<u64>,
        add: bool,
        request: &RestRequest,
        now: Instant,
    ) -> Result<(), Reply> {
        if guild_id.is_none() || guild_id != self.guild.as_ref().map(|g| g.id) {
            return Err(error(404, 10004, "Unknown Guild"));
        }
        let guild_id = self.guild_id();
        let user_id = user_id
            .filter(|u| self.members.contains_key(u))
            .ok_or_else(|| error(404, 10007, "Unknown Member"))?;
        let role = role_id
            .and_then(|r| self.role(r))
            .cloned()
            .ok_or_else(|| error(404, 10011, "Unknown Role"))?;
        let bot_roles = self.members.get(&self.bot_id).cloned().unwrap_or_default();
        let bot_top = bot_roles
            .iter()
            .filter_map(|r| self.role(*r))
            .map(|r| r.position)
            .max()
            .unwrap_or(0);
        let permissions = self.member_permissions(self.bot_id);
        if permissions & (PERM_MANAGE_ROLES | PERM_ADMINISTRATOR) == 0
            || role.position >= bot_top
            || role.managed
            || role.id == guild_id
        {
            return Err(error(403, 50013, "Missing Permissions"));
        }
        let roles = self.members.entry(user_id).or_default();
        if add {
            if !roles.contains(&role.id) {
                roles.push(role.id);
            }
        } else {
            roles.retain(|r| *r != role.id);
        }
        let change = RoleChange {
            guild_id,
            user_id,
            role_id: role.id,
            reason: request.audit_reason.clone(),
            at: now,
        };
        if add {
            self.role_grants.push(change);
        } else {
            self.role_removals.push(change);
        }
        Ok(())
    }
}

impl ServerState {
    /// `DELETE /channels/{c}/messages/{m}`: the bot's own, or anyone's with `MANAGE_MESSAGES`.
    fn delete_message(
        &mut self,
        channel_id: Option<u64>,
        message_id: Option<u64>,
    ) -> Result<(), Reply> {
        let channel_id = self.known_channel(channel_id)?;
        let message_id = message_id
            .filter(|m| {
                self.messages
                    .get(m)
                    .is_some_and(|s| s.channel_id == channel_id)
            })
            .ok_or_else(|| error(404, 10008, "Unknown Message"))?;
        let from_bot = self.messages.get(&message_id).is_some_and(|m| m.from_bot);
        if !from_bot && !self.bot_may(channel_id, PERM_MANAGE_MESSAGES) {
            return Err(error(403, 50013, "Missing Permissions"));
        }
        self.messages.remove(&message_id);
        if let Some(pinned) = self.pinned.get_mut(&channel_id) {
            pinned.retain(|m| *m != message_id);
        }
        self.deleted.push((channel_id, message_id));
        Ok(())
    }

    /// `PUT /channels/{c}/pins/{m}`: needs `MANAGE_MESSAGES` in a guild channel.
    fn pin_message(
        &mut self,
        channel_id: Option<u64>,
        message_id: Option<u64>,
        now: Instant,
    ) -> Result<(), Reply> {
        let channel_id = self.known_channel(channel_id)?;
        let message_id = message_id
            .filter(|m| {
                self.messages
                    .get(m)
                    .is_some_and(|s| s.channel_id == channel_id)
            })
            .ok_or_else(|| error(404, 10008, "Unknown Message"))?;
        if self.guild_channel(channel_id).is_some()
            && !self.bot_may(channel_id, PERM_MANAGE_MESSAGES)
        {
            return Err(error(403, 50013, "Missing Permissions"));
        }
        let pinned = self.pinned.entry(channel_id).or_default();
        if pinned.len() >= 50 && !pinned.contains(&message_id) {
            return Err(error(400, 30003, "Maximum number of pins reached (50)"));
        }
        if !pinned.contains(&message_id) {
            pinned.push(message_id);
        }
        if let Some(stored) = self.messages.get_mut(&message_id) {
            stored.json["pinned"] = json!(true);
        }
        self.pins.push(PinnedMessage {
            channel_id,
            message_id,
            at: now,
        });
        Ok(())
    }

    /// `POST /channels/{c}/invites`: a guild channel, `CREATE_INSTANT_INVITE`; a new code.
    fn create_invite(
        &mut self,
        channel_id: Option<u64>,
        body: &Value,
        now: Instant,
    ) -> Result<Value, Reply> {
        let channel = channel_id
            .and_then(|c| self.guild_channel(c))
            .cloned()
            .ok_or_else(|| error(404, 10003, "Unknown Channel"))?;
        if !self.bot_may(channel.id, PERM_CREATE_INSTANT_INVITE) {
            return Err(error(403, 50013, "Missing Permissions"));
        }
        let max_age = body["max_age"].as_u64().unwrap_or(86_400);
        let max_uses = body["max_uses"].as_u64().unwrap_or(0);
        if max_age > 604_800 {
            return Err(form_error(
                &["max_age"],
                "NUMBER_TYPE_MAX",
                "int value should be less than or equal to 604800.",
            ));
        }
        if max_uses > 100 {
            return Err(form_error(
                &["max_uses"],
                "NUMBER_TYPE_MAX",
                "int value should be less than or equal to 100.",
            ));
        }
        let seq = self.next_id();
        let code = invite_code(seq);
        let created = SystemTime::now();
        self.invites.push(Invite {
            channel_id: channel.id,
            code: code.clone(),
            max_age,
            max_uses,
            unique: body["unique"].as_bool().unwrap_or(false),
            at: now,
        });
        let guild = self.guild.as_ref().map(|g| {
            json!({
                "id": g.id.to_string(), "name": g.name, "splash": null, "banner": null,
                "description": null, "icon": null, "features": [], "verification_level": 1,
                "vanity_url_code": null, "nsfw_level": 0, "premium_subscription_count": 0,
            })
        });
        Ok(json!({
            "type": 0,
            "code": code,
            "guild": guild,
            "channel": { "id": channel.id.to_string(), "type": channel.kind, "name": channel.name },
            "inviter": self.bot_user_json(),
            "uses": 0,
            "max_uses": max_uses,
            "max_age": max_age,
            "temporary": false,
            "created_at": iso_timestamp(created),
            "expires_at": (max_age > 0)
                .then(|| iso_timestamp(created + Duration::from_secs(max_age))),
        }))
    }

    /// `PATCH /guilds/{g}/members/{u}`: only `communication_disabled_until` is understood
    /// (other fields are ignored). A timeout needs `MODERATE_MEMBERS` and a target below the
    /// bot that is neither the owner nor an administrator; it may reach 28 days ahead.
    fn modify_member(
        &mut self,
        guild_id: Option<u64>,
        user_id: Option<u64>,
        body: &Value,
        now: Instant,
    ) -> Result<Value, Reply> {
        if guild_id.is_none() || guild_id != self.guild.as_ref().map(|g| g.id) {
            return Err(error(404, 10004, "Unknown Guild"));
        }
        let guild_id = self.guild_id();
        let user_id = user_id
            .filter(|u| self.members.contains_key(u))
            .ok_or_else(|| error(404, 10007, "Unknown Member"))?;
        let Some(field) = body.get("communication_disabled_until") else {
            return Ok(self.member_json(user_id));
        };
        let until = match field {
            Value::Null => None,
            Value::String(text) => {
                let Ok(at) = chrono::DateTime::parse_from_rfc3339(text) else {
                    return Err(form_error(
                        &["communication_disabled_until"],
                        "DATE_TIME_TYPE_PARSE",
                        "Could not parse the timestamp.",
                    ));
                };
                let ahead = at.timestamp() - chrono::Utc::now().timestamp();
                if ahead > MAX_TIMEOUT.as_secs() as i64 {
                    return Err(form_error(
                        &["communication_disabled_until"],
                        "BASE_TYPE_BAD_LENGTH",
                        "Timeouts can be at most 28 days.",
                    ));
                }
                Some(text.clone())
            }
            _ => {
                return Err(form_error(
                    &["communication_disabled_until"],
                    "DATE_TIME_TYPE_PARSE",
                    "Could not parse the timestamp.",
                ));
            }
        };
        let owner = self.guild.as_ref().is_some_and(|g| g.owner_id == user_id);
        let top = |state: &ServerState, user: u64| {
            state
                .members
                .get(&user)
                .into_iter()
                .flatten()
                .filter_map(|r| state.role(*r))
                .map(|r| r.position)
                .max()
                .unwrap_or(0)
        };
        let own_permissions = self.member_permissions(self.bot_id);
        let raw_target: u64 = self
            .guild
            .as_ref()
            .map(|g| {
                let roles = self.members.get(&user_id).cloned().unwrap_or_default();
                g.roles
                    .iter()
                    .filter(|r| r.id == g.id || roles.contains(&r.id))
                    .fold(0, |acc, r| acc | r.permissions)
            })
            .unwrap_or(0);
        if own_permissions & (PERM_MODERATE_MEMBERS | PERM_ADMINISTRATOR) == 0
            || owner
            || user_id == self.bot_id
            || raw_target & PERM_ADMINISTRATOR != 0
            || top(self, user_id) >= top(self, self.bot_id)
        {
            return Err(error(403, 50013, "Missing Permissions"));
        }
        match &until {
            Some(until) => self.timed_out.insert(user_id, until.clone()),
            None => self.timed_out.remove(&user_id),
        };
        self.timeouts.push(Timeout {
            guild_id,
            user_id,
            until,
            at: now,
        });
        let mut member = self.member_json(user_id);
        member["guild_id"] = json!(guild_id.to_string());
        Ok(member)
    }

    /// A channel the stand-in knows (guild or DM), else 404 10003.
    fn known_channel(&self, channel_id: Option<u64>) -> Result<u64, Reply> {
        channel_id
            .filter(|c| self.guild_channel(*c).is_some() || self.dm_recipients.contains_key(c))
            .ok_or_else(|| error(404, 10003, "Unknown Channel"))
    }

    /// Whether the bot has a permission in a guild channel (always in a DM).
    fn bot_may(&self, channel_id: u64, permission: u64) -> bool {
        self.guild_channel(channel_id).is_none()
            || self.channel_permissions(self.bot_id, channel_id) & permission != 0
    }
}

/// An 11-character invite code for a snowflake: distinct snowflakes give distinct codes (an
/// odd multiplier is a bijection on u64, and 11 base-62 digits hold any u64).
fn invite_code(seq: u64) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut value = seq.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    let mut code = String::with_capacity(11);
    for _ in 0..11 {
        code.push(char::from(ALPHABET[(value % 62) as usize]));
        value /= 62;
    }
    code
}

fn known_path(segments: &[&str]) -> bool {
    matches!(
        segments,
        ["gateway"]
            | ["gateway", "bot"]
            | ["users", "@me"]
            | ["users", "@me", "channels"]
            | ["oauth2", "applications", "@me"]
            | ["channels", _]
            | ["channels", _, "messages"]
            | ["channels", _, "messages", _]
            | ["channels", _, "pins", _]
            | ["channels", _, "invites"]
            | ["interactions", _, _, "callback"]
            | ["webhooks", _, _]
            | ["webhooks", _, _, "messages", "@original"]
            | ["applications", _, "commands"]
            | ["guilds", _, "members", _]
            | ["guilds", _, "members", _, "roles", _]
    )
}

/// Copies what a message body sets onto a `Message` object (content is set by the caller).
fn apply_message_body(message: &mut Value, body: &Value) {
    for key in ["components", "embeds"] {
        if let Some(value) = body.get(key).filter(|v| !v.is_null()) {
            message[key] = value.clone();
        }
    }
    if let Some(flags) = body.get("flags").and_then(Value::as_u64) {
        message["flags"] = json!(flags);
    }
    if let Some(nonce) = body.get("nonce").filter(|v| !v.is_null()) {
        message["nonce"] = nonce.clone();
    }
    if let Some(tts) = body.get("tts").and_then(Value::as_bool) {
        message["tts"] = json!(tts);
    }
}

/// A message as embedded in another (`referenced_message`): no nested reference.
fn strip_reference(mut message: Value) -> Value {
    if let Some(object) = message.as_object_mut() {
        object.remove("referenced_message");
    }
    message
}

/// Discord's checks on a message body: content length, emptiness, components.
fn validate_message(body: &Value, has_files: bool, require_something: bool) -> Result<(), Reply> {
    let content = body.get("content").and_then(Value::as_str).unwrap_or("");
    if content.chars().count() > MAX_CONTENT_CHARS {
        return Err(form_error(
            &["content"],
            "BASE_TYPE_MAX_LENGTH",
            "Must be 2000 or fewer in length.",
        ));
    }
    let non_empty = |key: &str| {
        body.get(key)
            .and_then(Value::as_array)
            .is_some_and(|a| !a.is_empty())
    };
    if let Some(embeds) = body.get("embeds").and_then(Value::as_array)
        && embeds.len() > 10
    {
        return Err(form_error(
            &["embeds"],
            "BASE_TYPE_MAX_LENGTH",
            "Must be 10 or fewer in length.",
        ));
    }
    if require_something
        && content.trim().is_empty()
        && !has_files
        && !non_empty("embeds")
        && !non_empty("components")
        && !non_empty("sticker_ids")
        && body.get("poll").is_none_or(Value::is_null)
    {
        return Err(error(400, 50006, "Cannot send an empty message"));
    }
    if let Some(components) = body.get("components").filter(|c| !c.is_null()) {
        validate_components(components)?;
    }
    Ok(())
}

/// Action rows: at most 5, each with 1-5 buttons or one select menu; custom ids 1-100
/// characters and unique; labels at most 80 characters; link buttons need a url.
fn validate_components(components: &Value) -> Result<(), Reply> {
    let rows = components
        .as_array()
        .ok_or_else(|| form_error(&["components"], "BASE_TYPE_ARRAY", "Must be an array."))?;
    if rows.len() > 5 {
        return Err(form_error(
            &["components"],
            "BASE_TYPE_MAX_LENGTH",
            "Must be 5 or fewer in length.",
        ));
    }
    let mut custom_ids = HashSet::new();
    for (r, row) in rows.iter().enumerate() {
        let r = r.to_string();
        if row["type"].as_u64() != Some(1) {
            return Err(form_error(
                &["components", &r, "type"],
                "UNION_TYPE_CHOICES",
                "Value of field \"type\" must be one of (1,).",
            ));
        }
        let children = row["components"].as_array().map_or(&[][..], Vec::as_slice);
        if children.is_empty() || children.len() > 5 {
            return Err(form_error(
                &["components", &r, "components"],
                "BASE_TYPE_BAD_LENGTH",
                "Must be between 1 and 5 in length.",
            ));
        }
        let selects = children
            .iter()
            .filter(|c| matches!(c["type"].as_u64(), Some(3 | 5..=8)))
            .count();
        if selects > 0 && children.len() > 1 {
            return Err(form_error(
                &["components", &r, "components"],
                "COMPONENT_LAYOUT_WIDTH_EXCEEDED",
                "The specified component exceeds the maximum width",
            ));
        }
        for (c, child) in children.iter().enumerate() {
            let c = c.to_string();
            let path =
                |field: &'static str| ["components", r.as_str(), "components", c.as_str(), field];
            let kind = child["type"].as_u64().unwrap_or(0);
            if !matches!(kind, 2 | 3 | 5..=8) {
                return Err(form_error(
                    &path("type"),
                    "UNION_TYPE_CHOICES",
                    "Value of field \"type\" must be one of (2, 3, 5, 6, 7, 8).",
                ));
            }
            if let Some(label) = child["label"].as_str()
                && label.chars().count() > 80
            {
                return Err(form_error(
                    &path("label"),
                    "BASE_TYPE_MAX_LENGTH",
                    "Must be 80 or fewer in length.",
                ));
            }
            let style = child["style"].as_u64().unwrap_or(0);
            if kind == 2 && style == 5 {
                if child["url"].as_str().is_none_or(str::is_empty) {
                    return Err(form_error(
                        &path("url"),
                        "BASE_TYPE_REQUIRED",
                        "This field is required",
                    ));
                }
                continue;
            }
            if kind == 2 && style == 6 {
                continue;
            }
            let Some(custom_id) = child["custom_id"].as_str().filter(|s| !s.is_empty()) else {
                return Err(form_error(
                    &path("custom_id"),
                    "BASE_TYPE_REQUIRED",
                    "This field is required",
                ));
            };
            if custom_id.chars().count() > 100 {
                return Err(form_error(
                    &path("custom_id"),
                    "BASE_TYPE_MAX_LENGTH",
                    "Must be 100 or fewer in length.",
                ));
            }
            if !custom_ids.insert(custom_id.to_owned()) {
                return Err(form_error(
                    &path("custom_id"),
                    "COMPONENT_CUSTOM_ID_DUPLICATED",
                    "Component custom id cannot be duplicated",
                ));
            }
        }
    }
    Ok(())
}

/// Command and option names: 1-32 characters, letters (lower case for chat input), digits,
/// `-` and `_`.
fn valid_command_name(name: &str, chat_input: bool) -> bool {
    let length = name.chars().count();
    (1..=32).contains(&length)
        && name.chars().all(|c| {
            if chat_input {
                (c.is_alphanumeric() && !c.is_uppercase()) || c == '-' || c == '_'
            } else {
                c.is_alphanumeric() || c == '-' || c == '_' || c == ' '
            }
        })
}

// ---------------------------------------------------------------------------------------------
// Gateway
// ---------------------------------------------------------------------------------------------

/// `GET /gateway` with an upgrade: one WebSocket connection.
async fn gateway(State(shared): State<Arc<Shared>>, upgrade: WebSocketUpgrade) -> Response {
    upgrade
        .max_message_size(16 * 1024 * 1024)
        .on_upgrade(move |socket| run_connection(shared, socket))
}

/// What the connection loop must do next.
struct Work {
    frames: Vec<String>,
    end: Option<ConnectionEnd>,
}

async fn run_connection(shared: Arc<Shared>, mut socket: WebSocket) {
    let (connection, hello) = {
        let mut state = shared.lock();
        state.next_connection += 1;
        let id = state.next_connection;
        state.connections.insert(id, Connection::default());
        let interval = u64::try_from(state.heartbeat_interval.as_millis()).unwrap_or(u64::MAX);
        let hello = json!({
            "op": 10, "d": { "heartbeat_interval": interval, "_trace": ["[\"fake-gateway\"]"] },
            "s": null, "t": null,
        });
        state.frames.push(GatewayFrame {
            connection: id,
            payload: hello.clone(),
            at: Instant::now(),
        });
        (id, hello)
    };
    shared.changed.notify_waiters();
    let exit = if socket
        .send(WsMessage::Text(hello.to_string().into()))
        .await
        .is_err()
    {
        ConnectionExit::Broken
    } else {
        connection_loop(&shared, connection, &mut socket).await
    };
    if let ConnectionExit::Server(ConnectionEnd::Close(code, reason)) = &exit {
        let _ = socket
            .send(WsMessage::Close(Some(CloseFrame {
                code: *code,
                reason: reason.clone().into(),
            })))
            .await;
        // Give the client a moment to read the close frame before the socket goes.
        let _ = tokio::time::timeout(Duration::from_millis(200), socket.recv()).await;
    }
    drop(socket);
    shared.lock().close_connection(connection, &exit);
    shared.changed.notify_waiters();
}

async fn connection_loop(
    shared: &Shared,
    connection: u64,
    socket: &mut WebSocket,
) -> ConnectionExit {
    loop {
        let changed = shared.changed.notified();
        tokio::pin!(changed);
        changed.as_mut().enable();
        let work = shared.lock().connection_work(connection);
        if let Some(ConnectionEnd::Drop) = work.end {
            return ConnectionExit::Server(ConnectionEnd::Drop);
        }
        for frame in work.frames {
            if socket.send(WsMessage::Text(frame.into())).await.is_err() {
                return ConnectionExit::Broken;
            }
        }
        if let Some(end) = work.end {
            return ConnectionExit::Server(end);
        }
        tokio::select! {
            message = socket.recv() => match message {
                None | Some(Err(_)) => return ConnectionExit::Broken,
                Some(Ok(WsMessage::Text(text))) => {
                    shared.lock().client_frame(connection, text.as_str());
                    shared.changed.notify_waiters();
                }
                Some(Ok(WsMessage::Binary(_))) => {
                    shared.lock().end_connection(connection, 4002, "Error while decoding payload.");
                }
                Some(Ok(WsMessage::Close(frame))) => {
                    return ConnectionExit::ClientClose(frame.map(|f| f.code));
                }
                Some(Ok(_)) => {}
            },
            _ = changed => {}
        }
    }
}

impl ServerState {
    /// Frames to write on a connection (its outbox, then its session's new dispatches) and
    /// whether to end it.
    fn connection_work(&mut self, connection: u64) -> Work {
        let now = Instant::now();
        if self.closed {
            return Work {
                frames: Vec::new(),
                end: Some(ConnectionEnd::Drop),
            };
        }
        let Some(conn) = self.connections.get_mut(&connection) else {
            return Work {
                frames: Vec::new(),
                end: Some(ConnectionEnd::Drop),
            };
        };
        if let Some(ConnectionEnd::Drop) = conn.end {
            return Work {
                frames: Vec::new(),
                end: conn.end.take(),
            };
        }
        let mut payloads: Vec<Value> = conn.outbox.drain(..).collect();
        let end = conn.end.take();
        let session_id = conn.session.clone();
        let mut delivered = Vec::new();
        if end.is_none()
            && let Some(session_id) = session_id
            && let Some(session) = self.sessions.iter_mut().find(|s| s.id == session_id)
        {
            for dispatch in session.log.iter().filter(|d| d.seq > session.sent_up_to) {
                payloads.push(json!({
                    "op": 0, "s": dispatch.seq, "t": dispatch.name, "d": dispatch.payload,
                }));
                if let Some(id) = dispatch.interaction_id {
                    delivered.push(id);
                }
            }
            session.sent_up_to = session.seq;
        }
        for id in delivered {
            if let Some(interaction) = self.interactions.get_mut(&id)
                && interaction.delivered_at.is_none()
            {
                interaction.delivered_at = Some(now);
            }
        }
        let frames = payloads.iter().map(Value::to_string).collect();
        for payload in payloads {
            self.frames.push(GatewayFrame {
                connection,
                payload,
                at: now,
            });
        }
        Work { frames, end }
    }

    fn end_connection(&mut self, connection: u64, code: u16, reason: &str) {
        if let Some(conn) = self.connections.get_mut(&connection) {
            conn.end = Some(ConnectionEnd::Close(code, reason.to_owned()));
        }
    }

    /// A text frame from the bot.
    fn client_frame(&mut self, connection: u64, text: &str) {
        let Ok(frame) = serde_json::from_str::<Value>(text) else {
            self.end_connection(connection, 4002, "Error while decoding payload.");
            return;
        };
        let identified = self
            .connections
            .get(&connection)
            .is_some_and(|c| c.session.is_some());
        match frame["op"].as_u64() {
            Some(1) => {
                self.heartbeats += 1;
                if self.ack_heartbeats
                    && let Some(conn) = self.connections.get_mut(&connection)
                {
                    conn.outbox
                        .push_back(json!({ "op": 11, "d": null, "s": null, "t": null }));
                }
            }
            Some(2) => self.identify(connection, &frame["d"]),
            Some(6) => self.resume(connection, &frame["d"]),
            Some(3 | 4 | 8 | 31 | 36 | 37) => {
                if !identified {
                    self.end_connection(connection, 4003, "Not authenticated.");
                }
            }
            _ => self.end_connection(connection, 4001, "Unknown opcode."),
        }
    }

    fn identify(&mut self, connection: u64, d: &Value) {
        let now = Instant::now();
        let token = d["token"].as_str().unwrap_or("").to_owned();
        let intents = d["intents"].as_u64();
        let shard = d["shard"].as_array().and_then(|s| {
            Some((
                u32::try_from(s.first()?.as_u64()?).ok()?,
                u32::try_from(s.get(1)?.as_u64()?).ok()?,
            ))
        });
        let already = self
            .connections
            .get(&connection)
            .is_some_and(|c| c.session.is_some());
        let flags = self.application_flags;
        let privileged_ok = |intent: u64, full: u64, limited: u64| {
            intents.unwrap_or(0) & intent == 0 || flags & (full | limited) != 0
        };
        let refused = if already {
            Some((4005, "Already authenticated."))
        } else if token.strip_prefix("Bot ").unwrap_or(&token) != self.token {
            Some((4004, "Authentication failed."))
        } else if shard.is_some_and(|(id, total)| total == 0 || id >= total)
            || (d.get("shard").is_some_and(|s| !s.is_null()) && shard.is_none())
        {
            Some((4010, "Invalid shard."))
        } else if intents.is_none_or(|i| i & !KNOWN_INTENTS != 0) {
            Some((4013, "Invalid intent(s)."))
        } else if !privileged_ok(
            INTENT_GUILD_PRESENCES,
            FLAG_GATEWAY_PRESENCE,
            FLAG_GATEWAY_PRESENCE_LIMITED,
        ) || !privileged_ok(
            INTENT_GUILD_MEMBERS,
            FLAG_GATEWAY_GUILD_MEMBERS,
            FLAG_GATEWAY_GUILD_MEMBERS_LIMITED,
        ) || !privileged_ok(
            INTENT_MESSAGE_CONTENT,
            FLAG_GATEWAY_MESSAGE_CONTENT,
            FLAG_GATEWAY_MESSAGE_CONTENT_LIMITED,
        ) {
            Some((4014, "Disallowed intent(s)."))
        } else {
            None
        };
        self.identify_log.push(Identify {
            connection,
            token,
            intents: intents.unwrap_or(0),
            shard,
            refused_with: refused.map(|(code, _)| code),
            at: now,
        });
        if let Some((code, reason)) = refused {
            self.end_connection(connection, code, reason);
            return;
        }
        let intents = intents.unwrap_or(0);
        let session_id = format!(
            "{:032x}",
            u128::from(self.next_id()) * 0x9E37_79B9_7F4A_7C15
        );
        let mut session = Session {
            id: session_id.clone(),
            intents,
            shard,
            seq: 0,
            log: Vec::new(),
            sent_up_to: 0,
            connection: Some(connection),
            disconnected_at: None,
            alive: true,
        };
        let guild_here = self.guild.is_some() && session.on_shard(Some(self.guild_id()));
        let guilds: Vec<Value> = if guild_here {
            vec![json!({ "id": self.guild_id().to_string(), "unavailable": true })]
        } else {
            Vec::new()
        };
        let mut ready = json!({
            "v": 10,
            "user": self.current_user_json(),
            "guilds": guilds,
            "session_id": session_id,
            "resume_gateway_url": self.gateway_url(),
            "application": { "id": self.application_id.to_string(), "flags": self.application_flags },
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "guild_join_requests": [],
            "geo_ordered_rtc_regions": ["seoul", "japan", "hongkong"],
            "session_type": "normal",
            "user_settings": {},
            "auth": {},
            "_trace": ["[\"fake-gateway\"]"],
        });
        if let Some((id, total)) = shard {
            ready["shard"] = json!([id, total]);
        }
        session.append("READY", ready, None);
        if guild_here
            && intents & INTENT_GUILDS != 0
            && let Some(guild) = self.guild_create_json(intents)
        {
            session.append("GUILD_CREATE", guild, None);
        }
        for event in std::mem::take(&mut self.held) {
            append_to(&mut session, &event);
        }
        self.sessions.push(session);
        if let Some(conn) = self.connections.get_mut(&connection) {
            conn.session = Some(session_id);
        }
    }

    fn resume(&mut self, connection: u64, d: &Value) {
        let now = Instant::now();
        self.expire_sessions(now);
        let token = d["token"].as_str().unwrap_or("");
        if token.strip_prefix("Bot ").unwrap_or(token) != self.token {
            self.end_connection(connection, 4004, "Authentication failed.");
            return;
        }
        let session_id = d["session_id"].as_str().unwrap_or("").to_owned();
        let seq = d["seq"].as_u64().unwrap_or(0);
        let Some(index) = self
            .sessions
            .iter()
            .position(|s| s.alive && s.id == session_id)
        else {
            self.failed_resumes += 1;
            if let Some(conn) = self.connections.get_mut(&connection) {
                conn.outbox
                    .push_back(json!({ "op": 9, "d": false, "s": null, "t": null }));
            }
            return;
        };
        if seq > self.sessions[index].seq {
            self.sessions[index].alive = false;
            self.end_connection(connection, 4007, "Invalid seq.");
            return;
        }
        if let Some(old) = self.sessions[index].connection
            && old != connection
            && let Some(conn) = self.connections.get_mut(&old)
        {
            conn.session = None;
            conn.end = Some(ConnectionEnd::Drop);
        }
        let session = &mut self.sessions[index];
        session.sent_up_to = seq;
        session.connection = Some(connection);
        session.disconnected_at = None;
        session.append("RESUMED", json!({ "_trace": ["[\"fake-gateway\"]"] }), None);
        self.resumes += 1;
        if let Some(conn) = self.connections.get_mut(&connection) {
            conn.session = Some(session_id);
        }
    }

    /// Forgets a connection; its session stays resumable unless the way it ended ends it.
    fn close_connection(&mut self, connection: u64, exit: &ConnectionExit) {
        let now = Instant::now();
        let Some(conn) = self.connections.remove(&connection) else {
            return;
        };
        let ends_session = match exit {
            ConnectionExit::ClientClose(code) => matches!(code, Some(1000 | 1001)),
            ConnectionExit::Broken | ConnectionExit::Server(ConnectionEnd::Drop) => false,
            ConnectionExit::Server(ConnectionEnd::Close(code, _)) => {
                matches!(code, 4004 | 4007 | 4009..=4014)
            }
        };
        if let Some(session_id) = conn.session
            && let Some(session) = self.sessions.iter_mut().find(|s| s.id == session_id)
        {
            if session.connection == Some(connection) {
                session.connection = None;
                session.disconnected_at = Some(now);
            }
            if ends_session {
                session.alive = false;
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Rate limits
// ---------------------------------------------------------------------------------------------

/// The published rate limits, as sliding windows over arrival times.
struct Limiter {
    global: Option<RateLimit>,
    channel: Option<RateLimit>,
    dm_open: Option<RateLimit>,
    global_hits: VecDeque<Instant>,
    channel_hits: HashMap<u64, VecDeque<Instant>>,
    dm_open_hits: VecDeque<Instant>,
}

impl Limiter {
    fn admit_global(&mut self, now: Instant) -> Result<(), Duration> {
        let Some(limit) = self.global else {
            return Ok(());
        };
        let wait = window_wait(&mut self.global_hits, limit, now);
        if !wait.is_zero() {
            return Err(wait);
        }
        self.global_hits.push_back(now);
        Ok(())
    }

    fn admit_dm_open(&mut self, now: Instant) -> Result<(), Duration> {
        let Some(limit) = self.dm_open else {
            return Ok(());
        };
        let wait = window_wait(&mut self.dm_open_hits, limit, now);
        if !wait.is_zero() {
            return Err(wait);
        }
        self.dm_open_hits.push_back(now);
        Ok(())
    }

    /// Counts a message to a channel; the `x-ratelimit-*` headers either way.
    #[allow(clippy::type_complexity)]
    fn admit_channel(
        &mut self,
        channel_id: u64,
        now: Instant,
    ) -> Result<Vec<(&'static str, String)>, (Duration, Vec<(&'static str, String)>)> {
        let Some(limit) = self.channel else {
            return Ok(Vec::new());
        };
        let hits = self.channel_hits.entry(channel_id).or_default();
        let wait = window_wait(hits, limit, now);
        if wait.is_zero() {
            hits.push_back(now);
        }
        let span = limit.per;
        let reset_after = hits.front().map_or(span, |&oldest| {
            span.saturating_sub(now.saturating_duration_since(oldest))
        });
        let reset_at = SystemTime::now() + reset_after;
        let reset_epoch = reset_at
            .duration_since(UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64());
        let headers = vec![
            ("x-ratelimit-limit", limit.max.to_string()),
            (
                "x-ratelimit-remaining",
                limit.max.saturating_sub(hits.len()).to_string(),
            ),
            ("x-ratelimit-reset", format!("{reset_epoch:.3}")),
            (
                "x-ratelimit-reset-after",
                format!("{:.3}", reset_after.as_secs_f64()),
            ),
            ("x-ratelimit-bucket", MESSAGES_BUCKET.to_owned()),
        ];
        if wait.is_zero() {
            Ok(headers)
        } else {
            Err((wait, headers))
        }
    }
}

/// Forgets hits that left the window; how long until a place frees (zero if one is free).
/// Exact, with no allowance for jitter: the window `(now − W, now]` holds at most `max`.
fn window_wait(hits: &mut VecDeque<Instant>, limit: RateLimit, now: Instant) -> Duration {
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

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

fn value_u64(value: &Value) -> Option<u64> {
    match value {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// RFC 3339 UTC with microseconds, as Discord writes timestamps.
fn iso_timestamp(time: SystemTime) -> String {
    let since = time.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = since.as_secs();
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let rem = secs % 86_400;
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:06}+00:00",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        since.subsec_micros()
    )
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

fn multipart_boundary(content_type: &str) -> Option<String> {
    content_type.split(';').skip(1).find_map(|param| {
        let (key, value) = param.split_once('=')?;
        key.trim()
            .eq_ignore_ascii_case("boundary")
            .then(|| value.trim().trim_matches('"').to_owned())
    })
}

/// Parses `multipart/form-data` into (name, file name, content) parts.
#[allow(clippy::type_complexity)]
fn parse_multipart(
    body: &[u8],
    boundary: &str,
) -> Result<Vec<(String, Option<String>, Vec<u8>)>, ()> {
    let delimiter = format!("--{boundary}").into_bytes();
    let next_delimiter = [b"\r\n".as_slice(), &delimiter].concat();
    let mut parts = Vec::new();
    let mut pos = find(body, &delimiter, 0).ok_or(())? + delimiter.len();
    loop {
        let rest = body.get(pos..).ok_or(())?;
        if rest.starts_with(b"--") {
            return Ok(parts);
        }
        if !rest.starts_with(b"\r\n") {
            return Err(());
        }
        let headers_start = pos + 2;
        let headers_end = find(body, b"\r\n\r\n", headers_start).ok_or(())?;
        let headers = String::from_utf8_lossy(&body[headers_start..headers_end]);
        let content_start = headers_end + 4;
        let content_end = find(body, &next_delimiter, content_start).ok_or(())?;
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
        parts.push((
            name.ok_or(())?,
            file_name,
            body[content_start..content_end].to_vec(),
        ));
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
