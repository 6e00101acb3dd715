//! Discord, through serenity: the gateway for messages and interactions, global slash commands
//! usable in DMs, and REST for sends. The only module that knows serenity. It turns gateway
//! events into [`Incoming`] for the [`Inbox`] it is handed and REST answers into [`SendError`]; it decides
//! nothing.
//!
//! Message sends go straight to `POST /channels/{id}/messages` with reqwest instead of
//! serenity's `Http`: serenity keeps neither a 429's `retry_after` nor the `X-RateLimit-*`
//! headers when its own limiter is off (and its limiter releases every waiting request at once
//! when a window resets), while our dispatcher needs both to pace. Chat actions (timeouts,
//! deletions, pins, invites, roles, member look-ups, closing a poll) go the same way, for the
//! same reason, and so does a private answer to a button press (an ephemeral follow-up,
//! `POST /webhooks/{application}/{token}`, to the chat [`Incoming::private_reply_to`] names).
//!
//! [`Incoming::from_admin`] is always false on Discord: knowing it needs the guild's roles and
//! owner, which serenity keeps only with its `cache` feature, and that is off in this build.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};
use serenity::all::{
    ChannelId, CommandInteraction, CommandOptionType, ComponentInteraction, Context, CreateCommand,
    CreateCommandOption, CreateInteractionResponse, CreateInteractionResponseMessage,
    EditInteractionResponse, EventHandler, GatewayIntents, HttpBuilder, InstallationContext,
    Interaction, InteractionContext, Member as GuildMember, Message, Ready, UserId,
};

use super::{
    ActionDone, Attachment, ChatAction, Delivered, Inbox, Incoming, IncomingContent, Member,
    Messenger, Part, PlatformLimits, SendError,
};
use crate::config::{DiscordConfig, LimitsConfig};
use crate::domain::{Lang, Platform};
use crate::i18n::{Markup, Texts};
use crate::shutdown::{Shutdown, until_shutdown};

/// Discord's own JSON error codes that change what we do.
const CANNOT_MESSAGE_USER: i64 = 50007;
const OPENING_DMS_TOO_FAST: i64 = 40003;
const UNKNOWN_MESSAGE: i64 = 10008;
const UNKNOWN_MEMBER: i64 = 10007;
const UNKNOWN_USER: i64 = 10013;
/// A join link lives a week and admits one person.
const INVITE_MAX_AGE_SECONDS: u64 = 7 * 24 * 3600;
/// How the chat id of a private answer to an interaction begins ([`Incoming::private_reply_to`]);
/// the interaction's id follows.
const INTERACTION_CHAT: &str = "interaction:";
/// How long Discord accepts follow-ups with an interaction's token.
const INTERACTION_TOKEN_LIFETIME: Duration = Duration::from_secs(15 * 60);
/// Ephemeral: only the member who pressed the button sees the message.
const EPHEMERAL: u64 = 64;

/// Button presses whose member may still be answered privately: the interaction's id → its
/// application and token. Kept in memory only, for the token's 15 minutes: a token is a
/// credential, so it never goes into the store; after a restart such an answer cannot be sent.
#[derive(Clone, Default)]
struct Interactions {
    open: Arc<std::sync::Mutex<std::collections::HashMap<String, OpenInteraction>>>,
}

struct OpenInteraction {
    application_id: String,
    token: SecretString,
    received: std::time::Instant,
}

impl Interactions {
    fn remember(&self, id: String, application_id: String, token: String) {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        open.retain(|_, i| i.received.elapsed() < INTERACTION_TOKEN_LIFETIME);
        open.insert(
            id,
            OpenInteraction {
                application_id,
                token: SecretString::from(token),
                received: std::time::Instant::now(),
            },
        );
    }

    /// The follow-up route of a live interaction (`webhooks/{application}/{token}`).
    fn follow_up_path(&self, id: &str) -> Option<String> {
        let open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        open.get(id)
            .filter(|i| i.received.elapsed() < INTERACTION_TOKEN_LIFETIME)
            .map(|i| format!("webhooks/{}/{}", i.application_id, i.token.expose_secret()))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DiscordError {
    #[error("the Discord gateway stopped: {0}")]
    Gateway(String),
}

/// The intents encore needs: guild and DM messages with their content (privileged
/// MESSAGE_CONTENT), members (privileged GUILD_MEMBERS) for joins and the VIP role.
pub fn intents() -> GatewayIntents {
    GatewayIntents::GUILDS
        | GatewayIntents::GUILD_MESSAGES
        | GatewayIntents::DIRECT_MESSAGES
        | GatewayIntents::MESSAGE_CONTENT
        | GatewayIntents::GUILD_MEMBERS
}

pub fn limits_from(config: &LimitsConfig) -> PlatformLimits {
    // 5 messages per 5 s per channel, paced as one a second so no window can fill.
    PlatformLimits {
        per_second: config.discord_per_second,
        per_chat_interval: Duration::from_secs(1),
        per_group_interval: Duration::from_secs(1),
    }
}

pub struct DiscordAdapter {
    token: SecretString,
    api_url: String,
    limits: PlatformLimits,
    dm_opens: Arc<DefaultDirectRateLimiter>,
    client: reqwest::Client,
    interactions: Interactions,
}

/// The sending half, handed to the dispatcher.
#[derive(Clone)]
pub struct DiscordSender {
    token: SecretString,
    api_url: String,
    limits: PlatformLimits,
    client: reqwest::Client,
    /// Shared with the gateway half, which remembers the button presses.
    interactions: Interactions,
}

impl DiscordAdapter {
    pub fn new(config: &DiscordConfig, limits: &LimitsConfig) -> DiscordAdapter {
        let per_minute =
            NonZeroU32::new(limits.discord_dm_opens_per_minute).unwrap_or(NonZeroU32::MIN);
        // Spread evenly over the minute: Discord's anti-spam (40003) dislikes bursts of DM opens.
        let quota = Quota::per_minute(per_minute).allow_burst(NonZeroU32::MIN);
        DiscordAdapter {
            token: config.token.clone(),
            api_url: config.api_url.clone(),
            limits: limits_from(limits),
            dm_opens: Arc::new(RateLimiter::direct(quota)),
            client: reqwest::Client::new(),
            interactions: Interactions::default(),
        }
    }

    pub fn sender(&self) -> DiscordSender {
        DiscordSender {
            token: self.token.clone(),
            api_url: self.api_url.clone(),
            limits: self.limits,
            client: self.client.clone(),
            interactions: self.interactions.clone(),
        }
    }

    /// Connects to the gateway and handles events until shutdown. serenity resumes or
    /// reconnects by itself when the connection drops.
    pub async fn run(
        self,
        inbox: Arc<dyn Inbox>,
        texts: Arc<Texts>,
        default_locale: Lang,
        mut shutdown: Shutdown,
    ) -> Result<(), DiscordError> {
        let http = HttpBuilder::new(self.token.expose_secret())
            .proxy(self.api_url.clone())
            // Our dispatcher paces; serenity ignores the proxy while its own limiter is on.
            .ratelimiter_disabled(true)
            .build();
        let handler = Handler {
            inbox,
            texts,
            default_locale,
            dm_opens: self.dm_opens.clone(),
            interactions: self.interactions.clone(),
        };
        let mut client = serenity::client::ClientBuilder::new_with_http(http, intents())
            .event_handler(handler)
            .await
            .map_err(|e| DiscordError::Gateway(e.to_string()))?;
        let shards = client.shard_manager.clone();
        tokio::select! {
            result = client.start() => result.map_err(|e| DiscordError::Gateway(e.to_string())),
            _ = until_shutdown(&mut shutdown) => {
                shards.shutdown_all().await;
                Ok(())
            }
        }
    }
}

struct Handler {
    inbox: Arc<dyn Inbox>,
    /// For the few words of a deferred slash-command answer ("see your DMs").
    texts: Arc<Texts>,
    default_locale: Lang,
    dm_opens: Arc<DefaultDirectRateLimiter>,
    interactions: Interactions,
}

/// The viewer commands of CONTRACT §4, registered globally and usable in DMs.
fn viewer_commands() -> Vec<CreateCommand> {
    let everywhere = vec![
        InteractionContext::Guild,
        InteractionContext::BotDm,
        InteractionContext::PrivateChannel,
    ];
    let command = |name: &str, description: &str| {
        CreateCommand::new(name)
            .description(description)
            .contexts(everywhere.clone())
            .integration_types(vec![InstallationContext::Guild])
    };
    let token = |required: bool| {
        CreateCommandOption::new(
            CommandOptionType::String,
            "token",
            "The link code from the shop",
        )
        .required(required)
    };
    vec![
        command(
            "link",
            "Link this Discord account to your shop order account",
        )
        .add_option(token(true)),
        command("start", "Start, or link with a code from the shop").add_option(token(false)),
        command("stop", "Stop advertising messages (order notes continue)"),
        command(
            "unlink",
            "Unlink this Discord account from your order account",
        ),
        command("lang", "Choose the language").add_option(
            CreateCommandOption::new(CommandOptionType::String, "language", "ko or en")
                .required(true)
                .add_string_choice("한국어", "ko")
                .add_string_choice("English", "en"),
        ),
        command("help", "What this bot can do"),
        command("vip", "Your tier and the codes you were sent"),
        command("alerts", "Next-live alerts on or off (advertising)").add_option(
            CreateCommandOption::new(CommandOptionType::String, "state", "on or off")
                .required(true)
                .add_string_choice("on", "on")
                .add_string_choice("off", "off"),
        ),
        command("mydata", "Everything the shop keeps about you"),
        command("forget", "Erase your personal data (asks first)"),
    ]
}

#[serenity::async_trait]
impl EventHandler for Handler {
    async fn ready(&self, ctx: Context, ready: Ready) {
        tracing::info!(bot = %ready.user.name, "connected to the Discord gateway");
        // Overwriting the whole set is idempotent across restarts.
        if let Err(err) =
            serenity::all::Command::set_global_commands(&ctx.http, viewer_commands()).await
        {
            tracing::error!(error = %err, "registering the slash commands failed");
        }
    }

    async fn message(&self, _ctx: Context, message: Message) {
        if message.author.bot {
            return;
        }
        let incoming = Incoming {
            platform: Platform::Discord,
            update_id: format!("message:{}", message.id),
            chat_id: message.channel_id.to_string(),
            chat_is_private: message.guild_id.is_none(),
            user_id: message.author.id.to_string(),
            user_name: Some(
                message
                    .author
                    .global_name
                    .clone()
                    .unwrap_or_else(|| message.author.name.clone()),
            ),
            user_lang: None,
            sent_as_chat: false,
            from_admin: false,
            message_id: Some(message.id.to_string()),
            reply_to: message
                .message_reference
                .as_ref()
                .and_then(|r| r.message_id)
                .map(|id| id.to_string()),
            private_reply_to: None,
            content: match message.attachments.iter().find(|a| {
                a.content_type
                    .as_deref()
                    .is_some_and(|t| t.starts_with("image/"))
            }) {
                Some(image) => IncomingContent::Photo {
                    file: image.url.clone(),
                    caption: message.content.clone(),
                },
                None => IncomingContent::Text(message.content.clone()),
            },
        };
        route(self.inbox.as_ref(), &incoming).await;
    }

    async fn guild_member_addition(&self, _ctx: Context, new_member: GuildMember) {
        if let Some(incoming) = member_joined(&new_member) {
            route(self.inbox.as_ref(), &incoming).await;
        }
    }

    async fn interaction_create(&self, ctx: Context, interaction: Interaction) {
        match interaction {
            Interaction::Command(command) => self.command(&ctx, command).await,
            Interaction::Component(component) => self.component(&ctx, component).await,
            _ => {}
        }
    }
}

impl Handler {
    async fn command(&self, ctx: &Context, command: CommandInteraction) {
        // Discord wants an answer within 3 seconds: acknowledge first, then do the work. The
        // real answer arrives as a DM from the outbox, like every other message. In a server
        // the DM channel may take a while to open (its own budget), so the answer is deferred
        // and then says whether the DM could be opened.
        let in_guild = command.guild_id.is_some();
        let acknowledged = if in_guild {
            command.defer_ephemeral(&ctx.http).await
        } else {
            let ack = CreateInteractionResponse::Message(
                CreateInteractionResponseMessage::new()
                    .content("✓")
                    .ephemeral(true),
            );
            command.create_response(&ctx.http, ack).await
        };
        if let Err(err) = acknowledged {
            tracing::warn!(error = %err, "acknowledging a slash command failed");
        }
        let chat_id = if in_guild {
            self.dm_channel(ctx, command.user.id).await
        } else {
            Some(command.channel_id)
        };
        if in_guild {
            let lang = Lang::from_tag(&command.locale).unwrap_or(self.default_locale);
            let id = if chat_id.is_some() {
                "discord-dm-sent"
            } else {
                "discord-dm-closed"
            };
            let text = self
                .texts
                .render(lang, id, &[])
                .unwrap_or_else(|_| "✓".to_string());
            if let Err(err) = command
                .edit_response(&ctx.http, EditInteractionResponse::new().content(text))
                .await
            {
                tracing::warn!(error = %err, "answering a slash command failed");
            }
        }
        let Some(chat_id) = chat_id else { return };
        let mut text = format!("/{}", command.data.name);
        for option in &command.data.options {
            if let Some(value) = option.value.as_str() {
                text.push(' ');
                text.push_str(value);
            }
        }
        let incoming = Incoming {
            platform: Platform::Discord,
            update_id: format!("interaction:{}", command.id),
            chat_id: chat_id.to_string(),
            chat_is_private: true,
            user_id: command.user.id.to_string(),
            user_name: Some(
                command
                    .user
                    .global_name
                    .clone()
                    .unwrap_or_else(|| command.user.name.clone()),
            ),
            user_lang: Some(command.locale.clone()),
            sent_as_chat: false,
            from_admin: false,
            message_id: None,
            reply_to: None,
            private_reply_to: None,
            content: IncomingContent::Text(text),
        };
        route(self.inbox.as_ref(), &incoming).await;
    }

    async fn component(&self, ctx: &Context, component: ComponentInteraction) {
        if let Err(err) = component
            .create_response(&ctx.http, CreateInteractionResponse::Acknowledge)
            .await
        {
            tracing::warn!(error = %err, "acknowledging a button press failed");
        }
        let interaction = component.id.to_string();
        self.interactions.remember(
            interaction.clone(),
            component.application_id.to_string(),
            component.token.clone(),
        );
        let incoming = Incoming {
            platform: Platform::Discord,
            update_id: format!("interaction:{}", component.id),
            chat_id: component.channel_id.to_string(),
            chat_is_private: component.guild_id.is_none(),
            user_id: component.user.id.to_string(),
            user_name: Some(
                component
                    .user
                    .global_name
                    .clone()
                    .unwrap_or_else(|| component.user.name.clone()),
            ),
            user_lang: Some(component.locale.clone()),
            sent_as_chat: false,
            from_admin: false,
            message_id: None,
            reply_to: None,
            private_reply_to: Some(format!("{INTERACTION_CHAT}{interaction}")),
            content: IncomingContent::Button {
                data: component.data.custom_id.clone(),
            },
        };
        route(self.inbox.as_ref(), &incoming).await;
    }

    /// Opens (or finds) the DM channel for a viewer who used a command in the guild. Opening is
    /// paced on its own budget; 40003 (too fast) is waited out and tried again, never taken as
    /// "blocked".
    async fn dm_channel(&self, ctx: &Context, user: UserId) -> Option<ChannelId> {
        for attempt in 1..=3u64 {
            self.dm_opens.until_ready().await;
            match user.create_dm_channel(&ctx.http).await {
                Ok(channel) => return Some(channel.id),
                Err(err) if discord_code(&err) == Some(OPENING_DMS_TOO_FAST) => {
                    tracing::warn!(
                        attempt,
                        "Discord says DMs are opened too fast (40003); waiting"
                    );
                    tokio::time::sleep(Duration::from_secs(10 * attempt)).await;
                }
                Err(err) => {
                    tracing::warn!(error = %err, "could not open a DM channel");
                    return None;
                }
            }
        }
        None
    }
}

/// `GUILD_MEMBER_ADD` → people joined the guild (whose id is the `chat_id`); a bot joining is
/// `None`. The update id names the guild, the user and the time they joined, so the same join
/// is recognised when it comes again and a later re-join is not taken for it.
pub fn member_joined(member: &GuildMember) -> Option<Incoming> {
    if member.user.bot {
        return None;
    }
    let name = member
        .user
        .global_name
        .clone()
        .unwrap_or_else(|| member.user.name.clone());
    let joined_at = member
        .joined_at
        .map_or_else(|| "unknown".to_string(), |t| t.unix_timestamp().to_string());
    Some(Incoming {
        platform: Platform::Discord,
        update_id: format!(
            "member-add:{}:{}:{joined_at}",
            member.guild_id, member.user.id
        ),
        chat_id: member.guild_id.to_string(),
        chat_is_private: false,
        user_id: member.user.id.to_string(),
        user_name: Some(name.clone()),
        user_lang: None,
        sent_as_chat: false,
        from_admin: false,
        message_id: None,
        reply_to: None,
        private_reply_to: None,
        content: IncomingContent::MembersJoined {
            members: vec![Member {
                user_id: member.user.id.to_string(),
                name,
                lang: None,
            }],
        },
    })
}

fn discord_code(err: &serenity::Error) -> Option<i64> {
    match err {
        serenity::Error::Http(serenity::http::HttpError::UnsuccessfulRequest(response)) => {
            Some(response.error.code as i64)
        }
        _ => None,
    }
}

/// Discord does not deliver an event twice, so it is offered until it is stored. The inbox
/// already sets aside an event that fails every time (a dead letter): an error here means
/// nothing could be stored at all, and dropping the event would lose a `/stop`.
async fn route(inbox: &dyn Inbox, incoming: &Incoming) -> bool {
    let mut attempt = 1u32;
    loop {
        match inbox.handle(incoming).await {
            Ok(()) => return true,
            Err(err) => {
                tracing::error!(error = %err, attempt, update_id = %incoming.update_id, "a Discord event could not be stored; offering it again");
                tokio::time::sleep(Duration::from_millis(500) * attempt.min(60)).await;
                attempt = attempt.saturating_add(1);
            }
        }
    }
}

/// A REST answer: status, headers and the JSON body (`Null` when there is none).
struct Answer {
    status: reqwest::StatusCode,
    headers: reqwest::header::HeaderMap,
    body: Value,
}

impl Answer {
    /// Discord's JSON error `code`.
    fn code(&self) -> Option<i64> {
        self.body["code"].as_i64()
    }

    /// How long a 429 says to wait.
    fn retry_after(&self) -> Duration {
        let wait = self.body["retry_after"]
            .as_f64()
            .and_then(seconds)
            .or_else(|| header_seconds(&self.headers, "retry-after"))
            .unwrap_or(Duration::from_secs(1));
        wait.max(Duration::from_millis(100))
    }

    /// A failed action: 429 waits, 5xx is Discord's trouble, any other refusal is final.
    fn action_error(&self) -> SendError {
        match self.status.as_u16() {
            429 => SendError::RetryAfter(self.retry_after()),
            500..=599 => SendError::Transient(format!("Discord answered {}", self.status)),
            _ => SendError::Permanent(format!(
                "Discord answered {}: {}",
                self.status,
                self.body["message"].as_str().unwrap_or("no message")
            )),
        }
    }
}

/// A snowflake as it may go into a path: digits only.
fn snowflake<'a>(id: &'a str, what: &str) -> Result<&'a str, SendError> {
    if !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()) {
        Ok(id)
    } else {
        Err(SendError::Permanent(format!(
            "`{id}` is not a Discord {what} id"
        )))
    }
}

impl DiscordSender {
    /// One REST call under `/api/v10`, with the bot's token.
    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Answer, SendError> {
        self.call_with(method, path, body, None).await
    }

    /// [`Self::call`] with a file: the JSON body then travels as `payload_json` beside the
    /// file (multipart), as Discord takes uploads.
    async fn call_with(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
        file: Option<&Attachment>,
    ) -> Result<Answer, SendError> {
        let url = format!("{}/api/v10/{path}", self.api_url);
        let mut request = self
            .client
            .request(method, url)
            .header(
                "authorization",
                format!("Bot {}", self.token.expose_secret()),
            )
            .timeout(Duration::from_secs(20));
        match (body, file) {
            (Some(body), Some(file)) => {
                let upload = reqwest::multipart::Part::bytes(file.bytes.clone())
                    .file_name(file.file_name.clone());
                request = request.multipart(
                    reqwest::multipart::Form::new()
                        .text("payload_json", body.to_string())
                        .part("files[0]", upload),
                );
            }
            (Some(body), None) => request = request.json(&body),
            (None, _) => {}
        }
        let response = request
            .send()
            .await
            .map_err(|e| SendError::unanswered(&e))?;
        let status = response.status();
        let headers = response.headers().clone();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        Ok(Answer {
            status,
            headers,
            body,
        })
    }

    /// Runs one action; see [`Messenger::act`].
    async fn run_action(
        &self,
        chat_id: &str,
        action: &ChatAction,
    ) -> Result<ActionDone, SendError> {
        use reqwest::Method;
        let chat = snowflake(chat_id, "guild or channel")?;
        let (method, path, body) = match action {
            ChatAction::Mute { user_id, until } => (
                Method::PATCH,
                format!("guilds/{chat}/members/{}", snowflake(user_id, "user")?),
                Some(json!({ "communication_disabled_until": until.to_rfc3339() })),
            ),
            ChatAction::Unmute { user_id } => (
                Method::PATCH,
                format!("guilds/{chat}/members/{}", snowflake(user_id, "user")?),
                Some(json!({ "communication_disabled_until": null })),
            ),
            ChatAction::Delete { message_id } => (
                Method::DELETE,
                format!(
                    "channels/{chat}/messages/{}",
                    snowflake(message_id, "message")?
                ),
                None,
            ),
            ChatAction::Pin { message_id } => (
                Method::PUT,
                format!("channels/{chat}/pins/{}", snowflake(message_id, "message")?),
                None,
            ),
            ChatAction::CreateJoinLink { .. } => (
                Method::POST,
                format!("channels/{chat}/invites"),
                Some(json!({
                    "max_age": INVITE_MAX_AGE_SECONDS,
                    "max_uses": 1,
                    "unique": true,
                })),
            ),
            ChatAction::GrantRole { user_id, role_id } => (
                Method::PUT,
                format!(
                    "guilds/{chat}/members/{}/roles/{}",
                    snowflake(user_id, "user")?,
                    snowflake(role_id, "role")?
                ),
                None,
            ),
            ChatAction::IsMember { user_id } => (
                Method::GET,
                format!("guilds/{chat}/members/{}", snowflake(user_id, "user")?),
                None,
            ),
            ChatAction::ClosePoll { message_id } => (
                Method::PATCH,
                format!(
                    "channels/{chat}/messages/{}",
                    snowflake(message_id, "message")?
                ),
                Some(json!({ "components": [] })),
            ),
            ChatAction::ApproveJoin { .. } | ChatAction::DeclineJoin { .. } => {
                return Err(SendError::Permanent(
                    "Discord has no join requests to answer".to_string(),
                ));
            }
        };
        let answer = self.call(method, &path, body).await?;
        let found = answer.status.is_success();
        match action {
            ChatAction::IsMember { .. } if found => Ok(ActionDone::Member(true)),
            ChatAction::IsMember { .. }
                if answer.status.as_u16() == 404
                    && matches!(answer.code(), Some(UNKNOWN_MEMBER | UNKNOWN_USER)) =>
            {
                Ok(ActionDone::Member(false))
            }
            ChatAction::CreateJoinLink { .. } if found => match answer.body["code"].as_str() {
                Some(code) => Ok(ActionDone::Link(format!("https://discord.gg/{code}"))),
                None => Err(SendError::Transient(
                    "Discord made an invite without a code".to_string(),
                )),
            },
            // Already gone: a retry after a lost answer is not a failure (nor is a poll whose
            // message was removed: nobody can vote there any more).
            ChatAction::Delete { .. } | ChatAction::ClosePoll { .. }
                if answer.status.as_u16() == 404 && answer.code() == Some(UNKNOWN_MESSAGE) =>
            {
                Ok(ActionDone::Done)
            }
            _ if found => Ok(ActionDone::Done),
            _ => Err(answer.action_error()),
        }
    }

    fn body(part: &Part) -> Value {
        // A photo travels as its URL (Discord shows it); a Telegram file id means nothing here.
        let content = match &part.photo {
            Some(url) if url.starts_with("http") => format!("{}\n{url}", part.text),
            _ => part.text.clone(),
        };
        let mut body = json!({
            "content": content,
            // Never ping anyone from a message we render.
            "allowed_mentions": {"parse": []},
        });
        if let Some(id) = &part.reply_to {
            body["message_reference"] = json!({"message_id": id, "fail_if_not_exists": false});
        }
        if !part.buttons.is_empty() {
            let rows: Vec<Value> = part
                .buttons
                .iter()
                .map(|row| {
                    let buttons: Vec<Value> = row
                        .iter()
                        .enumerate()
                        .map(|(i, b)| {
                            // The first choice is the suggested one, except in a poll.
                            let style = if i == 0 && part.poll.is_none() { 1 } else { 2 };
                            json!({"type": 2, "style": style, "label": button_label(&b.label), "custom_id": b.data})
                        })
                        .collect();
                    json!({"type": 1, "components": buttons})
                })
                .collect();
            body["components"] = Value::Array(rows);
        }
        body
    }
}

impl Messenger for DiscordSender {
    fn platform(&self) -> Platform {
        Platform::Discord
    }

    fn markup(&self) -> Markup {
        Markup::DiscordMarkdown
    }

    fn limits(&self) -> PlatformLimits {
        self.limits
    }

    fn is_group(&self, _chat_id: &str) -> bool {
        // Discord paces every channel alike (5 per 5 s).
        false
    }

    fn send_part<'a>(
        &'a self,
        chat_id: &'a str,
        part: &'a Part,
    ) -> BoxFuture<'a, Result<Delivered, SendError>> {
        Box::pin(async move {
            let path = match chat_id.strip_prefix(INTERACTION_CHAT) {
                // A private answer: an ephemeral follow-up to the member's button press.
                Some(interaction) => self.interactions.follow_up_path(interaction).ok_or_else(|| {
                    SendError::Permanent(
                        "the button press can no longer be answered (its token lasts 15 minutes and is kept in memory only)".to_string(),
                    )
                })?,
                None => format!("channels/{chat_id}/messages"),
            };
            let mut body = Self::body(part);
            if chat_id.starts_with(INTERACTION_CHAT) {
                body["flags"] = json!(EPHEMERAL);
            }
            let answer = self
                .call_with(
                    reqwest::Method::POST,
                    &path,
                    Some(body),
                    part.attachment.as_ref(),
                )
                .await?;
            let Answer {
                status,
                headers,
                body,
            } = &answer;
            if status.is_success() {
                let id = body["id"].as_str().unwrap_or_default().to_string();
                let mut delivered = Delivered {
                    message_id: id,
                    slow_down: None,
                    poll_id: None,
                };
                // The route's bucket is empty: wait for it to refill before the next send there.
                if headers
                    .get("x-ratelimit-remaining")
                    .and_then(|v| v.to_str().ok())
                    == Some("0")
                {
                    delivered.slow_down = header_seconds(headers, "x-ratelimit-reset-after");
                }
                return Ok(delivered);
            }
            Err(match (status.as_u16(), answer.code()) {
                (429, _) => SendError::RetryAfter(answer.retry_after()),
                (_, Some(CANNOT_MESSAGE_USER)) => SendError::Blocked,
                // Anti-spam, not a block: wait and try again, never count it against the message.
                (_, Some(OPENING_DMS_TOO_FAST)) => SendError::Later(Duration::from_secs(30)),
                (500..=599, _) => SendError::Transient(format!("Discord answered {status}")),
                _ => SendError::Permanent(format!(
                    "Discord answered {status}: {}",
                    body["message"].as_str().unwrap_or("no message")
                )),
            })
        })
    }

    /// Every action but join requests (Telegram's). `chat_id` is the guild for `Mute`,
    /// `Unmute`, `GrantRole` and `IsMember`, the channel for the rest. `CreateJoinLink` makes a
    /// one-use invite valid for a week (Discord invites have no name). A `Delete` of a message
    /// that is already gone is done; `ClosePoll` takes the vote buttons off the poll's message.
    fn act<'a>(
        &'a self,
        chat_id: &'a str,
        action: &'a ChatAction,
    ) -> BoxFuture<'a, Result<ActionDone, SendError>> {
        Box::pin(self.run_action(chat_id, action))
    }
}

/// Discord shows at most 80 characters on a button (a poll option may have 100: the message's
/// text names it whole).
fn button_label(label: &str) -> String {
    const MOST: usize = 80;
    if label.chars().count() <= MOST {
        return label.to_string();
    }
    let mut cut: String = label.chars().take(MOST - 1).collect();
    cut.push('…');
    cut
}

fn header_seconds(headers: &reqwest::header::HeaderMap, name: &str) -> Option<Duration> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<f64>().ok())
        .and_then(seconds)
}

/// A wait the platform named, kept sane: a negative or absurd value is not trusted.
fn seconds(value: f64) -> Option<Duration> {
    (value.is_finite() && value >= 0.0).then(|| Duration::from_secs_f64(value.min(3600.0)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platforms::Button;

    #[test]
    fn buttons_become_one_action_row_with_agree_first_and_primary() {
        let part = Part {
            text: "동의하시겠어요?".into(),
            buttons: vec![vec![
                Button {
                    label: "동의해요".into(),
                    data: "consent:marketing:yes".into(),
                },
                Button {
                    label: "괜찮아요".into(),
                    data: "consent:marketing:no".into(),
                },
            ]],
            reply_to: Some("99".into()),
            ..Part::default()
        };
        let body = DiscordSender::body(&part);
        let row = &body["components"][0];
        assert_eq!(row["type"], json!(1));
        assert_eq!(
            row["components"][0]["custom_id"],
            json!("consent:marketing:yes")
        );
        assert_eq!(row["components"][0]["style"], json!(1));
        assert_eq!(
            row["components"][1]["custom_id"],
            json!("consent:marketing:no")
        );
        assert_eq!(body["allowed_mentions"], json!({"parse": []}));
        assert_eq!(body["message_reference"]["message_id"], json!("99"));
    }

    #[test]
    fn poll_buttons_are_all_alike_and_long_options_are_cut_to_discords_80_characters() {
        let long = "가".repeat(100);
        let part = Part {
            text: "📊 투표 #1".into(),
            buttons: vec![vec![
                Button {
                    label: "코트".into(),
                    data: "poll:1:0".into(),
                },
                Button {
                    label: long.clone(),
                    data: "poll:1:1".into(),
                },
            ]],
            poll: Some(crate::platforms::NativePoll {
                question: "q".into(),
                options: vec!["코트".into(), long],
            }),
            ..Part::default()
        };
        let body = DiscordSender::body(&part);
        let row = &body["components"][0]["components"];
        assert_eq!(row[0]["style"], json!(2), "no option is suggested");
        let label = row[1]["label"].as_str().unwrap();
        assert_eq!(label.chars().count(), 80);
        assert!(label.ends_with('…'));
    }

    #[test]
    fn every_viewer_command_is_usable_in_dms() {
        let commands = serde_json::to_value(viewer_commands()).unwrap();
        let names: Vec<&str> = commands
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap())
            .collect();
        assert_eq!(
            names,
            [
                "link", "start", "stop", "unlink", "lang", "help", "vip", "alerts", "mydata",
                "forget"
            ]
        );
        for command in commands.as_array().unwrap() {
            assert!(
                command["contexts"].as_array().unwrap().contains(&json!(1)),
                "{command}"
            );
        }
    }
}
